/*
** db_remote.c — statements run over dqlite's wire protocol (dqclient.c) behind db.h's
** statement API: the cluster's store backend runs the SQLite backend's own store code, each
** db_bind_* / db_step / db_column_* call of a remote statement landing here instead of in
** SQLite (db_open on a cluster; docs/cluster.md).
**
** A remote statement keeps its parameters until it runs; its first db_step sends it (a
** statement with result columns as a query, one without as an exec: dqlite refuses an exec
** that yields rows) and reads every row; later steps walk them. What SQLite would say about
** the statement before it runs (its columns, its parameters) comes from the same SQL prepared
** on a local in-memory copy of the schema (pMeta), never stepped.
**
** Values keep SQLite's conversions where the store relies on them: column_text of an integer
** or a real is its text (kept until the next step), column_int64 of text its number.
*/
#include "db_remote.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

static void params_clear(struct cv_rstmt *p){
  int i;
  for(i=0; i<p->nParam; i++){
    free(p->azOwned[i]);
    p->azOwned[i] = NULL;
    memset(&p->aParam[i], 0, sizeof p->aParam[i]);
    p->aParam[i].type = SQLITE_NULL;
  }
}

static void rows_clear(struct cv_rstmt *p){
  dq_rows_free(&p->rows);
  p->iRow = 0;
  p->bRun = 0;
  free(p->zConv);
  p->zConv = NULL;
}

cv_rc dbr_prepare(struct dq_conn *c, sqlite3 *hMeta, const char *zSql, struct cv_rstmt **pp){
  struct cv_rstmt *p = calloc(1, sizeof *p);
  int i;
  *pp = NULL;
  if( !p ) return CV_NOMEM;
  if( sqlite3_prepare_v2(hMeta, zSql, -1, &p->pMeta, NULL)!=SQLITE_OK || !p->pMeta ){
    free(p);
    return CV_DB;
  }
  p->c = c;
  p->zSql = zSql;
  p->nCol = sqlite3_column_count(p->pMeta);
  p->nParam = sqlite3_bind_parameter_count(p->pMeta);
  if( p->nParam>0 ){
    p->aParam = calloc((size_t)p->nParam, sizeof *p->aParam);
    p->azOwned = calloc((size_t)p->nParam, sizeof *p->azOwned);
    if( !p->aParam || !p->azOwned ){
      dbr_finalize(p);
      return CV_NOMEM;
    }
  }
  for(i=0; i<p->nParam; i++) p->aParam[i].type = SQLITE_NULL;
  *pp = p;
  return CV_OK;
}

void dbr_finalize(struct cv_rstmt *p){
  if( !p ) return;
  if( p->aParam ) params_clear(p);
  rows_clear(p);
  sqlite3_finalize(p->pMeta);
  free(p->aParam);
  free(p->azOwned);
  free(p);
}

void dbr_reset(struct cv_rstmt *p){
  rows_clear(p);
}

void dbr_clear_bindings(struct cv_rstmt *p){
  params_clear(p);
}

/* Slot i (1-based) for a new value; SQLITE_RANGE when there is none. */
static struct dq_value *slot(struct cv_rstmt *p, int i){
  if( i<1 || i>p->nParam ) return NULL;
  free(p->azOwned[i-1]);
  p->azOwned[i-1] = NULL;
  memset(&p->aParam[i-1], 0, sizeof p->aParam[i-1]);
  return &p->aParam[i-1];
}

int dbr_bind_int64(struct cv_rstmt *p, int i, int64_t v){
  struct dq_value *s = slot(p, i);
  if( !s ) return SQLITE_RANGE;
  s->type = SQLITE_INTEGER;
  s->i = v;
  return SQLITE_OK;
}

int dbr_bind_double(struct cv_rstmt *p, int i, double v){
  struct dq_value *s = slot(p, i);
  if( !s ) return SQLITE_RANGE;
  s->type = SQLITE_FLOAT;
  s->r = v;
  return SQLITE_OK;
}

int dbr_bind_null(struct cv_rstmt *p, int i){
  struct dq_value *s = slot(p, i);
  if( !s ) return SQLITE_RANGE;
  s->type = SQLITE_NULL;
  return SQLITE_OK;
}

/* Text (type SQLITE_TEXT, n < 0: up to its NUL) or a blob, copied unless xDel is
** SQLITE_STATIC (the caller keeps it alive until the statement runs, as with SQLite). */
int dbr_bind_bytes(struct cv_rstmt *p, int i, int type, const void *z, int64_t n,
                   void (*xDel)(void*)){
  struct dq_value *s = slot(p, i);
  if( !s ) return SQLITE_RANGE;
  if( !z ){
    s->type = SQLITE_NULL;
    return SQLITE_OK;
  }
  if( n<0 ) n = (int64_t)strlen(z);
  s->type = type;
  s->n = (size_t)n;
  if( xDel==SQLITE_STATIC ){
    s->z = z;
  }else{
    char *zCopy = malloc((size_t)n + 1);
    if( !zCopy ) return SQLITE_NOMEM;
    memcpy(zCopy, z, (size_t)n);
    zCopy[n] = 0;
    p->azOwned[i-1] = zCopy;
    s->z = zCopy;
    if( xDel!=SQLITE_TRANSIENT && xDel ) xDel((void*)z);
  }
  return SQLITE_OK;
}

/* The node's failure as an SQLite result code (its code is SQLite's extended one). A lost
** leader (the connection broken or timed out, or the node no longer leads) is SQLITE_BUSY:
** "try again shortly" (the store's reader reconnects, the writer retries its batch). */
static int node_rc(struct cv_rstmt *p, cv_rc rc){
  uint64_t e = dq_errcode(p->c);
  if( rc==CV_NOMEM ) return SQLITE_NOMEM;
  if( rc==CV_TOOLARGE ) return SQLITE_TOOBIG;
  if( rc==CV_BUSY || dq_lost(p->c) ) return SQLITE_BUSY;
  if( rc==CV_DB && e ) return (int)e;
  return SQLITE_IOERR;      /* an answer that does not parse, a parameter dqlite cannot carry */
}

int dbr_step(struct cv_rstmt *p){
  if( !p->bRun ){
    cv_rc rc;
    dq_set_deadline(p->c, DB_CALL_MS);
    p->bRun = 1;
    p->iRow = 0;
    p->nChanges = 0;
    if( p->nCol>0 ){
      rc = dq_query(p->c, p->zSql, p->aParam, p->nParam, &p->rows);
      p->nChanges = (int64_t)p->rows.nRow;     /* a write with RETURNING: one row a change */
    }else{
      uint64_t last = 0, changes = 0;
      rc = dq_exec(p->c, p->zSql, p->aParam, p->nParam, &last, &changes);
      p->nChanges = (int64_t)changes;
    }
    if( rc ){
      p->rcLast = node_rc(p, rc);
      return p->rcLast;
    }
    if( p->nCol>0 && p->rows.nCol!=p->nCol ){
      p->rcLast = SQLITE_SCHEMA;               /* the leader's schema differs from ours */
      return p->rcLast;
    }
  }
  if( p->nCol>0 && p->iRow < p->rows.nRow ){
    p->iRow++;
    free(p->zConv);
    p->zConv = NULL;
    return SQLITE_ROW;
  }
  return SQLITE_DONE;
}

/* The value of column i of the current row, or NULL (no row, no such column). */
static const struct dq_value *value(struct cv_rstmt *p, int i){
  if( p->iRow==0 || i<0 || i>=p->nCol ) return NULL;
  return &p->rows.a[(p->iRow - 1)*(size_t)p->nCol + (size_t)i];
}

int dbr_column_type(struct cv_rstmt *p, int i){
  const struct dq_value *v = value(p, i);
  return v ? v->type : SQLITE_NULL;
}

int64_t dbr_column_int64(struct cv_rstmt *p, int i){
  const struct dq_value *v = value(p, i);
  if( !v ) return 0;
  switch( v->type ){
    case SQLITE_INTEGER: return v->i;
    case SQLITE_FLOAT:   return (int64_t)v->r;
    case SQLITE_TEXT:    return strtoll(v->z, NULL, 10);
    default:             return 0;
  }
}

double dbr_column_double(struct cv_rstmt *p, int i){
  const struct dq_value *v = value(p, i);
  if( !v ) return 0.0;
  switch( v->type ){
    case SQLITE_INTEGER: return (double)v->i;
    case SQLITE_FLOAT:   return v->r;
    case SQLITE_TEXT:    return strtod(v->z, NULL);
    default:             return 0.0;
  }
}

/* Text of column i: a number as SQLite renders it (kept in p->zConv until the next step). */
const unsigned char *dbr_column_text(struct cv_rstmt *p, int i){
  const struct dq_value *v = value(p, i);
  if( !v || v->type==SQLITE_NULL ) return NULL;
  if( v->type==SQLITE_TEXT || v->type==SQLITE_BLOB ) return (const unsigned char*)v->z;
  free(p->zConv);
  p->zConv = v->type==SQLITE_INTEGER ? sqlite3_mprintf("%lld", (long long)v->i)
                                      : sqlite3_mprintf("%!.15g", v->r);
  /* sqlite3_mprintf's memory is SQLite's: copy it to ours so free() releases it */
  if( p->zConv ){
    char *z = strdup(p->zConv);
    sqlite3_free(p->zConv);
    p->zConv = z;
  }
  return (const unsigned char*)p->zConv;
}

const void *dbr_column_blob(struct cv_rstmt *p, int i){
  const struct dq_value *v = value(p, i);
  if( !v || v->type==SQLITE_NULL ) return NULL;
  if( v->type==SQLITE_TEXT || v->type==SQLITE_BLOB ) return v->z;
  return dbr_column_text(p, i);
}

int dbr_column_bytes(struct cv_rstmt *p, int i){
  const struct dq_value *v = value(p, i);
  if( !v || v->type==SQLITE_NULL ) return 0;
  if( v->type==SQLITE_TEXT || v->type==SQLITE_BLOB ) return (int)v->n;
  dbr_column_text(p, i);                   /* a number: the length of its text */
  return p->zConv ? (int)strlen(p->zConv) : 0;
}

int dbr_bind_parameter_count(struct cv_rstmt *p){
  return p->nParam;
}

int64_t dbr_changes(struct cv_rstmt *p){
  return p->nChanges;
}
