/*
 * test_video_events.c - the bounds of the status streams
 * (api/video_events.h): per key at VIDEO_EVENTS_PER_KEY - 1, at it and one
 * past it; in all at VIDEO_EVENTS_MAX - 1, at it and one past it, whatever
 * the keys; a place given back is free again. The streams themselves are
 * tested over HTTP (tests/api/test_videos_events.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "api/video_events.h"

typedef struct fixture {
    char dir[64];
    hh_store *st;
    video_events *ve;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/hh-events-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, &f->st), HH_OK);
    assert_int_equal(video_events_new(f->st, NULL, 0, &f->ve), HH_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    video_events_free(f->ve);
    store_close(f->st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void per_key(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < VIDEO_EVENTS_PER_KEY - 1; i++)
        assert_int_equal(video_events_reserve(f->ve, "key-a"), 1);
    assert_int_equal(video_events_reserve(f->ve, "key-a"), 1); /* the last place */
    assert_int_equal(video_events_reserve(f->ve, "key-a"), 0); /* one past */
    assert_int_equal(video_events_reserve(f->ve, "key-b"), 1); /* another key has its own */
    video_events_unreserve(f->ve, "key-a");
    assert_int_equal(video_events_reserve(f->ve, "key-a"), 1); /* given back: free again */
    assert_int_equal(video_events_reserve(f->ve, "key-a"), 0);
}

static void in_all(void **state)
{
    fixture *f = *state;
    char key[32];
    int taken = 0;
    /* One place per key, so only the server's bound can stop them. */
    for (; taken < VIDEO_EVENTS_MAX - 1; taken++) {
        snprintf(key, sizeof key, "key-%d", taken);
        assert_int_equal(video_events_reserve(f->ve, key), 1);
    }
    assert_int_equal(video_events_reserve(f->ve, "key-last"), 1); /* the last place */
    assert_int_equal(video_events_reserve(f->ve, "key-more"), 0); /* one past, a fresh key */
    video_events_unreserve(f->ve, "key-0");
    assert_int_equal(video_events_reserve(f->ve, "key-more"), 1);
    assert_int_equal(video_events_reserve(f->ve, "key-more2"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(per_key, setup, teardown),
        cmocka_unit_test_setup_teardown(in_all, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
