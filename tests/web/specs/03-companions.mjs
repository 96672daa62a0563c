// The Companions view: characters, starting chats with scene and persona, the sidebar of
// the 30 newest chats, rename, delete.
import { randomUUID } from 'node:crypto';
import { test, assert, assertEqual, newUser, openAs } from '../harness.mjs';

async function waitChatReply(page, count) {
  await page.waitForFunction((n) => {
    const all = document.querySelectorAll('[data-testid=message][data-role=assistant]');
    return all.length >= n && !document.querySelector('[data-testid=message][data-state=streaming]');
  }, count, { timeout: 30_000 });
}

test('companions: create a character, chat with a scene and a new persona, rename, delete', async (t) => {
  const user = await newUser(t.base, { prefix: 'companion' });
  const scene = await user.api.ok('POST', '/api/scenes', { name: 'Moon base', description: 'A quiet lunar outpost.' });
  const page = await t.newPage();
  await openAs(page, t.base, user, '#/companions');
  await page.getByTestId('companions-home-view').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid=all-characters]')?.getAttribute('aria-busy') === 'false');

  // Create a character through the form, with a built-in picture.
  const form = page.getByTestId('create-character-form');
  await form.getByTestId('character-name-input').fill('Captain Vega');
  await form.getByTestId('character-description-input').fill('A retired starship captain who loves a good story.');
  await form.getByTestId('character-greeting-input').fill('Welcome aboard, cadet.');
  await form.getByText('Astronaut').click();
  await form.getByTestId('create-character-submit').click();
  await page.getByTestId('start-view').waitFor();
  assertEqual(await page.getByTestId('start-character-name').textContent(), 'Captain Vega', 'the start view shows the new character');
  const characters = await user.api.ok('GET', '/api/characters');
  const vega = (Array.isArray(characters) ? characters : characters.items).find((c) => c.name === 'Captain Vega');
  assert(vega, 'the character is stored');
  assertEqual(vega.picture, 'avatars/astronaut.svg', 'the chosen picture is stored');

  // Pick the scene, create a persona inline, send the first message.
  await page.waitForFunction((name) => [...document.querySelectorAll('[data-testid=scene-select] option')].some((o) => o.textContent === name), scene.name);
  await page.getByTestId('scene-select').selectOption({ label: 'Moon base' });
  await page.getByTestId('persona-new').locator('summary').click();
  await page.getByTestId('persona-name-input').fill('Cadet Kim');
  await page.getByTestId('persona-description-input').fill('A nervous first-year cadet.');
  await page.getByTestId('persona-create').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=persona-select] option:checked')?.textContent === 'Cadet Kim');
  await page.getByTestId('first-message').fill('Tell me about your first mission');
  await page.getByTestId('start-chat-submit').click();
  await page.getByTestId('companion-chat').waitFor();
  await waitChatReply(page, 1);
  assert(await page.getByTestId('stored-marker').isVisible(), 'Stored in database marker');

  const history = await user.api.ok('GET', '/api/chat-history?page=1&limit=30');
  assertEqual(history.items.length, 1, 'one chat stored');
  const entry = history.items[0];
  assertEqual([entry.character_name, entry.scene_name, entry.character_picture], ['Captain Vega', 'Moon base', 'avatars/astronaut.svg'], 'names copied into the entry');
  assert(entry.persona_id, 'the persona is attached');
  assertEqual(entry.messages.map((m) => m.role), ['user', 'assistant'], 'stored messages');
  assert(page.url().endsWith(`#/companions/${entry.chat_id}`), 'the address names the chat');
  assert((await page.getByTestId('chat-character').textContent()).includes('Moon base'), 'the scene is shown');

  // The sidebar: picture, character name, title.
  const item = page.getByTestId('chat-item').first();
  assertEqual(await item.getByTestId('chat-item-name').textContent(), 'Captain Vega', 'sidebar character name');
  assertEqual(await item.getByTestId('chat-item-title').textContent(), entry.title, 'sidebar title');
  assert((await item.locator('img').getAttribute('src')).endsWith('avatars/astronaut.svg'), 'sidebar picture');

  // Another message in the same chat.
  await page.getByTestId('composer').fill('And then?');
  await page.keyboard.press('Enter');
  await waitChatReply(page, 2);
  await t.shot(page, 'companion-chat');

  // Recommended excludes characters already chatted with.
  await page.getByTestId('companions-home').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=recommended]')?.getAttribute('aria-busy') === 'false');
  const recommended = await page.getByTestId('recommended').getByTestId('character-name').allTextContents();
  assert(!recommended.includes('Captain Vega'), `recommended leaves out Captain Vega (${recommended.join(', ')})`);
  await t.shot(page, 'companions');

  // Rename, then delete with confirmation.
  await page.getByTestId('chat-item').first().click();
  await page.getByTestId('companion-chat').waitFor();
  await page.getByTestId('rename-chat').click();
  await page.getByTestId('rename-chat-input').fill('Vega stories');
  await page.getByTestId('rename-chat-input').press('Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid=chat-item-title]')?.textContent === 'Vega stories');
  assertEqual(await page.getByTestId('chat-title').textContent(), 'Vega stories', 'header follows the rename');
  assertEqual((await user.api.ok('GET', '/api/chat-history?page=1&limit=30')).items[0].title, 'Vega stories', 'rename stored');

  await page.getByTestId('delete-chat').click();
  await page.getByTestId('confirm-ok').click();
  await page.getByTestId('companions-home-view').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=chat-item]').length === 0);
  assertEqual((await user.api.ok('GET', '/api/chat-history?page=1&limit=30')).items.length, 0, 'deleted in the database');
});

test('companions: the 31st chat makes the oldest disappear from the sidebar', async (t) => {
  const user = await newUser(t.base, { prefix: 'retention' });
  const character = await user.api.ok('POST', '/api/characters', { name: 'Archivist', description: 'Keeps only thirty scrolls.', picture: 'avatars/owl.svg' });
  const ids = [];
  for (let i = 1; i <= 30; i += 1) {
    const chatId = randomUUID();
    ids.push(chatId);
    await user.api.ok('POST', '/api/chat', { chat_id: chatId, character_id: character.id, message: `scroll number ${i}` });
  }
  const page = await t.newPage();
  await openAs(page, t.base, user, '#/companions');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=chat-item]').length === 30);
  const before = await page.getByTestId('chat-item').evaluateAll((els) => els.map((e) => e.dataset.chatId));
  assertEqual(before, [...ids].reverse(), '30 chats, newest first');

  // The 31st, through the page.
  await page.waitForFunction(() => document.querySelector('[data-testid=all-characters]')?.getAttribute('aria-busy') === 'false');
  await page.getByTestId('all-characters').getByTestId('character-card').filter({ hasText: 'Archivist' }).getByTestId('start-chat').click();
  await page.getByTestId('first-message').fill('scroll number 31');
  await page.getByTestId('start-chat-submit').click();
  await waitChatReply(page, 1);
  await page.waitForFunction((oldest) => !document.querySelector(`[data-testid=chat-item][data-chat-id="${oldest}"]`), ids[0]);
  const after = await page.getByTestId('chat-item').evaluateAll((els) => els.map((e) => e.dataset.chatId));
  assertEqual(after.length, 30, 'still 30 chats in the sidebar');
  assert(!after.includes(ids[0]), 'the oldest chat is gone');
  assertEqual(after.slice(1), [...ids].reverse().slice(0, 29), 'the other 29 stay, newest first');
  const newest = (await user.api.ok('GET', '/api/chat-history?page=1&limit=30')).items[0];
  assertEqual(after[0], newest.chat_id, 'the new chat is first');
  assertEqual((await user.api.ok('GET', '/api/chat-history?page=1&limit=50')).total, 30, 'the database keeps 30');
});
