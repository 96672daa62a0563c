/*
** h_users.c — the older client's account routes under /api: POST /api/users,
** POST /api/login, GET /api/users/me, GET /api/user/{user_id}, DELETE /api/users/me. Same
** accounts and rules as /api/v1/auth (the validation, hashing, throttling and token steps
** are h_auth.c's, shared); the answer is the "user response" {id, email, display_name,
** created_at, chat_history:[entry...]}, the chats newest last_updated first.
** May call http, validate, render, h_auth's shared steps, store_users and store_chats.
*/
#include "app.h"
#include "auth.h"
#include "events.h"
#include "handlers.h"
#include "http.h"
#include "render.h"
#include "store.h"
#include "store_chats.h"
#include "store_users.h"
#include "validate.h"

#include <sodium.h>

/* Send the user response of u (every chat of the user, with its messages, from one
** snapshot, streamed) with status; zToken not NULL: plus access_token and token_type. */
static void reply_user(struct cv_req *r, int status, const struct cv_user *u, const char *zToken){
  struct cv_read rd;
  struct cv_stream o;
  struct cv_chat *a = NULL;
  struct cv_page pg = { 0, 0, NULL, 0, 0 };   /* every chat */
  int n = 0;
  cv_rc rc = store_read_begin(r->pApp->pStore, &rd);
  if( rc ){ http_reply_rc(r, rc, "User"); return; }
  rc = store_chats_list(&rd, u->id, &pg, &a, &n, NULL);
  if( rc ){
    http_reply_rc(r, rc, "User");
  }else{
    http_stream_begin(r, &o, status, "application/json", NULL);
    rc = sink_write(&o.sink, "{", 1);
    if( rc==CV_OK ) rc = render_user_fields(&o.sink, u, a, n, store_messages_cb, &rd);
    if( rc==CV_OK && zToken ){
      rc = sink_write(&o.sink, ",\"access_token\":", 16);
      if( rc==CV_OK ) rc = render_string(&o.sink, zToken);
      if( rc==CV_OK ) rc = sink_write(&o.sink, ",\"token_type\":\"bearer\"", 22);
    }
    if( rc==CV_OK ) rc = sink_write(&o.sink, "}", 1);
    http_stream_end(&o, rc, "User");
  }
  store_read_end(&rd);
  store_chats_free_list(a, n);
}

/* ROUTE: POST /api/users {email, password, display_name?}
** 201 user response (chat_history []); 403 with --no-signup; 409 email taken; 422. */
int h_users_create(struct cv_req *r){
  struct cv_user u;
  if( !h_auth_create_user(r, &u) ) return r->status;
  reply_user(r, 201, &u, NULL);
  store_user_clear(&u);
  return r->status;
}

/* ROUTE: POST /api/login {email, password}
** 200 user response plus access_token and token_type "bearer"; 401 wrong email or
** password; 429 throttled; 422. */
int h_users_login(struct cv_req *r){
  char zToken[CV_TOKEN_CHARS+1];
  struct cv_user u;
  if( !h_auth_check_login(r, &u, zToken) ) return r->status;
  reply_user(r, 200, &u, zToken);
  sodium_memzero(zToken, sizeof zToken);
  store_user_clear(&u);
  return r->status;
}

/* ROUTE: GET /api/users/me (auth) — 200 user response. */
int h_users_me(struct cv_req *r){
  struct cv_user u;
  cv_rc rc = store_users_by_id(r->pApp->pStore, r->userId, &u);
  if( rc==CV_NOTFOUND ){ http_reply_401(r, "Not authenticated"); return r->status; }
  if( rc ){ http_reply_rc(r, rc, "User"); return r->status; }
  reply_user(r, 200, &u, NULL);
  store_user_clear(&u);
  return r->status;
}

/* ROUTE: GET /api/user/{user_id} (auth) — 200 user response for yourself; 403 another
** user; 404 no such user; 422 bad id. */
int h_users_get(struct cv_req *r){
  struct cv_verr e;
  struct cv_user u;
  int64_t id;
  cv_rc rc;
  verr_init(&e);
  if( val_path_id(&e, r->azParam[0], "user_id", &id)!=1 ){
    http_reply_422(r, &e);
    verr_free(&e);
    return r->status;
  }
  verr_free(&e);
  rc = store_users_by_id(r->pApp->pStore, id, &u);
  if( rc ){ http_reply_rc(r, rc, "User"); return r->status; }
  if( u.id!=r->userId ){
    store_user_clear(&u);
    http_reply_rc(r, CV_FORBIDDEN, "User");
    return r->status;
  }
  reply_user(r, 200, &u, NULL);
  store_user_clear(&u);
  return r->status;
}

/* ROUTE: DELETE /api/users/me (auth) — 204; the account and, in the same transaction
** through foreign keys, every thread, chat, persona and token of it are gone; characters
** and scenes it created stay, without a creator. */
int h_users_delete_me(struct cv_req *r){
  cv_rc rc = store_users_delete(r->pApp->pStore, r->userId);
  if( rc==CV_NOTFOUND ){ http_reply_401(r, "Not authenticated"); return r->status; }
  if( rc ){ http_reply_rc(r, rc, "User"); return r->status; }
  events_kick_user(r->pApp->pEvents, r->userId);     /* its event streams end */
  http_reply_empty(r);
  return r->status;
}
