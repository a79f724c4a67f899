// User story (issue 14, "Remember this browser"): the super admin allows "Don't ask for a code on
// this browser" for 14 days in Settings. An admin with 2FA checks it at the code step; signing in
// again from that browser asks for the password only. The profile lists the remembered browser;
// "Forget" makes the next sign-in ask for the code again. Codes come from the key the page shows.

import { expect, test } from './support/fixtures';
import { createAccount } from './support/accounts';
import { checkA11y } from './support/axe';
import { turnOnTwoFactor } from './support/flows';
import {
  arriveAt,
  CodeStepPage,
  DashboardPage,
  Header,
  ProfilePage,
  SettingsPage,
  SignInPage,
  waitForHydration,
} from './support/pages';
import { freshCode } from './support/totp';

test('"Don\'t ask for a code on this browser": skipped until forgotten from the profile', async ({ page }) => {
  const owner = createAccount('Remember');
  const signIn = new SignInPage(page);
  const codeStep = new CodeStepPage(page);
  const header = new Header(page);
  const profile = new ProfilePage(page);
  const welcome = new DashboardPage(page).welcome(owner.name);
  const rememberBox = page.getByRole('checkbox', { name: "Don't ask for a code on this browser for 14 days" });
  let secret = '';
  let step = 0;

  await test.step('the super admin turns 2FA on and allows remembering for 14 days', async () => {
    await signIn.signIn(owner.username, owner.password);
    ({ secret, step } = await turnOnTwoFactor(page, owner.password));
    const settings = new SettingsPage(page);
    await settings.goto();
    const days = page.getByLabel("Don't ask for a code on a remembered browser for (days)");
    await expect(days).toHaveValue('0');
    await days.fill('14');
    await settings.save.click();
    await expect(settings.status).toHaveText('Saved.');
    await settings.goto();
    await expect(days).toHaveValue('14');
    await header.signOut();
  });

  await test.step('the code step offers it; checked, the next sign-in asks for the password only', async () => {
    await signIn.submitCredentials(owner.username, owner.password);
    await arriveAt(page, '/login/code');
    await waitForHydration(page);
    await expect(rememberBox).toBeVisible();
    await expect(rememberBox).not.toBeChecked();
    await checkA11y(page, '/login/code with "Don\'t ask for a code on this browser"');
    await page.screenshot({ path: '/tmp/e2e-remember-code-step.png', fullPage: true });
    await rememberBox.check();
    // A code of a later step than the one the setup used (each is accepted once).
    const fresh = await freshCode(secret, step);
    step = fresh.step;
    await codeStep.submitCode(fresh.code);
    await arriveAt(page, '/');
    await expect(welcome).toBeVisible();
    await header.signOut();

    await signIn.submitCredentials(owner.username, owner.password);
    await arriveAt(page, '/');
    await expect(welcome).toBeVisible();
  });

  await test.step('the profile lists this browser as remembered; "Forget" brings the code back', async () => {
    await profile.goto();
    const remembered = page.locator('ul.remembered-list > li');
    await expect(page.getByRole('heading', { name: 'Remembered browsers' })).toBeVisible();
    await expect(remembered).toHaveCount(1);
    await expect(remembered.first()).toContainText('This browser');
    await expect(remembered.first()).toContainText(/no code asked until \d{4}-\d\d-\d\d/);
    await page.screenshot({ path: '/tmp/e2e-remember-profile.png', fullPage: true });
    await remembered.first().getByRole('button', { name: /^Forget / }).click();
    await expect(remembered).toHaveCount(0);
    await header.signOut();

    await signIn.submitCredentials(owner.username, owner.password);
    await arriveAt(page, '/login/code');
    await expect(codeStep.heading).toBeVisible();
  });
});
