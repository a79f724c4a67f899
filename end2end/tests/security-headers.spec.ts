// Hardening (issue 5), for every page: a strict Content-Security-Policy with a fresh nonce per
// response (no 'unsafe-inline'), no framing, no MIME sniffing, no referrer leaks to other sites,
// and nothing kept in caches. Every test of the suite also fails on a CSP violation in the
// browser (see support/fixtures.ts); this one checks what the server sends.

import type { Page, Response } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { createAccount } from './support/accounts';
import { turnOnTwoFactor } from './support/flows';
import { arriveAt, CodeStepPage, Header, SignInPage, waitForHydration } from './support/pages';

/** Referrer policies that never send a full address to another site. */
const SAFE_REFERRER_POLICY = /^(no-referrer|same-origin|strict-origin|strict-origin-when-cross-origin)$/;

/** Opens `path` and answers the response of the page itself (not of a redirect). */
async function open(page: Page, path: string): Promise<Response> {
  const response = await page.goto(path);
  expect(response, `no response for ${path}`).not.toBeNull();
  expect(new URL(page.url()).pathname, `${path} was redirected`).toBe(path);
  expect(response!.status(), `HTTP status of ${path}`).toBe(200);
  await waitForHydration(page);
  return response!;
}

/** Checks the security headers of a page; answers its CSP nonce. */
async function expectHardenedHeaders(response: Response, path: string): Promise<string> {
  const headers = await response.allHeaders();
  const csp = headers['content-security-policy'];
  expect(csp, `${path}: Content-Security-Policy`).toBeTruthy();
  expect(csp, `${path}: CSP script-src`).toContain("script-src 'nonce-");
  expect(csp, `${path}: CSP frame-ancestors`).toContain("frame-ancestors 'none'");
  expect(csp, `${path}: CSP must not allow inline code`).not.toContain('unsafe-inline');
  expect(csp, `${path}: CSP must not allow eval`).not.toContain("'unsafe-eval'");
  expect(headers['x-content-type-options'], `${path}: X-Content-Type-Options`).toBe('nosniff');
  expect(headers['referrer-policy'], `${path}: Referrer-Policy`).toMatch(SAFE_REFERRER_POLICY);
  expect(headers['cache-control'], `${path}: Cache-Control`).toContain('no-store');

  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1] ?? '';
  expect(nonce.length, `${path}: CSP nonce length`).toBeGreaterThanOrEqual(16);
  // Every script the page carries is allowed by this response's nonce (Chromium hides the
  // nonce from the DOM, so read the HTML as sent).
  const html = await response.text();
  const scripts = html.match(/<script\b[^>]*>/gi) ?? [];
  expect(scripts.length, `${path}: the page has scripts`).toBeGreaterThan(0);
  for (const tag of scripts) {
    expect(tag, `${path}: a script without this response's nonce`).toContain(`nonce="${nonce}"`);
  }
  return nonce;
}

test('every page sends a strict CSP with a fresh nonce and the other security headers', async ({ page }) => {
  const admin = createAccount('Headers');
  const signIn = new SignInPage(page);
  const nonces = new Set<string>();

  await test.step('signed out: /login', async () => {
    nonces.add(await expectHardenedHeaders(await open(page, '/login'), '/login'));
    // A new response, a new nonce.
    nonces.add(await expectHardenedHeaders(await open(page, '/login'), '/login (again)'));
    expect(nonces.size, 'the CSP nonce must change with every response').toBe(2);
  });

  await test.step('signed in: the dashboard, the profile and Administration', async () => {
    await signIn.signIn(admin.username, admin.password);
    for (const path of ['/', '/profile', '/admin/admins', '/admin/settings', '/admin/audit']) {
      nonces.add(await expectHardenedHeaders(await open(page, path), path));
    }
    expect(nonces.size, 'the CSP nonce must change with every response').toBe(7);
  });

  await test.step('half signed in: /login/code', async () => {
    await turnOnTwoFactor(page, admin.password);
    await new Header(page).signOut();
    await signIn.submitCredentials(admin.email, admin.password);
    await arriveAt(page, '/login/code');
    const nonce = await expectHardenedHeaders(await open(page, '/login/code'), '/login/code');
    expect(nonces.has(nonce), 'the CSP nonce must change with every response').toBe(false);
    await expect(new CodeStepPage(page).heading).toBeVisible();
  });
});
