/*
** jsonsplit.c — the streaming splitter of jsonsplit.h.
**
** A push state machine over bytes. Outside a value it knows where it is in the top two
** levels (the top-level array or object, a split member's array); inside a value it only
** matches brackets and strings (depth, in-string, escape), copying the value's bytes in spans
** (one memcpy per value per fed chunk). Invariants: p->n <= p->nMax while capturing (past it,
** bTooBig and nothing more is copied); p->depth >= 0; after an error p->rc is set and sticks.
*/
#include "jsonsplit.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum jstate {
  JS_START,          /* before the first value (BOM, white space) */
  JS_ARR_ELEM,       /* top-level array: before an element (or ']' when none yet) */
  JS_ARR_NEXT,       /* after an element: ',' or ']' */
  JS_OBJ_KEY,        /* top-level object: before a key (or '}' when none yet) */
  JS_KEY,            /* inside a key's quotes */
  JS_COLON,          /* after a key */
  JS_OBJ_VAL,        /* after the colon */
  JS_OBJ_NEXT,       /* after a member: ',' or '}' */
  JS_SARR_ELEM,      /* a split member's array: before an element (or ']') */
  JS_SARR_NEXT,      /* after its element: ',' or ']' */
  JS_AFTER,          /* after a top-level value: white space or another value */
  JS_VALUE           /* inside a value being handed over (see the cap* fields) */
};

struct jsplit {
  size_t nMax;                   /* largest value handed over */
  const char *const *azSplit;    /* split keys */
  jsplit_fn xEmit;
  void *pCtx;
  enum jstate e;
  int bAfterComma;               /* in *_ELEM / JS_OBJ_KEY: a ',' was just read */
  int bBomDone;                  /* the start was checked for a byte-order mark */
  int nBom;                      /* bytes of "\xEF\xBB\xBF" matched so far */
  int64_t off;                   /* bytes consumed */
  cv_rc rc;                      /* sticky error */
  char zErr[96];
  /* the key of the current top-level member */
  char zKey[JSPLIT_KEY_MAX+1];
  int nKey;
  int bKeyEsc;
  int bSplitMember;              /* the current member's array is split */
  /* the value being captured */
  enum jstate eRet;              /* state after it */
  enum jsplit_event eEvent;      /* what it is (ITEM, MEMBER, VALUE) */
  int64_t depth;                 /* open brackets */
  int bInStr, bEsc, bScalar;
  int bTooBig;
  int64_t nSize;                 /* its bytes so far (also past nMax) */
  char *a;                       /* its bytes (n of nAlloc), NUL-terminated when emitted */
  size_t n, nAlloc;
};

struct jsplit *jsplit_new(size_t nMax, const char *const *azSplit, jsplit_fn xEmit, void *pCtx){
  struct jsplit *p = calloc(1, sizeof *p);
  if( !p ) return NULL;
  p->nMax = nMax;
  p->azSplit = azSplit;
  p->xEmit = xEmit;
  p->pCtx = pCtx;
  p->e = JS_START;
  return p;
}

void jsplit_free(struct jsplit *p){
  if( !p ) return;
  free(p->a);
  free(p);
}

const char *jsplit_error(const struct jsplit *p){ return p->zErr; }
int64_t jsplit_offset(const struct jsplit *p){ return p->off; }

/* Record a structural error at byte offset iAt. Returns CV_INVALID. */
static cv_rc fail(struct jsplit *p, int64_t iAt, const char *zWhy){
  snprintf(p->zErr, sizeof p->zErr, "byte %lld: %s", (long long)iAt, zWhy);
  p->rc = CV_INVALID;
  return CV_INVALID;
}

static int is_ws(char c){ return c==' ' || c=='\t' || c=='\n' || c=='\r'; }

/* Is the current key one whose array is split? */
static int key_is_split(const struct jsplit *p){
  int i;
  if( !p->azSplit ) return 0;
  for(i=0; p->azSplit[i]; i++){
    if( strcmp(p->azSplit[i], p->zKey)==0 ) return 1;
  }
  return 0;
}

/* Append a[0..n) to the captured value, or only count it once over the limit. */
static cv_rc cap_append(struct jsplit *p, const char *a, size_t n){
  p->nSize += (int64_t)n;
  if( p->bTooBig ) return CV_OK;
  if( p->n + n > p->nMax ){
    p->bTooBig = 1;
    return CV_OK;
  }
  if( p->n + n + 1 > p->nAlloc ){
    size_t nNew = p->nAlloc ? p->nAlloc : 4096;
    char *aNew;
    while( nNew < p->n + n + 1 ) nNew *= 2;
    if( nNew > p->nMax + 1 ) nNew = p->nMax + 1;
    aNew = realloc(p->a, nNew);
    if( !aNew ){ p->rc = CV_NOMEM; return CV_NOMEM; }
    p->a = aNew;
    p->nAlloc = nNew;
  }
  memcpy(p->a + p->n, a, n);
  p->n += n;
  return CV_OK;
}

/* Begin capturing a value whose first byte is c (not yet consumed), to be emitted as eEvent,
** then continue in eRet. Returns CV_INVALID when c cannot start a value. */
static cv_rc cap_begin(struct jsplit *p, char c, enum jsplit_event eEvent, enum jstate eRet){
  p->depth = 0;
  p->bInStr = p->bEsc = p->bScalar = 0;
  p->bTooBig = 0;
  p->nSize = 0;
  p->n = 0;
  p->eEvent = eEvent;
  p->eRet = eRet;
  if( c=='{' || c=='[' ) p->depth = 0;      /* counted when the byte is consumed */
  else if( c=='"' ) p->depth = 0;
  else if( c=='-' || (c>='0' && c<='9') || c=='t' || c=='f' || c=='n' ) p->bScalar = 1;
  else return fail(p, p->off, "expected a value");
  p->e = JS_VALUE;
  return CV_OK;
}

/* The value is complete: hand it over, go on in its return state. */
static cv_rc cap_end(struct jsplit *p){
  const char *zKey = p->eEvent==JSPLIT_VALUE || (p->eEvent==JSPLIT_ITEM && !p->bSplitMember)
                     ? NULL : p->zKey;
  cv_rc rc;
  p->e = p->eRet;
  if( p->bTooBig ){
    rc = p->xEmit(p->pCtx, JSPLIT_TOOBIG, p->eEvent, zKey, NULL, (size_t)p->nSize);
  }else{
    if( !p->a ){
      p->a = malloc(1);
      if( !p->a ){ p->rc = CV_NOMEM; return CV_NOMEM; }
      p->nAlloc = 1;
    }
    p->a[p->n] = 0;
    rc = p->xEmit(p->pCtx, p->eEvent, p->eEvent, zKey, p->a, p->n);
  }
  /* a big buffer is not kept for the next (usually small) value */
  if( p->nAlloc > (size_t)1<<20 ){
    free(p->a);
    p->a = NULL;
    p->nAlloc = 0;
  }
  p->n = 0;
  if( rc ) p->rc = rc;
  return rc;
}

/* Consume value bytes from a[*pi..n): returns with *pi past the value's last byte (and the
** value emitted) or at n (more to come). A scalar ends before its delimiter, which is left
** for the return state. */
static cv_rc cap_run(struct jsplit *p, const char *a, size_t n, size_t *pi){
  size_t i = *pi, iSpan = *pi;
  int bDone = 0;
  cv_rc rc;
  while( i<n ){
    char c = a[i];
    if( p->bInStr ){
      /* fast path: ordinary string bytes */
      while( i<n && !p->bEsc && a[i]!='"' && a[i]!='\\' ) i++;
      if( i>=n ) break;
      c = a[i];
      if( p->bEsc ) p->bEsc = 0;
      else if( c=='\\' ) p->bEsc = 1;
      else{
        p->bInStr = 0;
        if( p->depth==0 ){ i++; bDone = 1; break; }
      }
      i++;
    }else if( p->bScalar ){
      if( is_ws(c) || c==',' || c==']' || c=='}' || c=='[' || c=='{' || c=='"' || c==':' ){
        bDone = 1;
        break;
      }
      i++;
    }else{
      if( c=='"' ) p->bInStr = 1;
      else if( c=='{' || c=='[' ) p->depth++;
      else if( c=='}' || c==']' ){
        p->depth--;
        if( p->depth==0 ){ i++; bDone = 1; break; }
      }
      i++;
    }
  }
  rc = cap_append(p, a+iSpan, i-iSpan);
  p->off += (int64_t)(i - *pi);
  *pi = i;
  if( rc ) return rc;
  return bDone ? cap_end(p) : CV_OK;
}

/* Consume one byte c of the structure around the values (not inside a value). */
static cv_rc step(struct jsplit *p, char c){
  switch( p->e ){
    case JS_START:
      if( is_ws(c) ) return CV_OK;
      if( c=='[' ){ p->e = JS_ARR_ELEM; p->bAfterComma = 0; return CV_OK; }
      if( c=='{' ){ p->e = JS_OBJ_KEY; p->bAfterComma = 0; return CV_OK; }
      return fail(p, p->off, "expected '[' or '{' at the start of the document");
    case JS_ARR_ELEM:
      if( is_ws(c) ) return CV_OK;
      if( c==']' && !p->bAfterComma ){ p->e = JS_AFTER; return CV_OK; }
      p->bSplitMember = 0;
      return cap_begin(p, c, JSPLIT_ITEM, JS_ARR_NEXT);
    case JS_ARR_NEXT:
      if( is_ws(c) ) return CV_OK;
      if( c==',' ){ p->e = JS_ARR_ELEM; p->bAfterComma = 1; return CV_OK; }
      if( c==']' ){ p->e = JS_AFTER; return CV_OK; }
      return fail(p, p->off, "expected ',' or ']' after an element");
    case JS_OBJ_KEY:
      if( is_ws(c) ) return CV_OK;
      if( c=='}' && !p->bAfterComma ){ p->e = JS_AFTER; return CV_OK; }
      if( c=='"' ){ p->e = JS_KEY; p->nKey = 0; p->bKeyEsc = 0; return CV_OK; }
      return fail(p, p->off, "expected a key");
    case JS_KEY:
      if( !p->bKeyEsc && c=='"' ){
        p->zKey[p->nKey] = 0;
        p->e = JS_COLON;
        return CV_OK;
      }
      p->bKeyEsc = !p->bKeyEsc && c=='\\';
      if( p->nKey>=JSPLIT_KEY_MAX ) return fail(p, p->off, "key too long");
      if( (unsigned char)c<0x20 ) return fail(p, p->off, "control character in a key");
      p->zKey[p->nKey++] = c;
      return CV_OK;
    case JS_COLON:
      if( is_ws(c) ) return CV_OK;
      if( c==':' ){ p->e = JS_OBJ_VAL; return CV_OK; }
      return fail(p, p->off, "expected ':' after a key");
    case JS_OBJ_VAL:
      if( is_ws(c) ) return CV_OK;
      if( c=='[' && key_is_split(p) ){
        p->bSplitMember = 1;
        p->e = JS_SARR_ELEM;
        p->bAfterComma = 0;
        return CV_OK;
      }
      p->bSplitMember = 0;
      return cap_begin(p, c, JSPLIT_MEMBER, JS_OBJ_NEXT);
    case JS_OBJ_NEXT:
      if( is_ws(c) ) return CV_OK;
      if( c==',' ){ p->e = JS_OBJ_KEY; p->bAfterComma = 1; return CV_OK; }
      if( c=='}' ){ p->e = JS_AFTER; return CV_OK; }
      return fail(p, p->off, "expected ',' or '}' after a member");
    case JS_SARR_ELEM:
      if( is_ws(c) ) return CV_OK;
      if( c==']' && !p->bAfterComma ){ p->e = JS_OBJ_NEXT; return CV_OK; }
      p->bSplitMember = 1;
      return cap_begin(p, c, JSPLIT_ITEM, JS_SARR_NEXT);
    case JS_SARR_NEXT:
      if( is_ws(c) ) return CV_OK;
      if( c==',' ){ p->e = JS_SARR_ELEM; p->bAfterComma = 1; return CV_OK; }
      if( c==']' ){ p->e = JS_OBJ_NEXT; return CV_OK; }
      return fail(p, p->off, "expected ',' or ']' after an element");
    case JS_AFTER:
      if( is_ws(c) ) return CV_OK;
      p->bSplitMember = 0;
      return cap_begin(p, c, JSPLIT_VALUE, JS_AFTER);
    case JS_VALUE:
      break;
  }
  assert( 0 );
  return fail(p, p->off, "internal state");
}

cv_rc jsplit_feed(struct jsplit *p, const char *a, size_t n){
  size_t i = 0;
  if( p->rc ) return p->rc;
  /* a UTF-8 byte-order mark, possibly split over calls */
  while( !p->bBomDone && i<n ){
    static const char zBom[] = "\xEF\xBB\xBF";
    if( a[i]==zBom[p->nBom] ){
      i++;
      p->off++;
      if( ++p->nBom==3 ) p->bBomDone = 1;
    }else{
      if( p->nBom ) return fail(p, p->off, "expected '[' or '{' at the start of the document");
      p->bBomDone = 1;
    }
  }
  while( i<n ){
    cv_rc rc;
    if( p->e==JS_VALUE ){
      rc = cap_run(p, a, n, &i);
      if( rc ) return rc;
      continue;
    }
    rc = step(p, a[i]);
    if( rc ) return rc;
    if( p->e==JS_VALUE ){
      /* cap_begin did not consume the value's first byte: cap_run will */
      if( !p->bScalar && a[i]=='"' ){
        p->bInStr = 1;
        rc = cap_append(p, a+i, 1);
        if( rc ) return rc;
        i++;
        p->off++;
      }
      continue;
    }
    i++;
    p->off++;
  }
  return CV_OK;
}

cv_rc jsplit_finish(struct jsplit *p){
  if( p->rc ) return p->rc;
  if( p->e==JS_VALUE && p->bScalar ){
    cv_rc rc = cap_end(p);
    if( rc ) return rc;
  }
  if( p->e==JS_AFTER ) return CV_OK;
  if( p->e==JS_START ) return fail(p, p->off, "the document is empty");
  return fail(p, p->off, "the document ends inside a value");
}
