/*
** store_users.h — accounts in the users table. Plain C values in and out; never HTTP,
** never cJSON. Operations of the store
** interface (store.h); the SQLite backend's are sqlite_* in store_users.c.
*/
#ifndef CV_STORE_USERS_H
#define CV_STORE_USERS_H

#include "cv.h"
#include <stdint.h>

struct cv_store;

struct cv_user {
  int64_t id;                    /* users.id */
  char *zEmail;                  /* as registered */
  char *zDisplayName;            /* NULL when none */
  char *zPasswordHash;           /* Argon2id string; NULL when the user has no password */
  char zCreatedAt[CV_TS_LEN+1];  /* ISO time */
};

/* Free the strings of *p (not p itself) and zero it. NULL is ok. */
void store_user_clear(struct cv_user *p);

/* Insert a user. zPasswordHash and zDisplayName may be NULL. CV_CONFLICT when the email
** is taken (case-insensitively). On CV_OK *pOut is filled (clear it with store_user_clear). */
cv_rc store_users_create(struct cv_store *pS, const char *zEmail, const char *zPasswordHash,
                         const char *zDisplayName, struct cv_user *pOut);

/* Look a user up by email (case-insensitive) or id. CV_NOTFOUND when missing. */
cv_rc store_users_by_email(struct cv_store *pS, const char *zEmail, struct cv_user *pOut);
cv_rc store_users_by_id(struct cv_store *pS, int64_t id, struct cv_user *pOut);

/* Set the password hash of the user with this email and, in the same transaction, revoke
** every token of theirs (a password change ends the sessions opened with the old one).
** CV_NOTFOUND when missing. *pnRevoked (may be NULL) receives the number of tokens deleted. */
cv_rc store_users_set_password(struct cv_store *pS, const char *zEmail, const char *zHash,
                               int *pnRevoked);

/* Delete a user and, through foreign keys, every row of theirs, in one transaction. */
cv_rc store_users_delete(struct cv_store *pS, int64_t id);

#endif
