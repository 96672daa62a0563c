/*
** store_export.h — reading everything of one user out of a read snapshot, row by row, for
** the export (GET /api/v1/export, the per-conversation exports, `chatvault export`).
**
** Each operation walks its rows with one statement and hands every row to the caller's
** callback while the statement still points at it: the row's strings are BORROWED (valid
** until the callback returns), nothing is collected, so memory stays flat whatever the
** number of rows. The callback may read more through the same snapshot (a conversation's
** messages: store_read_messages) while the walk is in progress. A callback's non-CV_OK
** result stops the walk and is returned as it is.
**
** Order: id order (creation order) everywhere, which every walk gets from an index without
** a sort. Operations of the store interface (store.h); the SQLite backend's are sqlite_* in
** store_export.c.
*/
#ifndef CV_STORE_EXPORT_H
#define CV_STORE_EXPORT_H

#include "cv.h"
#include "store.h"
#include "store_catalog.h"
#include <stdint.h>

struct cv_read;
struct cv_thread;
struct cv_chat;

/* One thread of the walk: *t with borrowed strings (do not clear it), and zClientId, the
** thread's stored import key (borrowed; NULL when it has none). */
typedef cv_rc (*cv_export_thread_fn)(void *pCtx, const struct cv_thread *t,
                                     const char *zClientId);
/* One chat of the walk (borrowed strings; do not clear it). */
typedef cv_rc (*cv_export_chat_fn)(void *pCtx, const struct cv_chat *c);
/* One catalog item of the walk (borrowed strings; do not clear it). */
typedef cv_rc (*cv_export_item_fn)(void *pCtx, const struct cv_item *it);

/* Every thread of userId in snapshot pRd, in id order, to xThread. */
cv_rc store_export_threads(struct cv_read *pRd, int64_t userId, cv_export_thread_fn xThread,
                           void *pCtx);

/* Every chat of userId in snapshot pRd, in id order, to xChat. */
cv_rc store_export_chats(struct cv_read *pRd, int64_t userId, cv_export_chat_fn xChat,
                         void *pCtx);

/* In snapshot pRd, in id order, to xItem: eKind CV_KIND_PERSONA, userId's personas;
** CV_KIND_CHARACTER or CV_KIND_SCENE, those userId created (creator_id). */
cv_rc store_export_items(struct cv_read *pRd, enum cv_kind eKind, int64_t userId,
                         cv_export_item_fn xItem, void *pCtx);

/* Every message of conversation id (a thread's or a chat's) in snapshot pRd, oldest first,
** to xMsg as role and content (borrowed until it returns). The caller has checked that
** the conversation is the user's. */
cv_rc store_export_messages(struct cv_read *pRd, int64_t id, cv_msg_view_fn xMsg, void *pCtx);

#endif /* CV_STORE_EXPORT_H */
