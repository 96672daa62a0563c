/*
** h_organize.c — GET /api/v1/tags and GET /api/v1/stats (contract v2, "Organize"): what the
** caller has tagged and a picture of the caller's history. Pinning, archiving and tagging
** themselves are PUT /api/v1/chat-threads/{id} (h_threads.c). Both routes show the caller's
** own data only: the stores take the authenticated user id and nothing else.
** May call http, validate, render, util and the stores (store_threads, store_stats).
*/
#include "app.h"
#include "handlers.h"
#include "http.h"
#include "render.h"
#include "store_stats.h"
#include "store_threads.h"
#include "util.h"
#include "validate.h"

#include <stdlib.h>
#include <string.h>

#define STATS_DAYS_MAX 366
#define DAY_MS (24*60*60*1000LL)

/* ROUTE: GET /api/v1/tags (auth)
** 200 [{tag, count}] of the caller's threads (archived ones too), ordered by the tag's key
** (folded: case-insensitive); count = threads carrying it. */
int h_tags_list(struct cv_req *r){
  struct cv_tag_count *a = NULL;
  struct cv_buf b;
  int n = 0;
  cv_rc rc;
  buf_init(&b, (size_t)1<<26);
  rc = store_threads_tags(r->pApp->pStore, r->userId, &a, &n);
  if( rc==CV_OK ) rc = render_tag_counts(&b, a, n);
  if( rc ) http_reply_rc(r, rc, "User");
  else http_reply_raw(r, 200, "application/json", b.a, b.n, NULL);
  buf_free(&b);
  store_tag_counts_free(a, n);
  return r->status;
}

/* ROUTE: GET /api/v1/stats?days=30 (auth)
** 200 {threads, chats, messages, characters_used, per_day:[{date, messages}],
** top_characters:[{character_name, chats, messages}]} of the caller: per_day holds every
** UTC day of the window, oldest first, ending today, 0 where nothing was written; days
** 1..366 (default 30), else 422. */
int h_stats(struct cv_req *r){
  struct cv_verr e;
  struct cv_stats st;
  struct cv_buf b;
  char (*azDay)[11] = NULL;
  int64_t *anDay = NULL, days, nowMs;
  int i, j;
  cv_rc rc;
  verr_init(&e);
  memset(&st, 0, sizeof st);
  buf_init(&b, (size_t)1<<20);
  if( val_query_int(&e, r->zQuery, "days", 30, 1, STATS_DAYS_MAX, &days)!=1 ){
    http_reply_422(r, &e);
    goto out;
  }
  azDay = calloc((size_t)days, sizeof *azDay);
  anDay = calloc((size_t)days, sizeof *anDay);
  if( !azDay || !anDay ){ http_reply_rc(r, CV_NOMEM, NULL); goto out; }
  nowMs = util_now_ms();
  for(i=0; i<(int)days; i++){
    char zTs[CV_TS_LEN+1];
    util_iso_format(nowMs - ((int64_t)days - 1 - i)*DAY_MS, zTs);
    memcpy(azDay[i], zTs, 10);
    azDay[i][10] = 0;
  }
  rc = store_users_stats(r->pApp->pStore, r->userId, azDay[0], azDay[days-1], &st);
  if( rc ){ http_reply_rc(r, rc, "User"); goto out; }
  for(i=0, j=0; i<st.nDay; i++){   /* both in date order: zero-fill by merging */
    while( j<(int)days && strcmp(azDay[j], st.aDay[i].zDay)<0 ) j++;
    if( j<(int)days && strcmp(azDay[j], st.aDay[i].zDay)==0 ) anDay[j] = st.aDay[i].nMessages;
  }
  rc = render_stats(&b, &st, (const char (*)[11])azDay, anDay, (int)days);
  if( rc ){ http_reply_rc(r, rc, NULL); goto out; }
  http_reply_raw(r, 200, "application/json", b.a, b.n, NULL);
out:
  free(azDay);
  free(anDay);
  buf_free(&b);
  store_stats_clear(&st);
  verr_free(&e);
  return r->status;
}
