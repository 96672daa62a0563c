/*
** router.h — from method and path to a handler: the route table, path parameters, the
** 404/405 decision (kore's route lookup), and authentication of routes that need it,
** which runs before the handler. May call auth, http and handlers.
*/
#ifndef CV_ROUTER_H
#define CV_ROUTER_H

#include <stddef.h>

struct cv_req;

/* Route r (zMethod, zPath filled) and answer it. Returns the status sent. */
int router_dispatch(struct cv_req *r);

/* The pure route lookup under router_dispatch (exposed for tests/fuzz): zPath is the RAW
** path (percent-escapes kept) with any one trailing slash already removed; it is split at
** '/' and each segment decoded afterwards, so parameters are decoded values that may hold a
** '/' (%2F) but never span two segments. Returns the index (>=0) of the route
** of zMethod matching zPath, its parameters copied into zBuf (nBuf bytes, at least
** strlen(zPath)+1) with pointers in azParam[CV_MAX_PARAMS]; -1 when some route has the path
** but not the method (zAllow, nAllow bytes, lists the methods); -2 when no route has it. */
int router_lookup(const char *zMethod, const char *zPath, char *zBuf, size_t nBuf,
                  const char **azParam, char *zAllow, size_t nAllow);

/* The pattern of route iRoute (as router_lookup returns it), NULL when out of range. Static
** storage. For tests and fuzzing. */
const char *router_pattern(int iRoute);

/* The method ("GET", ...) of route iRoute, NULL when out of range; router_auth: 1 when the
** router checks a bearer token before its handler, 0 when not, -1 out of range. For tests
** (tests/unit/test_openapi.c walks the table against the OpenAPI document). */
const char *router_method(int iRoute);
int router_auth(int iRoute);

#endif
