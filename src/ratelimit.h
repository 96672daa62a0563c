/*
** ratelimit.h — in-memory throttling of the two requests that cost an Argon2id hash: login
** (per account, per client address, per account-and-address pair, with reservations taken
** before the hash) and registration (per client address). Thread-safe; bounded memory.
** The design, and why an attacker cannot use it to lock out the owner of an account, is in
** the header of ratelimit.c. May call libsodium and pthreads.
*/
#ifndef CV_RATELIMIT_H
#define CV_RATELIMIT_H

#include <stdint.h>

#define RL_WINDOW_MS (15*60*1000)  /* counts are forgotten after this long without one */
#define RL_PAIR_FREE 10            /* failures of one email from one address, then 429 */
#define RL_EMAIL_FREE 20           /* failures of one email from anywhere, then growing delays */
#define RL_ADDR_FREE 100           /* failures from one address, then growing delays */
#define RL_SIGNUP_FREE 100         /* registrations from one address, then growing delays */

/* The reservation of one login attempt, from ratelimit_login_begin to ratelimit_login_end.
** Opaque to callers. */
struct rl_login {
  uint64_t hPair, hEmail, hAddr;   /* keyed hashes of the three keys */
  int bActive;                     /* 1 between begin (allowed) and end */
};

/* Decide whether a login for zEmail (lower-cased by the caller) from zAddr (the client
** address as a throttling key, see netaddr_throttle_key) may be verified now, and if so
** reserve it on every key in the same critical section, so concurrent attempts cannot all
** pass before any is counted. Returns 0 when allowed (*pT reserved: end it with exactly one
** ratelimit_login_end); otherwise the seconds to wait (>= 1), *pT inactive. */
int ratelimit_login_begin(const char *zEmail, const char *zAddr, int64_t nowMs,
                          struct rl_login *pT);

/* End the reservation *pT: a failure counts on the three keys; a success clears the pair and
** remembers it as known-good (it then passes the email and address delays). No-op when *pT is
** inactive. */
void ratelimit_login_end(struct rl_login *pT, int bSuccess, int64_t nowMs);

/* End the reservation *pT without counting anything (the attempt was not verified: a
** database error). No-op when *pT is inactive. */
void ratelimit_login_cancel(struct rl_login *pT);

/* Count one registration attempt from zAddr. 0 when allowed (and counted), otherwise the
** seconds to wait (>= 1). */
int ratelimit_signup(const char *zAddr, int64_t nowMs);

/* Table occupancy at nowMs, for tests of the bound: slots in use, slots that may not be
** evicted (in flight, or still restricting their key), and the table's size. */
void ratelimit_stats(int64_t nowMs, int *pnUsed, int *pnProtected, int *pnSlots);

/* Forget everything (tests). */
void ratelimit_reset(void);

#endif
