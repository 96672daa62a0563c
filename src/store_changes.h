/*
** store_changes.h — the change log of a user's data (contract v2, "Sync across devices"):
** what GET /api/v1/changes replays and GET /api/v1/events streams. The log is kept by the
** schema's triggers (version 11) in the same transaction as every change, whoever writes;
** it is compacted to one record per object (its latest change), each with a sequence number
** `seq` that is never given twice and grows in commit order. A cursor is a seq: the changes
** after it are the records with a greater seq. Tombstones (deletions) are purged after
** CV_CHANGES_KEEP_MS; the highest seq purged is the horizon: a cursor below it may have
** missed a deletion and must start over. Operations of the store interface (store.h); the
** SQLite backend's are sqlite_* in store_changes.c.
*/
#ifndef CV_STORE_CHANGES_H
#define CV_STORE_CHANGES_H

#include "cv.h"
#include <stdint.h>

struct cv_store;
struct cv_read;

#define CV_CHANGES_LIMIT_MAX 1000                     /* records per page, at most */
#define CV_CHANGES_KEEP_MS   (90LL*24*3600*1000)      /* tombstones are kept 90 days */

/* What changed: the value of changes.kind. */
enum cv_change_kind {
  CV_CHANGE_THREAD = 1,
  CV_CHANGE_CHAT = 2,
  CV_CHANGE_PERSONA = 3,
  CV_CHANGE_CHARACTER = 4
};

/* One record of the log. */
struct cv_change {
  int64_t seq;                   /* its place in the log (> 0) */
  int kind;                      /* enum cv_change_kind */
  int64_t id;                    /* the thread's, persona's or character's id (chats: the
                                 ** conversation id, never shown: zChatId is the chat's id) */
  char zChatId[CV_UUID_LEN+1];   /* chats: the chat_id; "" otherwise */
  int bDelete;                   /* 1: a tombstone; 0: created or changed */
  int64_t atMs;                  /* when (Unix ms) */
};

/* The log's bounds and its cursors' key, read in snapshot pRd: *pHorizon the highest seq
** purged (0: none), *pHead the highest seq ever given (0: none yet), aKey the key of the
** cursors (changecursor.h; made with the log, never changed). A cursor c is good when
** horizon <= c <= head. CV_DB when the key is missing or malformed. */
cv_rc store_changes_bounds(struct cv_read *pRd, int64_t *pHorizon, int64_t *pHead,
                           unsigned char aKey[16]);

/* The records of userId with seq > since, oldest first, at most nLimit (1..
** CV_CHANGES_LIMIT_MAX) into aOut (room for nLimit), read in snapshot pRd. *pn gets how many,
** *pbMore 1 when more follow. */
cv_rc store_changes_list(struct cv_read *pRd, int64_t userId, int64_t since, int nLimit,
                         struct cv_change *aOut, int *pn, int *pbMore);

/* For the events hub: the users of the records with seq > since, in seq order, at most nMax
** of them (a user may repeat) into aUser; *pLast gets the seq of the last record read (since
** when none). Read in snapshot pRd. */
cv_rc store_changes_users_after(struct cv_read *pRd, int64_t since, int64_t *aUser, int nMax,
                                int *pn, int64_t *pLast);

/* Delete the tombstones older than beforeMs and raise the horizon to the highest seq
** deleted, in one transaction. *pnPurged (may be NULL) gets how many went. */
cv_rc store_changes_purge(struct cv_store *pS, int64_t beforeMs, int64_t *pnPurged);

/* Call fn(pArg) on the store's writer thread after each transaction that committed (NULL
** fn: none). fn must be quick and must not use the store. Set before writes start. */
typedef void (*cv_commit_fn)(void *pArg);
cv_rc store_on_commit(struct cv_store *pS, cv_commit_fn fn, void *pArg);

#endif /* CV_STORE_CHANGES_H */
