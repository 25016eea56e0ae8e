// The patient portal end to end in real Chromium: a fresh demo vault, the real medvault
// binary over plain HTTP on loopback (reached as http://localhost:PORT, a secure context), and
// the patient's journey through the page only: activation with the demo activation code (first
// with a password the server refuses, its reason shown in the page's language from the server's
// stable error code), the choice of an authenticator app, TOTP enrollment with codes from
// oathtool, recovery codes, logout, login again, the results list, a report with its values,
// ranges and trends, the PDF, the access history and the sessions page. On a desktop in English and on a 390 px
// phone in French. Every page is checked with axe-core (no serious or critical violation), and
// the run must log no console error and no CSP violation. Screenshots go to MEDVAULT_ARTIFACTS.
// MEDVAULT_BINARY names the medvault executable (ctest sets both).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium, watch, checkPage } from './browser.mjs';

const medvault = process.env.MEDVAULT_BINARY;
const artifacts = process.env.MEDVAULT_ARTIFACTS ?? join(tmpdir(), 'medvault-portal-artifacts');
// Long enough for the page's own check, refused by the server's policy (it contains the login).
const weakPassword = 'helene.d forever 2026';
const password = 'violet tram ledger quietly orbits 7';

function startServer(vault) {
  return new Promise((resolve, reject) => {
    const child = spawn(medvault, ['serve', '--dir', vault], {
      env: { ...process.env, MEDVAULT_SERVER_LISTEN: '127.0.0.1:0', MEDVAULT_SERVER_TLS: 'false',
        MEDVAULT_AUTH_SOURCE_BURST: '100000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const onData = (chunk) => {
      output += chunk.toString();
      const match = output.match(/"event":"listening","address":"127\.0\.0\.1:(\d+)"/);
      if (match) resolve({ child, port: Number(match[1]) });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`medvault serve exited ${code}: ${output}`)));
  });
}

// A TOTP code for the next time step: the server accepts one step of skew and each step once,
// so this is accepted right after enrollment used the current one.
const nextTotp = (secret) => execFileSync('oathtool',
  ['--totp', '-b', '-N', 'now + 30 seconds', secret]).toString().trim();
const totp = (secret) => execFileSync('oathtool', ['--totp', '-b', secret]).toString().trim();

async function openVault(t, name) {
  const dir = mkdtempSync(join(tmpdir(), `medvault-portal-${name}-`));
  const vault = join(dir, 'vault');
  const demo = execFileSync(medvault, ['demo', '--dir', vault, '--patients', '5'],
    { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const activationCode = demo.match(/activation code ([0-9A-Z-]{19})/)[1];
  const server = await startServer(vault);
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    server.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });
  return { browser, activationCode, base: `http://localhost:${server.port}`, dir };
}

async function journey(t, { name, viewport, locale, heading }) {
  assert.ok(medvault, 'set MEDVAULT_BINARY to the medvault executable');
  const { browser, activationCode, base, dir } = await openVault(t, name);
  const shots = join(artifacts, name);
  mkdirSync(shots, { recursive: true });
  const context = await browser.newContext({ viewport, locale, acceptDownloads: true,
    isMobile: viewport.width < 500, hasTouch: viewport.width < 500 });
  const page = await context.newPage();
  const watcher = watch(page);
  const started = new Date(Date.now() - 1000);

  await page.goto(`${base}/`);
  await page.getByRole('heading', { level: 1, name: heading.login }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), locale.slice(0, 2));
  await checkPage(page, '01-login', shots);

  // Activation: the server's refusal of a weak password is shown, then a good one passes.
  await page.locator('a[href="#/activate"]').click();
  await page.getByRole('heading', { level: 1, name: heading.activate }).waitFor();
  await page.locator('#code').fill(activationCode);
  await page.locator('#name').fill('Hélène Dupont');
  await page.locator('#login').fill('helene.d');
  await page.locator('#password').fill(weakPassword);
  await page.locator('#password2').fill(weakPassword);
  await page.locator('form button[type=submit]').click();
  const refusal = page.getByRole('alert');
  await refusal.waitFor();
  assert.match(await refusal.innerText(), heading.passwordRefused, 'the server\'s reason is shown, in the page\'s language');
  watcher.expectRefused(400);
  await checkPage(page, '02-activation-refused', shots);
  await page.locator('#password').fill(password);
  await page.locator('#password2').fill(password);
  await page.locator('form button[type=submit]').click();

  // The second step: an authenticator app (passkeys: patient_passkey.test.mjs).
  await page.getByRole('heading', { level: 1, name: heading.choose }).waitFor();
  await page.locator('main button.primary').click();

  // TOTP enrollment: the QR code and the secret; a code computed from the secret confirms.
  await page.getByRole('heading', { level: 1, name: heading.enroll }).waitFor();
  assert.ok(await page.locator('.qr svg path').count() > 0, 'the QR code is drawn');
  const secret = (await page.locator('.secret').innerText()).replace(/\s/g, '');
  assert.match(secret, /^[A-Z2-7]{16,}$/);
  await checkPage(page, '03-enroll-totp', shots);
  await page.locator('#code').fill(totp(secret));
  await page.locator('form button[type=submit]').click();
  await page.getByRole('heading', { level: 1, name: heading.recovery }).waitFor();
  const codes = await page.locator('.codes code').allInnerTexts();
  assert.equal(codes.length, 10);
  for (const code of codes) assert.match(code, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
  await checkPage(page, '04-recovery-codes', shots);
  await page.locator('main button.primary').click();
  await page.getByRole('heading', { level: 1, name: heading.results }).waitFor();

  // Log out, log in again with the password and a fresh TOTP code.
  await page.locator('header nav button').click();
  await page.getByRole('heading', { level: 1, name: heading.login }).waitFor();
  await page.locator('#login').fill('helene.d');
  await page.locator('#password').fill(password);
  await page.locator('form button[type=submit]').click();
  await page.getByRole('heading', { level: 1, name: heading.secondFactor }).waitFor();
  await checkPage(page, '05-second-factor', shots);
  await page.locator('#code').fill(nextTotp(secret));
  await page.locator('form button[type=submit]').click();

  // Results: newest first, each with a status.
  await page.getByRole('heading', { level: 1, name: heading.results }).waitFor();
  await page.locator('.reports li time').first().waitFor();
  const dates = await page.locator('.reports li time').evaluateAll((els) => els.map((e) => e.dateTime));
  assert.ok(dates.length >= 2, 'the demo patient has results');
  assert.deepEqual(dates, [...dates].sort().reverse(), 'newest first');
  assert.equal(await page.locator('.reports li .badges .badge').count(), dates.length * 2);
  assert.ok(await page.locator('.reports .badge.abnormal').count() > 0, 'abnormal values are marked');
  await checkPage(page, '06-results', shots);

  // A report: its values and ranges as the FHIR API has them, and trend charts.
  await page.locator('.reports li a').first().click();
  await page.locator('table.values tbody tr').first().waitFor();
  const reportId = decodeURIComponent(page.url().split('#/report/')[1]);
  const expected = await page.evaluate(async (id) => {
    const report = await (await fetch(`/fhir/DiagnosticReport/${id}`)).json();
    const first = report.result[0].reference;
    const observation = await (await fetch(`/fhir/${first}`)).json();
    return { unit: observation.valueQuantity.unit, value: observation.valueQuantity.value,
      high: observation.referenceRange[0].high.value, count: report.result.length };
  }, reportId);
  const firstRow = await page.locator('table.values tbody tr').first().innerText();
  assert.equal(await page.locator('table.values tbody tr').count(), expected.count);
  const number = (n) => new Intl.NumberFormat(locale).format(n);
  assert.ok(firstRow.includes(`${number(expected.value)} ${expected.unit}`), `value in "${firstRow}"`);
  assert.ok(firstRow.includes(number(expected.high)), `range in "${firstRow}"`);
  await page.locator('svg.trend').first().waitFor();
  assert.ok(await page.locator('svg.trend circle').count() >= 2, 'a trend has several points');
  await checkPage(page, '07-report', shots);

  // The PDF the server made.
  const [download] = await Promise.all([page.waitForEvent('download'),
    page.locator('a[download]').click()]);
  const pdfPath = join(dir, 'report.pdf');
  await download.saveAs(pdfPath);
  assert.equal(readFileSync(pdfPath).subarray(0, 5).toString(), '%PDF-');

  // Who opened my record: this session's reads are there, by the patient.
  await page.locator('a[href="#/access"]').click();
  await page.getByRole('heading', { level: 1, name: heading.access }).waitFor();
  const times = await page.locator('.events time').evaluateAll((els) => els.map((e) => e.dateTime));
  const recent = times.filter((time) => new Date(time) >= started);
  assert.ok(recent.length >= 3, `accesses of this session are listed (${recent.length})`);
  assert.ok(times[0] >= times[times.length - 1], 'newest first');
  assert.match(await page.locator('.events li').first().innerText(), /Hélène Dupont/);
  assert.ok((await page.locator('.events').innerText()).includes('Binary'), 'the PDF download is listed');
  await checkPage(page, '08-access-history', shots);

  // Sessions: this one is listed; logging out everywhere ends it.
  await page.locator('a[href="#/security"]').click();
  await page.getByRole('heading', { level: 1, name: heading.security }).waitFor();
  assert.ok(await page.locator('.session').count() >= 1);
  await checkPage(page, '09-security', shots);
  await page.locator('main > section > button.secondary').first().click();
  await page.getByRole('heading', { level: 1, name: heading.login }).waitFor();
  const after = await page.evaluate(async () => (await fetch('/auth/me')).status);
  assert.equal(after, 401, 'the session is over');
  watcher.expectRefused(401);

  // Nothing about the patient stays in the URL or in storage.
  assert.doesNotMatch(page.url(), /patient|helene/i);
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  assert.doesNotMatch(stored, /patient|Hélène|DiagnosticReport|Observation/);

  assert.deepEqual(watcher.problems, [], 'no console error and no CSP violation');
  return { context, page, base };
}

test('the patient journey on a desktop, in English', async (t) => {
  const { page } = await journey(t, {
    name: 'desktop-en', viewport: { width: 1280, height: 900 }, locale: 'en-GB',
    heading: { login: 'Log in', activate: 'Activate my account', choose: 'Choose your second step',
      passwordRefused: /contains your name or your login/, enroll: 'Protect your account with a second step',
      recovery: 'Your recovery codes', results: 'My results', secondFactor: 'Second step',
      access: 'Who opened my record', security: 'Sessions and security' },
  });
  // The language switch is remembered across a reload.
  await page.locator('button.language').click();
  await page.getByRole('heading', { level: 1, name: 'Connexion' }).waitFor();
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Connexion' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'fr');
});

test('the patient journey on a 390 px phone, in French', async (t) => {
  const { page } = await journey(t, {
    name: 'phone-fr', viewport: { width: 390, height: 844 }, locale: 'fr-FR',
    heading: { login: 'Connexion', activate: 'Activer mon compte', choose: 'Choisissez votre deuxième étape',
      passwordRefused: /^Le mot de passe contient votre nom ou votre identifiant\./,
      enroll: 'Protégez votre compte par une deuxième étape',
      recovery: 'Vos codes de secours', results: 'Mes résultats', secondFactor: 'Deuxième étape',
      access: 'Qui a consulté mon dossier', security: 'Sessions et sécurité' },
  });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, 'nothing wider than the phone');
});
