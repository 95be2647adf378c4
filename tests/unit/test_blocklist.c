/*
 * test_blocklist.c - the prompt blocklist: normalisation (case, full
 * width, the ideographic space, zero-width characters, runs of white
 * space), matching anywhere (also in Chinese text, which has no spaces),
 * comments and blank lines, and every refusal of the file with its line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "domain/blocklist.h"

static blocklist *parse(const char *text)
{
    blocklist *bl = NULL;
    hh_errdetail d;
    assert_int_equal(blocklist_parse(text, strlen(text), &bl, &d), HH_OK);
    return bl;
}

static void normalises(void **state)
{
    (void)state;
    char out[256];
    blocklist_normalize("  Bad\t\tWORD  ", 13, out, sizeof out);
    assert_string_equal(out, "bad word");
    const char *wide =
        "\xef\xbc\xa2\xef\xbd\x81\xef\xbd\x84\xe3\x80\x80\xef\xbc\x91"; /* Ｂａｄ　１ */
    blocklist_normalize(wide, strlen(wide), out, sizeof out);
    assert_string_equal(out, "bad 1");
    const char *accents = "\xc3\x89"
                          "CLAIR \xce\xa3\xce\x99\xce\x93\xce\x9c\xce\x91"; /* ÉCLAIR ΣΙΓΜΑ */
    blocklist_normalize(accents, strlen(accents), out, sizeof out);
    assert_string_equal(out, "\xc3\xa9"
                             "clair \xcf\x83\xce\xb9\xce\xb3\xce\xbc\xce\xb1");
    const char *hidden = "b\xe2\x80\x8b"
                         "a\xc2\xad"
                         "d"; /* zero-width space, soft hyphen */
    blocklist_normalize(hidden, strlen(hidden), out, sizeof out);
    assert_string_equal(out, "bad");
    /* A small buffer cuts on a character boundary. */
    blocklist_normalize("\xe6\xb0\xb4\xe6\xb0\xb4", 6, out, 5);
    assert_string_equal(out, "\xe6\xb0\xb4");
}

static void matches(void **state)
{
    (void)state;
    blocklist *bl = parse("# the operator's list\n"
                          "\n"
                          "Bad Word\r\n"
                          "\xe7\xa6\x81\xe6\xad\xa2\xe8\xaf\x8d\n" /* 禁止词 */
                          "   \n"
                          "\xef\xbc\xb8\xef\xbc\xb9\xef\xbc\xba\n"); /* ＸＹＺ */
    assert_int_equal(blocklist_size(bl), 3);
    assert_true(blocklist_match(bl, "a BAD word here"));
    assert_true(blocklist_match(bl, "a bad\n\tword"));
    assert_true(blocklist_match(
        bl, "\xef\xbc\xa2\xef\xbc\xa1\xef\xbc\xa4\xe3\x80\x80word")); /* ＢＡＤ　word */
    assert_true(blocklist_match(bl,
                                "\xe4\xb8\x80\xe4\xb8\xaa\xe7\xa6\x81\xe6\xad\xa2\xe8\xaf"
                                "\x8d\xe7\x9a\x84\xe4\xbe\x8b\xe5\xad\x90")); /* 一个禁止词的例子 */
    assert_true(blocklist_match(bl, "xyz"));
    assert_true(blocklist_match(bl, "abcXYZdef")); /* inside a word */
    assert_false(blocklist_match(bl, "a badword"));
    assert_false(blocklist_match(bl, "\xe7\xa6\x81\xe6\xad\xa2")); /* 禁止 alone */
    assert_false(blocklist_match(bl, "# the operator's list"));    /* comments are not phrases */
    assert_false(blocklist_match(bl, ""));
    assert_false(blocklist_match(NULL, "bad word"));
    blocklist_free(bl);
    bl = parse("");
    assert_int_equal(blocklist_size(bl), 0);
    assert_false(blocklist_match(bl, "anything"));
    blocklist_free(bl);
}

static void refusals(void **state)
{
    (void)state;
    blocklist *bl = NULL;
    hh_errdetail d;
    const char *bad = "ok\nbad \xff byte\n";
    assert_int_equal(blocklist_parse(bad, strlen(bad), &bl, &d), HH_ERR_INVALID);
    assert_null(bl);
    assert_string_equal(d.message, "line 2: not valid UTF-8");
    char line[BLOCKLIST_LINE_MAX + 2];
    memset(line, 'a', sizeof line - 1);
    line[sizeof line - 1] = '\0';
    assert_int_equal(blocklist_parse(line, BLOCKLIST_LINE_MAX + 1, &bl, &d), HH_ERR_INVALID);
    assert_string_equal(d.message, "line 1: longer than 1000 bytes");
    assert_int_equal(blocklist_parse(line, BLOCKLIST_LINE_MAX, &bl, &d), HH_OK); /* at the limit */
    blocklist_free(bl);
    assert_int_equal(blocklist_load("/nonexistent/blocklist.txt", &bl, &d), HH_ERR_IO);
    assert_string_equal(d.message, "/nonexistent/blocklist.txt: cannot open");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normalises),
        cmocka_unit_test(matches),
        cmocka_unit_test(refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
