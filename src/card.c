/*
** card.c — character cards: PNG chunk walking, base64, the card's JSON and the mapping to a
** character (contract in card.h). Every length read from the input is checked against what
** is left before it is used; nothing is read past a[n-1].
** May call validate, tags, util, cJSON and libsodium (base64 only).
*/
#include "card.h"
#include "tags.h"
#include "util.h"
#include "validate.h"

#include <cJSON.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const unsigned char aPngSig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };

const char *card_picture_type(const unsigned char *a, size_t n){
  if( !a ) return NULL;
  if( n>=8 && memcmp(a, aPngSig, 8)==0 ) return "image/png";
  if( n>=3 && a[0]==0xFF && a[1]==0xD8 && a[2]==0xFF ) return "image/jpeg";
  if( n>=6 && (memcmp(a, "GIF87a", 6)==0 || memcmp(a, "GIF89a", 6)==0) ) return "image/gif";
  if( n>=12 && memcmp(a, "RIFF", 4)==0 && memcmp(a + 8, "WEBP", 4)==0 ) return "image/webp";
  return NULL;
}

void card_clear(struct cv_card *p){
  if( !p ) return;
  free(p->zName);
  free(p->zDescription);
  free(p->zGreeting);
  memset(p, 0, sizeof *p);
}

/* ---- PNG -------------------------------------------------------------------------------- */

/* Big-endian 32-bit value at p (4 readable bytes). */
static uint32_t be32(const unsigned char *p){
  return ((uint32_t)p[0]<<24) | ((uint32_t)p[1]<<16) | ((uint32_t)p[2]<<8) | (uint32_t)p[3];
}

/* The CRC-32 (ISO 3309, as PNG uses) of a[0..n) continued from crc (start with 0). aTab is
** the table made by crc_table. */
static uint32_t crc32_update(const uint32_t *aTab, uint32_t crc, const unsigned char *a, size_t n){
  size_t i;
  crc = ~crc;
  for(i=0; i<n; i++) crc = aTab[(crc ^ a[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

/* Fill aTab[256] for crc32_update. */
static void crc_table(uint32_t *aTab){
  uint32_t c, k, i;
  for(i=0; i<256; i++){
    c = i;
    for(k=0; k<8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    aTab[i] = c;
  }
}

/* A text chunk found by png_walk: its text after the keyword's NUL, or z NULL when none. */
struct png_text { const char *z; size_t n; };

/* Add a 422 entry about the container (loc "body", type zType, message zMsg). */
static void body_error(struct cv_verr *pErr, const char *zType, const char *zMsg){
  verr_add(pErr, "body", zType, zMsg);
}

/* Walk the PNG a[0..n) (signature already matched): every chunk's length within the input,
** type made of ASCII letters, CRC right; IHDR first, IEND at the end. Sets *pChara and *pCcv3
** to the first tEXt chunk of each keyword. 1 ok; 0 with an entry added to pErr. */
static int png_walk(const unsigned char *a, size_t n, struct png_text *pChara,
                    struct png_text *pCcv3, struct cv_verr *pErr){
  uint32_t aTab[256];
  size_t off = 8;
  int iChunk = 0;
  char zMsg[160];
  crc_table(aTab);
  pChara->z = pCcv3->z = NULL;
  pChara->n = pCcv3->n = 0;
  for(;;){
    uint32_t len, crc;
    const unsigned char *pType, *pData;
    int i;
    if( n - off < 12 ){
      body_error(pErr, "png_invalid", iChunk==0 ? "Not a valid PNG: it ends after the signature"
                 : "Not a valid PNG: the file is truncated (it ends before its IEND chunk)");
      return 0;
    }
    len = be32(a + off);
    pType = a + off + 4;
    pData = a + off + 8;
    if( len > 0x7FFFFFFFu || (size_t)len > n - off - 12 ){
      snprintf(zMsg, sizeof zMsg, "Not a valid PNG: chunk %d claims %lu bytes, more than the"
               " file holds (truncated?)", iChunk + 1, (unsigned long)len);
      body_error(pErr, "png_invalid", zMsg);
      return 0;
    }
    for(i=0; i<4; i++){
      unsigned char c = pType[i];
      if( !((c>='A' && c<='Z') || (c>='a' && c<='z')) ){
        snprintf(zMsg, sizeof zMsg, "Not a valid PNG: chunk %d has an invalid type", iChunk + 1);
        body_error(pErr, "png_invalid", zMsg);
        return 0;
      }
    }
    crc = crc32_update(aTab, 0, pType, 4 + (size_t)len);
    if( crc!=be32(pData + len) ){
      snprintf(zMsg, sizeof zMsg, "Not a valid PNG: the CRC of chunk %d (%.4s) is wrong",
               iChunk + 1, (const char*)pType);
      body_error(pErr, "png_invalid", zMsg);
      return 0;
    }
    if( iChunk==0 && (memcmp(pType, "IHDR", 4)!=0 || len!=13) ){
      body_error(pErr, "png_invalid", "Not a valid PNG: it does not start with an IHDR chunk");
      return 0;
    }
    if( memcmp(pType, "tEXt", 4)==0 ){
      const unsigned char *pNul = memchr(pData, 0, len);
      size_t nKey = pNul ? (size_t)(pNul - pData) : 0;
      if( !pNul || nKey==0 || nKey>79 ){
        snprintf(zMsg, sizeof zMsg, "Not a valid PNG: the tEXt chunk %d has no keyword",
                 iChunk + 1);
        body_error(pErr, "png_invalid", zMsg);
        return 0;
      }
      if( nKey==5 && strncasecmp((const char*)pData, "chara", 5)==0 && !pChara->z ){
        pChara->z = (const char*)pNul + 1;
        pChara->n = len - nKey - 1;
      }else if( nKey==4 && strncasecmp((const char*)pData, "ccv3", 4)==0 && !pCcv3->z ){
        pCcv3->z = (const char*)pNul + 1;
        pCcv3->n = len - nKey - 1;
      }
    }
    off += 12 + (size_t)len;
    iChunk++;
    if( memcmp(pType, "IEND", 4)==0 ) return 1;     /* what follows IEND is ignored */
  }
}

/* Decode the base64 text z[0..n) (standard alphabet, padded or not, white space ignored) into
** a new buffer *ppOut of *pnOut bytes (NUL-terminated). CV_INVALID when it is not base64. */
static cv_rc base64_decode(const char *z, size_t n, unsigned char **ppOut, size_t *pnOut){
  static const int aVariant[] = { sodium_base64_VARIANT_ORIGINAL,
                                  sodium_base64_VARIANT_ORIGINAL_NO_PADDING };
  size_t nMax = n/4*3 + 3, i;
  unsigned char *p = malloc(nMax + 1);
  *ppOut = NULL;
  *pnOut = 0;
  if( !p ) return CV_NOMEM;
  for(i=0; i<sizeof aVariant/sizeof aVariant[0]; i++){
    size_t nOut = 0;
    const char *zEnd = NULL;
    if( sodium_base642bin(p, nMax, z, n, " \t\r\n", &nOut, &zEnd, aVariant[i])==0
     && zEnd==z+n ){
      p[nOut] = 0;
      *ppOut = p;
      *pnOut = nOut;
      return CV_OK;
    }
  }
  free(p);
  return CV_INVALID;
}

/* ---- JSON ------------------------------------------------------------------------------- */

/* A copy of z[0..n) trimmed of surrounding white space, cut to nMaxChars characters and
** trimmed again (a cut can end inside a run of spaces) (valid UTF-8 in, valid UTF-8 out).
** NULL when out of memory. */
static char *trimmed_copy(const char *z, size_t n, size_t nMaxChars){
  const char *zStart;
  size_t nTrim, nCut;
  char *zOut;
  tags_trim(z, n, &zStart, &nTrim);
  zOut = malloc(nTrim + 1);
  if( !zOut ) return NULL;
  memcpy(zOut, zStart, nTrim);
  zOut[nTrim] = 0;
  nCut = util_utf8_prefix_len(zOut, nMaxChars);
  tags_trim(zOut, nCut, &zStart, &nTrim);     /* zStart is zOut: it began with no space */
  zOut[nTrim] = 0;
  return zOut;
}

/* The fields of a card object in the names of one dialect. */
struct card_keys {
  const char *zName, *zDescription, *zPersonality, *zScenario, *zGreeting;
};
static const struct card_keys keysTavern = {
  "name", "description", "personality", "scenario", "first_mes"
};
static const struct card_keys keysTextgen = {
  "char_name", "char_persona", NULL, "world_scenario", "char_greeting"
};

/* Append "zLabel" + the trimmed text z as a paragraph of b (a blank line before it unless b is
** empty). Nothing when z trims to nothing. */
static cv_rc add_paragraph(struct cv_buf *b, const char *zLabel, const char *z){
  const char *zStart;
  size_t n;
  cv_rc rc = CV_OK;
  if( !z ) return CV_OK;
  tags_trim(z, strlen(z), &zStart, &n);
  if( n==0 ) return CV_OK;
  if( b->n>0 ) rc = buf_append(b, "\n\n", 2);
  if( rc==CV_OK && zLabel ) rc = buf_append(b, zLabel, strlen(zLabel));
  if( rc==CV_OK ) rc = buf_append(b, zStart, n);
  return rc;
}

/* Map the card object pObj (its fields at loc zLoc, named by k) into *pOut. CV_INVALID with
** entries added for a missing or empty name or a field that is not a string. */
static cv_rc map_fields(const cJSON *pObj, const char *zLoc, const struct card_keys *k,
                        struct cv_card *pOut, struct cv_verr *pErr){
  const char *zName = NULL, *zDesc = NULL, *zPers = NULL, *zScen = NULL, *zGreet = NULL;
  struct cv_buf b;
  cv_rc rc = CV_OK;
  int ok;
  ok = val_string(pErr, pObj, zLoc, k->zName, 0, (size_t)-1, 1, &zName)==1;
  ok &= val_string(pErr, pObj, zLoc, k->zDescription, 0, (size_t)-1, 0, &zDesc)>=0;
  if( k->zPersonality ) ok &= val_string(pErr, pObj, zLoc, k->zPersonality, 0, (size_t)-1, 0, &zPers)>=0;
  ok &= val_string(pErr, pObj, zLoc, k->zScenario, 0, (size_t)-1, 0, &zScen)>=0;
  ok &= val_string(pErr, pObj, zLoc, k->zGreeting, 0, (size_t)-1, 0, &zGreet)>=0;
  if( !ok ) return CV_INVALID;
  pOut->zName = trimmed_copy(zName, strlen(zName), CV_NAME_MAX_CHARS);
  if( !pOut->zName ) return CV_NOMEM;
  if( pOut->zName[0]==0 ){
    char zFull[64];
    snprintf(zFull, sizeof zFull, "%s.%s", zLoc, k->zName);
    verr_add(pErr, zFull, "string_too_short",
             "String should have at least 1 character (the card's name is empty)");
    return CV_INVALID;
  }
  buf_init(&b, (size_t)1 << 30);
  rc = add_paragraph(&b, NULL, zDesc);
  if( rc==CV_OK ) rc = add_paragraph(&b, "Personality: ", zPers);
  if( rc==CV_OK ) rc = add_paragraph(&b, "Scenario: ", zScen);
  if( rc==CV_OK ) rc = buf_append(&b, "", 1);          /* the NUL (and a buffer when empty) */
  if( rc ){ buf_free(&b); return rc; }
  b.a[util_utf8_prefix_len(b.a, CV_DESCRIPTION_MAX_CHARS)] = 0;
  pOut->zDescription = b.a;                             /* the buffer's memory, now ours */
  pOut->zGreeting = trimmed_copy(zGreet ? zGreet : "", zGreet ? strlen(zGreet) : 0,
                                 CV_GREETING_MAX_CHARS);
  return pOut->zGreeting ? CV_OK : CV_NOMEM;
}

/* Parse the JSON a[0..n) (from the body, or a PNG chunk's decoded text) as a card and map it.
** zLoc: "body" or "body.chara"/"body.ccv3"; zWhere names the source in messages. */
static cv_rc parse_json_card(const char *a, size_t n, const char *zLoc, const char *zWhere,
                             struct cv_card *pOut, struct cv_verr *pErr){
  struct cv_verr eTmp;
  cJSON *pRoot = NULL;
  const cJSON *pData, *pSpec;
  char zMsg[200], zDataLoc[32];
  cv_rc rc;
  if( n>=3 && memcmp(a, "\xEF\xBB\xBF", 3)==0 ){ a += 3; n -= 3; }
  verr_init(&eTmp);
  rc = val_parse_json(a, n, &eTmp, &pRoot);
  if( rc==CV_INVALID ){
    const cJSON *pFirst = eTmp.pList ? cJSON_GetArrayItem(eTmp.pList, 0) : NULL;
    const cJSON *pMsg = pFirst ? cJSON_GetObjectItemCaseSensitive(pFirst, "msg") : NULL;
    snprintf(zMsg, sizeof zMsg, "%s is not valid JSON: %s", zWhere,
             cJSON_IsString(pMsg) ? pMsg->valuestring : "decode error");
    verr_add(pErr, zLoc, "json_invalid", zMsg);
  }
  verr_free(&eTmp);
  if( rc ) return rc;
  if( !cJSON_IsObject(pRoot) ){
    snprintf(zMsg, sizeof zMsg, "%s should be a JSON object (a character card)", zWhere);
    verr_add(pErr, zLoc, "model_attributes_type", zMsg);
    cJSON_Delete(pRoot);
    return CV_INVALID;
  }
  pData = cJSON_GetObjectItemCaseSensitive(pRoot, "data");
  pSpec = cJSON_GetObjectItemCaseSensitive(pRoot, "spec");
  snprintf(zDataLoc, sizeof zDataLoc, "%s.data", zLoc);
  if( pSpec && !cJSON_IsString(pSpec) ){
    char zSpecLoc[32];
    snprintf(zSpecLoc, sizeof zSpecLoc, "%s.spec", zLoc);
    verr_add(pErr, zSpecLoc, "string_type", "Input should be a valid string");
    rc = CV_INVALID;
  }else if( cJSON_IsObject(pData) ){
    /* V2/V3: the fields are in data (SillyTavern mirrors V1 fields at the top: data wins) */
    pOut->zSpec = (pSpec && strcmp(pSpec->valuestring, "chara_card_v3")==0) ? "chara_card_v3"
                : "chara_card_v2";
    rc = map_fields(pData, zDataLoc, &keysTavern, pOut, pErr);
  }else if( pData && !cJSON_IsNull(pData) ){
    verr_add(pErr, zDataLoc, "model_attributes_type", "Input should be a valid dictionary or object");
    rc = CV_INVALID;
  }else if( pSpec && strncmp(pSpec->valuestring, "chara_card_v", 12)==0 ){
    verr_add(pErr, zDataLoc, "missing", "Field required (a V2/V3 card keeps its fields in data)");
    rc = CV_INVALID;
  }else if( cJSON_GetObjectItemCaseSensitive(pRoot, "char_name") ){
    pOut->zSpec = "textgen";
    rc = map_fields(pRoot, zLoc, &keysTextgen, pOut, pErr);
  }else{
    pOut->zSpec = "v1";
    rc = map_fields(pRoot, zLoc, &keysTavern, pOut, pErr);
  }
  cJSON_Delete(pRoot);
  return rc;
}

/* The card inside a PNG's text chunk t (keyword zKey): base64, then JSON. */
static cv_rc parse_chunk(const struct png_text *t, const char *zKey, struct cv_card *pOut,
                         struct cv_verr *pErr){
  unsigned char *pJson = NULL;
  size_t nJson = 0;
  char zLoc[16], zWhere[48], zMsg[96];
  cv_rc rc;
  snprintf(zLoc, sizeof zLoc, "body.%s", zKey);
  snprintf(zWhere, sizeof zWhere, "The PNG's %s chunk", zKey);
  rc = base64_decode(t->z, t->n, &pJson, &nJson);
  if( rc==CV_INVALID ){
    snprintf(zMsg, sizeof zMsg, "%s is not valid base64", zWhere);
    verr_add(pErr, zLoc, "base64_invalid", zMsg);
  }
  if( rc ) return rc;
  rc = parse_json_card((const char*)pJson, nJson, zLoc, zWhere, pOut, pErr);
  free(pJson);
  return rc;
}

cv_rc card_parse(const unsigned char *a, size_t n, struct cv_card *pOut, struct cv_verr *pErr){
  cv_rc rc;
  memset(pOut, 0, sizeof *pOut);
  if( n>CARD_MAX_BYTES ) return CV_TOOLARGE;
  if( n==0 || !a ){
    verr_add(pErr, "body", "missing", "Field required (send a character card: PNG or JSON)");
    return CV_INVALID;
  }
  if( n>=8 && memcmp(a, aPngSig, 8)==0 ){
    struct png_text tChara, tCcv3;
    if( !png_walk(a, n, &tChara, &tCcv3, pErr) ) return CV_INVALID;
    if( tCcv3.z ){
      rc = parse_chunk(&tCcv3, "ccv3", pOut, pErr);
      pOut->eSource = CARD_SRC_PNG_CCV3;
    }else if( tChara.z ){
      rc = parse_chunk(&tChara, "chara", pOut, pErr);
      pOut->eSource = CARD_SRC_PNG_CHARA;
    }else{
      body_error(pErr, "card_missing", "The PNG holds no character card (no tEXt chunk named"
                 " chara or ccv3)");
      rc = CV_INVALID;
    }
    pOut->zImageType = "image/png";
  }else{
    rc = parse_json_card((const char*)a, n, "body", "The card", pOut, pErr);
    pOut->eSource = CARD_SRC_JSON;
  }
  if( rc ) card_clear(pOut);
  return rc;
}
