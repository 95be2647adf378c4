/*
 * test_utf8.c - the one UTF-8 decoder: validity rules, code-point counts,
 * and hh_utf8_prefix, the cut that never ends inside a character, with a
 * 2-, 3- and 4-byte character at every offset across the limit (limit-1,
 * limit, limit+1 bytes) and stray bytes in the middle of the text; and
 * hh_utf8_escape, which keeps such bytes readable as \xNN for the logs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/utf8.h"

static const char *const units[] = {"\xc3\xa9", "\xe6\xb0\xb4", "\xf0\x9f\x90\x8e"};

/* s = pad ASCII bytes, one character of unit u, then "z". */
static void straddle(char *s, size_t size, size_t pad, size_t u)
{
    memset(s, 'a', pad);
    snprintf(s + pad, size - pad, "%sz", units[u]);
}

static void prefix_at_every_offset(void **state)
{
    enum { LIMIT = 10 };
    for (size_t u = 0; u < 3; u++) {
        size_t ul = strlen(units[u]);
        /* The character starts at LIMIT-ul-1 .. LIMIT+1: before, across and after the cut. */
        for (size_t pad = LIMIT - ul - 1; pad <= LIMIT + 1; pad++) {
            char s[32];
            straddle(s, sizeof s, pad, u);
            size_t got = hh_utf8_prefix(s, LIMIT);
            /* Whole when the character ends by the limit or starts past it, else cut before it. */
            size_t want = pad + ul <= LIMIT || pad >= LIMIT ? LIMIT : pad;
            if (got != want)
                fail_msg("unit %zu pad %zu: got %zu, want %zu", u, pad, got, want);
        }
    }
    assert_int_equal(hh_utf8_prefix("", 10), 0);
    assert_int_equal(hh_utf8_prefix("abc", 10), 3);
    assert_int_equal(hh_utf8_prefix("abc", 0), 0);
    assert_int_equal(hh_utf8_prefix("\xc3\xa9", 1), 0);
    assert_int_equal(hh_utf8_prefix("\xc3\xa9", 2), 2);
    assert_int_equal(hh_utf8_prefix("\xf0\x9f\x90\x8e", 3), 0);
    assert_int_equal(hh_utf8_prefix("\xf0\x9f\x90\x8e", 4), 4);
}

static void stray_bytes_end_the_prefix(void **state)
{
    assert_int_equal(hh_utf8_prefix("ab\xff"
                                    "cd",
                                    10),
                     2);
    assert_int_equal(hh_utf8_prefix("ab\xc3z", 10), 2);        /* a lead byte without its tail */
    assert_int_equal(hh_utf8_prefix("ab\xc0\xafz", 10), 2);    /* an overlong '/' */
    assert_int_equal(hh_utf8_prefix("ab\xed\xa0\x80", 10), 2); /* a surrogate */
    assert_int_equal(hh_utf8_prefix("ab\xf4\x90\x80\x80", 10), 2); /* past U+10FFFF */
    assert_int_equal(hh_utf8_prefix("\x80\x80", 10), 0);
    long n = -1;
    assert_int_equal(hh_utf8_valid_len("h\xc3\xa9\xffz", 5, &n), 3);
    assert_int_equal(n, 2);
    assert_int_equal(hh_utf8_count("h\xc3\xa9\xf0\x9f\x90\x8e", 7), 3);
    assert_int_equal(hh_utf8_count("abc\0def", 7), -1); /* NUL is not text */
    assert_int_equal(hh_utf8_count("", 0), 0);
}

/* Stray bytes become \xNN, text stays as it is, and the result is always valid UTF-8. */
static void escape_keeps_every_byte_readable(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(hh_utf8_escape(out, sizeof out, "/app/\xff\xfe", 7), 13);
    assert_string_equal(out, "/app/\\xff\\xfe");
    assert_int_equal(hh_utf8_escape(out, sizeof out, "h\xc3\xa9\0z", 5), 8);
    assert_string_equal(out, "h\xc3\xa9\\x00z"); /* a NUL is escaped, not an end */
    assert_int_equal(hh_utf8_escape(out, sizeof out, "ab\xc3", 3), 6); /* a cut character */
    assert_string_equal(out, "ab\\xc3");
    assert_int_equal(hh_utf8_escape(out, sizeof out, "", 0), 0);
    assert_string_equal(out, "");
}

/* The output never ends inside a character or an escape, at any size. */
static void escape_cuts_on_boundaries(void **state)
{
    (void)state;
    const char src[] = "a\xff"
                       "b\xf0\x9f\x90\x8e\xfe";
    for (size_t size = 1; size <= 24; size++) {
        char out[32];
        memset(out, 'Z', sizeof out);
        size_t n = hh_utf8_escape(out, size, src, sizeof src - 1);
        assert_true(n < size);
        assert_int_equal(out[n], '\0');
        assert_true(hh_utf8_count(out, n) >= 0);
        /* What was written is a prefix of the whole escape. */
        char whole[64];
        hh_utf8_escape(whole, sizeof whole, src, sizeof src - 1);
        assert_memory_equal(out, whole, n);
        /* ... and it stops only where the next piece would not fit. */
        assert_true(whole[n] == '\0' || n + (whole[n] == '\\' ? 4 : 1) >= size ||
                    (unsigned char)whole[n] == 0xf0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prefix_at_every_offset),
        cmocka_unit_test(stray_bytes_end_the_prefix),
        cmocka_unit_test(escape_keeps_every_byte_readable),
        cmocka_unit_test(escape_cuts_on_boundaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
