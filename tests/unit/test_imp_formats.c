/* test_imp_formats.c — unit tests of src/imp_formats.c on the real export files of
** ../shared/formats (CV_FORMATS_DIR overrides the folder; tests run from the repository root):
** the current branch's messages, roles, first and last texts, titles, ids, times, what was
** skipped and why; then imp_detect on every conversation object, SillyTavern's date forms,
** and hostile inputs (wrong types everywhere, cycles, missing current nodes, bad ids), where
** a failed read must leave the struct all zero. The files are never copied here: without the
** folder those tests print a message and pass. */
#include "tinytest.h"
#include "imp_formats.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *formats_dir(void){
  const char *z = getenv("CV_FORMATS_DIR");
  return z && z[0] ? z : "../shared/formats";
}

/* The whole file formats_dir()/zRel, NUL-terminated (malloc'd), or NULL. */
static char *slurp(const char *zRel, size_t *pn){
  char zPath[1024];
  FILE *f;
  char *z = NULL;
  long n;
  snprintf(zPath, sizeof zPath, "%s/%s", formats_dir(), zRel);
  f = fopen(zPath, "rb");
  if( !f ) return NULL;
  if( fseek(f, 0, SEEK_END)==0 && (n = ftell(f))>=0 && fseek(f, 0, SEEK_SET)==0 ){
    z = malloc((size_t)n + 1);
    if( z && fread(z, 1, (size_t)n, f)!=(size_t)n ){ free(z); z = NULL; }
    if( z ){ z[n] = 0; if( pn ) *pn = (size_t)n; }
  }
  fclose(f);
  return z;
}

/* The file parsed, or NULL (a check fails when the folder exists but the file does not). */
static cJSON *load(const char *zRel){
  char *z = slurp(zRel, NULL);
  cJSON *p;
  TT_CHECK( z!=NULL );
  if( !z ) return NULL;
  p = cJSON_Parse(z);
  TT_CHECK( p!=NULL );
  free(z);
  return p;
}

/* Conversation i of a file: element i of an array, or the lone object itself. */
static const cJSON *conv_at(const cJSON *pRoot, int i){
  if( cJSON_IsArray(pRoot) ) return cJSON_GetArrayItem(pRoot, i);
  return i==0 ? pRoot : NULL;
}

static int have_formats(const char *zTest){
  char zPath[1024];
  FILE *f;
  snprintf(zPath, sizeof zPath, "%s/FORMATS.md", formats_dir());
  f = fopen(zPath, "rb");
  if( f ){ fclose(f); return 1; }
  printf("  skip %s: %s absent (set CV_FORMATS_DIR)\n", zTest, formats_dir());
  return 0;
}

/* 1 when every byte of c is zero (what a failed read leaves). */
static int is_zero(const struct imp_conv *c){
  static const struct imp_conv zero;
  return memcmp(c, &zero, sizeof zero)==0;
}

/* The messages of a successful read, checked for shape: a JSON array of nMessages objects
** holding exactly role (user|assistant) and content (string). Caller frees. */
static cJSON *messages_of(const struct imp_conv *c){
  cJSON *p = cJSON_Parse(c->zMessages), *m;
  int n = 0;
  TT_CHECK( p!=NULL && cJSON_IsArray(p) );
  TT_CHECK( c->nBytes==(int64_t)strlen(c->zMessages) );
  cJSON_ArrayForEach(m, p){
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(m, "role");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "content");
    TT_CHECK( cJSON_GetArraySize(m)==2 );
    TT_CHECK( cJSON_IsString(r) && (strcmp(r->valuestring, "user")==0
                                    || strcmp(r->valuestring, "assistant")==0) );
    TT_CHECK( cJSON_IsString(t) && t->valuestring[0] );
    n++;
  }
  TT_CHECK( n==c->nMessages );
  TT_CHECK( c->zSourceId && c->zSourceId[0] );
  TT_CHECK( c->nSkip>=0 );
  return p;
}

static const char *role(const cJSON *pMsgs, int i){
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(pMsgs, i), "role");
  return cJSON_IsString(p) ? p->valuestring : "";
}
static const char *text(const cJSON *pMsgs, int i){
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(pMsgs, i), "content");
  return cJSON_IsString(p) ? p->valuestring : "";
}
static int starts(const char *z, const char *zPrefix){
  return z && strncmp(z, zPrefix, strlen(zPrefix))==0;
}
static int streq(const char *z, const char *z2){
  return z && z2 && strcmp(z, z2)==0;
}
/* 1 when some kept reason is exactly zReason. */
static int has_skip(const struct imp_conv *c, const char *zReason){
  int i;
  for(i=0; i<c->nSkip && i<IMP_SKIP_KEEP; i++){
    if( strcmp(c->aSkip[i].zDetail, zReason)==0 ) return 1;
  }
  return 0;
}
/* 1 when no message's content contains z. */
static int nowhere(const cJSON *pMsgs, const char *z){
  int i;
  for(i=0; i<cJSON_GetArraySize(pMsgs); i++) if( strstr(text(pMsgs, i), z) ) return 0;
  return 1;
}

/* Read conversation i of a parsed file with format e; on CV_OK the messages come back. */
static cJSON *read_conv(const cJSON *pRoot, int i, enum imp_format e, struct imp_conv *c){
  char zWhy[200];
  cv_rc rc;
  const cJSON *pConv = conv_at(pRoot, i);
  memset(c, 0, sizeof *c);
  TT_CHECK( pConv!=NULL );
  TT_CHECK( imp_detect(pConv)==e );
  rc = imp_read(e, pConv, c, zWhy, sizeof zWhy);
  if( rc!=CV_OK ) fprintf(stderr, "  read failed: %s\n", zWhy);
  TT_CHECK( rc==CV_OK );
  return rc==CV_OK ? messages_of(c) : NULL;
}

/* ----------------------------------------------------------------- ChatGPT */

static void chatgpt_files(void){
  struct imp_conv c;
  cJSON *pRoot, *m;
  if( !have_formats("chatgpt_files") ) return;

  /* echomine_001: one object, not an array; hidden context, placeholders */
  pRoot = load("chatgpt/echomine_001_simple_text_raw.json");
  TT_CHECK( cJSON_IsObject(pRoot) );
  m = read_conv(pRoot, 0, IMP_CHATGPT, &c);
  TT_CHECK( c.nMessages==2 && c.eKind==CV_CONV_THREAD );
  TT_CHECK( streq(role(m, 0), "user") && streq(role(m, 1), "assistant") );
  TT_CHECK( starts(text(m, 0), "ME:\n\nWhere in the spectrum of Mexican society") );
  TT_CHECK( starts(text(m, 1), "Absolutely \xE2\x80\x94 I can provide both **primary quotes") );
  TT_CHECK( streq(c.zTitle, "Indigenous DNA in Mexico") );
  TT_CHECK( streq(c.zSourceId, "68ef24dd-7008-832c-bd68-1bb462dd87bc") );
  TT_CHECK( streq(c.zCreatedAt, "2025-10-15T04:37:47.617Z") );
  TT_CHECK( streq(c.zUpdatedAt, "2025-10-15T04:38:09.106Z") );
  TT_CHECK( c.nSkip==5 );
  TT_CHECK( streq(c.aSkip[0].zDetail, "message 1: system message skipped") );
  TT_CHECK( streq(c.aSkip[1].zDetail, "message 2: hidden message skipped") );     /* custom instructions */
  TT_CHECK( streq(c.aSkip[3].zDetail, "message 5: empty message skipped") );
  cJSON_Delete(m); imp_conv_clear(&c); TT_CHECK( is_zero(&c) );
  cJSON_Delete(pRoot);

  /* echomine_002: an image part beside the user's text */
  pRoot = load("chatgpt/echomine_002_with_images_raw.json");
  m = read_conv(pRoot, 0, IMP_CHATGPT, &c);
  TT_CHECK( c.nMessages==4 );
  TT_CHECK( streq(text(m, 0), "Interpret this painting ") && streq(role(m, 0), "user") );
  TT_CHECK( streq(text(m, 2), "Could there also be erotic connotations?") );
  TT_CHECK( starts(text(m, 3), "Yes \xE2\x80\x94 it\xE2\x80\x99s quite plausible") );
  TT_CHECK( streq(c.zTitle, "Interpretaci\xC3\xB3n pintura surrealista") );
  TT_CHECK( streq(c.zCreatedAt, "2025-06-12T00:23:19.500Z") );
  TT_CHECK( c.nSkip==4 );
  TT_CHECK( has_skip(&c, "message 3: image part skipped") );
  TT_CHECK( nowhere(m, "file-service://") );
  cJSON_Delete(m); imp_conv_clear(&c);
  cJSON_Delete(pRoot);

  /* echomine_003: web tool call (code), role tool, U+E203/U+E204 and cite markers */
  pRoot = load("chatgpt/echomine_003_with_code_raw.json");
  m = read_conv(pRoot, 0, IMP_CHATGPT, &c);
  TT_CHECK( c.nMessages==6 );
  TT_CHECK( streq(c.zTitle, "Gmail API Management in Java") );
  TT_CHECK( starts(text(m, 0), "I want to build an app in Java that will help me manage my Gmail") );
  TT_CHECK( starts(text(m, 1), "To enhance your Gmail management capabilities") );
  TT_CHECK( strstr(text(m, 1), "and more.\n\n**5. Implement Bulk Deletion") );
  TT_CHECK( nowhere(m, "\xEE\x88") );                             /* no U+E2xx left */
  TT_CHECK( nowhere(m, "turn0search") );
  TT_CHECK( streq(text(m, 4), "What dependencies should I add to the Spring Initializr?") );
  TT_CHECK( starts(text(m, 5), "When setting up a **Spring Boot application**") );
  TT_CHECK( c.nSkip==4 );
  TT_CHECK( has_skip(&c, "message 4: tool call (web) skipped") );
  TT_CHECK( has_skip(&c, "message 5: tool output (web) skipped") );
  TT_CHECK( has_skip(&c, "message 3: empty message skipped") );
  cJSON_Delete(m); imp_conv_clear(&c);
  cJSON_Delete(pRoot);

  /* gpt_example: an array of one, root "client-created-root", user times out of order */
  pRoot = load("chatgpt/openwebui-importer_gpt_example.json");
  m = read_conv(pRoot, 0, IMP_CHATGPT, &c);
  TT_CHECK( c.nMessages==10 && c.nSkip==2 );
  TT_CHECK( streq(text(m, 0), "Can you explain how photosynthesis works in simple terms?") );
  TT_CHECK( starts(text(m, 9), "Forests, like ponds, are not sentient") );
  TT_CHECK( streq(c.zTitle, "How photosynthesis works") );
  TT_CHECK( streq(c.zCreatedAt, "2025-06-21T20:24:42.971Z") );
  cJSON_Delete(m); imp_conv_clear(&c);
  cJSON_Delete(pRoot);

  /* chatgpt-export: two conversations, browsing tool calls and tether_quote results */
  pRoot = load("chatgpt/librechat_chatgpt-export.json");
  TT_CHECK( cJSON_GetArraySize(pRoot)==2 );
  m = read_conv(pRoot, 0, IMP_CHATGPT, &c);
  TT_CHECK( c.nMessages==6 );
  TT_CHECK( streq(text(m, 0), "What is the fuel consumption of vw  transporter with 8 people in l/km") );
  TT_CHECK( streq(text(m, 4), "Is it for fully loaded    car?") );
  TT_CHECK( streq(role(m, 5), "assistant") );
  TT_CHECK( streq(c.zTitle, "Conversation 1. Web Search") );
  TT_CHECK( streq(c.zSourceId, "d6523d1e-7ec3-474f-a363-0e9dffdb3d93") );
  TT_CHECK( streq(c.zCreatedAt, "2024-01-07T12:18:35.775Z") );
  TT_CHECK( streq(c.zUpdatedAt, "2024-01-08T12:37:22.442Z") );
  TT_CHECK( c.nSkip==10 );                            /* system + 4 calls + 5 results */
  TT_CHECK( has_skip(&c, "message 3: tool call (browser) skipped") );
  TT_CHECK( has_skip(&c, "message 4: tool output (browser) skipped") );
  TT_CHECK( nowhere(m, "mclick(") );
  cJSON_Delete(m); imp_conv_clear(&c);
  m = read_conv(pRoot, 1, IMP_CHATGPT, &c);
  TT_CHECK( c.nMessages==4 && c.nSkip==1 );
  TT_CHECK( streq(c.zTitle, "Conversation 2") );
  TT_CHECK( starts(text(m, 0), "In programming how to find if all intervals") );
  TT_CHECK( streq(text(m, 2), "give me code in C#") && streq(role(m, 3), "assistant") );
  TT_CHECK( streq(c.zSourceId, "7c5ab593-dbab-43bd-862d-2c3c1eeebf6a") );
  cJSON_Delete(m); imp_conv_clear(&c);
  cJSON_Delete(pRoot);

  /* chatgpt-tree: current_node on the second branch at both branch points */
  pRoot = load("chatgpt/librechat_chatgpt-tree.json");
  m = read_conv(pRoot, 0, IMP_CHATGPT, &c);
  TT_CHECK( c.nMessages==6 );
  TT_CHECK( streq(text(m, 0), "hi there") );
  TT_CHECK( streq(text(m, 1), "Hello! How can I assist you today?") );
  TT_CHECK( streq(text(m, 2), "hi again") );
  TT_CHECK( streq(text(m, 3), "Hey! Welcome back. What's on your mind?") );
  TT_CHECK( streq(text(m, 4), "tell me a joke") );
  TT_CHECK( starts(text(m, 5), "Sure, here's one for you:\n\nWhy don't scientists trust atoms?") );
  TT_CHECK( nowhere(m, "so cool bro") && nowhere(m, "tell me a story") );   /* side branch */
  TT_CHECK( c.nSkip==2 );
  TT_CHECK( streq(c.aSkip[0].zDetail, "2 other branches not imported (current branch only)") );
  TT_CHECK( streq(c.aSkip[1].zDetail, "message 1: system message skipped") );
  TT_CHECK( streq(c.zTitle, "Assist user with summary") );
  TT_CHECK( streq(c.zCreatedAt, "2024-05-01T17:37:11.149Z") );
  cJSON_Delete(m); imp_conv_clear(&c);
  /* the same without current_node: the newest leaf is the same regeneration */
  {
    cJSON *pCopy = cJSON_Duplicate(conv_at(pRoot, 0), 1);
    cJSON_DeleteItemFromObjectCaseSensitive(pCopy, "current_node");
    TT_CHECK( imp_read(IMP_CHATGPT, pCopy, &c, NULL, 0)==CV_OK );
    m = messages_of(&c);
    TT_CHECK( c.nMessages==6 && streq(text(m, 4), "tell me a joke") );
    cJSON_Delete(m); imp_conv_clear(&c);
    cJSON_Delete(pCopy);
  }
  cJSON_Delete(pRoot);

  /* chatgpt-citations: current_node, the root's parent and a child id are outside mapping */
  pRoot = load("chatgpt/librechat_chatgpt-citations.json");
  m = read_conv(pRoot, 0, IMP_CHATGPT, &c);
  TT_CHECK( c.nMessages==1 && streq(role(m, 0), "assistant") );
  TT_CHECK( starts(text(m, 0), "Signal Sciences is a web application security company") );
  TT_CHECK( c.nSkip==1 && streq(c.aSkip[0].zDetail, "message 1: tool output (browser) skipped") );
  TT_CHECK( streq(c.zTitle, "Citation Convo") );
  cJSON_Delete(m); imp_conv_clear(&c);
  cJSON_Delete(pRoot);
}

/* ----------------------------------------------------------------- Claude */

static void claude_files(void){
  struct imp_conv c;
  cJSON *pRoot, *m;
  char zWhy[200];
  int i, nOk = 0, nNoText = 0, nEmpty = 0;
  if( !have_formats("claude_files") ) return;

  /* tool_use / tool_result blocks, results in separate human messages */
  pRoot = load("claude/echomine_tool_messages.json");
  TT_CHECK( cJSON_GetArraySize(pRoot)==4 );
  m = read_conv(pRoot, 0, IMP_CLAUDE, &c);
  TT_CHECK( c.nMessages==4 && c.nSkip==4 );
  TT_CHECK( streq(role(m, 0), "user") && streq(role(m, 1), "assistant")
            && streq(role(m, 2), "assistant") && streq(role(m, 3), "assistant") );
  TT_CHECK( starts(text(m, 0), "Can you write a Python script to calculate fibonacci") );
  TT_CHECK( streq(text(m, 2), "Now let's test the script by running it.") );
  TT_CHECK( starts(text(m, 3), "Perfect! The script works correctly") );
  TT_CHECK( nowhere(m, "File written successfully") && nowhere(m, "def fibonacci") );
  TT_CHECK( streq(c.aSkip[0].zDetail, "message 2: tool call (write_file) skipped") );
  TT_CHECK( streq(c.aSkip[1].zDetail, "message 3: tool result skipped") );
  TT_CHECK( streq(c.aSkip[2].zDetail, "message 4: tool call (execute_code) skipped") );
  TT_CHECK( streq(c.zTitle, "Code Execution with Tools") );
  TT_CHECK( streq(c.zSourceId, "tool-conv-001") );
  TT_CHECK( streq(c.zCreatedAt, "2025-11-01T09:00:00.000Z") );
  TT_CHECK( streq(c.zUpdatedAt, "2025-11-01T09:05:30.000Z") );
  cJSON_Delete(m); imp_conv_clear(&c);
  m = read_conv(pRoot, 1, IMP_CLAUDE, &c);               /* a tool-only assistant turn */
  TT_CHECK( c.nMessages==2 && c.nSkip==2 );
  TT_CHECK( has_skip(&c, "message 2: tool call (web_search) skipped") );
  cJSON_Delete(m); imp_conv_clear(&c);
  m = read_conv(pRoot, 2, IMP_CLAUDE, &c);               /* starts with the assistant */
  TT_CHECK( c.nMessages==3 && c.nSkip==6 && streq(role(m, 0), "assistant") );
  cJSON_Delete(m); imp_conv_clear(&c);
  m = read_conv(pRoot, 3, IMP_CLAUDE, &c);
  TT_CHECK( c.nMessages==4 && c.nSkip==4 );
  TT_CHECK( streq(text(m, 3), "No, 5754 is not prime. It has factors: 2, 3, 7, and 137.") );
  TT_CHECK( nowhere(m, "false (factors") );
  cJSON_Delete(m); imp_conv_clear(&c);
  cJSON_Delete(pRoot);

  /* a thinking block before the text */
  pRoot = load("claude/openwebui-importer_claude_thinking_example.json");
  m = read_conv(pRoot, 0, IMP_CLAUDE, &c);
  TT_CHECK( c.nMessages==2 && c.nSkip==1 );
  TT_CHECK( streq(text(m, 0), "Can you greet me?") );
  TT_CHECK( streq(text(m, 1), "Hello there! It's great to hear from you.") );
  TT_CHECK( streq(c.aSkip[0].zDetail, "message 2: thinking skipped") );
  TT_CHECK( streq(c.zTitle, "Thinking Demo") );
  TT_CHECK( streq(c.zCreatedAt, "2025-01-01T00:00:00.000Z") );
  TT_CHECK( streq(c.zUpdatedAt, "2025-01-01T00:00:10.000Z") );
  TT_CHECK( nowhere(m, "The user asked for a greeting") );
  cJSON_Delete(m); imp_conv_clear(&c);
  cJSON_Delete(pRoot);

  /* 85 conversations, text blanked in all but one, two with no messages at all */
  pRoot = load("claude/openwebui-importer_claude_example.json");
  TT_CHECK( cJSON_GetArraySize(pRoot)==85 );
  for(i=0; i<cJSON_GetArraySize(pRoot); i++){
    const cJSON *pConv = cJSON_GetArrayItem(pRoot, i);
    cv_rc rc;
    TT_CHECK( imp_detect(pConv)==IMP_CLAUDE );
    memset(&c, 0, sizeof c);
    rc = imp_read(IMP_CLAUDE, pConv, &c, zWhy, sizeof zWhy);
    if( rc==CV_OK ){
      nOk++;
      m = messages_of(&c);
      TT_CHECK( c.nMessages==10 && streq(c.zTitle, "How Photosynthesis Works") );
      TT_CHECK( streq(role(m, 0), "user") && streq(role(m, 9), "assistant") );
      TT_CHECK( streq(c.zSourceId, "76a904ac-7838-4a01-9e91-020411c40566") );
      cJSON_Delete(m);
      imp_conv_clear(&c);
    }else{
      TT_CHECK( rc==CV_INVALID && is_zero(&c) );
      if( strcmp(zWhy, "no text messages")==0 ) nNoText++;
      else if( strcmp(zWhy, "no messages")==0 ) nEmpty++;
    }
  }
  TT_CHECK( nOk==1 && nNoText==82 && nEmpty==2 );
  cJSON_Delete(pRoot);
}

/* ----------------------------------------------------------------- Open WebUI */

static void openwebui_files(void){
  struct imp_conv c, c2;
  cJSON *pRoot, *m, *pRow;
  if( !have_formats("openwebui_files") ) return;
  pRoot = load("openwebui/openwebui-importer_webui-json.json");
  m = read_conv(pRoot, 0, IMP_OPENWEBUI, &c);
  TT_CHECK( c.nMessages==2 );
  TT_CHECK( streq(role(m, 0), "user") && streq(role(m, 1), "assistant") );
  TT_CHECK( streq(text(m, 0), "what was the ruling in the US called where you can''t diagnose "
                              "a politician using psychiatry?") );   /* '' kept as written */
  TT_CHECK( starts(text(m, 1), "The principle you''re referring to is known as the **\"Goldwater Rule.\"**") );
  TT_CHECK( streq(c.zTitle, "\xF0\x9F\xA7\xA0 Goldwater Rule Ethics") );
  TT_CHECK( strncmp(c.zSourceId, "sha256:", 7)==0 && strlen(c.zSourceId)==39 );  /* id "" */
  TT_CHECK( streq(c.zCreatedAt, "2025-04-13T20:52:37.127Z") );                   /* ms */
  TT_CHECK( streq(c.zUpdatedAt, "2025-04-13T20:52:37.127Z") );
  TT_CHECK( c.nSkip==0 );
  /* the same content hash twice */
  TT_CHECK( imp_read(IMP_OPENWEBUI, pRoot, &c2, NULL, 0)==CV_OK );
  TT_CHECK( streq(c.zSourceId, c2.zSourceId) );
  imp_conv_clear(&c2);
  cJSON_Delete(m); imp_conv_clear(&c);

  /* the "Export chats" row around it: id and times (seconds) from the row */
  pRow = cJSON_CreateObject();
  cJSON_AddStringToObject(pRow, "id", "96bdf63b-fccf-435a-b729-abf04ce7b42f");
  cJSON_AddStringToObject(pRow, "title", "Row title");
  cJSON_AddItemToObject(pRow, "chat", cJSON_Duplicate(pRoot, 1));
  cJSON_AddNumberToObject(pRow, "created_at", 1744577557);
  cJSON_AddNumberToObject(pRow, "updated_at", 1744577567);
  TT_CHECK( imp_detect(pRow)==IMP_OPENWEBUI );
  TT_CHECK( imp_read(IMP_OPENWEBUI, pRow, &c, NULL, 0)==CV_OK );
  TT_CHECK( streq(c.zSourceId, "96bdf63b-fccf-435a-b729-abf04ce7b42f") );
  TT_CHECK( streq(c.zTitle, "Row title") && c.nMessages==2 );
  TT_CHECK( streq(c.zCreatedAt, "2025-04-13T20:52:37.000Z") );
  TT_CHECK( streq(c.zUpdatedAt, "2025-04-13T20:52:47.000Z") );
  imp_conv_clear(&c);
  /* currentId missing: the last child is followed from the root */
  cJSON_DeleteItemFromObjectCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pRow, "chat"), "history"),
      "currentId");
  TT_CHECK( imp_read(IMP_OPENWEBUI, pRow, &c, NULL, 0)==CV_OK && c.nMessages==2 );
  imp_conv_clear(&c);
  /* no history: the legacy messages[] list */
  cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(pRow, "chat"),
                                          "history");
  TT_CHECK( imp_detect(pRow)==IMP_OPENWEBUI );
  TT_CHECK( imp_read(IMP_OPENWEBUI, pRow, &c, NULL, 0)==CV_OK && c.nMessages==2 );
  imp_conv_clear(&c);
  cJSON_Delete(pRow);
  cJSON_Delete(pRoot);

  /* generated <details> blocks are counted, not kept */
  pRoot = cJSON_Parse("{\"id\":\"w1\",\"history\":{\"currentId\":\"b\",\"messages\":{"
    "\"a\":{\"id\":\"a\",\"parentId\":null,\"role\":\"user\",\"content\":\"hi\"},"
    "\"b\":{\"id\":\"b\",\"parentId\":\"a\",\"role\":\"assistant\",\"content\":"
    "\"<details type=\\\"reasoning\\\" done=\\\"true\\\"><summary>x</summary>think "
    "<details>inner</details></details>\\nHello <details><summary>mine</summary>y</details>\"}}}}");
  TT_CHECK( imp_read(IMP_OPENWEBUI, pRoot, &c, NULL, 0)==CV_OK );
  m = messages_of(&c);
  TT_CHECK( streq(text(m, 1), "Hello <details><summary>mine</summary>y</details>") );
  TT_CHECK( c.nSkip==1 && streq(c.aSkip[0].zDetail, "message 2: reasoning skipped") );
  cJSON_Delete(m); imp_conv_clear(&c);
  cJSON_Delete(pRoot);
}

/* ----------------------------------------------------------------- LibreChat */

static void librechat_files(void){
  struct imp_conv c;
  cJSON *pRoot, *m;
  if( !have_formats("librechat_files") ) return;

  pRoot = load("librechat/librechat-export.json");          /* recursive, one branch */
  m = read_conv(pRoot, 0, IMP_LIBRECHAT, &c);
  TT_CHECK( c.nMessages==6 && c.nSkip==0 );
  TT_CHECK( streq(text(m, 0), "What is the fuel consumption of vw  transporter with 8 people in l/km") );
  TT_CHECK( streq(text(m, 2), "What about 10 year old model") );
  TT_CHECK( streq(role(m, 4), "user") && streq(role(m, 5), "assistant") );
  TT_CHECK( starts(text(m, 5), "The fuel consumption figures for the 2014 Volkswagen Transporter") );
  TT_CHECK( streq(c.zTitle, "Conversation 1. Web Search") );
  TT_CHECK( streq(c.zSourceId, "af1ea676-f525-444f-a9ed-7c8dbf062733") );
  TT_CHECK( streq(c.zCreatedAt, "2024-04-09T14:32:05.230Z") );
  TT_CHECK( streq(c.zUpdatedAt, "2024-04-09T14:32:05.266Z") );
  cJSON_Delete(m); imp_conv_clear(&c);
  cJSON_Delete(pRoot);

  pRoot = load("librechat/librechat-linear.json");          /* parentMessageId: null */
  m = read_conv(pRoot, 0, IMP_LIBRECHAT, &c);
  TT_CHECK( c.nMessages==2 && c.nSkip==0 );
  TT_CHECK( streq(text(m, 0), "tell me a long story") && streq(role(m, 0), "user") );
  TT_CHECK( starts(text(m, 1), "Of course! Here\xE2\x80\x99s a detailed and engaging story:") );
  TT_CHECK( streq(role(m, 1), "assistant") );                 /* sender "GPT-4" */
  TT_CHECK( streq(c.zTitle, "Adventure Across Time and Space") );
  TT_CHECK( streq(c.zCreatedAt, "2024-05-29T00:33:03.661Z") );
  cJSON_Delete(m); imp_conv_clear(&c);
  cJSON_Delete(pRoot);

  pRoot = load("librechat/librechat-opts-nonr-branches.json");   /* flat, 3 leaves */
  m = read_conv(pRoot, 0, IMP_LIBRECHAT, &c);
  TT_CHECK( c.nMessages==2 );
  TT_CHECK( streq(text(m, 0), "tell me a long long story") );
  TT_CHECK( starts(text(m, 1), "Of course! Here\xE2\x80\x99s a detailed and engaging story:") );
  TT_CHECK( nowhere(m, "Settle in for a tale") );
  TT_CHECK( c.nSkip==1 && streq(c.aSkip[0].zDetail,
                                "2 other branches not imported (current branch only)") );
  TT_CHECK( streq(c.zTitle, "Original") );
  TT_CHECK( streq(c.zCreatedAt, "2024-05-28T18:14:07.988Z") );
  TT_CHECK( streq(c.zUpdatedAt, "2024-05-28T18:14:20.349Z") );
  cJSON_Delete(m); imp_conv_clear(&c);
  cJSON_Delete(pRoot);

  /* recursive tree, undated branches: the last leaf in the file ("lol") */
  pRoot = load("librechat/librechat-tree.json");
  m = read_conv(pRoot, 0, IMP_LIBRECHAT, &c);
  TT_CHECK( c.nMessages==4 );
  TT_CHECK( starts(text(m, 0), "How do I use source venv/bin/activate?") );
  TT_CHECK( starts(text(m, 1), "It looks like you're trying to activate a Python") );
  TT_CHECK( streq(text(m, 2), "lol") && streq(role(m, 2), "user") );
  TT_CHECK( starts(text(m, 3), "It looks like you might have been amused") );
  TT_CHECK( streq(role(m, 3), "assistant") );                 /* sender "Software Engineer" */
  TT_CHECK( c.nSkip==1 && streq(c.aSkip[0].zDetail,
                                "2 other branches not imported (current branch only)") );
  TT_CHECK( streq(c.zTitle, "Troubleshooting Python Virtual Environment Activation Issue") );
  TT_CHECK( streq(c.zSourceId, "4a86c40e-e627-4454-b158-889680e23ad3") );
  TT_CHECK( streq(c.zCreatedAt, "2024-05-01T16:35:11.530Z") );
  cJSON_Delete(m); imp_conv_clear(&c);
  cJSON_Delete(pRoot);
}

/* ----------------------------------------------------------------- chatbot-ui */

static void chatbotui_file(void){
  struct imp_conv c;
  cJSON *pRoot, *m;
  const cJSON *pHist;
  if( !have_formats("chatbotui_file") ) return;
  pRoot = load("chatbot-ui/chatbotui-export.json");
  pHist = cJSON_GetObjectItemCaseSensitive(pRoot, "history");
  TT_CHECK( cJSON_GetArraySize(pHist)==2 );
  TT_CHECK( imp_detect(pRoot)==IMP_UNKNOWN );               /* the file, not a conversation */
  m = read_conv(pHist, 0, IMP_CHATBOTUI, &c);
  TT_CHECK( c.nMessages==4 && c.nSkip==0 );
  TT_CHECK( streq(text(m, 0), "Hello what are you able to do?") );
  TT_CHECK( streq(text(m, 2), "I like Entertainment part. Go ahead. Entertain me.") );
  TT_CHECK( starts(text(m, 3), "Certainly! Let's begin with a light-hearted joke:") );
  TT_CHECK( streq(c.zTitle, "Hello what are you able to do?") );
  TT_CHECK( streq(c.zSourceId, "493cb218-9ebb-4d35-af8b-5aded3f351be") );
  TT_CHECK( c.zCreatedAt==NULL && c.zUpdatedAt==NULL );      /* no times in the format */
  cJSON_Delete(m); imp_conv_clear(&c);
  m = read_conv(pHist, 1, IMP_CHATBOTUI, &c);
  TT_CHECK( c.nMessages==2 );
  TT_CHECK( streq(text(m, 0), "Give me the code that inverts binary tree in COBOL") );
  TT_CHECK( streq(c.zTitle, "Give me the code that inverts ...") );
  cJSON_Delete(m); imp_conv_clear(&c);
  cJSON_Delete(pRoot);
}

/* ----------------------------------------------------------------- SillyTavern */

/* Read a .jsonl text: header line + message lines. */
static cv_rc read_jsonl(const char *zText, struct imp_conv *c, char *zWhy, size_t nWhy){
  cJSON *apLine[64];
  int n = 0, i;
  const char *z = zText;
  cv_rc rc;
  while( *z && n<64 ){
    const char *zEnd = strchr(z, '\n');
    size_t len = zEnd ? (size_t)(zEnd - z) : strlen(z);
    if( len>0 ){
      cJSON *p = cJSON_ParseWithLength(z, len);
      if( p ) apLine[n++] = p;
    }
    z += len + (zEnd ? 1 : 0);
  }
  memset(c, 0, sizeof *c);
  rc = imp_read_sillytavern(n ? apLine[0] : NULL, (const cJSON *const*)apLine + 1,
                            n ? n-1 : 0, c, zWhy, nWhy);
  for(i=0; i<n; i++) cJSON_Delete(apLine[i]);
  return rc;
}

static void sillytavern_files(void){
  static const struct {
    const char *zFile, *zName, *zId, *zCreated, *zUpdated, *zStart;
  } a[] = {
    {"sillytavern/chats/Aqua_1673181146000.jsonl", "Aqua", "Aqua - 1674559896839",
     "2023-01-24T11:31:36.839Z", "2023-01-24T12:29:31.558Z", "*I am in the town square"},
    {"sillytavern/chats/Darkness_1673225255706.jsonl", "Darkness", "Darkness - 1674559899431",
     "2023-01-24T11:31:39.431Z", "2023-01-24T12:55:14.912Z", "*It's a sunny day, in a big park"},
    {"sillytavern/chats/Megumin_1673323621108.jsonl", "Megumin", "Megumin - 1674559900991",
     "2023-01-24T11:31:40.991Z", "2023-01-24T12:25:53.854Z", "*It was day, the weather was"},
  };
  size_t i;
  if( !have_formats("sillytavern_files") ) return;
  for(i=0; i<sizeof a/sizeof a[0]; i++){
    struct imp_conv c;
    char zWhy[200];
    char *zText = slurp(a[i].zFile, NULL);
    cJSON *m;
    TT_CHECK( zText!=NULL );
    if( !zText ) continue;
    TT_CHECK( read_jsonl(zText, &c, zWhy, sizeof zWhy)==CV_OK );
    m = messages_of(&c);
    TT_CHECK( c.eKind==CV_CONV_CHAT && c.nMessages==1 && c.nSkip==0 );
    TT_CHECK( streq(role(m, 0), "assistant") && starts(text(m, 0), a[i].zStart) );
    TT_CHECK( streq(c.zCharacterName, a[i].zName) );
    TT_CHECK( streq(c.zSourceId, a[i].zId) );
    TT_CHECK( streq(c.zCreatedAt, a[i].zCreated) && streq(c.zUpdatedAt, a[i].zUpdated) );
    TT_CHECK( c.zTitle==NULL );
    cJSON_Delete(m);
    imp_conv_clear(&c);
    free(zText);
  }
}

/* SillyTavern's date forms, hidden and system lines, swipes, the "unused" header. */
static void sillytavern_shapes(void){
  struct imp_conv c;
  char zWhy[200];
  cJSON *m;
  TT_CHECK( read_jsonl(
    "{\"user_name\":\"unused\",\"character_name\":\"unused\",\"chat_metadata\":{\"integrity\":\"abc\"}}\n"
    "{\"name\":\"Seraphina\",\"is_user\":false,\"is_system\":false,\"send_date\":\"January 8, 2023 4:32pm\",\"mes\":\"Hello\",\"swipes\":[\"Hello\",\"Hi\",\"Hey\"],\"swipe_id\":0}\n"
    "{\"name\":\"You\",\"is_user\":true,\"is_system\":true,\"send_date\":\"2024-7-12@01h31m37s\",\"mes\":\"hidden one\"}\n"
    "{\"name\":\"You\",\"is_user\":true,\"is_system\":false,\"send_date\":\"2024-6-5 @14h 56m 50s 682ms\",\"mes\":\"Hi there\",\"extra\":{\"image\":\"x.png\"}}\n"
    "{\"name\":\"System\",\"is_user\":false,\"is_system\":true,\"send_date\":1700000000000,\"mes\":\"note\",\"extra\":{\"type\":\"narrator\"}}\n"
    "{\"name\":\"Seraphina\",\"is_user\":false,\"send_date\":\"2024-08-01T10:00:00.000Z\",\"mes\":{\"message\":\"Chub text\"}}\n"
    "not json\n",
    &c, zWhy, sizeof zWhy)==CV_OK );
  m = messages_of(&c);
  TT_CHECK( c.nMessages==3 );
  TT_CHECK( streq(text(m, 0), "Hello") && streq(role(m, 0), "assistant") );
  TT_CHECK( streq(text(m, 1), "Hi there") && streq(role(m, 1), "user") );
  TT_CHECK( streq(text(m, 2), "Chub text") );
  TT_CHECK( streq(c.zCharacterName, "Seraphina") );
  TT_CHECK( streq(c.zSourceId, "integrity:abc") );
  TT_CHECK( streq(c.zCreatedAt, "2023-01-08T16:32:00.000Z") );   /* first send_date */
  TT_CHECK( streq(c.zUpdatedAt, "2024-08-01T10:00:00.000Z") );
  TT_CHECK( c.nSkip==4 );
  TT_CHECK( streq(c.aSkip[0].zDetail, "message 1: 2 other swipes skipped") );
  TT_CHECK( streq(c.aSkip[1].zDetail, "message 2: hidden message skipped") );
  TT_CHECK( streq(c.aSkip[2].zDetail, "message 3: image skipped") );
  TT_CHECK( streq(c.aSkip[3].zDetail, "message 4: system message (narrator) skipped") );
  cJSON_Delete(m); imp_conv_clear(&c);

  /* header dates: humanized, epoch digits; month names; 12am */
  TT_CHECK( read_jsonl("{\"user_name\":\"You\",\"character_name\":\"Aqua\",\"create_date\":\"2023-5-12 @21h 32m 29s 224ms\"}\n"
                       "{\"name\":\"Aqua\",\"is_user\":false,\"send_date\":\"June 19, 2023 12:05am\",\"mes\":\"x\"}",
                       &c, zWhy, sizeof zWhy)==CV_OK );
  TT_CHECK( streq(c.zCreatedAt, "2023-05-12T21:32:29.224Z") );
  TT_CHECK( streq(c.zUpdatedAt, "2023-06-19T00:05:00.000Z") );
  TT_CHECK( streq(c.zSourceId, "Aqua - 2023-5-12 @21h 32m 29s 224ms") );
  imp_conv_clear(&c);
  TT_CHECK( read_jsonl("{\"character_name\":\"A\",\"create_date\":\"1674559896839\"}\n"
                       "{\"is_user\":true,\"send_date\":\"Feb 30, 2023 1:00pm\",\"mes\":\"x\"}",
                       &c, zWhy, sizeof zWhy)==CV_OK );
  TT_CHECK( streq(c.zCreatedAt, "2023-01-24T11:31:36.839Z") );
  TT_CHECK( streq(c.zUpdatedAt, "2023-01-24T11:31:36.839Z") );    /* Feb 30: no time */
  imp_conv_clear(&c);
  /* only hidden lines: nothing to keep; no lines at all */
  TT_CHECK( read_jsonl("{\"character_name\":\"A\"}\n{\"is_system\":true,\"mes\":\"x\"}",
                       &c, zWhy, sizeof zWhy)==CV_INVALID && is_zero(&c) );
  TT_CHECK( strcmp(zWhy, "no text messages")==0 );
  TT_CHECK( read_jsonl("{\"character_name\":\"A\"}", &c, zWhy, sizeof zWhy)==CV_INVALID );
  TT_CHECK( is_zero(&c) && strcmp(zWhy, "no messages")==0 );
  TT_CHECK( imp_read_sillytavern(NULL, NULL, 0, &c, NULL, 0)==CV_INVALID && is_zero(&c) );
}

/* ----------------------------------------------------------------- chatvault */

static void chatvault_entries(void){
  struct imp_conv c;
  cJSON *p, *m;
  char zWhy[200];
  p = cJSON_Parse("{\"id\":12,\"user_id\":3,\"title\":\"Trip plans\",\"client_id\":\"c-77\","
                  "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"},"
                  "{\"role\":\"system\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"hi\"}],"
                  "\"created_at\":\"2026-01-02T03:04:05.678Z\",\"updated_at\":\"2026-01-03T00:00:00.000Z\","
                  "\"pinned\":true,\"archived\":false,\"tags\":[\"Work\",3,\"travel\"]}");
  TT_CHECK( imp_detect(p)==IMP_CHATVAULT );
  TT_CHECK( imp_read(IMP_CHATVAULT, p, &c, zWhy, sizeof zWhy)==CV_OK );
  m = messages_of(&c);
  TT_CHECK( c.eKind==CV_CONV_THREAD && c.nMessages==2 && c.nSkip==1 );
  TT_CHECK( streq(c.aSkip[0].zDetail, "message 2: system message skipped") );
  TT_CHECK( streq(c.zSourceId, "c-77") && cJSON_IsString(c.pClientId) );
  TT_CHECK( streq(c.zTitle, "Trip plans") && c.bPinned && !c.bArchived );
  TT_CHECK( streq(c.zTags, "[\"Work\",\"travel\"]") );
  TT_CHECK( streq(c.zCreatedAt, "2026-01-02T03:04:05.678Z") );
  TT_CHECK( streq(c.zUpdatedAt, "2026-01-03T00:00:00.000Z") );
  cJSON_Delete(m); imp_conv_clear(&c);
  /* client_id null: "id:<id>"; a number: as written; no title: the automatic one */
  cJSON_ReplaceItemInObjectCaseSensitive(p, "client_id", cJSON_CreateNull());
  cJSON_DeleteItemFromObjectCaseSensitive(p, "title");
  TT_CHECK( imp_read(IMP_CHATVAULT, p, &c, zWhy, sizeof zWhy)==CV_OK );
  TT_CHECK( streq(c.zSourceId, "id:12") && c.pClientId==NULL && streq(c.zTitle, "hello") );
  imp_conv_clear(&c);
  cJSON_ReplaceItemInObjectCaseSensitive(p, "client_id", cJSON_CreateNumber(1700000000123.0));
  TT_CHECK( imp_read(IMP_CHATVAULT, p, &c, zWhy, sizeof zWhy)==CV_OK );
  TT_CHECK( streq(c.zSourceId, "1700000000123") && cJSON_IsNumber(c.pClientId) );
  imp_conv_clear(&c);
  cJSON_Delete(p);

  p = cJSON_Parse("{\"chat_id\":\"0b6f1c2e-3f4a-4b5c-8d9e-0f1a2b3c4d5e\",\"character_id\":5,"
                  "\"character_name\":\"Aqua\",\"character_picture\":\"/p/a.png\",\"scene_id\":null,"
                  "\"scene_name\":\"Town\",\"scene_picture\":null,\"persona_id\":9,\"title\":\"\","
                  "\"messages\":[{\"role\":\"assistant\",\"content\":\"Are you new here?\"}],"
                  "\"last_updated\":\"2026-02-01T00:00:00Z\",\"created_at\":\"2026-01-01T00:00:00Z\"}");
  TT_CHECK( imp_detect(p)==IMP_CHATVAULT );
  TT_CHECK( imp_read(IMP_CHATVAULT, p, &c, zWhy, sizeof zWhy)==CV_OK );
  m = messages_of(&c);
  TT_CHECK( c.eKind==CV_CONV_CHAT && c.nMessages==1 );
  TT_CHECK( streq(c.zChatId, "0b6f1c2e-3f4a-4b5c-8d9e-0f1a2b3c4d5e") );
  TT_CHECK( streq(c.zSourceId, c.zChatId) );
  TT_CHECK( c.srcCharacterId==5 && c.srcSceneId==0 && c.srcPersonaId==9 );
  TT_CHECK( streq(c.zCharacterName, "Aqua") && streq(c.zCharacterPicture, "/p/a.png") );
  TT_CHECK( streq(c.zSceneName, "Town") && c.zScenePicture==NULL && c.zTitle==NULL );
  TT_CHECK( streq(c.zCreatedAt, "2026-01-01T00:00:00.000Z") );
  TT_CHECK( streq(c.zUpdatedAt, "2026-02-01T00:00:00.000Z") );
  cJSON_Delete(m); imp_conv_clear(&c);
  cJSON_Delete(p);
}

/* ----------------------------------------------------------------- detection */

static void detect_all(void){
  static const struct { const char *zFile; enum imp_format e; } a[] = {
    {"chatgpt/echomine_001_simple_text_raw.json", IMP_CHATGPT},
    {"chatgpt/echomine_002_with_images_raw.json", IMP_CHATGPT},
    {"chatgpt/echomine_003_with_code_raw.json", IMP_CHATGPT},
    {"chatgpt/librechat_chatgpt-citations.json", IMP_CHATGPT},
    {"chatgpt/librechat_chatgpt-export.json", IMP_CHATGPT},
    {"chatgpt/librechat_chatgpt-tree.json", IMP_CHATGPT},
    {"chatgpt/openwebui-importer_gpt_example.json", IMP_CHATGPT},
    {"claude/echomine_tool_messages.json", IMP_CLAUDE},
    {"claude/openwebui-importer_claude_example.json", IMP_CLAUDE},
    {"claude/openwebui-importer_claude_thinking_example.json", IMP_CLAUDE},
    {"librechat/librechat-export.json", IMP_LIBRECHAT},
    {"librechat/librechat-linear.json", IMP_LIBRECHAT},
    {"librechat/librechat-opts-nonr-branches.json", IMP_LIBRECHAT},
    {"librechat/librechat-tree.json", IMP_LIBRECHAT},
    {"openwebui/openwebui-importer_webui-json.json", IMP_OPENWEBUI},
    {"lobechat/input-v1-session.json", IMP_UNKNOWN},
    {"text-generation-webui/Example_2023_char_name.json", IMP_UNKNOWN},
  };
  size_t i;
  int k, e;
  if( !have_formats("detect_all") ) return;
  for(i=0; i<sizeof a/sizeof a[0]; i++){
    cJSON *pRoot = load(a[i].zFile);
    const cJSON *pConv;
    for(k=0; (pConv = conv_at(pRoot, k))!=NULL; k++){
      if( imp_detect(pConv)!=a[i].e ) fprintf(stderr, "  %s #%d\n", a[i].zFile, k);
      TT_CHECK( imp_detect(pConv)==a[i].e );
      /* every reader on every conversation: a whole read or an all-zero struct */
      for(e=IMP_UNKNOWN; e<=IMP_SILLYTAVERN; e++){
        struct imp_conv c;
        char zWhy[200];
        cv_rc rc = imp_read((enum imp_format)e, pConv, &c, zWhy, sizeof zWhy);
        if( rc==CV_OK ){
          cJSON_Delete(messages_of(&c));
          imp_conv_clear(&c);
        }else{
          TT_CHECK( is_zero(&c) && zWhy[0] );
        }
      }
    }
    cJSON_Delete(pRoot);
  }
  /* names */
  for(e=IMP_UNKNOWN; e<=IMP_SILLYTAVERN; e++){
    TT_CHECK( imp_format_by_name(imp_format_name((enum imp_format)e))==(enum imp_format)e );
  }
  TT_CHECK( imp_format_by_name("ChatGPT")==IMP_UNKNOWN && imp_format_by_name(NULL)==IMP_UNKNOWN );
  TT_CHECK( streq(imp_format_name(IMP_CHATBOTUI), "chatbot-ui") );
}

/* ----------------------------------------------------------------- hostile inputs */

/* Read zJson as format e: returns the result, checking the all-zero rule on errors. */
static cv_rc try_read(enum imp_format e, const char *zJson, struct imp_conv *c, char *zWhy){
  cJSON *p = cJSON_Parse(zJson);
  cv_rc rc;
  TT_CHECK( p!=NULL );
  rc = imp_read(e, p, c, zWhy, 200);
  if( rc==CV_OK ) cJSON_Delete(messages_of(c));
  else TT_CHECK( is_zero(c) );
  cJSON_Delete(p);
  return rc;
}

static void hostile(void){
  struct imp_conv c;
  char zWhy[200];
  char *zBig;
  size_t i;
  static const char *azJunk[] = {
    "{}", "[]", "1", "null", "\"x\"",
    "{\"mapping\":[]}", "{\"mapping\":{}}", "{\"mapping\":{\"a\":1,\"b\":null,\"c\":[]}}",
    "{\"mapping\":{\"a\":{\"message\":{\"author\":1,\"content\":{\"parts\":\"x\"}}}}}",
    "{\"mapping\":{\"a\":{\"message\":{\"author\":{\"role\":\"user\"},\"content\":{\"content_type\":\"text\",\"parts\":[1,null,{},[\"x\"]]}}}}}",
    "{\"id\":5,\"title\":[],\"create_time\":\"soon\",\"mapping\":{\"a\":{\"parent\":7,\"message\":{\"author\":{\"role\":\"user\"},\"content\":{\"content_type\":\"text\",\"parts\":[\"ok\"]},\"create_time\":1e400}}}}",
    "{\"chat_messages\":\"x\"}", "{\"chat_messages\":[1,\"a\",null]}",
    "{\"chat_messages\":[{\"sender\":\"human\",\"content\":\"x\",\"text\":7}]}",
    "{\"chat_messages\":[{\"uuid\":\"a\",\"parent_message_uuid\":\"b\",\"sender\":\"human\",\"text\":\"x\"},"
      "{\"uuid\":\"b\",\"parent_message_uuid\":\"a\",\"sender\":\"assistant\",\"text\":\"y\"}]}",
    "{\"history\":{\"messages\":[],\"currentId\":5}}", "{\"chat\":{\"history\":7}}",
    "{\"chat\":{\"messages\":{\"a\":1}}}",
    "{\"history\":{\"messages\":{\"a\":{\"parentId\":\"b\",\"childrenIds\":[\"b\"],\"role\":\"user\",\"content\":\"x\"},"
      "\"b\":{\"parentId\":\"a\",\"childrenIds\":[\"a\"],\"role\":\"assistant\",\"content\":\"y\"}}}}",
    "{\"conversationId\":1,\"messages\":{}}", "{\"conversationId\":\"c\",\"messages\":[[],1,{\"children\":5}]}",
    "{\"conversationId\":\"c\",\"messages\":[{\"messageId\":\"a\",\"parentMessageId\":\"b\",\"text\":\"x\"},"
      "{\"messageId\":\"b\",\"parentMessageId\":\"a\",\"text\":\"y\",\"isCreatedByUser\":\"yes\"}]}",
    "{\"conversationId\":\"c\",\"messages\":[{\"messageId\":\"a\",\"parentMessageId\":\"a\",\"text\":\"x\",\"content\":[{\"type\":\"text\",\"text\":{\"value\":5}},{\"type\":9}]}]}",
    "{\"id\":\"x\",\"model\":1,\"messages\":[{\"role\":\"user\",\"content\":[\"x\"]}]}",
    "{\"client_id\":{},\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tags\":\"t\",\"pinned\":\"yes\"}",
    "{\"chat_id\":7,\"character_id\":-3,\"persona_id\":1.5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
  };
  for(i=0; i<sizeof azJunk/sizeof azJunk[0]; i++){
    cJSON *p = cJSON_Parse(azJunk[i]);
    int e;
    TT_CHECK( p!=NULL );
    (void)imp_detect(p);
    for(e=IMP_UNKNOWN; e<=IMP_SILLYTAVERN; e++){
      cv_rc rc = imp_read((enum imp_format)e, p, &c, zWhy, sizeof zWhy);
      if( rc==CV_OK ){ cJSON_Delete(messages_of(&c)); imp_conv_clear(&c); }
      else TT_CHECK( is_zero(&c) );
    }
    {
      const cJSON *ap[2] = {p, p};
      cv_rc rc = imp_read_sillytavern(p, ap, 2, &c, zWhy, sizeof zWhy);
      if( rc==CV_OK ){ cJSON_Delete(messages_of(&c)); imp_conv_clear(&c); }
      else TT_CHECK( is_zero(&c) );
    }
    cJSON_Delete(p);
  }

  /* specific answers */
  TT_CHECK( try_read(IMP_CHATGPT, "{\"mapping\":[]}", &c, zWhy)==CV_INVALID );
  TT_CHECK( strcmp(zWhy, "mapping is not an object")==0 );
  TT_CHECK( try_read(IMP_CHATGPT, "{\"mapping\":{}}", &c, zWhy)==CV_INVALID );
  TT_CHECK( strcmp(zWhy, "no messages")==0 );
  TT_CHECK( try_read(IMP_CLAUDE, "{\"chat_messages\":{}}", &c, zWhy)==CV_INVALID );
  TT_CHECK( strcmp(zWhy, "chat_messages is not an array")==0 );
  /* a parent cycle with current_node inside it: read once around, no loop */
  TT_CHECK( try_read(IMP_CHATGPT, "{\"id\":\"cy\",\"current_node\":\"a\",\"mapping\":{"
    "\"a\":{\"parent\":\"b\",\"message\":{\"author\":{\"role\":\"assistant\"},\"content\":{\"content_type\":\"text\",\"parts\":[\"A\"]}}},"
    "\"b\":{\"parent\":\"a\",\"message\":{\"author\":{\"role\":\"user\"},\"content\":{\"content_type\":\"text\",\"parts\":[\"B\"]}}}}}",
    &c, zWhy)==CV_OK );
  TT_CHECK( c.nMessages==2 && streq(c.zMessages,
    "[{\"role\":\"user\",\"content\":\"B\"},{\"role\":\"assistant\",\"content\":\"A\"}]") );
  imp_conv_clear(&c);
  /* cycle with no current node: all nodes have a child; still a read */
  TT_CHECK( try_read(IMP_CHATGPT, "{\"id\":\"cy\",\"current_node\":\"zz\",\"mapping\":{"
    "\"a\":{\"parent\":\"a\",\"message\":{\"author\":{\"role\":\"user\"},\"content\":{\"content_type\":\"text\",\"parts\":[\"A\"]}}}}}",
    &c, zWhy)==CV_OK && c.nMessages==1 );
  imp_conv_clear(&c);
  /* LibreChat cycle, OWUI cycle without currentId: bounded */
  TT_CHECK( try_read(IMP_LIBRECHAT, azJunk[21], &c, zWhy)!=CV_NOMEM );
  imp_conv_clear(&c);
  TT_CHECK( try_read(IMP_OPENWEBUI, azJunk[18], &c, zWhy)!=CV_NOMEM );
  imp_conv_clear(&c);
  /* an id that is not text: the conversation is refused, not renamed */
  TT_CHECK( try_read(IMP_CHATBOTUI, "{\"id\":\"\\u00ff\",\"model\":{},\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                     &c, zWhy)==CV_OK );
  imp_conv_clear(&c);
  {
    cJSON *p = cJSON_Parse("{\"id\":\"x\",\"model\":{},\"messages\":[{\"role\":\"user\",\"content\":\"ok\"},"
                           "{\"role\":\"assistant\",\"content\":\"x\"}]}");
    cJSON *pM = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p, "messages"), 1);
    /* invalid UTF-8 in a message: skipped; in the id: refused */
    cJSON_ReplaceItemInObjectCaseSensitive(pM, "content", cJSON_CreateString("bad \xC3 byte"));
    TT_CHECK( imp_read(IMP_CHATBOTUI, p, &c, zWhy, sizeof zWhy)==CV_OK );
    TT_CHECK( c.nMessages==1 && c.nSkip==1 );
    TT_CHECK( streq(c.aSkip[0].zDetail, "message 2: text is not valid UTF-8, skipped") );
    imp_conv_clear(&c);
    cJSON_ReplaceItemInObjectCaseSensitive(p, "id", cJSON_CreateString("id \xFF"));
    TT_CHECK( imp_read(IMP_CHATBOTUI, p, &c, zWhy, sizeof zWhy)==CV_INVALID && is_zero(&c) );
    /* a message over IMP_MESSAGE_MAX_LEN is skipped, not cut */
    zBig = malloc(IMP_MESSAGE_MAX_LEN + 2);
    TT_CHECK( zBig!=NULL );
    if( zBig ){
      memset(zBig, 'a', IMP_MESSAGE_MAX_LEN + 1);
      zBig[IMP_MESSAGE_MAX_LEN + 1] = 0;
      cJSON_ReplaceItemInObjectCaseSensitive(p, "id", cJSON_CreateString("big"));
      cJSON_ReplaceItemInObjectCaseSensitive(pM, "content", cJSON_CreateString(zBig));
      TT_CHECK( imp_read(IMP_CHATBOTUI, p, &c, zWhy, sizeof zWhy)==CV_OK );
      TT_CHECK( c.nMessages==1 && c.nSkip==1 && strstr(c.aSkip[0].zDetail, "size limit") );
      imp_conv_clear(&c);
      /* a title of 300 characters is cut to 255 at a character */
      for(i=0; i<300; i++) memcpy(zBig + 2*i, "\xC3\xA9", 2);
      zBig[600] = 0;
      cJSON_AddStringToObject(p, "name", zBig);
      TT_CHECK( imp_read(IMP_CHATBOTUI, p, &c, zWhy, sizeof zWhy)==CV_OK );
      TT_CHECK( c.zTitle && strlen(c.zTitle)==510 && util_utf8_chars(c.zTitle)==255 );
      imp_conv_clear(&c);
      free(zBig);
    }
    cJSON_Delete(p);
  }
  /* more than IMP_SKIP_KEEP skips: all counted, the first 8 kept */
  {
    struct cv_buf b;
    buf_init(&b, 1<<20);
    TT_CHECK( buf_append(&b, "{\"id\":\"m\",\"model\":1,\"messages\":[", 32)==CV_OK );
    for(i=0; i<20; i++) buf_appendf(&b, "{\"role\":\"system\",\"content\":\"s\"},");
    buf_appendf(&b, "{\"role\":\"user\",\"content\":\"u\"}]}");
    TT_CHECK( try_read(IMP_CHATBOTUI, b.a, &c, zWhy)==CV_OK );
    TT_CHECK( c.nSkip==20 && streq(c.aSkip[7].zDetail, "message 8: system message skipped") );
    imp_conv_clear(&c);
    buf_free(&b);
  }
  /* many unclosed generated <details> blocks: linear, kept as written (then over the limit) */
  {
    struct cv_buf b;
    cJSON *p;
    buf_init(&b, 1<<24);
    for(i=0; i<200000; i++) buf_appendf(&b, "<details type=\"reasoning\">");
    p = cJSON_Parse("{\"history\":{\"currentId\":\"a\",\"messages\":{\"a\":{\"role\":\"user\"}}}}");
    cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(p, "history"), "messages"), "a"), "content", b.a);
    TT_CHECK( imp_read(IMP_OPENWEBUI, p, &c, zWhy, sizeof zWhy)==CV_INVALID && is_zero(&c) );
    cJSON_Delete(p);
    buf_free(&b);
  }
  /* a future time is dropped, not kept */
  TT_CHECK( try_read(IMP_CLAUDE, "{\"uuid\":\"f\",\"created_at\":\"9999-01-01T00:00:00Z\","
                     "\"chat_messages\":[{\"sender\":\"human\",\"text\":\"x\"}]}", &c, zWhy)==CV_OK );
  TT_CHECK( c.zCreatedAt==NULL && c.zUpdatedAt==NULL );
  imp_conv_clear(&c);
}

/* A deep LibreChat chain (recursive "children") and a long ChatGPT chain: no recursion, and
** the walk is linear. */
static void deep_trees(void){
  struct imp_conv c;
  cJSON *pRoot = cJSON_CreateObject(), *pList = cJSON_CreateArray(), *pCur = pList;
  cJSON *pMap;
  char zId[32], zParent[32];
  int i;
  cJSON_AddStringToObject(pRoot, "conversationId", "deep");
  cJSON_AddItemToObject(pRoot, "messages", pList);
  for(i=0; i<5000; i++){
    cJSON *m = cJSON_CreateObject();
    snprintf(zId, sizeof zId, "m%d", i);
    cJSON_AddStringToObject(m, "messageId", zId);
    cJSON_AddBoolToObject(m, "isCreatedByUser", i%2==0);
    cJSON_AddStringToObject(m, "text", "t");
    cJSON_AddItemToArray(pCur, m);
    pCur = cJSON_AddArrayToObject(m, "children");
  }
  TT_CHECK( imp_read(IMP_LIBRECHAT, pRoot, &c, NULL, 0)==CV_OK && c.nMessages==5000 );
  imp_conv_clear(&c);
  cJSON_Delete(pRoot);

  pRoot = cJSON_CreateObject();
  pMap = cJSON_AddObjectToObject(pRoot, "mapping");
  for(i=0; i<20000; i++){
    cJSON *n = cJSON_CreateObject(), *m, *pParts;
    snprintf(zId, sizeof zId, "n%d", i);
    snprintf(zParent, sizeof zParent, "n%d", i-1);
    if( i ) cJSON_AddStringToObject(n, "parent", zParent);
    m = cJSON_AddObjectToObject(n, "message");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(m, "author"), "role", i%2 ? "assistant" : "user");
    pParts = cJSON_AddArrayToObject(cJSON_AddObjectToObject(m, "content"), "parts");
    cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(m, "content"), "content_type", "text");
    cJSON_AddItemToArray(pParts, cJSON_CreateString("p"));
    cJSON_AddItemToObject(pMap, zId, n);
  }
  cJSON_AddStringToObject(pRoot, "current_node", "n19999");
  TT_CHECK( imp_read(IMP_CHATGPT, pRoot, &c, NULL, 0)==CV_OK && c.nMessages==20000 );
  TT_CHECK( strncmp(c.zSourceId, "sha256:", 7)==0 );
  imp_conv_clear(&c);
  cJSON_Delete(pRoot);
}

int main(void){
  TT_RUN(chatgpt_files);
  TT_RUN(claude_files);
  TT_RUN(openwebui_files);
  TT_RUN(librechat_files);
  TT_RUN(chatbotui_file);
  TT_RUN(sillytavern_files);
  TT_RUN(sillytavern_shapes);
  TT_RUN(chatvault_entries);
  TT_RUN(detect_all);
  TT_RUN(hostile);
  TT_RUN(deep_trees);
  return TT_DONE();
}
