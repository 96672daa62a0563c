/*
** db_remote.h — remote statements (db_remote.c): SQLite's statement calls over dqlite's wire
** protocol, behind db.h's statement API (a cluster's connections, db_open with zCluster).
** Each call keeps the contract of the SQLite call it is named after.
*/
#ifndef CV_DB_REMOTE_H
#define CV_DB_REMOTE_H

#include <stdint.h>
#include <sqlite3.h>
#include "cv.h"
#include "dqclient.h"

#define DB_CALL_MS 4000       /* a cluster: the deadline of each call to the leader */

struct cv_rstmt {
  struct dq_conn *c;          /* the connection of its cv_db (not owned) */
  const char *zSql;           /* static SQL (db_stmt's cache key) */
  sqlite3_stmt *pMeta;        /* the same SQL prepared on the local copy of the schema */
  int nCol;                   /* its result columns: > 0, a query; 0, an exec */
  int nParam;
  struct dq_value *aParam;    /* nParam values (SQLITE_NULL when unbound) */
  char **azOwned;             /* copies made for transient text and blobs */
  struct dq_rows rows;        /* the answer of the last run */
  size_t iRow;                /* 1-based current row; 0 before the first */
  int bRun;                   /* sent since the last reset */
  int rcLast;                 /* the last failure, as an SQLite code */
  int64_t nChanges;           /* rows the last run changed */
  char *zConv;                /* column_text of a number, until the next step */
};

cv_rc dbr_prepare(struct dq_conn *c, sqlite3 *hMeta, const char *zSql, struct cv_rstmt **pp);
void dbr_finalize(struct cv_rstmt *p);
void dbr_reset(struct cv_rstmt *p);
void dbr_clear_bindings(struct cv_rstmt *p);
int dbr_bind_int64(struct cv_rstmt *p, int i, int64_t v);
int dbr_bind_double(struct cv_rstmt *p, int i, double v);
int dbr_bind_null(struct cv_rstmt *p, int i);
int dbr_bind_bytes(struct cv_rstmt *p, int i, int type, const void *z, int64_t n,
                   void (*xDel)(void*));
int dbr_step(struct cv_rstmt *p);
int dbr_column_type(struct cv_rstmt *p, int i);
int64_t dbr_column_int64(struct cv_rstmt *p, int i);
double dbr_column_double(struct cv_rstmt *p, int i);
const unsigned char *dbr_column_text(struct cv_rstmt *p, int i);
const void *dbr_column_blob(struct cv_rstmt *p, int i);
int dbr_column_bytes(struct cv_rstmt *p, int i);
int dbr_bind_parameter_count(struct cv_rstmt *p);
int64_t dbr_changes(struct cv_rstmt *p);

#endif /* CV_DB_REMOTE_H */
