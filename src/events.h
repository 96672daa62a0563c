/*
** events.h — the events hub: wakes the open event streams (GET /api/v1/events) of the users
** whose data changed. It never carries the change records themselves: each stream reads
** them from the change log (store_changes.h) after its own cursor, so a stream sees exactly
** what `changes` replays, with no gap and no duplicate, however it was woken.
**
** One hub thread. While a stream is open, the store's writer tells the hub of every commit
** (store_on_commit); the hub then reads the users of the log's new records (one range read
** of the log's primary key) and wakes those users' streams. It also looks at the log every
** EVENTS_POLL_MS, so changes committed by another process on the same file (a CLI import
** while serving) arrive too. With no stream open it does nothing (no read per commit); the
** first stream to open makes it follow the log again from the head that stream read.
** (The log's old tombstones are purged by `serve`'s periodic purge, server.c.)
** A stream waits on its own condition variable: an idle stream holds a blocked thread and
** no CPU time. Memory: one struct cv_sub per stream (on the stream's stack).
** May call the store interface, libc and pthreads.
*/
#ifndef CV_EVENTS_H
#define CV_EVENTS_H

#include "cv.h"
#include <pthread.h>
#include <stdint.h>

struct cv_store;
struct cv_events;

#define EVENTS_PER_USER    16     /* open streams of one user (tabs and devices), at most */
#define EVENTS_POLL_MS     250    /* a look at the log for other processes' commits */

/* One open stream's place in the hub. The hub's; the stream only holds it. */
struct cv_sub {
  int64_t userId;
  pthread_cond_t cv;             /* signalled by the hub: bWake or the hub's stop */
  int bWake;                     /* the user's data changed, or a kick: look again */
  int bKick;                     /* a kick: check the token again */
  int bEvicted;                  /* a newer stream of the user took its place: end */
  struct cv_sub *pNext, *pPrev;  /* the hub's list of userId's bucket */
};

/* Start the hub on pS with room for nMaxStreams streams in all (>= 1), and register its
** commit hook. On CV_OK *ppEv is the hub (events_free). */
cv_rc events_start(struct cv_store *pS, int nMaxStreams, struct cv_events **ppEv);

/* Stop: every stream's wait returns "stopping" from now on, and the hub thread ends. Call
** before the HTTP server waits for its workers. NULL is ok. */
void events_stop(struct cv_events *pEv);

/* Stop (if not yet), unregister the hook and free. Call after every stream ended. NULL ok. */
void events_free(struct cv_events *pEv);

/* Register pSub as a stream of userId, which read the log's head as head (store_changes_bounds)
** before it came: an idle hub follows the log again from there. When userId already has EVENTS_PER_USER streams, the
** oldest of them is evicted (its wait returns 3) and pSub takes its place: a client that
** went away unseen (a reloaded page: the server notices only at its next write) never
** locks its user out, and one user still holds at most EVENTS_PER_USER live streams.
** CV_BUSY: the hub holds nMaxStreams; CV_CLOSED: the hub is stopping. */
cv_rc events_subscribe(struct cv_events *pEv, struct cv_sub *pSub, int64_t userId,
                       int64_t head);

/* Unregister pSub (registered). */
void events_unsubscribe(struct cv_events *pEv, struct cv_sub *pSub);

/* Clear pSub's wake flag: call before reading the log, so a change committed while reading
** wakes the next events_wait. */
void events_arm(struct cv_events *pEv, struct cv_sub *pSub);

/* Wait until pSub is woken (a change of its user after events_arm, a kick) or until the
** monotonic time untilUs (util_mono_us). Returns 3 when evicted (events_subscribe), 2 when
** kicked (events_kick_user), 1 when woken by a change, 0 at the deadline, -1 when the hub is
** stopping. On 3 and -1 the stream should end. */
int events_wait(struct cv_events *pEv, struct cv_sub *pSub, int64_t untilUs);

/* Wake every stream of userId now (its tokens were revoked, the account deleted): each
** checks its token again. */
void events_kick_user(struct cv_events *pEv, int64_t userId);

/* Open streams now (the unit tests read it). */
int events_count(struct cv_events *pEv);

#endif /* CV_EVENTS_H */
