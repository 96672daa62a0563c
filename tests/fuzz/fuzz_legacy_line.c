/*
** fuzz_legacy_line.c — one line of `chatvault import-legacy` through the same parse and
** validation as the importer (import_check_line: val_parse_json, emails, chat_history as
** an array or as JSON text, entries, messages, times as ISO text or unix numbers).
** Properties: no crash or leak; CV_OK or CV_INVALID only; the reason is NUL-terminated
** and not empty on CV_INVALID.
*/
#include "fuzz_common.h"
#include "import.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n){
  char zWhy[256];
  cv_rc rc;
  if( n > (1u<<20) ) return 0;
  memset(zWhy, 'x', sizeof zWhy);
  zWhy[0] = 0;
  rc = import_check_line((const char*)data, n, zWhy, sizeof zWhy);
  FZ_CHECK( rc==CV_OK || rc==CV_INVALID );
  FZ_CHECK( memchr(zWhy, 0, sizeof zWhy)!=NULL );
  if( rc==CV_INVALID ) FZ_CHECK( zWhy[0]!=0 );
  return 0;
}
