/* test_sse.c — unit tests of src/sse.c: chunked decoding, the event-stream parser and the
** chat-completion decoder, each fed whole, one byte at a time and at every split size. */
#include "tinytest.h"
#include "sse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------
** chunked
*/

/* Decode z in pieces of nPiece bytes; the payload goes to zOut. Returns the code of the
** first failing call, and *pnUsed the bytes consumed in all. */
static cv_rc chunked_run(const char *z, size_t nPiece, char *zOut, size_t *pnOut,
                         size_t *pnUsed, int *pbEnd){
  struct cv_chunked ch;
  size_t n = strlen(z), i = 0, nOut = 0, nUsed = 0;
  char aPiece[256];
  cv_rc rc = CV_OK;
  sse_chunked_init(&ch);
  while( i<n && !ch.bEnd ){
    size_t k = n - i < nPiece ? n - i : nPiece, kOut, kUsed;
    memcpy(aPiece, z + i, k);
    rc = sse_chunked_decode(&ch, aPiece, k, &kOut, &kUsed);
    memcpy(zOut + nOut, aPiece, kOut);
    nOut += kOut;
    nUsed += kUsed;
    if( rc ) break;
    i += k;
  }
  zOut[nOut] = 0;
  *pnOut = nOut;
  *pnUsed = nUsed;
  *pbEnd = ch.bEnd;
  return rc;
}

static void chunked_decodes_at_every_split(void){
  const char *z = "5\r\nHello\r\n7;name=\"v\"\r\n, world\r\n1\r\n!\r\n"
                  "0\r\nX-Trailer: 1\r\n\r\nNEXT";
  size_t k;
  for(k=1; k<=strlen(z); k++){
    char zOut[256];
    size_t nOut, nUsed;
    int bEnd;
    TT_CHECK( chunked_run(z, k, zOut, &nOut, &nUsed, &bEnd)==CV_OK );
    TT_CHECK( strcmp(zOut, "Hello, world!")==0 );
    TT_CHECK( bEnd );
    TT_CHECK( nUsed==strlen(z) - 4 );           /* "NEXT" is not part of the body */
  }
}

static void chunked_accepts_bare_lf_and_hex_case(void){
  char zOut[256];
  size_t nOut, nUsed;
  int bEnd;
  TT_CHECK( chunked_run("a\nabcdefghij\nA\r\nABCDEFGHIJ\r\n0\n\n", 1, zOut, &nOut, &nUsed, &bEnd)==CV_OK );
  TT_CHECK( strcmp(zOut, "abcdefghijABCDEFGHIJ")==0 && bEnd );
  TT_CHECK( chunked_run("00000003\r\nabc\r\n0\r\n\r\n", 2, zOut, &nOut, &nUsed, &bEnd)==CV_OK );
  TT_CHECK( strcmp(zOut, "abc")==0 && bEnd );
}

static void chunked_unfinished_is_not_end(void){
  char zOut[256];
  size_t nOut, nUsed;
  int bEnd;
  TT_CHECK( chunked_run("5\r\nHel", 1, zOut, &nOut, &nUsed, &bEnd)==CV_OK );
  TT_CHECK( strcmp(zOut, "Hel")==0 && !bEnd );
  TT_CHECK( chunked_run("5\r\nHello\r\n0\r\n", 3, zOut, &nOut, &nUsed, &bEnd)==CV_OK );
  TT_CHECK( !bEnd );                             /* the final blank line is missing */
}

static void chunked_rejects_garbage(void){
  static const char *const azBad[] = {
    "zz\r\nabc\r\n",                /* not hex */
    "\r\n",                         /* no size */
    "5\r\nHelloX\r\n",              /* no CRLF after the payload */
    "5\rX",                         /* CR not followed by LF */
    "1000000000000000\r\n",         /* 16 hex digits: over the cap */
    "-5\r\n",
    "5 x\r\n\x01",                  /* fine extension, then the payload, then no CRLF */
  };
  size_t i;
  for(i=0; i<sizeof azBad/sizeof azBad[0]; i++){
    char zOut[256];
    size_t nOut, nUsed;
    int bEnd;
    cv_rc rc = chunked_run(azBad[i], 1, zOut, &nOut, &nUsed, &bEnd);
    if( i==6 ){
      TT_CHECK( rc==CV_OK && !bEnd );          /* "5 x" ok, 1 byte of 5: not an error yet */
    }else{
      TT_CHECK( rc==CV_UPSTREAM );
    }
  }
  {
    /* an extension line longer than the cap */
    char *z = malloc(10000);
    char zOut[16];
    size_t nOut, nUsed;
    struct cv_chunked ch;
    memset(z, 'x', 10000);
    z[0] = '1'; z[1] = ';';
    sse_chunked_init(&ch);
    TT_CHECK( sse_chunked_decode(&ch, z, 10000, &nOut, &nUsed)==CV_UPSTREAM );
    TT_CHECK( sse_chunked_decode(&ch, zOut, 1, &nOut, &nUsed)==CV_UPSTREAM );  /* stays failed */
    free(z);
  }
}

/* ---------------------------------------------------------------------------------------
** event stream
*/

struct events {
  char a[8192];      /* "[type|data]" per event */
  size_t n;
  int nEvents;
  int nStopAt;       /* return CV_INVALID at this event (1-based), 0 = never */
};

static cv_rc on_event(void *pCtx, const char *zEvent, const char *zData, size_t nData){
  struct events *p = pCtx;
  int k = snprintf(p->a + p->n, sizeof p->a - p->n, "[%s|%.*s]", zEvent, (int)nData, zData);
  if( k>0 && (size_t)k < sizeof p->a - p->n ) p->n += (size_t)k;
  TT_CHECK( zData[nData]==0 );
  p->nEvents++;
  return p->nStopAt && p->nEvents==p->nStopAt ? CV_INVALID : CV_OK;
}

/* Parse z in pieces of nPiece bytes, then end the stream; events go to *pEv. */
static cv_rc sse_run(const char *z, size_t n, size_t nPiece, struct events *pEv, int bEnd){
  struct cv_sse s;
  size_t i;
  cv_rc rc = CV_OK;
  memset(pEv, 0, sizeof *pEv);
  sse_init(&s);
  for(i=0; i<n && rc==CV_OK; i+=nPiece){
    rc = sse_feed(&s, z + i, n - i < nPiece ? n - i : nPiece, on_event, pEv);
  }
  if( rc==CV_OK && bEnd ) rc = sse_end(&s, on_event, pEv);
  sse_free(&s);
  return rc;
}

static void sse_lines_at_every_split(void){
  static const char z[] =
    ": comment\r\n"
    "data: one\r\n\r\n"
    "event: add\n"
    "id: 7\n"
    "retry: 1000\n"
    "data:two\n"
    "data:  three\n\n"
    "data\r\r"                       /* a bare field name: empty data; CR-only line ends */
    "data: four\r\n\r\n"
    "\n\n\n";                        /* blank lines with no event: nothing */
  const char *zWant = "[|one][add|two\n three][|][|four]";
  size_t k;
  for(k=1; k<=sizeof z - 1; k++){
    struct events ev;
    TT_CHECK( sse_run(z, sizeof z - 1, k, &ev, 1)==CV_OK );
    TT_CHECK( strcmp(ev.a, zWant)==0 );
  }
}

static void sse_crlf_split_between_cr_and_lf(void){
  struct cv_sse s;
  struct events ev;
  memset(&ev, 0, sizeof ev);
  sse_init(&s);
  TT_CHECK( sse_feed(&s, "data: a\r", 8, on_event, &ev)==CV_OK );
  TT_CHECK( sse_feed(&s, "\n\r", 2, on_event, &ev)==CV_OK );   /* LF of the pair, then a blank line */
  TT_CHECK( ev.nEvents==1 && strcmp(ev.a, "[|a]")==0 );
  TT_CHECK( sse_feed(&s, "\n", 1, on_event, &ev)==CV_OK );     /* the blank line's LF: nothing */
  TT_CHECK( ev.nEvents==1 );
  sse_free(&s);
}

static void sse_end_flushes_unterminated_event(void){
  struct events ev;
  TT_CHECK( sse_run("data: [DONE]", 12, 1, &ev, 1)==CV_OK );
  TT_CHECK( strcmp(ev.a, "[|[DONE]]")==0 );
  TT_CHECK( sse_run("data: x\n", 8, 3, &ev, 1)==CV_OK && strcmp(ev.a, "[|x]")==0 );
  TT_CHECK( sse_run("data: x\n", 8, 3, &ev, 0)==CV_OK && ev.nEvents==0 );
}

static void sse_error_field_and_unknown_lines(void){
  struct cv_sse s;
  struct events ev;
  const char *z = "garbage here\nerror: {\"message\":\"boom\"}\n\nevent: x\nerror: e\n\n";
  memset(&ev, 0, sizeof ev);
  sse_init(&s);
  TT_CHECK( sse_feed(&s, z, strlen(z), on_event, &ev)==CV_OK );
  TT_CHECK( strcmp(ev.a, "[error|{\"message\":\"boom\"}][error|e]")==0 );
  TT_CHECK( s.nUnknown==1 );
  sse_free(&s);
}

static void sse_caps_and_callback_stop(void){
  struct events ev;
  size_t n = SSE_LINE_MAX + 10;
  char *z = malloc(n);
  memset(z, 'a', n);
  memcpy(z, "data: ", 6);
  TT_CHECK( sse_run(z, n, 4096, &ev, 0)==CV_TOOLARGE );
  TT_CHECK( sse_run(z, n, 1, &ev, 0)==CV_TOOLARGE );
  free(z);
  {
    /* many data lines: the event cap */
    size_t nLine = 1000, nLines = SSE_EVENT_MAX/nLine + 2, i;
    z = malloc(nLines*nLine);
    for(i=0; i<nLines; i++){
      memset(z + i*nLine, 'b', nLine - 1);
      memcpy(z + i*nLine, "data:", 5);
      z[i*nLine + nLine - 1] = '\n';
    }
    TT_CHECK( sse_run(z, nLines*nLine, 7777, &ev, 0)==CV_TOOLARGE );
    free(z);
  }
  {
    struct cv_sse s;
    const char *zTwo = "data: 1\n\ndata: 2\n\n";
    memset(&ev, 0, sizeof ev);
    ev.nStopAt = 1;
    sse_init(&s);
    TT_CHECK( sse_feed(&s, zTwo, strlen(zTwo), on_event, &ev)==CV_INVALID );
    TT_CHECK( ev.nEvents==1 );
    sse_free(&s);
  }
}

/* ---------------------------------------------------------------------------------------
** chat completions
*/

struct deltas {
  char a[4096];
  size_t n;
  int nDelta;
  int nStopAfter;    /* return 1 after this many deltas, 0 = never */
};

static int on_delta(void *pCtx, const char *z, size_t n){
  struct deltas *p = pCtx;
  if( n < sizeof p->a - p->n ){
    memcpy(p->a + p->n, z, n);
    p->n += n;
    p->a[p->n] = 0;
  }
  p->nDelta++;
  return p->nStopAfter && p->nDelta>=p->nStopAfter;
}

#define CHUNK(s) "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" s "\"},\"finish_reason\":null}]}\n\n"
#define ROLE     "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"finish_reason\":null}]}\n\n"
#define FINISH   "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
#define DONE     "data: [DONE]\n\n"

/* Decode the stream z in pieces of nPiece bytes then end it. Returns the final code;
** *pD has the deltas; zReply (if not NULL) gets the reply. */
static cv_rc chat_run(const char *z, size_t nPiece, struct deltas *pD, char *zReply,
                      size_t nReply){
  struct cv_chat c;
  size_t n = strlen(z), i;
  cv_rc rc = CV_OK;
  char *zTaken;
  int nStop = pD->nStopAfter;
  memset(pD, 0, sizeof *pD);
  pD->nStopAfter = nStop;
  sse_chat_init(&c, on_delta, pD);
  for(i=0; i<n && rc==CV_OK; i+=nPiece){
    rc = sse_chat_feed(&c, z + i, n - i < nPiece ? n - i : nPiece);
  }
  if( rc==CV_OK ) rc = sse_chat_end(&c);
  TT_CHECK( rc==c.rc );
  TT_CHECK( rc==CV_OK || c.zErr[0] );
  zTaken = sse_chat_take(&c);
  if( zReply ){
    snprintf(zReply, nReply, "%s", zTaken ? zTaken : "");
  }
  free(zTaken);
  sse_chat_free(&c);
  sse_chat_free(&c);   /* twice is safe */
  return rc;
}

static void chat_stream_at_every_split(void){
  static const char z[] = ": ping\n\n" ROLE CHUNK("Hel") CHUNK("lo, \\u00e9\\ud83d\\ude00")
                          CHUNK("") CHUNK("world\\n") FINISH DONE "data: ignored after done\n\n";
  size_t k;
  for(k=1; k<=sizeof z - 1; k++){
    struct deltas d;
    char zReply[256];
    memset(&d, 0, sizeof d);
    TT_CHECK( chat_run(z, k, &d, zReply, sizeof zReply)==CV_OK );
    TT_CHECK( strcmp(zReply, "Hello, \xC3\xA9\xF0\x9F\x98\x80world\n")==0 );
    TT_CHECK( strcmp(d.a, zReply)==0 );
    TT_CHECK( d.nDelta==3 );                    /* the empty content is no delta */
  }
}

static void chat_stream_crlf_and_no_space(void){
  const char *z = "data:{\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\r\n\r\n"
                  "data:{\"choices\":[{\"delta\":{\"content\":\"b\"},\"finish_reason\":\"length\"}]}\r\n\r\n";
  struct deltas d;
  char zReply[64];
  memset(&d, 0, sizeof d);
  /* no [DONE], but a finish_reason: complete */
  TT_CHECK( chat_run(z, 1, &d, zReply, sizeof zReply)==CV_OK );
  TT_CHECK( strcmp(zReply, "ab")==0 );
}

static void chat_delivers_pieces_as_they_complete(void){
  struct cv_chat c;
  struct deltas d;
  memset(&d, 0, sizeof d);
  sse_chat_init(&c, on_delta, &d);
  TT_CHECK( sse_chat_feed(&c, CHUNK("one"), strlen(CHUNK("one")) - 1)==CV_OK );
  TT_CHECK( d.nDelta==0 );                      /* the blank line has not come yet */
  TT_CHECK( sse_chat_feed(&c, "\n", 1)==CV_OK );
  TT_CHECK( d.nDelta==1 && strcmp(d.a, "one")==0 );
  TT_CHECK( sse_chat_feed(&c, CHUNK("two") DONE, strlen(CHUNK("two") DONE))==CV_OK );
  TT_CHECK( d.nDelta==2 && c.bDone );
  TT_CHECK( sse_chat_end(&c)==CV_OK );
  sse_chat_free(&c);
}

static void chat_client_gone_keeps_reading(void){
  struct deltas d;
  char zReply[64];
  memset(&d, 0, sizeof d);
  d.nStopAfter = 1;
  TT_CHECK( chat_run(CHUNK("a") CHUNK("b") CHUNK("c") DONE, 5, &d, zReply, sizeof zReply)==CV_OK );
  TT_CHECK( d.nDelta==1 && strcmp(d.a, "a")==0 );
  TT_CHECK( strcmp(zReply, "abc")==0 );
}

static void chat_failures(void){
  static const char *const azBad[] = {
    CHUNK("a") "data: {\"error\":{\"message\":\"rate limited\",\"type\":\"x\"}}\n\n" DONE,
    CHUNK("a") "event: error\ndata: {\"message\":\"overloaded\"}\n\n",
    CHUNK("a") "error: {\"code\":500,\"message\":\"the context is full\"}\n\n",
    CHUNK("a") "data: {not json\n\n" DONE,
    CHUNK("a") "data: [1,2]\n\n" DONE,
    CHUNK("a") CHUNK("b"),                                /* ends before [DONE] */
    ROLE DONE,                                            /* no content */
    DONE,
    "",
    "<html><body>502 Bad Gateway</body></html>\n",
    "\x01\xff\xfe garbage\n\n\n",
    "data: {\"choices\":[{\"delta\":{\"content\":\"\xff\xfe\"}}]}\n\n" DONE,  /* not UTF-8 */
    CHUNK("a") CHUNK("before\\u0000after") DONE,         /* U+0000 would cut the reply */
    CHUNK("before\\\\\\u0000") DONE,                   /* an escaped backslash, then U+0000 */
  };
  size_t i, k;
  for(i=0; i<sizeof azBad/sizeof azBad[0]; i++){
    for(k=1; k<=7; k+=3){
      struct deltas d;
      memset(&d, 0, sizeof d);
      TT_CHECK( chat_run(azBad[i], k, &d, NULL, 0)==CV_UPSTREAM );
    }
  }
}

static void chat_error_message_is_kept(void){
  struct cv_chat c;
  const char *z = "data: {\"error\":{\"message\":\"rate\\nlimited\"}}\n\n";
  sse_chat_init(&c, NULL, NULL);
  TT_CHECK( sse_chat_feed(&c, z, strlen(z))==CV_UPSTREAM );
  TT_CHECK( strstr(c.zErr, "rate limited")!=NULL );     /* control characters flattened */
  TT_CHECK( sse_chat_feed(&c, DONE, strlen(DONE))==CV_UPSTREAM );   /* stays failed */
  TT_CHECK( sse_chat_end(&c)==CV_UPSTREAM );
  sse_chat_free(&c);
}

static void chat_too_many_unknown_lines(void){
  struct cv_chat c;
  int i;
  cv_rc rc = CV_OK;
  sse_chat_init(&c, NULL, NULL);
  for(i=0; i<SSE_UNKNOWN_MAX+5 && rc==CV_OK; i++) rc = sse_chat_feed(&c, "junk\n", 5);
  TT_CHECK( rc==CV_UPSTREAM );
  sse_chat_free(&c);
}

static void chat_reply_cap(void){
  struct cv_chat c;
  char zEv[8192];
  int i, n;
  cv_rc rc = CV_OK;
  char zBig[4001];
  memset(zBig, 'x', 4000);
  zBig[4000] = 0;
  n = snprintf(zEv, sizeof zEv, "data: {\"choices\":[{\"delta\":{\"content\":\"%s\"}}]}\n\n", zBig);
  sse_chat_init(&c, NULL, NULL);
  for(i=0; i<SSE_REPLY_MAX/4000 + 2 && rc==CV_OK; i++) rc = sse_chat_feed(&c, zEv, (size_t)n);
  TT_CHECK( rc==CV_UPSTREAM );
  TT_CHECK( c.reply.n<=SSE_REPLY_MAX );
  sse_chat_free(&c);
}

static void chat_json_answer(void){
  struct cv_chat c;
  struct deltas d;
  char *z;
  const char *zOk = "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi there\"}}]}";
  const char *zErr = "{\"error\":{\"message\":\"model not found\"}}";
  memset(&d, 0, sizeof d);
  sse_chat_init(&c, on_delta, &d);
  TT_CHECK( sse_chat_json(&c, zOk, strlen(zOk))==CV_OK );
  TT_CHECK( d.nDelta==1 && strcmp(d.a, "Hi there")==0 );
  z = sse_chat_take(&c);
  TT_CHECK( z && strcmp(z, "Hi there")==0 );
  TT_CHECK( sse_chat_take(&c)==NULL );
  free(z);
  sse_chat_free(&c);

  sse_chat_init(&c, NULL, NULL);
  TT_CHECK( sse_chat_json(&c, zErr, strlen(zErr))==CV_UPSTREAM );
  TT_CHECK( strstr(c.zErr, "model not found")!=NULL );
  sse_chat_free(&c);

  sse_chat_init(&c, NULL, NULL);
  TT_CHECK( sse_chat_json(&c, "{\"choices\":[]}", 14)==CV_UPSTREAM );
  sse_chat_free(&c);
  sse_chat_init(&c, NULL, NULL);
  TT_CHECK( sse_chat_json(&c, "nope", 4)==CV_UPSTREAM );
  sse_chat_free(&c);
  {
    /* U+0000 in the answer: an upstream error, never a reply cut at the NUL */
    const char *zNul = "{\"choices\":[{\"message\":{\"content\":\"before\\u0000after\"}}]}";
    sse_chat_init(&c, NULL, NULL);
    TT_CHECK( sse_chat_json(&c, zNul, strlen(zNul))==CV_UPSTREAM );
    TT_CHECK( strstr(c.zErr, "U+0000")!=NULL );
    sse_chat_free(&c);
  }
}

/* "\\u0000" is a backslash and the text u0000: allowed, kept whole. */
static void chat_escaped_backslash_is_not_nul(void){
  struct deltas d;
  char zReply[64];
  memset(&d, 0, sizeof d);
  TT_CHECK( chat_run(CHUNK("a\\\\u0000b") DONE, 3, &d, zReply, sizeof zReply)==CV_OK );
  TT_CHECK( strcmp(zReply, "a\\u0000b")==0 );
}

static void error_messages(void){
  char z[64];
  const char *zA = "{\"error\":{\"message\":\"bad key\",\"type\":\"auth\"}}";
  sse_error_message(zA, strlen(zA), z, sizeof z);
  TT_CHECK( strcmp(z, "bad key")==0 );
  sse_error_message("{\"error\":\"plain\"}", 17, z, sizeof z);
  TT_CHECK( strcmp(z, "plain")==0 );
  sse_error_message("{\"detail\":\"Not Found\"}", 22, z, sizeof z);
  TT_CHECK( strcmp(z, "Not Found")==0 );
  sse_error_message("<html>\r\nBad Gateway\n", 20, z, sizeof z);
  TT_CHECK( strcmp(z, "<html> ")==0 );
  sse_error_message("", 0, z, sizeof z);
  TT_CHECK( z[0]==0 );
  /* a cut never splits a UTF-8 character */
  sse_error_message("\xC3\xA9\xC3\xA9\xC3\xA9", 6, z, 4);
  TT_CHECK( strcmp(z, "\xC3\xA9")==0 );
}

/* Random bytes and random splits through every decoder: no crash, no leak, no hang
** (ASan and UBSan watch). A fixed seed keeps it reproducible. */
static void random_input_survives(void){
  uint32_t seed = 12345;
  int iter;
  for(iter=0; iter<400; iter++){
    char a[2048];
    size_t n = 0, i;
    struct cv_chat c;
    struct cv_chunked ch;
    static const char *const azPart[] = {
      "data: ", "\n", "\r", "\r\n", "[DONE]", "{\"choices\":[{\"delta\":{\"content\":\"x\"}}]}",
      "error: ", "event: error\n", ":", "{", "\"", "\\u", "\xff", "0\r\n", "5;x\r\n",
    };
    while( n < sizeof a - 64 ){
      seed = seed*1103515245u + 12345u;
      if( (seed>>16)%3==0 ){
        a[n++] = (char)(seed>>8);
      }else{
        const char *z = azPart[(seed>>16) % (sizeof azPart/sizeof azPart[0])];
        size_t k = strlen(z);
        memcpy(a + n, z, k);
        n += k;
      }
      if( (seed>>20)%50==0 ) break;
    }
    sse_chat_init(&c, on_delta, &(struct deltas){0});
    for(i=0; i<n; ){
      size_t k;
      seed = seed*1103515245u + 12345u;
      k = 1 + (seed>>16)%17;
      if( k > n - i ) k = n - i;
      (void)sse_chat_feed(&c, a + i, k);
      i += k;
    }
    (void)sse_chat_end(&c);
    free(sse_chat_take(&c));
    sse_chat_free(&c);
    sse_chat_init(&c, NULL, NULL);
    (void)sse_chat_json(&c, a, n);
    sse_chat_free(&c);
    sse_chunked_init(&ch);
    {
      size_t nOut, nUsed;
      (void)sse_chunked_decode(&ch, a, n, &nOut, &nUsed);
      TT_CHECK( nOut<=n && nUsed<=n );
    }
  }
}

int main(void){
  TT_RUN(chunked_decodes_at_every_split);
  TT_RUN(chunked_accepts_bare_lf_and_hex_case);
  TT_RUN(chunked_unfinished_is_not_end);
  TT_RUN(chunked_rejects_garbage);
  TT_RUN(sse_lines_at_every_split);
  TT_RUN(sse_crlf_split_between_cr_and_lf);
  TT_RUN(sse_end_flushes_unterminated_event);
  TT_RUN(sse_error_field_and_unknown_lines);
  TT_RUN(sse_caps_and_callback_stop);
  TT_RUN(chat_stream_at_every_split);
  TT_RUN(chat_stream_crlf_and_no_space);
  TT_RUN(chat_delivers_pieces_as_they_complete);
  TT_RUN(chat_client_gone_keeps_reading);
  TT_RUN(chat_failures);
  TT_RUN(chat_error_message_is_kept);
  TT_RUN(chat_too_many_unknown_lines);
  TT_RUN(chat_reply_cap);
  TT_RUN(chat_json_answer);
  TT_RUN(chat_escaped_backslash_is_not_nul);
  TT_RUN(error_messages);
  TT_RUN(random_input_survives);
  return TT_DONE();
}
