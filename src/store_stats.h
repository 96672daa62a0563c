/*
** store_stats.h — a picture of one user's history (GET /api/v1/stats): totals read from
** counters and headers (never from messages) and messages written per UTC day, from the
** `activity` table that triggers of schema.sql keep (version 5). Operation of the store
** interface (store.h); the SQLite backend's is sqlite_users_stats in store_stats.c.
*/
#ifndef CV_STORE_STATS_H
#define CV_STORE_STATS_H

#include "cv.h"
#include <stdint.h>

struct cv_store;

#define CV_STATS_TOP 5                /* top_characters */

/* Messages written on one UTC day. */
struct cv_stats_day {
  char zDay[11];                      /* YYYY-MM-DD */
  int64_t nMessages;
};

/* One character of the user's chats, by its copied name. */
struct cv_stats_character {
  char *zName;                        /* character_name (malloc'd) */
  int64_t nChats;                     /* the user's chats with that name */
  int64_t nMessages;                  /* their messages */
};

struct cv_stats {
  int64_t nThreads;                   /* users.thread_count */
  int64_t nChats;                     /* the user's chats */
  int64_t nMessages;                  /* message_count summed over both */
  int64_t nCharactersUsed;            /* distinct non-NULL character names of the chats */
  struct cv_stats_day *aDay;          /* days with activity in the window, oldest first
                                      ** (malloc'd; NULL when nDay is 0) */
  int nDay;
  struct cv_stats_character aTop[CV_STATS_TOP]; /* by messages desc, chats desc, name */
  int nTop;
};

/* Free what *p holds and zero it. NULL is ok. */
void store_stats_clear(struct cv_stats *p);

/* userId's statistics, read in one snapshot; aDay holds the days from zFirstDay through
** zLastDay (YYYY-MM-DD, inclusive) that have activity (the caller fills the others with 0).
** CV_NOTFOUND when there is no such user. */
cv_rc store_users_stats(struct cv_store *pS, int64_t userId, const char *zFirstDay,
                        const char *zLastDay, struct cv_stats *pOut);

#endif /* CV_STORE_STATS_H */
