/*
 * test_read_cache.c - the hot-read cache (api/read_cache.c): a value comes
 * back only under the generation it was stored with and within its time to
 * live; generation 0 keeps nothing; a newer value replaces an older one; a
 * value longer than the reader's room, or a key too long, is a miss.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/read_cache.h"

#define TTL 1000

static void hit_only_under_its_generation_and_time(void **state)
{
    (void)state;
    read_cache *rc = read_cache_new(16, TTL);
    assert_non_null(rc);
    char out[32];
    assert_int_equal(read_cache_get(rc, "k", 1, 7, 100, out, sizeof out), 0);
    read_cache_put(rc, "k", 1, 7, 100, "value", 5);
    assert_int_equal(read_cache_get(rc, "k", 1, 7, 100 + TTL - 1, out, sizeof out), 5);
    assert_memory_equal(out, "value", 5);
    assert_int_equal(read_cache_get(rc, "k", 1, 8, 101, out, sizeof out), 0);       /* a commit */
    assert_int_equal(read_cache_get(rc, "k", 1, 7, 100 + TTL, out, sizeof out), 0); /* too old */
    assert_int_equal(read_cache_get(rc, "k", 1, 7, 99, out, sizeof out), 0);  /* clock went back */
    assert_int_equal(read_cache_get(rc, "K", 1, 7, 100, out, sizeof out), 0); /* another key */
    read_cache_put(rc, "k", 1, 8, 200, "newer value", 11);
    assert_int_equal(read_cache_get(rc, "k", 1, 8, 200, out, sizeof out), 11);
    assert_memory_equal(out, "newer value", 11);
    assert_int_equal(read_cache_get(rc, "k", 1, 8, 200, out, 10), 0); /* no room: a miss */
    read_cache_free(rc);
}

static void generation_0_and_long_keys_keep_nothing(void **state)
{
    (void)state;
    read_cache *rc = read_cache_new(16, TTL);
    assert_non_null(rc);
    char out[8], key[READ_CACHE_KEY_MAX + 1];
    read_cache_put(rc, "k", 1, 0, 100, "v", 1);
    assert_int_equal(read_cache_get(rc, "k", 1, 0, 100, out, sizeof out), 0);
    memset(key, 'x', sizeof key);
    read_cache_put(rc, key, sizeof key, 3, 100, "v", 1);
    assert_int_equal(read_cache_get(rc, key, sizeof key, 3, 100, out, sizeof out), 0);
    read_cache_put(rc, key, READ_CACHE_KEY_MAX, 3, 100, "v", 1); /* the longest key there is */
    assert_int_equal(read_cache_get(rc, key, READ_CACHE_KEY_MAX, 3, 100, out, sizeof out), 1);
    read_cache_free(rc);
}

static void many_keys_each_their_own_value(void **state)
{
    (void)state;
    read_cache *rc = read_cache_new(4096, TTL);
    assert_non_null(rc);
    char key[16], val[16], out[16];
    for (int i = 0; i < 500; i++) {
        int n = snprintf(key, sizeof key, "key-%d", i);
        snprintf(val, sizeof val, "val-%d", i);
        read_cache_put(rc, key, (size_t)n, 1, 0, val, strlen(val) + 1);
    }
    int hits = 0;
    for (int i = 0; i < 500; i++) {
        int n = snprintf(key, sizeof key, "key-%d", i);
        snprintf(val, sizeof val, "val-%d", i);
        size_t got = read_cache_get(rc, key, (size_t)n, 1, 1, out, sizeof out);
        if (got) { /* a slot two keys share holds the later one: never the wrong value */
            assert_string_equal(out, val);
            hits++;
        }
    }
    assert_true(hits > 400);
    read_cache_free(rc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hit_only_under_its_generation_and_time),
        cmocka_unit_test(generation_0_and_long_keys_keep_nothing),
        cmocka_unit_test(many_keys_each_their_own_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
