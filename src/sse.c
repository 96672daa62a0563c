/*
** sse.c — the pure decoders of an OpenAI-compatible server's response body: chunked
** transfer coding, the server-sent event stream, and chat-completion chunks (see sse.h).
**
** Layer: below llm.c, which owns the socket, TLS and the deadline and feeds these decoders
** whatever bytes each read returns, so every delta reaches the caller as soon as its line
** is complete. May call cJSON and util only; no I/O, no clocks, no globals, so a libFuzzer
** harness can drive each decoder directly.
**
** Choices:
** - Every decoder is a state machine that accepts its input split anywhere; none of them
**   waits for more than one line (chunk-size line, event-stream line) before acting.
** - Every buffer has a cap (SSE_LINE_MAX, SSE_EVENT_MAX, SSE_REPLY_MAX); going over one
**   is an upstream error, never a truncation that would save half a reply as if whole.
** - A stream is complete only with "data: [DONE]" or a finish_reason: a connection that
**   closes mid-reply is an error, not a short reply.
** - Rejected: decoding the event stream with a regex or sscanf (no bound on lines, no
**   byte-at-a-time input), and treating any non-JSON data line as skippable noise (a proxy
**   error page would then look like an empty reply instead of an upstream failure).
*/
#include "sse.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* =======================================================================================
** 1. Chunked transfer coding (RFC 9112 section 7.1)
*/

enum {
  CHUNK_SIZE0 = 0,       /* start of a chunk-size line: a hex digit must come */
  CHUNK_SIZE,            /* in the hex digits */
  CHUNK_EXT,             /* in chunk extensions (";name=value"), skipped */
  CHUNK_SIZE_LF,         /* after the size line's '\r' */
  CHUNK_DATA,            /* in chunk payload, nLeft bytes to go */
  CHUNK_DATA_CR,         /* after the payload: '\r' (or a bare '\n') */
  CHUNK_DATA_LF,         /* after the payload's '\r' */
  CHUNK_TRAILER0,        /* start of a trailer line, or the final empty line */
  CHUNK_TRAILER,         /* in a trailer line, skipped */
  CHUNK_TRAILER_LF,      /* after the final empty line's '\r' */
  CHUNK_END,             /* the body is complete */
  CHUNK_ERROR            /* malformed: stays failed */
};
#define CHUNK_LINE_MAX   4096   /* longest extension or trailer line */
#define CHUNK_DIGITS_MAX 15     /* 15 hex digits = 60 bits: no overflow possible */

void sse_chunked_init(struct cv_chunked *p){
  memset(p, 0, sizeof *p);
  p->eState = CHUNK_SIZE0;
}

static int hex_value(char c){
  if( c>='0' && c<='9' ) return c - '0';
  if( c>='a' && c<='f' ) return c - 'a' + 10;
  if( c>='A' && c<='F' ) return c - 'A' + 10;
  return -1;
}

/* The chunk-size line has ended: payload next, or the trailers after the last chunk. */
static void chunk_size_done(struct cv_chunked *p){
  p->eState = p->nLeft ? CHUNK_DATA : CHUNK_TRAILER0;
  p->nDigits = 0;
}

cv_rc sse_chunked_decode(struct cv_chunked *p, char *z, size_t n,
                         size_t *pnOut, size_t *pnUsed){
  size_t i = 0, nOut = 0;
  *pnOut = 0;
  *pnUsed = 0;
  while( i<n && p->eState!=CHUNK_END && p->eState!=CHUNK_ERROR ){
    char c;
    int h;
    if( p->eState==CHUNK_DATA ){
      size_t nTake = n - i;
      if( (uint64_t)nTake > p->nLeft ) nTake = (size_t)p->nLeft;
      memmove(z + nOut, z + i, nTake);   /* nOut <= i: the output never overtakes */
      nOut += nTake;
      i += nTake;
      p->nLeft -= nTake;
      if( p->nLeft==0 ) p->eState = CHUNK_DATA_CR;
      continue;
    }
    c = z[i++];
    switch( p->eState ){
      case CHUNK_SIZE0:
      case CHUNK_SIZE:
        h = hex_value(c);
        if( h>=0 ){
          if( p->nDigits>=CHUNK_DIGITS_MAX ){ p->eState = CHUNK_ERROR; break; }
          p->nLeft = p->nLeft*16 + (uint64_t)h;
          p->nDigits++;
          p->eState = CHUNK_SIZE;
        }else if( p->eState==CHUNK_SIZE0 ){
          p->eState = CHUNK_ERROR;
        }else if( c==';' || c==' ' || c=='\t' ){
          p->eState = CHUNK_EXT;
          p->nLine = 0;
        }else if( c=='\r' ){
          p->eState = CHUNK_SIZE_LF;
        }else if( c=='\n' ){
          chunk_size_done(p);
        }else{
          p->eState = CHUNK_ERROR;
        }
        break;
      case CHUNK_EXT:
        if( c=='\r' ) p->eState = CHUNK_SIZE_LF;
        else if( c=='\n' ) chunk_size_done(p);
        else if( ++p->nLine > CHUNK_LINE_MAX ) p->eState = CHUNK_ERROR;
        break;
      case CHUNK_SIZE_LF:
        if( c=='\n' ) chunk_size_done(p);
        else p->eState = CHUNK_ERROR;
        break;
      case CHUNK_DATA_CR:
        if( c=='\r' ) p->eState = CHUNK_DATA_LF;
        else if( c=='\n' ) p->eState = CHUNK_SIZE0;
        else p->eState = CHUNK_ERROR;
        break;
      case CHUNK_DATA_LF:
        p->eState = c=='\n' ? CHUNK_SIZE0 : CHUNK_ERROR;
        break;
      case CHUNK_TRAILER0:
        if( c=='\r' ) p->eState = CHUNK_TRAILER_LF;
        else if( c=='\n' ) p->eState = CHUNK_END;
        else{ p->eState = CHUNK_TRAILER; p->nLine = 1; }
        break;
      case CHUNK_TRAILER:
        if( c=='\n' ) p->eState = CHUNK_TRAILER0;
        else if( ++p->nLine > CHUNK_LINE_MAX ) p->eState = CHUNK_ERROR;
        break;
      case CHUNK_TRAILER_LF:
        p->eState = c=='\n' ? CHUNK_END : CHUNK_ERROR;
        break;
      default:
        p->eState = CHUNK_ERROR;   /* not reached: CHUNK_DATA is handled above */
        break;
    }
  }
  if( p->eState==CHUNK_END ) p->bEnd = 1;
  *pnOut = nOut;
  *pnUsed = i;
  return p->eState==CHUNK_ERROR ? CV_UPSTREAM : CV_OK;
}

/* =======================================================================================
** 2. Event stream (WHATWG HTML, "Server-sent events", event stream interpretation)
*/

void sse_init(struct cv_sse *p){
  memset(p, 0, sizeof *p);
  buf_init(&p->line, SSE_LINE_MAX);
  buf_init(&p->data, SSE_EVENT_MAX);
}

void sse_free(struct cv_sse *p){
  buf_free(&p->line);
  buf_free(&p->data);
}

/* Empty a buffer but keep its memory for the next line or event. */
static void buf_clear(struct cv_buf *b){
  b->n = 0;
  if( b->a ) b->a[0] = 0;
}

/* A blank line: hand the event over (when it had data) and start the next one. */
static cv_rc sse_dispatch(struct cv_sse *p, cv_sse_event_fn xEvent, void *pCtx){
  cv_rc rc = CV_OK;
  if( p->bData ) rc = xEvent(pCtx, p->zEvent, p->data.a ? p->data.a : "", p->data.n);
  buf_clear(&p->data);
  p->bData = 0;
  p->zEvent[0] = 0;
  return rc;
}

/* One complete line z[0..n) (its line end removed). */
static cv_rc sse_line(struct cv_sse *p, const char *z, size_t n,
                      cv_sse_event_fn xEvent, void *pCtx){
  const char *zColon, *zVal;
  size_t nName, nVal;
  cv_rc rc = CV_OK;
  if( n==0 ) return sse_dispatch(p, xEvent, pCtx);
  if( z[0]==':' ) return CV_OK;                      /* a comment (keep-alive) */
  zColon = memchr(z, ':', n);
  nName = zColon ? (size_t)(zColon - z) : n;
  zVal = zColon ? zColon + 1 : z + n;
  nVal = (size_t)(z + n - zVal);
  if( nVal && zVal[0]==' ' ){ zVal++; nVal--; }
  if( (nName==4 && memcmp(z, "data", 4)==0) || (nName==5 && memcmp(z, "error", 5)==0) ){
    if( nName==5 ) memcpy(p->zEvent, "error", 6);    /* llama.cpp: "error: {...}" */
    if( p->bData ) rc = buf_append(&p->data, "\n", 1);
    if( rc==CV_OK ) rc = buf_append(&p->data, zVal, nVal);
    p->bData = 1;
  }else if( nName==5 && memcmp(z, "event", 5)==0 ){
    size_t nCopy = nVal < sizeof p->zEvent - 1 ? nVal : sizeof p->zEvent - 1;
    if( strcmp(p->zEvent, "error")!=0 ){             /* an error stays an error */
      memcpy(p->zEvent, zVal, nCopy);
      p->zEvent[nCopy] = 0;
    }
  }else if( (nName==2 && memcmp(z, "id", 2)==0) || (nName==5 && memcmp(z, "retry", 5)==0) ){
    /* reconnection fields: this client never reconnects */
  }else{
    p->nUnknown++;
  }
  return rc;
}

cv_rc sse_feed(struct cv_sse *p, const char *z, size_t n, cv_sse_event_fn xEvent, void *pCtx){
  size_t i = 0;
  cv_rc rc = CV_OK;
  while( i<n && rc==CV_OK ){
    size_t j = i;
    if( p->bCR ){
      p->bCR = 0;
      if( z[i]=='\n' ){ i++; continue; }              /* the rest of a "\r\n" */
    }
    while( j<n && z[j]!='\r' && z[j]!='\n' ) j++;
    if( j>i ) rc = buf_append(&p->line, z + i, j - i);
    if( rc || j==n ) break;                           /* the line goes on in the next feed */
    p->bCR = z[j]=='\r';
    rc = sse_line(p, p->line.a ? p->line.a : "", p->line.n, xEvent, pCtx);
    buf_clear(&p->line);
    i = j + 1;
  }
  return rc;
}

cv_rc sse_end(struct cv_sse *p, cv_sse_event_fn xEvent, void *pCtx){
  cv_rc rc = CV_OK;
  if( p->line.n ){
    rc = sse_line(p, p->line.a, p->line.n, xEvent, pCtx);
    buf_clear(&p->line);
  }
  if( rc==CV_OK ) rc = sse_dispatch(p, xEvent, pCtx);
  return rc;
}

/* =======================================================================================
** 3. OpenAI chat completions
*/

void sse_chat_init(struct cv_chat *p, cv_sse_delta_fn xDelta, void *pCtx){
  memset(p, 0, sizeof *p);
  sse_init(&p->sse);
  buf_init(&p->reply, SSE_REPLY_MAX);
  p->xDelta = xDelta;
  p->pCtx = pCtx;
}

void sse_chat_free(struct cv_chat *p){
  sse_free(&p->sse);
  buf_free(&p->reply);
}

char *sse_chat_take(struct cv_chat *p){
  char *z = p->reply.a;
  buf_init(&p->reply, SSE_REPLY_MAX);
  return z;
}

/* Copy z[0..n) into zOut[0..nOut) as one readable line: control characters become spaces
** and a cut falls on a UTF-8 character boundary. */
static void copy_line(const char *z, size_t n, char *zOut, size_t nOut){
  size_t i;
  if( n > nOut - 1 ){
    n = nOut - 1;
    while( n>0 && ((unsigned char)z[n] & 0xC0)==0x80 ) n--;
  }
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    zOut[i] = (c<0x20 || c==0x7F) ? ' ' : (char)c;
  }
  zOut[n] = 0;
}

/* The message of an error object, or NULL. Borrowed from pRoot. */
static const char *json_error_text(const cJSON *pRoot){
  const cJSON *pErr, *pMsg;
  if( !cJSON_IsObject(pRoot) ) return NULL;
  pErr = cJSON_GetObjectItemCaseSensitive(pRoot, "error");
  if( cJSON_IsString(pErr) ) return pErr->valuestring;
  if( cJSON_IsObject(pErr) ){
    pMsg = cJSON_GetObjectItemCaseSensitive(pErr, "message");
    return cJSON_IsString(pMsg) ? pMsg->valuestring : "error object without a message";
  }
  pMsg = cJSON_GetObjectItemCaseSensitive(pRoot, "detail");
  if( cJSON_IsString(pMsg) ) return pMsg->valuestring;
  pMsg = cJSON_GetObjectItemCaseSensitive(pRoot, "message");
  if( cJSON_IsString(pMsg) ) return pMsg->valuestring;
  return NULL;
}

void sse_error_message(const char *z, size_t n, char *zOut, size_t nOut){
  cJSON *pRoot = n ? cJSON_ParseWithLength(z, n) : NULL;
  const char *zMsg = json_error_text(pRoot);
  if( zMsg ){
    copy_line(zMsg, strlen(zMsg), zOut, nOut);
  }else{
    const char *zEol = n ? memchr(z, '\n', n) : NULL;
    copy_line(z, zEol ? (size_t)(zEol - z) : n, zOut, nOut);
  }
  cJSON_Delete(pRoot);
}

/* Record the first failure (rc, and why) and return the code that now stands. */
static cv_rc chat_fail(struct cv_chat *p, cv_rc rc, const char *zWhy){
  if( p->rc==CV_OK ){
    p->rc = rc;
    copy_line(zWhy, strlen(zWhy), p->zErr, sizeof p->zErr);
  }
  return p->rc;
}

/* Fail with the upstream's own error text, prefixed. */
static cv_rc chat_fail_upstream(struct cv_chat *p, const char *zText){
  static const char zPrefix[] = "upstream error: ";
  char zWhy[SSE_ERR_MAX+1];
  memcpy(zWhy, zPrefix, sizeof zPrefix - 1);
  copy_line(zText, strlen(zText), zWhy + sizeof zPrefix - 1, sizeof zWhy - (sizeof zPrefix - 1));
  return chat_fail(p, CV_UPSTREAM, zWhy);
}

/* One piece of the reply: keep it and pass it on. */
static cv_rc chat_piece(struct cv_chat *p, const char *z, size_t n){
  cv_rc rc;
  if( n==0 ) return CV_OK;
  if( !util_utf8_valid(z, n) ) return chat_fail(p, CV_UPSTREAM, "content is not valid UTF-8");
  rc = buf_append(&p->reply, z, n);
  if( rc==CV_TOOLARGE ) return chat_fail(p, CV_UPSTREAM, "reply longer than SSE_REPLY_MAX");
  if( rc ) return chat_fail(p, rc, "out of memory");
  if( p->xDelta && !p->bGone && p->xDelta(p->pCtx, z, n) ) p->bGone = 1;
  return CV_OK;
}

/* 1 when the JSON text z[0..n) carries U+0000: a raw NUL byte or a \u0000 escape (an
** escaped backslash, "\\u0000", is text and does not count). cJSON decodes \u0000 into
** its C string, where it would silently cut the reply short ("before\u0000after" was
** saved as "before"), so an upstream that sends U+0000 is failed like one sending invalid
** UTF-8. Escapes only occur inside JSON strings, so no string state is needed. */
static int json_has_nul(const char *z, size_t n){
  size_t i;
  if( memchr(z, 0, n) ) return 1;
  for(i=0; i+1<n; i++){
    if( z[i]!='\\' ) continue;
    if( z[i+1]=='u' && i+5<n && memcmp(z + i + 2, "0000", 4)==0 ) return 1;
    i++;   /* skip the escaped character: "\\\\" is one backslash */
  }
  return 0;
}

/* cv_sse_event_fn: one event of the chat-completion stream. */
static cv_rc chat_event(void *pCtx, const char *zEvent, const char *zData, size_t nData){
  struct cv_chat *p = pCtx;
  cJSON *pRoot;
  const cJSON *pChoice, *pDelta, *pContent, *pFinish;
  const char *zMsg;
  size_t n = nData;
  if( p->bDone ) return CV_OK;
  if( p->sse.nUnknown > SSE_UNKNOWN_MAX ){
    /* checked here too, not only after each sse_chat_feed: else how the body happened to be
    ** split into reads decided whether events after the limit were still relayed */
    return chat_fail(p, CV_UPSTREAM, "the answer is not an event stream");
  }
  while( n && (zData[n-1]==' ' || zData[n-1]=='\t') ) n--;
  if( strcmp(zEvent, "error")==0 ){
    char zText[SSE_ERR_MAX+1];
    sse_error_message(zData, n, zText, sizeof zText);
    return chat_fail_upstream(p, zText[0] ? zText : "error event");
  }
  if( n==6 && memcmp(zData, "[DONE]", 6)==0 ){
    p->bDone = 1;
    return CV_OK;
  }
  if( json_has_nul(zData, n) ) return chat_fail(p, CV_UPSTREAM, "an event holds U+0000");
  pRoot = cJSON_ParseWithLength(zData, n);
  if( !pRoot ) return chat_fail(p, CV_UPSTREAM, "an event's data is not JSON");
  if( !cJSON_IsObject(pRoot) ){
    cJSON_Delete(pRoot);
    return chat_fail(p, CV_UPSTREAM, "an event's data is not a JSON object");
  }
  if( cJSON_GetObjectItemCaseSensitive(pRoot, "error")
   && !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(pRoot, "error")) ){
    zMsg = json_error_text(pRoot);
    chat_fail_upstream(p, zMsg ? zMsg : "error object");
    cJSON_Delete(pRoot);
    return p->rc;
  }
  p->nChunks++;
  /* choices may be empty (a usage-only chunk) and delta may lack content (the first
  ** chunk carries only the role): both are normal and carry no text. */
  pChoice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(pRoot, "choices"), 0);
  pDelta = cJSON_GetObjectItemCaseSensitive(pChoice, "delta");
  pContent = cJSON_GetObjectItemCaseSensitive(pDelta, "content");
  pFinish = cJSON_GetObjectItemCaseSensitive(pChoice, "finish_reason");
  if( cJSON_IsString(pFinish) ) p->bFinish = 1;
  if( cJSON_IsString(pContent) ){
    chat_piece(p, pContent->valuestring, strlen(pContent->valuestring));
  }
  cJSON_Delete(pRoot);
  return p->rc;
}

/* The event-stream layer failed: make its code an upstream failure with a reason. */
static cv_rc chat_sse_failed(struct cv_chat *p, cv_rc rc){
  if( p->rc ) return p->rc;
  if( rc==CV_NOMEM ) return chat_fail(p, CV_NOMEM, "out of memory");
  if( rc==CV_TOOLARGE ) return chat_fail(p, CV_UPSTREAM, "event-stream line or event too long");
  return chat_fail(p, CV_UPSTREAM, "event stream error");
}

cv_rc sse_chat_feed(struct cv_chat *p, const char *z, size_t n){
  cv_rc rc;
  if( p->rc || p->bDone ) return p->rc;
  rc = sse_feed(&p->sse, z, n, chat_event, p);
  if( rc ) return chat_sse_failed(p, rc);
  /* Not once "[DONE]" was read: what follows it is ignored, and was counted here only when
  ** it came in the same read as "[DONE]" (found by fuzz_sse: whole vs pieces differed). */
  if( !p->bDone && p->sse.nUnknown > SSE_UNKNOWN_MAX ){
    return chat_fail(p, CV_UPSTREAM, "the answer is not an event stream");
  }
  return CV_OK;
}

cv_rc sse_chat_end(struct cv_chat *p){
  cv_rc rc;
  if( p->rc ) return p->rc;
  if( !p->bDone ){
    rc = sse_end(&p->sse, chat_event, p);
    if( rc ) return chat_sse_failed(p, rc);
  }
  if( p->reply.n==0 ){
    return chat_fail(p, CV_UPSTREAM, p->sse.nUnknown && !p->nChunks
                                     ? "the answer is not an event stream"
                                     : "the stream ended with no content");
  }
  if( !p->bDone && !p->bFinish ){
    return chat_fail(p, CV_UPSTREAM, "the stream ended before [DONE]");
  }
  return CV_OK;
}

cv_rc sse_chat_json(struct cv_chat *p, const char *z, size_t n){
  cJSON *pRoot;
  const cJSON *pChoice, *pMessage, *pContent;
  const char *zMsg;
  if( p->rc ) return p->rc;
  if( json_has_nul(z, n) ) return chat_fail(p, CV_UPSTREAM, "the answer holds U+0000");
  pRoot = cJSON_ParseWithLength(z, n);
  if( !pRoot ) return chat_fail(p, CV_UPSTREAM, "the answer is not JSON");
  zMsg = json_error_text(pRoot);
  pChoice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(pRoot, "choices"), 0);
  pMessage = cJSON_GetObjectItemCaseSensitive(pChoice, "message");
  pContent = cJSON_GetObjectItemCaseSensitive(pMessage, "content");
  if( cJSON_IsString(pContent) && pContent->valuestring[0] ){
    chat_piece(p, pContent->valuestring, strlen(pContent->valuestring));
    p->bDone = 1;
  }else if( zMsg ){
    chat_fail_upstream(p, zMsg);
  }else{
    chat_fail(p, CV_UPSTREAM, "the answer has no choices[0].message.content");
  }
  cJSON_Delete(pRoot);
  return p->rc;
}
