/* test_openapi.c — the OpenAPI document (src/web/openapi.json, embedded as web/openapi.json and
** served at GET /openapi.json) against the route table of src/router.c, both ways: every route
** (method + pattern) is an operation of the document, every operation of the document is a
** route, and the router's bearer check agrees with the operation's `security`. Also: the
** document parses, is OpenAPI 3.1, every operation has a summary, a tag, responses, and
** declares each `{name}` of its path as a path parameter. (The full schema validation is
** tests/api/test_openapi.py, with a pinned npm validator.) */
#include "tinytest.h"
#include "assets.h"
#include "router.h"

#include "cJSON.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static cJSON *load(void){
  const struct cv_asset *p = assets_find("web/openapi.json");
  if( !p ) return NULL;
  return cJSON_ParseWithLength(p->a, p->n);
}

/* The operation object of (zMethod, zPattern), or NULL. */
static cJSON *operation(cJSON *pDoc, const char *zMethod, const char *zPattern){
  char zLower[16];
  size_t i, n = strlen(zMethod);
  cJSON *pPath;
  if( n>=sizeof zLower ) return NULL;
  for(i=0; i<n; i++) zLower[i] = (char)((zMethod[i]>='A' && zMethod[i]<='Z') ? zMethod[i]+32 : zMethod[i]);
  zLower[n] = 0;
  pPath = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pDoc, "paths"), zPattern);
  return pPath ? cJSON_GetObjectItemCaseSensitive(pPath, zLower) : NULL;
}

static int is_public(cJSON *pOp){
  cJSON *pSec = cJSON_GetObjectItemCaseSensitive(pOp, "security");
  return cJSON_IsArray(pSec) && cJSON_GetArraySize(pSec)==0;
}

static void document_is_openapi_31(void){
  cJSON *pDoc = load();
  TT_CHECK( pDoc!=NULL );
  if( !pDoc ) return;
  TT_CHECK( cJSON_IsString(cJSON_GetObjectItemCaseSensitive(pDoc, "openapi")) );
  TT_CHECK( strncmp(cJSON_GetObjectItemCaseSensitive(pDoc, "openapi")->valuestring, "3.1.", 4)==0 );
  TT_CHECK( cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(pDoc, "paths")) );
  cJSON_Delete(pDoc);
}

/* Every route of the table is documented, with the same authentication. */
static void every_route_is_documented(void){
  cJSON *pDoc = load();
  int i, nRoute = 0;
  TT_CHECK( pDoc!=NULL );
  if( !pDoc ) return;
  for(i=0; router_pattern(i); i++){
    const char *zMethod = router_method(i), *zPattern = router_pattern(i);
    cJSON *pOp = operation(pDoc, zMethod, zPattern);
    nRoute++;
    if( !pOp ){
      fprintf(stderr, "  route %s %s is missing from src/web/openapi.json\n", zMethod, zPattern);
      TT_CHECK( pOp!=NULL );
      continue;
    }
    if( router_auth(i)==1 && is_public(pOp) ){
      fprintf(stderr, "  route %s %s needs a token but is documented with security: []\n", zMethod, zPattern);
      TT_CHECK( !is_public(pOp) );
    }
  }
  TT_CHECK( nRoute>40 );
  cJSON_Delete(pDoc);
}

/* Every documented operation is a route of the table; a public one is public there too. */
static void every_operation_is_a_route(void){
  static const char *azMethod[] = { "get", "put", "post", "delete", "patch", "head", "options", "trace" };
  cJSON *pDoc = load(), *pPaths, *pPath;
  int nOp = 0;
  TT_CHECK( pDoc!=NULL );
  if( !pDoc ) return;
  pPaths = cJSON_GetObjectItemCaseSensitive(pDoc, "paths");
  cJSON_ArrayForEach(pPath, pPaths){
    cJSON *pItem;
    cJSON_ArrayForEach(pItem, pPath){
      size_t k;
      int i, iFound = -1;
      for(k=0; k<sizeof azMethod/sizeof azMethod[0]; k++){
        if( strcmp(pItem->string, azMethod[k])==0 ) break;
      }
      if( k==sizeof azMethod/sizeof azMethod[0] ) continue;   /* parameters, summary, ... */
      nOp++;
      for(i=0; router_pattern(i); i++){
        if( strcasecmp(router_method(i), pItem->string)==0 && strcmp(router_pattern(i), pPath->string)==0 ){
          iFound = i;
          break;
        }
      }
      if( iFound<0 ){
        fprintf(stderr, "  documented %s %s is not a route of src/router.c\n", pItem->string, pPath->string);
        TT_CHECK( iFound>=0 );
        continue;
      }
      if( is_public(pItem) && router_auth(iFound)!=0 ){
        fprintf(stderr, "  %s %s is documented public but the router checks a token\n", pItem->string, pPath->string);
        TT_CHECK( router_auth(iFound)==0 );
      }
    }
  }
  TT_CHECK( nOp>40 );
  cJSON_Delete(pDoc);
}

/* Each operation: summary, tags, responses, security stated; every {name} of the path is a
** path parameter of the operation (inline or a $ref into components/parameters). */
static void operations_are_complete(void){
  cJSON *pDoc = load(), *pPaths, *pPath, *pComp;
  TT_CHECK( pDoc!=NULL );
  if( !pDoc ) return;
  pPaths = cJSON_GetObjectItemCaseSensitive(pDoc, "paths");
  pComp = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pDoc, "components"), "parameters");
  cJSON_ArrayForEach(pPath, pPaths){
    cJSON *pOp;
    cJSON_ArrayForEach(pOp, pPath){
      const char *z = pPath->string;
      int bOk = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(pOp, "summary"))
             && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(pOp, "tags"))
             && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(pOp, "responses"))
             && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(pOp, "security"));
      if( !bOk ) fprintf(stderr, "  %s %s: summary, tags, responses or security missing\n", pOp->string, z);
      TT_CHECK( bOk );
      while( (z = strchr(z, '{'))!=NULL ){
        char zName[64];
        const char *zEnd = strchr(z, '}');
        int bFound = 0;
        cJSON *pParam;
        if( !zEnd || (size_t)(zEnd - z - 1)>=sizeof zName ){ TT_CHECK( 0 ); break; }
        memcpy(zName, z+1, (size_t)(zEnd - z - 1));
        zName[zEnd - z - 1] = 0;
        cJSON_ArrayForEach(pParam, cJSON_GetObjectItemCaseSensitive(pOp, "parameters")){
          cJSON *pRef = cJSON_GetObjectItemCaseSensitive(pParam, "$ref");
          cJSON *pP = pParam;
          if( cJSON_IsString(pRef) && strncmp(pRef->valuestring, "#/components/parameters/", 24)==0 ){
            pP = cJSON_GetObjectItemCaseSensitive(pComp, pRef->valuestring + 24);
          }
          if( pP && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(pP, "name"))
           && strcmp(cJSON_GetObjectItemCaseSensitive(pP, "name")->valuestring, zName)==0
           && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(pP, "in"))
           && strcmp(cJSON_GetObjectItemCaseSensitive(pP, "in")->valuestring, "path")==0 ){
            bFound = 1;
          }
        }
        if( !bFound ) fprintf(stderr, "  %s %s: path parameter {%s} not declared\n", pOp->string, pPath->string, zName);
        TT_CHECK( bFound );
        z = zEnd + 1;
      }
    }
  }
  cJSON_Delete(pDoc);
}

int main(void){
  TT_RUN(document_is_openapi_31);
  TT_RUN(every_route_is_documented);
  TT_RUN(every_operation_is_a_route);
  TT_RUN(operations_are_complete);
  return TT_DONE();
}
