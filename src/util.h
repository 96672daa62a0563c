/*
** util.h — small pure helpers: clocks and ISO-8601 times, UTF-8 checks and counting,
** UUIDs, base64url, automatic titles and a bounded growable buffer.
** May call libc and libsodium (random bytes) only.
*/
#ifndef CV_UTIL_H
#define CV_UTIL_H

#include "cv.h"
#include <stddef.h>
#include <stdint.h>

/* Wall clock in unix milliseconds / monotonic clock in microseconds. */
int64_t util_now_ms(void);
int64_t util_mono_us(void);

/* Format unix ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into zOut (at least CV_TS_LEN+1 bytes). */
void util_iso_format(int64_t ms, char *zOut);

/* Parse an ISO 8601 time: "YYYY-MM-DD[T ]HH:MM[:SS[.fraction]]" followed by nothing
** (taken as UTC), "Z", or an offset "+HH:MM"/"-HHMM"/"+HH"; or a date alone.
** Returns CV_OK with *pMs set, or CV_INVALID. */
cv_rc util_iso_parse(const char *z, int64_t *pMs);

/* The instants the contract's format can write: 0000-01-01T00:00:00.000Z through
** 9999-12-31T23:59:59.999Z. util_iso_parse refuses times outside (an offset can push
** "9999-12-31T23:59-01:00" into year 10000, which util_iso_format would write as 0000). */
#define UTIL_ISO_MIN_MS (-62167219200000LL)
#define UTIL_ISO_MAX_MS 253402300799999LL

/* How far in the future an imported time may be (clock skew between the machines). Later
** ones are refused: a chat dated 9999 would otherwise make every later write of its user
** "newest + 1 ms" and pin their times at the end of the representable range. */
#define UTIL_FUTURE_SKEW_MS (5*60*1000LL)

/* 1 when z[0..n) is valid UTF-8 with no NUL byte, no overlongs and no surrogates. */
int util_utf8_valid(const char *z, size_t n);

/* Number of Unicode code points in valid UTF-8 z (NUL-terminated). */
size_t util_utf8_chars(const char *z);

/* Byte length of the first nChars code points of valid UTF-8 z. */
size_t util_utf8_prefix_len(const char *z, size_t nChars);

/* Fill a (n bytes) with random bytes (libsodium's generator: never fails). */
void util_random(void *a, size_t n);

/* Write a random (version 4) UUID, lower case, into zOut (37 bytes). */
void util_uuid4(char *zOut);

/* 1 when z is a UUID in 8-4-4-4-12 hex form (either case). */
int util_uuid_valid(const char *z);

/* base64url without padding of a[0..n) into zOut (4*ceil(n/3)+1 bytes). */
void util_base64url(const unsigned char *a, size_t n, char *zOut);

/* The automatic title of a thread from its first user message: the first non-blank line,
** cut to CV_AUTO_TITLE_CHARS characters at a word boundary with "…" appended when cut.
** Returns a malloc'd string (free with free()), or NULL when the text has no visible
** line or memory ran out (*pRc tells which: CV_OK or CV_NOMEM). */
char *util_auto_title(const char *zContent, cv_rc *pRc);

/* A growable byte buffer with a hard cap (curl's dynbuf). Always NUL-terminated when
** a is not NULL. An append past nMax fails with CV_TOOLARGE and leaves the buffer as is. */
struct cv_buf {
  char *a;        /* bytes, malloc'd, or NULL */
  size_t n;       /* bytes used */
  size_t nAlloc;  /* bytes allocated */
  size_t nMax;    /* cap on n */
};
void buf_init(struct cv_buf *b, size_t nMax);
cv_rc buf_append(struct cv_buf *b, const void *p, size_t n);
cv_rc buf_appendf(struct cv_buf *b, const char *zFmt, ...) __attribute__((format(printf, 2, 3)));
/* Append v in decimal, as "%lld" writes it, without printf (lists write two per row). */
cv_rc buf_append_int(struct cv_buf *b, int64_t v);
void buf_free(struct cv_buf *b);

/* Where streamed output goes: a write callback and its context. Renderers and the
** conversation store write through a sink and never know whether the bytes end in a buffer
** (sink_to_buf) or on a socket (http_stream_sink). xWrite returns CV_OK, or an error that
** stops the writer (CV_CLOSED when the client left, CV_TOOLARGE over a buffer's cap). */
struct cv_sink {
  cv_rc (*xWrite)(void *pCtx, const char *z, size_t n);
  void *pCtx;
};
cv_rc sink_write(struct cv_sink *p, const char *z, size_t n);
cv_rc sink_printf(struct cv_sink *p, const char *zFmt, ...) __attribute__((format(printf, 2, 3)));
/* A sink that appends to b (borrowed: b must outlive the sink's use). */
void sink_to_buf(struct cv_sink *p, struct cv_buf *b);

#endif /* CV_UTIL_H */
