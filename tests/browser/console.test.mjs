// The security console end to end in real Chromium, over the public API of a demo vault: the
// administrator Hugo Petit (demo) enrolls through the portal, creates a clinician account (a
// second administrator approves its role: four eyes) and links it to its Practitioner,
// disables Dr Martin's account, acknowledges the alert her emergency access raised, makes a
// care team and changes its members, and sees the key status; the auditor Inès Moreau (demo)
// reviews that break-the-glass access, searches the audit log, sees the signed checkpoint and
// runs the verifier, at 390 px and in French. axe-core and a screenshot on every page, no
// console error, no CSP violation. Administrators and auditors use TOTP here (the server is
// told to allow it): the journeys are the same with passkeys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDemoVault, startServer, registerClient, requestToken, fhir, password, enrollWithTotp, medvault } from '../outside/medvault.mjs';
import { launchChromium, watch, checkPage, totpCodes, enrollStaffWithTotp } from './browser.mjs';

const artifacts = process.env.MEDVAULT_ARTIFACTS ?? join(tmpdir(), 'medvault-console-artifacts');
const adminTotp = { MEDVAULT_AUTH_SECOND_FACTOR_ADMINISTRATOR: 'passkey_or_totp' };

function shotsDir(name) {
  const dir = join(artifacts, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

// Logs `login` in through the portal's login page with its TOTP (a code after the one its
// enrollment used).
async function logIn(page, base, login, secret) {
  const nextCode = totpCodes(secret);
  await nextCode();
  await page.goto(`${base}/#/login`);
  await page.locator('#login').fill(login);
  await page.locator('#password').fill(password);
  await page.locator('main button[type=submit]').click();
  await page.locator('#code').waitFor();
  await page.locator('#code').fill(await nextCode());
  await page.locator('main button[type=submit]').click();
}

test('administrators and auditors run the security console', async (t) => {
  const demo = makeDemoVault({ patients: 2 });
  // A second administrator, given at once while no administrator is active yet.
  const added = execFileSync(medvault, ['user', 'add', '--dir', demo.vault, '--login', 'admin.roux',
    '--kind', 'administrator', '--name', 'Paul Roux']).toString();
  const rouxCode = added.match(/enrollment code[^:]*: (\S+)/)[1];
  const registrar = registerClient({ vault: demo.vault, keyDir: demo.dir, clientId: 'registrar', scopes: 'system/Patient.crs' });
  const server = await startServer(demo.vault, { ...adminTotp, MEDVAULT_AUDIT_CHECKPOINT_INTERVAL_SECONDS: '1' });
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    await server.stop();
    demo.remove();
  });
  const base = `http://localhost:${server.port}`;

  // Dr Martin opens a patient outside her care: an alert, and an entry in the review queue.
  const token = await requestToken(server.base, registrar, 'system/Patient.crs');
  const patient = await fhir(server.base, '/Patient', { token, method: 'POST',
    headers: { 'Content-Type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Lefort', given: ['Anaïs'] }], birthDate: '1971-05-02' }) });
  assert.equal(patient.status, 201, JSON.stringify(patient.json));
  const martin = await enrollWithTotp(server.base, demo.codes['dr.martin']);
  const glass = await fhir(server.base, `/Patient/${patient.json.id}/$break-glass`, { cookie: martin.cookie, method: 'POST',
    headers: { 'Content-Type': 'application/fhir+json', 'X-CSRF-Token': martin.csrf },
    body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'reason', valueCode: 'emergency' },
      { name: 'text', valueString: 'Unconscious on arrival at the emergency department.' }] }) });
  assert.equal(glass.status, 200, JSON.stringify(glass.json));
  const roux = await enrollWithTotp(server.base, rouxCode);
  const moreau = await enrollWithTotp(server.base, demo.codes['audit.moreau']);

  // ---- Hugo Petit, administrator, desktop, English ----
  const shots = shotsDir('desktop-en');
  const admin = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' })).newPage();
  const adminWatch = watch(admin);
  const heading = (page, name) => page.getByRole('heading', { level: 1, name }).waitFor();
  await enrollStaffWithTotp(admin, base, demo.codes['admin.petit'], password);
  await heading(admin, 'Accounts');
  await admin.locator('table.console').waitFor();
  const accounts = await admin.locator('table.console').innerText();
  for (const login of ['admin.petit', 'admin.roux', 'audit.moreau', 'dr.martin', 'lab.bernard']) assert.match(accounts, new RegExp(login));
  assert.match(accounts, /authenticator app/, 'factor kinds are listed');
  await checkPage(admin, '01-accounts', shots);

  // Filters: the pending accounts only.
  await admin.locator('#filter-status').selectOption('pending');
  await admin.locator('form.filters-form button[type=submit]').click();
  await admin.locator('table.console', { hasText: 'lab.bernard' }).waitFor();
  assert.doesNotMatch(await admin.locator('table.console').innerText(), /dr\.martin/);

  // A clinician's account: it waits for a second administrator.
  await admin.locator('#new-login').fill('dr.nouveau');
  await admin.locator('#new-kind').selectOption('clinician');
  await admin.locator('#new-name').fill('Dr Jeanne Nouveau');
  await admin.getByRole('button', { name: 'Create the account' }).click();
  await admin.getByText(/dr\.nouveau is created/).waitFor();
  await checkPage(admin, '02-account-created', shots);

  // Dr Nouveau is linked to her Practitioner; a lab's Organization does not suit a clinician.
  const practitioners = await fhir(server.base, '/Practitioner?_count=1', { cookie: martin.cookie });
  assert.equal(practitioners.status, 200, JSON.stringify(practitioners.json));
  const practitioner = `Practitioner/${practitioners.json.entry[0].resource.id}`;
  await admin.locator('#link-login').fill('dr.nouveau');
  await admin.locator('#link-target').fill('Organization/nowhere');
  await admin.getByRole('button', { name: 'Link', exact: true }).click();
  await admin.getByText(/a clinician links to a Practitioner/).waitFor();
  adminWatch.expectRefused(400);
  await admin.locator('#link-target').fill(practitioner);
  await admin.getByRole('button', { name: 'Link', exact: true }).click();
  await admin.getByText(`dr.nouveau now acts as ${practitioner}.`).waitFor();
  const shown = execFileSync(medvault, ['user', 'show', '--dir', demo.vault, 'dr.nouveau']).toString();
  assert.match(shown, new RegExp(`linked to ${practitioner}`));

  // Dr Martin's account is disabled: her session ends at once.
  await admin.locator('#filter-status').selectOption('');
  await admin.locator('form.filters-form button[type=submit]').click();
  await admin.getByRole('button', { name: 'Disable dr.martin' }).click();
  await admin.getByText('dr.martin is disabled: its sessions ended.').waitFor();
  assert.equal((await fhir(server.base, '/metadata', { cookie: martin.cookie })).status, 200);
  const me = await fetch(`${server.base}/auth/me`, { headers: { Cookie: martin.cookie } });
  assert.equal(me.status, 401, 'her session ended');
  await admin.getByRole('button', { name: 'Reinstate dr.martin' }).waitFor();

  // The alert feed: her emergency access, acknowledged.
  await admin.goto(`${base}/#/alerts`);
  await heading(admin, 'Security alerts');
  const alert = admin.locator('.alert-item', { hasText: 'Emergency access' }).first();
  await alert.getByRole('button', { name: /Acknowledge alert/ }).click();
  await alert.getByText(/Acknowledged by you/).waitFor();
  await checkPage(admin, '03-alerts', shots);

  // Care teams: one made for the new patient, a member added, then removed.
  await admin.goto(`${base}/#/teams`);
  await heading(admin, 'Care teams');
  await admin.locator('#team-patient').fill(patient.json.id);
  await admin.getByRole('button', { name: 'Show the care teams' }).click();
  await admin.getByText('This patient has no care team.').waitFor();
  await admin.locator('#team-name').fill('Emergency department');
  await admin.getByRole('button', { name: 'Create the care team' }).click();
  await admin.getByText('Care team created.').waitFor();
  const team = admin.locator('li.team', { hasText: 'Emergency department' });
  assert.equal(await team.locator('ul.members li').count(), 1);
  const another = await team.locator('select option').nth(1).getAttribute('value');
  await team.locator('select').selectOption(another);
  await team.getByRole('button', { name: 'Add', exact: true }).click();
  await admin.getByText('Member added.').waitFor();
  assert.equal(await team.locator('ul.members li').count(), 2);
  await checkPage(admin, '04-teams', shots);
  await team.locator('ul.members li').nth(1).getByRole('button', { name: /^Remove / }).click();
  await admin.getByText('Member removed.').waitFor();
  assert.equal(await team.locator('ul.members li').count(), 1);

  // Keys and the last checkpoint, without key material.
  await admin.goto(`${base}/#/keys`);
  await heading(admin, 'Master keys');
  await admin.getByText('No rotation under way.').waitFor();
  assert.match(await admin.locator('pre.key-lines').innerText(), /loaded versions: 1 \(active 1\)/);
  await admin.locator('dl.facts').waitFor();
  await checkPage(admin, '05-keys', shots);
  assert.deepEqual(adminWatch.problems, [], 'no console error and no CSP violation (administrator)');

  // ---- Paul Roux, the second administrator: the four-eyes approval ----
  const second = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' })).newPage();
  const secondWatch = watch(second);
  await logIn(second, base, 'admin.roux', roux.secret);
  await heading(second, 'Accounts');
  await second.goto(`${base}/#/approvals`);
  await heading(second, 'Approvals');
  await second.getByRole('button', { name: 'Approve the role of dr.nouveau' }).click();
  await second.getByText('Approved.').waitFor();
  await checkPage(second, '06-approvals', shots);
  assert.deepEqual(secondWatch.problems, [], 'no console error and no CSP violation (second administrator)');

  // ---- Inès Moreau, auditor, 390 px, French ----
  const phoneShots = shotsDir('phone-fr');
  const auditor = await (await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'fr-FR', isMobile: true, hasTouch: true })).newPage();
  const auditorWatch = watch(auditor);
  await logIn(auditor, base, 'audit.moreau', moreau.secret);
  await heading(auditor, 'Alertes de sécurité');
  await auditor.locator('.alert-item', { hasText: 'Accès d’urgence' }).first().getByText(/Prise en compte par/).waitFor();
  await checkPage(auditor, '01-alertes', phoneShots);

  await auditor.goto(`${base}/#/review`);
  await heading(auditor, 'Accès d’urgence à examiner');
  const grant = auditor.locator('li.entry', { hasText: 'Unconscious on arrival' });
  await grant.locator('textarea').fill('Admission confirmée par le service des urgences.');
  await checkPage(auditor, '02-examen', phoneShots);
  await grant.getByRole('button', { name: 'Marquer comme examiné' }).click();
  await auditor.getByText('Examiné.').waitFor();

  await auditor.goto(`${base}/#/audit`);
  await heading(auditor, 'Journal d’audit');
  await auditor.locator('#q-action').selectOption('break_the_glass');
  await auditor.getByRole('button', { name: 'Rechercher dans le journal' }).click();
  await auditor.getByText(/^1 entrée|^\d+ entrées/).waitFor();
  assert.match(await auditor.locator('table.console').innerText(), /break_the_glass/);
  await checkPage(auditor, '03-journal', phoneShots);

  await auditor.goto(`${base}/#/integrity`);
  await heading(auditor, 'Intégrité du journal');
  await auditor.locator('dl.facts').getByText('valide').waitFor();
  await auditor.getByRole('button', { name: 'Vérifier maintenant' }).click();
  await auditor.getByText('Intact', { exact: true }).waitFor({ timeout: 60000 });
  assert.match(await auditor.locator('code.summary').innerText(), /^audit log intact: /);
  await checkPage(auditor, '04-integrite', phoneShots);
  assert.deepEqual(auditorWatch.problems, [], 'no console error and no CSP violation (auditor)');
});

// With the defaults (administrators use passkeys only), an action whose second factor is no
// longer fresh asks for the passkey in the step-up dialog, and then goes through.
test('an administrator with a passkey steps up with it in the console', async (t) => {
  const demo = makeDemoVault({ patients: 0 });
  const server = await startServer(demo.vault);
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    await server.stop();
    demo.remove();
  });
  const shots = shotsDir('desktop-passkey');
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' })).newPage();
  const watcher = watch(page);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });
  const heading = (name) => page.getByRole('heading', { level: 1, name }).waitFor();
  await page.goto(`http://localhost:${server.port}/#/enroll`);
  await page.locator('#code').fill(demo.codes['admin.petit']);
  await page.locator('#password').fill(password);
  await page.locator('#password2').fill(password);
  await page.locator('main button[type=submit]').click();
  await heading('Create a passkey');
  await page.locator('main button[type=submit]').click();
  await page.locator('.codes code').first().waitFor({ timeout: 120000 });
  await page.locator('main button.primary').click();
  await heading('Accounts');
  const enrolled = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0];

  // An hour later, as far as the session knows: the second factor is no longer fresh.
  execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(demo.vault, 'data', 'medvault.db'),
    'UPDATE sessions SET second_factor_at = second_factor_at - 3600000000']);
  await page.getByRole('button', { name: 'Reset enrollment of lab.bernard' }).click();
  const stepUp = page.locator('dialog[open]');
  await stepUp.waitFor();
  await checkPage(page, '01-step-up', shots);
  watcher.expectRefused(403);
  await stepUp.getByRole('button', { name: 'Confirm with my passkey' }).click();
  await page.getByText(/lab\.bernard must enroll again with this one-time code/).waitFor();
  const after = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0];
  assert.ok(after.signCount > enrolled.signCount, 'the step-up used the passkey');
  assert.deepEqual(watcher.problems, [], 'no console error and no CSP violation');
});
