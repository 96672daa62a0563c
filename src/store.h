/*
** store.h — the store interface: what handlers and services may do with stored data. The
** operations are here and in the per-model headers (store_users.h, store_tokens.h,
** store_catalog.h, store_threads.h, store_chats.h); each takes plain C values and returns a
** cv_rc. No SQL or SQLite type crosses this line: store.c hands every operation to the
** backend of the store it is given (store_backend.h), today SQLite (db.c, store_*.c), so a
** second backend (the cluster's) implements the same operations without a handler changing.
**
** A read snapshot holds one pooled read connection inside one read transaction: what is read
** through it is one consistent state (a header and its messages agree), however long the
** caller takes to write it out. Writers never wait for it (WAL). Keep it only as long as a
** response is being written.
*/
#ifndef CV_STORE_H
#define CV_STORE_H

#include "cv.h"
#include <stdint.h>

struct cv_store;
struct cv_db;
struct cv_sink;

/* The two chat models over the one conversation store: the value of conversations.kind. */
enum cv_conv_kind {
  CV_CONV_THREAD = 1,            /* assistant threads (chat_threads): default title "New chat" */
  CV_CONV_CHAT = 2               /* character chats (chat_histories): default title "" */
};

/* Close a store opened by a backend (db_open: SQLite): its queued writes finish first, then
** every connection closes. NULL is ok. */
void store_close(struct cv_store *pS);

/* The name of the store's backend ("sqlite"). */
const char *store_backend_name(struct cv_store *pS);

/* One page of a list (threads, chat history, catalog): how many rows and where it starts,
** by offset or, for keyset paging, after the position of the previous page's last row, so a
** deep page seeks in an index instead of stepping over the rows before it. */
struct cv_page {
  int limit;                     /* rows wanted (1..); 0: all (store_chats_list only) */
  int64_t offset;                /* rows skipped from the top (0 with zAfterKey) */
  const char *zAfterKey;         /* NULL: from the top (after offset); else only rows after
                                 ** (zAfterKey, afterId) in the list's order: its sort time
                                 ** ("" for the catalog, which is in id order) and id */
  int64_t afterId;               /* with zAfterKey */
  int bMore;                     /* OUT: at least one row follows the page's last */
};

/* A read snapshot. Fields are the store's own; callers only pass it along. */
struct cv_read {
  struct cv_store *pS;            /* the store it came from */
  struct cv_db *pDb;              /* the borrowed read connection, inside BEGIN */
};

/* Begin a snapshot on pS. On CV_OK end it with store_read_end. */
cv_rc store_read_begin(struct cv_store *pS, struct cv_read *pRd);

/* End it and give the connection back. A zeroed struct is ok. */
void store_read_end(struct cv_read *pRd);

/* The whole message array of conversation id (a thread's or a chat's id) as JSON text. */
cv_rc store_read_messages(struct cv_read *pRd, int64_t id, struct cv_sink *pOut);

/* Messages [iStart, iEnd) of conversation id as [{"index","role","content"}...]. */
cv_rc store_read_messages_range(struct cv_read *pRd, int64_t id, int64_t iStart, int64_t iEnd,
                                struct cv_sink *pOut);

/* store_read_messages as a render.h cv_messages_fn: pRd is the struct cv_read *. */
cv_rc store_messages_cb(void *pRd, long long id, struct cv_sink *pOut);

/* One message of a conversation's tail (borrowed until the callback returns). */
struct cv_msg_view {
  const char *zRole;
  const char *zContent;
};
typedef cv_rc (*cv_msg_view_fn)(void *pCtx, const struct cv_msg_view *pMsg);

/* The newest messages of conversation id whose contents add up to at most nBudgetChars
** characters (the newest one always), oldest first, read in a snapshot of its own from the
** tail segments only: the prompt history of a turn. */
cv_rc store_conv_history(struct cv_store *pS, int64_t id, int nBudgetChars, cv_msg_view_fn xMsg,
                         void *pCtx);

#endif /* CV_STORE_H */
