/*
** fuzz_dqdump.c — dq_dump (src/dqclient.c), the client's reader of a member's answer to DUMP
** (`chatvault backup` and `check` against a cluster), on any bytes as that answer: the input
** is what the "node" sends after the request (an 8-byte message header, then the body), read
** from a real loopback socket as in use. No thread and no wait per input: the connection
** completes through the listener's backlog, the answer sits in the socket buffer before
** dq_dump runs, and the write side is shut (an answer cut short reads EOF).
** Properties, not only crashes: the result is one of the client's codes; on success the file
** written holds exactly the first file's bytes of a well-formed FILES answer (checked by a
** separate reading of the input below), and *pnBytes says how many; on failure the
** connection is marked lost; nothing leaks (LeakSanitizer).
*/
#include "fuzz_common.h"
#include "dqclient.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

static int fdListen = -1;
static char zAddr[64];

static uint64_t le64(const unsigned char *p){
  uint64_t v = 0;
  int i;
  for(i=7; i>=0; i--) v = (v<<8) | p[i];
  return v;
}

/* The first file of a well-formed FILES answer in a[0..n): its offset and length (1), or 0
** when dq_dump must refuse the answer. Written apart from dqclient.c's streaming reader. */
static int reference(const unsigned char *a, size_t n, size_t *pOff, size_t *pLen){
  size_t nBody, off = 16, end;
  uint64_t nFile, i;
  if( n<16 || a[4]!=9 ) return 0;                       /* RSP_FILES */
  nBody = (size_t)(le64(a) & 0xffffffff) * 8;
  if( nBody<8 || n - 8 < nBody ) return 0;
  end = 8 + nBody;
  nFile = le64(a + 8);
  if( nFile<1 || nFile>2 ) return 0;
  for(i=0; i<nFile; i++){
    size_t nName = 0;
    uint64_t len;
    for(;;){                                            /* a name: 8-byte words up to a NUL */
      if( off + 8 > end || nName + 8 > DQ_ADDR_MAX + 1 + 8 ) return 0;
      off += 8;
      nName += 8;
      if( memchr(a + off - 8, 0, 8) ) break;
    }
    if( off + 8 > end ) return 0;
    len = le64(a + off);
    off += 8;
    if( len > end - off || (i>0 && len>0) ) return 0;
    if( i==0 ){ *pOff = off; *pLen = (size_t)len; }
    off += (size_t)len;
  }
  return off==end;
}

static void setup(void){
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  fdListen = socket(AF_INET, SOCK_STREAM, 0);
  if( fdListen<0 || bind(fdListen, (struct sockaddr*)&sa, sizeof sa)!=0
   || listen(fdListen, 8)!=0 || getsockname(fdListen, (struct sockaddr*)&sa, &len)!=0 ){
    perror("fuzz_dqdump: listener");
    abort();
  }
  snprintf(zAddr, sizeof zAddr, "127.0.0.1:%d", ntohs(sa.sin_port));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size){
  struct dq_conn *c = NULL;
  char zErr[200];
  uint64_t nBytes = 7;
  size_t off = 0, len = 0, sent = 0;
  int fdPeer, fdOut, bGood;
  cv_rc rc;
  if( size>64*1024 ) return 0;                          /* stays within the socket buffers */
  if( fdListen<0 ) setup();
  FZ_CHECK( dq_connect(zAddr, 2000, &c, zErr, sizeof zErr)==CV_OK );
  fdPeer = accept(fdListen, NULL, NULL);
  FZ_CHECK( fdPeer>=0 );
  while( sent<size ){
    ssize_t w = send(fdPeer, data + sent, size - sent, MSG_NOSIGNAL);
    FZ_CHECK( w>0 );
    sent += (size_t)w;
  }
  FZ_CHECK( shutdown(fdPeer, SHUT_WR)==0 );
  fdOut = memfd_create("fuzz_dqdump", 0);
  FZ_CHECK( fdOut>=0 );
  dq_set_deadline(c, 2000);
  rc = dq_dump(c, "db", fdOut, &nBytes);
  bGood = reference(data, size, &off, &len);
  FZ_CHECK( rc==CV_OK || rc==CV_INVALID || rc==CV_IO || rc==CV_CLOSED || rc==CV_TIMEOUT
         || rc==CV_TOOLARGE || rc==CV_BUSY || rc==CV_DB || rc==CV_NOMEM );
  if( rc==CV_OK ){
    unsigned char *p;
    FZ_CHECK( bGood );
    FZ_CHECK( nBytes==len && lseek(fdOut, 0, SEEK_CUR)==(off_t)len );
    p = malloc(len ? len : 1);
    FZ_CHECK( p && pread(fdOut, p, len, 0)==(ssize_t)len );
    FZ_CHECK( memcmp(p, data + off, len)==0 );
    free(p);
    FZ_CHECK( !dq_lost(c) );
  }else{
    /* a well-formed answer is refused only when it is not FILES (FAILURE and the like) */
    FZ_CHECK( !bGood );
    FZ_CHECK( dq_lost(c) || rc==CV_DB || rc==CV_BUSY );
  }
  dq_close(c);
  close(fdOut);
  close(fdPeer);
  return 0;
}
