/*
 * test_errdetail.c - the validators' error detail: hh_errdetail_set cuts
 * field and message at their byte limits on a character boundary, for 2-,
 * 3- and 4-byte characters at every offset, keeps what fits whole, drops
 * bytes that are not text, and returns the status it is given.
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
    /* A stray byte (text that was never valid) ends the message before it. */
    hh_errdetail_set(&d, HH_ERR_INVALID, "a\xc3", "near '%s' (line %d)", "\xe6\xb0", 1);
    assert_string_equal(d.field, "a");
    assert_string_equal(d.message, "near '");
    assert_int_equal(hh_errdetail_set(NULL, HH_ERR_INVALID, "f", "m"), HH_ERR_INVALID);
    hh_errdetail_clear(&d);
    assert_string_equal(d.field, "");
    assert_string_equal(d.message, "");
    hh_errdetail_clear(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_cuts_field_and_message),
        cmocka_unit_test(set_keeps_short_text_and_rc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
