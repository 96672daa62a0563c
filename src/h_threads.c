/*
** h_threads.c — /api/v1/chat-threads: create, list, get, update, delete, append, import,
** the messages of a thread by page, and message edits (PATCH one message, DELETE from N,
** fork; regenerate is complete's, h_chats.c). A thread with its messages is written from one read
** snapshot through the streamed response writer (http_stream_*), so a 20,000-message thread
** costs a bounded buffer, not a copy.
** May call http, validate, render, util, store (snapshots) and store_threads.
*/
#include "app.h"
#include "cursor.h"
#include "handlers.h"
#include "http.h"
#include "render.h"
#include "store.h"
#include "store_threads.h"
#include "tags.h"
#include "util.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Send thread id as ChatThreadOut, read from one snapshot, to its owner or a member (who
** also gets `owner`; store_threads_view). */
static void reply_thread(struct cv_req *r, int status, int64_t id){
  struct cv_read rd;
  struct cv_thread t;
  struct cv_stream s;
  cv_rc rc = store_read_begin(r->pApp->pStore, &rd);
  if( rc ){ http_reply_rc(r, rc, NULL); return; }
  rc = store_threads_view(&rd, r->userId, id, &t, NULL);
  if( rc ){
    http_reply_rc(r, rc, "Thread");
  }else{
    http_stream_begin(r, &s, status, "application/json", NULL);
    http_stream_end(&s, render_thread(&s.sink, &t, store_messages_cb, &rd), "Thread");
    store_thread_clear(&t);
  }
  store_read_end(&rd);
}

/* cv_messages_fn writing the JSON array text pCtx as it is. */
static cv_rc write_given(void *pCtx, long long id, struct cv_sink *pOut){
  (void)id;
  return sink_write(pOut, (const char*)pCtx, strlen((const char*)pCtx));
}

/* ROUTE: POST /api/v1/chat-threads (auth) {title?, messages?}
** 201 ChatThreadOut; without a title the thread is named from its first user message. */
int h_threads_create(struct cv_req *r){
  struct cv_verr e;
  const char *zTitle = NULL;
  char *zMessages = NULL;
  int64_t nMessages = 0;
  struct cv_thread t;
  int ok;
  cv_rc rc;
  if( !http_read_json(r) ) return r->status;
  verr_init(&e);
  ok = val_body_object(&e, r->pBody);
  if( ok ){
    ok = val_string(&e, r->pBody, "body", "title", 1, CV_TITLE_MAX_CHARS, 0, &zTitle)>=0;
    ok &= val_messages(&e, r->pBody, "body", "messages", 0, &zMessages, &nMessages)>=0;
  }
  if( !ok ){ http_reply_422(r, &e); goto out; }
  rc = store_threads_create(r->pApp->pStore, r->userId, zTitle, zMessages, nMessages, &t);
  if( rc ){ http_reply_rc(r, rc, "Thread"); goto out; }
  {
    /* the messages are what was just stored (normalized by val_messages): no read back */
    struct cv_stream s;
    http_stream_begin(r, &s, 201, "application/json", NULL);
    http_stream_end(&s, render_thread(&s.sink, &t, write_given, zMessages ? zMessages : "[]"),
                    "Thread");
  }
  store_thread_clear(&t);
out:
  free(zMessages);
  verr_free(&e);
  return r->status;
}

/* The list's filters from the query: ?archived=false|true|any (default false; a boolean in
** any of pydantic's spellings), ?pinned=<boolean>, ?tag=NAME (trimmed, 1..50 characters,
** folded into zTagKey). *pbGiven gets a bit per filter present (1 archived, 2 pinned,
** 4 tag). Returns 1, or 0 with entries added to pErr. */
static int read_filters(struct cv_verr *pErr, const char *zQuery, struct cv_thread_filter *pF,
                        char *zTagKey, int *pbGiven){
  int ok = 1, b, k;
  memset(pF, 0, sizeof *pF);
  pF->eArchived = CV_FILTER_NO;
  pF->ePinned = CV_FILTER_ANY;
  *pbGiven = 0;
  k = val_query_archived(pErr, zQuery, &b);
  if( k<0 ) ok = 0;
  else if( k==1 ){
    *pbGiven |= 1;
    pF->eArchived = b==2 ? CV_FILTER_ANY : b ? CV_FILTER_YES : CV_FILTER_NO;
  }
  k = val_query_bool(pErr, zQuery, "pinned", &b);
  if( k<0 ) ok = 0;
  else if( k==1 ){ *pbGiven |= 2; pF->ePinned = b ? CV_FILTER_YES : CV_FILTER_NO; }
  k = val_query_tag(pErr, zQuery, zTagKey);
  if( k<0 ) ok = 0;
  else if( k==1 ){ *pbGiven |= 4; pF->zTagKey = zTagKey; }
  return ok;
}

/* GET /api/v1/chat-threads?shared=true: the threads shared with the caller (h_threads_list).
** limit, offset and cursor as the own list (an own list's cursor is refused here and the
** reverse); archived, pinned and tag filter the caller's own threads and are refused (422)
** together with shared=true. Each summary has owner {id, display_name}. */
static int list_shared(struct cv_req *r){
  struct cv_verr e;
  struct cv_buf b;
  struct cv_thread_filter f;
  struct cv_cursor cur;
  struct cv_page pg;
  char zTagKey[CV_TAG_MAX_LEN+1] = "";
  char zHdr[64 + CV_CURSOR_HEADER_LEN];
  int64_t limit, offset, total = 0;
  struct cv_thread *a = NULL;
  int n = 0, ok, bGiven = 0, k;
  cv_rc rc;
  verr_init(&e);
  buf_init(&b, (size_t)1<<26);
  ok = val_query_int(&e, r->zQuery, "limit", 50, 1, CV_LIST_MAX, &limit)==1;
  ok &= val_query_int(&e, r->zQuery, "offset", 0, 0, INT64_MAX/2, &offset)==1;
  ok &= read_filters(&e, r->zQuery, &f, zTagKey, &bGiven);
  if( ok && bGiven ){
    verr_add(&e, "query.shared", "value_error", "Value error, archived, pinned and tag filter "
             "your own threads and cannot be combined with shared=true");
    ok = 0;
  }
  k = val_query_cursor(&e, r->zQuery, CV_CURSOR_SHARED, &cur);
  if( k<0 ) ok = 0;
  if( ok && k==1 && offset>0 ){
    verr_add(&e, "query.cursor", "value_error", "Value error, cursor and offset cannot be combined");
    ok = 0;
  }
  if( !ok ){ http_reply_422(r, &e); goto out; }
  memset(&pg, 0, sizeof pg);
  pg.limit = (int)limit;
  pg.offset = offset;
  if( k==1 ){
    pg.zAfterKey = cur.zKey;
    pg.afterId = cur.id;
  }
  rc = store_threads_list_shared(r->pApp->pStore, r->userId, &pg, &a, &n, &total);
  if( rc ){ http_reply_rc(r, rc, "Thread"); goto out; }
  rc = render_thread_summaries(&b, a, n);
  if( rc ){ http_reply_rc(r, rc, NULL); goto out; }
  k = snprintf(zHdr, sizeof zHdr, "X-Total-Count: %lld\r\n", (long long)total);
  if( pg.bMore && n>0 ){
    struct cv_cursor next;
    memset(&next, 0, sizeof next);
    next.cKind = CV_CURSOR_SHARED;
    memcpy(next.zKey, a[n-1].zUpdatedAt, sizeof next.zKey);
    next.id = a[n-1].id;
    cursor_header(&next, zHdr + k, sizeof zHdr - (size_t)k);
  }
  http_reply_raw(r, 200, "application/json", b.a, b.n, zHdr);
out:
  buf_free(&b);
  store_threads_free_list(a, n);
  verr_free(&e);
  return r->status;
}

/* ROUTE: GET /api/v1/chat-threads?limit=50&offset=0&archived=false&pinned=&tag=&cursor= (auth)
** 200 [ChatThreadSummaryOut], newest updated_at first (ties: higher id first), filtered:
** archived threads are hidden unless ?archived=true|any; X-Total-Count after filtering;
** X-Next-Cursor when a next page exists (?cursor= continues with the cursor's filters;
** filters sent with it must agree). 422: bad limit/offset/filter/cursor, or a cursor
** together with offset>0. ?shared=true lists the threads shared with the caller instead
** (list_shared); shared=false or absent: the caller's own, never a shared one. */
int h_threads_list(struct cv_req *r){
  static const char acArch[] = { 'a', 'f', 't' };   /* by enum cv_filter */
  static const char acPin[] = { '-', 'f', 't' };
  struct cv_verr e;
  struct cv_buf b;
  struct cv_thread_filter f;
  struct cv_cursor cur;
  struct cv_page pg;
  char zTagKey[CV_TAG_MAX_LEN+1] = "";
  char zHdr[64 + CV_CURSOR_HEADER_LEN];
  int64_t limit, offset, total = 0;
  struct cv_thread *a = NULL;
  int n = 0, ok, bGiven = 0, k;
  int bShared = 0;
  cv_rc rc;
  verr_init(&e);
  k = val_query_bool(&e, r->zQuery, "shared", &bShared);
  if( k==1 && bShared ){ verr_free(&e); return list_shared(r); }
  buf_init(&b, (size_t)1<<26);
  ok = k>=0;
  ok &= val_query_int(&e, r->zQuery, "limit", 50, 1, CV_LIST_MAX, &limit)==1;
  ok &= val_query_int(&e, r->zQuery, "offset", 0, 0, INT64_MAX/2, &offset)==1;
  ok &= read_filters(&e, r->zQuery, &f, zTagKey, &bGiven);
  k = val_query_cursor(&e, r->zQuery, CV_CURSOR_THREADS, &cur);
  if( k<0 ) ok = 0;
  if( ok && k==1 ){
    if( offset>0 ){
      verr_add(&e, "query.cursor", "value_error", "Value error, cursor and offset cannot be combined");
      ok = 0;
    }else if( ((bGiven & 1) && acArch[f.eArchived]!=cur.cArchived)
           || ((bGiven & 2) && acPin[f.ePinned]!=cur.cPinned)
           || ((bGiven & 4) && strcmp(zTagKey, cur.zTag)!=0) ){
      verr_add(&e, "query.cursor", "value_error",
               "Value error, the cursor belongs to a list with other filters");
      ok = 0;
    }else{                         /* the cursor's filters */
      f.eArchived = cur.cArchived=='a' ? CV_FILTER_ANY : cur.cArchived=='t' ? CV_FILTER_YES : CV_FILTER_NO;
      f.ePinned = cur.cPinned=='-' ? CV_FILTER_ANY : cur.cPinned=='t' ? CV_FILTER_YES : CV_FILTER_NO;
      memcpy(zTagKey, cur.zTag, strlen(cur.zTag) + 1);
      f.zTagKey = zTagKey[0] ? zTagKey : NULL;
    }
  }
  if( !ok ){ http_reply_422(r, &e); goto out; }
  memset(&pg, 0, sizeof pg);
  pg.limit = (int)limit;
  pg.offset = offset;
  if( k==1 ){
    pg.zAfterKey = cur.zKey;
    pg.afterId = cur.id;
  }
  rc = store_threads_list(r->pApp->pStore, r->userId, &f, &pg, &a, &n, &total);
  if( rc ){ http_reply_rc(r, rc, "Thread"); goto out; }
  rc = render_thread_summaries(&b, a, n);
  if( rc ){ http_reply_rc(r, rc, NULL); goto out; }
  k = snprintf(zHdr, sizeof zHdr, "X-Total-Count: %lld\r\n", (long long)total);
  if( pg.bMore && n>0 ){
    struct cv_cursor next;
    memset(&next, 0, sizeof next);
    next.cKind = CV_CURSOR_THREADS;
    memcpy(next.zKey, a[n-1].zUpdatedAt, sizeof next.zKey);
    next.id = a[n-1].id;
    next.cArchived = acArch[f.eArchived];
    next.cPinned = acPin[f.ePinned];
    if( f.zTagKey ) memcpy(next.zTag, f.zTagKey, strlen(f.zTagKey) + 1);
    cursor_header(&next, zHdr + k, sizeof zHdr - (size_t)k);
  }
  http_reply_raw(r, 200, "application/json", b.a, b.n, zHdr);
out:
  buf_free(&b);
  store_threads_free_list(a, n);
  verr_free(&e);
  return r->status;
}

/* ROUTE: GET /api/v1/chat-threads/{id} (auth) — 200 ChatThreadOut, to the owner or a member
** (then with owner {id, display_name}); 403 anyone else; 404. */
int h_threads_get(struct cv_req *r){
  int64_t id;
  if( !http_path_id(r, 0, "id", &id) ) return r->status;
  reply_thread(r, 200, id);
  return r->status;
}

/* ROUTE: GET /api/v1/chat-threads/{id}/messages?before=N&limit=50 (auth)
** 200 [{index, role, content}], oldest first: the `limit` (1..500) messages just before
** index `before` (default and at most: the end); X-Total-Count = the thread's message count.
** Reads only the segments that hold them. The owner or a member; 403 anyone else; 404; 422. */
int h_threads_messages(struct cv_req *r){
  struct cv_verr e;
  struct cv_read rd;
  struct cv_thread t;
  struct cv_stream s;
  int64_t id, before, limit, iEnd, iStart;
  char zHdr[64];
  int ok;
  cv_rc rc;
  if( !http_path_id(r, 0, "id", &id) ) return r->status;
  verr_init(&e);
  ok = val_query_int(&e, r->zQuery, "limit", 50, 1, CV_MESSAGES_PAGE_MAX, &limit)==1;
  ok &= val_query_int(&e, r->zQuery, "before", INT64_MAX/2, 0, INT64_MAX/2, &before)==1;
  if( !ok ){ http_reply_422(r, &e); verr_free(&e); return r->status; }
  verr_free(&e);
  rc = store_read_begin(r->pApp->pStore, &rd);
  if( rc ){ http_reply_rc(r, rc, NULL); return r->status; }
  rc = store_threads_view(&rd, r->userId, id, &t, NULL);
  if( rc ){
    http_reply_rc(r, rc, "Thread");
  }else{
    iEnd = before < t.nMessages ? before : t.nMessages;
    iStart = iEnd - limit > 0 ? iEnd - limit : 0;
    snprintf(zHdr, sizeof zHdr, "X-Total-Count: %lld\r\n", (long long)t.nMessages);
    http_stream_begin(r, &s, 200, "application/json", zHdr);
    http_stream_end(&s, store_read_messages_range(&rd, id, iStart, iEnd, &s.sink), "Thread");
    store_thread_clear(&t);
  }
  store_read_end(&rd);
  return r->status;
}

/* Field "tags" of the body: absent/null 0; a list of at most CV_TAGS_MAX strings, each
** 1..CV_TAG_MAX_CHARS characters once trimmed, gives 1 with *pSet the distinct tags (first
** spelling kept) sorted by key; otherwise -1 with entries at body.tags[.i]. */
static int read_tags(struct cv_verr *pErr, const cJSON *pBody, struct cv_tagset *pSet){
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(pBody, "tags"), *pItem;
  int i = 0, ok = 1;
  pSet->n = 0;
  if( !p || cJSON_IsNull(p) ) return 0;
  if( !cJSON_IsArray(p) ){
    verr_add(pErr, "body.tags", "list_type", "Input should be a valid list");
    return -1;
  }
  if( cJSON_GetArraySize(p)>CV_TAGS_MAX ){
    char zMsg[96];
    snprintf(zMsg, sizeof zMsg, "List should have at most %d items after validation, not %d",
             CV_TAGS_MAX, cJSON_GetArraySize(p));
    verr_add(pErr, "body.tags", "too_long", zMsg);
    return -1;
  }
  cJSON_ArrayForEach(pItem, p){
    char zLoc[32];
    int bTooLong;
    snprintf(zLoc, sizeof zLoc, "body.tags.%d", i++);
    if( !cJSON_IsString(pItem) || !pItem->valuestring ){
      verr_add(pErr, zLoc, "string_type", "Input should be a valid string");
      ok = 0;
      continue;
    }
    if( tags_set_add(pSet, pItem->valuestring, strlen(pItem->valuestring), &bTooLong)!=CV_OK ){
      if( bTooLong ) verr_add(pErr, zLoc, "string_too_long", "String should have at most 50 characters");
      else verr_add(pErr, zLoc, "string_too_short", "String should have at least 1 character");
      ok = 0;
    }
  }
  if( !ok ) return -1;
  tags_set_sort(pSet);
  return 1;
}

/* ROUTE: PUT /api/v1/chat-threads/{id} (auth) {title?, messages?, pinned?, archived?, tags?}
** (at least one) — 200 ChatThreadOut; `messages` replaces the array; `tags` replaces the
** tags (at most 20, 1..50 characters, trimmed, compared ignoring case, first spelling kept,
** also across the user's other threads). Only title and messages change updated_at; all of
** it is one transaction. 403; 404; 422. */
int h_threads_update(struct cv_req *r){
  struct cv_verr e;
  const char *zTitle = NULL;
  char *zMessages = NULL;
  int64_t nMessages = 0, id;
  struct cv_thread t;
  struct cv_thread_org org;
  struct cv_tagset *pSet = NULL;
  int ok, hasTitle = 0, hasMessages = 0, hasPinned = 0, hasArchived = 0, hasTags = 0;
  cv_rc rc;
  if( !http_path_id(r, 0, "id", &id) ) return r->status;
  if( !http_read_json(r) ) return r->status;
  verr_init(&e);
  org.bPinned = org.bArchived = -1;
  org.pTags = NULL;
  pSet = malloc(sizeof *pSet);
  if( !pSet ){ http_reply_rc(r, CV_NOMEM, NULL); goto out; }
  ok = val_body_object(&e, r->pBody);
  if( ok ){
    hasTitle = val_string(&e, r->pBody, "body", "title", 1, CV_TITLE_MAX_CHARS, 0, &zTitle);
    hasMessages = val_messages(&e, r->pBody, "body", "messages", 0, &zMessages, &nMessages);
    hasPinned = val_bool(&e, r->pBody, "body", "pinned", 0, &org.bPinned);
    hasArchived = val_bool(&e, r->pBody, "body", "archived", 0, &org.bArchived);
    hasTags = read_tags(&e, r->pBody, pSet);
    ok = hasTitle>=0 && hasMessages>=0 && hasPinned>=0 && hasArchived>=0 && hasTags>=0;
    if( ok && !hasTitle && !hasMessages && !hasPinned && !hasArchived && !hasTags ){
      verr_add(&e, "body", "value_error",
               "Value error, at least one of title, messages, pinned, archived or tags is required");
      ok = 0;
    }
  }
  if( !ok ){ http_reply_422(r, &e); goto out; }
  if( hasPinned!=1 ) org.bPinned = -1;
  if( hasArchived!=1 ) org.bArchived = -1;
  if( hasTags==1 ) org.pTags = pSet;
  rc = store_threads_update(r->pApp->pStore, r->userId, id, zTitle, zMessages, nMessages, &org,
                            &t);
  if( rc ){ http_reply_rc(r, rc, "Thread"); goto out; }
  reply_thread(r, 200, id);
  store_thread_clear(&t);
out:
  free(pSet);
  free(zMessages);
  verr_free(&e);
  return r->status;
}

/* ROUTE: DELETE /api/v1/chat-threads/{id} (auth) — 204; 403; 404. */
int h_threads_delete(struct cv_req *r){
  int64_t id;
  cv_rc rc;
  if( !http_path_id(r, 0, "id", &id) ) return r->status;
  rc = store_threads_delete(r->pApp->pStore, r->userId, id);
  if( rc ){ http_reply_rc(r, rc, "Thread"); return r->status; }
  http_reply_empty(r);
  return r->status;
}

/* ROUTE: POST /api/v1/chat-threads/{id}/messages (auth) {role, content}
** 201 {thread_id, index, message, title, updated_at}; atomic under concurrency. */
int h_threads_append(struct cv_req *r){
  struct cv_verr e;
  struct cv_append a;
  cJSON *pMsg = NULL, *pOut;
  char *zMsg = NULL;
  int64_t id;
  cv_rc rc;
  if( !http_path_id(r, 0, "id", &id) ) return r->status;
  if( !http_read_json(r) ) return r->status;
  verr_init(&e);
  if( val_message(&e, r->pBody, "body", &pMsg)!=1 ){ http_reply_422(r, &e); goto out; }
  zMsg = cJSON_PrintUnformatted(pMsg);
  if( !zMsg ){ http_reply_rc(r, CV_NOMEM, NULL); goto out; }
  rc = store_threads_append(r->pApp->pStore, r->userId, id, zMsg, &a);
  if( rc ){ http_reply_rc(r, rc, "Thread"); goto out; }
  pOut = render_append((long long)id, &a, zMsg);
  http_reply_json(r, 201, pOut, NULL);
  cJSON_Delete(pOut);
  store_append_clear(&a);
out:
  cJSON_free(zMsg);
  cJSON_Delete(pMsg);
  verr_free(&e);
  return r->status;
}

/* Validate an optional ISO time field and rewrite it in the contract's format into zOut.
** 1 present, 0 absent, -1 invalid. */
static int import_time(struct cv_verr *pErr, const cJSON *pItem, const char *zLoc,
                       const char *zKey, char *zOut){
  const char *z;
  int64_t ms;
  int rc = val_string(pErr, pItem, zLoc, zKey, 1, 64, 0, &z);
  if( rc<=0 ) return rc;
  if( util_iso_parse(z, &ms) ){
    char zFull[160];
    snprintf(zFull, sizeof zFull, "%s.%s", zLoc, zKey);
    verr_add(pErr, zFull, "datetime_from_date_parsing", "Input should be a valid ISO 8601 datetime");
    return -1;
  }
  if( ms > util_now_ms() + UTIL_FUTURE_SKEW_MS ){
    char zFull[160];
    snprintf(zFull, sizeof zFull, "%s.%s", zLoc, zKey);
    verr_add(pErr, zFull, "datetime_future", "Input should not be in the future");
    return -1;
  }
  util_iso_format(ms, zOut);
  return 1;
}

/* ROUTE: POST /api/v1/chat-threads/import (auth) [{client_id, title?, messages?,
** created_at?, updated_at?}] — 200 {imported, skipped, threads:[{client_id,id}]};
** idempotent per (user, client_id); given times are kept. */
int h_threads_import(struct cv_req *r){
  struct cv_verr e;
  struct cv_import_item *aItem = NULL;
  char (*aTimes)[2][CV_TS_LEN+1] = NULL;
  char **azMessages = NULL;
  char (*aClientNum)[32] = NULL;
  cJSON *pItem, *pOut = NULL, *pList;
  int n, i = 0, ok = 1, nImported = 0;
  cv_rc rc;
  if( !http_read_json(r) ) return r->status;
  verr_init(&e);
  if( !cJSON_IsArray(r->pBody) ){
    verr_add(&e, "body", "list_type", "Input should be a valid list");
    http_reply_422(r, &e);
    goto out;
  }
  n = cJSON_GetArraySize(r->pBody);
  aItem = calloc((size_t)n + 1, sizeof *aItem);
  aTimes = calloc((size_t)n + 1, sizeof *aTimes);
  azMessages = calloc((size_t)n + 1, sizeof *azMessages);
  aClientNum = calloc((size_t)n + 1, sizeof *aClientNum);
  if( !aItem || !aTimes || !azMessages || !aClientNum ){ http_reply_rc(r, CV_NOMEM, NULL); goto out; }
  cJSON_ArrayForEach(pItem, r->pBody){
    char zLoc[48];
    struct cv_import_item *p = &aItem[i];
    const cJSON *pCid;
    snprintf(zLoc, sizeof zLoc, "body.%d", i);
    if( !cJSON_IsObject(pItem) ){
      verr_add(&e, zLoc, "model_attributes_type", "Input should be a valid dictionary or object");
      ok = 0; i++; continue;
    }
    pCid = cJSON_GetObjectItemCaseSensitive(pItem, "client_id");
    if( cJSON_IsNumber(pCid) ){
      int64_t v;
      if( val_int(&e, pItem, zLoc, "client_id", INT64_MIN/2, INT64_MAX/2, 1, &v)==1 ){
        snprintf(aClientNum[i], sizeof aClientNum[i], "%lld", (long long)v);
        p->zClientId = aClientNum[i];
      }else ok = 0;
    }else if( val_string(&e, pItem, zLoc, "client_id", 1, 255, 1, &p->zClientId)!=1 ){
      ok = 0;
    }
    if( val_string(&e, pItem, zLoc, "title", 1, CV_TITLE_MAX_CHARS, 0, &p->zTitle)<0 ) ok = 0;
    if( val_messages(&e, pItem, zLoc, "messages", 0, &azMessages[i], &p->nMessages)<0 ) ok = 0;
    p->zMessages = azMessages[i];
    switch( import_time(&e, pItem, zLoc, "created_at", aTimes[i][0]) ){
      case 1: p->zCreatedAt = aTimes[i][0]; break;
      case -1: ok = 0; break;
    }
    switch( import_time(&e, pItem, zLoc, "updated_at", aTimes[i][1]) ){
      case 1: p->zUpdatedAt = aTimes[i][1]; break;
      case -1: ok = 0; break;
    }
    i++;
    if( e.n>=20 ) break;   /* the 422 list is bounded */
  }
  if( !ok ){ http_reply_422(r, &e); goto out; }
  rc = store_threads_import(r->pApp->pStore, r->userId, aItem, n);
  if( rc ){ http_reply_rc(r, rc, "Thread"); goto out; }
  pOut = cJSON_CreateObject();
  pList = cJSON_CreateArray();
  if( !pOut || !pList ){ cJSON_Delete(pList); http_reply_rc(r, CV_NOMEM, NULL); goto out; }
  cJSON_AddItemToObject(pOut, "threads", pList);
  i = 0;
  cJSON_ArrayForEach(pItem, r->pBody){
    cJSON *pT = cJSON_CreateObject();
    cJSON *pCid = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(pItem, "client_id"), 1);
    if( !pT || !pCid ){ cJSON_Delete(pT); cJSON_Delete(pCid); ok = 0; break; }
    cJSON_AddItemToObject(pT, "client_id", pCid);
    render_add_int(pT, "id", (long long)(aItem[i].id));
    cJSON_AddItemToArray(pList, pT);
    nImported += aItem[i].bImported;
    i++;
  }
  if( !ok || !render_add_int(pOut, "imported", (long long)(nImported))
   || !render_add_int(pOut, "skipped", (long long)(n - nImported)) ){
    http_reply_rc(r, CV_NOMEM, NULL);
    goto out;
  }
  http_reply_json(r, 200, pOut, NULL);
out:
  if( azMessages ){
    for(i=0; aItem && i<n; i++) free(azMessages[i]);
  }
  free(azMessages);
  free(aItem);
  free(aTimes);
  free(aClientNum);
  cJSON_Delete(pOut);
  verr_free(&e);
  return r->status;
}

/* ---- message edits (issue 13; docs/api.md "Editing messages") ---- */

/* ROUTE: PATCH /api/v1/chat-threads/{id}/messages/{index} (auth) {content, role?}
** 200 {index, role, content}: the content of message `index` replaced, its role kept (a
** `role` in the body must be the message's own: else 422 at body.role); updated_at moves.
** One write of the one segment holding the message; search finds the new text only.
** 403 another user's thread (a member's included); 404 thread, or `index` past the end
** (`Message not found`); 413 past a size cap; 422 bad index or body. */
int h_threads_edit_message(struct cv_req *r){
  struct cv_verr e;
  struct cv_msg_edit ed;
  const char *zContent = NULL, *zRole = NULL;
  cJSON *pOut = NULL;
  int64_t id, iIndex;
  int ok, k;
  cv_rc rc;
  if( !http_path_id(r, 0, "id", &id) ) return r->status;
  verr_init(&e);
  if( val_path_id(&e, r->azParam[1], "index", &iIndex)!=1 ){ http_reply_422(r, &e); goto out; }
  if( !http_read_json(r) ) goto out;
  ok = val_body_object(&e, r->pBody);
  if( ok ){
    ok = val_string(&e, r->pBody, "body", "content", 0, (size_t)-1, 1, &zContent)==1;
    k = val_string(&e, r->pBody, "body", "role", 1, 16, 0, &zRole);
    if( k<0 ) ok = 0;
    else if( k==1 && strcmp(zRole, "user")!=0 && strcmp(zRole, "assistant")!=0 ){
      verr_add(&e, "body.role", "literal_error", "Input should be 'user' or 'assistant'");
      ok = 0;
    }
  }
  if( !ok ){ http_reply_422(r, &e); goto out; }
  rc = store_threads_edit_message(r->pApp->pStore, r->userId, id, iIndex, zContent, zRole, &ed);
  if( rc==CV_NOTFOUND && ed.bPastEnd ){ http_reply_detail(r, 404, "Message not found"); goto out; }
  if( rc==CV_INVALID ){
    verr_add(&e, "body.role", "value_error",
             "Value error, a message's role cannot be changed, only its content");
    http_reply_422(r, &e);
    goto out;
  }
  if( rc ){ http_reply_rc(r, rc, "Thread"); goto out; }
  pOut = cJSON_CreateObject();
  if( !pOut || !render_add_int(pOut, "index", (long long)ed.index)
   || !cJSON_AddStringToObject(pOut, "role", ed.zRole)
   || !cJSON_AddStringToObject(pOut, "content", zContent) ){
    http_reply_rc(r, CV_NOMEM, NULL);
    goto out;
  }
  http_reply_json(r, 200, pOut, NULL);
out:
  cJSON_Delete(pOut);
  verr_free(&e);
  return r->status;
}

/* ROUTE: DELETE /api/v1/chat-threads/{id}/messages?from=N (auth)
** 204: messages N..end removed (edit-and-resend, undo); updated_at moves. `from` equal to
** the count removes nothing (204, nothing changes). One write of the segments from the one
** holding N. 403 another user's thread (a member's included); 404 thread, or `from` past
** the end (`Message not found`); 422 `from` missing or not an integer >= 0. */
int h_threads_truncate(struct cv_req *r){
  struct cv_verr e;
  struct cv_msg_edit ed;
  int64_t id, iFrom;
  cv_rc rc;
  if( !http_path_id(r, 0, "id", &id) ) return r->status;
  verr_init(&e);
  if( val_query_int(&e, r->zQuery, "from", -1, 0, INT64_MAX/2, &iFrom)!=1 ){
    http_reply_422(r, &e);
    goto out;
  }
  if( iFrom<0 ){
    verr_add(&e, "query.from", "missing", "Field required");
    http_reply_422(r, &e);
    goto out;
  }
  rc = store_threads_truncate(r->pApp->pStore, r->userId, id, iFrom, &ed);
  if( rc==CV_NOTFOUND && ed.bPastEnd ){ http_reply_detail(r, 404, "Message not found"); goto out; }
  if( rc ){ http_reply_rc(r, rc, "Thread"); goto out; }
  http_reply_empty(r);
out:
  verr_free(&e);
  return r->status;
}

/* ROUTE: POST /api/v1/chat-threads/{id}/fork (auth) {upto?, title?} (the body may be empty)
** 201 ChatThreadOut: a new thread of the caller holding messages 0..upto-1 (default: all),
** titled `title` or the source's; not pinned, archived or tagged; its segments copied inside
** SQLite. The owner or a member of the source may fork it (a member gets its own copy). 403
** anyone else; 404 thread, or `upto` past the end (`Message not found`); 413 past a cap;
** 422 bad body. */
int h_threads_fork(struct cv_req *r){
  struct cv_verr e;
  const char *zTitle = NULL;
  char *zBody = NULL;
  size_t nBody = 0;
  cJSON *pBody = NULL;
  int64_t id, nUpto = -1, newId = 0;
  int ok = 1, k, bPastEnd = 0;
  cv_rc rc;
  if( !http_path_id(r, 0, "id", &id) ) return r->status;
  verr_init(&e);
  if( !http_read_raw(r, r->pApp->pCfg->maxBody, &zBody, &nBody) ) goto out;
  if( nBody>0 ){
    rc = val_parse_json(zBody, nBody, &e, &pBody);
    if( rc==CV_INVALID ){ http_reply_422(r, &e); goto out; }
    if( rc ){ http_reply_rc(r, rc, NULL); goto out; }
    ok = val_body_object(&e, pBody);
    if( ok ){
      k = val_int(&e, pBody, "body", "upto", 0, INT64_MAX/2, 0, &nUpto);
      if( k<0 ) ok = 0;
      else if( k==0 ) nUpto = -1;
      ok &= val_string(&e, pBody, "body", "title", 1, CV_TITLE_MAX_CHARS, 0, &zTitle)>=0;
    }
  }
  if( !ok ){ http_reply_422(r, &e); goto out; }
  rc = store_threads_fork(r->pApp->pStore, r->userId, id, nUpto, zTitle, &newId, &bPastEnd);
  if( rc==CV_NOTFOUND && bPastEnd ){ http_reply_detail(r, 404, "Message not found"); goto out; }
  if( rc ){ http_reply_rc(r, rc, "Thread"); goto out; }
  reply_thread(r, 201, newId);
out:
  cJSON_Delete(pBody);
  free(zBody);
  verr_free(&e);
  return r->status;
}
