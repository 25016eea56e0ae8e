// The clinician workspace: patient search (#/patients), a patient's chart (#/chart/<id>) with
// results and their trends, reports, prescriptions, conditions, allergies and notes, writing
// a note or a prescription, a report's values (#/result/<id>), and the break-the-glass dialog.
// Ids only in the URL; everything else comes from the FHIR API, which keeps the clinician to
// the patients in their care.
import * as api from './api.js';
import { h } from './dom.js';
import { t, addStrings, currentLanguage, formatDate, formatDateTime } from './i18n.js';
import { show, field, form, alertBox, failed, dialog, withStepUp } from './ui.js';
import { nameOf, codingOf, idOf, readReport, reportItem, reportMeta, valuesTable, pdfLink, drawTrends } from './results.js';
import { NIR_SYSTEM, compactNir, patientName, patientSummary, patientSearchForm } from './patients.js';
import { STAFF_STRINGS } from './staff_strings.js';

addStrings(STAFF_STRINGS);

const ATC_SYSTEM = 'http://www.whocc.no/atc';
const PROGRESS_NOTE = { coding: [{ system: 'http://loinc.org', code: '11506-3', display: 'Progress note' }] };

export function pages() {
  return {
    routes: { patients: searchView, chart: chartView, result: resultView },
    home: '#/patients',
    nav: [['#/patients', 'navPatients']],
  };
}

// ---- search ------------------------------------------------------------------------------

function searchView() {
  const results = h('div', { class: 'search-results', 'aria-live': 'polite' });
  show(h('section', {},
    h('h1', {}, t('patientsTitle')),
    patientSearchForm((patients, asked) => {
      if (!patients.length) {
        results.replaceChildren(h('div', { class: 'notice' },
          h('p', {}, h('strong', {}, t('noPatient'))),
          h('p', {}, t('noPatientHint')),
          h('button', { type: 'button', class: 'secondary danger', on: { click: () => breakGlassDialog(asked.nir) } }, t('breakGlassButton'))));
        return;
      }
      results.replaceChildren(h('h2', {}, t('patientsFound')(patients.length)),
        h('ul', { class: 'patients' }, patients.map((p) => h('li', {},
          h('a', { href: `#/chart/${encodeURIComponent(p.id)}` }, patientName(p)),
          h('p', { class: 'meta' }, patientSummary(p))))));
    }),
    results));
}

// ---- break the glass -----------------------------------------------------------------------

const REASONS = ['emergency', 'continuity_of_care', 'patient_request', 'other'];

// Emergency access to a patient outside the clinician's care: the NIR, a reason and a written
// justification; the server grants it for a few hours, alerts and has it reviewed.
export function breakGlassDialog(nir = '') {
  const reason = h('div', { class: 'field' },
    h('label', { for: 'bg-reason' }, t('bgReason')),
    h('select', { id: 'bg-reason', name: 'reason', required: true },
      h('option', { value: '' }, t('bgChoose')),
      REASONS.map((code) => h('option', { value: code }, t('bgReasons')[code]))));
  const text = h('div', { class: 'field' },
    h('label', { for: 'bg-text' }, t('bgText')),
    h('p', { class: 'hint', id: 'bg-text-hint' }, t('bgTextHint')),
    h('textarea', { id: 'bg-text', name: 'text', required: true, rows: 3, minlength: 10, 'aria-describedby': 'bg-text-hint' }));
  const element = dialog('break-glass', t('bgTitle'), [
    h('p', { class: 'warning' }, h('strong', {}, t('bgWarning'))),
    form([
      field('bg-nir', t('nirField'), { required: true, value: nir, autocomplete: 'off', inputmode: 'numeric', spellcheck: 'false' }),
      reason, text,
    ], t('bgSubmit'), async (values) => {
      const body = { resourceType: 'Parameters', parameter: [
        { name: 'identifier', valueString: `${NIR_SYSTEM}|${compactNir(values['bg-nir'])}` },
        { name: 'reason', valueCode: values.reason },
        { name: 'text', valueString: values.text.trim() },
      ] };
      const granted = await withStepUp(() => api.post('/fhir/Patient/$break-glass', body));
      const named = granted.parameter.find((p) => p.name === 'patient')?.valueReference?.reference ?? '';
      const patient = named.replace(/^Patient\//, '');
      element.close();
      location.hash = `#/chart/${encodeURIComponent(patient)}`;
    }),
    h('button', { type: 'button', class: 'link', on: { click: () => element.close() } }, t('cancel'))]);
}

// ---- the chart ---------------------------------------------------------------------------

// A note's text: inline (base64 data), or in the Binary the server moved it to; null for a
// document that is not a text note (a lab report's PDF).
async function noteText(document) {
  const attachment = document.content?.find((c) => c.attachment?.contentType?.startsWith('text/plain'))?.attachment;
  if (attachment?.data) return new TextDecoder().decode(Uint8Array.from(atob(attachment.data), (c) => c.charCodeAt(0)));
  if (attachment?.url?.startsWith('Binary/')) return api.getText(`/fhir/${attachment.url}`);
  return null;
}

const toBase64 = (text) => {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
};

const codeBadge = (concept) => {
  const coding = codingOf(concept);
  return coding.code ? h('span', { class: 'code' }, coding.code) : null;
};

function listSection(id, title, items, empty, listClass = 'entries') {
  return h('section', { class: 'chart-part', 'aria-labelledby': id },
    h('h2', { id }, title),
    items.length ? h('ul', { class: listClass }, items) : h('p', { class: 'empty' }, empty));
}

async function chartView(id) {
  const byPatient = (type, extra = '') => `/fhir/${type}?patient=${encodeURIComponent(id)}&_count=20${extra}`;
  const [patient, reports, prescriptions, conditions, allergies, documents] = await Promise.all([
    api.get(`/fhir/Patient/${encodeURIComponent(id)}`),
    api.get(byPatient('DiagnosticReport', '&_sort=-date&_include=DiagnosticReport:result')),
    api.searchAll(byPatient('MedicationRequest', '&_sort=-date'), 1),
    api.searchAll(byPatient('Condition'), 1),
    api.searchAll(byPatient('AllergyIntolerance'), 1),
    api.searchAll(byPatient('DocumentReference', '&_sort=-date'), 1),
  ]);
  const observations = new Map();
  const reportList = [];
  for (const entry of reports.entry ?? []) {
    if (entry.resource.resourceType === 'Observation') observations.set(entry.resource.id, entry.resource);
    else if (entry.search?.mode === 'match') reportList.push(entry.resource);
  }
  const texts = await Promise.all(documents.map(noteText));
  const notes = documents.map((d, i) => ({ document: d, text: texts[i] })).filter((n) => n.text !== null);
  const box = alertBox();
  const status = h('p', { role: 'status', class: 'status-line' });

  show(h('section', { class: 'chart' },
    h('p', {}, h('a', { href: '#/patients' }, '← ', t('backToSearch'))),
    h('h1', {}, patientName(patient)),
    h('p', { class: 'meta' }, patientSummary(patient), patient.gender ? ` · ${t('genders')[patient.gender] ?? patient.gender}` : ''),
    box, status,
    h('div', { class: 'chart-grid' },
      listSection('allergies', t('allergies'), allergies.map((a) => h('li', { class: a.criticality === 'high' ? 'entry high' : 'entry' },
        h('strong', {}, nameOf(a.code)), a.criticality === 'high' ? h('span', { class: 'badge abnormal' }, t('highRisk')) : null,
        (a.reaction ?? []).map((r) => h('p', {}, (r.manifestation ?? []).map(nameOf).join(', '))))), t('noAllergies')),
      listSection('conditions', t('conditions'), conditions.map((c) => h('li', { class: 'entry' },
        h('strong', {}, nameOf(c.code)), ' ', codeBadge(c.code),
        h('p', { class: 'meta' }, [t('clinical')[codingOf(c.clinicalStatus).code] ?? codingOf(c.clinicalStatus).code, c.onsetDateTime ? t('since')(formatDate(c.onsetDateTime)) : null].filter(Boolean).join(' · ')))), t('noConditions')),
      listSection('prescriptions', t('prescriptions'), prescriptions.map((m) => h('li', { class: 'entry prescription' },
        h('strong', {}, nameOf(m.medicationCodeableConcept)), ' ', codeBadge(m.medicationCodeableConcept),
        h('p', {}, (m.dosageInstruction ?? []).map((d) => d.text).filter(Boolean).join(' ; ')),
        h('p', { class: 'meta' }, [t('rxStatus')[m.status] ?? m.status, formatDate(m.authoredOn)].join(' · ')))), t('noPrescriptions')),
      listSection('reports', t('reports'), reportList.map((r) => reportItem(r, observations, `#/result/${encodeURIComponent(r.id)}`)), t('noReports'), 'reports')),
    h('div', { class: 'chart-grid' },
      noteForm(id, () => chartView(id).then(() => announce(t('noteSaved')))),
      prescriptionForm(id, () => chartView(id).then(() => announce(t('prescriptionSaved'))))),
    // The newest note open, the older ones one click away.
    listSection('notes', t('notes'), notes.map(({ document, text }, i) => h('li', { class: 'entry note' },
      h('details', { open: i === 0 },
        h('summary', {}, h('time', { datetime: document.date }, formatDateTime(document.date)), ' · ', nameOf(document.type) || t('note')),
        h('p', { class: 'note-text' }, text)))), t('noNotes'))));
  // User Timing mark for the figures: the chart is on screen and usable.
  performance.mark('medvault:chart');
}

function announce(text) {
  const line = document.querySelector('.status-line');
  if (line) line.textContent = text;
}

function noteForm(patientId, saved) {
  return h('section', { class: 'chart-part', 'aria-labelledby': 'write-note' },
    h('h2', { id: 'write-note' }, t('writeNote')),
    form([
      h('div', { class: 'field' },
        h('label', { for: 'note-text' }, t('noteText')),
        h('textarea', { id: 'note-text', name: 'text', rows: 6, required: true })),
    ], t('saveNote'), async (values) => {
      await api.post('/fhir/DocumentReference', {
        resourceType: 'DocumentReference', status: 'current', docStatus: 'final',
        type: { ...PROGRESS_NOTE, text: t('note') },
        subject: { reference: `Patient/${patientId}` },
        date: new Date().toISOString(),
        content: [{ attachment: { contentType: 'text/plain; charset=utf-8', language: currentLanguage() === 'fr' ? 'fr-FR' : 'en-GB', data: toBase64(values.text) } }],
      });
      await saved();
    }));
}

function prescriptionForm(patientId, saved) {
  return h('section', { class: 'chart-part', 'aria-labelledby': 'write-rx' },
    h('h2', { id: 'write-rx' }, t('prescribe')),
    form([
      field('rx-medication', t('rxMedication'), { required: true, autocomplete: 'off' }, t('rxMedicationHint')),
      field('rx-atc', t('rxAtc'), { required: true, autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false' }, t('rxAtcHint')),
      field('rx-dosage', t('rxDosage'), { required: true, autocomplete: 'off' }, t('rxDosageHint')),
      field('rx-per-day', t('rxPerDay'), { inputmode: 'numeric', autocomplete: 'off' }),
      field('rx-days', t('rxDays'), { inputmode: 'numeric', autocomplete: 'off' }),
    ], t('saveRx'), async (values) => {
      const repeat = {};
      if (values['rx-per-day'].trim()) Object.assign(repeat, { frequency: Number(values['rx-per-day']), period: 1, periodUnit: 'd' });
      if (values['rx-days'].trim()) repeat.boundsDuration = { value: Number(values['rx-days']), unit: t('days'), system: 'http://unitsofmeasure.org', code: 'd' };
      const dosage = { text: values['rx-dosage'].trim() };
      if (Object.keys(repeat).length) dosage.timing = { repeat };
      await api.post('/fhir/MedicationRequest', {
        resourceType: 'MedicationRequest', status: 'active', intent: 'order',
        medicationCodeableConcept: { coding: [{ system: ATC_SYSTEM, code: values['rx-atc'].trim().toUpperCase() }], text: values['rx-medication'].trim() },
        subject: { reference: `Patient/${patientId}` },
        authoredOn: new Date().toISOString(),
        dosageInstruction: [dosage],
      });
      await saved();
    }, [['timing.repeat.frequency', 'rx-per-day'], ['boundsDuration', 'rx-days'], ['dosageInstruction', 'rx-dosage'],
      ['medicationCodeableConcept.coding', 'rx-atc'], ['medicationCodeableConcept', 'rx-medication']]));
}

// ---- one report ----------------------------------------------------------------------------

async function resultView(id) {
  const report = await api.get(`/fhir/DiagnosticReport/${encodeURIComponent(id)}`);
  const patientId = idOf(report.subject);
  const { observations } = await readReport(patientId, id);
  const trends = h('div', { class: 'trends' });
  const box = alertBox();
  show(h('section', {},
    h('p', {}, h('a', { href: `#/chart/${encodeURIComponent(patientId)}` }, '← ', t('backToChart'))),
    h('h1', {}, nameOf(report.code)),
    box,
    reportMeta(report),
    valuesTable(report, observations),
    pdfLink(report),
    trends));
  await drawTrends(patientId, observations, trends).catch((error) => failed(error, box));
}
