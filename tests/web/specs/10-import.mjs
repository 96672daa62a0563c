// File import (issue 12): the top bar's "Import…" opens a dialog with a file picker and a drop
// zone (a file dropped anywhere on the window opens it too); the file goes to POST
// /api/v1/import and the dialog shows the detected format, the counts and the skipped parts
// with their reasons; the imported conversations appear in the lists. Uses the real exports in
// ../shared/formats (skipped with a message when that folder is absent; never copied here).
import fs from 'node:fs';
import path from 'node:path';
import { test, assert, assertEqual, newUser, openAs, ROOT } from '../harness.mjs';

const FORMATS = path.resolve(ROOT, '..', 'shared', 'formats');
const CHATGPT = path.join(FORMATS, 'chatgpt', 'librechat_chatgpt-export.json');
const CLAUDE = path.join(FORMATS, 'claude', 'echomine_tool_messages.json');
const AQUA = path.join(FORMATS, 'sillytavern', 'chats', 'Aqua_1673181146000.jsonl');

function absent(...files) {
  const missing = files.filter((f) => !fs.existsSync(f));
  if (missing.length) console.log(`  skipped: ${missing.join(', ')} absent (real exports are never copied into the repository)`);
  return missing.length > 0;
}

async function openImport(page) {
  await page.getByTestId('file-import-button').click();
  await page.getByTestId('file-import-dialog').waitFor();
}

async function waitDone(page) {
  await page.waitForFunction(() => {
    const s = document.querySelector('[data-testid=file-import-dialog]')?.dataset.state;
    return s === 'done' || s === 'failed';
  }, null, { timeout: 20_000 });
  return page.getByTestId('file-import-dialog').getAttribute('data-state');
}

/** The result panel's numbers (from its data attributes) and the visible format. */
async function resultOf(page) {
  const r = page.getByTestId('file-import-result');
  return {
    format: await r.getAttribute('data-format'),
    imported: Number(await r.getAttribute('data-imported')),
    existing: Number(await r.getAttribute('data-existing')),
    errors: Number(await r.getAttribute('data-errors')),
    formatText: await page.getByTestId('file-import-format').textContent(),
    importedText: await page.getByTestId('file-import-imported').textContent(),
    existingText: await page.getByTestId('file-import-existing').textContent(),
  };
}

async function choose(page, file) {
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByTestId('file-import-choose').click()]);
  await chooser.setFiles(file);
}

/** A DataTransfer (made in the page) holding `file`, as a real drag from the desktop has. */
async function dataTransferOf(page, file, type = 'application/json') {
  return page.evaluateHandle(({ b64, name, mime }) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], name, { type: mime }));
    return dt;
  }, { b64: fs.readFileSync(file).toString('base64'), name: path.basename(file), mime: type });
}

async function sidebarTitles(page) {
  return page.getByTestId('thread-item-title').allTextContents();
}

test('import: a ChatGPT export through the file picker; the threads appear and open; again: already there', async (t) => {
  if (absent(CHATGPT)) return;
  const user = await newUser(t.base, { prefix: 'import' });
  const page = await t.newPage();
  await openAs(page, t.base, user);
  await page.getByTestId('thread-list-status').filter({ hasText: 'No threads yet' }).waitFor();

  // A real button; the dialog takes the focus and Escape closes it, giving the focus back.
  const opener = page.getByRole('button', { name: 'Import…', exact: true });
  await opener.click();
  const dialog = page.getByTestId('file-import-dialog');
  await dialog.waitFor();
  assertEqual(await page.evaluate(() => document.activeElement?.dataset.testid), 'file-import-choose', 'the dialog focuses its file button');
  assert(await page.getByLabel('File to import').count() === 1, 'the file input is labelled');
  assert(await page.getByLabel('Format').count() === 1, 'the format choice is labelled');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assertEqual(await page.evaluate(() => document.activeElement?.dataset.testid), 'file-import-button', 'the focus is back on Import…');

  // Keyboard: Enter opens it again; the file picker takes the real export.
  await page.keyboard.press('Enter');
  await dialog.waitFor();
  await choose(page, CHATGPT);
  assertEqual(await waitDone(page), 'done', 'the import finished');
  const r1 = await resultOf(page);
  assertEqual([r1.format, r1.formatText, r1.imported, r1.existing], ['chatgpt', 'ChatGPT', 2, 0], 'format chatgpt, 2 imported');
  assertEqual([r1.importedText, r1.existingText], ['2', '0'], 'the counts are shown');
  assert(r1.errors > 0, 'system messages and tool calls are reported as skipped parts');
  const reasons = await page.getByTestId('file-import-reason').allTextContents();
  assertEqual(reasons.length, r1.errors, 'every skipped part is listed (fewer than the cap)');
  assert(reasons.some((x) => /tool call \(browser\) skipped/.test(x)), `the reasons say what was skipped: ${reasons.slice(0, 3)}`);

  // The sidebar list refreshed behind the dialog.
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=thread-item-title]').length === 2);
  assertEqual((await sidebarTitles(page)).sort(), ['Conversation 1. Web Search', 'Conversation 2'], 'both threads are listed');
  const stored = await user.api.ok('GET', '/api/v1/chat-threads?limit=10');
  assertEqual(stored.length, 2, 'two threads stored');

  // Open the first one from the result: the dialog closes and its messages show.
  const first = page.getByTestId('file-import-open-first');
  const id = await first.getAttribute('data-id');
  await first.click();
  await dialog.waitFor({ state: 'hidden' });
  await page.waitForFunction((want) => window.location.hash === `#/assistant/${want}`, id);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=message]').length > 0);
  const thread = await user.api.ok('GET', `/api/v1/chat-threads/${id}`);
  assertEqual(await page.getByTestId('thread-title').textContent(), thread.title, 'the imported thread is open');
  assertEqual(await page.getByTestId('message').count(), thread.messages.length, 'with its messages');
  assert(thread.messages.length >= 2, 'a conversation');
  const firstText = thread.messages[0].content.split('\n')[0].slice(0, 40);
  assert((await page.getByTestId('message-body').first().textContent()).includes(firstText), `the first message shows: ${firstText}`);

  // The same file again: nothing new, both already there, the list unchanged.
  await openImport(page);
  assert(await page.getByTestId('file-import-result').isHidden(), 'a fresh dialog');
  await choose(page, CHATGPT);
  assertEqual(await waitDone(page), 'done', 'the second import finished');
  const r2 = await resultOf(page);
  assertEqual([r2.format, r2.imported, r2.existing], ['chatgpt', 0, 2], '0 imported, 2 already there');
  assert(/already there/.test(await page.getByTestId('file-import-summary').textContent()), 'the summary says so');
  assertEqual((await user.api.ok('GET', '/api/v1/chat-threads?limit=10')).length, 2, 'still two threads');
  await page.getByTestId('file-import-close').click();
  await dialog.waitFor({ state: 'hidden' });
  assertEqual((await sidebarTitles(page)).length, 2, 'the sidebar still lists two');
});

test('import: a Claude export dropped on the panel lists the skipped tool blocks', async (t) => {
  if (absent(CLAUDE)) return;
  const user = await newUser(t.base, { prefix: 'importdrop' });
  const page = await t.newPage();
  await openAs(page, t.base, user);
  await openImport(page);
  const dt = await dataTransferOf(page, CLAUDE);
  const zone = '[data-testid=file-import-drop]';
  await page.dispatchEvent(zone, 'dragenter', { dataTransfer: dt });
  await page.dispatchEvent(zone, 'dragover', { dataTransfer: dt });
  assert(await page.locator(zone).evaluate((el) => el.classList.contains('is-over')), 'the drop zone shows the drag');
  await page.dispatchEvent(zone, 'drop', { dataTransfer: dt });
  assertEqual(await waitDone(page), 'done', 'the dropped file was imported');
  assert(!(await page.locator(zone).evaluate((el) => el.classList.contains('is-over'))), 'the drag highlight is gone');
  const r = await resultOf(page);
  assertEqual([r.format, r.formatText, r.imported], ['claude', 'Claude', 4], 'format claude, 4 conversations');
  assertEqual(r.errors, 16, 'errors_total');
  const items = page.getByTestId('file-import-reason');
  assertEqual(await items.count(), 16, 'every reason listed');
  const texts = await items.allTextContents();
  assert(texts.every((x) => /tool (call|result)/.test(x)), `the reasons are tool blocks: ${texts.slice(0, 3)}`);
  assert(texts[0].includes('tool-conv-001') && texts[0].includes('tool call (write_file) skipped'), `source id and detail: ${texts[0]}`);
  assert(await page.getByTestId('file-import-reasons-more').count() === 0, 'no "and N more" when all are listed');
  const overflow = await page.getByTestId('file-import-reasons').evaluate((el) => getComputedStyle(el).overflowY);
  assertEqual(overflow, 'auto', 'the list scrolls');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=thread-item-title]').length === 4);
  assert((await sidebarTitles(page)).includes('Code Execution with Tools'), 'the Claude conversations are listed');
});

test('import: a SillyTavern chat dropped on the window becomes a companion chat in the list', async (t) => {
  if (absent(AQUA)) return;
  const user = await newUser(t.base, { prefix: 'importst' });
  const page = await t.newPage();
  await openAs(page, t.base, user, '#/companions');
  await page.getByTestId('chat-list-status').filter({ hasText: 'No chats yet' }).waitFor();

  // Dragging a file over the page shows the overlay; dropping it opens the dialog and imports.
  const dt = await dataTransferOf(page, AQUA, '');
  await page.dispatchEvent('[data-testid=main]', 'dragenter', { dataTransfer: dt });
  await page.dispatchEvent('[data-testid=main]', 'dragover', { dataTransfer: dt });
  assert(await page.getByTestId('drop-overlay').isVisible(), 'the drop overlay shows');
  await page.dispatchEvent('[data-testid=main]', 'drop', { dataTransfer: dt });
  assert(await page.getByTestId('drop-overlay').isHidden(), 'the overlay is gone after the drop');
  await page.getByTestId('file-import-dialog').waitFor();
  assertEqual(await waitDone(page), 'done', 'imported');
  const r = await resultOf(page);
  assertEqual([r.format, r.formatText, r.imported], ['sillytavern', 'SillyTavern', 1], 'a SillyTavern chat');
  const first = page.getByTestId('file-import-open-first');
  assertEqual(await first.getAttribute('data-kind'), 'chat', 'a character chat');

  // The companions' chat list refreshed: the chat with Aqua is there.
  const item = page.getByTestId('chat-item').filter({ hasText: 'Aqua' });
  await item.waitFor({ timeout: 10_000 });
  assertEqual(await page.getByTestId('chat-item').count(), 1, 'one chat');
  const hist = await user.api.ok('GET', '/api/chat-history');
  assertEqual(await item.getAttribute('data-chat-id'), hist.items[0].chat_id, 'the imported chat');

  // Opening it from the result shows the chat.
  await first.click();
  await page.getByTestId('companion-chat').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=message]').length > 0);
  assert((await page.getByTestId('message-body').first().textContent()).includes('Are you new here?'), 'its greeting is shown');
});

test('import: a file that is not JSON shows the server\'s reason and changes nothing', async (t) => {
  const user = await newUser(t.base, { prefix: 'importbad' });
  await user.api.ok('POST', '/api/v1/chat-threads', { title: 'Kept', messages: [{ role: 'user', content: 'hello' }] });
  const page = await t.newPage();
  await openAs(page, t.base, user);
  await page.getByTestId('thread-item-title').filter({ hasText: 'Kept' }).waitFor();
  await openImport(page);
  await page.getByTestId('file-import-input').setInputFiles({
    name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('These are my notes, not an export.\n'),
  });
  assertEqual(await waitDone(page), 'failed', 'the import failed');
  const error = page.getByTestId('file-import-error');
  await error.waitFor();
  assertEqual(await error.getAttribute('role'), 'alert', 'announced');
  const text = await error.textContent();
  assert(text.includes('notes.json'), `names the file: ${text}`);
  const res = await fetch(`${t.base}/api/v1/import`, {
    method: 'POST', headers: { Authorization: `Bearer ${user.token}` }, body: 'These are my notes, not an export.\n',
  });
  assertEqual(res.status, 422, 'the server answers 422');
  const { detail } = await res.json();
  assertEqual(await page.getByTestId('file-import-error-detail').textContent(), detail, 'the server\'s detail is shown as it is');
  assert(await page.getByTestId('file-import-result').isHidden(), 'no result panel');
  assertEqual(await sidebarTitles(page), ['Kept'], 'the list is unchanged');
  assertEqual((await user.api.ok('GET', '/api/v1/chat-threads?limit=10')).length, 1, 'nothing was stored');
  // the dialog still works: Escape closes it
  await page.keyboard.press('Escape');
  await page.getByTestId('file-import-dialog').waitFor({ state: 'hidden' });
});
