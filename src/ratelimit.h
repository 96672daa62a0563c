/*
** ratelimit.h — in-memory counters of failed attempts per key (an email, a client
** address), in fixed windows, for login throttling. Thread-safe; bounded memory.
*/
#ifndef CV_RATELIMIT_H
#define CV_RATELIMIT_H

#include <stdint.h>

/* Seconds until key may try again (0: allowed now), given at most maxFails failures in a
** window of windowMs. */
int ratelimit_wait_s(const char *zKey, int maxFails, int64_t windowMs, int64_t nowMs);

/* Check and reserve in one step (under the table's lock): when key has fewer than maxFails
** failures plus attempts in flight in its window, count one attempt in flight and return 0;
** otherwise return the seconds until key may try again (>= 1). A reservation must be ended
** by exactly one ratelimit_settle(), whatever the outcome, so that concurrent attempts cannot
** all pass the check before any of them is counted. */
int ratelimit_reserve(const char *zKey, int maxFails, int64_t windowMs, int64_t nowMs);

/* End a reservation of key: counted as a failure when bFail. */
void ratelimit_settle(const char *zKey, int bFail, int64_t windowMs, int64_t nowMs);

/* Count one failure of key. */
void ratelimit_fail(const char *zKey, int64_t windowMs, int64_t nowMs);

/* Forget key's failures (after a successful login). */
void ratelimit_clear(const char *zKey);

#endif
