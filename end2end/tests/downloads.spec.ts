// What the browser downloads on a first visit (issue 13, "What the browser downloads"): the
// script, WASM and stylesheet arrive brotli-compressed, are kept and revalidated (304, no body)
// on the next visit, and the page still hydrates. How many bytes that is, is measured by
// bench/size-and-memory.sh, not asserted here.

import { expect, test } from './support/fixtures';
import { SignInPage, waitForHydration } from './support/pages';

test('the sign-in page arrives compressed, is revalidated on the next visit, and hydrates', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  type Seen = { encoding?: string; cache?: string; vary?: string; status: number; bodyBytes: number };
  const files = new Map<string, Seen>();
  page.on('requestfinished', async (request) => {
    const path = new URL(request.url()).pathname;
    const response = await request.response();
    if (!path.startsWith('/pkg/') || !response) return;
    const headers = await response.allHeaders();
    const sizes = await request.sizes();
    files.set(path, {
      encoding: headers['content-encoding'],
      cache: headers['cache-control'],
      vary: headers['vary'],
      status: response.status(),
      // Bytes of the body that crossed the network (0 when a 304 let the browser reuse it).
      bodyBytes: sizes.responseBodySize,
    });
  });
  await page.goto('/login');
  await waitForHydration(page);
  await expect(new SignInPage(page).heading).toBeVisible();
  const names = [...files.keys()].sort();
  expect(names.some((n) => n.endsWith('.wasm')), `pkg files: ${names}`).toBe(true);
  expect(names.some((n) => n.endsWith('.js')), `pkg files: ${names}`).toBe(true);
  expect(names.some((n) => n.endsWith('.css')), `pkg files: ${names}`).toBe(true);
  for (const [name, file] of files) {
    expect(file.status, name).toBe(200);
    expect(file.bodyBytes, `${name}: body bytes on the first visit`).toBeGreaterThan(0);
    // Chromium accepts br: the build's precompressed copy is what it gets.
    expect(file.encoding, `${name}: Content-Encoding`).toBe('br');
    expect(file.cache, `${name}: Cache-Control`).toBe('no-cache');
    expect(file.vary, `${name}: Vary`).toBe('Accept-Encoding');
  }

  // The next visit revalidates: the WASM comes back without its body (a 304), and the page
  // hydrates again from what the browser kept.
  files.clear();
  await page.goto('/login');
  await waitForHydration(page);
  const wasm = [...files.entries()].find(([name]) => name.endsWith('.wasm'));
  expect(wasm, `pkg files on the second visit: ${[...files.keys()]}`).toBeDefined();
  expect(wasm![1].bodyBytes, 'WASM body bytes on the second visit').toBe(0);
  await context.close();
});
