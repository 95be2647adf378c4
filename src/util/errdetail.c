/*
 * errdetail.c - filling an hh_errdetail. Both strings are cut with
 * hh_utf8_prefix: a message cut inside a character is invalid UTF-8, which
 * the JSON encoder refuses, and a 400 would become a 500.
 */
#include "util/errdetail.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

void hh_errdetail_clear(hh_errdetail *d)
{
    if (d) {
        d->field[0] = '\0';
        d->message[0] = '\0';
    }
}

hh_status hh_errdetail_set(hh_errdetail *d, hh_status rc, const char *field, const char *fmt, ...)
{
    if (!d)
        return rc;
    size_t n = hh_utf8_prefix(field ? field : "", sizeof d->field - 1);
    memcpy(d->field, field ? field : "", n);
    d->field[n] = '\0';
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(d->message, sizeof d->message, fmt, ap);
    va_end(ap);
    if (w < 0)
        d->message[0] = '\0';
    d->message[hh_utf8_prefix(d->message, sizeof d->message - 1)] = '\0';
    return rc;
}
