/*
** h_misc.c — GET /healthz and the embedded web page. Files are served only from the
** embedded set (names are looked up, never joined to a file-system path), with their
** type, a strong ETag (304 on If-None-Match) and gzip when the client accepts it.
** May call http, assets and cluster (the role of a cluster's node).
*/
#include "app.h"
#include "assets.h"
#include "cluster.h"
#include "handlers.h"
#include "http.h"

#include <stdio.h>
#include <string.h>

/* ROUTE: GET /healthz — 200 {"status":"ok"}; touches no database. A cluster's node adds its
** role (cluster_role): {"status":"ok","role":"leader"|"follower","writable":true}, or 503
** {"status":"unavailable","role":"no-leader","writable":false} when it cannot write now. */
int h_healthz(struct cv_req *r){
  static const char zOk[] = "{\"status\":\"ok\"}";
  const char *zRole;
  int bWritable;
  char zBody[128];
  int n;
  if( !r->pApp->pCluster ){
    http_reply_raw(r, 200, "application/json", zOk, sizeof zOk - 1, NULL);
    return r->status;
  }
  cluster_role(r->pApp->pCluster, &zRole, &bWritable);
  n = snprintf(zBody, sizeof zBody, "{\"status\":\"%s\",\"role\":\"%s\",\"writable\":%s}",
               bWritable ? "ok" : "unavailable", zRole, bWritable ? "true" : "false");
  http_reply_raw(r, bWritable ? 200 : 503, "application/json", zBody, (size_t)n, NULL);
  return r->status;
}

static const char *content_type(const char *zName){
  const char *zExt = strrchr(zName, '.');
  if( !zExt ) return "application/octet-stream";
  if( strcmp(zExt, ".html")==0 ) return "text/html; charset=utf-8";
  if( strcmp(zExt, ".js")==0 || strcmp(zExt, ".mjs")==0 ) return "text/javascript; charset=utf-8";
  if( strcmp(zExt, ".css")==0 ) return "text/css; charset=utf-8";
  if( strcmp(zExt, ".svg")==0 ) return "image/svg+xml";
  if( strcmp(zExt, ".png")==0 ) return "image/png";
  if( strcmp(zExt, ".ico")==0 ) return "image/x-icon";
  if( strcmp(zExt, ".json")==0 || strcmp(zExt, ".webmanifest")==0 ) return "application/json";
  if( strcmp(zExt, ".txt")==0 ) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

/* Answer with the embedded file zName (its type from its name, ETag, 304, gzip), or 404. */
static int serve_asset(struct cv_req *r, const char *zName){
  const struct cv_asset *p;
  const char *zInm, *zAe;
  char zHdr[256];
  int bGz;
  p = assets_find(zName);
  if( !p ){
    http_reply_detail(r, 404, "Not Found");
    return r->status;
  }
  zInm = http_header(r, "If-None-Match");
  zAe = http_header(r, "Accept-Encoding");
  bGz = p->aGz && zAe && strstr(zAe, "gzip");
  snprintf(zHdr, sizeof zHdr, "ETag: %s\r\nCache-Control: no-cache\r\nVary: Accept-Encoding\r\n%s",
           p->zEtag, bGz ? "Content-Encoding: gzip\r\n" : "");
  if( zInm && strstr(zInm, p->zEtag) ){
    snprintf(zHdr, sizeof zHdr, "ETag: %s\r\nCache-Control: no-cache\r\nVary: Accept-Encoding\r\n", p->zEtag);
    http_reply_raw(r, 304, NULL, NULL, 0, zHdr);
    return r->status;
  }
  if( bGz ) http_reply_raw(r, 200, content_type(zName), p->aGz, p->nGz, zHdr);
  else http_reply_raw(r, 200, content_type(zName), p->a, p->n, zHdr);
  return r->status;
}

/* ROUTE: GET /<file> — an embedded web file; "/" is web/index.html. 404 otherwise. */
int h_static(struct cv_req *r){
  char zName[256];
  if( strcmp(r->zPath, "/")==0 ){
    snprintf(zName, sizeof zName, "web/index.html");
  }else if( strlen(r->zPath) < sizeof zName - 8 ){
    snprintf(zName, sizeof zName, "web%s", r->zPath);
  }else{
    http_reply_detail(r, 404, "Not Found");
    return r->status;
  }
  return serve_asset(r, zName);
}

/* ROUTE: GET /openapi.json — the OpenAPI 3.1 document of every route (src/web/openapi.json,
** written by hand; tests/unit/test_openapi.c keeps it equal to the route table). */
int h_openapi(struct cv_req *r){
  return serve_asset(r, "web/openapi.json");
}

/* ROUTE: GET /docs — the page that shows /openapi.json (src/web/docs.html + docs.js). */
int h_docs(struct cv_req *r){
  return serve_asset(r, "web/docs.html");
}
