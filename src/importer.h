/*
** importer.h — one import of another app's export file (or chatvault's own) into one
** user's history, fed as its bytes arrive: POST /api/v1/import and `chatvault import` both
** drive it. The data flow:
**
**   bytes ─▶ jsonsplit (one conversation at a time, bounded) ─▶ cJSON ─▶ imp_formats (our
**   terms) ─▶ a batch ─▶ store_import_convs (one write transaction per batch)
**
** so memory holds one conversation and one batch, never the file. The format is the one
** named, or detected from the content (a chatvault export by its "format" key, a SillyTavern
** chat by being JSON Lines, the others by imp_detect on a conversation).
**
** Idempotent per (user, format, source id): a thread's client_id is "<format>:<source id>"
** (a chatvault thread keeps the client_id it was exported with), a chat's chat_id is a UUID
** made from (user, format, source id) with BLAKE2b, so sending a file again finds what the
** first time wrote and writes nothing. A conversation is written whole or not at all.
** Implemented in importer.c; tested by tests/api/test_import.py and tests/cli/test_import_cli.py.
*/
#ifndef CV_IMPORTER_H
#define CV_IMPORTER_H

#include "cv.h"
#include "imp_formats.h"
#include <stddef.h>
#include <stdint.h>

struct cv_store;
struct cv_importer;

/* Errors listed in a result (all are counted in nErrors). */
#define IMPORT_ERRORS_LISTED 1000

/* A conversation of the file that is in the store after the import. */
struct cv_import_out {
  char *zSourceId;
  int eKind;                     /* CV_CONV_THREAD or CV_CONV_CHAT */
  int64_t id;                    /* thread id */
  char zChatId[37];              /* chat: its chat_id */
};

/* Something of the file that was not imported, and why. */
struct cv_import_err {
  char *zSourceId;               /* NULL: the file as a whole / not known */
  char zDetail[IMP_DETAIL_MAX + 64];
};

/* What an import did so far. */
struct cv_import_report {
  const char *zFormat;           /* imp_format_name; "unknown" until detected */
  int64_t nImported;             /* conversations written now */
  int64_t nSkipped;              /* conversations of the file not written now: already there,
                                 ** unreadable, over the size limit, or dropped by retention */
  int64_t nErrors;               /* entries of errors (skipped parts and skipped conversations) */
  int64_t nPeople;               /* chatvault: personas and characters created */
  struct cv_import_out *aItem;   /* every conversation now in the store, in file order */
  int nItem;
  struct cv_import_err *aErr;    /* the first IMPORT_ERRORS_LISTED errors */
  int nErr;
};

/* Progress, called after each written batch: bytes fed so far and the result so far. */
typedef void (*cv_import_progress_fn)(void *pCtx, int64_t nBytes, const struct cv_import_report *p);

/* Start an import for userId into pS. eFormat: IMP_UNKNOWN to detect. nMaxConv: the largest
** conversation read (bytes of its JSON; a larger one is skipped with an error). xProgress may
** be NULL. *ppOut NULL on CV_NOMEM. */
cv_rc importer_new(struct cv_store *pS, int64_t userId, enum imp_format eFormat, size_t nMaxConv,
                   cv_import_progress_fn xProgress, void *pCtx, struct cv_importer **ppOut);

/* The next n bytes of the file. CV_OK; CV_INVALID when the file cannot be imported from here
** on (not JSON, not a known format, a bad chatvault header: importer_error says why; what
** was written before stays); CV_NOMEM; or the store's error (the batch being written is
** not kept). After an error, every later call returns it. */
cv_rc importer_feed(struct cv_importer *p, const char *a, size_t n);

/* The file ended: read what is left (a lone conversation object, a SillyTavern chat, the
** personas and chats of a chatvault export) and write the last batch. Same results. */
cv_rc importer_finish(struct cv_importer *p);

/* Why the last CV_INVALID. */
const char *importer_error(const struct cv_importer *p);

/* The result so far (owned by the importer). */
const struct cv_import_report *importer_result(const struct cv_importer *p);

/* Free. NULL is ok. */
void importer_free(struct cv_importer *p);

/* The chat_id an import gives the chat with source id zSource of format zFormat for userId
** (a UUID, version 8, made with BLAKE2b): zOut gets 37 bytes. */
void importer_chat_id(int64_t userId, const char *zFormat, const char *zSource, char *zOut);

#endif /* CV_IMPORTER_H */
