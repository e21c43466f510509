// Talks to the server's API, with the API key from localStorage when the server asks for one.

const KEY = 'mm.apiKey';

export function apiKey() {
  return localStorage.getItem(KEY) ?? '';
}

export function setApiKey(key) {
  if (key) localStorage.setItem(KEY, key);
  else localStorage.removeItem(KEY);
}

/** An error from the API: `code` and `status` as the server sent them. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code ?? 'HTTP_ERROR';
    this.details = body?.error?.details ?? {};
  }
}

const listeners = new Set();
/** Called with every ApiError (the app shows a key prompt on 401). */
export function onApiError(fn) {
  listeners.add(fn);
}

export async function api(path, { method = 'GET', body } = {}) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const key = apiKey();
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    const error = new ApiError(res.status, data);
    for (const fn of listeners) fn(error);
    throw error;
  }
  return data;
}

/**
 * POSTs `body` and calls `onLine` with each line of an NDJSON answer as it arrives (a pull's
 * progress); a JSON error answer (before the stream starts) throws an ApiError like `api()`.
 */
export async function apiStream(path, body, onLine) {
  const headers = { accept: 'application/x-ndjson', 'content-type': 'application/json' };
  const key = apiKey();
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
  if (!res.ok) {
    const error = new ApiError(res.status, await res.json().catch(() => undefined));
    for (const fn of listeners) fn(error);
    throw error;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    const lines = buffered.split('\n');
    buffered = lines.pop();
    for (const line of lines) if (line.trim()) onLine(JSON.parse(line));
  }
  if (buffered.trim()) onLine(JSON.parse(buffered));
}

/** A model id in a URL path: the slash encoded, so any id works. */
export function modelPath(id, action = '') {
  return `api/models/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;
}
