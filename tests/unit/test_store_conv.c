/* test_store_conv.c — unit tests of src/store_conv.c, the segment store, on a fresh temporary
** database with small caps (4 messages, 200 bytes) so every boundary is crossed often: the
** cap, index arithmetic, appends across segment boundaries, a message bigger than the byte
** cap, truncation at and inside a segment boundary, replacing a long array by a short one and
** back, range reads, the prompt tail, the check of the invariants (message_bytes of every
** conversation and stored_bytes of the account included), 200 concurrent appends to a thread
** holding N-1 messages, and the size caps of conversations and accounts (issue 10). */
#include "tinytest.h"
#include "db.h"
#include "store.h"
#include "store_conv.h"
#include "store_fixture.h"
#include "store_threads.h"
#include "store_users.h"
#include "util.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CAP_N 4
#define CAP_B 200

static struct store_fixture fx;
static struct cv_store *pS;
static int64_t alice;

static void open_db(void){
  store_conv_set_caps(CAP_N, CAP_B);
  store_fixture_open(&fx, "/tmp/cvconv.XXXXXX", 4);
  pS = fx.pS;
  alice = store_fixture_user(&fx, "alice@x.test", NULL);
}

/* Messages of thread id as one spliced array (malloc'd), and the header into *pT. */
static char *messages_of(int64_t id, struct cv_thread *pT){
  struct cv_read rd;
  struct cv_buf b;
  struct cv_sink k;
  cv_rc rc;
  buf_init(&b, 1<<24);
  sink_to_buf(&k, &b);
  if( store_read_begin(pS, &rd) ) return NULL;
  rc = store_threads_get(&rd, alice, id, pT);
  if( rc==CV_OK ) rc = store_read_messages(&rd, id, &k);
  store_read_end(&rd);
  if( rc ){ buf_free(&b); return NULL; }
  return b.a;
}

static char *range_of(int64_t id, int64_t iStart, int64_t iEnd){
  struct cv_read rd;
  struct cv_buf b;
  struct cv_sink k;
  cv_rc rc;
  buf_init(&b, 1<<24);
  sink_to_buf(&k, &b);
  if( store_read_begin(pS, &rd) ) return NULL;
  rc = store_read_messages_range(&rd, id, iStart, iEnd, &k);
  store_read_end(&rd);
  if( rc ){ buf_free(&b); return NULL; }
  return b.a;
}

/* "chatvault check" on the file: 1 when clean. */
static int check_clean(void){
  char *zReport = NULL;
  cv_rc rc = db_check(fx.zPath, &zReport);
  if( rc ) fprintf(stderr, "check: %s\n", zReport ? zReport : "?");
  free(zReport);
  return rc==CV_OK;
}

/* One integer from the file, by plain SQL with one int64 parameter. */
static int64_t sql_int(const char *zSql, int64_t v){
  sqlite3 *h;
  sqlite3_stmt *pSt;
  int64_t r = -1;
  if( sqlite3_open_v2(fx.zPath, &h, SQLITE_OPEN_READONLY, NULL)!=SQLITE_OK ) return -1;
  if( sqlite3_prepare_v2(h, zSql, -1, &pSt, NULL)==SQLITE_OK ){
    sqlite3_bind_int64(pSt, 1, v);
    if( sqlite3_step(pSt)==SQLITE_ROW ) r = sqlite3_column_int64(pSt, 0);
    sqlite3_finalize(pSt);
  }
  sqlite3_close(h);
  return r;
}

/* The number of segments of conversation id. */
static int n_segments(int64_t id){
  return (int)sql_int("SELECT count(*) FROM segments WHERE conv_id=?1", id);
}

static int64_t new_thread(void){
  struct cv_thread t;
  int64_t id;
  TT_CHECK( store_threads_create(pS, alice, "T", NULL, 0, &t)==CV_OK );
  id = t.id;
  store_thread_clear(&t);
  return id;
}

static void append_one(int64_t id, const char *zContent, int64_t wantIndex){
  char zMsg[512];
  struct cv_append a;
  snprintf(zMsg, sizeof zMsg, "{\"role\":\"user\",\"content\":\"%s\"}", zContent);
  TT_CHECK( store_threads_append(pS, alice, id, zMsg, &a)==CV_OK );
  TT_CHECK( a.index==wantIndex );
  store_append_clear(&a);
}

/* The cap: N messages per segment; the (N+1)-th starts a new one; indexes run on. */
static void cap_and_indexes(void){
  int64_t id = new_thread();
  struct cv_thread t;
  char *z;
  int i;
  for(i=0; i<3*CAP_N+1; i++){
    char zC[16];
    snprintf(zC, sizeof zC, "%d", i);
    append_one(id, zC, i);
  }
  TT_CHECK( n_segments(id)==4 );
  z = messages_of(id, &t);
  TT_CHECK( z && t.nMessages==3*CAP_N+1 );
  {
    static const char zHead[] = "[{\"role\":\"user\",\"content\":\"0\"},{\"role\":\"user\",\"content\":\"1\"},";
    TT_CHECK( z && strncmp(z, zHead, sizeof zHead - 1)==0 );
  }
  TT_CHECK( z && strstr(z, "{\"role\":\"user\",\"content\":\"12\"}]")!=NULL );
  free(z);
  store_thread_clear(&t);
  /* message i is found in its segment: a range across a boundary */
  z = range_of(id, 3, 6);
  TT_CHECK( z && strcmp(z, "[{\"index\":3,\"role\":\"user\",\"content\":\"3\"},"
                           "{\"index\":4,\"role\":\"user\",\"content\":\"4\"},"
                           "{\"index\":5,\"role\":\"user\",\"content\":\"5\"}]")==0 );
  free(z);
  z = range_of(id, 12, 13);
  TT_CHECK( z && strcmp(z, "[{\"index\":12,\"role\":\"user\",\"content\":\"12\"}]")==0 );
  free(z);
  z = range_of(id, 20, 30);
  TT_CHECK( z && strcmp(z, "[]")==0 );
  free(z);
  TT_CHECK( check_clean() );
}

/* The byte cap: segments of more than one message stay within it; one big message sits
** alone in its own segment. */
static void byte_cap_and_big_message(void){
  int64_t id = new_thread();
  char zBig[300];
  struct cv_thread t;
  char *z;
  memset(zBig, 'x', sizeof zBig - 1);
  zBig[sizeof zBig - 1] = 0;
  append_one(id, "a", 0);
  append_one(id, zBig, 1);          /* over CAP_B: a segment of its own */
  append_one(id, "b", 2);           /* does not fit after it: the next segment */
  append_one(id, "01234567890123456789012345678901234567890123456789012345678901234567890123456789", 3);
  append_one(id, "01234567890123456789012345678901234567890123456789012345678901234567890123456789", 4);
  /* "b" and the first 80-character one fit in 200 bytes, the second one does not */
  TT_CHECK( n_segments(id)==4 );
  z = messages_of(id, &t);
  TT_CHECK( z && t.nMessages==5 && strstr(z, zBig)!=NULL );
  free(z);
  store_thread_clear(&t);
  TT_CHECK( check_clean() );
}

/* PUT: a long array replaced by a short one and back; truncation at and inside a boundary. */
static void replace_and_truncate(void){
  int64_t id = new_thread();
  struct cv_buf b;
  struct cv_thread t, u;
  char *z;
  int i;
  buf_init(&b, 1<<20);
  buf_append(&b, "[", 1);
  for(i=0; i<10; i++) buf_appendf(&b, "%s{\"role\":\"%s\",\"content\":\"r%d\"}", i ? "," : "",
                                  i%2 ? "assistant" : "user", i);
  buf_append(&b, "]", 1);
  TT_CHECK( store_threads_update(pS, alice, id, NULL, b.a, 10, NULL, &u)==CV_OK && u.nMessages==10 );
  store_thread_clear(&u);
  TT_CHECK( n_segments(id)==3 );
  TT_CHECK( store_threads_update(pS, alice, id, NULL, "[{\"role\":\"user\",\"content\":\"short\"}]",
                                 1, NULL, &u)==CV_OK && u.nMessages==1 );
  store_thread_clear(&u);
  TT_CHECK( n_segments(id)==1 );
  z = messages_of(id, &t);
  TT_CHECK( z && strcmp(z, "[{\"role\":\"user\",\"content\":\"short\"}]")==0 );
  free(z);
  store_thread_clear(&t);
  TT_CHECK( store_threads_update(pS, alice, id, NULL, b.a, 10, NULL, &u)==CV_OK && u.nMessages==10 );
  store_thread_clear(&u);
  z = messages_of(id, &t);
  TT_CHECK( z && strcmp(z, b.a)==0 );
  free(z);
  store_thread_clear(&t);
  TT_CHECK( store_threads_update(pS, alice, id, NULL, "[]", 0, NULL, &u)==CV_OK && u.nMessages==0 );
  store_thread_clear(&u);
  TT_CHECK( n_segments(id)==0 );
  TT_CHECK( check_clean() );
  buf_free(&b);
}

struct trunc_args { int64_t id, from, left; };
static cv_rc trunc_job(struct cv_db *pDb, void *pArg){
  struct trunc_args *a = pArg;
  int64_t nBytes = 1;
  cv_rc rc = store_conv_truncate(pDb, a->id, a->from, &a->left, &nBytes);
  if( rc==CV_OK && nBytes>0 ) rc = CV_DB;          /* truncation never grows */
  if( rc==CV_OK ) rc = store_conv_touch(pDb, CV_CONV_THREAD, a->id, a->left, nBytes, NULL, NULL);
  return rc;
}

static void truncate_at_boundaries(void){
  int64_t id = new_thread();
  struct trunc_args a;
  struct cv_thread t;
  char *z;
  int i;
  for(i=0; i<10; i++){ char zC[16]; snprintf(zC, sizeof zC, "%d", i); append_one(id, zC, i); }
  a.id = id; a.from = 8; a.left = -1;              /* exactly at a segment boundary */
  TT_CHECK( db_write(pS, trunc_job, &a)==CV_OK && a.left==8 );
  TT_CHECK( n_segments(id)==2 );
  a.from = 6;                                      /* inside the second segment */
  TT_CHECK( db_write(pS, trunc_job, &a)==CV_OK && a.left==6 );
  TT_CHECK( n_segments(id)==2 );
  z = messages_of(id, &t);
  TT_CHECK( z && t.nMessages==6 && strstr(z, "\"content\":\"5\"}]")!=NULL && !strstr(z, "\"6\"") );
  free(z);
  store_thread_clear(&t);
  a.from = 100;                                    /* past the end: nothing */
  TT_CHECK( db_write(pS, trunc_job, &a)==CV_OK && a.left==6 );
  append_one(id, "again", 6);                      /* appends go on from the cut */
  TT_CHECK( check_clean() );
  a.from = 0;
  TT_CHECK( db_write(pS, trunc_job, &a)==CV_OK && a.left==0 && n_segments(id)==0 );
  TT_CHECK( check_clean() );
}

/* The prompt tail: the newest messages within a budget, oldest first, the newest always. */
struct tail_ctx { char z[512]; int n; };
static cv_rc tail_cb(void *pCtx, const struct cv_msg_view *m){
  struct tail_ctx *c = pCtx;
  size_t k = strlen(c->z);
  snprintf(c->z + k, sizeof c->z - k, "%s%s", c->n++ ? "," : "", m->zContent);
  return CV_OK;
}

static void prompt_tail(void){
  int64_t id = new_thread();
  struct tail_ctx c;
  int i;
  for(i=0; i<10; i++){ char zC[16]; snprintf(zC, sizeof zC, "m%d", i); append_one(id, zC, i); }
  memset(&c, 0, sizeof c);
  TT_CHECK( store_conv_history(pS, id, 6, tail_cb, &c)==CV_OK );   /* 2 chars each: 3 fit */
  TT_CHECK( strcmp(c.z, "m7,m8,m9")==0 );
  memset(&c, 0, sizeof c);
  TT_CHECK( store_conv_history(pS, id, 0, tail_cb, &c)==CV_OK );   /* the newest always goes */
  TT_CHECK( strcmp(c.z, "m9")==0 );
  memset(&c, 0, sizeof c);
  TT_CHECK( store_conv_history(pS, id, 1000, tail_cb, &c)==CV_OK );
  TT_CHECK( c.n==10 && strncmp(c.z, "m0,m1,", 6)==0 );
}

/* The check finds a broken invariant (a segment's n changed behind the store's back). */
static void check_finds_damage(void){
  sqlite3 *h;
  char *zReport = NULL;
  TT_CHECK( check_clean() );
  TT_CHECK( sqlite3_open(fx.zPath, &h)==SQLITE_OK );
  TT_CHECK( sqlite3_exec(h, "UPDATE segments SET n=n+1 WHERE id=(SELECT max(id) FROM segments)",
                         NULL, NULL, NULL)==SQLITE_OK );
  sqlite3_close(h);
  TT_CHECK( db_check(fx.zPath, &zReport)==CV_INVALID );
  TT_CHECK( zReport && strstr(zReport, "segments: 1 conversations broken")!=NULL );
  free(zReport);
  TT_CHECK( sqlite3_open(fx.zPath, &h)==SQLITE_OK );
  TT_CHECK( sqlite3_exec(h, "UPDATE segments SET n=n-1 WHERE id=(SELECT max(id) FROM segments)",
                         NULL, NULL, NULL)==SQLITE_OK );
  sqlite3_close(h);
  TT_CHECK( check_clean() );
  /* a header's message_bytes and an account's stored_bytes that disagree with the segments
  ** (written around the triggers: a trigger would keep stored_bytes with the header) */
  TT_CHECK( sqlite3_open(fx.zPath, &h)==SQLITE_OK );
  TT_CHECK( sqlite3_exec(h, "DROP TRIGGER chat_threads_bytes;"
                         "UPDATE chat_threads SET message_bytes=message_bytes+1"
                         " WHERE message_count>0;"
                         "UPDATE users SET stored_bytes=stored_bytes+1",
                         NULL, NULL, NULL)==SQLITE_OK );
  sqlite3_close(h);
  TT_CHECK( db_check(fx.zPath, &zReport)==CV_INVALID );
  TT_CHECK( zReport && strstr(zReport, "message_bytes differs from the segments")!=NULL );
  TT_CHECK( zReport && strstr(zReport, "accounts: 1 with a wrong stored_bytes")!=NULL );
  free(zReport);
}

/* 200 concurrent appends to a thread holding N-1 messages: 200 more, indexes distinct and
** the order of the array the order of the indexes. */
static int64_t hotId;
static int64_t aIndex[200];
static void *appender(void *pArg){
  long i = (long)(intptr_t)pArg;
  char zMsg[96];
  struct cv_append a;
  snprintf(zMsg, sizeof zMsg, "{\"role\":\"user\",\"content\":\"c%ld\"}", i);
  aIndex[i] = store_threads_append(pS, alice, hotId, zMsg, &a)==CV_OK ? a.index : -1;
  store_append_clear(&a);
  return NULL;
}

static void concurrent_at_the_cap(void){
  pthread_t aT[200];
  char seen[CAP_N-1+200];
  struct cv_thread t;
  char *z, *p;
  long i;
  hotId = new_thread();
  for(i=0; i<CAP_N-1; i++) append_one(hotId, "pre", i);
  for(i=0; i<200; i++) TT_CHECK( pthread_create(&aT[i], NULL, appender, (void*)(intptr_t)i)==0 );
  for(i=0; i<200; i++) pthread_join(aT[i], NULL);
  memset(seen, 0, sizeof seen);
  for(i=0; i<200; i++){
    TT_CHECK( aIndex[i]>=CAP_N-1 && aIndex[i]<CAP_N-1+200 );
    if( aIndex[i]>=0 && aIndex[i]<(long)sizeof seen ){ TT_CHECK( !seen[aIndex[i]] ); seen[aIndex[i]] = 1; }
  }
  z = messages_of(hotId, &t);
  TT_CHECK( z && t.nMessages==CAP_N-1+200 );
  /* message at index aIndex[i] is "c<i>": walk the array in order */
  for(p = z ? z : "", i=0; i<CAP_N-1+200; i++){
    char zNeedle[48];
    long j, who = -1;
    for(j=0; j<200; j++) if( aIndex[j]==i ) who = j;
    if( who<0 ) snprintf(zNeedle, sizeof zNeedle, "\"content\":\"pre\"");
    else snprintf(zNeedle, sizeof zNeedle, "\"content\":\"c%ld\"", who);
    p = strstr(p, zNeedle);
    TT_CHECK( p!=NULL );
    if( !p ) break;
    p += strlen(zNeedle);
  }
  free(z);
  store_thread_clear(&t);
  TT_CHECK( check_clean() );
}

/* The time of a change never passes 9999-12-31T23:59:59.999Z (it stayed "newest + 1 ms"
** and wrapped to year 0000 before: issue 10 item 5). */
static void time_clamped_at_year_9999(void){
  int64_t id = new_thread();
  sqlite3 *h;
  struct cv_thread t;
  char *z;
  char zSql[160];
  TT_CHECK( sqlite3_open(fx.zPath, &h)==SQLITE_OK );
  snprintf(zSql, sizeof zSql, "UPDATE chat_threads SET updated_at='9999-12-31T23:59:59.999Z'"
           " WHERE id=%lld", (long long)id);
  TT_CHECK( sqlite3_exec(h, zSql, NULL, NULL, NULL)==SQLITE_OK );
  sqlite3_close(h);
  append_one(id, "late", 0);
  z = messages_of(id, &t);
  TT_CHECK( z && strcmp(t.zUpdatedAt, "9999-12-31T23:59:59.999Z")==0 );
  free(z);
  store_thread_clear(&t);
}

/* The size caps (issue 10): growth past a cap is CV_QUOTA and changes nothing, shrinking
** always works, a grouped append admits what fits, and message_bytes (the conversation's
** and the account's) stays the segments' bytes (check_clean verifies both). */
static void size_caps(void){
  struct cv_conv_limits lim;
  struct cv_append ap;
  struct cv_thread t;
  int64_t id = new_thread(), id2, nBytes, nUser;
  char *z;
  int i;
  memset(&lim, 0, sizeof lim);
  lim.nMessages = 6;
  store_conv_set_limits(&lim);
  for(i=0; i<6; i++){ char zC[16]; snprintf(zC, sizeof zC, "m%d", i); append_one(id, zC, i); }
  TT_CHECK( store_threads_append(pS, alice, id, "{\"role\":\"user\",\"content\":\"x\"}", &ap)==CV_QUOTA );
  store_append_clear(&ap);
  z = messages_of(id, &t);
  TT_CHECK( z && t.nMessages==6 && !strstr(z, "\"x\"") );
  free(z);
  store_thread_clear(&t);
  /* a replace that grows past the cap is refused; one that shrinks is not */
  TT_CHECK( store_threads_update(pS, alice, id, NULL,
            "[{\"role\":\"user\",\"content\":\"1\"},{\"role\":\"user\",\"content\":\"2\"},"
            "{\"role\":\"user\",\"content\":\"3\"},{\"role\":\"user\",\"content\":\"4\"},"
            "{\"role\":\"user\",\"content\":\"5\"},{\"role\":\"user\",\"content\":\"6\"},"
            "{\"role\":\"user\",\"content\":\"7\"}]", 7, NULL, &t)==CV_QUOTA );
  store_thread_clear(&t);
  TT_CHECK( store_threads_update(pS, alice, id, NULL,
            "[{\"role\":\"user\",\"content\":\"1\"}]", 1, NULL, &t)==CV_OK && t.nMessages==1 );
  store_thread_clear(&t);
  TT_CHECK( check_clean() );
  nBytes = sql_int("SELECT message_bytes FROM chat_threads WHERE id=?1", id);
  TT_CHECK( nBytes==(int64_t)strlen("[{\"role\":\"user\",\"content\":\"1\"}]") );

  /* the byte cap of a conversation */
  lim.nMessages = 0;
  lim.nBytes = nBytes + 40;
  store_conv_set_limits(&lim);
  append_one(id, "short", 1);                      /* 33 bytes + "," */
  TT_CHECK( store_threads_append(pS, alice, id, "{\"role\":\"user\",\"content\":\"tiny\"}", &ap)==CV_QUOTA );
  store_append_clear(&ap);
  TT_CHECK( sql_int("SELECT message_count FROM chat_threads WHERE id=?1", id)==2 );

  /* the account's cap counts every conversation, each rounded up to 4 KiB; deleting one
  ** frees its bytes */
  lim.nBytes = 0;
  nUser = sql_int("SELECT stored_bytes FROM users WHERE id=?1", alice);
  TT_CHECK( nUser>0 && nUser%CONV_STORED_UNIT==0 );
  lim.nUserBytes = nUser + CONV_STORED_UNIT;
  store_conv_set_limits(&lim);
  id2 = new_thread();
  {
    char zMsg[1100];
    int n = 0;
    cv_rc rc = CV_OK;
    memset(zMsg, 0, sizeof zMsg);
    snprintf(zMsg, sizeof zMsg, "{\"role\":\"user\",\"content\":\"%01000d\"}", 7);
    while( n<10 && (rc = store_threads_append(pS, alice, id2, zMsg, &ap))==CV_OK ){
      store_append_clear(&ap);
      n++;
    }
    store_append_clear(&ap);
    TT_CHECK( rc==CV_QUOTA && n==3 );             /* 3 x 1,029 bytes fit one 4 KiB step */
    TT_CHECK( sql_int("SELECT stored_bytes FROM users WHERE id=?1", alice)==lim.nUserBytes );
    TT_CHECK( store_threads_delete(pS, alice, id)==CV_OK );
    TT_CHECK( store_threads_append(pS, alice, id2, zMsg, &ap)==CV_OK );
    store_append_clear(&ap);
  }
  TT_CHECK( check_clean() );
  memset(&lim, 0, sizeof lim);
  store_conv_set_limits(&lim);
}

/* Grouped appends at a message cap: of 40 concurrent appends to a thread 10 short of the
** cap, exactly 10 are written and the other 30 get CV_QUOTA. */
static void *appender_q(void *pArg){
  int64_t id = *(int64_t*)pArg;
  struct cv_append a;
  cv_rc rc = store_threads_append(pS, alice, id, "{\"role\":\"user\",\"content\":\"q\"}", &a);
  store_append_clear(&a);
  return (void*)(intptr_t)rc;
}
static void grouped_appends_at_a_cap(void){
  struct cv_conv_limits lim;
  pthread_t aTh[40];
  int64_t id = new_thread();
  int i, nOk = 0, nQuota = 0;
  memset(&lim, 0, sizeof lim);
  lim.nMessages = 10;
  store_conv_set_limits(&lim);
  for(i=0; i<40; i++) TT_CHECK( pthread_create(&aTh[i], NULL, appender_q, &id)==0 );
  for(i=0; i<40; i++){
    void *pRc;
    pthread_join(aTh[i], &pRc);
    if( (intptr_t)pRc==CV_OK ) nOk++;
    else if( (intptr_t)pRc==CV_QUOTA ) nQuota++;
  }
  TT_CHECK( nOk==10 && nQuota==30 );
  TT_CHECK( sql_int("SELECT message_count FROM chat_threads WHERE id=?1", id)==10 );
  TT_CHECK( check_clean() );
  memset(&lim, 0, sizeof lim);
  store_conv_set_limits(&lim);
}

/* A deleted thread's id (and conversation id) is never given again. */
static void ids_never_reused(void){
  int64_t id = new_thread(), id2;
  TT_CHECK( store_threads_delete(pS, alice, id)==CV_OK );
  id2 = new_thread();
  TT_CHECK( id2>id );
  TT_CHECK( n_segments(id)==0 );
}

/* Messages r0..r{n-1} (user, assistant, ...) with content i==iEdit replaced by zEdit, as the
** spliced array text, into b. */
static void expected_array(struct cv_buf *b, int n, int iEdit, const char *zEdit){
  int i;
  b->n = 0;
  buf_append(b, "[", 1);
  for(i=0; i<n; i++){
    if( i==iEdit ){
      buf_appendf(b, "%s{\"role\":\"%s\",\"content\":\"%s\"}", i ? "," : "",
                  i%2 ? "assistant" : "user", zEdit);
    }else{
      buf_appendf(b, "%s{\"role\":\"%s\",\"content\":\"r%d\"}", i ? "," : "",
                  i%2 ? "assistant" : "user", i);
    }
  }
  buf_append(b, "]", 1);
  buf_append(b, "", 1);
  b->n--;
}

/* Issue 13: an edit in place rewrites one segment (re-packed when it grows past the byte
** cap), the search queue is applied before COMMIT, a fork copies a prefix cut inside a
** segment, regenerate's first step removes exactly the trailing replies; every state passes
** the check of the invariants (caps, contiguity, message_count, message_bytes). */
static void edits_and_forks(void){
  int64_t id = new_thread(), bob, forkId = 0, iUser = -1;
  struct cv_buf b, want;
  struct cv_thread t, u;
  struct cv_msg_edit ed;
  char zBig[160], *z, *zContent = NULL;
  int i, bPastEnd = 0;
  buf_init(&b, 1<<20);
  buf_init(&want, 1<<20);
  expected_array(&b, 10, -1, NULL);
  TT_CHECK( store_threads_update(pS, alice, id, NULL, b.a, 10, NULL, &u)==CV_OK );
  store_thread_clear(&u);
  TT_CHECK( n_segments(id)==3 );
  /* in place: one segment, same count of segments */
  TT_CHECK( store_threads_edit_message(pS, alice, id, 5, "e5", NULL, &ed)==CV_OK );
  TT_CHECK( ed.index==5 && strcmp(ed.zRole, "assistant")==0 && ed.nMessages==10 && ed.zUpdatedAt[0] );
  TT_CHECK( n_segments(id)==3 );
  expected_array(&want, 10, 5, "e5");
  z = messages_of(id, &t);
  TT_CHECK( z && strcmp(z, want.a)==0 && t.nMessages==10 );
  free(z);
  store_thread_clear(&t);
  TT_CHECK( sql_int("SELECT count(*) FROM search_queue WHERE ?1", 1)==0 );
  TT_CHECK( check_clean() );
  /* grown past the 200-byte cap: its segment is split, the others stay */
  memset(zBig, 'x', 150);
  zBig[150] = 0;
  TT_CHECK( store_threads_edit_message(pS, alice, id, 5, zBig, "assistant", &ed)==CV_OK );
  TT_CHECK( n_segments(id)>=4 );
  expected_array(&want, 10, 5, zBig);
  z = messages_of(id, &t);
  TT_CHECK( z && strcmp(z, want.a)==0 );
  free(z);
  store_thread_clear(&t);
  TT_CHECK( check_clean() );
  /* the role stays; past the end; another user */
  TT_CHECK( store_threads_edit_message(pS, alice, id, 4, "x", "assistant", &ed)==CV_INVALID );
  TT_CHECK( store_threads_edit_message(pS, alice, id, 10, "x", NULL, &ed)==CV_NOTFOUND && ed.bPastEnd );
  bob = alice + 1000;               /* any other user id (no account needed to be refused) */
  TT_CHECK( store_threads_edit_message(pS, bob, id, 0, "x", NULL, &ed)==CV_FORBIDDEN );
  TT_CHECK( store_threads_truncate(pS, bob, id, 0, &ed)==CV_FORBIDDEN );
  TT_CHECK( store_threads_fork(pS, bob, id, -1, NULL, &forkId, &bPastEnd)==CV_FORBIDDEN );
  /* a fork cut inside a segment, and every prefix length */
  for(i=0; i<=10; i++){
    TT_CHECK( store_threads_fork(pS, alice, id, i, NULL, &forkId, &bPastEnd)==CV_OK && forkId>id );
    z = messages_of(forkId, &t);
    TT_CHECK( z && t.nMessages==i && strcmp(t.zTitle, "T")==0 );
    expected_array(&want, i, 5, zBig);
    TT_CHECK( z && strcmp(z, want.a)==0 );
    free(z);
    store_thread_clear(&t);
  }
  TT_CHECK( store_threads_fork(pS, alice, id, 11, "F", &forkId, &bPastEnd)==CV_NOTFOUND && bPastEnd );
  TT_CHECK( check_clean() );
  /* truncation inside a segment; then regenerate's first step */
  TT_CHECK( store_threads_truncate(pS, alice, id, 11, &ed)==CV_NOTFOUND && ed.bPastEnd );
  TT_CHECK( store_threads_truncate(pS, alice, id, 10, &ed)==CV_OK && ed.nMessages==10 && !ed.zUpdatedAt[0] );
  TT_CHECK( store_threads_truncate(pS, alice, id, 7, &ed)==CV_OK && ed.nMessages==7 );
  /* 0..6: u a u a u a u -> the last user message is 6: nothing to remove */
  TT_CHECK( store_threads_drop_replies(pS, alice, id, &iUser, &zContent)==CV_OK );
  TT_CHECK( iUser==6 && zContent && strcmp(zContent, "r6")==0 );
  free(zContent);
  append_one(id, "q", 7);
  TT_CHECK( store_threads_truncate(pS, alice, id, 7, &ed)==CV_OK );
  for(i=0; i<3; i++){
    struct cv_append a;
    TT_CHECK( store_threads_append(pS, alice, id, "{\"role\":\"assistant\",\"content\":\"z\"}", &a)==CV_OK );
    store_append_clear(&a);
  }
  TT_CHECK( store_threads_drop_replies(pS, alice, id, &iUser, &zContent)==CV_OK );
  TT_CHECK( iUser==6 && zContent && strcmp(zContent, "r6")==0 );
  free(zContent);
  z = messages_of(id, &t);
  TT_CHECK( z && t.nMessages==7 );
  free(z);
  store_thread_clear(&t);
  TT_CHECK( check_clean() );
  buf_free(&b);
  buf_free(&want);
}

static void close_db(void){
  store_conv_set_caps(0, 0);
  store_fixture_close(&fx);
}

int main(void){
  TT_RUN(open_db);
  TT_RUN(cap_and_indexes);
  TT_RUN(byte_cap_and_big_message);
  TT_RUN(replace_and_truncate);
  TT_RUN(truncate_at_boundaries);
  TT_RUN(prompt_tail);
  TT_RUN(concurrent_at_the_cap);
  TT_RUN(ids_never_reused);
  TT_RUN(time_clamped_at_year_9999);
  TT_RUN(size_caps);
  TT_RUN(grouped_appends_at_a_cap);
  TT_RUN(edits_and_forks);
  TT_RUN(check_finds_damage);
  TT_RUN(close_db);
  return TT_DONE();
}
