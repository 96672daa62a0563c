/*
** store_catalog.c — SQL for characters, scenes and personas, and the pictures served for
** characters (a card's image, written with its character in one job). Every item statement
** selects the same seven columns (id, owner, name, picture, description, greeting, created_at), with
** NULL for a column the kind does not have, so one row reader serves the three tables.
** The SQL of each kind is a static string picked from a table by kind (db_stmt caches by
** address). Ownership checks are in the WHERE clauses, and the "why not" question
** (missing or someone else's) is asked only after a statement changed nothing.
** May call db, SQLite and util.
*/
#include "store_catalog.h"
#include "store_backend.h"
#include "db.h"
#include "util.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Fill *pOut from the seven item columns starting at column 0. */
static cv_rc row_to_item(cv_stmt *pSt, enum cv_kind eKind, struct cv_item *pOut){
  cv_rc rc = CV_OK;
  memset(pOut, 0, sizeof *pOut);
  pOut->eKind = eKind;
  pOut->id = db_column_int64(pSt, 0);
  pOut->ownerId = db_column_int64(pSt, 1);   /* NULL reads as 0 */
  pOut->zName = db_col_dup(pSt, 2, &rc);
  pOut->zPicture = db_col_dup(pSt, 3, &rc);
  pOut->zDescription = db_col_dup(pSt, 4, &rc);
  pOut->zGreeting = db_col_dup(pSt, 5, &rc);
  db_col_copy(pSt, 6, pOut->zCreatedAt, sizeof pOut->zCreatedAt);
  if( rc ) store_item_clear(pOut);
  return rc;
}

#define CHAR_COLS    "id, creator_id, name, picture, description, greeting, created_at"
#define SCENE_COLS   "id, creator_id, name, picture, description, NULL, created_at"
#define PERSONA_COLS "id, user_id, name, NULL, description, NULL, created_at"

/* ---- create ------------------------------------------------------------------------- */

static const char *const azInsert[] = {
  "INSERT INTO characters(creator_id, name, picture, description, greeting, created_at)"
  " VALUES(?1,?2,?3,?4,?5,?6) RETURNING " CHAR_COLS,
  "INSERT INTO scenes(creator_id, name, picture, description, created_at)"
  " VALUES(?1,?2,?3,?4,?6) RETURNING " SCENE_COLS,
  "INSERT INTO personas(user_id, name, description, created_at)"
  " VALUES(?1,?2,?4,?6) RETURNING " PERSONA_COLS,
};

struct create_args {
  enum cv_kind eKind;
  int64_t ownerId;
  const char *zName, *zPicture, *zDescription, *zGreeting;
  struct cv_item *pOut;
};

static cv_rc create_job(struct cv_db *pDb, void *pArg){
  struct create_args *a = pArg;
  cv_stmt *pSt;
  char zNow[CV_TS_LEN+1];
  int src;
  cv_rc rc;
  /* an earlier try's output freed first (db.h, db_write) */
  store_item_clear(a->pOut);
  rc = db_stmt(pDb, azInsert[a->eKind], &pSt);
  if( rc ) return rc;
  util_iso_format(util_now_ms(), zNow);
  db_bind_int64(pSt, 1, a->ownerId);
  db_bind_text(pSt, 2, a->zName, -1, SQLITE_STATIC);
  if( a->eKind!=CV_KIND_PERSONA ){
    db_bind_text(pSt, 3, a->zPicture ? a->zPicture : "", -1, SQLITE_STATIC);
  }
  db_bind_text(pSt, 4, a->zDescription ? a->zDescription : "", -1, SQLITE_STATIC);
  if( a->eKind==CV_KIND_CHARACTER ){
    db_bind_text(pSt, 5, a->zGreeting ? a->zGreeting : "", -1, SQLITE_STATIC);
  }
  db_bind_text(pSt, 6, zNow, -1, SQLITE_STATIC);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    rc = row_to_item(pSt, a->eKind, a->pOut);
    if( rc==CV_OK ) rc = db_rc(pDb, db_step(pSt));
  }else{
    rc = db_rc(pDb, src);
    if( rc==CV_OK ) rc = CV_DB;
  }
  db_reset(pSt);
  return rc;
}

cv_rc sqlite_catalog_create(struct cv_store *pS, enum cv_kind eKind, int64_t ownerId,
                           const char *zName, const char *zPicture, const char *zDescription,
                           const char *zGreeting, struct cv_item *pOut){
  struct create_args a;
  cv_rc rc;
  assert( eKind>=CV_KIND_CHARACTER && eKind<=CV_KIND_PERSONA );
  assert( ownerId>0 && zName );
  memset(pOut, 0, sizeof *pOut);
  a.eKind = eKind;
  a.ownerId = ownerId;
  a.zName = zName;
  a.zPicture = zPicture;
  a.zDescription = zDescription;
  a.zGreeting = zGreeting;
  a.pOut = pOut;
  rc = db_write(pS, create_job, &a);
  if( rc ) store_item_clear(pOut);
  return rc;
}

/* ---- read ----------------------------------------------------------------------------- */

static const char *const azGet[] = {
  "SELECT " CHAR_COLS " FROM characters WHERE id=?1",
  "SELECT " SCENE_COLS " FROM scenes WHERE id=?1",
  "SELECT " PERSONA_COLS " FROM personas WHERE id=?1 AND user_id=?2",
};

/* Read one item on any connection. */
static cv_rc read_item(struct cv_db *pDb, enum cv_kind eKind, int64_t userId, int64_t id,
                       struct cv_item *pOut){
  cv_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, azGet[eKind], &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, id);
  if( eKind==CV_KIND_PERSONA ) db_bind_int64(pSt, 2, userId);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) rc = row_to_item(pSt, eKind, pOut);
  else if( src==SQLITE_DONE ) rc = CV_NOTFOUND;
  else rc = db_rc(pDb, src);
  db_reset(pSt);
  return rc;
}

cv_rc sqlite_catalog_get(struct cv_store *pS, enum cv_kind eKind, int64_t userId, int64_t id,
                        struct cv_item *pOut){
  struct cv_db *pDb;
  cv_rc rc;
  assert( eKind>=CV_KIND_CHARACTER && eKind<=CV_KIND_PERSONA );
  memset(pOut, 0, sizeof *pOut);
  pDb = db_reader(pS);
  rc = read_item(pDb, eKind, userId, id, pOut);
  db_reader_done(pS, pDb);
  return rc;
}

static const char *const azCount[] = {
  "SELECT count(*) FROM characters WHERE ?1 IS NOT NULL",
  "SELECT count(*) FROM scenes WHERE ?1 IS NOT NULL",
  "SELECT count(*) FROM personas WHERE user_id=?1",
};
static const char *const azList[] = {
  "SELECT " CHAR_COLS " FROM characters WHERE ?1 IS NOT NULL ORDER BY id LIMIT ?2 OFFSET ?3",
  "SELECT " SCENE_COLS " FROM scenes WHERE ?1 IS NOT NULL ORDER BY id LIMIT ?2 OFFSET ?3",
  "SELECT " PERSONA_COLS " FROM personas WHERE user_id=?1 ORDER BY id LIMIT ?2 OFFSET ?3",
};
/* keyset: ids above ?4, a SEARCH on the rowid (personas: on personas_user, whose entries
** end with the rowid) */
static const char *const azListAfter[] = {
  "SELECT " CHAR_COLS " FROM characters WHERE ?1 IS NOT NULL AND id>?4 ORDER BY id"
  " LIMIT ?2 OFFSET ?3",
  "SELECT " SCENE_COLS " FROM scenes WHERE ?1 IS NOT NULL AND id>?4 ORDER BY id"
  " LIMIT ?2 OFFSET ?3",
  "SELECT " PERSONA_COLS " FROM personas WHERE user_id=?1 AND id>?4 ORDER BY id"
  " LIMIT ?2 OFFSET ?3",
};

/* Step pSt (already bound) collecting at most limit items into a new array. */
static cv_rc collect(struct cv_db *pDb, cv_stmt *pSt, enum cv_kind eKind, int limit,
                     struct cv_item **paOut, int *pnOut){
  struct cv_item *a = calloc((size_t)limit, sizeof *a);
  int n = 0, src = SQLITE_DONE;
  cv_rc rc = CV_OK;
  if( !a ) return CV_NOMEM;
  while( n<limit && (src = db_step(pSt))==SQLITE_ROW ){
    rc = row_to_item(pSt, eKind, &a[n]);
    if( rc ) break;
    n++;
  }
  if( rc==CV_OK && src!=SQLITE_ROW && src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  if( rc ){ store_items_free(a, n); return rc; }
  if( n==0 ){ free(a); a = NULL; }
  *paOut = a;
  *pnOut = n;
  return CV_OK;
}

cv_rc sqlite_catalog_list(struct cv_store *pS, enum cv_kind eKind, int64_t userId,
                         struct cv_page *pPage, struct cv_item **paOut, int *pnOut,
                         int64_t *pnTotal){
  struct cv_db *pDb;
  cv_stmt *pSt;
  int src, limit = pPage->limit;
  cv_rc rc;
  assert( eKind>=CV_KIND_CHARACTER && eKind<=CV_KIND_PERSONA );
  assert( limit>0 && limit<=CV_LIST_MAX && pPage->offset>=0 );
  *paOut = NULL;
  *pnOut = 0;
  *pnTotal = 0;
  pPage->bMore = 0;
  pDb = db_reader(pS);
  rc = db_exec(pDb, "BEGIN");     /* count and page from one snapshot */
  if( rc ) goto out;
  rc = db_stmt(pDb, azCount[eKind], &pSt);
  if( rc ) goto end;
  db_bind_int64(pSt, 1, userId);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) *pnTotal = db_column_int64(pSt, 0);
  else rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc ) goto end;
  rc = db_stmt(pDb, pPage->zAfterKey ? azListAfter[eKind] : azList[eKind], &pSt);
  if( rc ) goto end;
  db_bind_int64(pSt, 1, userId);
  db_bind_int(pSt, 2, limit + 1);        /* one more: is there a next page? */
  db_bind_int64(pSt, 3, pPage->offset);
  if( pPage->zAfterKey ) db_bind_int64(pSt, 4, pPage->afterId);
  rc = collect(pDb, pSt, eKind, limit + 1, paOut, pnOut);
  db_reset(pSt);
  if( rc==CV_OK && *pnOut>limit ){           /* the extra row only says "more" */
    store_item_clear(&(*paOut)[limit]);
    *pnOut = limit;
    pPage->bMore = 1;
  }
end:
  db_exec(pDb, "COMMIT");
out:
  db_reader_done(pS, pDb);
  return rc;
}

cv_rc sqlite_catalog_recommended(struct cv_store *pS, int64_t userId, int limit,
                                struct cv_item **paOut, int *pnOut){
  static const char zSql[] =
    "SELECT " CHAR_COLS " FROM characters c WHERE NOT EXISTS"
    " (SELECT 1 FROM chat_histories h WHERE h.user_id=?1 AND h.character_id=c.id)"
    " ORDER BY c.id LIMIT ?2";
  struct cv_db *pDb;
  cv_stmt *pSt;
  cv_rc rc;
  assert( limit>0 && limit<=CV_RECOMMENDED_MAX );
  *paOut = NULL;
  *pnOut = 0;
  pDb = db_reader(pS);
  rc = db_stmt(pDb, zSql, &pSt);
  if( rc==CV_OK ){
    db_bind_int64(pSt, 1, userId);
    db_bind_int(pSt, 2, limit);
    rc = collect(pDb, pSt, CV_KIND_CHARACTER, limit, paOut, pnOut);
    db_reset(pSt);
  }
  db_reader_done(pS, pDb);
  return rc;
}

/* ---- change and delete (creator only) ------------------------------------------------ */

/* After a creator-only statement changed nothing: CV_NOTFOUND or CV_FORBIDDEN. */
static cv_rc why_not_character(struct cv_db *pDb, int64_t id){
  static const char zSql[] = "SELECT 1 FROM characters WHERE id=?1";
  cv_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, id);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) rc = CV_FORBIDDEN;
  else if( src==SQLITE_DONE ) rc = CV_NOTFOUND;
  else rc = db_rc(pDb, src);
  db_reset(pSt);
  return rc;
}

struct update_args {
  int64_t userId, id;
  const char *zName, *zPicture, *zDescription, *zGreeting;
  struct cv_item *pOut;
};

static cv_rc update_job(struct cv_db *pDb, void *pArg){
  static const char zSql[] =
    "UPDATE characters SET name=coalesce(?3,name), picture=coalesce(?4,picture),"
    " description=coalesce(?5,description), greeting=coalesce(?6,greeting)"
    " WHERE id=?1 AND creator_id=?2 RETURNING " CHAR_COLS;
  struct update_args *a = pArg;
  cv_stmt *pSt;
  int src;
  cv_rc rc;
  /* an earlier try's output freed first (db.h, db_write) */
  store_item_clear(a->pOut);
  rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, a->id);
  db_bind_int64(pSt, 2, a->userId);
  if( a->zName ) db_bind_text(pSt, 3, a->zName, -1, SQLITE_STATIC);
  if( a->zPicture ) db_bind_text(pSt, 4, a->zPicture, -1, SQLITE_STATIC);
  if( a->zDescription ) db_bind_text(pSt, 5, a->zDescription, -1, SQLITE_STATIC);
  if( a->zGreeting ) db_bind_text(pSt, 6, a->zGreeting, -1, SQLITE_STATIC);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    rc = row_to_item(pSt, CV_KIND_CHARACTER, a->pOut);
    if( rc==CV_OK ) rc = db_rc(pDb, db_step(pSt));
  }else{
    rc = src==SQLITE_DONE ? CV_NOTFOUND : db_rc(pDb, src);
  }
  db_reset(pSt);
  if( rc==CV_NOTFOUND ) rc = why_not_character(pDb, a->id);
  return rc;
}

cv_rc sqlite_catalog_update_character(struct cv_store *pS, int64_t userId, int64_t id,
                                     const char *zName, const char *zPicture,
                                     const char *zDescription, const char *zGreeting,
                                     struct cv_item *pOut){
  struct update_args a;
  cv_rc rc;
  memset(pOut, 0, sizeof *pOut);
  a.userId = userId;
  a.id = id;
  a.zName = zName;
  a.zPicture = zPicture;
  a.zDescription = zDescription;
  a.zGreeting = zGreeting;
  a.pOut = pOut;
  rc = db_write(pS, update_job, &a);
  if( rc ) store_item_clear(pOut);
  return rc;
}

struct delete_args { int64_t userId, id; };

static cv_rc delete_job(struct cv_db *pDb, void *pArg){
  static const char zSql[] = "DELETE FROM characters WHERE id=?1 AND creator_id=?2";
  struct delete_args *a = pArg;
  cv_stmt *pSt;
  int nChanged;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, a->id);
  db_bind_int64(pSt, 2, a->userId);
  rc = db_step_done(pDb, pSt, &nChanged);
  if( rc ) return rc;
  return nChanged ? CV_OK : why_not_character(pDb, a->id);
}

cv_rc sqlite_catalog_delete_character(struct cv_store *pS, int64_t userId, int64_t id){
  struct delete_args a;
  a.userId = userId;
  a.id = id;
  return db_write(pS, delete_job, &a);
}

/* ---- pictures ------------------------------------------------------------------------ */

struct create_pic_args {
  const struct cv_picture_in *pPic;   /* NULL: the character only */
  struct create_args c;
};

/* The picture row, then the character (create_job), in the job's one savepoint: an error in
** either undoes both. */
static cv_rc create_pic_job(struct cv_db *pDb, void *pArg){
  static const char zSql[] =
    "INSERT INTO pictures(token, user_id, type, data, created_at) VALUES(?1,?2,?3,?4,?5)";
  struct create_pic_args *a = pArg;
  cv_stmt *pSt;
  char zNow[CV_TS_LEN+1];
  cv_rc rc;
  if( a->pPic ){
    rc = db_stmt(pDb, zSql, &pSt);
    if( rc ) return rc;
    util_iso_format(util_now_ms(), zNow);
    db_bind_text(pSt, 1, a->pPic->zToken, -1, SQLITE_STATIC);
    db_bind_int64(pSt, 2, a->c.ownerId);
    db_bind_text(pSt, 3, a->pPic->zType, -1, SQLITE_STATIC);
    db_bind_blob64(pSt, 4, a->pPic->a, (sqlite3_uint64)a->pPic->n, SQLITE_STATIC);
    db_bind_text(pSt, 5, zNow, -1, SQLITE_STATIC);
    rc = db_step_done(pDb, pSt, NULL);
    if( rc ) return rc;
  }
  return create_job(pDb, &a->c);
}

cv_rc sqlite_catalog_create_with_picture(struct cv_store *pS, int64_t ownerId, const char *zName,
                                        const char *zPicture, const char *zDescription,
                                        const char *zGreeting, const struct cv_picture_in *pPic,
                                        struct cv_item *pOut){
  struct create_pic_args a;
  cv_rc rc;
  assert( ownerId>0 && zName );
  assert( !pPic || (pPic->zToken && strlen(pPic->zToken)==CV_PICTURE_TOKEN_LEN
                    && pPic->zType && pPic->a && pPic->n>0) );
  memset(pOut, 0, sizeof *pOut);
  memset(&a, 0, sizeof a);
  a.pPic = pPic;
  a.c.eKind = CV_KIND_CHARACTER;
  a.c.ownerId = ownerId;
  a.c.zName = zName;
  a.c.zPicture = zPicture;
  a.c.zDescription = zDescription;
  a.c.zGreeting = zGreeting;
  a.c.pOut = pOut;
  rc = db_write(pS, create_pic_job, &a);
  if( rc ) store_item_clear(pOut);
  return rc;
}

cv_rc sqlite_catalog_picture_get(struct cv_store *pS, const char *zToken, struct cv_picture *pOut){
  static const char zSql[] = "SELECT type, data FROM pictures WHERE token=?1";
  struct cv_db *pDb;
  cv_stmt *pSt;
  int src;
  cv_rc rc;
  memset(pOut, 0, sizeof *pOut);
  pDb = db_reader(pS);
  rc = db_stmt(pDb, zSql, &pSt);
  if( rc==CV_OK ){
    db_bind_text(pSt, 1, zToken, -1, SQLITE_STATIC);
    src = db_step(pSt);
    if( src==SQLITE_ROW ){
      const void *pData = db_column_blob(pSt, 1);
      int n = db_column_bytes(pSt, 1);
      pOut->zType = db_col_dup(pSt, 0, &rc);
      if( rc==CV_OK && n>0 && pData ){
        pOut->a = malloc((size_t)n);
        if( pOut->a ){
          memcpy(pOut->a, pData, (size_t)n);
          pOut->n = (size_t)n;
        }else{
          rc = CV_NOMEM;
        }
      }
      if( rc==CV_OK && (!pOut->zType || !pOut->a) ) rc = CV_DB;  /* NOT NULL columns */
    }else if( src==SQLITE_DONE ){
      rc = CV_NOTFOUND;
    }else{
      rc = db_rc(pDb, src);
    }
    db_reset(pSt);
  }
  db_reader_done(pS, pDb);
  if( rc ) store_picture_clear(pOut);
  return rc;
}
