/*
** complete.h — one assistant turn, shared by POST /api/chat and
** POST /api/v1/chat-threads/{id}/complete: save the user's message (its own committed
** write, so it survives whatever happens next), build the model request (system prompt
** from the character, scene and persona; the newest earlier messages that fit the
** configured budget), get the reply through llm_reply, streaming each piece through the
** caller's callback, then save the reply, even when the client has gone.
** The service never writes HTTP: the handler's callback does (the SSE writer).
** Implemented in complete.c.
*/
#ifndef CV_COMPLETE_H
#define CV_COMPLETE_H

#include "cv.h"
#include "llm.h"
#include <stdint.h>

struct cv_store;
struct cv_config;
struct cv_chat;
struct cv_thread;

/* Where a turn stopped, for the caller's choice of answer. */
enum cv_turn_stage {
  CV_TURN_SAVE_USER = 1,    /* saving the user's message failed: nothing was saved */
  CV_TURN_REPLY = 2,        /* the model failed (CV_UPSTREAM, CV_TIMEOUT): user message saved */
  CV_TURN_SAVE_REPLY = 3,   /* saving the reply failed: user message saved */
  CV_TURN_DONE = 4          /* everything saved */
};

/* The inputs of a character-chat turn. */
struct cv_chat_turn {
  int64_t userId;               /* the caller */
  const char *zChatId;          /* lower-case UUID: the chat to append to, created if new */
  int64_t characterId;          /* references of a new chat; 0 = none */
  int64_t sceneId;
  int64_t personaId;
  const char *zContent;         /* the user's message (valid UTF-8, validated length) */
};

/* One turn of a character chat. xDelta (may be NULL) receives each piece of the reply as it
** is produced; it returns non-zero once its client has gone, and the turn carries on.
** Returns CV_OK with *pOut the saved chat entry (clear with store_chat_clear) and *pzReply
** the reply (free with free()). Otherwise *peStage tells how far it got and:
**   CV_NOTFOUND (*pzMissing "Character"/"Scene"/"Persona"/"Chat"), CV_FORBIDDEN (another
**   user's chat_id), CV_UPSTREAM, CV_TIMEOUT, CV_NOMEM, database codes.
** *pzMissing is static or NULL. */
cv_rc complete_chat(struct cv_store *pS, const struct cv_config *pCfg,
                    const struct cv_chat_turn *pTurn, cv_llm_delta_fn xDelta, void *pCtx,
                    struct cv_chat *pOut, char **pzReply, const char **pzMissing,
                    enum cv_turn_stage *peStage);

/* One turn of an assistant thread (no system prompt). The thread's automatic title is set
** by the thread store on the first user message. Returns CV_OK with *pOut the thread after
** the reply (clear with store_thread_clear) and *pzReply (free()). Errors as complete_chat;
** CV_NOTFOUND / CV_FORBIDDEN for a missing or another user's thread. */
cv_rc complete_thread(struct cv_store *pS, const struct cv_config *pCfg, int64_t userId,
                      int64_t threadId, const char *zContent, cv_llm_delta_fn xDelta,
                      void *pCtx, struct cv_thread *pOut, char **pzReply,
                      enum cv_turn_stage *peStage);

#endif
