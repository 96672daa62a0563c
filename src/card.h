/*
** card.h — character cards (SillyTavern and friends) read into a chatvault character. Pure:
** bytes in, a struct out, no I/O and no store; so the fuzzer (tests/fuzz/fuzz_card.c) and the
** unit test reach all of it. May call validate, tags (trimming), util, cJSON and libsodium's
** base64 decoder.
**
** Accepted inputs (detected by the PNG signature, JSON otherwise):
**   - a PNG whose tEXt chunk `ccv3` (card spec V3) or `chara` (V1/V2) holds base64 JSON;
**     `ccv3` wins when both exist; keywords compared case-insensitively (as SillyTavern does).
**     Every chunk is walked with its length checked against the input, its CRC verified (a bad
**     CRC is refused), and the file must end with IEND (a truncated file is refused); bytes
**     after IEND are ignored.
**   - the card's JSON: V2/V3 `{spec, spec_version, data:{...}}`, V1 flat `{name, description,
**     personality, scenario, first_mes, ...}`, or text-generation-webui's 2023 character JSON
**     `{char_name, char_persona, char_greeting, world_scenario, example_dialogue}`.
** A UTF-8 byte order mark in front of the JSON is skipped.
**
** Mapping: name = `name` (`char_name`), trimmed of white space, 1..CV_NAME_MAX_CHARS characters
** (longer: cut at a character boundary); description = `description` (`char_persona`), then
** "Personality: …" and "Scenario: …" (`world_scenario`) as paragraphs of their own when not
** empty, cut to CV_DESCRIPTION_MAX_CHARS; greeting = `first_mes` (`char_greeting`), cut to
** CV_GREETING_MAX_CHARS. Other fields (examples, lorebooks, alternate greetings) are ignored.
*/
#ifndef CV_CARD_H
#define CV_CARD_H

#include "cv.h"
#include <stddef.h>

struct cv_verr;

/* The largest card body accepted (bytes): a card is a picture with some text, not an archive.
** The route also stays under --max-import. */
#define CARD_MAX_BYTES ((size_t)16 << 20)

/* Where the card's fields came from. */
enum card_source {
  CARD_SRC_JSON = 0,      /* the body was the card's JSON */
  CARD_SRC_PNG_CHARA = 1, /* a PNG's `chara` chunk */
  CARD_SRC_PNG_CCV3 = 2   /* a PNG's `ccv3` chunk */
};

struct cv_card {
  char *zName;            /* malloc'd: valid UTF-8, 1..CV_NAME_MAX_CHARS characters */
  char *zDescription;     /* malloc'd: valid UTF-8, may be "" */
  char *zGreeting;        /* malloc'd: valid UTF-8, may be "" */
  const char *zImageType; /* "image/png" when the body is a PNG (it is the picture), else NULL */
  enum card_source eSource;
  const char *zSpec;      /* static: "chara_card_v3", "chara_card_v2", "v1" or "textgen" */
};

/* Read the card in a[0..n) into *pOut (zeroed first).
**   CV_OK       *pOut filled; free it with card_clear.
**   CV_INVALID  not a card: one or more entries added to pErr, each with a loc under "body"
**               ("body" itself for the container, "body.ccv3.data.name" for a field of a
**               PNG's chunk, "body.data.name" for a field of a JSON card) and a message that
**               says what is wrong; *pOut stays empty.
**   CV_TOOLARGE n > CARD_MAX_BYTES (nothing added to pErr).
**   CV_NOMEM.
** Never reads outside a[0..n); a may be NULL when n is 0. */
cv_rc card_parse(const unsigned char *a, size_t n, struct cv_card *pOut, struct cv_verr *pErr);

/* Free the strings of *p and zero it. NULL is ok. */
void card_clear(struct cv_card *p);

/* The picture type of a[0..n) from its magic bytes: "image/png", "image/jpeg", "image/gif",
** "image/webp", or NULL for anything else (the only types chatvault stores and serves). */
const char *card_picture_type(const unsigned char *a, size_t n);

#endif /* CV_CARD_H */
