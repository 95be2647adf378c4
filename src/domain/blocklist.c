/*
 * blocklist.c - the prompt blocklist of blocklist.h: phrases kept
 * normalised, matched with memmem against the normalised prompt (UTF-8 in,
 * UTF-8 out, so a byte search finds exactly the character sequences).
 *
 * Case folding uses towlower_l in the C.UTF-8 locale, made once with
 * newlocale (never setlocale: the program's locale stays "C" for every
 * other thread). Without that locale, ASCII letters are still folded.
 */
#include "domain/blocklist.h"

#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "util/utf8.h"

#define FILE_MAX (4 << 20) /* a blocklist file larger than 4 MiB is a mistake */

struct blocklist {
    size_t n;
    char **phrase; /* normalised, each non-empty */
};

static locale_t utf8_locale;
static pthread_once_t locale_once = PTHREAD_ONCE_INIT;

static void make_locale(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* The normal form of one code point: 0 to drop it, ' ' for white space, else its folding. */
static uint32_t fold(uint32_t cp)
{
    if (cp >= 0xFF01 && cp <= 0xFF5E) /* full-width ASCII: Ａ -> A */
        cp -= 0xFEE0;
    if (cp == 0x3000 || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v' ||
        cp == 0x00A0 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
        cp == 0x202F || cp == 0x205F)
        return ' ';
    if ((cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF || cp == 0x00AD)
        return 0; /* zero-width characters and soft hyphens hide nothing */
    if (cp < 0x80)
        return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    pthread_once(&locale_once, make_locale);
    return utf8_locale ? (uint32_t)towlower_l((wint_t)cp, utf8_locale) : cp;
}

size_t blocklist_normalize(const char *s, size_t len, char *out, size_t size)
{
    size_t in = 0, o = 0;
    int space = 1; /* drops leading white space and folds runs */
    while (in < len) {
        uint32_t cp;
        size_t step = hh_utf8_next(s + in, len - in, &cp);
        if (!step) { /* not text: skip the byte (prompts are validated UTF-8 already) */
            in++;
            continue;
        }
        in += step;
        cp = fold(cp);
        if (!cp || (cp == ' ' && space))
            continue;
        char enc[4];
        size_t n = hh_utf8_put(cp, enc);
        if (!n || o + n >= size)
            break;
        memcpy(out + o, enc, n);
        o += n;
        space = cp == ' ';
    }
    if (o && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    return o;
}

void blocklist_free(blocklist *bl)
{
    if (!bl)
        return;
    for (size_t i = 0; i < bl->n; i++)
        free(bl->phrase[i]);
    free(bl->phrase);
    free(bl);
}

/* Adds the line (len bytes, line number no) to bl unless blank or a comment. */
static hh_status add_line(blocklist *bl, const char *line, size_t len, size_t no, hh_errdetail *d)
{
    if (len && line[len - 1] == '\r')
        len--;
    if (len > BLOCKLIST_LINE_MAX)
        return hh_errdetail_set(d, HH_ERR_INVALID, "", "line %zu: longer than %d bytes", no,
                                BLOCKLIST_LINE_MAX);
    if (hh_utf8_count(line, len) < 0)
        return hh_errdetail_set(d, HH_ERR_INVALID, "", "line %zu: not valid UTF-8", no);
    char norm[4 * BLOCKLIST_LINE_MAX + 1];
    size_t n = blocklist_normalize(line, len, norm, sizeof norm);
    if (n == 0 || norm[0] == '#')
        return HH_OK;
    if (bl->n == BLOCKLIST_MAX_PHRASES)
        return hh_errdetail_set(d, HH_ERR_INVALID, "", "line %zu: more than %d phrases", no,
                                BLOCKLIST_MAX_PHRASES);
    char *copy = strdup(norm);
    if (!copy)
        return HH_ERR_NOMEM;
    bl->phrase[bl->n++] = copy;
    return HH_OK;
}

hh_status blocklist_parse(const char *text, size_t len, blocklist **out, hh_errdetail *d)
{
    *out = NULL;
    hh_errdetail_clear(d);
    blocklist *bl = calloc(1, sizeof *bl);
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    if (bl)
        bl->phrase = calloc(lines < BLOCKLIST_MAX_PHRASES ? lines : BLOCKLIST_MAX_PHRASES,
                            sizeof *bl->phrase);
    if (!bl || !bl->phrase) {
        blocklist_free(bl);
        return HH_ERR_NOMEM;
    }
    hh_status rc = HH_OK;
    size_t start = 0, no = 1;
    for (size_t i = 0; !rc && i <= len; i++) {
        if (i < len && text[i] != '\n')
            continue;
        rc = add_line(bl, text + start, i - start, no++, d);
        start = i + 1;
    }
    if (rc) {
        blocklist_free(bl);
        return rc;
    }
    *out = bl;
    return HH_OK;
}

hh_status blocklist_load(const char *path, blocklist **out, hh_errdetail *d)
{
    *out = NULL;
    hh_errdetail_clear(d);
    FILE *f = fopen(path, "rb");
    if (!f)
        return hh_errdetail_set(d, HH_ERR_IO, "", "%s: cannot open", path);
    char *buf = malloc(FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, FILE_MAX + 1, f) : 0;
    int failed = ferror(f);
    fclose(f);
    hh_status rc;
    if (!buf)
        rc = HH_ERR_NOMEM;
    else if (failed)
        rc = hh_errdetail_set(d, HH_ERR_IO, "", "%s: cannot read", path);
    else if (n > FILE_MAX)
        rc = hh_errdetail_set(d, HH_ERR_INVALID, "", "%s: larger than 4 MiB", path);
    else {
        hh_errdetail inner;
        rc = blocklist_parse(buf, n, out, &inner);
        if (rc && inner.message[0])
            hh_errdetail_set(d, rc, "", "%s: %s", path, inner.message);
    }
    free(buf);
    return rc;
}

size_t blocklist_size(const blocklist *bl)
{
    return bl ? bl->n : 0;
}

int blocklist_match(const blocklist *bl, const char *text)
{
    if (!bl || !bl->n || !text)
        return 0;
    size_t len = strlen(text);
    /* Folding can lengthen a character (U+0130 to two); four times the bytes is ample. */
    size_t size = 4 * len + 1;
    char *norm = malloc(size);
    if (!norm)
        return 0;
    size_t n = blocklist_normalize(text, len, norm, size);
    int hit = 0;
    for (size_t i = 0; !hit && i < bl->n; i++)
        hit = memmem(norm, n, bl->phrase[i], strlen(bl->phrase[i])) != NULL;
    free(norm);
    return hit;
}
