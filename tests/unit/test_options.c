/* test_options.c — unit tests of src/options.c and the table-driven config_load (config.c):
** the table is consistent (unique names and variables, every default parses, every flag taken
** by some subcommand), edit distance and suggestions, flags refused by subcommands that do not
** take them, env twins and flags winning over them. */
#include "tinytest.h"
#include "config.h"
#include "options.h"

#include <stdlib.h>
#include <string.h>

static void table_is_consistent(void){
  int i, j;
  TT_CHECK( nCvOption>=28 );
  for(i=0; i<nCvOption; i++){
    const struct cv_option *p = &aCvOption[i];
    TT_CHECK( p->zName && p->zHelp && p->zHelp[0] );
    TT_CHECK( p->mCmds!=0 );
    TT_CHECK( (p->zArg==NULL) == (p->eKind==CV_OPT_SWITCH) );
    TT_CHECK( options_find(p->zName, strlen(p->zName))==p );
    if( p->zEnv ) TT_CHECK( strncmp(p->zEnv, "CHATVAULT_", 10)==0 );
    for(j=0; j<i; j++){
      TT_CHECK( strcmp(aCvOption[j].zName, p->zName)!=0 );
      if( p->zEnv && aCvOption[j].zEnv ) TT_CHECK( strcmp(aCvOption[j].zEnv, p->zEnv)!=0 );
    }
  }
  for(i=0; i<nCvCommand; i++) TT_CHECK( options_command(aCvCommand[i].zName)==&aCvCommand[i] );
  TT_CHECK( options_find("db", 2)!=NULL && options_find("d", 1)==NULL );
  TT_CHECK( options_command("serve")!=NULL && options_command("serv")==NULL );
}

static void distance(void){
  TT_CHECK( options_distance("abc", 3, "abc", 3)==0 );
  TT_CHECK( options_distance("histroy", 7, "history", 7)==1 );   /* a swap is one edit */
  TT_CHECK( options_distance("", 0, "abc", 3)==3 );
  TT_CHECK( options_distance("kitten", 6, "sitting", 7)==3 );
  {
    char zLong[100];
    memset(zLong, 'a', sizeof zLong);
    TT_CHECK( options_distance(zLong, 100, "a", 1)==64 );
  }
}

static void suggestions(void){
  const char *z;
  z = options_suggest_flag("histroy-limit", 13, CV_CMD_SERVE);
  TT_CHECK( z && strcmp(z, "history-limit")==0 );
  z = options_suggest_flag("formt", 5, CV_CMD_IMPORT);
  TT_CHECK( z && strcmp(z, "format")==0 );
  z = options_suggest_flag("trusted", 7, CV_CMD_SERVE);             /* an abbreviation */
  TT_CHECK( z && strcmp(z, "trusted-proxy")==0 );
  TT_CHECK( options_suggest_flag("xyzzy-plugh", 11, CV_CMD_SERVE)==NULL );
  TT_CHECK( options_suggest_flag("history", 7, CV_CMD_SERVE)==NULL ); /* two flags start so */
  z = options_suggest_command("serv");
  TT_CHECK( z && strcmp(z, "serve")==0 );
  z = options_suggest_command("imprt");
  TT_CHECK( z && strcmp(z, "import")==0 );
  TT_CHECK( options_suggest_command("frobnicate")==NULL );
}

static cv_rc load(struct cv_config *c, unsigned mCmd, int argc, const char **argv, char *zErr){
  const char *azArg[4];
  int nArg = 0;
  return config_load(c, mCmd, argc, (char**)argv, 1, azArg, 3, &nArg, zErr, 256);
}

static void defaults_env_and_flags(void){
  struct cv_config c;
  char zErr[256];
  const char *a1[] = { "chatvault", "--history-limit", "7", "--no-signup", "--sync=normal" };
  const char *a2[] = { "chatvault", "--histroy-limit", "7" };
  const char *a3[] = { "chatvault", "out.db", "--listen", "127.0.0.1:1" };
  const char *a4[] = { "chatvault", "--token-ttl", "1h" };
  TT_CHECK( load(&c, CV_CMD_SERVE, 1, a1, zErr)==CV_OK );
  TT_CHECK( strcmp(c.zDb, "./chatvault.db")==0 && strcmp(c.zListen, "127.0.0.1:8080")==0 );
  TT_CHECK( c.nThreads==2048 && c.nReaders==8 && c.maxBody==1048576 && c.historyLimit==30 );
  TT_CHECK( c.tokenTtlMs==30LL*86400*1000 && c.bSyncFull==1 && c.llmTimeoutS==120 );
  TT_CHECK( c.maxImport==(int64_t)256<<20 && c.maxUserBytes==(int64_t)1<<30 );
  TT_CHECK( c.zLlmUrl==NULL && c.zLlmKey==NULL && c.bNoSignup==0 && c.bDemo==0 );
  TT_CHECK( strcmp(c.zHistoryOverflow, "delete")==0 && c.requestTimeoutMs==10000 );
  TT_CHECK( load(&c, CV_CMD_SERVE, 5, a1, zErr)==CV_OK );
  TT_CHECK( c.historyLimit==7 && c.bNoSignup==1 && c.bSyncFull==0 );
  TT_CHECK( load(&c, CV_CMD_SERVE, 3, a2, zErr)==CV_INVALID );
  TT_CHECK( strcmp(zErr, "unknown flag --histroy-limit (did you mean --history-limit?)")==0 );
  TT_CHECK( load(&c, CV_CMD_BACKUP, 4, a3, zErr)==CV_INVALID );
  TT_CHECK( strstr(zErr, "--listen is not a flag of backup")!=NULL );
  setenv("CHATVAULT_TOKEN_TTL", "5s", 1);
  setenv("CHATVAULT_REQUEST_TIMEOUT", "2000", 1);
  TT_CHECK( load(&c, CV_CMD_TOKEN, 1, a4, zErr)==CV_OK );
  TT_CHECK( c.tokenTtlMs==5000 && c.requestTimeoutMs==2000 );
  TT_CHECK( load(&c, CV_CMD_TOKEN, 3, a4, zErr)==CV_OK && c.tokenTtlMs==3600000 );  /* flag wins */
  setenv("CHATVAULT_REQUEST_TIMEOUT", "1", 1);
  TT_CHECK( load(&c, CV_CMD_TOKEN, 1, a4, zErr)==CV_INVALID );
  TT_CHECK( strstr(zErr, "(from CHATVAULT_REQUEST_TIMEOUT)")!=NULL );
  unsetenv("CHATVAULT_TOKEN_TTL");
  unsetenv("CHATVAULT_REQUEST_TIMEOUT");
}

int main(void){
  TT_RUN(table_is_consistent);
  TT_RUN(distance);
  TT_RUN(suggestions);
  TT_RUN(defaults_env_and_flags);
  return TT_DONE();
}
