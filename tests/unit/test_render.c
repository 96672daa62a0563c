/* test_render.c — unit tests of src/render.c: the hand-written list renderer must produce
** exactly what cJSON would (escaping included) and parse back to the same values. */
#include "tinytest.h"
#include "render.h"
#include "store_threads.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static void strings_like_cjson(void){
  static const char *az[] = {
    "", "plain", "quote \" and backslash \\", "tab\tnew\nline\rcr\bback\fform",
    "\x01\x1f control", "emoji \xF0\x9F\x98\x80 rtl \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D",
    "<script>alert('x')</script>", "line sep \xE2\x80\xA8 para \xE2\x80\xA9", "'; DROP TABLE users; --",
  };
  size_t i;
  for(i=0; i<sizeof az/sizeof az[0]; i++){
    struct cv_buf b;
    cJSON *p = cJSON_CreateString(az[i]);
    char *zWant = cJSON_PrintUnformatted(p);
    buf_init(&b, 1<<20);
    TT_CHECK( render_json_string(&b, az[i])==CV_OK );
    TT_CHECK( zWant && b.a && strcmp(b.a, zWant)==0 );
    cJSON_free(zWant);
    cJSON_Delete(p);
    buf_free(&b);
  }
}

static void summaries_parse_back(void){
  struct cv_thread a[2];
  struct cv_buf b;
  cJSON *p, *p0;
  memset(a, 0, sizeof a);
  a[0].id = 7; a[0].zTitle = "A \"title\"\n"; a[0].nMessages = 3;
  strcpy(a[0].zCreatedAt, "2026-11-21T10:00:00.123Z");
  strcpy(a[0].zUpdatedAt, "2026-11-21T10:00:01.000Z");
  a[0].bPinned = 1; a[0].zTags = "[\"Work\",\"x\"]";
  a[1].id = 9007199254740991LL; a[1].zTitle = "\xF0\x9F\x98\x80"; a[1].nMessages = 0;
  a[1].bArchived = 1;             /* zTags NULL: [] */
  strcpy(a[1].zCreatedAt, "2026-11-21T10:00:00.000Z");
  strcpy(a[1].zUpdatedAt, "2026-11-21T10:00:00.000Z");
  buf_init(&b, 1<<20);
  TT_CHECK( render_thread_summaries(&b, a, 2)==CV_OK );
  p = cJSON_Parse(b.a);
  TT_CHECK( cJSON_IsArray(p) && cJSON_GetArraySize(p)==2 );
  p0 = cJSON_GetArrayItem(p, 0);
  TT_CHECK( cJSON_GetObjectItem(p0, "id")->valuedouble==7 );
  TT_CHECK( strcmp(cJSON_GetObjectItem(p0, "title")->valuestring, "A \"title\"\n")==0 );
  TT_CHECK( strcmp(cJSON_GetObjectItem(p0, "created_at")->valuestring, "2026-11-21T10:00:00.123Z")==0 );
  TT_CHECK( cJSON_GetObjectItem(p0, "message_count")->valuedouble==3 );
  TT_CHECK( cJSON_IsTrue(cJSON_GetObjectItem(p0, "pinned")) );
  TT_CHECK( cJSON_IsFalse(cJSON_GetObjectItem(p0, "archived")) );
  TT_CHECK( cJSON_GetArraySize(cJSON_GetObjectItem(p0, "tags"))==2 );
  TT_CHECK( cJSON_GetArraySize(p0)==8 );
  p0 = cJSON_GetArrayItem(p, 1);
  TT_CHECK( cJSON_IsFalse(cJSON_GetObjectItem(p0, "pinned")) );
  TT_CHECK( cJSON_IsTrue(cJSON_GetObjectItem(p0, "archived")) );
  TT_CHECK( cJSON_IsArray(cJSON_GetObjectItem(p0, "tags"))
            && cJSON_GetArraySize(cJSON_GetObjectItem(p0, "tags"))==0 );
  TT_CHECK( strstr(b.a, "\"id\":9007199254740991,")!=NULL );
  cJSON_Delete(p);
  buf_free(&b);
  buf_init(&b, 1<<20);
  TT_CHECK( render_thread_summaries(&b, NULL, 0)==CV_OK && strcmp(b.a, "[]")==0 );
  buf_free(&b);
  buf_init(&b, 8);   /* the cap holds */
  TT_CHECK( render_thread_summaries(&b, a, 2)==CV_TOOLARGE );
  buf_free(&b);
}

static cv_rc fixed_messages(void *pCtx, long long id, struct cv_sink *pOut){
  (void)id;
  return sink_write(pOut, (const char*)pCtx, strlen((const char*)pCtx));
}

/* The streamed ChatThreadOut is byte for byte what cJSON prints for the same object. */
static void thread_like_cjson(void){
  static const char zMessages[] = "[{\"role\":\"user\",\"content\":\"hi \\\"there\\\"\"}]";
  struct cv_thread t;
  struct cv_buf b;
  struct cv_sink k;
  cJSON *pWant;
  char *zWant;
  memset(&t, 0, sizeof t);
  t.id = 12; t.userId = 3; t.zTitle = "T\u00e9 \"x\"";
  strcpy(t.zCreatedAt, "2026-11-21T10:00:00.123Z");
  strcpy(t.zUpdatedAt, "2026-11-21T10:00:02.000Z");
  t.bArchived = 1; t.zTags = "[\"a\",\"B\u00e9\"]";
  pWant = cJSON_CreateObject();
  render_add_int(pWant, "id", 12);
  render_add_int(pWant, "user_id", 3);
  render_add_str(pWant, "title", t.zTitle);
  render_add_raw(pWant, "messages", zMessages);
  render_add_str(pWant, "created_at", t.zCreatedAt);
  render_add_str(pWant, "updated_at", t.zUpdatedAt);
  cJSON_AddFalseToObject(pWant, "pinned");
  cJSON_AddTrueToObject(pWant, "archived");
  render_add_raw(pWant, "tags", "[\"a\",\"B\u00e9\"]");
  zWant = cJSON_PrintUnformatted(pWant);
  buf_init(&b, 1<<20);
  sink_to_buf(&k, &b);
  TT_CHECK( render_thread(&k, &t, fixed_messages, (void*)zMessages)==CV_OK );
  TT_CHECK( zWant && strcmp(b.a, zWant)==0 );
  cJSON_free(zWant);
  cJSON_Delete(pWant);
  buf_free(&b);
  buf_init(&b, 16);   /* a capped buffer stops the writer */
  sink_to_buf(&k, &b);
  TT_CHECK( render_thread(&k, &t, fixed_messages, (void*)zMessages)==CV_TOOLARGE );
  buf_free(&b);
}

int main(void){
  TT_RUN(thread_like_cjson);
  TT_RUN(strings_like_cjson);
  TT_RUN(summaries_parse_back);
  return TT_DONE();
}
