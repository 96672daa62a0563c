/*
** router.h — from method and path to a handler: the route table, path parameters, the
** 404/405 decision (kore's route lookup), and authentication of routes that need it,
** which runs before the handler. May call auth, http and handlers.
*/
#ifndef CV_ROUTER_H
#define CV_ROUTER_H

struct cv_req;

/* Route r (zMethod, zPath filled) and answer it. Returns the status sent. */
int router_dispatch(struct cv_req *r);

#endif
