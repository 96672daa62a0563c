// Tiny DOM helpers. Everything user-supplied goes in as text nodes or
// attribute values — never as HTML.

/**
 * h('button', {class: 'btn', testid: 'send', onclick: fn}, 'Send')
 * - `class`, `testid` (→ data-testid), `dataset` (object), `on<event>` (function)
 * - boolean `true` sets an empty attribute, `false`/null/undefined skip it
 * - children: strings/numbers become text nodes; arrays are flattened; null skipped
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'class') el.className = value;
      else if (key === 'testid') el.dataset.testid = value;
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else if (key.startsWith('on') && typeof value === 'function') {
        el.addEventListener(key.slice(2), value);
      } else if (key === 'style' || key.startsWith('on')) {
        throw new Error(`refusing to set ${key} as an attribute`);
      } else if (key === 'value' && 'value' in el) el.value = value;
      else if (value === true) el.setAttribute(key, '');
      else el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  return append(el, children);
}

/** An inline SVG icon from a tiny built-in set (built with DOM, not strings). */
const ICONS = {
  plus: ['M12 5v14', 'M5 12h14'],
  pencil: ['M4 20h4L19 9l-4-4L4 16z', 'M13.5 6.5l4 4'],
  trash: ['M4 7h16', 'M10 11v6', 'M14 11v6', 'M6 7l1 13h10l1-13', 'M9 7V4h6v3'],
  upload: ['M12 16V4', 'M7 9l5-5 5 5', 'M5 20h14'],
  download: ['M12 4v12', 'M7 11l5 5 5-5', 'M5 20h14'],
  send: ['M4 12l16-8-6 16-2-7z'],
  menu: ['M4 6h16', 'M4 12h16', 'M4 18h16'],
  check: ['M5 12l4 4 10-10'],
  db: ['M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3z', 'M4 6v12c0 1.7 3.6 3 8 3s8-1.3 8-3V6', 'M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3'],
  x: ['M6 6l12 12', 'M18 6L6 18'],
  back: ['M15 5l-7 7 7 7'],
  bolt: ['M13 3L5 14h6l-1 7 8-11h-6z'],
  refresh: ['M20 12a8 8 0 1 1-2.3-5.7', 'M20 4v5h-5'],
  fork: ['M7 4v6a4 4 0 0 0 4 4h2a4 4 0 0 1 4 4v2', 'M17 4v4', 'M7 14v6'],
  search: ['M17 10.5a6.5 6.5 0 1 1-13 0a6.5 6.5 0 1 1 13 0z', 'M15.5 15.5L20 20'],
  pin: ['M12 16v5', 'M8 4h8l-1 6 3 3v3H6v-3l3-3z'],
  archive: ['M3 4h18v4H3z', 'M5 8v11h14V8', 'M10 12h4'],
  tag: ['M3 12V4h8l9 9-8 8z', 'M7.5 8h.01'],
  more: ['M5 12h.01', 'M12 12h.01', 'M19 12h.01'],
  chart: ['M4 20V11', 'M10 20V5', 'M16 20v-6', 'M3 20h18'],
};

export function icon(name, label) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('fill', 'none');
  svg.setAttribute('stroke', 'currentColor');
  svg.setAttribute('stroke-width', '2');
  svg.setAttribute('stroke-linecap', 'round');
  svg.setAttribute('stroke-linejoin', 'round');
  if (label) {
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label);
  } else {
    svg.setAttribute('aria-hidden', 'true');
  }
  for (const d of ICONS[name] || []) {
    const p = document.createElementNS(ns, 'path');
    p.setAttribute('d', d);
    svg.append(p);
  }
  return svg;
}

let uid = 0;
export function nextId(prefix = 'f') {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** Human friendly relative time for an ISO timestamp. */
export function timeAgo(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.round((Date.now() - t) / 1000);
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const hrs = Math.round(m / 60);
  if (hrs < 24) return `${hrs} h ago`;
  const d = Math.round(hrs / 24);
  if (d < 7) return `${d} d ago`;
  return new Date(t).toLocaleDateString();
}
