// A patient's passkeys through the portal, in real Chromium with the DevTools virtual
// authenticator: activation with the code, a password and a passkey (first a wrong code, whose
// refusal is shown in the page's language from the server's stable error code), logout, login
// with password and passkey, the results; then the security settings: the passkey is listed,
// adding one on the same device is refused by the browser (said in the page), a second one
// (on another authenticator) is added, the first removed, and the last one has no
// Remove button while the server refuses to remove it (last_second_factor); the new passkey
// logs in, and confirms with a passkey the step-up the exfiltration guard asks for. On a
// desktop in English and on a 390 px phone in French; axe-core on every page, no console error
// and no CSP violation. Screenshots go to MEDVAULT_ARTIFACTS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { password } from '../outside/medvault.mjs';
import { openDemo, newPage, checkPage } from './browser.mjs';

const artifacts = process.env.MEDVAULT_ARTIFACTS ?? join(tmpdir(), 'medvault-patient-passkey-artifacts');

// The guard asks for a step-up from the patient's fourth search of the day (5 % of 80): the
// results after activation and after each of the two logins are three, the results again the
// fourth, which the patient confirms with the passkey in the step-up dialog.
const guardEnv = {
  MEDVAULT_GUARD_STEP_UP_PERCENT: '5',
  MEDVAULT_GUARD_PATIENT: 'patients 100/100/100, records 0/0/0, bytes 0/0/0, searches 600/6000/80, breadth 1000',
};

const virtualAuthenticator = {
  protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
  hasUserVerification: true, isUserVerified: true,
};

async function journey(t, { name, viewport, locale, text }) {
  const { demo, server, browser } = await openDemo(t, { env: guardEnv });
  const activationCode = demo.output.match(/activation code ([0-9A-Z-]{19})/)[1];
  const shots = join(artifacts, name);
  mkdirSync(shots, { recursive: true });
  const { context, page, watcher } = await newPage(browser, { viewport, locale });
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const first = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: virtualAuthenticator });
  const heading = (title, timeout) => page.getByRole('heading', { level: 1, name: title }).waitFor({ timeout });
  const submit = () => page.locator('main form button[type=submit]').click();

  // Activation: a wrong code first; the refusal is the server's code worded in the page's language.
  await page.goto(`http://localhost:${server.port}/#/activate`);
  await heading(text.activate);
  await page.locator('#code').fill('AAAA-BBBB-CCCC-DDDD');
  await page.locator('#name').fill('Hélène Dupont');
  await page.locator('#login').fill('helene.d');
  await page.locator('#password').fill(password);
  await page.locator('#password2').fill(password);
  await submit();
  const refusal = page.getByRole('alert');
  await refusal.waitFor();
  assert.equal(await refusal.innerText(), text.codeRefused);
  watcher.expectRefused(401);
  await checkPage(page, '01-activation-refused', shots);

  // The right code, then the choice of a second step: the passkey.
  await page.locator('#code').fill(activationCode);
  await submit();
  await heading(text.choose);
  await checkPage(page, '02-choose-factor', shots);
  await page.locator('main button.secondary').click();
  await heading(text.createPasskey);
  await checkPage(page, '03-create-passkey', shots);
  await submit();
  // The ten recovery codes are hashed with Argon2id before they are shown: slow under ASan.
  await heading(text.recovery, 120000);
  assert.equal(await page.locator('.codes code').count(), 10);
  const created = await cdp.send('WebAuthn.getCredentials', { authenticatorId: first.authenticatorId });
  assert.equal(created.credentials.length, 1, 'the authenticator holds the patient\'s passkey');
  await page.locator('main button.primary').click();
  await heading(text.results);
  // The results are loaded (the guard's first search counted) before the patient logs out.
  await page.locator('.reports li time').first().waitFor();

  // Log out; log in with the password and the passkey; the results are there.
  const login = async () => {
    await page.locator('header nav button').click();
    await heading(text.login);
    await page.locator('#login').fill('helene.d');
    await page.locator('#password').fill(password);
    await submit();
    await heading(text.secondFactor);
    await submit();
    await heading(text.results);
    await page.locator('.reports li time').first().waitFor();
  };
  await login();
  const used = await cdp.send('WebAuthn.getCredentials', { authenticatorId: first.authenticatorId });
  assert.ok(used.credentials[0].signCount > created.credentials[0].signCount, 'the login used the passkey');
  assert.ok(await page.locator('.reports li').count() >= 1, 'the demo patient has results');
  await checkPage(page, '04-results', shots);

  // Security settings: one passkey, no Remove button (it is the only second step).
  await page.locator('a[href="#/security"]').click();
  await heading(text.security);
  await page.locator('.factor').first().waitFor();
  assert.equal(await page.locator('.factor').count(), 1);
  assert.match(await page.locator('.factor').innerText(), text.passkeyItem);
  assert.equal(await page.locator('.factor button').count(), 0, 'the last second step cannot be removed');

  // The same device again: it holds this account's passkey already (the options exclude it),
  // which the page says in the reader's language.
  await page.getByRole('button', { name: text.addPasskey }).click();
  const onDevice = page.getByRole('alert');
  await onDevice.waitFor();
  assert.equal(await onDevice.innerText(), text.onDevice);
  assert.equal(await page.locator('.factor').count(), 1);

  // A second passkey, on another device (a second virtual authenticator).
  await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: first.authenticatorId });
  const second = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: virtualAuthenticator });
  await page.getByRole('button', { name: text.addPasskey }).click();
  await page.getByRole('status').filter({ hasText: text.added }).waitFor();
  assert.equal(await page.locator('.factor').count(), 2);
  const onSecond = await cdp.send('WebAuthn.getCredentials', { authenticatorId: second.authenticatorId });
  assert.equal(onSecond.credentials.length, 1, 'the second authenticator holds the new passkey');
  await checkPage(page, '05-two-passkeys', shots);

  // The first one removed: one left, which the page offers no way to remove and the server
  // refuses to remove with its stable code.
  await page.locator('.factor button').first().click();
  await page.getByRole('status').filter({ hasText: text.removed }).waitFor();
  assert.equal(await page.locator('.factor').count(), 1);
  assert.equal(await page.locator('.factor button').count(), 0);
  const refused = await page.evaluate(async () => {
    const { factors } = await (await fetch('/auth/factors')).json();
    const response = await fetch(`/auth/factors/${encodeURIComponent(factors[0].id)}`, { method: 'DELETE',
      headers: { 'X-CSRF-Token': sessionStorage.getItem('medvault.csrf') } });
    return { status: response.status, body: await response.json() };
  });
  assert.equal(refused.status, 422);
  assert.equal(refused.body.issue[0].details.coding[0].code, 'last_second_factor');
  watcher.expectRefused(422);
  await checkPage(page, '06-one-passkey-left', shots);

  // The new passkey logs in.
  await login();
  const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId: second.authenticatorId });
  assert.ok(after.credentials[0].signCount > onSecond.credentials[0].signCount, 'the login used the new passkey');

  // Near the guard's budget the results ask for a fresh second step: the dialog offers the
  // passkey (this patient has no authenticator app), and the page opens after it.
  await page.locator('a[href="#/security"]').click();
  await heading(text.security);
  await page.locator('a[href="#/results"]').click();
  const stepUp = page.locator('dialog[open]');
  await stepUp.waitFor();
  assert.match(await stepUp.innerText(), text.stepUp);
  assert.equal(await stepUp.locator('input').count(), 0, 'no TOTP code to type');
  await checkPage(page, '07-step-up-passkey', shots);
  await stepUp.getByRole('button', { name: text.stepUpButton }).click();
  await heading(text.results);
  await page.locator('.reports li time').first().waitFor();
  const stepped = await cdp.send('WebAuthn.getCredentials', { authenticatorId: second.authenticatorId });
  assert.ok(stepped.credentials[0].signCount > after.credentials[0].signCount, 'the step-up used the passkey');
  watcher.expectRefused(401);

  if (viewport.width < 500) {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(overflow, false, 'nothing wider than the phone');
  }
  assert.deepEqual(watcher.problems, [], 'no console error and no CSP violation');
}

test('a patient activates with a passkey, logs in with it and manages passkeys, on a desktop in English', (t) =>
  journey(t, {
    name: 'desktop-en', viewport: { width: 1280, height: 900 }, locale: 'en-GB',
    text: { activate: 'Activate my account', choose: 'Choose your second step', createPasskey: 'Create a passkey',
      recovery: 'Your recovery codes', results: 'My results', login: 'Log in', secondFactor: 'Second step',
      security: 'Sessions and security', passkeyItem: /^Passkey, added /, addPasskey: 'Add a passkey',
      added: 'The passkey is added.', removed: 'The second step is removed.',
      onDevice: 'This device already holds a passkey for your account: use another device, or keep the one you have.',
      stepUp: /Confirm it is you\s+Confirm with your passkey to continue\./, stepUpButton: 'Confirm with my passkey',
      codeRefused: 'This code was not accepted: check it, or ask for a new one if it has expired or was used.' },
  }));

test('a patient activates with a passkey, logs in with it and manages passkeys, on a 390 px phone in French', (t) =>
  journey(t, {
    name: 'phone-fr', viewport: { width: 390, height: 844 }, locale: 'fr-FR',
    text: { activate: 'Activer mon compte', choose: 'Choisissez votre deuxième étape', createPasskey: 'Créer une clé d’accès',
      recovery: 'Vos codes de secours', results: 'Mes résultats', login: 'Connexion', secondFactor: 'Deuxième étape',
      security: 'Sessions et sécurité', passkeyItem: /^Clé d’accès, ajoutée le /, addPasskey: 'Ajouter une clé d’accès',
      added: 'La clé d’accès est ajoutée.', removed: 'La deuxième étape est retirée.',
      onDevice: 'Cet appareil a déjà une clé d’accès pour votre compte : utilisez un autre appareil, ou gardez celle que vous avez.',
      stepUp: /Confirmez que c’est vous\s+Confirmez avec votre clé d’accès pour continuer\./,
      stepUpButton: 'Confirmer avec ma clé d’accès',
      codeRefused: 'Ce code n’a pas été accepté : vérifiez-le, ou demandez-en un nouveau s’il a expiré ou a déjà servi.' },
  }));
