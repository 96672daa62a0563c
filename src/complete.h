/*
** complete.h — one assistant turn, the same service for POST /api/chat (character chats)
** and POST /api/v1/chat-threads/{id}/complete (threads): save the user's message (its own
** committed write, so it survives whatever happens next), build the model request (the
** kind's system prompt; the newest earlier messages that fit the configured budget, read
** from the conversation's tail segments only), get the reply through llm_reply, streaming
** each piece through the caller's callback, then save the reply, even when the client has
** gone. What differs between the kinds is a table of hooks in complete.c (saving a message,
** creating the conversation, the system prompt); the order of a turn is written once.
** The service never writes HTTP (the handler's callback does) and never renders: the handler
** reads the saved conversation through a snapshot afterwards. Implemented in complete.c.
*/
#ifndef CV_COMPLETE_H
#define CV_COMPLETE_H

#include "cv.h"
#include "llm.h"
#include <stdint.h>

struct cv_store;
struct cv_config;

/* Where a turn stopped, for the caller's choice of answer. */
enum cv_turn_stage {
  CV_TURN_SAVE_USER = 1,    /* saving the user's message failed: nothing was saved */
  CV_TURN_REPLY = 2,        /* the model failed (CV_UPSTREAM, CV_TIMEOUT): user message saved */
  CV_TURN_SAVE_REPLY = 3,   /* saving the reply failed: user message saved */
  CV_TURN_DONE = 4          /* everything saved */
};

/* A turn: inputs, then what the turn found out. */
struct cv_turn {
  int eKind;                    /* CV_CONV_THREAD or CV_CONV_CHAT (store_conv.h) */
  int64_t userId;               /* the caller */
  int64_t threadId;             /* thread turns: the thread */
  const char *zChatId;          /* chat turns: lower-case UUID, created when new */
  int64_t characterId;          /* chat turns: references of a new chat; 0 = none */
  int64_t sceneId;
  int64_t personaId;
  const char *zContent;         /* the user's message (valid UTF-8, validated length);
                                ** NULL with bRegenerate */
  int bRegenerate;              /* thread turns: instead of a new user message, remove the
                                ** replies after the last user message and answer it again */
  /* OUT */
  int64_t convId;               /* the conversation (thread id, or the chat's row id) */
  char *zReply;                 /* the reply on CV_OK (free with complete_turn_clear) */
  const char *zMissing;         /* CV_NOTFOUND: "Character"/"Scene"/"Persona"/"Chat" (static) */
  enum cv_turn_stage eStage;    /* how far it got */
};

/* Run one turn. xDelta (may be NULL) receives each piece of the reply as it is produced; it
** returns non-zero once its client has gone, and the turn carries on. Returns CV_OK when the
** reply is saved; otherwise t->eStage tells how far it got and the code is CV_NOTFOUND
** (t->zMissing), CV_FORBIDDEN (another user's thread or chat_id), CV_UPSTREAM, CV_TIMEOUT,
** CV_NOMEM or a database code; with bRegenerate also CV_INVALID (no user message to answer).
** A regenerate's step 1 is its own committed write (the old replies are gone even when the
** model then fails), as a turn's user message is. */
cv_rc complete_turn(struct cv_store *pS, const struct cv_config *pCfg, struct cv_turn *t,
                    cv_llm_delta_fn xDelta, void *pCtx);

/* The model client's settings from the server's configuration (--llm-url, --llm-model,
** --llm-key, --llm-timeout); pL's strings are borrowed from pCfg. Also used by the
** OpenAI-compatible endpoint (openai_rec.c), which sends its own messages. */
void complete_llm_config(const struct cv_config *pCfg, struct cv_llm_config *pL);

/* Free what a turn allocated (t->zReply). */
void complete_turn_clear(struct cv_turn *t);

#endif
