// validate.mjs — validates an OpenAPI document with @seriousme/openapi-schema-validator (pinned
// in package.json / package-lock.json): the schema of its OpenAPI version (3.1 here), then that
// every $ref resolves. Usage: node validate.mjs FILE (or - for standard input).
// Prints "valid OpenAPI <version>" and exits 0, or prints the errors and exits 1.
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';

const arg = process.argv[2];
if (!arg) {
  console.error('usage: node validate.mjs FILE|-');
  process.exit(2);
}
const text = readFileSync(arg === '-' ? 0 : arg, 'utf8');
let doc;
try {
  doc = JSON.parse(text);
} catch (err) {
  console.log(`not JSON: ${err.message}`);
  process.exit(1);
}
const validator = new Validator();
const res = await validator.validate(doc);
if (!res.valid) {
  console.log(`invalid OpenAPI ${validator.version ?? '(unknown version)'}:`);
  console.log(JSON.stringify(res.errors, null, 2));
  process.exit(1);
}
try {
  validator.resolveRefs();
} catch (err) {
  console.log(`a $ref does not resolve: ${err.message}`);
  process.exit(1);
}
console.log(`valid OpenAPI ${validator.version} (${doc.openapi})`);
