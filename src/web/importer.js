// Import of the chat history that older versions of the page kept only in the
// browser's localStorage: a JSON file holding either an array of threads
// [{client_id, title, messages, created_at, updated_at}] or {threads: [...]}.
import { api, ApiError } from './http.js';

const BATCH_BYTES = 512 * 1024; // stay well under the server's 1 MiB body limit

function toIso(value) {
  if (typeof value === 'string' && value.trim()) return value;
  if (typeof value === 'number' && Number.isFinite(value)) {
    // epoch seconds or milliseconds
    const ms = value < 1e12 ? value * 1000 : value;
    const d = new Date(ms);
    return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
  }
  return undefined;
}

/** Normalise parsed JSON into the import payload. Throws ApiError(0) on bad input. */
export function normaliseThreads(data) {
  let list = null;
  if (Array.isArray(data)) list = data;
  else if (data && typeof data === 'object' && Array.isArray(data.threads)) list = data.threads;
  if (!list) {
    throw new ApiError(0, 'This file is not a chat history export: expected a list of threads, or an object with a "threads" list.');
  }
  const threads = [];
  let droppedMessages = 0;
  let invalid = 0;
  for (const t of list) {
    if (!t || typeof t !== 'object') { invalid += 1; continue; }
    const clientId = t.client_id ?? t.clientId ?? t.id;
    if (clientId === undefined || clientId === null || String(clientId) === '') { invalid += 1; continue; }
    const item = { client_id: String(clientId) };
    if (typeof t.title === 'string' && t.title.trim()) item.title = Array.from(t.title).slice(0, 255).join('');
    const raw = Array.isArray(t.messages) ? t.messages : [];
    item.messages = raw
      .filter((m) => m && (m.role === 'user' || m.role === 'assistant') && typeof m.content === 'string')
      .map((m) => ({ role: m.role, content: m.content }));
    droppedMessages += raw.length - item.messages.length;
    const created = toIso(t.created_at ?? t.createdAt);
    const updated = toIso(t.updated_at ?? t.updatedAt);
    if (created) item.created_at = created;
    if (updated) item.updated_at = updated;
    threads.push(item);
  }
  if (!threads.length) {
    throw new ApiError(0, invalid ? 'None of the threads in this file has a client_id.' : 'This file has no threads to import.');
  }
  return { threads, droppedMessages, invalid };
}

export async function readImportFile(file) {
  let text;
  try {
    text = await file.text();
  } catch {
    throw new ApiError(0, 'The file could not be read.');
  }
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ApiError(0, 'The file is not valid JSON.');
  }
  return normaliseThreads(data);
}

/** POST the threads in batches; resolves to the summed {imported, skipped}. */
export async function importThreads(threads) {
  const batches = [];
  let batch = [];
  let size = 2;
  for (const t of threads) {
    const n = new TextEncoder().encode(JSON.stringify(t)).length + 1;
    if (batch.length && size + n > BATCH_BYTES) {
      batches.push(batch);
      batch = [];
      size = 2;
    }
    batch.push(t);
    size += n;
  }
  if (batch.length) batches.push(batch);
  let imported = 0;
  let skipped = 0;
  for (const b of batches) {
    const out = await api('POST', '/api/v1/chat-threads/import', b);
    imported += Number(out && out.imported) || 0;
    skipped += Number(out && out.skipped) || 0;
  }
  return { imported, skipped };
}
