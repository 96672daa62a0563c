/*
** http.c — reading request bodies under limits and writing every response. One writer:
** status line, fixed security headers, optional extra headers, body, in as few socket
** writes as possible. May call civetweb, cJSON, validate and util.
**
** Body rules (facts.md): civetweb bounds only the header, so the body limit is ours:
** Content-Length over the limit is refused before reading (413, connection closed so
** civetweb does not drain it); chunked bodies are counted as they arrive; ambiguous framing
** (CL with TE, repeated CL, TE not chunked) is refused before routing by server.c for every
** request, and again here for callers outside the server (400: request smuggling); the whole body
** must arrive within the body deadline (408), not merely each read.
*/
#include "http.h"
#include "app.h"
#include "util.h"
#include "validate.h"

#include <assert.h>
#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char zSecurityHeaders[] =
  "X-Content-Type-Options: nosniff\r\n"
  "Referrer-Policy: no-referrer\r\n"
  "X-Frame-Options: DENY\r\n"
  "Content-Security-Policy: default-src 'self'; img-src 'self' data:;"
  " frame-ancestors 'none'; base-uri 'none'; form-action 'self'\r\n";

const char *http_header(struct cv_req *r, const char *zName){
  return mg_get_header(r->conn, zName);
}

static const char *reason(int status){
  switch( status ){
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 507: return "Insufficient Storage";
  }
  return "Status";
}

/* The Connection header to send, deciding keep-alive like civetweb does. */
static const char *connection_header(struct cv_req *r){
  const struct mg_request_info *ri = mg_get_request_info(r->conn);
  const char *zConn = mg_get_header(r->conn, "Connection");
  if( r->bClose ){
    mg_disable_keep_alive(r->conn);  /* a body we did not read must not be drained */
    return "Connection: close\r\n";
  }
  if( ri && ri->http_version && strcmp(ri->http_version, "1.0")==0 ){
    if( zConn && strcasestr(zConn, "keep-alive") ) return "Connection: keep-alive\r\n";
    return "Connection: close\r\n";
  }
  if( zConn && strcasecmp(zConn, "close")==0 ) return "Connection: close\r\n";
  return "";
}

/* The status line and headers of a response with an n-byte body into zHead (nMax bytes).
** Returns their length, or -1 when they do not fit (only over-long extra headers could). */
static int format_head(struct cv_req *r, int status, const char *zType, size_t n,
                       const char *zExtraHeaders, char *zHead, size_t nMax){
  char zLen[40] = "";
  int nHead;
  if( status!=204 && status!=304 ) snprintf(zLen, sizeof zLen, "Content-Length: %zu\r\n", n);
  nHead = snprintf(zHead, nMax,
                   "HTTP/1.1 %d %s\r\n%s%s%s%s%s%s%s%s\r\n",
                   status, reason(status),
                   zType ? "Content-Type: " : "", zType ? zType : "", zType ? "\r\n" : "",
                   zSecurityHeaders,
                   (zType && strncmp(zType, "application/json", 16)==0
                    && !(zExtraHeaders && strstr(zExtraHeaders, "Cache-Control:")))  /* /openapi.json's own */
                     ? "Cache-Control: no-store\r\n" : "",
                   zLen, zExtraHeaders ? zExtraHeaders : "", connection_header(r));
  return nHead<0 || (size_t)nHead>=nMax ? -1 : nHead;
}

static int is_head_request(struct cv_req *r){
  const struct mg_request_info *ri = mg_get_request_info(r->conn);
  return ri && ri->request_method && strcmp(ri->request_method, "HEAD")==0;
}

/* The answer when headers do not fit: never happens with our own headers. */
static void reply_head_overflow(struct cv_req *r){
  char zHead[128];
  int nHead = snprintf(zHead, sizeof zHead, "HTTP/1.1 500 %s\r\nContent-Length: 0\r\n"
                       "Connection: close\r\n\r\n", reason(500));
  r->status = 500;
  mg_disable_keep_alive(r->conn);
  mg_write(r->conn, zHead, (size_t)nHead);
}

void http_reply_raw(struct cv_req *r, int status, const char *zType, const char *a, size_t n,
                    const char *zExtraHeaders){
  char zHead[2048];
  int bHead = is_head_request(r);
  int nHead = format_head(r, status, zType, n, zExtraHeaders, zHead, sizeof zHead);
  r->status = status;
  if( nHead<0 ){ reply_head_overflow(r); return; }
  if( bHead || n==0 ){
    mg_write(r->conn, zHead, (size_t)nHead);
  }else if( n <= 16384 ){
    char *zAll = malloc((size_t)nHead + n);
    if( zAll ){
      memcpy(zAll, zHead, (size_t)nHead);
      memcpy(zAll + nHead, a, n);
      mg_write(r->conn, zAll, (size_t)nHead + n);
      free(zAll);
    }else{
      mg_write(r->conn, zHead, (size_t)nHead);
      mg_write(r->conn, a, n);
    }
  }else{
    mg_write(r->conn, zHead, (size_t)nHead);
    mg_write(r->conn, a, n);
  }
}

void http_reply_items(struct cv_req *r, const void *pItems, int n, cv_item_fn xItem){
  cJSON *pList = cJSON_CreateArray();
  char zHdr[48];
  int i;
  for(i=0; pList && i<n; i++){
    cJSON *p = xItem(pItems, i);
    if( !p || !cJSON_AddItemToArray(pList, p) ){
      cJSON_Delete(p);
      cJSON_Delete(pList);
      pList = NULL;
    }
  }
  if( pList ){
    snprintf(zHdr, sizeof zHdr, "X-Total-Count: %d\r\n", n);
    http_reply_json(r, 200, pList, zHdr);
  }else{
    http_reply_rc(r, CV_NOMEM, NULL);
  }
  cJSON_Delete(pList);
}

void http_reply_json(struct cv_req *r, int status, const cJSON *pRoot, const char *zExtra){
  char *z = pRoot ? cJSON_PrintUnformatted(pRoot) : NULL;
  if( !z ){
    static const char zErr[] = "{\"detail\":\"Internal server error (out of memory)\"}";
    fprintf(stderr, "chatvault: out of memory rendering a response\n");
    r->bClose = 1;
    http_reply_raw(r, 500, "application/json", zErr, sizeof zErr - 1, NULL);
    return;
  }
  http_reply_raw(r, status, "application/json", z, strlen(z), zExtra);
  cJSON_free(z);
}

void http_reply_openai_error(struct cv_req *r, int status, const char *zMessage,
                             const char *zParam, const char *zCode, const char *zExtraHeaders){
  const char *zType = status==401 ? "authentication_error"
                    : status==403 ? "permission_error"
                    : status==409 ? "conflict_error"
                    : status==429 ? "rate_limit_error"
                    : status>=500 ? "server_error" : "invalid_request_error";
  cJSON *p = cJSON_CreateObject(), *pE = NULL;
  int ok = p && (pE = cJSON_AddObjectToObject(p, "error"))!=NULL
        && cJSON_AddStringToObject(pE, "message", zMessage)
        && cJSON_AddStringToObject(pE, "type", zType)
        && (zParam ? cJSON_AddStringToObject(pE, "param", zParam)!=NULL
                   : cJSON_AddNullToObject(pE, "param")!=NULL)
        && (zCode ? cJSON_AddStringToObject(pE, "code", zCode)!=NULL
                  : cJSON_AddNullToObject(pE, "code")!=NULL);
  if( !ok ){ cJSON_Delete(p); p = NULL; }
  http_reply_json(r, status, p, zExtraHeaders);
  cJSON_Delete(p);
}

void http_reply_detail(struct cv_req *r, int status, const char *zDetail){
  cJSON *p;
  if( r->bOpenAI ){
    http_reply_openai_error(r, status, zDetail, NULL,
                            status==404 ? "not_found" : status==413 ? "request_too_large"
                            : status==405 ? "method_not_allowed" : NULL, NULL);
    return;
  }
  p = cJSON_CreateObject();
  if( p && !cJSON_AddStringToObject(p, "detail", zDetail) ){ cJSON_Delete(p); p = NULL; }
  http_reply_json(r, status, p, NULL);
  cJSON_Delete(p);
}

void http_reply_empty(struct cv_req *r){
  http_reply_raw(r, 204, NULL, NULL, 0, NULL);
}

void http_reply_401(struct cv_req *r, const char *zDetail){
  cJSON *p;
  if( r->bOpenAI ){
    http_reply_openai_error(r, 401, zDetail, NULL, "invalid_api_key",
                            "WWW-Authenticate: Bearer\r\n");
    return;
  }
  p = cJSON_CreateObject();
  if( p && !cJSON_AddStringToObject(p, "detail", zDetail) ){ cJSON_Delete(p); p = NULL; }
  http_reply_json(r, 401, p, "WWW-Authenticate: Bearer\r\n");
  cJSON_Delete(p);
}

void http_reply_422(struct cv_req *r, struct cv_verr *pErr){
  cJSON *p;
  if( pErr->bNoMem || !pErr->pList ){
    http_reply_rc(r, pErr->bNoMem ? CV_NOMEM : CV_INVALID, NULL);
    return;
  }
  if( r->bOpenAI ){
    /* OpenAI says 400 for what FastAPI calls 422: the first entry, its loc as the param */
    const cJSON *pFirst = cJSON_GetArrayItem(pErr->pList, 0);
    const cJSON *pMsg = cJSON_GetObjectItemCaseSensitive(pFirst, "msg");
    const cJSON *pLoc = cJSON_GetObjectItemCaseSensitive(pFirst, "loc"), *pPart;
    char zParam[128] = "";
    size_t n = 0;
    cJSON_ArrayForEach(pPart, pLoc){
      if( n==0 && cJSON_IsString(pPart) && strcmp(pPart->valuestring, "body")==0 ) continue;
      if( cJSON_IsString(pPart) && n<sizeof zParam ){
        n += (size_t)snprintf(zParam + n, sizeof zParam - n, "%s%s", n ? "." : "", pPart->valuestring);
      }else if( cJSON_IsNumber(pPart) && n<sizeof zParam ){
        n += (size_t)snprintf(zParam + n, sizeof zParam - n, "[%d]", pPart->valueint);
      }
    }
    http_reply_openai_error(r, 400, cJSON_IsString(pMsg) ? pMsg->valuestring : "Invalid request",
                            zParam[0] && n<sizeof zParam ? zParam : NULL, NULL, NULL);
    return;
  }
  p = cJSON_CreateObject();
  if( !p ){ http_reply_json(r, 500, NULL, NULL); return; }
  cJSON_AddItemToObject(p, "detail", pErr->pList);
  pErr->pList = NULL;   /* now owned by p */
  http_reply_json(r, 422, p, NULL);
  cJSON_Delete(p);
}

void http_reply_rc(struct cv_req *r, cv_rc rc, const char *zWhat){
  char zMsg[160];
  const char *zW = zWhat ? zWhat : "Resource";
  switch( rc ){
    case CV_NOTFOUND:
      snprintf(zMsg, sizeof zMsg, "%s not found", zW);
      http_reply_detail(r, 404, zMsg);
      return;
    case CV_FORBIDDEN:
      snprintf(zMsg, sizeof zMsg, "%s belongs to another user", zW);
      http_reply_detail(r, 403, zMsg);
      return;
    case CV_CONFLICT:
      snprintf(zMsg, sizeof zMsg, "%s already exists", zW);
      http_reply_detail(r, 409, zMsg);
      return;
    case CV_INVALID:
      {
        struct cv_verr e;
        verr_init(&e);
        verr_add(&e, "body", "value_error", "Invalid input");
        http_reply_422(r, &e);
        verr_free(&e);
      }
      return;
    case CV_TOOLARGE:
      r->bClose = 1;
      http_reply_detail(r, 413, "Request body too large");
      return;
    case CV_UNAUTHORIZED:
      http_reply_401(r, "Not authenticated");
      return;
    case CV_BUSY:
      if( r->bOpenAI ){
        http_reply_openai_error(r, 503, "Database is busy, try again shortly", NULL, NULL,
                                "Retry-After: 1\r\n");
        return;
      }
      {
        cJSON *p = cJSON_CreateObject();
        if( p && !cJSON_AddStringToObject(p, "detail", "Database is busy, try again shortly") ){
          cJSON_Delete(p); p = NULL;
        }
        http_reply_json(r, 503, p, "Retry-After: 1\r\n");
        cJSON_Delete(p);
      }
      return;
    case CV_FULL:
      http_reply_detail(r, 507, "Insufficient storage: the disk is full; nothing was saved");
      return;
    case CV_UPSTREAM:
      http_reply_detail(r, 502, "The language model server failed");
      return;
    case CV_TIMEOUT:
      http_reply_detail(r, 504, "The language model server timed out");
      return;
    case CV_QUOTA:
      {
        const struct cv_config *c = r->pApp->pCfg;
        snprintf(zMsg, sizeof zMsg, "%s is full: at most %lld messages and %lld bytes per"
                 " conversation, %lld bytes per account", zW, (long long)c->maxConvMessages,
                 (long long)c->maxConvBytes, (long long)c->maxUserBytes);
        http_reply_detail(r, 413, zMsg);
      }
      return;
    case CV_RATELIMITED:
      http_reply_detail(r, 429, "Too many attempts");
      return;
    case CV_OK: case CV_NOMEM: case CV_DB: case CV_IO: case CV_CLOSED:
      break;
  }
  fprintf(stderr, "chatvault: %s %s failed: %s\n", r->zMethod, r->zPath, cv_rc_str(rc));
  http_reply_detail(r, 500, "Internal server error");
}

int http_path_id(struct cv_req *r, int iParam, const char *zName, int64_t *pId){
  struct cv_verr e;
  int ok;
  verr_init(&e);
  ok = iParam>=0 && iParam<CV_MAX_PARAMS && r->azParam[iParam]
       && val_path_id(&e, r->azParam[iParam], zName, pId)==1;
  if( !ok ) http_reply_422(r, &e);
  verr_free(&e);
  return ok;
}

/* Read the whole request body into b (buf_init'd by the caller with its cap, nMax bytes):
** refuses ambiguous framing (400), a Content-Length over nMax before reading (413), a chunked
** body once it passes nMax (413), a short or broken body (400) and a body that takes longer
** than the body deadline (http_body_read: it grows with what arrived) (408); each of those closes the connection. Returns 1 with the body
** in b; otherwise the response has been sent and it returns 0 (b may hold a partial body:
** the caller frees it). */
static int read_body(struct cv_req *r, int64_t nMax, struct cv_buf *b){
  struct cv_body body;
  if( !http_body_begin(r, nMax, &body) ) return 0;
  for(;;){
    char aChunk[16384];
    cv_rc rc;
    int got = http_body_read(&body, aChunk, sizeof aChunk);
    if( got<0 ) return 0;
    if( got==0 ) return 1;
    rc = buf_append(b, aChunk, (size_t)got);
    if( rc==CV_TOOLARGE ){
      r->bClose = 1;
      http_reply_detail(r, 413, "Request body too large");
      return 0;
    }
    if( rc ){ r->bClose = 1; http_reply_rc(r, rc, NULL); return 0; }
  }
}

int http_read_json(struct cv_req *r){
  struct cv_buf b;
  struct cv_verr e;
  cv_rc rc;
  int ok = 0;

  buf_init(&b, (size_t)r->pApp->pCfg->maxBody);
  verr_init(&e);
  if( !read_body(r, r->pApp->pCfg->maxBody, &b) ) goto out;
  if( b.n==0 ){
    verr_add(&e, "body", "missing", "Field required");
    http_reply_422(r, &e);
    goto out;
  }
  r->nBodyBytes = b.n;
  rc = val_parse_json(b.a, b.n, &e, &r->pBody);
  if( rc==CV_INVALID ){ http_reply_422(r, &e); goto out; }
  if( rc ){ http_reply_rc(r, rc, NULL); goto out; }
  ok = 1;
out:
  verr_free(&e);
  buf_free(&b);
  return ok;
}

int http_read_raw(struct cv_req *r, int64_t nMax, char **ppBody, size_t *pnBody){
  struct cv_buf b;
  *ppBody = NULL;
  *pnBody = 0;
  if( nMax<0 ) nMax = 0;
  buf_init(&b, (size_t)nMax);
  if( !read_body(r, nMax, &b) ){ buf_free(&b); return 0; }
  r->nBodyBytes = b.n;
  *ppBody = b.a;                 /* NULL when the body is empty */
  *pnBody = b.n;
  return 1;
}

int http_body_begin(struct cv_req *r, int64_t nMax, struct cv_body *pB){
  const struct mg_request_info *ri = mg_get_request_info(r->conn);
  const char *zTe = mg_get_header(r->conn, "Transfer-Encoding");
  const char *zCl = mg_get_header(r->conn, "Content-Length");
  const char *zExpect = mg_get_header(r->conn, "Expect");
  memset(pB, 0, sizeof *pB);
  pB->r = r;
  pB->nMax = nMax;
  pB->nWant = ri->content_length;
  pB->t0 = util_mono_us();
  if( zTe && zCl ){
    r->bClose = 1;
    http_reply_detail(r, 400, "Content-Length together with Transfer-Encoding is not allowed");
    return 0;
  }
  if( zTe && strcasecmp(zTe, "chunked")!=0 ){
    r->bClose = 1;
    http_reply_detail(r, 400, "Unsupported Transfer-Encoding");
    return 0;
  }
  if( pB->nWant > nMax ){
    r->bClose = 1;
    http_reply_detail(r, 413, "Request body too large");
    return 0;
  }
  /* a client that waits for the go-ahead (curl does, for bodies over 1 MB) gets it now,
  ** instead of sending after its own timeout */
  if( zExpect && strcasecmp(zExpect, "100-continue")==0 && pB->nWant!=0 ){
    static const char zGo[] = "HTTP/1.1 100 Continue\r\n\r\n";
    if( mg_write(r->conn, zGo, sizeof zGo - 1)!=(int)(sizeof zGo - 1) ){
      r->bClose = 1;
      http_reply_detail(r, 400, "Error reading the request body");
      return 0;
    }
  }
  return 1;
}

int http_body_read(struct cv_body *pB, char *a, size_t n){
  struct cv_req *r = pB->r;
  int64_t nAllowUs;
  int got;
  if( pB->nWant>=0 ){
    if( pB->nGot>=pB->nWant ) return 0;
    if( (int64_t)n > pB->nWant - pB->nGot ) n = (size_t)(pB->nWant - pB->nGot);
  }
  if( n > (size_t)1<<30 ) n = (size_t)1<<30;
  got = mg_read(r->conn, a, n);
  if( got<0 ){
    r->bClose = 1;
    http_reply_detail(r, 400, "Error reading the request body");
    return -1;
  }
  if( got==0 ){
    if( pB->nWant>=0 && pB->nGot<pB->nWant ){
      r->bClose = 1;
      http_reply_detail(r, 400, "Request body shorter than its Content-Length");
      return -1;
    }
    return 0;
  }
  pB->nGot += got;
  if( pB->nGot > pB->nMax ){
    r->bClose = 1;
    http_reply_detail(r, 413, "Request body too large");
    return -1;
  }
  nAllowUs = (int64_t)r->pApp->pCfg->bodyTimeoutMs*1000
           + pB->nGot / HTTP_BODY_MIN_RATE * 1000000;
  if( util_mono_us() - pB->t0 > nAllowUs ){
    r->bClose = 1;
    http_reply_detail(r, 408, "Request body took too long to arrive");
    return -1;
  }
  r->nBodyBytes = (size_t)pB->nGot;
  return got;
}

cv_rc http_sse_start(struct cv_req *r){
  return http_sse_start_ex(r, NULL);
}

cv_rc http_sse_start_ex(struct cv_req *r, const char *zExtraHeaders){
  char zHead[1536];
  int n;
  r->bClose = 1;
  r->bSse = 1;
  r->status = 200;
  mg_disable_keep_alive(r->conn);
  n = snprintf(zHead, sizeof zHead,
               "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
               "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\n%s%s"
               "Connection: close\r\n\r\n", zSecurityHeaders,
               zExtraHeaders ? zExtraHeaders : "");
  if( n<0 || (size_t)n>=sizeof zHead ) return CV_TOOLARGE;
  if( mg_write(r->conn, zHead, (size_t)n)<=0 ) return CV_CLOSED;
  return CV_OK;
}

cv_rc http_sse_send(struct cv_req *r, const char *zEvent, const char *zData){
  struct cv_buf b;
  const char *z = zData;
  cv_rc rc = CV_OK;
  buf_init(&b, (size_t)1<<30);
  if( zEvent ) rc = buf_appendf(&b, "event: %s\n", zEvent);
  /* a data line per line of the payload (JSON has none, but be exact) */
  while( rc==CV_OK ){
    const char *zNl = strchr(z, '\n');
    size_t n = zNl ? (size_t)(zNl - z) : strlen(z);
    rc = buf_append(&b, "data: ", 6);
    if( rc==CV_OK ) rc = buf_append(&b, z, n);
    if( rc==CV_OK ) rc = buf_append(&b, "\n", 1);
    if( !zNl ) break;
    z = zNl + 1;
  }
  if( rc==CV_OK ) rc = buf_append(&b, "\n", 1);
  if( rc==CV_OK && mg_write(r->conn, b.a, b.n)<=0 ) rc = CV_CLOSED;
  buf_free(&b);
  return rc;
}

cv_rc http_sse_write(struct cv_req *r, const char *a, size_t n){
  assert( r->bSse );
  if( n>0 && mg_write(r->conn, a, n)<=0 ) return CV_CLOSED;
  return CV_OK;
}

/* ---- streamed responses ------------------------------------------------------------- */

/* Write n bytes as one chunk (chunked) or raw, recording the first error. */
static void stream_emit(struct cv_stream *s, const char *z, size_t n){
  if( s->rc || n==0 || s->bHead ) return;
  if( s->bRaw ){
    if( mg_write(s->r->conn, z, n)<=0 ) s->rc = CV_CLOSED;
  }else if( mg_send_chunk(s->r->conn, z, (unsigned int)n)<=0 ){
    s->rc = CV_CLOSED;
  }
}

/* Send the headers of a chunked response. */
static void stream_start(struct cv_stream *s){
  char zHead[2048];
  int nHead;
  s->bStarted = 1;
  s->r->status = s->status;
  nHead = snprintf(zHead, sizeof zHead,
                   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%sCache-Control: no-store\r\n"
                   "Transfer-Encoding: chunked\r\n%s%s\r\n",
                   s->status, reason(s->status), s->zType, zSecurityHeaders,
                   s->zExtra ? s->zExtra : "", connection_header(s->r));
  if( nHead<0 || (size_t)nHead>=sizeof zHead ){ s->rc = CV_TOOLARGE; return; }
  if( mg_write(s->r->conn, zHead, (size_t)nHead)<=0 ) s->rc = CV_CLOSED;
}

/* The stream's buffer keeps HTTP_STREAM_HEADROOM bytes in front of the body: a response that
** fits goes out as headers + body in one write, without a second copy. */
#define HTTP_STREAM_HEADROOM 2048

static cv_rc stream_write(void *pCtx, const char *z, size_t n){
  struct cv_stream *s = pCtx;
  if( s->rc ) return s->rc;
  if( !s->a ) return s->rc = CV_NOMEM;
  while( n>0 ){
    size_t k = HTTP_STREAM_BUF - s->n;
    if( k==0 ){
      if( !s->bStarted && !s->bRaw ) stream_start(s);
      stream_emit(s, s->a, s->n);
      s->n = 0;
      if( s->rc ) return s->rc;
      k = HTTP_STREAM_BUF;
    }
    if( k>n ) k = n;
    memcpy(s->a + s->n, z, k);
    s->n += k;
    z += k;
    n -= k;
  }
  return CV_OK;
}

void http_stream_begin(struct cv_req *r, struct cv_stream *s, int status, const char *zType,
                       const char *zExtra){
  const struct mg_request_info *ri = mg_get_request_info(r->conn);
  memset(s, 0, sizeof *s);
  s->r = r;
  s->status = status;
  s->zType = zType;
  s->zExtra = zExtra;
  s->bHead = ri && ri->request_method && strcmp(ri->request_method, "HEAD")==0;
  s->pAlloc = malloc(HTTP_STREAM_HEADROOM + HTTP_STREAM_BUF);
  s->a = s->pAlloc ? s->pAlloc + HTTP_STREAM_HEADROOM : NULL;
  s->sink.xWrite = stream_write;
  s->sink.pCtx = s;
}

cv_rc http_stream_end(struct cv_stream *s, cv_rc rcRender, const char *zWhat){
  cv_rc rc = rcRender ? rcRender : s->rc;
  if( !s->bStarted ){
    if( rc ){
      http_reply_rc(s->r, rc, zWhat);
    }else{
      char zHead[HTTP_STREAM_HEADROOM];
      int nHead = format_head(s->r, s->status, s->zType, s->n, s->zExtra, zHead, sizeof zHead);
      s->r->status = s->status;
      if( nHead<0 ){
        reply_head_overflow(s->r);
      }else{
        char *p = s->a - nHead;          /* the headroom in front of the body */
        memcpy(p, zHead, (size_t)nHead);
        mg_write(s->r->conn, p, (size_t)nHead + (s->bHead ? 0 : s->n));
      }
    }
  }else if( rc ){
    /* the status is gone: cut the body short so the client cannot take it as whole */
    fprintf(stderr, "chatvault: %s %s: response cut short: %s\n",
            s->r->zMethod, s->r->zPath, cv_rc_str(rc));
    mg_disable_keep_alive(s->r->conn);
    s->r->bClose = 1;
  }else{
    stream_emit(s, s->a, s->n);
    if( !s->rc && !s->bHead && mg_send_chunk(s->r->conn, "", 0)<=0 ) s->rc = CV_CLOSED;
    rc = s->rc;
  }
  free(s->pAlloc);
  s->a = s->pAlloc = NULL;
  return rc;
}

void http_sse_event_begin(struct cv_req *r, struct cv_stream *s, const char *zEvent){
  http_stream_begin(r, s, 200, "text/event-stream", NULL);
  s->bRaw = 1;
  s->bStarted = 1;
  s->bHead = 0;
  if( zEvent ) stream_write(s, "event: ", 7), stream_write(s, zEvent, strlen(zEvent)),
               stream_write(s, "\n", 1);
  stream_write(s, "data: ", 6);
}

cv_rc http_sse_event_end(struct cv_stream *s){
  cv_rc rc = stream_write(s, "\n\n", 2);
  if( rc==CV_OK ) stream_emit(s, s->a, s->n);
  rc = s->rc;
  free(s->pAlloc);
  s->a = s->pAlloc = NULL;
  return rc;
}
