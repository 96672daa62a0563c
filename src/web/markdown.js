// A small, safe Markdown subset rendered straight into DOM nodes.
// Supported: paragraphs (single newlines kept as line breaks), fenced code
// blocks, inline code, **bold**, *italics* / _italics_, bullet and numbered
// lists, [links](https://...) and bare http(s) URLs. Text only ever becomes
// text nodes; links are created only for http:, https: and mailto: URLs.

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

function textWithBreaks(text) {
  const out = [];
  const parts = text.split('\n');
  parts.forEach((part, i) => {
    if (i > 0) out.push(document.createElement('br'));
    if (part) out.push(document.createTextNode(part));
  });
  return out;
}

// Alternatives, in priority order of their groups:
//  1,2 code span   3,4 [text](url)   5 bare URL   6 **bold**   7 __bold__
//  8 *italic*   9 _italic_
const INLINE = new RegExp([
  '(`+)([^`]|[^`][\\s\\S]*?[^`])\\1(?!`)',
  '\\[([^\\]\\n]+)\\]\\(\\s*<?([^)\\s>]+)>?\\s*\\)',
  '(https?:\\/\\/[^\\s<>"]*[^\\s<>"\'.,;:!?)\\]])',
  '\\*\\*(?=\\S)([\\s\\S]*?\\S)\\*\\*',
  '(?<![\\w_])__(?=\\S)([\\s\\S]*?\\S)__(?![\\w_])',
  '\\*(?=[^\\s*])([^*]*?[^\\s*])\\*',
  '(?<![\\w_])_(?=[^\\s_])([^_]*?[^\\s_])_(?![\\w_])',
].join('|'), 'g');

export function renderInline(text) {
  const out = [];
  let last = 0;
  const re = new RegExp(INLINE.source, 'g'); // own lastIndex: this function recurses
  let m;
  while ((m = re.exec(text)) !== null) {
    if (m.index > last) out.push(...textWithBreaks(text.slice(last, m.index)));
    last = m.index + m[0].length;
    if (m[1] !== undefined) {
      const code = document.createElement('code');
      code.textContent = m[2].length > 2 && m[2].startsWith(' ') && m[2].endsWith(' ') ? m[2].slice(1, -1) : m[2];
      out.push(code);
    } else if (m[3] !== undefined) {
      const href = safeHref(m[4]);
      if (href) out.push(link(href, renderInline(m[3])));
      else out.push(...textWithBreaks(m[0]));
    } else if (m[5] !== undefined) {
      const href = safeHref(m[5]);
      out.push(href ? link(href, [document.createTextNode(m[5])]) : document.createTextNode(m[5]));
    } else if (m[6] !== undefined || m[7] !== undefined) {
      const strong = document.createElement('strong');
      strong.append(...renderInline(m[6] ?? m[7]));
      out.push(strong);
    } else {
      const em = document.createElement('em');
      em.append(...renderInline(m[8] ?? m[9]));
      out.push(em);
    }
    // Guard against zero-length matches (should not happen with these patterns).
    if (m[0].length === 0) re.lastIndex += 1;
  }
  if (last < text.length) out.push(...textWithBreaks(text.slice(last)));
  return out;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w#+.-]*)[^`]*$/;
const BULLET = /^ {0,3}([-*+])\s+(.*)$/;
const ORDERED = /^ {0,3}(\d{1,9})[.)]\s+(.*)$/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;

function listItemOf(line) {
  let m = BULLET.exec(line);
  if (m) return { ordered: false, text: m[2] };
  m = ORDERED.exec(line);
  if (m) return { ordered: true, start: Number(m[1]), text: m[2] };
  return null;
}

/** Render Markdown text into a DocumentFragment. */
export function renderMarkdown(source) {
  const frag = document.createDocumentFragment();
  const lines = String(source ?? '').replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1];
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
      if (fence[2]) code.dataset.lang = fence[2];
      code.textContent = body.join('\n');
      pre.append(code);
      frag.append(pre);
      continue;
    }
    if (!line.trim()) { i += 1; continue; }
    const heading = HEADING.exec(line);
    if (heading) {
      const p = document.createElement('p');
      p.className = `md-heading md-h${heading[1].length}`;
      const strong = document.createElement('strong');
      strong.append(...renderInline(heading[2]));
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
        } else if (items.length && l.trim() && /^\s+/.test(l) && !FENCE.test(l)) {
          items[items.length - 1].push(l.trim());
          i += 1;
        } else {
          break;
        }
      }
      for (const itemLines of items) {
        const li = document.createElement('li');
        li.append(...renderInline(itemLines.join('\n')));
        list.append(li);
      }
      frag.append(list);
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() && !FENCE.test(lines[i]) && !listItemOf(lines[i]) && !HEADING.test(lines[i])) {
      para.push(lines[i]);
      i += 1;
    }
    const p = document.createElement('p');
    p.append(...renderInline(para.join('\n')));
    frag.append(p);
  }
  return frag;
}
