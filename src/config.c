/*
** config.c — defaults, CHATVAULT_* variables and --flags into struct cv_config.
** Flags win over the environment. Strings point into argv, environ or the option table (never
** freed). Every flag, its env twin and its default are rows of the table in options.c; this
** file reads values as a row says. May call netaddr (pure parsing) for --trusted-proxy.
*/
#include "config.h"
#include "options.h"

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

/* A switch's value: given alone (NULL) it is on; 0, false, no and off turn it off. */
static int switch_value(const char *zVal){
  return !zVal || (strcmp(zVal, "0")!=0 && strcmp(zVal, "false")!=0 && strcmp(zVal, "no")!=0
                   && strcmp(zVal, "off")!=0);
}

/* zVal is one of the '|'-separated words of zChoices. */
static int is_choice(const char *zChoices, const char *zVal){
  size_t n = strlen(zVal);
  while( *zChoices ){
    size_t k = strcspn(zChoices, "|");
    if( k==n && memcmp(zChoices, zVal, n)==0 ) return 1;
    zChoices += k;
    if( *zChoices=='|' ) zChoices++;
  }
  return 0;
}

/* Apply one setting as its row of the option table says. zVal is NULL for a switch given
** without a value. */
static cv_rc apply(struct cv_config *c, const struct cv_option *p, const char *zVal,
                   char *zErr, size_t nErr){
  char *pField = (char*)c + p->iOff;
  int64_t v;
  if( !zVal && p->eKind!=CV_OPT_SWITCH ){
    snprintf(zErr, nErr, "--%s needs a value", p->zName);
    return CV_INVALID;
  }
  switch( p->eKind ){
    case CV_OPT_STR:      *(const char**)pField = zVal; return CV_OK;
    case CV_OPT_STR_NULL: *(const char**)pField = *zVal ? zVal : NULL; return CV_OK;
    case CV_OPT_SWITCH:   *(int*)pField = switch_value(zVal); return CV_OK;
    case CV_OPT_INT:
      if( (v = parse_int(zVal, p->lo, p->hi))<0 ) break;
      *(int*)pField = (int)v;
      return CV_OK;
    case CV_OPT_I64: case CV_OPT_BYTES:
      if( (v = parse_int(zVal, p->lo, p->hi))<0 ) break;
      *(int64_t*)pField = v;
      return CV_OK;
    case CV_OPT_DUR_MS:
      if( (v = config_duration_ms(zVal))<=0 ) break;
      *(int64_t*)pField = v;
      return CV_OK;
    case CV_OPT_DUR_S:
      if( (v = config_duration_ms(zVal))<=0 ) break;
      *(int*)pField = (int)((v+999)/1000);
      return CV_OK;
    case CV_OPT_CHOICE:
      if( !is_choice(p->zChoices, zVal) ) break;
      *(const char**)pField = zVal;
      return CV_OK;
    case CV_OPT_SYNC:
      if( strcmp(zVal, "full")==0 || strcmp(zVal, "FULL")==0 ) *(int*)pField = 1;
      else if( strcmp(zVal, "normal")==0 || strcmp(zVal, "NORMAL")==0 ) *(int*)pField = 0;
      else break;
      return CV_OK;
    case CV_OPT_CIDRS:
      *(const char**)pField = zVal;
      c->nTrusted = 0;
      if( *zVal && netaddr_parse_cidrs(zVal, c->aTrusted, &c->nTrusted)!=CV_OK ) break;
      return CV_OK;
  }
  snprintf(zErr, nErr, "bad value for --%s: %s", p->zName, zVal ? zVal : "");
  return CV_INVALID;
}

cv_rc config_load(struct cv_config *c, unsigned mCmd, int argc, char **argv, int iFirst,
                  const char **azArg, int nArgMax, int *pnArg, char *zErr, size_t nErr){
  int i;
  memset(c, 0, sizeof *c);
  *pnArg = 0;
  /* the defaults, read from the table like any value: what --help shows is what is used */
  for(i=0; i<nCvOption; i++){
    const struct cv_option *p = &aCvOption[i];
    if( p->zDefault && apply(c, p, p->zDefault, zErr, nErr) ) return CV_INVALID;
  }
  for(i=0; i<nCvOption; i++){
    const struct cv_option *p = &aCvOption[i];
    const char *zVal = p->zEnv ? getenv(p->zEnv) : NULL;
    if( zVal && apply(c, p, zVal, zErr, nErr) ){
      char zTmp[256];
      snprintf(zTmp, sizeof zTmp, "%s (from %s)", zErr, p->zEnv);
      snprintf(zErr, nErr, "%s", zTmp);
      return CV_INVALID;
    }
  }
  for(i=iFirst; i<argc; i++){
    const char *z = argv[i];
    if( z[0]=='-' && z[1]=='-' && z[2] ){
      const struct cv_option *p;
      const char *zEq = strchr(z+2, '=');
      const char *zVal = NULL;
      size_t n = zEq ? (size_t)(zEq - (z+2)) : strlen(z+2);
      p = options_find(z+2, n);
      if( !p ){
        const char *zNear = options_suggest_flag(z+2, n, mCmd);
        if( zNear ){
          snprintf(zErr, nErr, "unknown flag --%.*s (did you mean --%s?)", (int)(n>64?64:n), z+2,
                   zNear);
        }else{
          snprintf(zErr, nErr, "unknown flag --%.*s", (int)(n>64?64:n), z+2);
        }
        return CV_INVALID;
      }
      if( !(p->mCmds & mCmd) ){
        char zCmds[160], zThis[32];
        options_command_names(p->mCmds, zCmds, sizeof zCmds);
        options_command_names(mCmd, zThis, sizeof zThis);
        snprintf(zErr, nErr, "--%s is not a flag of %s (it is one of: %s)", p->zName, zThis,
                 zCmds);
        return CV_INVALID;
      }
      if( zEq ) zVal = zEq+1;
      else if( p->eKind!=CV_OPT_SWITCH ){
        if( i+1>=argc ){ snprintf(zErr, nErr, "--%s needs a value", p->zName); return CV_INVALID; }
        zVal = argv[++i];
      }
      if( apply(c, p, zVal, zErr, nErr) ) return CV_INVALID;
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
