/*
** router.c — the route table and dispatch. Patterns are literal segments and `{name}`
** segments (one path segment each). Routing works on the raw path as sent: it is split at
** '/' and only then is each segment percent-decoded, so an encoded slash is data inside a
** segment and never a separator (decoding the whole path first let
** `/chat-threads/1%2Fcomplete` reach `/chat-threads/{id}/complete`). A path that matches
** some route but not with this method is a 405 with Allow; no match at all is a 404
** (JSON), except that GET/HEAD outside /api/ falls through to the embedded web page.
** Literal routes are listed before parameter routes so `/chat-threads/import` wins over
** `/chat-threads/{id}`.
*/
#include "router.h"
#include "app.h"
#include "auth.h"
#include "handlers.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cv_route {
  const char *zMethod;   /* "GET", "POST", ... */
  const char *zPattern;  /* "/api/v1/chat-threads/{id}" */
  int (*xHandler)(struct cv_req*);
  int bAuth;             /* needs a valid bearer token */
};

static const struct cv_route aRoute[] = {
  { "GET",    "/healthz",                              h_healthz,        0 },
  { "GET",    "/openapi.json",                         h_openapi,        0 },
  { "GET",    "/docs",                                 h_docs,           0 },
  { "POST",   "/api/v1/auth/register",                 h_auth_register,  0 },
  { "POST",   "/api/v1/auth/login",                    h_auth_login,     0 },
  { "POST",   "/api/v1/auth/logout",                   h_auth_logout,    1 },
  { "GET",    "/api/v1/auth/me",                       h_auth_me,        1 },
  { "POST",   "/api/v1/chat-threads/import",           h_threads_import, 1 },
  { "POST",   "/api/v1/chat-threads",                  h_threads_create, 1 },
  { "GET",    "/api/v1/chat-threads",                  h_threads_list,   1 },
  { "GET",    "/api/v1/chat-threads/{id}",             h_threads_get,    1 },
  { "PUT",    "/api/v1/chat-threads/{id}",             h_threads_update, 1 },
  { "DELETE", "/api/v1/chat-threads/{id}",             h_threads_delete, 1 },
  { "POST",   "/api/v1/chat-threads/{id}/messages",    h_threads_append, 1 },
  { "GET",    "/api/v1/chat-threads/{id}/messages",    h_threads_messages, 1 },
  { "DELETE", "/api/v1/chat-threads/{id}/messages",    h_threads_truncate, 1 },
  { "PATCH",  "/api/v1/chat-threads/{id}/messages/{index}", h_threads_edit_message, 1 },
  { "POST",   "/api/v1/chat-threads/{id}/complete",    h_threads_complete, 1 },
  { "POST",   "/api/v1/chat-threads/{id}/fork",        h_threads_fork,   1 },
  { "GET",    "/api/v1/tags",                          h_tags_list,      1 },
  { "GET",    "/api/v1/stats",                         h_stats,          1 },
  { "GET",    "/api/v1/search",                        h_search,         1 },
  { "POST",   "/api/v1/import",                        h_import,         1 },
  { "GET",    "/api/v1/export",                        h_export_all,     1 },
  { "GET",    "/api/v1/chat-threads/{id}/export",      h_threads_export, 1 },
  { "POST",   "/api/v1/chat-threads/{id}/members",     h_members_add,    1 },
  { "GET",    "/api/v1/chat-threads/{id}/members",     h_members_list,   1 },
  { "DELETE", "/api/v1/chat-threads/{id}/members/{user_id}", h_members_remove, 1 },
  { "POST",   "/api/v1/chat-threads/{id}/share",       h_shares_create,  1 },
  { "GET",    "/api/v1/shares",                        h_shares_list,    1 },
  { "GET",    "/api/v1/changes",                       h_changes,        1 },
  { "GET",    "/api/v1/events",                        h_events,         1 },
  { "DELETE", "/api/v1/shares/{token}",                h_shares_revoke,  1 },
  { "GET",    "/api/v1/shared/{token}",                h_shared_get,     0 },
  { "GET",    "/s/{token}",                            h_shared_page,    0 },

  /* character chats: the older client's routes */
  { "POST",   "/api/users",                            h_users_create,   0 },
  { "POST",   "/api/login",                            h_users_login,    0 },
  { "GET",    "/api/users/me",                         h_users_me,       1 },
  { "DELETE", "/api/users/me",                         h_users_delete_me, 1 },
  { "GET",    "/api/user/{user_id}",                   h_users_get,      1 },
  { "GET",    "/api/characters/recommended",           h_characters_recommended, 1 },
  { "GET",    "/api/characters",                       h_characters_list, 1 },
  { "POST",   "/api/characters",                       h_characters_create, 1 },
  { "POST",   "/api/characters/import",                h_characters_import, 1 },
  { "GET",    "/api/characters/{id}",                  h_characters_get, 1 },
  { "PUT",    "/api/characters/{id}",                  h_characters_update, 1 },
  { "DELETE", "/api/characters/{id}",                  h_characters_delete, 1 },
  { "GET",    "/api/pictures/{token}",                 h_pictures_get,   0 },
  { "GET",    "/api/scenes",                           h_scenes_list,    1 },
  { "POST",   "/api/scenes",                           h_scenes_create,  1 },
  { "GET",    "/api/scenes/{id}",                      h_scenes_get,     1 },
  { "GET",    "/api/personas",                         h_personas_list,  1 },
  { "POST",   "/api/personas",                         h_personas_create, 1 },
  { "POST",   "/api/chat",                             h_chat_send,      1 },
  { "POST",   "/api/chat/rename",                      h_chat_rename,    1 },
  { "POST",   "/api/chat/delete",                      h_chat_delete,    1 },
  { "POST",   "/api/chat/restore",                     h_chat_restore,   1 },
  { "GET",    "/api/chat-history",                     h_chat_history,   1 },
  { "GET",    "/api/chat-history/archived",            h_chat_history_archived, 1 },
  { "GET",    "/api/chat/export",                      h_chat_export,    1 },

  /* the OpenAI-compatible recording endpoint (contract v2): every error under /v1/ is in
  ** OpenAI's shape (r->bOpenAI) */
  { "POST",   "/v1/chat/completions",                  h_openai_chat,    1 },
  { "GET",    "/v1/models",                            h_openai_models,  1 },
};

static int hexval(char c){
  if( c>='0' && c<='9' ) return c - '0';
  if( c>='a' && c<='f' ) return c - 'a' + 10;
  if( c>='A' && c<='F' ) return c - 'A' + 10;
  return -1;
}

/* Percent-decode the raw segment z[0..n) into zOut (room for n+1 bytes; NULL: only check).
** Returns the decoded length, or -1 for a malformed escape or an encoded NUL. A decoded '/'
** is data here: the segment was split off before decoding. */
static long decode_segment(const char *z, size_t n, char *zOut){
  size_t i, j = 0;
  for(i=0; i<n; i++){
    char c = z[i];
    if( c=='%' ){
      int hi, lo;
      if( i+2>=n ) return -1;
      hi = hexval(z[i+1]);
      lo = hexval(z[i+2]);
      if( hi<0 || lo<0 || (hi==0 && lo==0) ) return -1;
      c = (char)(hi*16 + lo);
      i += 2;
    }
    if( zOut ) zOut[j] = c;
    j++;
  }
  if( zOut ) zOut[j] = 0;
  return (long)j;
}

/* 1 when the raw segment z[0..n) decodes to exactly zLit[0..nLit). */
static int segment_is(const char *z, size_t n, const char *zLit, size_t nLit){
  size_t i, j = 0;
  if( n==nLit && memcmp(z, zLit, n)==0 ) return 1;          /* the common case */
  for(i=0; i<n; i++, j++){
    char c = z[i];
    if( c=='%' ){
      int hi, lo;
      if( i+2>=n ) return 0;
      hi = hexval(z[i+1]);
      lo = hexval(z[i+2]);
      if( hi<0 || lo<0 || (hi==0 && lo==0) ) return 0;
      c = (char)(hi*16 + lo);
      i += 2;
    }
    if( j>=nLit || zLit[j]!=c ) return 0;
  }
  return j==nLit;
}

/* Match the RAW path zPath against zPattern, segment by segment: the raw path is split at
** its '/' first and each segment decoded afterwards, so an encoded slash (%2F) stays inside
** its segment (`/chat-threads/1%2Fcomplete` is the thread "1/complete", never the route
** `/complete`). A literal pattern segment matches a segment that decodes to it; a `{name}`
** segment takes any segment that decodes to a non-empty value. On a match return 1 and,
** when zBuf is not NULL, copy the decoded parameter values into zBuf (size nBuf, at least
** strlen(zPath)+1: decoding never lengthens) with pointers in azParam. */
static int match(const char *zPattern, const char *zPath, char *zBuf, size_t nBuf,
                 const char **azParam){
  const char *p = zPattern, *s = zPath;
  size_t used = 0;
  int nParam = 0;
  while( *p && *s ){
    size_t nRaw;
    if( *p!='/' || *s!='/' ) return 0;
    p++; s++;
    nRaw = strcspn(s, "/");
    if( *p=='{' ){
      const char *zEnd = strchr(p, '}');
      long nDec;
      if( !zEnd || nRaw==0 ) return 0;
      if( zBuf ){
        if( used + nRaw + 1 > nBuf || nParam>=CV_MAX_PARAMS ) return 0;
        nDec = decode_segment(s, nRaw, zBuf + used);
        if( nDec<=0 ) return 0;
        azParam[nParam++] = zBuf + used;
        used += (size_t)nDec + 1;
      }else if( decode_segment(s, nRaw, NULL)<=0 ){
        return 0;
      }
      p = zEnd + 1;
    }else{
      size_t n = strcspn(p, "/");
      if( !segment_is(s, nRaw, p, n) ) return 0;
      p += n;
    }
    s += nRaw;
  }
  return *p==0 && *s==0;
}

const char *router_pattern(int iRoute){
  if( iRoute<0 || (size_t)iRoute>=sizeof aRoute/sizeof aRoute[0] ) return NULL;
  return aRoute[iRoute].zPattern;
}

const char *router_method(int iRoute){
  if( iRoute<0 || (size_t)iRoute>=sizeof aRoute/sizeof aRoute[0] ) return NULL;
  return aRoute[iRoute].zMethod;
}

int router_auth(int iRoute){
  if( iRoute<0 || (size_t)iRoute>=sizeof aRoute/sizeof aRoute[0] ) return -1;
  return aRoute[iRoute].bAuth;
}

int router_lookup(const char *zMethod, const char *zPath, char *zBuf, size_t nBuf,
                  const char **azParam, char *zAllow, size_t nAllow){
  size_t i;
  int bPathMatched = 0;
  if( nAllow ) zAllow[0] = 0;
  for(i=0; i<sizeof aRoute/sizeof aRoute[0]; i++){
    if( !match(aRoute[i].zPattern, zPath, NULL, 0, NULL) ) continue;
    bPathMatched = 1;
    if( strcmp(aRoute[i].zMethod, zMethod)==0
     || (strcmp(zMethod, "HEAD")==0 && strcmp(aRoute[i].zMethod, "GET")==0) ){
      match(aRoute[i].zPattern, zPath, zBuf, nBuf, azParam);
      return (int)i;
    }
    if( nAllow && !strstr(zAllow, aRoute[i].zMethod)
     && strlen(zAllow) + strlen(aRoute[i].zMethod) + 3 < nAllow ){
      if( zAllow[0] ) strcat(zAllow, ", ");
      strcat(zAllow, aRoute[i].zMethod);
    }
  }
  return bPathMatched ? -1 : -2;
}

int router_dispatch(struct cv_req *r){
  size_t nPath = strlen(r->zPath);
  char zAllow[64] = "";
  char *zPath;
  int bPathMatched = 0, status, iRoute;
  const struct cv_route *pRoute = NULL;

  /* one trailing slash is ignored: /api/v1/chat-threads/ is /api/v1/chat-threads */
  zPath = malloc(nPath + 1);
  r->zParamBuf = malloc(nPath + 1);
  if( !zPath || !r->zParamBuf ){
    free(zPath);
    http_reply_rc(r, CV_NOMEM, NULL);
    return r->status;
  }
  memcpy(zPath, r->zPath, nPath + 1);
  if( nPath>1 && zPath[nPath-1]=='/' ) zPath[nPath-1] = 0;

  r->bOpenAI = strncmp(zPath, "/v1/", 4)==0 || strcmp(zPath, "/v1")==0;
  iRoute = router_lookup(r->zMethod, zPath, r->zParamBuf, nPath + 1, r->azParam,
                         zAllow, sizeof zAllow);
  if( iRoute>=0 ) pRoute = &aRoute[iRoute];
  bPathMatched = iRoute==-1;
  if( !pRoute ){
    if( bPathMatched ){
      char zHdr[96];
      snprintf(zHdr, sizeof zHdr, "Allow: %s\r\n", zAllow);
      if( r->bOpenAI ){
        http_reply_openai_error(r, 405, "Method Not Allowed", NULL, "method_not_allowed", zHdr);
      }else{
        cJSON *p = cJSON_CreateObject();
        if( p && !cJSON_AddStringToObject(p, "detail", "Method Not Allowed") ){ cJSON_Delete(p); p = NULL; }
        http_reply_json(r, 405, p, zHdr);
        cJSON_Delete(p);
      }
    }else if( (strcmp(r->zMethod, "GET")==0 || strcmp(r->zMethod, "HEAD")==0)
           && strncmp(zPath, "/api/", 5)!=0 && strcmp(zPath, "/api")!=0 && !r->bOpenAI ){
      h_static(r);
    }else{
      http_reply_detail(r, 404, "Not Found");
    }
    free(zPath);
    return r->status;
  }
  free(zPath);
  if( pRoute->bAuth ){
    cv_rc rc = auth_check_bearer(r->pApp->pStore, http_header(r, "Authorization"),
                                 &r->userId, r->aTokenHash);
    if( rc==CV_UNAUTHORIZED ){
      http_reply_401(r, "Not authenticated");
      return r->status;
    }
    if( rc ){
      http_reply_rc(r, rc, NULL);
      return r->status;
    }
  }
  status = pRoute->xHandler(r);
  return status;
}
