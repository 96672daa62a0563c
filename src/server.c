/*
** server.c — see server.h. civetweb options are chosen against its defaults (facts.md):
** loopback only unless told, no document_root (no file serving of its own), no CORS
** answers, keep-alive on, a header-size bound, a per-read timeout, and enough worker
** threads for open keep-alive connections plus streams.
**
** Threads (default 2048, --threads): civetweb 1.15 gives each connection a worker for its
** whole life, idle keep-alive time (up to keep_alive_timeout_ms) and clients trickling their
** headers (up to request_timeout_ms) included; when all workers are held, new clients wait
** unseen in the accept queue. tests/fault/test_load.py measured 1,000 keep-alive clients plus
** 500 slow ones starving a 128-thread server completely (every probe timed out), while 2048
** threads served probes in a few ms. Our civetweb patch 0002 (vendor/patches/README.md)
** starts workers on demand and hands each connection to the idle worker with the lowest
** index, so --threads is a ceiling, not a cost: 8 workers at start (6.6 MB resident), about
** 70 under a 64-connection load (10-12 MB), 1,505 under that crowd. Each started worker
** keeps its touched stack pages and 16 KB request buffer, and an eventfd (one per possible
** worker). Shorter keep-alive/request timeouts would free workers sooner but cut off honest
** slow mobile clients; they are left at 10 s.
**
** Every request goes through handle_request (framing and path checks) → router_dispatch
** (on the raw path) → one access-log line.
*/
#include "server.h"
#include "app.h"
#include "events.h"
#include "http.h"
#include "netaddr.h"
#include "router.h"
#include "store_changes.h"
#include "store_shares.h"
#include "store_tokens.h"
#include "util.h"

#include <assert.h>
#include <civetweb.h>
#include <errno.h>
#include <malloc.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Expired share links stay in their owner's list this long, then go with their copies. */
#define SHARES_KEEP_EXPIRED_MS (30LL*24*3600*1000)

/* Workers that event streams may never take (events_start's bound). */
#define SERVER_WORKERS_FREE 64
#include <strings.h>
#include <sys/resource.h>

/* Bodies at least this big are followed by a malloc_trim (see the end of a request). */
#define SERVER_TRIM_BODY ((size_t)1 << 20)

static FILE *pAccessLog;    /* NULL: off */

static int hexval(char c){
  if( c>='0' && c<='9' ) return c - '0';
  if( c>='a' && c<='f' ) return c - 'a' + 10;
  if( c>='A' && c<='F' ) return c - 'A' + 10;
  return -1;
}

/* Percent-decode the raw path z (contract in server.h). An encoded NUL is refused because
** civetweb's own decoding would silently cut the path at %00. The server uses it only to
** check a path before routing: routing decodes each segment after splitting (router.c). */
cv_rc server_decode_path(const char *z, char **pzOut){
  size_t n = strlen(z), i, j = 0;
  char *zOut = malloc(n + 1);
  *pzOut = NULL;
  if( !zOut ) return CV_NOMEM;
  for(i=0; i<n; i++){
    if( z[i]=='%' ){
      int hi, lo;
      if( i+2>=n ){ free(zOut); return CV_INVALID; }
      hi = hexval(z[i+1]);
      lo = hexval(z[i+2]);
      if( hi<0 || lo<0 || (hi==0 && lo==0) ){ free(zOut); return CV_INVALID; }
      zOut[j++] = (char)(hi*16 + lo);
      i += 2;
    }else{
      zOut[j++] = z[i];
    }
  }
  zOut[j] = 0;
  *pzOut = zOut;
  return CV_OK;
}

/* Every open connection is a descriptor, and every possible worker holds an eventfd
** (civetweb's ALTERNATIVE_QUEUE), so the common soft limit (1024) is below what --threads
** workers need: lift the soft limit toward the hard one (as nginx's worker_rlimit_nofile or
** Go's runtime do). Returns how many workers the limit then allows, at most nThreads: when
** the hard limit is low, fewer workers (said on stderr) rather than a server that cannot
** start (civetweb refuses to start when an eventfd cannot be made). */
#define FD_RESERVE 256     /* database, WAL, listeners, log, upstream connections */
static int fit_threads_to_fd_limit(int nThreads){
  struct rlimit rl;
  rlim_t want = (rlim_t)nThreads*2 + FD_RESERVE, fit;
  if( getrlimit(RLIMIT_NOFILE, &rl)!=0 ) return nThreads;
  if( rl.rlim_max!=RLIM_INFINITY && want>rl.rlim_max ) want = rl.rlim_max;
  if( rl.rlim_cur!=RLIM_INFINITY && rl.rlim_cur<want ){
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = want;
    if( setrlimit(RLIMIT_NOFILE, &rl)!=0 ){
      fprintf(stderr, "chatvault: cannot raise the open-file limit to %llu\n", (unsigned long long)want);
      rl.rlim_cur = was;
    }
  }
  if( rl.rlim_cur==RLIM_INFINITY ) return nThreads;
  fit = rl.rlim_cur > FD_RESERVE + 16 ? (rl.rlim_cur - FD_RESERVE)/2 : 8;
  if( fit>=(rlim_t)nThreads ) return nThreads;
  fprintf(stderr, "chatvault: the open-file limit (%llu) allows %d worker threads, not %d\n",
          (unsigned long long)rl.rlim_cur, (int)fit, nThreads);
  return (int)fit;
}

/* Message framing (RFC 9112 §6.1, §6.3), decided once for every request before routing: a
** request whose body length two parsers could read differently is refused with 400 and the
** connection closed, whatever its method or route. Refused: Transfer-Encoding together with
** Content-Length (civetweb 1.15 lets TE win, a proxy in front may let CL win: the bytes after
** the chunked body would be a second, smuggled request), more than one Transfer-Encoding or
** Content-Length header (even equal ones), a Transfer-Encoding other than the single coding
** `chunked` (the name is case-insensitive, RFC 9112 §7), Transfer-Encoding in an HTTP/1.0
** request, and a Content-Length that is not 1*DIGIT (civetweb's strtoll would take "12abc"
** as 12). Returns NULL when the framing is unambiguous, else the 400's detail. Pure. */
const char *server_check_framing(const char *zHttpVersion, int nHeader,
                                 const char *const *azName, const char *const *azValue){
  const char *zTe = NULL, *zCl = NULL;
  int i, nTe = 0, nCl = 0;
  for(i=0; i<nHeader; i++){
    if( !azName[i] ) continue;
    if( strcasecmp(azName[i], "Transfer-Encoding")==0 ){ nTe++; zTe = azValue[i]; }
    else if( strcasecmp(azName[i], "Content-Length")==0 ){ nCl++; zCl = azValue[i]; }
  }
  if( nTe && nCl ) return "Content-Length together with Transfer-Encoding is not allowed";
  if( nCl>1 ) return "More than one Content-Length";
  if( nTe>1 ) return "More than one Transfer-Encoding";
  if( nTe ){
    if( !zTe || strcasecmp(zTe, "chunked")!=0 ) return "Unsupported Transfer-Encoding";
    if( zHttpVersion && strcmp(zHttpVersion, "1.0")==0 ) return "Transfer-Encoding in an HTTP/1.0 request";
  }
  if( nCl ){
    size_t n = zCl ? strlen(zCl) : 0;
    if( n==0 || n>18 || strspn(zCl, "0123456789")!=n ) return "Invalid Content-Length";
  }
  return NULL;
}

/* The raw path must start with '/', hold only URI characters (RFC 3986: visible ASCII; a
** control character, a space or a byte above 0x7E is refused, so none reaches a handler or a
** log line unescaped), and its escapes must be well formed and not %00 (the router decodes
** each segment after splitting; see router.c). Returns 1 when acceptable, -1 when memory
** ran out. */
static int path_acceptable(const char *z){
  const unsigned char *p;
  char *zDec = NULL;
  cv_rc rc;
  if( z[0]!='/' ) return 0;
  for(p=(const unsigned char*)z; *p; p++){
    if( *p<=0x20 || *p>=0x7f ) return 0;
  }
  rc = server_decode_path(z, &zDec);
  free(zDec);
  return rc==CV_OK ? 1 : rc==CV_NOMEM ? -1 : 0;
}

/* Copy z into zOut (nOut bytes, at least 8) for a log line: printable ASCII as is, a
** backslash as \\ and every other byte as \xNN, so a request can never write a line break, a
** terminal escape or a fake field into the log (the path is logged raw, as sent: "%0D%0A"
** stays those six characters). Cut with "..." when it does not fit. */
void server_log_escape(const char *z, char *zOut, size_t nOut){
  static const char hex[] = "0123456789abcdef";
  size_t j = 0;
  const unsigned char *p;
  assert( nOut>=8 );
  for(p=(const unsigned char*)z; *p; p++){
    if( j + 4 + 4 >= nOut ){ memcpy(zOut + j, "...", 3); j += 3; break; }
    if( *p=='\\' ){ zOut[j++] = '\\'; zOut[j++] = '\\'; }
    else if( *p>0x20 && *p<0x7f ){ zOut[j++] = (char)*p; }
    else{
      zOut[j++] = '\\'; zOut[j++] = 'x';
      zOut[j++] = hex[*p>>4]; zOut[j++] = hex[*p&15];
    }
  }
  zOut[j] = 0;
}

/* A share link's token is its capability (h_shares.c): the access log shows "/s/-" instead
** of "/s/<token>" (and likewise under /api/v1/shared/ and /api/v1/shares/), so a log reader
** cannot open or revoke the link. zPath is an escaped log path, changed in place. */
static void log_redact_share(char *zPath){
  static const char *const azPrefix[] = { "/s/", "/api/v1/shared/", "/api/v1/shares/" };
  size_t i;
  for(i=0; i<sizeof azPrefix/sizeof azPrefix[0]; i++){
    size_t n = strlen(azPrefix[i]);
    if( strncmp(zPath, azPrefix[i], n)==0 && zPath[n] ){
      zPath[n] = '-';
      zPath[n+1] = 0;
      return;
    }
  }
}

/* Delete expired tokens (they are refused anyway; this keeps the table from growing with
** every login), share links that expired SHARES_KEEP_EXPIRED_MS ago, with their copies, and
** the change log's tombstones older than CV_CHANGES_KEEP_MS (raising its horizon).
** Called from the serve loop: at start, then every PURGE_EVERY_MS, or every token lifetime
** when that is shorter (a short --token-ttl would otherwise pile up rows).
** Best effort: a failure is logged and retried at the next turn. */
#define PURGE_EVERY_MS (10*60*1000)
static void purge_expired(struct cv_app *pApp, int64_t *pNextMs){
  int64_t now = util_now_ms(), every = pApp->pCfg->tokenTtlMs;
  cv_rc rc;
  if( now < *pNextMs ) return;
  if( every<=0 || every>PURGE_EVERY_MS ) every = PURGE_EVERY_MS;
  *pNextMs = now + every;
  rc = store_tokens_purge(pApp->pStore, now);
  if( rc ) fprintf(stderr, "chatvault: purging expired tokens: %s\n", cv_rc_str(rc));
  rc = store_shares_purge(pApp->pStore, now - SHARES_KEEP_EXPIRED_MS, NULL);
  if( rc ) fprintf(stderr, "chatvault: purging expired share links: %s\n", cv_rc_str(rc));
  rc = store_changes_purge(pApp->pStore, now - CV_CHANGES_KEEP_MS, NULL);
  if( rc ) fprintf(stderr, "chatvault: purging old change-log tombstones: %s\n", cv_rc_str(rc));
}

/* The client address of the request into zOut (CV_ADDR_TEXT bytes): the socket peer, or,
** when the peer is a --trusted-proxy, what its X-Forwarded-For says (netaddr_client). */
static void client_address(const struct cv_config *c, const struct mg_request_info *ri,
                           char *zOut){
  const char *azXff[8];
  int i, nXff = 0;
  if( c->nTrusted>0 ){
    for(i=0; i<ri->num_headers && i<MG_MAX_HEADERS; i++){
      if( ri->http_headers[i].name && strcasecmp(ri->http_headers[i].name, "X-Forwarded-For")==0 ){
        if( nXff==(int)(sizeof azXff/sizeof azXff[0]) ){
          /* keep the right-most ones: the trusted proxies' hops are there */
          memmove(azXff, azXff+1, sizeof azXff - sizeof azXff[0]);
          nXff--;
        }
        azXff[nXff++] = ri->http_headers[i].value;
      }
    }
  }
  netaddr_client(c->aTrusted, c->nTrusted, ri->remote_addr, azXff, nXff, zOut);
}

/* The catch-all civetweb handler: one request in, one response out. */
static int handle_request(struct mg_connection *conn, void *pData){
  const struct mg_request_info *ri = mg_get_request_info(conn);
  const char *azName[MG_MAX_HEADERS], *azValue[MG_MAX_HEADERS];
  const char *zBad;
  struct cv_req r;
  char zClient[CV_ADDR_TEXT];
  int i, nHeader, bPathOk;
  int64_t t0 = util_mono_us();
  memset(&r, 0, sizeof r);
  r.conn = conn;
  r.pApp = pData;
  r.zMethod = ri->request_method ? ri->request_method : "";
  r.zQuery = ri->query_string;
  client_address(r.pApp->pCfg, ri, zClient);
  r.zRemote = zClient;
  r.zPath = ri->local_uri ? ri->local_uri : "/";   /* raw: the router decodes per segment */
  nHeader = ri->num_headers < MG_MAX_HEADERS ? ri->num_headers : MG_MAX_HEADERS;
  for(i=0; i<nHeader; i++){
    azName[i] = ri->http_headers[i].name;
    azValue[i] = ri->http_headers[i].value;
  }
  zBad = server_check_framing(ri->http_version, nHeader, azName, azValue);
  if( zBad ){
    r.bClose = 1;          /* the rest of the stream cannot be trusted: never read it */
    http_reply_detail(&r, 400, zBad);
  }else if( (bPathOk = path_acceptable(r.zPath))==0 ){
    r.bClose = 1;
    http_reply_detail(&r, 400, "Malformed path");
  }else if( bPathOk<0 ){
    http_reply_rc(&r, CV_NOMEM, NULL);     /* a 500, not the client's fault */
  }else{
    router_dispatch(&r);
  }
  if( r.status==0 ){
    /* a handler returned without answering: a bug, but never a hung client */
    fprintf(stderr, "chatvault: %s %s sent no response\n", r.zMethod, r.zPath);
    http_reply_detail(&r, 500, "Internal server error");
  }
  if( pAccessLog ){
    char zNow[CV_TS_LEN+1], zMethod[48], zLogPath[1024];
    util_iso_format(util_now_ms(), zNow);
    server_log_escape(r.zMethod, zMethod, sizeof zMethod);
    server_log_escape(r.zPath, zLogPath, sizeof zLogPath);
    log_redact_share(zLogPath);
    fprintf(pAccessLog, "%s %s %s %s %d %.2fms\n", zNow, r.zRemote ? r.zRemote : "-",
            zMethod, zLogPath, r.status, (double)(util_mono_us() - t0)/1000.0);
  }
  cJSON_Delete(r.pBody);
  free(r.zParamBuf);
  if( r.nBodyBytes>=SERVER_TRIM_BODY ){
    /* a big body's parse tree (about 10x the body) was just freed: hand it back now rather
    ** than at the next 5-second trim, so it does not sit under the requests that follow
    ** (a 5.6 MB import left 33 MB resident for up to 5 s; bench run 20261201T025000Z) */
    malloc_trim(0);
  }
  return r.status ? r.status : 500;
}

static int log_message(const struct mg_connection *conn, const char *zMsg){
  (void)conn;
  fprintf(stderr, "chatvault: civetweb: %s\n", zMsg);
  return 1;
}

/* TLS: load the certificate chain and the key from their own files. */
static int init_ssl(void *pSslCtx, void *pData){
  struct cv_app *pApp = pData;
  SSL_CTX *ctx = pSslCtx;
  if( SSL_CTX_use_certificate_chain_file(ctx, pApp->pCfg->zTlsCert)!=1 ){
    fprintf(stderr, "chatvault: cannot load TLS certificate %s\n", pApp->pCfg->zTlsCert);
    return -1;
  }
  if( SSL_CTX_use_PrivateKey_file(ctx, pApp->pCfg->zTlsKey, SSL_FILETYPE_PEM)!=1
   || SSL_CTX_check_private_key(ctx)!=1 ){
    fprintf(stderr, "chatvault: cannot load TLS key %s\n", pApp->pCfg->zTlsKey);
    return -1;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  return 1;
}

cv_rc server_run(struct cv_app *pApp){
  const struct cv_config *c = pApp->pCfg;
  struct mg_callbacks cb;
  struct mg_init_data init;
  struct mg_error_data err;
  struct mg_server_port aPort[4];
  struct mg_context *ctx;
  char zPorts[300], zThreads[16], zReqTimeout[16], zErr[256];
  unsigned errCode = 0;
  int64_t nextPurgeMs = 0;
  sigset_t set;
  int sig, nPort, nThreads, bTls = c->zTlsCert!=NULL;
  cv_rc rc;
  const char *azOpt[40];
  int k = 0;

  if( strcmp(c->zAccessLog, "off")==0 ) pAccessLog = NULL;
  else if( strcmp(c->zAccessLog, "-")==0 ) pAccessLog = stderr;
  else{
    pAccessLog = fopen(c->zAccessLog, "a");
    if( !pAccessLog ){ perror(c->zAccessLog); return CV_IO; }
    setvbuf(pAccessLog, NULL, _IOLBF, 0);
  }

  snprintf(zPorts, sizeof zPorts, "%s%s", c->zListen, bTls ? "s" : "");
  nThreads = fit_threads_to_fd_limit(c->nThreads);
  snprintf(zThreads, sizeof zThreads, "%d", nThreads);
  snprintf(zReqTimeout, sizeof zReqTimeout, "%d", c->requestTimeoutMs);
  azOpt[k++] = "listening_ports";             azOpt[k++] = zPorts;
  azOpt[k++] = "num_threads";                 azOpt[k++] = zThreads;
  azOpt[k++] = "request_timeout_ms";          azOpt[k++] = zReqTimeout;
  azOpt[k++] = "keep_alive_timeout_ms";       azOpt[k++] = "10000";
  azOpt[k++] = "enable_keep_alive";           azOpt[k++] = "yes";
  azOpt[k++] = "access_control_allow_origin"; azOpt[k++] = "";
  azOpt[k++] = "max_request_size";            azOpt[k++] = "16384";
  azOpt[k++] = "listen_backlog";              azOpt[k++] = "1024";
  azOpt[k++] = "enable_auth_domain_check";    azOpt[k++] = "no";
  azOpt[k++] = "tcp_nodelay";                 azOpt[k++] = "1";
  azOpt[k++] = "decode_url";                  azOpt[k++] = "no";   /* we decode: see server_decode_path */
  azOpt[k] = NULL;

  /* SIGINT/SIGTERM are taken by sigwait below: block them in every thread */
  signal(SIGPIPE, SIG_IGN);
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);

  /* The events hub: a stream holds a worker for its life, so streams may take all but
  ** SERVER_WORKERS_FREE of the workers (half of them when there are fewer than twice that);
  ** the rest always serve requests. */
  rc = events_start(pApp->pStore, nThreads - (nThreads/2 < SERVER_WORKERS_FREE
                                              ? nThreads/2 : SERVER_WORKERS_FREE),
                    &pApp->pEvents);
  if( rc ){
    fprintf(stderr, "chatvault: cannot start the events hub: %s\n", cv_rc_str(rc));
    return rc;
  }

  mg_init_library(bTls ? MG_FEATURES_TLS : 0);
  memset(&cb, 0, sizeof cb);
  cb.log_message = log_message;
  if( bTls ) cb.init_ssl = init_ssl;
  init.callbacks = &cb;
  init.user_data = pApp;
  init.configuration_options = azOpt;
  zErr[0] = 0;
  err.code = &errCode;
  err.text = zErr;
  err.text_buffer_size = sizeof zErr;
  ctx = mg_start2(&init, &err);
  if( !ctx ){
    fprintf(stderr, "chatvault: cannot listen on %s: %s\n", c->zListen, zErr[0] ? zErr : "unknown error");
    mg_exit_library();
    events_free(pApp->pEvents);
    pApp->pEvents = NULL;
    return CV_IO;
  }
  mg_set_request_handler(ctx, "/", handle_request, pApp);
  nPort = mg_get_server_ports(ctx, 4, aPort);
  if( nPort<1 ){
    fprintf(stderr, "chatvault: no listening port\n");
    events_stop(pApp->pEvents);
    mg_stop(ctx);
    mg_exit_library();
    events_free(pApp->pEvents);
    pApp->pEvents = NULL;
    return CV_IO;
  }
  {
    /* print the address as given, with the real port (--listen HOST:0 picks one) */
    char zHost[256];
    const char *zColon = strrchr(c->zListen, ':');
    size_t n = zColon ? (size_t)(zColon - c->zListen) : 0;
    if( n>=sizeof zHost ) n = sizeof zHost - 1;
    memcpy(zHost, c->zListen, n);
    zHost[n] = 0;
    if( n==0 ) snprintf(zHost, sizeof zHost, "0.0.0.0");
    printf("listening on %s://%s:%d\n", bTls ? "https" : "http", zHost, aPort[0].port);
    fflush(stdout);
  }
  /* While waiting for the stop signal, hand memory that bursts left free back to the
  ** system every few seconds: glibc keeps freed arena memory (a GET /api/users/me burst
  ** left 31 MB resident under the reads that followed it; bench run 20261121T161213Z). */
  purge_expired(pApp, &nextPurgeMs);
  do{
    static const struct timespec every = { 5, 0 };
    sig = sigtimedwait(&set, NULL, &every);
    if( sig<0 ){
      if( errno==EAGAIN ){
        malloc_trim(0);
        purge_expired(pApp, &nextPurgeMs);
      }
      sig = 0;
    }
  }while( sig!=SIGINT && sig!=SIGTERM );
  fprintf(stderr, "chatvault: stopping (signal %d): finishing in-flight requests\n", sig);
  events_stop(pApp->pEvents);          /* event streams end, so their workers can */
  mg_stop(ctx);
  mg_exit_library();
  events_free(pApp->pEvents);
  pApp->pEvents = NULL;
  if( pAccessLog && pAccessLog!=stderr ) fclose(pAccessLog);
  pAccessLog = NULL;
  return CV_OK;
}
