/*
** h_members.c — /api/v1/chat-threads/{id}/members: sharing a thread with other accounts
** (contract v2, "Sharing with other accounts"). The owner adds an account by email and
** removes members; a member reads the thread (h_threads.c, h_export.c read with
** store_threads_view) and may leave; nobody else learns anything (403 as for any other
** user's thread). Every 404 of the POST route is the same `{"detail":"Not Found"}` (the
** router's own 404), so a missing thread and an unknown email cannot be told apart there:
** no account enumeration beyond what registration already reveals. Choices where the
** contract is silent are in docs/api.md, "Sharing with other accounts".
** May call http, validate, render and store (snapshots, store_members).
*/
#include "app.h"
#include "handlers.h"
#include "http.h"
#include "render.h"
#include "store.h"
#include "store_members.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>

/* ROUTE: POST /api/v1/chat-threads/{id}/members (auth) {email}
** The owner shares thread id with the account of that email (compared ignoring case):
** 201 {user_id, email, display_name, added_at}; the same account again: 200 with the same
** body (nothing changes). 403 the thread is another user's (a member's included); 404
** `Not Found` for a missing thread and an unknown email alike; 422 bad email, or the
** owner's own email (loc body.email). */
int h_members_add(struct cv_req *r){
  struct cv_verr e;
  struct cv_member m;
  const char *zEmail = NULL, *zMissing = NULL;
  cJSON *pOut;
  int64_t id;
  int bAdded = 0;
  cv_rc rc;
  if( !http_path_id(r, 0, "id", &id) ) return r->status;
  if( !http_read_json(r) ) return r->status;
  verr_init(&e);
  if( !val_body_object(&e, r->pBody) || val_email(&e, r->pBody, "body", "email", &zEmail)!=1 ){
    http_reply_422(r, &e);
    goto out;
  }
  rc = store_members_add(r->pApp->pStore, r->userId, id, zEmail, &m, &bAdded, &zMissing);
  if( rc==CV_NOTFOUND ){
    http_reply_detail(r, 404, "Not Found");       /* thread or account: one answer */
    goto out;
  }
  if( rc==CV_INVALID ){
    verr_add(&e, "body.email", "value_error",
             "Value error, a thread cannot be shared with its owner");
    http_reply_422(r, &e);
    goto out;
  }
  if( rc ){ http_reply_rc(r, rc, "Thread"); goto out; }
  pOut = render_member(&m);
  if( pOut ) http_reply_json(r, bAdded ? 201 : 200, pOut, NULL);
  else http_reply_rc(r, CV_NOMEM, NULL);
  cJSON_Delete(pOut);
  store_member_clear(&m);
out:
  verr_free(&e);
  return r->status;
}

/* http_reply_items' item i of an array of struct cv_member. */
static cJSON *render_member_item(const void *pItems, int i){
  return render_member(&((const struct cv_member*)pItems)[i]);
}

/* ROUTE: GET /api/v1/chat-threads/{id}/members (auth)
** 200 [{user_id, email, display_name, added_at}], oldest membership first, to the owner and
** to the members; X-Total-Count. 403 anyone else; 404 no such thread. */
int h_members_list(struct cv_req *r){
  struct cv_read rd;
  struct cv_member *a = NULL;
  int64_t id;
  int n = 0;
  cv_rc rc;
  if( !http_path_id(r, 0, "id", &id) ) return r->status;
  rc = store_read_begin(r->pApp->pStore, &rd);
  if( rc ){ http_reply_rc(r, rc, NULL); return r->status; }
  rc = store_members_list(&rd, r->userId, id, &a, &n);
  store_read_end(&rd);
  if( rc ){ http_reply_rc(r, rc, "Thread"); return r->status; }
  http_reply_items(r, a, n, render_member_item);
  store_members_free(a, n);
  return r->status;
}

/* ROUTE: DELETE /api/v1/chat-threads/{id}/members/{user_id} (auth)
** 204: the owner removed a member, or a member removed itself (left). 403 a member naming
** another account, or anyone neither owner nor member; 404 no such thread (`Thread not
** found`), or the owner named an account that is not a member (`Member not found`). */
int h_members_remove(struct cv_req *r){
  const char *zMissing = NULL;
  int64_t id, memberId;
  cv_rc rc;
  if( !http_path_id(r, 0, "id", &id) ) return r->status;
  if( !http_path_id(r, 1, "user_id", &memberId) ) return r->status;
  rc = store_members_remove(r->pApp->pStore, r->userId, id, memberId, &zMissing);
  if( rc ){ http_reply_rc(r, rc, rc==CV_NOTFOUND ? zMissing : "Thread"); return r->status; }
  http_reply_empty(r);
  return r->status;
}
