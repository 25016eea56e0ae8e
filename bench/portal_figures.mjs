// Portal figures in real Chromium on loopback: a demo vault whose first patient activates and
// enrolls TOTP through the API, then BENCH_RUNS cold loads (a new browser context each: no
// cache) and as many warm reloads (ETag revalidation) of the results page, timed with the
// Performance API: first contentful paint, DOMContentLoaded, and the `medvault:results` mark
// (the results list on screen, handlers attached: interactive). Also the requests per page and
// the bytes of JS and CSS served. Prints one JSON object. Not a test: nothing fails on a figure.
// Usage: node bench/portal_figures.mjs MEDVAULT_BINARY
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const medvault = process.argv[2];
const runs = Number(process.env.BENCH_RUNS ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'medvault-portal-bench-'));
const vault = join(dir, 'vault');
const demo = execFileSync(medvault, ['demo', '--dir', vault, '--patients', '5'],
  { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
const activationCode = demo.match(/activation code ([0-9A-Z-]{19})/)[1];
const server = spawn(medvault, ['serve', '--dir', vault], {
  env: { ...process.env, MEDVAULT_SERVER_LISTEN: '127.0.0.1:0', MEDVAULT_SERVER_TLS: 'false',
    MEDVAULT_AUTH_SOURCE_BURST: '100000' },
  stdio: ['ignore', 'pipe', 'pipe'],
});
const port = await new Promise((resolve) => {
  let output = '';
  const onData = (chunk) => {
    output += chunk.toString();
    const match = output.match(/"event":"listening","address":"127\.0\.0\.1:(\d+)"/);
    if (match) resolve(Number(match[1]));
  };
  server.stdout.on('data', onData);
  server.stderr.on('data', onData);
});
const base = `http://localhost:${port}`;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });

try {
  // One session, made through the API as the portal does.
  const setup = await browser.newContext();
  const page = await setup.newPage();
  await page.goto(`${base}/healthz`);
  const post = (path, body) => page.evaluate(async ([path, body]) => (await fetch(path,
    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })).json(), [path, body]);
  const enrollment = await post('/auth/activate', { code: activationCode, login: 'helene.d',
    name: 'Hélène Dupont', password: 'violet tram ledger quietly orbits 7' });
  const { secret } = await post('/auth/enroll/totp', { enrollment_token: enrollment.enrollment_token });
  const code = execFileSync('oathtool', ['--totp', '-b', secret]).toString().trim();
  const session = await post('/auth/enroll/totp/confirm', { enrollment_token: enrollment.enrollment_token, code });
  const { cookies } = await setup.storageState();
  await setup.close();

  const measure = async (target) => {
    const requests = [];
    target.on('request', (r) => requests.push(r));
    const bytes = { js: 0, css: 0 };
    const bodies = [];
    target.on('response', (r) => {
      const type = r.headers()['content-type'] ?? '';
      if (r.status() !== 200) return;
      const kind = type.startsWith('text/javascript') ? 'js' : type.startsWith('text/css') ? 'css' : null;
      if (kind) bodies.push(r.body().then((body) => { bytes[kind] += body.length; }));
    });
    await target.waitForFunction(() => performance.getEntriesByName('medvault:results').length > 0, null, { timeout: 30000 });
    const timing = await target.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const fcp = performance.getEntriesByName('first-contentful-paint')[0];
      return { fcp: fcp?.startTime, dcl: nav.domContentLoadedEventEnd,
        results: performance.getEntriesByName('medvault:results')[0].startTime };
    });
    await target.waitForLoadState('load');
    await Promise.all(bodies);
    return { ...timing, requests: requests.length, bytes, urls: requests.map((r) => new URL(r.url()).pathname) };
  };

  const cold = [];
  for (let i = 0; i < runs; ++i) {
    const context = await browser.newContext({ locale: 'en-GB' });
    await context.addCookies(cookies);
    await context.addInitScript((csrf) => sessionStorage.setItem('medvault.csrf', csrf), session.csrf_token);
    const p = await context.newPage();
    const done = measure(p);
    await p.goto(`${base}/#/results`);
    cold.push(await done);
    await context.close();
  }
  const context = await browser.newContext({ locale: 'en-GB' });
  await context.addCookies(cookies);
  await context.addInitScript((csrf) => sessionStorage.setItem('medvault.csrf', csrf), session.csrf_token);
  const p = await context.newPage();
  await p.goto(`${base}/#/results`);
  await p.waitForFunction(() => performance.getEntriesByName('medvault:results').length > 0);
  const warm = [];
  for (let i = 0; i < runs; ++i) {
    const done = measure(p);
    await p.reload();
    warm.push(await done);
    p.removeAllListeners('request');
    p.removeAllListeners('response');
  }
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
  const summary = (list) => ({
    fcp_ms: { median: median(list.map((r) => r.fcp)), max: Math.max(...list.map((r) => r.fcp)) },
    dom_content_loaded_ms: { median: median(list.map((r) => r.dcl)) },
    results_interactive_ms: { median: median(list.map((r) => r.results)), max: Math.max(...list.map((r) => r.results)) },
    requests: list[0].requests,
  });
  console.log(JSON.stringify({ runs, cold: summary(cold), warm: summary(warm),
    bytes_served_cold: cold[0].bytes, requests_cold: cold[0].urls }, null, 2));
} finally {
  await browser.close();
  server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
