/*
** store_catalog.h — the catalog of character chats: characters and scenes (shared by every
** user, each with the user who created it) and personas (private to their user). One
** struct and one set of calls serve the three kinds; the differences are in the table
** (scenes have no greeting, personas no picture and no greeting). Pictures (bytes served
** by token, owned by the user who stored them) sit beside them. Plain C values in and
** out; never HTTP, never cJSON. Operations of the store
** interface (store.h); the SQLite backend's are sqlite_* in store_catalog.c.
*/
#ifndef CV_STORE_CATALOG_H
#define CV_STORE_CATALOG_H

#include "cv.h"
#include <stdint.h>

struct cv_store;

enum cv_kind {
  CV_KIND_CHARACTER = 0,   /* characters: shared, creator may change/delete */
  CV_KIND_SCENE = 1,       /* scenes: shared */
  CV_KIND_PERSONA = 2      /* personas: private to user_id */
};

struct cv_item {
  enum cv_kind eKind;            /* which table the row came from */
  int64_t id;                    /* row id */
  int64_t ownerId;               /* creator_id (characters, scenes; 0 when NULL) or user_id */
  char *zName;                   /* 1..CV_NAME_MAX_CHARS characters */
  char *zPicture;                /* "" when none; NULL for personas */
  char *zDescription;            /* "" when none */
  char *zGreeting;               /* "" when none; NULL for scenes and personas */
  char zCreatedAt[CV_TS_LEN+1];
};

/* Free the strings of *p and zero it. NULL is ok. */
void store_item_clear(struct cv_item *p);
/* Clear and free an array from store_catalog_list / store_catalog_recommended. NULL ok. */
void store_items_free(struct cv_item *a, int n);

/* Create an item of eKind owned by ownerId (>0; for characters and scenes the creator).
** zName is required; zPicture, zDescription, zGreeting may be NULL (stored as ""), and are
** ignored for kinds without that column. On CV_OK *pOut is the new row (clear it with
** store_item_clear). CV_NOTFOUND when ownerId is no user (deleted meanwhile). */
cv_rc store_catalog_create(struct cv_store *pS, enum cv_kind eKind, int64_t ownerId,
                           const char *zName, const char *zPicture, const char *zDescription,
                           const char *zGreeting, struct cv_item *pOut);

/* One item. Characters and scenes are visible to every user; a persona only to its user
** (another user's persona is CV_NOTFOUND, so its existence is not revealed).
** CV_NOTFOUND when missing. */
cv_rc store_catalog_get(struct cv_store *pS, enum cv_kind eKind, int64_t userId, int64_t id,
                        struct cv_item *pOut);

/* Items in id order: every character or scene, or userId's personas. At most pPage->limit
** (1..CV_LIST_MAX) from pPage->offset (>=0), or with ids above pPage->afterId when
** pPage->zAfterKey is not NULL (keyset: a SEARCH on the rowid); pPage->bMore set;
** *pnTotal = all of them. *paOut is malloc'd (free with store_items_free; NULL when *pnOut
** is 0). */
struct cv_page;
cv_rc store_catalog_list(struct cv_store *pS, enum cv_kind eKind, int64_t userId,
                         struct cv_page *pPage, struct cv_item **paOut, int *pnOut,
                         int64_t *pnTotal);

/* Change a character: each of zName, zPicture, zDescription, zGreeting that is not NULL
** replaces the stored value. Only its creator may: CV_FORBIDDEN for any other user (also
** when the creator's account is gone), CV_NOTFOUND when there is no such character.
** On CV_OK *pOut is the updated row. */
cv_rc store_catalog_update_character(struct cv_store *pS, int64_t userId, int64_t id,
                                     const char *zName, const char *zPicture,
                                     const char *zDescription, const char *zGreeting,
                                     struct cv_item *pOut);

/* Delete a character; only its creator may (errors as the update). The chats that used it
** keep their copied name and picture; their character_id becomes NULL (foreign key). */
cv_rc store_catalog_delete_character(struct cv_store *pS, int64_t userId, int64_t id);

/* Characters userId has no chat with, in id order, at most limit (1..CV_RECOMMENDED_MAX).
** *paOut as store_catalog_list. */
cv_rc store_catalog_recommended(struct cv_store *pS, int64_t userId, int limit,
                                struct cv_item **paOut, int *pnOut);

/* ---- pictures (issue 12): images chatvault serves, e.g. an imported card's --------------- */

#define CV_PICTURE_TOKEN_LEN 64  /* 256 random bits as lowercase hex */

/* A picture to store with a new character: zToken (CV_PICTURE_TOKEN_LEN lowercase hex digits,
** random), zType ("image/png", "image/jpeg", "image/gif" or "image/webp", detected from the
** bytes by the caller), a[0..n) the bytes (n > 0). */
struct cv_picture_in {
  const char *zToken;
  const char *zType;
  const void *a;
  size_t n;
};

/* Create a character owned by ownerId (>0) and, when pPic is not NULL, its picture (owned by
** the same user) in ONE write transaction: both or neither. zPicture is the character's
** picture column (the URL that serves pPic; NULL: ""); the other arguments and *pOut as
** store_catalog_create. CV_NOTFOUND when ownerId is no user; CV_CONFLICT when the token is
** taken (never in practice: it is random). */
cv_rc store_catalog_create_with_picture(struct cv_store *pS, int64_t ownerId, const char *zName,
                                        const char *zPicture, const char *zDescription,
                                        const char *zGreeting, const struct cv_picture_in *pPic,
                                        struct cv_item *pOut);

/* A stored picture. */
struct cv_picture {
  char *zType;           /* malloc'd MIME type */
  unsigned char *a;      /* malloc'd bytes */
  size_t n;
};
/* Free what *p holds and zero it. NULL is ok. */
void store_picture_clear(struct cv_picture *p);

/* The picture whose token is zToken (any string; looked up through the UNIQUE index on the
** token, for any user: the token is the capability). CV_NOTFOUND when there is none. On CV_OK
** *pOut holds a copy (store_picture_clear). */
cv_rc store_catalog_picture_get(struct cv_store *pS, const char *zToken, struct cv_picture *pOut);

#endif
