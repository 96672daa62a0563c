/*
** store_chats.h — character chats: the chat rules (a UUID chat_id, the character's and
** scene's name and picture copied in so the chat survives their deletion, the retention
** trigger of schema.sql keeping the newest N chats per user) on top of the one conversation
** store (store_conv.h), whose segments hold the messages. Messages pass in as JSON text the
** caller has validated and normalized and come out through a read snapshot (store.h).
** Also the legacy import batch. Operations of the store
** interface (store.h); the SQLite backend's are sqlite_* in store_chats.c.
*/
#ifndef CV_STORE_CHATS_H
#define CV_STORE_CHATS_H

#include "cv.h"
#include <stdint.h>

struct cv_store;

struct cv_chat {
  int64_t id;                       /* chat_histories.id (internal) */
  char zChatId[CV_UUID_LEN+1];      /* the chat's UUID */
  int64_t userId;                   /* owner */
  int64_t characterId;              /* 0 when NULL (none, or the character was deleted) */
  int64_t sceneId;                  /* 0 when NULL */
  int64_t personaId;                /* 0 when NULL */
  char *zCharacterName;             /* copied at creation; NULL when none */
  char *zCharacterPicture;          /* copied at creation; NULL when none */
  char *zSceneName;                 /* copied at creation; NULL when none */
  char *zScenePicture;              /* copied at creation; NULL when none */
  char *zTitle;                     /* "" when untitled */
  int64_t nMessages;                /* message_count */
  char zLastUpdated[CV_TS_LEN+1];
  char zCreatedAt[CV_TS_LEN+1];
  int bArchived;                    /* 1: moved to the archive by retention (--history-overflow
                                    ** archive); the legacy client's views hold only 0 */
};

/* Free the strings of *p and zero it. NULL is ok. */
void store_chat_clear(struct cv_chat *p);
/* Clear and free an array from store_chats_list. NULL is ok. */
void store_chats_free_list(struct cv_chat *a, int n);

/* What a message may create: the chat's references and title, used only when the chat
** does not exist yet. Ids are 0 for "none". */
struct cv_chat_new {
  int64_t characterId;
  int64_t sceneId;
  int64_t personaId;
};

/* Append one message (zMessage: JSON text of a validated message object) to chat zChatId
** (a lower-case UUID) of userId, in one statement, and make it the user's newest chat.
** pNew not NULL: the references in *pNew are checked first (a character and a scene must
** exist, a persona must be userId's), and a chat that does not exist is created with them,
** the character's and scene's names and pictures copied in, and zMessage as its first
** message (its title: the automatic title, store_conv_touch). pNew NULL: the chat must exist.
** An archived chat is restored first (store_chats_restore), then appended to.
** Returns CV_OK with *pOut the chat's header after the append (clear with store_chat_clear);
** CV_FORBIDDEN: zChatId is another user's chat; CV_NOTFOUND: a reference is missing
** (*pzMissing = "Character", "Scene" or "Persona", static) or, with pNew NULL, the chat
** is gone (*pzMissing = "Chat"). pzMissing may be NULL. */
cv_rc store_chats_add_message(struct cv_store *pS, int64_t userId, const char *zChatId,
                              const struct cv_chat_new *pNew, const char *zMessage,
                              struct cv_chat *pOut, const char **pzMissing);

/* The header of one chat of userId, read in snapshot pRd (its messages:
** store_read_messages(pRd, pOut->id, ...)). CV_NOTFOUND: no such chat_id; CV_FORBIDDEN:
** another user's. */
struct cv_read;
cv_rc store_chats_get(struct cv_read *pRd, int64_t userId, const char *zChatId,
                      struct cv_chat *pOut);

/* Set the title (validated: 1..CV_TITLE_MAX_CHARS) and make the chat the user's newest
** (an archived chat is restored, as store_chats_restore does).
** CV_NOTFOUND / CV_FORBIDDEN as store_chats_get. On CV_OK *pOut is the renamed header. */
cv_rc store_chats_rename(struct cv_store *pS, int64_t userId, const char *zChatId,
                         const char *zTitle, struct cv_chat *pOut);

/* Delete one chat, kept or archived. Errors as store_chats_get. */
cv_rc store_chats_delete(struct cv_store *pS, int64_t userId, const char *zChatId);

/* userId's chat headers in snapshot pRd, newest last_updated first (ties: newer row first).
** pPage->limit>0: at most limit from pPage->offset, or after the keyset position
** (last_updated, id) in pPage (a SEARCH of chat_histories_user_updated, no temporary
** b-tree), pPage->bMore set; limit 0: all of them. *paOut is malloc'd (free with
** store_chats_free_list; NULL when *pnOut is 0); *pnTotal (may be NULL) = all the user's
** chats, counted in the same snapshot. */
struct cv_page;
cv_rc store_chats_list(struct cv_read *pRd, int64_t userId, struct cv_page *pPage,
                       struct cv_chat **paOut, int *pnOut, int64_t *pnTotal);

/* The archive (--history-overflow archive): userId's archived chats, as store_chats_list
** lists the kept ones (same order, paging, keyset and total, counted over archived chats
** only; a SEARCH of chat_histories_user_updated). store_chats_list never lists them. */
cv_rc store_chats_list_archived(struct cv_read *pRd, int64_t userId, struct cv_page *pPage,
                                struct cv_chat **paOut, int *pnOut, int64_t *pnTotal);

/* Bring archived chat zChatId of userId back: it becomes the user's newest chat
** (last_updated = now), and the retention trigger moves the oldest kept chat beyond the
** limit into the archive (never deletes it). A chat that is not archived is left as it is
** (CV_OK: restoring is idempotent). *pOut is the chat's header after it (clear with
** store_chat_clear). CV_NOTFOUND / CV_FORBIDDEN as store_chats_get. */
cv_rc store_chats_restore(struct cv_store *pS, int64_t userId, const char *zChatId,
                          struct cv_chat *pOut);

/* ---- legacy import ------------------------------------------------------------------- */

enum cv_import_result {
  CV_IMPORT_ADDED = 1,              /* inserted and kept */
  CV_IMPORT_EXISTED = 2,            /* chat_id already present: nothing done */
  CV_IMPORT_RETAINED_OUT = 3        /* inserted, then removed by retention within the same
                                    ** batch (older than its user's newest N) */
};

/* One legacy chat. Every input is validated by the caller: zChatId a lower-case UUID,
** zMessages a normalized JSON array of nMessages messages, zTitle "" or <= 255 chars,
** times in the contract's format. Legacy ids are kept only when they still mean the same
** thing here: a character/scene id only if that row exists with the copied name, a
** persona id only if it is that user's persona; otherwise NULL. */
struct cv_legacy_chat {
  const char *zChatId;
  int64_t characterId, sceneId, personaId;   /* 0: none */
  const char *zCharacterName, *zCharacterPicture, *zSceneName, *zScenePicture; /* may be NULL */
  const char *zTitle;
  const char *zMessages;
  int64_t nMessages;
  const char *zLastUpdated;
  const char *zCreatedAt;
  int eResult;                      /* OUT: enum cv_import_result */
};

/* One legacy user row: matched by email (case-insensitively); created without a password
** when missing. zDisplayName and zCreatedAt may be NULL. */
struct cv_legacy_user {
  const char *zEmail;
  const char *zDisplayName;
  const char *zCreatedAt;
  struct cv_legacy_chat *aChat;
  int nChat;
  int64_t userId;                   /* OUT */
  int bCreated;                     /* OUT: 1 when this batch created the user */
};

/* Import a batch of legacy users and their chats in one write transaction, with cached
** prepared statements. Chats go in with INSERT ... ON CONFLICT(chat_id) DO NOTHING, so
** running the same batch again changes nothing; the retention trigger applies. On any
** error nothing of the batch is kept. */
cv_rc store_chats_import_legacy(struct cv_store *pS, struct cv_legacy_user *aUser, int nUser);

#endif
