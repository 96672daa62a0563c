/* test_store_threads.c — unit tests of src/store_threads.c on a fresh temporary database:
** create/get/list/update/delete, ownership, 50 concurrent appends, import idempotency. */
#include "tinytest.h"
#include "db.h"
#include "store.h"
#include "store_threads.h"
#include "util.h"
#include "store_users.h"
#include "store_fixture.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct store_fixture fx;
static struct cv_store *pS;
static int64_t alice, bob;

static void open_db(void){
  struct cv_user u;
  store_fixture_open(&fx, "/tmp/cvtest.XXXXXX", 4);
  pS = fx.pS;
  alice = store_fixture_user(&fx, "alice@x.test", NULL);
  TT_CHECK( store_users_create(pS, "ALICE@x.test", NULL, NULL, &u)==CV_CONFLICT );
  bob = store_fixture_user(&fx, "bob@x.test", "Bob");
}

/* Read thread id of userId in one snapshot: the header into *pT and, when pzMessages is
** not NULL, the spliced messages array (malloc'd) into *pzMessages. */
static cv_rc get(int64_t userId, int64_t id, struct cv_thread *pT, char **pzMessages){
  struct cv_read rd;
  struct cv_buf b;
  struct cv_sink k;
  cv_rc rc = store_read_begin(pS, &rd);
  if( rc ) return rc;
  rc = store_threads_get(&rd, userId, id, pT);
  if( rc==CV_OK && pzMessages ){
    buf_init(&b, 1<<24);
    sink_to_buf(&k, &b);
    rc = store_read_messages(&rd, id, &k);
    *pzMessages = b.a;
  }
  store_read_end(&rd);
  return rc;
}

static void create_get_list(void){
  char *zM = NULL;
  struct cv_thread t, g;
  struct cv_thread *a = NULL;
  struct cv_thread_filter f = { CV_FILTER_NO, CV_FILTER_ANY, NULL };
  struct cv_page pg = { 10, 0, NULL, 0, 0 };
  int n = 0;
  int64_t total = 0;
  TT_CHECK( store_threads_create(pS, alice, NULL, NULL, 0, &t)==CV_OK );
  TT_CHECK( get(alice, t.id, &g, &zM)==CV_OK && g.id==t.id );
  TT_CHECK( strcmp(g.zTitle, "New chat")==0 && strcmp(zM, "[]")==0 && g.nMessages==0 );
  free(zM);
  store_thread_clear(&g);
  TT_CHECK( get(bob, t.id, &g, NULL)==CV_FORBIDDEN );
  TT_CHECK( get(alice, 999999, &g, NULL)==CV_NOTFOUND );
  store_thread_clear(&t);
  TT_CHECK( store_threads_create(pS, alice, NULL,
            "[{\"role\":\"assistant\",\"content\":\"hello\"},{\"role\":\"user\",\"content\":\"Named by me\"}]",
            2, &t)==CV_OK );
  TT_CHECK( strcmp(t.zTitle, "Named by me")==0 && t.nMessages==2 );
  store_thread_clear(&t);
  TT_CHECK( store_threads_list(pS, alice, &f, &pg, &a, &n, &total)==CV_OK );
  TT_CHECK( n==2 && total==2 && a[0].id > a[1].id );
  store_threads_free_list(a, n);
  TT_CHECK( store_threads_list(pS, bob, &f, &pg, &a, &n, &total)==CV_OK && n==0 && total==0 );
  store_threads_free_list(a, n);
}

static void update_delete(void){
  struct cv_thread t, u;
  TT_CHECK( store_threads_create(pS, alice, "Mine", NULL, 0, &t)==CV_OK );
  TT_CHECK( store_threads_update(pS, bob, t.id, "Stolen", NULL, 0, NULL, &u)==CV_FORBIDDEN );
  TT_CHECK( store_threads_update(pS, alice, t.id, NULL,
            "[{\"role\":\"user\",\"content\":\"x\"}]", 1, NULL, &u)==CV_OK );
  TT_CHECK( strcmp(u.zTitle, "Mine")==0 && u.nMessages==1 );
  store_thread_clear(&u);
  TT_CHECK( store_threads_delete(pS, bob, t.id)==CV_FORBIDDEN );
  TT_CHECK( store_threads_delete(pS, alice, t.id)==CV_OK );
  TT_CHECK( store_threads_delete(pS, alice, t.id)==CV_NOTFOUND );
  store_thread_clear(&t);
}

static int64_t hotId;
static int nFailed;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *appender(void *pArg){
  char zMsg[96];
  struct cv_append a;
  snprintf(zMsg, sizeof zMsg, "{\"role\":\"user\",\"content\":\"m%ld\"}", (long)(intptr_t)pArg);
  if( store_threads_append(pS, alice, hotId, zMsg, &a)!=CV_OK ){
    pthread_mutex_lock(&mu); nFailed++; pthread_mutex_unlock(&mu);
  }
  store_append_clear(&a);
  return NULL;
}

static void concurrent_appends(void){
  struct cv_thread t;
  char *zM = NULL;
  pthread_t aT[50];
  long i;
  TT_CHECK( store_threads_create(pS, alice, NULL, NULL, 0, &t)==CV_OK );
  hotId = t.id;
  store_thread_clear(&t);
  for(i=0; i<50; i++) pthread_create(&aT[i], NULL, appender, (void*)(intptr_t)i);
  for(i=0; i<50; i++) pthread_join(aT[i], NULL);
  TT_CHECK( nFailed==0 );
  TT_CHECK( get(alice, hotId, &t, &zM)==CV_OK );
  TT_CHECK( t.nMessages==50 );
  for(i=0; i<50; i++){
    char zNeedle[32];
    snprintf(zNeedle, sizeof zNeedle, "\"m%ld\"", i);
    TT_CHECK( strstr(zM, zNeedle)!=NULL );
  }
  free(zM);
  /* the first user message named the thread */
  TT_CHECK( strncmp(t.zTitle, "m", 1)==0 );
  store_thread_clear(&t);
}

static void import_idempotent(void){
  struct cv_import_item a[2];
  memset(a, 0, sizeof a);
  a[0].zClientId = "c1";
  a[0].zTitle = "Old";
  a[0].zCreatedAt = "2020-01-01T00:00:00.000Z";
  a[1].zClientId = "c2";
  TT_CHECK( store_threads_import(pS, bob, a, 2)==CV_OK );
  TT_CHECK( a[0].bImported && a[1].bImported && a[0].id && a[1].id );
  {
    int64_t id0 = a[0].id;
    a[0].bImported = a[1].bImported = 0;
    TT_CHECK( store_threads_import(pS, bob, a, 2)==CV_OK );
    TT_CHECK( !a[0].bImported && !a[1].bImported && a[0].id==id0 );
  }
  {
    struct cv_thread t;
    TT_CHECK( get(bob, a[0].id, &t, NULL)==CV_OK );
    TT_CHECK( strcmp(t.zCreatedAt, "2020-01-01T00:00:00.000Z")==0 );
    TT_CHECK( strcmp(t.zUpdatedAt, "2020-01-01T00:00:00.000Z")==0 );
    store_thread_clear(&t);
  }
  /* the same client id for another user is another thread */
  a[0].bImported = 0;
  TT_CHECK( store_threads_import(pS, alice, a, 1)==CV_OK && a[0].bImported );
}

static void close_db(void){
  store_fixture_close(&fx);
}

int main(void){
  TT_RUN(open_db);
  TT_RUN(create_get_list);
  TT_RUN(update_delete);
  TT_RUN(concurrent_appends);
  TT_RUN(import_idempotent);
  TT_RUN(close_db);
  return TT_DONE();
}
