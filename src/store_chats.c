/*
** store_chats.c — SQL for the chat_histories headers, and the legacy import batch; the
** messages are the conversation store's (store_conv.c).
**
** Every write that touches a chat moves its last_updated by the conversation store's rule
** (store_conv_next_ts: now, but never at or before the user's newest chat, so "the newest
** chat" of rename, retention and the history order is exact), read and written inside the
** same write job, so the single writer makes it race-free.
** Retention is the schema's triggers (AFTER INSERT, and AFTER UPDATE OF archived for a
** restore); nothing here counts chats. With --history-overflow archive they move chats
** beyond the newest N to the archive (archived = 1) instead of deleting them: the legacy
** views (list, users/me) read only archived = 0; a write to an archived chat (a message, a
** rename) restores it first, as POST /api/chat/restore does; get and delete reach both.
** May call db, SQLite, store_conv and util.
*/
#include "store_chats.h"
#include "store_backend.h"
#include "db.h"
#include "store.h"
#include "store_conv.h"
#include "store_sqlite.h"
#include "util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHAT_COLS "id, chat_id, user_id, character_id, scene_id, persona_id, character_name," \
  " character_picture, scene_name, scene_picture, title, message_count," \
  " last_updated, created_at, archived"

static cv_rc row_to_chat(cv_stmt *pSt, struct cv_chat *pOut){
  cv_rc rc = CV_OK;
  memset(pOut, 0, sizeof *pOut);
  pOut->id = db_column_int64(pSt, 0);
  db_col_copy(pSt, 1, pOut->zChatId, sizeof pOut->zChatId);
  pOut->userId = db_column_int64(pSt, 2);
  pOut->characterId = db_column_int64(pSt, 3);
  pOut->sceneId = db_column_int64(pSt, 4);
  pOut->personaId = db_column_int64(pSt, 5);
  pOut->zCharacterName = db_col_dup(pSt, 6, &rc);
  pOut->zCharacterPicture = db_col_dup(pSt, 7, &rc);
  pOut->zSceneName = db_col_dup(pSt, 8, &rc);
  pOut->zScenePicture = db_col_dup(pSt, 9, &rc);
  pOut->zTitle = db_col_dup(pSt, 10, &rc);
  pOut->nMessages = db_column_int64(pSt, 11);
  db_col_copy(pSt, 12, pOut->zLastUpdated, sizeof pOut->zLastUpdated);
  db_col_copy(pSt, 13, pOut->zCreatedAt, sizeof pOut->zCreatedAt);
  pOut->bArchived = db_column_int(pSt, 14)!=0;
  if( rc==CV_OK && !pOut->zTitle ){
    /* NOT NULL columns: only an allocation failure leaves them NULL */
    rc = CV_NOMEM;
  }
  if( rc ) store_chat_clear(pOut);
  return rc;
}

/* After a statement on (chat_id, user_id) matched nothing: CV_NOTFOUND or CV_FORBIDDEN. */
static cv_rc why_missing(struct cv_db *pDb, int64_t userId, const char *zChatId){
  static const char zSql[] = "SELECT user_id FROM chat_histories WHERE chat_id=?1";
  cv_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_text(pSt, 1, zChatId, -1, SQLITE_STATIC);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) rc = db_column_int64(pSt, 0)==userId ? CV_DB : CV_FORBIDDEN;
  else if( src==SQLITE_DONE ) rc = CV_NOTFOUND;
  else rc = db_rc(pDb, src);
  db_reset(pSt);
  return rc;
}

/* Read chat zChatId of userId into *pOut, on any connection. */
static cv_rc read_chat(struct cv_db *pDb, int64_t userId, const char *zChatId,
                       struct cv_chat *pOut){
  static const char zSql[] =
    "SELECT " CHAT_COLS " FROM chat_histories WHERE chat_id=?1 AND user_id=?2";
  cv_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_text(pSt, 1, zChatId, -1, SQLITE_STATIC);
  db_bind_int64(pSt, 2, userId);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) rc = row_to_chat(pSt, pOut);
  else if( src==SQLITE_DONE ) rc = CV_NOTFOUND;
  else rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc==CV_NOTFOUND ) rc = why_missing(pDb, userId, zChatId);
  return rc;
}

/* ---- add a message (creating the chat) ------------------------------------------------ */

struct add_args {
  int64_t userId;
  const char *zChatId;
  const struct cv_chat_new *pNew;
  const char *zMessage;
  struct cv_chat *pOut;
  const char *zMissing;           /* OUT: which reference was missing */
};

/* Check the references of a new chat: CV_OK, or CV_NOTFOUND with a->zMissing set. */
static cv_rc check_refs(struct cv_db *pDb, struct add_args *a){
  static const char zSql[] =
    "SELECT ?1 IS NULL OR EXISTS(SELECT 1 FROM characters WHERE id=?1),"
    " ?2 IS NULL OR EXISTS(SELECT 1 FROM scenes WHERE id=?2),"
    " ?3 IS NULL OR EXISTS(SELECT 1 FROM personas WHERE id=?3 AND user_id=?4)";
  const struct cv_chat_new *p = a->pNew;
  cv_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  if( p->characterId ) db_bind_int64(pSt, 1, p->characterId);
  if( p->sceneId ) db_bind_int64(pSt, 2, p->sceneId);
  if( p->personaId ) db_bind_int64(pSt, 3, p->personaId);
  db_bind_int64(pSt, 4, a->userId);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    if( !db_column_int(pSt, 0) ) a->zMissing = "Character";
    else if( !db_column_int(pSt, 1) ) a->zMissing = "Scene";
    else if( !db_column_int(pSt, 2) ) a->zMissing = "Persona";
    if( a->zMissing ) rc = CV_NOTFOUND;
  }else{
    rc = db_rc(pDb, src);
    if( rc==CV_OK ) rc = CV_DB;
  }
  db_reset(pSt);
  return rc;
}

/* Restore archived chat id as of zNow (its new last_updated, the user's newest): one UPDATE,
** whose AFTER UPDATE OF archived trigger moves the oldest kept chat beyond the limit into
** the archive. Runs inside the caller's write job. */
static cv_rc unarchive(struct cv_db *pDb, int64_t id, const char *zNow){
  static const char zSql[] =
    "UPDATE chat_histories SET archived=0, last_updated=?2 WHERE id=?1 AND archived=1";
  cv_stmt *pSt;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, id);
  db_bind_text(pSt, 2, zNow, -1, SQLITE_STATIC);
  return db_step_done(pDb, pSt, NULL);
}

static cv_rc add_job(struct cv_db *pDb, void *pArg){
  static const char zFind[] =
    "SELECT id, user_id, message_count, archived FROM chat_histories WHERE chat_id=?1";
  static const char zCreate[] =
    "INSERT INTO chat_histories(id, chat_id, user_id, character_id, scene_id, persona_id,"
    " character_name, character_picture, scene_name, scene_picture, title,"
    " message_count, last_updated, created_at)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6,"
    " (SELECT name FROM characters WHERE id=?4), (SELECT picture FROM characters WHERE id=?4),"
    " (SELECT name FROM scenes WHERE id=?5), (SELECT picture FROM scenes WHERE id=?5),"
    " '', 0, ?7, ?7)";
  struct add_args *a = pArg;
  cv_stmt *pSt;
  char zNow[CV_TS_LEN+1];
  int64_t id = 0, owner = 0, nBefore = 0, iFirst = 0, nBytes = 0;
  size_t nMsg = strlen(a->zMessage);
  int src, bArchived = 0;
  cv_rc rc;
  /* an earlier try's output freed first (db.h, db_write) */
  store_chat_clear(a->pOut);
  if( a->pNew ){
    rc = check_refs(pDb, a);
    if( rc ) return rc;
  }
  rc = db_stmt(pDb, zFind, &pSt);
  if( rc ) return rc;
  db_bind_text(pSt, 1, a->zChatId, -1, SQLITE_STATIC);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    id = db_column_int64(pSt, 0);
    owner = db_column_int64(pSt, 1);
    nBefore = db_column_int64(pSt, 2);
    bArchived = db_column_int(pSt, 3)!=0;
  }else if( src!=SQLITE_DONE ){
    rc = db_rc(pDb, src);
  }
  db_reset(pSt);
  if( rc ) return rc;
  if( id && owner!=a->userId ) return CV_FORBIDDEN;
  if( !id && !a->pNew ){ a->zMissing = "Chat"; return CV_NOTFOUND; }
  rc = store_conv_next_ts(pDb, CV_CONV_CHAT, a->userId, zNow);
  if( rc ) return rc;
  if( bArchived ){
    rc = unarchive(pDb, id, zNow);
    if( rc ) return rc;
  }
  if( !id ){
    rc = store_conv_create(pDb, CV_CONV_CHAT, a->userId, &id);
    if( rc ) return rc;
    rc = db_stmt(pDb, zCreate, &pSt);
    if( rc ) return rc;
    db_bind_int64(pSt, 1, id);
    db_bind_text(pSt, 2, a->zChatId, -1, SQLITE_STATIC);
    db_bind_int64(pSt, 3, a->userId);
    if( a->pNew->characterId ) db_bind_int64(pSt, 4, a->pNew->characterId);
    if( a->pNew->sceneId ) db_bind_int64(pSt, 5, a->pNew->sceneId);
    if( a->pNew->personaId ) db_bind_int64(pSt, 6, a->pNew->personaId);
    db_bind_text(pSt, 7, zNow, -1, SQLITE_STATIC);
    rc = db_step_done(pDb, pSt, NULL);
    if( rc ) return rc;
  }
  rc = store_conv_append(pDb, id, &a->zMessage, &nMsg, 1, &iFirst, &nBytes);
  if( rc==CV_OK && iFirst!=nBefore ) rc = CV_DB;       /* header and segments disagree */
  if( rc==CV_OK ) rc = store_conv_touch(pDb, CV_CONV_CHAT, id, nBefore + 1, nBytes, zNow, NULL);
  if( rc ) return rc;
  return read_chat(pDb, a->userId, a->zChatId, a->pOut);
}

cv_rc sqlite_chats_add_message(struct cv_store *pS, int64_t userId, const char *zChatId,
                              const struct cv_chat_new *pNew, const char *zMessage,
                              struct cv_chat *pOut, const char **pzMissing){
  struct add_args a;
  cv_rc rc;
  assert( userId>0 && zChatId && util_uuid_valid(zChatId) && zMessage );
  memset(&a, 0, sizeof a);
  memset(pOut, 0, sizeof *pOut);
  a.userId = userId;
  a.zChatId = zChatId;
  a.pNew = pNew;
  a.zMessage = zMessage;
  a.pOut = pOut;
  rc = db_write(pS, add_job, &a);
  if( pzMissing ) *pzMissing = a.zMissing;
  if( rc ) store_chat_clear(pOut);
  return rc;
}

/* ---- read, rename, delete, list ------------------------------------------------------- */

cv_rc sqlite_chats_get(struct cv_read *pRd, int64_t userId, const char *zChatId,
                      struct cv_chat *pOut){
  memset(pOut, 0, sizeof *pOut);
  return read_chat(pRd->pDb, userId, zChatId, pOut);
}

struct rename_args {
  int64_t userId;
  const char *zChatId, *zTitle;
  struct cv_chat *pOut;
};

static cv_rc rename_job(struct cv_db *pDb, void *pArg){
  static const char zSql[] =
    "UPDATE chat_histories SET title=?3, last_updated=?4, archived=0"
    " WHERE chat_id=?1 AND user_id=?2";
  struct rename_args *a = pArg;
  cv_stmt *pSt;
  char zNow[CV_TS_LEN+1];
  int nChanged;
  cv_rc rc;
  /* an earlier try's output freed first (db.h, db_write) */
  store_chat_clear(a->pOut);
  rc = store_conv_next_ts(pDb, CV_CONV_CHAT, a->userId, zNow);
  if( rc ) return rc;
  rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_text(pSt, 1, a->zChatId, -1, SQLITE_STATIC);
  db_bind_int64(pSt, 2, a->userId);
  db_bind_text(pSt, 3, a->zTitle, -1, SQLITE_STATIC);
  db_bind_text(pSt, 4, zNow, -1, SQLITE_STATIC);
  rc = db_step_done(pDb, pSt, &nChanged);
  if( rc ) return rc;
  if( nChanged==0 ) return why_missing(pDb, a->userId, a->zChatId);
  return read_chat(pDb, a->userId, a->zChatId, a->pOut);
}

cv_rc sqlite_chats_rename(struct cv_store *pS, int64_t userId, const char *zChatId,
                         const char *zTitle, struct cv_chat *pOut){
  struct rename_args a;
  cv_rc rc;
  assert( zChatId && zTitle );
  memset(pOut, 0, sizeof *pOut);
  a.userId = userId;
  a.zChatId = zChatId;
  a.zTitle = zTitle;
  a.pOut = pOut;
  rc = db_write(pS, rename_job, &a);
  if( rc ) store_chat_clear(pOut);
  return rc;
}

struct delete_args { int64_t userId; const char *zChatId; };

static cv_rc delete_job(struct cv_db *pDb, void *pArg){
  static const char zSql[] = "DELETE FROM chat_histories WHERE chat_id=?1 AND user_id=?2";
  struct delete_args *a = pArg;
  cv_stmt *pSt;
  int nChanged;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_text(pSt, 1, a->zChatId, -1, SQLITE_STATIC);
  db_bind_int64(pSt, 2, a->userId);
  rc = db_step_done(pDb, pSt, &nChanged);
  if( rc ) return rc;
  return nChanged ? CV_OK : why_missing(pDb, a->userId, a->zChatId);
}

cv_rc sqlite_chats_delete(struct cv_store *pS, int64_t userId, const char *zChatId){
  struct delete_args a;
  a.userId = userId;
  a.zChatId = zChatId;
  return db_write(pS, delete_job, &a);
}

/* The kept (bArchived 0) or archived (1) chats of userId: store_chats_list's contract. */
static cv_rc list_chats(struct cv_read *pRd, int64_t userId, int bArchived,
                        struct cv_page *pPage, struct cv_chat **paOut, int *pnOut,
                        int64_t *pnTotal){
  static const char zCount[] =
    "SELECT count(*) FROM chat_histories WHERE user_id=?1 AND archived=?6";
  static const char zList[] =
    "SELECT " CHAT_COLS " FROM chat_histories WHERE user_id=?1 AND archived=?6"
    " ORDER BY last_updated DESC, id DESC LIMIT ?2 OFFSET ?3";
  /* keyset: a SEARCH of chat_histories_user_updated
  ** (user_id, archived, last_updated DESC, id DESC) */
  static const char zListAfter[] =
    "SELECT " CHAT_COLS " FROM chat_histories WHERE user_id=?1 AND archived=?6"
    " AND (last_updated, id) < (?4, ?5)"
    " ORDER BY last_updated DESC, id DESC LIMIT ?2 OFFSET ?3";
  struct cv_db *pDb;
  struct cv_chat *a = NULL;
  cv_stmt *pSt;
  int n = 0, nAlloc = 0, src = SQLITE_DONE, limit = pPage->limit;
  int64_t total = 0;
  cv_rc rc;
  assert( limit>=0 && pPage->offset>=0 );
  assert( !pPage->zAfterKey || pPage->offset==0 );
  *paOut = NULL;
  *pnOut = 0;
  pPage->bMore = 0;
  if( pnTotal ) *pnTotal = 0;
  pDb = pRd->pDb;                 /* count and page from the caller's snapshot */
  rc = db_stmt(pDb, zCount, &pSt);
  if( rc ) goto end;
  db_bind_int64(pSt, 1, userId);
  db_bind_int(pSt, 6, bArchived);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) total = db_column_int64(pSt, 0);
  else rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc ) goto end;
  rc = db_stmt(pDb, pPage->zAfterKey ? zListAfter : zList, &pSt);
  if( rc ) goto end;
  db_bind_int64(pSt, 1, userId);
  db_bind_int(pSt, 2, limit>0 ? limit + 1 : -1);    /* one more: is there a next page? */
  db_bind_int(pSt, 6, bArchived);
  db_bind_int64(pSt, 3, pPage->offset);
  if( pPage->zAfterKey ){
    db_bind_text(pSt, 4, pPage->zAfterKey, -1, SQLITE_STATIC);
    db_bind_int64(pSt, 5, pPage->afterId);
  }
  while( (src = db_step(pSt))==SQLITE_ROW ){
    if( limit>0 && n==limit ){ pPage->bMore = 1; break; }
    if( n==nAlloc ){
      int nNew = nAlloc ? nAlloc*2 : 16;
      struct cv_chat *aNew = realloc(a, (size_t)nNew * sizeof *a);
      if( !aNew ){ rc = CV_NOMEM; break; }
      a = aNew;
      nAlloc = nNew;
    }
    rc = row_to_chat(pSt, &a[n]);
    if( rc ) break;
    n++;
  }
  if( rc==CV_OK && src!=SQLITE_DONE && src!=SQLITE_ROW ) rc = db_rc(pDb, src);
  db_reset(pSt);
end:
  if( rc ){
    store_chats_free_list(a, n);
    pPage->bMore = 0;
    return rc;
  }
  if( n==0 ){ free(a); a = NULL; }
  *paOut = a;
  *pnOut = n;
  if( pnTotal ) *pnTotal = total;
  return CV_OK;
}

cv_rc sqlite_chats_list(struct cv_read *pRd, int64_t userId, struct cv_page *pPage,
                       struct cv_chat **paOut, int *pnOut, int64_t *pnTotal){
  return list_chats(pRd, userId, 0, pPage, paOut, pnOut, pnTotal);
}

cv_rc sqlite_chats_list_archived(struct cv_read *pRd, int64_t userId, struct cv_page *pPage,
                                 struct cv_chat **paOut, int *pnOut, int64_t *pnTotal){
  return list_chats(pRd, userId, 1, pPage, paOut, pnOut, pnTotal);
}

struct restore_args {
  int64_t userId;
  const char *zChatId;
  struct cv_chat *pOut;
};

/* Write job of store_chats_restore (pArg: struct restore_args): unarchive the caller's chat
** when it is archived, then read its header into a->pOut. */
static cv_rc restore_job(struct cv_db *pDb, void *pArg){
  static const char zFind[] =
    "SELECT id, archived FROM chat_histories WHERE chat_id=?1 AND user_id=?2";
  struct restore_args *a = pArg;
  cv_stmt *pSt;
  char zNow[CV_TS_LEN+1];
  int64_t id = 0;
  int src, bArchived = 0;
  cv_rc rc;
  /* an earlier try's output freed first (db.h, db_write) */
  store_chat_clear(a->pOut);
  rc = db_stmt(pDb, zFind, &pSt);
  if( rc ) return rc;
  db_bind_text(pSt, 1, a->zChatId, -1, SQLITE_STATIC);
  db_bind_int64(pSt, 2, a->userId);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    id = db_column_int64(pSt, 0);
    bArchived = db_column_int(pSt, 1)!=0;
  }else if( src!=SQLITE_DONE ){
    rc = db_rc(pDb, src);
  }
  db_reset(pSt);
  if( rc ) return rc;
  if( !id ) return why_missing(pDb, a->userId, a->zChatId);
  if( bArchived ){
    rc = store_conv_next_ts(pDb, CV_CONV_CHAT, a->userId, zNow);
    if( rc==CV_OK ) rc = unarchive(pDb, id, zNow);
    if( rc ) return rc;
  }
  return read_chat(pDb, a->userId, a->zChatId, a->pOut);
}

cv_rc sqlite_chats_restore(struct cv_store *pS, int64_t userId, const char *zChatId,
                           struct cv_chat *pOut){
  struct restore_args a;
  cv_rc rc;
  assert( userId>0 && zChatId );
  memset(pOut, 0, sizeof *pOut);
  a.userId = userId;
  a.zChatId = zChatId;
  a.pOut = pOut;
  rc = db_write(pS, restore_job, &a);
  if( rc ) store_chat_clear(pOut);
  return rc;
}

/* ---- legacy import -------------------------------------------------------------------- */

struct import_args {
  struct cv_legacy_user *aUser;
  int nUser;
};

/* Find or create the user of a legacy row; sets p->userId and p->bCreated. */
static cv_rc import_user(struct cv_db *pDb, struct cv_legacy_user *p){
  static const char zFind[] = "SELECT id FROM users WHERE email=?1";
  static const char zAdd[] =
    "INSERT INTO users(email, password_hash, display_name, created_at)"
    " VALUES(?1, NULL, ?2, ?3) RETURNING id";
  cv_stmt *pSt;
  char zNow[CV_TS_LEN+1];
  int src;
  cv_rc rc = db_stmt(pDb, zFind, &pSt);
  if( rc ) return rc;
  db_bind_text(pSt, 1, p->zEmail, -1, SQLITE_STATIC);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) p->userId = db_column_int64(pSt, 0);
  else if( src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc || p->userId ) return rc;
  rc = db_stmt(pDb, zAdd, &pSt);
  if( rc ) return rc;
  util_iso_format(util_now_ms(), zNow);
  db_bind_text(pSt, 1, p->zEmail, -1, SQLITE_STATIC);
  if( p->zDisplayName ) db_bind_text(pSt, 2, p->zDisplayName, -1, SQLITE_STATIC);
  db_bind_text(pSt, 3, p->zCreatedAt ? p->zCreatedAt : zNow, -1, SQLITE_TRANSIENT);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    p->userId = db_column_int64(pSt, 0);
    p->bCreated = 1;
    rc = db_rc(pDb, db_step(pSt));
  }else{
    rc = db_rc(pDb, src);
    if( rc==CV_OK ) rc = CV_DB;
  }
  db_reset(pSt);
  return rc;
}

/* Mark p as dropped by retention (CV_IMPORT_RETAINED_OUT) when its chat_id is not in the
** table; leave p->eResult as it is when it is. */
static cv_rc import_recheck(struct cv_db *pDb, struct cv_legacy_chat *p){
  static const char zKept[] = "SELECT 1 FROM chat_histories WHERE chat_id=?1";
  cv_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zKept, &pSt);
  if( rc ) return rc;
  db_bind_text(pSt, 1, p->zChatId, -1, SQLITE_STATIC);
  src = db_step(pSt);
  if( src==SQLITE_DONE ) p->eResult = CV_IMPORT_RETAINED_OUT;
  else if( src!=SQLITE_ROW ) rc = db_rc(pDb, src);
  db_reset(pSt);
  return rc;
}

/* The newest last_updated values among one user's chats, newest first, at most nMax of them
** (the retention limit): while the user holds nMax chats, a chat older than every one of them
** would be dropped by the retention trigger as soon as it is inserted (the trigger keeps the
** newest nMax by (last_updated, id), and an inserted chat has the highest id, so only chats
** strictly newer outrank it). Kept in memory per user and batch, so that deciding this costs
** a comparison, not a query. */
struct newest {
  int n, nMax;                   /* values held; the limit (0: never skip) */
  char (*a)[CV_TS_LEN+1];        /* nMax entries */
};

/* Load the newest values of userId's chats into *pN (whose nMax is set). */
static cv_rc newest_load(struct cv_db *pDb, int64_t userId, struct newest *pN){
  static const char zTop[] =
    "SELECT last_updated FROM chat_histories WHERE user_id=?1 AND archived=0"
    " ORDER BY last_updated DESC LIMIT ?2";
  cv_stmt *pSt;
  int src;
  cv_rc rc;
  pN->n = 0;
  if( pN->nMax==0 ) return CV_OK;
  rc = db_stmt(pDb, zTop, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, userId);
  db_bind_int(pSt, 2, pN->nMax);
  while( (src = db_step(pSt))==SQLITE_ROW && pN->n<pN->nMax ){
    db_col_copy(pSt, 0, pN->a[pN->n++], CV_TS_LEN+1);
  }
  if( src!=SQLITE_ROW && src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
  return rc;
}

/* Would a chat last updated at zTs be dropped at once by retention? */
static int newest_drops(const struct newest *pN, const char *zTs){
  return pN->nMax>0 && pN->n==pN->nMax && strcmp(pN->a[pN->nMax-1], zTs)>0;
}

/* Note an inserted chat last updated at zTs (the oldest value falls off when full). */
static void newest_add(struct newest *pN, const char *zTs){
  int i;
  if( pN->nMax==0 || newest_drops(pN, zTs) ) return;
  i = pN->n<pN->nMax ? pN->n++ : pN->nMax-1;
  for(; i>0 && strcmp(pN->a[i-1], zTs)<0; i--) memcpy(pN->a[i], pN->a[i-1], CV_TS_LEN+1);
  snprintf(pN->a[i], CV_TS_LEN+1, "%s", zTs);
}

/* Insert one legacy chat of userId; sets p->eResult. A chat_id already present is left as
** it is; a chat that retention would drop at once (newest_drops) is not written at all, so a
** second run of the same file writes nothing. The segments go in before the header, whose
** INSERT fires the retention trigger (which may drop older chats, their conversations and
** segments with them). */
static cv_rc import_chat(struct cv_db *pDb, int64_t userId, struct newest *pN,
                         struct cv_legacy_chat *p){
  static const char zExists[] = "SELECT 1 FROM chat_histories WHERE chat_id=?1";
  static const char zIns[] =
    "INSERT INTO chat_histories(id, chat_id, user_id, character_id, scene_id, persona_id,"
    " character_name, character_picture, scene_name, scene_picture, title,"
    " message_count, message_bytes, last_updated, created_at)"
    " SELECT ?15, ?1, ?2,"
    " (SELECT id FROM characters WHERE id=?3 AND name IS ?6),"
    " (SELECT id FROM scenes WHERE id=?4 AND name IS ?8),"
    " (SELECT id FROM personas WHERE id=?5 AND user_id=?2),"
    " ?6, ?7, ?8, ?9, ?10, ?12, ?16, ?13, ?14";
  cv_stmt *pSt;
  int64_t id = 0, nBytes = 0;
  int src;
  cv_rc rc = db_stmt(pDb, zExists, &pSt);
  if( rc ) return rc;
  db_bind_text(pSt, 1, p->zChatId, -1, SQLITE_STATIC);
  src = db_step(pSt);
  if( src!=SQLITE_ROW && src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc ) return rc;
  if( src==SQLITE_ROW ){ p->eResult = CV_IMPORT_EXISTED; return CV_OK; }
  if( newest_drops(pN, p->zLastUpdated) ){ p->eResult = CV_IMPORT_RETAINED_OUT; return CV_OK; }
  rc = store_conv_create(pDb, CV_CONV_CHAT, userId, &id);
  if( rc==CV_OK && p->nMessages>0 ){
    rc = store_conv_replace(pDb, id, p->zMessages, p->nMessages, &nBytes);
  }
  if( rc ) return rc;
  rc = db_stmt(pDb, zIns, &pSt);
  if( rc ) return rc;
  db_bind_text(pSt, 1, p->zChatId, -1, SQLITE_STATIC);
  db_bind_int64(pSt, 2, userId);
  if( p->characterId ) db_bind_int64(pSt, 3, p->characterId);
  if( p->sceneId ) db_bind_int64(pSt, 4, p->sceneId);
  if( p->personaId ) db_bind_int64(pSt, 5, p->personaId);
  if( p->zCharacterName ) db_bind_text(pSt, 6, p->zCharacterName, -1, SQLITE_STATIC);
  if( p->zCharacterPicture ) db_bind_text(pSt, 7, p->zCharacterPicture, -1, SQLITE_STATIC);
  if( p->zSceneName ) db_bind_text(pSt, 8, p->zSceneName, -1, SQLITE_STATIC);
  if( p->zScenePicture ) db_bind_text(pSt, 9, p->zScenePicture, -1, SQLITE_STATIC);
  db_bind_text(pSt, 10, p->zTitle ? p->zTitle : "", -1, SQLITE_STATIC);
  db_bind_int64(pSt, 12, p->nMessages);
  db_bind_text(pSt, 13, p->zLastUpdated, -1, SQLITE_STATIC);
  db_bind_text(pSt, 14, p->zCreatedAt, -1, SQLITE_STATIC);
  db_bind_int64(pSt, 15, id);
  db_bind_int64(pSt, 16, nBytes);
  rc = db_step_done(pDb, pSt, NULL);
  if( rc ) return rc;
  newest_add(pN, p->zLastUpdated);
  p->eResult = CV_IMPORT_ADDED;
  return CV_OK;
}

/* A chat of a row and its place in the row, for write_order's sorts. */
struct chat_ref { const char *z; int i; };

static int by_time_desc(const void *a, const void *b){
  const struct chat_ref *x = a, *y = b;
  int c = strcmp(y->z, x->z);            /* ISO 8601 UTC text sorts as time */
  return c ? c : x->i - y->i;            /* ties in file order */
}
static int by_text(const void *a, const void *b){
  const struct chat_ref *x = a, *y = b;
  return strcmp(x->z, y->z);
}

/* The order in which the chats of p are written, into aOrder (p->nChat entries): newest
** last_updated first, ties in file order. Once the user holds N chats (the retention limit),
** every older one is then skipped by import_chat's pre-check instead of being written and
** dropped again by the retention trigger (70 of 100 chats per user in the bench). The same
** chats are kept as in file order: the trigger keeps the newest N by (last_updated, id), and
** among chats of equal time the ids still follow file order. Which of two entries with the
** same chat_id is kept does depend on the order (the first written wins), so a row that holds
** a chat_id twice is written in file order, as before. */
static cv_rc write_order(const struct cv_legacy_user *p, int *aOrder){
  struct chat_ref *a;
  int i, bDup = 0;
  for(i=0; i<p->nChat; i++) aOrder[i] = i;
  if( p->nChat<2 ) return CV_OK;
  a = malloc(sizeof *a * (size_t)p->nChat);
  if( !a ) return CV_NOMEM;
  for(i=0; i<p->nChat; i++){ a[i].z = p->aChat[i].zChatId; a[i].i = i; }
  qsort(a, (size_t)p->nChat, sizeof *a, by_text);
  for(i=1; i<p->nChat && !bDup; i++) bDup = strcmp(a[i-1].z, a[i].z)==0;
  if( !bDup ){
    for(i=0; i<p->nChat; i++){ a[i].z = p->aChat[i].zLastUpdated; a[i].i = i; }
    qsort(a, (size_t)p->nChat, sizeof *a, by_time_desc);
    for(i=0; i<p->nChat; i++) aOrder[i] = a[i].i;
  }
  free(a);
  return CV_OK;
}

/* The retention limit of the file into pN->nMax (0: none we can pre-check: a limit no flag
** can set, the file was edited, and the trigger alone decides; or history_overflow is
** 'archive', where a chat beyond the limit is archived, not dropped, so every chat is
** written), with room for that many values in pN->a (free() it). */
static cv_rc newest_init(struct cv_db *pDb, struct newest *pN){
  static const char zLimit[] =
    "SELECT CASE WHEN coalesce((SELECT value FROM settings WHERE key='history_overflow'),"
    " 'delete')='archive' THEN 0 ELSE coalesce((SELECT max(CAST(value AS INTEGER), 1)"
    " FROM settings WHERE key='history_limit'), 30) END";
  int64_t nLimit = 0;
  cv_rc rc = db_int64(pDb, zLimit, 0, 0, &nLimit);
  pN->n = 0;
  pN->nMax = 0;
  pN->a = NULL;
  if( rc ) return rc;
  pN->nMax = nLimit>=1 && nLimit<=100000 ? (int)nLimit : 0;
  if( pN->nMax ){
    pN->a = malloc(sizeof *pN->a * (size_t)pN->nMax);
    if( !pN->a ) return CV_NOMEM;
  }
  return CV_OK;
}

/* Write the chats of one user p (p->userId set), newest first (write_order), each with
** import_chat against the user's newest values in *pTop; then mark those the retention
** trigger removed again within this job (a chat is only outranked by chats strictly newer,
** inserted after it in the same batch). */
static cv_rc import_user_chats(struct cv_db *pDb, struct newest *pTop, struct cv_legacy_user *p){
  int *aOrder = malloc(sizeof *aOrder * (size_t)(p->nChat ? p->nChat : 1));
  int j;
  cv_rc rc = aOrder ? write_order(p, aOrder) : CV_NOMEM;
  if( rc==CV_OK ) rc = newest_load(pDb, p->userId, pTop);
  for(j=0; rc==CV_OK && j<p->nChat; j++){
    rc = import_chat(pDb, p->userId, pTop, &p->aChat[aOrder[j]]);
  }
  free(aOrder);
  return rc;
}

/* After the batch: was chat p, inserted by it, removed again by the retention trigger? */
static cv_rc recheck_user_chats(struct cv_db *pDb, struct cv_legacy_user *p){
  int j;
  for(j=0; j<p->nChat; j++){
    if( p->aChat[j].eResult==CV_IMPORT_ADDED ){
      cv_rc rc = import_recheck(pDb, &p->aChat[j]);
      if( rc ) return rc;
    }
  }
  return CV_OK;
}

static cv_rc import_job(struct cv_db *pDb, void *pArg){
  struct import_args *a = pArg;
  struct newest top;
  int i;
  cv_rc rc = newest_init(pDb, &top);
  for(i=0; rc==CV_OK && i<a->nUser; i++){
    rc = import_user(pDb, &a->aUser[i]);
    if( rc==CV_OK ) rc = import_user_chats(pDb, &top, &a->aUser[i]);
  }
  free(top.a);
  for(i=0; rc==CV_OK && i<a->nUser; i++) rc = recheck_user_chats(pDb, &a->aUser[i]);
  return rc;
}

cv_rc sqlite_chats_insert_batch(struct cv_db *pDb, int64_t userId, struct cv_legacy_chat *aChat,
                                int nChat){
  struct cv_legacy_user u;
  struct newest top;
  int j;
  cv_rc rc;
  memset(&u, 0, sizeof u);
  u.userId = userId;
  u.aChat = aChat;
  u.nChat = nChat;
  for(j=0; j<nChat; j++) aChat[j].eResult = 0;
  rc = newest_init(pDb, &top);
  if( rc==CV_OK ) rc = import_user_chats(pDb, &top, &u);
  free(top.a);
  if( rc==CV_OK ) rc = recheck_user_chats(pDb, &u);
  return rc;
}

cv_rc sqlite_chats_import_legacy(struct cv_store *pS, struct cv_legacy_user *aUser, int nUser){
  struct import_args a;
  int i, j;
  for(i=0; i<nUser; i++){
    aUser[i].userId = 0;
    aUser[i].bCreated = 0;
    for(j=0; j<aUser[i].nChat; j++) aUser[i].aChat[j].eResult = 0;
  }
  a.aUser = aUser;
  a.nUser = nUser;
  return db_write(pS, import_job, &a);
}
