// The search box over both views: a combobox in the top bar whose results (a listbox)
// show each hit's title, kind and highlighted snippet. As-you-type (debounced) and Enter;
// ArrowUp/ArrowDown move through the results, Enter opens one, Escape closes them.
// Every piece of user text goes in as text nodes; the highlights become <mark> elements.
import { api } from './http.js';
import { h, icon, replace, clear, timeAgo } from './dom.js';

const LIMIT = 20;
const DEBOUNCE_MS = 250;
const MAX_QUERY = 200;

/**
 * Split `snippet` into [{text, hit}] parts. `highlights` are [start, length] pairs counted in
 * characters (Unicode code points), as the server sends them; JavaScript strings count UTF-16
 * units, so the offsets are mapped through the code points (an emoji is one character but two
 * units). Out-of-range, malformed and overlapping ranges are clamped or merged.
 */
export function highlightParts(snippet, highlights) {
  const text = String(snippet ?? '');
  const cps = Array.from(text);
  const units = new Array(cps.length + 1);
  units[0] = 0;
  for (let i = 0; i < cps.length; i += 1) units[i + 1] = units[i] + cps[i].length;
  const ranges = [];
  for (const r of Array.isArray(highlights) ? highlights : []) {
    if (!Array.isArray(r) || r.length < 2) continue;
    const start = Number(r[0]);
    const len = Number(r[1]);
    if (!Number.isInteger(start) || !Number.isInteger(len) || len <= 0 || start < 0 || start >= cps.length) continue;
    ranges.push([start, Math.min(cps.length, start + len)]);
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([...r]);
  }
  const parts = [];
  let at = 0;
  for (const [s, e] of merged) {
    if (s > at) parts.push({ text: text.slice(units[at], units[s]), hit: false });
    parts.push({ text: text.slice(units[s], units[e]), hit: true });
    at = e;
  }
  if (at < cps.length || !parts.length) parts.push({ text: text.slice(units[at]), hit: false });
  return parts.filter((p) => p.text.length);
}

/** The snippet as nodes: text, with <mark> around the highlights. */
export function snippetNodes(snippet, highlights) {
  return highlightParts(snippet, highlights).map((p) => (p.hit ? h('mark', { class: 'hit-mark' }, p.text) : p.text));
}

/** The distinct highlighted words of a hit, as they are spelled in the message. */
export function hitTerms(hit) {
  const seen = new Map();
  for (const p of highlightParts(hit && hit.snippet, hit && hit.highlights)) {
    const term = p.text.trim();
    if (p.hit && term && !seen.has(term.toLowerCase())) seen.set(term.toLowerCase(), term);
  }
  return [...seen.values()];
}

function roleLabel(hit) {
  if (hit.index < 0) return 'Title';
  if (hit.role === 'user') return 'You';
  if (hit.role === 'assistant') return hit.kind === 'chat' ? 'Companion' : 'Assistant';
  return hit.role ? String(hit.role) : 'Message';
}

let instances = 0;

export class SearchBox {
  /** onOpen(hit, terms) is called when a result is chosen. */
  constructor({ onOpen }) {
    instances += 1;
    const base = `search-${instances}`;
    this.onOpen = onOpen;
    this.items = [];
    this.total = 0;
    this.active = -1;
    this.query = '';
    this.seq = 0;
    this.timer = null;
    this.idBase = base;

    this.input = h('input', {
      type: 'search', id: `${base}-input`, class: 'search-input', testid: 'search-input',
      role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': `${base}-results`,
      'aria-describedby': `${base}-hint`, placeholder: 'Search all chats', maxlength: MAX_QUERY,
      autocomplete: 'off', spellcheck: 'false', enterkeyhint: 'search',
    });
    this.status = h('p', { class: 'search-status', role: 'status', 'aria-live': 'polite', testid: 'search-status' });
    this.list = h('ul', { class: 'search-results', id: `${base}-results`, role: 'listbox', 'aria-label': 'Search results', testid: 'search-results' });
    this.more = h('button', { type: 'button', class: 'btn btn-small btn-block', testid: 'search-more', hidden: true }, 'Show more results');
    this.panel = h('div', { class: 'search-panel card', testid: 'search-panel', hidden: true }, this.status, this.list, this.more);
    this.el = h('div', { class: 'search', role: 'search', testid: 'search' },
      h('label', { for: `${base}-input`, class: 'sr-only' }, 'Search your threads and companion chats'),
      h('span', { class: 'search-icon' }, icon('search')),
      this.input,
      h('kbd', { class: 'search-kbd', 'aria-hidden': 'true' }, '/'),
      h('span', { id: `${base}-hint`, class: 'sr-only' }, 'Press slash to come here. Arrow keys move through the results, Enter opens one, Escape closes them.'),
      this.panel);

    this.input.addEventListener('input', () => this.onInput());
    this.input.addEventListener('keydown', (e) => this.onKey(e));
    this.input.addEventListener('focus', () => { if (this.items.length && this.input.value.trim() === this.query) this.setOpen(true); });
    this.el.addEventListener('focusout', () => {
      setTimeout(() => { if (!this.el.contains(document.activeElement)) this.setOpen(false); }, 0);
    });
    // Choosing with the mouse must not take the focus from the input first.
    this.list.addEventListener('mousedown', (e) => e.preventDefault());
    this.more.addEventListener('click', () => this.run(this.query, { append: true }));
  }

  focus() {
    this.input.focus();
    this.input.select();
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  setOpen(open) {
    this.panel.hidden = !open;
    this.input.setAttribute('aria-expanded', String(open));
    if (!open) this.setActive(-1);
  }

  onInput() {
    clearTimeout(this.timer);
    const q = this.input.value.trim();
    if (!q) {
      this.seq += 1;
      this.inflight = false;
      this.query = '';
      this.items = [];
      clear(this.list);
      this.setOpen(false);
      return;
    }
    this.el.dataset.state = 'pending';
    this.timer = setTimeout(() => this.run(q), DEBOUNCE_MS);
  }

  onKey(e) {
    if (e.isComposing) return;
    const n = this.items.length;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (!n) return;
      e.preventDefault();
      if (!this.isOpen) {
        this.setOpen(true);
        this.setActive(e.key === 'ArrowDown' ? 0 : n - 1);
        return;
      }
      const step = e.key === 'ArrowDown' ? 1 : -1;
      const next = this.active < 0 ? (step > 0 ? 0 : n - 1) : (this.active + step + n) % n;
      this.setActive(next);
    } else if (e.key === 'Home' && this.isOpen && this.active >= 0 && n) {
      e.preventDefault();
      this.setActive(0);
    } else if (e.key === 'End' && this.isOpen && this.active >= 0 && n) {
      e.preventDefault();
      this.setActive(n - 1);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (this.isOpen && this.active >= 0) {
        this.choose(this.active);
        return;
      }
      const q = this.input.value.trim();
      clearTimeout(this.timer);
      if (!q) return;
      if (q === this.query && this.items.length && !this.inflight) this.setOpen(true);
      else this.run(q);
    } else if (e.key === 'Escape') {
      if (this.isOpen) {
        e.preventDefault();
        e.stopPropagation();
        this.setOpen(false);
      }
    }
  }

  setActive(i) {
    const options = this.list.querySelectorAll('[role=option]');
    this.active = i;
    options.forEach((o, k) => {
      const on = k === i;
      o.setAttribute('aria-selected', String(on));
      o.classList.toggle('is-active', on);
    });
    if (i >= 0 && options[i]) {
      this.input.setAttribute('aria-activedescendant', options[i].id);
      options[i].scrollIntoView({ block: 'nearest' });
    } else {
      this.input.removeAttribute('aria-activedescendant');
    }
  }

  async run(q, { append = false } = {}) {
    const seq = ++this.seq;
    const offset = append ? this.items.length : 0;
    this.inflight = true;
    if (!append) {
      this.query = q;
      this.el.dataset.state = 'loading';
    }
    this.setOpen(true);
    replace(this.status, h('span', { class: 'spinner' }), 'Searching…');
    this.more.disabled = true;
    try {
      const params = new URLSearchParams({ q, limit: String(LIMIT), offset: String(offset) });
      const data = await api('GET', `/api/v1/search?${params}`);
      if (seq !== this.seq) return;
      const items = data && Array.isArray(data.items) ? data.items : [];
      this.items = append ? this.items.concat(items) : items;
      this.total = data && Number.isFinite(data.total) ? data.total : this.items.length;
      this.render(append ? offset : 0);
      this.el.dataset.query = q;
      this.el.dataset.state = 'done';
    } catch (err) {
      if (seq !== this.seq) return;
      this.el.dataset.state = 'error';
      if (!append) {
        this.items = [];
        clear(this.list);
      }
      this.status.className = 'search-status is-error';
      replace(this.status, `Search failed: ${err.message}`);
    } finally {
      if (seq === this.seq) {
        this.inflight = false;
        this.more.disabled = false;
      }
    }
  }

  render(from) {
    const keepActive = from > 0 ? this.active : -1;
    if (from === 0) clear(this.list);
    for (let i = from; i < this.items.length; i += 1) this.list.append(this.option(this.items[i], i));
    const n = this.items.length;
    this.status.className = 'search-status';
    if (!n) replace(this.status, `No results for “${this.query}”.`);
    else if (this.total > n) replace(this.status, `Showing ${n} of ${this.total} results`);
    else replace(this.status, n === 1 ? '1 result' : `${n} results`);
    this.more.hidden = !(this.total > n);
    this.setActive(keepActive);
  }

  option(hit, i) {
    const isChat = hit.kind === 'chat';
    const opt = h('li', {
      role: 'option', id: `${this.idBase}-opt-${i}`, class: 'search-result', 'aria-selected': 'false', testid: 'search-result',
      dataset: { kind: isChat ? 'chat' : 'thread', id: String(isChat ? hit.chat_id : hit.thread_id), index: String(hit.index) },
    },
    h('span', { class: 'result-head' },
      h('span', { class: 'result-title', testid: 'search-result-title' }, hit.title || (isChat ? 'Companion chat' : 'New chat')),
      h('span', { class: `pill result-kind result-kind-${isChat ? 'chat' : 'thread'}`, testid: 'search-result-kind' }, isChat ? 'Companion' : 'Assistant')),
    hit.index >= 0 || hit.snippet
      ? h('span', { class: 'result-snippet', testid: 'search-result-snippet' }, snippetNodes(hit.snippet, hit.highlights))
      : null,
    h('span', { class: 'result-meta' }, [roleLabel(hit), hit.index >= 0 ? `message ${hit.index + 1}` : null, timeAgo(hit.updated_at)].filter(Boolean).join(' · ')));
    opt.addEventListener('click', () => this.choose(i));
    opt.addEventListener('mousemove', () => { if (this.active !== i) this.setActive(i); });
    return opt;
  }

  choose(i) {
    const hit = this.items[i];
    if (!hit) return;
    this.setOpen(false);
    this.onOpen(hit, hitTerms(hit));
  }
}
