/* test_store_fts.c — unit tests of src/store_fts.c: the "chatvault" tokenizer's tokens
** (accents and case folded, CJK runs as pairs), its owner marker inside FTS5, and MATCH
** expressions that keep users apart and never fail. */
#include "tinytest.h"
#include "store_fts.h"
#include "store_search.h"
#include "util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sqlite3 *db;

/* The tokens of z (plain, no marker) as "tok@start-end tok@..." */
struct col { char z[8192]; size_t n; };
static int collect(void *pCtx, const char *zTok, int nTok, int iStart, int iEnd){
  struct col *c = pCtx;
  if( c->n >= sizeof c->z - 1 ) return 0;              /* full: the rest is left out */
  c->n += (size_t)snprintf(c->z + c->n, sizeof c->z - c->n, "%s%.*s@%d-%d", c->n ? " " : "",
                           nTok, zTok, iStart, iEnd);
  return 0;
}
static const char *tokens(struct cv_fts_tok *p, const char *z){
  static struct col c;
  c.n = 0;
  c.z[0] = 0;
  TT_CHECK( fts_tokenize(p, FTS5_TOKENIZE_DOCUMENT, z, (int)strlen(z), collect, &c)==SQLITE_OK );
  return c.z;
}

static void tokens_fold_and_pair(void){
  struct cv_fts_tok *p = NULL;
  TT_CHECK( fts_tok_open(db, &p)==SQLITE_OK && p );
  TT_CHECK( strcmp(tokens(p, "Café CRÈME"), "cafe@0-5 creme@6-12")==0 );
  TT_CHECK( strcmp(tokens(p, "東京都"), "東京@0-6 京都@3-9")==0 );
  TT_CHECK( strcmp(tokens(p, "猫"), "猫@0-3")==0 );
  TT_CHECK( strcmp(tokens(p, "Tokyo東京tower"), "tokyo@0-5 東京@5-11 tower@11-16")==0 );
  TT_CHECK( strcmp(tokens(p, "タワー・ビル"), "タワ@0-6 ワー@3-9 ビル@12-18")==0 );
  TT_CHECK( strcmp(tokens(p, "한국어"), "한국@0-6 국어@3-9")==0 );
  TT_CHECK( strcmp(tokens(p, "... !!"), "")==0 );
  /* the scan for CJK skips every byte below 0xE3 at once: 2-byte letters, U+2000-U+2FFF
  ** (led by 0xE2), other 3-byte letters and 4-byte characters next to CJK ones */
  TT_CHECK( strcmp(tokens(p, "été東京Ωmega"), "ete@0-5 東京@5-11 ωmega@11-17")==0 );
  TT_CHECK( strcmp(tokens(p, "a\xE2\x80\x94東京\xE2\x80\x94" "b"), "a@0-1 東京@4-10 b@13-14")==0 );
  TT_CHECK( strcmp(tokens(p, "\xEA\xB0\x80\xE2\x82\xAC"), "\xEA\xB0\x80@0-3")==0 );   /* 가€ */
  TT_CHECK( strcmp(tokens(p, "x\xF0\xA0\x80\x80\xF0\xA0\x80\x81y"),
                   "x@0-1 \xF0\xA0\x80\x80\xF0\xA0\x80\x81@1-9 y@9-10")==0 );  /* 𠀀𠀁 */
  TT_CHECK( strcmp(tokens(p, "\xFF東京\xE3"), "東京@1-7")==0 );   /* bytes that are not UTF-8 */
  fts_tok_close(p);
}

static int count(const char *zMatch){
  sqlite3_stmt *pSt;
  int n = 0, src;
  TT_CHECK( sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?1", -1, &pSt,
                               NULL)==SQLITE_OK );
  sqlite3_bind_text(pSt, 1, zMatch, -1, SQLITE_STATIC);
  src = sqlite3_step(pSt);
  TT_CHECK( src==SQLITE_ROW );
  if( src==SQLITE_ROW ) n = sqlite3_column_int(pSt, 0);
  sqlite3_finalize(pSt);
  return n;
}

/* count() of what user userId typed, through fts_match_expr */
static int typed(int64_t userId, const char *z, int bPrefix){
  struct cv_phrase ph;
  struct cv_buf b;
  int n;
  ph.z = z;
  ph.n = (int)strlen(z);
  ph.bPrefix = bPrefix;
  buf_init(&b, 4096);
  TT_CHECK( fts_match_expr(userId, &ph, 1, &b)==CV_OK );
  n = count(b.a);
  buf_free(&b);
  return n;
}

static void marker_keeps_users_apart(void){
  TT_CHECK( sqlite3_exec(db,
    "CREATE VIRTUAL TABLE t USING fts5(body, content='', columnsize=0, tokenize='chatvault');"
    "INSERT INTO t(rowid, body) VALUES"
    " (1, char(1)||'7'||char(1)||'Un café au lait'),"
    " (2, char(1)||'7'||char(1)||'東京タワーに行きました'),"
    " (3, char(1)||'70'||char(1)||'cafe of user seventy'),"
    " (4, 'no marker: café'),"
    " (5, char(1)||'7'||char(1)||'a \"quoted\" word and e-mail');",
    NULL, NULL, NULL)==SQLITE_OK );
  TT_CHECK( typed(7, "cafe", 0)==1 );           /* not user 70's, not the unmarked row */
  TT_CHECK( typed(70, "CAFÉ", 0)==1 );
  TT_CHECK( typed(8, "cafe", 0)==0 );
  TT_CHECK( typed(7, "caf", 1)==1 );
  TT_CHECK( typed(7, "caf", 0)==0 );
  TT_CHECK( typed(7, "タワー", 0)==1 );
  TT_CHECK( typed(7, "京タ", 0)==1 );
  TT_CHECK( typed(7, "大阪", 0)==0 );
  TT_CHECK( typed(7, "\"quoted\"", 0)==1 );      /* quotes inside a phrase are text */
  TT_CHECK( typed(7, "e-mail", 0)==1 );
  TT_CHECK( typed(7, "au lait", 0)==1 );
  TT_CHECK( typed(7, "lait au", 0)==0 );         /* a phrase is in order */
  TT_CHECK( count("cafe")==0 );                  /* no marker: nothing matches */
  /* as schema.sql's version 12 deletes: with the text the row was indexed with */
  TT_CHECK( sqlite3_exec(db, "INSERT INTO t(t, rowid, body) VALUES('delete', 1,"
                         " char(1)||'7'||char(1)||'Un café au lait')", NULL, NULL, NULL)==SQLITE_OK );
  TT_CHECK( typed(7, "cafe", 0)==0 );
  TT_CHECK( typed(7, "lait", 0)==0 );
  TT_CHECK( typed(70, "cafe", 0)==1 );           /* user 70's row is untouched */
  TT_CHECK( sqlite3_exec(db, "INSERT INTO t(t) VALUES('integrity-check')", NULL, NULL,
                         NULL)==SQLITE_OK );
}

/* unicode61's own tokens (remove_diacritics 2, as the tokenizer creates it) of z[0..n), each
** cut at FTS_TOKEN_MAX bytes as the tokenizer cuts every token. */
static fts5_tokenizer u61;               /* unicode61's methods, and our instance of it */
static Fts5Tokenizer *pU61;
static int u61_collect(void *pCtx, int tflags, const char *z, int n, int iStart, int iEnd){
  (void)tflags;
  return collect(pCtx, z, n<FTS_TOKEN_MAX ? n : FTS_TOKEN_MAX, iStart, iEnd);  /* as emit_token */
}
static const char *u61_tokens(const char *z, int n){
  static struct col c;
  c.n = 0;
  c.z[0] = 0;
  TT_CHECK( u61.xTokenize(pU61, &c, FTS5_TOKENIZE_DOCUMENT, z, n, u61_collect)==SQLITE_OK );
  return c.z;
}

/* Text of ASCII and general punctuation (U+2000-U+2064) is tokenized without unicode61
** (ascii_tokens): the same tokens and offsets as unicode61's, on every ASCII character, case,
** digits, long runs (cut at FTS_TOKEN_MAX bytes) and random strings, some with characters of
** U+1FF0-U+207F (around the range: unicode61 takes U+2065-U+2069 and letters on both sides). */
static void ascii_tokens_are_unicode61s(void){
  struct cv_fts_tok *p = NULL;
  char z[400];
  unsigned x = 12345;
  static const char *azArg[] = { "remove_diacritics", "2" };
  fts5_api *pApi = fts_api(db);
  void *pData = NULL;
  int i, k, nDiff = 0;
  TT_CHECK( fts_tok_open(db, &p)==SQLITE_OK && p );
  TT_CHECK( pApi && pApi->xFindTokenizer(pApi, "unicode61", &pData, &u61)==SQLITE_OK );
  TT_CHECK( u61.xCreate(pData, azArg, 2, &pU61)==SQLITE_OK );
  for(i=1; i<128; i++){                       /* each character between two letters */
    char *zA;
    z[0] = 'a'; z[1] = (char)i; z[2] = 'B'; z[3] = 0;
    zA = strdup(tokens(p, z));
    if( strcmp(zA, u61_tokens(z, 3))!=0 ){
      printf("    0x%02x: ours '%s', unicode61 '%s'\n", i, zA, u61_tokens(z, 3));
      nDiff++;
    }
    free(zA);
  }
  for(i=0x1FF0; i<0x2080; i++){               /* each character of U+1FF0-U+207F, the same */
    char *zA;
    z[0] = 'a';
    z[1] = (char)(0xE0 | (i>>12));
    z[2] = (char)(0x80 | ((i>>6) & 0x3F));
    z[3] = (char)(0x80 | (i & 0x3F));
    z[4] = 'B';
    z[5] = 0;
    zA = strdup(tokens(p, z));
    if( strcmp(zA, u61_tokens(z, 5))!=0 ){
      printf("    U+%04X: ours '%s', unicode61 '%s'\n", i, zA, u61_tokens(z, 5));
      nDiff++;
    }
    free(zA);
  }
  for(k=0; k<2000; k++){                      /* random strings, some with long runs */
    int n = (int)((x = x*1103515245u + 12345u) >> 16) % 300;
    char *zA;
    for(i=0; i<n; i++){
      unsigned r = (x = x*1103515245u + 12345u) >> 16;
      z[i] = (k%4==0) ? "aZ9"[r%3] : (char)(1 + r%127);
      if( k%3==1 && r%8==0 && i+3<n ){       /* a character of U+1FF0-U+207F */
        unsigned c = 0x1FF0 + (r>>3)%0x90;
        z[i++] = (char)(0xE0 | (c>>12));
        z[i++] = (char)(0x80 | ((c>>6) & 0x3F));
        z[i] = (char)(0x80 | (c & 0x3F));
      }
    }
    z[n] = 0;
    n = (int)strlen(z);
    zA = strdup(tokens(p, z));
    if( strcmp(zA, u61_tokens(z, n))!=0 && nDiff++<3 ){
      printf("    '%s': ours '%s', unicode61 '%s'\n", z, zA, u61_tokens(z, n));
    }
    free(zA);
  }
  TT_CHECK( nDiff==0 );
  u61.xDelete(pU61);
  fts_tok_close(p);
}

int main(void){
  if( sqlite3_open(":memory:", &db)!=SQLITE_OK || fts_register(db)!=SQLITE_OK ) return 1;
  TT_RUN(tokens_fold_and_pair);
  TT_RUN(marker_keeps_users_apart);
  TT_RUN(ascii_tokens_are_unicode61s);
  sqlite3_close(db);
  return TT_DONE();
}
