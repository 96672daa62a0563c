/*
** cluster_data.h — a cluster's database as a file, for the subcommands that work on files:
** `backup` (a copy of the leader's database), `check` (of one member's own copy) and
** `restore` (a backup into a new cluster). dqlite's DUMP request gives a member's copy as a
** SQLite file; a restore writes a backup's rows through the leader in one transaction.
** docs/cluster.md says how to use them.
**
** zAddrs: comma-separated numeric HOST:PORT of members (any of them; the leader is found).
** Every function returns CV_OK or the error, with a message in *pzErr (free with free()).
*/
#ifndef CV_CLUSTER_DATA_H
#define CV_CLUSTER_DATA_H

#include <stdint.h>
#include "cv.h"

/* A consistent copy of the cluster's database, as the leader holds it, written to zOut (which
** must not exist: CV_CONFLICT), with db_backup's guarantee: after any failure or crash zOut
** is absent or complete. *pzLeader (free with free()) the member it came from. */
cv_rc cluster_backup(const char *zAddrs, const char *zOut, char **pzLeader, char **pzErr);

/* `chatvault check` of the member zAddr's own copy of the database (dumped into a temporary
** file under $TMPDIR, removed after): db_check's report and answer, the report headed by a
** line naming the member and the copy's size. */
cv_rc cluster_check(const char *zAddr, char **pzReport);

/* Restore the backup file zBackup (one `chatvault check` passes, of this schema version) into
** the cluster: its schema made by the migrations, then every table's rows written as they
** are in the backup, with the triggers held off, in one transaction through the leader, and
** the row counts compared after. Refused (CV_CONFLICT) when the cluster already holds an
** account: a restore is for a new cluster. CV_INVALID when the backup does not pass its
** check or is of another schema version. *pnRows the rows written. */
cv_rc cluster_restore(const char *zAddrs, const char *zBackup, int64_t *pnRows, char **pzErr);

#endif /* CV_CLUSTER_DATA_H */
