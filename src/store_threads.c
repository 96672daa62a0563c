/*
** store_threads.c — SQL for the chat_threads headers; the messages are the conversation
** store's (store_conv.c), which also owns the time of a change and the automatic title.
** Concurrent appends to one thread are handed to one call of append_many (db_write_grouped)
** and applied to the tail segment with one json_insert, so they never lose each other and a
** batch rewrites one small segment, whatever the thread's length.
** May call db, SQLite, store_conv and util.
*/
#include "store_threads.h"
#include "store_backend.h"
#include "db.h"
#include "store.h"
#include "store_conv.h"
#include "util.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns: id, user_id, title, message_count, created_at, updated_at */
#define THREAD_COLS "id, user_id, title, message_count, created_at, updated_at"
static cv_rc row_to_thread(sqlite3_stmt *pSt, struct cv_thread *pOut){
  cv_rc rc = CV_OK;
  memset(pOut, 0, sizeof *pOut);
  pOut->id = sqlite3_column_int64(pSt, 0);
  pOut->userId = sqlite3_column_int64(pSt, 1);
  pOut->zTitle = db_col_dup(pSt, 2, &rc);
  pOut->nMessages = sqlite3_column_int64(pSt, 3);
  db_col_copy(pSt, 4, pOut->zCreatedAt, sizeof pOut->zCreatedAt);
  db_col_copy(pSt, 5, pOut->zUpdatedAt, sizeof pOut->zUpdatedAt);
  if( rc==CV_OK && !pOut->zTitle ) rc = CV_NOMEM;   /* NOT NULL: only OOM leaves it NULL */
  if( rc ) store_thread_clear(pOut);
  return rc;
}

/* Tell a missing thread from another user's: CV_NOTFOUND or CV_FORBIDDEN. */
static cv_rc why_missing(struct cv_db *pDb, int64_t userId, int64_t id){
  static const char zSql[] = "SELECT user_id FROM chat_threads WHERE id=?1";
  sqlite3_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  sqlite3_bind_int64(pSt, 1, id);
  src = sqlite3_step(pSt);
  if( src==SQLITE_ROW ) rc = sqlite3_column_int64(pSt, 0)==userId ? CV_DB : CV_FORBIDDEN;
  else if( src==SQLITE_DONE ) rc = CV_NOTFOUND;
  else rc = db_rc(pDb, src);
  db_reset(pSt);
  return rc;
}

/* Read the header of thread id (owned by userId) into *pOut, on any connection. */
static cv_rc read_thread(struct cv_db *pDb, int64_t userId, int64_t id, struct cv_thread *pOut){
  static const char zSql[] =
    "SELECT " THREAD_COLS " FROM chat_threads WHERE id=?1 AND user_id=?2";
  sqlite3_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  sqlite3_bind_int64(pSt, 1, id);
  sqlite3_bind_int64(pSt, 2, userId);
  src = sqlite3_step(pSt);
  if( src==SQLITE_ROW ) rc = row_to_thread(pSt, pOut);
  else if( src==SQLITE_DONE ) rc = CV_NOTFOUND;
  else rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc==CV_NOTFOUND ) rc = why_missing(pDb, userId, id);
  return rc;
}

struct create_args {
  int64_t userId;
  const char *zTitle, *zMessages, *zClientId, *zCreatedAt, *zUpdatedAt;
  int64_t nMessages;
  int bOnConflictSkip;           /* import: skip an existing (user, client_id) */
  char *zTitleSet;               /* OUT (create): the title written, automatic or given (malloc'd) */
  char zNow[CV_TS_LEN+1];        /* OUT (create): the time written */
  int64_t id;                    /* OUT */
  int bInserted;                 /* OUT */
  struct cv_thread *pOut;        /* OUT, may be NULL */
};

/* Insert one thread; the shared body of create and import. An import's existing
** (user, client_id) is left as it is (a->bInserted 0, a->id its id). */
static cv_rc insert_thread(struct cv_db *pDb, struct create_args *a){
  static const char zExisting[] =
    "SELECT id FROM chat_threads WHERE user_id=?1 AND client_id=?2";
  static const char zIns[] =
    "INSERT INTO chat_threads(id, user_id, client_id, title, message_count,"
    " created_at, updated_at) VALUES(?1,?2,?3,?4,0,?5,?6)";
  sqlite3_stmt *pSt;
  char zNow[CV_TS_LEN+1];
  int64_t nBytes = 0;
  int src;
  cv_rc rc;
  a->bInserted = 0;
  if( a->zClientId ){
    rc = db_stmt(pDb, zExisting, &pSt);
    if( rc ) return rc;
    sqlite3_bind_int64(pSt, 1, a->userId);
    sqlite3_bind_text(pSt, 2, a->zClientId, -1, SQLITE_STATIC);
    src = sqlite3_step(pSt);
    if( src==SQLITE_ROW ) a->id = sqlite3_column_int64(pSt, 0);
    else if( src!=SQLITE_DONE ) rc = db_rc(pDb, src);
    db_reset(pSt);
    if( rc || src==SQLITE_ROW ) return rc;
  }
  rc = store_conv_next_ts(pDb, CV_CONV_THREAD, a->userId, zNow);
  memcpy(a->zNow, zNow, sizeof zNow);
  if( rc==CV_OK ) rc = store_conv_create(pDb, CV_CONV_THREAD, a->userId, &a->id);
  if( rc ) return rc;
  rc = db_stmt(pDb, zIns, &pSt);
  if( rc ) return rc;
  sqlite3_bind_int64(pSt, 1, a->id);
  sqlite3_bind_int64(pSt, 2, a->userId);
  if( a->zClientId ) sqlite3_bind_text(pSt, 3, a->zClientId, -1, SQLITE_STATIC);
  sqlite3_bind_text(pSt, 4, a->zTitle ? a->zTitle : CV_DEFAULT_TITLE, -1, SQLITE_STATIC);
  sqlite3_bind_text(pSt, 5, a->zCreatedAt ? a->zCreatedAt : zNow, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(pSt, 6, a->zUpdatedAt ? a->zUpdatedAt
                            : a->zCreatedAt ? a->zCreatedAt : zNow, -1, SQLITE_TRANSIENT);
  rc = db_step_done(pDb, pSt, NULL);
  if( rc ) return rc;
  a->bInserted = 1;
  if( a->zMessages && a->nMessages>0 ){
    rc = store_conv_replace(pDb, a->id, a->zMessages, a->nMessages, &nBytes);
    if( rc==CV_OK ) rc = store_conv_touch(pDb, CV_CONV_THREAD, a->id, a->nMessages, nBytes,
                                         NULL, a->pOut ? &a->zTitleSet : NULL);
  }
  return rc;
}

/* Create, and fill *pOut from what was written (no read back). */
static cv_rc create_job(struct cv_db *pDb, void *pArg){
  struct create_args *a = pArg;
  struct cv_thread *t = a->pOut;
  cv_rc rc = insert_thread(pDb, a);
  if( rc ) return rc;
  t->id = a->id;
  t->userId = a->userId;
  t->nMessages = a->zMessages ? a->nMessages : 0;
  t->zTitle = a->zTitleSet ? a->zTitleSet : strdup(a->zTitle ? a->zTitle : CV_DEFAULT_TITLE);
  a->zTitleSet = NULL;
  memcpy(t->zCreatedAt, a->zNow, sizeof t->zCreatedAt);
  memcpy(t->zUpdatedAt, a->zNow, sizeof t->zUpdatedAt);
  return t->zTitle ? CV_OK : CV_NOMEM;
}

cv_rc sqlite_threads_create(struct cv_store *pS, int64_t userId, const char *zTitle,
                           const char *zMessages, int64_t nMessages, struct cv_thread *pOut){
  struct create_args a;
  cv_rc rc;
  memset(&a, 0, sizeof a);
  memset(pOut, 0, sizeof *pOut);
  a.userId = userId;
  a.zTitle = zTitle;
  a.zMessages = zMessages;
  a.nMessages = nMessages;
  a.pOut = pOut;
  rc = db_write(pS, create_job, &a);
  free(a.zTitleSet);              /* set only when the job failed after naming the thread */
  if( rc ) store_thread_clear(pOut);
  return rc;
}

cv_rc sqlite_threads_get(struct cv_read *pRd, int64_t userId, int64_t id, struct cv_thread *pOut){
  memset(pOut, 0, sizeof *pOut);
  return read_thread(pRd->pDb, userId, id, pOut);
}

cv_rc sqlite_threads_list(struct cv_store *pS, int64_t userId, int limit, int64_t offset,
                         struct cv_thread **paOut, int *pnOut, int64_t *pnTotal){
  /* users.thread_count is kept by triggers (schema.sql): O(1), not a count(*) scan */
  static const char zCount[] = "SELECT thread_count FROM users WHERE id=?1";
  static const char zList[] =
    "SELECT " THREAD_COLS " FROM chat_threads WHERE user_id=?1"
    " ORDER BY updated_at DESC, id DESC LIMIT ?2 OFFSET ?3";
  struct cv_db *pDb = db_reader(pS);
  struct cv_thread *a = NULL;
  sqlite3_stmt *pSt;
  int n = 0, src;
  cv_rc rc;
  assert( limit>0 && limit<=CV_LIST_MAX && offset>=0 );
  *paOut = NULL;
  *pnOut = 0;
  *pnTotal = 0;
  rc = db_run(pDb, "BEGIN");      /* count and page from one snapshot */
  if( rc ) goto out;
  rc = db_stmt(pDb, zCount, &pSt);
  if( rc ) goto end;
  sqlite3_bind_int64(pSt, 1, userId);
  src = sqlite3_step(pSt);
  if( src==SQLITE_ROW ) *pnTotal = sqlite3_column_int64(pSt, 0);
  else rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc ) goto end;
  a = calloc((size_t)limit, sizeof *a);
  if( !a ){ rc = CV_NOMEM; goto end; }
  rc = db_stmt(pDb, zList, &pSt);
  if( rc ) goto end;
  sqlite3_bind_int64(pSt, 1, userId);
  sqlite3_bind_int(pSt, 2, limit);
  sqlite3_bind_int64(pSt, 3, offset);
  while( n<limit && (src = sqlite3_step(pSt))==SQLITE_ROW ){
    rc = row_to_thread(pSt, &a[n]);
    if( rc ) break;
    n++;
  }
  if( rc==CV_OK && n<limit && src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
end:
  db_run(pDb, "COMMIT");
out:
  db_reader_done(pS, pDb);
  if( rc ){
    store_threads_free_list(a, n);
    return rc;
  }
  *paOut = a;
  *pnOut = n;
  return CV_OK;
}

struct update_args {
  int64_t userId, id;
  const char *zTitle, *zMessages;
  int64_t nMessages;
  struct cv_thread *pOut;
};

static cv_rc update_job(struct cv_db *pDb, void *pArg){
  static const char zSql[] =
    "UPDATE chat_threads SET title=coalesce(?3,title), updated_at=?4"
    " WHERE id=?1 AND user_id=?2";
  struct update_args *a = pArg;
  sqlite3_stmt *pSt;
  char zNow[CV_TS_LEN+1];
  int nChanged;
  cv_rc rc = store_conv_next_ts(pDb, CV_CONV_THREAD, a->userId, zNow);
  if( rc ) return rc;
  rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  sqlite3_bind_int64(pSt, 1, a->id);
  sqlite3_bind_int64(pSt, 2, a->userId);
  if( a->zTitle ) sqlite3_bind_text(pSt, 3, a->zTitle, -1, SQLITE_STATIC);
  sqlite3_bind_text(pSt, 4, zNow, -1, SQLITE_STATIC);
  rc = db_step_done(pDb, pSt, &nChanged);
  if( rc ) return rc;
  if( nChanged==0 ) return why_missing(pDb, a->userId, a->id);
  if( a->zMessages ){
    int64_t nBytes = 0;
    rc = store_conv_replace(pDb, a->id, a->zMessages, a->nMessages, &nBytes);
    if( rc==CV_OK ) rc = store_conv_touch(pDb, CV_CONV_THREAD, a->id, a->nMessages, nBytes,
                                         NULL, NULL);
    if( rc ) return rc;
  }
  return read_thread(pDb, a->userId, a->id, a->pOut);
}

cv_rc sqlite_threads_update(struct cv_store *pS, int64_t userId, int64_t id,
                           const char *zTitle, const char *zMessages, int64_t nMessages,
                           struct cv_thread *pOut){
  struct update_args a = { userId, id, zTitle, zMessages, nMessages, pOut };
  cv_rc rc;
  memset(pOut, 0, sizeof *pOut);
  rc = db_write(pS, update_job, &a);
  if( rc ) store_thread_clear(pOut);
  return rc;
}

struct delete_args { int64_t userId, id; };

static cv_rc delete_job(struct cv_db *pDb, void *pArg){
  static const char zSql[] = "DELETE FROM chat_threads WHERE id=?1 AND user_id=?2";
  struct delete_args *a = pArg;
  sqlite3_stmt *pSt;
  int nChanged;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  sqlite3_bind_int64(pSt, 1, a->id);
  sqlite3_bind_int64(pSt, 2, a->userId);
  rc = db_step_done(pDb, pSt, &nChanged);
  if( rc ) return rc;
  return nChanged ? CV_OK : why_missing(pDb, a->userId, a->id);
}

cv_rc sqlite_threads_delete(struct cv_store *pS, int64_t userId, int64_t id){
  struct delete_args a = { userId, id };
  return db_write(pS, delete_job, &a);
}

struct append_args {
  int64_t userId, id;
  const char *zMessage;
  struct cv_append *pOut;
};

#define APPEND_GROUP 63          /* appends applied by one call of append_many */

/* Appends to one thread from up to APPEND_GROUP callers (db_write_grouped), applied to the
** tail segment (and new ones) with one json_insert per segment; the header's count, time
** and automatic title are set once for the batch. Jobs of another user get CV_FORBIDDEN and
** change nothing. */
static cv_rc append_many(struct cv_db *pDb, void **apArg, int nArg, cv_rc *aRc){
  static const char zHead[] =
    "SELECT t.user_id, t.message_count, t.message_bytes, u.stored_bytes"
    " FROM chat_threads t JOIN users u ON u.id=t.user_id WHERE t.id=?1";
  struct append_args *a0 = apArg[0];
  struct append_args *aOk[APPEND_GROUP];
  const char *azMsg[APPEND_GROUP];
  size_t anLen[APPEND_GROUP];
  sqlite3_stmt *pSt;
  char zNow[CV_TS_LEN+1];
  char *zTitle = NULL;
  int64_t owner = 0, nBefore = 0, iFirst = 0, nBytes = 0, nUserBytes = 0, nGrow = 0;
  int nOk = 0, i, src;
  cv_rc rc;
  assert( nArg>0 && nArg<=APPEND_GROUP );
  rc = db_stmt(pDb, zHead, &pSt);
  if( rc ) return rc;
  sqlite3_bind_int64(pSt, 1, a0->id);
  src = sqlite3_step(pSt);
  if( src==SQLITE_ROW ){
    owner = sqlite3_column_int64(pSt, 0);
    nBefore = sqlite3_column_int64(pSt, 1);
    nBytes = sqlite3_column_int64(pSt, 2);
    nUserBytes = sqlite3_column_int64(pSt, 3);
  }else if( src!=SQLITE_DONE ){
    rc = db_rc(pDb, src);
  }
  db_reset(pSt);
  if( rc ) return rc;
  for(i=0; i<nArg; i++){
    struct append_args *a = apArg[i];
    if( src==SQLITE_DONE ) aRc[i] = CV_NOTFOUND;
    else if( a->userId!=owner ) aRc[i] = CV_FORBIDDEN;
    else{
      size_t nLen = strlen(a->zMessage);
      /* admitted one by one, so that a full thread refuses only what does not fit */
      if( !store_conv_admits(nBefore + nOk, nBytes, nUserBytes, nGrow, nLen) ){
        aRc[i] = CV_QUOTA;
        continue;
      }
      nGrow += (int64_t)nLen + 2;
      azMsg[nOk] = a->zMessage;
      anLen[nOk] = nLen;
      aOk[nOk++] = a;
    }
  }
  if( nOk==0 ) return CV_OK;
  rc = store_conv_next_ts(pDb, CV_CONV_THREAD, owner, zNow);
  if( rc==CV_OK ) rc = store_conv_append(pDb, a0->id, azMsg, anLen, nOk, &iFirst, &nGrow);
  if( rc==CV_OK && iFirst!=nBefore ) rc = CV_DB;     /* header and segments disagree */
  if( rc==CV_OK ){
    rc = store_conv_touch(pDb, CV_CONV_THREAD, a0->id, nBefore + nOk, nGrow, zNow, &zTitle);
  }
  for(i=0; i<nOk && rc==CV_OK; i++){
    struct cv_append *pOut = aOk[i]->pOut;
    pOut->index = iFirst + i;
    memcpy(pOut->zUpdatedAt, zNow, sizeof zNow);
    pOut->zTitle = strdup(zTitle ? zTitle : "");
    if( !pOut->zTitle ) rc = CV_NOMEM;
  }
  free(zTitle);
  return rc;
}

cv_rc sqlite_threads_append(struct cv_store *pS, int64_t userId, int64_t id,
                           const char *zMessage, struct cv_append *pOut){
  struct append_args a = { userId, id, zMessage, pOut };
  cv_rc rc;
  memset(pOut, 0, sizeof *pOut);
  rc = db_write_grouped(pS, append_many, id, APPEND_GROUP, &a);
  if( rc ) store_append_clear(pOut);
  return rc;
}

struct import_args {
  int64_t userId;
  struct cv_import_item *aItem;
  int nItem;
};

static cv_rc import_job(struct cv_db *pDb, void *pArg){
  struct import_args *a = pArg;
  int i;
  for(i=0; i<a->nItem; i++){
    struct cv_import_item *p = &a->aItem[i];
    struct create_args c;
    cv_rc rc;
    memset(&c, 0, sizeof c);
    c.userId = a->userId;
    c.zTitle = p->zTitle;
    c.zMessages = p->zMessages;
    c.nMessages = p->nMessages;
    c.zClientId = p->zClientId;
    c.zCreatedAt = p->zCreatedAt;
    c.zUpdatedAt = p->zUpdatedAt;
    rc = insert_thread(pDb, &c);
    if( rc ) return rc;
    p->id = c.id;
    p->bImported = c.bInserted;
  }
  return CV_OK;
}

cv_rc sqlite_threads_import(struct cv_store *pS, int64_t userId,
                           struct cv_import_item *aItem, int nItem){
  struct import_args a = { userId, aItem, nItem };
  return db_write(pS, import_job, &a);
}
