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
#include "store_sqlite.h"
#include "util.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns: id, user_id, title, message_count, created_at, updated_at, pinned, archived,
** tags: all in the list's covering indexes (schema.sql, version 5). */
#define THREAD_COLS "id, user_id, title, message_count, created_at, updated_at, pinned," \
  " archived, tags"
#define THREAD_COLS_T "t.id, t.user_id, t.title, t.message_count, t.created_at, t.updated_at," \
  " t.pinned, t.archived, t.tags"
static cv_rc row_to_thread(cv_stmt *pSt, struct cv_thread *pOut){
  cv_rc rc = CV_OK;
  memset(pOut, 0, sizeof *pOut);
  pOut->id = db_column_int64(pSt, 0);
  pOut->userId = db_column_int64(pSt, 1);
  pOut->zTitle = db_col_dup(pSt, 2, &rc);
  pOut->nMessages = db_column_int64(pSt, 3);
  db_col_copy(pSt, 4, pOut->zCreatedAt, sizeof pOut->zCreatedAt);
  db_col_copy(pSt, 5, pOut->zUpdatedAt, sizeof pOut->zUpdatedAt);
  pOut->bPinned = db_column_int(pSt, 6)!=0;
  pOut->bArchived = db_column_int(pSt, 7)!=0;
  pOut->zTags = db_col_dup(pSt, 8, &rc);
  if( rc==CV_OK && (!pOut->zTitle || !pOut->zTags) ) rc = CV_NOMEM; /* NOT NULL: only OOM */
  if( rc ) store_thread_clear(pOut);
  return rc;
}

/* Tell a missing thread from another user's: CV_NOTFOUND or CV_FORBIDDEN. */
static cv_rc why_missing(struct cv_db *pDb, int64_t userId, int64_t id){
  static const char zSql[] = "SELECT user_id FROM chat_threads WHERE id=?1";
  cv_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, id);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) rc = db_column_int64(pSt, 0)==userId ? CV_DB : CV_FORBIDDEN;
  else if( src==SQLITE_DONE ) rc = CV_NOTFOUND;
  else rc = db_rc(pDb, src);
  db_reset(pSt);
  return rc;
}

/* Read the header of thread id (owned by userId) into *pOut, on any connection. */
static cv_rc read_thread(struct cv_db *pDb, int64_t userId, int64_t id, struct cv_thread *pOut){
  static const char zSql[] =
    "SELECT " THREAD_COLS " FROM chat_threads WHERE id=?1 AND user_id=?2";
  cv_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, id);
  db_bind_int64(pSt, 2, userId);
  src = db_step(pSt);
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
    "INSERT INTO chat_threads(id, user_id, client_id, title, message_count, message_bytes,"
    " created_at, updated_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)";
  const char *zTitle = a->zTitle ? a->zTitle : CV_DEFAULT_TITLE, *zCreated;
  char *zAuto = NULL;
  cv_stmt *pSt;
  int64_t nMessages = 0, nBytes = 0;
  int src;
  cv_rc rc;
  a->bInserted = 0;
  a->zNow[0] = 0;
  if( a->zClientId ){
    rc = db_stmt(pDb, zExisting, &pSt);
    if( rc ) return rc;
    db_bind_int64(pSt, 1, a->userId);
    db_bind_text(pSt, 2, a->zClientId, -1, SQLITE_STATIC);
    src = db_step(pSt);
    if( src==SQLITE_ROW ) a->id = db_column_int64(pSt, 0);
    else if( src!=SQLITE_DONE ) rc = db_rc(pDb, src);
    db_reset(pSt);
    if( rc || src==SQLITE_ROW ) return rc;
  }
  if( !a->zCreatedAt ){              /* an import keeps its own times: no "now" needed */
    rc = store_conv_next_ts(pDb, CV_CONV_THREAD, a->userId, a->zNow);
    if( rc ) return rc;
  }
  zCreated = a->zCreatedAt ? a->zCreatedAt : a->zNow;
  rc = store_conv_create(pDb, CV_CONV_THREAD, a->userId, &a->id);
  if( rc ) return rc;
  /* the messages first, then the header once with its final count, size and title */
  if( a->zMessages && a->nMessages>0 ){
    nMessages = a->nMessages;
    rc = store_conv_replace(pDb, a->id, a->zMessages, nMessages, &nBytes);
    if( rc==CV_OK ){
      rc = store_conv_admit_new(pDb, CV_CONV_THREAD, a->userId, a->id, nMessages, nBytes,
                                zTitle, &zAuto);
    }
    if( rc ) return rc;
  }
  rc = db_stmt(pDb, zIns, &pSt);
  if( rc ) goto out;
  db_bind_int64(pSt, 1, a->id);
  db_bind_int64(pSt, 2, a->userId);
  if( a->zClientId ) db_bind_text(pSt, 3, a->zClientId, -1, SQLITE_STATIC);
  db_bind_text(pSt, 4, zAuto ? zAuto : zTitle, -1, SQLITE_STATIC);
  db_bind_int64(pSt, 5, nMessages);
  db_bind_int64(pSt, 6, nBytes);
  db_bind_text(pSt, 7, zCreated, -1, SQLITE_STATIC);
  db_bind_text(pSt, 8, a->zUpdatedAt ? a->zUpdatedAt : zCreated, -1, SQLITE_STATIC);
  rc = db_step_done(pDb, pSt, NULL);
  if( rc ) goto out;
  a->bInserted = 1;
  if( a->pOut ){ a->zTitleSet = zAuto; zAuto = NULL; }
out:
  free(zAuto);
  return rc;
}

/* Create, and fill *pOut from what was written (no read back). */
static cv_rc create_job(struct cv_db *pDb, void *pArg){
  struct create_args *a = pArg;
  struct cv_thread *t = a->pOut;
  cv_rc rc;
  /* an earlier try's output freed first (db.h, db_write) */
  store_thread_clear(t);
  free(a->zTitleSet);
  a->zTitleSet = NULL;
  rc = insert_thread(pDb, a);
  if( rc ) return rc;
  t->id = a->id;
  t->userId = a->userId;
  t->nMessages = a->zMessages ? a->nMessages : 0;
  t->zTitle = a->zTitleSet ? a->zTitleSet : strdup(a->zTitle ? a->zTitle : CV_DEFAULT_TITLE);
  a->zTitleSet = NULL;
  t->zTags = strdup("[]");        /* a new thread: not pinned, not archived, no tags */
  memcpy(t->zCreatedAt, a->zNow, sizeof t->zCreatedAt);
  memcpy(t->zUpdatedAt, a->zNow, sizeof t->zUpdatedAt);
  return t->zTitle && t->zTags ? CV_OK : CV_NOMEM;
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

/* The list's statements (static: the statement cache is keyed by address). Keyset
** variants ("_AFTER") seek with the row value (updated_at, id) < (?4, ?5) in the index's own
** order, so a deep page costs what the first costs. ?1 user, ?2 limit, ?3 offset.
**   - no pinned or tag filter: literal archived terms, so `archived=true` uses the partial
**     index chat_threads_user_archived and the others chat_threads_user_list (both
**     covering);
**   - pinned=true: the partial index chat_threads_user_pinned (pinned threads only);
**   - a tag: driven from thread_tags (the tag's rows only), sorted: O(threads with the tag);
**   - pinned=false alone: chat_threads_user_list, skipping the pinned threads.
** ?6 archived (-1 any, 0, 1), ?7 tag key or NULL, ?8 pinned (-1 any, 0, 1). */
#define LIST_ORDER " ORDER BY updated_at DESC, id DESC LIMIT ?2 OFFSET ?3"
#define LIST_ORDER_T " ORDER BY t.updated_at DESC, t.id DESC LIMIT ?2 OFFSET ?3"
#define AFTER " AND (updated_at, id) < (?4, ?5)"
#define AFTER_T " AND (t.updated_at, t.id) < (?4, ?5)"
#define ARCHIVED_T " AND (?6 < 0 OR t.archived = ?6)"
#define TAG_EXISTS " AND (?7 IS NULL OR EXISTS (SELECT 1 FROM thread_tags g" \
  " WHERE g.thread_id = t.id AND g.tag_key = ?7))"
static const char *const azList[2][3] = {
  { /* from the top: archived false, true, any */
    "SELECT " THREAD_COLS " FROM chat_threads WHERE user_id=?1 AND archived=0" LIST_ORDER,
    "SELECT " THREAD_COLS " FROM chat_threads INDEXED BY chat_threads_user_archived"
    " WHERE user_id=?1 AND archived=1" LIST_ORDER,
    "SELECT " THREAD_COLS " FROM chat_threads WHERE user_id=?1" LIST_ORDER },
  { /* after a cursor */
    "SELECT " THREAD_COLS " FROM chat_threads WHERE user_id=?1 AND archived=0" AFTER LIST_ORDER,
    "SELECT " THREAD_COLS " FROM chat_threads INDEXED BY chat_threads_user_archived"
    " WHERE user_id=?1 AND archived=1" AFTER LIST_ORDER,
    "SELECT " THREAD_COLS " FROM chat_threads WHERE user_id=?1" AFTER LIST_ORDER },
};
static const char *const azListPinned[2] = {
  "SELECT " THREAD_COLS_T " FROM chat_threads t INDEXED BY chat_threads_user_pinned"
  " WHERE t.user_id=?1 AND t.pinned=1" ARCHIVED_T TAG_EXISTS LIST_ORDER_T,
  "SELECT " THREAD_COLS_T " FROM chat_threads t INDEXED BY chat_threads_user_pinned"
  " WHERE t.user_id=?1 AND t.pinned=1" ARCHIVED_T TAG_EXISTS AFTER_T LIST_ORDER_T,
};
static const char *const azListTag[2] = {
  "SELECT " THREAD_COLS_T " FROM thread_tags g CROSS JOIN chat_threads t ON t.id=g.thread_id"
  " WHERE g.user_id=?1 AND g.tag_key=?7 AND t.user_id=?1" ARCHIVED_T
  " AND (?8 < 0 OR t.pinned = ?8)" LIST_ORDER_T,
  "SELECT " THREAD_COLS_T " FROM thread_tags g CROSS JOIN chat_threads t ON t.id=g.thread_id"
  " WHERE g.user_id=?1 AND g.tag_key=?7 AND t.user_id=?1" ARCHIVED_T
  " AND (?8 < 0 OR t.pinned = ?8)" AFTER_T LIST_ORDER_T,
};
static const char *const azListUnpinned[2] = {
  "SELECT " THREAD_COLS_T " FROM chat_threads t WHERE t.user_id=?1 AND t.pinned=0" ARCHIVED_T
  LIST_ORDER_T,
  "SELECT " THREAD_COLS_T " FROM chat_threads t WHERE t.user_id=?1 AND t.pinned=0" ARCHIVED_T
  AFTER_T LIST_ORDER_T,
};
/* Counts: ?1 user, ?2 archived (-1 any, 0, 1), ?3 tag key or NULL, ?4 pinned (-1, 0, 1). */
static const char zCountUser[] = "SELECT thread_count, archived_count FROM users WHERE id=?1";
static const char zCountPinned[] =
  "SELECT count(*) FROM chat_threads t INDEXED BY chat_threads_user_pinned"
  " WHERE t.user_id=?1 AND t.pinned=1 AND (?2 < 0 OR t.archived = ?2)"
  " AND (?3 IS NULL OR EXISTS (SELECT 1 FROM thread_tags g"
  " WHERE g.thread_id = t.id AND g.tag_key = ?3))";
static const char zCountTag[] =
  "SELECT count(*) FROM thread_tags g CROSS JOIN chat_threads t ON t.id=g.thread_id"
  " WHERE g.user_id=?1 AND g.tag_key=?3 AND t.user_id=?1 AND (?2 < 0 OR t.archived = ?2)"
  " AND (?4 < 0 OR t.pinned = ?4)";

static int filter_arg(enum cv_filter e){
  return e==CV_FILTER_ANY ? -1 : e==CV_FILTER_YES;
}

/* *pnTotal of the list with filter *pF, on pDb inside the list's snapshot. */
static cv_rc list_count(struct cv_db *pDb, int64_t userId, const struct cv_thread_filter *pF,
                        int64_t *pnTotal){
  cv_stmt *pSt;
  int64_t nAll = 0, nArchived = 0, nBase, nPinned;
  int src;
  cv_rc rc;
  if( pF->ePinned==CV_FILTER_YES || pF->zTagKey ){
    const char *zSql = pF->ePinned==CV_FILTER_YES ? zCountPinned : zCountTag;
    rc = db_stmt(pDb, zSql, &pSt);
    if( rc ) return rc;
    db_bind_int64(pSt, 1, userId);
    db_bind_int(pSt, 2, filter_arg(pF->eArchived));
    if( pF->zTagKey ) db_bind_text(pSt, 3, pF->zTagKey, -1, SQLITE_STATIC);
    if( zSql==zCountTag ) db_bind_int(pSt, 4, filter_arg(pF->ePinned));
    src = db_step(pSt);
    if( src==SQLITE_ROW ) *pnTotal = db_column_int64(pSt, 0);
    else rc = db_rc(pDb, src);
    db_reset(pSt);
    return rc;
  }
  /* users.thread_count and archived_count are kept by triggers: O(1), not a count(*) */
  rc = db_stmt(pDb, zCountUser, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, userId);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    nAll = db_column_int64(pSt, 0);
    nArchived = db_column_int64(pSt, 1);
  }else if( src!=SQLITE_DONE ){
    rc = db_rc(pDb, src);
  }
  db_reset(pSt);
  if( rc ) return rc;
  nBase = pF->eArchived==CV_FILTER_ANY ? nAll
        : pF->eArchived==CV_FILTER_YES ? nArchived : nAll - nArchived;
  if( pF->ePinned==CV_FILTER_ANY ){ *pnTotal = nBase; return CV_OK; }
  /* pinned=false: the others minus the pinned ones (few, counted in their own index) */
  rc = db_stmt(pDb, zCountPinned, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, userId);
  db_bind_int(pSt, 2, filter_arg(pF->eArchived));
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    nPinned = db_column_int64(pSt, 0);
    *pnTotal = nBase - nPinned;
  }else{
    rc = db_rc(pDb, src);
  }
  db_reset(pSt);
  return rc;
}

cv_rc sqlite_threads_list(struct cv_store *pS, int64_t userId, const struct cv_thread_filter *pF,
                         struct cv_page *pPage, struct cv_thread **paOut, int *pnOut,
                         int64_t *pnTotal){
  struct cv_db *pDb = db_reader(pS);
  struct cv_thread *a = NULL;
  cv_stmt *pSt;
  const char *zSql;
  int n = 0, src = SQLITE_DONE, limit = pPage->limit, bAfter = pPage->zAfterKey!=NULL;
  cv_rc rc;
  assert( limit>0 && limit<=CV_LIST_MAX && pPage->offset>=0 );
  assert( !bAfter || pPage->offset==0 );
  *paOut = NULL;
  *pnOut = 0;
  *pnTotal = 0;
  pPage->bMore = 0;
  if( pF->ePinned==CV_FILTER_YES ) zSql = azListPinned[bAfter];
  else if( pF->zTagKey ) zSql = azListTag[bAfter];
  else if( pF->ePinned==CV_FILTER_NO ) zSql = azListUnpinned[bAfter];
  else zSql = azList[bAfter][pF->eArchived==CV_FILTER_NO ? 0 : pF->eArchived==CV_FILTER_YES ? 1 : 2];
  rc = db_run(pDb, "BEGIN");      /* count and page from one snapshot */
  if( rc ) goto out;
  rc = list_count(pDb, userId, pF, pnTotal);
  if( rc ) goto end;
  a = calloc((size_t)limit, sizeof *a);
  if( !a ){ rc = CV_NOMEM; goto end; }
  rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) goto end;
  db_bind_int64(pSt, 1, userId);
  db_bind_int(pSt, 2, limit + 1);        /* one more: is there a next page? */
  db_bind_int64(pSt, 3, pPage->offset);
  if( bAfter ){
    db_bind_text(pSt, 4, pPage->zAfterKey, -1, SQLITE_STATIC);
    db_bind_int64(pSt, 5, pPage->afterId);
  }
  db_bind_int(pSt, 6, filter_arg(pF->eArchived));
  if( pF->zTagKey ) db_bind_text(pSt, 7, pF->zTagKey, -1, SQLITE_STATIC);
  db_bind_int(pSt, 8, filter_arg(pF->ePinned));
  while( (src = db_step(pSt))==SQLITE_ROW ){
    if( n==limit ){ pPage->bMore = 1; break; }
    rc = row_to_thread(pSt, &a[n]);
    if( rc ) break;
    n++;
  }
  if( rc==CV_OK && src!=SQLITE_ROW && src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
end:
  db_run(pDb, "COMMIT");
out:
  db_reader_done(pS, pDb);
  if( rc ){
    store_threads_free_list(a, n);
    pPage->bMore = 0;
    return rc;
  }
  if( n==0 ){ free(a); a = NULL; }
  *paOut = a;
  *pnOut = n;
  return CV_OK;
}

struct update_args {
  int64_t userId, id;
  const char *zTitle, *zMessages;
  int64_t nMessages;
  const struct cv_thread_org *pOrg;
  struct cv_thread *pOut;
};

/* Replace the tags of thread id (owned by userId, checked) with *pSet: each key the user
** has on another thread takes that thread's spelling; thread_tags and the JSON column
** chat_threads.tags (sorted by key, then spelling) are written together. */
static cv_rc set_tags(struct cv_db *pDb, int64_t userId, int64_t id, const struct cv_tagset *pSet){
  static const char zDel[] = "DELETE FROM thread_tags WHERE thread_id=?1";
  static const char zSpelling[] =
    "SELECT tag FROM thread_tags WHERE user_id=?1 AND tag_key=?2 AND thread_id<>?3 LIMIT 1";
  static const char zIns[] =
    "INSERT INTO thread_tags(thread_id, user_id, tag_key, tag) VALUES(?1,?2,?3,?4)";
  static const char zJson[] =
    "UPDATE chat_threads SET tags=(SELECT json_group_array(tag) FROM"
    " (SELECT tag FROM thread_tags WHERE thread_id=?1 ORDER BY tag_key, tag)) WHERE id=?1";
  cv_stmt *pSt;
  int i, src;
  cv_rc rc = db_stmt(pDb, zDel, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, id);
  rc = db_step_done(pDb, pSt, NULL);
  for(i=0; rc==CV_OK && i<pSet->n; i++){
    char *zOther = NULL;
    rc = db_stmt(pDb, zSpelling, &pSt);
    if( rc ) break;
    db_bind_int64(pSt, 1, userId);
    db_bind_text(pSt, 2, pSet->a[i].zKey, -1, SQLITE_STATIC);
    db_bind_int64(pSt, 3, id);
    src = db_step(pSt);
    if( src==SQLITE_ROW ) zOther = db_col_dup(pSt, 0, &rc);
    else if( src!=SQLITE_DONE ) rc = db_rc(pDb, src);
    db_reset(pSt);
    if( rc==CV_OK ) rc = db_stmt(pDb, zIns, &pSt);
    if( rc==CV_OK ){
      db_bind_int64(pSt, 1, id);
      db_bind_int64(pSt, 2, userId);
      db_bind_text(pSt, 3, pSet->a[i].zKey, -1, SQLITE_STATIC);
      db_bind_text(pSt, 4, zOther ? zOther : pSet->a[i].zTag, -1, SQLITE_TRANSIENT);
      rc = db_step_done(pDb, pSt, NULL);
    }
    free(zOther);
  }
  if( rc ) return rc;
  rc = db_stmt(pDb, zJson, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, id);
  return db_step_done(pDb, pSt, NULL);
}

static cv_rc update_job(struct cv_db *pDb, void *pArg){
  /* organizing (pinned, archived) leaves updated_at alone: ?4 is NULL then */
  static const char zSql[] =
    "UPDATE chat_threads SET title=coalesce(?3,title), updated_at=coalesce(?4,updated_at),"
    " pinned=coalesce(?5,pinned), archived=coalesce(?6,archived)"
    " WHERE id=?1 AND user_id=?2";
  struct update_args *a = pArg;
  const struct cv_thread_org *pOrg = a->pOrg;
  cv_stmt *pSt;
  char zNow[CV_TS_LEN+1];
  int nChanged;
  cv_rc rc = CV_OK;
  /* an earlier try's output freed first (db.h, db_write) */
  store_thread_clear(a->pOut);
  if( a->zTitle || a->zMessages ){
    rc = store_conv_next_ts(pDb, CV_CONV_THREAD, a->userId, zNow);
    if( rc ) return rc;
  }
  rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, a->id);
  db_bind_int64(pSt, 2, a->userId);
  if( a->zTitle ) db_bind_text(pSt, 3, a->zTitle, -1, SQLITE_STATIC);
  if( a->zTitle || a->zMessages ) db_bind_text(pSt, 4, zNow, -1, SQLITE_STATIC);
  if( pOrg && pOrg->bPinned>=0 ) db_bind_int(pSt, 5, pOrg->bPinned!=0);
  if( pOrg && pOrg->bArchived>=0 ) db_bind_int(pSt, 6, pOrg->bArchived!=0);
  rc = db_step_done(pDb, pSt, &nChanged);
  if( rc ) return rc;
  if( nChanged==0 ) return why_missing(pDb, a->userId, a->id);
  if( pOrg && pOrg->pTags ){
    rc = set_tags(pDb, a->userId, a->id, pOrg->pTags);
    if( rc ) return rc;
  }
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
                           const struct cv_thread_org *pOrg, struct cv_thread *pOut){
  struct update_args a = { userId, id, zTitle, zMessages, nMessages, pOrg, pOut };
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
  cv_stmt *pSt;
  int nChanged;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, a->id);
  db_bind_int64(pSt, 2, a->userId);
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
  cv_stmt *pSt;
  char zNow[CV_TS_LEN+1];
  char *zTitle = NULL;
  int64_t owner = 0, nBefore = 0, iFirst = 0, nBytes = 0, nUserBytes = 0, nGrow = 0;
  int nOk = 0, i, src;
  cv_rc rc;
  assert( nArg>0 && nArg<=APPEND_GROUP );
  /* an earlier try's output freed first (db.h, db_write) */
  for(i=0; i<nArg; i++) store_append_clear(((struct append_args*)apArg[i])->pOut);
  rc = db_stmt(pDb, zHead, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, a0->id);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    owner = db_column_int64(pSt, 0);
    nBefore = db_column_int64(pSt, 1);
    nBytes = db_column_int64(pSt, 2);
    nUserBytes = db_column_int64(pSt, 3);
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

cv_rc sqlite_threads_insert_import(struct cv_db *pDb, int64_t userId,
                                   struct cv_import_item *p){
  struct create_args c;
  cv_rc rc;
  memset(&c, 0, sizeof c);
  c.userId = userId;
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
  if( c.bInserted && (p->bPinned || p->bArchived) ){
    static const char zOrg[] = "UPDATE chat_threads SET pinned=?2, archived=?3 WHERE id=?1";
    cv_stmt *pSt;
    rc = db_stmt(pDb, zOrg, &pSt);
    if( rc ) return rc;
    db_bind_int64(pSt, 1, c.id);
    db_bind_int(pSt, 2, p->bPinned!=0);
    db_bind_int(pSt, 3, p->bArchived!=0);
    rc = db_step_done(pDb, pSt, NULL);
  }
  if( rc==CV_OK && c.bInserted && p->pTags && p->pTags->n>0 ){
    rc = set_tags(pDb, userId, c.id, p->pTags);
  }
  return rc;
}

static cv_rc import_job(struct cv_db *pDb, void *pArg){
  struct import_args *a = pArg;
  int i;
  for(i=0; i<a->nItem; i++){
    cv_rc rc = sqlite_threads_insert_import(pDb, a->userId, &a->aItem[i]);
    if( rc ) return rc;
  }
  return CV_OK;
}

cv_rc sqlite_threads_import(struct cv_store *pS, int64_t userId,
                           struct cv_import_item *aItem, int nItem){
  struct import_args a = { userId, aItem, nItem };
  return db_write(pS, import_job, &a);
}

cv_rc sqlite_threads_tags(struct cv_store *pS, int64_t userId, struct cv_tag_count **paOut,
                         int *pnOut){
  /* every row of one key has the same spelling (set_tags); min() only makes that explicit */
  static const char zSql[] =
    "SELECT min(tag), count(*) FROM thread_tags WHERE user_id=?1 GROUP BY tag_key"
    " ORDER BY tag_key";
  struct cv_db *pDb = db_reader(pS);
  struct cv_tag_count *a = NULL;
  cv_stmt *pSt;
  int n = 0, nAlloc = 0, src = SQLITE_DONE;
  cv_rc rc;
  *paOut = NULL;
  *pnOut = 0;
  rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) goto out;
  db_bind_int64(pSt, 1, userId);
  while( (src = db_step(pSt))==SQLITE_ROW ){
    if( n==nAlloc ){
      int nNew = nAlloc ? nAlloc*2 : 16;
      struct cv_tag_count *aNew = realloc(a, (size_t)nNew * sizeof *a);
      if( !aNew ){ rc = CV_NOMEM; break; }
      a = aNew;
      nAlloc = nNew;
    }
    a[n].zTag = db_col_dup(pSt, 0, &rc);
    a[n].n = db_column_int64(pSt, 1);
    if( rc==CV_OK && !a[n].zTag ) rc = CV_NOMEM;
    if( rc ) break;
    n++;
  }
  if( rc==CV_OK && src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
out:
  db_reader_done(pS, pDb);
  if( rc ){ store_tag_counts_free(a, n); return rc; }
  if( n==0 ){ free(a); a = NULL; }
  *paOut = a;
  *pnOut = n;
  return CV_OK;
}

/* ---- threads shared with other accounts (thread_members, schema version 8) ---- */

/* row_to_thread, then column 9 (1 when the reader owns the thread) and 10 (the owner's
** display name): a member's row gets bShared and zOwnerName. *pbOwner may be NULL. */
static cv_rc row_to_view(cv_stmt *pSt, struct cv_thread *pOut, int *pbOwner){
  int bOwner = db_column_int(pSt, 9)!=0;
  cv_rc rc = row_to_thread(pSt, pOut);
  if( rc ) return rc;
  if( pbOwner ) *pbOwner = bOwner;
  if( !bOwner ){
    pOut->bShared = 1;
    if( db_column_type(pSt, 10)!=SQLITE_NULL ){
      pOut->zOwnerName = db_col_dup(pSt, 10, &rc);
      if( rc==CV_OK && !pOut->zOwnerName ) rc = CV_NOMEM;
    }
  }
  if( rc ) store_thread_clear(pOut);
  return rc;
}

cv_rc sqlite_threads_view(struct cv_read *pRd, int64_t userId, int64_t id, struct cv_thread *pOut,
                          int *pbOwner){
  /* owner or member in one statement: the primary key of thread_members answers EXISTS */
  static const char zSql[] =
    "SELECT " THREAD_COLS_T ", t.user_id=?2, u.display_name"
    " FROM chat_threads t JOIN users u ON u.id=t.user_id"
    " WHERE t.id=?1 AND (t.user_id=?2 OR EXISTS (SELECT 1 FROM thread_members m"
    " WHERE m.thread_id=t.id AND m.user_id=?2))";
  struct cv_db *pDb = pRd->pDb;
  cv_stmt *pSt;
  int src, bOwner = 0;
  cv_rc rc;
  memset(pOut, 0, sizeof *pOut);
  if( pbOwner ) *pbOwner = 0;
  rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, id);
  db_bind_int64(pSt, 2, userId);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) rc = row_to_view(pSt, pOut, &bOwner);
  else if( src==SQLITE_DONE ) rc = CV_NOTFOUND;
  else rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc==CV_NOTFOUND ) rc = why_missing(pDb, userId, id);
  if( rc==CV_OK && pbOwner ) *pbOwner = bOwner;
  return rc;
}

/* The shared list: driven from the member's rows (index thread_members_user), sorted by the
** threads' (updated_at, id) in a temporary b-tree: O(threads shared with the reader), which
** a person reads one by one, not O(the file). ?1 user, ?2 limit, ?3 offset, ?4/?5 after. */
#define SHARED_FROM " FROM thread_members m JOIN chat_threads t ON t.id=m.thread_id" \
  " JOIN users u ON u.id=t.user_id WHERE m.user_id=?1"
static const char *const azListShared[2] = {
  "SELECT " THREAD_COLS_T ", 0, u.display_name" SHARED_FROM LIST_ORDER_T,
  "SELECT " THREAD_COLS_T ", 0, u.display_name" SHARED_FROM AFTER_T LIST_ORDER_T,
};

cv_rc sqlite_threads_list_shared(struct cv_store *pS, int64_t userId, struct cv_page *pPage,
                                 struct cv_thread **paOut, int *pnOut, int64_t *pnTotal){
  static const char zCount[] = "SELECT count(*) FROM thread_members WHERE user_id=?1";
  struct cv_db *pDb = db_reader(pS);
  struct cv_thread *a = NULL;
  cv_stmt *pSt;
  int n = 0, src = SQLITE_DONE, limit = pPage->limit, bAfter = pPage->zAfterKey!=NULL;
  cv_rc rc;
  assert( limit>0 && limit<=CV_LIST_MAX && pPage->offset>=0 );
  assert( !bAfter || pPage->offset==0 );
  *paOut = NULL;
  *pnOut = 0;
  *pnTotal = 0;
  pPage->bMore = 0;
  rc = db_run(pDb, "BEGIN");      /* count and page from one snapshot */
  if( rc ) goto out;
  rc = db_stmt(pDb, zCount, &pSt);
  if( rc ) goto end;
  db_bind_int64(pSt, 1, userId);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) *pnTotal = db_column_int64(pSt, 0);
  else rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc ) goto end;
  a = calloc((size_t)limit, sizeof *a);
  if( !a ){ rc = CV_NOMEM; goto end; }
  rc = db_stmt(pDb, azListShared[bAfter], &pSt);
  if( rc ) goto end;
  db_bind_int64(pSt, 1, userId);
  db_bind_int(pSt, 2, limit + 1);        /* one more: is there a next page? */
  db_bind_int64(pSt, 3, pPage->offset);
  if( bAfter ){
    db_bind_text(pSt, 4, pPage->zAfterKey, -1, SQLITE_STATIC);
    db_bind_int64(pSt, 5, pPage->afterId);
  }
  while( (src = db_step(pSt))==SQLITE_ROW ){
    if( n==limit ){ pPage->bMore = 1; break; }
    rc = row_to_view(pSt, &a[n], NULL);
    if( rc ) break;
    n++;
  }
  if( rc==CV_OK && src!=SQLITE_ROW && src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
end:
  db_run(pDb, "COMMIT");
out:
  db_reader_done(pS, pDb);
  if( rc ){
    store_threads_free_list(a, n);
    *pnTotal = 0;
    pPage->bMore = 0;
    return rc;
  }
  if( n==0 ){ free(a); a = NULL; }
  *paOut = a;
  *pnOut = n;
  return CV_OK;
}

/* ---- message edits (issue 13): each one write job on the segments that hold the messages ---- */

/* The message_count of thread id if userId owns it; otherwise why_missing's answer (a
** member is not the owner: CV_FORBIDDEN, as for any write). */
static cv_rc owned_count(struct cv_db *pDb, int64_t userId, int64_t id, int64_t *pn){
  static const char zSql[] =
    "SELECT message_count FROM chat_threads WHERE id=?1 AND user_id=?2";
  cv_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, id);
  db_bind_int64(pSt, 2, userId);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) *pn = db_column_int64(pSt, 0);
  else if( src==SQLITE_DONE ) rc = CV_NOTFOUND;
  else rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc==CV_NOTFOUND ) rc = why_missing(pDb, userId, id);
  return rc;
}

struct edit_args {
  int64_t userId, id, iIndex;
  const char *zContent, *zRole;
  struct cv_msg_edit *pOut;
};

static cv_rc edit_job(struct cv_db *pDb, void *pArg){
  struct edit_args *a = pArg;
  struct cv_msg_edit *o = a->pOut;
  char *zRole = NULL;
  int64_t nCount = 0, nBytes = 0;
  cv_rc rc;
  memset(o, 0, sizeof *o);       /* an earlier try's output cleared first (db.h, db_write) */
  rc = owned_count(pDb, a->userId, a->id, &nCount);
  if( rc ) return rc;
  if( a->iIndex>=nCount ){ o->bPastEnd = 1; return CV_NOTFOUND; }
  rc = store_conv_next_ts(pDb, CV_CONV_THREAD, a->userId, o->zUpdatedAt);
  if( rc==CV_OK ) rc = store_conv_set_content(pDb, a->id, a->iIndex, a->zContent, a->zRole,
                                              &zRole, &nBytes);
  if( rc==CV_NOTFOUND ) return CV_DB;        /* header and segments disagree */
  if( rc==CV_OK ) rc = store_conv_touch(pDb, CV_CONV_THREAD, a->id, nCount, nBytes,
                                       o->zUpdatedAt, NULL);
  if( rc==CV_OK ){
    o->index = a->iIndex;
    o->nMessages = nCount;
    if( strlen(zRole) >= sizeof o->zRole ) rc = CV_DB;
    else memcpy(o->zRole, zRole, strlen(zRole) + 1);
  }
  free(zRole);
  return rc;
}

cv_rc sqlite_threads_edit_message(struct cv_store *pS, int64_t userId, int64_t id,
                                  int64_t iIndex, const char *zContent, const char *zRole,
                                  struct cv_msg_edit *pOut){
  struct edit_args a = { userId, id, iIndex, zContent, zRole, pOut };
  assert( iIndex>=0 && zContent );
  memset(pOut, 0, sizeof *pOut);
  return db_write(pS, edit_job, &a);
}

static cv_rc truncate_job(struct cv_db *pDb, void *pArg){
  struct edit_args *a = pArg;
  struct cv_msg_edit *o = a->pOut;
  int64_t nCount = 0, nLeft = 0, nBytes = 0;
  cv_rc rc;
  memset(o, 0, sizeof *o);       /* an earlier try's output cleared first (db.h, db_write) */
  rc = owned_count(pDb, a->userId, a->id, &nCount);
  if( rc ) return rc;
  if( a->iIndex>nCount ){ o->bPastEnd = 1; return CV_NOTFOUND; }
  o->index = a->iIndex;
  o->nMessages = nCount;
  if( a->iIndex==nCount ) return CV_OK;       /* nothing after the end: no change at all */
  rc = store_conv_next_ts(pDb, CV_CONV_THREAD, a->userId, o->zUpdatedAt);
  if( rc==CV_OK ) rc = store_conv_truncate(pDb, a->id, a->iIndex, &nLeft, &nBytes);
  if( rc==CV_OK && nLeft!=a->iIndex ) rc = CV_DB;   /* header and segments disagree */
  if( rc==CV_OK ) rc = store_conv_touch(pDb, CV_CONV_THREAD, a->id, nLeft, nBytes,
                                       o->zUpdatedAt, NULL);
  if( rc==CV_OK ) o->nMessages = nLeft;
  return rc;
}

cv_rc sqlite_threads_truncate(struct cv_store *pS, int64_t userId, int64_t id, int64_t iFrom,
                              struct cv_msg_edit *pOut){
  struct edit_args a = { userId, id, iFrom, NULL, NULL, pOut };
  assert( iFrom>=0 );
  memset(pOut, 0, sizeof *pOut);
  return db_write(pS, truncate_job, &a);
}

struct drop_args {
  int64_t userId, id;
  int64_t iUser;                 /* OUT */
  char *zContent;                /* OUT */
};

static cv_rc drop_job(struct cv_db *pDb, void *pArg){
  struct drop_args *a = pArg;
  int64_t nCount = 0, nLeft = 0, nBytes = 0;
  char zNow[CV_TS_LEN+1];
  cv_rc rc;
  /* an earlier try's output freed first (db.h, db_write) */
  free(a->zContent);
  a->zContent = NULL;
  a->iUser = -1;
  rc = owned_count(pDb, a->userId, a->id, &nCount);
  if( rc ) return rc;
  rc = store_conv_last_user(pDb, a->id, &a->iUser, &a->zContent);
  if( rc ) return rc;
  if( a->iUser<0 ) return CV_INVALID;          /* no user message: nothing to answer */
  if( a->iUser + 1 == nCount ) return CV_OK;   /* no reply after it yet */
  rc = store_conv_next_ts(pDb, CV_CONV_THREAD, a->userId, zNow);
  if( rc==CV_OK ) rc = store_conv_truncate(pDb, a->id, a->iUser + 1, &nLeft, &nBytes);
  if( rc==CV_OK && nLeft!=a->iUser + 1 ) rc = CV_DB;
  if( rc==CV_OK ) rc = store_conv_touch(pDb, CV_CONV_THREAD, a->id, nLeft, nBytes, zNow, NULL);
  return rc;
}

cv_rc sqlite_threads_drop_replies(struct cv_store *pS, int64_t userId, int64_t id,
                                  int64_t *piUser, char **pzContent){
  struct drop_args a;
  cv_rc rc;
  memset(&a, 0, sizeof a);
  a.userId = userId;
  a.id = id;
  a.iUser = -1;
  rc = db_write(pS, drop_job, &a);
  if( rc ){ free(a.zContent); a.zContent = NULL; a.iUser = -1; }
  *piUser = a.iUser;
  *pzContent = a.zContent;
  return rc;
}

struct fork_args {
  int64_t userId, id, nUpto;
  const char *zTitle;
  int64_t newId;                 /* OUT */
  int bPastEnd;                  /* OUT */
};

static cv_rc fork_job(struct cv_db *pDb, void *pArg){
  /* the owner or a member may read the source (store_threads_view's rule) */
  static const char zSrc[] =
    "SELECT t.title, t.message_count FROM chat_threads t WHERE t.id=?1 AND (t.user_id=?2"
    " OR EXISTS (SELECT 1 FROM thread_members m WHERE m.thread_id=t.id AND m.user_id=?2))";
  struct fork_args *a = pArg;
  struct create_args c;
  cv_stmt *pSt;
  char *zSrcTitle = NULL;
  int64_t nCount = 0, nUpto, nCopied = 0, nBytes = 0;
  int src;
  cv_rc rc = db_stmt(pDb, zSrc, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, a->id);
  db_bind_int64(pSt, 2, a->userId);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    zSrcTitle = db_col_dup(pSt, 0, &rc);
    nCount = db_column_int64(pSt, 1);
    if( rc==CV_OK && !zSrcTitle ) rc = CV_NOMEM;
  }else{
    rc = src==SQLITE_DONE ? CV_NOTFOUND : db_rc(pDb, src);
  }
  db_reset(pSt);
  if( rc==CV_NOTFOUND ) rc = why_missing(pDb, a->userId, a->id);
  if( rc ) goto out;
  nUpto = a->nUpto<0 ? nCount : a->nUpto;
  if( nUpto>nCount ){ a->bPastEnd = 1; rc = CV_NOTFOUND; goto out; }
  memset(&c, 0, sizeof c);
  c.userId = a->userId;
  c.zTitle = a->zTitle ? a->zTitle : zSrcTitle;
  rc = insert_thread(pDb, &c);
  if( rc ) goto out;
  a->newId = c.id;
  if( nUpto>0 ){
    rc = store_conv_copy(pDb, a->id, c.id, nUpto, &nCopied, &nBytes);
    if( rc==CV_OK && nCopied!=nUpto ) rc = CV_DB;  /* header and segments disagree */
    if( rc==CV_OK ) rc = store_conv_touch(pDb, CV_CONV_THREAD, c.id, nCopied, nBytes, NULL, NULL);
  }
out:
  free(zSrcTitle);
  return rc;
}

cv_rc sqlite_threads_fork(struct cv_store *pS, int64_t userId, int64_t id, int64_t nUpto,
                          const char *zTitle, int64_t *pNewId, int *pbPastEnd){
  struct fork_args a;
  cv_rc rc;
  memset(&a, 0, sizeof a);
  a.userId = userId;
  a.id = id;
  a.nUpto = nUpto;
  a.zTitle = zTitle;
  rc = db_write(pS, fork_job, &a);
  *pNewId = rc ? 0 : a.newId;
  *pbPastEnd = a.bPastEnd;
  return rc;
}
