/*
** db_file.c — the database as a file, apart from serving it: `chatvault check` (db_check),
** `chatvault backup` (db_backup) and removing a file with SQLite's own files beside it
** (db_remove_files). Each opens its own connections through db.c's connection layer
** (db_conn.h), never the store's. See db.h for the contracts.
** May call SQLite, the stores' checks (store_conv_check, search_index_check) and the OS.
*/
#include "db.h"
#include "db_conn.h"
#include "store_conv.h"
#include "store_fts.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* PRAGMA user_version of h, -1 when it cannot be read. */
static int ver_of(sqlite3 *h){
  sqlite3_stmt *pSt = NULL;
  int v = -1;
  if( sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &pSt, NULL)==SQLITE_OK
   && sqlite3_step(pSt)==SQLITE_ROW ) v = sqlite3_column_int(pSt, 0);
  sqlite3_finalize(pSt);
  return v;
}

cv_rc db_check(const char *zPath, char **pzReport){
  struct cv_db *pDb = NULL;
  sqlite3 *h;
  struct cv_buf r;
  sqlite3_stmt *pSt = NULL;
  int bad = 0, ver, rc;
  cv_rc crc;
  *pzReport = NULL;
  buf_init(&r, 1<<20);
  db_sqlite_init();
  crc = db_conn_open(zPath, SQLITE_OPEN_READONLY, 5000, "PRAGMA query_only=1;", &pDb, pzReport);
  if( crc ) return crc;
  h = db_conn_handle(pDb);
  ver = ver_of(h);
  rc = sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &pSt, NULL);
  if( rc!=SQLITE_OK ){
    crc = db_rc(pDb, rc);
    buf_appendf(&r, "integrity_check: %s\n", sqlite3_errmsg(h));
    goto out;
  }
  while( (rc = sqlite3_step(pSt))==SQLITE_ROW ){
    const char *z = (const char*)sqlite3_column_text(pSt, 0);
    if( z && strcmp(z, "ok")!=0 ){ bad = 1; buf_appendf(&r, "integrity: %s\n", z); }
  }
  if( rc!=SQLITE_DONE ){
    bad = 1;
    buf_appendf(&r, "integrity_check failed: %s\n", sqlite3_errmsg(h));
  }
  sqlite3_finalize(pSt);
  pSt = NULL;
  if( !bad ) buf_appendf(&r, "integrity: ok\n");
  rc = sqlite3_prepare_v2(h, "PRAGMA foreign_key_check", -1, &pSt, NULL);
  if( rc==SQLITE_OK ){
    int nFk = 0;
    while( sqlite3_step(pSt)==SQLITE_ROW ){
      nFk++;
      if( nFk<=20 ){
        buf_appendf(&r, "foreign key: table %s row %lld refers to missing %s\n",
                    (const char*)sqlite3_column_text(pSt, 0),
                    (long long)sqlite3_column_int64(pSt, 1),
                    (const char*)sqlite3_column_text(pSt, 2));
      }
    }
    if( nFk ){ bad = 1; buf_appendf(&r, "foreign keys: %d violations\n", nFk); }
    else buf_appendf(&r, "foreign keys: ok\n");
    sqlite3_finalize(pSt);
    pSt = NULL;
  }else{
    bad = 1;
    buf_appendf(&r, "foreign_key_check: %s\n", sqlite3_errmsg(h));
  }
  /* derived counters kept by triggers must match what they count */
  rc = sqlite3_prepare_v2(h,
         "SELECT count(*) FROM users u WHERE thread_count <>"
         " (SELECT count(*) FROM chat_threads t WHERE t.user_id=u.id)", -1, &pSt, NULL);
  if( rc==SQLITE_OK && sqlite3_step(pSt)==SQLITE_ROW ){
    int nBad = sqlite3_column_int(pSt, 0);
    if( nBad ){ bad = 1; buf_appendf(&r, "thread counts: %d users wrong\n", nBad); }
    else buf_appendf(&r, "thread counts: ok\n");
  }
  sqlite3_finalize(pSt);
  pSt = NULL;
  if( ver>=3 ){
    int nBad = 0;
    crc = store_conv_check(pDb, &r, &nBad);
    if( crc ){ bad = 1; buf_appendf(&r, "segments: cannot check: %s\n", cv_rc_str(crc)); }
    if( nBad ) bad = 1;
  }
  if( ver>=12 ){
    int64_t nBad = 0;
    crc = search_index_check(pDb, &r, &nBad);
    if( crc ){ bad = 1; buf_appendf(&r, "search index: cannot check: %s\n", cv_rc_str(crc)); }
    if( nBad ) bad = 1;
  }
  if( ver!=db_schema_version() ){
    bad = 1;
    buf_appendf(&r, "schema version: %d, expected %d\n", ver, db_schema_version());
  }else{
    buf_appendf(&r, "schema version: %d ok\n", ver);
  }
  crc = bad ? CV_INVALID : CV_OK;
out:
  sqlite3_finalize(pSt);
  db_conn_close(pDb);
  *pzReport = r.a;
  return crc;
}

void db_remove_files(const char *zPath){
  static const char *const azSuffix[] = { "", "-journal", "-wal", "-shm" };
  size_t i, n = strlen(zPath) + 16;
  char *z = malloc(n);
  if( !z ){ unlink(zPath); return; }
  for(i=0; i<sizeof azSuffix/sizeof azSuffix[0]; i++){
    snprintf(z, n, "%s%s", zPath, azSuffix[i]);
    unlink(z);
  }
  free(z);
}

cv_rc db_backup(const char *zPath, const char *zOut, char **pzErr){
  /* The copy is written under a temporary name in zOut's directory
  ** ("<zOut>.partial-XXXXXX"), fsync'ed, then given its final name without replacing
  ** anything (renameat2 RENAME_NOREPLACE, or link+unlink where the file system lacks it)
  ** and the directory fsync'ed: a crash (kill -9, power loss) or a full disk at any point
  ** leaves either the complete backup under zOut or no zOut at all, never a half-written
  ** file under the final name. After a kill -9 the temporary file may remain. */
  struct cv_db *pSrc = NULL, *pDst = NULL;
  sqlite3 *hDst;
  sqlite3_backup *pB;
  char *zTmp = NULL, *zDir = NULL;
  const char *zStep = NULL;   /* the file operation that failed (errno in e), for the message */
  int rc, fd = -1, bTmp = 0, e = 0;
  size_t nOut = strlen(zOut), nTmp = nOut + 32;
  cv_rc crc = CV_OK;
  if( pzErr ) *pzErr = NULL;
  db_sqlite_init();
  if( access(zOut, F_OK)==0 ){
    if( pzErr ){
      size_t n = strlen(zOut) + 64;
      if( (*pzErr = malloc(n))!=NULL ) snprintf(*pzErr, n, "%s already exists: not overwriting it", zOut);
    }
    return CV_CONFLICT;
  }
  zTmp = malloc(nTmp);
  zDir = malloc(nOut + 2);
  if( !zTmp || !zDir ){ crc = CV_NOMEM; goto out; }
  snprintf(zTmp, nTmp, "%s.partial-XXXXXX", zOut);
  fd = mkstemp(zTmp);
  if( fd<0 ){ e = errno; zStep = "cannot create"; goto out; }
  bTmp = 1;
  close(fd);
  fd = -1;
  crc = db_conn_open(zPath, SQLITE_OPEN_READONLY, 10000, "PRAGMA query_only=1;", &pSrc, pzErr);
  if( crc ) goto out;
  crc = db_conn_open(zTmp, SQLITE_OPEN_READWRITE, 10000, "", &pDst, pzErr);
  if( crc ) goto out;
  /* one step copies every page inside one read transaction of the source: a consistent
  ** snapshot, while the server's writer goes on appending to the WAL */
  hDst = db_conn_handle(pDst);
  pB = sqlite3_backup_init(hDst, "main", db_conn_handle(pSrc), "main");
  if( !pB ){
    rc = sqlite3_errcode(hDst);
  }else{
    rc = sqlite3_backup_step(pB, -1);
    if( rc==SQLITE_DONE ) rc = SQLITE_OK;
    if( sqlite3_backup_finish(pB)!=SQLITE_OK && rc==SQLITE_OK ) rc = sqlite3_errcode(hDst);
  }
  if( rc!=SQLITE_OK ){
    if( pzErr ){
      const char *zMsg = sqlite3_errstr(rc);
      size_t n = strlen(zMsg) + strlen(zOut) + 32;
      if( (*pzErr = malloc(n))!=NULL ) snprintf(*pzErr, n, "backup to %s failed: %s", zOut, zMsg);
    }
    crc = db_rc(pDst, rc);
    if( crc==CV_OK ) crc = CV_DB;
    goto out;
  }
  db_conn_close(pDst);           /* the copy is complete in the file (its journal is gone) */
  pDst = NULL;
  fd = open(zTmp, O_RDWR|O_CLOEXEC);
  if( fd<0 || fsync(fd)!=0 ){ e = errno; zStep = "cannot sync"; goto out; }
  close(fd);
  fd = -1;
  if( renameat2(AT_FDCWD, zTmp, AT_FDCWD, zOut, RENAME_NOREPLACE)!=0 ){
    e = errno;
    if( e!=EINVAL && e!=ENOSYS ){ zStep = "cannot name"; goto out; }
    /* no RENAME_NOREPLACE on this file system: a hard link never replaces either */
    if( link(zTmp, zOut)!=0 ){ e = errno; zStep = "cannot name"; goto out; }
    unlink(zTmp);
  }
  bTmp = 0;
  {
    /* make the new name itself durable */
    char *zSlash;
    memcpy(zDir, zOut, nOut + 1);
    zSlash = strrchr(zDir, '/');
    if( !zSlash ) strcpy(zDir, ".");
    else if( zSlash==zDir ) zDir[1] = 0;
    else *zSlash = 0;
    fd = open(zDir, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
    if( fd<0 || (fsync(fd)!=0 && errno!=EINVAL) ){ e = errno; zStep = "cannot sync the directory of"; }
  }
out:
  if( zStep ){
    crc = (e==ENOSPC || e==EDQUOT) ? CV_FULL : e==EEXIST ? CV_CONFLICT : CV_IO;
    if( pzErr && !*pzErr ){
      const char *zMsg = strerror(e);
      size_t n = strlen(zMsg) + strlen(zStep) + nOut + 48;
      if( (*pzErr = malloc(n))!=NULL ) snprintf(*pzErr, n, "backup: %s %s: %s", zStep, zOut, zMsg);
    }
  }
  if( fd>=0 ) close(fd);
  db_conn_close(pSrc);
  db_conn_close(pDst);
  if( bTmp ) db_remove_files(zTmp);   /* SQLite's own files of the copy go with it */
  free(zTmp);
  free(zDir);
  return crc;
}
