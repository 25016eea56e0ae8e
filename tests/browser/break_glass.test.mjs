// The break-the-glass dialog end to end in real Chromium, against POST
// /fhir/Patient/$break-glass (Parameters identifier, reason, text; 200 with patient and
// expires, 401 step-up, 404 unknown). An integration client registers a patient in nobody's
// care; Dr Camille Martin (demo) enrolls, searches that patient's NIR and finds nothing she
// may open, is offered emergency access, reads the warning, gives a reason and a
// justification, and the patient's chart opens. axe-core on the dialog, no console error, no
// CSP violation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDemoVault, startServer, registerClient, requestToken, fhir, password } from '../outside/medvault.mjs';
import { launchChromium, watch, checkPage, enrollStaffWithTotp } from './browser.mjs';

const artifacts = process.env.MEDVAULT_ARTIFACTS ?? join(tmpdir(), 'medvault-break-glass-artifacts');

// A NIR with its key (97 minus the 13 digits modulo 97), made up for this run.
function madeUpNir() {
  const body = `2${String(70 + Math.floor(Math.random() * 29))}0${1 + Math.floor(Math.random() * 9)}75${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
  const key = 97n - (BigInt(body) % 97n);
  return `${body}${String(key).padStart(2, '0')}`;
}

test('a clinician opens a patient outside her care through the break-the-glass dialog', async (t) => {
  const demo = makeDemoVault({ patients: 2 });
  const registrar = registerClient({ vault: demo.vault, keyDir: demo.dir, clientId: 'registrar', scopes: 'system/Patient.crs' });
  const server = await startServer(demo.vault);
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    await server.stop();
    demo.remove();
  });
  const nir = madeUpNir();
  const token = await requestToken(server.base, registrar, 'system/Patient.crs');
  const created = await fhir(server.base, '/Patient', { token, method: 'POST',
    headers: { 'Content-Type': 'application/fhir+json' }, body: JSON.stringify({
      resourceType: 'Patient', name: [{ family: 'Lefort', given: ['Anaïs'] }], birthDate: '1971-05-02', gender: 'female',
      identifier: [{ system: 'urn:oid:1.2.250.1.213.1.4.8', value: nir }] }) });
  assert.equal(created.status, 201, JSON.stringify(created.json));

  const shots = join(artifacts, 'desktop-en');
  mkdirSync(shots, { recursive: true });
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' })).newPage();
  const watcher = watch(page);
  const heading = (name) => page.getByRole('heading', { level: 1, name }).waitFor();
  await enrollStaffWithTotp(page, `http://localhost:${server.port}`, demo.codes['dr.martin'], password);
  await heading('Find a patient');

  // Her search finds no one she may open, and offers emergency access.
  await page.locator('#nir').fill(nir.replace(/(\d)(\d\d)(\d\d)(\d\d)(\d{3})(\d{3})(\d\d)/, '$1 $2 $3 $4 $5 $6 $7'));
  await page.locator('main button[type=submit]').click();
  await page.locator('.search-results button.danger').click();
  const dialog = page.locator('dialog[open]');
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /alerted to the security team/);
  assert.equal((await dialog.locator('#bg-nir').inputValue()).replace(/\s/g, ''), nir, 'the NIR searched is carried over');
  await dialog.locator('#bg-reason').selectOption('emergency');
  await dialog.locator('#bg-text').fill('Unconscious on arrival at the emergency department.');
  await checkPage(page, '01-break-glass', shots);
  await dialog.locator('button[type=submit]').click();

  await heading('Anaïs Lefort');
  assert.match(page.url(), new RegExp(`#/chart/${created.json.id}$`));
  await checkPage(page, '02-chart', shots);
  assert.deepEqual(watcher.problems, [], 'no console error and no CSP violation');
});
