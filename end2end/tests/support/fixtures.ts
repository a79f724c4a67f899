import { test as base, expect, type BrowserContext } from '@playwright/test';

/**
 * What went wrong inside the pages of the running test: uncaught exceptions (a Rust panic in
 * the WASM surfaces as "unreachable") and Leptos hydration errors. A page whose hydration
 * panicked looks finished (the server rendered it, `data-hydrated` may already be set) but no
 * longer reacts to clicks; this list says why.
 */
let appErrors: string[] = [];
const watched = new WeakSet<BrowserContext>();

/** Collects the app's errors from every page of `context` (the test's and any other one). */
export function watchForAppErrors(context: BrowserContext): void {
  if (watched.has(context)) return;
  watched.add(context);
  context.on('weberror', (error) => {
    appErrors.push(`uncaught ${error.error().message} (on ${error.page()?.url() ?? 'a page'})`);
  });
  context.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    if (/hydration error|panicked at/i.test(text)) {
      appErrors.push(`${text.split('\n')[0]} (on ${message.page()?.url() ?? 'a page'})`);
    }
  });
}

/**
 * The suite's `test`: fails a test whose pages threw or failed to hydrate, with the browser's
 * own message (after the test's other failures, which are usually the consequence).
 */
export const test = base.extend<{ appErrorCheck: void }>({
  appErrorCheck: [
    async ({ context }, use) => {
      appErrors = [];
      watchForAppErrors(context);
      await use();
      const errors = [...new Set(appErrors)];
      expect(errors, `errors in the browser:\n${errors.join('\n')}`).toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
