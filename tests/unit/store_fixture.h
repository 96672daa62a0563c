/* store_fixture.h — for the unit tests of the stores: a store opened by db_open on a fresh
** database in a temporary directory, a user in it, and the clean-up. Include after tinytest.h,
** db.h and store.h; checks fail the current test like any TT_CHECK. */
#ifndef CV_STORE_FIXTURE_H
#define CV_STORE_FIXTURE_H

#include "store_users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store_fixture {
  struct cv_store *pS;           /* NULL when it could not be opened */
  char zDir[64];                 /* the temporary directory */
  char zPath[128];               /* its database file */
};

/* Open a store with nReaders readers on zDir/t.db, zDir made from the mkdtemp template zTmpl. */
static void store_fixture_open(struct store_fixture *f, const char *zTmpl, int nReaders){
  struct cv_store_opts o;
  char *zErr = NULL;
  memset(f, 0, sizeof *f);
  snprintf(f->zDir, sizeof f->zDir, "%s", zTmpl);
  TT_CHECK( mkdtemp(f->zDir)!=NULL );
  snprintf(f->zPath, sizeof f->zPath, "%s/t.db", f->zDir);
  memset(&o, 0, sizeof o);
  o.zPath = f->zPath;
  o.nReaders = nReaders;
  o.busyMs = 2000;
  TT_CHECK( db_open(&o, &f->pS, &zErr)==CV_OK );
  free(zErr);
}

/* Create a user without a password; its id (0 when that failed). */
static int64_t store_fixture_user(struct store_fixture *f, const char *zEmail,
                                  const char *zDisplayName){
  struct cv_user u;
  int64_t id = 0;
  TT_CHECK( store_users_create(f->pS, zEmail, NULL, zDisplayName, &u)==CV_OK );
  id = u.id;
  store_user_clear(&u);
  return id;
}

/* Close the store and remove its directory. */
static void store_fixture_close(struct store_fixture *f){
  char zCmd[128];
  store_close(f->pS);
  f->pS = NULL;
  snprintf(zCmd, sizeof zCmd, "rm -rf %s", f->zDir);
  TT_CHECK( system(zCmd)==0 );
}

#endif /* CV_STORE_FIXTURE_H */
