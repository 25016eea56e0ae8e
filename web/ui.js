// The page's shell and the pieces every view is built from (forms, fields, alerts, the step-up
// dialog), shared by the patient portal, the clinician workspace and the lab pages.
import * as api from './api.js';
import { h } from './dom.js';
import { t, currentLanguage, setLanguage } from './i18n.js';

// `me`: GET /auth/me once logged in; `nav`: the links of the account's role; `notice`: a
// sentence for the next login page (why the session ended); `route`: shows the current hash.
export const session = { me: null, nav: [], notice: null, route: () => {} };
export const main = () => document.getElementById('main');

function renderShell() {
  document.documentElement.lang = currentLanguage();
  document.title = t('app');
  const nav = session.me
    ? h('nav', { 'aria-label': t('app') },
      h('ul', {},
        session.nav.map(([href, label]) => h('li', {}, h('a', { href }, t(label)))),
        h('li', {}, h('button', { type: 'button', class: 'link', on: { click: logout } }, t('logout')))))
    : null;
  const other = currentLanguage() === 'fr' ? 'en' : 'fr';
  const header = h('header', { class: 'top' },
    h('a', { class: 'skip', href: '#main', on: { click: (e) => { e.preventDefault(); main().focus(); } } }, t('skip')),
    h('div', { class: 'bar' },
      h('span', { class: 'brand' }, t('app')),
      h('button', { type: 'button', class: 'language', lang: other, 'aria-label': t('switchLanguageLabel'),
        on: { click: () => { setLanguage(other); session.route(); } } }, t('switchLanguage'))),
    nav);
  for (const link of header.querySelectorAll('nav a')) {
    if (location.hash.startsWith(link.getAttribute('href'))) link.setAttribute('aria-current', 'page');
  }
  document.querySelector('header.top')?.remove();
  document.body.prepend(header);
}

// Shows a view: the shell for the current language and session, then the view, focus on its
// heading so screen readers and keyboards start there.
export function show(view) {
  renderShell();
  main().replaceChildren(view);
  const heading = main().querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

export function errorText(error) {
  const errors = t('errors');
  if (!(error instanceof api.ApiError)) return t('errorPrefix');
  if (error.status === 0) return errors.network;
  if (error.status === 429) return errors[429](error.retryAfter);
  if ((error.status === 400 || error.status === 422) && error.diagnostics) return error.diagnostics;
  if (error.status in errors) return errors[error.status];
  return `${t('errorPrefix')} ${error.diagnostics}`.trim();
}

export function alertBox() {
  return h('p', { class: 'alert', role: 'alert', tabindex: -1, hidden: true });
}

export function showAlert(box, text) {
  box.textContent = text;
  box.hidden = false;
}

export function field(id, label, attributes = {}, hint) {
  const hintId = hint ? `${id}-hint` : undefined;
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('input', { id, name: id, 'aria-describedby': hintId, ...attributes }));
}

export const totpField = (id) => field(id, t('totpCode'), { inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6, required: true });

// A refusal that asks for a fresh second factor: the guard near a budget (401) or a
// sensitive action (403); both say to step up.
export const needsStepUp = (error) => error instanceof api.ApiError &&
  (error.status === 401 || error.status === 403) && /step[ -]?up/i.test(error.diagnostics ?? '');

// A form whose submit runs `action(values)`; errors land in its alert box, the button is
// disabled meanwhile so a double click sends nothing twice. `elements` maps the FHIR elements
// the server may refuse to the inputs they come from ([['timing.repeat.frequency', 'rx-per-day']]):
// such an issue is shown with the input's label and the input is marked invalid.
export function form(children, submitLabel, action, elements = []) {
  const box = alertBox();
  const button = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  const element = h('form', { novalidate: true }, box, children, button);
  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!element.reportValidity()) return;
    const values = Object.fromEntries(new FormData(element).entries());
    button.disabled = true;
    box.hidden = true;
    for (const input of element.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
    try {
      await withStepUp(() => action(values, (text) => showAlert(box, text)));
    } catch (error) {
      if (error === null) return;
      if (error instanceof api.ApiError && error.status === 401 && session.me && !needsStepUp(error)) return sessionEnded();
      showAlert(box, issuesText(error, element, elements) ?? errorText(error));
      box.focus();
    } finally {
      button.disabled = false;
    }
  });
  return element;
}

// The server's issues about the form's own inputs, each after the input's label; null when
// none of them is about an input of `elements`.
function issuesText(error, formElement, elements) {
  if (!(error instanceof api.ApiError) || ![400, 422].includes(error.status) || !error.issues?.length || !elements.length) return null;
  const lines = error.issues.map((issue) => {
    const match = elements.find(([path]) => issue.expression.some((e) => e.includes(path)));
    const input = match && formElement.querySelector(`#${match[1]}`);
    if (!input) return issue.diagnostics;
    input.setAttribute('aria-invalid', 'true');
    return `${formElement.querySelector(`label[for="${match[1]}"]`)?.textContent ?? ''}: ${issue.diagnostics}`;
  });
  return lines.join(' ');
}

export function sessionEnded() {
  session.me = null;
  api.forgetSession();
  session.notice = t('errors').sessionEnded;
  if (location.hash === '#/login') session.route(); else location.hash = '#/login';
}

// `error` null: the reader cancelled (the step-up dialog); nothing to say.
export function failed(error, box) {
  if (error === null) return;
  if (error instanceof api.ApiError && error.status === 401 && !needsStepUp(error)) return sessionEnded();
  showAlert(box, errorText(error));
}

export async function logout() {
  try { await api.post('/auth/logout'); } catch { /* the session is gone either way */ }
  session.me = null;
  api.forgetSession();
  location.hash = '#/login';
}

// A modal dialog titled `title`; Escape closes it and runs `onCancel`.
export function dialog(id, title, children, onCancel) {
  const element = h('dialog', { 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), children);
  element.addEventListener('cancel', () => { element.remove(); onCancel?.(); });
  element.addEventListener('close', () => element.remove());
  document.body.append(element);
  element.showModal();
  return element;
}

// Runs an action; when the server asks for a fresh second factor, asks for a TOTP code (or,
// for an account with a passkey, the passkey), steps up (a new session token and CSRF token),
// and runs it again.
export async function withStepUp(action) {
  try {
    return await action();
  } catch (error) {
    if (!needsStepUp(error)) throw error;
  }
  const factors = await api.get('/auth/factors').then((answer) => answer.factors.map((f) => f.kind), () => []);
  return new Promise((resolve, reject) => {
    const stepped = (answer) => {
      api.rememberSession(answer.csrf_token);
      stepUp.close();
      action().then(resolve, reject);
    };
    const box = alertBox();
    const passkey = factors.includes('passkey') && window.PublicKeyCredential
      ? h('button', { type: 'button', class: 'secondary', on: { click: async () => {
        box.hidden = true;
        try {
          const options = await api.post('/auth/step-up/passkey/options');
          const assertion = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
          stepped(await api.post('/auth/step-up/passkey', { credential: JSON.stringify(assertion.toJSON()) }));
        } catch (error) {
          showAlert(box, error instanceof api.ApiError ? errorText(error) : t('errorPrefix'));
        }
      } } }, t('usePasskey'))
      : null;
    const stepUp = dialog('step-up', t('stepUpTitle'), [
      h('p', {}, t('stepUpIntro')),
      box,
      passkey,
      factors.includes('totp') || !passkey
        ? form([totpField('step-up-code')], t('confirm'), async (values) => {
          stepped(await api.post('/auth/step-up/totp', { code: values['step-up-code'].trim() }));
        })
        : null], () => reject(null));
  });
}
