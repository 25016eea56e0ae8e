// Every stable error code of the auth API (src/api/auth_errors.h) has an English and a French
// sentence in web/i18n.js, and i18n.js words no code the server does not have. The codes are
// read from the C++ header itself, so a code added there without its sentences fails here.
// The precise codes the server derives from identity messages (the table in auth_errors.cc)
// must still match a message of those sources, so rewording one cannot silently fall back to
// a generic code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { serverErrorText, GENERIC_SERVER_ERRORS } from '../../web/i18n.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (path) => readFileSync(join(root, path), 'utf8');

function serverCodes() {
  const header = read('src/api/auth_errors.h');
  return [...header.matchAll(/inline constexpr std::string_view kErr\w+ = "([a-z_]+)";/g)].map((m) => m[1]);
}

test('the header declares the codes once each', () => {
  const codes = serverCodes();
  assert.ok(codes.length >= 40, `found only ${codes.length} codes: the pattern no longer matches the header`);
  assert.equal(new Set(codes).size, codes.length, 'a code is declared twice');
  for (const code of ['password_too_weak', 'step_up_required', 'login_failed', 'code_not_accepted']) {
    assert.ok(codes.includes(code), code);
  }
});

test('every code has an English and a French sentence', () => {
  const missing = [];
  for (const code of serverCodes()) {
    const en = serverErrorText(code, 'en', 7);
    const fr = serverErrorText(code, 'fr', 7);
    if (typeof en !== 'string' || en.trim() === '') missing.push(`${code}: English`);
    if (typeof fr !== 'string' || fr.trim() === '') missing.push(`${code}: French`);
    if (typeof en === 'string' && en === fr) missing.push(`${code}: French is the English sentence`);
  }
  assert.deepEqual(missing, []);
  assert.match(serverErrorText('too_many_attempts', 'fr', 7), /7 secondes/);
});

test('the page knows which codes are generic (their diagnostics is shown)', () => {
  const header = read('src/api/auth_errors.h');
  const section = header.slice(header.indexOf('// Generic codes'));
  const lines = section.split('\n').slice(1);
  const generic = [];
  for (const line of lines) {
    if (line.startsWith('//')) {
      if (generic.length) break;
      continue;
    }
    const match = line.match(/= "([a-z_]+)";/);
    if (match) generic.push(match[1]);
  }
  assert.ok(generic.length >= 3, 'the generic section of the header was not found');
  assert.deepEqual([...GENERIC_SERVER_ERRORS].sort(), generic.sort());
});

test('i18n.js words no code the server does not have', () => {
  const codes = new Set(serverCodes());
  const blocks = [...read('web/i18n.js').matchAll(/serverErrors: \{([\s\S]*?)\n {4}\},/g)];
  assert.equal(blocks.length, 2, 'one serverErrors block per language');
  for (const block of blocks) {
    const worded = [...block[1].matchAll(/^\s+([a-z_]+):/gm)].map((m) => m[1]);
    assert.ok(worded.length >= 40);
    assert.deepEqual(worded.filter((code) => !codes.has(code)), [], 'stale codes in i18n.js');
  }
});

test('the messages the server maps to precise codes are still in the sources', () => {
  const table = read('src/api/auth_errors.cc');
  const starts = [...table.matchAll(/\{"([^"]+)", kErr\w+\}/g)].map((m) => m[1]);
  assert.ok(starts.length >= 30, `found only ${starts.length} message starts`);
  const identity = readdirSync(join(root, 'src/identity')).filter((f) => f.endsWith('.cc'))
    .map((f) => read(`src/identity/${f}`));
  const sources = [...identity, read('src/api/auth_request.cc'), read('src/api/auth_api.cc')]
    .join('\n').replace(/"\s*\n\s*"/g, '');  // adjacent C++ string literals joined
  assert.deepEqual(starts.filter((start) => !sources.includes(start)), [],
    'message starts that no source has any more');
});

test('the auth API answers errors only through its coded problems', () => {
  const api = read('src/api/auth_api.cc');
  assert.doesNotMatch(api, /http::ErrorResponse\(/, 'an error body without a stable code');
});
