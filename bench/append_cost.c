/*
** bench/append_cost.c — what one append costs through the real store (store_threads_append,
** linked with chatvault's own objects) on a thread of 20 messages and on one of 20,000: bytes
** written to the WAL per append and appends per second, one append per transaction (the worst
** case: no group commit). A reader holds a snapshot taken before the appends, so no
** checkpoint can restart the WAL and its growth counts every frame written.
** `make bench-append` builds and runs it; bench/run.sh prints its lines. Never part of the tests.
** What the change log (schema version 11, issue 13) costs: each figure is measured with the
** log's triggers (changelog=on, as served) and on a database whose changes_* triggers were
** dropped after it was opened (changelog=off), alternating, ROUNDS (2) rounds in one run.
**
**   build/bench/append_cost DIR [N_APPENDS [SEG_MESSAGES SEG_BYTES]]   (caps: to choose them)
*/
#include "db.h"
#include "store.h"
#include "store_conv.h"
#include "store_threads.h"
#include "store_users.h"
#include "util.h"
#include "drop_triggers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static long long file_size(const char *zPath){
  struct stat st;
  return stat(zPath, &st)==0 ? (long long)st.st_size : 0;
}

/* A thread of n messages of ~230 bytes (the size bench/fill.py gives them). */
static int64_t make_thread(struct cv_store *pS, int64_t userId, int n){
  struct cv_buf b;
  struct cv_thread t;
  int64_t id;
  int i;
  buf_init(&b, (size_t)1<<30);
  buf_append(&b, "[", 1);
  for(i=0; i<n; i++){
    buf_appendf(&b, "%s{\"role\":\"%s\",\"content\":\"message %d %.200s\"}", i ? "," : "",
                i%2 ? "assistant" : "user", i,
                "lorem ipsum dolor sit amet lorem ipsum dolor sit amet lorem ipsum dolor sit amet "
                "lorem ipsum dolor sit amet lorem ipsum dolor sit amet lorem ipsum dolor sit amet "
                "lorem ipsum dolor sit amet lorem ipsum dolor sit amet");
  }
  buf_append(&b, "]", 1);
  if( store_threads_create(pS, userId, "bench", b.a, n, &t) ){ fprintf(stderr, "create failed\n"); exit(1); }
  buf_free(&b);
  id = t.id;
  store_thread_clear(&t);
  return id;
}

static int run(const char *zDir, int nAppend, int bLog){
  struct cv_store_opts o;
  struct cv_store *pS;
  struct cv_user u;
  char zPath[512], zWal[520], *zErr = NULL;
  static const int aSize[2] = { 20, 20000 };
  int64_t aId[2];
  int k, i;
  sqlite3 *hReader;
  snprintf(zPath, sizeof zPath, "%s/append_cost.db", zDir);
  snprintf(zWal, sizeof zWal, "%s-wal", zPath);
  unlink(zPath); unlink(zWal);
  memset(&o, 0, sizeof o);
  o.zPath = zPath; o.bSyncFull = 1; o.nReaders = 2; o.busyMs = 5000;
  if( db_open(&o, &pS, &zErr) ){ fprintf(stderr, "open: %s\n", zErr ? zErr : "?"); return 1; }
  if( !bLog && bench_drop_triggers(zPath, "changes%")<0 ) return 1;
  if( store_users_create(pS, "bench@append.test", NULL, NULL, &u) ) return 1;
  for(k=0; k<2; k++) aId[k] = make_thread(pS, u.id, aSize[k]);
  if( sqlite3_open(zPath, &hReader)!=SQLITE_OK ) return 1;
  for(k=0; k<2; k++){
    long long w0, w1;
    /* an empty WAL, then a snapshot that keeps it from being restarted */
    sqlite3_exec(hReader, "PRAGMA wal_checkpoint(TRUNCATE); BEGIN; SELECT count(*) FROM segments;",
                 NULL, NULL, NULL);
    w0 = file_size(zWal);
    int64_t t0 = util_mono_us(), t1;
    for(i=0; i<nAppend; i++){
      char zMsg[400];
      struct cv_append a;
      snprintf(zMsg, sizeof zMsg, "{\"role\":\"user\",\"content\":\"append %d lorem ipsum dolor sit amet"
               " lorem ipsum dolor sit amet lorem ipsum dolor sit amet lorem ipsum dolor sit amet"
               " lorem ipsum dolor sit amet lorem ipsum dolor sit amet lorem ipsum\"}", i);
      cv_rc rc = store_threads_append(pS, u.id, aId[k], zMsg, &a);
      if( rc ){ fprintf(stderr, "append failed: %s\n", cv_rc_str(rc)); return 1; }
      store_append_clear(&a);
    }
    t1 = util_mono_us();
    w1 = file_size(zWal);
    printf("append_cost changelog=%s messages=%d appends=%d wal_bytes_per_append=%lld"
           " appends_per_s=%.0f (one transaction each, synchronous=FULL)\n", bLog ? "on" : "off",
           aSize[k], nAppend,
           (w1 - w0)/nAppend, nAppend * 1e6 / (double)(t1 - t0));
    sqlite3_exec(hReader, "COMMIT", NULL, NULL, NULL);
  }
  sqlite3_close(hReader);
  store_user_clear(&u);
  store_close(pS);
  unlink(zPath); unlink(zWal);
  return 0;
}

int main(int argc, char **argv){
  int nAppend = argc>2 ? atoi(argv[2]) : 500, r;
  if( argc<2 ){ fprintf(stderr, "usage: append_cost DIR [N]\n"); return 2; }
  if( argc>4 ) store_conv_set_caps(atoi(argv[3]), atoi(argv[4]));
  for(r=0; r<2; r++){
    if( run(argv[1], nAppend, 1) || run(argv[1], nAppend, 0) ) return 1;
  }
  return 0;
}
