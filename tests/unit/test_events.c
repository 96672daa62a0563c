/* test_events.c — unit tests of src/events.c (the events hub) and src/store_changes.c on a
** fresh temporary database: a commit wakes the streams of the user whose data changed and no
** other; a stream armed after reading waits until the next change (no lost wake-up); a kick
** is told apart from a change; a user's 17th stream evicts its oldest; the hub's bound; an
** idle hub (no stream) reads nothing and starts again from the head the next stream read;
** stop ends every wait; the log's records, bounds and purge (the horizon). */
#include "tinytest.h"
#include "db.h"
#include "events.h"
#include "store.h"
#include "store_changes.h"
#include "store_threads.h"
#include "store_users.h"
#include "util.h"
#include "store_fixture.h"

#include <stdlib.h>
#include <string.h>

static struct store_fixture fx;
static struct cv_store *pS;
static struct cv_events *pEv;
static int64_t ann, bob;

static void open_db(void){
  store_fixture_open(&fx, "/tmp/cvtest.XXXXXX", 4);
  pS = fx.pS;
  ann = store_fixture_user(&fx, "ann@x.test", "Ann");
  bob = store_fixture_user(&fx, "bob@x.test", NULL);
  TT_CHECK( events_start(pS, 20, &pEv)==CV_OK && pEv );
}

/* The log's head now (what a stream reads before it subscribes). */
static int64_t head_now(void){
  unsigned char aKey[16];
  struct cv_read rd;
  int64_t horizon = 0, head = -1;
  if( store_read_begin(pS, &rd) ) return -1;
  if( store_changes_bounds(&rd, &horizon, &head, aKey)!=CV_OK ) head = -1;
  store_read_end(&rd);
  return head;
}

/* A deadline ms from now, for events_wait. */
static int64_t in_ms(int ms){
  return util_mono_us() + (int64_t)ms*1000;
}

static int64_t new_thread(int64_t userId){
  struct cv_thread t;
  int64_t id;
  TT_CHECK( store_threads_create(pS, userId, "t", NULL, 0, &t)==CV_OK );
  id = t.id;
  store_thread_clear(&t);
  return id;
}

/* The records of userId after since, in a snapshot of its own. */
static int list(int64_t userId, int64_t since, struct cv_change *a, int nMax, int *pbMore){
  struct cv_read rd;
  int n = -1;
  if( store_read_begin(pS, &rd) ) return -1;
  if( store_changes_list(&rd, userId, since, nMax, a, &n, pbMore)!=CV_OK ) n = -1;
  store_read_end(&rd);
  return n;
}

static void wakes_only_the_user_whose_data_changed(void){
  struct cv_sub sA, sB;
  TT_CHECK( events_subscribe(pEv, &sA, ann, head_now())==CV_OK );
  TT_CHECK( events_subscribe(pEv, &sB, bob, head_now())==CV_OK );
  TT_CHECK( events_count(pEv)==2 );
  events_arm(pEv, &sA);
  events_arm(pEv, &sB);
  new_thread(ann);
  TT_CHECK( events_wait(pEv, &sA, in_ms(5000))==1 );      /* woken by the commit */
  TT_CHECK( events_wait(pEv, &sB, in_ms(300))==0 );       /* bob: the deadline */
  /* armed again: nothing new, so the next wait times out; a change after arming wakes it
  ** even when it committed before the wait began (the flag, not the signal, is the state) */
  events_arm(pEv, &sA);
  TT_CHECK( events_wait(pEv, &sA, in_ms(200))==0 );
  events_arm(pEv, &sA);
  new_thread(ann);
  TT_CHECK( events_wait(pEv, &sA, in_ms(5000))==1 );
  /* a kick is not a change */
  events_arm(pEv, &sB);
  events_kick_user(pEv, bob);
  TT_CHECK( events_wait(pEv, &sB, in_ms(5000))==2 );
  events_unsubscribe(pEv, &sA);
  events_unsubscribe(pEv, &sB);
  TT_CHECK( events_count(pEv)==0 );
}

static void the_oldest_of_a_users_streams_is_evicted(void){
  struct cv_sub a[EVENTS_PER_USER + 1], extra[4];
  int i;
  for(i=0; i<EVENTS_PER_USER; i++) TT_CHECK( events_subscribe(pEv, &a[i], ann, head_now())==CV_OK );
  TT_CHECK( events_subscribe(pEv, &a[EVENTS_PER_USER], ann, head_now())==CV_OK );
  TT_CHECK( events_wait(pEv, &a[0], in_ms(5000))==3 );     /* the oldest */
  for(i=1; i<=EVENTS_PER_USER; i++) TT_CHECK( events_wait(pEv, &a[i], in_ms(50))==0 );
  /* the hub's bound (20 here): 17 open, so 3 more fit and the 4th is refused */
  for(i=0; i<3; i++) TT_CHECK( events_subscribe(pEv, &extra[i], bob, head_now())==CV_OK );
  TT_CHECK( events_subscribe(pEv, &extra[3], bob, head_now())==CV_BUSY );
  for(i=0; i<3; i++) events_unsubscribe(pEv, &extra[i]);
  for(i=0; i<=EVENTS_PER_USER; i++) events_unsubscribe(pEv, &a[i]);
  TT_CHECK( events_count(pEv)==0 );
}

static void an_idle_hub_starts_again_from_the_head_a_stream_read(void){
  struct cv_sub s;
  TT_CHECK( events_count(pEv)==0 );
  new_thread(ann);                              /* committed while no stream is open */
  new_thread(ann);
  TT_CHECK( events_subscribe(pEv, &s, ann, head_now())==CV_OK );
  events_arm(pEv, &s);
  TT_CHECK( events_wait(pEv, &s, in_ms(400))==0 );        /* what came before: not a wake */
  new_thread(ann);
  TT_CHECK( events_wait(pEv, &s, in_ms(5000))==1 );        /* what comes after: a wake */
  events_unsubscribe(pEv, &s);
}

static void the_log_and_its_horizon(void){
  struct cv_change a[8];
  struct cv_read rd;
  int64_t horizon = -1, head = -1, t, purged = -1;
  unsigned char aKey[16];
  int n, bMore = -1;
  t = new_thread(bob);
  n = list(bob, 0, a, 8, &bMore);
  TT_CHECK( n==1 && !bMore && a[0].kind==CV_CHANGE_THREAD && a[0].id==t && !a[0].bDelete );
  TT_CHECK( store_threads_delete(pS, bob, t)==CV_OK );
  n = list(bob, 0, a, 8, &bMore);
  TT_CHECK( n==1 && a[0].bDelete && a[0].id==t );          /* compacted: one record */
  TT_CHECK( store_read_begin(pS, &rd)==CV_OK );
  TT_CHECK( store_changes_bounds(&rd, &horizon, &head, aKey)==CV_OK );
  store_read_end(&rd);
  TT_CHECK( horizon==0 && head>=a[0].seq );
  /* a purge before the tombstone's time keeps it; one after raises the horizon to its seq */
  TT_CHECK( store_changes_purge(pS, a[0].atMs, &purged)==CV_OK && purged==0 );
  TT_CHECK( store_changes_purge(pS, a[0].atMs + 1, &purged)==CV_OK && purged==1 );
  TT_CHECK( store_read_begin(pS, &rd)==CV_OK );
  TT_CHECK( store_changes_bounds(&rd, &horizon, &head, aKey)==CV_OK );
  store_read_end(&rd);
  TT_CHECK( horizon==a[0].seq );
  TT_CHECK( list(bob, 0, a, 8, &bMore)==0 );
  /* ann's records are hers only, in seq order, paged */
  n = list(ann, 0, a, 1, &bMore);
  TT_CHECK( n==1 && bMore==1 );
  n = list(ann, a[0].seq, a, 8, &bMore);
  TT_CHECK( n==1 && bMore==0 );
}

static void stop_ends_every_wait(void){
  struct cv_sub s;
  TT_CHECK( events_subscribe(pEv, &s, ann, head_now())==CV_OK );
  events_stop(pEv);
  TT_CHECK( events_wait(pEv, &s, in_ms(5000))==-1 );
  events_unsubscribe(pEv, &s);
  TT_CHECK( events_subscribe(pEv, &s, ann, head_now())==CV_CLOSED );
  events_free(pEv);
  pEv = NULL;
  new_thread(ann);                                           /* no hook left behind */
}

static void close_db(void){
  store_fixture_close(&fx);
}

int main(void){
  TT_RUN(open_db);
  TT_RUN(wakes_only_the_user_whose_data_changed);
  TT_RUN(the_oldest_of_a_users_streams_is_evicted);
  TT_RUN(the_log_and_its_horizon);
  TT_RUN(an_idle_hub_starts_again_from_the_head_a_stream_read);
  TT_RUN(stop_ends_every_wait);
  TT_RUN(close_db);
  return TT_DONE();
}
