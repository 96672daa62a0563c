/*
** store_shares.c — SQL for share_links (store_shares.h). A link is made by one job of the
** writer: the owner check, then one INSERT ... SELECT that copies the thread's title and its
** messages (every segment's array taken apart with json_each, each message rebuilt as
** {role, content}, in order) into the new row, inside SQLite: the snapshot never passes
** through C memory. Reads (a holder's, an owner's list) run in the caller's snapshot.
** A link is found by the hash of its token only (the unique index), never by a comparison
** of tokens. May call db, SQLite and util.
*/
#include "store_shares.h"
#include "store_backend.h"
#include "db.h"
#include "util.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void store_share_clear(struct cv_share *p){
  if( !p ) return;
  free(p->zTitle);
  memset(p, 0, sizeof *p);
}

void store_shares_free(struct cv_share *a, int n){
  int i;
  if( !a ) return;
  for(i=0; i<n; i++) store_share_clear(&a[i]);
  free(a);
}

/* The columns every read of a link selects, in row_to_share's order. */
#define SHARE_COLS "l.id, l.thread_id, l.title, l.message_count, l.created_at, l.expires_ms"

/* Fill *pOut from a row of SHARE_COLS. */
static cv_rc row_to_share(cv_stmt *pSt, struct cv_share *pOut){
  cv_rc rc = CV_OK;
  memset(pOut, 0, sizeof *pOut);
  pOut->id = db_column_int64(pSt, 0);
  pOut->threadId = db_column_int64(pSt, 1);
  pOut->zTitle = db_col_dup(pSt, 2, &rc);
  if( rc==CV_OK && !pOut->zTitle ) rc = CV_NOMEM;              /* NOT NULL: only OOM */
  pOut->nMessages = db_column_int64(pSt, 3);
  db_col_copy(pSt, 4, pOut->zCreatedAt, sizeof pOut->zCreatedAt);
  pOut->expiresMs = db_column_type(pSt, 5)==SQLITE_NULL ? 0 : db_column_int64(pSt, 5);
  if( rc ) store_share_clear(pOut);
  return rc;
}

struct create_args {
  int64_t userId, id, nowMs, expiresMs, nMaxBytes;
  const unsigned char *aHash;
  struct cv_share *pOut;         /* OUT */
};

/* The job of sqlite_shares_create (struct create_args): the owner check, the snapshot copy
** and the link read back, in the writer's one transaction. */
static cv_rc create_job(struct cv_db *pDb, void *pArg){
  static const char zOwner[] = "SELECT user_id FROM chat_threads WHERE id=?1";
  static const char zCount[] = "SELECT count(*) FROM share_links WHERE user_id=?1";
  static const char zBytes[] =
    "SELECT coalesce((SELECT sum(message_bytes) FROM share_links WHERE user_id=?1), 0)"
    " + (SELECT message_bytes FROM chat_threads WHERE id=?2)";
  static const char zIns[] =
    "INSERT INTO share_links(token_hash, user_id, thread_id, title, messages, message_count,"
    " message_bytes, created_at, expires_ms)"
    " SELECT ?1, t.user_id, t.id, t.title,"
    "  (SELECT json_group_array(json_object('role', j.value->>'role',"
    "                                       'content', j.value->>'content')"
    "                           ORDER BY s.first_index, j.key)"
    "     FROM segments s, json_each(s.messages) j WHERE s.conv_id=t.id),"
    "  t.message_count, t.message_bytes, ?3, ?4 FROM chat_threads t WHERE t.id=?2";
  static const char zGet[] =
    "SELECT " SHARE_COLS " FROM share_links l WHERE l.token_hash=?1";
  struct create_args *a = pArg;
  cv_stmt *pSt;
  char zNow[CV_TS_LEN+1];
  int64_t owner = 0, nLinks = 0, nBytes = 0;
  int src, nChanged = 0;
  cv_rc rc;
  /* an earlier try's output freed first (db.h, db_write) */
  store_share_clear(a->pOut);
  rc = db_stmt(pDb, zOwner, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, a->id);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) owner = db_column_int64(pSt, 0);
  else rc = src==SQLITE_DONE ? CV_NOTFOUND : db_rc(pDb, src);
  db_reset(pSt);
  if( rc ) return rc;
  if( owner!=a->userId ) return CV_FORBIDDEN;
  rc = db_int64(pDb, zCount, a->userId, 0, &nLinks);
  if( rc ) return rc;
  if( nLinks>=CV_SHARES_MAX ) return CV_CONFLICT;
  if( a->nMaxBytes>0 ){
    rc = db_int64(pDb, zBytes, a->userId, a->id, &nBytes);
    if( rc ) return rc;
    if( nBytes>a->nMaxBytes ) return CV_QUOTA;
  }
  util_iso_format(a->nowMs, zNow);
  rc = db_stmt(pDb, zIns, &pSt);
  if( rc ) return rc;
  db_bind_blob(pSt, 1, a->aHash, CV_SHARE_HASH_LEN, SQLITE_STATIC);
  db_bind_int64(pSt, 2, a->id);
  db_bind_text(pSt, 3, zNow, -1, SQLITE_STATIC);
  if( a->expiresMs>0 ) db_bind_int64(pSt, 4, a->expiresMs);
  else db_bind_null(pSt, 4);
  rc = db_step_done(pDb, pSt, &nChanged);
  if( rc ) return rc;
  if( nChanged!=1 ) return CV_DB;                      /* the thread was just read */
  rc = db_stmt(pDb, zGet, &pSt);
  if( rc ) return rc;
  db_bind_blob(pSt, 1, a->aHash, CV_SHARE_HASH_LEN, SQLITE_STATIC);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) rc = row_to_share(pSt, a->pOut);
  else rc = src==SQLITE_DONE ? CV_DB : db_rc(pDb, src);
  db_reset(pSt);
  return rc;
}

cv_rc sqlite_shares_create(struct cv_store *pS, int64_t userId, int64_t id,
                           const unsigned char aHash[CV_SHARE_HASH_LEN], int64_t nowMs,
                           int64_t expiresMs, int64_t nMaxBytes, struct cv_share *pOut){
  struct create_args a;
  cv_rc rc;
  assert( aHash && pOut );
  memset(&a, 0, sizeof a);
  memset(pOut, 0, sizeof *pOut);
  a.userId = userId;
  a.id = id;
  a.nowMs = nowMs;
  a.expiresMs = expiresMs;
  a.nMaxBytes = nMaxBytes;
  a.aHash = aHash;
  a.pOut = pOut;
  rc = db_write(pS, create_job, &a);
  if( rc ) store_share_clear(pOut);
  return rc;
}

cv_rc sqlite_shares_list(struct cv_read *pRd, int64_t userId, struct cv_share **paOut,
                         int *pnOut){
  static const char zSql[] =
    "SELECT " SHARE_COLS " FROM share_links l WHERE l.user_id=?1 ORDER BY l.id DESC";
  struct cv_db *pDb = pRd->pDb;
  struct cv_share *a = NULL;
  cv_stmt *pSt;
  int n = 0, nAlloc = 0, src = SQLITE_DONE;
  cv_rc rc;
  *paOut = NULL;
  *pnOut = 0;
  rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, userId);
  while( (src = db_step(pSt))==SQLITE_ROW ){
    if( n==nAlloc ){
      int nNew = nAlloc ? nAlloc*2 : 8;
      struct cv_share *aNew = realloc(a, (size_t)nNew * sizeof *a);
      if( !aNew ){ rc = CV_NOMEM; break; }
      a = aNew;
      nAlloc = nNew;
    }
    rc = row_to_share(pSt, &a[n]);
    if( rc ) break;
    n++;
  }
  if( rc==CV_OK && src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc ){ store_shares_free(a, n); return rc; }
  if( n==0 ){ free(a); a = NULL; }
  *paOut = a;
  *pnOut = n;
  return CV_OK;
}

cv_rc sqlite_shares_get(struct cv_read *pRd, const unsigned char aHash[CV_SHARE_HASH_LEN],
                        int64_t nowMs, struct cv_share *pOut){
  static const char zSql[] =
    "SELECT " SHARE_COLS " FROM share_links l"
    " WHERE l.token_hash=?1 AND (l.expires_ms IS NULL OR l.expires_ms>?2)";
  struct cv_db *pDb = pRd->pDb;
  cv_stmt *pSt;
  int src;
  cv_rc rc;
  memset(pOut, 0, sizeof *pOut);
  rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_blob(pSt, 1, aHash, CV_SHARE_HASH_LEN, SQLITE_STATIC);
  db_bind_int64(pSt, 2, nowMs);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) rc = row_to_share(pSt, pOut);
  else rc = src==SQLITE_DONE ? CV_NOTFOUND : db_rc(pDb, src);
  db_reset(pSt);
  return rc;
}

cv_rc sqlite_shares_messages(struct cv_read *pRd, int64_t linkId, struct cv_sink *pOut){
  static const char zSql[] = "SELECT messages FROM share_links WHERE id=?1";
  struct cv_db *pDb = pRd->pDb;
  cv_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, linkId);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    const char *z = (const char*)db_column_text(pSt, 0);
    size_t n = (size_t)db_column_bytes(pSt, 0);
    rc = z ? sink_write(pOut, z, n) : CV_NOMEM;
  }else{
    rc = src==SQLITE_DONE ? CV_NOTFOUND : db_rc(pDb, src);
  }
  db_reset(pSt);
  return rc;
}

struct revoke_args {
  int64_t userId, linkId;
  const unsigned char *aHash;    /* NULL: by linkId */
};

/* The job of sqlite_shares_revoke (struct revoke_args): one DELETE of the caller's link. */
static cv_rc revoke_job(struct cv_db *pDb, void *pArg){
  static const char zByHash[] = "DELETE FROM share_links WHERE token_hash=?1 AND user_id=?2";
  static const char zById[] = "DELETE FROM share_links WHERE id=?1 AND user_id=?2";
  struct revoke_args *a = pArg;
  cv_stmt *pSt;
  int nChanged = 0;
  cv_rc rc = db_stmt(pDb, a->aHash ? zByHash : zById, &pSt);
  if( rc ) return rc;
  if( a->aHash ) db_bind_blob(pSt, 1, a->aHash, CV_SHARE_HASH_LEN, SQLITE_STATIC);
  else db_bind_int64(pSt, 1, a->linkId);
  db_bind_int64(pSt, 2, a->userId);
  rc = db_step_done(pDb, pSt, &nChanged);
  if( rc==CV_OK && nChanged==0 ) rc = CV_NOTFOUND;
  return rc;
}

cv_rc sqlite_shares_revoke(struct cv_store *pS, int64_t userId,
                           const unsigned char *aHash, int64_t linkId){
  struct revoke_args a;
  a.userId = userId;
  a.linkId = linkId;
  a.aHash = aHash;
  return db_write(pS, revoke_job, &a);
}

struct purge_args {
  int64_t beforeMs;
  int nPurged;                   /* OUT */
};

/* The job of sqlite_shares_purge (struct purge_args). */
static cv_rc purge_job(struct cv_db *pDb, void *pArg){
  struct purge_args *a = pArg;
  return db_run_int64(pDb, "DELETE FROM share_links WHERE expires_ms IS NOT NULL AND expires_ms<?1",
                      a->beforeMs, 0, &a->nPurged);
}

cv_rc sqlite_shares_purge(struct cv_store *pS, int64_t beforeMs, int64_t *pnPurged){
  struct purge_args a;
  cv_rc rc;
  a.beforeMs = beforeMs;
  a.nPurged = 0;
  rc = db_write(pS, purge_job, &a);
  if( pnPurged ) *pnPurged = rc ? 0 : a.nPurged;
  return rc;
}
