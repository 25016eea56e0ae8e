// Passkeys end to end in real Chromium: a virtual authenticator (Chrome DevTools Protocol
// WebAuthn domain) registers a passkey through medvault's enrollment endpoints, logs in with
// it, and a cloned authenticator (its signature counter set back) and a tampered assertion
// are refused; then the same through the portal's pages (staff enrollment with a passkey, login
// with password and passkey). The vault is served over plain HTTP on 127.0.0.1 and reached as
// http://localhost:PORT, a secure context (WebAuthn refuses pages with TLS errors).
// MEDVAULT_BINARY names the medvault executable (ctest sets it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { openDemo, newPage } from './browser.mjs';

const medvault = process.env.MEDVAULT_BINARY;
const password = 'violet tram ledger quietly orbits 7';

function startServer(vault) {
  return new Promise((resolve, reject) => {
    const child = spawn(medvault, ['serve', '--dir', vault], {
      env: {
        ...process.env,
        MEDVAULT_SERVER_LISTEN: '127.0.0.1:0',
        MEDVAULT_SERVER_TLS: 'false',
        MEDVAULT_AUTH_SOURCE_BURST: '100000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const onData = (chunk) => {
      output += chunk.toString();
      const match = output.match(/"event":"listening","address":"127\.0\.0\.1:(\d+)"/);
      if (match) resolve({ child, port: Number(match[1]), output: () => output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`medvault serve exited ${code}: ${output}`)));
  });
}

test('a passkey registers, logs in, and a cloned or tampered one is refused', async (t) => {
  assert.ok(medvault, 'set MEDVAULT_BINARY to the medvault executable');
  const dir = mkdtempSync(join(tmpdir(), 'medvault-passkey-'));
  const vault = join(dir, 'vault');
  execFileSync(medvault, ['init', '--dir', vault]);
  const added = execFileSync(medvault, ['user', 'add', '--dir', vault, '--login', 'admin.petit',
    '--kind', 'administrator', '--name', 'Hugo Petit']).toString();
  const code = added.match(/enrollment code[^:]*: ([0-9A-Z-]{19})/)[1];
  const server = await startServer(vault);
  const profile = join(dir, 'profile');
  mkdirSync(profile);
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(async () => {
    await browser.close();
    server.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });
  const page = browser.pages()[0] ?? await browser.newPage();
  await page.goto(`http://localhost:${server.port}/healthz`);
  const cdp = await browser.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true },
  });

  // Enrollment: code and password, then the passkey ceremony.
  const enrolled = await page.evaluate(async ({ code, password }) => {
    const post = (path, body) => fetch(path, { method: 'POST', body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' } });
    const start = await (await post('/auth/enroll', { code, password })).json();
    const options = await (await post('/auth/enroll/passkey/options',
      { enrollment_token: start.enrollment_token })).json();
    const credential = await navigator.credentials.create(
      { publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
    const done = await post('/auth/enroll/passkey', { enrollment_token: start.enrollment_token,
      credential: JSON.stringify(credential.toJSON()) });
    return { factors: start.factors, status: done.status, body: await done.json() };
  }, { code, password });
  assert.deepEqual(enrolled.factors, ['passkey'], 'administrators enroll passkeys only');
  assert.equal(enrolled.status, 200, JSON.stringify(enrolled.body));
  assert.equal(enrolled.body.recovery_codes.length, 10);

  // Login: password, then the passkey; the session cookie opens /auth/me.
  const login = (tamper) => page.evaluate(async ({ password, tamper }) => {
    const post = (path, body) => fetch(path, { method: 'POST', body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' } });
    const pending = await (await post('/auth/login',
      { login: 'admin.petit', password })).json();
    const options = await (await post('/auth/login/passkey/options',
      { pending_token: pending.pending_token })).json();
    const assertion = await navigator.credentials.get(
      { publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
    const json = assertion.toJSON();
    if (tamper) {
      const sig = json.response.signature;
      json.response.signature = (sig[5] === 'A' ? 'B' : 'A') + sig.slice(1);
    }
    const done = await post('/auth/login/passkey', { pending_token: pending.pending_token,
      credential: JSON.stringify(json) });
    const me = await fetch('/auth/me');
    return { factors: pending.factors, status: done.status, me: me.status,
      body: await done.json(), meBody: me.status === 200 ? await me.json() : null };
  }, { password, tamper });

  const ok = await login(false);
  assert.ok(ok.factors.includes('passkey'));
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.me, 200);
  assert.equal(ok.meBody.kind, 'administrator');

  // Step-up with the passkey: a new token whose second factor is fresh.
  const stepped = await page.evaluate(async (csrf) => {
    const post = (path, body) => fetch(path, { method: 'POST', body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf } });
    const options = await (await post('/auth/step-up/passkey/options', {})).json();
    const assertion = await navigator.credentials.get(
      { publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
    const done = await post('/auth/step-up/passkey',
      { credential: JSON.stringify(assertion.toJSON()) });
    const me = await (await fetch('/auth/me')).json();
    return { status: done.status, fresh: me.second_factor_fresh, session: me.session_id };
  }, ok.body.csrf_token);
  assert.equal(stepped.status, 200);
  assert.equal(stepped.fresh, true);
  assert.notEqual(stepped.session, ok.meBody.session_id, 'a new session id after step-up');

  const tampered = await login(true);
  assert.equal(tampered.status, 401, 'a tampered signature is refused');

  // Clone: the same key with its signature counter set back.
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  const original = credentials[0];
  assert.ok(original.signCount > 0, 'the virtual authenticator counts signatures');
  await cdp.send('WebAuthn.removeCredential',
    { authenticatorId, credentialId: original.credentialId });
  await cdp.send('WebAuthn.addCredential', { authenticatorId,
    credential: { ...original, signCount: 0 } });
  const cloned = await login(false);
  assert.equal(cloned.status, 401, 'a counter that went back means a possible clone');
  assert.match(server.output(), /"outcome":"clone_suspected"/);
});

// The same ceremonies through the page: a clinician enrolls with her one-time code and a
// passkey (the virtual authenticator), logs out, and logs in with password and passkey.
test('a staff account enrolls a passkey and logs in with it through the page', async (t) => {
  assert.ok(medvault, 'set MEDVAULT_BINARY to the medvault executable');
  const { demo, server, browser } = await openDemo(t);
  const { page, watcher } = await newPage(browser, { viewport: { width: 1280, height: 720 }, locale: 'en-GB' });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true },
  });
  const heading = (name) => page.getByRole('heading', { level: 1, name }).waitFor();

  await page.goto(`http://localhost:${server.port}/#/enroll`);
  await heading('Enroll my staff account');
  await page.locator('#code').fill(demo.codes['dr.martin']);
  await page.locator('#password').fill(password);
  await page.locator('#password2').fill(password);
  await page.locator('main button[type=submit]').click();
  await heading('Choose your second step');
  await page.locator('main button.secondary').click();
  await heading('Create a passkey');
  await page.locator('main button[type=submit]').click();
  // The ten recovery codes are hashed with Argon2id before they are shown: slow under ASan.
  await page.getByRole('heading', { level: 1, name: 'Your recovery codes' }).waitFor({ timeout: 120000 });
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1, 'the authenticator holds the new passkey');
  await page.locator('main button.primary').click();
  await heading('Find a patient');

  await page.locator('header nav button').click();
  await heading('Log in');
  await page.locator('#login').fill('dr.martin');
  await page.locator('#password').fill(password);
  await page.locator('main button[type=submit]').click();
  await heading('Second step');
  await page.locator('main button[type=submit]').click();
  await heading('Find a patient');
  const me = await page.evaluate(async () => (await fetch('/auth/me')).json());
  assert.equal(me.login, 'dr.martin');
  const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.ok(after.credentials[0].signCount > credentials[0].signCount, 'the login used the passkey');
  // The creation options offer ES256, EdDSA and RS256: Chromium has nothing to warn about.
  assert.deepEqual(watcher.problems, [], 'no console error and no CSP violation');
});
