/*
** fuzz_search_query.c — what a person types into the search box, end to end below HTTP:
** search_parse (search.c) reads any bytes into phrases, fts_match_expr (store_fts.c) writes
** them as an FTS5 MATCH expression, and FTS5 runs it with the "chatvault" tokenizer on a
** small index. Properties, not only crashes:
**   - the phrases lie inside the input, are not empty, at most SEARCH_MAX_PHRASES;
**   - the MATCH never fails: whatever was typed, SQLite answers SQLITE_ROW/SQLITE_DONE (never
**     an FTS5 syntax error), and only rows of the searching user come back;
**   - search_snippet's byte range and highlights stay inside the text and the snippet's
**     SEARCH_SNIPPET_CHARS characters.
*/
#include "fuzz_common.h"
#include "search.h"
#include "store_fts.h"
#include "util.h"

#include <sqlite3.h>
#include <stdint.h>

static sqlite3 *db;

/* An index of a few rows of user 7 and one of user 8, made once. */
static void setup(void){
  static const char *azSql[] = {
    "CREATE VIRTUAL TABLE s USING fts5(body, content='', columnsize=0,"
    " tokenize='chatvault')",                     /* as schema.sql's version 12 */
    "INSERT INTO s(rowid, body) VALUES"
    " (1, char(1)||'7'||char(1)||'Café au lait, \"quoted\" AND OR NOT NEAR(a b) x* ^col:'),"
    " (2, char(1)||'7'||char(1)||'東京タワーに行きました 한국어 텍스트'),"
    " (3, char(1)||'8'||char(1)||'cafe secret of user eight 東京タワー'),"
    " (4, char(1)||'7'||char(1)||'e-mail foo.bar baz_qux 123 ½ ﬁ')",
  };
  size_t i;
  if( db ) return;
  FZ_CHECK( sqlite3_open(":memory:", &db)==SQLITE_OK );
  FZ_CHECK( fts_register(db)==SQLITE_OK );
  for(i=0; i<sizeof azSql/sizeof azSql[0]; i++){
    FZ_CHECK( sqlite3_exec(db, azSql[i], NULL, NULL, NULL)==SQLITE_OK );
  }
}

static void check_query(const char *z, size_t n){
  struct cv_phrase a[SEARCH_MAX_PHRASES];
  struct cv_buf b;
  sqlite3_stmt *pSt;
  int k, i, src;
  k = search_parse(z, a, SEARCH_MAX_PHRASES);
  FZ_CHECK( k>=0 && k<=SEARCH_MAX_PHRASES );
  for(i=0; i<k; i++){
    FZ_CHECK( a[i].n>0 );
    FZ_CHECK( a[i].z>=z && a[i].z + a[i].n <= z + n );
  }
  buf_init(&b, 1<<20);
  FZ_CHECK( fts_match_expr(7, a, k, &b)==CV_OK );
  if( k>0 ){
    FZ_CHECK( sqlite3_prepare_v2(db, "SELECT rowid FROM s WHERE s MATCH ?1 ORDER BY rank",
                                 -1, &pSt, NULL)==SQLITE_OK );
    sqlite3_bind_text(pSt, 1, b.a, (int)b.n, SQLITE_STATIC);
    while( (src = sqlite3_step(pSt))==SQLITE_ROW ){
      FZ_CHECK( sqlite3_column_int64(pSt, 0)!=3 );        /* user 8's row */
    }
    if( src!=SQLITE_DONE ) fprintf(stderr, "MATCH %s: %s\n", b.a, sqlite3_errmsg(db));
    FZ_CHECK( src==SQLITE_DONE );
    sqlite3_finalize(pSt);
  }
  buf_free(&b);
}

static void check_snippet(const char *z, size_t n, const unsigned char *data, size_t nData){
  struct cv_span aM[4];
  int aHl[4][2], nHl, iStart, iEnd, nM = 0, i;
  /* spans from the input's first bytes, made sorted and disjoint */
  int at = 0;
  for(i=0; i<4 && (size_t)(2*i+1)<nData && n>0; i++){
    int a = at + data[2*i] % 64, len = 1 + data[2*i+1] % 16;
    if( a>=(int)n ) break;
    if( a+len>(int)n ) len = (int)n - a;
    aM[nM].iStart = a;
    aM[nM].iEnd = a + len;
    nM++;
    at = a + len;
  }
  search_snippet(z, (int)n, aM, nM, &iStart, &iEnd, aHl, 4, &nHl);
  FZ_CHECK( iStart>=0 && iStart<=iEnd && iEnd<=(int)n );
  FZ_CHECK( nHl>=0 && nHl<=nM );
  for(i=0; i<nHl; i++){
    FZ_CHECK( aHl[i][0]>=0 && aHl[i][1]>=1 );
    FZ_CHECK( aHl[i][0] + aHl[i][1] <= SEARCH_SNIPPET_CHARS );
  }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n){
  char *z;
  size_t len;
  setup();
  z = fz_strndup(data, n);
  len = strlen(z);                       /* up to a NUL, as a decoded query string is */
  check_query(z, len);
  if( util_utf8_valid(z, len) ) check_snippet(z, len, data, n);
  free(z);
  return 0;
}
