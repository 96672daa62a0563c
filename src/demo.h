/*
** demo.h — `serve --demo`: seed a database with a demo account and sample data so a person
** can try everything offline in a minute. May call auth and the stores.
*/
#ifndef CV_DEMO_H
#define CV_DEMO_H

#include "cv.h"

struct cv_store;

/* Make sure the demo account exists with a fresh random password and sample data (added
** once). Prints the credentials to stdout. */
cv_rc demo_seed(struct cv_store *pS);

#endif
