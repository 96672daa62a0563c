/* test_util.c — unit tests of src/util.c: times, UTF-8, UUIDs, base64url, titles, buffers. */
#include "tinytest.h"
#include "util.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

static void iso_roundtrip(void){
  char z[CV_TS_LEN+1];
  int64_t ms = 0;
  util_iso_format(1795255200123LL, z);
  TT_CHECK( strcmp(z, "2026-11-21T10:00:00.123Z")==0 );
  TT_CHECK( util_iso_parse(z, &ms)==CV_OK && ms==1795255200123LL );
  TT_CHECK( util_iso_parse("2026-11-21T12:00:00.123+02:00", &ms)==CV_OK && ms==1795255200123LL );
  TT_CHECK( util_iso_parse("2026-11-21T10:00:00.1234567", &ms)==CV_OK && ms==1795255200123LL );
  TT_CHECK( util_iso_parse("2026-11-21 10:00", &ms)==CV_OK && ms==1795255200000LL );
  TT_CHECK( util_iso_parse("2026-11-21", &ms)==CV_OK && ms==1795219200000LL );
  TT_CHECK( util_iso_parse("2026-11-21T09:00:00-0100", &ms)==CV_OK && ms==1795255200000LL );
  TT_CHECK( util_iso_parse("1970-01-01T00:00:00Z", &ms)==CV_OK && ms==0 );
  util_iso_format(0, z);
  TT_CHECK( strcmp(z, "1970-01-01T00:00:00.000Z")==0 );
}

/* The hand-written formatter agrees with snprintf on 200,000 random times from year 0000 to
** 9999 and on the ends, and every one parses back to itself. */
static void iso_format_matches_snprintf(void){
  static const int64_t aEnd[] = { UTIL_ISO_MAX_MS, -62167219200000LL, 0, 999, -1 + 1000 };
  char z[CV_TS_LEN+1], zRef[64];
  int i, nBad = 0;
  uint64_t r = 0x9E3779B97F4A7C15ULL;
  for(i=0; i<200000 + 5; i++){
    int64_t ms, back = -1;
    time_t secs;
    struct tm tm;
    if( i<5 ){
      ms = aEnd[i];
    }else{
      r ^= r<<13; r ^= r>>7; r ^= r<<17;
      ms = -62167219200000LL + (int64_t)(r % (uint64_t)(UTIL_ISO_MAX_MS + 62167219200001LL));
    }
    secs = (time_t)(ms>=0 ? ms/1000 : (ms-999)/1000);
    gmtime_r(&secs, &tm);
    snprintf(zRef, sizeof zRef, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year+1900,
             tm.tm_mon+1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(ms - (int64_t)secs*1000));
    util_iso_format(ms, z);
    if( strcmp(z, zRef)!=0 || util_iso_parse(z, &back)!=CV_OK || back!=ms ){
      if( nBad++<3 ) fprintf(stderr, "  %lld: %s vs %s\n", (long long)ms, z, zRef);
    }
  }
  TT_CHECK( nBad==0 );
}

static void iso_rejects(void){
  int64_t ms;
  TT_CHECK( util_iso_parse("", &ms)==CV_INVALID );
  TT_CHECK( util_iso_parse("2026-13-01", &ms)==CV_INVALID );
  TT_CHECK( util_iso_parse("2026-02-30", &ms)==CV_INVALID );
  TT_CHECK( util_iso_parse("2025-02-29", &ms)==CV_INVALID );
  TT_CHECK( util_iso_parse("2024-02-29", &ms)==CV_OK );
  TT_CHECK( util_iso_parse("2026-11-21T25:00", &ms)==CV_INVALID );
  TT_CHECK( util_iso_parse("2026-11-21T10:00:00Zjunk", &ms)==CV_INVALID );
  TT_CHECK( util_iso_parse("yesterday", &ms)==CV_INVALID );
  TT_CHECK( util_iso_parse(NULL, &ms)==CV_INVALID );
}

static void utf8(void){
  TT_CHECK( util_utf8_valid("abc", 3) );
  TT_CHECK( util_utf8_valid("\xC3\xA9\xF0\x9F\x98\x80", 6) );         /* é 😀 */
  TT_CHECK( !util_utf8_valid("\xC3", 1) );                             /* truncated */
  TT_CHECK( !util_utf8_valid("\xC0\xAF", 2) );                         /* overlong */
  TT_CHECK( !util_utf8_valid("\xED\xA0\x80", 3) );                     /* surrogate */
  TT_CHECK( !util_utf8_valid("\xF4\x90\x80\x80", 4) );                 /* > U+10FFFF */
  TT_CHECK( !util_utf8_valid("a\0b", 3) );                             /* NUL */
  TT_CHECK( !util_utf8_valid("\xFF", 1) );
  TT_CHECK( util_utf8_chars("h\xC3\xA9llo \xF0\x9F\x98\x80")==7 );
  TT_CHECK( util_utf8_prefix_len("\xC3\xA9\xC3\xA9x", 2)==4 );
  TT_CHECK( util_utf8_prefix_len("ab", 5)==2 );
}

static void uuid(void){
  char z[37];
  util_uuid4(z);
  TT_CHECK( util_uuid_valid(z) );
  TT_CHECK( z[14]=='4' );
  TT_CHECK( util_uuid_valid("123E4567-E89B-12D3-A456-426614174000") );
  TT_CHECK( !util_uuid_valid("123e4567e89b12d3a456426614174000") );
  TT_CHECK( !util_uuid_valid("123e4567-e89b-12d3-a456-42661417400g") );
  TT_CHECK( !util_uuid_valid("123e4567-e89b-12d3-a456-4266141740001") );
}

static void base64url(void){
  unsigned char a[32];
  char z[64];
  memset(a, 0xFB, sizeof a);
  util_base64url(a, sizeof a, z);
  TT_CHECK( strlen(z)==43 );
  TT_CHECK( strchr(z, '+')==NULL && strchr(z, '/')==NULL && strchr(z, '=')==NULL );
}

static void auto_title(void){
  cv_rc rc;
  char *z;
  z = util_auto_title("Hello world", &rc);
  TT_CHECK( z && strcmp(z, "Hello world")==0 );
  free(z);
  z = util_auto_title("\n  \n  First line  \nsecond", &rc);
  TT_CHECK( z && strcmp(z, "First line")==0 );
  free(z);
  z = util_auto_title("How do I reverse a list in Python without copying the whole thing twice?", &rc);
  TT_CHECK( z && strcmp(z, "How do I reverse a list in Python without copying the whole\xE2\x80\xA6")==0 );
  free(z);
  /* exactly 60 characters: kept whole */
  z = util_auto_title("123456789 123456789 123456789 123456789 123456789 1234567890", &rc);
  TT_CHECK( z && strlen(z)==60 );
  free(z);
  /* one long word: cut at 60 characters (multi-byte safe) */
  {
    char zLong[400] = "";
    int i;
    for(i=0; i<70; i++) strcat(zLong, "\xC3\xA9");
    z = util_auto_title(zLong, &rc);
    TT_CHECK( z && util_utf8_chars(z)==61 );
    free(z);
  }
  z = util_auto_title("   \n\t\n", &rc);
  TT_CHECK( z==NULL && rc==CV_OK );
}

/* buf_append_int writes what "%lld" writes, at the ends of the range too. */
static void append_int_matches_snprintf(void){
  static const int64_t aV[] = { 0, 1, -1, 9, 10, -10, 123456789, INT64_MAX, INT64_MIN,
                                INT64_MIN+1, 1000000000000LL };
  size_t i;
  for(i=0; i<sizeof aV/sizeof aV[0]; i++){
    struct cv_buf b;
    char zWant[32];
    buf_init(&b, 64);
    snprintf(zWant, sizeof zWant, "x%lld", (long long)aV[i]);
    TT_CHECK( buf_append(&b, "x", 1)==CV_OK && buf_append_int(&b, aV[i])==CV_OK );
    TT_CHECK( b.a && strcmp(b.a, zWant)==0 );
    buf_free(&b);
  }
  {
    struct cv_buf b;             /* the cap holds: nothing written past it */
    buf_init(&b, 3);
    TT_CHECK( buf_append_int(&b, 1234)==CV_TOOLARGE && b.n==0 );
    buf_free(&b);
  }
}

static void buffers(void){
  struct cv_buf b;
  buf_init(&b, 10);
  TT_CHECK( buf_append(&b, "hello", 5)==CV_OK );
  TT_CHECK( buf_appendf(&b, "%d", 12345)==CV_OK );
  TT_CHECK( b.n==10 && strcmp(b.a, "hello12345")==0 );
  TT_CHECK( buf_append(&b, "x", 1)==CV_TOOLARGE );
  TT_CHECK( b.n==10 );
  buf_free(&b);
  TT_CHECK( b.a==NULL && b.n==0 );
}

int main(void){
  if( sodium_init()<0 ) return 1;
  TT_RUN(iso_roundtrip);
  TT_RUN(iso_format_matches_snprintf);
  TT_RUN(iso_rejects);
  TT_RUN(utf8);
  TT_RUN(uuid);
  TT_RUN(base64url);
  TT_RUN(auto_title);
  TT_RUN(buffers);
  TT_RUN(append_int_matches_snprintf);
  return TT_DONE();
}
