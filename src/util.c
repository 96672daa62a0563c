/*
** util.c — clocks, ISO-8601 times, UTF-8, UUIDs, base64url, automatic titles and the
** bounded buffer. Pure functions over memory; may call libc and libsodium's randombytes.
*/
#include "util.h"

#include <assert.h>
#include <ctype.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t util_now_ms(void){
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec*1000 + ts.tv_nsec/1000000;
}

int64_t util_mono_us(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec*1000000 + ts.tv_nsec/1000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d){
  int64_t era, yoe, doy, doe;
  y -= m<=2;
  era = (y>=0 ? y : y-399)/400;
  yoe = y - era*400;
  doy = (153*(m + (m>2 ? -3 : 9)) + 2)/5 + d - 1;
  doe = yoe*365 + yoe/4 - yoe/100 + doy;
  return era*146097 + doe - 719468;
}

void util_iso_format(int64_t ms, char *zOut){
  time_t secs = (time_t)(ms>=0 ? ms/1000 : (ms-999)/1000);
  unsigned msPart = (unsigned)(ms - (int64_t)secs*1000) % 1000u;
  struct tm tm;
  unsigned y;
  unsigned aField[7];
  static const unsigned char aWidth[7] = { 4, 2, 2, 2, 2, 2, 3 };
  static const char aAfter[7] = { '-', '-', 'T', ':', ':', '.', 'Z' };
  int i, k, j = 0;
  gmtime_r(&secs, &tm);
  y = (unsigned)(tm.tm_year + 1900) % 10000u;
  /* "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ" by hand: a snprintf was a tenth of import-legacy's
  ** parsing time (two per chat) */
  aField[0] = y;
  aField[1] = (unsigned)(tm.tm_mon+1)%100u;
  aField[2] = (unsigned)tm.tm_mday%100u;
  aField[3] = (unsigned)tm.tm_hour%100u;
  aField[4] = (unsigned)tm.tm_min%100u;
  aField[5] = (unsigned)tm.tm_sec%100u;
  aField[6] = msPart;
  for(i=0; i<7; i++){
    unsigned v = aField[i];
    for(k=aWidth[i]-1; k>=0; k--){ zOut[j+k] = (char)('0' + v%10u); v /= 10u; }
    j += aWidth[i];
    zOut[j++] = aAfter[i];
  }
  assert( j==CV_TS_LEN );
  zOut[j] = 0;
}

/* Read exactly n digits at *pz into *pv; advance. 0 on failure. */
static int digits(const char **pz, int n, int *pv){
  int v = 0, i;
  for(i=0; i<n; i++){
    if( !isdigit((unsigned char)(*pz)[i]) ) return 0;
    v = v*10 + ((*pz)[i]-'0');
  }
  *pz += n;
  *pv = v;
  return 1;
}

cv_rc util_iso_parse(const char *z, int64_t *pMs){
  int y, mo, d, h = 0, mi = 0, s = 0, frac = 0, fracDigits = 0;
  int64_t ms, offMin = 0;
  static const int mdays[] = {31,29,31,30,31,30,31,31,30,31,30,31};
  if( !z ) return CV_INVALID;
  if( !digits(&z, 4, &y) || *z++!='-' || !digits(&z, 2, &mo) || *z++!='-'
   || !digits(&z, 2, &d) ) return CV_INVALID;
  if( mo<1 || mo>12 || d<1 || d>mdays[mo-1] ) return CV_INVALID;
  if( mo==2 && d==29 && !((y%4==0 && y%100!=0) || y%400==0) ) return CV_INVALID;
  if( *z=='T' || *z=='t' || *z==' ' ){
    z++;
    if( !digits(&z, 2, &h) || *z++!=':' || !digits(&z, 2, &mi) ) return CV_INVALID;
    if( *z==':' ){
      z++;
      if( !digits(&z, 2, &s) ) return CV_INVALID;
      if( *z=='.' || *z==',' ){
        z++;
        if( !isdigit((unsigned char)*z) ) return CV_INVALID;
        while( isdigit((unsigned char)*z) ){
          if( fracDigits<3 ){ frac = frac*10 + (*z-'0'); fracDigits++; }
          z++;
        }
        while( fracDigits<3 ){ frac *= 10; fracDigits++; }
      }
    }
    if( h>23 || mi>59 || s>60 ) return CV_INVALID;
    if( s==60 ) s = 59;  /* a leap second is kept inside its minute */
    if( *z=='Z' || *z=='z' ){
      z++;
    }else if( *z=='+' || *z=='-' ){
      int sign = *z=='-' ? -1 : 1, oh, om = 0;
      z++;
      if( !digits(&z, 2, &oh) ) return CV_INVALID;
      if( *z==':' ) z++;
      if( isdigit((unsigned char)*z) && !digits(&z, 2, &om) ) return CV_INVALID;
      if( oh>23 || om>59 ) return CV_INVALID;
      offMin = sign*(oh*60 + om);
    }
  }
  if( *z ) return CV_INVALID;
  ms = days_from_civil(y, mo, d)*86400000LL
     + ((int64_t)h*3600 + mi*60 + s)*1000 + frac - offMin*60000;
  if( ms<UTIL_ISO_MIN_MS || ms>UTIL_ISO_MAX_MS ) return CV_INVALID;
  *pMs = ms;
  return CV_OK;
}

int util_utf8_valid(const char *zIn, size_t n){
  const unsigned char *z = (const unsigned char*)zIn;
  size_t i = 0;
  while( i<n ){
    unsigned c = z[i];
    if( c<0x80 ){
      if( c==0 ) return 0;
      i++;
      continue;
    }
    if( c>=0xC2 && c<=0xDF ){
      if( i+1>=n || (z[i+1]&0xC0)!=0x80 ) return 0;
      i += 2;
    }else if( c>=0xE0 && c<=0xEF ){
      unsigned c1;
      if( i+2>=n ) return 0;
      c1 = z[i+1];
      if( (c1&0xC0)!=0x80 || (z[i+2]&0xC0)!=0x80 ) return 0;
      if( c==0xE0 && c1<0xA0 ) return 0;          /* overlong */
      if( c==0xED && c1>=0xA0 ) return 0;         /* UTF-16 surrogate */
      i += 3;
    }else if( c>=0xF0 && c<=0xF4 ){
      unsigned c1;
      if( i+3>=n ) return 0;
      c1 = z[i+1];
      if( (c1&0xC0)!=0x80 || (z[i+2]&0xC0)!=0x80 || (z[i+3]&0xC0)!=0x80 ) return 0;
      if( c==0xF0 && c1<0x90 ) return 0;          /* overlong */
      if( c==0xF4 && c1>=0x90 ) return 0;         /* above U+10FFFF */
      i += 4;
    }else{
      return 0;
    }
  }
  return 1;
}

size_t util_utf8_chars(const char *z){
  size_t n = 0;
  for(; *z; z++){
    if( ((unsigned char)*z & 0xC0)!=0x80 ) n++;
  }
  return n;
}

size_t util_utf8_prefix_len(const char *z, size_t nChars){
  size_t i = 0, seen = 0;
  while( z[i] ){
    if( ((unsigned char)z[i] & 0xC0)!=0x80 ){
      if( seen==nChars ) break;
      seen++;
    }
    i++;
  }
  return i;
}

void util_random(void *a, size_t n){
  randombytes_buf(a, n);
}

void util_uuid4(char *zOut){
  unsigned char a[16];
  static const char hex[] = "0123456789abcdef";
  int i, j = 0;
  randombytes_buf(a, sizeof a);
  a[6] = (a[6] & 0x0F) | 0x40;
  a[8] = (a[8] & 0x3F) | 0x80;
  for(i=0; i<16; i++){
    if( i==4 || i==6 || i==8 || i==10 ) zOut[j++] = '-';
    zOut[j++] = hex[a[i]>>4];
    zOut[j++] = hex[a[i]&15];
  }
  zOut[j] = 0;
}

int util_uuid_valid(const char *z){
  int i;
  for(i=0; i<36; i++){
    if( i==8 || i==13 || i==18 || i==23 ){
      if( z[i]!='-' ) return 0;
    }else if( !isxdigit((unsigned char)z[i]) ){
      return 0;
    }
  }
  return z[36]==0;
}

void util_base64url(const unsigned char *a, size_t n, char *zOut){
  sodium_bin2base64(zOut, sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                    a, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

char *util_auto_title(const char *z, cv_rc *pRc){
  const char *zEnd;
  size_t nLine, nChars, nCut;
  char *zOut;
  *pRc = CV_OK;
  /* first non-blank line */
  for(;;){
    while( *z==' ' || *z=='\t' || *z=='\r' || *z=='\f' || *z=='\v' ) z++;
    if( *z=='\n' ){ z++; continue; }
    break;
  }
  if( !*z ) return NULL;
  zEnd = strchr(z, '\n');
  nLine = zEnd ? (size_t)(zEnd - z) : strlen(z);
  while( nLine>0 && isspace((unsigned char)z[nLine-1]) ) nLine--;
  {
    /* count characters of the line */
    size_t i;
    nChars = 0;
    for(i=0; i<nLine; i++) if( ((unsigned char)z[i]&0xC0)!=0x80 ) nChars++;
  }
  if( nChars<=CV_AUTO_TITLE_CHARS ){
    zOut = malloc(nLine+1);
    if( !zOut ){ *pRc = CV_NOMEM; return NULL; }
    memcpy(zOut, z, nLine);
    zOut[nLine] = 0;
    return zOut;
  }
  /* cut to 60 characters, then back to the last word boundary when there is one */
  nCut = util_utf8_prefix_len(z, CV_AUTO_TITLE_CHARS);
  if( z[nCut]!=' ' && z[nCut]!='\t' ){
    size_t k = nCut;
    while( k>0 && z[k-1]!=' ' && z[k-1]!='\t' ) k--;
    if( k>0 ) nCut = k;
  }
  while( nCut>0 && (z[nCut-1]==' ' || z[nCut-1]=='\t') ) nCut--;
  if( nCut==0 ) nCut = util_utf8_prefix_len(z, CV_AUTO_TITLE_CHARS);
  zOut = malloc(nCut + 4);
  if( !zOut ){ *pRc = CV_NOMEM; return NULL; }
  memcpy(zOut, z, nCut);
  memcpy(zOut+nCut, "\xE2\x80\xA6", 4);  /* "…" and the NUL */
  return zOut;
}

void buf_init(struct cv_buf *b, size_t nMax){
  b->a = NULL;
  b->n = 0;
  b->nAlloc = 0;
  b->nMax = nMax;
}

cv_rc buf_append(struct cv_buf *b, const void *p, size_t n){
  if( n > b->nMax - b->n ) return CV_TOOLARGE;
  if( b->n + n + 1 > b->nAlloc ){
    size_t nNew = b->nAlloc ? b->nAlloc*2 : 256;
    char *aNew;
    while( nNew < b->n + n + 1 ) nNew *= 2;
    aNew = realloc(b->a, nNew);
    if( !aNew ) return CV_NOMEM;
    b->a = aNew;
    b->nAlloc = nNew;
  }
  if( n ) memcpy(b->a + b->n, p, n);
  b->n += n;
  b->a[b->n] = 0;
  return CV_OK;
}

cv_rc buf_appendf(struct cv_buf *b, const char *zFmt, ...){
  char zSmall[512];
  va_list ap;
  int n;
  va_start(ap, zFmt);
  n = vsnprintf(zSmall, sizeof zSmall, zFmt, ap);
  va_end(ap);
  if( n<0 ) return CV_INVALID;
  if( (size_t)n < sizeof zSmall ) return buf_append(b, zSmall, (size_t)n);
  {
    char *z = malloc((size_t)n+1);
    cv_rc rc;
    if( !z ) return CV_NOMEM;
    va_start(ap, zFmt);
    vsnprintf(z, (size_t)n+1, zFmt, ap);
    va_end(ap);
    rc = buf_append(b, z, (size_t)n);
    free(z);
    return rc;
  }
}

cv_rc buf_append_int(struct cv_buf *b, int64_t v){
  char z[24];
  int i = (int)sizeof z;
  /* the magnitude as unsigned: -INT64_MIN does not fit an int64_t */
  uint64_t u = v<0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do{ z[--i] = (char)('0' + u%10u); u /= 10u; }while( u );
  if( v<0 ) z[--i] = '-';
  return buf_append(b, z + i, sizeof z - (size_t)i);
}

void buf_free(struct cv_buf *b){
  free(b->a);
  buf_init(b, b->nMax);
}

cv_rc sink_write(struct cv_sink *p, const char *z, size_t n){
  return n ? p->xWrite(p->pCtx, z, n) : CV_OK;
}

cv_rc sink_printf(struct cv_sink *p, const char *zFmt, ...){
  char z[512];
  va_list ap;
  int n;
  va_start(ap, zFmt);
  n = vsnprintf(z, sizeof z, zFmt, ap);
  va_end(ap);
  if( n<0 || (size_t)n>=sizeof z ) return CV_INVALID;   /* callers print short fields only */
  return sink_write(p, z, (size_t)n);
}

static cv_rc buf_sink_write(void *pCtx, const char *z, size_t n){
  return buf_append((struct cv_buf*)pCtx, z, n);
}

void sink_to_buf(struct cv_sink *p, struct cv_buf *b){
  p->xWrite = buf_sink_write;
  p->pCtx = b;
}
