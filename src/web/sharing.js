// Sharing a thread with other accounts (issue 16; docs/api.md "Sharing with other accounts"):
// the "Share with…" dialog of a thread's owner (add an account by email, the members with a
// Remove button each) and the sidebar's "Shared with me" section (the threads other accounts
// shared with this one, with their owner's name). A shared thread opens read-only in the
// Assistant view (threads.js): the server answers 403 to every write of a member anyway.
import { api, apiWithHeaders } from './http.js';
import { h, icon, replace, timeAgo } from './dom.js';
import { showModal } from './ui.js';

const SHARED_PAGE = 50;

/** The owner's name as the page shows it. */
export function ownerName(owner) {
  return (owner && owner.display_name) || 'another account';
}

/**
 * The "Share with…" dialog of thread `threadId` (its owner only). Resolves when it closes.
 * Members are added by email and removed one by one; each change is saved at once.
 */
export function shareDialog({ threadId, title }) {
  return new Promise((resolve) => {
    const path = `/api/v1/chat-threads/${threadId}/members`;
    const inputId = `share-email-${Math.random().toString(36).slice(2, 8)}`;
    const input = h('input', { type: 'email', id: inputId, class: 'tag-input', maxlength: 254, autocomplete: 'off', testid: 'share-email', placeholder: 'name@example.com' });
    const add = h('button', { type: 'submit', class: 'btn btn-small btn-primary', testid: 'share-add' }, icon('plus'), 'Add');
    const form = h('form', { class: 'tag-add-row' }, h('label', { for: inputId, class: 'sr-only' }, 'Email of the account to share with'), input, add);
    const error = h('p', { class: 'notice notice-error', role: 'alert', hidden: true, testid: 'share-error' });
    const list = h('ul', { class: 'share-members', testid: 'share-members', 'aria-label': 'People this thread is shared with' });
    const close = h('button', { type: 'button', class: 'btn', testid: 'share-close' }, 'Done');
    const heading = h('h2', { class: 'dialog-title', id: `${inputId}-h` }, 'Share with…');
    const dialog = h('dialog', { class: 'dialog', testid: 'share-dialog', 'aria-labelledby': `${inputId}-h` },
      heading,
      h('p', { class: 'dialog-text muted' }, `People you add can read “${title}”, as it grows, but not change it. They can leave it; you can remove them.`),
      form, error, list,
      h('div', { class: 'dialog-actions' }, close));
    const showError = (msg) => { error.textContent = msg; error.hidden = !msg; };
    let members = [];
    const paint = () => {
      replace(list, members.map((m) => {
        const who = m.display_name ? `${m.display_name} (${m.email})` : m.email;
        const rm = h('button', { type: 'button', class: 'btn btn-small', testid: 'share-remove', 'aria-label': `Remove ${who}`, dataset: { userId: String(m.user_id) } }, icon('x'), 'Remove');
        rm.addEventListener('click', async () => {
          rm.disabled = true;
          try {
            await api('DELETE', `${path}/${m.user_id}`);
          } catch (err) {
            if (err.status !== 404) { showError(`Could not remove ${who}: ${err.message}`); rm.disabled = false; return; }
          }
          members = members.filter((x) => x.user_id !== m.user_id);
          showError('');
          paint();
          input.focus();
        });
        return h('li', { class: 'share-member', testid: 'share-member', dataset: { userId: String(m.user_id) } },
          h('span', { class: 'share-member-name', testid: 'share-member-name' }, who), rm);
      }));
      if (!members.length) list.append(h('li', { class: 'muted', testid: 'share-none' }, 'Not shared with anyone yet.'));
    };
    const load = async () => {
      try {
        const data = await api('GET', path);
        members = Array.isArray(data) ? data : [];
        paint();
      } catch (err) {
        showError(`Could not load the members: ${err.message}`);
      }
    };
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const email = input.value.trim();
      if (!email) return;
      add.disabled = true;
      try {
        const m = await api('POST', path, { email });
        if (!members.some((x) => x.user_id === m.user_id)) members.push(m);
        input.value = '';
        showError('');
        paint();
      } catch (err) {
        if (err.status === 404) showError('No account can be shared with under that email.');
        else if (err.status === 422) showError(err.message);
        else showError(`Could not share: ${err.message}`);
      } finally {
        add.disabled = false;
        input.focus();
      }
    });
    paint();
    const done = showModal(dialog, resolve);
    close.addEventListener('click', () => done());
    input.focus();
    load();
  });
}

/**
 * The sidebar's "Shared with me" section: `GET /api/v1/chat-threads?shared=true`, paged by
 * its cursor ("Load more"). Hidden while nothing is shared with the account.
 */
export class SharedSection {
  constructor({ onOpen }) {
    this.onOpen = onOpen;
    this.items = [];
    this.cursor = null;
    this.currentId = null;
    this.gen = 0;
    this.list = h('ul', { class: 'item-list', testid: 'shared-list' });
    this.more = h('button', { type: 'button', class: 'btn btn-small', testid: 'shared-more', hidden: true }, 'Load more');
    this.more.addEventListener('click', () => this.loadPage());
    this.el = h('div', { class: 'list-group shared-group', testid: 'shared-group', hidden: true },
      h('h2', { class: 'sidebar-title' }, 'Shared with me'), this.list, this.more);
  }

  /** Load the first page again (after a membership ended, say). */
  reload() {
    this.gen += 1;
    this.items = [];
    this.cursor = null;
    return this.loadPage();
  }

  async loadPage() {
    const gen = this.gen;
    const p = new URLSearchParams({ limit: String(SHARED_PAGE), shared: 'true' });
    if (this.cursor) p.set('cursor', this.cursor);
    try {
      const { data, headers } = await apiWithHeaders('GET', `/api/v1/chat-threads?${p}`);
      if (gen !== this.gen) return;
      const known = new Set(this.items.map((t) => t.id));
      for (const t of Array.isArray(data) ? data : []) if (!known.has(t.id)) this.items.push(t);
      this.cursor = headers.get('X-Next-Cursor');
    } catch {
      if (gen !== this.gen) return;
      this.cursor = null;     // the section is an extra: the own list reports errors
    }
    this.render();
  }

  find(id) {
    return this.items.find((t) => t.id === id) || null;
  }

  setCurrent(id) {
    this.currentId = id;
    for (const el of this.list.querySelectorAll('[aria-current]')) el.removeAttribute('aria-current');
    const active = id === null ? null : this.list.querySelector(`[data-testid=shared-item][data-id="${id}"]`);
    if (active) active.setAttribute('aria-current', 'true');
  }

  /** The open shared thread changed (title, count): show what was read. */
  update(thread) {
    const i = this.items.findIndex((t) => t.id === thread.id);
    if (i < 0) return;
    this.items[i] = { ...this.items[i], title: thread.title, updated_at: thread.updated_at, message_count: (thread.messages || []).length, owner: thread.owner || this.items[i].owner };
    this.render();
  }

  render() {
    replace(this.list, this.items.map((t) => {
      const btn = h('button', { type: 'button', class: 'item', testid: 'shared-item', dataset: { id: String(t.id) } },
        h('span', { class: 'item-title', testid: 'shared-item-title' }, t.title || 'New chat'),
        h('span', { class: 'item-meta' },
          h('span', { testid: 'shared-item-owner' }, `by ${ownerName(t.owner)}`),
          ` · ${t.message_count ?? 0} ${t.message_count === 1 ? 'message' : 'messages'} · ${timeAgo(t.updated_at)}`));
      if (t.id === this.currentId) btn.setAttribute('aria-current', 'true');
      btn.addEventListener('click', () => this.onOpen(t));
      return h('li', { class: 'item-row', testid: 'shared-row', dataset: { id: String(t.id) } }, btn);
    }));
    this.more.hidden = !this.cursor;
    this.el.hidden = this.items.length === 0;
  }
}
