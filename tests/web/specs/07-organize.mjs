// Organize (issue 11): pin, archive and tag threads from the sidebar's per-thread menu;
// pinned threads first, an Archived view, tag chips that filter the list. Organizing never
// changes a thread's updated_at.
import { test, assert, assertEqual, newUser, openAs, sleep } from '../harness.mjs';

async function sidebarTitles(page) {
  return page.getByTestId('thread-item-title').allTextContents();
}

async function waitTitles(page, expected, message) {
  try {
    await page.waitForFunction((want) => {
      const got = [...document.querySelectorAll('[data-testid=thread-item-title]')].map((e) => e.textContent);
      const status = document.querySelector('[data-testid=thread-list-status]');
      return JSON.stringify(got) === JSON.stringify(want) && !status.querySelector('.spinner');
    }, expected, { timeout: 10_000 });
  } catch {
    assertEqual(await sidebarTitles(page), expected, message);
  }
}

async function threeThreads(user) {
  const made = [];
  for (const title of ['Alpha', 'Bravo', 'Charlie']) {
    made.push(await user.api.ok('POST', '/api/v1/chat-threads', { title, messages: [{ role: 'user', content: `about ${title}` }] }));
    await sleep(5);
  }
  return made; // oldest first: the sidebar shows Charlie, Bravo, Alpha
}

function menuButton(page, title) {
  // The accessible name says which thread the menu is for.
  return page.getByRole('button', { name: `Actions for “${title}”`, exact: true });
}

async function menuChoose(page, title, testid) {
  await menuButton(page, title).click();
  await page.getByTestId(testid).click();
}

test('organize: pin and unpin from the thread menu (keyboard too); pinned threads come first', async (t) => {
  const user = await newUser(t.base, { prefix: 'pin' });
  const [alpha] = await threeThreads(user);
  const page = await t.newPage();
  await openAs(page, t.base, user);
  await waitTitles(page, ['Charlie', 'Bravo', 'Alpha'], 'newest first');
  assert(await page.getByTestId('pinned-group').isHidden(), 'no Pinned group while nothing is pinned');

  // With the keyboard: focus the menu button, Enter opens the menu on its first item, Enter pins.
  await menuButton(page, 'Alpha').focus();
  await page.keyboard.press('Enter');
  const menu = page.getByTestId('thread-menu-list').filter({ visible: true });
  await menu.waitFor();
  assertEqual(await menu.getAttribute('role'), 'menu', 'a menu');
  assertEqual(await page.evaluate(() => document.activeElement?.dataset.testid), 'menu-pin', 'the first item has the focus');
  await page.keyboard.press('Enter');
  await waitTitles(page, ['Alpha', 'Charlie', 'Bravo'], 'the pinned thread comes first');
  assert(await page.getByTestId('pinned-group').isVisible(), 'a Pinned group is shown');
  assertEqual(await page.getByTestId('pinned-list').getByTestId('thread-item-title').allTextContents(), ['Alpha'], 'Alpha is in the Pinned group');
  const stored = await user.api.ok('GET', `/api/v1/chat-threads/${alpha.id}`);
  assertEqual([stored.pinned, stored.updated_at], [true, alpha.updated_at], 'pinned in the database, updated_at unchanged');

  // Still first after a reload.
  await page.reload();
  await waitTitles(page, ['Alpha', 'Charlie', 'Bravo'], 'pinned first after a reload');

  // Escape closes a menu without doing anything.
  await menuButton(page, 'Bravo').click();
  await page.keyboard.press('Escape');
  assert(await page.getByTestId('thread-menu-list').filter({ visible: true }).count() === 0, 'Escape closes the menu');
  assertEqual(await menuButton(page, 'Bravo').getAttribute('aria-expanded'), 'false', 'the button says it is closed');

  // Unpin with the mouse.
  await menuChoose(page, 'Alpha', 'menu-unpin');
  await waitTitles(page, ['Charlie', 'Bravo', 'Alpha'], 'unpinned: back in its place');
  assert(await page.getByTestId('pinned-group').isHidden(), 'the Pinned group is gone');
  assertEqual((await user.api.ok('GET', `/api/v1/chat-threads/${alpha.id}`)).pinned, false, 'unpinned in the database');
});

test('organize: archive hides a thread; the Archived view lists it; unarchive brings it back', async (t) => {
  const user = await newUser(t.base, { prefix: 'archive' });
  const [, bravo] = await threeThreads(user);
  const page = await t.newPage();
  const lists = [];
  page.on('request', (r) => { if (/\/api\/v1\/chat-threads\?/.test(r.url())) lists.push(r.url()); });
  await openAs(page, t.base, user, `#/assistant/${bravo.id}`);
  await waitTitles(page, ['Charlie', 'Bravo', 'Alpha'], 'all three');

  await menuChoose(page, 'Bravo', 'menu-archive');
  await waitTitles(page, ['Charlie', 'Alpha'], 'the archived thread left the list');
  const stored = await user.api.ok('GET', `/api/v1/chat-threads/${bravo.id}`);
  assertEqual([stored.archived, stored.updated_at], [true, bravo.updated_at], 'archived in the database, updated_at unchanged');
  await page.getByTestId('thread-archived-pill').waitFor();  // the open thread says so
  const main = (await user.api.ok('GET', '/api/v1/chat-threads?limit=50')).map((x) => x.title);
  assertEqual(main, ['Charlie', 'Alpha'], 'the API hides it from the default list too');

  // The Archived view.
  await page.getByTestId('view-archived').click();
  await waitTitles(page, ['Bravo'], 'the Archived view lists it');
  assertEqual(await page.getByTestId('view-archived').getAttribute('aria-pressed'), 'true', 'Archived is pressed');
  assertEqual(await page.getByTestId('thread-list-title').textContent(), 'Archived', 'the list is titled Archived');
  assert(lists.some((u) => /[?&]archived=true/.test(u)), `the Archived view asks for archived=true (${lists.join(', ')})`);
  await t.shot(page, 'archived-view');

  // Unarchive from there.
  await menuChoose(page, 'Bravo', 'menu-unarchive');
  await waitTitles(page, [], 'nothing archived any more');
  assert((await page.getByTestId('thread-list-status').textContent()).includes('No archived threads'), 'the empty Archived view says so');
  assertEqual((await user.api.ok('GET', `/api/v1/chat-threads/${bravo.id}`)).archived, false, 'unarchived in the database');
  await page.getByTestId('view-all').click();
  await waitTitles(page, ['Charlie', 'Bravo', 'Alpha'], 'back in its place');
});

test('organize: tags are added and removed in a dialog; a tag chip filters the list', async (t) => {
  const user = await newUser(t.base, { prefix: 'tags' });
  const [alpha, bravo] = await threeThreads(user);
  const page = await t.newPage();
  const lists = [];
  page.on('request', (r) => { if (/\/api\/v1\/chat-threads\?/.test(r.url())) lists.push(decodeURIComponent(r.url())); });
  await openAs(page, t.base, user);
  await waitTitles(page, ['Charlie', 'Bravo', 'Alpha'], 'all three');
  assert(await page.getByTestId('tag-filter').isHidden(), 'no tag chips before any tag exists');

  // Alpha: work + Travel, typed with Enter; a duplicate in other case is not added twice.
  await menuChoose(page, 'Alpha', 'menu-tags');
  const dialog = page.getByTestId('tags-dialog');
  await dialog.waitFor();
  await page.getByTestId('tag-input').fill('work');
  await page.getByTestId('tag-input').press('Enter');
  await page.getByTestId('tag-input').fill('Travel');
  await page.getByTestId('tag-input').press('Enter');
  await page.getByTestId('tag-input').fill('WORK');
  await page.getByTestId('tag-input').press('Enter');
  assertEqual(await dialog.getByTestId('tag-current').evaluateAll((els) => els.map((e) => e.dataset.tag)), ['work', 'Travel'], 'two tags in the dialog');
  await page.getByTestId('tags-save').click();
  await dialog.waitFor({ state: 'detached' });
  await page.waitForFunction((id) => document.querySelectorAll(`[data-testid=thread-item][data-id="${id}"] [data-testid=thread-item-tag]`).length === 2, alpha.id);
  const a = await user.api.ok('GET', `/api/v1/chat-threads/${alpha.id}`);
  assertEqual([...a.tags].sort(), ['Travel', 'work'], 'tags stored');
  assertEqual(a.updated_at, alpha.updated_at, 'tagging keeps updated_at');

  // Bravo: work.
  await menuChoose(page, 'Bravo', 'menu-tags');
  await page.getByTestId('tag-input').fill('work');
  await page.getByTestId('tags-save').click();   // what is typed is added on save
  await dialog.waitFor({ state: 'detached' });
  // the dialog closes before the save's answer: wait for the sidebar to show the tag first
  await page.waitForFunction((id) => document.querySelectorAll(`[data-testid=thread-item][data-id="${id}"] [data-testid=thread-item-tag]`).length === 1, bravo.id);
  assertEqual((await user.api.ok('GET', `/api/v1/chat-threads/${bravo.id}`)).tags, ['work'], 'Bravo tagged');

  // The chips (from GET /api/v1/tags) filter the list.
  const chip = (tag) => page.locator(`[data-testid=tag-chip][data-tag="${tag}"]`);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=tag-chip]').length === 2);
  assert((await chip('work').textContent()).includes('2'), `the work chip counts 2 (${await chip('work').textContent()})`);
  await chip('work').click();
  await waitTitles(page, ['Bravo', 'Alpha'], 'only threads tagged work');
  assertEqual(await chip('work').getAttribute('aria-pressed'), 'true', 'the chip is pressed');
  assert(lists.some((u) => /[?&]tag=work(&|$)/.test(u)), `the list asks for tag=work (${lists.join(', ')})`);
  await chip('Travel').click();
  await waitTitles(page, ['Alpha'], 'only threads tagged Travel');
  assertEqual(await chip('work').getAttribute('aria-pressed'), 'false', 'one tag at a time');
  await chip('Travel').click();
  await waitTitles(page, ['Charlie', 'Bravo', 'Alpha'], 'choosing the chip again shows all');
  await t.shot(page, 'tags');

  // Remove work from Alpha.
  await menuChoose(page, 'Alpha', 'menu-tags');
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Remove tag work' }).click();
  assertEqual(await dialog.getByTestId('tag-current').evaluateAll((els) => els.map((e) => e.dataset.tag)), ['Travel'], 'work removed in the dialog');
  await page.getByTestId('tags-save').click();
  await dialog.waitFor({ state: 'detached' });
  await page.waitForFunction((id) => document.querySelectorAll(`[data-testid=thread-item][data-id="${id}"] [data-testid=thread-item-tag]`).length === 1, alpha.id);
  assertEqual((await user.api.ok('GET', `/api/v1/chat-threads/${alpha.id}`)).tags, ['Travel'], 'work removed in the database');
  await page.waitForFunction(() => !/2/.test(document.querySelector('[data-testid=tag-chip][data-tag="work"]')?.textContent ?? '2'));
  await chip('work').click();
  await waitTitles(page, ['Bravo'], 'only Bravo is still tagged work');

  // Cancel changes nothing.
  await menuChoose(page, 'Bravo', 'menu-tags');
  await page.getByTestId('tag-input').fill('never saved');
  await page.getByTestId('tags-cancel').click();
  await dialog.waitFor({ state: 'detached' });
  assertEqual((await user.api.ok('GET', `/api/v1/chat-threads/${bravo.id}`)).tags, ['work'], 'cancel keeps the tags');
});

test('organize: the thread list pages with X-Next-Cursor and a Load more button', async (t) => {
  const user = await newUser(t.base, { prefix: 'cursor' });
  const N = 45;
  for (let i = 1; i <= N; i += 1) {
    await user.api.ok('POST', '/api/v1/chat-threads', { title: `Page thread ${String(i).padStart(2, '0')}` });
  }
  const first = await user.api.req('GET', '/api/v1/chat-threads?limit=30');
  assert(first.headers.get('x-next-cursor'), 'the server sends X-Next-Cursor');
  const page = await t.newPage({ viewport: { width: 1280, height: 3000 } });
  const urls = [];
  page.on('request', (r) => { if (/\/api\/v1\/chat-threads\?/.test(r.url())) urls.push(r.url()); });
  await openAs(page, t.base, user);
  // A tall window: scrolling alone may not be needed; the list fills or offers Load more.
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=thread-item]').length === n
    || document.querySelector('[data-testid=thread-list-more]'), N);
  if (await page.getByTestId('thread-list-more').count()) await page.getByTestId('thread-list-more').click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=thread-item]').length === n, N);
  const titles = await sidebarTitles(page);
  assertEqual(titles, Array.from({ length: N }, (_, i) => `Page thread ${String(N - i).padStart(2, '0')}`), 'every thread once, newest first');
  assert(urls.some((u) => /[?&]cursor=/.test(u)) && !urls.some((u) => /offset=/.test(u)), `pages by cursor, not offset (${urls.join(', ')})`);
  assert((await page.getByTestId('thread-list-status').textContent()).includes(`${N} threads`), 'the end is reported');
});
