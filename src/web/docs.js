// docs.js — the API reference page (/docs): fetches /openapi.json (same origin) and renders it,
// grouped by tag: each operation a <details> with its method, path and summary; opened, its
// description, parameters, request body and answers, schemas written out from the document's
// components. Text goes in with textContent only (never innerHTML); no other origin.

const METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options', 'trace'];

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

// Description text: `code` spans and **bold** as elements (textContent only), the rest as text.
function rich(text) {
  const frag = document.createDocumentFragment();
  String(text || '').split(/(`[^`]*`|\*\*[^*]+\*\*)/).forEach((part) => {
    if (part.startsWith('`') && part.endsWith('`') && part.length > 1) frag.append(el('code', { text: part.slice(1, -1) }));
    else if (part.startsWith('**') && part.endsWith('**') && part.length > 3) frag.append(el('strong', { text: part.slice(2, -2) }));
    else if (part) frag.append(document.createTextNode(part));
  });
  return frag;
}

function resolve(doc, obj) {
  let o = obj;
  for (let n = 0; o && o.$ref && n < 16; n++) {
    const parts = o.$ref.replace(/^#\//, '').split('/');
    o = parts.reduce((x, p) => (x ? x[p] : undefined), doc);
  }
  return o || {};
}

function refName(obj) {
  return obj && obj.$ref ? obj.$ref.split('/').pop() : null;
}

// A compact, readable type expression: `Message[]`, `string (1..255)`, `{ id: integer, ... }`.
function typeText(doc, schema, depth = 0, seen = new Set()) {
  if (!schema) return 'any';
  const name = refName(schema);
  if (name) {
    if (depth > 0 || seen.has(name)) return name;
    seen.add(name);
    return typeText(doc, resolve(doc, schema), depth, seen);
  }
  if (schema.allOf) return schema.allOf.map((s) => typeText(doc, s, depth + 1, seen)).join(' & ');
  if (schema.oneOf || schema.anyOf) return (schema.oneOf || schema.anyOf).map((s) => typeText(doc, s, depth + 1, seen)).join(' | ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const types = [].concat(schema.type || []);
  if (types.includes('array') || schema.items) {
    const inner = typeText(doc, schema.items, depth + 1, seen);
    return `${/[ |&]/.test(inner) ? `(${inner})` : inner}[]${types.includes('null') ? ' | null' : ''}`;
  }
  if (types.includes('object') || schema.properties) {
    if (depth > 1) return 'object';
    const req = new Set(schema.required || []);
    const pad = '  '.repeat(depth + 1);
    const lines = Object.entries(schema.properties || {}).map(([k, v]) =>
      `${pad}${k}${req.has(k) ? '' : '?'}: ${typeText(doc, v, depth + 1, seen)}`);
    return lines.length ? `{\n${lines.join(',\n')}\n${'  '.repeat(depth)}}` : 'object';
  }
  let t = types.length ? types.join(' | ') : 'any';
  if (schema.enum) t = schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  const lim = [];
  if (schema.minLength !== undefined || schema.maxLength !== undefined) lim.push(`${schema.minLength ?? 0}..${schema.maxLength ?? ''} chars`);
  if (schema.minimum !== undefined || schema.maximum !== undefined) lim.push(`${schema.minimum ?? ''}..${schema.maximum ?? ''}`);
  if (schema.format) lim.push(schema.format);
  return lim.length ? `${t} (${lim.join(', ')})` : t;
}

// A schema: its name (`Message`, `ChatThreadSummaryOut[]`) and the named schema written out.
function schemaBlock(doc, schema, testid) {
  let target = schema;
  let suffix = '';
  if (!refName(schema) && [].concat(schema.type || []).includes('array') && refName(schema.items)) {
    target = schema.items;
    suffix = '[]';
  }
  const name = refName(target);
  const wrap = el('div', {});
  if (name) wrap.append(el('div', {}, el('code', { text: name + suffix })));
  wrap.append(el('pre', { class: 'apidocs-schema', 'data-testid': testid, text: typeText(doc, target) }));
  return wrap;
}

function paramsTable(doc, params) {
  const t = el('table', { 'data-testid': 'op-params' },
    el('thead', {}, el('tr', {}, el('th', { text: 'name' }), el('th', { text: 'in' }), el('th', { text: 'type' }), el('th', { text: 'description' }))));
  const tb = el('tbody');
  for (const p0 of params) {
    const p = resolve(doc, p0);
    tb.append(el('tr', { 'data-testid': 'op-param' },
      el('td', {}, el('code', { text: p.name + (p.required ? '' : '?') })),
      el('td', { text: p.in }),
      el('td', {}, el('code', { text: typeText(doc, p.schema, 1) })),
      el('td', {}, rich(p.description || (p.schema && resolve(doc, p.schema).description) || ''))));
  }
  t.append(tb);
  return t;
}

function responsesList(doc, responses) {
  const box = el('div', { 'data-testid': 'op-responses' });
  for (const [code, r0] of Object.entries(responses || {})) {
    const r = resolve(doc, r0);
    const row = el('div', { 'data-testid': 'op-response', 'data-status': code },
      el('p', { class: 'apidocs-desc' }, el('span', { class: 'apidocs-status', text: code }), ' ', rich(r.description)));
    const hdrs = Object.entries(r.headers || {});
    if (hdrs.length) {
      row.append(el('p', { class: 'apidocs-desc' }, 'Headers: ',
        ...hdrs.flatMap(([h, v], i) => [i ? ', ' : '', el('code', { text: h, title: resolve(doc, v).description || '' })])));
    }
    for (const [ctype, media] of Object.entries(r.content || {})) {
      row.append(el('div', {}, el('code', { text: ctype })));
      if (media.schema) row.append(schemaBlock(doc, media.schema, 'op-response-schema'));
    }
    box.append(row);
  }
  return box;
}

function operation(doc, method, path, op, pathItem) {
  const params = [...(pathItem.parameters || []), ...(op.parameters || [])];
  const isPublic = Array.isArray(op.security) && op.security.length === 0;
  const det = el('details', { class: 'apidocs-op', 'data-testid': 'op', 'data-method': method.toUpperCase(), 'data-path': path, id: op.operationId || undefined });
  const sum = el('summary', { 'data-testid': 'op-summary' },
    el('span', { class: `apidocs-method m-${method}`, text: method.toUpperCase() }),
    el('span', { class: 'apidocs-path', 'data-testid': 'op-path', text: path }),
    el('span', { class: 'apidocs-summary', text: op.summary || '' }),
    isPublic ? el('span', { class: 'apidocs-lock', text: 'no token' }) : el('span', { class: 'apidocs-lock', text: 'bearer token' }));
  det.append(sum);
  // The body is built when first opened (50+ operations stay cheap to list).
  det.addEventListener('toggle', () => {
    if (!det.open || det.dataset.built) return;
    det.dataset.built = '1';
    const body = el('div', { class: 'apidocs-body', 'data-testid': 'op-body' });
    if (op.description) body.append(el('p', { class: 'apidocs-desc' }, rich(op.description)));
    if (params.length) body.append(el('h3', { text: 'Parameters' }), paramsTable(doc, params));
    if (op.requestBody) {
      const rb = resolve(doc, op.requestBody);
      body.append(el('h3', { text: `Request body${rb.required ? '' : ' (optional)'}` }));
      if (rb.description) body.append(el('p', { class: 'apidocs-desc' }, rich(rb.description)));
      for (const [ctype, media] of Object.entries(rb.content || {})) {
        body.append(el('div', {}, el('code', { text: ctype })));
        if (media.schema) body.append(schemaBlock(doc, media.schema, 'op-body-schema'));
      }
    }
    body.append(el('h3', { text: 'Answers' }), responsesList(doc, op.responses));
    det.append(body);
  });
  return det;
}

function render(doc, root) {
  root.textContent = '';
  const info = doc.info || {};
  root.append(el('p', { class: 'apidocs-intro', 'data-testid': 'docs-intro' },
    `${info.title || ''} ${info.version ? `(version ${info.version}) ` : ''}· OpenAPI ${doc.openapi}\n\n`, rich(info.description)));
  const filter = el('input', { type: 'search', class: 'apidocs-filter', placeholder: 'Filter by path or summary', 'aria-label': 'Filter operations', 'data-testid': 'docs-filter' });
  root.append(filter);
  const groups = new Map((doc.tags || []).map((t) => [t.name, { tag: t, ops: [] }]));
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const m of METHODS) {
      if (!item[m]) continue;
      const tag = (item[m].tags && item[m].tags[0]) || 'Other';
      if (!groups.has(tag)) groups.set(tag, { tag: { name: tag }, ops: [] });
      groups.get(tag).ops.push(operation(doc, m, path, item[m], item));
    }
  }
  const sections = [];
  for (const { tag, ops } of groups.values()) {
    if (!ops.length) continue;
    const sec = el('section', { class: 'apidocs-tag', 'data-testid': 'docs-tag', 'data-tag': tag.name },
      el('h2', { text: tag.name }), tag.description ? el('p', {}, rich(tag.description)) : null, ...ops);
    sections.push(sec);
    root.append(sec);
  }
  filter.addEventListener('input', () => {
    const q = filter.value.trim().toLowerCase();
    for (const sec of sections) {
      let shown = 0;
      for (const op of sec.querySelectorAll('[data-testid=op]')) {
        const hit = !q || op.querySelector('summary').textContent.toLowerCase().includes(q);
        op.hidden = !hit;
        if (hit) shown++;
      }
      sec.hidden = shown === 0;
    }
  });
  root.setAttribute('aria-busy', 'false');
  if (location.hash) {
    const target = document.getElementById(location.hash.slice(1));
    if (target && target.tagName === 'DETAILS') { target.open = true; target.scrollIntoView(); }
  }
}

async function main() {
  const root = document.getElementById('docs');
  try {
    const res = await fetch('/openapi.json', { headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(`GET /openapi.json answered ${res.status}`);
    render(await res.json(), root);
  } catch (err) {
    root.textContent = '';
    root.append(el('p', { class: 'apidocs-error', role: 'alert', 'data-testid': 'docs-error', text: `Could not load the API description: ${err.message}` }));
    root.setAttribute('aria-busy', 'false');
  }
}

main();
