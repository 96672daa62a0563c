/*
** store_threads.c — SQL for chat_threads. Appends are one UPDATE with
** json_insert(messages,'$[#]',...) so they never lose each other; the automatic title is
** applied here, inside the same write transaction, so the rule lives in one place.
** May call db, SQLite and util (times, automatic title).
*/
#include "store_threads.h"
#include "db.h"
#include "util.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void store_thread_clear(struct cv_thread *p){
  if( !p ) return;
  free(p->zTitle);
  free(p->zMessages);
  memset(p, 0, sizeof *p);
}

void store_threads_free_list(struct cv_thread *a, int n){
  int i;
  if( !a ) return;
  for(i=0; i<n; i++) store_thread_clear(&a[i]);
  free(a);
}

void store_append_clear(struct cv_append *p){
  if( !p ) return;
  free(p->zTitle);
  memset(p, 0, sizeof *p);
}

/* Columns: id, user_id, title, message_count, created_at, updated_at [, messages] */
#define THREAD_COLS "id, user_id, title, message_count, created_at, updated_at"
static cv_rc row_to_thread(sqlite3_stmt *pSt, int bMessages, struct cv_thread *pOut){
  cv_rc rc = CV_OK;
  memset(pOut, 0, sizeof *pOut);
  pOut->id = sqlite3_column_int64(pSt, 0);
  pOut->userId = sqlite3_column_int64(pSt, 1);
  pOut->zTitle = db_col_dup(pSt, 2, &rc);
  pOut->nMessages = sqlite3_column_int64(pSt, 3);
  db_col_copy(pSt, 4, pOut->zCreatedAt, sizeof pOut->zCreatedAt);
  db_col_copy(pSt, 5, pOut->zUpdatedAt, sizeof pOut->zUpdatedAt);
  if( bMessages ) pOut->zMessages = db_col_dup(pSt, 6, &rc);
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

/* When thread id still has the default title, name it after its first user message.
** Runs inside a write job. When pzTitle is not NULL it gets the title set (malloc'd, the
** caller frees it), or NULL when the title was left as it was. */
static cv_rc apply_auto_title(struct cv_db *pDb, int64_t id, char **pzTitle){
  static const char zFirst[] =
    "SELECT m.value->>'content' FROM chat_threads t, json_each(t.messages) m"
    " WHERE t.id=?1 AND t.title=?2 AND m.value->>'role'='user' ORDER BY m.key LIMIT 1";
  static const char zSet[] = "UPDATE chat_threads SET title=?2 WHERE id=?1";
  sqlite3_stmt *pSt;
  char *zTitle = NULL;
  int src;
  cv_rc rc;
  if( pzTitle ) *pzTitle = NULL;
  rc = db_stmt(pDb, zFirst, &pSt);
  if( rc ) return rc;
  sqlite3_bind_int64(pSt, 1, id);
  sqlite3_bind_text(pSt, 2, CV_DEFAULT_TITLE, -1, SQLITE_STATIC);
  src = sqlite3_step(pSt);
  if( src==SQLITE_ROW ){
    const char *zContent = (const char*)sqlite3_column_text(pSt, 0);
    if( zContent ) zTitle = util_auto_title(zContent, &rc);
  }else if( src!=SQLITE_DONE ){
    rc = db_rc(pDb, src);
  }
  db_reset(pSt);
  if( rc || !zTitle ) return rc;
  rc = db_stmt(pDb, zSet, &pSt);
  if( rc==CV_OK ){
    sqlite3_bind_int64(pSt, 1, id);
    sqlite3_bind_text(pSt, 2, zTitle, -1, SQLITE_STATIC);
    rc = db_step_done(pDb, pSt, NULL);
  }
  if( rc==CV_OK && pzTitle ) *pzTitle = zTitle;
  else free(zTitle);
  return rc;
}

/* Read thread id (owned by userId) with messages into *pOut, on any connection. */
static cv_rc read_thread(struct cv_db *pDb, int64_t userId, int64_t id, struct cv_thread *pOut){
  static const char zSql[] =
    "SELECT " THREAD_COLS ", messages FROM chat_threads WHERE id=?1 AND user_id=?2";
  sqlite3_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  sqlite3_bind_int64(pSt, 1, id);
  sqlite3_bind_int64(pSt, 2, userId);
  src = sqlite3_step(pSt);
  if( src==SQLITE_ROW ) rc = row_to_thread(pSt, 1, pOut);
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
  int64_t id;                    /* OUT */
  int bInserted;                 /* OUT */
  struct cv_thread *pOut;        /* OUT, may be NULL */
};

/* Insert one thread; the shared body of create and import. */
static cv_rc insert_thread(struct cv_db *pDb, struct create_args *a){
  static const char zIns[] =
    "INSERT INTO chat_threads(user_id, client_id, title, messages, message_count,"
    " created_at, updated_at) VALUES(?1,?2,?3,?4,?5,?6,?7)"
    " ON CONFLICT(user_id, client_id) WHERE client_id IS NOT NULL DO NOTHING RETURNING id";
  static const char zExisting[] =
    "SELECT id FROM chat_threads WHERE user_id=?1 AND client_id=?2";
  sqlite3_stmt *pSt;
  char zNow[CV_TS_LEN+1];
  int src;
  cv_rc rc = db_stmt(pDb, zIns, &pSt);
  if( rc ) return rc;
  util_iso_format(util_now_ms(), zNow);
  sqlite3_bind_int64(pSt, 1, a->userId);
  if( a->zClientId ) sqlite3_bind_text(pSt, 2, a->zClientId, -1, SQLITE_STATIC);
  sqlite3_bind_text(pSt, 3, a->zTitle ? a->zTitle : CV_DEFAULT_TITLE, -1, SQLITE_STATIC);
  sqlite3_bind_text(pSt, 4, a->zMessages ? a->zMessages : "[]", -1, SQLITE_STATIC);
  sqlite3_bind_int64(pSt, 5, a->zMessages ? a->nMessages : 0);
  sqlite3_bind_text(pSt, 6, a->zCreatedAt ? a->zCreatedAt : zNow, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(pSt, 7, a->zUpdatedAt ? a->zUpdatedAt
                            : a->zCreatedAt ? a->zCreatedAt : zNow, -1, SQLITE_TRANSIENT);
  src = sqlite3_step(pSt);
  a->bInserted = src==SQLITE_ROW;
  if( src==SQLITE_ROW ){
    a->id = sqlite3_column_int64(pSt, 0);
    src = sqlite3_step(pSt);
  }
  rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc ) return rc;
  if( !a->bInserted ){
    assert( a->zClientId );
    rc = db_stmt(pDb, zExisting, &pSt);
    if( rc ) return rc;
    sqlite3_bind_int64(pSt, 1, a->userId);
    sqlite3_bind_text(pSt, 2, a->zClientId, -1, SQLITE_STATIC);
    src = sqlite3_step(pSt);
    if( src==SQLITE_ROW ) a->id = sqlite3_column_int64(pSt, 0);
    else rc = src==SQLITE_DONE ? CV_DB : db_rc(pDb, src);
    db_reset(pSt);
    return rc;
  }
  if( !a->zTitle ) rc = apply_auto_title(pDb, a->id, NULL);
  return rc;
}

static cv_rc create_job(struct cv_db *pDb, void *pArg){
  struct create_args *a = pArg;
  cv_rc rc = insert_thread(pDb, a);
  if( rc==CV_OK && a->pOut ) rc = read_thread(pDb, a->userId, a->id, a->pOut);
  return rc;
}

cv_rc store_threads_create(struct cv_store *pS, int64_t userId, const char *zTitle,
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
  if( rc ) store_thread_clear(pOut);
  return rc;
}

cv_rc store_threads_get(struct cv_store *pS, int64_t userId, int64_t id, struct cv_thread *pOut){
  struct cv_db *pDb = db_reader(pS);
  cv_rc rc;
  memset(pOut, 0, sizeof *pOut);
  rc = read_thread(pDb, userId, id, pOut);
  db_reader_done(pS, pDb);
  return rc;
}

cv_rc store_threads_list(struct cv_store *pS, int64_t userId, int limit, int64_t offset,
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
    rc = row_to_thread(pSt, 0, &a[n]);
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
    "UPDATE chat_threads SET title=coalesce(?3,title), messages=coalesce(?4,messages),"
    " message_count=CASE WHEN ?4 IS NULL THEN message_count ELSE ?5 END, updated_at=?6"
    " WHERE id=?1 AND user_id=?2";
  struct update_args *a = pArg;
  sqlite3_stmt *pSt;
  char zNow[CV_TS_LEN+1];
  int nChanged;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  util_iso_format(util_now_ms(), zNow);
  sqlite3_bind_int64(pSt, 1, a->id);
  sqlite3_bind_int64(pSt, 2, a->userId);
  if( a->zTitle ) sqlite3_bind_text(pSt, 3, a->zTitle, -1, SQLITE_STATIC);
  if( a->zMessages ) sqlite3_bind_text(pSt, 4, a->zMessages, -1, SQLITE_STATIC);
  sqlite3_bind_int64(pSt, 5, a->nMessages);
  sqlite3_bind_text(pSt, 6, zNow, -1, SQLITE_STATIC);
  rc = db_step_done(pDb, pSt, &nChanged);
  if( rc ) return rc;
  if( nChanged==0 ) return why_missing(pDb, a->userId, a->id);
  if( a->zMessages ){
    rc = apply_auto_title(pDb, a->id, NULL);
    if( rc ) return rc;
  }
  return read_thread(pDb, a->userId, a->id, a->pOut);
}

cv_rc store_threads_update(struct cv_store *pS, int64_t userId, int64_t id,
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

cv_rc store_threads_delete(struct cv_store *pS, int64_t userId, int64_t id){
  struct delete_args a = { userId, id };
  return db_write(pS, delete_job, &a);
}

struct append_args {
  int64_t userId, id;
  const char *zMessage;
  struct cv_append *pOut;
};

/* UPDATE statements appending k messages with one json_insert of k '$[#]' pairs (k =
** 1..APPEND_CHUNK): ?1 thread id, ?2 updated_at, ?3.. the messages. Built once; their
** addresses are the statement-cache keys. */
#define APPEND_CHUNK 63          /* 1 + 2*63 = 127 = SQLITE_MAX_FUNCTION_ARG */
static char azAppendSql[APPEND_CHUNK+1][64 + APPEND_CHUNK*20 + 200];
static pthread_once_t appendSqlOnce = PTHREAD_ONCE_INIT;

static void build_append_sql(void){
  int k, j;
  for(k=1; k<=APPEND_CHUNK; k++){
    char *z = azAppendSql[k];
    size_t n = sizeof azAppendSql[k], used;
    used = (size_t)snprintf(z, n, "UPDATE chat_threads SET messages=json_insert(messages");
    for(j=0; j<k; j++) used += (size_t)snprintf(z+used, n-used, ",'$[#]',json(?%d)", j+3);
    snprintf(z+used, n-used, "), message_count=message_count+%d, updated_at=?2"
             " WHERE id=?1 RETURNING message_count, title", k);
  }
}

/* Appends to one thread from up to APPEND_CHUNK callers (db_write_grouped), applied with
** one UPDATE, so the row is rewritten once; its RETURNING gives the new count and the
** title (re-read only when the automatic title replaced the default). Jobs of another user
** get CV_FORBIDDEN and change nothing. */
static cv_rc append_many(struct cv_db *pDb, void **apArg, int nArg, cv_rc *aRc){
  static const char zOwner[] = "SELECT user_id FROM chat_threads WHERE id=?1";
  struct append_args *a0 = apArg[0];
  struct append_args *aOk[APPEND_CHUNK];
  sqlite3_stmt *pSt;
  char zNow[CV_TS_LEN+1];
  char *zTitleNow = NULL;
  int64_t owner = 0;
  int nOk = 0, i, src;
  int64_t after;
  cv_rc rc;
  assert( nArg>0 && nArg<=APPEND_CHUNK );
  pthread_once(&appendSqlOnce, build_append_sql);
  rc = db_stmt(pDb, zOwner, &pSt);
  if( rc ) return rc;
  sqlite3_bind_int64(pSt, 1, a0->id);
  src = sqlite3_step(pSt);
  if( src==SQLITE_ROW ) owner = sqlite3_column_int64(pSt, 0);
  else if( src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc ) return rc;
  for(i=0; i<nArg; i++){
    struct append_args *a = apArg[i];
    if( src==SQLITE_DONE ) aRc[i] = CV_NOTFOUND;
    else if( a->userId!=owner ) aRc[i] = CV_FORBIDDEN;
    else aOk[nOk++] = a;
  }
  if( nOk==0 ) return CV_OK;
  util_iso_format(util_now_ms(), zNow);
  rc = db_stmt(pDb, azAppendSql[nOk], &pSt);
  if( rc ) return rc;
  sqlite3_bind_int64(pSt, 1, a0->id);
  sqlite3_bind_text(pSt, 2, zNow, -1, SQLITE_STATIC);
  for(i=0; i<nOk; i++) sqlite3_bind_text(pSt, i+3, aOk[i]->zMessage, -1, SQLITE_STATIC);
  src = sqlite3_step(pSt);
  if( src!=SQLITE_ROW ){
    rc = src==SQLITE_DONE ? CV_DB : db_rc(pDb, src);
    db_reset(pSt);
    return rc;
  }
  after = sqlite3_column_int64(pSt, 0);
  zTitleNow = db_col_dup(pSt, 1, &rc);
  if( rc ){ db_reset(pSt); return rc; }
  rc = db_step_done(pDb, pSt, NULL);
  if( rc==CV_OK && zTitleNow && strcmp(zTitleNow, CV_DEFAULT_TITLE)==0 ){
    char *zAuto;
    rc = apply_auto_title(pDb, a0->id, &zAuto);
    if( zAuto ){ free(zTitleNow); zTitleNow = zAuto; }
  }
  if( rc ){ free(zTitleNow); return rc; }
  for(i=0; i<nOk; i++) aOk[i]->pOut->index = after - nOk + i;
  for(i=0; i<nOk && rc==CV_OK; i++){
    struct cv_append *pOut = aOk[i]->pOut;
    memcpy(pOut->zUpdatedAt, zNow, sizeof zNow);
    pOut->zTitle = strdup(zTitleNow ? zTitleNow : "");
    if( !pOut->zTitle ) rc = CV_NOMEM;
  }
  free(zTitleNow);
  return rc;
}

cv_rc store_threads_append(struct cv_store *pS, int64_t userId, int64_t id,
                           const char *zMessage, struct cv_append *pOut){
  struct append_args a = { userId, id, zMessage, pOut };
  cv_rc rc;
  memset(pOut, 0, sizeof *pOut);
  rc = db_write_grouped(pS, append_many, id, APPEND_CHUNK, &a);
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

cv_rc store_threads_import(struct cv_store *pS, int64_t userId,
                           struct cv_import_item *aItem, int nItem){
  struct import_args a = { userId, aItem, nItem };
  return db_write(pS, import_job, &a);
}
