/*
** ratelimit.c — see ratelimit.h. Login and registration throttling, in memory.
**
** THE THREAT. Each login or registration costs an Argon2id hash (64 MiB, ~60 ms; two at a
** time, auth.c). A throttle must bound password guessing against one account, guessing one
** password against many accounts (spraying) and hashing floods, and must not itself become
** the attack: the first version refused even the right password for 15 minutes after ten
** failures per email or 100 per address, so anybody could lock the owner out of an account,
** or every user behind a NAT or reverse proxy out of all of them (issue 10, item 2).
**
** KEYS. Every login attempt is counted on three keys:
**   pair  (email, client address): RL_PAIR_FREE failures, then 429 for that pair until
**         RL_WINDOW_MS after its last failure. Right password included: a guesser must not
**         tell a right guess (200) from a refused one, so the lock is on the guesser's pair
**         only. The owner at another address is not affected.
**   email (from any address): RL_EMAIL_FREE failures, then a growing delay: each attempt
**         must come after the previous one's delay (1 s, doubling, at most 10 min), 429 with
**         Retry-After before that. Bounds distributed guessing to ~150 a day per account.
**   addr  (the client address): RL_ADDR_FREE failures, then a growing delay (1 s doubling,
**         at most 60 s). Bounds spraying from one address.
** A success clears its pair and records it as KNOWN-GOOD (a separate table, 30 days): a known-
** good pair skips the email and address delays. So an attacker's failures, from anywhere,
** never delay the owner at an address they logged in from before, nor a neighbour behind the
** same NAT who logged in from it before (97 failures on random emails from an address used
** to lock out every user behind it). What an attacker can still do: delay (never lock) a
** login from an address the account never used, while they keep failing, by taking the email
** delay's turns; and lock the pair of an address they share with the owner (a shared NAT) for
** that one account. Rejected alternatives: hard locks per email or address (the bug above);
** letting a right password through every limit (the limit would then not stop guessing,
** since only the hash tells a right guess); device cookies (the API has bearer clients).
** Registration: RL_SIGNUP_FREE per address, then growing delays (1 s doubling, at most 60 s).
** DELAYS. A key's count is forgotten after RL_WINDOW_MS without a counted event; an attempt
** taken on a delayed key is such an event, and every maximum delay is shorter than the window,
** so an attacker who waits out each delay stays delayed instead of earning a fresh budget.
**
** RESERVATIONS. An attempt is checked and reserved (nBusy) on all its keys under one mutex
** before the hash, and settled after it, so 40 concurrent wrong passwords cannot all be
** verified against a limit of 10: reserved attempts count against the free budget.
**
** CLIENT ADDRESS. The caller passes netaddr_throttle_key() of the client address: the socket
** peer, or X-Forwarded-For's right-most untrusted hop when the peer is a --trusted-proxy
** (server.c), and an IPv6 address's /64 (one host owns a whole /64).
**
** MEMORY. Two fixed tables: RL_SLOTS counting slots and RL_GOOD_SLOTS known-good slots,
** open addressing over RL_PROBE slots. Keys are hashed with a per-process BLAKE2b key, so the
** table holds no email in clear and nobody can aim keys at one probe window. A new key takes
** an empty or expired slot of its window, else evicts the slot with the fewest failures (the
** oldest among equals), and NEVER a protected slot: one with attempts in flight or whose count
** still restricts its key (n >= its free budget). Flooding therefore cannot flush a victim's
** lock or delay. It cannot fill the table with protected slots either: each costs at least
** RL_PAIR_FREE verified failures, and two hashers verify at most ~100 a second, so at most
** ~9,000 pair slots are protected within a window, against 32,768 slots (a probe window of 16
** is then all protected with probability < 1e-9; if it ever is, the new key's attempt is
** refused with Retry-After 1 rather than counted nowhere). Known-good slots evict the least
** recently used; losing one only turns the owner back into a never-seen address (delayed, not
** locked). Memory: 32,768 x 40 B + 8,192 x 16 B = 1.4 MB, whatever is sent.
*/
#include "ratelimit.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define RL_SLOTS 32768
#define RL_GOOD_SLOTS 8192
#define RL_PROBE 16
#define RL_GOOD_MS (30LL*86400*1000)

enum rl_kind { RL_PAIR = 1, RL_EMAIL, RL_ADDR, RL_SIGNUP };

struct rl_rule {
  int nFree;                 /* counted events before the key is restricted */
  int64_t delayMinMs;        /* first delay once restricted; 0: locked until the window ends */
  int64_t delayMaxMs;        /* the delay doubles up to this */
};

static const struct rl_rule aRule[] = {
  /* unused */  { 0, 0, 0 },
  /* PAIR */    { RL_PAIR_FREE,   0,    0 },
  /* EMAIL */   { RL_EMAIL_FREE,  1000, 10*60*1000 },  /* < RL_WINDOW_MS: see DELAYS */
  /* ADDR */    { RL_ADDR_FREE,   1000, 60*1000 },
  /* SIGNUP */  { RL_SIGNUP_FREE, 1000, 60*1000 },
};

struct rl_slot {
  uint64_t h;          /* key hash; 0 = empty */
  int64_t lastMs;      /* last counted event (the count is forgotten RL_WINDOW_MS after) */
  int64_t nextMs;      /* delayed keys: earliest next attempt */
  int32_t n;           /* counted events (failures; registrations) */
  int16_t nBusy;       /* reserved attempts not yet settled */
  int16_t eKind;       /* enum rl_kind */
};

struct rl_good {
  uint64_t h;          /* pair hash; 0 = empty */
  int64_t lastMs;      /* last success */
};

static struct rl_slot aSlot[RL_SLOTS];
static struct rl_good aGood[RL_GOOD_SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char aKey[crypto_shorthash_KEYBYTES];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_key(void){ randombytes_buf(aKey, sizeof aKey); }

/* Keyed hash of the parts zA, "\n", zB (zB may be NULL), never 0. */
static uint64_t key_hash(char cKind, const char *zA, const char *zB){
  crypto_generichash_state st;
  unsigned char out[8];
  uint64_t h;
  pthread_once(&once, init_key);
  crypto_generichash_init(&st, aKey, sizeof aKey, sizeof out);
  crypto_generichash_update(&st, (const unsigned char*)&cKind, 1);
  crypto_generichash_update(&st, (const unsigned char*)zA, strlen(zA));
  if( zB ){
    crypto_generichash_update(&st, (const unsigned char*)"\n", 1);
    crypto_generichash_update(&st, (const unsigned char*)zB, strlen(zB));
  }
  crypto_generichash_final(&st, out, sizeof out);
  memcpy(&h, out, sizeof h);
  return h ? h : 1;
}

/* Forget p's count when its window has passed (nothing in flight). Caller holds mu. */
static void age(struct rl_slot *p, int64_t nowMs){
  if( p->h && p->nBusy==0 && p->n>0 && nowMs - p->lastMs >= RL_WINDOW_MS ){
    p->n = 0;
    p->nextMs = 0;
  }
}

/* 1 when p may not be evicted: attempts in flight, or its count restricts its key. */
static int is_protected(const struct rl_slot *p, int64_t nowMs){
  if( p->h==0 ) return 0;
  if( p->nBusy>0 ) return 1;
  return p->n >= aRule[p->eKind].nFree && nowMs - p->lastMs < RL_WINDOW_MS;
}

/* The slot of h; with bCreate a new one (an empty, expired or evicted slot) when absent.
** NULL when absent and (not bCreate, or every slot of the window is protected). Caller
** holds mu. */
static struct rl_slot *find(uint64_t h, enum rl_kind eKind, int bCreate, int64_t nowMs){
  size_t i, base = (size_t)(h % RL_SLOTS);
  struct rl_slot *pVictim = NULL;
  for(i=0; i<RL_PROBE; i++){
    struct rl_slot *p = &aSlot[(base + i) % RL_SLOTS];
    if( p->h==h ){ age(p, nowMs); return p; }
  }
  if( !bCreate ) return NULL;
  for(i=0; i<RL_PROBE; i++){
    struct rl_slot *p = &aSlot[(base + i) % RL_SLOTS];
    age(p, nowMs);
    if( p->h==0 || (p->n==0 && p->nBusy==0) ){ pVictim = p; break; }
    if( is_protected(p, nowMs) ) continue;
    if( !pVictim || p->n<pVictim->n || (p->n==pVictim->n && p->lastMs<pVictim->lastMs) ){
      pVictim = p;
    }
  }
  if( !pVictim ) return NULL;
  memset(pVictim, 0, sizeof *pVictim);
  pVictim->h = h;
  pVictim->eKind = (int16_t)eKind;
  pVictim->lastMs = nowMs;
  return pVictim;
}

/* The known-good slot of h (NULL when absent or older than RL_GOOD_MS); with bCreate, a
** free or the least recently used slot of its window, h set. Caller holds mu. */
static struct rl_good *find_good(uint64_t h, int bCreate, int64_t nowMs){
  size_t i, base = (size_t)(h % RL_GOOD_SLOTS);
  struct rl_good *pOld = NULL;
  for(i=0; i<RL_PROBE; i++){
    struct rl_good *p = &aGood[(base + i) % RL_GOOD_SLOTS];
    if( p->h && nowMs - p->lastMs >= RL_GOOD_MS ) p->h = 0;
    if( p->h==h ) return p;
    if( !pOld || p->h==0 || (pOld->h!=0 && p->lastMs<pOld->lastMs) ) pOld = p;
  }
  if( !bCreate ) return NULL;
  pOld->h = h;
  pOld->lastMs = nowMs;
  return pOld;
}

/* Seconds until p's key may make another attempt (0: now), given the attempts counted and in
** flight. Caller holds mu. */
static int wait_s(const struct rl_slot *p, int64_t nowMs){
  const struct rl_rule *r = &aRule[p->eKind];
  int64_t untilMs;
  if( p->n + p->nBusy < r->nFree ) return 0;
  if( r->delayMinMs==0 ){
    /* locked; while the budget is only reserved, the outcome decides within a second */
    untilMs = p->n >= r->nFree ? p->lastMs + RL_WINDOW_MS : nowMs + 1000;
  }else{
    untilMs = p->nextMs;
  }
  if( untilMs<=nowMs ) return 0;
  return (int)((untilMs - nowMs + 999)/1000);
}

/* Take one attempt on p (after wait_s said 0): in flight, and on a delayed key, the time the
** next attempt must wait for. */
static void take(struct rl_slot *p, int64_t nowMs){
  const struct rl_rule *r = &aRule[p->eKind];
  int excess = p->n + p->nBusy - r->nFree;
  if( r->delayMinMs>0 && excess>=0 ){
    int64_t d = r->delayMinMs << (excess>20 ? 20 : excess);
    if( d>r->delayMaxMs ) d = r->delayMaxMs;
    p->nextMs = nowMs + d;
    p->lastMs = nowMs;
  }
  p->nBusy++;
}

int ratelimit_login_begin(const char *zEmail, const char *zAddr, int64_t nowMs,
                          struct rl_login *pT){
  struct rl_slot *pPair, *pEmail, *pAddr;
  int wait = 0, w, bGood;
  memset(pT, 0, sizeof *pT);
  pT->hPair = key_hash('p', zEmail, zAddr);
  pT->hEmail = key_hash('e', zEmail, NULL);
  pT->hAddr = key_hash('a', zAddr, NULL);
  pthread_mutex_lock(&mu);
  bGood = find_good(pT->hPair, 0, nowMs)!=NULL;
  /* each slot is held (nBusy) while the next is found, so that finding one cannot evict
  ** another of the same attempt */
  pPair = find(pT->hPair, RL_PAIR, 1, nowMs);
  if( pPair ) pPair->nBusy++;
  pEmail = pPair ? find(pT->hEmail, RL_EMAIL, 1, nowMs) : NULL;
  if( pEmail ) pEmail->nBusy++;
  pAddr = pEmail ? find(pT->hAddr, RL_ADDR, 1, nowMs) : NULL;
  if( pPair ) pPair->nBusy--;
  if( pEmail ) pEmail->nBusy--;
  if( !pAddr ){
    wait = 1;                /* no slot for a key (see MEMORY above): refuse, count nowhere */
  }else{
    wait = wait_s(pPair, nowMs);
    if( !bGood ){
      if( (w = wait_s(pEmail, nowMs))>wait ) wait = w;
      if( (w = wait_s(pAddr, nowMs))>wait ) wait = w;
    }
    if( !wait ){
      pPair->nBusy++;
      if( bGood ){ pEmail->nBusy++; pAddr->nBusy++; }
      else{ take(pEmail, nowMs); take(pAddr, nowMs); }
      pT->bActive = 1;
    }
  }
  pthread_mutex_unlock(&mu);
  return wait;
}

/* Settle one reservation of h: a failure is counted. Caller holds mu. */
static void settle(uint64_t h, int bFail, int64_t nowMs){
  size_t i, base = (size_t)(h % RL_SLOTS);
  for(i=0; i<RL_PROBE; i++){
    struct rl_slot *p = &aSlot[(base + i) % RL_SLOTS];
    if( p->h!=h ) continue;
    if( p->nBusy>0 ) p->nBusy--;
    if( bFail ){
      if( p->n>0 && nowMs - p->lastMs >= RL_WINDOW_MS ){ p->n = 0; p->nextMs = 0; }
      p->n++;
      p->lastMs = nowMs;
    }
    return;
  }
}

void ratelimit_login_end(struct rl_login *pT, int bSuccess, int64_t nowMs){
  if( !pT->bActive ) return;
  pthread_mutex_lock(&mu);
  settle(pT->hPair, !bSuccess, nowMs);
  settle(pT->hEmail, !bSuccess, nowMs);
  settle(pT->hAddr, !bSuccess, nowMs);
  if( bSuccess ){
    struct rl_slot *p = find(pT->hPair, RL_PAIR, 0, nowMs);
    struct rl_good *g = find_good(pT->hPair, 1, nowMs);
    if( p && p->nBusy==0 ){ p->n = 0; p->nextMs = 0; }
    g->lastMs = nowMs;
  }
  pthread_mutex_unlock(&mu);
  pT->bActive = 0;
}

void ratelimit_login_cancel(struct rl_login *pT){
  int64_t unused = 0;
  if( !pT->bActive ) return;
  pthread_mutex_lock(&mu);
  settle(pT->hPair, 0, unused);
  settle(pT->hEmail, 0, unused);
  settle(pT->hAddr, 0, unused);
  pthread_mutex_unlock(&mu);
  pT->bActive = 0;
}

int ratelimit_signup(const char *zAddr, int64_t nowMs){
  uint64_t h = key_hash('s', zAddr, NULL);
  struct rl_slot *p;
  int wait;
  pthread_mutex_lock(&mu);
  p = find(h, RL_SIGNUP, 1, nowMs);
  if( !p ){
    wait = 1;
  }else if( (wait = wait_s(p, nowMs))==0 ){
    take(p, nowMs);
    p->nBusy--;              /* a registration is counted when it starts, not settled */
    p->n++;
    p->lastMs = nowMs;
  }
  pthread_mutex_unlock(&mu);
  return wait;
}

void ratelimit_stats(int64_t nowMs, int *pnUsed, int *pnProtected, int *pnSlots){
  int i, nUsed = 0, nProt = 0;
  pthread_mutex_lock(&mu);
  for(i=0; i<RL_SLOTS; i++){
    if( aSlot[i].h ) nUsed++;
    if( is_protected(&aSlot[i], nowMs) ) nProt++;
  }
  pthread_mutex_unlock(&mu);
  *pnUsed = nUsed;
  *pnProtected = nProt;
  *pnSlots = RL_SLOTS;
}

void ratelimit_reset(void){
  pthread_mutex_lock(&mu);
  memset(aSlot, 0, sizeof aSlot);
  memset(aGood, 0, sizeof aGood);
  pthread_mutex_unlock(&mu);
}
