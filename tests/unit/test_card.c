/* test_card.c — unit tests of src/card.c: picture types from magic bytes, JSON cards (V1, V2,
** V3, text-generation-webui) and their mapping, PNG cards (ccv3 over chara, base64 variants),
** limits and cuts at character boundaries, and refusals: every truncation of a PNG card, bad
** CRCs, bad base64, bad JSON, wrong types, each with its 422 entry. */
#include "tinytest.h"
#include "card.h"
#include "validate.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* ---- building PNGs ----------------------------------------------------------------------- */

/* CRC-32 bit by bit (a different implementation from card.c's table). */
static unsigned long crc_ref(const unsigned char *a, size_t n){
  unsigned long c = 0xFFFFFFFFul;
  size_t i;
  int k;
  for(i=0; i<n; i++){
    c ^= a[i];
    for(k=0; k<8; k++) c = (c & 1) ? (c >> 1) ^ 0xEDB88320ul : c >> 1;
  }
  return c ^ 0xFFFFFFFFul;
}

struct png { unsigned char a[8192]; size_t n; };

/* v big-endian into p[0..4). */
static void put32(unsigned char *p, unsigned long v){
  p[0] = (unsigned char)(v>>24); p[1] = (unsigned char)(v>>16);
  p[2] = (unsigned char)(v>>8);  p[3] = (unsigned char)v;
}

/* Append a chunk (type zType, data a[0..n)); bBadCrc: a wrong CRC. */
static void add_chunk(struct png *p, const char *zType, const void *a, size_t n, int bBadCrc){
  unsigned char *q = p->a + p->n;
  put32(q, (unsigned long)n);
  memcpy(q + 4, zType, 4);
  if( n ) memcpy(q + 8, a, n);
  put32(q + 8 + n, crc_ref(q + 4, n + 4) ^ (bBadCrc ? 1u : 0u));
  p->n += 12 + n;
}

/* The signature and a 1x1 IHDR. */
static void png_start(struct png *p){
  static const unsigned char aIhdr[13] = { 0,0,0,1, 0,0,0,1, 8, 6, 0, 0, 0 };
  memcpy(p->a, "\x89PNG\r\n\x1a\n", 8);
  p->n = 8;
  add_chunk(p, "IHDR", aIhdr, sizeof aIhdr, 0);
}

/* A tEXt chunk zKey = base64(zJson); variant: a sodium_base64_VARIANT_* */
static void add_card(struct png *p, const char *zKey, const char *zJson, int variant){
  char zB64[4096], zText[4200];
  size_t nKey = strlen(zKey), nB64;
  sodium_bin2base64(zB64, sizeof zB64, (const unsigned char*)zJson, strlen(zJson), variant);
  nB64 = strlen(zB64);
  memcpy(zText, zKey, nKey);
  zText[nKey] = 0;
  memcpy(zText + nKey + 1, zB64, nB64);
  add_chunk(p, "tEXt", zText, nKey + 1 + nB64, 0);
}

/* The IEND chunk. */
static void png_end(struct png *p){
  add_chunk(p, "IEND", NULL, 0, 0);
}

/* ---- helpers ----------------------------------------------------------------------------- */

/* card_parse on a[0..n) with a fresh pErr. */
static cv_rc parse(const void *a, size_t n, struct cv_card *c, struct cv_verr *e){
  verr_init(e);
  return card_parse((const unsigned char*)a, n, c, e);
}

/* parse() on a C string. */
static cv_rc parse_str(const char *z, struct cv_card *c, struct cv_verr *e){
  return parse(z, strlen(z), c, e);
}

/* 1 when the first error's loc, joined with '.', is zLoc. */
static int first_loc_is(const struct cv_verr *e, const char *zLoc){
  const cJSON *pErr = e->pList ? cJSON_GetArrayItem(e->pList, 0) : NULL;
  const cJSON *pLoc = pErr ? cJSON_GetObjectItemCaseSensitive(pErr, "loc") : NULL;
  const cJSON *p;
  char z[128] = "";
  if( !pLoc ) return 0;
  cJSON_ArrayForEach(p, pLoc){
    if( z[0] ) strcat(z, ".");
    if( cJSON_IsString(p) ) strncat(z, p->valuestring, sizeof z - strlen(z) - 1);
  }
  return strcmp(z, zLoc)==0;
}

/* Expect CV_INVALID with the first entry at zLoc and an empty card. */
static int refused_at(cv_rc rc, struct cv_verr *e, struct cv_card *c, const char *zLoc){
  int ok = rc==CV_INVALID && e->n>=1 && first_loc_is(e, zLoc) && !c->zName && !c->zDescription
           && !c->zGreeting;
  verr_free(e);
  return ok;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void picture_types(void){
  TT_CHECK( strcmp(card_picture_type((const unsigned char*)"\x89PNG\r\n\x1a\nxx", 10), "image/png")==0 );
  TT_CHECK( strcmp(card_picture_type((const unsigned char*)"\xFF\xD8\xFF\xE0", 4), "image/jpeg")==0 );
  TT_CHECK( strcmp(card_picture_type((const unsigned char*)"GIF89a", 6), "image/gif")==0 );
  TT_CHECK( strcmp(card_picture_type((const unsigned char*)"GIF87a", 6), "image/gif")==0 );
  TT_CHECK( strcmp(card_picture_type((const unsigned char*)"RIFF\1\0\0\0WEBPVP8 ", 16), "image/webp")==0 );
  TT_CHECK( card_picture_type((const unsigned char*)"RIFF\1\0\0\0WAVE", 12)==NULL );
  TT_CHECK( card_picture_type((const unsigned char*)"\x89PNG\r\n\x1a", 7)==NULL );
  TT_CHECK( card_picture_type((const unsigned char*)"<svg/>", 6)==NULL );
  TT_CHECK( card_picture_type(NULL, 0)==NULL );
}

static void json_cards(void){
  struct cv_card c;
  struct cv_verr e;
  /* V1, all three parts of the description, trimmed */
  TT_CHECK( parse_str("{\"name\":\" Mia \",\"description\":\"A cat.\\r\\nGrey.\","
                      "\"personality\":\" shy \",\"scenario\":\"Home\",\"first_mes\":\"Mew\","
                      "\"mes_example\":\"<START>\"}", &c, &e)==CV_OK );
  TT_CHECK( strcmp(c.zName, "Mia")==0 );
  TT_CHECK( strcmp(c.zDescription, "A cat.\r\nGrey.\n\nPersonality: shy\n\nScenario: Home")==0 );
  TT_CHECK( strcmp(c.zGreeting, "Mew")==0 );
  TT_CHECK( c.zImageType==NULL && c.eSource==CARD_SRC_JSON && strcmp(c.zSpec, "v1")==0 );
  card_clear(&c);
  verr_free(&e);
  /* V2: data wins over the mirrored top level; nulls are absent */
  TT_CHECK( parse_str("\xEF\xBB\xBF{\"spec\":\"chara_card_v2\",\"name\":\"Top\",\"data\":{\"name\":"
                      "\"Inner\",\"description\":null,\"scenario\":\"S\"}}", &c, &e)==CV_OK );
  TT_CHECK( strcmp(c.zName, "Inner")==0 && strcmp(c.zDescription, "Scenario: S")==0 );
  TT_CHECK( strcmp(c.zGreeting, "")==0 && strcmp(c.zSpec, "chara_card_v2")==0 );
  card_clear(&c);
  verr_free(&e);
  TT_CHECK( parse_str("{\"spec\":\"chara_card_v3\",\"data\":{\"name\":\"Three\"}}", &c, &e)==CV_OK );
  TT_CHECK( strcmp(c.zName, "Three")==0 && strcmp(c.zSpec, "chara_card_v3")==0 );
  card_clear(&c);
  verr_free(&e);
  /* text-generation-webui */
  TT_CHECK( parse_str("{\"char_name\":\"Chi\",\"char_persona\":\"Nerd\",\"char_greeting\":\"Hey\","
                      "\"world_scenario\":\"\",\"example_dialogue\":\"...\"}", &c, &e)==CV_OK );
  TT_CHECK( strcmp(c.zName, "Chi")==0 && strcmp(c.zDescription, "Nerd")==0 );
  TT_CHECK( strcmp(c.zGreeting, "Hey")==0 && strcmp(c.zSpec, "textgen")==0 );
  card_clear(&c);
  verr_free(&e);
}

static void cuts(void){
  struct cv_card c;
  struct cv_verr e;
  size_t i, n = 0;
  char *z = malloc(200000);
  TT_CHECK( z!=NULL );
  if( !z ) return;
  /* name: 101 two-byte characters -> 100; description: 20001 three-byte characters -> 20000 */
  n += (size_t)sprintf(z, "{\"name\":\"");
  for(i=0; i<101; i++){ memcpy(z + n, "\xC3\xA9", 2); n += 2; }
  n += (size_t)sprintf(z + n, "\",\"description\":\"");
  for(i=0; i<20001; i++){ memcpy(z + n, "\xE4\xB8\xAD", 3); n += 3; }
  n += (size_t)sprintf(z + n, "\",\"first_mes\":\"");
  for(i=0; i<10001; i++){ memcpy(z + n, "\xF0\x9F\x98\x80", 4); n += 4; }
  n += (size_t)sprintf(z + n, "\"}");
  TT_CHECK( parse(z, n, &c, &e)==CV_OK );
  TT_CHECK( c.zName && strlen(c.zName)==200 );
  TT_CHECK( c.zDescription && strlen(c.zDescription)==60000 );
  TT_CHECK( c.zGreeting && strlen(c.zGreeting)==40000 );
  card_clear(&c);
  verr_free(&e);
  free(z);
}

static void png_cards(void){
  struct png p;
  struct cv_card c;
  struct cv_verr e;
  size_t n;
  /* chara then ccv3 (keyword in another case): ccv3 wins */
  png_start(&p);
  add_card(&p, "chara", "{\"name\":\"Two\"}", sodium_base64_VARIANT_ORIGINAL);
  add_card(&p, "CcV3", "{\"spec\":\"chara_card_v3\",\"data\":{\"name\":\"Three\"}}",
           sodium_base64_VARIANT_ORIGINAL);
  png_end(&p);
  TT_CHECK( parse(p.a, p.n, &c, &e)==CV_OK );
  TT_CHECK( c.zName && strcmp(c.zName, "Three")==0 );
  TT_CHECK( c.eSource==CARD_SRC_PNG_CCV3 && c.zImageType && strcmp(c.zImageType, "image/png")==0 );
  card_clear(&c);
  verr_free(&e);
  /* unpadded base64, bytes after IEND ignored */
  png_start(&p);
  add_card(&p, "chara", "{\"name\":\"Pad\"}", sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  png_end(&p);
  memcpy(p.a + p.n, "trailing", 8);
  TT_CHECK( parse(p.a, p.n + 8, &c, &e)==CV_OK && strcmp(c.zName, "Pad")==0 );
  TT_CHECK( c.eSource==CARD_SRC_PNG_CHARA );
  card_clear(&c);
  verr_free(&e);
  /* every truncation is refused, never read past */
  png_start(&p);
  add_card(&p, "chara", "{\"name\":\"Cut\"}", sodium_base64_VARIANT_ORIGINAL);
  png_end(&p);
  for(n=0; n<p.n; n++){
    unsigned char *a = malloc(n ? n : 1);       /* exact size: ASan sees any over-read */
    cv_rc rc;
    if( !a ){ TT_CHECK( 0 ); return; }
    memcpy(a, p.a, n);
    rc = parse(a, n, &c, &e);
    TT_CHECK( rc==CV_INVALID && !c.zName );
    verr_free(&e);
    free(a);
  }
  TT_CHECK( parse(p.a, p.n, &c, &e)==CV_OK );
  card_clear(&c);
  verr_free(&e);
}

static void refusals(void){
  struct png p;
  struct cv_card c;
  struct cv_verr e;
  unsigned char *pBig;
  /* no card chunk */
  png_start(&p);
  add_chunk(&p, "tEXt", "Comment\0hi", 10, 0);
  png_end(&p);
  TT_CHECK( refused_at(parse(p.a, p.n, &c, &e), &e, &c, "body") );
  /* bad CRC */
  png_start(&p);
  add_chunk(&p, "tEXt", "chara\0e30=", 10, 1);
  png_end(&p);
  TT_CHECK( refused_at(parse(p.a, p.n, &c, &e), &e, &c, "body") );
  /* bad base64, base64 of not JSON, JSON not an object, missing name */
  png_start(&p);
  add_chunk(&p, "tEXt", "chara\0***", 9, 0);
  png_end(&p);
  TT_CHECK( refused_at(parse(p.a, p.n, &c, &e), &e, &c, "body.chara") );
  png_start(&p);
  add_card(&p, "ccv3", "{nope", sodium_base64_VARIANT_ORIGINAL);
  png_end(&p);
  TT_CHECK( refused_at(parse(p.a, p.n, &c, &e), &e, &c, "body.ccv3") );
  png_start(&p);
  add_card(&p, "chara", "[1]", sodium_base64_VARIANT_ORIGINAL);
  png_end(&p);
  TT_CHECK( refused_at(parse(p.a, p.n, &c, &e), &e, &c, "body.chara") );
  png_start(&p);
  add_card(&p, "chara", "{\"spec\":\"chara_card_v2\",\"data\":{}}", sodium_base64_VARIANT_ORIGINAL);
  png_end(&p);
  TT_CHECK( refused_at(parse(p.a, p.n, &c, &e), &e, &c, "body.chara.data.name") );
  /* JSON bodies */
  TT_CHECK( refused_at(parse_str("", &c, &e), &e, &c, "body") );
  TT_CHECK( refused_at(parse_str("[]", &c, &e), &e, &c, "body") );
  TT_CHECK( refused_at(parse_str("{\"name\":\"   \"}", &c, &e), &e, &c, "body.name") );
  TT_CHECK( refused_at(parse_str("{\"name\":true}", &c, &e), &e, &c, "body.name") );
  TT_CHECK( refused_at(parse_str("{\"name\":\"a\",\"scenario\":1}", &c, &e), &e, &c, "body.scenario") );
  TT_CHECK( refused_at(parse_str("{\"spec\":\"chara_card_v2\",\"data\":[]}", &c, &e), &e, &c, "body.data") );
  TT_CHECK( refused_at(parse_str("{\"spec\":\"chara_card_v3\"}", &c, &e), &e, &c, "body.data") );
  TT_CHECK( refused_at(parse_str("{\"name\":\"a\\u0000\"}", &c, &e), &e, &c, "body") );
  TT_CHECK( refused_at(parse_str("{\"name\":\"\xFF\"}", &c, &e), &e, &c, "body") );
  /* over the card limit: refused before reading */
  pBig = calloc(CARD_MAX_BYTES + 1, 1);
  TT_CHECK( pBig!=NULL );
  if( pBig ){
    verr_init(&e);
    TT_CHECK( card_parse(pBig, CARD_MAX_BYTES + 1, &c, &e)==CV_TOOLARGE && e.n==0 );
    verr_free(&e);
    free(pBig);
  }
  card_clear(NULL);
}

int main(void){
  TT_RUN(picture_types);
  TT_RUN(json_cards);
  TT_RUN(cuts);
  TT_RUN(png_cards);
  TT_RUN(refusals);
  return TT_DONE();
}
