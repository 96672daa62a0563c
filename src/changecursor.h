/*
** changecursor.h — the opaque cursors of the change log (GET /api/v1/changes, the event ids of
** GET /api/v1/events), pure: no store, no HTTP. A cursor names a place in the log: a sequence
** number that the whole file shares (store_changes.h). Shown as it is, a user would see how
** many changes other users make, and when (the numbers between two of its own cursors): so
** the cursor is the 16-byte block (user id, seq), both 64-bit little-endian, encrypted with
** AES-128 under the file's key (settings 'changes_key', random, made by schema version 11),
** in base64url: 22 characters. Decoding checks the block decrypts to the caller's user id, so
** a cursor is good for its own user only, and anything else (another user's cursor, a
** changed character, a guess) is refused but for a chance of 2^-64.
** Decoding is strict (a parser of untrusted input, fuzzed by tests/fuzz/fuzz_cursor.c): only
** what changecursor_encode writes decodes. May call libc, libsodium (base64) and OpenSSL (AES).
*/
#ifndef CV_CHANGECURSOR_H
#define CV_CHANGECURSOR_H

#include "cv.h"
#include <stdint.h>

#define CV_CHANGES_KEY_LEN     16
#define CV_CHANGE_CURSOR_CHARS 22        /* base64url of 16 bytes, no padding */

/* The cursor of (userId, seq) under aKey into zOut (CV_CHANGE_CURSOR_CHARS + 1 bytes).
** seq >= 0. CV_OK, or CV_NOMEM when the cipher could not be set up. */
cv_rc changecursor_encode(const unsigned char aKey[CV_CHANGES_KEY_LEN], int64_t userId,
                          int64_t seq, char *zOut);

/* Decode z (NUL-terminated, untrusted) for userId under aKey: CV_OK with *pSeq (>= 0), or
** CV_INVALID for anything changecursor_encode(aKey, userId, ...) did not write. */
cv_rc changecursor_decode(const unsigned char aKey[CV_CHANGES_KEY_LEN], int64_t userId,
                          const char *z, int64_t *pSeq);

#endif /* CV_CHANGECURSOR_H */
