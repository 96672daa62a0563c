/*
** store_tokens.c — SQL for the tokens table (hashes only; never a token). May call db.
*/
#include "store_tokens.h"
#include "store_backend.h"
#include "db.h"

struct tok_args {
  const unsigned char *aHash;
  int64_t userId, nowMs, expiresMs;
};

static cv_rc insert_job(struct cv_db *pDb, void *pArg){
  static const char zSql[] =
    "INSERT INTO tokens(user_id, hash, created_ms, expires_ms, last_used_ms)"
    " VALUES(?1,?2,?3,?4,?3)";
  struct tok_args *a = pArg;
  cv_stmt *pSt;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, a->userId);
  db_bind_blob(pSt, 2, a->aHash, CV_TOKEN_HASH_LEN, SQLITE_STATIC);
  db_bind_int64(pSt, 3, a->nowMs);
  db_bind_int64(pSt, 4, a->expiresMs);
  rc = db_step_done(pDb, pSt, NULL);
  return rc;
}

cv_rc sqlite_tokens_insert(struct cv_store *pS, int64_t userId,
                          const unsigned char aHash[CV_TOKEN_HASH_LEN],
                          int64_t nowMs, int64_t expiresMs){
  struct tok_args a = { aHash, userId, nowMs, expiresMs };
  return db_write(pS, insert_job, &a);
}

cv_rc sqlite_tokens_lookup(struct cv_store *pS, const unsigned char aHash[CV_TOKEN_HASH_LEN],
                          int64_t nowMs, int64_t *pUserId, int64_t *pLastUsedMs){
  static const char zSql[] =
    "SELECT user_id, last_used_ms FROM tokens WHERE hash=?1 AND expires_ms>?2";
  struct cv_db *pDb = db_reader(pS);
  cv_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) goto out;
  db_bind_blob(pSt, 1, aHash, CV_TOKEN_HASH_LEN, SQLITE_STATIC);
  db_bind_int64(pSt, 2, nowMs);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    *pUserId = db_column_int64(pSt, 0);
    *pLastUsedMs = db_column_int64(pSt, 1);
  }else{
    rc = src==SQLITE_DONE ? CV_NOTFOUND : db_rc(pDb, src);
  }
  db_reset(pSt);
out:
  db_reader_done(pS, pDb);
  return rc;
}

static cv_rc touch_job(struct cv_db *pDb, void *pArg){
  static const char zSql[] = "UPDATE tokens SET last_used_ms=?2 WHERE hash=?1";
  struct tok_args *a = pArg;
  cv_stmt *pSt;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_blob(pSt, 1, a->aHash, CV_TOKEN_HASH_LEN, SQLITE_STATIC);
  db_bind_int64(pSt, 2, a->nowMs);
  rc = db_step_done(pDb, pSt, NULL);
  return rc;
}

cv_rc sqlite_tokens_touch(struct cv_store *pS, const unsigned char aHash[CV_TOKEN_HASH_LEN],
                         int64_t nowMs){
  struct tok_args a = { aHash, 0, nowMs, 0 };
  return db_write(pS, touch_job, &a);
}

static cv_rc revoke_job(struct cv_db *pDb, void *pArg){
  static const char zSql[] = "DELETE FROM tokens WHERE hash=?1";
  cv_stmt *pSt;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_blob(pSt, 1, pArg, CV_TOKEN_HASH_LEN, SQLITE_STATIC);
  rc = db_step_done(pDb, pSt, NULL);
  return rc;
}

cv_rc sqlite_tokens_revoke(struct cv_store *pS, const unsigned char aHash[CV_TOKEN_HASH_LEN]){
  return db_write(pS, revoke_job, (void*)aHash);
}

struct revoke_user_args {
  int64_t userId;
  int nRevoked;                  /* OUT */
};

static cv_rc revoke_user_job(struct cv_db *pDb, void *pArg){
  static const char zSql[] = "DELETE FROM tokens WHERE user_id=?1";
  struct revoke_user_args *a = pArg;
  cv_stmt *pSt;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, a->userId);
  return db_step_done(pDb, pSt, &a->nRevoked);
}

cv_rc sqlite_tokens_revoke_user(struct cv_store *pS, int64_t userId, int *pnRevoked){
  struct revoke_user_args a = { userId, 0 };
  cv_rc rc = db_write(pS, revoke_user_job, &a);
  *pnRevoked = rc==CV_OK ? a.nRevoked : 0;
  return rc;
}

static cv_rc purge_job(struct cv_db *pDb, void *pArg){
  return db_run_int64(pDb, "DELETE FROM tokens WHERE expires_ms<=?1", *(int64_t*)pArg, 0, NULL);
}

cv_rc sqlite_tokens_purge(struct cv_store *pS, int64_t nowMs){
  return db_write(pS, purge_job, &nowMs);
}
