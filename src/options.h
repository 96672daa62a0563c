/*
** options.h — the one table of chatvault's flags and subcommands. Each flag: its name, its
** CHATVAULT_* environment twin, the name of its value, its default (a value the parser reads,
** so what --help shows is what the server uses), one line of help, the subcommands that take
** it and how its value is read into struct cv_config. config.c parses with it; `chatvault
** --help`, `chatvault SUBCOMMAND --help` and the man page (`chatvault --man`) are printed from
** it. Calls nothing but libc.
**
** To add a flag: a field in struct cv_config (config.h), one row in aOption (options.c). Its
** env twin, help, man page entry, README check (tests/cli/test_help.py) follow from the row.
*/
#ifndef CV_OPTIONS_H
#define CV_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The subcommands, as bits of cv_option.mCmds. */
#define CV_CMD_SERVE          0x001u
#define CV_CMD_USER           0x002u
#define CV_CMD_TOKEN          0x004u
#define CV_CMD_IMPORT_LEGACY  0x008u
#define CV_CMD_IMPORT         0x010u
#define CV_CMD_EXPORT         0x020u
#define CV_CMD_BACKUP         0x040u
#define CV_CMD_CHECK          0x080u
#define CV_CMD_VERSION        0x100u
#define CV_CMD_HELP           0x200u
#define CV_CMD_CLUSTER        0x400u
#define CV_CMD_RESTORE        0x800u
/* the subcommands that open the store (cli.c open_store: --db, --sync, --readers) */
#define CV_CMD_STORE (CV_CMD_SERVE|CV_CMD_USER|CV_CMD_TOKEN|CV_CMD_IMPORT_LEGACY|CV_CMD_IMPORT\
                      |CV_CMD_EXPORT)
/* the subcommands that work on a cluster's database with --cluster-addr (instead of --db) */
#define CV_CMD_ON_CLUSTER (CV_CMD_USER|CV_CMD_TOKEN|CV_CMD_IMPORT_LEGACY|CV_CMD_IMPORT\
                           |CV_CMD_EXPORT|CV_CMD_BACKUP|CV_CMD_CHECK|CV_CMD_RESTORE)

/* How a flag's value is read (config.c). */
enum cv_opt_kind {
  CV_OPT_STR,        /* const char* */
  CV_OPT_STR_NULL,   /* const char*, an empty value is NULL (none) */
  CV_OPT_INT,        /* int in [lo,hi] */
  CV_OPT_I64,        /* int64_t in [lo,hi] */
  CV_OPT_BYTES,      /* int64_t in [lo,hi], shown with its size in KiB/MiB/GiB */
  CV_OPT_SWITCH,     /* int 0/1: given alone it is on; =0, =false, =no, =off turn it off */
  CV_OPT_DUR_MS,     /* int64_t milliseconds from a duration (3600, 15m, 12h, 30d) */
  CV_OPT_DUR_S,      /* int seconds from a duration, rounded up */
  CV_OPT_CHOICE,     /* const char*, one of zChoices ("a|b") */
  CV_OPT_SYNC,       /* int bSyncFull from full|normal (either case) */
  CV_OPT_CIDRS       /* --trusted-proxy: the text and its parsed networks */
};

struct cv_option {
  const char *zName;      /* the flag without its dashes */
  const char *zEnv;       /* its environment twin, or NULL when it has none */
  const char *zArg;       /* the value's name in the help (NULL: a switch) */
  const char *zDefault;   /* the default as a value the parser reads; NULL: none / off */
  const char *zShow;      /* what --help shows for no default (NULL: nothing) */
  const char *zHelp;      /* one line (wrapped when printed) */
  unsigned mCmds;         /* CV_CMD_* of the subcommands that take it on the command line */
  enum cv_opt_kind eKind;
  size_t iOff;            /* offsetof(struct cv_config, the field) */
  int64_t lo, hi;         /* CV_OPT_INT, _I64, _BYTES: the accepted range */
  const char *zChoices;   /* CV_OPT_CHOICE: "a|b|c" */
};

struct cv_command {
  const char *zName;      /* serve, user, ... */
  unsigned mCmd;          /* its CV_CMD_* bit */
  const char *zSynopsis;  /* its arguments, one form a line ("add EMAIL\npasswd EMAIL"; "": none) */
  const char *zHelp;      /* one line: what it does */
  const char *zMore;      /* more (NULL: nothing) */
};

extern const struct cv_option aCvOption[];
extern const int nCvOption;
extern const struct cv_command aCvCommand[];
extern const int nCvCommand;

/* The option named zName (no dashes, n bytes), or NULL. */
const struct cv_option *options_find(const char *zName, size_t n);

/* The subcommand named zName, or NULL. */
const struct cv_command *options_command(const char *zName);

/* Optimal-string-alignment edit distance of a (na bytes) and b (nb bytes); names longer
** than 63 bytes count as far away (64). */
int options_distance(const char *a, size_t na, const char *b, size_t nb);

/* The known flag nearest to zName (n bytes), preferring those of the subcommands in mCmd,
** when it is close enough to be a typo; else NULL. */
const char *options_suggest_flag(const char *zName, size_t n, unsigned mCmd);

/* The subcommand nearest to zName when it is close enough to be a typo; else NULL. */
const char *options_suggest_command(const char *zName);

/* `chatvault --help` (pCmd NULL: the subcommands and every flag) or `chatvault SUB --help`.
** Returns 0, or -1 when writing failed. */
int options_print_help(FILE *pOut, const struct cv_command *pCmd, const char *zVersion);

/* The man page chatvault(1) in roff (man(7) macros). Returns 0, or -1 when writing failed. */
int options_print_man(FILE *pOut, const char *zVersion);

/* The names of the subcommands (CV_CMD_* bits of m) as "serve, user, token", into z. */
void options_command_names(unsigned m, char *z, size_t n);

#endif
