/*
** store_fts.c — the "chatvault" FTS5 tokenizer (contract in store_fts.h): pairs of characters
** for scripts written without spaces, SQLite's unicode61 for the rest, every token prefixed
** by its owner. May call SQLite only.
*/
#include "store_fts.h"
#include "store_search.h"
#include "util.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct cv_fts_tok {
  fts5_tokenizer u61;            /* SQLite's unicode61 (its methods) */
  Fts5Tokenizer *pU61;           /* and our instance of it (remove_diacritics 2) */
};

/* The owner prefix "<user id>:" is at most 20 digits and a colon (tok_tokenize). */
#define FTS_PREFIX_MAX 21

/* Where the tokens of one call go: FTS5's callback, behind a prefix. */
struct emit {
  void *pCtx;
  int (*xToken)(void*, int, const char*, int, int, int);
  int nPre;                      /* the prefix "<user id>:" (none outside FTS5) ... */
  char aTok[FTS_PREFIX_MAX + FTS_TOKEN_MAX];  /* ... at aTok[0..nPre), each token after it */
  int iBase;                     /* added to every offset */
};

/* Decode the UTF-8 character at z[0..n) into *pc; its length in bytes (>=1). Bytes that are
** not valid UTF-8 decode as themselves (the text was validated; this only never overreads). */
static int utf8_char(const unsigned char *z, int n, unsigned *pc){
  unsigned c = z[0];
  int len, i;
  if( c<0x80 ){ *pc = c; return 1; }
  if( (c & 0xE0)==0xC0 ){ len = 2; c &= 0x1F; }
  else if( (c & 0xF0)==0xE0 ){ len = 3; c &= 0x0F; }
  else if( (c & 0xF8)==0xF0 ){ len = 4; c &= 0x07; }
  else { *pc = c; return 1; }
  if( len>n ){ *pc = z[0]; return 1; }
  for(i=1; i<len; i++){
    if( (z[i] & 0xC0)!=0x80 ){ *pc = z[0]; return 1; }
    c = (c<<6) | (z[i] & 0x3F);
  }
  *pc = c;
  return len;
}

/* Is c a character of a script written without spaces between words (indexed as pairs)? */
static int is_cjk(unsigned c){
  if( c<0x3005 ) return 0;
  return (c>=0x3005 && c<=0x3007)                   /* 々 〆 〇 */
      || (c>=0x3041 && c<=0x30FF && c!=0x30FB)      /* Hiragana, Katakana (not ・) */
      || (c>=0x31F0 && c<=0x31FF)                   /* Katakana phonetic extensions */
      || (c>=0x3400 && c<=0x4DBF)                   /* CJK extension A */
      || (c>=0x4E00 && c<=0x9FFF)                   /* CJK unified ideographs */
      || (c>=0xAC00 && c<=0xD7AF)                   /* Hangul syllables */
      || (c>=0xF900 && c<=0xFAFF)                   /* CJK compatibility ideographs */
      || (c>=0xFF66 && c<=0xFF9F)                   /* halfwidth Katakana */
      || (c>=0x20000 && c<=0x3134F);                /* CJK extensions B..G */
}

/* Hand token z[0..n) (byte range [iStart, iEnd) of the text) to FTS5, prefixed. */
static int emit_token(struct emit *e, int tflags, const char *z, int n, int iStart, int iEnd){
  assert( e->nPre>=0 && e->nPre<=FTS_PREFIX_MAX );
  if( n>FTS_TOKEN_MAX ) n = FTS_TOKEN_MAX;
  memcpy(e->aTok + e->nPre, z, (size_t)n);     /* the prefix stays in place: one copy */
  return e->xToken(e->pCtx, tflags, e->aTok, e->nPre + n, iStart + e->iBase, iEnd + e->iBase);
}

/* unicode61's tokens of a span that starts iOff bytes into the text. */
struct span { struct emit *e; int iOff; };
static int span_token(void *pCtx, int tflags, const char *z, int n, int iStart, int iEnd){
  struct span *s = pCtx;
  return emit_token(s->e, tflags, z, n, iStart + s->iOff, iEnd + s->iOff);
}

/* The tokens of the span u[0..n), iOff bytes into the text, which holds ASCII and characters
** of U+2000-U+2064 only (unicode61 takes U+2065-U+2069 into tokens), exactly as unicode61
** (its default categories L* N* Co) makes them: each run of ASCII letters and digits, in
** lower case; every other character separates. Written in place after the prefix (at most
** FTS_TOKEN_MAX bytes, as emit_token cuts). Most chat text is ASCII: this skips unicode61's
** per-character class lookup and its callback (test_store_fts compares the two). */
static int ascii_tokens(struct emit *e, const unsigned char *u, int n, int iOff){
  static const unsigned char aAlnum[256] = {
    ['0']=1,['1']=1,['2']=1,['3']=1,['4']=1,['5']=1,['6']=1,['7']=1,['8']=1,['9']=1,
    ['A']=2,['B']=2,['C']=2,['D']=2,['E']=2,['F']=2,['G']=2,['H']=2,['I']=2,['J']=2,
    ['K']=2,['L']=2,['M']=2,['N']=2,['O']=2,['P']=2,['Q']=2,['R']=2,['S']=2,['T']=2,
    ['U']=2,['V']=2,['W']=2,['X']=2,['Y']=2,['Z']=2,
    ['a']=1,['b']=1,['c']=1,['d']=1,['e']=1,['f']=1,['g']=1,['h']=1,['i']=1,['j']=1,
    ['k']=1,['l']=1,['m']=1,['n']=1,['o']=1,['p']=1,['q']=1,['r']=1,['s']=1,['t']=1,
    ['u']=1,['v']=1,['w']=1,['x']=1,['y']=1,['z']=1,
  };                   /* 1: a token character, 2: an upper-case one, 0: a separator's byte */
  char *a = e->aTok + e->nPre;
  int i = 0, rc = SQLITE_OK;
  while( rc==SQLITE_OK ){
    int k, m = 0;
    while( i<n && !aAlnum[u[i]] ) i++;
    if( i>=n ) break;
    for(k=i; i<n && aAlnum[u[i]]; i++){
      if( m<FTS_TOKEN_MAX ) a[m++] = (char)(aAlnum[u[i]]==2 ? u[i] + ('a' - 'A') : u[i]);
    }
    rc = e->xToken(e->pCtx, 0, e->aTok, e->nPre + m, iOff + k + e->iBase, iOff + i + e->iBase);
  }
  return rc;
}

/* Tokenize z[0..n) into e: spans of other scripts through unicode61 (those of ASCII and
** general punctuation by ascii_tokens, the same tokens), runs of CJK as pairs. */
static int tokenize(struct cv_fts_tok *p, struct emit *e, int flags, const char *z, int n){
  const unsigned char *u = (const unsigned char*)z;
  int i = 0, rc = SQLITE_OK;
  while( i<n && rc==SQLITE_OK ){
    unsigned c;
    int j = i, len = 0, bOther = 0;  /* the span holds more than ASCII and U+2000-U+2064 */
    while( j<n ){
      if( u[j]<0x80 ){ j++; continue; }
      if( u[j]==0xE2 && j+2<n && (u[j+2] & 0xC0)==0x80
       && (u[j+1]==0x80 || (u[j+1]==0x81 && u[j+2]<=0xA4)) ){
        j += 3;          /* U+2000-U+2064 (spaces, dashes, quotes): separators to both */
        continue;
      }
      /* every character is_cjk takes is 3 or 4 bytes in UTF-8, led by 0xE3 or above */
      if( u[j]<0xE3 ){ bOther = 1; j++; continue; }
      len = utf8_char(u+j, n-j, &c);
      if( is_cjk(c) ) break;
      bOther = 1;
      j += len;
    }
    if( j>i && !bOther ){
      rc = ascii_tokens(e, u+i, j-i, i);
      if( rc ) break;
    }else if( j>i ){
      struct span s;
      s.e = e;
      s.iOff = i;
      rc = p->u61.xTokenize(p->pU61, &s, flags, z+i, j-i, span_token);
      if( rc ) break;
    }
    if( j>=n ) break;
    {
      /* a run of CJK characters from j: each pair of neighbours, or the lone character */
      int iPrev = j, iCur = j + len, nChars = 1;
      while( iCur<n && rc==SQLITE_OK ){
        int l2 = utf8_char(u+iCur, n-iCur, &c);
        if( !is_cjk(c) ) break;
        rc = emit_token(e, 0, z+iPrev, iCur+l2-iPrev, iPrev, iCur+l2);
        iPrev = iCur;
        iCur += l2;
        nChars++;
      }
      if( rc==SQLITE_OK && nChars==1 ) rc = emit_token(e, 0, z+j, len, j, j+len);
      i = iCur;
    }
  }
  return rc;
}

/* ---- the FTS5 tokenizer methods */

static int tok_create(void *pUserData, const char **azArg, int nArg, Fts5Tokenizer **ppOut){
  static const char *azU61[] = { "remove_diacritics", "2" };
  fts5_api *pApi = pUserData;
  struct cv_fts_tok *p;
  void *pU61Data = NULL;
  int rc;
  (void)azArg;
  *ppOut = NULL;
  if( nArg!=0 ) return SQLITE_ERROR;       /* no options */
  p = calloc(1, sizeof *p);
  if( !p ) return SQLITE_NOMEM;
  rc = pApi->xFindTokenizer(pApi, "unicode61", &pU61Data, &p->u61);
  if( rc==SQLITE_OK ) rc = p->u61.xCreate(pU61Data, azU61, 2, &p->pU61);
  if( rc!=SQLITE_OK ){
    free(p);
    return rc;
  }
  *ppOut = (Fts5Tokenizer*)p;
  return SQLITE_OK;
}

static void tok_delete(Fts5Tokenizer *pTok){
  struct cv_fts_tok *p = (struct cv_fts_tok*)pTok;
  if( !p ) return;
  if( p->pU61 ) p->u61.xDelete(p->pU61);
  free(p);
}

/* Inside FTS5: the text starts with the owner marker "\x01<digits>\x01" (else: no token). */
static int tok_tokenize(Fts5Tokenizer *pTok, void *pCtx, int flags, const char *pText, int nText,
                        int (*xToken)(void*, int, const char*, int, int, int)){
  struct cv_fts_tok *p = (struct cv_fts_tok*)pTok;
  struct emit e;
  int i = 1;
  if( nText<3 || pText[0]!='\x01' ) return SQLITE_OK;
  while( i<nText && i<=20 && pText[i]>='0' && pText[i]<='9' ) i++;
  if( i==1 || i>=nText || pText[i]!='\x01' ) return SQLITE_OK;
  e.pCtx = pCtx;
  e.xToken = xToken;
  memcpy(e.aTok, pText+1, (size_t)(i-1));       /* at most 20 digits (the loop above) */
  e.aTok[i-1] = ':';
  e.nPre = i;
  e.iBase = i+1;
  return tokenize(p, &e, flags, pText+i+1, nText-i-1);
}

fts5_api *fts_api(sqlite3 *db){
  fts5_api *pApi = NULL;
  sqlite3_stmt *pSt = NULL;
  if( sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &pSt, NULL)!=SQLITE_OK ) return NULL;
  sqlite3_bind_pointer(pSt, 1, (void*)&pApi, "fts5_api_ptr", NULL);
  sqlite3_step(pSt);
  sqlite3_finalize(pSt);
  return pApi;
}

int fts_register(sqlite3 *db){
  fts5_tokenizer t;
  fts5_api *pApi = fts_api(db);
  if( !pApi ) return SQLITE_ERROR;
  t.xCreate = tok_create;
  t.xDelete = tok_delete;
  t.xTokenize = tok_tokenize;
  return pApi->xCreateTokenizer(pApi, "chatvault", (void*)pApi, &t, NULL);
}

int fts_tok_open(sqlite3 *db, struct cv_fts_tok **ppTok){
  fts5_api *pApi = fts_api(db);
  Fts5Tokenizer *p = NULL;
  int rc;
  *ppTok = NULL;
  if( !pApi ) return SQLITE_ERROR;
  rc = tok_create(pApi, NULL, 0, &p);
  if( rc==SQLITE_OK ) *ppTok = (struct cv_fts_tok*)p;
  return rc;
}

void fts_tok_close(struct cv_fts_tok *pTok){
  tok_delete((Fts5Tokenizer*)pTok);
}

/* fts_tokenize's tokens reach the caller's callback without FTS5's flags argument. */
struct plain { cv_fts_token_fn xToken; void *pCtx; };
static int plain_token(void *pCtx, int tflags, const char *z, int n, int iStart, int iEnd){
  struct plain *q = pCtx;
  (void)tflags;
  return q->xToken(q->pCtx, z, n, iStart, iEnd);
}

int fts_tokenize(struct cv_fts_tok *pTok, int flags, const char *zText, int nText,
                 cv_fts_token_fn xToken, void *pCtx){
  struct plain q;
  struct emit e;
  assert( pTok && nText>=0 );
  q.xToken = xToken;
  q.pCtx = pCtx;
  e.pCtx = &q;
  e.xToken = plain_token;
  e.nPre = 0;
  e.iBase = 0;
  return tokenize(pTok, &e, flags, zText, nText);
}

cv_rc fts_match_expr(int64_t userId, const struct cv_phrase *a, int n, struct cv_buf *pBuf){
  cv_rc rc = CV_OK;
  int i;
  for(i=0; i<n && rc==CV_OK; i++){
    const char *z = a[i].z, *zEnd = a[i].z + a[i].n;
    if( i ) rc = buf_append(pBuf, " ", 1);
    if( rc==CV_OK ) rc = buf_append(pBuf, "\"\x01", 2);
    if( rc==CV_OK ) rc = buf_append_int(pBuf, userId);
    if( rc==CV_OK ) rc = buf_append(pBuf, "\x01", 1);
    while( rc==CV_OK && z<zEnd ){
      const char *q = memchr(z, '"', (size_t)(zEnd-z));
      const char *zStop = q ? q+1 : zEnd;
      rc = buf_append(pBuf, z, (size_t)(zStop-z));
      if( rc==CV_OK && q ) rc = buf_append(pBuf, "\"", 1);   /* '"' doubled */
      z = zStop;
    }
    if( rc==CV_OK ) rc = buf_append(pBuf, a[i].bPrefix ? "\"*" : "\"", a[i].bPrefix ? 2 : 1);
  }
  if( rc==CV_OK ) rc = buf_append(pBuf, "", 0);
  return rc;
}
