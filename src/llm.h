/*
** llm.h — where replies come from. Two responders behind one call:
**   - an OpenAI-compatible client (POST {url}/v1/chat/completions, "stream":true) that
**     relays each server-sent delta as soon as it arrives, over http or https, with an
**     overall deadline (and GET {url}/v1/models for the recording endpoint's model list);
**   - the offline responder (no --llm-url): deterministic, instant, labelled as offline
**     (its replies begin with "[offline responder]"), using the character's name and
**     greeting, so demos and tests need no network.
** Implemented in llm.c (client, deadlines), sse.c (stream decoders) and
** responder_offline.c.
** May call civetweb's client API (or sockets + OpenSSL) and cJSON; never the database.
*/
#ifndef CV_LLM_H
#define CV_LLM_H

#include "cv.h"
#include <stddef.h>

struct cv_llm_config {
  const char *zUrl;        /* base URL, e.g. http://127.0.0.1:11434 ; NULL = offline */
  const char *zModel;      /* model name sent upstream */
  const char *zKey;        /* bearer key, or NULL */
  int timeoutS;            /* overall deadline for one reply */
};

struct cv_llm_msg {
  const char *zRole;       /* "system", "user" or "assistant" */
  const char *zContent;
};

struct cv_llm_request {
  const char *zSystem;             /* system prompt (may be NULL) */
  const struct cv_llm_msg *aMsg;   /* earlier messages then the new user message, oldest first */
  int nMsg;
  const char *zCharacterName;      /* for the offline responder (may be NULL) */
  const char *zCharacterGreeting;  /* for the offline responder (may be NULL) */
  int bFirstTurn;                  /* the conversation's first user message: the offline
                                   ** responder greets with zCharacterGreeting */
};

/* Called with each piece of the reply as it arrives (z[0..n), not NUL-terminated).
** Return 0 to go on receiving deltas; non-zero when the client has gone: the reply is
** still read to its end (so it can be saved) but no more deltas are delivered. */
typedef int (*cv_llm_delta_fn)(void *pCtx, const char *z, size_t n);

/* Produce the reply to pReq. On CV_OK *pzReply is the whole reply (free with free()) and
** *pbOffline tells whether the offline responder answered. Errors: CV_UPSTREAM (connect
** failure, HTTP error status, malformed stream), CV_TIMEOUT (deadline passed), CV_NOMEM.
** xDelta may be NULL. */
cv_rc llm_reply(const struct cv_llm_config *pCfg, const struct cv_llm_request *pReq,
                cv_llm_delta_fn xDelta, void *pCtx, char **pzReply, int *pbOffline);

/* The upstream's model list: GET {url}/v1/models (pCfg->zUrl set), with the deadline of
** pCfg->timeoutS but at most 15 s. On CV_OK *pzJson is its 2xx body as it came (at most
** 1 MiB, NUL-terminated; free with free()), *pnJson its length: the caller parses it.
** Errors as llm_reply's: CV_UPSTREAM (an error status too), CV_TIMEOUT, CV_NOMEM. */
cv_rc llm_models(const struct cv_llm_config *pCfg, char **pzJson, size_t *pnJson);

#endif
