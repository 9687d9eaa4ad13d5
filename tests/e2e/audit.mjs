// The accessibility audit the tests share: axe-core (from npm) on Parley's root.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from './harness.mjs';

const AXE = path.join(ROOT, 'node_modules/axe-core/axe.min.js');

/** Runs axe on Parley's root once no colour is fading; the serious and critical
 * violations, each with its rule, help and first nodes. */
export async function seriousViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    // Evaluated through the DevTools protocol: the app's CSP rightly refuses script tags.
    await page.evaluate(await readFile(AXE, 'utf8'));
  }
  // A theme switch fades colours (CSS transitions): audit what the agent ends up seeing.
  await page.waitForFunction(() => document.getAnimations().every((a) => !(a instanceof CSSTransition)));
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document.querySelector('.parley'), { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
