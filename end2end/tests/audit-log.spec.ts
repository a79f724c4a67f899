// User story (issue 5): the super admin of an MSSP account reads its security events in
// Administration → Audit log (who did what to whom, when, from where), narrows them down by
// admin, event and date, and exports them as CSV. Nobody else can read them.

import fs from 'node:fs';
import type { Locator } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { createAccount, newAdminDetails } from './support/accounts';
import { checkA11y } from './support/axe';
import { firstSignInWith2fa, otherBrowser } from './support/flows';
import { AdminManagementPage, AuditLogPage, Header, SignInPage, waitForHydration } from './support/pages';

const SUPER_ADMIN_ONLY = 'Only the super admin of this account can use Administration.';
const CSV_HEADER = 'time_utc,event,actor,target,detail,client_address';
const TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/;

/** The CSV's lines (CRLF or LF), without the trailing empty one. */
function csvLines(text: string): string[] {
  return text.replace(/\r?\n$/, '').split(/\r?\n/);
}

test('the super admin reads, filters and exports the audit log; nobody else can', async ({ page, browser }) => {
  const owner = createAccount('Audit');
  const details = newAdminDetails('paula', 'Admin');
  const management = new AdminManagementPage(page);
  const audit = new AuditLogPage(page);
  const header = new Header(page);

  let ownerId = '';
  let plainId = '';
  await test.step('events happen: sign-ins, an added admin, a wrong password, 2FA turned on', async () => {
    await new SignInPage(page).signIn(owner.username, owner.password);
    await management.goto();
    await management.addAdmin(details);
    ownerId = (await management.row(owner.email).getAttribute('data-admin-id')) ?? '';
    plainId = (await management.row(details.email).getAttribute('data-admin-id')) ?? '';
    expect(ownerId).toMatch(/^\d+$/);
    expect(plainId).toMatch(/^\d+$/);
  });

  const pageB = await otherBrowser(browser);
  const plain = await test.step('the added admin mistypes the password, then signs in and turns on 2FA', async () => {
    const signInB = new SignInPage(pageB);
    await signInB.goto();
    await signInB.submitCredentials(details.username, `${details.password}-typo`);
    await expect(signInB.alert).toHaveText('Wrong email, username or password.');
    return firstSignInWith2fa(pageB, details);
  });
  const allowedNames = [owner.name, plain.name, ''];

  /** Every By and About cell names someone of this account (or nobody). */
  async function expectOnlyThisAccount(rows: Locator): Promise<void> {
    for (const column of ['By', 'About'] as const) {
      const names = await rows.evaluateAll(
        (trs, index) => trs.map((tr) => (tr.querySelectorAll('td')[index]?.textContent ?? '').trim()),
        column === 'By' ? 2 : 3,
      );
      for (const name of names) expect(allowedNames, `"${name}" in ${column}`).toContain(name);
    }
  }

  let total = 0;
  await test.step('Administration → Audit log lists the events, newest first', async () => {
    await header.administrationLink.click();
    await expect(page).toHaveURL(/\/admin\/admins$/);
    await audit.adminNav.auditLogLink.click();
    await expect(page).toHaveURL(/\/admin\/audit$/);
    await expect(audit.heading).toBeVisible();
    await expect(audit.pageHeading).toBeVisible();
    await expect(audit.adminNav.auditLogLink).toHaveAttribute('aria-current', 'page');
    await expect(header.administrationLink).toHaveAttribute('aria-current', 'page');
    await expect(audit.table.getByRole('columnheader')).toHaveText([
      'Time (UTC)',
      'Event',
      'By',
      'About',
      'Detail',
      'Address',
    ]);

    await expect(audit.rowsOf('2fa_enabled')).toHaveCount(1);
    await expect(audit.rowsOf('admin_created')).toHaveCount(1);
    await expect(audit.rowsOf('sign_in_succeeded')).toHaveCount(2);
    await expect(audit.rowsOf('sign_in_failed')).toHaveCount(1);
    await expect(audit.rowsOf('password_changed')).toHaveCount(1);
    // The newest event: the added admin turned on 2FA.
    await expect(audit.rows.first()).toHaveAttribute('data-event', '2fa_enabled');

    const enabled = audit.rowsOf('2fa_enabled');
    await expect(audit.cell(enabled, 'Time (UTC)')).toHaveText(TIME);
    await expect(audit.cell(enabled, 'Event')).toHaveText('2fa enabled');
    await expect(audit.cell(enabled, 'By')).toHaveText(plain.name);
    await expect(audit.cell(enabled, 'About')).toHaveText(plain.name);
    await expect(audit.cell(enabled, 'Address')).toHaveText('127.0.0.1');
    const created = audit.rowsOf('admin_created');
    await expect(audit.cell(created, 'Event')).toHaveText('admin created');
    await expect(audit.cell(created, 'By')).toHaveText(owner.name);
    await expect(audit.cell(created, 'About')).toHaveText(plain.name);
    const failed = audit.rowsOf('sign_in_failed');
    await expect(audit.cell(failed, 'About')).toHaveText(plain.name);
    await expect(audit.cell(failed, 'Detail')).toHaveText('wrong password');
    await expect(audit.rowsOf('sign_in_succeeded').locator('td:nth-child(2)')).toHaveText([
      'sign in succeeded',
      'sign in succeeded',
    ]);

    // Only this account's events.
    await expectOnlyThisAccount(audit.rows);
    total = await audit.rows.count();
    await expect(audit.pageInfo).toHaveText(`Page 1 of 1 · ${total} events`);
    await expect(audit.empty).toHaveCount(0);
    await checkA11y(page, '/admin/audit');
    await page.screenshot({ path: '/tmp/e2e-audit.png', fullPage: true });
  });

  await test.step('filtering by event', async () => {
    await expect(audit.eventFilter).toHaveValue('');
    await audit.filter({ event: '2fa enabled' });
    await expect(page).toHaveURL(/[?&]event=2fa_enabled(&|$)/);
    await expect(audit.rows).toHaveCount(1);
    await expect(audit.rowsOf('2fa_enabled')).toHaveCount(1);
    await expect(audit.eventFilter).toHaveValue('2fa_enabled');
    await expect(audit.pageInfo).toHaveText('Page 1 of 1 · 1 events');
  });

  await test.step('filtering by admin (as actor or as target)', async () => {
    await audit.filter({ admin: owner.name, event: 'Any event' });
    await expect(page).toHaveURL(new RegExp(`[?&]admin=${ownerId}(&|$)`));
    await expect(page).toHaveURL(/[?&]event=(&|$)/);
    await expect(audit.adminFilter).toHaveValue(ownerId);
    // The owner's sign-in and the admin they created; not what the other admin did alone.
    await expect(audit.rowsOf('sign_in_succeeded')).toHaveCount(1);
    await expect(audit.cell(audit.rowsOf('sign_in_succeeded'), 'By')).toHaveText(owner.name);
    await expect(audit.rowsOf('admin_created')).toHaveCount(1);
    await expect(audit.rowsOf('2fa_enabled')).toHaveCount(0);
    await expect(audit.rowsOf('sign_in_failed')).toHaveCount(0);
    const count = await audit.rows.count();
    expect(count).toBeLessThan(total);
    for (let i = 0; i < count; i++) {
      const row = audit.rows.nth(i);
      const by = (await audit.cell(row, 'By').innerText()).trim();
      const about = (await audit.cell(row, 'About').innerText()).trim();
      expect([by, about], `row ${i} is about the owner`).toContain(owner.name);
    }
  });

  await test.step('both filters, then "Export CSV" downloads what is shown', async () => {
    await audit.filter({ admin: plain.name, event: 'sign in succeeded' });
    await expect(page).toHaveURL(new RegExp(`[?&]admin=${plainId}&event=sign_in_succeeded(&|$)`));
    await expect(audit.rows).toHaveCount(1);
    await expect(audit.cell(audit.rows.first(), 'By')).toHaveText(plain.name);
    await expect(audit.exportLink).toHaveAttribute('href', new RegExp(`^/admin/audit\\.csv\\?admin=${plainId}&event=sign_in_succeeded`));

    const downloading = page.waitForEvent('download');
    await audit.exportLink.click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe('audit-log.csv');
    const lines = csvLines(fs.readFileSync(await download.path(), 'utf8'));
    expect(lines[0]).toBe(CSV_HEADER);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('"sign_in_succeeded"');
    expect(lines[1]).toContain(`"${plain.name}"`);
    expect(lines[1]).toContain('"127.0.0.1"');
  });

  await test.step('the whole log as CSV has every event of the table', async () => {
    const response = await page.request.get('/admin/audit.csv');
    expect(response.status()).toBe(200);
    expect(response.headers()['content-type']).toMatch(/^text\/csv/);
    expect(response.headers()['content-disposition']).toMatch(/^attachment/);
    const lines = csvLines(await response.text());
    expect(lines[0]).toBe(CSV_HEADER);
    expect(lines).toHaveLength(total + 1);
    for (const event of ['2fa_enabled', 'admin_created', 'sign_in_succeeded', 'sign_in_failed']) {
      expect(lines.some((l) => l.includes(`"${event}"`)), `${event} in the CSV`).toBe(true);
    }
    // No other account's admins.
    expect(lines.filter((l) => l.includes('@example.test') && !l.includes(owner.email) && !l.includes(plain.email))).toEqual([]);
  });

  await test.step('a date range without events shows none', async () => {
    await audit.goto();
    await audit.fromFilter.fill('2099-01-01');
    await audit.filterButton.click();
    await expect(page).toHaveURL(/[?&]from=2099-01-01(&|$)/);
    await expect(audit.rows).toHaveCount(0);
    await expect(audit.empty).toBeVisible();
    await expect(audit.pageInfo).toHaveText(/· 0 events$/);
  });

  await test.step('a plain admin gets 403 for the page and the CSV', async () => {
    const response = await pageB.goto('/admin/audit');
    expect(response?.status(), 'HTTP status of /admin/audit for a plain admin').toBe(403);
    await waitForHydration(pageB);
    await expect(pageB.getByRole('alert')).toHaveText(SUPER_ADMIN_ONLY);
    await expect(pageB.getByRole('table')).toHaveCount(0);
    await expect(pageB.getByText(owner.email)).toHaveCount(0);

    const csv = await pageB.request.get('/admin/audit.csv');
    expect(csv.status(), 'HTTP status of /admin/audit.csv for a plain admin').toBe(403);
    const body = await csv.text();
    expect(body).not.toContain(CSV_HEADER);
    expect(body).not.toContain(owner.name);
    await pageB.context().close();
  });

  await test.step('signed out, the CSV sends to sign-in', async () => {
    const signedOut = await browser.newContext({ baseURL: test.info().project.use.baseURL });
    const csv = await signedOut.request.get('/admin/audit.csv', { maxRedirects: 0 });
    expect(csv.status(), 'HTTP status of /admin/audit.csv signed out').toBe(303);
    expect(csv.headers()['location']).toBe('/login');
    await signedOut.close();
  });
});
