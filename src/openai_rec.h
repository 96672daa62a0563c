/*
** openai_rec.h — the OpenAI-compatible recording endpoint's service (POST /v1/chat/completions,
** contract v2): the request reader (a pure function: body text -> struct or error, fuzzed by
** tests/fuzz/fuzz_openai_request.c), the conversation fingerprint, and one recorded turn:
** match the request's messages to the caller's thread they extend (or the one named by
** X-Chatvault-Thread), append only what is new, get the reply (llm.c, with the request's own
** messages, system ones included) and append it with the new fingerprint.
** Never writes HTTP (h_openai.c does). Implemented in openai_rec.c.
*/
#ifndef CV_OPENAI_REC_H
#define CV_OPENAI_REC_H

#include "cv.h"
#include "llm.h"
#include "store_openai.h"
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

struct cv_store;
struct cv_config;

#define OAI_MAX_MESSAGES     2048   /* messages in one request */
#define OAI_MODEL_MAX_CHARS  256

/* One message of a request as kept: role "system" (system and developer), "user" or
** "assistant"; tool/function messages and assistant messages without text are dropped. */
struct oai_msg {
  const char *zRole;             /* static string */
  char *zContent;                /* malloc'd; text parts joined with "\n" */
};

struct oai_request {
  struct oai_msg *aMsg;          /* malloc'd, in request order */
  int nMsg;
  int nConv;                     /* of them, user and assistant messages (>= 1) */
  char *zModel;                  /* malloc'd, or NULL when not given */
  int bStream;                   /* "stream": true */
  int bUsage;                    /* "stream_options": {"include_usage": true} */
};

/* Why a request was refused: OpenAI's error message and param (e.g. "messages[2].role"). */
struct oai_error {
  char zMessage[256];
  char zParam[64];               /* "" when no single parameter is at fault */
};

/* Read the request body a[0..n) (any bytes): the JSON rules of val_parse_json (UTF-8, no
** NUL, depth, no duplicate keys), then OpenAI's chat request: "messages" (1..OAI_MAX_MESSAGES
** objects; role system/developer/user/assistant/tool/function; content a string or an array
** of {"type":"text","text":string} parts, at most CV_MESSAGE_MAX_CHARS characters; the last
** user-or-assistant message must be a user's), "model" (string), "stream" (bool),
** "stream_options.include_usage" (bool), "n" (1 only); other keys are ignored.
** CV_OK: *pOut filled (free with openai_request_free). CV_INVALID: *pErr says why. CV_NOMEM. */
cv_rc openai_request_parse(const char *a, size_t n, struct oai_request *pOut,
                           struct oai_error *pErr);
void openai_request_free(struct oai_request *p);

/* The fingerprint of a message sequence: BLAKE2b-256 keyed with BLAKE2b-256 of a fixed label
** and the user id (so equal conversations of two users never share one), over each message's
** role and content, each preceded by its length as 8 little-endian bytes. */
struct oai_fp { crypto_generichash_state st; };
void openai_fp_init(struct oai_fp *f, int64_t userId);
void openai_fp_add(struct oai_fp *f, const char *zRole, const char *zContent);
void openai_fp_final(const struct oai_fp *f, unsigned char aOut[CV_FP_LEN]);

/* Where a turn stopped. */
enum oai_stage {
  OAI_MATCH = 1,                 /* matching or storing the request's messages failed: none stored */
  OAI_REPLY = 2,                 /* the model failed: the request's messages are stored */
  OAI_SAVE_REPLY = 3,            /* saving the reply failed */
  OAI_DONE = 4
};

struct oai_turn {
  int64_t userId;                /* IN: the caller */
  int64_t threadId;              /* IN: X-Chatvault-Thread, or 0; OUT: the thread */
  const struct oai_request *q;   /* IN (borrowed) */
  char *zReply;                  /* OUT on CV_OK (free with openai_turn_clear) */
  int bNewThread;                /* OUT: the thread was created by this turn */
  int nStored;                   /* OUT: messages of the request appended (without the reply) */
  enum oai_stage eStage;         /* OUT */
};

/* Run one turn. xDelta (may be NULL) gets each piece of the reply; t->threadId is set before
** the first piece. Returns CV_OK when the reply is saved. Errors: CV_NOTFOUND (the named
** thread is unknown or another user's), CV_CONFLICT (the request's messages do not extend the
** named thread), CV_QUOTA, CV_UPSTREAM, CV_TIMEOUT, CV_NOMEM, database codes. */
cv_rc openai_rec_turn(struct cv_store *pS, const struct cv_config *pCfg, struct oai_turn *t,
                      cv_llm_delta_fn xDelta, void *pCtx);
void openai_turn_clear(struct oai_turn *t);

/* The model a turn asks for and its response reports: the request's "model"; else offline
** "chatvault-offline", with --llm-url --llm-model or "default". Borrowed. */
const char *openai_model_name(const struct cv_config *pCfg, const struct oai_request *q);

/* One model of GET /v1/models. */
struct oai_model {
  char *zId;                     /* malloc'd, valid UTF-8, 1..OAI_MODEL_MAX_CHARS bytes */
  char *zOwnedBy;                /* malloc'd */
  int64_t created;               /* unix seconds, 0 when the upstream gave none */
};

#define OAI_MODELS_MAX 1000      /* models kept of an upstream's list */

/* The models this server answers with. Offline: one, "chatvault-offline" (owned by
** "chatvault"). With --llm-url: the upstream's own list (GET {url}/v1/models, llm_models):
** the entries of its "data" array whose "id" is a string of 1..OAI_MODEL_MAX_CHARS bytes of
** valid UTF-8, in its order, at most OAI_MODELS_MAX, "owned_by" kept when it is such a string
** (else "upstream"), "created" when a non-negative number. CV_OK: *paOut (free with
** openai_models_free) and *pnOut. CV_UPSTREAM (also: the answer is not such a list),
** CV_TIMEOUT, CV_NOMEM. */
cv_rc openai_models(const struct cv_config *pCfg, struct oai_model **paOut, int *pnOut);
void openai_models_free(struct oai_model *a, int n);

#endif /* CV_OPENAI_REC_H */
