/*
** dqnode_fixture.h — a real dqlite node in the test process (a cluster of one, on loopback),
** for the unit tests of the cluster's client (test_dqclient.c) and remote statements
** (test_db_remote.c). Header-only: each test includes it once.
**
**   dqnode_start(zTag, zAddr, nAddr)   a node in a new /tmp directory, its address in zAddr;
**                                      NULL (and a message) when it does not start
**   dqnode_stop(p)                     stops it and removes its directory
**   free_port()                        a free loopback port (freeport.h)
*/
#ifndef CV_DQNODE_FIXTURE_H
#define CV_DQNODE_FIXTURE_H

#include <arpa/inet.h>
#include <dqlite.h>
#include "freeport.h"
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct dqnode {
  dqlite_node *pNode;
  char zDir[64];
};

static void dqnode_stop(struct dqnode *p){
  char zCmd[128];
  if( !p ) return;
  if( p->pNode ){
    dqlite_node_stop(p->pNode);
    dqlite_node_destroy(p->pNode);
  }
  snprintf(zCmd, sizeof zCmd, "rm -rf %s", p->zDir);
  if( system(zCmd)!=0 ) fprintf(stderr, "could not remove %s\n", p->zDir);
  free(p);
}

static struct dqnode *dqnode_start(const char *zTag, char *zAddr, size_t nAddr){
  struct dqnode *p = calloc(1, sizeof *p);
  int rv;
  if( !p ) return NULL;
  snprintf(p->zDir, sizeof p->zDir, "/tmp/cv-%s-XXXXXX", zTag);
  if( !mkdtemp(p->zDir) ){ perror("mkdtemp"); free(p); return NULL; }
  snprintf(zAddr, nAddr, "127.0.0.1:%d", free_port());
  rv = dqlite_node_create(1, zAddr, p->zDir, &p->pNode);
  if( rv==0 ) rv = dqlite_node_set_bind_address(p->pNode, zAddr);
  if( rv==0 ) rv = dqlite_node_start(p->pNode);
  if( rv ){
    fprintf(stderr, "dqlite node: %s\n", p->pNode ? dqlite_node_errmsg(p->pNode) : "create failed");
    dqnode_stop(p);
    return NULL;
  }
  return p;
}

#endif /* CV_DQNODE_FIXTURE_H */
