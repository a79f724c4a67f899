import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';

/**
 * What went wrong inside the pages of the running test: uncaught exceptions (a Rust panic in
 * the WASM surfaces as "unreachable"), Leptos hydration errors, and Content-Security-Policy
 * violations. A page whose hydration panicked looks finished (the server rendered it,
 * `data-hydrated` may already be set) but no longer reacts to clicks; this list says why.
 */
let appErrors: string[] = [];
const watched = new WeakSet<BrowserContext>();
/** Every context watched during the running test, to read their pages at its end. */
let contextsOfTest: BrowserContext[] = [];

/** The name of the binding the pages report CSP violations through. */
const CSP_BINDING = '__e2eReportCspViolation';

/** What the pages record of a `securitypolicyviolation` event. */
interface CspViolation {
  directive: string;
  blocked: string;
  source: string;
  sample: string;
  page: string;
}

function describeViolation(v: CspViolation): string {
  const where = v.source ? ` at ${v.source}` : '';
  const sample = v.sample ? ` (sample: ${JSON.stringify(v.sample)})` : '';
  return `CSP violation: ${v.directive} blocked ${v.blocked || 'inline'}${where}${sample} (on ${v.page})`;
}

/**
 * Runs in every document before its own scripts: records each `securitypolicyviolation`
 * event in `window.__cspViolations` and reports it to the test at once (so a violation on a
 * page that navigates away right after still counts).
 */
function recordCspViolations(binding: string): void {
  const w = window as unknown as {
    __cspViolations?: CspViolation[];
    [key: string]: unknown;
  };
  if (w.__cspViolations) return;
  w.__cspViolations = [];
  document.addEventListener(
    'securitypolicyviolation',
    (e: SecurityPolicyViolationEvent) => {
      const v: CspViolation = {
        directive: e.effectiveDirective || e.violatedDirective,
        blocked: e.blockedURI,
        source: e.sourceFile ? `${e.sourceFile}:${e.lineNumber}:${e.columnNumber}` : '',
        sample: e.sample,
        page: e.documentURI,
      };
      w.__cspViolations!.push(v);
      const report = w[binding];
      if (typeof report === 'function') {
        (report as (v: CspViolation) => Promise<void>)(v).catch(() => {});
      }
    },
    true,
  );
}

/**
 * Collects the app's errors from every page of `context` (the test's and any other one):
 * uncaught exceptions, hydration errors, and CSP violations (Chromium's "Refused to …
 * Content Security Policy" console errors and `securitypolicyviolation` events).
 */
export async function watchForAppErrors(context: BrowserContext): Promise<void> {
  if (watched.has(context)) return;
  watched.add(context);
  contextsOfTest.push(context);
  context.on('weberror', (error) => {
    appErrors.push(`uncaught ${error.error().message} (on ${error.page()?.url() ?? 'a page'})`);
  });
  context.on('console', (message) => {
    const text = message.text();
    const where = `(on ${message.page()?.url() ?? 'a page'})`;
    if (message.type() === 'error' && /hydration error|panicked at/i.test(text)) {
      appErrors.push(`${text.split('\n')[0]} ${where}`);
    }
    // Chromium: "Refused to load the script '…' because it violates the following Content
    // Security Policy directive: …" (an error; report-only ones would be warnings).
    if (/Content[ -]Security[ -]Policy/i.test(text) && /Refused to|violat/i.test(text)) {
      appErrors.push(`CSP console ${message.type()}: ${text.split('\n')[0]} ${where}`);
    }
  });
  await context.exposeBinding(CSP_BINDING, (_source, violation: CspViolation) => {
    appErrors.push(describeViolation(violation));
  });
  await context.addInitScript(recordCspViolations, CSP_BINDING);
}

/** The violations the still-open pages of the test's contexts recorded themselves. */
async function recordedViolations(): Promise<string[]> {
  const pages: Page[] = contextsOfTest.flatMap((context) => {
    try {
      return context.pages();
    } catch {
      return [];
    }
  });
  const found: string[] = [];
  for (const page of pages) {
    if (page.isClosed()) continue;
    const list = await page
      .evaluate(
        () => (window as unknown as { __cspViolations?: CspViolation[] }).__cspViolations ?? [],
      )
      .catch(() => [] as CspViolation[]);
    found.push(...list.map(describeViolation));
  }
  return found;
}

/**
 * The suite's `test`: fails a test whose pages threw, failed to hydrate or broke the Content
 * Security Policy, with the browser's own message (after the test's other failures, which are
 * usually the consequence).
 */
export const test = base.extend<{ appErrorCheck: void }>({
  appErrorCheck: [
    async ({ context }, use) => {
      appErrors = [];
      contextsOfTest = [];
      await watchForAppErrors(context);
      await use();
      appErrors.push(...(await recordedViolations()));
      const errors = [...new Set(appErrors)];
      expect(errors, `errors in the browser:\n${errors.join('\n')}`).toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
