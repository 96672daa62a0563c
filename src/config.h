/*
** config.h — command-line flags and their CHATVAULT_* environment twins, turned into one
** struct cv_config. Implemented in config.c, which calls nothing but libc.
*/
#ifndef CV_CONFIG_H
#define CV_CONFIG_H

#include "cv.h"
#include "netaddr.h"
#include <stdint.h>

struct cv_config {
  const char *zDb;            /* --db, CHATVAULT_DB (default ./chatvault.db) */
  const char *zListen;        /* --listen HOST:PORT (default 127.0.0.1:8080) */
  int nThreads;               /* --threads: HTTP worker threads (default 2048) */
  int64_t maxBody;            /* --max-body bytes (default 1 MiB) */
  const char *zFormat;        /* --format of `import` (NULL: detect) */
  int64_t maxImport;          /* --max-import bytes: import and card bodies (default 256 MiB) */
  int64_t maxConvMessages;    /* --max-conversation-messages (default 100,000) */
  int64_t maxConvBytes;       /* --max-conversation-bytes (default 64 MiB) */
  int64_t maxUserBytes;       /* --max-user-bytes: all of an account's messages (default 1 GiB) */
  int64_t tokenTtlMs;         /* --token-ttl (default 30 days) */
  int bNoSignup;              /* --no-signup */
  int bSyncFull;              /* --sync full|normal (default full) */
  int historyLimit;           /* --history-limit (default 30) */
  const char *zHistoryOverflow; /* --history-overflow delete|archive (default delete): what
                              ** retention does with chats beyond the newest N */
  int bRefreshCopies;         /* --refresh-copies: a character's or scene's new name and
                              ** picture reach the chats that reference it (default off) */
  const char *zLlmUrl;        /* --llm-url: OpenAI-compatible server; NULL = offline */
  const char *zLlmModel;      /* --llm-model */
  const char *zLlmKey;        /* --llm-key, CHATVAULT_LLM_KEY */
  int llmTimeoutS;            /* --llm-timeout seconds (default 120) */
  int llmHistoryChars;        /* --llm-history-chars: earlier messages sent upstream, at most
                              ** this many characters of content, newest kept (default 24000) */
  int bDemo;                  /* --demo: seed demo data and print its credentials */
  const char *zAccessLog;     /* --access-log PATH | - (stderr, default) | off */
  const char *zTlsCert;       /* --tls-cert */
  const char *zTlsKey;        /* --tls-key */
  int nReaders;               /* --readers: read connections (default 8) */
  int requestTimeoutMs;       /* --request-timeout ms per read (default 10000) */
  int bodyTimeoutMs;          /* --body-timeout ms for a whole body (default 30000) */
  const char *zTrustedProxy;  /* --trusted-proxy CIDR[,CIDR...], CHATVAULT_TRUSTED_PROXY */
  struct cv_cidr aTrusted[CV_CIDR_MAX]; /* ... parsed: peers whose X-Forwarded-For is read */
  int nTrusted;               /* entries of aTrusted; 0: X-Forwarded-For is never read */
  const char *zClusterDir;    /* --cluster-dir: the cluster node's state (NULL: no node) */
  const char *zClusterAddr;   /* --cluster-addr: the node's address, or members to ask */
  const char *zJoin;          /* --join: members a new node joins (NULL: bootstrap) */
  const char *zRole;          /* --role of `cluster add` (default voter) */
};

/* Fill *pCfg with defaults, then the environment (every CHATVAULT_* twin, whatever the
** subcommand), then argv[iFirst..argc) flags, each of which must be one the subcommands in
** mCmd (CV_CMD_* of options.h) take. The flags, their twins and defaults: options.c.
** Arguments that are not flags are collected in azArg (at most nArgMax; *pnArg set).
** Returns CV_OK, or CV_INVALID with a message in zErr ("unknown flag --x (did you mean --y?)"). */
cv_rc config_load(struct cv_config *pCfg, unsigned mCmd, int argc, char **argv, int iFirst,
                  const char **azArg, int nArgMax, int *pnArg, char *zErr, size_t nErr);

/* Parse a duration: seconds, or a number with s/m/h/d. -1 when malformed. */
int64_t config_duration_ms(const char *z);

#endif
