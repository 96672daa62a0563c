// check_responses.mjs — checks real answers of the server against the OpenAPI document: reads
// the document (argv[2]) and, on standard input, JSON lines {method, path, status, type, body}
// (path: the document's template, e.g. /api/v1/chat-threads/{id}; type: the Content-Type;
// body: the parsed JSON body, or null when it is not JSON). Each answer's status must be
// documented for the operation (or by `default`), and a JSON body must match the documented
// schema (JSON Schema 2020-12, as OpenAPI 3.1 uses it; Ajv, pinned with the validator).
// Prints one line per problem and exits 1 on any; prints "N answers match" and exits 0.
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const doc = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ ...doc, $id: 'openapi' });

const esc = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');
const at = (ptr) => ptr.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')).reduce((o, k) => (o ? o[k] : undefined), doc);
// Follow $ref of non-schema objects (responses), returning the JSON pointer of the target.
function deref(ptr) {
  for (let n = 0; n < 16; n++) {
    const o = at(ptr);
    if (!o || !o.$ref) return ptr;
    ptr = o.$ref.replace(/^#/, '');
  }
  return ptr;
}
const validators = new Map();
function validatorFor(ptr) {
  if (!validators.has(ptr)) validators.set(ptr, ajv.compile({ $ref: `openapi#${ptr}` }));
  return validators.get(ptr);
}

const lines = readFileSync(0, 'utf8').split('\n').filter(Boolean);
let problems = 0;
for (const line of lines) {
  const a = JSON.parse(line);
  const what = `${a.method} ${a.path} → ${a.status}`;
  const opPtr = `/paths/${esc(a.path)}/${a.method.toLowerCase()}`;
  const op = at(opPtr);
  if (!op) { console.log(`${what}: no such operation in the document`); problems++; continue; }
  let code = String(a.status);
  if (!op.responses[code]) code = op.responses[`${code[0]}XX`] ? `${code[0]}XX` : 'default';
  if (!op.responses[code]) { console.log(`${what}: status not documented (${Object.keys(op.responses).join(', ')})`); problems++; continue; }
  const rPtr = deref(`${opPtr}/responses/${esc(code)}`);
  const content = at(rPtr).content || {};
  const type = (a.type || '').split(';')[0].trim();
  if (!Object.keys(content).length) {
    if (a.body !== null && a.body !== undefined && a.body !== '') { console.log(`${what}: a body where the document has none`); problems++; }
    continue;
  }
  if (!content[type]) { console.log(`${what}: content type ${type || '(none)'} not documented (${Object.keys(content).join(', ')})`); problems++; continue; }
  if (!type.endsWith('json') || !content[type].schema) continue;
  const v = validatorFor(`${rPtr}/content/${esc(type)}/schema`);
  if (!v(a.body)) {
    console.log(`${what}: body does not match: ${ajv.errorsText(v.errors, { separator: '; ' }).slice(0, 1500)}`);
    console.log(`  body: ${JSON.stringify(a.body).slice(0, 600)}`);
    problems++;
  }
}
if (problems) process.exit(1);
console.log(`${lines.length} answers match the document`);
