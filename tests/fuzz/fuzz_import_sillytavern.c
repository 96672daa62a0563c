/*
** fuzz_import_sillytavern.c — imp_read_sillytavern on any bytes read as JSON Lines: the first
** line that parses is the header, the next ones (at most 512) the message lines, lines that do
** not parse are dropped (as importer.c does). Properties: fuzz_import_check.h's, and the
** result is a character chat.
*/
#include "fuzz_import_check.h"

#define FZ_ST_LINES 512

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n){
  cJSON *apLine[FZ_ST_LINES + 1];
  int nLine = 0, i;
  size_t iAt = 0;
  struct imp_conv c;
  char zWhy[200];
  cv_rc rc;
  while( iAt<n && nLine<=FZ_ST_LINES ){
    const unsigned char *zEnd = memchr(data + iAt, '\n', n - iAt);
    size_t len = zEnd ? (size_t)(zEnd - (data + iAt)) : n - iAt;
    cJSON *p = len ? cJSON_ParseWithLength((const char*)data + iAt, len) : NULL;
    if( p ){
      FZ_CHECK( imp_detect(p)!=IMP_SILLYTAVERN );
      apLine[nLine++] = p;
    }
    iAt += len + 1;
  }
  memset(&c, 0x5a, sizeof c);
  rc = imp_read_sillytavern(nLine ? apLine[0] : NULL, (const cJSON *const *)apLine + 1,
                            nLine ? nLine - 1 : 0, &c, zWhy, sizeof zWhy);
  if( rc==CV_OK ) FZ_CHECK( c.eKind==CV_CONV_CHAT );
  fzi_check(rc, &c, zWhy);
  for(i=0; i<nLine; i++) cJSON_Delete(apLine[i]);
  return 0;
}
