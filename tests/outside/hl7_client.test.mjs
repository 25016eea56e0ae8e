// An outside HL7 v2 client, simple-hl7 (npm), sending real ORU^R01 messages over MLLP to the
// real medvault on a demo vault (plain MLLP on 127.0.0.1, lab.client_id a registered API
// client): the acknowledgement is AA and the results can be read through the FHIR API; the
// same message again is acknowledged AA and stored once; a message without a patient
// identifier gets AE with an ERR segment naming PID-3, and nothing of it is written; the lab
// technician finds it in the quarantine (GET /lab/quarantine), reads it, fixes it (PUT) and
// replays it ($replay), and the fixed results are then in the FHIR API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import hl7 from 'simple-hl7';
import {
  makeDemoVault, startServer, registerClient, requestToken, fhir, enrollWithTotp,
} from './medvault.mjs';

const messages = join(dirname(fileURLToPath(import.meta.url)), '../lab/messages');
const feedScopes = 'system/Patient.crs system/Organization.crs system/Practitioner.crs ' +
  'system/DiagnosticReport.cru system/Observation.cru';

let demo;
let server;
let mllpPort;
let token;

// A message file as simple-hl7 reads and writes it (CR between segments).
function message(name) {
  const text = readFileSync(join(messages, name), 'utf8').trimEnd();
  return new hl7.Parser({ segmentSeperator: '\n' }).parse(text);
}

// Sends one message on a new connection and resolves with simple-hl7's parsed ACK.
function send(msg) {
  return new Promise((resolve, reject) => {
    const client = hl7.Server.createTcpClient({ host: '127.0.0.1', port: mllpPort, keepalive: false });
    client.send(msg, (error, ack) => (error ? reject(error) : resolve(ack)));
  });
}

const field = (segment, index) => String(segment.getField(index) ?? '');

before(async () => {
  demo = makeDemoVault({ patients: 2 });
  registerClient({ vault: demo.vault, keyDir: demo.dir, clientId: 'lab-feed', scopes: feedScopes });
  const reader = registerClient({ vault: demo.vault, keyDir: demo.dir, clientId: 'reader',
    scopes: 'system/Patient.rs system/DiagnosticReport.rs system/Observation.rs' });
  server = await startServer(demo.vault, {
    MEDVAULT_LAB_MLLP_LISTEN: '127.0.0.1:0',
    MEDVAULT_LAB_MLLP_TLS: 'false',
    MEDVAULT_LAB_CLIENT_ID: 'lab-feed',
  });
  mllpPort = Number(server.output().match(/"event":"mllp_listening","address":"127\.0\.0\.1:(\d+)"/)[1]);
  token = await requestToken(server.base, reader,
    'system/Patient.rs system/DiagnosticReport.rs system/Observation.rs');
});

after(async () => {
  await server?.stop();
  demo?.remove();
});

const reportQuery = '/DiagnosticReport?identifier=' +
  encodeURIComponent('urn:medvault:hl7v2:LBM-QUAIS:filler-order|FIL-55012');

test('an ORU^R01 is acknowledged AA and its results are in the FHIR API', async () => {
  const ack = await send(message('oru_cbc.hl7'));
  const msa = ack.getSegment('MSA');
  assert.equal(field(msa, 1), 'AA');
  assert.equal(field(msa, 2), 'MSG-CBC-0001');

  const reports = await fhir(server.base, reportQuery, { token });
  assert.equal(reports.status, 200);
  assert.equal(reports.json.entry?.length, 1);
  const report = reports.json.entry[0].resource;
  assert.equal(report.status, 'preliminary');
  assert.equal(report.result.length, 5);
  const patient = await fhir(server.base, `/${report.subject.reference}`, { token });
  assert.equal(patient.json.name[0].family, 'Dupont');
  assert.equal(patient.json.identifier[0].value, 'LAB123456');
  const hemoglobin = await fhir(server.base,
    `/Observation?patient=${patient.json.id}&code=${encodeURIComponent('http://loinc.org|718-7')}`,
    { token });
  assert.equal(hemoglobin.json.entry?.length, 1);
  const value = hemoglobin.json.entry[0].resource;
  assert.equal(value.valueQuantity.value, 11.8);
  assert.equal(value.valueQuantity.code, 'g/dL');
  assert.equal(value.interpretation[0].coding[0].code, 'L');
  assert.equal(value.referenceRange[0].low.value, 12);
});

test('the same control id twice is acknowledged AA and stored once', async () => {
  const ack = await send(message('oru_cbc.hl7'));
  assert.equal(field(ack.getSegment('MSA'), 1), 'AA');
  const reports = await fhir(server.base, reportQuery, { token });
  assert.equal(reports.json.entry?.length, 1);
  assert.equal(reports.json.entry[0].resource.meta.versionId, '1');
});

test('a known patient is matched: a second message adds reports, not a patient', async () => {
  const ack = await send(message('oru_two_orders.hl7'));
  assert.equal(field(ack.getSegment('MSA'), 1), 'AA');
  const patients = await fhir(server.base, '/Patient?identifier=' +
    encodeURIComponent('urn:medvault:hl7v2:LBM-QUAIS|LAB123456'), { token });
  assert.equal(patients.json.entry?.length, 1);
});

test('a message without a patient identifier gets AE with an ERR naming PID-3', async () => {
  const ack = await send(message('oru_missing_pid3.hl7'));
  assert.equal(field(ack.getSegment('MSA'), 1), 'AE');
  const err = ack.getSegment('ERR');
  assert.ok(err, 'an ERR segment');
  assert.equal(err.getComponent(2, 1), 'PID');
  assert.equal(err.getComponent(2, 3), '3');
  assert.equal(err.getComponent(3, 1), '101');
  assert.match(field(err, 8), /PID-3/);
  assert.doesNotMatch(ack.toString(), /Dupont/);
  assert.match(server.output(), /"event":"lab_message_quarantined"/);
  assert.doesNotMatch(server.output(), /Dupont|FIL-55030/);
});

test('an unsupported message type is rejected with AR', async () => {
  const ack = await send(message('adt_a01.hl7'));
  assert.equal(field(ack.getSegment('MSA'), 1), 'AR');
  assert.equal(ack.getSegment('ERR').getComponent(3, 1), '200');
});

// The lab technician's session (the demo's lab.bernard, TOTP enrolled here).
async function lab(path, { method = 'GET', body, session } = {}) {
  const headers = { Cookie: session.cookie, Accept: 'application/json' };
  if (method !== 'GET') {
    headers['X-CSRF-Token'] = session.csrf;
    headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(`${server.base}${path}`, { method, headers,
    body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, json: await response.json() };
}

test('a lab technician lists, reads, fixes and replays a quarantined message', async () => {
  const session = await enrollWithTotp(server.base, demo.codes['lab.bernard']);
  const list = await lab('/lab/quarantine', { session });
  assert.equal(list.status, 200);
  const held = list.json.messages.find((m) => m.condition === 101);
  assert.ok(held, 'the message without PID-3 is held');
  assert.equal(held.state, 'held');
  assert.match(held.error, /PID-3/);
  assert.doesNotMatch(JSON.stringify(list.json), /Dupont/);

  const read = await lab(`/lab/quarantine/${held.id}`, { session });
  assert.equal(read.status, 200);
  assert.match(read.json.message, /^MSH\|/);
  assert.match(read.json.message, /Dupont/);

  const fixed = read.json.message.replace('PID|1||||', 'PID|1||LAB777^^^LBM-QUAIS^PI||');
  const stale = await lab(`/lab/quarantine/${held.id}`, { method: 'PUT', session,
    body: { message: fixed, version: read.json.version + 5 } });
  assert.equal(stale.status, 409);
  const put = await lab(`/lab/quarantine/${held.id}`, { method: 'PUT', session,
    body: { message: fixed, version: read.json.version } });
  assert.equal(put.status, 200);
  assert.equal(put.json.version, read.json.version + 1);
  const replay = await lab(`/lab/quarantine/${held.id}/$replay`, { method: 'POST', session });
  assert.equal(replay.status, 200);
  assert.equal(replay.json.ack_code, 'AA');
  assert.equal(replay.json.state, 'replayed');
  const patients = await fhir(server.base, '/Patient?identifier=' +
    encodeURIComponent('urn:medvault:hl7v2:LBM-QUAIS|LAB777'), { token });
  assert.equal(patients.json.entry?.length, 1);

  // Not for anyone else: the feed's reader client has no session and no role here.
  const anonymous = await fetch(`${server.base}/lab/quarantine`);
  assert.equal(anonymous.status, 401);
});
