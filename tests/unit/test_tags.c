/* test_tags.c — unit tests of src/tags.c: folding (Latin, Greek, Cyrillic, final sigma),
** trimming, the set's rules (first spelling kept, 20 at most, 1..50 characters), sorting. */
#include "tinytest.h"
#include "tags.h"

#include <string.h>

static const char *fold(const char *z){
  static char zOut[CV_TAG_MAX_LEN*2];
  if( tags_fold(z, strlen(z), zOut, sizeof zOut)<0 ) return "(too long)";
  return zOut;
}

static void folding(void){
  TT_CHECK( strcmp(fold("Work"), "work")==0 );
  TT_CHECK( strcmp(fold("WORK"), fold("work"))==0 );
  TT_CHECK( strcmp(fold("\xC3\x89T\xC3\x89"), "\xC3\xA9t\xC3\xA9")==0 );             /* ÉTÉ -> été */
  TT_CHECK( strcmp(fold("\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3"),                          /* ΟΔΟΣ */
                   fold("\xCE\xBF\xCE\xB4\xCE\xBF\xCF\x82"))==0 );                     /* οδος (final ς) */
  TT_CHECK( strcmp(fold("\xD0\x9C\xD0\x98\xD0\xA0"), "\xD0\xBC\xD0\xB8\xD1\x80")==0 ); /* МИР -> мир */
  TT_CHECK( strcmp(fold("\xD0\x81"), "\xD1\x91")==0 );                                 /* Ё -> ё */
  TT_CHECK( strcmp(fold("\xE6\x97\xA5\xE6\x9C\xAC"), "\xE6\x97\xA5\xE6\x9C\xAC")==0 ); /* 日本: as is */
  TT_CHECK( strcmp(fold("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80")==0 );                 /* emoji */
  TT_CHECK( strcmp(fold("stra\xC3\x9F" "e"), "stra\xC3\x9F" "e")==0 );                 /* ß stays */
  {
    char zSmall[4];
    TT_CHECK( tags_fold("abcd", 4, zSmall, sizeof zSmall)==-1 );
    TT_CHECK( tags_fold("abc", 3, zSmall, sizeof zSmall)==3 && strcmp(zSmall, "abc")==0 );
  }
}

static void trimming(void){
  const char *z;
  size_t n;
  tags_trim("  a b \t", 7, &z, &n);
  TT_CHECK( n==3 && memcmp(z, "a b", 3)==0 );
  tags_trim("\xC2\xA0x\xE3\x80\x80", 6, &z, &n);                   /* NBSP x IDEOGRAPHIC SPACE */
  TT_CHECK( n==1 && *z=='x' );
  tags_trim(" \t ", 3, &z, &n);
  TT_CHECK( n==0 );
  tags_trim("", 0, &z, &n);
  TT_CHECK( n==0 );
}

static void set_rules(void){
  struct cv_tagset s;
  char z[256];
  int bLong, i;
  s.n = 0;
  TT_CHECK( tags_set_add(&s, "Work", 4, &bLong)==CV_OK && s.n==1 );
  TT_CHECK( tags_set_add(&s, " work ", 6, &bLong)==CV_OK && s.n==1 );       /* same key */
  TT_CHECK( strcmp(s.a[0].zTag, "Work")==0 && strcmp(s.a[0].zKey, "work")==0 );
  TT_CHECK( tags_set_add(&s, "  ", 2, &bLong)==CV_INVALID && !bLong );
  memset(z, 'x', 51); z[51] = 0;
  TT_CHECK( tags_set_add(&s, z, 51, &bLong)==CV_INVALID && bLong );
  TT_CHECK( tags_set_add(&s, z, 50, &bLong)==CV_OK && s.n==2 );
  /* 50 four-byte characters: 200 bytes, allowed */
  for(i=0; i<50; i++) memcpy(z + 4*i, "\xF0\x9F\x98\x80", 4);
  TT_CHECK( tags_set_add(&s, z, 200, &bLong)==CV_OK && s.n==3 );
  s.n = 0;
  for(i=0; i<CV_TAGS_MAX; i++){
    char zT[16];
    snprintf(zT, sizeof zT, "t%02d", i);
    TT_CHECK( tags_set_add(&s, zT, strlen(zT), &bLong)==CV_OK );
  }
  TT_CHECK( tags_set_add(&s, "T00", 3, &bLong)==CV_OK && s.n==CV_TAGS_MAX ); /* a duplicate */
  TT_CHECK( tags_set_add(&s, "new", 3, &bLong)==CV_TOOLARGE );
}

static void sorting(void){
  struct cv_tagset s;
  int bLong;
  s.n = 0;
  tags_set_add(&s, "beta", 4, &bLong);
  tags_set_add(&s, "Alpha", 5, &bLong);
  tags_set_add(&s, "\xC3\x89t\xC3\xA9", 5, &bLong);          /* Été: after ASCII by code point */
  tags_set_add(&s, "alpha2", 6, &bLong);
  tags_set_sort(&s);
  TT_CHECK( s.n==4 );
  TT_CHECK( strcmp(s.a[0].zTag, "Alpha")==0 && strcmp(s.a[1].zTag, "alpha2")==0 );
  TT_CHECK( strcmp(s.a[2].zTag, "beta")==0 && strcmp(s.a[3].zTag, "\xC3\x89t\xC3\xA9")==0 );
}

int main(void){
  TT_RUN(folding);
  TT_RUN(trimming);
  TT_RUN(set_rules);
  TT_RUN(sorting);
  return TT_DONE();
}
