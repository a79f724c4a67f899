// User story (issue 5): an admin who turns on 2FA gets ten recovery codes, shown once, to write
// down or download. If they lose their phone, one of them signs them in once instead of a 2FA
// code; the profile counts what is left, the bell says a code was used, and a used code never
// works again. New codes (asked for with a current 2FA code) replace all the old ones.

import fs from 'node:fs';
import { expect, test } from './support/fixtures';
import { createAccount } from './support/accounts';
import { checkA11y } from './support/axe';
import {
  arriveAt,
  CodeStepPage,
  DashboardPage,
  Header,
  ProfilePage,
  RECOVERY_CODE,
  RecoveryCodesPanel,
  SignInPage,
} from './support/pages';
import { freshCode } from './support/totp';

const USED_OR_WRONG = 'That recovery code is not valid or was already used.';

/** How a person might type a code: lower case, a space instead of the dash. */
function typedCasually(code: string): string {
  return code.toLowerCase().replace('-', ' ');
}

test('recovery codes: shown once, each signs in once, new ones replace the old', async ({ page }) => {
  const admin = createAccount('Recovery');
  const signIn = new SignInPage(page);
  const codeStep = new CodeStepPage(page);
  const profile = new ProfilePage(page);
  const header = new Header(page);
  const panel = new RecoveryCodesPanel(page);
  const card = profile.recoveryCard;

  let secret = '';
  let setupStep = 0;
  let codes: string[] = [];
  await test.step('turning on 2FA shows ten recovery codes to save', async () => {
    await signIn.signIn(admin.username, admin.password);
    await profile.goto();
    // Without 2FA there is nothing to recover.
    await expect(card.card).toHaveCount(0);
    await profile.startSetup(admin.password);
    await expect(profile.secret).toHaveText(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
    secret = (await profile.secret.innerText()).trim();
    const fresh = await freshCode(secret);
    setupStep = fresh.step;
    await profile.submitSetupCode(fresh.code);

    await expect(profile.setupDone).toHaveText('Two-factor authentication is on.');
    await expect(panel.group).toBeVisible();
    await expect(panel.codeTexts).toHaveCount(10);
    codes = await panel.read();
    for (const code of codes) expect(code).toMatch(RECOVERY_CODE);
    expect(new Set(codes).size, 'the ten codes differ').toBe(10);
    await expect(panel.downloadLink).toBeVisible();
    await expect(panel.savedButton).toBeVisible();
    // Shown only now: the card with the count waits until they are saved.
    await expect(card.card).toHaveCount(0);
    await checkA11y(page, '/profile with the recovery codes shown');
    await page.screenshot({ path: '/tmp/e2e-recovery-codes.png', fullPage: true });
  });

  await test.step('"Download" saves the same ten codes as a text file', async () => {
    const downloading = page.waitForEvent('download');
    await panel.downloadLink.click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/\.txt$/);
    const text = fs.readFileSync(await download.path(), 'utf8');
    for (const code of codes) expect(text, 'the downloaded file').toContain(code);
    // Still on the page, codes still shown.
    await expect(panel.codeTexts).toHaveCount(10);
  });

  await test.step('after "I have saved…" the profile counts 10 codes left', async () => {
    await panel.savedButton.click();
    await expect(panel.group).toBeHidden();
    await expect(profile.status).toContainText('Two-factor authentication is on');
    await expect(card.card).toBeVisible();
    await expect(card.left).toHaveText('10');
    await expect(card.card).toContainText('10 of 10 recovery codes left.');
    // The codes are shown once: a reload does not show them again.
    await profile.goto();
    await expect(panel.group).toHaveCount(0);
    await expect(page.getByText(codes[0])).toHaveCount(0);
    await expect(card.left).toHaveText('10');
  });

  let unreadBefore = 0;
  await test.step('signing in with a recovery code typed casually', async () => {
    const label = (await header.bellButton.getAttribute('aria-label')) ?? '';
    unreadBefore = Number(/(\d+) unread/.exec(label)?.[1] ?? NaN);
    expect(unreadBefore, `bell label "${label}"`).not.toBeNaN();

    await header.signOut();
    await signIn.submitCredentials(admin.email, admin.password);
    await arriveAt(page, '/login/code');
    await expect(codeStep.code).toBeVisible();
    await codeStep.useRecoveryCodeButton.click();
    await expect(codeStep.recoveryCode).toBeVisible();
    await expect(codeStep.code).toHaveCount(0);
    await expect(codeStep.recoveryCode).toHaveAccessibleDescription(/One of the codes you saved/);
    await expect(codeStep.useAuthenticatorButton).toBeVisible();
    await checkA11y(page, '/login/code asking for a recovery code');

    await codeStep.recoveryCode.fill(typedCasually(codes[0]));
    await codeStep.verify.click();
    await arriveAt(page, '/');
    await expect(new DashboardPage(page).welcome(admin.name)).toBeVisible();
  });

  await test.step('the profile counts 9 left; the bell says a recovery code was used', async () => {
    await profile.goto();
    await expect(card.left).toHaveText('9');
    await expect(card.card).toContainText('9 of 10 recovery codes left.');
    await page.screenshot({ path: '/tmp/e2e-profile-hardened.png', fullPage: true });

    await expect(header.bellButton).toHaveAccessibleName(Header.bellLabel(unreadBefore + 1));
    await header.bellButton.click();
    await expect(header.bellPanel).toBeVisible();
    await expect(header.bellItems.first()).toContainText('A recovery code was used');
    await expect(header.bellItems.first()).toContainText('9 left');
    await header.bellButton.click();
  });

  await test.step('a used recovery code is refused at the next sign-in', async () => {
    await header.signOut();
    await signIn.submitCredentials(admin.username, admin.password);
    await arriveAt(page, '/login/code');
    await codeStep.submitRecoveryCode(codes[0]);
    await expect(codeStep.codeError).toHaveText(USED_OR_WRONG);
    await expect(codeStep.recoveryCode).toHaveAttribute('aria-invalid', 'true');
    await expect(codeStep.recoveryCode).toHaveAccessibleDescription(new RegExp(USED_OR_WRONG.replace('.', '\\.')));
    await expect(page).toHaveURL(/\/login\/code$/);

    // Another one, as printed, works.
    await codeStep.submitRecoveryCode(codes[1]);
    await arriveAt(page, '/');
    await expect(new DashboardPage(page).welcome(admin.name)).toBeVisible();
    await profile.goto();
    await expect(card.left).toHaveText('8');
  });

  let newCodes: string[] = [];
  await test.step('"Get new recovery codes" asks for a 2FA code and shows ten new codes', async () => {
    await expect(card.code).toBeHidden();
    await card.getNewCodesButton.click();
    await expect(card.code).toBeVisible();
    await expect(card.code).toHaveAccessibleDescription(/New codes replace all the old ones\./);
    await expect(card.createButton).toBeVisible();

    // The authenticator's code for a step after the one the setup used.
    const { code } = await freshCode(secret, setupStep);
    await card.regenerate(code);
    await expect(card.panel.codeTexts).toHaveCount(10);
    newCodes = await card.panel.read();
    for (const c of newCodes) expect(c).toMatch(RECOVERY_CODE);
    expect(new Set(newCodes).size).toBe(10);
    expect(newCodes.filter((c) => codes.includes(c)), 'new codes repeat old ones').toEqual([]);
    await checkA11y(page, '/profile with new recovery codes shown');

    await card.panel.savedButton.click();
    await expect(profile.status).toHaveText('New recovery codes saved. The old ones no longer work.');
    await expect(card.panel.group).toBeHidden();
    await expect(card.left).toHaveText('10');
  });

  await test.step('an old, unused code no longer works; a new one does', async () => {
    await header.signOut();
    await signIn.submitCredentials(admin.username, admin.password);
    await arriveAt(page, '/login/code');
    await codeStep.submitRecoveryCode(codes[2]);
    await expect(codeStep.codeError).toHaveText(USED_OR_WRONG);
    await expect(page).toHaveURL(/\/login\/code$/);

    await codeStep.submitRecoveryCode(newCodes[0]);
    await arriveAt(page, '/');
    await profile.goto();
    await expect(card.left).toHaveText('9');
  });
});
