/*
** cluster_data.c — see cluster_data.h.
**
** A dump (dq_dump) is a member's whole database file, consistent, in WAL mode with its WAL
** already in the pages. Written to a temporary file, its header is set to the rollback
** journal (bytes 18-19: 1, 1) so that SQLite opens it alone, read-only or not, without a -wal
** or -shm beside it; every chatvault that opens the file for writing sets WAL again.
**
** A restore copies rows, not pages: dqlite has no request that loads a database file, and a
** transaction of ordinary statements is what Raft replicates. Its triggers are dropped and
** made again inside the same transaction, so the rows land as they are in the backup (the
** counters, the search index and the change log the triggers keep are copied, not derived
** again), and nothing of the restore is visible unless all of it is.
*/
#include "cluster_data.h"
#include "db.h"
#include "dqclient.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sqlite3.h>
#include <unistd.h>

#define DUMP_MS      600000        /* a dump: the member builds it in memory, then sends it */
#define FIND_MS      10000         /* finding the leader */
#define RESTORE_MS   60000         /* each call of a restore (a batch of rows) */
#define BATCH_ROWS   500           /* a restore's rows per INSERT ... */
#define BATCH_PARAMS 30000         /* ... its parameters (SQLite allows 32,766) ... */
#define BATCH_BYTES  (8u << 20)    /* ... and its bytes, about (DQ_MSG_MAX is 64 MiB) */

/* The backup's own objects: not Litestream's (a file replicated by Litestream holds its
** _litestream_seq and _litestream_lock tables: docs/litestream.md). */
#define OURS " name NOT LIKE '\\_litestream\\_%' ESCAPE '\\'"

/* The backup's tables that hold rows of their own (not a virtual table: its shadow tables are
** copied), with 1 for a WITHOUT ROWID table: what a restore copies and then counts. */
static const char zTables[] =
  "SELECT name, sql LIKE '%WITHOUT ROWID%' FROM sqlite_master WHERE type='table'"
  " AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' AND" OURS " ORDER BY rowid";

/* *pz = the formatted message (when pz is not NULL); returns rc. */
static cv_rc errf(char **pz, cv_rc rc, const char *zFmt, ...) __attribute__((format(printf, 3, 4)));
static cv_rc errf(char **pz, cv_rc rc, const char *zFmt, ...){
  va_list ap;
  if( pz && !*pz && (*pz = malloc(600))!=NULL ){
    va_start(ap, zFmt);
    vsnprintf(*pz, 600, zFmt, ap);
    va_end(ap);
  }
  return rc;
}

/* Dump the database of the member zAddrs names (bLeader: of the leader found through them)
** into the file fd, then set its header to the rollback journal. *pzFrom: the member's
** address (when not NULL; free with free()). */
static cv_rc dump_into(const char *zAddrs, int bLeader, int fd, char **pzFrom, char **pzErr){
  struct dq_conn *c = NULL;
  char zErr[300];
  uint64_t n = 0;
  static const unsigned char aRollback[2] = { 1, 1 };
  cv_rc rc;
  if( bLeader ) rc = dq_connect_leader(zAddrs, FIND_MS, &c, zErr, sizeof zErr);
  else rc = dq_connect(zAddrs, FIND_MS, &c, zErr, sizeof zErr);
  if( rc ) return errf(pzErr, rc, "cluster %s: %s", zAddrs, zErr);
  dq_set_deadline(c, DUMP_MS);
  rc = dq_dump(c, DB_CLUSTER_NAME, fd, &n);
  if( rc ){
    rc = errf(pzErr, rc, "dump of %s's database: %s", dq_addr(c), dq_errmsg(c));
  }else if( n<100 ){
    rc = errf(pzErr, CV_INVALID, "%s has no database yet (a dump of %llu bytes)", dq_addr(c),
              (unsigned long long)n);
  }else if( pwrite(fd, aRollback, 2, 18)!=2 || fsync(fd)!=0 ){
    int e = errno;
    rc = errf(pzErr, (e==ENOSPC || e==EDQUOT) ? CV_FULL : CV_IO, "dump: %s", strerror(e));
  }
  if( rc==CV_OK && pzFrom && (*pzFrom = strdup(dq_addr(c)))==NULL ) rc = CV_NOMEM;
  dq_close(c);
  return rc;
}

cv_rc cluster_backup(const char *zAddrs, const char *zOut, char **pzLeader, char **pzErr){
  size_t n = strlen(zOut) + 32;
  char *zTmp = malloc(n);
  int fd;
  cv_rc rc;
  *pzLeader = NULL;
  if( pzErr ) *pzErr = NULL;
  if( !zTmp ) return CV_NOMEM;
  if( access(zOut, F_OK)==0 ){
    free(zTmp);
    return errf(pzErr, CV_CONFLICT, "%s already exists: not overwriting it", zOut);
  }
  /* the dump beside zOut, then db_backup's copy of it into zOut: the same durable naming */
  snprintf(zTmp, n, "%s.dump-XXXXXX", zOut);
  fd = mkstemp(zTmp);
  if( fd<0 ){
    int e = errno;
    free(zTmp);
    return errf(pzErr, (e==ENOSPC || e==EDQUOT) ? CV_FULL : CV_IO, "backup: cannot create %s: %s",
                zOut, strerror(e));
  }
  rc = dump_into(zAddrs, 1, fd, pzLeader, pzErr);
  close(fd);
  if( rc==CV_OK ) rc = db_backup(zTmp, zOut, pzErr);
  db_remove_files(zTmp);
  free(zTmp);
  if( rc ){
    free(*pzLeader);
    *pzLeader = NULL;
  }
  return rc;
}

cv_rc cluster_check(const char *zAddr, char **pzReport){
  const char *zDir = getenv("TMPDIR");
  char zTmp[4096], *zErr = NULL, *zReport = NULL;
  off_t nSize;
  int fd;
  cv_rc rc;
  *pzReport = NULL;
  if( strchr(zAddr, ',') ){
    return errf(pzReport, CV_INVALID, "check reads one member's copy: give one address, not %s",
                zAddr);
  }
  if( !zDir || !*zDir ) zDir = "/tmp";
  if( snprintf(zTmp, sizeof zTmp, "%s/chatvault-check-XXXXXX", zDir)>=(int)sizeof zTmp ){
    return errf(pzReport, CV_INVALID, "TMPDIR too long");
  }
  fd = mkstemp(zTmp);
  if( fd<0 ) return errf(pzReport, CV_IO, "check: cannot create %s: %s", zTmp, strerror(errno));
  rc = dump_into(zAddr, 0, fd, NULL, &zErr);
  nSize = rc ? 0 : lseek(fd, 0, SEEK_END);
  close(fd);
  if( rc ){
    db_remove_files(zTmp);
    *pzReport = zErr;
    return rc;
  }
  rc = db_check(zTmp, &zReport);
  db_remove_files(zTmp);
  if( zReport ){
    size_t n = strlen(zReport) + strlen(zAddr) + 96;
    if( (*pzReport = malloc(n))!=NULL ){
      snprintf(*pzReport, n, "member %s: its own copy, %lld bytes\n%s", zAddr, (long long)nSize,
               zReport);
    }
    free(zReport);
  }
  return rc;
}

/* ---- restore */

struct restore {
  sqlite3 *h;                 /* the backup, read-only */
  struct dq_conn *c;          /* the leader, in the restore's transaction */
  char **pzErr;
  int64_t nRows;
};

/* Run zSql (no rows) on the leader. */
static cv_rc r_exec(struct restore *p, const char *zSql, const struct dq_value *a, int n){
  cv_rc rc;
  dq_set_deadline(p->c, RESTORE_MS);
  rc = dq_exec(p->c, zSql, a, n, NULL, NULL);
  if( rc ) return errf(p->pzErr, rc, "restore: %s: %.200s", dq_errmsg(p->c), zSql);
  return CV_OK;
}

/* One integer a query on the leader answers. */
static cv_rc r_int(struct restore *p, const char *zSql, int64_t *pv){
  struct dq_rows r;
  cv_rc rc;
  memset(&r, 0, sizeof r);
  dq_set_deadline(p->c, RESTORE_MS);
  rc = dq_query(p->c, zSql, NULL, 0, &r);
  if( rc==CV_OK && (r.nRow!=1 || r.nCol<1 || r.a[0].type!=SQLITE_INTEGER) ) rc = CV_INVALID;
  if( rc==CV_OK ) *pv = r.a[0].i;
  if( rc ) errf(p->pzErr, rc, "restore: %s: %.200s", dq_errmsg(p->c), zSql);
  dq_rows_free(&r);
  return rc;
}

/* One integer a query on the backup answers (-1 when it fails). */
static int64_t b_int(sqlite3 *h, const char *zSql){
  sqlite3_stmt *pSt = NULL;
  int64_t v = -1;
  if( sqlite3_prepare_v2(h, zSql, -1, &pSt, NULL)==SQLITE_OK && sqlite3_step(pSt)==SQLITE_ROW ){
    v = sqlite3_column_int64(pSt, 0);
  }
  sqlite3_finalize(pSt);
  return v;
}

/* "name" quoted as an SQL identifier into b. */
static cv_rc put_ident(struct cv_buf *b, const char *z){
  cv_rc rc = buf_append(b, "\"", 1);
  for(; rc==CV_OK && *z; z++){
    rc = buf_append(b, z, 1);
    if( rc==CV_OK && *z=='"' ) rc = buf_append(b, "\"", 1);
  }
  if( rc==CV_OK ) rc = buf_append(b, "\"", 1);
  return rc;
}

/* The column list of table zTab (the rowid first when no column is it), as "(a,b,...)" into
** b and its count in *pn; a generated column is not written. */
static cv_rc column_list(struct restore *p, const char *zTab, int bWithoutRowid,
                         struct cv_buf *b, int *pn){
  sqlite3_stmt *pSt = NULL;
  int nPk = 0, bIntPk = 0, rc;
  cv_rc crc = CV_OK;
  *pn = 0;
  b->n = 0;
  rc = sqlite3_prepare_v2(p->h, "SELECT name, type, pk, hidden FROM pragma_table_xinfo(?1)"
                          " ORDER BY cid", -1, &pSt, NULL);
  if( rc==SQLITE_OK ) rc = sqlite3_bind_text(pSt, 1, zTab, -1, SQLITE_STATIC);
  if( rc!=SQLITE_OK ){
    sqlite3_finalize(pSt);
    return errf(p->pzErr, CV_DB, "restore: columns of %s: %s", zTab, sqlite3_errmsg(p->h));
  }
  while( sqlite3_step(pSt)==SQLITE_ROW ){
    if( sqlite3_column_int(pSt, 2)>0 ){
      nPk++;
      bIntPk = sqlite3_stricmp((const char*)sqlite3_column_text(pSt, 1), "INTEGER")==0;
    }
  }
  sqlite3_reset(pSt);
  crc = buf_append(b, "(", 1);
  if( crc==CV_OK && !bWithoutRowid && !(nPk==1 && bIntPk) ){
    crc = buf_append(b, "rowid", 5);      /* kept: the search index's ids are rowids */
    (*pn)++;
  }
  while( crc==CV_OK && sqlite3_step(pSt)==SQLITE_ROW ){
    int hidden = sqlite3_column_int(pSt, 3);
    if( hidden==2 || hidden==3 ) continue;              /* generated */
    if( *pn ) crc = buf_append(b, ",", 1);
    if( crc==CV_OK ) crc = put_ident(b, (const char*)sqlite3_column_text(pSt, 0));
    (*pn)++;
  }
  if( crc==CV_OK ) crc = buf_append(b, ")", 1);
  sqlite3_finalize(pSt);
  if( crc==CV_OK && *pn==0 ) crc = errf(p->pzErr, CV_INVALID, "restore: %s has no columns", zTab);
  return crc;
}

/* Send the rows held in aV (nRow rows of nCol values) as one INSERT into zTab (zCols). */
static cv_rc flush_rows(struct restore *p, const char *zTab, const char *zCols, int nCol,
                        struct dq_value *aV, int nRow, struct cv_buf *pSql){
  int i, j;
  cv_rc rc;
  if( nRow==0 ) return CV_OK;
  pSql->n = 0;
  rc = buf_append(pSql, "INSERT INTO ", 12);
  if( rc==CV_OK ) rc = put_ident(pSql, zTab);
  if( rc==CV_OK ) rc = buf_appendf(pSql, "%s VALUES", zCols);
  for(i=0; rc==CV_OK && i<nRow; i++){
    rc = buf_append(pSql, i ? ",(" : "(", i ? 2 : 1);
    for(j=0; rc==CV_OK && j<nCol; j++) rc = buf_append(pSql, j ? ",?" : "?", j ? 2 : 1);
    if( rc==CV_OK ) rc = buf_append(pSql, ")", 1);
  }
  if( rc ) return errf(p->pzErr, rc, "restore: out of memory");
  rc = r_exec(p, pSql->a, aV, nRow*nCol);
  if( rc==CV_OK ) p->nRows += nRow;
  return rc;
}

/* Copy every row of table zTab from the backup into the leader's (emptied first). */
static cv_rc copy_table(struct restore *p, const char *zTab, int bWithoutRowid){
  struct cv_buf cols, sql, sel;
  struct dq_value *aV = NULL;
  char **azCopy = NULL;
  sqlite3_stmt *pSt = NULL;
  int nCol = 0, nRow = 0, nBatch, rc, i;
  size_t nBytes = 0;
  cv_rc crc;
  buf_init(&cols, 1<<20);
  buf_init(&sql, 1<<24);
  buf_init(&sel, 1<<20);
  crc = column_list(p, zTab, bWithoutRowid, &cols, &nCol);
  if( crc==CV_OK ) crc = buf_append(&sel, "DELETE FROM ", 12);
  if( crc==CV_OK ) crc = put_ident(&sel, zTab);
  if( crc==CV_OK ) crc = r_exec(p, sel.a, NULL, 0);
  if( crc ) goto out;
  sel.n = 0;
  crc = buf_appendf(&sel, "SELECT %.*s FROM ", (int)cols.n - 2, cols.a + 1);
  if( crc==CV_OK ) crc = put_ident(&sel, zTab);
  if( crc ) goto out;
  nBatch = BATCH_PARAMS / nCol;
  if( nBatch>BATCH_ROWS ) nBatch = BATCH_ROWS;
  if( nBatch<1 ) nBatch = 1;
  aV = calloc((size_t)nBatch * (size_t)nCol, sizeof *aV);
  azCopy = calloc((size_t)nBatch * (size_t)nCol, sizeof *azCopy);
  if( !aV || !azCopy ){ crc = errf(p->pzErr, CV_NOMEM, "restore: out of memory"); goto out; }
  if( sqlite3_prepare_v2(p->h, sel.a, -1, &pSt, NULL)!=SQLITE_OK ){
    crc = errf(p->pzErr, CV_DB, "restore: reading %s: %s", zTab, sqlite3_errmsg(p->h));
    goto out;
  }
  while( (rc = sqlite3_step(pSt))==SQLITE_ROW ){
    for(i=0; i<nCol; i++){
      struct dq_value *v = &aV[nRow*nCol + i];
      char **pz = &azCopy[nRow*nCol + i];
      v->type = sqlite3_column_type(pSt, i);
      v->n = 0;
      switch( v->type ){
        case SQLITE_INTEGER: v->i = sqlite3_column_int64(pSt, i); break;
        case SQLITE_FLOAT: v->r = sqlite3_column_double(pSt, i); break;
        case SQLITE_TEXT:
        case SQLITE_BLOB: {
          const void *z = v->type==SQLITE_TEXT ? (const void*)sqlite3_column_text(pSt, i)
                                               : sqlite3_column_blob(pSt, i);
          v->n = (size_t)sqlite3_column_bytes(pSt, i);
          free(*pz);
          *pz = malloc(v->n + 1);
          if( !*pz ){ crc = errf(p->pzErr, CV_NOMEM, "restore: out of memory"); goto out; }
          if( v->n ) memcpy(*pz, z, v->n);
          (*pz)[v->n] = 0;
          v->z = *pz;
          nBytes += v->n;
          break;
        }
        default: v->type = SQLITE_NULL; break;
      }
      nBytes += 8;
    }
    nRow++;
    if( nRow==nBatch || nBytes>=BATCH_BYTES ){
      crc = flush_rows(p, zTab, cols.a, nCol, aV, nRow, &sql);
      if( crc ) goto out;
      nRow = 0;
      nBytes = 0;
    }
  }
  if( rc!=SQLITE_DONE ){
    crc = errf(p->pzErr, CV_DB, "restore: reading %s: %s", zTab, sqlite3_errmsg(p->h));
    goto out;
  }
  crc = flush_rows(p, zTab, cols.a, nCol, aV, nRow, &sql);
out:
  sqlite3_finalize(pSt);
  for(i=0; azCopy && i<nBatch*nCol; i++) free(azCopy[i]);
  free(azCopy);
  free(aV);
  buf_free(&cols);
  buf_free(&sql);
  buf_free(&sel);
  return crc;
}

/* The backup's schema must be the cluster's, object for object. */
static cv_rc same_schema(struct restore *p){
  int64_t nB = b_int(p->h, "SELECT count(*) FROM sqlite_master WHERE" OURS), nC = -1, nBoth = 0;
  struct dq_rows r;
  size_t i;
  sqlite3_stmt *pSt = NULL;
  cv_rc rc;
  memset(&r, 0, sizeof r);
  dq_set_deadline(p->c, RESTORE_MS);
  rc = dq_query(p->c, "SELECT type, name, coalesce(sql,'') FROM sqlite_master", NULL, 0, &r);
  if( rc ){
    dq_rows_free(&r);
    return errf(p->pzErr, rc, "restore: the cluster's schema: %s", dq_errmsg(p->c));
  }
  nC = (int64_t)r.nRow;
  if( sqlite3_prepare_v2(p->h, "SELECT 1 FROM sqlite_master WHERE type=?1 AND name=?2"
                         " AND coalesce(sql,'')=?3", -1, &pSt, NULL)!=SQLITE_OK ){
    dq_rows_free(&r);
    return errf(p->pzErr, CV_DB, "restore: %s", sqlite3_errmsg(p->h));
  }
  for(i=0; i<r.nRow && r.nCol==3; i++){
    int j;
    for(j=0; j<3; j++){
      const struct dq_value *v = &r.a[i*3 + j];
      if( v->type==SQLITE_TEXT ) sqlite3_bind_text(pSt, j+1, v->z, (int)v->n, SQLITE_STATIC);
      else sqlite3_bind_null(pSt, j+1);
    }
    if( sqlite3_step(pSt)==SQLITE_ROW ) nBoth++;
    sqlite3_reset(pSt);
  }
  sqlite3_finalize(pSt);
  dq_rows_free(&r);
  if( nB!=nC || nBoth!=nC ){
    return errf(p->pzErr, CV_INVALID, "restore: the backup's schema (%lld objects) is not the"
                " cluster's (%lld objects, %lld alike)", (long long)nB, (long long)nC,
                (long long)nBoth);
  }
  return CV_OK;
}

/* Everything of the restore inside its transaction: tables copied, triggers held off. */
static cv_rc restore_rows(struct restore *p){
  sqlite3_stmt *pSt = NULL;
  char **azTrig = NULL;
  int nTrig = 0, nAlloc = 0, i, rc;
  int64_t nUsers = -1;
  cv_rc crc = r_int(p, "SELECT count(*) FROM users", &nUsers);
  if( crc ) return crc;
  if( nUsers>0 ){
    return errf(p->pzErr, CV_CONFLICT, "the cluster already holds %lld accounts: a restore is"
                " into a new cluster only", (long long)nUsers);
  }
  /* the triggers, as the backup has them (the same as the cluster's: same_schema) */
  if( sqlite3_prepare_v2(p->h, "SELECT name, sql FROM sqlite_master WHERE type='trigger' AND" OURS
                         " ORDER BY rowid", -1, &pSt, NULL)!=SQLITE_OK ){
    return errf(p->pzErr, CV_DB, "restore: %s", sqlite3_errmsg(p->h));
  }
  while( crc==CV_OK && sqlite3_step(pSt)==SQLITE_ROW ){
    struct cv_buf b;
    if( nTrig==nAlloc ){
      char **az = realloc(azTrig, (size_t)(nAlloc = nAlloc*2 + 16) * sizeof *az);
      if( !az ){ crc = errf(p->pzErr, CV_NOMEM, "restore: out of memory"); break; }
      azTrig = az;
    }
    azTrig[nTrig] = strdup((const char*)sqlite3_column_text(pSt, 1));
    if( !azTrig[nTrig] ){ crc = errf(p->pzErr, CV_NOMEM, "restore: out of memory"); break; }
    nTrig++;
    buf_init(&b, 4096);
    crc = buf_append(&b, "DROP TRIGGER ", 13);
    if( crc==CV_OK ) crc = put_ident(&b, (const char*)sqlite3_column_text(pSt, 0));
    if( crc==CV_OK ) crc = r_exec(p, b.a, NULL, 0);
    buf_free(&b);
  }
  sqlite3_finalize(pSt);
  pSt = NULL;
  /* every table with rows of its own: not a virtual table (its shadow tables are copied) */
  if( crc==CV_OK && sqlite3_prepare_v2(p->h, zTables, -1, &pSt, NULL)!=SQLITE_OK ){
    crc = errf(p->pzErr, CV_DB, "restore: %s", sqlite3_errmsg(p->h));
  }
  while( crc==CV_OK && (rc = sqlite3_step(pSt))==SQLITE_ROW ){
    crc = copy_table(p, (const char*)sqlite3_column_text(pSt, 0), sqlite3_column_int(pSt, 1));
  }
  sqlite3_finalize(pSt);
  for(i=0; i<nTrig; i++){
    if( crc==CV_OK ) crc = r_exec(p, azTrig[i], NULL, 0);
    free(azTrig[i]);
  }
  free(azTrig);
  return crc;
}

/* After the commit: every table holds as many rows on the cluster as in the backup. */
static cv_rc compare_counts(struct restore *p){
  sqlite3_stmt *pSt = NULL;
  cv_rc crc = CV_OK;
  if( sqlite3_prepare_v2(p->h, zTables, -1, &pSt, NULL)!=SQLITE_OK ){
    return errf(p->pzErr, CV_DB, "restore: %s", sqlite3_errmsg(p->h));
  }
  while( crc==CV_OK && sqlite3_step(pSt)==SQLITE_ROW ){
    struct cv_buf b;
    int64_t nB, nC = -1;
    buf_init(&b, 4096);
    crc = buf_append(&b, "SELECT count(*) FROM ", 21);
    if( crc==CV_OK ) crc = put_ident(&b, (const char*)sqlite3_column_text(pSt, 0));
    nB = crc ? -1 : b_int(p->h, b.a);
    if( crc==CV_OK ) crc = r_int(p, b.a, &nC);
    if( crc==CV_OK && nB!=nC ){
      crc = errf(p->pzErr, CV_DB, "restore: %s holds %lld rows on the cluster, %lld in the backup",
                 (const char*)sqlite3_column_text(pSt, 0), (long long)nC, (long long)nB);
    }
    buf_free(&b);
  }
  sqlite3_finalize(pSt);
  return crc;
}

cv_rc cluster_restore(const char *zAddrs, const char *zBackup, int64_t *pnRows, char **pzErr){
  struct restore r;
  struct cv_store_opts o;
  struct cv_store *pS = NULL;
  char *zReport = NULL, zErr[300];
  cv_rc rc;
  *pnRows = 0;
  if( pzErr ) *pzErr = NULL;
  memset(&r, 0, sizeof r);
  r.pzErr = pzErr;
  /* 1. the backup passes its check (which also says it is of this schema version) */
  rc = db_check(zBackup, &zReport);
  if( rc ){
    const char *zBad = zReport ? zReport : "";
    int bOlder = strstr(zBad, "schema version: ") && strstr(zBad, ", expected ");
    rc = errf(pzErr, rc, "%s does not pass `chatvault check`%s:\n%s", zBackup,
              bOlder ? " (a backup of another version: restore it into a file first,"
                       " `chatvault restore BACKUP --db NEW` upgrades it, then restore NEW)" : "",
              zBad);
    free(zReport);
    return rc;
  }
  free(zReport);
  /* 2. the cluster's schema: the migrations, as serve runs them */
  memset(&o, 0, sizeof o);
  o.zCluster = zAddrs;
  o.nReaders = 1;
  o.busyMs = 5000;
  rc = db_open(&o, &pS, pzErr);
  if( rc ) return rc;
  store_close(pS);
  /* 3. one transaction through the leader */
  if( sqlite3_open_v2(zBackup, &r.h, SQLITE_OPEN_READONLY, NULL)!=SQLITE_OK ){
    rc = errf(pzErr, CV_IO, "%s: %s", zBackup, r.h ? sqlite3_errmsg(r.h) : "cannot open");
    sqlite3_close(r.h);
    return rc;
  }
  rc = dq_connect_leader(zAddrs, FIND_MS, &r.c, zErr, sizeof zErr);
  if( rc ){
    sqlite3_close(r.h);
    return errf(pzErr, rc, "cluster %s: %s", zAddrs, zErr);
  }
  dq_set_deadline(r.c, RESTORE_MS);
  rc = dq_open(r.c, DB_CLUSTER_NAME);
  if( rc ) rc = errf(pzErr, rc, "cluster %s: %s", zAddrs, dq_errmsg(r.c));
  if( rc==CV_OK ) rc = r_exec(&r, "PRAGMA foreign_keys=OFF", NULL, 0);   /* checked: step 1 */
  if( rc==CV_OK ) rc = same_schema(&r);
  if( rc==CV_OK ) rc = r_exec(&r, "BEGIN IMMEDIATE", NULL, 0);
  if( rc==CV_OK ){
    rc = restore_rows(&r);
    if( rc==CV_OK ) rc = r_exec(&r, "COMMIT", NULL, 0);
    if( rc ){
      char *zKeep = pzErr ? *pzErr : NULL;  /* the first failure is the one to tell */
      if( pzErr ) *pzErr = NULL;
      dq_set_deadline(r.c, RESTORE_MS);
      dq_exec(r.c, "ROLLBACK", NULL, 0, NULL, NULL);
      if( pzErr ){ free(*pzErr); *pzErr = zKeep; }
    }
  }
  if( rc==CV_OK ) rc = compare_counts(&r);
  if( rc==CV_OK ) *pnRows = r.nRows;
  dq_close(r.c);
  sqlite3_close(r.h);
  return rc;
}
