/*
** fuzz_framing.c — server_check_framing, the RFC 9112 §6.1/§6.3 check every request passes
** before routing. Input: the HTTP version on the first line ("1.0"/"1.1"), then header lines
** "Name: value" (split at the first ':', the value's leading spaces dropped as civetweb does).
** Properties, checked against a reference written differently (counting in one pass over
** lower-cased copies): accepted means at most one Content-Length, at most one
** Transfer-Encoding, never both; a Transfer-Encoding accepted is the single coding
** "chunked" and not in HTTP/1.0; a Content-Length accepted is 1 to 18 digits. A refusal
** always comes with a detail.
*/
#include "fuzz_common.h"
#include "server.h"

#include <ctype.h>
#include <stdint.h>

#define FZ_MAX_HDR 64

static int lower_eq(const char *z, const char *zLower){
  size_t i;
  for(i=0; z[i] && zLower[i]; i++){
    if( tolower((unsigned char)z[i])!=zLower[i] ) return 0;
  }
  return z[i]==0 && zLower[i]==0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n){
  const char *azName[FZ_MAX_HDR], *azValue[FZ_MAX_HDR];
  char *zIn, *z, *zVersion;
  int nHdr = 0, i, nCl = 0, nTe = 0, bOk = 1;
  const char *zRes, *zTe = NULL, *zCl = NULL;
  if( n > 4096 ) return 0;
  zIn = fz_strndup(data, n);
  zVersion = zIn;
  z = strchr(zIn, '\n');
  if( z ){ *z++ = 0; }
  while( z && *z && nHdr<FZ_MAX_HDR ){
    char *zNl = strchr(z, '\n'), *zColon;
    if( zNl ) *zNl = 0;
    zColon = strchr(z, ':');
    if( zColon ){
      *zColon = 0;
      azName[nHdr] = z;
      zColon++;
      while( *zColon==' ' ) zColon++;
      azValue[nHdr] = zColon;
      nHdr++;
    }
    z = zNl ? zNl + 1 : NULL;
  }
  zRes = server_check_framing(zVersion, nHdr, azName, azValue);

  for(i=0; i<nHdr; i++){
    if( lower_eq(azName[i], "content-length") ){ nCl++; zCl = azValue[i]; }
    if( lower_eq(azName[i], "transfer-encoding") ){ nTe++; zTe = azValue[i]; }
  }
  if( nCl>1 || nTe>1 || (nCl && nTe) ) bOk = 0;
  if( nTe==1 && (!lower_eq(zTe, "chunked") || strcmp(zVersion, "1.0")==0) ) bOk = 0;
  if( nCl==1 ){
    size_t k, m = strlen(zCl);
    if( m==0 || m>18 ) bOk = 0;
    for(k=0; k<m; k++) if( zCl[k]<'0' || zCl[k]>'9' ) bOk = 0;
  }
  FZ_CHECK( (zRes==NULL)==bOk );
  if( zRes ) FZ_CHECK( zRes[0]!=0 );
  free(zIn);
  return 0;
}
