/* test_db_file.c — unit tests of src/db_file.c: `chatvault check` on a clean file and on one
** whose counts lie, on a file that is not a database and on one that is missing; `chatvault
** backup`: a copy that checks clean and holds what the file held, made while the store
** serves the file, never over an existing file, nothing left under its name when the copy
** cannot be made; db_remove_files removing SQLite's files beside a database. */
#include "tinytest.h"
#include "db.h"
#include "store.h"
#include "store_fixture.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct store_fixture fx;   /* served the whole time: check and backup run beside it */

/* Users in the file at z, read with SQLite alone; -1 when it cannot be read. */
static int users_in(const char *z){
  sqlite3 *h = NULL;
  sqlite3_stmt *pSt = NULL;
  int n = -1;
  if( sqlite3_open_v2(z, &h, SQLITE_OPEN_READONLY, NULL)==SQLITE_OK
   && sqlite3_prepare_v2(h, "SELECT count(*) FROM users", -1, &pSt, NULL)==SQLITE_OK
   && sqlite3_step(pSt)==SQLITE_ROW ) n = sqlite3_column_int(pSt, 0);
  sqlite3_finalize(pSt);
  sqlite3_close(h);
  return n;
}

static int exists(const char *z){
  struct stat st;
  return stat(z, &st)==0;
}

static void setup(void){
  char zEmail[32];
  int i;
  store_fixture_open(&fx, "/tmp/cvdbfile.XXXXXX", 1);
  for(i=0; i<20; i++){
    snprintf(zEmail, sizeof zEmail, "u%d@x", i);
    TT_CHECK( store_fixture_user(&fx, zEmail, NULL)>0 );
  }
}

static void check_clean_and_not(void){
  char *zReport = NULL, zNot[160];
  sqlite3 *h;
  FILE *f;
  TT_CHECK( db_check(fx.zPath, &zReport)==CV_OK );
  TT_CHECK( zReport && strstr(zReport, "integrity: ok") && strstr(zReport, "foreign keys: ok")
            && strstr(zReport, "thread counts: ok") && strstr(zReport, "schema version:") );
  free(zReport);
  /* a count the triggers keep, changed behind their back: reported; mended: clean again */
  TT_CHECK( sqlite3_open(fx.zPath, &h)==SQLITE_OK );
  sqlite3_busy_timeout(h, 5000);            /* the store's writer may be merging */
  TT_CHECK( sqlite3_exec(h, "UPDATE users SET thread_count = 5 WHERE email = 'u3@x'",
                         NULL, NULL, NULL)==SQLITE_OK );
  sqlite3_close(h);
  zReport = NULL;
  TT_CHECK( db_check(fx.zPath, &zReport)==CV_INVALID );
  TT_CHECK( zReport && strstr(zReport, "thread counts: 1 users wrong") );
  free(zReport);
  TT_CHECK( sqlite3_open(fx.zPath, &h)==SQLITE_OK );
  sqlite3_busy_timeout(h, 5000);
  TT_CHECK( sqlite3_exec(h, "UPDATE users SET thread_count = 0", NULL, NULL, NULL)==SQLITE_OK );
  sqlite3_close(h);
  zReport = NULL;
  TT_CHECK( db_check(fx.zPath, &zReport)==CV_OK );
  free(zReport);
  /* not a database; no file at all */
  snprintf(zNot, sizeof zNot, "%s/not.db", fx.zDir);
  f = fopen(zNot, "w");
  TT_CHECK( f!=NULL );
  if( !f ) return;
  fputs("this is not an SQLite database, not even its header: ", f);
  for(int i=0; i<200; i++) fputs("garbage ", f);
  fclose(f);
  zReport = NULL;
  TT_CHECK( db_check(zNot, &zReport)!=CV_OK );
  TT_CHECK( zReport!=NULL );
  free(zReport);
  zReport = NULL;
  TT_CHECK( db_check("/nonexistent/dir/x.db", &zReport)!=CV_OK );
  free(zReport);
}

static void backup_copies_and_never_overwrites(void){
  char zOut[160], zBad[160], *zErr = NULL, *zReport = NULL;
  TT_CHECK( store_fixture_user(&fx, "during@x", NULL)>0 );
  snprintf(zOut, sizeof zOut, "%s/backup.db", fx.zDir);
  TT_CHECK( db_backup(fx.zPath, zOut, &zErr)==CV_OK );
  free(zErr); zErr = NULL;
  TT_CHECK( store_fixture_user(&fx, "after@x", NULL)>0 );   /* not in the copy */
  TT_CHECK( users_in(zOut)==21 );
  TT_CHECK( db_check(zOut, &zReport)==CV_OK );
  free(zReport);
  /* zOut exists: refused, and the copy there is as it was */
  TT_CHECK( db_backup(fx.zPath, zOut, &zErr)==CV_CONFLICT );
  TT_CHECK( zErr && strstr(zErr, "already exists") );
  free(zErr); zErr = NULL;
  TT_CHECK( users_in(zOut)==21 );
  /* a directory that is not there: a clear error, nothing under the name */
  snprintf(zBad, sizeof zBad, "%s/missing/backup.db", fx.zDir);
  TT_CHECK( db_backup(fx.zPath, zBad, &zErr)==CV_IO );
  TT_CHECK( zErr && strstr(zErr, "backup") );
  free(zErr); zErr = NULL;
  TT_CHECK( !exists(zBad) );
  /* a source that cannot be opened: no copy either */
  snprintf(zBad, sizeof zBad, "%s/other.db", fx.zDir);
  TT_CHECK( db_backup("/nonexistent/dir/x.db", zBad, &zErr)!=CV_OK );
  free(zErr);
  TT_CHECK( !exists(zBad) );
}

static void remove_files_takes_the_wal_too(void){
  char z[200];
  static const char *const az[] = { "", "-wal", "-shm", "-journal" };
  FILE *f;
  unsigned i;
  for(i=0; i<4; i++){
    snprintf(z, sizeof z, "%s/gone.db%s", fx.zDir, az[i]);
    f = fopen(z, "w");
    TT_CHECK( f!=NULL );
    if( f ) fclose(f);
  }
  snprintf(z, sizeof z, "%s/gone.db", fx.zDir);
  db_remove_files(z);
  for(i=0; i<4; i++){
    snprintf(z, sizeof z, "%s/gone.db%s", fx.zDir, az[i]);
    TT_CHECK( !exists(z) );
  }
  snprintf(z, sizeof z, "%s/gone.db", fx.zDir);
  db_remove_files(z);                       /* missing files are no error */
}

static void teardown(void){
  store_fixture_close(&fx);
}

int main(void){
  TT_RUN(setup);
  TT_RUN(check_clean_and_not);
  TT_RUN(backup_copies_and_never_overwrites);
  TT_RUN(remove_files_takes_the_wal_too);
  TT_RUN(teardown);
  return TT_DONE();
}
