// User story (issue 5): someone who knows an admin's password guesses 2FA codes. After five
// wrong codes in a row the code step locks (HTTP 429, "Too many attempts. Try again in N
// seconds."), even for the right code, and the account's super admin is told at once: a toast
// on whatever page is open and a notification in the bell.
//
// Three browser contexts: A is the super admin with Admin Management open, B the admin's own
// browser (known: it completed a sign-in), C the attacker at the code step of the admin's sign-in
// from a browser the admin never used. The lock lasts 60 s by default; the test does not wait it
// out: it shows that it locks the attacker's browser, not the admin's own (issue 11).

import type { Page } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { createAccount, newAdminDetails } from './support/accounts';
import { checkA11y } from './support/axe';
import { firstSignInWith2fa, liveConnection, otherBrowser, signInToCodeStep } from './support/flows';
import { AdminManagementPage, CodeStepPage, Header, SignInPage } from './support/pages';
import { codeForStep, currentStep, wrongCode } from './support/totp';

const WRONG_CODE = 'That code is not correct. Check the time on your phone and try the current code.';
const TOO_MANY = /^Too many attempts\. Try again in (\d+) seconds\.$/;
/** Wrong codes in a row that lock the code step (MSSP_CODE_MAX_FAILURES, default 5). */
const MAX_FAILURES = 5;
/** The first lock in seconds (MSSP_CODE_LOCK_SECONDS, default 60). */
const LOCK_SECONDS = 60;

/** The unread count in the bell's accessible name. */
async function unreadCount(page: Page): Promise<number> {
  const label = (await new Header(page).bellButton.getAttribute('aria-label')) ?? '';
  const count = Number(/^Notifications, (\d+) unread$/.exec(label)?.[1] ?? NaN);
  expect(count, `bell label "${label}"`).not.toBeNaN();
  return count;
}

test('wrong 2FA codes lock the code step and the super admin is told live', async ({ page, browser }) => {
  const owner = createAccount('Lockout');
  const details = newAdminDetails('victor', 'Admin');
  const management = new AdminManagementPage(page);
  const header = new Header(page);

  await test.step('the super admin adds an admin and keeps Admin Management open', async () => {
    const live = liveConnection(page);
    await new SignInPage(page).signIn(owner.username, owner.password);
    await live;
    await header.administrationLink.click();
    await expect(page).toHaveURL(/\/admin\/admins$/);
    await expect(management.heading).toBeVisible();
    await management.addAdmin(details);
  });

  const own = await otherBrowser(browser);
  const pageB = await otherBrowser(browser);
  const codeStep = new CodeStepPage(pageB);
  const admin = await test.step('the admin turns on 2FA; an attacker with the password reaches the code step', async () => {
    const withTwoFactor = await firstSignInWith2fa(own, details);
    await new Header(own).signOut();
    await signInToCodeStep(pageB, withTwoFactor.username, withTwoFactor.chosenPassword);
    return withTwoFactor;
  });

  const toast = header.toast(`Repeated wrong 2FA codes for ${admin.name}`);
  const unreadBefore = await unreadCount(page);
  await page.evaluate(() => {
    (window as unknown as { __e2eNotReloaded: boolean }).__e2eNotReloaded = true;
  });

  await test.step(`${MAX_FAILURES} wrong codes: each is refused under the field`, async () => {
    for (let attempt = 1; attempt <= MAX_FAILURES; attempt++) {
      const answer = codeStep.nextVerifyResponse();
      await codeStep.submitCode(wrongCode(admin.secret));
      expect((await answer).status(), `HTTP status of wrong code ${attempt}`).toBe(422);
      await expect(codeStep.codeError, `wrong code ${attempt}`).toHaveText(WRONG_CODE);
      await expect(codeStep.code).toHaveAttribute('aria-invalid', 'true');
      await expect(codeStep.alert).toHaveCount(0);
      await expect(pageB).toHaveURL(/\/login\/code$/);
      if (attempt < MAX_FAILURES) {
        // Nothing for the super admin before the lock.
        await expect(toast).toHaveCount(0);
      }
    }
  });

  await test.step('the lock reaches the open Admin Management page live: toast and bell', async () => {
    // The toast shows for a few seconds only: look before anything else.
    await expect(toast).toBeVisible();
    await expect(toast).toContainText(
      `Repeated wrong 2FA codes for ${admin.name} (${admin.email}) from browsers they have not used before.`,
    );
    await expect(toast).toContainText('browsers they have signed in on are not affected');
    const adminId = await management.row(admin.email).getAttribute('data-admin-id');
    await expect(toast.getByRole('link', { name: 'Open', exact: true })).toHaveAttribute('href', `/admin/admins/${adminId}`);
    await expect(header.bellButton).toHaveAccessibleName(Header.bellLabel(unreadBefore + 1));
    const same = await page.evaluate(
      () => (window as unknown as { __e2eNotReloaded?: boolean }).__e2eNotReloaded === true,
    );
    expect(same, 'Admin Management was reloaded or navigated away').toBe(true);
    await page.screenshot({ path: '/tmp/e2e-lockout-toast.png', fullPage: true });

    await header.bellButton.click();
    await expect(header.bellPanel).toBeVisible();
    await expect(header.bellItems.first()).toContainText(`Repeated wrong 2FA codes for ${admin.name}`);
    await header.bellButton.click();
  });

  await test.step('the next attempt is refused with 429 "Too many attempts"', async () => {
    const answer = codeStep.nextVerifyResponse();
    await codeStep.submitCode(wrongCode(admin.secret));
    const response = await answer;
    expect(response.status(), 'HTTP status once locked').toBe(429);
    await expect(codeStep.alert).toHaveText(TOO_MANY);
    const seconds = Number(TOO_MANY.exec((await codeStep.alert.innerText()).trim())?.[1]);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(LOCK_SECONDS);
    const retryAfter = Number(response.headers()['retry-after']);
    expect(retryAfter, 'Retry-After header').toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(LOCK_SECONDS);
    // The message is about the step, not the field.
    await expect(codeStep.codeError).toHaveCount(0);
    await expect(pageB).toHaveURL(/\/login\/code$/);
    await checkA11y(pageB, '/login/code locked');
    await pageB.screenshot({ path: '/tmp/e2e-lockout.png', fullPage: true });
  });

  await test.step('while locked, even the right code is refused', async () => {
    // A code the server would accept: inside its one-step window and newer than the setup's.
    const step = Math.max(currentStep(), admin.lastStep + 1);
    const answer = codeStep.nextVerifyResponse();
    await codeStep.submitCode(codeForStep(admin.secret, step));
    expect((await answer).status(), 'HTTP status of the right code while locked').toBe(429);
    await expect(codeStep.alert).toHaveText(TOO_MANY);
    await expect(pageB).toHaveURL(/\/login\/code$/);
    // The bell was read; refused attempts while locked tell nobody again.
    await expect(header.bellButton).toHaveAccessibleName(Header.bellLabel(0));
  });

  await test.step("the admin's own browser is not locked: password and code sign in", async () => {
    const step = Math.max(currentStep(), admin.lastStep + 1);
    await signInToCodeStep(own, admin.username, admin.chosenPassword);
    const ownCodeStep = new CodeStepPage(own);
    await ownCodeStep.submitCode(codeForStep(admin.secret, step));
    await expect(own).toHaveURL(/\/$/);
    await expect(new Header(own).profileLink).toBeVisible();
    await own.screenshot({ path: '/tmp/e2e-lockout-own-browser.png', fullPage: true });
  });

  await test.step('the audit log has the five wrong codes and one lockout', async () => {
    const adminId = await management.row(admin.email).getAttribute('data-admin-id');
    expect(adminId).toMatch(/^\d+$/);
    const rows = async (query: string): Promise<string[]> => {
      const csv = await page.request.get(`/admin/audit.csv?${query}`);
      expect(csv.status(), `HTTP status of /admin/audit.csv?${query}`).toBe(200);
      return (await csv.text()).trim().split(/\r?\n/).slice(1);
    };
    const lockouts = await rows(`admin=${adminId}&event=lockout`);
    expect(lockouts, 'lockout events').toHaveLength(1);
    expect(lockouts[0]).toContain(admin.name);
    expect(lockouts[0]).toContain('repeated wrong 2FA codes');
    // Attempts refused by the lock are not counted as further failures.
    const wrong = (await rows(`admin=${adminId}&event=sign_in_failed`)).filter((l) => l.includes('wrong 2FA code'));
    expect(wrong, 'failed code attempts').toHaveLength(MAX_FAILURES);
  });
  await pageB.context().close();
  await own.context().close();
});
