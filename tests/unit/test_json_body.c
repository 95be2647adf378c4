/*
 * test_json_body.c - strict JSON bodies as data: objects only, duplicate
 * keys refused, nesting bounded at exactly JSON_BODY_MAX_DEPTH (brackets
 * inside strings and escaped quotes do not count), bad UTF-8 and NUL
 * refused, length-bounded parsing of bytes that are not NUL-terminated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/json_body.h"

static const struct {
    const char *body;
    hh_status want;
} cases[] = {
    {"{}", HH_OK},
    {"{\"a\":1}", HH_OK},
    {" \n{\"a\":[1,2,{\"b\":null}]}\n ", HH_OK},
    {"", HH_ERR_INVALID},
    {"[]", HH_ERR_INVALID},
    {"1", HH_ERR_INVALID},
    {"\"s\"", HH_ERR_INVALID},
    {"null", HH_ERR_INVALID},
    {"{", HH_ERR_INVALID},
    {"{\"a\":1,}", HH_ERR_INVALID},
    {"{\"a\":1}x", HH_ERR_INVALID},
    {"{\"a\":1}{}", HH_ERR_INVALID},
    {"{\"a\":1,\"a\":2}", HH_ERR_INVALID},
    {"{\"a\":{\"b\":1,\"b\":1}}", HH_ERR_INVALID},
    {"{\"a\":\"\\u0000\"}", HH_ERR_INVALID},
    {"{\"a\":\"\xff\"}", HH_ERR_INVALID},
    {"{\"a\":\"\xc3\"}", HH_ERR_INVALID},
    {"{\"a\":\"caf\xc3\xa9\"}", HH_OK},
    {"{\"a\":1e400}", HH_ERR_INVALID},
    {"{\"a\":123456789012345678901234567890}", HH_ERR_INVALID},
    {"{'a':1}", HH_ERR_INVALID},
    {"{\"a\":NaN}", HH_ERR_INVALID},
    /* the parser's message quotes the token it stopped at: it must stay UTF-8 */
    {"{\"a\": \xc3\xa9\xc3\xa9\xc3\xa9}", HH_ERR_INVALID},
    {"{\"a\": 1\xe6\xb0\xb4}", HH_ERR_INVALID},
    {"{\"\xf0\x9f\x90\x8e\": \xf0\x9f\x90\x8e}", HH_ERR_INVALID},
    /* a bad \u escape makes jansson quote the first byte of the character after it */
    {"{\"c\":\"\\u00e\xc7\xa3\"}", HH_ERR_INVALID},
    {"{\"c\":\"\\u00e\xf0\x9f\x90\x8e\"}", HH_ERR_INVALID},
};

static void table(void **state)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *obj = NULL;
        hh_errdetail d;
        hh_status rc = json_body_parse(cases[i].body, strlen(cases[i].body), &obj, &d);
        if (rc != cases[i].want)
            fail_msg("case %zu (%s): %s, want %s (%s)", i, cases[i].body, hh_status_str(rc),
                     hh_status_str(cases[i].want), d.message);
        if (rc == HH_OK)
            assert_true(json_is_object(obj));
        else
            assert_true(d.message[0] != '\0' && d.field[0] == '\0');
        if (rc != HH_OK) {
            json_t *wire = json_string(d.message);
            if (!wire)
                fail_msg("case %zu: message is not valid UTF-8: %s", i, d.message);
            json_decref(wire);
            /* the parser's words are kept up to the bad byte, and the position after them */
            if (strstr(d.message, "not valid JSON") && !strstr(d.message, "(line 1, column"))
                fail_msg("case %zu: message lost its position: %s", i, d.message);
        }
        json_decref(obj);
    }
}

/* {"a":{"a":...1...}} nested depth times. */
static void nested(int depth, char *buf, size_t size)
{
    size_t n = 0;
    for (int i = 0; i < depth; i++)
        n += (size_t)snprintf(buf + n, size - n, "{\"a\":");
    n += (size_t)snprintf(buf + n, size - n, "1");
    for (int i = 0; i < depth; i++)
        n += (size_t)snprintf(buf + n, size - n, "}");
}

static void depth_limit(void **state)
{
    char buf[1024];
    hh_errdetail e;
    json_t *obj = NULL;
    for (int d = JSON_BODY_MAX_DEPTH - 1; d <= JSON_BODY_MAX_DEPTH + 1; d++) {
        nested(d, buf, sizeof buf);
        hh_status rc = json_body_parse(buf, strlen(buf), &obj, &e);
        assert_int_equal(rc, d <= JSON_BODY_MAX_DEPTH ? HH_OK : HH_ERR_LIMIT);
        json_decref(obj);
        obj = NULL;
    }
    /* Brackets inside strings, and escaped quotes, are text, not nesting. */
    const char *s = "{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"{{{{{{{{{{{{{{{{{{{{{{{{{"
                    "{{{{{{{{{\"}";
    assert_int_equal(json_body_depth(s, strlen(s), 100), 1);
    assert_int_equal(json_body_parse(s, strlen(s), &obj, &e), HH_OK);
    json_decref(obj);
}

static void length_bounded(void **state)
{
    /* The parser must stop at len even when the bytes after it are valid JSON. */
    const char *buf = "{\"a\":1}{\"b\":2}";
    json_t *obj = NULL;
    hh_errdetail d;
    assert_int_equal(json_body_parse(buf, 7, &obj, &d), HH_OK);
    assert_non_null(json_object_get(obj, "a"));
    json_decref(obj);
    assert_int_equal(json_body_parse(buf, 6, &obj, &d), HH_ERR_INVALID);
}

/* Bodies with NUL bytes, given by length: a raw NUL in a string, after the
 * object, before it; and numbers at the edges of 64 bits. */
static void raw_bytes(void **state)
{
    static const struct {
        const char *body;
        size_t len;
        hh_status want;
    } raw[] = {
        {"{\"a\":\"\0\"}", 9, HH_ERR_INVALID},
        {"{\"a\":1}\0", 8, HH_ERR_INVALID},
        {"\0{\"a\":1}", 8, HH_ERR_INVALID},
        {"{\"\0\":1}", 7, HH_ERR_INVALID},
        {" \n\t ", 4, HH_ERR_INVALID},
        {"{\"a\":9223372036854775807}", 25, HH_OK},
        {"{\"a\":9223372036854775808}", 25, HH_ERR_INVALID},
        {"{\"a\":-9223372036854775808}", 26, HH_OK},
        {"{\"a\":-1e400}", 12, HH_ERR_INVALID},
        {"{\"a\":1e-400}", 12, HH_OK},
    };
    for (size_t i = 0; i < sizeof raw / sizeof *raw; i++) {
        json_t *obj = NULL;
        hh_errdetail d;
        hh_status rc = json_body_parse(raw[i].body, raw[i].len, &obj, &d);
        if (rc != raw[i].want)
            fail_msg("raw case %zu: %s, want %s (%s)", i, hh_status_str(rc),
                     hh_status_str(raw[i].want), d.message);
        json_decref(obj);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table),
        cmocka_unit_test(depth_limit),
        cmocka_unit_test(length_bounded),
        cmocka_unit_test(raw_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
