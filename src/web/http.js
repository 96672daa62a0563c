// The HTTP client: bearer token from localStorage, FastAPI-style error
// details turned into readable messages, and a fetch()-based reader for the
// server's text/event-stream replies.

const TOKEN_KEY = 'access_token';

export class ApiError extends Error {
  constructor(status, message, detail) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail;
  }
}

export function getToken() {
  try { return localStorage.getItem(TOKEN_KEY); } catch { return null; }
}
export function setToken(token) {
  localStorage.setItem(TOKEN_KEY, token);
}
export function clearToken() {
  try { localStorage.removeItem(TOKEN_KEY); } catch { /* ignore */ }
}

let unauthorizedHandler = null;
/** Called (once per 401) when a request made with a token is rejected. */
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

const NETWORK_MESSAGE =
  'Cannot reach the chatvault server. Check that it is running and your connection, then try again.';

/** Turn a FastAPI detail (string or list of {loc,msg}) into one sentence. */
export function describeDetail(detail) {
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => {
      if (!d || typeof d !== 'object') return String(d);
      const loc = Array.isArray(d.loc) ? d.loc.filter((x) => x !== 'body').join('.') : '';
      return loc ? `${loc}: ${d.msg}` : String(d.msg ?? '');
    }).join('; ');
  }
  if (detail && typeof detail === 'object') return JSON.stringify(detail);
  return '';
}

async function errorFrom(res) {
  let detail;
  let body;
  let text = '';
  try {
    text = await res.text();
    body = JSON.parse(text);
    detail = body.detail;
  } catch { /* not JSON */ }
  let msg = describeDetail(detail);
  if (!msg) {
    msg = `The server answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}.`;
    if (res.status === 502 || res.status === 504) msg += ' The language model did not answer.';
  }
  const err = new ApiError(res.status, msg, detail);
  if (body && typeof body === 'object') err.body = body; // the whole reply (e.g. an import's counts)
  return err;
}

// A Blob (a File from a picker) is sent as it is, with its own type; anything else as JSON.
const isBlob = (body) => typeof Blob !== 'undefined' && body instanceof Blob;

function headersFor(body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined && !isBlob(body)) headers['Content-Type'] = 'application/json';
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

async function send(method, path, body, extraHeaders = {}) {
  const hadToken = Boolean(getToken());
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: { ...headersFor(body), ...extraHeaders },
      body: body === undefined || isBlob(body) ? body : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, NETWORK_MESSAGE);
  }
  if (res.status === 401 && hadToken && !path.startsWith('/api/v1/auth/login')) {
    const e = await errorFrom(res);
    if (unauthorizedHandler) unauthorizedHandler(e.message);
    throw e;
  }
  if (!res.ok) throw await errorFrom(res);
  return res;
}

async function jsonOf(res) {
  if (res.status === 204) return null;
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(res.status, 'The server sent a reply that is not valid JSON.');
  }
}

/** JSON request (a Blob body goes as raw bytes); resolves to the parsed body (null for 204). */
export async function api(method, path, body) {
  const res = await send(method, path, body);
  return jsonOf(res);
}

/** Like api() but also gives the response headers: {data, headers}. */
export async function apiWithHeaders(method, path, body) {
  const res = await send(method, path, body);
  return { data: await jsonOf(res), headers: res.headers };
}

/**
 * POST a streaming request and read the server-sent events with fetch().
 * `onDelta(text)` is called for every `data: {"delta": ...}` event; resolves
 * to the parsed data of `event: done`. `event: error` rejects with its detail.
 * If the server answers plain JSON instead of a stream, resolves to that JSON.
 */
export async function stream(path, body, onDelta) {
  const res = await send('POST', path, body, { Accept: 'text/event-stream' });
  const type = res.headers.get('Content-Type') || '';
  if (!type.includes('text/event-stream')) {
    const data = await jsonOf(res);
    if (data && typeof data.reply === 'string') onDelta(data.reply);
    return data;
  }
  if (!res.body) throw new ApiError(res.status, 'This browser cannot read streamed replies.');

  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let result;
  let finished = false;

  const handle = (block) => {
    let event = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? '' : line.slice(i + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (!data.length && event === 'message') return;
    const raw = data.join('\n');
    let parsed;
    try { parsed = raw ? JSON.parse(raw) : null; } catch { parsed = raw; }
    if (event === 'done') {
      result = parsed;
      finished = true;
    } else if (event === 'error') {
      const detail = parsed && typeof parsed === 'object' ? parsed.detail : parsed;
      throw new ApiError(502, describeDetail(detail) || 'The reply failed on the server.', detail);
    } else if (parsed && typeof parsed === 'object' && typeof parsed.delta === 'string') {
      onDelta(parsed.delta);
    }
  };

  try {
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch {
        throw new ApiError(0, 'The connection was lost while the reply was streaming. Reload to see what was saved.');
      }
      if (chunk.done) break;
      buf += chunk.value;
      // Normalise line endings, but keep a trailing \r until its \n arrives.
      const keep = buf.endsWith('\r') ? '\r' : '';
      buf = (keep ? buf.slice(0, -1) : buf).replace(/\r\n?/g, '\n');
      let at;
      while ((at = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, at);
        buf = buf.slice(at + 2);
        handle(block);
      }
      buf += keep;
      if (finished) break;
    }
    if (!finished && buf.trim()) handle(buf.replace(/\r\n?/g, '\n'));
  } finally {
    reader.cancel().catch(() => {});
  }
  if (!finished) {
    throw new ApiError(0, 'The reply stopped before it finished. Reload to see what was saved.');
  }
  return result;
}
