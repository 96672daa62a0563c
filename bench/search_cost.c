/*
** bench/search_cost.c — search through SQLite alone, no HTTP (issue 11's targets), for
** bench/search.sh: the FTS5 query the server runs against the LIKE scan Open WebUI does, side
** by side on one read-only connection; the size of the search index against the text it
** indexes; and, for the append comparison, a copy of a database without the search triggers.
** Linked with chatvault's tokenizer (store_fts.o: the "chatvault" tokenizer must exist on the
** connection) and the SQLite compiled into chatvault (3.46.1, FTS5). The FTS query is the
** server's own text: the Makefile extracts zSearchSql (and zMessageSql, the read of each hit's
** message for its snippet) from src/store_search.c into build/bench/search_sql.h, so this
** measures what the server runs, as it is now.
** Never part of the tests.
**
**   search_cost query DB USER_ID WORD [SECS [fts]]  FTS query vs LIKE scan over USER_ID's
**                                               rows, SECS (5) each, after one warm-up query
**                                               each (fts: the FTS query only)
**   search_cost optimize DB                      FTS5 'optimize' of DB's index, in place
**   search_cost size-variants DB USER_ID N      the index of N of the user's messages built
**                                               again in other forms (dense rowids, unicode61
**                                               without the owner prefix, detail=column): what
**                                               its size is made of
**   search_cost size DB                         index bytes vs indexed text bytes
**   search_cost drop-triggers DB                drop every trigger whose name holds "search"
**                                               (user_version stays: nothing is re-created)
**   search_cost user-id DB EMAIL                the id of the user with that email
** Output: one line of key=value pairs per measurement.
*/
#include "store_fts.h"
#include "store_search.h"
#include "util.h"
#include "drop_triggers.h"
#include "search_sql.h"          /* zSearchSql[], zMessageSql[], SEARCH_ROWID_SLOTS (from src/store_search.c) */

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(sqlite3 *db, const char *zWhat){
  fprintf(stderr, "search_cost: %s: %s\n", zWhat, db ? sqlite3_errmsg(db) : "?");
  exit(1);
}

static sqlite3 *open_db(const char *zPath, int bReadOnly){
  sqlite3 *db = NULL;
  /* read-write opens may create (the size command attaches a scratch file: it inherits these) */
  int flags = bReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE;
  if( !bReadOnly && access(zPath, F_OK)!=0 ){ fprintf(stderr, "search_cost: no %s\n", zPath); exit(1); }
  if( sqlite3_open_v2(zPath, &db, flags, NULL)!=SQLITE_OK ) die(db, zPath);
  if( fts_register(db)!=SQLITE_OK ) die(db, "fts_register");
  sqlite3_busy_timeout(db, 10000);
  /* the whole file mapped: neither query waits on read(2) once the OS has the pages */
  sqlite3_exec(db, "PRAGMA mmap_size=17179869184; PRAGMA cache_size=-65536;", NULL, NULL, NULL);
  return db;
}

static sqlite3_stmt *prep(sqlite3 *db, const char *zSql){
  sqlite3_stmt *p = NULL;
  if( sqlite3_prepare_v2(db, zSql, -1, &p, NULL)!=SQLITE_OK ) die(db, zSql);
  return p;
}

static sqlite3_int64 one_int(sqlite3 *db, const char *zSql){
  sqlite3_stmt *p = prep(db, zSql);
  sqlite3_int64 v = 0;
  int rc = sqlite3_step(p);
  if( rc==SQLITE_ROW ) v = sqlite3_column_int64(p, 0);
  else if( rc!=SQLITE_DONE ) die(db, zSql);
  sqlite3_finalize(p);
  return v;
}

/* Run p to its end; the rows it gave. *pTotal: column 5 of the first row (the FTS query's
** count(*) OVER (): zSearchSql's rows are rowid, kind, title, chat_id, time, total, ...),
** when pTotal is given. */
static int run_all(sqlite3 *db, sqlite3_stmt *p, sqlite3_int64 *pTotal){
  int n = 0, rc;
  while( (rc = sqlite3_step(p))==SQLITE_ROW ){
    if( n==0 && pTotal ) *pTotal = sqlite3_column_int64(p, 5);
    n++;
  }
  if( rc!=SQLITE_DONE ) die(db, "step");
  sqlite3_reset(p);
  return n;
}

/* Queries per second of p over secs (at least 3 runs), after one warm-up run. */
static double rate(sqlite3 *db, sqlite3_stmt *p, double secs, int *pRows, sqlite3_int64 *pTotal,
                   long *pN, double *pBest){
  double t0, t1, t, best = 1e30;
  long n = 0;
  *pRows = run_all(db, p, pTotal);              /* warm-up: pages into the OS cache */
  t0 = now_s();
  do{
    double a = now_s();
    run_all(db, p, NULL);
    t = now_s();
    if( t-a < best ) best = t-a;
    n++;
  }while( t - t0 < secs || n < 3 );
  t1 = t;
  *pN = n;
  *pBest = best;
  return (double)n / (t1 - t0);
}

static int cmd_query(const char *zDb, sqlite3_int64 userId, const char *zWord, double secs,
                     int bFtsOnly){
  sqlite3 *db = open_db(zDb, 1);
  struct cv_phrase ph;
  struct cv_buf expr;
  sqlite3_stmt *pFts, *pLike;
  char zLike[300];
  int nFts, nLike;
  long nRunFts, nRunLike;
  double qFts, qLike, bestFts, bestLike;
  sqlite3_int64 total = -1;

  ph.z = zWord; ph.n = (int)strlen(zWord); ph.bPrefix = 0;
  buf_init(&expr, 4096);
  if( fts_match_expr(userId, &ph, 1, &expr)!=CV_OK ){ fprintf(stderr, "fts_match_expr failed\n"); return 1; }

  /* (a) the server's query, bound as h_search binds a plain `?q=WORD&limit=20`: both kinds,
  ** archived any, no tag, limit 20, offset 0 */
  pFts = prep(db, zSearchSql);
  sqlite3_bind_text(pFts, 1, expr.a, (int)expr.n, SQLITE_STATIC);
  sqlite3_bind_int64(pFts, 2, userId);
  sqlite3_bind_int(pFts, 3, 0);
  sqlite3_bind_int(pFts, 4, 2);
  sqlite3_bind_null(pFts, 5);
  sqlite3_bind_int(pFts, 6, 20);
  sqlite3_bind_int64(pFts, 7, 0);
  qFts = rate(db, pFts, secs, &nFts, &total, &nRunFts, &bestFts);
  printf("fts qps=%.1f runs=%ld best_ms=%.3f rows=%d total=%lld\n", qFts, nRunFts, bestFts*1e3,
         nFts, (long long)total);
  fflush(stdout);

  /* (a') the same, plus what the server reads next for each hit's snippet: its message, from
  ** the one segment holding it (zMessageSql), as store_search.c's read_message does */
  {
    sqlite3_stmt *pMsg = prep(db, zMessageSql);
    double t0 = now_s(), t;
    long nRun = 0, nRead = 0, nBytes = 0;
    do{
      int rc;
      while( (rc = sqlite3_step(pFts))==SQLITE_ROW ){
        sqlite3_int64 rowid = sqlite3_column_int64(pFts, 0);
        if( rowid<0 ) continue;                                  /* a title */
        sqlite3_bind_int64(pMsg, 1, rowid / SEARCH_ROWID_SLOTS); /* segment id, place */
        sqlite3_bind_int64(pMsg, 2, rowid % SEARCH_ROWID_SLOTS);
        if( sqlite3_step(pMsg)==SQLITE_ROW ){
          if( sqlite3_column_type(pMsg, 2)!=SQLITE_TEXT ) die(db, "a hit without its message");
          nBytes += sqlite3_column_bytes(pMsg, 2);
          nRead++;
        }
        sqlite3_reset(pMsg);
      }
      if( rc!=SQLITE_DONE ) die(db, "fts+read");
      sqlite3_reset(pFts);
      nRun++;
      t = now_s();
    }while( t - t0 < secs || nRun < 3 );
    printf("fts_read qps=%.1f runs=%ld messages_read=%ld mean_message_bytes=%.0f\n",
           (double)nRun/(t-t0), nRun, nRead/nRun, nRead ? (double)nBytes/(double)nRead : 0.0);
    fflush(stdout);
    sqlite3_finalize(pMsg);
  }

  if( bFtsOnly ){
    sqlite3_finalize(pFts);
    buf_free(&expr);
    sqlite3_close(db);
    return 0;
  }

  /* (b) the LIKE scan over the user's segments (their JSON arrays: the content Open WebUI
  ** scans as its chat JSON) */
  snprintf(zLike, sizeof zLike, "%%%s%%", zWord);
  pLike = prep(db, "SELECT s.conv_id, s.first_index FROM segments s JOIN conversations c"
                   " ON c.id = s.conv_id WHERE c.user_id = ?1 AND s.messages LIKE ?2");
  sqlite3_bind_int64(pLike, 1, userId);
  sqlite3_bind_text(pLike, 2, zLike, -1, SQLITE_TRANSIENT);
  qLike = rate(db, pLike, secs, &nLike, NULL, &nRunLike, &bestLike);
  printf("like qps=%.3f runs=%ld best_ms=%.1f rows=%d\n", qLike, nRunLike, bestLike*1e3, nLike);
  {
    sqlite3_stmt *p = prep(db, "SELECT count(*), sum(length(CAST(s.messages AS BLOB))) FROM segments s"
                               " JOIN conversations c ON c.id=s.conv_id WHERE c.user_id=?1");
    sqlite3_bind_int64(p, 1, userId);
    if( sqlite3_step(p)==SQLITE_ROW ){
      printf("scan segments=%lld bytes=%lld\n", (long long)sqlite3_column_int64(p, 0),
             (long long)sqlite3_column_int64(p, 1));
    }
    sqlite3_finalize(p);
  }
  printf("ratio fts_over_like=%.1f\n", qLike>0 ? qFts/qLike : 0.0);
  sqlite3_finalize(pFts);
  sqlite3_finalize(pLike);
  buf_free(&expr);
  sqlite3_close(db);
  return 0;
}

/* Bytes of the rows of table zTab: blobs and texts by length, integers 8, reals 8. */
static sqlite3_int64 row_bytes(sqlite3 *db, const char *zTab, sqlite3_int64 *pRows){
  char zSql[200];
  sqlite3_stmt *p;
  sqlite3_int64 n = 0, rows = 0;
  int i, nCol, rc;
  snprintf(zSql, sizeof zSql, "SELECT * FROM \"%s\"", zTab);
  p = prep(db, zSql);
  nCol = sqlite3_column_count(p);
  while( (rc = sqlite3_step(p))==SQLITE_ROW ){
    rows++;
    for(i=0; i<nCol; i++){
      switch( sqlite3_column_type(p, i) ){
        case SQLITE_INTEGER: case SQLITE_FLOAT: n += 8; break;
        case SQLITE_NULL: break;
        default: n += sqlite3_column_bytes(p, i); break;
      }
    }
  }
  if( rc!=SQLITE_DONE ) die(db, zSql);
  sqlite3_finalize(p);
  *pRows = rows;
  return n;
}

static int cmd_size(const char *zDb){
  static const char *const azTab[] = { "search_index_data", "search_index_idx",
                                       "search_index_docsize", "search_index_config" };
  sqlite3 *db = open_db(zDb, 0);   /* read-write: it attaches a scratch file (nothing of zDb is written) */
  sqlite3_int64 payload = 0, pageSize, pages, text, title, nMsg, nDoc;
  char zCopy[600], zSql[1200];
  int i;
  double t0 = now_s();

  /* a compact copy of the four shadow tables, with their own definitions, in a scratch file:
  ** its pages are what the index needs (this SQLite has no dbstat to count the live ones) */
  snprintf(zCopy, sizeof zCopy, "%s.index-copy", zDb);
  remove(zCopy);
  snprintf(zSql, sizeof zSql, "ATTACH '%s' AS cp", zCopy);
  if( sqlite3_exec(db, zSql, NULL, NULL, NULL)!=SQLITE_OK ) die(db, "attach");
  sqlite3_exec(db, "PRAGMA cp.journal_mode=OFF; PRAGMA cp.synchronous=OFF;", NULL, NULL, NULL);
  pageSize = one_int(db, "PRAGMA page_size");
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  for(i=0; i<4; i++){
    sqlite3_stmt *p;
    sqlite3_int64 rows, b;
    const char *zDef;
    snprintf(zSql, sizeof zSql, "SELECT count(*) FROM sqlite_schema WHERE name='%s'", azTab[i]);
    if( one_int(db, zSql)==0 ) continue;      /* docsize: none with columnsize=0 (version 12) */
    b = row_bytes(db, azTab[i], &rows);
    payload += b;
    printf("shadow table=%s rows=%lld row_bytes=%lld\n", azTab[i], (long long)rows, (long long)b);
    snprintf(zSql, sizeof zSql, "SELECT sql FROM sqlite_schema WHERE name='%s'", azTab[i]);
    p = prep(db, zSql);
    if( sqlite3_step(p)!=SQLITE_ROW ) die(db, zSql);
    zDef = strchr((const char*)sqlite3_column_text(p, 0), '(');
    snprintf(zSql, sizeof zSql, "CREATE TABLE cp.\"%s\"%s; INSERT INTO cp.\"%s\" SELECT * FROM main.\"%s\";",
             azTab[i], zDef, azTab[i], azTab[i]);
    sqlite3_finalize(p);
    if( sqlite3_exec(db, zSql, NULL, NULL, NULL)!=SQLITE_OK ) die(db, zSql);
  }
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  pages = one_int(db, "PRAGMA cp.page_count") - 1;       /* less its schema page */
  sqlite3_exec(db, "DETACH cp", NULL, NULL, NULL);
  remove(zCopy);

  /* the text it indexes: every message's content and every title (of every user) */
  {
    sqlite3_stmt *p = prep(db, "SELECT count(*), coalesce(sum(octet_length(m.value ->> '$.content')), 0)"
                               "  FROM segments s, json_each(s.messages) m");
    if( sqlite3_step(p)!=SQLITE_ROW ) die(db, "text");
    nMsg = sqlite3_column_int64(p, 0);
    text = sqlite3_column_int64(p, 1);
    sqlite3_finalize(p);
  }
  title = one_int(db, "SELECT coalesce(sum(octet_length(title)), 0) FROM chat_threads")
        + one_int(db, "SELECT coalesce(sum(octet_length(title)), 0) FROM chat_histories WHERE title <> ''");
  /* the index's rows: every message with content and every title (no docsize table to count
  ** since schema version 12) */
  nDoc = nMsg + one_int(db, "SELECT count(*) FROM chat_threads")
       + one_int(db, "SELECT count(*) FROM chat_histories WHERE title <> ''");
  printf("size messages=%lld docs=%lld text_bytes=%lld title_bytes=%lld indexed_bytes=%lld"
         " index_payload_bytes=%lld index_page_bytes=%lld page_size=%lld"
         " payload_pct=%.1f pages_pct=%.1f file_bytes=%lld secs=%.1f\n",
         (long long)nMsg, (long long)nDoc, (long long)text, (long long)title,
         (long long)(text+title), (long long)payload, (long long)(pages*pageSize),
         (long long)pageSize, 100.0*(double)payload/(double)(text+title),
         100.0*(double)(pages*pageSize)/(double)(text+title),
         (long long)(one_int(db, "PRAGMA page_count") * pageSize), now_s()-t0);
  sqlite3_close(db);
  return 0;
}

/* Bytes of every row of the tables of schema zSchema whose name starts with zPrefix"_". */
static sqlite3_int64 tables_bytes(sqlite3 *db, const char *zSchema, const char *zPrefix){
  char zSql[300];
  sqlite3_stmt *p;
  sqlite3_int64 n = 0;
  snprintf(zSql, sizeof zSql, "SELECT name FROM \"%s\".sqlite_schema WHERE type='table'"
           " AND name LIKE '%s\\_%%' ESCAPE '\\'", zSchema, zPrefix);
  p = prep(db, zSql);
  while( sqlite3_step(p)==SQLITE_ROW ){
    char zTab[300];
    sqlite3_int64 rows;
    snprintf(zTab, sizeof zTab, "%s\".\"%s", zSchema, (const char*)sqlite3_column_text(p, 0));
    n += row_bytes(db, zTab, &rows);
  }
  sqlite3_finalize(p);
  return n;
}

static void exec_or_die(sqlite3 *db, const char *zSql){
  if( sqlite3_exec(db, zSql, NULL, NULL, NULL)!=SQLITE_OK ) die(db, zSql);
}

static int cmd_size_variants(const char *zDb, sqlite3_int64 userId, long nMsg){
  static const struct { const char *zName, *zArgs, *zRowid; int bMarker; const char *zWhat;
                        const char *zConfig; } aV[] = {
    { "as_is",      "content='', contentless_delete=1, tokenize='chatvault'", "rid", 1,
      "as the server builds it: chatvault tokenizer (owner prefix), rowid segment*16+place", NULL },
    { "wide",       "content='', contentless_delete=1, tokenize='chatvault'", "wide", 1,
      "the first layout: rowid (conv<<32)+index+1", NULL },
    { "dense",      "content='', contentless_delete=1, tokenize='chatvault'", "dense", 1,
      "the same with rowids 1..N (consecutive)", NULL },
    { "u61",        "content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2'", "rid", 0,
      "unicode61, no owner prefix, rowid as the server's", NULL },
    { "u61_dense",  "content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2'", "dense", 0,
      "unicode61, no owner prefix, rowids 1..N", NULL },
    { "no_cdelete", "content='', tokenize='chatvault'", "rid", 1,
      "as is without contentless_delete", NULL },
    { "col",        "content='', contentless_delete=1, tokenize='chatvault', detail=column", "rid", 1,
      "as is with detail=column (no positions: no phrase queries)", NULL },
    { "dense_col",  "content='', contentless_delete=1, tokenize='chatvault', detail=column", "dense", 1,
      "rowids 1..N and detail=column", NULL },
    { "pgsz4k",     "content='', contentless_delete=1, tokenize='chatvault'", "rid", 1,
      "as is with FTS5 leaf pages of 4,000 bytes (pgsz; default 1,000)", "pgsz', 4000" },
    { "colsz0",     "content='', columnsize=0, tokenize='chatvault'", "rid", 1,
      "classic contentless (deleted with the old text) without the document-size table", NULL },
    { "colsz0_r32", "content='', columnsize=0, tokenize='chatvault'", "r32", 1,
      "the same with rowid segment*32+place", NULL },
    { "colsz0_dense", "content='', columnsize=0, tokenize='chatvault'", "dense", 1,
      "the same with rowids 1..N", NULL },
  };
  sqlite3 *db = open_db(zDb, 0);
  sqlite3_stmt *p;
  char zCopy[600], zSql[1200];
  sqlite3_int64 text;
  int i;
  snprintf(zCopy, sizeof zCopy, "%s.variants", zDb);
  remove(zCopy);
  snprintf(zSql, sizeof zSql, "ATTACH '%s' AS v", zCopy);
  exec_or_die(db, zSql);
  exec_or_die(db, "PRAGMA v.journal_mode=OFF; PRAGMA v.synchronous=OFF;");
  exec_or_die(db, "CREATE TABLE v.src(rid INTEGER PRIMARY KEY, dense INTEGER, wide INTEGER,"
                  " r32 INTEGER, body TEXT)");
  p = prep(db, "INSERT INTO v.src(rid, dense, wide, r32, body)"
               " SELECT rid, row_number() OVER (ORDER BY rid), wide, r32, body FROM ("
               "  SELECT s.id * 16 + m.key AS rid,"
               "         (s.conv_id << 32) + s.first_index + m.key + 1 AS wide,"
               "         s.id * 32 + m.key AS r32,"
               "         m.value ->> '$.content' AS body"
               "    FROM segments s JOIN conversations c ON c.id = s.conv_id, json_each(s.messages) m"
               "   WHERE c.user_id = ?1 ORDER BY 1 LIMIT ?2)");
  sqlite3_bind_int64(p, 1, userId);
  sqlite3_bind_int64(p, 2, nMsg);
  if( sqlite3_step(p)!=SQLITE_DONE ) die(db, "src");
  sqlite3_finalize(p);
  text = one_int(db, "SELECT sum(octet_length(body)) FROM v.src");
  printf("src messages=%lld text_bytes=%lld user=%lld\n",
         (long long)one_int(db, "SELECT count(*) FROM v.src"), (long long)text, (long long)userId);
  fflush(stdout);
  for(i=0; i<(int)(sizeof aV/sizeof aV[0]); i++){
    sqlite3_int64 b0, b1;
    double t0 = now_s();
    snprintf(zSql, sizeof zSql, "CREATE VIRTUAL TABLE v.%s USING fts5(body, %s)", aV[i].zName, aV[i].zArgs);
    exec_or_die(db, zSql);
    if( aV[i].zConfig ){
      snprintf(zSql, sizeof zSql, "INSERT INTO v.%s(%s, rank) VALUES('%s)", aV[i].zName,
               aV[i].zName, aV[i].zConfig);
      exec_or_die(db, zSql);
    }
    snprintf(zSql, sizeof zSql, "INSERT INTO v.%s(rowid, body) SELECT %s, %s FROM v.src ORDER BY %s",
             aV[i].zName, aV[i].zRowid,
             aV[i].bMarker ? "char(1) || ?1 || char(1) || body" : "body", aV[i].zRowid);
    p = prep(db, zSql);
    sqlite3_bind_int64(p, 1, userId);
    exec_or_die(db, "BEGIN");
    if( sqlite3_step(p)!=SQLITE_DONE ) die(db, zSql);
    sqlite3_finalize(p);
    exec_or_die(db, "COMMIT");
    b0 = tables_bytes(db, "v", aV[i].zName);
    snprintf(zSql, sizeof zSql, "INSERT INTO v.%s(%s) VALUES('optimize')", aV[i].zName, aV[i].zName);
    exec_or_die(db, zSql);
    b1 = tables_bytes(db, "v", aV[i].zName);
    printf("variant name=%s bytes=%lld pct=%.1f optimized_bytes=%lld optimized_pct=%.1f secs=%.1f what=\"%s\"\n",
           aV[i].zName, (long long)b0, 100.0*(double)b0/(double)text, (long long)b1,
           100.0*(double)b1/(double)text, now_s()-t0, aV[i].zWhat);
    fflush(stdout);
    snprintf(zSql, sizeof zSql, "DROP TABLE v.%s", aV[i].zName);
    exec_or_die(db, zSql);
  }
  exec_or_die(db, "DETACH v");
  remove(zCopy);
  sqlite3_close(db);
  return 0;
}

static int cmd_drop_triggers(const char *zDb){
  int n = bench_drop_triggers(zDb, "%search%");
  sqlite3 *db;
  if( n<0 ) return 1;
  db = open_db(zDb, 1);
  printf("dropped triggers=%d user_version=%lld\n", n, (long long)one_int(db, "PRAGMA user_version"));
  sqlite3_close(db);
  return n>0 ? 0 : 1;
}

static int cmd_user_id(const char *zDb, const char *zEmail){
  sqlite3 *db = open_db(zDb, 1);
  sqlite3_stmt *p = prep(db, "SELECT id FROM users WHERE email = ?1");
  int rc = 1;
  sqlite3_bind_text(p, 1, zEmail, -1, SQLITE_STATIC);
  if( sqlite3_step(p)==SQLITE_ROW ){
    printf("%lld\n", (long long)sqlite3_column_int64(p, 0));
    rc = 0;
  }
  sqlite3_finalize(p);
  sqlite3_close(db);
  return rc;
}

int main(int argc, char **argv){
  if( argc>=5 && strcmp(argv[1], "query")==0 ){
    return cmd_query(argv[2], atoll(argv[3]), argv[4], argc>5 ? atof(argv[5]) : 5.0,
                     argc>6 && strcmp(argv[6], "fts")==0);
  }
  if( argc==3 && strcmp(argv[1], "size")==0 ) return cmd_size(argv[2]);
  if( argc==3 && strcmp(argv[1], "optimize")==0 ){
    /* FTS5 'optimize' of the index in place (the bench runs it on its scratch copy) */
    sqlite3 *db = open_db(argv[2], 0);
    double t0 = now_s();
    exec_or_die(db, "INSERT INTO search_index(search_index) VALUES('optimize')");
    printf("optimize secs=%.1f\n", now_s()-t0);
    sqlite3_close(db);
    return 0;
  }
  if( argc==5 && strcmp(argv[1], "size-variants")==0 ){
    return cmd_size_variants(argv[2], atoll(argv[3]), atol(argv[4]));
  }
  if( argc==3 && strcmp(argv[1], "drop-triggers")==0 ) return cmd_drop_triggers(argv[2]);
  if( argc==4 && strcmp(argv[1], "user-id")==0 ) return cmd_user_id(argv[2], argv[3]);
  fprintf(stderr, "usage: search_cost query DB USER_ID WORD [SECS [fts]] | size DB | optimize DB"
                  " | size-variants DB USER_ID N | drop-triggers DB | user-id DB EMAIL\n");
  return 2;
}
