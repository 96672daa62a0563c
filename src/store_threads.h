/*
** store_threads.h — assistant threads: the thread rules (client_id import idempotency, the
** "New chat" default title, the count kept for X-Total-Count) on top of the one conversation
** store (store_conv.h), whose segments hold the messages. Message arrays pass in as JSON text
** that the caller has validated and normalized; they come out through a read snapshot
** (store.h), never as one copied string. Operations of the store
** interface (store.h); the SQLite backend's are sqlite_* in store_threads.c.
*/
#ifndef CV_STORE_THREADS_H
#define CV_STORE_THREADS_H

#include "cv.h"
#include "tags.h"
#include <stdint.h>

struct cv_store;
struct cv_page;

struct cv_thread {
  int64_t id;                    /* chat_threads.id */
  int64_t userId;                /* owner */
  char *zTitle;                  /* title */
  int64_t nMessages;             /* message_count */
  char zCreatedAt[CV_TS_LEN+1];
  char zUpdatedAt[CV_TS_LEN+1];
  int bPinned;                   /* pinned (0/1) */
  int bArchived;                 /* archived (0/1) */
  char *zTags;                   /* tags: a JSON array of strings, sorted, as stored (NULL: []) */
  int bShared;                   /* read by a member, not the owner (store_threads_view,
                                 ** store_threads_list_shared): rendered with `owner` */
  char *zOwnerName;              /* with bShared: the owner's display_name (NULL: none) */
};

/* Free the strings of *p and zero it. NULL is ok. */
void store_thread_clear(struct cv_thread *p);
/* Clear and free an array from store_threads_list. */
void store_threads_free_list(struct cv_thread *a, int n);

/* Create a thread. zTitle NULL: the default title, which is then replaced by the automatic
** title of the first user message in zMessages, if any. zMessages NULL means "[]".
** nMessages is the array's length. Fills *pOut (the header; its messages are zMessages). */
cv_rc store_threads_create(struct cv_store *pS, int64_t userId, const char *zTitle,
                           const char *zMessages, int64_t nMessages, struct cv_thread *pOut);

/* The header of one thread, read in snapshot pRd (its messages: store_read_messages on the
** same snapshot). CV_NOTFOUND: no such id; CV_FORBIDDEN: another user's. */
struct cv_read;
cv_rc store_threads_get(struct cv_read *pRd, int64_t userId, int64_t id, struct cv_thread *pOut);

/* A filter of the thread list. */
enum cv_filter {
  CV_FILTER_ANY = 0,             /* no filter */
  CV_FILTER_NO = 1,              /* only where the flag is 0 */
  CV_FILTER_YES = 2              /* only where the flag is 1 */
};
struct cv_thread_filter {
  enum cv_filter eArchived;      /* the list's default is CV_FILTER_NO (the handler's) */
  enum cv_filter ePinned;
  const char *zTagKey;           /* only threads with this tag key (tags_fold), or NULL */
};

/* Summaries (no messages) of userId's threads that pass *pF, newest updated_at first, ties
** higher id first: pPage->limit (1..CV_LIST_MAX) of them from pPage->offset, or after the
** keyset position (updated_at, id) in pPage; pPage->bMore tells whether more follow. Count
** and page come from one snapshot. *pnTotal = the threads that pass *pF: from the users row
** (thread_count, archived_count) unless pinned or a tag filters, which count the pinned
** index or the tag's rows. Query plans (EXPLAIN QUERY PLAN, docs/api.md): without pinned
** or tag filters a SEARCH of a covering index with no temporary b-tree, also after a
** cursor. *paOut is malloc'd (free with store_threads_free_list; NULL when *pnOut is 0). */
cv_rc store_threads_list(struct cv_store *pS, int64_t userId, const struct cv_thread_filter *pF,
                         struct cv_page *pPage, struct cv_thread **paOut, int *pnOut,
                         int64_t *pnTotal);

/* What a PUT organizes: each part is kept when not given. Never changes updated_at. */
struct cv_thread_org {
  int bPinned;                   /* -1 keep, 0 or 1 */
  int bArchived;                 /* -1 keep, 0 or 1 */
  const struct cv_tagset *pTags; /* NULL keep; else the thread's new tags (distinct keys,
                                 ** sorted: tags_set_sort). A key the user already has on
                                 ** another thread takes that thread's spelling. */
};

/* Replace the title and/or the messages (NULL: keep; either given makes updated_at now)
** and organize (pOrg NULL: nothing), all in one transaction. *pOut gets the header after
** the change. Errors as store_threads_get. */
cv_rc store_threads_update(struct cv_store *pS, int64_t userId, int64_t id,
                           const char *zTitle, const char *zMessages, int64_t nMessages,
                           const struct cv_thread_org *pOrg, struct cv_thread *pOut);

/* Delete. Errors as store_threads_get. */
cv_rc store_threads_delete(struct cv_store *pS, int64_t userId, int64_t id);

/* The result of an append. */
struct cv_append {
  int64_t index;                 /* 0-based position of the new message */
  char *zTitle;                  /* the thread's title after the append (malloc'd) */
  char zUpdatedAt[CV_TS_LEN+1];
};
void store_append_clear(struct cv_append *p);

/* Append one message (zMessage: the JSON text of a validated message object) in one
** statement: concurrent appends never lose a message. Names the thread when it still has
** the default title. Errors as store_threads_get. */
cv_rc store_threads_append(struct cv_store *pS, int64_t userId, int64_t id,
                           const char *zMessage, struct cv_append *pOut);

struct cv_tagset;

/* One thread of an import. In: every field but the outputs (zTitle, zMessages, times may be
** NULL; times already in the contract's format). Out: id and bImported (0: it existed). */
struct cv_import_item {
  const char *zClientId;
  const char *zTitle;
  const char *zMessages;
  int64_t nMessages;
  const char *zCreatedAt;
  const char *zUpdatedAt;
  int bPinned, bArchived;        /* organize a thread the import writes (0: as a new one) */
  const struct cv_tagset *pTags; /* its tags, or NULL */
  int64_t id;                    /* OUT */
  int bImported;                 /* OUT */
};

/* Import threads, idempotent per (user, client_id), all in one transaction. */
cv_rc store_threads_import(struct cv_store *pS, int64_t userId,
                           struct cv_import_item *aItem, int nItem);

/* A tag of the user's threads and how many threads carry it (archived ones included). */
struct cv_tag_count {
  char *zTag;                    /* its spelling (malloc'd) */
  int64_t n;                     /* threads */
};
/* Free an array from store_threads_tags. NULL is ok. */
void store_tag_counts_free(struct cv_tag_count *a, int n);

/* Every tag of userId's threads with its count, ordered by key (tags_fold). *paOut is
** malloc'd (store_tag_counts_free; NULL when *pnOut is 0). */
cv_rc store_threads_tags(struct cv_store *pS, int64_t userId, struct cv_tag_count **paOut,
                         int *pnOut);

/* The header of thread id as userId may read it, in snapshot pRd: userId owns it or is one
** of its members (thread_members), decided by one query. *pbOwner (not NULL) gets 1 for the
** owner; for a member 0, and *pOut has bShared set and the owner's display name. Handlers
** read with this and refuse writes themselves, or leave them to the write operations, which
** accept only the owner. CV_NOTFOUND: no such id; CV_FORBIDDEN: neither owner nor member. */
cv_rc store_threads_view(struct cv_read *pRd, int64_t userId, int64_t id, struct cv_thread *pOut,
                         int *pbOwner);

/* Summaries of the threads shared with userId (it is a member of them), each with bShared
** and the owner's display name, newest updated_at first (ties: higher id first), paged as
** store_threads_list (offset, or after the keyset position in pPage; pPage->bMore). No
** filters: the owner's pinned/archived/tags are shown, never used to hide. *pnTotal = all of
** them; count and page from one snapshot. *paOut as store_threads_list's. */
cv_rc store_threads_list_shared(struct cv_store *pS, int64_t userId, struct cv_page *pPage,
                                struct cv_thread **paOut, int *pnOut, int64_t *pnTotal);

/* ---- message edits (issue 13): each is one write job on the segments holding the messages
** it changes, whatever the thread's length; only the owner writes (a member: CV_FORBIDDEN,
** as a stranger). Errors as store_threads_get, and CV_NOTFOUND with bPastEnd for a message
** index past the end. */
struct cv_msg_edit {
  int64_t index;                 /* the message edited / the first removed */
  char zRole[16];                /* edit: the message's role ("user", "assistant") */
  int64_t nMessages;             /* message_count after the change */
  char zUpdatedAt[CV_TS_LEN+1];  /* the thread's new updated_at ("" when nothing changed) */
  int bPastEnd;                  /* CV_NOTFOUND came from the index, not the thread */
};

/* Set the content of message iIndex (its role stays; zRole not NULL: must be the message's
** role, else CV_INVALID) and move updated_at. CV_QUOTA when the thread would grow past a
** size cap (store_conv_set_limits). */
cv_rc store_threads_edit_message(struct cv_store *pS, int64_t userId, int64_t id,
                                 int64_t iIndex, const char *zContent, const char *zRole,
                                 struct cv_msg_edit *pOut);

/* Remove messages iFrom..end and move updated_at; iFrom equal to the count changes nothing,
** iFrom past it is bPastEnd. */
cv_rc store_threads_truncate(struct cv_store *pS, int64_t userId, int64_t id, int64_t iFrom,
                             struct cv_msg_edit *pOut);

/* Regenerate's first step: remove the messages after the last user message (the trailing
** assistant replies; nothing when the thread ends with a user message). *piUser gets that
** message's index and *pzContent its content (malloc'd, free()). CV_INVALID: the thread has
** no user message. */
cv_rc store_threads_drop_replies(struct cv_store *pS, int64_t userId, int64_t id,
                                 int64_t *piUser, char **pzContent);

/* A new thread of userId holding messages [0, nUpto) of thread id (nUpto -1: all), its
** segments copied inside SQLite; the title zTitle, or NULL for the source's. The owner or a
** member of thread id may fork it (the copy is the caller's own). *pNewId gets the new id;
** *pbPastEnd is set when nUpto is past the source's end (CV_NOTFOUND). */
cv_rc store_threads_fork(struct cv_store *pS, int64_t userId, int64_t id, int64_t nUpto,
                         const char *zTitle, int64_t *pNewId, int *pbPastEnd);

#endif
