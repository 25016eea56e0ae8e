// How results read, for patients and staff alike: a report's values with their units, ranges
// and flags, and the trend of each test done several times (chart.js).
import * as api from './api.js';
import { h } from './dom.js';
import { t, formatDate, formatDateTime, formatNumber } from './i18n.js';
import { trendChart } from './chart.js';

export const codingOf = (concept) => concept?.coding?.[0] ?? {};
export const nameOf = (concept) => concept?.text ?? codingOf(concept).display ?? codingOf(concept).code ?? '';
export const flagOf = (observation) => codingOf(observation.interpretation?.[0]).code;
export const isAbnormal = (observation) => { const f = flagOf(observation); return f !== undefined && f !== 'N'; };
export const idOf = (reference) => reference?.reference?.split('/')[1];

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

export function statusBadge(status) {
  return h('span', { class: `badge status-${status}` }, t('status')[status] ?? status);
}

export function abnormalBadge(count) {
  return count
    ? h('span', { class: 'badge abnormal' }, h('span', { 'aria-hidden': 'true' }, '▲ '), t('abnormal')(count))
    : h('span', { class: 'badge normal' }, t('allNormal'));
}

// A report and its result Observations, read with one search within the patient's record.
export async function readReport(patientId, id) {
  const bundle = await api.get(`/fhir/DiagnosticReport?patient=${encodeURIComponent(patientId)}&_id=${encodeURIComponent(id)}&_include=DiagnosticReport:result`);
  const report = (bundle.entry ?? []).find((e) => e.resource.resourceType === 'DiagnosticReport')?.resource;
  if (!report) throw new api.ApiError(404, 'not-found', '');
  const byId = new Map((bundle.entry ?? []).filter((e) => e.resource.resourceType === 'Observation').map((e) => [e.resource.id, e.resource]));
  return { report, observations: (report.result ?? []).map((r) => byId.get(idOf(r))).filter(Boolean) };
}

// The list entry of a report: its name and date linking to `href`, its status and flags.
export function reportItem(report, observations, href) {
  const abnormal = (report.result ?? []).map((r) => observations.get(idOf(r))).filter((o) => o && isAbnormal(o)).length;
  return h('li', {},
    h('a', { href },
      h('span', { class: 'report-name' }, nameOf(report.code)),
      h('time', { class: 'report-date', datetime: report.effectiveDateTime ?? report.issued }, formatDate(report.effectiveDateTime ?? report.issued))),
    h('div', { class: 'badges' }, statusBadge(report.status), abnormalBadge(abnormal)));
}

export function reportMeta(report) {
  return h('p', { class: 'meta' }, statusBadge(report.status), ' ',
    `${t('collected')}: ${formatDateTime(report.effectiveDateTime)}`, ' · ', `${t('issued')}: ${formatDateTime(report.issued)}`);
}

// The values table: one row per test, abnormal ones marked by colour, arrow and word.
export function valuesTable(report, observations) {
  const rows = observations.map((o) => {
    const flag = flagOf(o);
    const abnormal = isAbnormal(o);
    return h('tr', { class: abnormal ? 'abnormal' : undefined },
      h('th', { scope: 'row' }, nameOf(o.code)),
      h('td', { class: 'value', 'data-label': t('value') }, valueText(o)),
      h('td', { 'data-label': t('range') }, rangeText(o)),
      h('td', { 'data-label': t('flag') }, abnormal ? h('span', { class: 'badge abnormal' }, h('span', { 'aria-hidden': 'true' }, flag?.startsWith('L') ? '▼ ' : '▲ '), t('flags')[flag] ?? flag) : ''));
  });
  return h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': nameOf(report.code) }, h('table', { class: 'values' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('test')), h('th', { scope: 'col' }, t('value')), h('th', { scope: 'col' }, t('range')), h('th', { scope: 'col' }, t('flag')))),
    h('tbody', {}, rows)));
}

export function pdfLink(report) {
  const pdf = (report.presentedForm ?? []).find((f) => f.contentType === 'application/pdf' && f.url?.startsWith('Binary/'));
  return pdf ? h('p', {}, h('a', { class: 'button', href: `/fhir/${pdf.url}`, download: `${report.id}.pdf`, type: 'application/pdf' }, t('downloadPdf'))) : null;
}

// Fills `into` with a trend chart for each test of `observations` the patient had several
// times: one search for the history of them all.
export async function drawTrends(patientId, observations, into) {
  const codes = observations.filter((o) => o.valueQuantity && codingOf(o.code).code).map((o) => `${codingOf(o.code).system}|${codingOf(o.code).code}`);
  if (!codes.length) return;
  const history = await api.searchAll(`/fhir/Observation?patient=${encodeURIComponent(patientId)}&code=${codes.map(encodeURIComponent).join(',')}&_sort=date&_count=100`);
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
  if (charts.length) into.append(h('h2', {}, t('trends')), ...charts);
}
