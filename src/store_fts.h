/*
** store_fts.h — the "chatvault" FTS5 tokenizer of the search index (schema version 6).
**
** What it emits, for the text it is given:
**   - runs of Han, Hiragana, Katakana and Hangul characters (scripts written without spaces)
**     as overlapping pairs of characters ("東京都" -> "東京", "京都"; a lone character as
**     itself), as Lucene's CJK analyzer does, so that any run of 2 or more characters of a
**     message is found by a phrase of the same pairs;
**   - everything else as SQLite's unicode61 tokenizer with remove_diacritics 2 makes it:
**     words, folded to lower case and stripped of accents ("Café" -> "cafe"); spans of only
**     ASCII and U+2000-U+2064 are cut here, to the same tokens, without calling unicode61.
** Inside FTS5 (indexing a row or a phrase of a MATCH) the text must begin with the owner
** marker "\x01<user id>\x01", which is not tokenized: every token is emitted as
** "<user id>:<token>", so one user's terms are never another's (a query of user 7 can only
** reach rows indexed for user 7, and its doclists hold only user 7's rows). Text without a
** valid marker yields no token at all. The marker is written by schema.sql's triggers
** (char(1) || user_id || char(1) || text) and by store_search.c's MATCH expressions.
**
** Part of the SQLite backend; implemented in store_fts.c, tested by tests/unit/test_store_fts.c.
*/
#ifndef CV_STORE_FTS_H
#define CV_STORE_FTS_H

#include <sqlite3.h>

/* Register the tokenizer on connection db (every connection, before any statement that
** may write the search index: the schema's triggers do). SQLITE_OK or an SQLite error. */
int fts_register(sqlite3 *db);

/* The fts5_api of db (NULL when FTS5 is missing): what fts_register registers with, and
** where SQLite's own tokenizers are found (test_store_fts compares with unicode61). */
fts5_api *fts_api(sqlite3 *db);

/* A tokenizer instance for use outside FTS5 (the highlighter of store_search.c). One per
** connection; not thread-safe (use it only while holding its connection). */
struct cv_fts_tok;
int fts_tok_open(sqlite3 *db, struct cv_fts_tok **ppTok);
void fts_tok_close(struct cv_fts_tok *pTok);

/* Tokenize zText (nText bytes, no owner marker) as FTS5 would with flags (FTS5_TOKENIZE_*)
** but without any prefix: xToken gets each token and its byte range [iStart, iEnd) in zText.
** xToken returning non-zero stops it; that value is returned. */
typedef int (*cv_fts_token_fn)(void *pCtx, const char *zTok, int nTok, int iStart, int iEnd);
int fts_tokenize(struct cv_fts_tok *pTok, int flags, const char *zText, int nText,
                 cv_fts_token_fn xToken, void *pCtx);

/* The MATCH expression finding phrases a[0..n) (all of them, in any order) among user
** userId's rows, into pBuf (NUL-terminated): each phrase an FTS5 string, "\x01<userId>\x01"
** and the phrase's text with '"' doubled, followed by '*' when it is a prefix phrase; joined by
** spaces. Whatever the phrases hold is text to FTS5, never syntax (a phrase of no token is
** ignored by FTS5; with none at all, nothing matches). CV_OK or CV_NOMEM or CV_TOOLARGE from pBuf. */
struct cv_phrase;
struct cv_buf;
#include "cv.h"
#include <stdint.h>
cv_rc fts_match_expr(int64_t userId, const struct cv_phrase *a, int n, struct cv_buf *pBuf);

/* Apply the changes that schema.sql's triggers queued in search_queue to search_index, in
** one pass in rowid order, and empty the queue: called by the writer (db.c) inside every write
** transaction just before its COMMIT, so the index changes in the same transaction as the
** data. Cheap when nothing is queued (one probe). Implemented in store_search.c. */
struct cv_db;
cv_rc search_index_flush(struct cv_db *pDb);

/* One step of merging the index's segments, inside the caller's write transaction: FTS5's
** 'merge' with nPages (> 0) leaves to write at most, which merges the level holding the most
** segments once it holds usermerge (2, schema.sql version 14) or more, or goes on with a
** merge under way. *pbWorked is set when it merged something (FTS5 then rewrote its structure
** record; when not, nothing is left to merge until the index is written again). The writer
** (db.c) calls it while no job waits. Implemented in store_search.c. */
cv_rc search_index_merge(struct cv_db *pDb, int nPages, int *pbWorked);

/* `chatvault check`'s look at the search index (schema version 12 or later), on a connection
** opened read-only: build a second index of what the file holds (every message and title,
** in a TEMP table with the same tokenizer) and compare the two term by term (fts5vocab: rows
** and occurrences of each term). The index is deleted from with the texts it was indexed with
** (schema.sql, version 12), so a change that reached it with another text leaves a term
** behind: this finds it. Appends its finding ("search index: ok", or the first differing
** terms and their count) to pReport; *pnBad is the number of differing terms. The TEMP
** tables are dropped again. Implemented in store_search.c. */
cv_rc search_index_check(struct cv_db *pDb, struct cv_buf *pReport, int64_t *pnBad);

/* The longest token emitted, in bytes (longer words are cut, on both sides alike). */
#define FTS_TOKEN_MAX 128

#endif /* CV_STORE_FTS_H */
