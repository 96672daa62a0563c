/*
** cv.h — what every layer of chatvault shares: the result code enum, its names, and the
** limits of the contract. Plain declarations; calls nothing.
**
** Style: fallible functions return `cv_rc` and hand results back through OUT parameters
** (SQLite, curl). Codes are only ever appended, never renumbered or removed.
*/
#ifndef CV_H
#define CV_H

#include <stddef.h>
#include <stdint.h>

enum cv_rc {
  CV_OK = 0,          /*  0: success */
  CV_NOMEM,           /*  1: out of memory */
  CV_NOTFOUND,        /*  2: no such resource */
  CV_FORBIDDEN,       /*  3: exists, belongs to another user */
  CV_CONFLICT,        /*  4: unique key taken (email, chat_id) */
  CV_INVALID,         /*  5: input failed validation */
  CV_TOOLARGE,        /*  6: over a size limit */
  CV_BUSY,            /*  7: database locked longer than the busy timeout */
  CV_DB,              /*  8: any other database error */
  CV_UPSTREAM,        /*  9: the LLM server failed */
  CV_TIMEOUT,         /* 10: a deadline passed */
  CV_FULL,            /* 11: disk full */
  CV_UNAUTHORIZED,    /* 12: missing/bad/expired credentials */
  CV_IO,              /* 13: file or socket I/O error */
  CV_RATELIMITED,     /* 14: too many attempts */
  CV_CLOSED,          /* 15: the peer went away */
  CV_QUOTA            /* 16: a conversation or an account would pass its size cap */
};
typedef enum cv_rc cv_rc;

/* Name of a result code, for logs and messages. Never NULL. */
const char *cv_rc_str(cv_rc rc);

/* Contract limits (lengths in Unicode characters). */
#define CV_TITLE_MAX_CHARS      255
#define CV_EMAIL_MAX_CHARS      254
#define CV_PASSWORD_MIN_CHARS   8
#define CV_PASSWORD_MAX_CHARS   1024
#define CV_NAME_MAX_CHARS       100
#define CV_DISPLAY_NAME_MAX_CHARS 100
#define CV_DEFAULT_TITLE        "New chat"
#define CV_AUTO_TITLE_CHARS     60
#define CV_LIST_MAX             200
#define CV_JSON_MAX_DEPTH       64
#define CV_TS_LEN               24  /* strlen("2026-11-21T10:00:00.123Z") */
#define CV_UUID_LEN             36  /* strlen("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx") */
#define CV_DESCRIPTION_MAX_CHARS 20000
#define CV_GREETING_MAX_CHARS   10000
#define CV_PICTURE_MAX_CHARS    262144  /* a URL or a small inline data: URL */
#define CV_MESSAGE_MAX_CHARS    100000  /* one /api/chat or /complete message */
#define CV_HISTORY_PAGE_MAX     100     /* GET /api/chat-history?limit= */
#define CV_RECOMMENDED_MAX      50      /* GET /api/characters/recommended?limit= */
#define CV_MESSAGES_PAGE_MAX    500     /* GET /api/v1/chat-threads/{id}/messages?limit= */

#endif /* CV_H */
