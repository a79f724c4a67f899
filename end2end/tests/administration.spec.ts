// User story (issue 3): the super admin of an MSSP account adds admins, forces two-factor
// authentication for the whole account, and exempts one admin with "Enforce 2FA". Added admins
// choose their own password at their first sign-in; the forced one must set up 2FA before
// reaching anything else, the exempted one goes straight to the dashboard. Admin Management
// shows it all: the chart, the table's "2FA Activation" and "Enforce 2FA", search and sort.

import { expect, test } from './support/fixtures';
import { chosenPassword, createAccount, newAdminDetails } from './support/accounts';
import { checkA11y } from './support/axe';
import { otherBrowser } from './support/flows';
import {
  AdminManagementPage,
  arriveAt,
  DashboardPage,
  EditAdminPage,
  ForcedSetupPage,
  Header,
  NewPasswordPage,
  RecoveryCodesPanel,
  SettingsPage,
  SignInPage,
  waitForHydration,
} from './support/pages';
import { freshCode } from './support/totp';

test('a super admin adds admins, forces 2FA, and exempts one admin', async ({ page, browser }) => {
  const owner = createAccount('Admins');
  const alice = newAdminDetails('alice', 'Admin');
  const bob = newAdminDetails('bob', 'Sub-admin');
  const aliceNewPassword = chosenPassword();
  const bobNewPassword = chosenPassword();

  // The super admin's browser: signed in once, used throughout. Forcing 2FA reaches open
  // sessions too: the super admin, without 2FA, is sent to set it up as soon as they save.
  const signIn = new SignInPage(page);
  const header = new Header(page);
  const management = new AdminManagementPage(page);
  const settings = new SettingsPage(page);
  const edit = new EditAdminPage(page);

  await test.step('the super admin opens Administration and adds two admins', async () => {
    await signIn.signIn(owner.username, owner.password);
    await header.administrationLink.click();
    await expect(page).toHaveURL(/\/admin\/admins$/);
    await expect(management.heading).toBeVisible();
    await expect(management.chartImage).toHaveAttribute('aria-label', management.chartSummary(0, 1, 0, 1));
    await checkA11y(page, '/admin/admins');
    // The username is shown under the name; there is no Username column.
    await expect(management.columnHeader('Username')).toHaveCount(0);

    await management.addAdmin(alice);
    await management.addAdmin(bob);

    await expect(management.rows).toHaveCount(3);
    await expect(management.pageInfo).toHaveText('Page 1 of 1 · 3 admins');
    for (const added of [alice, bob]) {
      const row = management.row(added.email);
      await expect(row.locator('span.cell-name'), added.email).toHaveText(added.name);
      await expect(row.locator('span.cell-username'), added.email).toHaveText(added.username);
      await expect(row, added.email).toContainText(added.role);
      await expect(row.locator('td.cell-time'), added.email).toHaveText('Never');
      await expect(management.twoFactorCell(added.email)).toHaveText('Not set up');
      await expect(management.enforceCell(added.email)).toHaveText('No · account setting');
    }
    await expect(management.chartImage).toHaveAttribute('aria-label', management.chartSummary(0, 3, 0, 3));
    await checkA11y(page, '/admin/admins with two added admins');
  });

  await test.step('the super admin forces 2FA for the account in Settings', async () => {
    await management.adminNav.settingsLink.click();
    await expect(page).toHaveURL(/\/admin\/settings$/);
    await expect(settings.heading).toBeVisible();
    await expect(settings.force2fa).not.toBeChecked();
    // Without 2FA of their own, Settings says what saving will do to them.
    await expect(settings.hint).toContainText('saving with this on (and no grace period) takes you to the setup first');
    await settings.force2fa.check();
    await checkA11y(page, '/admin/settings');
    await page.screenshot({ path: '/tmp/e2e-settings.png', fullPage: true });
    await settings.save.click();
  });

  await test.step('saving sends the super admin, without 2FA, to the setup first', async () => {
    const setup = new ForcedSetupPage(page);
    await arriveAt(page, '/login/setup-2fa');
    await expect(setup.heading).toBeVisible();
    // 2FA became required while this session was open: adding an authenticator asks the
    // password again (the session could be a stolen one that flipped the switch itself).
    await expect(setup.currentPassword).toBeFocused();
    await setup.currentPassword.fill(owner.password);
    await setup.continueButton.click();
    await expect(setup.secret).toHaveText(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
    const secret = (await setup.secret.innerText()).trim();
    const { code } = await freshCode(secret);
    await setup.submitCode(code);
    const welcome = new DashboardPage(page).welcome(owner.name);
    await new RecoveryCodesPanel(page).saveIfShown(welcome);
    await arriveAt(page, '/');

    // Saved on the server, not only in the form.
    await settings.goto();
    await expect(settings.force2fa).toBeChecked();

    await settings.adminNav.adminManagementLink.click();
    await expect(page).toHaveURL(/\/admin\/admins$/);
    for (const admin of [owner, alice, bob]) {
      await expect(management.enforceCell(admin.email)).toHaveText('Yes · account setting');
    }
    await expect(management.twoFactorCell(owner.email)).toHaveText('Active App');
    for (const admin of [alice, bob]) {
      await expect(management.twoFactorCell(admin.email)).toHaveText('Not set up');
    }
    // Three active admins: the super admin has 2FA now, the two others must set it up.
    await expect(management.chartImage).toHaveAttribute('aria-label', management.chartSummary(1, 3, 2, 0));
    await expect(management.chartLegend).toHaveText([
      '1 2FA active',
      '2 enforced, not set up',
      '0 in grace period',
      '0 not enforced, not set up',
    ]);
  });

  await test.step('admin A chooses a new password and must set up 2FA first', async () => {
    const pageA = await otherBrowser(browser);
    const signInA = new SignInPage(pageA);
    const newPassword = new NewPasswordPage(pageA);
    const setup = new ForcedSetupPage(pageA);

    await signInA.goto();
    await signInA.submitCredentials(alice.email, alice.password);
    await arriveAt(pageA, '/login/new-password');
    await expect(newPassword.heading).toBeVisible();
    await checkA11y(pageA, '/login/new-password');

    // Other pages send back to this step.
    await pageA.goto('/profile');
    await expect(pageA).toHaveURL(/\/login\/new-password$/);
    await waitForHydration(pageA);

    // A password containing the username is refused.
    await newPassword.choose(`${alice.username}-Secret-123`);
    await expect(newPassword.newPassword).toHaveAttribute('aria-invalid', 'true');
    await expect(pageA).toHaveURL(/\/login\/new-password$/);

    await newPassword.choose(aliceNewPassword);
    await arriveAt(pageA, '/login/setup-2fa');
    await expect(setup.heading).toBeVisible();
    // The QR code and the key appear without asking.
    await expect(setup.qr.locator('svg')).toBeVisible();
    await expect(setup.secret).toHaveText(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
    await checkA11y(pageA, '/login/setup-2fa');
    await pageA.screenshot({ path: '/tmp/e2e-forced-setup.png', fullPage: true });

    // The profile (or anything else) is out of reach until 2FA is set up.
    for (const path of ['/profile', '/', '/admin/admins']) {
      await pageA.goto(path);
      await expect(pageA, path).toHaveURL(/\/login\/setup-2fa$/);
    }
    await waitForHydration(pageA);
    await expect(setup.heading).toBeVisible();

    // The key shown now is the one to use (the page starts the setup when it loads).
    await expect(setup.secret).toHaveText(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
    const secret = (await setup.secret.innerText()).trim();
    const { code } = await freshCode(secret);
    await setup.submitCode(code);
    const welcome = new DashboardPage(pageA).welcome(alice.name);
    await new RecoveryCodesPanel(pageA).saveIfShown(welcome);
    await arriveAt(pageA, '/');
    await expect(welcome).toBeVisible();
    // A plain admin: no Administration.
    await expect(new Header(pageA).administrationLink).toHaveCount(0);
    await pageA.context().close();
  });

  await test.step('the super admin exempts admin B with "Enforce 2FA"', async () => {
    await management.goto();
    await expect(management.twoFactorCell(alice.email)).toHaveText('Active App');
    await management.editLink(bob.name).click();
    await expect(page).toHaveURL(/\/admin\/admins\/\d+$/);
    await expect(edit.heading(bob.name)).toBeVisible();
    await expect(edit.name).toHaveValue(bob.name);
    await expect(edit.active).toBeChecked();

    // The account setting applies: enforced.
    await expect(edit.enforceSwitch).toBeChecked();
    await expect(edit.enforceHint).toHaveText(/^Applies: the account setting\./);
    // Nothing to go back to: "Use account setting" is hidden.
    await expect(edit.useAccountSetting).toBeHidden();

    // Set for this admin; "Use account setting" goes back.
    await edit.enforceSwitch.uncheck();
    await expect(edit.enforceSwitch).not.toBeChecked();
    await expect(edit.enforceHint).toHaveText(/^Applies: set for this admin/);
    await expect(edit.useAccountSetting).toBeVisible();
    await edit.useAccountSetting.click();
    await expect(edit.enforceSwitch).toBeChecked();
    await expect(edit.enforceHint).toHaveText(/^Applies: the account setting\./);
    await expect(edit.useAccountSetting).toBeHidden();

    await edit.enforceSwitch.uncheck();
    await expect(edit.enforceHint).toHaveText(/^Applies: set for this admin/);
    await edit.save.click();
    await expect(edit.status).toHaveText('Saved.');
    // The form shows what was saved.
    await expect(edit.enforceSwitch).not.toBeChecked();
    await expect(edit.enforceHint).toHaveText(/^Applies: set for this admin/);
    await checkA11y(page, '/admin/admins/{id}');
    await page.screenshot({ path: '/tmp/e2e-admin-edit.png', fullPage: true });

    await edit.adminNav.adminManagementLink.click();
    await expect(page).toHaveURL(/\/admin\/admins$/);
    await expect(management.enforceCell(bob.email)).toHaveText('No · set for this admin');
    await expect(management.twoFactorCell(bob.email)).toHaveText('Not set up');
    await expect(management.twoFactorCell(alice.email)).toHaveText('Active App');
    await expect(management.enforceCell(alice.email)).toHaveText('Yes · account setting');
  });

  await test.step('admin B chooses a new password and goes straight to the dashboard', async () => {
    const pageB = await otherBrowser(browser);
    const signInB = new SignInPage(pageB);
    const newPassword = new NewPasswordPage(pageB);

    await signInB.goto();
    await signInB.submitCredentials(bob.username, bob.password);
    await arriveAt(pageB, '/login/new-password');
    await expect(newPassword.heading).toBeVisible();
    await newPassword.choose(bobNewPassword);
    await arriveAt(pageB, '/');
    await expect(new DashboardPage(pageB).welcome(bob.name)).toBeVisible();
    await pageB.context().close();
  });

  await test.step('the table shows it all; search and sort work', async () => {
    await management.goto();
    await expect(management.rows).toHaveCount(3);
    await expect(management.twoFactorCell(alice.email)).toHaveText('Active App');
    await expect(management.enforceCell(alice.email)).toHaveText('Yes · account setting');
    await expect(management.twoFactorCell(bob.email)).toHaveText('Not set up');
    await expect(management.enforceCell(bob.email)).toHaveText('No · set for this admin');
    await expect(management.twoFactorCell(owner.email)).toHaveText('Active App');
    await expect(management.enforceCell(owner.email)).toHaveText('Yes · account setting');
    for (const admin of [owner, alice, bob]) {
      await expect(management.row(admin.email).locator('td.cell-time'), admin.email).not.toHaveText('Never');
    }
    // A and the super admin have 2FA; B is exempted.
    await expect(management.chartImage).toHaveAttribute('aria-label', management.chartSummary(2, 3, 0, 1));
    await expect(management.chartLegend).toHaveText([
      '2 2FA active',
      '0 enforced, not set up',
      '0 in grace period',
      '1 not enforced, not set up',
    ]);
    await page.screenshot({ path: '/tmp/e2e-admin-management.png', fullPage: true });

    // Search: part of A's email (the unique part before the @).
    await management.search(alice.username);
    await expect(page).toHaveURL(/[?&]q=/);
    await expect(management.rows).toHaveCount(1);
    await expect(management.row(alice.email)).toBeVisible();
    await expect(management.pageInfo).toHaveText('Page 1 of 1 · 1 admin');
    await expect(management.searchField).toHaveValue(alice.username);

    // Sort by email: ascending, then descending.
    await management.goto();
    await expect(management.columnHeader('Name')).toHaveAttribute('aria-sort', 'ascending');
    await expect(management.columnHeader('Email')).toHaveAttribute('aria-sort', 'none');
    const emails = [owner.email, alice.email, bob.email].sort();
    await management.sortLink('Email').click();
    await expect(page).toHaveURL(/sort=email&dir=asc/);
    await expect(management.columnHeader('Email')).toHaveAttribute('aria-sort', 'ascending');
    await expect(management.columnHeader('Name')).toHaveAttribute('aria-sort', 'none');
    await expect(management.rows.locator('td.cell-email')).toHaveText(emails);
    await management.sortLink('Email').click();
    await expect(page).toHaveURL(/sort=email&dir=desc/);
    await expect(management.columnHeader('Email')).toHaveAttribute('aria-sort', 'descending');
    await expect(management.rows.locator('td.cell-email')).toHaveText([...emails].reverse());
  });
});
