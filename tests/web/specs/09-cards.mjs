// Character card import (issue 12): the companions view's "Import card…" button takes a
// SillyTavern card through the file picker; the new character opens with its name and the
// card's picture, served by chatvault (GET /api/pictures/{token}). Uses the real card from
// ../shared/formats (skipped with a message when that folder is absent).
import fs from 'node:fs';
import path from 'node:path';
import { test, assert, assertEqual, newUser, openAs, ROOT } from '../harness.mjs';

const SERAPHINA = path.resolve(ROOT, '..', 'shared', 'formats', 'sillytavern', 'cards', 'default_Seraphina.png');

async function openCompanions(t, prefix) {
  const user = await newUser(t.base, { prefix });
  const page = await t.newPage();
  await openAs(page, t.base, user, '#/companions');
  await page.getByTestId('companions-home-view').waitFor();
  return { user, page };
}

test('cards: import the real Seraphina card through the file picker; name and picture show', async (t) => {
  if (!fs.existsSync(SERAPHINA)) {
    console.log(`  skipped: ${SERAPHINA} is absent (real cards are never copied into the repository)`);
    return;
  }
  const { user, page } = await openCompanions(t, 'card');
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.getByTestId('import-card-button').click(),
  ]);
  await chooser.setFiles(SERAPHINA);
  await page.getByTestId('start-view').waitFor();
  assertEqual(await page.getByTestId('start-character-name').textContent(), 'Seraphina', 'the start view shows the imported character');

  // The picture is the card's PNG, served by chatvault, and it really loads (no token in an <img>).
  const img = page.getByTestId('start-view').getByTestId('avatar').locator('img');
  await img.waitFor();
  const src = await img.getAttribute('src');
  assert(new URL(src).pathname.startsWith('/api/pictures/'), `picture served by chatvault: ${src}`);
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-testid=start-view] [data-testid=avatar] img');
    return el && el.complete && el.naturalWidth > 0;
  }, null, { timeout: 10_000 });
  const size = await img.evaluate((el) => [el.naturalWidth, el.naturalHeight]);
  assert(size[0] > 0 && size[1] > 0, `the picture decoded: ${size}`);
  const bytes = await (await fetch(new URL(src, t.base))).arrayBuffer();
  assert(Buffer.from(bytes).equals(fs.readFileSync(SERAPHINA)), 'the served picture is the card file');

  // Stored for everyone (the catalog is shared), the importer its creator.
  const list = await user.api.ok('GET', '/api/characters?limit=200');
  const stored = (Array.isArray(list) ? list : list.items).find((c) => c.name === 'Seraphina');
  assert(stored && stored.picture === new URL(src).pathname, 'the character is stored with its picture URL');
  assert(stored.greeting.startsWith('*You wake with a start'), 'greeting = first_mes');

  // Back home, the card in the list shows the same picture.
  await page.getByTestId('back-home').click();
  await page.waitForFunction((want) => [...document.querySelectorAll('[data-testid=all-characters] [data-testid=character-card]')]
    .some((c) => c.querySelector('[data-testid=character-name]')?.textContent === 'Seraphina'
      && c.querySelector('img')?.getAttribute('src') === want), src, { timeout: 10_000 });
});

test('cards: a file that is not a card shows why, and nothing is created', async (t) => {
  const { user, page } = await openCompanions(t, 'badcard');
  const before = await user.api.req('GET', '/api/characters?limit=1');
  await page.getByTestId('import-card-input').setInputFiles({
    name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('\x89PNG\r\n\x1a\n-truncated-', 'latin1'),
  });
  const status = page.getByTestId('import-card-status');
  await page.waitForFunction(() => /Could not import/.test(document.querySelector('[data-testid=import-card-status]')?.textContent || ''));
  assert(/notes\.png/.test(await status.textContent()), 'the message names the file');
  assert(/PNG/.test(await status.textContent()), `the message says why: ${await status.textContent()}`);
  const after = await user.api.req('GET', '/api/characters?limit=1');
  assertEqual(after.headers.get('X-Total-Count'), before.headers.get('X-Total-Count'), 'no character was created');
  assert(await page.getByTestId('companions-home-view').isVisible(), 'still on the home view');
});
