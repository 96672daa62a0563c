/*
** assets.c — lookup in the embedded file table (generated build/gen/assets.c).
*/
#include "assets.h"
#include <string.h>

const struct cv_asset *assets_find(const char *zName){
  const struct cv_asset *p;
  for(p=cv_assets; p->zName; p++){
    if( strcmp(p->zName, zName)==0 ) return p;
  }
  return NULL;
}
