/*
** auth.h — passwords (Argon2id through libsodium, with a bounded number of hashes at
** once), bearer tokens (32 random bytes, base64url, stored only as a BLAKE2b-256 hash),
** request authentication and login throttling. May call libsodium, ratelimit and the
** user and token stores.
*/
#ifndef CV_AUTH_H
#define CV_AUTH_H

#include "cv.h"
#include <stdint.h>

struct cv_store;
struct cv_user;

#define CV_TOKEN_CHARS 43          /* base64url of 32 bytes, no padding */
#define CV_PWHASH_MAX 128          /* >= crypto_pwhash_STRBYTES */

/* Initialise libsodium and, when bLogins (serve), the dummy hash that unknown emails are
** checked against (one Argon2id hash, ~0.1 s: the subcommands, which verify no password,
** skip it). auth_login must not be called after auth_init(0). */
cv_rc auth_init(int bLogins);

/* Argon2id hash of zPassword into zOut (CV_PWHASH_MAX bytes). */
cv_rc auth_hash_password(const char *zPassword, char *zOut);

/* Check credentials: CV_OK with *pUser filled (clear with store_user_clear), or
** CV_UNAUTHORIZED for an unknown email, a user without password or a wrong password, all
** taking the same time (one Argon2id verification each); CV_RATELIMITED with *pRetryS
** (seconds) when the throttle refuses the attempt before verifying it (ratelimit.c: this
** email from this address failed too often, or this email or this address is in a delay
** that the pair, not known-good, must wait out). zClient (the client address) may be NULL. */
cv_rc auth_login(struct cv_store *pS, const char *zEmail, const char *zPassword,
                 const char *zClient, struct cv_user *pUser, int *pRetryS);

/* Registration throttle, before the Argon2id hash of a new account: CV_OK (the attempt is
** counted on zClient's address), or CV_RATELIMITED with *pRetryS seconds. */
cv_rc auth_signup_check(const char *zClient, int *pRetryS);

/* Create a token for userId living ttlMs; zToken receives CV_TOKEN_CHARS+1 bytes. */
cv_rc auth_issue_token(struct cv_store *pS, int64_t userId, int64_t ttlMs, char *zToken);

/* Authenticate an Authorization header value ("Bearer <token>"): CV_OK with *pUserId and
** aHash (the token's hash) set, CV_UNAUTHORIZED when missing/malformed/unknown/expired. */
cv_rc auth_check_bearer(struct cv_store *pS, const char *zHeader, int64_t *pUserId,
                        unsigned char aHash[32]);

/* A new share link token (contract v2, "Share links"): 32 random bytes as base64url into
** zToken (CV_TOKEN_CHARS+1 bytes) and its BLAKE2b-256 hash, the only thing stored. */
void auth_share_token(char *zToken, unsigned char aHash[32]);

/* The hash of a share link token as presented (a path segment): 1 with aHash set when z is
** CV_TOKEN_CHARS base64url characters; 0 otherwise (no such link can exist). The lookup is by
** the hash, in an index: nothing compares tokens byte by byte. */
int auth_share_hash(const char *z, unsigned char aHash[32]);

#endif
