/*
** version.h — what `chatvault version` prints: the version of chatvault and of every library
** compiled into the binary, read from the libraries themselves at run time (not from their
** headers), so the output shows what is really inside. Calls SQLite, civetweb, cJSON,
** libsodium and OpenSSL for their version strings only: the one file besides db.c/store_*.c
** that includes sqlite3.h and besides server/router/http/llm that includes civetweb.h.
*/
#ifndef CV_VERSION_H
#define CV_VERSION_H

#include <stdio.h>

/* Write the versions to pOut, one line each:
**   chatvault 0.1.0
**   SQLite 3.46.1 (source id 2024-08-13 09:16:08 c9c2...)
**   SQLite options: ATOMIC_INTRINSICS=1 COMPILER=gcc-12.2.0 DEFAULT_MEMSTATUS=0 DQS=0 ...
**   civetweb 1.15
**   cJSON 1.7.15
**   libsodium 1.0.18
**   OpenSSL 3.0.16 11 Feb 2025
** A test build (-DCV_TEST_HOOKS, the ASan build) adds a last line naming the environment
** variables it obeys: "test hooks: CV_TEST_LOSE_LEADER CV_TEST_MEMBERSHIP (a test build)".
** Returns 0, or -1 when writing failed. Test: tests/cli/test_cli.py (version). */
int version_print(FILE *pOut);

#endif
