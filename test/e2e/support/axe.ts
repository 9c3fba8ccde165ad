/**
 * Accessibility measured with axe-core: its script is evaluated in the page (through the
 * DevTools protocol, so the app's CSP, which the suites keep on, does not block it) and run on
 * the whole document. A screen passes when it has no serious or critical violation; lesser ones
 * are reported, not failed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import type { AxeResults } from 'axe-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export type AxeFinding = { id: string; impact: string; help: string; targets: string[] };

export type AxeSummary = { serious: AxeFinding[]; other: AxeFinding[] };

export async function runAxe(page: Page): Promise<AxeSummary> {
  const loaded = await page.evaluate(() => 'axe' in window);
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<AxeResults> } }).axe;
    return axe.run(document, { resultTypes: ['violations'] });
  });
  const findings = results.violations.map((v) => ({
    id: v.id,
    impact: v.impact ?? 'unknown',
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(' ')),
  }));
  return {
    serious: findings.filter((f) => f.impact === 'serious' || f.impact === 'critical'),
    other: findings.filter((f) => f.impact !== 'serious' && f.impact !== 'critical'),
  };
}
