// The portal's entry point: login, activation and staff enrollment, then the pages of the
// account's role over hash routes. Patients: #/results, #/report/<id>, #/access, #/security;
// clinicians and lab staff: the routes of workspace.js and lab.js, administrators and auditors
// those of console.js, loaded when such an account logs in. Nothing health-related goes into
// the URL (opaque ids at most), into storage, or to the console.
import * as api from './api.js';
import { h, importSvg } from './dom.js';
import { t, formatDate, formatDateTime } from './i18n.js';
import { session, show, field, totpField, form, alertBox, failed, withStepUp, passkeyGet, passkeyCreate } from './ui.js';
import { nameOf, codingOf, readReport, reportItem, reportMeta, valuesTable, pdfLink, drawTrends } from './results.js';

// ---- activation, enrollment, login -------------------------------------------------------

function loginView() {
  const message = session.notice;
  session.notice = null;
  const view = h('section', {},
    h('h1', {}, t('loginTitle')),
    message ? h('p', { class: 'notice', role: 'status' }, message) : null,
    form([
      field('login', t('login'), { autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' }),
      field('password', t('password'), { type: 'password', autocomplete: 'current-password', required: true }),
    ], t('continue'), async ({ login, password }) => {
      const pending = await api.post('/auth/login', { login, password });
      secondFactorView(pending, pending.factors.includes('passkey') ? 'passkey' : 'totp');
    }),
    h('p', {}, t('noAccount'), ' ', h('a', { href: '#/activate' }, t('activateLink'))),
    h('p', {}, t('staffFirstVisit'), ' ', h('a', { href: '#/enroll' }, t('enrollLink'))));
  show(view);
}

function secondFactorView(pending, kind) {
  const choices = { totp: t('useTotp'), recovery_code: t('useRecovery'), passkey: t('usePasskey') };
  const others = pending.factors.filter((f) => f !== kind && f in choices);
  let body;
  if (kind === 'passkey') {
    body = form([h('p', {}, t('passkeyIntro'))], t('passkeyButton'), async () => {
      const options = await api.post('/auth/login/passkey/options', { pending_token: pending.pending_token });
      const credential = await passkeyGet(options);
      await startSession(await api.post('/auth/login/passkey', { pending_token: pending.pending_token, credential }));
    });
  } else {
    const input = kind === 'totp'
      ? totpField('code')
      : field('code', t('recoveryCode'), { autocomplete: 'off', autocapitalize: 'characters', required: true, spellcheck: 'false' });
    const path = kind === 'totp' ? '/auth/login/totp' : '/auth/login/recovery-code';
    body = form([input], t('loginButton'), async ({ code }) => {
      await startSession(await api.post(path, { pending_token: pending.pending_token, code: code.trim() }));
    });
  }
  show(h('section', {},
    h('h1', {}, t('secondFactorTitle')),
    body,
    others.map((other) => h('p', {}, h('button', { type: 'button', class: 'link', on: { click: () => secondFactorView(pending, other) } }, choices[other])))));
}

function activateView() {
  const password = field('password', t('choosePassword'), { type: 'password', autocomplete: 'new-password', required: true, minlength: 12 }, t('passwordRules'));
  const again = field('password2', t('confirmPassword'), { type: 'password', autocomplete: 'new-password', required: true });
  show(h('section', {},
    h('h1', {}, t('activateTitle')),
    form([
      field('code', t('activationCode'), { autocomplete: 'off', autocapitalize: 'characters', required: true, spellcheck: 'false' }, t('activationCodeHint')),
      field('name', t('name'), { autocomplete: 'name', required: true }),
      field('login', t('chooseLogin'), { autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false', pattern: '[a-z0-9._@\\-]{3,64}' }, t('loginHint')),
      password, again,
    ], t('activate'), async (values, alert) => {
      if (values.password !== values.password2) return alert(t('passwordsDiffer'));
      const enrollment = await api.post('/auth/activate', {
        code: values.code.trim().toUpperCase(), login: values.login.trim(), name: values.name.trim(), password: values.password,
      });
      await enrollSecondFactor(enrollment);
    }),
    h('p', {}, t('haveAccount'), ' ', h('a', { href: '#/login' }, t('loginLink')))));
}

// A new account's second factor: the only kind its role allows, or the reader's choice
// between an authenticator app and a passkey.
async function enrollSecondFactor(enrollment) {
  if (!enrollment.factors.includes('passkey')) return totpEnrollView(enrollment);
  if (!enrollment.factors.includes('totp')) return passkeyEnrollView(enrollment);
  chooseFactorView(enrollment);
}

// Staff: the one-time enrollment code from the administrator and a new password, then a
// second factor (an authenticator app or a passkey, as the account's kind allows).
function enrollView() {
  show(h('section', {},
    h('h1', {}, t('staffEnrollTitle')),
    form([
      field('code', t('enrollmentCode'), { autocomplete: 'off', autocapitalize: 'characters', required: true, spellcheck: 'false' }, t('activationCodeHint')),
      field('password', t('choosePassword'), { type: 'password', autocomplete: 'new-password', required: true, minlength: 12 }, t('passwordRules')),
      field('password2', t('confirmPassword'), { type: 'password', autocomplete: 'new-password', required: true }),
    ], t('continue'), async (values, alert) => {
      if (values.password !== values.password2) return alert(t('passwordsDiffer'));
      const enrollment = await api.post('/auth/enroll', { code: values.code.trim().toUpperCase(), password: values.password });
      await enrollSecondFactor(enrollment);
    }),
    h('p', {}, t('haveAccount'), ' ', h('a', { href: '#/login' }, t('loginLink')))));
}

function chooseFactorView(enrollment) {
  show(h('section', {},
    h('h1', {}, t('chooseFactorTitle')),
    h('p', {}, t('chooseFactorIntro')),
    h('p', {}, h('button', { type: 'button', class: 'primary', on: { click: () => totpEnrollView(enrollment).catch(showError) } }, t('factorTotp'))),
    h('p', {}, h('button', { type: 'button', class: 'secondary', on: { click: () => passkeyEnrollView(enrollment) } }, t('factorPasskey')))));
}

function passkeyEnrollView(enrollment) {
  show(h('section', {},
    h('h1', {}, t('passkeyEnrollTitle')),
    form([h('p', {}, t('passkeyEnrollIntro'))], t('passkeyCreate'), async () => {
      const options = await api.post('/auth/enroll/passkey/options', { enrollment_token: enrollment.enrollment_token });
      const credential = await passkeyCreate(options);
      const answer = await api.post('/auth/enroll/passkey', { enrollment_token: enrollment.enrollment_token, credential });
      recoveryCodesView(answer.recovery_codes, () => startSession(answer));
    })));
}

async function totpEnrollView(enrollment) {
  const totp = await api.post('/auth/enroll/totp', { enrollment_token: enrollment.enrollment_token });
  const qr = importSvg(totp.qr_svg);
  if (qr) {
    qr.setAttribute('role', 'img');
    qr.setAttribute('aria-label', t('qrLabel'));
    qr.removeAttribute('width');
    qr.removeAttribute('height');
  }
  show(h('section', {},
    h('h1', {}, t('enrollTitle')),
    h('p', {}, t('enrollIntro')),
    h('div', { class: 'qr' }, qr),
    h('p', {}, t('secret'), ': ', h('code', { class: 'secret' }, totp.secret.replace(/(.{4})/g, '$1 ').trim())),
    form([totpField('code')], t('confirm'), async ({ code }) => {
      const answer = await api.post('/auth/enroll/totp/confirm', { enrollment_token: enrollment.enrollment_token, code: code.trim() });
      recoveryCodesView(answer.recovery_codes, () => startSession(answer));
    })));
}

function recoveryCodesView(codes, next) {
  show(h('section', {},
    h('h1', {}, t('recoveryTitle')),
    h('p', {}, t('recoveryIntro')),
    h('ol', { class: 'codes' }, codes.map((code) => h('li', {}, h('code', {}, code)))),
    h('button', { type: 'button', class: 'primary', on: { click: next } }, t('recoverySaved'))));
}

async function startSession(answer) {
  api.rememberSession(answer.csrf_token);
  session.me = await api.get('/auth/me');
  await loadRole();
  if (location.hash === session.home) route(); else location.hash = session.home;
}

// ---- results -----------------------------------------------------------------------------

async function resultsView() {
  const list = h('ul', { class: 'reports' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, t('more'));
  const box = alertBox();
  show(h('section', {}, h('h1', {}, t('resultsTitle')), box, list, more));
  let next = `/fhir/DiagnosticReport?patient=${encodeURIComponent(session.me.patient_id)}&_sort=-date&_count=20&_include=DiagnosticReport:result`;
  const load = async () => {
    more.disabled = true;
    const bundle = await api.get(next);
    const observations = new Map();
    const reports = [];
    for (const entry of bundle.entry ?? []) {
      if (entry.resource.resourceType === 'Observation') observations.set(entry.resource.id, entry.resource);
      else if (entry.resource.resourceType === 'DiagnosticReport' && entry.search?.mode === 'match') reports.push(entry.resource);
    }
    for (const report of reports) list.append(reportItem(report, observations, `#/report/${encodeURIComponent(report.id)}`));
    if (!list.children.length) list.append(h('li', { class: 'empty' }, t('noResults')));
    const link = (bundle.link ?? []).find((l) => l.relation === 'next');
    next = link ? api.sameOrigin(link.url) : null;
    more.hidden = !next;
    more.disabled = false;
  };
  more.addEventListener('click', () => load().catch((error) => failed(error, box)));
  await load();
  // User Timing mark for bench/run-portal: the results are on screen and usable.
  performance.mark('medvault:results');
}

async function reportView(id) {
  const { report, observations } = await readReport(session.me.patient_id, id);
  const trends = h('div', { class: 'trends' });
  show(h('section', {},
    h('p', {}, h('a', { href: '#/results' }, '← ', t('back'))),
    h('h1', {}, nameOf(report.code)),
    reportMeta(report),
    valuesTable(report, observations),
    pdfLink(report),
    trends));
  await drawTrends(session.me.patient_id, observations, trends);
}

// ---- access history ----------------------------------------------------------------------

async function accessView() {
  const events = await api.searchAll(`/fhir/AuditEvent?patient=${encodeURIComponent(session.me.patient_id)}&_count=100`);
  events.reverse();
  const items = events.map((event) => {
    const agent = (event.agent ?? []).find((a) => a.requestor) ?? event.agent?.[0] ?? {};
    const role = codingOf(agent.role?.[0]).code;
    const purpose = codingOf(event.purposeOfEvent?.[0]).code;
    const breakGlass = purpose === 'ETREAT';
    const types = new Map();
    for (const entity of event.entity ?? []) {
      const type = entity.what?.reference?.split('/')[0];
      if (type) types.set(type, (types.get(type) ?? 0) + 1);
    }
    const what = [...types].map(([type, n]) => (n > 1 ? `${type} ×${n}` : type)).join(', ');
    return h('li', { class: breakGlass ? 'event break-glass' : 'event' },
      h('p', { class: 'event-when' }, h('time', { datetime: event.recorded }, formatDateTime(event.recorded))),
      h('p', {}, h('strong', {}, agent.who?.display ?? agent.who?.identifier?.value ?? '?'),
        role ? ` (${t('roles')[role] ?? role})` : ''),
      h('p', {}, `${t('actions')[event.action] ?? event.action}: ${what}`),
      purpose ? h('p', { class: 'event-why' }, `${t('why')}: ${t('purposes')[purpose] ?? purpose}`) : null,
      breakGlass ? h('p', { class: 'badge abnormal' }, h('span', { 'aria-hidden': 'true' }, '⚠ '), t('breakGlass')) : null);
  });
  show(h('section', {},
    h('h1', {}, t('accessTitle')),
    h('p', {}, t('accessIntro')),
    items.length ? h('ol', { class: 'events' }, items) : h('p', {}, t('noAccess'))));
}

// ---- sessions and security ---------------------------------------------------------------

// The account's second factors: each with its date and, while another one is left, a button
// that removes it (after a step-up); "Add a passkey" registers one more.
function factorsPart(factors, box, notice) {
  const name = (f) => (f.kind === 'totp' ? t('factorTotp') : t('factorPasskey'));
  const removable = factors.factors.length > 1;
  const after = (key) => securityView(t(key)).catch((e) => failed(e, box));
  return [
    h('ul', { class: 'factors' }, factors.factors.map((f) => h('li', { class: 'factor' },
      h('span', {}, `${name(f)}, ${t('added')} ${formatDate(f.created_at * 1000)}`),
      removable ? h('button', { type: 'button', class: 'secondary', 'aria-label': t('removeFactorLabel')(name(f), formatDate(f.created_at * 1000)), on: { click: async () => {
        try {
          await withStepUp(() => api.del(`/auth/factors/${encodeURIComponent(f.id)}`));
          await after('factorRemoved');
        } catch (error) { failed(error, box); }
      } } }, t('removeFactor')) : null))),
    notice ? h('p', { class: 'notice', role: 'status' }, notice) : null,
    h('button', { type: 'button', class: 'secondary', on: { click: async () => {
      try {
        const options = await withStepUp(() => api.post('/auth/factors/passkey/options'));
        await api.post('/auth/factors/passkey', { credential: await passkeyCreate(options) });
        await after('passkeyAdded');
      } catch (error) { failed(error, box); }
    } } }, t('addPasskey')),
  ];
}

async function securityView(notice) {
  const [{ sessions }, factors] = await Promise.all([api.get('/auth/sessions'), api.get('/auth/factors')]);
  const box = alertBox();
  const codes = h('div');
  const sessionItems = sessions.map((s) => h('li', { class: 'session' },
    h('p', {}, h('strong', {}, s.user_agent || '?'), s.current ? ` (${t('thisSession')})` : ''),
    h('p', {}, `${t('started')}: ${formatDateTime(s.created_at)} · ${t('lastSeen')}: ${formatDateTime(s.last_seen_at)} · ${s.source}`),
    h('button', { type: 'button', class: 'secondary', 'aria-label': t('endSessionLabel')(formatDateTime(s.created_at)), on: { click: async () => {
      try {
        await api.del(`/auth/sessions/${encodeURIComponent(s.id)}`);
        if (s.current) { session.me = null; api.forgetSession(); location.hash = '#/login'; } else securityView().catch((e) => failed(e, box));
      } catch (error) { failed(error, box); }
    } } }, t('endSession'))));
  show(h('section', {},
    h('h1', {}, t('securityTitle')),
    box,
    h('h2', {}, t('sessions')),
    h('ul', { class: 'sessions' }, sessionItems),
    h('button', { type: 'button', class: 'secondary', on: { click: async () => {
      try { await api.post('/auth/logout-everywhere'); } catch (error) { if (!(error instanceof api.ApiError) || error.status !== 401) return failed(error, box); }
      session.me = null; api.forgetSession(); location.hash = '#/login';
    } } }, t('logoutEverywhere')),
    h('h2', {}, t('factors')),
    factorsPart(factors, box, typeof notice === 'string' ? notice : null),
    h('p', {}, t('recoveryLeft')(factors.recovery_codes_left)),
    h('button', { type: 'button', class: 'secondary', on: { click: async () => {
      try {
        const answer = await withStepUp(() => api.post('/auth/recovery-codes'));
        codes.replaceChildren(h('h2', {}, t('recoveryTitle')), h('p', {}, t('recoveryIntro')),
          h('ol', { class: 'codes' }, answer.recovery_codes.map((c) => h('li', {}, h('code', {}, c)))));
      } catch (error) { failed(error, box); }
    } } }, t('newRecovery')),
    codes));
}

// ---- routing -----------------------------------------------------------------------------

const patientRoutes = {
  results: resultsView,
  report: (id) => reportView(id),
  access: accessView,
  security: securityView,
};

// The pages of the account's role: the patient's here, staff ones from their own module.
async function loadRole() {
  const kind = session.me.kind;
  if (kind === 'patient') {
    Object.assign(session, { routes: patientRoutes, home: '#/results',
      nav: [['#/results', 'navResults'], ['#/access', 'navAccess'], ['#/security', 'navSecurity']] });
    return;
  }
  const module = kind === 'clinician' ? await import('./workspace.js')
    : kind === 'lab_technician' ? await import('./lab.js')
      : kind === 'administrator' || kind === 'auditor' ? await import('./console.js') : null;
  const pages = module ? module.pages(kind) : { routes: {}, home: '#/security', nav: [] };
  Object.assign(session, { routes: { ...pages.routes, security: securityView }, home: pages.home,
    nav: [...pages.nav, ['#/security', 'navSecurity']] });
}

function showError(error) {
  const box = alertBox();
  show(h('section', {}, h('h1', {}, t('errorPrefix')), box));
  failed(error, box);
}

async function route() {
  const [, name = '', id] = location.hash.match(/^#\/([a-z-]*)\/?([^/]*)/) ?? [];
  if (name === 'activate') return activateView();
  if (name === 'enroll') return enrollView();
  if (!session.me && api.hasSession()) {
    try {
      session.me = await api.get('/auth/me');
      await loadRole();
    } catch {
      session.me = null;
      api.forgetSession();
    }
  }
  if (!session.me) return name === 'login' || name === '' ? loginView() : (location.hash = '#/login');
  const view = session.routes[name];
  if (!view) return (location.hash = session.home);
  show(h('p', { role: 'status' }, t('loading')));
  try {
    return await withStepUp(() => view(id ? decodeURIComponent(id) : undefined));
  } catch (error) {
    showError(error);
  }
}

session.route = route;
window.addEventListener('hashchange', route);
route();
