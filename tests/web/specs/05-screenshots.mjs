// Screenshots of the main views with realistic content, on a server of their own (the
// catalog of characters is shared by all users, so the other tests' XSS names stay out).
// tests/web/screenshots/readme-*.png are the ones docs/ copies for the README.
import { test, newUser, openAs, startServer } from '../harness.mjs';

test('screenshots: the assistant and companions views with content', async (t) => {
  const server = await startServer();
  t.onCleanup(() => server.stop());
  const user = await newUser(server.url, { prefix: 'demo', displayName: 'Robin' });
  const api = user.api;
  await api.ok('POST', '/api/v1/chat-threads', { title: 'Packing list for Lisbon', messages: [{ role: 'user', content: 'What should I pack for 3 days?' }, { role: 'assistant', content: 'Comfortable shoes and a light jacket.' }] });
  await api.ok('POST', '/api/v1/chat-threads', { title: 'SQLite WAL mode', messages: [{ role: 'user', content: 'Why WAL?' }, { role: 'assistant', content: 'Readers do not block the writer.' }] });
  const main = await api.ok('POST', '/api/v1/chat-threads', {
    title: 'Backing up chatvault',
    messages: [
      { role: 'user', content: 'How do I back up my **chatvault** database while it is running?' },
      { role: 'assistant', content: 'Use the built-in command; it takes a consistent copy while the server keeps serving:\n\n```sh\nchatvault backup /backups/chatvault-$(date +%F).db\n```\n\nThen check the copy:\n\n1. `chatvault check --db /backups/chatvault-….db`\n2. keep a few days of copies\n3. test a restore now and then\n\nSee the [SQLite backup API](https://www.sqlite.org/backup.html) for how it works.' },
    ],
  });
  const pics = ['avatars/fox.svg', 'avatars/owl.svg', 'avatars/robot.svg', 'avatars/wizard.svg', 'avatars/cat.svg', 'avatars/astronaut.svg'];
  const names = [
    ['Juniper the Fox', 'A quick-witted forest guide who answers in riddles when she can.'],
    ['Professor Hoot', 'A patient owl who explains history one story at a time.'],
    ['Unit 7', 'A cheerful maintenance robot who loves checklists.'],
    ['Maestro Aldric', 'A theatrical wizard who turns every question into a lesson.'],
    ['Miso', 'A sleepy cat with surprisingly good life advice.'],
    ['Commander Ito', 'An astronaut back from six months on the station.'],
  ];
  const chars = [];
  for (let i = 0; i < names.length; i += 1) {
    chars.push(await api.ok('POST', '/api/characters', { name: names[i][0], description: names[i][1], picture: pics[i], greeting: `Hello, I am ${names[i][0]}.` }));
  }
  const scene = await api.ok('POST', '/api/scenes', { name: 'Orbital station', description: 'A quiet observation deck.' });
  await api.ok('POST', '/api/chat', { character_id: chars[1].id, message: 'Tell me about the printing press.' });
  await api.ok('POST', '/api/chat', { character_id: chars[2].id, message: 'Can you make me a morning checklist?' });
  const ito = await api.ok('POST', '/api/chat', { character_id: chars[5].id, scene_id: scene.id, message: 'What did you miss most up there?' });

  const page = await t.newPage();
  await openAs(page, server.url, user, `#/assistant/${main.id}`);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=message]').length === 2);
  await page.getByTestId('composer').fill('And how do I restore it?');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=message][data-role=assistant]').length === 2
    && !document.querySelector('[data-testid=message][data-state=streaming]'));
  await t.shot(page, 'readme-assistant');

  await page.goto(`${server.url}/#/companions`);
  await page.waitForFunction(() => document.querySelector('[data-testid=all-characters]')?.getAttribute('aria-busy') === 'false'
    && document.querySelector('[data-testid=recommended]')?.getAttribute('aria-busy') === 'false'
    && document.querySelectorAll('[data-testid=chat-item]').length === 3);
  await page.evaluate(() => Promise.all([...document.images].map((img) => (img.complete ? null : new Promise((r) => { img.onload = r; img.onerror = r; })))));
  await t.shot(page, 'readme-companions');

  await page.goto(`${server.url}/#/companions/${ito.chat_id}`);
  await page.getByTestId('companion-chat').waitFor();
  await page.getByTestId('composer').fill('Did you sleep well in zero gravity?');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=message][data-role=assistant]').length === 2
    && !document.querySelector('[data-testid=message][data-state=streaming]'));
  await t.shot(page, 'readme-companion-chat');
});
