import { defineConfig } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { baseURL, repoRoot, serverBinary, serverEnv } from './tests/support/env';

// A fresh database per run, unless E2E_DATABASE_URL names one already. Playwright loads this
// file again in each worker process; workers inherit the runner's environment, so setting the
// variable here makes them (and the CLI the tests run) use this same database.
if (!process.env.E2E_DATABASE_URL) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mssp-e2e-'));
  process.env.E2E_DATABASE_URL = `sqlite://${path.join(dir, 'e2e.db')}`;
  process.env.E2E_KEY_FILE ??= path.join(dir, 'e2e.key');
  // The loopback SMTP server of global-setup.ts, and where it keeps what it receives.
  process.env.E2E_MAIL_DIR ??= path.join(dir, 'mail');
  process.env.E2E_SMTP_PORT ??= String(2525 + (process.pid % 1000));
}

export default defineConfig({
  testDir: './tests',
  globalSetup: './tests/support/global-setup.ts',
  // Two cores and one shared server: run the stories one after another.
  workers: 1,
  fullyParallel: false,
  // A story that fails is run once more and reported "flaky" by name; one that fails twice
  // fails the run. (2026-12-01: two stories failed once when the rate limit answered 429 to a
  // lazy page's chunks; static files are no longer rate limited, README "Tests".)
  retries: 1,
  reporter: 'list',
  // The sign-in story waits for fresh TOTP time steps (up to 30 s each, several times).
  timeout: 240_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL: baseURL(),
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        browserName: 'chromium',
        launchOptions: {
          // Debian's Chromium (apt package `chromium`); never `npx playwright install`.
          executablePath: '/usr/bin/chromium',
          // Without the background-networking flags Chromium floods the closed network.
          args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        },
      },
    },
  ],
  webServer: {
    // Starts the already-built binary; build first with `cargo leptos build --split`.
    command: `"${serverBinary()}" serve`,
    cwd: repoRoot,
    url: `${baseURL()}/login`,
    reuseExistingServer: !!process.env.E2E_REUSE_SERVER,
    timeout: 120_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: serverEnv(),
  },
});
