// Export (issue 12): per conversation "Export as Markdown" / "Export as JSON" in the thread
// view, and "Export everything" in the top bar; each download is fetched with the bearer
// token and saved under the server's Content-Disposition name. The downloads are captured
// and their contents checked against the API.
import fs from 'node:fs';
import { test, assert, assertEqual, newUser, openAs } from '../harness.mjs';

/** Click `locator` and return {name, text} of the download it starts. */
async function downloadOf(page, locator) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), locator.click()]);
  const file = await dl.path();
  return { name: dl.suggestedFilename(), text: fs.readFileSync(file, 'utf8') };
}

test('export: a thread as Markdown and as JSON from the thread view; everything from the top bar', async (t) => {
  const user = await newUser(t.base, { prefix: 'export' });
  const title = 'Trip to Café "Zürich" / 2026';
  const messages = [
    { role: 'user', content: 'Plan a **3-day** trip.\n\n- museums\n- food' },
    { role: 'assistant', content: 'Day 1: Kunsthaus 🎨\nDay 2: Üetliberg' },
  ];
  const th = await user.api.ok('POST', '/api/v1/chat-threads', { title, messages });
  const page = await t.newPage({ acceptDownloads: true });
  await openAs(page, t.base, user, `#/assistant/${th.id}`);
  await page.getByTestId('thread-title').filter({ hasText: 'Trip to' }).waitFor();

  const mdBtn = page.getByRole('button', { name: 'Export as Markdown', exact: true });
  const jsonBtn = page.getByRole('button', { name: 'Export as JSON', exact: true });
  assert(await mdBtn.isVisible() && await jsonBtn.isVisible(), 'both export buttons are shown for an open thread');

  const md = await downloadOf(page, mdBtn);
  // the UTF-8 name (filename*) is used, the slash replaced by the server; chromium itself
  // turns the quotes into '_' when it saves
  assert(/^Trip to Café .Zürich. _ 2026\.md$/.test(md.name), `the Markdown file is named after the title: ${md.name}`);
  assertEqual(md.text, `# ${title}\n\n## User\n\n${messages[0].content}\n\n## Assistant\n\n${messages[1].content}\n`, 'Markdown: title heading, speakers, contents as they are');

  const js = await downloadOf(page, jsonBtn);
  assert(js.name.endsWith('.json'), `a .json name: ${js.name}`);
  const stored = await user.api.ok('GET', `/api/v1/chat-threads/${th.id}`);
  assertEqual(JSON.parse(js.text), stored, 'the JSON file is the thread as GET answers it');

  const all = await downloadOf(page, page.getByTestId('export-all'));
  assert(/^chatvault-export-\d{4}-\d{2}-\d{2}\.json$/.test(all.name), `export file name: ${all.name}`);
  const doc = JSON.parse(all.text);
  assertEqual(Object.keys(doc), ['format', 'version', 'exported_at', 'user', 'threads', 'chats', 'personas', 'characters'], 'the document keys, format first');
  assertEqual(doc.user.email, user.email, 'the signed-in user');
  assertEqual(doc.threads.length, 1, 'one thread');
  assertEqual(doc.threads[0].messages, messages, 'its messages');

  // a new draft has nothing to export
  await page.getByTestId('new-chat').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=export-thread-md]').hidden);
  assert(await mdBtn.isHidden(), 'no export buttons without a thread');
});

test('export: a failed export shows the error and downloads nothing', async (t) => {
  const user = await newUser(t.base, { prefix: 'exportfail' });
  const th = await user.api.ok('POST', '/api/v1/chat-threads', { title: 'Soon gone', messages: [{ role: 'user', content: 'x' }] });
  const page = await t.newPage({ acceptDownloads: true });
  await page.route(/\/api\/v1\/events$/, (route) => route.abort()); // no live updates here: the deleted thread stays open
  await openAs(page, t.base, user, `#/assistant/${th.id}`);
  await page.getByTestId('thread-title').filter({ hasText: 'Soon gone' }).waitFor();
  await user.api.ok('DELETE', `/api/v1/chat-threads/${th.id}`);
  let downloaded = false;
  page.on('download', () => { downloaded = true; });
  await page.getByTestId('export-thread-md').click();
  const banner = page.getByTestId('error-banner');
  await banner.filter({ hasText: 'Could not export' }).waitFor({ timeout: 10_000 });
  assert((await banner.textContent()).includes('Thread not found'), 'the server\'s detail is shown');
  assert(!downloaded, 'no download');
});

test('export: a companion chat as Markdown and JSON from the chat view', async (t) => {
  const user = await newUser(t.base, { prefix: 'exportchat' });
  const persona = await user.api.ok('POST', '/api/personas', { name: 'Ada' });
  const ch = await user.api.ok('POST', '/api/characters', { name: 'Grace' });
  const sent = await user.api.ok('POST', '/api/chat', { character_id: ch.id, persona_id: persona.id, message: 'Hello Grace' });
  const page = await t.newPage({ acceptDownloads: true });
  await openAs(page, t.base, user, `#/companions/${sent.chat_id}`);
  await page.getByTestId('companion-chat').waitFor();
  const md = await downloadOf(page, page.getByTestId('export-chat-md'));
  assertEqual(md.name, `${sent.chat.title}.md`, 'named after the chat title');
  assertEqual(md.text, `# ${sent.chat.title}\n\n## Ada\n\nHello Grace\n\n## Grace\n\n${sent.reply}\n`, 'speakers: the persona and the character');
  const js = await downloadOf(page, page.getByTestId('export-chat-json'));
  const hist = await user.api.ok('GET', '/api/chat-history');
  assertEqual(JSON.parse(js.text), hist.items[0], 'the JSON file is the history entry');
});
