/*
 * test_upload_policy.c - the contract's upload table, row by row, at
 * limit-1, limit and limit+1; every rejection of the presign body with
 * its error code and field; the key layout; and the strict key validator
 * against keys that must never reach storage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "domain/upload_policy.h"

#define U1 "0190f3a2-7b1c-7d2e-8f3a-4b5c6d7e8f90"
#define U2 "0190f3a2-7b1c-7d2e-8f3a-4b5c6d7e8f91"

/* The table of contract section 2, written out again on purpose. */
static const struct {
    const char *kind, *type, *ext, *folder;
    int64_t max;
} rows[] = {
    {"image", "image/png", "png", "videos/inputs", 10 * 1048576LL},
    {"image", "image/jpeg", "jpg", "videos/inputs", 10 * 1048576LL},
    {"image", "image/webp", "webp", "videos/inputs", 10 * 1048576LL},
    {"video", "video/mp4", "mp4", "videos/reference-video", 50 * 1048576LL},
    {"video", "video/quicktime", "mov", "videos/reference-video", 50 * 1048576LL},
    {"video", "video/webm", "webm", "videos/reference-video", 50 * 1048576LL},
    {"audio", "audio/mpeg", "mp3", "videos/reference-audio", 15 * 1048576LL},
    {"audio", "audio/mp3", "mp3", "videos/reference-audio", 15 * 1048576LL},
    {"audio", "audio/wav", "wav", "videos/reference-audio", 15 * 1048576LL},
    {"audio", "audio/webm", "weba", "videos/reference-audio", 15 * 1048576LL},
};

typedef struct outcome {
    hh_status rc;
    api_error err;
    hh_errdetail d;
    upload_request ur;
} outcome;

static outcome parse_text(const char *text)
{
    outcome o;
    memset(&o, 0, sizeof o);
    json_error_t jerr;
    json_t *body = json_loads(text, 0, &jerr);
    assert_non_null(body);
    o.rc = upload_request_parse(body, &o.ur, &o.err, &o.d);
    json_decref(body);
    return o;
}

static void every_row_at_its_limit(void **state)
{
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        for (int64_t d = -1; d <= 1; d++) {
            char text[200];
            snprintf(text, sizeof text,
                     "{\"kind\":\"%s\",\"contentType\":\"%s\",\"sizeBytes\":%lld}", rows[i].kind,
                     rows[i].type, (long long)(rows[i].max + d));
            outcome o = parse_text(text);
            if (d <= 0) {
                assert_int_equal(o.rc, HH_OK);
                assert_string_equal(upload_kind_name(o.ur.kind), rows[i].kind);
                assert_string_equal(o.ur.content_type, rows[i].type);
                assert_string_equal(o.ur.ext, rows[i].ext);
                assert_int_equal(o.ur.size_bytes, rows[i].max + d);
                assert_int_equal(upload_max_bytes(o.ur.kind), rows[i].max);
            } else {
                assert_int_equal(o.rc, HH_ERR_INVALID);
                assert_int_equal(o.err, API_ERR_UPLOAD_FILE_TOO_LARGE);
                assert_string_equal(o.d.field, "sizeBytes");
            }
        }
        assert_string_equal(upload_ext_of_type(rows[i].type), rows[i].ext);
    }
    /* The signed PUT's body limit (UPLOAD_MAX_BYTES) is the largest row, exactly. */
    int64_t largest = 0;
    for (int k = 0; k < UPLOAD_KIND_COUNT; k++)
        if (upload_max_bytes((upload_kind)k) > largest)
            largest = upload_max_bytes((upload_kind)k);
    assert_int_equal(largest, UPLOAD_MAX_BYTES);
    assert_null(upload_ext_of_type("audio/mp4"));
    assert_null(upload_ext_of_type("IMAGE/PNG"));
    assert_null(upload_ext_of_type(NULL));
}

static void keys_follow_the_layout(void **state)
{
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        char text[200], key[UPLOAD_KEY_MAX], want[UPLOAD_KEY_MAX];
        snprintf(text, sizeof text, "{\"kind\":\"%s\",\"contentType\":\"%s\",\"sizeBytes\":1}",
                 rows[i].kind, rows[i].type);
        outcome o = parse_text(text);
        assert_int_equal(o.rc, HH_OK);
        upload_key(&o.ur, U1, U2, key, sizeof key);
        snprintf(want, sizeof want, "%s/%s/%s.%s", rows[i].folder, U1, U2, rows[i].ext);
        assert_string_equal(key, want);
        assert_int_equal(upload_key_classify(key), UPLOAD_KEY_IMAGE + (int)o.ur.kind);
        /* Served with the registered type: audio/mp3 uploads come back as audio/mpeg. */
        const char *served = upload_key_content_type(key);
        assert_non_null(served);
        assert_string_equal(upload_ext_of_type(served), rows[i].ext);
    }
    char key[UPLOAD_KEY_MAX];
    assert_int_equal(upload_output_key(U1, key, sizeof key), HH_OK);
    assert_string_equal(key, "videos/outputs/" U1 ".mp4");
    assert_int_equal(upload_key_classify(key), UPLOAD_KEY_OUTPUT);
    assert_string_equal(upload_key_content_type(key), "video/mp4");
    assert_int_equal(upload_thumbnail_key(U1, key, sizeof key), HH_OK);
    assert_string_equal(key, "videos/thumbnails/" U1 ".jpg");
    assert_int_equal(upload_key_classify(key), UPLOAD_KEY_THUMBNAIL);
    assert_string_equal(upload_key_content_type(key), "image/jpeg");
    assert_int_equal(upload_output_key("../etc", key, sizeof key), HH_ERR_INVALID);
    assert_int_equal(upload_output_key(U1, key, 20), HH_ERR_LIMIT);
}

static void presign_body_rules(void **state)
{
    static const struct {
        const char *body;
        api_error err;
        const char *field;
    } bad[] = {
        {"{\"contentType\":\"image/png\"}", API_ERR_INVALID_INPUT, "sizeBytes"},
        {"{\"contentType\":\"image/png\",\"sizeBytes\":0}", API_ERR_INVALID_INPUT, "sizeBytes"},
        {"{\"contentType\":\"image/png\",\"sizeBytes\":-1}", API_ERR_INVALID_INPUT, "sizeBytes"},
        {"{\"contentType\":\"image/png\",\"sizeBytes\":1.5}", API_ERR_INVALID_INPUT, "sizeBytes"},
        {"{\"contentType\":\"image/png\",\"sizeBytes\":\"5\"}", API_ERR_INVALID_INPUT, "sizeBytes"},
        {"{\"contentType\":\"image/png\",\"sizeBytes\":null}", API_ERR_INVALID_INPUT, "sizeBytes"},
        {"{\"contentType\":\"image/png\",\"sizeBytes\":true}", API_ERR_INVALID_INPUT, "sizeBytes"},
        {"{\"sizeBytes\":5}", API_ERR_INVALID_INPUT, "contentType"},
        {"{\"contentType\":7,\"sizeBytes\":5}", API_ERR_INVALID_INPUT, "contentType"},
        {"{\"kind\":\"document\",\"contentType\":\"image/png\",\"sizeBytes\":5}",
         API_ERR_INVALID_INPUT, "kind"},
        {"{\"kind\":\"Image\",\"contentType\":\"image/png\",\"sizeBytes\":5}",
         API_ERR_INVALID_INPUT, "kind"},
        {"{\"kind\":null,\"contentType\":\"image/png\",\"sizeBytes\":5}", API_ERR_INVALID_INPUT,
         "kind"},
        {"{\"contentType\":\"image/png\",\"sizeBytes\":5,\"fileName\":\"a.png\"}",
         API_ERR_INVALID_INPUT, "fileName"},
        {"{\"kind\":\"audio\",\"contentType\":\"audio/mp4\",\"sizeBytes\":5}",
         API_ERR_UPLOAD_TYPE_NOT_SUPPORTED, "contentType"},
        {"{\"kind\":\"video\",\"contentType\":\"image/png\",\"sizeBytes\":5}",
         API_ERR_UPLOAD_TYPE_NOT_SUPPORTED, "contentType"},
        {"{\"contentType\":\"video/mp4\",\"sizeBytes\":5}", API_ERR_UPLOAD_TYPE_NOT_SUPPORTED,
         "contentType"}, /* kind defaults to image */
        {"{\"contentType\":\"image/PNG\",\"sizeBytes\":5}", API_ERR_UPLOAD_TYPE_NOT_SUPPORTED,
         "contentType"},
        {"{\"contentType\":\"image/png; charset=x\",\"sizeBytes\":5}",
         API_ERR_UPLOAD_TYPE_NOT_SUPPORTED, "contentType"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        outcome o = parse_text(bad[i].body);
        if (o.rc != HH_ERR_INVALID || o.err != bad[i].err || strcmp(o.d.field, bad[i].field))
            fail_msg("%s: got rc %d err %d field '%s'", bad[i].body, o.rc, o.err, o.d.field);
        assert_true(o.d.message[0] != '\0');
    }
    outcome o = parse_text("{\"contentType\":\"image/webp\",\"sizeBytes\":5}");
    assert_int_equal(o.rc, HH_OK);
    assert_int_equal(o.ur.kind, UPLOAD_IMAGE);
}

/* 1 if the NUL-terminated s is valid UTF-8 (a JSON string can carry it). */
static int valid_utf8(const char *s)
{
    json_t *j = json_string(s);
    json_decref(j);
    return j != NULL;
}

/*
 * Client strings echoed into the message (an unknown key, a content type)
 * are cut on a character boundary, whatever the byte offset of the cut:
 * a 1-byte prefix shifts 2-, 3- and 4-byte characters across it.
 */
static void echoed_strings_stay_utf8(void **state)
{
    const char *units[] = {"\xc3\xa9", "\xe6\xb0\xb4", "\xf0\x9f\x90\x8e"};
    for (size_t u = 0; u < 3; u++) {
        for (int shift = 0; shift < 4; shift++) {
            char s[200];
            snprintf(s, sizeof s, "%.*s", shift, "xxx");
            for (int i = 0; i < 40; i++)
                strncat(s, units[u], sizeof s - strlen(s) - 1);
            char text[400];
            snprintf(text, sizeof text, "{\"%s\":1}", s);
            outcome o = parse_text(text);
            assert_int_equal(o.rc, HH_ERR_INVALID);
            assert_int_equal(o.err, API_ERR_INVALID_INPUT);
            assert_true(valid_utf8(o.d.field) && valid_utf8(o.d.message));
            assert_true(strlen(o.d.field) > 0 && !strncmp(o.d.field, s, strlen(o.d.field)));
            snprintf(text, sizeof text, "{\"contentType\":\"%s\",\"sizeBytes\":5}", s);
            o = parse_text(text);
            assert_int_equal(o.rc, HH_ERR_INVALID);
            assert_int_equal(o.err, API_ERR_UPLOAD_TYPE_NOT_SUPPORTED);
            assert_string_equal(o.d.field, "contentType");
            assert_true(valid_utf8(o.d.message));
        }
    }
}

static void strict_keys(void **state)
{
    static const char *const refused[] = {
        "",
        "videos",
        "videos/inputs/" U1,
        "videos/inputs/" U1 "/" U2,
        "videos/inputs/" U1 "/" U2 ".",
        "videos/inputs/" U1 "/" U2 ".mp4", /* a video extension in the image folder */
        "videos/inputs/" U1 "/" U2 ".PNG",
        "videos/inputs/" U1 "/" U2 ".png.part-Ab12Cd", /* a writer's temporary name */
        "videos/inputs/" U1 "/" U2 ".png/",
        "videos/inputs/" U1 "/x/" U2 ".png",
        "videos/inputs//" U1 "/" U2 ".png",
        "/videos/inputs/" U1 "/" U2 ".png",
        "videos/inputs/../inputs/" U1 "/" U2 ".png",
        "videos/inputs/0190F3A2-7B1C-7D2E-8F3A-4B5C6D7E8F90/" U2 ".png",
        "videos/inputs/0190f3a2-7b1c-7d2e-8f3a-4b5c6d7e8f9/" U2 ".png",
        "videos/inputs/" U1 "/" U2 "x.png",
        "videos/reference-video/" U1 "/" U2 ".png",
        "videos/reference-audio/" U1 "/" U2 ".mp4",
        "videos/outputs/" U1 ".jpg",
        "videos/outputs/" U1 ".mp4.tmp-123456",
        "videos/outputs/" U1 "/" U2 ".mp4",
        "videos/thumbnails/" U1 ".mp4",
        "videos/other/" U1 ".mp4",
        "secret.key",
        "store.db",
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        if (upload_key_classify(refused[i]) != UPLOAD_KEY_INVALID)
            fail_msg("accepted %s", refused[i]);
        assert_null(upload_key_content_type(refused[i]));
    }
    assert_int_equal(upload_key_classify(NULL), UPLOAD_KEY_INVALID);
    assert_int_equal(upload_key_classify("videos/reference-audio/" U1 "/" U2 ".weba"),
                     UPLOAD_KEY_AUDIO);
    assert_string_equal(upload_key_content_type("videos/reference-audio/" U1 "/" U2 ".weba"),
                        "audio/webm");
    assert_int_equal(upload_key_classify("videos/reference-video/" U1 "/" U2 ".mov"),
                     UPLOAD_KEY_VIDEO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_row_at_its_limit),
        cmocka_unit_test(keys_follow_the_layout),
        cmocka_unit_test(presign_body_rules),
        cmocka_unit_test(echoed_strings_stay_utf8),
        cmocka_unit_test(strict_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
