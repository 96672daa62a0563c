/*
** handlers.h — every route handler. A handler validates input, calls a store or service,
** renders, and returns the status it sent (civetweb's handler contract). Handlers know
** HTTP (through http.h) but never SQL or civetweb. Each one is listed in router.c.
*/
#ifndef CV_HANDLERS_H
#define CV_HANDLERS_H

struct cv_req;

/* h_misc.c */
int h_healthz(struct cv_req *r);
int h_static(struct cv_req *r);
int h_openapi(struct cv_req *r);
int h_docs(struct cv_req *r);

/* h_auth.c */
int h_auth_register(struct cv_req *r);
int h_auth_login(struct cv_req *r);
int h_auth_logout(struct cv_req *r);
int h_auth_me(struct cv_req *r);

/* h_auth.c, shared with h_users.c (not routes). Each returns 1 when it succeeded and sent
** nothing, or 0 when it has sent the error response (the caller returns r->status).
** h_auth_create_user: reads and validates {email, password, display_name?} and creates
**   the user (403 with --no-signup, 409, 422); *pOut filled on 1 (store_user_clear).
** h_auth_check_login: reads {email, password}, checks them (401, 429, 422) and issues a
**   token into zToken (CV_TOKEN_CHARS+1 bytes); *pOut filled on 1 (store_user_clear). */
struct cv_user;
int h_auth_create_user(struct cv_req *r, struct cv_user *pOut);
int h_auth_check_login(struct cv_req *r, struct cv_user *pOut, char *zToken);

/* h_threads.c */
int h_threads_create(struct cv_req *r);
int h_threads_list(struct cv_req *r);
int h_threads_get(struct cv_req *r);
int h_threads_update(struct cv_req *r);
int h_threads_delete(struct cv_req *r);
int h_threads_append(struct cv_req *r);
int h_threads_import(struct cv_req *r);
int h_threads_messages(struct cv_req *r);
int h_threads_edit_message(struct cv_req *r);   /* PATCH …/messages/{index} */
int h_threads_truncate(struct cv_req *r);       /* DELETE …/messages?from=N */
int h_threads_fork(struct cv_req *r);           /* POST …/fork */

/* h_members.c */
int h_members_add(struct cv_req *r);
int h_members_list(struct cv_req *r);
int h_members_remove(struct cv_req *r);

/* h_shares.c */
int h_shares_create(struct cv_req *r);
int h_shares_list(struct cv_req *r);
int h_changes(struct cv_req *r);
int h_events(struct cv_req *r);
int h_shares_revoke(struct cv_req *r);
int h_shared_get(struct cv_req *r);
int h_shared_page(struct cv_req *r);

/* h_organize.c */
int h_tags_list(struct cv_req *r);
int h_stats(struct cv_req *r);

/* h_catalog.c */
int h_characters_list(struct cv_req *r);
int h_characters_create(struct cv_req *r);
int h_characters_get(struct cv_req *r);
int h_characters_update(struct cv_req *r);
int h_characters_delete(struct cv_req *r);
int h_characters_recommended(struct cv_req *r);
int h_scenes_list(struct cv_req *r);
int h_scenes_create(struct cv_req *r);
int h_scenes_get(struct cv_req *r);
int h_personas_list(struct cv_req *r);
int h_personas_create(struct cv_req *r);

/* h_cards.c */
int h_characters_import(struct cv_req *r);
int h_pictures_get(struct cv_req *r);

/* h_users.c */
int h_users_create(struct cv_req *r);
int h_users_login(struct cv_req *r);
int h_users_me(struct cv_req *r);
int h_users_get(struct cv_req *r);
int h_users_delete_me(struct cv_req *r);

/* h_chats.c */
int h_chat_send(struct cv_req *r);
int h_chat_rename(struct cv_req *r);
int h_chat_delete(struct cv_req *r);
int h_chat_history(struct cv_req *r);
int h_chat_history_archived(struct cv_req *r);
int h_chat_restore(struct cv_req *r);

/* h_export.c */
int h_export_all(struct cv_req *r);
int h_threads_export(struct cv_req *r);
int h_chat_export(struct cv_req *r);

/* h_import.c */
int h_import(struct cv_req *r);

/* h_search.c */
int h_search(struct cv_req *r);
int h_threads_complete(struct cv_req *r);   /* answers like POST /api/chat */

/* h_openai.c: the OpenAI-compatible recording endpoint (contract v2) */
int h_openai_chat(struct cv_req *r);
int h_openai_models(struct cv_req *r);

#endif
