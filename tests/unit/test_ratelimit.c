/*
 * test_ratelimit.c - token buckets: burst of R, then R per minute; the
 * header figures (remaining, reset, Retry-After); plan changes; eviction
 * keeps memory bounded without changing any answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "api/ratelimit.h"

static void burst_then_refused(void **state)
{
    ratelimit *rl = ratelimit_new();
    ratelimit_result r;
    int64_t t = 1000000;
    for (int i = 1; i <= 30; i++) {
        assert_int_equal(ratelimit_take(rl, "k1", 30, t + i, &r), HH_OK);
        assert_true(r.allowed);
        assert_int_equal(r.limit, 30);
        assert_int_equal(r.window_s, 60);
        assert_int_equal(r.remaining, 30 - i);
    }
    /* The 31st within the same second: refused, one token is 2 s away at 30/min. */
    assert_int_equal(ratelimit_take(rl, "k1", 30, t + 31, &r), HH_OK);
    assert_false(r.allowed);
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.retry_after_s, 2);
    assert_int_equal(r.reset_s, 60);
    /* Another key is unaffected. */
    assert_int_equal(ratelimit_take(rl, "k2", 30, t + 31, &r), HH_OK);
    assert_true(r.allowed);
    /* 1.9 s later still no whole token; at 2.0 s one. */
    assert_int_equal(ratelimit_take(rl, "k1", 30, t + 30 + 1900, &r), HH_OK);
    assert_false(r.allowed);
    assert_int_equal(r.retry_after_s, 1);
    assert_int_equal(ratelimit_take(rl, "k1", 30, t + 30 + 2000, &r), HH_OK);
    assert_true(r.allowed);
    assert_int_equal(ratelimit_take(rl, "k1", 30, t + 30 + 2001, &r), HH_OK);
    assert_false(r.allowed);
    ratelimit_free(rl);
}

static void refill_caps_at_capacity(void **state)
{
    ratelimit *rl = ratelimit_new();
    ratelimit_result r;
    assert_int_equal(ratelimit_take(rl, "k", 60, 0, &r), HH_OK);
    assert_int_equal(r.remaining, 59);
    assert_int_equal(r.reset_s, 1);
    /* An hour idle refills to 60, not more. */
    assert_int_equal(ratelimit_take(rl, "k", 60, 3600 * 1000, &r), HH_OK);
    assert_int_equal(r.remaining, 59);
    ratelimit_free(rl);
}

static void plan_change_rescales(void **state)
{
    ratelimit *rl = ratelimit_new();
    ratelimit_result r;
    for (int i = 0; i < 15; i++)
        ratelimit_take(rl, "k", 30, 0, &r); /* half used */
    assert_int_equal(r.remaining, 15);
    assert_int_equal(ratelimit_take(rl, "k", 300, 0, &r), HH_OK); /* upgraded to pro */
    assert_true(r.allowed);
    assert_int_equal(r.limit, 300);
    assert_int_equal(r.remaining, 149);
    assert_int_equal(ratelimit_take(rl, "k", 0, 0, &r), HH_ERR_INVALID);
    ratelimit_free(rl);
}

static void eviction_bounds_memory(void **state)
{
    ratelimit *rl = ratelimit_new();
    ratelimit_result r;
    char key[32];
    /* 5000 keys used once each, an hour apart from the next wave: buckets refill, get swept. */
    for (int wave = 0; wave < 3; wave++)
        for (int i = 0; i < 5000; i++) {
            snprintf(key, sizeof key, "w%d-k%d", wave, i);
            assert_int_equal(ratelimit_take(rl, key, 30, (int64_t)wave * 3600000, &r), HH_OK);
            assert_true(r.allowed);
        }
    assert_true(ratelimit_size(rl) < 12000);
    /* A busy key is never evicted: its debt survives sweeps. */
    for (int i = 0; i < 30; i++)
        ratelimit_take(rl, "busy", 30, 4 * 3600000LL, &r);
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof key, "x%d", i);
        ratelimit_take(rl, key, 30, 4 * 3600000LL, &r);
    }
    assert_int_equal(ratelimit_take(rl, "busy", 30, 4 * 3600000LL, &r), HH_OK);
    assert_false(r.allowed);
    ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(burst_then_refused),
        cmocka_unit_test(refill_caps_at_capacity),
        cmocka_unit_test(plan_change_rescales),
        cmocka_unit_test(eviction_bounds_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
