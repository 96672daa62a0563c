/*
** fuzz_sse.c — the upstream decoders of sse.h on hostile upstream bytes.
** Input: byte 0 picks the piece size used to split the rest (1..64, as a socket might),
** the rest is the upstream body. Properties:
**   - chunked decoding, the event stream and the chat decoder give the same result (code,
**     events, reply, deltas) whether the body comes whole or in pieces;
**   - a decoded reply is valid UTF-8 and never over SSE_REPLY_MAX; the deltas joined are
**     exactly the reply;
**   - sse_error_message always writes a NUL-terminated string without control characters.
*/
#include "fuzz_common.h"
#include "sse.h"

#include <stdint.h>

/* ---- chunked ---------------------------------------------------------------------- */
static cv_rc chunked_run(const unsigned char *a, size_t n, size_t nPiece, struct cv_buf *pOut, int *pbEnd){
  struct cv_chunked ch;
  size_t i = 0;
  cv_rc rc = CV_OK;
  char *z = malloc(n + 1);
  FZ_CHECK( z!=NULL );
  memcpy(z, a, n);
  sse_chunked_init(&ch);
  while( i<n && !ch.bEnd ){
    size_t k = n - i < nPiece ? n - i : nPiece, nOut = 0, nUsed = 0;
    rc = sse_chunked_decode(&ch, z + i, k, &nOut, &nUsed);
    if( rc ) break;
    FZ_CHECK( nOut<=nUsed && nUsed<=k );
    FZ_CHECK( nUsed==k || ch.bEnd );
    FZ_CHECK( buf_append(pOut, z + i, nOut)==CV_OK );
    i += nUsed;
  }
  *pbEnd = ch.bEnd;
  free(z);
  return rc;
}

/* ---- event stream ------------------------------------------------------------------ */
static cv_rc on_event(void *pCtx, const char *zEvent, const char *zData, size_t nData){
  struct cv_buf *b = pCtx;
  FZ_CHECK( strlen(zEvent)<32 );
  FZ_CHECK( zData[nData]==0 );
  FZ_CHECK( nData<=SSE_EVENT_MAX );
  if( buf_append(b, zEvent, strlen(zEvent)+1)!=CV_OK ) return CV_TOOLARGE;
  if( buf_append(b, zData, nData)!=CV_OK ) return CV_TOOLARGE;
  if( buf_append(b, "\x01", 1)!=CV_OK ) return CV_TOOLARGE;
  return CV_OK;
}
static cv_rc sse_run(const unsigned char *a, size_t n, size_t nPiece, struct cv_buf *pOut){
  struct cv_sse s;
  size_t i = 0;
  cv_rc rc = CV_OK;
  sse_init(&s);
  while( i<n && rc==CV_OK ){
    size_t k = n - i < nPiece ? n - i : nPiece;
    rc = sse_feed(&s, (const char*)a + i, k, on_event, pOut);
    i += k;
  }
  if( rc==CV_OK ) rc = sse_end(&s, on_event, pOut);
  sse_free(&s);
  sse_free(&s);    /* documented as safe twice */
  return rc;
}

/* ---- chat -------------------------------------------------------------------------- */
struct deltas { struct cv_buf b; int nCalls; };
static int on_delta(void *pCtx, const char *z, size_t n){
  struct deltas *d = pCtx;
  FZ_CHECK( buf_append(&d->b, z, n)==CV_OK );
  d->nCalls++;
  return 0;
}
static cv_rc chat_run(const unsigned char *a, size_t n, size_t nPiece, char **pzReply,
                      struct deltas *d){
  struct cv_chat c;
  size_t i = 0;
  cv_rc rc = CV_OK;
  sse_chat_init(&c, on_delta, d);
  while( i<n ){
    size_t k = n - i < nPiece ? n - i : nPiece;
    rc = sse_chat_feed(&c, (const char*)a + i, k);
    FZ_CHECK( rc==c.rc );
    FZ_CHECK( memchr(c.zErr, 0, sizeof c.zErr)!=NULL );
    if( rc ) break;
    i += k;
  }
  if( rc==CV_OK ) rc = sse_chat_end(&c);
  *pzReply = sse_chat_take(&c);
  sse_chat_free(&c);
  sse_chat_free(&c);
  return rc;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n){
  size_t nPiece;
  if( n<1 || n>(1u<<20) ) return 0;
  nPiece = (size_t)(data[0] % 64) + 1;
  data++; n--;

  { /* chunked: whole vs pieces */
    struct cv_buf b1, b2;
    int e1, e2;
    cv_rc r1, r2;
    buf_init(&b1, n + 1);
    buf_init(&b2, n + 1);
    r1 = chunked_run(data, n, n ? n : 1, &b1, &e1);
    r2 = chunked_run(data, n, nPiece, &b2, &e2);
    FZ_CHECK( r1==r2 );
    FZ_CHECK( e1==e2 );
    if( r1==CV_OK ) FZ_CHECK( b1.n==b2.n && (b1.n==0 || memcmp(b1.a, b2.a, b1.n)==0) );
    buf_free(&b1);
    buf_free(&b2);
  }
  { /* event stream: whole vs pieces */
    struct cv_buf b1, b2;
    cv_rc r1, r2;
    buf_init(&b1, (size_t)8 << 20);
    buf_init(&b2, (size_t)8 << 20);
    r1 = sse_run(data, n, n ? n : 1, &b1);
    r2 = sse_run(data, n, nPiece, &b2);
    FZ_CHECK( r1==r2 );
    FZ_CHECK( b1.n==b2.n && (b1.n==0 || memcmp(b1.a, b2.a, b1.n)==0) );
    buf_free(&b1);
    buf_free(&b2);
  }
  { /* chat chunks: whole vs pieces; the deltas make the reply */
    struct deltas d1, d2;
    char *z1, *z2;
    cv_rc r1, r2;
    buf_init(&d1.b, (size_t)4 << 20); d1.nCalls = 0;
    buf_init(&d2.b, (size_t)4 << 20); d2.nCalls = 0;
    r1 = chat_run(data, n, n ? n : 1, &z1, &d1);
    r2 = chat_run(data, n, nPiece, &z2, &d2);
    FZ_CHECK( r1==r2 );
    FZ_CHECK( (z1==NULL)==(z2==NULL) );
    if( z1 ){
      size_t nz = strlen(z1);
      FZ_CHECK( strcmp(z1, z2)==0 );
      FZ_CHECK( nz<=SSE_REPLY_MAX );
      FZ_CHECK( fz_utf8_ref((const unsigned char*)z1, nz, NULL) );
      FZ_CHECK( d1.b.n==nz && (nz==0 || memcmp(d1.b.a, z1, nz)==0) );
    }
    FZ_CHECK( d1.b.n==d2.b.n && (d1.b.n==0 || memcmp(d1.b.a, d2.b.a, d1.b.n)==0) );
    free(z1);
    free(z2);
    buf_free(&d1.b);
    buf_free(&d2.b);
  }
  { /* non-streamed answer */
    struct cv_chat c;
    struct deltas d;
    char *z;
    cv_rc rc;
    buf_init(&d.b, (size_t)4 << 20); d.nCalls = 0;
    sse_chat_init(&c, on_delta, &d);
    rc = sse_chat_json(&c, (const char*)data, n);
    FZ_CHECK( rc==CV_OK || rc==CV_UPSTREAM || rc==CV_NOMEM );
    z = sse_chat_take(&c);
    if( rc==CV_OK ){
      FZ_CHECK( z!=NULL );
      FZ_CHECK( fz_utf8_ref((const unsigned char*)z, strlen(z), NULL) );
    }
    free(z);
    sse_chat_free(&c);
    buf_free(&d.b);
  }
  { /* error message extraction */
    char zMsg[64];
    size_t k, m;
    memset(zMsg, 'x', sizeof zMsg);
    sse_error_message((const char*)data, n, zMsg, sizeof zMsg);
    m = strnlen(zMsg, sizeof zMsg);
    FZ_CHECK( m<sizeof zMsg );
    for(k=0; k<m; k++) FZ_CHECK( (unsigned char)zMsg[k]>=0x20 );
  }
  return 0;
}
