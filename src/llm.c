/*
** llm.c — llm_reply(): the OpenAI-compatible streaming client, or the offline responder
** when no --llm-url is set (responder_offline.c).
**
** Layer: a service below complete.c. May call sse (the body decoders), util, cJSON,
** OpenSSL and the socket API; never the database, never civetweb's server side.
**
** One call = one connection: resolve → connect → (TLS) → POST {url}/v1/chat/completions
** with "stream":true → read the response head → decode the body (chunked, Content-Length
** or close-delimited) → feed the event-stream decoder in sse.c, which hands every
** delta to the caller as soon as its line is complete.
**
** Choices:
** - Plain non-blocking sockets with poll() and one overall deadline (pCfg->timeoutS) over
**   DNS, connect, TLS handshake, request and the whole reply. Rejected: civetweb's client
**   API, whose mg_read() on an upstream waits for its buffer to fill (deltas would come
**   in bursts) and blocks a fixed 30 s on a stalled peer (docs: /work/shared/facts.md).
** - DNS runs in a detached thread so that a dead resolver cannot outlast the deadline;
**   numeric hosts skip it. The thread and the caller share a reference-counted job, so
**   whichever finishes last frees it.
** - https verifies the chain against the system CA store (SSL_CTX_set_default_verify_paths,
**   which also honours SSL_CERT_FILE/SSL_CERT_DIR) and the host name or IP address, and
**   sends SNI. One SSL_CTX serves every call (created once, thread-safe in OpenSSL 3).
** - Connection: close and Accept-Encoding: identity: no keep-alive pool and no
**   decompression to get wrong; a reply is one connection.
** - SIGPIPE is blocked in the calling thread for the duration of the call (TLS writes go
**   through write(2), which has no MSG_NOSIGNAL) and a pending one is dropped afterwards.
** - Failures are logged on stderr ("chatvault: llm: ...") with the upstream's own error
**   text; the caller only gets the code (CV_UPSTREAM → 502, CV_TIMEOUT → 504).
*/
#include "llm.h"
#include "responder_offline.h"
#include "sse.h"
#include "util.h"

#include <cJSON.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LLM_DEFAULT_TIMEOUT_S 120
#define LLM_HOST_MAX          255              /* DNS name limit */
#define LLM_PATH_MAX          2048             /* request target */
#define LLM_HEAD_MAX          (16*1024)        /* response status line and headers */
#define LLM_ERRBODY_MAX       4096             /* bytes kept of an error status's body */
#define LLM_JSON_MAX          (SSE_REPLY_MAX + 256*1024)  /* a whole non-streamed answer */
#define LLM_READ_MAX          16384            /* bytes per read */
#define LLM_MODELS_MAX        (1024*1024)      /* the upstream's model list */
#define LLM_MODELS_TIMEOUT_S  15               /* its deadline, when --llm-timeout is longer */
#define LLM_WHY_MAX           256

/* How the response body ends. */
enum { BODY_CLOSE = 0, BODY_LENGTH, BODY_CHUNKED };
/* What the body holds. */
enum { KIND_ERROR = 0, KIND_STREAM, KIND_JSON, KIND_SNIFF };

struct llm_url {
  int bTls;                       /* https */
  int bIpLiteral;                 /* zHost is an IPv4 or IPv6 address */
  char zHost[LLM_HOST_MAX+1];     /* host name or address, IPv6 without brackets */
  char zPort[6];                  /* decimal port */
  char zHostHdr[LLM_HOST_MAX+10]; /* Host: header value */
  char zTarget[LLM_PATH_MAX+1];   /* request target: .../v1/chat/completions[?query] */
};

/* Everything one llm_reply() call owns; released by call_close(). */
struct llm_call {
  struct llm_url url;             /* where to */
  int64_t deadlineUs;             /* util_mono_us() after which every wait gives up */
  int fd;                         /* the socket, or -1 */
  SSL *pSsl;                      /* the TLS session, or NULL */
  int status;                     /* HTTP status of the final response */
  int eBody;                      /* BODY_*: how the body ends */
  int eKind;                      /* KIND_*: what the body holds */
  uint64_t nLeft;                 /* BODY_LENGTH: bytes still to come */
  struct cv_chunked chunked;      /* BODY_CHUNKED: the decoder */
  int bBodyEnd;                   /* the body's framing says it is complete */
  int bEnough;                    /* nothing more is needed from the body */
  int bRaw;                       /* the model list: a 2xx body is kept as it is (in body) */
  struct cv_chat chat;            /* the reply decoder (sse.c) */
  struct cv_buf body;             /* KIND_ERROR/KIND_JSON/KIND_SNIFF: body bytes kept */
  char zWhy[LLM_WHY_MAX];         /* the first failure, for the log */
};

/* Record why the call failed (the first reason wins) and return rc. */
static cv_rc fail(struct llm_call *c, cv_rc rc, const char *zFmt, ...)
  __attribute__((format(printf, 3, 4)));
static cv_rc fail(struct llm_call *c, cv_rc rc, const char *zFmt, ...){
  if( c->zWhy[0]==0 ){
    va_list ap;
    va_start(ap, zFmt);
    vsnprintf(c->zWhy, sizeof c->zWhy, zFmt, ap);
    va_end(ap);
  }
  return rc;
}

/* Milliseconds until the deadline, rounded up; 0 once it has passed. */
static int ms_left(int64_t deadlineUs){
  int64_t us = deadlineUs - util_mono_us();
  if( us<=0 ) return 0;
  if( us/1000 >= INT_MAX ) return INT_MAX;
  return (int)((us + 999)/1000);
}

/* =======================================================================================
** URL
*/

/* Split zUrl (http[s]://host[:port][/base][?query]) into *p. The request target is the
** base path without its trailing '/', then "/v1/chat/completions" — or only
** "/chat/completions" when the base already ends in "/v1" — then the query. */
/* zUrl into c->url; the request target is the URL's path joined with zEndpoint
** ("chat/completions" or "models"): ".../v1" + "/" + zEndpoint, else ".../v1/" + zEndpoint. */
static cv_rc url_parse(struct llm_call *c, const char *zUrl, const char *zEndpoint){
  struct llm_url *p = &c->url;
  const char *z = zUrl, *zAuth, *zAuthEnd, *zHost, *zHostEnd, *zPath, *zQuery, *zEnd;
  size_t nHost, nPath, n;
  const char *zSuffix;
  unsigned char aAddr[16];
  long port;
  int bV6 = 0;
  for(n=0; zUrl[n]; n++){
    unsigned char ch = (unsigned char)zUrl[n];
    if( ch<=0x20 || ch==0x7F ){
      return fail(c, CV_UPSTREAM, "the LLM URL contains spaces or control characters");
    }
  }
  if( strncasecmp(z, "http://", 7)==0 ){ p->bTls = 0; z += 7; }
  else if( strncasecmp(z, "https://", 8)==0 ){ p->bTls = 1; z += 8; }
  else return fail(c, CV_UPSTREAM, "the LLM URL must start with http:// or https://");
  zAuth = z;
  zAuthEnd = zAuth + strcspn(zAuth, "/?#");
  if( memchr(zAuth, '@', (size_t)(zAuthEnd - zAuth)) ){
    return fail(c, CV_UPSTREAM, "the LLM URL must not hold credentials (use --llm-key)");
  }
  if( *zAuth=='[' ){
    zHost = zAuth + 1;
    zHostEnd = memchr(zHost, ']', (size_t)(zAuthEnd - zHost));
    if( !zHostEnd ) return fail(c, CV_UPSTREAM, "bad IPv6 address in the LLM URL");
    z = zHostEnd + 1;
    bV6 = 1;
  }else{
    zHost = zAuth;
    zHostEnd = memchr(zHost, ':', (size_t)(zAuthEnd - zHost));
    if( !zHostEnd ) zHostEnd = zAuthEnd;
    z = zHostEnd;
  }
  nHost = (size_t)(zHostEnd - zHost);
  if( nHost==0 || nHost>LLM_HOST_MAX ) return fail(c, CV_UPSTREAM, "bad host in the LLM URL");
  memcpy(p->zHost, zHost, nHost);
  p->zHost[nHost] = 0;
  port = p->bTls ? 443 : 80;
  if( z<zAuthEnd ){
    char *zNum;
    if( *z!=':' || z+1==zAuthEnd ) return fail(c, CV_UPSTREAM, "bad port in the LLM URL");
    errno = 0;
    port = strtol(z+1, &zNum, 10);
    if( zNum!=zAuthEnd || port<1 || port>65535 || z[1]<'0' || z[1]>'9' ){
      return fail(c, CV_UPSTREAM, "bad port in the LLM URL");
    }
  }
  snprintf(p->zPort, sizeof p->zPort, "%ld", port);
  p->bIpLiteral = inet_pton(AF_INET, p->zHost, aAddr)==1
               || (bV6 && inet_pton(AF_INET6, p->zHost, aAddr)==1);
  if( bV6 && !p->bIpLiteral ) return fail(c, CV_UPSTREAM, "bad IPv6 address in the LLM URL");
  if( port==(p->bTls ? 443 : 80) ){
    snprintf(p->zHostHdr, sizeof p->zHostHdr, bV6 ? "[%s]" : "%s", p->zHost);
  }else{
    snprintf(p->zHostHdr, sizeof p->zHostHdr, bV6 ? "[%s]:%ld" : "%s:%ld", p->zHost, port);
  }
  zPath = zAuthEnd;
  zEnd = zPath + strcspn(zPath, "#");
  zQuery = memchr(zPath, '?', (size_t)(zEnd - zPath));
  nPath = (size_t)((zQuery ? zQuery : zEnd) - zPath);
  while( nPath && zPath[nPath-1]=='/' ) nPath--;
  zSuffix = (nPath>=3 && memcmp(zPath + nPath - 3, "/v1", 3)==0) ? "/" : "/v1/";
  n = (size_t)snprintf(p->zTarget, sizeof p->zTarget, "%.*s%s%s%.*s", (int)nPath, zPath,
                       zSuffix, zEndpoint, zQuery ? (int)(zEnd - zQuery) : 0,
                       zQuery ? zQuery : "");
  if( n>=sizeof p->zTarget ) return fail(c, CV_UPSTREAM, "the LLM URL is too long");
  return CV_OK;
}

/* =======================================================================================
** DNS with a deadline
*/

struct resolve_job {
  pthread_mutex_t mu;             /* guards every field below */
  pthread_cond_t cond;            /* signalled when bDone is set */
  int nRef;                       /* holders: the caller and the thread */
  int bDone;                      /* getaddrinfo() has returned */
  int rcGai;                      /* its result */
  struct addrinfo *pRes;          /* its list, until the caller takes it */
  char zHost[LLM_HOST_MAX+1];     /* what to resolve */
  char zPort[6];
};

static void resolve_job_release(struct resolve_job *pJob){
  int nRef;
  pthread_mutex_lock(&pJob->mu);
  nRef = --pJob->nRef;
  pthread_mutex_unlock(&pJob->mu);
  if( nRef==0 ){
    if( pJob->pRes ) freeaddrinfo(pJob->pRes);
    pthread_cond_destroy(&pJob->cond);
    pthread_mutex_destroy(&pJob->mu);
    free(pJob);
  }
}

static void *resolve_main(void *pArg){
  struct resolve_job *pJob = pArg;
  struct addrinfo hints, *pRes = NULL;
  int rc;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
  rc = getaddrinfo(pJob->zHost, pJob->zPort, &hints, &pRes);
  pthread_mutex_lock(&pJob->mu);
  pJob->rcGai = rc;
  pJob->pRes = rc==0 ? pRes : NULL;
  pJob->bDone = 1;
  pthread_cond_signal(&pJob->cond);
  pthread_mutex_unlock(&pJob->mu);
  resolve_job_release(pJob);
  return NULL;
}

/* Resolve the URL's host before the deadline. On CV_OK *ppRes is the address list (free
** with freeaddrinfo()). CV_UPSTREAM when the name does not resolve, CV_TIMEOUT, CV_NOMEM. */
static cv_rc resolve(struct llm_call *c, struct addrinfo **ppRes){
  struct addrinfo hints;
  struct resolve_job *pJob;
  pthread_condattr_t ca;
  pthread_attr_t ta;
  pthread_t tid;
  struct timespec ts;
  int64_t nsAbs;
  int rcGai = 0, bDone, bThread;
  *ppRes = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
  if( c->url.bIpLiteral ){
    rcGai = getaddrinfo(c->url.zHost, c->url.zPort, &hints, ppRes);
    if( rcGai ) return fail(c, CV_UPSTREAM, "resolve %s: %s", c->url.zHost, gai_strerror(rcGai));
    return CV_OK;
  }
  pJob = calloc(1, sizeof *pJob);
  if( !pJob ) return fail(c, CV_NOMEM, "out of memory");
  memcpy(pJob->zHost, c->url.zHost, sizeof pJob->zHost);
  memcpy(pJob->zPort, c->url.zPort, sizeof pJob->zPort);
  pJob->nRef = 2;
  pthread_mutex_init(&pJob->mu, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&pJob->cond, &ca);
  pthread_condattr_destroy(&ca);
  pthread_attr_init(&ta);
  pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
  bThread = pthread_create(&tid, &ta, resolve_main, pJob)==0;
  pthread_attr_destroy(&ta);
  if( !bThread ){
    pJob->nRef = 1;
    resolve_job_release(pJob);
    return fail(c, CV_NOMEM, "cannot start the resolver thread");
  }
  /* CLOCK_MONOTONIC is util_mono_us()'s clock: the deadline converts directly */
  nsAbs = c->deadlineUs * 1000;
  ts.tv_sec = (time_t)(nsAbs / 1000000000);
  ts.tv_nsec = (long)(nsAbs % 1000000000);
  pthread_mutex_lock(&pJob->mu);
  while( !pJob->bDone ){
    if( pthread_cond_timedwait(&pJob->cond, &pJob->mu, &ts)==ETIMEDOUT ) break;
  }
  bDone = pJob->bDone;
  if( bDone ){
    rcGai = pJob->rcGai;
    *ppRes = pJob->pRes;
    pJob->pRes = NULL;
  }
  pthread_mutex_unlock(&pJob->mu);
  resolve_job_release(pJob);
  if( !bDone ) return fail(c, CV_TIMEOUT, "resolve %s: deadline passed", c->url.zHost);
  if( rcGai ) return fail(c, CV_UPSTREAM, "resolve %s: %s", c->url.zHost, gai_strerror(rcGai));
  return CV_OK;
}

/* =======================================================================================
** Socket and TLS I/O, every wait bounded by the deadline
*/

/* Wait until c->fd is ready for events (POLLIN/POLLOUT). CV_TIMEOUT at the deadline. */
static cv_rc wait_fd(struct llm_call *c, short events){
  struct pollfd pfd;
  int r;
  for(;;){
    int ms = ms_left(c->deadlineUs);
    if( ms==0 ) return fail(c, CV_TIMEOUT, "deadline passed");
    pfd.fd = c->fd;
    pfd.events = events;
    pfd.revents = 0;
    r = poll(&pfd, 1, ms);
    if( r>0 ) return CV_OK;   /* ready, or an error/hangup the next call will report */
    if( r<0 && errno!=EINTR ) return fail(c, CV_UPSTREAM, "poll: %s", strerror(errno));
  }
}

/* Connect to the first address that answers. Each address but the last gets half the
** time left, so an unreachable IPv6 address cannot use up the whole deadline. */
static cv_rc tcp_connect(struct llm_call *c, const struct addrinfo *pList){
  const struct addrinfo *pAi;
  int err = 0, one = 1;
  for(pAi=pList; pAi; pAi=pAi->ai_next){
    int fd, ms;
    socklen_t len = sizeof err;
    fd = socket(pAi->ai_family, pAi->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                pAi->ai_protocol);
    if( fd<0 ){ err = errno; continue; }
    if( connect(fd, pAi->ai_addr, pAi->ai_addrlen)!=0 ){
      struct pollfd pfd;
      int r;
      if( errno!=EINPROGRESS ){ err = errno; close(fd); continue; }
      do{
        ms = ms_left(c->deadlineUs);
        if( pAi->ai_next && ms>1 ) ms /= 2;
        pfd.fd = fd;
        pfd.events = POLLOUT;
        pfd.revents = 0;
        r = ms ? poll(&pfd, 1, ms) : 0;
      }while( r<0 && errno==EINTR );
      if( r<=0 ){
        err = r<0 ? errno : ETIMEDOUT;
        close(fd);
        if( ms_left(c->deadlineUs)==0 ){
          return fail(c, CV_TIMEOUT, "connect to %s:%s: deadline passed",
                      c->url.zHost, c->url.zPort);
        }
        continue;
      }
      if( getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)!=0 ) err = errno;
      if( err ){ close(fd); continue; }
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    return CV_OK;
  }
  return fail(c, CV_UPSTREAM, "connect to %s:%s: %s", c->url.zHost, c->url.zPort,
              strerror(err ? err : ECONNREFUSED));
}

static pthread_once_t tlsOnce = PTHREAD_ONCE_INIT;
static SSL_CTX *pTlsCtx;   /* shared by every call and never freed; NULL if setup failed */

static void tls_ctx_init(void){
  SSL_CTX *p = SSL_CTX_new(TLS_client_method());
  if( !p ) return;
  SSL_CTX_set_min_proto_version(p, TLS1_2_VERSION);
  SSL_CTX_set_verify(p, SSL_VERIFY_PEER, NULL);
  /* a close without close_notify is an ordinary EOF here: the body framing and the
  ** [DONE] check in sse.c decide whether the reply is complete */
  SSL_CTX_set_options(p, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
  if( SSL_CTX_set_default_verify_paths(p)!=1 ){
    SSL_CTX_free(p);
    return;
  }
  pTlsCtx = p;
}

/* The reason for the last TLS failure: the certificate check's verdict, else OpenSSL's. */
static cv_rc tls_fail(struct llm_call *c, const char *zWhat, int sslErr){
  long vr = c->pSsl ? SSL_get_verify_result(c->pSsl) : X509_V_OK;
  unsigned long e = ERR_get_error();
  char zErr[160];
  if( vr!=X509_V_OK ){
    fail(c, CV_UPSTREAM, "%s %s: certificate: %s", zWhat, c->url.zHost,
         X509_verify_cert_error_string(vr));
  }else if( e ){
    ERR_error_string_n(e, zErr, sizeof zErr);
    fail(c, CV_UPSTREAM, "%s %s: %s", zWhat, c->url.zHost, zErr);
  }else if( sslErr==SSL_ERROR_SYSCALL && errno ){
    fail(c, CV_UPSTREAM, "%s %s: %s", zWhat, c->url.zHost, strerror(errno));
  }else{
    fail(c, CV_UPSTREAM, "%s %s: TLS error %d", zWhat, c->url.zHost, sslErr);
  }
  ERR_clear_error();
  return CV_UPSTREAM;
}

/* Wait for what OpenSSL asked for; any other SSL error is a failure. */
static cv_rc tls_wait(struct llm_call *c, const char *zWhat, int sslErr){
  if( sslErr==SSL_ERROR_WANT_READ ) return wait_fd(c, POLLIN);
  if( sslErr==SSL_ERROR_WANT_WRITE ) return wait_fd(c, POLLOUT);
  return tls_fail(c, zWhat, sslErr);
}

/* TLS handshake with certificate and host-name verification and SNI. */
static cv_rc tls_start(struct llm_call *c){
  cv_rc rc = CV_OK;
  pthread_once(&tlsOnce, tls_ctx_init);
  if( !pTlsCtx ) return fail(c, CV_UPSTREAM, "TLS setup failed (CA store?)");
  ERR_clear_error();
  c->pSsl = SSL_new(pTlsCtx);
  if( !c->pSsl || SSL_set_fd(c->pSsl, c->fd)!=1 ) return tls_fail(c, "TLS setup for", 0);
  if( c->url.bIpLiteral ){
    if( X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->pSsl), c->url.zHost)!=1 ){
      return tls_fail(c, "TLS setup for", 0);
    }
  }else{
    SSL_set_hostflags(c->pSsl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if( SSL_set_tlsext_host_name(c->pSsl, c->url.zHost)!=1
     || SSL_set1_host(c->pSsl, c->url.zHost)!=1 ){
      return tls_fail(c, "TLS setup for", 0);
    }
  }
  for(;;){
    int r;
    ERR_clear_error();
    errno = 0;
    r = SSL_connect(c->pSsl);
    if( r==1 ) break;
    rc = tls_wait(c, "TLS handshake with", SSL_get_error(c->pSsl, r));
    if( rc ) return rc;
  }
  return CV_OK;
}

/* Send z[0..n) whole. */
static cv_rc conn_write(struct llm_call *c, const char *z, size_t n){
  cv_rc rc;
  while( n>0 ){
    if( c->pSsl ){
      int r, nTry = n > INT_MAX ? INT_MAX : (int)n;
      ERR_clear_error();
      errno = 0;
      r = SSL_write(c->pSsl, z, nTry);
      if( r>0 ){ z += r; n -= (size_t)r; continue; }
      rc = tls_wait(c, "TLS write to", SSL_get_error(c->pSsl, r));
    }else{
      ssize_t r = send(c->fd, z, n, MSG_NOSIGNAL);
      if( r>0 ){ z += r; n -= (size_t)r; continue; }
      if( r<0 && errno==EINTR ) continue;
      if( r<0 && (errno==EAGAIN || errno==EWOULDBLOCK) ) rc = wait_fd(c, POLLOUT);
      else rc = fail(c, CV_UPSTREAM, "send to %s: %s", c->url.zHost, strerror(errno));
    }
    if( rc ) return rc;
  }
  return CV_OK;
}

/* Read what is there (at most n bytes, at least 1) into z, waiting up to the deadline.
** *pnRead==0 means the peer closed the connection. */
static cv_rc conn_read(struct llm_call *c, char *z, size_t n, size_t *pnRead){
  cv_rc rc;
  *pnRead = 0;
  for(;;){
    if( c->pSsl ){
      int r, e;
      ERR_clear_error();
      errno = 0;
      r = SSL_read(c->pSsl, z, n > INT_MAX ? INT_MAX : (int)n);
      if( r>0 ){ *pnRead = (size_t)r; return CV_OK; }
      e = SSL_get_error(c->pSsl, r);
      if( e==SSL_ERROR_ZERO_RETURN ) return CV_OK;
      if( e==SSL_ERROR_SYSCALL && errno==0 && ERR_peek_error()==0 ) return CV_OK;
      rc = tls_wait(c, "TLS read from", e);
    }else{
      ssize_t r = recv(c->fd, z, n, 0);
      if( r>=0 ){ *pnRead = (size_t)r; return CV_OK; }
      if( errno==EINTR ) continue;
      if( errno==EAGAIN || errno==EWOULDBLOCK ) rc = wait_fd(c, POLLIN);
      else rc = fail(c, CV_UPSTREAM, "read from %s: %s", c->url.zHost, strerror(errno));
    }
    if( rc ) return rc;
  }
}

/* =======================================================================================
** HTTP
*/

/* The request body: {"model", "stream":true, "messages":[system, ...aMsg]}. Returns a
** string to free with cJSON_free(), or NULL when memory ran out. */
static char *request_json(const struct cv_llm_config *pCfg, const struct cv_llm_request *pReq){
  cJSON *pRoot = cJSON_CreateObject(), *pMsgs = NULL, *pMsg;
  char *z = NULL;
  int i, bOk = pRoot!=NULL;
  if( bOk && pCfg->zModel && pCfg->zModel[0] ){
    bOk = cJSON_AddStringToObject(pRoot, "model", pCfg->zModel)!=NULL;
  }
  if( bOk ) bOk = cJSON_AddTrueToObject(pRoot, "stream")!=NULL;
  if( bOk ) bOk = (pMsgs = cJSON_AddArrayToObject(pRoot, "messages"))!=NULL;
  for(i=-1; bOk && i<pReq->nMsg; i++){
    const char *zRole = i<0 ? "system" : pReq->aMsg[i].zRole;
    const char *zContent = i<0 ? pReq->zSystem : pReq->aMsg[i].zContent;
    if( i<0 && (!zContent || !zContent[0]) ) continue;
    bOk = (pMsg = cJSON_CreateObject())!=NULL;
    if( bOk ) cJSON_AddItemToArray(pMsgs, pMsg);
    if( bOk ) bOk = cJSON_AddStringToObject(pMsg, "role", zRole ? zRole : "user")!=NULL;
    if( bOk ) bOk = cJSON_AddStringToObject(pMsg, "content", zContent ? zContent : "")!=NULL;
  }
  if( bOk ) z = cJSON_PrintUnformatted(pRoot);
  cJSON_Delete(pRoot);
  return z;
}

/* Build and send the request: pReq's chat completion (POST), or with pReq NULL a GET of the
** target (the model list). */
static cv_rc send_request(struct llm_call *c, const struct cv_llm_config *pCfg,
                          const struct cv_llm_request *pReq){
  struct cv_buf b;
  char *zJson;
  size_t nJson;
  cv_rc rc;
  if( pCfg->zKey ){
    const char *z;
    for(z=pCfg->zKey; *z; z++){
      if( (unsigned char)*z<0x20 || *z==0x7F ){
        return fail(c, CV_UPSTREAM, "the LLM key contains control characters");
      }
    }
  }
  if( pReq ){
    zJson = request_json(pCfg, pReq);
    if( !zJson ) return fail(c, CV_NOMEM, "out of memory");
    nJson = strlen(zJson);
  }else{
    zJson = NULL;
    nJson = 0;
  }
  buf_init(&b, nJson + 4096 + (pCfg->zKey ? strlen(pCfg->zKey) : 0));
  if( pReq ){
    rc = buf_appendf(&b,
      "POST %s HTTP/1.1\r\n"
      "Host: %s\r\n"
      "User-Agent: chatvault/" CV_VERSION "\r\n"
      "Accept: text/event-stream, application/json\r\n"
      "Accept-Encoding: identity\r\n"
      "Content-Type: application/json\r\n"
      "Content-Length: %zu\r\n"
      "Connection: close\r\n",
      c->url.zTarget, c->url.zHostHdr, nJson);
  }else{
    rc = buf_appendf(&b,
      "GET %s HTTP/1.1\r\n"
      "Host: %s\r\n"
      "User-Agent: chatvault/" CV_VERSION "\r\n"
      "Accept: application/json\r\n"
      "Accept-Encoding: identity\r\n"
      "Connection: close\r\n",
      c->url.zTarget, c->url.zHostHdr);
  }
  if( rc==CV_OK && pCfg->zKey && pCfg->zKey[0] ){
    rc = buf_append(&b, "Authorization: Bearer ", 22);
    if( rc==CV_OK ) rc = buf_append(&b, pCfg->zKey, strlen(pCfg->zKey));
    if( rc==CV_OK ) rc = buf_append(&b, "\r\n", 2);
  }
  if( rc==CV_OK ) rc = buf_append(&b, "\r\n", 2);
  if( rc==CV_OK && nJson ) rc = buf_append(&b, zJson, nJson);
  if( zJson ) cJSON_free(zJson);
  if( rc ){
    buf_free(&b);
    return fail(c, CV_NOMEM, "out of memory");
  }
  rc = conn_write(c, b.a, b.n);
  buf_free(&b);
  return rc;
}

/* Offset just past the blank line that ends the response head in z[0..n), or 0. */
static size_t head_end(const char *z, size_t n){
  size_t i;
  for(i=0; i<n; i++){
    if( z[i]!='\n' ) continue;
    if( i+1<n && z[i+1]=='\n' ) return i+2;
    if( i+2<n && z[i+1]=='\r' && z[i+2]=='\n' ) return i+3;
  }
  return 0;
}

/* Case-insensitive: does z[0..n) contain the token zTok? */
static int has_token(const char *z, size_t n, const char *zTok){
  size_t i, nTok = strlen(zTok);
  for(i=0; i+nTok<=n; i++){
    if( strncasecmp(z+i, zTok, nTok)==0 ) return 1;
  }
  return 0;
}

/* Parse the response head z[0..n) (n as given by head_end()) into c->status, c->eBody,
** c->nLeft and c->eKind. */
static cv_rc head_parse(struct llm_call *c, const char *z, size_t n){
  const char *zLine = z, *zEnd = z + n;
  int bLength = 0, bChunked = 0, bTe = 0, i;
  uint64_t nLength = 0;
  c->eKind = KIND_SNIFF;
  c->bBodyEnd = 0;
  c->nLeft = 0;
  if( n<12 || memcmp(z, "HTTP/1.", 7)!=0 || z[8]!=' ' ){
    return fail(c, CV_UPSTREAM, "%s did not answer with HTTP/1.x", c->url.zHost);
  }
  for(i=9; i<12; i++){
    if( z[i]<'0' || z[i]>'9' ) return fail(c, CV_UPSTREAM, "bad status line from %s", c->url.zHost);
  }
  c->status = (z[9]-'0')*100 + (z[10]-'0')*10 + (z[11]-'0');
  zLine = memchr(z, '\n', n);
  zLine = zLine ? zLine + 1 : zEnd;
  while( zLine<zEnd ){
    const char *zEol = memchr(zLine, '\n', (size_t)(zEnd - zLine));
    const char *zColon, *zVal, *zValEnd;
    size_t nName;
    if( !zEol ) zEol = zEnd;
    zValEnd = zEol;
    if( zValEnd>zLine && zValEnd[-1]=='\r' ) zValEnd--;
    zColon = memchr(zLine, ':', (size_t)(zValEnd - zLine));
    if( zColon ){
      nName = (size_t)(zColon - zLine);
      zVal = zColon + 1;
      while( zVal<zValEnd && (*zVal==' ' || *zVal=='\t') ) zVal++;
      while( zValEnd>zVal && (zValEnd[-1]==' ' || zValEnd[-1]=='\t') ) zValEnd--;
      if( nName==14 && strncasecmp(zLine, "content-length", 14)==0 ){
        uint64_t v = 0;
        const char *zp;
        if( zVal==zValEnd || zValEnd - zVal > 18 ){
          return fail(c, CV_UPSTREAM, "bad Content-Length from %s", c->url.zHost);
        }
        for(zp=zVal; zp<zValEnd; zp++){
          if( *zp<'0' || *zp>'9' ) return fail(c, CV_UPSTREAM, "bad Content-Length from %s", c->url.zHost);
          v = v*10 + (uint64_t)(*zp - '0');
        }
        if( bLength && v!=nLength ){
          return fail(c, CV_UPSTREAM, "conflicting Content-Length from %s", c->url.zHost);
        }
        bLength = 1;
        nLength = v;
      }else if( nName==17 && strncasecmp(zLine, "transfer-encoding", 17)==0 ){
        bTe = 1;
        bChunked = has_token(zVal, (size_t)(zValEnd - zVal), "chunked");
      }else if( nName==12 && strncasecmp(zLine, "content-type", 12)==0 ){
        size_t nVal = (size_t)(zValEnd - zVal);
        if( nVal>=17 && strncasecmp(zVal, "text/event-stream", 17)==0 ) c->eKind = KIND_STREAM;
        else if( has_token(zVal, nVal, "json") ) c->eKind = KIND_JSON;
      }
    }
    zLine = zEol + 1;
  }
  /* Transfer-Encoding wins over Content-Length (RFC 9112 6.3) */
  if( bTe ) c->eBody = bChunked ? BODY_CHUNKED : BODY_CLOSE;
  else if( bLength ) c->eBody = BODY_LENGTH;
  else c->eBody = BODY_CLOSE;
  c->nLeft = nLength;
  if( c->status==204 || c->status==304 ){ c->eBody = BODY_LENGTH; c->nLeft = 0; }
  if( c->eBody==BODY_LENGTH && c->nLeft==0 ) c->bBodyEnd = 1;
  if( c->status<200 || c->status>299 ) c->eKind = KIND_ERROR;
  return CV_OK;
}

/* Body bytes z[0..n) (already de-framed): hand them to whoever reads this kind. */
static cv_rc body_consume(struct llm_call *c, const char *z, size_t n){
  cv_rc rc;
  if( n==0 ) return CV_OK;
  switch( c->bRaw && c->eKind!=KIND_ERROR ? KIND_JSON : c->eKind ){
    case KIND_STREAM:
      rc = sse_chat_feed(&c->chat, z, n);
      if( rc ) return fail(c, rc, "%s", c->chat.zErr);
      if( c->chat.bDone ) c->bEnough = 1;   /* no need to wait for the close */
      return CV_OK;
    case KIND_ERROR: {
      size_t nRoom = c->body.nMax - c->body.n;
      if( n>=nRoom ){ n = nRoom; c->bEnough = 1; }
      if( buf_append(&c->body, z, n) ) return fail(c, CV_NOMEM, "out of memory");
      return CV_OK;
    }
    default:
      rc = buf_append(&c->body, z, n);
      if( rc==CV_TOOLARGE ) return fail(c, CV_UPSTREAM, "the answer from %s is too large", c->url.zHost);
      if( rc ) return fail(c, CV_NOMEM, "out of memory");
      return CV_OK;
  }
}

/* Raw bytes z[0..n) that follow the head: remove the framing in place, then consume. */
static cv_rc body_take(struct llm_call *c, char *z, size_t n){
  size_t nOut = n, nUsed;
  if( c->bBodyEnd || c->bEnough ) return CV_OK;
  if( c->eBody==BODY_CHUNKED ){
    if( sse_chunked_decode(&c->chunked, z, n, &nOut, &nUsed) ){
      return fail(c, CV_UPSTREAM, "bad chunked encoding from %s", c->url.zHost);
    }
    c->bBodyEnd = c->chunked.bEnd;
  }else if( c->eBody==BODY_LENGTH ){
    if( (uint64_t)nOut > c->nLeft ) nOut = (size_t)c->nLeft;
    c->nLeft -= nOut;
    c->bBodyEnd = c->nLeft==0;
  }
  return body_consume(c, z, nOut);
}

/* Read the response head (skipping 1xx interim responses), then the body until its
** framing ends or the decoder has what it needs. */
static cv_rc read_response(struct llm_call *c){
  char *a = malloc(LLM_HEAD_MAX);
  size_t n = 0, nHead = 0, nRead;
  cv_rc rc = CV_OK;
  if( !a ) return fail(c, CV_NOMEM, "out of memory");
  for(;;){
    nHead = head_end(a, n);
    if( nHead ){
      rc = head_parse(c, a, nHead);
      if( rc ) goto out;
      if( c->status>=100 && c->status<=199 && c->status!=101 ){
        memmove(a, a + nHead, n - nHead);   /* an interim response: the real one follows */
        n -= nHead;
        continue;
      }
      break;
    }
    if( n==LLM_HEAD_MAX ){
      rc = fail(c, CV_UPSTREAM, "response head from %s too large", c->url.zHost);
      goto out;
    }
    rc = conn_read(c, a + n, LLM_HEAD_MAX - n, &nRead);
    if( rc ) goto out;
    if( nRead==0 ){
      rc = fail(c, CV_UPSTREAM, "%s closed the connection before answering", c->url.zHost);
      goto out;
    }
    n += nRead;
  }
  if( c->status==101 ){
    rc = fail(c, CV_UPSTREAM, "%s switched protocols", c->url.zHost);
    goto out;
  }
  buf_init(&c->body, c->eKind==KIND_ERROR ? LLM_ERRBODY_MAX
                     : c->bRaw ? LLM_MODELS_MAX : LLM_JSON_MAX);
  sse_chunked_init(&c->chunked);
  rc = body_take(c, a + nHead, n - nHead);
  while( rc==CV_OK && !c->bBodyEnd && !c->bEnough ){
    rc = conn_read(c, a, LLM_HEAD_MAX < LLM_READ_MAX ? LLM_HEAD_MAX : LLM_READ_MAX, &nRead);
    if( rc ) break;
    if( nRead==0 ){
      if( c->eBody==BODY_CLOSE || c->eKind==KIND_ERROR ) break;
      rc = fail(c, CV_UPSTREAM, "%s closed the connection mid-answer", c->url.zHost);
      break;
    }
    rc = body_take(c, a, nRead);
  }
  /* an error status is reported even when its body could not be read whole */
  if( c->eKind==KIND_ERROR && rc!=CV_NOMEM ){
    char zMsg[SSE_ERR_MAX+1];
    sse_error_message(c->body.a ? c->body.a : "", c->body.n, zMsg, sizeof zMsg);
    c->zWhy[0] = 0;
    rc = fail(c, CV_UPSTREAM, "%s answered HTTP %d: %s", c->url.zHost, c->status,
              zMsg[0] ? zMsg : "(no message)");
  }
out:
  free(a);
  return rc;
}

/* The body has been read: turn it into the reply. */
static cv_rc finish_reply(struct llm_call *c){
  cv_rc rc;
  if( c->eKind==KIND_SNIFF ){
    /* no usable Content-Type: a JSON object is an answer, anything else a stream */
    size_t i = 0;
    while( i<c->body.n && (c->body.a[i]==' ' || c->body.a[i]=='\r' || c->body.a[i]=='\n'
                           || c->body.a[i]=='\t') ) i++;
    c->eKind = (i<c->body.n && c->body.a[i]=='{') ? KIND_JSON : KIND_STREAM;
    if( c->eKind==KIND_STREAM && c->body.n ){
      rc = sse_chat_feed(&c->chat, c->body.a, c->body.n);
      if( rc ) return fail(c, rc, "%s", c->chat.zErr);
    }
  }
  if( c->eKind==KIND_JSON ){
    rc = sse_chat_json(&c->chat, c->body.a ? c->body.a : "", c->body.n);
  }else{
    rc = sse_chat_end(&c->chat);
  }
  if( rc ) return fail(c, rc, "%s", c->chat.zErr);
  return CV_OK;
}

/* Release what the call still holds. */
static void call_close(struct llm_call *c){
  if( c->pSsl ){
    SSL_free(c->pSsl);   /* no close_notify: the connection is not reused */
    c->pSsl = NULL;
  }
  if( c->fd>=0 ){
    close(c->fd);
    c->fd = -1;
  }
  sse_chat_free(&c->chat);
  buf_free(&c->body);
  ERR_clear_error();     /* leave this thread's OpenSSL error queue as it was found */
}

/* One upstream call: with pReq, llm_reply's chat completion (*pzOut the reply); without, the
** model list (*pzOut the 2xx body as it came, NUL-terminated, *pnOut its bytes). */
static cv_rc upstream_call(const struct cv_llm_config *pCfg, const struct cv_llm_request *pReq,
                           int timeoutS, cv_llm_delta_fn xDelta, void *pCtx, char **pzOut,
                           size_t *pnOut){
  struct llm_call *c;
  struct addrinfo *pAddrs = NULL;
  sigset_t sigPipe, sigOld;
  cv_rc rc;
  c = calloc(1, sizeof *c);
  if( !c ) return CV_NOMEM;
  c->fd = -1;
  c->bRaw = pReq==NULL;
  c->deadlineUs = util_mono_us() + (int64_t)timeoutS*1000000;
  sse_chat_init(&c->chat, xDelta, pCtx);
  buf_init(&c->body, LLM_ERRBODY_MAX);
  sigemptyset(&sigPipe);
  sigaddset(&sigPipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &sigPipe, &sigOld);

  rc = url_parse(c, pCfg->zUrl, pReq ? "chat/completions" : "models");
  if( rc==CV_OK ) rc = resolve(c, &pAddrs);
  if( rc==CV_OK ) rc = tcp_connect(c, pAddrs);
  if( pAddrs ) freeaddrinfo(pAddrs);
  if( rc==CV_OK && c->url.bTls ) rc = tls_start(c);
  if( rc==CV_OK ) rc = send_request(c, pCfg, pReq);
  if( rc==CV_OK ) rc = read_response(c);
  if( pReq ){
    if( rc==CV_OK ) rc = finish_reply(c);
    if( rc==CV_OK ) *pzOut = sse_chat_take(&c->chat);
  }else if( rc==CV_OK ){
    if( buf_append(&c->body, "", 1) ){
      rc = fail(c, CV_UPSTREAM, "the model list from %s is too large", c->url.zHost);
    }else{
      *pnOut = c->body.n - 1;
      *pzOut = c->body.a;             /* the buffer changes hands */
      c->body.a = NULL;
      c->body.n = 0;
    }
  }

  if( rc ){
    fprintf(stderr, "chatvault: llm: %s (%s)\n", c->zWhy[0] ? c->zWhy : "failed", cv_rc_str(rc));
  }
  call_close(c);
  free(c);
  if( !sigismember(&sigOld, SIGPIPE) ){
    /* a TLS write to a closed connection left a SIGPIPE pending: drop it, then unblock */
    struct timespec ts0 = {0, 0};
    sigset_t pending;
    if( sigpending(&pending)==0 && sigismember(&pending, SIGPIPE) ){
      sigtimedwait(&sigPipe, NULL, &ts0);
    }
    pthread_sigmask(SIG_SETMASK, &sigOld, NULL);
  }
  return rc;
}

cv_rc llm_reply(const struct cv_llm_config *pCfg, const struct cv_llm_request *pReq,
                cv_llm_delta_fn xDelta, void *pCtx, char **pzReply, int *pbOffline){
  assert( pCfg && pReq && pzReply && pbOffline );
  assert( pReq->nMsg==0 || pReq->aMsg );
  *pzReply = NULL;
  *pbOffline = 0;
  if( !pCfg->zUrl || !pCfg->zUrl[0] ){
    *pbOffline = 1;
    return responder_offline_reply(pReq, xDelta, pCtx, pzReply);
  }
  return upstream_call(pCfg, pReq, pCfg->timeoutS>0 ? pCfg->timeoutS : LLM_DEFAULT_TIMEOUT_S,
                       xDelta, pCtx, pzReply, NULL);
}

cv_rc llm_models(const struct cv_llm_config *pCfg, char **pzJson, size_t *pnJson){
  int timeoutS = pCfg->timeoutS>0 ? pCfg->timeoutS : LLM_DEFAULT_TIMEOUT_S;
  assert( pCfg && pCfg->zUrl && pCfg->zUrl[0] && pzJson && pnJson );
  *pzJson = NULL;
  *pnJson = 0;
  if( timeoutS>LLM_MODELS_TIMEOUT_S ) timeoutS = LLM_MODELS_TIMEOUT_S;
  return upstream_call(pCfg, NULL, timeoutS, NULL, NULL, pzJson, pnJson);
}
