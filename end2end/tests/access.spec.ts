// User story: pages are only for signed-in admins, and the administration pages only for the
// account's super admin. The server enforces this before rendering (a redirect or HTTP 403), so
// these tests request the pages directly instead of clicking through the UI.

import { expect, test } from './support/fixtures';
import { chosenPassword, createAccount, newAdminDetails } from './support/accounts';
import { checkA11y } from './support/axe';
import {
  AdminManagementPage,
  arriveAt,
  DashboardPage,
  Header,
  NewPasswordPage,
  SignInPage,
  waitForHydration,
} from './support/pages';

const SUPER_ADMIN_ONLY = 'Only the super admin of this account can use Administration.';

test('signed out, every page sends to sign-in', async ({ page }) => {
  for (const path of [
    '/',
    '/profile',
    '/admin',
    '/admin/admins',
    '/admin/admins/1',
    '/admin/settings',
    '/login/code',
    '/login/setup-code',
    '/login/new-password',
    '/login/setup-2fa',
  ]) {
    await page.goto(path);
    await expect(page, `${path} while signed out`).toHaveURL(/\/login$/);
    await expect(new SignInPage(page).heading).toBeVisible();
  }
});

test('the super admin of a fresh account sees themselves alone in Admin Management', async ({ page }) => {
  const admin = createAccount('Access');
  const signIn = new SignInPage(page);
  const management = new AdminManagementPage(page);
  const header = new Header(page);

  await signIn.signIn(admin.email, admin.password);
  // Every signed-in admin has the notification bell; nothing has happened yet.
  await expect(header.bellButton).toHaveAccessibleName(Header.bellLabel(0));
  await expect(header.administrationLink).not.toHaveAttribute('aria-current', 'page');
  // The header link goes straight to Admin Management.
  await expect(header.administrationLink).toHaveAttribute('href', '/admin/admins');
  await header.administrationLink.click();
  await expect(page).toHaveURL(/\/admin\/admins$/);
  await expect(management.heading).toBeVisible();
  await expect(management.adminNav.adminManagementLink).toBeVisible();
  await expect(management.adminNav.settingsLink).toBeVisible();
  await expect(header.administrationLink).toHaveAttribute('aria-current', 'page');

  // A fresh account: its super admin alone, active, without 2FA, not forced to set it up.
  await expect(management.chartImage).toHaveAttribute('aria-label', management.chartSummary(0, 1, 0, 1));
  await expect(management.rows).toHaveCount(1);
  // The username sits under the name, not in a column of its own.
  await expect(management.table.getByRole('columnheader')).toHaveText(
    ['Name', 'Email', 'Role', '2FA Activation', 'Enforce 2FA', 'Last sign-in'].map(
      (name) => new RegExp(`^${name}( [▲▼])?$`),
    ).concat([/^Actions$/]),
  );
  await expect(management.columnHeader('Username')).toHaveCount(0);
  const row = management.row(admin.email);
  await expect(row.locator('td').first().locator('span.cell-name')).toHaveText(admin.name);
  await expect(row.locator('td').first().locator('span.cell-username')).toHaveText(admin.username);
  await expect(row).toContainText('Super admin');
  await expect(management.twoFactorCell(admin.email)).toHaveText('Not set up');
  await expect(management.enforceCell(admin.email)).toHaveText('No · account setting');
  // They just signed in.
  await expect(row.locator('td.cell-time')).not.toHaveText('Never');
  await expect(management.pageInfo).toHaveText('Page 1 of 1 · 1 admin');
  await checkA11y(page, '/admin/admins (fresh account)');
  await page.screenshot({ path: '/tmp/e2e-admin.png', fullPage: true });

  // "Administration" stays current on its other pages.
  await management.adminNav.settingsLink.click();
  await expect(page).toHaveURL(/\/admin\/settings$/);
  await expect(header.administrationLink).toHaveAttribute('aria-current', 'page');

  // The old address /admin answers with a redirect (303) to Admin Management.
  const redirect = await page.request.get('/admin', { maxRedirects: 0 });
  expect(redirect.status(), 'HTTP status of /admin').toBe(303);
  expect(redirect.headers()['location']).toBe('/admin/admins');
  await page.goto('/admin');
  await expect(page).toHaveURL(/\/admin\/admins$/);
  await waitForHydration(page);
  await expect(management.heading).toBeVisible();

  // Signing out ends the access: the same address now goes to sign-in.
  await header.signOut();
  await page.goto('/admin/admins');
  await expect(page).toHaveURL(/\/login$/);
  await expect(signIn.heading).toBeVisible();
});

test('a plain admin does not see Administration and its pages refuse them', async ({ page }) => {
  const owner = createAccount('Plain');
  const plain = newAdminDetails('plain', 'Admin');
  const signIn = new SignInPage(page);
  const management = new AdminManagementPage(page);
  const header = new Header(page);
  const newPassword = new NewPasswordPage(page);
  const dashboard = new DashboardPage(page);

  let ownerId = '';
  await test.step('the super admin adds a plain admin', async () => {
    await signIn.signIn(owner.email, owner.password);
    await management.goto();
    await management.addAdmin(plain);
    await expect(management.row(plain.email)).toContainText('Admin');
    ownerId = (await management.row(owner.email).getAttribute('data-admin-id')) ?? '';
    expect(ownerId).toMatch(/^\d+$/);
    await header.signOut();
  });

  await test.step('the plain admin signs in without an Administration link', async () => {
    await signIn.submitCredentials(plain.username, plain.password);
    await arriveAt(page, '/login/new-password');
    await newPassword.choose(chosenPassword());
    await arriveAt(page, '/');
    await expect(dashboard.welcome(plain.name)).toBeVisible();
    await expect(header.profileLink).toBeVisible();
    await expect(header.administrationLink).toHaveCount(0);
    // The bell is there for every signed-in admin.
    await expect(header.bellButton).toHaveAccessibleName(Header.bellLabel(0));
  });

  await test.step('Administration answers 403 with an explanation', async () => {
    for (const path of ['/admin/admins', '/admin/settings', `/admin/admins/${ownerId}`]) {
      const response = await page.goto(path);
      expect(response?.status(), `HTTP status of ${path}`).toBe(403);
      await expect(page, path).toHaveURL(new RegExp(`${path.replace(/\//g, '\\/')}$`));
      await waitForHydration(page);
      await expect(page.getByRole('alert'), path).toHaveText(SUPER_ADMIN_ONLY);
      // No admin data leaks onto the page.
      await expect(page.getByRole('table'), path).toHaveCount(0);
      await expect(page.getByText(owner.email), path).toHaveCount(0);
    }
    await checkA11y(page, '/admin/admins/{id} refused');

    // /admin sends on (303) to Admin Management, which refuses and explains.
    const redirect = await page.request.get('/admin', { maxRedirects: 0 });
    expect(redirect.status(), 'HTTP status of /admin').toBe(303);
    expect(redirect.headers()['location']).toBe('/admin/admins');
    const response = await page.goto('/admin');
    expect(response?.status(), 'HTTP status of /admin after the redirect').toBe(403);
    await expect(page).toHaveURL(/\/admin\/admins$/);
    await waitForHydration(page);
    await expect(page.getByRole('alert')).toHaveText(SUPER_ADMIN_ONLY);
    await expect(page.getByRole('table')).toHaveCount(0);
  });
});
