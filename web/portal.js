// The patient portal: hash routes (#/results, #/report/<id>, #/access, #/security) over the
// public auth and FHIR API. Nothing health-related goes into the URL (opaque ids at most),
// into storage, or to the console.
import * as api from './api.js';
import { h, importSvg } from './dom.js';
import { t, currentLanguage, setLanguage, formatDate, formatDateTime, formatNumber } from './i18n.js';
import { trendChart } from './chart.js';

let me = null;  // GET /auth/me, once logged in
let notice = null;  // a sentence for the next login page (why the session ended)
const main = () => document.getElementById('main');

// ---- shell -------------------------------------------------------------------------------

function renderShell() {
  document.documentElement.lang = currentLanguage();
  document.title = t('app');
  const nav = me
    ? h('nav', { 'aria-label': t('app') },
      h('ul', {},
        h('li', {}, h('a', { href: '#/results' }, t('navResults'))),
        h('li', {}, h('a', { href: '#/access' }, t('navAccess'))),
        h('li', {}, h('a', { href: '#/security' }, t('navSecurity'))),
        h('li', {}, h('button', { type: 'button', class: 'link', on: { click: logout } }, t('logout')))))
    : null;
  const other = currentLanguage() === 'fr' ? 'en' : 'fr';
  const header = h('header', { class: 'top' },
    h('a', { class: 'skip', href: '#main', on: { click: (e) => { e.preventDefault(); main().focus(); } } }, t('skip')),
    h('div', { class: 'bar' },
      h('span', { class: 'brand' }, t('app')),
      h('button', { type: 'button', class: 'language', lang: other, 'aria-label': t('switchLanguageLabel'),
        on: { click: () => { setLanguage(other); route(); } } }, t('switchLanguage'))),
    nav);
  for (const link of header.querySelectorAll('nav a')) {
    if (location.hash.startsWith(link.getAttribute('href'))) link.setAttribute('aria-current', 'page');
  }
  document.querySelector('header.top')?.remove();
  document.body.prepend(header);
}

// Shows a view: the shell for the current language and session, then the view, focus on its
// heading so screen readers and keyboards start there.
function show(view) {
  renderShell();
  main().replaceChildren(view);
  const heading = main().querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

function errorText(error) {
  const errors = t('errors');
  if (!(error instanceof api.ApiError)) return t('errorPrefix');
  if (error.status === 0) return errors.network;
  if (error.status === 429) return errors[429](error.retryAfter);
  if (error.status === 400 && error.diagnostics) return error.diagnostics;
  if (error.status in errors) return errors[error.status];
  return `${t('errorPrefix')} ${error.diagnostics}`.trim();
}

function alertBox() {
  return h('p', { class: 'alert', role: 'alert', hidden: true });
}

function showAlert(box, text) {
  box.textContent = text;
  box.hidden = false;
}

function field(id, label, attributes = {}, hint) {
  const hintId = hint ? `${id}-hint` : undefined;
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('input', { id, name: id, 'aria-describedby': hintId, ...attributes }));
}

// A form whose submit runs `action(values)`; errors land in its alert box, the button is
// disabled meanwhile so a double click sends nothing twice.
function form(children, submitLabel, action) {
  const box = alertBox();
  const button = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  const element = h('form', { novalidate: true }, box, children, button);
  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!element.reportValidity()) return;
    const values = Object.fromEntries(new FormData(element).entries());
    button.disabled = true;
    box.hidden = true;
    try {
      await action(values, (text) => showAlert(box, text));
    } catch (error) {
      if (error instanceof api.ApiError && error.status === 401 && me) return sessionEnded();
      showAlert(box, errorText(error));
    } finally {
      button.disabled = false;
    }
  });
  return element;
}

function sessionEnded() {
  me = null;
  api.forgetSession();
  notice = t('errors').sessionEnded;
  if (location.hash === '#/login') route(); else location.hash = '#/login';
}

// ---- activation, enrollment, login -------------------------------------------------------

function loginView() {
  const message = notice;
  notice = null;
  const view = h('section', {},
    h('h1', {}, t('loginTitle')),
    message ? h('p', { class: 'notice', role: 'status' }, message) : null,
    form([
      field('login', t('login'), { autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' }),
      field('password', t('password'), { type: 'password', autocomplete: 'current-password', required: true }),
    ], t('continue'), async ({ login, password }) => {
      const pending = await api.post('/auth/login', { login, password });
      secondFactorView(pending, 'totp');
    }),
    h('p', {}, t('noAccount'), ' ', h('a', { href: '#/activate' }, t('activateLink'))));
  show(view);
}

function secondFactorView(pending, kind) {
  const other = kind === 'totp' ? 'recovery_code' : 'totp';
  const input = kind === 'totp'
    ? field('code', t('totpCode'), { inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6, required: true })
    : field('code', t('recoveryCode'), { autocomplete: 'off', autocapitalize: 'characters', required: true, spellcheck: 'false' });
  const path = kind === 'totp' ? '/auth/login/totp' : '/auth/login/recovery-code';
  show(h('section', {},
    h('h1', {}, t('secondFactorTitle')),
    form([input], t('loginButton'), async ({ code }) => {
      const session = await api.post(path, { pending_token: pending.pending_token, code: code.trim() });
      await startSession(session);
    }),
    pending.factors.includes(other)
      ? h('p', {}, h('button', { type: 'button', class: 'link', on: { click: () => secondFactorView(pending, other) } },
        kind === 'totp' ? t('useRecovery') : t('useTotp')))
      : null));
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
      await totpEnrollView(enrollment);
    }),
    h('p', {}, t('haveAccount'), ' ', h('a', { href: '#/login' }, t('loginLink')))));
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
    form([
      field('code', t('totpCode'), { inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6, required: true }),
    ], t('confirm'), async ({ code }) => {
      const session = await api.post('/auth/enroll/totp/confirm', { enrollment_token: enrollment.enrollment_token, code: code.trim() });
      recoveryCodesView(session.recovery_codes, () => startSession(session));
    })));
}

function recoveryCodesView(codes, next) {
  show(h('section', {},
    h('h1', {}, t('recoveryTitle')),
    h('p', {}, t('recoveryIntro')),
    h('ol', { class: 'codes' }, codes.map((code) => h('li', {}, h('code', {}, code)))),
    h('button', { type: 'button', class: 'primary', on: { click: next } }, t('recoverySaved'))));
}

async function startSession(session) {
  api.rememberSession(session.csrf_token);
  me = await api.get('/auth/me');
  if (location.hash === '#/results') route(); else location.hash = '#/results';
}

async function logout() {
  try { await api.post('/auth/logout'); } catch { /* the session is gone either way */ }
  me = null;
  api.forgetSession();
  location.hash = '#/login';
}

// ---- results -----------------------------------------------------------------------------

const codingOf = (concept) => concept?.coding?.[0] ?? {};
const nameOf = (concept) => concept?.text ?? codingOf(concept).display ?? codingOf(concept).code ?? '';
const flagOf = (observation) => codingOf(observation.interpretation?.[0]).code;
const isAbnormal = (observation) => { const f = flagOf(observation); return f !== undefined && f !== 'N'; };
const idOf = (reference) => reference?.reference?.split('/')[1];

function quantity(q) {
  if (!q || q.value === undefined) return '';
  return `${formatNumber(q.value)} ${q.unit ?? q.code ?? ''}`.trim();
}

function valueText(observation) {
  if (observation.valueQuantity) return quantity(observation.valueQuantity);
  return observation.valueString ?? nameOf(observation.valueCodeableConcept) ?? '';
}

function rangeText(observation) {
  const range = observation.referenceRange?.[0];
  if (!range) return '';
  if (range.text) return range.text;
  const low = range.low?.value;
  const high = range.high?.value;
  const unit = range.low?.unit ?? range.high?.unit ?? '';
  if (low !== undefined && high !== undefined) return `${formatNumber(low)} – ${formatNumber(high)} ${unit}`.trim();
  if (low !== undefined) return `≥ ${formatNumber(low)} ${unit}`.trim();
  if (high !== undefined) return `≤ ${formatNumber(high)} ${unit}`.trim();
  return '';
}

function statusBadge(status) {
  return h('span', { class: `badge status-${status}` }, t('status')[status] ?? status);
}

function abnormalBadge(count) {
  return count
    ? h('span', { class: 'badge abnormal' }, h('span', { 'aria-hidden': 'true' }, '▲ '), t('abnormal')(count))
    : h('span', { class: 'badge normal' }, t('allNormal'));
}

async function resultsView() {
  const list = h('ul', { class: 'reports' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, t('more'));
  const box = alertBox();
  show(h('section', {}, h('h1', {}, t('resultsTitle')), box, list, more));
  let next = `/fhir/DiagnosticReport?patient=${encodeURIComponent(me.patient_id)}&_sort=-date&_count=20&_include=DiagnosticReport:result`;
  const load = async () => {
    more.disabled = true;
    const bundle = await api.get(next);
    const observations = new Map();
    const reports = [];
    for (const entry of bundle.entry ?? []) {
      if (entry.resource.resourceType === 'Observation') observations.set(entry.resource.id, entry.resource);
      else if (entry.resource.resourceType === 'DiagnosticReport' && entry.search?.mode === 'match') reports.push(entry.resource);
    }
    for (const report of reports) {
      const abnormal = (report.result ?? []).map((r) => observations.get(idOf(r))).filter((o) => o && isAbnormal(o)).length;
      list.append(h('li', {},
        h('a', { href: `#/report/${encodeURIComponent(report.id)}` },
          h('span', { class: 'report-name' }, nameOf(report.code)),
          h('time', { class: 'report-date', datetime: report.effectiveDateTime ?? report.issued }, formatDate(report.effectiveDateTime ?? report.issued))),
        h('div', { class: 'badges' }, statusBadge(report.status), abnormalBadge(abnormal))));
    }
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

function failed(error, box) {
  if (error instanceof api.ApiError && error.status === 401) return sessionEnded();
  showAlert(box, errorText(error));
}

async function reportView(id) {
  const bundle = await api.get(`/fhir/DiagnosticReport?patient=${encodeURIComponent(me.patient_id)}&_id=${encodeURIComponent(id)}&_include=DiagnosticReport:result`);
  const report = (bundle.entry ?? []).find((e) => e.resource.resourceType === 'DiagnosticReport')?.resource;
  if (!report) throw new api.ApiError(404, 'not-found', '');
  const byId = new Map((bundle.entry ?? []).filter((e) => e.resource.resourceType === 'Observation').map((e) => [e.resource.id, e.resource]));
  const observations = (report.result ?? []).map((r) => byId.get(idOf(r))).filter(Boolean);

  const rows = observations.map((o) => {
    const flag = flagOf(o);
    const abnormal = isAbnormal(o);
    return h('tr', { class: abnormal ? 'abnormal' : undefined },
      h('th', { scope: 'row' }, nameOf(o.code)),
      h('td', { class: 'value', 'data-label': t('value') }, valueText(o)),
      h('td', { 'data-label': t('range') }, rangeText(o)),
      h('td', { 'data-label': t('flag') }, abnormal ? h('span', { class: 'badge abnormal' }, h('span', { 'aria-hidden': 'true' }, flag?.startsWith('L') ? '▼ ' : '▲ '), t('flags')[flag] ?? flag) : ''));
  });
  const pdf = (report.presentedForm ?? []).find((f) => f.contentType === 'application/pdf' && f.url?.startsWith('Binary/'));
  const trends = h('div', { class: 'trends' });
  show(h('section', {},
    h('p', {}, h('a', { href: '#/results' }, '← ', t('back'))),
    h('h1', {}, nameOf(report.code)),
    h('p', { class: 'meta' }, statusBadge(report.status), ' ',
      `${t('collected')}: ${formatDateTime(report.effectiveDateTime)}`, ' · ', `${t('issued')}: ${formatDateTime(report.issued)}`),
    h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': nameOf(report.code) }, h('table', { class: 'values' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('test')), h('th', { scope: 'col' }, t('value')), h('th', { scope: 'col' }, t('range')), h('th', { scope: 'col' }, t('flag')))),
      h('tbody', {}, rows))),
    pdf ? h('p', {}, h('a', { class: 'button', href: `/fhir/${pdf.url}`, download: `${report.id}.pdf`, type: 'application/pdf' }, t('downloadPdf'))) : null,
    trends));

  // One search for the history of every test in the report, drawn where there are several.
  const codes = observations.filter((o) => o.valueQuantity && codingOf(o.code).code).map((o) => `${codingOf(o.code).system}|${codingOf(o.code).code}`);
  if (!codes.length) return;
  const history = await api.searchAll(`/fhir/Observation?patient=${encodeURIComponent(me.patient_id)}&code=${codes.map(encodeURIComponent).join(',')}&_sort=date&_count=100`);
  const charts = [];
  for (const o of observations) {
    const code = codingOf(o.code).code;
    const points = history
      .filter((p) => codingOf(p.code).code === code && p.valueQuantity?.value !== undefined && p.effectiveDateTime)
      .map((p) => ({ time: Date.parse(p.effectiveDateTime), value: p.valueQuantity.value, abnormal: isAbnormal(p) }))
      .sort((a, b) => a.time - b.time);
    if (points.length < 2) continue;
    const range = o.referenceRange?.[0] ?? {};
    const name = nameOf(o.code);
    charts.push(h('figure', { class: 'trend-figure' },
      trendChart(points, { low: range.low?.value, high: range.high?.value }, t('trendOf')(name)),
      h('figcaption', {}, h('strong', {}, name), ' — ',
        t('trendSummary')(points.length, formatDate(points[0].time), formatDate(points[points.length - 1].time)))));
  }
  if (charts.length) trends.append(h('h2', {}, t('trends')), ...charts);
}

// ---- access history ----------------------------------------------------------------------

async function accessView() {
  const events = await api.searchAll(`/fhir/AuditEvent?patient=${encodeURIComponent(me.patient_id)}&_count=100`);
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

// Runs a sensitive action; when the server asks for a fresh second factor (403), asks for a
// TOTP code, steps up, and runs it again.
async function withStepUp(action, box) {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof api.ApiError) || error.status !== 403) throw error;
  }
  return new Promise((resolve, reject) => {
    const dialog = h('dialog', { 'aria-labelledby': 'step-up-title' },
      h('h2', { id: 'step-up-title' }, t('stepUpTitle')),
      h('p', {}, t('stepUpIntro')),
      form([field('step-up-code', t('totpCode'), { inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6, required: true })],
        t('confirm'), async (values) => {
          const session = await api.post('/auth/step-up/totp', { code: values['step-up-code'].trim() });
          api.rememberSession(session.csrf_token);
          dialog.close();
          dialog.remove();
          action().then(resolve, reject);
        }));
    dialog.addEventListener('cancel', () => { dialog.remove(); box.hidden = true; });
    document.body.append(dialog);
    dialog.showModal();
  });
}

async function securityView() {
  const [{ sessions }, factors] = await Promise.all([api.get('/auth/sessions'), api.get('/auth/factors')]);
  const box = alertBox();
  const codes = h('div');
  const sessionItems = sessions.map((s) => h('li', { class: 'session' },
    h('p', {}, h('strong', {}, s.user_agent || '?'), s.current ? ` (${t('thisSession')})` : ''),
    h('p', {}, `${t('started')}: ${formatDateTime(s.created_at)} · ${t('lastSeen')}: ${formatDateTime(s.last_seen_at)} · ${s.source}`),
    h('button', { type: 'button', class: 'secondary', 'aria-label': t('endSessionLabel')(formatDateTime(s.created_at)), on: { click: async () => {
      try {
        await api.del(`/auth/sessions/${encodeURIComponent(s.id)}`);
        if (s.current) { me = null; api.forgetSession(); location.hash = '#/login'; } else securityView().catch((e) => failed(e, box));
      } catch (error) { failed(error, box); }
    } } }, t('endSession'))));
  show(h('section', {},
    h('h1', {}, t('securityTitle')),
    box,
    h('h2', {}, t('sessions')),
    h('ul', { class: 'sessions' }, sessionItems),
    h('button', { type: 'button', class: 'secondary', on: { click: async () => {
      try { await api.post('/auth/logout-everywhere'); } catch (error) { if (!(error instanceof api.ApiError) || error.status !== 401) return failed(error, box); }
      me = null; api.forgetSession(); location.hash = '#/login';
    } } }, t('logoutEverywhere')),
    h('h2', {}, t('factors')),
    h('ul', {}, factors.factors.map((f) => h('li', {}, `${f.kind === 'totp' ? t('factorTotp') : t('factorPasskey')}, ${t('added')} ${formatDate(f.created_at * 1000)}`))),
    h('p', {}, t('recoveryLeft')(factors.recovery_codes_left)),
    h('button', { type: 'button', class: 'secondary', on: { click: async () => {
      try {
        const answer = await withStepUp(() => api.post('/auth/recovery-codes'), box);
        codes.replaceChildren(h('h2', {}, t('recoveryTitle')), h('p', {}, t('recoveryIntro')),
          h('ol', { class: 'codes' }, answer.recovery_codes.map((c) => h('li', {}, h('code', {}, c)))));
      } catch (error) { failed(error, box); }
    } } }, t('newRecovery')),
    codes));
}

// ---- routing -----------------------------------------------------------------------------

async function route() {
  const [, name = '', id] = location.hash.match(/^#\/([a-z]*)\/?([^/]*)/) ?? [];
  if (name === 'activate') return activateView();
  if (!me && api.hasSession()) {
    try { me = await api.get('/auth/me'); } catch { api.forgetSession(); }
  }
  if (!me) return name === 'login' || name === '' ? loginView() : (location.hash = '#/login');
  if (name === 'login' || name === '') return (location.hash = '#/results');
  show(h('p', { role: 'status' }, t('loading')));
  try {
    if (name === 'report' && id) return await reportView(decodeURIComponent(id));
    if (name === 'access') return await accessView();
    if (name === 'security') return await securityView();
    return await resultsView();
  } catch (error) {
    const box = alertBox();
    show(h('section', {}, h('h1', {}, t('errorPrefix')), box));
    failed(error, box);
  }
}

window.addEventListener('hashchange', route);
route();
