/*
** cluster.h — this process as a member of a replicated cluster (issue 14): a dqlite node
** embedded in the binary (dqlite's node API: its Raft log and snapshots in a directory of
** its own, the database in memory), and the membership operations of `chatvault cluster`,
** spoken to the leader through dqclient.h.
**
** A cluster is three or five voters. The first node bootstraps it (no --join: it is node 1,
** a cluster of itself); every other node starts with --join (addresses of members): it takes
** a random id, and the leader adds it and makes it a voter. The directory holds the node's
** identity (cluster-node: id, address, joining|member) besides dqlite's files, so a restart
** needs no --join (a node that crashed while joining finishes with it), and its address
** must stay the same.
*/
#ifndef CV_CLUSTER_H
#define CV_CLUSTER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "cv.h"

struct cv_cluster;

#define CLUSTER_JOIN_MS 30000   /* how long a joiner waits for a leader to make it a voter */

/* Start the node whose state lives in zDir (created 0700 when missing), reachable at zAddr
** (numeric HOST:PORT), joining the members zJoin (comma-separated; NULL or "": bootstrap a
** new cluster, or restart). Returns when the node serves and, for a joiner, is a voter.
** On failure zErr (nErr bytes) says why and nothing keeps running. */
cv_rc cluster_start(const char *zDir, const char *zAddr, const char *zJoin,
                    struct cv_cluster **pp, char *zErr, size_t nErr);

/* Hand the lead and the vote to others when this node has them, then stop and free. */
void cluster_stop(struct cv_cluster *p);

uint64_t cluster_id(const struct cv_cluster *p);

/* What this node is now, as GET /healthz says it: *pzRole "leader", "follower" (a leader is
** known: writes reach it through this node) or "no-leader" (electing, or cut off from a
** majority: writes fail with 503), and *pbWritable 1 for the first two. Asks the node itself,
** within 1 s ("no-leader" when it does not answer). */
void cluster_role(const struct cv_cluster *p, const char **pzRole, int *pbWritable);

/* `chatvault cluster status`: the members as the leader found through zAddrs knows them, one
** line each ("ID ADDRESS ROLE", "leader" after the leader's), into pOut. */
cv_rc cluster_status(const char *zAddrs, FILE *pOut, char *zErr, size_t nErr);

/* `chatvault cluster add`: give the member at zNode the role zRole ("voter", "standby",
** "spare"). `chatvault cluster remove`: take the member at zNode out of the cluster (the
** lead is handed to another voter first when zNode has it). */
cv_rc cluster_assign(const char *zAddrs, const char *zNode, const char *zRole,
                     char *zErr, size_t nErr);
cv_rc cluster_remove(const char *zAddrs, const char *zNode, char *zErr, size_t nErr);

/* `chatvault cluster transfer`: make the voter at zNode the leader (a planned restart of the
** leader; reading a node's own copy of the data). Returns once it leads; gives up after 20 s
** of asking (25 s at most: the last look for the leader has a whole call's 5 s). */
cv_rc cluster_transfer(const char *zAddrs, const char *zNode, char *zErr, size_t nErr);

#endif /* CV_CLUSTER_H */
