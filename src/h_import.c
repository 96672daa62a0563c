/*
** h_import.c — POST /api/v1/import: another app's export file (or chatvault's own) into the
** caller's history (contract v2, "Export and import"). The body is read as a stream and fed to
** the importer as it arrives (importer.h), so a 200 MB conversations.json never sits in
** memory; the answer is written by render.c.
** May call http, validate, render, importer, imp_formats and util.
*/
#include "app.h"
#include "handlers.h"
#include "http.h"
#include "imp_formats.h"
#include "importer.h"
#include "render.h"
#include "util.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest conversation (its JSON) an import reads; a larger one is skipped. Its parsed
** tree can take many times its size (cJSON: ~64 bytes per value), so imports running at once
** are bounded too: memory stays bounded whatever is sent. */
#define IMPORT_CONV_MAX ((size_t)16*1024*1024)
#define IMPORT_RUNNING_MAX 2

static int nRunning;             /* imports in progress (atomic builtins) */

/* Give back an import's place (once): before its answer is sent, so that a client that
** sends its next import as soon as it has the answer never finds the place still taken. */
static void release(int *pbHeld){
  if( *pbHeld ){
    __atomic_sub_fetch(&nRunning, 1, __ATOMIC_SEQ_CST);
    *pbHeld = 0;
  }
}

/* Query parameter "format": 1 with *peOut set, 0 absent, -1 invalid (422 entry added). */
static int query_format(struct cv_verr *pErr, const char *zQuery, enum imp_format *peOut){
  struct cv_verr e2;
  char z[32];
  int k;
  *peOut = IMP_UNKNOWN;
  verr_init(&e2);
  k = val_query_str(&e2, zQuery, "format", z, sizeof z);
  verr_free(&e2);
  if( k==0 ) return 0;
  if( k==1 && (*peOut = imp_format_by_name(z))!=IMP_UNKNOWN ) return 1;
  verr_add(pErr, "query.format", "literal_error", "Input should be 'chatvault', 'chatgpt',"
           " 'claude', 'openwebui', 'librechat', 'chatbot-ui' or 'sillytavern'");
  return -1;
}

/* ROUTE: POST /api/v1/import?format= (auth) body: the file — 200 {format, imported, skipped,
** items:[{source_id, kind, id}], errors:[{source_id, detail}], errors_total}; 422 {detail,
** format, imported, skipped} when the file is not JSON or not a known format (what was read
** before that point is kept: sending the whole file again completes it); 413 past
** --max-import; 400/408 as for any body; 503 (Retry-After) while IMPORT_RUNNING_MAX other
** imports run. */
int h_import(struct cv_req *r){
  struct cv_verr e;
  struct cv_body body;
  struct cv_importer *pImp = NULL;
  enum imp_format eFormat = IMP_UNKNOWN;
  size_t nMaxConv = IMPORT_CONV_MAX;
  char *aChunk = NULL;
  int64_t nTotal = 0;
  int bHeld = 0;
  cv_rc rc = CV_OK;

  verr_init(&e);
  if( query_format(&e, r->zQuery, &eFormat)<0 ){
    http_reply_422(r, &e);
    verr_free(&e);
    return r->status;
  }
  verr_free(&e);
  if( (int64_t)nMaxConv > r->pApp->pCfg->maxImport ) nMaxConv = (size_t)r->pApp->pCfg->maxImport;
  bHeld = 1;
  if( __atomic_add_fetch(&nRunning, 1, __ATOMIC_SEQ_CST) > IMPORT_RUNNING_MAX ){
    release(&bHeld);
    r->bClose = 1;                             /* the body is not read */
    http_reply_raw(r, 503, "application/json",
                   "{\"detail\":\"Other imports are running; try again shortly\"}", 57,
                   "Retry-After: 2\r\n");
    return r->status;
  }
  if( !http_body_begin(r, r->pApp->pCfg->maxImport, &body) ) goto out;
  aChunk = malloc(65536);
  rc = aChunk ? importer_new(r->pApp->pStore, r->userId, eFormat, nMaxConv, NULL, NULL, &pImp)
              : CV_NOMEM;
  while( rc==CV_OK ){
    int got = http_body_read(&body, aChunk, 65536);
    if( got<0 ) goto out;                      /* the response went out */
    if( got==0 ) break;
    nTotal += got;
    rc = importer_feed(pImp, aChunk, (size_t)got);
  }
  if( rc==CV_OK && nTotal==0 ){
    release(&bHeld);
    verr_init(&e);
    verr_add(&e, "body", "missing", "Field required");
    http_reply_422(r, &e);
    verr_free(&e);
    goto out;
  }
  if( rc==CV_OK ) rc = importer_finish(pImp);
  release(&bHeld);                             /* what is left is the answer */
  if( rc==CV_INVALID ){
    const struct cv_import_report *p = importer_result(pImp);
    cJSON *pRoot = cJSON_CreateObject();
    r->bClose = 1;                             /* the rest of the body is not read */
    if( pRoot && render_add_str(pRoot, "detail", importer_error(pImp))
        && render_add_str(pRoot, "format", p->zFormat)
        && render_add_int(pRoot, "imported", (long long)p->nImported)
        && render_add_int(pRoot, "skipped", (long long)p->nSkipped) ){
      http_reply_json(r, 422, pRoot, NULL);
    }else{
      http_reply_rc(r, CV_NOMEM, NULL);
    }
    cJSON_Delete(pRoot);
    goto out;
  }
  if( rc ){
    r->bClose = 1;
    http_reply_rc(r, rc, "Import");
    goto out;
  }
  {
    struct cv_stream s;
    http_stream_begin(r, &s, 200, "application/json", NULL);
    http_stream_end(&s, render_import_result(&s.sink, importer_result(pImp)), "Import");
  }
out:
  importer_free(pImp);
  free(aChunk);
  release(&bHeld);
  return r->status;
}
