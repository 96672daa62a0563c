/*
** store_export.c — the SQLite backend's walks for the export (store_export.h). Each walk is
** one cached statement stepped to its end on the snapshot's connection; its rows are handed
** out with pointers into the statement (no copies), so a walk costs one row whatever the
** number of rows. Threads and chats are walked through conversations(user_id, kind), whose
** index entries are in id order (no sort, no temporary b-tree); the catalog through its
** owner indexes (personas_user, characters_creator, scenes_creator), likewise in id order.
** A conversation's messages are read segment by segment (segments(conv_id, first_index))
** and each segment's array is taken apart with json_each: at most one segment is held.
** May call db, SQLite and util.
*/
#include "store_export.h"
#include "store_backend.h"
#include "db.h"
#include "store_chats.h"
#include "store_threads.h"

#include <assert.h>
#include <string.h>

/* Text column i, borrowed from pSt until its next step or reset. NULL for SQL NULL. */
static char *col_text(cv_stmt *pSt, int i){
  return (char*)db_column_text(pSt, i);
}

/* Finish a walk: the step loop ended with src; rc is the callback's or CV_OK. */
static cv_rc walk_end(struct cv_db *pDb, cv_stmt *pSt, int src, cv_rc rc){
  if( rc==CV_OK && src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
  return rc;
}

cv_rc sqlite_export_threads(struct cv_read *pRd, int64_t userId, cv_export_thread_fn xThread,
                            void *pCtx){
  /* CROSS JOIN keeps conversations outside: its index gives id order without a sort */
  static const char zSql[] =
    "SELECT t.id, t.user_id, t.title, t.message_count, t.created_at, t.updated_at,"
    " t.pinned, t.archived, t.tags, t.client_id"
    " FROM conversations c CROSS JOIN chat_threads t"
    " WHERE c.user_id=?1 AND c.kind=1 AND t.id=c.id ORDER BY c.id";
  cv_stmt *pSt;
  int src = SQLITE_DONE;
  cv_rc rc;
  assert( pRd && pRd->pDb && xThread );
  rc = db_stmt(pRd->pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, userId);
  while( rc==CV_OK && (src = db_step(pSt))==SQLITE_ROW ){
    struct cv_thread t;
    memset(&t, 0, sizeof t);
    t.id = db_column_int64(pSt, 0);
    t.userId = db_column_int64(pSt, 1);
    t.zTitle = col_text(pSt, 2);
    t.nMessages = db_column_int64(pSt, 3);
    db_col_copy(pSt, 4, t.zCreatedAt, sizeof t.zCreatedAt);
    db_col_copy(pSt, 5, t.zUpdatedAt, sizeof t.zUpdatedAt);
    t.bPinned = db_column_int(pSt, 6)!=0;
    t.bArchived = db_column_int(pSt, 7)!=0;
    t.zTags = col_text(pSt, 8);
    if( !t.zTitle || !t.zTags ){ rc = CV_NOMEM; break; }  /* NOT NULL columns: only OOM */
    rc = xThread(pCtx, &t, col_text(pSt, 9));
  }
  return walk_end(pRd->pDb, pSt, src, rc);
}

cv_rc sqlite_export_chats(struct cv_read *pRd, int64_t userId, cv_export_chat_fn xChat,
                          void *pCtx){
  static const char zSql[] =
    "SELECT h.id, h.chat_id, h.user_id, h.character_id, h.scene_id, h.persona_id,"
    " h.character_name, h.character_picture, h.scene_name, h.scene_picture, h.title,"
    " h.message_count, h.last_updated, h.created_at, h.archived"
    " FROM conversations c CROSS JOIN chat_histories h"
    " WHERE c.user_id=?1 AND c.kind=2 AND h.id=c.id ORDER BY c.id";
  cv_stmt *pSt;
  int src = SQLITE_DONE;
  cv_rc rc;
  assert( pRd && pRd->pDb && xChat );
  rc = db_stmt(pRd->pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, userId);
  while( rc==CV_OK && (src = db_step(pSt))==SQLITE_ROW ){
    struct cv_chat c;
    memset(&c, 0, sizeof c);
    c.id = db_column_int64(pSt, 0);
    db_col_copy(pSt, 1, c.zChatId, sizeof c.zChatId);
    c.userId = db_column_int64(pSt, 2);
    c.characterId = db_column_int64(pSt, 3);    /* NULL reads as 0 */
    c.sceneId = db_column_int64(pSt, 4);
    c.personaId = db_column_int64(pSt, 5);
    c.zCharacterName = col_text(pSt, 6);
    c.zCharacterPicture = col_text(pSt, 7);
    c.zSceneName = col_text(pSt, 8);
    c.zScenePicture = col_text(pSt, 9);
    c.zTitle = col_text(pSt, 10);
    c.nMessages = db_column_int64(pSt, 11);
    db_col_copy(pSt, 12, c.zLastUpdated, sizeof c.zLastUpdated);
    db_col_copy(pSt, 13, c.zCreatedAt, sizeof c.zCreatedAt);
    c.bArchived = db_column_int(pSt, 14)!=0;      /* kept and archived chats alike */
    if( !c.zTitle ){ rc = CV_NOMEM; break; }            /* NOT NULL: only OOM */
    rc = xChat(pCtx, &c);
  }
  return walk_end(pRd->pDb, pSt, src, rc);
}

cv_rc sqlite_export_items(struct cv_read *pRd, enum cv_kind eKind, int64_t userId,
                          cv_export_item_fn xItem, void *pCtx){
  /* the columns of store_catalog.c, by kind; each walk a SEARCH of the owner index */
  static const char *const azSql[3] = {
    "SELECT id, creator_id, name, picture, description, greeting, created_at"
    " FROM characters WHERE creator_id=?1 ORDER BY id",
    "SELECT id, creator_id, name, picture, description, NULL, created_at"
    " FROM scenes WHERE creator_id=?1 ORDER BY id",
    "SELECT id, user_id, name, NULL, description, NULL, created_at"
    " FROM personas WHERE user_id=?1 ORDER BY id",
  };
  cv_stmt *pSt;
  int src = SQLITE_DONE;
  cv_rc rc;
  assert( pRd && pRd->pDb && xItem );
  assert( eKind==CV_KIND_CHARACTER || eKind==CV_KIND_SCENE || eKind==CV_KIND_PERSONA );
  rc = db_stmt(pRd->pDb, azSql[eKind], &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, userId);
  while( rc==CV_OK && (src = db_step(pSt))==SQLITE_ROW ){
    struct cv_item it;
    memset(&it, 0, sizeof it);
    it.eKind = eKind;
    it.id = db_column_int64(pSt, 0);
    it.ownerId = db_column_int64(pSt, 1);
    it.zName = col_text(pSt, 2);
    it.zPicture = col_text(pSt, 3);
    it.zDescription = col_text(pSt, 4);
    it.zGreeting = col_text(pSt, 5);
    db_col_copy(pSt, 6, it.zCreatedAt, sizeof it.zCreatedAt);
    if( !it.zName ){ rc = CV_NOMEM; break; }            /* NOT NULL: only OOM */
    rc = xItem(pCtx, &it);
  }
  return walk_end(pRd->pDb, pSt, src, rc);
}

cv_rc sqlite_export_messages(struct cv_read *pRd, int64_t id, cv_msg_view_fn xMsg, void *pCtx){
  static const char zSeg[] =
    "SELECT messages FROM segments WHERE conv_id=?1 ORDER BY first_index";
  /* one segment's array (at most CONV_SEG_MESSAGES messages): its sort is that small */
  static const char zEach[] =
    "SELECT value->>'role', value->>'content' FROM json_each(?1) ORDER BY key";
  cv_stmt *pSeg, *pEach;
  int src = SQLITE_DONE;
  cv_rc rc;
  assert( pRd && pRd->pDb && xMsg );
  rc = db_stmt(pRd->pDb, zSeg, &pSeg);
  if( rc ) return rc;
  db_bind_int64(pSeg, 1, id);
  while( rc==CV_OK && (src = db_step(pSeg))==SQLITE_ROW ){
    const char *zArr = (const char*)db_column_text(pSeg, 0);
    int nArr = db_column_bytes(pSeg, 0);
    int srcEach = SQLITE_DONE;
    if( !zArr ){ rc = CV_DB; break; }
    rc = db_stmt(pRd->pDb, zEach, &pEach);
    if( rc ) break;
    /* the segment's text stays valid: pSeg is not stepped while pEach runs */
    db_bind_text(pEach, 1, zArr, nArr, SQLITE_STATIC);
    while( rc==CV_OK && (srcEach = db_step(pEach))==SQLITE_ROW ){
      struct cv_msg_view m;
      m.zRole = (const char*)db_column_text(pEach, 0);
      m.zContent = (const char*)db_column_text(pEach, 1);
      if( !m.zRole || !m.zContent ) continue;      /* not a message object: skipped */
      rc = xMsg(pCtx, &m);
    }
    rc = walk_end(pRd->pDb, pEach, srcEach, rc);
  }
  return walk_end(pRd->pDb, pSeg, src, rc);
}
