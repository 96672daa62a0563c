/*
** test_jsonsplit.c — the streaming splitter (src/jsonsplit.c): what it hands over for each
** shape of import file, byte by byte as well as whole, values over the limit, and every
** structural error with its offset. (Any bytes: tests/fuzz/fuzz_jsonsplit.c.)
*/
#include "tinytest.h"
#include "jsonsplit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every event as one line "E key=K n=N text" in a buffer. */
struct rec {
  char a[8192];
  size_t n;
};

static cv_rc on_ev(void *pCtx, enum jsplit_event e, enum jsplit_event eOf, const char *zKey,
                   const char *z, size_t n){
  struct rec *r = pCtx;
  static const char *az[] = { "?", "ITEM", "MEMBER", "VALUE", "TOOBIG" };
  int k = snprintf(r->a + r->n, sizeof r->a - r->n, "%s%s%s key=%s n=%zu %s\n", az[e],
                   e==JSPLIT_TOOBIG ? "/" : "", e==JSPLIT_TOOBIG ? az[eOf] : "",
                   zKey ? zKey : "-", n, z ? z : "");
  if( k>0 ) r->n += (size_t)k;
  return CV_OK;
}

static const char *const azSplit[] = { "threads", "history", NULL };

/* Split z fed in pieces of nPiece bytes (0: whole); the events into r, the result returned. */
static cv_rc split(const char *z, size_t nPiece, size_t nMax, struct rec *r, char *zErr){
  struct jsplit *p = jsplit_new(nMax, azSplit, on_ev, r);
  size_t n = strlen(z), i = 0;
  cv_rc rc = CV_OK;
  memset(r, 0, sizeof *r);
  if( !p ) return CV_NOMEM;
  while( i<n && rc==CV_OK ){
    size_t k = nPiece && nPiece < n - i ? nPiece : n - i;
    rc = jsplit_feed(p, z + i, k);
    i += k;
  }
  if( rc==CV_OK ) rc = jsplit_finish(p);
  if( zErr ) snprintf(zErr, 128, "%s", jsplit_error(p));
  jsplit_free(p);
  return rc;
}

/* The same events whole and byte by byte. */
static void same_split(const char *z, size_t nMax, const char *zWant, cv_rc rcWant){
  struct rec a, b;
  TT_CHECK( split(z, 0, nMax, &a, NULL)==rcWant );
  TT_CHECK( split(z, 1, nMax, &b, NULL)==rcWant );
  TT_CHECK( strcmp(a.a, b.a)==0 );
  if( zWant && strcmp(a.a, zWant)!=0 ){
    fprintf(stderr, "got:\n%swant:\n%s", a.a, zWant);
    TT_CHECK( 0 );
  }
}

static void top_level_array(void){
  same_split(" [ {\"a\":[1,\"]\"]} , 2,\"s\\\"]\" ,null,[[]] ]\n",
             100,
             "ITEM key=- n=13 {\"a\":[1,\"]\"]}\n"
             "ITEM key=- n=1 2\n"
             "ITEM key=- n=6 \"s\\\"]\"\n"
             "ITEM key=- n=4 null\n"
             "ITEM key=- n=4 [[]]\n", CV_OK);
  same_split("[]", 100, "", CV_OK);
  same_split("\xEF\xBB\xBF[1]", 100, "ITEM key=- n=1 1\n", CV_OK);
}

static void top_level_object_split_and_members(void){
  same_split("{\"format\":\"chatvault\",\"threads\":[{\"id\":1},{\"id\":2}],\"user\":{\"e\":1},"
             "\"history\":{\"not\":\"split: an object\"}}", 100,
             "MEMBER key=format n=11 \"chatvault\"\n"
             "ITEM key=threads n=8 {\"id\":1}\n"
             "ITEM key=threads n=8 {\"id\":2}\n"
             "MEMBER key=user n=7 {\"e\":1}\n"
             "MEMBER key=history n=26 {\"not\":\"split: an object\"}\n", CV_OK);
}

static void json_lines(void){
  same_split("{\"user_name\":\"You\"}\n{\"mes\":\"a\"}\n{\"mes\":\"b\"}\n", 100,
             "MEMBER key=user_name n=5 \"You\"\n"
             "VALUE key=- n=11 {\"mes\":\"a\"}\n"
             "VALUE key=- n=11 {\"mes\":\"b\"}\n", CV_OK);
}

static void too_big_is_skipped_not_held(void){
  same_split("[\"0123456789\",1,{\"threads\":1}]", 8,
             "TOOBIG/ITEM key=- n=12 \n"
             "ITEM key=- n=1 1\n"
             "TOOBIG/ITEM key=- n=13 \n", CV_OK);
}

static void structural_errors_name_the_offset(void){
  struct rec r;
  char zErr[128];
  TT_CHECK( split("", 0, 100, &r, zErr)==CV_INVALID );
  TT_CHECK( strstr(zErr, "empty")!=NULL );
  TT_CHECK( split("hello", 0, 100, &r, zErr)==CV_INVALID );
  TT_CHECK( strcmp(zErr, "byte 0: expected '[' or '{' at the start of the document")==0 );
  TT_CHECK( split("[1 2]", 0, 100, &r, zErr)==CV_INVALID );
  TT_CHECK( strstr(zErr, "byte 3")!=NULL );
  TT_CHECK( split("[1,]", 0, 100, &r, zErr)==CV_INVALID );
  TT_CHECK( split("{\"a\" 1}", 0, 100, &r, zErr)==CV_INVALID );
  TT_CHECK( strstr(zErr, "':'")!=NULL );
  TT_CHECK( split("[{\"a\":1}", 0, 100, &r, zErr)==CV_INVALID );
  TT_CHECK( strstr(zErr, "ends")!=NULL );
  TT_CHECK( split("[{\"a\":\"x", 1, 100, &r, zErr)==CV_INVALID );
  TT_CHECK( split("\xEF\xBB[1]", 0, 100, &r, zErr)==CV_INVALID );
}

int main(void){
  TT_RUN(top_level_array);
  TT_RUN(top_level_object_split_and_members);
  TT_RUN(json_lines);
  TT_RUN(too_big_is_skipped_not_held);
  TT_RUN(structural_errors_name_the_offset);
  return TT_DONE();
}
