/*
 * test_sniff.c - magic-byte checks: the opening bytes of a real file of
 * every upload type match its own type and no other type of a different
 * format; short bodies wait for more or are judged when complete.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "media/sniff.h"

/* Openings as real encoders write them (ffmpeg, libwebp, lame, libvpx). */
static const unsigned char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
static const unsigned char jpeg[] = "\xff\xd8\xff\xe0\0\x10JFIF\0\x01";
static const unsigned char webp[] = "RIFF\x24\0\0\0WEBPVP8 ";
static const unsigned char mp4[] = "\0\0\0\x20"
                                   "ftypisom\0\0\x02\0";
static const unsigned char mov[] = "\0\0\0\x14"
                                   "ftypqt  \0\0\x02\0";
static const unsigned char mov_old[] = "\0\0\0\x08"
                                       "wide\0\0\0\0mdat";
static const unsigned char webm[] = "\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81";
static const unsigned char mp3_id3[] = "ID3\x04\0\0\0\0\0\x23TSSE";
static const unsigned char mp3_frame[] = "\xff\xfb\x90\x64\0\0\0\0\0\0\0\0";
static const unsigned char wav[] = "RIFF\x24\x08\0\0WAVEfmt ";
static const unsigned char adts[] = "\xff\xf1\x50\x80\x02\x1f\xfc\0\0\0\0\0";
static const unsigned char text[] = "#!/bin/sh\nrm -rf /\n";

static const struct {
    const unsigned char *head;
    const char *matches[4]; /* the types this opening is, NULL-terminated */
} cases[] = {
    {png, {"image/png"}},
    {jpeg, {"image/jpeg"}},
    {webp, {"image/webp"}},
    {mp4, {"video/mp4", "video/quicktime"}},
    {mov, {"video/mp4", "video/quicktime"}},
    {mov_old, {"video/quicktime"}},
    {webm, {"video/webm", "audio/webm"}},
    {mp3_id3, {"audio/mpeg", "audio/mp3"}},
    {mp3_frame, {"audio/mpeg", "audio/mp3"}},
    {wav, {"audio/wav"}},
    {adts, {NULL}}, /* AAC is not MP3 */
    {text, {NULL}},
};

static const char *const types[] = {
    "image/png",  "image/jpeg", "image/webp", "video/mp4",  "video/quicktime",         "video/webm",
    "audio/mpeg", "audio/mp3",  "audio/wav",  "audio/webm", "application/octet-stream"};

static int listed(const char *const *list, const char *type)
{
    for (int i = 0; i < 4 && list[i]; i++)
        if (!strcmp(list[i], type))
            return 1;
    return 0;
}

static void every_type_against_every_opening(void **state)
{
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
            sniff_result want = listed(cases[c].matches, types[t]) ? SNIFF_MATCH : SNIFF_MISMATCH;
            sniff_result got = sniff_check(types[t], cases[c].head, SNIFF_NEED, 0);
            if (got != want)
                fail_msg("case %zu as %s: got %d, want %d", c, types[t], got, want);
        }
}

static void short_bodies(void **state)
{
    /* Not yet enough bytes: wait, whatever they look like so far. */
    for (size_t n = 0; n < SNIFF_NEED; n++) {
        assert_int_equal(sniff_check("image/png", png, n, 0), SNIFF_NEED_MORE);
        assert_int_equal(sniff_check("image/jpeg", png, n, 0), SNIFF_NEED_MORE);
    }
    /* A whole body shorter than SNIFF_NEED is judged on what there is. */
    assert_int_equal(sniff_check("image/png", png, 8, 1), SNIFF_MATCH);
    assert_int_equal(sniff_check("image/png", png, 7, 1), SNIFF_MISMATCH);
    assert_int_equal(sniff_check("image/jpeg", jpeg, 3, 1), SNIFF_MATCH);
    assert_int_equal(sniff_check("image/jpeg", jpeg, 2, 1), SNIFF_MISMATCH);
    assert_int_equal(sniff_check("audio/mpeg", mp3_frame, 2, 1), SNIFF_MATCH);
    assert_int_equal(sniff_check("audio/wav", wav, 11, 1), SNIFF_MISMATCH);
    assert_int_equal(sniff_check("image/png", png, 0, 1), SNIFF_MISMATCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_type_against_every_opening),
        cmocka_unit_test(short_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
