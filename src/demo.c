/*
** demo.c — see demo.h. The demo password is random per start (printed), never a fixed
** well-known one; the sample data is added only when the account has none.
*/
#include "demo.h"
#include "auth.h"
#include "store_threads.h"
#include "store_users.h"
#include "util.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define DEMO_EMAIL "demo@chatvault.local"

static const char zSampleMessages[] =
  "[{\"role\":\"user\",\"content\":\"What is chatvault?\"},"
  "{\"role\":\"assistant\",\"content\":\"A single-binary chat-history service: "
  "**one SQLite file**, served over HTTP, with this web page built in.\"}]";

cv_rc demo_seed(struct cv_store *pS){
  char zPw[24], zHash[CV_PWHASH_MAX];
  unsigned char aRaw[12];
  struct cv_user u;
  cv_rc rc;
  randombytes_buf(aRaw, sizeof aRaw);
  util_base64url(aRaw, sizeof aRaw, zPw);
  rc = auth_hash_password(zPw, zHash);
  if( rc ) return rc;
  rc = store_users_by_email(pS, DEMO_EMAIL, &u);
  if( rc==CV_NOTFOUND ){
    rc = store_users_create(pS, DEMO_EMAIL, zHash, "Demo user", &u);
    if( rc==CV_OK ){
      struct cv_thread t;
      rc = store_threads_create(pS, u.id, NULL, zSampleMessages, 2, &t);
      store_thread_clear(&t);
    }
  }else if( rc==CV_OK ){
    rc = store_users_set_password(pS, DEMO_EMAIL, zHash);
  }
  store_user_clear(&u);
  if( rc ) return rc;
  printf("demo account: %s  password: %s\n", DEMO_EMAIL, zPw);
  fflush(stdout);
  return CV_OK;
}
