// The Assistant view: threads sidebar (paged by scroll), the open thread,
// streaming replies, rename, delete and import of browser-only history.
import { api, apiWithHeaders, stream } from './http.js';
import { h, icon, replace, timeAgo, nextId } from './dom.js';
import { confirmDialog, errorBanner, messageBubble, composer, startInlineRename, storedMarker } from './ui.js';
import { readImportFile, importThreads } from './importer.js';

const PAGE = 30;

function summaryOf(thread) {
  return {
    id: thread.id,
    title: thread.title,
    created_at: thread.created_at,
    updated_at: thread.updated_at,
    message_count: Array.isArray(thread.messages) ? thread.messages.length : (thread.message_count ?? 0),
  };
}

function byRecency(a, b) {
  const ta = Date.parse(a.updated_at) || 0;
  const tb = Date.parse(b.updated_at) || 0;
  return tb - ta || b.id - a.id;
}

export class AssistantView {
  constructor(ctx) {
    this.ctx = ctx;
    this.threads = [];
    this.offset = 0;
    this.total = null;
    this.loading = false;
    this.listFailed = false;
    this.currentId = null;
    this.current = null;
    this.opened = false;
    this.openSeq = 0;
    this.streaming = false;
    this.buildSidebar();
    this.buildMain();
    this.loadMore();
  }

  destroy() {
    this.destroyed = true;
    window.removeEventListener('resize', this.onResize);
  }

  // ------------------------------------------------------------ sidebar
  buildSidebar() {
    const newBtn = h('button', { type: 'button', class: 'btn btn-primary btn-block', testid: 'new-chat' }, icon('plus'), 'New chat');
    newBtn.addEventListener('click', () => {
      this.ctx.closeSidebar();
      if (window.location.hash === '#/assistant') this.route(null, true);
      else window.location.hash = '#/assistant';
    });

    const fileId = nextId('import');
    this.importInput = h('input', { type: 'file', id: fileId, accept: 'application/json,.json', hidden: true, testid: 'import-file' });
    const importBtn = h('button', { type: 'button', class: 'btn btn-small btn-block', testid: 'import-button', title: 'Import the chat history an older version of this page kept in your browser (a JSON file)' }, icon('upload'), 'Import history');
    importBtn.addEventListener('click', () => this.importInput.click());
    this.importInput.addEventListener('change', () => this.runImport());
    this.importStatus = h('p', { class: 'import-status', role: 'status', testid: 'import-result', hidden: true });

    this.list = h('ul', { class: 'item-list', testid: 'thread-list' });
    this.listStatus = h('p', { class: 'list-status', testid: 'thread-list-status', role: 'status' });
    this.scroller = h('nav', { class: 'sidebar-scroll', 'aria-label': 'Chat threads', testid: 'thread-scroller' },
      h('h2', { class: 'sidebar-title' }, 'Threads'), this.list, this.listStatus);
    this.scroller.addEventListener('scroll', () => this.maybeLoadMore(), { passive: true });
    this.onResize = () => this.maybeLoadMore();
    window.addEventListener('resize', this.onResize);

    replace(this.ctx.sidebar,
      h('div', { class: 'sidebar-head' }, newBtn, importBtn, this.importInput, this.importStatus),
      this.scroller);
  }

  maybeLoadMore() {
    const s = this.scroller;
    if (s.scrollTop + s.clientHeight >= s.scrollHeight - 160) this.loadMore();
  }

  get hasMore() {
    return this.total === null || this.offset < this.total;
  }

  resetList() {
    this.listGen = (this.listGen || 0) + 1;
    this.loading = false;
    this.threads = [];
    this.offset = 0;
    this.total = null;
    this.renderList();
    return this.loadMore();
  }

  async loadMore() {
    if (this.loading || !this.hasMore || this.destroyed) return;
    const gen = this.listGen;
    this.loading = true;
    this.listFailed = false;
    this.renderListStatus();
    try {
      const { data, headers } = await apiWithHeaders('GET', `/api/v1/chat-threads?limit=${PAGE}&offset=${this.offset}`);
      if (gen !== this.listGen) return;
      const items = Array.isArray(data) ? data : [];
      const total = Number.parseInt(headers.get('X-Total-Count') ?? '', 10);
      this.offset += items.length;
      this.total = Number.isFinite(total) ? total : (items.length < PAGE ? this.offset : null);
      if (items.length === 0 && this.total === null) this.total = this.offset;
      const known = new Set(this.threads.map((t) => t.id));
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
    if (this.loading) {
      replace(s, h('span', { class: 'spinner' }), this.threads.length ? 'Loading more…' : 'Loading threads…');
    } else if (this.listFailed) {
      s.classList.add('is-error');
      const retry = h('button', { type: 'button', class: 'btn btn-small', testid: 'thread-list-retry' }, 'Retry');
      retry.addEventListener('click', () => this.loadMore());
      replace(s, `Could not load threads: ${this.listFailed.message} `, retry);
    } else if (!this.threads.length) {
      replace(s, 'No threads yet. Send a message to start one.');
    } else if (!this.hasMore) {
      replace(s, this.threads.length === 1 ? '1 thread' : `${this.threads.length} threads`);
    } else {
      replace(s, '');
    }
  }

  renderList() {
    const items = this.threads.map((t) => {
      const btn = h('button', { type: 'button', class: 'item', testid: 'thread-item', dataset: { id: String(t.id) } },
        h('span', { class: 'item-title', testid: 'thread-item-title' }, t.title || 'New chat'),
        h('span', { class: 'item-meta' }, `${t.message_count ?? 0} ${t.message_count === 1 ? 'message' : 'messages'} · ${timeAgo(t.updated_at)}`));
      if (t.id === this.currentId) btn.setAttribute('aria-current', 'true');
      btn.addEventListener('click', () => {
        this.ctx.closeSidebar();
        window.location.hash = `#/assistant/${t.id}`;
        if (t.id === this.currentId) this.route(String(t.id));
      });
      return h('li', null, btn);
    });
    replace(this.list, items);
    this.renderListStatus();
  }

  upsertSummary(summary, { isNew = false } = {}) {
    const i = this.threads.findIndex((t) => t.id === summary.id);
    if (i >= 0) this.threads[i] = { ...this.threads[i], ...summary };
    else {
      this.threads.push(summary);
      if (isNew) {
        this.offset += 1;
        if (this.total !== null) this.total += 1;
      }
    }
    this.threads.sort(byRecency);
    this.renderList();
  }

  removeSummary(id) {
    const i = this.threads.findIndex((t) => t.id === id);
    if (i >= 0) {
      this.threads.splice(i, 1);
      this.offset = Math.max(0, this.offset - 1);
      if (this.total !== null) this.total = Math.max(0, this.total - 1);
    }
    this.renderList();
    return i;
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
    this.renameBtn.addEventListener('click', () => this.rename());
    this.titleEl.addEventListener('dblclick', () => this.rename());
    this.deleteBtn.addEventListener('click', () => this.deleteCurrent());
    this.banner = errorBanner();
    this.msgs = h('div', { class: 'messages', testid: 'messages', role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages' });
    this.composer = composer({ onSend: (text) => this.send(text), placeholder: 'Ask anything…' });
    replace(this.ctx.main,
      h('div', { class: 'chat-head' },
        h('div', { class: 'chat-head-text' }, this.titleEl, this.stored.el),
        h('div', { class: 'chat-head-actions' }, this.renameBtn, this.deleteBtn)),
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
    this.renameBtn.hidden = !hasThread;
    this.deleteBtn.hidden = !hasThread;
    this.stored.set(hasThread ? 'stored' : 'hidden');
    for (const el of this.list.querySelectorAll('[aria-current]')) el.removeAttribute('aria-current');
    if (hasThread) {
      const active = this.list.querySelector(`[data-id="${this.currentId}"]`);
      if (active) active.setAttribute('aria-current', 'true');
    }
  }

  showDraft() {
    this.openSeq += 1;
    this.currentId = null;
    this.current = null;
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
    this.banner.hide();
    this.setChrome(false);
    const known = this.threads.find((t) => t.id === id);
    this.titleEl.textContent = known ? known.title : 'Loading…';
    replace(this.msgs, h('p', { class: 'loading', role: 'status', testid: 'thread-loading' }, h('span', { class: 'spinner' }), 'Loading messages…'));
    try {
      const thread = await api('GET', `/api/v1/chat-threads/${id}`);
      if (seq !== this.openSeq) return;
      this.showThread(thread);
      this.upsertSummary(summaryOf(thread));
      this.setChrome(true);
    } catch (err) {
      if (seq !== this.openSeq) return;
      if (err.status === 404 || err.status === 403) {
        this.removeSummary(id);
        this.showDraft();
        history.replaceState(null, '', '#/assistant');
        this.banner.show(err.status === 404 ? 'That thread no longer exists. It may have been deleted in another window.' : 'That thread belongs to another account.');
      } else {
        replace(this.msgs);
        this.banner.show(`Could not open the thread: ${err.message}`);
      }
    }
  }

  showThread(thread) {
    this.current = thread;
    this.titleEl.textContent = thread.title;
    const bubbles = (thread.messages || []).map((m) => messageBubble(m.role, m.content).el);
    if (bubbles.length) replace(this.msgs, bubbles);
    else replace(this.msgs, h('div', { class: 'empty', testid: 'empty-thread' }, h('p', null, 'No messages yet. Say something below.')));
    this.scrollToEnd(true);
  }

  scrollToEnd(force) {
    const m = this.msgs;
    if (force || m.scrollHeight - m.scrollTop - m.clientHeight < 120) m.scrollTop = m.scrollHeight;
  }

  async send(text) {
    if (this.streaming) return false;
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
    try {
      await api('DELETE', `/api/v1/chat-threads/${id}`);
    } catch (err) {
      if (err.status !== 404) {
        this.banner.show(`Could not delete: ${err.message}`);
        return;
      }
    }
    const at = this.removeSummary(id);
    const next = this.threads[Math.min(Math.max(at, 0), this.threads.length - 1)];
    if (next) {
      window.location.hash = `#/assistant/${next.id}`;
    } else {
      history.replaceState(null, '', '#/assistant');
      this.showDraft();
    }
  }
}
