/*
** imp_formats.h — the readers of other apps' export files: one conversation of a ChatGPT,
** Claude, Open WebUI, LibreChat, chatbot-ui, SillyTavern or chatvault file, already parsed
** as JSON (cJSON), turned into a conversation in our terms (struct imp_conv). Pure functions:
** no I/O, no store, no globals; the importer (importer.c) splits a file into conversations as
** it arrives and hands each one here. ../shared/formats/FORMATS.md says what every field means
** and which traps the real files hold; the tests read those files.
**
** Rules every reader follows (the contract's "Export and import"):
**   - a tree (ChatGPT mapping, Open WebUI history, LibreChat parentMessageId) is read along
**     its current branch only, from the root to the current node;
**   - only text is kept, as messages {"role":"user"|"assistant","content":text}; every part
**     that is not kept (an image, a tool call or result, a system or hidden message, an empty
**     message, a message over the size limit) is counted in the conversation's errors with a
**     short reason; nothing is invented;
**   - the original times are kept where the file has them (contract format, util_iso_format);
**   - a conversation either reads whole or not at all: any reader error leaves *pOut empty.
** Implemented in imp_formats.c; tested by tests/unit/test_imp_formats.c on the real files.
*/
#ifndef CV_IMP_FORMATS_H
#define CV_IMP_FORMATS_H

#include "cv.h"
#include <cJSON.h>
#include <stdint.h>

/* The formats, by the name `?format=` and the answer's "format" use. */
enum imp_format {
  IMP_UNKNOWN = 0,
  IMP_CHATVAULT,                 /* "chatvault": our own export (one thread or chat entry) */
  IMP_CHATGPT,                   /* "chatgpt": conversations.json, an element or a lone object */
  IMP_CLAUDE,                    /* "claude": conversations.json element */
  IMP_OPENWEBUI,                 /* "openwebui": an exported chat {id,title,chat:{...}} or the
                                 ** bare chat record {history:{messages,currentId},...} */
  IMP_LIBRECHAT,                 /* "librechat": one exported conversation (flat or recursive) */
  IMP_CHATBOTUI,                 /* "chatbot-ui": one element of its "history" */
  IMP_SILLYTAVERN                /* "sillytavern": a chat .jsonl (header line + message lines) */
};

/* "chatgpt", ...; "unknown" for IMP_UNKNOWN. */
const char *imp_format_name(enum imp_format e);
/* The format named z (exact, lower case), or IMP_UNKNOWN. */
enum imp_format imp_format_by_name(const char *z);

/* Which format one conversation object is, from its keys alone (ChatGPT: "mapping";
** Claude: "chat_messages"; LibreChat: "messages" whose items carry "messageId" (or
** "recursive"); Open WebUI: "chat" holding "history" or "messages", or a top-level "history"
** with "messages" as an object; chatbot-ui: "messages" of {role, content} with "model" or
** "folderId"; chatvault: "client_id"/"chat_id" with "messages" of {role, content}).
** IMP_UNKNOWN when none fits. SillyTavern is told by importer.c (a JSON Lines file whose
** first line has "user_name"/"character_name" or "chat_metadata"). */
enum imp_format imp_detect(const cJSON *pConv);

/* What was not kept, and why: one entry per skipped part. */
#define IMP_DETAIL_MAX 160

/* Longest message kept, in bytes: the longest reply chatvault itself stores (SSE_REPLY_MAX).
** A longer one is skipped ("over the size limit"), never cut. */
#define IMP_MESSAGE_MAX_LEN (1024*1024)
struct imp_skip {
  char zDetail[IMP_DETAIL_MAX];  /* "message 3: image part skipped", ... */
};

/* One conversation in our terms. Every pointer is malloc'd and owned (imp_conv_clear). */
struct imp_conv {
  char *zSourceId;               /* the file's id of the conversation (never NULL on success;
                                 ** when the file has none, a stable one made from its content:
                                 ** "sha256:<hex of the first 16 bytes>") */
  int eKind;                     /* CV_CONV_THREAD or CV_CONV_CHAT (store.h) */
  char *zTitle;                  /* NULL: the kind's default; else 1..255 chars (cut at a char) */
  char *zCreatedAt;              /* contract time (util_iso_format) or NULL: unknown */
  char *zUpdatedAt;              /* contract time or NULL */
  char *zMessages;               /* JSON array text of {"role","content"} (never NULL) */
  int64_t nMessages;             /* its length */
  int64_t nBytes;                /* strlen(zMessages) */
  /* Character chats (SillyTavern, chatvault chats) */
  char *zCharacterName;          /* the character the chat is with (NULL: none) */
  char *zChatId;                 /* chatvault: the entry's chat_id (a UUID) or NULL */
  /* chatvault only: ids of the exporting database, remapped by the importer */
  int64_t srcCharacterId, srcSceneId, srcPersonaId;     /* 0: none */
  char *zCharacterPicture, *zSceneName, *zScenePicture; /* copied values, may be NULL */
  cJSON *pClientId;              /* chatvault threads: the client_id value (number or string)
                                 ** as exported, or NULL */
  int bPinned, bArchived;        /* chatvault threads: as exported (0 otherwise) */
  char *zTags;                   /* chatvault threads: JSON array text of the exported tags
                                 ** (strings only, as given: the importer applies the tag
                                 ** rules), or NULL */
  /* What was skipped (not kept), in order; nSkip counts all, aSkip keeps the first
  ** IMP_SKIP_KEEP of them. */
  int nSkip;
  struct imp_skip aSkip[8];
};
#define IMP_SKIP_KEEP 8

/* Free what pConv owns and zero it. */
void imp_conv_clear(struct imp_conv *pConv);

/* Read one conversation object pConv of format eFormat (not IMP_SILLYTAVERN, not
** IMP_UNKNOWN) into *pOut (zeroed by the caller). Returns CV_OK, CV_INVALID with zWhy (nWhy
** bytes) saying why the conversation as a whole cannot be read ("no messages", "mapping
** is not an object", "current_node not found", ...; *pOut left cleared), or CV_NOMEM.
** A conversation with no kept message is CV_INVALID ("no text messages"). */
cv_rc imp_read(enum imp_format eFormat, const cJSON *pConv, struct imp_conv *pOut,
               char *zWhy, size_t nWhy);

/* Read a SillyTavern chat: pHeader its first line (user_name, character_name, create_date,
** chat_metadata), aLine[0..nLine) the message lines in order (name, is_user, is_system,
** send_date, mes, swipes...). The source id is "<character name> - <create_date>" from the
** header, else "integrity:<chat_metadata.integrity>", else the content hash. Same results
** as imp_read; the conversation is a character chat (CV_CONV_CHAT) with zCharacterName. */
cv_rc imp_read_sillytavern(const cJSON *pHeader, const cJSON *const *aLine, int nLine,
                           struct imp_conv *pOut, char *zWhy, size_t nWhy);

#endif /* CV_IMP_FORMATS_H */
