/*
 * test_errdetail.c - the validators' error detail: hh_utf8_prefix and
 * hh_errdetail_set cut text at a byte limit on a character boundary, with
 * a 2-, 3- and 4-byte character at every offset across the limit (limit-1,
 * limit, limit+1 bytes), and leave short text whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/errdetail.h"

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

static void set_cuts_field_and_message(void **state)
{
    hh_errdetail d;
    for (size_t u = 0; u < 3; u++) {
        size_t ul = strlen(units[u]);
        for (size_t pad = 0; pad < 4; pad++) {
            char s[600];
            size_t n = pad;
            memset(s, 'a', pad);
            for (; n + ul < sizeof s; n += ul)
                memcpy(s + n, units[u], ul);
            s[n] = '\0';
            assert_int_equal(hh_errdetail_set(&d, HH_ERR_INVALID, s, "%s", s), HH_ERR_INVALID);
            size_t fl = strlen(d.field), ml = strlen(d.message);
            /* The longest whole-character prefix that fits, never a byte of a split one. */
            assert_int_equal(fl, pad + (sizeof d.field - 1 - pad) / ul * ul);
            assert_int_equal(ml, pad + (sizeof d.message - 1 - pad) / ul * ul);
            assert_memory_equal(d.field, s, fl);
            assert_memory_equal(d.message, s, ml);
        }
    }
}

static void set_keeps_short_text_and_rc(void **state)
{
    hh_errdetail d;
    char field[HH_ERRDETAIL_FIELD_MAX];
    memset(field, 'f', sizeof field - 1);
    field[sizeof field - 1] = '\0';
    assert_int_equal(hh_errdetail_set(&d, HH_ERR_LIMIT, field, "%s is %d", "x", 5), HH_ERR_LIMIT);
    assert_string_equal(d.field, field); /* exactly the limit: whole */
    assert_string_equal(d.message, "x is 5");
    assert_int_equal(hh_errdetail_set(&d, HH_ERR_IO, NULL, "m"), HH_ERR_IO);
    assert_string_equal(d.field, "");
    assert_int_equal(hh_errdetail_set(NULL, HH_ERR_INVALID, "f", "m"), HH_ERR_INVALID);
    hh_errdetail_clear(&d);
    assert_string_equal(d.field, "");
    assert_string_equal(d.message, "");
    hh_errdetail_clear(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prefix_at_every_offset),
        cmocka_unit_test(set_cuts_field_and_message),
        cmocka_unit_test(set_keeps_short_text_and_rc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
