/*
** h_catalog.c — the character-chat catalog: /api/characters (with /recommended),
** /api/scenes and /api/personas. Every route needs a token: the caller becomes the creator
** of what it adds, and personas are private to it. Characters and scenes are shared by
** all users; only a character's creator may change or delete it (403 for anyone else).
** Lists take ?limit=1..200 (default 50) and ?offset=, in id order, with X-Total-Count, and
** X-Next-Cursor when more follow (?cursor= continues: keyset on the id).
** May call http, validate, render and store_catalog.
*/
#include "app.h"
#include "cursor.h"
#include "handlers.h"
#include "http.h"
#include "render.h"
#include "store.h"
#include "store_catalog.h"
#include "validate.h"

#include <stdio.h>
#include <string.h>

static const char *const azWhat[] = { "Character", "Scene", "Persona" };

static void reply_item(struct cv_req *r, int status, const struct cv_item *p){
  cJSON *pJ = render_item(p);
  http_reply_json(r, status, pJ, NULL);
  cJSON_Delete(pJ);
}

static void reply_items(struct cv_req *r, const struct cv_item *a, int n, const char *zHdr){
  cJSON *pArr = cJSON_CreateArray();
  int i;
  for(i=0; pArr && i<n; i++){
    cJSON *p = render_item(&a[i]);
    if( !p || !cJSON_AddItemToArray(pArr, p) ){ cJSON_Delete(p); cJSON_Delete(pArr); pArr = NULL; }
  }
  http_reply_json(r, 200, pArr, zHdr);
  cJSON_Delete(pArr);
}

/* The fields of an item body. bUpdate: every field optional, at least one required. */
struct item_fields {
  const char *zName, *zPicture, *zDescription, *zGreeting;
};

/* Validate the body for eKind; 1 ok, 0 when the 422 has been sent. */
static int read_fields(struct cv_req *r, enum cv_kind eKind, int bUpdate, struct item_fields *f){
  struct cv_verr e;
  int ok, n = 0, k;
  memset(f, 0, sizeof *f);
  verr_init(&e);
  ok = val_body_object(&e, r->pBody);
  if( ok ){
    k = val_string(&e, r->pBody, "body", "name", 1, CV_NAME_MAX_CHARS, !bUpdate, &f->zName);
    ok &= k>=0; n += k==1;
    if( eKind!=CV_KIND_PERSONA ){
      k = val_string(&e, r->pBody, "body", "picture", 0, CV_PICTURE_MAX_CHARS, 0, &f->zPicture);
      ok &= k>=0; n += k==1;
    }
    k = val_string(&e, r->pBody, "body", "description", 0, CV_DESCRIPTION_MAX_CHARS, 0,
                   &f->zDescription);
    ok &= k>=0; n += k==1;
    if( eKind==CV_KIND_CHARACTER ){
      k = val_string(&e, r->pBody, "body", "greeting", 0, CV_GREETING_MAX_CHARS, 0, &f->zGreeting);
      ok &= k>=0; n += k==1;
    }
    if( ok && bUpdate && n==0 ){
      verr_add(&e, "body", "value_error",
               "Value error, at least one of name, picture, description or greeting is required");
      ok = 0;
    }
  }
  if( !ok ) http_reply_422(r, &e);
  verr_free(&e);
  return ok;
}

static int create_item(struct cv_req *r, enum cv_kind eKind){
  struct item_fields f;
  struct cv_item it;
  cv_rc rc;
  if( !http_read_json(r) ) return r->status;
  if( !read_fields(r, eKind, 0, &f) ) return r->status;
  rc = store_catalog_create(r->pApp->pStore, eKind, r->userId, f.zName, f.zPicture,
                            f.zDescription, f.zGreeting, &it);
  if( rc ){ http_reply_rc(r, rc, "User"); return r->status; }
  reply_item(r, 201, &it);
  store_item_clear(&it);
  return r->status;
}

static int list_items(struct cv_req *r, enum cv_kind eKind){
  static const char acKind[] = { CV_CURSOR_CHARACTERS, CV_CURSOR_SCENES, CV_CURSOR_PERSONAS };
  struct cv_verr e;
  struct cv_cursor cur;
  struct cv_page pg;
  int64_t limit, offset, total = 0;
  struct cv_item *a = NULL;
  int n = 0, ok, k;
  char zHdr[64 + CV_CURSOR_HEADER_LEN];
  cv_rc rc;
  verr_init(&e);
  ok = val_query_int(&e, r->zQuery, "limit", 50, 1, CV_LIST_MAX, &limit)==1;
  ok &= val_query_int(&e, r->zQuery, "offset", 0, 0, INT64_MAX/2, &offset)==1;
  k = val_query_cursor(&e, r->zQuery, acKind[eKind], &cur);
  if( k<0 ) ok = 0;
  if( ok && k==1 && offset>0 ){
    verr_add(&e, "query.cursor", "value_error", "Value error, cursor and offset cannot be combined");
    ok = 0;
  }
  if( !ok ){ http_reply_422(r, &e); goto out; }
  memset(&pg, 0, sizeof pg);
  pg.limit = (int)limit;
  pg.offset = offset;
  if( k==1 ){
    pg.zAfterKey = "";
    pg.afterId = cur.id;
  }
  rc = store_catalog_list(r->pApp->pStore, eKind, r->userId, &pg, &a, &n, &total);
  if( rc ){ http_reply_rc(r, rc, azWhat[eKind]); goto out; }
  k = snprintf(zHdr, sizeof zHdr, "X-Total-Count: %lld\r\n", (long long)total);
  if( pg.bMore && n>0 ){
    struct cv_cursor next;
    memset(&next, 0, sizeof next);
    next.cKind = acKind[eKind];
    next.id = a[n-1].id;
    cursor_header(&next, zHdr + k, sizeof zHdr - (size_t)k);
  }
  reply_items(r, a, n, zHdr);
out:
  store_items_free(a, n);
  verr_free(&e);
  return r->status;
}

static int get_item(struct cv_req *r, enum cv_kind eKind){
  struct cv_item it;
  int64_t id;
  cv_rc rc;
  if( !http_path_id(r, 0, "id", &id) ) return r->status;
  rc = store_catalog_get(r->pApp->pStore, eKind, r->userId, id, &it);
  if( rc ){ http_reply_rc(r, rc, azWhat[eKind]); return r->status; }
  reply_item(r, 200, &it);
  store_item_clear(&it);
  return r->status;
}

/* ROUTE: GET /api/characters?limit=50&offset=0&cursor= (auth)
** 200 [character] in id order, X-Total-Count, X-Next-Cursor when more follow; 422 bad
** limit/offset/cursor or a cursor with offset>0. */
int h_characters_list(struct cv_req *r){
  return list_items(r, CV_KIND_CHARACTER);
}

/* ROUTE: POST /api/characters (auth) {name, picture?, description?, greeting?}
** 201 character; the caller is its creator; 422 invalid (name 1..100 characters). */
int h_characters_create(struct cv_req *r){
  return create_item(r, CV_KIND_CHARACTER);
}

/* ROUTE: GET /api/characters/{id} (auth) — 200 character; 404; 422 bad id. */
int h_characters_get(struct cv_req *r){
  return get_item(r, CV_KIND_CHARACTER);
}

/* ROUTE: PUT /api/characters/{id} (auth) {name?, picture?, description?, greeting?}
** (at least one) — 200 character; 403 not its creator; 404; 422. Chats keep the name and
** picture they copied. */
int h_characters_update(struct cv_req *r){
  struct item_fields f;
  struct cv_item it;
  int64_t id;
  cv_rc rc;
  if( !http_path_id(r, 0, "id", &id) ) return r->status;
  if( !http_read_json(r) ) return r->status;
  if( !read_fields(r, CV_KIND_CHARACTER, 1, &f) ) return r->status;
  rc = store_catalog_update_character(r->pApp->pStore, r->userId, id, f.zName, f.zPicture,
                                      f.zDescription, f.zGreeting, &it);
  if( rc ){ http_reply_rc(r, rc, "Character"); return r->status; }
  reply_item(r, 200, &it);
  store_item_clear(&it);
  return r->status;
}

/* ROUTE: DELETE /api/characters/{id} (auth) — 204; 403 not its creator; 404.
** The chats that used it stay, with character_id null and the copied name and picture. */
int h_characters_delete(struct cv_req *r){
  int64_t id;
  cv_rc rc;
  if( !http_path_id(r, 0, "id", &id) ) return r->status;
  rc = store_catalog_delete_character(r->pApp->pStore, r->userId, id);
  if( rc ){ http_reply_rc(r, rc, "Character"); return r->status; }
  http_reply_empty(r);
  return r->status;
}

/* ROUTE: GET /api/characters/recommended?limit=10 (auth)
** 200 [character] the caller has no chat with, in id order; 422 limit outside 1..50. */
int h_characters_recommended(struct cv_req *r){
  struct cv_verr e;
  struct cv_item *a = NULL;
  int64_t limit;
  int n = 0;
  cv_rc rc;
  verr_init(&e);
  if( val_query_int(&e, r->zQuery, "limit", 10, 1, CV_RECOMMENDED_MAX, &limit)!=1 ){
    http_reply_422(r, &e);
    goto out;
  }
  rc = store_catalog_recommended(r->pApp->pStore, r->userId, (int)limit, &a, &n);
  if( rc ){ http_reply_rc(r, rc, "Character"); goto out; }
  reply_items(r, a, n, NULL);
out:
  store_items_free(a, n);
  verr_free(&e);
  return r->status;
}

/* ROUTE: GET /api/scenes?limit=50&offset=0&cursor= (auth) — 200 [scene], X-Total-Count,
** X-Next-Cursor; 422. */
int h_scenes_list(struct cv_req *r){
  return list_items(r, CV_KIND_SCENE);
}

/* ROUTE: POST /api/scenes (auth) {name, picture?, description?} — 201 scene; 422. */
int h_scenes_create(struct cv_req *r){
  return create_item(r, CV_KIND_SCENE);
}

/* ROUTE: GET /api/scenes/{id} (auth) — 200 scene; 404; 422 bad id. */
int h_scenes_get(struct cv_req *r){
  return get_item(r, CV_KIND_SCENE);
}

/* ROUTE: GET /api/personas?limit=50&offset=0&cursor= (auth) — 200 [persona] of the caller
** only, X-Total-Count, X-Next-Cursor; 422. */
int h_personas_list(struct cv_req *r){
  return list_items(r, CV_KIND_PERSONA);
}

/* ROUTE: POST /api/personas (auth) {name, description?} — 201 persona (the caller's); 422. */
int h_personas_create(struct cv_req *r){
  return create_item(r, CV_KIND_PERSONA);
}
