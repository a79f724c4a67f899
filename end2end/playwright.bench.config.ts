// The benchmarks in ./bench (not part of `npx playwright test`). Run them with
//   cd end2end && npx playwright test --config playwright.bench.config.ts
// Same server, environment and browser as the test suite (a fresh database per run too).
import { defineConfig } from '@playwright/test';
import suite from './playwright.config';

export default defineConfig(suite, {
  testDir: './bench',
  // Setting up the admins and 20 measured rounds.
  timeout: 15 * 60_000,
});
