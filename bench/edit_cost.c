/*
** bench/edit_cost.c — what a message edit costs through the real store (issue 13), on a thread
** of 20 messages and on one of 20,000: bytes written to the WAL per operation and operations
** per second, one transaction each (synchronous=FULL), for
**   - edit:       store_threads_edit_message of a message spread over the thread (PATCH);
**   - regenerate: store_threads_drop_replies (the trailing assistant reply goes) and the new
**                 reply appended: the store's part of `complete` with regenerate (no model);
**   - resend:     store_threads_truncate from the last user message and a user message and a
**                 reply appended (edit-and-resend of the web page).
** The target: the 20,000-message figures within 1.5x of the 20-message ones. A reader holds a
** snapshot so that no checkpoint restarts the WAL while measuring. Linked with chatvault's own
** objects like bench/append_cost.c. `make bench-edit` builds and runs it. Never part of the tests.
**
**   build/bench/edit_cost DIR [N_OPS]
*/
#include "db.h"
#include "store.h"
#include "store_conv.h"
#include "store_threads.h"
#include "store_users.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOREM "lorem ipsum dolor sit amet lorem ipsum dolor sit amet lorem ipsum dolor sit amet " \
  "lorem ipsum dolor sit amet lorem ipsum dolor sit amet lorem ipsum dolor sit amet " \
  "lorem ipsum dolor sit amet lorem ipsum dolor sit amet"

static long long file_size(const char *zPath){
  struct stat st;
  return stat(zPath, &st)==0 ? (long long)st.st_size : 0;
}

/* A thread of n messages of ~230 bytes, user and assistant in turn (n even: ends with a reply). */
static int64_t make_thread(struct cv_store *pS, int64_t userId, int n){
  struct cv_buf b;
  struct cv_thread t;
  int64_t id;
  int i;
  buf_init(&b, (size_t)1<<30);
  buf_append(&b, "[", 1);
  for(i=0; i<n; i++){
    buf_appendf(&b, "%s{\"role\":\"%s\",\"content\":\"message %d %.200s\"}", i ? "," : "",
                i%2 ? "assistant" : "user", i, LOREM);
  }
  buf_append(&b, "]", 1);
  if( store_threads_create(pS, userId, "bench", b.a, n, &t) ){ fprintf(stderr, "create failed\n"); exit(1); }
  buf_free(&b);
  id = t.id;
  store_thread_clear(&t);
  return id;
}

static void must(cv_rc rc, const char *zWhat){
  if( rc ){ fprintf(stderr, "%s failed: %s\n", zWhat, cv_rc_str(rc)); exit(1); }
}

static void append(struct cv_store *pS, int64_t userId, int64_t id, const char *zRole, int i){
  char zMsg[400];
  struct cv_append a;
  snprintf(zMsg, sizeof zMsg, "{\"role\":\"%s\",\"content\":\"again %d %.200s\"}", zRole, i, LOREM);
  must(store_threads_append(pS, userId, id, zMsg, &a), "append");
  store_append_clear(&a);
}

/* One operation of kind eOp (0 edit, 1 regenerate, 2 resend), the i-th, on thread id of n. */
static void one_op(struct cv_store *pS, int64_t userId, int64_t id, int n, int eOp, int i){
  if( eOp==0 ){
    char zContent[300];
    struct cv_msg_edit ed;
    snprintf(zContent, sizeof zContent, "edited %d %.200s", i, LOREM);
    must(store_threads_edit_message(pS, userId, id, ((int64_t)i * 7919) % n, zContent, NULL, &ed),
         "edit");
  }else if( eOp==1 ){
    int64_t iUser;
    char *z = NULL;
    must(store_threads_drop_replies(pS, userId, id, &iUser, &z), "drop replies");
    free(z);
    append(pS, userId, id, "assistant", i);
  }else{
    struct cv_msg_edit ed;
    must(store_threads_truncate(pS, userId, id, n - 2, &ed), "truncate");
    append(pS, userId, id, "user", i);
    append(pS, userId, id, "assistant", i);
  }
}

int main(int argc, char **argv){
  static const int aSize[2] = { 20, 20000 };
  static const char *const azOp[3] = { "edit", "regenerate", "resend" };
  struct cv_store_opts o;
  struct cv_store *pS;
  struct cv_user u;
  char zPath[512], zWal[520], *zErr = NULL;
  double aRate[3][2], aWal[3][2];
  int64_t aId[2];
  int nOps = argc>2 ? atoi(argv[2]) : 300, k, i, eOp;
  sqlite3 *hReader;
  if( argc<2 || nOps<1 ){ fprintf(stderr, "usage: edit_cost DIR [N_OPS]\n"); return 2; }
  snprintf(zPath, sizeof zPath, "%s/edit_cost.db", argv[1]);
  snprintf(zWal, sizeof zWal, "%s-wal", zPath);
  unlink(zPath); unlink(zWal);
  memset(&o, 0, sizeof o);
  o.zPath = zPath; o.bSyncFull = 1; o.nReaders = 2; o.busyMs = 5000;
  if( db_open(&o, &pS, &zErr) ){ fprintf(stderr, "open: %s\n", zErr ? zErr : "?"); return 1; }
  must(store_users_create(pS, "bench@edit.test", NULL, NULL, &u), "user");
  for(k=0; k<2; k++) aId[k] = make_thread(pS, u.id, aSize[k]);
  if( sqlite3_open(zPath, &hReader)!=SQLITE_OK ) return 1;
  for(eOp=0; eOp<3; eOp++){
    for(k=0; k<2; k++){
      long long w0, w1;
      int64_t t0, t1;
      sqlite3_exec(hReader, "PRAGMA wal_checkpoint(TRUNCATE); BEGIN; SELECT count(*) FROM segments;",
                   NULL, NULL, NULL);
      w0 = file_size(zWal);
      t0 = util_mono_us();
      for(i=0; i<nOps; i++) one_op(pS, u.id, aId[k], aSize[k], eOp, i);
      t1 = util_mono_us();
      w1 = file_size(zWal);
      sqlite3_exec(hReader, "COMMIT", NULL, NULL, NULL);
      aWal[eOp][k] = (double)(w1 - w0) / nOps;
      aRate[eOp][k] = nOps * 1e6 / (double)(t1 - t0);
      printf("edit_cost op=%s messages=%d ops=%d wal_bytes_per_op=%.0f ops_per_s=%.0f"
             " (one transaction each, synchronous=FULL)\n", azOp[eOp], aSize[k], nOps,
             aWal[eOp][k], aRate[eOp][k]);
    }
    printf("edit_cost op=%s 20000/20: time x%.2f, wal bytes x%.2f (target: within 1.5x)\n",
           azOp[eOp], aRate[eOp][0] / aRate[eOp][1], aWal[eOp][1] / aWal[eOp][0]);
  }
  sqlite3_close(hReader);
  store_user_clear(&u);
  store_close(pS);
  unlink(zPath); unlink(zWal);
  return 0;
}
