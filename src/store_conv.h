/*
** store_conv.h — the one conversation store under both chat models (schema version 3).
**
** A conversation is a row of `conversations` (its id, owner and kind) and an ordered run of
** `segments`: each segment is a JSON array of at most CONV_SEG_MESSAGES messages and at most
** CONV_SEG_BYTES bytes (a single message larger than that sits alone in its segment), and
** knows the index of its first message, so finding message i reads one segment and an append
** rewrites only the tail segment. Segments are changed only with JSON1 (json_insert,
** json_remove, json_replace for an edit in place); whole conversations are read by splicing
** the segments' arrays, never parsed.
**
** The header of a conversation lives in the table of its kind (chat_threads or
** chat_histories, whose id IS the conversation id): title, message_count and the time of the
** last change. This module keeps message_count and that time in the same transaction as the
** segments, and owns the two rules both kinds share: the time of a change (now, but never at
** or before the owner's newest conversation of that kind, and never past year 9999) and the
** automatic title (the first line of the first user message while the title is the kind's
** default).
**
** Every function here runs on a connection the caller holds: write functions inside a write
** job (db_write), read functions inside one read transaction, so what they return is one
** snapshot. Messages are JSON text of validated, normalized message objects. Part of the
** SQLite backend: only db.c and store_*.c call this; nothing above store.c does.
** Implemented in store_conv.c; tested by tests/unit/test_store_conv.c.
*/
#ifndef CV_STORE_CONV_H
#define CV_STORE_CONV_H

#include "cv.h"
#include "store.h"
#include <stddef.h>
#include <stdint.h>

struct cv_db;
struct cv_sink;

/* The caps of a segment, chosen by measurement (bench/append_cost.c, one append per
** transaction, messages of ~280 bytes): WAL bytes per append were 24.3 KB with a 16 KiB cap,
** 18.7 KB with 8 KiB, 13.2 KB with 4,000 bytes and 13.5 KB with 3,000, the same at 20 and at
** 20,000 messages. 4,000 bytes keeps a full segment's row in one 4 KiB page (no overflow
** chain to rewrite). CONV_SEG_MESSAGES is 16 since schema version 12 (64 before): the search
** index gives a segment that many rowids (store_search.c), and FTS5 stores a term's rows as
** rowid deltas, so a segment's unused rowids made the index bigger (messages of ~260 bytes
** fill a segment's 4,000 bytes at ~13). Range reads rely on no segment holding more: version
** 12 re-packed the bigger ones (store_conv_migrate_v12); it may grow again only up to the
** search index's slots, never shrink without such a re-pack. */
#define CONV_SEG_MESSAGES 16
#define CONV_SEG_BYTES    4000

/* Conversation kinds: enum cv_conv_kind of store.h. */

/* For unit tests only: use other caps (0 restores the defaults). Not thread-safe; call
** before any write. */
void store_conv_set_caps(int nMessages, int nBytes);

/* The size caps of conversations and accounts (issue 10: one user must not be able to fill
** the disk or hold the server's memory with one conversation). A conversation's size is
** message_count and message_bytes (the bytes of its segments' array texts) in its header;
** an account's is users.stored_bytes, the sum over its conversations of message_bytes
** rounded up to CONV_STORED_UNIT, kept by triggers in schema.sql (rounded, so that the users
** row is written once per 4 KiB of growth, not on every append). 0: no cap. A change that makes a count or size GROW past its cap fails with
** CV_QUOTA and changes nothing; shrinking is always allowed (a cap lowered later never
** blocks deleting or replacing with less). */
#define CONV_STORED_UNIT 4096    /* the rounding of users.stored_bytes (schema.sql's triggers) */

struct cv_conv_limits {
  int64_t nMessages;             /* messages per conversation */
  int64_t nBytes;                /* message_bytes per conversation */
  int64_t nUserBytes;            /* message_bytes per account */
};

/* Set the caps (serve does, from its config, before the first write; the subcommands run
** without caps: an operator's import-legacy is not refused). Not thread-safe. */
void store_conv_set_limits(const struct cv_conv_limits *p);

/* Would one more message of nLen bytes fit a conversation of nCount messages (counting those
** already admitted) and nBytes bytes (its header's) whose owner's stored_bytes is
** nUserBytes, when nPending bytes were already admitted to it? An upper bound of the growth
** is used, so that a message admitted here is never refused by store_conv_touch. For grouped
** appends, which admit jobs one by one instead of failing the whole group. */
int store_conv_admits(int64_t nCount, int64_t nBytes, int64_t nUserBytes, int64_t nPending,
                      size_t nLen);

/* The time of a change to a conversation of kind eKind owned by userId, into zOut
** (CV_TS_LEN+1 bytes): now, or 1 ms after the user's newest conversation of that kind
** when that is not older than now, clamped to 9999-12-31T23:59:59.999Z. Write jobs only. */
cv_rc store_conv_next_ts(struct cv_db *pDb, int eKind, int64_t userId, char *zOut);

/* Create an empty conversation of kind eKind for userId; *pId gets its id, never used
** before (AUTOINCREMENT). The caller then inserts the header row with that id. */
cv_rc store_conv_create(struct cv_db *pDb, int eKind, int64_t userId, int64_t *pId);

/* Append azMsg[0..n) (lengths anLen[i] bytes, n >= 1) to conversation id, splitting them
** over the tail segment and new ones as the caps require. *piFirst gets the index of the
** first appended message and *pnBytes the growth of the conversation's message_bytes.
** Does not touch the header (see store_conv_touch, which takes that growth). */
cv_rc store_conv_append(struct cv_db *pDb, int64_t id, const char *const *azMsg,
                        const size_t *anLen, int n, int64_t *piFirst, int64_t *pnBytes);

/* Replace every message of conversation id by the normalized JSON array zArray of
** nMessages messages (nMessages 0 or zArray "[]": empty). *pnBytes gets the change of the
** conversation's message_bytes (negative when it shrank). Does not touch the header. */
cv_rc store_conv_replace(struct cv_db *pDb, int64_t id, const char *zArray, int64_t nMessages,
                         int64_t *pnBytes);

/* Remove messages iFrom..end of conversation id (iFrom >= 0; past the end: nothing).
** *pnLeft gets the number of messages left and *pnBytes the change of message_bytes (<= 0).
** Does not touch the header. */
cv_rc store_conv_truncate(struct cv_db *pDb, int64_t id, int64_t iFrom, int64_t *pnLeft,
                          int64_t *pnBytes);

/* Set the content of message iIndex of conversation id to zContent (its role stays; zRole
** not NULL: the message's role must be it, else CV_INVALID and nothing changes), rewriting
** only the segment that holds it with json_replace, and queue the message for the search
** index (an edit in place fires no trigger). A segment of several messages that grows past
** CONV_SEG_BYTES is re-packed into as many segments as the caps need, at the same place.
** *pzRole gets the message's role (malloc'd, free()), *pnBytes the change of message_bytes.
** CV_NOTFOUND: no message iIndex. Does not touch the header (store_conv_touch). */
cv_rc store_conv_set_content(struct cv_db *pDb, int64_t id, int64_t iIndex,
                             const char *zContent, const char *zRole, char **pzRole,
                             int64_t *pnBytes);

/* The index (*piIndex, -1 when there is none) and content (*pzContent, malloc'd, free(); NULL
** when none) of the last user message of conversation id, reading segments from the tail
** back only until one holds a user message. */
cv_rc store_conv_last_user(struct cv_db *pDb, int64_t id, int64_t *piIndex, char **pzContent);

/* Copy messages [0, nUpto) of conversation idFrom into the empty conversation idTo: the
** segments are copied row to row by one INSERT ... SELECT (the arrays never pass through C
** memory), then the last one is cut at nUpto. *pnMessages gets the messages copied and
** *pnBytes idTo's message_bytes. Does not touch idTo's header. */
cv_rc store_conv_copy(struct cv_db *pDb, int64_t idFrom, int64_t idTo, int64_t nUpto,
                      int64_t *pnMessages, int64_t *pnBytes);

/* After messages were added, replaced or removed: set the header's message_count to
** nMessages, add nBytesDelta to its message_bytes, set its time to zTs (NULL: leave the
** time), and, while its title is the kind's default, the automatic title from the first
** user message. *pzTitle (may be NULL) gets the title after that (malloc'd, free()).
** CV_QUOTA, with nothing of the header changed, when the count or the size grows past a cap
** of store_conv_set_limits (the caller's job then fails and its segment changes roll back). */
cv_rc store_conv_touch(struct cv_db *pDb, int eKind, int64_t id, int64_t nMessages,
                       int64_t nBytesDelta, const char *zTs, char **pzTitle);

/* For a new conversation id of kind eKind and user userId whose header is not inserted yet,
** filled by store_conv_replace with nMessages messages of nBytes: CV_QUOTA when a cap of
** store_conv_set_limits refuses it (as store_conv_touch would), else CV_OK and, when zTitle
** is the kind's default and a message is a user's, the automatic title in *pzAuto
** (malloc'd, free(); NULL otherwise). So the caller inserts the header once with its final
** count, size and title (insert_thread, store_threads.c) instead of inserting it empty and
** then touching it: one write of the header and one round of its triggers. */
cv_rc store_conv_admit_new(struct cv_db *pDb, int eKind, int64_t userId, int64_t id,
                           int64_t nMessages, int64_t nBytes, const char *zTitle,
                           char **pzAuto);

/* The number of messages of conversation id (from its segments). */
cv_rc store_conv_count(struct cv_db *pDb, int64_t id, int64_t *pn);

/* Write the whole message array of conversation id to pOut as JSON text: the segments'
** arrays spliced in order, not parsed. */
cv_rc store_conv_write_all(struct cv_db *pDb, int64_t id, struct cv_sink *pOut);

/* Write messages [iStart, iEnd) of conversation id to pOut as a JSON array of
** {"index":i,"role":...,"content":...}, oldest first. Reads only the segments that hold them. */
cv_rc store_conv_write_range(struct cv_db *pDb, int64_t id, int64_t iStart, int64_t iEnd,
                             struct cv_sink *pOut);

/* One message handed to store_conv_tail's callback (borrowed until it returns). */
struct cv_conv_msg {
  int64_t index;                 /* position in the conversation */
  const char *zRole;             /* "user" or "assistant" */
  const char *zContent;          /* the text */
};
typedef cv_rc (*cv_conv_msg_fn)(void *pCtx, const struct cv_conv_msg *pMsg);

/* The newest messages of conversation id whose contents add up to at most nBudgetChars
** characters (the newest one always), handed to xMsg OLDEST FIRST. Reads segments from the
** tail back only as far as the budget reaches. */
cv_rc store_conv_tail(struct cv_db *pDb, int64_t id, int nBudgetChars, cv_conv_msg_fn xMsg,
                      void *pCtx);

/* `chatvault check`: verify every conversation's segments (n matches the array, within the
** caps, first indexes contiguous from 0, counts equal the header's message_count, bytes its
** message_bytes) and every account's message_bytes (the sum of its conversations'). Appends
** findings to the report buffer and sets *pnBad to the number of broken conversations. */
struct cv_buf;
cv_rc store_conv_check(struct cv_db *pDb, struct cv_buf *pReport, int *pnBad);

/* Schema version 3's data step (called by db.c's migration, inside its transaction): split
** every array left in the table v2_messages(conv_id, messages) into segments, set the
** headers' message_bytes (and, by triggers, the accounts'), then drop it. */
cv_rc store_conv_migrate_v3(struct cv_db *pDb);

/* Schema version 12's data step, run by db.c's migration before that version's section, in
** its transaction: re-pack every segment of more than CONV_SEG_MESSAGES messages (the cap
** was 64) into segments within the caps, at the same place, and move the headers'
** message_bytes (and, by triggers, the accounts') by what that changed. */
cv_rc store_conv_migrate_v12(struct cv_db *pDb);

#endif /* CV_STORE_CONV_H */
