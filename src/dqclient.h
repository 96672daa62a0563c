/*
** dqclient.h — a client of dqlite's wire protocol: the cluster's only way to run SQL and to
** change its membership (dqlite keeps its own client internal; its documented protocol is
** https://canonical.com/dqlite/docs/reference/wire-protocol, message layouts in dqlite's
** src/request.h, src/response.h and src/tuple.h).
**
** One struct dq_conn is one TCP connection to one node, used by one thread at a time. Every
** call waits at most until the connection's deadline (dq_set_deadline), set by the caller
** before a call or a group of calls; past it the call fails with CV_TIMEOUT. After a
** timeout or a socket error the connection is broken: every later call fails with CV_CLOSED
** and the caller closes it and connects again (dq_connect_leader finds the new leader).
**
** Errors: CV_IO / CV_CLOSED (the socket), CV_TIMEOUT (the deadline), CV_NOMEM, CV_TOOLARGE (a
** request or a response over DQ_MSG_MAX; a request is refused before it is sent, and the
** connection stays usable), CV_INVALID (a response that does not parse, or a parameter
** dqlite cannot carry, refused before sending), CV_BUSY (SQLITE_BUSY
** from the leader), CV_DB (any other failure the node reported: dq_errcode and dq_errmsg say
** which; DQ_NOT_LEADER and DQ_LEADERSHIP_LOST mean "ask who leads now and retry").
** Addresses are numeric: "1.2.3.4:9001" or "[::1]:9001" (no name lookup, which has no deadline).
*/
#ifndef CV_DQCLIENT_H
#define CV_DQCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include "cv.h"

#define DQ_VOTER   0                       /* roles (dqlite's protocol.h) */
#define DQ_STANDBY 1
#define DQ_SPARE   2

#define DQ_NOT_LEADER       10250          /* SQLITE_IOERR | (40<<8): this node does not lead */
#define DQ_LEADERSHIP_LOST  10506          /* SQLITE_IOERR | (41<<8): it lost the lead mid-call */

#define DQ_MSG_MAX   (64u << 20)           /* the largest response body accepted */
#define DQ_ADDR_MAX  255                   /* the longest address accepted */

struct dq_conn;

/* A parameter to bind or a value read: type is SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT,
** SQLITE_BLOB or SQLITE_NULL. z is the text (NUL-terminated; no NUL inside) or the blob's
** bytes, n their length in bytes. Values read point into their struct dq_rows. */
struct dq_value {
  int type;
  int64_t i;
  double r;
  const char *z;
  size_t n;
};

/* The rows of a query: nRow × nCol values, row after row. */
struct dq_rows {
  int nCol;
  const char **azCol;                  /* the column names */
  size_t nRow;
  struct dq_value *a;                  /* a[row*nCol + col] */
  size_t nAlloc;                       /* (private) values allocated */
  struct dq_chunk *pChunk;             /* (private) the response bodies the values point into */
};
void dq_rows_free(struct dq_rows *p);  /* frees what p holds; p itself is the caller's */

/* A member of the cluster (dq_cluster). */
struct dq_node {
  uint64_t id;
  char zAddr[DQ_ADDR_MAX + 1];
  int role;                            /* DQ_VOTER, DQ_STANDBY, DQ_SPARE */
};

/* Open a connection to the node at zAddr and send the protocol handshake, waiting at most
** msTimeout. On success *pp is the connection; on failure *pp is NULL and zErr (nErr bytes)
** says why. */
cv_rc dq_connect(const char *zAddr, int msTimeout, struct dq_conn **pp, char *zErr, size_t nErr);

/* Find the leader through the comma-separated addresses zAddrs (any members), connect to it
** and confirm it leads; retries (a cluster electing has no leader for a few seconds) until
** msTimeout passed (CV_TIMEOUT), except when no address given parses (CV_INVALID at once).
** The same contract as dq_connect otherwise; the connection's deadline is left at the end of
** msTimeout. */
cv_rc dq_connect_leader(const char *zAddrs, int msTimeout, struct dq_conn **pp,
                        char *zErr, size_t nErr);

void dq_close(struct dq_conn *c);      /* c may be NULL */

/* Every later call on c must end within ms from now. */
void dq_set_deadline(struct dq_conn *c, int ms);

uint64_t dq_errcode(const struct dq_conn *c);   /* the node's last failure code, 0 when none */
const char *dq_errmsg(const struct dq_conn *c); /* its message, or what broke the connection */
const char *dq_addr(const struct dq_conn *c);   /* the address c is connected to */

/* 1 when c can no longer run SQL for its caller: the connection is broken, or the node said
** it does not lead (DQ_NOT_LEADER, DQ_LEADERSHIP_LOST, SQLITE_INTERRUPT: dqlite interrupts what
** runs when it loses the lead, plain SQLITE_IOERR: Raft failed to apply, SQLITE_NOTFOUND: the
** node dropped the connection's database when it lost the lead; an open transaction is gone);
** the
** caller connects to the leader again (dq_connect_leader). 0 otherwise. */
int dq_lost(const struct dq_conn *c);

/* Break c on purpose (zWhy its message): every later call fails with CV_CLOSED, dq_lost says 1. */
void dq_break(struct dq_conn *c, const char *zWhy);

/* Who leads, as the node c is connected to knows it: *pId 0 and zAddr "" when nobody. */
cv_rc dq_leader(struct dq_conn *c, uint64_t *pId, char zAddr[DQ_ADDR_MAX + 1]);

/* The members: *paNode (free with free()) holds *pn of them. */
cv_rc dq_cluster(struct dq_conn *c, struct dq_node **paNode, int *pn);

/* Membership, sent to the leader: add node id at zAddr (as a spare), give it role, remove it,
** hand the lead to it. */
cv_rc dq_add(struct dq_conn *c, uint64_t id, const char *zAddr);
cv_rc dq_assign(struct dq_conn *c, uint64_t id, int role);
cv_rc dq_remove(struct dq_conn *c, uint64_t id);
cv_rc dq_transfer(struct dq_conn *c, uint64_t id);

/* Open database zName on the leader c; later exec and query calls run on it. */
cv_rc dq_open(struct dq_conn *c, const char *zName);

/* Copy the node's own copy of database zName (c need not be the leader: a follower's copy
** is as of what it applied) into the file fd, streamed (the node builds the whole dump in its
** memory first); *pnBytes the bytes written. The copy is a SQLite database file in WAL mode,
** consistent (dqlite holds its checkpoints while it copies). CV_DB with dq_errcode and
** dq_errmsg when the node refused (no such database), CV_IO/CV_FULL when fd's writes failed
** (the connection is then broken: the rest of the dump is unread). */
cv_rc dq_dump(struct dq_conn *c, const char *zName, int fd, uint64_t *pnBytes);

/* Run zSql, a statement that yields no rows (dqlite refuses one that does: use dq_query),
** with nParam parameters; *pLastId and *pChanges (either may be NULL) as
** sqlite3_last_insert_rowid and sqlite3_changes. */
cv_rc dq_exec(struct dq_conn *c, const char *zSql, const struct dq_value *aParam, int nParam,
              uint64_t *pLastId, uint64_t *pChanges);

/* Run one statement zSql (a SELECT, or a write with RETURNING) and read every row into *pRows
** (freed by the caller with dq_rows_free, also after a failure). */
cv_rc dq_query(struct dq_conn *c, const char *zSql, const struct dq_value *aParam, int nParam,
               struct dq_rows *pRows);

/* The decoders of the answers (what dq_query and dq_cluster read), on a body of nBody bytes;
** exposed for the fuzz harness (tests/fuzz/fuzz_dqwire.c). dq_parse_rows adds the rows of one
** ROWS message to *p (whose values then point into p's own copy of the body) and sets *pbDone
** when it ended the answer; dq_parse_servers reads a SERVERS message (*paNode: free()).
** CV_INVALID when the body does not parse (p may hold the rows read before), CV_NOMEM. */
cv_rc dq_parse_rows(const unsigned char *aBody, size_t nBody, struct dq_rows *p, int *pbDone);
/* A FAILURE response's body: *pCode and its message into zMsg (nMsg bytes, truncated). bQuery:
** it answers a QUERY_SQL, whose failure dqlite 1.18 may write after a column header. */
void dq_parse_failure(const unsigned char *aBody, size_t nBody, int bQuery, uint64_t *pCode,
                      char *zMsg, size_t nMsg);
cv_rc dq_parse_servers(const unsigned char *aBody, size_t nBody, struct dq_node **paNode,
                       int *pn);

#endif /* CV_DQCLIENT_H */
