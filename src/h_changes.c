/*
** h_changes.c — sync across devices (contract v2, "Sync across devices"): the change log
** replayed (GET /api/v1/changes) and streamed live (GET /api/v1/events). Both read the log
** of store_changes.h after a cursor (changecursor.h: a seq, encrypted); the stream is woken by the
** events hub (events.h) after each commit and reads the log again, so what it sends is what
** a replay from the same cursor returns: no gap, no duplicate, whichever way it arrives.
**
** A cursor below the log's horizon (a tombstone after it was purged) or above its head (a
** file restored from an older backup) → 410: the client starts over from a full reload.
*/
#include "app.h"
#include "auth.h"
#include "changecursor.h"
#include "events.h"
#include "handlers.h"
#include "http.h"
#include "render.h"
#include "store.h"
#include "store_changes.h"
#include "store_tokens.h"
#include "util.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHANGES_PAGE_DEFAULT 500
#define EVENTS_PING_US       (15LL*1000*1000) /* a comment when the stream was quiet so long */
#define EVENTS_CHECK_US      (5LL*1000*1000)  /* the token is looked at again this often */

/* What a request's cursor and the log's bounds give: where to start. */
struct since {
  unsigned char aKey[CV_CHANGES_KEY_LEN];  /* the cursors' key */
  int64_t head;                            /* the log's highest seq */
  int64_t seq;                             /* the cursor's seq; the head when none was sent */
  int bGiven;                              /* a cursor was sent */
};

/* Read the log's bounds and key in snapshot pRd and decode zCursor (NULL: none) as the
** caller's: 1 with *p filled; else 0 and the answer has been sent: 422 (zLoc names the
** cursor's place, e.g. "query.since"), 410 (outside the log), or the store's error. */
static int read_since(struct cv_req *r, struct cv_read *pRd, const char *zCursor,
                      const char *zLoc, struct since *p){
  int64_t horizon = 0;
  cv_rc rc = store_changes_bounds(pRd, &horizon, &p->head, p->aKey);
  if( rc ){ http_reply_rc(r, rc, NULL); return 0; }
  p->bGiven = zCursor!=NULL;
  p->seq = p->head;
  if( !p->bGiven ) return 1;
  if( changecursor_decode(p->aKey, r->userId, zCursor, &p->seq)!=CV_OK ){
    struct cv_verr e;
    verr_init(&e);
    verr_add(&e, zLoc, "value_error",
             "Value error, not a cursor of your change log (send back a cursor or an event id as it came)");
    http_reply_422(r, &e);
    verr_free(&e);
    return 0;
  }
  if( p->seq<horizon || p->seq>p->head ){
    http_reply_detail(r, 410, p->seq<horizon
        ? "The cursor is older than the changes kept (90 days): start over without it"
        : "The cursor is not from this database: start over without it");
    return 0;
  }
  return 1;
}

/* ROUTE: GET /api/v1/changes?since=CURSOR&limit=500 (auth)
** 200 {changes:[{kind, id, op, at}], cursor, more}: the caller's changes after the cursor
** (absent: from the start), oldest first, one record per object (its latest change),
** deletions as tombstones; `cursor` continues after the last record (after everything read
** when more is false). 422: bad limit (1..1000) or cursor; 410: cursor outside the log. */
int h_changes(struct cv_req *r){
  struct cv_verr e;
  struct cv_read rd;
  struct since at;
  struct cv_change *a = NULL;
  char zSince[CV_CHANGE_CURSOR_CHARS + 2], zCur[CV_CHANGE_CURSOR_CHARS + 1];
  struct cv_buf b;
  int64_t limit;
  int n = 0, bMore = 0, ok, k;
  cv_rc rc;
  verr_init(&e);
  ok = val_query_int(&e, r->zQuery, "limit", CHANGES_PAGE_DEFAULT, 1, CV_CHANGES_LIMIT_MAX,
                     &limit)==1;
  k = val_query_str(&e, r->zQuery, "since", zSince, sizeof zSince);
  if( !ok || k<0 ){ http_reply_422(r, &e); verr_free(&e); return r->status; }
  verr_free(&e);
  a = malloc(sizeof *a * (size_t)limit);
  if( !a ){ http_reply_rc(r, CV_NOMEM, NULL); return r->status; }
  buf_init(&b, (size_t)1<<26);
  rc = store_read_begin(r->pApp->pStore, &rd);
  if( rc ){ http_reply_rc(r, rc, NULL); goto out; }
  if( !read_since(r, &rd, k==1 ? zSince : NULL, "query.since", &at) ){
    rc = CV_INVALID;
  }else{
    rc = store_changes_list(&rd, r->userId, at.bGiven ? at.seq : 0, (int)limit, a, &n, &bMore);
    if( rc ) http_reply_rc(r, rc, NULL);
  }
  store_read_end(&rd);
  if( rc ) goto out;
  /* all of the snapshot was read: continue from its head, past other users' records */
  rc = changecursor_encode(at.aKey, r->userId, bMore ? a[n-1].seq : at.head, zCur);
  if( rc==CV_OK ) rc = render_changes_page(&b, a, n, zCur, bMore);
  if( rc ){ http_reply_rc(r, rc, NULL); goto out; }
  http_reply_raw(r, 200, "application/json", b.a, b.n, NULL);
out:
  buf_free(&b);
  free(a);
  return r->status;
}

/* Send the caller's records after *pSince, all of them (a page of the log per snapshot), as
** events whose ids are cursors under aKey; *pSince follows. */
static cv_rc send_changes(struct cv_req *r, const unsigned char *aKey, int64_t *pSince){
  struct cv_change a[16];         /* small: every stream's thread keeps the stack it touched */
  struct cv_read rd;
  struct cv_buf b;
  int n = 0, bMore = 1, i;
  cv_rc rc = CV_OK;
  buf_init(&b, (size_t)1<<20);
  while( rc==CV_OK && bMore ){
    rc = store_read_begin(r->pApp->pStore, &rd);
    if( rc ) break;
    rc = store_changes_list(&rd, r->userId, *pSince, (int)(sizeof a/sizeof a[0]), a, &n, &bMore);
    store_read_end(&rd);
    b.n = 0;
    for(i=0; rc==CV_OK && i<n; i++){
      char zCur[CV_CHANGE_CURSOR_CHARS + 1];
      rc = changecursor_encode(aKey, r->userId, a[i].seq, zCur);
      if( rc==CV_OK ) rc = buf_appendf(&b, "id: %s\nevent: change\ndata: ", zCur);
      if( rc==CV_OK ) rc = render_change(&b, &a[i]);
      if( rc==CV_OK ) rc = buf_append(&b, "\n\n", 2);
    }
    if( rc==CV_OK ) rc = http_sse_write(r, b.a, b.n);
    if( rc==CV_OK && n>0 ) *pSince = a[n-1].seq;
  }
  buf_free(&b);
  return rc;
}

/* 1 while the stream's token still lets the user in. */
static int token_valid(struct cv_req *r){
  int64_t uid = 0, lastUsed = 0;
  cv_rc rc = store_tokens_lookup(r->pApp->pStore, r->aTokenHash, util_now_ms(), &uid, &lastUsed);
  return rc==CV_OK ? uid==r->userId : rc!=CV_NOTFOUND;     /* a busy file is not a revocation */
}

/* ROUTE: GET /api/v1/events (auth; Last-Event-ID or ?since=) — text/event-stream: first
** `retry: 2000` and `event: ready` {cursor}, then every change of the caller after the
** cursor (absent: from now) as `id: <cursor>`, `event: change`, data {kind, id, op, at}, as
** it is committed; `: ping` after 15 s of quiet. The stream ends with `event: end`
** {code, reason} (code "unauthorized", "evicted" or "stopping") when its token is revoked or expires (looked at on every logout and account
** deletion of the user, and every 5 s), and when the server stops. 422: bad cursor; 410:
** cursor outside the log; 503: the server holds all the streams it can. A user holds at
** most EVENTS_PER_USER streams: a newer one ends the oldest (`event: end`). */
int h_events(struct cv_req *r){
  struct cv_events *pEv = r->pApp->pEvents;
  struct cv_read rd;
  struct cv_sub sub;
  struct since at;
  const char *zLast = http_header(r, "Last-Event-ID");
  const char *zEnd = NULL, *zCode = NULL;
  char zSince[CV_CHANGE_CURSOR_CHARS + 2], zCur[CV_CHANGE_CURSOR_CHARS + 1], zHead[160];
  int64_t since, lastWrite, lastCheck;
  int n, ok, k = 0;
  cv_rc rc;
  if( !(zLast && zLast[0]) ){
    struct cv_verr e;
    verr_init(&e);
    k = val_query_str(&e, r->zQuery, "since", zSince, sizeof zSince);
    ok = k>=0;
    if( !ok ) http_reply_422(r, &e);
    verr_free(&e);
    if( !ok ) return r->status;
  }
  if( !pEv ){ http_reply_detail(r, 503, "Events are not available"); return r->status; }
  rc = store_read_begin(r->pApp->pStore, &rd);
  if( rc ){ http_reply_rc(r, rc, NULL); return r->status; }
  ok = zLast && zLast[0] ? read_since(r, &rd, zLast, "header.last-event-id", &at)
                         : read_since(r, &rd, k==1 ? zSince : NULL, "query.since", &at);
  store_read_end(&rd);
  if( !ok ) return r->status;
  since = at.seq;                             /* no cursor: from now (the head) */
  rc = events_subscribe(pEv, &sub, r->userId, at.head);
  if( rc ){
    http_reply_detail(r, 503, "Too many event streams open, try again later");
    return r->status;
  }
  rc = http_sse_start(r);
  if( rc==CV_OK ) rc = changecursor_encode(at.aKey, r->userId, since, zCur);
  if( rc==CV_OK ){               /* zCur is set only now (valgrind saw a start that failed) */
    n = snprintf(zHead, sizeof zHead,
                 "retry: 2000\n\nevent: ready\ndata: {\"cursor\":\"%s\"}\n\n", zCur);
    rc = http_sse_write(r, zHead, (size_t)n);
  }
  lastWrite = lastCheck = util_mono_us();
  while( rc==CV_OK ){
    int64_t before = since, now, until;
    int w;
    events_arm(pEv, &sub);
    rc = send_changes(r, at.aKey, &since);
    if( rc ) break;
    now = util_mono_us();
    if( since!=before ) lastWrite = now;
    until = lastWrite + EVENTS_PING_US < lastCheck + EVENTS_CHECK_US
          ? lastWrite + EVENTS_PING_US : lastCheck + EVENTS_CHECK_US;
    w = events_wait(pEv, &sub, until);
    if( w<0 ){ zCode = "stopping"; zEnd = "the server is stopping"; break; }
    if( w==3 ){
      zCode = "evicted";
      zEnd = "too many streams for this account: the oldest was closed";
      break;
    }
    now = util_mono_us();
    if( w==2 || now>=lastCheck + EVENTS_CHECK_US ){
      lastCheck = now;
      if( !token_valid(r) ){
        zCode = "unauthorized";
        zEnd = "the token was revoked or has expired";
        break;
      }
    }
    if( now>=lastWrite + EVENTS_PING_US ){
      rc = http_sse_write(r, ": ping\n\n", 8);
      lastWrite = now;
    }
  }
  if( zEnd && rc==CV_OK ){
    n = snprintf(zHead, sizeof zHead, "event: end\ndata: {\"code\":\"%s\",\"reason\":\"%s\"}\n\n",
                 zCode, zEnd);
    if( n<0 || (size_t)n>=sizeof zHead ) n = 0;
    (void)http_sse_write(r, zHead, (size_t)n);
  }
  events_unsubscribe(pEv, &sub);
  return r->status;
}
