/*
** store_backend.h — what a storage backend implements: one table of the operations of
** store.h and the per-model headers (store_users.h, store_tokens.h, store_catalog.h,
** store_threads.h, store_chats.h, store_stats.h, store_export.h, store_members.h, store_shares.h, store_changes.h), in the manner of
** SQLite's sqlite3_io_methods.
**
** Handlers and services call store_<op>() (store.c), which calls the backend's <op> through
** the table of the store the operation was given. The SQLite backend (db.c and store_*.c,
** the only files that see SQL) is the one built today; the cluster's dqlite backend adds a
** second table, and nothing above store.c changes.
**
** Contract of a backend:
**   - its store handle (struct cv_store) begins with a struct cv_store_base whose pB points
**     at its table, which lives as long as the process;
**   - every slot is set; each operation has the contract written at its store_<op>()
**     declaration, with the same parameters and results (the slot's type is that
**     declaration's, so they cannot drift apart);
**   - close ends the store: after queued writes finished, every connection is closed.
** Only backends and store.c include this header (checked by `make check-layers`).
*/
#ifndef CV_STORE_BACKEND_H
#define CV_STORE_BACKEND_H

#include "store.h"
#include "store_catalog.h"
#include "store_changes.h"
#include "store_chats.h"
#include "store_export.h"
#include "store_import.h"
#include "store_members.h"
#include "store_openai.h"
#include "store_search.h"
#include "store_shares.h"
#include "store_stats.h"
#include "store_threads.h"
#include "store_tokens.h"
#include "store_users.h"

/* Every operation a backend implements, by the name that follows "store_". */
#define CV_STORE_OPS(X) \
  X(close) \
  X(users_create) X(users_by_email) X(users_by_id) X(users_set_password) X(users_delete) \
  X(users_stats) \
  X(tokens_insert) X(tokens_lookup) X(tokens_touch) X(tokens_revoke) X(tokens_revoke_user) \
  X(tokens_purge) \
  X(catalog_create) X(catalog_get) X(catalog_list) X(catalog_update_character) \
  X(catalog_delete_character) X(catalog_recommended) \
  X(catalog_create_with_picture) X(catalog_picture_get) \
  X(threads_create) X(threads_get) X(threads_list) X(threads_update) X(threads_delete) \
  X(threads_append) X(threads_import) X(threads_tags) \
  X(threads_view) X(threads_list_shared) X(threads_edit_message) X(threads_truncate) \
  X(threads_drop_replies) X(threads_fork) X(members_add) X(members_list) X(members_remove) \
  X(shares_create) X(shares_list) X(shares_get) X(shares_messages) X(shares_revoke) X(shares_purge) \
  X(openai_match) X(openai_record) X(openai_mark_retry) \
  X(chats_add_message) X(chats_get) X(chats_rename) X(chats_delete) X(chats_list) \
  X(chats_import_legacy) X(chats_list_archived) X(chats_restore) \
  X(read_begin) X(read_end) X(read_messages) X(read_messages_range) X(conv_history) \
  X(import_convs) X(import_people) \
  X(search) \
  X(changes_bounds) X(changes_list) X(changes_users_after) X(changes_purge) X(on_commit) \
  X(export_threads) X(export_chats) X(export_items) X(export_messages)

#define CV_STORE_SLOT(op) __typeof__(store_##op) *op;
struct cv_store_backend {
  const char *zName;             /* "sqlite", ... (store_backend_name) */
  CV_STORE_OPS(CV_STORE_SLOT)
};
#undef CV_STORE_SLOT

/* The first member of every backend's struct cv_store. */
struct cv_store_base {
  const struct cv_store_backend *pB;
};

/* The SQLite backend: its table (store_sqlite.c) and its operations, sqlite_<op>, each
** with the type of store_<op>. db_open's stores use it. */
extern const struct cv_store_backend cv_sqlite_backend;
#define CV_SQLITE_DECL(op) extern __typeof__(store_##op) sqlite_##op;
CV_STORE_OPS(CV_SQLITE_DECL)
#undef CV_SQLITE_DECL

#endif /* CV_STORE_BACKEND_H */
