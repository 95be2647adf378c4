/*
 * errdetail.h - the one shape in which a validator says what was wrong:
 * the offending field's name ("" for the input as a whole) and a one-line
 * message, both NUL-terminated, both valid UTF-8 even when cut short.
 *
 * Validators fill one with hh_errdetail_set and return what it returns;
 * callers read d.field and d.message. Which contract error code (and so
 * which HTTP status) a failure becomes is the API layer's business, not
 * this struct's.
 */
#ifndef HH_ERRDETAIL_H
#define HH_ERRDETAIL_H

#include <stddef.h>

#include "util/status.h"

#define HH_ERRDETAIL_FIELD_MAX   64  /* bytes of field, NUL included */
#define HH_ERRDETAIL_MESSAGE_MAX 256 /* bytes of message, NUL included */

typedef struct hh_errdetail {
    char field[HH_ERRDETAIL_FIELD_MAX];
    char message[HH_ERRDETAIL_MESSAGE_MAX];
} hh_errdetail;

/*
 * Records a failure in *d and returns rc, so a validator can write
 * `return hh_errdetail_set(d, HH_ERR_INVALID, "prompt", "...", ...);`.
 * field (NULL counts as "") is copied; the message is printf-formatted.
 * Both are cut to fit on a UTF-8 character boundary, never inside a
 * character, and before any byte that is not valid UTF-8 (util/utf8.h),
 * so they can always go out in JSON. d may be NULL (the detail is then
 * dropped).
 */
hh_status hh_errdetail_set(hh_errdetail *d, hh_status rc, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Empties both strings of *d (NULL-safe). */
void hh_errdetail_clear(hh_errdetail *d);

#endif
