// Sharing with other accounts (issue 16): the owner shares a thread by email in the
// "Share with…" dialog; the member (a second browser context) finds it under "Shared with me"
// with the owner's name, opens it read-only (no composer, rename, delete or share), sees what
// the owner appended after a reload; the owner removes the member and the thread is gone.
import { test, assert, assertEqual, newUser, openAs } from '../harness.mjs';

async function waitSharedTitles(page, expected, message) {
  try {
    await page.waitForFunction((want) => {
      const got = [...document.querySelectorAll('[data-testid=shared-item-title]')].map((e) => e.textContent);
      return JSON.stringify(got) === JSON.stringify(want);
    }, expected, { timeout: 10_000 });
  } catch {
    assertEqual(await page.getByTestId('shared-item-title').allTextContents(), expected, message);
  }
}

test('share: owner shares by email, member reads it read-only, sees appends after reload, removal hides it', async (t) => {
  const owner = await newUser(t.base, { prefix: 'owner', displayName: 'Olive Owner' });
  const member = await newUser(t.base, { prefix: 'member', displayName: 'Max Member' });
  const thread = await owner.api.ok('POST', '/api/v1/chat-threads', {
    title: 'Trip plans',
    messages: [{ role: 'user', content: 'Where should we go?' }, { role: 'assistant', content: 'Lisbon in May.' }],
  });
  const own = await member.api.ok('POST', '/api/v1/chat-threads', { title: 'My own notes' });

  // The owner shares it from the page.
  const op = await t.newPage();
  await openAs(op, t.base, owner, `#/assistant/${thread.id}`);
  await op.getByTestId('share-thread').waitFor();
  await op.getByTestId('share-thread').click();
  const dialog = op.getByTestId('share-dialog');
  await dialog.waitFor();
  await op.getByTestId('share-none').waitFor();
  // an unknown email: one answer for every account that cannot be shared with
  await op.getByLabel('Email of the account to share with').fill('nobody-here@example.com');
  await op.getByTestId('share-add').click();
  await op.getByTestId('share-error').filter({ visible: true }).waitFor();
  assert(/No account/.test(await op.getByTestId('share-error').textContent()), 'the unknown email is reported');
  await op.getByTestId('share-email').fill(member.email);
  await op.keyboard.press('Enter');
  await op.getByTestId('share-member').waitFor();
  assertEqual(await op.getByTestId('share-member-name').allTextContents(), [`Max Member (${member.email})`], 'the member is listed');
  assert(await op.getByTestId('share-error').isHidden(), 'the error is gone');
  const stored = await owner.api.ok('GET', `/api/v1/chat-threads/${thread.id}/members`);
  assertEqual(stored.map((m) => m.user_id), [member.user.id], 'stored as a member');
  await op.getByTestId('share-close').click();
  await dialog.waitFor({ state: 'hidden' });

  // The member finds it under "Shared with me", with the owner's name, apart from its own list.
  const mp = await t.newPage();
  await openAs(mp, t.base, member);
  await mp.getByTestId('shared-group').waitFor();
  await waitSharedTitles(mp, ['Trip plans'], 'the shared thread is listed');
  assertEqual(await mp.getByTestId('shared-item-owner').allTextContents(), ['by Olive Owner'], 'with its owner');
  await mp.getByTestId('thread-item-title').first().waitFor();
  assertEqual(await mp.getByTestId('thread-item-title').allTextContents(), ['My own notes'], 'the own list does not hold it');

  // Read-only view.
  await mp.getByTestId('shared-item').click();
  await mp.getByTestId('shared-note').filter({ visible: true }).waitFor();
  assertEqual(await mp.getByTestId('shared-note').textContent(), 'Shared with you by Olive Owner · read-only', 'the owner is named');
  assertEqual(await mp.getByTestId('thread-title').textContent(), 'Trip plans', 'its title');
  await mp.getByTestId('messages').getByText('Lisbon in May.').waitFor();
  assert(await mp.getByTestId('composer-form').isHidden(), 'no composer');
  assert(await mp.getByTestId('rename-thread').isHidden(), 'no rename');
  assert(await mp.getByTestId('delete-thread').isHidden(), 'no delete');
  assert(await mp.getByTestId('share-thread').isHidden(), 'no share');
  assertEqual(await mp.getByTestId('shared-item').getAttribute('aria-current'), 'true', 'marked as open');
  await mp.getByTestId('thread-title').dblclick();
  assert(await mp.getByTestId('rename-input').count() === 0, 'a double click does not rename');

  // The owner appends (through the API); the member sees it after a reload.
  await owner.api.ok('POST', `/api/v1/chat-threads/${thread.id}/messages`, { role: 'user', content: 'And in June?' });
  await mp.reload();
  await mp.getByTestId('messages').getByText('And in June?').waitFor();
  assert(await mp.getByTestId('composer-form').isHidden(), 'still read-only after the reload');

  // Opening its own thread brings the composer back.
  await mp.getByTestId('thread-item').first().click();
  await mp.getByTestId('composer-form').filter({ visible: true }).waitFor();
  assert(await mp.getByTestId('shared-note').isHidden(), 'no read-only note on its own thread');
  assertEqual(await mp.getByTestId('thread-title').textContent(), own.title, 'its own thread');

  // The owner removes the member in the dialog: the thread leaves the member's page.
  await op.getByTestId('share-thread').click();
  await dialog.waitFor();
  await op.getByTestId('share-member').waitFor();
  await op.getByRole('button', { name: `Remove Max Member (${member.email})` }).click();
  await op.getByTestId('share-none').waitFor();
  await op.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assertEqual(await owner.api.ok('GET', `/api/v1/chat-threads/${thread.id}/members`), [], 'no members stored');

  await mp.reload();
  await mp.getByTestId('thread-item-title').first().waitFor();
  assert(await mp.getByTestId('shared-group').isHidden(), 'no "Shared with me" section any more');
  await mp.evaluate((id) => { window.location.hash = `#/assistant/${id}`; }, thread.id);
  await mp.getByTestId('error-banner').filter({ visible: true }).waitFor();
  assert(await mp.getByTestId('messages').getByText('Lisbon in May.').count() === 0, 'its messages are not shown');
});
