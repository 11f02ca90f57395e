// What every browser script shares: Debian's Chromium through playwright-core, the line
// protocol with the Rust test that runs the server (tests/e2e.rs), axe-core on every page,
// and a screenshot of every page.

import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
// axe-core is evaluated in the page through the DevTools protocol: the pages' content security
// policy (no inline script) stays in force, so a page that breaks it still fails.
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const BASE = must('STEMBUS_E2E_BASE');
export const ARTIFACTS = must('STEMBUS_E2E_ARTIFACTS');
export const REPOSITORY = must('STEMBUS_E2E_REPOSITORY');
const CHROMIUM = must('STEMBUS_E2E_CHROMIUM');

function must(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is not set: run this script through \`cargo test --test e2e\``);
    process.exit(2);
  }
  return value;
}

// ---- the line protocol with the test ------------------------------------------------------

const answers = [];
const waiting = [];
createInterface({ input: process.stdin }).on('line', (line) => {
  const next = waiting.shift();
  if (next) next(line);
  else answers.push(line);
});

async function ask(request) {
  process.stdout.write(`@@ ${request}\n`);
  const line = answers.length ? answers.shift() : await new Promise((resolve) => waiting.push(resolve));
  if (line.startsWith('error:')) throw new Error(`${request}: ${line}`);
  return line;
}

/** Sets the server's clock (RFC 3339). */
export async function setClock(moment) {
  await ask(`clock ${moment}`);
}

/** The sign-in code last mailed to `email`. */
export async function codeFor(email) {
  return ask(`code ${email}`);
}

export function log(...parts) {
  process.stdout.write(`${parts.join(' ')}\n`);
}

// ---- the browser ---------------------------------------------------------------------------

let browser;

// playwright-core gives the browser a fresh, temporary profile (its --user-data-dir) of its own.
export async function launch() {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return browser;
}

export async function shutdown() {
  if (browser) await browser.close();
}

/** A browser of its own for one person (its own cookies and IndexedDB, so its own key). */
export async function person(name) {
  const context = await browser.newContext({ baseURL: BASE, locale: 'nl-NL', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`${name}: script error on ${page.url()}: ${e.message}`));
  // Refusals are pages with a 4xx status, which the console reports as failed loads; what they
  // say is checked on the page. Any other console error is a problem of the page's scripts.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      problems.push(`${name}: console error on ${page.url()}: ${m.text()}`);
    }
  });
  const who = { name, context, page, problems };
  people.push(who);
  return who;
}

const people = [];

// ---- checks --------------------------------------------------------------------------------

const checked = [];
let shots = 0;

/**
 * Checks the page as it stands: axe-core with the WCAG 2.1 A and AA rules finds no violation,
 * and a screenshot is kept as `NN-<name>.png`.
 */
export async function check(page, name) {
  await page.waitForLoadState('load');
  const already = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!already) await page.evaluate(AXE);
  const result = await page.evaluate(async () =>
    window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }),
  );
  shots += 1;
  const file = join(ARTIFACTS, `${String(shots).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  checked.push(page.url());
  if (result.violations.length) {
    const lines = result.violations.map(
      (v) => `  ${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary}`).join('\n')}`,
    );
    throw new Error(`axe-core: WCAG 2.1 AA violations on ${page.url()} (${name}):\n${lines.join('\n')}`);
  }
  log(`axe ok, screenshot ${file}: ${name} (${page.url()})`);
  return file;
}

export function checkedPages() {
  return checked.length;
}

export function expect(condition, message) {
  if (!condition) throw new Error(message);
}

/** The visible text of the element matching `selector`, whitespace folded. */
export async function text(page, selector) {
  const t = await page.locator(selector).first().innerText();
  return t.replace(/\s+/g, ' ').trim();
}

/** Fails unless the page's main content contains each of `needles`. */
export async function shows(page, ...needles) {
  const body = (await page.locator('main').innerText()).replace(/\s+/g, ' ');
  for (const needle of needles) {
    const found = needle instanceof RegExp ? needle.test(body) : body.includes(needle);
    if (!found) throw new Error(`${page.url()} does not show ${needle}; it shows:\n${body.slice(0, 3000)}`);
  }
}

/** Runs `main`, closes the browser, and exits 0 or 1 with the error. */
export async function run(main) {
  const started = Date.now();
  try {
    await launch();
    await main();
    log(`${checkedPages()} pages checked by axe-core in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await shutdown();
    process.exit(0);
  } catch (e) {
    console.error(e && e.stack ? e.stack : String(e));
    // What each person's browser saw last: its script errors and a screenshot.
    for (const who of people) {
      for (const problem of who.problems) console.error(problem);
      try {
        const file = join(ARTIFACTS, `failed-${who.name}.png`);
        await who.page.screenshot({ path: file, fullPage: true });
        console.error(`${who.name} was on ${who.page.url()}: ${file}`);
      } catch {
        // a closed page has nothing to show
      }
    }
    try {
      await shutdown();
    } catch {
      // the error above is what matters
    }
    process.exit(1);
  }
}
