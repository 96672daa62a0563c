/*
** cursor.c — see cursor.h. base64url is written and read here rather than with libsodium so
** that the decoder's strictness (no padding, zero trailing bits: one text per cursor) is
** visible in one place.
*/
#include "cursor.h"
#include "util.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static const char zB64[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Bytes of the longest payload: "t1|" + time + "|" + 19 digits + "|" + 2 flags + "|" + tag. */
#define PAYLOAD_MAX (3 + CV_TS_LEN + 1 + 19 + 1 + 2 + 1 + CV_TAG_MAX_LEN)

static int b64val(char c){
  const char *p = c ? strchr(zB64, c) : NULL;
  return p ? (int)(p - zB64) : -1;
}

/* 1 when z is exactly the contract's time shape "dddd-dd-ddTdd:dd:dd.dddZ". */
static int is_time(const char *z, size_t n){
  static const char zShape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
  size_t i;
  if( n!=CV_TS_LEN ) return 0;
  for(i=0; i<n; i++){
    if( zShape[i]=='d' ? (z[i]<'0' || z[i]>'9') : z[i]!=zShape[i] ) return 0;
  }
  return 1;
}

static int kind_ok(char c){
  return c==CV_CURSOR_THREADS || c==CV_CURSOR_CHATS || c==CV_CURSOR_CHARACTERS
      || c==CV_CURSOR_SCENES || c==CV_CURSOR_PERSONAS || c==CV_CURSOR_SHARED;
}

/* 1 when *p has the fields its kind needs, and only those. */
static int cursor_ok(const struct cv_cursor *p){
  int bTimed = p->cKind==CV_CURSOR_THREADS || p->cKind==CV_CURSOR_CHATS
            || p->cKind==CV_CURSOR_SHARED;
  size_t nKey = strnlen(p->zKey, sizeof p->zKey), nTag = strnlen(p->zTag, sizeof p->zTag);
  if( !kind_ok(p->cKind) || p->id<=0 || nKey>=sizeof p->zKey || nTag>=sizeof p->zTag ) return 0;
  if( bTimed ? !is_time(p->zKey, nKey) : nKey!=0 ) return 0;
  if( p->cKind==CV_CURSOR_THREADS ){
    if( !strchr("fta", p->cArchived) || !p->cArchived ) return 0;
    if( !strchr("-tf", p->cPinned) || !p->cPinned ) return 0;
    if( nTag && !util_utf8_valid(p->zTag, nTag) ) return 0;
  }else if( p->cArchived || p->cPinned || nTag ){
    return 0;
  }
  return 1;
}

cv_rc cursor_encode(const struct cv_cursor *p, char *zOut, size_t nOut){
  char zPay[PAYLOAD_MAX+1];
  int nPay;
  size_t i, j = 0;
  if( !cursor_ok(p) ){ assert( 0 ); return CV_INVALID; }
  if( p->cKind==CV_CURSOR_THREADS ){
    nPay = snprintf(zPay, sizeof zPay, "t1|%s|%lld|%c%c|%s", p->zKey, (long long)p->id,
                    p->cArchived, p->cPinned, p->zTag);
  }else{
    nPay = snprintf(zPay, sizeof zPay, "%c1|%s|%lld", p->cKind, p->zKey, (long long)p->id);
  }
  if( nPay<0 || (size_t)nPay>=sizeof zPay ) return CV_INVALID;
  if( ((size_t)nPay*4 + 2)/3 + 1 > nOut ) return CV_TOOLARGE;
  for(i=0; i<(size_t)nPay; i+=3){
    unsigned v = (unsigned)(unsigned char)zPay[i]<<16;
    size_t k = (size_t)nPay - i;
    if( k>1 ) v |= (unsigned)(unsigned char)zPay[i+1]<<8;
    if( k>2 ) v |= (unsigned char)zPay[i+2];
    zOut[j++] = zB64[(v>>18) & 63];
    zOut[j++] = zB64[(v>>12) & 63];
    if( k>1 ) zOut[j++] = zB64[(v>>6) & 63];
    if( k>2 ) zOut[j++] = zB64[v & 63];
  }
  zOut[j] = 0;
  return CV_OK;
}

/* Decode base64url z[0..n) (no padding, zero trailing bits) into a (room for nMax bytes).
** Returns the decoded length or -1. */
static long b64_decode(const char *z, size_t n, char *a, size_t nMax){
  size_t i, j = 0;
  unsigned acc = 0;
  int nBits = 0;
  if( n%4==1 ) return -1;
  for(i=0; i<n; i++){
    int v = b64val(z[i]);
    if( v<0 ) return -1;
    acc = (acc<<6) | (unsigned)v;
    nBits += 6;
    if( nBits>=8 ){
      nBits -= 8;
      if( j>=nMax ) return -1;
      a[j++] = (char)((acc>>nBits) & 0xFF);
    }
  }
  if( nBits>0 && (acc & ((1u<<nBits)-1))!=0 ) return -1;   /* not canonical */
  return (long)j;
}

/* Parse a canonical positive decimal id from z[0..n). */
static int parse_id(const char *z, size_t n, int64_t *pId){
  int64_t v = 0;
  size_t i;
  if( n==0 || n>18 || z[0]=='0' ) return 0;
  for(i=0; i<n; i++){
    if( z[i]<'0' || z[i]>'9' ) return 0;
    v = v*10 + (z[i] - '0');
  }
  *pId = v;
  return 1;
}

/* cursor_decode's parse; *pOut is left partly filled on CV_INVALID. */
static cv_rc decode(const char *z, struct cv_cursor *pOut){
  char zPay[PAYLOAD_MAX+1];
  const char *p, *zEnd, *zBar;
  size_t n = strlen(z);
  long nPay;
  memset(pOut, 0, sizeof *pOut);
  if( n==0 || n>CV_CURSOR_MAX_LEN ) return CV_INVALID;
  nPay = b64_decode(z, n, zPay, PAYLOAD_MAX);
  if( nPay<4 || memchr(zPay, 0, (size_t)nPay) ) return CV_INVALID;
  zPay[nPay] = 0;
  zEnd = zPay + nPay;
  if( !kind_ok(zPay[0]) || zPay[1]!='1' || zPay[2]!='|' ) return CV_INVALID;
  pOut->cKind = zPay[0];
  p = zPay + 3;
  zBar = memchr(p, '|', (size_t)(zEnd - p));           /* the key */
  if( !zBar || (size_t)(zBar - p)>CV_TS_LEN ) return CV_INVALID;
  memcpy(pOut->zKey, p, (size_t)(zBar - p));
  p = zBar + 1;
  if( pOut->cKind==CV_CURSOR_THREADS ){
    zBar = memchr(p, '|', (size_t)(zEnd - p));         /* the id */
    if( !zBar || !parse_id(p, (size_t)(zBar - p), &pOut->id) ) return CV_INVALID;
    p = zBar + 1;
    if( zEnd - p < 3 || p[2]!='|' ) return CV_INVALID;  /* the flags */
    pOut->cArchived = p[0];
    pOut->cPinned = p[1];
    p += 3;
    if( (size_t)(zEnd - p)>CV_TAG_MAX_LEN ) return CV_INVALID;
    memcpy(pOut->zTag, p, (size_t)(zEnd - p));
  }else{
    if( !parse_id(p, (size_t)(zEnd - p), &pOut->id) ) return CV_INVALID;
  }
  return cursor_ok(pOut) ? CV_OK : CV_INVALID;
}

cv_rc cursor_decode(const char *z, struct cv_cursor *pOut){
  cv_rc rc = decode(z, pOut);
  if( rc ) memset(pOut, 0, sizeof *pOut);   /* nothing of a refused cursor is used */
  return rc;
}

size_t cursor_header(const struct cv_cursor *p, char *zOut, size_t nOut){
  char zCur[CV_CURSOR_MAX_LEN];
  int n;
  if( nOut>0 ) zOut[0] = 0;
  if( cursor_encode(p, zCur, sizeof zCur)!=CV_OK ) return 0;
  n = snprintf(zOut, nOut, "X-Next-Cursor: %s\r\n", zCur);
  if( n<0 || (size_t)n>=nOut ){
    if( nOut>0 ) zOut[0] = 0;
    return 0;
  }
  return (size_t)n;
}
