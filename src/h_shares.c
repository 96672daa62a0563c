/*
** h_shares.c — share links (contract v2, "Share links"): a read-only snapshot of a thread for
** anyone with the link. The owner makes one (POST /api/v1/chat-threads/{id}/share), lists its
** own (GET /api/v1/shares) and revokes one (DELETE /api/v1/shares/{token}); the holder reads
** it as JSON (GET /api/v1/shared/{token}) or as a page (GET /s/{token}, web/shared.html),
** without an account. A token is 32 random bytes in base64url (auth_share_token); only its
** hash is stored, and a link is looked up by that hash. Unknown, expired, revoked and
** malformed tokens all get one answer, byte for byte: 404 {"detail":"Not Found"} with the
** same headers. What a holder reads is never indexed (X-Robots-Tag: noindex, and the page's
** robots meta) nor cached (Cache-Control: no-store). Choices where the contract is silent
** are in docs/api.md, "Share links".
** May call http, validate, render, auth (token making and hashing), assets and store.
*/
#include "app.h"
#include "assets.h"
#include "auth.h"
#include "handlers.h"
#include "http.h"
#include "render.h"
#include "store.h"
#include "store_shares.h"
#include "util.h"
#include "validate.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* expires_in bounds, in seconds: 1 s (tests wait out a real expiry) to 366 days */
#define SHARE_EXPIRES_MIN 1
#define SHARE_EXPIRES_MAX (366LL*24*3600)

/* Every answer to a link's holder carries these. */
static const char zHolderHeaders[] = "X-Robots-Tag: noindex\r\nCache-Control: no-store\r\n";

/* The one answer for a link that cannot be read, whatever the reason. */
static void reply_gone(struct cv_req *r){
  static const char zBody[] = "{\"detail\":\"Not Found\"}";
  http_reply_raw(r, 404, "application/json", zBody, sizeof zBody - 1, zHolderHeaders);
}

/* A link as its owner sees it: {id, thread_id, title, message_count, created_at,
** expires_at}, or NULL when out of memory. */
static cJSON *render_share(const struct cv_share *p){
  char zExp[CV_TS_LEN+1];
  cJSON *o = cJSON_CreateObject();
  int ok = o!=NULL;
  ok = ok && render_add_int(o, "id", p->id);
  ok = ok && render_add_int(o, "thread_id", p->threadId);
  ok = ok && render_add_str(o, "title", p->zTitle);
  ok = ok && render_add_int(o, "message_count", p->nMessages);
  ok = ok && render_add_str(o, "created_at", p->zCreatedAt);
  if( ok && p->expiresMs>0 ){
    util_iso_format(p->expiresMs, zExp);
    ok = render_add_str(o, "expires_at", zExp);
  }else if( ok ){
    ok = cJSON_AddNullToObject(o, "expires_at")!=NULL;
  }
  if( !ok ){ cJSON_Delete(o); o = NULL; }
  return o;
}

/* ROUTE: POST /api/v1/chat-threads/{id}/share (auth) {expires_in?}
** The owner makes a link to a snapshot of thread id as it is now: 201 {token, url,
** expires_at, id, thread_id, title, message_count, created_at}. url is path-absolute,
** "/s/<token>". expires_in: whole seconds 1..31622400 (366 days); absent or null: the link
** never expires. The body may be empty. 403 the thread is another user's (a member's too);
** 404 no such thread; 409 the caller has CV_SHARES_MAX links, or their copies with this one
** would hold more than --max-user-bytes; 422 a bad id or expires_in. */
int h_shares_create(struct cv_req *r){
  struct cv_verr e;
  struct cv_share sh;
  unsigned char aHash[32];
  char zToken[CV_TOKEN_CHARS+1], zUrl[CV_TOKEN_CHARS+8];
  char *zBody = NULL;
  size_t nBody = 0;
  int64_t id, expiresIn = 0, now, expiresMs = 0;
  cJSON *pOut = NULL;
  cv_rc rc;
  if( !http_path_id(r, 0, "id", &id) ) return r->status;
  if( !http_read_raw(r, r->pApp->pCfg->maxBody, &zBody, &nBody) ) return r->status;
  verr_init(&e);
  if( nBody>0 ){
    rc = val_parse_json(zBody, nBody, &e, &r->pBody);
    if( rc==CV_INVALID ){ http_reply_422(r, &e); goto out; }
    if( rc ){ http_reply_rc(r, rc, NULL); goto out; }
    if( !val_body_object(&e, r->pBody)
     || val_int(&e, r->pBody, "body", "expires_in", SHARE_EXPIRES_MIN, SHARE_EXPIRES_MAX, 0,
                &expiresIn)<0 ){
      http_reply_422(r, &e);
      goto out;
    }
  }
  now = util_now_ms();
  if( expiresIn>0 ) expiresMs = now + expiresIn*1000;
  auth_share_token(zToken, aHash);
  rc = store_shares_create(r->pApp->pStore, r->userId, id, aHash, now, expiresMs,
                           r->pApp->pCfg->maxUserBytes, &sh);
  if( rc==CV_CONFLICT || rc==CV_QUOTA ){
    char zMsg[160];
    if( rc==CV_CONFLICT ){
      snprintf(zMsg, sizeof zMsg, "Too many share links: at most %d per account; revoke some"
               " first", CV_SHARES_MAX);
    }else{
      snprintf(zMsg, sizeof zMsg, "Share links are full: their copies hold at most %lld bytes"
               " per account; revoke some first", (long long)r->pApp->pCfg->maxUserBytes);
    }
    http_reply_detail(r, 409, zMsg);
    goto wipe;
  }
  if( rc ){ http_reply_rc(r, rc, "Thread"); goto wipe; }
  snprintf(zUrl, sizeof zUrl, "/s/%s", zToken);
  pOut = render_share(&sh);
  if( pOut && (!render_add_str(pOut, "token", zToken) || !render_add_str(pOut, "url", zUrl)) ){
    cJSON_Delete(pOut);
    pOut = NULL;
  }
  if( pOut ) http_reply_json(r, 201, pOut, "Cache-Control: no-store\r\n");
  else http_reply_rc(r, CV_NOMEM, NULL);
  cJSON_Delete(pOut);
  store_share_clear(&sh);
wipe:
  sodium_memzero(zToken, sizeof zToken);
  sodium_memzero(zUrl, sizeof zUrl);
out:
  free(zBody);
  verr_free(&e);
  return r->status;
}

/* http_reply_items' item i of an array of struct cv_share. */
static cJSON *render_share_item(const void *pItems, int i){
  return render_share(&((const struct cv_share*)pItems)[i]);
}

/* ROUTE: GET /api/v1/shares (auth)
** 200 [{id, thread_id, title, message_count, created_at, expires_at}]: the caller's links,
** newest first, expired ones included; X-Total-Count. Tokens are not stored, so not listed. */
int h_shares_list(struct cv_req *r){
  struct cv_read rd;
  struct cv_share *a = NULL;
  int n = 0;
  cv_rc rc;
  rc = store_read_begin(r->pApp->pStore, &rd);
  if( rc ){ http_reply_rc(r, rc, NULL); return r->status; }
  rc = store_shares_list(&rd, r->userId, &a, &n);
  store_read_end(&rd);
  if( rc ){ http_reply_rc(r, rc, NULL); return r->status; }
  http_reply_items(r, a, n, render_share_item);
  store_shares_free(a, n);
  return r->status;
}

/* 1 when z is all digits (1..18 of them) with *pId its value: a link's id, never a token
** (a token is CV_TOKEN_CHARS characters long). */
static int link_id(const char *z, int64_t *pId){
  size_t i, n = strlen(z);
  int64_t v = 0;
  if( n==0 || n>18 ) return 0;
  for(i=0; i<n; i++){
    if( z[i]<'0' || z[i]>'9' ) return 0;
    v = v*10 + (z[i] - '0');
  }
  *pId = v;
  return v>0;
}

/* ROUTE: DELETE /api/v1/shares/{token} (auth)
** 204: the caller's link with that token (or, for the owner's list, that id) is revoked:
** deleted with its snapshot; from then on it answers as an unknown one. 404 `Share link not
** found` for anything else, another user's link included (it keeps working). */
int h_shares_revoke(struct cv_req *r){
  const char *z = r->azParam[0];
  unsigned char aHash[32];
  int64_t linkId = 0;
  cv_rc rc;
  if( link_id(z, &linkId) ){
    rc = store_shares_revoke(r->pApp->pStore, r->userId, NULL, linkId);
  }else if( auth_share_hash(z, aHash) ){
    rc = store_shares_revoke(r->pApp->pStore, r->userId, aHash, 0);
  }else{
    rc = CV_NOTFOUND;
  }
  if( rc ){ http_reply_rc(r, rc, "Share link"); return r->status; }
  http_reply_empty(r);
  return r->status;
}

/* Look up the live link of token z in snapshot pRd: CV_OK with *pOut (store_share_clear),
** CV_NOTFOUND for a malformed, unknown, expired or revoked token alike. */
static cv_rc holder_lookup(struct cv_read *pRd, const char *z, struct cv_share *pOut){
  unsigned char aHash[32];
  memset(pOut, 0, sizeof *pOut);
  if( !auth_share_hash(z, aHash) ) return CV_NOTFOUND;
  return store_shares_get(pRd, aHash, util_now_ms(), pOut);
}

/* ROUTE: GET /api/v1/shared/{token} (no auth)
** 200 {title, message_count, created_at, expires_at, messages:[{role, content}]}: the
** snapshot; created_at is when the link was made. Nothing about the owner. 404 `Not Found`
** for an unknown, expired, revoked or malformed token, all alike. X-Robots-Tag: noindex and
** Cache-Control: no-store on every answer. */
int h_shared_get(struct cv_req *r){
  struct cv_read rd;
  struct cv_share sh;
  struct cv_stream s;
  char zExp[CV_TS_LEN+1];
  cv_rc rc;
  rc = store_read_begin(r->pApp->pStore, &rd);
  if( rc ){ http_reply_rc(r, rc, NULL); return r->status; }
  rc = holder_lookup(&rd, r->azParam[0], &sh);
  if( rc==CV_NOTFOUND ){
    reply_gone(r);
  }else if( rc ){
    http_reply_rc(r, rc, NULL);
  }else{
    http_stream_begin(r, &s, 200, "application/json", zHolderHeaders);
    rc = sink_write(&s.sink, "{\"title\":", 9);
    if( rc==CV_OK ) rc = render_string(&s.sink, sh.zTitle);
    if( rc==CV_OK ) rc = sink_printf(&s.sink, ",\"message_count\":%lld,\"created_at\":\"%s\","
                                     "\"expires_at\":", (long long)sh.nMessages, sh.zCreatedAt);
    if( rc==CV_OK && sh.expiresMs>0 ){
      util_iso_format(sh.expiresMs, zExp);
      rc = sink_printf(&s.sink, "\"%s\"", zExp);
    }else if( rc==CV_OK ){
      rc = sink_write(&s.sink, "null", 4);
    }
    if( rc==CV_OK ) rc = sink_write(&s.sink, ",\"messages\":", 12);
    if( rc==CV_OK ) rc = store_shares_messages(&rd, sh.id, &s.sink);
    if( rc==CV_OK ) rc = sink_write(&s.sink, "}", 1);
    http_stream_end(&s, rc, NULL);
    store_share_clear(&sh);
  }
  store_read_end(&rd);
  return r->status;
}

/* ROUTE: GET /s/{token} (no auth)
** The page of a link (web/shared.html + shared.js, which read /api/v1/shared/{token}): 200
** for a live link; for an unknown, expired, revoked or malformed token the same page with
** 404 (it then shows "not found"), alike for all four. noindex, no-store, the usual CSP. */
int h_shared_page(struct cv_req *r){
  const struct cv_asset *p = assets_find("web/shared.html");
  struct cv_read rd;
  struct cv_share sh;
  int status;
  cv_rc rc;
  if( !p ){ http_reply_detail(r, 404, "Not Found"); return r->status; }
  rc = store_read_begin(r->pApp->pStore, &rd);
  if( rc ){ http_reply_rc(r, rc, NULL); return r->status; }
  rc = holder_lookup(&rd, r->azParam[0], &sh);
  store_read_end(&rd);
  if( rc && rc!=CV_NOTFOUND ){ http_reply_rc(r, rc, NULL); return r->status; }
  status = rc==CV_OK ? 200 : 404;
  store_share_clear(&sh);
  http_reply_raw(r, status, "text/html; charset=utf-8", p->a, p->n, zHolderHeaders);
  return r->status;
}
