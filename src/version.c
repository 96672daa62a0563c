/*
** version.c — see version.h. Each library reports its own version (sqlite3_libversion,
** mg_version, cJSON_Version, sodium_version_string, OpenSSL_version), so a binary linked
** against something other than the vendored sources would say so.
*/
#include "version.h"

#include <cJSON.h>
#include <civetweb.h>
#include <openssl/crypto.h>
#include <sodium.h>
#include <sqlite3.h>

int version_print(FILE *pOut){
  const char *zOpt;
  int i;
  fprintf(pOut, "chatvault %s\n", CV_VERSION);
  fprintf(pOut, "SQLite %s (source id %s)\n", sqlite3_libversion(), sqlite3_sourceid());
  fputs("SQLite options:", pOut);
  for(i=0; (zOpt = sqlite3_compileoption_get(i))!=NULL; i++) fprintf(pOut, " %s", zOpt);
  fputc('\n', pOut);
  fprintf(pOut, "civetweb %s\n", mg_version());
  fprintf(pOut, "cJSON %s\n", cJSON_Version());
  fprintf(pOut, "libsodium %s\n", sodium_version_string());
  fprintf(pOut, "%s\n", OpenSSL_version(OPENSSL_VERSION));
#ifdef CV_TEST_HOOKS
  fputs("test hooks: CV_TEST_LOSE_LEADER CV_TEST_MEMBERSHIP (a test build)\n", pOut);
#endif
  return (fflush(pOut)!=0 || ferror(pOut)) ? -1 : 0;
}
