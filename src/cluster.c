/*
** cluster.c — see cluster.h. The node is dqlite's node API (dqlite_node_*); everything
** said to the cluster goes through dqclient.c.
*/
#include "cluster.h"
#include "dqclient.h"
#include "util.h"

#include <dqlite.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CALL_MS 5000            /* the deadline of one membership call */
/* The one-way latency dqlite plans with: heartbeats every 1.5x, an election after 15x without
** one (randomized up to 30x). dqlite's default, 3 s to 6 s, could not promise writes back
** within 10 s of losing the leader when a first election splits. */
#define CLUSTER_LATENCY_MS 100

struct cv_cluster {
  dqlite_node *pNode;
  uint64_t id;
  char zAddr[DQ_ADDR_MAX + 1];
};

uint64_t cluster_id(const struct cv_cluster *p){ return p->id; }

/* The roles by their codes (DQ_VOTER 0, DQ_STANDBY 1, DQ_SPARE 2). */
static const char *const azRole[] = { "voter", "standby", "spare" };

static const char *role_name(int r){
  return r>=0 && r<3 ? azRole[r] : "unknown";
}

static int64_t mono_ms(void){ return util_mono_us()/1000; }

/* The members as the leader c knows them (*pa: free()). */
static cv_rc members(struct dq_conn *c, struct dq_node **pa, int *pn, char *zErr, size_t nErr){
  cv_rc rc = dq_cluster(c, pa, pn);
  if( rc ) snprintf(zErr, nErr, "members: %s", dq_errmsg(c));
  return rc;
}

/* The member of id (when id is not 0) or else at zNode, among the leader's members. */
static cv_rc find_member(struct dq_conn *c, uint64_t id, const char *zNode, struct dq_node *pOut,
                         char *zErr, size_t nErr){
  struct dq_node *a;
  int n, i;
  cv_rc rc = members(c, &a, &n, zErr, nErr);
  if( rc ) return rc;
  for(i=0; i<n && (id ? a[i].id!=id : strcmp(a[i].zAddr, zNode)!=0); i++){}
  if( i<n ) *pOut = a[i];
  free(a);
  if( i==n ){
    snprintf(zErr, nErr, "%s is not a member", zNode);
    return CV_NOTFOUND;
  }
  return CV_OK;
}

/* DIR/cluster-node: "ID ADDRESS STATE\n", STATE "joining" until a new node is a voter, then
** "member". Written before the node first starts, so a restart knows its identity. */
static cv_rc identity_write(const char *zDir, uint64_t id, const char *zAddr, const char *zState,
                            char *zErr, size_t nErr){
  char zPath[4096], zTmp[4100];
  FILE *f;
  int bad;
  snprintf(zPath, sizeof zPath, "%s/cluster-node", zDir);
  snprintf(zTmp, sizeof zTmp, "%s.tmp", zPath);
  f = fopen(zTmp, "w");
  if( !f ){
    snprintf(zErr, nErr, "%s: %s", zTmp, strerror(errno));
    return CV_IO;
  }
  bad = fprintf(f, "%llu %s %s\n", (unsigned long long)id, zAddr, zState)<0;
  bad |= fflush(f)!=0 || fsync(fileno(f))!=0;
  bad |= fclose(f)!=0;
  if( bad || rename(zTmp, zPath)!=0 ){
    snprintf(zErr, nErr, "%s: %s", zPath, strerror(errno));
    remove(zTmp);
    return CV_IO;
  }
  return CV_OK;
}

/* Read DIR/cluster-node: CV_NOTFOUND when there is none (a new node). */
static cv_rc identity_read(const char *zDir, uint64_t *pId, char *zAddr, char *zState,
                           char *zErr, size_t nErr){
  char zPath[4096], zFmt[64];
  unsigned long long id;
  FILE *f;
  int n;
  snprintf(zPath, sizeof zPath, "%s/cluster-node", zDir);
  f = fopen(zPath, "r");
  if( !f ){
    if( errno==ENOENT ) return CV_NOTFOUND;
    snprintf(zErr, nErr, "%s: %s", zPath, strerror(errno));
    return CV_IO;
  }
  snprintf(zFmt, sizeof zFmt, "%%llu %%%ds %%15s", DQ_ADDR_MAX);
  n = fscanf(f, zFmt, &id, zAddr, zState);
  fclose(f);
  if( n!=3 || id==0 || (strcmp(zState, "joining")!=0 && strcmp(zState, "member")!=0) ){
    snprintf(zErr, nErr, "%s: not a cluster node's identity (ID ADDRESS STATE)", zPath);
    return CV_INVALID;
  }
  *pId = id;
  return CV_OK;
}

/* Join: the leader found through zJoin adds the node (when it is not a member yet) and makes
** it a voter, retrying until msTimeout passed. */
static cv_rc join(const char *zJoin, uint64_t id, const char *zAddr, int msTimeout,
                  char *zErr, size_t nErr){
  int64_t end = mono_ms() + msTimeout;
  for(;;){
    struct dq_conn *c = NULL;
    struct dq_node m;
    cv_rc rc = dq_connect_leader(zJoin, (int)(end - mono_ms()), &c, zErr, nErr);
    if( rc==CV_OK ){
      dq_set_deadline(c, CALL_MS);
      rc = find_member(c, id, zAddr, &m, zErr, nErr);
      if( rc==CV_NOTFOUND ){
        m.role = -1;
        rc = dq_add(c, id, zAddr);
      }
      if( rc==CV_OK && m.role!=DQ_VOTER ) rc = dq_assign(c, id, DQ_VOTER);
      if( rc && dq_errmsg(c)[0] ) snprintf(zErr, nErr, "%s", dq_errmsg(c));
      dq_close(c);
      if( rc==CV_OK ) return CV_OK;
    }
    if( rc==CV_INVALID || mono_ms() + 200 >= end ) return rc;
    usleep(200*1000);
  }
}

cv_rc cluster_start(const char *zDir, const char *zAddr, const char *zJoin,
                    struct cv_cluster **pp, char *zErr, size_t nErr){
  struct cv_cluster *p;
  char zHave[DQ_ADDR_MAX + 1], zState[16];
  uint64_t id = 0;
  int bJoin = zJoin && *zJoin;
  cv_rc rc;
  *pp = NULL;
  if( mkdir(zDir, 0700)!=0 && errno!=EEXIST ){
    snprintf(zErr, nErr, "cluster directory %s: %s", zDir, strerror(errno));
    return CV_IO;
  }
  if( strlen(zAddr)>DQ_ADDR_MAX ){
    snprintf(zErr, nErr, "--cluster-addr too long");
    return CV_INVALID;
  }
  rc = identity_read(zDir, &id, zHave, zState, zErr, nErr);
  if( rc==CV_NOTFOUND ){
    /* a new node: the one without --join bootstraps (dqlite bootstraps the node of id 1, a
    ** cluster of itself); a joiner takes a random id */
    id = bJoin ? dqlite_generate_node_id(zAddr) : 1;
    strcpy(zState, bJoin ? "joining" : "member");
    rc = identity_write(zDir, id, zAddr, zState, zErr, nErr);
  }else if( rc==CV_OK && strcmp(zHave, zAddr)!=0 ){
    snprintf(zErr, nErr, "the node in %s is at %s, not %s (the address is part of the"
             " cluster's membership: remove the node and join anew to move it)", zDir, zHave, zAddr);
    rc = CV_INVALID;
  }else if( rc==CV_OK && strcmp(zState, "joining")==0 && !bJoin ){
    snprintf(zErr, nErr, "the node in %s has not finished joining: start it with --join", zDir);
    rc = CV_INVALID;
  }
  if( rc ) return rc;
  p = calloc(1, sizeof *p);
  if( !p ) return CV_NOMEM;
  p->id = id;
  strcpy(p->zAddr, zAddr);
  if( dqlite_node_create(id, zAddr, zDir, &p->pNode)!=0
   || dqlite_node_set_bind_address(p->pNode, zAddr)!=0
   || dqlite_node_set_network_latency_ms(p->pNode, CLUSTER_LATENCY_MS)!=0
   || dqlite_node_start(p->pNode)!=0 ){
    snprintf(zErr, nErr, "the cluster node did not start: %s",
             p->pNode ? dqlite_node_errmsg(p->pNode) : "out of memory");
    dqlite_node_destroy(p->pNode);
    free(p);
    return CV_IO;
  }
  if( strcmp(zState, "joining")==0 ){
    rc = join(zJoin, id, zAddr, CLUSTER_JOIN_MS, zErr, nErr);
    if( rc==CV_OK ) rc = identity_write(zDir, id, zAddr, "member", zErr, nErr);
    if( rc ){
      char zWhy[200];
      snprintf(zWhy, sizeof zWhy, "%s", zErr);
      snprintf(zErr, nErr, "could not join %s: %s", zJoin, zWhy);
      dqlite_node_stop(p->pNode);
      dqlite_node_destroy(p->pNode);
      free(p);
      return rc;
    }
  }
  *pp = p;
  return CV_OK;
}

void cluster_stop(struct cv_cluster *p){
  if( !p ) return;
  dqlite_node_handover(p->pNode);
  dqlite_node_stop(p->pNode);
  dqlite_node_destroy(p->pNode);
  free(p);
}

cv_rc cluster_status(const char *zAddrs, FILE *pOut, char *zErr, size_t nErr){
  struct dq_conn *c = NULL;
  struct dq_node *a;
  int n, i;
  cv_rc rc = dq_connect_leader(zAddrs, CALL_MS, &c, zErr, nErr);
  if( rc==CV_OK ) rc = members(c, &a, &n, zErr, nErr);
  if( rc ){
    dq_close(c);
    return rc;
  }
  for(i=0; i<n; i++){
    fprintf(pOut, "%llu %s %s%s\n", (unsigned long long)a[i].id, a[i].zAddr,
            role_name(a[i].role), strcmp(a[i].zAddr, dq_addr(c))==0 ? " leader" : "");
  }
  free(a);
  dq_close(c);
  return CV_OK;
}

cv_rc cluster_assign(const char *zAddrs, const char *zNode, const char *zRole,
                     char *zErr, size_t nErr){
  struct dq_conn *c = NULL;
  struct dq_node m;
  int role = 0;
  cv_rc rc;
  while( role<3 && strcmp(zRole, azRole[role])!=0 ) role++;
  if( role==3 ){
    snprintf(zErr, nErr, "role %s: voter, standby or spare", zRole);
    return CV_INVALID;
  }
  rc = dq_connect_leader(zAddrs, CALL_MS, &c, zErr, nErr);
  if( rc ) return rc;
  rc = find_member(c, 0, zNode, &m, zErr, nErr);
  if( rc==CV_OK && m.role!=role ){
    rc = dq_assign(c, m.id, role);
    if( rc ) snprintf(zErr, nErr, "assign: %s", dq_errmsg(c));
  }
  dq_close(c);
  return rc;
}

cv_rc cluster_remove(const char *zAddrs, const char *zNode, char *zErr, size_t nErr){
  struct dq_conn *c = NULL;
  struct dq_node m;
  cv_rc rc = dq_connect_leader(zAddrs, CALL_MS, &c, zErr, nErr);
  if( rc ) return rc;
  rc = find_member(c, 0, zNode, &m, zErr, nErr);
  if( rc==CV_OK && strcmp(zNode, dq_addr(c))==0 ){
    /* the leader cannot remove itself: hand the lead over (dqlite picks a voter), then
    ** ask the new leader */
    rc = dq_transfer(c, 0);
    dq_close(c);
    c = NULL;
    if( rc ){
      snprintf(zErr, nErr, "handing over the lead of %s failed", zNode);
      return rc;
    }
    for(int64_t end = mono_ms() + CALL_MS; mono_ms() < end; usleep(100*1000)){
      rc = dq_connect_leader(zAddrs, (int)(end - mono_ms()), &c, zErr, nErr);
      if( rc ) return rc;
      if( strcmp(dq_addr(c), zNode)!=0 ) break;
      dq_close(c);
      c = NULL;
    }
    if( !c ){
      snprintf(zErr, nErr, "%s still leads", zNode);
      return CV_BUSY;
    }
  }
  if( rc==CV_OK ){
    rc = dq_remove(c, m.id);
    if( rc ) snprintf(zErr, nErr, "remove: %s", dq_errmsg(c));
  }
  dq_close(c);
  return rc;
}
