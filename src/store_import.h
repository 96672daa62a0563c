/*
** store_import.h — writing what an import read (importer.c): conversations of both kinds,
** and the personas and characters of a chatvault export, in batches of one write
** transaction each. Idempotency is carried by keys the caller makes: a thread's client_id,
** a chat's chat_id (see importer.c for how they are derived from (user, format, source id)).
** Implemented in store_import.c (SQLite backend); tested through tests/api/test_import.py.
*/
#ifndef CV_STORE_IMPORT_H
#define CV_STORE_IMPORT_H

#include "cv.h"
#include <stdint.h>

struct cv_store;
struct cv_tagset;

/* One conversation to write. In: every field but the OUT ones; strings may be NULL where
** said. Every string is already validated: times in the contract's format, zMessages a
** normalized JSON array of nMessages messages, titles within their limits. */
struct cv_import_conv {
  int eKind;                     /* CV_CONV_THREAD or CV_CONV_CHAT */
  const char *zKey;              /* thread: its client_id; chat: the chat_id to give it */
  const char *zAltChatId;        /* chat: another chat_id meaning "already imported" when
                                 ** this user has a chat with it (NULL: none) */
  int64_t altThreadId;           /* thread: "already imported" when this user has a thread
                                 ** with this id and zCreatedAt (a chatvault export's own
                                 ** thread coming back to its owner); 0: none */
  const char *zTitle;            /* NULL: the kind's default */
  const char *zMessages;
  int64_t nMessages;
  const char *zCreatedAt;        /* NULL: now */
  const char *zUpdatedAt;        /* thread updated_at / chat last_updated; NULL: zCreatedAt */
  int bPinned, bArchived;        /* thread: organized as exported (chatvault) */
  const struct cv_tagset *pTags; /* thread: its tags (tags.h), or NULL */
  /* chats */
  const char *zCharacterName;    /* with bFindCharacter: the character to match or create */
  int bFindCharacter;            /* match a character by name (the caller's own first, then
                                 ** the catalog's, lowest id), or create it as the caller's */
  int64_t characterId, sceneId, personaId;     /* 0: none (kept only when they still mean
                                               ** the same, as for legacy imports) */
  const char *zCharacterPicture, *zSceneName, *zScenePicture;
  /* OUT */
  int eResult;                   /* CV_IMPORT_ADDED, _EXISTED or _RETAINED_OUT (store_chats.h) */
  int64_t id;                    /* thread: its id (written or existing) */
  const char *zChatIdOut;        /* chat: its chat_id (zKey or zAltChatId), borrowed */
};

/* Write a[0..n) for userId in one transaction: a thread whose client_id the user has, or a
** chat whose chat_id (or zAltChatId, for this user) exists, is left as it is (EXISTED).
** Chats are written newest first and the retention trigger applies (RETAINED_OUT: older
** than the user's newest N). On an error nothing of the batch is kept. */
cv_rc store_import_convs(struct cv_store *pS, int64_t userId, struct cv_import_conv *a, int n);

/* A persona or a character of a chatvault export. Matched by name among the user's own
** (personas: the user's; characters: those the user created), else created. */
struct cv_import_person {
  int bCharacter;                /* 1: a character, 0: a persona */
  const char *zName;             /* 1..100 chars */
  const char *zDescription;      /* may be NULL */
  const char *zPicture;          /* characters; may be NULL */
  const char *zGreeting;         /* characters; may be NULL */
  const char *zCreatedAt;        /* NULL: now */
  int64_t id;                    /* OUT: the matched or created row */
  int bCreated;                  /* OUT */
};

/* Match or create a[0..n) for userId in one transaction. */
cv_rc store_import_people(struct cv_store *pS, int64_t userId, struct cv_import_person *a, int n);

#endif /* CV_STORE_IMPORT_H */
