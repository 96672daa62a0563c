/*
** bench/drop_triggers.h — the benches' "without" databases: drop every trigger of the
** database zPath whose name is LIKE zLike ('%search%': the search index's, 'changes%': the
** change log's), in one transaction, on a connection of its own (a server or a store may
** have the file open: the next statement it prepares sees the schema without them).
** Returns how many triggers were dropped, or -1 on an error (printed). Header-only: each
** bench is one C file linked with chatvault's objects or SQLite alone.
*/
#ifndef CV_BENCH_DROP_TRIGGERS_H
#define CV_BENCH_DROP_TRIGGERS_H

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bench_drop_triggers(const char *zPath, const char *zLike){
  sqlite3 *h = NULL;
  sqlite3_stmt *p = NULL;
  char *zSql = NULL, *zErr = NULL;
  int nDropped = 0, rc = sqlite3_open(zPath, &h);
  if( rc==SQLITE_OK ) sqlite3_busy_timeout(h, 10000);
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(h, "SELECT name FROM sqlite_schema WHERE type='trigger'"
                               " AND name LIKE ?1 ORDER BY name", -1, &p, NULL);
  }
  if( rc==SQLITE_OK ) rc = sqlite3_bind_text(p, 1, zLike, -1, SQLITE_STATIC);
  if( rc==SQLITE_OK ){
    zSql = sqlite3_mprintf("BEGIN;");
    while( zSql && sqlite3_step(p)==SQLITE_ROW ){
      char *z = sqlite3_mprintf("%sDROP TRIGGER \"%w\";", zSql, (const char*)sqlite3_column_text(p, 0));
      sqlite3_free(zSql);
      zSql = z;
      nDropped++;
    }
    if( !zSql ) rc = SQLITE_NOMEM;
  }
  if( sqlite3_finalize(p)!=SQLITE_OK && rc==SQLITE_OK ) rc = sqlite3_errcode(h);
  if( rc==SQLITE_OK ){
    char *z = sqlite3_mprintf("%sCOMMIT;", zSql);
    rc = z ? sqlite3_exec(h, z, NULL, NULL, &zErr) : SQLITE_NOMEM;
    sqlite3_free(z);
  }
  if( rc!=SQLITE_OK ){
    fprintf(stderr, "drop triggers LIKE '%s' in %s: %s\n", zLike, zPath,
            zErr ? zErr : h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
  }
  sqlite3_free(zErr);
  sqlite3_free(zSql);
  sqlite3_close(h);
  return rc==SQLITE_OK ? nDropped : -1;
}

#endif
