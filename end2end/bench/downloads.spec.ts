// What each page downloads on a first visit (issue 13: the sign-in page under 150 KB, the whole
// app under 300 KB), as Chromium receives it: the page itself and every file it loads (script,
// WASM and its lazily loaded chunks, stylesheet), counted in bytes that crossed the network
// (brotli where the build made a compressed copy). Prints a table; asserts nothing about the
// sizes (they are targets, not tests). Run against a release build made with --split:
//   cargo leptos build --release --precompress --split
//   cd end2end && MSSP_BIN=$PWD/../target/release/mssp-dashboard \
//     npx playwright test --config playwright.bench.config.ts downloads

import { expect, test } from '../tests/support/fixtures';
import { createAccount } from '../tests/support/accounts';
import { signInToCodeStep, turnOnTwoFactor } from '../tests/support/flows';
import { SignInPage, waitForHydration } from '../tests/support/pages';
import type { Page } from '@playwright/test';

/** Counts body bytes (as they crossed the network) of every response the page receives. */
function countBytes(page: Page): { files: Map<string, number>; total: () => number } {
  const files = new Map<string, number>();
  page.on('requestfinished', async (request) => {
    const sizes = await request.sizes();
    const path = new URL(request.url()).pathname;
    files.set(path, (files.get(path) ?? 0) + sizes.responseBodySize);
  });
  return { files, total: () => [...files.values()].reduce((a, b) => a + b, 0) };
}

test('bytes each page downloads on a first visit', async ({ browser }) => {
  const admin = createAccount('Downloads');
  const rows: [string, number, number][] = [];
  // Every browser file any of the pages loads, counted once: the whole app.
  const whole = new Map<string, number>();
  const remember = (files: Map<string, number>) => {
    for (const [file, bytes] of files) if (file.startsWith('/pkg/')) whole.set(file, bytes);
  };
  // The sign-in page, in a browser that has never been here.
  {
    const context = await browser.newContext();
    const page = await context.newPage();
    const seen = countBytes(page);
    await page.goto('/login');
    await waitForHydration(page);
    await page.waitForLoadState('networkidle');
    rows.push(['/login', seen.total(), seen.files.size]);
    remember(seen.files);
    console.log(`/login loads: ${[...seen.files.entries()].map(([p, b]) => `${p} ${b}`).join(', ')}`);
    await context.close();
  }
  // Each signed-in page as a first visit with a fresh cache: sign in in one context, carry the
  // session cookie to a new one per page.
  const context = await browser.newContext();
  const page = await context.newPage();
  await new SignInPage(page).signIn(admin.email, admin.password);
  await waitForHydration(page);
  const cookies = await context.cookies();
  for (const path of ['/', '/profile', '/admin/admins', '/admin/settings', '/admin/audit']) {
    const fresh = await browser.newContext();
    await fresh.addCookies(cookies);
    const visit = await fresh.newPage();
    const seen = countBytes(visit);
    await visit.goto(path);
    await waitForHydration(visit);
    await visit.waitForLoadState('networkidle');
    expect(new URL(visit.url()).pathname, `${path} stays signed in`).toBe(path);
    rows.push([path, seen.total(), seen.files.size]);
    remember(seen.files);
    await fresh.close();
  }
  // The code step, reached from the sign-in page in the same browser: what it adds to what
  // /login already brought (its own chunk, the page, its server functions' answers).
  await turnOnTwoFactor(page, admin.password);
  {
    const fresh = await browser.newContext();
    const visit = await fresh.newPage();
    const seen = countBytes(visit);
    await new SignInPage(visit).goto();
    await visit.waitForLoadState('networkidle');
    const before = seen.total();
    const filesBefore = seen.files.size;
    await signInToCodeStep(visit, admin.email, admin.password);
    await visit.waitForLoadState('networkidle');
    rows.push(['/login/code (added)', seen.total() - before, seen.files.size - filesBefore]);
    remember(seen.files);
    await fresh.close();
  }
  await context.close();
  console.log('\nfirst visit of each page (page + files, bytes over the network):');
  for (const [path, bytes, count] of rows) {
    console.log(`  ${path.padEnd(20)} ${(bytes / 1024).toFixed(1).padStart(8)} KB  ${count} responses`);
  }
  const wholeBytes = [...whole.values()].reduce((a, b) => a + b, 0);
  console.log(`  every file of these pages once: ${(wholeBytes / 1024).toFixed(1)} KB (${whole.size} files)`);
});
