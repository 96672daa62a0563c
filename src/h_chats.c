/*
** h_chats.c — character chats under /api (POST /api/chat, /api/chat/rename,
** /api/chat/delete, /api/chat/restore, GET /api/chat-history and its /archived) and POST /api/v1/chat-threads/{id}/complete,
** which answers exactly like POST /api/chat: both run one turn of the complete service
** and share the streaming code here.
**
** Streaming: with "stream":true the event stream is started lazily, on the first piece of
** the reply, so anything that fails before (unknown character, another user's chat_id,
** an upstream that refuses or times out) is still an ordinary JSON error with its status
** (404/403/502/504). After that, a failure is an `event: error` with {"detail":...}, and
** success ends with `event: done`. A client that leaves mid-stream only stops the
** sending: the turn goes on and the reply is saved.
** chat_id: any UUID form is accepted and stored lower-case (the canonical form).
** May call http, validate, render, util, the complete service and store_chats.
*/
#include "app.h"
#include "complete.h"
#include "cursor.h"
#include "handlers.h"
#include "http.h"
#include "render.h"
#include "store.h"
#include "store_chats.h"
#include "store_threads.h"
#include "util.h"
#include "validate.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- streaming --------------------------------------------------------------------- */

struct stream {
  struct cv_req *r;
  int bStarted;                  /* the event stream's header went out */
  int bGone;                     /* the client has left: send nothing more */
};

/* cv_llm_delta_fn: one `data: {"delta":"..."}` event per piece of the reply. */
static int on_delta(void *pCtx, const char *z, size_t n){
  struct stream *s = pCtx;
  struct cv_buf b;
  if( s->bGone ) return 1;
  if( n==0 ) return 0;
  if( !s->bStarted ){
    if( http_sse_start(s->r) ){ s->bGone = 1; return 1; }
    s->bStarted = 1;
  }
  buf_init(&b, n*6 + 64);
  /* on OOM this piece is lost to the stream, not to the saved reply */
  if( render_delta(&b, z, n)==CV_OK && http_sse_send(s->r, NULL, b.a)==CV_CLOSED ) s->bGone = 1;
  buf_free(&b);
  return s->bGone;
}

/* The human-readable detail of a failed turn. */
static const char *turn_detail(cv_rc rc){
  switch( rc ){
    case CV_UPSTREAM: return "The language model server failed";
    case CV_TIMEOUT:  return "The language model server timed out";
    case CV_NOTFOUND: return "Chat not found";
    case CV_FULL:     return "Insufficient storage: the disk is full; the reply was not saved";
    default:          return "Internal server error";
  }
}

/* Answer a failed turn: a JSON error before the stream started, an error event after. */
static void reply_turn_error(struct stream *s, cv_rc rc, const char *zWhat){
  if( !s->bStarted ){
    http_reply_rc(s->r, rc, zWhat);
    return;
  }
  if( !s->bGone ){
    cJSON *p = cJSON_CreateObject();
    char *z = NULL;
    if( p && cJSON_AddStringToObject(p, "detail", turn_detail(rc)) ) z = cJSON_PrintUnformatted(p);
    http_sse_send(s->r, "error", z ? z : "{\"detail\":\"Internal server error\"}");
    cJSON_free(z);
    cJSON_Delete(p);
  }
  fprintf(stderr, "chatvault: %s %s: turn failed after streaming began: %s\n",
          s->r->zMethod, s->r->zPath, cv_rc_str(rc));
}

/* What a finished turn's answer is made of: which conversation, and which shape. */
struct answer {
  const struct cv_turn *t;
  int bStream;                   /* stream: the done event's data; else the 200 body */
};

/* Write the answer of turn t to pOut in snapshot pRd: a chat's {chat_id, reply, chat} (its
** done event: the entry alone), a thread's {thread_id, reply, thread} (done: the same). */
static cv_rc write_answer(struct cv_req *r, struct cv_read *pRd, const struct answer *a,
                          struct cv_sink *pOut){
  cv_rc rc;
  if( a->t->eKind==CV_CONV_CHAT ){
    struct cv_chat c;
    rc = store_chats_get(pRd, r->userId, a->t->zChatId, &c);
    if( rc ) return rc;
    rc = a->bStream ? render_chat_entry(pOut, &c, store_messages_cb, pRd)
                    : render_chat_answer(pOut, &c, a->t->zReply, store_messages_cb, pRd);
    store_chat_clear(&c);
  }else{
    struct cv_thread th;
    rc = store_threads_get(pRd, r->userId, a->t->threadId, &th);
    if( rc ) return rc;
    rc = render_thread_answer(pOut, &th, a->t->zReply, store_messages_cb, pRd);
    store_thread_clear(&th);
  }
  return rc;
}

/* Answer a finished turn: 200 with the answer, or (streaming) `event: done` with it; the
** conversation is read back from one snapshot and streamed, never copied whole. */
static void reply_turn_done(struct stream *s, const struct cv_turn *t, int bStream){
  struct cv_read rd;
  struct cv_stream o;
  struct answer a;
  cv_rc rc;
  a.t = t;
  a.bStream = bStream;
  if( bStream && !s->bStarted ){
    if( http_sse_start(s->r) ) s->bGone = 1;
    s->bStarted = 1;
  }
  if( s->bGone ) return;
  rc = store_read_begin(s->r->pApp->pStore, &rd);
  if( rc ){ reply_turn_error(s, rc, NULL); return; }
  if( !bStream ){
    http_stream_begin(s->r, &o, 200, "application/json", NULL);
    http_stream_end(&o, write_answer(s->r, &rd, &a, &o.sink), NULL);
  }else{
    http_sse_event_begin(s->r, &o, "done");
    rc = write_answer(s->r, &rd, &a, &o.sink);
    if( rc ){
      /* the event is cut mid-data: end the line, then say what happened */
      http_sse_event_end(&o);
      reply_turn_error(s, rc, NULL);
    }else if( http_sse_event_end(&o)==CV_CLOSED ){
      s->bGone = 1;
    }
  }
  store_read_end(&rd);
}

/* ---- validation helpers ------------------------------------------------------------ */

/* Field "chat_id" as a UUID, lower-cased into zOut (CV_UUID_LEN+1 bytes).
** 1 present, 0 absent (not required), -1 invalid (entry added). */
static int val_chat_id(struct cv_verr *e, const cJSON *pBody, int bRequired, char *zOut){
  const char *z;
  int i, rc = val_string(e, pBody, "body", "chat_id", 0, 64, bRequired, &z);
  if( rc<=0 ) return rc;
  if( !util_uuid_valid(z) ){
    verr_add(e, "body.chat_id", "uuid_parsing", "Input should be a valid UUID");
    return -1;
  }
  for(i=0; i<CV_UUID_LEN; i++) zOut[i] = (char)tolower((unsigned char)z[i]);
  zOut[CV_UUID_LEN] = 0;
  return 1;
}

/* ---- routes -------------------------------------------------------------------------- */

/* ROUTE: POST /api/chat (auth) {chat_id?, character_id?, scene_id?, persona_id?, message,
** stream?} — appends the user's message and the assistant's reply, creating the chat when
** chat_id is absent (new UUID) or unknown (the client's UUID is kept). 200 {chat_id,
** reply, chat: entry}; with stream: text/event-stream of `data: {"delta":...}` then
** `event: done` with the entry. 403 another user's chat_id; 404 unknown character, scene
** or persona (or another user's persona); 422 (chat_id not a UUID, message missing);
** 502/504 upstream failure or timeout (the user's message stays saved). */
int h_chat_send(struct cv_req *r){
  struct cv_verr e;
  struct cv_turn t;
  struct stream s;
  char zChatId[CV_UUID_LEN+1];
  int ok, bStream = 0, k;
  cv_rc rc;

  memset(&t, 0, sizeof t);
  memset(&s, 0, sizeof s);
  s.r = r;
  if( !http_read_json(r) ) return r->status;
  verr_init(&e);
  ok = val_body_object(&e, r->pBody);
  if( ok ){
    k = val_chat_id(&e, r->pBody, 0, zChatId);
    ok &= k>=0;
    if( k==0 ) util_uuid4(zChatId);
    ok &= val_int(&e, r->pBody, "body", "character_id", 1, INT64_MAX/2, 0, &t.characterId)>=0;
    ok &= val_int(&e, r->pBody, "body", "scene_id", 1, INT64_MAX/2, 0, &t.sceneId)>=0;
    ok &= val_int(&e, r->pBody, "body", "persona_id", 1, INT64_MAX/2, 0, &t.personaId)>=0;
    ok &= val_string(&e, r->pBody, "body", "message", 1, CV_MESSAGE_MAX_CHARS, 1, &t.zContent)==1;
    ok &= val_bool(&e, r->pBody, "body", "stream", 0, &bStream)>=0;
  }
  if( !ok ){ http_reply_422(r, &e); goto out; }
  t.eKind = CV_CONV_CHAT;
  t.userId = r->userId;
  t.zChatId = zChatId;

  rc = complete_turn(r->pApp->pStore, r->pApp->pCfg, &t, bStream ? on_delta : NULL, &s);
  if( rc ){
    reply_turn_error(&s, rc, t.zMissing ? t.zMissing : "Chat");
    goto out;
  }
  reply_turn_done(&s, &t, bStream);
out:
  complete_turn_clear(&t);
  verr_free(&e);
  return r->status;
}

/* ROUTE: POST /api/v1/chat-threads/{id}/complete (auth) {content, stream?} | {regenerate: true,
** stream?}
** Appends the user message, then the assistant's reply, produced and streamed exactly like
** POST /api/chat. 200 {thread_id, reply, thread: ChatThreadOut}; with stream, deltas then
** `event: done` with that object. 403; 404; 422; 502/504 (the user message stays).
** regenerate: the assistant messages after the last user message are removed (one write)
** and a new reply to that message is produced and answered as above; 422 with content, or
** when the thread has no user message (loc body.regenerate). */
int h_threads_complete(struct cv_req *r){
  struct cv_verr e;
  struct cv_turn t;
  struct stream s;
  int64_t id;
  int ok, bStream = 0, k;
  cv_rc rc;

  memset(&t, 0, sizeof t);
  memset(&s, 0, sizeof s);
  s.r = r;
  verr_init(&e);
  if( val_path_id(&e, r->azParam[0], "id", &id)!=1 ){ http_reply_422(r, &e); goto out; }
  if( !http_read_json(r) ) goto out;
  ok = val_body_object(&e, r->pBody);
  if( ok ){
    k = val_bool(&e, r->pBody, "body", "regenerate", 0, &t.bRegenerate);
    ok &= k>=0;
    if( k!=1 ) t.bRegenerate = 0;
    if( t.bRegenerate ){
      /* the message answered again is the thread's last user message: none is sent */
      if( cJSON_GetObjectItemCaseSensitive(r->pBody, "content") ){
        verr_add(&e, "body.content", "value_error",
                 "Value error, content cannot be combined with regenerate");
        ok = 0;
      }
    }else{
      ok &= val_string(&e, r->pBody, "body", "content", 1, CV_MESSAGE_MAX_CHARS, 1, &t.zContent)==1;
    }
    ok &= val_bool(&e, r->pBody, "body", "stream", 0, &bStream)>=0;
  }
  if( !ok ){ http_reply_422(r, &e); goto out; }
  t.eKind = CV_CONV_THREAD;
  t.userId = r->userId;
  t.threadId = id;

  rc = complete_turn(r->pApp->pStore, r->pApp->pCfg, &t, bStream ? on_delta : NULL, &s);
  if( rc==CV_INVALID && t.bRegenerate && !s.bStarted ){
    verr_add(&e, "body.regenerate", "value_error",
             "Value error, the thread has no user message to answer again");
    http_reply_422(r, &e);
    goto out;
  }
  if( rc ){
    reply_turn_error(&s, rc, "Thread");
    goto out;
  }
  reply_turn_done(&s, &t, bStream);
out:
  complete_turn_clear(&t);
  verr_free(&e);
  return r->status;
}

/* Send chat zChatId of the caller as an entry, read from one snapshot. */
static void reply_entry(struct cv_req *r, const char *zChatId){
  struct cv_read rd;
  struct cv_chat c;
  struct cv_stream s;
  cv_rc rc = store_read_begin(r->pApp->pStore, &rd);
  if( rc ){ http_reply_rc(r, rc, NULL); return; }
  rc = store_chats_get(&rd, r->userId, zChatId, &c);
  if( rc ){
    http_reply_rc(r, rc, "Chat");
  }else{
    http_stream_begin(r, &s, 200, "application/json", NULL);
    http_stream_end(&s, render_chat_entry(&s.sink, &c, store_messages_cb, &rd), "Chat");
    store_chat_clear(&c);
  }
  store_read_end(&rd);
}

/* ROUTE: POST /api/chat/rename (auth) {chat_id, title}
** 200 entry, with the new title and last_updated (the chat becomes the newest); 403
** another user's chat; 404; 422 (title 1..255 characters). */
int h_chat_rename(struct cv_req *r){
  struct cv_verr e;
  struct cv_chat c;
  char zChatId[CV_UUID_LEN+1];
  const char *zTitle = NULL;
  int ok;
  cv_rc rc;
  if( !http_read_json(r) ) return r->status;
  verr_init(&e);
  ok = val_body_object(&e, r->pBody);
  if( ok ){
    ok &= val_chat_id(&e, r->pBody, 1, zChatId)==1;
    ok &= val_string(&e, r->pBody, "body", "title", 1, CV_TITLE_MAX_CHARS, 1, &zTitle)==1;
  }
  if( !ok ){ http_reply_422(r, &e); goto out; }
  rc = store_chats_rename(r->pApp->pStore, r->userId, zChatId, zTitle, &c);
  if( rc ){ http_reply_rc(r, rc, "Chat"); goto out; }
  store_chat_clear(&c);
  reply_entry(r, zChatId);
out:
  verr_free(&e);
  return r->status;
}

/* ROUTE: POST /api/chat/delete (auth) {chat_id} — 200 {"ok":true}; 403 another user's
** chat; 404; 422. */
int h_chat_delete(struct cv_req *r){
  struct cv_verr e;
  char zChatId[CV_UUID_LEN+1];
  cv_rc rc;
  if( !http_read_json(r) ) return r->status;
  verr_init(&e);
  if( !val_body_object(&e, r->pBody) || val_chat_id(&e, r->pBody, 1, zChatId)!=1 ){
    http_reply_422(r, &e);
    goto out;
  }
  rc = store_chats_delete(r->pApp->pStore, r->userId, zChatId);
  if( rc ){ http_reply_rc(r, rc, "Chat"); goto out; }
  {
    cJSON *p = cJSON_CreateObject();
    if( p && !cJSON_AddTrueToObject(p, "ok") ){ cJSON_Delete(p); p = NULL; }
    http_reply_json(r, 200, p, NULL);
    cJSON_Delete(p);
  }
out:
  verr_free(&e);
  return r->status;
}

/* The kept (bArchived 0: GET /api/chat-history) or archived (1: GET
** /api/chat-history/archived) chats of the caller, one page, as h_chat_history describes. */
static int chat_history(struct cv_req *r, int bArchived){
  struct cv_verr e;
  struct cv_read rd;
  struct cv_stream o;
  struct cv_cursor cur;
  struct cv_page pg;
  struct cv_chat *a = NULL;
  int64_t page, limit, total = 0;
  int n = 0, ok, k;
  char zHdr[CV_CURSOR_HEADER_LEN] = "";
  cv_rc rc;
  verr_init(&e);
  ok = val_query_int(&e, r->zQuery, "page", 1, 1, 1000000000, &page)==1;
  ok &= val_query_int(&e, r->zQuery, "limit", 20, 1, CV_HISTORY_PAGE_MAX, &limit)==1;
  k = val_query_cursor(&e, r->zQuery, CV_CURSOR_CHATS, &cur);
  if( k<0 ) ok = 0;
  if( ok && k==1 && page>1 ){
    verr_add(&e, "query.cursor", "value_error", "Value error, cursor and page cannot be combined");
    ok = 0;
  }
  if( !ok ){ http_reply_422(r, &e); verr_free(&e); return r->status; }
  verr_free(&e);
  memset(&pg, 0, sizeof pg);
  pg.limit = (int)limit;
  pg.offset = (page-1)*limit;
  if( k==1 ){
    pg.zAfterKey = cur.zKey;
    pg.afterId = cur.id;
  }
  rc = store_read_begin(r->pApp->pStore, &rd);
  if( rc ){ http_reply_rc(r, rc, NULL); return r->status; }
  rc = bArchived ? store_chats_list_archived(&rd, r->userId, &pg, &a, &n, &total)
                 : store_chats_list(&rd, r->userId, &pg, &a, &n, &total);
  if( rc ){
    http_reply_rc(r, rc, "Chat");
  }else{
    if( pg.bMore && n>0 ){
      struct cv_cursor next;
      memset(&next, 0, sizeof next);
      next.cKind = CV_CURSOR_CHATS;
      memcpy(next.zKey, a[n-1].zLastUpdated, sizeof next.zKey);
      next.id = a[n-1].id;
      cursor_header(&next, zHdr, sizeof zHdr);
    }
    http_stream_begin(r, &o, 200, "application/json", zHdr[0] ? zHdr : NULL);
    rc = sink_write(&o.sink, "{\"items\":", 9);
    if( rc==CV_OK ) rc = render_chat_entries(&o.sink, a, n, store_messages_cb, &rd);
    if( rc==CV_OK ) rc = sink_printf(&o.sink, ",\"page\":%lld,\"limit\":%lld,\"total\":%lld}",
                                     (long long)page, (long long)limit, (long long)total);
    http_stream_end(&o, rc, "Chat");
  }
  store_read_end(&rd);
  store_chats_free_list(a, n);
  return r->status;
}

/* ROUTE: GET /api/chat-history?page=1&limit=20&cursor= (auth)
** 200 {items:[entry], page, limit, total}, newest last_updated first; page >= 1, limit
** 1..100; X-Next-Cursor when more follow (?cursor= continues after the last entry sent,
** without page); 422 otherwise, and for a cursor with page>1. Archived chats are never
** listed here (the newest N, --history-limit, are). */
int h_chat_history(struct cv_req *r){
  return chat_history(r, 0);
}

/* ROUTE: GET /api/chat-history/archived?page=1&limit=20&cursor= (auth)
** The caller's chats that retention moved to the archive (--history-overflow archive),
** newest last_updated first, exactly as GET /api/chat-history pages them: 200 {items:[entry],
** page, limit, total}, X-Next-Cursor; 422. Empty when nothing was ever archived. */
int h_chat_history_archived(struct cv_req *r){
  return chat_history(r, 1);
}

/* ROUTE: POST /api/chat/restore (auth) {chat_id}
** Brings an archived chat back: 200 entry; it becomes the newest chat (last_updated now),
** and the oldest kept chat beyond --history-limit moves to the archive (a restore never
** deletes, whatever --history-overflow says). A chat that is not archived: 200 with its
** entry, unchanged. 403 another user's chat; 404; 422 (chat_id missing or not a UUID). */
int h_chat_restore(struct cv_req *r){
  struct cv_verr e;
  struct cv_chat c;
  char zChatId[CV_UUID_LEN+1];
  cv_rc rc;
  if( !http_read_json(r) ) return r->status;
  verr_init(&e);
  if( !val_body_object(&e, r->pBody) || val_chat_id(&e, r->pBody, 1, zChatId)!=1 ){
    http_reply_422(r, &e);
    goto out;
  }
  rc = store_chats_restore(r->pApp->pStore, r->userId, zChatId, &c);
  if( rc ){ http_reply_rc(r, rc, "Chat"); goto out; }
  store_chat_clear(&c);
  reply_entry(r, zChatId);
out:
  verr_free(&e);
  return r->status;
}
