import { expect, type Locator, type Page, type Response } from '@playwright/test';

/**
 * Waits until the WASM has hydrated the page (the app then sets `data-hydrated` on <body>).
 * Before that, a click submits forms natively instead of through the app.
 */
export async function waitForHydration(page: Page): Promise<void> {
  await page.waitForSelector('body[data-hydrated="true"]');
}

/**
 * Waits for the full page load the app does after signing in or out (it sets
 * `window.location`), then for the new page to hydrate.
 */
export async function arriveAt(page: Page, pathname: string): Promise<void> {
  await page.waitForURL((url) => url.pathname === pathname);
  await waitForHydration(page);
}

/**
 * The header every page shares; its navigation, the notification bell and the toasts appear
 * only when signed in.
 */
export class Header {
  readonly nav: Locator;
  readonly dashboardLink: Locator;
  readonly administrationLink: Locator;
  readonly profileLink: Locator;
  readonly signOutButton: Locator;
  /** The bell; its accessible name says how many are unread ("Notifications, 2 unread"). */
  readonly bellButton: Locator;
  /** What the bell opens: the newest notifications under an h2 "Notifications". */
  readonly bellPanel: Locator;
  readonly bellItems: Locator;
  /** The live region that shows live events for a few seconds. */
  readonly toasts: Locator;

  constructor(readonly page: Page) {
    const banner = page.getByRole('banner');
    this.nav = page.getByRole('navigation', { name: 'Main' });
    this.dashboardLink = this.nav.getByRole('link', { name: 'Dashboard', exact: true });
    // Followed by the number of pending reset requests when there are any.
    this.administrationLink = this.nav.getByRole('link', { name: /^Administration( \d+ pending 2FA reset requests?)?$/ });
    this.profileLink = this.nav.getByRole('link', { name: 'Profile', exact: true });
    this.signOutButton = banner.getByRole('button', { name: 'Sign out' });
    this.bellButton = banner.getByRole('button', { name: /^Notifications, \d+ unread$/ });
    this.bellPanel = banner.locator('#bell-panel');
    this.bellItems = this.bellPanel.getByRole('listitem');
    this.toasts = banner.locator('.toasts[role="status"]');
  }

  /** The bell's accessible name for this many unread notifications. */
  static bellLabel(unread: number): string {
    return `Notifications, ${unread} unread`;
  }

  /** One toast, by its message. */
  toast(message: string): Locator {
    return this.toasts.locator('.toast').filter({ hasText: message });
  }

  async signOut(): Promise<void> {
    await this.signOutButton.click();
    await arriveAt(this.page, '/login');
  }
}

/** /login: the password step. */
export class SignInPage {
  readonly heading: Locator;
  readonly identifier: Locator;
  readonly password: Locator;
  readonly submit: Locator;
  readonly alert: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1, name: 'Sign in' });
    this.identifier = page.getByLabel('Email or username');
    this.password = page.getByLabel('Password', { exact: true });
    this.submit = page.getByRole('button', { name: 'Sign in', exact: true });
    this.alert = page.getByRole('alert');
  }

  async goto(): Promise<void> {
    await this.page.goto('/login');
    await waitForHydration(this.page);
    await expect(this.heading).toBeVisible();
  }

  /** Fills in and submits the form; the caller asserts where that leads. */
  async submitCredentials(identifier: string, password: string): Promise<void> {
    await this.identifier.fill(identifier);
    await this.password.fill(password);
    await this.submit.click();
  }

  /** Signs in an admin without 2FA and waits for the dashboard. */
  async signIn(identifier: string, password: string): Promise<void> {
    await this.goto();
    await this.submitCredentials(identifier, password);
    await arriveAt(this.page, '/');
  }
}

/** /login/code: the "2FA security code" step, with "Request 2FA Reset" below the form. */
export class CodeStepPage {
  readonly heading: Locator;
  readonly code: Locator;
  readonly verify: Locator;
  readonly resetPanel: Locator;
  readonly resetHint: Locator;
  readonly requestResetButton: Locator;
  /** "Your super admin has been notified." / "… reset your two-factor authentication." */
  readonly resetStatus: Locator;
  /** The denial (or a failed request). */
  readonly resetAlert: Locator;
  readonly signInAgainLink: Locator;
  /** The same field once "Use a recovery code instead" relabelled it. */
  readonly recoveryCode: Locator;
  readonly useRecoveryCodeButton: Locator;
  readonly useAuthenticatorButton: Locator;
  /** The message under the field (a wrong, used or malformed code). */
  readonly codeError: Locator;
  /** An error about the whole step, above the form (e.g. "Too many attempts…"). */
  readonly alert: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1, name: 'Two-factor authentication' });
    this.code = page.getByLabel('2FA security code');
    this.verify = page.getByRole('button', { name: 'Verify', exact: true });
    this.recoveryCode = page.getByLabel('Recovery code', { exact: true });
    this.useRecoveryCodeButton = page.getByRole('button', { name: 'Use a recovery code instead', exact: true });
    this.useAuthenticatorButton = page.getByRole('button', {
      name: 'Use a code from your authenticator app',
      exact: true,
    });
    this.codeError = page.locator('main .field #code-error');
    // The form's own alert, not the one of "Request 2FA Reset" below it.
    this.alert = page.locator('main section.auth-card > [role="alert"]');
    this.resetPanel = page.locator('main .reset-request');
    this.resetHint = this.resetPanel.getByText('Lost your authenticator app?', { exact: true });
    this.requestResetButton = this.resetPanel.getByRole('button', { name: 'Request 2FA Reset', exact: true });
    this.resetStatus = this.resetPanel.getByRole('status');
    this.resetAlert = this.resetPanel.getByRole('alert');
    this.signInAgainLink = this.resetStatus.getByRole('link', { name: 'Sign in again', exact: true });
  }

  async goto(): Promise<void> {
    await this.page.goto('/login/code');
    await waitForHydration(this.page);
    await expect(this.heading).toBeVisible();
  }

  async submitCode(code: string): Promise<void> {
    await this.code.fill(code);
    await this.verify.click();
  }

  /** Switches the field to recovery codes (unless it already is) and submits `code`. */
  async submitRecoveryCode(code: string): Promise<void> {
    if (!(await this.recoveryCode.isVisible())) {
      await this.useRecoveryCodeButton.click();
    }
    await expect(this.recoveryCode).toBeVisible();
    await this.recoveryCode.fill(code);
    await this.verify.click();
  }

  /** Resolves with the server's answer to the next "Verify". */
  nextVerifyResponse(): Promise<Response> {
    return this.page.waitForResponse(
      (r) => new URL(r.url()).pathname === '/api/verify_sign_in_code' && r.request().method() === 'POST',
    );
  }
}

/** /: the dashboard a signed-in admin lands on. */
export class DashboardPage {
  readonly header: Header;

  constructor(readonly page: Page) {
    this.header = new Header(page);
  }

  welcome(name: string): Locator {
    return this.page.getByRole('heading', { level: 1, name: `Welcome, ${name}` });
  }

  async goto(): Promise<void> {
    await this.page.goto('/');
    await waitForHydration(this.page);
  }
}

/** /profile: the admin's details and the two-factor switch with its setup panel. */
export class ProfilePage {
  readonly header: Header;
  readonly heading: Locator;
  readonly twoFactorSwitch: Locator;
  readonly status: Locator;
  /** "Confirm it's you": the password asked before a setup starts. */
  readonly confirmPanel: Locator;
  readonly currentPassword: Locator;
  readonly continueButton: Locator;
  readonly setupPanel: Locator;
  readonly qr: Locator;
  readonly secret: Locator;
  readonly setupCode: Locator;
  readonly turnOn: Locator;
  /** "Two-factor authentication is on." in the card, above the recovery codes. */
  readonly setupDone: Locator;
  readonly recoveryCard: RecoveryCard;
  readonly sessionsCard: SessionsCard;
  readonly passwordCard: PasswordCard;

  constructor(readonly page: Page) {
    this.header = new Header(page);
    this.heading = page.getByRole('heading', { level: 1, name: 'Profile' });
    this.setupDone = page
      .getByRole('region', { name: 'Two-factor authentication' })
      .locator('.alert-ok[role="status"]');
    this.recoveryCard = new RecoveryCard(page);
    this.sessionsCard = new SessionsCard(page);
    this.passwordCard = new PasswordCard(page);
    this.twoFactorSwitch = page.getByRole('switch', { name: 'Enable Two-Factor Authentication' });
    // The page's own message (the header's toast region is a status region too).
    this.status = page.locator('main .notice-slot[role="status"]');
    this.confirmPanel = page.getByRole('group', { name: "Confirm it's you" });
    this.currentPassword = this.confirmPanel.getByLabel('Your current password');
    this.continueButton = this.confirmPanel.getByRole('button', { name: 'Continue' });
    this.setupPanel = page.getByRole('group', { name: 'Set up your authenticator app' });
    this.qr = this.setupPanel.locator('.qr');
    this.secret = this.setupPanel.getByTestId('totp-secret');
    this.setupCode = page.getByLabel('3. Enter the 6-digit code the app shows');
    this.turnOn = page.getByRole('button', { name: 'Turn on', exact: true });
  }

  async goto(): Promise<void> {
    await this.page.goto('/profile');
    await waitForHydration(this.page);
    await expect(this.heading).toBeVisible();
  }

  /** The value next to a label in "Your details" (a <dt>/<dd> list). */
  detail(label: string): Locator {
    return this.page
      .getByRole('region', { name: 'Your details' })
      .getByRole('term')
      .filter({ hasText: new RegExp(`^${label}$`) })
      .locator('xpath=following-sibling::dd[1]');
  }

  async submitSetupCode(code: string): Promise<void> {
    await this.setupCode.fill(code);
    await this.turnOn.click();
  }

  /**
   * "Enable Two-Factor Authentication": the switch opens "Confirm it's you" with the password
   * field focused; the right password opens the setup with the QR code.
   */
  async startSetup(password: string): Promise<void> {
    await this.twoFactorSwitch.check();
    await expect(this.currentPassword).toBeFocused();
    await this.currentPassword.fill(password);
    await this.continueButton.click();
    await expect(this.setupPanel).toBeVisible();
  }
}

/** The Administration section's own links, on each of its pages. */
export class AdminNav {
  readonly nav: Locator;
  readonly adminManagementLink: Locator;
  readonly settingsLink: Locator;
  readonly auditLogLink: Locator;

  constructor(readonly page: Page) {
    this.nav = page.getByRole('navigation', { name: 'Administration' });
    // Followed by the number of pending reset requests when there are any.
    this.adminManagementLink = this.nav.getByRole('link', { name: /^Admin Management( \d+ pending 2FA reset requests?)?$/ });
    this.settingsLink = this.nav.getByRole('link', { name: 'Settings', exact: true });
    this.auditLogLink = this.nav.getByRole('link', { name: 'Audit log', exact: true });
  }
}

/** What "Add admin" asks for. */
export interface NewAdmin {
  email: string;
  username: string;
  name: string;
  role: 'Admin' | 'Sub-admin';
  password: string;
}

/** The "Enforce 2FA" column's four values. */
export type Enforcement =
  | 'Yes · account setting'
  | 'Yes · set for this admin'
  | 'No · account setting'
  | 'No · set for this admin';

/** /admin/admins: the 2FA chart, the admin table with search, sort and pages, "Add admin". */
export class AdminManagementPage {
  readonly header: Header;
  readonly adminNav: AdminNav;
  readonly heading: Locator;
  readonly notice: Locator;
  /** After a reset: the setup code in the notice, shown this once. */
  readonly setupCode: Locator;
  readonly chart: Locator;
  readonly chartImage: Locator;
  readonly chartLegend: Locator;
  readonly tableCard: Locator;
  readonly addAdminButton: Locator;
  readonly addPanel: Locator;
  readonly addEmail: Locator;
  readonly addUsername: Locator;
  readonly addName: Locator;
  readonly addRole: Locator;
  readonly addPassword: Locator;
  readonly createButton: Locator;
  readonly searchForm: Locator;
  readonly searchField: Locator;
  readonly searchButton: Locator;
  readonly table: Locator;
  readonly rows: Locator;
  readonly pagination: Locator;
  readonly pageInfo: Locator;
  readonly nextPage: Locator;
  readonly previousPage: Locator;

  constructor(readonly page: Page) {
    this.header = new Header(page);
    this.adminNav = new AdminNav(page);
    this.heading = page.getByRole('heading', { level: 1, name: 'Administration' });
    this.notice = page.locator('main .notice-slot[role="status"]');
    this.setupCode = this.notice.getByTestId('setup-code');
    this.chart = page.getByRole('region', { name: 'Two-factor authentication' });
    this.chartImage = this.chart.getByRole('img');
    this.chartLegend = this.chart.getByRole('listitem');
    this.tableCard = page.getByRole('region', { name: 'Admin Management' });
    this.addAdminButton = this.tableCard.getByRole('button', { name: 'Add admin', exact: true });
    this.addPanel = page.locator('#add-admin');
    this.addEmail = this.addPanel.getByLabel('Email', { exact: true });
    this.addUsername = this.addPanel.getByLabel('Username', { exact: true });
    this.addName = this.addPanel.getByLabel('Name', { exact: true });
    this.addRole = this.addPanel.getByLabel('Role', { exact: true });
    this.addPassword = this.addPanel.getByLabel('Initial password', { exact: true });
    this.createButton = this.addPanel.getByRole('button', { name: 'Create admin', exact: true });
    this.searchForm = page.getByRole('search');
    this.searchField = this.searchForm.getByLabel('Search by name, email or username');
    this.searchButton = this.searchForm.getByRole('button', { name: 'Search', exact: true });
    this.table = this.tableCard.getByRole('table', { name: 'Admins of this account' });
    this.rows = this.table.locator('tbody tr');
    this.pagination = page.getByRole('navigation', { name: 'Pages of admins' });
    this.pageInfo = this.pagination.locator('.page-info');
    this.nextPage = this.pagination.getByRole('link', { name: 'Next', exact: true });
    this.previousPage = this.pagination.getByRole('link', { name: 'Previous', exact: true });
  }

  /** The emails of the rows shown, in order. */
  async emails(): Promise<string[]> {
    return this.table.locator('tbody td.cell-email').allInnerTexts();
  }

  async goto(query = ''): Promise<void> {
    await this.page.goto(`/admin/admins${query}`);
    await waitForHydration(this.page);
    await expect(this.heading).toBeVisible();
  }

  /** The table row of the admin with this email (emails are unique). */
  row(email: string): Locator {
    return this.rows.filter({
      has: this.page.locator('td.cell-email', { hasText: new RegExp(`^${escapeRegExp(email)}$`) }),
    });
  }

  /** The badge in "2FA Activation": "Active" or "Not set up". */
  twoFactorCell(email: string): Locator {
    return this.row(email).locator('td.cell-2fa');
  }

  /** The yellow "Reset requested" badge in "2FA Activation" while a 2FA reset request waits. */
  resetBadge(email: string): Locator {
    return this.twoFactorCell(email).locator('span.badge-reset');
  }

  /** Approves a waiting 2FA reset request (aria-label "Reset 2FA of {name}"). */
  resetButton(name: string): Locator {
    return this.table.getByRole('button', { name: `Reset 2FA of ${name}`, exact: true });
  }

  /** Denies a waiting 2FA reset request (aria-label "Deny 2FA reset of {name}"). */
  denyButton(name: string): Locator {
    return this.table.getByRole('button', { name: `Deny 2FA reset of ${name}`, exact: true });
  }

  /** The confirmation dialog that Reset and Deny open. */
  get reviewDialog(): Locator {
    return this.page.getByRole('alertdialog');
  }

  get confirmReset(): Locator {
    return this.reviewDialog.getByRole('button', { name: 'Reset 2FA', exact: true });
  }

  get confirmDeny(): Locator {
    return this.reviewDialog.getByRole('button', { name: 'Deny request', exact: true });
  }

  get denyReason(): Locator {
    return this.reviewDialog.getByLabel('Reason (optional; they see it)');
  }

  get requireSetup(): Locator {
    return this.reviewDialog.getByRole('checkbox', { name: /^Require the setup/ });
  }

  /** "All admins" / "Pending resets (N)". */
  get pendingFilter(): Locator {
    return this.page.getByRole('navigation', { name: 'Which admins' }).getByRole('link', { name: /^Pending resets \(\d+\)$/ });
  }

  /** "Enforce 2FA": see `Enforcement`. */
  enforceCell(email: string): Locator {
    return this.row(email).locator('td.cell-enforce');
  }

  columnHeader(name: string): Locator {
    return this.table.getByRole('columnheader', { name, exact: true });
  }

  sortLink(name: string): Locator {
    return this.columnHeader(name).getByRole('link', { name, exact: true });
  }

  editLink(name: string): Locator {
    return this.table.getByRole('link', { name: `Edit ${name}`, exact: true });
  }

  /** The chart's summary in words, e.g. "1 of 3 active admins have 2FA active; …". */
  chartSummary(active: number, of: number, enforcedNotSetUp: number, notEnforced: number, inGrace = 0): string {
    return (
      `${active} of ${of} active admins have 2FA active; ` +
      `${enforcedNotSetUp} enforced but not set up; ` +
      `${inGrace} in grace period; ` +
      `${notEnforced} not enforced and not set up.`
    );
  }

  /** Opens "Add admin", fills it in and creates the admin; waits for the confirmation. */
  async addAdmin(admin: NewAdmin): Promise<void> {
    await this.addAdminButton.click();
    await expect(this.addPanel).toBeVisible();
    await expect(this.addPanel.getByRole('heading', { level: 3, name: 'Add admin' })).toBeVisible();
    await this.addEmail.fill(admin.email);
    await this.addUsername.fill(admin.username);
    await this.addName.fill(admin.name);
    await this.addRole.selectOption({ label: admin.role });
    await this.addPassword.fill(admin.password);
    await this.createButton.click();
    // The panel closes once the admin exists.
    await expect(this.addPanel).toBeHidden();
    // Soft: a wrong message (e.g. without the name) fails the test but lets the rest of the
    // story run.
    await expect.soft(this.notice).toHaveText(
      `Added ${admin.name}. Give them their initial password; they choose a new one at their first sign-in.`,
    );
  }

  async search(text: string): Promise<void> {
    await this.searchField.fill(text);
    await this.searchButton.click();
  }
}

/** /admin/admins/{id}: name, role, active, and "Enforce 2FA" of one admin. */
export class EditAdminPage {
  readonly adminNav: AdminNav;
  readonly name: Locator;
  readonly role: Locator;
  readonly active: Locator;
  readonly twoFactorGroup: Locator;
  readonly enforceSwitch: Locator;
  readonly enforceHint: Locator;
  readonly useAccountSetting: Locator;
  readonly save: Locator;
  readonly status: Locator;
  readonly backLink: Locator;

  constructor(readonly page: Page) {
    this.adminNav = new AdminNav(page);
    this.name = page.getByLabel('Name', { exact: true });
    this.role = page.getByLabel('Role', { exact: true });
    this.active = page.getByRole('checkbox', { name: 'Active', exact: true });
    this.twoFactorGroup = page.getByRole('group', { name: 'Two-factor authentication' });
    this.enforceSwitch = this.twoFactorGroup.getByRole('switch', { name: 'Enforce 2FA' });
    this.enforceHint = this.twoFactorGroup.getByText(/^Applies: /);
    this.useAccountSetting = this.twoFactorGroup.getByRole('button', { name: 'Use account setting' });
    this.save = page.getByRole('button', { name: 'Save', exact: true });
    this.status = page.locator('main .notice-slot[role="status"]');
    this.backLink = page.getByRole('link', { name: '← Admin Management' });
  }

  heading(name: string): Locator {
    return this.page.getByRole('heading', { level: 2, name: `Edit ${name}` });
  }

  /** "Pending 2FA reset request", above the form while one waits. */
  get pendingPanel(): Locator {
    return this.page.getByRole('region', { name: 'Pending 2FA reset request' });
  }

  resetButton(name: string): Locator {
    return this.pendingPanel.getByRole('button', { name: `Reset 2FA of ${name}`, exact: true });
  }

  denyButton(name: string): Locator {
    return this.pendingPanel.getByRole('button', { name: `Deny 2FA reset of ${name}`, exact: true });
  }

  async goto(id: string | number): Promise<void> {
    await this.page.goto(`/admin/admins/${id}`);
    await waitForHydration(this.page);
  }
}

/** /admin/settings: "Force two-factor authentication". */
export class SettingsPage {
  readonly adminNav: AdminNav;
  readonly heading: Locator;
  readonly force2fa: Locator;
  readonly hint: Locator;
  /** Shown while "Force two-factor authentication" is checked. */
  readonly graceDays: Locator;
  readonly graceHint: Locator;
  readonly save: Locator;
  readonly status: Locator;

  constructor(readonly page: Page) {
    this.adminNav = new AdminNav(page);
    this.graceDays = page.getByLabel('Grace period (days)');
    this.graceHint = page.locator('#grace-days-hint');
    this.heading = page.getByRole('heading', { level: 2, name: 'Settings' });
    this.hint = page.locator('#force-2fa-hint');
    this.force2fa = page.getByRole('checkbox', { name: 'Force two-factor authentication' });
    this.save = page.getByRole('button', { name: 'Save', exact: true });
    this.status = page.getByRole('region', { name: 'Settings' }).getByRole('status');
  }

  async goto(): Promise<void> {
    await this.page.goto('/admin/settings');
    await waitForHydration(this.page);
    await expect(this.heading).toBeVisible();
  }
}

/** /login/new-password: the required new password after an initial one. */
export class NewPasswordPage {
  readonly heading: Locator;
  readonly newPassword: Locator;
  readonly repeat: Locator;
  readonly savePassword: Locator;
  readonly signOutButton: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1, name: 'Choose a new password' });
    this.newPassword = page.getByLabel('New password', { exact: true });
    this.repeat = page.getByLabel('Repeat the new password', { exact: true });
    this.savePassword = page.getByRole('button', { name: 'Save password', exact: true });
    this.signOutButton = page.getByRole('main').getByRole('button', { name: 'Sign out' });
  }

  /** Fills in and submits the form; the caller asserts where that leads. */
  async choose(password: string): Promise<void> {
    await this.newPassword.fill(password);
    await this.repeat.fill(password);
    await this.savePassword.click();
  }
}

/** /login/setup-2fa: the required 2FA setup when it is enforced and not set up. */
/** /login/setup-code: after a reset, the setup code the super admin handed over. */
export class SetupCodeStepPage {
  readonly heading: Locator;
  readonly code: Locator;
  readonly continueButton: Locator;
  readonly codeError: Locator;
  readonly alert: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1, name: 'Enter your setup code' });
    this.code = page.getByLabel('Setup code', { exact: true });
    this.continueButton = page.getByRole('button', { name: 'Continue', exact: true });
    this.codeError = page.locator('main .field #setup-code-error');
    this.alert = page.locator('main section.auth-card > [role="alert"]');
  }

  async submitCode(code: string): Promise<void> {
    await this.code.fill(code);
    await this.continueButton.click();
  }
}

export class ForcedSetupPage {
  readonly heading: Locator;
  readonly lead: Locator;
  /** Only when 2FA is not enforced for the admin (after a reset by their super admin). */
  readonly skipButton: Locator;
  /** In an enforcement's grace period. */
  readonly setUpNowButton: Locator;
  readonly remindMeButton: Locator;
  readonly setupPanel: Locator;
  readonly qr: Locator;
  readonly secret: Locator;
  readonly code: Locator;
  readonly turnOn: Locator;
  readonly signOutButton: Locator;
  /** When 2FA became required while the session was open: the password first. */
  readonly confirmPanel: Locator;
  readonly currentPassword: Locator;
  readonly continueButton: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1, name: 'Set up two-factor authentication' });
    this.lead = page.locator('main p.lead');
    this.skipButton = page.getByRole('button', { name: 'Skip for now', exact: true });
    this.setUpNowButton = page.getByRole('button', { name: 'Set up now', exact: true });
    this.remindMeButton = page.getByRole('button', { name: 'Remind me next time', exact: true });
    this.setupPanel = page.getByRole('group', { name: 'Set up your authenticator app' });
    this.qr = this.setupPanel.locator('.qr');
    this.secret = this.setupPanel.getByTestId('totp-secret');
    this.code = page.getByLabel('3. Enter the 6-digit code the app shows');
    this.turnOn = page.getByRole('button', { name: 'Turn on', exact: true });
    this.signOutButton = page.getByRole('main').getByRole('button', { name: 'Sign out' });
    this.confirmPanel = page.getByRole('group', { name: "Confirm it's you" });
    this.currentPassword = this.confirmPanel.getByLabel('Your current password');
    this.continueButton = this.confirmPanel.getByRole('button', { name: 'Continue' });
  }

  async goto(): Promise<void> {
    await this.page.goto('/login/setup-2fa');
    await waitForHydration(this.page);
    await expect(this.heading).toBeVisible();
  }

  async submitCode(code: string): Promise<void> {
    await this.code.fill(code);
    await this.turnOn.click();
  }
}

/**
 * "Your recovery codes", shown once right after 2FA is turned on (on the profile and in the
 * required setup of a sign-in), before the page goes on.
 */
export class RecoveryCodesPanel {
  readonly group: Locator;
  readonly codes: Locator;
  readonly savedButton: Locator;
  /** The `<code>` of each list item: "XXXXX-XXXXX". */
  readonly codeTexts: Locator;
  readonly downloadLink: Locator;

  constructor(readonly page: Page) {
    this.group = page.getByRole('group', { name: 'Your recovery codes' });
    this.codes = this.group.getByTestId('recovery-codes').getByRole('listitem');
    this.codeTexts = this.group.getByTestId('recovery-codes').locator('li code');
    this.savedButton = this.group.getByRole('button', { name: 'I have saved my recovery codes', exact: true });
    this.downloadLink = this.group.getByRole('link', { name: 'Download', exact: true });
  }

  /** The codes shown, in order. */
  async read(): Promise<string[]> {
    return (await this.codeTexts.allInnerTexts()).map((c) => c.trim());
  }

  /**
   * After "Turn on": waits until either the recovery codes or `done` (what the page shows once
   * 2FA is on) are visible. Recovery codes are confirmed as saved, so the page goes on to
   * `done`. Builds without recovery codes go to `done` straight away.
   */
  async saveIfShown(done: Locator): Promise<void> {
    await expect(this.group.or(done).first()).toBeVisible();
    if (await this.group.isVisible()) {
      await expect(this.codes.first()).toBeVisible();
      await this.savedButton.click();
    }
  }
}

/** Recovery codes: two groups of five from digits 2-9 and capitals without I and O. */
export const RECOVERY_CODE = /^[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}$/;

/** "Recovery codes" on the profile (only while 2FA is on): how many are left, new ones. */
export class RecoveryCard {
  readonly card: Locator;
  /** The number of codes left. */
  readonly left: Locator;
  readonly getNewCodesButton: Locator;
  readonly code: Locator;
  readonly createButton: Locator;
  readonly codeError: Locator;
  readonly alert: Locator;
  /** The new codes, once created. */
  readonly panel: RecoveryCodesPanel;

  constructor(readonly page: Page) {
    this.card = page.getByRole('region', { name: 'Recovery codes' });
    this.left = this.card.getByTestId('recovery-left');
    this.getNewCodesButton = this.card.getByRole('button', { name: 'Get new recovery codes', exact: true });
    this.code = this.card.getByLabel('2FA security code', { exact: true });
    this.createButton = this.card.getByRole('button', { name: 'Create new codes', exact: true });
    this.codeError = this.card.locator('#regenerate-error');
    this.alert = this.card.getByRole('alert');
    this.panel = new RecoveryCodesPanel(page);
  }

  /** Opens "Get new recovery codes" and submits `code`; the caller asserts the outcome. */
  async regenerate(code: string): Promise<void> {
    if (!(await this.code.isVisible())) {
      await this.getNewCodesButton.click();
    }
    await expect(this.code).toBeVisible();
    await this.code.fill(code);
    await this.createButton.click();
  }
}

/** "Where you are signed in" on the profile: the admin's sessions, and signing them out. */
export class SessionsCard {
  readonly card: Locator;
  readonly items: Locator;
  /** The item marked "This browser". */
  readonly current: Locator;
  /** The items of other browsers. */
  readonly others: Locator;
  readonly signOutOthersButton: Locator;
  readonly alert: Locator;

  constructor(readonly page: Page) {
    this.card = page.getByRole('region', { name: 'Where you are signed in' });
    this.items = this.card.locator('ul.session-list > li');
    const thisBrowser = page.locator('.badge', { hasText: /^This browser$/ });
    this.current = this.items.filter({ has: thisBrowser });
    this.others = this.items.filter({ hasNot: thisBrowser });
    this.signOutOthersButton = this.card.getByRole('button', { name: 'Sign out all other sessions', exact: true });
    this.alert = this.card.getByRole('alert');
  }

  /** The device of an item ("Chrome on Linux"). */
  device(item: Locator): Locator {
    return item.locator('strong');
  }

  /** "{address} · signed in {time} · last seen {time}" of an item. */
  details(item: Locator): Locator {
    return item.locator('p.hint');
  }

  /** The item of the session on this device from this address. */
  item(device: string, address: string): Locator {
    return this.items.filter({
      has: this.page.getByRole('button', { name: `Sign out ${device} (${address})`, exact: true }),
    });
  }

  /** "Sign out" of one other session (aria-label "Sign out {device} ({address})"). */
  endButton(device: string, address: string): Locator {
    return this.card.getByRole('button', { name: `Sign out ${device} (${address})`, exact: true });
  }
}

/** "Change password" on the profile. */
export class PasswordCard {
  readonly card: Locator;
  readonly currentPassword: Locator;
  readonly newPassword: Locator;
  readonly repeat: Locator;
  readonly submit: Locator;
  readonly alert: Locator;

  constructor(readonly page: Page) {
    this.card = page.getByRole('region', { name: 'Change password' });
    this.currentPassword = this.card.getByLabel('Current password', { exact: true });
    this.newPassword = this.card.getByLabel('New password', { exact: true });
    this.repeat = this.card.getByLabel('Repeat the new password', { exact: true });
    this.submit = this.card.getByRole('button', { name: 'Change password', exact: true });
    this.alert = this.card.getByRole('alert');
  }

  async change(current: string, next: string): Promise<void> {
    await this.currentPassword.fill(current);
    await this.newPassword.fill(next);
    await this.repeat.fill(next);
    await this.submit.click();
  }
}

/** The columns of the audit log, in order. */
export const AUDIT_COLUMNS = ['Time (UTC)', 'Event', 'By', 'About', 'Detail', 'Address'] as const;

/** /admin/audit: the account's security events, filters, pages and "Export CSV". */
export class AuditLogPage {
  readonly header: Header;
  readonly adminNav: AdminNav;
  readonly pageHeading: Locator;
  readonly heading: Locator;
  readonly card: Locator;
  readonly exportLink: Locator;
  readonly filters: Locator;
  readonly adminFilter: Locator;
  readonly eventFilter: Locator;
  readonly fromFilter: Locator;
  readonly toFilter: Locator;
  readonly filterButton: Locator;
  readonly table: Locator;
  /** Each event is a row with `data-event` (e.g. "2fa_enabled"). */
  readonly rows: Locator;
  readonly empty: Locator;
  readonly pagination: Locator;
  readonly pageInfo: Locator;

  constructor(readonly page: Page) {
    this.header = new Header(page);
    this.adminNav = new AdminNav(page);
    this.pageHeading = page.getByRole('heading', { level: 1, name: 'Administration' });
    this.heading = page.getByRole('heading', { level: 2, name: 'Audit log' });
    this.card = page.getByRole('region', { name: 'Audit log' });
    this.exportLink = this.card.getByRole('link', { name: 'Export CSV', exact: true });
    this.filters = this.card.getByRole('search');
    this.adminFilter = this.filters.getByLabel('Admin', { exact: true });
    this.eventFilter = this.filters.getByLabel('Event', { exact: true });
    this.fromFilter = this.filters.getByLabel('From (UTC)', { exact: true });
    this.toFilter = this.filters.getByLabel('To (UTC)', { exact: true });
    this.filterButton = this.filters.getByRole('button', { name: 'Filter', exact: true });
    this.table = this.card.getByRole('table', { name: 'Security events, newest first' });
    this.rows = this.table.locator('tbody tr[data-event]');
    this.empty = this.card.getByText('No event matches these filters.', { exact: true });
    this.pagination = page.getByRole('navigation', { name: 'Pages of the audit log' });
    this.pageInfo = this.pagination.locator('.page-info');
  }

  async goto(query = ''): Promise<void> {
    await this.page.goto(`/admin/audit${query}`);
    await waitForHydration(this.page);
    await expect(this.heading).toBeVisible();
  }

  /** The rows of one event type ("sign_in_succeeded"). */
  rowsOf(event: string): Locator {
    return this.table.locator(`tbody tr[data-event="${event}"]`);
  }

  /** One column's cell of a row, by the column's name. */
  cell(row: Locator, column: (typeof AUDIT_COLUMNS)[number]): Locator {
    return row.locator('td').nth(AUDIT_COLUMNS.indexOf(column));
  }

  /** Chooses filters by their visible labels ("Any admin", "2fa enabled") and submits. */
  async filter(by: { admin?: string; event?: string }): Promise<void> {
    if (by.admin !== undefined) await this.adminFilter.selectOption({ label: by.admin });
    if (by.event !== undefined) await this.eventFilter.selectOption({ label: by.event });
    await this.filterButton.click();
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
