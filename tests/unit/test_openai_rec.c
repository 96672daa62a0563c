/* test_openai_rec.c — unit tests of src/openai_rec.c: the request reader (what it keeps, what
** it refuses and with which param) and the conversation fingerprint. The turn itself runs
** against the real binary in tests/api/test_openai.py. */
#include "tinytest.h"
#include "openai_rec.h"

#include <stdlib.h>
#include <string.h>

/* Parse the literal z: the code, and the error's param into zParam (64 bytes). */
static cv_rc parse(const char *z, struct oai_request *q, char *zParam){
  struct oai_error e;
  cv_rc rc = openai_request_parse(z, strlen(z), q, &e);
  strcpy(zParam, rc==CV_INVALID ? e.zParam : "");
  if( rc==CV_INVALID ) TT_CHECK( e.zMessage[0]!=0 );
  return rc;
}

static void reads_what_it_keeps(void){
  struct oai_request q;
  char zP[64];
  TT_CHECK( parse("{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                  "\"temperature\":0.2,\"messages\":[{\"role\":\"system\",\"content\":\"s\"},"
                  "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
                  "{\"type\":\"text\",\"text\":\"b\"}]},"
                  "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[]},"
                  "{\"role\":\"tool\",\"content\":\"r\"},{\"role\":\"assistant\",\"content\":\"x\"},"
                  "{\"role\":\"developer\",\"content\":\"d\"},{\"role\":\"user\",\"content\":\"\"}]}",
                  &q, zP)==CV_OK );
  TT_CHECK( q.nMsg==5 && q.nConv==3 && q.bStream==1 && q.bUsage==1 );
  TT_CHECK( q.zModel && strcmp(q.zModel, "m")==0 );
  TT_CHECK( strcmp(q.aMsg[0].zRole, "system")==0 && strcmp(q.aMsg[0].zContent, "s")==0 );
  TT_CHECK( strcmp(q.aMsg[1].zRole, "user")==0 && strcmp(q.aMsg[1].zContent, "a\nb")==0 );
  TT_CHECK( strcmp(q.aMsg[2].zRole, "assistant")==0 && strcmp(q.aMsg[2].zContent, "x")==0 );
  TT_CHECK( strcmp(q.aMsg[3].zRole, "system")==0 && strcmp(q.aMsg[3].zContent, "d")==0 );
  TT_CHECK( strcmp(q.aMsg[4].zRole, "user")==0 && strcmp(q.aMsg[4].zContent, "")==0 );
  openai_request_free(&q);
  openai_request_free(&q);       /* a freed (zeroed) request frees again harmlessly */
}

static void refuses_with_param(void){
  static const struct { const char *z; const char *zParam; } a[] = {
    { "", "" },
    { "nope", "" },
    { "[]", "" },
    { "{\"a\":1,\"a\":2}", "" },
    { "{}", "messages" },
    { "{\"messages\":{}}", "messages" },
    { "{\"messages\":[]}", "messages" },
    { "{\"messages\":[1]}", "messages[0]" },
    { "{\"messages\":[{\"content\":\"x\"}]}", "messages[0].role" },
    { "{\"messages\":[{\"role\":\"bot\",\"content\":\"x\"}]}", "messages[0].role" },
    { "{\"messages\":[{\"role\":\"user\",\"content\":{}}]}", "messages[0].content" },
    { "{\"messages\":[{\"role\":\"user\"}]}", "messages[0].content" },
    { "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}",
      "messages[0].content[0]" },
    { "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]}",
      "messages[0].content[0]" },
    { "{\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\","
      "\"content\":\"a\"}]}", "messages" },
    { "{\"messages\":[{\"role\":\"system\",\"content\":\"s\"}]}", "messages" },
    { "{\"model\":5,\"messages\":[{\"role\":\"user\",\"content\":\"q\"}]}", "model" },
    { "{\"model\":\"\",\"messages\":[{\"role\":\"user\",\"content\":\"q\"}]}", "model" },
    { "{\"stream\":1,\"messages\":[{\"role\":\"user\",\"content\":\"q\"}]}", "stream" },
    { "{\"n\":2,\"messages\":[{\"role\":\"user\",\"content\":\"q\"}]}", "n" },
    { "{\"stream_options\":{\"include_usage\":\"y\"},\"messages\":[{\"role\":\"user\","
      "\"content\":\"q\"}]}", "stream_options.include_usage" },
  };
  struct oai_request q;
  char zP[64];
  size_t i;
  for(i=0; i<sizeof a/sizeof a[0]; i++){
    cv_rc rc = parse(a[i].z, &q, zP);
    TT_CHECK( rc==CV_INVALID );
    if( rc!=CV_INVALID || strcmp(zP, a[i].zParam)!=0 ){
      fprintf(stderr, "  case %zu: rc %d param '%s' want '%s'\n", i, rc, zP, a[i].zParam);
    }
    TT_CHECK( strcmp(zP, a[i].zParam)==0 );
    TT_CHECK( q.aMsg==NULL && q.zModel==NULL );
  }
}

static void fingerprints(void){
  struct oai_fp f, g;
  unsigned char a[CV_FP_LEN], b[CV_FP_LEN], c[CV_FP_LEN];
  /* the same sequence, the same digest; extending a copy is computing it whole */
  openai_fp_init(&f, 1);
  openai_fp_add(&f, "user", "hi");
  g = f;
  openai_fp_add(&f, "assistant", "hello");
  openai_fp_final(&f, a);
  openai_fp_add(&g, "assistant", "hello");
  openai_fp_final(&g, b);
  TT_CHECK( memcmp(a, b, CV_FP_LEN)==0 );
  /* final does not end the sequence */
  openai_fp_final(&f, c);
  TT_CHECK( memcmp(a, c, CV_FP_LEN)==0 );
  /* lengths are in it: ("ab","c") is not ("a","bc") */
  openai_fp_init(&f, 1);
  openai_fp_add(&f, "user", "ab");
  openai_fp_add(&f, "user", "c");
  openai_fp_final(&f, a);
  openai_fp_init(&g, 1);
  openai_fp_add(&g, "user", "a");
  openai_fp_add(&g, "user", "bc");
  openai_fp_final(&g, b);
  TT_CHECK( memcmp(a, b, CV_FP_LEN)!=0 );
  /* another user, another digest; roles count */
  openai_fp_init(&g, 2);
  openai_fp_add(&g, "user", "ab");
  openai_fp_add(&g, "user", "c");
  openai_fp_final(&g, b);
  TT_CHECK( memcmp(a, b, CV_FP_LEN)!=0 );
  openai_fp_init(&g, 1);
  openai_fp_add(&g, "user", "ab");
  openai_fp_add(&g, "assistant", "c");
  openai_fp_final(&g, b);
  TT_CHECK( memcmp(a, b, CV_FP_LEN)!=0 );
  /* the empty sequence has a digest of its own too */
  openai_fp_init(&f, 1);
  openai_fp_final(&f, c);
  TT_CHECK( memcmp(a, c, CV_FP_LEN)!=0 );
}

int main(void){
  TT_RUN(reads_what_it_keeps);
  TT_RUN(refuses_with_param);
  TT_RUN(fingerprints);
  return TT_DONE();
}
