/*
** validate.c — everything that decides whether a request's input is acceptable, and the
** 422 entries saying why not. Pure functions over memory: may call cJSON and util.
**
** Why a pre-scan before cJSON: cJSON accepts invalid UTF-8 and raw control bytes, turns
** \u0000 into a C string terminator (silently truncating the text) and recurses once per
** nesting level. The scan rejects all of these in one linear pass first.
*/
#include "validate.h"
#include "cursor.h"
#include "render.h"
#include "util.h"

#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void verr_init(struct cv_verr *p){
  p->pList = NULL;
  p->n = 0;
  p->bNoMem = 0;
}

void verr_free(struct cv_verr *p){
  cJSON_Delete(p->pList);
  verr_init(p);
}

/* n cut to at most nMax bytes of z without splitting a UTF-8 character (a 422 body must
** stay valid UTF-8 when a long key is shortened in its loc). */
static size_t utf8_cut(const char *z, size_t n, size_t nMax){
  if( n<=nMax ) return n;
  n = nMax;
  while( n>0 && ((unsigned char)z[n] & 0xC0)==0x80 ) n--;
  return n;
}

/* Drop an incomplete UTF-8 character at the end of z (left there by a truncating
** snprintf). */
static void utf8_trim_tail(char *z){
  size_t n = strlen(z), k = n, need;
  unsigned char c;
  while( k>0 && ((unsigned char)z[k-1] & 0xC0)==0x80 ) k--;
  if( k==0 ) return;
  c = (unsigned char)z[k-1];
  if( c<0x80 ) return;
  need = c>=0xF0 ? 4 : c>=0xE0 ? 3 : 2;
  if( n - (k-1) < need ) z[k-1] = 0;
}

void verr_add(struct cv_verr *p, const char *zLoc, const char *zType, const char *zMsg){
  cJSON *pE, *pLoc;
  const char *z = zLoc;
  if( !p->pList && !(p->pList = cJSON_CreateArray()) ){ p->bNoMem = 1; return; }
  pE = cJSON_CreateObject();
  pLoc = cJSON_CreateArray();
  if( !pE || !pLoc ){ cJSON_Delete(pE); cJSON_Delete(pLoc); p->bNoMem = 1; return; }
  while( *z ){
    const char *zDot = strchr(z, '.');
    size_t n = zDot ? (size_t)(zDot - z) : strlen(z);
    char zPart[128];
    size_t i;
    int bNum = n>0 && n<10;
    cJSON *pPart;
    size_t nCopy = utf8_cut(z, n, sizeof zPart - 1);
    memcpy(zPart, z, nCopy);
    zPart[nCopy] = 0;
    for(i=0; i<nCopy && bNum; i++) if( !isdigit((unsigned char)zPart[i]) ) bNum = 0;
    pPart = bNum ? cJSON_CreateNumber(atoi(zPart)) : cJSON_CreateString(zPart);
    if( !pPart || !cJSON_AddItemToArray(pLoc, pPart) ){ cJSON_Delete(pPart); p->bNoMem = 1; }
    z += n;
    if( *z=='.' ) z++;
  }
  cJSON_AddItemToObject(pE, "loc", pLoc);
  if( !cJSON_AddStringToObject(pE, "msg", zMsg) || !cJSON_AddStringToObject(pE, "type", zType) ){
    p->bNoMem = 1;
  }
  cJSON_AddItemToArray(p->pList, pE);
  p->n++;
}

/* One level of nesting seen by the pre-scan: enough to name where a problem is. */
struct scan_frame {
  int bObject;          /* object (1) or array (0) */
  int bExpectKey;       /* object: the next string is a key */
  long iIndex;          /* array: index of the current element */
  const char *zKey;     /* object: raw text of the current key (between its quotes) */
  size_t nKey;
};

/* Write the dotted location of the value being scanned ("body.messages.0.content"). Keys
** holding escapes or dots are named as they are written; good enough for a message. */
static void scan_loc(const struct scan_frame *a, int depth, char *zOut, size_t nOut){
  size_t n = (size_t)snprintf(zOut, nOut, "body");
  int i;
  for(i=0; i<depth && n<nOut; i++){
    if( a[i].bObject ){
      n += (size_t)snprintf(zOut+n, nOut-n, ".%.*s", (int)utf8_cut(a[i].zKey, a[i].nKey, 64), a[i].zKey);
    }else{
      n += (size_t)snprintf(zOut+n, nOut-n, ".%ld", a[i].iIndex);
    }
  }
  utf8_trim_tail(zOut);
}

/* Linear pre-scan of JSON text (see the file header). Returns NULL when fine, or the
** message of the first problem, with *pType its 422 type and zLoc (size nLoc) where. */
static const char *prescan(const char *a, size_t n, const char **pType, char *zLoc, size_t nLoc){
  struct scan_frame aF[CV_JSON_MAX_DEPTH];
  size_t i = 0, iStr = 0;
  int depth = 0, inStr = 0, bKey = 0;
  *pType = "json_invalid";
  snprintf(zLoc, nLoc, "body");
  if( !util_utf8_valid(a, n) ) return "body is not valid UTF-8 (or holds a NUL byte)";
  while( i<n ){
    unsigned char c = (unsigned char)a[i];
    if( inStr ){
      if( c=='"' ){
        inStr = 0;
        if( bKey ){
          aF[depth-1].zKey = a + iStr;
          aF[depth-1].nKey = i - iStr;
        }
      }else if( c=='\\' ){
        if( i+5<n && a[i+1]=='u' && a[i+2]=='0' && a[i+3]=='0' && a[i+4]=='0' && a[i+5]=='0' ){
          *pType = "string_nul";
          if( !bKey ) scan_loc(aF, depth, zLoc, nLoc);
          return "String should not contain the NUL character (U+0000)";
        }
        i++;   /* skip the escaped character */
      }else if( c<0x20 ){
        if( !bKey ) scan_loc(aF, depth, zLoc, nLoc);
        return "JSON decode error: invalid control character in a string";
      }
    }else if( c=='"' ){
      inStr = 1;
      iStr = i + 1;
      bKey = depth>0 && aF[depth-1].bObject && aF[depth-1].bExpectKey;
    }else if( c=='[' || c=='{' ){
      if( depth>=CV_JSON_MAX_DEPTH ){
        *pType = "json_depth";
        return "JSON nested too deeply";
      }
      aF[depth].bObject = c=='{';
      aF[depth].bExpectKey = c=='{';
      aF[depth].iIndex = 0;
      aF[depth].zKey = "";
      aF[depth].nKey = 0;
      depth++;
    }else if( c==']' || c=='}' ){
      if( depth>0 ) depth--;
    }else if( c==':' ){
      if( depth>0 ) aF[depth-1].bExpectKey = 0;
    }else if( c==',' ){
      if( depth>0 ){
        if( aF[depth-1].bObject ) aF[depth-1].bExpectKey = 1;
        else aF[depth-1].iIndex++;
      }
    }
    i++;
  }
  return NULL;
}

static int cmp_str(const void *a, const void *b){
  return strcmp(*(const char *const*)a, *(const char *const*)b);
}

/* 1 when object p has two members with the same name: pairwise for small objects,
** sorted for large ones (bounded time whatever the body holds). -1 out of memory. */
static int object_has_duplicates(const cJSON *p){
  const cJSON *c, *d;
  size_t n = 0, i;
  const char **az;
  int bDup = 0;
  for(c=p->child; c; c=c->next) n++;
  if( n<=32 ){
    for(c=p->child; c; c=c->next){
      for(d=c->next; d; d=d->next){
        if( c->string && d->string && strcmp(c->string, d->string)==0 ) return 1;
      }
    }
    return 0;
  }
  az = malloc(n * sizeof *az);
  if( !az ) return -1;
  for(i=0, c=p->child; c; c=c->next) az[i++] = c->string ? c->string : "";
  qsort(az, n, sizeof *az, cmp_str);
  for(i=1; i<n && !bDup; i++) bDup = strcmp(az[i-1], az[i])==0;
  free(az);
  return bDup;
}

/* 1 when an object anywhere in the tree has a duplicate member name (or -1 on OOM). */
static int has_duplicate_keys(const cJSON *p){
  const cJSON *c;
  if( cJSON_IsObject(p) ){
    int r = object_has_duplicates(p);
    if( r ) return r;
  }
  for(c=p->child; c; c=c->next){
    if( cJSON_IsObject(c) || cJSON_IsArray(c) ){
      int r = has_duplicate_keys(c);
      if( r ) return r;
    }
  }
  return 0;
}

cv_rc val_parse_json(const char *a, size_t n, struct cv_verr *pErr, cJSON **ppRoot){
  const char *zType, *zMsg, *zEnd = NULL;
  char zLoc[256];
  cJSON *pRoot;
  *ppRoot = NULL;
  zMsg = prescan(a, n, &zType, zLoc, sizeof zLoc);
  if( zMsg ){
    verr_add(pErr, zLoc, zType, zMsg);
    return CV_INVALID;
  }
  pRoot = cJSON_ParseWithLengthOpts(a, n, &zEnd, 0);
  if( !pRoot ){
    /* cJSON's error pointer is a process global: bounds-checked, it may be another
    ** thread's, which only makes the offset in the message approximate */
    const char *zErr = cJSON_GetErrorPtr();
    size_t off = (zErr && zErr>=a && zErr<=a+n) ? (size_t)(zErr - a) : 0;
    snprintf(zLoc, sizeof zLoc, "body.%zu", off);
    verr_add(pErr, zLoc, "json_invalid", "JSON decode error");
    return CV_INVALID;
  }
  if( zEnd ){
    while( zEnd<a+n && isspace((unsigned char)*zEnd) ) zEnd++;
    if( zEnd<a+n ){
      snprintf(zLoc, sizeof zLoc, "body.%zu", (size_t)(zEnd - a));
      verr_add(pErr, zLoc, "json_invalid", "JSON decode error: extra data after the value");
      cJSON_Delete(pRoot);
      return CV_INVALID;
    }
  }
  switch( has_duplicate_keys(pRoot) ){
    case 0: break;
    case 1:
      verr_add(pErr, "body", "json_invalid", "JSON object has a duplicate key");
      cJSON_Delete(pRoot);
      return CV_INVALID;
    default:
      cJSON_Delete(pRoot);
      return CV_NOMEM;
  }
  *ppRoot = pRoot;
  return CV_OK;
}

int val_body_object(struct cv_verr *pErr, const cJSON *pRoot){
  if( cJSON_IsObject(pRoot) ) return 1;
  verr_add(pErr, "body", "model_attributes_type", "Input should be a valid dictionary or object");
  return 0;
}

static void join_loc(char *zOut, size_t n, const char *zLoc, const char *zKey){
  snprintf(zOut, n, "%s.%s", zLoc, zKey);
}

/* verr_add at "<zLoc>.<zKey>": the location is only formatted when there is an error. */
static void loc_add(struct cv_verr *pErr, const char *zLoc, const char *zKey, const char *zType,
                    const char *zMsg){
  char zFull[160];
  join_loc(zFull, sizeof zFull, zLoc, zKey);
  verr_add(pErr, zFull, zType, zMsg);
}

/* Common start of every getter: 0 absent/null, -1 missing-required, 1 present. */
static int field(struct cv_verr *pErr, const cJSON *pObj, const char *zLoc, const char *zKey,
                 int bRequired, const cJSON **ppItem){
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(pObj, zKey);
  *ppItem = p;
  if( !p || cJSON_IsNull(p) ){
    if( bRequired ){
      char zFull[160];
      join_loc(zFull, sizeof zFull, zLoc, zKey);
      verr_add(pErr, zFull, "missing", "Field required");
      return -1;
    }
    return 0;
  }
  return 1;
}

int val_string(struct cv_verr *pErr, const cJSON *pObj, const char *zLoc, const char *zKey,
               size_t minChars, size_t maxChars, int bRequired, const char **pzOut){
  const cJSON *p;
  char zMsg[96];
  size_t nChars;
  int rc = field(pErr, pObj, zLoc, zKey, bRequired, &p);
  if( rc<=0 ) return rc;
  if( !cJSON_IsString(p) || !p->valuestring ){
    loc_add(pErr, zLoc, zKey, "string_type", "Input should be a valid string");
    return -1;
  }
  nChars = util_utf8_chars(p->valuestring);
  if( nChars<minChars ){
    snprintf(zMsg, sizeof zMsg, "String should have at least %zu character%s",
             minChars, minChars==1 ? "" : "s");
    loc_add(pErr, zLoc, zKey, "string_too_short", zMsg);
    return -1;
  }
  if( nChars>maxChars ){
    snprintf(zMsg, sizeof zMsg, "String should have at most %zu characters", maxChars);
    loc_add(pErr, zLoc, zKey, "string_too_long", zMsg);
    return -1;
  }
  *pzOut = p->valuestring;
  return 1;
}

/* A JSON number as an exact integer. 1 ok, 0 not an integer. */
static int as_int(const cJSON *p, int64_t *pi){
  double d;
  if( !cJSON_IsNumber(p) ) return 0;
  d = p->valuedouble;
  if( !isfinite(d) || d!=floor(d) || d<-9007199254740991.0 || d>9007199254740991.0 ) return 0;
  *pi = (int64_t)d;
  return 1;
}

int val_int(struct cv_verr *pErr, const cJSON *pObj, const char *zLoc, const char *zKey,
            int64_t iMin, int64_t iMax, int bRequired, int64_t *piOut){
  const cJSON *p;
  char zMsg[96];
  int64_t v;
  int rc = field(pErr, pObj, zLoc, zKey, bRequired, &p);
  if( rc<=0 ) return rc;
  if( !as_int(p, &v) ){
    loc_add(pErr, zLoc, zKey, "int_type", "Input should be a valid integer");
    return -1;
  }
  if( v<iMin ){
    snprintf(zMsg, sizeof zMsg, "Input should be greater than or equal to %lld", (long long)iMin);
    loc_add(pErr, zLoc, zKey, "greater_than_equal", zMsg);
    return -1;
  }
  if( v>iMax ){
    snprintf(zMsg, sizeof zMsg, "Input should be less than or equal to %lld", (long long)iMax);
    loc_add(pErr, zLoc, zKey, "less_than_equal", zMsg);
    return -1;
  }
  *piOut = v;
  return 1;
}

int val_bool(struct cv_verr *pErr, const cJSON *pObj, const char *zLoc, const char *zKey,
             int bRequired, int *pbOut){
  const cJSON *p;
  char zFull[160];
  int rc = field(pErr, pObj, zLoc, zKey, bRequired, &p);
  if( rc<=0 ) return rc;
  if( !cJSON_IsBool(p) ){
    join_loc(zFull, sizeof zFull, zLoc, zKey);
    verr_add(pErr, zFull, "bool_type", "Input should be a valid boolean");
    return -1;
  }
  *pbOut = cJSON_IsTrue(p);
  return 1;
}

int val_email(struct cv_verr *pErr, const cJSON *pObj, const char *zLoc, const char *zKey,
              const char **pzOut){
  const char *z, *zAt;
  char zFull[160];
  int rc = val_string(pErr, pObj, zLoc, zKey, 3, CV_EMAIL_MAX_CHARS, 1, &z);
  if( rc<=0 ) return rc;
  zAt = strchr(z, '@');
  if( !zAt || zAt==z || zAt[1]==0 || strpbrk(z, " \t\r\n")!=NULL ){
    join_loc(zFull, sizeof zFull, zLoc, zKey);
    verr_add(pErr, zFull, "value_error", "value is not a valid email address: it must contain @");
    return -1;
  }
  *pzOut = z;
  return 1;
}

int val_message(struct cv_verr *pErr, const cJSON *pItem, const char *zLoc, cJSON **ppNorm){
  const char *zRole = NULL, *zContent = NULL;
  int r1, r2;
  cJSON *pNorm;
  char zRoleLoc[160];
  *ppNorm = NULL;
  if( !cJSON_IsObject(pItem) ){
    verr_add(pErr, zLoc, "model_attributes_type", "Input should be a valid dictionary or object");
    return -1;
  }
  r1 = val_string(pErr, pItem, zLoc, "role", 0, 64, 1, &zRole);
  r2 = val_string(pErr, pItem, zLoc, "content", 0, (size_t)-1, 1, &zContent);
  if( r1==1 && strcmp(zRole, "user")!=0 && strcmp(zRole, "assistant")!=0 ){
    join_loc(zRoleLoc, sizeof zRoleLoc, zLoc, "role");
    verr_add(pErr, zRoleLoc, "literal_error", "Input should be 'user' or 'assistant'");
    r1 = -1;
  }
  if( r1!=1 || r2!=1 ) return -1;
  pNorm = cJSON_CreateObject();
  if( !pNorm || !cJSON_AddStringToObject(pNorm, "role", zRole)
   || !cJSON_AddStringToObject(pNorm, "content", zContent) ){
    cJSON_Delete(pNorm);
    pErr->bNoMem = 1;
    return -1;
  }
  *ppNorm = pNorm;
  return 1;
}

/* The role and content of a message object that val_message would accept (an object whose
** "role" is "user" or "assistant" and whose "content" is a string), without building
** anything. 1 when it would, 0 when not (val_message then says why). */
static int message_fields(const cJSON *pItem, const char **pzRole, const char **pzContent){
  const cJSON *pRole, *pContent;
  if( !cJSON_IsObject(pItem) ) return 0;
  pRole = cJSON_GetObjectItemCaseSensitive(pItem, "role");
  pContent = cJSON_GetObjectItemCaseSensitive(pItem, "content");
  if( !cJSON_IsString(pRole) || !pRole->valuestring ) return 0;
  if( !cJSON_IsString(pContent) || !pContent->valuestring ) return 0;
  if( strcmp(pRole->valuestring, "user")!=0 && strcmp(pRole->valuestring, "assistant")!=0 ){
    return 0;
  }
  *pzRole = pRole->valuestring;
  *pzContent = pContent->valuestring;
  return 1;
}

/* Normalized messages are written straight into one buffer, escaped as cJSON prints them
** (render_json_string), so the text is what cJSON_PrintUnformatted of the normalized objects
** gave, without a tree of copies per message (the legacy import's hot path). Locations of
** errors are only formatted for an item that has one. */
int val_messages(struct cv_verr *pErr, const cJSON *pObj, const char *zLoc, const char *zKey,
                 int bRequired, char **pzJson, int64_t *pnOut){
  const cJSON *p, *pItem;
  struct cv_buf b;
  char zFull[160];
  int64_t i = 0;
  int bad = 0;
  cv_rc rc = CV_OK;
  int r = field(pErr, pObj, zLoc, zKey, bRequired, &p);
  if( r<=0 ) return r;
  join_loc(zFull, sizeof zFull, zLoc, zKey);
  if( !cJSON_IsArray(p) ){
    verr_add(pErr, zFull, "list_type", "Input should be a valid list");
    return -1;
  }
  buf_init(&b, (size_t)-1);
  rc = buf_append(&b, "[", 1);
  cJSON_ArrayForEach(pItem, p){
    const char *zRole = NULL, *zContent = NULL;
    if( rc ) break;
    if( !message_fields(pItem, &zRole, &zContent) ){
      char zItemLoc[192];
      cJSON *pNorm = NULL;
      snprintf(zItemLoc, sizeof zItemLoc, "%s.%lld", zFull, (long long)i);
      r = val_message(pErr, pItem, zItemLoc, &pNorm);
      assert( r!=1 );            /* message_fields accepts what val_message accepts */
      cJSON_Delete(pNorm);
      if( ++bad>=20 ) break;     /* the 422 list is bounded */
      i++;
      continue;
    }
    if( bad ){ i++; continue; }
    rc = buf_append(&b, i ? ",{\"role\":" : "{\"role\":", i ? 9 : 8);
    if( rc==CV_OK ) rc = render_json_string(&b, zRole);
    if( rc==CV_OK ) rc = buf_append(&b, ",\"content\":", 11);
    if( rc==CV_OK ) rc = render_json_string(&b, zContent);
    if( rc==CV_OK ) rc = buf_append(&b, "}", 1);
    i++;
  }
  if( rc==CV_OK && !bad ) rc = buf_append(&b, "]", 1);
  if( rc || bad ){
    buf_free(&b);
    if( rc ) pErr->bNoMem = 1;
    return -1;
  }
  *pzJson = b.a;
  *pnOut = i;
  return 1;
}

/* URL-decode z[0..n) into zOut (size nOut). 0 when it does not fit, is malformed or holds
** an encoded NUL. */
static int url_decode(const char *z, size_t n, char *zOut, size_t nOut){
  size_t i, j = 0;
  for(i=0; i<n; i++){
    char c = z[i];
    if( c=='%' ){
      int hi, lo;
      if( i+2>=n ) return 0;
      hi = isxdigit((unsigned char)z[i+1]) ? (isdigit((unsigned char)z[i+1]) ? z[i+1]-'0' : (tolower((unsigned char)z[i+1])-'a'+10)) : -1;
      lo = isxdigit((unsigned char)z[i+2]) ? (isdigit((unsigned char)z[i+2]) ? z[i+2]-'0' : (tolower((unsigned char)z[i+2])-'a'+10)) : -1;
      if( hi<0 || lo<0 || (hi==0 && lo==0) ) return 0;   /* %00 would cut the value short */
      c = (char)(hi*16 + lo);
      i += 2;
    }else if( c=='+' ){
      c = ' ';
    }
    if( j+1>=nOut ) return 0;
    zOut[j++] = c;
  }
  zOut[j] = 0;
  return 1;
}

int val_query_int(struct cv_verr *pErr, const char *zQuery, const char *zName,
                  int64_t iDefault, int64_t iMin, int64_t iMax, int64_t *piOut){
  size_t nName = strlen(zName);
  const char *z = zQuery;
  char zLoc[96], zVal[32], zMsg[96];
  *piOut = iDefault;
  snprintf(zLoc, sizeof zLoc, "query.%s", zName);
  while( z && *z ){
    const char *zAmp = strchr(z, '&');
    size_t n = zAmp ? (size_t)(zAmp - z) : strlen(z);
    if( n>nName && strncmp(z, zName, nName)==0 && z[nName]=='=' ){
      const char *zV = z + nName + 1;
      size_t nV = n - nName - 1, k;
      char *zEnd;
      long long v;
      int ok = url_decode(zV, nV, zVal, sizeof zVal) && zVal[0];
      for(k=0; ok && zVal[k]; k++){
        if( !isdigit((unsigned char)zVal[k]) && !(k==0 && zVal[k]=='-') ) ok = 0;
      }
      if( ok ){
        v = strtoll(zVal, &zEnd, 10);
        if( *zEnd ) ok = 0;
        else{
          if( v<iMin ){
            snprintf(zMsg, sizeof zMsg, "Input should be greater than or equal to %lld", (long long)iMin);
            verr_add(pErr, zLoc, "greater_than_equal", zMsg);
            return -1;
          }
          if( v>iMax ){
            snprintf(zMsg, sizeof zMsg, "Input should be less than or equal to %lld", (long long)iMax);
            verr_add(pErr, zLoc, "less_than_equal", zMsg);
            return -1;
          }
          *piOut = v;
        }
      }
      if( !ok ){
        verr_add(pErr, zLoc, "int_parsing",
                 "Input should be a valid integer, unable to parse string as an integer");
        return -1;
      }
    }
    z = zAmp ? zAmp+1 : NULL;
  }
  return 1;
}

int val_query_text(struct cv_verr *pErr, const char *zQuery, const char *zName,
                   size_t minChars, size_t maxChars, char *zOut, size_t nOut, int *pbFound){
  char zLoc[96], zMsg[96];
  size_t nChars;
  int r = val_query_str(pErr, zQuery, zName, zOut, nOut);
  *pbFound = r!=0;
  if( r<=0 ) return r==0 ? 1 : -1;
  snprintf(zLoc, sizeof zLoc, "query.%s", zName);
  nChars = util_utf8_chars(zOut);
  if( nChars<minChars ){
    snprintf(zMsg, sizeof zMsg, "String should have at least %zu character%s", minChars,
             minChars==1 ? "" : "s");
    verr_add(pErr, zLoc, "string_too_short", zMsg);
    return -1;
  }
  if( nChars>maxChars ){
    snprintf(zMsg, sizeof zMsg, "String should have at most %zu characters", maxChars);
    verr_add(pErr, zLoc, "string_too_long", zMsg);
    return -1;
  }
  return 1;
}

int val_path_id(struct cv_verr *pErr, const char *zSeg, const char *zName, int64_t *piOut){
  char zLoc[96];
  int64_t v = 0;
  const char *z = zSeg;
  snprintf(zLoc, sizeof zLoc, "path.%s", zName);
  if( !*z || strlen(z)>18 ) goto bad;
  for(; *z; z++){
    if( !isdigit((unsigned char)*z) ) goto bad;
    v = v*10 + (*z - '0');
  }
  *piOut = v;
  return 1;
bad:
  verr_add(pErr, zLoc, "int_parsing",
           "Input should be a valid integer, unable to parse string as an integer");
  return -1;
}

/* The raw value of the last occurrence of query parameter zName: 1 with *pzV, *pnV set,
** 0 when absent. */
static int query_find(const char *zQuery, const char *zName, const char **pzV, size_t *pnV){
  size_t nName = strlen(zName);
  const char *z = zQuery;
  int bFound = 0;
  while( z && *z ){
    const char *zAmp = strchr(z, '&');
    size_t n = zAmp ? (size_t)(zAmp - z) : strlen(z);
    if( n>=nName+1 && strncmp(z, zName, nName)==0 && z[nName]=='=' ){
      *pzV = z + nName + 1;
      *pnV = n - nName - 1;
      bFound = 1;
    }
    z = zAmp ? zAmp+1 : NULL;
  }
  return bFound;
}

int val_query_str(struct cv_verr *pErr, const char *zQuery, const char *zName, char *zOut,
                  size_t nOut){
  const char *zV;
  size_t nV;
  char zLoc[96], zMsg[96];
  assert( nOut>1 );
  zOut[0] = 0;
  if( !query_find(zQuery, zName, &zV, &nV) ) return 0;
  snprintf(zLoc, sizeof zLoc, "query.%s", zName);
  if( nV/3 >= nOut ){               /* even fully escaped it cannot fit */
    snprintf(zMsg, sizeof zMsg, "String should have at most %zu bytes", nOut - 1);
    verr_add(pErr, zLoc, "string_too_long", zMsg);
    return -1;
  }
  if( !url_decode(zV, nV, zOut, nOut) ){
    if( nV>=nOut ){
      snprintf(zMsg, sizeof zMsg, "String should have at most %zu bytes", nOut - 1);
      verr_add(pErr, zLoc, "string_too_long", zMsg);
    }else{
      verr_add(pErr, zLoc, "value_error", "Value error, malformed percent-escape or encoded NUL");
    }
    zOut[0] = 0;
    return -1;
  }
  if( !util_utf8_valid(zOut, strlen(zOut)) ){
    verr_add(pErr, zLoc, "value_error", "Value error, not valid UTF-8");
    zOut[0] = 0;
    return -1;
  }
  return 1;
}

int val_bool_text(const char *z){
  static const char *const azTrue[] = { "true", "1", "yes", "on", "t", "y" };
  static const char *const azFalse[] = { "false", "0", "no", "off", "f", "n" };
  size_t i;
  for(i=0; i<sizeof azTrue/sizeof azTrue[0]; i++){
    if( strcasecmp(z, azTrue[i])==0 ) return 1;
    if( strcasecmp(z, azFalse[i])==0 ) return 0;
  }
  return -1;
}

int val_query_bool(struct cv_verr *pErr, const char *zQuery, const char *zName, int *pbOut){
  char zVal[16], zLoc[96];
  struct cv_verr e;
  int rc, b;
  verr_init(&e);                    /* a value too long for zVal is just not a boolean */
  rc = val_query_str(&e, zQuery, zName, zVal, sizeof zVal);
  verr_free(&e);
  if( rc==0 ) return 0;
  b = rc==1 ? val_bool_text(zVal) : -1;
  if( b<0 ){
    snprintf(zLoc, sizeof zLoc, "query.%s", zName);
    verr_add(pErr, zLoc, "bool_parsing", "Input should be a valid boolean, unable to interpret input");
    return -1;
  }
  *pbOut = b;
  return 1;
}

int val_query_cursor(struct cv_verr *pErr, const char *zQuery, char cKind,
                     struct cv_cursor *pOut){
  char z[CV_CURSOR_MAX_LEN+1];
  int rc;
  memset(pOut, 0, sizeof *pOut);
  rc = val_query_str(pErr, zQuery, "cursor", z, sizeof z);
  if( rc<=0 ) return rc;
  if( cursor_decode(z, pOut)!=CV_OK || pOut->cKind!=cKind ){
    memset(pOut, 0, sizeof *pOut);
    verr_add(pErr, "query.cursor", "value_error",
             "Value error, not a cursor of this list (send back X-Next-Cursor as it came)");
    return -1;
  }
  return 1;
}

int val_query_archived(struct cv_verr *pErr, const char *zQuery, int *peOut){
  struct cv_verr e2;
  char z[16];
  int k, b;
  verr_init(&e2);                  /* a long value is just not one of the choices */
  k = val_query_str(&e2, zQuery, "archived", z, sizeof z);
  verr_free(&e2);
  if( k==0 ) return 0;
  b = k==1 ? (strcmp(z, "any")==0 ? 2 : val_bool_text(z)) : -1;
  if( b<0 ){
    verr_add(pErr, "query.archived", "literal_error", "Input should be 'false', 'true' or 'any'");
    return -1;
  }
  *peOut = b;
  return 1;
}

int val_query_tag(struct cv_verr *pErr, const char *zQuery, char *zKey){
  char zTag[CV_TAG_MAX_LEN*2 + 64];
  struct cv_tagset set;
  int bTooLong, k;
  zKey[0] = 0;
  k = val_query_str(pErr, zQuery, "tag", zTag, sizeof zTag);
  if( k<=0 ) return k;
  set.n = 0;
  if( tags_set_add(&set, zTag, strlen(zTag), &bTooLong)!=CV_OK ){
    if( bTooLong ){
      verr_add(pErr, "query.tag", "string_too_long", "String should have at most 50 characters");
    }else{
      verr_add(pErr, "query.tag", "string_too_short", "String should have at least 1 character");
    }
    return -1;
  }
  memcpy(zKey, set.a[0].zKey, strlen(set.a[0].zKey) + 1);
  return 1;
}
