/*
** h_search.c — GET /api/v1/search: the caller's messages and titles that match what they
** typed, both chat models (contract v2, "Search"). The query is read by search.c (never an
** error), searched by the store in one snapshot (store_search.h), and written by render.c
** with each hit's snippet and highlights.
** May call http, validate, render, search, tags (its sizes), util and store.
*/
#include "app.h"
#include "handlers.h"
#include "http.h"
#include "render.h"
#include "search.h"
#include "store.h"
#include "store_search.h"
#include "tags.h"
#include "util.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEARCH_LIMIT_MAX  100      /* hits per page */
#define SEARCH_OFFSET_MAX 10000    /* how deep pages go (each page ranks every hit) */

/* Query parameter "kind": thread or chat. 1 with *peOut CV_CONV_THREAD or CV_CONV_CHAT, 0
** absent (*peOut 0: both), -1 invalid (literal_error at "query.kind"). */
static int query_kind(struct cv_verr *pErr, const char *zQuery, int *peOut){
  struct cv_verr e2;
  char z[16];
  int k;
  *peOut = 0;
  verr_init(&e2);                  /* a long value is just not one of the choices */
  k = val_query_str(&e2, zQuery, "kind", z, sizeof z);
  verr_free(&e2);
  if( k==0 ) return 0;
  if( k==1 && strcmp(z, "thread")==0 ){ *peOut = CV_CONV_THREAD; return 1; }
  if( k==1 && strcmp(z, "chat")==0 ){ *peOut = CV_CONV_CHAT; return 1; }
  verr_add(pErr, "query.kind", "literal_error", "Input should be 'thread' or 'chat'");
  return -1;
}

/* ROUTE: GET /api/v1/search?q=TEXT&limit=20&offset=0&kind=&archived=&tag= (auth)
** 200 {items:[hit], total}: best matches first, ties newest first. q: 1..200 characters, any
** text (422 only when empty, missing or longer); kind thread|chat; archived false|true|any
** (default any: archived threads are found too; read as the thread list reads it); tag: only
** threads with it (as the list's ?tag=). 422 otherwise. */
int h_search(struct cv_req *r){
  struct cv_verr e;
  struct cv_buf b;
  struct cv_read rd;
  struct cv_phrase aPhrase[SEARCH_MAX_PHRASES];
  struct cv_search_req q;
  struct cv_search_hit *a = NULL;
  char zQ[SEARCH_Q_MAX_CHARS*4 + 1], zKey[CV_TAG_MAX_LEN + 1];
  int64_t limit, offset, total = 0;
  int bQ, bTag, eKind = 0, eArchived = 2, n = 0, ok;
  cv_rc rc;

  verr_init(&e);
  buf_init(&b, (size_t)1<<24);
  memset(&rd, 0, sizeof rd);
  memset(&q, 0, sizeof q);
  ok = val_query_text(&e, r->zQuery, "q", 1, SEARCH_Q_MAX_CHARS, zQ, sizeof zQ, &bQ)==1;
  if( ok && !bQ ){
    verr_add(&e, "query.q", "missing", "Field required");
    ok = 0;
  }
  ok &= val_query_int(&e, r->zQuery, "limit", 20, 1, SEARCH_LIMIT_MAX, &limit)==1;
  ok &= val_query_int(&e, r->zQuery, "offset", 0, 0, SEARCH_OFFSET_MAX, &offset)==1;
  ok &= query_kind(&e, r->zQuery, &eKind)>=0;
  ok &= val_query_archived(&e, r->zQuery, &eArchived)>=0;
  ok &= (bTag = val_query_tag(&e, r->zQuery, zKey))>=0;
  if( !ok ){ http_reply_422(r, &e); goto out; }

  q.aPhrase = aPhrase;
  q.nPhrase = search_parse(zQ, aPhrase, SEARCH_MAX_PHRASES);
  q.eKind = eKind;
  q.eArchived = eArchived;
  if( bTag==1 ) q.zTagKey = zKey;
  q.limit = (int)limit;
  q.offset = offset;

  rc = store_read_begin(r->pApp->pStore, &rd);
  if( rc==CV_OK ) rc = store_search(&rd, r->userId, &q, &a, &n, &total);
  store_read_end(&rd);
  if( rc ){ http_reply_rc(r, rc, NULL); goto out; }
  rc = render_search_result(&b, a, n, (long long)total);
  if( rc ){ http_reply_rc(r, rc, NULL); goto out; }
  http_reply_raw(r, 200, "application/json", b.a, b.n, NULL);
out:
  store_search_free(a, n);
  buf_free(&b);
  verr_free(&e);
  return r->status;
}
