/*
** store_openai.h — what the OpenAI-compatible recording endpoint (openai_rec.c) stores beside
** a thread: its fingerprint (schema version 9, thread_fingerprints), and the write that
** appends a turn's messages to a thread (or creates it) and sets the fingerprint in one
** transaction. The fingerprint is computed above (openai_rec.c, libsodium); the store only
** keeps and compares its 32 bytes. Operations of the store interface (store.h); the SQLite
** backend's are sqlite_openai_* in store_openai.c.
*/
#ifndef CV_STORE_OPENAI_H
#define CV_STORE_OPENAI_H

#include "cv.h"
#include <stddef.h>
#include <stdint.h>

struct cv_store;

#define CV_FP_LEN 32             /* bytes of a fingerprint */

/* The thread of userId whose stored messages have fingerprint aFpPrefix (a request's messages
** but its last) or, only when that thread's last turn failed upstream (retry), aFpAll (all of
** the request's messages): the latter is preferred. Ties: the newest thread. *pThreadId gets
** 0 when none matches; *pnMessages the matched thread's message count. */
cv_rc store_openai_match(struct cv_store *pS, int64_t userId,
                         const unsigned char aFpPrefix[CV_FP_LEN],
                         const unsigned char aFpAll[CV_FP_LEN],
                         int64_t *pThreadId, int64_t *pnMessages);

/* One write of the endpoint: append azMsg[0..nMsg) (JSON texts of validated, normalized
** message objects, anLen[i] bytes each; nMsg >= 1) to thread threadId of userId, or create a
** thread holding them when threadId is 0 (automatic title from its first user message), then
** set the thread's fingerprint to aFp (covering every message it then holds), all in one
** transaction. nExpect: the message count the caller matched; when the thread holds another
** count, CV_CONFLICT and nothing changes, unless bForce: then the messages are appended all
** the same and the thread is left without a fingerprint (it no longer matches anything).
** OUT: idOut (the thread), nAfter (its message count after), bFpSet.
** Errors: CV_NOTFOUND (no such thread of userId), CV_QUOTA (a size cap), database codes. */
struct cv_openai_write {
  int64_t userId;
  int64_t threadId;              /* 0: a new thread */
  int64_t nExpect;               /* existing thread: the count the caller saw */
  const char *const *azMsg;
  const size_t *anLen;
  int nMsg;
  const unsigned char *aFp;      /* CV_FP_LEN bytes */
  int bForce;
  int64_t idOut;                 /* OUT */
  int64_t nAfter;                /* OUT */
  int bFpSet;                    /* OUT */
};
cv_rc store_openai_record(struct cv_store *pS, struct cv_openai_write *p);

/* The upstream call of a turn failed after its messages were stored: mark thread threadId's
** fingerprint (when it is still aFp) for retry, so the same request sent again matches it. */
cv_rc store_openai_mark_retry(struct cv_store *pS, int64_t userId, int64_t threadId,
                              const unsigned char aFp[CV_FP_LEN]);

#endif /* CV_STORE_OPENAI_H */
