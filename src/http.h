/*
** http.h — the request as handlers see it (struct cv_req) and the one way out: every
** response is written by a function here (JSON, errors, 422 lists, files, SSE).
** Handlers never touch civetweb; only http.c, server.c and router.c include civetweb.h.
*/
#ifndef CV_HTTP_H
#define CV_HTTP_H

#include "cv.h"
#include "util.h"
#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

struct mg_connection;
struct cv_app;
struct cv_verr;

#define CV_MAX_PARAMS 4

struct cv_req {
  struct mg_connection *conn;     /* civetweb's connection: for http.c/server.c only */
  struct cv_app *pApp;            /* configuration and database */
  const char *zMethod;            /* "GET", ... (borrowed from civetweb) */
  const char *zPath;              /* raw path as sent (%-escapes kept), no query (borrowed) */
  const char *zQuery;             /* raw query string or NULL (borrowed) */
  const char *zRemote;            /* client address (borrowed) */
  const char *azParam[CV_MAX_PARAMS]; /* path parameters, in pattern order */
  char *zParamBuf;                /* storage of azParam (owned, freed by the dispatcher) */
  cJSON *pBody;                   /* parsed JSON body after http_read_json (owned) */
  size_t nBodyBytes;              /* bytes of the body http_read_json read */
  int64_t userId;                 /* authenticated user, 0 when none */
  unsigned char aTokenHash[32];   /* hash of the presented token (when userId) */
  int status;                     /* status sent, 0 before */
  int bClose;                     /* close the connection after this response */
  int bSse;                       /* the response is an event stream in progress */
  int bOpenAI;                    /* an OpenAI-compatible route (/v1/...): errors are sent in
                                  ** OpenAI's shape {"error":{message,type,param,code}}, and a
                                  ** 422 becomes a 400 (set by the router) */
};

/* A header of the request, or NULL. Borrowed until the handler returns. */
const char *http_header(struct cv_req *r, const char *zName);

/* Path parameter iParam as a positive integer id (zName names it in the 422 loc,
** ["path", zName]). Returns 1 with *pId set; otherwise the 422 has been sent and it returns 0. */
int http_path_id(struct cv_req *r, int iParam, const char *zName, int64_t *pId);

/* Read the body (at most cfg maxBody bytes, within the body deadline) and parse it as
** JSON into r->pBody. Returns 1 on success; otherwise the error response (400, 408, 413,
** 422) has been sent and it returns 0: the handler just returns r->status. */
int http_read_json(struct cv_req *r);

/* Read the body as raw bytes, at most nMax of them, under the same rules as http_read_json
** (framing 400, 413 over nMax, 408 past the body deadline), into *ppBody (malloc'd, free it;
** NUL-terminated after its *pnBody bytes; NULL when the body is empty). Returns 1 on success;
** otherwise the error response has been sent, *ppBody is NULL and it returns 0. */
int http_read_raw(struct cv_req *r, int64_t nMax, char **ppBody, size_t *pnBody);

/* A request body read as a stream (an import of hundreds of megabytes): the same rules as
** http_read_json, but the deadline grows with what arrived (the body deadline plus one second
** per HTTP_BODY_MIN_RATE bytes), so a slow client is cut off while a large upload is not. */
#define HTTP_BODY_MIN_RATE (64*1024)
struct cv_body {
  struct cv_req *r;
  int64_t nMax;                   /* bytes allowed */
  int64_t nWant;                  /* Content-Length, or -1 (chunked) */
  int64_t nGot;                   /* bytes read so far */
  int64_t t0;                     /* util_mono_us() at the start */
};
/* Check the framing and a Content-Length against nMax (400 or 413 sent: returns 0). */
int http_body_begin(struct cv_req *r, int64_t nMax, struct cv_body *pB);
/* Read the next bytes into a[0..n): returns how many (> 0), 0 at the end of the body, or -1
** when the error response has been sent (400 broken or short body, 413 past nMax, 408 too
** slow; the connection will close). */
int http_body_read(struct cv_body *pB, char *a, size_t n);

/* Send a JSON response with the tree pRoot (not consumed; NULL sends a 500).
** zExtraHeaders: NULL or "Name: value\r\n" lines. */
void http_reply_json(struct cv_req *r, int status, const cJSON *pRoot, const char *zExtraHeaders);

/* 200 with a JSON array of n items, item i being xItem(pItems, i) (a new tree, NULL when memory
** ran out: then a 500), and X-Total-Count: n. For the small lists that are whole in one answer
** (a thread's members, the caller's share links). */
typedef cJSON *(*cv_item_fn)(const void *pItems, int i);
void http_reply_items(struct cv_req *r, const void *pItems, int n, cv_item_fn xItem);

/* Send raw bytes with a type. */
void http_reply_raw(struct cv_req *r, int status, const char *zType, const char *a, size_t n,
                    const char *zExtraHeaders);

/* Send {"detail": zDetail} with status. */
void http_reply_detail(struct cv_req *r, int status, const char *zDetail);

/* Send 204 No Content. */
void http_reply_empty(struct cv_req *r);

/* Send the 422 list of pErr (or a 500 when it ran out of memory). */
void http_reply_422(struct cv_req *r, struct cv_verr *pErr);

/* The single map from cv_rc to a response: 404/403/409/422/413/503/502/504/507/500.
** zWhat names the resource in 404/403 details ("Thread"). */
void http_reply_rc(struct cv_req *r, cv_rc rc, const char *zWhat);

/* An error in OpenAI's shape {"error":{"message","type","param","code"}}: type from the status
** (400/404/405/413 invalid_request_error, 401 authentication_error, 403 permission_error,
** 409 conflict_error, 429 rate_limit_error, 5xx server_error); zParam and zCode may be NULL
** (JSON null). zExtraHeaders as http_reply_json's. Every error of a route with r->bOpenAI
** comes out this way (http_reply_detail, _401, _422 and _rc call it). */
void http_reply_openai_error(struct cv_req *r, int status, const char *zMessage,
                             const char *zParam, const char *zCode, const char *zExtraHeaders);

/* 401 with WWW-Authenticate: Bearer. */
void http_reply_401(struct cv_req *r, const char *zDetail);

/* Server-sent events: start the stream (200, text/event-stream, connection closes at the
** end), then send events. http_sse_send returns CV_OK or CV_CLOSED when the client left
** (callers carry on with their work and stop sending). zEvent NULL: a data-only event. */
cv_rc http_sse_start(struct cv_req *r);
/* http_sse_start with extra header lines ("Name: value\r\n"..., or NULL). */
cv_rc http_sse_start_ex(struct cv_req *r, const char *zExtraHeaders);
cv_rc http_sse_send(struct cv_req *r, const char *zEvent, const char *zData);
/* Write a[0..n) onto a started event stream as it is (whole frames: "id:", "retry:", comment
** lines). CV_OK or CV_CLOSED. */
cv_rc http_sse_write(struct cv_req *r, const char *a, size_t n);

/* A streamed response: what is written to its sink is buffered (HTTP_STREAM_BUF bytes); a
** response that fits is sent with Content-Length, a longer one goes out as it is produced,
** chunked, so memory stays bounded whatever the size of what is written (a 20,000-message
** thread). Usage: http_stream_begin, write through s.sink (render_*), http_stream_end.
** An error passed to http_stream_end before anything was sent becomes the usual error
** response (http_reply_rc); after, the connection is closed without the final chunk, so the
** client sees a truncated body, never a complete-looking wrong one.
** With bRaw (after http_sse_start), bytes go straight onto the event stream, unframed. */
#define HTTP_STREAM_BUF 16384
struct cv_stream {
  struct cv_req *r;
  int status;                     /* status to send */
  const char *zType;              /* Content-Type (static) */
  const char *zExtra;             /* extra header lines or NULL (must outlive the stream) */
  char *pAlloc;                   /* malloc'd: headroom for the headers, then the buffer */
  char *a;                        /* the buffer (HTTP_STREAM_BUF bytes) inside pAlloc */
  size_t n;                       /* bytes in it */
  int bHead;                      /* HEAD: headers only */
  int bStarted;                   /* headers went out (chunked) */
  int bRaw;                       /* an SSE event body: no headers, no chunk framing */
  cv_rc rc;                       /* first write error: later writes are dropped */
  struct cv_sink sink;            /* where renderers write */
};
void http_stream_begin(struct cv_req *r, struct cv_stream *s, int status, const char *zType,
                       const char *zExtra);
/* Finish: rcRender is the producer's result. Returns CV_OK when the whole body went out. */
cv_rc http_stream_end(struct cv_stream *s, cv_rc rcRender, const char *zWhat);

/* One SSE event whose data (JSON text, no newline) is streamed: begin writes "event: zEvent"
** and "data: ", the caller writes the data through s->sink, end writes the blank line. */
void http_sse_event_begin(struct cv_req *r, struct cv_stream *s, const char *zEvent);
cv_rc http_sse_event_end(struct cv_stream *s);

#endif
