// Live updates between tabs and devices (GET /api/v1/events read by live.js): two browser
// contexts (separate storage, like two devices) signed in as one account. A thread made in A
// through the page appears in B's sidebar without a reload; a rename in A shows in B's
// sidebar and in B's header; a message added in A shows in B's open thread (B's half-typed
// message stays in its composer); deleted in A, it leaves B's sidebar and B's view closes.
// A third context, another account, never sees any of it (and does see its own). The
// companions view follows characters and chats the same way; a dropped stream comes back
// with Last-Event-ID and replays what it missed; a revoked token stops it.
import { test, assert, assertEqual, newUser, openAs, sleep } from '../harness.mjs';

const WAIT = { timeout: 5000 };

/** The page's events stream is connected (live.js marks <html data-live="open">). */
async function liveOpen(page) {
  await page.waitForFunction(() => document.documentElement.dataset.live === 'open', null, { timeout: 10_000 });
}

async function waitReplyDone(page, count) {
  await page.waitForFunction((n) => {
    const all = document.querySelectorAll('[data-testid=message]');
    return all.length === n && !document.querySelector('[data-testid=message][data-state=streaming]');
  }, count, { timeout: 30_000 });
}

const threadIds = (page) => page.getByTestId('thread-item').evaluateAll((els) => els.map((e) => Number(e.dataset.id)));

test('live: a thread created, renamed, added to and deleted in one browser follows in another; another account sees none of it', async (t) => {
  const user = await newUser(t.base, { prefix: 'live' });
  const stranger = await newUser(t.base, { prefix: 'livestranger' });
  const a = await t.newPage();
  const b = await t.newPage();
  const c = await t.newPage();
  await openAs(a, t.base, user);
  await openAs(b, t.base, user);
  await openAs(c, t.base, stranger);
  await Promise.all([liveOpen(a), liveOpen(b), liveOpen(c)]);
  await b.getByTestId('thread-list-status').filter({ hasText: 'No threads yet' }).waitFor();

  const streams = [];
  const lists = [];
  b.on('request', (r) => {
    if (r.url().includes('/api/v1/events')) streams.push(r.headers()['last-event-id'] || null);
    if (/\/api\/v1\/chat-threads\?/.test(r.url())) lists.push(r.url());
  });

  // (1) A new thread, made in A by sending a message, appears in B's sidebar.
  await a.getByTestId('composer').fill('Hello from A');
  await a.keyboard.press('Enter');
  await waitReplyDone(a, 2);
  const id = Number((await a.evaluate(() => location.hash)).split('/').pop());
  assert(Number.isInteger(id) && id > 0, `A's address names the new thread (${await a.evaluate(() => location.hash)})`);
  const rowB = b.locator(`[data-testid=thread-item][data-id="${id}"]`);
  await rowB.waitFor(WAIT);
  assertEqual(await rowB.getByTestId('thread-item-title').textContent(), 'Hello from A', 'B shows its title');
  assertEqual(await b.evaluate(() => location.hash), '#/assistant', 'B stays on its blank chat');

  // (2) B opens it; A renames it: B's sidebar and B's header follow.
  await rowB.click();
  await b.waitForFunction(() => document.querySelectorAll('[data-testid=message]').length === 2, null, WAIT);
  await a.getByTestId('rename-thread').click();
  await a.getByTestId('rename-input').fill('Renamed in A');
  await a.getByTestId('rename-input').press('Enter');
  await b.waitForFunction((tid) => document.querySelector(`[data-testid=thread-item][data-id="${tid}"] [data-testid=thread-item-title]`)?.textContent === 'Renamed in A', id, WAIT);
  await b.waitForFunction(() => document.querySelector('[data-testid=thread-title]')?.textContent === 'Renamed in A', null, WAIT);

  // (3) B has half a message typed; A adds one: it appears in B's open thread, and what B
  // typed stays where it was.
  await b.getByTestId('composer').fill('half-typed in B');
  await a.getByTestId('composer').fill('Second from A');
  await a.keyboard.press('Enter');
  await waitReplyDone(a, 4);
  await b.waitForFunction(() => {
    const all = [...document.querySelectorAll('[data-testid=message]')];
    return all.length === 4 && all[2].textContent.includes('Second from A') && all[3].dataset.role === 'assistant';
  }, null, WAIT);
  assertEqual(await b.getByTestId('composer').inputValue(), 'half-typed in B', 'B\'s composer is untouched');
  assertEqual(await b.evaluate(() => location.hash), `#/assistant/${id}`, 'B still shows that thread');
  const stored = await user.api.ok('GET', `/api/v1/chat-threads/${id}`);
  assertEqual(await b.getByTestId('message').count(), stored.messages.length, 'B shows what the database holds');

  // Nothing loops: once settled, B's list is not fetched again and again.
  await sleep(300);
  const settled = lists.length;
  await sleep(1000);
  assertEqual(lists.length, settled, `no reload without a change (${lists.slice(settled).join(', ')})`);
  assertEqual(streams.length, 0, 'B kept its one stream');

  // (4) A deletes it: gone from B's sidebar, and B's view of it closes.
  await b.getByTestId('composer').fill('');
  await a.getByTestId('delete-thread').click();
  await a.getByTestId('confirm-ok').click();
  await rowB.waitFor({ state: 'detached', ...WAIT });
  await b.getByTestId('empty-thread').waitFor(WAIT);
  assertEqual(await b.getByTestId('thread-title').textContent(), 'New chat', 'B shows a blank chat');
  assertEqual(await b.evaluate(() => location.hash), '#/assistant', 'B\'s address no longer names it');
  assertEqual(await b.getByTestId('message').count(), 0, 'no message of it is left in B');

  // (5) The other account saw none of it, though its own stream works.
  assertEqual(await threadIds(c), [], 'C never listed A\'s thread');
  const own = await stranger.api.ok('POST', '/api/v1/chat-threads', { title: 'Stranger\'s own' });
  await c.locator(`[data-testid=thread-item][data-id="${own.id}"]`).waitFor(WAIT);
  assertEqual(await threadIds(c), [own.id], 'C lists only its own thread');
  assertEqual(await threadIds(b), [], 'and B does not list C\'s');
});

test('live: a message added elsewhere waits while this tab streams a reply, and the list keeps its place', async (t) => {
  const user = await newUser(t.base, { prefix: 'livebusy' });
  const older = [];
  for (let i = 1; i <= 3; i += 1) {
    older.push(await user.api.ok('POST', '/api/v1/chat-threads', { title: `Older ${i}`, messages: [{ role: 'user', content: `m${i}` }] }));
  }
  const b = await t.newPage();
  await openAs(b, t.base, user, `#/assistant/${older[0].id}`);
  await liveOpen(b);
  await b.waitForFunction(() => document.querySelectorAll('[data-testid=thread-item]').length === 3, null, WAIT);

  // Changes made through the API (another device): a new thread, a rename of an old one, an
  // archive: the sidebar follows each.
  const fresh = await user.api.ok('POST', '/api/v1/chat-threads', { title: 'From the API' });
  await b.locator(`[data-testid=thread-item][data-id="${fresh.id}"]`).waitFor(WAIT);
  assertEqual((await threadIds(b))[0], fresh.id, 'the new thread is first');
  await user.api.ok('PUT', `/api/v1/chat-threads/${older[1].id}`, { title: 'Older 2, renamed' });
  await b.waitForFunction((tid) => document.querySelector(`[data-testid=thread-item][data-id="${tid}"] [data-testid=thread-item-title]`)?.textContent === 'Older 2, renamed', older[1].id, WAIT);
  await user.api.ok('PUT', `/api/v1/chat-threads/${older[2].id}`, { archived: true });
  await b.locator(`[data-testid=thread-item][data-id="${older[2].id}"]`).waitFor({ state: 'detached', ...WAIT });

  // A message appended elsewhere to B's open thread shows in B.
  await user.api.ok('POST', `/api/v1/chat-threads/${older[0].id}/messages`, { role: 'assistant', content: 'appended elsewhere' });
  await b.waitForFunction(() => [...document.querySelectorAll('[data-testid=message]')].some((m) => m.textContent.includes('appended elsewhere')), null, WAIT);

  // B sends: its own reply streams to the end, and the thread then holds what the database does.
  await b.getByTestId('composer').fill('From B');
  await b.keyboard.press('Enter');
  await waitReplyDone(b, 4);
  const stored = await user.api.ok('GET', `/api/v1/chat-threads/${older[0].id}`);
  await b.waitForFunction((n) => document.querySelectorAll('[data-testid=message]').length === n, stored.messages.length, WAIT);
  const shown = await b.getByTestId('message-body').allTextContents();
  assertEqual(shown.length, stored.messages.length, 'as many messages as stored');
  assert(shown[2] === 'From B', `B's message is where it was sent (${JSON.stringify(shown)})`);
  assertEqual(await b.getByTestId('error-banner').isVisible(), false, 'no error');
});

test('live: companions follow characters, chats, renames and deletions made elsewhere', async (t) => {
  const user = await newUser(t.base, { prefix: 'livecomp' });
  const b = await t.newPage();
  await openAs(b, t.base, user, '#/companions');
  await liveOpen(b);
  await b.getByTestId('companions-home-view').waitFor();
  await b.getByTestId('chat-list-status').filter({ hasText: 'No chats yet' }).waitFor();

  // A character made elsewhere appears in the home view; what B is typing in the create
  // form stays.
  await b.getByTestId('character-name-input').fill('typing a name');
  const character = await user.api.ok('POST', '/api/characters', { name: 'Live Lighthouse Keeper', description: 'Watches the sea.' });
  await b.locator(`[data-testid=all-characters] [data-testid=character-card][data-id="${character.id}"]`).waitFor(WAIT);
  assertEqual(await b.getByTestId('character-name-input').inputValue(), 'typing a name', 'the form is untouched');

  // A chat started elsewhere appears in B's list; B opens it.
  const started = await user.api.ok('POST', '/api/chat', { character_id: character.id, message: 'Any ships tonight?' });
  const chatId = started.chat_id || (started.chat && started.chat.chat_id);
  assert(chatId, `the chat's id (${JSON.stringify(started).slice(0, 200)})`);
  const item = b.locator(`[data-testid=chat-item][data-chat-id="${chatId}"]`);
  await item.waitFor(WAIT);
  await item.click();
  await b.getByTestId('companion-chat').waitFor(WAIT);
  await b.waitForFunction(() => document.querySelectorAll('[data-testid=message]').length === 2, null, WAIT);

  // Renamed and added to elsewhere: B's list, header and messages follow.
  await user.api.ok('POST', '/api/chat/rename', { chat_id: chatId, title: 'Night watch' });
  await b.waitForFunction(() => document.querySelector('[data-testid=chat-title]')?.textContent === 'Night watch', null, WAIT);
  await b.waitForFunction((cid) => document.querySelector(`[data-testid=chat-item][data-chat-id="${cid}"] [data-testid=chat-item-title]`)?.textContent === 'Night watch', chatId, WAIT);
  await user.api.ok('POST', '/api/chat', { chat_id: chatId, message: 'And the fog?' });
  await b.waitForFunction(() => {
    const all = [...document.querySelectorAll('[data-testid=message]')];
    return all.length === 4 && all[2].textContent.includes('And the fog?');
  }, null, WAIT);

  // Deleted elsewhere: it leaves the list and B's view goes back home.
  await user.api.ok('POST', '/api/chat/delete', { chat_id: chatId });
  await item.waitFor({ state: 'detached', ...WAIT });
  await b.getByTestId('companions-home-view').waitFor(WAIT);
  assertEqual(await b.evaluate(() => location.hash), '#/companions', 'the address no longer names it');
});

test('live: a dropped stream comes back with Last-Event-ID and replays what it missed; a revoked token stops it', async (t) => {
  const user = await newUser(t.base, { prefix: 'livedrop' });
  const b = await t.newPage();
  const streams = [];
  b.on('request', (r) => { if (r.url().endsWith('/api/v1/events')) streams.push(r.headers()['last-event-id'] || null); });
  await openAs(b, t.base, user);
  await liveOpen(b);
  const before = await user.api.ok('POST', '/api/v1/chat-threads', { title: 'Before the drop' });
  await b.locator(`[data-testid=thread-item][data-id="${before.id}"]`).waitFor(WAIT);

  // The connection drops; a change made meanwhile arrives once it is back.
  await b.context().setOffline(true);
  await b.waitForFunction(() => document.documentElement.dataset.live !== 'open', null, WAIT);
  const missed = await user.api.ok('POST', '/api/v1/chat-threads', { title: 'Made while offline' });
  await b.context().setOffline(false);
  await b.locator(`[data-testid=thread-item][data-id="${missed.id}"]`).waitFor({ timeout: 20_000 });
  await liveOpen(b);
  const last = streams[streams.length - 1];
  assert(streams.length >= 2 && last, `it reconnected with Last-Event-ID (${JSON.stringify(streams)})`);
  assertEqual(streams[0], null, 'the first stream starts from now, without a cursor');

  // The token is revoked (signed out elsewhere): the stream ends and does not come back by
  // itself; the page's next request signs it out, as without streams.
  const beforeEnd = streams.length;
  await user.api.ok('POST', '/api/v1/auth/logout');
  await b.waitForFunction(() => document.documentElement.dataset.live === 'paused', null, { timeout: 10_000 });
  await sleep(2500); // longer than the server's retry: 2000
  assertEqual(streams.length, beforeEnd, 'no reconnection after the end');
  await b.getByTestId('composer').fill('still there?');
  await b.keyboard.press('Enter');
  await b.getByTestId('auth-view').waitFor(WAIT);
  assert(/session has expired/i.test(await b.getByTestId('auth-message').textContent()), 'the page says why');
  assertEqual(await b.evaluate(() => document.documentElement.dataset.live), 'stopped', 'signed out: stopped');
});

/** An events stream opened from Node with `token`; close() ends it. */
async function rawStream(base, token) {
  const controller = new AbortController();
  const res = await fetch(`${base}/api/v1/events`, { headers: { Authorization: `Bearer ${token}` }, signal: controller.signal });
  assertEqual(res.status, 200, 'a stream opens');
  const reader = res.body.getReader();
  let text = '';
  const done = (async () => {
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        text += new TextDecoder().decode(value);
      }
    } catch { /* closed */ }
  })();
  return { get text() { return text; }, done, close: () => controller.abort() };
}

test('live: a tab whose stream the server closed for a newer one does not take it back until it is used again', async (t) => {
  const user = await newUser(t.base, { prefix: 'liveevict' });
  const raws = [];
  t.onCleanup(() => { for (const r of raws) r.close(); });
  for (let i = 0; i < 15; i += 1) raws.push(await rawStream(t.base, user.token));
  const b = await t.newPage();
  const streams = [];
  b.on('request', (r) => { if (r.url().endsWith('/api/v1/events')) streams.push(r.headers()['last-event-id'] || null); });
  await openAs(b, t.base, user);
  await liveOpen(b);
  assertEqual(streams.length, 1, 'the 16th stream is the page\'s');

  // A 17th stream (another tab) closes the oldest, then the next one closes the page's.
  raws.push(await rawStream(t.base, user.token));
  await raws[0].done;
  assert(/event: end/.test(raws[0].text), 'the oldest was ended');
  for (let i = 1; i < 15; i += 1) raws.push(await rawStream(t.base, user.token));
  raws.push(await rawStream(t.base, user.token));
  await b.waitForFunction(() => document.documentElement.dataset.live === 'paused', null, { timeout: 10_000 });
  await sleep(2500);
  assertEqual(streams.length, 1, 'the page does not open another stream by itself (no round of closings)');
  const newest = raws[raws.length - 1];
  assert(!/event: end/.test(newest.text), 'the newest stream stays open');

  // Used again (focused): it comes back with its cursor and replays what it missed.
  const missed = await user.api.ok('POST', '/api/v1/chat-threads', { title: 'While paused' });
  await b.evaluate(() => window.dispatchEvent(new Event('focus')));
  await b.locator(`[data-testid=thread-item][data-id="${missed.id}"]`).waitFor(WAIT);
  await liveOpen(b);
  assertEqual(streams.length, 2, 'one new stream');
  assert(streams[1], 'sent with Last-Event-ID');
});
