/*
** store_import.c — SQL of store_import.h: an import's batch of conversations, and the
** personas and characters of a chatvault export, each batch one write job. Threads go
** through the thread insert of store_threads.c (idempotent per (user, client_id)), chats
** through the chat batch insert of store_chats.c (idempotent per chat_id, newest first,
** retention by the trigger), so an import writes exactly what the other routes would.
*/
#include "store_import.h"
#include "store_backend.h"
#include "db.h"
#include "store.h"
#include "store_sqlite.h"
#include "util.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Find the character named zName (the user's own first, then any of the catalog, lowest
** id) or create it as the user's; *pId gets its id and *pzPicture (malloc'd, may be NULL)
** its picture. */
static cv_rc find_character(struct cv_db *pDb, int64_t userId, const char *zName, int64_t *pId,
                            char **pzPicture){
  static const char zFind[] =
    "SELECT id, picture FROM characters WHERE name=?2"
    " ORDER BY creator_id IS NOT ?1, id LIMIT 1";
  static const char zAdd[] =
    "INSERT INTO characters(creator_id, name, created_at) VALUES(?1,?2,?3) RETURNING id";
  cv_stmt *pSt;
  char zNow[CV_TS_LEN+1];
  int src;
  cv_rc rc = db_stmt(pDb, zFind, &pSt);
  *pId = 0;
  *pzPicture = NULL;
  if( rc ) return rc;
  db_bind_int64(pSt, 1, userId);
  db_bind_text(pSt, 2, zName, -1, SQLITE_STATIC);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    *pId = db_column_int64(pSt, 0);
    *pzPicture = db_col_dup(pSt, 1, &rc);
  }else if( src!=SQLITE_DONE ){
    rc = db_rc(pDb, src);
  }
  db_reset(pSt);
  if( rc || *pId ) return rc;
  rc = db_stmt(pDb, zAdd, &pSt);
  if( rc ) return rc;
  util_iso_format(util_now_ms(), zNow);
  db_bind_int64(pSt, 1, userId);
  db_bind_text(pSt, 2, zName, -1, SQLITE_STATIC);
  db_bind_text(pSt, 3, zNow, -1, SQLITE_STATIC);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    *pId = db_column_int64(pSt, 0);
    rc = db_rc(pDb, db_step(pSt));
  }else{
    rc = db_rc(pDb, src);
    if( rc==CV_OK ) rc = CV_DB;
  }
  db_reset(pSt);
  return rc;
}

/* Does userId have a chat with chat_id zChatId? */
static cv_rc user_has_chat(struct cv_db *pDb, int64_t userId, const char *zChatId, int *pbHas){
  static const char zSql[] = "SELECT 1 FROM chat_histories WHERE chat_id=?2 AND user_id=?1";
  cv_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  *pbHas = 0;
  if( rc ) return rc;
  db_bind_int64(pSt, 1, userId);
  db_bind_text(pSt, 2, zChatId, -1, SQLITE_STATIC);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) *pbHas = 1;
  else if( src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
  return rc;
}

/* Does userId have thread id created at zCreatedAt? *pbHas 1 when so. */
static cv_rc user_has_thread(struct cv_db *pDb, int64_t userId, int64_t id,
                             const char *zCreatedAt, int *pbHas){
  static const char zSql[] =
    "SELECT 1 FROM chat_threads WHERE id=?1 AND user_id=?2 AND created_at=?3";
  cv_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  *pbHas = 0;
  if( rc ) return rc;
  db_bind_int64(pSt, 1, id);
  db_bind_int64(pSt, 2, userId);
  db_bind_text(pSt, 3, zCreatedAt, -1, SQLITE_STATIC);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) *pbHas = 1;
  else if( src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
  return rc;
}

struct convs_args {
  int64_t userId;
  struct cv_import_conv *a;
  int n;
};

static cv_rc convs_job(struct cv_db *pDb, void *pArg){
  struct convs_args *x = pArg;
  struct cv_legacy_chat *aChat = NULL;
  int *aWhich = NULL;             /* aChat[k] is x->a[aWhich[k]] */
  char **azPic = NULL;            /* pictures of matched characters (owned) */
  int i, nChat = 0;
  cv_rc rc = CV_OK;

  for(i=0; rc==CV_OK && i<x->n; i++){
    struct cv_import_conv *p = &x->a[i];
    p->eResult = 0;
    p->id = 0;
    p->zChatIdOut = NULL;
    if( p->eKind==CV_CONV_THREAD && p->altThreadId && p->zCreatedAt ){
      int bHas = 0;
      rc = user_has_thread(pDb, x->userId, p->altThreadId, p->zCreatedAt, &bHas);
      if( rc ) break;
      if( bHas ){
        p->eResult = CV_IMPORT_EXISTED;
        p->id = p->altThreadId;
        continue;
      }
    }
    if( p->eKind==CV_CONV_THREAD ){
      struct cv_import_item it;
      memset(&it, 0, sizeof it);
      it.zClientId = p->zKey;
      it.zTitle = p->zTitle;
      it.zMessages = p->zMessages;
      it.nMessages = p->nMessages;
      it.zCreatedAt = p->zCreatedAt;
      it.zUpdatedAt = p->zUpdatedAt;
      it.bPinned = p->bPinned;
      it.bArchived = p->bArchived;
      it.pTags = p->pTags;
      rc = sqlite_threads_insert_import(pDb, x->userId, &it);
      p->id = it.id;
      p->eResult = it.bImported ? CV_IMPORT_ADDED : CV_IMPORT_EXISTED;
    }else{
      assert( p->eKind==CV_CONV_CHAT );
      if( !aChat ){
        aChat = calloc((size_t)x->n, sizeof *aChat);
        aWhich = calloc((size_t)x->n, sizeof *aWhich);
        azPic = calloc((size_t)x->n, sizeof *azPic);
        if( !aChat || !aWhich || !azPic ){ rc = CV_NOMEM; break; }
      }
      if( p->zAltChatId ){
        int bHas = 0;
        rc = user_has_chat(pDb, x->userId, p->zAltChatId, &bHas);
        if( rc ) break;
        if( bHas ){
          p->eResult = CV_IMPORT_EXISTED;
          p->zChatIdOut = p->zAltChatId;
          continue;
        }
      }
      {
        struct cv_legacy_chat *c = &aChat[nChat];
        c->zChatId = p->zKey;
        c->characterId = p->characterId;
        c->sceneId = p->sceneId;
        c->personaId = p->personaId;
        c->zCharacterName = p->zCharacterName;
        c->zCharacterPicture = p->zCharacterPicture;
        c->zSceneName = p->zSceneName;
        c->zScenePicture = p->zScenePicture;
        if( p->bFindCharacter && p->zCharacterName ){
          rc = find_character(pDb, x->userId, p->zCharacterName, &c->characterId, &azPic[nChat]);
          if( rc ) break;
          c->zCharacterPicture = azPic[nChat];
        }
        c->zTitle = p->zTitle;
        c->zMessages = p->zMessages;
        c->nMessages = p->nMessages;
        c->zCreatedAt = p->zCreatedAt;
        c->zLastUpdated = p->zUpdatedAt ? p->zUpdatedAt : p->zCreatedAt;
        if( !c->zCreatedAt || !c->zLastUpdated ){ rc = CV_INVALID; break; }
        aWhich[nChat++] = i;
      }
    }
  }
  if( rc==CV_OK && nChat>0 ) rc = sqlite_chats_insert_batch(pDb, x->userId, aChat, nChat);
  for(i=0; rc==CV_OK && i<nChat; i++){
    struct cv_import_conv *p = &x->a[aWhich[i]];
    p->eResult = aChat[i].eResult;
    p->zChatIdOut = p->zKey;
  }
  if( azPic ) for(i=0; i<nChat; i++) free(azPic[i]);
  free(azPic);
  free(aWhich);
  free(aChat);
  return rc;
}

cv_rc sqlite_import_convs(struct cv_store *pS, int64_t userId, struct cv_import_conv *a, int n){
  struct convs_args x = { userId, a, n };
  int i;
  for(i=0; i<n; i++){
    /* chats need both times (the importer fills them); refuse rather than invent here */
    if( a[i].eKind==CV_CONV_CHAT && !a[i].zCreatedAt ) return CV_INVALID;
  }
  if( n<=0 ) return CV_OK;
  return db_write(pS, convs_job, &x);
}

struct people_args {
  int64_t userId;
  struct cv_import_person *a;
  int n;
};

static cv_rc people_job(struct cv_db *pDb, void *pArg){
  static const char *const azFind[2] = {
    "SELECT id FROM personas WHERE user_id=?1 AND name=?2 ORDER BY id LIMIT 1",
    "SELECT id FROM characters WHERE creator_id=?1 AND name=?2 ORDER BY id LIMIT 1",
  };
  static const char *const azAdd[2] = {
    "INSERT INTO personas(user_id, name, description, created_at)"
    " VALUES(?1,?2,coalesce(?3,''),?6) RETURNING id",
    "INSERT INTO characters(creator_id, name, description, picture, greeting, created_at)"
    " VALUES(?1,?2,coalesce(?3,''),coalesce(?4,''),coalesce(?5,''),?6) RETURNING id",
  };
  struct people_args *x = pArg;
  char zNow[CV_TS_LEN+1];
  int i;
  util_iso_format(util_now_ms(), zNow);
  for(i=0; i<x->n; i++){
    struct cv_import_person *p = &x->a[i];
    int k = p->bCharacter ? 1 : 0, src;
    cv_stmt *pSt;
    cv_rc rc = db_stmt(pDb, azFind[k], &pSt);
    p->id = 0;
    p->bCreated = 0;
    if( rc ) return rc;
    db_bind_int64(pSt, 1, x->userId);
    db_bind_text(pSt, 2, p->zName, -1, SQLITE_STATIC);
    src = db_step(pSt);
    if( src==SQLITE_ROW ) p->id = db_column_int64(pSt, 0);
    else if( src!=SQLITE_DONE ) rc = db_rc(pDb, src);
    db_reset(pSt);
    if( rc ) return rc;
    if( p->id ) continue;
    rc = db_stmt(pDb, azAdd[k], &pSt);
    if( rc ) return rc;
    db_bind_int64(pSt, 1, x->userId);
    db_bind_text(pSt, 2, p->zName, -1, SQLITE_STATIC);
    if( p->zDescription ) db_bind_text(pSt, 3, p->zDescription, -1, SQLITE_STATIC);
    if( k && p->zPicture ) db_bind_text(pSt, 4, p->zPicture, -1, SQLITE_STATIC);
    if( k && p->zGreeting ) db_bind_text(pSt, 5, p->zGreeting, -1, SQLITE_STATIC);
    db_bind_text(pSt, 6, p->zCreatedAt ? p->zCreatedAt : zNow, -1, SQLITE_STATIC);
    src = db_step(pSt);
    if( src==SQLITE_ROW ){
      p->id = db_column_int64(pSt, 0);
      p->bCreated = 1;
      rc = db_rc(pDb, db_step(pSt));
    }else{
      rc = db_rc(pDb, src);
      if( rc==CV_OK ) rc = CV_DB;
    }
    db_reset(pSt);
    if( rc ) return rc;
  }
  return CV_OK;
}

cv_rc sqlite_import_people(struct cv_store *pS, int64_t userId, struct cv_import_person *a,
                           int n){
  struct people_args x = { userId, a, n };
  if( n<=0 ) return CV_OK;
  return db_write(pS, people_job, &x);
}
