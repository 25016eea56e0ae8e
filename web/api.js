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

// A refusal from the server: `status`, the OperationOutcome's `code` and its sentence.
export class ApiError extends Error {
  constructor(status, code, diagnostics, retryAfter) {
    super(diagnostics || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.diagnostics = diagnostics;
    this.retryAfter = retryAfter;
  }
}

async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
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
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!response.ok) {
    const issue = json?.issue?.[0];
    throw new ApiError(response.status, issue?.code ?? '', issue?.diagnostics ?? '',
      response.headers.get('Retry-After'));
  }
  return json;
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body ?? {});
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
