/*
** cli.h — the subcommands: serve, user add|passwd, token, backup, check, version, export,
** import-legacy. Each returns the process exit code: 0 success, 1 error (message on
** stderr), 2 usage error. May call config, db, auth, stores, server and import.
*/
#ifndef CV_CLI_H
#define CV_CLI_H

/* Run the subcommand named by argv[1] (serve when absent or a flag). */
int cli_main(int argc, char **argv);

#endif
