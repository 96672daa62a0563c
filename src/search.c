/*
** search.c — the query reader and the snippet maker (contracts in search.h). Pure C on
** strings: no allocation, no SQL, no HTTP.
*/
#include "search.h"

#include <assert.h>
#include <string.h>

/* White space between words: ASCII's and U+3000 (ideographic space, E3 80 80). Its length
** in bytes at z, or 0. */
static int space_len(const char *z){
  unsigned char c = (unsigned char)z[0];
  if( c==' ' || c=='\t' || c=='\n' || c=='\r' || c=='\f' || c=='\v' ) return 1;
  if( c==0xE3 && (unsigned char)z[1]==0x80 && (unsigned char)z[2]==0x80 ) return 3;
  return 0;
}

static void add_phrase(struct cv_phrase *aOut, int nMax, int *pn, const char *z, int n,
                       int bPrefix){
  if( n<=0 || *pn>=nMax ) return;
  aOut[*pn].z = z;
  aOut[*pn].n = n;
  aOut[*pn].bPrefix = bPrefix;
  (*pn)++;
}

int search_parse(const char *zQ, struct cv_phrase *aOut, int nMax){
  const char *z = zQ;
  int n = 0, k;
  assert( zQ && nMax>=0 );
  while( *z ){
    if( (k = space_len(z))>0 ){ z += k; continue; }
    if( *z=='"' ){
      const char *zClose = strchr(z+1, '"');
      if( zClose ){
        const char *zAfter = zClose + 1;
        int bPrefix = 0;
        while( *zAfter=='*' ){ bPrefix = 1; zAfter++; }
        add_phrase(aOut, nMax, &n, z+1, (int)(zClose - z - 1), bPrefix);
        z = zAfter;
      }else{
        z++;                                        /* unbalanced: white space */
      }
      continue;
    }
    {
      const char *zStart = z, *zEnd;
      int bPrefix = 0;
      while( *z && *z!='"' && space_len(z)==0 ) z++;
      zEnd = z;
      while( zEnd>zStart && zEnd[-1]=='*' ){ zEnd--; bPrefix = 1; }
      add_phrase(aOut, nMax, &n, zStart, (int)(zEnd - zStart), bPrefix);
    }
  }
  return n;
}

/* Is c a UTF-8 continuation byte (not the start of a character)? */
#define IS_CONT(c) (((unsigned char)(c) & 0xC0)==0x80)

/* The byte length of the UTF-8 character at z (1 for a stray byte, never past zEnd). */
static int char_len(const char *z, const char *zEnd){
  unsigned char c = (unsigned char)z[0];
  int len = c<0x80 ? 1 : (c & 0xE0)==0xC0 ? 2 : (c & 0xF0)==0xE0 ? 3 : (c & 0xF8)==0xF0 ? 4 : 1;
  if( len > zEnd - z ) len = 1;
  return len;
}

/* The number of characters in z[iFrom, iTo). */
static int chars_between(const char *z, int iFrom, int iTo){
  int n = 0, i = iFrom;
  while( i<iTo ){
    i += char_len(z+i, z+iTo);
    n++;
  }
  return n;
}

void search_snippet(const char *zText, int nText, const struct cv_span *aM, int nM,
                    int *piStart, int *piEnd, int (*aHl)[2], int nHlMax, int *pnHl){
  const char *zEnd = zText + nText;
  int iFirst = nM>0 ? aM[0].iStart : 0;
  int iStart, iEnd, i, j, nChars;
  assert( nText>=0 && iFirst>=0 && iFirst<=nText && zText[nText]==0 );
  while( iFirst>0 && IS_CONT(zText[iFirst]) ) iFirst--;   /* whole characters only */
  iStart = iFirst;

  /* back from the first match: at most SEARCH_SNIPPET_LEAD characters, then forward to the
  ** first word start among them (after white space), if any */
  for(i=0; i<SEARCH_SNIPPET_LEAD && iStart>0; i++){
    j = iStart - 1;
    while( j>0 && ((unsigned char)zText[j] & 0xC0)==0x80 ) j--;
    iStart = j;
  }
  if( iStart>0 ){
    for(j=iStart; j<iFirst; j+=char_len(zText+j, zEnd)){
      int k = space_len(zText+j);
      if( k ){ iStart = j + k; break; }
    }
  }

  /* forward: SEARCH_SNIPPET_CHARS characters in all */
  iEnd = iStart;
  nChars = 0;
  while( iEnd<nText && nChars<SEARCH_SNIPPET_CHARS ){
    iEnd += char_len(zText+iEnd, zEnd);
    nChars++;
  }
  /* a short tail: take more before the match instead */
  while( nChars<SEARCH_SNIPPET_CHARS && iStart>0 ){
    j = iStart - 1;
    while( j>0 && ((unsigned char)zText[j] & 0xC0)==0x80 ) j--;
    iStart = j;
    nChars++;
  }
  *piStart = iStart;
  *piEnd = iEnd;

  *pnHl = 0;
  for(i=0; i<nM && *pnHl<nHlMax; i++){
    int a = aM[i].iStart, b = aM[i].iEnd;
    if( b<=iStart || a>=iEnd ) continue;
    if( a<iStart ) a = iStart;
    if( b>iEnd ) b = iEnd;
    while( a>iStart && IS_CONT(zText[a]) ) a--;          /* whole characters only */
    while( b<iEnd && IS_CONT(zText[b]) ) b++;
    aHl[*pnHl][0] = chars_between(zText, iStart, a);
    aHl[*pnHl][1] = chars_between(zText, a, b);
    (*pnHl)++;
  }
}
