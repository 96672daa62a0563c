/* test_validate.c — unit tests of src/validate.c: body JSON checks, typed getters, 422 list. */
#include "tinytest.h"
#include "validate.h"

#include <stdlib.h>
#include <string.h>

/* Parse z; return the first error's type ("" when none). The tree is freed. */
static const char *parse_err(const char *z, size_t n){
  static char zType[64];
  struct cv_verr e;
  cJSON *p = NULL;
  cv_rc rc;
  verr_init(&e);
  rc = val_parse_json(z, n, &e, &p);
  zType[0] = 0;
  if( rc==CV_INVALID ){
    cJSON *pT = cJSON_GetObjectItem(cJSON_GetArrayItem(e.pList, 0), "type");
    snprintf(zType, sizeof zType, "%s", pT && pT->valuestring ? pT->valuestring : "?");
  }
  cJSON_Delete(p);
  verr_free(&e);
  return zType;
}
#define PE(lit) parse_err(lit, sizeof(lit)-1)

static void json_checks(void){
  char *zDeep;
  int i;
  TT_CHECK( strcmp(PE("{\"a\":1}"), "")==0 );
  TT_CHECK( strcmp(PE("{\"a\":1"), "json_invalid")==0 );
  TT_CHECK( strcmp(PE("{\"a\":1} x"), "json_invalid")==0 );
  TT_CHECK( strcmp(PE("{\"a\":1}  \n"), "")==0 );
  TT_CHECK( strcmp(PE("{\"a\":\"x\\u0000y\"}"), "string_nul")==0 );
  TT_CHECK( strcmp(PE("{\"a\":\"x\\\\u0000y\"}"), "")==0 );        /* an escaped backslash, then text */
  TT_CHECK( strcmp(PE("{\"a\":\"\xff\"}"), "json_invalid")==0 );
  TT_CHECK( strcmp(PE("{\"a\":\"tab\there\"}"), "json_invalid")==0 );
  TT_CHECK( strcmp(PE("{\"a\":1,\"a\":2}"), "json_invalid")==0 );
  TT_CHECK( strcmp(PE("[{\"b\":{\"a\":1,\"a\":2}}]"), "json_invalid")==0 );
  TT_CHECK( strcmp(PE("{\"a\":\"\\ud800\"}"), "json_invalid")==0 );  /* lone surrogate */
  TT_CHECK( strcmp(PE("{\"a\":\"\\ud83d\\ude00\"}"), "")==0 );       /* a pair is fine */
  TT_CHECK( strcmp(PE("{\"a\":1e999}"), "")==0 );                     /* parses; getters refuse */
  zDeep = malloc(200001);
  for(i=0; i<100000; i++) zDeep[i] = '[';
  for(i=0; i<100000; i++) zDeep[100000+i] = ']';
  zDeep[200000] = 0;
  TT_CHECK( strcmp(parse_err(zDeep, 200000), "json_depth")==0 );
  free(zDeep);
}

static void duplicate_keys_large_object(void){
  char z[20000];
  size_t n = 0;
  int i;
  n += (size_t)snprintf(z+n, sizeof z - n, "{");
  for(i=0; i<1000; i++) n += (size_t)snprintf(z+n, sizeof z - n, "%s\"k%d\":%d", i?",":"", i, i);
  n += (size_t)snprintf(z+n, sizeof z - n, ",\"k500\":1}");
  TT_CHECK( strcmp(parse_err(z, n), "json_invalid")==0 );
}

static void getters(void){
  struct cv_verr e;
  cJSON *p = cJSON_Parse("{\"t\":\"\xF0\x9F\x98\x80\xF0\x9F\x98\x80\",\"n\":5,\"f\":1.5,\"b\":true,"
                         "\"z\":null,\"big\":1e300,\"email\":\"a@b\"}");
  const char *z;
  int64_t v;
  int b;
  verr_init(&e);
  TT_CHECK( val_string(&e, p, "body", "t", 1, 2, 1, &z)==1 );           /* 2 chars, 8 bytes */
  TT_CHECK( val_string(&e, p, "body", "t", 1, 1, 1, &z)==-1 );
  TT_CHECK( val_string(&e, p, "body", "missing", 1, 5, 0, &z)==0 );
  TT_CHECK( val_string(&e, p, "body", "z", 1, 5, 0, &z)==0 );           /* null = absent */
  TT_CHECK( val_string(&e, p, "body", "missing", 1, 5, 1, &z)==-1 );
  TT_CHECK( val_string(&e, p, "body", "n", 1, 5, 1, &z)==-1 );
  TT_CHECK( val_int(&e, p, "body", "n", 1, 10, 1, &v)==1 && v==5 );
  TT_CHECK( val_int(&e, p, "body", "n", 6, 10, 1, &v)==-1 );
  TT_CHECK( val_int(&e, p, "body", "f", 0, 10, 1, &v)==-1 );
  TT_CHECK( val_int(&e, p, "body", "big", 0, 10, 1, &v)==-1 );
  TT_CHECK( val_bool(&e, p, "body", "b", 1, &b)==1 && b==1 );
  TT_CHECK( val_bool(&e, p, "body", "n", 1, &b)==-1 );
  TT_CHECK( val_email(&e, p, "body", "email", &z)==1 );
  TT_CHECK( e.n==7 );
  {
    cJSON *pLoc = cJSON_GetObjectItem(cJSON_GetArrayItem(e.pList, 0), "loc");
    TT_CHECK( cJSON_GetArraySize(pLoc)==2 );
    TT_CHECK( strcmp(cJSON_GetArrayItem(pLoc, 0)->valuestring, "body")==0 );
    TT_CHECK( strcmp(cJSON_GetArrayItem(pLoc, 1)->valuestring, "t")==0 );
  }
  verr_free(&e);
  cJSON_Delete(p);
}

static void messages(void){
  struct cv_verr e;
  cJSON *p = cJSON_Parse("{\"m\":[{\"role\":\"user\",\"content\":\"hi\",\"extra\":1},"
                         "{\"role\":\"assistant\",\"content\":\"\"}],"
                         "\"bad\":[{\"role\":\"system\",\"content\":\"x\"},{\"role\":\"user\"}],"
                         "\"notlist\":{}}");
  char *z = NULL;
  int64_t n = 0;
  verr_init(&e);
  TT_CHECK( val_messages(&e, p, "body", "m", 1, &z, &n)==1 );
  TT_CHECK( n==2 && z && strcmp(z, "[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"\"}]")==0 );
  free(z);
  TT_CHECK( e.n==0 );
  TT_CHECK( val_messages(&e, p, "body", "bad", 1, &z, &n)==-1 );
  TT_CHECK( e.n==2 );
  {
    cJSON *pLoc = cJSON_GetObjectItem(cJSON_GetArrayItem(e.pList, 1), "loc");
    TT_CHECK( cJSON_GetArraySize(pLoc)==4 );
    TT_CHECK( cJSON_IsNumber(cJSON_GetArrayItem(pLoc, 2)) && cJSON_GetArrayItem(pLoc, 2)->valueint==1 );
  }
  TT_CHECK( val_messages(&e, p, "body", "notlist", 1, &z, &n)==-1 );
  verr_free(&e);
  cJSON_Delete(p);
}

/* val_messages writes the normalized array itself: its text must be what cJSON printed for
** the normalized objects before (stored messages keep one form), whatever the content holds. */
static void messages_print_as_cjson(void){
  static const char *azContent[] = {
    "", "plain", "quote \" backslash \\ slash /", "tab\t nl\n cr\r bs\b ff\f",
    "\x01\x1f control", "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80", "\x7f del",
    "</script> & <b>", "u2028 \xe2\x80\xa8 end"
  };
  cJSON *pIn = cJSON_CreateObject(), *pArr = cJSON_AddArrayToObject(pIn, "m");
  cJSON *pWant = cJSON_CreateArray();
  char *zWant, *z = NULL;
  struct cv_verr e;
  int64_t n = 0;
  size_t i;
  for(i=0; i<sizeof azContent/sizeof azContent[0]; i++){
    cJSON *pM = cJSON_CreateObject(), *pW = cJSON_CreateObject();
    const char *zRole = i%2 ? "assistant" : "user";
    cJSON_AddStringToObject(pM, "content", azContent[i]);   /* other key order, extra keys */
    cJSON_AddNumberToObject(pM, "ts", (double)i);
    cJSON_AddStringToObject(pM, "role", zRole);
    cJSON_AddItemToArray(pArr, pM);
    cJSON_AddStringToObject(pW, "role", zRole);
    cJSON_AddStringToObject(pW, "content", azContent[i]);
    cJSON_AddItemToArray(pWant, pW);
  }
  zWant = cJSON_PrintUnformatted(pWant);
  verr_init(&e);
  TT_CHECK( val_messages(&e, pIn, "body", "m", 1, &z, &n)==1 );
  TT_CHECK( n==(int64_t)(sizeof azContent/sizeof azContent[0]) );
  TT_CHECK( z && zWant && strcmp(z, zWant)==0 );
  free(z);
  cJSON_free(zWant);
  /* an empty array */
  cJSON_DeleteItemFromObject(pIn, "m");
  cJSON_AddArrayToObject(pIn, "m");
  TT_CHECK( val_messages(&e, pIn, "body", "m", 1, &z, &n)==1 && n==0 && z && strcmp(z, "[]")==0 );
  free(z);
  TT_CHECK( e.n==0 );
  verr_free(&e);
  cJSON_Delete(pWant);
  cJSON_Delete(pIn);
}

static void query_and_path(void){
  struct cv_verr e;
  int64_t v;
  verr_init(&e);
  TT_CHECK( val_query_int(&e, "limit=20&offset=5", "limit", 50, 1, 200, &v)==1 && v==20 );
  TT_CHECK( val_query_int(&e, "limit=20&offset=5", "offset", 0, 0, 1000, &v)==1 && v==5 );
  TT_CHECK( val_query_int(&e, NULL, "limit", 50, 1, 200, &v)==1 && v==50 );
  TT_CHECK( val_query_int(&e, "xlimit=3", "limit", 50, 1, 200, &v)==1 && v==50 );
  TT_CHECK( val_query_int(&e, "limit=%32%30", "limit", 50, 1, 200, &v)==1 && v==20 );
  TT_CHECK( val_query_int(&e, "limit=0", "limit", 50, 1, 200, &v)==-1 );
  TT_CHECK( val_query_int(&e, "limit=201", "limit", 50, 1, 200, &v)==-1 );
  TT_CHECK( val_query_int(&e, "limit=abc", "limit", 50, 1, 200, &v)==-1 );
  TT_CHECK( val_query_int(&e, "limit=", "limit", 50, 1, 200, &v)==-1 );
  TT_CHECK( val_query_int(&e, "limit=99999999999999999999999", "limit", 50, 1, 200, &v)==-1 );
  TT_CHECK( val_path_id(&e, "42", "id", &v)==1 && v==42 );
  TT_CHECK( val_path_id(&e, "-1", "id", &v)==-1 );
  TT_CHECK( val_path_id(&e, "1e3", "id", &v)==-1 );
  TT_CHECK( val_path_id(&e, "99999999999999999999", "id", &v)==-1 );
  verr_free(&e);
}

int main(void){
  TT_RUN(json_checks);
  TT_RUN(duplicate_keys_large_object);
  TT_RUN(getters);
  TT_RUN(messages);
  TT_RUN(messages_print_as_cjson);
  TT_RUN(query_and_path);
  return TT_DONE();
}
