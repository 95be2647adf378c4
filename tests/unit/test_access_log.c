/*
 * test_access_log.c - the access log line (http/access_log.c): valid JSON
 * in the logger's field order whatever the path holds (quotes, backslashes,
 * control characters, UTF-8, stray bytes written as \xNN), long paths cut,
 * a buffer too small refused rather than overrun.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "http/access_log.h"

/* 2026-01-02T03:04:05.006Z */
#define NOW_MS 1767323045006LL

static json_t *format_parsed(const http_access *a, char *buf, size_t size, size_t *len)
{
    *len = http_access_format(a, NOW_MS, buf, size);
    assert_true(*len > 0);
    assert_int_equal(buf[*len - 1], '\n');
    assert_null(memchr(buf, '\n', *len - 1)); /* one line */
    json_error_t err;
    json_t *j = json_loadb(buf, *len, 0, &err);
    assert_non_null(j);
    return j;
}

static void line_has_every_field_in_order(void **state)
{
    (void)state;
    http_access a = {"GET", "videos.get", "/api/v1/videos/x", 200, 1234, "abc", 380, 1};
    char buf[1024];
    size_t n;
    json_t *j = format_parsed(&a, buf, sizeof buf, &n);
    static const char *const keys[] = {"ts",         "level", "msg",      "method",
                                       "route",      "path",  "status",   "duration_ms",
                                       "request_id", "bytes", "completed"};
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        assert_true(i < sizeof keys / sizeof *keys);
        assert_string_equal(k, keys[i++]);
    }
    assert_int_equal(i, sizeof keys / sizeof *keys);
    assert_string_equal(json_string_value(json_object_get(j, "ts")), "2026-01-02T03:04:05.006Z");
    assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(j, "msg")), "request");
    assert_string_equal(json_string_value(json_object_get(j, "route")), "videos.get");
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 200);
    assert_true(json_real_value(json_object_get(j, "duration_ms")) == 1.234);
    assert_int_equal(json_integer_value(json_object_get(j, "bytes")), 380);
    assert_true(json_is_true(json_object_get(j, "completed")));
    json_decref(j);
}

static void any_path_keeps_its_line(void **state)
{
    (void)state;
    /* quote, backslash, a control character, UTF-8 text, then stray bytes */
    http_access a = {"GET", "none", "/a\"b\\c\x01/\xc3\xa9t\xc3\xa9/\xff\xfe", 404, 1, "r", 0, 0};
    char buf[1024];
    size_t n;
    json_t *j = format_parsed(&a, buf, sizeof buf, &n);
    assert_string_equal(json_string_value(json_object_get(j, "path")),
                        "/a\"b\\c\x01/\xc3\xa9t\xc3\xa9/\\xff\\xfe");
    assert_true(json_is_false(json_object_get(j, "completed")));
    json_decref(j);
    /* a character cut in half is two stray bytes, not a lost line */
    a.path = "/\xe2\x82";
    j = format_parsed(&a, buf, sizeof buf, &n);
    assert_string_equal(json_string_value(json_object_get(j, "path")), "/\\xe2\\x82");
    json_decref(j);
}

static void long_paths_cut_small_buffers_refused(void **state)
{
    (void)state;
    size_t len = HTTP_ACCESS_PATH_MAX + 100;
    char *path = malloc(len + 1);
    assert_non_null(path);
    memset(path, 'a', len);
    path[len] = '\0';
    http_access a = {"GET", "none", path, 404, 1, "r", 0, 0};
    size_t size = 2 * HTTP_ACCESS_PATH_MAX;
    char *buf = malloc(size);
    assert_non_null(buf);
    size_t n;
    json_t *j = format_parsed(&a, buf, size, &n);
    assert_int_equal(strlen(json_string_value(json_object_get(j, "path"))), HTTP_ACCESS_PATH_MAX);
    json_decref(j);
    assert_int_equal(http_access_format(&a, NOW_MS, buf, 100), 0);
    free(buf);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(line_has_every_field_in_order),
        cmocka_unit_test(any_path_keeps_its_line),
        cmocka_unit_test(long_paths_cut_small_buffers_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
