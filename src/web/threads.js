// The Assistant view: threads sidebar (paged by scroll), the open thread,
// streaming replies, rename, delete and import of browser-only history.
import { api, apiWithHeaders, stream } from './http.js';
import { h, icon, replace, timeAgo, nextId } from './dom.js';
import {
  confirmDialog, errorBanner, messageBubble, composer, startInlineRename, storedMarker, actionMenu, tagsDialog, revealMessage,
} from './ui.js';
import { readImportFile, importThreads } from './importer.js';
import { exportButton } from './exporter.js';
import { shareDialog, SharedSection, ownerName } from './sharing.js';
import { shareLinkDialog } from './sharelinks.js';

const PAGE = 30;
const LIVE_FETCH_MAX = 10; // threads fetched one by one after a live change; more: reload the list
const LIVE_RETRY_MS = 400; // a live update waits while a menu is open or a reply streams

function summaryOf(thread) {
  return {
    id: thread.id,
    title: thread.title,
    created_at: thread.created_at,
    updated_at: thread.updated_at,
    message_count: Array.isArray(thread.messages) ? thread.messages.length : (thread.message_count ?? 0),
    pinned: Boolean(thread.pinned),
    archived: Boolean(thread.archived),
    tags: Array.isArray(thread.tags) ? thread.tags : [],
  };
}

function byRecency(a, b) {
  const ta = Date.parse(a.updated_at) || 0;
  const tb = Date.parse(b.updated_at) || 0;
  return tb - ta || b.id - a.id;
}

const sameTag = (a, b) => String(a).toLowerCase() === String(b).toLowerCase();

export class AssistantView {
  constructor(ctx) {
    this.ctx = ctx;
    this.threads = []; // the paged list (unpinned threads in the grouped view)
    this.pinned = []; // the "Pinned" group (only in the grouped view)
    this.filter = { archived: false, tag: null };
    this.tags = [];
    this.cursor = null;
    this.done = false;
    this.loading = false;
    this.listFailed = false;
    this.listGen = 0;
    this.currentId = null;
    this.current = null;
    this.opened = false;
    this.openSeq = 0;
    this.streaming = false;
    this.pendingReveal = null;
    this.readOnly = false; // the open thread is another account's, shared with this one
    this.liveIds = new Map(); // thread id → op of live changes not applied yet
    this.liveTimer = null;
    this.liveRunning = false;
    this.liveOpenTimer = null;
    this.buildSidebar();
    this.buildMain();
    this.loadMore();
    this.loadTags();
  }

  destroy() {
    this.destroyed = true;
    clearTimeout(this.liveTimer);
    clearTimeout(this.liveOpenTimer);
    window.removeEventListener('resize', this.onResize);
  }

  // ------------------------------------------------------------ sidebar
  buildSidebar() {
    const newBtn = h('button', { type: 'button', class: 'btn btn-primary btn-block', testid: 'new-chat' }, icon('plus'), 'New chat');
    newBtn.addEventListener('click', () => {
      this.ctx.closeSidebar();
      if (this.filter.archived || this.filter.tag) this.setFilter({ archived: false, tag: null });
      if (window.location.hash === '#/assistant') this.route(null, true);
      else window.location.hash = '#/assistant';
    });

    const fileId = nextId('import');
    this.importInput = h('input', { type: 'file', id: fileId, accept: 'application/json,.json', hidden: true, testid: 'import-file' });
    const importBtn = h('button', { type: 'button', class: 'btn btn-small btn-block', testid: 'import-button', title: 'Import the chat history an older version of this page kept in your browser (a JSON file)' }, icon('upload'), 'Import history');
    importBtn.addEventListener('click', () => this.importInput.click());
    this.importInput.addEventListener('change', () => this.runImport());
    this.importStatus = h('p', { class: 'import-status', role: 'status', testid: 'import-result', hidden: true });

    // Which threads: all (not archived) or the archived ones; and a tag filter.
    this.viewAll = h('button', { type: 'button', class: 'seg-btn', testid: 'view-all', 'aria-pressed': 'true' }, 'Threads');
    this.viewArchived = h('button', { type: 'button', class: 'seg-btn', testid: 'view-archived', 'aria-pressed': 'false' }, icon('archive'), 'Archived');
    this.viewAll.addEventListener('click', () => this.setFilter({ ...this.filter, archived: false }));
    this.viewArchived.addEventListener('click', () => this.setFilter({ ...this.filter, archived: true }));
    this.tagBar = h('div', { class: 'tag-filter', role: 'group', 'aria-label': 'Filter by tag', testid: 'tag-filter', hidden: true });
    const filters = h('div', { class: 'sidebar-filters' },
      h('div', { class: 'seg', role: 'group', 'aria-label': 'Show threads' }, this.viewAll, this.viewArchived),
      this.tagBar);

    this.pinnedList = h('ul', { class: 'item-list', testid: 'pinned-list' });
    this.pinnedGroup = h('div', { class: 'list-group', testid: 'pinned-group', hidden: true },
      h('h2', { class: 'sidebar-title' }, icon('pin'), 'Pinned'), this.pinnedList);
    this.listTitle = h('h2', { class: 'sidebar-title', testid: 'thread-list-title' }, 'Threads');
    this.list = h('ul', { class: 'item-list', testid: 'thread-list' });
    this.listStatus = h('p', { class: 'list-status', testid: 'thread-list-status', role: 'status' });
    this.shared = new SharedSection({
      onOpen: (t) => {
        this.ctx.closeSidebar();
        window.location.hash = `#/assistant/${t.id}`;
        if (t.id === this.currentId) this.route(String(t.id), true);
      },
    });
    this.shared.reload();
    this.scroller = h('nav', { class: 'sidebar-scroll', 'aria-label': 'Chat threads', testid: 'thread-scroller' },
      this.pinnedGroup, this.listTitle, this.list, this.listStatus, this.shared.el);
    this.scroller.addEventListener('scroll', () => this.maybeLoadMore(), { passive: true });
    this.onResize = () => this.maybeLoadMore();
    window.addEventListener('resize', this.onResize);

    replace(this.ctx.sidebar,
      h('div', { class: 'sidebar-head' }, newBtn, importBtn, this.importInput, this.importStatus),
      filters,
      this.scroller);
  }

  /** The grouped view: not archived, no tag; pinned threads come first, in their own group. */
  get grouped() {
    return !this.filter.archived && !this.filter.tag;
  }

  matches(t) {
    if (Boolean(t.archived) !== this.filter.archived) return false;
    if (this.filter.tag && !(t.tags || []).some((x) => sameTag(x, this.filter.tag))) return false;
    return true;
  }

  setFilter(filter) {
    this.filter = { archived: Boolean(filter.archived), tag: filter.tag || null };
    this.viewAll.setAttribute('aria-pressed', String(!this.filter.archived));
    this.viewArchived.setAttribute('aria-pressed', String(this.filter.archived));
    this.renderTags();
    let title = this.filter.archived ? 'Archived' : 'Threads';
    if (this.filter.tag) title += ` tagged “${this.filter.tag}”`;
    this.listTitle.textContent = title;
    this.scroller.scrollTop = 0;
    return this.resetList();
  }

  async loadTags() {
    try {
      const data = await api('GET', '/api/v1/tags');
      if (this.destroyed) return;
      this.tags = Array.isArray(data) ? data.filter((x) => x && typeof x.tag === 'string') : [];
    } catch {
      this.tags = [];
    }
    this.renderTags();
  }

  renderTags() {
    const chosen = this.filter.tag;
    const list = [...this.tags];
    if (chosen && !list.some((x) => sameTag(x.tag, chosen))) list.push({ tag: chosen, count: 0 });
    replace(this.tagBar, list.map(({ tag, count }) => {
      const on = Boolean(chosen && sameTag(tag, chosen));
      const chip = h('button', {
        type: 'button', class: 'chip', testid: 'tag-chip', 'aria-pressed': String(on), dataset: { tag },
        title: on ? `Show all threads again` : `Show only threads tagged “${tag}”`,
      }, icon('tag'), h('span', { class: 'chip-text' }, tag), count ? h('span', { class: 'chip-count', 'aria-label': `${count} threads` }, String(count)) : null);
      chip.addEventListener('click', () => this.setFilter({ ...this.filter, tag: on ? null : tag }));
      return chip;
    }));
    this.tagBar.hidden = list.length === 0;
  }

  maybeLoadMore() {
    const s = this.scroller;
    if (s.scrollTop + s.clientHeight >= s.scrollHeight - 160) this.loadMore();
  }

  get hasMore() {
    return !this.done;
  }

  resetList() {
    this.listGen += 1;
    this.loading = false;
    this.threads = [];
    this.pinned = [];
    this.cursor = null;
    this.done = false;
    this.renderList();
    return this.loadMore();
  }

  listPath({ pinned, cursor, limit = PAGE } = {}) {
    const p = new URLSearchParams({ limit: String(limit) });
    if (this.filter.archived) p.set('archived', 'true');
    if (this.filter.tag) p.set('tag', this.filter.tag);
    if (pinned !== undefined) p.set('pinned', String(pinned));
    if (cursor) p.set('cursor', cursor);
    return `/api/v1/chat-threads?${p}`;
  }

  /** Every pinned thread (they are few; followed through the cursor to be sure). */
  async fetchPinned() {
    const out = [];
    let cursor = null;
    for (let i = 0; i < 10; i += 1) {
      const { data, headers } = await apiWithHeaders('GET', this.listPath({ pinned: true, cursor, limit: 100 }));
      if (Array.isArray(data)) out.push(...data);
      cursor = headers.get('X-Next-Cursor');
      if (!cursor || !Array.isArray(data) || !data.length) break;
    }
    return out;
  }

  async loadMore() {
    if (this.loading || !this.hasMore || this.destroyed) return;
    const gen = this.listGen;
    const first = this.cursor === null;
    this.loading = true;
    this.listFailed = false;
    this.renderListStatus();
    try {
      const [page, pinned] = await Promise.all([
        apiWithHeaders('GET', this.listPath({ pinned: this.grouped ? false : undefined, cursor: this.cursor })),
        first && this.grouped ? this.fetchPinned() : Promise.resolve(null),
      ]);
      if (gen !== this.listGen) return;
      const items = Array.isArray(page.data) ? page.data : [];
      const next = page.headers.get('X-Next-Cursor');
      this.cursor = next || this.cursor;
      this.done = !next || items.length === 0;
      if (pinned) {
        const seen = new Set();
        this.pinned = pinned.filter((t) => t.pinned && !seen.has(t.id) && seen.add(t.id));
      }
      const known = new Set([...this.threads, ...this.pinned].map((t) => t.id));
      for (const t of items) if (!known.has(t.id)) this.threads.push(t);
      this.renderList();
    } catch (err) {
      if (gen !== this.listGen) return;
      this.listFailed = err;
    } finally {
      if (gen === this.listGen) {
        this.loading = false;
        this.renderListStatus();
      }
    }
    if (gen !== this.listGen) return;
    if (!this.listFailed && this.hasMore) requestAnimationFrame(() => this.maybeLoadMore());
  }

  renderListStatus() {
    const s = this.listStatus;
    s.className = 'list-status';
    const count = this.threads.length + this.pinned.length;
    if (this.loading) {
      replace(s, h('span', { class: 'spinner' }), count ? 'Loading more…' : 'Loading threads…');
    } else if (this.listFailed) {
      s.classList.add('is-error');
      const retry = h('button', { type: 'button', class: 'btn btn-small', testid: 'thread-list-retry' }, 'Retry');
      retry.addEventListener('click', () => this.loadMore());
      replace(s, `Could not load threads: ${this.listFailed.message} `, retry);
    } else if (!count) {
      if (this.filter.archived) replace(s, this.filter.tag ? 'No archived threads with this tag.' : 'No archived threads.');
      else if (this.filter.tag) replace(s, 'No threads with this tag.');
      else replace(s, 'No threads yet. Send a message to start one.');
    } else if (!this.hasMore) {
      replace(s, count === 1 ? '1 thread' : `${count} threads`);
    } else {
      const more = h('button', { type: 'button', class: 'btn btn-small', testid: 'thread-list-more' }, 'Load more');
      more.addEventListener('click', () => this.loadMore());
      replace(s, more);
    }
  }

  row(t) {
    const btn = h('button', { type: 'button', class: 'item', testid: 'thread-item', dataset: { id: String(t.id), pinned: String(Boolean(t.pinned)), archived: String(Boolean(t.archived)) } },
      h('span', { class: 'item-title', testid: 'thread-item-title' }, t.title || 'New chat'),
      h('span', { class: 'item-meta' },
        t.pinned ? h('span', { class: 'item-flag', title: 'Pinned' }, icon('pin'), h('span', { class: 'sr-only' }, 'Pinned, ')) : null,
        `${t.message_count ?? 0} ${t.message_count === 1 ? 'message' : 'messages'} · ${timeAgo(t.updated_at)}`),
      t.tags && t.tags.length
        ? h('span', { class: 'item-tags', testid: 'thread-item-tags' }, t.tags.map((tag) => h('span', { class: 'chip chip-mini', testid: 'thread-item-tag' }, tag)))
        : null);
    if (t.id === this.currentId) btn.setAttribute('aria-current', 'true');
    btn.addEventListener('click', () => {
      this.ctx.closeSidebar();
      window.location.hash = `#/assistant/${t.id}`;
      if (t.id === this.currentId) this.route(String(t.id));
    });
    const menu = actionMenu({
      label: `Actions for “${t.title || 'New chat'}”`,
      testid: 'thread-menu',
      dataset: { id: String(t.id) },
      items: () => [
        { label: t.pinned ? 'Unpin' : 'Pin to the top', icon: 'pin', testid: t.pinned ? 'menu-unpin' : 'menu-pin', onSelect: () => this.organize(t, { pinned: !t.pinned }) },
        { label: t.archived ? 'Unarchive' : 'Archive', icon: 'archive', testid: t.archived ? 'menu-unarchive' : 'menu-archive', onSelect: () => this.organize(t, { archived: !t.archived }) },
        { label: 'Edit tags…', icon: 'tag', testid: 'menu-tags', onSelect: () => this.editTags(t) },
      ],
    });
    return h('li', { class: 'item-row', testid: 'thread-row', dataset: { id: String(t.id) } }, btn, menu.el);
  }

  renderList() {
    const active = document.activeElement;
    const kind = active && this.ctx.sidebar.contains(active) ? active.dataset.testid : null;
    const refocus = kind === 'thread-menu' || kind === 'thread-item' ? { kind, id: active.dataset.id } : null;
    const grouped = this.grouped && this.pinned.length > 0;
    replace(this.pinnedList, grouped ? this.pinned.map((t) => this.row(t)) : []);
    this.pinnedGroup.hidden = !grouped;
    replace(this.list, this.threads.map((t) => this.row(t)));
    this.renderListStatus();
    const want = this.focusAfter ? { kind: 'thread-menu', id: this.focusAfter } : refocus;
    this.focusAfter = null;
    if (want) {
      const el = this.scroller.querySelector(`[data-testid=${want.kind}][data-id="${want.id}"]`)
        || (want.kind === 'thread-menu' ? this.scroller.querySelector('[data-testid=thread-item]') : null);
      if (el) el.focus({ preventScroll: false });
    }
  }

  findSummary(id) {
    return this.pinned.find((t) => t.id === id) || this.threads.find((t) => t.id === id) || null;
  }

  dropSummary(id) {
    let i = this.pinned.findIndex((t) => t.id === id);
    if (i >= 0) { this.pinned.splice(i, 1); return true; }
    i = this.threads.findIndex((t) => t.id === id);
    if (i >= 0) { this.threads.splice(i, 1); return true; }
    return false;
  }

  upsertSummary(summary, options) {
    this.mergeSummary(summary, options);
    this.renderList();
  }

  /** upsertSummary() without the rendering (live updates merge several, then render once). */
  mergeSummary(summary, { isNew = false } = {}) {
    const prev = this.findSummary(summary.id);
    const merged = { ...(prev || {}), ...summary };
    this.dropSummary(summary.id);
    if (this.matches(merged)) {
      const target = this.grouped && merged.pinned ? this.pinned : this.threads;
      const last = this.threads[this.threads.length - 1];
      // A thread older than the last one loaded (or any, while the first page is still
      // coming) arrives with a page of the list: do not add it out of order now.
      const later = target === this.threads && !isNew && !prev && this.hasMore && (!last || byRecency(merged, last) > 0);
      if (!later) target.push(merged);
      target.sort(byRecency);
    }
  }

  removeSummary(id) {
    const list = [...this.pinned, ...this.threads];
    const i = list.findIndex((t) => t.id === id);
    this.dropSummary(id);
    this.renderList();
    return i;
  }

  /** Pin, archive (or undo them) through PUT; organizing keeps updated_at. */
  async organize(t, change) {
    try {
      const thread = await api('PUT', `/api/v1/chat-threads/${t.id}`, change);
      this.focusAfter = String(t.id);
      this.upsertSummary(summaryOf(thread));
      if (this.currentId === t.id) {
        this.current = { ...(this.current || {}), ...thread };
        this.paintFlags();
      }
      if (!this.findSummary(t.id)) {
        // It left this list (archived, unarchived): keep the focus in the list.
        this.focusAfter = null;
        const first = this.scroller.querySelector('[data-testid=thread-item]');
        if (first) first.focus();
      }
      if ('archived' in change) this.loadTags();
    } catch (err) {
      this.banner.show(`Could not change “${t.title}”: ${err.message}`);
    }
  }

  async editTags(t) {
    const known = this.tags.map((x) => x.tag);
    const tags = await tagsDialog({ title: t.title || 'New chat', tags: t.tags || [], known });
    if (tags === null) {
      this.focusAfter = String(t.id);
      this.renderList();
      return;
    }
    try {
      const thread = await api('PUT', `/api/v1/chat-threads/${t.id}`, { tags });
      this.focusAfter = String(t.id);
      this.upsertSummary(summaryOf(thread));
      if (this.currentId === t.id) {
        this.current = { ...(this.current || {}), ...thread };
        this.paintFlags();
      }
      await this.loadTags();
    } catch (err) {
      this.banner.show(`Could not save the tags: ${err.message}`);
    }
  }

  async runImport() {
    const file = this.importInput.files && this.importInput.files[0];
    this.importInput.value = '';
    if (!file) return;
    const st = this.importStatus;
    st.hidden = false;
    st.className = 'import-status';
    st.removeAttribute('data-imported');
    st.removeAttribute('data-skipped');
    replace(st, h('span', { class: 'spinner' }), `Importing ${file.name}…`);
    try {
      const { threads, droppedMessages } = await readImportFile(file);
      const result = await importThreads(threads);
      st.dataset.imported = String(result.imported);
      st.dataset.skipped = String(result.skipped);
      let text = `Imported ${result.imported} ${result.imported === 1 ? 'thread' : 'threads'}, skipped ${result.skipped} already imported.`;
      if (droppedMessages) text += ` ${droppedMessages} system or malformed ${droppedMessages === 1 ? 'message was' : 'messages were'} left out.`;
      st.classList.add('is-ok');
      replace(st, text);
      await this.resetList();
    } catch (err) {
      st.classList.add('is-error');
      replace(st, `Import failed: ${err.message}`);
    }
  }

  // ------------------------------------------------------------ main
  buildMain() {
    this.titleEl = h('h1', { class: 'chat-title', testid: 'thread-title' }, 'New chat');
    this.renameBtn = h('button', { type: 'button', class: 'icon-btn', testid: 'rename-thread', 'aria-label': 'Rename this thread', title: 'Rename' }, icon('pencil'));
    this.deleteBtn = h('button', { type: 'button', class: 'icon-btn icon-btn-danger', testid: 'delete-thread', 'aria-label': 'Delete this thread', title: 'Delete' }, icon('trash'));
    this.stored = storedMarker();
    this.flagsEl = h('span', { class: 'chat-flags', testid: 'thread-flags', hidden: true });
    this.renameBtn.addEventListener('click', () => this.rename());
    this.titleEl.addEventListener('dblclick', () => this.rename());
    this.deleteBtn.addEventListener('click', () => this.deleteCurrent());
    this.shareBtn = h('button', { type: 'button', class: 'btn btn-small', testid: 'share-thread', title: 'Let other accounts read this thread' }, 'Share with…');
    this.shareBtn.addEventListener('click', () => {
      if (this.current && !this.readOnly) shareDialog({ threadId: this.current.id, title: this.current.title });
    });
    this.shareLinkBtn = h('button', { type: 'button', class: 'btn btn-small', testid: 'share-link-thread', title: 'A read-only link for anyone, no account needed' }, 'Share link');
    this.shareLinkBtn.addEventListener('click', () => {
      if (this.current && !this.readOnly) shareLinkDialog({ threadId: this.current.id, title: this.current.title });
    });
    this.sharedNote = h('p', { class: 'shared-note', testid: 'shared-note', role: 'status', hidden: true });
    this.banner = errorBanner();
    const exportPath = (fmt) => () => `/api/v1/chat-threads/${this.currentId}/export?format=${fmt}`;
    const exportFailed = (err) => this.banner.show(`Could not export: ${err.message}`);
    this.exportMdBtn = exportButton({ label: 'Export as Markdown', text: 'Markdown', testid: 'export-thread-md', path: exportPath('md'), fallback: 'thread.md', onError: exportFailed });
    this.exportJsonBtn = exportButton({ label: 'Export as JSON', text: 'JSON', testid: 'export-thread-json', path: exportPath('json'), fallback: 'thread.json', onError: exportFailed });
    this.msgs = h('div', { class: 'messages', testid: 'messages', role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages' });
    this.composer = composer({ onSend: (text) => this.send(text), placeholder: 'Ask anything…' });
    replace(this.ctx.main,
      h('div', { class: 'chat-head' },
        h('div', { class: 'chat-head-text' }, this.titleEl, this.stored.el, this.flagsEl),
        h('div', { class: 'chat-head-actions' }, this.shareBtn, this.shareLinkBtn, this.exportMdBtn, this.exportJsonBtn, this.renameBtn, this.deleteBtn)),
      this.sharedNote,
      this.banner.el,
      this.msgs,
      this.composer.el);
  }

  route(param, force = false) {
    const id = param && /^\d+$/.test(param) ? Number(param) : null;
    if (!force && this.opened && id === this.currentId) return;
    this.opened = true;
    if (id === null) this.showDraft();
    else this.open(id);
  }

  setChrome(hasThread) {
    // A thread shared with this account is read-only: no rename, delete, share or composer.
    const ro = hasThread && this.readOnly;
    this.renameBtn.hidden = !hasThread || ro;
    this.deleteBtn.hidden = !hasThread || ro;
    this.shareBtn.hidden = !hasThread || ro;
    this.shareLinkBtn.hidden = !hasThread || ro;
    this.composer.el.hidden = ro;
    this.sharedNote.hidden = !ro;
    if (ro) this.sharedNote.textContent = `Shared with you by ${ownerName(this.current && this.current.owner)} · read-only`;
    this.exportMdBtn.hidden = !hasThread;
    this.exportJsonBtn.hidden = !hasThread;
    this.stored.set(hasThread ? 'stored' : 'hidden');
    for (const el of this.scroller.querySelectorAll('[aria-current]')) el.removeAttribute('aria-current');
    if (hasThread) {
      const active = this.scroller.querySelector(`[data-testid=thread-item][data-id="${this.currentId}"]`);
      if (active) active.setAttribute('aria-current', 'true');
    }
    this.shared.setCurrent(hasThread && ro ? this.currentId : null); // after the loop above
    this.paintFlags();
  }

  /** The open thread's pinned / archived / tags, next to its title. */
  paintFlags() {
    const t = this.current && this.current.id === this.currentId ? this.current : null;
    const flags = [];
    if (t && t.pinned) flags.push(h('span', { class: 'pill pill-flag', testid: 'thread-pinned-pill' }, icon('pin'), 'Pinned'));
    if (t && t.archived) flags.push(h('span', { class: 'pill pill-flag', testid: 'thread-archived-pill' }, icon('archive'), 'Archived'));
    for (const tag of (t && t.tags) || []) flags.push(h('span', { class: 'chip chip-mini', testid: 'thread-tag' }, tag));
    replace(this.flagsEl, flags);
    this.flagsEl.hidden = !flags.length;
  }

  /** Open thread `id` scrolled to message `index`, marked with `terms` (a search hit). */
  reveal({ id, index, terms }) {
    this.pendingReveal = { id: Number(id), index, terms };
    this.applyReveal();
  }

  applyReveal() {
    const r = this.pendingReveal;
    if (!r || !this.current || this.current.id !== r.id || this.currentId !== r.id) return;
    this.pendingReveal = null;
    revealMessage(this.msgs, r.index, r.terms);
  }

  showDraft() {
    this.openSeq += 1;
    this.currentId = null;
    this.current = null;
    this.readOnly = false;
    this.banner.hide();
    this.titleEl.textContent = 'New chat';
    this.setChrome(false);
    replace(this.msgs, h('div', { class: 'empty', testid: 'empty-thread' },
      h('img', { src: 'icons/logo.svg', alt: '', class: 'empty-logo' }),
      h('h2', null, 'Start a new conversation'),
      h('p', null, 'Every message and reply is stored in your chatvault database, so it is here on any browser you sign in from.')));
    this.composer.focus();
  }

  async open(id) {
    const seq = ++this.openSeq;
    this.currentId = id;
    this.current = null;
    this.readOnly = false;
    this.banner.hide();
    this.setChrome(false);
    const known = this.findSummary(id) || this.shared.find(id);
    this.titleEl.textContent = known ? known.title : 'Loading…';
    replace(this.msgs, h('p', { class: 'loading', role: 'status', testid: 'thread-loading' }, h('span', { class: 'spinner' }), 'Loading messages…'));
    try {
      const thread = await api('GET', `/api/v1/chat-threads/${id}`);
      if (seq !== this.openSeq) return;
      this.readOnly = Boolean(thread.owner); // only a member's view names the owner
      this.showThread(thread);
      if (this.readOnly) this.shared.update(thread);
      else this.upsertSummary(summaryOf(thread));
      this.setChrome(true);
    } catch (err) {
      if (seq !== this.openSeq) return;
      if (err.status === 404 || err.status === 403) {
        this.removeSummary(id);
        if (this.shared.find(id)) this.shared.reload(); // shared no more
        this.showDraft();
        history.replaceState(null, '', '#/assistant');
        this.banner.show(err.status === 404 ? 'That thread no longer exists. It may have been deleted in another window.' : 'That thread belongs to another account.');
      } else {
        replace(this.msgs);
        this.banner.show(`Could not open the thread: ${err.message}`);
      }
    }
  }

  /** Show `thread`'s messages. `live`: a change from another tab or device — the reader's
   *  place is kept unless it was at the end. */
  showThread(thread, { live = false } = {}) {
    const m = this.msgs;
    const atEnd = m.scrollHeight - m.scrollTop - m.clientHeight < 120;
    const top = m.scrollTop;
    this.current = thread;
    this.titleEl.textContent = thread.title;
    const bubbles = (thread.messages || []).map((msg) => messageBubble(msg.role, msg.content).el);
    if (bubbles.length) replace(this.msgs, bubbles);
    else replace(this.msgs, h('div', { class: 'empty', testid: 'empty-thread' }, h('p', null, 'No messages yet. Say something below.')));
    this.refreshActions(thread);
    if (live && !atEnd) m.scrollTop = top;
    else this.scrollToEnd(true);
    if (!live) this.applyReveal();
  }

  scrollToEnd(force) {
    const m = this.msgs;
    if (force || m.scrollHeight - m.scrollTop - m.clientHeight < 120) m.scrollTop = m.scrollHeight;
  }

  async send(text) {
    if (this.streaming || this.readOnly) return false;
    this.banner.hide();
    let id = this.currentId;
    if (id === null) {
      try {
        const thread = await api('POST', '/api/v1/chat-threads', {});
        id = thread.id;
        this.currentId = id;
        this.current = thread;
        this.openSeq += 1;
        history.replaceState(null, '', `#/assistant/${id}`);
        this.upsertSummary(summaryOf(thread), { isNew: true });
        this.setChrome(true);
      } catch (err) {
        this.banner.show(`Could not start a thread: ${err.message}`);
        return false;
      }
    }
    const seq = this.openSeq;
    const empty = this.msgs.querySelector('.empty');
    if (empty) empty.remove();
    const mine = messageBubble('user', text);
    const reply = messageBubble('assistant', '');
    reply.setState('streaming');
    reply.el.dataset.deltas = '0';
    this.msgs.append(mine.el, reply.el);
    this.scrollToEnd(true);
    this.stored.set('saving');
    this.streaming = true;

    let acc = '';
    let deltas = 0;
    let scheduled = false;
    const paint = () => {
      scheduled = false;
      reply.setContent(acc);
      this.scrollToEnd(false);
    };
    try {
      const result = await stream(`/api/v1/chat-threads/${id}/complete`, { content: text, stream: true }, (delta) => {
        acc += delta;
        deltas += 1;
        reply.el.dataset.deltas = String(deltas);
        if (!scheduled) {
          scheduled = true;
          requestAnimationFrame(paint);
        }
      });
      let thread = result && Array.isArray(result.messages) ? result : result && result.thread;
      if (!thread || !Array.isArray(thread.messages)) thread = await api('GET', `/api/v1/chat-threads/${id}`);
      const last = thread.messages[thread.messages.length - 1];
      reply.setContent(last && last.role === 'assistant' ? last.content : acc);
      reply.setState('done');
      this.upsertSummary(summaryOf(thread));
      if (seq === this.openSeq) {
        this.current = thread;
        this.refreshActions(thread);
        this.titleEl.textContent = thread.title;
        this.stored.set('stored');
        this.scrollToEnd(false);
      }
      return true;
    } catch (err) {
      reply.setContent(acc);
      reply.setState('failed');
      if (seq === this.openSeq) this.banner.show(err.message);
      // The user's message is saved even when the reply fails: show what the database holds.
      try {
        const thread = await api('GET', `/api/v1/chat-threads/${id}`);
        this.upsertSummary(summaryOf(thread));
        if (seq === this.openSeq) {
          this.current = thread;
          this.titleEl.textContent = thread.title;
        }
      } catch { /* keep the banner */ }
      if (seq === this.openSeq) this.stored.set('stored');
      return true;
    } finally {
      this.streaming = false;
    }
  }

  // ------------------------------------------------------------ message edits (issue 13)
  /** Give each bubble of the open thread its actions: Edit and Fork, and Regenerate on the
   *  last reply; a shared (read-only) thread offers Fork only (the copy is the reader's own). */
  refreshActions(thread) {
    const msgs = (thread && thread.messages) || [];
    const els = [...this.msgs.querySelectorAll('[data-testid=message]')];
    if (els.length !== msgs.length) return; // the page is not showing exactly this thread
    const lastUser = msgs.map((m) => m.role).lastIndexOf('user');
    els.forEach((el, i) => {
      const old = el.querySelector('.msg-actions');
      if (old) old.remove();
      el.dataset.index = String(i);
      const bar = h('div', { class: 'msg-actions', testid: 'message-actions' });
      const btn = (text, label, testid, name, fn) => {
        const b = h('button', { type: 'button', class: 'msg-action', testid, title: label, 'aria-label': label }, icon(name), h('span', null, text));
        b.addEventListener('click', fn);
        return b;
      };
      if (!this.readOnly) bar.append(btn('Edit', 'Edit this message', 'edit-message', 'pencil', () => this.editMessage(el, msgs[i], i)));
      if (!this.readOnly && i === msgs.length - 1 && msgs[i].role === 'assistant' && lastUser >= 0) {
        bar.append(btn('Regenerate', 'Regenerate this reply', 'regenerate', 'refresh', () => this.regenerate()));
      }
      bar.append(btn('Fork', 'Fork: a new thread with the messages up to here', 'fork-message', 'fork', () => this.fork(i + 1)));
      el.append(bar);
    });
  }

  /** Reload the open thread from the database and show it (after an edit). */
  async reloadCurrent(id, seq) {
    const thread = await api('GET', `/api/v1/chat-threads/${id}`);
    this.upsertSummary(summaryOf(thread));
    if (seq === this.openSeq && this.currentId === id) this.showThread(thread);
    return thread;
  }

  /** Inline edit of message `index`. Saving a user message PATCHes it, removes what followed
   *  it and asks for a new reply (as ChatGPT does); saving a reply only PATCHes it. */
  editMessage(el, m, index) {
    if (this.streaming || this.readOnly || el.querySelector('[data-testid=message-editor]')) return;
    const id = this.currentId;
    const seq = this.openSeq;
    const body = el.querySelector('.msg-body');
    const area = h('textarea', { class: 'msg-edit', testid: 'edit-input', rows: 3, 'aria-label': 'Edit the message' });
    area.value = m.content;
    const save = h('button', { type: 'button', class: 'btn btn-primary btn-small', testid: 'edit-save' }, m.role === 'user' ? 'Save and send' : 'Save');
    const cancel = h('button', { type: 'button', class: 'btn btn-small', testid: 'edit-cancel' }, 'Cancel');
    const form = h('div', { class: 'msg-editor', testid: 'message-editor' }, area, h('div', { class: 'msg-editor-actions' }, cancel, save));
    body.hidden = true;
    body.after(form);
    area.focus();
    const close = () => { form.remove(); body.hidden = false; };
    cancel.addEventListener('click', close);
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') close();
      else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) save.click();
    });
    save.addEventListener('click', async () => {
      if (this.streaming) return;
      save.disabled = true;
      this.banner.hide();
      try {
        const count = this.current && this.current.id === id ? this.current.messages.length : index + 1;
        await api('PATCH', `/api/v1/chat-threads/${id}/messages/${index}`, { content: area.value });
        if (m.role === 'user' && index + 1 < count) {
          await api('DELETE', `/api/v1/chat-threads/${id}/messages?from=${index + 1}`);
        }
        await this.reloadCurrent(id, seq);
        if (m.role === 'user' && seq === this.openSeq) await this.regenerate();
      } catch (err) {
        save.disabled = false;
        this.banner.show(`Could not save the edit: ${err.message}`);
      }
    });
  }

  /** Replace the replies after the last user message by a new one, streamed. */
  async regenerate() {
    if (this.streaming || this.readOnly || this.currentId === null) return;
    const id = this.currentId;
    const seq = this.openSeq;
    this.banner.hide();
    const els = [...this.msgs.querySelectorAll('[data-testid=message]')];
    for (let k = els.length - 1; k >= 0 && els[k].dataset.role === 'assistant'; k--) els[k].remove();
    const reply = messageBubble('assistant', '');
    reply.setState('streaming');
    this.msgs.append(reply.el);
    this.scrollToEnd(true);
    this.stored.set('saving');
    this.streaming = true;
    let acc = '';
    try {
      await stream(`/api/v1/chat-threads/${id}/complete`, { regenerate: true, stream: true }, (delta) => {
        acc += delta;
        reply.setContent(acc);
        this.scrollToEnd(false);
      });
      reply.setState('done');
    } catch (err) {
      reply.setState('failed');
      if (seq === this.openSeq) this.banner.show(err.message);
    } finally {
      this.streaming = false;
    }
    try {
      await this.reloadCurrent(id, seq);
    } catch { /* keep what is shown */ }
    if (seq === this.openSeq) this.stored.set('stored');
  }

  /** A new thread holding messages 0..upto-1 of the open one, opened at once. */
  async fork(upto) {
    if (this.currentId === null) return;
    this.banner.hide();
    try {
      const thread = await api('POST', `/api/v1/chat-threads/${this.currentId}/fork`, { upto });
      this.upsertSummary(summaryOf(thread), { isNew: true });
      window.location.hash = `#/assistant/${thread.id}`;
    } catch (err) {
      this.banner.show(`Could not fork: ${err.message}`);
    }
  }

  rename() {
    if (!this.current || this.renameBtn.hidden) return;
    const id = this.current.id;
    startInlineRename(this.titleEl, this.current.title, async (title) => {
      try {
        const thread = await api('PUT', `/api/v1/chat-threads/${id}`, { title });
        this.upsertSummary(summaryOf(thread));
        if (this.currentId === id) {
          this.current = thread;
          this.titleEl.textContent = thread.title;
        }
      } catch (err) {
        this.banner.show(`Could not rename: ${err.message}`);
        throw err;
      }
    }, { testid: 'rename-input' });
  }

  async deleteCurrent() {
    if (!this.current) return;
    const { id, title } = this.current;
    const ok = await confirmDialog(`Delete “${title}”? Its messages are removed from the database. This cannot be undone.`);
    if (!ok) return;
    this.deletingId = id; // its live change is this tab's own: the delete closes it here
    try {
      await api('DELETE', `/api/v1/chat-threads/${id}`);
    } catch (err) {
      if (err.status !== 404) {
        this.banner.show(`Could not delete: ${err.message}`);
        return;
      }
    } finally {
      this.deletingId = null;
    }
    this.afterDelete(id);
  }

  /** Thread `id` is gone: out of the list; if it was open, the next one opens (or a new chat). */
  afterDelete(id) {
    const at = this.removeSummary(id);
    if (this.currentId !== id) return;
    const all = [...(this.grouped ? this.pinned : []), ...this.threads];
    const next = all[Math.min(Math.max(at, 0), all.length - 1)];
    if (next) {
      window.location.hash = `#/assistant/${next.id}`;
    } else {
      history.replaceState(null, '', '#/assistant');
      this.showDraft();
    }
  }

  // ------------------------------------------------------------ live updates (live.js)
  /**
   * Changes from the events stream, this tab's own included: a batch of {kind, id, op}.
   * The sidebar merges what changed (the head of the list fetched again, threads outside it
   * one by one) and renders only when something differs; the open thread is reloaded when
   * its messages, title or flags changed elsewhere — never while a reply streams, a message
   * is being edited or the title renamed (it waits for them), and the composer is left alone.
   */
  liveChanges(changes) {
    let any = false;
    for (const c of changes) {
      const id = Number(c.id);
      if (c.kind !== 'thread' || !Number.isInteger(id)) continue;
      this.liveIds.set(id, c.op === 'delete' ? 'delete' : 'upsert');
      any = true;
    }
    if (any) this.liveFlush();
  }

  /** Changes may have been missed (the stream started over): reload the list and the thread. */
  liveReset() {
    if (this.destroyed) return;
    this.liveIds.clear();
    this.resetList();
    this.loadTags();
    this.shared.reload();
    if (this.currentId !== null && !this.readOnly) this.liveOpen(this.currentId);
  }

  /** A menu of the list is open, or a page of it is loading: the list is not to move now. */
  get listBusy() {
    return this.loading || Boolean(this.scroller.querySelector('[aria-expanded="true"]'));
  }

  liveFlush() {
    clearTimeout(this.liveTimer);
    this.liveTimer = null;
    if (this.destroyed || !this.liveIds.size) return;
    if (this.liveRunning || this.listBusy) {
      this.liveTimer = setTimeout(() => this.liveFlush(), LIVE_RETRY_MS);
      return;
    }
    const batch = this.liveIds;
    this.liveIds = new Map();
    this.liveRunning = true;
    this.liveApply(batch)
      .catch(() => { /* the next change, or a reload, brings the list up to date */ })
      .finally(() => {
        this.liveRunning = false;
        if (this.liveIds.size && !this.liveTimer) this.liveFlush();
      });
  }

  listSignature() {
    const sig = (t) => [t.id, t.title, t.updated_at, t.message_count, Boolean(t.pinned), Boolean(t.archived), t.tags || [], this.done];
    return JSON.stringify([this.pinned.map(sig), this.threads.map(sig)]);
  }

  async liveApply(batch) {
    const gen = this.listGen;
    const gone = new Set();
    const changed = [];
    for (const [id, op] of batch) (op === 'delete' ? gone.add(id) : changed.push(id));

    // The head of the list (and every pinned thread) as the server has them now.
    let head = null;
    let headMore = true;
    let pins = null;
    if (changed.length) {
      const [page, pinned] = await Promise.all([
        apiWithHeaders('GET', this.listPath({ pinned: this.grouped ? false : undefined })),
        this.grouped ? this.fetchPinned() : Promise.resolve(null),
      ]);
      if (gen !== this.listGen || this.destroyed) return;
      head = Array.isArray(page.data) ? page.data : [];
      headMore = Boolean(page.headers.get('X-Next-Cursor')) && head.length > 0;
      pins = pinned;
    }
    // Changed threads the head does not settle: those in the list (archived, untagged,
    // renamed without moving…), any when more than a page is shown, and the open one (unless
    // busy here: liveOpen() reads it once it is free).
    const inHead = new Set([...(head || []), ...(pins || [])].map((t) => t.id));
    const big = this.threads.length + this.pinned.length > PAGE;
    const wanted = changed.filter((id) => (id === this.currentId ? !this.readOnly && !this.openBusy
      : !inHead.has(id) && (big || this.findSummary(id))));
    if (wanted.length > LIVE_FETCH_MAX) {
      this.liveReset();
      return;
    }
    const fetched = new Map();
    await Promise.all(wanted.map(async (id) => {
      try {
        const thread = await api('GET', `/api/v1/chat-threads/${id}`);
        if (!thread.owner) fetched.set(id, thread);
      } catch (err) {
        if (err.status === 404 || err.status === 403) gone.add(id);
      }
    }));
    if (gen !== this.listGen || this.destroyed) return;

    const before = this.listSignature();
    for (const id of gone) this.dropSummary(id);
    if (pins) {
      const seen = new Set();
      this.pinned = pins.filter((t) => t.pinned && !gone.has(t.id) && !seen.has(t.id) && seen.add(t.id));
    }
    if (head) {
      const fresh = head.filter((t) => !gone.has(t.id));
      if (!headMore) {
        // The head is the whole list.
        this.threads = fresh;
        this.done = true;
      } else {
        // What the list showed down to the head's last thread and the head does not hold
        // left this list; older ones are kept, and fresh ones take their place.
        const last = head[head.length - 1];
        const ids = new Set(head.map((t) => t.id));
        this.threads = this.threads.filter((t) => !ids.has(t.id) && byRecency(t, last) > 0);
        for (const t of fresh) this.mergeSummary(t, { isNew: true });
      }
    }
    for (const thread of fetched.values()) this.mergeSummary(summaryOf(thread));
    if (this.listSignature() !== before) this.renderList();

    if (changed.length || gone.size) this.liveTags();
    const open = this.currentId;
    if (open !== null && !this.readOnly) {
      if (gone.has(open)) this.liveOpen(open, null);
      else if (changed.includes(open)) this.liveOpen(open, fetched.get(open)); // undefined: read it
    }
  }

  async liveTags() {
    try {
      const data = await api('GET', '/api/v1/tags');
      if (this.destroyed) return;
      const tags = Array.isArray(data) ? data.filter((x) => x && typeof x.tag === 'string') : [];
      if (JSON.stringify(tags) === JSON.stringify(this.tags)) return;
      const active = document.activeElement;
      const focused = active && this.tagBar.contains(active) ? active.dataset.tag : null;
      this.tags = tags;
      this.renderTags();
      if (focused !== null && focused !== undefined) {
        const chip = [...this.tagBar.querySelectorAll('[data-testid=tag-chip]')].find((c) => c.dataset.tag === focused);
        if (chip) chip.focus();
      }
    } catch { /* the chips stay as they were */ }
  }

  /** The open thread is busy here: a reply streams, a message or the title is being edited. */
  get openBusy() {
    return this.streaming || Boolean(this.msgs.querySelector('[data-testid=message-editor]'))
      || Boolean(this.titleEl.parentElement && this.titleEl.parentElement.querySelector('[data-testid=rename-input]'));
  }

  /** Bring the open thread `id` up to date: `thread` as just fetched, null when it is gone,
   *  undefined to fetch it. Waits while the thread is busy in this tab. */
  async liveOpen(id, thread) {
    clearTimeout(this.liveOpenTimer);
    this.liveOpenTimer = null;
    // Not loaded yet: the open() in flight reads the thread as it is now.
    if (this.destroyed || this.currentId !== id || this.readOnly || !this.current || this.deletingId === id) return;
    if (this.openBusy) {
      // After the reply (or the edit), look again: the reply's own reload may not show
      // what another tab added meanwhile.
      this.liveOpenTimer = setTimeout(() => this.liveOpen(id), LIVE_RETRY_MS);
      return;
    }
    const seq = this.openSeq;
    let fresh = thread;
    if (fresh === undefined) {
      try {
        fresh = await api('GET', `/api/v1/chat-threads/${id}`);
      } catch (err) {
        if (err.status !== 404 && err.status !== 403) return;
        fresh = null;
      }
      if (seq !== this.openSeq || this.currentId !== id) return;
      if (this.openBusy) { this.liveOpen(id); return; }
      if (fresh && this.listBusy) {
        this.liveIds.set(id, 'upsert'); // its row, once the list is free
        this.liveFlush();
      } else if (fresh) {
        const before = this.listSignature();
        this.mergeSummary(summaryOf(fresh));
        if (this.listSignature() !== before) this.renderList();
      }
    }
    if (fresh === null) {
      if (!this.composer.textarea.value.trim()) {
        this.afterDelete(id);
        return;
      }
      // Something is typed for it: keep it, in a new chat, rather than under another thread.
      this.removeSummary(id);
      history.replaceState(null, '', '#/assistant');
      this.showDraft();
      this.banner.show('This thread was deleted in another window. What you typed is kept: sending it starts a new thread.');
      return;
    }
    const cur = this.current;
    const key = (msgs) => JSON.stringify((msgs || []).map((m) => [m.role, m.content]));
    const sameMessages = key(cur.messages) === key(fresh.messages);
    if (!sameMessages) {
      this.showThread(fresh, { live: true });
    } else {
      this.current = fresh;
      if (this.titleEl.textContent !== fresh.title) this.titleEl.textContent = fresh.title;
    }
    this.paintFlags();
  }
}
