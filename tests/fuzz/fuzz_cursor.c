/*
** fuzz_cursor.c — cursor_decode (src/cursor.c), the parser of the untrusted ?cursor= of every
** list, and the tag rules (src/tags.c) that feed a thread cursor's tag. Properties, not only
** crashes:
**   - a text that decodes encodes back to exactly itself (one text per cursor), and what
**     decodes is a well-formed cursor (a kind, a positive id, a contract time where the
**     kind has one, valid UTF-8 tag);
**   - the input read as base64url's payload (the bytes after decoding) gives the same answer
**     whether it arrives encoded by us or not: an encoded payload that decodes re-encodes
**     to the same text;
**   - a change-log cursor (changecursor.c) that decodes encodes back to itself and is
**     refused for another user;
**   - a tag added to a set is trimmed, 1..50 characters of valid UTF-8, and its key fits.
*/
#include "fuzz_common.h"
#include "changecursor.h"
#include "cursor.h"
#include "tags.h"
#include "util.h"

#include <stdint.h>

static const char zB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void check_cursor(const char *z){
  struct cv_cursor c;
  char zBack[CV_CURSOR_MAX_LEN];
  if( cursor_decode(z, &c)!=CV_OK ){
    FZ_CHECK( c.cKind==0 && c.id==0 );
    return;
  }
  FZ_CHECK( c.id>0 );
  FZ_CHECK( strchr("thcspm", c.cKind)!=NULL && c.cKind!=0 );
  FZ_CHECK( util_utf8_valid(c.zTag, strlen(c.zTag)) || c.zTag[0]==0 );
  FZ_CHECK( cursor_encode(&c, zBack, sizeof zBack)==CV_OK );
  if( strcmp(zBack, z)!=0 ) fprintf(stderr, "round trip: %s -> %s\n", z, zBack);
  FZ_CHECK( strcmp(zBack, z)==0 );
}

/* The raw bytes as a payload: base64url them (no padding) and decode that. */
static void check_payload(const unsigned char *a, size_t n){
  char z[2*CV_CURSOR_MAX_LEN];
  size_t i, j = 0;
  if( n>300 ) return;
  for(i=0; i<n; i+=3){
    unsigned v = (unsigned)a[i]<<16;
    if( i+1<n ) v |= (unsigned)a[i+1]<<8;
    if( i+2<n ) v |= a[i+2];
    z[j++] = zB64[(v>>18)&63]; z[j++] = zB64[(v>>12)&63];
    if( i+1<n ) z[j++] = zB64[(v>>6)&63];
    if( i+2<n ) z[j++] = zB64[v&63];
  }
  z[j] = 0;
  check_cursor(z);
}

static void check_tag(const unsigned char *a, size_t n){
  struct cv_tagset s;
  size_t nc = 0;
  int bLong;
  if( !fz_utf8_ref(a, n, NULL) ) return;       /* tags come from validated JSON strings */
  s.n = 0;
  if( tags_set_add(&s, (const char*)a, n, &bLong)!=CV_OK ) return;
  FZ_CHECK( s.n==1 );
  FZ_CHECK( fz_utf8_ref((const unsigned char*)s.a[0].zTag, strlen(s.a[0].zTag), &nc) );
  FZ_CHECK( nc>=1 && nc<=CV_TAG_MAX_CHARS );
  FZ_CHECK( s.a[0].zTag[0]!=' ' && s.a[0].zTag[strlen(s.a[0].zTag)-1]!=' ' );
  FZ_CHECK( strlen(s.a[0].zKey)>0 && strlen(s.a[0].zKey)<=CV_TAG_MAX_LEN );
  FZ_CHECK( fz_utf8_ref((const unsigned char*)s.a[0].zKey, strlen(s.a[0].zKey), NULL) );
  /* the same tag again, in any case, is the same key: nothing is added */
  FZ_CHECK( tags_set_add(&s, s.a[0].zKey, strlen(s.a[0].zKey), &bLong)==CV_OK && s.n==1 );
}

/* The change log's cursor (changecursor.c) under a fixed key, for user 7: what decodes
** encodes back to itself, and is refused for any other user. */
static void check_change_cursor(const char *z){
  static const unsigned char aKey[CV_CHANGES_KEY_LEN] = "0123456789abcdef";
  char zBack[CV_CHANGE_CURSOR_CHARS + 1];
  int64_t seq = -1, seq2 = -1;
  if( changecursor_decode(aKey, 7, z, &seq)!=CV_OK ){
    FZ_CHECK( seq==0 );
    return;
  }
  FZ_CHECK( seq>=0 );
  FZ_CHECK( changecursor_encode(aKey, 7, seq, zBack)==CV_OK && strcmp(zBack, z)==0 );
  FZ_CHECK( changecursor_decode(aKey, 8, z, &seq2)==CV_INVALID );
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n){
  char *z = fz_strndup(data, n);
  check_cursor(z);
  check_change_cursor(z);
  free(z);
  check_payload(data, n);
  check_tag(data, n);
  return 0;
}
