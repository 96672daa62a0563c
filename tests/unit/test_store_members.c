/* test_store_members.c — unit tests of src/store_members.c (and the member-aware reads of
** store_threads.c) on a fresh temporary database: add by email (case, again, self, unknown,
** another's thread), the view of owner / member / stranger, the shared list and its keyset
** paging, leaving and removal, and the cascades of a thread's and an account's deletion. */
#include "tinytest.h"
#include "db.h"
#include "store.h"
#include "store_members.h"
#include "store_threads.h"
#include "store_users.h"
#include "store_fixture.h"

#include <stdlib.h>
#include <string.h>

static struct store_fixture fx;
static struct cv_store *pS;
static int64_t olive, max, sam;

static void open_db(void){
  store_fixture_open(&fx, "/tmp/cvtest.XXXXXX", 4);
  pS = fx.pS;
  olive = store_fixture_user(&fx, "olive@x.test", "Olive");
  max = store_fixture_user(&fx, "max@x.test", NULL);
  sam = store_fixture_user(&fx, "sam@x.test", "Sam");
}

/* store_threads_view of thread id as userId in a snapshot of its own; *pbOwner set. */
static cv_rc view(int64_t userId, int64_t id, struct cv_thread *pT, int *pbOwner){
  struct cv_read rd;
  cv_rc rc = store_read_begin(pS, &rd);
  if( rc ) return rc;
  rc = store_threads_view(&rd, userId, id, pT, pbOwner);
  store_read_end(&rd);
  return rc;
}

/* How many members thread id has as userId reads them (-1: the read failed). */
static int n_members(int64_t userId, int64_t id){
  struct cv_read rd;
  struct cv_member *a = NULL;
  int n = -1;
  if( store_read_begin(pS, &rd) ) return -1;
  if( store_members_list(&rd, userId, id, &a, &n)!=CV_OK ) n = -1;
  store_read_end(&rd);
  store_members_free(a, n>0 ? n : 0);
  return n;
}

static void add_view_remove(void){
  struct cv_thread t, v;
  struct cv_member m;
  const char *zMissing = NULL;
  int bAdded = -1, bOwner = -1;
  int64_t id;
  TT_CHECK( store_threads_create(pS, olive, "shared", NULL, 0, &t)==CV_OK );
  id = t.id;
  store_thread_clear(&t);
  TT_CHECK( store_members_add(pS, olive, id, "MAX@x.test", &m, &bAdded, &zMissing)==CV_OK );
  TT_CHECK( bAdded==1 && m.userId==max && strcmp(m.zEmail, "max@x.test")==0 && !m.zDisplayName );
  store_member_clear(&m);
  TT_CHECK( store_members_add(pS, olive, id, "max@x.test", &m, &bAdded, &zMissing)==CV_OK );
  TT_CHECK( bAdded==0 && m.userId==max );
  store_member_clear(&m);
  TT_CHECK( store_members_add(pS, olive, id, "olive@x.test", &m, &bAdded, &zMissing)==CV_INVALID );
  TT_CHECK( store_members_add(pS, olive, id, "nobody@x.test", &m, &bAdded, &zMissing)==CV_NOTFOUND );
  TT_CHECK( zMissing && strcmp(zMissing, "Account")==0 );
  TT_CHECK( store_members_add(pS, olive, id + 1000, "max@x.test", &m, &bAdded, &zMissing)==CV_NOTFOUND );
  TT_CHECK( zMissing && strcmp(zMissing, "Thread")==0 );
  /* a member or a stranger: 403 before any account lookup */
  TT_CHECK( store_members_add(pS, max, id, "nobody@x.test", &m, &bAdded, &zMissing)==CV_FORBIDDEN );
  TT_CHECK( store_members_add(pS, sam, id, "nobody@x.test", &m, &bAdded, &zMissing)==CV_FORBIDDEN );

  TT_CHECK( view(olive, id, &v, &bOwner)==CV_OK && bOwner==1 && !v.bShared && !v.zOwnerName );
  store_thread_clear(&v);
  TT_CHECK( view(max, id, &v, &bOwner)==CV_OK && bOwner==0 && v.bShared && v.userId==olive );
  TT_CHECK( v.zOwnerName && strcmp(v.zOwnerName, "Olive")==0 );
  store_thread_clear(&v);
  TT_CHECK( view(sam, id, &v, &bOwner)==CV_FORBIDDEN );
  TT_CHECK( view(sam, id + 1000, &v, &bOwner)==CV_NOTFOUND );
  TT_CHECK( n_members(olive, id)==1 && n_members(max, id)==1 && n_members(sam, id)==-1 );

  /* writes stay the owner's */
  TT_CHECK( store_threads_delete(pS, max, id)==CV_FORBIDDEN );

  TT_CHECK( store_members_remove(pS, max, id, olive, &zMissing)==CV_FORBIDDEN );
  TT_CHECK( store_members_remove(pS, sam, id, max, &zMissing)==CV_FORBIDDEN );
  TT_CHECK( store_members_remove(pS, olive, id, sam, &zMissing)==CV_NOTFOUND );
  TT_CHECK( zMissing && strcmp(zMissing, "Member")==0 );
  TT_CHECK( store_members_remove(pS, max, id, max, &zMissing)==CV_OK );   /* leaving */
  TT_CHECK( view(max, id, &v, &bOwner)==CV_FORBIDDEN );
  TT_CHECK( store_members_remove(pS, max, id, max, &zMissing)==CV_FORBIDDEN );
  TT_CHECK( n_members(olive, id)==0 );
}

static void shared_list_and_cascades(void){
  struct cv_thread t, *a = NULL;
  struct cv_member m;
  struct cv_page pg;
  const char *zMissing = NULL;
  int64_t ids[3], total = 0;
  int i, n = 0, bAdded = 0;
  for(i=0; i<3; i++){
    TT_CHECK( store_threads_create(pS, i==1 ? sam : olive, "t", NULL, 0, &t)==CV_OK );
    ids[i] = t.id;
    store_thread_clear(&t);
    TT_CHECK( store_members_add(pS, i==1 ? sam : olive, ids[i], "max@x.test", &m, &bAdded,
                                &zMissing)==CV_OK );
    store_member_clear(&m);
  }
  memset(&pg, 0, sizeof pg);
  pg.limit = 2;
  TT_CHECK( store_threads_list_shared(pS, max, &pg, &a, &n, &total)==CV_OK );
  TT_CHECK( n==2 && total==3 && pg.bMore && a[0].id==ids[2] && a[1].id==ids[1] );
  TT_CHECK( a[0].bShared && strcmp(a[0].zOwnerName, "Olive")==0 && strcmp(a[1].zOwnerName, "Sam")==0 );
  {
    char zKey[CV_TS_LEN+1];
    int64_t afterId = a[1].id;
    memcpy(zKey, a[1].zUpdatedAt, sizeof zKey);
    store_threads_free_list(a, n);
    a = NULL;
    pg.zAfterKey = zKey;
    pg.afterId = afterId;
    TT_CHECK( store_threads_list_shared(pS, max, &pg, &a, &n, &total)==CV_OK );
    TT_CHECK( n==1 && !pg.bMore && a[0].id==ids[0] );
    store_threads_free_list(a, n);
    a = NULL;
  }
  /* the thread's deletion and the owner's account deletion end memberships */
  TT_CHECK( store_threads_delete(pS, olive, ids[0])==CV_OK );
  TT_CHECK( store_users_delete(pS, sam)==CV_OK );
  memset(&pg, 0, sizeof pg);
  pg.limit = 10;
  TT_CHECK( store_threads_list_shared(pS, max, &pg, &a, &n, &total)==CV_OK );
  TT_CHECK( n==1 && total==1 && a[0].id==ids[2] );
  store_threads_free_list(a, n);
  a = NULL;
  /* the member's account deletion too */
  TT_CHECK( n_members(olive, ids[2])==1 );
  TT_CHECK( store_users_delete(pS, max)==CV_OK );
  TT_CHECK( n_members(olive, ids[2])==0 );
}

static void close_db(void){
  store_fixture_close(&fx);
}

int main(void){
  TT_RUN(open_db);
  TT_RUN(add_view_remove);
  TT_RUN(shared_list_and_cascades);
  TT_RUN(close_db);
  return TT_DONE();
}
