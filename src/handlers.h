/*
** handlers.h — every route handler. A handler validates input, calls a store or service,
** renders, and returns the status it sent (civetweb's handler contract). Handlers know
** HTTP (through http.h) but never SQL or civetweb. Each one is listed in router.c.
*/
#ifndef CV_HANDLERS_H
#define CV_HANDLERS_H

struct cv_req;

/* h_misc.c */
int h_healthz(struct cv_req *r);
int h_static(struct cv_req *r);

/* h_auth.c */
int h_auth_register(struct cv_req *r);
int h_auth_login(struct cv_req *r);
int h_auth_logout(struct cv_req *r);
int h_auth_me(struct cv_req *r);

/* h_threads.c */
int h_threads_create(struct cv_req *r);
int h_threads_list(struct cv_req *r);
int h_threads_get(struct cv_req *r);
int h_threads_update(struct cv_req *r);
int h_threads_delete(struct cv_req *r);
int h_threads_append(struct cv_req *r);
int h_threads_import(struct cv_req *r);

#endif
