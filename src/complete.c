/*
** complete.c — see complete.h. The service layer between the chat handlers and the stores
** and llm: it knows the order of a turn (user message committed first, reply saved last,
** both as their own writes: the model call is never inside a transaction) and how a
** prompt is put together, nothing of HTTP. It uses cJSON only to build the two message
** objects it saves and to read the stored array back for the prompt.
**
** History budget: the model gets the newest earlier messages whose content adds up to at
** most --llm-history-chars characters (the newest user message always goes), oldest first.
** Rejected: counting tokens (model-specific) and summarising old turns (a second call).
** May call stores, llm, util and cJSON.
*/
#include "complete.h"
#include "config.h"
#include "store_catalog.h"
#include "store_chats.h"
#include "store_threads.h"
#include "util.h"

#include <assert.h>
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

/* JSON text of {"role":zRole,"content":zContent}, or NULL on OOM (free with cJSON_free). */
static char *message_json(const char *zRole, const char *zContent){
  cJSON *p = cJSON_CreateObject();
  char *z = NULL;
  if( p && cJSON_AddStringToObject(p, "role", zRole) && cJSON_AddStringToObject(p, "content", zContent) ){
    z = cJSON_PrintUnformatted(p);
  }
  cJSON_Delete(p);
  return z;
}

/* The conversation sent upstream: borrowed pointers into *ppArr (keep it until the call
** returned, then cJSON_Delete it). */
struct history {
  cJSON *pArr;                    /* the parsed stored array */
  struct cv_llm_msg *aMsg;        /* malloc'd */
  int nMsg;
};

static void history_free(struct history *h){
  cJSON_Delete(h->pArr);
  free(h->aMsg);
  memset(h, 0, sizeof *h);
}

/* Parse the stored messages zMessages (which end with the new user message) and keep the
** newest that fit nBudgetChars (the last one always). */
static cv_rc history_build(const char *zMessages, int nBudgetChars, struct history *h){
  const cJSON *pFirst = NULL, *p;
  size_t used = 0;
  int n;
  memset(h, 0, sizeof *h);
  h->pArr = cJSON_Parse(zMessages);
  if( !h->pArr ) return CV_NOMEM;    /* the store holds valid JSON: only OOM fails here */
  n = cJSON_GetArraySize(h->pArr);
  h->aMsg = calloc((size_t)n + 1, sizeof *h->aMsg);
  if( !h->aMsg ){ history_free(h); return CV_NOMEM; }
  /* walk back from the newest (cJSON: child->prev is the last item) while the budget
  ** allows; linked-list steps only, never cJSON_GetArrayItem (quadratic) */
  for(p = h->pArr->child ? h->pArr->child->prev : NULL; p; p = p->prev){
    const cJSON *pC = cJSON_GetObjectItemCaseSensitive(p, "content");
    size_t nChars = cJSON_IsString(pC) ? util_utf8_chars(pC->valuestring) : 0;
    if( pFirst && used + nChars > (size_t)nBudgetChars ) break;
    used += nChars;
    pFirst = p;
    if( p==h->pArr->child ) break;
  }
  for(p=pFirst; p; p=p->next){
    const cJSON *pR = cJSON_GetObjectItemCaseSensitive(p, "role");
    const cJSON *pC = cJSON_GetObjectItemCaseSensitive(p, "content");
    if( !cJSON_IsString(pR) || !cJSON_IsString(pC) ) continue;
    h->aMsg[h->nMsg].zRole = pR->valuestring;
    h->aMsg[h->nMsg].zContent = pC->valuestring;
    h->nMsg++;
  }
  return CV_OK;
}

/* The messages handed to the responder: for a model, the budgeted history; the offline
** responder reads only the new message, so it gets that alone and the chat is not parsed. */
static cv_rc history_for(const struct cv_config *pCfg, const char *zMessages,
                         const char *zContent, struct history *h){
  if( pCfg->zLlmUrl ) return history_build(zMessages, pCfg->llmHistoryChars, h);
  memset(h, 0, sizeof *h);
  h->aMsg = calloc(1, sizeof *h->aMsg);
  if( !h->aMsg ) return CV_NOMEM;
  h->aMsg[0].zRole = "user";
  h->aMsg[0].zContent = zContent;
  h->nMsg = 1;
  return CV_OK;
}

static void llm_config(const struct cv_config *pCfg, struct cv_llm_config *pL){
  memset(pL, 0, sizeof *pL);
  pL->zUrl = pCfg->zLlmUrl;
  pL->zModel = pCfg->zLlmModel;
  pL->zKey = pCfg->zLlmKey;
  pL->timeoutS = pCfg->llmTimeoutS;
}

/* The system prompt of a chat from its character, scene and persona (any may be missing:
** then the copied names in the chat are used). Returns a malloc'd string (free()) or NULL
** when there is nothing to say; *pRc is CV_NOMEM when memory ran out. */
static char *system_prompt(const struct cv_chat *c, const struct cv_item *pChar,
                           const struct cv_item *pScene, const struct cv_item *pPersona,
                           cv_rc *pRc){
  struct cv_buf b;
  const char *zName = pChar ? pChar->zName : c->zCharacterName;
  const char *zSceneName = pScene ? pScene->zName : c->zSceneName;
  cv_rc rc = CV_OK;
  *pRc = CV_OK;
  if( !zName && !zSceneName && !pPersona ) return NULL;
  buf_init(&b, 1<<20);
  if( zName ){
    rc = buf_appendf(&b, "You are %s, a character in a role-play chat. Stay in character.", zName);
    if( rc==CV_OK && pChar && pChar->zDescription && *pChar->zDescription ){
      rc = buf_appendf(&b, "\n\nAbout %s: %s", zName, pChar->zDescription);
    }
  }else{
    rc = buf_appendf(&b, "You are taking part in a role-play chat.");
  }
  if( rc==CV_OK && zSceneName ){
    rc = buf_appendf(&b, "\n\nScene: %s.", zSceneName);
    if( rc==CV_OK && pScene && pScene->zDescription && *pScene->zDescription ){
      rc = buf_appendf(&b, " %s", pScene->zDescription);
    }
  }
  if( rc==CV_OK && pPersona ){
    rc = buf_appendf(&b, "\n\nThe user plays %s.", pPersona->zName);
    if( rc==CV_OK && pPersona->zDescription && *pPersona->zDescription ){
      rc = buf_appendf(&b, " %s", pPersona->zDescription);
    }
  }
  if( rc ){
    buf_free(&b);
    *pRc = rc==CV_TOOLARGE ? CV_OK : rc;   /* an over-long prompt is dropped, not fatal */
    return NULL;
  }
  return b.a;
}

cv_rc complete_chat(struct cv_store *pS, const struct cv_config *pCfg,
                    const struct cv_chat_turn *t, cv_llm_delta_fn xDelta, void *pCtx,
                    struct cv_chat *pOut, char **pzReply, const char **pzMissing,
                    enum cv_turn_stage *peStage){
  struct cv_chat_new nw;
  struct cv_chat saved;
  struct cv_item ch, sc, pe;
  int bCh = 0, bSc = 0, bPe = 0, bOffline = 0;
  struct cv_llm_request req;
  struct cv_llm_config lc;
  struct history h;
  char *zUser = NULL, *zTitle = NULL, *zSystem = NULL, *zReply = NULL, *zAsst = NULL;
  cv_rc rc;

  assert( pS && pCfg && t && t->userId>0 && t->zChatId && t->zContent );
  memset(pOut, 0, sizeof *pOut);
  memset(&saved, 0, sizeof saved);
  memset(&h, 0, sizeof h);
  *pzReply = NULL;
  *pzMissing = NULL;
  *peStage = CV_TURN_SAVE_USER;

  /* 1. the user's message, committed before anything else happens */
  zUser = message_json("user", t->zContent);
  if( !zUser ){ rc = CV_NOMEM; goto out; }
  zTitle = util_auto_title(t->zContent, &rc);
  if( rc ) goto out;
  memset(&nw, 0, sizeof nw);
  nw.characterId = t->characterId;
  nw.sceneId = t->sceneId;
  nw.personaId = t->personaId;
  nw.zTitle = zTitle;
  rc = store_chats_add_message(pS, t->userId, t->zChatId, &nw, zUser, &saved, pzMissing);
  if( rc ) goto out;

  /* 2. the prompt: what the chat refers to (a deleted character is simply absent) */
  *peStage = CV_TURN_REPLY;
  if( saved.characterId ){
    rc = store_catalog_get(pS, CV_KIND_CHARACTER, t->userId, saved.characterId, &ch);
    if( rc==CV_OK ) bCh = 1; else if( rc!=CV_NOTFOUND ) goto out;
  }
  if( saved.sceneId ){
    rc = store_catalog_get(pS, CV_KIND_SCENE, t->userId, saved.sceneId, &sc);
    if( rc==CV_OK ) bSc = 1; else if( rc!=CV_NOTFOUND ) goto out;
  }
  if( saved.personaId ){
    rc = store_catalog_get(pS, CV_KIND_PERSONA, t->userId, saved.personaId, &pe);
    if( rc==CV_OK ) bPe = 1; else if( rc!=CV_NOTFOUND ) goto out;
  }
  zSystem = system_prompt(&saved, bCh ? &ch : NULL, bSc ? &sc : NULL, bPe ? &pe : NULL, &rc);
  if( rc ) goto out;
  rc = history_for(pCfg, saved.zMessages, t->zContent, &h);
  if( rc ) goto out;
  memset(&req, 0, sizeof req);
  req.zSystem = zSystem;
  req.aMsg = h.aMsg;
  req.nMsg = h.nMsg;
  req.bFirstTurn = saved.nMessages<=1;
  req.zCharacterName = bCh ? ch.zName : saved.zCharacterName;
  req.zCharacterGreeting = bCh ? ch.zGreeting : NULL;

  /* 3. the reply (no database connection or transaction is held meanwhile) */
  llm_config(pCfg, &lc);
  rc = llm_reply(&lc, &req, xDelta, pCtx, &zReply, &bOffline);
  if( rc ) goto out;

  /* 4. the reply, saved whether or not the client is still there */
  *peStage = CV_TURN_SAVE_REPLY;
  zAsst = message_json("assistant", zReply);
  if( !zAsst ){ rc = CV_NOMEM; goto out; }
  rc = store_chats_add_message(pS, t->userId, t->zChatId, NULL, zAsst, pOut, pzMissing);
  if( rc ) goto out;
  *peStage = CV_TURN_DONE;
  *pzReply = zReply;
  zReply = NULL;

out:
  history_free(&h);
  if( bCh ) store_item_clear(&ch);
  if( bSc ) store_item_clear(&sc);
  if( bPe ) store_item_clear(&pe);
  store_chat_clear(&saved);
  cJSON_free(zUser);
  cJSON_free(zAsst);
  free(zTitle);
  free(zSystem);
  free(zReply);
  return rc;
}

cv_rc complete_thread(struct cv_store *pS, const struct cv_config *pCfg, int64_t userId,
                      int64_t threadId, const char *zContent, cv_llm_delta_fn xDelta,
                      void *pCtx, struct cv_thread *pOut, char **pzReply,
                      enum cv_turn_stage *peStage){
  struct cv_append ap;
  struct cv_thread cur;
  struct cv_llm_request req;
  struct cv_llm_config lc;
  struct history h;
  char *zUser = NULL, *zReply = NULL, *zAsst = NULL;
  int bOffline = 0;
  cv_rc rc;

  assert( pS && pCfg && userId>0 && zContent );
  memset(pOut, 0, sizeof *pOut);
  memset(&cur, 0, sizeof cur);
  memset(&ap, 0, sizeof ap);
  memset(&h, 0, sizeof h);
  *pzReply = NULL;
  *peStage = CV_TURN_SAVE_USER;

  zUser = message_json("user", zContent);
  if( !zUser ){ rc = CV_NOMEM; goto out; }
  rc = store_threads_append(pS, userId, threadId, zUser, &ap);
  if( rc ) goto out;

  *peStage = CV_TURN_REPLY;
  rc = store_threads_get(pS, userId, threadId, &cur);
  if( rc ) goto out;
  rc = history_for(pCfg, cur.zMessages, zContent, &h);
  if( rc ) goto out;
  memset(&req, 0, sizeof req);
  req.aMsg = h.aMsg;
  req.nMsg = h.nMsg;
  req.bFirstTurn = ap.index==0;
  llm_config(pCfg, &lc);
  rc = llm_reply(&lc, &req, xDelta, pCtx, &zReply, &bOffline);
  if( rc ) goto out;

  *peStage = CV_TURN_SAVE_REPLY;
  zAsst = message_json("assistant", zReply);
  if( !zAsst ){ rc = CV_NOMEM; goto out; }
  store_append_clear(&ap);
  rc = store_threads_append(pS, userId, threadId, zAsst, &ap);
  if( rc ) goto out;
  rc = store_threads_get(pS, userId, threadId, pOut);
  if( rc ) goto out;
  *peStage = CV_TURN_DONE;
  *pzReply = zReply;
  zReply = NULL;

out:
  history_free(&h);
  store_thread_clear(&cur);
  store_append_clear(&ap);
  cJSON_free(zUser);
  cJSON_free(zAsst);
  free(zReply);
  return rc;
}
