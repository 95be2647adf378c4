/*
 * test_plans.c - the built-in plans match the contract's table, and the
 * plans-file loader accepts valid files and refuses each kind of mistake
 * with a message naming the plan and field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "domain/plans.h"

static void defaults_match_contract(void **state)
{
    hh_plans *p = NULL;
    assert_int_equal(plans_default(&p), HH_OK);
    assert_int_equal(p->count, 4);
    /* name, max, 1080p, src, last, refvid, refaud, rpm, inflight */
    static const struct {
        const char *name;
        int max, f1080, src, last, vid, aud, rpm, jobs;
    } want[] = {
        {"free", 5, 0, 1, 0, 0, 0, 30, 1},
        {"basic", 8, 1, 1, 0, 1, 0, 60, 2},
        {"pro", 12, 1, 1, 1, 1, 1, 300, 5},
        {"max", 12, 1, 1, 1, 1, 1, 1200, 20},
    };
    for (size_t i = 0; i < 4; i++) {
        const hh_plan *pl = &p->plan[i];
        assert_string_equal(pl->name, want[i].name);
        assert_int_equal(pl->max_duration_sec, want[i].max);
        assert_int_equal(pl->allows[HH_FEATURE_1080P], want[i].f1080);
        assert_int_equal(pl->allows[HH_FEATURE_SOURCE_IMAGE], want[i].src);
        assert_int_equal(pl->allows[HH_FEATURE_LAST_FRAME], want[i].last);
        assert_int_equal(pl->allows[HH_FEATURE_REFERENCE_VIDEO], want[i].vid);
        assert_int_equal(pl->allows[HH_FEATURE_REFERENCE_AUDIO], want[i].aud);
        assert_int_equal(pl->requests_per_minute, want[i].rpm);
        assert_int_equal(pl->jobs_in_flight, want[i].jobs);
        assert_string_equal(pl->engine, "procedural");
        assert_int_equal(plans_price(pl, 6, 0), 60);
        assert_int_equal(plans_price(pl, 6, 1), 120);
    }
    plans_free(p);
}

/* A valid one-plan file; cases below replace one fragment of it. */
#define PLAN_OK                                                                                    \
    "{\"name\":\"solo\",\"maxDurationSec\":12,\"requestsPerMinute\":10,\"jobsInFlight\":3,"        \
    "\"allow\":{\"1080p\":true,\"sourceImage\":true,\"lastFrame\":true,\"referenceVideo\":true,"   \
    "\"referenceAudio\":false},\"creditsPerSecond\":{\"720p\":1,\"1080p\":2}"

static void cheapest_plan_lookups(void **state)
{
    hh_plans *p = NULL;
    assert_int_equal(plans_default(&p), HH_OK);
    assert_string_equal(plans_cheapest_allowing(p, HH_FEATURE_1080P)->name, "basic");
    assert_string_equal(plans_cheapest_allowing(p, HH_FEATURE_SOURCE_IMAGE)->name, "free");
    assert_string_equal(plans_cheapest_allowing(p, HH_FEATURE_LAST_FRAME)->name, "pro");
    assert_string_equal(plans_cheapest_allowing(p, HH_FEATURE_REFERENCE_VIDEO)->name, "basic");
    assert_string_equal(plans_cheapest_allowing(p, HH_FEATURE_REFERENCE_AUDIO)->name, "pro");
    assert_string_equal(plans_cheapest_duration(p, 5)->name, "free");
    assert_string_equal(plans_cheapest_duration(p, 6)->name, "basic");
    assert_string_equal(plans_cheapest_duration(p, 8)->name, "basic");
    assert_string_equal(plans_cheapest_duration(p, 9)->name, "pro");
    assert_null(plans_cheapest_duration(p, 13));
    assert_null(plans_find(p, "gold"));
    assert_string_equal(plans_feature_field(HH_FEATURE_1080P), "resolution");
    assert_string_equal(plans_feature_field(HH_FEATURE_LAST_FRAME), "lastFrame");
    /* Every default plan may publish; only the free one is watermarked. */
    assert_string_equal(plans_cheapest_publishing(p)->name, "free");
    assert_int_equal(plans_find(p, "free")->watermark, 1);
    assert_int_equal(plans_find(p, "basic")->watermark, 0);
    assert_int_equal(plans_find(p, "max")->watermark, 0);
    plans_free(p);
    /* Absent settings: may publish, no mark; a plan that may not is skipped. */
    static const char two[] =
        "{\"plans\":[" PLAN_OK ",\"publish\":false},"
        "{\"name\":\"b\",\"maxDurationSec\":5,\"requestsPerMinute\":1,"
        "\"jobsInFlight\":1,\"allow\":{\"1080p\":true,\"sourceImage\":true,"
        "\"lastFrame\":true,\"referenceVideo\":true,\"referenceAudio\":false},"
        "\"creditsPerSecond\":{\"720p\":1,\"1080p\":2}}]}";
    assert_int_equal(plans_load_json(two, strlen(two), &p, NULL), HH_OK);
    assert_int_equal(plans_find(p, "solo")->publish, 0);
    assert_int_equal(plans_find(p, "b")->publish, 1);
    assert_int_equal(plans_find(p, "b")->watermark, 0);
    assert_string_equal(plans_cheapest_publishing(p)->name, "b");
    plans_free(p);
}

static const struct {
    const char *json;
    const char *err_has; /* NULL: must load */
} file_cases[] = {
    {"{\"plans\":[" PLAN_OK "}]}", NULL},
    {"{\"plans\":[" PLAN_OK ",\"engine\":{\"name\":\"exec\",\"command\":\"/bin/x\"}}]}", NULL},
    {"{\"plans\":[" PLAN_OK ",\"colour\":1}]}", "unknown field \"colour\""},
    {"{\"plans\":[" PLAN_OK ",\"publish\":false,\"watermark\":true}]}", NULL},
    {"{\"plans\":[" PLAN_OK ",\"watermark\":1}]}", "\"watermark\" must be true or false"},
    {"{\"plans\":[" PLAN_OK ",\"publish\":\"no\"}]}", "\"publish\" must be true or false"},
    {"{\"plans\":[]}", "non-empty"},
    {"[]", "non-empty"},
    {"{\"plans\":[" PLAN_OK "}], \"extra\":1}", "unknown field \"extra\""},
    {"{\"plans\":[" PLAN_OK "}, " PLAN_OK "}]}", "defined twice"},
    {"{\"plans\":[{\"name\":\"Bad Name\"}]}", "\"name\""},
    {"{\"plans\":[{\"name\":\"x\",\"maxDurationSec\":13}]}", "maxDurationSec"},
    {"{\"plans\":[{\"name\":\"x\",\"maxDurationSec\":2}]}", "maxDurationSec"},
    {"{\"plans\":[{\"name\":\"x\",\"maxDurationSec\":6.5}]}", "must be an integer"},
    {"{\"plans\":[{\"name\":\"x\",\"maxDurationSec\":6,\"requestsPerMinute\":0}]}",
     "requestsPerMinute"},
    {"{\"plans\": [1]}", "must be an object"},
    {"{\"plans\": [1], \"plans\": []}", "duplicate"},
    {"{\"plans\": [", "line 1"},
};

static void plans_file_cases(void **state)
{
    for (size_t i = 0; i < sizeof file_cases / sizeof *file_cases; i++) {
        hh_plans *p = (hh_plans *)1;
        hh_errdetail d;
        hh_status rc = plans_load_json(file_cases[i].json, strlen(file_cases[i].json), &p, &d);
        const char *err = d.message;
        if (!file_cases[i].err_has) {
            if (rc != HH_OK)
                fail_msg("case %zu should load, got: %s", i, err);
            plans_free(p);
            continue;
        }
        assert_int_equal(rc, HH_ERR_INVALID);
        assert_null(p);
        if (!strstr(err, file_cases[i].err_has))
            fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err, file_cases[i].err_has);
    }
}

static void plans_file_from_disk(void **state)
{
    char path[] = "/tmp/hh-plans-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "{\"plans\":[" PLAN_OK ",\"engine\":{\"name\":\"exec\",\"timeoutSec\":9}}]}";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);

    hh_plans *p = NULL;
    hh_errdetail d;
    assert_int_equal(plans_load_file(path, &p, &d), HH_OK);
    assert_string_equal(p->plan[0].engine, "exec");
    assert_int_equal(json_integer_value(json_object_get(p->plan[0].engine_config, "timeoutSec")),
                     9);
    assert_false(p->plan[0].allows[HH_FEATURE_REFERENCE_AUDIO]);
    assert_null(plans_cheapest_allowing(p, HH_FEATURE_REFERENCE_AUDIO));
    plans_free(p);
    unlink(path);

    assert_int_equal(plans_load_file(path, &p, &d), HH_ERR_IO);
    assert_non_null(strstr(d.message, "cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_match_contract),
        cmocka_unit_test(cheapest_plan_lookups),
        cmocka_unit_test(plans_file_cases),
        cmocka_unit_test(plans_file_from_disk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
