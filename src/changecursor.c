/*
** changecursor.c — see changecursor.h. One AES-128 block, encrypted or decrypted alone (ECB
** of a single block: a keyed permutation of 128-bit values, which is what a cursor needs; no
** two cursors share a block, since (user id, seq) never repeats).
*/
#include "changecursor.h"

#include <openssl/evp.h>
#include <sodium.h>
#include <string.h>

/* One block through AES-128 under aKey, forward (bEncrypt) or back. 1 on success. */
static int aes_block(const unsigned char aKey[CV_CHANGES_KEY_LEN], int bEncrypt,
                     const unsigned char aIn[16], unsigned char aOut[16]){
  EVP_CIPHER_CTX *pCtx = EVP_CIPHER_CTX_new();
  int n1 = 0, n2 = 0, ok;
  if( !pCtx ) return 0;
  ok = EVP_CipherInit_ex(pCtx, EVP_aes_128_ecb(), NULL, aKey, NULL, bEncrypt)==1
    && EVP_CIPHER_CTX_set_padding(pCtx, 0)==1
    && EVP_CipherUpdate(pCtx, aOut, &n1, aIn, 16)==1
    && EVP_CipherFinal_ex(pCtx, aOut + n1, &n2)==1
    && n1 + n2==16;
  EVP_CIPHER_CTX_free(pCtx);
  return ok;
}

static void put64(unsigned char *a, uint64_t v){
  int i;
  for(i=0; i<8; i++) a[i] = (unsigned char)(v >> (8*i));
}

static uint64_t get64(const unsigned char *a){
  uint64_t v = 0;
  int i;
  for(i=7; i>=0; i--) v = (v << 8) | a[i];
  return v;
}

cv_rc changecursor_encode(const unsigned char aKey[CV_CHANGES_KEY_LEN], int64_t userId,
                          int64_t seq, char *zOut){
  unsigned char aPlain[16], aCipher[16];
  put64(aPlain, (uint64_t)userId);
  put64(aPlain + 8, (uint64_t)seq);
  if( seq<0 || !aes_block(aKey, 1, aPlain, aCipher) ){
    zOut[0] = 0;
    return seq<0 ? CV_INVALID : CV_NOMEM;
  }
  sodium_bin2base64(zOut, CV_CHANGE_CURSOR_CHARS + 1, aCipher, sizeof aCipher,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return CV_OK;
}

cv_rc changecursor_decode(const unsigned char aKey[CV_CHANGES_KEY_LEN], int64_t userId,
                          const char *z, int64_t *pSeq){
  unsigned char aCipher[16], aPlain[16];
  char zBack[CV_CHANGE_CURSOR_CHARS + 1];
  size_t n = 0;
  uint64_t seq;
  *pSeq = 0;
  if( strlen(z)!=CV_CHANGE_CURSOR_CHARS ) return CV_INVALID;
  if( sodium_base642bin(aCipher, sizeof aCipher, z, CV_CHANGE_CURSOR_CHARS, NULL, &n, NULL,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING)!=0 || n!=sizeof aCipher ){
    return CV_INVALID;
  }
  /* one text per cursor: the last character's unused bits must be zero */
  sodium_bin2base64(zBack, sizeof zBack, aCipher, sizeof aCipher,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  if( memcmp(zBack, z, CV_CHANGE_CURSOR_CHARS)!=0 ) return CV_INVALID;
  if( !aes_block(aKey, 0, aCipher, aPlain) ) return CV_INVALID;
  seq = get64(aPlain + 8);
  if( get64(aPlain)!=(uint64_t)userId || seq>(uint64_t)INT64_MAX ) return CV_INVALID;
  *pSeq = (int64_t)seq;
  return CV_OK;
}
