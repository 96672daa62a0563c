// The Assistant view: threads, streaming replies, rename, delete, paging, import, errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  test, assert, assertEqual, newUser, openAs, signInWithForm, startServer, startFakeLlm, sleep,
} from '../harness.mjs';

const ASSISTANT = '[data-testid=message][data-role=assistant]';

async function waitReplyDone(page, count) {
  await page.waitForFunction((n) => {
    const all = document.querySelectorAll('[data-testid=message][data-role=assistant]');
    return all.length >= n && !document.querySelector('[data-testid=message][data-state=streaming]');
  }, count, { timeout: 30_000 });
}

async function sidebarTitles(page) {
  return page.getByTestId('thread-item-title').allTextContents();
}

test('assistant: Enter sends, the streamed reply is saved with its markers, reload and a second browser keep it', async (t) => {
  const user = await newUser(t.base, { prefix: 'assistant' });
  const page = await t.newPage();
  const completeBodies = [];
  page.on('request', (r) => {
    if (/\/api\/v1\/chat-threads\/\d+\/complete$/.test(r.url())) completeBodies.push(r.postDataJSON());
  });
  await openAs(page, t.base, user);
  await page.getByTestId('empty-thread').waitFor();
  assertEqual(await page.getByTestId('thread-title').textContent(), 'New chat', 'a blank thread to start');

  const composer = page.getByTestId('composer');
  await composer.click();
  await page.keyboard.type('Plan a **weekend** in Lisbon');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('with two museums');
  assertEqual(await composer.inputValue(), 'Plan a **weekend** in Lisbon\nwith two museums', 'Shift+Enter inserts a newline');
  await page.keyboard.press('Enter');
  await waitReplyDone(page, 1);

  assertEqual(completeBodies.length, 1, 'one POST .../complete');
  assertEqual(completeBodies[0], { content: 'Plan a **weekend** in Lisbon\nwith two museums', stream: true }, 'the complete request body');
  const mine = page.locator('[data-testid=message][data-role=user]').first();
  assertEqual(await mine.locator('strong').textContent(), 'weekend', 'the user message is rendered as Markdown');
  assert((await mine.textContent()).includes('with two museums'), 'both lines of the message are shown');
  const reply = page.locator(ASSISTANT).last();
  assert(Number(await reply.getAttribute('data-deltas')) >= 2, `the reply arrived in several deltas (got ${await reply.getAttribute('data-deltas')})`);
  assert(await reply.getByTestId('offline-label').isVisible(), 'the offline responder label is visible');
  assertEqual((await reply.getByTestId('offline-label').textContent()).trim(), 'offline responder', 'label text');
  assert(!(await reply.getByTestId('message-body').textContent()).includes('[offline responder]'), 'the raw marker is not shown as text');
  const marker = page.getByTestId('stored-marker');
  assert(await marker.isVisible(), 'the Stored in database marker is visible');
  assert((await marker.textContent()).includes('Stored in database'), 'marker text');
  assertEqual(await page.getByTestId('thread-title').textContent(), 'Plan a **weekend** in Lisbon', 'the title comes from the first message');
  assertEqual(await sidebarTitles(page), ['Plan a **weekend** in Lisbon'], 'the sidebar shows the new thread');

  // What the database holds.
  const list = await user.api.ok('GET', '/api/v1/chat-threads?limit=50&offset=0');
  assertEqual(list.length, 1, 'one thread stored');
  const stored = await user.api.ok('GET', `/api/v1/chat-threads/${list[0].id}`);
  assertEqual(stored.messages.map((m) => m.role), ['user', 'assistant'], 'stored roles');
  assert(stored.messages[1].content.startsWith('[offline responder]'), 'the stored reply is the offline responder\'s');
  assert(new URL(page.url()).hash === `#/assistant/${list[0].id}`, `the address names the thread (${page.url()})`);

  // A second message in the same thread.
  await composer.fill('And a third museum?');
  await page.getByTestId('send').click();
  await waitReplyDone(page, 2);
  await t.shot(page, 'assistant');

  // Reload: same thread, same messages.
  await page.reload();
  await page.getByTestId('sidebar').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=message]').length === 4);
  assertEqual(await page.getByTestId('thread-title').textContent(), 'Plan a **weekend** in Lisbon', 'title after reload');
  assert(await page.getByTestId('offline-label').first().isVisible(), 'the offline label survives a reload');

  // A second browser (its own storage) signs in and sees the same history.
  const other = await t.newPage();
  await other.goto(`${t.base}/`);
  await signInWithForm(other, user);
  await other.getByTestId('thread-item').first().click();
  await other.waitForFunction(() => document.querySelectorAll('[data-testid=message]').length === 4);
  const texts = await other.locator('[data-testid=message][data-role=user] [data-testid=message-body]').allTextContents();
  assertEqual(texts, ['Plan a weekend in Lisbonwith two museums', 'And a third museum?'], 'user messages in the second browser');
});

test('assistant: a streamed reply appears token by token and is saved; an upstream failure is shown', async (t) => {
  const chunks = ['Alpha ', 'beta ', 'gamma ', 'delta ', 'epsilon ', 'zeta ', 'eta ', 'theta.'];
  const llm = await startFakeLlm({ chunks, delayMs: 250 });
  t.onCleanup(() => llm.close());
  const server = await startServer({ args: ['--llm-url', llm.url, '--llm-model', 'fake-model', '--llm-timeout', '10'] });
  t.onCleanup(() => server.stop());
  const user = await newUser(server.url, { prefix: 'stream' });
  const page = await t.newPage();
  await openAs(page, server.url, user);

  await page.getByTestId('composer').fill('Count in Greek letters');
  await page.keyboard.press('Enter');
  // Part of the reply is on screen while the rest is still coming.
  await page.waitForFunction(() => {
    const m = [...document.querySelectorAll('[data-testid=message][data-role=assistant]')].pop();
    if (!m) return false;
    const text = m.querySelector('[data-testid=message-body]').textContent;
    return m.dataset.state === 'streaming' && text.includes('Alpha') && !text.includes('theta');
  }, null, { timeout: 15_000, polling: 20 });
  const partial = await page.locator(ASSISTANT).last().getByTestId('message-body').textContent();
  await waitReplyDone(page, 1);
  const reply = page.locator(ASSISTANT).last();
  assertEqual(await reply.getByTestId('message-body').textContent(), chunks.join('').trim(), 'the whole reply');
  assert(partial.length < chunks.join('').trim().length, `a partial reply was shown first (${JSON.stringify(partial)})`);
  assert(!(await reply.getByTestId('offline-label').isVisible()), 'no offline label for a model reply');
  assert(llm.requests.length >= 1 && llm.requests[0].body.stream === true, 'the upstream was asked to stream');

  const [summary] = await user.api.ok('GET', '/api/v1/chat-threads?limit=5&offset=0');
  const thread = await user.api.ok('GET', `/api/v1/chat-threads/${summary.id}`);
  assertEqual(thread.messages, [{ role: 'user', content: 'Count in Greek letters' }, { role: 'assistant', content: chunks.join('') }], 'the saved thread');

  // The upstream fails: a clear error, and the user's message is still stored.
  await page.getByTestId('composer').fill('please fail this time');
  await page.keyboard.press('Enter');
  await page.getByTestId('error-banner').waitFor();
  const banner = (await page.getByTestId('error-banner').textContent()).trim();
  assert(banner.length > 5, `the error banner explains the failure (${JSON.stringify(banner)})`);
  await page.reload();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=message][data-role=user]')].some((m) => m.textContent.includes('please fail this time')));
});

test('assistant: rename inline, delete the open thread with confirmation', async (t) => {
  const user = await newUser(t.base, { prefix: 'delete' });
  const older = await user.api.ok('POST', '/api/v1/chat-threads', { title: 'Older thread', messages: [{ role: 'user', content: 'first' }] });
  await sleep(5);
  const newer = await user.api.ok('POST', '/api/v1/chat-threads', { title: 'Newer thread', messages: [{ role: 'user', content: 'second' }] });
  const page = await t.newPage();
  await openAs(page, t.base, user, `#/assistant/${newer.id}`);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=message]').length === 1);
  assertEqual(await sidebarTitles(page), ['Newer thread', 'Older thread'], 'newest first');

  // Rename inline: Enter saves.
  await page.getByTestId('rename-thread').click();
  const input = page.getByTestId('rename-input');
  await input.fill('Renamed <b>thread</b>');
  await input.press('Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid=thread-title]')?.textContent === 'Renamed <b>thread</b>');
  assertEqual((await sidebarTitles(page))[0], 'Renamed <b>thread</b>', 'sidebar follows the rename');
  assertEqual((await user.api.ok('GET', `/api/v1/chat-threads/${newer.id}`)).title, 'Renamed <b>thread</b>', 'rename is stored');
  // Escape cancels.
  await page.getByTestId('rename-thread').click();
  await page.getByTestId('rename-input').fill('Not this');
  await page.getByTestId('rename-input').press('Escape');
  assertEqual(await page.getByTestId('thread-title').textContent(), 'Renamed <b>thread</b>', 'Escape keeps the title');

  // Delete asks first; Cancel keeps the thread.
  await page.getByTestId('delete-thread').click();
  await page.getByTestId('confirm-dialog').waitFor();
  await page.getByTestId('confirm-cancel').click();
  assertEqual((await user.api.req('GET', `/api/v1/chat-threads/${newer.id}`)).status, 200, 'cancel keeps the thread');

  await page.getByTestId('delete-thread').click();
  await page.getByTestId('confirm-ok').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=thread-title]')?.textContent === 'Older thread');
  assertEqual(await sidebarTitles(page), ['Older thread'], 'the deleted thread left the sidebar');
  assertEqual((await user.api.req('GET', `/api/v1/chat-threads/${newer.id}`)).status, 404, 'deleted in the database');
  assert(page.url().endsWith(`#/assistant/${older.id}`), 'switched to the remaining thread');
  await page.waitForFunction(() => document.querySelector('[data-testid=message]')?.textContent.includes('first'));

  // Deleting the last one leaves a new blank chat.
  await page.getByTestId('delete-thread').click();
  await page.getByTestId('confirm-ok').click();
  await page.getByTestId('empty-thread').waitFor();
  assertEqual(await page.getByTestId('thread-title').textContent(), 'New chat', 'a blank chat');
  assertEqual(await page.getByTestId('thread-item').count(), 0, 'no threads left in the sidebar');
  assertEqual(await user.api.ok('GET', '/api/v1/chat-threads?limit=10&offset=0'), [], 'no threads left in the database');
});

test('assistant: the sidebar loads summaries page by page as it scrolls, newest first', async (t) => {
  const user = await newUser(t.base, { prefix: 'paging' });
  const N = 75;
  for (let i = 1; i <= N; i += 1) {
    await user.api.ok('POST', '/api/v1/chat-threads', { title: `Thread ${String(i).padStart(2, '0')}`, messages: [{ role: 'user', content: `m${i}` }] });
  }
  const page = await t.newPage();
  const urls = [];
  page.on('request', (r) => { if (r.url().includes('/api/v1/chat-threads')) urls.push(r.url().slice(t.base.length)); });
  await openAs(page, t.base, user);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=thread-item]').length >= 1);
  await sleep(400);
  const first = await page.getByTestId('thread-item').count();
  assert(first > 0 && first < N, `only the first page is loaded at first (${first} of ${N})`);
  assert(urls.every((u) => /^\/api\/v1\/chat-threads\?limit=\d+(&[a-z]+=[^&]+)*$/.test(u) && !/offset=/.test(u)), `only summaries were fetched, by cursor: ${urls.join(', ')}`);

  for (let i = 0; i < 10 && (await page.getByTestId('thread-item').count()) < N; i += 1) {
    await page.getByTestId('thread-scroller').evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await sleep(300);
  }
  const titles = await sidebarTitles(page);
  const expected = Array.from({ length: N }, (_, i) => `Thread ${String(N - i).padStart(2, '0')}`);
  assertEqual(titles, expected, 'every thread, newest first, no duplicates');
  assert(urls.length >= 2, `several pages were requested (${urls.join(', ')})`);
  assert(urls.some((u) => /[?&]cursor=/.test(u)), `later pages follow X-Next-Cursor (${urls.join(', ')})`);
  assert((await page.getByTestId('thread-list-status').textContent()).includes(`${N} threads`), 'the end of the list is reported');
});

test('assistant: importing browser-only history reports imported and skipped', async (t) => {
  const user = await newUser(t.base, { prefix: 'import' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatvault-import-'));
  t.onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const threads = [
    { client_id: 'local-1', title: 'Trip ideas', messages: [{ role: 'user', content: 'Where to go?' }, { role: 'assistant', content: 'Porto.' }], created_at: '2025-03-01T10:00:00.000Z', updated_at: '2025-03-01T10:05:00.000Z' },
    { client_id: 'local-2', title: 'Recipes', messages: [{ role: 'system', content: 'You are a chef' }, { role: 'user', content: 'Soup?' }], created_at: '2025-02-01T09:00:00.000Z', updated_at: '2025-02-01T09:01:00.000Z' },
  ];
  const arrayFile = path.join(dir, 'history.json');
  fs.writeFileSync(arrayFile, JSON.stringify(threads));
  const objectFile = path.join(dir, 'history-object.json');
  fs.writeFileSync(objectFile, JSON.stringify({ threads: [...threads, { client_id: 'local-3', title: 'Third', messages: [], created_at: '2025-01-01T00:00:00.000Z', updated_at: '2025-01-01T00:00:00.000Z' }] }));
  const badFile = path.join(dir, 'bad.json');
  fs.writeFileSync(badFile, '{"not": "threads"');

  const page = await t.newPage();
  await openAs(page, t.base, user);
  const status = page.getByTestId('import-result');

  await page.getByTestId('import-file').setInputFiles(arrayFile);
  await page.waitForFunction(() => document.querySelector('[data-testid=import-result]')?.dataset.imported !== undefined);
  assertEqual([await status.getAttribute('data-imported'), await status.getAttribute('data-skipped')], ['2', '0'], 'first import');
  assert(/Imported 2 threads, skipped 0/.test(await status.textContent()), `status text: ${await status.textContent()}`);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=thread-item]').length === 2);
  assertEqual(await sidebarTitles(page), ['Trip ideas', 'Recipes'], 'imported threads, newest first');
  const [trip] = await user.api.ok('GET', '/api/v1/chat-threads?limit=1&offset=0');
  assertEqual([trip.created_at, trip.updated_at], ['2025-03-01T10:00:00.000Z', '2025-03-01T10:05:00.000Z'], 'timestamps kept');
  await t.shot(page, 'assistant-import');

  // The same file again imports nothing; the object form adds only the new thread.
  await page.getByTestId('import-file').setInputFiles(arrayFile);
  await page.waitForFunction(() => document.querySelector('[data-testid=import-result]')?.dataset.skipped === '2');
  assertEqual(await status.getAttribute('data-imported'), '0', 're-import imports nothing');
  await page.getByTestId('import-file').setInputFiles(objectFile);
  await page.waitForFunction(() => document.querySelector('[data-testid=import-result]')?.dataset.imported === '1');
  assertEqual(await status.getAttribute('data-skipped'), '2', 'object form: two skipped');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=thread-item]').length === 3);

  // A broken file is explained, not swallowed.
  await page.getByTestId('import-file').setInputFiles(badFile);
  await page.waitForFunction(() => /not valid JSON/.test(document.querySelector('[data-testid=import-result]')?.textContent || ''));
});

test('errors: server and network failures are shown with their detail', async (t) => {
  const user = await newUser(t.base, { prefix: 'errors' });
  await user.api.ok('POST', '/api/v1/chat-threads', { title: 'Kept thread' });
  const page = await t.newPage();
  await page.route(/\/api\/v1\/chat-threads\?/, (route) => route.fulfill({
    status: 500, contentType: 'application/json', body: JSON.stringify({ detail: 'database is locked (simulated)' }),
  }));
  await openAs(page, t.base, user);
  await page.getByTestId('thread-list-retry').waitFor();
  assert((await page.getByTestId('thread-list-status').textContent()).includes('database is locked (simulated)'), 'the server detail is shown');
  await page.unroute(/\/api\/v1\/chat-threads\?/);
  await page.getByTestId('thread-list-retry').click();
  await page.getByTestId('thread-item').first().waitFor();
  assertEqual(await sidebarTitles(page), ['Kept thread'], 'retry loads the list');

  // A network failure while sending.
  await page.route(/\/api\/v1\/chat-threads(\/\d+\/complete)?$/, (route) => route.abort('connectionrefused'));
  await page.getByTestId('composer').fill('Is anyone there?');
  await page.keyboard.press('Enter');
  await page.getByTestId('error-banner').waitFor();
  assert(/Cannot reach the chatvault server/.test(await page.getByTestId('error-banner').textContent()), 'network failure message');
  await page.unroute(/\/api\/v1\/chat-threads(\/\d+\/complete)?$/);
  assertEqual(await page.getByTestId('composer').inputValue(), 'Is anyone there?', 'the unsent text is given back');

  // A validation error (422) shows FastAPI's detail in words. Whether the page creates the
  // thread first or already has it (the create may have gone through before the network
  // was cut), the next call it makes answers 422.
  await page.route(/\/api\/v1\/chat-threads(\/\d+\/complete)?$/, (route) => route.fulfill({
    status: 422, contentType: 'application/json',
    body: JSON.stringify({ detail: [{ loc: ['body', 'title'], msg: 'String should have at most 255 characters', type: 'string_too_long' }] }),
  }));
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /title: String should have at most 255 characters/.test(document.querySelector('[data-testid=error-banner]')?.textContent));
});
