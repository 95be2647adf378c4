/*
 * sniff.c - the signatures, from each format's specification: PNG's 8-byte
 * signature, JPEG's SOI marker, RIFF containers (WebP, WAVE), ISO BMFF's
 * box type at offset 4 (MP4, QuickTime), EBML's magic (WebM) and MP3's ID3
 * tag or MPEG audio frame sync.
 */
#include "media/sniff.h"

#include <string.h>

static int at(const unsigned char *h, size_t len, size_t off, const char *magic, size_t n)
{
    return len >= off + n && !memcmp(h + off, magic, n);
}

static int is_png(const unsigned char *h, size_t n)
{
    return at(h, n, 0, "\x89PNG\r\n\x1a\n", 8);
}

static int is_jpeg(const unsigned char *h, size_t n)
{
    return at(h, n, 0, "\xff\xd8\xff", 3);
}

static int is_riff(const unsigned char *h, size_t n, const char *form)
{
    return at(h, n, 0, "RIFF", 4) && at(h, n, 8, form, 4);
}

static int is_bmff(const unsigned char *h, size_t n, int quicktime)
{
    if (at(h, n, 4, "ftyp", 4))
        return 1;
    /* Old QuickTime files may open with another top-level atom. */
    return quicktime && (at(h, n, 4, "moov", 4) || at(h, n, 4, "mdat", 4) ||
                         at(h, n, 4, "wide", 4) || at(h, n, 4, "free", 4));
}

static int is_ebml(const unsigned char *h, size_t n)
{
    return at(h, n, 0, "\x1a\x45\xdf\xa3", 4);
}

/*
 * An ID3v2 tag, or an MPEG audio frame header: 11 sync bits, then a version
 * other than the reserved 01 and a layer other than the reserved 00 (which
 * is what tells MP3 from an AAC ADTS stream, whose sync looks the same).
 */
static int is_mp3(const unsigned char *h, size_t n)
{
    if (at(h, n, 0, "ID3", 3))
        return 1;
    return n >= 2 && h[0] == 0xff && (h[1] & 0xe0) == 0xe0 && ((h[1] >> 3) & 3) != 1 &&
           ((h[1] >> 1) & 3) != 0;
}

sniff_result sniff_check(const char *type, const unsigned char *h, size_t n, int complete)
{
    if (n < SNIFF_NEED && !complete)
        return SNIFF_NEED_MORE;
    int ok = 0;
    if (!strcmp(type, "image/png"))
        ok = is_png(h, n);
    else if (!strcmp(type, "image/jpeg"))
        ok = is_jpeg(h, n);
    else if (!strcmp(type, "image/webp"))
        ok = is_riff(h, n, "WEBP");
    else if (!strcmp(type, "video/mp4"))
        ok = is_bmff(h, n, 0);
    else if (!strcmp(type, "video/quicktime"))
        ok = is_bmff(h, n, 1);
    else if (!strcmp(type, "video/webm") || !strcmp(type, "audio/webm"))
        ok = is_ebml(h, n);
    else if (!strcmp(type, "audio/mpeg") || !strcmp(type, "audio/mp3"))
        ok = is_mp3(h, n);
    else if (!strcmp(type, "audio/wav"))
        ok = is_riff(h, n, "WAVE");
    return ok ? SNIFF_MATCH : SNIFF_MISMATCH;
}
