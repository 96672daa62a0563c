/*
** validate.h — request validation: the body's JSON (UTF-8, depth, NUL escapes, duplicate
** keys), typed getters over cJSON, query and path parameters, and the FastAPI-shaped 422
** list `[{"loc":[...],"msg":"...","type":"..."}]` they fill. May call cJSON and util.
*/
#ifndef CV_VALIDATE_H
#define CV_VALIDATE_H

#include "cv.h"
#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* The 422 entries collected while validating one request. */
struct cv_verr {
  cJSON *pList;    /* array of {loc,msg,type}; NULL until the first error */
  int n;           /* entries */
  int bNoMem;      /* an entry could not be allocated */
};
void verr_init(struct cv_verr *p);
void verr_free(struct cv_verr *p);

/* Add an entry. zLoc is dotted ("body.messages.2.role"): all-digit parts become numbers.
** zType and zMsg are copied. */
void verr_add(struct cv_verr *p, const char *zLoc, const char *zType, const char *zMsg);

/* Parse a request body a[0..n) as JSON. Rejects (adding a 422 entry, returning
** CV_INVALID): invalid UTF-8, a raw control byte or a \u0000 escape in a string, nesting
** deeper than CV_JSON_MAX_DEPTH, syntax errors, trailing bytes, duplicate keys in an
** object. On CV_OK *ppRoot is the tree (free with cJSON_Delete). CV_NOMEM possible. */
cv_rc val_parse_json(const char *a, size_t n, struct cv_verr *pErr, cJSON **ppRoot);

/* The body must be a JSON object: adds an error and returns 0 when not. */
int val_body_object(struct cv_verr *pErr, const cJSON *pRoot);

/* Getters over field zKey of object pObj, reporting at loc "<zLoc>.<zKey>".
** Return 1: present and valid (*pOut set); 0: absent or null and not required;
** -1: invalid or required-but-missing (entry added). Strings are borrowed from pObj. */
int val_string(struct cv_verr *pErr, const cJSON *pObj, const char *zLoc, const char *zKey,
               size_t minChars, size_t maxChars, int bRequired, const char **pzOut);
int val_int(struct cv_verr *pErr, const cJSON *pObj, const char *zLoc, const char *zKey,
            int64_t iMin, int64_t iMax, int bRequired, int64_t *piOut);
int val_bool(struct cv_verr *pErr, const cJSON *pObj, const char *zLoc, const char *zKey,
             int bRequired, int *pbOut);

/* An email: contains '@' with text on both sides, at most CV_EMAIL_MAX_CHARS, no spaces. */
int val_email(struct cv_verr *pErr, const cJSON *pObj, const char *zLoc, const char *zKey,
              const char **pzOut);

/* A message object {"role":"user"|"assistant","content":string}; other keys dropped.
** On 1, *ppNorm is a new object holding only role and content (free with cJSON_Delete). */
int val_message(struct cv_verr *pErr, const cJSON *pItem, const char *zLoc, cJSON **ppNorm);

/* Field zKey as an array of messages. On 1, *pzJson is the normalized array as compact
** JSON text (free with free()) and *pnOut its length. */
int val_messages(struct cv_verr *pErr, const cJSON *pObj, const char *zLoc, const char *zKey,
                 int bRequired, char **pzJson, int64_t *pnOut);

/* Query parameter zName of the raw query string (URL-decoded), as an integer in
** [iMin,iMax], or iDefault when absent. 1 ok, -1 invalid (entry at "query.<zName>"). */
int val_query_int(struct cv_verr *pErr, const char *zQuery, const char *zName,
                  int64_t iDefault, int64_t iMin, int64_t iMax, int64_t *piOut);

/* val_query_str, then minChars..maxChars characters. *pbFound: whether it was given (zOut is
** "" when not). 1 ok (given or not), -1 invalid (entry at "query.<zName>"). */
int val_query_text(struct cv_verr *pErr, const char *zQuery, const char *zName,
                   size_t minChars, size_t maxChars, char *zOut, size_t nOut, int *pbFound);

/* Query parameter zName (its last occurrence), URL-decoded into zOut (nOut bytes with the
** NUL). 1 present, 0 absent (zOut ""), -1 invalid: longer than nOut-1 bytes
** (string_too_long), a malformed escape or an encoded NUL, or not UTF-8 (value_error),
** entry at "query.<zName>". */
int val_query_str(struct cv_verr *pErr, const char *zQuery, const char *zName, char *zOut,
                  size_t nOut);

/* A boolean as pydantic reads one from text (any case): true/1/yes/on/t/y -> 1,
** false/0/no/off/f/n -> 0, anything else -1. */
int val_bool_text(const char *z);

/* Query parameter zName as a boolean (val_bool_text): 1 with *pbOut set, 0 absent, -1
** invalid (bool_parsing at "query.<zName>"). */
int val_query_bool(struct cv_verr *pErr, const char *zQuery, const char *zName, int *pbOut);

/* Query parameter "archived" as a filter: false|true (in val_bool_text's spellings) or any.
** 1 with *peOut 0 (false), 1 (true) or 2 (any); 0 absent; -1 invalid (literal_error at
** "query.archived"). Shared by the thread list and search. */
int val_query_archived(struct cv_verr *pErr, const char *zQuery, int *peOut);

/* Query parameter "tag" as a tag filter: trimmed, 1..CV_TAG_MAX_CHARS characters, folded
** into its key zKey (CV_TAG_MAX_LEN+1 bytes; tags.h). 1 present, 0 absent, -1 invalid
** (string_too_short/string_too_long at "query.tag"). Shared by the thread list and search. */
int val_query_tag(struct cv_verr *pErr, const char *zQuery, char *zKey);

/* Query parameter "cursor" as a cursor of the list cKind (cursor.h): 1 with *pOut set, 0
** absent, -1 malformed or another list's (value_error at "query.cursor"). */
struct cv_cursor;
int val_query_cursor(struct cv_verr *pErr, const char *zQuery, char cKind,
                     struct cv_cursor *pOut);

/* A path segment as a positive integer id. 1 ok, -1 invalid (entry at "path.<zName>"). */
int val_path_id(struct cv_verr *pErr, const char *zSeg, const char *zName, int64_t *piOut);

#endif
