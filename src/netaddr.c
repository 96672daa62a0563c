/*
** netaddr.c — see netaddr.h. Why the right-most untrusted hop: every proxy appends the
** address it received the request from, so the hops to the right of the last trusted proxy's
** entry were written by proxies we trust, and everything to the left of the first untrusted
** hop was written by the client and may be forged. Only a trusted peer's header is read at
** all; from anyone else X-Forwarded-For is ignored (it would let a client pick its throttling
** key). Calls libc only.
*/
#include "netaddr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char aMapped[12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff };

int netaddr_parse(const char *z, size_t n, unsigned char a[16]){
  char zBuf[64];
  const char *zColon;
  while( n>0 && isspace((unsigned char)z[0]) ){ z++; n--; }
  while( n>0 && isspace((unsigned char)z[n-1]) ) n--;
  if( n==0 || n>=sizeof zBuf ) return 0;
  if( z[0]=='[' ){
    const char *zEnd = memchr(z, ']', n);
    if( !zEnd ) return 0;
    /* "[v6]" or "[v6]:port" */
    if( (size_t)(zEnd - z) + 1 < n && zEnd[1]!=':' ) return 0;
    n = (size_t)(zEnd - z) - 1;
    z++;
    if( n==0 || n>=sizeof zBuf ) return 0;
  }
  memcpy(zBuf, z, n);
  zBuf[n] = 0;
  zColon = strchr(zBuf, ':');
  if( zColon && !strchr(zColon+1, ':') ){
    /* "a.b.c.d:port" */
    zBuf[zColon - zBuf] = 0;
  }
  if( inet_pton(AF_INET, zBuf, a+12)==1 ){
    memcpy(a, aMapped, sizeof aMapped);
    return 1;
  }
  return inet_pton(AF_INET6, zBuf, a)==1;
}

/* Keep the first nBits of a[16], zero the rest. */
static void mask(unsigned char a[16], int nBits){
  int i;
  for(i=0; i<16; i++){
    int keep = nBits - i*8;
    if( keep>=8 ) continue;
    a[i] = keep<=0 ? 0 : (unsigned char)(a[i] & (0xff << (8-keep)));
  }
}

cv_rc netaddr_parse_cidrs(const char *zList, struct cv_cidr *aOut, int *pn){
  const char *z = zList;
  int n = 0;
  *pn = 0;
  if( !zList ) return CV_INVALID;
  for(;;){
    const char *zEnd = strchr(z, ',');
    size_t len = zEnd ? (size_t)(zEnd - z) : strlen(z);
    const char *zSlash = memchr(z, '/', len);
    size_t lenAddr = zSlash ? (size_t)(zSlash - z) : len;
    int bV4, nBits;
    if( n>=CV_CIDR_MAX ) return CV_INVALID;
    if( !netaddr_parse(z, lenAddr, aOut[n].a) ) return CV_INVALID;
    bV4 = memcmp(aOut[n].a, aMapped, sizeof aMapped)==0 && memchr(z, '.', lenAddr)!=NULL;
    if( zSlash ){
      char zBits[8], *zStop;
      size_t lenBits = len - lenAddr - 1;
      long v;
      while( lenBits>0 && isspace((unsigned char)zSlash[lenBits]) ) lenBits--;
      if( lenBits==0 || lenBits>=sizeof zBits ) return CV_INVALID;
      memcpy(zBits, zSlash+1, lenBits);
      zBits[lenBits] = 0;
      if( !isdigit((unsigned char)zBits[0]) ) return CV_INVALID;
      v = strtol(zBits, &zStop, 10);
      if( *zStop || v<0 || v>(bV4 ? 32 : 128) ) return CV_INVALID;
      nBits = (int)v + (bV4 ? 96 : 0);
    }else{
      nBits = 128;
    }
    aOut[n].nBits = nBits;
    mask(aOut[n].a, nBits);
    n++;
    if( !zEnd ) break;
    z = zEnd + 1;
  }
  *pn = n;
  return CV_OK;
}

int netaddr_in(const struct cv_cidr *aNet, int n, const unsigned char a[16]){
  int i;
  for(i=0; i<n; i++){
    unsigned char b[16];
    memcpy(b, a, 16);
    mask(b, aNet[i].nBits);
    if( memcmp(b, aNet[i].a, 16)==0 ) return 1;
  }
  return 0;
}

/* a[16] as canonical text into zOut (CV_ADDR_TEXT bytes). */
static void format(const unsigned char a[16], char *zOut){
  if( memcmp(a, aMapped, sizeof aMapped)==0 ){
    inet_ntop(AF_INET, a+12, zOut, CV_ADDR_TEXT);
  }else{
    inet_ntop(AF_INET6, a, zOut, CV_ADDR_TEXT);
  }
}

void netaddr_client(const struct cv_cidr *aTrusted, int n, const char *zPeer,
                    const char *const *azXff, int nXff, char *zOut){
  unsigned char a[16], aLast[16];
  int i;
  if( !zPeer ) zPeer = "";
  if( !netaddr_parse(zPeer, strlen(zPeer), a) ){
    snprintf(zOut, CV_ADDR_TEXT, "%s", zPeer);
    return;
  }
  memcpy(aLast, a, 16);
  if( n>0 && netaddr_in(aTrusted, n, a) ){
    for(i=nXff-1; i>=0; i--){
      const char *z = azXff[i];
      size_t end = z ? strlen(z) : 0;
      while( end>0 ){
        size_t start = end;
        while( start>0 && z[start-1]!=',' ) start--;
        if( !netaddr_parse(z+start, end-start, a) ) goto done;   /* not an address: stop */
        memcpy(aLast, a, 16);
        if( !netaddr_in(aTrusted, n, a) ) goto done;            /* the client */
        end = start>0 ? start-1 : 0;
      }
    }
  }
done:
  format(aLast, zOut);
}

void netaddr_throttle_key(const char *zAddr, char *zOut){
  unsigned char a[16];
  if( netaddr_parse(zAddr, strlen(zAddr), a) && memcmp(a, aMapped, sizeof aMapped)!=0 ){
    size_t len;
    mask(a, 64);
    format(a, zOut);
    len = strlen(zOut);
    snprintf(zOut+len, CV_ADDR_TEXT-len, "/64");
    return;
  }
  snprintf(zOut, CV_ADDR_TEXT, "%s", zAddr);
}
