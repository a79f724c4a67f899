// User story: pages are only for signed-in admins, and the administration pages only for the
// account's super admin. The server enforces this before rendering (a redirect), so these tests
// request the pages directly instead of clicking through the UI.

import { expect, test } from '@playwright/test';
import { createAccount } from './support/accounts';
import { checkA11y } from './support/axe';
import { AdministrationPage, Header, SignInPage } from './support/pages';

test('signed out, every page sends to sign-in', async ({ page }) => {
  for (const path of ['/', '/profile', '/admin', '/login/code']) {
    await page.goto(path);
    await expect(page, `${path} while signed out`).toHaveURL(/\/login$/);
    await expect(new SignInPage(page).heading).toBeVisible();
  }
});

test('the super admin sees the account overview on /admin', async ({ page }) => {
  const admin = createAccount('Access');
  const signIn = new SignInPage(page);
  const administration = new AdministrationPage(page);
  const header = new Header(page);

  await signIn.signIn(admin.email, admin.password);
  await header.administrationLink.click();
  await expect(page).toHaveURL(/\/admin$/);
  await expect(administration.heading).toBeVisible();
  await expect(page.getByText(admin.accountName, { exact: true })).toBeVisible();
  // A fresh account: its super admin alone, active, without 2FA.
  await expect(administration.stat('Admins')).toHaveText('1');
  await expect(administration.stat('Active')).toHaveText('1');
  await expect(administration.stat('With 2FA active')).toHaveText('0');
  await checkA11y(page, '/admin');
  await page.screenshot({ path: '/tmp/e2e-admin.png', fullPage: true });

  // Signing out ends the access: the same address now goes to sign-in.
  await header.signOut();
  await page.goto('/admin');
  await expect(page).toHaveURL(/\/login$/);
  await expect(signIn.heading).toBeVisible();
});

// Plain admins are created in a later issue; this story waits for it.
test.fixme('a plain admin does not see Administration and /admin refuses them', async () => {});
