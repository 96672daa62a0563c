/*
** fuzz_iso.c — util_iso_parse, util_iso_format, util_utf8_valid/_chars/_prefix_len and
** util_auto_title. Properties, not only crashes:
**   - a time that parses formats to the contract's shape and parses back to the same instant;
**   - util_utf8_valid agrees with an independent decoder, and counts match;
**   - an automatic title of valid text is valid UTF-8, one line, at most 60 characters
**     plus "…", never begins or ends with blanks.
*/
#include "fuzz_common.h"
#include "util.h"

#include <ctype.h>
#include <stdint.h>

static void check_iso(const char *z){
  int64_t ms, ms2;
  char zOut[CV_TS_LEN+1];
  size_t i;
  if( util_iso_parse(z, &ms)!=CV_OK ) return;
  util_iso_format(ms, zOut);
  FZ_CHECK( strlen(zOut)==CV_TS_LEN );
  for(i=0; i<CV_TS_LEN; i++){
    const char *zShape = "dddd-dd-ddTdd:dd:dd.dddZ";
    if( zShape[i]=='d' ) FZ_CHECK( isdigit((unsigned char)zOut[i]) );
    else FZ_CHECK( zOut[i]==zShape[i] );
  }
  FZ_CHECK( util_iso_parse(zOut, &ms2)==CV_OK );
  if( ms2!=ms ){
    fprintf(stderr, "round trip: %s -> %lld -> %s -> %lld\n", z, (long long)ms, zOut, (long long)ms2);
  }
  FZ_CHECK( ms2==ms );
}

static void check_utf8(const unsigned char *a, size_t n){
  size_t nRef = 0;
  int v = util_utf8_valid((const char*)a, n);
  int vRef = fz_utf8_ref(a, n, &nRef);
  FZ_CHECK( v==vRef );
  if( v ){
    char *z = fz_strndup(a, n);
    size_t k;
    FZ_CHECK( util_utf8_chars(z)==nRef );
    for(k=0; k<=nRef+1; k+= (nRef/7)+1){
      size_t nb = util_utf8_prefix_len(z, k);
      FZ_CHECK( nb<=n );
      FZ_CHECK( fz_utf8_ref((const unsigned char*)z, nb, NULL) );
      FZ_CHECK( util_utf8_chars(z)>=k ? 1 : nb==n );
    }
    free(z);
  }
}

static void check_title(const unsigned char *a, size_t n){
  char *z;
  char *zT;
  cv_rc rc;
  if( !fz_utf8_ref(a, n, NULL) ) return;   /* titles are made of validated messages only */
  z = fz_strndup(a, n);
  zT = util_auto_title(z, &rc);
  FZ_CHECK( rc==CV_OK );
  if( zT ){
    size_t nT = strlen(zT), nc = 0;
    FZ_CHECK( nT>0 );
    FZ_CHECK( fz_utf8_ref((const unsigned char*)zT, nT, &nc) );
    FZ_CHECK( nc<=CV_AUTO_TITLE_CHARS+1 );
    FZ_CHECK( strchr(zT, '\n')==NULL );
    FZ_CHECK( !isspace((unsigned char)zT[0]) );
    FZ_CHECK( !isspace((unsigned char)zT[nT-1]) );
    free(zT);
  }
  free(z);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n){
  char *z = fz_strndup(data, n);
  check_iso(z);
  free(z);
  check_utf8(data, n);
  check_title(data, n);
  return 0;
}
