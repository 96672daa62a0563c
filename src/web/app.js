// chatvault web page: sign-in, the app shell and hash routing.
//   #/assistant[/<thread id>]    assistant threads
//   #/companions[/<chat id>]     character chats
import { api, getToken, setToken, clearToken, onUnauthorized, ApiError } from './http.js';
import { h, icon, replace, nextId } from './dom.js';
import { AssistantView } from './threads.js';
import { CompanionsView } from './companions.js';

const root = document.getElementById('app');

const state = {
  user: null,
  view: null, // {name, instance}
  shell: null,
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
  const nav = h('nav', { class: 'nav', 'aria-label': 'Views' }, navLink('assistant', 'Assistant'), navLink('companions', 'Companions'));
  const toggle = h('button', { type: 'button', class: 'icon-btn sidebar-toggle', testid: 'sidebar-toggle', 'aria-label': 'Show the list of chats', 'aria-expanded': 'false', 'aria-controls': 'sidebar' }, icon('menu'));
  const signout = h('button', { type: 'button', class: 'btn btn-ghost', testid: 'signout' }, 'Sign out');
  const who = h('span', { class: 'who', testid: 'current-user', title: user.email || '' }, user.display_name || user.email || '');
  const header = h('header', { class: 'topbar' },
    toggle,
    h('a', { href: '#/assistant', class: 'brand', 'aria-label': 'chatvault home' }, h('img', { src: 'icons/logo.svg', alt: '', class: 'brand-logo' }), h('span', { class: 'brand-name' }, 'chatvault')),
    nav, h('span', { class: 'spacer' }), who, signout);
  const sidebar = h('aside', { class: 'sidebar', id: 'sidebar', testid: 'sidebar', 'aria-label': 'Chats' });
  const main = h('main', { class: 'main', testid: 'main' });
  const backdrop = h('div', { class: 'backdrop', testid: 'sidebar-backdrop' });
  const layout = h('div', { class: 'layout' }, sidebar, backdrop, main);
  const shell = h('div', { class: 'shell' }, header, layout);

  const setSidebar = (open) => {
    shell.classList.toggle('sidebar-open', open);
    toggle.setAttribute('aria-expanded', String(open));
  };
  toggle.addEventListener('click', () => setSidebar(!shell.classList.contains('sidebar-open')));
  backdrop.addEventListener('click', () => setSidebar(false));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && shell.classList.contains('sidebar-open')) setSidebar(false);
  });

  signout.addEventListener('click', async () => {
    signout.disabled = true;
    try { await api('POST', '/api/v1/auth/logout'); } catch { /* the token is dropped anyway */ }
    clearToken();
    history.replaceState(null, '', '#/');
    renderAuth('You have signed out.');
  });

  replace(root, shell);
  state.shell = { el: shell, sidebar, main, nav, closeSidebar: () => setSidebar(false), who };
}

function parseRoute() {
  const parts = window.location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const name = parts[0] === 'companions' ? 'companions' : 'assistant';
  return { name, param: parts[1] || null };
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
    const ctx = { sidebar: state.shell.sidebar, main: state.shell.main, closeSidebar: state.shell.closeSidebar, user: state.user };
    const instance = name === 'companions' ? new CompanionsView(ctx) : new AssistantView(ctx);
    state.view = { name, instance };
    document.title = `${name === 'companions' ? 'Companions' : 'Assistant'} · chatvault`;
  }
  state.view.instance.route(param);
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
  route();
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
