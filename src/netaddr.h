/*
** netaddr.h — client addresses: IPv4/IPv6 parsing, CIDR lists (--trusted-proxy), the client
** address of a request behind trusted proxies (X-Forwarded-For), and the throttling key of
** an address. Pure functions over libc (inet_pton/inet_ntop); implemented in netaddr.c.
*/
#ifndef CV_NETADDR_H
#define CV_NETADDR_H

#include "cv.h"
#include <stddef.h>

#define CV_CIDR_MAX 16        /* networks in one --trusted-proxy list */
#define CV_ADDR_TEXT 48       /* >= INET6_ADDRSTRLEN, with room for "/64" */

/* One network. IPv4 is held as IPv4-mapped IPv6 (::ffff:a.b.c.d, prefix + 96). */
struct cv_cidr {
  unsigned char a[16];        /* the address, bits past nBits zeroed */
  int nBits;                  /* prefix length, 0..128 */
};

/* Parse an address: IPv4 dotted quad or IPv6, optionally "[v6]", "[v6]:port" or "v4:port"
** (forms proxies write), surrounding blanks ignored. Returns 1 and a[16] (IPv4-mapped for
** IPv4) when it is one, else 0. z is n bytes, need not be NUL-terminated. */
int netaddr_parse(const char *z, size_t n, unsigned char a[16]);

/* Parse a comma-separated list of ADDR or ADDR/BITS into aOut (at most CV_CIDR_MAX).
** CV_OK with *pn set; CV_INVALID on a malformed entry, a prefix too long, too many entries or
** an empty list. */
cv_rc netaddr_parse_cidrs(const char *zList, struct cv_cidr *aOut, int *pn);

/* 1 when a[16] is inside one of the n networks. */
int netaddr_in(const struct cv_cidr *aNet, int n, const unsigned char a[16]);

/* The request's client address, written as text into zOut (CV_ADDR_TEXT bytes): the socket
** peer zPeer, unless it is inside aTrusted (n networks), in which case X-Forwarded-For
** decides: its hops (azXff, nXff header values in arrival order, each comma-separated) are
** walked from the right, trusted ones skipped; the first untrusted hop is the client. When
** every hop is trusted, the left-most is. A hop that is not an address stops the walk and the
** last trusted address seen is the client (the proxy chain did not say more). Addresses are
** written in canonical form (IPv4-mapped as IPv4). */
void netaddr_client(const struct cv_cidr *aTrusted, int n, const char *zPeer,
                    const char *const *azXff, int nXff, char *zOut);

/* The throttling key of a client address (text as netaddr_client writes it): an IPv4 address
** itself, an IPv6 address's /64 (one host commonly holds a whole /64), anything else as is
** (truncated to CV_ADDR_TEXT-1 bytes). zOut holds CV_ADDR_TEXT bytes. */
void netaddr_throttle_key(const char *zAddr, char *zOut);

#endif
