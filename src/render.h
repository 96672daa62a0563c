/*
** render.h — C structs to the contract's JSON shapes, one function per shape. Small shapes
** (a user, a catalog item, an append answer) are cJSON trees (free with cJSON_Delete; NULL
** when memory ran out). Shapes that carry messages are written as JSON text through a sink
** (util.h), the messages pulled from the store by the caller's cv_messages_fn while the
** text is written, so a conversation is never copied whole into memory.
** May call cJSON and util.
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
struct cv_buf;
struct cv_sink;

/* {id, email, display_name, created_at} */
cJSON *render_user(const struct cv_user *p);

/* A member of a shared thread: {user_id, email, display_name, added_at}. NULL on OOM. */
struct cv_member;
cJSON *render_member(const struct cv_member *p);

/* Writes the messages array of conversation id to pOut (store_messages_cb over a snapshot). */
struct cv_sink;
typedef cv_rc (*cv_messages_fn)(void *pCtx, long long id, struct cv_sink *pOut);

/* ChatThreadOut {id, user_id, title, messages, created_at, updated_at, pinned, archived,
** tags}; tags is the stored JSON text (t->zTags, NULL: []). A thread read by a member
** (t->bShared) also has owner {id, display_name}. */
cv_rc render_thread(struct cv_sink *pOut, const struct cv_thread *t, cv_messages_fn xMessages,
                    void *pCtx);

/* ChatThreadOut followed by "client_id" (the export's thread): zClientId written as a JSON
** number when it is an integer as the import stores one (-?(0|[1-9][0-9]*), at most 18
** digits: a browser's numeric id), else as a string; NULL gives null. */
cv_rc render_thread_export(struct cv_sink *pOut, const struct cv_thread *t,
                           const char *zClientId, cv_messages_fn xMessages, void *pCtx);


/* Append answer {thread_id, index, message, title, updated_at}; zMessage is JSON text. */
cJSON *render_append(long long threadId, const struct cv_append *p, const char *zMessage);

/* A catalog item by its kind: character {id, name, picture, description, greeting,
** created_at}; scene {id, name, picture, description, created_at}; persona {id, name,
** description, created_at}. */
cJSON *render_item(const struct cv_item *p);

/* A chat history entry, exactly {chat_id, character_id, character_name, character_picture,
** scene_id, scene_name, scene_picture, persona_id, title, messages, last_updated,
** created_at}; ids 0 become null. */
cv_rc render_chat_entry(struct cv_sink *pOut, const struct cv_chat *c, cv_messages_fn xMessages,
                        void *pCtx);
/* A chat of the export document (GET /api/v1/export "chats"): the entry, plus
** "archived":true when the chat is in the archive (--history-overflow archive). */
cv_rc render_chat_export(struct cv_sink *pOut, const struct cv_chat *c, cv_messages_fn xMessages,
                         void *pCtx);

/* The answer of a chat turn: {chat_id, reply, chat: entry}. */
cv_rc render_chat_answer(struct cv_sink *pOut, const struct cv_chat *c, const char *zReply,
                         cv_messages_fn xMessages, void *pCtx);

/* The answer of a thread turn: {thread_id, reply, thread: ChatThreadOut}. */
cv_rc render_thread_answer(struct cv_sink *pOut, const struct cv_thread *t, const char *zReply,
                           cv_messages_fn xMessages, void *pCtx);

/* A streamed delta event's data: {"delta":"..."} of z[0..n) (valid UTF-8). */
cv_rc render_delta(struct cv_buf *b, const char *z, size_t n);

/* [entry, ...] of a[0..n). */
cv_rc render_chat_entries(struct cv_sink *pOut, const struct cv_chat *a, int n,
                          cv_messages_fn xMessages, void *pCtx);

/* The older client's user response's fields without the braces: "id":..,"email":..,
** "display_name":..,"created_at":..,"chat_history":[entry...] (the chats a[0..n) in order). */
cv_rc render_user_fields(struct cv_sink *pOut, const struct cv_user *u, const struct cv_chat *a,
                         int n, cv_messages_fn xMessages, void *pCtx);

/* Append z (valid UTF-8) to pOut as a JSON string literal, or null when z is NULL. */
cv_rc render_string(struct cv_sink *pOut, const char *z);

/* The list answer [ChatThreadSummaryOut, ...] — each {id, title, created_at, updated_at,
** message_count, pinned, archived, tags} — written straight into b as JSON text: the
** hottest list path builds no cJSON tree (a tree costs ~8 allocations per summary).
** Titles are escaped; the times are copied as they are, so they must be what
** util_iso_format wrote (every stored time is: import re-formats the client's). Same for
** render_thread_json, whose messages are the stored, already valid JSON array. A shared
** thread (bShared) also has owner {id, display_name}. */
struct cv_buf;
cv_rc render_thread_summaries(struct cv_buf *b, const struct cv_thread *a, int n);

/* The search answer {"items":[hit...],"total":N} (contract "Search"): each hit's snippet and
** highlights made by search_snippet from its text and matches. The hits' texts are
** NUL-terminated at the snippet's end while it is written, then restored. */
struct cv_search_hit;
cv_rc render_search_result(struct cv_buf *b, struct cv_search_hit *a, int n, long long total);

/* GET /api/v1/tags: [{tag, count}, ...] of a[0..n), as JSON text into b. */
struct cv_tag_count;
cv_rc render_tag_counts(struct cv_buf *b, const struct cv_tag_count *a, int n);

/* GET /api/v1/stats: {threads, chats, messages, characters_used, per_day:[{date, messages}],
** top_characters:[{character_name, chats, messages}]} as JSON text into b; per_day is the
** nDay days azDay[i] (YYYY-MM-DD) with anDay[i] messages, in that order. */
struct cv_stats;
cv_rc render_stats(struct cv_buf *b, const struct cv_stats *p, const char (*azDay)[11],
                   const int64_t *anDay, int nDay);

/* Append z (valid UTF-8) to b as a JSON string literal, escaped as cJSON prints it. */
cv_rc render_json_string(struct cv_buf *b, const char *z);

/* A record of the change log, {"kind","id","op","at"} (id: the chat_id of a chat, else the
** integer), appended to b: the same text in a replay's page and an event's data. */
struct cv_change;
cv_rc render_change(struct cv_buf *b, const struct cv_change *p);

/* A page of the change log: {"changes":[render_change...],"cursor":zCursor,"more":bMore}. */
cv_rc render_changes_page(struct cv_buf *b, const struct cv_change *a, int n,
                          const char *zCursor, int bMore);

/* Add the JSON text zJson (trusted, valid) to pObj under zKey. 0 on OOM. */
int render_add_raw(cJSON *pObj, const char *zKey, const char *zJson);

/* Add an integer. Printed as an integer directly: cJSON's own number printing formats
** every number with "%1.15g" and parses it back to check precision, a third of the cost of
** rendering a list. 0 on OOM. */
int render_add_int(cJSON *pObj, const char *zKey, long long v);

/* Add a string, or null when z is NULL. 0 on OOM. */
int render_add_str(cJSON *pObj, const char *zKey, const char *z);

/* The answer of an import (importer.h): {format, imported, skipped, items:[{source_id, kind,
** id}], errors:[{source_id, detail}], errors_total}, written to pOut as it goes (a file of
** 80,000 conversations lists 80,000 items). A chat's id is its chat_id. */
struct cv_import_report;
cv_rc render_import_result(struct cv_sink *pOut, const struct cv_import_report *p);

#endif
