/*
** bench/append_batch.c — what the search index costs an append, by the size of the writer's
** batches (issue 11's "append with the index at least 70 % of without"). T threads append
** to one hot thread through the real store (store_threads_append, linked with chatvault's
** own objects; group commit as served, no HTTP), on a copy of one database of 1,000 threads
** of 20 messages (filled once per run of the bench), with the search index (index=on, as
** served) and with its search triggers dropped after it was opened (index=off: nothing is
** queued, so nothing is indexed). More
** threads queue more appends per transaction, so the per-transaction part of the cost
** (FTS5 writes a new index segment, its structure record and merges at every COMMIT) is
** shared by more appends. Prints per run: appends/s, the process's CPU per append and the
** writer thread's (the one thread every write passes through). Alternates on/off, ROUNDS (2)
** rounds in one run. `make bench-append-batch` builds and runs it. Never part of the tests.
**
**   build/bench/append_batch DIR [APPENDS [THREADS...]]      (defaults: 32000; 8 64 200)
*/
#include "db.h"
#include "store.h"
#include "store_threads.h"
#include "store_users.h"
#include "util.h"
#include "drop_triggers.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ROUNDS 2
#define COLD_THREADS 1000
#define COLD_MESSAGES 20
#define MAX_THREADS 256

/* The words of bench/lua/append_random.lua: ~250 bytes a message, each one different. */
static const char *azWord[] = { "the", "of", "and", "to", "a", "in", "is", "it", "you", "that",
  "was", "for", "search", "index", "message", "thread", "append", "write", "ahead", "log",
  "keeps", "every", "acknowledged", "change", "safe", "across", "crash", "while", "reader",
  "sees", "snapshot", "plourn", "vesh", "tramolit", "kesperand", "driaflon", "moch",
  "gelistre", "pruvan", "zodeck" };
#define N_WORD ((int)(sizeof azWord / sizeof azWord[0]))

struct run {
  struct cv_store *pS;
  int64_t userId, threadId;
  int nEach;                     /* appends per appending thread */
};
struct worker { struct run *r; int iThread; int bFailed; };

static void message(char *z, size_t nz, int iThread, int i, unsigned *pSeed){
  int k, n = snprintf(z, nz, "{\"role\":\"user\",\"content\":\"r%d-%d", iThread, i);
  for(k=0; k<45; k++) n += snprintf(z+n, nz-(size_t)n, " %s", azWord[rand_r(pSeed) % N_WORD]);
  snprintf(z+n, nz-(size_t)n, "\"}");
}

static void *worker_main(void *pArg){
  struct worker *w = pArg;
  unsigned seed = (unsigned)w->iThread * 7919u + 1u;
  int i;
  for(i=0; i<w->r->nEach; i++){
    char z[1024];
    struct cv_append a;
    cv_rc rc;
    message(z, sizeof z, w->iThread, i, &seed);
    rc = store_threads_append(w->r->pS, w->r->userId, w->r->threadId, z, &a);
    if( rc ){
      fprintf(stderr, "append_batch: append failed: %s\n", cv_rc_str(rc));
      w->bFailed = 1;
      return NULL;
    }
    store_append_clear(&a);
  }
  return NULL;
}

/* CPU seconds of the whole process. */
static double process_cpu(void){
  struct rusage ru;
  if( getrusage(RUSAGE_SELF, &ru) ) return 0;
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec/1e6
       + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec/1e6;
}

/* CPU clock ticks (user + system) of thread tid of this process; -1 when unreadable. */
static long thread_ticks(long tid){
  char zPath[64], zBuf[1024], *p, *zTok, *zSave = NULL;
  long ut = 0, st = 0;
  size_t n;
  int k = 0;
  FILE *f;
  snprintf(zPath, sizeof zPath, "/proc/self/task/%ld/stat", tid);
  f = fopen(zPath, "r");
  if( !f ) return -1;
  n = fread(zBuf, 1, sizeof zBuf - 1, f);
  fclose(f);
  zBuf[n] = 0;
  p = strrchr(zBuf, ')');              /* the name may hold spaces; the fields follow ") " */
  if( !p || p[1]==0 ) return -1;
  for(zTok=strtok_r(p+2, " ", &zSave); zTok; zTok=strtok_r(NULL, " ", &zSave)){
    k++;                               /* field 3 (state) is k==1: utime k==12, stime k==13 */
    if( k==12 ) ut = atol(zTok);
    if( k==13 ){ st = atol(zTok); break; }
  }
  return k==13 ? ut + st : -1;
}

/* The store's writer thread: the one thread of this process besides the calling one (db_open
** starts exactly one; readers are connections, not threads). -1 when there is not exactly one. */
static long writer_tid(void){
  DIR *d = opendir("/proc/self/task");
  struct dirent *de;
  long tidFound = -1, self = (long)syscall(SYS_gettid);
  int nOther = 0;
  if( !d ) return -1;
  while( (de = readdir(d))!=NULL ){
    long tid = atol(de->d_name);
    if( tid<=0 || tid==self ) continue;
    tidFound = tid;
    nOther++;
  }
  closedir(d);
  return nOther==1 ? tidFound : -1;
}

/* A thread of COLD_MESSAGES messages; its id (0 on failure). */
static int64_t make_thread(struct cv_store *pS, int64_t userId, int iThread){
  char z[COLD_MESSAGES * 400 + 2];
  unsigned seed = (unsigned)iThread + 17u;
  struct cv_thread t;
  int64_t id;
  int i, n = 0;
  z[n++] = '[';
  for(i=0; i<COLD_MESSAGES; i++){
    if( i ) z[n++] = ',';
    message(z+n, sizeof z - (size_t)n - 2, -1 - iThread, i, &seed);
    n += (int)strlen(z+n);
  }
  z[n++] = ']';
  z[n] = 0;
  if( store_threads_create(pS, userId, "bench", z, COLD_MESSAGES, &t) ) return 0;
  id = t.id;
  store_thread_clear(&t);
  return id;
}

/* Copy file zFrom to zTo (created or truncated). 0 on success. */
static int copy_file(const char *zFrom, const char *zTo){
  char a[65536];
  ssize_t n = 0;
  int fdIn = open(zFrom, O_RDONLY), fdOut = open(zTo, O_WRONLY|O_CREAT|O_TRUNC, 0600);
  while( fdIn>=0 && fdOut>=0 && (n = read(fdIn, a, sizeof a))>0 ){
    if( write(fdOut, a, (size_t)n)!=n ){ n = -1; break; }
  }
  if( fdIn>=0 ) close(fdIn);
  if( fdOut>=0 && close(fdOut)!=0 ) n = -1;
  return fdIn<0 || fdOut<0 || n<0;
}

/* The database every run starts from, filled once through the store at zTemplate (closed
** cleanly: one file, no WAL); r gets the user's and the hot thread's ids. 0 on success. */
static int make_template(const char *zTemplate, struct run *r){
  struct cv_store_opts o;
  struct cv_store *pS;
  struct cv_user u;
  char *zErr = NULL;
  int i;
  db_remove_files(zTemplate);
  memset(&o, 0, sizeof o);
  o.zPath = zTemplate; o.bSyncFull = 1; o.nReaders = 2; o.busyMs = 5000;
  if( db_open(&o, &pS, &zErr) ){ fprintf(stderr, "open: %s\n", zErr ? zErr : "?"); return 1; }
  if( store_users_create(pS, "bench@append-batch.test", NULL, NULL, &u) ) return 1;
  r->userId = u.id;
  store_user_clear(&u);
  for(i=0; i<COLD_THREADS; i++){
    int64_t id = make_thread(pS, r->userId, i);
    if( !id ){ fprintf(stderr, "append_batch: create failed\n"); return 1; }
    if( i==0 ) r->threadId = id;       /* the hot thread: one of them */
  }
  store_close(pS);
  return 0;
}

/* One run on a copy of zTemplate at zPath: nThread threads append nAppend/nThread each. */
static int run(const char *zTemplate, const char *zPath, const struct run *pTemplate,
               int nAppend, int nThread, int bIndex){
  struct cv_store_opts o;
  struct run r = *pTemplate;
  struct worker aW[MAX_THREADS];
  pthread_t aTh[MAX_THREADS];
  char *zErr = NULL;
  double cpu0, cpu1;
  int64_t t0, t1;
  long wTid, ticks0, ticks1;
  int i, bFailed = 0;
  db_remove_files(zPath);
  if( copy_file(zTemplate, zPath) ){ perror("append_batch: copy"); return 1; }
  memset(&o, 0, sizeof o);
  o.zPath = zPath; o.bSyncFull = 1; o.nReaders = 2; o.busyMs = 5000;
  if( db_open(&o, &r.pS, &zErr) ){ fprintf(stderr, "open: %s\n", zErr ? zErr : "?"); return 1; }
  if( !bIndex && bench_drop_triggers(zPath, "%search%")<=0 ){
    fprintf(stderr, "append_batch: no search trigger dropped\n");
    return 1;
  }
  r.nEach = nAppend / nThread;
  wTid = writer_tid();
  ticks0 = wTid>0 ? thread_ticks(wTid) : -1;
  cpu0 = process_cpu();
  t0 = util_mono_us();
  for(i=0; i<nThread; i++){
    aW[i].r = &r; aW[i].iThread = i; aW[i].bFailed = 0;
    if( pthread_create(&aTh[i], NULL, worker_main, &aW[i]) ){
      fprintf(stderr, "append_batch: pthread_create failed\n");
      exit(1);                         /* threads already started still use r */
    }
  }
  for(i=0; i<nThread; i++){
    pthread_join(aTh[i], NULL);
    bFailed |= aW[i].bFailed;
  }
  t1 = util_mono_us();
  cpu1 = process_cpu();
  ticks1 = wTid>0 ? thread_ticks(wTid) : -1;   /* before close: the writer still exists */
  store_close(r.pS);
  db_remove_files(zPath);
  if( bFailed ) return 1;
  {
    double n = (double)r.nEach * nThread;
    printf("append_batch index=%s threads=%d appends=%.0f appends_per_s=%.0f"
           " cpu_us_per_append=%.1f writer_cpu_us_per_append=%.1f\n",
           bIndex ? "on" : "off", nThread, n, n * 1e6 / (double)(t1 - t0),
           (cpu1 - cpu0) * 1e6 / n,
           ticks0<0 || ticks1<0 ? -1.0
             : (double)(ticks1 - ticks0) * 1e6 / (double)sysconf(_SC_CLK_TCK) / n);
    fflush(stdout);
  }
  return 0;
}

int main(int argc, char **argv){
  static int aDefault[] = { 8, 64, 200 };
  int nAppend = argc>2 ? atoi(argv[2]) : 32000;
  int nT = argc>3 ? argc-3 : 3, aT[64], i, r, rc = 0;
  char zTemplate[512], zPath[512];
  struct run tmpl;
  if( argc<2 || nAppend<=0 || nT>64 ){
    fprintf(stderr, "usage: append_batch DIR [APPENDS [THREADS...]]\n");
    return 2;
  }
  for(i=0; i<nT; i++){
    aT[i] = argc>3 ? atoi(argv[3+i]) : aDefault[i];
    if( aT[i]<1 || aT[i]>MAX_THREADS ){ fprintf(stderr, "append_batch: 1 to %d threads\n", MAX_THREADS); return 2; }
  }
  snprintf(zTemplate, sizeof zTemplate, "%s/append_batch.template.db", argv[1]);
  snprintf(zPath, sizeof zPath, "%s/append_batch.db", argv[1]);
  memset(&tmpl, 0, sizeof tmpl);
  if( make_template(zTemplate, &tmpl) ) return 1;
  for(r=0; r<ROUNDS && rc==0; r++){
    for(i=0; i<nT && rc==0; i++){
      rc = run(zTemplate, zPath, &tmpl, nAppend, aT[i], 1)
        || run(zTemplate, zPath, &tmpl, nAppend, aT[i], 0);
    }
  }
  db_remove_files(zTemplate);
  return rc;
}
