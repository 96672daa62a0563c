/*
** sse.h — the pure decoders of an OpenAI-compatible server's response body, with no
** sockets, clocks or globals, so they can be unit-tested byte by byte and fuzzed:
**   1. sse_chunked_*: HTTP/1.1 chunked transfer coding, decoded in place;
**   2. sse_*:         the server-sent event stream (lines → fields → events), as in the
**                     WHATWG "event stream interpretation", with bounded lines and events;
**   3. sse_chat_*:    OpenAI chat-completion chunks inside those events (the
**                     choices[0].delta.content pieces, "data: [DONE]", error objects), and
**                     the non-streamed JSON answer that some servers send instead.
** Each layer accepts its input split anywhere (one byte at a time included).
** Implemented in sse.c; may call cJSON and util (UTF-8 checks, bounded buffers) only.
** Used by llm.c, which owns the connection and the deadline.
*/
#ifndef CV_SSE_H
#define CV_SSE_H

#include "cv.h"
#include "util.h"

#include <stddef.h>
#include <stdint.h>

#define SSE_LINE_MAX      (64*1024)   /* longest event-stream line, in bytes */
#define SSE_EVENT_MAX     (256*1024)  /* most data bytes in one event */
#define SSE_REPLY_MAX     (1024*1024) /* longest reply accumulated, in bytes */
#define SSE_UNKNOWN_MAX   100         /* non-SSE lines tolerated before giving up */
#define SSE_ERR_MAX       200         /* bytes kept of an upstream error message */

/* ---------------------------------------------------------------------------------------
** 1. Chunked transfer coding
*/
struct cv_chunked {
  int eState;          /* where in the grammar the next byte falls (CHUNK_* in sse.c) */
  uint64_t nLeft;      /* payload bytes left in the current chunk */
  unsigned nDigits;    /* hex digits of the chunk size read so far */
  size_t nLine;        /* bytes of the current size or trailer line (bounded) */
  int bEnd;            /* the last chunk and its trailers have been read */
};

void sse_chunked_init(struct cv_chunked *p);

/* Decode z[0..n) in place: on CV_OK the payload bytes it held are at z[0..*pnOut) and
** *pnUsed input bytes were consumed (less than n only when the body ended inside z, in
** which case p->bEnd is set and the rest is not part of the body). Returns CV_UPSTREAM on
** a syntax error or an oversized line (the decoder then stays failed). */
cv_rc sse_chunked_decode(struct cv_chunked *p, char *z, size_t n,
                         size_t *pnOut,     /* OUT: payload bytes now at z[0..) */
                         size_t *pnUsed);   /* OUT: input bytes consumed */

/* ---------------------------------------------------------------------------------------
** 2. Event stream
*/

/* Called once per complete event. zEvent is the event type ("" when the stream gave none,
** i.e. "message"), zData[0..nData) the data lines joined with '\n' (NUL-terminated too).
** Both are borrowed until the callback returns. Return CV_OK to go on; any other code
** stops sse_feed(), which returns it. */
typedef cv_rc (*cv_sse_event_fn)(void *pCtx, const char *zEvent,
                                 const char *zData, size_t nData);

struct cv_sse {
  struct cv_buf line;      /* the line being read, without its end, capped at SSE_LINE_MAX */
  struct cv_buf data;      /* data of the event being read, capped at SSE_EVENT_MAX */
  char zEvent[32];         /* event type of the event being read (truncated) */
  int bData;               /* the event being read has a data field */
  int bCR;                 /* the last byte was '\r': a '\n' right after it ends nothing */
  int nUnknown;            /* lines that were neither comments nor known fields */
};

void sse_init(struct cv_sse *p);

/* Feed z[0..n) of the stream; calls xEvent for each event it completes. Lines end with
** "\r\n", "\n" or "\r". Comments (":...") and the fields id and retry are ignored; llama.cpp's
** non-standard "error: {...}" line is taken as an event of type "error". Returns CV_OK,
** CV_TOOLARGE (a line or an event over its cap), CV_NOMEM, or the callback's code. */
cv_rc sse_feed(struct cv_sse *p, const char *z, size_t n, cv_sse_event_fn xEvent, void *pCtx);

/* The stream has ended: a last line without its line end, and a last event without its
** blank line, are taken as complete (the WHATWG rules would drop them; servers that
** close right after "data: [DONE]" exist). Same returns as sse_feed(). */
cv_rc sse_end(struct cv_sse *p, cv_sse_event_fn xEvent, void *pCtx);

/* Free the parser's buffers. Safe to call twice. */
void sse_free(struct cv_sse *p);

/* ---------------------------------------------------------------------------------------
** 3. OpenAI chat completions
*/

/* Same contract as cv_llm_delta_fn (llm.h): z[0..n) is one piece of the reply, not
** NUL-terminated; return non-zero to receive no more pieces (the reply is still read). */
typedef int (*cv_sse_delta_fn)(void *pCtx, const char *z, size_t n);

struct cv_chat {
  struct cv_sse sse;         /* the event-stream parser underneath */
  struct cv_buf reply;       /* the reply so far, capped at SSE_REPLY_MAX */
  cv_sse_delta_fn xDelta;    /* receives each piece, or NULL */
  void *pCtx;                /* xDelta's first argument */
  int bGone;                 /* xDelta asked for no more pieces */
  int bDone;                 /* "data: [DONE]" was read: the reply is complete */
  int bFinish;               /* a chunk carried a finish_reason */
  int nChunks;               /* chat-completion chunks read */
  cv_rc rc;                  /* first error; once set, input is ignored */
  char zErr[SSE_ERR_MAX+1];  /* why it failed, for the log (the upstream's words if any) */
};

/* Start decoding one reply. xDelta may be NULL. */
void sse_chat_init(struct cv_chat *p, cv_sse_delta_fn xDelta, void *pCtx);

/* Feed z[0..n) of a text/event-stream body. Returns CV_OK, or CV_UPSTREAM (an error event
** or object, a data payload that is not JSON, content that is not UTF-8, a reply over
** SSE_REPLY_MAX, too many non-SSE lines, an oversized line) or CV_NOMEM; the code also
** stays in p->rc and p->zErr says why. Input after "[DONE]" is ignored. */
cv_rc sse_chat_feed(struct cv_chat *p, const char *z, size_t n);

/* The body has ended. CV_OK when the reply is complete and not empty: "[DONE]" or a
** finish_reason was read. Otherwise CV_UPSTREAM (or the earlier error). */
cv_rc sse_chat_end(struct cv_chat *p);

/* Decode a whole non-streamed answer z[0..n) (application/json):
** {"choices":[{"message":{"content":"..."}}]}. The content becomes the reply and goes
** to xDelta as one piece. CV_OK, CV_UPSTREAM (an error object, no content, not JSON) or
** CV_NOMEM. */
cv_rc sse_chat_json(struct cv_chat *p, const char *z, size_t n);

/* Hand over the reply: a malloc'd NUL-terminated string (free with free()), or NULL when
** nothing was read. The decoder no longer owns it. */
char *sse_chat_take(struct cv_chat *p);

/* Free everything the decoder still owns. Safe to call twice. */
void sse_chat_free(struct cv_chat *p);

/* Copy a readable message out of an error body z[0..n) into zOut[0..nOut): the
** "message" of {"error":{...}}, {"error":"..."}, {"detail":"..."} or {"message":"..."},
** else the body's first line. Control characters become spaces. nOut must be > 0. */
void sse_error_message(const char *z, size_t n, char *zOut, size_t nOut);

#endif /* CV_SSE_H */
