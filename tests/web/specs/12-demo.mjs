// Demo polish (issue 16): `serve --demo` seeds its characters with the page's built-in avatars
// (src/web/avatars/, served at /avatars/NAME.svg). Their earlier inline data:image/svg+xml
// pictures were refused by the page's raster-only picture filter (ui.js pictureSrc), so the
// page showed initials; here every demo character's <img> must really load (naturalWidth > 0),
// on the companions view's cards and on a character's start view.
import { test, assert, assertEqual, newUser, openAs, startServer } from '../harness.mjs';

const DEMO = ['Ada', 'Captain Mira', 'Professor Oak Leaf'];

test('demo: the demo characters show their built-in avatars, loaded', async (t) => {
  const server = await startServer({ args: ['--demo'] });
  t.onCleanup(() => server.stop());
  const user = await newUser(server.url, { prefix: 'demo-avatars' });

  // The API holds same-site avatar addresses for them.
  const list = await user.api.ok('GET', '/api/characters?limit=200');
  const items = Array.isArray(list) ? list : list.items;
  for (const name of DEMO) {
    const c = items.find((x) => x.name === name);
    assert(c, `demo character ${name} exists`);
    assert(/^\/avatars\/[a-z]+\.svg$/.test(c.picture), `${name}'s picture is a built-in avatar: ${c.picture}`);
  }

  const page = await t.newPage();
  await openAs(page, server.url, user, '#/companions');
  await page.getByTestId('companions-home-view').waitFor();
  const loaded = (names) => [...document.querySelectorAll('[data-testid=all-characters] [data-testid=character-card]')]
    .filter((card) => names.includes(card.querySelector('[data-testid=character-name]')?.textContent))
    .map((card) => {
      const img = card.querySelector('[data-testid=avatar] img');
      return { name: card.querySelector('[data-testid=character-name]').textContent,
        src: img ? img.getAttribute('src') : null,
        ok: !!img && img.complete && img.naturalWidth > 0,
        initials: card.querySelector('[data-testid=avatar]').classList.contains('avatar-initials') };
    });
  await page.waitForFunction((names) => {
    const cards = [...document.querySelectorAll('[data-testid=all-characters] [data-testid=character-card]')]
      .filter((card) => names.includes(card.querySelector('[data-testid=character-name]')?.textContent));
    return cards.length === names.length && cards.every((card) => {
      const img = card.querySelector('[data-testid=avatar] img');
      return img && img.complete && img.naturalWidth > 0;
    });
  }, DEMO, { timeout: 15_000 }).catch(async (e) => {
    throw new Error(`demo avatars did not load: ${JSON.stringify(await page.evaluate(loaded, DEMO))} (${e.message})`);
  });
  const seen = await page.evaluate(loaded, DEMO);
  assertEqual(seen.map((x) => x.name).sort(), [...DEMO].sort(), 'one card per demo character');
  for (const x of seen) {
    assert(x.ok && !x.initials, `${x.name}: the avatar image loaded, not initials (${x.src})`);
    assert(new URL(x.src, server.url).pathname.startsWith('/avatars/'), `${x.name}: served by the page: ${x.src}`);
  }

  // The start view of a demo character shows the same picture, loaded.
  const ada = page.getByTestId('all-characters').getByTestId('character-card').filter({ hasText: 'Ada' }).first();
  await ada.getByTestId('start-chat').click();
  await page.getByTestId('start-view').waitFor();
  await page.waitForFunction(() => {
    const img = document.querySelector('[data-testid=start-view] [data-testid=avatar] img');
    return img && img.complete && img.naturalWidth > 0;
  }, null, { timeout: 10_000 });
});

// Retention that archives (issue 16): with --history-overflow archive the companions home view
// lists the archived chats; Restore brings one back as the newest chat (it opens, and heads the
// sidebar) and the oldest kept chat moves to the archive.
test('demo: archived chats are listed on the companions home and restore', async (t) => {
  const server = await startServer({ args: ['--history-limit', '2', '--history-overflow', 'archive'] });
  t.onCleanup(() => server.stop());
  const user = await newUser(server.url, { prefix: 'archive' });
  const ids = [];
  for (const text of ['first chat', 'second chat', 'third chat']) {
    ids.push((await user.api.ok('POST', '/api/chat', { message: text })).chat_id);
  }
  const page = await t.newPage();
  await openAs(page, server.url, user, '#/companions');
  await page.getByTestId('companions-home-view').waitFor();
  const section = page.getByTestId('archived-section');
  await section.waitFor();
  await page.waitForFunction((id) => {
    const rows = [...document.querySelectorAll('[data-testid=archived-chat]')];
    return rows.length === 1 && rows[0].dataset.chatId === id;
  }, ids[0], { timeout: 10_000 });
  await page.getByTestId('archived-chat').getByTestId('restore-chat').click();
  await page.waitForFunction((id) => window.location.hash === `#/companions/${id}`, ids[0], { timeout: 10_000 });
  await page.waitForFunction((id) => document.querySelector('[data-testid=chat-list] [data-testid=chat-item]')?.dataset.chatId === id,
    ids[0], { timeout: 10_000 });
  const kept = await user.api.ok('GET', '/api/chat-history');
  assertEqual(kept.items.map((e) => e.chat_id), [ids[0], ids[2]], 'the restored chat is the newest kept');
  const arch = await user.api.ok('GET', '/api/chat-history/archived');
  assertEqual(arch.items.map((e) => e.chat_id), [ids[1]], 'the oldest kept chat moved to the archive');
  // Back home: the archive now lists the one that moved out.
  await page.getByTestId('companions-home').click();
  await page.waitForFunction((id) => {
    const rows = [...document.querySelectorAll('[data-testid=archived-chat]')];
    return rows.length === 1 && rows[0].dataset.chatId === id;
  }, ids[1], { timeout: 10_000 });
});

test('demo: without an archive the section stays hidden', async (t) => {
  const user = await newUser(t.base, { prefix: 'noarchive' });
  await user.api.ok('POST', '/api/chat', { message: 'only chat' });
  const page = await t.newPage();
  await openAs(page, t.base, user, '#/companions');
  await page.getByTestId('companions-home-view').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=all-characters] [data-testid=character-card], [data-testid=all-characters] .muted').length > 0);
  await page.waitForTimeout(300);
  assert(await page.getByTestId('archived-section').isHidden(), 'no archived chats: no section');
});
