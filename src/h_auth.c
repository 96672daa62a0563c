/*
** h_auth.c — /api/v1/auth: register, login, logout, me; and the two steps that the older
** client's POST /api/users and POST /api/login share with them (h_auth_create_user,
** h_auth_check_login), so the rules live in one place. May call http, validate, render,
** auth and the user/token stores.
*/
#include "app.h"
#include "auth.h"
#include "events.h"
#include "handlers.h"
#include "http.h"
#include "render.h"
#include "store_tokens.h"
#include "store_users.h"
#include "validate.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* The fields of a register body, shared with POST /api/users. Returns 1 when valid;
** otherwise the 422 has been sent. */
static int read_credentials(struct cv_req *r, int bRegister, const char **pzEmail,
                            const char **pzPassword, const char **pzDisplayName){
  struct cv_verr e;
  int ok;
  verr_init(&e);
  *pzDisplayName = NULL;
  if( !val_body_object(&e, r->pBody) ){ http_reply_422(r, &e); verr_free(&e); return 0; }
  ok = val_email(&e, r->pBody, "body", "email", pzEmail)==1;
  ok &= val_string(&e, r->pBody, "body", "password", bRegister ? CV_PASSWORD_MIN_CHARS : 1,
                   CV_PASSWORD_MAX_CHARS, 1, pzPassword)==1;
  if( bRegister ){
    ok &= val_string(&e, r->pBody, "body", "display_name", 0, CV_DISPLAY_NAME_MAX_CHARS, 0,
                     pzDisplayName)>=0;
  }
  if( !ok ) http_reply_422(r, &e);
  verr_free(&e);
  return ok;
}

/* 429 with Retry-After: retryS. */
static void reply_throttled(struct cv_req *r, int retryS, const char *zDetail){
  char zHdr[48];
  cJSON *p = cJSON_CreateObject();
  snprintf(zHdr, sizeof zHdr, "Retry-After: %d\r\n", retryS);
  if( p && !cJSON_AddStringToObject(p, "detail", zDetail) ){
    cJSON_Delete(p); p = NULL;
  }
  http_reply_json(r, 429, p, zHdr);
  cJSON_Delete(p);
}

int h_auth_create_user(struct cv_req *r, struct cv_user *pOut){
  const char *zEmail, *zPassword, *zDisplayName;
  char zHash[CV_PWHASH_MAX];
  int retry = 0;
  cv_rc rc;
  if( r->pApp->pCfg->bNoSignup ){
    http_reply_detail(r, 403, "Sign-up is disabled on this server");
    return 0;
  }
  if( !http_read_json(r) ) return 0;
  if( !read_credentials(r, 1, &zEmail, &zPassword, &zDisplayName) ) return 0;
  /* each registration takes an Argon2id slot: throttled per client address */
  if( auth_signup_check(r->zRemote, &retry)==CV_RATELIMITED ){
    reply_throttled(r, retry, "Too many registrations from this address; try again later");
    return 0;
  }
  rc = auth_hash_password(zPassword, zHash);
  if( rc ){ http_reply_rc(r, rc, NULL); return 0; }
  rc = store_users_create(r->pApp->pStore, zEmail, zHash, zDisplayName, pOut);
  sodium_memzero(zHash, sizeof zHash);
  if( rc==CV_CONFLICT ){
    http_reply_detail(r, 409, "Email already registered");
    return 0;
  }
  if( rc ){ http_reply_rc(r, rc, "User"); return 0; }
  return 1;
}

int h_auth_check_login(struct cv_req *r, struct cv_user *pOut, char *zToken){
  const char *zEmail, *zPassword, *zUnused;
  int retry = 0;
  cv_rc rc;
  if( !http_read_json(r) ) return 0;
  if( !read_credentials(r, 0, &zEmail, &zPassword, &zUnused) ) return 0;
  rc = auth_login(r->pApp->pStore, zEmail, zPassword, r->zRemote, pOut, &retry);
  if( rc==CV_RATELIMITED ){
    reply_throttled(r, retry, "Too many failed login attempts; try again later");
    return 0;
  }
  if( rc==CV_UNAUTHORIZED ){
    http_reply_401(r, "Incorrect email or password");
    return 0;
  }
  if( rc ){ http_reply_rc(r, rc, NULL); return 0; }
  rc = auth_issue_token(r->pApp->pStore, pOut->id, r->pApp->pCfg->tokenTtlMs, zToken);
  if( rc ){ store_user_clear(pOut); http_reply_rc(r, rc, NULL); return 0; }
  return 1;
}

/* ROUTE: POST /api/v1/auth/register {email, password, display_name?}
** 201 user; 403 with --no-signup; 409 email taken; 422 invalid; 429 with Retry-After when
** this address registered too often (ratelimit.c). */
int h_auth_register(struct cv_req *r){
  struct cv_user u;
  cJSON *pOut;
  if( !h_auth_create_user(r, &u) ) return r->status;
  pOut = render_user(&u);
  http_reply_json(r, 201, pOut, NULL);
  cJSON_Delete(pOut);
  store_user_clear(&u);
  return r->status;
}

/* ROUTE: POST /api/v1/auth/login {email, password}
** 200 {access_token, token_type, expires_in, user}; 401 wrong email or password (same
** answer, same time); 429 with Retry-After when throttled; 422 invalid. */
int h_auth_login(struct cv_req *r){
  char zToken[CV_TOKEN_CHARS+1];
  struct cv_user u;
  cJSON *pOut = NULL, *pUser = NULL;
  if( !h_auth_check_login(r, &u, zToken) ) return r->status;
  pOut = cJSON_CreateObject();
  pUser = render_user(&u);
  if( pOut && pUser
   && cJSON_AddStringToObject(pOut, "access_token", zToken)
   && cJSON_AddStringToObject(pOut, "token_type", "bearer")
   && render_add_int(pOut, "expires_in", (long long)(r->pApp->pCfg->tokenTtlMs/1000)) ){
    cJSON_AddItemToObject(pOut, "user", pUser);
    pUser = NULL;
    http_reply_json(r, 200, pOut, NULL);
  }else{
    http_reply_rc(r, CV_NOMEM, NULL);
  }
  sodium_memzero(zToken, sizeof zToken);
  cJSON_Delete(pUser);
  cJSON_Delete(pOut);
  store_user_clear(&u);
  return r->status;
}

/* ROUTE: POST /api/v1/auth/logout (auth) — 204; the presented token stops working. */
int h_auth_logout(struct cv_req *r){
  cv_rc rc = store_tokens_revoke(r->pApp->pStore, r->aTokenHash);
  if( rc ){ http_reply_rc(r, rc, NULL); return r->status; }
  events_kick_user(r->pApp->pEvents, r->userId);     /* its event streams look at their token */
  http_reply_empty(r);
  return r->status;
}

/* ROUTE: GET /api/v1/auth/me (auth) — 200 user. */
int h_auth_me(struct cv_req *r){
  struct cv_user u;
  cJSON *pOut;
  cv_rc rc = store_users_by_id(r->pApp->pStore, r->userId, &u);
  if( rc==CV_NOTFOUND ){ http_reply_401(r, "Not authenticated"); return r->status; }
  if( rc ){ http_reply_rc(r, rc, NULL); return r->status; }
  pOut = render_user(&u);
  http_reply_json(r, 200, pOut, NULL);
  cJSON_Delete(pOut);
  store_user_clear(&u);
  return r->status;
}
