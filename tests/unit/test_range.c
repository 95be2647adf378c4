/*
 * test_range.c - the single-range parser against every shape of header a
 * browser or curl sends, and the malformed ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http/range.h"

static const struct {
    const char *header;
    uint64_t size;
    range_result want;
    uint64_t first, last;
} cases[] = {
    {NULL, 100, RANGE_NONE, 0, 0},
    {"bytes=0-0", 100, RANGE_OK, 0, 0},
    {"bytes=0-99", 100, RANGE_OK, 0, 99},
    {"bytes=0-100", 100, RANGE_OK, 0, 99}, /* past the end: clamped */
    {"bytes=10-", 100, RANGE_OK, 10, 99},  /* open */
    {"bytes=99-", 100, RANGE_OK, 99, 99},  /* last byte */
    {"bytes=100-", 100, RANGE_UNSATISFIABLE, 0, 0},
    {"bytes=-1", 100, RANGE_OK, 99, 99}, /* suffix */
    {"bytes=-100", 100, RANGE_OK, 0, 99},
    {"bytes=-500", 100, RANGE_OK, 0, 99},
    {"bytes=-0", 100, RANGE_UNSATISFIABLE, 0, 0},
    {"bytes=0-", 0, RANGE_UNSATISFIABLE, 0, 0}, /* empty object */
    {"bytes=5-4", 100, RANGE_NONE, 0, 0},       /* inverted: ignored */
    {"bytes=0-1,5-6", 100, RANGE_NONE, 0, 0},   /* several: whole object */
    {"items=0-1", 100, RANGE_NONE, 0, 0},
    {"bytes= 0-1", 100, RANGE_NONE, 0, 0},
    {"bytes=0-1x", 100, RANGE_NONE, 0, 0},
    {"bytes=-", 100, RANGE_NONE, 0, 0},
    {"bytes=", 100, RANGE_NONE, 0, 0},
    {"bytes=99999999999999999999-", 100, RANGE_NONE, 0, 0}, /* overflow */
};

static void table(void **state)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint64_t first = 0, last = 0;
        range_result r = range_parse(cases[i].header, cases[i].size, &first, &last);
        if (r != cases[i].want)
            fail_msg("case %zu (%s): result %d, want %d", i, cases[i].header ? cases[i].header : "",
                     r, cases[i].want);
        if (r == RANGE_OK && (first != cases[i].first || last != cases[i].last))
            fail_msg("case %zu: %llu-%llu", i, (unsigned long long)first, (unsigned long long)last);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(table)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
