/*
** tags.c — see tags.h. Folding uses towlower_l on a C.UTF-8 locale created once (glibc 2.35+
** has it built in, so no locale files are needed); if it cannot be created, only ASCII is
** folded (logged once). A table of our own was rejected: glibc's is the Unicode data,
** kept up to date by Debian. Full case folding ("ß" = "ss") is not done: simple folding is
** what a user reading "Straße" and "STRASSE" as two tags can still understand.
*/
#include "tags.h"

#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

static locale_t gLoc = (locale_t)0;
static pthread_once_t gOnce = PTHREAD_ONCE_INIT;

static void loc_init(void){
  gLoc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
  if( gLoc==(locale_t)0 ) fprintf(stderr, "chatvault: no C.UTF-8 locale: tags fold ASCII only\n");
}

/* Decode one code point of valid UTF-8 at z (n>0 bytes left); *pLen its bytes. Invalid
** input gives the byte itself with length 1. */
static unsigned decode(const unsigned char *z, size_t n, size_t *pLen){
  unsigned c = z[0];
  if( c<0x80 || n<2 ){ *pLen = 1; return c; }
  if( (c & 0xE0)==0xC0 ){ *pLen = 2; return ((c & 0x1F)<<6) | (z[1] & 0x3F); }
  if( (c & 0xF0)==0xE0 && n>=3 ){
    *pLen = 3;
    return ((c & 0x0F)<<12) | ((unsigned)(z[1] & 0x3F)<<6) | (z[2] & 0x3F);
  }
  if( (c & 0xF8)==0xF0 && n>=4 ){
    *pLen = 4;
    return ((c & 0x07)<<18) | ((unsigned)(z[1] & 0x3F)<<12) | ((unsigned)(z[2] & 0x3F)<<6)
           | (z[3] & 0x3F);
  }
  *pLen = 1;
  return c;
}

/* Encode c as UTF-8 into z (4 bytes room); returns the length. */
static size_t encode(unsigned c, char *z){
  if( c<0x80 ){ z[0] = (char)c; return 1; }
  if( c<0x800 ){ z[0] = (char)(0xC0 | (c>>6)); z[1] = (char)(0x80 | (c & 0x3F)); return 2; }
  if( c<0x10000 ){
    z[0] = (char)(0xE0 | (c>>12)); z[1] = (char)(0x80 | ((c>>6) & 0x3F));
    z[2] = (char)(0x80 | (c & 0x3F));
    return 3;
  }
  z[0] = (char)(0xF0 | (c>>18)); z[1] = (char)(0x80 | ((c>>12) & 0x3F));
  z[2] = (char)(0x80 | ((c>>6) & 0x3F)); z[3] = (char)(0x80 | (c & 0x3F));
  return 4;
}

static unsigned fold1(unsigned c){
  if( c<0x80 ) return (c>='A' && c<='Z') ? c + 32 : c;
  if( c==0x03C2 ) return 0x03C3;                      /* final sigma: CaseFolding.txt, C */
  if( gLoc==(locale_t)0 ) return c;
  return (unsigned)towlower_l((wint_t)c, gLoc);
}

int tags_fold(const char *z, size_t n, char *zOut, size_t nOut){
  const unsigned char *a = (const unsigned char*)z;
  size_t i = 0, j = 0;
  pthread_once(&gOnce, loc_init);
  while( i<n ){
    size_t nLen;
    char zEnc[4];
    size_t nEnc;
    unsigned c = decode(a + i, n - i, &nLen);
    if( nLen==1 && c>=0x80 ){ zEnc[0] = (char)c; nEnc = 1; }   /* invalid: as it is */
    else nEnc = encode(fold1(c), zEnc);
    if( j + nEnc + 1 > nOut ) return -1;
    memcpy(zOut + j, zEnc, nEnc);
    j += nEnc;
    i += nLen;
  }
  if( j + 1 > nOut ) return -1;
  zOut[j] = 0;
  return (int)j;
}

static int is_space(unsigned c){
  return c==' ' || (c>='\t' && c<='\r') || c==0xA0 || (c>=0x2000 && c<=0x200A) || c==0x2028
      || c==0x2029 || c==0x202F || c==0x205F || c==0x3000 || c==0xFEFF;
}

void tags_trim(const char *z, size_t n, const char **pzStart, size_t *pnOut){
  const unsigned char *a = (const unsigned char*)z;
  size_t i = 0, nLen, iEnd = 0, k;
  /* leading */
  while( i<n ){
    unsigned c = decode(a + i, n - i, &nLen);
    if( !is_space(c) ) break;
    i += nLen;
  }
  /* trailing: the end of the last character that is not white space */
  for(k=i; k<n; ){
    unsigned c = decode(a + k, n - k, &nLen);
    k += nLen;
    if( !is_space(c) ) iEnd = k;
  }
  *pzStart = z + i;
  *pnOut = iEnd>i ? iEnd - i : 0;
}

/* Characters in valid UTF-8 z[0..n). */
static size_t n_chars(const char *z, size_t n){
  size_t i, nc = 0;
  for(i=0; i<n; i++) nc += ((unsigned char)z[i] & 0xC0)!=0x80;
  return nc;
}

cv_rc tags_set_add(struct cv_tagset *p, const char *z, size_t n, int *pbTooLong){
  const char *zT;
  size_t nT;
  char zKey[CV_TAG_MAX_LEN+1];
  int i, nKey;
  *pbTooLong = 0;
  tags_trim(z, n, &zT, &nT);
  if( nT==0 ) return CV_INVALID;
  if( n_chars(zT, nT)>CV_TAG_MAX_CHARS || nT>CV_TAG_MAX_LEN ){ *pbTooLong = 1; return CV_INVALID; }
  nKey = tags_fold(zT, nT, zKey, sizeof zKey);
  if( nKey<0 ){ *pbTooLong = 1; return CV_INVALID; }
  for(i=0; i<p->n; i++){
    if( strcmp(p->a[i].zKey, zKey)==0 ) return CV_OK;     /* the first spelling stays */
  }
  if( p->n>=CV_TAGS_MAX ) return CV_TOOLARGE;
  memcpy(p->a[p->n].zKey, zKey, (size_t)nKey + 1);
  memcpy(p->a[p->n].zTag, zT, nT);
  p->a[p->n].zTag[nT] = 0;
  p->n++;
  return CV_OK;
}

static int cmp_tag(const void *pA, const void *pB){
  const struct cv_tag *a = pA, *b = pB;
  int c = strcmp(a->zKey, b->zKey);
  return c ? c : strcmp(a->zTag, b->zTag);
}

void tags_set_sort(struct cv_tagset *p){
  if( p->n>1 ) qsort(p->a, (size_t)p->n, sizeof p->a[0], cmp_tag);
}
