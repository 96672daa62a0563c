/*
** db.h — the database layer: one SQLite file in WAL mode, a pool of read connections and
** one writer thread that commits concurrent writes together (group commit) and, while no
** write comes, merges the search index's segments in small transactions of its own.
**
** Stores (store_*.c) are the only callers besides cli.c/server.c start-up; handlers never
** see this header, nor sqlite3.h (`make check-layers` lists the files that may).
** Implemented in db.c; db_check, db_backup and db_remove_files in db_file.c.
*/
#ifndef CV_DB_H
#define CV_DB_H

#include "cv.h"
#include <sqlite3.h>

#define DB_CLUSTER_NAME "chatvault"   /* the cluster's database (dqlite's name for it) */

struct cv_store;   /* the process's handle on the database file (opaque) */
struct cv_db;      /* one connection and its prepared-statement cache (opaque) */

struct cv_store_opts {
  const char *zPath;      /* database file */
  int bSyncFull;          /* 1: synchronous=FULL (survives power loss); 0: NORMAL */
  int nReaders;           /* read connections in the pool (>=1) */
  int busyMs;             /* busy timeout for every connection */
  int historyLimit;       /* >0: write settings.history_limit at open; 0: leave it */
  const char *zHistoryOverflow; /* "delete"|"archive": write settings.history_overflow at
                          ** open; NULL: leave it (subcommands keep the file's) */
  const char *zRefreshCopies;   /* "0"|"1": write settings.refresh_copies; NULL: leave */
  int bReadOnly;          /* 1: no writer thread, no migration (check, backup source) */
  int64_t maxConvMessages; /* size caps of conversations and accounts (0: none; serve sets */
  int64_t maxConvBytes;    /* them): process-wide, the last db_open's win (store_conv.h's */
  int64_t maxUserBytes;    /* store_conv_set_limits) */
  const char *zCluster;    /* not NULL: the database is the cluster's (zPath unused), reached
                           ** through these members (comma-separated HOST:PORT, this node's
                           ** first): every connection is the leader's, every write batch is
                           ** retried over a change of leader (db.c, docs/cluster.md) */
};

/* Open (creating when missing) and migrate the database, start the writer thread and
** the reader pool. On failure returns the error and, when pzErr is not NULL, a message
** in *pzErr (free with free()). *ppStore is set only on CV_OK. */
cv_rc db_open(const struct cv_store_opts *pOpts, struct cv_store **ppStore, char **pzErr);

/* The store's close (store_close) is sqlite_close: stop the writer after it finished the
** queued jobs, close every connection. */

/* Borrow a read connection (blocks while all are in use); give it back with
** db_reader_done. Read connections are query_only. Never NULL. */
struct cv_db *db_reader(struct cv_store *pStore);
void db_reader_done(struct cv_store *pStore, struct cv_db *pDb);

/* Run fn(pDb, pArg) on the writer connection inside a transaction and wait until that
** transaction committed. Jobs queued meanwhile by other threads share the transaction
** and its one fsync (group commit); each job runs inside its own SAVEPOINT, so a job that
** returns an error undoes only its own changes. Returns fn's result, or the commit's
** error (then nothing of the job is kept). On a cluster a batch that lost its leader runs
** again (only one run is ever committed), so fn may be called more than once for one job:
** it must first free what an earlier try put in its outputs. */
typedef cv_rc (*cv_write_fn)(struct cv_db *pDb, void *pArg);
cv_rc db_write(struct cv_store *pStore, cv_write_fn fn, void *pArg);

/* Like db_write, for work that is cheaper done once for many callers: jobs queued with
** the same fnMany and key that land in the same batch are handed to ONE call of fnMany
** (in queue order), inside one SAVEPOINT. fnMany sets aRc[i] for each job and returns
** CV_OK, or returns an error that all of them get (their changes undone). At most nMax
** (1..256) jobs go to one call; the others of that batch wait for the next batch.
** Used to apply concurrent appends to one thread with one rewrite of its row. */
typedef cv_rc (*cv_write_many_fn)(struct cv_db *pDb, void **apArg, int nArg, cv_rc *aRc);
cv_rc db_write_grouped(struct cv_store *pStore, cv_write_many_fn fnMany, int64_t key,
                       int nMax, void *pArg);

/* A connection to the cluster's database zName through its leader (found among zAddrs),
** whose statements are remote (db_remote.c); db_open's connections on a cluster are these.
** On failure zErr (nErr bytes) says why. */
cv_rc db_remote_open(const char *zAddrs, const char *zName, struct cv_db **ppDb,
                     char *zErr, size_t nErr);
void db_remote_close(struct cv_db *pDb);

/* Before this process runs a cluster node (cluster_start): every SQLite connection dqlite
** opens here gets what the schema needs (the search tokenizer of store_fts.h), as db_open's
** own connections do. */
void db_node_init(void);

/* Run static SQL zSql (BEGIN, COMMIT, SAVEPOINT ...) through the statement cache. */
cv_rc db_run(struct cv_db *pDb, const char *zSql);

/* A statement of db_stmt, used by stores only through the calls below, which keep the
** contracts of the SQLite calls they are named after (sqlite3_bind_int64, sqlite3_step, ...).
** A statement is local (SQLite) or remote (the cluster's backend: db_remote.c runs it over
** dqlite's wire protocol); the calls pick by the statement (docs/cluster.md). */
struct cv_rstmt;                       /* db_remote.h */
typedef struct cv_stmt {
  sqlite3_stmt *pSt;                   /* a local statement, or NULL */
  struct cv_rstmt *pR;                 /* a remote one (the cluster), or NULL */
} cv_stmt;

#include "db_remote.h"

static inline int db_bind_int64(cv_stmt *p, int i, int64_t v){
  return p->pR ? dbr_bind_int64(p->pR, i, v) : sqlite3_bind_int64(p->pSt, i, v);
}
static inline int db_bind_int(cv_stmt *p, int i, int v){
  return p->pR ? dbr_bind_int64(p->pR, i, v) : sqlite3_bind_int(p->pSt, i, v);
}
static inline int db_bind_text(cv_stmt *p, int i, const char *z, int n, void (*x)(void*)){
  return p->pR ? dbr_bind_bytes(p->pR, i, SQLITE_TEXT, z, n, x)
               : sqlite3_bind_text(p->pSt, i, z, n, x);
}
static inline int db_bind_blob(cv_stmt *p, int i, const void *z, int n, void (*x)(void*)){
  return p->pR ? dbr_bind_bytes(p->pR, i, SQLITE_BLOB, z, n, x)
               : sqlite3_bind_blob(p->pSt, i, z, n, x);
}
static inline int db_bind_blob64(cv_stmt *p, int i, const void *z, sqlite3_uint64 n,
                                 void (*x)(void*)){
  return p->pR ? dbr_bind_bytes(p->pR, i, SQLITE_BLOB, z, (int64_t)n, x)
               : sqlite3_bind_blob64(p->pSt, i, z, n, x);
}
static inline int db_bind_null(cv_stmt *p, int i){
  return p->pR ? dbr_bind_null(p->pR, i) : sqlite3_bind_null(p->pSt, i);
}
static inline int db_bind_parameter_count(cv_stmt *p){
  return p->pR ? dbr_bind_parameter_count(p->pR) : sqlite3_bind_parameter_count(p->pSt);
}
static inline int db_step(cv_stmt *p){
  return p->pR ? dbr_step(p->pR) : sqlite3_step(p->pSt);
}
static inline int64_t db_column_int64(cv_stmt *p, int i){
  return p->pR ? dbr_column_int64(p->pR, i) : sqlite3_column_int64(p->pSt, i);
}
static inline int db_column_int(cv_stmt *p, int i){
  return p->pR ? (int)dbr_column_int64(p->pR, i) : sqlite3_column_int(p->pSt, i);
}
static inline const unsigned char *db_column_text(cv_stmt *p, int i){
  return p->pR ? dbr_column_text(p->pR, i) : sqlite3_column_text(p->pSt, i);
}
static inline int db_column_bytes(cv_stmt *p, int i){
  return p->pR ? dbr_column_bytes(p->pR, i) : sqlite3_column_bytes(p->pSt, i);
}
static inline int db_column_type(cv_stmt *p, int i){
  return p->pR ? dbr_column_type(p->pR, i) : sqlite3_column_type(p->pSt, i);
}
static inline const void *db_column_blob(cv_stmt *p, int i){
  return p->pR ? dbr_column_blob(p->pR, i) : sqlite3_column_blob(p->pSt, i);
}

/* The cached prepared statement for zSql on pDb (prepared on first use; zSql must be a
** string with static storage: the cache is keyed by its address). The statement is reset
** and its bindings cleared. It stays owned by pDb: call db_reset() when done with it. */
cv_rc db_stmt(struct cv_db *pDb, const char *zSql, cv_stmt **ppStmt);
void db_reset(cv_stmt *pStmt);

/* Column helpers for stores, used before the statement is reset:
** db_col_dup: a malloc'd copy of text column i (free with free()), NULL for SQL NULL;
**   on allocation failure returns NULL and sets *pRc to CV_NOMEM (else leaves it alone).
** db_col_copy: text column i into zOut (nOut bytes, truncated, "" for NULL). */
char *db_col_dup(cv_stmt *pStmt, int i, cv_rc *pRc);
void db_col_copy(cv_stmt *pStmt, int i, char *zOut, size_t nOut);

/* Translate an SQLite result code to a cv_rc, logging unexpected ones with the
** connection's message. SQLITE_OK/ROW/DONE give CV_OK. */
cv_rc db_rc(struct cv_db *pDb, int sqliteRc);

/* Run SQL with no result rows (BEGIN, COMMIT, pragmas). */
cv_rc db_exec(struct cv_db *pDb, const char *zSql);

/* Step the bound statement pSt (from db_stmt on pDb) to its end, reset it, and return the
** step's result as a cv_rc; *pnChanged (when not NULL) gets the rows it changed. The one way
** stores run a statement that returns no rows. */
cv_rc db_step_done(struct cv_db *pDb, cv_stmt *pSt, int *pnChanged);

/* Run the static SQL zSql (through the statement cache) with ?1 = a and ?2 = b (a
** statement may use fewer), and read column 0 of its first row into *pv. CV_NOTFOUND (and
** *pv 0) when it returns no row. The one way stores read a single integer. */
cv_rc db_int64(struct cv_db *pDb, const char *zSql, int64_t a, int64_t b, int64_t *pv);

/* Run the static SQL zSql (through the statement cache), which returns no rows, with ?1 = a
** and ?2 = b (a statement may use fewer), to its end; *pnChanged (may be NULL) gets the rows it
** changed. The one way stores run such a statement on integers alone (a purge, a setting). */
cv_rc db_run_int64(struct cv_db *pDb, const char *zSql, int64_t a, int64_t b, int *pnChanged);

/* The search tokenizer for use outside FTS5 on pDb (store_fts.h), created on first use and
** closed with the connection; NULL when it cannot be created (out of memory). */
struct cv_fts_tok;
struct cv_fts_tok *db_fts_tok(struct cv_db *pDb);

/* The linked SQLite library version. */
const char *db_sqlite_version(void);

/* The schema version this binary writes (the last `-- version: N` of schema.sql). */
int db_schema_version(void);

/* `chatvault check`: integrity_check, foreign_key_check, the counts the triggers keep, the
** segments (store_conv_check), the search index against the data (search_index_check) and
** the schema version of zPath, opened read-only (nothing of it is written). Writes a report
** to *pzReport (free with free()). CV_OK when clean, CV_INVALID when not, another code when
** the file cannot be read. */
cv_rc db_check(const char *zPath, char **pzReport);

/* `chatvault backup`: an online, consistent copy of the database into zOut, which must not
** exist (CV_CONFLICT). Written under a temporary name in zOut's directory, fsync'ed, then
** renamed without replacing: after any failure or crash zOut is absent or complete.
** CV_FULL on a full disk, CV_IO/CV_DB otherwise; *pzErr then says why (free with free()). */
cv_rc db_backup(const char *zPath, const char *zOut, char **pzErr);

/* Remove the database file zPath and SQLite's files beside it (-journal, -wal, -shm);
** missing ones are no error. For files chatvault made itself (a temporary copy, a restore
** that failed its check). */
void db_remove_files(const char *zPath);

#endif /* CV_DB_H */
