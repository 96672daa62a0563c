/*
** store_sqlite.h — what the SQLite backend's files (store_*.c) share with each other inside
** one write job: not part of the store interface (handlers and services never include it).
** Every function here runs on the writer connection inside a job of db_write.
*/
#ifndef CV_STORE_SQLITE_H
#define CV_STORE_SQLITE_H

#include "cv.h"
#include "store_chats.h"
#include "store_threads.h"
#include <stdint.h>

struct cv_db;

/* Insert one imported thread of userId, as store_threads_import does for each item: an
** existing (user, client_id) is left as it is (p->bImported 0, p->id its id). store_threads.c. */
cv_rc sqlite_threads_insert_import(struct cv_db *pDb, int64_t userId, struct cv_import_item *p);

/* Insert aChat[0..nChat) as chats of userId, as store_chats_import_legacy does for one user
** (chat_ids already present are left, newest first, the retention trigger applies); each
** aChat[i].eResult says what happened. store_chats.c. */
cv_rc sqlite_chats_insert_batch(struct cv_db *pDb, int64_t userId, struct cv_legacy_chat *aChat,
                                int nChat);

#endif /* CV_STORE_SQLITE_H */
