/*
** store_tokens.h — bearer tokens, stored only as their BLAKE2b-256 hash, with expiry and
** last use. Operations of the store
** interface (store.h); the SQLite backend's are sqlite_* in store_tokens.c.
*/
#ifndef CV_STORE_TOKENS_H
#define CV_STORE_TOKENS_H

#include "cv.h"
#include <stdint.h>

struct cv_store;
#define CV_TOKEN_HASH_LEN 32

/* Record a new token for userId. */
cv_rc store_tokens_insert(struct cv_store *pS, int64_t userId,
                          const unsigned char aHash[CV_TOKEN_HASH_LEN],
                          int64_t nowMs, int64_t expiresMs);

/* The user of a live token: CV_NOTFOUND when unknown, revoked or expired at nowMs.
** *pLastUsedMs receives the token's last recorded use. */
cv_rc store_tokens_lookup(struct cv_store *pS, const unsigned char aHash[CV_TOKEN_HASH_LEN],
                          int64_t nowMs, int64_t *pUserId, int64_t *pLastUsedMs);

/* Record a use of the token (callers do it at most once a minute per token). */
cv_rc store_tokens_touch(struct cv_store *pS, const unsigned char aHash[CV_TOKEN_HASH_LEN],
                         int64_t nowMs);

/* Revoke one token (logout); CV_OK even when it was already gone. */
cv_rc store_tokens_revoke(struct cv_store *pS, const unsigned char aHash[CV_TOKEN_HASH_LEN]);

/* Revoke every token of userId; *pnRevoked receives how many there were (0 on error). */
cv_rc store_tokens_revoke_user(struct cv_store *pS, int64_t userId, int *pnRevoked);

/* Delete every expired token (serve calls it periodically: server.c). */
cv_rc store_tokens_purge(struct cv_store *pS, int64_t nowMs);

#endif
