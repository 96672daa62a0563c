/* test_search.c — unit tests of src/search.c: reading what people type into phrases, and
** the snippet with its highlights in characters. */
#include "tinytest.h"
#include "search.h"

#include <stdio.h>
#include <string.h>

/* The phrases of zQ written as "text|text*|..." into zOut. */
static const char *phrases(const char *zQ){
  static char zOut[1024];
  struct cv_phrase a[SEARCH_MAX_PHRASES];
  int n = search_parse(zQ, a, SEARCH_MAX_PHRASES), i;
  size_t k = 0;
  zOut[0] = 0;
  for(i=0; i<n; i++){
    k += (size_t)snprintf(zOut+k, sizeof zOut - k, "%s%.*s%s", i ? "|" : "", a[i].n, a[i].z,
                          a[i].bPrefix ? "*" : "");
  }
  return zOut;
}

static void parse_words_phrases_prefixes(void){
  TT_CHECK( strcmp(phrases("hello world"), "hello|world")==0 );
  TT_CHECK( strcmp(phrases("  hello\t\nworld  "), "hello|world")==0 );
  TT_CHECK( strcmp(phrases("\"a phrase\" word"), "a phrase|word")==0 );
  TT_CHECK( strcmp(phrases("pref* \"phr ase\"*"), "pref*|phr ase*")==0 );
  TT_CHECK( strcmp(phrases("pref***"), "pref*")==0 );
  TT_CHECK( strcmp(phrases("東京　大阪"), "東京|大阪")==0 );          /* U+3000 separates */
  TT_CHECK( strcmp(phrases("x\"y\"z"), "x|y|z")==0 );
}

static void parse_never_fails(void){
  TT_CHECK( strcmp(phrases(""), "")==0 );
  TT_CHECK( strcmp(phrases("   "), "")==0 );
  TT_CHECK( strcmp(phrases("*"), "")==0 );
  TT_CHECK( strcmp(phrases("\"\""), "")==0 );
  TT_CHECK( strcmp(phrases("\"unbalanced phrase"), "unbalanced|phrase")==0 );
  TT_CHECK( strcmp(phrases("AND OR NOT NEAR(a b)"), "AND|OR|NOT|NEAR(a|b)")==0 );
  TT_CHECK( strcmp(phrases("col:x ^y -z"), "col:x|^y|-z")==0 );
  {
    char z[400];
    struct cv_phrase a[SEARCH_MAX_PHRASES];
    int i;
    for(i=0; i<100; i++){ z[2*i] = 'a'; z[2*i+1] = ' '; }
    z[200] = 0;
    TT_CHECK( search_parse(z, a, SEARCH_MAX_PHRASES)==SEARCH_MAX_PHRASES );
  }
}

static void snippet_short_text_whole(void){
  const char *z = "Un café, s'il vous plaît";
  struct cv_span m = { 3, 8 };                 /* "café" is 5 bytes */
  int aHl[4][2], nHl, s, e;
  search_snippet(z, (int)strlen(z), &m, 1, &s, &e, aHl, 4, &nHl);
  TT_CHECK( s==0 && e==(int)strlen(z) );
  TT_CHECK( nHl==1 && aHl[0][0]==3 && aHl[0][1]==4 );   /* characters, not bytes */
}

static void snippet_long_text_around_match(void){
  char z[4000];
  struct cv_span m;
  int aHl[4][2], nHl, s, e, i, nChars = 0;
  memset(z, 0, sizeof z);
  for(i=0; i<300; i++) strcat(z, "ab ");     /* 900 bytes of "ab ab ab " */
  m.iStart = (int)strlen(z);
  strcat(z, "ネコ");                           /* 6 bytes, 2 characters */
  m.iEnd = (int)strlen(z);
  for(i=0; i<300; i++) strcat(z, " cd");
  search_snippet(z, (int)strlen(z), &m, 1, &s, &e, aHl, 4, &nHl);
  for(i=s; i<e; i++) if( ((unsigned char)z[i] & 0xC0)!=0x80 ) nChars++;
  TT_CHECK( nChars==SEARCH_SNIPPET_CHARS );
  TT_CHECK( s>0 && s<m.iStart && m.iStart - s <= SEARCH_SNIPPET_LEAD );
  TT_CHECK( z[s]=='a' && z[s-1]==' ' );        /* starts at a word */
  TT_CHECK( nHl==1 && aHl[0][1]==2 );
  TT_CHECK( aHl[0][0]==m.iStart - s );         /* ASCII before it: bytes are characters */
}

static void snippet_match_near_end_takes_more_before(void){
  char z[2000];
  struct cv_span m;
  int aHl[4][2], nHl, s, e;
  memset(z, 'x', 1000);
  z[1000] = 0;
  strcat(z, " end");
  m.iStart = 1001;
  m.iEnd = 1004;
  search_snippet(z, (int)strlen(z), &m, 1, &s, &e, aHl, 4, &nHl);
  TT_CHECK( e==(int)strlen(z) && e - s==SEARCH_SNIPPET_CHARS );
  TT_CHECK( nHl==1 && aHl[0][0]==SEARCH_SNIPPET_CHARS-3 && aHl[0][1]==3 );
}

static void snippet_clips_and_skips_matches(void){
  char z[1200];
  struct cv_span am[3];
  int aHl[4][2], nHl, s, e;
  memset(z, 'y', 1100);
  z[1100] = 0;
  am[0].iStart = 10;  am[0].iEnd = 12;
  am[1].iStart = 190; am[1].iEnd = 260;       /* runs past the snippet's end: clipped */
  am[2].iStart = 900; am[2].iEnd = 905;       /* outside: left out */
  search_snippet(z, (int)strlen(z), am, 3, &s, &e, aHl, 4, &nHl);
  TT_CHECK( s==0 && e==SEARCH_SNIPPET_CHARS );
  TT_CHECK( nHl==2 && aHl[0][0]==10 && aHl[0][1]==2 );
  TT_CHECK( aHl[1][0]==190 && aHl[1][1]==10 );
  search_snippet(z, (int)strlen(z), NULL, 0, &s, &e, aHl, 4, &nHl);
  TT_CHECK( s==0 && e==SEARCH_SNIPPET_CHARS && nHl==0 );
}

/* A match range that starts or ends inside a character (not what the tokenizer gives, but
** the function's input is byte ranges) counts that whole character, and never runs past the
** snippet (found by fuzz_search_query). */
static void snippet_span_inside_a_character(void){
  const char *z = "ab \xc3\xa9t\xc3\xa9 cd";   /* "ab été cd": é is 2 bytes */
  struct cv_span m = { 4, 8 };                   /* from inside the first é into the second */
  int aHl[4][2], nHl, s, e;
  search_snippet(z, (int)strlen(z), &m, 1, &s, &e, aHl, 4, &nHl);
  TT_CHECK( s==0 && e==(int)strlen(z) );
  TT_CHECK( nHl==1 && aHl[0][0]==3 && aHl[0][1]==3 );   /* "été", in characters */
}

int main(void){
  TT_RUN(parse_words_phrases_prefixes);
  TT_RUN(parse_never_fails);
  TT_RUN(snippet_short_text_whole);
  TT_RUN(snippet_long_text_around_match);
  TT_RUN(snippet_match_near_end_takes_more_before);
  TT_RUN(snippet_clips_and_skips_matches);
  TT_RUN(snippet_span_inside_a_character);
  return TT_DONE();
}
