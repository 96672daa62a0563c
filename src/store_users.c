/*
** store_users.c — SQL for the users table. Reads use a pooled read connection, writes go
** through db_write (group commit). May call db and SQLite.
*/
#include "store_users.h"
#include "store_backend.h"
#include "db.h"

#include <stdlib.h>
#include <string.h>
#include "util.h"

/* Fill *pOut from a row of (id, email, display_name, password_hash, created_at). */
static cv_rc row_to_user(cv_stmt *pSt, struct cv_user *pOut){
  cv_rc rc = CV_OK;
  memset(pOut, 0, sizeof *pOut);
  pOut->id = db_column_int64(pSt, 0);
  pOut->zEmail = db_col_dup(pSt, 1, &rc);
  pOut->zDisplayName = db_col_dup(pSt, 2, &rc);
  pOut->zPasswordHash = db_col_dup(pSt, 3, &rc);
  db_col_copy(pSt, 4, pOut->zCreatedAt, sizeof pOut->zCreatedAt);
  if( rc ) store_user_clear(pOut);
  return rc;
}

#define USER_COLS "id, email, display_name, password_hash, created_at"

struct create_args {
  const char *zEmail, *zHash, *zDisplayName;
  struct cv_user *pOut;
};

static cv_rc create_job(struct cv_db *pDb, void *pArg){
  static const char zSql[] =
    "INSERT INTO users(email, password_hash, display_name, created_at) VALUES(?1,?2,?3,?4)"
    " RETURNING " USER_COLS;
  struct create_args *a = pArg;
  cv_stmt *pSt;
  char zNow[CV_TS_LEN+1];
  int src;
  cv_rc rc;
  /* an earlier try's output freed first (db.h, db_write) */
  store_user_clear(a->pOut);
  rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  util_iso_format(util_now_ms(), zNow);
  db_bind_text(pSt, 1, a->zEmail, -1, SQLITE_STATIC);
  if( a->zHash ) db_bind_text(pSt, 2, a->zHash, -1, SQLITE_STATIC);
  if( a->zDisplayName ) db_bind_text(pSt, 3, a->zDisplayName, -1, SQLITE_STATIC);
  db_bind_text(pSt, 4, zNow, -1, SQLITE_STATIC);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    rc = row_to_user(pSt, a->pOut);
    db_step(pSt);
  }else{
    rc = db_rc(pDb, src);
    if( rc==CV_OK ) rc = CV_DB;
  }
  db_reset(pSt);
  return rc;
}

cv_rc sqlite_users_create(struct cv_store *pS, const char *zEmail, const char *zHash,
                         const char *zDisplayName, struct cv_user *pOut){
  struct create_args a = { zEmail, zHash, zDisplayName, pOut };
  cv_rc rc;
  memset(pOut, 0, sizeof *pOut);
  rc = db_write(pS, create_job, &a);
  if( rc ) store_user_clear(pOut);
  return rc;
}

/* One-row read by a text or integer key. */
static cv_rc read_one(struct cv_store *pS, const char *zSql, const char *zKey, int64_t iKey,
                      struct cv_user *pOut){
  struct cv_db *pDb = db_reader(pS);
  cv_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  memset(pOut, 0, sizeof *pOut);
  if( rc ) goto out;
  if( zKey ) db_bind_text(pSt, 1, zKey, -1, SQLITE_STATIC);
  else db_bind_int64(pSt, 1, iKey);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) rc = row_to_user(pSt, pOut);
  else if( src==SQLITE_DONE ) rc = CV_NOTFOUND;
  else rc = db_rc(pDb, src);
  db_reset(pSt);
out:
  db_reader_done(pS, pDb);
  return rc;
}

cv_rc sqlite_users_by_email(struct cv_store *pS, const char *zEmail, struct cv_user *pOut){
  static const char zSql[] = "SELECT " USER_COLS " FROM users WHERE email=?1";
  return read_one(pS, zSql, zEmail, 0, pOut);
}

cv_rc sqlite_users_by_id(struct cv_store *pS, int64_t id, struct cv_user *pOut){
  static const char zSql[] = "SELECT " USER_COLS " FROM users WHERE id=?1";
  return read_one(pS, zSql, NULL, id, pOut);
}

struct passwd_args {
  const char *zEmail, *zHash;
  int nRevoked;                  /* OUT: tokens deleted */
};

/* One transaction: the new hash and the end of every session opened with the old one. */
static cv_rc passwd_job(struct cv_db *pDb, void *pArg){
  static const char zSql[] = "UPDATE users SET password_hash=?2 WHERE email=?1";
  static const char zRevoke[] =
    "DELETE FROM tokens WHERE user_id=(SELECT id FROM users WHERE email=?1)";
  struct passwd_args *a = pArg;
  cv_stmt *pSt;
  int nChanged = 0;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_text(pSt, 1, a->zEmail, -1, SQLITE_STATIC);
  db_bind_text(pSt, 2, a->zHash, -1, SQLITE_STATIC);
  rc = db_step_done(pDb, pSt, &nChanged);
  if( rc ) return rc;
  if( nChanged==0 ) return CV_NOTFOUND;
  rc = db_stmt(pDb, zRevoke, &pSt);
  if( rc ) return rc;
  db_bind_text(pSt, 1, a->zEmail, -1, SQLITE_STATIC);
  return db_step_done(pDb, pSt, &a->nRevoked);
}

cv_rc sqlite_users_set_password(struct cv_store *pS, const char *zEmail, const char *zHash,
                               int *pnRevoked){
  struct passwd_args a = { zEmail, zHash, 0 };
  cv_rc rc = db_write(pS, passwd_job, &a);
  if( pnRevoked ) *pnRevoked = rc==CV_OK ? a.nRevoked : 0;
  return rc;
}

static cv_rc delete_job(struct cv_db *pDb, void *pArg){
  static const char zSql[] = "DELETE FROM users WHERE id=?1";
  cv_stmt *pSt;
  int nChanged;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, *(int64_t*)pArg);
  rc = db_step_done(pDb, pSt, &nChanged);
  return rc==CV_OK && nChanged==0 ? CV_NOTFOUND : rc;
}

cv_rc sqlite_users_delete(struct cv_store *pS, int64_t id){
  return db_write(pS, delete_job, &id);
}
