/*
** config.c — defaults, CHATVAULT_* variables and --flags into struct cv_config.
** Flags win over the environment. Strings point into argv or environ (never freed).
** May call netaddr (pure parsing) for --trusted-proxy.
*/
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t config_duration_ms(const char *z){
  char *zEnd;
  double v;
  if( !z || !*z ) return -1;
  v = strtod(z, &zEnd);
  if( zEnd==z || v<0 ) return -1;
  switch( *zEnd ){
    case 0: case 's': break;
    case 'm': v *= 60; break;
    case 'h': v *= 3600; break;
    case 'd': v *= 86400; break;
    default: return -1;
  }
  if( *zEnd && zEnd[1] ) return -1;
  if( v > 1e10 ) return -1;
  return (int64_t)(v*1000);
}

/* Parse a whole positive integer in [lo,hi]; -1 when not. */
static int64_t parse_int(const char *z, int64_t lo, int64_t hi){
  char *zEnd;
  long long v;
  if( !z || !isdigit((unsigned char)*z) ) return -1;
  v = strtoll(z, &zEnd, 10);
  if( *zEnd || v<lo || v>hi ) return -1;
  return v;
}

/* Apply one setting by name. zVal is NULL for a boolean flag given without a value. */
static cv_rc apply(struct cv_config *c, const char *zName, const char *zVal,
                   char *zErr, size_t nErr){
  int64_t v;
#define NEED_VAL if( !zVal ){ snprintf(zErr, nErr, "--%s needs a value", zName); return CV_INVALID; }
#define BAD      do{ snprintf(zErr, nErr, "bad value for --%s: %s", zName, zVal); return CV_INVALID; }while(0)
  if( strcmp(zName, "db")==0 ){ NEED_VAL c->zDb = zVal; }
  else if( strcmp(zName, "format")==0 ){ NEED_VAL c->zFormat = zVal; }
  else if( strcmp(zName, "listen")==0 ){ NEED_VAL c->zListen = zVal; }
  else if( strcmp(zName, "threads")==0 ){
    NEED_VAL if( (v = parse_int(zVal, 2, 4096))<0 ) BAD; c->nThreads = (int)v;
  }else if( strcmp(zName, "readers")==0 ){
    NEED_VAL if( (v = parse_int(zVal, 1, 256))<0 ) BAD; c->nReaders = (int)v;
  }else if( strcmp(zName, "max-body")==0 ){
    NEED_VAL if( (v = parse_int(zVal, 64, (int64_t)1<<31))<0 ) BAD; c->maxBody = v;
  }else if( strcmp(zName, "max-import")==0 ){
    NEED_VAL if( (v = parse_int(zVal, 1024, (int64_t)1<<40))<0 ) BAD; c->maxImport = v;
  }else if( strcmp(zName, "max-conversation-messages")==0 ){
    NEED_VAL if( (v = parse_int(zVal, 1, (int64_t)1<<40))<0 ) BAD; c->maxConvMessages = v;
  }else if( strcmp(zName, "max-conversation-bytes")==0 ){
    NEED_VAL if( (v = parse_int(zVal, 1024, (int64_t)1<<50))<0 ) BAD; c->maxConvBytes = v;
  }else if( strcmp(zName, "max-user-bytes")==0 ){
    NEED_VAL if( (v = parse_int(zVal, 1024, (int64_t)1<<50))<0 ) BAD; c->maxUserBytes = v;
  }else if( strcmp(zName, "token-ttl")==0 ){
    NEED_VAL if( (v = config_duration_ms(zVal))<=0 ) BAD; c->tokenTtlMs = v;
  }else if( strcmp(zName, "no-signup")==0 ){
    c->bNoSignup = !zVal || (strcmp(zVal, "0")!=0 && strcmp(zVal, "false")!=0 && strcmp(zVal, "no")!=0);
  }else if( strcmp(zName, "sync")==0 ){
    NEED_VAL
    if( strcmp(zVal, "full")==0 || strcmp(zVal, "FULL")==0 ) c->bSyncFull = 1;
    else if( strcmp(zVal, "normal")==0 || strcmp(zVal, "NORMAL")==0 ) c->bSyncFull = 0;
    else BAD;
  }else if( strcmp(zName, "history-limit")==0 ){
    NEED_VAL if( (v = parse_int(zVal, 1, 100000))<0 ) BAD; c->historyLimit = (int)v;
  }else if( strcmp(zName, "history-overflow")==0 ){
    NEED_VAL
    if( strcmp(zVal, "delete")==0 || strcmp(zVal, "archive")==0 ) c->zHistoryOverflow = zVal;
    else BAD;
  }else if( strcmp(zName, "refresh-copies")==0 ){
    c->bRefreshCopies = !zVal || (strcmp(zVal, "0")!=0 && strcmp(zVal, "false")!=0 && strcmp(zVal, "no")!=0);
  }else if( strcmp(zName, "llm-url")==0 ){ NEED_VAL c->zLlmUrl = *zVal ? zVal : NULL; }
  else if( strcmp(zName, "llm-model")==0 ){ NEED_VAL c->zLlmModel = zVal; }
  else if( strcmp(zName, "llm-key")==0 ){ NEED_VAL c->zLlmKey = *zVal ? zVal : NULL; }
  else if( strcmp(zName, "llm-timeout")==0 ){
    NEED_VAL if( (v = config_duration_ms(zVal))<=0 ) BAD; c->llmTimeoutS = (int)((v+999)/1000);
  }else if( strcmp(zName, "llm-history-chars")==0 ){
    NEED_VAL if( (v = parse_int(zVal, 0, 100000000))<0 ) BAD; c->llmHistoryChars = (int)v;
  }else if( strcmp(zName, "demo")==0 ){
    c->bDemo = !zVal || (strcmp(zVal, "0")!=0 && strcmp(zVal, "false")!=0);
  }else if( strcmp(zName, "access-log")==0 ){ NEED_VAL c->zAccessLog = zVal; }
  else if( strcmp(zName, "tls-cert")==0 ){ NEED_VAL c->zTlsCert = zVal; }
  else if( strcmp(zName, "tls-key")==0 ){ NEED_VAL c->zTlsKey = zVal; }
  else if( strcmp(zName, "request-timeout")==0 ){
    NEED_VAL if( (v = parse_int(zVal, 100, 3600000))<0 ) BAD; c->requestTimeoutMs = (int)v;
  }else if( strcmp(zName, "body-timeout")==0 ){
    NEED_VAL if( (v = parse_int(zVal, 100, 3600000))<0 ) BAD; c->bodyTimeoutMs = (int)v;
  }else if( strcmp(zName, "trusted-proxy")==0 ){
    NEED_VAL
    c->zTrustedProxy = zVal;
    c->nTrusted = 0;
    if( *zVal && netaddr_parse_cidrs(zVal, c->aTrusted, &c->nTrusted)!=CV_OK ) BAD;
  }else{
    snprintf(zErr, nErr, "unknown option --%s", zName);
    return CV_INVALID;
  }
  return CV_OK;
#undef NEED_VAL
#undef BAD
}

static int is_bool_flag(const char *zName){
  return strcmp(zName, "no-signup")==0 || strcmp(zName, "demo")==0
      || strcmp(zName, "refresh-copies")==0;
}

cv_rc config_load(struct cv_config *c, int argc, char **argv, int iFirst,
                  const char **azArg, int nArgMax, int *pnArg, char *zErr, size_t nErr){
  static const char *const azEnv[][2] = {
    {"CHATVAULT_DB", "db"}, {"CHATVAULT_LISTEN", "listen"}, {"CHATVAULT_THREADS", "threads"},
    {"CHATVAULT_READERS", "readers"},
    {"CHATVAULT_MAX_BODY", "max-body"}, {"CHATVAULT_MAX_IMPORT", "max-import"},
    {"CHATVAULT_TOKEN_TTL", "token-ttl"},
    {"CHATVAULT_MAX_CONVERSATION_MESSAGES", "max-conversation-messages"},
    {"CHATVAULT_MAX_CONVERSATION_BYTES", "max-conversation-bytes"},
    {"CHATVAULT_MAX_USER_BYTES", "max-user-bytes"},
    {"CHATVAULT_NO_SIGNUP", "no-signup"}, {"CHATVAULT_SYNC", "sync"},
    {"CHATVAULT_HISTORY_LIMIT", "history-limit"},
    {"CHATVAULT_HISTORY_OVERFLOW", "history-overflow"}, {"CHATVAULT_REFRESH_COPIES", "refresh-copies"},
    {"CHATVAULT_LLM_URL", "llm-url"},
    {"CHATVAULT_LLM_MODEL", "llm-model"}, {"CHATVAULT_LLM_KEY", "llm-key"},
    {"CHATVAULT_LLM_TIMEOUT", "llm-timeout"}, {"CHATVAULT_LLM_HISTORY_CHARS", "llm-history-chars"}, {"CHATVAULT_ACCESS_LOG", "access-log"},
    {"CHATVAULT_TLS_CERT", "tls-cert"}, {"CHATVAULT_TLS_KEY", "tls-key"},
    {"CHATVAULT_TRUSTED_PROXY", "trusted-proxy"},
  };
  size_t k;
  int i;
  memset(c, 0, sizeof *c);
  c->zDb = "./chatvault.db";
  c->zListen = "127.0.0.1:8080";
  c->nThreads = 2048;   /* see server.c: idle keep-alive and slow clients each hold one */
  c->nReaders = 8;
  c->maxBody = 1024*1024;
  c->maxImport = (int64_t)256*1024*1024;
  c->maxConvMessages = 100000;            /* 10x a long companion chat (10,000+ is normal) */
  c->maxConvBytes = (int64_t)64<<20;
  c->maxUserBytes = (int64_t)1<<30;
  c->tokenTtlMs = 30LL*86400*1000;
  c->bSyncFull = 1;
  c->historyLimit = 30;
  c->zHistoryOverflow = "delete";
  c->zLlmModel = "gpt-4o-mini";
  c->llmTimeoutS = 120;
  c->llmHistoryChars = 24000;
  c->zAccessLog = "-";
  c->requestTimeoutMs = 10000;
  c->bodyTimeoutMs = 30000;
  *pnArg = 0;
  for(k=0; k<sizeof azEnv/sizeof azEnv[0]; k++){
    const char *zVal = getenv(azEnv[k][0]);
    if( zVal && apply(c, azEnv[k][1], zVal, zErr, nErr) ){
      char zTmp[256];
      snprintf(zTmp, sizeof zTmp, "%s (from %s)", zErr, azEnv[k][0]);
      snprintf(zErr, nErr, "%s", zTmp);
      return CV_INVALID;
    }
  }
  for(i=iFirst; i<argc; i++){
    const char *z = argv[i];
    if( z[0]=='-' && z[1]=='-' && z[2] ){
      char zName[64];
      const char *zEq = strchr(z+2, '=');
      const char *zVal = NULL;
      size_t n = zEq ? (size_t)(zEq - (z+2)) : strlen(z+2);
      if( n>=sizeof zName ){ snprintf(zErr, nErr, "unknown option %s", z); return CV_INVALID; }
      memcpy(zName, z+2, n);
      zName[n] = 0;
      if( zEq ) zVal = zEq+1;
      else if( !is_bool_flag(zName) ){
        if( i+1>=argc ){ snprintf(zErr, nErr, "--%s needs a value", zName); return CV_INVALID; }
        zVal = argv[++i];
      }
      if( apply(c, zName, zVal, zErr, nErr) ) return CV_INVALID;
    }else{
      if( *pnArg>=nArgMax ){ snprintf(zErr, nErr, "unexpected argument: %s", z); return CV_INVALID; }
      azArg[(*pnArg)++] = z;
    }
  }
  if( (c->zTlsCert==NULL) != (c->zTlsKey==NULL) ){
    snprintf(zErr, nErr, "--tls-cert and --tls-key go together");
    return CV_INVALID;
  }
  return CV_OK;
}
