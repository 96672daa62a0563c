/*
** auth.c — see auth.h. Argon2id costs 64 MiB and ~60 ms per hash here (facts.md): at most
** two run at once (a semaphore), so a burst of logins queues instead of exhausting memory.
** The token hash lookup is an indexed equality on BLAKE2b(token): timing reveals nothing
** about the token itself. Logins are throttled per email, per client address and per pair,
** registrations per client address, both before any hash is computed (ratelimit.c).
*/
#include "auth.h"
#include "netaddr.h"
#include "ratelimit.h"
#include "store_tokens.h"
#include "store_users.h"
#include "util.h"

#include <assert.h>

#include <ctype.h>
#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define AUTH_MAX_HASHERS 2
#define TOUCH_EVERY_MS 60000

static sem_t hashers;
static char zDummyHash[crypto_pwhash_STRBYTES];

cv_rc auth_init(int bLogins){
  char zPw[32];
  if( sodium_init()<0 ) return CV_DB;
  if( sem_init(&hashers, 0, AUTH_MAX_HASHERS)!=0 ) return CV_NOMEM;
  if( !bLogins ) return CV_OK;
  /* a hash nobody knows the password of, with the same cost as real ones */
  randombytes_buf(zPw, sizeof zPw - 1);
  zPw[sizeof zPw - 1] = 0;
  if( crypto_pwhash_str(zDummyHash, zPw, sizeof zPw - 1, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE)!=0 ) return CV_NOMEM;
  return CV_OK;
}

static void hasher_enter(void){ while( sem_wait(&hashers)!=0 ){} }
static void hasher_leave(void){ sem_post(&hashers); }

cv_rc auth_hash_password(const char *zPassword, char *zOut){
  int rc;
  hasher_enter();
  rc = crypto_pwhash_str(zOut, zPassword, strlen(zPassword), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                         crypto_pwhash_MEMLIMIT_INTERACTIVE);
  hasher_leave();
  return rc==0 ? CV_OK : CV_NOMEM;
}

/* 1 when zPassword matches zHash (an Argon2id string). Constant-time inside libsodium. */
static int verify(const char *zHash, const char *zPassword){
  int rc;
  hasher_enter();
  rc = crypto_pwhash_str_verify(zHash, zPassword, strlen(zPassword));
  hasher_leave();
  return rc==0;
}

/* The throttling key of an email: lower-cased, so case variants share one budget. */
static void email_key(const char *zEmail, char *zKey, size_t n){
  size_t i = 0;
  for(; *zEmail && i+1<n; zEmail++) zKey[i++] = (char)tolower((unsigned char)*zEmail);
  zKey[i] = 0;
}

cv_rc auth_login(struct cv_store *pS, const char *zEmail, const char *zPassword,
                 const char *zClient, struct cv_user *pUser, int *pRetryS){
  char zEKey[300], zAKey[CV_ADDR_TEXT];
  struct rl_login t;
  int wait, ok;
  cv_rc rc;
  *pRetryS = 0;
  memset(pUser, 0, sizeof *pUser);
  email_key(zEmail, zEKey, sizeof zEKey);
  netaddr_throttle_key(zClient ? zClient : "", zAKey);
  /* Reserved on every key before the (slow) verification, so concurrent attempts cannot all
  ** pass the check before any failure is counted (ratelimit.c: RESERVATIONS). */
  wait = ratelimit_login_begin(zEKey, zAKey, util_now_ms(), &t);
  if( wait ){
    *pRetryS = wait;
    return CV_RATELIMITED;
  }
  rc = store_users_by_email(pS, zEmail, pUser);
  if( rc && rc!=CV_NOTFOUND ){
    ratelimit_login_cancel(&t);      /* our failure, not the client's: not counted */
    return rc;
  }
  /* unknown email or no password: verify against the dummy so it costs the same */
  assert( zDummyHash[0]!=0 );    /* auth_init(1) ran */
  ok = verify(rc==CV_OK && pUser->zPasswordHash ? pUser->zPasswordHash : zDummyHash, zPassword);
  ok = rc==CV_OK && pUser->zPasswordHash && ok;
  ratelimit_login_end(&t, ok, util_now_ms());
  if( ok ) return CV_OK;
  store_user_clear(pUser);
  return CV_UNAUTHORIZED;
}

cv_rc auth_signup_check(const char *zClient, int *pRetryS){
  char zAKey[CV_ADDR_TEXT];
  netaddr_throttle_key(zClient ? zClient : "", zAKey);
  *pRetryS = ratelimit_signup(zAKey, util_now_ms());
  return *pRetryS ? CV_RATELIMITED : CV_OK;
}

cv_rc auth_issue_token(struct cv_store *pS, int64_t userId, int64_t ttlMs, char *zToken){
  unsigned char aRaw[32], aHash[32];
  int64_t now = util_now_ms();
  cv_rc rc;
  randombytes_buf(aRaw, sizeof aRaw);
  util_base64url(aRaw, sizeof aRaw, zToken);
  crypto_generichash(aHash, sizeof aHash, (const unsigned char*)zToken, CV_TOKEN_CHARS, NULL, 0);
  rc = store_tokens_insert(pS, userId, aHash, now, now + ttlMs);
  sodium_memzero(aRaw, sizeof aRaw);
  return rc;
}

cv_rc auth_check_bearer(struct cv_store *pS, const char *zHeader, int64_t *pUserId,
                        unsigned char aHash[32]){
  const char *zTok;
  int64_t now, lastUsed = 0;
  size_t n;
  cv_rc rc;
  *pUserId = 0;
  if( !zHeader ) return CV_UNAUTHORIZED;
  while( *zHeader==' ' ) zHeader++;
  if( strncasecmp(zHeader, "bearer ", 7)!=0 ) return CV_UNAUTHORIZED;
  zTok = zHeader + 7;
  while( *zTok==' ' ) zTok++;
  n = strlen(zTok);
  while( n>0 && zTok[n-1]==' ' ) n--;
  if( n!=CV_TOKEN_CHARS ) return CV_UNAUTHORIZED;
  for(size_t i=0; i<n; i++){
    char c = zTok[i];
    if( !isalnum((unsigned char)c) && c!='-' && c!='_' ) return CV_UNAUTHORIZED;
  }
  crypto_generichash(aHash, 32, (const unsigned char*)zTok, n, NULL, 0);
  now = util_now_ms();
  rc = store_tokens_lookup(pS, aHash, now, pUserId, &lastUsed);
  if( rc==CV_NOTFOUND ) return CV_UNAUTHORIZED;
  if( rc ) return rc;
  if( now - lastUsed > TOUCH_EVERY_MS ){
    /* best effort: a failed touch does not fail the request */
    if( store_tokens_touch(pS, aHash, now)!=CV_OK ){
      fprintf(stderr, "chatvault: could not record a token's last use\n");
    }
  }
  return CV_OK;
}

void auth_share_token(char *zToken, unsigned char aHash[32]){
  unsigned char aRaw[32];
  randombytes_buf(aRaw, sizeof aRaw);
  util_base64url(aRaw, sizeof aRaw, zToken);
  crypto_generichash(aHash, 32, (const unsigned char*)zToken, CV_TOKEN_CHARS, NULL, 0);
  sodium_memzero(aRaw, sizeof aRaw);
}

int auth_share_hash(const char *z, unsigned char aHash[32]){
  size_t i, n = strlen(z);
  if( n!=CV_TOKEN_CHARS ) return 0;
  for(i=0; i<n; i++){
    char c = z[i];
    if( !isalnum((unsigned char)c) && c!='-' && c!='_' ) return 0;
  }
  crypto_generichash(aHash, 32, (const unsigned char*)z, n, NULL, 0);
  return 1;
}
