// Search (issue 11): the box in the top bar finds messages and titles of both kinds of
// conversation; results show the highlighted snippet; choosing one opens the conversation
// scrolled to that message and marks it. English, accents, Japanese, companion chats, and
// the keyboard alone.
import { test, assert, assertEqual, newUser, openAs } from '../harness.mjs';

const filler = (i) => `Filler message ${i}: nothing to see here, just some words to take up room on the screen so that the thread needs scrolling. `.repeat(2);

/** A thread of `n` messages where message `at` is `text`; the rest is filler. */
function messagesWith(n, at, text) {
  return Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: i === at ? text : filler(i) }));
}

/** Type a query and wait for the results of exactly that query. */
async function search(page, q) {
  const input = page.getByTestId('search-input');
  await input.fill(q);
  await page.waitForFunction((query) => {
    const box = document.querySelector('[data-testid=search]');
    const panel = document.querySelector('[data-testid=search-panel]');
    return box && box.dataset.state === 'done' && box.dataset.query === query && panel && !panel.hidden
      && document.querySelector('[data-testid=search-input]').value === query;
  }, q, { timeout: 15_000 });
}

async function resultInfo(page) {
  return page.getByTestId('search-result').evaluateAll((els) => els.map((e) => ({
    kind: e.dataset.kind,
    id: e.dataset.id,
    index: Number(e.dataset.index),
    title: e.querySelector('[data-testid=search-result-title]').textContent,
    kindLabel: e.querySelector('[data-testid=search-result-kind]').textContent,
    snippet: e.querySelector('[data-testid=search-result-snippet]')?.textContent ?? null,
    marks: [...e.querySelectorAll('mark')].map((m) => m.textContent),
    htmlElements: e.querySelectorAll('[data-testid=search-result-snippet] *:not(mark)').length,
  })));
}

/** The marked message: its index among the messages, its marks, and whether it is on screen. */
async function markedMessage(page) {
  await page.waitForFunction(() => document.querySelector('[data-testid=message][data-hit=true] mark.hit-term'), null, { timeout: 15_000 });
  // Let the scroll settle (scrollIntoView is immediate, but layout may still move by a frame).
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  return page.evaluate(() => {
    const msgs = [...document.querySelectorAll('[data-testid=messages] [data-testid=message]')];
    const hit = document.querySelector('[data-testid=message][data-hit=true]');
    const box = document.querySelector('[data-testid=messages]').getBoundingClientRect();
    const r = hit.getBoundingClientRect();
    const onScreen = (rect) => rect.bottom > Math.max(0, box.top) && rect.top < Math.min(window.innerHeight, box.bottom);
    const mark = hit.querySelector('mark.hit-term').getBoundingClientRect();
    return {
      index: msgs.indexOf(hit),
      count: msgs.length,
      hits: document.querySelectorAll('[data-testid=message][data-hit=true]').length,
      marks: [...hit.querySelectorAll('mark.hit-term')].map((m) => m.textContent),
      text: hit.querySelector('[data-testid=message-body]').textContent,
      inView: onScreen(r) && onScreen(mark),
      markInWindow: mark.top >= 0 && mark.bottom <= window.innerHeight,
      lastInView: onScreen(msgs[msgs.length - 1].getBoundingClientRect()),
      focused: document.activeElement === hit,
    };
  });
}

test('search: English words find a message with highlights; the hit opens its thread scrolled to the marked message', async (t) => {
  const user = await newUser(t.base, { prefix: 'search-en' });
  const trip = await user.api.ok('POST', '/api/v1/chat-threads', {
    title: 'Trip notes', messages: messagesWith(40, 5, 'We should visit the Oceanarium in Lisbon on Saturday morning.'),
  });
  const other = await user.api.ok('POST', '/api/v1/chat-threads', {
    title: 'Groceries', messages: [{ role: 'user', content: 'Bread, milk and cheese.' }, { role: 'assistant', content: 'Noted.' }],
  });
  const budget = await user.api.ok('POST', '/api/v1/chat-threads', {
    title: 'Quarterly budget review', messages: [{ role: 'user', content: 'Numbers for Q3, please.' }],
  });
  const emoji = await user.api.ok('POST', '/api/v1/chat-threads', {
    title: 'Party', messages: [{ role: 'user', content: '😀🎉😀 the zeppelin party starts at nine 🎈' }],
  });
  // Someone else's message with the same word is never found.
  const stranger = await newUser(t.base, { prefix: 'search-other' });
  await stranger.api.ok('POST', '/api/v1/chat-threads', { title: 'Not yours', messages: [{ role: 'user', content: 'Oceanarium tickets' }] });

  const page = await t.newPage();
  await openAs(page, t.base, user, `#/assistant/${other.id}`);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=message]').length === 2);

  await search(page, 'oceanarium');
  const results = await resultInfo(page);
  assertEqual(results.length, 1, `one hit, only the user's own (${JSON.stringify(results)})`);
  const [hit] = results;
  assertEqual([hit.kind, hit.id, hit.index, hit.title, hit.kindLabel], ['thread', String(trip.id), 5, 'Trip notes', 'Assistant'], 'the hit names the thread, the message and the kind');
  assert(hit.snippet.includes('We should visit the Oceanarium in Lisbon'), `the snippet is the message text (${hit.snippet})`);
  assertEqual(hit.marks, ['Oceanarium'], 'the matched word is highlighted');
  assertEqual(hit.htmlElements, 0, 'the snippet is text and marks only');
  assert((await page.getByTestId('search-status').textContent()).includes('1 result'), 'the count is announced');

  // Highlights are counted in characters: emoji before the word do not shift the mark.
  await search(page, 'zeppelin');
  const [z] = await resultInfo(page);
  assertEqual([z.id, z.marks], [String(emoji.id), ['zeppelin']], 'the mark after astral characters covers the word exactly');

  // A title hit: index -1, opens the thread without marking a message.
  await search(page, 'budget');
  const [b] = await resultInfo(page);
  assertEqual([b.id, b.index, b.title], [String(budget.id), -1, 'Quarterly budget review'], 'a title hit');
  await page.getByTestId('search-result').first().click();
  await page.waitForFunction((id) => window.location.hash === `#/assistant/${id}` && document.querySelector('[data-testid=thread-title]')?.textContent === 'Quarterly budget review', budget.id);
  assertEqual(await page.locator('[data-testid=message][data-hit=true]').count(), 0, 'a title hit marks no message');
  assert(await page.getByTestId('search-panel').isHidden(), 'choosing a result closes the list');

  // Titles and snippets with HTML in them are text.
  const xss = await user.api.ok('POST', '/api/v1/chat-threads', {
    title: '<img src=x onerror="window.__xss=1">quokka facts',
    messages: [{ role: 'user', content: 'The <b>quokka</b> <img src=x onerror="window.__xss=2"> smiles <script>window.__xss=3</script>' }],
  });
  await search(page, 'quokka');
  const q = await resultInfo(page);
  const msgHit = q.find((r) => r.index === 0);
  assert(msgHit && msgHit.id === String(xss.id), `the message hit (${JSON.stringify(q)})`);
  assert(msgHit.snippet.includes('<img src=x onerror="window.__xss=2">') && msgHit.title.startsWith('<img src=x'), 'markup in a snippet or title is shown as text');
  assertEqual(msgHit.htmlElements, 0, 'no element built from the snippet');
  assertEqual(await page.evaluate(() => [document.querySelectorAll('[data-testid=search-results] img, [data-testid=search-results] script, [data-testid=search-results] b').length, window.__xss ?? 'none']), [0, 'none'], 'nothing injected');

  // Choosing the message hit opens its thread, scrolled to the marked message.
  await search(page, 'oceanarium');
  await page.getByTestId('search-result').first().click();
  await page.waitForFunction((id) => window.location.hash === `#/assistant/${id}`, trip.id);
  const marked = await markedMessage(page);
  assertEqual([marked.count, marked.index, marked.hits], [40, 5, 1], 'the sixth of 40 messages is marked, only it');
  assertEqual(marked.marks, ['Oceanarium'], 'the matched word is marked in the message');
  assert(marked.text.includes('visit the Oceanarium in Lisbon'), 'the marked message is the one found');
  assert(marked.inView && marked.markInWindow, 'the marked message is scrolled into view');
  assert(!marked.lastInView, 'the thread was scrolled away from its end to the message');
  assert(marked.focused, 'the marked message has the focus');
  await t.shot(page, 'search-hit');
});

test('search: accents are ignored (cafe finds Café) and the highlight is on Café', async (t) => {
  const user = await newUser(t.base, { prefix: 'search-accent' });
  const thread = await user.api.ok('POST', '/api/v1/chat-threads', {
    title: 'Vienna', messages: messagesWith(30, 3, 'Meet me at the Café Central at noon, then the museum.'),
  });
  await user.api.ok('POST', '/api/v1/chat-threads', { title: 'Tea', messages: [{ role: 'user', content: 'A cup of tea.' }] });
  const page = await t.newPage();
  await openAs(page, t.base, user);
  await search(page, 'cafe');
  const results = await resultInfo(page);
  assertEqual(results.map((r) => [r.id, r.index]), [[String(thread.id), 3]], 'cafe finds the message with Café');
  assertEqual(results[0].marks, ['Café'], 'the highlight covers Café, accent included');
  await page.getByTestId('search-result').first().click();
  const marked = await markedMessage(page);
  assertEqual([marked.index, marked.marks], [3, ['Café']], 'Café is marked in the opened thread');
  assert(marked.inView, 'scrolled to it');

  // Upper case and accents in the query work the same way.
  await search(page, 'CAFÉ');
  assertEqual((await resultInfo(page)).map((r) => r.marks), [['Café']], 'CAFÉ finds Café too');
});

test('search: Japanese — タワー finds 東京タワーに行きました', async (t) => {
  const user = await newUser(t.base, { prefix: 'search-ja' });
  const thread = await user.api.ok('POST', '/api/v1/chat-threads', {
    title: '旅行の記録', messages: messagesWith(30, 2, '東京タワーに行きました'),
  });
  await user.api.ok('POST', '/api/v1/chat-threads', { title: '買い物', messages: [{ role: 'user', content: '牛乳とパンを買いました' }] });
  const page = await t.newPage();
  await openAs(page, t.base, user);
  await search(page, 'タワー');
  const results = await resultInfo(page);
  assertEqual(results.map((r) => [r.id, r.index, r.title]), [[String(thread.id), 2, '旅行の記録']], 'the Japanese message is found');
  assert(results[0].snippet.includes('東京タワーに行きました'), `snippet: ${results[0].snippet}`);
  assertEqual(results[0].marks, ['タワー'], 'タワー is highlighted');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await page.waitForFunction((id) => window.location.hash === `#/assistant/${id}`, thread.id);
  const marked = await markedMessage(page);
  assertEqual([marked.index, marked.marks, marked.text], [2, ['タワー'], '東京タワーに行きました'], 'the message is marked');
  assert(marked.inView, 'scrolled to it');
});

test('search: a companion chat hit opens the companions view at that message', async (t) => {
  const user = await newUser(t.base, { prefix: 'search-chat' });
  const character = await user.api.ok('POST', '/api/characters', { name: 'Keeper Mara', description: 'Tends a lighthouse.' });
  const first = await user.api.ok('POST', '/api/chat', { character_id: character.id, message: 'Tell me about the foghorn on stormy nights.' });
  const chatId = first.chat_id || first.chat?.chat_id;
  assert(chatId, `the chat has an id (${JSON.stringify(first).slice(0, 200)})`);
  for (let i = 0; i < 14; i += 1) {
    await user.api.ok('POST', '/api/chat', { chat_id: chatId, character_id: character.id, message: filler(i) });
  }
  await user.api.ok('POST', '/api/v1/chat-threads', { title: 'Unrelated', messages: [{ role: 'user', content: 'Nothing about that here.' }] });
  const page = await t.newPage();
  await openAs(page, t.base, user, '#/assistant');
  await search(page, 'foghorn');
  const results = await resultInfo(page);
  const hit = results.find((r) => r.kind === 'chat' && r.index === 0);
  assert(hit, `the chat's first message is a hit (${JSON.stringify(results)})`);
  assertEqual([hit.id, hit.kindLabel, hit.marks[0]], [chatId, 'Companion', 'foghorn'], 'a companion hit, highlighted');
  await page.locator(`[data-testid=search-result][data-kind=chat][data-index="0"]`).click();
  await page.getByTestId('companion-chat').waitFor();
  assertEqual(new URL(page.url()).hash, `#/companions/${chatId}`, 'the companions view opened that chat');
  assertEqual(await page.getByTestId('nav-companions').getAttribute('aria-current'), 'page', 'the view switched');
  const marked = await markedMessage(page);
  assertEqual([marked.count, marked.index, marked.marks], [30, 0, ['foghorn']], 'the first of 30 messages is marked');
  assert(marked.inView && !marked.lastInView, 'scrolled up to it');
});

test('search: the keyboard alone — / focuses, arrows move, Enter opens, Escape closes', async (t) => {
  const user = await newUser(t.base, { prefix: 'search-keys' });
  const threads = [];
  for (const [i, title] of ['Orion notes', 'Crab notes', 'Eagle notes'].entries()) {
    threads.push(await user.api.ok('POST', '/api/v1/chat-threads', {
      title, messages: messagesWith(24, 10 + i, `The ${title.split(' ')[0]} nebula is ${i + 1} thousand light years away.`),
    }));
  }
  const page = await t.newPage();
  await openAs(page, t.base, user, '#/assistant');
  await page.getByTestId('thread-item').first().waitFor();
  const focusedTestid = () => page.evaluate(() => document.activeElement?.dataset.testid || document.activeElement?.tagName);

  // `/` typed in the composer is text, not a shortcut.
  await page.getByTestId('composer').focus();
  await page.keyboard.type('a/b');
  assertEqual(await page.getByTestId('composer').inputValue(), 'a/b', 'slash in a text field is typed');
  assertEqual(await focusedTestid(), 'composer', 'the composer keeps the focus');
  await page.getByTestId('composer').fill('');

  // Elsewhere `/` jumps to the search box.
  await page.getByTestId('thread-item').first().focus();
  await page.keyboard.press('/');
  assertEqual(await focusedTestid(), 'search-input', '/ focuses the search box');
  assertEqual(await page.getByTestId('search-input').inputValue(), '', 'the slash is not typed into it');

  // Enter searches at once; arrows move through the results (aria-activedescendant).
  await page.keyboard.type('nebula');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=search-result]').length === 3
    && document.querySelector('[data-testid=search]').dataset.state === 'done');
  const input = page.getByTestId('search-input');
  assertEqual(await input.getAttribute('aria-expanded'), 'true', 'the combobox is expanded');
  const active = () => page.evaluate(() => {
    const inp = document.querySelector('[data-testid=search-input]');
    const id = inp.getAttribute('aria-activedescendant');
    const opt = id ? document.getElementById(id) : null;
    const selected = [...document.querySelectorAll('[data-testid=search-result][aria-selected=true]')];
    return { id: opt ? opt.dataset.id : null, selected: selected.map((s) => s.dataset.id), focus: document.activeElement === inp };
  });
  const ids = await page.getByTestId('search-result').evaluateAll((els) => els.map((e) => e.dataset.id));
  assertEqual([...ids].sort(), threads.map((x) => String(x.id)).sort(), 'one result per thread');
  assertEqual((await active()).id, null, 'nothing is selected before an arrow key');
  await page.keyboard.press('ArrowDown');
  assertEqual(await active(), { id: ids[0], selected: [ids[0]], focus: true }, 'ArrowDown selects the first result');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  assertEqual((await active()).id, ids[2], 'ArrowDown twice more: the third');
  await page.keyboard.press('ArrowUp');
  assertEqual((await active()).id, ids[1], 'ArrowUp: back to the second');

  // Escape closes the list and keeps the query; ArrowDown opens it again.
  await page.keyboard.press('Escape');
  assert(await page.getByTestId('search-panel').isHidden(), 'Escape closes the results');
  assertEqual(await input.getAttribute('aria-expanded'), 'false', 'collapsed');
  assertEqual(await focusedTestid(), 'search-input', 'the focus stays in the search box');
  assertEqual(await input.inputValue(), 'nebula', 'the query stays');
  await page.keyboard.press('ArrowDown');
  assert(await page.getByTestId('search-panel').isVisible(), 'ArrowDown opens the results again');
  await page.keyboard.press('ArrowDown');
  const chosen = (await active()).id;
  assertEqual(chosen, ids[1], 'the second result is selected');

  // Enter opens the selected result at its message.
  await page.keyboard.press('Enter');
  await page.waitForFunction((id) => window.location.hash === `#/assistant/${id}`, chosen);
  const marked = await markedMessage(page);
  const expectedIndex = 10 + threads.findIndex((x) => String(x.id) === chosen);
  assertEqual([marked.index, marked.marks], [expectedIndex, ['nebula']], 'the chosen hit is marked');
  assert(marked.inView && marked.focused, 'on screen and focused');

  // `/` again from the opened message goes back to the search box.
  await page.keyboard.press('/');
  assertEqual(await focusedTestid(), 'search-input', '/ from the message focuses search');
});
