/*
** cluster.c — see cluster.h. The node is dqlite's node API (dqlite_node_*); everything
** said to the cluster goes through dqclient.c.
*/
#include "cluster.h"
#include "dqclient.h"
#include "util.h"

#include <dqlite.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CALL_MS 5000            /* the deadline of one membership call */
#define TRANSFER_MS 20000       /* how long cluster transfer tries */
#define CHANGE_MS 15000         /* how long assign and remove wait for a change in progress */
/* The one-way latency dqlite plans with: heartbeats every 1.5x, an election after 15x without
** one (randomized up to 30x). dqlite's default, 3 s to 6 s, could not promise writes back
** within 10 s of losing the leader when a first election splits. */
#define CLUSTER_LATENCY_MS 100
/* Raft log entries a node keeps in memory, and so its resident size: a snapshot every 512
** entries, at most 4096 kept after it, fewer when they outweigh the snapshot (dqlite's
** "dynamic" trailing). dqlite's default (every 1024, 8192 kept) grew each node to 420 MB
** resident in a few minutes of the test's write load (an entry is a batch's WAL pages). */
#define CLUSTER_SNAPSHOT_EVERY 512
#define CLUSTER_SNAPSHOT_KEEP 4096

struct cv_cluster {
  dqlite_node *pNode;
  uint64_t id;
  char zAddr[DQ_ADDR_MAX + 1];
  int port;                            /* the node's port (zAddr's) */
  pthread_t watch;                     /* keepalive_main */
  int bWatch;                          /* it runs */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int bStop;                           /* under mu: keepalive_main returns */
};

/* Dead peers. A client that vanishes (its host dies, its link is cut) in the middle of a
** transaction leaves the leader holding the database's write lock until TCP notices, which
** without keepalives is never while the link is down: every other writer of the cluster got
** SQLITE_BUSY until the link came back (found by the partition test). dqlite accepts its
** connections itself (libuv) and sets no keepalive, so this thread does, every
** KEEPALIVE_SCAN_MS, on every TCP socket of this process from or to the node's port (the
** members' Raft connections too, when every member uses the same port, as docs/cluster.md
** advises: after a cut link, a Raft connection stuck in TCP's backoff delayed a healed
** member's catching up by 20 s): probes
** after 2 s of silence, every 1 s, 2 unanswered close it (and TCP_USER_TIMEOUT closes one
** whose sent data stays unacknowledged for 4 s); dqlite then rolls the transaction back.
** A live peer's kernel answers probes by itself, so idle connections live on. */
#define KEEPALIVE_SCAN_MS 500

/* The port of an IPv4 or IPv6 address, -1 for another family. */
static int sock_port(const struct sockaddr_storage *p){
  if( p->ss_family==AF_INET ) return ntohs(((const struct sockaddr_in*)p)->sin_port);
  if( p->ss_family==AF_INET6 ) return ntohs(((const struct sockaddr_in6*)p)->sin6_port);
  return -1;
}

static void keepalive_scan(int port){
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  if( !d ) return;
  while( (e = readdir(d))!=NULL ){
    struct sockaddr_storage ss;
    socklen_t n = sizeof ss;
    int fd, type = 0, on = 1, idle = 2, intvl = 1, cnt = 2;
    unsigned tmo = 4000;
    socklen_t tl = sizeof type;
    if( e->d_name[0]<'0' || e->d_name[0]>'9' ) continue;
    fd = atoi(e->d_name);
    if( fd==dirfd(d) ) continue;
    if( getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl)!=0 || type!=SOCK_STREAM ) continue;
    if( getsockname(fd, (struct sockaddr*)&ss, &n)!=0 ) continue;
    if( sock_port(&ss)!=port ){
      n = sizeof ss;
      if( getpeername(fd, (struct sockaddr*)&ss, &n)!=0 || sock_port(&ss)!=port ) continue;
    }else{
      n = sizeof ss;
      if( getpeername(fd, (struct sockaddr*)&ss, &n)!=0 ) continue;   /* the listener */
    }
    tl = sizeof type;
    if( getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &type, &tl)==0 && type ) continue;  /* done */
    /* failures are harmless: the socket keeps TCP's defaults */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &tmo, sizeof tmo);
    (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);   /* last: "done" */
  }
  closedir(d);
}

static void *keepalive_main(void *pArg){
  struct cv_cluster *p = pArg;
  pthread_mutex_lock(&p->mu);
  while( !p->bStop ){
    struct timespec ts;
    pthread_mutex_unlock(&p->mu);
    keepalive_scan(p->port);
    pthread_mutex_lock(&p->mu);
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += KEEPALIVE_SCAN_MS * 1000000L;
    if( ts.tv_nsec>=1000000000L ){ ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    if( !p->bStop ) pthread_cond_timedwait(&p->cv, &p->mu, &ts);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

uint64_t cluster_id(const struct cv_cluster *p){ return p->id; }

void cluster_role(const struct cv_cluster *p, const char **pzRole, int *pbWritable){
  struct dq_conn *c = NULL;
  char zErr[128], zLeader[DQ_ADDR_MAX + 1];
  uint64_t id = 0;
  *pzRole = "no-leader";
  *pbWritable = 0;
  if( dq_connect(p->zAddr, 1000, &c, zErr, sizeof zErr)==CV_OK
   && dq_leader(c, &id, zLeader)==CV_OK && id!=0 ){
    *pzRole = id==p->id ? "leader" : "follower";
    *pbWritable = 1;
  }
  dq_close(c);
}

/* The roles by their codes (DQ_VOTER 0, DQ_STANDBY 1, DQ_SPARE 2). */
static const char *const azRole[] = { "voter", "standby", "spare" };

static const char *role_name(int r){
  return r>=0 && r<3 ? azRole[r] : "unknown";
}

static int64_t mono_ms(void){ return util_mono_us()/1000; }

#ifdef CV_TEST_HOOKS
/* Test builds only (the ASan build: -DCV_TEST_HOOKS): CV_TEST_MEMBERSHIP=busy in the
** environment makes every membership change answer as a leader does while another change is
** not committed yet, so the retry's end can be tested; CV_TEST_MEMBERSHIP=stuck makes every
** hand-over of the lead (remove's and transfer's) do nothing, as when no voter can take it
** (tests/cluster/test_membership.py). A cluster cannot be made to hold either state. */
static int test_membership(const char *zState){
  const char *z = getenv("CV_TEST_MEMBERSHIP");
  return z && strcmp(z, zState)==0;
}
#else
# define test_membership(z) 0
#endif

/* Ask the leader c to give the member id the role (0 voter, 1 standby, 2 spare), or, with
** role -1, to remove it. On failure zErr says which change and why. */
static cv_rc change_member(struct dq_conn *c, uint64_t id, int role, char *zErr, size_t nErr){
  const char *zOp = role<0 ? "remove" : "assign";
  cv_rc rc;
  if( test_membership("busy") ){
    snprintf(zErr, nErr, "%s: a configuration change is already in progress (test hook)", zOp);
    return CV_BUSY;
  }
  rc = role<0 ? dq_remove(c, id) : dq_assign(c, id, role);
  if( rc ) snprintf(zErr, nErr, "%s: %s", zOp, dq_errmsg(c));
  return rc;
}

/* Whether a membership change that returned rc should be asked again, after a pause: the
** leader refuses one (SQLITE_BUSY, raft's "a configuration change is already in progress")
** until the previous one is committed -- a node just added or promoted, a leader just elected
** (its first entry not committed yet) -- so it is asked again every 100 ms until end. */
static int change_again(cv_rc rc, int64_t end){
  if( rc!=CV_BUSY || mono_ms() + 100 >= end ) return 0;
  usleep(100*1000);
  return 1;
}

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
  p->port = atoi(strrchr(zAddr, ':') ? strrchr(zAddr, ':') + 1 : "0");
  if( dqlite_node_create(id, zAddr, zDir, &p->pNode)!=0
   || dqlite_node_set_bind_address(p->pNode, zAddr)!=0
   || dqlite_node_set_network_latency_ms(p->pNode, CLUSTER_LATENCY_MS)!=0
   || dqlite_node_set_snapshot_params_v2(p->pNode, CLUSTER_SNAPSHOT_EVERY, CLUSTER_SNAPSHOT_KEEP,
                                         DQLITE_SNAPSHOT_TRAILING_DYNAMIC)!=0
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
  pthread_mutex_init(&p->mu, NULL);   /* (here: the failures above free p without them) */
  pthread_cond_init(&p->cv, NULL);
  p->bWatch = pthread_create(&p->watch, NULL, keepalive_main, p)==0;
  *pp = p;
  return CV_OK;
}

void cluster_stop(struct cv_cluster *p){
  if( !p ) return;
  if( p->bWatch ){
    pthread_mutex_lock(&p->mu);
    p->bStop = 1;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->watch, NULL);
  }
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
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

/* Connect to the leader of zAddrs (*pc: NULL when none answers) and find the member at zNode
** (*pm) among its members. */
static cv_rc leader_and_member(const char *zAddrs, const char *zNode, struct dq_conn **pc,
                               struct dq_node *pm, char *zErr, size_t nErr){
  cv_rc rc = dq_connect_leader(zAddrs, CALL_MS, pc, zErr, nErr);
  return rc ? rc : find_member(*pc, 0, zNode, pm, zErr, nErr);
}

cv_rc cluster_assign(const char *zAddrs, const char *zNode, const char *zRole,
                     char *zErr, size_t nErr){
  int64_t end = mono_ms() + CHANGE_MS;
  int role = 0;
  while( role<3 && strcmp(zRole, azRole[role])!=0 ) role++;
  if( role==3 ){
    snprintf(zErr, nErr, "role %s: voter, standby or spare", zRole);
    return CV_INVALID;
  }
  for(;;){
    struct dq_conn *c = NULL;
    struct dq_node m;
    cv_rc rc = leader_and_member(zAddrs, zNode, &c, &m, zErr, nErr);
    if( !c ) return rc;
    if( rc==CV_OK && m.role!=role ) rc = change_member(c, m.id, role, zErr, nErr);
    dq_close(c);
    if( !change_again(rc, end) ) return rc;
  }
}

cv_rc cluster_transfer(const char *zAddrs, const char *zNode, char *zErr, size_t nErr){
  int64_t end = mono_ms() + TRANSFER_MS;
  cv_rc rc;
  /* ask the leader (whoever it is now) to hand over to zNode, until zNode leads: a transfer
  ** fails while zNode's log lags behind, or when an election intervenes */
  for(;;){
    struct dq_conn *c = NULL;
    struct dq_node m;
    int64_t left = end - mono_ms();
    if( left<=0 ){
      snprintf(zErr, nErr, "%s does not lead after %d ms", zNode, TRANSFER_MS);
      return CV_BUSY;
    }
    rc = dq_connect_leader(zAddrs, CALL_MS, &c, zErr, nErr);   /* a whole call's, as hand_over */
    if( rc ) return rc;
    rc = find_member(c, 0, zNode, &m, zErr, nErr);
    if( rc==CV_OK && m.role!=DQ_VOTER ){
      snprintf(zErr, nErr, "%s is a %s: only a voter can lead", zNode, role_name(m.role));
      rc = CV_INVALID;
    }
    if( rc ){
      dq_close(c);
      return rc;
    }
    if( strcmp(dq_addr(c), zNode)==0 ){
      dq_close(c);
      return CV_OK;
    }
    if( !test_membership("stuck") && dq_transfer(c, m.id) ){
      snprintf(zErr, nErr, "transfer: %s", dq_errmsg(c));
    }
    dq_close(c);
    usleep(200*1000);
  }
}

/* *pc, a connection to zNode, the leader, hands the lead over (dqlite picks a voter); then
** *pc is closed and becomes a connection to the new leader (NULL on failure, zErr saying
** why), waiting up to CALL_MS for one that is not zNode. */
static cv_rc hand_over(const char *zAddrs, const char *zNode, struct dq_conn **pc,
                       char *zErr, size_t nErr){
  cv_rc rc = test_membership("stuck") ? CV_OK : dq_transfer(*pc, 0);
  dq_close(*pc);
  *pc = NULL;
  if( rc ){
    snprintf(zErr, nErr, "handing over the lead of %s failed", zNode);
    return rc;
  }
  /* each look for the leader has a call's whole deadline: given only what was left of the
  ** wait, the last one could fail as "deadline passed" instead of saying zNode still leads */
  for(int64_t stop = mono_ms() + CALL_MS; mono_ms() < stop; usleep(100*1000)){
    rc = dq_connect_leader(zAddrs, CALL_MS, pc, zErr, nErr);
    if( rc ) return rc;
    if( strcmp(dq_addr(*pc), zNode)!=0 ) return CV_OK;
    dq_close(*pc);
    *pc = NULL;
  }
  snprintf(zErr, nErr, "%s still leads", zNode);
  return CV_BUSY;
}

cv_rc cluster_remove(const char *zAddrs, const char *zNode, char *zErr, size_t nErr){
  int64_t end = mono_ms() + CHANGE_MS;
  for(;;){
    struct dq_conn *c = NULL;
    struct dq_node m;
    cv_rc rc = leader_and_member(zAddrs, zNode, &c, &m, zErr, nErr);
    if( !c ) return rc;
    if( rc==CV_OK && strcmp(zNode, dq_addr(c))==0 ){
      /* the leader cannot remove itself: ask the new one */
      rc = hand_over(zAddrs, zNode, &c, zErr, nErr);
      if( rc ) return rc;
    }
    if( rc==CV_OK ) rc = change_member(c, m.id, -1, zErr, nErr);
    dq_close(c);
    if( !change_again(rc, end) ) return rc;
  }
}
