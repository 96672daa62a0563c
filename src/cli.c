/*
** cli.c — see cli.h. Subcommands that write go through the same stores and the same
** writer thread as the server, so they are safe to run while it serves.
*/
#include "cli.h"
#include "importer.h"
#include "app.h"
#include "auth.h"
#include "cluster.h"
#include "cluster_data.h"
#include "config.h"
#include "db.h"
#include "demo.h"
#include "export.h"
#include "options.h"
#include "import.h"
#include "server.h"
#include "store.h"
#include "store_tokens.h"
#include "store_users.h"
#include "util.h"
#include "version.h"

#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A usage error: the message, where the help is, exit 2. zUsageCmd: the subcommand (NULL: none
** known yet). */
static const char *zUsageCmd = NULL;
static int usage(const char *zMsg){
  if( zMsg ) fprintf(stderr, "chatvault: %s\n", zMsg);
  if( zUsageCmd ) fprintf(stderr, "`chatvault %s --help` lists its arguments and flags\n", zUsageCmd);
  else fputs("`chatvault --help` lists the subcommands and flags\n", stderr);
  return 2;
}

/* Open the configured database for a subcommand; prints the error. */
static struct cv_store *open_store(const struct cv_config *c){
  struct cv_store_opts o;
  struct cv_store *pS = NULL;
  char *zErr = NULL;
  cv_rc rc;
  memset(&o, 0, sizeof o);
  o.zPath = c->zDb;
  o.zCluster = c->zClusterAddr;   /* --cluster-addr: the cluster's database, not --db */
  o.bSyncFull = c->bSyncFull;
  o.nReaders = c->nReaders;
  o.busyMs = 5000;
  o.historyLimit = 0;   /* only serve sets the retention limit; subcommands keep the file's */
  rc = db_open(&o, &pS, &zErr);
  if( rc ){
    fprintf(stderr, "chatvault: %s\n", zErr ? zErr : cv_rc_str(rc));
    free(zErr);
    return NULL;
  }
  return pS;
}

/* Block SIGINT/SIGTERM (and return them in *pSet when not NULL) before any thread starts (the
** database writer, dqlite's), so every thread inherits the mask and the one sigwait is their
** only taker: a signal that arrived before it waited was otherwise delivered to another
** thread, whose default action killed the process with no clean shutdown. */
static void block_stop_signals(sigset_t *pSet){
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  if( pSet ) *pSet = set;
}

static int cmd_serve(const struct cv_config *c){
  struct cv_app app;
  struct cv_store_opts o;
  char *zErr = NULL, *zMembers = NULL;
  cv_rc rc;
  memset(&app, 0, sizeof app);
  memset(&o, 0, sizeof o);
  if( c->zClusterDir && !c->zClusterAddr ) return usage("serve --cluster-dir needs --cluster-addr");
  if( c->zClusterAddr && !c->zClusterDir ) return usage("serve --cluster-addr needs --cluster-dir");
  block_stop_signals(NULL);
  if( c->zClusterDir ){
    /* a node of the cluster: its database is the cluster's, reached through this node first */
    char zCErr[400];
    size_t n = strlen(c->zClusterAddr) + (c->zJoin ? strlen(c->zJoin) : 0) + 2;
    signal(SIGPIPE, SIG_IGN);               /* libuv does not ignore it */
    db_node_init();
    if( cluster_start(c->zClusterDir, c->zClusterAddr, c->zJoin, &app.pCluster, zCErr,
                      sizeof zCErr) ){
      fprintf(stderr, "chatvault: %s\n", zCErr);
      return 1;
    }
    zMembers = malloc(n);
    if( !zMembers ){ cluster_stop(app.pCluster); return 1; }
    snprintf(zMembers, n, "%s%s%s", c->zClusterAddr, c->zJoin ? "," : "", c->zJoin ? c->zJoin : "");
    o.zCluster = zMembers;
  }
  app.pCfg = c;
  o.zPath = c->zDb;
  o.bSyncFull = c->bSyncFull;
  o.nReaders = c->nReaders;
  o.busyMs = 5000;
  o.historyLimit = c->historyLimit;
  o.zHistoryOverflow = c->zHistoryOverflow;
  o.zRefreshCopies = c->bRefreshCopies ? "1" : "0";
  o.maxConvMessages = c->maxConvMessages;
  o.maxConvBytes = c->maxConvBytes;
  o.maxUserBytes = c->maxUserBytes;
  rc = db_open(&o, &app.pStore, &zErr);
  free(zMembers);
  if( rc ){
    fprintf(stderr, "chatvault: %s\n", zErr ? zErr : cv_rc_str(rc));
    free(zErr);
    cluster_stop(app.pCluster);
    return 1;
  }
  if( c->bDemo && (rc = demo_seed(app.pStore))!=CV_OK ){
    fprintf(stderr, "chatvault: demo data: %s\n", cv_rc_str(rc));
    store_close(app.pStore);
    cluster_stop(app.pCluster);
    return 1;
  }
  if( app.pCluster ){
    fprintf(stderr, "chatvault %s: cluster node %llu at %s (%s), %d threads\n", CV_VERSION,
            (unsigned long long)cluster_id(app.pCluster), c->zClusterAddr, c->zClusterDir,
            c->nThreads);
  }else{
    fprintf(stderr, "chatvault %s: database %s (synchronous=%s), %d threads\n", CV_VERSION,
            c->zDb, c->bSyncFull ? "FULL" : "NORMAL", c->nThreads);
  }
  rc = server_run(&app);
  store_close(app.pStore);
  cluster_stop(app.pCluster);
  return rc ? 1 : 0;
}

/* Read one line (the password) from stdin into z (size n), without the newline. */
static int read_password(char *z, size_t n){
  size_t len;
  if( !fgets(z, (int)n, stdin) ) return 0;
  len = strlen(z);
  if( len && z[len-1]=='\n' ) z[--len] = 0;
  else if( len==n-1 ) return 0;     /* longer than the buffer */
  if( len && z[len-1]=='\r' ) z[--len] = 0;
  return 1;
}

static int cmd_user(const struct cv_config *c, const char *zVerb, const char *zEmail){
  char zPw[CV_PASSWORD_MAX_CHARS*4+8], zHash[CV_PWHASH_MAX];
  struct cv_store *pS;
  struct cv_user u;
  size_t nChars;
  cv_rc rc;
  int bAdd = strcmp(zVerb, "add")==0;
  if( !bAdd && strcmp(zVerb, "passwd")!=0 ) return usage("user: add or passwd");
  if( !strchr(zEmail, '@') || util_utf8_chars(zEmail)>CV_EMAIL_MAX_CHARS ){
    fprintf(stderr, "chatvault: not a valid email: %s\n", zEmail);
    return 1;
  }
  if( !read_password(zPw, sizeof zPw) ){
    fprintf(stderr, "chatvault: give the password on standard input (one line)\n");
    return 1;
  }
  nChars = util_utf8_valid(zPw, strlen(zPw)) ? util_utf8_chars(zPw) : 0;
  if( nChars<CV_PASSWORD_MIN_CHARS || nChars>CV_PASSWORD_MAX_CHARS ){
    fprintf(stderr, "chatvault: the password must be %d to %d characters of UTF-8\n",
            CV_PASSWORD_MIN_CHARS, CV_PASSWORD_MAX_CHARS);
    sodium_memzero(zPw, sizeof zPw);
    return 1;
  }
  rc = auth_hash_password(zPw, zHash);
  sodium_memzero(zPw, sizeof zPw);
  if( rc ){ fprintf(stderr, "chatvault: %s\n", cv_rc_str(rc)); return 1; }
  pS = open_store(c);
  if( !pS ) return 1;
  if( bAdd ){
    rc = store_users_create(pS, zEmail, zHash, NULL, &u);
    if( rc==CV_OK ) printf("created user %lld (%s)\n", (long long)u.id, u.zEmail);
    store_user_clear(&u);
  }else{
    int nRevoked = 0;
    rc = store_users_set_password(pS, zEmail, zHash, &nRevoked);
    if( rc==CV_OK ) printf("password changed for %s; %d token%s revoked\n", zEmail, nRevoked,
                           nRevoked==1 ? "" : "s");
  }
  store_close(pS);
  if( rc==CV_CONFLICT ){ fprintf(stderr, "chatvault: %s is already registered\n", zEmail); return 1; }
  if( rc==CV_NOTFOUND ){ fprintf(stderr, "chatvault: no user %s\n", zEmail); return 1; }
  if( rc ){ fprintf(stderr, "chatvault: %s\n", cv_rc_str(rc)); return 1; }
  return 0;
}

static int cmd_token(const struct cv_config *c, const char *zEmail){
  struct cv_store *pS = open_store(c);
  struct cv_user u;
  char zToken[CV_TOKEN_CHARS+1];
  cv_rc rc;
  if( !pS ) return 1;
  rc = store_users_by_email(pS, zEmail, &u);
  if( rc==CV_OK ) rc = auth_issue_token(pS, u.id, c->tokenTtlMs, zToken);
  store_user_clear(&u);
  store_close(pS);
  if( rc==CV_NOTFOUND ){ fprintf(stderr, "chatvault: no user %s\n", zEmail); return 1; }
  if( rc ){ fprintf(stderr, "chatvault: %s\n", cv_rc_str(rc)); return 1; }
  printf("%s\n", zToken);
  return 0;
}

/* `token revoke EMAIL`: end every session of the user. */
static int cmd_token_revoke(const struct cv_config *c, const char *zEmail){
  struct cv_store *pS = open_store(c);
  struct cv_user u;
  int nRevoked = 0;
  cv_rc rc;
  if( !pS ) return 1;
  rc = store_users_by_email(pS, zEmail, &u);
  if( rc==CV_OK ) rc = store_tokens_revoke_user(pS, u.id, &nRevoked);
  store_user_clear(&u);
  store_close(pS);
  if( rc==CV_NOTFOUND ){ fprintf(stderr, "chatvault: no user %s\n", zEmail); return 1; }
  if( rc ){ fprintf(stderr, "chatvault: %s\n", cv_rc_str(rc)); return 1; }
  printf("revoked %d token%s of %s\n", nRevoked, nRevoked==1 ? "" : "s", zEmail);
  return 0;
}

static int cmd_import_legacy(const struct cv_config *c, const char *zFile){
  struct cv_import_stats st;
  struct cv_store *pS;
  cv_rc rc;
  if( strcmp(zFile, "-")!=0 && access(zFile, R_OK)!=0 ){
    fprintf(stderr, "chatvault: import-legacy: cannot read %s\n", zFile);
    return 1;
  }
  pS = open_store(c);
  if( !pS ) return 1;
  rc = import_legacy(pS, zFile, stderr, &st);
  store_close(pS);
  printf("import-legacy: %lld rows, %lld users (%lld created), %lld chats imported, "
         "%lld skipped, %lld dropped by retention, %lld errors\n",
         st.nRows, st.nRows, st.nUsersCreated, st.nChats, st.nSkipped, st.nRetained,
         st.nErrors);
  if( st.nUsersCreated ){
    printf("imported users have no password yet: set one with `chatvault user passwd EMAIL`\n");
  }
  if( rc ){
    fprintf(stderr, "chatvault: import-legacy stopped: %s\n", cv_rc_str(rc));
    return 1;
  }
  return st.nErrors ? 1 : 0;
}

/* Progress of `import`: a bar redrawn in place on a terminal, a plain line otherwise (at
** most one per second either way, and always the last). */
struct import_progress {
  int bTty;
  int64_t nSize;                 /* the file's size, 0 when unknown (standard input) */
  int64_t tLast;                 /* util_mono_us() of the last line */
};

static void import_progress(void *pCtx, int64_t nBytes, const struct cv_import_report *r){
  struct import_progress *p = pCtx;
  int64_t now = util_mono_us();
  if( p->tLast && now - p->tLast < 1000000 && (!p->nSize || nBytes<p->nSize) ) return;
  p->tLast = now;
  if( p->bTty && p->nSize>0 ){
    char zBar[31];
    int i, nFill = (int)(30 * (nBytes > p->nSize ? p->nSize : nBytes) / p->nSize);
    for(i=0; i<30; i++) zBar[i] = i<nFill ? '#' : '.';
    zBar[30] = 0;
    fprintf(stderr, "\r[%s] %3d%%  %lld imported, %lld skipped, %lld errors", zBar,
            (int)(100 * (nBytes > p->nSize ? p->nSize : nBytes) / p->nSize),
            (long long)r->nImported, (long long)r->nSkipped, (long long)r->nErrors);
  }else{
    fprintf(stderr, "import: %lld bytes read, %lld imported, %lld skipped, %lld errors\n",
            (long long)nBytes, (long long)r->nImported, (long long)r->nSkipped,
            (long long)r->nErrors);
  }
  fflush(stderr);
}

/* `import EMAIL FILE [--format F]`: FILE ("-": standard input) into the user's history
** through the importer the server uses (importer.h), with progress on stderr and a summary
** line on stdout, then each error as "error: SOURCE: DETAIL". Exit 0 when everything was
** imported (or was there already), 1 when something was skipped with an error or the file
** could not be imported (what was written before stays), 2 on usage. */
static int cmd_import(const struct cv_config *c, const char *zEmail, const char *zFile){
  struct import_progress prog;
  struct cv_importer *pImp = NULL;
  struct cv_store *pS;
  struct cv_user u;
  enum imp_format eFormat = IMP_UNKNOWN;
  FILE *pIn;
  char *aChunk;
  int bStdin = strcmp(zFile, "-")==0;
  int i, rcExit = 0;
  cv_rc rc;
  const struct cv_import_report *r;
  if( c->zFormat && (eFormat = imp_format_by_name(c->zFormat))==IMP_UNKNOWN ){
    return usage("--format: chatvault, chatgpt, claude, openwebui, librechat, chatbot-ui"
                 " or sillytavern");
  }
  memset(&prog, 0, sizeof prog);
  memset(&u, 0, sizeof u);
  pIn = bStdin ? stdin : fopen(zFile, "rb");
  if( !pIn ){
    fprintf(stderr, "chatvault: import: cannot read %s\n", zFile);
    return 1;
  }
  if( !bStdin && fseek(pIn, 0, SEEK_END)==0 ){
    long n = ftell(pIn);
    prog.nSize = n>0 ? n : 0;
    if( fseek(pIn, 0, SEEK_SET)!=0 ){ fclose(pIn); return 1; }
  }
  prog.bTty = isatty(2);
  pS = open_store(c);
  if( !pS ){ if( !bStdin ) fclose(pIn); return 1; }
  rc = store_users_by_email(pS, zEmail, &u);
  if( rc==CV_NOTFOUND ){
    fprintf(stderr, "chatvault: no user %s\n", zEmail);
    store_close(pS);
    if( !bStdin ) fclose(pIn);
    return 1;
  }
  aChunk = rc==CV_OK ? malloc(65536) : NULL;
  if( rc==CV_OK && !aChunk ) rc = CV_NOMEM;
  if( rc==CV_OK ){
    rc = importer_new(pS, u.id, eFormat, (size_t)32*1024*1024, import_progress, &prog, &pImp);
  }
  while( rc==CV_OK ){
    size_t got = fread(aChunk, 1, 65536, pIn);
    if( got>0 ) rc = importer_feed(pImp, aChunk, got);
    if( got<65536 ){
      if( ferror(pIn) ) rc = CV_IO;
      break;
    }
  }
  if( rc==CV_OK ) rc = importer_finish(pImp);
  if( prog.bTty && prog.tLast ) fputc('\n', stderr);
  if( pImp ){
    r = importer_result(pImp);
    printf("import: %s, %lld imported, %lld skipped, %lld errors\n", r->zFormat,
           (long long)r->nImported, (long long)r->nSkipped, (long long)r->nErrors);
    for(i=0; i<r->nErr; i++){
      printf("error: %s: %s\n", r->aErr[i].zSourceId ? r->aErr[i].zSourceId : "-",
             r->aErr[i].zDetail);
    }
    if( r->nErrors ) rcExit = 1;
  }
  if( rc==CV_INVALID && pImp ){
    fprintf(stderr, "chatvault: import stopped: %s\n", importer_error(pImp));
    rcExit = 1;
  }else if( rc ){
    fprintf(stderr, "chatvault: import stopped: %s\n", cv_rc_str(rc));
    rcExit = 1;
  }
  importer_free(pImp);
  free(aChunk);
  store_user_clear(&u);
  store_close(pS);
  if( !bStdin ) fclose(pIn);
  return rcExit;
}

/* cv_sink writer to a FILE* (the export's output). */
static cv_rc file_write(void *pCtx, const char *z, size_t n){
  return fwrite(z, 1, n, (FILE*)pCtx)==n ? CV_OK : CV_IO;
}

/* `export EMAIL [FILE]`: the user's export document (the bytes GET /api/v1/export sends)
** into FILE, or standard output when FILE is absent or "-"; a summary line on stderr. A
** failed export leaves no FILE behind. Exit 0, or 1 (no such user, I/O or store error). */
static int cmd_export(const struct cv_config *c, const char *zEmail, const char *zFile){
  struct cv_export_counts n;
  struct cv_store *pS;
  struct cv_user u;
  struct cv_read rd;
  struct cv_sink k;
  int bStdout = !zFile || strcmp(zFile, "-")==0;
  FILE *pOut = NULL;
  cv_rc rc;
  memset(&n, 0, sizeof n);
  memset(&u, 0, sizeof u);
  pS = open_store(c);
  if( !pS ) return 1;
  rc = store_users_by_email(pS, zEmail, &u);
  if( rc==CV_NOTFOUND ){
    fprintf(stderr, "chatvault: no user %s\n", zEmail);
    store_close(pS);
    return 1;
  }
  if( rc==CV_OK ){
    pOut = bStdout ? stdout : fopen(zFile, "wb");
    if( !pOut ){
      fprintf(stderr, "chatvault: export: cannot write %s\n", zFile);
      store_user_clear(&u);
      store_close(pS);
      return 1;
    }
    rc = store_read_begin(pS, &rd);
  }
  if( rc==CV_OK ){
    k.xWrite = file_write;
    k.pCtx = pOut;
    rc = export_user_document(&rd, &u, util_now_ms(), &k, &n);
    store_read_end(&rd);
    if( rc==CV_OK && fflush(pOut)!=0 ) rc = CV_IO;
  }
  if( pOut && !bStdout ){
    if( fclose(pOut)!=0 && rc==CV_OK ) rc = CV_IO;
    if( rc ) remove(zFile);
  }
  store_user_clear(&u);
  store_close(pS);
  if( rc ){
    fprintf(stderr, "chatvault: export of %s failed: %s\n", zEmail, cv_rc_str(rc));
    return 1;
  }
  fprintf(stderr, "exported %lld threads (%lld messages), %lld chats (%lld messages), "
          "%lld personas, %lld characters of %s to %s\n", (long long)n.nThreads,
          (long long)n.nThreadMessages, (long long)n.nChats, (long long)n.nChatMessages,
          (long long)n.nPersonas, (long long)n.nCharacters, zEmail,
          bStdout ? "standard output" : zFile);
  return 0;
}

/* `chatvault check`: the --db file, or with --cluster-addr one member's own copy. */
static int cmd_check(const struct cv_config *c){
  const char *zWhat = c->zClusterAddr ? c->zClusterAddr : c->zDb;
  char *zReport = NULL;
  cv_rc rc = c->zClusterAddr ? cluster_check(c->zClusterAddr, &zReport)
                             : db_check(c->zDb, &zReport);
  if( zReport ) fputs(zReport, rc ? stderr : stdout);
  if( zReport && rc && zReport[0] && zReport[strlen(zReport)-1]!='\n' ) fputc('\n', stderr);
  free(zReport);
  if( rc==CV_OK ){ printf("%s: ok\n", zWhat); return 0; }
  fprintf(stderr, "chatvault: check of %s failed (%s)\n", zWhat, cv_rc_str(rc));
  return 1;
}

/* `chatvault backup OUT`: of the --db file, or with --cluster-addr of the cluster's leader. */
static int cmd_backup(const struct cv_config *c, const char *zOut){
  char *zErr = NULL, *zLeader = NULL;
  cv_rc rc = c->zClusterAddr ? cluster_backup(c->zClusterAddr, zOut, &zLeader, &zErr)
                             : db_backup(c->zDb, zOut, &zErr);
  if( rc ){
    fprintf(stderr, "chatvault: %s\n", zErr ? zErr : cv_rc_str(rc));
    free(zErr);
    return 1;
  }
  if( zLeader ) printf("backup of the cluster (its leader %s) written to %s\n", zLeader, zOut);
  else printf("backup of %s written to %s\n", c->zDb, zOut);
  free(zLeader);
  return 0;
}

/* `chatvault restore BACKUP`: into a new --db file (copied, upgraded by opening it, then
** checked; removed again when the check fails), or into a new cluster (cluster_restore). */
static int cmd_restore(const struct cv_config *c, const char *zBackup){
  char *zErr = NULL, *zReport = NULL;
  struct cv_store *pS;
  cv_rc rc;
  if( c->zClusterAddr ){
    int64_t nRows = 0;
    rc = cluster_restore(c->zClusterAddr, zBackup, &nRows, &zErr);
    if( rc ){
      fprintf(stderr, "chatvault: %s\n", zErr ? zErr : cv_rc_str(rc));
      free(zErr);
      return 1;
    }
    printf("restored %s into the cluster at %s: %lld rows\n", zBackup, c->zClusterAddr,
           (long long)nRows);
    return 0;
  }
  rc = db_backup(zBackup, c->zDb, &zErr);
  if( rc ){
    fprintf(stderr, "chatvault: %s\n", zErr ? zErr : cv_rc_str(rc));
    free(zErr);
    return 1;
  }
  pS = open_store(c);                  /* the migrations of this version */
  if( pS ) store_close(pS);
  rc = pS ? db_check(c->zDb, &zReport) : CV_DB;
  if( rc ){
    if( zReport ) fputs(zReport, stderr);
    fprintf(stderr, "chatvault: %s does not pass its check once restored: %s removed\n",
            zBackup, c->zDb);
    free(zReport);
    db_remove_files(c->zDb);
    return 1;
  }
  free(zReport);
  printf("restored %s into %s\n", zBackup, c->zDb);
  return 0;
}

/* `chatvault cluster node`: run the node until SIGINT or SIGTERM. */
static int cmd_cluster_node(const struct cv_config *c){
  struct cv_cluster *p = NULL;
  char zErr[400];
  sigset_t set;
  int sig;
  if( !c->zClusterDir || !c->zClusterAddr ){
    return usage("cluster node needs --cluster-dir and --cluster-addr");
  }
  block_stop_signals(&set);
  signal(SIGPIPE, SIG_IGN);                 /* libuv does not ignore it */
  db_node_init();
  if( cluster_start(c->zClusterDir, c->zClusterAddr, c->zJoin, &p, zErr, sizeof zErr) ){
    fprintf(stderr, "chatvault: %s\n", zErr);
    return 1;
  }
  printf("cluster node %llu at %s\n", (unsigned long long)cluster_id(p), c->zClusterAddr);
  fflush(stdout);
  while( sigwait(&set, &sig)!=0 ){}
  cluster_stop(p);
  return 0;
}

static int cmd_cluster(const struct cv_config *c, const char **azArg, int nArg){
  char zErr[400];
  cv_rc rc;
  if( nArg==1 && strcmp(azArg[0], "node")==0 ) return cmd_cluster_node(c);
  if( !c->zClusterAddr ) return usage("cluster status|add|remove need --cluster-addr");
  if( nArg==1 && strcmp(azArg[0], "status")==0 ){
    rc = cluster_status(c->zClusterAddr, stdout, zErr, sizeof zErr);
  }else if( nArg==2 && strcmp(azArg[0], "add")==0 ){
    rc = cluster_assign(c->zClusterAddr, azArg[1], c->zRole, zErr, sizeof zErr);
    if( rc==CV_OK ) printf("%s is a %s\n", azArg[1], c->zRole);
  }else if( nArg==2 && strcmp(azArg[0], "remove")==0 ){
    rc = cluster_remove(c->zClusterAddr, azArg[1], zErr, sizeof zErr);
    if( rc==CV_OK ) printf("%s removed\n", azArg[1]);
  }else if( nArg==2 && strcmp(azArg[0], "transfer")==0 ){
    rc = cluster_transfer(c->zClusterAddr, azArg[1], zErr, sizeof zErr);
    if( rc==CV_OK ) printf("%s leads\n", azArg[1]);
  }else{
    return usage("cluster node | cluster status | cluster add NODE | cluster remove NODE"
                 " | cluster transfer NODE");
  }
  if( rc ){
    fprintf(stderr, "chatvault: cluster: %s\n", zErr);
    return 1;
  }
  return 0;
}

/* --help or -h among argv[iFirst..argc) */
static int wants_help(int argc, char **argv, int iFirst){
  int i;
  for(i=iFirst; i<argc; i++){
    if( strcmp(argv[i], "--help")==0 || strcmp(argv[i], "-h")==0 ) return 1;
  }
  return 0;
}

int cli_main(int argc, char **argv){
  struct cv_config cfg;
  const struct cv_command *pCmd;
  const char *azArg[4];
  const char *zCmd = "serve";
  char zErr[256];
  int nArg = 0, iFirst = 1;
  if( argc>1 && argv[1][0]!='-' ){ zCmd = argv[1]; iFirst = 2; }
  if( strcmp(zCmd, "version")==0 || (argc>1 && strcmp(argv[1], "--version")==0) ){
    if( !wants_help(argc, argv, iFirst) ) return version_print(stdout) ? 1 : 0;
  }
  if( argc==2 && strcmp(argv[1], "--man")==0 ){      /* the man page (Makefile: chatvault.1) */
    return options_print_man(stdout, CV_VERSION) ? 1 : 0;
  }
  if( iFirst==1 && argc>1 && (strcmp(argv[1], "--help")==0 || strcmp(argv[1], "-h")==0) ){
    return options_print_help(stdout, NULL, CV_VERSION) ? 1 : 0;
  }
  pCmd = options_command(zCmd);
  if( !pCmd ){
    const char *zNear = options_suggest_command(zCmd);
    char zMsg[160];
    if( zNear ) snprintf(zMsg, sizeof zMsg, "unknown subcommand %.64s (did you mean %s?)", zCmd, zNear);
    else snprintf(zMsg, sizeof zMsg, "unknown subcommand %.64s", zCmd);
    return usage(zMsg);
  }
  if( pCmd->mCmd==CV_CMD_HELP ){
    const struct cv_command *pOf = NULL;
    if( argc>2 && (strcmp(argv[2], "--help")==0 || strcmp(argv[2], "-h")==0) ) pOf = pCmd;
    else if( argc>2 && !(pOf = options_command(argv[2])) ){
      const char *zNear = options_suggest_command(argv[2]);
      char zMsg[160];
      if( zNear ) snprintf(zMsg, sizeof zMsg, "unknown subcommand %.64s (did you mean %s?)", argv[2], zNear);
      else snprintf(zMsg, sizeof zMsg, "unknown subcommand %.64s", argv[2]);
      return usage(zMsg);
    }
    return options_print_help(stdout, pOf, CV_VERSION) ? 1 : 0;
  }
  if( wants_help(argc, argv, iFirst) ) return options_print_help(stdout, pCmd, CV_VERSION) ? 1 : 0;
  zUsageCmd = pCmd->zName;
  if( config_load(&cfg, pCmd->mCmd, argc, argv, iFirst, azArg, 3, &nArg, zErr, sizeof zErr) ){
    return usage(zErr);
  }
  if( auth_init(strcmp(zCmd, "serve")==0) ){
    fprintf(stderr, "chatvault: libsodium failed to initialise\n");
    return 1;
  }
  if( strcmp(zCmd, "serve")==0 ){
    if( nArg ) return usage("serve takes no arguments");
    return cmd_serve(&cfg);
  }
  if( strcmp(zCmd, "user")==0 ){
    if( nArg!=2 ) return usage("user add|passwd EMAIL");
    return cmd_user(&cfg, azArg[0], azArg[1]);
  }
  if( strcmp(zCmd, "token")==0 ){
    if( nArg>=1 && strcmp(azArg[0], "revoke")==0 ){
      if( nArg!=2 ) return usage("token revoke EMAIL");
      return cmd_token_revoke(&cfg, azArg[1]);
    }
    if( nArg!=1 ) return usage("token EMAIL | token revoke EMAIL");
    return cmd_token(&cfg, azArg[0]);
  }
  if( strcmp(zCmd, "import-legacy")==0 ){
    if( nArg!=1 ) return usage("import-legacy FILE");
    return cmd_import_legacy(&cfg, azArg[0]);
  }
  if( strcmp(zCmd, "import")==0 ){
    if( nArg!=2 ) return usage("import EMAIL FILE");
    return cmd_import(&cfg, azArg[0], azArg[1]);
  }
  if( strcmp(zCmd, "export")==0 ){
    if( nArg<1 || nArg>2 ) return usage("export EMAIL [FILE]");
    return cmd_export(&cfg, azArg[0], nArg==2 ? azArg[1] : NULL);
  }
  if( strcmp(zCmd, "check")==0 ){
    if( nArg ) return usage("check takes no arguments");
    return cmd_check(&cfg);
  }
  if( strcmp(zCmd, "cluster")==0 ) return cmd_cluster(&cfg, azArg, nArg);
  if( strcmp(zCmd, "backup")==0 ){
    if( nArg!=1 ) return usage("backup OUT");
    return cmd_backup(&cfg, azArg[0]);
  }
  if( strcmp(zCmd, "restore")==0 ){
    if( nArg!=1 ) return usage("restore BACKUP");
    return cmd_restore(&cfg, azArg[0]);
  }
  return usage("unknown subcommand");
}
