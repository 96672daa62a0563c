/*
** responder_offline.h — the built-in responder used when no --llm-url is set
** (responder_offline.c). Only llm.c calls it; everything else goes through llm_reply().
*/
#ifndef CV_RESPONDER_OFFLINE_H
#define CV_RESPONDER_OFFLINE_H

#include "llm.h"

/* Produce the offline reply to pReq: deterministic, instant, beginning with
** "[offline responder]", with the character's name and (on the first user message) its
** greeting. Each word goes to xDelta (may be NULL) as it would from a model; a non-zero
** return from xDelta stops the pieces, not the reply. On CV_OK *pzReply is the whole reply
** (free with free()); otherwise CV_NOMEM and *pzReply is left alone. */
cv_rc responder_offline_reply(const struct cv_llm_request *pReq, cv_llm_delta_fn xDelta,
                              void *pCtx, char **pzReply);

#endif /* CV_RESPONDER_OFFLINE_H */
