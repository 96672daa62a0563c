/*
** fuzz_dqwire.c — the decoders of dqlite's answers in the cluster's client (src/dqclient.c):
** ROWS messages (dq_parse_rows, fed one or more bodies as one query's answer) and SERVERS
** (dq_parse_servers), on any bytes. The first input byte picks the decoder and how the rest is
** cut into messages (ROWS: bodies of (b & 0x0f) + 1 words each).
** Properties, not only crashes: every value read lies inside the decoder's own copy of the
** bodies (text NUL-terminated there), a row has exactly nCol values of a known type, no more
** rows than the bytes could hold; a failure leaves nothing behind (dq_rows_free frees all);
** members' addresses are terminated and at most DQ_ADDR_MAX bytes. Every input is also read as
** a FAILURE body (dq_parse_failure, both readings): its message stays terminated in its buffer.
*/
#include "fuzz_common.h"
#include "dqclient.h"
#include "sqlite3.h"

#include <stdint.h>

/* does [z, z+n) lie inside one of the nBase copies of the bodies (aBase[i], aLen[i] bytes)? */
static int inside(const char *z, size_t n, const size_t *aLen, const unsigned char **aBase,
                  int nBase){
  int i;
  for(i=0; i<nBase; i++){
    if( (const unsigned char*)z>=aBase[i] && (const unsigned char*)z + n<=aBase[i] + aLen[i] ){
      return 1;
    }
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size){
  if( size<1 ) return 0;
  {
    /* FAILURE bodies (either reading): the message terminated, within its buffer */
    uint64_t code;
    char z[64];
    dq_parse_failure(data + 1, size - 1, data[0] & 1, &code, z, sizeof z);
    FZ_CHECK( strlen(z) < sizeof z );
  }
  if( data[0] & 0x80 ){
    struct dq_node *a = NULL;
    int n = -1, i;
    cv_rc rc = dq_parse_servers(data + 1, size - 1, &a, &n);
    FZ_CHECK( rc==CV_OK || rc==CV_INVALID );
    if( rc==CV_OK ){
      FZ_CHECK( n>=0 && (size_t)n*24<=size );
      for(i=0; i<n; i++) FZ_CHECK( strlen(a[i].zAddr)<=DQ_ADDR_MAX );
    }else{
      FZ_CHECK( a==NULL && n==0 );
    }
    free(a);
  }else{
    struct dq_rows r;
    size_t per = ((size_t)(data[0] & 0x0f) + 1)*8, off = 1, nTotal = 0;
    const unsigned char *aBase[64];
    size_t aLen[64];
    int nBase = 0, bDone = 0;
    cv_rc rc = CV_OK;
    memset(&r, 0, sizeof r);
    while( off<size && !bDone && nBase<64 ){
      size_t n = size - off < per ? size - off : per;
      rc = dq_parse_rows(data + off, n, &r, &bDone);
      FZ_CHECK( rc==CV_OK || rc==CV_INVALID );
      nTotal += n;
      off += n;
      if( rc ) break;
      if( r.pChunk ){
        /* the copy just made heads p's chunk list; struct dq_chunk is private: its bytes
        ** follow its next pointer */
        aBase[nBase] = (const unsigned char*)r.pChunk + sizeof(void*);
        aLen[nBase] = n;
        nBase++;
      }
    }
    if( rc==CV_OK ){
      size_t i;
      FZ_CHECK( r.nRow==0 || r.nCol>0 );
      FZ_CHECK( r.nRow*8<=nTotal );                 /* a row takes a header word at least */
      for(i=0; i<r.nRow*(size_t)r.nCol; i++){
        const struct dq_value *v = &r.a[i];
        FZ_CHECK( v->type==SQLITE_INTEGER || v->type==SQLITE_FLOAT || v->type==SQLITE_TEXT
               || v->type==SQLITE_BLOB || v->type==SQLITE_NULL );
        if( v->type==SQLITE_TEXT ){
          FZ_CHECK( inside(v->z, v->n + 1, aLen, aBase, nBase) && v->z[v->n]==0 );
          FZ_CHECK( strlen(v->z)==v->n );
        }
        if( v->type==SQLITE_BLOB && v->n ) FZ_CHECK( inside(v->z, v->n, aLen, aBase, nBase) );
      }
      for(i=0; i<(size_t)r.nCol && r.azCol; i++){
        FZ_CHECK( inside(r.azCol[i], strlen(r.azCol[i]) + 1, aLen, aBase, nBase) );
      }
    }
    dq_rows_free(&r);
  }
  return 0;
}
