/* test_store.c — unit tests of src/store.c, the store interface's one door: every
** store_<op>() reaches the <op> of the table the store carries (store_backend.h), with its
** arguments unchanged and its results handed back, whichever backend that table is. A store
** opened by db_open is swapped onto test tables built from the SQLite one. */
#include "tinytest.h"
#include "db.h"
#include "store_backend.h"
#include "store_fixture.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct store_fixture fx;
static struct cv_store *pS;
static int64_t alice;

/* The table the store carries (its first member, by store_backend.h's contract). */
static const struct cv_store_backend **slot_of(struct cv_store *p){
  return &((struct cv_store_base*)(void*)p)->pB;
}

static void open_db(void){
  store_fixture_open(&fx, "/tmp/cvtest.XXXXXX", 2);
  pS = fx.pS;
  alice = store_fixture_user(&fx, "alice@x.test", NULL);
}

/* db_open's stores carry the SQLite table, and it sets every slot. */
static void sqlite_table_is_complete(void){
  TT_CHECK( *slot_of(pS)==&cv_sqlite_backend );
  TT_CHECK( strcmp(store_backend_name(pS), "sqlite")==0 );
#define CHECK_SET(op) TT_CHECK( cv_sqlite_backend.op!=NULL );
  CV_STORE_OPS(CHECK_SET)
#undef CHECK_SET
}

/* A recording backend: the SQLite table with some slots replaced by functions that note
** their arguments and then fail or forward. */
static struct {
  int nUsersById, nThreadsList, nThreadsGet, nReadEnd, nHistory;
  int64_t lastId, lastUser, lastOffset;
  int lastLimit;
  struct cv_read *pLastRd;
} rec;

static cv_rc rec_users_by_id(struct cv_store *p, int64_t id, struct cv_user *pOut){
  (void)p; (void)pOut;
  rec.nUsersById++;
  rec.lastId = id;
  return CV_IO;                  /* a backend's own failure comes back as it is */
}
static cv_rc rec_threads_list(struct cv_store *p, int64_t userId,
                              const struct cv_thread_filter *pF, struct cv_page *pPage,
                              struct cv_thread **paOut, int *pnOut, int64_t *pnTotal){
  rec.nThreadsList++;
  rec.lastUser = userId;
  rec.lastLimit = pPage->limit;
  rec.lastOffset = pPage->offset;
  return sqlite_threads_list(p, userId, pF, pPage, paOut, pnOut, pnTotal);
}
static cv_rc rec_threads_get(struct cv_read *pRd, int64_t userId, int64_t id,
                             struct cv_thread *pOut){
  rec.nThreadsGet++;
  rec.pLastRd = pRd;
  return sqlite_threads_get(pRd, userId, id, pOut);
}
static void rec_read_end(struct cv_read *pRd){
  rec.nReadEnd++;
  sqlite_read_end(pRd);
}
static cv_rc rec_conv_history(struct cv_store *p, int64_t id, int nBudgetChars,
                              cv_msg_view_fn xMsg, void *pCtx){
  (void)p; (void)id; (void)nBudgetChars; (void)xMsg; (void)pCtx;
  rec.nHistory++;
  return CV_TIMEOUT;
}

static cv_rc count_msg(void *pCtx, const struct cv_msg_view *pMsg){
  (void)pMsg;
  (*(int*)pCtx)++;
  return CV_OK;
}

static void operations_go_through_the_table(void){
  struct cv_store_backend t = cv_sqlite_backend;
  struct cv_thread_filter f = { CV_FILTER_NO, CV_FILTER_ANY, NULL };
  struct cv_page pg = { 5, 0, NULL, 0, 0 };
  struct cv_thread th, *a = NULL;
  struct cv_user u;
  struct cv_read rd;
  int n = 0, nMsg = 0;
  int64_t nTotal = 0;
  t.zName = "recording";
  t.users_by_id = rec_users_by_id;
  t.threads_list = rec_threads_list;
  t.threads_get = rec_threads_get;
  t.read_end = rec_read_end;
  t.conv_history = rec_conv_history;
  memset(&rec, 0, sizeof rec);

  /* before the swap: the SQLite backend answers */
  TT_CHECK( store_users_by_id(pS, alice, &u)==CV_OK && u.id==alice );
  store_user_clear(&u);
  TT_CHECK( store_threads_create(pS, alice, "t", "[{\"role\":\"user\",\"content\":\"hi\"}]", 1,
                                 &th)==CV_OK );
  store_thread_clear(&th);
  TT_CHECK( rec.nUsersById==0 );

  *slot_of(pS) = &t;
  TT_CHECK( strcmp(store_backend_name(pS), "recording")==0 );
  /* a replaced slot is called with the caller's arguments, and its result comes back */
  memset(&u, 0, sizeof u);
  TT_CHECK( store_users_by_id(pS, alice, &u)==CV_IO );
  TT_CHECK( rec.nUsersById==1 && rec.lastId==alice );
  TT_CHECK( store_conv_history(pS, 7, 100, count_msg, &nMsg)==CV_TIMEOUT );
  TT_CHECK( rec.nHistory==1 && nMsg==0 );
  /* a forwarding slot: same arguments in, the SQLite results out */
  TT_CHECK( store_threads_list(pS, alice, &f, &pg, &a, &n, &nTotal)==CV_OK );
  TT_CHECK( rec.nThreadsList==1 && rec.lastUser==alice && rec.lastLimit==5 && rec.lastOffset==0 );
  TT_CHECK( n==1 && nTotal==1 && a && strcmp(a[0].zTitle, "t")==0 );
  /* operations on a snapshot find the table through the snapshot's store */
  TT_CHECK( store_read_begin(pS, &rd)==CV_OK );
  TT_CHECK( a && store_threads_get(&rd, alice, a[0].id, &th)==CV_OK && th.nMessages==1 );
  TT_CHECK( rec.nThreadsGet==1 && rec.pLastRd==&rd );
  store_thread_clear(&th);
  store_read_end(&rd);
  TT_CHECK( rec.nReadEnd==1 );
  /* a zeroed snapshot is never handed to a backend */
  memset(&rd, 0, sizeof rd);
  store_read_end(&rd);
  TT_CHECK( rec.nReadEnd==1 );
  /* slots left as they were still reach SQLite */
  TT_CHECK( a && store_threads_delete(pS, alice, a[0].id)==CV_OK );
  store_threads_free_list(a, n);
  *slot_of(pS) = &cv_sqlite_backend;
  TT_CHECK( store_users_by_id(pS, alice, &u)==CV_OK && u.id==alice );
  store_user_clear(&u);
  TT_CHECK( rec.nUsersById==1 );
}

static void close_db(void){
  store_close(NULL);             /* NULL is ok */
  store_fixture_close(&fx);
}

int main(void){
  TT_RUN(open_db);
  TT_RUN(sqlite_table_is_complete);
  TT_RUN(operations_go_through_the_table);
  TT_RUN(close_db);
  return TT_DONE();
}
