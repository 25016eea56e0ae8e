// An outside FHIR client library, fhir-kit-client (Vermonster), against the real medvault on
// a demo vault, authenticated as an API client with a SMART bearer token (system/*.cruds):
// create, read, vread, update with If-Match, delete, search with paging (following next
// links), conditional create, and transaction Bundles (all entries stored, urn:uuid
// references rewritten, or none stored). Each test stands alone, so ctest runs them one by
// one (--test-name-pattern). fhir-kit-client posts batches and transactions to "[base]/",
// with the trailing slash.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, RESPONSE_KEY } from 'fhir-kit-client';
import { makeDemoVault, startServer, registerClient, requestToken } from './medvault.mjs';

let demo;
let server;
let client;
let patientId;  // a new patient of the bundle tests, created before the tests

// A NIR with its key (97 - body mod 97).
function nir(body) {
  return body + String(97n - (BigInt(body) % 97n)).padStart(2, '0');
}

async function rejects(promise, status, what) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.response?.status, status, `${what}: ${error.message}`);
    assert.equal(error.response.data?.resourceType ?? JSON.parse(error.response.data).resourceType,
      'OperationOutcome');
    return true;
  });
}

function observation(code, display, value, unit, ucum, subject, fullDate) {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category',
      code: 'laboratory' }] }],
    code: { coding: [{ system: 'http://loinc.org', code, display }] },
    subject: { reference: subject },
    effectiveDateTime: fullDate,
    valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: ucum },
  };
}

before(async () => {
  demo = makeDemoVault({ patients: 10 });
  server = await startServer(demo.vault);
  const registered = registerClient({ vault: demo.vault, keyDir: demo.dir, clientId: 'kit',
    scopes: 'system/*.cruds' });
  const token = await requestToken(server.base, registered, 'system/*.cruds');
  client = new Client({ baseUrl: `${server.base}/fhir`, bearerToken: token });
  const created = await client.create({ resourceType: 'Patient', body: {
    resourceType: 'Patient', name: [{ family: 'Transaction', given: ['Basile'] }],
    gender: 'male', birthDate: '1958-02-14' } });
  patientId = created.id;
});

after(async () => {
  await server?.stop();
  demo?.remove();
});

test('create, read, update with If-Match, vread and delete a Patient', async () => {
  const body = {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:oid:1.2.250.1.213.1.4.8', value: nir('2950675123045') }],
    name: [{ family: 'Kit-Client', given: ['Églantine'] }],
    gender: 'female',
    birthDate: '1995-06-21',
  };
  const created = await client.create({ resourceType: 'Patient', body });
  assert.equal(created[RESPONSE_KEY].status, 201);
  assert.match(created[RESPONSE_KEY].headers.get('location'), /\/fhir\/Patient\/[^/]+\/_history\/1$/);
  assert.equal(created.meta.versionId, '1');
  const createdId = created.id;

  const read = await client.read({ resourceType: 'Patient', id: createdId });
  assert.deepEqual(read.name, body.name);
  assert.equal(read.identifier[0].value, body.identifier[0].value);

  const changed = { ...read, telecom: [{ system: 'email', value: 'eglantine@example.org' }] };
  delete changed.meta;
  const updated = await client.update({ resourceType: 'Patient', id: createdId, body: changed,
    options: { headers: { 'If-Match': 'W/"1"' } } });
  assert.equal(updated.meta.versionId, '2');
  assert.equal(updated.telecom[0].value, 'eglantine@example.org');
  // The same If-Match again is stale now.
  await rejects(client.update({ resourceType: 'Patient', id: createdId, body: changed,
    options: { headers: { 'If-Match': 'W/"1"' } } }), 412, 'stale If-Match');

  const first = await client.vread({ resourceType: 'Patient', id: createdId, version: '1' });
  assert.equal(first.telecom, undefined);
  const history = await client.history({ resourceType: 'Patient', id: createdId });
  assert.equal(history.type, 'history');
  assert.deepEqual(history.entry.map((entry) => entry.resource.meta.versionId), ['2', '1']);

  // The new patient is found by the blind-indexed family name.
  const found = await client.search({ resourceType: 'Patient', searchParams: { family: 'kit-cl' } });
  assert.deepEqual(found.entry.map((entry) => entry.resource.id), [createdId]);

  // Delete a throwaway resource of theirs: a later read is 410.
  const note = await client.create({ resourceType: 'Observation', body: observation(
    '718-7', 'Hemoglobin [Mass/volume] in Blood', 12.9, 'g/dL', 'g/dL', `Patient/${createdId}`,
    '2026-11-02T08:10:00Z') });
  await client.delete({ resourceType: 'Observation', id: note.id });
  await rejects(client.read({ resourceType: 'Observation', id: note.id }), 410, 'read after delete');
});

test('search with paging follows next links to every match once', async () => {
  const patients = await client.search({ resourceType: 'Patient',
    searchParams: { family: 'Dupont', birthdate: '1984-12-03' } });
  assert.equal(patients.entry.length, 1);
  const demoPatient = patients.entry[0].resource.id;

  const counted = await client.search({ resourceType: 'Observation',
    searchParams: { patient: demoPatient, _summary: 'count' } });
  assert.ok(counted.total > 60, `years of results (${counted.total})`);

  const ids = [];
  let pages = 0;
  let bundle = await client.search({ resourceType: 'Observation',
    searchParams: { patient: demoPatient, _count: 25, _sort: '-date' } });
  let previousDate = '9999';
  while (bundle) {
    ++pages;
    assert.equal(bundle.type, 'searchset');
    assert.ok((bundle.entry ?? []).length <= 25);
    for (const entry of bundle.entry ?? []) {
      ids.push(entry.resource.id);
      assert.ok(entry.resource.effectiveDateTime <= previousDate, 'newest first across pages');
      previousDate = entry.resource.effectiveDateTime;
      assert.equal(entry.resource.subject.reference, `Patient/${demoPatient}`);
    }
    bundle = client.nextPage({ bundle }) ? await client.nextPage({ bundle }) : undefined;
    assert.ok(pages < 100);
  }
  assert.ok(pages > 2, `paged (${pages} pages)`);
  assert.equal(new Set(ids).size, ids.length, 'no match twice');
  assert.equal(ids.length, counted.total, 'every match');

  // A POST _search (fhir-kit-client's postSearch) gives the same first page.
  const posted = await client.search({ resourceType: 'Observation',
    searchParams: { patient: demoPatient, _count: 25, _sort: '-date' },
    options: { postSearch: true } });
  assert.deepEqual(posted.entry.map((entry) => entry.resource.id), ids.slice(0, 25));
});

test('a transaction stores a report with its results and rewrites urn:uuid references', async () => {
  const subject = `Patient/${patientId}`;
  const when = '2026-11-18T07:45:00Z';
  const accession = 'KIT26-000001';
  const urn = (n) => `urn:uuid:0f8c6a3e-7c1d-4b4e-9a51-00000000000${n}`;
  const report = {
    resourceType: 'DiagnosticReport',
    identifier: [{ system: 'https://lbm-quais.example.org/accession', value: accession }],
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '24331-1',
      display: 'Lipid 1996 panel - Serum or Plasma' }] },
    subject: { reference: subject },
    effectiveDateTime: when,
    issued: '2026-11-18T15:00:00Z',
    result: [{ reference: urn(2) }, { reference: urn(3) }],
  };
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: urn(1), resource: report,
        request: { method: 'POST', url: 'DiagnosticReport', ifNoneExist: `identifier=${accession}` } },
      { fullUrl: urn(2), resource: observation('2093-3', 'Cholesterol [Mass/volume] in Serum or Plasma',
        2.31, 'g/L', 'g/L', subject, when), request: { method: 'POST', url: 'Observation' } },
      { fullUrl: urn(3), resource: observation('2085-9',
        'Cholesterol in HDL [Mass/volume] in Serum or Plasma', 0.52, 'g/L', 'g/L', subject, when),
        request: { method: 'POST', url: 'Observation' } },
    ],
  };
  const response = await client.transaction({ body: bundle });
  assert.equal(response.type, 'transaction-response');
  assert.deepEqual(response.entry.map((entry) => entry.response.status.slice(0, 3)), ['201', '201', '201']);
  const [reportId, ...observationIds] = response.entry.map(
    (entry) => entry.response.location.match(/(DiagnosticReport|Observation)\/([^/]+)/)[2]);

  const stored = await client.read({ resourceType: 'DiagnosticReport', id: reportId });
  assert.deepEqual(stored.result.map((r) => r.reference),
    observationIds.map((id) => `Observation/${id}`));
  for (const id of observationIds) {
    const result = await client.read({ resourceType: 'Observation', id });
    assert.equal(result.subject.reference, subject);
  }

  // Posted again, the conditional create matches the stored report: nothing new.
  const again = await client.transaction({ body: { ...bundle, entry: [bundle.entry[0]] } });
  assert.equal(again.entry[0].response.status.slice(0, 3), '200');
  assert.match(again.entry[0].response.location, new RegExp(`DiagnosticReport/${reportId}/`));

  // One invalid entry: the whole transaction is refused and nothing of it is stored.
  const before = await client.search({ resourceType: 'Observation',
    searchParams: { patient: patientId, _summary: 'count' } });
  const broken = structuredClone(bundle);
  broken.entry[0].resource.identifier[0].value = 'KIT26-000002';
  delete broken.entry[0].request.ifNoneExist;
  broken.entry[2].resource.status = 'almost-final';
  await rejects(client.transaction({ body: broken }), 400, 'invalid transaction entry');
  const afterCount = await client.search({ resourceType: 'Observation',
    searchParams: { patient: patientId, _summary: 'count' } });
  assert.equal(afterCount.total, before.total);
  const reports = await client.search({ resourceType: 'DiagnosticReport',
    searchParams: { identifier: 'KIT26-000002' } });
  assert.equal((reports.entry ?? []).length, 0);
});

test('a batch runs its entries independently', async () => {
  const subject = `Patient/${patientId}`;
  const response = await client.batch({ body: {
    resourceType: 'Bundle',
    type: 'batch',
    entry: [
      { resource: observation('4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood', 5.6, '%', '%',
        subject, '2026-11-19T08:00:00Z'), request: { method: 'POST', url: 'Observation' } },
      { request: { method: 'GET', url: `Patient/${patientId}` } },
      { request: { method: 'GET', url: 'Observation/00000000-0000-4000-8000-000000000000' } },
    ],
  } });
  assert.equal(response.type, 'batch-response');
  assert.deepEqual(response.entry.map((entry) => entry.response.status.slice(0, 3)), ['201', '200', '404']);
  assert.equal(response.entry[1].resource.id, patientId);
  assert.equal(response.entry[2].response.outcome.resourceType, 'OperationOutcome');
});
