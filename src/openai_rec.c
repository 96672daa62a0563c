/*
** openai_rec.c — see openai_rec.h. A service between h_openai.c and the stores and llm.c.
**
** Matching: a thread's fingerprint (store_openai.h) covers every message it holds. A request
** with user/assistant messages M[0..n) (system messages are neither stored nor hashed) looks up
** the fingerprint of M[0..n-1): the thread holding exactly what came before the new user
** message. Nothing found: a new thread holding M[0..n) (earlier turns held elsewhere come
** with it). Two conversations that share a beginning but differ later never meet: a thread's
** fingerprint is of its whole sequence, so a request can only extend a thread it equals up to
** its last message; two conversations starting with the same message are two new threads
** (their prefix, empty, matches nothing). When a turn's upstream call failed, its thread is
** marked for retry and the same request (M[0..n) equal to the whole thread) matches it, so a
** retry adds only the reply. Rejected: matching the longest stored prefix of a request (a
** thread whose reply is still being produced would be matched by a concurrent conversation).
**
** Order of a turn, as complete.c's: the request's new messages are committed first (with
** the fingerprint of M[0..n)), then the model is called with no transaction open, then the
** reply is appended with the fingerprint of M[0..n) + reply. A concurrent write to the thread
** between the two (the count moved) still gets the reply appended, but the thread then keeps
** no fingerprint (it matches nothing later); a write that moved it before the first step makes
** that step start a new thread instead (a fork, never a merge).
** May call stores, llm, complete (the model settings), validate, util, cJSON and libsodium.
*/
#include "openai_rec.h"
#include "complete.h"
#include "config.h"
#include "store.h"
#include "store_threads.h"
#include "util.h"
#include "validate.h"

#include <assert.h>
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the request reader ----------------------------------------------------------------- */

static cv_rc req_fail(struct oai_error *pErr, const char *zParam, const char *zMsg){
  snprintf(pErr->zMessage, sizeof pErr->zMessage, "%s", zMsg);
  snprintf(pErr->zParam, sizeof pErr->zParam, "%s", zParam ? zParam : "");
  return CV_INVALID;
}

void openai_request_free(struct oai_request *p){
  int i;
  if( !p ) return;
  for(i=0; i<p->nMsg; i++) free(p->aMsg[i].zContent);
  free(p->aMsg);
  free(p->zModel);
  memset(p, 0, sizeof *p);
}

/* The text of content pContent of message i into *pzOut (malloc'd): a string, or the text
** parts of an array joined with "\n". *pzOut NULL: null content (allowed for an assistant's
** tool call, which is then dropped). */
static cv_rc content_text(const cJSON *pContent, int i, char **pzOut, struct oai_error *pErr){
  char zParam[64];
  struct cv_buf b;
  const cJSON *pPart;
  int j = 0;
  *pzOut = NULL;
  snprintf(zParam, sizeof zParam, "messages[%d].content", i);
  if( !pContent || cJSON_IsNull(pContent) ) return CV_OK;
  if( cJSON_IsString(pContent) ){
    *pzOut = strdup(pContent->valuestring);
    return *pzOut ? CV_OK : CV_NOMEM;
  }
  if( !cJSON_IsArray(pContent) ){
    return req_fail(pErr, zParam, "content must be a string or an array of text parts");
  }
  buf_init(&b, (size_t)CV_MESSAGE_MAX_CHARS*4 + 1);
  cJSON_ArrayForEach(pPart, pContent){
    const cJSON *pType = cJSON_GetObjectItemCaseSensitive(pPart, "type");
    const cJSON *pText = cJSON_GetObjectItemCaseSensitive(pPart, "text");
    cv_rc rc;
    snprintf(zParam, sizeof zParam, "messages[%d].content[%d]", i, j);
    if( !cJSON_IsObject(pPart) || !cJSON_IsString(pType) ){
      buf_free(&b);
      return req_fail(pErr, zParam, "a content part must be an object with a type");
    }
    if( strcmp(pType->valuestring, "text")!=0 ){
      buf_free(&b);
      return req_fail(pErr, zParam, "only text content parts are supported");
    }
    if( !cJSON_IsString(pText) ){
      buf_free(&b);
      return req_fail(pErr, zParam, "a text part needs a string text");
    }
    rc = j ? buf_append(&b, "\n", 1) : CV_OK;
    if( rc==CV_OK ) rc = buf_append(&b, pText->valuestring, strlen(pText->valuestring));
    if( rc==CV_TOOLARGE ){
      buf_free(&b);
      snprintf(zParam, sizeof zParam, "messages[%d].content", i);
      return req_fail(pErr, zParam, "content is too long");
    }
    if( rc ){ buf_free(&b); return rc; }
    j++;
  }
  if( !b.a ){ *pzOut = strdup(""); return *pzOut ? CV_OK : CV_NOMEM; }
  *pzOut = b.a;
  return CV_OK;
}

cv_rc openai_request_parse(const char *a, size_t n, struct oai_request *pOut,
                           struct oai_error *pErr){
  struct cv_verr e;
  cJSON *pRoot = NULL;
  const cJSON *pMsgs, *pItem, *p;
  const char *zLastRole = NULL;
  int i = 0, nItems;
  cv_rc rc;

  memset(pOut, 0, sizeof *pOut);
  memset(pErr, 0, sizeof *pErr);
  verr_init(&e);
  if( n==0 ){ rc = req_fail(pErr, NULL, "the request body is empty"); goto out; }
  rc = val_parse_json(a, n, &e, &pRoot);
  if( rc==CV_INVALID ){
    const cJSON *pFirst = e.pList ? cJSON_GetArrayItem(e.pList, 0) : NULL;
    const cJSON *pMsg = pFirst ? cJSON_GetObjectItemCaseSensitive(pFirst, "msg") : NULL;
    char zMsg[200];
    snprintf(zMsg, sizeof zMsg, "the request body is not valid JSON: %s",
             cJSON_IsString(pMsg) ? pMsg->valuestring : "invalid");
    req_fail(pErr, NULL, zMsg);
    goto out;
  }
  if( rc ) goto out;
  if( !cJSON_IsObject(pRoot) ){ rc = req_fail(pErr, NULL, "the request body must be a JSON object"); goto out; }

  p = cJSON_GetObjectItemCaseSensitive(pRoot, "model");
  if( p && !cJSON_IsNull(p) ){
    size_t nChars;
    if( !cJSON_IsString(p) ){ rc = req_fail(pErr, "model", "model must be a string"); goto out; }
    nChars = util_utf8_chars(p->valuestring);
    if( nChars==0 || nChars>OAI_MODEL_MAX_CHARS ){
      rc = req_fail(pErr, "model", "model must be 1 to 256 characters");
      goto out;
    }
    pOut->zModel = strdup(p->valuestring);
    if( !pOut->zModel ){ rc = CV_NOMEM; goto out; }
  }
  p = cJSON_GetObjectItemCaseSensitive(pRoot, "stream");
  if( p && !cJSON_IsNull(p) ){
    if( !cJSON_IsBool(p) ){ rc = req_fail(pErr, "stream", "stream must be a boolean"); goto out; }
    pOut->bStream = cJSON_IsTrue(p);
  }
  p = cJSON_GetObjectItemCaseSensitive(pRoot, "stream_options");
  if( p && !cJSON_IsNull(p) ){
    const cJSON *pU = cJSON_GetObjectItemCaseSensitive(p, "include_usage");
    if( !cJSON_IsObject(p) ){
      rc = req_fail(pErr, "stream_options", "stream_options must be an object");
      goto out;
    }
    if( pU && !cJSON_IsNull(pU) ){
      if( !cJSON_IsBool(pU) ){
        rc = req_fail(pErr, "stream_options.include_usage", "include_usage must be a boolean");
        goto out;
      }
      pOut->bUsage = cJSON_IsTrue(pU);
    }
  }
  p = cJSON_GetObjectItemCaseSensitive(pRoot, "n");
  if( p && !cJSON_IsNull(p) && !(cJSON_IsNumber(p) && p->valuedouble==1.0) ){
    rc = req_fail(pErr, "n", "only n=1 is supported");
    goto out;
  }

  pMsgs = cJSON_GetObjectItemCaseSensitive(pRoot, "messages");
  if( !pMsgs ){ rc = req_fail(pErr, "messages", "messages is required"); goto out; }
  if( !cJSON_IsArray(pMsgs) ){ rc = req_fail(pErr, "messages", "messages must be an array"); goto out; }
  nItems = cJSON_GetArraySize(pMsgs);
  if( nItems<1 ){ rc = req_fail(pErr, "messages", "messages must not be empty"); goto out; }
  if( nItems>OAI_MAX_MESSAGES ){
    rc = req_fail(pErr, "messages", "too many messages (at most 2048)");
    goto out;
  }
  pOut->aMsg = calloc((size_t)nItems, sizeof *pOut->aMsg);
  if( !pOut->aMsg ){ rc = CV_NOMEM; goto out; }
  cJSON_ArrayForEach(pItem, pMsgs){
    const cJSON *pRole = cJSON_GetObjectItemCaseSensitive(pItem, "role");
    const char *zRole;
    char zParam[64];
    char *zContent = NULL;
    snprintf(zParam, sizeof zParam, "messages[%d]", i);
    if( !cJSON_IsObject(pItem) ){ rc = req_fail(pErr, zParam, "a message must be an object"); goto out; }
    snprintf(zParam, sizeof zParam, "messages[%d].role", i);
    if( !cJSON_IsString(pRole) ){ rc = req_fail(pErr, zParam, "role must be a string"); goto out; }
    if( strcmp(pRole->valuestring, "system")==0 || strcmp(pRole->valuestring, "developer")==0 ){
      zRole = "system";
    }else if( strcmp(pRole->valuestring, "user")==0 ){
      zRole = "user";
    }else if( strcmp(pRole->valuestring, "assistant")==0 ){
      zRole = "assistant";
    }else if( strcmp(pRole->valuestring, "tool")==0 || strcmp(pRole->valuestring, "function")==0 ){
      zRole = NULL;                /* tool results are neither stored nor forwarded */
    }else{
      rc = req_fail(pErr, zParam,
                    "role must be one of system, developer, user, assistant, tool");
      goto out;
    }
    rc = content_text(cJSON_GetObjectItemCaseSensitive(pItem, "content"), i, &zContent, pErr);
    if( rc ) goto out;
    snprintf(zParam, sizeof zParam, "messages[%d].content", i);
    if( zRole && !zContent && strcmp(zRole, "assistant")!=0 ){
      rc = req_fail(pErr, zParam, "content is required");
      goto out;
    }
    if( zContent && util_utf8_chars(zContent)>CV_MESSAGE_MAX_CHARS ){
      free(zContent);
      rc = req_fail(pErr, zParam, "content is too long (at most 100000 characters)");
      goto out;
    }
    i++;
    if( !zRole || !zContent ){ free(zContent); continue; }   /* tool call: dropped */
    pOut->aMsg[pOut->nMsg].zRole = zRole;
    pOut->aMsg[pOut->nMsg].zContent = zContent;
    pOut->nMsg++;
    if( strcmp(zRole, "system")!=0 ){
      pOut->nConv++;
      zLastRole = zRole;
    }
  }
  if( pOut->nConv==0 ){
    rc = req_fail(pErr, "messages", "messages must hold at least one user message");
    goto out;
  }
  if( strcmp(zLastRole, "user")!=0 ){
    rc = req_fail(pErr, "messages", "the last message (system messages aside) must be the user's");
    goto out;
  }
  rc = CV_OK;
out:
  verr_free(&e);
  cJSON_Delete(pRoot);
  if( rc ) openai_request_free(pOut);
  return rc;
}

/* ---- fingerprints ----------------------------------------------------------------------- */

void openai_fp_init(struct oai_fp *f, int64_t userId){
  static const char zLabel[] = "chatvault thread fingerprint v1";
  unsigned char aKey[crypto_generichash_KEYBYTES];
  unsigned char aId[8];
  crypto_generichash_state k;
  int i;
  for(i=0; i<8; i++) aId[i] = (unsigned char)((uint64_t)userId >> (8*i));
  crypto_generichash_init(&k, NULL, 0, sizeof aKey);
  crypto_generichash_update(&k, (const unsigned char*)zLabel, sizeof zLabel - 1);
  crypto_generichash_update(&k, aId, sizeof aId);
  crypto_generichash_final(&k, aKey, sizeof aKey);
  crypto_generichash_init(&f->st, aKey, sizeof aKey, CV_FP_LEN);
  sodium_memzero(aKey, sizeof aKey);
}

static void fp_field(struct oai_fp *f, const char *z){
  uint64_t n = strlen(z);
  unsigned char aLen[8];
  int i;
  for(i=0; i<8; i++) aLen[i] = (unsigned char)(n >> (8*i));
  crypto_generichash_update(&f->st, aLen, sizeof aLen);
  crypto_generichash_update(&f->st, (const unsigned char*)z, (unsigned long long)n);
}

void openai_fp_add(struct oai_fp *f, const char *zRole, const char *zContent){
  fp_field(f, zRole);
  fp_field(f, zContent);
}

void openai_fp_final(const struct oai_fp *f, unsigned char aOut[CV_FP_LEN]){
  crypto_generichash_state st = f->st;     /* the sequence can still be extended */
  crypto_generichash_final(&st, aOut, CV_FP_LEN);
}

/* ---- the turn ----------------------------------------------------------------------------- */

const char *openai_model_name(const struct cv_config *pCfg, const struct oai_request *q){
  if( q && q->zModel ) return q->zModel;
  if( !pCfg->zLlmUrl || !pCfg->zLlmUrl[0] ) return "chatvault-offline";
  return pCfg->zLlmModel && pCfg->zLlmModel[0] ? pCfg->zLlmModel : "default";
}

/* JSON text of {"role","content"} (free with cJSON_free), or NULL on OOM. */
static char *message_json(const char *zRole, const char *zContent){
  cJSON *p = cJSON_CreateObject();
  char *z = NULL;
  if( p && cJSON_AddStringToObject(p, "role", zRole) && cJSON_AddStringToObject(p, "content", zContent) ){
    z = cJSON_PrintUnformatted(p);
  }
  cJSON_Delete(p);
  return z;
}

/* Do the first m user/assistant messages of q equal the stored messages of thread id (its
** owner userId)? CV_OK yes, CV_CONFLICT no, CV_NOTFOUND not the caller's thread. *pnStored
** gets the thread's message count. */
static cv_rc check_extends(struct cv_store *pS, const struct cv_config *pCfg, int64_t userId,
                           int64_t id, const struct oai_msg *aConv, int nConv,
                           int64_t *pnStored){
  struct cv_read rd;
  struct cv_thread th;
  struct cv_buf b;
  struct cv_sink sink;
  cJSON *pArr = NULL, *pItem;
  int i = 0;
  cv_rc rc;
  *pnStored = 0;
  memset(&th, 0, sizeof th);
  /* the stored prefix can be no bigger than the request that repeats it, escaped */
  buf_init(&b, (size_t)pCfg->maxBody*2 + 64*(size_t)nConv + 4096);
  rc = store_read_begin(pS, &rd);
  if( rc ){ buf_free(&b); return rc; }
  rc = store_threads_get(&rd, userId, id, &th);
  if( rc==CV_FORBIDDEN ) rc = CV_NOTFOUND;      /* another user's thread is not revealed */
  if( rc ) goto out;
  *pnStored = th.nMessages;
  if( th.nMessages>nConv ){ rc = CV_CONFLICT; goto out; }
  if( th.nMessages==0 ) goto out;
  sink_to_buf(&sink, &b);
  rc = store_read_messages_range(&rd, id, 0, th.nMessages, &sink);
  if( rc==CV_TOOLARGE ){ rc = CV_CONFLICT; goto out; }
  if( rc ) goto out;
  pArr = cJSON_ParseWithLength(b.a, b.n);
  if( !pArr ){ rc = CV_NOMEM; goto out; }
  cJSON_ArrayForEach(pItem, pArr){
    const cJSON *pRole = cJSON_GetObjectItemCaseSensitive(pItem, "role");
    const cJSON *pContent = cJSON_GetObjectItemCaseSensitive(pItem, "content");
    if( i>=nConv || !cJSON_IsString(pRole) || !cJSON_IsString(pContent)
     || strcmp(pRole->valuestring, aConv[i].zRole)!=0
     || strcmp(pContent->valuestring, aConv[i].zContent)!=0 ){
      rc = CV_CONFLICT;
      break;
    }
    i++;
  }
  if( rc==CV_OK && i!=th.nMessages ) rc = CV_CONFLICT;
out:
  cJSON_Delete(pArr);
  store_thread_clear(&th);
  store_read_end(&rd);
  buf_free(&b);
  return rc;
}

void openai_turn_clear(struct oai_turn *t){
  free(t->zReply);
  t->zReply = NULL;
}

cv_rc openai_rec_turn(struct cv_store *pS, const struct cv_config *pCfg, struct oai_turn *t,
                      cv_llm_delta_fn xDelta, void *pCtx){
  const struct oai_request *q = t->q;
  struct oai_msg *aConv = NULL;
  char **azJson = NULL;
  size_t *anLen = NULL;
  struct cv_llm_msg *aLlm = NULL;
  struct cv_llm_request req;
  struct cv_llm_config lc;
  struct oai_fp fp;
  struct cv_openai_write w;
  unsigned char aFpPrefix[CV_FP_LEN], aFpAll[CV_FP_LEN], aFpReply[CV_FP_LEN];
  char *zAsst = NULL;
  const char *azOne[1];
  size_t anOne[1];
  int64_t threadId = 0, nHave = 0;
  int i, nConv = 0, bOffline = 0;
  cv_rc rc = CV_OK;

  assert( pS && pCfg && t && t->userId>0 && q && q->nConv>=1 );
  t->zReply = NULL;
  t->bNewThread = 0;
  t->nStored = 0;
  t->eStage = OAI_MATCH;

  /* the conversation (no system messages), its stored form and its fingerprints */
  aConv = calloc((size_t)q->nConv, sizeof *aConv);
  azJson = calloc((size_t)q->nConv, sizeof *azJson);
  anLen = calloc((size_t)q->nConv, sizeof *anLen);
  aLlm = calloc((size_t)q->nMsg, sizeof *aLlm);
  if( !aConv || !azJson || !anLen || !aLlm ){ rc = CV_NOMEM; goto out; }
  openai_fp_init(&fp, t->userId);
  for(i=0; i<q->nMsg; i++){
    aLlm[i].zRole = q->aMsg[i].zRole;
    aLlm[i].zContent = q->aMsg[i].zContent;
    if( strcmp(q->aMsg[i].zRole, "system")==0 ) continue;
    if( nConv==q->nConv-1 ) openai_fp_final(&fp, aFpPrefix);
    aConv[nConv] = q->aMsg[i];
    azJson[nConv] = message_json(q->aMsg[i].zRole, q->aMsg[i].zContent);
    if( !azJson[nConv] ){ rc = CV_NOMEM; goto out; }
    anLen[nConv] = strlen(azJson[nConv]);
    openai_fp_add(&fp, q->aMsg[i].zRole, q->aMsg[i].zContent);
    nConv++;
  }
  assert( nConv==q->nConv );
  openai_fp_final(&fp, aFpAll);

  /* which thread, and how much of the request it already holds */
  if( t->threadId ){
    threadId = t->threadId;
    rc = check_extends(pS, pCfg, t->userId, threadId, aConv, nConv, &nHave);
    if( rc ) goto out;
  }else{
    rc = store_openai_match(pS, t->userId, aFpPrefix, aFpAll, &threadId, &nHave);
    if( rc ) goto out;
  }

  /* 1. what is new, committed before the model is asked */
  if( nHave<nConv ){
    memset(&w, 0, sizeof w);
    w.userId = t->userId;
    w.threadId = threadId;
    w.nExpect = nHave;
    w.azMsg = (const char *const*)azJson + nHave;
    w.anLen = anLen + nHave;
    w.nMsg = nConv - (int)nHave;
    w.aFp = aFpAll;
    rc = store_openai_record(pS, &w);
    if( (rc==CV_CONFLICT || rc==CV_NOTFOUND) && threadId && !t->threadId ){
      /* the matched thread changed or went meanwhile: this conversation forks */
      memset(&w, 0, sizeof w);
      w.userId = t->userId;
      w.azMsg = (const char *const*)azJson;
      w.anLen = anLen;
      w.nMsg = nConv;
      w.aFp = aFpAll;
      threadId = 0;
      nHave = 0;
      rc = store_openai_record(pS, &w);
    }
    if( rc ) goto out;
    t->bNewThread = threadId==0;
    threadId = w.idOut;
    t->nStored = nConv - (int)nHave;
    nHave = w.nAfter;
  }
  t->threadId = threadId;

  /* 2. the reply, from the request's own messages (no transaction is open meanwhile) */
  t->eStage = OAI_REPLY;
  memset(&req, 0, sizeof req);
  req.aMsg = aLlm;
  req.nMsg = q->nMsg;
  complete_llm_config(pCfg, &lc);
  if( q->zModel && q->zModel[0] ) lc.zModel = q->zModel;   /* the request is forwarded */
  rc = llm_reply(&lc, &req, xDelta, pCtx, &t->zReply, &bOffline);
  if( rc ){
    cv_rc rc2 = store_openai_mark_retry(pS, t->userId, threadId, aFpAll);
    if( rc2 ) fprintf(stderr, "chatvault: openai: marking thread %lld for retry: %s\n",
                      (long long)threadId, cv_rc_str(rc2));
    goto out;
  }

  /* 3. the reply, saved whether or not the client is still there */
  t->eStage = OAI_SAVE_REPLY;
  zAsst = message_json("assistant", t->zReply);
  if( !zAsst ){ rc = CV_NOMEM; goto out; }
  openai_fp_add(&fp, "assistant", t->zReply);
  openai_fp_final(&fp, aFpReply);
  azOne[0] = zAsst;
  anOne[0] = strlen(zAsst);
  memset(&w, 0, sizeof w);
  w.userId = t->userId;
  w.threadId = threadId;
  w.nExpect = nHave;
  w.azMsg = azOne;
  w.anLen = anOne;
  w.nMsg = 1;
  w.aFp = aFpReply;
  w.bForce = 1;
  rc = store_openai_record(pS, &w);
  if( rc ) goto out;
  t->eStage = OAI_DONE;

out:
  if( rc ){ free(t->zReply); t->zReply = NULL; }
  if( azJson ) for(i=0; i<q->nConv; i++) cJSON_free(azJson[i]);
  free(azJson);
  free(anLen);
  free(aConv);
  free(aLlm);
  cJSON_free(zAsst);
  return rc;
}

/* ---- the model list ---------------------------------------------------------------------- */

void openai_models_free(struct oai_model *a, int n){
  int i;
  if( !a ) return;
  for(i=0; i<n; i++){
    free(a[i].zId);
    free(a[i].zOwnedBy);
  }
  free(a);
}

/* z is a string OpenAI's list may carry into ours: 1..OAI_MODEL_MAX_CHARS bytes of UTF-8. */
static int model_string(const cJSON *p){
  size_t n;
  if( !cJSON_IsString(p) || !p->valuestring ) return 0;
  n = strlen(p->valuestring);
  return n>=1 && n<=OAI_MODEL_MAX_CHARS && util_utf8_valid(p->valuestring, n);
}

cv_rc openai_models(const struct cv_config *pCfg, struct oai_model **paOut, int *pnOut){
  struct cv_llm_config lc;
  struct oai_model *a = NULL;
  cJSON *pRoot = NULL, *pData, *pItem;
  char *zJson = NULL;
  size_t nJson = 0;
  int n = 0, nAlloc;
  cv_rc rc;
  *paOut = NULL;
  *pnOut = 0;
  if( !pCfg->zLlmUrl || !pCfg->zLlmUrl[0] ){
    a = calloc(1, sizeof *a);
    if( !a ) return CV_NOMEM;
    a[0].zId = strdup("chatvault-offline");
    a[0].zOwnedBy = strdup("chatvault");
    a[0].created = util_now_ms()/1000;
    if( !a[0].zId || !a[0].zOwnedBy ){ openai_models_free(a, 1); return CV_NOMEM; }
    *paOut = a;
    *pnOut = 1;
    return CV_OK;
  }
  complete_llm_config(pCfg, &lc);
  rc = llm_models(&lc, &zJson, &nJson);
  if( rc ) return rc;
  pRoot = cJSON_ParseWithLength(zJson, nJson);
  free(zJson);
  pData = pRoot ? cJSON_GetObjectItemCaseSensitive(pRoot, "data") : NULL;
  if( !cJSON_IsArray(pData) ){
    fprintf(stderr, "chatvault: llm: the model list is not {\"data\":[...]}\n");
    cJSON_Delete(pRoot);
    return CV_UPSTREAM;
  }
  nAlloc = cJSON_GetArraySize(pData);
  if( nAlloc>OAI_MODELS_MAX ) nAlloc = OAI_MODELS_MAX;
  a = calloc(nAlloc>0 ? (size_t)nAlloc : 1, sizeof *a);
  if( !a ){ cJSON_Delete(pRoot); return CV_NOMEM; }
  cJSON_ArrayForEach(pItem, pData){
    const cJSON *pId = cJSON_GetObjectItemCaseSensitive(pItem, "id");
    const cJSON *pOwner = cJSON_GetObjectItemCaseSensitive(pItem, "owned_by");
    const cJSON *pCreated = cJSON_GetObjectItemCaseSensitive(pItem, "created");
    if( n>=nAlloc ) break;
    if( !cJSON_IsObject(pItem) || !model_string(pId) ) continue;
    a[n].zId = strdup(pId->valuestring);
    a[n].zOwnedBy = strdup(model_string(pOwner) ? pOwner->valuestring : "upstream");
    if( cJSON_IsNumber(pCreated) && pCreated->valuedouble>=0 && pCreated->valuedouble<1e15 ){
      a[n].created = (int64_t)pCreated->valuedouble;
    }
    n++;
    if( !a[n-1].zId || !a[n-1].zOwnedBy ){ rc = CV_NOMEM; break; }
  }
  cJSON_Delete(pRoot);
  if( rc ){ openai_models_free(a, n); return rc; }
  *paOut = a;
  *pnOut = n;
  return CV_OK;
}
