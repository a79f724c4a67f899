// User story (issue 14, "Enforcement with a deadline"): the super admin forces two-factor
// authentication with a grace period of 7 days. Nobody is sent to the setup at once: Admin
// Management shows each admin's deadline and counts them "in grace period". An admin without 2FA
// is asked at each sign-in with the days left, chooses "Remind me next time" once and reaches the
// dashboard, then at the next sign-in chooses "Set up now" and sets it up with a code computed
// from the key the page shows.

import { expect, test } from './support/fixtures';
import { chosenPassword, createAccount, newAdminDetails } from './support/accounts';
import { checkA11y } from './support/axe';
import { otherBrowser } from './support/flows';
import {
  AdminManagementPage,
  arriveAt,
  DashboardPage,
  ForcedSetupPage,
  Header,
  NewPasswordPage,
  RecoveryCodesPanel,
  SettingsPage,
  SignInPage,
} from './support/pages';
import { freshCode } from './support/totp';

test('2FA forced with a grace period: asked at each sign-in, "Remind me next time", then "Set up now"', async ({
  page,
  browser,
}) => {
  const owner = createAccount('Grace');
  const carol = newAdminDetails('carol', 'Admin');
  const carolPassword = chosenPassword();
  const management = new AdminManagementPage(page);
  const settings = new SettingsPage(page);

  await test.step('the super admin forces 2FA with 7 days to set it up', async () => {
    await new SignInPage(page).signIn(owner.username, owner.password);
    await management.goto();
    await management.addAdmin(carol);
    await settings.goto();
    // The days appear with the setting.
    await expect(settings.graceDays).toBeHidden();
    await settings.force2fa.check();
    await expect(settings.graceDays).toBeVisible();
    await expect(settings.graceDays).toHaveValue('0');
    // More than 90 days: the browser holds the form back (the server refuses it too, tested in
    // tests/it/grace.rs), and nothing is saved.
    await settings.graceDays.fill('120');
    await settings.save.click();
    expect(await settings.graceDays.evaluate((e) => (e as HTMLInputElement).validity.rangeOverflow)).toBe(true);
    await expect(settings.status).toBeEmpty();
    await settings.graceDays.fill('7');
    await settings.save.click();
    await expect(settings.status).toHaveText('Saved.');
    await expect(settings.graceHint).toContainText(/Now: set up by \d{4}-\d\d-\d\d \d\d:\d\d UTC \(7 days left\)/);
    // The super admin, without 2FA too, stays where they are: the grace period is theirs too.
    await expect(page).toHaveURL(/\/admin\/settings$/);
    await checkA11y(page, '/admin/settings with a grace period');
    await page.screenshot({ path: '/tmp/e2e-grace-settings.png', fullPage: true });
    // Saved on the server.
    await settings.goto();
    await expect(settings.force2fa).toBeChecked();
    await expect(settings.graceDays).toHaveValue('7');
  });

  await test.step('Admin Management shows the deadlines and counts both admins in the grace period', async () => {
    await management.goto();
    for (const admin of [owner, carol]) {
      await expect(management.enforceCell(admin.email)).toContainText('Yes · account setting');
      await expect(management.enforceCell(admin.email)).toContainText(/Set up by \d{4}-\d\d-\d\d/);
    }
    await expect(management.chartImage).toHaveAttribute('aria-label', management.chartSummary(0, 2, 0, 0, 2));
    await expect(management.chartLegend).toHaveText([
      '0 2FA active',
      '0 enforced, not set up',
      '2 in grace period',
      '0 not enforced, not set up',
    ]);
    await page.screenshot({ path: '/tmp/e2e-grace-management.png', fullPage: true });
  });

  const pageC = await otherBrowser(browser);
  const setup = new ForcedSetupPage(pageC);
  const welcome = new DashboardPage(pageC).welcome(carol.name);

  await test.step('the admin is asked with the days left and chooses "Remind me next time"', async () => {
    const signIn = new SignInPage(pageC);
    await signIn.goto();
    await signIn.submitCredentials(carol.email, carol.password);
    await arriveAt(pageC, '/login/new-password');
    await new NewPasswordPage(pageC).choose(carolPassword);
    await arriveAt(pageC, '/login/setup-2fa');
    await expect(setup.lead).toContainText('7 days left to set it up');
    await expect(setup.setUpNowButton).toBeVisible();
    await expect(setup.remindMeButton).toBeVisible();
    // The QR code waits for "Set up now".
    await expect(setup.setupPanel).toHaveCount(0);
    await checkA11y(pageC, '/login/setup-2fa in a grace period');
    await pageC.screenshot({ path: '/tmp/e2e-grace-asked.png', fullPage: true });
    await setup.remindMeButton.click();
    await arriveAt(pageC, '/');
    await expect(welcome).toBeVisible();
    await new Header(pageC).signOut();
    await arriveAt(pageC, '/login');
  });

  await test.step('asked again at the next sign-in, the admin chooses "Set up now"', async () => {
    const signIn = new SignInPage(pageC);
    await signIn.submitCredentials(carol.username, carolPassword);
    await arriveAt(pageC, '/login/setup-2fa');
    await expect(setup.lead).toContainText('7 days left to set it up');
    await setup.setUpNowButton.click();
    await expect(setup.secret).toHaveText(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
    const secret = (await setup.secret.innerText()).trim();
    const { code } = await freshCode(secret);
    await setup.submitCode(code);
    await new RecoveryCodesPanel(pageC).saveIfShown(welcome);
    await arriveAt(pageC, '/');
    await expect(welcome).toBeVisible();
    await pageC.context().close();
  });

  await test.step('the table shows the admin with 2FA active, the super admin still in the grace period', async () => {
    await management.goto();
    await expect(management.twoFactorCell(carol.email)).toHaveText('Active App');
    await expect(management.enforceCell(carol.email)).toHaveText('Yes · account setting');
    await expect(management.chartImage).toHaveAttribute('aria-label', management.chartSummary(1, 2, 0, 0, 1));
  });
});
