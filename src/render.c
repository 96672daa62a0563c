/*
** render.c — see render.h. One function per shape, so the keys of each response are
** written in exactly one place.
*/
#include "render.h"

#include <stdio.h>
#include <string.h>
#include "store_catalog.h"
#include "store_chats.h"
#include "store_threads.h"
#include "store_users.h"
#include "util.h"

int render_add_raw(cJSON *pObj, const char *zKey, const char *zJson){
  cJSON *p = cJSON_CreateRaw(zJson);
  if( !p ) return 0;
  if( !cJSON_AddItemToObject(pObj, zKey, p) ){ cJSON_Delete(p); return 0; }
  return 1;
}

int render_add_int(cJSON *pObj, const char *zKey, long long v){
  char z[24];
  snprintf(z, sizeof z, "%lld", v);
  return render_add_raw(pObj, zKey, z);
}

int render_add_str(cJSON *pObj, const char *zKey, const char *z){
  return z ? cJSON_AddStringToObject(pObj, zKey, z)!=NULL
           : cJSON_AddNullToObject(pObj, zKey)!=NULL;
}

cJSON *render_user(const struct cv_user *u){
  cJSON *p = cJSON_CreateObject();
  if( !p ) return NULL;
  if( !render_add_int(p, "id", (long long)(u->id))
   || !render_add_str(p, "email", u->zEmail)
   || !render_add_str(p, "display_name", u->zDisplayName)
   || !render_add_str(p, "created_at", u->zCreatedAt) ){
    cJSON_Delete(p);
    return NULL;
  }
  return p;
}

cJSON *render_thread(const struct cv_thread *t){
  cJSON *p = cJSON_CreateObject();
  if( !p ) return NULL;
  if( !render_add_int(p, "id", (long long)(t->id))
   || !render_add_int(p, "user_id", (long long)(t->userId))
   || !render_add_str(p, "title", t->zTitle)
   || !render_add_raw(p, "messages", t->zMessages ? t->zMessages : "[]")
   || !render_add_str(p, "created_at", t->zCreatedAt)
   || !render_add_str(p, "updated_at", t->zUpdatedAt) ){
    cJSON_Delete(p);
    return NULL;
  }
  return p;
}

cJSON *render_append(long long threadId, const struct cv_append *a, const char *zMessage){
  cJSON *p = cJSON_CreateObject();
  if( !p ) return NULL;
  if( !render_add_int(p, "thread_id", (long long)(threadId))
   || !render_add_int(p, "index", (long long)(a->index))
   || !render_add_raw(p, "message", zMessage)
   || !render_add_str(p, "title", a->zTitle)
   || !render_add_str(p, "updated_at", a->zUpdatedAt) ){
    cJSON_Delete(p);
    return NULL;
  }
  return p;
}

cJSON *render_item(const struct cv_item *it){
  cJSON *p = cJSON_CreateObject();
  int ok;
  if( !p ) return NULL;
  ok = render_add_int(p, "id", (long long)(it->id))
    && render_add_str(p, "name", it->zName);
  if( ok && it->eKind!=CV_KIND_PERSONA ){
    ok = render_add_str(p, "picture", it->zPicture ? it->zPicture : "");
  }
  if( ok ) ok = render_add_str(p, "description", it->zDescription ? it->zDescription : "");
  if( ok && it->eKind==CV_KIND_CHARACTER ){
    ok = render_add_str(p, "greeting", it->zGreeting ? it->zGreeting : "");
  }
  if( ok ) ok = render_add_str(p, "created_at", it->zCreatedAt);
  if( !ok ){ cJSON_Delete(p); return NULL; }
  return p;
}

/* Add an id, or null when 0. 0 on OOM. */
static int add_id(cJSON *pObj, const char *zKey, long long id){
  return id ? render_add_int(pObj, zKey, id)
            : cJSON_AddNullToObject(pObj, zKey)!=NULL;
}

cJSON *render_chat_entry(const struct cv_chat *c){
  cJSON *p = cJSON_CreateObject();
  if( !p ) return NULL;
  if( !render_add_str(p, "chat_id", c->zChatId)
   || !add_id(p, "character_id", (long long)c->characterId)
   || !render_add_str(p, "character_name", c->zCharacterName)
   || !render_add_str(p, "character_picture", c->zCharacterPicture)
   || !add_id(p, "scene_id", (long long)c->sceneId)
   || !render_add_str(p, "scene_name", c->zSceneName)
   || !render_add_str(p, "scene_picture", c->zScenePicture)
   || !add_id(p, "persona_id", (long long)c->personaId)
   || !render_add_str(p, "title", c->zTitle ? c->zTitle : "")
   || !render_add_raw(p, "messages", c->zMessages ? c->zMessages : "[]")
   || !render_add_str(p, "last_updated", c->zLastUpdated)
   || !render_add_str(p, "created_at", c->zCreatedAt) ){
    cJSON_Delete(p);
    return NULL;
  }
  return p;
}

cJSON *render_chat_entries(const struct cv_chat *a, int n){
  cJSON *pArr = cJSON_CreateArray();
  int i;
  for(i=0; pArr && i<n; i++){
    cJSON *p = render_chat_entry(&a[i]);
    if( !p || !cJSON_AddItemToArray(pArr, p) ){
      cJSON_Delete(p);
      cJSON_Delete(pArr);
      return NULL;
    }
  }
  return pArr;
}

cJSON *render_user_with_history(const struct cv_user *u, const struct cv_chat *a, int n){
  cJSON *p = render_user(u);
  cJSON *pArr;
  if( !p ) return NULL;
  pArr = render_chat_entries(a, n);
  if( !pArr || !cJSON_AddItemToObject(p, "chat_history", pArr) ){
    cJSON_Delete(pArr);
    cJSON_Delete(p);
    return NULL;
  }
  return p;
}

cv_rc render_json_string(struct cv_buf *b, const char *z){
  static const char hex[] = "0123456789abcdef";
  const char *zRun = z;
  cv_rc rc = buf_append(b, "\"", 1);
  for(; rc==CV_OK && *z; z++){
    unsigned char c = (unsigned char)*z;
    char zEsc[7];
    size_t nEsc = 2;
    if( c>=0x20 && c!='"' && c!='\\' ) continue;
    rc = buf_append(b, zRun, (size_t)(z - zRun));
    zEsc[0] = '\\';
    switch( c ){
      case '"':  zEsc[1] = '"'; break;
      case '\\': zEsc[1] = '\\'; break;
      case '\b': zEsc[1] = 'b'; break;
      case '\f': zEsc[1] = 'f'; break;
      case '\n': zEsc[1] = 'n'; break;
      case '\r': zEsc[1] = 'r'; break;
      case '\t': zEsc[1] = 't'; break;
      default:
        zEsc[1] = 'u'; zEsc[2] = '0'; zEsc[3] = '0';
        zEsc[4] = hex[c>>4]; zEsc[5] = hex[c&15];
        nEsc = 6;
    }
    if( rc==CV_OK ) rc = buf_append(b, zEsc, nEsc);
    zRun = z + 1;
  }
  if( rc==CV_OK ) rc = buf_append(b, zRun, (size_t)(z - zRun));
  if( rc==CV_OK ) rc = buf_append(b, "\"", 1);
  return rc;
}

cv_rc render_thread_summaries(struct cv_buf *b, const struct cv_thread *a, int n){
  int i;
  cv_rc rc = buf_append(b, "[", 1);
  for(i=0; rc==CV_OK && i<n; i++){
    rc = buf_appendf(b, "%s{\"id\":%lld,\"title\":", i ? "," : "", (long long)a[i].id);
    if( rc==CV_OK ) rc = render_json_string(b, a[i].zTitle ? a[i].zTitle : "");
    if( rc==CV_OK ) rc = buf_appendf(b, ",\"created_at\":\"%s\",\"updated_at\":\"%s\","
                                     "\"message_count\":%lld}", a[i].zCreatedAt, a[i].zUpdatedAt,
                                     (long long)a[i].nMessages);
  }
  if( rc==CV_OK ) rc = buf_append(b, "]", 1);
  return rc;
}

cv_rc render_thread_json(struct cv_buf *b, const struct cv_thread *t){
  cv_rc rc = buf_appendf(b, "{\"id\":%lld,\"user_id\":%lld,\"title\":",
                         (long long)t->id, (long long)t->userId);
  if( rc==CV_OK ) rc = render_json_string(b, t->zTitle ? t->zTitle : "");
  if( rc==CV_OK ) rc = buf_append(b, ",\"messages\":", 12);
  if( rc==CV_OK ){
    const char *zM = t->zMessages ? t->zMessages : "[]";
    rc = buf_append(b, zM, strlen(zM));
  }
  if( rc==CV_OK ) rc = buf_appendf(b, ",\"created_at\":\"%s\",\"updated_at\":\"%s\"}",
                                   t->zCreatedAt, t->zUpdatedAt);
  return rc;
}
