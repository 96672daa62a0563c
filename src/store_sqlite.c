/*
** store_sqlite.c — the SQLite backend's table of operations (store_backend.h): db.c holds
** the file, its connections and the writer; store_users.c, store_tokens.c, store_catalog.c,
** store_threads.c, store_chats.c, store_conv.c and store_export.c the operations, as sqlite_<op>.
*/
#include "store_backend.h"

#define CV_SQLITE_SLOT(op) .op = sqlite_##op,
const struct cv_store_backend cv_sqlite_backend = {
  .zName = "sqlite",
  CV_STORE_OPS(CV_SQLITE_SLOT)
};
