// What the outside-client tests share: the real medvault binary on a temporary demo vault,
// served over plain HTTP on 127.0.0.1 (the clients under test then need no certificate
// setup), API clients registered with `medvault client add` and their bearer tokens from the
// SMART Backend Services token endpoint (an ES384 client assertion signed with node's crypto),
// and staff sessions with a TOTP second factor computed here (RFC 6238).
//
// MEDVAULT_BINARY names the medvault executable (ctest sets it); without it the ASan build of
// this checkout is used.
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const medvault =
  process.env.MEDVAULT_BINARY ?? resolve(here, '../../build/asan/src/cli/medvault');
export const password = 'violet tram ledger quietly orbits 7';

// The server's environment: plain HTTP on a free port, no address throttling in the way of a
// test that sends many requests, TOTP allowed for auditors (passkeys need a browser).
export const serverEnv = {
  MEDVAULT_SERVER_LISTEN: '127.0.0.1:0',
  MEDVAULT_SERVER_TLS: 'false',
  MEDVAULT_AUTH_SOURCE_BURST: '1000000',
  MEDVAULT_AUTH_SOURCE_PER_MINUTE: '1000000',
  MEDVAULT_AUTH_SECOND_FACTOR_AUDITOR: 'passkey_or_totp',
};

// `medvault demo` into a new temporary directory: { dir, vault, output, codes } where codes
// maps each demo login (and "patient") to its one-time code. `env` may name another store
// (MEDVAULT_STORE_URL).
export function makeDemoVault({ patients = 10, env = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'medvault-outside-'));
  const vault = join(dir, 'vault');
  const output = execFileSync(medvault, ['demo', '--dir', vault, '--patients', String(patients)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString();
  const codes = {};
  for (const match of output.matchAll(/^\s+(\S+)\s.*code ([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})/gm)) {
    codes[match[1]] = match[2];
  }
  return { dir, vault, output, codes, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// `medvault serve` on the vault; resolves once it logs its address.
export function startServer(vault, env = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(medvault, ['serve', '--dir', vault], {
      env: { ...process.env, ...serverEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let started = false;
    const onData = (chunk) => {
      output += chunk.toString();
      const match = output.match(/"event":"listening","address":"127\.0\.0\.1:(\d+)"/);
      if (match && !started) {
        started = true;
        const port = Number(match[1]);
        resolvePromise({
          child,
          port,
          base: `http://127.0.0.1:${port}`,
          output: () => output,
          stop: () => new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      if (!started) reject(new Error(`medvault serve exited ${code}: ${output}`));
    });
  });
}

// Registers an API client with a fresh ES384 key. The private key is kept in `keyDir`
// (CLIENT.key.pem) so another process (tests/redteam) can get tokens for it too.
// Without `organization`, the client reaches every organization's patients (within its
// scopes): --all-organizations.
export function registerClient({ vault, keyDir, clientId, scopes, organization = '', env = {} }) {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: `${clientId}-1`, alg: 'ES384', use: 'sig' };
  const jwks = join(keyDir, `${clientId}.jwks.json`);
  writeFileSync(jwks, JSON.stringify({ keys: [jwk] }));
  writeFileSync(join(keyDir, `${clientId}.key.pem`), privateKey.export({ format: 'pem', type: 'pkcs8' }),
    { mode: 0o600 });
  const reach = organization ? ['--organization', organization] : ['--all-organizations'];
  execFileSync(medvault, ['client', 'add', '--dir', vault, '--client-id', clientId, '--jwks', jwks,
    '--scopes', scopes, ...reach], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return { clientId, kid: jwk.kid, privateKey };
}

export function loadClient(keyDir, clientId) {
  const pem = readFileSync(join(keyDir, `${clientId}.key.pem`));
  return { clientId, kid: `${clientId}-1`, privateKey: crypto.createPrivateKey(pem) };
}

const b64url = (text) => Buffer.from(text).toString('base64url');

// A bearer token for `client` with `scope`, through POST /auth/token (RFC 7523 assertion:
// iss = sub = client id, aud = the advertised token endpoint, exp in 4 minutes, a new jti).
export async function requestToken(base, client, scope) {
  const config = await (await fetch(`${base}/fhir/.well-known/smart-configuration`)).json();
  const header = { alg: 'ES384', kid: client.kid, typ: 'JWT' };
  const claims = {
    iss: client.clientId, sub: client.clientId, aud: config.token_endpoint,
    exp: Math.floor(Date.now() / 1000) + 240, jti: crypto.randomUUID(),
  };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = crypto.sign('sha384', Buffer.from(input),
    { key: client.privateKey, dsaEncoding: 'ieee-p1363' });
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: `${input}.${signature.toString('base64url')}`,
    scope,
  });
  const response = await fetch(`${base}/auth/token`, {
    method: 'POST', body: form.toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  const body = await response.json();
  if (response.status !== 200) {
    throw new Error(`token endpoint answered ${response.status}: ${JSON.stringify(body)}`);
  }
  return body.access_token;
}

// RFC 6238 TOTP (SHA-1, 6 digits, 30 s) of a base32 secret, for the time step `step`.
export function totp(secret, step = Math.floor(Date.now() / 30000)) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '').toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, '0');
}

async function postJson(base, path, body) {
  const response = await fetch(`${base}${path}`, {
    method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' },
  });
  return { status: response.status, headers: response.headers, json: await response.json() };
}

// Enrolls a staff account from its enrollment code with a TOTP second factor; the enrollment
// opens a session: { cookie, csrf, secret } (the TOTP secret, base32, for later logins).
export async function enrollWithTotp(base, code) {
  const start = await postJson(base, '/auth/enroll', { code, password });
  if (start.status !== 200) throw new Error(`enroll: ${start.status} ${JSON.stringify(start.json)}`);
  const token = start.json.enrollment_token;
  const setup = await postJson(base, '/auth/enroll/totp', { enrollment_token: token });
  if (setup.status !== 200) throw new Error(`enroll/totp: ${setup.status} ${JSON.stringify(setup.json)}`);
  const done = await postJson(base, '/auth/enroll/totp/confirm',
    { enrollment_token: token, code: totp(setup.json.secret) });
  if (done.status !== 200) throw new Error(`enroll/totp/confirm: ${done.status} ${JSON.stringify(done.json)}`);
  const cookie = done.headers.getSetCookie().map((line) => line.split(';')[0])
    .find((pair) => pair.startsWith('__Host-medvault_session='));
  return { cookie, csrf: done.json.csrf_token, secret: setup.json.secret };
}

// GET (or another method) on the FHIR API: { status, headers, json }.
export async function fhir(base, path, { token, cookie, method = 'GET', body, headers = {} } = {}) {
  const all = { Accept: 'application/fhir+json', ...headers };
  if (token) all.Authorization = `Bearer ${token}`;
  if (cookie) all.Cookie = cookie;
  const response = await fetch(`${base}/fhir${path}`, { method, body, headers: all });
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = { unparsed: text }; }
  return { status: response.status, headers: response.headers, json };
}

// The PostgreSQL test cluster of the ctest fixture "pg" (tests/store/pg_cluster.sh), when
// MEDVAULT_PG_STATE_DIR points to it: a URL of a new database, or null.
export function createPostgresDatabase(name) {
  const stateDir = process.env.MEDVAULT_PG_STATE_DIR;
  if (!stateDir || !existsSync(join(stateDir, 'cluster.env'))) return null;
  const env = Object.fromEntries(readFileSync(join(stateDir, 'cluster.env'), 'utf8').split('\n')
    .filter((line) => line.includes('=')).map((line) => [line.slice(0, line.indexOf('=')),
      line.slice(line.indexOf('=') + 1)]));
  execFileSync(join(env.bindir, 'createdb'), ['-h', env.host, '-p', env.port, '-U', 'postgres', name]);
  return `postgresql://postgres@${env.host}:${env.port}/${name}`;
}
