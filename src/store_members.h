/*
** store_members.h — the members of a thread (contract v2, "Sharing with other accounts"):
** accounts the owner shared one of its threads with, by email. A member may read the thread
** (store_threads_view, store_threads_list_shared in store_threads.h) and never change it;
** the owner adds and removes members, a member may remove itself (leave). Deleting the
** thread or either account removes the membership (foreign keys, schema version 8).
** Operations of the store interface (store.h); the SQLite backend's are sqlite_* in
** store_members.c.
*/
#ifndef CV_STORE_MEMBERS_H
#define CV_STORE_MEMBERS_H

#include "cv.h"
#include <stdint.h>

struct cv_store;
struct cv_read;

/* One member of a thread. */
struct cv_member {
  int64_t userId;                /* users.id of the member */
  char *zEmail;                  /* its email as registered (malloc'd) */
  char *zDisplayName;            /* its display_name (malloc'd), NULL when none */
  char zAddedAt[CV_TS_LEN+1];    /* when it was added */
};

/* Free the strings of *p and zero it. NULL is ok. */
void store_member_clear(struct cv_member *p);
/* Clear and free an array from store_members_list. NULL is ok. */
void store_members_free(struct cv_member *a, int n);

/* Share thread id of ownerId with the account whose email is zEmail (compared ignoring
** case), in one transaction. *pbAdded (not NULL) gets 1 when the membership is new, 0 when
** it existed (then nothing changes). *pOut gets the member (store_member_clear).
** CV_NOTFOUND: no such thread, or no account with that email (*pzMissing, not NULL, gets
** "Thread" or "Account": the caller may answer both alike); CV_FORBIDDEN: the thread is
** another user's (also when ownerId is a member of it; checked before the email, so a
** stranger learns nothing of accounts); CV_INVALID: zEmail is the owner's own. */
cv_rc store_members_add(struct cv_store *pS, int64_t ownerId, int64_t id, const char *zEmail,
                        struct cv_member *pOut, int *pbAdded, const char **pzMissing);

/* The members of thread id, oldest membership first (ties: lower user id first), read in
** snapshot pRd, for userId, its owner or one of its members. *paOut is malloc'd
** (store_members_free; NULL when *pnOut is 0). CV_NOTFOUND: no such thread; CV_FORBIDDEN:
** userId is neither owner nor member. */
cv_rc store_members_list(struct cv_read *pRd, int64_t userId, int64_t id,
                         struct cv_member **paOut, int *pnOut);

/* End the membership of memberId in thread id, asked by userId: the owner removes anyone, a
** member only itself (leaving). CV_NOTFOUND: no such thread (*pzMissing "Thread"), or the
** owner named an account that is not a member ("Member"); CV_FORBIDDEN: userId is neither
** owner nor member, or a member named another account. */
cv_rc store_members_remove(struct cv_store *pS, int64_t userId, int64_t id, int64_t memberId,
                           const char **pzMissing);

#endif /* CV_STORE_MEMBERS_H */
