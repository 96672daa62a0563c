/* test_cursor.c — unit tests of src/cursor.c: every kind round-trips, the text is base64url
** without padding, and what cursor_encode did not write is refused. */
#include "tinytest.h"
#include "cursor.h"

#include <stdio.h>
#include <string.h>

/* base64url of the text z (no padding), for hand-made cursors. */
static void b64(const char *z, char *zOut){
  static const char zA[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t n = strlen(z), i, j = 0;
  for(i=0; i<n; i+=3){
    unsigned v = (unsigned)(unsigned char)z[i]<<16;
    if( i+1<n ) v |= (unsigned)(unsigned char)z[i+1]<<8;
    if( i+2<n ) v |= (unsigned char)z[i+2];
    zOut[j++] = zA[(v>>18)&63]; zOut[j++] = zA[(v>>12)&63];
    if( i+1<n ) zOut[j++] = zA[(v>>6)&63];
    if( i+2<n ) zOut[j++] = zA[v&63];
  }
  zOut[j] = 0;
}

static void round_trips(void){
  struct cv_cursor c, d;
  char z[CV_CURSOR_MAX_LEN], z2[CV_CURSOR_MAX_LEN];
  memset(&c, 0, sizeof c);
  c.cKind = CV_CURSOR_THREADS;
  strcpy(c.zKey, "2026-11-21T10:00:00.123Z");
  c.id = 42;
  c.cArchived = 'f'; c.cPinned = '-';
  strcpy(c.zTag, "w\xC3\xB6rk|x");
  TT_CHECK( cursor_encode(&c, z, sizeof z)==CV_OK );
  TT_CHECK( strspn(z, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")==strlen(z) );
  TT_CHECK( cursor_decode(z, &d)==CV_OK && memcmp(&c, &d, sizeof c)==0 );
  TT_CHECK( cursor_encode(&d, z2, sizeof z2)==CV_OK && strcmp(z, z2)==0 );
  memset(&c, 0, sizeof c);
  c.cKind = CV_CURSOR_CHATS;
  strcpy(c.zKey, "9999-12-31T23:59:59.999Z");
  c.id = 999999999999999999LL;
  TT_CHECK( cursor_encode(&c, z, sizeof z)==CV_OK );
  TT_CHECK( cursor_decode(z, &d)==CV_OK && d.cKind=='h' && d.id==c.id && strcmp(d.zKey, c.zKey)==0 );
  memset(&c, 0, sizeof c);
  c.cKind = CV_CURSOR_PERSONAS;
  c.id = 7;
  TT_CHECK( cursor_encode(&c, z, sizeof z)==CV_OK );
  b64("p1||7", z2);
  TT_CHECK( strcmp(z, z2)==0 );
  TT_CHECK( cursor_decode(z, &d)==CV_OK && d.cKind=='p' && d.id==7 && d.zKey[0]==0 );
  /* the threads shared with the caller: timed, no filters; a bare key is refused */
  memset(&c, 0, sizeof c);
  c.cKind = CV_CURSOR_SHARED;
  strcpy(c.zKey, "2026-11-21T10:00:00.123Z");
  c.id = 9;
  TT_CHECK( cursor_encode(&c, z, sizeof z)==CV_OK );
  b64("m1|2026-11-21T10:00:00.123Z|9", z2);
  TT_CHECK( strcmp(z, z2)==0 );
  TT_CHECK( cursor_decode(z, &d)==CV_OK && memcmp(&c, &d, sizeof c)==0 );
  b64("m1||9", z2);
  TT_CHECK( cursor_decode(z2, &d)==CV_INVALID );
  /* the longest: a tag of 200 bytes */
  memset(&c, 0, sizeof c);
  c.cKind = CV_CURSOR_THREADS;
  strcpy(c.zKey, "2026-11-21T10:00:00.123Z");
  c.id = 123456789012345678LL;
  c.cArchived = 'a'; c.cPinned = 't';
  memset(c.zTag, 'x', CV_TAG_MAX_LEN);
  TT_CHECK( cursor_encode(&c, z, sizeof z)==CV_OK && strlen(z)<CV_CURSOR_MAX_LEN );
  TT_CHECK( cursor_decode(z, &d)==CV_OK && strlen(d.zTag)==CV_TAG_MAX_LEN );
  TT_CHECK( cursor_encode(&c, z, 20)==CV_TOOLARGE );
}

static void refuses(void){
  static const char *const azBad[] = {
    "t1|2026-11-21T10:00:00.123Z|42|f-|",      /* fine, checked below as the control */
    "t2|2026-11-21T10:00:00.123Z|42|f-|",      /* version */
    "x1||42",                                  /* kind */
    "t1|2026-11-21T10:00:00.123|42|f-|",       /* short time */
    "t1|2026-11-21X10:00:00.123Z|42|f-|",      /* time shape */
    "t1|2026-11-21T10:00:00.123Z|042|f-|",     /* leading zero */
    "t1|2026-11-21T10:00:00.123Z|0|f-|",       /* id 0 */
    "t1|2026-11-21T10:00:00.123Z|-1|f-|",      /* negative */
    "t1|2026-11-21T10:00:00.123Z|1234567890123456789|f-|", /* too long */
    "t1|2026-11-21T10:00:00.123Z|42|x-|",      /* archived flag */
    "t1|2026-11-21T10:00:00.123Z|42|fx|",      /* pinned flag */
    "t1|2026-11-21T10:00:00.123Z|42|f-",       /* no tag part */
    "t1|2026-11-21T10:00:00.123Z|42|f-|\xC3",  /* tag not UTF-8 */
    "h1|2026-11-21T10:00:00.123Z|42|",         /* trailing */
    "h1||42",                                  /* chats need a time */
    "c1|2026-11-21T10:00:00.123Z|42",          /* catalog has none */
    "c1||",                                    /* no id */
    "c1||4 2",
  };
  struct cv_cursor d;
  char z[1024];
  size_t i;
  b64(azBad[0], z);
  TT_CHECK( cursor_decode(z, &d)==CV_OK );
  for(i=1; i<sizeof azBad/sizeof azBad[0]; i++){
    b64(azBad[i], z);
    if( cursor_decode(z, &d)!=CV_INVALID ) fprintf(stderr, "  accepted: %s\n", azBad[i]);
    TT_CHECK( cursor_decode(z, &d)==CV_INVALID );
    TT_CHECK( d.cKind==0 );
  }
  TT_CHECK( cursor_decode("", &d)==CV_INVALID );
  TT_CHECK( cursor_decode("cDF8fDc=", &d)==CV_INVALID );        /* padding */
  TT_CHECK( cursor_decode("cDF8fDc", &d)==CV_OK );              /* the same without */
  TT_CHECK( cursor_decode("cDF8fDd", &d)==CV_INVALID );         /* non-zero trailing bits */
  TT_CHECK( cursor_decode("cDF8fDc+", &d)==CV_INVALID );        /* not the URL alphabet */
  TT_CHECK( cursor_decode("cDF8fD", &d)==CV_INVALID );          /* "p1||" + half a byte */
  memset(z, 'A', sizeof z - 1); z[sizeof z - 1] = 0;
  TT_CHECK( cursor_decode(z, &d)==CV_INVALID );                 /* too long */
  b64("p1||7\0", z);
  TT_CHECK( cursor_decode("cDF8fDcA", &d)==CV_INVALID );        /* a NUL inside */
}

/* The X-Next-Cursor header line: the encoded cursor, or nothing when it does not fit (a
** cursor that does not encode is a bug, asserted inside cursor_encode). */
static void header_line(void){
  struct cv_cursor c, back;
  char z[CV_CURSOR_HEADER_LEN], zSmall[20];
  size_t n;
  memset(&c, 0, sizeof c);
  c.cKind = CV_CURSOR_CHARACTERS;
  c.id = 42;
  n = cursor_header(&c, z, sizeof z);
  TT_CHECK( n==strlen(z) && strncmp(z, "X-Next-Cursor: ", 15)==0 );
  TT_CHECK( n>17 && strcmp(z + n - 2, "\r\n")==0 );
  z[n-2] = 0;
  TT_CHECK( cursor_decode(z + 15, &back)==CV_OK && back.cKind=='c' && back.id==42 );
  TT_CHECK( cursor_header(&c, zSmall, sizeof zSmall)==0 && zSmall[0]==0 );
}

int main(void){
  TT_RUN(round_trips);
  TT_RUN(refuses);
  TT_RUN(header_line);
  return TT_DONE();
}
