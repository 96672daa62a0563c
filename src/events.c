/*
** events.c — see events.h. Locking: one mutex (mu) guards the buckets, every sub's bWake,
** the counts, bNotified and bStop. The hub thread reads the log with mu released.
*/
#include "events.h"
#include "store.h"
#include "store_changes.h"
#include "util.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_BUCKET      1024                    /* streams hashed by user id */
#define USERS_BATCH   512                     /* log records read per step */

struct cv_events {
  struct cv_store *pS;
  pthread_t hub;
  int bHub;                                   /* the hub thread runs */
  pthread_mutex_t mu;
  pthread_cond_t cvHub;                       /* a commit (bNotified) or stop */
  int bNotified;
  int bStale;                                 /* lastSeq is not followed (no stream was open) */
  int bStop;
  int nSubs, nMax;
  int64_t lastSeq;                            /* the hub has woken users up to here (set by
                                              ** the hub, and by the first stream after idle) */
  struct cv_sub *aBucket[N_BUCKET];
};

static unsigned bucket_of(int64_t userId){
  return (unsigned)((uint64_t)userId * 0x9E3779B97F4A7C15ull >> 54) % N_BUCKET;
}

/* An absolute CLOCK_MONOTONIC time for pthread_cond_timedwait, us from now. */
static struct timespec mono_deadline(int64_t untilUs){
  struct timespec ts;
  ts.tv_sec = (time_t)(untilUs/1000000);
  ts.tv_nsec = (long)(untilUs%1000000)*1000;
  return ts;
}

static void cond_init_mono(pthread_cond_t *pCv){
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  pthread_cond_init(pCv, &a);
  pthread_condattr_destroy(&a);
}

/* The store's commit hook: tell the hub to read the log. On the writer thread. */
static void on_commit(void *pArg){
  struct cv_events *pEv = pArg;
  pthread_mutex_lock(&pEv->mu);
  if( pEv->nSubs>0 ){
    pEv->bNotified = 1;
    pthread_cond_signal(&pEv->cvHub);
  }
  pthread_mutex_unlock(&pEv->mu);
}

/* Wake every stream of userId. mu held. */
static void wake_user(struct cv_events *pEv, int64_t userId){
  struct cv_sub *p;
  for(p=pEv->aBucket[bucket_of(userId)]; p; p=p->pNext){
    if( p->userId==userId && !p->bWake ){
      p->bWake = 1;
      pthread_cond_signal(&p->cv);
    }
  }
}

/* Read the log's records after lastSeq and wake their users' streams. Without mu. */
static void read_log(struct cv_events *pEv){
  int64_t aUser[USERS_BATCH];
  struct cv_read rd;
  int n, i, bStale;
  int64_t last;
  pthread_mutex_lock(&pEv->mu);
  last = pEv->lastSeq;
  pthread_mutex_unlock(&pEv->mu);
  if( store_read_begin(pEv->pS, &rd)!=CV_OK ) return;       /* tried again next time */
  do{
    if( store_changes_users_after(&rd, last, aUser, USERS_BATCH, &n, &last)!=CV_OK ) break;
    if( n==0 ) break;
    pthread_mutex_lock(&pEv->mu);
    for(i=0; i<n; i++) wake_user(pEv, aUser[i]);
    /* a stream that came meanwhile may have moved lastSeq on (events_subscribe); when the
    ** streams went, the next one says where to start */
    bStale = pEv->bStale;
    if( !bStale && last>pEv->lastSeq ) pEv->lastSeq = last;
    pthread_mutex_unlock(&pEv->mu);
  }while( n==USERS_BATCH && !bStale );
  store_read_end(&rd);
}

static void *hub_main(void *pArg){
  struct cv_events *pEv = pArg;
  pthread_mutex_lock(&pEv->mu);
  while( !pEv->bStop ){
    if( pEv->nSubs==0 ){
      /* nobody listens (bStale is set): commits are not followed, no read per commit; the
      ** next stream to open tells the hub where to start (events_subscribe) */
      assert( pEv->bStale );
      pEv->bNotified = 0;
      pthread_cond_wait(&pEv->cvHub, &pEv->mu);
      continue;
    }
    if( !pEv->bNotified ){
      /* look every EVENTS_POLL_MS too: another process's commits have no hook here */
      struct timespec ts = mono_deadline(util_mono_us() + EVENTS_POLL_MS*1000LL);
      pthread_cond_timedwait(&pEv->cvHub, &pEv->mu, &ts);
      if( pEv->bStop || pEv->nSubs==0 ) continue;
    }
    pEv->bNotified = 0;
    pthread_mutex_unlock(&pEv->mu);
    read_log(pEv);
    pthread_mutex_lock(&pEv->mu);
  }
  pthread_mutex_unlock(&pEv->mu);
  return NULL;
}

cv_rc events_start(struct cv_store *pS, int nMaxStreams, struct cv_events **ppEv){
  struct cv_events *pEv;
  cv_rc rc;
  assert( pS && nMaxStreams>=1 );
  *ppEv = NULL;
  pEv = calloc(1, sizeof *pEv);
  if( !pEv ) return CV_NOMEM;
  pEv->pS = pS;
  pEv->nMax = nMaxStreams;
  pthread_mutex_init(&pEv->mu, NULL);
  cond_init_mono(&pEv->cvHub);
  pEv->bStale = 1;                            /* the first stream says where to start */
  rc = store_on_commit(pS, on_commit, pEv);
  if( rc==CV_OK ){
    if( pthread_create(&pEv->hub, NULL, hub_main, pEv)!=0 ) rc = CV_NOMEM;
    else pEv->bHub = 1;
  }
  if( rc ){
    events_free(pEv);
    return rc;
  }
  *ppEv = pEv;
  return CV_OK;
}

void events_stop(struct cv_events *pEv){
  int i;
  struct cv_sub *p;
  if( !pEv ) return;
  pthread_mutex_lock(&pEv->mu);
  pEv->bStop = 1;
  pthread_cond_signal(&pEv->cvHub);
  for(i=0; i<N_BUCKET; i++){
    for(p=pEv->aBucket[i]; p; p=p->pNext) pthread_cond_signal(&p->cv);
  }
  pthread_mutex_unlock(&pEv->mu);
  if( pEv->bHub ){
    pthread_join(pEv->hub, NULL);
    pEv->bHub = 0;
  }
}

void events_free(struct cv_events *pEv){
  if( !pEv ) return;
  events_stop(pEv);
  (void)store_on_commit(pEv->pS, NULL, NULL);
  assert( pEv->nSubs==0 );
  pthread_cond_destroy(&pEv->cvHub);
  pthread_mutex_destroy(&pEv->mu);
  free(pEv);
}

cv_rc events_subscribe(struct cv_events *pEv, struct cv_sub *pSub, int64_t userId,
                       int64_t head){
  struct cv_sub *p, *pOldest = NULL, **ppHead;
  int nUser = 0;
  cv_rc rc = CV_OK;
  memset(pSub, 0, sizeof *pSub);
  pSub->userId = userId;
  ppHead = &pEv->aBucket[bucket_of(userId)];
  pthread_mutex_lock(&pEv->mu);
  for(p=*ppHead; p; p=p->pNext){               /* newest first: the last seen is the oldest */
    if( p->userId==userId && !p->bEvicted ){
      nUser++;
      pOldest = p;
    }
  }
  if( pEv->bStop ) rc = CV_CLOSED;
  else if( pEv->nSubs>=pEv->nMax ) rc = CV_BUSY;
  else{
    if( nUser>=EVENTS_PER_USER ){
      assert( pOldest );
      pOldest->bEvicted = 1;
      pthread_cond_signal(&pOldest->cv);
    }
    cond_init_mono(&pSub->cv);
    pSub->pNext = *ppHead;
    if( *ppHead ) (*ppHead)->pPrev = pSub;
    *ppHead = pSub;
    if( pEv->bStale ){
      /* the hub was idle: it follows the log again from the head this stream read before it
      ** came, so no commit after that head goes unseen (the stream reads the log itself
      ** once registered: what came before is its own read's) */
      pEv->lastSeq = head;
      pEv->bStale = 0;
      pEv->bNotified = 1;
      pthread_cond_signal(&pEv->cvHub);
    }
    pEv->nSubs++;
  }
  pthread_mutex_unlock(&pEv->mu);
  return rc;
}

void events_unsubscribe(struct cv_events *pEv, struct cv_sub *pSub){
  pthread_mutex_lock(&pEv->mu);
  if( pSub->pPrev ) pSub->pPrev->pNext = pSub->pNext;
  else pEv->aBucket[bucket_of(pSub->userId)] = pSub->pNext;
  if( pSub->pNext ) pSub->pNext->pPrev = pSub->pPrev;
  if( --pEv->nSubs==0 ) pEv->bStale = 1;     /* the hub stops following the log */
  assert( pEv->nSubs>=0 );
  pthread_mutex_unlock(&pEv->mu);
  pthread_cond_destroy(&pSub->cv);
}

void events_arm(struct cv_events *pEv, struct cv_sub *pSub){
  pthread_mutex_lock(&pEv->mu);
  pSub->bWake = 0;
  pthread_mutex_unlock(&pEv->mu);
}

int events_wait(struct cv_events *pEv, struct cv_sub *pSub, int64_t untilUs){
  struct timespec ts = mono_deadline(untilUs);
  int r;
  pthread_mutex_lock(&pEv->mu);
  while( !pSub->bWake && !pSub->bEvicted && !pEv->bStop ){
    if( pthread_cond_timedwait(&pSub->cv, &pEv->mu, &ts)==ETIMEDOUT ) break;
  }
  r = pEv->bStop ? -1 : pSub->bEvicted ? 3 : pSub->bKick ? 2 : pSub->bWake ? 1 : 0;
  pSub->bKick = 0;
  pthread_mutex_unlock(&pEv->mu);
  return r;
}

void events_kick_user(struct cv_events *pEv, int64_t userId){
  struct cv_sub *p;
  if( !pEv ) return;
  pthread_mutex_lock(&pEv->mu);
  for(p=pEv->aBucket[bucket_of(userId)]; p; p=p->pNext){
    if( p->userId==userId ) p->bKick = 1;
  }
  for(p=pEv->aBucket[bucket_of(userId)]; p; p=p->pNext){
    if( p->userId==userId ){
      p->bWake = 1;
      pthread_cond_signal(&p->cv);
    }
  }
  pthread_mutex_unlock(&pEv->mu);
}

int events_count(struct cv_events *pEv){
  int n;
  if( !pEv ) return 0;
  pthread_mutex_lock(&pEv->mu);
  n = pEv->nSubs;
  pthread_mutex_unlock(&pEv->mu);
  return n;
}
