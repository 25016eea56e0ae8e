// The lab staff pages end to end in real Chromium, on a fresh demo vault served by the real
// medvault binary with its MLLP listener (plain, loopback). simple-hl7 (npm) sends two real
// ORU^R01 messages first: one is taken (a preliminary report), one without a patient
// identifier is refused (AE) and held in the quarantine. Then, through the page only, the
// demo's lab technician Léa Bernard enrolls (TOTP) and lands on her lab's worklist with the
// preliminary report, finds it too by its accession number, opens it from the worklist, checks
// its values and flags against the message, validates and releases it (it leaves the
// worklist); then opens the quarantined message, meets a version conflict (another technician saved
// it meanwhile), fixes the text, saves it and replays it: the acknowledgement is AA. Every page
// is checked with axe-core, and the run logs no console error and no CSP violation beyond the
// refusal it provokes. The worklist is seen again on a 390 px phone in English.
// Screenshots go to MEDVAULT_ARTIFACTS; MEDVAULT_BINARY names the binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import hl7 from 'simple-hl7';
import { makeDemoVault, startServer, registerClient, password } from '../outside/medvault.mjs';
import { launchChromium, watch, checkPage, totpCodes } from './browser.mjs';

// The ten recovery codes are hashed with Argon2id before they are shown: slow under ASan on a
// busy machine.
const slowHashing = 120000;
const artifacts = process.env.MEDVAULT_ARTIFACTS ?? join(tmpdir(), 'medvault-lab-artifacts');
const messages = join(dirname(fileURLToPath(import.meta.url)), '../lab/messages');
const feedScopes = 'system/Patient.crs system/Organization.crs system/Practitioner.crs ' +
  'system/DiagnosticReport.cru system/Observation.cru';

const messageText = (name) => readFileSync(join(messages, name), 'utf8').trimEnd();

// Sends one message file over MLLP; resolves with the MSA-1 acknowledgement code.
function send(port, name) {
  const parsed = new hl7.Parser({ segmentSeperator: '\n' }).parse(messageText(name));
  return new Promise((resolve, reject) => {
    const client = hl7.Server.createTcpClient({ host: '127.0.0.1', port, keepalive: false });
    client.send(parsed, (error, ack) => (error ? reject(error) : resolve(String(ack.getSegment('MSA').getField(1)))));
  });
}

test('the lab technician validates a preliminary report and fixes and replays a quarantined message', async (t) => {
  const demo = makeDemoVault({ patients: 2 });
  registerClient({ vault: demo.vault, keyDir: demo.dir, clientId: 'lab-feed', scopes: feedScopes });
  const server = await startServer(demo.vault, {
    MEDVAULT_LAB_MLLP_LISTEN: '127.0.0.1:0', MEDVAULT_LAB_MLLP_TLS: 'false', MEDVAULT_LAB_CLIENT_ID: 'lab-feed',
  });
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    await server.stop();
    demo.remove();
  });
  const mllp = Number(server.output().match(/"event":"mllp_listening","address":"127\.0\.0\.1:(\d+)"/)[1]);
  assert.equal(await send(mllp, 'oru_cbc.hl7'), 'AA');
  assert.equal(await send(mllp, 'oru_missing_pid3.hl7'), 'AE');

  const shots = join(artifacts, 'desktop-fr');
  mkdirSync(shots, { recursive: true });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'fr-FR' });
  const page = await context.newPage();
  const watcher = watch(page);
  // On a timeout, what the page logged says why.
  const heading = (name) => page.getByRole('heading', { level: 1, name }).waitFor()
    .catch((e) => { throw new Error(`${e.message}: ${watcher.problems.join(' / ')}`); });
  const submit = (scope = page.locator('main')) => scope.locator('button[type=submit]').first().click();

  // Enrollment with the one-time code and an authenticator app.
  await page.goto(`http://localhost:${server.port}/#/enroll`);
  await heading('Enrôler mon compte professionnel');
  await page.locator('#code').fill(demo.codes['lab.bernard']);
  await page.locator('#password').fill(password);
  await page.locator('#password2').fill(password);
  await submit();
  await heading('Choisissez votre deuxième étape');
  await page.locator('main button.primary').click();
  await page.locator('.qr svg path').first().waitFor();
  const nextCode = totpCodes((await page.locator('.secret').innerText()).replace(/\s/g, ''));
  await page.locator('#code').fill(await nextCode());
  await submit();
  await page.locator('.codes code').first().waitFor({ timeout: slowHashing });
  await page.locator('main button.primary').click();

  // The first view: the lab's worklist, with the report the feed just brought (the demo lab is
  // the message's sending facility), its patient, its test and its flags.
  await heading('Comptes rendus à valider');
  const entries = page.locator('.worklist li.worklist-entry');
  await entries.first().waitFor();
  assert.equal(await entries.count(), 1);
  const entry = await entries.innerText();
  assert.match(entry, /Dupont/);
  assert.match(entry, /Provisoire/);
  assert.match(entry, /Valeurs hors normes/);
  assert.match(entry, /Reçu le/);
  await checkPage(page, '01-worklist', shots);

  // The same report by the accession number of its order (OBR-3).
  await page.locator('a[href="#/incoming"]').click();
  await heading('Rechercher un compte rendu');
  const obr = messageText('oru_cbc.hl7').split('\n').find((s) => s.startsWith('OBR|')).split('|');
  await page.locator('#accession').fill(obr[3]);
  await submit(page.locator('main form').first());
  await page.locator('.reports li a').waitFor();
  assert.equal(await page.locator('.reports li').count(), 1);
  assert.match(await page.locator('.reports li').innerText(), /Provisoire/);
  await checkPage(page, '02-found', shots);

  // Validation from the worklist: the report's values with the message's.
  await page.locator('a[href="#/worklist"]').first().click();
  await heading('Comptes rendus à valider');
  await page.locator('.worklist li.worklist-entry a.button').click();
  await page.locator('table.values tbody tr').first().waitFor();
  const obx = messageText('oru_cbc.hl7').split('\n').filter((s) => s.startsWith('OBX|')).map((s) => s.split('|'));
  const rows = await page.locator('table.values tbody tr').allInnerTexts();
  assert.equal(rows.length, obx.length);
  const number = (text) => new Intl.NumberFormat('fr-FR').format(Number(text));
  for (const fields of obx) {
    const row = rows.find((r) => r.includes(`${number(fields[5])} ${fields[6].split('^')[0]}`));
    assert.ok(row, `the value of ${fields[3]} is shown`);
    if (fields[8].startsWith('L')) assert.match(row, /▼\s*Bas/, `${fields[3]} is flagged low`);
    if (fields[8].startsWith('H')) assert.match(row, /▲\s*Élevé/, `${fields[3]} is flagged high`);
  }
  assert.match(await page.locator('main .meta').innerText(), /Provisoire/);
  await checkPage(page, '03-to-validate', shots);

  // Validation: the report and its results become final, with the validator, and a PDF.
  await submit();
  await page.getByText('Validé et diffusé.').waitFor();
  const reportId = decodeURIComponent(page.url().split('#/validate/')[1]);
  const released = await page.evaluate(async (id) => (await (await fetch(`/fhir/DiagnosticReport/${id}`)).json()), reportId);
  assert.equal(released.status, 'final');
  assert.equal(released.resultsInterpreter.at(-1).display, 'Léa Bernard');
  assert.match(await page.locator('main .meta').innerText(), /Définitif/);
  assert.equal(await page.locator('main a[download]').count(), 1, `the PDF is offered: ${JSON.stringify(released.presentedForm)}`);
  await checkPage(page, '04-released', shots);
  // Off the worklist once released.
  await page.locator('main a[href="#/worklist"]').click();
  await heading('Comptes rendus à valider');
  await page.locator('.worklist li.empty').waitFor();
  assert.equal(await page.locator('.worklist li.worklist-entry').count(), 0);

  // The quarantine: the held message and why, no health data in the list.
  await page.locator('a[href="#/quarantine"]').click();
  await heading('Quarantaine HL7');
  const held = page.locator('.entries li.state-held');
  await held.first().waitFor();
  assert.equal(await held.count(), 1);
  assert.match(await held.innerText(), /PID-3/);
  assert.doesNotMatch(await page.locator('main').innerText(), /Dupont/);
  await checkPage(page, '05-quarantine', shots);
  await held.locator('a').click();
  await heading('Message en quarantaine');
  const editor = page.locator('#hl7');
  const original = await editor.inputValue();
  assert.equal(original, messageText('oru_missing_pid3.hl7'), 'the message as received, a segment a line');
  await checkPage(page, '06-message', shots);

  // Another technician saves it meanwhile: this page's save is refused, nothing is lost.
  const id = decodeURIComponent(page.url().split('#/message/')[1]);
  const other = await page.evaluate(async ({ id, text }) => {
    const headers = { 'Content-Type': 'application/json', 'X-CSRF-Token': sessionStorage.getItem('medvault.csrf') };
    const current = await (await fetch(`/lab/quarantine/${id}`)).json();
    return (await fetch(`/lab/quarantine/${id}`, { method: 'PUT', headers,
      body: JSON.stringify({ message: text, version: current.version }) })).status;
  }, { id, text: original.replace(/\n/g, '\r') });
  assert.equal(other, 200);
  const fixed = original.replace('PID|1||||', 'PID|1||LAB777^^^LBM-QUAIS^PI||');
  assert.notEqual(fixed, original);
  await editor.fill(fixed);
  await submit();
  const conflict = page.locator('main form [role=alert]');
  await conflict.waitFor();
  assert.match(await conflict.innerText(), /modifié ce message entre-temps/);
  assert.equal(await editor.inputValue(), fixed, 'the edit is still there');
  watcher.expectRefused(409);

  // Reload, fix, save with the current version, replay: accepted.
  await page.reload();
  await heading('Message en quarantaine');
  await editor.fill(fixed);
  await submit();
  await page.getByText(/Enregistré en version \d+\./).waitFor();
  await page.locator('main > section > button.secondary').click();
  await page.locator('pre.ack').waitFor();
  assert.match(await page.locator('pre.ack').innerText(), /^MSA\|AA\|/m);
  assert.match(await page.locator('main').innerText(), /Accepté \(AA\)/);
  assert.match(await page.locator('main .meta').innerText(), /rejoué/);
  await checkPage(page, '07-replayed', shots);
  const patients = await page.evaluate(async () => (await (await fetch(
    `/fhir/Patient?identifier=${encodeURIComponent('urn:medvault:hl7v2:LBM-QUAIS|LAB777')}`)).json()).total);
  assert.equal(patients, 1, 'the fixed message created its patient');

  // The worklist on a 390 px phone, in English: the replayed message's report waits there.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('button.language').click();
  await page.locator('a[href="#/worklist"]').first().click();
  await heading('Reports to validate');
  await page.locator('.worklist li.worklist-entry').first().waitFor();
  assert.match(await page.locator('.worklist li.worklist-entry').first().innerText(), /Validate and release/);
  const phone = join(artifacts, 'phone-en');
  mkdirSync(phone, { recursive: true });
  await checkPage(page, '08-worklist', phone);

  assert.doesNotMatch(page.url(), /Dupont|LAB777/);
  assert.deepEqual(watcher.problems, [], 'no console error and no CSP violation');
});
