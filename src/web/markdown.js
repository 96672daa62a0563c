// A small, safe Markdown subset rendered straight into DOM nodes.
// Supported: paragraphs (single newlines kept as line breaks), fenced code
// blocks, inline code, **bold**, *italics* / _italics_, bullet and numbered
// lists, [links](https://...) and bare http(s) URLs. Text only ever becomes
// text nodes; links are created only for http:, https: and mailto: URLs.
// Linear time: it runs again on every streamed delta, so no rule may backtrack (the
// regular expressions it had took seconds on 100,000 characters of unclosed markup;
// tests/web/specs/04-safety-layout.mjs times pathological inputs).

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

export function safeHref(raw) {
  try {
    const url = new URL(raw);
    return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

function link(href, children) {
  const a = document.createElement('a');
  a.href = href;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  a.append(...children);
  return a;
}

function appendAll(el, nodes) {
  // el.append(...nodes) passes every node as an argument: too many for a long message
  for (const x of nodes) el.append(x);
}

function textWithBreaks(text) {
  const out = [];
  const parts = text.split('\n');
  parts.forEach((part, i) => {
    if (i > 0) out.push(document.createElement('br'));
    if (part) out.push(document.createTextNode(part));
  });
  return out;
}

// Inline syntax, in priority order at each position (what the first character allows):
//   `code`  [text](url)  bare http(s) URL  **bold**  __bold__  *italic*  _italic_
// The rules are those of the one regular expression this file used before, but that
// expression backtracked: an unclosed `**` or `[` was searched to the end of the text from
// every position, so 100,000 characters took seconds, on every streamed delta. Here each
// construct is decided in constant time from tables built once per call, right to left
// ("where is the next closing candidate after i"), so rendering is linear in the text.
//   code span: a run of N backticks (N counted from the position to the run's end) closes at
//     the next run of exactly N backticks; its content is at least one character and
//     neither starts nor ends with a backtick (a single space each side is trimmed when the
//     content is longer than 2 and has both).
//   link: `[` text without `]` or newline `](` spaces, optional `<`, a URL of characters
//     other than `)`, whitespace and `>`, optional `>`, spaces, `)`.
//   bare URL: http:// or https://, then characters other than whitespace, <, > and ",
//     not ending in ' . , ; : ! ? ) ].
//   **bold**: a non-space after the opener, closed by the first `**` that follows a
//     non-space; __bold__ likewise, with no word character before the opener or after the
//     closer. *italic* / _italic_: a non-space, non-marker after the opener, closed by the
//     next marker if a non-space precedes it (and for `_`, no word character around).

function isSpace(c) {
  // JavaScript's \s for one UTF-16 code unit (c is a char code, or NaN past the end)
  return (c >= 9 && c <= 13) || c === 32 || c === 0xa0 || c === 0x1680
    || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f
    || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

function isWord(c) {
  // \w: [A-Za-z0-9_]
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

const BACKTICK = 96, BRACKET_OPEN = 91, BRACKET_CLOSE = 93, PAREN_OPEN = 40, PAREN_CLOSE = 41;
const STAR = 42, UNDERSCORE = 95, LT = 60, GT = 62, QUOTE = 34, NL = 10;
// characters a bare URL may not end with: ' . , ; : ! ? ) ]
const URL_TAIL_PUNCT = new Set([39, 46, 44, 59, 58, 33, 63, 41, 93]);

// The tables of one call of renderInline on text t. Index n is a sentinel: "none".
function tables(t) {
  const n = t.length;
  const code = new Uint16Array(n + 2);
  for (let i = 0; i < n; i += 1) code[i] = t.charCodeAt(i);
  const cc = (i) => (i < n ? code[i] : NaN);
  const nextBrNl = new Int32Array(n + 1);   // first ']' or '\n' at >= i
  const wsEnd = new Int32Array(n + 1);      // first non-space at >= i
  const linkUrlEnd = new Int32Array(n + 1); // first ')', space or '>' at >= i
  const bareUrlEnd = new Int32Array(n + 1); // first space, '<', '>' or '"' at >= i
  const nextStar = new Int32Array(n + 1);
  const nextUnd = new Int32Array(n + 1);
  const boldClose = new Int32Array(n + 1);  // first q >= i: t[q-1] non-space, "**" at q
  const ubClose = new Int32Array(n + 1);    // the same for "__" not followed by \w
  const tickEnd = new Int32Array(n + 1);    // end of the backtick run at i (i if none)
  nextBrNl[n] = wsEnd[n] = linkUrlEnd[n] = bareUrlEnd[n] = n;
  nextStar[n] = nextUnd[n] = boldClose[n] = ubClose[n] = n;
  tickEnd[n] = n;
  for (let i = n - 1; i >= 0; i -= 1) {
    const c = code[i];
    const sp = isSpace(c);
    nextBrNl[i] = c === BRACKET_CLOSE || c === NL ? i : nextBrNl[i + 1];
    wsEnd[i] = sp ? wsEnd[i + 1] : i;
    linkUrlEnd[i] = c === PAREN_CLOSE || c === GT || sp ? i : linkUrlEnd[i + 1];
    bareUrlEnd[i] = sp || c === LT || c === GT || c === QUOTE ? i : bareUrlEnd[i + 1];
    nextStar[i] = c === STAR ? i : nextStar[i + 1];
    nextUnd[i] = c === UNDERSCORE ? i : nextUnd[i + 1];
    const afterSolid = i >= 1 && !isSpace(code[i - 1]);
    boldClose[i] = afterSolid && c === STAR && cc(i + 1) === STAR ? i : boldClose[i + 1];
    ubClose[i] = afterSolid && c === UNDERSCORE && cc(i + 1) === UNDERSCORE && !isWord(cc(i + 2))
      ? i : ubClose[i + 1];
    tickEnd[i] = c === BACKTICK ? tickEnd[i + 1] : i;
  }
  // maximal backtick runs by length, in order, each list with a cursor: queries come with
  // non-decreasing positions, so each cursor only moves forward
  const runs = new Map();
  for (let i = 0; i < n;) {
    if (code[i] !== BACKTICK) { i += 1; continue; }
    const e = tickEnd[i];
    const len = e - i;
    let list = runs.get(len);
    if (!list) { list = { starts: [], at: 0 }; runs.set(len, list); }
    list.starts.push(i);
    i = e;
  }
  return { n, code, cc, nextBrNl, wsEnd, linkUrlEnd, bareUrlEnd, nextStar, nextUnd, boldClose, ubClose, tickEnd, runs };
}

// Each try* returns null or [end, kind, ...groups].
function tryCode(T, t, p) {
  const e = T.tickEnd[p];
  const len = e - p;
  if (e >= T.n) return null;
  const list = T.runs.get(len);
  if (!list) return null;
  while (list.at < list.starts.length && list.starts[list.at] <= e) list.at += 1;
  if (list.at >= list.starts.length) return null;
  const q = list.starts[list.at];
  return [q + len, 'code', t.slice(e, q)];
}

function tryLink(T, t, p) {
  const { n, cc } = T;
  if (p + 1 >= n) return null;
  const j = T.nextBrNl[p + 1];
  if (j >= n || cc(j) !== BRACKET_CLOSE || j === p + 1 || cc(j + 1) !== PAREN_OPEN) return null;
  const k = T.wsEnd[Math.min(j + 2, n)];
  let u0 = k;
  let ue;
  if (cc(k) === LT) {
    u0 = k + 1;
    ue = T.linkUrlEnd[Math.min(u0, n)];
    if (ue === u0) { u0 = k; ue = k + 1; }   // "<" alone is the URL
  } else {
    ue = T.linkUrlEnd[k];
    if (ue === u0) return null;
  }
  let pos = ue;
  if (cc(pos) === GT) pos += 1;
  pos = T.wsEnd[Math.min(pos, n)];
  if (cc(pos) !== PAREN_CLOSE) return null;
  return [pos + 1, 'link', t.slice(p + 1, j), t.slice(u0, ue)];
}

function tryBareUrl(T, t, p) {
  let s0;
  if (t.startsWith('https://', p)) s0 = p + 8;
  else if (t.startsWith('http://', p)) s0 = p + 7;
  else return null;
  if (s0 >= T.n) return null;
  const e = T.bareUrlEnd[s0];
  let x = e - 1;
  while (x >= s0 && URL_TAIL_PUNCT.has(T.code[x])) x -= 1;
  if (x < s0) return null;
  return [x + 1, 'url', t.slice(p, x + 1)];
}

function tryStar(T, t, p) {
  const { n, cc } = T;
  if (cc(p + 1) === STAR) {
    if (p + 2 < n && !isSpace(cc(p + 2)) && p + 3 <= n) {
      const q = T.boldClose[p + 3];
      if (q < n) return [q + 2, 'strong', t.slice(p + 2, q)];
    }
    return null;   // *italic* needs a non-'*' after the opener
  }
  if (p + 1 >= n || isSpace(cc(p + 1))) return null;
  const q = T.nextStar[p + 1];
  if (q >= n || isSpace(cc(q - 1))) return null;
  return [q + 1, 'em', t.slice(p + 1, q)];
}

function tryUnderscore(T, t, p) {
  const { n, cc } = T;
  if (p > 0 && isWord(cc(p - 1))) return null;
  if (cc(p + 1) === UNDERSCORE) {
    if (p + 2 < n && !isSpace(cc(p + 2)) && p + 3 <= n) {
      const q = T.ubClose[p + 3];
      if (q < n) return [q + 2, 'strong', t.slice(p + 2, q)];
    }
    return null;
  }
  if (p + 1 >= n || isSpace(cc(p + 1))) return null;
  const q = T.nextUnd[p + 1];
  if (q >= n || isSpace(cc(q - 1)) || isWord(cc(q + 1))) return null;
  return [q + 1, 'em', t.slice(p + 1, q)];
}

function pushAll(out, nodes) {
  for (const x of nodes) out.push(x);
}

export function renderInline(text) {
  const out = [];
  const t = String(text);
  const T = tables(t);
  let last = 0;
  let p = 0;
  while (p < T.n) {
    let m = null;
    switch (T.code[p]) {
      case BACKTICK: m = tryCode(T, t, p); break;
      case BRACKET_OPEN: m = tryLink(T, t, p); break;
      case 104: m = tryBareUrl(T, t, p); break;   // 'h'
      case STAR: m = tryStar(T, t, p); break;
      case UNDERSCORE: m = tryUnderscore(T, t, p); break;
      default: break;
    }
    if (!m) { p += 1; continue; }
    if (p > last) pushAll(out, textWithBreaks(t.slice(last, p)));
    const end = m[0];
    if (m[1] === 'code') {
      const c = document.createElement('code');
      const s = m[2];
      c.textContent = s.length > 2 && s.startsWith(' ') && s.endsWith(' ') ? s.slice(1, -1) : s;
      out.push(c);
    } else if (m[1] === 'link') {
      const href = safeHref(m[3]);
      if (href) out.push(link(href, renderInline(m[2])));
      else pushAll(out, textWithBreaks(t.slice(p, end)));
    } else if (m[1] === 'url') {
      const href = safeHref(m[2]);
      out.push(href ? link(href, [document.createTextNode(m[2])]) : document.createTextNode(m[2]));
    } else {
      const el = document.createElement(m[1]);
      appendAll(el, renderInline(m[2]));
      out.push(el);
    }
    last = p = end;
  }
  if (last < T.n) pushAll(out, textWithBreaks(t.slice(last)));
  return out;
}

// Block rules, one line each, decided without backtracking (same rules as the regular
// expressions they replace, noted above each):
const LINE_END = /[\n\r\u2028\u2029]/;   // what `.` does not match

function leadingSpaces(line) {
  let i = 0;
  while (i < line.length && i < 4 && line.charCodeAt(i) === 32) i += 1;
  return i;
}

function spaceRunEnd(line, i) {
  while (i < line.length && isSpace(line.charCodeAt(i))) i += 1;
  return i;
}

// /^ {0,3}(`{3,}|~{3,})\s*([\w#+.-]*)[^`]*$/: returns { marker, lang } or null
function fenceOf(line) {
  const s = leadingSpaces(line);
  if (s > 3) return null;
  const ch = line[s];
  if (ch !== '`' && ch !== '~') return null;
  let e = s;
  while (e < line.length && line[e] === ch) e += 1;
  if (e - s < 3) return null;
  if (line.indexOf('`', e) !== -1) return null;
  let l = spaceRunEnd(line, e);
  const l0 = l;
  while (l < line.length && /[\w#+.-]/.test(line[l])) l += 1;
  return { marker: line.slice(s, e), lang: line.slice(l0, l) };
}

// /^ {0,3}([-*+])\s+(.*)$/ and /^ {0,3}(\d{1,9})[.)]\s+(.*)$/
function listItemOf(line) {
  const s = leadingSpaces(line);
  if (s > 3) return null;
  let i = s;
  let ordered = false;
  let start = 0;
  const c = line[i];
  if (c === '-' || c === '*' || c === '+') {
    i += 1;
  } else {
    while (i < line.length && i - s < 10 && line.charCodeAt(i) >= 48 && line.charCodeAt(i) <= 57) i += 1;
    if (i === s || i - s > 9 || (line[i] !== '.' && line[i] !== ')')) return null;
    ordered = true;
    start = Number(line.slice(s, i));
    i += 1;
  }
  const w = spaceRunEnd(line, i);
  if (w === i) return null;
  const text = line.slice(w);
  if (LINE_END.test(text)) return null;
  return ordered ? { ordered, start, text } : { ordered, text };
}

// /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/: returns { level, text } or null
function headingOf(line) {
  const s = leadingSpaces(line);
  if (s > 3) return null;
  let i = s;
  while (i < line.length && line[i] === '#') i += 1;
  const level = i - s;
  if (level < 1 || level > 6) return null;
  const w = spaceRunEnd(line, i);
  if (w === i) return null;
  // the text ends where a tail of spaces, then #s, then spaces begins
  let e = line.length;
  while (e > w && isSpace(line.charCodeAt(e - 1))) e -= 1;
  while (e > w && line[e - 1] === '#') e -= 1;
  while (e > w && isSpace(line.charCodeAt(e - 1))) e -= 1;
  const text = line.slice(w, e);
  if (LINE_END.test(text)) return null;
  return { level, text };
}

/** Render Markdown text into a DocumentFragment. */
export function renderMarkdown(source) {
  const frag = document.createDocumentFragment();
  const lines = String(source ?? '').replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = fenceOf(line);
    if (fence) {
      const marker = fence.marker;
      const body = [];
      i += 1;
      while (i < lines.length) {
        const close = lines[i].trim();
        if (close.startsWith(marker[0].repeat(marker.length)) && /^(`+|~+)$/.test(close)) { i += 1; break; }
        body.push(lines[i]);
        i += 1;
      }
      const pre = document.createElement('pre');
      const code = document.createElement('code');
      if (fence.lang) code.dataset.lang = fence.lang;
      code.textContent = body.join('\n');
      pre.append(code);
      frag.append(pre);
      continue;
    }
    if (!line.trim()) { i += 1; continue; }
    const heading = headingOf(line);
    if (heading) {
      const p = document.createElement('p');
      p.className = `md-heading md-h${heading.level}`;
      const strong = document.createElement('strong');
      appendAll(strong, renderInline(heading.text));
      p.append(strong);
      frag.append(p);
      i += 1;
      continue;
    }
    const first = listItemOf(line);
    if (first) {
      const list = document.createElement(first.ordered ? 'ol' : 'ul');
      if (first.ordered && first.start !== 1) list.start = first.start;
      const items = [];
      while (i < lines.length) {
        const l = lines[i];
        const item = listItemOf(l);
        if (item && item.ordered === first.ordered) {
          items.push([item.text]);
          i += 1;
        } else if (items.length && l.trim() && /^\s/.test(l) && !fenceOf(l)) {
          items[items.length - 1].push(l.trim());
          i += 1;
        } else {
          break;
        }
      }
      for (const itemLines of items) {
        const li = document.createElement('li');
        appendAll(li, renderInline(itemLines.join('\n')));
        list.append(li);
      }
      frag.append(list);
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() && !fenceOf(lines[i]) && !listItemOf(lines[i]) && !headingOf(lines[i])) {
      para.push(lines[i]);
      i += 1;
    }
    const p = document.createElement('p');
    appendAll(p, renderInline(para.join('\n')));
    frag.append(p);
  }
  return frag;
}
