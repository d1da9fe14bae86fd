/**
 * axe-core on a page in Chromium, as the browser suites run it: a screenshot under
 * test-results/pages/ first (git-ignored), then every serious or critical violation fails.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

const RESULTS = fileURLToPath(new URL('../../test-results/pages/', import.meta.url));
const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

interface Violation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: string[];
}

/** How many violations of any impact axe reported on each page checked (proves it ran). */
export type AxeRuns = { page: string; violations: number }[];

/**
 * Screenshot, then axe-core on the page as it is. The source is evaluated through the
 * DevTools protocol, which the page's CSP does not govern, so the CSP stays as served.
 */
export async function axeCheck(page: Page, name: string, runs: AxeRuns): Promise<void> {
  mkdirSync(RESULTS, { recursive: true });
  await page.screenshot({ path: join(RESULTS, `${name}.png`), fullPage: true });
  await page.evaluate(AXE_SOURCE);
  // A string, so the page's globals need no DOM typings here.
  const violations = (await page.evaluate(`axe
    .run(document)
    .then((r) =>
      r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.map((n) => n.target.join(' ')),
      })),
    )`)) as Violation[];
  runs.push({ page: name, violations: violations.length });
  const blocking = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(blocking, [], `${name}: axe violations ${JSON.stringify(blocking)}`);
}

/** Whether the page needs no horizontal scrolling (a phone's viewport). */
export async function fitsWidth(page: Page): Promise<boolean> {
  return (await page.evaluate(
    'document.documentElement.scrollWidth <= window.innerWidth',
  )) as boolean;
}
