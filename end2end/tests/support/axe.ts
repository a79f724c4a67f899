import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

/**
 * Runs axe-core on the page and fails on serious or critical violations (the ones that stop
 * someone using the page with a screen reader or keyboard). Minor ones are left to review.
 */
export async function checkA11y(page: Page, what = page.url()): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const blocking = results.violations.filter(
    (v) => v.impact === 'serious' || v.impact === 'critical',
  );
  const report = blocking
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help}\n` +
        v.nodes.map((n) => `    at ${n.target.join(' ')}`).join('\n'),
    )
    .join('\n');
  expect(blocking, `accessibility violations on ${what}:\n${report}`).toEqual([]);
}
