// The lab staff pages: the lab's worklist (#/worklist, the first view: its reports waiting for
// validation, oldest first, from GET /lab/worklist), a report found by accession number or by
// patient (#/incoming), a report's values and flags then its release (#/validate/<id>), and the
// HL7 quarantine (#/quarantine, #/message/<id>: read, fix, save with its version, replay).
import * as api from './api.js';
import { h } from './dom.js';
import { t, addStrings, formatDateTime } from './i18n.js';
import { show, form, field, alertBox, showAlert, failed } from './ui.js';
import { nameOf, idOf, readReport, reportItem, reportMeta, valuesTable, pdfLink, statusBadge } from './results.js';
import { patientName, patientSummary, patientSearchForm } from './patients.js';
import { STAFF_STRINGS } from './staff_strings.js';

addStrings(STAFF_STRINGS);

const PENDING = ['registered', 'partial', 'preliminary'];

export function pages() {
  return {
    routes: { worklist: worklistView, incoming: incomingView, validate: validateView, quarantine: quarantineView, message: messageView },
    home: '#/worklist',
    nav: [['#/worklist', 'navWorklist'], ['#/incoming', 'navIncoming'], ['#/quarantine', 'navQuarantine']],
  };
}

// ---- reports to validate -------------------------------------------------------------------

// One report of the worklist: what it is, whose, when received, flagged or not, and the way to
// its validation.
function worklistItem(entry) {
  const href = `#/validate/${encodeURIComponent(entry.id)}`;
  return h('li', { class: 'worklist-entry' },
    h('div', { class: 'entry-head' },
      h('span', { class: 'report-name' }, entry.test.name || entry.test.code),
      h('span', { class: 'patient-name' }, entry.patient_name)),
    h('p', { class: 'meta' },
      h('time', { datetime: entry.received_at }, t('receivedAt')(formatDateTime(entry.received_at)))),
    h('div', { class: 'badges' }, statusBadge(entry.status),
      entry.abnormal
        ? h('span', { class: 'badge abnormal' }, h('span', { 'aria-hidden': 'true' }, '▲ '), t('worklistAbnormal'))
        : h('span', { class: 'badge normal' }, t('allNormal'))),
    h('a', { class: 'button', href, 'aria-label': t('releaseReportLabel')(entry.test.name || entry.test.code, entry.patient_name) }, t('release')));
}

// A list read page by page from `path` (its `key` entries and `next_page` cursor), each entry
// shown by `item`, `empty` when there is none, and a "more" button while there are more.
async function pagedView({ title, intro, path, key, listClass, item, empty, moreText }) {
  const list = h('ul', { class: listClass });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, moreText);
  const box = alertBox();
  let page = null;
  const load = async () => {
    const answer = await api.get(`${path}${page ? `?page=${encodeURIComponent(page)}` : ''}`);
    for (const entry of answer[key]) list.append(item(entry));
    if (!list.children.length) list.append(h('li', { class: 'empty' }, empty));
    page = answer.next_page || null;
    more.hidden = !page;
  };
  more.addEventListener('click', () => load().catch((error) => failed(error, box)));
  show(h('section', {}, h('h1', {}, title), h('p', {}, intro), box, list, more));
  await load();
}

const worklistView = () => pagedView({
  title: t('worklistTitle'), intro: t('worklistIntro'), path: '/lab/worklist', key: 'reports',
  listClass: 'reports worklist', item: worklistItem, empty: t('nothingToValidate'), moreText: t('worklistMore'),
});

// The reports of a search bundle that wait for validation, with their results.
function pendingReports(bundle) {
  const observations = new Map();
  const reports = [];
  for (const entry of bundle.entry ?? []) {
    if (entry.resource.resourceType === 'Observation') observations.set(entry.resource.id, entry.resource);
    else if (entry.search?.mode === 'match' && PENDING.includes(entry.resource.status)) reports.push(entry.resource);
  }
  return reports.length
    ? h('ul', { class: 'reports' }, reports.map((r) => reportItem(r, observations, `#/validate/${encodeURIComponent(r.id)}`)))
    : h('p', { class: 'notice' }, t('nothingToValidate'));
}

function incomingView() {
  const results = h('div', { class: 'search-results', 'aria-live': 'polite' });
  show(h('section', {},
    h('h1', {}, t('incomingTitle')),
    h('p', {}, t('incomingIntro')),
    h('h2', {}, t('byAccession')),
    form([field('accession', t('accession'), { required: true, autocomplete: 'off', spellcheck: 'false' }, t('accessionHint'))],
      t('search'), async ({ accession }) => {
        const bundle = await api.get(`/fhir/DiagnosticReport?identifier=${encodeURIComponent(accession.trim())}&_include=DiagnosticReport:result`);
        results.replaceChildren(h('h2', {}, t('toValidate')), pendingReports(bundle));
      }),
    h('h2', {}, t('byPatient')),
    patientSearchForm((patients) => {
      results.replaceChildren(patients.length
        ? h('ul', { class: 'patients' }, patients.map((p) => h('li', {},
          h('button', { type: 'button', class: 'link', on: { click: () => patientReports(p, results) } }, patientName(p)),
          h('p', { class: 'meta' }, patientSummary(p)))))
        : h('p', { class: 'notice' }, t('noPatientLab')));
    }),
    results));
}

async function patientReports(patient, results) {
  const box = alertBox();
  try {
    const bundle = await api.get(`/fhir/DiagnosticReport?patient=${encodeURIComponent(patient.id)}&status=${PENDING.join(',')}&_sort=-date&_count=50&_include=DiagnosticReport:result`);
    results.replaceChildren(h('h2', {}, t('toValidateFor')(patientName(patient))), pendingReports(bundle));
  } catch (error) {
    results.replaceChildren(box);
    failed(error, box);
  }
}

async function validateView(id) {
  const report = await api.get(`/fhir/DiagnosticReport/${encodeURIComponent(id)}`);
  const patientId = idOf(report.subject);
  const [patient, { observations }] = await Promise.all([
    api.get(`/fhir/Patient/${encodeURIComponent(patientId)}`), readReport(patientId, id)]);
  const pending = PENDING.includes(report.status);
  const done = h('div', { role: 'status' });
  const release = form([h('p', {}, t('releaseIntro'))], t('release'), async () => {
    await api.post(`/fhir/DiagnosticReport/${encodeURIComponent(id)}/$release`);
    // Read back as stored: the PDF is then a Binary of its own.
    const final = await api.get(`/fhir/DiagnosticReport/${encodeURIComponent(id)}`);
    release.remove();
    document.querySelector('.meta.report-status')?.replaceWith(Object.assign(reportMeta(final), { className: 'meta report-status' }));
    done.replaceChildren(h('p', { class: 'notice' }, t('released')), pdfLink(final));
  });
  const meta = reportMeta(report);
  meta.classList.add('report-status');
  show(h('section', {},
    h('p', {}, h('a', { href: '#/worklist' }, '← ', t('backToIncoming'))),
    h('h1', {}, nameOf(report.code)),
    h('p', {}, h('strong', {}, patientName(patient)), ' · ', patientSummary(patient)),
    meta,
    valuesTable(report, observations),
    pending ? release : pdfLink(report),
    done));
}

// ---- the HL7 quarantine --------------------------------------------------------------------

const stateText = (state) => t('quarantineStates')[state] ?? state;

const quarantineItem = (m) => h('li', { class: `entry message state-${m.state}` },
  h('a', { href: `#/message/${encodeURIComponent(m.id)}` }, t('receivedAt')(formatDateTime(m.received_at))),
  h('p', {}, h('span', { class: m.state === 'held' ? 'badge abnormal' : 'badge normal' }, stateText(m.state)), ' ', m.error));

const quarantineView = () => pagedView({
  title: t('quarantineTitle'), intro: t('quarantineIntro'), path: '/lab/quarantine', key: 'messages',
  listClass: 'entries', item: quarantineItem, empty: t('quarantineEmpty'), moreText: t('more'),
});

// HL7 v2 separates segments with CR; a textarea shows and gives back LF.
const toLines = (text) => text.replace(/\r\n?/g, '\n');
const toSegments = (text) => text.replace(/\r?\n/g, '\r').replace(/\r+$/, '');

async function messageView(id) {
  let entry = await api.get(`/lab/quarantine/${encodeURIComponent(id)}`);
  const info = h('p', { class: 'meta' });
  const ack = h('div', { role: 'status' });
  const box = alertBox();
  const describe = () => info.replaceChildren(
    h('span', { class: entry.state === 'held' ? 'badge abnormal' : 'badge normal' }, stateText(entry.state)), ' ',
    t('version')(entry.version), ' · ', t('receivedAt')(formatDateTime(entry.received_at)),
    entry.error ? h('span', { class: 'message-error' }, ` · ${entry.error}`) : null);
  describe();
  const editor = form([
    h('div', { class: 'field' },
      h('label', { for: 'hl7' }, t('messageText')),
      h('p', { class: 'hint', id: 'hl7-hint' }, t('messageHint')),
      h('textarea', { id: 'hl7', name: 'message', rows: 10, required: true, spellcheck: 'false', class: 'hl7', 'aria-describedby': 'hl7-hint' }, toLines(entry.message))),
  ], t('saveMessage'), async ({ message }, alert) => {
    let saved;
    try {
      saved = await api.put(`/lab/quarantine/${encodeURIComponent(id)}`, { message: toSegments(message), version: entry.version });
    } catch (error) {
      if (error instanceof api.ApiError && error.status === 409) return alert(t('messageConflict'));
      throw error;
    }
    entry = { ...entry, ...saved };
    describe();
    ack.replaceChildren(h('p', { class: 'notice' }, t('messageSaved')(entry.version)));
  });
  const replay = h('button', { type: 'button', class: 'secondary', on: { click: async () => {
    replay.disabled = true;
    box.hidden = true;
    try {
      const answer = await api.post(`/lab/quarantine/${encodeURIComponent(id)}/$replay`);
      entry = { ...entry, state: answer.state };
      describe();
      ack.replaceChildren(
        h('p', { class: answer.ack_code === 'AA' ? 'notice' : 'alert' }, t('ackCodes')[answer.ack_code] ?? answer.ack_code),
        h('h2', {}, t('ackTitle')),
        h('pre', { class: 'hl7 ack', tabindex: 0 }, toLines(answer.ack)));
    } catch (error) {
      if (error instanceof api.ApiError && error.status === 409) showAlert(box, t('messageConflict'));
      else failed(error, box);
    } finally {
      replay.disabled = false;
    }
  } } }, t('replay'));
  editor.addEventListener('submit', () => { box.hidden = true; });
  show(h('section', {},
    h('p', {}, h('a', { href: '#/quarantine' }, '← ', t('backToQuarantine'))),
    h('h1', {}, t('messageTitle')),
    info, box, editor, replay, ack));
}
