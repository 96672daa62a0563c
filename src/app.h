/*
** app.h — the running service's shared state, handed to every handler through its
** request: the configuration, the database and the events hub. Declarations only.
*/
#ifndef CV_APP_H
#define CV_APP_H

#include "config.h"

struct cv_store;
struct cv_events;

struct cv_app {
  const struct cv_config *pCfg;   /* flags and environment, read-only after start */
  struct cv_store *pStore;        /* the database */
  struct cv_events *pEvents;      /* the events hub (events.h) while serving, else NULL */
  struct cv_cluster *pCluster;    /* serve --cluster-dir: this node (cluster.h), else NULL */
};

#endif
