// Exports to download: GET /api/v1/export (everything of the account) and one conversation
// (GET /api/v1/chat-threads/{id}/export, GET /api/chat/export) as Markdown or JSON. A plain
// link cannot carry the bearer token, so the file is fetched with it, taken as a Blob and
// saved through a temporary <a download> link, under the name the server gave in
// Content-Disposition (filename*, else filename, else the fallback).
import { getToken, describeDetail, ApiError } from './http.js';
import { h, icon } from './dom.js';

/** The file name of a Content-Disposition header value, or `fallback`. */
export function filenameFrom(disposition, fallback) {
  if (disposition) {
    const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition);
    if (star) {
      try { return decodeURIComponent(star[1].trim()); } catch { /* malformed: try filename */ }
    }
    const plain = /filename\s*=\s*"([^"]*)"/i.exec(disposition);
    if (plain && plain[1]) return plain[1];
  }
  return fallback;
}

/** Fetch `path` with the token and save it; resolves to the file name used. */
export async function download(path, fallback) {
  const token = getToken();
  let res;
  try {
    res = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {}, cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'Cannot reach the chatvault server to export. Try again.');
  }
  if (!res.ok) {
    let detail;
    try { detail = (await res.json()).detail; } catch { /* not JSON */ }
    throw new ApiError(res.status, describeDetail(detail) || `The export failed (${res.status}).`, detail);
  }
  const blob = await res.blob();
  const name = filenameFrom(res.headers.get('Content-Disposition'), fallback);
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true, testid: 'export-link' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  return name;
}

/**
 * A button that downloads `path()` (a function: the path may depend on what is open),
 * disabled while it runs; failures go to `onError(err)`.
 */
export function exportButton({ label, text, testid, path, fallback, onError, className = 'btn btn-small' }) {
  const btn = h('button', { type: 'button', class: className, testid, 'aria-label': label, title: label }, icon('download'), text);
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    try {
      await download(path(), fallback);
    } catch (err) {
      if (onError) onError(err);
    } finally {
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
    }
  });
  return btn;
}
