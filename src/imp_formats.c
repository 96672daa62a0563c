/*
** imp_formats.c — the readers of other apps' export files (imp_formats.h): one conversation
** object, already parsed by cJSON, turned into a struct imp_conv.
**
** DESIGN
** Every reader does the same three steps:
**   1. index the file's messages (a ChatGPT mapping, an Open WebUI history, a LibreChat list
**      or tree, Claude's chat_messages) into an array of struct node, with each node's parent
**      resolved through a keyed hash of the ids (struct idx: SipHash with a per-read random key,
**      so crafted ids cannot make it quadratic);
**   2. pick the current branch's last node and walk parent links up to the root (path_walk:
**      at most one step per node, a visited mark stops cycles), then read the path in order;
**   3. hand each message's text to emit(), which keeps it as {"role","content"} in a growing
**      JSON array, or counts it as skipped with a reason (skip()).
** Nothing recurses: LibreChat's nested "children" are flattened with an explicit stack.
** Conversation-level problems (no messages, mapping of the wrong type, an unusable id, no
** text kept) end the read with CV_INVALID and an empty *pOut; parts that are not text are
** never errors, only counted skips.
**
** Times: numbers are epoch seconds below 1e11 and milliseconds above (ChatGPT floats,
** Open WebUI's s and ms); strings are ISO 8601, digit strings, or SillyTavern's humanized
** "June 19, 2023 2:20pm" / "2024-6-5 @14h 56m 50s 682ms" (taken as UTC, as SillyTavern
** does). Times outside the contract's range or more than UTIL_FUTURE_SKEW_MS ahead are
** dropped (unknown), not refused.
*/
#include "imp_formats.h"
#include "render.h"
#include "store.h"
#include "util.h"

#include <limits.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IMP_MAX_NODES   (1<<24)  /* messages of one conversation, whatever the format */
#define IMP_ID_MAX_LEN  512      /* bytes of a source id taken from the file */
#define NO_PARENT_UUID  "00000000-0000-0000-0000-000000000000"  /* LibreChat's root parent */

/* ---------------------------------------------------------------------------------------
** Names
*/

/* The format's name as `?format=` and the import answer spell it; "unknown" otherwise. */
const char *imp_format_name(enum imp_format e){
  switch( e ){
    case IMP_UNKNOWN:     return "unknown";
    case IMP_CHATVAULT:   return "chatvault";
    case IMP_CHATGPT:     return "chatgpt";
    case IMP_CLAUDE:      return "claude";
    case IMP_OPENWEBUI:   return "openwebui";
    case IMP_LIBRECHAT:   return "librechat";
    case IMP_CHATBOTUI:   return "chatbot-ui";
    case IMP_SILLYTAVERN: return "sillytavern";
  }
  return "unknown";
}

/* The format whose name is exactly z, or IMP_UNKNOWN (also for NULL). */
enum imp_format imp_format_by_name(const char *z){
  int e;
  if( !z ) return IMP_UNKNOWN;
  for(e=IMP_CHATVAULT; e<=IMP_SILLYTAVERN; e++){
    if( strcmp(z, imp_format_name((enum imp_format)e))==0 ) return (enum imp_format)e;
  }
  return IMP_UNKNOWN;
}

/* ---------------------------------------------------------------------------------------
** Small typed getters over cJSON: a wrong type reads as absent.
*/

/* Member zKey of pObj when pObj is an object, else NULL. */
static const cJSON *get(const cJSON *pObj, const char *zKey){
  if( !cJSON_IsObject(pObj) ) return NULL;
  return cJSON_GetObjectItemCaseSensitive(pObj, zKey);
}

/* Member zKey of pObj as a string, or NULL when absent or not a string. */
static const char *get_str(const cJSON *pObj, const char *zKey){
  const cJSON *p = get(pObj, zKey);
  return cJSON_IsString(p) && p->valuestring ? p->valuestring : NULL;
}

/* Member zKey of pObj as a non-empty string, or NULL. */
static const char *get_nstr(const cJSON *pObj, const char *zKey){
  const char *z = get_str(pObj, zKey);
  return z && z[0] ? z : NULL;
}

/* p when it is an array (cJSON_ArrayForEach over it), else NULL. */
static const cJSON *as_array(const cJSON *p){
  return cJSON_IsArray(p) ? p : NULL;
}

/* p when it is an object, else NULL. */
static const cJSON *as_object(const cJSON *p){
  return cJSON_IsObject(p) ? p : NULL;
}

/* 1 when member zKey of pObj is JSON true. */
static int get_true(const cJSON *pObj, const char *zKey){
  return cJSON_IsTrue(get(pObj, zKey));
}

/* 1 when z is empty or only ASCII white space. */
static int is_blank(const char *z, size_t n){
  size_t i;
  for(i=0; i<n; i++){
    if( z[i]!=' ' && z[i]!='\t' && z[i]!='\n' && z[i]!='\r' && z[i]!='\f' && z[i]!='\v' ){
      return 0;
    }
  }
  return 1;
}

/* A malloc'd copy of z[0..n), NUL-terminated; NULL when out of memory. */
static char *dup_n(const char *z, size_t n){
  char *zOut = malloc(n + 1);
  if( !zOut ) return NULL;
  memcpy(zOut, z, n);
  zOut[n] = 0;
  return zOut;
}

/* ---------------------------------------------------------------------------------------
** Times
*/

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar (Howard Hinnant). */
static int64_t civil_days(int64_t y, int m, int d){
  int64_t era, yoe, doy, doe;
  y -= m<=2;
  era = (y>=0 ? y : y-399) / 400;
  yoe = y - era*400;
  doy = (153*(m + (m>2 ? -3 : 9)) + 2)/5 + d - 1;
  doe = yoe*365 + yoe/4 - yoe/100 + doy;
  return era*146097 + doe - 719468;
}

/* 1 when y-m-d h:mi:s is a real date and time; then *pMs is its unix ms (UTC) plus ms. */
static int civil_ms(int y, int m, int d, int h, int mi, int s, int ms, int64_t *pMs){
  static const int mdays[] = {31,29,31,30,31,30,31,31,30,31,30,31};
  int64_t v;
  if( y<0 || y>9999 || m<1 || m>12 || d<1 || d>mdays[m-1] ) return 0;
  if( m==2 && d==29 && !((y%4==0 && y%100!=0) || y%400==0) ) return 0;
  if( h<0 || h>23 || mi<0 || mi>59 || s<0 || s>60 || ms<0 || ms>999 ) return 0;
  if( s==60 ) s = 59;
  v = civil_days(y, m, d)*86400000LL + ((int64_t)h*3600 + mi*60 + s)*1000 + ms;
  if( v<UTIL_ISO_MIN_MS || v>UTIL_ISO_MAX_MS ) return 0;
  *pMs = v;
  return 1;
}

/* Read 1..nMax decimal digits at *pz into *pv (advancing *pz). 0 when there is none. */
static int read_int(const char **pz, int nMax, int *pv){
  const char *z = *pz;
  int v = 0, n = 0;
  while( n<nMax && *z>='0' && *z<='9' ){ v = v*10 + (*z - '0'); z++; n++; }
  if( n==0 ) return 0;
  *pz = z;
  *pv = v;
  return 1;
}

/* Skip spaces at *pz. */
static void skip_spaces(const char **pz){
  while( **pz==' ' ) (*pz)++;
}

/* SillyTavern's "June 19, 2023 2:20pm" (also "Jun 19, 2023 14:20", seconds optional):
** a month's name (3 letters at least), day, comma, year, time, am/pm optional. UTC. */
static int parse_month_date(const char *z, int64_t *pMs){
  static const char *azMonth[] = {"january","february","march","april","may","june","july",
                                  "august","september","october","november","december"};
  char zWord[16];
  int n = 0, m, d, y, h, mi, s = 0, i;
  while( n<15 && ((z[n]>='a' && z[n]<='z') || (z[n]>='A' && z[n]<='Z')) ){
    zWord[n] = (char)(z[n] | 0x20);
    n++;
  }
  zWord[n] = 0;
  if( n<3 ) return 0;
  for(m=0; m<12; m++){
    if( strncmp(azMonth[m], zWord, (size_t)n)==0 ) break;
  }
  if( m==12 || (size_t)n>strlen(azMonth[m]) ) return 0;
  z += n;
  if( *z=='.' ) z++;
  skip_spaces(&z);
  if( !read_int(&z, 2, &d) ) return 0;
  if( *z==',' ) z++;
  skip_spaces(&z);
  if( !read_int(&z, 4, &y) ) return 0;
  skip_spaces(&z);
  if( *z=='@' ){ z++; skip_spaces(&z); }
  if( !read_int(&z, 2, &h) || *z++!=':' || !read_int(&z, 2, &mi) ) return 0;
  if( *z==':' ){ z++; if( !read_int(&z, 2, &s) ) return 0; }
  skip_spaces(&z);
  if( (z[0]=='a' || z[0]=='A' || z[0]=='p' || z[0]=='P') && (z[1]=='m' || z[1]=='M') ){
    if( h<1 || h>12 ) return 0;
    i = (z[0]=='p' || z[0]=='P');
    h = h % 12 + (i ? 12 : 0);
    z += 2;
  }
  skip_spaces(&z);
  if( *z ) return 0;
  return civil_ms(y, m+1, d, h, mi, s, 0, pMs);
}

/* SillyTavern's humanized "2024-7-12@01h31m37s" and "2024-6-5 @14h 56m 50s 682ms". UTC. */
static int parse_humanized(const char *z, int64_t *pMs){
  int y, m, d, h, mi, s, ms = 0;
  if( !read_int(&z, 4, &y) || *z++!='-' || !read_int(&z, 2, &m) || *z++!='-'
   || !read_int(&z, 2, &d) ) return 0;
  skip_spaces(&z);
  if( *z++!='@' ) return 0;
  skip_spaces(&z);
  if( !read_int(&z, 2, &h) || *z++!='h' ) return 0;
  skip_spaces(&z);
  if( !read_int(&z, 2, &mi) || *z++!='m' ) return 0;
  skip_spaces(&z);
  if( !read_int(&z, 2, &s) || *z++!='s' ) return 0;
  skip_spaces(&z);
  if( *z ){
    if( !read_int(&z, 3, &ms) || z[0]!='m' || z[1]!='s' ) return 0;
    z += 2;
    skip_spaces(&z);
  }
  if( *z ) return 0;
  return civil_ms(y, m, d, h, mi, s, ms, pMs);
}

/* An epoch number v: seconds below 1e11 (year 5138), else milliseconds. 0 when not finite
** or outside the contract's range. */
static int epoch_ms(double v, int64_t *pMs){
  double ms;
  if( !isfinite(v) ) return 0;
  ms = fabs(v)<1e11 ? v*1000.0 : v;
  if( !(ms>=(double)UTIL_ISO_MIN_MS && ms<=(double)UTIL_ISO_MAX_MS) ) return 0;
  *pMs = (int64_t)llround(ms);
  return 1;
}

/* A time as any of the files write one (number, digit string, ISO 8601, SillyTavern's
** humanized forms) into unix ms. 1 when read, 0 when p is absent or none of them. */
static int time_value(const cJSON *p, int64_t *pMs){
  const char *z;
  size_t i, n;
  if( cJSON_IsNumber(p) ) return epoch_ms(p->valuedouble, pMs);
  if( !cJSON_IsString(p) || !p->valuestring ) return 0;
  z = p->valuestring;
  n = strlen(z);
  if( n==0 || n>64 ) return 0;
  for(i=(z[0]=='-'); i<n && z[i]>='0' && z[i]<='9'; i++){}
  if( i==n && n>(size_t)(z[0]=='-') ) return epoch_ms(strtod(z, NULL), pMs);
  if( util_iso_parse(z, pMs)==CV_OK ) return 1;
  if( parse_humanized(z, pMs) ) return 1;
  return parse_month_date(z, pMs);
}

/* Set *pz (freeing what it held) to ms in the contract's format, unless ms is further ahead
** than the allowed clock skew (then *pz is left as it was). CV_NOMEM possible. */
static cv_rc set_time(char **pz, int64_t ms){
  char zBuf[CV_TS_LEN+1];
  char *zNew;
  if( ms>util_now_ms() + UTIL_FUTURE_SKEW_MS ) return CV_OK;
  util_iso_format(ms, zBuf);
  zNew = dup_n(zBuf, strlen(zBuf));
  if( !zNew ) return CV_NOMEM;
  free(*pz);
  *pz = zNew;
  return CV_OK;
}

/* set_time from the JSON value p when it reads as a time; nothing when it does not. */
static cv_rc set_time_json(char **pz, const cJSON *p){
  int64_t ms;
  if( !time_value(p, &ms) ) return CV_OK;
  return set_time(pz, ms);
}

/* ---------------------------------------------------------------------------------------
** The conversation being written
*/

/* One read in progress. */
struct rd {
  struct imp_conv *p;            /* the output */
  struct cv_buf msgs;            /* the messages array so far ("[" ... without the "]") */
  int iPos;                      /* 1-based place along the branch of the message being read,
                                 ** 0 outside messages (skips then name no message) */
  int nSkipMsg;                  /* p->nSkip when the current message began */
  int bFirstUser;                /* a user message has been kept */
  cv_rc rc;                      /* CV_OK, or the first CV_NOMEM */
};

/* Start a read into p (cleared first). */
static void rd_init(struct rd *r, struct imp_conv *p){
  memset(p, 0, sizeof *p);
  memset(r, 0, sizeof *r);
  r->p = p;
  buf_init(&r->msgs, (size_t)-1);
}

/* Count one skipped part, keeping its reason (printf-style, prefixed "message N: " inside a
** message) when fewer than IMP_SKIP_KEEP are kept. */
static void skip(struct rd *r, const char *zFmt, ...) __attribute__((format(printf, 2, 3)));
static void skip(struct rd *r, const char *zFmt, ...){
  struct imp_conv *p = r->p;
  if( p->nSkip<IMP_SKIP_KEEP ){
    char *z = p->aSkip[p->nSkip].zDetail;
    int n = 0;
    va_list ap;
    if( r->iPos>0 ) n = snprintf(z, IMP_DETAIL_MAX, "message %d: ", r->iPos);
    if( n<0 || n>=IMP_DETAIL_MAX ) n = 0;
    va_start(ap, zFmt);
    vsnprintf(z + n, (size_t)(IMP_DETAIL_MAX - n), zFmt, ap);
    va_end(ap);
    /* a reason holding a name from the file may have been cut inside a character */
    n = (int)strlen(z);
    while( n>0 && !util_utf8_valid(z, (size_t)n) ) z[--n] = 0;
  }
  if( p->nSkip<INT_MAX ) p->nSkip++;
}

/* Begin message iPos of the branch. */
static void msg_begin(struct rd *r, int iPos){
  r->iPos = iPos;
  r->nSkipMsg = r->p->nSkip;
}

/* A name from the file, fit to be quoted in a reason: valid UTF-8, at most 40 bytes cut at
** a character, else "?". zOut holds 41 bytes. */
static const char *reason_name(const char *z, char *zOut){
  size_t n;
  if( !z ) return "?";
  n = strlen(z);
  if( n>40 ) n = 40;
  while( n>0 && !util_utf8_valid(z, n) ) n--;
  if( n==0 ) return "?";
  memcpy(zOut, z, n);
  zOut[n] = 0;
  return zOut;
}

/* Keep the message text z[0..n) with zRole ("user"|"assistant"), or count why not: blank
** (only when nothing else of the message was counted already), not valid UTF-8, or over
** IMP_MESSAGE_MAX_LEN. bTooBig: the text was already found too long while being joined. */
static void emit(struct rd *r, const char *zRole, const char *z, size_t n, int bTooBig){
  struct imp_conv *p = r->p;
  cv_rc rc;
  if( r->rc ) return;
  if( bTooBig || n>IMP_MESSAGE_MAX_LEN ){
    skip(r, "over the size limit (%d bytes), skipped", IMP_MESSAGE_MAX_LEN);
    return;
  }
  if( !z || is_blank(z, n) ){
    if( p->nSkip==r->nSkipMsg ) skip(r, "empty message skipped");
    return;
  }
  if( !util_utf8_valid(z, n) || strlen(z)!=n ){
    skip(r, "text is not valid UTF-8, skipped");
    return;
  }
  rc = buf_append(&r->msgs, p->nMessages ? ",{\"role\":\"" : "[{\"role\":\"", 10);
  if( rc==CV_OK ) rc = buf_append(&r->msgs, zRole, strlen(zRole));
  if( rc==CV_OK ) rc = buf_append(&r->msgs, "\",\"content\":", 12);
  if( rc==CV_OK ) rc = render_json_string(&r->msgs, z);
  if( rc==CV_OK ) rc = buf_append(&r->msgs, "}", 1);
  if( rc ){ r->rc = CV_NOMEM; return; }
  p->nMessages++;
  if( !r->bFirstUser && strcmp(zRole, "user")==0 && p->eKind==CV_CONV_THREAD && !p->zTitle ){
    cv_rc rcT = CV_OK;
    p->zTitle = util_auto_title(z, &rcT);
    if( rcT ) r->rc = CV_NOMEM;
  }
  if( strcmp(zRole, "user")==0 ) r->bFirstUser = 1;
}

/* A copy of z for a title: trimmed of ASCII white space, valid UTF-8, cut to
** CV_TITLE_MAX_CHARS at a character. NULL in *pzOut when z gives no title. */
static cv_rc copy_title(const char *z, char **pzOut){
  size_t n;
  *pzOut = NULL;
  if( !z ) return CV_OK;
  while( *z==' ' || *z=='\t' || *z=='\n' || *z=='\r' ) z++;
  n = strlen(z);
  while( n>0 && (z[n-1]==' ' || z[n-1]=='\t' || z[n-1]=='\n' || z[n-1]=='\r') ) n--;
  if( n==0 || !util_utf8_valid(z, n) ) return CV_OK;
  {
    char *zCopy = dup_n(z, n);
    size_t nCut;
    if( !zCopy ) return CV_NOMEM;
    nCut = util_utf8_prefix_len(zCopy, CV_TITLE_MAX_CHARS);
    zCopy[nCut] = 0;
    *pzOut = zCopy;
  }
  return CV_OK;
}

/* Set the title from the first of z1, z2 that gives one. */
static cv_rc set_title(struct rd *r, const char *z1, const char *z2){
  cv_rc rc = copy_title(z1, &r->p->zTitle);
  if( rc==CV_OK && !r->p->zTitle ) rc = copy_title(z2, &r->p->zTitle);
  return rc;
}

/* A copy of the optional text z (valid UTF-8, at most nMaxChars characters, else none). */
static cv_rc copy_text(const char *z, size_t nMaxChars, char **pzOut){
  size_t n;
  *pzOut = NULL;
  if( !z || !z[0] ) return CV_OK;
  n = strlen(z);
  if( !util_utf8_valid(z, n) || util_utf8_chars(z)>nMaxChars ) return CV_OK;
  *pzOut = dup_n(z, n);
  return *pzOut ? CV_OK : CV_NOMEM;
}

/* Take the source id from the string z. CV_OK with p->zSourceId set, or CV_INVALID when z
** is not usable (not UTF-8, too long) with zWhy said. An empty or NULL z leaves it unset
** (the content hash is used, finish()). */
static cv_rc set_source_id(struct rd *r, const char *z, char *zWhy, size_t nWhy){
  size_t n;
  if( !z || !z[0] ) return CV_OK;
  n = strlen(z);
  if( n>IMP_ID_MAX_LEN || !util_utf8_valid(z, n) ){
    snprintf(zWhy, nWhy, "the conversation's id is not usable (not UTF-8 or over %d bytes)",
             IMP_ID_MAX_LEN);
    return CV_INVALID;
  }
  r->p->zSourceId = dup_n(z, n);
  return r->p->zSourceId ? CV_OK : CV_NOMEM;
}

/* End a read: close the messages array, check that something was kept, give a source id
** from the content when the file had none, and fix nBytes. On any error (rc in, r->rc, or
** found here) *r->p is cleared and zWhy says why. Returns the read's result. */
static cv_rc finish(struct rd *r, cv_rc rc, char *zWhy, size_t nWhy){
  struct imp_conv *p = r->p;
  if( rc==CV_OK && r->rc ) rc = r->rc;
  if( rc==CV_OK && p->nMessages==0 ){
    snprintf(zWhy, nWhy, "no text messages");
    rc = CV_INVALID;
  }
  if( rc==CV_OK ) rc = buf_append(&r->msgs, "]", 1) ? CV_NOMEM : CV_OK;
  if( rc==CV_OK ){
    p->zMessages = r->msgs.a;
    p->nBytes = (int64_t)r->msgs.n;
    r->msgs.a = NULL;
  }
  if( rc==CV_OK && !p->zSourceId ){
    /* "sha256:" + hex of the first 16 bytes of SHA-256(kind, created, title, messages) */
    crypto_hash_sha256_state st;
    unsigned char aHash[crypto_hash_sha256_BYTES];
    char zHex[33];
    unsigned char cKind = (unsigned char)p->eKind;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &cKind, 1);
    if( p->zCreatedAt ){
      crypto_hash_sha256_update(&st, (const unsigned char*)p->zCreatedAt, strlen(p->zCreatedAt));
    }
    crypto_hash_sha256_update(&st, (const unsigned char*)"\n", 1);
    if( p->zTitle ){
      crypto_hash_sha256_update(&st, (const unsigned char*)p->zTitle, strlen(p->zTitle));
    }
    crypto_hash_sha256_update(&st, (const unsigned char*)"\n", 1);
    crypto_hash_sha256_update(&st, (const unsigned char*)p->zMessages, (size_t)p->nBytes);
    crypto_hash_sha256_final(&st, aHash);
    sodium_bin2hex(zHex, sizeof zHex, aHash, 16);
    p->zSourceId = malloc(7 + 32 + 1);
    if( !p->zSourceId ){
      rc = CV_NOMEM;
    }else{
      memcpy(p->zSourceId, "sha256:", 7);
      memcpy(p->zSourceId + 7, zHex, 33);
    }
  }
  if( rc==CV_OK && !p->zUpdatedAt && p->zCreatedAt ){
    p->zUpdatedAt = dup_n(p->zCreatedAt, strlen(p->zCreatedAt));
    if( !p->zUpdatedAt ) rc = CV_NOMEM;
  }
  buf_free(&r->msgs);
  if( rc ){
    if( rc==CV_NOMEM ) snprintf(zWhy, nWhy, "out of memory");
    imp_conv_clear(p);
  }
  return rc;
}

/* Free what pConv owns and zero it. NULL is ok. */
void imp_conv_clear(struct imp_conv *pConv){
  if( !pConv ) return;
  free(pConv->zSourceId);
  free(pConv->zTitle);
  free(pConv->zCreatedAt);
  free(pConv->zUpdatedAt);
  free(pConv->zMessages);
  free(pConv->zCharacterName);
  free(pConv->zChatId);
  free(pConv->zCharacterPicture);
  free(pConv->zSceneName);
  free(pConv->zScenePicture);
  free(pConv->zTags);
  cJSON_Delete(pConv->pClientId);
  memset(pConv, 0, sizeof *pConv);
}

/* Text joined from parts, "\n\n" between non-empty parts, capped at IMP_MESSAGE_MAX_LEN. */
struct parts {
  struct cv_buf b;               /* the text so far */
  int n;                         /* non-empty parts joined */
  int bTooBig;                   /* a part did not fit: the message is over the limit */
  cv_rc rc;                      /* CV_NOMEM once memory ran out */
};

static void parts_init(struct parts *pp){
  memset(pp, 0, sizeof *pp);
  buf_init(&pp->b, IMP_MESSAGE_MAX_LEN);
}

/* Add z[0..n) as the next part (nothing when empty). */
static void parts_add(struct parts *pp, const char *z, size_t n){
  cv_rc rc = CV_OK;
  if( n==0 || pp->bTooBig || pp->rc ) return;
  if( pp->n ) rc = buf_append(&pp->b, "\n\n", 2);
  if( rc==CV_OK ) rc = buf_append(&pp->b, z, n);
  if( rc==CV_TOOLARGE ) pp->bTooBig = 1;
  else if( rc ) pp->rc = CV_NOMEM;
  pp->n++;
}

/* emit() the joined text with zRole, then free the parts. */
static void parts_emit(struct rd *r, struct parts *pp, const char *zRole){
  if( pp->rc ) r->rc = CV_NOMEM;
  else emit(r, zRole, pp->b.a ? pp->b.a : "", pp->b.n, pp->bTooBig);
  buf_free(&pp->b);
}

/* ---------------------------------------------------------------------------------------
** Trees: nodes, an id index, the walk along the current branch
*/

struct node {
  const cJSON *p;                /* the node's object (format-specific) */
  const char *zId;               /* its id, or NULL */
  const char *zParent;           /* its parent's id as written, or NULL */
  int iParent;                   /* the parent's index, -1 for none (root, or outside) */
  int bHasChild;                 /* some node names it as parent */
  int bTime;                     /* t is set */
  int64_t t;                     /* a time for picking the newest leaf (ms) */
  int mark;                      /* walk state */
};

/* Id -> node index, open addressing, keyed SipHash (crafted ids cannot collide on purpose). */
struct idx {
  int *a;                        /* slots: node index + 1, 0 empty */
  size_t nSlot;                  /* a power of two, at least twice the nodes */
  unsigned char aKey[crypto_shorthash_KEYBYTES];
};

/* An index with room for n nodes. CV_NOMEM possible. */
static cv_rc idx_init(struct idx *x, int n){
  size_t nSlot = 16;
  while( nSlot < (size_t)n*2 ) nSlot *= 2;
  x->a = calloc(nSlot, sizeof x->a[0]);
  x->nSlot = nSlot;
  randombytes_buf(x->aKey, sizeof x->aKey);
  return x->a ? CV_OK : CV_NOMEM;
}

static void idx_free(struct idx *x){
  free(x->a);
  x->a = NULL;
}

static size_t idx_hash(const struct idx *x, const char *z){
  unsigned char h[crypto_shorthash_BYTES];
  size_t v = 0;
  int i;
  crypto_shorthash(h, (const unsigned char*)z, strlen(z), x->aKey);
  for(i=0; i<(int)sizeof h; i++) v = (v<<8) | h[i];
  return v;
}

/* The slot of id z: where it is, or the empty slot where it would go. */
static size_t idx_slot(const struct idx *x, const struct node *aNode, const char *z){
  size_t i = idx_hash(x, z) & (x->nSlot - 1);
  while( x->a[i] && strcmp(aNode[x->a[i]-1].zId, z)!=0 ) i = (i + 1) & (x->nSlot - 1);
  return i;
}

/* Add node i under its id (the first node of an id wins; no id: not added). */
static void idx_add(struct idx *x, const struct node *aNode, int i){
  size_t k;
  if( !aNode[i].zId ) return;
  k = idx_slot(x, aNode, aNode[i].zId);
  if( !x->a[k] ) x->a[k] = i + 1;
}

/* The index of the node with id z, or -1. */
static int idx_find(const struct idx *x, const struct node *aNode, const char *z){
  size_t k;
  if( !z ) return -1;
  k = idx_slot(x, aNode, z);
  return x->a[k] ? x->a[k] - 1 : -1;
}

/* A growable array of nodes. */
struct nodes {
  struct node *a;
  int n, nAlloc;
};

/* Append a node for object p (fields zeroed, iParent -1). NULL when out of memory or over
** IMP_MAX_NODES (*pbTooMany then set). */
static struct node *nodes_add(struct nodes *pN, const cJSON *p, int *pbTooMany){
  struct node *pNode;
  if( pN->n>=IMP_MAX_NODES ){ *pbTooMany = 1; return NULL; }
  if( pN->n>=pN->nAlloc ){
    int nNew = pN->nAlloc ? pN->nAlloc*2 : 16;
    struct node *aNew = realloc(pN->a, (size_t)nNew*sizeof aNew[0]);
    if( !aNew ) return NULL;
    pN->a = aNew;
    pN->nAlloc = nNew;
  }
  pNode = &pN->a[pN->n++];
  memset(pNode, 0, sizeof *pNode);
  pNode->p = p;
  pNode->iParent = -1;
  return pNode;
}

/* Resolve every node's zParent through the index (a node naming itself has no parent) and
** set bHasChild. */
static void nodes_link(struct nodes *pN, const struct idx *x){
  int i;
  for(i=0; i<pN->n; i++){
    int j = idx_find(x, pN->a, pN->a[i].zParent);
    pN->a[i].iParent = j==i ? -1 : j;
    if( pN->a[i].iParent>=0 ) pN->a[pN->a[i].iParent].bHasChild = 1;
  }
}

/* Build the index over all nodes and link them. CV_NOMEM possible. */
static cv_rc nodes_index(struct nodes *pN, struct idx *x){
  int i;
  if( idx_init(x, pN->n) ) return CV_NOMEM;
  for(i=0; i<pN->n; i++) idx_add(x, pN->a, i);
  nodes_link(pN, x);
  return CV_OK;
}

/* The newest leaf (no child): greatest t, nodes with no time oldest, ties to the later node
** in the file. When every node has a child (a cycle), all nodes are candidates. -1 if none. */
static int newest_leaf(const struct nodes *pN){
  int i, iBest = -1, bAny = 0, pass;
  for(pass=0; pass<2 && iBest<0; pass++){
    for(i=0; i<pN->n; i++){
      const struct node *q = &pN->a[i];
      if( pass==0 && q->bHasChild ) continue;
      bAny = 1;
      if( iBest<0 ){ iBest = i; continue; }
      if( !q->bTime ){
        if( !pN->a[iBest].bTime ) iBest = i;
        continue;
      }
      if( !pN->a[iBest].bTime || q->t>=pN->a[iBest].t ) iBest = i;
    }
    if( bAny ) break;
  }
  return iBest;
}

/* Give nodes without a time the time of their nearest ancestor that has one (memoized: each
** node is walked once; cycles end the walk). Uses and resets the marks. */
static void nodes_inherit_time(struct nodes *pN){
  int i, j, k;
  for(i=0; i<pN->n; i++) pN->a[i].mark = 0;
  for(i=0; i<pN->n; i++){
    if( pN->a[i].mark ) continue;
    /* walk up to a node that is done, timed, a root, or on this walk (cycle) */
    j = i;
    while( j>=0 && !pN->a[j].mark && !pN->a[j].bTime ){
      pN->a[j].mark = 1;
      j = pN->a[j].iParent;
    }
    /* j: a timed node, a done node, or -1/cycle (mark 1); copy down along the walk */
    {
      int bT = j>=0 && pN->a[j].bTime && pN->a[j].mark!=1;
      int64_t t = bT ? pN->a[j].t : 0;
      if( j>=0 && pN->a[j].mark==0 ) pN->a[j].mark = 2;   /* timed, now done */
      k = i;
      while( k>=0 && pN->a[k].mark==1 ){
        pN->a[k].mark = 2;
        if( bT && !pN->a[k].bTime ){ pN->a[k].t = t; pN->a[k].bTime = 1; }
        k = pN->a[k].iParent;
      }
    }
  }
  for(i=0; i<pN->n; i++) pN->a[i].mark = 0;
}

/* The branch from the root to node iLeaf as node indices in order, in a malloc'd array
** (*paPath, *pnPath). Stops at a node without parent, a parent outside, or a node seen on
** this walk (a cycle). CV_NOMEM possible. Uses and resets the marks. */
static cv_rc path_walk(struct nodes *pN, int iLeaf, int **paPath, int *pnPath){
  int n = 0, i, j, *a;
  *paPath = NULL;
  *pnPath = 0;
  for(j=iLeaf; j>=0 && !pN->a[j].mark; j=pN->a[j].iParent){ pN->a[j].mark = 1; n++; }
  a = malloc((size_t)(n ? n : 1)*sizeof a[0]);
  if( !a ){
    for(j=iLeaf; j>=0 && pN->a[j].mark; j=pN->a[j].iParent) pN->a[j].mark = 0;
    return CV_NOMEM;
  }
  for(i=n-1, j=iLeaf; i>=0; i--, j=pN->a[j].iParent){
    a[i] = j;
    pN->a[j].mark = 0;
  }
  *paPath = a;
  *pnPath = n;
  return CV_OK;
}

/* Count the leaves that are not the end of the chosen branch as one skip. */
static void skip_other_branches(struct rd *r, const struct nodes *pN, int iLeaf){
  int i, n = 0;
  for(i=0; i<pN->n; i++){
    if( !pN->a[i].bHasChild && i!=iLeaf ) n++;
  }
  if( n==1 ) skip(r, "1 other branch not imported (current branch only)");
  else if( n>1 ) skip(r, "%d other branches not imported (current branch only)", n);
}

/* ---------------------------------------------------------------------------------------
** ChatGPT
*/

/* Append z[0..n) to b, remembering the first failure in *pRc. */
static void bput(struct cv_buf *b, const char *z, size_t n, cv_rc *pRc){
  if( *pRc==CV_OK && n>0 ) *pRc = buf_append(b, z, n);
}

/* Hand b to pp as one part after the appends that built it: a failed append means the part
** was over the cap (CV_TOOLARGE) or memory ran out. Frees b. */
static void parts_add_built(struct parts *pp, struct cv_buf *b, cv_rc rc){
  if( rc==CV_TOOLARGE ) pp->bTooBig = 1;
  else if( rc ) pp->rc = CV_NOMEM;
  else if( b->a ) parts_add(pp, b->a, b->n);
  buf_free(b);
}

/* Append ChatGPT text z to pp with its private-use citation markers normalized:
** U+E203..U+E206 (span marks) removed; U+E200 kind U+E202 a [U+E202 b ...] U+E201 replaced by
** a for "url" (the label), by the name for "entity" (the second string of its JSON array),
** and removed with the spaces before it for every other kind (cite, filecite, genui, ...).
** A U+E200 without its U+E201 (within 4096 bytes) is left as written. */
static void parts_add_chatgpt(struct parts *pp, const char *z){
  struct cv_buf b;
  size_t n = strlen(z), i = 0, iRun = 0;
  cv_rc rc = CV_OK;
  if( !memchr(z, 0xEE, n) ){ parts_add(pp, z, n); return; }
  buf_init(&b, IMP_MESSAGE_MAX_LEN);
  while( i<n ){
    const unsigned char *u = (const unsigned char*)z + i;
    if( i+2<n && u[0]==0xEE && u[1]==0x88 && u[2]>=0x83 && u[2]<=0x86 ){
      bput(&b, z + iRun, i - iRun, &rc);           /* U+E203..U+E206: a span mark */
      i += 3;
      iRun = i;
      continue;
    }
    if( i+2<n && u[0]==0xEE && u[1]==0x88 && u[2]==0x80 ){
      const char *zEnd = NULL, *zKind = z + i + 3, *zF1 = NULL, *zF1End = NULL;
      size_t k;
      for(k=i+3; k+2<n && k<i+3+4096; k++){
        if( (unsigned char)z[k]==0xEE && (unsigned char)z[k+1]==0x88 ){
          if( (unsigned char)z[k+2]==0x81 ){ zEnd = z + k; break; }
          if( (unsigned char)z[k+2]==0x82 ){
            if( !zF1 ) zF1 = z + k + 3;
            else if( !zF1End ) zF1End = z + k;
          }
          if( (unsigned char)z[k+2]==0x80 ) break;     /* another marker: this one is broken */
        }
      }
      if( zEnd ){
        const char *zKindEnd = zF1 ? zF1 - 3 : zEnd;
        size_t nKind = (size_t)(zKindEnd - zKind), nRun = i - iRun;
        if( zF1 && !zF1End ) zF1End = zEnd;
        if( nKind==3 && memcmp(zKind, "url", 3)==0 && zF1 ){
          bput(&b, z + iRun, nRun, &rc);
          bput(&b, zF1, (size_t)(zF1End - zF1), &rc);
        }else if( nKind==6 && memcmp(zKind, "entity", 6)==0 && zF1 ){
          cJSON *pArr = cJSON_ParseWithLength(zF1, (size_t)(zF1End - zF1));
          const cJSON *pName = cJSON_IsArray(pArr) ? cJSON_GetArrayItem(pArr, 1) : NULL;
          bput(&b, z + iRun, nRun, &rc);
          if( cJSON_IsString(pName) && pName->valuestring ){
            bput(&b, pName->valuestring, strlen(pName->valuestring), &rc);
          }else if( !cJSON_IsArray(pArr) ){
            bput(&b, zF1, (size_t)(zF1End - zF1), &rc);
          }
          cJSON_Delete(pArr);
        }else{
          while( nRun>0 && z[iRun + nRun - 1]==' ' ) nRun--;
          bput(&b, z + iRun, nRun, &rc);
        }
        i = (size_t)(zEnd - z) + 3;
        iRun = i;
        continue;
      }
    }
    i++;
  }
  bput(&b, z + iRun, n - iRun, &rc);
  parts_add_built(pp, &b, rc);
}

/* Read one ChatGPT message object m (a node on the branch) into r. */
static void chatgpt_message(struct rd *r, const cJSON *m){
  char zName[41];
  const cJSON *pAuthor = get(m, "author"), *pContent = get(m, "content");
  const cJSON *pMeta = get(m, "metadata");
  const char *zRole = get_str(pAuthor, "role");
  const char *zRecipient = get_str(m, "recipient");
  const char *zType = get_str(pContent, "content_type");
  const cJSON *pParts, *pPart;
  struct parts pp;
  if( zRole && strcmp(zRole, "system")==0 ){ skip(r, "system message skipped"); return; }
  if( zRole && strcmp(zRole, "tool")==0 ){
    if( get_nstr(pAuthor, "name") ){
      skip(r, "tool output (%s) skipped", reason_name(get_str(pAuthor, "name"), zName));
    }else{
      skip(r, "tool output skipped");
    }
    return;
  }
  if( !zRole || (strcmp(zRole, "user")!=0 && strcmp(zRole, "assistant")!=0) ){
    skip(r, "message with role '%s' skipped", reason_name(zRole, zName));
    return;
  }
  if( zRecipient && strcmp(zRecipient, "all")!=0 ){
    skip(r, "tool call (%s) skipped", reason_name(zRecipient, zName));
    return;
  }
  if( get_true(pMeta, "is_visually_hidden_from_conversation") ){
    skip(r, "hidden message skipped");
    return;
  }
  if( !zType ){
    skip(r, "message without content skipped");
    return;
  }
  if( strcmp(zType, "text")!=0 && strcmp(zType, "multimodal_text")!=0 ){
    skip(r, "%s content skipped", reason_name(zType, zName));
    return;
  }
  pParts = get(pContent, "parts");
  parts_init(&pp);
  cJSON_ArrayForEach(pPart, as_array(pParts)){
    if( cJSON_IsString(pPart) && pPart->valuestring ){
      parts_add_chatgpt(&pp, pPart->valuestring);
    }else if( cJSON_IsObject(pPart) ){
      const char *zPT = get_str(pPart, "content_type");
      const char *zText = get_str(pPart, "text");
      if( zPT && strcmp(zPT, "audio_transcription")==0 && zText ){
        parts_add_chatgpt(&pp, zText);
      }else if( zPT && strcmp(zPT, "image_asset_pointer")==0 ){
        skip(r, "image part skipped");
      }else if( get(pPart, "audio_asset_pointer") || (zPT && strstr(zPT, "audio")) ){
        skip(r, "audio part skipped");
      }else{
        skip(r, "%s part skipped", zPT ? reason_name(zPT, zName) : "non-text");
      }
    }else if( !cJSON_IsNull(pPart) ){
      skip(r, "non-text part skipped");
    }
  }
  parts_emit(r, &pp, zRole);
}

/* ChatGPT: mapping {id -> {message, parent, children}}, current_node; see the file header. */
static cv_rc read_chatgpt(const cJSON *pConv, struct rd *r, char *zWhy, size_t nWhy){
  const cJSON *pMap = get(pConv, "mapping"), *pItem;
  struct nodes N = {NULL, 0, 0};
  struct idx X = {NULL, 0, {0}};
  int *aPath = NULL, nPath = 0, iLeaf, i, bTooMany = 0, iPos = 0;
  cv_rc rc;
  if( !cJSON_IsObject(pMap) ){
    snprintf(zWhy, nWhy, "mapping is not an object");
    return CV_INVALID;
  }
  rc = set_source_id(r, get_nstr(pConv, "id") ? get_str(pConv, "id")
                                              : get_str(pConv, "conversation_id"), zWhy, nWhy);
  if( rc==CV_OK ) rc = set_title(r, get_str(pConv, "title"), NULL);
  if( rc==CV_OK ) rc = set_time_json(&r->p->zCreatedAt, get(pConv, "create_time"));
  if( rc==CV_OK ) rc = set_time_json(&r->p->zUpdatedAt, get(pConv, "update_time"));
  cJSON_ArrayForEach(pItem, pMap){
    struct node *q;
    if( rc ) break;
    if( !cJSON_IsObject(pItem) || !pItem->string ) continue;
    q = nodes_add(&N, pItem, &bTooMany);
    if( !q ){ rc = bTooMany ? CV_INVALID : CV_NOMEM; break; }
    q->zId = pItem->string;
    q->zParent = get_str(pItem, "parent");
    q->bTime = time_value(get(get(pItem, "message"), "create_time"), &q->t);
  }
  if( bTooMany ) snprintf(zWhy, nWhy, "too many messages");
  if( rc==CV_OK && N.n==0 ){
    snprintf(zWhy, nWhy, "no messages");
    rc = CV_INVALID;
  }
  if( rc==CV_OK ) rc = nodes_index(&N, &X);
  if( rc==CV_OK ){
    iLeaf = idx_find(&X, N.a, get_str(pConv, "current_node"));
    if( iLeaf<0 ) iLeaf = newest_leaf(&N);
    skip_other_branches(r, &N, iLeaf);
    rc = path_walk(&N, iLeaf, &aPath, &nPath);
  }
  for(i=0; rc==CV_OK && i<nPath && !r->rc; i++){
    const cJSON *m = get(N.a[aPath[i]].p, "message");
    if( !cJSON_IsObject(m) ) continue;            /* the root: no message */
    msg_begin(r, ++iPos);
    chatgpt_message(r, m);
  }
  r->iPos = 0;
  free(aPath);
  idx_free(&X);
  free(N.a);
  return rc;
}

/* ---------------------------------------------------------------------------------------
** Claude
*/

/* Read one Claude chat_message into r. */
static void claude_message(struct rd *r, const cJSON *m){
  char zName[41];
  const char *zSender = get_str(m, "sender"), *zRole;
  const cJSON *pContent = get(m, "content"), *pB, *pAtt;
  struct parts pp;
  int nOther = 0, nAtt = 0;
  if( zSender && strcmp(zSender, "human")==0 ) zRole = "user";
  else if( zSender && strcmp(zSender, "assistant")==0 ) zRole = "assistant";
  else{
    skip(r, "message from '%s' skipped", reason_name(zSender, zName));
    return;
  }
  parts_init(&pp);
  cJSON_ArrayForEach(pB, as_array(pContent)){
    const char *zType = get_str(pB, "type");
    if( zType && strcmp(zType, "text")==0 ){
      const char *zText = get_str(pB, "text");
      if( zText ) parts_add(&pp, zText, strlen(zText));
      continue;
    }
    if( zType && strcmp(zType, "token_budget")==0 ) continue;      /* bookkeeping */
    nOther++;
    if( !zType ) skip(r, "content block without type skipped");
    else if( strcmp(zType, "thinking")==0 ) skip(r, "thinking skipped");
    else if( strcmp(zType, "tool_use")==0 ){
      skip(r, "tool call (%s) skipped", reason_name(get_str(pB, "name"), zName));
    }else if( strcmp(zType, "tool_result")==0 ) skip(r, "tool result skipped");
    else skip(r, "%s block skipped", reason_name(zType, zName));
  }
  if( pp.n==0 && nOther==0 ){
    const char *zText = get_str(m, "text");      /* legacy flat text */
    if( zText ) parts_add(&pp, zText, strlen(zText));
  }
  cJSON_ArrayForEach(pAtt, as_array(get(m, "attachments"))){
    nAtt++;
  }
  cJSON_ArrayForEach(pAtt, as_array(get(m, "files"))){
    nAtt++;
  }
  if( nAtt ) skip(r, "%d attachment%s skipped", nAtt, nAtt==1 ? "" : "s");
  parts_emit(r, &pp, zRole);
}

/* Claude: chat_messages[] in order, or along parent_message_uuid links when the messages
** carry them (leaf: current_leaf_message_uuid, else the last message). */
static cv_rc read_claude(const cJSON *pConv, struct rd *r, char *zWhy, size_t nWhy){
  const cJSON *pMsgs = get(pConv, "chat_messages"), *pItem;
  struct nodes N = {NULL, 0, 0};
  struct idx X = {NULL, 0, {0}};
  int *aPath = NULL, nPath = 0, i, bTooMany = 0, bLinked = 0, iPos = 0;
  cv_rc rc;
  if( !cJSON_IsArray(pMsgs) ){
    snprintf(zWhy, nWhy, "chat_messages is not an array");
    return CV_INVALID;
  }
  rc = set_source_id(r, get_str(pConv, "uuid"), zWhy, nWhy);
  if( rc==CV_OK ) rc = set_title(r, get_str(pConv, "name"), get_str(pConv, "summary"));
  if( rc==CV_OK ) rc = set_time_json(&r->p->zCreatedAt, get(pConv, "created_at"));
  if( rc==CV_OK ) rc = set_time_json(&r->p->zUpdatedAt, get(pConv, "updated_at"));
  cJSON_ArrayForEach(pItem, pMsgs){
    struct node *q;
    if( rc ) break;
    q = nodes_add(&N, pItem, &bTooMany);
    if( !q ){ rc = bTooMany ? CV_INVALID : CV_NOMEM; break; }
    q->zId = get_nstr(pItem, "uuid");
    q->zParent = get_nstr(pItem, "parent_message_uuid");
    if( q->zParent ) bLinked = 1;
  }
  if( bTooMany ) snprintf(zWhy, nWhy, "too many messages");
  if( rc==CV_OK && N.n==0 ){
    snprintf(zWhy, nWhy, "no messages");
    rc = CV_INVALID;
  }
  if( rc==CV_OK && bLinked ){
    int iLeaf;
    rc = nodes_index(&N, &X);
    if( rc==CV_OK ){
      iLeaf = idx_find(&X, N.a, get_str(pConv, "current_leaf_message_uuid"));
      for(i=N.n-1; iLeaf<0 && i>=0; i--){        /* else the last message */
        if( cJSON_IsObject(N.a[i].p) ) iLeaf = i;
      }
      if( iLeaf<0 ) iLeaf = N.n - 1;
      skip_other_branches(r, &N, iLeaf);
      rc = path_walk(&N, iLeaf, &aPath, &nPath);
    }
  }else if( rc==CV_OK ){
    aPath = malloc((size_t)N.n*sizeof aPath[0]);
    if( !aPath ) rc = CV_NOMEM;
    for(i=0; aPath && i<N.n; i++) aPath[i] = i;
    nPath = N.n;
  }
  for(i=0; rc==CV_OK && i<nPath && !r->rc; i++){
    msg_begin(r, ++iPos);
    if( !cJSON_IsObject(N.a[aPath[i]].p) ){ skip(r, "not a message object, skipped"); continue; }
    claude_message(r, N.a[aPath[i]].p);
  }
  r->iPos = 0;
  free(aPath);
  idx_free(&X);
  free(N.a);
  return rc;
}

/* ---------------------------------------------------------------------------------------
** Open WebUI
*/

/* Remove Open WebUI's generated <details type="reasoning|tool_calls|code_interpreter"...>
** blocks (nested ones included) from z, counting each, and add the rest to pp. */
static void owui_content(struct rd *r, struct parts *pp, const char *z){
  struct cv_buf b;
  const char *zAt = z, *zOpen;
  char zName[41];
  cv_rc rc = CV_OK;
  if( !strstr(z, "<details") ){ parts_add(pp, z, strlen(z)); return; }
  buf_init(&b, IMP_MESSAGE_MAX_LEN);
  while( (zOpen = strstr(zAt, "<details type=\""))!=NULL ){
    const char *zType = zOpen + 15, *zQ = strchr(zType, '"'), *zScan, *zO, *zC;
    int depth = 0;
    char zT[41];
    size_t nT;
    if( !zQ ) break;
    nT = (size_t)(zQ - zType);
    if( nT>=sizeof zT ) nT = sizeof zT - 1;
    memcpy(zT, zType, nT);
    zT[nT] = 0;
    if( strcmp(zT, "reasoning")!=0 && strcmp(zT, "tool_calls")!=0
     && strcmp(zT, "code_interpreter")!=0 ){
      bput(&b, zAt, (size_t)(zQ - zAt), &rc);
      zAt = zQ;
      continue;
    }
    /* the matching </details>: both searches only move forward (linear in the text) */
    zO = strstr(zOpen + 1, "<details");
    zC = strstr(zOpen + 1, "</details>");
    for(;;){
      if( !zC ){ zScan = NULL; break; }
      if( zO && zO<zC ){ depth++; zO = strstr(zO + 1, "<details"); continue; }
      if( depth==0 ){ zScan = zC + 10; break; }
      depth--;
      zC = strstr(zC + 1, "</details>");
    }
    if( !zScan ) break;                          /* unclosed: kept as written */
    bput(&b, zAt, (size_t)(zOpen - zAt), &rc);
    if( strcmp(zT, "reasoning")==0 ) skip(r, "reasoning skipped");
    else if( strcmp(zT, "tool_calls")==0 ) skip(r, "tool calls skipped");
    else skip(r, "%s output skipped", reason_name(zT, zName));
    while( *zScan=='\n' || *zScan=='\r' ) zScan++;
    zAt = zScan;
  }
  bput(&b, zAt, strlen(zAt), &rc);
  parts_add_built(pp, &b, rc);
}

/* Read one Open WebUI message object into r. */
static void owui_message(struct rd *r, const cJSON *m){
  char zName[41];
  const char *zRole = get_str(m, "role"), *zContent;
  const cJSON *pFiles = get(m, "files"), *pF;
  struct parts pp;
  int nFiles = 0;
  if( !zRole || (strcmp(zRole, "user")!=0 && strcmp(zRole, "assistant")!=0) ){
    skip(r, "%s message skipped", zRole ? reason_name(zRole, zName) : "role-less");
    return;
  }
  cJSON_ArrayForEach(pF, as_array(pFiles)) nFiles++;
  if( nFiles ) skip(r, "%d file%s skipped", nFiles, nFiles==1 ? "" : "s");
  parts_init(&pp);
  zContent = get_str(m, "content");
  if( zContent ) owui_content(r, &pp, zContent);
  parts_emit(r, &pp, zRole);
}

/* Open WebUI: an exported row {id,title,chat:{...},created_at,updated_at} or the bare chat
** record; history.messages along parentId from history.currentId, else messages[]. */
static cv_rc read_openwebui(const cJSON *pConv, struct rd *r, char *zWhy, size_t nWhy){
  const cJSON *pChat = cJSON_IsObject(get(pConv, "chat")) ? get(pConv, "chat") : pConv;
  const cJSON *pHist = get(pChat, "history"), *pMsgs = get(pHist, "messages"), *pItem;
  const cJSON *pList = get(pChat, "messages");
  struct nodes N = {NULL, 0, 0};
  struct idx X = {NULL, 0, {0}};
  int *aPath = NULL, nPath = 0, i, bTooMany = 0, iPos = 0;
  int64_t tLast = 0, t;
  int bLast = 0;
  cv_rc rc;
  rc = set_source_id(r, get_nstr(pConv, "id") ? get_str(pConv, "id") : get_str(pChat, "id"),
                     zWhy, nWhy);
  if( rc==CV_OK ) rc = set_title(r, get_str(pConv, "title"), get_str(pChat, "title"));
  if( rc==CV_OK && pChat!=pConv ){
    rc = set_time_json(&r->p->zCreatedAt, get(pConv, "created_at"));
    if( rc==CV_OK ) rc = set_time_json(&r->p->zUpdatedAt, get(pConv, "updated_at"));
  }
  if( rc==CV_OK && !r->p->zCreatedAt && time_value(get(pChat, "timestamp"), &tLast) ){
    rc = set_time(&r->p->zCreatedAt, tLast);
    bLast = 1;                     /* updated: a later message's time, if any */
  }
  cJSON_ArrayForEach(pItem, as_object(pMsgs)){
    struct node *q;
    if( rc ) break;
    if( !cJSON_IsObject(pItem) || !pItem->string ) continue;
    q = nodes_add(&N, pItem, &bTooMany);
    if( !q ){ rc = bTooMany ? CV_INVALID : CV_NOMEM; break; }
    q->zId = pItem->string;
    q->zParent = get_str(pItem, "parentId");
  }
  if( rc==CV_OK && N.n>0 ){
    int iLeaf;
    rc = nodes_index(&N, &X);
    if( rc==CV_OK ){
      iLeaf = idx_find(&X, N.a, get_str(pHist, "currentId"));
      if( iLeaf<0 ){
        /* from the first root, follow the last childrenIds entry that exists (chats.py
        ** _last_descendant_id), at most one step per node */
        int k, nStep = 0;
        for(k=0; k<N.n && N.a[k].iParent>=0; k++){}
        iLeaf = k<N.n ? k : N.n - 1;
        while( nStep++ < N.n ){
          const cJSON *pKids = get(N.a[iLeaf].p, "childrenIds"), *pKid;
          int iNext = -1;
          cJSON_ArrayForEach(pKid, as_array(pKids)){
            int j = cJSON_IsString(pKid) ? idx_find(&X, N.a, pKid->valuestring) : -1;
            if( j>=0 && j!=iLeaf ) iNext = j;
          }
          if( iNext<0 ) break;
          iLeaf = iNext;
        }
      }
      skip_other_branches(r, &N, iLeaf);
      rc = path_walk(&N, iLeaf, &aPath, &nPath);
    }
  }else if( rc==CV_OK && cJSON_IsArray(pList) ){
    cJSON_ArrayForEach(pItem, pList){
      if( !nodes_add(&N, pItem, &bTooMany) ){ rc = bTooMany ? CV_INVALID : CV_NOMEM; break; }
    }
    if( rc==CV_OK && N.n>0 ){
      aPath = malloc((size_t)N.n*sizeof aPath[0]);
      if( !aPath ) rc = CV_NOMEM;
      for(i=0; aPath && i<N.n; i++) aPath[i] = i;
      nPath = N.n;
    }
  }
  if( bTooMany ) snprintf(zWhy, nWhy, "too many messages");
  if( rc==CV_OK && nPath==0 ){
    snprintf(zWhy, nWhy, "no messages");
    rc = CV_INVALID;
  }
  for(i=0; rc==CV_OK && i<nPath && !r->rc; i++){
    const cJSON *m = N.a[aPath[i]].p;
    msg_begin(r, ++iPos);
    if( !cJSON_IsObject(m) ){ skip(r, "not a message object, skipped"); continue; }
    if( time_value(get(m, "timestamp"), &t) && (!bLast || t>tLast) ){ tLast = t; bLast = 1; }
    owui_message(r, m);
  }
  r->iPos = 0;
  if( rc==CV_OK && !r->p->zUpdatedAt && bLast ) rc = set_time(&r->p->zUpdatedAt, tLast);
  free(aPath);
  idx_free(&X);
  free(N.a);
  return rc;
}

/* ---------------------------------------------------------------------------------------
** LibreChat
*/

/* Read one LibreChat message into r: role from isCreatedByUser; text, else content[] text
** parts; other content parts counted. */
static void librechat_message(struct rd *r, const cJSON *m){
  char zName[41];
  const cJSON *pContent = get(m, "content"), *pPart, *pBy = get(m, "isCreatedByUser");
  const char *zRole, *zText = get_str(m, "text"), *zSender = get_str(m, "sender");
  struct parts pp, ppC;
  if( cJSON_IsBool(pBy) ) zRole = cJSON_IsTrue(pBy) ? "user" : "assistant";
  else zRole = zSender && strcasecmp(zSender, "user")==0 ? "user" : "assistant";
  if( get_true(m, "error") ){
    skip(r, "error message skipped");
    return;
  }
  parts_init(&pp);
  parts_init(&ppC);
  cJSON_ArrayForEach(pPart, as_array(pContent)){
    const char *zType = get_str(pPart, "type");
    if( zType && strcmp(zType, "text")==0 ){
      const cJSON *pT = get(pPart, "text");
      const char *zT = cJSON_IsString(pT) ? pT->valuestring : get_str(pT, "value");
      if( zT ) parts_add(&ppC, zT, strlen(zT));
    }else if( !zType ){
      skip(r, "content part without type skipped");
    }else if( strcmp(zType, "think")==0 ){
      skip(r, "reasoning skipped");
    }else if( strcmp(zType, "tool_call")==0 ){
      skip(r, "tool call skipped");
    }else if( strncmp(zType, "image", 5)==0 ){
      skip(r, "image part skipped");
    }else{
      skip(r, "%s part skipped", reason_name(zType, zName));
    }
  }
  if( zText && !is_blank(zText, strlen(zText)) ){
    parts_add(&pp, zText, strlen(zText));
    buf_free(&ppC.b);
    parts_emit(r, &pp, zRole);
  }else{
    buf_free(&pp.b);
    parts_emit(r, &ppC, zRole);
  }
}

/* Flatten LibreChat's messages (flat, or nested under "children") into N in document order,
** without recursion: a stack of the next sibling to visit at each level. A child without
** parentMessageId gets its container as parent. CV_INVALID (too many) or CV_NOMEM. */
static cv_rc librechat_flatten(const cJSON *pList, struct nodes *pN, int *pbTooMany){
  struct stk { const cJSON *pNext; int iParent; } *aStk = NULL;
  int nStk = 0, nAlloc = 0;
  cv_rc rc = CV_OK;
  if( !pList->child ) return CV_OK;
  aStk = malloc(16*sizeof aStk[0]);
  if( !aStk ) return CV_NOMEM;
  nAlloc = 16;
  aStk[0].pNext = pList->child;
  aStk[0].iParent = -1;
  nStk = 1;
  while( nStk>0 && rc==CV_OK ){
    const cJSON *p = aStk[nStk-1].pNext, *pKids;
    int iParent = aStk[nStk-1].iParent, iSelf;
    struct node *q;
    if( !p ){ nStk--; continue; }
    aStk[nStk-1].pNext = p->next;
    if( !cJSON_IsObject(p) ) continue;
    q = nodes_add(pN, p, pbTooMany);
    if( !q ){ rc = *pbTooMany ? CV_INVALID : CV_NOMEM; break; }
    iSelf = pN->n - 1;
    q->zId = get_nstr(p, "messageId");
    q->zParent = get_nstr(p, "parentMessageId");
    if( q->zParent && strcmp(q->zParent, NO_PARENT_UUID)==0 ) q->zParent = NULL;
    if( !q->zParent && iParent>=0 ) q->zParent = pN->a[iParent].zId;
    q->bTime = time_value(get(p, "createdAt"), &q->t);
    pKids = get(p, "children");
    if( cJSON_IsArray(pKids) && pKids->child ){
      if( nStk>=nAlloc ){
        struct stk *aNew;
        if( nAlloc>=IMP_MAX_NODES ){ *pbTooMany = 1; rc = CV_INVALID; break; }
        aNew = realloc(aStk, (size_t)nAlloc*2*sizeof aStk[0]);
        if( !aNew ){ rc = CV_NOMEM; break; }
        aStk = aNew;
        nAlloc *= 2;
      }
      aStk[nStk].pNext = pKids->child;
      aStk[nStk].iParent = iSelf;
      nStk++;
    }
  }
  free(aStk);
  return rc;
}

/* LibreChat: {conversationId, title, messages|messagesTree}; leaf = the newest leaf (its
** createdAt, or its nearest dated ancestor's; ties: the later in the file). */
static cv_rc read_librechat(const cJSON *pConv, struct rd *r, char *zWhy, size_t nWhy){
  const cJSON *pList = get(pConv, "messages");
  struct nodes N = {NULL, 0, 0};
  struct idx X = {NULL, 0, {0}};
  int *aPath = NULL, nPath = 0, i, bTooMany = 0, iPos = 0;
  int64_t tMin = 0, tMax = 0, t;
  int bMin = 0, bMax = 0;
  cv_rc rc;
  if( !cJSON_IsArray(pList) ) pList = get(pConv, "messagesTree");
  if( !cJSON_IsArray(pList) ){
    snprintf(zWhy, nWhy, "messages is not an array");
    return CV_INVALID;
  }
  rc = set_source_id(r, get_str(pConv, "conversationId"), zWhy, nWhy);
  if( rc==CV_OK ) rc = set_title(r, get_str(pConv, "title"), NULL);
  if( rc==CV_OK ) rc = librechat_flatten(pList, &N, &bTooMany);
  if( bTooMany ) snprintf(zWhy, nWhy, "too many messages");
  if( rc==CV_OK && N.n==0 ){
    snprintf(zWhy, nWhy, "no messages");
    rc = CV_INVALID;
  }
  if( rc==CV_OK ) rc = nodes_index(&N, &X);
  if( rc==CV_OK ){
    int iLeaf;
    nodes_inherit_time(&N);
    iLeaf = newest_leaf(&N);
    skip_other_branches(r, &N, iLeaf);
    rc = path_walk(&N, iLeaf, &aPath, &nPath);
  }
  for(i=0; rc==CV_OK && i<nPath && !r->rc; i++){
    const cJSON *m = N.a[aPath[i]].p;
    msg_begin(r, ++iPos);
    if( time_value(get(m, "createdAt"), &t) ){
      if( !bMin || t<tMin ){ tMin = t; bMin = 1; }
      if( !bMax || t>tMax ){ tMax = t; bMax = 1; }
    }
    if( time_value(get(m, "updatedAt"), &t) && (!bMax || t>tMax) ){ tMax = t; bMax = 1; }
    librechat_message(r, m);
  }
  r->iPos = 0;
  if( rc==CV_OK && bMin ) rc = set_time(&r->p->zCreatedAt, tMin);
  if( rc==CV_OK && bMax ) rc = set_time(&r->p->zUpdatedAt, tMax);
  free(aPath);
  idx_free(&X);
  free(N.a);
  return rc;
}

/* ---------------------------------------------------------------------------------------
** chatbot-ui and chatvault: linear {role, content} lists
*/

/* Read a linear list of {role, content[, type]} messages into r. */
static void read_role_list(struct rd *r, const cJSON *pList){
  char zName[41];
  const cJSON *m;
  int iPos = 0;
  cJSON_ArrayForEach(m, pList){
    const char *zRole = get_str(m, "role"), *zContent = get_str(m, "content");
    const char *zType = get_str(m, "type");
    if( r->rc ) break;
    msg_begin(r, ++iPos);
    if( !cJSON_IsObject(m) ){ skip(r, "not a message object, skipped"); continue; }
    if( !zRole || (strcmp(zRole, "user")!=0 && strcmp(zRole, "assistant")!=0) ){
      skip(r, "%s message skipped", zRole ? reason_name(zRole, zName) : "role-less");
      continue;
    }
    if( zType && strcmp(zType, "text")!=0 ){
      skip(r, "%s message skipped", reason_name(zType, zName));
      continue;
    }
    if( !zContent ){
      skip(r, "non-text content skipped");
      continue;
    }
    emit(r, zRole, zContent, strlen(zContent), 0);
  }
  r->iPos = 0;
}

/* chatbot-ui: one "history" element {id, name, messages[{role, content}], model, ...}. */
static cv_rc read_chatbotui(const cJSON *pConv, struct rd *r, char *zWhy, size_t nWhy){
  const cJSON *pList = get(pConv, "messages");
  cv_rc rc;
  if( !cJSON_IsArray(pList) ){
    snprintf(zWhy, nWhy, "messages is not an array");
    return CV_INVALID;
  }
  if( !pList->child ){
    snprintf(zWhy, nWhy, "no messages");
    return CV_INVALID;
  }
  rc = set_source_id(r, get_str(pConv, "id"), zWhy, nWhy);
  if( rc==CV_OK ) rc = set_title(r, get_str(pConv, "name"), NULL);
  if( rc==CV_OK ) read_role_list(r, pList);
  return rc;
}

/* A positive integer id from member zKey, or 0. */
static int64_t get_id(const cJSON *pObj, const char *zKey){
  const cJSON *p = get(pObj, zKey);
  if( !cJSON_IsNumber(p) || !(p->valuedouble>=1 && p->valuedouble<9007199254740992.0) ) return 0;
  if( p->valuedouble!=floor(p->valuedouble) ) return 0;
  return (int64_t)p->valuedouble;
}

/* chatvault: a thread (ChatThreadOut + client_id) or a chat history entry (chat_id ...). */
static cv_rc read_chatvault(const cJSON *pConv, struct rd *r, char *zWhy, size_t nWhy){
  struct imp_conv *p = r->p;
  const cJSON *pList = get(pConv, "messages"), *pCid = get(pConv, "client_id");
  char zNum[64];
  cv_rc rc = CV_OK;
  if( !cJSON_IsArray(pList) ){
    snprintf(zWhy, nWhy, "messages is not an array");
    return CV_INVALID;
  }
  if( !pList->child ){
    snprintf(zWhy, nWhy, "no messages");
    return CV_INVALID;
  }
  if( get(pConv, "chat_id") ){
    const char *zChatId = get_str(pConv, "chat_id");
    p->eKind = CV_CONV_CHAT;
    rc = set_source_id(r, zChatId, zWhy, nWhy);
    if( rc==CV_OK && zChatId && util_uuid_valid(zChatId) ){
      p->zChatId = dup_n(zChatId, strlen(zChatId));
      if( !p->zChatId ) rc = CV_NOMEM;
    }
    p->srcCharacterId = get_id(pConv, "character_id");
    p->srcSceneId = get_id(pConv, "scene_id");
    p->srcPersonaId = get_id(pConv, "persona_id");
    if( rc==CV_OK ) rc = copy_text(get_str(pConv, "character_name"), CV_NAME_MAX_CHARS,
                                   &p->zCharacterName);
    if( rc==CV_OK ) rc = copy_text(get_str(pConv, "character_picture"), CV_PICTURE_MAX_CHARS,
                                   &p->zCharacterPicture);
    if( rc==CV_OK ) rc = copy_text(get_str(pConv, "scene_name"), CV_NAME_MAX_CHARS,
                                   &p->zSceneName);
    if( rc==CV_OK ) rc = copy_text(get_str(pConv, "scene_picture"), CV_PICTURE_MAX_CHARS,
                                   &p->zScenePicture);
    if( rc==CV_OK ) rc = set_time_json(&p->zUpdatedAt, get(pConv, "last_updated"));
  }else{
    const cJSON *pTags = get(pConv, "tags"), *pTag;
    p->eKind = CV_CONV_THREAD;
    if( cJSON_IsString(pCid) && pCid->valuestring && pCid->valuestring[0] ){
      rc = set_source_id(r, pCid->valuestring, zWhy, nWhy);
    }else if( cJSON_IsNumber(pCid) && isfinite(pCid->valuedouble) ){
      if( pCid->valuedouble==floor(pCid->valuedouble) && fabs(pCid->valuedouble)<1e18 ){
        snprintf(zNum, sizeof zNum, "%lld", (long long)pCid->valuedouble);
      }else{
        snprintf(zNum, sizeof zNum, "%.17g", pCid->valuedouble);
      }
      rc = set_source_id(r, zNum, zWhy, nWhy);
    }else if( get_id(pConv, "id") ){
      snprintf(zNum, sizeof zNum, "id:%lld", (long long)get_id(pConv, "id"));
      rc = set_source_id(r, zNum, zWhy, nWhy);
    }
    if( rc==CV_OK && (cJSON_IsString(pCid) || cJSON_IsNumber(pCid)) ){
      p->pClientId = cJSON_Duplicate(pCid, 0);
      if( !p->pClientId ) rc = CV_NOMEM;
    }
    p->bPinned = get_true(pConv, "pinned");
    p->bArchived = get_true(pConv, "archived");
    if( rc==CV_OK && cJSON_IsArray(pTags) ){
      struct cv_buf b;
      int n = 0;
      buf_init(&b, 64*1024);
      rc = buf_append(&b, "[", 1);
      cJSON_ArrayForEach(pTag, pTags){
        const char *z = cJSON_IsString(pTag) ? pTag->valuestring : NULL;
        if( rc ) break;
        if( !z || !z[0] || !util_utf8_valid(z, strlen(z)) || n>=64 ) continue;
        if( n++ ) rc = buf_append(&b, ",", 1);
        if( rc==CV_OK ) rc = render_json_string(&b, z);
      }
      if( rc==CV_OK ) rc = buf_append(&b, "]", 1);
      if( rc==CV_TOOLARGE ){                       /* absurd tags: none kept */
        buf_free(&b);
        rc = CV_OK;
      }else if( rc ){
        buf_free(&b);
        rc = CV_NOMEM;
      }else{
        p->zTags = b.a;
      }
    }
    if( rc==CV_OK ) rc = set_time_json(&p->zUpdatedAt, get(pConv, "updated_at"));
  }
  if( rc==CV_OK ) rc = set_title(r, get_str(pConv, "title"), NULL);
  if( rc==CV_OK ) rc = set_time_json(&p->zCreatedAt, get(pConv, "created_at"));
  if( rc==CV_OK ) read_role_list(r, pList);
  return rc;
}

/* ---------------------------------------------------------------------------------------
** Detection and the entry points
*/

/* 1 when item p looks like a {role, content} message (or the list is empty). */
static int role_list(const cJSON *pList){
  const cJSON *p;
  if( !cJSON_IsArray(pList) ) return 0;
  p = pList->child;
  return !p || (get_str(p, "role") && get(p, "content"));
}

/* The format of one conversation object, from its keys (imp_formats.h). */
enum imp_format imp_detect(const cJSON *pConv){
  const cJSON *pChat, *pHist, *pMsgs;
  if( !cJSON_IsObject(pConv) ) return IMP_UNKNOWN;
  if( cJSON_IsObject(get(pConv, "mapping")) ) return IMP_CHATGPT;
  if( cJSON_IsArray(get(pConv, "chat_messages")) ) return IMP_CLAUDE;
  pChat = get(pConv, "chat");
  if( cJSON_IsObject(pChat) && (get(pChat, "history") || get(pChat, "messages")) ){
    return IMP_OPENWEBUI;
  }
  pHist = get(pConv, "history");
  if( cJSON_IsObject(pHist) && cJSON_IsObject(get(pHist, "messages")) ) return IMP_OPENWEBUI;
  pMsgs = get(pConv, "messages");
  if( cJSON_IsArray(pMsgs) && pMsgs->child && get(pMsgs->child, "messageId") ){
    return IMP_LIBRECHAT;
  }
  if( get(pConv, "conversationId")
   && (get(pConv, "recursive") || cJSON_IsArray(get(pConv, "messagesTree"))
       || cJSON_IsArray(pMsgs)) ){
    return IMP_LIBRECHAT;
  }
  if( (get(pConv, "client_id") || get(pConv, "chat_id")) && role_list(pMsgs) ){
    return IMP_CHATVAULT;
  }
  if( (get(pConv, "model") || get(pConv, "folderId")) && role_list(pMsgs) ) return IMP_CHATBOTUI;
  return IMP_UNKNOWN;
}

/* Read one conversation of format eFormat (imp_formats.h). */
cv_rc imp_read(enum imp_format eFormat, const cJSON *pConv, struct imp_conv *pOut,
               char *zWhy, size_t nWhy){
  struct rd r;
  cv_rc rc;
  char zDummy[8];
  if( !zWhy || nWhy==0 ){ zWhy = zDummy; nWhy = sizeof zDummy; }
  zWhy[0] = 0;
  rd_init(&r, pOut);
  pOut->eKind = CV_CONV_THREAD;
  if( !cJSON_IsObject(pConv) ){
    snprintf(zWhy, nWhy, "the conversation is not an object");
    rc = CV_INVALID;
  }else{
    switch( eFormat ){
      case IMP_CHATGPT:   rc = read_chatgpt(pConv, &r, zWhy, nWhy); break;
      case IMP_CLAUDE:    rc = read_claude(pConv, &r, zWhy, nWhy); break;
      case IMP_OPENWEBUI: rc = read_openwebui(pConv, &r, zWhy, nWhy); break;
      case IMP_LIBRECHAT: rc = read_librechat(pConv, &r, zWhy, nWhy); break;
      case IMP_CHATBOTUI: rc = read_chatbotui(pConv, &r, zWhy, nWhy); break;
      case IMP_CHATVAULT: rc = read_chatvault(pConv, &r, zWhy, nWhy); break;
      case IMP_SILLYTAVERN:
      case IMP_UNKNOWN:
      default:
        snprintf(zWhy, nWhy, "format %s is not read by imp_read", imp_format_name(eFormat));
        rc = CV_INVALID;
        break;
    }
  }
  return finish(&r, rc, zWhy, nWhy);
}

/* ---------------------------------------------------------------------------------------
** SillyTavern
*/

/* The text of a SillyTavern "mes" (a string, or Chub's {message: ...}), or NULL. */
static const char *st_text(const cJSON *p){
  if( cJSON_IsString(p) ) return p->valuestring;
  return get_str(p, "message");
}

/* 1 when a header's character name is a real name (not the modern placeholder "unused"). */
static int st_real_name(const char *z){
  return z && z[0] && strcmp(z, "unused")!=0;
}

/* Read a SillyTavern chat (imp_formats.h). */
cv_rc imp_read_sillytavern(const cJSON *pHeader, const cJSON *const *aLine, int nLine,
                           struct imp_conv *pOut, char *zWhy, size_t nWhy){
  struct rd r;
  struct imp_conv *p = pOut;
  const char *zChar = NULL, *zCreate = NULL;
  const cJSON *pCreate = get(pHeader, "create_date");
  char zNum[64], zName[41];
  int64_t t, tLast = 0;
  int i, bLast = 0;
  cv_rc rc = CV_OK;
  char zDummy[8];
  if( !zWhy || nWhy==0 ){ zWhy = zDummy; nWhy = sizeof zDummy; }
  zWhy[0] = 0;
  rd_init(&r, pOut);
  p->eKind = CV_CONV_CHAT;
  if( nLine<0 || (nLine>0 && !aLine) ) nLine = 0;
  if( nLine==0 ){
    snprintf(zWhy, nWhy, "no messages");
    return finish(&r, CV_INVALID, zWhy, nWhy);
  }
  /* the character: the header's name, else the first name of a character line */
  zChar = get_str(pHeader, "character_name");
  for(i=0; !st_real_name(zChar) && i<nLine; i++){
    if( !get_true(aLine[i], "is_user") && !get_true(aLine[i], "is_system") ){
      zChar = get_str(aLine[i], "name");
    }
  }
  if( !st_real_name(zChar) ) zChar = NULL;
  if( zChar ){
    /* a name of more than CV_NAME_MAX_CHARS is cut at a character */
    size_t n = strlen(zChar);
    if( util_utf8_valid(zChar, n) ){
      n = util_utf8_prefix_len(zChar, CV_NAME_MAX_CHARS);
      p->zCharacterName = dup_n(zChar, n);
      if( !p->zCharacterName ) rc = CV_NOMEM;
    }
  }
  /* the source id: "<name> - <create_date>", else the integrity id, else (finish) the hash */
  if( cJSON_IsNumber(pCreate) && isfinite(pCreate->valuedouble)
   && fabs(pCreate->valuedouble)<1e18 ){
    if( pCreate->valuedouble==floor(pCreate->valuedouble) ){
      snprintf(zNum, sizeof zNum, "%lld", (long long)pCreate->valuedouble);
    }else{
      snprintf(zNum, sizeof zNum, "%.17g", pCreate->valuedouble);
    }
    zCreate = zNum;
  }else if( get_nstr(pHeader, "create_date") ){
    zCreate = get_str(pHeader, "create_date");
  }
  if( rc==CV_OK && zCreate ){
    const char *zN = p->zCharacterName ? p->zCharacterName : "";
    size_t nId = strlen(zN) + strlen(zCreate) + 4;
    char *zId = malloc(nId);
    if( !zId ){
      rc = CV_NOMEM;
    }else{
      snprintf(zId, nId, "%s%s%s", zN, zN[0] ? " - " : "", zCreate);
      rc = set_source_id(&r, zId, zWhy, nWhy);
      free(zId);
    }
  }else if( rc==CV_OK ){
    rc = set_source_id(&r, get_str(get(pHeader, "chat_metadata"), "integrity"), zWhy, nWhy);
    if( rc==CV_OK && p->zSourceId ){
      size_t nId = strlen(p->zSourceId) + 11;
      char *zId = malloc(nId);
      if( !zId ){
        rc = CV_NOMEM;
      }else{
        snprintf(zId, nId, "integrity:%s", p->zSourceId);
        free(p->zSourceId);
        p->zSourceId = zId;
      }
    }
  }
  if( rc==CV_OK ) rc = set_time_json(&p->zCreatedAt, pCreate);
  for(i=0; rc==CV_OK && i<nLine && !r.rc; i++){
    const cJSON *m = aLine[i], *pSwipes = get(m, "swipes"), *pExtra = get(m, "extra");
    const char *zMes;
    int nSwipe;
    msg_begin(&r, i+1);
    if( !cJSON_IsObject(m) ){ skip(&r, "not a message object, skipped"); continue; }
    if( time_value(get(m, "send_date"), &t) ){
      if( !p->zCreatedAt ) rc = set_time(&p->zCreatedAt, t);
      if( !bLast || t>tLast ){ tLast = t; bLast = 1; }
    }
    if( get_nstr(pExtra, "type") ){
      skip(&r, "system message (%s) skipped", reason_name(get_str(pExtra, "type"), zName));
      continue;
    }
    if( get_true(m, "is_system") ){
      skip(&r, "hidden message skipped");
      continue;
    }
    nSwipe = cJSON_IsArray(pSwipes) ? cJSON_GetArraySize(pSwipes) : 0;
    if( nSwipe>1 ) skip(&r, "%d other swipes skipped", nSwipe - 1);
    if( get(pExtra, "image") || get(pExtra, "inline_image") ) skip(&r, "image skipped");
    if( get(pExtra, "file") ) skip(&r, "file skipped");
    zMes = st_text(get(m, "mes"));
    if( !zMes ){
      skip(&r, "message without text skipped");
      continue;
    }
    emit(&r, get_true(m, "is_user") ? "user" : "assistant", zMes, strlen(zMes), 0);
  }
  r.iPos = 0;
  if( rc==CV_OK && bLast ) rc = set_time(&p->zUpdatedAt, tLast);
  return finish(&r, rc, zWhy, nWhy);
}
