// api.js - the one door to the dashboard API (docs/dashboard-api.md).
// Adds the CSRF token to every state-changing request, turns the error
// envelope into an ApiError, and uploads files straight to a presigned URL
// with progress events.

const BASE = '/api/dashboard';
let csrfToken = '';

/** Remembers the session's CSRF token (from login, signup or me). */
export function setCsrf(token) {
  csrfToken = token || '';
}

/** An error answer of the API: code, HTTP status, message and extra fields. */
export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `Request failed (${status})`);
    this.status = status;
    this.code = err.code || 'internal_error';
    this.details = err;
  }
}

/**
 * Calls the dashboard API. method: 'GET', 'POST', 'DELETE'; path below
 * /api/dashboard; body: an object sent as JSON (optional); headers: extra
 * headers. Resolves to the parsed JSON (null for 204) or rejects with an
 * ApiError. A 401 on any call but login sends the browser to the sign-in page.
 */
export async function api(method, path, body, headers = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) h['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(BASE + path, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch (e) {
    throw new ApiError(0, { error: { code: 'network', message: 'The server could not be reached.' } });
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    data = null;
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    err.retryAfter = Number(res.headers.get('Retry-After')) || 0;
    if (res.status === 401 && !path.startsWith('/login') && !path.startsWith('/signup') &&
        location.pathname.startsWith('/app')) {
      location.assign(`/?next=${encodeURIComponent(location.pathname)}`);
    }
    throw err;
  }
  return data;
}

/**
 * PUTs file to a presigned URL with XMLHttpRequest (fetch has no upload
 * progress). onProgress(fraction 0..1) is called as bytes leave. Resolves
 * when the storage answered 2xx, rejects with an ApiError otherwise. Returns
 * { promise, abort }.
 */
export function putWithProgress(url, file, contentType, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open('PUT', url);
    xhr.setRequestHeader('Content-Type', contentType);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
      } else {
        let body = null;
        try {
          body = JSON.parse(xhr.responseText);
        } catch (e) { /* not JSON */ }
        reject(new ApiError(xhr.status, body));
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, { error: { code: 'network', message: 'The upload failed (network error).' } })));
    xhr.addEventListener('abort', () => reject(new ApiError(0, { error: { code: 'aborted', message: 'Upload cancelled.' } })));
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}
