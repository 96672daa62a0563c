/*
** fuzz_netaddr.c — the client-address parsers (src/netaddr.c): a --trusted-proxy list
** (netaddr_parse_cidrs), the socket peer and X-Forwarded-For values (netaddr_client), and the
** throttling key (netaddr_throttle_key). Input lines: the trusted list, the peer, then up to 8
** X-Forwarded-For header values.
** Properties: a list is accepted with 1..CV_CIDR_MAX networks of at most 128 bits, or refused;
** every output is a terminated string shorter than CV_ADDR_TEXT; with no trusted network or an
** untrusted peer the client is the peer; a client other than the peer is an address, and the
** peer was trusted; a throttling key is an address, an IPv6 /64, or the (cut) input.
*/
#include "fuzz_common.h"
#include "netaddr.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size){
  char *zIn = fz_strndup(data, size), *z = zIn, *azLine[10];
  const char *azXff[8];
  struct cv_cidr a[CV_CIDR_MAX];
  char zClient[CV_ADDR_TEXT], zPeerCanon[CV_ADDR_TEXT], zKey[CV_ADDR_TEXT];
  unsigned char aPeer[16], aClient[16];
  int nLine = 0, n = 0, i, bPeer;
  cv_rc rc;
  while( nLine<10 ){
    char *zNl = strchr(z, '\n');
    azLine[nLine++] = z;
    if( !zNl ) break;
    *zNl = 0;
    z = zNl + 1;
  }
  rc = netaddr_parse_cidrs(azLine[0], a, &n);
  FZ_CHECK( rc==CV_OK || rc==CV_INVALID );
  if( rc==CV_OK ){
    FZ_CHECK( n>=1 && n<=CV_CIDR_MAX );
    for(i=0; i<n; i++) FZ_CHECK( a[i].nBits>=0 && a[i].nBits<=128 );
  }else{
    n = 0;
  }
  for(i=2; i<nLine; i++) azXff[i-2] = azLine[i];
  {
    const char *zPeer = nLine>1 ? azLine[1] : "";
    int nXff = nLine>2 ? nLine-2 : 0;
    if( nXff>8 ) nXff = 8;
    bPeer = netaddr_parse(zPeer, strlen(zPeer), aPeer);
    netaddr_client(NULL, 0, zPeer, azXff, nXff, zPeerCanon);
    FZ_CHECK( strlen(zPeerCanon)<CV_ADDR_TEXT );
    netaddr_client(a, n, zPeer, azXff, nXff, zClient);
    FZ_CHECK( strlen(zClient)<CV_ADDR_TEXT );
    if( !bPeer || !netaddr_in(a, n, aPeer) ) FZ_CHECK( strcmp(zClient, zPeerCanon)==0 );
    if( strcmp(zClient, zPeerCanon)!=0 ){
      FZ_CHECK( bPeer && netaddr_in(a, n, aPeer) );
      FZ_CHECK( netaddr_parse(zClient, strlen(zClient), aClient) );
    }
    netaddr_throttle_key(zClient, zKey);
    FZ_CHECK( strlen(zKey)<CV_ADDR_TEXT );
  }
  free(zIn);
  return 0;
}
