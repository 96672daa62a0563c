/*
** store_search.h — full-text search over one user's messages and titles, both chat models
** (schema version 6: the FTS5 table search_index, kept by triggers in the same transaction as
** every write, so an acknowledged change, truncation, deletion or retention drop is what the
** next search sees). Operation of the store interface (store.h); the SQLite backend's is
** sqlite_search in store_search.c.
*/
#ifndef CV_STORE_SEARCH_H
#define CV_STORE_SEARCH_H

#include "cv.h"
#include <stdint.h>

struct cv_read;

/* One phrase of a query: text to be found as consecutive words (a single word is a phrase
** of one), z[0..n) borrowed from the query; bPrefix: its last word may be a prefix. */
struct cv_phrase {
  const char *z;
  int n;
  int bPrefix;
};

/* A byte range [iStart, iEnd) of a text. */
struct cv_span {
  int iStart;
  int iEnd;
};

/* What to search. Every phrase must match (in any order). */
struct cv_search_req {
  const struct cv_phrase *aPhrase;
  int nPhrase;                   /* 0: nothing matches */
  int eKind;                     /* 0: both models; CV_CONV_THREAD or CV_CONV_CHAT: one */
  int eArchived;                 /* 0: threads not archived (and chats); 1: archived threads
                                 ** only; 2: any */
  const char *zTagKey;           /* NULL, or only threads with this tag (its folded key) */
  int limit;                     /* 1.. */
  int64_t offset;                /* >= 0 */
};

#define SEARCH_MAX_MATCHES 32    /* matches reported per hit */

/* One hit: a message or a title of the user's. */
struct cv_search_hit {
  int eKind;                     /* CV_CONV_THREAD or CV_CONV_CHAT */
  int64_t threadId;              /* the thread's id (threads) */
  char zChatId[40];              /* the chat's chat_id (chats) */
  char *zTitle;                  /* the conversation's title (malloc'd) */
  int64_t index;                 /* the message's index; -1: the title matched */
  char zRole[16];                /* the message's role ("" for a title) */
  char *zText;                   /* the text that matched: the message's content or the title
                                 ** (malloc'd) */
  int nText;                     /* its length in bytes */
  struct cv_span aMatch[SEARCH_MAX_MATCHES];  /* where the query's phrases are in zText, in
                                 ** order: the first match and those within 1,000 bytes after it */
  int nMatch;
  char zUpdatedAt[CV_TS_LEN+1];  /* the conversation's last change */
};

/* Free an array from store_search. */
void store_search_free(struct cv_search_hit *a, int n);

/* The hits of pReq among user userId's messages and titles, read in snapshot pRd: best
** matches first (bm25), ties newest conversation first, then newest message; pReq->limit
** hits from pReq->offset into *paHit (malloc'd; free with store_search_free) and *pnHit,
** and in *pnTotal the number of all hits. No other user's message is ever a hit: their
** index terms are not this user's (store_fts.h), and each hit's owner is checked again. */
cv_rc store_search(struct cv_read *pRd, int64_t userId, const struct cv_search_req *pReq,
                   struct cv_search_hit **paHit, int *pnHit, int64_t *pnTotal);

#endif /* CV_STORE_SEARCH_H */
