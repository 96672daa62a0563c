// The Stats view: totals, messages per day as a bar chart (SVG drawn here, no library and
// no other origin), and the characters chatted with most. GET /api/v1/stats?days=N.
import { api } from './http.js';
import { h, replace } from './dom.js';
import { errorBanner } from './ui.js';

const SVG = 'http://www.w3.org/2000/svg';
const PERIODS = [7, 30, 90, 365];

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined) continue;
    if (k === 'testid') el.setAttribute('data-testid', v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const fmt = (n) => Number(n || 0).toLocaleString();

function dayLabel(date, opts = { month: 'short', day: 'numeric' }) {
  const t = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(t)) return String(date);
  return new Date(t).toLocaleDateString(undefined, { ...opts, timeZone: 'UTC' });
}

/** A step of 1, 2 or 5 × 10^k at or above max/4, so the axis reads in round numbers. */
function niceMax(max) {
  if (max <= 4) return Math.max(1, max);
  const raw = max / 4;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((v) => v >= raw);
  return Math.ceil(max / step) * step;
}

let charts = 0;

/** The bar chart of per_day ([{date, messages}], oldest first) as an SVG element. */
export function perDayChart(perDay, days) {
  charts += 1;
  const id = `chart-${charts}`;
  const W = 720;
  const H = 240;
  const left = 44;
  const right = 10;
  const top = 14;
  const bottom = 30;
  const n = perDay.length;
  const values = perDay.map((d) => Math.max(0, Number(d.messages) || 0));
  const total = values.reduce((a, b) => a + b, 0);
  const max = niceMax(Math.max(0, ...values));
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const slot = plotW / Math.max(1, n);
  const barW = Math.max(1, Math.min(28, slot * 0.72));
  let busiest = -1;
  values.forEach((v, i) => { if (v > 0 && (busiest < 0 || v >= values[busiest])) busiest = i; });
  const descText = n
    ? `${fmt(total)} messages from ${dayLabel(perDay[0].date)} to ${dayLabel(perDay[n - 1].date)}`
      + (busiest >= 0 ? `; the busiest day was ${dayLabel(perDay[busiest].date)} with ${fmt(values[busiest])}.` : '; none were sent.')
    : 'No data.';

  const grid = [];
  for (const f of [0, 0.5, 1]) {
    const v = Math.round(max * f);
    if (f === 0.5 && (v === 0 || v === max)) continue;
    const y = top + plotH - (v / max) * plotH;
    grid.push(s('line', { class: f === 0 ? 'axis' : 'gridline', x1: left, x2: W - right, y1: y, y2: y }));
    grid.push(s('text', { class: 'tick', x: left - 6, y: y + 4, 'text-anchor': 'end' }, fmt(v)));
  }
  const bars = perDay.map((d, i) => {
    const v = values[i];
    const bh = (v / max) * plotH;
    const x = left + slot * i + (slot - barW) / 2;
    return s('rect', {
      class: v ? 'bar' : 'bar bar-zero', testid: 'chart-bar', x: x.toFixed(2), y: (top + plotH - bh).toFixed(2),
      width: barW.toFixed(2), height: bh.toFixed(2), rx: Math.min(3, barW / 3).toFixed(2),
      'data-date': d.date, 'data-messages': v,
    }, s('title', {}, `${dayLabel(d.date, { weekday: 'short', month: 'short', day: 'numeric', year: 'numeric' })}: ${fmt(v)} ${v === 1 ? 'message' : 'messages'}`));
  });
  const labels = [];
  const marks = n <= 1 ? [0] : [0, Math.floor((n - 1) / 2), n - 1];
  for (const i of [...new Set(marks)]) {
    if (i < 0 || i >= n) continue;
    const x = left + slot * i + slot / 2;
    const anchor = n > 1 && i === 0 ? 'start' : (n > 1 && i === n - 1 ? 'end' : 'middle');
    labels.push(s('text', { class: 'tick', x: anchor === 'start' ? left : (anchor === 'end' ? W - right : x), y: H - 10, 'text-anchor': anchor }, dayLabel(perDay[i].date)));
  }
  return s('svg', {
    class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${id}-title ${id}-desc`,
    testid: 'stats-chart', 'data-days': n, preserveAspectRatio: 'xMidYMid meet',
  },
  s('title', { id: `${id}-title` }, `Messages per day, last ${days} days`),
  s('desc', { id: `${id}-desc` }, descText),
  s('g', { 'aria-hidden': 'true' }, grid, labels),
  s('g', { class: 'bars' }, bars));
}

export class StatsView {
  constructor(ctx) {
    this.ctx = ctx;
    this.days = 30;
    this.seq = 0;
    replace(this.ctx.sidebar);
    this.banner = errorBanner();
    this.select = h('select', { id: 'stats-days', testid: 'stats-days' },
      PERIODS.map((d) => h('option', { value: String(d), selected: d === this.days }, `Last ${d} days`)));
    this.select.addEventListener('change', () => { this.days = Number(this.select.value); this.load(); });
    this.body = h('div', { class: 'stats-body', testid: 'stats-body', 'aria-busy': 'true' },
      h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner' }), 'Loading your statistics…'));
    replace(this.ctx.main, h('div', { class: 'stats', testid: 'stats-view' },
      h('div', { class: 'stats-head' },
        h('h1', { class: 'section-title' }, 'Your history at a glance'),
        h('div', { class: 'stats-period' }, h('label', { for: 'stats-days' }, 'Period'), this.select)),
      this.banner.el,
      this.body));
    this.load();
  }

  destroy() {
    this.destroyed = true;
  }

  route() {}

  async load() {
    const seq = ++this.seq;
    this.banner.hide();
    this.body.setAttribute('aria-busy', 'true');
    try {
      const data = await api('GET', `/api/v1/stats?days=${this.days}`);
      if (seq !== this.seq || this.destroyed) return;
      this.render(data || {});
    } catch (err) {
      if (seq !== this.seq || this.destroyed) return;
      replace(this.body);
      this.banner.show(`Could not load your statistics: ${err.message}`);
    } finally {
      if (seq === this.seq) this.body.setAttribute('aria-busy', 'false');
    }
  }

  render(data) {
    const perDay = Array.isArray(data.per_day) ? data.per_day : [];
    const top = Array.isArray(data.top_characters) ? data.top_characters : [];
    const stat = (key, label, value) => h('div', { class: 'stat card' },
      h('dt', null, label), h('dd', { testid: `stat-${key}`, dataset: { value: String(value ?? 0) } }, fmt(value)));
    const inPeriod = perDay.reduce((a, d) => a + (Number(d.messages) || 0), 0);
    const table = h('details', { class: 'chart-table' },
      h('summary', null, 'Show the numbers as a table'),
      h('table', { testid: 'stats-table' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Day'), h('th', { scope: 'col' }, 'Messages'))),
        h('tbody', null, perDay.map((d) => h('tr', null, h('th', { scope: 'row' }, d.date), h('td', null, fmt(d.messages)))))));
    const maxMsgs = Math.max(1, ...top.map((c) => Number(c.messages) || 0));
    const topList = top.length
      ? h('ol', { class: 'top-list', testid: 'top-characters' }, top.map((c) => {
        const meter = h('span', { class: 'top-meter', 'aria-hidden': 'true' }, h('span', { class: 'top-meter-fill' }));
        meter.firstChild.style.width = `${Math.round(((Number(c.messages) || 0) / maxMsgs) * 100)}%`;
        return h('li', { class: 'top-item', testid: 'top-character' },
          h('span', { class: 'top-name', testid: 'top-character-name' }, c.character_name || 'Unnamed character'),
          h('span', { class: 'top-meta', testid: 'top-character-meta' },
            `${fmt(c.chats)} ${c.chats === 1 ? 'chat' : 'chats'} · ${fmt(c.messages)} ${c.messages === 1 ? 'message' : 'messages'}`),
          meter);
      }))
      : h('p', { class: 'muted', testid: 'top-characters-empty' }, 'No companion chats yet.');
    replace(this.body,
      h('dl', { class: 'stat-grid', testid: 'stats-totals' },
        stat('threads', 'Assistant threads', data.threads),
        stat('chats', 'Companion chats', data.chats),
        stat('messages', 'Messages', data.messages),
        stat('characters', 'Characters used', data.characters_used)),
      h('section', { class: 'card stats-card', 'aria-labelledby': 'stats-chart-h' },
        h('div', { class: 'stats-card-head' },
          h('h2', { id: 'stats-chart-h', class: 'section-title' }, 'Messages per day'),
          h('span', { class: 'muted', testid: 'stats-period-total' }, `${fmt(inPeriod)} in the last ${perDay.length || this.days} days`)),
        perDayChart(perDay, perDay.length || this.days),
        table),
      h('section', { class: 'card stats-card', 'aria-labelledby': 'stats-top-h' },
        h('h2', { id: 'stats-top-h', class: 'section-title' }, 'Top characters'),
        topList));
  }
}
