/*
** test_db_remote.c — db.h's statement API on remote statements (db_remote.c): a connection
** from db_remote_open to a real dqlite node started in this process, used through the same
** calls the stores use (db_stmt, db_bind_*, db_step, db_column_*, db_step_done, db_int64,
** db_run): writes and their change counts, reads of several rows, SQLite's conversions, a
** transaction, errors mapped as for a local file, and FTS5 with chatvault's tokenizer, which
** dqlite's connections get through sqlite3_auto_extension.
*/
#include "db.h"
#include "dqclient.h"
#include "store_fts.h"
#include "store_search.h"
#include "dqnode_fixture.h"
#include "tinytest.h"
#include "util.h"

#include <arpa/inet.h>
#include <dqlite.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char zNode[64];



/* The schema, written on the leader by a plain client (as the backend's migration will). */
static int make_schema(void){
  struct dq_conn *c = NULL;
  char zErr[200];
  int bad = 0;
  if( dq_connect_leader(zNode, 10000, &c, zErr, sizeof zErr) ) return 1;
  dq_set_deadline(c, 10000);
  bad |= dq_open(c, "store.db")!=CV_OK;
  bad |= dq_exec(c, "CREATE TABLE t(id INTEGER PRIMARY KEY, n INT, s TEXT UNIQUE, r REAL)",
                 NULL, 0, NULL, NULL)!=CV_OK;
  bad |= dq_exec(c, "CREATE VIRTUAL TABLE ft USING fts5(body, tokenize='chatvault')",
                 NULL, 0, NULL, NULL)!=CV_OK;
  if( bad ) fprintf(stderr, "schema: %s\n", dq_errmsg(c));
  dq_close(c);
  return bad;
}

static const char zIns[] = "INSERT INTO t(n, s, r) VALUES (?1, ?2, ?3)";
static const char zSel[] = "SELECT id, n, s, r, n || '' FROM t WHERE n >= ?1 ORDER BY id";
static const char zCount[] = "SELECT count(*) FROM t WHERE n >= ?1";
static const char zBump[] = "UPDATE t SET n = n + 1 WHERE n >= ?1";
static const char zBegin[] = "BEGIN";
static const char zCommit[] = "COMMIT";
static const char zFtIns[] = "INSERT INTO ft(rowid, body) VALUES (?1, ?2)";
static const char zFtFind[] = "SELECT rowid FROM ft WHERE ft MATCH ?1 ORDER BY rowid";

static void statements_as_the_stores_use_them(void){
  struct cv_db *pDb = NULL;
  cv_stmt *pSt;
  char zErr[200];
  int nChanged = -1, n, i;
  int64_t v = -1;
  TT_CHECK( db_remote_open(zNode, "store.db", &pDb, zErr, sizeof zErr)==CV_OK );
  if( !pDb ){ fprintf(stderr, "open: %s\n", zErr); return; }
  TT_CHECK( db_run(pDb, zBegin)==CV_OK );
  for(i=0; i<5; i++){
    char z[32];
    snprintf(z, sizeof z, "row %d", i);
    TT_CHECK( db_stmt(pDb, zIns, &pSt)==CV_OK );
    db_bind_int64(pSt, 1, i*10);
    db_bind_text(pSt, 2, z, -1, SQLITE_TRANSIENT);      /* copied: z changes next turn */
    if( i==4 ) db_bind_null(pSt, 3);
    else db_bind_blob(pSt, 3, NULL, 0, SQLITE_STATIC);  /* a NULL blob is NULL */
    TT_CHECK( db_step_done(pDb, pSt, &nChanged)==CV_OK && nChanged==1 );
  }
  TT_CHECK( db_run(pDb, zCommit)==CV_OK );
  TT_CHECK( db_int64(pDb, zCount, 20, 0, &v)==CV_OK && v==3 );
  TT_CHECK( db_run_int64(pDb, zBump, 30, 0, &nChanged)==CV_OK && nChanged==2 );
  /* several rows, read as a store reads them */
  TT_CHECK( db_stmt(pDb, zSel, &pSt)==CV_OK );
  db_bind_int64(pSt, 1, 0);
  n = 0;
  while( db_step(pSt)==SQLITE_ROW ){
    char zWant[32];
    snprintf(zWant, sizeof zWant, "row %d", n);
    TT_CHECK( db_column_int64(pSt, 0)==n + 1 );
    TT_CHECK( strcmp((const char*)db_column_text(pSt, 2), zWant)==0 );
    TT_CHECK( db_column_bytes(pSt, 2)==(int)strlen(zWant) );
    TT_CHECK( db_column_type(pSt, 3)==SQLITE_NULL && db_column_text(pSt, 3)==NULL );
    /* an integer read as text, as SQLite converts it */
    {
      char zNum[32];
      snprintf(zNum, sizeof zNum, "%lld", (long long)db_column_int64(pSt, 1));
      TT_CHECK( strcmp((const char*)db_column_text(pSt, 1), zNum)==0 );
      TT_CHECK( db_column_bytes(pSt, 1)==(int)strlen(zNum) );
      TT_CHECK( strcmp((const char*)db_column_text(pSt, 4), zNum)==0 );
    }
    n++;
  }
  db_reset(pSt);
  TT_CHECK( n==5 );
  /* a unique key taken: CV_CONFLICT, as on a local file; the connection goes on */
  TT_CHECK( db_stmt(pDb, zIns, &pSt)==CV_OK );
  db_bind_int64(pSt, 1, 1);
  db_bind_text(pSt, 2, "row 0", -1, SQLITE_STATIC);
  db_bind_null(pSt, 3);
  TT_CHECK( db_step_done(pDb, pSt, NULL)==CV_CONFLICT );
  TT_CHECK( db_int64(pDb, zCount, 0, 0, &v)==CV_OK && v==5 );
  /* FTS5 with chatvault's tokenizer on the leader: accents folded */
  TT_CHECK( db_stmt(pDb, zFtIns, &pSt)==CV_OK );
  db_bind_int64(pSt, 1, 7);
  db_bind_text(pSt, 2, "\x01" "42" "\x01" "un café au lait", -1, SQLITE_STATIC);  /* user 42's */
  TT_CHECK( db_step_done(pDb, pSt, NULL)==CV_OK );
  {
    struct cv_phrase ph = { "cafe", 4, 0 };
    struct cv_buf b;
    buf_init(&b, 4096);
    TT_CHECK( fts_match_expr(42, &ph, 1, &b)==CV_OK );
    TT_CHECK( db_stmt(pDb, zFtFind, &pSt)==CV_OK );
    db_bind_text(pSt, 1, b.a, -1, SQLITE_TRANSIENT);
    TT_CHECK( db_step(pSt)==SQLITE_ROW && db_column_int64(pSt, 0)==7 );
    TT_CHECK( db_step(pSt)==SQLITE_DONE );
    db_reset(pSt);
    buf_free(&b);
  }
  db_remote_close(pDb);
}

int main(void){
  struct dqnode *pNode;
  signal(SIGPIPE, SIG_IGN);
  db_node_init();                      /* the tokenizer on the node's connections, as serve does */
  pNode = dqnode_start("dbremote", zNode, sizeof zNode);
  if( !pNode ) return 1;
  if( make_schema() ){
    fprintf(stderr, "the schema did not load\n");
    dqnode_stop(pNode);
    return 1;
  }
  TT_RUN(statements_as_the_stores_use_them);
  dqnode_stop(pNode);
  sqlite3_reset_auto_extension();
  return TT_DONE();
}
