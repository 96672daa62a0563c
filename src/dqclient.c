/*
** dqclient.c — a client of dqlite's wire protocol (contract in dqclient.h).
**
** The protocol (dqlite 1.18): after a TCP connect the client sends one word (8 bytes, little
** endian), the protocol version 1. Then every request and every response is a message: a
** header word (bytes 0-3 the body's size in words, byte 4 the type, byte 5 the schema
** version, bytes 6-7 unused) and a body of fields, each little endian and padded to a word:
** uint64; two uint32 sharing a word; text (bytes, a NUL, zeros up to the word); blob (uint64
** length, bytes, zeros up to the word). Parameters follow a statement as a tuple: (schema 1)
** a uint32 count, one type byte per value, zeros up to the word, then the values. A row is a
** 4-bit type per column (zeros up to the word), then the values. A query's answer is one or
** more ROWS messages: column count, column names, rows, then a marker word: PART (another
** ROWS message follows, unasked) or DONE.
**
** One request is in flight per connection. A call writes its request and reads its whole
** answer before it returns, so a connection is always between messages, or broken.
*/
#include "dqclient.h"

#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sqlite3.h"
#include "util.h"

/* request types (dqlite's protocol.h) */
#define REQ_LEADER     0
#define REQ_OPEN       3
#define REQ_EXEC_SQL   8
#define REQ_QUERY_SQL  9
#define REQ_ADD       12
#define REQ_ASSIGN    13
#define REQ_REMOVE    14
#define REQ_DUMP      15
#define REQ_CLUSTER   16
#define REQ_TRANSFER  17
/* response types */
#define RSP_FAILURE    0
#define RSP_SERVER     1
#define RSP_SERVERS    3
#define RSP_DB         4
#define RSP_RESULT     6
#define RSP_ROWS       7
#define RSP_EMPTY      8
#define RSP_FILES      9

#define ROWS_PART  0xeeeeeeeeeeeeeeeeULL
#define ROWS_DONE  0xffffffffffffffffULL
#define PROTOCOL_VERSION 1

#define PAD8(n) (((n) + 7) & ~(size_t)7)

struct dq_chunk {                      /* a response body that values point into */
  struct dq_chunk *pNext;
  unsigned char a[];
};

struct dq_conn {
  int fd;                              /* -1 once broken */
  int64_t deadlineMs;                  /* CLOCK_MONOTONIC milliseconds */
  uint64_t errCode;                    /* the node's last failure code */
  char zErr[256];
  char zAddr[DQ_ADDR_MAX + 1];
  int bDb;                             /* a database is open */
  uint32_t dbId;
  struct cv_buf req;                   /* the request being built */
  unsigned char *aBody;                /* the last response's body (malloc'd, owned) */
  size_t nBody;
  int type;                            /* the last response's type */
  int reqType;                         /* the last request's type */
};

/* ---- time and sockets */

static int64_t now_ms(void){ return util_mono_us()/1000; }

static int ms_left(const struct dq_conn *c){
  int64_t d = c->deadlineMs - now_ms();
  return d<=0 ? 0 : d>INT32_MAX ? INT32_MAX : (int)d;
}

/* Record why a call failed and return rc. A socket error or a timeout (CV_IO, CV_CLOSED,
** CV_TIMEOUT) also breaks the connection: where the stream stands is unknown. So does an
** answer that cannot be read whole (bad_answer, and recv_msg's CV_TOOLARGE and CV_NOMEM). */
static cv_rc fail(struct dq_conn *c, cv_rc rc, const char *zFmt, ...)
  __attribute__((format(printf, 3, 4)));
static cv_rc fail(struct dq_conn *c, cv_rc rc, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(c->zErr, sizeof c->zErr, zFmt, ap);
  va_end(ap);
  c->errCode = 0;
  if( rc==CV_IO || rc==CV_CLOSED || rc==CV_TIMEOUT ){
    if( c->fd>=0 ) close(c->fd);
    c->fd = -1;
  }
  return rc;
}

/* The node's answer does not parse (what: which answer): CV_INVALID, connection broken. */
static cv_rc bad_answer(struct dq_conn *c, const char *zWhat){
  fail(c, CV_IO, "%s: %s answer that does not parse", c->zAddr, zWhat);
  return CV_INVALID;
}

static cv_rc wait_fd(struct dq_conn *c, short events){
  for(;;){
    struct pollfd pfd = { c->fd, events, 0 };
    int ms = ms_left(c);
    int r;
    if( ms==0 ) return fail(c, CV_TIMEOUT, "%s: deadline passed", c->zAddr);
    r = poll(&pfd, 1, ms);
    if( r>0 ) return CV_OK;
    if( r<0 && errno!=EINTR ) return fail(c, CV_IO, "%s: poll: %s", c->zAddr, strerror(errno));
  }
}

static cv_rc write_all(struct dq_conn *c, const void *p, size_t n){
  const char *z = p;
  while( n>0 ){
    ssize_t w = send(c->fd, z, n, MSG_NOSIGNAL);
    if( w>0 ){ z += w; n -= (size_t)w; continue; }
    if( w<0 && (errno==EAGAIN || errno==EWOULDBLOCK) ){
      cv_rc rc = wait_fd(c, POLLOUT);
      if( rc ) return rc;
      continue;
    }
    if( w<0 && errno==EINTR ) continue;
    return fail(c, CV_CLOSED, "%s: send: %s", c->zAddr, strerror(errno));
  }
  return CV_OK;
}

static cv_rc read_all(struct dq_conn *c, void *p, size_t n){
  char *z = p;
  while( n>0 ){
    ssize_t r = recv(c->fd, z, n, 0);
    if( r>0 ){ z += r; n -= (size_t)r; continue; }
    if( r==0 ) return fail(c, CV_CLOSED, "%s: the node closed the connection", c->zAddr);
    if( errno==EAGAIN || errno==EWOULDBLOCK ){
      cv_rc rc = wait_fd(c, POLLIN);
      if( rc ) return rc;
      continue;
    }
    if( errno==EINTR ) continue;
    return fail(c, CV_CLOSED, "%s: recv: %s", c->zAddr, strerror(errno));
  }
  return CV_OK;
}

/* Split "host:port" or "[v6]:port" into zHost and zPort. */
static int split_addr(const char *zAddr, char *zHost, size_t nHost, char *zPort, size_t nPort){
  const char *zColon, *zH = zAddr;
  size_t nH;
  if( zAddr[0]=='[' ){
    const char *zEnd = strchr(zAddr, ']');
    if( !zEnd || zEnd[1]!=':' ) return 1;
    zH = zAddr + 1;
    nH = (size_t)(zEnd - zH);
    zColon = zEnd + 1;
  }else{
    zColon = strrchr(zAddr, ':');
    if( !zColon || strchr(zAddr, ':')!=zColon ) return 1;
    nH = (size_t)(zColon - zAddr);
  }
  if( nH==0 || nH>=nHost || strlen(zColon + 1)==0 || strlen(zColon + 1)>=nPort ) return 1;
  memcpy(zHost, zH, nH);
  zHost[nH] = 0;
  strcpy(zPort, zColon + 1);
  return 0;
}

static cv_rc tcp_connect(struct dq_conn *c){
  struct addrinfo hints, *pRes = NULL;
  char zHost[DQ_ADDR_MAX + 1], zPort[16];
  int fd, err = 0, one = 1, r;
  socklen_t len = sizeof err;
  if( split_addr(c->zAddr, zHost, sizeof zHost, zPort, sizeof zPort) ){
    return fail(c, CV_INVALID, "%s: not an address (HOST:PORT, numeric)", c->zAddr);
  }
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  r = getaddrinfo(zHost, zPort, &hints, &pRes);
  if( r ) return fail(c, CV_INVALID, "%s: %s", c->zAddr, gai_strerror(r));
  fd = socket(pRes->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if( fd<0 ){
    freeaddrinfo(pRes);
    return fail(c, CV_IO, "%s: socket: %s", c->zAddr, strerror(errno));
  }
  c->fd = fd;
  r = connect(fd, pRes->ai_addr, pRes->ai_addrlen);
  freeaddrinfo(pRes);
  if( r!=0 ){
    cv_rc rc;
    if( errno!=EINPROGRESS ) return fail(c, CV_IO, "%s: connect: %s", c->zAddr, strerror(errno));
    rc = wait_fd(c, POLLOUT);
    if( rc ) return rc;
    if( getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)!=0 ) err = errno;
    if( err ) return fail(c, CV_IO, "%s: connect: %s", c->zAddr, strerror(err));
  }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return CV_OK;
}

/* ---- building a request (fields appended to c->req after its header word) */

static cv_rc put(struct dq_conn *c, const void *p, size_t n){
  static const char zeros[8];
  cv_rc rc = buf_append(&c->req, p, n);
  if( rc==CV_OK && PAD8(n)!=n ) rc = buf_append(&c->req, zeros, PAD8(n) - n);
  return rc;
}

static void le64(unsigned char *a, uint64_t v){
  for(int i=0; i<8; i++) a[i] = (unsigned char)(v >> (8*i));
}
static uint64_t get_le64(const unsigned char *a){
  uint64_t v = 0;
  for(int i=7; i>=0; i--) v = (v << 8) | a[i];
  return v;
}

static cv_rc put_u64(struct dq_conn *c, uint64_t v){
  unsigned char a[8];
  le64(a, v);
  return put(c, a, 8);
}

static cv_rc put_text(struct dq_conn *c, const char *z){
  return put(c, z, strlen(z) + 1);
}

/* A parameter tuple in schema 1: uint32 count, a type byte per value, then the values. */
static cv_rc put_params(struct dq_conn *c, const struct dq_value *a, int n){
  unsigned char hdr[4];
  cv_rc rc;
  int i;
  if( n==0 ) return CV_OK;             /* an absent tuple is no parameters */
  for(i=0; i<4; i++) hdr[i] = (unsigned char)((uint32_t)n >> (8*i));
  rc = buf_append(&c->req, hdr, 4);
  for(i=0; rc==CV_OK && i<n; i++){
    unsigned char t = (unsigned char)a[i].type;
    rc = buf_append(&c->req, &t, 1);
  }
  while( rc==CV_OK && (c->req.n % 8)!=0 ) rc = buf_append(&c->req, "", 1);
  for(i=0; rc==CV_OK && i<n; i++){
    switch( a[i].type ){
      case SQLITE_INTEGER: rc = put_u64(c, (uint64_t)a[i].i); break;
      case SQLITE_FLOAT: {
        uint64_t u;
        memcpy(&u, &a[i].r, 8);
        rc = put_u64(c, u);
        break;
      }
      case SQLITE_TEXT:
        if( memchr(a[i].z, 0, a[i].n) ) return CV_INVALID;   /* text is NUL-terminated */
        rc = put(c, a[i].z, a[i].n);   /* then at least one NUL: */
        if( rc==CV_OK && (a[i].n % 8)==0 ) rc = put_u64(c, 0);
        break;
      case SQLITE_BLOB:
        rc = put_u64(c, a[i].n);
        if( rc==CV_OK && a[i].n ) rc = put(c, a[i].z, a[i].n);
        break;
      case SQLITE_NULL: rc = put_u64(c, 0); break;
      default: return CV_INVALID;
    }
  }
  return rc;
}

/* Start a request in c->req: its header word, filled in by send_request. */
static cv_rc begin(struct dq_conn *c){
  static const unsigned char hdr[8];
  c->req.n = 0;
  return buf_append(&c->req, hdr, 8);
}

/* Finish the request in c->req as type (schema version schema) and send it. Its size is
** below DQ_MSG_MAX (c->req's cap), so its count of words fits the header's 32 bits. */
static cv_rc send_request(struct dq_conn *c, int type, int schema){
  if( c->fd<0 ) return fail(c, CV_CLOSED, "%s: connection broken by an earlier failure", c->zAddr);
  assert( c->req.n>=8 && (c->req.n % 8)==0 && c->req.n<=DQ_MSG_MAX );
  le64((unsigned char*)c->req.a, (uint64_t)(c->req.n - 8)/8 | (uint64_t)type<<32
                                 | (uint64_t)schema<<40);
  c->reqType = type;
  return write_all(c, c->req.a, c->req.n);
}

/* Text at a (n bytes left) as dqlite encodes it: NUL-terminated, padded to 8 bytes. Its
** padded size, or 0 when it has no NUL within n. */
static size_t text_size(const unsigned char *a, size_t n){
  size_t m = strnlen((const char*)a, n);
  return m<n ? (m + 8) & ~(size_t)7 : 0;
}

void dq_parse_failure(const unsigned char *aBody, size_t nBody, int bQuery, uint64_t *pCode,
                      char *zMsg, size_t nMsg){
  size_t off = 0, i, t;
  if( bQuery && nBody>=8 ){
    /* dqlite 1.18 appends the failure of a query whose first step failed to the column
    ** header it already wrote: column count, names, then code and message. Taken when it
    ** accounts for the body exactly; else the body is a plain failure. */
    uint64_t nCol = get_le64(aBody);
    size_t o = 8;
    for(i=0; nCol>0 && nCol<=4096 && i<nCol && o<nBody; i++){
      t = text_size(aBody + o, nBody - o);
      if( t==0 ) break;
      o += t;
    }
    if( nCol>0 && nCol<=4096 && i==nCol && o+8<nBody
     && (t = text_size(aBody + o + 8, nBody - o - 8))!=0 && o + 8 + t==nBody ){
      off = o;
    }
  }
  *pCode = nBody>=off+8 ? get_le64(aBody + off) : 0;
  t = nBody>off+8 ? strnlen((const char*)aBody + off + 8, nBody - off - 8) : 0;
  snprintf(zMsg, nMsg, "%.*s", (int)t, (const char*)aBody + off + 8);
}

/* Read the body of the response whose header is hdr (its body n bytes) into c->aBody /
** c->type. A FAILURE response is CV_BUSY or CV_DB, with the node's code and message kept
** (dq_errcode, dq_errmsg). */
static cv_rc recv_body(struct dq_conn *c, const unsigned char hdr[8], uint64_t n){
  cv_rc rc;
  if( n>DQ_MSG_MAX ){
    fail(c, CV_IO, "%s: a response of %llu bytes", c->zAddr, (unsigned long long)n);
    return CV_TOOLARGE;
  }
  free(c->aBody);
  c->aBody = malloc(n ? n : 1);
  c->nBody = 0;
  if( !c->aBody ){                     /* the body stays unread: the connection is lost */
    fail(c, CV_IO, "%s: out of memory for a response", c->zAddr);
    return CV_NOMEM;
  }
  rc = read_all(c, c->aBody, n);
  if( rc ) return rc;
  c->nBody = n;
  c->type = hdr[4];
  if( c->type==RSP_FAILURE ){
    dq_parse_failure(c->aBody, n, c->reqType==REQ_QUERY_SQL, &c->errCode, c->zErr,
                     sizeof c->zErr);
    return (c->errCode & 0xff)==SQLITE_BUSY ? CV_BUSY : CV_DB;
  }
  c->errCode = 0;
  return CV_OK;
}

/* Read one response's header into hdr and *pn its body's size in bytes. */
static cv_rc recv_header(struct dq_conn *c, unsigned char hdr[8], uint64_t *pn){
  cv_rc rc = read_all(c, hdr, 8);
  if( rc==CV_OK ) *pn = (get_le64(hdr) & 0xffffffff) * 8;
  return rc;
}

/* Read one whole response (recv_body's contract). */
static cv_rc recv_msg(struct dq_conn *c){
  unsigned char hdr[8];
  uint64_t n = 0;
  cv_rc rc = recv_header(c, hdr, &n);
  return rc ? rc : recv_body(c, hdr, n);
}

static cv_rc call(struct dq_conn *c, int type, int schema, int want){
  cv_rc rc = send_request(c, type, schema);
  if( rc==CV_OK ) rc = recv_msg(c);
  if( rc==CV_OK && c->type!=want ) return bad_answer(c, "an unexpected");
  return rc;
}

/* ---- reading a response body */

struct rd { const unsigned char *p; size_t n; };

static int rd_u64(struct rd *r, uint64_t *pV){
  if( r->n<8 ) return 1;
  *pV = get_le64(r->p);
  r->p += 8; r->n -= 8;
  return 0;
}

static int rd_text(struct rd *r, const char **pz, size_t *pn){
  size_t m = strnlen((const char*)r->p, r->n);
  if( m==r->n ) return 1;
  *pz = (const char*)r->p;
  if( pn ) *pn = m;
  m = PAD8(m + 1);
  if( m>r->n ) m = r->n;
  r->p += m; r->n -= m;
  return 0;
}

static int rd_blob(struct rd *r, const char **pz, size_t *pn){
  uint64_t m;
  if( rd_u64(r, &m) || m>r->n || PAD8(m)>r->n ) return 1;
  *pz = (const char*)r->p;
  *pn = (size_t)m;
  r->p += PAD8(m); r->n -= PAD8(m);
  return 0;
}

/* ---- the public calls */

void dq_break(struct dq_conn *c, const char *zWhy){
  fail(c, CV_CLOSED, "%s: %s", c->zAddr, zWhy);
}

int dq_lost(const struct dq_conn *c){
  /* (a statement dqlite interrupted: the node lost the lead while it ran; plain SQLITE_IOERR:
  ** dqlite's "leader exec failed", Raft could not apply it; SQLITE_NOTFOUND: "no database
  ** opened", a connection from before the node lost the lead, and now leads again) */
  return c->fd<0 || c->errCode==DQ_NOT_LEADER || c->errCode==DQ_LEADERSHIP_LOST
      || (c->errCode & 0xff)==SQLITE_INTERRUPT || c->errCode==SQLITE_IOERR
      || c->errCode==SQLITE_NOTFOUND;
}

void dq_set_deadline(struct dq_conn *c, int ms){
  c->deadlineMs = now_ms() + (ms<0 ? 0 : ms);
}
uint64_t dq_errcode(const struct dq_conn *c){ return c->errCode; }
const char *dq_errmsg(const struct dq_conn *c){ return c->zErr; }
const char *dq_addr(const struct dq_conn *c){ return c->zAddr; }

cv_rc dq_connect(const char *zAddr, int msTimeout, struct dq_conn **pp, char *zErr, size_t nErr){
  struct dq_conn *c;
  unsigned char ver[8];
  cv_rc rc;
  *pp = NULL;
  if( strlen(zAddr)>DQ_ADDR_MAX ){
    snprintf(zErr, nErr, "address too long");
    return CV_INVALID;
  }
  c = calloc(1, sizeof *c);
  if( !c ){
    snprintf(zErr, nErr, "out of memory");
    return CV_NOMEM;
  }
  c->fd = -1;
  strcpy(c->zAddr, zAddr);
  buf_init(&c->req, (size_t)DQ_MSG_MAX);
  dq_set_deadline(c, msTimeout);
  rc = tcp_connect(c);
  if( rc==CV_OK ){
    le64(ver, PROTOCOL_VERSION);
    rc = write_all(c, ver, 8);
  }
  if( rc ){
    snprintf(zErr, nErr, "%s", c->zErr);
    dq_close(c);
    return rc;
  }
  *pp = c;
  return CV_OK;
}

void dq_close(struct dq_conn *c){
  if( !c ) return;
  if( c->fd>=0 ) close(c->fd);
  buf_free(&c->req);
  free(c->aBody);
  free(c);
}

cv_rc dq_leader(struct dq_conn *c, uint64_t *pId, char zAddr[DQ_ADDR_MAX + 1]){
  struct rd r;
  const char *z;
  size_t n;
  cv_rc rc;
  rc = begin(c);
  if( rc==CV_OK ) rc = put_u64(c, 0);
  if( rc==CV_OK ) rc = call(c, REQ_LEADER, 0, RSP_SERVER);
  if( rc ) return rc;
  r.p = c->aBody; r.n = c->nBody;
  if( rd_u64(&r, pId) || rd_text(&r, &z, &n) || n>DQ_ADDR_MAX ){
    return bad_answer(c, "a SERVER");
  }
  memcpy(zAddr, z, n);
  zAddr[n] = 0;
  return CV_OK;
}

cv_rc dq_parse_servers(const unsigned char *aBody, size_t nBody, struct dq_node **paNode,
                       int *pn){
  struct rd r;
  uint64_t n, i;
  struct dq_node *a;
  *paNode = NULL;
  *pn = 0;
  r.p = aBody; r.n = nBody;
  if( rd_u64(&r, &n) || n>r.n/24 ) return CV_INVALID;   /* a member takes 24 bytes at least */
  a = calloc(n ? n : 1, sizeof *a);
  if( !a ) return CV_NOMEM;
  for(i=0; i<n; i++){
    const char *z;
    size_t m;
    uint64_t role;
    if( rd_u64(&r, &a[i].id) || rd_text(&r, &z, &m) || m>DQ_ADDR_MAX || rd_u64(&r, &role) ){
      free(a);
      return CV_INVALID;
    }
    memcpy(a[i].zAddr, z, m);
    a[i].zAddr[m] = 0;
    a[i].role = (int)role;
  }
  *paNode = a;
  *pn = (int)n;
  return CV_OK;
}

cv_rc dq_cluster(struct dq_conn *c, struct dq_node **paNode, int *pn){
  cv_rc rc;
  *paNode = NULL;
  *pn = 0;
  rc = begin(c);
  if( rc==CV_OK ) rc = put_u64(c, 1);              /* format 1: with each member's role */
  if( rc==CV_OK ) rc = call(c, REQ_CLUSTER, 0, RSP_SERVERS);
  if( rc==CV_OK ) rc = dq_parse_servers(c->aBody, c->nBody, paNode, pn);
  if( rc==CV_INVALID ) return bad_answer(c, "a SERVERS");
  return rc;
}

static cv_rc id_call(struct dq_conn *c, int type, uint64_t id, const char *zAddr, int role){
  cv_rc rc;
  rc = begin(c);
  if( rc==CV_OK ) rc = put_u64(c, id);
  if( rc==CV_OK && zAddr ) rc = put_text(c, zAddr);
  if( rc==CV_OK && role>=0 ) rc = put_u64(c, (uint64_t)role);
  if( rc==CV_OK ) rc = call(c, type, 0, RSP_EMPTY);
  return rc;
}
cv_rc dq_add(struct dq_conn *c, uint64_t id, const char *zAddr){
  return id_call(c, REQ_ADD, id, zAddr, -1);
}
cv_rc dq_assign(struct dq_conn *c, uint64_t id, int role){
  return id_call(c, REQ_ASSIGN, id, NULL, role);
}
cv_rc dq_remove(struct dq_conn *c, uint64_t id){
  return id_call(c, REQ_REMOVE, id, NULL, -1);
}
cv_rc dq_transfer(struct dq_conn *c, uint64_t id){
  return id_call(c, REQ_TRANSFER, id, NULL, -1);
}

cv_rc dq_open(struct dq_conn *c, const char *zName){
  uint64_t v;
  struct rd r;
  cv_rc rc;
  rc = begin(c);
  if( rc==CV_OK ) rc = put_text(c, zName);
  if( rc==CV_OK ) rc = put_u64(c, 0);              /* flags: dqlite ignores them */
  if( rc==CV_OK ) rc = put_text(c, "");            /* vfs: the node's own */
  if( rc==CV_OK ) rc = call(c, REQ_OPEN, 0, RSP_DB);
  if( rc ) return rc;
  r.p = c->aBody; r.n = c->nBody;
  if( rd_u64(&r, &v) ) return bad_answer(c, "a DB");
  c->dbId = (uint32_t)v;                           /* uint32 id, uint32 padding */
  c->bDb = 1;
  return CV_OK;
}

/* Read a text of the stream (NUL-terminated, padded to 8 bytes, at most nMax bytes with its
** padding) into z; *pnUsed counts the bytes read. */
static cv_rc read_text(struct dq_conn *c, char *z, size_t nMax, uint64_t *pnUsed){
  size_t n = 0;
  for(;;){
    cv_rc rc;
    if( n + 8 > nMax ) return bad_answer(c, "a FILES");
    rc = read_all(c, z + n, 8);
    if( rc ) return rc;
    n += 8;
    *pnUsed += 8;
    if( memchr(z + n - 8, 0, 8) ) return CV_OK;
  }
}

cv_rc dq_dump(struct dq_conn *c, const char *zName, int fd, uint64_t *pnBytes){
  unsigned char hdr[8], a[8];
  char zFile[DQ_ADDR_MAX + 1 + 8];
  uint64_t nBody = 0, nUsed = 0, nFile, i, len;
  unsigned char *aBuf = NULL;
  cv_rc rc;
  *pnBytes = 0;
  rc = begin(c);
  if( rc==CV_OK ) rc = put_text(c, zName);
  if( rc==CV_OK ) rc = send_request(c, REQ_DUMP, 0);
  if( rc==CV_OK ) rc = recv_header(c, hdr, &nBody);
  if( rc ) return rc;
  if( hdr[4]!=RSP_FILES ){
    /* anything else is read whole: a FAILURE ("database does not exists", ...) or nonsense */
    rc = recv_body(c, hdr, nBody);
    return rc==CV_OK ? bad_answer(c, "a DUMP") : rc;
  }
  /* FILES: a count, then each file's name, length and bytes, streamed into fd (the database
  ** file; dqlite 1.18 sends the WAL second, always empty: its frames are in the pages) */
  rc = read_all(c, a, 8);
  if( rc ) return rc;
  nUsed = 8;
  nFile = get_le64(a);
  if( nFile<1 || nFile>2 ) return bad_answer(c, "a FILES");
  aBuf = malloc(1<<20);
  if( !aBuf ){
    fail(c, CV_IO, "%s: out of memory for a dump", c->zAddr);
    return CV_NOMEM;
  }
  for(i=0; rc==CV_OK && i<nFile; i++){
    rc = read_text(c, zFile, sizeof zFile, &nUsed);
    if( rc==CV_OK ) rc = read_all(c, a, 8);
    if( rc ) break;
    nUsed += 8;
    len = get_le64(a);
    if( len>nBody || nUsed + len > nBody || (i>0 && len>0) ){
      rc = bad_answer(c, i>0 ? "a FILES (with a WAL)" : "a FILES");
      break;
    }
    nUsed += len;
    while( len>0 ){
      size_t m = len > (1u<<20) ? (1u<<20) : (size_t)len;
      size_t off = 0;
      rc = read_all(c, aBuf, m);
      if( rc ) break;
      while( off<m ){
        ssize_t w = write(fd, aBuf + off, m - off);
        if( w<0 && errno==EINTR ) continue;
        if( w<=0 ){
          int e = errno;
          fail(c, CV_IO, "write: %s", strerror(e));
          rc = (e==ENOSPC || e==EDQUOT) ? CV_FULL : CV_IO;
          break;
        }
        off += (size_t)w;
      }
      if( rc ) break;
      len -= m;
      *pnBytes += m;
    }
  }
  free(aBuf);
  if( rc==CV_OK && nUsed!=nBody ) rc = bad_answer(c, "a FILES");
  if( rc==CV_OK ) c->errCode = 0;
  return rc;
}

static cv_rc sql_request(struct dq_conn *c, int type, const char *zSql,
                         const struct dq_value *aParam, int nParam, int want){
  cv_rc rc;
  if( !c->bDb ) return fail(c, CV_INVALID, "no database open");
  rc = begin(c);
  if( rc==CV_OK ) rc = put_u64(c, c->dbId);
  if( rc==CV_OK ) rc = put_text(c, zSql);
  if( rc==CV_OK ) rc = put_params(c, aParam, nParam);
  if( rc==CV_INVALID ) return fail(c, CV_INVALID, "a parameter dqlite cannot carry");
  if( rc==CV_TOOLARGE ) return fail(c, CV_TOOLARGE, "a request over %u bytes", DQ_MSG_MAX);
  if( rc ) return rc;                  /* nothing was sent: the connection stays usable */
  for(;;){
    rc = call(c, type, nParam ? 1 : 0, want);
    if( rc!=CV_BUSY || strcmp(c->zErr, "checkpoint in progress")!=0 ) return rc;
    /* dqlite refuses every statement, reads too, while the leader checkpoints its WAL, before
    ** running it (gateway.c, FAIL_IF_CHECKPOINTING): nothing of it ran, the checkpoint takes
    ** milliseconds. Ask again within the deadline (a long export was cut short by this). */
    if( ms_left(c)<=2 ) return rc;
    usleep(1000);
  }
}

cv_rc dq_exec(struct dq_conn *c, const char *zSql, const struct dq_value *aParam, int nParam,
              uint64_t *pLastId, uint64_t *pChanges){
  struct rd r;
  uint64_t last, changes;
  cv_rc rc = sql_request(c, REQ_EXEC_SQL, zSql, aParam, nParam, RSP_RESULT);
  if( rc ) return rc;
  r.p = c->aBody; r.n = c->nBody;
  if( rd_u64(&r, &last) || rd_u64(&r, &changes) ){
    return bad_answer(c, "a RESULT");
  }
  if( pLastId ) *pLastId = last;
  if( pChanges ) *pChanges = changes;
  return CV_OK;
}

void dq_rows_free(struct dq_rows *p){
  struct dq_chunk *k, *kNext;
  for(k=p->pChunk; k; k=kNext){
    kNext = k->pNext;
    free(k);
  }
  free(p->azCol);
  free(p->a);
  memset(p, 0, sizeof *p);
}

/* A row's values are its 4-bit types (zeros up to the word), then each value. */
cv_rc dq_parse_rows(const unsigned char *aBody, size_t nBody, struct dq_rows *p, int *pbDone){
  struct dq_chunk *k = malloc(sizeof *k + (nBody ? nBody : 1));
  struct rd r;
  uint64_t nCol, w;
  int i;
  *pbDone = 0;
  if( !k ) goto nomem;
  memcpy(k->a, aBody, nBody);
  k->pNext = p->pChunk;
  p->pChunk = k;
  r.p = k->a; r.n = nBody;
  if( rd_u64(&r, &nCol) || nCol>32767 || (p->nCol && nCol!=(uint64_t)p->nCol) ) goto bad;
  if( !p->azCol ){
    p->nCol = (int)nCol;
    p->azCol = calloc(nCol ? nCol : 1, sizeof *p->azCol);
    if( !p->azCol ) goto nomem;
    for(i=0; i<p->nCol; i++) if( rd_text(&r, &p->azCol[i], NULL) ) goto bad;
  }else{
    for(i=0; i<p->nCol; i++){
      const char *z;
      if( rd_text(&r, &z, NULL) ) goto bad;
    }
  }
  for(;;){
    const unsigned char *hdr;
    size_t nHdr = PAD8(((size_t)p->nCol + 1) / 2);
    if( r.n<8 ) goto bad;
    w = get_le64(r.p);
    if( w==ROWS_DONE || w==ROWS_PART ){
      *pbDone = w==ROWS_DONE;
      return CV_OK;
    }
    if( p->nCol==0 || nHdr>r.n ) goto bad;
    hdr = r.p;
    r.p += nHdr; r.n -= nHdr;
    if( p->nRow + 1 > p->nAlloc / (size_t)p->nCol ){
      size_t nNew = p->nAlloc ? p->nAlloc*2 : (size_t)p->nCol*16;
      struct dq_value *a = realloc(p->a, nNew * sizeof *a);
      if( !a ) goto nomem;
      p->a = a;
      p->nAlloc = nNew;
    }
    for(i=0; i<p->nCol; i++){
      struct dq_value *v = &p->a[p->nRow*(size_t)p->nCol + (size_t)i];
      uint64_t u;
      memset(v, 0, sizeof *v);
      v->type = (hdr[i/2] >> ((i%2)*4)) & 0x0f;
      switch( v->type ){
        case SQLITE_INTEGER: case 9 /* UNIXTIME */: case 11 /* BOOLEAN */:
          if( rd_u64(&r, &u) ) goto bad;
          v->type = SQLITE_INTEGER;
          v->i = (int64_t)u;
          break;
        case SQLITE_FLOAT:
          if( rd_u64(&r, &u) ) goto bad;
          memcpy(&v->r, &u, 8);
          break;
        case SQLITE_TEXT: case 10 /* ISO8601 */:
          if( rd_text(&r, &v->z, &v->n) ) goto bad;
          v->type = SQLITE_TEXT;
          break;
        case SQLITE_BLOB:
          if( rd_blob(&r, &v->z, &v->n) ) goto bad;
          break;
        case SQLITE_NULL:
          if( rd_u64(&r, &u) ) goto bad;
          break;
        default:
          goto bad;
      }
    }
    p->nRow++;
  }
bad:
  return CV_INVALID;
nomem:
  return CV_NOMEM;
}

cv_rc dq_query(struct dq_conn *c, const char *zSql, const struct dq_value *aParam, int nParam,
               struct dq_rows *pRows){
  int bDone = 0;
  cv_rc rc;
  memset(pRows, 0, sizeof *pRows);
  rc = sql_request(c, REQ_QUERY_SQL, zSql, aParam, nParam, RSP_ROWS);
  while( rc==CV_OK ){
    rc = dq_parse_rows(c->aBody, c->nBody, pRows, &bDone);
    if( rc==CV_INVALID ) return bad_answer(c, "a ROWS");
    if( rc==CV_NOMEM ){              /* the rest of the answer is unread: the connection is lost */
      fail(c, CV_IO, "%s: out of memory reading rows", c->zAddr);
      return CV_NOMEM;
    }
    if( bDone ) break;
    rc = recv_msg(c);                             /* PART: the node sends the next batch */
    if( rc==CV_OK && c->type!=RSP_ROWS ) rc = bad_answer(c, "a ROWS");
  }
  return rc;
}

/* Connect to zOne and ask who leads; when it names another node, connect there and ask
** again. CV_OK with *pp a connection to a node that says it leads; else *pp NULL and zErr
** says why (CV_NOTFOUND: no leader elected yet; CV_INVALID: zOne is not an address). */
static cv_rc ask_leader(const char *zOne, int64_t end, struct dq_conn **pp, char *zErr,
                        size_t nErr){
  char zLead[DQ_ADDR_MAX + 1], zAgain[DQ_ADDR_MAX + 1];
  struct dq_conn *c = NULL;
  uint64_t id = 0;
  int ms = (int)(end - now_ms());
  cv_rc rc = dq_connect(zOne, ms>0 ? ms : 0, &c, zErr, nErr);
  *pp = NULL;
  if( rc==CV_OK ) rc = dq_leader(c, &id, zLead);
  if( rc==CV_OK && id!=0 && strcmp(zLead, zOne)!=0 ){
    dq_close(c);                       /* the member named another node: ask that one */
    ms = (int)(end - now_ms());
    rc = dq_connect(zLead, ms>0 ? ms : 0, &c, zErr, nErr);
    if( rc==CV_OK ) rc = dq_leader(c, &id, zAgain);
    if( rc==CV_OK && strcmp(zAgain, zLead)!=0 ) id = 0;
  }
  if( rc==CV_OK && id==0 ){
    snprintf(zErr, nErr, "%s: no leader elected", zOne);
    rc = CV_NOTFOUND;
  }else if( rc && c ){
    snprintf(zErr, nErr, "%s", dq_errmsg(c));
  }
  if( rc ){
    dq_close(c);
    return rc;
  }
  *pp = c;
  return CV_OK;
}

cv_rc dq_connect_leader(const char *zAddrs, int msTimeout, struct dq_conn **pp,
                        char *zErr, size_t nErr){
  int64_t end = now_ms() + (msTimeout<0 ? 0 : msTimeout);
  *pp = NULL;
  snprintf(zErr, nErr, "no member address given");
  for(;;){
    const char *z = zAddrs;
    int nTried = 0, nInvalid = 0;
    while( *z ){
      char zOne[DQ_ADDR_MAX + 1];
      size_t n = strcspn(z, ",");
      if( n>DQ_ADDR_MAX ){
        snprintf(zErr, nErr, "%.40s...: address too long", z);
        nInvalid++;
      }else if( n>0 ){
        cv_rc rc;
        memcpy(zOne, z, n);
        zOne[n] = 0;
        rc = ask_leader(zOne, end, pp, zErr, nErr);
        if( rc==CV_OK ){
          (*pp)->deadlineMs = end;
          return CV_OK;
        }
        if( rc==CV_INVALID ) nInvalid++;
      }
      nTried += n>0;
      z += n;
      if( *z==',' ) z++;
    }
    /* addresses that do not parse never will: fail now rather than at the deadline */
    if( nTried>0 && nInvalid==nTried ) return CV_INVALID;
    if( now_ms() + 100 >= end ) return CV_TIMEOUT;
    usleep(100*1000);
  }
}
