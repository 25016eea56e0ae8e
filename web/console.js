// The security console, over the public API only. Administrators: accounts (#/accounts),
// four-eyes approvals of roles and bulk exports (#/approvals), care teams (#/teams), the alert
// feed (#/alerts) and the keys with the last checkpoint (#/keys). Auditors: the alert feed,
// the break-the-glass review queue (#/review), audit log search and breach scope (#/audit),
// and the checkpoint with a verification run (#/integrity). Ids only in the URL.
import * as api from './api.js';
import { h } from './dom.js';
import { t, addStrings, formatDateTime } from './i18n.js';
import { session, show, form, field, alertBox, failed, withStepUp } from './ui.js';
import { CONSOLE_STRINGS } from './console_strings.js';

addStrings(CONSOLE_STRINGS);

export function pages(kind) {
  if (kind === 'administrator') {
    return {
      routes: { accounts: accountsView, approvals: approvalsView, teams: teamsView, alerts: alertsView, keys: keysView },
      home: '#/accounts',
      nav: [['#/accounts', 'navAccounts'], ['#/approvals', 'navApprovals'], ['#/teams', 'navTeams'],
        ['#/alerts', 'navAlerts'], ['#/keys', 'navKeys']],
    };
  }
  return {
    routes: { alerts: alertsView, review: reviewView, audit: auditView, integrity: integrityView },
    home: '#/alerts',
    nav: [['#/alerts', 'navAlerts'], ['#/review', 'navReview'], ['#/audit', 'navAudit'], ['#/integrity', 'navIntegrity']],
  };
}

// ---- pieces --------------------------------------------------------------------------------

// A labelled <select>; `options` are [value, text] pairs.
function choice(id, label, options, attributes = {}) {
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('select', { id, name: id, ...attributes }, options.map(([value, text]) => h('option', { value }, text))));
}

const named = (table, key) => t(table)[key] ?? key;
const status = (text) => h('p', { class: 'notice', role: 'status' }, text);

// A button that runs `action` (with the step-up when the server asks for it); failures go to
// `box`, the button is disabled meanwhile.
function actionButton(label, ariaLabel, action, box, kind = 'secondary') {
  const button = h('button', { type: 'button', class: kind, 'aria-label': ariaLabel });
  button.textContent = label;
  button.addEventListener('click', async () => {
    button.disabled = true;
    box.hidden = true;
    try {
      await withStepUp(action);
    } catch (error) {
      failed(error, box);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

// A table whose cells carry their column's name for the phone layout (portal.css).
function table(columns, rows) {
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'values console' },
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((cell, i) => h('td', { 'data-label': columns[i] }, cell)))))));
}

// ---- accounts ------------------------------------------------------------------------------

async function accountsView() {
  const box = alertBox();
  const done = h('div', { 'aria-live': 'polite' });
  const list = h('div');
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, t('more'));
  let query = '';
  let next = null;
  let rows = [];
  const render = () => {
    list.replaceChildren(rows.length ? table(
      [t('colLogin'), t('colName'), t('colKind'), t('colStatus'), t('colFactors'), t('colCreated'), t('colLastLogin'), t('colActions')],
      rows.map((a) => [
        h('strong', {}, a.login), a.display_name ?? '', named('kinds', a.kind), named('statuses', a.status),
        a.second_factors.length ? a.second_factors.map((f) => named('factorKinds', f)).join(', ') : t('none'),
        formatDateTime(a.created_at), a.last_login_at ? formatDateTime(a.last_login_at) : t('never'),
        h('div', { class: 'actions' }, actionsFor(a)),
      ])) : h('p', { class: 'notice' }, t('noAccounts')));
  };
  const actionsFor = (a) => {
    if (a.account_id === session.me.account_id) return [];
    const buttons = [];
    if (a.status === 'active' || a.status === 'suspended' || a.status.startsWith('pending')) {
      buttons.push(actionButton(t('disable'), t('disableLabel')(a.login), async () => {
        await api.post('/auth/admin/accounts/disable', { login: a.login });
        done.replaceChildren(status(t('disabled')(a.login)));
        await reload();
      }, box));
    }
    if (a.status === 'disabled' || a.status === 'suspended') {
      buttons.push(actionButton(t('reinstate'), t('reinstateLabel')(a.login), async () => {
        await api.post('/auth/admin/accounts/reinstate', { login: a.login });
        done.replaceChildren(status(t('reinstated')(a.login)));
        await reload();
      }, box));
    }
    if (a.status !== 'pending_approval' && a.kind !== 'patient') {
      buttons.push(actionButton(t('reset'), t('resetLabel')(a.login), async () => {
        const answer = await api.post('/auth/admin/accounts/reset', { login: a.login });
        done.replaceChildren(status(t('resetDone')(a.login, answer.enrollment_code)));
        await reload();
      }, box));
    }
    return buttons;
  };
  const load = async () => {
    const page = await api.get(`/auth/admin/accounts?_count=50${query}${next ? `&cursor=${encodeURIComponent(next)}` : ''}`);
    rows = rows.concat(page.accounts);
    next = page.next ?? null;
    more.hidden = !next;
    render();
  };
  const reload = async () => { rows = []; next = null; await load(); };
  more.addEventListener('click', () => load().catch((error) => failed(error, box)));
  const kinds = Object.entries(t('kinds'));
  const filters = form([
    h('div', { class: 'filters' },
      choice('filter-kind', t('kind'), [['', t('any')], ...kinds]),
      choice('filter-status', t('status'), [['', t('any')], ...['active', 'disabled', 'suspended', 'pending'].map((s) => [s, named('statuses', s)])]),
      field('filter-login', t('loginStarts'), { autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: 64 })),
  ], t('apply'), async (values) => {
    const parts = [['kind', values['filter-kind']], ['status', values['filter-status']], ['login', values['filter-login'].trim()]];
    query = parts.filter(([, v]) => v).map(([k, v]) => `&${k}=${encodeURIComponent(v)}`).join('');
    await reload();
  });
  filters.classList.add('filters-form');
  const create = form([
    h('p', {}, t('createIntro')),
    field('new-login', t('newLogin'), { required: true, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', pattern: '[a-z0-9._@\\-]{3,64}' }, t('newLoginHint')),
    choice('new-kind', t('kind'), kinds.filter(([k]) => k !== 'patient'), { required: true }),
    field('new-name', t('newName'), { required: true, autocomplete: 'off', maxlength: 128 }),
  ], t('create'), async (values) => {
    const answer = await api.post('/auth/admin/accounts', { login: values['new-login'].trim(), kind: values['new-kind'], name: values['new-name'].trim() });
    done.replaceChildren(status(t('created')(answer.login, answer.enrollment_code)));
    await reload();
  });
  const link = form([
    h('p', {}, t('linkIntro')),
    field('link-login', t('linkLogin'), { required: true, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: 64 }),
    field('link-target', t('linkTarget'), { required: true, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: 128, pattern: '(Practitioner|Organization)/[A-Za-z0-9.\\-]{1,64}' }, t('linkTargetHint')),
  ], t('linkDo'), async (values) => {
    const answer = await api.post('/auth/admin/accounts/link', { login: values['link-login'].trim(), link: values['link-target'].trim() });
    done.replaceChildren(status(t('linked')(answer.login, answer.link)));
  });
  const client = form([
    field('client-id', t('clientId'), { required: true, autocomplete: 'off', spellcheck: 'false', maxlength: 128 }),
  ], t('disableClient'), async (values) => {
    const answer = await api.post('/auth/admin/accounts/disable', { client: values['client-id'].trim() });
    done.replaceChildren(status(t('clientDisabled')(answer.client, answer.tokens_ended)));
  });
  show(h('section', {},
    h('h1', {}, t('accountsTitle')),
    h('p', {}, t('accountsIntro')),
    filters, box, done, list, more,
    h('h2', {}, t('createTitle')), create,
    h('h2', {}, t('linkTitle')), link,
    h('h2', {}, t('clientTitle')), client));
  await load();
}

// ---- four-eyes approvals -------------------------------------------------------------------

async function approvalsView() {
  const [{ grants }, { jobs }, pending] = await Promise.all([
    api.get('/auth/admin/grants'), api.get('/admin/exports'), api.get('/auth/admin/accounts?status=pending&_count=200')]);
  const logins = new Map(pending.accounts.map((a) => [a.account_id, a.login]));
  const box = alertBox();
  const grantItems = grants.map((g) => {
    const who = logins.get(g.account_id) ?? g.account_id;
    const outcome = h('p', { role: 'status' });
    const decide = (verb, text) => async () => {
      await api.post(`/auth/admin/grants/${encodeURIComponent(g.id)}/${verb}`);
      outcome.replaceChildren(text);
      item.querySelector('.actions').remove();
    };
    const item = h('li', { class: 'entry' },
      h('p', {}, h('strong', {}, t('grantFor')(who, named('kinds', g.kind)))),
      h('p', { class: 'meta' }, t('requestedBy')(g.requested_by === session.me.account_id ? t('you') : g.requested_by, formatDateTime(g.requested_at)),
        ' · ', t('expires')(formatDateTime(g.expires_at))),
      h('div', { class: 'actions' },
        actionButton(t('approve'), t('approveLabel')(who), decide('approve', t('approved')), box, 'primary'),
        actionButton(t('refuse'), t('refuseLabel')(who), decide('refuse', t('refused')), box)),
      outcome);
    return item;
  });
  const jobItems = jobs.map((job) => {
    const outcome = h('p', { role: 'status' });
    const decide = (verb, text) => async () => {
      await api.post(`/admin/exports/${encodeURIComponent(job.id)}/${verb}`);
      outcome.replaceChildren(text);
      item.querySelector('.actions')?.remove();
    };
    const item = h('li', { class: 'entry' },
      h('p', {}, h('strong', {}, job.id), ' ', h('span', { class: job.state === 'pending' ? 'badge abnormal' : 'badge' }, named('exportStates', job.state))),
      h('p', { class: 'meta' }, t('requestedBy')(job.requested_by, formatDateTime(job.requested_at)), ' · ', t('exportTypes')(job.types)),
      job.state === 'pending' ? h('div', { class: 'actions' },
        actionButton(t('approve'), t('approveExportLabel')(job.id), decide('approve', t('approved')), box, 'primary'),
        actionButton(t('refuse'), t('refuseExportLabel')(job.id), decide('refuse', t('refused')), box)) : null,
      outcome);
    return item;
  });
  show(h('section', {},
    h('h1', {}, t('approvalsTitle')),
    h('p', {}, t('approvalsIntro')),
    box,
    h('h2', {}, t('grantsTitle')),
    grantItems.length ? h('ul', { class: 'entries' }, grantItems) : h('p', { class: 'notice' }, t('noGrants')),
    h('h2', {}, t('exportsTitle')),
    jobItems.length ? h('ul', { class: 'entries' }, jobItems) : h('p', { class: 'notice' }, t('noExports'))));
}

// ---- care teams ----------------------------------------------------------------------------

const practitionerName = (p) => {
  const name = p?.name?.[0];
  return name?.text ?? [...(name?.given ?? []), name?.family].filter(Boolean).join(' ') ?? '';
};

// Care teams are read one patient at a time (their records are encrypted per patient): the
// administrator names the patient by id.
async function teamsView() {
  const practitioners = await api.searchAll('/fhir/Practitioner?_count=100', 5);
  const names = new Map(practitioners.map((p) => [`Practitioner/${p.id}`, practitionerName(p) || p.id]));
  const options = practitioners.map((p) => [`Practitioner/${p.id}`, practitionerName(p) || p.id]);
  const box = alertBox();
  const done = h('div', { 'aria-live': 'polite' });
  const list = h('div');
  let patientId = '';
  let teams = [];
  const memberRef = (participant) => participant.member?.reference ?? '';
  const save = async (team) => (await api.put(`/fhir/CareTeam/${encodeURIComponent(team.id)}`, team)) ?? team;
  const render = () => {
    const items = teams.map((team, index) => {
      const title = team.name || `${t('teamUnnamed')} ${team.id}`;
      const members = (team.participant ?? []).map((p) => {
        const ref = memberRef(p);
        const who = names.get(ref) ?? p.member?.display ?? ref;
        return h('li', {}, who, ' ',
          actionButton(t('remove'), t('removeLabel')(who, title), async () => {
            teams[index] = await save({ ...team, participant: (team.participant ?? []).filter((q) => q !== p) });
            done.replaceChildren(status(t('memberRemoved')));
            render();
          }, box));
      });
      const selectId = `add-${team.id}`;
      const add = form([choice(selectId, t('practitioner'), options, { required: true })], t('add'), async (values) => {
        const reference = values[selectId];
        if ((team.participant ?? []).some((p) => memberRef(p) === reference)) return;
        teams[index] = await save({ ...team, participant: [...(team.participant ?? []), { member: { reference } }] });
        done.replaceChildren(status(t('memberAdded')));
        render();
      });
      return h('li', { class: 'entry team' },
        h('h3', {}, title),
        h('p', { class: 'meta' }, team.status ?? ''),
        h('h4', {}, t('members')),
        members.length ? h('ul', { class: 'members' }, members) : h('p', {}, t('noMembers')),
        add);
    });
    const create = form([
      field('team-name', t('teamName'), { required: true, autocomplete: 'off', maxlength: 128 }),
      choice('team-member', t('practitioner'), options, { required: true }),
    ], t('createTeam'), async (values) => {
      const created = await api.post('/fhir/CareTeam', {
        resourceType: 'CareTeam', status: 'active', name: values['team-name'].trim(),
        subject: { reference: `Patient/${patientId}` }, participant: [{ member: { reference: values['team-member'] } }],
      });
      teams.push(created);
      done.replaceChildren(status(t('teamCreated')));
      render();
    });
    list.replaceChildren(
      h('h2', {}, t('teamsFor')(patientId)),
      items.length ? h('ul', { class: 'entries' }, items) : h('p', { class: 'notice' }, t('noTeams')),
      h('h3', {}, t('newTeam')), create);
  };
  const find = form([
    field('team-patient', t('patient'), { required: true, autocomplete: 'off', spellcheck: 'false', maxlength: 64 }, t('teamPatientHint')),
  ], t('showTeams'), async (values) => {
    patientId = values['team-patient'].trim();
    teams = await api.searchAll(`/fhir/CareTeam?patient=${encodeURIComponent(patientId)}&_count=50`, 10);
    done.replaceChildren();
    render();
  });
  show(h('section', {}, h('h1', {}, t('teamsTitle')), h('p', {}, t('teamsIntro')), find, box, done, list));
}

// ---- alerts --------------------------------------------------------------------------------

async function alertsView() {
  const all = [];
  let after = 0;
  for (let page = 0; page < 10; ++page) {
    const { alerts } = await api.get(`/security/alerts?_count=1000&after=${after}`);
    all.push(...alerts);
    if (alerts.length < 1000) break;
    after = alerts[alerts.length - 1].id;
  }
  all.reverse();
  const box = alertBox();
  const who = (id) => (id === session.me.account_id ? t('you') : id);
  const items = all.map((alert) => {
    const state = h('div', { class: 'ack' });
    const acknowledged = (by, at) => state.replaceChildren(h('p', { class: 'meta' }, t('acknowledgedBy')(who(by), formatDateTime(at))));
    if (alert.acknowledged_by) acknowledged(alert.acknowledged_by, alert.acknowledged_at);
    else {
      state.append(actionButton(t('acknowledge'), t('acknowledgeLabel')(alert.id), async () => {
        const answer = await api.post(`/security/alerts/${encodeURIComponent(alert.id)}/$acknowledge`);
        acknowledged(answer.acknowledged_by, answer.acknowledged_at);
      }, box));
    }
    return h('li', { class: alert.acknowledged_by ? 'entry alert-item' : 'entry alert-item high' },
      h('p', {}, h('strong', {}, named('alertKinds', alert.kind)), ' · ', h('time', { datetime: alert.raised_at }, formatDateTime(alert.raised_at))),
      h('p', { class: 'meta' }, alert.subject),
      h('p', {}, alert.detail),
      state);
  });
  show(h('section', {},
    h('h1', {}, t('alertsTitle')),
    h('p', {}, t('alertsIntro')),
    box,
    items.length ? h('ul', { class: 'entries' }, items) : h('p', { class: 'notice' }, t('noAlerts'))));
}

// ---- break-the-glass review ----------------------------------------------------------------

async function reviewView() {
  const grants = [];
  let next = '';
  for (let page = 0; page < 10; ++page) {
    const answer = await api.get(`/audit/break-glass?_count=100${next ? `&after=${encodeURIComponent(next)}` : ''}`);
    grants.push(...answer.grants);
    next = answer.next ?? '';
    if (!next) break;
  }
  const items = grants.map((g) => {
    const noteId = `note-${g.id}`;
    const item = h('li', { class: 'entry high' },
      h('p', {}, h('strong', {}, t('grantedTo')(g.account, g.patient_id))),
      h('p', { class: 'meta' }, formatDateTime(g.granted_at), ' → ', formatDateTime(g.expires_at)),
      h('p', {}, `${t('reason')}: ${named('bgReasons', g.reason)}`),
      h('p', {}, `${t('justification')}: `, h('q', {}, g.text)));
    item.append(form([
      h('div', { class: 'field' },
        h('label', { for: noteId }, t('reviewNote')),
        h('p', { class: 'hint', id: `${noteId}-hint` }, t('reviewNoteHint')),
        h('textarea', { id: noteId, name: 'note', rows: 2, required: true, 'aria-describedby': `${noteId}-hint` })),
    ], t('markReviewed'), async ({ note }) => {
      await api.post(`/audit/break-glass/${encodeURIComponent(g.id)}/$review`, { note: note.trim() });
      item.replaceChildren(h('p', {}, h('strong', {}, t('grantedTo')(g.account, g.patient_id))), status(t('reviewed')));
      item.classList.remove('high');
    }));
    return item;
  });
  show(h('section', {},
    h('h1', {}, t('reviewTitle')),
    h('p', {}, t('reviewIntro')),
    items.length ? h('ul', { class: 'entries' }, items) : h('p', { class: 'notice' }, t('noReview'))));
}

// ---- audit log search and breach scope -----------------------------------------------------

// RFC 4180 rows of the server's CSV (quoted fields may hold commas, quotes and line breaks).
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; ++i) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; ++i; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; } else cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

const SHOWN_ENTRIES = 200;
const ACTIONS = ['login', 'second_factor', 'read', 'search', 'create', 'update', 'delete', 'break_the_glass', 'export',
  'user_add', 'user_change', 'approve', 'refuse', 'download', 'acknowledge', 'key_rotate', 'patient_erase'];

function auditView() {
  const results = h('div', { 'aria-live': 'polite' });
  const scope = h('div', { 'aria-live': 'polite' });
  const search = form([
    h('div', { class: 'filters' },
      field('q-account', t('account'), { autocomplete: 'off', spellcheck: 'false', maxlength: 128 }),
      field('q-patient', t('patient'), { autocomplete: 'off', spellcheck: 'false', maxlength: 128 }),
      choice('q-action', t('action'), [['', t('any')], ...ACTIONS.map((a) => [a, a])]),
      field('q-from', t('from'), { type: 'date' }),
      field('q-to', t('to'), { type: 'date' })),
  ], t('searchLog'), async (values) => {
    const params = [['account', values['q-account'].trim()], ['patient', values['q-patient'].trim()], ['action', values['q-action']],
      ['from', values['q-from']], ['to', values['q-to']]].filter(([, v]) => v);
    const path = `/audit/entries.csv${params.length ? '?' : ''}${params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`;
    const [header, ...rows] = parseCsv(await api.getText(path));
    const column = (name) => header.indexOf(name);
    const shown = rows.slice(-SHOWN_ENTRIES).reverse();
    results.replaceChildren(
      h('p', { role: 'status' }, t('entriesFound')(rows.length), rows.length > SHOWN_ENTRIES ? ` (${t('shownFirst')(SHOWN_ENTRIES)})` : ''),
      shown.length ? table([t('colTime'), t('colAccount'), t('colRole'), t('colAction'), t('colWhat'), t('colPatients'), t('colOutcome')],
        shown.map((r) => [formatDateTime(r[column('time')]), r[column('account')], r[column('role')], r[column('action')],
          [r[column('resource_type')], r[column('resource_ids')]].filter(Boolean).join(' '), r[column('patient_ids')], r[column('outcome')]])) : null,
      h('p', {}, h('a', { href: path, download: 'audit-entries.csv' }, t('download'))));
  });
  const breach = form([
    h('p', {}, t('scopeIntro')),
    h('div', { class: 'filters' },
      field('s-account', t('account'), { required: true, autocomplete: 'off', spellcheck: 'false', maxlength: 128 }),
      field('s-from', t('from'), { type: 'date', required: true }),
      field('s-to', t('to'), { type: 'date', required: true })),
  ], t('computeScope'), async (values) => {
    const answer = await api.get(`/audit/scope?account=${encodeURIComponent(values['s-account'].trim())}&from=${values['s-from']}&to=${values['s-to']}`);
    scope.replaceChildren(
      h('p', { role: 'status' }, t('scopeResult')(answer.patients.length, answer.records, answer.entries)),
      answer.patients.length ? table([t('colPatient'), t('colTypes')],
        answer.patients.map((p) => [p.patient_id, Object.entries(p.by_type).map(([type, n]) => `${type} ×${n}`).join(', ')])) : null);
  });
  show(h('section', {},
    h('h1', {}, t('auditTitle')),
    h('p', {}, t('auditIntro')),
    search, results,
    h('h2', {}, t('scopeTitle')),
    breach, scope));
}

// ---- integrity: checkpoint, verification, keys ---------------------------------------------

async function checkpointCard() {
  let checkpoint;
  try {
    checkpoint = await api.get('/audit/checkpoint');
  } catch (error) {
    if (error instanceof api.ApiError && error.status === 404) return h('p', { class: 'notice' }, t('noCheckpoint'));
    throw error;
  }
  return h('dl', { class: 'facts' },
    h('dt', {}, t('cpSize')), h('dd', {}, String(checkpoint.size)),
    h('dt', {}, t('cpSigned')), h('dd', {}, formatDateTime(checkpoint.signed_at)),
    h('dt', {}, t('cpRoot')), h('dd', {}, h('code', {}, checkpoint.root ?? '')),
    h('dt', {}, t('cpKey')), h('dd', {}, h('code', {}, checkpoint.key_id ?? '')),
    h('dt', {}, t('cpSignature')), h('dd', {},
      h('span', { class: checkpoint.signature_valid ? 'badge normal' : 'badge abnormal' },
        checkpoint.signature_valid ? t('signatureValid') : t('signatureInvalid')), ' ',
      h('code', { class: 'signature' }, checkpoint.signature ?? '')));
}

async function integrityView() {
  const box = alertBox();
  const outcome = h('div', { 'aria-live': 'polite' });
  const run = h('button', { type: 'button', class: 'primary' }, t('verify'));
  run.addEventListener('click', async () => {
    run.disabled = true;
    box.hidden = true;
    outcome.replaceChildren(h('p', { role: 'status' }, t('verifying')));
    try {
      const report = await api.get('/audit/verify');
      outcome.replaceChildren(h('p', { role: 'status' },
        h('span', { class: report.intact ? 'badge normal' : 'badge abnormal' }, report.intact ? t('intact') : t('notIntact'))),
      h('p', {}, h('code', { class: 'summary' }, report.summary)));
    } catch (error) {
      outcome.replaceChildren();
      failed(error, box);
    } finally {
      run.disabled = false;
    }
  });
  show(h('section', {},
    h('h1', {}, t('integrityTitle')),
    h('h2', {}, t('checkpointTitle')), await checkpointCard(),
    h('h2', {}, t('verifyTitle')), h('p', {}, t('verifyIntro')), box, run, outcome));
}

async function keysView() {
  const [keys, card] = await Promise.all([api.get('/security/keys'), checkpointCard()]);
  show(h('section', {},
    h('h1', {}, t('keysTitle')),
    h('p', {}, t('keysIntro')),
    h('p', {}, h('strong', {}, keys.place), ' · ', t('activeVersion')(keys.active_version)),
    h('p', { role: 'status' }, keys.rotation_under_way ? t('rotationPending')(keys.pending_rewraps) : t('rotationNone')),
    h('pre', { class: 'key-lines', tabindex: 0 }, keys.lines.join('\n')),
    h('h2', {}, t('checkpointTitle')), card));
}

