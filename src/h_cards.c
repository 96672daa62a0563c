/*
** h_cards.c — character card import (POST /api/characters/import) and the pictures chatvault
** serves (GET /api/pictures/{token}). The card is read by card.c; its PNG becomes a picture
** stored with the character in one write (store_catalog_create_with_picture).
**
** Picture tokens: the URL carries a secret of 256 random bits (64 lowercase hex digits); the
** database keeps only BLAKE2b-256 of it (hex, in pictures.token), as it does for login tokens,
** so the lookup through the UNIQUE index compares hashes and its timing tells nothing about
** stored secrets. A malformed token gets the same 404 as an unknown one, before any lookup.
** May call http, card, render, validate, store_catalog and libsodium.
*/
#include "app.h"
#include "card.h"
#include "config.h"
#include "handlers.h"
#include "http.h"
#include "render.h"
#include "store.h"
#include "store_catalog.h"
#include "validate.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PICTURE_URL_PREFIX "/api/pictures/"

/* The hex BLAKE2b-256 of the hex secret zSecret (CV_PICTURE_TOKEN_LEN digits) into zOut
** (CV_PICTURE_TOKEN_LEN+1 bytes): what pictures.token holds. -1 when hashing fails. */
static int token_hash(const char *zSecret, char *zOut){
  unsigned char aHash[CV_PICTURE_TOKEN_LEN/2];
  if( crypto_generichash(aHash, sizeof aHash, (const unsigned char*)zSecret,
                         CV_PICTURE_TOKEN_LEN, NULL, 0)!=0 ) return -1;
  sodium_bin2hex(zOut, CV_PICTURE_TOKEN_LEN + 1, aHash, sizeof aHash);
  return 0;
}

/* 1 when z is exactly CV_PICTURE_TOKEN_LEN lowercase hex digits. */
static int token_well_formed(const char *z){
  size_t i;
  for(i=0; i<CV_PICTURE_TOKEN_LEN; i++){
    char c = z[i];
    if( !((c>='0' && c<='9') || (c>='a' && c<='f')) ) return 0;
  }
  return z[i]==0;
}

/* ROUTE: POST /api/characters/import (auth) — body: a character card as raw bytes (a PNG with
** a ccv3/chara tEXt chunk, or the card's JSON: V1, V2, V3 or text-generation-webui's), any
** Content-Type. 201 character (as POST /api/characters); the caller is its creator; a PNG
** card's image becomes its picture (picture = "/api/pictures/<secret>"). 413 over
** min(--max-import, 16 MiB); 422 not a card (bad PNG, no card chunk, bad base64, bad JSON,
** not an object, wrong field types, no name), with the reason. Nothing is stored on error. */
int h_characters_import(struct cv_req *r){
  const struct cv_config *pCfg = r->pApp->pCfg;
  int64_t nMax = pCfg->maxImport < (int64_t)CARD_MAX_BYTES ? pCfg->maxImport
                                                            : (int64_t)CARD_MAX_BYTES;
  struct cv_card card;
  struct cv_verr e;
  struct cv_item it;
  struct cv_picture_in pic, *pPic = NULL;
  char *a = NULL;
  size_t n = 0;
  char zSecret[CV_PICTURE_TOKEN_LEN + 1], zHash[CV_PICTURE_TOKEN_LEN + 1];
  char zUrl[sizeof PICTURE_URL_PREFIX + CV_PICTURE_TOKEN_LEN];
  cv_rc rc;

  memset(&card, 0, sizeof card);
  memset(&it, 0, sizeof it);
  verr_init(&e);
  if( !http_read_raw(r, nMax, &a, &n) ) goto out;
  rc = card_parse((const unsigned char*)a, n, &card, &e);
  if( rc==CV_INVALID ){ http_reply_422(r, &e); goto out; }
  if( rc ){ http_reply_rc(r, rc, NULL); goto out; }
  zUrl[0] = 0;
  if( card.zImageType ){
    unsigned char aRaw[CV_PICTURE_TOKEN_LEN/2];
    const char *zType = card_picture_type((const unsigned char*)a, n);
    if( !zType || strcmp(zType, card.zImageType)!=0 ){    /* card.c only says PNG for a PNG */
      http_reply_rc(r, CV_INVALID, NULL);
      goto out;
    }
    randombytes_buf(aRaw, sizeof aRaw);
    sodium_bin2hex(zSecret, sizeof zSecret, aRaw, sizeof aRaw);
    if( token_hash(zSecret, zHash) ){ http_reply_rc(r, CV_NOMEM, NULL); goto out; }
    snprintf(zUrl, sizeof zUrl, "%s%s", PICTURE_URL_PREFIX, zSecret);
    pic.zToken = zHash;
    pic.zType = zType;
    pic.a = a;
    pic.n = n;
    pPic = &pic;
  }
  rc = store_catalog_create_with_picture(r->pApp->pStore, r->userId, card.zName,
                                         pPic ? zUrl : NULL, card.zDescription, card.zGreeting,
                                         pPic, &it);
  if( rc ){ http_reply_rc(r, rc, "User"); goto out; }
  {
    cJSON *pJ = render_item(&it);
    http_reply_json(r, 201, pJ, NULL);
    cJSON_Delete(pJ);
  }
out:
  store_item_clear(&it);
  card_clear(&card);
  verr_free(&e);
  free(a);
  return r->status;
}

/* ROUTE: GET /api/pictures/{token} (no auth: the token is the capability, so an <img src>
** works) — 200 the stored bytes with their Content-Type, nosniff, Cache-Control: private,
** max-age=31536000, immutable (a token's bytes never change). 404 {"detail":"Picture not
** found"} for an unknown or malformed token alike. */
int h_pictures_get(struct cv_req *r){
  struct cv_picture pic;
  char zHash[CV_PICTURE_TOKEN_LEN + 1];
  const char *zToken = r->azParam[0];
  cv_rc rc;
  memset(&pic, 0, sizeof pic);
  if( !zToken || !token_well_formed(zToken) ){
    http_reply_rc(r, CV_NOTFOUND, "Picture");
    return r->status;
  }
  if( token_hash(zToken, zHash) ){ http_reply_rc(r, CV_NOMEM, NULL); return r->status; }
  rc = store_catalog_picture_get(r->pApp->pStore, zHash, &pic);
  if( rc==CV_OK && !card_picture_type(pic.a, pic.n) ) rc = CV_NOTFOUND;  /* never stored */
  if( rc ){
    http_reply_rc(r, rc, "Picture");
  }else{
    http_reply_raw(r, 200, pic.zType, (const char*)pic.a, pic.n,
                   "Cache-Control: private, max-age=31536000, immutable\r\n");
  }
  store_picture_clear(&pic);
  return r->status;
}
