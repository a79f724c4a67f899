import { expect, type Locator, type Page } from '@playwright/test';

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

/** The header every page shares; its navigation appears only when signed in. */
export class Header {
  readonly nav: Locator;
  readonly dashboardLink: Locator;
  readonly administrationLink: Locator;
  readonly profileLink: Locator;
  readonly signOutButton: Locator;

  constructor(readonly page: Page) {
    this.nav = page.getByRole('navigation', { name: 'Main' });
    this.dashboardLink = this.nav.getByRole('link', { name: 'Dashboard', exact: true });
    this.administrationLink = this.nav.getByRole('link', { name: 'Administration', exact: true });
    this.profileLink = this.nav.getByRole('link', { name: 'Profile', exact: true });
    this.signOutButton = page.getByRole('banner').getByRole('button', { name: 'Sign out' });
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

/** /login/code: the "2FA security code" step. */
export class CodeStepPage {
  readonly heading: Locator;
  readonly code: Locator;
  readonly verify: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1, name: 'Two-factor authentication' });
    this.code = page.getByLabel('2FA security code');
    this.verify = page.getByRole('button', { name: 'Verify', exact: true });
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
  readonly setupPanel: Locator;
  readonly qr: Locator;
  readonly secret: Locator;
  readonly setupCode: Locator;
  readonly turnOn: Locator;

  constructor(readonly page: Page) {
    this.header = new Header(page);
    this.heading = page.getByRole('heading', { level: 1, name: 'Profile' });
    this.twoFactorSwitch = page.getByRole('switch', { name: 'Enable Two-Factor Authentication' });
    this.status = page.getByRole('status');
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
}

/** /admin: the account overview for its super admin. */
export class AdministrationPage {
  readonly heading: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1, name: 'Administration' });
  }

  /** The number shown above a label in the overview, e.g. "Admins". */
  stat(label: string): Locator {
    return this.page
      .locator('.stat')
      .filter({ has: this.page.locator('.stat-label', { hasText: new RegExp(`^${label}$`) }) })
      .locator('.stat-value');
  }

  async goto(): Promise<void> {
    await this.page.goto('/admin');
    await waitForHydration(this.page);
  }
}
