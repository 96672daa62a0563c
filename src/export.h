/*
** export.h — the export service: everything of one user as one JSON document (GET
** /api/v1/export and `chatvault export` write the same bytes through it), and one
** conversation as a file (JSON, Markdown or plain text) with its download name.
**
** Everything is written through a sink (util.h) while it is read from a read snapshot
** (store.h), row by row (store_export.h): nothing is collected, so memory stays flat
** whatever the size, and the route and the CLI differ only in where the sink goes (the
** streamed response, a FILE*). May call stores, render and util.
*/
#ifndef CV_EXPORT_H
#define CV_EXPORT_H

#include "cv.h"
#include <stddef.h>
#include <stdint.h>

struct cv_read;
struct cv_sink;
struct cv_user;
struct cv_thread;
struct cv_chat;

/* What an export held (the CLI's summary line). */
struct cv_export_counts {
  int64_t nThreads;              /* threads written */
  int64_t nThreadMessages;       /* their messages */
  int64_t nChats;                /* character chats written */
  int64_t nChatMessages;         /* their messages */
  int64_t nPersonas;             /* personas written */
  int64_t nCharacters;           /* characters (created by the user) written */
};

/* Write user u's export document to pOut, everything read from snapshot pRd:
**   {"format":"chatvault","version":1,"exported_at":T,"user":{"email","display_name"},
**    "threads":[ChatThreadOut + "client_id"],"chats":[entry],"personas":[persona],
**    "characters":[character]}
** in this key order ("format" first: importers detect the document by it), each list in id
** order. T is nowMs in the contract's format. *pCounts (may be NULL) gets what was
** written (also on failure: what went out before it). Returns CV_OK, a store error, or the
** sink's error (CV_CLOSED: the client left); on an error the document is incomplete. */
cv_rc export_user_document(struct cv_read *pRd, const struct cv_user *u, int64_t nowMs,
                           struct cv_sink *pOut, struct cv_export_counts *pCounts);

/* The file formats of one conversation. */
enum cv_export_format {
  CV_EXPORT_JSON = 0,            /* the resource as its GET answers it */
  CV_EXPORT_MD = 1,              /* Markdown: "# title", then "## Speaker" per message */
  CV_EXPORT_TXT = 2              /* plain text: the title line, then "Speaker:" per message */
};

/* The format named z ("json", "md", "txt"; "markdown" and "text" too), or -1. */
int export_format_parse(const char *z);

/* The Content-Type and the file name extension of format e (static strings). */
const char *export_format_type(enum cv_export_format e);
const char *export_format_ext(enum cv_export_format e);

/* Write thread *t of the snapshot pRd in format e: json ChatThreadOut; md/txt with the
** speakers "User" and "Assistant". */
cv_rc export_thread(struct cv_read *pRd, const struct cv_thread *t, enum cv_export_format e,
                    struct cv_sink *pOut);

/* Write chat *c of the snapshot pRd in format e: json the chat history entry; md/txt with
** the speakers zUserName (the persona's name; NULL: "You") and the character's copied name
** (NULL: "Assistant"), the title "" becoming "Chat with <character>". */
cv_rc export_chat(struct cv_read *pRd, const struct cv_chat *c, const char *zUserName,
                  enum cv_export_format e, struct cv_sink *pOut);

/* The heading of chat *c's file (its title, or "Chat with <character>" when untitled) into
** zOut (nOut bytes, cut at a character boundary). */
void export_chat_title(const struct cv_chat *c, char *zOut, size_t nOut);

/* The header line "Content-Disposition: attachment; filename=\"A.ext\";
** filename*=UTF-8''U.ext\r\n" for a file named after zTitle (valid UTF-8) into zOut
** (EXPORT_DISPOSITION_MAX bytes): A is an ASCII-only fallback (letters, digits, space and
** "-_.,()[]+=@&!#$~'" kept, every other character (quotes, slashes, backslashes, '%',
** controls, non-ASCII) a '_', runs of '_' squeezed, at most 80 bytes), U the title with
** controls, '/' and '\\' made '_', at most 80 characters, percent-encoded (RFC 5987/8187).
** A title that leaves nothing gives zFallback ("thread", "chat"). */
#define EXPORT_DISPOSITION_MAX 1200
void export_disposition(const char *zTitle, const char *zFallback, enum cv_export_format e,
                        char *zOut);

#endif /* CV_EXPORT_H */
