/*
** render.h — C structs to the contract's JSON shapes. Each returns a new cJSON tree
** (free with cJSON_Delete) or NULL when memory ran out. Stored message arrays are inserted
** verbatim (they were validated and normalized on the way in). May call cJSON.
*/
#ifndef CV_RENDER_H
#define CV_RENDER_H

#include <cJSON.h>

struct cv_user;
struct cv_thread;
struct cv_append;

/* {id, email, display_name, created_at} */
cJSON *render_user(const struct cv_user *p);

/* ChatThreadOut {id, user_id, title, messages, created_at, updated_at} */
cJSON *render_thread(const struct cv_thread *p);

/* ChatThreadSummaryOut {id, title, created_at, updated_at, message_count} */
cJSON *render_thread_summary(const struct cv_thread *p);

/* Append answer {thread_id, index, message, title, updated_at}; zMessage is JSON text. */
cJSON *render_append(long long threadId, const struct cv_append *p, const char *zMessage);

/* Add the JSON text zJson (trusted, valid) to pObj under zKey. 0 on OOM. */
int render_add_raw(cJSON *pObj, const char *zKey, const char *zJson);

/* Add a string, or null when z is NULL. 0 on OOM. */
int render_add_str(cJSON *pObj, const char *zKey, const char *z);

#endif
