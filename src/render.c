/*
** render.c — see render.h. One function per shape, so the keys of each response are
** written in exactly one place.
*/
#include "render.h"
#include "importer.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include "store_catalog.h"
#include "store_changes.h"
#include "store_chats.h"
#include "store_members.h"
#include "store_stats.h"
#include "store_threads.h"
#include "store_users.h"
#include "store.h"
#include "search.h"
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

cJSON *render_member(const struct cv_member *m){
  cJSON *p = cJSON_CreateObject();
  if( !p ) return NULL;
  if( !render_add_int(p, "user_id", (long long)(m->userId))
   || !render_add_str(p, "email", m->zEmail)
   || !render_add_str(p, "display_name", m->zDisplayName)
   || !render_add_str(p, "added_at", m->zAddedAt) ){
    cJSON_Delete(p);
    return NULL;
  }
  return p;
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

cv_rc render_json_string(struct cv_buf *b, const char *z){
  struct cv_sink k;
  sink_to_buf(&k, b);
  return render_string(&k, z);
}

/* Append a string literal. */
#define LIT(b, z) buf_append((b), (z), sizeof(z) - 1)

cv_rc render_search_result(struct cv_buf *b, struct cv_search_hit *a, int n, long long total){
  int i;
  cv_rc rc = LIT(b, "{\"items\":[");
  for(i=0; rc==CV_OK && i<n; i++){
    struct cv_search_hit *h = &a[i];
    int aHl[SEARCH_MAX_MATCHES][2], nHl = 0, iStart = 0, iEnd = 0, j;
    char cSaved;
    search_snippet(h->zText, h->nText, h->aMatch, h->nMatch, &iStart, &iEnd, aHl,
                   SEARCH_MAX_MATCHES, &nHl);
    rc = i ? LIT(b, ",{\"kind\":") : LIT(b, "{\"kind\":");
    if( h->eKind==CV_CONV_THREAD ){
      if( rc==CV_OK ) rc = LIT(b, "\"thread\",\"thread_id\":");
      if( rc==CV_OK ) rc = buf_append_int(b, h->threadId);
    }else{
      if( rc==CV_OK ) rc = LIT(b, "\"chat\",\"chat_id\":");
      if( rc==CV_OK ) rc = render_json_string(b, h->zChatId);
    }
    if( rc==CV_OK ) rc = LIT(b, ",\"title\":");
    if( rc==CV_OK ) rc = render_json_string(b, h->zTitle);
    if( rc==CV_OK ) rc = LIT(b, ",\"index\":");
    if( rc==CV_OK ) rc = buf_append_int(b, h->index);
    if( rc==CV_OK ) rc = LIT(b, ",\"role\":");
    if( rc==CV_OK ) rc = h->index<0 ? LIT(b, "null") : render_json_string(b, h->zRole);
    if( rc==CV_OK ) rc = LIT(b, ",\"snippet\":");
    cSaved = h->zText[iEnd];
    h->zText[iEnd] = 0;
    if( rc==CV_OK ) rc = render_json_string(b, h->zText + iStart);
    h->zText[iEnd] = cSaved;
    if( rc==CV_OK ) rc = LIT(b, ",\"highlights\":[");
    for(j=0; rc==CV_OK && j<nHl; j++){
      rc = j ? LIT(b, ",[") : LIT(b, "[");
      if( rc==CV_OK ) rc = buf_append_int(b, aHl[j][0]);
      if( rc==CV_OK ) rc = LIT(b, ",");
      if( rc==CV_OK ) rc = buf_append_int(b, aHl[j][1]);
      if( rc==CV_OK ) rc = LIT(b, "]");
    }
    if( rc==CV_OK ) rc = LIT(b, "],\"updated_at\":\"");
    if( rc==CV_OK ) rc = buf_append(b, h->zUpdatedAt, strlen(h->zUpdatedAt));
    if( rc==CV_OK ) rc = LIT(b, "\"}");
  }
  if( rc==CV_OK ) rc = LIT(b, "],\"total\":");
  if( rc==CV_OK ) rc = buf_append_int(b, total);
  if( rc==CV_OK ) rc = LIT(b, "}");
  return rc;
}

cv_rc render_thread_summaries(struct cv_buf *b, const struct cv_thread *a, int n){
  int i;
  cv_rc rc = buf_append(b, "[", 1);
  /* appends, not printf: formatting was a seventh of a list request's CPU */
  for(i=0; rc==CV_OK && i<n; i++){
    rc = i ? buf_append(b, ",{\"id\":", 7) : buf_append(b, "{\"id\":", 6);
    if( rc==CV_OK ) rc = buf_append_int(b, a[i].id);
    if( rc==CV_OK ) rc = buf_append(b, ",\"title\":", 9);
    if( rc==CV_OK ) rc = render_json_string(b, a[i].zTitle ? a[i].zTitle : "");
    if( rc==CV_OK ) rc = buf_append(b, ",\"created_at\":\"", 15);
    if( rc==CV_OK ) rc = buf_append(b, a[i].zCreatedAt, strlen(a[i].zCreatedAt));
    if( rc==CV_OK ) rc = buf_append(b, "\",\"updated_at\":\"", 16);
    if( rc==CV_OK ) rc = buf_append(b, a[i].zUpdatedAt, strlen(a[i].zUpdatedAt));
    if( rc==CV_OK ) rc = buf_append(b, "\",\"message_count\":", 18);
    if( rc==CV_OK ) rc = buf_append_int(b, a[i].nMessages);
    if( rc==CV_OK ) rc = buf_append(b, a[i].bPinned ? ",\"pinned\":true" : ",\"pinned\":false",
                                    a[i].bPinned ? 14 : 15);
    if( rc==CV_OK ) rc = buf_append(b, a[i].bArchived ? ",\"archived\":true"
                                                      : ",\"archived\":false",
                                    a[i].bArchived ? 16 : 17);
    if( rc==CV_OK ) rc = buf_append(b, ",\"tags\":", 8);
    if( rc==CV_OK ){
      const char *zTags = a[i].zTags ? a[i].zTags : "[]";
      rc = buf_append(b, zTags, strlen(zTags));
    }
    if( rc==CV_OK && a[i].bShared ){             /* a thread shared with the reader */
      rc = buf_append(b, ",\"owner\":{\"id\":", 15);
      if( rc==CV_OK ) rc = buf_append_int(b, a[i].userId);
      if( rc==CV_OK ) rc = buf_append(b, ",\"display_name\":", 16);
      if( rc==CV_OK ){
        rc = a[i].zOwnerName ? render_json_string(b, a[i].zOwnerName) : buf_append(b, "null", 4);
      }
      if( rc==CV_OK ) rc = buf_append(b, "}", 1);
    }
    if( rc==CV_OK ) rc = buf_append(b, "}", 1);
  }
  if( rc==CV_OK ) rc = buf_append(b, "]", 1);
  return rc;
}

cv_rc render_string(struct cv_sink *pOut, const char *z){
  static const char hex[] = "0123456789abcdef";
  const char *zRun;
  cv_rc rc;
  if( !z ) return sink_write(pOut, "null", 4);
  rc = sink_write(pOut, "\"", 1);
  for(zRun=z; rc==CV_OK && *z; z++){
    unsigned char c = (unsigned char)*z;
    char zEsc[7];
    size_t nEsc = 2;
    if( c>=0x20 && c!='"' && c!='\\' ) continue;
    rc = sink_write(pOut, zRun, (size_t)(z - zRun));
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
    if( rc==CV_OK ) rc = sink_write(pOut, zEsc, nEsc);
    zRun = z + 1;
  }
  if( rc==CV_OK ) rc = sink_write(pOut, zRun, (size_t)(z - zRun));
  if( rc==CV_OK ) rc = sink_write(pOut, "\"", 1);
  return rc;
}

/* "key": followed by a string or null. */
static cv_rc field_str(struct cv_sink *p, const char *zKey, const char *z){
  cv_rc rc = sink_printf(p, ",\"%s\":", zKey);
  return rc ? rc : render_string(p, z);
}

/* "key": an id, or null for 0. */
static cv_rc field_id(struct cv_sink *p, const char *zKey, long long id){
  return id ? sink_printf(p, ",\"%s\":%lld", zKey, id) : sink_printf(p, ",\"%s\":null", zKey);
}

/* ChatThreadOut without its closing brace: render_thread and render_thread_export share it,
** so its keys are written in one place. */
static cv_rc thread_fields(struct cv_sink *p, const struct cv_thread *t,
                           cv_messages_fn xMessages, void *pCtx){
  cv_rc rc = sink_printf(p, "{\"id\":%lld,\"user_id\":%lld", (long long)t->id,
                         (long long)t->userId);
  if( rc==CV_OK ) rc = field_str(p, "title", t->zTitle ? t->zTitle : "");
  if( rc==CV_OK ) rc = sink_write(p, ",\"messages\":", 12);
  if( rc==CV_OK ) rc = xMessages(pCtx, (long long)t->id, p);
  if( rc==CV_OK ) rc = sink_printf(p, ",\"created_at\":\"%s\",\"updated_at\":\"%s\","
                                   "\"pinned\":%s,\"archived\":%s,\"tags\":%s",
                                   t->zCreatedAt, t->zUpdatedAt, t->bPinned ? "true" : "false",
                                   t->bArchived ? "true" : "false", t->zTags ? t->zTags : "[]");
  if( rc==CV_OK && t->bShared ){                 /* read by a member: whose thread it is */
    rc = sink_printf(p, ",\"owner\":{\"id\":%lld", (long long)t->userId);
    if( rc==CV_OK ) rc = field_str(p, "display_name", t->zOwnerName);
    if( rc==CV_OK ) rc = sink_write(p, "}", 1);
  }
  return rc;
}

cv_rc render_thread(struct cv_sink *p, const struct cv_thread *t, cv_messages_fn xMessages,
                    void *pCtx){
  cv_rc rc = thread_fields(p, t, xMessages, pCtx);
  return rc ? rc : sink_write(p, "}", 1);
}

cv_rc render_thread_export(struct cv_sink *p, const struct cv_thread *t, const char *zClientId,
                           cv_messages_fn xMessages, void *pCtx){
  cv_rc rc = thread_fields(p, t, xMessages, pCtx);
  if( rc==CV_OK ) rc = sink_write(p, ",\"client_id\":", 13);
  if( rc==CV_OK ){
    /* digits as the import wrote a number ("%lld": an optional '-', no leading zero) */
    const char *z = zClientId;
    size_t n = z ? strlen(z) : 0, nDigits = z ? strspn(z + (z[0]=='-'), "0123456789") : 0;
    int bNumber = z && nDigits>0 && nDigits<=18 && nDigits + (z[0]=='-')==n
               && (z[z[0]=='-']!='0' || (nDigits==1 && z[0]!='-'));
    rc = bNumber ? sink_write(p, z, n) : render_string(p, z);
  }
  if( rc==CV_OK ) rc = sink_write(p, "}", 1);
  return rc;
}

/* A chat entry (render_chat_entry); bMark: plus "archived":true when c is archived. */
static cv_rc chat_entry(struct cv_sink *p, const struct cv_chat *c, cv_messages_fn xMessages,
                        void *pCtx, int bMark){
  cv_rc rc = sink_write(p, "{\"chat_id\":", 11);
  if( rc==CV_OK ) rc = render_string(p, c->zChatId);
  if( rc==CV_OK ) rc = field_id(p, "character_id", (long long)c->characterId);
  if( rc==CV_OK ) rc = field_str(p, "character_name", c->zCharacterName);
  if( rc==CV_OK ) rc = field_str(p, "character_picture", c->zCharacterPicture);
  if( rc==CV_OK ) rc = field_id(p, "scene_id", (long long)c->sceneId);
  if( rc==CV_OK ) rc = field_str(p, "scene_name", c->zSceneName);
  if( rc==CV_OK ) rc = field_str(p, "scene_picture", c->zScenePicture);
  if( rc==CV_OK ) rc = field_id(p, "persona_id", (long long)c->personaId);
  if( rc==CV_OK ) rc = field_str(p, "title", c->zTitle ? c->zTitle : "");
  if( rc==CV_OK ) rc = sink_write(p, ",\"messages\":", 12);
  if( rc==CV_OK ) rc = xMessages(pCtx, (long long)c->id, p);
  if( rc==CV_OK ) rc = sink_printf(p, ",\"last_updated\":\"%s\",\"created_at\":\"%s\"%s}",
                                   c->zLastUpdated, c->zCreatedAt,
                                   bMark && c->bArchived ? ",\"archived\":true" : "");
  return rc;
}

cv_rc render_chat_entry(struct cv_sink *p, const struct cv_chat *c, cv_messages_fn xMessages,
                        void *pCtx){
  return chat_entry(p, c, xMessages, pCtx, 0);
}

cv_rc render_chat_export(struct cv_sink *p, const struct cv_chat *c, cv_messages_fn xMessages,
                         void *pCtx){
  return chat_entry(p, c, xMessages, pCtx, 1);
}

cv_rc render_chat_entries(struct cv_sink *p, const struct cv_chat *a, int n,
                          cv_messages_fn xMessages, void *pCtx){
  int i;
  cv_rc rc = sink_write(p, "[", 1);
  for(i=0; rc==CV_OK && i<n; i++){
    if( i ) rc = sink_write(p, ",", 1);
    if( rc==CV_OK ) rc = render_chat_entry(p, &a[i], xMessages, pCtx);
  }
  if( rc==CV_OK ) rc = sink_write(p, "]", 1);
  return rc;
}

cv_rc render_user_fields(struct cv_sink *p, const struct cv_user *u, const struct cv_chat *a,
                         int n, cv_messages_fn xMessages, void *pCtx){
  cv_rc rc = sink_printf(p, "\"id\":%lld", (long long)u->id);
  if( rc==CV_OK ) rc = field_str(p, "email", u->zEmail);
  if( rc==CV_OK ) rc = field_str(p, "display_name", u->zDisplayName);
  if( rc==CV_OK ) rc = field_str(p, "created_at", u->zCreatedAt);
  if( rc==CV_OK ) rc = sink_write(p, ",\"chat_history\":", 16);
  if( rc==CV_OK ) rc = render_chat_entries(p, a, n, xMessages, pCtx);
  return rc;
}

cv_rc render_chat_answer(struct cv_sink *p, const struct cv_chat *c, const char *zReply,
                         cv_messages_fn xMessages, void *pCtx){
  cv_rc rc = sink_write(p, "{\"chat_id\":", 11);
  if( rc==CV_OK ) rc = render_string(p, c->zChatId);
  if( rc==CV_OK ) rc = field_str(p, "reply", zReply);
  if( rc==CV_OK ) rc = sink_write(p, ",\"chat\":", 8);
  if( rc==CV_OK ) rc = render_chat_entry(p, c, xMessages, pCtx);
  if( rc==CV_OK ) rc = sink_write(p, "}", 1);
  return rc;
}

cv_rc render_thread_answer(struct cv_sink *p, const struct cv_thread *t, const char *zReply,
                           cv_messages_fn xMessages, void *pCtx){
  cv_rc rc = sink_printf(p, "{\"thread_id\":%lld", (long long)t->id);
  if( rc==CV_OK ) rc = field_str(p, "reply", zReply);
  if( rc==CV_OK ) rc = sink_write(p, ",\"thread\":", 10);
  if( rc==CV_OK ) rc = render_thread(p, t, xMessages, pCtx);
  if( rc==CV_OK ) rc = sink_write(p, "}", 1);
  return rc;
}

cv_rc render_delta(struct cv_buf *b, const char *z, size_t n){
  struct cv_sink k;
  cv_rc rc;
  sink_to_buf(&k, b);
  rc = sink_write(&k, "{\"delta\":\"", 10);
  /* z is not NUL-terminated: escape it in place through render_string's rules */
  while( rc==CV_OK && n>0 ){
    char zPiece[1024];
    size_t k2 = n < sizeof zPiece - 1 ? n : sizeof zPiece - 1;
    struct cv_buf e;
    memcpy(zPiece, z, k2);
    zPiece[k2] = 0;
    buf_init(&e, sizeof zPiece * 6 + 8);
    rc = render_json_string(&e, zPiece);
    if( rc==CV_OK ) rc = sink_write(&k, e.a + 1, e.n - 2);   /* without its quotes */
    buf_free(&e);
    z += k2;
    n -= k2;
  }
  if( rc==CV_OK ) rc = sink_write(&k, "\"}", 2);
  return rc;
}

cv_rc render_tag_counts(struct cv_buf *b, const struct cv_tag_count *a, int n){
  int i;
  cv_rc rc = buf_append(b, "[", 1);
  for(i=0; rc==CV_OK && i<n; i++){
    rc = buf_append(b, i ? ",{\"tag\":" : "{\"tag\":", i ? 8 : 7);
    if( rc==CV_OK ) rc = render_json_string(b, a[i].zTag);
    if( rc==CV_OK ) rc = buf_append(b, ",\"count\":", 9);
    if( rc==CV_OK ) rc = buf_append_int(b, a[i].n);
    if( rc==CV_OK ) rc = buf_append(b, "}", 1);
  }
  if( rc==CV_OK ) rc = buf_append(b, "]", 1);
  return rc;
}

cv_rc render_change(struct cv_buf *b, const struct cv_change *p){
  static const char *const azKind[] = { "", "thread", "chat", "persona", "character" };
  char zAt[CV_TS_LEN+1];
  cv_rc rc;
  assert( p->kind>=CV_CHANGE_THREAD && p->kind<=CV_CHANGE_CHARACTER );
  util_iso_format(p->atMs, zAt);
  rc = buf_appendf(b, "{\"kind\":\"%s\",\"id\":", azKind[p->kind]);
  if( rc==CV_OK ){
    rc = p->kind==CV_CHANGE_CHAT ? render_json_string(b, p->zChatId) : buf_append_int(b, p->id);
  }
  if( rc==CV_OK ){
    rc = buf_appendf(b, ",\"op\":\"%s\",\"at\":\"%s\"}", p->bDelete ? "delete" : "upsert", zAt);
  }
  return rc;
}

cv_rc render_changes_page(struct cv_buf *b, const struct cv_change *a, int n,
                          const char *zCursor, int bMore){
  int i;
  cv_rc rc = buf_append(b, "{\"changes\":[", 12);
  for(i=0; rc==CV_OK && i<n; i++){
    if( i ) rc = buf_append(b, ",", 1);
    if( rc==CV_OK ) rc = render_change(b, &a[i]);
  }
  if( rc==CV_OK ) rc = buf_append(b, "],\"cursor\":", 11);
  if( rc==CV_OK ) rc = render_json_string(b, zCursor);
  if( rc==CV_OK ) rc = buf_appendf(b, ",\"more\":%s}", bMore ? "true" : "false");
  return rc;
}

cv_rc render_stats(struct cv_buf *b, const struct cv_stats *p, const char (*azDay)[11],
                   const int64_t *anDay, int nDay){
  int i;
  cv_rc rc = buf_appendf(b, "{\"threads\":%lld,\"chats\":%lld,\"messages\":%lld,"
                         "\"characters_used\":%lld,\"per_day\":[", (long long)p->nThreads,
                         (long long)p->nChats, (long long)p->nMessages,
                         (long long)p->nCharactersUsed);
  for(i=0; rc==CV_OK && i<nDay; i++){
    rc = buf_appendf(b, "%s{\"date\":\"%s\",\"messages\":%lld}", i ? "," : "", azDay[i],
                     (long long)anDay[i]);
  }
  if( rc==CV_OK ) rc = buf_append(b, "],\"top_characters\":[", 20);
  for(i=0; rc==CV_OK && i<p->nTop; i++){
    rc = buf_append(b, i ? ",{\"character_name\":" : "{\"character_name\":", i ? 19 : 18);
    if( rc==CV_OK ) rc = render_json_string(b, p->aTop[i].zName);
    if( rc==CV_OK ) rc = buf_appendf(b, ",\"chats\":%lld,\"messages\":%lld}",
                                     (long long)p->aTop[i].nChats,
                                     (long long)p->aTop[i].nMessages);
  }
  if( rc==CV_OK ) rc = buf_append(b, "]}", 2);
  return rc;
}

cv_rc render_import_result(struct cv_sink *pOut, const struct cv_import_report *p){
  int i;
  cv_rc rc = sink_write(pOut, "{\"format\":", 10);
  if( rc==CV_OK ) rc = render_string(pOut, p->zFormat);
  if( rc==CV_OK ) rc = sink_printf(pOut, ",\"imported\":%lld,\"skipped\":%lld,\"items\":[",
                                   (long long)p->nImported, (long long)p->nSkipped);
  for(i=0; rc==CV_OK && i<p->nItem; i++){
    const struct cv_import_out *o = &p->aItem[i];
    rc = sink_write(pOut, i ? ",{\"source_id\":" : "{\"source_id\":", i ? 14 : 13);
    if( rc==CV_OK ) rc = render_string(pOut, o->zSourceId);
    if( rc==CV_OK && o->eKind==CV_CONV_CHAT ){
      rc = sink_printf(pOut, ",\"kind\":\"chat\",\"id\":\"%s\"}", o->zChatId);
    }else if( rc==CV_OK ){
      rc = sink_printf(pOut, ",\"kind\":\"thread\",\"id\":%lld}", (long long)o->id);
    }
  }
  if( rc==CV_OK ) rc = sink_write(pOut, "],\"errors\":[", 12);
  for(i=0; rc==CV_OK && i<p->nErr; i++){
    const struct cv_import_err *x = &p->aErr[i];
    rc = sink_write(pOut, i ? ",{\"source_id\":" : "{\"source_id\":", i ? 14 : 13);
    if( rc==CV_OK ) rc = x->zSourceId ? render_string(pOut, x->zSourceId)
                                      : sink_write(pOut, "null", 4);
    if( rc==CV_OK ) rc = sink_write(pOut, ",\"detail\":", 10);
    if( rc==CV_OK ) rc = render_string(pOut, x->zDetail);
    if( rc==CV_OK ) rc = sink_write(pOut, "}", 1);
  }
  if( rc==CV_OK ) rc = sink_printf(pOut, "],\"errors_total\":%lld}", (long long)p->nErrors);
  return rc;
}
