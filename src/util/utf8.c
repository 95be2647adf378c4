/*
 * utf8.c - UTF-8 validation by one decoder of a character at a time; the
 * counting, the valid prefix and the cut for echoing are all built on it.
 */
#include "util/utf8.h"

#include <stdio.h>
#include <string.h>

/*
 * The bytes of the valid character at p (len bytes there, len > 0), or 0
 * if none starts at p; *out (may be NULL) gets its code point.
 */
static size_t decode(const unsigned char *p, size_t len, uint32_t *out)
{
    unsigned c = p[0], cp;
    size_t n;
    if (c == 0)
        return 0;
    if (c < 0x80) {
        if (out)
            *out = c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0) {
        n = 2;
        cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[k] & 0x3F);
    }
    /* Overlong forms, UTF-16 surrogates and values past Unicode are invalid. */
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    if (out)
        *out = cp;
    return n;
}

static size_t char_len(const unsigned char *p, size_t len)
{
    return decode(p, len, NULL);
}

size_t hh_utf8_next(const char *s, size_t len, uint32_t *cp)
{
    return len ? decode((const unsigned char *)s, len, cp) : 0;
}

size_t hh_utf8_put(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            return 0;
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp > 0x10FFFF)
        return 0;
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t hh_utf8_valid_len(const char *s, size_t len, long *count)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, step;
    long n = 0;
    while (i < len && (step = char_len(p + i, len - i)) > 0) {
        i += step;
        n++;
    }
    if (count)
        *count = n;
    return i;
}

long hh_utf8_count(const char *s, size_t len)
{
    long n;
    return hh_utf8_valid_len(s, len, &n) == len ? n : -1;
}

size_t hh_utf8_prefix(const char *s, size_t max)
{
    return hh_utf8_valid_len(s, strnlen(s, max), NULL);
}

size_t hh_utf8_escape(char *dst, size_t size, const char *src, size_t len)
{
    const unsigned char *p = (const unsigned char *)src;
    size_t in = 0, out = 0;
    while (in < len) {
        size_t step = char_len(p + in, len - in);
        size_t need = step ? step : 4;
        if (out + need >= size)
            break;
        if (step)
            memcpy(dst + out, p + in, step);
        else
            snprintf(dst + out, 5, "\\x%02x", p[in]);
        out += need;
        in += step ? step : 1;
    }
    dst[out] = '\0';
    return out;
}
