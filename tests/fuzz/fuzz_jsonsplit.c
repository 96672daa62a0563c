/*
** fuzz_jsonsplit.c — the streaming splitter of import files (jsonsplit.c) on any bytes.
** Properties, not only crashes:
**   - the events do not depend on how the bytes arrive: the input fed whole and fed in
**     pieces (sizes taken from the input) gives the same events, texts and result;
**   - when cJSON reads the whole input as an array, the splitter accepts it and hands over
**     exactly its elements, each of which cJSON reads back equal to the element;
**   - a value over the limit is reported with its size, never handed over.
*/
#include "fuzz_common.h"
#include "jsonsplit.h"

#include <cJSON.h>
#include <stdint.h>

#define FZ_MAX_ITEM 512

struct log {
  unsigned long long h;          /* a hash of every event */
  int n;                         /* events */
  int nItem;                     /* top-level elements, handed over or too big */
  cJSON *pArr;                   /* the reference elements, or NULL */
  int bMismatch;
};

static void mix(struct log *p, const void *a, size_t n){
  const unsigned char *z = a;
  size_t i;
  for(i=0; i<n; i++) p->h = (p->h ^ z[i]) * 1099511628211ULL;
}

static cv_rc on_event(void *pCtx, enum jsplit_event e, enum jsplit_event eOf, const char *zKey,
                      const char *z, size_t n){
  struct log *p = pCtx;
  int k = (int)e*16 + (int)eOf;
  mix(p, &k, sizeof k);
  if( zKey ) mix(p, zKey, strlen(zKey)+1);
  mix(p, &n, sizeof n);
  p->n++;
  if( e==JSPLIT_TOOBIG ){
    FZ_CHECK( z==NULL && n>FZ_MAX_ITEM );
    if( eOf==JSPLIT_ITEM && !zKey ) p->nItem++;
    return CV_OK;
  }
  FZ_CHECK( z!=NULL && z[n]==0 && n<=FZ_MAX_ITEM );
  mix(p, z, n);
  if( e==JSPLIT_ITEM && !zKey && p->pArr ){
    cJSON *pRef = cJSON_GetArrayItem(p->pArr, p->nItem);
    cJSON *pGot = cJSON_ParseWithLength(z, n);
    /* compared as printed: cJSON_Compare calls two infinities different */
    char *zRef = pRef ? cJSON_PrintUnformatted(pRef) : NULL;
    char *zGot = pGot ? cJSON_PrintUnformatted(pGot) : NULL;
    if( !zRef || !zGot || strcmp(zRef, zGot)!=0 ) p->bMismatch = 1;
    free(zRef);
    free(zGot);
    cJSON_Delete(pGot);
  }
  if( e==JSPLIT_ITEM && !zKey ) p->nItem++;
  return CV_OK;
}

static cv_rc run(const uint8_t *data, size_t size, const uint8_t *aCut, size_t nCut,
                 struct log *pLog){
  static const char *const azSplit[] = { "threads", "history", NULL };
  struct jsplit *p = jsplit_new(FZ_MAX_ITEM, azSplit, on_event, pLog);
  size_t i = 0, k = 0;
  cv_rc rc = CV_OK;
  FZ_CHECK( p!=NULL );
  while( i<size && rc==CV_OK ){
    size_t n = nCut ? (size_t)(aCut[k++ % nCut] % 37) + 1 : size - i;
    if( n > size - i ) n = size - i;
    rc = jsplit_feed(p, (const char *)data + i, n);
    i += n;
  }
  if( rc==CV_OK ) rc = jsplit_finish(p);
  if( rc==CV_INVALID ) FZ_CHECK( jsplit_error(p)[0]!=0 );
  jsplit_free(p);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size){
  struct log a, b;
  cJSON *pArr = NULL;
  cv_rc rcA, rcB;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  {
    /* the reference: cJSON, on input it reads as JSON does (it also skips other control
    ** bytes as white space, so those inputs get no reference) */
    size_t i;
    int bPlain = size>0;
    for(i=0; i<size && bPlain; i++){
      if( data[i]<0x20 && data[i]!='\t' && data[i]!='\n' && data[i]!='\r' ) bPlain = 0;
    }
    if( bPlain ){
      char *z = fz_strndup(data, size);
      const char *zEnd = NULL;
      pArr = cJSON_ParseWithOpts(z, &zEnd, 1);
      if( pArr && !cJSON_IsArray(pArr) ){ cJSON_Delete(pArr); pArr = NULL; }
      free(z);
    }
  }
  a.pArr = pArr;
  rcA = run(data, size, NULL, 0, &a);
  rcB = run(data, size, data, size<16 ? size : 16, &b);
  FZ_CHECK( rcA==rcB );
  FZ_CHECK( a.h==b.h && a.n==b.n );
  if( pArr ){
    FZ_CHECK( rcA==CV_OK );
    FZ_CHECK( !a.bMismatch );
    FZ_CHECK( a.nItem==cJSON_GetArraySize(pArr) );
    cJSON_Delete(pArr);
  }
  return 0;
}
