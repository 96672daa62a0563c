/*
** h_search.c — GET /api/v1/search: the caller's messages and titles that match what they
** typed, both chat models (contract v2, "Search"). The query is read by search.c (never an
** error), searched by the store in one snapshot (store_search.h), and written by render.c
** with each hit's snippet and highlights.
** May call http, validate, render, search, tags, util and store.
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

/* Query parameter zName as one of azValue[0..n) (index into *piOut), or iDefault when absent.
** 1 ok, -1 invalid (a 422 entry naming the values). */
static int query_choice(struct cv_verr *pErr, const char *zQuery, const char *zName,
                        const char *const *azValue, int n, int iDefault, int *piOut){
  char zVal[16], zLoc[64];
  int bFound, i;
  *piOut = iDefault;
  if( val_query_text(pErr, zQuery, zName, 1, 8, zVal, sizeof zVal, &bFound)<0 ) return -1;
  if( !bFound ) return 1;
  for(i=0; i<n; i++){
    if( strcmp(zVal, azValue[i])==0 ){ *piOut = i; return 1; }
  }
  snprintf(zLoc, sizeof zLoc, "query.%s", zName);
  verr_add(pErr, zLoc, "literal_error", n==2 ? "Input should be 'thread' or 'chat'"
                                             : "Input should be 'false', 'true' or 'any'");
  return -1;
}

/* ROUTE: GET /api/v1/search?q=TEXT&limit=20&offset=0&kind=&archived=&tag= (auth)
** 200 {items:[hit], total}: best matches first, ties newest first. q: 1..200 characters, any
** text (422 only when empty, missing or longer); kind thread|chat; archived false|true|any
** (default any: archived threads are found too); tag: only threads with it. 422 otherwise. */
int h_search(struct cv_req *r){
  static const char *const azKind[] = { "thread", "chat" };
  static const char *const azArchived[] = { "false", "true", "any" };
  struct cv_verr e;
  struct cv_buf b;
  struct cv_read rd;
  struct cv_phrase aPhrase[SEARCH_MAX_PHRASES];
  struct cv_search_req q;
  struct cv_search_hit *a = NULL;
  char zQ[SEARCH_Q_MAX_CHARS*4 + 1], zTag[CV_TAG_MAX_LEN + 1], zKey[CV_TAG_MAX_LEN + 1];
  int64_t limit, offset, total = 0;
  int bQ, bTag, eKind = -1, eArchived = 2, n = 0, ok;
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
  ok &= query_choice(&e, r->zQuery, "kind", azKind, 2, -1, &eKind)==1;
  ok &= query_choice(&e, r->zQuery, "archived", azArchived, 3, 2, &eArchived)==1;
  ok &= val_query_text(&e, r->zQuery, "tag", 1, CV_TAG_MAX_CHARS, zTag, sizeof zTag, &bTag)==1;
  if( !ok ){ http_reply_422(r, &e); goto out; }

  q.aPhrase = aPhrase;
  q.nPhrase = search_parse(zQ, aPhrase, SEARCH_MAX_PHRASES);
  q.eKind = eKind<0 ? 0 : eKind==0 ? CV_CONV_THREAD : CV_CONV_CHAT;
  q.eArchived = eArchived;
  if( bTag ){
    const char *zStart;
    size_t nTag;
    tags_trim(zTag, strlen(zTag), &zStart, &nTag);
    if( tags_fold(zStart, nTag, zKey, sizeof zKey)<0 ) zKey[0] = 0;
    q.zTagKey = zKey;
  }
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
