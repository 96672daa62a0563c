/*
** assets.h — files embedded in the binary at build time by tools/embed.c: schema.sql and
** the web page (src/web/ → "web/<path>"). Read-only data; calls nothing.
*/
#ifndef CV_ASSETS_H
#define CV_ASSETS_H

#include <stddef.h>

struct cv_asset {
  const char *zName;   /* "schema.sql", "web/index.html", ... */
  const char *a;       /* the bytes (NUL-terminated for convenience) */
  size_t n;            /* their length */
  const char *aGz;     /* gzip of the bytes, or NULL when it would not be smaller */
  size_t nGz;          /* its length */
  const char *zEtag;   /* strong ETag, quoted */
};

/* Table ending with a zero entry; generated into build/gen/embedded.c. */
extern const struct cv_asset cv_assets[];

/* The asset named zName, or NULL. */
const struct cv_asset *assets_find(const char *zName);

#endif /* CV_ASSETS_H */
