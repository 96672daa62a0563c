/*
** cv.c — names of the result codes (cv_rc_str). A switch with no default, so that
** -Wall reports a code added to the enum without a name here (curl's strerror.c).
*/
#include "cv.h"

const char *cv_rc_str(cv_rc rc){
  switch( rc ){
    case CV_OK:           return "ok";
    case CV_NOMEM:        return "out of memory";
    case CV_NOTFOUND:     return "not found";
    case CV_FORBIDDEN:    return "forbidden";
    case CV_CONFLICT:     return "conflict";
    case CV_INVALID:      return "invalid input";
    case CV_TOOLARGE:     return "too large";
    case CV_BUSY:         return "database busy";
    case CV_DB:           return "database error";
    case CV_UPSTREAM:     return "upstream error";
    case CV_TIMEOUT:      return "timeout";
    case CV_FULL:         return "disk full";
    case CV_UNAUTHORIZED: return "unauthorized";
    case CV_IO:           return "I/O error";
    case CV_RATELIMITED:  return "rate limited";
    case CV_CLOSED:       return "connection closed";
    case CV_QUOTA:        return "over a size cap";
  }
  return "unknown";
}
