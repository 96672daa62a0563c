// The Stats view (issue 11): totals, messages per day as an SVG bar chart drawn by the page
// (one bar per day, no library, nothing from another origin), top characters.
import { test, assert, assertEqual, newUser, openAs } from '../harness.mjs';

test('stats: totals, an SVG bar per day, top characters, another period', async (t) => {
  const user = await newUser(t.base, { prefix: 'stats' });
  // 3 threads with 2 + 3 + 1 messages.
  const sizes = [2, 3, 1];
  for (const [i, n] of sizes.entries()) {
    await user.api.ok('POST', '/api/v1/chat-threads', {
      title: `Stats thread ${i}`,
      messages: Array.from({ length: n }, (_, k) => ({ role: k % 2 ? 'assistant' : 'user', content: `message ${k} of thread ${i}` })),
    });
  }
  // 2 companion chats: Captain Nemo 2 turns (4 messages), Ada 1 turn (2 messages).
  const nemo = await user.api.ok('POST', '/api/characters', { name: 'Captain Nemo', description: 'Submarine.' });
  const ada = await user.api.ok('POST', '/api/characters', { name: 'Ada', description: 'Engines.' });
  const c1 = await user.api.ok('POST', '/api/chat', { character_id: nemo.id, message: 'Dive!' });
  await user.api.ok('POST', '/api/chat', { chat_id: c1.chat_id, character_id: nemo.id, message: 'Deeper.' });
  await user.api.ok('POST', '/api/chat', { character_id: ada.id, message: 'Compute.' });

  const api = await user.api.ok('GET', '/api/v1/stats?days=30');
  assertEqual([api.threads, api.chats, api.messages, api.characters_used], [3, 2, 12, 2], 'the API totals match what was seeded');
  assertEqual(api.per_day.length, 30, 'thirty days');

  const page = await t.newPage();
  const foreign = [];
  page.on('request', (r) => { if (!r.url().startsWith(t.base) && !r.url().startsWith('data:')) foreign.push(r.url()); });
  await openAs(page, t.base, user);
  await page.getByTestId('nav-stats').click();
  await page.getByTestId('stats-view').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid=stats-body]')?.getAttribute('aria-busy') === 'false'
    && document.querySelector('[data-testid=stats-chart]'));
  assertEqual(new URL(page.url()).hash, '#/stats', 'the address names the view');
  assertEqual(await page.getByTestId('nav-stats').getAttribute('aria-current'), 'page', 'the nav shows it');

  const totals = await page.getByTestId('stats-totals').evaluate((el) => Object.fromEntries(
    [...el.querySelectorAll('[data-testid^=stat-]')].map((d) => [d.dataset.testid, d.textContent])));
  assertEqual(totals, { 'stat-threads': '3', 'stat-chats': '2', 'stat-messages': '12', 'stat-characters': '2' }, 'the totals on the page');

  // The chart: an SVG drawn here with one bar per day, the API's numbers, an accessible name.
  const chart = await page.getByTestId('stats-chart').evaluate((svg) => {
    const bars = [...svg.querySelectorAll('[data-testid=chart-bar]')];
    const ids = (svg.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean);
    return {
      tag: svg.namespaceURI + ' ' + svg.localName,
      role: svg.getAttribute('role'),
      name: ids.map((id) => document.getElementById(id)?.textContent || '').join(' | '),
      bars: bars.map((b) => ({ date: b.dataset.date, messages: Number(b.dataset.messages), height: Number(b.getAttribute('height')), tag: b.localName, title: b.querySelector('title')?.textContent || '' })),
      external: [...svg.querySelectorAll('image, use, foreignObject, script')].length,
    };
  });
  assertEqual(chart.tag, 'http://www.w3.org/2000/svg svg', 'an inline SVG');
  assertEqual(chart.role, 'img', 'role img');
  assert(/Messages per day, last 30 days/.test(chart.name) && /12 messages/.test(chart.name), `an accessible name and description (${chart.name})`);
  assertEqual(chart.bars.length, 30, 'one bar per day');
  assert(chart.bars.every((b) => b.tag === 'rect'), 'bars are rects');
  assertEqual(chart.bars.map((b) => [b.date, b.messages]), api.per_day.map((d) => [d.date, d.messages]), 'the bars are the API days, oldest first');
  const today = new Date().toISOString().slice(0, 10);
  const last = chart.bars[chart.bars.length - 1];
  assertEqual([last.date, last.messages], [today, 12], "today's bar holds the 12 messages");
  assert(last.height > 0 && chart.bars.slice(0, -1).every((b) => b.messages > 0 ? b.height > 0 : b.height === 0), 'bar heights follow the numbers');
  assert(chart.bars.every((b) => b.height <= last.height), 'the busiest day has the tallest bar');
  assert(/12 messages/.test(last.title), `each bar has a title (${last.title})`);
  assertEqual(chart.external, 0, 'nothing loaded into the chart');
  assertEqual(await page.getByTestId('stats-table').locator('tbody tr').count(), 30, 'the numbers are there as a table too');

  // Top characters, most messages first.
  const top = await page.getByTestId('top-character').evaluateAll((els) => els.map((e) => [
    e.querySelector('[data-testid=top-character-name]').textContent, e.querySelector('[data-testid=top-character-meta]').textContent]));
  assertEqual(top, [['Captain Nemo', '1 chat · 4 messages'], ['Ada', '1 chat · 2 messages']], 'top characters');
  await t.shot(page, 'stats');

  // Another period redraws with that many bars.
  await page.getByTestId('stats-days').selectOption('7');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=stats-chart] [data-testid=chart-bar]').length === 7);
  assertEqual(await page.getByTestId('stats-chart').locator('title').first().textContent(), 'Messages per day, last 7 days', 'the title follows the period');
  assertEqual(foreign, [], 'nothing requested from another origin');

  // Phone width: no horizontal scrolling.
  const phone = await t.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await openAs(phone, t.base, user, '#/stats');
  await phone.getByTestId('stats-chart').waitFor();
  const fits = await phone.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert(fits.scroll <= fits.width, `no horizontal scrolling on a phone (${fits.scroll} > ${fits.width})`);
  assert(await phone.getByTestId('sidebar-toggle').isHidden(), 'no sidebar button in the stats view');
  await t.shot(phone, 'phone-stats');
});
