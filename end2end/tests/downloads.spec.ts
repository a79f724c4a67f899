// What the browser downloads on a first visit (issue 13, "What the browser downloads"): the
// script, WASM and stylesheet arrive brotli-compressed under names that carry a content hash;
// those whose hash is truly their bytes' are immutable, the others (the main script and WASM,
// which cargo-leptos rewrites after naming them) are revalidated; the next visit downloads no
// byte of any of them again, and the page still hydrates. How many bytes each page downloads is measured by bench/downloads.spec.ts, not
// asserted here.

import { createHash } from 'node:crypto';
import { expect, test } from './support/fixtures';
import { SignInPage, waitForHydration } from './support/pages';

test('the sign-in page arrives compressed, is kept for the next visit, and hydrates', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  type Seen = { encoding?: string; cache?: string; vary?: string; status: number; bodyBytes: number; truthful: boolean };
  const files = new Map<string, Seen>();
  page.on('requestfinished', async (request) => {
    const path = new URL(request.url()).pathname;
    const response = await request.response();
    if (!path.startsWith('/pkg/') || !response) return;
    const headers = await response.allHeaders();
    const sizes = await request.sizes();
    // Whether the name holds the (base64url MD5) hash of the bytes, as `hash-files` names them.
    // (A 304 of the next visit has no body of its own.)
    const hash =
      response.status() === 200 ? createHash('md5').update(await response.body()).digest('base64url') : '';
    files.set(path, {
      truthful: path.split('/').pop()!.split('.').includes(hash),
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
    // Named by content (`NAME.HASH.EXT`): kept for good when the name is the truth, else asked
    // about each time.
    expect(name, 'a content-hashed name').toMatch(/\.[A-Za-z0-9_-]{22}\.(js|wasm|css|json)$/);
    expect(file.cache, `${name}: Cache-Control`).toBe(
      file.truthful ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
    expect(file.vary, `${name}: Vary`).toBe('Accept-Encoding');
  }
  const immutable = [...files.entries()].filter(([, f]) => f.cache?.includes('immutable')).map(([n]) => n);
  expect(immutable.some((n) => n.endsWith('.css')), `immutable: ${immutable}`).toBe(true);

  // The next visit downloads no byte of them again (the immutable ones from the cache, the
  // others after a 304; Chromium reports either as the cached 200, so only the bytes tell),
  // and the page hydrates again.
  files.clear();
  await page.goto('/login');
  await waitForHydration(page);
  await expect(new SignInPage(page).heading).toBeVisible();
  const again = [...files.entries()].filter(([, file]) => file.bodyBytes > 0);
  expect(again.map(([name]) => name), 'pkg files downloaded again on the second visit').toEqual([]);
  await context.close();
});
