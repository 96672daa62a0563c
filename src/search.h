/*
** search.h — what a person types into a search box, and what a hit shows: the query read
** into phrases (never an error: operators, unbalanced quotes and punctuation are text), and
** the snippet of a hit with its highlights in characters. Knows neither HTTP nor SQL: the
** handler (h_search.c) calls these around store_search (store_search.h).
** Implemented in search.c; tested by tests/unit/test_search.c and tests/fuzz/fuzz_search_query.c.
*/
#ifndef CV_SEARCH_H
#define CV_SEARCH_H

#include "store_search.h"

#define SEARCH_Q_MAX_CHARS   200 /* q is 1..200 characters */
#define SEARCH_MAX_PHRASES   32  /* phrases kept of one query (200 characters hold ~100) */
#define SEARCH_SNIPPET_CHARS 200 /* a snippet's most characters */
#define SEARCH_SNIPPET_LEAD  40  /* characters shown before the first match, when there are more */

/* Read query text zQ (NUL-terminated UTF-8) into at most nMax phrases aOut (pointing into zQ):
**   - words are separated by white space (ASCII and U+3000) and each is a phrase (its
**     punctuation splits it into consecutive words: "e-mail" finds "e mail");
**   - "a quoted phrase" is one phrase; a '"' without its closing one is white space;
**   - a word or a quoted phrase ending in '*' is a prefix phrase;
**   - empty phrases (a lone '*', "") are dropped; phrases past nMax are dropped.
** Returns the number of phrases (0..nMax). Never fails. */
int search_parse(const char *zQ, struct cv_phrase *aOut, int nMax);

/* The snippet of a hit: at most SEARCH_SNIPPET_CHARS characters of zText (nText bytes) around
** its first match aM[0] (from the start when nM is 0), starting up to SEARCH_SNIPPET_LEAD
** characters before it (at a word's start when one is near). *piStart and *piEnd get its byte
** range; aHl[0..*pnHl) the matches within it as [start, length] in characters from the
** snippet's start (clipped to it, widened to whole characters; at most nHlMax). aM: byte
** ranges, sorted, not overlapping (a range that starts or ends inside a character counts that
** whole character). */
void search_snippet(const char *zText, int nText, const struct cv_span *aM, int nM,
                    int *piStart, int *piEnd, int (*aHl)[2], int nHlMax, int *pnHl);

#endif /* CV_SEARCH_H */
