/*
** store_members.c — SQL for thread_members (store_members.h): adding a member by email,
** listing the members, ending a membership. Writes are jobs of the one writer (db_write),
** so the owner check, the account lookup and the insert are one transaction; the list is
** read in the caller's snapshot. What a member may read is decided in store_threads.c
** (sqlite_threads_view: owner OR member in one query); every write operation on a thread
** there already accepts only its owner, so a member's write is CV_FORBIDDEN by construction.
** May call db, SQLite and util.
*/
#include "store_members.h"
#include "store_backend.h"
#include "db.h"
#include "util.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void store_member_clear(struct cv_member *p){
  if( !p ) return;
  free(p->zEmail);
  free(p->zDisplayName);
  memset(p, 0, sizeof *p);
}

void store_members_free(struct cv_member *a, int n){
  int i;
  if( !a ) return;
  for(i=0; i<n; i++) store_member_clear(&a[i]);
  free(a);
}

/* Who userId is to thread id: *pOwner the owner's id, *pbMember 1 when userId is a member.
** CV_NOTFOUND when there is no such thread. Runs on any connection. */
static cv_rc thread_role(struct cv_db *pDb, int64_t userId, int64_t id, int64_t *pOwner,
                         int *pbMember){
  static const char zSql[] =
    "SELECT t.user_id, EXISTS (SELECT 1 FROM thread_members m"
    " WHERE m.thread_id=t.id AND m.user_id=?2) FROM chat_threads t WHERE t.id=?1";
  cv_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, id);
  db_bind_int64(pSt, 2, userId);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    *pOwner = db_column_int64(pSt, 0);
    *pbMember = db_column_int(pSt, 1)!=0;
  }else if( src==SQLITE_DONE ){
    rc = CV_NOTFOUND;
  }else{
    rc = db_rc(pDb, src);
  }
  db_reset(pSt);
  return rc;
}

/* Fill *pOut from a row (user_id, email, display_name, added_at). */
static cv_rc row_to_member(cv_stmt *pSt, struct cv_member *pOut){
  cv_rc rc = CV_OK;
  memset(pOut, 0, sizeof *pOut);
  pOut->userId = db_column_int64(pSt, 0);
  pOut->zEmail = db_col_dup(pSt, 1, &rc);
  if( rc==CV_OK && !pOut->zEmail ) rc = CV_NOMEM;              /* NOT NULL: only OOM */
  if( rc==CV_OK && db_column_type(pSt, 2)!=SQLITE_NULL ){
    pOut->zDisplayName = db_col_dup(pSt, 2, &rc);
    if( rc==CV_OK && !pOut->zDisplayName ) rc = CV_NOMEM;
  }
  db_col_copy(pSt, 3, pOut->zAddedAt, sizeof pOut->zAddedAt);
  if( rc ) store_member_clear(pOut);
  return rc;
}

struct add_args {
  int64_t ownerId, id;
  const char *zEmail;
  struct cv_member *pOut;        /* OUT */
  int bAdded;                    /* OUT */
  const char *zMissing;          /* OUT: what CV_NOTFOUND is about */
};

/* The job of sqlite_members_add (struct add_args): the owner check, the account lookup,
** the insert (a membership that exists is left alone) and the member read back, all in the
** writer's one transaction. Returns as store_members_add; a->zMissing names a CV_NOTFOUND. */
static cv_rc add_job(struct cv_db *pDb, void *pArg){
  static const char zUser[] = "SELECT id FROM users WHERE email=?1";
  static const char zIns[] =
    "INSERT INTO thread_members(thread_id, user_id, added_at) VALUES(?1,?2,?3)"
    " ON CONFLICT(thread_id, user_id) DO NOTHING";
  static const char zGet[] =
    "SELECT u.id, u.email, u.display_name, m.added_at FROM thread_members m"
    " JOIN users u ON u.id=m.user_id WHERE m.thread_id=?1 AND m.user_id=?2";
  struct add_args *a = pArg;
  cv_stmt *pSt;
  char zNow[CV_TS_LEN+1];
  int64_t owner = 0, memberId = 0;
  int bMember = 0, src, nChanged = 0;
  cv_rc rc;
  /* an earlier try's output freed first (db.h, db_write) */
  store_member_clear(a->pOut);
  rc = thread_role(pDb, a->ownerId, a->id, &owner, &bMember);
  if( rc==CV_NOTFOUND ) a->zMissing = "Thread";
  if( rc ) return rc;
  if( owner!=a->ownerId ) return CV_FORBIDDEN;         /* before the email: no probing */
  rc = db_stmt(pDb, zUser, &pSt);
  if( rc ) return rc;
  db_bind_text(pSt, 1, a->zEmail, -1, SQLITE_STATIC);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) memberId = db_column_int64(pSt, 0);
  else if( src==SQLITE_DONE ) rc = CV_NOTFOUND;
  else rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc==CV_NOTFOUND ) a->zMissing = "Account";
  if( rc ) return rc;
  if( memberId==owner ) return CV_INVALID;
  util_iso_format(util_now_ms(), zNow);
  rc = db_stmt(pDb, zIns, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, a->id);
  db_bind_int64(pSt, 2, memberId);
  db_bind_text(pSt, 3, zNow, -1, SQLITE_STATIC);
  rc = db_step_done(pDb, pSt, &nChanged);
  if( rc ) return rc;
  a->bAdded = nChanged>0;
  rc = db_stmt(pDb, zGet, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, a->id);
  db_bind_int64(pSt, 2, memberId);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) rc = row_to_member(pSt, a->pOut);
  else rc = src==SQLITE_DONE ? CV_DB : db_rc(pDb, src);  /* just written: DONE is a bug */
  db_reset(pSt);
  return rc;
}

cv_rc sqlite_members_add(struct cv_store *pS, int64_t ownerId, int64_t id, const char *zEmail,
                         struct cv_member *pOut, int *pbAdded, const char **pzMissing){
  struct add_args a;
  cv_rc rc;
  assert( zEmail && pOut && pbAdded && pzMissing );
  memset(&a, 0, sizeof a);
  memset(pOut, 0, sizeof *pOut);
  a.ownerId = ownerId;
  a.id = id;
  a.zEmail = zEmail;
  a.pOut = pOut;
  rc = db_write(pS, add_job, &a);
  *pbAdded = rc==CV_OK ? a.bAdded : 0;
  *pzMissing = rc==CV_NOTFOUND ? (a.zMissing ? a.zMissing : "Thread") : NULL;
  if( rc ) store_member_clear(pOut);
  return rc;
}

cv_rc sqlite_members_list(struct cv_read *pRd, int64_t userId, int64_t id,
                          struct cv_member **paOut, int *pnOut){
  static const char zSql[] =
    "SELECT u.id, u.email, u.display_name, m.added_at FROM thread_members m"
    " JOIN users u ON u.id=m.user_id WHERE m.thread_id=?1 ORDER BY m.added_at, m.user_id";
  struct cv_db *pDb = pRd->pDb;
  struct cv_member *a = NULL;
  cv_stmt *pSt;
  int64_t owner = 0;
  int n = 0, nAlloc = 0, bMember = 0, src = SQLITE_DONE;
  cv_rc rc;
  *paOut = NULL;
  *pnOut = 0;
  rc = thread_role(pDb, userId, id, &owner, &bMember);
  if( rc ) return rc;
  if( owner!=userId && !bMember ) return CV_FORBIDDEN;
  rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, id);
  while( (src = db_step(pSt))==SQLITE_ROW ){
    if( n==nAlloc ){
      int nNew = nAlloc ? nAlloc*2 : 8;
      struct cv_member *aNew = realloc(a, (size_t)nNew * sizeof *a);
      if( !aNew ){ rc = CV_NOMEM; break; }
      a = aNew;
      nAlloc = nNew;
    }
    rc = row_to_member(pSt, &a[n]);
    if( rc ) break;
    n++;
  }
  if( rc==CV_OK && src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc ){ store_members_free(a, n); return rc; }
  if( n==0 ){ free(a); a = NULL; }
  *paOut = a;
  *pnOut = n;
  return CV_OK;
}

struct remove_args {
  int64_t userId, id, memberId;
  const char *zMissing;          /* OUT: what CV_NOTFOUND is about */
};

/* The job of sqlite_members_remove (struct remove_args): who the caller is to the thread,
** then the delete, in one transaction. Returns as store_members_remove. */
static cv_rc remove_job(struct cv_db *pDb, void *pArg){
  static const char zDel[] = "DELETE FROM thread_members WHERE thread_id=?1 AND user_id=?2";
  struct remove_args *a = pArg;
  cv_stmt *pSt;
  int64_t owner = 0;
  int bMember = 0, nChanged = 0;
  cv_rc rc = thread_role(pDb, a->userId, a->id, &owner, &bMember);
  if( rc==CV_NOTFOUND ) a->zMissing = "Thread";
  if( rc ) return rc;
  if( owner!=a->userId && !(bMember && a->memberId==a->userId) ) return CV_FORBIDDEN;
  rc = db_stmt(pDb, zDel, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, a->id);
  db_bind_int64(pSt, 2, a->memberId);
  rc = db_step_done(pDb, pSt, &nChanged);
  if( rc==CV_OK && nChanged==0 ){
    a->zMissing = "Member";
    rc = CV_NOTFOUND;
  }
  return rc;
}

cv_rc sqlite_members_remove(struct cv_store *pS, int64_t userId, int64_t id, int64_t memberId,
                            const char **pzMissing){
  struct remove_args a;
  cv_rc rc;
  assert( pzMissing );
  memset(&a, 0, sizeof a);
  a.userId = userId;
  a.id = id;
  a.memberId = memberId;
  rc = db_write(pS, remove_job, &a);
  *pzMissing = rc==CV_NOTFOUND ? (a.zMissing ? a.zMissing : "Thread") : NULL;
  return rc;
}
