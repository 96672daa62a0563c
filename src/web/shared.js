// The page of a share link, /s/<token> (no account): reads /api/v1/shared/<token> and shows
// the snapshot read-only with the app's message rendering (text nodes only, ui.js and
// markdown.js). An unknown, expired or revoked link shows one "not found" message.
import { h, replace } from './dom.js';
import { messageBubble } from './ui.js';

const root = document.getElementById('shared');
// the app's brand above whatever the page shows (a link to the app: it asks for an account)
root.before(h('header', { class: 'shared-brand' },
  h('a', { href: '/', class: 'brand', 'aria-label': 'chatvault' },
    h('img', { src: '/icons/logo.svg', alt: '', class: 'brand-logo' }), h('span', { class: 'brand-name' }, 'chatvault'))));

function notFound() {
  document.title = 'Link not found · chatvault';
  replace(root, h('section', { class: 'shared-missing', testid: 'shared-not-found' },
    h('h1', null, 'This link does not work'),
    h('p', null, 'The shared conversation was not found: the link may be mistyped, expired or revoked.')));
}

async function main() {
  const parts = location.pathname.split('/');
  const token = parts[parts.length - 1] || '';
  let res;
  try {
    res = await fetch(`/api/v1/shared/${encodeURIComponent(token)}`, { cache: 'no-store' });
  } catch {
    replace(root, h('p', { class: 'error', role: 'alert' }, 'The server could not be reached.'));
    return;
  }
  if (!res.ok) { notFound(); return; }
  const data = await res.json();
  document.title = `${data.title} · chatvault`;
  const when = new Date(data.created_at);
  const meta = [`Shared ${when.toLocaleString()}`, `${data.message_count} message${data.message_count === 1 ? '' : 's'}`];
  if (data.expires_at) meta.push(`link expires ${new Date(data.expires_at).toLocaleString()}`);
  const list = h('div', { class: 'messages shared-messages', testid: 'shared-messages' });
  for (const m of data.messages) list.append(messageBubble(m.role, m.content).el);
  replace(root,
    h('header', { class: 'shared-head' },
      h('h1', { testid: 'shared-title' }, data.title),
      h('p', { class: 'muted', testid: 'shared-meta' }, meta.join(' · ')),
      h('p', { class: 'muted' }, 'A read-only copy, as it was when the link was made.')),
    list);
}

main();
