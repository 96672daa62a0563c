/*
** tinytest.h — the smallest unit-test harness that does the job: TT_CHECK records a
** failure with file:line and goes on; TT_RUN runs one test function and prints
** "ok name" or "FAIL name"; TT_DONE prints the closing "N passed, N failed" line and
** returns the exit code. One test binary per tests/unit/test_<file>.c.
*/
#ifndef TINYTEST_H
#define TINYTEST_H

#include <stdio.h>

static int tt_failed_checks;   /* failed checks in the current test */
static int tt_passed, tt_failed;

#define TT_CHECK(cond) do{ if( !(cond) ){ tt_failed_checks++; \
  fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } }while(0)

#define TT_RUN(fn) do{ tt_failed_checks = 0; fn(); \
  if( tt_failed_checks ){ tt_failed++; printf("FAIL %s\n", #fn); } \
  else{ tt_passed++; printf("ok %s\n", #fn); } fflush(stdout); }while(0)

#define TT_DONE() (printf("%d passed, %d failed\n", tt_passed, tt_failed), tt_failed ? 1 : 0)

#endif
