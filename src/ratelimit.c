/*
** ratelimit.c — a fixed-size open table of {key hash, window start, failures}.
** Keys are hashed (BLAKE2b-64, keyed per process) so the table holds no email in clear and
** cannot be aimed at one bucket; a full table evicts the entry whose window is oldest, so
** memory is bounded whatever an attacker sends. May call libsodium and pthreads.
*/
#include "ratelimit.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#define RL_SLOTS 4096
#define RL_PROBE 8

struct rl_slot {
  uint64_t h;          /* key hash; 0 = empty */
  int64_t startMs;     /* window start */
  int n;               /* failures in the window */
  int nBusy;           /* reserved attempts not yet settled (ratelimit_reserve) */
};

static struct rl_slot aSlot[RL_SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char aKey[crypto_shorthash_KEYBYTES];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_key(void){ randombytes_buf(aKey, sizeof aKey); }

static uint64_t key_hash(const char *z){
  unsigned char out[crypto_shorthash_BYTES];
  uint64_t h;
  pthread_once(&once, init_key);
  crypto_shorthash(out, (const unsigned char*)z, strlen(z), aKey);
  memcpy(&h, out, sizeof h);
  return h ? h : 1;
}

/* The slot of h, or NULL; with bCreate, a free or evicted slot (NULL when every slot of
** the probe window has attempts in flight). Caller holds mu. */
static struct rl_slot *find(uint64_t h, int bCreate, int64_t nowMs){
  size_t i, base = (size_t)(h % RL_SLOTS);
  struct rl_slot *pOldest = NULL;
  for(i=0; i<RL_PROBE; i++){
    struct rl_slot *p = &aSlot[(base + i) % RL_SLOTS];
    if( p->h==h ) return p;
    if( p->nBusy>0 ) continue;     /* its settle must find it */
    if( !pOldest || p->h==0 || (pOldest->h!=0 && p->startMs<pOldest->startMs) ) pOldest = p;
  }
  if( !bCreate || !pOldest ) return NULL;
  pOldest->h = h;
  pOldest->startMs = nowMs;
  pOldest->n = 0;
  pOldest->nBusy = 0;
  return pOldest;
}

int ratelimit_reserve(const char *zKey, int maxFails, int64_t windowMs, int64_t nowMs){
  uint64_t h = key_hash(zKey);
  struct rl_slot *p;
  int wait = 0;
  pthread_mutex_lock(&mu);
  p = find(h, 1, nowMs);
  if( !p ){
    wait = 1;
  }else{
    if( p->nBusy==0 && nowMs - p->startMs >= windowMs ){
      p->startMs = nowMs;
      p->n = 0;
    }
    if( p->n + p->nBusy >= maxFails ){
      wait = (int)((p->startMs + windowMs - nowMs + 999)/1000);
      if( wait<1 ) wait = 1;
    }else{
      p->nBusy++;
    }
  }
  pthread_mutex_unlock(&mu);
  return wait;
}

void ratelimit_settle(const char *zKey, int bFail, int64_t windowMs, int64_t nowMs){
  uint64_t h = key_hash(zKey);
  struct rl_slot *p;
  pthread_mutex_lock(&mu);
  p = find(h, 0, nowMs);
  if( p && p->nBusy>0 ){
    p->nBusy--;
    if( bFail ){
      if( p->n==0 && nowMs - p->startMs >= windowMs ) p->startMs = nowMs;
      p->n++;
    }
  }
  pthread_mutex_unlock(&mu);
}

int ratelimit_wait_s(const char *zKey, int maxFails, int64_t windowMs, int64_t nowMs){
  uint64_t h = key_hash(zKey);
  struct rl_slot *p;
  int wait = 0;
  pthread_mutex_lock(&mu);
  p = find(h, 0, nowMs);
  if( p && nowMs - p->startMs < windowMs && p->n >= maxFails ){
    wait = (int)((p->startMs + windowMs - nowMs + 999)/1000);
    if( wait<1 ) wait = 1;
  }
  pthread_mutex_unlock(&mu);
  return wait;
}

void ratelimit_fail(const char *zKey, int64_t windowMs, int64_t nowMs){
  uint64_t h = key_hash(zKey);
  struct rl_slot *p;
  pthread_mutex_lock(&mu);
  p = find(h, 1, nowMs);
  if( !p ){ pthread_mutex_unlock(&mu); return; }
  if( nowMs - p->startMs >= windowMs ){
    p->startMs = nowMs;
    p->n = 0;
  }
  p->n++;
  pthread_mutex_unlock(&mu);
}

void ratelimit_clear(const char *zKey){
  uint64_t h = key_hash(zKey);
  struct rl_slot *p;
  pthread_mutex_lock(&mu);
  p = find(h, 0, 0);
  if( p && p->nBusy==0 ) memset(p, 0, sizeof *p);
  else if( p ) p->n = 0;
  pthread_mutex_unlock(&mu);
}
