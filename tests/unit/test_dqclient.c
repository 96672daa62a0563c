/*
** test_dqclient.c — src/dqclient.c against a real dqlite node started in this process (a
** cluster of one, on loopback) and against a fake node that answers what a test scripts:
** every value type and the padding edges of text and blobs, rows over several ROWS messages,
** transactions, RETURNING, the node's errors (the connection stays usable), the deadline, and
** answers that are too large, truncated, of the wrong type or cut short (the connection is
** broken and says so).
*/
#include "dqclient.h"
#include "dqnode_fixture.h"
#include "tinytest.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <dqlite.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sqlite3.h"

static char zNode[64];                 /* the real node's address */


static double now_s(void){
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec/1e9;
}

static struct dq_conn *leader(void){
  struct dq_conn *c = NULL;
  char zErr[200];
  TT_CHECK( dq_connect_leader(zNode, 10000, &c, zErr, sizeof zErr)==CV_OK );
  if( c ) dq_set_deadline(c, 20000);
  return c;
}

static void values_round_trip(void){
  struct dq_conn *c = leader();
  struct dq_value p[9];
  struct dq_rows r;
  static const char *azText[] = { "", "1234567", "12345678", "a text of 16 b.." };
  uint64_t last = 0, changes = 0;
  int i;
  if( !c ) return;
  TT_CHECK( dq_open(c, "unit.db")==CV_OK );
  TT_CHECK( dq_exec(c, "CREATE TABLE v(id INTEGER PRIMARY KEY, i INT, f REAL, t0 TEXT, t7 TEXT,"
                       " t8 TEXT, t16 TEXT, b0 BLOB, b9 BLOB, n)", NULL, 0, NULL, NULL)==CV_OK );
  memset(p, 0, sizeof p);
  p[0].type = SQLITE_INTEGER; p[0].i = INT64_MIN;
  p[1].type = SQLITE_FLOAT;   p[1].r = -2.5e300;
  for(i=0; i<4; i++){
    p[2+i].type = SQLITE_TEXT; p[2+i].z = azText[i]; p[2+i].n = strlen(azText[i]);
  }
  p[6].type = SQLITE_BLOB; p[6].z = ""; p[6].n = 0;
  p[7].type = SQLITE_BLOB; p[7].z = "\0\1\2\3\4\5\6\7\x08"; p[7].n = 9;
  p[8].type = SQLITE_NULL;
  TT_CHECK( dq_exec(c, "INSERT INTO v(i,f,t0,t7,t8,t16,b0,b9,n) VALUES (?,?,?,?,?,?,?,?,?)",
                    p, 9, &last, &changes)==CV_OK );
  TT_CHECK( last==1 && changes==1 );
  TT_CHECK( dq_query(c, "SELECT i,f,t0,t7,t8,t16,b0,b9,n FROM v", NULL, 0, &r)==CV_OK );
  TT_CHECK( r.nRow==1 && r.nCol==9 );
  if( r.nRow==1 && r.nCol==9 ){
    TT_CHECK( strcmp(r.azCol[0], "i")==0 && strcmp(r.azCol[8], "n")==0 );
    TT_CHECK( r.a[0].type==SQLITE_INTEGER && r.a[0].i==INT64_MIN );
    TT_CHECK( r.a[1].type==SQLITE_FLOAT && r.a[1].r==-2.5e300 );
    for(i=0; i<4; i++){
      TT_CHECK( r.a[2+i].type==SQLITE_TEXT && r.a[2+i].n==strlen(azText[i])
                && strcmp(r.a[2+i].z, azText[i])==0 );
    }
    /* a zero-length blob: SQLite itself reads it back as a blob of 0 bytes */
    TT_CHECK( r.a[6].type==SQLITE_BLOB && r.a[6].n==0 );
    TT_CHECK( r.a[7].type==SQLITE_BLOB && r.a[7].n==9 && memcmp(r.a[7].z, p[7].z, 9)==0 );
    TT_CHECK( r.a[8].type==SQLITE_NULL );
  }
  dq_rows_free(&r);
  /* a text with a NUL inside cannot travel (text is NUL-terminated): refused, not sent */
  p[2].z = "a\0b"; p[2].n = 3;
  TT_CHECK( dq_exec(c, "INSERT INTO v(t0) VALUES (?)", &p[2], 1, NULL, NULL)==CV_INVALID );
  TT_CHECK( dq_exec(c, "DELETE FROM v WHERE id = 2", NULL, 0, NULL, NULL)==CV_OK ); /* usable */
  /* a statement that yields rows is a query: dqlite refuses it as an exec */
  TT_CHECK( dq_exec(c, "SELECT 1", NULL, 0, NULL, NULL)==CV_DB );
  TT_CHECK( strstr(dq_errmsg(c), "rows yielded")!=NULL );
  dq_close(c);
}

static void many_rows_in_a_transaction(void){
  struct dq_conn *c = leader();
  struct dq_value p[2];
  struct dq_rows r;
  int64_t sum = 0;
  size_t i;
  char zPad[101];
  if( !c ) return;
  memset(zPad, 'x', 100);
  zPad[100] = 0;
  TT_CHECK( dq_open(c, "unit.db")==CV_OK );
  TT_CHECK( dq_exec(c, "CREATE TABLE m(k INTEGER PRIMARY KEY, pad TEXT)", NULL, 0, NULL, NULL)==CV_OK );
  TT_CHECK( dq_exec(c, "BEGIN", NULL, 0, NULL, NULL)==CV_OK );
  memset(p, 0, sizeof p);
  p[0].type = SQLITE_INTEGER;
  p[1].type = SQLITE_TEXT; p[1].z = zPad; p[1].n = 100;
  for(i=1; i<=3000; i++){
    p[0].i = (int64_t)i;
    if( dq_exec(c, "INSERT INTO m VALUES (?, ?)", p, 2, NULL, NULL)!=CV_OK ){
      TT_CHECK( !"insert" );
      break;
    }
  }
  TT_CHECK( dq_exec(c, "COMMIT", NULL, 0, NULL, NULL)==CV_OK );
  /* 3,000 rows of ~130 bytes: dqlite sends them in several ROWS messages */
  TT_CHECK( dq_query(c, "SELECT k, pad FROM m ORDER BY k", NULL, 0, &r)==CV_OK );
  TT_CHECK( r.nRow==3000 );
  for(i=0; i<r.nRow; i++){
    sum += r.a[i*2].i;
    if( r.a[i*2+1].n!=100 ) TT_CHECK( !"pad" );
  }
  TT_CHECK( sum==3000*3001/2 );
  dq_rows_free(&r);
  TT_CHECK( dq_query(c, "UPDATE m SET k = k + 10000 WHERE k = 7 RETURNING k", NULL, 0, &r)==CV_OK );
  TT_CHECK( r.nRow==1 && r.a[0].i==10007 );
  dq_rows_free(&r);
  dq_close(c);
}

static void node_errors_keep_the_connection(void){
  struct dq_conn *c = leader();
  struct dq_node *a = NULL;
  struct dq_rows r;
  uint64_t id;
  char zAddr[DQ_ADDR_MAX + 1];
  int n = 0;
  if( !c ) return;
  TT_CHECK( dq_exec(c, "SELECT 1", NULL, 0, NULL, NULL)==CV_INVALID );   /* no database open */
  TT_CHECK( dq_open(c, "unit.db")==CV_OK );
  TT_CHECK( dq_exec(c, "INSERT INTO nope VALUES (1)", NULL, 0, NULL, NULL)==CV_DB );
  TT_CHECK( dq_errcode(c)==SQLITE_ERROR && strstr(dq_errmsg(c), "no such table")!=NULL );
  TT_CHECK( dq_exec(c, "CREATE TABLE u(x UNIQUE)", NULL, 0, NULL, NULL)==CV_OK );
  TT_CHECK( dq_exec(c, "INSERT INTO u VALUES (1)", NULL, 0, NULL, NULL)==CV_OK );
  TT_CHECK( dq_exec(c, "INSERT INTO u VALUES (1)", NULL, 0, NULL, NULL)==CV_DB );
  TT_CHECK( (dq_errcode(c) & 0xff)==SQLITE_CONSTRAINT );
  TT_CHECK( dq_query(c, "SELECT count(*) FROM u", NULL, 0, &r)==CV_OK );
  TT_CHECK( r.nRow==1 && r.a[0].i==1 && dq_errcode(c)==0 );
  dq_rows_free(&r);
  /* a query whose first step fails: dqlite 1.18 writes the failure after the column header */
  TT_CHECK( dq_query(c, "INSERT INTO u VALUES (1) RETURNING x", NULL, 0, &r)==CV_DB );
  TT_CHECK( dq_errcode(c)==SQLITE_CONSTRAINT_UNIQUE && strstr(dq_errmsg(c), "UNIQUE")!=NULL );
  dq_rows_free(&r);
  TT_CHECK( !dq_lost(c) );
  TT_CHECK( dq_leader(c, &id, zAddr)==CV_OK && id==1 && strcmp(zAddr, zNode)==0 );
  TT_CHECK( dq_cluster(c, &a, &n)==CV_OK && n==1 && a[0].id==1 && a[0].role==DQ_VOTER );
  free(a);
  /* membership calls the node refuses: a second node at the same address, removing a stranger */
  TT_CHECK( dq_add(c, 77, zNode)==CV_DB );
  TT_CHECK( dq_remove(c, 12345)==CV_DB );
  TT_CHECK( dq_exec(c, "DELETE FROM u", NULL, 0, NULL, NULL)==CV_OK );
  /* a request over DQ_MSG_MAX is refused before it is sent: the connection goes on */
  {
    struct dq_value big;
    memset(&big, 0, sizeof big);
    big.type = SQLITE_BLOB;
    big.n = (size_t)DQ_MSG_MAX + 1;
    big.z = calloc(1, big.n);
    if( big.z ){
      TT_CHECK( dq_exec(c, "INSERT INTO u VALUES (?)", &big, 1, NULL, NULL)==CV_TOOLARGE );
      TT_CHECK( strstr(dq_errmsg(c), "request over")!=NULL );
      free((void*)big.z);
    }
    TT_CHECK( dq_exec(c, "DELETE FROM u", NULL, 0, NULL, NULL)==CV_OK );
  }
  dq_close(c);
}

static void bad_addresses(void){
  static const char *az[] = { "nohost", "127.0.0.1", "[::1]9000", "a:b:c", "localhost:1",
                              "127.0.0.1:", ":9000" };
  struct dq_conn *c = NULL;
  char zErr[200];
  size_t i;
  for(i=0; i<sizeof az/sizeof az[0]; i++){
    TT_CHECK( dq_connect(az[i], 1000, &c, zErr, sizeof zErr)==CV_INVALID && c==NULL );
  }
  snprintf(zErr, sizeof zErr, "127.0.0.1:%d", free_port());   /* nobody listens */
  TT_CHECK( dq_connect(zErr, 1000, &c, zErr, sizeof zErr)==CV_IO && c==NULL );
  TT_CHECK( dq_connect_leader("", 300, &c, zErr, sizeof zErr)==CV_TIMEOUT && c==NULL );
  /* addresses that do not parse fail at once, not at the deadline */
  {
    double t0 = now_s();
    TT_CHECK( dq_connect_leader("nohost,[::1]9000", 20000, &c, zErr, sizeof zErr)==CV_INVALID );
    TT_CHECK( c==NULL && now_s() - t0 < 2 && strstr(zErr, "not an address")!=NULL );
  }
}

/* ---- a fake node: accepts one connection, reads the handshake and one request, then
** answers with the scripted bytes (or with nothing: silence, or a close) */

struct fake {
  int fdListen;
  int port;
  const unsigned char *aAnswer;
  size_t nAnswer;
  int bSilent;                         /* never answer (the deadline test) */
  pthread_t th;
};

static void *fake_main(void *pArg){
  struct fake *f = pArg;
  unsigned char a[4096];
  int fd = accept(f->fdListen, NULL, NULL);
  if( fd<0 ) return NULL;
  if( recv(fd, a, sizeof a, 0)>0 ){    /* handshake and request (small: one read or two) */
    usleep(20*1000);
    (void)recv(fd, a, sizeof a, MSG_DONTWAIT);
    if( f->bSilent ){
      usleep(1500*1000);
    }else if( f->nAnswer ){
      (void)send(fd, f->aAnswer, f->nAnswer, MSG_NOSIGNAL);
      usleep(200*1000);
    }
  }
  close(fd);
  return NULL;
}

static void fake_start(struct fake *f, const unsigned char *a, size_t n, int bSilent){
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  f->fdListen = socket(AF_INET, SOCK_STREAM, 0);
  bind(f->fdListen, (struct sockaddr*)&sa, sizeof sa);
  listen(f->fdListen, 1);
  getsockname(f->fdListen, (struct sockaddr*)&sa, &len);
  f->port = ntohs(sa.sin_port);
  f->aAnswer = a;
  f->nAnswer = n;
  f->bSilent = bSilent;
  pthread_create(&f->th, NULL, fake_main, f);
}

static void fake_end(struct fake *f){
  pthread_join(f->th, NULL);
  close(f->fdListen);
}

/* Ask the fake for the leader and expect rc; then the connection must be broken. */
static void expect_answer(const unsigned char *a, size_t n, int bSilent, cv_rc want){
  struct fake f;
  struct dq_conn *c = NULL;
  char zAddr[64], zErr[200], zLead[DQ_ADDR_MAX + 1];
  uint64_t id;
  double t0;
  fake_start(&f, a, n, bSilent);
  snprintf(zAddr, sizeof zAddr, "127.0.0.1:%d", f.port);
  TT_CHECK( dq_connect(zAddr, 2000, &c, zErr, sizeof zErr)==CV_OK );
  if( c ){
    dq_set_deadline(c, 400);
    t0 = now_s();
    TT_CHECK( dq_leader(c, &id, zLead)==want );
    TT_CHECK( now_s() - t0 < 1.4 );                  /* within the deadline, not the fake's pace */
    TT_CHECK( dq_errmsg(c)[0]!=0 );
    if( want!=CV_DB ) TT_CHECK( dq_leader(c, &id, zLead)==CV_CLOSED );
    dq_close(c);
  }
  fake_end(&f);
}

static void broken_answers(void){
  /* header: body words (LE32), type, schema, 2 unused */
  static const unsigned char aHuge[] = { 0,0,0,0x40, 1,0,0,0 };               /* 8 GiB body */
  static const unsigned char aShort[] = { 4,0,0,0, 1,0,0,0, 1,0,0,0,0,0,0,0 };  /* 8 of 32 */
  static const unsigned char aType[] = { 1,0,0,0, 8,0,0,0, 0,0,0,0,0,0,0,0 };   /* EMPTY */
  static const unsigned char aNoNul[] = { 2,0,0,0, 1,0,0,0, 1,0,0,0,0,0,0,0,
                                          'a','b','c','d','e','f','g','h' };   /* text, no NUL */
  static const unsigned char aFail[] = { 3,0,0,0, 0,0,0,0, 5,0,0,0,0,0,0,0,
                                         'b','u','s','y',0,0,0,0, 0,0,0,0,0,0,0,0 };
  expect_answer(aHuge, sizeof aHuge, 0, CV_TOOLARGE);
  expect_answer(aShort, sizeof aShort, 0, CV_CLOSED);
  expect_answer(aType, sizeof aType, 0, CV_INVALID);
  expect_answer(aNoNul, sizeof aNoNul, 0, CV_INVALID);
  expect_answer(NULL, 0, 0, CV_CLOSED);                  /* closes without a word */
  expect_answer(NULL, 0, 1, CV_TIMEOUT);                 /* never answers */
  expect_answer(aFail, sizeof aFail, 0, CV_BUSY);        /* FAILURE: SQLITE_BUSY, "busy" */
}

/* dq_dump: a database of about 2 MB (over the client's 1 MiB chunks) streamed into a file that
** SQLite opens and reads whole; a database the node does not have: CV_DB, connection usable. */
static void dump_of_a_database(void){
  struct dq_conn *c = leader();
  char zFile[] = "/tmp/cv-dump-XXXXXX";
  struct dq_value p[1];
  uint64_t n = 0;
  sqlite3 *h = NULL;
  sqlite3_stmt *pSt = NULL;
  int fd, i;
  if( !c ) return;
  TT_CHECK( dq_open(c, "dump.db")==CV_OK );
  TT_CHECK( dq_exec(c, "CREATE TABLE d(id INTEGER PRIMARY KEY, t TEXT)", NULL, 0, NULL, NULL)==CV_OK );
  TT_CHECK( dq_exec(c, "BEGIN", NULL, 0, NULL, NULL)==CV_OK );
  p[0].type = SQLITE_TEXT;
  p[0].z = "a row of text that takes some room in the page, more or less a hundred bytes, ok..";
  p[0].n = strlen(p[0].z);
  for(i=0; i<20000; i++) TT_CHECK( dq_exec(c, "INSERT INTO d(t) VALUES (?)", p, 1, NULL, NULL)==CV_OK );
  TT_CHECK( dq_exec(c, "COMMIT", NULL, 0, NULL, NULL)==CV_OK );
  fd = mkstemp(zFile);
  TT_CHECK( fd>=0 );
  TT_CHECK( dq_dump(c, "dump.db", fd, &n)==CV_OK );
  TT_CHECK( n>(3u<<19) && (n % 4096)==0 );   /* over 1.5 MiB: more than one chunk */
  TT_CHECK( lseek(fd, 0, SEEK_END)==(off_t)n );
  close(fd);
  TT_CHECK( sqlite3_open_v2(zFile, &h, SQLITE_OPEN_READWRITE, NULL)==SQLITE_OK );
  TT_CHECK( sqlite3_prepare_v2(h, "SELECT count(*), min(t)=max(t) FROM d", -1, &pSt, NULL)==SQLITE_OK );
  TT_CHECK( sqlite3_step(pSt)==SQLITE_ROW && sqlite3_column_int(pSt, 0)==20000
            && sqlite3_column_int(pSt, 1)==1 );
  sqlite3_finalize(pSt);
  sqlite3_close(h);
  unlink(zFile);
  /* the node has no such database: refused, and the connection goes on */
  fd = open("/dev/null", O_WRONLY);
  TT_CHECK( dq_dump(c, "nosuch.db", fd, &n)==CV_DB && n==0 );
  TT_CHECK( strstr(dq_errmsg(c), "does not exist")!=NULL );
  TT_CHECK( dq_dump(c, "dump.db", fd, &n)==CV_OK && n>(3u<<19) );
  close(fd);
  dq_close(c);
}

/* A WAL index of three regions (over 8,150 frames, kept by an open read transaction) and a
** connection that mapped only the first one writing: dqlite 1.18.7 aborted the node on its
** region-order assertion (vendor/patches/dqlite-0001-shm-map-regions-in-order.patch). */
static void wal_index_past_two_regions(void){
  struct dq_conn *w = leader(), *r = leader(), *late = NULL;
  struct dq_rows rows;
  memset(&rows, 0, sizeof rows);
  if( !w || !r ){ dq_close(w); dq_close(r); return; }
  TT_CHECK( dq_open(w, "walidx.db")==CV_OK && dq_open(r, "walidx.db")==CV_OK );
  TT_CHECK( dq_exec(w, "CREATE TABLE w(x BLOB)", NULL, 0, NULL, NULL)==CV_OK );
  TT_CHECK( dq_exec(r, "BEGIN", NULL, 0, NULL, NULL)==CV_OK );
  TT_CHECK( dq_query(r, "SELECT count(*) FROM w", NULL, 0, &rows)==CV_OK );   /* the read */
  dq_rows_free(&rows);
  /* about 9,000 pages in one commit: frames into the WAL index's third region */
  TT_CHECK( dq_exec(w, "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s"
                       " WHERE i<9000) INSERT INTO w SELECT randomblob(3500) FROM s",
                    NULL, 0, NULL, NULL)==CV_OK );
  late = leader();                      /* a new connection: only the first region mapped */
  if( late ){
    TT_CHECK( dq_open(late, "walidx.db")==CV_OK );
    TT_CHECK( dq_exec(late, "INSERT INTO w VALUES (x'00')", NULL, 0, NULL, NULL)==CV_OK );
    TT_CHECK( dq_query(late, "SELECT count(*) FROM w", NULL, 0, &rows)==CV_OK );
    TT_CHECK( rows.nRow==1 && rows.a[0].i==9001 );
    dq_rows_free(&rows);
  }
  TT_CHECK( dq_exec(r, "COMMIT", NULL, 0, NULL, NULL)==CV_OK );
  dq_close(late);
  dq_close(r);
  dq_close(w);
}

/* A FILES answer of the wrong shape: a WAL with frames, a length past the body. */
static void dump_broken_answers(void){
  /* header (4 words), count 2, "x" (padded), length 8, 8 bytes, "x-wal", length 8, 8 bytes */
  static const unsigned char aWal[] = { 8,0,0,0, 9,0,0,0,
    2,0,0,0,0,0,0,0, 'x',0,0,0,0,0,0,0, 8,0,0,0,0,0,0,0, 1,2,3,4,5,6,7,8,
    'x','-','w','a','l',0,0,0, 8,0,0,0,0,0,0,0, 1,2,3,4,5,6,7,8 };
  static const unsigned char aLong[] = { 3,0,0,0, 9,0,0,0,
    1,0,0,0,0,0,0,0, 'x',0,0,0,0,0,0,0, 0,1,0,0,0,0,0,0 };
  const unsigned char *aA[2] = { aWal, aLong };
  size_t nA[2] = { sizeof aWal, sizeof aLong };
  int i;
  for(i=0; i<2; i++){
    struct fake f;
    struct dq_conn *c = NULL;
    char zAddr[64], zErr[200];
    uint64_t n = 0;
    int fd = open("/dev/null", O_WRONLY);
    fake_start(&f, aA[i], nA[i], 0);
    snprintf(zAddr, sizeof zAddr, "127.0.0.1:%d", f.port);
    TT_CHECK( dq_connect(zAddr, 2000, &c, zErr, sizeof zErr)==CV_OK );
    if( c ){
      dq_set_deadline(c, 1000);
      TT_CHECK( dq_dump(c, "x", fd, &n)==CV_INVALID );
      TT_CHECK( dq_lost(c) );
      dq_close(c);
    }
    close(fd);
    fake_end(&f);
  }
}

/* dq_parse_failure on bodies: plain; after a query's column header; a header that does not
** account for the body exactly is read as a plain failure. */
static void failure_bodies(void){
  static const unsigned char aPlain[] = { 19,8,0,0,0,0,0,0, 'o','o','p','s',0,0,0,0 };
  static const unsigned char aAfter[] = { 1,0,0,0,0,0,0,0, 'i','d',0,0,0,0,0,0,
                                          19,8,0,0,0,0,0,0, 'o','o','p','s',0,0,0,0 };
  static const unsigned char aOdd[] = { 1,0,0,0,0,0,0,0, 'i','d',0,0,0,0,0,0, 9 };
  uint64_t code = 99;
  char z[32];
  dq_parse_failure(aPlain, sizeof aPlain, 0, &code, z, sizeof z);
  TT_CHECK( code==2067 && strcmp(z, "oops")==0 );
  dq_parse_failure(aPlain, sizeof aPlain, 1, &code, z, sizeof z);
  TT_CHECK( code==2067 && strcmp(z, "oops")==0 );
  dq_parse_failure(aAfter, sizeof aAfter, 1, &code, z, sizeof z);
  TT_CHECK( code==2067 && strcmp(z, "oops")==0 );
  dq_parse_failure(aOdd, sizeof aOdd, 1, &code, z, sizeof z);
  TT_CHECK( code==1 && strcmp(z, "id")==0 );
  dq_parse_failure(aPlain, 3, 1, &code, z, sizeof z);
  TT_CHECK( code==0 && z[0]==0 );
}

int main(void){
  struct dqnode *pNode;
  signal(SIGPIPE, SIG_IGN);
  pNode = dqnode_start("dqclient", zNode, sizeof zNode);
  if( !pNode ) return 1;
  TT_RUN(values_round_trip);
  TT_RUN(many_rows_in_a_transaction);
  TT_RUN(node_errors_keep_the_connection);
  TT_RUN(bad_addresses);
  TT_RUN(broken_answers);
  TT_RUN(failure_bodies);
  TT_RUN(dump_of_a_database);
  TT_RUN(dump_broken_answers);
  TT_RUN(wal_index_past_two_regions);
  dqnode_stop(pNode);
  return TT_DONE();
}
