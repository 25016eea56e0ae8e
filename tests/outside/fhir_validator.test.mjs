// Every kind of answer the real medvault gives over its FHIR API, across the demo data, checked
// with an outside FHIR R4 validator (the `fhir` npm package by Lantana, unexpected properties
// counted as errors): the CapabilityStatement, a demo patient's whole record through searches
// (paged), the directory resources it references, its PDF reports (Binary), reads, vreads,
// instance and type history, _include and _summary=count bundles, a POST _search,
// OperationOutcomes of refused requests and, as the demo auditor, the AuditEvents of that
// patient. Zero errors is the bar; the package's warnings (codes outside the few value sets it
// bundles: LOINC, ATC, ICD-10) are not errors and are not counted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import {
  makeDemoVault, startServer, registerClient, requestToken, enrollWithTotp, fhir,
} from './medvault.mjs';

const require = createRequire(import.meta.url);
const { Fhir } = require('fhir');
const validator = new Fhir();

const compartmentTypes = ['AllergyIntolerance', 'CareTeam', 'Condition', 'DiagnosticReport',
  'DocumentReference', 'Encounter', 'MedicationRequest', 'Observation'];

let demo;
let server;
let token;
let patientId;
const checked = new Map();  // resourceType -> resources validated
const seen = new Map();     // "Type/id" -> resource, of everything fetched

// Validates a resource (and each resource a Bundle carries): no error.
function check(resource, where) {
  assert.ok(resource && resource.resourceType, `${where}: not a FHIR resource`);
  const result = validator.validate(resource, { errorOnUnexpected: true });
  const errors = result.messages.filter((message) => message.severity === 'error');
  assert.deepEqual(errors, [], `${where}: ${resource.resourceType} has validation errors`);
  checked.set(resource.resourceType, (checked.get(resource.resourceType) ?? 0) + 1);
  if (resource.resourceType === 'Bundle') {
    for (const entry of resource.entry ?? []) {
      if (entry.resource) check(entry.resource, `${where} entry ${entry.fullUrl}`);
    }
  } else if (resource.id) {
    seen.set(`${resource.resourceType}/${resource.id}`, resource);
  }
}

async function get(path, options = { token }) {
  const answer = await fhir(server.base, path, options);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/fhir\+json/, path);
  return answer;
}

// Follows a searchset's next links; returns every match.
async function searchAll(path) {
  const matches = [];
  let next = path;
  for (let page = 0; next && page < 100; ++page) {
    const answer = await get(next);
    assert.equal(answer.status, 200, `${next}: ${JSON.stringify(answer.json)}`);
    check(answer.json, next);
    assert.equal(answer.json.type, 'searchset');
    for (const entry of answer.json.entry ?? []) {
      if (entry.search?.mode !== 'include') matches.push(entry.resource);
    }
    const link = (answer.json.link ?? []).find((l) => l.relation === 'next');
    next = link ? link.url.slice(link.url.indexOf('/fhir/') + '/fhir'.length) : null;
  }
  assert.equal(next, null, `${path}: more than 100 pages`);
  return matches;
}

function referencesIn(value, out = []) {
  if (Array.isArray(value)) value.forEach((item) => referencesIn(item, out));
  else if (value && typeof value === 'object') {
    if (typeof value.reference === 'string') out.push(value.reference);
    Object.values(value).forEach((item) => referencesIn(item, out));
  }
  return out;
}

before(async () => {
  demo = makeDemoVault({ patients: 10 });
  server = await startServer(demo.vault);
  const client = registerClient({ vault: demo.vault, keyDir: demo.dir, clientId: 'validator',
    scopes: 'system/*.rs' });
  token = await requestToken(server.base, client, 'system/*.rs');
});

after(async () => {
  await server?.stop();
  demo?.remove();
});

test('the CapabilityStatement is valid and lists every served type', async () => {
  const answer = await get('/metadata', {});
  assert.equal(answer.status, 200);
  check(answer.json, 'GET /metadata');
  assert.equal(answer.json.resourceType, 'CapabilityStatement');
  assert.equal(answer.json.fhirVersion, '4.0.1');
  const types = answer.json.rest[0].resource.map((resource) => resource.type).sort();
  for (const type of [...compartmentTypes, 'AuditEvent', 'Binary', 'Organization', 'Patient',
    'Practitioner', 'PractitionerRole']) {
    assert.ok(types.includes(type), `metadata lists ${type}`);
  }
});

test('a demo patient found by family name and birth date is valid', async () => {
  const matches = await searchAll('/Patient?family=Dupont&birthdate=1984-12-03');
  assert.equal(matches.length, 1, 'Hélène Dupont, the first demo patient');
  assert.equal(matches[0].name[0].given[0], 'Hélène');
  patientId = matches[0].id;
  const read = await get(`/Patient/${patientId}`);
  assert.equal(read.status, 200);
  check(read.json, 'read Patient');
  assert.equal(read.headers.get('etag'), `W/"${read.json.meta.versionId}"`);
});

test('every resource of the patient, searched type by type and paged, is valid', async () => {
  assert.ok(patientId);
  for (const type of compartmentTypes) {
    const resources = await searchAll(`/${type}?patient=${patientId}&_count=50`);
    assert.ok(resources.length > 0, `${type} of the patient`);
    for (const resource of resources) {
      assert.equal(resource.resourceType, type);
      const subject = resource.subject ?? resource.patient;
      assert.equal(subject.reference, `Patient/${patientId}`);
    }
  }
  assert.ok(checked.get('Observation') > 50, 'years of results');
});

test('the lab, clinic and staff the record references read back valid', async () => {
  const directory = new Set();
  for (const resource of seen.values()) {
    for (const reference of referencesIn(resource)) {
      if (/^(Organization|Practitioner|PractitionerRole)\//.test(reference)) directory.add(reference);
    }
  }
  assert.ok([...directory].some((r) => r.startsWith('Organization/')));
  assert.ok([...directory].some((r) => r.startsWith('PractitionerRole/')));
  for (const reference of directory) {
    const answer = await get(`/${reference}`);
    assert.equal(answer.status, 200, reference);
    check(answer.json, `read ${reference}`);
  }
  for (const resource of [...seen.values()]) {
    for (const reference of referencesIn(resource)) {
      assert.ok(seen.has(reference), `${resource.resourceType}/${resource.id} -> ${reference} resolves`);
    }
  }
});

test("the lab's PDF reports are served through Binary", async () => {
  const urls = new Set();
  for (const resource of seen.values()) {
    if (resource.resourceType !== 'DocumentReference') continue;
    for (const content of resource.content) {
      if (content.attachment.contentType === 'application/pdf') urls.add(content.attachment.url);
    }
  }
  assert.ok(urls.size > 0, 'the last year of visits has PDF reports');
  for (const url of urls) {
    assert.match(url, /^Binary\/[0-9a-f-]+$/);
    const resource = await get(`/${url}`);
    assert.equal(resource.status, 200, url);
    check(resource.json, `read ${url} as FHIR`);
    assert.equal(resource.json.contentType, 'application/pdf');
    const raw = await fetch(`${server.base}/fhir/${url}`, {
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/pdf' } });
    assert.equal(raw.status, 200);
    assert.equal(raw.headers.get('content-type'), 'application/pdf');
    const bytes = Buffer.from(await raw.arrayBuffer());
    assert.equal(bytes.subarray(0, 8).toString(), '%PDF-1.4');
    assert.deepEqual(bytes, Buffer.from(resource.json.data, 'base64'));
  }
});

test('vread, instance history and type history are valid', async () => {
  const firstOfType = new Map();
  for (const [key, resource] of seen) {
    if (!firstOfType.has(resource.resourceType)) firstOfType.set(resource.resourceType, key);
  }
  for (const key of firstOfType.values()) {
    const vread = await get(`/${key}/_history/1`);
    assert.equal(vread.status, 200, key);
    check(vread.json, `vread ${key}`);
    const history = await get(`/${key}/_history`);
    assert.equal(history.status, 200, key);
    check(history.json, `history ${key}`);
    assert.equal(history.json.type, 'history');
  }
  const typeHistory = await get(`/Observation/_history?patient=${patientId}&_count=10`);
  assert.equal(typeHistory.status, 200, JSON.stringify(typeHistory.json));
  check(typeHistory.json, 'Observation type history');
  assert.equal(typeHistory.json.type, 'history');
  assert.equal(typeHistory.json.entry.length, 10);
});

test('_include, _summary=count, _sort and POST _search bundles are valid', async () => {
  const included = await get(
    `/DiagnosticReport?patient=${patientId}&_include=DiagnosticReport:result&_count=3`);
  assert.equal(included.status, 200, JSON.stringify(included.json));
  check(included.json, '_include');
  assert.ok(included.json.entry.some((entry) => entry.search.mode === 'include'));

  const count = await get(`/Observation?patient=${patientId}&_summary=count`);
  assert.equal(count.status, 200);
  check(count.json, '_summary=count');
  assert.ok(count.json.total > 50);

  const sorted = await get(
    `/Observation?patient=${patientId}&code=http://loinc.org|718-7&_sort=-date&_count=100`);
  assert.equal(sorted.status, 200, JSON.stringify(sorted.json));
  check(sorted.json, '_sort');
  const dates = sorted.json.entry.map((entry) => entry.resource.effectiveDateTime);
  assert.deepEqual(dates, [...dates].sort().reverse(), 'newest first');

  const posted = await fhir(server.base, '/Patient/_search', {
    token, method: 'POST', body: 'family=Lef&_count=5',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(posted.status, 200, JSON.stringify(posted.json));
  check(posted.json, 'POST _search');
  assert.ok(posted.json.entry.length > 0, 'Jérôme Lefèvre at least');
});

test('refusals are valid OperationOutcomes', async () => {
  const refusals = [
    ['/Patient?bogus=1', { token }, 400],
    ['/Observation/00000000-0000-4000-8000-000000000000', { token }, 404],
    [`/Observation?patient=${patientId}&date=yesterday`, { token }, 400],
    ['/Spaceship/1', { token }, 404],
    ['/Patient', { token, method: 'POST', body: '{"resourceType":"Patient","gender":"often"}',
      headers: { 'Content-Type': 'application/fhir+json' } }, 403],  // a read-only client
    [`/Patient/${patientId}`, {}, 401],
  ];
  for (const [path, options, status] of refusals) {
    const answer = await fhir(server.base, path, options);
    assert.equal(answer.status, status, `${options.method ?? 'GET'} ${path}`);
    check(answer.json, `${status} ${path}`);
    assert.equal(answer.json.resourceType, 'OperationOutcome');
    assert.ok(answer.json.issue.length > 0);
  }
});

test("the auditor's AuditEvents of the patient are valid", async () => {
  const session = await enrollWithTotp(server.base, demo.codes['audit.moreau']);
  const answer = await get(`/AuditEvent?patient=${patientId}&_count=50`, { cookie: session.cookie });
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  check(answer.json, 'AuditEvent search');
  const events = (answer.json.entry ?? []).map((entry) => entry.resource);
  assert.ok(events.length > 0, 'the demo write and this test\'s reads are in the log');
  for (const event of events) assert.equal(event.resourceType, 'AuditEvent');
  const read = await get(`/AuditEvent/${events[0].id}`, { cookie: session.cookie });
  assert.equal(read.status, 200);
  check(read.json, 'read AuditEvent');
});

test('every type the server returns was validated', (t) => {
  t.diagnostic(`validated: ${JSON.stringify(Object.fromEntries([...checked].sort()))}`);
  for (const type of [...compartmentTypes, 'AuditEvent', 'Binary', 'Bundle', 'CapabilityStatement', 'OperationOutcome', 'Organization', 'Patient',
    'Practitioner', 'PractitionerRole']) {
    assert.ok(checked.get(type) > 0, `${type} validated`);
  }
});
