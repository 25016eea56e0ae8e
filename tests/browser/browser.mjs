// What the browser tests share: Debian's Chromium driven by playwright-core (headless,
// loopback only), a watch on console errors and CSP violations, axe-core and a screenshot on
// every page, and TOTP codes from oathtool.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { makeDemoVault, startServer } from '../outside/medvault.mjs';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// A demo vault of `patients` extra patients served by the real binary (with `env`), and a
// Chromium; all three go when the test `t` ends.
export async function openDemo(t, { patients = 2, env = {} } = {}) {
  const demo = makeDemoVault({ patients });
  const server = await startServer(demo.vault, env);
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    await server.stop();
    demo.remove();
  });
  return { demo, server, browser };
}

// A page in a new context of `viewport` and `locale` (a phone with touch under 500 px wide),
// and the watch on its console.
export async function newPage(browser, { viewport, locale, ...options }) {
  const context = await browser.newContext({ viewport, locale, ...options,
    isMobile: viewport.width < 500, hasTouch: viewport.width < 500 });
  const page = await context.newPage();
  return { context, page, watcher: watch(page) };
}

// Console errors and CSP violations of a page; `expectRefused(status)` takes one expected
// resource error (a refused request the journey provokes on purpose), `expectRefused(status,
// 'all')` every one of them (parallel requests refused together).
export function watch(page) {
  const problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.exposeBinding('medvaultReportCsp', (_, text) => problems.push(`CSP violation: ${text}`));
  page.addInitScript(() => document.addEventListener('securitypolicyviolation',
    (e) => window.medvaultReportCsp(`${e.violatedDirective} ${e.blockedURI}`)));
  return {
    problems,
    expectRefused(status, how = 'one') {
      const index = problems.findIndex((p) => p.includes(`status of ${status}`));
      assert.ok(index >= 0, `a refused request (${status}) was shown in the console`);
      problems.splice(index, 1);
      if (how === 'all') {
        for (let i = problems.length - 1; i >= 0; --i) if (problems[i].includes(`status of ${status}`)) problems.splice(i, 1);
      }
    },
  };
}

// axe-core finds no serious or critical violation on the page as it is; then a screenshot.
export async function checkPage(page, name, shots) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(' ')}`), [],
    `axe-core on ${name}`);
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

// TOTP codes of one secret as a careful user types them: the server accepts a time step once
// and one step ahead, so each code is of the step after the last one used, waiting for the
// clock when that step is not yet within reach.
export function totpCodes(secret) {
  let last = null;
  return async () => {
    const now = Math.floor(Date.now() / 30000);
    let step = last === null ? now : Math.max(now, last + 1);
    while (step > Math.floor(Date.now() / 30000) + 1) await new Promise((done) => setTimeout(done, 500));
    last = step;
    return execFileSync('oathtool', ['--totp', '-b', '-N', `@${step * 30}`, secret]).toString().trim();
  };
}

// Enrolls a staff account in the page (English) at `base`: its one-time code, `password`
// twice, an authenticator app (codes from the secret the page shows), then past the recovery
// codes. Returns the account's TOTP codes, for a later step-up.
export async function enrollStaffWithTotp(page, base, code, password) {
  const heading = (name) => page.getByRole('heading', { level: 1, name }).waitFor();
  await page.goto(`${base}/#/enroll`);
  await page.locator('#code').fill(code);
  await page.locator('#password').fill(password);
  await page.locator('#password2').fill(password);
  await page.locator('main button[type=submit]').click();
  await heading('Choose your second step');
  await page.locator('main button.primary').click();
  await page.locator('.qr svg path').first().waitFor();
  const codes = totpCodes((await page.locator('.secret').innerText()).replace(/\s/g, ''));
  await page.locator('#code').fill(await codes());
  await page.locator('main button[type=submit]').click();
  // The ten recovery codes are hashed with Argon2id before they are shown: slow under ASan.
  await page.locator('.codes code').first().waitFor({ timeout: 120000 });
  await page.locator('main button.primary').click();
  return codes;
}
