/*
** fuzz_card.c — character cards as uploaded to POST /api/characters/import: card_parse
** (card.c) on any bytes (PNG chunk walking, base64, JSON, mapping). Properties, not only
** crashes (ASan sees any read outside the exact-size input copy, LeakSanitizer any leak):
**   - CV_OK: a name of 1..CV_NAME_MAX_CHARS characters with no surrounding white space, a
**     description and a greeting within their limits, all valid UTF-8 without NUL; the image
**     type is "image/png" exactly when the input starts with the PNG signature, and then
**     card_picture_type agrees; no 422 entry was added;
**   - CV_INVALID: at least one entry, and the card is empty (never a partial character);
**   - nothing else but CV_NOMEM (CV_TOOLARGE cannot happen under libFuzzer's -max_len).
** The input is also wrapped as a PNG's `chara` or `ccv3` chunk (first byte picks), so the
** JSON behind base64 is reached without the fuzzer having to find CRCs.
*/
#include "fuzz_common.h"
#include "card.h"
#include "util.h"
#include "validate.h"

#include <sodium.h>
#include <stdint.h>

/* CRC-32 of a[0..n) (bit by bit: independent of card.c's table). */
static uint32_t crc(const unsigned char *a, size_t n){
  uint32_t c = 0xFFFFFFFFu;
  size_t i;
  int k;
  for(i=0; i<n; i++){
    c ^= a[i];
    for(k=0; k<8; k++) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
  }
  return ~c;
}

/* v big-endian into p[0..4). */
static void put32(unsigned char *p, uint32_t v){
  p[0] = (unsigned char)(v>>24); p[1] = (unsigned char)(v>>16);
  p[2] = (unsigned char)(v>>8);  p[3] = (unsigned char)v;
}

/* Append chunk zType with data a[0..n) at p; returns the bytes written. */
static size_t put_chunk(unsigned char *p, const char *zType, const void *a, size_t n){
  put32(p, (uint32_t)n);
  memcpy(p + 4, zType, 4);
  if( n ) memcpy(p + 8, a, n);
  put32(p + 8 + n, crc(p + 4, n + 4));
  return 12 + n;
}

/* 1 when z starts or ends with ASCII white space. */
static int has_edge_space(const char *z){
  size_t n = strlen(z);
  if( n==0 ) return 0;
  return z[0]==' ' || z[0]=='\t' || z[0]=='\n' || z[0]=='\r'
      || z[n-1]==' ' || z[n-1]=='\t' || z[n-1]=='\n' || z[n-1]=='\r';
}

/* Parse a[0..n) (an exact-size heap copy) and check the properties. */
static void check(const unsigned char *a, size_t n){
  struct cv_card c;
  struct cv_verr e;
  cv_rc rc;
  int bPng = n>=8 && memcmp(a, "\x89PNG\r\n\x1a\n", 8)==0;
  verr_init(&e);
  rc = card_parse(a, n, &c, &e);
  if( rc==CV_OK ){
    size_t nName;
    FZ_CHECK( e.n==0 );
    FZ_CHECK( c.zName && c.zDescription && c.zGreeting && c.zSpec );
    nName = util_utf8_chars(c.zName);
    FZ_CHECK( nName>=1 && nName<=CV_NAME_MAX_CHARS && !has_edge_space(c.zName) );
    FZ_CHECK( util_utf8_valid(c.zName, strlen(c.zName)) );
    FZ_CHECK( c.zDescription[0]==0 || util_utf8_valid(c.zDescription, strlen(c.zDescription)) );
    FZ_CHECK( c.zGreeting[0]==0 || util_utf8_valid(c.zGreeting, strlen(c.zGreeting)) );
    FZ_CHECK( util_utf8_chars(c.zDescription)<=CV_DESCRIPTION_MAX_CHARS );
    FZ_CHECK( util_utf8_chars(c.zGreeting)<=CV_GREETING_MAX_CHARS );
    FZ_CHECK( (c.zImageType!=NULL)==bPng );
    if( bPng ){
      FZ_CHECK( strcmp(c.zImageType, "image/png")==0 );
      FZ_CHECK( card_picture_type(a, n) && strcmp(card_picture_type(a, n), "image/png")==0 );
      FZ_CHECK( c.eSource==CARD_SRC_PNG_CHARA || c.eSource==CARD_SRC_PNG_CCV3 );
    }else{
      FZ_CHECK( c.eSource==CARD_SRC_JSON );
    }
  }else if( rc==CV_INVALID ){
    FZ_CHECK( e.n>=1 || e.bNoMem );
    FZ_CHECK( !c.zName && !c.zDescription && !c.zGreeting );
  }else{
    FZ_CHECK( rc==CV_NOMEM );
  }
  card_clear(&c);
  verr_free(&e);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n){
  static const unsigned char aIhdr[13] = { 0,0,0,1, 0,0,0,1, 8, 6, 0, 0, 0 };
  unsigned char *a = malloc(n ? n : 1), *pPng, *pText;
  size_t nB64, nText, k;
  char *zB64;
  if( !a ) abort();
  if( n ) memcpy(a, data, n);
  check(a, n);                                           /* the bytes as sent */
  free(a);
  if( n==0 ) return 0;
  /* the rest of the input as the JSON of a chunk named by the first byte */
  nB64 = sodium_base64_ENCODED_LEN(n - 1, sodium_base64_VARIANT_ORIGINAL);
  zB64 = malloc(nB64);
  pText = malloc(5 + 1 + nB64);
  if( !zB64 || !pText ) abort();
  sodium_bin2base64(zB64, nB64, data + 1, n - 1, sodium_base64_VARIANT_ORIGINAL);
  nText = (data[0] & 1) ? 5 : 4;
  memcpy(pText, (data[0] & 1) ? "chara" : "ccv3", nText);
  pText[nText++] = 0;
  memcpy(pText + nText, zB64, strlen(zB64));
  nText += strlen(zB64);
  pPng = malloc(8 + 25 + 12 + nText + 12);                /* exact: ASan sees an over-read */
  if( !pPng ) abort();
  memcpy(pPng, "\x89PNG\r\n\x1a\n", 8);
  k = 8;
  k += put_chunk(pPng + k, "IHDR", aIhdr, sizeof aIhdr);
  k += put_chunk(pPng + k, "tEXt", pText, nText);
  k += put_chunk(pPng + k, "IEND", NULL, 0);
  check(pPng, k);
  free(zB64);
  free(pText);
  free(pPng);
  return 0;
}
