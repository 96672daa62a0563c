/*
** fuzz_json_body.c — a request body through val_parse_json and then the getters the
** handlers call on it (register/login, thread create/update, append, import, /api/chat,
** rename, catalog items). Properties beyond "no crash, no leak":
**   - a body accepted by val_parse_json is an object tree cJSON can print, and the printed
**     text is accepted again (nothing it keeps is unprintable);
**   - every 422 list (what the client receives) prints as valid UTF-8 JSON;
**   - messages normalized by val_messages / val_message are valid JSON arrays/objects of
**     exactly {role, content} with role user|assistant.
*/
#include "fuzz_common.h"
#include "util.h"
#include "validate.h"

#include <stdint.h>

/* What the client would receive for the errors: must be printable, valid UTF-8 JSON. */
static void check_verr(struct cv_verr *e){
  if( e->pList ){
    char *z = cJSON_PrintUnformatted(e->pList);
    if( z ){
      cJSON *p;
      FZ_CHECK( fz_utf8_ref((const unsigned char*)z, strlen(z), NULL) );
      p = cJSON_Parse(z);
      FZ_CHECK( p!=NULL );
      cJSON_Delete(p);
      cJSON_free(z);
    }
  }
  verr_free(e);
}

static void check_messages_json(const char *z, int64_t n){
  cJSON *p = cJSON_Parse(z), *m;
  int64_t k = 0;
  FZ_CHECK( cJSON_IsArray(p) );
  cJSON_ArrayForEach(m, p){
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(m, "role");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "content");
    FZ_CHECK( cJSON_GetArraySize(m)==2 );
    FZ_CHECK( cJSON_IsString(r) && cJSON_IsString(c) );
    FZ_CHECK( strcmp(r->valuestring, "user")==0 || strcmp(r->valuestring, "assistant")==0 );
    k++;
  }
  FZ_CHECK( k==n );
  cJSON_Delete(p);
}

static void as_object(const cJSON *pObj, const char *zLoc){
  struct cv_verr e;
  const char *z;
  int64_t v;
  int b;
  char *zJson = NULL;
  int64_t nMsg = 0;
  cJSON *pNorm = NULL;

  /* register / login */
  verr_init(&e);
  val_email(&e, pObj, zLoc, "email", &z);
  val_string(&e, pObj, zLoc, "password", CV_PASSWORD_MIN_CHARS, CV_PASSWORD_MAX_CHARS, 1, &z);
  val_string(&e, pObj, zLoc, "display_name", 0, CV_DISPLAY_NAME_MAX_CHARS, 0, &z);
  check_verr(&e);

  /* thread create / update, import item */
  verr_init(&e);
  val_string(&e, pObj, zLoc, "title", 1, CV_TITLE_MAX_CHARS, 0, &z);
  if( val_messages(&e, pObj, zLoc, "messages", 0, &zJson, &nMsg)==1 ){
    FZ_CHECK( fz_utf8_ref((const unsigned char*)zJson, strlen(zJson), NULL) );
    check_messages_json(zJson, nMsg);
    free(zJson);
  }
  if( val_string(&e, pObj, zLoc, "created_at", 1, 64, 0, &z)==1 ){
    int64_t ms;
    if( util_iso_parse(z, &ms)==CV_OK ){
      char zTs[CV_TS_LEN+1];
      util_iso_format(ms, zTs);
    }
  }
  if( cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(pObj, "client_id")) ){
    val_int(&e, pObj, zLoc, "client_id", INT64_MIN/2, INT64_MAX/2, 1, &v);
  }else{
    val_string(&e, pObj, zLoc, "client_id", 1, 255, 1, &z);
  }
  check_verr(&e);

  /* append: the body is the message */
  verr_init(&e);
  if( val_message(&e, pObj, zLoc, &pNorm)==1 ){
    char *zM = cJSON_PrintUnformatted(pNorm);
    FZ_CHECK( zM!=NULL );
    FZ_CHECK( fz_utf8_ref((const unsigned char*)zM, strlen(zM), NULL) );
    cJSON_free(zM);
    cJSON_Delete(pNorm);
  }
  check_verr(&e);

  /* /api/chat, /complete, rename, catalog */
  verr_init(&e);
  if( val_string(&e, pObj, zLoc, "chat_id", 0, 64, 0, &z)==1 ) (void)util_uuid_valid(z);
  val_int(&e, pObj, zLoc, "character_id", 1, INT64_MAX/2, 0, &v);
  val_int(&e, pObj, zLoc, "scene_id", 1, INT64_MAX/2, 0, &v);
  val_int(&e, pObj, zLoc, "persona_id", 1, INT64_MAX/2, 0, &v);
  val_string(&e, pObj, zLoc, "message", 1, CV_MESSAGE_MAX_CHARS, 1, &z);
  val_string(&e, pObj, zLoc, "content", 1, CV_MESSAGE_MAX_CHARS, 1, &z);
  val_bool(&e, pObj, zLoc, "stream", 0, &b);
  val_string(&e, pObj, zLoc, "name", 1, CV_NAME_MAX_CHARS, 1, &z);
  val_string(&e, pObj, zLoc, "picture", 0, CV_PICTURE_MAX_CHARS, 0, &z);
  val_string(&e, pObj, zLoc, "description", 0, CV_DESCRIPTION_MAX_CHARS, 0, &z);
  val_string(&e, pObj, zLoc, "greeting", 0, CV_GREETING_MAX_CHARS, 0, &z);
  check_verr(&e);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n){
  struct cv_verr e;
  cJSON *pRoot = NULL;
  cv_rc rc;
  if( n > (1u<<20) ) return 0;   /* the server's --max-body default */
  verr_init(&e);
  rc = val_parse_json((const char*)data, n, &e, &pRoot);
  FZ_CHECK( rc==CV_OK || rc==CV_INVALID );
  FZ_CHECK( (rc==CV_OK) == (pRoot!=NULL) );
  FZ_CHECK( (rc==CV_INVALID) == (e.n>0) );
  check_verr(&e);
  if( !pRoot ) return 0;
  {
    /* what was accepted can be printed and is accepted again */
    char *z = cJSON_PrintUnformatted(pRoot);
    cJSON *p2 = NULL;
    FZ_CHECK( z!=NULL );
    verr_init(&e);
    rc = val_parse_json(z, strlen(z), &e, &p2);
    if( rc!=CV_OK ) fprintf(stderr, "reprint not accepted: %s\n", z);
    FZ_CHECK( rc==CV_OK );
    cJSON_Delete(p2);
    check_verr(&e);
    cJSON_free(z);
  }
  verr_init(&e);
  if( val_body_object(&e, pRoot) ){
    as_object(pRoot, "body");
  }else if( cJSON_IsArray(pRoot) ){
    /* import: each item as an object, at most 20 */
    const cJSON *pItem;
    int i = 0;
    cJSON_ArrayForEach(pItem, pRoot){
      char zLoc[48];
      snprintf(zLoc, sizeof zLoc, "body.%d", i);
      if( cJSON_IsObject(pItem) ) as_object(pItem, zLoc);
      if( ++i>=20 ) break;
    }
  }
  check_verr(&e);
  cJSON_Delete(pRoot);
  return 0;
}
