/*
** demo.c — see demo.h. The demo password is random per start (printed), never a fixed
** well-known one; the sample thread is added only when the account is created, and the
** sample characters and scenes (created by the demo account) only when the catalog is
** empty, so restarting with --demo never duplicates them. Their pictures are the page's
** built-in avatars (src/web/avatars/, served at /avatars/NAME.svg): same-site addresses,
** which the page's picture filter (ui.js pictureSrc) shows. The inline data:image/svg+xml
** pictures of earlier releases were refused by that filter (raster data: URLs only), so the
** page showed initials; a demo character still holding one gets its avatar at start.
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

/* The inline SVG portraits of earlier releases (a coloured disc with an initial), kept only
** to recognise them in a file seeded before (upgrade_pictures). */
#define DEMO_PIC(fill, letter) \
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 64 64'%3E" \
  "%3Ccircle cx='32' cy='32' r='32' fill='%23" fill "'/%3E%3Ctext x='32' y='42' font-size='28'" \
  " text-anchor='middle' fill='white' font-family='sans-serif'%3E" letter "%3C/text%3E%3C/svg%3E"

static const struct {
  const char *zName, *zPicture, *zOldPicture, *zDescription, *zGreeting;
} aDemoCharacter[] = {
  { "Ada", "/avatars/owl.svg", DEMO_PIC("6a5acd", "A"),
    "A patient mathematician from the 1840s who loves explaining engines and algorithms.",
    "Good day! Shall we compute something delightful together?" },
  { "Captain Mira", "/avatars/astronaut.svg", DEMO_PIC("d2691e", "M"),
    "The cheerful captain of a small cargo starship, always ready for the next jump.",
    "Welcome aboard the Kestrel. Strap in, we leave orbit in five." },
  { "Professor Oak Leaf", "/avatars/wizard.svg", DEMO_PIC("2e8b57", "O"),
    "A gentle botanist who answers every question with a story about plants.", "" },
};

static const struct {
  const char *zName, *zPicture, *zDescription;
} aDemoScene[] = {
  { "Rainy café", "/avatars/cat.svg",
    "A quiet corner table in a café, rain against the window, coffee steaming." },
  { "Starship bridge", "/avatars/robot.svg",
    "The bridge of a small starship, stars streaking past the viewport." },
  { "", "", "" },   /* end */
};

/* In a catalog seeded by an earlier release: give each demo character of userId that still
** has its old inline SVG picture its built-in avatar (a character someone changed is left
** alone). Scenes have no update operation and keep theirs. Returns the first error. */
static cv_rc upgrade_pictures(struct cv_store *pS, int64_t userId){
  struct cv_page pg;
  struct cv_item *a = NULL;
  int n = 0, i;
  int64_t total = 0;
  size_t k;
  cv_rc rc;
  memset(&pg, 0, sizeof pg);
  pg.limit = 100;
  do{
    rc = store_catalog_list(pS, CV_KIND_CHARACTER, userId, &pg, &a, &n, &total);
    for(i=0; rc==CV_OK && i<n; i++){
      if( a[i].ownerId!=userId || !a[i].zPicture ) continue;
      for(k=0; k<sizeof aDemoCharacter/sizeof aDemoCharacter[0]; k++){
        if( strcmp(a[i].zName, aDemoCharacter[k].zName)==0
         && strcmp(a[i].zPicture, aDemoCharacter[k].zOldPicture)==0 ){
          struct cv_item it;
          rc = store_catalog_update_character(pS, userId, a[i].id, NULL,
                                              aDemoCharacter[k].zPicture, NULL, NULL, &it);
          store_item_clear(&it);
          break;
        }
      }
    }
    pg.offset += n;
    store_items_free(a, n);
    a = NULL;
  }while( rc==CV_OK && pg.bMore && n>0 );
  return rc;
}

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
  if( rc ) return rc;
  if( total>0 ) return upgrade_pictures(pS, userId);
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
