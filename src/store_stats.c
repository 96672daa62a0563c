/*
** store_stats.c — SQL of GET /api/v1/stats (store_stats.h). Every figure comes from a
** counter, a header or an index, never from messages: thread_count from the users row;
** the threads' messages by summing message_count over the covering index
** chat_threads_user_list (one entry per thread, no row read); chats and characters from the
** user's chat headers (at most --history-limit of them, retention); per day from
** `activity` (schema.sql, version 5), a range of its primary key.
** May call db and SQLite.
*/
#include "store_stats.h"
#include "store_backend.h"
#include "db.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Read the single row of zSql (?1 = userId) into up to three integers. */
static cv_rc row3(struct cv_db *pDb, const char *zSql, int64_t userId, int64_t *a, int n){
  cv_stmt *pSt;
  int src, i;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, userId);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    for(i=0; i<n; i++) a[i] = db_column_int64(pSt, i);
  }else{
    rc = src==SQLITE_DONE ? CV_NOTFOUND : db_rc(pDb, src);
  }
  db_reset(pSt);
  return rc;
}

cv_rc sqlite_users_stats(struct cv_store *pS, int64_t userId, const char *zFirstDay,
                        const char *zLastDay, struct cv_stats *pOut){
  static const char zUser[] = "SELECT thread_count FROM users WHERE id=?1";
  static const char zThreadMsgs[] =
    "SELECT coalesce(sum(message_count), 0) FROM chat_threads WHERE user_id=?1";
  static const char zChats[] =
    "SELECT count(*), coalesce(sum(message_count), 0), count(DISTINCT character_name)"
    " FROM chat_histories WHERE user_id=?1";
  static const char zTop[] =
    "SELECT character_name, count(*) AS chats, sum(message_count) AS messages"
    " FROM chat_histories WHERE user_id=?1 AND character_name IS NOT NULL"
    " GROUP BY character_name ORDER BY messages DESC, chats DESC, character_name LIMIT ?2";
  static const char zDays[] =
    "SELECT day, messages FROM activity WHERE user_id=?1 AND day BETWEEN ?2 AND ?3"
    " ORDER BY day";
  struct cv_db *pDb;
  cv_stmt *pSt;
  int64_t a[3];
  int src = SQLITE_DONE, nAlloc = 0;
  cv_rc rc;
  assert( zFirstDay && zLastDay );
  memset(pOut, 0, sizeof *pOut);
  pDb = db_reader(pS);
  rc = db_run(pDb, "BEGIN");      /* every figure from one snapshot */
  if( rc ) goto out;
  rc = row3(pDb, zUser, userId, a, 1);
  if( rc ) goto end;
  pOut->nThreads = a[0];
  rc = row3(pDb, zThreadMsgs, userId, a, 1);
  if( rc ) goto end;
  pOut->nMessages = a[0];
  rc = row3(pDb, zChats, userId, a, 3);
  if( rc ) goto end;
  pOut->nChats = a[0];
  pOut->nMessages += a[1];
  pOut->nCharactersUsed = a[2];

  rc = db_stmt(pDb, zTop, &pSt);
  if( rc ) goto end;
  db_bind_int64(pSt, 1, userId);
  db_bind_int(pSt, 2, CV_STATS_TOP);
  while( pOut->nTop<CV_STATS_TOP && (src = db_step(pSt))==SQLITE_ROW ){
    struct cv_stats_character *p = &pOut->aTop[pOut->nTop];
    p->zName = db_col_dup(pSt, 0, &rc);
    if( rc==CV_OK && !p->zName ) rc = CV_NOMEM;
    if( rc ) break;
    p->nChats = db_column_int64(pSt, 1);
    p->nMessages = db_column_int64(pSt, 2);
    pOut->nTop++;
  }
  if( rc==CV_OK && pOut->nTop<CV_STATS_TOP && src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc ) goto end;

  rc = db_stmt(pDb, zDays, &pSt);
  if( rc ) goto end;
  db_bind_int64(pSt, 1, userId);
  db_bind_text(pSt, 2, zFirstDay, -1, SQLITE_STATIC);
  db_bind_text(pSt, 3, zLastDay, -1, SQLITE_STATIC);
  while( (src = db_step(pSt))==SQLITE_ROW ){
    if( pOut->nDay==nAlloc ){
      int nNew = nAlloc ? nAlloc*2 : 32;
      struct cv_stats_day *aNew = realloc(pOut->aDay, (size_t)nNew * sizeof *aNew);
      if( !aNew ){ rc = CV_NOMEM; break; }
      pOut->aDay = aNew;
      nAlloc = nNew;
    }
    db_col_copy(pSt, 0, pOut->aDay[pOut->nDay].zDay, sizeof pOut->aDay[0].zDay);
    pOut->aDay[pOut->nDay].nMessages = db_column_int64(pSt, 1);
    pOut->nDay++;
  }
  if( rc==CV_OK && src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
end:
  db_run(pDb, "COMMIT");
out:
  db_reader_done(pS, pDb);
  if( rc ) store_stats_clear(pOut);
  return rc;
}
