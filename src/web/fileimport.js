// Import of other apps' exports (and chatvault's own): the top bar's "Import…" opens a dialog
// with a file picker and a drop zone; a file dropped anywhere on the window (a drop overlay
// shows while dragging) opens it too. The file goes as it is to POST /api/v1/import (the
// server detects the format, reads the file as a stream and is idempotent per conversation);
// the dialog then shows the format, the counts, the skipped parts with their reasons, and a
// link to the first conversation. (./importer.js is the older import of browser-only history.)
import { api } from './http.js';
import { h, icon, replace, clear, nextId } from './dom.js';

export const FORMAT_NAMES = {
  chatgpt: 'ChatGPT',
  claude: 'Claude',
  openwebui: 'Open WebUI',
  librechat: 'LibreChat',
  'chatbot-ui': 'chatbot-ui',
  sillytavern: 'SillyTavern',
  chatvault: 'chatvault',
};

const REASONS_SHOWN = 200; // the server lists up to 1000; errors_total counts them all

function sizeOf(bytes) {
  if (!Number.isFinite(bytes)) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/** Whether a drag carries files (not text or a link dragged inside the page). */
function hasFiles(e) {
  const types = e.dataTransfer && e.dataTransfer.types;
  return Boolean(types && Array.from(types).includes('Files'));
}

export class FileImport {
  /**
   * onImported(result) is called after every import that stored something (or found it
   * already there), so the lists on screen can be refreshed.
   */
  constructor({ onImported } = {}) {
    this.onImported = onImported || (() => {});
    this.busy = false;
    this.opener = null;

    this.button = h('button', {
      type: 'button', class: 'btn btn-ghost', testid: 'file-import-button', 'aria-haspopup': 'dialog',
      title: 'Import conversations from ChatGPT, Claude, Open WebUI, LibreChat, chatbot-ui, SillyTavern or chatvault',
    }, icon('upload'), h('span', { class: 'topbar-label' }, 'Import…'));
    this.button.addEventListener('click', () => this.open());

    this.buildDialog();
    this.overlay = h('div', { class: 'drop-overlay', testid: 'drop-overlay', hidden: true, 'aria-hidden': 'true' },
      h('div', { class: 'drop-overlay-box' }, icon('upload'), h('span', null, 'Drop the file to import it')));
    this.el = [this.dialog, this.overlay];
    this.listenForDrops();
  }

  // ------------------------------------------------------------ the dialog
  buildDialog() {
    const id = nextId('file-import');
    this.input = h('input', {
      type: 'file', id: `${id}-file`, accept: '.json,.jsonl,application/json', class: 'sr-only', tabindex: '-1',
      testid: 'file-import-input', 'aria-label': 'File to import',
    });
    this.format = h('select', { id: `${id}-format`, testid: 'file-import-format-select' },
      h('option', { value: '' }, 'Detect from the file'),
      Object.entries(FORMAT_NAMES).map(([value, label]) => h('option', { value }, label)));
    this.choose = h('button', { type: 'button', class: 'btn btn-primary', testid: 'file-import-choose' }, icon('upload'), 'Choose a file…');
    this.drop = h('div', { class: 'dropzone', testid: 'file-import-drop' },
      this.input,
      this.choose,
      h('p', { class: 'dropzone-hint' }, 'or drop a .json or .jsonl file here'));
    this.status = h('div', { class: 'import-progress', role: 'status', 'aria-live': 'polite', testid: 'file-import-status' });
    this.error = h('div', { class: 'notice notice-error', role: 'alert', testid: 'file-import-error', hidden: true });
    this.result = h('section', { class: 'import-result', testid: 'file-import-result', hidden: true, 'aria-labelledby': `${id}-result-h` });
    this.resultId = `${id}-result-h`;
    this.close = h('button', { type: 'button', class: 'btn', testid: 'file-import-close' }, 'Close');
    const title = h('h2', { class: 'dialog-title', id: `${id}-h` }, 'Import conversations');
    this.dialog = h('dialog', { class: 'dialog import-dialog', testid: 'file-import-dialog', 'aria-labelledby': `${id}-h`, 'aria-describedby': `${id}-d` },
      title,
      h('p', { class: 'dialog-text muted', id: `${id}-d` },
        'An export from ChatGPT, Claude, Open WebUI, LibreChat, chatbot-ui, a SillyTavern chat (.jsonl) or a chatvault export. '
        + 'Conversations imported before are not added twice.'),
      h('div', { class: 'field import-format' }, h('label', { for: `${id}-format` }, 'Format'), this.format),
      this.drop,
      this.status,
      this.error,
      this.result,
      h('div', { class: 'dialog-actions' }, this.close));

    this.choose.addEventListener('click', () => this.input.click());
    this.input.addEventListener('change', () => {
      const file = this.input.files && this.input.files[0];
      this.input.value = '';
      if (file) this.importFile(file);
    });
    this.close.addEventListener('click', () => this.hide());
    // Escape (the dialog's cancel) closes it; an import still running finishes and its
    // result is there when the dialog opens again.
    this.dialog.addEventListener('cancel', (e) => { e.preventDefault(); this.hide(); });
    this.dialog.addEventListener('close', () => this.restoreFocus());
  }

  /** Open the dialog (fresh unless an import is running); `file` starts importing it. */
  open(file) {
    if (!this.dialog.open) {
      const active = document.activeElement;
      this.opener = active instanceof HTMLElement && active !== document.body && !this.dialog.contains(active) ? active : this.button;
      if (!this.busy && !this.keepResult) this.reset();
      this.keepResult = false;
      this.dialog.showModal();
      (this.busy ? this.close : this.choose).focus();
    }
    if (file) this.importFile(file);
  }

  hide() {
    if (this.dialog.open) this.dialog.close();
  }

  restoreFocus() {
    const back = this.opener && this.opener.isConnected ? this.opener : this.button;
    this.opener = null;
    if (back && back.isConnected) back.focus();
  }

  reset() {
    clear(this.status);
    this.error.hidden = true;
    clear(this.error);
    this.result.hidden = true;
    clear(this.result);
    delete this.dialog.dataset.state;
  }

  setBusy(on) {
    this.busy = on;
    this.choose.disabled = on;
    this.format.disabled = on;
    this.drop.classList.toggle('is-busy', on);
    this.dialog.setAttribute('aria-busy', String(on));
  }

  // ------------------------------------------------------------ importing
  async importFile(file) {
    if (this.busy) return;
    if (!this.dialog.open) this.open();
    this.reset();
    this.setBusy(true);
    this.dialog.dataset.state = 'importing';
    replace(this.status, h('span', { class: 'spinner' }), `Importing ${file.name}${file.size ? ` (${sizeOf(file.size)})` : ''}…`);
    const format = this.format.value;
    const path = format ? `/api/v1/import?format=${encodeURIComponent(format)}` : '/api/v1/import';
    try {
      const result = await api('POST', path, file);
      clear(this.status);
      this.showResult(file, result || {});
      this.dialog.dataset.state = 'done';
      this.notify(result);
    } catch (err) {
      clear(this.status);
      this.showError(file, err);
      this.dialog.dataset.state = 'failed';
      // a file broken half-way keeps what was read before the problem
      if (err.body && Number(err.body.imported) > 0) this.notify(err.body);
    } finally {
      this.setBusy(false);
      if (!this.dialog.open) this.keepResult = true;
      else if (this.dialog.contains(document.activeElement) || document.activeElement === document.body) {
        (this.result.querySelector('[data-testid=file-import-open-first]') || this.choose).focus();
      }
    }
  }

  notify(result) {
    try { this.onImported(result || {}); } catch { /* the lists refresh on the next visit anyway */ }
  }

  showError(file, err) {
    let message = err.message || 'The import failed.';
    if (err.status === 422 && Array.isArray(err.detail) && err.detail.some((d) => d && Array.isArray(d.loc) && d.loc.includes('body'))) {
      message = 'The file is empty.';
    } else if (err.status === 413) {
      message = `${err.message} The file is larger than this server accepts.`;
    }
    const parts = [h('strong', null, `Could not import ${file.name}: `), h('span', { testid: 'file-import-error-detail' }, message)];
    const b = err.body;
    if (b && Number(b.imported) > 0) {
      parts.push(h('span', { class: 'import-partial' },
        ` ${plural(Number(b.imported), 'conversation', 'conversations')} read before the problem ${Number(b.imported) === 1 ? 'was' : 'were'} imported;`
        + ' importing the whole file again once it is fixed adds the rest, without doubles.'));
    }
    replace(this.error, parts);
    this.error.hidden = false;
  }

  showResult(file, r) {
    const items = Array.isArray(r.items) ? r.items : [];
    const errors = Array.isArray(r.errors) ? r.errors : [];
    const imported = Number(r.imported) || 0;
    const skipped = Number(r.skipped) || 0;
    // items lists every conversation of the file now in the store: new or already there
    const existing = Math.max(0, items.length - imported);
    const notImported = Math.max(0, skipped - existing);
    const errorsTotal = Number.isFinite(r.errors_total) ? r.errors_total : errors.length;
    const formatName = FORMAT_NAMES[r.format] || r.format || 'unknown';

    const stat = (label, value, testid) => h('div', { class: 'import-stat' },
      h('dt', null, label), h('dd', { testid, dataset: { value: String(value) } }, String(value)));
    const counts = h('dl', { class: 'import-stats', testid: 'file-import-counts' },
      stat('Imported', imported, 'file-import-imported'),
      stat('Already there', existing, 'file-import-existing'),
      notImported ? stat('Not imported', notImported, 'file-import-not-imported') : null,
      stat('Skipped parts', errorsTotal, 'file-import-errors-total'));

    Object.assign(this.result.dataset, {
      format: r.format || '', imported: String(imported), existing: String(existing), skipped: String(skipped), errors: String(errorsTotal),
    });

    let summary;
    if (!items.length && !imported) summary = 'Nothing in this file could be imported.';
    else if (!imported) summary = `Everything in this file was imported before: ${plural(existing, 'conversation is', 'conversations are')} already there.`;
    else summary = `${plural(imported, 'conversation', 'conversations')} added${existing ? `, ${existing} already there` : ''}.`;

    const first = items.find((it) => it && (it.kind === 'thread' || it.kind === 'chat'));
    let openLink = null;
    if (first) {
      const href = first.kind === 'chat'
        ? `#/companions/${encodeURIComponent(String(first.id))}` : `#/assistant/${encodeURIComponent(String(first.id))}`;
      const what = first.kind === 'chat' ? 'chat' : 'thread';
      const label = items.length > 1 ? `Open the first ${what}` : `Open the ${what}`;
      openLink = h('a', { href, class: 'btn btn-small', testid: 'file-import-open-first', dataset: { kind: first.kind, id: String(first.id) } }, label);
      openLink.addEventListener('click', () => {
        this.opener = null;
        this.hide();
      });
    }

    let reasons = null;
    if (errorsTotal > 0) {
      const shown = errors.slice(0, REASONS_SHOWN);
      const more = errorsTotal - shown.length;
      const listId = `${this.resultId}-reasons`;
      reasons = h('div', { class: 'import-reasons' },
        h('h4', { class: 'import-reasons-title', id: listId }, `What was skipped (${errorsTotal})`),
        h('ul', { class: 'import-reason-list', testid: 'file-import-reasons', 'aria-labelledby': listId, tabindex: '0' },
          shown.map((e) => h('li', { class: 'import-reason', testid: 'file-import-reason', dataset: { source: e && e.source_id != null ? String(e.source_id) : '' } },
            e && e.source_id != null ? h('span', { class: 'import-reason-src' }, String(e.source_id)) : null,
            h('span', { class: 'import-reason-detail' }, String((e && e.detail) || ''))))),
        more > 0 ? h('p', { class: 'muted import-reasons-more', testid: 'file-import-reasons-more' }, `and ${more} more`) : null);
    }

    replace(this.result,
      h('h3', { class: 'import-result-title', id: this.resultId },
        icon(imported || existing ? 'check' : 'x'),
        h('span', null, `${file.name}: `),
        h('span', { testid: 'file-import-format', dataset: { format: r.format || '' } }, formatName)),
      h('p', { class: 'import-summary', testid: 'file-import-summary' }, summary),
      counts,
      openLink ? h('p', { class: 'import-open' }, openLink) : null,
      reasons);
    this.result.hidden = false;
  }

  // ------------------------------------------------------------ drag and drop
  listenForDrops() {
    let hideTimer = null;
    const live = () => this.button.isConnected;
    const showOverlay = (on) => {
      this.overlay.hidden = !on;
      this.drop.classList.toggle('is-over', on && this.dialog.open);
    };
    const later = () => {
      clearTimeout(hideTimer);
      hideTimer = setTimeout(() => showOverlay(false), 250);
    };
    document.addEventListener('dragenter', (e) => {
      if (!live() || !hasFiles(e)) return;
      e.preventDefault();
      showOverlay(true);
      later();
    });
    document.addEventListener('dragover', (e) => {
      if (!live() || !hasFiles(e)) return;
      e.preventDefault(); // allow the drop (and never let the browser open the file itself)
      if (e.dataTransfer) e.dataTransfer.dropEffect = this.busy ? 'none' : 'copy';
      showOverlay(true);
      later();
    });
    document.addEventListener('dragleave', (e) => {
      if (!live()) return;
      if (!e.relatedTarget) later();
    });
    document.addEventListener('drop', (e) => {
      if (!live() || !hasFiles(e)) return;
      e.preventDefault();
      clearTimeout(hideTimer);
      showOverlay(false);
      const file = e.dataTransfer.files && e.dataTransfer.files[0];
      if (!file || this.busy) return;
      this.open(file);
    });
  }
}
