/*
** demo.c — see demo.h. The demo password is random per start (printed), never a fixed
** well-known one; the sample thread is added only when the account is created, and the
** sample characters and scenes (created by the demo account, with inline SVG pictures)
** only when the catalog is empty, so restarting with --demo never duplicates them.
*/
#include "demo.h"
#include "auth.h"
#include "store.h"
#include "store_catalog.h"
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

/* Small inline SVG portraits: a coloured disc with an initial (data: URLs, no network). */
#define DEMO_PIC(fill, letter) \
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 64 64'%3E" \
  "%3Ccircle cx='32' cy='32' r='32' fill='%23" fill "'/%3E%3Ctext x='32' y='42' font-size='28'" \
  " text-anchor='middle' fill='white' font-family='sans-serif'%3E" letter "%3C/text%3E%3C/svg%3E"

static const struct {
  const char *zName, *zPicture, *zDescription, *zGreeting;
} aDemoCharacter[] = {
  { "Ada", DEMO_PIC("6a5acd", "A"),
    "A patient mathematician from the 1840s who loves explaining engines and algorithms.",
    "Good day! Shall we compute something delightful together?" },
  { "Captain Mira", DEMO_PIC("d2691e", "M"),
    "The cheerful captain of a small cargo starship, always ready for the next jump.",
    "Welcome aboard the Kestrel. Strap in, we leave orbit in five." },
  { "Professor Oak Leaf", DEMO_PIC("2e8b57", "O"),
    "A gentle botanist who answers every question with a story about plants.", "" },
};

static const struct {
  const char *zName, *zPicture, *zDescription;
} aDemoScene[] = {
  { "Rainy café", DEMO_PIC("708090", "C"),
    "A quiet corner table in a café, rain against the window, coffee steaming." },
  { "Starship bridge", DEMO_PIC("191970", "S"),
    "The bridge of a small starship, stars streaking past the viewport." },
  { "", "", "" },   /* end */
};

/* Add the sample characters and scenes, created by userId, when the catalog is empty. */
static cv_rc seed_catalog(struct cv_store *pS, int64_t userId){
  struct cv_item *a = NULL;
  struct cv_item it;
  int n = 0;
  int64_t total = 0;
  size_t i;
  struct cv_page pg = { 1, 0, NULL, 0, 0 };
  cv_rc rc = store_catalog_list(pS, CV_KIND_CHARACTER, userId, &pg, &a, &n, &total);
  store_items_free(a, n);
  if( rc || total>0 ) return rc;
  for(i=0; i<sizeof aDemoCharacter/sizeof aDemoCharacter[0]; i++){
    rc = store_catalog_create(pS, CV_KIND_CHARACTER, userId, aDemoCharacter[i].zName,
                              aDemoCharacter[i].zPicture, aDemoCharacter[i].zDescription,
                              aDemoCharacter[i].zGreeting, &it);
    store_item_clear(&it);
    if( rc ) return rc;
  }
  for(i=0; aDemoScene[i].zName[0]; i++){
    rc = store_catalog_create(pS, CV_KIND_SCENE, userId, aDemoScene[i].zName,
                              aDemoScene[i].zPicture, aDemoScene[i].zDescription, NULL, &it);
    store_item_clear(&it);
    if( rc ) return rc;
  }
  return CV_OK;
}

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
    rc = store_users_set_password(pS, DEMO_EMAIL, zHash, NULL);
  }
  if( rc==CV_OK ) rc = seed_catalog(pS, u.id);
  store_user_clear(&u);
  if( rc ) return rc;
  printf("demo account: %s  password: %s\n", DEMO_EMAIL, zPw);
  fflush(stdout);
  return CV_OK;
}
