/*
** responder_offline.c — the built-in responder used when no --llm-url is set: instant,
** deterministic (the same conversation gets the same reply), clearly labelled, and
** streamed in word-sized pieces so clients exercise the same streaming path as with a
** real model. Calls libc and util (bounded buffer, UTF-8 prefix) only.
*/
#include "responder_offline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* FNV-1a of the last user message: picks one of the canned follow-ups. */
static unsigned pick(const char *z){
  unsigned h = 2166136261u;
  for(; z && *z; z++){ h ^= (unsigned char)*z; h *= 16777619u; }
  return h;
}

cv_rc responder_offline_reply(const struct cv_llm_request *pReq, cv_llm_delta_fn xDelta,
                              void *pCtx, char **pzReply){
  static const char *const azFollow[] = {
    "Tell me more about that.",
    "What would you like to do next?",
    "That is worth thinking about.",
    "I am listening.",
  };
  const char *zLast = "";
  const char *zName = pReq->zCharacterName && *pReq->zCharacterName ? pReq->zCharacterName : NULL;
  struct cv_buf b;
  size_t nQuote;
  int i, bSending = xDelta!=NULL;
  cv_rc rc = CV_OK;
  for(i=0; i<pReq->nMsg; i++){
    if( strcmp(pReq->aMsg[i].zRole, "user")==0 ) zLast = pReq->aMsg[i].zContent;
  }
  buf_init(&b, 1<<20);
  rc = buf_append(&b, "[offline responder] ", 20);
  if( rc==CV_OK && zName ) rc = buf_appendf(&b, "%s: ", zName);
  if( rc==CV_OK && pReq->bFirstTurn && pReq->zCharacterGreeting && *pReq->zCharacterGreeting ){
    rc = buf_appendf(&b, "%s ", pReq->zCharacterGreeting);
  }
  nQuote = util_utf8_prefix_len(zLast, 80);
  if( rc==CV_OK ) rc = buf_append(&b, "You said: \"", 11);
  if( rc==CV_OK ) rc = buf_append(&b, zLast, nQuote);
  if( rc==CV_OK ) rc = buf_appendf(&b, "%s\". %s", zLast[nQuote] ? "…" : "",
                                   azFollow[pick(zLast) % (sizeof azFollow/sizeof azFollow[0])]);
  if( rc ){ buf_free(&b); return rc; }
  if( bSending ){
    /* deliver word by word, as a model would */
    size_t i0 = 0;
    while( i0<b.n ){
      size_t i1 = i0;
      while( i1<b.n && b.a[i1]!=' ' ) i1++;
      if( i1<b.n ) i1++;
      if( xDelta(pCtx, b.a + i0, i1 - i0) ) break;
      i0 = i1;
    }
  }
  *pzReply = b.a;   /* malloc'd by the buffer: the caller frees it with free() */
  return CV_OK;
}
