// The Companions view: characters (recommended, all, create), starting a chat
// with a character and optional scene and persona, the sidebar of the user's
// chats (the 30 newest are kept), rename, delete and streamed replies.
import { api, stream } from './http.js';
import { h, icon, replace, timeAgo, nextId } from './dom.js';
import { exportButton } from './exporter.js';
import {
  confirmDialog, errorBanner, messageBubble, composer, startInlineRename, storedMarker, avatar, revealMessage,
} from './ui.js';

const HISTORY_LIMIT = 30;
const LIVE_RETRY_MS = 400; // a live update of the open chat waits while a reply streams

export const BUILTIN_AVATARS = [
  { file: 'avatars/fox.svg', label: 'Fox' },
  { file: 'avatars/owl.svg', label: 'Owl' },
  { file: 'avatars/robot.svg', label: 'Robot' },
  { file: 'avatars/cat.svg', label: 'Cat' },
  { file: 'avatars/wizard.svg', label: 'Wizard' },
  { file: 'avatars/astronaut.svg', label: 'Astronaut' },
];

function listOf(data) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data.items)) return data.items;
  return [];
}

function entryOf(result) {
  if (!result || typeof result !== 'object') return null;
  if (result.chat_id && Array.isArray(result.messages)) return result;
  if (result.chat && Array.isArray(result.chat.messages)) return result.chat;
  if (result.entry && Array.isArray(result.entry.messages)) return result.entry;
  return null;
}

function field(label, control, hint) {
  const id = control.id || nextId('field');
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('p', { class: 'field-hint' }, hint) : null);
}

export class CompanionsView {
  constructor(ctx) {
    this.ctx = ctx;
    this.chats = [];
    this.chatsTotal = 0;
    this.current = null; // the open chat entry (or a pending one)
    this.mode = 'home';
    this.streaming = false;
    this.seq = 0;
    this.chatsGen = 0;
    this.liveChats = new Map(); // chat_id → op of live changes not applied yet
    this.liveKinds = new Set(); // 'persona', 'character'
    this.liveTimer = null;
    this.liveRunning = false;
    this.homeRefresh = null; // refills the character grids of the home view
    this.startRefresh = null; // refills the persona choices of the start form
    this.buildSidebar();
    this.body = h('div', { class: 'companions-main' });
    replace(this.ctx.main, this.body);
    this.chatsLoaded = this.loadChats();
  }

  destroy() {
    this.destroyed = true;
    clearTimeout(this.liveTimer);
  }

  route(param) {
    if (param) {
      if (this.mode === 'chat' && this.current && this.current.chat_id === param) return;
      this.openChat(param);
    } else {
      this.showHome();
    }
  }

  // ------------------------------------------------------------ sidebar
  buildSidebar() {
    const home = h('a', { href: '#/companions', class: 'btn btn-primary btn-block', testid: 'companions-home' }, icon('plus'), 'New companion chat');
    home.addEventListener('click', () => {
      this.ctx.closeSidebar();
      if (window.location.hash === '#/companions') this.showHome();
    });
    this.list = h('ul', { class: 'item-list', testid: 'chat-list' });
    this.listStatus = h('p', { class: 'list-status', role: 'status', testid: 'chat-list-status' });
    replace(this.ctx.sidebar,
      h('div', { class: 'sidebar-head' }, home),
      h('nav', { class: 'sidebar-scroll', 'aria-label': 'Your companion chats' },
        h('h2', { class: 'sidebar-title' }, 'Your chats'),
        h('p', { class: 'sidebar-note' }, `Newest first. Only your ${HISTORY_LIMIT} most recent chats are kept.`),
        this.list, this.listStatus));
  }

  /** The sidebar's chats. `quiet` (a live update): no spinner, and no rendering when nothing
   *  changed; the list stays as it was if the request fails. */
  loadChats(options) {
    const loading = this.fetchChats(options);
    this.chatsLoading = loading;
    return loading;
  }

  async fetchChats({ quiet = false } = {}) {
    const gen = ++this.chatsGen;
    if (!quiet) {
      replace(this.listStatus, h('span', { class: 'spinner' }), 'Loading chats…');
      this.listStatus.classList.remove('is-error');
    }
    try {
      const data = await api('GET', `/api/chat-history?page=1&limit=${HISTORY_LIMIT}`);
      if (gen !== this.chatsGen) return this.chatsLoading; // a later load answers
      const chats = listOf(data);
      const spinning = Boolean(this.listStatus.querySelector('.spinner')); // a load it replaced
      const same = quiet && !spinning && JSON.stringify(chats) === JSON.stringify(this.chats);
      this.chats = chats;
      this.chatsTotal = data && Number.isFinite(data.total) ? data.total : this.chats.length;
      if (!same) this.renderChats();
    } catch (err) {
      if (gen !== this.chatsGen || (quiet && !this.listStatus.querySelector('.spinner'))) return;
      this.listStatus.classList.add('is-error');
      const retry = h('button', { type: 'button', class: 'btn btn-small' }, 'Retry');
      retry.addEventListener('click', () => { this.chatsLoaded = this.loadChats(); });
      replace(this.listStatus, `Could not load your chats: ${err.message} `, retry);
    }
  }

  renderChats() {
    const items = this.chats.map((c) => {
      const btn = h('button', { type: 'button', class: 'item item-chat', testid: 'chat-item', dataset: { chatId: c.chat_id } },
        avatar(c.character_picture, c.character_name, 'sm'),
        h('span', { class: 'item-text' },
          h('span', { class: 'item-title', testid: 'chat-item-name' }, c.character_name || 'Companion'),
          h('span', { class: 'item-sub', testid: 'chat-item-title' }, c.title || 'New chat'),
          h('span', { class: 'item-meta' }, timeAgo(c.last_updated))));
      if (this.current && this.current.chat_id === c.chat_id && this.mode === 'chat') btn.setAttribute('aria-current', 'true');
      btn.addEventListener('click', () => {
        this.ctx.closeSidebar();
        window.location.hash = `#/companions/${encodeURIComponent(c.chat_id)}`;
      });
      return h('li', null, btn);
    });
    replace(this.list, items);
    replace(this.listStatus, this.chats.length ? `${this.chats.length} of ${HISTORY_LIMIT} kept` : 'No chats yet. Pick a character to start one.');
  }

  // ------------------------------------------------------------ home
  showHome() {
    this.seq += 1;
    this.mode = 'home';
    this.current = null;
    this.renderChats();
    document.title = 'Companions · chatvault';
    this.banner = errorBanner();
    const recommended = h('div', { class: 'grid', testid: 'recommended', 'aria-busy': 'true' }, h('p', { class: 'loading' }, h('span', { class: 'spinner' }), 'Loading…'));
    const all = h('div', { class: 'grid', testid: 'all-characters', 'aria-busy': 'true' }, h('p', { class: 'loading' }, h('span', { class: 'spinner' }), 'Loading…'));
    replace(this.body, h('div', { class: 'home', testid: 'companions-home-view' },
      this.banner.el,
      h('section', { class: 'home-section', 'aria-labelledby': 'rec-h' }, h('h1', { id: 'rec-h', class: 'section-title' }, 'Recommended for you'),
        h('p', { class: 'section-sub' }, 'Characters you have not chatted with yet.'), recommended),
      h('section', { class: 'home-section', 'aria-labelledby': 'all-h' }, h('h2', { id: 'all-h', class: 'section-title' }, 'All characters'), all),
      this.archivedSection(),
      this.importCard(),
      this.createForm()));
    this.body.scrollTop = 0;
    const seq = this.seq;
    const shown = new Map(); // grid → the characters it shows (JSON)
    const fill = async (el, path, emptyText, quiet = false) => {
      try {
        const chars = listOf(await api('GET', path));
        if (seq !== this.seq) return;
        const key = JSON.stringify(chars);
        if (quiet && shown.get(el) === key) return;
        shown.set(el, key);
        if (!chars.length) replace(el, h('p', { class: 'muted' }, emptyText));
        else replace(el, chars.map((c) => this.characterCard(c)));
      } catch (err) {
        if (quiet || seq !== this.seq) return; // a live refresh keeps what is shown
        replace(el, h('p', { class: 'notice notice-error', role: 'alert' }, `Could not load characters: ${err.message}`));
      } finally {
        el.setAttribute('aria-busy', 'false');
      }
    };
    const fillBoth = (quiet) => {
      fill(recommended, '/api/characters/recommended?limit=10', 'You have chatted with every character. Create a new one below.', quiet);
      fill(all, '/api/characters', 'No characters yet. Create the first one below.', quiet);
    };
    fillBoth(false);
    this.homeRefresh = () => { if (seq === this.seq && this.mode === 'home') fillBoth(true); };
  }

  // Chats that retention moved to the archive (serve --history-overflow archive): listed
  // newest first, each with a Restore button (POST /api/chat/restore: the chat comes back as
  // the newest and opens; the oldest kept one moves to the archive). Hidden while empty.
  archivedSection() {
    const list = h('ul', { class: 'item-list', testid: 'archived-chats' });
    const status = h('p', { class: 'list-status', role: 'status', testid: 'archived-status' });
    const section = h('section', { class: 'home-section', 'aria-labelledby': 'arch-h', testid: 'archived-section', hidden: true },
      h('h2', { id: 'arch-h', class: 'section-title' }, 'Archived chats'),
      h('p', { class: 'section-sub' }, `Older than your ${HISTORY_LIMIT} newest chats. Restore one to continue it.`),
      list, status);
    const seq = this.seq;
    (async () => {
      try {
        const data = await api('GET', '/api/chat-history/archived?page=1&limit=50');
        if (this.destroyed || seq !== this.seq) return;
        const items = listOf(data);
        section.hidden = items.length === 0;
        replace(list, items.map((c) => {
          const restore = h('button', { type: 'button', class: 'btn btn-small', testid: 'restore-chat' }, 'Restore');
          restore.addEventListener('click', async () => {
            restore.disabled = true;
            try {
              await api('POST', '/api/chat/restore', { chat_id: c.chat_id });
              await this.loadChats();
              window.location.hash = `#/companions/${encodeURIComponent(c.chat_id)}`;
            } catch (err) {
              restore.disabled = false;
              replace(status, `Could not restore the chat: ${err.message}`);
            }
          });
          return h('li', { class: 'item item-chat', testid: 'archived-chat', dataset: { chatId: c.chat_id } },
            avatar(c.character_picture, c.character_name, 'sm'),
            h('span', { class: 'item-text' },
              h('span', { class: 'item-title' }, c.character_name || 'Companion'),
              h('span', { class: 'item-sub' }, c.title || 'New chat'),
              h('span', { class: 'item-meta' }, timeAgo(c.last_updated))),
            restore);
        }));
        const total = data && Number.isFinite(data.total) ? data.total : items.length;
        replace(status, total > items.length ? `${items.length} of ${total} archived chats shown` : '');
      } catch (err) {
        section.hidden = false;
        replace(status, `Could not load archived chats: ${err.message}`);
      }
    })();
    return section;
  }

  characterCard(c) {
    const start = h('button', { type: 'button', class: 'btn btn-primary btn-small', testid: 'start-chat' }, 'Chat');
    start.addEventListener('click', () => this.showStart(c));
    return h('article', { class: 'char-card card', testid: 'character-card', dataset: { id: String(c.id) } },
      avatar(c.picture, c.name, 'lg'),
      h('div', { class: 'char-text' },
        h('h3', { class: 'char-name', testid: 'character-name' }, c.name),
        c.description ? h('p', { class: 'char-desc' }, c.description) : null),
      start);
  }

  // A character card (SillyTavern PNG or JSON, text-generation-webui JSON) through a file
  // picker: the server reads it (POST /api/characters/import, the file's bytes as they are),
  // keeps the PNG as the picture, and the new character opens like a created one.
  importCard() {
    const input = h('input', { type: 'file', accept: '.png,.json,image/png,application/json', hidden: true, testid: 'import-card-input' });
    const button = h('button', { type: 'button', class: 'btn', testid: 'import-card-button' }, icon('upload'), 'Import card…');
    const status = h('p', { class: 'notice', role: 'status', hidden: true, testid: 'import-card-status' });
    button.addEventListener('click', () => input.click());
    input.addEventListener('change', async () => {
      const file = input.files && input.files[0];
      input.value = '';
      if (!file) return;
      status.className = 'notice';
      status.textContent = `Importing ${file.name}…`;
      status.hidden = false;
      button.disabled = true;
      try {
        const created = await api('POST', '/api/characters/import', file);
        status.hidden = true;
        this.showStart(created);
      } catch (err) {
        status.className = 'notice notice-error';
        status.textContent = `Could not import ${file.name}: ${err.message}`;
      } finally {
        button.disabled = false;
      }
    });
    return h('section', { class: 'card import-card', testid: 'import-card', 'aria-labelledby': 'import-h' },
      h('h2', { id: 'import-h', class: 'section-title' }, 'Import a character card'),
      h('p', { class: 'section-sub' }, 'A SillyTavern card (PNG or JSON): its name, description, greeting and picture.'),
      input, button, status);
  }

  createForm() {
    const name = h('input', { type: 'text', required: true, maxlength: 100, testid: 'character-name-input', autocomplete: 'off' });
    const desc = h('textarea', { rows: 2, testid: 'character-description-input' });
    const greeting = h('textarea', { rows: 2, testid: 'character-greeting-input' });
    const url = h('input', { type: 'text', testid: 'character-picture-input', placeholder: 'https://… or avatars/fox.svg', autocomplete: 'off' });
    const group = nextId('pic');
    const choices = [{ file: '', label: 'Initials' }, ...BUILTIN_AVATARS].map((a, i) => {
      const id = `${group}-${i}`;
      const radio = h('input', { type: 'radio', name: group, id, value: a.file, class: 'pic-radio', checked: i === 0 });
      return h('div', { class: 'pic-choice' }, radio,
        h('label', { for: id, class: 'pic-label' },
          a.file ? h('img', { src: a.file, alt: '' }) : h('span', { class: 'avatar avatar-sm avatar-initials hue-215' }, h('span', null, 'Aa')),
          h('span', { class: 'pic-name' }, a.label)));
    });
    const status = h('p', { class: 'notice', role: 'status', hidden: true, testid: 'create-character-status' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'create-character-submit' }, 'Create character');
    const form = h('form', { class: 'card create-form', testid: 'create-character-form', 'aria-labelledby': 'create-h' },
      h('h2', { id: 'create-h', class: 'section-title' }, 'Create a character'),
      field('Name', name),
      field('Description', desc, 'Who they are; it becomes part of the model\'s instructions.'),
      field('Greeting', greeting, 'What they say when a chat starts (optional).'),
      h('fieldset', { class: 'pic-fieldset' }, h('legend', null, 'Picture'), h('div', { class: 'pic-choices' }, choices)),
      field('Or a picture address (URL)', url),
      status, submit);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      status.hidden = true;
      const body = { name: name.value.trim() };
      if (!body.name) { status.className = 'notice notice-error'; status.textContent = 'A name is required.'; status.hidden = false; return; }
      const chosen = form.querySelector('.pic-radio:checked');
      const picture = url.value.trim() || (chosen && chosen.value) || '';
      if (picture) body.picture = picture;
      if (desc.value.trim()) body.description = desc.value.trim();
      if (greeting.value.trim()) body.greeting = greeting.value.trim();
      submit.disabled = true;
      submit.textContent = 'Creating…';
      try {
        const created = await api('POST', '/api/characters', body);
        this.showStart(created);
      } catch (err) {
        status.className = 'notice notice-error';
        status.textContent = `Could not create the character: ${err.message}`;
        status.hidden = false;
        submit.disabled = false;
        submit.textContent = 'Create character';
      }
    });
    return form;
  }

  // ------------------------------------------------------------ start a chat
  showStart(c) {
    this.seq += 1;
    this.mode = 'start';
    this.current = null;
    this.renderChats();
    const banner = errorBanner();
    const back = h('a', { href: '#/companions', class: 'btn btn-ghost btn-small', testid: 'back-home' }, icon('back'), 'All characters');
    back.addEventListener('click', (e) => { e.preventDefault(); this.showHome(); history.replaceState(null, '', '#/companions'); });
    const scene = h('select', { testid: 'scene-select' }, h('option', { value: '' }, 'No scene'));
    const persona = h('select', { testid: 'persona-select' }, h('option', { value: '' }, 'Myself (no persona)'));
    const message = h('textarea', { rows: 3, required: true, testid: 'first-message', placeholder: `Say hello to ${c.name}…` });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'start-chat-submit' }, icon('send'), 'Start chat');

    // New persona (inline)
    const pName = h('input', { type: 'text', maxlength: 100, testid: 'persona-name-input' });
    const pDesc = h('textarea', { rows: 2, testid: 'persona-description-input' });
    const pSave = h('button', { type: 'button', class: 'btn btn-small', testid: 'persona-create' }, 'Save persona');
    const pStatus = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
    const personaBox = h('details', { class: 'persona-new', testid: 'persona-new' },
      h('summary', null, 'New persona'),
      field('Persona name', pName), field('Persona description', pDesc), pStatus, pSave);
    pSave.addEventListener('click', async () => {
      pStatus.hidden = true;
      if (!pName.value.trim()) { pStatus.textContent = 'A persona needs a name.'; pStatus.hidden = false; return; }
      pSave.disabled = true;
      try {
        const body = { name: pName.value.trim() };
        if (pDesc.value.trim()) body.description = pDesc.value.trim();
        const p = await api('POST', '/api/personas', body);
        persona.append(h('option', { value: String(p.id) }, p.name));
        persona.value = String(p.id);
        pName.value = '';
        pDesc.value = '';
        personaBox.open = false;
      } catch (err) {
        pStatus.textContent = `Could not save the persona: ${err.message}`;
        pStatus.hidden = false;
      } finally {
        pSave.disabled = false;
      }
    });

    const form = h('form', { class: 'card start-form', testid: 'start-chat-form' },
      h('div', { class: 'field-row' }, field('Scene (optional)', scene), field('Persona (optional)', persona)),
      personaBox,
      field('Your first message', message),
      submit);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = message.value;
      if (!text.trim()) { message.focus(); return; }
      const extra = { character_id: c.id };
      if (scene.value) extra.scene_id = Number(scene.value);
      if (persona.value) extra.persona_id = Number(persona.value);
      const sceneName = scene.value ? scene.selectedOptions[0].textContent : null;
      this.showChat({
        chat_id: null, character_id: c.id, character_name: c.name, character_picture: c.picture,
        scene_id: extra.scene_id ?? null, scene_name: sceneName, title: 'New chat', messages: [],
      });
      this.send(text, extra);
    });
    message.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
    });

    const greeting = c.greeting ? messageBubble('assistant', c.greeting, { name: c.name }).el : null;
    if (greeting) greeting.classList.add('msg-greeting');
    replace(this.body, h('div', { class: 'start', testid: 'start-view' },
      back, banner.el,
      h('header', { class: 'start-head' }, avatar(c.picture, c.name, 'xl'),
        h('div', null, h('h1', { class: 'chat-title', testid: 'start-character-name' }, c.name), c.description ? h('p', { class: 'muted' }, c.description) : null)),
      greeting, form));
    message.focus();

    (async () => {
      try {
        const [scenes, personas] = await Promise.all([api('GET', '/api/scenes'), api('GET', '/api/personas')]);
        for (const s of listOf(scenes)) scene.append(h('option', { value: String(s.id) }, s.name));
        for (const p of listOf(personas)) persona.append(h('option', { value: String(p.id) }, p.name));
      } catch (err) {
        banner.show(`Could not load scenes and personas: ${err.message}`);
      }
    })();
    // A persona made or changed in another tab: the choices again, the chosen one kept.
    const seq = this.seq;
    this.startRefresh = async () => {
      try {
        const personas = listOf(await api('GET', '/api/personas'));
        if (seq !== this.seq || this.mode !== 'start') return;
        const chosen = persona.value;
        const options = [...persona.options].slice(1);
        const now = personas.map((p) => [String(p.id), p.name]);
        if (JSON.stringify(options.map((o) => [o.value, o.textContent])) === JSON.stringify(now)) return;
        for (const o of options) o.remove();
        for (const [id, name] of now) persona.append(h('option', { value: id }, name));
        persona.value = now.some(([id]) => id === chosen) ? chosen : '';
      } catch { /* keep the choices shown */ }
    };
  }

  // ------------------------------------------------------------ a chat
  async openChat(chatId) {
    const seq = ++this.seq;
    replace(this.body, h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner' }), 'Loading chat…'));
    await this.chatsLoaded;
    if (seq !== this.seq) return;
    let entry = this.chats.find((c) => c.chat_id === chatId);
    if (!entry) {
      await this.loadChats();
      if (seq !== this.seq) return;
      entry = this.chats.find((c) => c.chat_id === chatId);
    }
    if (!entry) {
      this.showHome();
      history.replaceState(null, '', '#/companions');
      this.banner.show('That chat no longer exists: it was deleted, or it fell out of your 30 most recent chats.');
      return;
    }
    this.showChat(entry);
  }

  showChat(entry) {
    this.seq += 1;
    this.mode = 'chat';
    this.current = entry;
    this.renderChats();
    this.banner = errorBanner();
    this.titleEl = h('h1', { class: 'chat-title', testid: 'chat-title' }, entry.title || 'New chat');
    this.subEl = h('p', { class: 'chat-sub', testid: 'chat-character' });
    this.stored = storedMarker();
    this.headAvatar = h('span', { class: 'head-avatar' });
    this.renameBtn = h('button', { type: 'button', class: 'icon-btn', testid: 'rename-chat', 'aria-label': 'Rename this chat', title: 'Rename' }, icon('pencil'));
    this.deleteBtn = h('button', { type: 'button', class: 'icon-btn icon-btn-danger', testid: 'delete-chat', 'aria-label': 'Delete this chat', title: 'Delete' }, icon('trash'));
    this.renameBtn.addEventListener('click', () => this.rename());
    this.titleEl.addEventListener('dblclick', () => this.rename());
    this.deleteBtn.addEventListener('click', () => this.deleteCurrent());
    const exportPath = (fmt) => () => `/api/chat/export?chat_id=${encodeURIComponent(this.current.chat_id)}&format=${fmt}`;
    const exportFailed = (err) => this.banner.show(`Could not export: ${err.message}`);
    this.exportMdBtn = exportButton({ label: 'Export as Markdown', text: 'Markdown', testid: 'export-chat-md', path: exportPath('md'), fallback: 'chat.md', onError: exportFailed });
    this.exportJsonBtn = exportButton({ label: 'Export as JSON', text: 'JSON', testid: 'export-chat-json', path: exportPath('json'), fallback: 'chat.json', onError: exportFailed });
    this.msgs = h('div', { class: 'messages', testid: 'messages', role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages' });
    this.composer = composer({ onSend: (text) => this.send(text), placeholder: `Message ${entry.character_name || 'your companion'}…` });
    replace(this.body, h('div', { class: 'chat', testid: 'companion-chat' },
      h('div', { class: 'chat-head' },
        this.headAvatar,
        h('div', { class: 'chat-head-text' }, this.titleEl, h('div', { class: 'chat-head-sub' }, this.subEl, this.stored.el)),
        h('div', { class: 'chat-head-actions' }, this.exportMdBtn, this.exportJsonBtn, this.renameBtn, this.deleteBtn)),
      this.banner.el, this.msgs, this.composer.el));
    this.paintHeader();
    const bubbles = (entry.messages || []).map((m) => messageBubble(m.role, m.content, { name: entry.character_name }).el);
    replace(this.msgs, bubbles);
    this.msgs.scrollTop = this.msgs.scrollHeight;
    document.title = `${entry.character_name || 'Chat'} · chatvault`;
    this.composer.focus();
    this.applyReveal();
  }

  /** Open chat `id` scrolled to message `index`, marked with `terms` (a search hit). */
  reveal({ id, index, terms }) {
    this.pendingReveal = { id: String(id), index, terms };
    this.applyReveal();
  }

  applyReveal() {
    const r = this.pendingReveal;
    if (!r || this.mode !== 'chat' || !this.current || this.current.chat_id !== r.id) return;
    this.pendingReveal = null;
    revealMessage(this.msgs, r.index, r.terms);
  }

  paintHeader() {
    const e = this.current;
    replace(this.headAvatar, avatar(e.character_picture, e.character_name, 'md'));
    this.titleEl.textContent = e.title || 'New chat';
    const sub = [e.character_name || 'Companion'];
    if (e.scene_name) sub.push(`in ${e.scene_name}`);
    this.subEl.textContent = sub.join(' · ');
    const saved = Boolean(e.chat_id);
    this.renameBtn.hidden = !saved;
    this.deleteBtn.hidden = !saved;
    this.exportMdBtn.hidden = !saved;
    this.exportJsonBtn.hidden = !saved;
    this.stored.set(saved ? 'stored' : 'hidden');
  }

  async send(text, extra = {}) {
    if (this.streaming || !this.current) return false;
    const entry = this.current;
    const seq = this.seq;
    this.banner.hide();
    const mine = messageBubble('user', text);
    const reply = messageBubble('assistant', '', { name: entry.character_name });
    reply.setState('streaming');
    reply.el.dataset.deltas = '0';
    this.msgs.append(mine.el, reply.el);
    this.msgs.scrollTop = this.msgs.scrollHeight;
    this.stored.set('saving');
    this.streaming = true;
    const body = { ...extra, message: text, stream: true };
    if (entry.chat_id) body.chat_id = entry.chat_id;
    let acc = '';
    let deltas = 0;
    let scheduled = false;
    const paint = () => {
      scheduled = false;
      reply.setContent(acc);
      const m = this.msgs;
      if (m.scrollHeight - m.scrollTop - m.clientHeight < 160) m.scrollTop = m.scrollHeight;
    };
    try {
      const result = await stream('/api/chat', body, (delta) => {
        acc += delta;
        deltas += 1;
        reply.el.dataset.deltas = String(deltas);
        if (!scheduled) { scheduled = true; requestAnimationFrame(paint); }
      });
      const saved = entryOf(result);
      reply.setState('done');
      if (saved) {
        const last = saved.messages[saved.messages.length - 1];
        reply.setContent(last && last.role === 'assistant' ? last.content : acc);
        if (seq === this.seq) {
          this.current = saved;
          history.replaceState(null, '', `#/companions/${encodeURIComponent(saved.chat_id)}`);
          this.paintHeader();
        }
      } else {
        reply.setContent(acc);
      }
      await this.loadChats();
      return true;
    } catch (err) {
      reply.setContent(acc);
      reply.setState('failed');
      if (seq === this.seq) {
        this.banner.show(err.message);
        this.stored.set(entry.chat_id ? 'stored' : 'hidden');
      }
      await this.loadChats();
      // A new chat's first message is saved even when the reply fails: pick it up.
      if (!entry.chat_id && seq === this.seq) {
        const found = this.chats.find((c) => c.character_id === entry.character_id && c.messages && c.messages.some((m) => m.role === 'user' && m.content === text));
        if (found) {
          this.current = found;
          history.replaceState(null, '', `#/companions/${encodeURIComponent(found.chat_id)}`);
          this.paintHeader();
          this.renderChats();
        }
      }
      return true;
    } finally {
      this.streaming = false;
    }
  }

  rename() {
    const e = this.current;
    if (!e || !e.chat_id) return;
    startInlineRename(this.titleEl, e.title || '', async (title) => {
      try {
        const out = await api('POST', '/api/chat/rename', { chat_id: e.chat_id, title });
        const saved = entryOf(out) || { ...e, title };
        if (this.current && this.current.chat_id === e.chat_id) {
          this.current = saved;
          this.paintHeader();
        }
        await this.loadChats();
      } catch (err) {
        this.banner.show(`Could not rename: ${err.message}`);
        throw err;
      }
    }, { testid: 'rename-chat-input' });
  }

  async deleteCurrent() {
    const e = this.current;
    if (!e || !e.chat_id) return;
    const ok = await confirmDialog(`Delete your chat “${e.title || 'New chat'}” with ${e.character_name || 'this companion'}? This cannot be undone.`);
    if (!ok) return;
    try {
      await api('POST', '/api/chat/delete', { chat_id: e.chat_id });
    } catch (err) {
      if (err.status !== 404) {
        this.banner.show(`Could not delete: ${err.message}`);
        return;
      }
    }
    await this.loadChats();
    history.replaceState(null, '', '#/companions');
    this.showHome();
  }

  // ------------------------------------------------------------ live updates (live.js)
  /**
   * Changes from the events stream, this tab's own included: a batch of {kind, id, op}.
   * Chats: the sidebar list again (rendered only when it differs) and the open chat's
   * messages when they changed elsewhere (never while a reply streams or the title is being
   * renamed: it waits); a chat deleted elsewhere closes. Characters and personas: the home
   * view's grids and the start form's persona choices, leaving any form being filled alone.
   */
  liveChanges(changes) {
    let any = false;
    for (const c of changes) {
      if (c.kind === 'chat' && c.id !== undefined && c.id !== null) {
        this.liveChats.set(String(c.id), c.op === 'delete' ? 'delete' : 'upsert');
        any = true;
      } else if (c.kind === 'persona' || c.kind === 'character') {
        this.liveKinds.add(c.kind);
        any = true;
      }
    }
    if (any) this.liveFlush();
  }

  /** Changes may have been missed (the stream started over): every list again. */
  liveReset() {
    if (this.destroyed) return;
    this.liveKinds.add('persona').add('character');
    this.liveAll = true;
    this.liveFlush();
  }

  /** The open chat is busy here: a reply streams or its title is being renamed. */
  get openBusy() {
    return this.streaming || Boolean(this.body.querySelector('[data-testid=rename-chat-input]'));
  }

  liveFlush() {
    clearTimeout(this.liveTimer);
    this.liveTimer = null;
    if (this.destroyed || (!this.liveChats.size && !this.liveKinds.size && !this.liveAll)) return;
    const open = this.mode === 'chat' && this.current && this.current.chat_id;
    if (this.liveRunning || (open && this.openBusy && (this.liveAll || this.liveChats.has(open)))) {
      this.liveTimer = setTimeout(() => this.liveFlush(), LIVE_RETRY_MS);
      return;
    }
    const chats = this.liveChats;
    const kinds = this.liveKinds;
    const all = Boolean(this.liveAll);
    this.liveChats = new Map();
    this.liveKinds = new Set();
    this.liveAll = false;
    this.liveRunning = true;
    this.liveApply(chats, kinds, all)
      .catch(() => { /* the next change brings it up to date */ })
      .finally(() => {
        this.liveRunning = false;
        if ((this.liveChats.size || this.liveKinds.size || this.liveAll) && !this.liveTimer) this.liveFlush();
      });
  }

  async liveApply(chats, kinds, all) {
    if (chats.size || all) {
      const seq = this.seq;
      await this.loadChats({ quiet: true });
      if (this.destroyed) return;
      const open = this.mode === 'chat' && this.current && this.current.chat_id;
      if (open && seq === this.seq && (all || chats.has(open))) {
        if (this.openBusy) {
          this.liveChats.set(open, chats.get(open) || 'upsert'); // look again after the reply
        } else {
          this.liveOpen(open, chats.get(open) === 'delete');
        }
      }
    }
    // The recommended characters depend on the chats; the grids on the characters.
    if ((chats.size || all || kinds.has('character')) && this.homeRefresh && this.mode === 'home') this.homeRefresh();
    if ((kinds.has('persona') || all) && this.startRefresh && this.mode === 'start') this.startRefresh();
  }

  /** Bring the open chat up to date from the list just loaded (the 30 newest, with their
   *  messages): gone from it (deleted, or moved out by retention), it closes. */
  liveOpen(chatId, deleted) {
    const entry = deleted ? null : this.chats.find((c) => c.chat_id === chatId);
    if (!entry) {
      this.showHome();
      history.replaceState(null, '', '#/companions');
      this.banner.show('That chat was deleted in another window, or it fell out of your 30 most recent chats.');
      return;
    }
    const key = (e) => JSON.stringify((e.messages || []).map((m) => [m.role, m.content]));
    const same = key(entry) === key(this.current);
    this.current = entry;
    this.paintHeader();
    if (same) return;
    const m = this.msgs;
    const atEnd = m.scrollHeight - m.scrollTop - m.clientHeight < 160;
    const top = m.scrollTop;
    replace(m, (entry.messages || []).map((msg) => messageBubble(msg.role, msg.content, { name: entry.character_name }).el));
    m.scrollTop = atEnd ? m.scrollHeight : top;
  }
}
