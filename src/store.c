/*
** store.c — the store interface's one door (store.h): each store_<op>() hands its arguments,
** unchanged, to the <op> of the backend whose table the store carries (store_backend.h),
** as SQLite's os.c does for a VFS. Also the backend-neutral helpers that free what the
** operations return. Nothing here knows SQL.
*/
#include "store_backend.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* The table of pS's backend. Every backend's store begins with a struct cv_store_base. */
static const struct cv_store_backend *backend(struct cv_store *pS){
  const struct cv_store_backend *pB;
  assert( pS!=NULL );
  pB = ((const struct cv_store_base*)(const void*)pS)->pB;
  assert( pB!=NULL );
  return pB;
}

void store_close(struct cv_store *pS){
  if( pS ) backend(pS)->close(pS);
}

const char *store_backend_name(struct cv_store *pS){
  return backend(pS)->zName;
}

cv_rc store_users_create(struct cv_store *pS, const char *zEmail, const char *zPasswordHash,
                         const char *zDisplayName, struct cv_user *pOut){
  return backend(pS)->users_create(pS, zEmail, zPasswordHash, zDisplayName, pOut);
}

cv_rc store_users_by_email(struct cv_store *pS, const char *zEmail, struct cv_user *pOut){
  return backend(pS)->users_by_email(pS, zEmail, pOut);
}

cv_rc store_users_by_id(struct cv_store *pS, int64_t id, struct cv_user *pOut){
  return backend(pS)->users_by_id(pS, id, pOut);
}

cv_rc store_users_set_password(struct cv_store *pS, const char *zEmail, const char *zHash,
                               int *pnRevoked){
  return backend(pS)->users_set_password(pS, zEmail, zHash, pnRevoked);
}

cv_rc store_users_delete(struct cv_store *pS, int64_t id){
  return backend(pS)->users_delete(pS, id);
}

cv_rc store_users_stats(struct cv_store *pS, int64_t userId, const char *zFirstDay,
                        const char *zLastDay, struct cv_stats *pOut){
  return backend(pS)->users_stats(pS, userId, zFirstDay, zLastDay, pOut);
}

cv_rc store_tokens_insert(struct cv_store *pS, int64_t userId,
                          const unsigned char aHash[CV_TOKEN_HASH_LEN], int64_t nowMs,
                          int64_t expiresMs){
  return backend(pS)->tokens_insert(pS, userId, aHash, nowMs, expiresMs);
}

cv_rc store_tokens_lookup(struct cv_store *pS, const unsigned char aHash[CV_TOKEN_HASH_LEN],
                          int64_t nowMs, int64_t *pUserId, int64_t *pLastUsedMs){
  return backend(pS)->tokens_lookup(pS, aHash, nowMs, pUserId, pLastUsedMs);
}

cv_rc store_tokens_touch(struct cv_store *pS, const unsigned char aHash[CV_TOKEN_HASH_LEN],
                         int64_t nowMs){
  return backend(pS)->tokens_touch(pS, aHash, nowMs);
}

cv_rc store_tokens_revoke(struct cv_store *pS, const unsigned char aHash[CV_TOKEN_HASH_LEN]){
  return backend(pS)->tokens_revoke(pS, aHash);
}

cv_rc store_tokens_revoke_user(struct cv_store *pS, int64_t userId, int *pnRevoked){
  return backend(pS)->tokens_revoke_user(pS, userId, pnRevoked);
}

cv_rc store_tokens_purge(struct cv_store *pS, int64_t nowMs){
  return backend(pS)->tokens_purge(pS, nowMs);
}

cv_rc store_catalog_create(struct cv_store *pS, enum cv_kind eKind, int64_t ownerId,
                           const char *zName, const char *zPicture, const char *zDescription,
                           const char *zGreeting, struct cv_item *pOut){
  return backend(pS)->catalog_create(pS, eKind, ownerId, zName, zPicture, zDescription, zGreeting,
                                     pOut);
}

cv_rc store_catalog_get(struct cv_store *pS, enum cv_kind eKind, int64_t userId, int64_t id,
                        struct cv_item *pOut){
  return backend(pS)->catalog_get(pS, eKind, userId, id, pOut);
}

cv_rc store_catalog_list(struct cv_store *pS, enum cv_kind eKind, int64_t userId,
                         struct cv_page *pPage, struct cv_item **paOut, int *pnOut,
                         int64_t *pnTotal){
  return backend(pS)->catalog_list(pS, eKind, userId, pPage, paOut, pnOut, pnTotal);
}

cv_rc store_catalog_update_character(struct cv_store *pS, int64_t userId, int64_t id,
                                     const char *zName, const char *zPicture,
                                     const char *zDescription, const char *zGreeting,
                                     struct cv_item *pOut){
  return backend(pS)->catalog_update_character(pS, userId, id, zName, zPicture, zDescription,
                                               zGreeting, pOut);
}

cv_rc store_catalog_delete_character(struct cv_store *pS, int64_t userId, int64_t id){
  return backend(pS)->catalog_delete_character(pS, userId, id);
}

cv_rc store_catalog_recommended(struct cv_store *pS, int64_t userId, int limit,
                                struct cv_item **paOut, int *pnOut){
  return backend(pS)->catalog_recommended(pS, userId, limit, paOut, pnOut);
}

cv_rc store_catalog_create_with_picture(struct cv_store *pS, int64_t ownerId, const char *zName,
                                        const char *zPicture, const char *zDescription,
                                        const char *zGreeting, const struct cv_picture_in *pPic,
                                        struct cv_item *pOut){
  return backend(pS)->catalog_create_with_picture(pS, ownerId, zName, zPicture, zDescription,
                                                  zGreeting, pPic, pOut);
}

cv_rc store_catalog_picture_get(struct cv_store *pS, const char *zToken, struct cv_picture *pOut){
  return backend(pS)->catalog_picture_get(pS, zToken, pOut);
}

cv_rc store_threads_create(struct cv_store *pS, int64_t userId, const char *zTitle,
                           const char *zMessages, int64_t nMessages, struct cv_thread *pOut){
  return backend(pS)->threads_create(pS, userId, zTitle, zMessages, nMessages, pOut);
}

cv_rc store_threads_get(struct cv_read *pRd, int64_t userId, int64_t id, struct cv_thread *pOut){
  return backend(pRd->pS)->threads_get(pRd, userId, id, pOut);
}

cv_rc store_threads_list(struct cv_store *pS, int64_t userId, const struct cv_thread_filter *pF,
                         struct cv_page *pPage, struct cv_thread **paOut, int *pnOut,
                         int64_t *pnTotal){
  return backend(pS)->threads_list(pS, userId, pF, pPage, paOut, pnOut, pnTotal);
}

cv_rc store_threads_update(struct cv_store *pS, int64_t userId, int64_t id, const char *zTitle,
                           const char *zMessages, int64_t nMessages,
                           const struct cv_thread_org *pOrg, struct cv_thread *pOut){
  return backend(pS)->threads_update(pS, userId, id, zTitle, zMessages, nMessages, pOrg, pOut);
}

cv_rc store_threads_delete(struct cv_store *pS, int64_t userId, int64_t id){
  return backend(pS)->threads_delete(pS, userId, id);
}

cv_rc store_threads_append(struct cv_store *pS, int64_t userId, int64_t id, const char *zMessage,
                           struct cv_append *pOut){
  return backend(pS)->threads_append(pS, userId, id, zMessage, pOut);
}

cv_rc store_threads_import(struct cv_store *pS, int64_t userId, struct cv_import_item *aItem,
                           int nItem){
  return backend(pS)->threads_import(pS, userId, aItem, nItem);
}

cv_rc store_threads_tags(struct cv_store *pS, int64_t userId, struct cv_tag_count **paOut,
                         int *pnOut){
  return backend(pS)->threads_tags(pS, userId, paOut, pnOut);
}

cv_rc store_threads_view(struct cv_read *pRd, int64_t userId, int64_t id, struct cv_thread *pOut,
                         int *pbOwner){
  return backend(pRd->pS)->threads_view(pRd, userId, id, pOut, pbOwner);
}

cv_rc store_threads_list_shared(struct cv_store *pS, int64_t userId, struct cv_page *pPage,
                                struct cv_thread **paOut, int *pnOut, int64_t *pnTotal){
  return backend(pS)->threads_list_shared(pS, userId, pPage, paOut, pnOut, pnTotal);
}

cv_rc store_threads_edit_message(struct cv_store *pS, int64_t userId, int64_t id,
                                 int64_t iIndex, const char *zContent, const char *zRole,
                                 struct cv_msg_edit *pOut){
  return backend(pS)->threads_edit_message(pS, userId, id, iIndex, zContent, zRole, pOut);
}

cv_rc store_threads_truncate(struct cv_store *pS, int64_t userId, int64_t id, int64_t iFrom,
                             struct cv_msg_edit *pOut){
  return backend(pS)->threads_truncate(pS, userId, id, iFrom, pOut);
}

cv_rc store_threads_drop_replies(struct cv_store *pS, int64_t userId, int64_t id,
                                 int64_t *piUser, char **pzContent){
  return backend(pS)->threads_drop_replies(pS, userId, id, piUser, pzContent);
}

cv_rc store_threads_fork(struct cv_store *pS, int64_t userId, int64_t id, int64_t nUpto,
                         const char *zTitle, int64_t *pNewId, int *pbPastEnd){
  return backend(pS)->threads_fork(pS, userId, id, nUpto, zTitle, pNewId, pbPastEnd);
}

cv_rc store_members_add(struct cv_store *pS, int64_t ownerId, int64_t id, const char *zEmail,
                        struct cv_member *pOut, int *pbAdded, const char **pzMissing){
  return backend(pS)->members_add(pS, ownerId, id, zEmail, pOut, pbAdded, pzMissing);
}

cv_rc store_members_list(struct cv_read *pRd, int64_t userId, int64_t id,
                         struct cv_member **paOut, int *pnOut){
  return backend(pRd->pS)->members_list(pRd, userId, id, paOut, pnOut);
}

cv_rc store_members_remove(struct cv_store *pS, int64_t userId, int64_t id, int64_t memberId,
                           const char **pzMissing){
  return backend(pS)->members_remove(pS, userId, id, memberId, pzMissing);
}

cv_rc store_shares_create(struct cv_store *pS, int64_t userId, int64_t id,
                          const unsigned char aHash[CV_SHARE_HASH_LEN], int64_t nowMs,
                          int64_t expiresMs, int64_t nMaxBytes, struct cv_share *pOut){
  return backend(pS)->shares_create(pS, userId, id, aHash, nowMs, expiresMs, nMaxBytes, pOut);
}

cv_rc store_shares_list(struct cv_read *pRd, int64_t userId, struct cv_share **paOut,
                        int *pnOut){
  return backend(pRd->pS)->shares_list(pRd, userId, paOut, pnOut);
}

cv_rc store_shares_get(struct cv_read *pRd, const unsigned char aHash[CV_SHARE_HASH_LEN],
                       int64_t nowMs, struct cv_share *pOut){
  return backend(pRd->pS)->shares_get(pRd, aHash, nowMs, pOut);
}

cv_rc store_shares_messages(struct cv_read *pRd, int64_t linkId, struct cv_sink *pOut){
  return backend(pRd->pS)->shares_messages(pRd, linkId, pOut);
}

cv_rc store_shares_revoke(struct cv_store *pS, int64_t userId,
                          const unsigned char *aHash, int64_t linkId){
  return backend(pS)->shares_revoke(pS, userId, aHash, linkId);
}

cv_rc store_openai_match(struct cv_store *pS, int64_t userId,
                         const unsigned char aFpPrefix[CV_FP_LEN],
                         const unsigned char aFpAll[CV_FP_LEN],
                         int64_t *pThreadId, int64_t *pnMessages){
  return backend(pS)->openai_match(pS, userId, aFpPrefix, aFpAll, pThreadId, pnMessages);
}

cv_rc store_openai_record(struct cv_store *pS, struct cv_openai_write *p){
  return backend(pS)->openai_record(pS, p);
}

cv_rc store_openai_mark_retry(struct cv_store *pS, int64_t userId, int64_t threadId,
                              const unsigned char aFp[CV_FP_LEN]){
  return backend(pS)->openai_mark_retry(pS, userId, threadId, aFp);
}

cv_rc store_chats_add_message(struct cv_store *pS, int64_t userId, const char *zChatId,
                              const struct cv_chat_new *pNew, const char *zMessage,
                              struct cv_chat *pOut, const char **pzMissing){
  return backend(pS)->chats_add_message(pS, userId, zChatId, pNew, zMessage, pOut, pzMissing);
}

cv_rc store_chats_get(struct cv_read *pRd, int64_t userId, const char *zChatId,
                      struct cv_chat *pOut){
  return backend(pRd->pS)->chats_get(pRd, userId, zChatId, pOut);
}

cv_rc store_chats_rename(struct cv_store *pS, int64_t userId, const char *zChatId,
                         const char *zTitle, struct cv_chat *pOut){
  return backend(pS)->chats_rename(pS, userId, zChatId, zTitle, pOut);
}

cv_rc store_chats_delete(struct cv_store *pS, int64_t userId, const char *zChatId){
  return backend(pS)->chats_delete(pS, userId, zChatId);
}

cv_rc store_chats_list(struct cv_read *pRd, int64_t userId, struct cv_page *pPage,
                       struct cv_chat **paOut, int *pnOut, int64_t *pnTotal){
  return backend(pRd->pS)->chats_list(pRd, userId, pPage, paOut, pnOut, pnTotal);
}

cv_rc store_chats_list_archived(struct cv_read *pRd, int64_t userId, struct cv_page *pPage,
                                struct cv_chat **paOut, int *pnOut, int64_t *pnTotal){
  return backend(pRd->pS)->chats_list_archived(pRd, userId, pPage, paOut, pnOut, pnTotal);
}

cv_rc store_chats_restore(struct cv_store *pS, int64_t userId, const char *zChatId,
                          struct cv_chat *pOut){
  return backend(pS)->chats_restore(pS, userId, zChatId, pOut);
}

cv_rc store_chats_import_legacy(struct cv_store *pS, struct cv_legacy_user *aUser, int nUser){
  return backend(pS)->chats_import_legacy(pS, aUser, nUser);
}

cv_rc store_import_convs(struct cv_store *pS, int64_t userId, struct cv_import_conv *a, int n){
  return backend(pS)->import_convs(pS, userId, a, n);
}

cv_rc store_import_people(struct cv_store *pS, int64_t userId, struct cv_import_person *a, int n){
  return backend(pS)->import_people(pS, userId, a, n);
}

cv_rc store_read_begin(struct cv_store *pS, struct cv_read *pRd){
  return backend(pS)->read_begin(pS, pRd);
}

void store_read_end(struct cv_read *pRd){
  if( pRd->pS ) backend(pRd->pS)->read_end(pRd);   /* a zeroed snapshot: nothing to end */
}

cv_rc store_read_messages(struct cv_read *pRd, int64_t id, struct cv_sink *pOut){
  return backend(pRd->pS)->read_messages(pRd, id, pOut);
}

cv_rc store_read_messages_range(struct cv_read *pRd, int64_t id, int64_t iStart, int64_t iEnd,
                                struct cv_sink *pOut){
  return backend(pRd->pS)->read_messages_range(pRd, id, iStart, iEnd, pOut);
}

cv_rc store_conv_history(struct cv_store *pS, int64_t id, int nBudgetChars, cv_msg_view_fn xMsg,
                         void *pCtx){
  return backend(pS)->conv_history(pS, id, nBudgetChars, xMsg, pCtx);
}

/* ---- helpers: free what the operations returned ---- */

void store_thread_clear(struct cv_thread *p){
  if( !p ) return;
  free(p->zTitle);
  free(p->zTags);
  free(p->zOwnerName);
  memset(p, 0, sizeof *p);
}

void store_tag_counts_free(struct cv_tag_count *a, int n){
  int i;
  if( !a ) return;
  for(i=0; i<n; i++) free(a[i].zTag);
  free(a);
}

void store_stats_clear(struct cv_stats *p){
  int i;
  if( !p ) return;
  free(p->aDay);
  for(i=0; i<p->nTop; i++) free(p->aTop[i].zName);
  memset(p, 0, sizeof *p);
}

void store_threads_free_list(struct cv_thread *a, int n){
  int i;
  if( !a ) return;
  for(i=0; i<n; i++) store_thread_clear(&a[i]);
  free(a);
}

void store_append_clear(struct cv_append *p){
  if( !p ) return;
  free(p->zTitle);
  memset(p, 0, sizeof *p);
}

void store_chat_clear(struct cv_chat *p){
  if( !p ) return;
  free(p->zCharacterName);
  free(p->zCharacterPicture);
  free(p->zSceneName);
  free(p->zScenePicture);
  free(p->zTitle);
  memset(p, 0, sizeof *p);
}

void store_chats_free_list(struct cv_chat *a, int n){
  int i;
  if( !a ) return;
  for(i=0; i<n; i++) store_chat_clear(&a[i]);
  free(a);
}

void store_item_clear(struct cv_item *p){
  if( !p ) return;
  free(p->zName);
  free(p->zPicture);
  free(p->zDescription);
  free(p->zGreeting);
  memset(p, 0, sizeof *p);
}

void store_items_free(struct cv_item *a, int n){
  int i;
  if( !a ) return;
  for(i=0; i<n; i++) store_item_clear(&a[i]);
  free(a);
}

void store_picture_clear(struct cv_picture *p){
  if( !p ) return;
  free(p->zType);
  free(p->a);
  memset(p, 0, sizeof *p);
}

void store_user_clear(struct cv_user *p){
  if( !p ) return;
  free(p->zEmail);
  free(p->zDisplayName);
  free(p->zPasswordHash);
  memset(p, 0, sizeof *p);
}

cv_rc store_messages_cb(void *pRd, long long id, struct cv_sink *pOut){
  return store_read_messages((struct cv_read*)pRd, (int64_t)id, pOut);
}

cv_rc store_search(struct cv_read *pRd, int64_t userId, const struct cv_search_req *pReq,
                   struct cv_search_hit **paHit, int *pnHit, int64_t *pnTotal){
  assert( pRd && pRd->pS );
  return backend(pRd->pS)->search(pRd, userId, pReq, paHit, pnHit, pnTotal);
}

void store_search_free(struct cv_search_hit *a, int n){
  int i;
  if( !a ) return;
  for(i=0; i<n; i++){
    free(a[i].zTitle);
    free(a[i].zText);
  }
  free(a);
}

cv_rc store_export_threads(struct cv_read *pRd, int64_t userId, cv_export_thread_fn xThread,
                           void *pCtx){
  return backend(pRd->pS)->export_threads(pRd, userId, xThread, pCtx);
}

cv_rc store_export_chats(struct cv_read *pRd, int64_t userId, cv_export_chat_fn xChat,
                         void *pCtx){
  return backend(pRd->pS)->export_chats(pRd, userId, xChat, pCtx);
}

cv_rc store_export_items(struct cv_read *pRd, enum cv_kind eKind, int64_t userId,
                         cv_export_item_fn xItem, void *pCtx){
  return backend(pRd->pS)->export_items(pRd, eKind, userId, xItem, pCtx);
}

cv_rc store_export_messages(struct cv_read *pRd, int64_t id, cv_msg_view_fn xMsg, void *pCtx){
  return backend(pRd->pS)->export_messages(pRd, id, xMsg, pCtx);
}

cv_rc store_changes_bounds(struct cv_read *pRd, int64_t *pHorizon, int64_t *pHead,
                           unsigned char aKey[16]){
  return backend(pRd->pS)->changes_bounds(pRd, pHorizon, pHead, aKey);
}

cv_rc store_changes_list(struct cv_read *pRd, int64_t userId, int64_t since, int nLimit,
                         struct cv_change *aOut, int *pn, int *pbMore){
  return backend(pRd->pS)->changes_list(pRd, userId, since, nLimit, aOut, pn, pbMore);
}

cv_rc store_changes_users_after(struct cv_read *pRd, int64_t since, int64_t *aUser, int nMax,
                                int *pn, int64_t *pLast){
  return backend(pRd->pS)->changes_users_after(pRd, since, aUser, nMax, pn, pLast);
}

cv_rc store_changes_purge(struct cv_store *pS, int64_t beforeMs, int64_t *pnPurged){
  return backend(pS)->changes_purge(pS, beforeMs, pnPurged);
}

cv_rc store_on_commit(struct cv_store *pS, cv_commit_fn fn, void *pArg){
  return backend(pS)->on_commit(pS, fn, pArg);
}

cv_rc store_shares_purge(struct cv_store *pS, int64_t beforeMs, int64_t *pnPurged){
  return backend(pS)->shares_purge(pS, beforeMs, pnPurged);
}
