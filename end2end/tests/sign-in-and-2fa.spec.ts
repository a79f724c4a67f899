// User story (issue 2): an MSSP super admin signs in with email or username and a password,
// turns on two-factor authentication from the profile with an authenticator app, and from then
// on every sign-in asks for a fresh 6-digit code.

import { spawnSync } from 'node:child_process';
import { expect, test } from './support/fixtures';
import { createAccount } from './support/accounts';
import { checkA11y } from './support/axe';
import {
  arriveAt,
  CodeStepPage,
  DashboardPage,
  Header,
  ProfilePage,
  RecoveryCodesPanel,
  SignInPage,
} from './support/pages';
import { codeForStep, currentStep, freshCode } from './support/totp';

const BAD_CREDENTIALS = 'Wrong email, username or password.';

/** True when Debian's zbar-tools are installed (the QR sub-check needs `zbarimg`). */
function hasZbarimg(): boolean {
  return !spawnSync('zbarimg', ['--version']).error;
}

test('a super admin signs in, turns on 2FA, and then signs in with a code', async ({ page }, testInfo) => {
  const admin = createAccount('Signin');
  const signIn = new SignInPage(page);
  const codeStep = new CodeStepPage(page);
  const dashboard = new DashboardPage(page);
  const profile = new ProfilePage(page);
  const header = new Header(page);

  await test.step('wrong password and unknown user get the same message', async () => {
    await signIn.goto();
    await checkA11y(page, '/login');

    await signIn.submitCredentials(admin.username, `${admin.password}-wrong`);
    await expect(signIn.alert).toHaveText(BAD_CREDENTIALS);
    await expect(page).toHaveURL(/\/login$/);

    // Reload so the message seen next comes from the second attempt, not the first.
    await signIn.goto();
    await expect(signIn.alert).toBeHidden();
    await signIn.submitCredentials(`nobody.${admin.username}`, admin.password);
    // One generic message: the page must not tell whether the user exists.
    await expect(signIn.alert).toHaveText(BAD_CREDENTIALS);
    await expect(page).toHaveURL(/\/login$/);
  });

  await test.step('signing in with the username lands on the dashboard', async () => {
    await signIn.submitCredentials(admin.username, admin.password);
    await arriveAt(page, '/');
    await expect(dashboard.welcome(admin.name)).toBeVisible();
    await expect(header.profileLink).toBeVisible();
    await expect(header.signOutButton).toBeVisible();
    // The account's super admin also gets the administration pages.
    await expect(header.administrationLink).toBeVisible();
    await checkA11y(page, '/ (dashboard)');
    await page.screenshot({ path: '/tmp/e2e-dashboard.png', fullPage: true });
  });

  let secret = '';
  await test.step('the profile shows who is signed in and 2FA off', async () => {
    await header.profileLink.click();
    await expect(page).toHaveURL(/\/profile$/);
    await expect(profile.heading).toBeVisible();
    await expect(profile.detail('Name')).toHaveText(admin.name);
    await expect(profile.detail('Email')).toHaveText(admin.email);
    await expect(profile.detail('Username')).toHaveText(admin.username);
    await expect(profile.detail('Role')).toHaveText('Super admin');
    await expect(profile.twoFactorSwitch).not.toBeChecked();
    await checkA11y(page, '/profile');
  });

  await test.step('turning the switch on asks for the password first', async () => {
    await profile.twoFactorSwitch.check();
    await expect(profile.confirmPanel).toBeVisible();
    await expect(profile.currentPassword).toBeFocused();
    await expect(profile.setupPanel).toHaveCount(0);
    await profile.currentPassword.fill(`${admin.password}-wrong`);
    await profile.continueButton.click();
    await expect(profile.currentPassword).toHaveAccessibleDescription(/That is not your current password\./);
    await expect(profile.setupPanel).toHaveCount(0);
    await checkA11y(page, '/profile asking for the password');
    await page.screenshot({ path: '/tmp/e2e-profile-confirm.png', fullPage: true });
  });

  await test.step('the right password shows a QR code and the setup key', async () => {
    await profile.currentPassword.fill(admin.password);
    await profile.continueButton.click();
    await expect(profile.setupPanel).toBeVisible();
    await expect(profile.confirmPanel).toHaveCount(0);
    await expect(profile.qr.locator('svg')).toBeVisible();
    // Base32, grouped by four for typing by hand.
    await expect(profile.secret).toHaveText(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
    secret = (await profile.secret.innerText()).trim();
    await checkA11y(page, '/profile with the setup panel open');
    await page.screenshot({ path: '/tmp/e2e-profile-setup.png', fullPage: true });

    if (!hasZbarimg()) {
      console.log('zbarimg not installed (apt package zbar-tools): QR decoding not checked');
      return;
    }
    // Read the QR code the way a phone would: from pixels.
    const shot = testInfo.outputPath('qr.png');
    await profile.qr.screenshot({ path: shot });
    const decoded = spawnSync('zbarimg', ['-q', '--raw', shot], { encoding: 'utf8' });
    const uri = decoded.stdout.trim();
    expect(uri, `zbarimg could not read the QR code (exit ${decoded.status})`).toMatch(/^otpauth:\/\/totp\//);
    expect(uri).toContain(`secret=${secret.replace(/\s+/g, '')}`);
    expect(uri).toContain('issuer=');
  });

  let setupStep = 0;
  await test.step('a wrong code is refused, the authenticator code turns 2FA on', async () => {
    // "000000" is right once in a million; accepted as a (tiny) flake risk.
    await profile.submitSetupCode('000000');
    await expect(profile.setupCode).toHaveAccessibleDescription(/not correct/);
    await expect(profile.setupPanel.getByText(/not correct/)).toBeVisible();
    await expect(profile.twoFactorSwitch).toBeChecked(); // still mid-setup

    const { code, step } = await freshCode(secret);
    setupStep = step;
    await profile.submitSetupCode(code);
    await new RecoveryCodesPanel(page).saveIfShown(profile.status.getByText(/Two-factor authentication is on/));
    await expect(profile.status).toContainText('Two-factor authentication is on');
    await expect(profile.setupPanel).toBeHidden();
    await expect(profile.twoFactorSwitch).toBeChecked();
  });

  await test.step('signing in with the email now asks for the code', async () => {
    await header.signOut();
    await expect(signIn.heading).toBeVisible();
    await signIn.submitCredentials(admin.email, admin.password);
    await arriveAt(page, '/login/code');
    await expect(codeStep.heading).toBeVisible();
    await expect(codeStep.code).toBeVisible();
    await expect(codeStep.verify).toBeVisible();
    await checkA11y(page, '/login/code');
    await page.screenshot({ path: '/tmp/e2e-code-step.png', fullPage: true });
  });

  await test.step('with only the password done, other pages send back to the code step', async () => {
    // The server's page guard, not the UI: a direct request must not reach the page.
    for (const path of ['/profile', '/', '/admin']) {
      const response = await page.goto(path);
      expect(response?.ok()).toBe(true);
      await expect(page).toHaveURL(/\/login\/code$/);
    }
    await codeStep.goto();
  });

  let signInStep = 0;
  await test.step('the setup code cannot be used again; a fresh code signs in', async () => {
    // The setup accepted `setupStep`; while it is inside the ±1-step window, its code must
    // come back as a replay rather than as a wrong code.
    if (currentStep() <= setupStep + 1) {
      await codeStep.submitCode(codeForStep(secret, setupStep));
      await expect(codeStep.code).toHaveAccessibleDescription(/That code was already used\./);
    } else {
      testInfo.annotations.push({ type: 'note', description: 'setup step left the window; replay of the setup code not checked' });
    }

    const fresh = await freshCode(secret, setupStep);
    signInStep = fresh.step;
    await codeStep.submitCode(fresh.code);
    await arriveAt(page, '/');
    await expect(dashboard.welcome(admin.name)).toBeVisible();
  });

  await test.step('a code that was already used is refused at the next sign-in', async () => {
    await header.signOut();
    await signIn.submitCredentials(admin.email, admin.password);
    await arriveAt(page, '/login/code');
    // The code for the step just used. Only codes within one step of now are looked at, so
    // this is a replay as long as the step has not moved on by two (a few seconds have passed).
    expect(currentStep(), 'signing out and in took more than a time step').toBeLessThanOrEqual(signInStep + 1);
    await codeStep.submitCode(codeForStep(secret, signInStep));
    await expect(page.getByText('That code was already used.')).toBeVisible();
    await expect(codeStep.code).toHaveAttribute('aria-invalid', 'true');
    await expect(page).toHaveURL(/\/login\/code$/);

    // The authenticator's next code works.
    const next = await freshCode(secret, signInStep);
    await codeStep.submitCode(next.code);
    await arriveAt(page, '/');
    await expect(dashboard.welcome(admin.name)).toBeVisible();
  });
});
