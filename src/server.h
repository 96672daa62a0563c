/*
** server.h — the listener: civetweb started with our options, one catch-all handler that
** turns a connection into a struct cv_req and hands it to the router, the access log, and
** a clean stop on SIGINT/SIGTERM. May call civetweb, router and http.
*/
#ifndef CV_SERVER_H
#define CV_SERVER_H

#include "cv.h"
#include <stddef.h>

struct cv_app;

/* Serve until SIGINT or SIGTERM; in-flight requests finish before it returns. Prints
** "listening on http://HOST:PORT" on stdout once the port is open. Returns CV_OK after a
** clean stop, CV_IO when the port could not be opened (message on stderr). */
cv_rc server_run(struct cv_app *pApp);

/* Percent-decode the raw request path z into *pzOut, a new malloc'd string (free with
** free()). CV_INVALID when it holds an encoded NUL (%00) or a malformed escape, CV_NOMEM when
** memory ran out; *pzOut is NULL then. Pure. */
cv_rc server_decode_path(const char *z, char **pzOut);

/* The framing check every request passes before routing (RFC 9112 §6.1, §6.3): NULL when
** the request's body length is unambiguous, else the detail of the 400 to send (a static
** string) before closing the connection. azName/azValue: its nHeader header names and values
** (NULL names skipped); zHttpVersion "1.0", "1.1" or NULL. Pure; fuzzed by fuzz_framing.c. */
const char *server_check_framing(const char *zHttpVersion, int nHeader,
                                 const char *const *azName, const char *const *azValue);

/* Copy z into zOut (nOut >= 8 bytes, always NUL-terminated) for a log line: printable
** ASCII as is, '\\' doubled, any other byte as \xNN; cut with "..." when too long. Pure. */
void server_log_escape(const char *z, char *zOut, size_t nOut);

#endif
