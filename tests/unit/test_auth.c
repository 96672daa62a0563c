/* test_auth.c — unit tests of src/auth.c and src/ratelimit.c: hashing, login with unknown
** email / wrong password / throttling, bearer parsing, token issue and lookup. */
#include "tinytest.h"
#include "auth.h"
#include "db.h"
#include "store.h"
#include "ratelimit.h"
#include "store_users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct cv_store *pS;
static char zDir[64];

static void setup(void){
  struct cv_store_opts o;
  char zPath[128], *zErr = NULL, zHash[CV_PWHASH_MAX];
  struct cv_user u;
  TT_CHECK( auth_init(1)==CV_OK );
  snprintf(zDir, sizeof zDir, "/tmp/cvauth.XXXXXX");
  TT_CHECK( mkdtemp(zDir)!=NULL );
  snprintf(zPath, sizeof zPath, "%s/t.db", zDir);
  memset(&o, 0, sizeof o);
  o.zPath = zPath; o.nReaders = 2; o.busyMs = 1000;
  TT_CHECK( db_open(&o, &pS, &zErr)==CV_OK );
  free(zErr);
  TT_CHECK( auth_hash_password("correct horse", zHash)==CV_OK );
  TT_CHECK( strncmp(zHash, "$argon2id$", 10)==0 );
  TT_CHECK( store_users_create(pS, "u@x.test", zHash, NULL, &u)==CV_OK );
  store_user_clear(&u);
  TT_CHECK( store_users_create(pS, "nopw@x.test", NULL, NULL, &u)==CV_OK );
  store_user_clear(&u);
}

static void login(void){
  struct cv_user u;
  int retry;
  TT_CHECK( auth_login(pS, "U@X.TEST", "correct horse", "1.1.1.1", &u, &retry)==CV_OK );
  TT_CHECK( u.id>0 );
  store_user_clear(&u);
  TT_CHECK( auth_login(pS, "u@x.test", "wrong", "1.1.1.1", &u, &retry)==CV_UNAUTHORIZED );
  TT_CHECK( auth_login(pS, "nobody@x.test", "correct horse", "1.1.1.1", &u, &retry)==CV_UNAUTHORIZED );
  TT_CHECK( auth_login(pS, "nopw@x.test", "", "1.1.1.1", &u, &retry)==CV_UNAUTHORIZED );
}

static void throttling(void){
  struct cv_user u;
  int retry = 0, i;
  for(i=0; i<10; i++) auth_login(pS, "victim@x.test", "guess", "2.2.2.2", &u, &retry);
  TT_CHECK( auth_login(pS, "victim@x.test", "guess", "2.2.2.2", &u, &retry)==CV_RATELIMITED );
  TT_CHECK( retry>0 && retry<=15*60 );
  /* another email from another address is not affected */
  TT_CHECK( auth_login(pS, "u@x.test", "correct horse", "3.3.3.3", &u, &retry)==CV_OK );
  store_user_clear(&u);
  /* the lock ends RL_WINDOW_MS after the pair's last failure (ratelimit.c) */
  {
    struct rl_login t;
    for(i=0; i<RL_PAIR_FREE; i++){
      TT_CHECK( ratelimit_login_begin("k@x.test", "9.9.9.9", 0, &t)==0 );
      ratelimit_login_end(&t, 0, 10);
    }
    TT_CHECK( ratelimit_login_begin("k@x.test", "9.9.9.9", 20, &t)==RL_WINDOW_MS/1000 );
    TT_CHECK( ratelimit_login_begin("k@x.test", "9.9.9.9", 10+RL_WINDOW_MS-1, &t)==1 );
    TT_CHECK( ratelimit_login_begin("k@x.test", "9.9.9.9", 10+RL_WINDOW_MS, &t)==0 );
    ratelimit_login_end(&t, 1, 10+RL_WINDOW_MS);
  }
}

static void bearer(void){
  char zTok[CV_TOKEN_CHARS+1], zHdr[80];
  unsigned char aHash[32];
  int64_t uid = 0;
  TT_CHECK( auth_issue_token(pS, 1, 60000, zTok)==CV_OK );
  TT_CHECK( strlen(zTok)==CV_TOKEN_CHARS );
  snprintf(zHdr, sizeof zHdr, "Bearer %s", zTok);
  TT_CHECK( auth_check_bearer(pS, zHdr, &uid, aHash)==CV_OK && uid==1 );
  snprintf(zHdr, sizeof zHdr, "bearer   %s  ", zTok);
  TT_CHECK( auth_check_bearer(pS, zHdr, &uid, aHash)==CV_OK );
  TT_CHECK( auth_check_bearer(pS, NULL, &uid, aHash)==CV_UNAUTHORIZED );
  TT_CHECK( auth_check_bearer(pS, "Basic abc", &uid, aHash)==CV_UNAUTHORIZED );
  TT_CHECK( auth_check_bearer(pS, "Bearer short", &uid, aHash)==CV_UNAUTHORIZED );
  snprintf(zHdr, sizeof zHdr, "Bearer %s", zTok);
  zHdr[10] = zHdr[10]=='A' ? 'B' : 'A';
  TT_CHECK( auth_check_bearer(pS, zHdr, &uid, aHash)==CV_UNAUTHORIZED );
  TT_CHECK( auth_check_bearer(pS, "Bearer ' OR 1=1 --aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &uid, aHash)==CV_UNAUTHORIZED );
  /* expired */
  TT_CHECK( auth_issue_token(pS, 1, 1, zTok)==CV_OK );
  usleep(5000);
  snprintf(zHdr, sizeof zHdr, "Bearer %s", zTok);
  TT_CHECK( auth_check_bearer(pS, zHdr, &uid, aHash)==CV_UNAUTHORIZED );
}

static void teardown(void){
  char zCmd[96];
  store_close(pS);
  snprintf(zCmd, sizeof zCmd, "rm -rf %s", zDir);
  TT_CHECK( system(zCmd)==0 );
}

int main(void){
  TT_RUN(setup);
  TT_RUN(login);
  TT_RUN(throttling);
  TT_RUN(bearer);
  TT_RUN(teardown);
  return TT_DONE();
}
