/*
** fuzz_import_check.h — what the fuzz_import_<format> harnesses share: the input parsed by
** cJSON (nesting limited by CJSON_NESTING_LIMIT), given to imp_detect and to one reader of
** imp_formats.c, and the result checked:
**   - on CV_OK: zMessages is a JSON array of exactly nMessages objects holding only "role"
**     ("user"|"assistant") and "content" (a non-empty valid UTF-8 string), printed by cJSON to
**     the very same text; nBytes is its length; zSourceId is non-NULL valid UTF-8; the title
**     is NULL or 1..CV_TITLE_MAX_CHARS characters; times are NULL or contract times;
**     0 <= nSkip and the kept reasons are valid UTF-8; eKind is a thread or a chat;
**   - on any error: the struct is all zero (never a partly read conversation) and zWhy says
**     why.
** A failed property aborts (libFuzzer keeps the input).
*/
#ifndef CV_FUZZ_IMPORT_CHECK_H
#define CV_FUZZ_IMPORT_CHECK_H

#include "fuzz_common.h"
#include "imp_formats.h"
#include "store.h"
#include "util.h"

/* A string that is NULL or valid UTF-8 of 1..nMaxChars characters. */
static inline void fzi_text(const char *z, size_t nMaxChars){
  size_t nc = 0;
  if( !z ) return;
  FZ_CHECK( z[0] );
  FZ_CHECK( fz_utf8_ref((const unsigned char*)z, strlen(z), &nc) );
  FZ_CHECK( nc<=nMaxChars );
}

/* A contract time or NULL. */
static inline void fzi_time(const char *z){
  int64_t ms;
  char zBack[CV_TS_LEN+1];
  if( !z ) return;
  FZ_CHECK( strlen(z)==CV_TS_LEN );
  FZ_CHECK( util_iso_parse(z, &ms)==CV_OK );
  util_iso_format(ms, zBack);
  FZ_CHECK( strcmp(zBack, z)==0 );
}

/* The properties of one result (see the file header). */
static inline void fzi_check(cv_rc rc, struct imp_conv *c, const char *zWhy){
  static const struct imp_conv zero;
  cJSON *pArr, *m;
  char *zPrinted;
  int64_t n = 0;
  int i;
  if( rc!=CV_OK ){
    FZ_CHECK( rc==CV_INVALID || rc==CV_NOMEM );
    FZ_CHECK( memcmp(c, &zero, sizeof zero)==0 );
    FZ_CHECK( zWhy[0]!=0 );
    return;
  }
  FZ_CHECK( c->zMessages && c->nMessages>0 );
  FZ_CHECK( c->nBytes==(int64_t)strlen(c->zMessages) );
  FZ_CHECK( c->zSourceId && c->zSourceId[0] );
  FZ_CHECK( fz_utf8_ref((const unsigned char*)c->zSourceId, strlen(c->zSourceId), NULL) );
  FZ_CHECK( c->eKind==CV_CONV_THREAD || c->eKind==CV_CONV_CHAT );
  FZ_CHECK( c->nSkip>=0 );
  for(i=0; i<c->nSkip && i<IMP_SKIP_KEEP; i++){
    FZ_CHECK( memchr(c->aSkip[i].zDetail, 0, IMP_DETAIL_MAX)!=NULL );
    FZ_CHECK( fz_utf8_ref((const unsigned char*)c->aSkip[i].zDetail,
                          strlen(c->aSkip[i].zDetail), NULL) );
  }
  fzi_text(c->zTitle, CV_TITLE_MAX_CHARS);
  fzi_text(c->zCharacterName, CV_NAME_MAX_CHARS);
  fzi_time(c->zCreatedAt);
  fzi_time(c->zUpdatedAt);
  pArr = cJSON_Parse(c->zMessages);
  FZ_CHECK( cJSON_IsArray(pArr) );
  cJSON_ArrayForEach(m, pArr){
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(m, "role");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "content");
    FZ_CHECK( cJSON_IsObject(m) && cJSON_GetArraySize(m)==2 );
    FZ_CHECK( cJSON_IsString(r) && (strcmp(r->valuestring, "user")==0
                                    || strcmp(r->valuestring, "assistant")==0) );
    FZ_CHECK( cJSON_IsString(t) && t->valuestring[0] );
    FZ_CHECK( strlen(t->valuestring)<=IMP_MESSAGE_MAX_LEN );
    FZ_CHECK( fz_utf8_ref((const unsigned char*)t->valuestring, strlen(t->valuestring), NULL) );
    n++;
  }
  FZ_CHECK( n==c->nMessages );
  zPrinted = cJSON_PrintUnformatted(pArr);
  FZ_CHECK( zPrinted && strcmp(zPrinted, c->zMessages)==0 );
  cJSON_free(zPrinted);
  cJSON_Delete(pArr);
  imp_conv_clear(c);
  FZ_CHECK( memcmp(c, &zero, sizeof zero)==0 );
}

/* One input for the reader of eFormat: parsed, detected, read; the detected format's reader
** too when it is another one. */
static inline int fzi_run(const unsigned char *data, size_t n, enum imp_format eFormat){
  cJSON *p = cJSON_ParseWithLength((const char*)data, n);
  struct imp_conv c;
  char zWhy[200];
  enum imp_format eDet;
  cv_rc rc;
  if( !p ) return 0;
  eDet = imp_detect(p);
  FZ_CHECK( eDet>=IMP_UNKNOWN && eDet<=IMP_SILLYTAVERN && eDet!=IMP_SILLYTAVERN );
  FZ_CHECK( imp_format_by_name(imp_format_name(eDet))==eDet );
  memset(&c, 0x5a, sizeof c);                  /* imp_read must not trust what it is given */
  rc = imp_read(eFormat, p, &c, zWhy, sizeof zWhy);
  fzi_check(rc, &c, zWhy);
  if( eDet!=eFormat && eDet!=IMP_UNKNOWN ){
    rc = imp_read(eDet, p, &c, zWhy, sizeof zWhy);
    fzi_check(rc, &c, zWhy);
  }
  cJSON_Delete(p);
  return 0;
}

#endif
