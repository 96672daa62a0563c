/*
** export.c — see export.h. The document is written in one pass over the snapshot: the
** threads' walk hands each header to write_thread, which writes it with render_thread_export
** while store_read_messages splices the thread's segments into the sink; chats likewise
** with render_chat_entry; personas and characters are small, each rendered as the catalog
** routes render it (render_item) and printed on its own. Nothing but one row and one catalog
** item is ever held.
**
** The Markdown and text files take a conversation's messages one at a time
** (store_export_messages) and write each content as it is: only the heading lines (title,
** speakers) are made safe, their line breaks turned into spaces (Markdown also escapes a
** trailing run of '#', which would otherwise close the heading). Rejected: escaping the
** contents (a message that holds Markdown is meant to render as Markdown).
*/
#include "export.h"
#include "render.h"
#include "store.h"
#include "store_catalog.h"
#include "store_chats.h"
#include "store_export.h"
#include "store_threads.h"
#include "store_users.h"
#include "util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Append a literal. */
#define LIT(p, z) sink_write((p), (z), sizeof(z) - 1)

/* ---- the whole document ---------------------------------------------------------------- */

struct doc {
  struct cv_read *pRd;           /* the snapshot everything is read from */
  struct cv_sink *pOut;          /* where the document goes */
  struct cv_export_counts *pN;   /* what went out */
  int64_t nInList;               /* items written in the current list (commas) */
};

/* cv_export_thread_fn: one element of "threads". */
static cv_rc write_thread(void *pCtx, const struct cv_thread *t, const char *zClientId){
  struct doc *d = pCtx;
  cv_rc rc = d->nInList++ ? LIT(d->pOut, ",") : CV_OK;
  if( rc==CV_OK ) rc = render_thread_export(d->pOut, t, zClientId, store_messages_cb, d->pRd);
  if( rc==CV_OK ){
    d->pN->nThreads++;
    d->pN->nThreadMessages += t->nMessages;
  }
  return rc;
}

/* cv_export_chat_fn: one element of "chats". */
static cv_rc write_chat(void *pCtx, const struct cv_chat *c){
  struct doc *d = pCtx;
  cv_rc rc = d->nInList++ ? LIT(d->pOut, ",") : CV_OK;
  if( rc==CV_OK ) rc = render_chat_export(d->pOut, c, store_messages_cb, d->pRd);
  if( rc==CV_OK ){
    d->pN->nChats++;
    d->pN->nChatMessages += c->nMessages;
  }
  return rc;
}

/* cv_export_item_fn: one element of "personas" or "characters", as its GET route renders
** it (render_item; ids kept so that an importer can map the chats' references). */
static cv_rc write_item(void *pCtx, const struct cv_item *it){
  struct doc *d = pCtx;
  cJSON *p = render_item(it);
  char *z = p ? cJSON_PrintUnformatted(p) : NULL;
  cv_rc rc = z ? CV_OK : CV_NOMEM;
  if( rc==CV_OK && d->nInList++ ) rc = LIT(d->pOut, ",");
  if( rc==CV_OK ) rc = sink_write(d->pOut, z, strlen(z));
  if( rc==CV_OK ){
    if( it->eKind==CV_KIND_PERSONA ) d->pN->nPersonas++;
    else d->pN->nCharacters++;
  }
  cJSON_free(z);
  cJSON_Delete(p);
  return rc;
}

cv_rc export_user_document(struct cv_read *pRd, const struct cv_user *u, int64_t nowMs,
                           struct cv_sink *pOut, struct cv_export_counts *pCounts){
  struct cv_export_counts n;
  struct doc d;
  char zNow[CV_TS_LEN+1];
  cv_rc rc;
  assert( pRd && u && pOut );
  memset(&n, 0, sizeof n);
  d.pRd = pRd;
  d.pOut = pOut;
  d.pN = pCounts ? pCounts : &n;
  memset(d.pN, 0, sizeof *d.pN);
  util_iso_format(nowMs, zNow);
  rc = sink_printf(pOut, "{\"format\":\"chatvault\",\"version\":1,\"exported_at\":\"%s\","
                   "\"user\":{\"email\":", zNow);
  if( rc==CV_OK ) rc = render_string(pOut, u->zEmail);
  if( rc==CV_OK ) rc = LIT(pOut, ",\"display_name\":");
  if( rc==CV_OK ) rc = render_string(pOut, u->zDisplayName);
  if( rc==CV_OK ) rc = LIT(pOut, "},\"threads\":[");
  d.nInList = 0;
  if( rc==CV_OK ) rc = store_export_threads(pRd, u->id, write_thread, &d);
  if( rc==CV_OK ) rc = LIT(pOut, "],\"chats\":[");
  d.nInList = 0;
  if( rc==CV_OK ) rc = store_export_chats(pRd, u->id, write_chat, &d);
  if( rc==CV_OK ) rc = LIT(pOut, "],\"personas\":[");
  d.nInList = 0;
  if( rc==CV_OK ) rc = store_export_items(pRd, CV_KIND_PERSONA, u->id, write_item, &d);
  if( rc==CV_OK ) rc = LIT(pOut, "],\"characters\":[");
  d.nInList = 0;
  if( rc==CV_OK ) rc = store_export_items(pRd, CV_KIND_CHARACTER, u->id, write_item, &d);
  if( rc==CV_OK ) rc = LIT(pOut, "]}");
  return rc;
}

/* ---- one conversation as a file -------------------------------------------------------- */

int export_format_parse(const char *z){
  if( !z ) return -1;
  if( strcmp(z, "json")==0 ) return CV_EXPORT_JSON;
  if( strcmp(z, "md")==0 || strcmp(z, "markdown")==0 ) return CV_EXPORT_MD;
  if( strcmp(z, "txt")==0 || strcmp(z, "text")==0 ) return CV_EXPORT_TXT;
  return -1;
}

const char *export_format_type(enum cv_export_format e){
  switch( e ){
    case CV_EXPORT_JSON: return "application/json";
    case CV_EXPORT_MD:   return "text/markdown; charset=utf-8";
    case CV_EXPORT_TXT:  return "text/plain; charset=utf-8";
  }
  return "application/octet-stream";
}

const char *export_format_ext(enum cv_export_format e){
  switch( e ){
    case CV_EXPORT_JSON: return "json";
    case CV_EXPORT_MD:   return "md";
    case CV_EXPORT_TXT:  return "txt";
  }
  return "bin";
}

/* Write z as one line of a heading: control characters (line breaks, tabs) become spaces;
** with bMd, a trailing run of '#' is escaped ("C#" stays "C#" when rendered, "Plan ##" is not
** cut to "Plan"). */
static cv_rc write_heading_text(struct cv_sink *p, const char *z, int bMd){
  size_t n = strlen(z), nHash = 0, i, iRun = 0;
  cv_rc rc = CV_OK;
  if( bMd ) while( nHash<n && z[n-1-nHash]=='#' ) nHash++;
  for(i=0; rc==CV_OK && i<=n; i++){
    unsigned char c = (unsigned char)z[i];
    int bCtl = i<n && (c<0x20 || c==0x7f);
    int bEsc = nHash>0 && i==n-nHash;
    if( i<n && !bCtl && !bEsc ) continue;
    rc = sink_write(p, z + iRun, i - iRun);
    if( rc==CV_OK && bCtl ) rc = LIT(p, " ");
    if( rc==CV_OK && bEsc ) rc = LIT(p, "\\");
    iRun = bCtl ? i + 1 : i;
  }
  return rc;
}

/* The state of a Markdown or text file while its messages go by. */
struct file {
  struct cv_sink *pOut;
  int bMd;                       /* Markdown, else text */
  const char *zUser;             /* the user's speaker name */
  const char *zAssistant;        /* the assistant's speaker name */
};

/* cv_msg_view_fn: one message under its speaker. */
static cv_rc write_message(void *pCtx, const struct cv_msg_view *m){
  struct file *f = pCtx;
  const char *zWho = strcmp(m->zRole, "user")==0 ? f->zUser : f->zAssistant;
  cv_rc rc = f->bMd ? LIT(f->pOut, "\n## ") : LIT(f->pOut, "\n");
  if( rc==CV_OK ) rc = write_heading_text(f->pOut, zWho, f->bMd);
  if( rc==CV_OK ) rc = f->bMd ? LIT(f->pOut, "\n\n") : LIT(f->pOut, ":\n");
  if( rc==CV_OK ) rc = sink_write(f->pOut, m->zContent, strlen(m->zContent));
  if( rc==CV_OK ) rc = LIT(f->pOut, "\n");
  return rc;
}

/* A Markdown or text file: the title line, then each message of conversation id. */
static cv_rc write_file(struct cv_read *pRd, int64_t id, const char *zTitle, int bMd,
                        const char *zUser, const char *zAssistant, struct cv_sink *pOut){
  struct file f;
  cv_rc rc = bMd ? LIT(pOut, "# ") : CV_OK;
  f.pOut = pOut;
  f.bMd = bMd;
  f.zUser = zUser;
  f.zAssistant = zAssistant;
  if( rc==CV_OK ) rc = write_heading_text(pOut, zTitle, bMd);
  if( rc==CV_OK ) rc = LIT(pOut, "\n");
  if( rc==CV_OK ) rc = store_export_messages(pRd, id, write_message, &f);
  return rc;
}

cv_rc export_thread(struct cv_read *pRd, const struct cv_thread *t, enum cv_export_format e,
                    struct cv_sink *pOut){
  assert( pRd && t && pOut );
  if( e==CV_EXPORT_JSON ) return render_thread(pOut, t, store_messages_cb, pRd);
  return write_file(pRd, t->id, t->zTitle ? t->zTitle : "", e==CV_EXPORT_MD, "User",
                    "Assistant", pOut);
}

void export_chat_title(const struct cv_chat *c, char *zOut, size_t nOut){
  size_t n;
  assert( nOut>0 );
  if( c->zTitle && c->zTitle[0] ){
    snprintf(zOut, nOut, "%s", c->zTitle);
  }else if( c->zCharacterName && c->zCharacterName[0] ){
    snprintf(zOut, nOut, "Chat with %s", c->zCharacterName);
  }else{
    snprintf(zOut, nOut, "Chat");
  }
  /* snprintf may have cut a character in two: drop its leading bytes */
  n = strlen(zOut);
  while( n>0 && !util_utf8_valid(zOut, n) ) zOut[--n] = 0;
}

cv_rc export_chat(struct cv_read *pRd, const struct cv_chat *c, const char *zUserName,
                  enum cv_export_format e, struct cv_sink *pOut){
  char zTitle[CV_TITLE_MAX_CHARS*4 + 64];
  assert( pRd && c && pOut );
  if( e==CV_EXPORT_JSON ) return render_chat_entry(pOut, c, store_messages_cb, pRd);
  export_chat_title(c, zTitle, sizeof zTitle);
  return write_file(pRd, c->id, zTitle, e==CV_EXPORT_MD, zUserName ? zUserName : "You",
                    c->zCharacterName ? c->zCharacterName : "Assistant", pOut);
}

/* ---- the download's name --------------------------------------------------------------- */

/* 1 when ASCII c may stand in the quoted fallback name. */
static int ascii_keep(unsigned char c){
  return (c>='a' && c<='z') || (c>='A' && c<='Z') || (c>='0' && c<='9')
      || (c!=0 && strchr(" -_.,()[]+=@&!#$~'", c)!=NULL);
}

/* 1 when byte c is an RFC 5987 attr-char (written as it is in filename*). */
static int attr_char(unsigned char c){
  return (c>='a' && c<='z') || (c>='A' && c<='Z') || (c>='0' && c<='9')
      || (c!=0 && strchr("!#$&+-.^_`|~", c)!=NULL);
}

/* Byte length of the UTF-8 character starting with lead byte c (1 for anything else). */
static size_t utf8_len(unsigned char c){
  return c>=0xf0 ? 4 : c>=0xe0 ? 3 : c>=0xc0 ? 2 : 1;
}

/* Cut z (length *pn) of leading and trailing spaces, dots and '_'. Returns the start. */
static const char *trim_name(const char *z, size_t *pn){
  size_t n = *pn;
  while( n>0 && strchr(" ._", z[0]) ){ z++; n--; }
  while( n>0 && strchr(" ._", z[n-1]) ) n--;
  *pn = n;
  return z;
}

void export_disposition(const char *zTitle, const char *zFallback, enum cv_export_format e,
                        char *zOut){
  char zAscii[84], zUtf8[84*4];
  const char *zExt = export_format_ext(e), *z, *zA, *zU;
  size_t nA = 0, nU = 0, nChars = 0, i, k;
  int n;
  assert( zTitle && zFallback && zOut );
  /* the two names, as the title gives them */
  for(z=zTitle; *z && (nA<80 || nChars<80); ){
    unsigned char c = (unsigned char)*z;
    size_t len = utf8_len(c);
    if( nA<80 ){
      char cA = c<0x80 && ascii_keep(c) ? (char)c : '_';
      if( !(cA=='_' && nA>0 && zAscii[nA-1]=='_') ) zAscii[nA++] = cA;
    }
    if( nChars<80 ){
      if( c<0x20 || c==0x7f || c=='/' || c=='\\' ){
        zUtf8[nU++] = '_';
      }else{
        for(k=0; k<len && z[k]; k++) zUtf8[nU++] = z[k];
      }
      nChars++;
    }
    for(k=0; k<len && *z; k++) z++;
  }
  zA = trim_name(zAscii, &nA);
  zU = trim_name(zUtf8, &nU);
  if( nA==0 ){ zA = zFallback; nA = strlen(zFallback); }
  if( nU==0 ){ zU = zFallback; nU = strlen(zFallback); }
  n = snprintf(zOut, EXPORT_DISPOSITION_MAX,
               "Content-Disposition: attachment; filename=\"%.*s.%s\"; filename*=UTF-8''",
               (int)nA, zA, zExt);
  assert( n>0 && n<EXPORT_DISPOSITION_MAX );
  for(i=0; i<nU; i++){
    unsigned char c = (unsigned char)zU[i];
    if( attr_char(c) ) zOut[n++] = (char)c;
    else n += snprintf(zOut + n, 4, "%%%02X", c);
  }
  snprintf(zOut + n, (size_t)(EXPORT_DISPOSITION_MAX - n), ".%s\r\n", zExt);
}
