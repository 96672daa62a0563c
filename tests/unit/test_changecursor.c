/* test_changecursor.c — unit tests of src/changecursor.c: a cursor round-trips for its user and
** key only, shows nothing of its sequence number, and only what changecursor_encode wrote
** decodes. */
#include "tinytest.h"
#include "changecursor.h"

#include <string.h>

static const unsigned char aKey[CV_CHANGES_KEY_LEN] = "0123456789abcdef";
static const unsigned char aKey2[CV_CHANGES_KEY_LEN] = "0123456789abcdeF";

static void round_trips(void){
  static const int64_t aSeq[] = { 0, 1, 2, 255, 256, 1000000, INT64_MAX };
  char z[CV_CHANGE_CURSOR_CHARS + 1], zPrev[CV_CHANGE_CURSOR_CHARS + 1] = "";
  size_t i;
  for(i=0; i<sizeof aSeq/sizeof aSeq[0]; i++){
    int64_t seq = -1;
    TT_CHECK( changecursor_encode(aKey, 42, aSeq[i], z)==CV_OK );
    TT_CHECK( strlen(z)==CV_CHANGE_CURSOR_CHARS );
    TT_CHECK( strspn(z, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")==strlen(z) );
    TT_CHECK( changecursor_decode(aKey, 42, z, &seq)==CV_OK && seq==aSeq[i] );
    /* another user, another key: refused */
    TT_CHECK( changecursor_decode(aKey, 43, z, &seq)==CV_INVALID && seq==0 );
    TT_CHECK( changecursor_decode(aKey2, 42, z, &seq)==CV_INVALID );
    /* consecutive numbers give unrelated texts (nothing in common at the front) */
    TT_CHECK( strncmp(z, zPrev, 4)!=0 );
    memcpy(zPrev, z, sizeof z);
  }
  TT_CHECK( changecursor_encode(aKey, 42, -1, z)==CV_INVALID );
}

static void refuses(void){
  char z[CV_CHANGE_CURSOR_CHARS + 2];
  int64_t seq;
  TT_CHECK( changecursor_encode(aKey, 5, 77, z)==CV_OK );
  TT_CHECK( changecursor_decode(aKey, 5, "", &seq)==CV_INVALID );
  TT_CHECK( changecursor_decode(aKey, 5, "AAAAAAAAAAAAAAAAAAAAAA", &seq)==CV_INVALID );
  z[CV_CHANGE_CURSOR_CHARS - 1] ^= 1;                /* one character changed */
  TT_CHECK( changecursor_decode(aKey, 5, z, &seq)==CV_INVALID );
  TT_CHECK( changecursor_encode(aKey, 5, 77, z)==CV_OK );
  strcat(z, "A");                                    /* one too many */
  TT_CHECK( changecursor_decode(aKey, 5, z, &seq)==CV_INVALID );
  z[CV_CHANGE_CURSOR_CHARS - 1] = 0;                 /* one too few */
  TT_CHECK( changecursor_decode(aKey, 5, z, &seq)==CV_INVALID );
  TT_CHECK( changecursor_decode(aKey, 5, "AAAAAAAAAAAAAAAAAAAAAB", &seq)==CV_INVALID ); /* bits */
  TT_CHECK( changecursor_decode(aKey, 5, "AAAAAAAAAAAAAAAAAAAA+/", &seq)==CV_INVALID ); /* alphabet */
}

int main(void){
  TT_RUN(round_trips);
  TT_RUN(refuses);
  return TT_DONE();
}
