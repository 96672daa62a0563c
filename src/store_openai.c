/*
** store_openai.c — the SQLite backend of store_openai.h: thread_fingerprints (schema version
** 9) and the endpoint's one write (messages and fingerprint in one transaction). A new thread
** is inserted through the import's insert (store_threads.c: automatic title, segments); an
** existing one is appended to through the conversation store (store_conv.c), which keeps
** message_count, message_bytes, the time and the size caps. The trigger of version 9 deletes a
** thread's fingerprint whenever its message_count or message_bytes changes, so the fingerprint
** is written last, after the messages it covers.
** May call db, SQLite, store_conv and store_threads (sqlite_threads_insert_import).
*/
#include "store_openai.h"
#include "store_backend.h"
#include "db.h"
#include "store.h"
#include "store_conv.h"
#include "store_sqlite.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

cv_rc sqlite_openai_match(struct cv_store *pS, int64_t userId,
                          const unsigned char aFpPrefix[CV_FP_LEN],
                          const unsigned char aFpAll[CV_FP_LEN],
                          int64_t *pThreadId, int64_t *pnMessages){
  /* both candidates through the (user_id, fingerprint) index; the retry match first */
  static const char zSql[] =
    "SELECT thread_id, message_count, fingerprint=?3 AS full FROM thread_fingerprints"
    " WHERE user_id=?1 AND (fingerprint=?2 OR (fingerprint=?3 AND retry=1))"
    " ORDER BY full DESC, thread_id DESC LIMIT 1";
  struct cv_db *pDb = db_reader(pS);
  cv_stmt *pSt;
  int src;
  cv_rc rc;
  *pThreadId = 0;
  *pnMessages = 0;
  rc = db_stmt(pDb, zSql, &pSt);
  if( rc==CV_OK ){
    db_bind_int64(pSt, 1, userId);
    db_bind_blob(pSt, 2, aFpPrefix, CV_FP_LEN, SQLITE_STATIC);
    db_bind_blob(pSt, 3, aFpAll, CV_FP_LEN, SQLITE_STATIC);
    src = db_step(pSt);
    if( src==SQLITE_ROW ){
      *pThreadId = db_column_int64(pSt, 0);
      *pnMessages = db_column_int64(pSt, 1);
    }else if( src!=SQLITE_DONE ){
      rc = db_rc(pDb, src);
    }
    db_reset(pSt);
  }
  db_reader_done(pS, pDb);
  return rc;
}

/* The messages as one JSON array text (malloc'd, free()). */
static char *join_array(const char *const *azMsg, const size_t *anLen, int nMsg){
  size_t n = 2, i0;
  char *z;
  int i;
  for(i=0; i<nMsg; i++) n += anLen[i] + 1;
  z = malloc(n + 1);
  if( !z ) return NULL;
  z[0] = '[';
  i0 = 1;
  for(i=0; i<nMsg; i++){
    if( i ) z[i0++] = ',';
    memcpy(z + i0, azMsg[i], anLen[i]);
    i0 += anLen[i];
  }
  z[i0++] = ']';
  z[i0] = 0;
  return z;
}

static cv_rc record_job(struct cv_db *pDb, void *pArg){
  static const char zHead[] = "SELECT user_id, message_count FROM chat_threads WHERE id=?1";
  static const char zFp[] =
    "INSERT INTO thread_fingerprints(thread_id, user_id, fingerprint, message_count, retry)"
    " VALUES(?1,?2,?3,?4,0) ON CONFLICT(thread_id) DO UPDATE SET"
    " fingerprint=excluded.fingerprint, message_count=excluded.message_count, retry=0";
  struct cv_openai_write *p = pArg;
  cv_stmt *pSt;
  int bMatches = 1;
  cv_rc rc;
  p->bFpSet = 0;
  if( p->threadId==0 ){
    struct cv_import_item it;
    char *zArray = join_array(p->azMsg, p->anLen, p->nMsg);
    if( !zArray ) return CV_NOMEM;
    memset(&it, 0, sizeof it);
    it.zMessages = zArray;
    it.nMessages = p->nMsg;
    rc = sqlite_threads_insert_import(pDb, p->userId, &it);
    free(zArray);
    if( rc ) return rc;
    p->idOut = it.id;
    p->nAfter = p->nMsg;
  }else{
    int64_t owner = 0, nBefore = 0, iFirst = 0, nGrow = 0;
    char zNow[CV_TS_LEN+1];
    int src;
    rc = db_stmt(pDb, zHead, &pSt);
    if( rc ) return rc;
    db_bind_int64(pSt, 1, p->threadId);
    src = db_step(pSt);
    if( src==SQLITE_ROW ){
      owner = db_column_int64(pSt, 0);
      nBefore = db_column_int64(pSt, 1);
    }else if( src!=SQLITE_DONE ){
      rc = db_rc(pDb, src);
    }
    db_reset(pSt);
    if( rc ) return rc;
    if( src==SQLITE_DONE || owner!=p->userId ) return CV_NOTFOUND;
    bMatches = nBefore==p->nExpect;
    if( !bMatches && !p->bForce ) return CV_CONFLICT;
    rc = store_conv_next_ts(pDb, CV_CONV_THREAD, p->userId, zNow);
    if( rc==CV_OK ){
      rc = store_conv_append(pDb, p->threadId, p->azMsg, p->anLen, p->nMsg, &iFirst, &nGrow);
    }
    if( rc==CV_OK && iFirst!=nBefore ) rc = CV_DB;   /* header and segments disagree */
    if( rc==CV_OK ){
      rc = store_conv_touch(pDb, CV_CONV_THREAD, p->threadId, nBefore + p->nMsg, nGrow, zNow,
                            NULL);
    }
    if( rc ) return rc;
    p->idOut = p->threadId;
    p->nAfter = nBefore + p->nMsg;
  }
  /* the touch above deleted the old fingerprint (trigger); a forced append keeps none */
  if( !bMatches || !p->aFp ) return CV_OK;
  rc = db_stmt(pDb, zFp, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, p->idOut);
  db_bind_int64(pSt, 2, p->userId);
  db_bind_blob(pSt, 3, p->aFp, CV_FP_LEN, SQLITE_STATIC);
  db_bind_int64(pSt, 4, p->nAfter);
  rc = db_step_done(pDb, pSt, NULL);
  if( rc==CV_OK ) p->bFpSet = 1;
  return rc;
}

cv_rc sqlite_openai_record(struct cv_store *pS, struct cv_openai_write *p){
  assert( p && p->userId>0 && p->nMsg>=1 && p->azMsg && p->anLen );
  p->idOut = 0;
  p->nAfter = 0;
  return db_write(pS, record_job, p);
}

struct retry_args {
  int64_t userId, threadId;
  const unsigned char *aFp;
};

static cv_rc retry_job(struct cv_db *pDb, void *pArg){
  static const char zSql[] =
    "UPDATE thread_fingerprints SET retry=1 WHERE thread_id=?1 AND user_id=?2"
    " AND fingerprint=?3";
  struct retry_args *a = pArg;
  cv_stmt *pSt;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, a->threadId);
  db_bind_int64(pSt, 2, a->userId);
  db_bind_blob(pSt, 3, a->aFp, CV_FP_LEN, SQLITE_STATIC);
  return db_step_done(pDb, pSt, NULL);
}

cv_rc sqlite_openai_mark_retry(struct cv_store *pS, int64_t userId, int64_t threadId,
                               const unsigned char aFp[CV_FP_LEN]){
  struct retry_args a = { userId, threadId, aFp };
  return db_write(pS, retry_job, &a);
}
