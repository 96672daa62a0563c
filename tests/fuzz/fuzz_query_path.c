/*
** fuzz_query_path.c — the request line's path and query as the server reads them:
** server_decode_path (percent-decoding, %00 and malformed escapes refused), the router's
** lookup for every method on the raw path (router_lookup splits, then decodes segments),
** val_path_id on the parameters it extracts and val_query_int on the query.
** Input: "PATH?QUERY" (the first '?' splits).
** Properties: a decoded path holds no NUL and is never longer than the raw one; a matched
** route's parameters are non-empty and the raw path has exactly the pattern's segments (an
** encoded '/' never separates); an accepted id is all digits, its value; a query integer
** accepted is inside its bounds.
*/
#include "fuzz_common.h"
#include "http.h"
#include "router.h"
#include "server.h"
#include "validate.h"

#include <ctype.h>
#include <stdint.h>

static const char *azMethod[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "" };

static void check_query(const char *zQuery){
  static const struct { const char *zName; int64_t iDef, iMin, iMax; } aQ[] = {
    { "limit", 50, 1, 200 }, { "offset", 0, 0, INT64_MAX/2 }, { "page", 1, 1, 1000000000 },
    { "limit", 10, 1, 50 },  { "l", 0, -5, 5 },
  };
  size_t i;
  for(i=0; i<sizeof aQ/sizeof aQ[0]; i++){
    struct cv_verr e;
    int64_t v = -12345;
    int rc;
    verr_init(&e);
    rc = val_query_int(&e, zQuery, aQ[i].zName, aQ[i].iDef, aQ[i].iMin, aQ[i].iMax, &v);
    FZ_CHECK( rc==1 || rc==-1 );
    FZ_CHECK( (rc==-1) == (e.n>0) );
    if( rc==1 ) FZ_CHECK( v==aQ[i].iDef || (v>=aQ[i].iMin && v<=aQ[i].iMax) );
    if( rc==1 && zQuery ){
      /* the value accepted for the name holds no encoded NUL (it would have been cut) */
      const char *z = zQuery;
      size_t nName = strlen(aQ[i].zName);
      while( z && *z ){
        const char *zAmp = strchr(z, '&');
        size_t nSeg = zAmp ? (size_t)(zAmp - z) : strlen(z);
        if( nSeg>nName && strncmp(z, aQ[i].zName, nName)==0 && z[nName]=='=' ){
          const char *zNul = strstr(z, "%00");
          FZ_CHECK( zNul==NULL || zNul>=z+nSeg );
        }
        z = zAmp ? zAmp+1 : NULL;
      }
    }
    verr_free(&e);
  }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n){
  char *zIn, *zQ, *zPath;
  size_t nPath, m;
  if( n > 8192 ) return 0;
  zIn = fz_strndup(data, n);
  zQ = strchr(zIn, '?');
  if( zQ ) *zQ++ = 0;
  check_query(zQ);
  if( server_decode_path(zIn, &zPath)!=CV_OK ) FZ_CHECK( zPath==NULL );
  if( zPath ){
    /* the server routes the RAW path once it decodes cleanly (server.c handle_request) */
    char *zBuf, *zRaw = zIn;
    size_t nSlash = 0;
    FZ_CHECK( strlen(zPath)<=strlen(zIn) );
    nPath = strlen(zRaw);
    if( nPath>1 && zRaw[nPath-1]=='/' ) zRaw[--nPath] = 0;   /* as router_dispatch */
    for(m=0; m<nPath; m++) nSlash += zRaw[m]=='/';
    zBuf = malloc(nPath + 1);
    FZ_CHECK( zBuf!=NULL );
    for(m=0; m<sizeof azMethod/sizeof azMethod[0]; m++){
      const char *azParam[CV_MAX_PARAMS] = {0};
      char zAllow[64];
      int i = router_lookup(azMethod[m], zRaw, zBuf, nPath + 1, azParam, zAllow, sizeof zAllow);
      FZ_CHECK( i>=-2 );
      if( i==-1 ) FZ_CHECK( zAllow[0]!=0 && strlen(zAllow)<sizeof zAllow );
      if( i>=0 ){
        int k;
        const char *zPat = router_pattern(i), *z;
        size_t nPatSlash = 0;
        FZ_CHECK( zPat!=NULL );
        /* a decoded '/' never acts as a separator: the raw path has the pattern's segments */
        for(z=zPat; *z; z++) nPatSlash += *z=='/';
        FZ_CHECK( nPatSlash==nSlash );
        for(k=0; k<CV_MAX_PARAMS && azParam[k]; k++){
          struct cv_verr e;
          int64_t id = -1;
          FZ_CHECK( azParam[k][0]!=0 );
          FZ_CHECK( azParam[k]>=zBuf && azParam[k]<zBuf + nPath + 1 );
          verr_init(&e);
          if( val_path_id(&e, azParam[k], "id", &id)==1 ){
            int64_t v = 0;
            for(z=azParam[k]; *z; z++){ FZ_CHECK( isdigit((unsigned char)*z) ); v = v*10 + (*z-'0'); }
            FZ_CHECK( v==id && id>=0 );
          }else{
            FZ_CHECK( e.n==1 );
          }
          verr_free(&e);
        }
      }
    }
    free(zBuf);
    free(zPath);
  }
  free(zIn);
  return 0;
}
