/* test_export.c — unit tests of src/export.c's pure parts and render_thread_export: the
** download name (Content-Disposition) of hostile titles, the formats' names, the chat title,
** and the client_id forms (number, string, null). */
#include "tinytest.h"
#include "export.h"
#include "render.h"
#include "store_chats.h"
#include "store_threads.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* The Content-Disposition line for zTitle in format e. */
static const char *disp(const char *zTitle, enum cv_export_format e){
  static char z[EXPORT_DISPOSITION_MAX];
  export_disposition(zTitle, "thread", e, z);
  return z;
}

static void disposition_names(void){
  char zLong[1024];
  const char *z;
  TT_CHECK( strcmp(disp("Plain title", CV_EXPORT_MD),
                   "Content-Disposition: attachment; filename=\"Plain title.md\"; "
                   "filename*=UTF-8''Plain%20title.md\r\n")==0 );
  /* quotes, slashes, backslashes, controls and non-ASCII never reach the quoted name */
  z = disp("a\"b/c\\d\r\ne\x01" "f Caf\xC3\xA9 \xF0\x9F\x98\x80", CV_EXPORT_JSON);
  TT_CHECK( strcmp(z, "Content-Disposition: attachment; filename=\"a_b_c_d_e_f Caf.json\"; "
                      "filename*=UTF-8''a%22b_c_d__e_f%20Caf%C3%A9%20%F0%9F%98%80.json\r\n")==0 );
  /* nothing left: the fallback */
  TT_CHECK( strstr(disp("\xE6\x97\xA5\xE6\x9C\xAC", CV_EXPORT_TXT), "filename=\"thread.txt\"")!=NULL );
  TT_CHECK( strstr(disp("\xE6\x97\xA5\xE6\x9C\xAC", CV_EXPORT_TXT),
                   "filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt")!=NULL );
  TT_CHECK( strstr(disp(" ... ", CV_EXPORT_MD), "filename=\"thread.md\"; filename*=UTF-8''thread.md")!=NULL );
  TT_CHECK( strstr(disp("", CV_EXPORT_MD), "filename=\"thread.md\"")!=NULL );
  /* 255 four-byte characters: both names cut, the line within its bound */
  memset(zLong, 0, sizeof zLong);
  {
    int i;
    for(i=0; i<255; i++) memcpy(zLong + 4*i, "\xF0\x9F\x98\x80", 4);
  }
  z = disp(zLong, CV_EXPORT_JSON);
  TT_CHECK( strlen(z) < EXPORT_DISPOSITION_MAX );
  TT_CHECK( strstr(z, "filename=\"thread.json\"")!=NULL );
  {
    const char *p = strstr(z, "UTF-8''");
    size_t n = 0;
    while( p && (p = strstr(p + 1, "%F0%9F%98%80"))!=NULL ) n++;
    TT_CHECK( n==80 );
  }
  memset(zLong, 'x', 255);
  zLong[255] = 0;
  z = disp(zLong, CV_EXPORT_MD);
  {
    char zWant[128];
    memcpy(zWant, "filename=\"", 10);
    memset(zWant + 10, 'x', 80);
    memcpy(zWant + 90, ".md\"", 5);
    TT_CHECK( strstr(z, zWant)!=NULL );
  }
}

static void formats(void){
  TT_CHECK( export_format_parse("json")==CV_EXPORT_JSON );
  TT_CHECK( export_format_parse("md")==CV_EXPORT_MD );
  TT_CHECK( export_format_parse("markdown")==CV_EXPORT_MD );
  TT_CHECK( export_format_parse("txt")==CV_EXPORT_TXT );
  TT_CHECK( export_format_parse("text")==CV_EXPORT_TXT );
  TT_CHECK( export_format_parse("JSON")<0 );
  TT_CHECK( export_format_parse("")<0 );
  TT_CHECK( export_format_parse(NULL)<0 );
  TT_CHECK( strcmp(export_format_type(CV_EXPORT_MD), "text/markdown; charset=utf-8")==0 );
  TT_CHECK( strcmp(export_format_ext(CV_EXPORT_TXT), "txt")==0 );
}

static void chat_titles(void){
  struct cv_chat c;
  char z[64];
  memset(&c, 0, sizeof c);
  c.zTitle = "";
  export_chat_title(&c, z, sizeof z);
  TT_CHECK( strcmp(z, "Chat")==0 );
  c.zCharacterName = "Bob";
  export_chat_title(&c, z, sizeof z);
  TT_CHECK( strcmp(z, "Chat with Bob")==0 );
  c.zTitle = "Named";
  export_chat_title(&c, z, sizeof z);
  TT_CHECK( strcmp(z, "Named")==0 );
  /* a cut never leaves half a character */
  c.zTitle = "\xF0\x9F\x98\x80\xF0\x9F\x98\x80";
  export_chat_title(&c, z, 7);
  TT_CHECK( strcmp(z, "\xF0\x9F\x98\x80")==0 );
}

/* cv_messages_fn writing an empty array. */
static cv_rc no_messages(void *pCtx, long long id, struct cv_sink *pOut){
  (void)pCtx; (void)id;
  return sink_write(pOut, "[]", 2);
}

/* The "client_id" member of render_thread_export for zClientId, as JSON text (static). */
static const char *client_id_of(const char *zClientId){
  static char z[256];
  struct cv_thread t;
  struct cv_buf b;
  struct cv_sink k;
  const char *p;
  memset(&t, 0, sizeof t);
  t.id = 1; t.userId = 2; t.zTitle = "t";
  strcpy(t.zCreatedAt, "2026-11-21T10:00:00.000Z");
  strcpy(t.zUpdatedAt, "2026-11-21T10:00:00.000Z");
  buf_init(&b, 1<<16);
  sink_to_buf(&k, &b);
  z[0] = 0;
  if( render_thread_export(&k, &t, zClientId, no_messages, NULL)==CV_OK
   && (p = strstr(b.a, ",\"client_id\":"))!=NULL ){
    size_t n = strlen(p + 13);
    if( n>0 && n<sizeof z ){ memcpy(z, p + 13, n - 1); z[n-1] = 0; }   /* without the '}' */
    {
      cJSON *pDoc = cJSON_Parse(b.a);
      if( !pDoc || cJSON_GetArraySize(pDoc)!=10 ) z[0] = 0;   /* ChatThreadOut + client_id */
      cJSON_Delete(pDoc);
    }
  }
  buf_free(&b);
  return z;
}

static void client_id_forms(void){
  TT_CHECK( strcmp(client_id_of(NULL), "null")==0 );
  TT_CHECK( strcmp(client_id_of("1700000000123"), "1700000000123")==0 );
  TT_CHECK( strcmp(client_id_of("0"), "0")==0 );
  TT_CHECK( strcmp(client_id_of("-5"), "-5")==0 );
  TT_CHECK( strcmp(client_id_of("-0"), "\"-0\"")==0 );
  TT_CHECK( strcmp(client_id_of("007"), "\"007\"")==0 );
  TT_CHECK( strcmp(client_id_of("123456789012345678"), "123456789012345678")==0 );
  TT_CHECK( strcmp(client_id_of("1234567890123456789"), "\"1234567890123456789\"")==0 );
  TT_CHECK( strcmp(client_id_of("12a"), "\"12a\"")==0 );
  TT_CHECK( strcmp(client_id_of("-"), "\"-\"")==0 );
  TT_CHECK( strcmp(client_id_of(""), "\"\"")==0 );
  TT_CHECK( strcmp(client_id_of("a\"b"), "\"a\\\"b\"")==0 );
}

int main(void){
  TT_RUN(disposition_names);
  TT_RUN(formats);
  TT_RUN(chat_titles);
  TT_RUN(client_id_forms);
  return TT_DONE();
}
