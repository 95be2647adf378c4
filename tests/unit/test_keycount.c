/*
 * test_keycount.c - counts per key: the limit at max-1, max and max+1,
 * forgetting a key at zero, many keys, and eight threads racing for the
 * last places of one key (never more than max taken).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "util/keycount.h"

static void limit_and_release(void **state)
{
    (void)state;
    keycount *kc = keycount_new();
    assert_non_null(kc);
    assert_int_equal(keycount_take(kc, "a", 0), 0); /* max 0: nothing fits */
    assert_int_equal(keycount_get(kc, "a"), 0);
    assert_int_equal(keycount_take(kc, "a", 2), 1);
    assert_int_equal(keycount_take(kc, "a", 2), 1);
    assert_int_equal(keycount_take(kc, "a", 2), 0);
    assert_int_equal(keycount_get(kc, "a"), 2);
    assert_int_equal(keycount_take(kc, "b", 1), 1); /* another key has its own count */
    keycount_release(kc, "a");
    assert_int_equal(keycount_take(kc, "a", 2), 1);
    keycount_release(kc, "a");
    keycount_release(kc, "a");
    assert_int_equal(keycount_get(kc, "a"), 0);
    keycount_release(kc, "a"); /* not counted: left alone */
    assert_int_equal(keycount_get(kc, "a"), 0);
    assert_int_equal(keycount_get(kc, "b"), 1);
    keycount_free(kc);
    keycount_free(NULL);
}

static void many_keys(void **state)
{
    (void)state;
    keycount *kc = keycount_new();
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
        assert_int_equal(keycount_take(kc, key, 1), 1);
    }
    for (int i = 0; i < 5000; i += 2) {
        snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
        keycount_release(kc, key);
    }
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
        assert_int_equal(keycount_get(kc, key), i % 2);
    }
    keycount_free(kc); /* frees what is left */
}

typedef struct racer {
    keycount *kc;
    int won;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    for (int i = 0; i < 1000; i++)
        r->won += keycount_take(r->kc, "hot", 100) == 1;
    return NULL;
}

static void racing_threads(void **state)
{
    (void)state;
    keycount *kc = keycount_new();
    racer r[8];
    pthread_t t[8];
    for (int i = 0; i < 8; i++) {
        r[i] = (racer){kc, 0};
        assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    int won = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        won += r[i].won;
    }
    assert_int_equal(won, 100);
    assert_int_equal(keycount_get(kc, "hot"), 100);
    keycount_free(kc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(limit_and_release),
        cmocka_unit_test(many_keys),
        cmocka_unit_test(racing_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
