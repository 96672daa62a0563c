/*
** store_shares.h — share links (contract v2, "Share links"): a read-only snapshot of a
** thread (its title and messages when the link was made), readable by anyone who holds the
** link's token. Tokens are never stored: a link is found by the BLAKE2b-256 hash of its token
** (auth_share_token), looked up by equality in a unique index. The owner lists its links and
** revokes one (the row and its copy are deleted); deleting the thread or the account deletes
** its links (foreign keys, schema version 10). Operations of the store interface (store.h);
** the SQLite backend's are sqlite_* in store_shares.c.
*/
#ifndef CV_STORE_SHARES_H
#define CV_STORE_SHARES_H

#include "cv.h"
#include <stdint.h>

struct cv_store;
struct cv_read;
struct cv_sink;

#define CV_SHARE_HASH_LEN 32
#define CV_SHARES_MAX 100        /* links per account, expired ones included: each holds a
                                 ** copy of a thread, which --max-user-bytes does not count */

/* One share link, as its owner lists it or as its holder reads it. */
struct cv_share {
  int64_t id;                    /* share_links.id: names the link in the owner's list */
  int64_t threadId;              /* the thread it was made from */
  char *zTitle;                  /* the thread's title at the time (malloc'd) */
  int64_t nMessages;             /* messages in the snapshot */
  char zCreatedAt[CV_TS_LEN+1];  /* when it was made (the snapshot's time) */
  int64_t expiresMs;             /* when it stops working (Unix ms); 0: never */
};

/* Free the strings of *p and zero it. NULL is ok. */
void store_share_clear(struct cv_share *p);
/* Clear and free an array from store_shares_list. NULL is ok. */
void store_shares_free(struct cv_share *a, int n);

/* Make a link to thread id of userId, whose token hashes to aHash, living until expiresMs
** (0: never): the thread's title and messages are copied into it now, in one transaction.
** *pOut gets the link (store_share_clear). CV_NOTFOUND: no such thread; CV_FORBIDDEN: the
** thread is another user's (a member's included); CV_CONFLICT: userId has CV_SHARES_MAX links;
** CV_QUOTA: its links' copies would hold more than nMaxBytes message bytes (0: no cap). */
cv_rc store_shares_create(struct cv_store *pS, int64_t userId, int64_t id,
                          const unsigned char aHash[CV_SHARE_HASH_LEN], int64_t nowMs,
                          int64_t expiresMs, int64_t nMaxBytes, struct cv_share *pOut);

/* The links of userId, newest first, expired ones included, read in snapshot pRd. *paOut is
** malloc'd (store_shares_free; NULL when *pnOut is 0). */
cv_rc store_shares_list(struct cv_read *pRd, int64_t userId, struct cv_share **paOut,
                        int *pnOut);

/* The link whose token hashes to aHash and has not expired at nowMs, read in snapshot pRd:
** *pOut (store_share_clear). CV_NOTFOUND when there is none (unknown, expired and revoked
** are one answer). */
cv_rc store_shares_get(struct cv_read *pRd, const unsigned char aHash[CV_SHARE_HASH_LEN],
                       int64_t nowMs, struct cv_share *pOut);

/* The snapshot's messages of link linkId as JSON text ([{"role","content"}...]), read in the
** same snapshot pRd as the store_shares_get that found it. */
cv_rc store_shares_messages(struct cv_read *pRd, int64_t linkId, struct cv_sink *pOut);

/* Revoke (delete) a link of userId: the one whose token hashes to aHash, or when aHash is
** NULL the one with id linkId. CV_NOTFOUND when userId has no such link (another user's link
** is not found either: it is never revoked). */
cv_rc store_shares_revoke(struct cv_store *pS, int64_t userId,
                          const unsigned char *aHash, int64_t linkId);

/* Delete the links that expired before beforeMs (their rows and copies), for every user: an
** expired link answers 404 like a revoked one, and stays in its owner's list (and counts
** toward CV_SHARES_MAX) until then. *pnPurged (may be NULL) gets how many went. */
cv_rc store_shares_purge(struct cv_store *pS, int64_t beforeMs, int64_t *pnPurged);

#endif /* CV_STORE_SHARES_H */
