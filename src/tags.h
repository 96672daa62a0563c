/*
** tags.h — the rules of a thread's tags (contract v2, "Organize"), pure: no store, no HTTP.
** A tag is compared by its key, the tag folded to Unicode simple lower case (towlower in the
** C.UTF-8 locale, plus final sigma to sigma), so "Work", "WORK" and "work" are one tag; the
** spelling kept is the first one given. A set holds at most CV_TAGS_MAX tags of 1..
** CV_TAG_MAX_CHARS characters each, trimmed of surrounding white space, sorted by key.
** May call libc only.
*/
#ifndef CV_TAGS_H
#define CV_TAGS_H

#include "cv.h"
#include <stddef.h>

#define CV_TAGS_MAX        20                       /* tags per thread (and per PUT) */
#define CV_TAG_MAX_CHARS   50                       /* characters per tag */
#define CV_TAG_MAX_LEN     (CV_TAG_MAX_CHARS*4)     /* bytes of a tag or of its key */

/* One tag: its key (folded) and its spelling, both NUL-terminated UTF-8. */
struct cv_tag {
  char zKey[CV_TAG_MAX_LEN+1];   /* tags_fold of the spelling */
  char zTag[CV_TAG_MAX_LEN+1];   /* as spelled (trimmed) */
};

/* A thread's tags: distinct keys, in insertion order until tags_set_sort. */
struct cv_tagset {
  int n;                          /* tags in a[] */
  struct cv_tag a[CV_TAGS_MAX];
};

/* Fold the valid UTF-8 z[0..n) for comparison into zOut (nOut bytes with the NUL). Returns
** the key's length, or -1 when it does not fit (a key is never longer than 4 bytes per
** character of z, so CV_TAG_MAX_LEN+1 bytes always fit a tag). Invalid UTF-8 is copied
** byte by byte (callers pass validated text). */
int tags_fold(const char *z, size_t n, char *zOut, size_t nOut);

/* The tag text z[0..n) without surrounding white space (ASCII white space, U+00A0, U+2000
** to U+200A, U+2028, U+2029, U+202F, U+205F, U+3000, U+FEFF): *pzStart and *pnOut. */
void tags_trim(const char *z, size_t n, const char **pzStart, size_t *pnOut);

/* Add the tag z[0..n) (valid UTF-8, no NUL) to *p: trimmed, then
**   CV_OK       added, or its key was already in the set (the first spelling stays);
**   CV_INVALID  empty after trimming (*pbTooLong 0) or longer than CV_TAG_MAX_CHARS
**               characters (*pbTooLong 1);
**   CV_TOOLARGE the set already holds CV_TAGS_MAX other tags. */
cv_rc tags_set_add(struct cv_tagset *p, const char *z, size_t n, int *pbTooLong);

/* Sort the set by key, then spelling (byte order, i.e. code point order). */
void tags_set_sort(struct cv_tagset *p);

#endif /* CV_TAGS_H */
