/*
** h_export.c — the export routes: GET /api/v1/export (everything of the caller as one
** streamed JSON document), GET /api/v1/chat-threads/{id}/export and GET /api/chat/export
** (one conversation as a JSON, Markdown or text file to download). Each answer is read from
** one read snapshot and written through the streamed response (http_stream_*) by the
** export service, so it is one consistent state and costs a bounded buffer whatever its
** size. A thread or chat that is missing or another user's is answered exactly as its GET
** answers it (404 / 403, http_reply_rc). The query is validated before any lookup (422).
** May call http, validate, export, util and the stores (snapshots, users, catalog).
*/
#include "app.h"
#include "export.h"
#include "handlers.h"
#include "http.h"
#include "store.h"
#include "store_catalog.h"
#include "store_chats.h"
#include "store_threads.h"
#include "store_users.h"
#include "util.h"
#include "validate.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* ?format=json|md|txt (default json) into *pe. Returns 1, or 0 after sending the 422. */
static int read_format(struct cv_req *r, enum cv_export_format *pe){
  struct cv_verr e;
  char z[16];
  int k, ok = 1;
  verr_init(&e);
  k = val_query_str(&e, r->zQuery, "format", z, sizeof z);
  if( k<0 ){
    ok = 0;
  }else if( k==0 ){
    *pe = CV_EXPORT_JSON;
  }else if( export_format_parse(z)<0 ){
    verr_add(&e, "query.format", "literal_error", "Input should be 'json', 'md' or 'txt'");
    ok = 0;
  }else{
    *pe = (enum cv_export_format)export_format_parse(z);
  }
  if( !ok ) http_reply_422(r, &e);
  verr_free(&e);
  return ok;
}

/* ROUTE: GET /api/v1/export (auth)
** 200 application/json, streamed: {"format":"chatvault","version":1,"exported_at",
** "user":{email, display_name}, "threads":[ChatThreadOut + client_id], "chats":[entry],
** "personas":[persona], "characters":[character created by the caller]}, each list in id
** order, all of it one snapshot; Content-Disposition names it
** chatvault-export-YYYY-MM-DD.json. A failure after the first 16 KiB went out cuts the body
** short (never a complete-looking wrong document). 401 (also when the account is gone). */
int h_export_all(struct cv_req *r){
  struct cv_user u;
  struct cv_read rd;
  struct cv_stream s;
  char zNow[CV_TS_LEN+1], zHdr[128];
  int64_t nowMs = util_now_ms();
  cv_rc rc = store_users_by_id(r->pApp->pStore, r->userId, &u);
  if( rc==CV_NOTFOUND ){ http_reply_401(r, "Not authenticated"); return r->status; }
  if( rc ){ http_reply_rc(r, rc, "User"); return r->status; }
  rc = store_read_begin(r->pApp->pStore, &rd);
  if( rc ){
    http_reply_rc(r, rc, NULL);
  }else{
    util_iso_format(nowMs, zNow);
    snprintf(zHdr, sizeof zHdr, "Content-Disposition: attachment; "
             "filename=\"chatvault-export-%.10s.json\"\r\n", zNow);
    http_stream_begin(r, &s, 200, "application/json", zHdr);
    http_stream_end(&s, export_user_document(&rd, &u, nowMs, &s.sink, NULL), NULL);
    store_read_end(&rd);
  }
  store_user_clear(&u);
  return r->status;
}

/* ROUTE: GET /api/v1/chat-threads/{id}/export?format=json|md|txt (auth)
** 200 the thread as a file (Content-Disposition: attachment, named after its title):
** json ChatThreadOut (default), md "# title" then "## User" / "## Assistant" above each
** message, txt the title line then "User:" / "Assistant:" above each message. Streamed.
** The owner or a member of the thread (shared with it: the JSON then has `owner`); 403
** anyone else; 404; 422 bad id or format. */
int h_threads_export(struct cv_req *r){
  enum cv_export_format eFmt = CV_EXPORT_JSON;
  struct cv_read rd;
  struct cv_thread t;
  struct cv_stream s;
  char zHdr[EXPORT_DISPOSITION_MAX];
  int64_t id;
  cv_rc rc;
  if( !http_path_id(r, 0, "id", &id) ) return r->status;
  if( !read_format(r, &eFmt) ) return r->status;
  rc = store_read_begin(r->pApp->pStore, &rd);
  if( rc ){ http_reply_rc(r, rc, NULL); return r->status; }
  rc = store_threads_view(&rd, r->userId, id, &t, NULL);
  if( rc ){
    http_reply_rc(r, rc, "Thread");
  }else{
    export_disposition(t.zTitle ? t.zTitle : "", "thread", eFmt, zHdr);
    http_stream_begin(r, &s, 200, export_format_type(eFmt), zHdr);
    http_stream_end(&s, export_thread(&rd, &t, eFmt, &s.sink), "Thread");
    store_thread_clear(&t);
  }
  store_read_end(&rd);
  return r->status;
}

/* ROUTE: GET /api/chat/export?chat_id=UUID&format=json|md|txt (auth)
** 200 the chat as a file, as the thread export: json the chat history entry (default); md
** and txt with the persona's name (or "You") and the character's name as speakers, the
** title (or "Chat with <character>") as heading. Streamed. 403 another user's chat; 404;
** 422 chat_id missing or not a UUID, bad format. */
int h_chat_export(struct cv_req *r){
  enum cv_export_format eFmt = CV_EXPORT_JSON;
  struct cv_verr e;
  struct cv_read rd;
  struct cv_chat c;
  struct cv_item persona;
  struct cv_stream s;
  char zChatId[64], zTitle[CV_TITLE_MAX_CHARS*4 + 64], zHdr[EXPORT_DISPOSITION_MAX];
  int i, k;
  cv_rc rc;
  verr_init(&e);
  k = val_query_str(&e, r->zQuery, "chat_id", zChatId, sizeof zChatId);
  if( k==0 ) verr_add(&e, "query.chat_id", "missing", "Field required");
  else if( k==1 && !util_uuid_valid(zChatId) ){
    verr_add(&e, "query.chat_id", "uuid_parsing", "Input should be a valid UUID");
    k = -1;
  }
  if( k!=1 ){ http_reply_422(r, &e); verr_free(&e); return r->status; }
  verr_free(&e);
  for(i=0; zChatId[i]; i++) zChatId[i] = (char)tolower((unsigned char)zChatId[i]);
  if( !read_format(r, &eFmt) ) return r->status;
  rc = store_read_begin(r->pApp->pStore, &rd);
  if( rc ){ http_reply_rc(r, rc, NULL); return r->status; }
  rc = store_chats_get(&rd, r->userId, zChatId, &c);
  if( rc ){
    http_reply_rc(r, rc, "Chat");
  }else{
    memset(&persona, 0, sizeof persona);
    rc = c.personaId && eFmt!=CV_EXPORT_JSON
       ? store_catalog_get(r->pApp->pStore, CV_KIND_PERSONA, r->userId, c.personaId, &persona)
       : CV_OK;
    if( rc==CV_NOTFOUND ) rc = CV_OK;           /* deleted meanwhile: "You" */
    if( rc ){
      http_reply_rc(r, rc, NULL);
    }else{
      export_chat_title(&c, zTitle, sizeof zTitle);
      export_disposition(zTitle, "chat", eFmt, zHdr);
      http_stream_begin(r, &s, 200, export_format_type(eFmt), zHdr);
      http_stream_end(&s, export_chat(&rd, &c, persona.zName, eFmt, &s.sink), "Chat");
    }
    store_item_clear(&persona);
    store_chat_clear(&c);
  }
  store_read_end(&rd);
  return r->status;
}
