/*
** import.c — the legacy JSON Lines import (see import.h).
**
** Each line is parsed and validated completely before anything of it is written, so a row
** is imported whole or reported and skipped whole ("line N: reason"). Valid rows are
** gathered into a batch and written by store_chats_import_legacy in one write transaction
** with cached prepared statements: ~4000 chats per fsync (bench: 1,000 per batch took 2.77 s
** for 100,000 chats, 4,000 2.26 s, 8,000 2.29 s with 90 MB resident), while the next batch is
** read and validated (struct inflight), so 100,000 chats take about two seconds.
** Re-running is harmless: users are matched by email and chats inserted with
** ON CONFLICT(chat_id) DO NOTHING; the retention trigger applies as for any writer.
**
** What a legacy row may hold (PostgreSQL's row_to_json of the old users table):
**   email (required), display_name | username | name (optional, used when a string of
**   1..100 characters), created_at (optional), chat_history: an array of entries, or null,
**   or that array as a JSON string (a text column). Other keys (id, hashed_password, ...)
**   are ignored: the old password hashes are not Argon2id, so imported users get no
**   password and set one with `chatvault user passwd`.
** An entry: chat_id (a UUID, required), character_id / scene_id / persona_id (integers or
**   null), character_name, character_picture, scene_name, scene_picture, title (strings or
**   null), messages (an array of {role: user|assistant, content}, other keys dropped; or
**   that array as a JSON string), last_updated and created_at (ISO 8601 with or without a
**   zone, or unix seconds/milliseconds; either one stands for a missing other; both
**   missing: the time of the import).
** May call store_chats, validate, util and cJSON.
*/
#include "import.h"
#include "store_chats.h"
#include "util.h"
#include "validate.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define IMPORT_BATCH_CHATS 4000
#define IMPORT_BATCH_ROWS  1000
#define IMPORT_LINE_MAX    ((size_t)64 << 20)   /* a longer line is a bad row */

/* One validated row, ready to write; everything it points to is owned here. */
struct row {
  long long iLine;                     /* 1-based line number */
  cJSON *pRoot;                        /* the parsed line (strings are borrowed from it) */
  cJSON *pHistory;                     /* chat_history parsed from a string, or NULL */
  struct cv_legacy_user u;             /* u.aChat points at aChat */
  struct cv_legacy_chat *aChat;        /* nChat entries */
  char **azMessages;                   /* normalized messages per chat (free()) */
  char (*aChatId)[CV_UUID_LEN+1];      /* lower-cased chat ids */
  char (*aTs)[2][CV_TS_LEN+1];         /* last_updated, created_at per chat */
  char zCreatedAt[CV_TS_LEN+1];        /* the user's created_at */
};

static void row_free(struct row *p){
  int i;
  if( !p ) return;
  if( p->azMessages ){
    for(i=0; i<p->u.nChat; i++) free(p->azMessages[i]);
  }
  free(p->azMessages);
  free(p->aChat);
  free(p->aChatId);
  free(p->aTs);
  cJSON_Delete(p->pHistory);
  cJSON_Delete(p->pRoot);
  free(p);
}

/* The first message of a 422 list as "loc: msg" into zOut. */
static void verr_text(const struct cv_verr *e, char *zOut, size_t nOut){
  const cJSON *pE = e->pList ? cJSON_GetArrayItem(e->pList, 0) : NULL;
  const cJSON *pLoc = cJSON_GetObjectItemCaseSensitive(pE, "loc");
  const cJSON *pMsg = cJSON_GetObjectItemCaseSensitive(pE, "msg");
  const cJSON *pPart;
  size_t n = 0;
  zOut[0] = 0;
  if( !pE ){ snprintf(zOut, nOut, "invalid"); return; }
  cJSON_ArrayForEach(pPart, pLoc){
    int k;
    if( cJSON_IsString(pPart) && strcmp(pPart->valuestring, "body")==0 && n==0 ) continue;
    if( cJSON_IsString(pPart) ) k = snprintf(zOut+n, nOut-n, "%s%s", n ? "." : "", pPart->valuestring);
    else k = snprintf(zOut+n, nOut-n, "%s%d", n ? "." : "", pPart->valueint);
    if( k<0 || (size_t)k>=nOut-n ) return;
    n += (size_t)k;
  }
  snprintf(zOut+n, nOut-n, "%s%s", n ? ": " : "",
           cJSON_IsString(pMsg) ? pMsg->valuestring : "invalid");
}

/* A time field: ISO 8601 text or unix seconds/milliseconds. 1 present (zOut written in the
** contract's format), 0 absent or null, -1 invalid (entry added). */
static int time_field(struct cv_verr *e, const cJSON *pObj, const char *zLoc, const char *zKey,
                      char *zOut){
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(pObj, zKey);
  char zFull[160];
  int64_t ms;
  if( !p || cJSON_IsNull(p) ) return 0;
  snprintf(zFull, sizeof zFull, "%s.%s", zLoc, zKey);
  if( cJSON_IsNumber(p) && isfinite(p->valuedouble) && p->valuedouble>=0
   && p->valuedouble<1e15 ){
    double d = p->valuedouble;
    ms = (int64_t)(d>1e11 ? d : d*1000.0);    /* milliseconds when it is that large */
    if( ms>UTIL_ISO_MAX_MS ){                  /* past year 9999: not writable as ISO */
      verr_add(e, zFull, "datetime_parsing", "Input should be a valid ISO 8601 datetime");
      return -1;
    }
  }else if( !cJSON_IsString(p) || util_iso_parse(p->valuestring, &ms)!=CV_OK ){
    verr_add(e, zFull, "datetime_parsing", "Input should be a valid ISO 8601 datetime");
    return -1;
  }
  if( ms > util_now_ms() + UTIL_FUTURE_SKEW_MS ){
    verr_add(e, zFull, "datetime_future", "Input should not be in the future");
    return -1;
  }
  util_iso_format(ms, zOut);
  return 1;
}

/* An optional string field: 1 present (*pz borrowed), 0 absent/null, -1 not a string. */
static int opt_string(struct cv_verr *e, const cJSON *pObj, const char *zLoc, const char *zKey,
                      size_t maxChars, const char **pz){
  return val_string(e, pObj, zLoc, zKey, 0, maxChars, 0, pz);
}

/* If pObj's zKey is a string holding JSON, parse it: *ppOwned gets the new tree (caller
** frees) and the result is returned; otherwise the item itself. NULL when absent. */
static const cJSON *maybe_json_text(const cJSON *pObj, const char *zKey, cJSON **ppOwned,
                                    struct cv_verr *e, const char *zLoc){
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(pObj, zKey);
  *ppOwned = NULL;
  if( cJSON_IsString(p) ){
    size_t n = strlen(p->valuestring);
    struct cv_verr e2;
    verr_init(&e2);
    if( val_parse_json(p->valuestring, n, &e2, ppOwned)!=CV_OK ){
      char zFull[160];
      snprintf(zFull, sizeof zFull, "%s.%s", zLoc, zKey);
      verr_add(e, zFull, "json_invalid", "a string that is not valid JSON");
      verr_free(&e2);
      *ppOwned = NULL;
      return NULL;
    }
    verr_free(&e2);
    return *ppOwned;
  }
  return p;
}

/* Validate one entry i of a row into p->aChat[i]. 1 ok, 0 invalid (entry added). */
static int read_entry(struct cv_verr *e, struct row *p, int i, const cJSON *pEntry){
  struct cv_legacy_chat *c = &p->aChat[i];
  char zLoc[64];
  const char *zId = NULL;
  cJSON *pMsgs = NULL;
  const cJSON *pM;
  int ok = 1, k, hasLu, hasCa;
  snprintf(zLoc, sizeof zLoc, "chat_history.%d", i);
  if( !cJSON_IsObject(pEntry) ){
    verr_add(e, zLoc, "model_attributes_type", "Input should be a valid dictionary or object");
    return 0;
  }
  if( val_string(e, pEntry, zLoc, "chat_id", 1, 64, 1, &zId)!=1 ) return 0;
  if( !util_uuid_valid(zId) ){
    char zFull[96];
    snprintf(zFull, sizeof zFull, "%s.chat_id", zLoc);
    verr_add(e, zFull, "uuid_parsing", "Input should be a valid UUID");
    return 0;
  }
  for(k=0; k<CV_UUID_LEN; k++) p->aChatId[i][k] = (char)tolower((unsigned char)zId[k]);
  p->aChatId[i][CV_UUID_LEN] = 0;
  c->zChatId = p->aChatId[i];
  ok &= val_int(e, pEntry, zLoc, "character_id", 1, INT64_MAX/2, 0, &c->characterId)>=0;
  ok &= val_int(e, pEntry, zLoc, "scene_id", 1, INT64_MAX/2, 0, &c->sceneId)>=0;
  ok &= val_int(e, pEntry, zLoc, "persona_id", 1, INT64_MAX/2, 0, &c->personaId)>=0;
  ok &= opt_string(e, pEntry, zLoc, "character_name", CV_NAME_MAX_CHARS*4, &c->zCharacterName)>=0;
  ok &= opt_string(e, pEntry, zLoc, "character_picture", CV_PICTURE_MAX_CHARS, &c->zCharacterPicture)>=0;
  ok &= opt_string(e, pEntry, zLoc, "scene_name", CV_NAME_MAX_CHARS*4, &c->zSceneName)>=0;
  ok &= opt_string(e, pEntry, zLoc, "scene_picture", CV_PICTURE_MAX_CHARS, &c->zScenePicture)>=0;
  ok &= opt_string(e, pEntry, zLoc, "title", CV_TITLE_MAX_CHARS, &c->zTitle)>=0;
  if( !ok ) return 0;
  pM = maybe_json_text(pEntry, "messages", &pMsgs, e, zLoc);
  if( e->n ) return 0;
  if( pM && !cJSON_IsNull(pM) ){
    /* val_messages reads a field of an object: hand it a one-field wrapper */
    cJSON *pWrap = cJSON_CreateObject();
    cJSON *pRef = pWrap ? cJSON_CreateArrayReference(pM->child) : NULL;
    if( !cJSON_IsArray(pM) ){
      char zFull[96];
      snprintf(zFull, sizeof zFull, "%s.messages", zLoc);
      verr_add(e, zFull, "list_type", "Input should be a valid list");
      cJSON_Delete(pRef);    /* not yet in pWrap: was leaked on every such row */
      ok = 0;
    }else if( !pRef || !cJSON_AddItemToObject(pWrap, "messages", pRef) ){
      cJSON_Delete(pRef);
      e->bNoMem = 1;
      ok = 0;
    }else{
      ok = val_messages(e, pWrap, zLoc, "messages", 0, &p->azMessages[i], &c->nMessages)>=0;
    }
    cJSON_Delete(pWrap);     /* a reference: the items stay with pM */
  }
  cJSON_Delete(pMsgs);
  if( !ok ) return 0;
  if( !p->azMessages[i] ) c->nMessages = 0;     /* no messages: an empty chat */
  c->zMessages = p->azMessages[i] ? p->azMessages[i] : "[]";
  hasLu = time_field(e, pEntry, zLoc, "last_updated", p->aTs[i][0]);
  hasCa = time_field(e, pEntry, zLoc, "created_at", p->aTs[i][1]);
  if( hasLu<0 || hasCa<0 ) return 0;
  if( !hasLu && !hasCa ){
    util_iso_format(util_now_ms(), p->aTs[i][0]);
    memcpy(p->aTs[i][1], p->aTs[i][0], sizeof p->aTs[i][1]);
  }else if( !hasLu ){
    memcpy(p->aTs[i][0], p->aTs[i][1], sizeof p->aTs[i][0]);
  }else if( !hasCa ){
    memcpy(p->aTs[i][1], p->aTs[i][0], sizeof p->aTs[i][1]);
  }
  c->zLastUpdated = p->aTs[i][0];
  c->zCreatedAt = p->aTs[i][1];
  return 1;
}

/* Parse and validate one line. On CV_OK *ppRow is the row (row_free). CV_INVALID: zWhy
** says why. CV_NOMEM possible. */
static cv_rc read_row(const char *zLine, size_t nLine, long long iLine, struct row **ppRow,
                      char *zWhy, size_t nWhy){
  struct cv_verr e;
  struct row *p = calloc(1, sizeof *p);
  const cJSON *pHist, *pEntry;
  const char *zName = NULL;
  int n = 0, i;
  cv_rc rc;
  *ppRow = NULL;
  if( !p ) return CV_NOMEM;
  p->iLine = iLine;
  verr_init(&e);
  rc = val_parse_json(zLine, nLine, &e, &p->pRoot);
  if( rc ) goto fail;
  rc = CV_INVALID;
  if( !cJSON_IsObject(p->pRoot) ){
    verr_add(&e, "body", "model_attributes_type", "a row must be a JSON object");
    goto fail;
  }
  if( val_email(&e, p->pRoot, "body", "email", &p->u.zEmail)!=1 ) goto fail;
  if( val_string(&e, p->pRoot, "body", "display_name", 1, CV_DISPLAY_NAME_MAX_CHARS, 0, &zName)!=1
   && val_string(&e, p->pRoot, "body", "username", 1, CV_DISPLAY_NAME_MAX_CHARS, 0, &zName)!=1
   && val_string(&e, p->pRoot, "body", "name", 1, CV_DISPLAY_NAME_MAX_CHARS, 0, &zName)!=1 ){
    zName = NULL;
  }
  verr_free(&e);                   /* a display name that does not fit is only dropped */
  p->u.zDisplayName = zName;
  if( time_field(&e, p->pRoot, "body", "created_at", p->zCreatedAt)==1 ){
    p->u.zCreatedAt = p->zCreatedAt;
  }
  verr_free(&e);                   /* likewise the user's own created_at */
  pHist = maybe_json_text(p->pRoot, "chat_history", &p->pHistory, &e, "body");
  if( e.n ) goto fail;
  if( pHist && !cJSON_IsNull(pHist) ){
    if( !cJSON_IsArray(pHist) ){
      verr_add(&e, "chat_history", "list_type", "Input should be a valid list");
      goto fail;
    }
    n = cJSON_GetArraySize(pHist);
  }
  p->aChat = calloc((size_t)n + 1, sizeof *p->aChat);
  p->azMessages = calloc((size_t)n + 1, sizeof *p->azMessages);
  p->aChatId = calloc((size_t)n + 1, sizeof *p->aChatId);
  p->aTs = calloc((size_t)n + 1, sizeof *p->aTs);
  if( !p->aChat || !p->azMessages || !p->aChatId || !p->aTs ){ rc = CV_NOMEM; goto fail; }
  p->u.aChat = p->aChat;
  p->u.nChat = n;
  i = 0;
  if( n ){
    cJSON_ArrayForEach(pEntry, pHist){
      if( !read_entry(&e, p, i, pEntry) ) goto fail;
      i++;
    }
  }
  verr_free(&e);
  *ppRow = p;
  return CV_OK;

fail:
  if( e.bNoMem ) rc = CV_NOMEM;
  verr_text(&e, zWhy, nWhy);
  verr_free(&e);
  row_free(p);
  return rc ? rc : CV_INVALID;
}

/* The rows waiting to be written. */
struct batch {
  struct row **aRow;
  int nRow, nAlloc;
  int nChat;
};

static cv_rc batch_add(struct batch *b, struct row *p){
  if( b->nRow==b->nAlloc ){
    int nNew = b->nAlloc ? b->nAlloc*2 : 64;
    struct row **aNew = realloc(b->aRow, (size_t)nNew * sizeof *aNew);
    if( !aNew ) return CV_NOMEM;
    b->aRow = aNew;
    b->nAlloc = nNew;
  }
  b->aRow[b->nRow++] = p;
  b->nChat += p->u.nChat;
  return CV_OK;
}

/* A batch being written by a thread of its own while the main thread reads the next one
** (reading and validating a row costs about what writing it does, and the machine has two
** cores). At most one batch is in flight, and the next starts only after it committed, so
** batches commit in file order and a failed one is the last: what follows it is not written. */
struct inflight {
  struct cv_store *pS;
  struct batch b;                      /* the rows being written (owned) */
  struct cv_legacy_user *aUser;        /* their users, as store_chats_import_legacy takes them */
  cv_rc rc;                            /* its result */
  pthread_t th;
  int bThread;                         /* th runs (else the batch was written inline) */
  int bBusy;                           /* a batch is in flight or waits to be counted */
};

static void *write_batch(void *pArg){
  struct inflight *f = pArg;
  f->rc = store_chats_import_legacy(f->pS, f->aUser, f->b.nRow);
  return NULL;
}

/* Wait for the batch in flight (if any), count what happened to it, report a failure, and
** free it. Returns its result. */
static cv_rc inflight_finish(struct inflight *f, struct cv_import_stats *st, FILE *pErr){
  struct batch *b = &f->b;
  int i, j;
  cv_rc rc;
  if( !f->bBusy ) return CV_OK;
  if( f->bThread ) pthread_join(f->th, NULL);
  f->bThread = 0;
  f->bBusy = 0;
  rc = f->rc;
  if( rc ){
    fprintf(pErr, "chatvault: import-legacy: writing lines %lld..%lld failed: %s\n",
            b->aRow[0]->iLine, b->aRow[b->nRow-1]->iLine, cv_rc_str(rc));
  }else{
    for(i=0; i<b->nRow; i++){
      st->nRows++;
      st->nUsersCreated += f->aUser[i].bCreated;
      for(j=0; j<f->aUser[i].nChat; j++){
        switch( f->aUser[i].aChat[j].eResult ){
          case CV_IMPORT_ADDED:        st->nChats++; break;
          case CV_IMPORT_EXISTED:      st->nSkipped++; break;
          case CV_IMPORT_RETAINED_OUT: st->nRetained++; break;
        }
      }
    }
  }
  free(f->aUser);
  f->aUser = NULL;
  for(i=0; i<b->nRow; i++) row_free(b->aRow[i]);
  b->nRow = 0;
  b->nChat = 0;
  return rc;
}

/* Start writing batch b in one transaction, once the batch in flight is done and counted;
** b is handed over and comes back empty. Returns an error of the batch before (b is then
** left as it is) or of starting this one. */
static cv_rc batch_flush(struct cv_store *pS, struct batch *b, struct inflight *f,
                         struct cv_import_stats *st, FILE *pErr){
  struct batch tmp;
  int i;
  cv_rc rc = inflight_finish(f, st, pErr);
  if( rc || b->nRow==0 ) return rc;
  f->aUser = calloc((size_t)b->nRow, sizeof *f->aUser);
  if( !f->aUser ) return CV_NOMEM;
  for(i=0; i<b->nRow; i++) f->aUser[i] = b->aRow[i]->u;
  tmp = f->b;                          /* empty: its row array is reused by the caller */
  f->b = *b;
  *b = tmp;
  f->pS = pS;
  f->bBusy = 1;
  f->bThread = pthread_create(&f->th, NULL, write_batch, f)==0;
  if( !f->bThread ) write_batch(f);    /* no thread to be had: write it here */
  return CV_OK;
}

cv_rc import_legacy(struct cv_store *pS, const char *zFile, FILE *pErr,
                    struct cv_import_stats *st){
  FILE *pIn;
  struct batch b;
  struct inflight f;
  struct stat sb;
  char *zLine = NULL;
  size_t nCap = 0;
  ssize_t nRead;
  long long size = 0;
  int64_t tLast = util_mono_us(), t0 = tLast;
  cv_rc rc = CV_OK;

  memset(st, 0, sizeof *st);
  memset(&b, 0, sizeof b);
  memset(&f, 0, sizeof f);
  pIn = strcmp(zFile, "-")==0 ? stdin : fopen(zFile, "rb");
  if( !pIn ){
    fprintf(pErr, "chatvault: import-legacy: cannot open %s\n", zFile);
    return CV_IO;
  }
  if( fstat(fileno(pIn), &sb)==0 && S_ISREG(sb.st_mode) ) size = (long long)sb.st_size;
  while( (nRead = getline(&zLine, &nCap, pIn))>=0 ){
    size_t n = (size_t)nRead;
    struct row *pRow = NULL;
    char zWhy[256];
    const char *z = zLine;
    st->nLines++;
    while( n>0 && (zLine[n-1]=='\n' || zLine[n-1]=='\r') ) n--;
    while( n>0 && (*z==' ' || *z=='\t') ){ z++; n--; }
    if( n==0 ) continue;
    if( st->nLines==1 && n>=3 && memcmp(z, "\xEF\xBB\xBF", 3)==0 ){ z += 3; n -= 3; }  /* BOM */
    if( n>IMPORT_LINE_MAX ){
      fprintf(pErr, "line %lld: longer than %zu bytes; skipped\n", st->nLines, IMPORT_LINE_MAX);
      st->nErrors++;
      continue;
    }
    rc = read_row(z, n, st->nLines, &pRow, zWhy, sizeof zWhy);
    if( rc==CV_INVALID ){
      fprintf(pErr, "line %lld: %s; skipped\n", st->nLines, zWhy);
      st->nErrors++;
      rc = CV_OK;
      continue;
    }
    if( rc ) break;
    rc = batch_add(&b, pRow);
    if( rc ){ row_free(pRow); break; }
    if( b.nChat>=IMPORT_BATCH_CHATS || b.nRow>=IMPORT_BATCH_ROWS ){
      rc = batch_flush(pS, &b, &f, st, pErr);
      if( rc ) break;
    }
    if( util_mono_us() - tLast > 1000000 ){
      long long at = (long long)ftell(pIn);
      tLast = util_mono_us();
      if( size>0 && at>=0 ){
        fprintf(pErr, "import-legacy: %lld%% (line %lld, %lld chats imported, %.0fs)\n",
                at*100/size, st->nLines, st->nChats, (double)(tLast - t0)/1e6);
      }else{
        fprintf(pErr, "import-legacy: line %lld, %lld chats imported\n", st->nLines, st->nChats);
      }
    }
  }
  if( rc==CV_OK && ferror(pIn) ){
    fprintf(pErr, "chatvault: import-legacy: error reading %s\n", zFile);
    rc = CV_IO;
  }
  if( rc==CV_OK ) rc = batch_flush(pS, &b, &f, st, pErr);
  if( rc==CV_OK ) rc = inflight_finish(&f, st, pErr);
  else inflight_finish(&f, st, pErr);  /* join the batch in flight; counted if it committed */
  {
    int i;
    for(i=0; i<b.nRow; i++) row_free(b.aRow[i]);
  }
  free(b.aRow);
  free(f.b.aRow);
  free(zLine);
  if( pIn!=stdin ) fclose(pIn);
  return rc;
}

/* Exposed for tests/fuzz/fuzz_legacy_line.c (import.h): the parse and validation of one
** line, nothing written. */
cv_rc import_check_line(const char *zLine, size_t nLine, char *zWhy, size_t nWhy){
  struct row *p = NULL;
  cv_rc rc = read_row(zLine, nLine, 1, &p, zWhy, nWhy);
  row_free(p);
  return rc;
}
