// Share links (issue 13): the owner makes a link in the "Share link" dialog (with an expiry),
// sees it once with a Copy button; a second browser context with no account opens it and
// reads the conversation (rendered as text, the page not indexed); later changes of the thread
// do not reach it; the owner revokes it in the dialog and the link shows "not found".
import { test, assert, assertEqual, newUser, openAs } from '../harness.mjs';

test('share links: create with expiry, open without an account (noindex), revoke, not found', async (t) => {
  const owner = await newUser(t.base, { prefix: 'linkowner', displayName: 'Lena Link' });
  const thread = await owner.api.ok('POST', '/api/v1/chat-threads', {
    title: 'Recipe <b>ideas</b>',
    messages: [
      { role: 'user', content: 'What can I cook with <img src=x onerror=alert(1)> leeks?' },
      { role: 'assistant', content: 'Leek and potato soup.' },
    ],
  });

  const op = await t.newPage();
  await openAs(op, t.base, owner, `#/assistant/${thread.id}`);
  await op.getByTestId('share-link-thread').waitFor();
  await op.getByTestId('share-link-thread').click();
  const dialog = op.getByTestId('share-link-dialog');
  await dialog.waitFor();
  await op.getByTestId('share-links-none').waitFor();
  await op.getByTestId('share-link-expiry').selectOption('7d');
  await op.getByTestId('share-link-create').click();
  await op.getByTestId('share-link-new').filter({ visible: true }).waitFor();
  const url = await op.getByTestId('share-link-url').inputValue();
  await t.shot(op, 'share-link-dialog');
  assert(url.startsWith(`${t.base}/s/`) && /\/s\/[A-Za-z0-9_-]{43}$/.test(url), `an absolute link: ${url}`);
  assertEqual(await op.getByTestId('share-link').count(), 1, 'the new link is listed');
  assert(/expires/.test(await op.getByTestId('share-link').textContent()), 'with its expiry');
  const stored = await owner.api.ok('GET', '/api/v1/shares');
  assertEqual(stored.length, 1, 'one link stored');
  assert(stored[0].expires_at && Date.parse(stored[0].expires_at) - Date.now() > 6.9 * 86400e3, '7 days');
  await op.getByTestId('share-link-close').click();
  await dialog.waitFor({ state: 'hidden' });

  // Changes after the link was made are not in it.
  await owner.api.ok('POST', `/api/v1/chat-threads/${thread.id}/messages`, { role: 'user', content: 'LATER MESSAGE' });

  // Someone with no account opens it.
  const vp = await t.newPage();
  const res = await vp.goto(url);
  assertEqual(res.status(), 200, 'the page of a live link');
  assertEqual(res.headers()['x-robots-tag'], 'noindex', 'X-Robots-Tag');
  await vp.getByTestId('shared-messages').waitFor();
  assertEqual(await vp.getByTestId('shared-title').textContent(), 'Recipe <b>ideas</b>', 'the title as text');
  assertEqual(await vp.locator('meta[name=robots]').getAttribute('content'), 'noindex, nofollow', 'robots meta');
  assertEqual(await vp.getByTestId('message').count(), 2, 'the two messages of the snapshot');
  await vp.getByText('Leek and potato soup.').waitFor();
  assert((await vp.getByTestId('message').first().textContent()).includes('<img src=x onerror=alert(1)>'), 'markup shown as text');
  assertEqual(await vp.locator('img[src=x]').count(), 0, 'no element made from the content');
  assertEqual(await vp.getByText('LATER MESSAGE').count(), 0, 'a snapshot');
  assertEqual(await vp.evaluate(() => localStorage.length), 0, 'no account, nothing stored');
  await t.shot(vp, 'share-link-page');

  // The owner revokes it.
  await op.getByTestId('share-link-thread').click();
  await dialog.waitFor();
  await op.getByTestId('share-link').waitFor();
  assert(await op.getByTestId('share-link-new').isHidden(), 'the token is not shown again');
  await op.getByTestId('share-link-revoke').click();
  await op.getByTestId('share-links-none').waitFor();
  await op.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assertEqual(await owner.api.ok('GET', '/api/v1/shares'), [], 'no links stored');

  const gone = await vp.goto(url);
  assertEqual(gone.status(), 404, 'a revoked link');
  await vp.getByTestId('shared-not-found').waitFor();
  assertEqual(await vp.getByTestId('message').count(), 0, 'nothing of the thread');
});
