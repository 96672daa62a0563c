/*
** store_conv.c — see store_conv.h. The SQL of segments, and the two rules both chat models
** share (the time of a change, the automatic title).
**
** Segment invariants (checked by store_conv_check, asserted where cheap):
**   - a conversation's segments have first_index 0, n0, n0+n1, ... (contiguous, no gaps);
**   - n = json_array_length(messages), 1 <= n <= CONV_SEG_MESSAGES (an empty conversation has
**     no segment at all);
**   - a segment of more than one message is at most CONV_SEG_BYTES bytes;
**   - the header's message_count = the sum of n.
** An append reads only the tail segment (found through the (conv_id, first_index) index) and
** rewrites it with ONE json_insert of up to 63 '$[#]' paths (SQLite's 127-argument limit),
** starting a new segment when the tail is full; its cost does not depend on the length of
** the conversation.
**
** Rejected: one row per message (the design card keeps JSON arrays changed with JSON1; the
** per-row overhead would also double the file for short messages) and segments addressed by
** number (first_index makes "which segment holds message i" one index lookup).
** May call db, SQLite and util.
*/
#include "store_conv.h"
#include "store_backend.h"
#include "store.h"
#include "db.h"
#include "util.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most this many '$[#]' paths in one json_insert: 1 + 2*63 = 127 arguments. */
#define CONV_INSERT_MAX 63

static int nCapMessages = CONV_SEG_MESSAGES;
static int nCapBytes = CONV_SEG_BYTES;
static struct cv_conv_limits limits;     /* all 0: no caps until serve sets them */

void store_conv_set_limits(const struct cv_conv_limits *p){ limits = *p; }

/* Is v, grown from vOld, past cap (0: no cap)? */
static int over(int64_t cap, int64_t vOld, int64_t v){
  return cap>0 && v>vOld && v>cap;
}

/* A conversation's message_bytes as counted in users.stored_bytes: rounded up to 4 KiB (the
** rounding of schema.sql's triggers). */
static int64_t stored(int64_t nBytes){
  return (nBytes + CONV_STORED_UNIT - 1) / CONV_STORED_UNIT * CONV_STORED_UNIT;
}

int store_conv_admits(int64_t nCount, int64_t nBytes, int64_t nUserBytes, int64_t nPending,
                      size_t nLen){
  int64_t grow = (int64_t)nLen + 2;      /* a new segment's "[" "]", or a "," */
  int64_t nUserNow = nUserBytes + stored(nBytes + nPending) - stored(nBytes);
  int64_t nUserNext = nUserBytes + stored(nBytes + nPending + grow) - stored(nBytes);
  return !over(limits.nMessages, nCount, nCount + 1)
      && !over(limits.nBytes, nBytes + nPending, nBytes + nPending + grow)
      && !over(limits.nUserBytes, nUserNow, nUserNext);
}

void store_conv_set_caps(int nMessages, int nBytes){
  nCapMessages = nMessages>0 && nMessages<=CONV_SEG_MESSAGES ? nMessages : CONV_SEG_MESSAGES;
  nCapBytes = nBytes>0 ? nBytes : CONV_SEG_BYTES;
}

/* ---- the per-kind header SQL --------------------------------------------------------- */

struct conv_kind {
  const char *zDefaultTitle;     /* the title that the automatic title replaces */
  const char *zNewest;           /* ?1 user: the newest change time of that user's headers */
  const char *zTouch;            /* ?1 id, ?2 count, ?3 time or NULL, ?4 bytes added:
                                 ** RETURNING title */
  const char *zSetTitle;         /* ?1 id, ?2 title */
  const char *zSize;             /* ?1 id: message_count, message_bytes, user_id */
};

static const struct conv_kind aKind[3] = {
  { NULL, NULL, NULL, NULL, NULL },
  { CV_DEFAULT_TITLE,
    "SELECT max(updated_at) FROM chat_threads WHERE user_id=?1",
    "UPDATE chat_threads SET message_count=?2, updated_at=coalesce(?3, updated_at),"
    " message_bytes=message_bytes+?4 WHERE id=?1 RETURNING title",
    "UPDATE chat_threads SET title=?2 WHERE id=?1",
    "SELECT message_count, message_bytes, user_id FROM chat_threads WHERE id=?1" },
  { "",
    /* the newest kept or archived chat: two min/max lookups of chat_histories_user_updated,
    ** which leads with (user_id, archived) */
    "SELECT max(coalesce((SELECT max(last_updated) FROM chat_histories"
    " WHERE user_id=?1 AND archived=0), ''), coalesce((SELECT max(last_updated)"
    " FROM chat_histories WHERE user_id=?1 AND archived=1), ''))",
    "UPDATE chat_histories SET message_count=?2, last_updated=coalesce(?3, last_updated),"
    " message_bytes=message_bytes+?4 WHERE id=?1 RETURNING title",
    "UPDATE chat_histories SET title=?2 WHERE id=?1",
    "SELECT message_count, message_bytes, user_id FROM chat_histories WHERE id=?1" },
};

static const struct conv_kind *kind_of(int eKind){
  assert( eKind==CV_CONV_THREAD || eKind==CV_CONV_CHAT );
  return &aKind[eKind];
}

cv_rc store_conv_next_ts(struct cv_db *pDb, int eKind, int64_t userId, char *zOut){
  cv_stmt *pSt;
  int64_t now = util_now_ms(), newest;
  int src;
  cv_rc rc = db_stmt(pDb, kind_of(eKind)->zNewest, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, userId);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    const char *z = (const char*)db_column_text(pSt, 0);
    if( z && util_iso_parse(z, &newest)==CV_OK && newest>=now ) now = newest + 1;
  }else{
    rc = db_rc(pDb, src);
  }
  db_reset(pSt);
  if( now>UTIL_ISO_MAX_MS ) now = UTIL_ISO_MAX_MS;   /* never wrap to year 0000 */
  util_iso_format(now, zOut);
  return rc;
}

cv_rc store_conv_create(struct cv_db *pDb, int eKind, int64_t userId, int64_t *pId){
  static const char zSql[] =
    "INSERT INTO conversations(user_id, kind) VALUES(?1, ?2) RETURNING id";
  cv_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  *pId = 0;
  if( rc ) return rc;
  db_bind_int64(pSt, 1, userId);
  db_bind_int(pSt, 2, eKind);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    *pId = db_column_int64(pSt, 0);
    src = db_step(pSt);
  }
  rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc==CV_OK && *pId==0 ) rc = CV_DB;
  return rc;
}

/* ---- append ---------------------------------------------------------------------------- */

/* The tail segment of a conversation: rowid 0 when it has none. */
struct tail {
  int64_t rowid;
  int64_t first;                 /* its first_index */
  int64_t n;                     /* its messages */
  int64_t nBytes;                /* its text's length */
};

/* The segment of conversation id with the greatest first_index <= iIndex (*t zeroed when there
** is none): with INT64_MAX the tail segment. One query for the tail (appends) and for the
** segment holding a message (edits): the (conv_id, first_index) index answers both. */
static cv_rc segment_at(struct cv_db *pDb, int64_t id, int64_t iIndex, struct tail *t){
  static const char zSql[] =
    "SELECT id, first_index, n, length(CAST(messages AS BLOB)) FROM segments"
    " WHERE conv_id=?1 AND first_index<=?2 ORDER BY first_index DESC LIMIT 1";
  cv_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  memset(t, 0, sizeof *t);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, id);
  db_bind_int64(pSt, 2, iIndex);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    t->rowid = db_column_int64(pSt, 0);
    t->first = db_column_int64(pSt, 1);
    t->n = db_column_int64(pSt, 2);
    t->nBytes = db_column_int64(pSt, 3);
  }else if( src!=SQLITE_DONE ){
    rc = db_rc(pDb, src);
  }
  db_reset(pSt);
  return rc;
}

static cv_rc read_tail(struct cv_db *pDb, int64_t id, struct tail *t){
  return segment_at(pDb, id, INT64_MAX, t);
}

/* Insert a new segment of conversation id starting at iFirst holding the nMsg messages whose
** array text is zArray; t becomes it. */
static cv_rc insert_segment(struct cv_db *pDb, int64_t id, int64_t iFirst, int nMsg,
                            const char *zArray, size_t nArray, struct tail *t){
  static const char zSql[] =
    "INSERT INTO segments(conv_id, first_index, n, messages) VALUES(?1, ?2, ?3, ?4)"
    " RETURNING id";
  cv_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, id);
  db_bind_int64(pSt, 2, iFirst);
  db_bind_int(pSt, 3, nMsg);
  db_bind_text(pSt, 4, zArray, (int)nArray, SQLITE_STATIC);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    t->rowid = db_column_int64(pSt, 0);
    t->first = iFirst;
    t->n = nMsg;
    t->nBytes = (int64_t)nArray;
    src = db_step(pSt);
  }
  rc = db_rc(pDb, src);
  db_reset(pSt);
  return rc;
}

/* UPDATE statements appending k messages to one segment with one json_insert of k '$[#]'
** paths (k = 1..CONV_INSERT_MAX): ?1 segment rowid, ?2.. the messages. Built once; their
** addresses are the statement cache's keys. */
static char azInsertSql[CONV_INSERT_MAX+1][96 + CONV_INSERT_MAX*20];
static pthread_once_t insertSqlOnce = PTHREAD_ONCE_INIT;

static void build_insert_sql(void){
  int k, j;
  for(k=1; k<=CONV_INSERT_MAX; k++){
    char *z = azInsertSql[k];
    size_t n = sizeof azInsertSql[k], used;
    used = (size_t)snprintf(z, n, "UPDATE segments SET messages=json_insert(messages");
    for(j=0; j<k; j++) used += (size_t)snprintf(z+used, n-used, ",'$[#]',json(?%d)", j+2);
    snprintf(z+used, n-used, "), n=n+%d WHERE id=?1 RETURNING length(CAST(messages AS BLOB))", k);
  }
}

/* Does a message of nLen bytes fit in a segment of n messages and nBytes bytes? A segment
** always takes its first message, whatever its size. */
static int fits(int64_t n, int64_t nBytes, size_t nLen){
  if( n==0 ) return 1;
  return n < nCapMessages && nBytes + 1 + (int64_t)nLen <= nCapBytes;
}

cv_rc store_conv_append(struct cv_db *pDb, int64_t id, const char *const *azMsg,
                        const size_t *anLen, int n, int64_t *piFirst, int64_t *pnBytes){
  struct tail t;
  int i = 0;
  cv_rc rc;
  assert( n>=1 );
  pthread_once(&insertSqlOnce, build_insert_sql);
  *pnBytes = 0;
  rc = read_tail(pDb, id, &t);
  if( rc ) return rc;
  *piFirst = t.first + t.n;
  while( i<n ){
    cv_stmt *pSt;
    int k = 0, j, src;
    int64_t nBytes;
    if( t.rowid==0 || !fits(t.n, t.nBytes, anLen[i]) ){
      /* start the next segment with message i itself: its text is the array's element */
      char *z = malloc(anLen[i] + 3);
      if( !z ) return CV_NOMEM;
      z[0] = '[';
      memcpy(z+1, azMsg[i], anLen[i]);
      z[anLen[i]+1] = ']';
      z[anLen[i]+2] = 0;
      rc = insert_segment(pDb, id, t.first + t.n, 1, z, anLen[i]+2, &t);
      free(z);
      if( rc ) return rc;
      *pnBytes += (int64_t)anLen[i] + 2;
      i++;
      continue;
    }
    nBytes = t.nBytes;
    while( i+k<n && k<CONV_INSERT_MAX && fits(t.n + k, nBytes, anLen[i+k]) ){
      nBytes += 1 + (int64_t)anLen[i+k];
      k++;
    }
    assert( k>=1 );
    rc = db_stmt(pDb, azInsertSql[k], &pSt);
    if( rc ) return rc;
    db_bind_int64(pSt, 1, t.rowid);
    for(j=0; j<k; j++) db_bind_text(pSt, j+2, azMsg[i+j], (int)anLen[i+j], SQLITE_STATIC);
    src = db_step(pSt);
    if( src==SQLITE_ROW ){
      /* the size SQLite wrote (json() may respell what it was given) */
      nBytes = db_column_int64(pSt, 0);
      src = db_step(pSt);
    }else if( src==SQLITE_DONE ){
      src = SQLITE_CORRUPT;            /* the tail segment read just now is gone */
    }
    rc = db_rc(pDb, src);
    db_reset(pSt);
    if( rc ) return rc;
    *pnBytes += nBytes - t.nBytes;
    t.n += k;
    t.nBytes = nBytes;
    i += k;
  }
  return CV_OK;
}

/* ---- replace, truncate ------------------------------------------------------------------ */

/* Call xElem for each top-level element of the JSON array text z (valid JSON: normalized by
** the caller or written by SQLite), with its bytes [p, p+n). Returns xElem's first error. */
typedef cv_rc (*elem_fn)(void *pCtx, const char *p, size_t n);
static cv_rc each_element(const char *z, elem_fn xElem, void *pCtx){
  const char *p = z, *pStart = NULL;
  int depth = 0;
  cv_rc rc;
  while( *p && *p!='[' ) p++;
  if( !*p ) return CV_INVALID;
  for(p++; *p; p++){
    char c = *p;
    if( c=='"' ){
      if( !pStart ) pStart = p;
      for(p++; *p && *p!='"'; p++){ if( *p=='\\' && p[1] ) p++; }
      if( !*p ) return CV_INVALID;
      continue;
    }
    if( c==' ' || c=='\t' || c=='\n' || c=='\r' ) continue;
    if( depth==0 && (c==',' || c==']') ){
      if( pStart ){
        const char *pEnd = p;
        while( pEnd>pStart && (pEnd[-1]==' ' || pEnd[-1]=='\n' || pEnd[-1]=='\t' || pEnd[-1]=='\r') ) pEnd--;
        rc = xElem(pCtx, pStart, (size_t)(pEnd - pStart));
        if( rc ) return rc;
        pStart = NULL;
      }
      if( c==']' ) return CV_OK;
      continue;
    }
    if( !pStart ) pStart = p;
    if( c=='{' || c=='[' ) depth++;
    else if( c=='}' || c==']' ) depth--;
  }
  return CV_INVALID;
}

/* Packs elements into segments of conversation id, in order, from index 0. */
struct packer {
  struct cv_db *pDb;
  int64_t id;
  int64_t iNext;                 /* index of the next element */
  struct cv_buf seg;             /* the open segment's array text, without its ']' */
  int nSeg;                      /* elements in it */
  int64_t nBytes;                /* bytes of the segments written */
  struct tail t;
};

static cv_rc pack_flush(struct packer *pk){
  cv_rc rc;
  if( pk->nSeg==0 ) return CV_OK;
  rc = buf_append(&pk->seg, "]", 1);
  if( rc==CV_OK ){
    rc = insert_segment(pk->pDb, pk->id, pk->iNext - pk->nSeg, pk->nSeg, pk->seg.a,
                        pk->seg.n, &pk->t);
    pk->nBytes += (int64_t)pk->seg.n;
  }
  pk->seg.n = 0;
  pk->nSeg = 0;
  return rc;
}

static cv_rc pack_elem(void *pCtx, const char *p, size_t n){
  struct packer *pk = pCtx;
  cv_rc rc = CV_OK;
  if( pk->nSeg>0 && !fits(pk->nSeg, (int64_t)pk->seg.n + 1, n) ) rc = pack_flush(pk);
  if( rc==CV_OK ) rc = buf_append(&pk->seg, pk->nSeg ? "," : "[", 1);
  if( rc==CV_OK ) rc = buf_append(&pk->seg, p, n);
  if( rc==CV_OK ){ pk->nSeg++; pk->iNext++; }
  return rc;
}

/* The bytes of the array texts of conversation id's segments from first_index iFrom on. */
static cv_rc bytes_from(struct cv_db *pDb, int64_t id, int64_t iFrom, int64_t *pn){
  static const char zSql[] =
    "SELECT coalesce(sum(length(CAST(messages AS BLOB))), 0) FROM segments"
    " WHERE conv_id=?1 AND first_index>=?2";
  cv_rc rc = db_int64(pDb, zSql, id, iFrom, pn);
  return rc==CV_NOTFOUND ? CV_DB : rc;      /* an aggregate always has a row */
}

/* Delete every segment of conversation id, then pack the array zArray into new ones.
** *pnBytes (may be NULL) gets the change of the segments' bytes. */
static cv_rc replace_all(struct cv_db *pDb, int64_t id, const char *zArray, int64_t *pn,
                         int64_t *pnBytes){
  static const char zDel[] = "DELETE FROM segments WHERE conv_id=?1";
  struct packer pk;
  cv_stmt *pSt;
  int64_t nOld = 0;
  cv_rc rc = pnBytes ? bytes_from(pDb, id, 0, &nOld) : CV_OK;
  if( rc ) return rc;
  rc = db_stmt(pDb, zDel, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, id);
  rc = db_step_done(pDb, pSt, NULL);
  if( rc ) return rc;
  memset(&pk, 0, sizeof pk);
  pk.pDb = pDb;
  pk.id = id;
  buf_init(&pk.seg, (size_t)1<<30);
  rc = each_element(zArray, pack_elem, &pk);
  if( rc==CV_OK ) rc = pack_flush(&pk);
  buf_free(&pk.seg);
  if( pn ) *pn = pk.iNext;
  if( pnBytes ) *pnBytes = pk.nBytes - nOld;
  return rc;
}

cv_rc store_conv_replace(struct cv_db *pDb, int64_t id, const char *zArray, int64_t nMessages,
                         int64_t *pnBytes){
  int64_t n = 0;
  cv_rc rc = replace_all(pDb, id, zArray ? zArray : "[]", &n, pnBytes);
  if( rc==CV_OK && n!=nMessages ) rc = CV_INVALID;   /* the caller's count must be the array's */
  return rc;
}

cv_rc store_conv_truncate(struct cv_db *pDb, int64_t id, int64_t iFrom, int64_t *pnLeft,
                          int64_t *pnBytes){
  static const char zSeg[] =
    "SELECT coalesce(max(first_index), 0) FROM segments WHERE conv_id=?1 AND first_index<=?2";
  static const char zDelAfter[] = "DELETE FROM segments WHERE conv_id=?1 AND first_index>=?2";
  static const char zPop[] =
    "UPDATE segments SET messages=json_remove(messages,'$[#-1]'), n=n-1 WHERE id=?1";
  struct tail t;
  cv_stmt *pSt;
  int64_t iSeg = 0, nBefore = 0, nAfter = 0;
  cv_rc rc;
  assert( iFrom>=0 );
  *pnLeft = 0;
  *pnBytes = 0;
  /* only the segments from the one holding iFrom on change: measure them before and after */
  rc = db_int64(pDb, zSeg, id, iFrom, &iSeg);
  if( rc==CV_NOTFOUND ) rc = CV_DB;          /* an aggregate always has a row */
  if( rc==CV_OK ) rc = bytes_from(pDb, id, iSeg, &nBefore);
  if( rc==CV_OK ) rc = db_stmt(pDb, zDelAfter, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, id);
  db_bind_int64(pSt, 2, iFrom);
  rc = db_step_done(pDb, pSt, NULL);
  if( rc==CV_OK ) rc = read_tail(pDb, id, &t);   /* the segment holding iFrom, if any, is the tail now */
  while( rc==CV_OK && t.rowid && t.first + t.n > iFrom ){
    rc = db_stmt(pDb, zPop, &pSt);
    if( rc ) break;
    db_bind_int64(pSt, 1, t.rowid);
    rc = db_step_done(pDb, pSt, NULL);
    t.n--;
  }
  /* never emptied: a segment starting at iFrom or later went with zDelAfter */
  assert( rc!=CV_OK || t.rowid==0 || t.n>0 );
  if( rc==CV_OK ) rc = bytes_from(pDb, id, iSeg, &nAfter);
  if( rc ) return rc;
  *pnLeft = t.first + t.n;
  *pnBytes = nAfter - nBefore;
  return CV_OK;
}

/* ---- edits in place, copies (issue 13) -------------------------------------------------- */

/* The segment of conversation id holding message iIndex: *pt is zeroed when there is none. */
static cv_rc segment_of(struct cv_db *pDb, int64_t id, int64_t iIndex, struct tail *t){
  cv_rc rc = segment_at(pDb, id, iIndex, t);
  if( rc==CV_OK && t->rowid && iIndex >= t->first + t->n ) memset(t, 0, sizeof *t);
  return rc;
}

/* Re-pack segment t (over the byte cap after an edit) of conversation id into as many
** segments as the caps need, at the same first_index: its rows' search entries go with the
** delete and come back with the inserts (schema.sql's triggers). *pnBytes gets the new
** segments' bytes. */
static cv_rc repack_segment(struct cv_db *pDb, int64_t id, const struct tail *t,
                            int64_t *pnBytes){
  static const char zRead[] = "SELECT messages FROM segments WHERE id=?1";
  static const char zDel[] = "DELETE FROM segments WHERE id=?1";
  struct packer pk;
  cv_stmt *pSt;
  char *zArray = NULL;
  int src;
  cv_rc rc = db_stmt(pDb, zRead, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, t->rowid);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) zArray = db_col_dup(pSt, 0, &rc);
  else rc = src==SQLITE_DONE ? CV_DB : db_rc(pDb, src);
  db_reset(pSt);
  if( rc==CV_OK && !zArray ) rc = CV_NOMEM;
  if( rc==CV_OK ) rc = db_stmt(pDb, zDel, &pSt);
  if( rc==CV_OK ){
    db_bind_int64(pSt, 1, t->rowid);
    rc = db_step_done(pDb, pSt, NULL);
  }
  if( rc ){ free(zArray); return rc; }
  memset(&pk, 0, sizeof pk);
  pk.pDb = pDb;
  pk.id = id;
  pk.iNext = t->first;
  buf_init(&pk.seg, (size_t)1<<30);
  rc = each_element(zArray, pack_elem, &pk);
  if( rc==CV_OK ) rc = pack_flush(&pk);
  if( rc==CV_OK && pk.iNext != t->first + t->n ) rc = CV_DB;
  buf_free(&pk.seg);
  free(zArray);
  *pnBytes = pk.nBytes;
  return rc;
}

cv_rc store_conv_set_content(struct cv_db *pDb, int64_t id, int64_t iIndex,
                             const char *zContent, const char *zRole, char **pzRole,
                             int64_t *pnBytes){
  static const char zGetRole[] =
    "SELECT json_extract(messages, '$[' || ?2 || '].role') FROM segments WHERE id=?1";
  /* the path is built from a bound integer: never text of the caller's */
  static const char zSet[] =
    "UPDATE segments SET messages=json_replace(messages, '$[' || ?2 || '].content', ?3)"
    " WHERE id=?1 RETURNING length(CAST(messages AS BLOB))";
  /* n does not change, so no trigger of schema.sql sees an edit in place: queue it here,
  ** before the change, as the triggers do (old: the text the index holds, read from the
  ** segment; a row queued earlier in this transaction keeps its old) */
  static const char zQueue[] =
    "INSERT INTO search_queue(rowid, old, body)"
    " SELECT rid, body, char(1) || user_id || char(1) || ?3"
    " FROM search_messages WHERE seg_id=?1 AND place=?2"
    " ON CONFLICT(rowid) DO UPDATE SET body = excluded.body";
  struct tail t;
  cv_stmt *pSt;
  char *zOld = NULL;
  int64_t nNew = 0, k;
  int src;
  cv_rc rc;
  assert( iIndex>=0 && zContent );
  *pzRole = NULL;
  *pnBytes = 0;
  rc = segment_of(pDb, id, iIndex, &t);
  if( rc ) return rc;
  if( t.rowid==0 ) return CV_NOTFOUND;
  k = iIndex - t.first;
  rc = db_stmt(pDb, zGetRole, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, t.rowid);
  db_bind_int64(pSt, 2, k);
  src = db_step(pSt);
  if( src==SQLITE_ROW ) zOld = db_col_dup(pSt, 0, &rc);
  else rc = src==SQLITE_DONE ? CV_DB : db_rc(pDb, src);
  db_reset(pSt);
  if( rc==CV_OK && !zOld ) rc = CV_DB;          /* every stored message has a role */
  if( rc==CV_OK && zRole && strcmp(zRole, zOld)!=0 ) rc = CV_INVALID;
  if( rc ) goto out;
  rc = db_stmt(pDb, zQueue, &pSt);
  if( rc ) goto out;
  db_bind_int64(pSt, 1, t.rowid);
  db_bind_int64(pSt, 2, k);
  db_bind_text(pSt, 3, zContent, -1, SQLITE_STATIC);
  rc = db_step_done(pDb, pSt, NULL);
  if( rc ) goto out;
  rc = db_stmt(pDb, zSet, &pSt);
  if( rc ) goto out;
  db_bind_int64(pSt, 1, t.rowid);
  db_bind_int64(pSt, 2, k);
  db_bind_text(pSt, 3, zContent, -1, SQLITE_STATIC);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    nNew = db_column_int64(pSt, 0);
    src = db_step(pSt);
  }else if( src==SQLITE_DONE ){
    src = SQLITE_CORRUPT;                       /* the segment read just now is gone */
  }
  rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc ) goto out;
  if( t.n>1 && nNew>nCapBytes ){
    /* grown past the cap: this one segment is split, the others stay as they are */
    rc = repack_segment(pDb, id, &t, &nNew);
    if( rc ) goto out;
  }
  *pnBytes = nNew - t.nBytes;
out:
  if( rc==CV_OK ) *pzRole = zOld;
  else free(zOld);
  return rc;
}

cv_rc store_conv_last_user(struct cv_db *pDb, int64_t id, int64_t *piIndex, char **pzContent){
  static const char zSeg[] =
    "SELECT id, first_index FROM segments WHERE conv_id=?1 AND first_index<?2"
    " ORDER BY first_index DESC LIMIT 1";
  static const char zMsg[] =
    "SELECT j.key, j.value->>'content' FROM segments s, json_each(s.messages) j"
    " WHERE s.id=?1 AND j.value->>'role'='user' ORDER BY j.key DESC LIMIT 1";
  int64_t iBefore = INT64_MAX;
  cv_rc rc = CV_OK;
  *piIndex = -1;
  *pzContent = NULL;
  while( rc==CV_OK && *piIndex<0 ){
    cv_stmt *pSt;
    int64_t rowid = 0, iFirst = 0;
    int src;
    rc = db_stmt(pDb, zSeg, &pSt);
    if( rc ) break;
    db_bind_int64(pSt, 1, id);
    db_bind_int64(pSt, 2, iBefore);
    src = db_step(pSt);
    if( src==SQLITE_ROW ){
      rowid = db_column_int64(pSt, 0);
      iFirst = db_column_int64(pSt, 1);
    }else if( src!=SQLITE_DONE ){
      rc = db_rc(pDb, src);
    }
    db_reset(pSt);
    if( rc || rowid==0 ) break;
    iBefore = iFirst;
    rc = db_stmt(pDb, zMsg, &pSt);
    if( rc ) break;
    db_bind_int64(pSt, 1, rowid);
    src = db_step(pSt);
    if( src==SQLITE_ROW ){
      *pzContent = db_col_dup(pSt, 1, &rc);
      if( rc==CV_OK && !*pzContent ) rc = CV_DB;
      if( rc==CV_OK ) *piIndex = iFirst + db_column_int64(pSt, 0);
    }else if( src!=SQLITE_DONE ){
      rc = db_rc(pDb, src);
    }
    db_reset(pSt);
  }
  if( rc ){ free(*pzContent); *pzContent = NULL; *piIndex = -1; }
  return rc;
}

cv_rc store_conv_copy(struct cv_db *pDb, int64_t idFrom, int64_t idTo, int64_t nUpto,
                      int64_t *pnMessages, int64_t *pnBytes){
  /* the arrays move from row to row inside SQLite; the insert trigger indexes them for
  ** idTo's owner */
  static const char zCopy[] =
    "INSERT INTO segments(conv_id, first_index, n, messages)"
    " SELECT ?1, first_index, n, messages FROM segments WHERE conv_id=?2 AND first_index<?3"
    " ORDER BY first_index";
  cv_stmt *pSt;
  int64_t nLeft = 0, nDelta = 0;
  cv_rc rc;
  assert( nUpto>=0 && idFrom!=idTo );
  *pnMessages = 0;
  *pnBytes = 0;
  rc = db_stmt(pDb, zCopy, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, idTo);
  db_bind_int64(pSt, 2, idFrom);
  db_bind_int64(pSt, 3, nUpto);
  rc = db_step_done(pDb, pSt, NULL);
  /* the last segment copied may hold messages from nUpto on: they go as a truncation would */
  if( rc==CV_OK ) rc = store_conv_truncate(pDb, idTo, nUpto, &nLeft, &nDelta);
  if( rc==CV_OK ) rc = bytes_from(pDb, idTo, 0, pnBytes);
  if( rc==CV_OK ) *pnMessages = nLeft;
  return rc;
}

/* ---- header ----------------------------------------------------------------------------- */

/* The content of the first user message of conversation id, malloc'd, or NULL when there is
** none. Reads segments in order only until it finds one. */
static cv_rc first_user_content(struct cv_db *pDb, int64_t id, char **pz){
  static const char zSql[] =
    "SELECT j.value->>'content' FROM segments s, json_each(s.messages) j"
    " WHERE s.conv_id=?1 AND s.first_index=?2 AND j.value->>'role'='user'"
    " ORDER BY j.key LIMIT 1";
  static const char zNext[] =
    "SELECT first_index + n FROM segments WHERE conv_id=?1 AND first_index=?2";
  int64_t iFirst = 0;
  cv_rc rc = CV_OK;
  *pz = NULL;
  for(;;){
    cv_stmt *pSt;
    int src;
    rc = db_stmt(pDb, zSql, &pSt);
    if( rc ) return rc;
    db_bind_int64(pSt, 1, id);
    db_bind_int64(pSt, 2, iFirst);
    src = db_step(pSt);
    if( src==SQLITE_ROW ) *pz = db_col_dup(pSt, 0, &rc);
    else if( src!=SQLITE_DONE ) rc = db_rc(pDb, src);
    db_reset(pSt);
    if( rc || src==SQLITE_ROW ) return rc;
    rc = db_stmt(pDb, zNext, &pSt);
    if( rc ) return rc;
    db_bind_int64(pSt, 1, id);
    db_bind_int64(pSt, 2, iFirst);
    src = db_step(pSt);
    if( src==SQLITE_ROW ) iFirst = db_column_int64(pSt, 0);
    else rc = db_rc(pDb, src);
    db_reset(pSt);
    if( rc || src!=SQLITE_ROW ) return rc;
  }
}

/* CV_QUOTA when a conversation of user userId going from nOld messages of nOldBytes to
** nMessages of nOldBytes + nBytesDelta passes a cap of store_conv_set_limits (the user's
** size read from users only when it grows). */
static cv_rc check_growth(struct cv_db *pDb, int64_t userId, int64_t nOld, int64_t nOldBytes,
                          int64_t nMessages, int64_t nBytesDelta){
  static const char zUser[] = "SELECT stored_bytes FROM users WHERE id=?1";
  int64_t nUserBytes = 0, nUserGrow;
  cv_rc rc;
  if( over(limits.nMessages, nOld, nMessages) ) return CV_QUOTA;
  if( over(limits.nBytes, nOldBytes, nOldBytes + nBytesDelta) ) return CV_QUOTA;
  nUserGrow = stored(nOldBytes + nBytesDelta) - stored(nOldBytes);
  if( limits.nUserBytes==0 || nUserGrow<=0 ) return CV_OK;
  rc = db_int64(pDb, zUser, userId, 0, &nUserBytes);
  if( rc ) return rc;
  return over(limits.nUserBytes, nUserBytes, nUserBytes + nUserGrow) ? CV_QUOTA : CV_OK;
}

/* The caps of store_conv_set_limits, before header id of kind k changes to nMessages
** messages and nBytesDelta more bytes: CV_QUOTA when a count or a size would grow past one. */
static cv_rc check_limits(struct cv_db *pDb, const struct conv_kind *k, int64_t id,
                          int64_t nMessages, int64_t nBytesDelta){
  cv_stmt *pSt;
  int64_t nOld = 0, nOldBytes = 0, userId = 0;
  int src;
  cv_rc rc;
  if( limits.nMessages==0 && limits.nBytes==0 && limits.nUserBytes==0 ) return CV_OK;
  rc = db_stmt(pDb, k->zSize, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, id);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    nOld = db_column_int64(pSt, 0);
    nOldBytes = db_column_int64(pSt, 1);
    userId = db_column_int64(pSt, 2);
  }else{
    rc = src==SQLITE_DONE ? CV_NOTFOUND : db_rc(pDb, src);
  }
  db_reset(pSt);
  if( rc ) return rc;
  return check_growth(pDb, userId, nOld, nOldBytes, nMessages, nBytesDelta);
}

cv_rc store_conv_admit_new(struct cv_db *pDb, int eKind, int64_t userId, int64_t id,
                           int64_t nMessages, int64_t nBytes, const char *zTitle,
                           char **pzAuto){
  const struct conv_kind *k = kind_of(eKind);
  char *zContent = NULL;
  cv_rc rc;
  *pzAuto = NULL;
  rc = check_growth(pDb, userId, 0, 0, nMessages, nBytes);
  if( rc==CV_OK && nMessages>0 && strcmp(zTitle, k->zDefaultTitle)==0 ){
    rc = first_user_content(pDb, id, &zContent);
    if( rc==CV_OK && zContent ) *pzAuto = util_auto_title(zContent, &rc);
    if( rc ){ free(*pzAuto); *pzAuto = NULL; }
  }
  free(zContent);
  return rc;
}

cv_rc store_conv_touch(struct cv_db *pDb, int eKind, int64_t id, int64_t nMessages,
                       int64_t nBytesDelta, const char *zTs, char **pzTitle){
  const struct conv_kind *k = kind_of(eKind);
  cv_stmt *pSt;
  char *zTitle = NULL, *zContent = NULL, *zAuto = NULL;
  int src;
  cv_rc rc;
  if( pzTitle ) *pzTitle = NULL;
  rc = check_limits(pDb, k, id, nMessages, nBytesDelta);
  if( rc ) return rc;
  rc = db_stmt(pDb, k->zTouch, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, id);
  db_bind_int64(pSt, 2, nMessages);
  if( zTs ) db_bind_text(pSt, 3, zTs, -1, SQLITE_STATIC);
  db_bind_int64(pSt, 4, nBytesDelta);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    zTitle = db_col_dup(pSt, 0, &rc);
    if( rc==CV_OK ) src = db_step(pSt);
  }
  if( rc==CV_OK ) rc = src==SQLITE_DONE && zTitle ? CV_OK : src==SQLITE_DONE ? CV_NOTFOUND : db_rc(pDb, src);
  db_reset(pSt);
  if( rc ) goto out;
  if( nMessages>0 && strcmp(zTitle, k->zDefaultTitle)==0 ){
    rc = first_user_content(pDb, id, &zContent);
    if( rc==CV_OK && zContent ) zAuto = util_auto_title(zContent, &rc);
    if( rc==CV_OK && zAuto ){
      rc = db_stmt(pDb, k->zSetTitle, &pSt);
      if( rc==CV_OK ){
        db_bind_int64(pSt, 1, id);
        db_bind_text(pSt, 2, zAuto, -1, SQLITE_STATIC);
        rc = db_step_done(pDb, pSt, NULL);
      }
      if( rc==CV_OK ){ free(zTitle); zTitle = zAuto; zAuto = NULL; }
    }
  }
out:
  if( rc==CV_OK && pzTitle ){ *pzTitle = zTitle; zTitle = NULL; }
  free(zTitle);
  free(zContent);
  free(zAuto);
  return rc;
}

cv_rc store_conv_count(struct cv_db *pDb, int64_t id, int64_t *pn){
  struct tail t;
  cv_rc rc = read_tail(pDb, id, &t);
  *pn = t.first + t.n;
  return rc;
}

/* ---- reads ------------------------------------------------------------------------------ */

cv_rc store_conv_write_all(struct cv_db *pDb, int64_t id, struct cv_sink *pOut){
  static const char zSql[] =
    "SELECT messages FROM segments WHERE conv_id=?1 ORDER BY first_index";
  cv_stmt *pSt;
  int src, bAny = 0;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, id);
  rc = sink_write(pOut, "[", 1);
  while( rc==CV_OK && (src = db_step(pSt))==SQLITE_ROW ){
    const char *z = (const char*)db_column_text(pSt, 0);
    size_t n = (size_t)db_column_bytes(pSt, 0);
    /* a segment is "[...]" as json_insert or we wrote it: splice what is inside */
    if( !z || n<2 || z[0]!='[' || z[n-1]!=']' ){ rc = CV_DB; break; }
    if( n==2 ) continue;
    if( bAny ) rc = sink_write(pOut, ",", 1);
    if( rc==CV_OK ) rc = sink_write(pOut, z+1, n-2);
    bAny = 1;
  }
  if( rc==CV_OK && src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc==CV_OK ) rc = sink_write(pOut, "]", 1);
  return rc;
}

cv_rc store_conv_write_range(struct cv_db *pDb, int64_t id, int64_t iStart, int64_t iEnd,
                             struct cv_sink *pOut){
  /* first_index > iStart - CONV_SEG_MESSAGES bounds the index range scanned: no segment
  ** holds more than that many messages */
  static const char zSql[] =
    "SELECT s.first_index + j.key, j.value FROM segments s, json_each(s.messages) j"
    " WHERE s.conv_id=?1 AND s.first_index>?4 AND s.first_index<?3"
    " AND s.first_index + j.key>=?2 AND s.first_index + j.key<?3"
    " ORDER BY s.first_index, j.key";
  cv_stmt *pSt;
  int src = SQLITE_DONE, bAny = 0;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, id);
  db_bind_int64(pSt, 2, iStart);
  db_bind_int64(pSt, 3, iEnd);
  db_bind_int64(pSt, 4, iStart - CONV_SEG_MESSAGES);
  rc = sink_write(pOut, "[", 1);
  while( rc==CV_OK && (src = db_step(pSt))==SQLITE_ROW ){
    const char *z = (const char*)db_column_text(pSt, 1);
    size_t n = (size_t)db_column_bytes(pSt, 1);
    if( !z || n<2 || z[0]!='{' ){ rc = CV_DB; break; }
    rc = sink_printf(pOut, "%s{\"index\":%lld%s", bAny ? "," : "",
                     (long long)db_column_int64(pSt, 0), n>2 ? "," : "");
    if( rc==CV_OK ) rc = sink_write(pOut, z+1, n-1);
    bAny = 1;
  }
  if( rc==CV_OK && src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc==CV_OK ) rc = sink_write(pOut, "]", 1);
  return rc;
}

/* A message kept by store_conv_tail (copied out of the statement). */
struct kept {
  int64_t index;
  char *zRole, *zContent;
};

cv_rc store_conv_tail(struct cv_db *pDb, int64_t id, int nBudgetChars, cv_conv_msg_fn xMsg,
                      void *pCtx){
  static const char zSeg[] =
    "SELECT first_index FROM segments WHERE conv_id=?1 AND first_index<?2"
    " ORDER BY first_index DESC LIMIT 1";
  static const char zMsgs[] =
    "SELECT s.first_index + j.key, j.value->>'role', j.value->>'content'"
    " FROM segments s, json_each(s.messages) j WHERE s.conv_id=?1 AND s.first_index=?2"
    " ORDER BY j.key DESC";
  struct kept *a = NULL;
  int n = 0, nAlloc = 0, i, bDone = 0;
  int64_t iBefore = INT64_MAX;
  size_t used = 0;
  cv_rc rc = CV_OK;
  while( rc==CV_OK && !bDone ){
    cv_stmt *pSt;
    int64_t iSeg = -1;
    int src;
    rc = db_stmt(pDb, zSeg, &pSt);
    if( rc ) break;
    db_bind_int64(pSt, 1, id);
    db_bind_int64(pSt, 2, iBefore);
    src = db_step(pSt);
    if( src==SQLITE_ROW ) iSeg = db_column_int64(pSt, 0);
    else if( src!=SQLITE_DONE ) rc = db_rc(pDb, src);
    db_reset(pSt);
    if( rc || iSeg<0 ) break;
    iBefore = iSeg;
    rc = db_stmt(pDb, zMsgs, &pSt);
    if( rc ) break;
    db_bind_int64(pSt, 1, id);
    db_bind_int64(pSt, 2, iSeg);
    while( rc==CV_OK && (src = db_step(pSt))==SQLITE_ROW ){
      const char *zC = (const char*)db_column_text(pSt, 2);
      size_t nChars = zC ? util_utf8_chars(zC) : 0;
      if( n>0 && used + nChars > (size_t)nBudgetChars ){ bDone = 1; break; }
      if( n==nAlloc ){
        int nNew = nAlloc ? 2*nAlloc : 16;
        struct kept *aNew = realloc(a, (size_t)nNew * sizeof *a);
        if( !aNew ){ rc = CV_NOMEM; break; }
        a = aNew;
        nAlloc = nNew;
      }
      a[n].index = db_column_int64(pSt, 0);
      a[n].zRole = db_col_dup(pSt, 1, &rc);
      a[n].zContent = db_col_dup(pSt, 2, &rc);
      n++;
      used += nChars;
    }
    if( rc==CV_OK && !bDone && src!=SQLITE_DONE ) rc = db_rc(pDb, src);
    db_reset(pSt);
  }
  for(i=n-1; rc==CV_OK && i>=0; i--){
    struct cv_conv_msg m;
    if( !a[i].zRole || !a[i].zContent ) continue;   /* not a message object: skipped */
    m.index = a[i].index;
    m.zRole = a[i].zRole;
    m.zContent = a[i].zContent;
    rc = xMsg(pCtx, &m);
  }
  for(i=0; i<n; i++){ free(a[i].zRole); free(a[i].zContent); }
  free(a);
  return rc;
}

/* ---- check and migration ---------------------------------------------------------------- */

cv_rc store_conv_check(struct cv_db *pDb, struct cv_buf *r, int *pnBad){
  /* one row per broken conversation with what is wrong with it */
  static const char zSql[] =
    "WITH seg AS ("
    "  SELECT conv_id, first_index, n, json_valid(messages) AS ok,"
    "   CASE WHEN json_valid(messages) THEN json_array_length(messages) END AS len,"
    "   length(CAST(messages AS BLOB)) AS bytes,"
    "   lag(first_index + n, 1, 0) OVER (PARTITION BY conv_id ORDER BY first_index) AS expect"
    "  FROM segments),"
    " bad_seg AS ("
    "  SELECT conv_id, min(CASE"
    "    WHEN NOT ok THEN 'a segment is not a JSON array'"
    "    WHEN len<>n THEN 'a segment''s n is not its array''s length'"
    "    WHEN n<1 OR n>?1 THEN 'a segment holds too few or too many messages'"
    "    WHEN n>1 AND bytes>?2 THEN 'a segment is over the byte cap'"
    "    WHEN first_index<>expect THEN 'first indexes are not contiguous from 0'"
    "   END) AS why FROM seg GROUP BY conv_id),"
    " totals AS (SELECT conv_id, sum(n) AS total, sum(length(CAST(messages AS BLOB))) AS bytes"
    "   FROM segments GROUP BY conv_id),"
    " heads AS (SELECT id, message_count, message_bytes FROM chat_threads"
    "   UNION ALL SELECT id, message_count, message_bytes FROM chat_histories)"
    " SELECT c.id, coalesce(b.why, CASE"
    "   WHEN h.id IS NULL THEN 'a conversation without a thread or chat'"
    "   WHEN h.message_count<>coalesce(t.total, 0) THEN 'message_count differs from the segments'"
    "   WHEN h.message_bytes<>coalesce(t.bytes, 0) THEN 'message_bytes differs from the segments'"
    "  END) AS problem"
    " FROM conversations c LEFT JOIN bad_seg b ON b.conv_id=c.id"
    " LEFT JOIN totals t ON t.conv_id=c.id LEFT JOIN heads h ON h.id=c.id"
    " WHERE problem IS NOT NULL"
    " UNION ALL SELECT s.conv_id, 'segments of a missing conversation' FROM segments s"
    "  WHERE NOT EXISTS(SELECT 1 FROM conversations c WHERE c.id=s.conv_id)"
    " UNION ALL SELECT h.id, 'a thread or chat without a conversation' FROM heads h"
    "  WHERE NOT EXISTS(SELECT 1 FROM conversations c WHERE c.id=h.id)";
  cv_stmt *pSt;
  int src, nBad = 0;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  *pnBad = 0;
  if( rc ) return rc;
  db_bind_int(pSt, 1, CONV_SEG_MESSAGES);
  db_bind_int(pSt, 2, CONV_SEG_BYTES);
  while( (src = db_step(pSt))==SQLITE_ROW ){
    nBad++;
    if( nBad<=20 ){
      buf_appendf(r, "conversation %lld: %s\n", (long long)db_column_int64(pSt, 0),
                  (const char*)db_column_text(pSt, 1));
    }
  }
  if( src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc==CV_OK && nBad ) buf_appendf(r, "segments: %d conversations broken\n", nBad);
  else if( rc==CV_OK ) buf_appendf(r, "segments: ok\n");
  if( rc==CV_OK ){
    /* every account's stored_bytes is the sum of its conversations', rounded as stored() */
    static const char zUsers[] =
      "SELECT u.id, u.stored_bytes, coalesce((SELECT sum((message_bytes+?1-1)/?1*?1)"
      "  FROM chat_threads WHERE user_id=u.id), 0) + coalesce((SELECT"
      "  sum((message_bytes+?1-1)/?1*?1) FROM chat_histories WHERE user_id=u.id), 0) AS total"
      " FROM users u WHERE u.stored_bytes<>total";
    int nUsers = 0;
    rc = db_stmt(pDb, zUsers, &pSt);
    if( rc ) return rc;
    db_bind_int(pSt, 1, CONV_STORED_UNIT);   /* the triggers' rounding, as stored() */
    while( (src = db_step(pSt))==SQLITE_ROW ){
      if( ++nUsers<=20 ){
        buf_appendf(r, "user %lld: stored_bytes %lld, its conversations hold %lld\n",
                    (long long)db_column_int64(pSt, 0),
                    (long long)db_column_int64(pSt, 1),
                    (long long)db_column_int64(pSt, 2));
      }
    }
    if( src!=SQLITE_DONE ) rc = db_rc(pDb, src);
    db_reset(pSt);
    if( rc==CV_OK && nUsers ) buf_appendf(r, "accounts: %d with a wrong stored_bytes\n", nUsers);
    nBad += nUsers;
  }
  *pnBad = nBad;
  return rc;
}

cv_rc store_conv_migrate_v3(struct cv_db *pDb){
  static const char zSql[] = "SELECT conv_id, messages FROM v2_messages ORDER BY conv_id";
  static const char zDrop[] = "DROP TABLE v2_messages";
  /* the headers' sizes; triggers add them up into users.stored_bytes */
  static const char zBytes[] =
    "UPDATE chat_threads SET message_bytes=(SELECT coalesce(sum(length(CAST(messages AS BLOB))),"
    " 0) FROM segments WHERE conv_id=chat_threads.id) WHERE message_count>0;"
    "UPDATE chat_histories SET message_bytes=(SELECT coalesce(sum(length(CAST(messages AS"
    " BLOB))), 0) FROM segments WHERE conv_id=chat_histories.id) WHERE message_count>0;";
  cv_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zSql, &pSt);
  if( rc ) return rc;
  while( rc==CV_OK && (src = db_step(pSt))==SQLITE_ROW ){
    const char *z = (const char*)db_column_text(pSt, 1);
    rc = replace_all(pDb, db_column_int64(pSt, 0), z ? z : "[]", NULL, NULL);
  }
  if( rc==CV_OK && src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc==CV_OK ) rc = db_exec(pDb, zBytes);
  if( rc==CV_OK ) rc = db_exec(pDb, zDrop);
  return rc;
}

cv_rc store_conv_migrate_v12(struct cv_db *pDb){
  static const char zList[] =
    "CREATE TEMP TABLE v12_repack AS SELECT id, conv_id, first_index, n,"
    " length(CAST(messages AS BLOB)) AS bytes FROM segments WHERE n>?1 ORDER BY id";
  static const char zEach[] = "SELECT id, conv_id, first_index, n, bytes FROM temp.v12_repack";
  /* a conversation is a thread or a chat: one of these changes a row */
  static const char zBytes[] =
    "UPDATE chat_threads SET message_bytes=message_bytes+?2 WHERE id=?1";
  static const char zBytesChat[] =
    "UPDATE chat_histories SET message_bytes=message_bytes+?2 WHERE id=?1";
  cv_stmt *pSt, *pUp;
  int src = SQLITE_DONE;
  cv_rc rc = db_stmt(pDb, zList, &pSt);
  if( rc ) return rc;
  db_bind_int(pSt, 1, CONV_SEG_MESSAGES);
  rc = db_step_done(pDb, pSt, NULL);
  if( rc ) return rc;
  rc = db_stmt(pDb, zEach, &pSt);
  if( rc ) return rc;
  while( rc==CV_OK && (src = db_step(pSt))==SQLITE_ROW ){
    struct tail t;
    int64_t conv = db_column_int64(pSt, 1), nNew = 0;
    int i;
    t.rowid = db_column_int64(pSt, 0);
    t.first = db_column_int64(pSt, 2);
    t.n = db_column_int64(pSt, 3);
    t.nBytes = db_column_int64(pSt, 4);
    rc = repack_segment(pDb, conv, &t, &nNew);
    for(i=0; rc==CV_OK && i<2; i++){
      rc = db_stmt(pDb, i==0 ? zBytes : zBytesChat, &pUp);
      if( rc ) break;
      db_bind_int64(pUp, 1, conv);
      db_bind_int64(pUp, 2, nNew - t.nBytes);
      rc = db_step_done(pDb, pUp, NULL);
    }
  }
  if( rc==CV_OK && src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc==CV_OK ) rc = db_exec(pDb, "DROP TABLE temp.v12_repack");
  return rc;
}

/* ---- the read snapshot of store.h ------------------------------------------------------ */

cv_rc sqlite_read_begin(struct cv_store *pS, struct cv_read *pRd){
  cv_rc rc;
  pRd->pS = pS;
  pRd->pDb = db_reader(pS);
  /* deferred: the first read takes the snapshot, and every later one reads the same state */
  rc = db_run(pRd->pDb, "BEGIN");
  if( rc ){
    db_reader_done(pS, pRd->pDb);
    memset(pRd, 0, sizeof *pRd);
  }
  return rc;
}

void sqlite_read_end(struct cv_read *pRd){
  if( !pRd->pDb ) return;
  db_run(pRd->pDb, "COMMIT");
  db_reader_done(pRd->pS, pRd->pDb);
  memset(pRd, 0, sizeof *pRd);
}

cv_rc sqlite_read_messages(struct cv_read *pRd, int64_t id, struct cv_sink *pOut){
  return store_conv_write_all(pRd->pDb, id, pOut);
}

cv_rc sqlite_read_messages_range(struct cv_read *pRd, int64_t id, int64_t iStart, int64_t iEnd,
                                struct cv_sink *pOut){
  return store_conv_write_range(pRd->pDb, id, iStart, iEnd, pOut);
}

struct history_ctx { cv_msg_view_fn xMsg; void *pCtx; };

static cv_rc history_msg(void *pCtx, const struct cv_conv_msg *m){
  struct history_ctx *h = pCtx;
  struct cv_msg_view v;
  v.zRole = m->zRole;
  v.zContent = m->zContent;
  return h->xMsg(h->pCtx, &v);
}

cv_rc sqlite_conv_history(struct cv_store *pS, int64_t id, int nBudgetChars, cv_msg_view_fn xMsg,
                         void *pCtx){
  struct cv_read rd;
  struct history_ctx h;
  cv_rc rc = sqlite_read_begin(pS, &rd);
  if( rc ) return rc;
  h.xMsg = xMsg;
  h.pCtx = pCtx;
  rc = store_conv_tail(rd.pDb, id, nBudgetChars, history_msg, &h);
  sqlite_read_end(&rd);
  return rc;
}
