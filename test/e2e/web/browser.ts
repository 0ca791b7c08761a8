import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Debian's chromium (scripts/services.sh tools installs it); never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: run \`bash scripts/services.sh tools\` (apt chromium) or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
}

const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core on the page as it is now: fails on any serious or critical violation (WCAG 2.x A/AA). */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  // Strings run in the page: this file is type-checked without the DOM library.
  if (!(await page.evaluate("'axe' in window"))) await page.addScriptTag({ content: AXE });
  const result = (await page.evaluate(`axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  })`)) as { violations: AxeViolation[] };
  const violations = result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => n.target),
  }));
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious, `${where}: ${JSON.stringify(serious, null, 2)}`).toEqual([]);
}

/**
 * Presses Tab until the focused element `el` satisfies `test` (a JavaScript expression run in the
 * page), as a keyboard user moves: no clicks, no focus() calls.
 */
export async function tabTo(page: Page, test: string, max = 80): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const reached = await page.evaluate(`(() => { const el = document.activeElement; return !!el && (${test}); })()`);
    if (reached) return;
  }
  throw new Error(`Tab never reached an element where ${test}`);
}

/**
 * Where a screenshot goes: docs/ (committed, shown in the README) with UPDATE_SCREENSHOTS=1,
 * else .mailroom/screenshots/, so an ordinary test run leaves the working tree clean (random
 * emails and DKIM keys differ in every run).
 */
export function screenshotPath(name: string): string {
  const root = path.resolve(__dirname, '../../..');
  const dir =
    process.env.UPDATE_SCREENSHOTS === '1' ? path.join(root, 'docs') : path.join(root, '.mailroom/screenshots');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}
