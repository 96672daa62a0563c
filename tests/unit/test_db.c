/* test_db.c — unit tests of src/db.c: migration, reopen, newer schema refused, a missing
** file refused (check and backup: test_db_file.c), group commit of many concurrent jobs, a
** failing job undoing only itself, grouped jobs split at their nMax with the rest carried to
** the next batch, the search index merged while the writer is idle (and, after a merge step
** failed, only once written again). */
#include "tinytest.h"
#include "db.h"
#include "store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char zDir[64], zPath[128];

static struct cv_store *open_path(const char *z, cv_rc *pRc){
  struct cv_store_opts o;
  struct cv_store *p = NULL;
  char *zErr = NULL;
  memset(&o, 0, sizeof o);
  o.zPath = z;
  o.bSyncFull = 1;
  o.nReaders = 2;
  o.busyMs = 500;
  o.historyLimit = 30;
  *pRc = db_open(&o, &p, &zErr);
  free(zErr);
  return p;
}

static cv_rc insert_user(struct cv_db *pDb, void *pArg){
  static const char zSql[] = "INSERT INTO users(email, created_at) VALUES(?1, 'x')";
  cv_stmt *pSt;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_text(pSt, 1, (const char*)pArg, -1, SQLITE_STATIC);
  rc = db_rc(pDb, db_step(pSt));
  db_reset(pSt);
  return rc;
}

static cv_rc insert_then_fail(struct cv_db *pDb, void *pArg){
  cv_rc rc = insert_user(pDb, pArg);
  return rc ? rc : CV_INVALID;   /* the insert must be undone */
}

/* Column 0 of the first row of the static SQL zSql on a reader of p; -1 when it fails. */
static int read_int(struct cv_store *p, const char *zSql){
  struct cv_db *pDb = db_reader(p);
  cv_stmt *pSt;
  int n = -1;
  if( db_stmt(pDb, zSql, &pSt)==CV_OK ){
    if( db_step(pSt)==SQLITE_ROW ) n = db_column_int(pSt, 0);
    db_reset(pSt);
  }
  db_reader_done(p, pDb);
  return n;
}

static int count_users(struct cv_store *p){
  return read_int(p, "SELECT count(*) FROM users");
}

static void migrate_and_reopen(void){
  struct cv_store *p;
  cv_rc rc;
  char *zReport = NULL;
  snprintf(zDir, sizeof zDir, "/tmp/cvdb.XXXXXX");
  TT_CHECK( mkdtemp(zDir)!=NULL );
  snprintf(zPath, sizeof zPath, "%s/t.db", zDir);
  p = open_path(zPath, &rc);
  TT_CHECK( rc==CV_OK && p );
  TT_CHECK( db_write(p, insert_user, "a@x")==CV_OK );
  TT_CHECK( db_write(p, insert_user, "A@X")==CV_CONFLICT );
  TT_CHECK( db_write(p, insert_then_fail, "b@x")==CV_INVALID );
  TT_CHECK( count_users(p)==1 );
  store_close(p);
  p = open_path(zPath, &rc);
  TT_CHECK( rc==CV_OK && count_users(p)==1 );
  store_close(p);
  TT_CHECK( db_check(zPath, &zReport)==CV_OK );
  TT_CHECK( zReport && strstr(zReport, "integrity: ok") );
  free(zReport);
  TT_CHECK( db_schema_version()>=1 );
}

static struct cv_store *pShared;
static void *writer(void *pArg){
  char zEmail[32];
  snprintf(zEmail, sizeof zEmail, "u%ld@x", (long)(intptr_t)pArg);
  if( db_write(pShared, insert_user, zEmail)!=CV_OK ) return (void*)1;
  return NULL;
}

static void group_commit(void){
  pthread_t a[64];
  long i;
  int bad = 0;
  cv_rc rc;
  pShared = open_path(zPath, &rc);
  TT_CHECK( rc==CV_OK );
  for(i=0; i<64; i++) pthread_create(&a[i], NULL, writer, (void*)(intptr_t)i);
  for(i=0; i<64; i++){ void *r; pthread_join(a[i], &r); if( r ) bad++; }
  TT_CHECK( bad==0 );
  TT_CHECK( count_users(pShared)==65 );
  store_close(pShared);
}

/* Grouped jobs: each call inserts one user per job after a pause (a slow batch, so the
** writer also coalesces). No call may see more than GROUP_NMAX jobs; every job is answered. */
#define GROUP_NMAX 7
static pthread_mutex_t muSeen = PTHREAD_MUTEX_INITIALIZER;
static int nMaxSeen, nCalls;
static cv_rc insert_many(struct cv_db *pDb, void **apArg, int nArg, cv_rc *aRc){
  int i;
  pthread_mutex_lock(&muSeen);
  if( nArg>nMaxSeen ) nMaxSeen = nArg;
  nCalls++;
  pthread_mutex_unlock(&muSeen);
  usleep(3000);
  for(i=0; i<nArg; i++) aRc[i] = insert_user(pDb, apArg[i]);
  return CV_OK;
}
static void *grouped_writer(void *pArg){
  char zEmail[32];
  snprintf(zEmail, sizeof zEmail, "g%ld@x", (long)(intptr_t)pArg);
  if( db_write_grouped(pShared, insert_many, 42, GROUP_NMAX, zEmail)!=CV_OK ) return (void*)1;
  return NULL;
}
static void grouped_jobs_split_at_nmax(void){
  pthread_t a[100];
  long i;
  int bad = 0, nBefore;
  cv_rc rc;
  pShared = open_path(zPath, &rc);
  TT_CHECK( rc==CV_OK );
  nBefore = count_users(pShared);
  for(i=0; i<100; i++) pthread_create(&a[i], NULL, grouped_writer, (void*)(intptr_t)i);
  for(i=0; i<100; i++){ void *r; pthread_join(a[i], &r); if( r ) bad++; }
  TT_CHECK( bad==0 );
  TT_CHECK( count_users(pShared)==nBefore+100 );
  TT_CHECK( nMaxSeen>=1 && nMaxSeen<=GROUP_NMAX );
  TT_CHECK( nCalls>=100/GROUP_NMAX );
  printf("  100 grouped jobs in %d calls, at most %d per call\n", nCalls, nMaxSeen);
  store_close(pShared);
}

static void newer_schema_refused(void){
  sqlite3 *h;
  struct cv_store *p;
  cv_rc rc;
  char zSql[64];
  TT_CHECK( sqlite3_open(zPath, &h)==SQLITE_OK );
  snprintf(zSql, sizeof zSql, "PRAGMA user_version=%d", db_schema_version()+1);
  TT_CHECK( sqlite3_exec(h, zSql, NULL, NULL, NULL)==SQLITE_OK );
  sqlite3_close(h);
  p = open_path(zPath, &rc);
  TT_CHECK( rc==CV_INVALID && p==NULL );
  {
    char *zReport = NULL;
    TT_CHECK( db_check(zPath, &zReport)==CV_INVALID );
    TT_CHECK( zReport && strstr(zReport, "schema version") );
    free(zReport);
  }
}

/* One row of the search index, in a transaction of its own (pArg: its rowid). */
static cv_rc index_one(struct cv_db *pDb, void *pArg){
  static const char zSql[] = "INSERT INTO search_index(rowid, body) VALUES(?1, ?2)";
  char zBody[64];
  cv_stmt *pSt;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  snprintf(zBody, sizeof zBody, "\001" "1\001alpha word%lld", (long long)(intptr_t)pArg);
  db_bind_int64(pSt, 1, (int64_t)(intptr_t)pArg);
  db_bind_text(pSt, 2, zBody, -1, SQLITE_TRANSIENT);
  rc = db_rc(pDb, db_step(pSt));
  db_reset(pSt);
  return rc;
}

/* The index's segments (b-trees), from its _idx table (a row per leaf of each), and the rows
** matching "alpha" (FTS5 reads every segment). */
static int index_segments(struct cv_store *p, int *pnAlpha){
  *pnAlpha = read_int(p, "SELECT count(*) FROM search_index WHERE search_index"
                         " MATCH '\"' || char(1) || '1' || char(1) || 'alpha\"'");
  return read_int(p, "SELECT count(DISTINCT segid) FROM search_index_idx");
}

/* index_segments once the writer's idle merging brought them to one, or after 20 s. */
static int merged_segments(struct cv_store *p, int *pnAlpha){
  int i, nSeg = index_segments(p, pnAlpha);
  for(i=0; i<200 && nSeg!=1; i++){
    usleep(100*1000);
    nSeg = index_segments(p, pnAlpha);
  }
  return nSeg;
}

/* Each write transaction leaves a segment in the search index, which FTS5 merges little as
** it writes (automerge 8, schema.sql version 14): once the store is idle, the writer merges
** them (DB_MERGE_IDLE_MS, then steps of DB_MERGE_PAGES) down to one, and the index finds
** what it found before. A write that comes while it merges is served; so is a close. */
static void idle_writer_merges_the_index(void){
  struct cv_store *p;
  cv_rc rc;
  int i, nSeg = 0, nAlpha = 0, nFirst;
  p = open_path(zPath, &rc);
  TT_CHECK( rc==CV_OK && p );
  if( !p ) return;
  for(i=1; i<=40; i++){                  /* 40 transactions, faster than the idle wait */
    TT_CHECK( db_write(p, index_one, (void*)(intptr_t)i)==CV_OK );
  }
  nFirst = index_segments(p, &nAlpha);
  TT_CHECK( nAlpha==40 );
  /* FTS5 leaves several segments of 40 one-leaf transactions: its automerge works every 64
  ** leaves, its crisis merge of level 0 at 16 segments (the idle wait has not passed unless
  ** this machine stalled) */
  TT_CHECK( nFirst>1 );
  nSeg = merged_segments(p, &nAlpha);
  TT_CHECK( nSeg==1 );
  TT_CHECK( nAlpha==40 );
  /* written again: merged again after the next quiet moment; closed right after a write */
  TT_CHECK( db_write(p, index_one, (void*)(intptr_t)41)==CV_OK );
  TT_CHECK( db_write(p, index_one, (void*)(intptr_t)42)==CV_OK );
  nSeg = merged_segments(p, &nAlpha);
  TT_CHECK( nSeg==1 && nAlpha==42 );
  TT_CHECK( db_write(p, index_one, (void*)(intptr_t)43)==CV_OK );
  store_close(p);
  p = open_path(zPath, &rc);             /* a file opened with segments to merge: merged too */
  TT_CHECK( rc==CV_OK && p );
  if( !p ) return;
  nSeg = merged_segments(p, &nAlpha);
  TT_CHECK( nSeg==1 && nAlpha==43 );
  store_close(p);
}

/* A merge step that fails (here: another connection holds the write lock past the busy
** timeout) ends the merging without harm: the index keeps its segments and finds the same,
** and the next write starts the merging again. */
static void failed_merge_step_waits_for_the_next_write(void){
  struct cv_store *p;
  sqlite3 *h = NULL;
  cv_rc rc;
  int i, nSeg = 0, nAlpha = 0;
  p = open_path(zPath, &rc);
  TT_CHECK( rc==CV_OK && p );
  if( !p ) return;
  nSeg = merged_segments(p, &nAlpha);
  TT_CHECK( nSeg==1 );
  TT_CHECK( sqlite3_open(zPath, &h)==SQLITE_OK );
  for(i=1; i<=20; i++){                  /* segments to merge, written faster than the idle wait */
    TT_CHECK( db_write(p, index_one, (void*)(intptr_t)(100+i))==CV_OK );
  }
  /* the lock taken before the writer's idle wait ends: its merge step's BEGIN IMMEDIATE waits
  ** out the busy timeout (500 ms) and fails */
  TT_CHECK( sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL)==SQLITE_OK );
  usleep(1500*1000);
  TT_CHECK( sqlite3_exec(h, "COMMIT", NULL, NULL, NULL)==SQLITE_OK );
  usleep(700*1000);                      /* idle past DB_MERGE_IDLE_MS: no step runs again */
  nSeg = index_segments(p, &nAlpha);
  TT_CHECK( nSeg>1 );
  TT_CHECK( nAlpha==63 );
  TT_CHECK( db_write(p, index_one, (void*)(intptr_t)200)==CV_OK );   /* merging starts again */
  nSeg = merged_segments(p, &nAlpha);
  TT_CHECK( nSeg==1 && nAlpha==64 );
  sqlite3_close(h);
  store_close(p);
}

static void missing_and_teardown(void){
  char zCmd[160];
  struct cv_store *p;
  cv_rc rc;
  p = open_path("/nonexistent/dir/x.db", &rc);
  TT_CHECK( p==NULL && rc!=CV_OK );
  snprintf(zCmd, sizeof zCmd, "rm -rf %s", zDir);
  TT_CHECK( system(zCmd)==0 );
}

int main(void){
  TT_RUN(migrate_and_reopen);
  TT_RUN(group_commit);
  TT_RUN(grouped_jobs_split_at_nmax);
  TT_RUN(idle_writer_merges_the_index);
  TT_RUN(failed_merge_step_waits_for_the_next_write);
  TT_RUN(newer_schema_refused);
  TT_RUN(missing_and_teardown);
  return TT_DONE();
}
