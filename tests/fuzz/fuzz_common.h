/*
** fuzz_common.h — small helpers shared by the libFuzzer harnesses in tests/fuzz/.
** A failed property aborts (libFuzzer then saves the input as a crash).
*/
#ifndef CV_FUZZ_COMMON_H
#define CV_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_CHECK(x) do{ if( !(x) ){ \
  fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #x); abort(); } }while(0)

/* A NUL-terminated copy of data[0..n) (the fuzzer's input is not terminated). */
static inline char *fz_strndup(const unsigned char *data, size_t n){
  char *z = malloc(n + 1);
  if( !z ) abort();
  memcpy(z, data, n);
  z[n] = 0;
  return z;
}

/* Reference UTF-8 validator (decode, then check the code point's range): different code
** from util_utf8_valid, so the two can be compared. NUL is rejected like util's. */
static inline int fz_utf8_ref(const unsigned char *z, size_t n, size_t *pnChars){
  size_t i = 0, nc = 0;
  while( i<n ){
    unsigned c = z[i], cp, need, k;
    if( c==0 ) return 0;
    if( c<0x80 ){ i++; nc++; continue; }
    if( (c>>5)==0x6 ){ need = 1; cp = c & 0x1F; }
    else if( (c>>4)==0xE ){ need = 2; cp = c & 0x0F; }
    else if( (c>>3)==0x1E ){ need = 3; cp = c & 0x07; }
    else return 0;
    if( i + need >= n ) return 0;   /* the sequence must fit */
    for(k=1; k<=need; k++){
      if( (z[i+k] & 0xC0)!=0x80 ) return 0;
      cp = (cp<<6) | (z[i+k] & 0x3F);
    }
    if( need==1 && cp<0x80 ) return 0;
    if( need==2 && cp<0x800 ) return 0;
    if( need==3 && cp<0x10000 ) return 0;
    if( cp>0x10FFFF || (cp>=0xD800 && cp<=0xDFFF) ) return 0;
    i += need + 1;
    nc++;
  }
  if( pnChars ) *pnChars = nc;
  return 1;
}

#endif
