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

/* Count one failure of key. */
void ratelimit_fail(const char *zKey, int64_t windowMs, int64_t nowMs);

/* Forget key's failures (after a successful login). */
void ratelimit_clear(const char *zKey);

#endif
