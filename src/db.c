/*
** db.c — the only code that opens SQLite connections. It owns:
**   - opening the file (WAL, foreign_keys=ON, busy timeout, synchronous FULL or NORMAL),
**   - migrations: the sections of the embedded schema.sql above PRAGMA user_version,
**     applied in one transaction at start,
**   - a pool of query_only read connections (WAL: reads never wait behind writes),
**   - one writer connection driven by one writer thread. Writers queue a job and wait;
**     the writer runs every queued job in one transaction, each in a SAVEPOINT, and
**     answers them all after the one COMMIT (group commit: with synchronous=FULL one
**     fsync serves a whole batch, so durability does not cost throughput),
**     Grouped jobs (db_write_grouped) share one call of their store function; when such a
**     batch was slow (a big row rewritten), the writer waits a moment for the callers it
**     just answered to queue again, so they share the next rewrite too (see coalesce);
**     idle, the writer merges the search index's segments, a few pages a transaction
**     (see writer_idle and merge_step),
**   - a per-connection cache of prepared statements keyed by the SQL's address,
**   - the mapping from SQLite result codes to cv_rc,
**   - with store_*.c, the SQLite backend of store_backend.h (its close is sqlite_close),
**   - on a cluster (db_open's zCluster), the same with every connection one to the leader
**     (db_remote.c runs the statements): the writer retries a batch over a change of
**     leader, never applying it twice (run_batch), readers reconnect (db_reader).
** The file apart from serving it (check, backup) is db_file.c's, through db_conn.h.
** Rejected: a connection per civetweb thread (128 threads x page cache blows the memory
** budget) and writers taking the lock themselves (SQLITE_BUSY storms, one fsync each).
** May call SQLite, pthreads and assets (schema.sql).
*/
#include "db.h"
#include "db_conn.h"
#include "store_fts.h"
#include "assets.h"
#include "store_backend.h"
#include "store_conv.h"
#include "util.h"
#include "dqclient.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DB_STMT_CACHE 256   /* every static SQL string of the stores fits (63 append statements among them) */

#define DB_REMOTE_MS 10000   /* the deadline of connecting to the cluster */
#define DB_READ_MS    4000   /* cluster: how long a reader waits to reach a new leader */
#define DB_RETRY_MS  10000   /* cluster: how long a write waits over leader changes */

struct cv_db {
  sqlite3 *h;                          /* the connection (local); NULL when remote */
  struct dq_conn *pRemote;             /* the cluster's connection to the leader, or NULL */
  sqlite3 *hMeta;                      /* remote: the schema in memory, to prepare against */
  int nStmt;                           /* statements in the cache */
  const char *azSql[DB_STMT_CACHE];    /* cache keys: addresses of static SQL */
  cv_stmt aStmt[DB_STMT_CACHE];        /* prepared statements */
  struct cv_fts_tok *pTok;             /* the search tokenizer outside FTS5 (db_fts_tok), or NULL */
  int bTxn;                            /* remote: BEGIN ran and no COMMIT/ROLLBACK since */
  int bCommitSent;                     /* remote: COMMIT sent since the last BEGIN */
  int epoch;                           /* remote: the store's epoch when it last connected */
};

struct cv_job {
  cv_write_fn fn;                      /* the work (NULL for a grouped job) */
  cv_write_many_fn fnMany;             /* grouped work (NULL for a plain job) */
  int64_t key;                         /* grouped jobs with equal fnMany and key run together */
  int nMax;                            /* grouped: at most this many jobs per call of fnMany */
  int bTaken;                          /* grouped: already run as part of an earlier job's group */
  int bDeferred;                       /* grouped: over its group's nMax, goes to the next batch */
  void *pArg;                          /* its argument */
  cv_rc rc;                            /* its result, valid once bDone */
  int bDone;                           /* set by the writer after COMMIT */
  pthread_cond_t cvDone;               /* signalled when bDone is set: only this caller wakes */
  int64_t msQueued;                    /* when it was queued (monotonic ms) */
  struct cv_job *pNext;                /* queue link */
};

struct cv_store {
  struct cv_store_base base;          /* first: the SQLite backend's table (store_backend.h) */
  struct cv_db *pWriter;               /* the writer connection (NULL when read-only) */
  pthread_t writer;                    /* the writer thread */
  int bWriterRunning;                  /* writer thread started */
  int bStop;                           /* ask the writer to exit once the queue is empty */
  pthread_mutex_t mu;                  /* guards the queue, bStop, bDone flags */
  pthread_cond_t cvWork;               /* queue became non-empty, or bStop */
  pthread_cond_t cvDone;               /* a batch finished */
  struct cv_job *pHead, *pTail;        /* queued jobs */
  int nQueued;                         /* jobs in that queue */
  int64_t lastBatchUs;                 /* how long the last batch took; 0 when it had no grouped job */
  int nCallers;                        /* jobs queued when it ended + grouped ones it answered */

  pthread_mutex_t muR;                 /* guards the reader pool */
  pthread_cond_t cvR;                  /* a reader was returned */
  int nReader;                         /* readers opened */
  int nFree;                           /* readers available in apFree */
  struct cv_db **apReader;             /* all readers (for close) */
  struct cv_db **apFree;               /* stack of available readers */

  cv_commit_fn xCommit;                /* called after each commit (store_on_commit) */
  void *pCommitArg;

  char *zCluster;                      /* cluster: its members' addresses; NULL: a file */
  uint64_t nBatch;                     /* cluster: batches committed (batch key pruning) */
  int epoch;                           /* cluster: +1 each time a connection found the leader
                                       ** lost (under muR): readers of an older one reconnect */
};

static pthread_once_t sqliteOnce = PTHREAD_ONCE_INIT;

/* Global SQLite settings, before any connection: no memory statistics (a global mutex
** on every malloc otherwise). */
static void sqlite_global_init(void){
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  sqlite3_initialize();
}

void db_sqlite_init(void){
  pthread_once(&sqliteOnce, sqlite_global_init);
}

/* 1 while pDb holds an open transaction. A remote one is gone once the connection is lost
** (the leader rolls back what a closed connection left open; another leader never had it). */
static int db_in_txn(struct cv_db *pDb){
  if( pDb->pRemote ) return pDb->bTxn && !dq_lost(pDb->pRemote);
  return !sqlite3_get_autocommit(pDb->h);
}

/* The connection's last error message ("" without one). */
static const char *db_errmsg(struct cv_db *pDb){
  if( !pDb ) return "";
  return pDb->pRemote ? dq_errmsg(pDb->pRemote) : sqlite3_errmsg(pDb->h);
}

cv_rc db_rc(struct cv_db *pDb, int rc){
  switch( rc & 0xff ){
    case SQLITE_OK: case SQLITE_ROW: case SQLITE_DONE: return CV_OK;
    case SQLITE_NOMEM:    return CV_NOMEM;
    case SQLITE_BUSY: case SQLITE_LOCKED: return CV_BUSY;
    case SQLITE_FULL:     return CV_FULL;
    case SQLITE_CONSTRAINT:
      if( rc==SQLITE_CONSTRAINT_UNIQUE || rc==SQLITE_CONSTRAINT_PRIMARYKEY ) return CV_CONFLICT;
      if( rc==SQLITE_CONSTRAINT_FOREIGNKEY ) return CV_NOTFOUND;
      return CV_INVALID;
    case SQLITE_IOERR: case SQLITE_CANTOPEN: case SQLITE_READONLY: case SQLITE_PERM:
      fprintf(stderr, "chatvault: database I/O error %d: %s\n", rc, db_errmsg(pDb));
      return (rc==SQLITE_IOERR_WRITE || rc==SQLITE_IOERR_FSYNC) ? CV_IO : CV_IO;
    default:
      fprintf(stderr, "chatvault: database error %d: %s\n", rc, db_errmsg(pDb));
      return CV_DB;
  }
}

char *db_col_dup(cv_stmt *pSt, int i, cv_rc *pRc){
  const unsigned char *z = db_column_text(pSt, i);
  char *zOut;
  size_t n;
  if( !z ) return NULL;
  n = (size_t)db_column_bytes(pSt, i);
  zOut = malloc(n+1);
  if( !zOut ){ *pRc = CV_NOMEM; return NULL; }
  memcpy(zOut, z, n+1);
  return zOut;
}

void db_col_copy(cv_stmt *pSt, int i, char *zOut, size_t nOut){
  const char *z = (const char*)db_column_text(pSt, i);
  size_t n = z ? (size_t)db_column_bytes(pSt, i) : 0;
  assert( nOut>0 );
  if( n>=nOut ) n = nOut - 1;
  if( n ) memcpy(zOut, z, n);
  zOut[n] = 0;
}

/* Remote pDb ran zSql on the leader, which changed the schema when zSql is a CREATE or DROP
** (a migration's temporary table): run it on the copy statements prepare on too (parameters
** unbound: only its columns matter there; a failure there fails only a later prepare). */
static void meta_follow(struct cv_db *pDb, const char *zSql){
  if( strncmp(zSql, "CREATE", 6)==0 || strncmp(zSql, "DROP", 4)==0 ){
    sqlite3_exec(pDb->hMeta, zSql, NULL, NULL, NULL);
  }
}

/* Remote pDb ran the static SQL zSql with result rc: keep bTxn (db_in_txn) up to date. */
static void txn_note(struct cv_db *pDb, const char *zSql, cv_rc rc){
  if( strncmp(zSql, "BEGIN", 5)==0 && rc==CV_OK ){ pDb->bTxn = 1; pDb->bCommitSent = 0; }
  if( strcmp(zSql, "COMMIT")==0 ){         /* a failed COMMIT (busy) leaves it open */
    pDb->bCommitSent = 1;
    if( rc==CV_OK ) pDb->bTxn = 0;
  }
  if( strcmp(zSql, "ROLLBACK")==0 ) pDb->bTxn = 0;
}

cv_rc db_exec(struct cv_db *pDb, const char *zSql){
  if( pDb->pRemote ){
    uint64_t last, changes;
    cv_rc rc;
    dq_set_deadline(pDb->pRemote, DB_CALL_MS);
    rc = dq_exec(pDb->pRemote, zSql, NULL, 0, &last, &changes);
    if( rc && rc!=CV_NOMEM && rc!=CV_BUSY ){     /* (busy: its callers wait and retry) */
      fprintf(stderr, "chatvault: cluster: %s\n", dq_errmsg(pDb->pRemote));
      rc = dq_lost(pDb->pRemote) ? CV_BUSY : CV_DB;
    }
    txn_note(pDb, zSql, rc);
    if( rc==CV_OK ) meta_follow(pDb, zSql);
    return rc;
  }
  return db_rc(pDb, sqlite3_exec(pDb->h, zSql, NULL, NULL, NULL));
}

cv_rc db_run(struct cv_db *pDb, const char *zSql){
  cv_stmt *pSt;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  rc = db_rc(pDb, db_step(pSt));
  if( pSt->pR ){
    dbr_reset(pSt->pR);
    txn_note(pDb, zSql, rc);
  }else{
    sqlite3_reset(pSt->pSt);
  }
  return rc;
}

cv_rc db_step_done(struct cv_db *pDb, cv_stmt *pSt, int *pnChanged){
  cv_rc rc = db_rc(pDb, db_step(pSt));
  if( rc==CV_OK && pSt->pR ) meta_follow(pDb, pSt->pR->zSql);
  if( pnChanged ) *pnChanged = pSt->pR ? (int)dbr_changes(pSt->pR) : sqlite3_changes(pDb->h);
  db_reset(pSt);
  return rc;
}

cv_rc db_int64(struct cv_db *pDb, const char *zSql, int64_t a, int64_t b, int64_t *pv){
  cv_stmt *pSt;
  int src, nParam;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  *pv = 0;
  if( rc ) return rc;
  nParam = db_bind_parameter_count(pSt);
  if( nParam>=1 ) db_bind_int64(pSt, 1, a);
  if( nParam>=2 ) db_bind_int64(pSt, 2, b);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) *pv = db_column_int64(pSt, 0);
  else rc = src==SQLITE_DONE ? CV_NOTFOUND : db_rc(pDb, src);
  db_reset(pSt);
  return rc;
}

cv_rc db_run_int64(struct cv_db *pDb, const char *zSql, int64_t a, int64_t b, int *pnChanged){
  cv_stmt *pSt;
  int nParam;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( pnChanged ) *pnChanged = 0;
  if( rc ) return rc;
  nParam = db_bind_parameter_count(pSt);
  if( nParam>=1 ) db_bind_int64(pSt, 1, a);
  if( nParam>=2 ) db_bind_int64(pSt, 2, b);
  return db_step_done(pDb, pSt, pnChanged);
}

cv_rc db_stmt(struct cv_db *pDb, const char *zSql, cv_stmt **ppStmt){
  int i, rc;
  for(i=0; i<pDb->nStmt; i++){
    if( pDb->azSql[i]==zSql ){
      *ppStmt = &pDb->aStmt[i];
      return CV_OK;
    }
  }
  *ppStmt = NULL;
  if( pDb->nStmt>=DB_STMT_CACHE ){
    fprintf(stderr, "chatvault: statement cache full\n");
    return CV_DB;
  }
  memset(&pDb->aStmt[i], 0, sizeof pDb->aStmt[i]);
  if( pDb->pRemote ){
    cv_rc crc = dbr_prepare(pDb->pRemote, pDb->hMeta, zSql, &pDb->aStmt[i].pR);
    if( crc ){
      fprintf(stderr, "chatvault: cannot prepare for the cluster: %s\n", sqlite3_errmsg(pDb->hMeta));
      return crc;
    }
  }else{
    rc = sqlite3_prepare_v3(pDb->h, zSql, -1, SQLITE_PREPARE_PERSISTENT, &pDb->aStmt[i].pSt, NULL);
    if( rc!=SQLITE_OK ) return db_rc(pDb, rc);
  }
  pDb->azSql[i] = zSql;
  pDb->nStmt++;
  *ppStmt = &pDb->aStmt[i];
  return CV_OK;
}

void db_reset(cv_stmt *pStmt){
  if( pStmt && pStmt->pR ){
    dbr_reset(pStmt->pR);
    dbr_clear_bindings(pStmt->pR);
  }else if( pStmt ){
    sqlite3_reset(pStmt->pSt);
    sqlite3_clear_bindings(pStmt->pSt);
  }
}

void db_conn_close(struct cv_db *pDb){
  int i;
  if( !pDb ) return;
  for(i=0; i<pDb->nStmt; i++){
    sqlite3_finalize(pDb->aStmt[i].pSt);
    dbr_finalize(pDb->aStmt[i].pR);
  }
  fts_tok_close(pDb->pTok);
  if( sqlite3_close(pDb->h)!=SQLITE_OK ){
    fprintf(stderr, "chatvault: close: %s\n", sqlite3_errmsg(pDb->h));
  }
  dq_close(pDb->pRemote);
  sqlite3_close(pDb->hMeta);
  free(pDb);
}

/* Open the database zName on the leader's connection c and set the connection's pragmas
** (dqlite's leader keeps one SQLite connection per client connection). */
static cv_rc remote_setup(struct dq_conn *c, const char *zName, char *zErr, size_t nErr){
  uint64_t last, changes;
  cv_rc rc;
  dq_set_deadline(c, DB_REMOTE_MS);
  rc = dq_open(c, zName);
  if( rc==CV_OK ) rc = dq_exec(c, "PRAGMA foreign_keys=ON", NULL, 0, &last, &changes);
  if( rc==CV_OK ) rc = dq_exec(c, "PRAGMA temp_store=MEMORY", NULL, 0, &last, &changes);
  if( rc ) snprintf(zErr, nErr, "%s", dq_errmsg(c));
  return rc;
}

cv_rc db_remote_open(const char *zAddrs, const char *zName, struct cv_db **ppDb,
                     char *zErr, size_t nErr){
  struct cv_db *pDb = calloc(1, sizeof *pDb);
  struct dq_rows r;
  cv_rc rc;
  size_t i;
  *ppDb = NULL;
  memset(&r, 0, sizeof r);
  if( !pDb ) return CV_NOMEM;
  rc = dq_connect_leader(zAddrs, DB_REMOTE_MS, &pDb->pRemote, zErr, nErr);
  if( rc==CV_OK ) rc = remote_setup(pDb->pRemote, zName, zErr, nErr);
  if( rc==CV_OK ){
    rc = dq_query(pDb->pRemote, "SELECT sql FROM sqlite_master WHERE sql IS NOT"
                  " NULL ORDER BY rowid", NULL, 0, &r);
    if( rc ) snprintf(zErr, nErr, "%s", dq_errmsg(pDb->pRemote));
  }
  if( rc==CV_OK ){
    if( sqlite3_open_v2(":memory:", &pDb->hMeta, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE,
                        NULL)!=SQLITE_OK || fts_register(pDb->hMeta)!=SQLITE_OK ){
      snprintf(zErr, nErr, "out of memory");
      rc = CV_NOMEM;
    }
  }
  /* the leader's schema, as it is, in memory: every statement is prepared against it. A
  ** virtual table creates its shadow tables itself: their own CREATE fails, harmlessly. */
  for(i=0; rc==CV_OK && i<r.nRow; i++){
    if( r.a[i].type==SQLITE_TEXT ) sqlite3_exec(pDb->hMeta, r.a[i].z, NULL, NULL, NULL);
  }
  dq_rows_free(&r);
  if( rc ){
    db_conn_close(pDb);
    return rc;
  }
  *ppDb = pDb;
  return CV_OK;
}

void db_remote_close(struct cv_db *pDb){
  db_conn_close(pDb);
}

cv_rc db_conn_open(const char *zPath, int flags, int busyMs, const char *zPragmas,
                       struct cv_db **ppDb, char **pzErr){
  struct cv_db *pDb = calloc(1, sizeof *pDb);
  int rc;
  char zBusy[64];
  *ppDb = NULL;
  if( !pDb ) return CV_NOMEM;
  rc = sqlite3_open_v2(zPath, &pDb->h, flags | SQLITE_OPEN_NOMUTEX, NULL);
  if( rc!=SQLITE_OK ){
    if( pzErr ){
      const char *zMsg = pDb->h ? sqlite3_errmsg(pDb->h) : sqlite3_errstr(rc);
      size_t n = strlen(zPath) + strlen(zMsg) + 32;
      *pzErr = malloc(n);
      if( *pzErr ) snprintf(*pzErr, n, "cannot open %s: %s", zPath, zMsg);
    }
    sqlite3_close(pDb->h);
    free(pDb);
    return rc==SQLITE_CANTOPEN ? CV_IO : CV_DB;
  }
  sqlite3_extended_result_codes(pDb->h, 1);
  snprintf(zBusy, sizeof zBusy, "PRAGMA busy_timeout=%d;", busyMs);
  rc = fts_register(pDb->h);   /* before anything can fire the search index's triggers */
  if( rc==SQLITE_OK ) rc = sqlite3_exec(pDb->h, zBusy, NULL, NULL, NULL);
  if( rc==SQLITE_OK ) rc = sqlite3_exec(pDb->h, zPragmas, NULL, NULL, NULL);
  if( rc!=SQLITE_OK ){
    if( pzErr ){
      const char *zMsg = sqlite3_errmsg(pDb->h);
      size_t n = strlen(zPath) + strlen(zMsg) + 32;
      *pzErr = malloc(n);
      if( *pzErr ) snprintf(*pzErr, n, "cannot set up %s: %s", zPath, zMsg);
    }
    db_conn_close(pDb);
    return CV_DB;
  }
  *ppDb = pDb;
  return CV_OK;
}

sqlite3 *db_conn_handle(struct cv_db *pDb){
  assert( pDb->h );
  return pDb->h;
}

struct cv_fts_tok *db_fts_tok(struct cv_db *pDb){
  if( !pDb->pTok && fts_tok_open(pDb->h ? pDb->h : pDb->hMeta, &pDb->pTok)!=SQLITE_OK ){
    pDb->pTok = NULL;
  }
  return pDb->pTok;
}

const char *db_sqlite_version(void){
  return sqlite3_libversion();
}

int db_schema_version(void){
  const struct cv_asset *p = assets_find("schema.sql");
  const char *z;
  int v = 0;
  if( !p ) return 0;
  for(z=strstr(p->a, "-- version: "); z; z=strstr(z+1, "-- version: ")){
    v = atoi(z + 12);
  }
  return v;
}

/* The data steps that SQL alone does not do well, run right after their section. */
static cv_rc migrate_step(struct cv_db *pDb, int v){
  if( v==3 ) return store_conv_migrate_v3(pDb);
  return CV_OK;
}

/* The data step that must run before section v of schema.sql (on the schema before it). */
static cv_rc migrate_pre_step(struct cv_db *pDb, int v){
  if( v==12 ) return store_conv_migrate_v12(pDb);
  return CV_OK;
}

/* No row of PRAGMA foreign_key_check: CV_OK; otherwise CV_DB with a message. */
static cv_rc foreign_keys_hold(struct cv_db *pDb, char **pzErr){
  cv_stmt *pSt;
  cv_rc crc = db_stmt(pDb, "PRAGMA foreign_key_check", &pSt);
  int rc;
  if( crc ) return crc;
  rc = db_step(pSt);
  if( rc==SQLITE_ROW ){
    if( pzErr && (*pzErr = malloc(256))!=NULL ){
      snprintf(*pzErr, 256, "migration left a foreign key broken: table %s row %lld",
               (const char*)db_column_text(pSt, 0), (long long)db_column_int64(pSt, 1));
    }
    crc = CV_DB;
  }else if( rc!=SQLITE_DONE ){
    crc = db_rc(pDb, rc);
  }
  db_reset(pSt);
  return crc;
}

/* Apply every schema.sql section above the file's user_version, in one transaction. Tables
** are rebuilt by some sections, so foreign keys are off while they run (the pragma only
** takes effect outside a transaction) and checked before COMMIT. A crash at any point
** leaves the file as it was: the next start migrates it again. */
static cv_rc migrate(struct cv_db *pDb, char **pzErr){
  const struct cv_asset *p = assets_find("schema.sql");
  const char *z;
  int have = 0, want = db_schema_version(), rc, v = 0;
  char *zErr = NULL;
  cv_rc crc;
  if( !p || want<=0 ) return CV_DB;
  crc = db_exec(pDb, "PRAGMA foreign_keys=OFF");
  if( crc ) return crc;
  crc = db_exec(pDb, "BEGIN IMMEDIATE");
  for(int i=0; crc==CV_BUSY && pDb->pRemote && i<5000; i++){
    usleep(2000);                      /* a cluster: another node's writer has the lock */
    crc = db_exec(pDb, "BEGIN IMMEDIATE");
  }
  if( crc ) goto done;
  {
    int64_t v64 = 0;
    crc = db_int64(pDb, "PRAGMA user_version", 0, 0, &v64);
    if( crc && crc!=CV_NOTFOUND ) goto rollback;
    have = (int)v64;
  }
  if( have>want ){
    if( pzErr && (*pzErr = malloc(128))!=NULL ){
      snprintf(*pzErr, 128, "database schema version %d is newer than this chatvault (%d)",
               have, want);
    }
    crc = CV_INVALID;
    goto rollback;
  }
  for(z=strstr(p->a, "-- version: "); z && have<want; z=strstr(z+1, "-- version: ")){
    v = atoi(z + 12);
    const char *zNext = strstr(z+1, "-- version: ");
    char *zSection;
    size_t n;
    if( v<=have ) continue;
    crc = migrate_pre_step(pDb, v);
    if( crc ) goto step_failed;
    n = zNext ? (size_t)(zNext - z) : strlen(z);
    zSection = malloc(n+1);
    if( !zSection ){ crc = CV_NOMEM; goto rollback; }
    memcpy(zSection, z, n);
    zSection[n] = 0;
    if( pDb->pRemote ){              /* on the leader, and on the copy statements prepare on */
      rc = db_exec(pDb, zSection)==CV_OK ? SQLITE_OK : SQLITE_ERROR;
      if( rc!=SQLITE_OK ) zErr = sqlite3_mprintf("%s", dq_errmsg(pDb->pRemote));
      else sqlite3_exec(pDb->hMeta, zSection, NULL, NULL, NULL);
    }else{
      rc = sqlite3_exec(pDb->h, zSection, NULL, NULL, &zErr);
    }
    free(zSection);
    if( rc!=SQLITE_OK ){
      if( pzErr && (*pzErr = malloc(256))!=NULL ){
        snprintf(*pzErr, 256, "migration to version %d failed: %s", v, zErr ? zErr : "");
      }
      sqlite3_free(zErr);
      crc = CV_DB;
      goto rollback;
    }
    crc = migrate_step(pDb, v);
    if( crc ) goto step_failed;
  }
  if( have<want ){
    char zSql[64];
    crc = foreign_keys_hold(pDb, pzErr);
    if( crc ) goto rollback;
    snprintf(zSql, sizeof zSql, "PRAGMA user_version=%d", want);
    crc = db_exec(pDb, zSql);
    if( crc ) goto rollback;
  }
  crc = search_index_flush(pDb);     /* changes queued by the migration (and any left over) */
  if( crc ) goto rollback;
  crc = db_exec(pDb, "COMMIT");
  if( crc==CV_OK ) goto done;
  goto rollback;
step_failed:                          /* a data step of version v (before or after its section) */
  if( pzErr && (*pzErr = malloc(128))!=NULL ){
    snprintf(*pzErr, 128, "migration to version %d failed: %s", v, cv_rc_str(crc));
  }
rollback:
  db_exec(pDb, "ROLLBACK");
done:
  {
    cv_rc rcFk = db_exec(pDb, "PRAGMA foreign_keys=ON");
    if( crc==CV_OK ) crc = rcFk;
  }
  return crc;
}

#define DB_GROUP_MAX 256          /* store_threads.c relies on this bound */

/* Run job pJ (and, for a grouped job, every later job of the batch in its group) inside
** the open transaction, in its own SAVEPOINT. Returns an error only when the
** transaction itself is gone (then nothing of the batch may be acknowledged).
** bAlone: pJ is the batch's only job and runs without a SAVEPOINT; its error is returned
** so that the caller rolls the transaction back, which undoes exactly that job. Why: inside
** a savepoint every statement journal is a tail of one growing in-memory sub-journal, and
** SQLite 3.40 truncates it by walking its chunk list, so a big job (a 1000-chat import
** batch with the retention trigger) became quadratic: half of the import's CPU time. */
static cv_rc run_job(struct cv_db *pDb, struct cv_job *pJ, int bAlone){
  cv_rc rcWork, rc = bAlone ? CV_OK : db_run(pDb, "SAVEPOINT job");
  if( rc ){ pJ->rc = rc; return rc; }
  if( pJ->fn ){
    rcWork = pJ->rc = pJ->fn(pDb, pJ->pArg);
  }else{
    void *apArg[DB_GROUP_MAX];
    cv_rc aRc[DB_GROUP_MAX];
    struct cv_job *apJob[DB_GROUP_MAX], *pK;
    int n = 0, i;
    assert( pJ->nMax>0 && pJ->nMax<=DB_GROUP_MAX );
    for(pK=pJ; pK; pK=pK->pNext){
      if( pK->fnMany==pJ->fnMany && pK->key==pJ->key && !pK->bTaken ){
        pK->bTaken = 1;
        if( n==pJ->nMax ){ pK->bDeferred = 1; continue; }
        apJob[n] = pK;
        apArg[n] = pK->pArg;
        aRc[n] = CV_OK;
        n++;
      }
    }
    rcWork = pJ->fnMany(pDb, apArg, n, aRc);
    for(i=0; i<n; i++) apJob[i]->rc = rcWork ? rcWork : aRc[i];
  }
  if( !db_in_txn(pDb) ){
    /* SQLite rolled the whole transaction back (disk full, I/O error), or the leader is lost */
    return rcWork ? rcWork : CV_DB;
  }
  if( bAlone ) return rcWork;
  if( rcWork ) db_run(pDb, "ROLLBACK TO job");
  return db_run(pDb, "RELEASE job");
}

#ifdef CV_TEST_HOOKS
/* Test builds only (the ASan build: -DCV_TEST_HOOKS): with CV_TEST_LOSE_LEADER=N in the
** environment, every Nth batch on a cluster loses its connection to the leader after its jobs
** ran, before its COMMIT, so run_batch runs the batch again: every job must give the same
** answer and leak nothing from its first try (tests/cluster/test_api_on_cluster.py). Only the
** writer thread calls it. */
static int test_lose_leader(void){
  static int n = -1, i = 0;
  if( n<0 ){
    const char *z = getenv("CV_TEST_LOSE_LEADER");
    n = z ? atoi(z) : 0;
  }
  return n>0 && (++i % n)==0;
}
#endif

/* One try of a batch of jobs in one transaction (see the file header); aKey (cluster: the
** batch's key, 16 bytes) is inserted in it. CV_OK when it committed. Otherwise the error
** that ended the transaction (rolled back, or lost with the leader); the jobs' own results
** stay as they are (run_batch decides what their callers get). *pbDone is set when aKey was
** already there: an earlier try committed (nothing of this one ran). */
static cv_rc batch_once(struct cv_store *pS, struct cv_job *pBatch, const unsigned char *aKey,
                        int *pbDone){
  struct cv_db *pDb = pS->pWriter;
  struct cv_job *pJ;
  cv_rc lost = db_run(pDb, "BEGIN IMMEDIATE");
  *pbDone = 0;
  if( lost ) return lost;
  if( aKey ){
    cv_stmt *pSt;
    lost = db_stmt(pDb, "INSERT INTO cluster_batches(id, at) VALUES(?1, ?2)", &pSt);
    if( lost==CV_OK ){
      db_bind_blob(pSt, 1, aKey, 16, SQLITE_STATIC);
      db_bind_int64(pSt, 2, util_now_ms());
      lost = db_step_done(pDb, pSt, NULL);
      if( lost==CV_CONFLICT ){
        *pbDone = 1;
        db_run(pDb, "ROLLBACK");
        return lost;
      }
    }
    if( lost==CV_OK && (pS->nBatch & 255)==0 ){    /* keys older than an hour */
      lost = db_run_int64(pDb, "DELETE FROM cluster_batches WHERE at < ?1",
                          util_now_ms() - 3600*1000, 0, NULL);
    }
  }
  for(pJ=pBatch; pJ && !lost; pJ=pJ->pNext){ pJ->rc = CV_OK; pJ->bTaken = pJ->bDeferred = 0; }
  for(pJ=pBatch; pJ && !lost; pJ=pJ->pNext){
    if( pJ->bTaken ) continue;
    lost = run_job(pDb, pJ, !aKey && pBatch->pNext==NULL && pJ->fn!=NULL);
  }
  if( lost==CV_OK ) lost = search_index_flush(pDb);   /* the search index, in this same transaction */
#ifdef CV_TEST_HOOKS
  if( lost==CV_OK && aKey && test_lose_leader() ){
    dq_break(pDb->pRemote, "test: the leader lost before COMMIT");
    lost = CV_CLOSED;
  }
#endif
  if( lost==CV_OK ) lost = db_run(pDb, "COMMIT");
  if( lost && db_in_txn(pDb) ) db_run(pDb, "ROLLBACK");
  return lost;
}

/* Give every job of the batch that has no error of its own the error rc. */
static void batch_fail(struct cv_job *pBatch, cv_rc rc){
  struct cv_job *pJ;
  for(pJ=pBatch; pJ; pJ=pJ->pNext) if( pJ->rc==CV_OK ) pJ->rc = rc;
}

/* Cluster: connect pDb again, to whoever leads now (found through zAddrs within ms), its
** cached statements kept (they hold no state on the node). */
static cv_rc conn_renew(struct cv_db *pDb, const char *zAddrs, int ms){
  char zErr[256];
  struct dq_conn *c = NULL;
  int i;
  cv_rc rc = dq_connect_leader(zAddrs, ms, &c, zErr, sizeof zErr);
  if( rc==CV_OK ) rc = remote_setup(c, DB_CLUSTER_NAME, zErr, sizeof zErr);
  if( rc ){
    fprintf(stderr, "chatvault: cluster: %s\n", zErr);
    dq_close(c);
    /* the old connection may be to a node that no longer leads: never use it again */
    dq_break(pDb->pRemote, "no leader found");
    return rc==CV_NOMEM ? rc : CV_BUSY;
  }
  dq_close(pDb->pRemote);
  pDb->pRemote = c;
  pDb->bTxn = 0;
  for(i=0; i<pDb->nStmt; i++){
    if( pDb->aStmt[i].pR ){
      dbr_reset(pDb->aStmt[i].pR);
      pDb->aStmt[i].pR->c = c;
    }
  }
  return CV_OK;
}

/* Cluster: a connection found the leader lost; every reader reconnects before its next use. */
static void leader_lost(struct cv_store *pS){
  __atomic_add_fetch(&pS->epoch, 1, __ATOMIC_RELAXED);
}

/* Cluster: 1 when the batch with key aKey committed, 0 when not, -1 when it cannot be told. */
static int batch_committed(struct cv_db *pDb, const unsigned char *aKey){
  cv_stmt *pSt;
  int r;
  if( db_stmt(pDb, "SELECT 1 FROM cluster_batches WHERE id=?1", &pSt) ) return -1;
  db_bind_blob(pSt, 1, aKey, 16, SQLITE_STATIC);
  r = db_step(pSt);
  db_reset(pSt);
  return r==SQLITE_ROW ? 1 : r==SQLITE_DONE ? 0 : -1;
}

/* Invariant of a connection going back to the pool (and of the writer between batches): no
** statement of it is stepped and not reset. Such a statement keeps its read transaction, and
** every later read on the connection would see that old snapshot (in autocommit mode nothing
** else ends it). Checked in test builds (CV_TEST_HOOKS: the ASan build the suites run), which
** abort naming the statement; a release build does no walk on its read path. */
#ifdef CV_TEST_HOOKS
static void check_idle(struct cv_db *pDb){
  sqlite3_stmt *p = NULL;
  if( !pDb->h ) return;
  while( (p = sqlite3_next_stmt(pDb->h, p))!=NULL ){
    if( sqlite3_stmt_busy(p) ){
      fprintf(stderr, "chatvault: bug: a statement left stepped and not reset: %s\n",
              sqlite3_sql(p));
      abort();
    }
  }
}
#else
# define check_idle(pDb) ((void)(pDb))
#endif

/* Run one batch of jobs in one transaction and set every job's result. On a cluster, a batch
** that lost its leader (the connection broken, timed out, or the node no longer leading) is
** tried again on whoever leads now, until DB_RETRY_MS after its oldest job was queued: first
** asking, when its COMMIT may have landed, whether its key is there (then it did, and its
** callers get the results of that try). Past that its callers get CV_BUSY (503: try again),
** so a caller waits about DB_RETRY_MS at most, not a window per batch queued before its own
** (a node cut off from the majority answered after two windows, ~20 s). A batch whose window
** passed while it queued is still tried once on a connection that is not known lost. A job
** may so run more than once, but only one of its runs is ever committed. */
static void run_batch(struct cv_store *pS, struct cv_job *pBatch){
  struct cv_db *pDb = pS->pWriter;
  unsigned char aKey[16];
  int64_t end;
  int bUnsure = 0, bTried = 0;
  cv_rc rc;
  if( !pS->zCluster ){
    int bDone;
    rc = batch_once(pS, pBatch, NULL, &bDone);
    if( rc ){ batch_fail(pBatch, rc); return; }
    if( pS->xCommit ) pS->xCommit(pS->pCommitArg);   /* e.g. the events hub: read the log */
    return;
  }
  util_random(aKey, sizeof aKey);
  /* the queue is in arrival order (deferred jobs go back ahead of newer ones): its head,
  ** the batch's first job, is its oldest */
  end = pBatch->msQueued + DB_RETRY_MS;
  for(;;){
    int64_t left = end - util_mono_us()/1000;
    int bDone;
    if( left<=0 && (bTried || dq_lost(pDb->pRemote)) ){ batch_fail(pBatch, CV_BUSY); return; }
    bTried = 1;
    if( dq_lost(pDb->pRemote) ){
      leader_lost(pS);
      rc = conn_renew(pDb, pS->zCluster, (int)left);
      if( rc ){ batch_fail(pBatch, rc); return; }
    }
    if( bUnsure ){                  /* the last try's COMMIT may have landed: did it? */
      int r = batch_committed(pDb, aKey);
      if( r==1 ) break;
      if( r<0 ){
        if( dq_lost(pDb->pRemote) ) continue;
        batch_fail(pBatch, CV_DB);
        return;
      }
      bUnsure = 0;
    }
    rc = batch_once(pS, pBatch, aKey, &bDone);
    if( rc==CV_OK || bDone ) break;
    if( dq_lost(pDb->pRemote) ){
      bUnsure = pDb->bCommitSent || !pDb->bTxn;   /* its COMMIT sent (or BEGIN failed) */
    }else if( rc==CV_BUSY ){
      /* another node's writer holds the leader's write lock (dqlite's connections have no
      ** busy timeout): wait a moment, try again */
      usleep(1000 + (useconds_t)(util_mono_us() % 4000));
    }else{
      batch_fail(pBatch, rc);
      return;
    }
  }
  pS->nBatch++;
  if( pS->xCommit ) pS->xCommit(pS->pCommitArg);
}

cv_rc sqlite_on_commit(struct cv_store *pS, cv_commit_fn fn, void *pArg){
  pthread_mutex_lock(&pS->mu);
  pS->xCommit = fn;
  pS->pCommitArg = pArg;
  pthread_mutex_unlock(&pS->mu);
  return CV_OK;
}

/* Coalescing. Concurrent appends to one thread are applied with one rewrite of its row, so
** the rate is (callers per batch) / (time of a rewrite). Without a pause the batches
** alternate between two halves of the callers: those answered by batch k queue again
** while batch k+1 runs, and the rewrite of a big row costs the same for 30 messages as
** for 63. So when the last batch with grouped jobs took at least DB_COALESCE_MIN_US, the
** writer, holding mu, waits until its callers are queued again beside those that queued
** meanwhile (nCallers), as long as jobs keep arriving (no more than DB_COALESCE_GAP_US
** apart), for at most a quarter of that batch's time and never more than
** DB_COALESCE_MAX_US. Cheap batches (every ordinary write) never wait. */
#define DB_COALESCE_MIN_US  2000
#define DB_COALESCE_GAP_US  2000
#define DB_COALESCE_MAX_US 10000

/* Called with mu held: wait on cvWork until it is signalled or the monotonic clock reaches
** untilUs (µs, util_mono_us). pthread_cond_timedwait's result: 0 when signalled (or woken for
** nothing), ETIMEDOUT when the time passed. */
static int writer_wait_until(struct cv_store *pS, int64_t untilUs){
  struct timespec ts;
  ts.tv_sec = (time_t)(untilUs/1000000);
  ts.tv_nsec = (long)(untilUs%1000000)*1000;
  return pthread_cond_timedwait(&pS->cvWork, &pS->mu, &ts);
}

static void coalesce(struct cv_store *pS){
  int64_t now, end, limit = pS->lastBatchUs/4;
  if( pS->lastBatchUs<DB_COALESCE_MIN_US ) return;
  now = util_mono_us();
  end = now + (limit < DB_COALESCE_MAX_US ? limit : DB_COALESCE_MAX_US);
  while( !pS->bStop && now<end && pS->nQueued<pS->nCallers ){
    int nBefore = pS->nQueued;
    int64_t until = now + DB_COALESCE_GAP_US < end ? now + DB_COALESCE_GAP_US : end;
    while( pS->nQueued==nBefore && !pS->bStop && writer_wait_until(pS, until)==0 ){}
    if( pS->nQueued==nBefore ) return;     /* a quiet gap: the others are not coming */
    now = util_mono_us();
  }
}

/* Merging the search index while idle (schema.sql, version 14). FTS5 merges less as the
** batches write (automerge 8), so the segments they leave are merged here instead: once no
** job has come for DB_MERGE_IDLE_MS after a batch (or since the start), the writer runs one
** merge step after another, each its own transaction writing at most DB_MERGE_PAGES of the
** index's leaves (~1 MiB: leaves of up to 8,140 bytes since version 15; milliseconds: a job
** that comes meanwhile waits for one step at most, then runs before the next step), until a
** step finds nothing to merge. A step that fails (the disk full, a lost leader) ends the
** merging until the next batch: the index stays correct, only less merged. */
#define DB_MERGE_IDLE_MS  200
#define DB_MERGE_PAGES    128

/* Called with mu held and the queue empty: wait until a job comes, the store stops, or ms
** pass. 1 when they passed with the queue still empty and the store not stopping. */
static int writer_idle(struct cv_store *pS, int ms){
  int64_t until = util_mono_us() + (int64_t)ms*1000;
  while( !pS->pHead && !pS->bStop ){
    if( util_mono_us()>=until ) return 1;
    /* woken, timed out or woken for nothing: the loop looks again either way */
    (void)writer_wait_until(pS, until);
  }
  return 0;
}

/* One merge step in its own transaction (called without mu). 1 when it merged something
** (there may be more to merge); 0 when there was nothing to merge, or it failed. */
static int merge_step(struct cv_store *pS){
  struct cv_db *pDb = pS->pWriter;
  int bWorked = 0;
  cv_rc rc = db_run(pDb, "BEGIN IMMEDIATE");
  if( rc==CV_OK ) rc = search_index_merge(pDb, DB_MERGE_PAGES, &bWorked);
  if( rc==CV_OK ) rc = db_run(pDb, "COMMIT");
  if( rc && db_in_txn(pDb) ) db_run(pDb, "ROLLBACK");
  check_idle(pDb);
  return rc==CV_OK && bWorked;
}

static void *writer_main(void *pArg){
  struct cv_store *pS = pArg;
  int bMergeDue = 1;                      /* the index may have segments to merge */
  int bMerging = 0;                       /* merge steps under way: no more quiet wait */
  pthread_mutex_lock(&pS->mu);
  for(;;){
    struct cv_job *pBatch, *pJ, *pDefer = NULL, *pDeferLast = NULL;
    int64_t t0, tBatch;
    int nGrouped = 0, nDefer = 0;
    while( !pS->pHead && !pS->bStop ){
      if( !bMergeDue ){
        pthread_cond_wait(&pS->cvWork, &pS->mu);
      }else if( bMerging || writer_idle(pS, DB_MERGE_IDLE_MS) ){
        pthread_mutex_unlock(&pS->mu);
        bMergeDue = bMerging = merge_step(pS);
        pthread_mutex_lock(&pS->mu);
      }
    }
    if( !pS->pHead ) break;
    bMergeDue = 1;
    bMerging = 0;
    coalesce(pS);
    pBatch = pS->pHead;
    pS->pHead = pS->pTail = NULL;
    pS->nQueued = 0;
    pthread_mutex_unlock(&pS->mu);
    t0 = util_mono_us();
    run_batch(pS, pBatch);
    tBatch = util_mono_us() - t0;
    check_idle(pS->pWriter);
    pthread_mutex_lock(&pS->mu);
    for(pJ=pBatch; pJ; ){
      struct cv_job *pNext = pJ->pNext;   /* read before bDone: the job lives on a caller's stack */
      nGrouped += pJ->fnMany!=NULL;
      if( pJ->bDeferred ){                /* it did not run: back to the queue, in order */
        pJ->bDeferred = pJ->bTaken = 0;
        pJ->rc = CV_OK;
        pJ->pNext = NULL;
        if( pDeferLast ) pDeferLast->pNext = pJ; else pDefer = pJ;
        pDeferLast = pJ;
        nDefer++;
      }else{
        pJ->bDone = 1;
        pthread_cond_signal(&pJ->cvDone); /* the caller wakes only once we unlock mu */
      }
      pJ = pNext;
    }
    if( pDefer ){                         /* ahead of the jobs queued meanwhile */
      pDeferLast->pNext = pS->pHead;
      if( !pS->pHead ) pS->pTail = pDeferLast;
      pS->pHead = pDefer;
      pS->nQueued += nDefer;
    }
    pS->lastBatchUs = nGrouped ? tBatch : 0;
    pS->nCallers = pS->nQueued + nGrouped - nDefer;
  }
  pthread_mutex_unlock(&pS->mu);
  return NULL;
}

/* Queue job and wait until its batch committed. */
static cv_rc enqueue_and_wait(struct cv_store *pS, struct cv_job *pJob){
  pthread_cond_init(&pJob->cvDone, NULL);
  pJob->msQueued = util_mono_us()/1000;
  pthread_mutex_lock(&pS->mu);
  if( pS->pTail ) pS->pTail->pNext = pJob; else pS->pHead = pJob;
  pS->pTail = pJob;
  pS->nQueued++;
  pthread_cond_signal(&pS->cvWork);
  while( !pJob->bDone ) pthread_cond_wait(&pJob->cvDone, &pS->mu);
  pthread_mutex_unlock(&pS->mu);
  pthread_cond_destroy(&pJob->cvDone);
  return pJob->rc;
}

cv_rc db_write_grouped(struct cv_store *pS, cv_write_many_fn fnMany, int64_t key,
                       int nMax, void *pArg){
  struct cv_job job;
  assert( pS && fnMany && nMax>0 && nMax<=DB_GROUP_MAX );
  if( !pS->pWriter ) return CV_DB;
  memset(&job, 0, sizeof job);
  job.fnMany = fnMany;
  job.key = key;
  job.nMax = nMax;
  job.pArg = pArg;
  return enqueue_and_wait(pS, &job);
}

cv_rc db_write(struct cv_store *pS, cv_write_fn fn, void *pArg){
  struct cv_job job;
  assert( pS && fn );
  if( !pS->pWriter ) return CV_DB;
  memset(&job, 0, sizeof job);
  job.fn = fn;
  job.pArg = pArg;
  return enqueue_and_wait(pS, &job);
}

struct cv_db *db_reader(struct cv_store *pS){
  struct cv_db *pDb;
  pthread_mutex_lock(&pS->muR);
  while( pS->nFree==0 ) pthread_cond_wait(&pS->cvR, &pS->muR);
  pDb = pS->apFree[--pS->nFree];
  pthread_mutex_unlock(&pS->muR);
  if( pDb->pRemote ){              /* cluster: to whoever leads now, with a deadline */
    if( dq_lost(pDb->pRemote) || pDb->epoch!=__atomic_load_n(&pS->epoch, __ATOMIC_RELAXED) ){
      pDb->epoch = __atomic_load_n(&pS->epoch, __ATOMIC_RELAXED);
      conn_renew(pDb, pS->zCluster, DB_READ_MS);
    }
    /* a failed renew fails every call: 503 */
  }
  return pDb;
}

void db_reader_done(struct cv_store *pS, struct cv_db *pDb){
  check_idle(pDb);
  if( pDb->pRemote && db_in_txn(pDb) ){
    /* a store's read transaction whose COMMIT failed (dqlite answers SQLITE_BUSY while it
    ** checkpoints): the leader still holds it open; end it, or never use the connection again */
    if( db_run(pDb, "ROLLBACK")!=CV_OK ) dq_break(pDb->pRemote, "a transaction left open");
  }
  assert( pDb && !db_in_txn(pDb) );
  if( pDb->pRemote && dq_lost(pDb->pRemote) ) leader_lost(pS);
  pthread_mutex_lock(&pS->muR);
  pS->apFree[pS->nFree++] = pDb;
  pthread_cond_signal(&pS->cvR);
  pthread_mutex_unlock(&pS->muR);
}

/* Write settings row zKey = zValue on the writer pDb (a job of settings_job's batch),
** replacing what the file held; zValue NULL writes nothing. The schema's triggers read these
** rows (retention, refreshed copies), so a flag of `serve` holds for every later writer. */
static cv_rc put_setting(struct cv_db *pDb, const char *zKey, const char *zValue){
  cv_stmt *pSt;
  cv_rc rc;
  if( !zValue ) return CV_OK;
  rc = db_stmt(pDb, "INSERT INTO settings(key,value) VALUES(?1,?2)"
                    " ON CONFLICT(key) DO UPDATE SET value=excluded.value", &pSt);
  if( rc ) return rc;
  db_bind_text(pSt, 1, zKey, -1, SQLITE_STATIC);
  db_bind_text(pSt, 2, zValue, -1, SQLITE_STATIC);
  rc = db_rc(pDb, db_step(pSt));
  db_reset(pSt);
  return rc;
}

/* The settings serve's flags write (history_limit, history_overflow, refresh_copies). */
static cv_rc settings_job(struct cv_db *pDb, void *pArg){
  const struct cv_store_opts *pO = pArg;
  cv_rc rc = CV_OK;
  if( pO->historyLimit>0 ){
    cv_stmt *pSt;
    rc = db_stmt(pDb, "INSERT INTO settings(key,value) VALUES('history_limit',?1)"
                      " ON CONFLICT(key) DO UPDATE SET value=excluded.value", &pSt);
    if( rc ) return rc;
    db_bind_int(pSt, 1, pO->historyLimit);
    rc = db_step_done(pDb, pSt, NULL);
  }
  if( rc==CV_OK ) rc = put_setting(pDb, "history_overflow", pO->zHistoryOverflow);
  if( rc==CV_OK ) rc = put_setting(pDb, "refresh_copies", pO->zRefreshCopies);
  return rc;
}

/* sqlite3_auto_extension's entry: chatvault's search tokenizer on connection h. */
static int fts_auto(sqlite3 *h, const char **pzErr, const struct sqlite3_api_routines *pApi){
  (void)pzErr;
  (void)pApi;
  return fts_register(h);
}

void db_node_init(void){
  db_sqlite_init();
  sqlite3_auto_extension((void(*)(void))fts_auto);
}

/* Cluster: a connection to the leader of pS's cluster; on failure *pzErr says why. */
static cv_rc cluster_conn(struct cv_store *pS, struct cv_db **ppDb, char **pzErr){
  char zErr[256];
  cv_rc rc = db_remote_open(pS->zCluster, DB_CLUSTER_NAME, ppDb, zErr, sizeof zErr);
  if( rc && pzErr && (*pzErr = malloc(300))!=NULL ){
    snprintf(*pzErr, 300, "cluster %s: %s", pS->zCluster, zErr);
  }
  return rc;
}

cv_rc db_open(const struct cv_store_opts *pO, struct cv_store **ppStore, char **pzErr){
  struct cv_store *pS;
  cv_rc rc;
  int i, nReader = pO->nReaders>0 ? pO->nReaders : 1;
  char zWriterPragmas[512];
  /* 512 KiB of page cache per reader (8 by default): a whole long conversation streamed by
  ** every reader filled 1 MiB caches and took the one-chat bench load to 33 MiB resident
  ** (23.6 MiB with 512 KiB); lists and reads of one thread ran alike (the OS caches the file) */
  static const char zReaderPragmas[] =
    "PRAGMA foreign_keys=ON; PRAGMA query_only=1; PRAGMA cache_size=-512;"
    "PRAGMA temp_store=MEMORY;";

  *ppStore = NULL;
  if( pzErr ) *pzErr = NULL;
  db_sqlite_init();
  pS = calloc(1, sizeof *pS);
  if( !pS ) return CV_NOMEM;
  pS->base.pB = &cv_sqlite_backend;
  pthread_mutex_init(&pS->mu, NULL);
  {
    pthread_condattr_t ca;            /* coalesce() waits on CLOCK_MONOTONIC */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&pS->cvWork, &ca);
    pthread_condattr_destroy(&ca);
  }
  pthread_cond_init(&pS->cvDone, NULL);
  pthread_mutex_init(&pS->muR, NULL);
  pthread_cond_init(&pS->cvR, NULL);

  if( pO->zCluster ){
    pS->zCluster = strdup(pO->zCluster);
    if( !pS->zCluster ){ rc = CV_NOMEM; goto fail; }
    /* the writer migrates, then opens again: its copy of the schema must be the new one */
    rc = cluster_conn(pS, &pS->pWriter, pzErr);
    if( rc==CV_OK ) rc = migrate(pS->pWriter, pzErr);
    if( rc ) goto fail;
    db_conn_close(pS->pWriter);
    pS->pWriter = NULL;
    rc = cluster_conn(pS, &pS->pWriter, pzErr);
    if( rc ) goto fail;
  }else if( !pO->bReadOnly ){
    snprintf(zWriterPragmas, sizeof zWriterPragmas,
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=ON;"
             "PRAGMA secure_delete=FAST; PRAGMA cache_size=-4096; PRAGMA temp_store=MEMORY;",
             pO->bSyncFull ? "FULL" : "NORMAL");
    rc = db_conn_open(pO->zPath, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE, pO->busyMs,
                   zWriterPragmas, &pS->pWriter, pzErr);
    if( rc ) goto fail;
    rc = migrate(pS->pWriter, pzErr);
    if( rc ) goto fail;
  }
  if( pS->pWriter ){
    {
      struct cv_conv_limits lim;
      lim.nMessages = pO->maxConvMessages;
      lim.nBytes = pO->maxConvBytes;
      lim.nUserBytes = pO->maxUserBytes;
      store_conv_set_limits(&lim);
    }
  }
  pS->apReader = calloc((size_t)nReader, sizeof *pS->apReader);
  pS->apFree = calloc((size_t)nReader, sizeof *pS->apFree);
  if( !pS->apReader || !pS->apFree ){ rc = CV_NOMEM; goto fail; }
  for(i=0; i<nReader; i++){
    if( pS->zCluster ){
      rc = cluster_conn(pS, &pS->apReader[i], pzErr);
    }else{
      rc = db_conn_open(pO->zPath, pO->bReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE,
                     pO->busyMs, zReaderPragmas, &pS->apReader[i], pzErr);
    }
    if( rc ) goto fail;
    pS->nReader++;
    pS->apFree[pS->nFree++] = pS->apReader[i];
  }
  if( pS->pWriter ){
    if( pthread_create(&pS->writer, NULL, writer_main, pS)!=0 ){ rc = CV_NOMEM; goto fail; }
    pS->bWriterRunning = 1;
    rc = db_write(pS, settings_job, (void*)pO);   /* (a cluster's writer waits its turn) */
    if( rc ) goto fail;
  }
  *ppStore = pS;
  return CV_OK;

fail:
  sqlite_close(pS);
  return rc;
}

void sqlite_close(struct cv_store *pS){
  int i;
  if( !pS ) return;
  if( pS->bWriterRunning ){
    pthread_mutex_lock(&pS->mu);
    pS->bStop = 1;
    pthread_cond_signal(&pS->cvWork);
    pthread_mutex_unlock(&pS->mu);
    pthread_join(pS->writer, NULL);
  }
  for(i=0; i<pS->nReader; i++) db_conn_close(pS->apReader[i]);
  if( pS->pWriter ){
    /* leave a compact WAL behind: checkpoint now that every reader is gone */
    if( pS->pWriter->h ){
      sqlite3_wal_checkpoint_v2(pS->pWriter->h, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    }
    db_conn_close(pS->pWriter);
  }
  free(pS->zCluster);
  free(pS->apReader);
  free(pS->apFree);
  pthread_mutex_destroy(&pS->mu);
  pthread_cond_destroy(&pS->cvWork);
  pthread_cond_destroy(&pS->cvDone);
  pthread_mutex_destroy(&pS->muR);
  pthread_cond_destroy(&pS->cvR);
  free(pS);
}
