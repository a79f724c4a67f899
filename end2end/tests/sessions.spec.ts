// User story (issue 5): an admin sees on the profile where they are signed in (device, address,
// when), and signs out other browsers: all at once, one by one, and by changing the password.
// Each browser is a context of its own (own cookies), like another computer.

import type { Locator, Page } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { chosenPassword, createAccount } from './support/accounts';
import { checkA11y } from './support/axe';
import { otherBrowser } from './support/flows';
import { arriveAt, DashboardPage, Header, ProfilePage, SignInPage } from './support/pages';

const ADDRESS = '127.0.0.1';
const TIME = '\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC';
const DETAILS = new RegExp(`^${ADDRESS.replace(/\./g, '\\.')} · signed in ${TIME} · last seen ${TIME}$`);
/** Playwright's Chromium; its user agent says "HeadlessChrome" or "Chrome", on Linux. */
const CHROMIUM_DEVICE = /^(Headless )?Chrome on Linux$/;

/** Another browser on another system, told apart in the list by its user agent. */
const FIREFOX_ON_WINDOWS = {
  userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0',
  device: 'Firefox on Windows',
};

/** Signs in (an admin without 2FA) in `page` and waits for the dashboard. */
async function signInThere(page: Page, identifier: string, password: string, name: string): Promise<void> {
  await new SignInPage(page).signIn(identifier, password);
  await expect(new DashboardPage(page).welcome(name)).toBeVisible();
}

/** The page of a signed-out browser: its next visit to /profile lands on sign-in. */
async function expectSignedOut(page: Page, what: string): Promise<void> {
  await page.goto('/profile');
  await expect(page, `${what} should be signed out`).toHaveURL(/\/login$/);
  await expect(new SignInPage(page).heading).toBeVisible();
}

async function expectStillSignedIn(page: Page, what: string): Promise<void> {
  const profile = new ProfilePage(page);
  await page.goto('/profile');
  await expect(page, `${what} should still be signed in`).toHaveURL(/\/profile$/);
  await expect(profile.heading).toBeVisible();
}

/** An item of the list shows its device, address and times. */
async function expectSessionItem(item: Locator, device: string | RegExp): Promise<void> {
  await expect(item.locator('strong')).toHaveText(device);
  await expect(item.locator('p.hint')).toHaveText(DETAILS);
}

test('an admin sees where they are signed in and signs other browsers out', async ({ page, browser }) => {
  const admin = createAccount('Sessions');
  const profile = new ProfilePage(page);
  const sessions = profile.sessionsCard;
  // A: this browser, where the admin manages their sessions.
  await signInThere(page, admin.username, admin.password, admin.name);

  await test.step('signed in twice: the profile lists two sessions, one is "This browser"', async () => {
    const pageB = await otherBrowser(browser);
    await signInThere(pageB, admin.email, admin.password, admin.name);

    await new Header(page).profileLink.click();
    await expect(page).toHaveURL(/\/profile$/);
    await expect(sessions.card.getByRole('heading', { level: 2, name: 'Where you are signed in' })).toBeVisible();
    await expect(sessions.items).toHaveCount(2);
    await expect(sessions.current).toHaveCount(1);
    await expect(sessions.others).toHaveCount(1);
    await expectSessionItem(sessions.current, CHROMIUM_DEVICE);
    await expectSessionItem(sessions.others, CHROMIUM_DEVICE);
    // Only other sessions can be signed out from here.
    await expect(sessions.current.getByRole('button')).toHaveCount(0);
    const device = (await sessions.device(sessions.others).innerText()).trim();
    await expect(sessions.others.getByRole('button')).toHaveAccessibleName(`Sign out ${device} (${ADDRESS})`);
    await expect(sessions.signOutOthersButton).toBeVisible();
    await checkA11y(page, '/profile with two sessions');

    await test.step('"Sign out all other sessions" signs B out', async () => {
      await sessions.signOutOthersButton.click();
      await expect(sessions.items).toHaveCount(1);
      await expect(sessions.current).toHaveCount(1);
      await expect(sessions.signOutOthersButton).toHaveCount(0);
      await expect(sessions.alert).toHaveCount(0);
      await expectSignedOut(pageB, 'B after "Sign out all other sessions"');
      // A is untouched.
      await expectStillSignedIn(page, 'A');
      await expect(sessions.items).toHaveCount(1);
    });
    await pageB.context().close();
  });

  await test.step('one other session is signed out with its own "Sign out" button', async () => {
    const pageB = await otherBrowser(browser);
    const pageC = await otherBrowser(browser, { userAgent: FIREFOX_ON_WINDOWS.userAgent });
    await signInThere(pageB, admin.username, admin.password, admin.name);
    await signInThere(pageC, admin.username, admin.password, admin.name);

    await profile.goto();
    await expect(sessions.items).toHaveCount(3);
    const itemC = sessions.item(FIREFOX_ON_WINDOWS.device, ADDRESS);
    await expect(itemC).toHaveCount(1);
    await expectSessionItem(itemC, FIREFOX_ON_WINDOWS.device);
    await page.screenshot({ path: '/tmp/e2e-sessions.png', fullPage: true });
    await sessions.endButton(FIREFOX_ON_WINDOWS.device, ADDRESS).click();
    await expect(sessions.items).toHaveCount(2);
    await expect(itemC).toHaveCount(0);
    await expect(sessions.current).toHaveCount(1);
    await expect(sessions.alert).toHaveCount(0);

    await expectSignedOut(pageC, 'C after its "Sign out"');
    // Only C: B stays signed in.
    await expectStillSignedIn(pageB, 'B');
    await pageC.context().close();

    await test.step('changing the password signs B out too', async () => {
      const newPassword = chosenPassword();
      await profile.goto();
      await expect(sessions.items).toHaveCount(2);
      await profile.passwordCard.change(admin.password, newPassword);
      await expect(profile.status).toHaveText('Password changed. Your other sessions have been signed out.');
      await expect(profile.passwordCard.currentPassword).toHaveValue('');
      await expectSignedOut(pageB, 'B after the password change');

      // A keeps going (with a new session id) and is alone in the list.
      await expectStillSignedIn(page, 'A after the password change');
      await expect(sessions.items).toHaveCount(1);
      await expect(sessions.current).toHaveCount(1);

      // The old password no longer signs in; the new one does.
      const signInB = new SignInPage(pageB);
      await signInB.goto();
      await signInB.submitCredentials(admin.username, admin.password);
      await expect(signInB.alert).toHaveText('Wrong email, username or password.');
      await signInB.submitCredentials(admin.username, newPassword);
      await arriveAt(pageB, '/');
      await expect(new DashboardPage(pageB).welcome(admin.name)).toBeVisible();
      await pageB.context().close();
    });
  });
});
