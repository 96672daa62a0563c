/*
** importer.c — one import (importer.h): the splitter's values become conversations, in
** batches, written through the store.
**
** What each value of the splitter is (jsonsplit.h):
**   ITEM, no key         an element of a top-level array: one conversation
**   ITEM "history"       chatbot-ui: one conversation
**   ITEM "threads"/"chats"/"personas"/"characters"   chatvault (after "format":"chatvault")
**   MEMBER               a member of a top-level object that is not split: kept (bounded) so
**                        that a lone conversation object (ChatGPT single, LibreChat, Open
**                        WebUI record) or a SillyTavern header can be read at its end
**   VALUE                a further top-level value: a SillyTavern message line
**   TOOBIG               a value over the limit: skipped with an error
** Chatvault chats name personas and characters by the exporting database's ids, and come
** before them in the file; they are kept (a user holds few chats: retention) and written at
** the end, after the personas and characters, with the ids remapped.
*/
#include "importer.h"

#include "jsonsplit.h"
#include "store.h"
#include "store_chats.h"
#include "store_import.h"
#include "tags.h"
#include "util.h"
#include "validate.h"

#include <assert.h>
#include <pthread.h>
#include <cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_CONVS  1024              /* conversations per write transaction */
#define BATCH_BYTES  (8*1024*1024)     /* message bytes per write transaction */

/* A conversation read and waiting for its batch. */
struct pending {
  struct imp_conv c;
  char zKey[IMP_DETAIL_MAX + 64];      /* thread: client_id; chat: chat_id */
};

/* A batch on its way to the store: what write_begin prepared, written by a thread of its
** own while the next batch is read (two cores: parsing and writing overlap), its results
** recorded by write_end in the importer's thread. */
struct inflight {
  struct pending *a;             /* the batch (owned) */
  int n;
  struct cv_import_conv *aW;     /* what the store gets */
  struct cv_tagset **apTags;
  struct cv_store *pS;
  int64_t userId;
  cv_rc rc;                      /* the store's result */
  pthread_t th;
  int bThread;                   /* th runs (join it) */
};


/* A chatvault persona or character: its id in the exporting database and its row here. */
struct person_map {
  int bCharacter;
  int64_t srcId;
  int64_t id;
};

struct cv_importer {
  struct cv_store *pS;
  int64_t userId;
  enum imp_format eFormat;             /* named or detected; IMP_UNKNOWN until then */
  int bNamed;                          /* named by the caller */
  size_t nMaxConv;
  cv_import_progress_fn xProgress;
  void *pCtx;
  struct jsplit *pSplit;
  cv_rc rc;                            /* sticky error */
  char zErr[256];
  int64_t nFed;                        /* bytes fed */
  int64_t nSeen;                       /* values seen that should be conversations (for "#N") */
  int bChatvault;                      /* the top-level "format" said chatvault */
  int bItems;                          /* some ITEM was seen */
  int bLines;                          /* JSON Lines: VALUEs were seen */
  /* members of a top-level object that was not split: "{" k:v , ... */
  struct cv_buf members;
  /* JSON Lines: the message lines (SillyTavern), parsed */
  cJSON **aLine;
  int nLine, nLineAlloc;
  size_t nLineBytes;
  /* the batch being read, and the one being written (the spare array holds its
  ** conversations until the write ends) */
  struct pending *aPend;
  int nPend;
  size_t nPendBytes;
  struct pending *aSpare;
  int nSpare;
  struct inflight fly;
  /* chatvault: chats kept to the end, personas and characters */
  struct pending *aLate;
  int nLate, nLateAlloc;
  struct cv_import_person *aPerson;
  cJSON **apPersonJson;                /* owns the strings aPerson points into */
  struct person_map *aMap;
  int nPerson, nPersonAlloc;
  struct cv_import_report res;
  int nResItemAlloc;
};

static const char *const azSplitKeys[] = { "threads", "chats", "personas", "characters",
                                           "history", NULL };

void importer_chat_id(int64_t userId, const char *zFormat, const char *zSource, char *zOut){
  static const char zHex[] = "0123456789abcdef";
  crypto_generichash_state st;
  unsigned char h[16];
  char zUser[24];
  int i, k = 0;
  snprintf(zUser, sizeof zUser, "%lld", (long long)userId);
  crypto_generichash_init(&st, (const unsigned char *)"chatvault-import", 16, sizeof h);
  crypto_generichash_update(&st, (const unsigned char *)zUser, strlen(zUser) + 1);
  crypto_generichash_update(&st, (const unsigned char *)zFormat, strlen(zFormat) + 1);
  crypto_generichash_update(&st, (const unsigned char *)zSource, strlen(zSource));
  crypto_generichash_final(&st, h, sizeof h);
  h[6] = (unsigned char)((h[6] & 0x0f) | 0x80);      /* version 8: made by us */
  h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);      /* RFC 9562 variant */
  for(i=0; i<16; i++){
    if( i==4 || i==6 || i==8 || i==10 ) zOut[k++] = '-';
    zOut[k++] = zHex[h[i]>>4];
    zOut[k++] = zHex[h[i]&15];
  }
  zOut[k] = 0;
}

/* ---- the result --------------------------------------------------------------------- */

/* Record an error about zSource (may be NULL). Counted always, listed while there is room. */
static cv_rc add_error(struct cv_importer *p, const char *zSource, const char *zDetail){
  struct cv_import_err *e;
  p->res.nErrors++;
  if( p->res.nErr>=IMPORT_ERRORS_LISTED ) return CV_OK;
  if( !p->res.aErr ){
    p->res.aErr = calloc(IMPORT_ERRORS_LISTED, sizeof *p->res.aErr);
    if( !p->res.aErr ) return CV_NOMEM;
  }
  e = &p->res.aErr[p->res.nErr];
  e->zSourceId = NULL;
  if( zSource && !(e->zSourceId = strdup(zSource)) ) return CV_NOMEM;
  snprintf(e->zDetail, sizeof e->zDetail, "%s", zDetail);
  p->res.nErr++;
  return CV_OK;
}

/* Record that conversation zSource is in the store as a thread id or chat zChatId. */
static cv_rc add_item(struct cv_importer *p, const char *zSource, int eKind, int64_t id,
                      const char *zChatId){
  struct cv_import_out *o;
  if( p->res.nItem==p->nResItemAlloc ){
    int nNew = p->nResItemAlloc ? p->nResItemAlloc*2 : 64;
    struct cv_import_out *aNew = realloc(p->res.aItem, sizeof *aNew * (size_t)nNew);
    if( !aNew ) return CV_NOMEM;
    p->res.aItem = aNew;
    p->nResItemAlloc = nNew;
  }
  o = &p->res.aItem[p->res.nItem];
  memset(o, 0, sizeof *o);
  if( !(o->zSourceId = strdup(zSource)) ) return CV_NOMEM;
  o->eKind = eKind;
  o->id = id;
  if( zChatId ) snprintf(o->zChatId, sizeof o->zChatId, "%s", zChatId);
  p->res.nItem++;
  return CV_OK;
}

/* The source id of the nth value when the file gives none we could read. */
static void ordinal(char *zOut, size_t nOut, int64_t n){
  snprintf(zOut, nOut, "#%lld", (long long)n);
}

/* A conversation of the file is not imported: count it as skipped and record why, under
** zSource (NULL: its place in the file, "#N"). */
static cv_rc skip_conv(struct cv_importer *p, const char *zSource, const char *zWhy){
  char zSrc[32], zDetail[IMP_DETAIL_MAX + 32];
  if( !zSource ){
    ordinal(zSrc, sizeof zSrc, p->nSeen);
    zSource = zSrc;
  }
  p->res.nSkipped++;
  snprintf(zDetail, sizeof zDetail, "not imported: %s", zWhy && zWhy[0] ? zWhy : "unreadable");
  return add_error(p, zSource, zDetail);
}

/* ---- the batch ---------------------------------------------------------------------- */

/* Write the pending conversations a[0..n) in one transaction and record their results. */
/* The tags of a chatvault thread (JSON array text zTags) as a set; NULL when there are none
** or on CV_NOMEM (*pRc set). Tags that are not valid tags are left out. */
static struct cv_tagset *tagset_of(const char *zTags, cv_rc *pRc){
  struct cv_tagset *pSet;
  cJSON *pArr, *pTag;
  if( !zTags || strcmp(zTags, "[]")==0 ) return NULL;
  if( !(pArr = cJSON_Parse(zTags)) ) return NULL;
  pSet = calloc(1, sizeof *pSet);
  if( !pSet ){ cJSON_Delete(pArr); *pRc = CV_NOMEM; return NULL; }
  cJSON_ArrayForEach(pTag, pArr){
    int bLong = 0;
    if( cJSON_IsString(pTag) ){
      (void)tags_set_add(pSet, pTag->valuestring, strlen(pTag->valuestring), &bLong);
    }
  }
  cJSON_Delete(pArr);
  tags_set_sort(pSet);
  return pSet;
}

static void *write_thread(void *pArg){
  struct inflight *f = pArg;
  f->rc = store_import_convs(f->pS, f->userId, f->aW, f->n);
  return NULL;
}

/* Prepare the store's view of a[0..n) in f (which takes a). */
static cv_rc write_begin(struct cv_importer *p, struct inflight *f, struct pending *a, int n){
  int i;
  cv_rc rc = CV_OK;
  memset(f, 0, sizeof *f);
  f->a = a;
  f->n = n;
  f->pS = p->pS;
  f->userId = p->userId;
  if( n==0 ) return CV_OK;
  f->aW = calloc((size_t)n, sizeof *f->aW);
  f->apTags = calloc((size_t)n, sizeof *f->apTags);
  if( !f->aW || !f->apTags ) return CV_NOMEM;
  for(i=0; i<n && rc==CV_OK; i++){
    struct imp_conv *c = &a[i].c;
    struct cv_import_conv *w = &f->aW[i];
    w->eKind = c->eKind;
    w->zKey = a[i].zKey;
    w->zAltChatId = c->zChatId;
    if( p->eFormat==IMP_CHATVAULT && c->eKind==CV_CONV_THREAD
        && strncmp(c->zSourceId, "id:", 3)==0 ){
      w->altThreadId = strtoll(c->zSourceId + 3, NULL, 10);
    }
    w->zTitle = c->zTitle;
    w->zMessages = c->zMessages;
    w->nMessages = c->nMessages;
    w->zCreatedAt = c->zCreatedAt;
    w->zUpdatedAt = c->zUpdatedAt;
    w->zCharacterName = c->zCharacterName;
    w->bFindCharacter = p->eFormat==IMP_SILLYTAVERN;
    w->characterId = c->srcCharacterId;
    w->sceneId = c->srcSceneId;
    w->personaId = c->srcPersonaId;
    w->zCharacterPicture = c->zCharacterPicture;
    w->zSceneName = c->zSceneName;
    w->zScenePicture = c->zScenePicture;
    if( p->eFormat==IMP_CHATVAULT && c->eKind==CV_CONV_THREAD ){
      w->bPinned = c->bPinned;
      w->bArchived = c->bArchived;
      w->pTags = f->apTags[i] = tagset_of(c->zTags, &rc);
    }
  }
  return rc;
}

/* Wait for f's write (when it runs), record its results, free it. Returns the first error
** of the write or of recording. A zeroed f is ok. */
static cv_rc write_end(struct cv_importer *p, struct inflight *f){
  int i, n;
  cv_rc rc = CV_OK;
  if( f->bThread ){
    pthread_join(f->th, NULL);
    f->bThread = 0;
  }
  rc = f->rc;
  for(i=0; rc==CV_OK && i<f->n; i++){
    struct cv_import_conv *w = &f->aW[i];
    const char *zSrc = f->a[i].c.zSourceId;
    switch( w->eResult ){
      case CV_IMPORT_ADDED:
        p->res.nImported++;
        rc = add_item(p, zSrc, w->eKind, w->id, w->zChatIdOut);
        break;
      case CV_IMPORT_EXISTED:
        p->res.nSkipped++;
        rc = add_item(p, zSrc, w->eKind, w->id, w->zChatIdOut);
        break;
      default:
        p->res.nSkipped++;
        rc = add_error(p, zSrc, "older than the newest chats the history limit keeps: not kept");
        break;
    }
  }
  if( f->apTags ) for(i=0; i<f->n; i++) free(f->apTags[i]);
  free(f->apTags);
  free(f->aW);
  n = f->n;
  memset(f, 0, sizeof *f);
  if( rc==CV_OK && p->xProgress && n>0 ) p->xProgress(p->pCtx, p->nFed, &p->res);
  return rc;
}

/* Write a[0..n) now, in this thread (the chats of a chatvault export, at its end). */
static cv_rc write_convs(struct cv_importer *p, struct pending *a, int n){
  struct inflight f;
  cv_rc rc = write_begin(p, &f, a, n);
  if( rc==CV_OK && n>0 ) f.rc = store_import_convs(p->pS, p->userId, f.aW, n);
  else f.rc = rc;
  return write_end(p, &f);
}

/* Free the conversations of a spent batch array a[0..n). */
static void pending_clear(struct pending *a, int n){
  int i;
  for(i=0; i<n; i++) imp_conv_clear(&a[i].c);
}

/* Hand the batch to a writer thread (after the previous batch's write has ended and its
** results are recorded) and start a new, empty batch. bWait: also wait for this one. */
static cv_rc flush(struct cv_importer *p, int bWait){
  struct pending *aNext;
  cv_rc rc = write_end(p, &p->fly);
  pending_clear(p->aSpare, p->nSpare);
  p->nSpare = 0;
  if( rc ) return rc;
  if( p->nPend>0 ){
    rc = write_begin(p, &p->fly, p->aPend, p->nPend);
    if( rc ) return rc;
    p->fly.bThread = pthread_create(&p->fly.th, NULL, write_thread, &p->fly)==0;
    if( !p->fly.bThread ) p->fly.rc = store_import_convs(p->pS, p->userId, p->fly.aW, p->fly.n);
    /* the batch in flight keeps its array; the spare one becomes the new batch */
    aNext = p->aSpare;
    p->aSpare = p->aPend;
    p->nSpare = p->nPend;
    p->aPend = aNext;
    p->nPend = 0;
    p->nPendBytes = 0;
  }
  if( bWait ){
    rc = write_end(p, &p->fly);
    pending_clear(p->aSpare, p->nSpare);
    p->nSpare = 0;
  }
  return rc;
}

/* Fill in what a conversation needs before it is written: its key, and a chat's times. */
static cv_rc prepare(struct cv_importer *p, struct pending *q){
  struct imp_conv *c = &q->c;
  const char *zFmt = imp_format_name(p->eFormat);
  if( c->eKind==CV_CONV_THREAD ){
    if( p->eFormat==IMP_CHATVAULT && c->pClientId && cJSON_IsNumber(c->pClientId) ){
      snprintf(q->zKey, sizeof q->zKey, "%.0f", c->pClientId->valuedouble);
    }else if( p->eFormat==IMP_CHATVAULT && c->pClientId && cJSON_IsString(c->pClientId)
              && c->pClientId->valuestring[0] ){
      snprintf(q->zKey, sizeof q->zKey, "%s", c->pClientId->valuestring);
    }else{
      snprintf(q->zKey, sizeof q->zKey, "%s:%s", zFmt, c->zSourceId);
    }
  }else{
    importer_chat_id(p->userId, zFmt, c->zSourceId, q->zKey);
    if( !c->zCreatedAt || !c->zUpdatedAt ){
      char zNow[CV_TS_LEN+1];
      const char *zHave = c->zUpdatedAt ? c->zUpdatedAt : c->zCreatedAt;
      util_iso_format(util_now_ms(), zNow);
      if( !zHave ) zHave = zNow;
      if( !c->zCreatedAt && !(c->zCreatedAt = strdup(zHave)) ) return CV_NOMEM;
      if( !c->zUpdatedAt && !(c->zUpdatedAt = strdup(zHave)) ) return CV_NOMEM;
    }
  }
  return CV_OK;
}

/* A conversation was read: report what it skipped, then queue it (chatvault chats wait for
** the end of the file). Takes c (cleared on return). */
static cv_rc take(struct cv_importer *p, struct imp_conv *c){
  struct pending *q;
  int i, bLate;
  cv_rc rc = CV_OK;
  for(i=0; rc==CV_OK && i<c->nSkip; i++){
    rc = add_error(p, c->zSourceId, i<IMP_SKIP_KEEP ? c->aSkip[i].zDetail : "part skipped");
  }
  if( rc ){ imp_conv_clear(c); return rc; }
  bLate = p->eFormat==IMP_CHATVAULT && c->eKind==CV_CONV_CHAT;
  if( bLate ){
    if( p->nLate==p->nLateAlloc ){
      int nNew = p->nLateAlloc ? p->nLateAlloc*2 : 32;
      struct pending *aNew = realloc(p->aLate, sizeof *aNew * (size_t)nNew);
      if( !aNew ){ imp_conv_clear(c); return CV_NOMEM; }
      p->aLate = aNew;
      p->nLateAlloc = nNew;
    }
    q = &p->aLate[p->nLate++];
  }else{
    q = &p->aPend[p->nPend++];
  }
  q->c = *c;
  memset(c, 0, sizeof *c);
  rc = prepare(p, q);
  if( rc ) return rc;
  if( bLate ) return CV_OK;
  p->nPendBytes += (size_t)q->c.nBytes;
  if( p->nPend>=BATCH_CONVS || p->nPendBytes>=BATCH_BYTES ) return flush(p, 0);
  return CV_OK;
}

/* ---- reading values ----------------------------------------------------------------- */

/* One conversation object pConv (the nth value): detect its format if not known, read it,
** queue it; a conversation that cannot be read is skipped with an error. */
static cv_rc conversation(struct cv_importer *p, const cJSON *pConv){
  struct imp_conv c;
  char zWhy[IMP_DETAIL_MAX];
  enum imp_format e = p->eFormat;
  cv_rc rc;
  memset(&c, 0, sizeof c);
  zWhy[0] = 0;
  if( e==IMP_UNKNOWN ){
    e = imp_detect(pConv);
    if( e==IMP_UNKNOWN || e==IMP_CHATVAULT ){
      /* chatvault is only told by its header */
      return skip_conv(p, NULL, "not a conversation of a known format");
    }
    p->eFormat = e;
    p->res.zFormat = imp_format_name(e);
  }
  rc = imp_read(e, pConv, &c, zWhy, sizeof zWhy);
  if( rc==CV_NOMEM ) return rc;
  if( rc ){
    const cJSON *pId = NULL;
    imp_conv_clear(&c);
    /* name it by its id when it has a plain one */
    if( cJSON_IsObject(pConv) ){
      static const char *const azId[] = { "conversation_id", "id", "uuid", "conversationId",
                                          "chat_id", NULL };
      int i;
      for(i=0; azId[i] && !pId; i++){
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(pConv, azId[i]);
        if( cJSON_IsString(x) && x->valuestring[0] && strlen(x->valuestring)<200 ) pId = x;
      }
    }
    return skip_conv(p, pId ? pId->valuestring : NULL, zWhy);
  }
  return take(p, &c);
}

/* Parse the value z[0..n) as JSON; NULL (and an error recorded) when it is not. */
static cJSON *parse_value(struct cv_importer *p, const char *z, size_t n, cv_rc *pRc){
  cJSON *pRoot = cJSON_ParseWithLength(z, n);
  *pRc = pRoot ? CV_OK : skip_conv(p, NULL, "not valid JSON (or nested too deeply)");
  return pRoot;
}

/* A chatvault persona or character item: kept until the end of the file. */
static cv_rc person(struct cv_importer *p, int bCharacter, const char *z, size_t n){
  struct cv_import_person w;
  struct cv_verr e;
  const char *zAt = NULL;
  cJSON *pRoot;
  int64_t srcId = 0, ms;
  int ok;
  char zSrc[32];
  cv_rc rc;
  if( !(pRoot = parse_value(p, z, n, &rc)) ) return rc;
  /* the fields as POST /api/characters and /api/personas validate them (validate.c) */
  memset(&w, 0, sizeof w);
  w.bCharacter = bCharacter;
  verr_init(&e);
  ok = cJSON_IsObject(pRoot)
    && val_int(&e, pRoot, "item", "id", 1, INT64_MAX/2, 1, &srcId)==1
    && val_string(&e, pRoot, "item", "name", 1, CV_NAME_MAX_CHARS, 1, &w.zName)==1
    && val_string(&e, pRoot, "item", "description", 0, CV_DESCRIPTION_MAX_CHARS, 0,
                  &w.zDescription)>=0
    && (!bCharacter
        || (val_string(&e, pRoot, "item", "picture", 0, CV_PICTURE_MAX_CHARS, 0, &w.zPicture)>=0
            && val_string(&e, pRoot, "item", "greeting", 0, CV_GREETING_MAX_CHARS, 0,
                          &w.zGreeting)>=0))
    && val_string(&e, pRoot, "item", "created_at", 0, CV_TS_LEN, 0, &zAt)>=0;
  verr_free(&e);
  if( !ok ){
    cJSON_Delete(pRoot);
    ordinal(zSrc, sizeof zSrc, p->nSeen);
    return add_error(p, zSrc, bCharacter
                     ? "character skipped: its id, name, description, picture or greeting is"
                       " not what POST /api/characters accepts"
                     : "persona skipped: its id, name or description is not what"
                       " POST /api/personas accepts");
  }
  w.zCreatedAt = zAt && strlen(zAt)==CV_TS_LEN && util_iso_parse(zAt, &ms)==CV_OK ? zAt : NULL;
  if( p->nPerson==p->nPersonAlloc ){
    int nNew = p->nPersonAlloc ? p->nPersonAlloc*2 : 16;
    struct cv_import_person *a1 = realloc(p->aPerson, sizeof *a1 * (size_t)nNew);
    cJSON **a2 = NULL;
    struct person_map *a3 = NULL;
    if( a1 ){ p->aPerson = a1; a2 = realloc(p->apPersonJson, sizeof *a2 * (size_t)nNew); }
    if( a2 ){ p->apPersonJson = a2; a3 = realloc(p->aMap, sizeof *a3 * (size_t)nNew); }
    if( !a3 ){ cJSON_Delete(pRoot); return CV_NOMEM; }
    p->aMap = a3;
    p->nPersonAlloc = nNew;
  }
  p->aPerson[p->nPerson] = w;
  p->apPersonJson[p->nPerson] = pRoot;     /* owns the strings w points into */
  p->aMap[p->nPerson].bCharacter = bCharacter;
  p->aMap[p->nPerson].srcId = srcId;
  p->aMap[p->nPerson].id = 0;
  p->nPerson++;
  return CV_OK;
}

/* The id here of the exporting database's persona or character srcId (0: none). */
static int64_t remap(const struct cv_importer *p, int bCharacter, int64_t srcId){
  int i;
  if( srcId==0 ) return 0;
  for(i=0; i<p->nPerson; i++){
    if( p->aMap[i].bCharacter==bCharacter && p->aMap[i].srcId==srcId ) return p->aMap[i].id;
  }
  return 0;
}

/* Append a top-level member "key":value to the kept object (bounded by nMaxConv). */
static cv_rc keep_member(struct cv_importer *p, const char *zKey, const char *z, size_t n){
  cv_rc rc = buf_append(&p->members, p->members.n ? "," : "{", 1);
  if( rc==CV_OK ) rc = buf_append(&p->members, "\"", 1);
  if( rc==CV_OK ) rc = buf_append(&p->members, zKey, strlen(zKey));
  if( rc==CV_OK ) rc = buf_append(&p->members, "\":", 2);
  if( rc==CV_OK ) rc = buf_append(&p->members, z, n);
  return rc;
}

/* The "format" and "version" members of a chatvault export. */
static cv_rc header_member(struct cv_importer *p, const char *zKey, const char *z, size_t n){
  if( strcmp(zKey, "format")==0 && n==11 && memcmp(z, "\"chatvault\"", 11)==0 ){
    if( p->bNamed && p->eFormat!=IMP_CHATVAULT ){
      snprintf(p->zErr, sizeof p->zErr, "the file is a chatvault export, not %s",
               imp_format_name(p->eFormat));
      return CV_INVALID;
    }
    p->bChatvault = 1;
    p->eFormat = IMP_CHATVAULT;
    p->res.zFormat = imp_format_name(IMP_CHATVAULT);
  }else if( p->bChatvault && strcmp(zKey, "version")==0 && !(n==1 && z[0]=='1') ){
    snprintf(p->zErr, sizeof p->zErr,
             "this chatvault export is of version %.20s; this release reads version 1", z);
    return CV_INVALID;
  }
  return CV_OK;
}

static cv_rc on_value(void *pCtx, enum jsplit_event e, enum jsplit_event eOf, const char *zKey,
                      const char *z, size_t n){
  struct cv_importer *p = pCtx;
  cJSON *pRoot;
  cv_rc rc;
  if( e==JSPLIT_TOOBIG ){
    char zWhy[160];
    if( eOf==JSPLIT_MEMBER || eOf==JSPLIT_VALUE ){
      snprintf(p->zErr, sizeof p->zErr, "a value of %zu bytes is over the limit of %zu bytes"
               " for one conversation", n, p->nMaxConv);
      return CV_INVALID;
    }
    p->nSeen++;
    snprintf(zWhy, sizeof zWhy, "%zu bytes, over the limit of %zu bytes for one conversation",
             n, p->nMaxConv);
    return skip_conv(p, NULL, zWhy);
  }
  if( e==JSPLIT_MEMBER ){
    if( p->bItems && !p->bChatvault ) return CV_OK;      /* e.g. chatbot-ui's "folders" */
    rc = header_member(p, zKey, z, n);
    if( rc || p->bChatvault ) return rc;
    if( p->members.n + n + strlen(zKey) + 8 > p->nMaxConv ){
      snprintf(p->zErr, sizeof p->zErr, "the top-level object is over the limit of %zu bytes"
               " for one conversation", p->nMaxConv);
      return CV_INVALID;
    }
    return keep_member(p, zKey, z, n);
  }
  if( e==JSPLIT_VALUE ){
    /* JSON Lines: a SillyTavern chat (its header was the first line) */
    if( p->bItems || p->bChatvault ){
      snprintf(p->zErr, sizeof p->zErr, "unexpected data after the end of the document");
      return CV_INVALID;
    }
    if( p->bNamed && p->eFormat!=IMP_SILLYTAVERN ){
      snprintf(p->zErr, sizeof p->zErr, "the file is JSON Lines, not %s",
               imp_format_name(p->eFormat));
      return CV_INVALID;
    }
    p->bLines = 1;
    p->eFormat = IMP_SILLYTAVERN;
    p->res.zFormat = imp_format_name(IMP_SILLYTAVERN);
    if( p->nLineBytes + n > p->nMaxConv ){
      snprintf(p->zErr, sizeof p->zErr, "the chat is over the limit of %zu bytes", p->nMaxConv);
      return CV_INVALID;
    }
    pRoot = cJSON_ParseWithLength(z, n);
    if( !pRoot ){
      snprintf(p->zErr, sizeof p->zErr, "line %d of the chat is not valid JSON", p->nLine + 2);
      return CV_INVALID;
    }
    if( p->nLine==p->nLineAlloc ){
      int nNew = p->nLineAlloc ? p->nLineAlloc*2 : 64;
      cJSON **aNew = realloc(p->aLine, sizeof *aNew * (size_t)nNew);
      if( !aNew ){ cJSON_Delete(pRoot); return CV_NOMEM; }
      p->aLine = aNew;
      p->nLineAlloc = nNew;
    }
    p->aLine[p->nLine++] = pRoot;
    p->nLineBytes += n;
    return CV_OK;
  }
  /* JSPLIT_ITEM */
  assert( e==JSPLIT_ITEM );
  p->bItems = 1;
  if( p->bChatvault ){
    if( zKey && strcmp(zKey, "personas")==0 ) return person(p, 0, z, n);
    if( zKey && strcmp(zKey, "characters")==0 ) return person(p, 1, z, n);
    if( !zKey || (strcmp(zKey, "threads")!=0 && strcmp(zKey, "chats")!=0) ) return CV_OK;
    p->nSeen++;
    if( !(pRoot = parse_value(p, z, n, &rc)) ) return rc;
    rc = conversation(p, pRoot);               /* eFormat is IMP_CHATVAULT: no detection */
    cJSON_Delete(pRoot);
    return rc;
  }
  if( zKey && strcmp(zKey, "history")!=0 ) return CV_OK;  /* another app's other lists */
  if( zKey && p->eFormat==IMP_UNKNOWN ){
    p->eFormat = IMP_CHATBOTUI;
    p->res.zFormat = imp_format_name(IMP_CHATBOTUI);
  }
  p->nSeen++;
  if( !(pRoot = parse_value(p, z, n, &rc)) ) return rc;
  rc = conversation(p, pRoot);
  cJSON_Delete(pRoot);
  return rc;
}

/* ---- the interface ------------------------------------------------------------------ */

cv_rc importer_new(struct cv_store *pS, int64_t userId, enum imp_format eFormat, size_t nMaxConv,
                   cv_import_progress_fn xProgress, void *pCtx, struct cv_importer **ppOut){
  struct cv_importer *p = calloc(1, sizeof *p);
  *ppOut = NULL;
  if( !p ) return CV_NOMEM;
  p->pS = pS;
  p->userId = userId;
  p->eFormat = eFormat;
  p->bNamed = eFormat!=IMP_UNKNOWN;
  p->nMaxConv = nMaxConv;
  p->xProgress = xProgress;
  p->pCtx = pCtx;
  p->res.zFormat = imp_format_name(eFormat);
  buf_init(&p->members, nMaxConv + 64);
  p->aPend = calloc(BATCH_CONVS, sizeof *p->aPend);
  p->aSpare = calloc(BATCH_CONVS, sizeof *p->aSpare);
  p->pSplit = jsplit_new(nMaxConv, azSplitKeys, on_value, p);
  if( !p->aPend || !p->aSpare || !p->pSplit ){ importer_free(p); return CV_NOMEM; }
  if( eFormat==IMP_CHATVAULT ) p->bChatvault = 0;   /* still told by its header */
  *ppOut = p;
  return CV_OK;
}

/* The file cannot be read on (CV_INVALID): the whole conversations read before that point
** are written all the same (a truncated upload keeps what arrived; sending the file again
** completes it). Returns CV_INVALID, or the error of that write. */
static cv_rc keep_what_was_read(struct cv_importer *p){
  cv_rc rc = flush(p, 1);
  return rc ? rc : CV_INVALID;
}

cv_rc importer_feed(struct cv_importer *p, const char *a, size_t n){
  cv_rc rc;
  if( p->rc ) return p->rc;
  rc = jsplit_feed(p->pSplit, a, n);
  p->nFed += (int64_t)n;
  if( rc==CV_INVALID && !p->zErr[0] ){
    snprintf(p->zErr, sizeof p->zErr, "the file is not JSON: %s", jsplit_error(p->pSplit));
  }
  if( rc==CV_INVALID ) rc = keep_what_was_read(p);
  p->rc = rc;
  return rc;
}

/* The end of a lone top-level object: one conversation (or a SillyTavern chat). */
static cv_rc finish_object(struct cv_importer *p){
  cJSON *pRoot;
  cv_rc rc;
  if( p->members.n==0 ) return CV_OK;
  rc = buf_append(&p->members, "}", 1);
  if( rc ) return rc;
  pRoot = cJSON_ParseWithLength(p->members.a, p->members.n);
  if( !pRoot ){
    snprintf(p->zErr, sizeof p->zErr, "the file is not valid JSON (or nested too deeply)");
    return CV_INVALID;
  }
  p->nSeen++;
  if( p->bLines || (p->bNamed && p->eFormat==IMP_SILLYTAVERN) ){
    struct imp_conv c;
    char zWhy[IMP_DETAIL_MAX];
    memset(&c, 0, sizeof c);
    zWhy[0] = 0;
    p->eFormat = IMP_SILLYTAVERN;
    p->res.zFormat = imp_format_name(IMP_SILLYTAVERN);
    rc = imp_read_sillytavern(pRoot, (const cJSON *const *)p->aLine, p->nLine, &c, zWhy,
                              sizeof zWhy);
    if( rc==CV_OK ) rc = take(p, &c);
    else if( rc==CV_INVALID ) rc = skip_conv(p, NULL, zWhy);
  }else{
    rc = conversation(p, pRoot);
  }
  cJSON_Delete(pRoot);
  return rc;
}

/* The end of a chatvault export: personas and characters, then the chats kept for the end. */
static cv_rc finish_chatvault(struct cv_importer *p){
  int i;
  cv_rc rc = store_import_people(p->pS, p->userId, p->aPerson, p->nPerson);
  for(i=0; rc==CV_OK && i<p->nPerson; i++){
    p->aMap[i].id = p->aPerson[i].id;
    if( p->aPerson[i].bCreated ) p->res.nPeople++;
  }
  for(i=0; rc==CV_OK && i<p->nLate; i++){
    struct imp_conv *c = &p->aLate[i].c;
    c->srcCharacterId = remap(p, 1, c->srcCharacterId);
    c->srcPersonaId = remap(p, 0, c->srcPersonaId);
  }
  if( rc==CV_OK ) rc = write_convs(p, p->aLate, p->nLate);
  return rc;
}

cv_rc importer_finish(struct cv_importer *p){
  cv_rc rc;
  if( p->rc ) return p->rc;
  rc = jsplit_finish(p->pSplit);
  if( rc==CV_INVALID && !p->zErr[0] ){
    snprintf(p->zErr, sizeof p->zErr, "the file is not JSON: %s", jsplit_error(p->pSplit));
  }
  if( rc==CV_OK && !p->bItems && !p->bChatvault ) rc = finish_object(p);
  if( rc==CV_OK ) rc = flush(p, 1);
  if( rc==CV_OK && p->bChatvault ) rc = finish_chatvault(p);
  if( rc==CV_OK && p->eFormat==IMP_UNKNOWN && p->res.nImported==0 && p->res.nItem==0 ){
    snprintf(p->zErr, sizeof p->zErr, "the file's format was not recognized (chatvault, ChatGPT,"
             " Claude, Open WebUI, LibreChat, chatbot-ui or SillyTavern)");
    rc = CV_INVALID;
  }
  if( rc==CV_INVALID ) rc = keep_what_was_read(p);
  if( rc==CV_OK && p->xProgress ) p->xProgress(p->pCtx, p->nFed, &p->res);
  p->rc = rc;
  return rc;
}

const char *importer_error(const struct cv_importer *p){ return p->zErr; }

const struct cv_import_report *importer_result(const struct cv_importer *p){ return &p->res; }

void importer_free(struct cv_importer *p){
  int i;
  if( !p ) return;
  jsplit_free(p->pSplit);
  buf_free(&p->members);
  for(i=0; i<p->nLine; i++) cJSON_Delete(p->aLine[i]);
  free(p->aLine);
  p->xProgress = NULL;
  (void)write_end(p, &p->fly);        /* a write in flight ends before its data goes */
  if( p->aPend ) pending_clear(p->aPend, p->nPend);
  free(p->aPend);
  if( p->aSpare ) pending_clear(p->aSpare, p->nSpare);
  free(p->aSpare);
  for(i=0; i<p->nLate; i++) imp_conv_clear(&p->aLate[i].c);
  free(p->aLate);
  for(i=0; i<p->nPerson; i++) cJSON_Delete(p->apPersonJson[i]);
  free(p->apPersonJson);
  free(p->aPerson);
  free(p->aMap);
  for(i=0; i<p->res.nItem; i++) free(p->res.aItem[i].zSourceId);
  free(p->res.aItem);
  for(i=0; i<p->res.nErr; i++) free(p->res.aErr[i].zSourceId);
  free(p->res.aErr);
  free(p);
}
