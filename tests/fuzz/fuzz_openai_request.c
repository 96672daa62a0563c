/*
** fuzz_openai_request.c — a POST /v1/chat/completions body through openai_request_parse (the
** request reader of the OpenAI-compatible endpoint, src/openai_rec.c), then the conversation
** fingerprint over what it kept. Properties beyond "no crash, no leak":
**   - the result is CV_OK or CV_INVALID; CV_INVALID carries a non-empty message, and message
**     and param are valid UTF-8 (they go to the client inside a JSON string);
**   - an accepted request keeps 1..OAI_MAX_MESSAGES messages, each role system, user or
**     assistant with valid UTF-8 content without NUL of at most CV_MESSAGE_MAX_CHARS
**     characters; nConv counts the user and assistant ones (>= 1) and the last of them is the
**     user's;
**   - the fingerprint is a function of the sequence: computed twice, equal; a prefix's state
**     copied and extended gives the same digest as computing the whole again.
*/
#include "fuzz_common.h"
#include "openai_rec.h"
#include "util.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n){
  struct oai_request q;
  struct oai_error err;
  cv_rc rc;
  if( n > (1u<<20) ) return 0;   /* the server's --max-body default */
  rc = openai_request_parse((const char*)data, n, &q, &err);
  FZ_CHECK( rc==CV_OK || rc==CV_INVALID );
  if( rc==CV_INVALID ){
    FZ_CHECK( err.zMessage[0]!=0 );
    FZ_CHECK( fz_utf8_ref((const unsigned char*)err.zMessage, strlen(err.zMessage), NULL) );
    FZ_CHECK( fz_utf8_ref((const unsigned char*)err.zParam, strlen(err.zParam), NULL) );
    FZ_CHECK( q.aMsg==NULL && q.nMsg==0 && q.zModel==NULL );
    return 0;
  }
  {
    struct oai_fp a, b, half;
    unsigned char d1[CV_FP_LEN], d2[CV_FP_LEN], d3[CV_FP_LEN];
    const char *zLast = NULL;
    int i, nConv = 0, iHalf = q.nMsg/2;
    FZ_CHECK( q.nMsg>=1 && q.nMsg<=OAI_MAX_MESSAGES );
    openai_fp_init(&a, 42);
    openai_fp_init(&b, 42);
    half = b;
    for(i=0; i<q.nMsg; i++){
      const struct oai_msg *m = &q.aMsg[i];
      size_t nChars = 0;
      FZ_CHECK( strcmp(m->zRole, "system")==0 || strcmp(m->zRole, "user")==0
             || strcmp(m->zRole, "assistant")==0 );
      FZ_CHECK( m->zContent!=NULL );
      FZ_CHECK( fz_utf8_ref((const unsigned char*)m->zContent, strlen(m->zContent), &nChars) );
      FZ_CHECK( nChars<=CV_MESSAGE_MAX_CHARS );
      if( strcmp(m->zRole, "system")!=0 ){ nConv++; zLast = m->zRole; }
      openai_fp_add(&a, m->zRole, m->zContent);
      if( i==iHalf ) half = b;
      openai_fp_add(&b, m->zRole, m->zContent);
    }
    FZ_CHECK( nConv==q.nConv && nConv>=1 );
    FZ_CHECK( zLast && strcmp(zLast, "user")==0 );
    openai_fp_final(&a, d1);
    openai_fp_final(&b, d2);
    FZ_CHECK( memcmp(d1, d2, CV_FP_LEN)==0 );
    /* from the copied state at iHalf, extended with the rest: the same digest */
    for(i=iHalf; i<q.nMsg; i++) openai_fp_add(&half, q.aMsg[i].zRole, q.aMsg[i].zContent);
    openai_fp_final(&half, d3);
    FZ_CHECK( memcmp(d1, d3, CV_FP_LEN)==0 );
    /* another user: another fingerprint */
    openai_fp_init(&b, 43);
    for(i=0; i<q.nMsg; i++) openai_fp_add(&b, q.aMsg[i].zRole, q.aMsg[i].zContent);
    openai_fp_final(&b, d2);
    FZ_CHECK( memcmp(d1, d2, CV_FP_LEN)!=0 );
  }
  if( q.zModel ) FZ_CHECK( fz_utf8_ref((const unsigned char*)q.zModel, strlen(q.zModel), NULL) );
  openai_request_free(&q);
  return 0;
}
