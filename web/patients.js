// Finding a patient, for clinicians and lab staff: the blind-indexed search parameters only
// (name prefix, birth date, NIR/INS identifier), the server keeping each caller to the
// patients they may open.
import * as api from './api.js';
import { h } from './dom.js';
import { t, formatDate } from './i18n.js';
import { field, form } from './ui.js';

// The French national health identifier (NIR, the INS number).
export const NIR_SYSTEM = 'urn:oid:1.2.250.1.213.1.4.8';

export function patientName(patient) {
  const name = patient.name?.find((n) => n.use === 'official') ?? patient.name?.[0] ?? {};
  return [...(name.given ?? []), name.family].filter(Boolean).join(' ');
}

export const nirOf = (patient) => patient.identifier?.find((i) => i.system === NIR_SYSTEM)?.value;

// A NIR as people write it (spaces and all), reduced to its 15 digits and letters.
export const compactNir = (text) => text.replace(/\s/g, '').toUpperCase();

export function patientSummary(patient) {
  const nir = nirOf(patient);
  return [t('born')(formatDate(patient.birthDate)), nir ? `${t('nir')} ${nir}` : null].filter(Boolean).join(' · ');
}

// The search form; `found(patients, values)` gets the matches and what was asked.
export function patientSearchForm(found) {
  return form([
    h('p', { class: 'hint' }, t('searchHint')),
    field('family', t('searchName'), { autocomplete: 'off', spellcheck: 'false' }),
    field('birthdate', t('birthDate'), { type: 'date' }),
    field('nir', t('nirField'), { autocomplete: 'off', inputmode: 'numeric', spellcheck: 'false' }),
  ], t('search'), async (values, alert) => {
    const query = new URLSearchParams();
    if (values.family.trim()) query.set('name', values.family.trim());
    if (values.birthdate) query.set('birthdate', values.birthdate);
    if (values.nir.trim()) query.set('identifier', `${NIR_SYSTEM}|${compactNir(values.nir)}`);
    if (![...query.keys()].length) return alert(t('searchEmpty'));
    query.set('_count', '50');
    found(await api.searchAll(`/fhir/Patient?${query}`, 2), values);
  });
}
