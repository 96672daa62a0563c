// Message edits (issue 13): on the open thread, Regenerate on the last reply replaces it;
// Edit of a reply saves it in place; Edit of a user message saves it, drops what followed and
// asks for a new reply (as ChatGPT does); Cancel changes nothing; Fork from a message opens a
// new thread holding the messages up to it; a member of a shared thread sees Fork only, and
// its fork is its own editable thread.
import { test, assert, assertEqual, eventually, newUser, openAs } from '../harness.mjs';

const MSG = '[data-testid=message]';

async function settled(page, count) {
  await page.waitForFunction((n) => {
    const all = document.querySelectorAll('[data-testid=message]');
    return all.length === n && !document.querySelector('[data-testid=message][data-state=streaming]')
      && all[n - 1].querySelector('[data-testid=message-actions]');
  }, count, { timeout: 30_000 });
}

function contentsOf(thread) {
  return thread.messages.map((m) => [m.role, m.content]);
}

test('14-edit: regenerate, edit a reply, edit-and-resend, cancel, fork from a message', async (t) => {
  const user = await newUser(t.base, { prefix: 'edit' });
  const src = await user.api.ok('POST', '/api/v1/chat-threads', {
    title: 'Trip',
    messages: [
      { role: 'user', content: 'Plan a trip' }, { role: 'assistant', content: 'Go to Porto' },
      { role: 'user', content: 'What about food?' }, { role: 'assistant', content: 'Try bacalhau' },
    ],
  });
  const path = `/api/v1/chat-threads/${src.id}`;
  const page = await t.newPage();
  await openAs(page, t.base, user, `#/assistant/${src.id}`);
  await settled(page, 4);
  const bubbles = page.locator(MSG);
  assertEqual(await page.getByTestId('regenerate').count(), 1, 'Regenerate only on the last reply');
  assertEqual(await bubbles.nth(3).getByTestId('regenerate').count(), 1, 'the last bubble has it');
  assertEqual(await page.getByTestId('edit-message').count(), 4, 'every message can be edited');
  assertEqual(await page.getByTestId('fork-message').count(), 4, 'and forked from');

  // Regenerate: the last reply is replaced, nothing else moves.
  await bubbles.nth(3).getByTestId('regenerate').click();
  await eventually(async () => {
    const js = await user.api.ok('GET', path);
    return js.messages.length === 4 && js.messages[3].content !== 'Try bacalhau';
  }, 'a new last reply');
  await settled(page, 4);
  let stored = await user.api.ok('GET', path);
  assertEqual(contentsOf(stored).slice(0, 3), [['user', 'Plan a trip'], ['assistant', 'Go to Porto'], ['user', 'What about food?']], 'the rest is kept');
  assertEqual(stored.messages[3].role, 'assistant', 'a new reply');

  // Edit a reply: saved in place, no new reply.
  await bubbles.nth(1).getByTestId('edit-message').click();
  await page.getByTestId('edit-input').fill('Go to Lisbon');
  await page.getByTestId('edit-save').click();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=message-body]')].some((b) => b.textContent.includes('Go to Lisbon')), null, { timeout: 10_000 });
  await settled(page, 4);
  stored = await user.api.ok('GET', path);
  assertEqual(stored.messages[1], { role: 'assistant', content: 'Go to Lisbon' }, 'the reply is edited');
  assertEqual(stored.messages.length, 4, 'nothing else changed');

  // Cancel: nothing is saved.
  await bubbles.nth(0).getByTestId('edit-message').click();
  await page.getByTestId('edit-input').fill('never saved');
  await page.getByTestId('edit-cancel').click();
  assertEqual(await page.getByTestId('message-editor').count(), 0, 'the editor is gone');
  assertEqual((await user.api.ok('GET', path)).messages[0].content, 'Plan a trip', 'cancel saved nothing');

  // Edit a user message: saved, what followed it goes, a new reply comes.
  const before = (await user.api.ok('GET', path)).messages[3].content;
  await bubbles.nth(2).getByTestId('edit-message').click();
  await page.getByTestId('edit-input').fill('What about museums?');
  await page.getByTestId('edit-save').click();
  // (the old reply must be gone: between the edit and the truncation the server briefly holds
  // the edited message followed by the old reply, 4 messages as well)
  await eventually(async () => {
    const js = await user.api.ok('GET', path);
    return js.messages.length === 4 && js.messages[2].content === 'What about museums?' && js.messages[3].role === 'assistant'
      && js.messages[3].content !== before;
  }, 'the edited message and a new reply');
  await settled(page, 4);
  stored = await user.api.ok('GET', path);
  assertEqual(contentsOf(stored).slice(0, 3), [['user', 'Plan a trip'], ['assistant', 'Go to Lisbon'], ['user', 'What about museums?']], 'edited and resent');
  assert(stored.messages[3].content !== before || before.includes('museums'), 'the reply answers the edited message');
  assertEqual(await bubbles.nth(2).getByTestId('message-body').textContent(), 'What about museums?', 'the page shows it');

  // Fork from the second message: a new thread with messages 0..1, opened at once.
  await bubbles.nth(1).getByTestId('fork-message').click();
  await page.waitForFunction((id) => /#\/assistant\/\d+$/.test(location.hash) && !location.hash.endsWith(`/${id}`), src.id, { timeout: 10_000 });
  const forkId = Number((await page.evaluate(() => location.hash)).split('/').pop());
  await settled(page, 2);
  assertEqual(await page.getByTestId('thread-title').textContent(), 'Trip', 'the source title');
  const fork = await user.api.ok('GET', `/api/v1/chat-threads/${forkId}`);
  assertEqual(contentsOf(fork), [['user', 'Plan a trip'], ['assistant', 'Go to Lisbon']], 'messages 0..1');
  assertEqual((await user.api.ok('GET', path)).messages.length, 4, 'the source is untouched');
  const ids = await page.getByTestId('thread-item').evaluateAll((els) => els.map((e) => Number(e.dataset.id)));
  assert(ids.includes(forkId), 'the fork is in the sidebar');
});

test('14-edit: a member of a shared thread sees Fork only, and its fork is its own', async (t) => {
  const owner = await newUser(t.base, { prefix: 'editowner', displayName: 'Olive' });
  const member = await newUser(t.base, { prefix: 'editmember' });
  const src = await owner.api.ok('POST', '/api/v1/chat-threads', {
    title: 'Shared trip',
    messages: [{ role: 'user', content: 'Where to?' }, { role: 'assistant', content: 'Madeira' }],
  });
  await owner.api.ok('POST', `/api/v1/chat-threads/${src.id}/members`, { email: member.email });
  const page = await t.newPage();
  await openAs(page, t.base, member, `#/assistant/${src.id}`);
  await page.getByTestId('shared-note').filter({ visible: true }).waitFor();
  await settled(page, 2);
  assertEqual(await page.getByTestId('edit-message').count(), 0, 'no Edit on a shared thread');
  assertEqual(await page.getByTestId('regenerate').count(), 0, 'no Regenerate on a shared thread');
  assertEqual(await page.getByTestId('fork-message').count(), 2, 'Fork is offered');
  await page.locator(MSG).nth(1).getByTestId('fork-message').click();
  await page.waitForFunction((id) => /#\/assistant\/\d+$/.test(location.hash) && !location.hash.endsWith(`/${id}`), src.id, { timeout: 10_000 });
  await settled(page, 2);
  assert(await page.getByTestId('shared-note').isHidden(), 'the fork is not read-only');
  assertEqual(await page.getByTestId('edit-message').count(), 2, 'the member edits its own copy');
  const forkId = Number((await page.evaluate(() => location.hash)).split('/').pop());
  const fork = await member.api.ok('GET', `/api/v1/chat-threads/${forkId}`);
  assertEqual(fork.user_id, member.user.id, 'the fork is the member\'s');
  assertEqual(fork.messages.length, 2, 'with both messages');
});
