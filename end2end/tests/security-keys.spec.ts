// User story (issue 14, "Security keys and passkeys"): an admin adds a security key on their
// profile, signs in with it ("Use your security key"), and removes it, confirming with the key.
// The super admin turns on "Require security keys"; an admin with a key cannot sign in with a
// code any more, loses the key, clicks "Request 2FA Reset", and the approved reset removes it.
// A copy of a key (its private key read out of one virtual authenticator and put into another
// with a lower counter) is refused and suspends the key: neither copy signs in any more.
//
// The key is Chromium's virtual authenticator (DevTools protocol, `WebAuthn.*`): a real
// WebAuthn ceremony in the page, answered by an authenticator that signs with its own private
// key and counter. WebAuthn needs a domain: these pages are opened at `localhost`.

import type { Browser, CDPSession, Page } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { chosenPassword, createAccount, newAdminDetails } from './support/accounts';
import { checkA11y } from './support/axe';
import { watchForAppErrors } from './support/fixtures';
import {
  AdminManagementPage,
  arriveAt,
  CodeStepPage,
  DashboardPage,
  Header,
  NewPasswordPage,
  ProfilePage,
  RecoveryCodesPanel,
  SettingsPage,
  SignInPage,
  waitForHydration,
} from './support/pages';

/** A browser at `localhost` (same server) with a virtual security key plugged in. */
async function browserWithKey(
  browser: Browser,
): Promise<{ page: Page; cdp: CDPSession; authenticatorId: string }> {
  const base = new URL(test.info().project.use.baseURL ?? 'http://127.0.0.1:3000');
  const context = await browser.newContext({ baseURL: `http://localhost:${base.port}` });
  await watchForAppErrors(context);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'usb',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { page, cdp, authenticatorId };
}

/** The profile's "Security keys" card. */
function keysCard(page: Page) {
  const card = page.locator('section.card', { has: page.getByRole('heading', { level: 2, name: 'Security keys' }) });
  return {
    card,
    list: card.getByRole('list', { name: 'Your security keys' }),
    addButton: card.getByRole('button', { name: 'Add a security key', exact: true }),
    name: card.getByLabel('Name of the key'),
    password: card.getByLabel('Current password'),
    addTheKey: card.getByRole('button', { name: 'Add the key', exact: true }),
    remove: (name: string) => card.getByRole('button', { name: `Remove ${name}`, exact: true }),
    confirmWithKey: card.getByRole('button', { name: 'Confirm with a security key', exact: true }),
  };
}

async function addKey(page: Page, name: string, password: string | null): Promise<string[]> {
  const keys = keysCard(page);
  await keys.addButton.click();
  await keys.name.fill(name);
  if (password !== null) await keys.password.fill(password);
  await keys.addTheKey.click();
  const panel = new RecoveryCodesPanel(page);
  await expect(panel.codes).toHaveCount(10);
  const codes = await panel.read();
  await panel.savedButton.click();
  return codes;
}

test('an admin adds a security key, signs in with it, and removes it', async ({ browser }) => {
  const owner = createAccount('Keys');
  const { page } = await browserWithKey(browser);
  const signIn = new SignInPage(page);
  const profile = new ProfilePage(page);
  const keys = keysCard(page);
  const notice = page.locator('.notice-slot');

  await test.step('the profile offers "Add a security key"; named and confirmed, the key is added', async () => {
    await signIn.signIn(owner.username, owner.password);
    await profile.goto();
    await expect(keys.card).toContainText('None yet.');
    await checkA11y(page, '/profile with "Security keys"');
    await keys.addButton.click();
    await expect(keys.name).toBeVisible();
    // A name is required (the server says so too).
    await keys.password.fill(owner.password);
    await keys.addTheKey.click();
    await expect(keys.name).toBeFocused();
    await keys.card.getByRole('button', { name: 'Cancel', exact: true }).click();
    const codes = await addKey(page, 'YubiKey 5C', owner.password);
    expect(codes).toHaveLength(10);
    await expect(notice).toContainText('Security key added.');
    await expect(keys.list.getByRole('listitem')).toHaveCount(1);
    await expect(keys.list).toContainText('YubiKey 5C');
    await expect(keys.list).toContainText('Never used');
    await expect(keys.card).toContainText('Every sign-in offers your security key first.');
    await checkA11y(page, '/profile with a security key');
    await page.screenshot({ path: '/tmp/e2e-security-key-profile.png', fullPage: true });
  });

  await test.step('Admin Management shows the factor in "2FA Activation"', async () => {
    const management = new AdminManagementPage(page);
    await management.goto();
    await expect(management.twoFactorCell(owner.email)).toHaveText('Active Security key');
    await page.screenshot({ path: '/tmp/e2e-security-key-table.png', fullPage: true });
  });

  await test.step('the next sign-in offers "Use your security key" first; the key signs in', async () => {
    await new Header(page).signOut();
    await signIn.goto();
    await signIn.submitCredentials(owner.username, owner.password);
    await arriveAt(page, '/login/code');
    await waitForHydration(page);
    const useKey = page.getByRole('button', { name: 'Use your security key', exact: true });
    await expect(useKey).toBeVisible();
    // No app: the field takes recovery codes; "Request 2FA Reset" stays below.
    await expect(new CodeStepPage(page).recoveryCode).toBeVisible();
    await expect(new CodeStepPage(page).requestResetButton).toBeVisible();
    await expect(page.getByText('Lost your security key?', { exact: true })).toBeVisible();
    await checkA11y(page, '/login/code with a security key');
    await page.screenshot({ path: '/tmp/e2e-security-key-code-step.png', fullPage: true });
    await useKey.click();
    await arriveAt(page, '/');
    await expect(new DashboardPage(page).welcome(owner.name)).toBeVisible();
    await profile.goto();
    await expect(keys.list).toContainText(/Last used \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
  });

  await test.step('"Remove", confirmed with the key, removes it; sign-in needs the password only again', async () => {
    await keys.remove('YubiKey 5C').click();
    await expect(keys.confirmWithKey).toBeVisible();
    await page.screenshot({ path: '/tmp/e2e-security-key-remove.png', fullPage: true });
    await keys.confirmWithKey.click();
    await expect(notice).toContainText('Security key "YubiKey 5C" removed.');
    await expect(keys.list).toHaveCount(0);
    await expect(keys.card).toContainText('None yet.');
    await new Header(page).signOut();
    await signIn.signIn(owner.username, owner.password);
  });
});

test('"Require security keys": codes refused to a key holder; a reset request clears the key', async ({ browser }) => {
  const owner = createAccount('KeysRequired');
  const details = newAdminDetails('kim', 'Admin');
  const a = await browserWithKey(browser);
  const b = await browserWithKey(browser);
  const superAdmin = a.page;
  const admin = b.page;
  const management = new AdminManagementPage(superAdmin);
  const password = chosenPassword();

  await test.step('the super admin adds a key and an admin; the admin adds a key of their own', async () => {
    await new SignInPage(superAdmin).signIn(owner.username, owner.password);
    await new ProfilePage(superAdmin).goto();
    await addKey(superAdmin, 'Owner key', owner.password);
    await management.goto();
    await management.addAdmin(details);
    await new SignInPage(admin).goto();
    await new SignInPage(admin).submitCredentials(details.username, details.password);
    await arriveAt(admin, '/login/new-password');
    await new NewPasswordPage(admin).choose(password);
    await arriveAt(admin, '/');
    await new ProfilePage(admin).goto();
    await addKey(admin, 'Kim key', password);
    await new Header(admin).signOut();
  });

  await test.step('Settings: "Force two-factor authentication" and "Require security keys"', async () => {
    const settings = new SettingsPage(superAdmin);
    await settings.goto();
    await superAdmin.getByRole('checkbox', { name: 'Force two-factor authentication' }).check();
    const requireKeys = superAdmin.getByRole('checkbox', { name: 'Require security keys' });
    await expect(requireKeys).not.toBeChecked();
    await requireKeys.check();
    await settings.save.click();
    await expect(settings.status).toHaveText('Saved.');
    await checkA11y(superAdmin, '/admin/settings with "Require security keys"');
    await superAdmin.screenshot({ path: '/tmp/e2e-require-keys-settings.png', fullPage: true });
    await settings.goto();
    await expect(requireKeys).toBeChecked();
    await management.goto();
    await expect(management.twoFactorCell(details.email)).toHaveText('Active Security key');
  });

  await test.step('the admin\'s code step takes the key only; they lost it and request a reset', async () => {
    await new SignInPage(admin).goto();
    await new SignInPage(admin).submitCredentials(details.username, password);
    await arriveAt(admin, '/login/code');
    await waitForHydration(admin);
    const codeStep = new CodeStepPage(admin);
    await expect(admin.getByRole('button', { name: 'Use your security key', exact: true })).toBeVisible();
    await expect(admin.getByText('codes from your authenticator app are not accepted')).toBeVisible();
    // Recovery codes stay the way back in without the key.
    await expect(codeStep.recoveryCode).toBeVisible();
    await expect(codeStep.useAuthenticatorButton).toBeHidden();
    await admin.screenshot({ path: '/tmp/e2e-require-keys-code-step.png', fullPage: true });
    await codeStep.requestResetButton.click();
    await expect(codeStep.resetStatus).toContainText('Your super admin has been notified.');
  });

  await test.step('the super admin resets it: the key is gone, and the next sign-in asks for the setup code', async () => {
    const row = management.row(details.email);
    await expect(row.locator('span.badge-reset')).toHaveText('Reset requested');
    await management.resetButton(details.name).click();
    await expect(management.reviewDialog).toBeVisible();
    await management.confirmReset.click();
    await expect(management.notice).toContainText(`2FA of ${details.name} was reset`);
    await expect(management.twoFactorCell(details.email)).toContainText('Not set up');
    await expect(management.twoFactorCell(details.email)).toContainText('Needs a security key');
    await superAdmin.screenshot({ path: '/tmp/e2e-require-keys-reset.png', fullPage: true });
    await new SignInPage(admin).goto();
    await new SignInPage(admin).submitCredentials(details.username, password);
    await arriveAt(admin, '/login/setup-code');
  });
});

test('a cloned key is refused and suspended: neither copy signs in, and the profile says so', async ({ browser }) => {
  const owner = createAccount('KeysClone');
  const original = await browserWithKey(browser);
  const page = original.page;
  const keys = keysCard(page);
  let codes: string[] = [];

  async function codeStepWithKey(p: Page) {
    await new SignInPage(p).goto();
    await new SignInPage(p).submitCredentials(owner.username, owner.password);
    await arriveAt(p, '/login/code');
    await waitForHydration(p);
    await p.getByRole('button', { name: 'Use your security key', exact: true }).click();
  }

  await test.step('the owner adds a key and signs in with it', async () => {
    await new SignInPage(page).signIn(owner.username, owner.password);
    await new ProfilePage(page).goto();
    codes = await addKey(page, 'Desk key', owner.password);
    await new Header(page).signOut();
    await codeStepWithKey(page);
    await arriveAt(page, '/');
    await new Header(page).signOut();
  });

  await test.step('a copy of the key, with its counter behind, is refused and suspends the key', async () => {
    const { credentials } = await original.cdp.send('WebAuthn.getCredentials', {
      authenticatorId: original.authenticatorId,
    });
    expect(credentials).toHaveLength(1);
    expect(credentials[0].signCount).toBeGreaterThan(0);
    const thief = await browserWithKey(browser);
    await thief.cdp.send('WebAuthn.addCredential', {
      authenticatorId: thief.authenticatorId,
      credential: { ...credentials[0], signCount: 0 },
    });
    await codeStepWithKey(thief.page);
    await expect(thief.page.getByRole('alert').filter({ hasText: 'refused and suspended' })).toBeVisible();
    await expect(thief.page).toHaveURL(/\/login\/code$/);
    await thief.page.context().close();
  });

  await test.step('the original key is not asked for any more; a recovery code signs in', async () => {
    await codeStepWithKey(page);
    await expect(page.getByRole('alert').filter({ hasText: 'Your security key was suspended' })).toBeVisible();
    await page.screenshot({ path: '/tmp/e2e-security-key-suspended-code-step.png', fullPage: true });
    const codeStep = new CodeStepPage(page);
    await codeStep.recoveryCode.fill(codes[0]);
    await codeStep.verify.click();
    await arriveAt(page, '/');
    await new ProfilePage(page).goto();
    await expect(keys.list).toContainText('Suspended: it answered like a copy of itself');
    await expect(keys.card).toContainText('Your security key is suspended');
    await checkA11y(page, '/profile with a suspended security key');
    await page.screenshot({ path: '/tmp/e2e-security-key-suspended-profile.png', fullPage: true });
  });
});
