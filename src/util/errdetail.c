/*
 * errdetail.c - filling an hh_errdetail, and cutting text at a byte limit
 * on a character boundary (a message cut inside a character is invalid
 * UTF-8, which the JSON encoder refuses, turning a 400 into a 500).
 */
#include "util/errdetail.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The number of bytes a UTF-8 sequence that starts with lead has (1 for a stray byte). */
static size_t utf8_seq_len(unsigned char lead)
{
    if ((lead & 0xE0) == 0xC0)
        return 2;
    if ((lead & 0xF0) == 0xE0)
        return 3;
    if ((lead & 0xF8) == 0xF0)
        return 4;
    return 1;
}

size_t hh_utf8_prefix(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strnlen(s, max);
    size_t lead = n;
    /* Back over the continuation bytes (at most three) to the last character's first byte. */
    while (lead > 0 && n - lead < 3 && (p[lead - 1] & 0xC0) == 0x80)
        lead--;
    if (lead == 0)
        return n;
    lead--;
    return n - lead < utf8_seq_len(p[lead]) ? lead : n;
}

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
