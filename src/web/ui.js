// Shared widgets: confirmation dialog, error banners, avatars, message bubbles,
// the composer and inline rename.
import { h, icon, replace, clear } from './dom.js';
import { renderMarkdown } from './markdown.js';

export const OFFLINE_PREFIX = '[offline responder]';

/**
 * Show `dialog` as a modal (appended to the page) and return `done(value)`: the one way it
 * ends. done closes and removes the dialog and resolves the caller's promise with value, once;
 * Escape and any other close resolve with `cancelValue`.
 */
export function showModal(dialog, resolve, cancelValue) {
  let answered = false;
  const done = (value) => {
    if (answered) return;
    answered = true;
    if (dialog.open) dialog.close();
    dialog.remove();
    resolve(value);
  };
  dialog.addEventListener('cancel', (e) => { e.preventDefault(); done(cancelValue); });
  dialog.addEventListener('close', () => done(cancelValue));
  document.body.append(dialog);
  dialog.showModal();
  return done;
}

/** A modal confirmation built on <dialog>. Resolves true/false. */
export function confirmDialog(message, { confirmLabel = 'Delete', danger = true } = {}) {
  return new Promise((resolve) => {
    const ok = h('button', { type: 'button', class: danger ? 'btn btn-danger' : 'btn btn-primary', testid: 'confirm-ok' }, confirmLabel);
    const cancel = h('button', { type: 'button', class: 'btn', testid: 'confirm-cancel' }, 'Cancel');
    const text = h('p', { class: 'dialog-text', id: 'confirm-text' }, message);
    const dialog = h('dialog', { class: 'dialog', testid: 'confirm-dialog', 'aria-labelledby': 'confirm-text' },
      text, h('div', { class: 'dialog-actions' }, cancel, ok));
    const done = showModal(dialog, resolve, false);
    ok.addEventListener('click', () => done(true));
    cancel.addEventListener('click', () => done(false));
    cancel.focus();
  });
}

/** An error banner element with show(message) / hide(). */
export function errorBanner(testid = 'error-banner') {
  const text = h('span', { class: 'banner-text' });
  const close = h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Dismiss error' }, icon('x'));
  const el = h('div', { class: 'banner banner-error', role: 'alert', testid, hidden: true }, icon('bolt'), text, close);
  close.addEventListener('click', () => { el.hidden = true; });
  return {
    el,
    show(message) {
      text.textContent = message instanceof Error ? message.message : String(message);
      el.hidden = false;
    },
    hide() { el.hidden = true; },
  };
}

/**
 * The picture address to show, or null. Same-site paths (e.g. the built-in
 * avatars/*.svg), http(s) URLs and data:image URLs are shown (the server's
 * CSP decides what actually loads); anything else falls back to initials.
 */
export function pictureSrc(picture) {
  if (!picture || typeof picture !== 'string') return null;
  if (/^data:image\/(png|jpe?g|gif|webp|avif);/i.test(picture)) return picture;
  try {
    const url = new URL(picture, window.location.href);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return url.href;
  } catch {
    return null;
  }
}

const AVATAR_HUES = [12, 35, 150, 190, 215, 265, 300, 335];

/** A round avatar: the picture when it can be shown, else initials. */
export function avatar(picture, name, size = 'md') {
  const label = name || 'Character';
  const src = pictureSrc(picture);
  const wrap = h('span', { class: `avatar avatar-${size}`, testid: 'avatar' });
  const initials = () => {
    const letters = String(label).trim().split(/\s+/).slice(0, 2).map((w) => Array.from(w)[0] || '').join('').toUpperCase();
    let hash = 0;
    for (const ch of String(label)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
    wrap.classList.add('avatar-initials', `hue-${AVATAR_HUES[hash % AVATAR_HUES.length]}`);
    replace(wrap, h('span', { 'aria-hidden': 'true' }, letters || '?'));
  };
  if (src) {
    const img = h('img', { src, alt: '', loading: 'lazy', decoding: 'async', referrerpolicy: 'no-referrer' });
    img.addEventListener('error', initials, { once: true });
    wrap.append(img);
  } else {
    initials();
  }
  return wrap;
}

/** Split the offline responder marker off a reply. */
export function splitOffline(content) {
  const text = String(content ?? '');
  if (text.startsWith(OFFLINE_PREFIX)) {
    return { offline: true, text: text.slice(OFFLINE_PREFIX.length).replace(/^\s+/, '') };
  }
  return { offline: false, text };
}

/**
 * A message bubble. Returns {el, setContent(text), setState(state)} where
 * state is one of 'done' | 'streaming' | 'failed'.
 */
export function messageBubble(role, content = '', { name } = {}) {
  const body = h('div', { class: 'msg-body', testid: 'message-body' });
  const who = h('span', { class: 'msg-who' }, role === 'user' ? 'You' : (name || 'Assistant'));
  const offline = role === 'user' ? null : h('span', { class: 'pill pill-offline', testid: 'offline-label', hidden: true, title: 'This reply came from the built-in offline responder, not a language model' }, 'offline responder');
  const status = h('span', { class: 'msg-status', testid: 'message-status' });
  const head = h('div', { class: 'msg-head' }, who, offline, status);
  const el = h('article', { class: `msg msg-${role === 'user' ? 'user' : 'assistant'}`, testid: 'message', dataset: { role } }, head, body);
  let raw = '';
  const api = {
    el,
    get text() { return raw; },
    setContent(text) {
      raw = String(text ?? '');
      if (role === 'assistant') {
        const split = splitOffline(raw);
        if (offline) offline.hidden = !split.offline;
        el.dataset.offline = split.offline ? 'true' : 'false';
        replace(body, renderMarkdown(split.text));
      } else {
        replace(body, renderMarkdown(raw));
      }
    },
    setState(state) {
      el.dataset.state = state;
      el.setAttribute('aria-busy', state === 'streaming' ? 'true' : 'false');
      if (state === 'streaming') {
        replace(status, h('span', { class: 'typing', 'aria-label': 'Replying' }, h('i'), h('i'), h('i')));
      } else if (state === 'failed') {
        replace(status, 'not finished');
      } else {
        clear(status);
      }
    },
  };
  api.setContent(content);
  api.setState('done');
  return api;
}

/**
 * The message composer. Enter sends, Shift+Enter inserts a newline.
 * onSend(text) may return a promise; the composer is busy until it settles.
 */
export function composer({ onSend, placeholder = 'Write a message…', label = 'Message' }) {
  const id = `composer-${Math.random().toString(36).slice(2, 8)}`;
  const area = h('textarea', { id, rows: 1, placeholder, testid: 'composer', maxlength: 100000, 'aria-describedby': `${id}-hint` });
  const btn = h('button', { type: 'submit', class: 'btn btn-primary btn-send', testid: 'send' }, icon('send'), h('span', { class: 'send-label' }, 'Send'));
  const hint = h('p', { class: 'composer-hint', id: `${id}-hint` }, 'Enter to send · Shift+Enter for a new line');
  const form = h('form', { class: 'composer', testid: 'composer-form' },
    h('label', { for: id, class: 'sr-only' }, label),
    h('div', { class: 'composer-row' }, area, btn), hint);
  let busy = false;
  const grow = () => {
    area.style.height = 'auto';
    area.style.height = `${Math.min(area.scrollHeight, 240)}px`;
  };
  const submit = async () => {
    const text = area.value;
    if (busy || !text.trim()) return;
    busy = true;
    btn.disabled = true;
    form.classList.add('is-busy');
    area.value = '';
    grow();
    try {
      const ok = await onSend(text);
      if (ok === false && !area.value) area.value = text;
    } finally {
      busy = false;
      btn.disabled = false;
      form.classList.remove('is-busy');
      grow();
    }
  };
  area.addEventListener('input', grow);
  area.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      submit();
    }
  });
  form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
  return { el: form, focus: () => area.focus(), textarea: area, get busy() { return busy; } };
}

/**
 * Inline rename: replaces `titleEl` with an input while editing.
 * onSave(newTitle) returns a promise; on failure the old title stays.
 */
export function startInlineRename(titleEl, current, onSave, { maxLength = 255, testid = 'rename-input' } = {}) {
  const input = h('input', { type: 'text', class: 'rename-input', value: current, maxlength: maxLength, testid, 'aria-label': 'New title' });
  titleEl.hidden = true;
  titleEl.after(input);
  input.focus();
  input.select();
  let settled = false;
  const finish = async (save) => {
    if (settled) return;
    settled = true;
    const value = input.value.trim();
    if (save && value && value !== current) {
      input.disabled = true;
      try {
        await onSave(value);
      } catch { /* caller reports the error */ }
    }
    input.remove();
    titleEl.hidden = false;
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); finish(true); }
    if (e.key === 'Escape') { e.preventDefault(); finish(false); }
  });
  input.addEventListener('blur', () => finish(true));
}

/** A small "Stored in database" marker. */
export function storedMarker() {
  const label = h('span', { class: 'stored-label' }, 'Stored in database');
  const el = h('span', { class: 'pill pill-stored', testid: 'stored-marker', title: 'Every message is saved in the server\'s SQLite database', hidden: true }, icon('db'), label);
  return {
    el,
    set(state) {
      el.hidden = state === 'hidden';
      el.dataset.state = state;
      label.textContent = state === 'saving' ? 'Saving…' : 'Stored in database';
    },
  };
}

// ------------------------------------------------------------ search hits

function unmark(container) {
  for (const m of container.querySelectorAll('mark.hit-term')) {
    const parent = m.parentNode;
    m.replaceWith(document.createTextNode(m.textContent));
    parent.normalize();
  }
  for (const el of container.querySelectorAll('.msg-hit')) {
    el.classList.remove('msg-hit');
    el.removeAttribute('data-hit');
  }
}

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Wrap every occurrence of `terms` (case-insensitive) in the text of `root` in <mark>. */
export function markTerms(root, terms) {
  const words = (terms || []).map((t) => String(t).trim()).filter(Boolean).sort((a, b) => b.length - a.length);
  if (!root || !words.length) return 0;
  const re = new RegExp(words.map(escapeRegExp).join('|'), 'giu');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) nodes.push(n);
  let count = 0;
  for (const node of nodes) {
    const text = node.nodeValue;
    re.lastIndex = 0;
    let m;
    let at = 0;
    const out = [];
    while ((m = re.exec(text)) !== null) {
      if (!m[0].length) { re.lastIndex += 1; continue; }
      if (m.index > at) out.push(document.createTextNode(text.slice(at, m.index)));
      out.push(h('mark', { class: 'hit-term', testid: 'hit-term' }, m[0]));
      at = m.index + m[0].length;
      count += 1;
    }
    if (!out.length) continue;
    if (at < text.length) out.push(document.createTextNode(text.slice(at)));
    node.replaceWith(...out);
  }
  return count;
}

/**
 * Scroll the message at `index` (0-based, among the container's messages) into view, mark it
 * (class msg-hit, data-hit="true") and the matched `terms` in it, and give it the focus.
 * An index < 0 (a title hit) only clears earlier marks. Returns the element or null.
 */
export function revealMessage(container, index, terms) {
  unmark(container);
  if (!(index >= 0)) return null;
  const el = container.querySelectorAll('[data-testid=message]')[index];
  if (!el) return null;
  el.classList.add('msg-hit');
  el.dataset.hit = 'true';
  markTerms(el.querySelector('.msg-body'), terms);
  el.tabIndex = -1;
  el.scrollIntoView({ block: 'center', inline: 'nearest' });
  el.focus({ preventScroll: true });
  return el;
}

// ------------------------------------------------------------ menus

let openMenuClose = null;

/**
 * A small actions menu behind a "…" button (menu button pattern). `items()` is called each
 * time the menu opens and returns [{label, testid, onSelect}]. Arrow keys, Home/End move,
 * Escape closes and gives the focus back to the button.
 */
export function actionMenu({ label, testid = 'item-menu', items, dataset }) {
  const dots = icon('more');
  dots.classList.add('icon-dots');
  const btn = h('button', {
    type: 'button', class: 'icon-btn item-menu-btn', 'aria-label': label, title: label,
    'aria-haspopup': 'menu', 'aria-expanded': 'false', testid, dataset,
  }, dots);
  const menu = h('div', { class: 'menu card', role: 'menu', 'aria-label': label, hidden: true, testid: `${testid}-list` });
  const wrap = h('div', { class: 'menu-wrap' }, btn, menu);
  const entries = () => [...menu.querySelectorAll('[role=menuitem]')];
  const onOutside = (e) => { if (!wrap.contains(e.target)) close(false); };
  function close(focusButton) {
    if (menu.hidden) return;
    menu.hidden = true;
    btn.setAttribute('aria-expanded', 'false');
    wrap.classList.remove('is-open');
    document.removeEventListener('pointerdown', onOutside, true);
    if (openMenuClose === close) openMenuClose = null;
    if (focusButton) btn.focus();
  }
  function open(focusLast = false) {
    if (openMenuClose) openMenuClose(false);
    replace(menu, items().map((it) => {
      const b = h('button', { type: 'button', role: 'menuitem', class: 'menu-item', tabindex: '-1', testid: it.testid },
        it.icon ? icon(it.icon) : null, it.label);
      b.addEventListener('click', () => { close(false); it.onSelect(); });
      return b;
    }));
    menu.hidden = false;
    wrap.classList.add('is-open');
    btn.setAttribute('aria-expanded', 'true');
    document.addEventListener('pointerdown', onOutside, true);
    openMenuClose = close;
    const list = entries();
    (focusLast ? list[list.length - 1] : list[0])?.focus();
  }
  btn.addEventListener('click', () => (menu.hidden ? open() : close(true)));
  btn.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') { e.preventDefault(); open(e.key === 'ArrowUp'); }
  });
  menu.addEventListener('keydown', (e) => {
    const list = entries();
    const i = list.indexOf(document.activeElement);
    let next = null;
    if (e.key === 'ArrowDown') next = list[(i + 1) % list.length];
    else if (e.key === 'ArrowUp') next = list[(i - 1 + list.length) % list.length];
    else if (e.key === 'Home') next = list[0];
    else if (e.key === 'End') next = list[list.length - 1];
    else if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(true); return; }
    else if (e.key === 'Tab') { close(false); return; }
    if (next) { e.preventDefault(); next.focus(); }
  });
  return { el: wrap, button: btn, close };
}

// ------------------------------------------------------------ tags

export const MAX_TAGS = 20;
export const MAX_TAG_CHARS = 50;

/**
 * A dialog to edit a thread's tags. Resolves to the new list, or null when cancelled.
 * `known` (existing tag names) become suggestions.
 */
export function tagsDialog({ title, tags = [], known = [] }) {
  return new Promise((resolve) => {
    let current = [...tags];
    const chips = h('ul', { class: 'tag-edit-list', testid: 'tags-current', 'aria-label': 'Tags of this thread' });
    const listId = `tag-suggestions-${Math.random().toString(36).slice(2, 8)}`;
    const inputId = `${listId}-input`;
    const input = h('input', { type: 'text', id: inputId, class: 'tag-input', maxlength: MAX_TAG_CHARS, list: listId, autocomplete: 'off', testid: 'tag-input', placeholder: 'e.g. work' });
    const datalist = h('datalist', { id: listId }, known.map((k) => h('option', { value: k })));
    const add = h('button', { type: 'button', class: 'btn btn-small', testid: 'tag-add' }, icon('plus'), 'Add');
    const error = h('p', { class: 'notice notice-error', role: 'alert', hidden: true, testid: 'tags-error' });
    const save = h('button', { type: 'button', class: 'btn btn-primary', testid: 'tags-save' }, 'Save tags');
    const cancel = h('button', { type: 'button', class: 'btn', testid: 'tags-cancel' }, 'Cancel');
    const heading = h('h2', { class: 'dialog-title', id: `${listId}-h` }, 'Tags');
    const dialog = h('dialog', { class: 'dialog', testid: 'tags-dialog', 'aria-labelledby': `${listId}-h` },
      heading,
      h('p', { class: 'dialog-text muted' }, `For “${title}”. Up to ${MAX_TAGS} tags of at most ${MAX_TAG_CHARS} characters.`),
      chips,
      h('div', { class: 'tag-add-row' }, h('label', { for: inputId, class: 'sr-only' }, 'New tag'), input, add, datalist),
      error,
      h('div', { class: 'dialog-actions' }, cancel, save));
    const showError = (msg) => { error.textContent = msg; error.hidden = !msg; };
    const paint = () => {
      replace(chips, current.map((t) => {
        const rm = h('button', { type: 'button', class: 'chip-remove', 'aria-label': `Remove tag ${t}`, testid: 'tag-remove', dataset: { tag: t } }, icon('x'));
        rm.addEventListener('click', () => {
          current = current.filter((x) => x !== t);
          paint();
          input.focus();
        });
        return h('li', { class: 'chip chip-static', testid: 'tag-current', dataset: { tag: t } }, h('span', null, t), rm);
      }));
      if (!current.length) chips.append(h('li', { class: 'muted tag-none' }, 'No tags yet.'));
    };
    const addTyped = () => {
      const value = input.value.trim();
      if (!value) return true;
      if (Array.from(value).length > MAX_TAG_CHARS) { showError(`A tag has at most ${MAX_TAG_CHARS} characters.`); return false; }
      if (current.some((t) => t.toLowerCase() === value.toLowerCase())) { input.value = ''; showError(''); return true; }
      if (current.length >= MAX_TAGS) { showError(`A thread has at most ${MAX_TAGS} tags.`); return false; }
      current.push(value);
      input.value = '';
      showError('');
      paint();
      return true;
    };
    add.addEventListener('click', () => { addTyped(); input.focus(); });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.isComposing) { e.preventDefault(); addTyped(); }
    });
    paint();
    const done = showModal(dialog, resolve, null);
    save.addEventListener('click', () => { if (addTyped()) done(current); });
    cancel.addEventListener('click', () => done(null));
    input.focus();
  });
}
