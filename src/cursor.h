/*
** cursor.h — the opaque keyset cursors of the lists (X-Next-Cursor, ?cursor=), pure: no
** store, no HTTP. A cursor is base64url (no padding) of a small versioned text naming the
** list, the sort key and id of the last row sent and, for threads, the filters of the list:
**     t1|<updated_at>|<id>|<archived f/t/a><pinned -/t/f>|<tag key>     threads
**     h1|<last_updated>|<id>                                           chat history
**     m1|<updated_at>|<id>                                             threads shared with me
**     c1||<id>   s1||<id>   p1||<id>                                   characters, scenes, personas
** Clients must treat it as opaque; the format may change with its version digit.
** Decoding is strict (a parser of untrusted input, fuzzed by tests/fuzz/fuzz_cursor.c): only
** what cursor_encode writes decodes, and it encodes back to the same text.
** May call libc and util.
*/
#ifndef CV_CURSOR_H
#define CV_CURSOR_H

#include "cv.h"
#include "tags.h"
#include <stddef.h>
#include <stdint.h>

/* Which list a cursor belongs to (its first character). */
enum cv_cursor_kind {
  CV_CURSOR_THREADS = 't',
  CV_CURSOR_CHATS = 'h',
  CV_CURSOR_CHARACTERS = 'c',
  CV_CURSOR_SCENES = 's',
  CV_CURSOR_PERSONAS = 'p',
  CV_CURSOR_SHARED = 'm'           /* ?shared=true: the threads shared with the caller */
};

struct cv_cursor {
  char cKind;                      /* enum cv_cursor_kind */
  char zKey[CV_TS_LEN+1];          /* the last row's time (threads, chats); "" for id order */
  int64_t id;                      /* the last row's id (>0) */
  char cArchived;                  /* threads: 'f' false, 't' true, 'a' any; else 0 */
  char cPinned;                    /* threads: '-' no filter, 't' true, 'f' false; else 0 */
  char zTag[CV_TAG_MAX_LEN+1];     /* threads: the tag filter's key, "" none */
};

/* Bytes of the longest encoded cursor, with its NUL. */
#define CV_CURSOR_MAX_LEN 360

/* Encode *p into zOut (nOut bytes, CV_CURSOR_MAX_LEN always enough). CV_INVALID when *p is
** not a cursor cursor_decode would accept (asserted in debug builds). */
cv_rc cursor_encode(const struct cv_cursor *p, char *zOut, size_t nOut);

/* The header line "X-Next-Cursor: <cursor_encode(p)>\r\n" into zOut (nOut bytes with the
** NUL; 16 + CV_CURSOR_MAX_LEN always enough): the one way lists answer their next page.
** Returns the bytes written, 0 (zOut "") when it does not fit. */
#define CV_CURSOR_HEADER_LEN (16 + CV_CURSOR_MAX_LEN)
size_t cursor_header(const struct cv_cursor *p, char *zOut, size_t nOut);

/* Decode the text z (NUL-terminated, untrusted). CV_OK with *pOut filled, or CV_INVALID
** for anything cursor_encode did not write (bad base64url, unknown kind or version, a key
** that is not a contract time, an id that is not a canonical positive integer, a tag that
** is not valid UTF-8, trailing bytes). */
cv_rc cursor_decode(const char *z, struct cv_cursor *pOut);

#endif /* CV_CURSOR_H */
