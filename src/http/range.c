/*
 * range.c - strict parsing: digits only, no spaces inside a range, no
 * overflow; anything malformed is treated as no Range at all (send the
 * whole object), as RFC 9110 says a server may.
 */
#include "http/range.h"

#include <string.h>

/* Reads decimal digits at *s into *out; 0 if there are none or they overflow. */
static int read_num(const char **s, uint64_t *out)
{
    const char *p = *s;
    uint64_t v = 0;
    if (*p < '0' || *p > '9')
        return 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *s = p;
    *out = v;
    return 1;
}

range_result range_parse(const char *header, uint64_t size, uint64_t *first, uint64_t *last)
{
    if (!header || strncmp(header, "bytes=", 6) || strchr(header, ','))
        return RANGE_NONE;
    const char *p = header + 6;
    uint64_t a = 0, b = 0;
    if (*p == '-') {
        p++;
        if (!read_num(&p, &b) || *p)
            return RANGE_NONE;
        if (b == 0 || size == 0)
            return RANGE_UNSATISFIABLE;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return RANGE_OK;
    }
    if (!read_num(&p, &a) || *p++ != '-')
        return RANGE_NONE;
    int open = *p == '\0';
    if (!open && (!read_num(&p, &b) || *p || b < a))
        return RANGE_NONE;
    if (a >= size)
        return RANGE_UNSATISFIABLE;
    *first = a;
    *last = open || b >= size ? size - 1 : b;
    return RANGE_OK;
}
