/*
** db_conn.h — db.c's connection layer, for the other files of the SQLite backend that open
** a file on their own (db_file.c: check and backup). Not for the stores: they get their
** connections from db.h (db_reader, db_write).
*/
#ifndef CV_DB_CONN_H
#define CV_DB_CONN_H

#include "cv.h"
#include <sqlite3.h>

struct cv_db;

/* SQLite's global settings, once per process, before the first connection (idempotent,
** thread-safe). db_open and db_conn_open's callers call it. */
void db_sqlite_init(void);

/* Open one local connection to zPath with sqlite3_open_v2's flags (SQLITE_OPEN_NOMUTEX is
** added), chatvault's tokenizer registered (the search index's triggers and checks need it),
** PRAGMA busy_timeout=busyMs, then the statements of zPragmas (may be ""). On CV_OK *ppDb is
** the connection (close with db_conn_close); otherwise *ppDb is NULL and, when pzErr is not
** NULL, *pzErr says why (free with free()): CV_IO when the file cannot be opened, CV_DB when
** it cannot be set up, CV_NOMEM. */
cv_rc db_conn_open(const char *zPath, int flags, int busyMs, const char *zPragmas,
                   struct cv_db **ppDb, char **pzErr);

/* Close pDb (NULL: nothing), its cached statements and tokenizer with it. */
void db_conn_close(struct cv_db *pDb);

/* The SQLite handle of a connection db_conn_open made (never NULL for one). */
sqlite3 *db_conn_handle(struct cv_db *pDb);

#endif /* CV_DB_CONN_H */
