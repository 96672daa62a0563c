/*
** jsonsplit.h — split a JSON document into the values an importer reads one at a time, as
** its bytes arrive, in memory bounded by the largest value (not by the document).
**
** A 200 MB conversations.json is one top-level array: the splitter hands each element over
** as soon as its last byte has arrived, so the importer parses one conversation at a time.
** What it emits, in document order:
**   - top-level array:   JSPLIT_ITEM (zKey NULL) for each element;
**   - top-level object:  for a member whose key is one of the split keys and whose value is
**                        an array, JSPLIT_ITEM (zKey the key) for each element; for every
**                        other member, JSPLIT_MEMBER (zKey, its whole value);
**   - more top-level values after the first (JSON Lines, e.g. a SillyTavern chat):
**                        JSPLIT_VALUE for each;
**   - a value larger than the limit: JSPLIT_TOOBIG (zKey as above, z NULL, n its size in
**     bytes) instead of the value; it is skipped without being held in memory.
** A value's text is handed over exactly as it was in the document (no parsing beyond
** matching brackets and strings: the importer parses it with cJSON, which rejects what is
** not JSON). Keys are compared as written between their quotes (escapes not decoded) and
** keys longer than JSPLIT_KEY_MAX bytes are an error. A byte-order mark at the start is
** skipped. The structure around the values (brackets, commas, colons at the top two levels)
** is checked here; an error names the byte offset.
** Implemented in jsonsplit.c; tested by tests/unit/test_jsonsplit.c and tests/fuzz/fuzz_jsonsplit.c.
*/
#ifndef CV_JSONSPLIT_H
#define CV_JSONSPLIT_H

#include "cv.h"
#include <stddef.h>
#include <stdint.h>

#define JSPLIT_KEY_MAX 256

enum jsplit_event {
  JSPLIT_ITEM = 1,               /* an element of the top-level array or of a split member */
  JSPLIT_MEMBER,                 /* a member of the top-level object (not split) */
  JSPLIT_VALUE,                  /* a top-level value after the first (JSON Lines) */
  JSPLIT_TOOBIG                  /* a value over the limit, skipped (z NULL, n its size) */
};

/* Called for each value. z[0..n) is the value's text, NUL-terminated at z[n], borrowed until
** the callback returns. zKey: the member's key (NUL-terminated, borrowed), NULL for elements of
** a top-level array and for JSPLIT_VALUE. eOf (TOOBIG only): which event the value would have
** been. A result other than CV_OK stops the split: jsplit_feed returns it. */
typedef cv_rc (*jsplit_fn)(void *pCtx, enum jsplit_event e, enum jsplit_event eOf,
                           const char *zKey, const char *z, size_t n);

struct jsplit;

/* A new splitter calling xEmit(pCtx, ...) for each value of at most nMax bytes.
** azSplit: the keys whose array values are split (NULL-terminated list, borrowed for the
** splitter's life; NULL: none). NULL when out of memory. */
struct jsplit *jsplit_new(size_t nMax, const char *const *azSplit, jsplit_fn xEmit, void *pCtx);

/* Give the next n bytes of the document. Returns CV_OK, CV_INVALID (the document is not
** well-formed here: jsplit_error says where and why), CV_NOMEM, or what a callback returned.
** After an error every later call returns the same error. */
cv_rc jsplit_feed(struct jsplit *p, const char *a, size_t n);

/* The document ended: CV_OK when it was complete (at least one value, every bracket closed),
** else CV_INVALID (or the earlier error). A scalar that ends at the end of the input is
** emitted here. */
cv_rc jsplit_finish(struct jsplit *p);

/* Why the last CV_INVALID ("byte 1234: expected ',' or ']'"); "" when none. */
const char *jsplit_error(const struct jsplit *p);

/* Bytes consumed so far. */
int64_t jsplit_offset(const struct jsplit *p);

/* Free a splitter. NULL is ok. */
void jsplit_free(struct jsplit *p);

#endif /* CV_JSONSPLIT_H */
