/*
** store_changes.c — SQL for the change log (store_changes.h). The log's rows are written by
** the schema's triggers (version 11), never here: this file reads them, purges old tombstones
** and raises the horizon. May call db, SQLite and util.
*/
#include "store_changes.h"
#include "store_backend.h"
#include "db.h"

#include <assert.h>
#include <sodium.h>
#include <string.h>

cv_rc sqlite_changes_bounds(struct cv_read *pRd, int64_t *pHorizon, int64_t *pHead,
                           unsigned char aKey[16]){
  static const char zKey[] = "SELECT value FROM settings WHERE key='changes_key'";
  static const char zHorizon[] =
    "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings"
    " WHERE key='changes_horizon'), 0)";
  static const char zHead[] =
    "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name='changes'), 0)";
  cv_stmt *pSt;
  size_t n = 0;
  int src;
  cv_rc rc = db_int64(pRd->pDb, zHorizon, 0, 0, pHorizon);
  if( rc==CV_OK ) rc = db_int64(pRd->pDb, zHead, 0, 0, pHead);
  if( rc==CV_OK ) rc = db_stmt(pRd->pDb, zKey, &pSt);
  if( rc ) return rc;
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    const char *zHex = (const char*)db_column_text(pSt, 0);
    if( !zHex || sodium_hex2bin(aKey, 16, zHex, strlen(zHex), NULL, &n, NULL)!=0 || n!=16 ){
      rc = CV_DB;                                        /* a key that is not 16 bytes */
    }
  }else{
    rc = src==SQLITE_DONE ? CV_DB : db_rc(pRd->pDb, src);
  }
  db_reset(pSt);
  return rc;
}

cv_rc sqlite_changes_list(struct cv_read *pRd, int64_t userId, int64_t since, int nLimit,
                          struct cv_change *aOut, int *pn, int *pbMore){
  static const char zSql[] =
    "SELECT seq, kind, obj_id, chat_id, op, at_ms FROM changes"
    " WHERE user_id=?1 AND seq>?2 ORDER BY seq LIMIT ?3";
  cv_stmt *pSt;
  int src, n = 0;
  cv_rc rc;
  assert( nLimit>0 && nLimit<=CV_CHANGES_LIMIT_MAX );
  *pn = 0;
  *pbMore = 0;
  rc = db_stmt(pRd->pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, userId);
  db_bind_int64(pSt, 2, since);
  db_bind_int(pSt, 3, nLimit + 1);                /* one more: is there a next page? */
  while( (src = db_step(pSt))==SQLITE_ROW ){
    struct cv_change *p;
    if( n==nLimit ){ *pbMore = 1; break; }
    p = &aOut[n++];
    p->seq = db_column_int64(pSt, 0);
    p->kind = db_column_int(pSt, 1);
    p->id = db_column_int64(pSt, 2);
    db_col_copy(pSt, 3, p->zChatId, sizeof p->zChatId);
    p->bDelete = db_column_int(pSt, 4)==0;
    p->atMs = db_column_int64(pSt, 5);
  }
  if( src!=SQLITE_ROW && src!=SQLITE_DONE ) rc = db_rc(pRd->pDb, src);
  db_reset(pSt);
  if( rc==CV_OK ) *pn = n;
  return rc;
}

cv_rc sqlite_changes_users_after(struct cv_read *pRd, int64_t since, int64_t *aUser, int nMax,
                                 int *pn, int64_t *pLast){
  static const char zSql[] =
    "SELECT seq, user_id FROM changes WHERE seq>?1 ORDER BY seq LIMIT ?2";
  cv_stmt *pSt;
  int src, n = 0;
  cv_rc rc;
  assert( nMax>0 );
  *pn = 0;
  *pLast = since;
  rc = db_stmt(pRd->pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, since);
  db_bind_int(pSt, 2, nMax);
  while( (src = db_step(pSt))==SQLITE_ROW ){
    *pLast = db_column_int64(pSt, 0);
    aUser[n++] = db_column_int64(pSt, 1);
  }
  if( src!=SQLITE_DONE ) rc = db_rc(pRd->pDb, src);
  db_reset(pSt);
  if( rc==CV_OK ) *pn = n;
  return rc;
}

struct purge_args {
  int64_t beforeMs;
  int64_t nPurged;               /* OUT */
};

/* The job of sqlite_changes_purge (struct purge_args). */
static cv_rc purge_job(struct cv_db *pDb, void *pArg){
  static const char zMax[] =
    "SELECT coalesce(max(seq), 0) FROM changes WHERE op=0 AND at_ms<?1";
  static const char zHorizon[] =
    "INSERT INTO settings(key, value) VALUES('changes_horizon', ?1)"
    " ON CONFLICT(key) DO UPDATE SET value=max(CAST(value AS INTEGER), excluded.value)";
  static const char zDel[] = "DELETE FROM changes WHERE op=0 AND at_ms<?1";
  struct purge_args *a = pArg;
  int64_t maxSeq = 0;
  int nChanged = 0;
  cv_rc rc = db_int64(pDb, zMax, a->beforeMs, 0, &maxSeq);
  if( rc || maxSeq==0 ) return rc;
  rc = db_run_int64(pDb, zHorizon, maxSeq, 0, NULL);
  if( rc==CV_OK ) rc = db_run_int64(pDb, zDel, a->beforeMs, 0, &nChanged);
  if( rc==CV_OK ) a->nPurged = nChanged;
  return rc;
}

cv_rc sqlite_changes_purge(struct cv_store *pS, int64_t beforeMs, int64_t *pnPurged){
  struct purge_args a;
  cv_rc rc;
  memset(&a, 0, sizeof a);
  a.beforeMs = beforeMs;
  rc = db_write(pS, purge_job, &a);
  if( pnPurged ) *pnPurged = rc ? 0 : a.nPurged;
  return rc;
}
