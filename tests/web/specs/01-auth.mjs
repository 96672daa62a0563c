// Accounts: the page itself, sign up / out / in, an expired token.
import { test, assert, assertEqual, uniqueEmail, newUser, openAs, Api } from '../harness.mjs';

test('page: served with a self-only CSP and its files with correct types', async (t) => {
  const res = await fetch(`${t.base}/`);
  assertEqual(res.status, 200, 'GET / status');
  assert((res.headers.get('content-type') || '').startsWith('text/html'), `GET / content type ${res.headers.get('content-type')}`);
  const csp = res.headers.get('content-security-policy') || '';
  assert(/default-src 'self'/.test(csp), `CSP has default-src 'self': ${csp}`);
  assert(!/script-src[^;]*(unsafe-inline|unsafe-eval)/.test(csp), `CSP allows no inline script: ${csp}`);
  assertEqual(res.headers.get('x-content-type-options'), 'nosniff', 'nosniff header');
  const html = await res.text();
  assert(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'index.html has no inline script');
  assert(!/\son[a-z]+\s*=/i.test(html), 'index.html has no inline event handler');
  assert(!/\sstyle\s*=/i.test(html), 'index.html has no style attribute');
  assert(!/https?:\/\//i.test(html.replace(/<!--[\s\S]*?-->/g, '')), 'index.html references no other origin');
  const types = { 'app.js': 'javascript', 'style.css': 'text/css', 'icons/logo.svg': 'image/svg+xml', 'markdown.js': 'javascript', 'search.js': 'javascript', 'stats.js': 'javascript' };
  for (const [file, type] of Object.entries(types)) {
    const r = await fetch(`${t.base}/${file}`);
    assertEqual(r.status, 200, `GET /${file}`);
    assert((r.headers.get('content-type') || '').includes(type), `/${file} content type ${r.headers.get('content-type')}`);
  }
  const health = await fetch(`${t.base}/healthz`);
  assertEqual(health.status, 200, 'GET /healthz');
});

test('auth: sign up, sign out, a wrong password, sign in', async (t) => {
  const page = await t.newPage();
  const requests = [];
  page.on('request', (r) => { if (!r.url().startsWith(t.base)) requests.push(r.url()); });
  await page.goto(`${t.base}/`);
  await page.getByTestId('auth-view').waitFor();
  await t.shot(page, 'sign-in');

  // Keyboard focus is visible and fields are labelled.
  await page.keyboard.press('Tab');
  const outline = await page.evaluate(() => {
    const el = document.activeElement;
    const s = getComputedStyle(el);
    return { tag: el.tagName, style: s.outlineStyle, width: s.outlineWidth };
  });
  assert(outline.style !== 'none' && outline.width !== '0px', `focused ${outline.tag} shows an outline (${outline.style} ${outline.width})`);
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, textarea, select')]
    .filter((el) => el.type !== 'hidden' && !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map((el) => el.outerHTML));
  assertEqual(unlabelled, [], 'form fields without a label');

  const email = uniqueEmail('signup');
  const password = 'a good long password';
  await page.getByTestId('tab-signup').click();
  await page.getByTestId('signup-name').fill('Grace');
  await page.getByTestId('signup-email').fill(email);
  await page.getByTestId('signup-password').fill(password);
  await page.getByTestId('signup-submit').click();
  await page.getByTestId('sidebar').waitFor();
  assertEqual(await page.getByTestId('current-user').textContent(), 'Grace', 'the signed-in user is shown');
  const token = await page.evaluate(() => localStorage.getItem('access_token'));
  assert(token && token.length >= 32, 'the token is kept as access_token in localStorage');
  const me = await new Api(t.base, token).ok('GET', '/api/v1/auth/me');
  assertEqual(me.email, email, 'the token belongs to the new account');

  // A second sign-up with the same address says so.
  const page2 = await t.newPage();
  await page2.goto(`${t.base}/`);
  await page2.getByTestId('tab-signup').click();
  await page2.getByTestId('signup-email').fill(email.toUpperCase());
  await page2.getByTestId('signup-password').fill(password);
  await page2.getByTestId('signup-submit').click();
  await page2.getByTestId('auth-error').waitFor();
  assert(/already exists/i.test(await page2.getByTestId('auth-error').textContent()), 'duplicate email is reported');

  await page.getByTestId('signout').click();
  await page.getByTestId('auth-view').waitFor();
  assert(/signed out/i.test(await page.getByTestId('auth-message').textContent()), 'a signed-out message is shown');
  assertEqual(await page.evaluate(() => localStorage.getItem('access_token')), null, 'the token is removed');
  const revoked = await new Api(t.base, token).req('GET', '/api/v1/auth/me');
  assertEqual(revoked.status, 401, 'the signed-out token no longer works');

  await page.getByTestId('signin-email').fill(email);
  await page.getByTestId('signin-password').fill('not the password');
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('auth-error').waitFor();
  assert(/wrong email or password/i.test(await page.getByTestId('auth-error').textContent()), 'a wrong password is reported');

  await page.getByTestId('signin-password').fill(password);
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('sidebar').waitFor();
  await page.reload();
  await page.getByTestId('sidebar').waitFor();
  assertEqual(await page.getByTestId('current-user').textContent(), 'Grace', 'still signed in after a reload');
  assertEqual(requests, [], 'requests to other origins');
});

test('auth: an expired or revoked token sends the user back to sign-in with a message', async (t) => {
  const user = await newUser(t.base, { prefix: 'expired' });
  const page = await t.newPage();
  await openAs(page, t.base, user);
  // The token stops working (as when it expires) while the page is open.
  await user.api.ok('POST', '/api/v1/auth/logout');
  await page.getByTestId('composer').fill('hello?');
  await page.keyboard.press('Enter');
  await page.getByTestId('auth-view').waitFor();
  assert(/session has expired/i.test(await page.getByTestId('auth-message').textContent()), 'the expiry message is shown');
  assertEqual(await page.evaluate(() => localStorage.getItem('access_token')), null, 'the dead token is dropped');

  // A stale token found at start-up does the same.
  await page.evaluate(() => localStorage.setItem('access_token', 'x'.repeat(43)));
  await page.reload();
  await page.getByTestId('auth-view').waitFor();
  assert(/session has expired/i.test(await page.getByTestId('auth-message').textContent()), 'the expiry message is shown at start-up');
});
