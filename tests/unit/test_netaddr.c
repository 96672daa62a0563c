/* test_netaddr.c — unit tests of src/netaddr.c: address forms, CIDR lists, the client address
** behind trusted proxies (X-Forwarded-For, right-most untrusted hop) and throttling keys. */
#include "tinytest.h"
#include "netaddr.h"

#include <string.h>

static int parses(const char *z){
  unsigned char a[16];
  return netaddr_parse(z, strlen(z), a);
}

static void parse_forms(void){
  TT_CHECK( parses("1.2.3.4") );
  TT_CHECK( parses(" 1.2.3.4 ") );
  TT_CHECK( parses("1.2.3.4:8080") );
  TT_CHECK( parses("::1") );
  TT_CHECK( parses("[::1]") );
  TT_CHECK( parses("[2001:db8::1]:443") );
  TT_CHECK( parses("::ffff:10.1.2.3") );
  TT_CHECK( !parses("") );
  TT_CHECK( !parses("unknown") );
  TT_CHECK( !parses("1.2.3") );
  TT_CHECK( !parses("1.2.3.4.5") );
  TT_CHECK( !parses("[::1") );
  TT_CHECK( !parses("[::1]x") );
  TT_CHECK( !parses("1.2.3.4, 5.6.7.8") );
}

static void cidr_lists(void){
  struct cv_cidr a[CV_CIDR_MAX];
  unsigned char x[16];
  int n = 0;
  TT_CHECK( netaddr_parse_cidrs("10.0.0.0/8, 192.168.1.7,::1,fd00::/8", a, &n)==CV_OK && n==4 );
  TT_CHECK( netaddr_parse("10.200.3.4", 10, x) && netaddr_in(a, n, x) );
  TT_CHECK( netaddr_parse("11.0.0.1", 8, x) && !netaddr_in(a, n, x) );
  TT_CHECK( netaddr_parse("192.168.1.7", 11, x) && netaddr_in(a, n, x) );
  TT_CHECK( netaddr_parse("192.168.1.8", 11, x) && !netaddr_in(a, n, x) );
  TT_CHECK( netaddr_parse("::ffff:192.168.1.7", 18, x) && netaddr_in(a, n, x) );  /* mapped = v4 */
  TT_CHECK( netaddr_parse("::1", 3, x) && netaddr_in(a, n, x) );
  TT_CHECK( netaddr_parse("fd12::5", 7, x) && netaddr_in(a, n, x) );
  TT_CHECK( netaddr_parse("fe80::1", 7, x) && !netaddr_in(a, n, x) );
  TT_CHECK( netaddr_parse_cidrs("0.0.0.0/0", a, &n)==CV_OK && n==1 );
  TT_CHECK( netaddr_parse("8.8.8.8", 7, x) && netaddr_in(a, n, x) );
  TT_CHECK( netaddr_parse("2001::1", 7, x) && !netaddr_in(a, n, x) );    /* /0 of IPv4 only */
  TT_CHECK( netaddr_parse_cidrs("10.0.0.0/33", a, &n)==CV_INVALID );
  TT_CHECK( netaddr_parse_cidrs("::/129", a, &n)==CV_INVALID );
  TT_CHECK( netaddr_parse_cidrs("10.0.0.0/", a, &n)==CV_INVALID );
  TT_CHECK( netaddr_parse_cidrs("10.0.0.0/x", a, &n)==CV_INVALID );
  TT_CHECK( netaddr_parse_cidrs("proxy.local", a, &n)==CV_INVALID );
  TT_CHECK( netaddr_parse_cidrs("10.0.0.1,", a, &n)==CV_INVALID );
  TT_CHECK( netaddr_parse_cidrs("", a, &n)==CV_INVALID );
}

static void client_behind_proxies(void){
  struct cv_cidr a[CV_CIDR_MAX];
  char z[CV_ADDR_TEXT];
  int n = 0;
  const char *azOne[] = { "203.0.113.9" };
  const char *azChain[] = { "6.6.6.6, 203.0.113.9", "10.0.0.5" };   /* forged, client, proxy */
  const char *azAllTrusted[] = { "10.0.0.7, 10.0.0.5" };
  const char *azGarbage[] = { "203.0.113.9, unknown" };
  const char *azV6[] = { "[2001:db8::7]:5555" };
  TT_CHECK( netaddr_parse_cidrs("10.0.0.0/8,127.0.0.1", a, &n)==CV_OK );
  /* no trusted proxy configured: the header is ignored */
  netaddr_client(a, 0, "127.0.0.1", azOne, 1, z);
  TT_CHECK( strcmp(z, "127.0.0.1")==0 );
  /* an untrusted peer's header is ignored */
  netaddr_client(a, n, "198.51.100.1", azOne, 1, z);
  TT_CHECK( strcmp(z, "198.51.100.1")==0 );
  /* a trusted peer: its header's right-most untrusted hop */
  netaddr_client(a, n, "127.0.0.1", azOne, 1, z);
  TT_CHECK( strcmp(z, "203.0.113.9")==0 );
  netaddr_client(a, n, "127.0.0.1", azChain, 2, z);
  TT_CHECK( strcmp(z, "203.0.113.9")==0 );
  netaddr_client(a, n, "127.0.0.1", azAllTrusted, 1, z);
  TT_CHECK( strcmp(z, "10.0.0.7")==0 );
  netaddr_client(a, n, "127.0.0.1", azGarbage, 1, z);
  TT_CHECK( strcmp(z, "127.0.0.1")==0 );
  netaddr_client(a, n, "127.0.0.1", NULL, 0, z);
  TT_CHECK( strcmp(z, "127.0.0.1")==0 );
  netaddr_client(a, n, "127.0.0.1", azV6, 1, z);
  TT_CHECK( strcmp(z, "2001:db8::7")==0 );
  netaddr_client(a, n, "::ffff:10.1.1.1", azOne, 1, z);
  TT_CHECK( strcmp(z, "203.0.113.9")==0 );
}

static void throttle_keys(void){
  char z[CV_ADDR_TEXT];
  netaddr_throttle_key("203.0.113.9", z);
  TT_CHECK( strcmp(z, "203.0.113.9")==0 );
  netaddr_throttle_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", z);
  TT_CHECK( strcmp(z, "2001:db8:1:2::/64")==0 );
  netaddr_throttle_key("2001:db8:1:2::1", z);
  TT_CHECK( strcmp(z, "2001:db8:1:2::/64")==0 );
  netaddr_throttle_key("", z);
  TT_CHECK( strcmp(z, "")==0 );
}

int main(void){
  TT_RUN(parse_forms);
  TT_RUN(cidr_lists);
  TT_RUN(client_behind_proxies);
  TT_RUN(throttle_keys);
  return TT_DONE();
}
