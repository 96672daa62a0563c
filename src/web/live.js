// Live updates between tabs and devices: GET /api/v1/events (text/event-stream) read with
// fetch() — EventSource cannot send the Authorization header — and its frames parsed here.
// One stream per tab. Each `change` frame's record ({kind, id, op, at}) is collected and
// handed on in batches (~120 ms), so a burst of changes makes one reload; the frame's id is
// the cursor sent back as Last-Event-ID when a dropped stream reconnects (1 s, doubling up
// to 15 s). `event: end` pauses the stream: the token was revoked or expired (the page's next
// request meets the 401 and signs the page out, its usual way), or the account opened more
// streams than the server keeps and this, the oldest, was closed — reconnecting at once would
// close another tab's, and so on round. A paused stream comes back (with its cursor) when the
// tab is shown or focused again, the one in use then being the live one. Only an end because
// the server is stopping reconnects as after a drop. A 401 stops. 410 (a cursor too old) and
// 400/422 (not a cursor) start over without a cursor after the lists are reloaded; 404 (a
// server without the route) stops.
import { getToken } from './http.js';

const BATCH_MS = 120;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 15_000;
const BUSY_RETRY_MS = 30_000; // 429: too many streams of this account open
const IDLE_MS = 45_000;       // the server pings every 15 s: silence this long is a dead link

/**
 * Incremental parser of a text/event-stream body: push() text as it arrives, in chunks
 * split anywhere; onFrame({event, data, id}) is called for each dispatched event; `retry:`
 * lines go to onRetry(ms). Comments (`: ping`) are skipped; several `data:` lines are joined
 * with "\n"; CRLF, CR and LF all end a line.
 */
export class SseParser {
  constructor(onFrame, onRetry) {
    this.onFrame = onFrame;
    this.onRetry = onRetry || (() => {});
    this.buf = '';
    this.reset();
  }

  reset() {
    this.event = '';
    this.data = [];
    this.id = null;
  }

  push(text) {
    this.buf += text;
    // A trailing \r may be the first half of \r\n: keep it until the next chunk.
    let end = this.buf.length;
    if (this.buf.endsWith('\r')) end -= 1;
    let start = 0;
    for (;;) {
      let i = start;
      while (i < end && this.buf[i] !== '\n' && this.buf[i] !== '\r') i += 1;
      if (i >= end) break;
      const line = this.buf.slice(start, i);
      start = i + (this.buf[i] === '\r' && this.buf[i + 1] === '\n' ? 2 : 1);
      this.line(line);
    }
    this.buf = this.buf.slice(start);
  }

  line(line) {
    if (line === '') {
      if (this.data.length || this.event) {
        this.onFrame({ event: this.event || 'message', data: this.data.join('\n'), id: this.id });
      }
      this.reset();
      return;
    }
    if (line.startsWith(':')) return;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.onRetry(Number(value));
  }
}

/**
 * The tab's one live stream. start({onChanges, onReset}) (again after a sign-in: the old
 * stream stops first); stop() on sign-out.
 *   onChanges(changes)  a batch of {kind, id, op, at}, oldest first, one per object
 *   onReset()           changes may have been missed: reload every list
 */
class LiveStream {
  constructor() {
    this.gen = 0;
    this.running = false;
    this.cursor = null;
    this.controller = null;
    this.retryTimer = null;
    this.batchTimer = null;
    this.idleTimer = null;
    this.pending = [];
    this.failures = 0;
    this.serverRetry = RETRY_MIN_MS;
    this.handlers = { onChanges: () => {}, onReset: () => {} };
    this.state = 'stopped';
    this.offline = false;
    // Offline: drop the stream rather than wait for it to time out; back online: reconnect
    // at once (with the cursor), not after the backoff.
    window.addEventListener('offline', () => {
      this.offline = true;
      if (!this.running || this.state === 'paused') return;
      this.gen += 1;
      clearTimeout(this.retryTimer);
      clearTimeout(this.idleTimer);
      if (this.controller) this.controller.abort();
      this.controller = null;
      this.state = 'waiting';
    });
    window.addEventListener('online', () => {
      this.offline = false;
      if (!this.running || this.state !== 'waiting') return;
      clearTimeout(this.retryTimer);
      this.failures = 0;
      this.connect();
    });
    const resume = () => {
      if (!this.running || this.state !== 'paused' || document.visibilityState === 'hidden') return;
      this.failures = 0;
      this.connect();
    };
    document.addEventListener('visibilitychange', resume);
    window.addEventListener('focus', resume);
  }

  /** stopped, connecting, open, waiting (to reconnect) or paused (until the tab is shown or
   *  focused); also on <html data-live> (tests wait for "open"). */
  get state() {
    return this.stateName;
  }

  set state(name) {
    this.stateName = name;
    document.documentElement.dataset.live = name;
  }

  start(handlers) {
    this.stop();
    this.handlers = { ...this.handlers, ...handlers };
    this.running = true;
    this.cursor = null;
    this.failures = 0;
    this.connect();
  }

  stop() {
    this.gen += 1;
    this.running = false;
    this.state = 'stopped';
    clearTimeout(this.retryTimer);
    clearTimeout(this.batchTimer);
    clearTimeout(this.idleTimer);
    this.retryTimer = null;
    this.batchTimer = null;
    this.pending = [];
    if (this.controller) this.controller.abort();
    this.controller = null;
  }

  /** Reconnect later: 1 s, 2 s, 4 s… up to 15 s (or what the server's `retry:` asked). */
  retry(delay) {
    if (!this.running) return;
    if (this.offline) { this.state = 'waiting'; return; } // the online event reconnects
    this.failures += 1;
    const backoff = Math.min(RETRY_MAX_MS, Math.max(this.serverRetry, RETRY_MIN_MS) * 2 ** Math.min(this.failures - 1, 4));
    const wait = delay ?? backoff;
    this.state = 'waiting';
    clearTimeout(this.retryTimer);
    const gen = this.gen;
    // a little jitter, so that many tabs of one server do not come back in step
    this.retryTimer = setTimeout(() => { if (gen === this.gen) this.connect(); }, wait + Math.floor(Math.random() * 250));
  }

  async connect() {
    if (!this.running) return;
    const token = getToken();
    if (!token) { this.stop(); return; }
    const gen = ++this.gen;
    const controller = new AbortController();
    this.controller = controller;
    this.state = 'connecting';
    const headers = { Accept: 'text/event-stream', Authorization: `Bearer ${token}` };
    if (this.cursor) headers['Last-Event-ID'] = this.cursor;
    let res;
    try {
      res = await fetch('/api/v1/events', { headers, cache: 'no-store', signal: controller.signal });
    } catch {
      if (gen === this.gen) this.retry();
      return;
    }
    if (gen !== this.gen) { controller.abort(); return; }
    if (res.status === 401) { this.stop(); return; } // the token is gone
    if ((res.status === 410 || res.status === 400 || res.status === 422) && headers['Last-Event-ID']) {
      // The cursor is too old (or not one of ours): start over from now, lists reloaded.
      this.cursor = null;
      this.failures = 0;
      this.reset();
      this.retry(0);
      return;
    }
    if (res.status === 404 || res.status === 405) { this.stop(); return; } // no live updates here
    if (res.status === 429) { this.retry(BUSY_RETRY_MS); return; }
    const type = res.headers.get('Content-Type') || '';
    if (!res.ok || !res.body || !type.includes('text/event-stream')) {
      res.body?.cancel().catch(() => {});
      this.retry();
      return;
    }
    await this.read(res, gen, controller, token);
  }

  async read(res, gen, controller, token) {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let ended = false;
    let code = '';
    const idle = () => {
      clearTimeout(this.idleTimer);
      this.idleTimer = setTimeout(() => { if (gen === this.gen) controller.abort(); }, IDLE_MS);
    };
    const parser = new SseParser((frame) => {
      if (gen !== this.gen || ended) return;
      if (frame.id) this.cursor = frame.id;
      let data = null;
      try { data = frame.data ? JSON.parse(frame.data) : null; } catch { data = null; }
      if (frame.event === 'ready') {
        if (data && typeof data.cursor === 'string' && data.cursor) this.cursor = data.cursor;
        this.failures = 0;
        this.state = 'open';
      } else if (frame.event === 'change') {
        if (data && typeof data === 'object' && typeof data.kind === 'string') this.queue(data);
      } else if (frame.event === 'end') {
        ended = true;
        code = data && typeof data.code === 'string' ? data.code : '';
      }
    }, (ms) => { this.serverRetry = Math.min(Math.max(ms, RETRY_MIN_MS), RETRY_MAX_MS); });
    idle();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || gen !== this.gen) break;
        idle();
        parser.push(value);
        if (ended) break;
      }
    } catch { /* dropped, or aborted by stop() or the idle timer */ }
    clearTimeout(this.idleTimer);
    reader.cancel().catch(() => {});
    if (gen !== this.gen) return;
    if (ended && getToken() !== token) { this.stop(); return; } // signed out meanwhile
    if (ended && code !== 'stopping') {
      this.state = 'paused';
      return;
    }
    this.retry();
  }

  queue(change) {
    this.pending.push(change);
    if (this.batchTimer) return;
    this.batchTimer = setTimeout(() => this.flush(), BATCH_MS);
  }

  flush() {
    this.batchTimer = null;
    const all = this.pending;
    this.pending = [];
    // One record per object, its latest (the server compacts its log; a live stream may
    // still send the same object twice in a burst).
    const byKey = new Map();
    for (const c of all) {
      const key = `${c.kind}:${c.id}`;
      byKey.delete(key);
      byKey.set(key, c);
    }
    if (!byKey.size) return;
    try {
      this.handlers.onChanges([...byKey.values()]);
    } catch (err) {
      console.error('live update failed', err);
    }
  }

  reset() {
    try {
      this.handlers.onReset();
    } catch (err) {
      console.error('live reset failed', err);
    }
  }
}

export const live = new LiveStream();
