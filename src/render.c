/*
** render.c — see render.h. One function per shape, so the keys of each response are
** written in exactly one place.
*/
#include "render.h"
#include "store_threads.h"
#include "store_users.h"

int render_add_raw(cJSON *pObj, const char *zKey, const char *zJson){
  cJSON *p = cJSON_CreateRaw(zJson);
  if( !p ) return 0;
  if( !cJSON_AddItemToObject(pObj, zKey, p) ){ cJSON_Delete(p); return 0; }
  return 1;
}

int render_add_str(cJSON *pObj, const char *zKey, const char *z){
  return z ? cJSON_AddStringToObject(pObj, zKey, z)!=NULL
           : cJSON_AddNullToObject(pObj, zKey)!=NULL;
}

cJSON *render_user(const struct cv_user *u){
  cJSON *p = cJSON_CreateObject();
  if( !p ) return NULL;
  if( !cJSON_AddNumberToObject(p, "id", (double)u->id)
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
  if( !cJSON_AddNumberToObject(p, "id", (double)t->id)
   || !cJSON_AddNumberToObject(p, "user_id", (double)t->userId)
   || !render_add_str(p, "title", t->zTitle)
   || !render_add_raw(p, "messages", t->zMessages ? t->zMessages : "[]")
   || !render_add_str(p, "created_at", t->zCreatedAt)
   || !render_add_str(p, "updated_at", t->zUpdatedAt) ){
    cJSON_Delete(p);
    return NULL;
  }
  return p;
}

cJSON *render_thread_summary(const struct cv_thread *t){
  cJSON *p = cJSON_CreateObject();
  if( !p ) return NULL;
  if( !cJSON_AddNumberToObject(p, "id", (double)t->id)
   || !render_add_str(p, "title", t->zTitle)
   || !render_add_str(p, "created_at", t->zCreatedAt)
   || !render_add_str(p, "updated_at", t->zUpdatedAt)
   || !cJSON_AddNumberToObject(p, "message_count", (double)t->nMessages) ){
    cJSON_Delete(p);
    return NULL;
  }
  return p;
}

cJSON *render_append(long long threadId, const struct cv_append *a, const char *zMessage){
  cJSON *p = cJSON_CreateObject();
  if( !p ) return NULL;
  if( !cJSON_AddNumberToObject(p, "thread_id", (double)threadId)
   || !cJSON_AddNumberToObject(p, "index", (double)a->index)
   || !render_add_raw(p, "message", zMessage)
   || !render_add_str(p, "title", a->zTitle)
   || !render_add_str(p, "updated_at", a->zUpdatedAt) ){
    cJSON_Delete(p);
    return NULL;
  }
  return p;
}
