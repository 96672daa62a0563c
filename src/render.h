/*
** render.h — C structs to the contract's JSON shapes. Each returns a new cJSON tree
** (free with cJSON_Delete) or NULL when memory ran out. Stored message arrays are inserted
** verbatim (they were validated and normalized on the way in). May call cJSON.
*/
#ifndef CV_RENDER_H
#define CV_RENDER_H

#include <cJSON.h>
#include "cv.h"

struct cv_user;
struct cv_thread;
struct cv_append;
struct cv_item;
struct cv_chat;

/* {id, email, display_name, created_at} */
cJSON *render_user(const struct cv_user *p);

/* ChatThreadOut {id, user_id, title, messages, created_at, updated_at} */
cJSON *render_thread(const struct cv_thread *p);


/* Append answer {thread_id, index, message, title, updated_at}; zMessage is JSON text. */
cJSON *render_append(long long threadId, const struct cv_append *p, const char *zMessage);

/* A catalog item by its kind: character {id, name, picture, description, greeting,
** created_at}; scene {id, name, picture, description, created_at}; persona {id, name,
** description, created_at}. */
cJSON *render_item(const struct cv_item *p);

/* A chat history entry, exactly {chat_id, character_id, character_name, character_picture,
** scene_id, scene_name, scene_picture, persona_id, title, messages, last_updated,
** created_at}; ids 0 become null. */
cJSON *render_chat_entry(const struct cv_chat *p);

/* An array of entries (n may be 0; a NULL). */
cJSON *render_chat_entries(const struct cv_chat *a, int n);

/* The older client's user response, exactly {id, email, display_name, created_at,
** chat_history:[entry...]} with the chats a[0..n) in the given order. */
cJSON *render_user_with_history(const struct cv_user *u, const struct cv_chat *a, int n);

/* The list answer [ChatThreadSummaryOut, ...] — each {id, title, created_at, updated_at,
** message_count} — written straight into b as JSON text: the
** hottest list path builds no cJSON tree (a tree costs ~8 allocations per summary).
** Titles are escaped; the times are copied as they are, so they must be what
** util_iso_format wrote (every stored time is: import re-formats the client's). Same for
** render_thread_json, whose messages are the stored, already valid JSON array. */
struct cv_buf;
cv_rc render_thread_summaries(struct cv_buf *b, const struct cv_thread *a, int n);

/* ChatThreadOut written straight into b (the stored messages copied once, verbatim). */
cv_rc render_thread_json(struct cv_buf *b, const struct cv_thread *t);

/* Append z (valid UTF-8) to b as a JSON string literal, escaped as cJSON prints it. */
cv_rc render_json_string(struct cv_buf *b, const char *z);

/* Add the JSON text zJson (trusted, valid) to pObj under zKey. 0 on OOM. */
int render_add_raw(cJSON *pObj, const char *zKey, const char *zJson);

/* Add an integer. Printed as an integer directly: cJSON's own number printing formats
** every number with "%1.15g" and parses it back to check precision, a third of the cost of
** rendering a list. 0 on OOM. */
int render_add_int(cJSON *pObj, const char *zKey, long long v);

/* Add a string, or null when z is NULL. 0 on OOM. */
int render_add_str(cJSON *pObj, const char *zKey, const char *z);

#endif
