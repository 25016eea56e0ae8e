// The clinician workspace end to end in real Chromium, on a fresh demo vault served by the real
// medvault binary over plain HTTP on loopback (reached as http://localhost:PORT, a secure
// context): Dr Camille Martin enrolls with her one-time code (TOTP, recovery codes), logs out
// and in again, searches for a patient (an empty search says so and offers emergency access),
// opens Hélène Dupont's chart, is asked by the exfiltration guard to step up (a TOTP code in
// the dialog, then the chart opens), sees a result's trend, writes a note and a prescription
// (first refused by the server, which the page shows next to the input) and finds them in the
// chart. On a desktop in English and on a 390 px phone in French. Every page is checked with
// axe-core (no serious or critical violation), and the run must log no console error and no
// CSP violation. Screenshots go to MEDVAULT_ARTIFACTS; MEDVAULT_BINARY names the executable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { password } from '../outside/medvault.mjs';
import { openDemo, newPage, checkPage, totpCodes } from './browser.mjs';

// The ten recovery codes are hashed with Argon2id before they are shown: slow under ASan on a
// busy machine.
const slowHashing = 120000;
const artifacts = process.env.MEDVAULT_ARTIFACTS ?? join(tmpdir(), 'medvault-workspace-artifacts');

// The guard asks for a step-up from the third search of the day (5 % of 60) and suspends
// beyond 60: the journey steps up once, when the chart opens, and stays well under.
const guardEnv = {
  MEDVAULT_GUARD_STEP_UP_PERCENT: '5',
  MEDVAULT_GUARD_CLINICIAN: 'patients 100000/100000/100000, records 100000/100000/100000, bytes 1G/1G/1G, searches 100000/100000/60, breadth 1000',
};

async function journey(t, { name, viewport, locale, text }) {
  const { demo, server, browser } = await openDemo(t, { patients: 5, env: guardEnv });
  const shots = join(artifacts, name);
  mkdirSync(shots, { recursive: true });
  const { page, watcher } = await newPage(browser, { viewport, locale });
  const heading = (name) => page.getByRole('heading', { level: 1, name }).waitFor();
  const submit = (scope = page.locator('main')) => scope.locator('button[type=submit]').first().click();

  // Enrollment with the one-time code: a TOTP secret, then ten recovery codes.
  await page.goto(`http://localhost:${server.port}/`);
  await heading(text.login);
  await page.locator('a[href="#/enroll"]').click();
  await heading(text.enroll);
  await page.locator('#code').fill(demo.codes['dr.martin']);
  await page.locator('#password').fill(password);
  await page.locator('#password2').fill(password);
  await checkPage(page, '01-enroll', shots);
  await submit();
  await heading(text.chooseFactor);
  await checkPage(page, '02-choose-factor', shots);
  await page.locator('main button.primary').click();
  await page.locator('.qr svg path').first().waitFor();
  const secret = (await page.locator('.secret').innerText()).replace(/\s/g, '');
  const nextCode = totpCodes(secret);
  await page.locator('#code').fill(await nextCode());
  await submit();
  await page.locator('.codes code').first().waitFor({ timeout: slowHashing });
  assert.equal(await page.locator('.codes code').count(), 10);
  await page.locator('main button.primary').click();
  await heading(text.patients);

  // Log out, log in with the password and the next TOTP code: the clinician's home page.
  await page.locator('header nav button').click();
  await heading(text.login);
  await page.locator('#login').fill('dr.martin');
  await page.locator('#password').fill(password);
  await submit();
  await page.locator('#code').fill(await nextCode());
  await submit();
  await heading(text.patients);
  assert.ok(page.url().endsWith('#/patients'));
  await checkPage(page, '03-search', shots);

  // A search that finds no patient in her care says so and offers emergency access.
  await page.locator('#family').fill('zzz');
  await submit();
  await page.locator('.search-results .notice').waitFor();
  assert.match(await page.locator('.search-results').innerText(), text.noPatient);
  assert.equal(await page.locator('.search-results button.danger').count(), 1);
  await checkPage(page, '04-search-empty', shots);

  // Name prefix and birth date: Hélène Dupont.
  await page.locator('#family').fill('dup');
  await page.locator('#birthdate').fill('1984-12-03');
  await submit();
  await page.locator('.patients li a').first().waitFor();
  assert.equal(await page.locator('.patients li').count(), 1);
  assert.match(await page.locator('.patients li').innerText(), /Hélène Dupont[\s\S]*NIR \d{15}/);
  await checkPage(page, '05-search-found', shots);

  // The chart: the guard near its search budget asks for a fresh second factor first.
  await page.locator('.patients li a').first().click();
  const stepUp = page.locator('dialog[open]');
  await stepUp.waitFor();
  assert.match(await stepUp.innerText(), text.stepUp);
  await checkPage(page, '06-step-up', shots);
  watcher.expectRefused(401, 'all');
  await stepUp.locator('input').fill(await nextCode());
  await submit(stepUp);
  await heading('Hélène Dupont');
  const chart = page.locator('main');
  assert.match(await chart.locator('section[aria-labelledby=allergies]').innerText(), /Pénicillines[\s\S]*Urticaire/);
  assert.match(await chart.locator('section[aria-labelledby=conditions]').innerText(), /Hypothyroïdie[\s\S]*E03\.9/);
  assert.ok(await chart.locator('section[aria-labelledby=prescriptions] li').count() >= 1);
  assert.ok(await chart.locator('section[aria-labelledby=reports] li').count() >= 2);
  const notesBefore = await chart.locator('.note').count();
  assert.ok(notesBefore >= 1, 'the GP notes are shown');
  await checkPage(page, '07-chart', shots);

  // A result with its values and trends.
  await chart.locator('section[aria-labelledby=reports] li a').first().click();
  await page.locator('table.values tbody tr').first().waitFor();
  await page.locator('svg.trend circle').first().waitFor();
  assert.ok(await page.locator('svg.trend circle').count() >= 2, 'a trend has several points');
  await checkPage(page, '08-result', shots);
  await page.locator('main a[href^="#/chart/"]').click();
  await heading('Hélène Dupont');

  // A note, written inline, is the newest in the chart.
  const note = `${text.noteText} ${Date.now()}`;
  await page.locator('#note-text').fill(note);
  await submit(page.locator('section[aria-labelledby=write-note]'));
  await page.getByRole('status').filter({ hasText: text.noteSaved }).waitFor();
  assert.equal(await page.locator('.note .note-text').first().innerText(), note);

  // A prescription the server refuses (no dose a day) shows why, at the input; fixed, it is saved.
  const prescriptions = await page.locator('section[aria-labelledby=prescriptions] li').count();
  const rx = page.locator('section[aria-labelledby=write-rx]');
  await page.locator('#rx-medication').fill('Lévothyroxine 75 µg, comprimé');
  await page.locator('#rx-atc').fill('h03aa01');
  await page.locator('#rx-dosage').fill(text.dosage);
  await page.locator('#rx-per-day').fill('0');
  await page.locator('#rx-days').fill('90');
  await submit(rx);
  const refusal = rx.getByRole('alert');
  await refusal.waitFor();
  assert.match(await refusal.innerText(), text.refusedPerDay);
  assert.equal(await page.locator('#rx-per-day').getAttribute('aria-invalid'), 'true');
  watcher.expectRefused(400);
  await checkPage(page, '09-prescription-refused', shots);
  await page.locator('#rx-per-day').fill('1');
  await submit(rx);
  await page.getByRole('status').filter({ hasText: text.prescriptionSaved }).waitFor();
  const list = page.locator('section[aria-labelledby=prescriptions]');
  assert.equal(await list.locator('li').count(), Math.min(prescriptions + 1, 20));
  assert.match(await list.locator('li').first().innerText(), /Lévothyroxine 75 µg[\s\S]*H03AA01/);
  await checkPage(page, '10-chart-after', shots);

  // Nothing about the patient in the URL or in storage.
  assert.match(page.url(), /#\/chart\/[0-9a-f-]+$/);
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  assert.doesNotMatch(stored, /Dupont|Hélène|Patient|Lévothyroxine/);
  if (viewport.width < 500) {
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth), false,
      'nothing wider than the phone');
  }
  assert.deepEqual(watcher.problems, [], 'no console error and no CSP violation');
}

test('the clinician journey on a desktop, in English', (t) => journey(t, {
  name: 'desktop-en', viewport: { width: 1280, height: 900 }, locale: 'en-GB',
  text: { login: 'Log in', enroll: 'Enroll my staff account', chooseFactor: 'Choose your second step',
    patients: 'Find a patient', noPatient: /No patient in your care/, stepUp: /Confirm it is you/,
    noteText: 'Seen today: TSH to recheck in 6 weeks.', noteSaved: 'The note is saved.',
    dosage: '1 tablet in the morning', refusedPerDay: /Doses per day[^:]*: the value must be a positive integer/,
    prescriptionSaved: 'The prescription is saved.' },
}));

test('the clinician journey on a 390 px phone, in French', (t) => journey(t, {
  name: 'phone-fr', viewport: { width: 390, height: 844 }, locale: 'fr-FR',
  text: { login: 'Connexion', enroll: 'Enrôler mon compte professionnel', chooseFactor: 'Choisissez votre deuxième étape',
    patients: 'Trouver un patient', noPatient: /Aucun patient que vous suivez/, stepUp: /Confirmez que c’est vous/,
    noteText: 'Vue ce jour : TSH à recontrôler dans 6 semaines.', noteSaved: 'La note est enregistrée.',
    dosage: '1 comprimé le matin', refusedPerDay: /Prises par jour[^:]*: the value must be a positive integer/,
    prescriptionSaved: 'La prescription est enregistrée.' },
}));
