// The portal's only door to the server: the public auth and FHIR API, same-origin, with the
// session cookie and the CSRF header on state-changing requests.

// The CSRF token lives for the tab (sessionStorage), so a reload keeps the session usable; it
// is not health data and opens nothing without the HttpOnly cookie.
const CSRF_KEY = 'medvault.csrf';

export function rememberSession(csrfToken) {
  sessionStorage.setItem(CSRF_KEY, csrfToken);
}

export function forgetSession() {
  sessionStorage.removeItem(CSRF_KEY);
}

export function hasSession() {
  return sessionStorage.getItem(CSRF_KEY) !== null;
}

// The code system of the auth API's stable error codes (src/api/auth_errors.h).
const AUTH_ERRORS = 'urn:medvault:auth-error';

// A refusal from the server: `status`, the OperationOutcome's `code`, its sentence, and for
// the auth API the stable `reason` (login_failed, password_too_weak...) that i18n.js words.
export class ApiError extends Error {
  constructor(status, code, diagnostics, retryAfter, issues = [], reason = '') {
    super(diagnostics || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.diagnostics = diagnostics;
    this.retryAfter = retryAfter;
    this.issues = issues;  // [{diagnostics, expression: [FHIRPath]}], one per element at fault
    this.reason = reason;
  }
}

async function request(method, path, body, accept = 'application/json') {
  const headers = { Accept: accept };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') {
    const csrf = sessionStorage.getItem(CSRF_KEY);
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }
  let response;
  try {
    response = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', '');
  }
  if (response.status === 204) return null;
  const text = await response.text();
  if (response.ok && accept !== 'application/json') return text;
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!response.ok) {
    // Every issue's sentence: an invalid resource has one per element at fault.
    const issues = (json?.issue ?? []).filter((i) => i.diagnostics)
      .map((i) => ({ diagnostics: i.diagnostics, expression: i.expression ?? [] }));
    const reason = json?.issue?.[0]?.details?.coding?.find((c) => c.system === AUTH_ERRORS)?.code ?? '';
    throw new ApiError(response.status, json?.issue?.[0]?.code ?? '',
      issues.map((i) => i.diagnostics).join(' '), response.headers.get('Retry-After'), issues, reason);
  }
  return json;
}

export const get = (path) => request('GET', path);
// A Binary's bytes as text (a note whose text the server keeps as a Binary).
export const getText = (path) => request('GET', path, undefined, 'text/plain');
export const post = (path, body) => request('POST', path, body ?? {});
export const put = (path, body) => request('PUT', path, body);
export const del = (path) => request('DELETE', path);

// FHIR links are absolute URLs on the server's configured base; the portal follows them on
// its own origin, so the cookie goes with them.
export function sameOrigin(url) {
  const parsed = new URL(url, location.href);
  return parsed.pathname + parsed.search;
}

// Every resource of a search, following `next` links (at most `maxPages` pages).
export async function searchAll(path, maxPages = 20) {
  const resources = [];
  let next = path;
  for (let page = 0; next && page < maxPages; ++page) {
    const bundle = await get(next);
    for (const entry of bundle.entry ?? []) {
      if (entry.search?.mode !== 'outcome') resources.push(entry.resource);
    }
    const link = (bundle.link ?? []).find((l) => l.relation === 'next');
    next = link ? sameOrigin(link.url) : null;
  }
  return resources;
}
