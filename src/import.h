/*
** import.h — `chatvault import-legacy FILE`: JSON Lines of legacy user rows, as
** PostgreSQL's `SELECT row_to_json(u) FROM users u` prints them, split into users and
** chat_histories. Implemented in import.c.
*/
#ifndef CV_IMPORT_H
#define CV_IMPORT_H

#include "cv.h"
#include <stddef.h>
#include <stdio.h>

struct cv_store;

/* What an import did. */
struct cv_import_stats {
  long long nLines;         /* lines read (blank ones included) */
  long long nRows;          /* rows imported (users matched or created) */
  long long nUsersCreated;  /* of nRows: users that did not exist (no password yet) */
  long long nChats;         /* chats inserted and kept */
  long long nSkipped;       /* chats whose chat_id was already present */
  long long nRetained;      /* chats inserted then removed by retention (older than the newest N) */
  long long nErrors;        /* bad rows, each reported on pErr with its line number */
};

/* Import the JSON Lines file zFile ("-" for standard input) into pS: each row's user is
** matched by email or created without a password; each chat_history entry becomes a chat
** unless its chat_id exists (so running it twice changes nothing). Rows are written in
** batches (about 4000 chats or 1000 rows per write transaction; a batch is written while the
** next is read). A bad row is reported on pErr
** as "line N: reason" and skipped; progress goes to pErr about once a second on long
** files. Returns CV_OK when the file was read to its end (bad rows included: see
** pStats->nErrors), CV_IO when it cannot be read, or the database error that stopped it
** (the batches before it are kept). *pStats is always filled. */
cv_rc import_legacy(struct cv_store *pS, const char *zFile, FILE *pErr,
                    struct cv_import_stats *pStats);

/* Parse and validate one line z[0..n) exactly as import_legacy does, writing nothing:
** CV_OK (a good row), CV_INVALID (zWhy, nWhy bytes, says why) or CV_NOMEM. For the fuzzer. */
cv_rc import_check_line(const char *z, size_t n, char *zWhy, size_t nWhy);

#endif
