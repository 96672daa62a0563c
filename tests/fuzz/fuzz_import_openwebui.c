/*
** fuzz_import_openwebui.c — imp_read(IMP_OPENWEBUI) on any bytes parsed as JSON: one
** Open WebUI chat (row or bare record, history, details blocks).
** The properties are fuzz_import_check.h's: a whole conversation of valid {role, content}
** messages with a source id, or an error with the struct all zero.
*/
#include "fuzz_import_check.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n){
  return fzi_run(data, n, IMP_OPENWEBUI);
}
