// The API reference page (/docs, issue 15): served by the binary, it renders /openapi.json with
// the page's own script (no other origin, the app's CSP, no console errors), grouped by tag;
// every operation of the document is listed; opening one shows its parameters, body and answers.
import { test, assert, assertEqual } from '../harness.mjs';

test('docs: every operation listed by tag, one opened shows parameters and answers', async (t) => {
  const doc = await (await fetch(`${t.base}/openapi.json`)).json();
  const documented = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of ['get', 'put', 'post', 'patch', 'delete']) if (item[m]) documented.push(`${m.toUpperCase()} ${p}`);
  }

  const page = await t.newPage();
  const consoleErrors = [];
  const foreign = [];
  page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
  page.on('request', (r) => { if (!r.url().startsWith(t.base)) foreign.push(r.url()); });
  const res = await page.goto(`${t.base}/docs`);
  assertEqual(res.status(), 200, 'GET /docs');
  const appCsp = (await fetch(`${t.base}/`)).headers.get('content-security-policy');
  assertEqual(res.headers()['content-security-policy'], appCsp, 'the same CSP as the app');
  await page.waitForFunction(() => document.querySelector('[data-testid=docs]')?.getAttribute('aria-busy') === 'false');
  assertEqual(await page.getByTestId('docs-error').count(), 0, 'the document loaded');

  // every operation is listed once, as "METHOD path"
  const listed = await page.$$eval('[data-testid=op]', (ops) => ops.map((o) => `${o.dataset.method} ${o.dataset.path}`));
  assertEqual([...listed].sort(), [...documented].sort(), 'the page lists exactly the operations of the document');
  assert(listed.includes('POST /api/v1/chat-threads'), 'POST /api/v1/chat-threads is listed');
  const create = page.locator('[data-testid=op][data-method=POST][data-path="/api/v1/chat-threads"]');
  assertEqual(await create.locator('[data-testid=op-summary]').innerText().then((s) => /POST\s+\/api\/v1\/chat-threads\s+Create a thread/.test(s)), true, 'method, path and summary shown');

  // grouped by tag, in the document's order
  const tags = await page.$$eval('[data-testid=docs-tag]', (s) => s.map((e) => e.dataset.tag));
  const docTags = doc.tags.map((x) => x.name).filter((n) => tags.includes(n));
  assertEqual(tags, docTags, 'sections follow the document\'s tags');
  const inThreads = await page.$$eval('[data-tag=Threads] [data-testid=op]', (ops) => ops.map((o) => o.dataset.path));
  assert(inThreads.includes('/api/v1/chat-threads/{id}') && !inThreads.includes('/api/v1/search'), 'operations are under their tag');

  // closed until opened; opening the thread list shows its query parameters and answers
  const list = page.locator('[data-testid=op][data-method=GET][data-path="/api/v1/chat-threads"]');
  assertEqual(await list.locator('[data-testid=op-body]').count(), 0, 'the body is built when opened');
  await list.locator('summary').click();
  await list.locator('[data-testid=op-body]').waitFor();
  const params = await list.locator('[data-testid=op-param] td:first-child').allInnerTexts();
  for (const name of ['limit?', 'cursor?', 'archived?', 'pinned?', 'tag?', 'shared?']) assert(params.includes(name), `parameter ${name} shown (${params.join(', ')})`);
  const statuses = await list.locator('[data-testid=op-response]').evaluateAll((rs) => rs.map((r) => r.dataset.status));
  assert(statuses.includes('200') && statuses.includes('401') && statuses.includes('422'), `answers 200, 401, 422 (${statuses})`);
  const ok = list.locator('[data-testid=op-response][data-status="200"]');
  const okText = await ok.innerText();
  assert(/X-Next-Cursor/.test(okText) && /X-Total-Count/.test(okText), 'the paging headers are shown');
  assert(/ChatThreadSummaryOut\[\]/.test(okText) && /message_count: integer/.test(okText), `the answer's schema is written out (${okText.slice(0, 300)})`);

  // a request body: POST /api/v1/chat-threads/{id}/messages shows the Message schema
  const append = page.locator('[data-testid=op][data-method=POST][data-path="/api/v1/chat-threads/{id}/messages"]');
  await append.locator('summary').click();
  const body = await append.locator('[data-testid=op-body-schema]').innerText();
  assert(/role: "user" \| "assistant"/.test(body) && /content: string/.test(body), `the body schema (${body})`);
  const params2 = await append.locator('[data-testid=op-param] td:first-child').allInnerTexts();
  assertEqual(params2, ['id'], 'the path parameter');

  // the filter narrows the list
  await page.getByTestId('docs-filter').fill('/v1/chat/completions');
  const visible = await page.$$eval('[data-testid=op]', (ops) => ops.filter((o) => !o.hidden && !o.closest('section').hidden).map((o) => `${o.dataset.method} ${o.dataset.path}`));
  assertEqual(visible, ['POST /v1/chat/completions'], 'filtered to the OpenAI endpoint');

  // a link to an operation opens it
  const page2 = await t.newPage();
  page2.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
  await page2.goto(`${t.base}/docs#search`);
  await page2.waitForFunction(() => document.querySelector('[data-testid=docs]')?.getAttribute('aria-busy') === 'false');
  assertEqual(await page2.locator('#search').evaluate((d) => d.open), true, '#operationId opens that operation');

  assertEqual(consoleErrors, [], 'no console errors');
  assertEqual(foreign, [], 'nothing from another origin');
  assertEqual(t.problems, [], 'no CSP violation or page error');
});
