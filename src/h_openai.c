/*
** h_openai.c — the OpenAI-compatible recording endpoint (contract v2, docs/api.md "OpenAI-
** compatible recording endpoint"): POST /v1/chat/completions and GET /v1/models. HTTP only:
** the body is read by openai_request_parse, the turn is openai_rec_turn's (matching, storing,
** the model), the answer is OpenAI's shapes. Every error on these routes is OpenAI's
** {"error":{...}} (the router sets r->bOpenAI; http.c writes the shape).
**
** Streaming: like h_chats.c, the event stream starts lazily on the first piece of the reply,
** so a failure before it (unknown thread, upstream refused) is an ordinary error response.
** The stream is OpenAI's: a first chunk with the role, one chunk per piece, a last chunk with
** finish_reason "stop" (and, with stream_options.include_usage, a usage chunk), then
** `data: [DONE]`. A failure after the start is `data: {"error":{...}}` and no [DONE].
** Usage is estimated: one token per 4 characters (rounded up), of every request message for
** the prompt and of the reply for the completion; no tokenizer is run.
** May call http, validate, util, cJSON and the openai_rec service.
*/
#include "app.h"
#include "config.h"
#include "handlers.h"
#include "http.h"
#include "openai_rec.h"
#include "util.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct oai_stream {
  struct cv_req *r;
  struct oai_turn *t;
  const char *zModel;
  char zId[48];                  /* "chatcmpl-<32 hex>" */
  int64_t created;               /* unix seconds */
  int bStarted, bGone;
};

/* {"id","object":"chat.completion.chunk","created","model","choices":[{index, delta,
** logprobs:null, finish_reason}]} with delta pDelta (consumed); zFinish NULL: null. */
static char *chunk_json(const struct oai_stream *s, cJSON *pDelta, const char *zFinish){
  cJSON *p = cJSON_CreateObject(), *pChoices = NULL, *pC = NULL;
  char *z = NULL;
  int ok = p && cJSON_AddStringToObject(p, "id", s->zId)
        && cJSON_AddStringToObject(p, "object", "chat.completion.chunk")
        && cJSON_AddNumberToObject(p, "created", (double)s->created)
        && cJSON_AddStringToObject(p, "model", s->zModel)
        && (pChoices = cJSON_AddArrayToObject(p, "choices"))!=NULL
        && (pC = cJSON_CreateObject())!=NULL;
  if( ok ) cJSON_AddItemToArray(pChoices, pC); else cJSON_Delete(pC);
  ok = ok && cJSON_AddNumberToObject(pC, "index", 0);
  if( ok && pDelta ){ cJSON_AddItemToObject(pC, "delta", pDelta); pDelta = NULL; }
  ok = ok && cJSON_AddNullToObject(pC, "logprobs")
          && (zFinish ? cJSON_AddStringToObject(pC, "finish_reason", zFinish)!=NULL
                      : cJSON_AddNullToObject(pC, "finish_reason")!=NULL);
  if( ok ) z = cJSON_PrintUnformatted(p);
  cJSON_Delete(pDelta);
  cJSON_Delete(p);
  return z;
}

/* Send one `data: <json>` event; marks the client gone when it left. */
static void send_data(struct oai_stream *s, char *z){
  if( !z ){ fprintf(stderr, "chatvault: openai: out of memory writing a chunk\n"); return; }
  if( !s->bGone && http_sse_send(s->r, NULL, z)==CV_CLOSED ) s->bGone = 1;
  cJSON_free(z);
}

/* Start the event stream (headers with X-Chatvault-Thread, then the role chunk). */
static void stream_start(struct oai_stream *s){
  char zHdr[64];
  cJSON *pDelta;
  if( s->bStarted ) return;
  s->bStarted = 1;
  snprintf(zHdr, sizeof zHdr, "X-Chatvault-Thread: %lld\r\n", (long long)s->t->threadId);
  if( http_sse_start_ex(s->r, zHdr) ){ s->bGone = 1; return; }
  pDelta = cJSON_CreateObject();
  if( pDelta && (!cJSON_AddStringToObject(pDelta, "role", "assistant")
              || !cJSON_AddStringToObject(pDelta, "content", "")) ){
    cJSON_Delete(pDelta);
    pDelta = NULL;
  }
  send_data(s, pDelta ? chunk_json(s, pDelta, NULL) : NULL);
}

/* cv_llm_delta_fn: one content chunk per piece of the reply. */
static int on_delta(void *pCtx, const char *z, size_t n){
  struct oai_stream *s = pCtx;
  cJSON *pDelta;
  char *zText;
  if( s->bGone ) return 1;
  if( n==0 ) return 0;
  stream_start(s);
  if( s->bGone ) return 1;
  zText = malloc(n + 1);
  if( !zText ) return 0;           /* this piece is lost to the stream, not to the saved reply */
  memcpy(zText, z, n);
  zText[n] = 0;
  pDelta = cJSON_CreateObject();
  if( pDelta && !cJSON_AddStringToObject(pDelta, "content", zText) ){
    cJSON_Delete(pDelta);
    pDelta = NULL;
  }
  free(zText);
  send_data(s, pDelta ? chunk_json(s, pDelta, NULL) : NULL);
  return s->bGone;
}

/* Estimated tokens of text z: one per 4 characters, rounded up. */
static int64_t est_tokens(const char *z){
  return ((int64_t)util_utf8_chars(z) + 3) / 4;
}

static cJSON *usage_json(const struct oai_request *q, const char *zReply){
  cJSON *p = cJSON_CreateObject();
  int64_t nPrompt = 0, nDone = est_tokens(zReply);
  int i;
  for(i=0; i<q->nMsg; i++) nPrompt += est_tokens(q->aMsg[i].zContent);
  if( p && (!cJSON_AddNumberToObject(p, "prompt_tokens", (double)nPrompt)
         || !cJSON_AddNumberToObject(p, "completion_tokens", (double)nDone)
         || !cJSON_AddNumberToObject(p, "total_tokens", (double)(nPrompt + nDone))) ){
    cJSON_Delete(p);
    p = NULL;
  }
  return p;
}

/* A failed turn: an error response before the stream started, an error event after. */
static void reply_error(struct oai_stream *s, cv_rc rc){
  struct cv_req *r = s->r;
  char zMsg[160];
  if( !s->bStarted ){
    if( rc==CV_NOTFOUND ){
      http_reply_openai_error(r, 404, "Thread not found", NULL, "thread_not_found", NULL);
    }else if( rc==CV_CONFLICT ){
      snprintf(zMsg, sizeof zMsg, "The request's messages do not extend thread %lld",
               (long long)s->t->threadId);
      http_reply_openai_error(r, 409, zMsg, "messages", "thread_mismatch", NULL);
    }else{
      http_reply_rc(r, rc, "Thread");
    }
    return;
  }
  if( !s->bGone ){
    cJSON *p = cJSON_CreateObject(), *pE = NULL;
    char *z = NULL;
    if( p && (pE = cJSON_AddObjectToObject(p, "error"))!=NULL
     && cJSON_AddStringToObject(pE, "message", rc==CV_TIMEOUT ? "The language model server timed out"
                                : rc==CV_UPSTREAM ? "The language model server failed"
                                : "Internal server error")
     && cJSON_AddStringToObject(pE, "type", "server_error")
     && cJSON_AddNullToObject(pE, "param") && cJSON_AddNullToObject(pE, "code") ){
      z = cJSON_PrintUnformatted(p);
    }
    cJSON_Delete(p);
    send_data(s, z);
  }
  fprintf(stderr, "chatvault: %s %s: turn failed after streaming began: %s\n",
          r->zMethod, r->zPath, cv_rc_str(rc));
}

/* The X-Chatvault-Thread header as a thread id: 1 ok (0 when absent), 0 when malformed. */
static int thread_header(struct cv_req *r, int64_t *pId){
  const char *z = http_header(r, "X-Chatvault-Thread");
  int64_t v = 0;
  int n = 0;
  *pId = 0;
  if( !z ) return 1;
  while( *z==' ' ) z++;
  for(; *z>='0' && *z<='9'; z++, n++){
    if( n>=18 ) return 0;
    v = v*10 + (*z - '0');
  }
  while( *z==' ' ) z++;
  if( *z || n==0 || v<=0 ) return 0;
  *pId = v;
  return 1;
}

/* ROUTE: POST /v1/chat/completions (auth: a chatvault token as the API key)
** OpenAI's chat completion request. 200 chat.completion, or with "stream":true a
** text/event-stream of chat.completion.chunk events then `data: [DONE]`; both with the header
** X-Chatvault-Thread: <thread id>. The conversation is recorded as a thread (openai_rec.c).
** 400 invalid body; 401; 404 X-Chatvault-Thread unknown or another user's; 409 the messages
** do not extend that thread; 413; 502/504 upstream (the request's messages stay stored). */
int h_openai_chat(struct cv_req *r){
  const struct cv_config *pCfg = r->pApp->pCfg;
  struct oai_request q;
  struct oai_error err;
  struct oai_turn t;
  struct oai_stream s;
  char *zBody = NULL;
  size_t nBody = 0;
  char zUuid[CV_UUID_LEN+1];
  int64_t threadId;
  int i, j;
  cv_rc rc;

  memset(&q, 0, sizeof q);
  memset(&t, 0, sizeof t);
  memset(&s, 0, sizeof s);
  if( !http_read_raw(r, pCfg->maxBody, &zBody, &nBody) ) goto out;
  if( !thread_header(r, &threadId) ){
    http_reply_openai_error(r, 400, "X-Chatvault-Thread must be a thread id", NULL,
                            "invalid_thread_header", NULL);
    goto out;
  }
  rc = openai_request_parse(zBody ? zBody : "", nBody, &q, &err);
  if( rc==CV_INVALID ){
    http_reply_openai_error(r, 400, err.zMessage, err.zParam[0] ? err.zParam : NULL, NULL, NULL);
    goto out;
  }
  if( rc ){ http_reply_rc(r, rc, NULL); goto out; }

  t.userId = r->userId;
  t.threadId = threadId;
  t.q = &q;
  s.r = r;
  s.t = &t;
  s.zModel = openai_model_name(pCfg, &q);
  s.created = util_now_ms() / 1000;
  util_uuid4(zUuid);
  memcpy(s.zId, "chatcmpl-", 9);
  for(i=0, j=9; zUuid[i]; i++) if( zUuid[i]!='-' ) s.zId[j++] = zUuid[i];
  s.zId[j] = 0;

  rc = openai_rec_turn(r->pApp->pStore, pCfg, &t, q.bStream ? on_delta : NULL, &s);
  if( rc ){ reply_error(&s, rc); goto out; }

  if( q.bStream ){
    cJSON *pDelta = cJSON_CreateObject();
    stream_start(&s);              /* an empty reply sent no piece */
    send_data(&s, pDelta ? chunk_json(&s, pDelta, "stop") : NULL);
    if( q.bUsage ){
      cJSON *p = cJSON_CreateObject(), *pU = usage_json(&q, t.zReply);
      char *z = NULL;
      if( p && pU && cJSON_AddStringToObject(p, "id", s.zId)
       && cJSON_AddStringToObject(p, "object", "chat.completion.chunk")
       && cJSON_AddNumberToObject(p, "created", (double)s.created)
       && cJSON_AddStringToObject(p, "model", s.zModel)
       && cJSON_AddArrayToObject(p, "choices") ){
        cJSON_AddItemToObject(p, "usage", pU);
        pU = NULL;
        z = cJSON_PrintUnformatted(p);
      }
      cJSON_Delete(pU);
      cJSON_Delete(p);
      send_data(&s, z);
    }
    if( !s.bGone && http_sse_send(r, NULL, "[DONE]")==CV_CLOSED ) s.bGone = 1;
  }else{
    cJSON *p = cJSON_CreateObject(), *pChoices = NULL, *pC = NULL, *pM = NULL, *pU;
    char zHdr[64];
    int ok = p && cJSON_AddStringToObject(p, "id", s.zId)
          && cJSON_AddStringToObject(p, "object", "chat.completion")
          && cJSON_AddNumberToObject(p, "created", (double)s.created)
          && cJSON_AddStringToObject(p, "model", s.zModel)
          && (pChoices = cJSON_AddArrayToObject(p, "choices"))!=NULL
          && (pC = cJSON_CreateObject())!=NULL;
    if( ok ) cJSON_AddItemToArray(pChoices, pC); else cJSON_Delete(pC);
    ok = ok && cJSON_AddNumberToObject(pC, "index", 0)
            && (pM = cJSON_AddObjectToObject(pC, "message"))!=NULL
            && cJSON_AddStringToObject(pM, "role", "assistant")
            && cJSON_AddStringToObject(pM, "content", t.zReply)
            && cJSON_AddNullToObject(pC, "logprobs")
            && cJSON_AddStringToObject(pC, "finish_reason", "stop");
    pU = ok ? usage_json(&q, t.zReply) : NULL;
    if( pU ) cJSON_AddItemToObject(p, "usage", pU); else ok = 0;
    snprintf(zHdr, sizeof zHdr, "X-Chatvault-Thread: %lld\r\n", (long long)t.threadId);
    if( !ok ){ cJSON_Delete(p); p = NULL; }
    http_reply_json(r, 200, p, zHdr);   /* NULL: a 500 (the turn is saved all the same) */
    cJSON_Delete(p);
  }
out:
  openai_turn_clear(&t);
  openai_request_free(&q);
  free(zBody);
  return r->status;
}

/* ROUTE: GET /v1/models (auth)
** OpenAI's model list (openai_models): offline "chatvault-offline"; with --llm-url the
** upstream's own list, checked and re-written; an upstream that fails: 502 (504 on its
** deadline) in OpenAI's shape. */
int h_openai_models(struct cv_req *r){
  struct oai_model *a = NULL;
  cJSON *p = NULL, *pData = NULL;
  int i, n = 0, ok;
  cv_rc rc = openai_models(r->pApp->pCfg, &a, &n);
  if( rc ){
    http_reply_rc(r, rc, "Model list");
    return r->status;
  }
  p = cJSON_CreateObject();
  ok = p && cJSON_AddStringToObject(p, "object", "list")
         && (pData = cJSON_AddArrayToObject(p, "data"))!=NULL;
  for(i=0; ok && i<n; i++){
    cJSON *pM = cJSON_CreateObject();
    ok = pM!=NULL;
    if( ok ) cJSON_AddItemToArray(pData, pM);
    ok = ok && cJSON_AddStringToObject(pM, "id", a[i].zId)
            && cJSON_AddStringToObject(pM, "object", "model")
            && cJSON_AddNumberToObject(pM, "created", (double)a[i].created)
            && cJSON_AddStringToObject(pM, "owned_by", a[i].zOwnedBy);
  }
  openai_models_free(a, n);
  if( !ok ){ cJSON_Delete(p); p = NULL; }
  http_reply_json(r, 200, p, NULL);   /* NULL: a 500 */
  cJSON_Delete(p);
  return r->status;
}
