/*
** options.c — see options.h: the table of flags and subcommands, the nearest-name
** suggestions, and the help and man page printed from the table.
*/
#include "options.h"
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define OFF(f) offsetof(struct cv_config, f)
#define CV_MAN_DATE "2026-12-01"   /* the man page's date: VERSION's (update with it) */
#define KiB ((int64_t)1024)

/* Every flag. Rows in the order --help lists them. */
const struct cv_option aCvOption[] = {
  { "db", "CHATVAULT_DB", "PATH", "./chatvault.db", NULL,
    "the database file (created and migrated when the subcommand opens it)",
    CV_CMD_STORE|CV_CMD_BACKUP|CV_CMD_CHECK|CV_CMD_RESTORE, CV_OPT_STR, OFF(zDb), 0, 0, NULL },
  { "listen", "CHATVAULT_LISTEN", "HOST:PORT", "127.0.0.1:8080", NULL,
    "the address to serve on; port 0 picks a free port (the port is printed)",
    CV_CMD_SERVE, CV_OPT_STR, OFF(zListen), 0, 0, NULL },
  { "tls-cert", "CHATVAULT_TLS_CERT", "FILE", NULL, NULL,
    "serve HTTPS with this certificate chain (PEM; needs --tls-key)",
    CV_CMD_SERVE, CV_OPT_STR, OFF(zTlsCert), 0, 0, NULL },
  { "tls-key", "CHATVAULT_TLS_KEY", "FILE", NULL, NULL,
    "the private key of --tls-cert (PEM)",
    CV_CMD_SERVE, CV_OPT_STR, OFF(zTlsKey), 0, 0, NULL },
  { "trusted-proxy", "CHATVAULT_TRUSTED_PROXY", "CIDR[,CIDR...]", NULL, "none",
    "reverse proxies (IPv4/IPv6 addresses or networks, at most 16) whose X-Forwarded-For names"
    " the client (its right-most hop that is not itself trusted); from any other peer the"
    " header is ignored. The client address keys login throttling and the access log",
    CV_CMD_SERVE, CV_OPT_CIDRS, OFF(zTrustedProxy), 0, 0, NULL },
  { "no-signup", "CHATVAULT_NO_SIGNUP", NULL, NULL, NULL,
    "registration answers 403 (accounts are made with `chatvault user add`)",
    CV_CMD_SERVE, CV_OPT_SWITCH, OFF(bNoSignup), 0, 0, NULL },
  { "token-ttl", "CHATVAULT_TOKEN_TTL", "DUR", "30d", NULL,
    "bearer token lifetime: seconds, or a number with s, m, h or d (3600, 15m, 12h, 30d)",
    CV_CMD_SERVE|CV_CMD_TOKEN, CV_OPT_DUR_MS, OFF(tokenTtlMs), 0, 0, NULL },
  { "sync", "CHATVAULT_SYNC", "full|normal", "full", NULL,
    "SQLite synchronous: full survives power loss, normal only a crash of the process",
    CV_CMD_STORE, CV_OPT_SYNC, OFF(bSyncFull), 0, 0, NULL },
  { "access-log", "CHATVAULT_ACCESS_LOG", "PATH|-|off", "-", NULL,
    "one line per request (time, client, method, path, status, duration): appended to PATH,"
    " - for standard error, or off",
    CV_CMD_SERVE, CV_OPT_STR, OFF(zAccessLog), 0, 0, NULL },
  { "history-limit", "CHATVAULT_HISTORY_LIMIT", "N", "30", NULL,
    "character chats kept per user",
    CV_CMD_SERVE, CV_OPT_INT, OFF(historyLimit), 1, 100000, NULL },
  { "history-overflow", "CHATVAULT_HISTORY_OVERFLOW", "delete|archive", "delete", NULL,
    "character chats beyond --history-limit are deleted, or moved to the archive",
    CV_CMD_SERVE, CV_OPT_CHOICE, OFF(zHistoryOverflow), 0, 0, "delete|archive" },
  { "refresh-copies", "CHATVAULT_REFRESH_COPIES", NULL, NULL, NULL,
    "a character's new name and picture reach the chats that copied them",
    CV_CMD_SERVE, CV_OPT_SWITCH, OFF(bRefreshCopies), 0, 0, NULL },
  { "llm-url", "CHATVAULT_LLM_URL", "URL", NULL, "none: the built-in offline responder",
    "the OpenAI-compatible server that writes the replies (its base URL)",
    CV_CMD_SERVE, CV_OPT_STR_NULL, OFF(zLlmUrl), 0, 0, NULL },
  { "llm-model", "CHATVAULT_LLM_MODEL", "MODEL", "gpt-4o-mini", NULL,
    "the model asked of --llm-url",
    CV_CMD_SERVE, CV_OPT_STR, OFF(zLlmModel), 0, 0, NULL },
  { "llm-key", "CHATVAULT_LLM_KEY", "KEY", NULL, "none",
    "the bearer key sent to --llm-url (prefer the environment: flags show in ps)",
    CV_CMD_SERVE, CV_OPT_STR_NULL, OFF(zLlmKey), 0, 0, NULL },
  { "llm-timeout", "CHATVAULT_LLM_TIMEOUT", "SECS", "120", NULL,
    "the whole deadline of one reply from --llm-url (seconds, or with s, m, h or d)",
    CV_CMD_SERVE, CV_OPT_DUR_S, OFF(llmTimeoutS), 0, 0, NULL },
  { "llm-history-chars", "CHATVAULT_LLM_HISTORY_CHARS", "N", "24000", NULL,
    "how much of the earlier conversation (in characters, newest first) goes to the model",
    CV_CMD_SERVE, CV_OPT_INT, OFF(llmHistoryChars), 0, 100000000, NULL },
  { "max-body", "CHATVAULT_MAX_BODY", "BYTES", "1048576", NULL,
    "larger request bodies get 413 without being read",
    CV_CMD_SERVE, CV_OPT_BYTES, OFF(maxBody), 64, (int64_t)1<<31, NULL },
  { "max-import", "CHATVAULT_MAX_IMPORT", "BYTES", "268435456", NULL,
    "the largest import body (character cards: at most 16 MiB)",
    CV_CMD_SERVE, CV_OPT_BYTES, OFF(maxImport), 1024, (int64_t)1<<40, NULL },
  { "max-conversation-messages", "CHATVAULT_MAX_CONVERSATION_MESSAGES", "N", "100000", NULL,
    "a write that would grow a thread or chat past this many messages gets 413 and changes"
    " nothing",
    CV_CMD_SERVE, CV_OPT_I64, OFF(maxConvMessages), 1, (int64_t)1<<40, NULL },
  { "max-conversation-bytes", "CHATVAULT_MAX_CONVERSATION_BYTES", "BYTES", "67108864", NULL,
    "the same for a conversation's stored message bytes",
    CV_CMD_SERVE, CV_OPT_BYTES, OFF(maxConvBytes), 1024, (int64_t)1<<50, NULL },
  { "max-user-bytes", "CHATVAULT_MAX_USER_BYTES", "BYTES", "1073741824", NULL,
    "the same for all of an account's conversations, each counted in 4 KiB steps",
    CV_CMD_SERVE, CV_OPT_BYTES, OFF(maxUserBytes), 1024, (int64_t)1<<50, NULL },
  { "threads", "CHATVAULT_THREADS", "N", "2048", NULL,
    "the most HTTP worker threads (one per open connection or stream); 8 start with the"
    " server, the others only when every started one is busy",
    CV_CMD_SERVE, CV_OPT_INT, OFF(nThreads), 2, 4096, NULL },
  { "readers", "CHATVAULT_READERS", "N", "8", NULL,
    "read-only database connections (reads never wait for writes)",
    CV_CMD_STORE, CV_OPT_INT, OFF(nReaders), 1, 256, NULL },
  { "request-timeout", "CHATVAULT_REQUEST_TIMEOUT", "MS", "10000", NULL,
    "milliseconds a client may take for each read of a request (its headers, a body chunk)",
    CV_CMD_SERVE, CV_OPT_INT, OFF(requestTimeoutMs), 100, 3600000, NULL },
  { "body-timeout", "CHATVAULT_BODY_TIMEOUT", "MS", "30000", NULL,
    "milliseconds a client may take for a whole request body (longer for large imports,"
    " in proportion to the size)",
    CV_CMD_SERVE, CV_OPT_INT, OFF(bodyTimeoutMs), 100, 3600000, NULL },
  { "demo", NULL, NULL, NULL, NULL,
    "seed a demo account and sample data, and print its credentials",
    CV_CMD_SERVE, CV_OPT_SWITCH, OFF(bDemo), 0, 0, NULL },
  { "cluster-dir", "CHATVAULT_CLUSTER_DIR", "DIR", NULL, NULL,
    "the cluster node's own directory (its Raft log and snapshots; created when missing);"
    " serve with it runs a node of a cluster and serves the cluster's database (not --db)",
    CV_CMD_SERVE|CV_CMD_CLUSTER, CV_OPT_STR, OFF(zClusterDir), 0, 0, NULL },
  { "cluster-addr", "CHATVAULT_CLUSTER_ADDR", "HOST:PORT[,...]", NULL, NULL,
    "serve --cluster-dir, cluster node: the numeric address the node listens on and members"
    " reach it at; cluster status, add, remove: members to ask (any of them; the leader is found);"
    " user, token, import, export, backup, restore: the cluster whose database they work on"
    " (instead of --db), reached through these members; check: the one member whose own copy"
    " is checked",
    CV_CMD_SERVE|CV_CMD_CLUSTER|CV_CMD_ON_CLUSTER, CV_OPT_STR, OFF(zClusterAddr), 0, 0, NULL },
  { "join", "CHATVAULT_JOIN", "HOST:PORT[,...]", NULL, "bootstrap",
    "serve --cluster-dir, cluster node: members of the cluster a new node joins (as a voter);"
    " without it the first start bootstraps a new cluster. A restarted node asks them too",
    CV_CMD_SERVE|CV_CMD_CLUSTER, CV_OPT_STR, OFF(zJoin), 0, 0, NULL },
  { "role", NULL, "ROLE", "voter", NULL,
    "cluster add: the role the member gets (voter, standby or spare)",
    CV_CMD_CLUSTER, CV_OPT_CHOICE, OFF(zRole), 0, 0, "voter|standby|spare" },
  { "format", NULL, "FORMAT", NULL, "detected",
    "the file's format: chatvault, chatgpt, claude, openwebui, librechat, chatbot-ui or"
    " sillytavern",
    CV_CMD_IMPORT, CV_OPT_STR, OFF(zFormat), 0, 0, NULL },
};
const int nCvOption = (int)(sizeof aCvOption / sizeof aCvOption[0]);

const struct cv_command aCvCommand[] = {
  { "serve", CV_CMD_SERVE, "",
    "serve the HTTP API and the web page (the default subcommand)",
    "Stops cleanly on SIGINT or SIGTERM: requests in flight finish, the database is"
    " checkpointed and closed. Once listening it prints `listening on http://HOST:PORT`." },
  { "user", CV_CMD_USER, "add EMAIL\npasswd EMAIL",
    "create an account, or set an account's password",
    "The password is read from standard input (one line, 8 to 256 characters). passwd also"
    " revokes every token of the user." },
  { "token", CV_CMD_TOKEN, "EMAIL\nrevoke EMAIL",
    "print a new bearer token of the user, or revoke all of the user's tokens", NULL },
  { "import", CV_CMD_IMPORT, "EMAIL FILE",
    "import a ChatGPT, Claude, Open WebUI, LibreChat, chatbot-ui, SillyTavern or chatvault"
    " export into the user's history (FILE - is standard input)",
    "The format is detected unless --format names it; importing a file again adds nothing"
    " twice. Exit 1 when something was skipped with an error." },
  { "export", CV_CMD_EXPORT, "EMAIL [FILE]",
    "write everything of the user as one JSON document to FILE (absent or -: standard output)",
    NULL },
  { "import-legacy", CV_CMD_IMPORT_LEGACY, "FILE",
    "import legacy user rows (JSON Lines, as `SELECT row_to_json(u) FROM users u` prints"
    " them) into character chats; idempotent",
    NULL },
  { "backup", CV_CMD_BACKUP, "OUT",
    "write a consistent copy of the database to OUT, also while the server runs",
    "Restore with `chatvault restore OUT` (into a new file, or a new cluster). With"
    " --cluster-addr: a copy of the cluster's database as its leader holds it." },
  { "restore", CV_CMD_RESTORE, "BACKUP",
    "restore a backup into a new database: the --db file (which must not exist), or the"
    " cluster --cluster-addr names (which must hold no account yet)",
    "The backup must pass `chatvault check`. Into a file: copied, then upgraded to this"
    " version's schema. Into a cluster: every row, in one transaction through the leader;"
    " a backup of an older version goes into a file first. Exit 1 when refused." },
  { "check", CV_CMD_CHECK, "",
    "check the database's integrity, foreign keys, counts, search index and schema version",
    "With --cluster-addr MEMBER: that member's own copy of the cluster's database." },
  { "cluster", CV_CMD_CLUSTER, "node\nstatus\nadd NODE\nremove NODE\ntransfer NODE",
    "run a replication node of a cluster, or show or change a cluster's members",
    "node runs a dqlite node (--cluster-dir, --cluster-addr, --join) until SIGINT or SIGTERM:"
    " it stores and votes but serves no HTTP (serve --cluster-dir runs a node that does)."
    " status prints each member (id, address, role, the leader marked); add gives the member"
    " at NODE the --role; remove takes it out of the cluster; transfer makes it the leader."
    " NODE is a member's address." },
  { "version", CV_CMD_VERSION, "",
    "print chatvault's version and that of every library inside it", NULL },
  { "help", CV_CMD_HELP, "[SUBCOMMAND]",
    "print this help, or a subcommand's (as does SUBCOMMAND --help)", NULL },
};
const int nCvCommand = (int)(sizeof aCvCommand / sizeof aCvCommand[0]);

const struct cv_option *options_find(const char *zName, size_t n){
  int i;
  for(i=0; i<nCvOption; i++){
    if( strlen(aCvOption[i].zName)==n && memcmp(aCvOption[i].zName, zName, n)==0 ){
      return &aCvOption[i];
    }
  }
  return NULL;
}

const struct cv_command *options_command(const char *zName){
  int i;
  for(i=0; i<nCvCommand; i++){
    if( strcmp(aCvCommand[i].zName, zName)==0 ) return &aCvCommand[i];
  }
  return NULL;
}

int options_distance(const char *a, size_t na, const char *b, size_t nb){
  int d[64][64];
  size_t i, j;
  if( na>63 || nb>63 ) return 64;
  for(i=0; i<=na; i++) d[i][0] = (int)i;
  for(j=0; j<=nb; j++) d[0][j] = (int)j;
  for(i=1; i<=na; i++){
    for(j=1; j<=nb; j++){
      int cost = a[i-1]==b[j-1] ? 0 : 1;
      int v = d[i-1][j] + 1;
      if( d[i][j-1] + 1 < v ) v = d[i][j-1] + 1;
      if( d[i-1][j-1] + cost < v ) v = d[i-1][j-1] + cost;
      if( i>1 && j>1 && a[i-1]==b[j-2] && a[i-2]==b[j-1] && d[i-2][j-2] + 1 < v ){
        v = d[i-2][j-2] + 1;   /* two neighbours swapped */
      }
      d[i][j] = v;
    }
  }
  return d[na][nb];
}

/* The most edits that still look like a typo of a name of n bytes. */
static int typo_limit(size_t n){
  return n<=3 ? 1 : n<=7 ? 2 : 3;
}

const char *options_suggest_flag(const char *zName, size_t n, unsigned mCmd){
  const char *zBest = NULL;
  int pass;
  for(pass=0; pass<2 && !zBest; pass++){
    int i, dBest = typo_limit(n) + 1;
    for(i=0; i<nCvOption; i++){
      const char *z = aCvOption[i].zName;
      size_t nz = strlen(z);
      int dist;
      if( pass==0 && !(aCvOption[i].mCmds & mCmd) ) continue;
      dist = options_distance(zName, n, z, nz);
      /* a unique abbreviation of 4+ characters counts as close */
      if( dist>=dBest && n>=4 && n<nz && memcmp(z, zName, n)==0 ) dist = typo_limit(n);
      if( dist<dBest ){ dBest = dist; zBest = z; }
      else if( dist==dBest && zBest && strcmp(zBest, z)!=0 ) zBest = NULL; /* a tie: ambiguous */
    }
  }
  return zBest;
}

const char *options_suggest_command(const char *zName){
  const char *zBest = NULL;
  size_t n = strlen(zName);
  int i, dBest = typo_limit(n) + 1;
  for(i=0; i<nCvCommand; i++){
    int dist = options_distance(zName, n, aCvCommand[i].zName, strlen(aCvCommand[i].zName));
    if( dist<dBest ){ dBest = dist; zBest = aCvCommand[i].zName; }
  }
  return zBest;
}

void options_command_names(unsigned m, char *z, size_t n){
  size_t len = 0;
  int i;
  if( n==0 ) return;
  z[0] = 0;
  for(i=0; i<nCvCommand; i++){
    int k;
    if( !(aCvCommand[i].mCmd & m) ) continue;
    k = snprintf(z+len, n-len, "%s%s", len ? ", " : "", aCvCommand[i].zName);
    if( k<0 || (size_t)k>=n-len ) return;   /* cut: keeps what fitted, NUL-terminated */
    len += (size_t)k;
  }
}

/* --- help --------------------------------------------------------------------------------- */

/* Print z word-wrapped to width columns, every line indented by nIndent spaces. */
static void wrap(FILE *pOut, const char *z, int nIndent, int width){
  int col = 0;
  while( *z ){
    size_t nWord;
    while( *z==' ' ) z++;
    if( !*z ) break;
    nWord = strcspn(z, " ");
    if( col>nIndent && col + 1 + (int)nWord > width ){ fputc('\n', pOut); col = 0; }
    if( col==0 ){ fprintf(pOut, "%*s", nIndent, ""); col = nIndent; }
    else{ fputc(' ', pOut); col++; }
    fwrite(z, 1, nWord, pOut);
    col += (int)nWord;
    z += nWord;
  }
  if( col ) fputc('\n', pOut);
}

/* The default as shown: bytes also in KiB/MiB/GiB. */
static void show_default(const struct cv_option *p, char *z, size_t n){
  if( p->zDefault && p->eKind==CV_OPT_BYTES ){
    long long v = strtoll(p->zDefault, NULL, 10);
    const char *zUnit = NULL;
    long long div = 1;
    if( v>=KiB*KiB*KiB && v%(KiB*KiB*KiB)==0 ){ zUnit = "GiB"; div = KiB*KiB*KiB; }
    else if( v>=KiB*KiB && v%(KiB*KiB)==0 ){ zUnit = "MiB"; div = KiB*KiB; }
    else if( v>=KiB && v%KiB==0 ){ zUnit = "KiB"; div = KiB; }
    if( zUnit ) snprintf(z, n, "%s (%lld %s)", p->zDefault, v/div, zUnit);
    else snprintf(z, n, "%s", p->zDefault);
  }else if( p->zDefault ){
    snprintf(z, n, "%s", p->zDefault);
  }else if( p->zShow ){
    snprintf(z, n, "%s", p->zShow);
  }else{
    snprintf(z, n, "%s", p->eKind==CV_OPT_SWITCH ? "off" : "none");
  }
}

/* Each form of pCmd's synopsis: "chatvault NAME FORM" (+ " [FLAGS]" when it takes any). */
static void print_synopsis(FILE *pOut, const struct cv_command *pCmd, const char *zLead,
                           const char *zIndent){
  const char *z = pCmd->zSynopsis;
  int i, bFlags = 0, bFirst = 1;
  for(i=0; i<nCvOption; i++) if( aCvOption[i].mCmds & pCmd->mCmd ) bFlags = 1;
  do{
    size_t n = strcspn(z, "\n");
    fprintf(pOut, "%s%s%s%.*s%s\n", bFirst ? zLead : zIndent, pCmd->zName, n ? " " : "",
            (int)n, z, bFlags ? " [FLAGS]" : "");
    bFirst = 0;
    z += n;
    if( *z=='\n' ) z++;
  }while( *z );
}

static void print_flag(FILE *pOut, const struct cv_option *p, int bWhich){
  char zDef[96], zLine[512], zCmds[160];
  fprintf(pOut, "  --%s%s%s\n", p->zName, p->zArg ? " " : "", p->zArg ? p->zArg : "");
  wrap(pOut, p->zHelp, 6, 79);
  show_default(p, zDef, sizeof zDef);
  options_command_names(p->mCmds, zCmds, sizeof zCmds);
  snprintf(zLine, sizeof zLine, "%s%s%s; default %s%s%s", p->zEnv ? "env " : "",
           p->zEnv ? p->zEnv : "no environment variable", "", zDef,
           bWhich ? "; for " : "", bWhich ? zCmds : "");
  wrap(pOut, zLine, 6, 79);
}

int options_print_help(FILE *pOut, const struct cv_command *pCmd, const char *zVersion){
  int i, n = 0;
  if( pCmd ){
    print_synopsis(pOut, pCmd, "usage: chatvault ", "       chatvault ");
    fputc('\n', pOut);
    {
      char zText[1024];
      snprintf(zText, sizeof zText, "%s.%s%s", pCmd->zHelp, pCmd->zMore ? " " : "",
               pCmd->zMore ? pCmd->zMore : "");
      wrap(pOut, zText, 0, 79);
    }
    for(i=0; i<nCvOption; i++){
      if( !(aCvOption[i].mCmds & pCmd->mCmd) ) continue;
      if( n++==0 ){
        fputs("\nFlags (--flag VALUE or --flag=VALUE; a flag wins over its environment"
              " variable):\n", pOut);
      }
      print_flag(pOut, &aCvOption[i], 0);
    }
    if( n==0 ) fputs("\nIt takes no flags.\n", pOut);
  }else{
    fprintf(pOut, "chatvault %s: AI chat history in one SQLite file, served over HTTP with a"
            " web page.\n\nusage: chatvault [SUBCOMMAND] [ARGUMENTS] [FLAGS]\n\n"
            "Subcommands (serve when none is given):\n", zVersion);
    for(i=0; i<nCvCommand; i++){
      print_synopsis(pOut, &aCvCommand[i], "  chatvault ", "  chatvault ");
      wrap(pOut, aCvCommand[i].zHelp, 6, 79);
    }
    fputs("\nFlags (--flag VALUE or --flag=VALUE; a flag wins over its environment variable,"
          "\nwhich every subcommand reads):\n", pOut);
    for(i=0; i<nCvOption; i++) print_flag(pOut, &aCvOption[i], 1);
    fputs("\n`chatvault SUBCOMMAND --help` shows one subcommand's flags; `man chatvault` has"
          " more.\n", pOut);
  }
  return (fflush(pOut)!=0 || ferror(pOut)) ? -1 : 0;
}

/* --- man page ----------------------------------------------------------------------------- */

/* Write z as roff text: backslashes escaped, a dash next to a dash or starting a word as
** \- (a flag's minus), `code` in bold, a leading . or ' made harmless. */
static void roff_text(FILE *pOut, const char *z){
  const char *zStart = z;
  int bCode = 0, col = 0;
  if( *z=='.' || *z=='\'' ) fputs("\\&", pOut);
  for(; *z; z++, col++){
    char c = *z;
    if( c==' ' && (col>=64 || (z>zStart && z[-1]=='.' && col>=16)) && z[1] && z[1]!=' ' ){
      /* a new line after a sentence or past 64 columns (short source lines, mandoc -Tlint) */
      fputc('\n', pOut);
      col = -1;
      if( z[1]=='.' || z[1]=='\'' ) fputs("\\&", pOut);
      continue;
    }
    if( c=='\\' ) fputs("\\e", pOut);
    else if( c=='`' ){ fputs(bCode ? "\\fR" : "\\fB", pOut); bCode = !bCode; }
    else if( c=='-' && (z==zStart || z[-1]==' ' || z[-1]=='-' || z[1]=='-' || z[-1]=='('
                        || z[-1]=='[' || z[-1]=='`' || z[-1]=='|') ){
      fputs("\\-", pOut);
    }else fputc(c, pOut);
  }
  if( bCode ) fputs("\\fR", pOut);
}

/* One synopsis form as roff: words with a capital are placeholders (italic). */
static void roff_form(FILE *pOut, const char *zName, const char *z, size_t n, int bFlags){
  size_t i = 0;
  fprintf(pOut, ".B chatvault %s\n", zName);
  while( i<n ){
    size_t j = i, k;
    int bPlace = 0;
    while( j<n && z[j]!=' ' ) j++;
    for(k=i; k<j; k++) if( z[k]>='A' && z[k]<='Z' ) bPlace = 1;
    if( bPlace && z[i]=='[' && z[j-1]==']' ){
      fprintf(pOut, ".RI [ %.*s ]\n", (int)(j-i-2), z+i+1);
    }else{
      fprintf(pOut, "%s %.*s\n", bPlace ? ".I" : ".B", (int)(j-i), z+i);
    }
    i = j;
    while( i<n && z[i]==' ' ) i++;
  }
  if( bFlags ) fputs(".RI [ flags ]\n", pOut);
}

/* pCmd's forms on one line: "\fBuser add\fR \fIEMAIL\fR, \fBuser passwd\fR ..." */
static void roff_inline_forms(FILE *pOut, const struct cv_command *pCmd){
  const char *z = pCmd->zSynopsis;
  int bFirst = 1;
  do{
    size_t n = strcspn(z, "\n"), i = 0;
    if( !bFirst ) fputs(", ", pOut);
    bFirst = 0;
    fputs("\\fB", pOut);
    roff_text(pOut, pCmd->zName);
    fputs("\\fR", pOut);
    while( i<n ){
      char zWord[64];
      size_t j = i, k;
      int bPlace = 0;
      while( j<n && z[j]!=' ' ) j++;
      for(k=i; k<j; k++) if( z[k]>='A' && z[k]<='Z' ) bPlace = 1;
      snprintf(zWord, sizeof zWord, "%.*s", (int)(j-i), z+i);
      fputs(bPlace ? " \\fI" : " \\fB", pOut);
      roff_text(pOut, zWord);
      fputs("\\fR", pOut);
      i = j;
      while( i<n && z[i]==' ' ) i++;
    }
    z += n;
    if( *z=='\n' ) z++;
  }while( *z );
  fputc('\n', pOut);
}

static void roff_synopsis(FILE *pOut, const struct cv_command *pCmd, int bLast){
  const char *z = pCmd->zSynopsis;
  int i, bFlags = 0;
  for(i=0; i<nCvOption; i++) if( aCvOption[i].mCmds & pCmd->mCmd ) bFlags = 1;
  do{
    size_t n = strcspn(z, "\n");
    roff_form(pOut, pCmd->zName, z, n, bFlags);
    z += n;
    if( *z=='\n' ) z++;
    if( *z || !bLast ) fputs(".br\n", pOut);
  }while( *z );
}

int options_print_man(FILE *pOut, const char *zVersion){
  char zDef[96], zCmds[160];
  int i;
  fprintf(pOut,
    ".\\\" chatvault(1), generated by `chatvault --man` from src/options.c: do not edit.\n"
    ".TH CHATVAULT 1 \"%s\" \"chatvault %s\" \"User Commands\"\n"
    ".nh\n.ad l\n"
    ".SH NAME\n"
    "chatvault \\- AI chat history in one SQLite file,\nserved over HTTP with a web page\n"
    ".SH SYNOPSIS\n", CV_MAN_DATE, zVersion);
  for(i=0; i<nCvCommand; i++) roff_synopsis(pOut, &aCvCommand[i], i==nCvCommand-1);
  fputs(".SH DESCRIPTION\n"
    ".B chatvault\n"
    "keeps users' AI chat history (assistant threads and character chats)\n"
    "in one SQLite file and serves it over HTTP, with a web page of its own,\n"
    "accounts, search, export and import.\n"
    "Replies stream from any OpenAI\\-compatible server (\\fB\\-\\-llm\\-url\\fR)\n"
    "or from a built\\-in offline responder.\n"
    ".PP\n"
    "Subcommands that write go through the same writer as the server,\n"
    "so they are safe to run while it serves.\n"
    "Every flag but \\fB\\-\\-demo\\fR and \\fB\\-\\-format\\fR has an environment variable;\n"
    "a flag on the command line wins over it.\n"
    "A subcommand rejects flags it does not take;\n"
    "the environment is read by every subcommand.\n"
    ".SH SUBCOMMANDS\n", pOut);
  for(i=0; i<nCvCommand; i++){
    const struct cv_command *p = &aCvCommand[i];
    fputs(".TP\n", pOut);
    roff_inline_forms(pOut, p);
    roff_text(pOut, p->zHelp);
    fputs(".\n", pOut);
    if( p->zMore ){ roff_text(pOut, p->zMore); fputc('\n', pOut); }
  }
  fputs(".SH OPTIONS\n"
    "Values go after the flag or after \\fB=\\fR (\\fB\\-\\-db=/srv/cv.db\\fR).\n", pOut);
  for(i=0; i<nCvOption; i++){
    const struct cv_option *p = &aCvOption[i];
    fputs(".TP\n", pOut);
    fputs(".B \\-\\-", pOut);
    roff_text(pOut, p->zName);
    if( p->zArg ){ fputs(" \\fI", pOut); roff_text(pOut, p->zArg); fputs("\\fR", pOut); }
    fputc('\n', pOut);
    roff_text(pOut, p->zHelp);
    fputs(".\n", pOut);
    show_default(p, zDef, sizeof zDef);
    fputs("Default: ", pOut);
    roff_text(pOut, zDef);
    fputs(".\n", pOut);
    if( p->zEnv ) fprintf(pOut, "Environment: \\fB%s\\fR.\n", p->zEnv);
    options_command_names(p->mCmds, zCmds, sizeof zCmds);
    {
      /* one name per input line: a long list stays under mandoc's 80 bytes a line */
      char *zC;
      for(zC=zCmds; (zC = strstr(zC, ", "))!=NULL; zC += 2) zC[1] = '\n';
    }
    fprintf(pOut, "Subcommands:\n%s.\n", zCmds);
  }
  fputs(".SH ENVIRONMENT\n", pOut);
  for(i=0; i<nCvOption; i++){
    const struct cv_option *p = &aCvOption[i];
    if( !p->zEnv ) continue;
    fprintf(pOut, ".TP\n.B %s\nAs \\fB\\-\\-", p->zEnv);
    roff_text(pOut, p->zName);
    fputs("\\fR", pOut);
    if( p->eKind==CV_OPT_SWITCH ) fputs(" (1 turns it on, 0 off)", pOut);
    fputs(".\n", pOut);
  }
  fputs(".SH FILES\n"
    ".TP\n.I /etc/chatvault/chatvault.env\n"
    "The environment of the systemd units \\fBchatvault.service\\fR and\n"
    "\\fBchatvault\\-backup.service\\fR (\\fBCHATVAULT_*\\fR variables, one a line).\n"
    ".TP\n.I /var/lib/chatvault/chatvault.db\n"
    "The database of the systemd service, with its \\fB\\-wal\\fR and \\fB\\-shm\\fR files.\n"
    ".TP\n.I /var/lib/chatvault/backup/\n"
    "The copies written by \\fBchatvault\\-backup.timer\\fR (daily).\n"
    ".SH EXIT STATUS\n"
    "0 on success, 1 on an error (a message on standard error), 2 on a usage error\n"
    "(an unknown subcommand or flag, a missing argument, a bad value).\n"
    ".SH EXAMPLES\n"
    ".nf\n"
    "chatvault serve \\-\\-db ./chatvault.db\n"
    "echo \\(aqa long password\\(aq | chatvault user add me@example.com\n"
    "chatvault token me@example.com\n"
    "chatvault backup /backups/cv.db\n"
    "chatvault import me@example.com conversations.json\n"
    "chatvault serve \\-\\-listen 127.0.0.1:8080 \\-\\-trusted\\-proxy 127.0.0.1\n"
    ".fi\n"
    ".SH SEE ALSO\n"
    ".BR systemd.exec (5),\n"
    ".BR sqlite3 (1)\n", pOut);
  return (fflush(pOut)!=0 || ferror(pOut)) ? -1 : 0;
}
