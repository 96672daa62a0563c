// Share links (issue 13; docs/api.md "Share links"): the owner's "Share link" dialog of a
// thread. It makes a read-only snapshot link (expiry: never, 1, 7 or 30 days), shows it once
// in full with a Copy button (the server keeps only a hash of the token, so a link can be seen
// only when it is made), and lists the thread's existing links with a Revoke button each
// (revoked by the link's id). Anyone with a link reads it at /s/<token> without an account.
import { api, apiWithHeaders } from './http.js';
import { h, icon, replace, timeAgo } from './dom.js';
import { showModal } from './ui.js';

const EXPIRY = [
  ['never', 'Never expires', null],
  ['1d', 'Expires in 1 day', 86400],
  ['7d', 'Expires in 7 days', 7 * 86400],
  ['30d', 'Expires in 30 days', 30 * 86400],
];

function describe(link) {
  const made = `made ${timeAgo(link.created_at)}`;
  if (!link.expires_at) return `${made} · never expires`;
  const at = Date.parse(link.expires_at);
  if (at <= Date.now()) return `${made} · expired`;
  return `${made} · expires ${new Date(at).toLocaleString()}`;
}

/**
 * The "Share link" dialog of thread `threadId` (its owner only). Resolves when it closes.
 */
export function shareLinkDialog({ threadId, title }) {
  return new Promise((resolve) => {
    const uid = Math.random().toString(36).slice(2, 8);
    const select = h('select', { id: `sl-exp-${uid}`, testid: 'share-link-expiry' },
      ...EXPIRY.map(([v, label]) => h('option', { value: v }, label)));
    const create = h('button', { type: 'submit', class: 'btn btn-small btn-primary', testid: 'share-link-create' }, icon('plus'), 'Create link');
    const form = h('form', { class: 'tag-add-row' }, h('label', { for: `sl-exp-${uid}`, class: 'sr-only' }, 'When the link expires'), select, create);
    const error = h('p', { class: 'notice notice-error', role: 'alert', hidden: true, testid: 'share-link-error' });
    const urlInput = h('input', { type: 'text', class: 'tag-input', readonly: true, testid: 'share-link-url', 'aria-label': 'The new link' });
    const copy = h('button', { type: 'button', class: 'btn btn-small', testid: 'share-link-copy' }, 'Copy');
    const copied = h('span', { class: 'muted', role: 'status', testid: 'share-link-copied' });
    const fresh = h('div', { class: 'share-link-new', testid: 'share-link-new', hidden: true },
      h('p', { class: 'dialog-text' }, 'Copy the link now: it is shown only once.'),
      h('div', { class: 'tag-add-row' }, urlInput, copy), copied);
    const list = h('ul', { class: 'share-members', testid: 'share-links', 'aria-label': 'Links to this thread' });
    const close = h('button', { type: 'button', class: 'btn', testid: 'share-link-close' }, 'Done');
    const dialog = h('dialog', { class: 'dialog', testid: 'share-link-dialog', 'aria-labelledby': `sl-h-${uid}` },
      h('h2', { class: 'dialog-title', id: `sl-h-${uid}` }, 'Share link'),
      h('p', { class: 'dialog-text muted' }, `Anyone with a link can read “${title}” as it is now, without an account. Later changes are not shown; revoke a link to end it.`),
      form, error, fresh, list,
      h('div', { class: 'dialog-actions' }, close));
    const showError = (msg) => { error.textContent = msg; error.hidden = !msg; };
    let links = [];
    const paint = () => {
      replace(list, links.map((l) => {
        const rm = h('button', { type: 'button', class: 'btn btn-small', testid: 'share-link-revoke', 'aria-label': 'Revoke this link', dataset: { linkId: String(l.id) } }, icon('x'), 'Revoke');
        rm.addEventListener('click', async () => {
          rm.disabled = true;
          try {
            await api('DELETE', `/api/v1/shares/${l.id}`);
          } catch (err) {
            if (err.status !== 404) { showError(`Could not revoke the link: ${err.message}`); rm.disabled = false; return; }
          }
          links = links.filter((x) => x.id !== l.id);
          if (fresh.dataset.linkId === String(l.id)) { fresh.hidden = true; urlInput.value = ''; }
          showError('');
          paint();
        });
        return h('li', { class: 'share-member', testid: 'share-link', dataset: { linkId: String(l.id) } },
          h('span', { class: 'share-member-name' }, describe(l)), rm);
      }));
      if (!links.length) list.append(h('li', { class: 'muted', testid: 'share-links-none' }, 'No links to this thread.'));
    };
    const load = async () => {
      try {
        const { data } = await apiWithHeaders('GET', '/api/v1/shares');
        links = (Array.isArray(data) ? data : []).filter((l) => l.thread_id === threadId);
        paint();
      } catch (err) {
        showError(`Could not load the links: ${err.message}`);
      }
    };
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const choice = EXPIRY.find(([v]) => v === select.value) || EXPIRY[0];
      const body = choice[2] ? { expires_in: choice[2] } : {};
      create.disabled = true;
      try {
        const l = await api('POST', `/api/v1/chat-threads/${threadId}/share`, body);
        urlInput.value = new URL(l.url, location.origin).href;
        fresh.dataset.linkId = String(l.id);
        fresh.hidden = false;
        copied.textContent = '';
        links.unshift({ id: l.id, thread_id: l.thread_id, title: l.title, message_count: l.message_count, created_at: l.created_at, expires_at: l.expires_at });
        showError('');
        paint();
        urlInput.focus();
        urlInput.select();
      } catch (err) {
        showError(`Could not create a link: ${err.message}`);
      } finally {
        create.disabled = false;
      }
    });
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(urlInput.value);
        copied.textContent = 'Copied.';
      } catch {
        urlInput.focus();
        urlInput.select();
        copied.textContent = 'Press Ctrl+C to copy.';
      }
    });
    paint();
    const done = showModal(dialog, resolve);
    close.addEventListener('click', () => done());
    select.focus();
    load();
  });
}
