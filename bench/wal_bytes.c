/*
** bench/wal_bytes.c — bytes SQLite writes to the WAL per append, with secure_delete OFF, FAST
** and ON (Debian's compile-time default), linked with the SQLite compiled into chatvault
** (build/rel/sqlite3.o, the Makefile's SQ_DEFS). `make bench-wal` builds and runs it; the
** figures are quoted in vendor/README.md. Never part of the tests.
**
** Each case: a fresh file (4 KiB pages, WAL, synchronous=NORMAL: fsync changes time, not
** bytes), a table shaped like chat_threads, one row holding M messages of ~230 bytes
** (the size chatvault's threads have), the WAL truncated, then N appends each in its own
** transaction, done the way store_threads.c does them (json_insert(messages,'$[#]',json(?))),
** with automatic checkpoints off so the WAL's size counts every frame written. Then one
** DELETE of the row, the same way.
*/
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void die(sqlite3 *h, const char *zWhat){
  fprintf(stderr, "wal_bytes: %s: %s\n", zWhat, h ? sqlite3_errmsg(h) : "");
  exit(1);
}

static void exec(sqlite3 *h, const char *zSql){
  char *zErr = NULL;
  if( sqlite3_exec(h, zSql, NULL, NULL, &zErr)!=SQLITE_OK ){
    fprintf(stderr, "wal_bytes: %s: %s\n", zSql, zErr ? zErr : "");
    exit(1);
  }
}

static long long file_size(const char *zPath){
  struct stat st;
  return stat(zPath, &st)==0 ? (long long)st.st_size : 0;
}

static double now_us(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec*1e6 + (double)ts.tv_nsec/1e3;
}

/* One message as the web app stores it: ~230 bytes of JSON. */
static void message(char *z, size_t n, int i){
  snprintf(z, n, "{\"role\":\"%s\",\"content\":\"message %06d: the quick brown fox jumps over"
           " the lazy dog while the assistant explains write-ahead logging, page sizes and"
           " overflow chains in some detail, once more for good measure.\"}",
           (i%2) ? "assistant" : "user", i);
}

struct result {
  double walPerAppend;      /* bytes written to the WAL per append */
  double framesPerAppend;   /* pages written per append */
  double usPerAppend;       /* wall time per append */
  long long walDelete;      /* bytes written to the WAL by deleting the row */
};

static struct result run_case(const char *zDir, int eSecure, int nMessages, int nAppend){
  struct result r;
  char zDb[512], zWal[600], zMsg[512];
  sqlite3 *h = NULL;
  sqlite3_stmt *pSt = NULL;
  long long w0, w1, w2;
  double t0;
  int i;
  snprintf(zDb, sizeof zDb, "%s/wal-%d-%d.db", zDir, eSecure, nMessages);
  snprintf(zWal, sizeof zWal, "%s-wal", zDb);
  unlink(zDb); unlink(zWal);
  if( sqlite3_open(zDb, &h)!=SQLITE_OK ) die(h, "open");
  exec(h, "PRAGMA page_size=4096; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
          "PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=-4096;");
  {
    char zPragma[64];
    snprintf(zPragma, sizeof zPragma, "PRAGMA secure_delete=%s;",
             eSecure==0 ? "OFF" : eSecure==1 ? "ON" : "FAST");
    exec(h, zPragma);
  }
  exec(h, "CREATE TABLE chat_threads(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL,"
          " title TEXT NOT NULL, messages TEXT NOT NULL DEFAULT '[]'"
          " CHECK (json_valid(messages) AND json_type(messages)='array'),"
          " message_count INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL,"
          " updated_at TEXT NOT NULL);"
          "INSERT INTO chat_threads(id,user_id,title,created_at,updated_at)"
          " VALUES(1,1,'t','2026-11-30T00:00:00.000Z','2026-11-30T00:00:00.000Z');"
          "INSERT INTO chat_threads(id,user_id,title,created_at,updated_at)"
          " VALUES(2,1,'neighbour','2026-11-30T00:00:00.000Z','2026-11-30T00:00:00.000Z');");
  if( sqlite3_prepare_v2(h, "UPDATE chat_threads SET messages=json_insert(messages,'$[#]',"
                         "json(?1)), message_count=message_count+1,"
                         " updated_at='2026-11-30T00:00:01.000Z' WHERE id=1", -1, &pSt, NULL) )
    die(h, "prepare");
  exec(h, "BEGIN");
  for(i=0; i<nMessages; i++){
    message(zMsg, sizeof zMsg, i);
    sqlite3_bind_text(pSt, 1, zMsg, -1, SQLITE_TRANSIENT);
    if( sqlite3_step(pSt)!=SQLITE_DONE ) die(h, "fill");
    sqlite3_reset(pSt);
  }
  exec(h, "COMMIT");
  if( sqlite3_wal_checkpoint_v2(h, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) ) die(h, "checkpoint");
  w0 = file_size(zWal);
  t0 = now_us();
  for(i=0; i<nAppend; i++){
    message(zMsg, sizeof zMsg, nMessages+i);
    sqlite3_bind_text(pSt, 1, zMsg, -1, SQLITE_TRANSIENT);
    if( sqlite3_step(pSt)!=SQLITE_DONE ) die(h, "append");
    sqlite3_reset(pSt);
  }
  r.usPerAppend = (now_us() - t0) / nAppend;
  w1 = file_size(zWal);
  r.walPerAppend = (double)(w1 - w0) / nAppend;
  r.framesPerAppend = r.walPerAppend / (4096 + 24);
  exec(h, "DELETE FROM chat_threads WHERE id=1");
  w2 = file_size(zWal);
  r.walDelete = w2 - w1;
  sqlite3_finalize(pSt);
  sqlite3_close(h);
  unlink(zDb); unlink(zWal);
  { char zShm[600]; snprintf(zShm, sizeof zShm, "%s-shm", zDb); unlink(zShm); }
  return r;
}

int main(int argc, char **argv){
  static const int aSize[] = { 20, 2000 };
  static const int aMode[] = { 0, 2, 1 };
  static const char *azMode[] = { "OFF", "ON (Debian's default)", "FAST (db.c's writer)" };
  const char *zDir = argc>2 ? argv[2] : "/tmp";
  int nAppend = argc>1 ? atoi(argv[1]) : 200;
  size_t i, j;
  if( nAppend<1 ) nAppend = 200;
  printf("SQLite %s, %d appends per case, WAL bytes counted from the -wal file's size\n\n",
         sqlite3_libversion(), nAppend);
  printf("| secure_delete | messages in the row | WAL bytes / append | pages / append"
         " | µs / append | WAL bytes to delete the row |\n|---|---:|---:|---:|---:|---:|\n");
  for(i=0; i<sizeof aSize/sizeof aSize[0]; i++){
    for(j=0; j<sizeof aMode/sizeof aMode[0]; j++){
      struct result r = run_case(zDir, aMode[j], aSize[i], nAppend);
      printf("| %s | %d | %.0f | %.1f | %.0f | %lld |\n", azMode[aMode[j]], aSize[i],
             r.walPerAppend, r.framesPerAppend, r.usPerAppend, r.walDelete);
      fflush(stdout);
    }
  }
  return 0;
}
