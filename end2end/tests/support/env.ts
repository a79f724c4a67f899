import path from 'node:path';

/** The repository root: the server's working directory (it serves `target/site` from there). */
export const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** The server binary built by `cargo leptos build` (override with MSSP_BIN). */
export function serverBinary(): string {
  return process.env.MSSP_BIN ?? path.join(repoRoot, 'target', 'debug', 'mssp-dashboard');
}

/** The test server's address (BASE_URL, default http://127.0.0.1:3000). */
export function baseURL(): string {
  return process.env.BASE_URL ?? 'http://127.0.0.1:3000';
}

/**
 * What both the server and its CLI must see so they share one site and one database.
 * playwright.config.ts sets E2E_DATABASE_URL (a fresh SQLite file per run) before the
 * workers start; with E2E_REUSE_SERVER set it must name the running server's database.
 */
export function serverEnv(): Record<string, string> {
  const databaseUrl = process.env.E2E_DATABASE_URL;
  if (!databaseUrl) {
    throw new Error('E2E_DATABASE_URL is not set: run the tests with `npx playwright test` from end2end/');
  }
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    LEPTOS_SITE_ROOT: 'target/site',
    LEPTOS_SITE_PKG_DIR: 'pkg',
    LEPTOS_OUTPUT_NAME: 'mssp-dashboard',
    MSSP_BIND: `127.0.0.1:${new URL(baseURL()).port || '80'}`,
    RUST_LOG: 'info',
    // The suite makes its own accounts; never the demo one.
    MSSP_DEMO: 'false',
  };
  // Keep the key file for secrets at rest beside the throwaway database, not in the repo.
  if (process.env.E2E_KEY_FILE) env.MSSP_KEY_FILE = process.env.E2E_KEY_FILE;
  // Email notifications go to the suite's loopback SMTP server (global-setup.ts).
  if (process.env.E2E_SMTP_PORT) {
    env.MSSP_SMTP_URL = `smtp://127.0.0.1:${process.env.E2E_SMTP_PORT}`;
    env.MSSP_SMTP_FROM = 'MSSP Dashboard <dashboard@e2e.test>';
  }
  return env;
}
