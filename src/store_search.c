/*
** store_search.c — search over the FTS5 table search_index (store_search.h): one query for
** the ranked rows of the user, then each hit's message read from its one segment and its
** matches found again with the same tokenizer (the index is contentless: it holds terms,
** not text). May call db, SQLite, store_fts and util.
**
** A row of search_index is one message or one title: its rowid is segment id *
** SEARCH_ROWID_SLOTS + the message's place in its segment, or -(conversation id) for the
** conversation's title (schema.sql, version 12).
*/
#include "store_search.h"
#include "store_backend.h"
#include "db.h"
#include "store.h"
#include "store_conv.h"
#include "store_fts.h"
#include "util.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* The slots of a segment in the index's rowids: schema.sql's view search_messages writes
** id * 16 + place, and zSearchSql finds a hit's segment with rowid >> 4. */
#define SEARCH_ROWID_SLOTS 16
_Static_assert(CONV_SEG_MESSAGES <= SEARCH_ROWID_SLOTS,
               "a segment's messages must fit its slots of search rowids");

/* ---- finding the query's phrases in a text (the highlights) */

struct qtok {                    /* one token of a query phrase */
  char z[FTS_TOKEN_MAX];
  int n;
};
struct qphrase {
  struct qtok *aTok;             /* into struct matcher's aTok */
  int nTok;
  int bPrefix;
};
struct ctok {                    /* one token of the text, in the ring of the last ones */
  char z[FTS_TOKEN_MAX];
  int n, iStart, iEnd;
};
struct matcher {
  struct cv_fts_tok *pTok;
  struct qphrase *aPhrase;
  int nPhrase;
  struct qtok *aTok;             /* every phrase's tokens */
  int nTok, nTokAlloc;
  struct ctok *aRing;            /* the last nRing tokens of the text */
  int nRing;                     /* the longest phrase, in tokens (>= 1) */
  int64_t iTok;                  /* tokens of the text seen so far */
  struct cv_search_hit *pHit;    /* where matches go */
};

static int add_qtok(void *pCtx, const char *z, int n, int iStart, int iEnd){
  struct matcher *m = pCtx;
  (void)iStart; (void)iEnd;
  if( m->nTok==m->nTokAlloc ){
    int nNew = m->nTokAlloc ? m->nTokAlloc*2 : 16;
    struct qtok *aNew = realloc(m->aTok, (size_t)nNew * sizeof *aNew);
    if( !aNew ) return SQLITE_NOMEM;
    m->aTok = aNew;
    m->nTokAlloc = nNew;
  }
  memcpy(m->aTok[m->nTok].z, z, (size_t)n);
  m->aTok[m->nTok].n = n;
  m->nTok++;
  return SQLITE_OK;
}

static void matcher_free(struct matcher *m){
  free(m->aPhrase);
  free(m->aTok);
  free(m->aRing);
}

/* Tokenize the query's phrases as FTS5 does for a MATCH. */
static cv_rc matcher_init(struct matcher *m, struct cv_fts_tok *pTok, const struct cv_phrase *a,
                          int n){
  int i, *aFirst;
  memset(m, 0, sizeof *m);
  m->pTok = pTok;
  m->aPhrase = calloc((size_t)n, sizeof *m->aPhrase);
  aFirst = calloc((size_t)n, sizeof *aFirst);
  if( !m->aPhrase || !aFirst ){ free(aFirst); return CV_NOMEM; }
  for(i=0; i<n; i++){
    int flags = FTS5_TOKENIZE_QUERY | (a[i].bPrefix ? FTS5_TOKENIZE_PREFIX : 0);
    aFirst[i] = m->nTok;
    if( fts_tokenize(pTok, flags, a[i].z, a[i].n, add_qtok, m)!=SQLITE_OK ){
      free(aFirst);
      return CV_NOMEM;
    }
    m->aPhrase[i].nTok = m->nTok - aFirst[i];
    m->aPhrase[i].bPrefix = a[i].bPrefix;
    if( m->aPhrase[i].nTok > m->nRing ) m->nRing = m->aPhrase[i].nTok;
  }
  for(i=0; i<n; i++){          /* aTok is final now: point into it */
    m->aPhrase[i].aTok = m->aTok + aFirst[i];
  }
  free(aFirst);
  m->nPhrase = n;
  if( m->nRing==0 ) m->nRing = 1;
  m->aRing = calloc((size_t)m->nRing, sizeof *m->aRing);
  return m->aRing ? CV_OK : CV_NOMEM;
}

#define MATCH_REACH 1000         /* bytes after the first match still looked at */
#define MATCH_STOP  1            /* a token callback's "enough" (not an SQLite code) */

/* Record the match [iStart, iEnd) in the hit, in order of start; overlapping ones merge. */
static void add_match(struct cv_search_hit *h, int iStart, int iEnd){
  int i = h->nMatch;
  while( i>0 && h->aMatch[i-1].iStart > iStart ) i--;
  if( i>0 && h->aMatch[i-1].iEnd >= iStart ){           /* overlaps the one before */
    if( iEnd > h->aMatch[i-1].iEnd ) h->aMatch[i-1].iEnd = iEnd;
    return;
  }
  if( h->nMatch==SEARCH_MAX_MATCHES ) return;
  memmove(&h->aMatch[i+1], &h->aMatch[i], (size_t)(h->nMatch - i) * sizeof h->aMatch[0]);
  h->aMatch[i].iStart = iStart;
  h->aMatch[i].iEnd = iEnd;
  h->nMatch++;
}

/* One token of the text: does a phrase end here? */
static int text_token(void *pCtx, const char *z, int n, int iStart, int iEnd){
  struct matcher *m = pCtx;
  struct cv_search_hit *h = m->pHit;
  struct ctok *t = &m->aRing[m->iTok % m->nRing];
  int i;
  if( h->nMatch>0 && iStart > h->aMatch[0].iStart + MATCH_REACH ) return MATCH_STOP;
  memcpy(t->z, z, (size_t)n);
  t->n = n;
  t->iStart = iStart;
  t->iEnd = iEnd;
  m->iTok++;
  for(i=0; i<m->nPhrase; i++){
    const struct qphrase *p = &m->aPhrase[i];
    int j;
    if( p->nTok==0 || m->iTok < p->nTok ) continue;
    for(j=0; j<p->nTok; j++){
      const struct ctok *c = &m->aRing[(m->iTok - p->nTok + j) % m->nRing];
      const struct qtok *q = &p->aTok[j];
      int bLast = j==p->nTok-1;
      if( bLast && p->bPrefix ){
        if( c->n < q->n || memcmp(c->z, q->z, (size_t)q->n)!=0 ) break;
      }else if( c->n!=q->n || memcmp(c->z, q->z, (size_t)q->n)!=0 ){
        break;
      }
    }
    if( j==p->nTok ){
      add_match(h, m->aRing[(m->iTok - p->nTok) % m->nRing].iStart, iEnd);
    }
  }
  return SQLITE_OK;
}

/* Fill h->aMatch from h->zText. */
static cv_rc find_matches(struct matcher *m, struct cv_search_hit *h){
  int rc;
  m->pHit = h;
  m->iTok = 0;
  h->nMatch = 0;
  rc = fts_tokenize(m->pTok, FTS5_TOKENIZE_DOCUMENT, h->zText, h->nText, text_token, m);
  return (rc==SQLITE_OK || rc==MATCH_STOP) ? CV_OK : CV_NOMEM;
}

/* ---- the search */

/* ?1 MATCH expression, ?2 user, ?3 kind (0 both), ?4 archived (0, 1; 2 any: a thread's flag, a
** chat in the archive of --history-overflow archive), ?5 tag key or
** NULL, ?6 limit, ?7 offset. Rows: rowid, kind, title, chat_id, time, total, conversation. The index's rows
** are found first (h), then their conversations, kept when the user's and the filters' (f);
** a title (rowid < 0) is a hit only when none of its conversation's messages is (an automatic
** title repeats the first message: the conversation would be listed twice for one text). */
static const char zSearchSql[] =
  "WITH h AS ("
  "  SELECT s.rowid AS r, s.rank AS rk,"
  "         CASE WHEN s.rowid < 0 THEN -s.rowid"
  "              ELSE (SELECT g.conv_id FROM segments g WHERE g.id = s.rowid >> 4) END AS conv"
  "    FROM search_index s WHERE search_index MATCH ?1),"
  " f AS ("
  "  SELECT h.r, h.rk, c.id AS conv, c.kind, coalesce(t.title, ch.title) AS title,"
  "         ch.chat_id, coalesce(t.updated_at, ch.last_updated) AS ts"
  "    FROM h JOIN conversations c ON c.id = h.conv"
  "    LEFT JOIN chat_threads t ON t.id = c.id"
  "    LEFT JOIN chat_histories ch ON ch.id = c.id"
  "   WHERE c.user_id = ?2"
  "     AND (?3 = 0 OR c.kind = ?3)"
  "     AND (?4 = 2 OR coalesce(t.archived, ch.archived, 0) = ?4)"
  "     AND (?5 IS NULL OR EXISTS (SELECT 1 FROM thread_tags g"
  "                                 WHERE g.thread_id = t.id AND g.tag_key = ?5))),"
  " m AS (SELECT f.*, sum(f.r > 0) OVER (PARTITION BY f.conv) AS nmsg FROM f)"
  "SELECT r, kind, title, chat_id, ts, count(*) OVER (), conv FROM m"
  " WHERE r > 0 OR nmsg = 0"
  " ORDER BY rk, ts DESC, r DESC"
  " LIMIT ?6 OFFSET ?7";

static void bind_search(cv_stmt *pSt, const struct cv_buf *pExpr, int64_t userId,
                        const struct cv_search_req *pReq, int limit, int64_t offset){
  db_bind_text(pSt, 1, pExpr->a, (int)pExpr->n, SQLITE_STATIC);
  db_bind_int64(pSt, 2, userId);
  db_bind_int(pSt, 3, pReq->eKind);
  db_bind_int(pSt, 4, pReq->eArchived);
  if( pReq->zTagKey ) db_bind_text(pSt, 5, pReq->zTagKey, -1, SQLITE_STATIC);
  db_bind_int(pSt, 6, limit);
  db_bind_int64(pSt, 7, offset);
}

/* ?1 segment id, ?2 place in it: the message's index, role and content. */
static const char zMessageSql[] =
  "SELECT first_index + ?2,"
  "       messages ->> ('$[' || ?2 || '].role'),"
  "       messages ->> ('$[' || ?2 || '].content')"
  "  FROM segments WHERE id = ?1";

/* Read hit h's message (search rowid r > 0) into h->index, h->zRole and h->zText. */
static cv_rc read_message(struct cv_db *pDb, int64_t r, struct cv_search_hit *h){
  cv_stmt *pSt;
  int src;
  cv_rc rc = db_stmt(pDb, zMessageSql, &pSt);
  if( rc ) return rc;
  db_bind_int64(pSt, 1, r / SEARCH_ROWID_SLOTS);
  db_bind_int64(pSt, 2, r % SEARCH_ROWID_SLOTS);
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    h->index = db_column_int64(pSt, 0);
    db_col_copy(pSt, 1, h->zRole, sizeof h->zRole);
    h->zText = db_col_dup(pSt, 2, &rc);
    h->nText = db_column_bytes(pSt, 2);
    if( rc==CV_OK && !h->zText ) rc = CV_DB;    /* indexed, so it exists in this snapshot */
  }else{
    rc = src==SQLITE_DONE ? CV_DB : db_rc(pDb, src);
  }
  db_reset(pSt);
  return rc;
}

cv_rc sqlite_search(struct cv_read *pRd, int64_t userId, const struct cv_search_req *pReq,
                    struct cv_search_hit **paHit, int *pnHit, int64_t *pnTotal){
  struct cv_db *pDb = pRd->pDb;
  struct cv_search_hit *a = NULL;
  struct cv_buf expr;
  struct matcher m;
  struct cv_fts_tok *pTok;
  int64_t *aRowid = NULL;
  cv_stmt *pSt;
  int n = 0, i, src;
  cv_rc rc;

  *paHit = NULL;
  *pnHit = 0;
  *pnTotal = 0;
  assert( pReq->limit>=1 && pReq->offset>=0 );
  if( pReq->nPhrase==0 ) return CV_OK;
  pTok = db_fts_tok(pDb);
  if( !pTok ) return CV_NOMEM;
  buf_init(&expr, 64*1024);
  rc = fts_match_expr(userId, pReq->aPhrase, pReq->nPhrase, &expr);
  if( rc ){ buf_free(&expr); return rc; }
  a = calloc((size_t)pReq->limit, sizeof *a);
  aRowid = calloc((size_t)pReq->limit, sizeof *aRowid);
  if( !a || !aRowid ){ rc = CV_NOMEM; goto done; }

  rc = db_stmt(pDb, zSearchSql, &pSt);
  if( rc ) goto done;
  bind_search(pSt, &expr, userId, pReq, pReq->limit, pReq->offset);
  while( rc==CV_OK && n<pReq->limit && (src = db_step(pSt))==SQLITE_ROW ){
    struct cv_search_hit *h = &a[n];
    aRowid[n] = db_column_int64(pSt, 0);
    h->index = -1;
    h->eKind = db_column_int(pSt, 1);
    h->zTitle = db_col_dup(pSt, 2, &rc);
    if( h->eKind==CV_CONV_THREAD ) h->threadId = db_column_int64(pSt, 6);
    else db_col_copy(pSt, 3, h->zChatId, sizeof h->zChatId);
    db_col_copy(pSt, 4, h->zUpdatedAt, sizeof h->zUpdatedAt);
    *pnTotal = db_column_int64(pSt, 5);
    if( rc==CV_OK && !h->zTitle ) rc = CV_DB;
    n++;
  }
  if( rc==CV_OK && n<pReq->limit && src!=SQLITE_DONE ) rc = db_rc(pDb, src);
  db_reset(pSt);
  if( rc==CV_OK && n==0 && pReq->offset>0 ){
    /* past the last hit: the total is read from the first row of the same query */
    bind_search(pSt, &expr, userId, pReq, 1, 0);
    src = db_step(pSt);
    if( src==SQLITE_ROW ) *pnTotal = db_column_int64(pSt, 5);
    else if( src!=SQLITE_DONE ) rc = db_rc(pDb, src);
    db_reset(pSt);
  }
  if( rc ) goto done;

  rc = matcher_init(&m, pTok, pReq->aPhrase, pReq->nPhrase);
  for(i=0; rc==CV_OK && i<n; i++){
    struct cv_search_hit *h = &a[i];
    if( aRowid[i]<0 ){
      h->zText = strdup(h->zTitle);
      if( !h->zText ){ rc = CV_NOMEM; break; }
      h->nText = (int)strlen(h->zText);
    }else{
      rc = read_message(pDb, aRowid[i], h);
    }
    if( rc==CV_OK ) rc = find_matches(&m, h);
  }
  matcher_free(&m);

done:
  buf_free(&expr);
  free(aRowid);
  if( rc ){
    store_search_free(a, n);
    *pnTotal = 0;
    return rc;
  }
  *paHit = a;
  *pnHit = n;
  return CV_OK;
}

/* ---- keeping the index: search_queue applied before COMMIT (schema.sql, version 12) */

cv_rc search_index_flush(struct cv_db *pDb){
  static const char zAny[] = "SELECT 1 FROM search_queue LIMIT 1";
  /* One pass in rowid order (FTS5 then writes one index segment): for each rowid, first the
  ** delete of what the index holds (FTS5's 'delete' command with the text it was indexed
  ** with: the index is contentless), then the insert of its new text. */
  static const char zApply[] =
    "INSERT INTO search_index(search_index, rowid, body)"
    " SELECT op, rowid, txt FROM ("
    "  SELECT 'delete' AS op, rowid, old AS txt, 0 AS ph FROM search_queue"
    "   WHERE old IS NOT NULL"
    "  UNION ALL"
    "  SELECT NULL, rowid, body, 1 FROM search_queue WHERE body IS NOT NULL)"
    " ORDER BY rowid, ph";
  static const char zClear[] = "DELETE FROM search_queue";
  cv_stmt *pSt;
  int64_t one = 0;
  cv_rc rc = db_int64(pDb, zAny, 0, 0, &one);
  if( rc==CV_NOTFOUND ) return CV_OK;              /* nothing queued: most transactions */
  if( rc ) return rc;
  rc = db_stmt(pDb, zApply, &pSt);
  if( rc==CV_OK ) rc = db_step_done(pDb, pSt, NULL);
  if( rc==CV_OK ) rc = db_stmt(pDb, zClear, &pSt);
  if( rc==CV_OK ) rc = db_step_done(pDb, pSt, NULL);
  return rc;
}

/* ---- merging the index's segments while the store is idle (schema.sql, version 14) */

cv_rc search_index_merge(struct cv_db *pDb, int nPages, int *pbWorked){
  /* FTS5's structure record (rowid 10 of its _data table): the list of segments and the state
  ** of the merges under way. 'merge' rewrites it only when it merged something. */
  static const char zStruct[] = "SELECT block FROM search_index_data WHERE id = 10";
  static const char zMerge[] =
    "INSERT INTO search_index(search_index, rank) VALUES ('merge', ?1)";
  cv_stmt *pSt;
  unsigned char *aBefore = NULL;
  int nBefore = 0, src;
  cv_rc rc;
  assert( nPages>0 );
  *pbWorked = 0;
  rc = db_stmt(pDb, zStruct, &pSt);
  if( rc ) return rc;
  src = db_step(pSt);
  if( src==SQLITE_ROW ){
    nBefore = db_column_bytes(pSt, 0);
    aBefore = malloc(nBefore>0 ? (size_t)nBefore : 1);
    if( !aBefore ) rc = CV_NOMEM;
    else if( nBefore>0 ) memcpy(aBefore, db_column_blob(pSt, 0), (size_t)nBefore);
  }else if( src!=SQLITE_DONE ){
    rc = db_rc(pDb, src);
  }
  db_reset(pSt);
  if( rc==CV_OK && aBefore==NULL ) return CV_OK;  /* an index never written: nothing to merge */
  if( rc==CV_OK ) rc = db_run_int64(pDb, zMerge, nPages, 0, NULL);
  if( rc==CV_OK ) rc = db_stmt(pDb, zStruct, &pSt);
  if( rc==CV_OK ){
    src = db_step(pSt);
    if( src==SQLITE_ROW ){
      *pbWorked = db_column_bytes(pSt, 0)!=nBefore
               || (nBefore>0 && memcmp(db_column_blob(pSt, 0), aBefore, (size_t)nBefore)!=0);
    }else{
      rc = db_rc(pDb, src);
      if( rc==CV_OK ) rc = CV_DB;                  /* the structure record cannot vanish */
    }
    db_reset(pSt);
  }
  free(aBefore);
  return rc;
}

cv_rc search_index_check(struct cv_db *pDb, struct cv_buf *r, int64_t *pnBad){
  static const char zBuild[] =
    "PRAGMA query_only=0;"                       /* TEMP only: the file is opened read-only */
    "CREATE VIRTUAL TABLE temp.cv_check_index USING fts5(body, content='', columnsize=0,"
    " tokenize='chatvault');"
    /* as schema.sql's version 12 fills the index: titles, then messages in segment order */
    "INSERT INTO temp.cv_check_index(rowid, body)"
    " SELECT rid, body FROM search_titles ORDER BY rid;"
    "INSERT INTO temp.cv_check_index(rowid, body)"
    " SELECT rid, body FROM search_messages WHERE body IS NOT NULL ORDER BY seg_id;"
    "CREATE VIRTUAL TABLE temp.cv_check_have USING fts5vocab(main, search_index, 'row');"
    "CREATE VIRTUAL TABLE temp.cv_check_want USING fts5vocab(temp, cv_check_index, 'row');";
  static const char zDiff[] =
    "SELECT term, sum(h), sum(w) FROM ("
    "  SELECT term, doc AS h, cnt AS hc, 0 AS w, 0 AS wc FROM temp.cv_check_have"
    "  UNION ALL SELECT term, 0, 0, doc, cnt FROM temp.cv_check_want)"
    " GROUP BY term HAVING sum(h) <> sum(w) OR sum(hc) <> sum(wc)";
  static const char zDrop[] =
    "DROP TABLE IF EXISTS temp.cv_check_have; DROP TABLE IF EXISTS temp.cv_check_want;"
    "DROP TABLE IF EXISTS temp.cv_check_index; PRAGMA query_only=1;";
  cv_stmt *pSt;
  int src;
  int64_t nBad = 0;
  cv_rc rc = db_exec(pDb, zBuild);
  *pnBad = 0;
  if( rc==CV_OK ) rc = db_stmt(pDb, zDiff, &pSt);
  if( rc==CV_OK ){
    while( (src = db_step(pSt))==SQLITE_ROW ){
      if( ++nBad<=20 ){
        /* a term is "<user id>:<word>": the word of a user, as the report of a local admin */
        buf_appendf(r, "search index: term %s in %lld rows, the data has it in %lld\n",
                    (const char*)db_column_text(pSt, 0),
                    (long long)db_column_int64(pSt, 1), (long long)db_column_int64(pSt, 2));
      }
    }
    if( src!=SQLITE_DONE ) rc = db_rc(pDb, src);
    db_reset(pSt);
  }
  {
    cv_rc rcDrop = db_exec(pDb, zDrop);
    if( rc==CV_OK ) rc = rcDrop;
  }
  if( rc ) return rc;
  if( nBad ) buf_appendf(r, "search index: %lld terms differ from the data\n", (long long)nBad);
  else buf_appendf(r, "search index: ok\n");
  *pnBad = nBad;
  return CV_OK;
}
