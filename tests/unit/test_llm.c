/* test_llm.c — unit tests of src/llm.c: llm_reply() against tests/lib/fake_llm.py, a fake
** OpenAI-compatible upstream started here on 127.0.0.1 (http, and https with a throwaway
** CA when the openssl command is there): live deltas, the request sent, the URL join,
** chunked and close-delimited bodies, JSON answers, errors, resets, garbage, deadlines,
** TLS verification, concurrent calls, and the offline responder. */
#include "freeport.h"
#include "tinytest.h"
#include "llm.h"
#include "util.h"

#include <cJSON.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static char zDir[64];                /* temporary directory: certificates, request record */
static char zScript[PATH_MAX];       /* tests/lib/fake_llm.py */

struct fake {
  pid_t pid;                         /* the python process, or 0 */
  int port;                          /* where it listens */
  char zRecord[128];                 /* file holding the last request it got */
};
static struct fake fakeHttp, fakeTls, fakeTlsOther;
static int bTls;                     /* the https fakes are running */

/* Start fake_llm.py (with --tls zCert zKey when zCert is not NULL) and read its port. */
static int fake_start(struct fake *p, const char *zName, const char *zCert, const char *zKey){
  int aPipe[2];
  char zLine[256];
  size_t n = 0;
  const char *zColon;
  snprintf(p->zRecord, sizeof p->zRecord, "%s/%s.json", zDir, zName);
  if( pipe(aPipe) ) return 0;
  p->pid = fork();
  if( p->pid<0 ){ p->pid = 0; return 0; }
  if( p->pid==0 ){
    dup2(aPipe[1], 1);
    close(aPipe[0]);
    close(aPipe[1]);
    if( zCert ){
      execl("/usr/bin/python3", "python3", zScript, "--record", p->zRecord,
            "--tls", zCert, zKey, (char*)NULL);
    }else{
      execl("/usr/bin/python3", "python3", zScript, "--record", p->zRecord, (char*)NULL);
    }
    _exit(127);
  }
  close(aPipe[1]);
  while( n < sizeof zLine - 1 ){
    struct pollfd pfd = { aPipe[0], POLLIN, 0 };
    ssize_t r;
    if( poll(&pfd, 1, 20000)<=0 ) break;
    r = read(aPipe[0], zLine + n, 1);
    if( r<=0 || zLine[n]=='\n' ) break;
    n++;
  }
  zLine[n] = 0;
  close(aPipe[0]);
  zColon = strrchr(zLine, ':');
  p->port = zColon ? atoi(zColon + 1) : 0;
  if( p->port<=0 ){
    fprintf(stderr, "fake_llm did not start: '%s'\n", zLine);
    return 0;
  }
  return 1;
}

static void fake_stop(struct fake *p){
  if( p->pid>0 ){
    kill(p->pid, SIGTERM);
    waitpid(p->pid, NULL, 0);
    p->pid = 0;
  }
  unlink(p->zRecord);
}

/* The fake's record of the last request, parsed (free with cJSON_Delete), or NULL. */
static cJSON *fake_last(const struct fake *p){
  FILE *f = fopen(p->zRecord, "rb");
  char *z;
  long n;
  cJSON *pRoot;
  if( !f ) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  z = malloc((size_t)n + 1);
  if( fread(z, 1, (size_t)n, f)!=(size_t)n ) n = 0;
  z[n] = 0;
  fclose(f);
  pRoot = cJSON_Parse(z);
  free(z);
  return pRoot;
}

/* Deltas received, with when the first and last came. */
struct got {
  char a[8192];
  size_t n;
  int nDelta;
  int nStopAfter;          /* return non-zero after this many (the client went away) */
  int64_t usFirst, usLast;
};

static int on_delta(void *pCtx, const char *z, size_t n){
  struct got *p = pCtx;
  int64_t now = util_mono_us();
  if( n < sizeof p->a - p->n ){
    memcpy(p->a + p->n, z, n);
    p->n += n;
    p->a[p->n] = 0;
  }
  if( p->nDelta++==0 ) p->usFirst = now;
  p->usLast = now;
  return p->nStopAfter && p->nDelta>=p->nStopAfter;
}

/* One llm_reply() call. zUrl may hold %d for the port of pFake. r must be initialised by
** the caller (r->got.nStopAfter is kept; everything else is reset). */
struct run {
  cv_rc rc;
  char *zReply;
  int bOffline;
  double secs;
  struct got got;
};

static const char *const azRole[] = { "user", "assistant", "user" };
static const char *const azContent[] = { "Hi", "Hello! How can I help?", "Tell me a story" };

static void run_llm(struct run *r, const char *zUrlFmt, int port, const char *zModel,
                    const char *zKey, int timeoutS){
  char zUrl[256];
  struct cv_llm_config cfg;
  struct cv_llm_msg aMsg[3];
  struct cv_llm_request req;
  int64_t t0;
  int i, nStop = r->got.nStopAfter;
  memset(r, 0, sizeof *r);
  r->got.nStopAfter = nStop;
  snprintf(zUrl, sizeof zUrl, zUrlFmt, port);
  for(i=0; i<3; i++){ aMsg[i].zRole = azRole[i]; aMsg[i].zContent = azContent[i]; }
  memset(&cfg, 0, sizeof cfg);
  cfg.zUrl = zUrl;
  cfg.zModel = zModel;
  cfg.zKey = zKey;
  cfg.timeoutS = timeoutS;
  memset(&req, 0, sizeof req);
  req.zSystem = "You are Ada, a patient teacher.";
  req.aMsg = aMsg;
  req.nMsg = 3;
  req.zCharacterName = "Ada";
  t0 = util_mono_us();
  r->rc = llm_reply(&cfg, &req, on_delta, &r->got, &r->zReply, &r->bOffline);
  r->secs = (double)(util_mono_us() - t0) / 1e6;
}

/* ---------------------------------------------------------------------------------------
*/

static void offline_when_no_url(void){
  struct cv_llm_config cfg;
  struct cv_llm_msg m = { "user", "hello" };
  struct cv_llm_request req;
  struct got g;
  char *z = (char*)1;
  int bOffline = 0;
  memset(&cfg, 0, sizeof cfg);
  memset(&req, 0, sizeof req);
  memset(&g, 0, sizeof g);
  req.aMsg = &m;
  req.nMsg = 1;
  req.zCharacterName = "Ada";
  TT_CHECK( llm_reply(&cfg, &req, on_delta, &g, &z, &bOffline)==CV_OK );
  TT_CHECK( bOffline==1 && z && strncmp(z, "[offline responder] Ada: ", 25)==0 );
  TT_CHECK( g.nDelta>1 && strcmp(g.a, z)==0 );
  free(z);
}

/* Run the fake's normal stream at zUrlFmt and check it came live. The fake sleeps 0.2 s
** before each delta: they must arrive as 4 deltas spread out, not at once. On a shared,
** loaded machine a starved client thread can read them together, so the liveness part gets
** three tries; the content must be exact every time. */
static void check_live_stream(const char *zUrlFmt, int port, const char *zModel,
                              const char *zKey){
  struct run r = {0};
  int nTry, bLive = 0;
  for(nTry=0; nTry<3 && !bLive; nTry++){
    run_llm(&r, zUrlFmt, port, zModel, zKey, 20);
    if( r.rc!=CV_OK ) printf("    %s gave %s\n", zUrlFmt, cv_rc_str(r.rc));
    TT_CHECK( r.rc==CV_OK && !r.bOffline );
    TT_CHECK( r.zReply && strcmp(r.zReply, "Hello, world!")==0 );
    TT_CHECK( strcmp(r.got.a, "Hello, world!")==0 );
    bLive = r.got.nDelta==4 && r.got.usLast - r.got.usFirst >= 450000;
    free(r.zReply);
  }
  TT_CHECK( bLive );
}

static void streams_deltas_live(void){
  cJSON *pLast, *pBody, *pMsgs, *pHdr;
  int i;
  check_live_stream("http://127.0.0.1:%d", fakeHttp.port, "fake-model", "k-123");

  pLast = fake_last(&fakeHttp);
  TT_CHECK( pLast!=NULL );
  pBody = cJSON_GetObjectItem(pLast, "body");
  pHdr = cJSON_GetObjectItem(pLast, "headers");
  TT_CHECK( strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(pLast, "path")), "/v1/chat/completions")==0 );
  TT_CHECK( cJSON_IsTrue(cJSON_GetObjectItem(pBody, "stream")) );
  TT_CHECK( strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(pBody, "model")), "fake-model")==0 );
  pMsgs = cJSON_GetObjectItem(pBody, "messages");
  TT_CHECK( cJSON_GetArraySize(pMsgs)==4 );
  TT_CHECK( strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(pMsgs, 0), "role")), "system")==0 );
  TT_CHECK( strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(pMsgs, 0), "content")),
                   "You are Ada, a patient teacher.")==0 );
  for(i=0; i<3 && cJSON_GetArraySize(pMsgs)==4; i++){
    cJSON *pM = cJSON_GetArrayItem(pMsgs, i+1);
    TT_CHECK( strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(pM, "role")), azRole[i])==0 );
    TT_CHECK( strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(pM, "content")), azContent[i])==0 );
  }
  TT_CHECK( strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(pHdr, "Authorization")), "Bearer k-123")==0 );
  TT_CHECK( strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(pHdr, "Content-Type")), "application/json")==0 );
  TT_CHECK( strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(pHdr, "Host")), "127.0.0.1")!=0 );  /* has the port */
  cJSON_Delete(pLast);
}

static void url_join_and_no_key(void){
  struct run r = {0};
  cJSON *pLast;
  /* a base URL ending in /v1 (and a slash) is not doubled */
  run_llm(&r, "http://127.0.0.1:%d/v1/", fakeHttp.port, "m", NULL, 20);
  TT_CHECK( r.rc==CV_OK && r.zReply && strcmp(r.zReply, "Hello, world!")==0 );
  free(r.zReply);
  pLast = fake_last(&fakeHttp);
  TT_CHECK( strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(pLast, "path")), "/v1/chat/completions")==0 );
  TT_CHECK( cJSON_GetObjectItem(cJSON_GetObjectItem(pLast, "headers"), "Authorization")==NULL );
  cJSON_Delete(pLast);
  /* a base path before /v1 is kept (here it picks the fake's variant) */
  run_llm(&r, "http://127.0.0.1:%d/crlf/v1", fakeHttp.port, "m", NULL, 20);
  TT_CHECK( r.rc==CV_OK && r.zReply && strcmp(r.zReply, "Hello, world!")==0 );
  free(r.zReply);
  pLast = fake_last(&fakeHttp);
  TT_CHECK( strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(pLast, "path")), "/crlf/v1/chat/completions")==0 );
  cJSON_Delete(pLast);
}

static void close_delimited_crlf_stream(void){
  struct run r = {0};
  run_llm(&r, "http://127.0.0.1:%d/crlf", fakeHttp.port, "m", NULL, 20);
  TT_CHECK( r.rc==CV_OK && r.zReply && strcmp(r.zReply, "Hello, world!")==0 );
  TT_CHECK( r.got.nDelta==4 );
  free(r.zReply);
}

static void json_answer_chosen_by_model(void){
  struct run r = {0};
  run_llm(&r, "http://127.0.0.1:%d", fakeHttp.port, "fake-json", NULL, 20);
  TT_CHECK( r.rc==CV_OK && r.zReply && strcmp(r.zReply, "Hello, world!")==0 );
  TT_CHECK( r.got.nDelta==1 && strcmp(r.got.a, "Hello, world!")==0 );
  free(r.zReply);
}

static void utf8_content_round_trips(void){
  struct run r = {0};
  struct cv_llm_config cfg;
  struct cv_llm_msg m = { "user", "h\xC3\xA9llo w\xC3\xB6rld \xF0\x9F\x98\x80 \"quoted\" back\\slash" };
  struct cv_llm_request req;
  char zUrl[64];
  snprintf(zUrl, sizeof zUrl, "http://127.0.0.1:%d/echo", fakeHttp.port);
  memset(&cfg, 0, sizeof cfg);
  memset(&req, 0, sizeof req);
  memset(&r, 0, sizeof r);
  cfg.zUrl = zUrl;
  cfg.zModel = "m";
  cfg.timeoutS = 20;
  req.aMsg = &m;
  req.nMsg = 1;
  r.rc = llm_reply(&cfg, &req, on_delta, &r.got, &r.zReply, &r.bOffline);
  TT_CHECK( r.rc==CV_OK && r.zReply && strcmp(r.zReply, m.zContent)==0 );
  TT_CHECK( r.got.nDelta==5 );
  free(r.zReply);
}

static void client_gone_still_gets_whole_reply(void){
  struct run r = {0};
  memset(&r, 0, sizeof r);
  r.got.nStopAfter = 1;
  run_llm(&r, "http://127.0.0.1:%d", fakeHttp.port, "m", NULL, 20);
  TT_CHECK( r.rc==CV_OK && r.zReply && strcmp(r.zReply, "Hello, world!")==0 );
  TT_CHECK( r.got.nDelta==1 && strcmp(r.got.a, "Hello")==0 );
  free(r.zReply);
}

static void null_delta_callback(void){
  struct cv_llm_config cfg;
  struct cv_llm_msg m = { "user", "hi" };
  struct cv_llm_request req;
  char zUrl[64], *z = NULL;
  int bOffline = 1;
  snprintf(zUrl, sizeof zUrl, "http://127.0.0.1:%d/json", fakeHttp.port);
  memset(&cfg, 0, sizeof cfg);
  memset(&req, 0, sizeof req);
  cfg.zUrl = zUrl;
  cfg.timeoutS = 20;
  req.aMsg = &m;
  req.nMsg = 1;
  TT_CHECK( llm_reply(&cfg, &req, NULL, NULL, &z, &bOffline)==CV_OK );
  TT_CHECK( z && strcmp(z, "Hello, world!")==0 && bOffline==0 );
  free(z);
}

static void http_error_is_upstream(void){
  struct run r = {0};
  run_llm(&r, "http://127.0.0.1:%d/error", fakeHttp.port, "m", NULL, 20);
  TT_CHECK( r.rc==CV_UPSTREAM && r.zReply==NULL && r.secs<5 );
  free(r.zReply);
}

static void bearer_key(void){
  struct run r = {0};
  run_llm(&r, "http://127.0.0.1:%d/auth", fakeHttp.port, "m", NULL, 20);
  TT_CHECK( r.rc==CV_UPSTREAM );
  run_llm(&r, "http://127.0.0.1:%d/auth", fakeHttp.port, "m", "wrong", 20);
  TT_CHECK( r.rc==CV_UPSTREAM );
  run_llm(&r, "http://127.0.0.1:%d/auth", fakeHttp.port, "m", "sekrit", 20);
  TT_CHECK( r.rc==CV_OK && r.zReply && strcmp(r.zReply, "Hello, world!")==0 );
  free(r.zReply);
  run_llm(&r, "http://127.0.0.1:%d/auth", fakeHttp.port, "m", "bad\r\nX-Injected: 1", 20);
  TT_CHECK( r.rc==CV_UPSTREAM );
}

static void broken_streams_are_upstream(void){
  static const char *const azVariant[] = { "reset", "garbage", "nodone", "llamaerr", "empty" };
  size_t i;
  for(i=0; i<sizeof azVariant/sizeof azVariant[0]; i++){
    struct run r = {0};
    char zFmt[64];
    snprintf(zFmt, sizeof zFmt, "http://127.0.0.1:%%d/%s", azVariant[i]);
    run_llm(&r, zFmt, fakeHttp.port, "m", NULL, 20);
    if( r.rc!=CV_UPSTREAM ) printf("    variant %s gave %s\n", azVariant[i], cv_rc_str(r.rc));
    TT_CHECK( r.rc==CV_UPSTREAM && r.zReply==NULL && r.secs<10 );
    free(r.zReply);
  }
}

static void hanging_upstream_times_out(void){
  struct run r = {0};
  run_llm(&r, "http://127.0.0.1:%d/hang", fakeHttp.port, "m", NULL, 2);
  TT_CHECK( r.rc==CV_TIMEOUT && r.zReply==NULL );
  TT_CHECK( r.secs>=1.9 && r.secs<8 );     /* ended by the 2 s deadline, not the fake's 120 s */
}

/* The fake sends two deltas at once, then nothing: the deadline ends the call midway. (It
** used the 1 s-apart "slow" stream once, whose first delta a loaded machine could delay past
** the deadline: CI saw 0 deltas.) */
static void stalled_stream_times_out_midway(void){
  struct run r = {0};
  run_llm(&r, "http://127.0.0.1:%d/stall", fakeHttp.port, "m", NULL, 2);
  TT_CHECK( r.rc==CV_TIMEOUT && r.zReply==NULL );
  TT_CHECK( r.got.nDelta==2 && strcmp(r.got.a, "Hello, ")==0 );  /* delivered before the end */
  TT_CHECK( r.secs>=1.9 && r.secs<8 );     /* ended by the 2 s deadline, not the fake's 120 s */
}

static void connect_refused_and_bad_urls(void){
  static const char *const azBad[] = {
    "ftp://127.0.0.1:%d", "http://", "http://:%d", "http://127.0.0.1:99999",
    "http://127.0.0.1:%d:1", "http://user:pw@127.0.0.1:%d", "http://127.0.0.1:%d/a b",
    "http://[::1", "http://[nothost]:%d", "127.0.0.1:%d",
  };
  int port = free_port();          /* a port that was free a moment ago: nothing listens there */
  struct run r = {0};
  size_t i;
  run_llm(&r, "http://127.0.0.1:%d", port, "m", NULL, 5);
  TT_CHECK( r.rc==CV_UPSTREAM && r.secs<4 );           /* refused at once, not the 5 s deadline */
  for(i=0; i<sizeof azBad/sizeof azBad[0]; i++){
    run_llm(&r, azBad[i], fakeHttp.port, "m", NULL, 5);
    if( r.rc!=CV_UPSTREAM ) printf("    url %s gave %s\n", azBad[i], cv_rc_str(r.rc));
    TT_CHECK( r.rc==CV_UPSTREAM && r.zReply==NULL );
    free(r.zReply);
  }
}

static void unresolvable_host(void){
  struct run r = {0};
  /* .invalid never resolves (RFC 6761); without DNS here this may also run into the
  ** deadline, which must then hold */
  run_llm(&r, "http://no-such-host.invalid:%d", 80, "m", NULL, 3);
  TT_CHECK( (r.rc==CV_UPSTREAM || r.rc==CV_TIMEOUT) && r.secs<6 );
}

static void *concurrent_one(void *pArg){
  struct run *r = pArg;
  run_llm(r, bTls ? "https://localhost:%d" : "http://127.0.0.1:%d",
          bTls ? fakeTls.port : fakeHttp.port, "m", NULL, 20);
  return NULL;
}

static void concurrent_calls(void){
  enum { N = 4 };
  pthread_t aTid[N];
  static struct run aRun[N];
  int i;
  for(i=0; i<N; i++) pthread_create(&aTid[i], NULL, concurrent_one, &aRun[i]);
  for(i=0; i<N; i++){
    pthread_join(aTid[i], NULL);
    TT_CHECK( aRun[i].rc==CV_OK && aRun[i].zReply && strcmp(aRun[i].zReply, "Hello, world!")==0 );
    free(aRun[i].zReply);
  }
}

static void https_verifies_the_server(void){
  struct run r = {0};
  if( !bTls ){
    printf("    (no openssl command: https not tested)\n");
    return;
  }
  check_live_stream("https://localhost:%d", fakeTls.port, "m", "k");
  run_llm(&r, "https://localhost:%d/json", fakeTls.port, "m", "k", 20);
  TT_CHECK( r.rc==CV_OK && r.zReply && strcmp(r.zReply, "Hello, world!")==0 );
  free(r.zReply);
  run_llm(&r, "https://localhost:%d/error", fakeTls.port, "m", "k", 20);
  TT_CHECK( r.rc==CV_UPSTREAM );
  run_llm(&r, "https://localhost:%d/hang", fakeTls.port, "m", "k", 2);
  TT_CHECK( r.rc==CV_TIMEOUT && r.secs<8 );       /* the 2 s deadline, not the fake's 120 s */
  /* the certificate names localhost, not 127.0.0.1 */
  run_llm(&r, "https://127.0.0.1:%d", fakeTls.port, "m", "k", 20);
  TT_CHECK( r.rc==CV_UPSTREAM && r.zReply==NULL );
  /* a certificate from a CA we do not trust */
  run_llm(&r, "https://localhost:%d", fakeTlsOther.port, "m", "k", 20);
  TT_CHECK( r.rc==CV_UPSTREAM && r.zReply==NULL );
  /* plain http to a TLS port: garbage */
  run_llm(&r, "http://localhost:%d", fakeTls.port, "m", "k", 5);
  TT_CHECK( r.rc==CV_UPSTREAM || r.rc==CV_TIMEOUT );
}

/* A self-signed certificate for localhost in zDir/zName.{crt,key}. */
static int make_cert(const char *zName){
  char zCmd[512];
  snprintf(zCmd, sizeof zCmd,
           "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
           "-keyout %s/%s.key -out %s/%s.crt -days 2 -subj /CN=localhost "
           "-addext subjectAltName=DNS:localhost >/dev/null 2>&1", zDir, zName, zDir, zName);
  return system(zCmd)==0;
}

static int find_script(const char *zArgv0){
  char zExe[PATH_MAX];
  ssize_t n;
  (void)zArgv0;
  if( access("tests/lib/fake_llm.py", R_OK)==0 ){
    snprintf(zScript, sizeof zScript, "tests/lib/fake_llm.py");
    return 1;
  }
  n = readlink("/proc/self/exe", zExe, sizeof zExe - 1);   /* build/asan/tests/test_llm */
  if( n>0 ){
    zExe[n] = 0;
    snprintf(zScript, sizeof zScript, "%.*s/../../../tests/lib/fake_llm.py",
             (int)(strrchr(zExe, '/') - zExe), zExe);
    return access(zScript, R_OK)==0;
  }
  return 0;
}

int main(int argc, char **argv){
  char zCert[128], zKey[128], zCert2[128], zKey2[128], zCmd[128];
  int rc;
  (void)argc;
  alarm(600);   /* whatever happens, never hang the runner */
  snprintf(zDir, sizeof zDir, "/tmp/cv-test-llm-XXXXXX");
  if( !mkdtemp(zDir) || !find_script(argv[0]) || !fake_start(&fakeHttp, "http", NULL, NULL) ){
    printf("FAIL setup: cannot start tests/lib/fake_llm.py\n0 passed, 1 failed\n");
    return 1;
  }
  snprintf(zCert, sizeof zCert, "%s/a.crt", zDir);
  snprintf(zKey, sizeof zKey, "%s/a.key", zDir);
  snprintf(zCert2, sizeof zCert2, "%s/b.crt", zDir);
  snprintf(zKey2, sizeof zKey2, "%s/b.key", zDir);
  if( make_cert("a") && make_cert("b") ){
    setenv("SSL_CERT_FILE", zCert, 1);   /* trust a (and only a) */
    bTls = fake_start(&fakeTls, "tls", zCert, zKey) && fake_start(&fakeTlsOther, "tls2", zCert2, zKey2);
  }

  TT_RUN(offline_when_no_url);
  TT_RUN(streams_deltas_live);
  TT_RUN(url_join_and_no_key);
  TT_RUN(close_delimited_crlf_stream);
  TT_RUN(json_answer_chosen_by_model);
  TT_RUN(utf8_content_round_trips);
  TT_RUN(client_gone_still_gets_whole_reply);
  TT_RUN(null_delta_callback);
  TT_RUN(http_error_is_upstream);
  TT_RUN(bearer_key);
  TT_RUN(broken_streams_are_upstream);
  TT_RUN(hanging_upstream_times_out);
  TT_RUN(stalled_stream_times_out_midway);
  TT_RUN(connect_refused_and_bad_urls);
  TT_RUN(unresolvable_host);
  TT_RUN(concurrent_calls);
  TT_RUN(https_verifies_the_server);

  fake_stop(&fakeHttp);
  fake_stop(&fakeTls);
  fake_stop(&fakeTlsOther);
  snprintf(zCmd, sizeof zCmd, "rm -rf %s", zDir);
  if( system(zCmd) ){ /* leftovers in /tmp are harmless */ }
  rc = TT_DONE();
  return rc;
}
