/*
 * blocklist.h - the operator's list of phrases a prompt may not contain
 * (serve --blocklist FILE): loaded from a text file, matched against each
 * create's prompt. Pure: no I/O beyond reading the file's text, which the
 * caller hands over.
 *
 * Matching is on normalised text, so a phrase matches whatever its case
 * and width: letters are case-folded (Unicode simple folding, from the C
 * library's UTF-8 tables), full-width forms (Ｂａｄ, １２, the ideographic
 * space) read as their ASCII twins, zero-width characters and soft hyphens
 * are dropped, and every run of white space is one space. A phrase matches
 * anywhere in the prompt, also inside a word: Chinese and Japanese text has
 * no spaces between words, and an operator who wants word boundaries
 * writes the phrase with spaces around it.
 */
#ifndef HH_BLOCKLIST_H
#define HH_BLOCKLIST_H

#include <stddef.h>

#include "util/errdetail.h"
#include "util/status.h"

#define BLOCKLIST_MAX_PHRASES 10000
#define BLOCKLIST_LINE_MAX    1000 /* bytes of one phrase */

typedef struct blocklist blocklist;

/*
 * Parses the file's text (len bytes): UTF-8, one phrase a line; blank
 * lines and lines starting with '#' are ignored, each phrase is trimmed.
 * On failure HH_ERR_INVALID with a one-line reason naming the line in
 * d->message (not UTF-8, too long, too many phrases), or HH_ERR_NOMEM.
 * On success *out is owned by the caller (blocklist_free).
 */
hh_status blocklist_parse(const char *text, size_t len, blocklist **out, hh_errdetail *d);

/* Same, from the file at path (HH_ERR_IO with a reason when it cannot be read). */
hh_status blocklist_load(const char *path, blocklist **out, hh_errdetail *d);

/* The number of phrases. */
size_t blocklist_size(const blocklist *bl);

/* 1 when text (NUL-terminated UTF-8) contains one of the phrases; bl may be NULL (0). */
int blocklist_match(const blocklist *bl, const char *text);

/*
 * Writes the normalised form of the len bytes at s (see above) to out
 * (size bytes, NUL-terminated, cut on a character boundary). Returns the
 * bytes written. Exposed for tests and for phrases.
 */
size_t blocklist_normalize(const char *s, size_t len, char *out, size_t size);

void blocklist_free(blocklist *bl);

#endif
