// User story (issue 12): the super admin of a large MSSP (10,000 admins) finds a new 2FA reset
// request from the toast in one click, judges it from the evidence in a confirmation dialog
// (Escape cancels), and decides; the requester learns the outcome by email too. A sole super
// admin is told nobody can approve. Live updates never wipe a half-filled form, the page
// catches up after its server restarts, and a super admin on a 390 px phone approves from the
// card list; no page scrolls sideways at 360 px.

import type { Browser, Page } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { createAccount, newAdminDetails, seedAdmins } from './support/accounts';
import { checkA11y } from './support/axe';
import {
  firstSignInWith2fa,
  liveConnection,
  otherBrowser,
  signInToCodeStep,
  turnOnTwoFactor,
} from './support/flows';
import { mailTo } from './support/mail';
import {
  AdminManagementPage,
  arriveAt,
  CodeStepPage,
  EditAdminPage,
  Header,
  SignInPage,
  waitForHydration,
} from './support/pages';
import { startServer } from './support/server';

/** An admin added by the super admin of `management`, with 2FA, signed out. */
async function adminWith2fa(
  browser: Browser,
  management: AdminManagementPage,
  firstName: string,
  base?: string,
): Promise<{ page: Page; name: string; email: string; password: string }> {
  const details = newAdminDetails(firstName, 'Admin');
  await management.addAdmin(details);
  const page = await otherBrowser(browser, base ? { baseURL: base } : {});
  const admin = await firstSignInWith2fa(page, details);
  await new Header(page).signOut();
  return { page, name: admin.name, email: admin.email, password: admin.chosenPassword };
}

/** The admin signs in to the code step and asks for a reset. */
async function requestReset(admin: { page: Page; email: string; password: string }): Promise<void> {
  await signInToCodeStep(admin.page, admin.email, admin.password);
  const codeStep = new CodeStepPage(admin.page);
  await codeStep.requestResetButton.click();
  await expect(codeStep.resetStatus).toContainText('Your super admin has been notified.');
}

/** An admin of the account with 2FA, waiting at the code step with a reset requested. */
async function requesterWaiting(
  browser: Browser,
  management: AdminManagementPage,
  firstName: string,
): Promise<{ page: Page; name: string; email: string }> {
  const admin = await adminWith2fa(browser, management, firstName);
  await requestReset(admin);
  return admin;
}

test('with 10,000 admins the super admin finds the request from the toast and judges it', async ({ page, browser }) => {
  test.setTimeout(300_000);
  const owner = createAccount('Large');
  let setupCode = '';
  await test.step('the account has 10,000 admins', async () => {
    seedAdmins(owner.email, 10_000);
  });
  const management = new AdminManagementPage(page);
  const header = new Header(page);
  const live = liveConnection(page);
  await new SignInPage(page).signIn(owner.username, owner.password);
  await live;
  await management.goto();
  await expect(management.pageInfo).toHaveText('Page 1 of 401 · 10,001 admins'.replace(',', ''));

  await test.step('Next and Previous continue from the rows shown (no row twice, none skipped)', async () => {
    await management.goto('?sort=email&dir=asc');
    const first = await management.emails();
    await management.nextPage.click();
    await expect(page).toHaveURL(/page=2&after=\d+$/);
    await expect(management.pageInfo).toHaveText('Page 2 of 401 · 10001 admins');
    await expect(management.rows.first()).not.toContainText(first[0]);
    const second = await management.emails();
    await management.nextPage.click();
    await expect(page).toHaveURL(/page=3&after=\d+$/);
    await expect(management.rows.first()).not.toContainText(second[0]);
    const third = await management.emails();
    // The same rows as counting from the top would give, in order.
    const all = [...first, ...second, ...third];
    expect(all).toEqual([...all].sort());
    expect(new Set(all).size).toBe(75);
    await management.previousPage.click();
    await expect(page).toHaveURL(/page=2&before=\d+$/);
    await expect(management.pageInfo).toHaveText('Page 2 of 401 · 10001 admins');
    await expect(management.rows.first()).toContainText(second[0]);
    expect(await management.emails()).toEqual(second);
    await page.screenshot({ path: '/tmp/e2e-scale-page2.png', fullPage: false });
    await management.previousPage.click();
    await expect(page).toHaveURL(/\/admin\/admins\?sort=email&dir=asc$/);
    await expect(management.rows.first()).toContainText(first[0]);
    await management.goto();
  });

  const requester = await test.step('an admin named late in the alphabet asks for a reset', async () => {
    return requesterWaiting(browser, management, 'zoe');
  });

  await test.step('one click on the toast opens the request', async () => {
    const toast = header.toast(`${requester.name} requested a 2FA reset.`);
    await expect(toast).toBeVisible();
    await page.screenshot({ path: '/tmp/e2e-scale-toast.png', fullPage: false });
    await toast.getByRole('link', { name: 'Review the request', exact: true }).click();
    const edit = new EditAdminPage(page);
    await expect(page).toHaveURL(/\/admin\/admins\/\d+$/);
    await expect(edit.pendingPanel).toBeVisible();
    await expect(edit.resetButton(requester.name)).toBeVisible();
    await checkA11y(page, '/admin/admins/{id} with a pending request');
    await page.screenshot({ path: '/tmp/e2e-scale-edit.png', fullPage: true });
  });

  await test.step('Admin Management lists it first, and "Pending resets (1)" shows it alone', async () => {
    await management.goto();
    await expect(management.rows.first()).toContainText(requester.name);
    await expect(management.pendingFilter).toHaveText('Pending resets (1)');
    await management.pendingFilter.click();
    await expect(page).toHaveURL(/pending=1/);
    await expect(management.rows).toHaveCount(1);
    await expect(management.pageInfo).toHaveText('Page 1 of 1 · 1 admin with a pending reset request');
    await page.screenshot({ path: '/tmp/e2e-scale-pending.png', fullPage: true });
  });

  await test.step('the dialog shows the evidence; Escape cancels; Reset says what happens next', async () => {
    await management.resetButton(requester.name).click();
    const dialog = management.reviewDialog;
    await expect(dialog).toContainText(`${requester.name} (${requester.email})`);
    await expect(dialog).toContainText('127.0.0.1');
    await expect(dialog).toContainText('before');
    await page.keyboard.press('Escape');
    await expect(dialog).toHaveCount(0);
    await expect(management.resetBadge(requester.email)).toBeVisible();
    await management.resetButton(requester.name).click();
    await management.confirmReset.click();
    await expect(management.notice).toContainText('must set up two-factor authentication again');
    setupCode = (await management.setupCode.innerText()).trim();
  });

  await test.step('the requester is told by email, and so was the super admin of the request', async () => {
    await mailTo(owner.email, `${requester.name} (${requester.email}) lost access to their authenticator app`);
    const mail = await mailTo(requester.email, 'Your two-factor authentication was reset');
    expect(mail).toContain('set it up again at your next sign-in');
    // The setup code comes another way: the email says so and never carries it.
    expect(mail).toContain('asks for a setup code');
    expect(setupCode).not.toBe('');
    expect(mail).not.toContain(setupCode);
    await expect(new CodeStepPage(requester.page).resetStatus).toContainText('Your super admin reset your two-factor authentication.');
    await requester.page.context().close();
  });
});

test("a sole super admin's request says nobody can approve it", async ({ page }) => {
  const owner = createAccount('Sole');
  await new SignInPage(page).signIn(owner.username, owner.password);
  await turnOnTwoFactor(page, owner.password);
  await new Header(page).signOut();
  await signInToCodeStep(page, owner.username, owner.password);
  const codeStep = new CodeStepPage(page);
  await codeStep.requestResetButton.click();
  await expect(codeStep.resetAlert).toContainText('No request was sent: you are the only super admin of your account');
  await expect(codeStep.resetAlert).toContainText('recovery codes');
  await expect(codeStep.resetAlert).toContainText('mssp-dashboard reset-2fa');
  await checkA11y(page, '/login/code, nobody can approve');
  await page.screenshot({ path: '/tmp/e2e-sole-super-admin.png', fullPage: true });
});

test('live events keep a half-filled form, and the page catches up after its server restarts', async ({ page, browser }) => {
  test.setTimeout(240_000);
  // A server of this story's own, on the suite's database: it is stopped and started again.
  const port = 3100 + (process.pid % 500);
  let own = await startServer(port);
  const owner = createAccount('Restart');
  const management = new AdminManagementPage(page);
  const live = liveConnection(page);
  await page.goto(`${own.baseURL}/login`);
  await waitForHydration(page);
  await new SignInPage(page).submitCredentials(owner.username, owner.password);
  await arriveAt(page, '/');
  await live;
  await page.goto(`${own.baseURL}/admin/admins`);
  await waitForHydration(page);
  await expect(management.heading).toBeVisible();
  // One admin signs in through this server, the other through the suite's main one.
  const first = await adminWith2fa(browser, management, 'yuri', own.baseURL);
  const second = await adminWith2fa(browser, management, 'xena');

  await test.step('a half-filled "Add admin" and a typed search survive a live event', async () => {
    await management.addAdminButton.click();
    await management.addEmail.fill('half.filled@example.test');
    await management.addName.fill('Half Filled');
    await management.searchField.fill('typed, not sent');
    await requestReset(first);
    // The request arrives live; nothing typed is lost.
    await expect(management.resetBadge(first.email)).toBeVisible();
    await expect(management.addEmail).toHaveValue('half.filled@example.test');
    await expect(management.addName).toHaveValue('Half Filled');
    await expect(management.searchField).toHaveValue('typed, not sent');
    await page.screenshot({ path: '/tmp/e2e-live-keeps-form.png', fullPage: true });
  });

  await test.step('the server stops: the page says live updates are paused', async () => {
    await own.stop();
    await expect(page.getByText('Live updates paused: reconnecting…')).toBeVisible({ timeout: 20_000 });
    await page.screenshot({ path: '/tmp/e2e-live-paused.png', fullPage: true });
  });

  await test.step('a request made meanwhile (on another instance) shows once it is back', async () => {
    await requestReset(second);
    own = await startServer(port);
    await expect(page.getByText('Live updates paused: reconnecting…')).toHaveCount(0, { timeout: 30_000 });
    await expect(management.resetBadge(second.email)).toBeVisible();
    await expect(management.addEmail).toHaveValue('half.filled@example.test');
    await page.screenshot({ path: '/tmp/e2e-live-caught-up.png', fullPage: true });
  });
  await first.page.context().close();
  await second.page.context().close();
  await own.stop();
});

test('on a 390 px phone the super admin approves a request from the card list', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  const phone = await context.newPage();
  const owner = createAccount('Phone');
  const management = new AdminManagementPage(phone);
  const live = liveConnection(phone);
  await phone.goto('/login');
  await waitForHydration(phone);
  await new SignInPage(phone).submitCredentials(owner.username, owner.password);
  await arriveAt(phone, '/');
  await live;
  await management.goto();
  const requester = await requesterWaiting(browser, management, 'wanda');

  const reset = phone.getByRole('button', { name: `Reset 2FA of ${requester.name}`, exact: true });
  await expect(reset).toBeVisible();
  await reset.scrollIntoViewIfNeeded();
  const box = await reset.boundingBox();
  // On screen without sideways scrolling, and big enough for a finger.
  expect(box && box.x >= 0 && box.x + box.width <= 390, `Reset at ${JSON.stringify(box)}`).toBe(true);
  expect(box && box.height >= 44 && box.width >= 44, `touch target ${JSON.stringify(box)}`).toBe(true);
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  expect(width, 'Admin Management scrolls sideways').toBeLessThanOrEqual(390);
  await phone.screenshot({ path: '/tmp/e2e-phone-cards.png', fullPage: true });
  await checkA11y(phone, '/admin/admins at 390 px');

  await reset.click();
  await expect(management.reviewDialog).toBeVisible();
  await phone.screenshot({ path: '/tmp/e2e-phone-dialog.png', fullPage: false });
  await management.confirmReset.click();
  await expect(management.notice).toContainText(`2FA of ${requester.name} was reset`);
  const firstCode = (await management.setupCode.innerText()).trim();
  const adminId = await management.row(requester.email).getAttribute('data-admin-id');
  await requester.page.context().close();

  await test.step('the Edit page gives a new setup code when the first is lost', async () => {
    await phone.goto(`/admin/admins/${adminId}`);
    await waitForHydration(phone);
    const card = phone.getByRole('region', { name: 'Setup code' });
    await expect(card).toContainText(`Their next sign-in asks for the setup code you gave them`);
    await card.getByRole('button', { name: 'New setup code', exact: true }).click();
    const notice = phone.locator('main .notice-slot[role="status"]');
    await expect(notice).toContainText(`A new setup code for ${requester.name}`);
    const newCode = notice.getByTestId('setup-code');
    await expect(newCode).toHaveText(/^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/);
    expect((await newCode.innerText()).trim()).not.toBe(firstCode);
    await expect(notice).toBeFocused();
    await phone.screenshot({ path: '/tmp/e2e-phone-new-setup-code.png', fullPage: true });
    await checkA11y(phone, '/admin/admins/{id} with a new setup code at 390 px');
  });

  await test.step('no page scrolls sideways at 360 px', async () => {
    await phone.setViewportSize({ width: 360, height: 780 });
    for (const path of ['/', '/profile', '/admin/admins', `/admin/admins/${adminId}`, '/admin/settings', '/admin/audit']) {
      await phone.goto(path);
      await waitForHydration(phone);
      const scroll = await phone.evaluate(() => document.documentElement.scrollWidth);
      expect(scroll, `${path} is ${scroll} px wide at 360 px`).toBeLessThanOrEqual(360);
    }
    await new Header(phone).signOut();
    for (const path of ['/login']) {
      await phone.goto(path);
      await waitForHydration(phone);
      const scroll = await phone.evaluate(() => document.documentElement.scrollWidth);
      expect(scroll, `${path} is ${scroll} px wide at 360 px`).toBeLessThanOrEqual(360);
    }
  });
  await context.close();
});
