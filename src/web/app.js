// chatvault web page: sign-in, the app shell and hash routing.
//   #/assistant[/<thread id>]    assistant threads
//   #/companions[/<chat id>]     character chats
//   #/stats                      totals and messages per day
// The search box in the top bar covers both kinds of conversation; `/` focuses it.
import { api, getToken, setToken, clearToken, onUnauthorized, ApiError } from './http.js';
import { h, icon, replace, nextId } from './dom.js';
import { AssistantView } from './threads.js';
import { CompanionsView } from './companions.js';
import { StatsView } from './stats.js';
import { SearchBox } from './search.js';
import { exportButton } from './exporter.js';
import { FileImport } from './fileimport.js';
import { live } from './live.js';

const root = document.getElementById('app');

const state = {
  user: null,
  view: null, // {name, instance}
  shell: null,
  pendingReveal: null, // a search hit to show once its conversation is open
};

const VIEWS = {
  assistant: { title: 'Assistant', View: AssistantView },
  companions: { title: 'Companions', View: CompanionsView },
  stats: { title: 'Stats', View: StatsView },
};

// ---------------------------------------------------------------- auth view

function field(label, attrs, hint) {
  const id = nextId('field');
  const input = h('input', { id, ...attrs });
  return {
    input,
    el: h('div', { class: 'field' },
      h('label', { for: id }, label),
      input,
      hint ? h('p', { class: 'field-hint' }, hint) : null),
  };
}

function renderAuth(message, { mode = 'signin', tone = 'info' } = {}) {
  live.stop();
  teardownView();
  state.user = null;
  state.shell = null;
  document.title = 'Sign in · chatvault';

  const notice = h('p', { class: `notice notice-${tone}`, role: 'status', testid: 'auth-message', hidden: !message }, message || '');
  const error = h('p', { class: 'notice notice-error', role: 'alert', testid: 'auth-error', hidden: true });

  const signinEmail = field('Email', { type: 'email', name: 'email', autocomplete: 'username', required: true, testid: 'signin-email' });
  const signinPassword = field('Password', { type: 'password', name: 'password', autocomplete: 'current-password', required: true, testid: 'signin-password' });
  const signinBtn = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'signin-submit' }, 'Sign in');
  const signinForm = h('form', { class: 'auth-form', testid: 'signin-form', 'aria-label': 'Sign in', novalidate: false },
    signinEmail.el, signinPassword.el, signinBtn);

  const signupName = field('Display name (optional)', { type: 'text', name: 'display_name', autocomplete: 'nickname', maxlength: 100, testid: 'signup-name' });
  const signupEmail = field('Email', { type: 'email', name: 'email', autocomplete: 'username', required: true, maxlength: 254, testid: 'signup-email' });
  const signupPassword = field('Password', { type: 'password', name: 'password', autocomplete: 'new-password', required: true, minlength: 8, maxlength: 1024, testid: 'signup-password' }, 'At least 8 characters.');
  const signupBtn = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'signup-submit' }, 'Create account');
  const signupForm = h('form', { class: 'auth-form', testid: 'signup-form', 'aria-label': 'Create account' },
    signupName.el, signupEmail.el, signupPassword.el, signupBtn);

  const tabIn = h('button', { type: 'button', role: 'tab', class: 'tab', testid: 'tab-signin', id: 'tab-signin', 'aria-controls': 'panel-signin' }, 'Sign in');
  const tabUp = h('button', { type: 'button', role: 'tab', class: 'tab', testid: 'tab-signup', id: 'tab-signup', 'aria-controls': 'panel-signup' }, 'Create account');
  const panelIn = h('div', { role: 'tabpanel', id: 'panel-signin', 'aria-labelledby': 'tab-signin' }, signinForm);
  const panelUp = h('div', { role: 'tabpanel', id: 'panel-signup', 'aria-labelledby': 'tab-signup' }, signupForm);

  const setMode = (m, focus) => {
    const isIn = m === 'signin';
    tabIn.setAttribute('aria-selected', String(isIn));
    tabUp.setAttribute('aria-selected', String(!isIn));
    tabIn.tabIndex = isIn ? 0 : -1;
    tabUp.tabIndex = isIn ? -1 : 0;
    panelIn.hidden = !isIn;
    panelUp.hidden = isIn;
    error.hidden = true;
    if (focus) (isIn ? signinEmail : signupEmail).input.focus();
  };
  tabIn.addEventListener('click', () => setMode('signin', true));
  tabUp.addEventListener('click', () => setMode('signup', true));
  const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Account' }, tabIn, tabUp);
  tabs.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      const next = document.activeElement === tabIn ? tabUp : tabIn;
      next.click();
      next.focus();
    }
  });

  const busy = (btn, on, label) => {
    btn.disabled = on;
    btn.textContent = label;
  };

  async function login(email, password) {
    const out = await api('POST', '/api/v1/auth/login', { email, password });
    setToken(out.access_token);
    state.user = out.user || null;
    startApp();
  }

  signinForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    notice.hidden = true;
    busy(signinBtn, true, 'Signing in…');
    try {
      await login(signinEmail.input.value.trim(), signinPassword.input.value);
    } catch (err) {
      error.textContent = err.status === 401 ? 'Wrong email or password.' : err.message;
      error.hidden = false;
      busy(signinBtn, false, 'Sign in');
    }
  });

  signupForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    notice.hidden = true;
    const email = signupEmail.input.value.trim();
    const password = signupPassword.input.value;
    const displayName = signupName.input.value.trim();
    busy(signupBtn, true, 'Creating account…');
    try {
      const body = { email, password };
      if (displayName) body.display_name = displayName;
      await api('POST', '/api/v1/auth/register', body);
      await login(email, password);
    } catch (err) {
      error.textContent = err.status === 409 ? 'An account with this email already exists. Sign in instead.' : err.message;
      error.hidden = false;
      busy(signupBtn, false, 'Create account');
    }
  });

  const card = h('main', { class: 'auth-card card', testid: 'auth-view' },
    h('div', { class: 'brand brand-lg' }, h('img', { src: 'icons/logo.svg', alt: '', class: 'brand-logo' }), h('span', null, 'chatvault')),
    h('p', { class: 'auth-sub' }, 'Your assistant threads and companion chats, kept in your own database.'),
    notice, tabs, error, panelIn, panelUp);
  replace(root, h('div', { class: 'auth-wrap' }, card));
  setMode(mode, false);
  (mode === 'signin' ? signinEmail : signupEmail).input.focus();
}

// ---------------------------------------------------------------- app shell

function teardownView() {
  if (state.view && state.view.instance.destroy) state.view.instance.destroy();
  state.view = null;
}

function buildShell() {
  const user = state.user || {};
  const navLink = (name, label) => h('a', { href: `#/${name}`, class: 'nav-link', testid: `nav-${name}`, dataset: { view: name } }, label);
  const nav = h('nav', { class: 'nav', 'aria-label': 'Views' }, navLink('assistant', 'Assistant'), navLink('companions', 'Companions'), navLink('stats', 'Stats'));
  const search = new SearchBox({ onOpen: (hit, terms) => openHit(hit, terms) });
  const toggle = h('button', { type: 'button', class: 'icon-btn sidebar-toggle', testid: 'sidebar-toggle', 'aria-label': 'Show the list of chats', 'aria-expanded': 'false', 'aria-controls': 'sidebar' }, icon('menu'));
  const signout = h('button', { type: 'button', class: 'btn btn-ghost', testid: 'signout' }, 'Sign out');
  const exportAll = exportButton({
    label: 'Export everything (all threads, chats, personas and characters) as one JSON file',
    text: 'Export everything', testid: 'export-all', className: 'btn btn-ghost',
    path: () => '/api/v1/export', fallback: 'chatvault-export.json',
    onError: (err) => window.alert(`Could not export: ${err.message}`),
  });
  const fileImport = new FileImport({ onImported: (result) => refreshAfterImport(result) });
  const who = h('span', { class: 'who', testid: 'current-user', title: user.email || '' }, user.display_name || user.email || '');
  const header = h('header', { class: 'topbar' },
    toggle,
    h('a', { href: '#/assistant', class: 'brand', 'aria-label': 'chatvault home' }, h('img', { src: 'icons/logo.svg', alt: '', class: 'brand-logo' }), h('span', { class: 'brand-name' }, 'chatvault')),
    nav, search.el, who, fileImport.button, exportAll, signout);
  const sidebar = h('aside', { class: 'sidebar', id: 'sidebar', testid: 'sidebar', 'aria-label': 'Chats' });
  const main = h('main', { class: 'main', testid: 'main' });
  const backdrop = h('div', { class: 'backdrop', testid: 'sidebar-backdrop' });
  const layout = h('div', { class: 'layout' }, sidebar, backdrop, main);
  const shell = h('div', { class: 'shell' }, header, layout, fileImport.el);

  const setSidebar = (open) => {
    shell.classList.toggle('sidebar-open', open);
    toggle.setAttribute('aria-expanded', String(open));
  };
  toggle.addEventListener('click', () => setSidebar(!shell.classList.contains('sidebar-open')));
  backdrop.addEventListener('click', () => setSidebar(false));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && shell.classList.contains('sidebar-open')) setSidebar(false);
  });
  // `/` focuses the search box, unless the user is typing somewhere.
  document.addEventListener('keydown', (e) => {
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey || e.isComposing || e.defaultPrevented) return;
    if (!state.shell || state.shell.el !== shell || !shell.isConnected) return;
    const t = e.target;
    if (t instanceof Element && (t.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]') || t.closest('dialog[open]'))) return;
    if (document.querySelector('dialog[open]')) return;
    e.preventDefault();
    search.focus();
  });

  signout.addEventListener('click', async () => {
    signout.disabled = true;
    live.stop(); // its end, when the token is revoked, is no news here
    try { await api('POST', '/api/v1/auth/logout'); } catch { /* the token is dropped anyway */ }
    clearToken();
    history.replaceState(null, '', '#/');
    renderAuth('You have signed out.');
  });

  replace(root, shell);
  state.shell = { el: shell, sidebar, main, nav, closeSidebar: () => setSidebar(false), who, search };
}

/** New conversations from an import: reload the open view's list (thread or chat list). */
function refreshAfterImport(result) {
  const view = state.view && state.view.instance;
  if (!view || (Number(result.imported) || 0) === 0) return;
  const kinds = new Set((Array.isArray(result.items) ? result.items : []).map((it) => it && it.kind));
  if (typeof view.resetList === 'function' && (kinds.has('thread') || !kinds.size)) {
    view.resetList();
    if (typeof view.loadTags === 'function') view.loadTags();
  }
  if (typeof view.loadChats === 'function' && (kinds.has('chat') || !kinds.size)) view.chatsLoaded = view.loadChats();
}

function parseRoute() {
  const parts = window.location.hash.replace(/^#\/?/, '').split('/').map((p) => {
    try { return decodeURIComponent(p); } catch { return p; }
  });
  const name = Object.hasOwn(VIEWS, parts[0]) ? parts[0] : 'assistant';
  return { name, param: parts[1] || null };
}

/** Open the conversation of a search hit (switching view if needed), at the message found. */
function openHit(hit, terms) {
  const name = hit.kind === 'chat' ? 'companions' : 'assistant';
  const id = String(hit.kind === 'chat' ? hit.chat_id : hit.thread_id);
  state.pendingReveal = { name, id, index: Number.isInteger(hit.index) ? hit.index : -1, terms };
  const target = `#/${name}/${encodeURIComponent(id)}`;
  if (window.location.hash !== target) window.location.hash = target;
  else route();
}

function route() {
  if (!state.shell) return;
  const { name, param } = parseRoute();
  for (const a of state.shell.nav.querySelectorAll('a')) {
    if (a.dataset.view === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!state.view || state.view.name !== name) {
    teardownView();
    state.shell.el.classList.toggle('no-sidebar', name === 'stats');
    state.shell.closeSidebar();
    const ctx = { sidebar: state.shell.sidebar, main: state.shell.main, closeSidebar: state.shell.closeSidebar, user: state.user };
    const instance = new VIEWS[name].View(ctx);
    state.view = { name, instance };
    document.title = `${VIEWS[name].title} · chatvault`;
  }
  state.view.instance.route(param);
  const r = state.pendingReveal;
  if (r && r.name === name && r.id === param) {
    state.pendingReveal = null;
    if (state.view.instance.reveal) state.view.instance.reveal(r);
  } else if (r) {
    state.pendingReveal = null;
  }
}

async function startApp() {
  if (!state.user) {
    replace(root, h('div', { class: 'boot', testid: 'loading', role: 'status' }, h('span', { class: 'spinner' }), 'Loading your account…'));
    try {
      state.user = await api('GET', '/api/v1/auth/me');
    } catch (err) {
      if (err.status === 401) return; // the unauthorized handler took over
      replace(root, h('div', { class: 'auth-wrap' }, h('div', { class: 'card auth-card', role: 'alert', testid: 'fatal-error' },
        h('h1', null, 'Something went wrong'),
        h('p', { class: 'notice notice-error' }, err.message),
        h('button', { type: 'button', class: 'btn btn-primary', onclick: () => startApp() }, 'Try again'))));
      return;
    }
  }
  buildShell();
  startLive();
  route();
}

/** Live updates from other tabs and devices (live.js), handed to the view on screen. */
function startLive() {
  live.start({
    onChanges: (changes) => {
      const view = state.view && state.view.instance;
      if (view && typeof view.liveChanges === 'function') view.liveChanges(changes);
    },
    onReset: () => {
      const view = state.view && state.view.instance;
      if (view && typeof view.liveReset === 'function') view.liveReset();
    },
  });
}

let redirecting = false;
onUnauthorized(() => {
  if (redirecting) return;
  redirecting = true;
  clearToken();
  history.replaceState(null, '', '#/');
  renderAuth('Your session has expired or was signed out. Please sign in again.', { tone: 'warn' });
  setTimeout(() => { redirecting = false; }, 0);
});

window.addEventListener('hashchange', route);
window.addEventListener('unhandledrejection', (e) => {
  if (e.reason instanceof ApiError) e.preventDefault();
});

if (getToken()) startApp();
else renderAuth('', { mode: 'signin' });
