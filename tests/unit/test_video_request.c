/*
 * test_video_request.c - every rule of the create-video body (contract
 * section 3) at boundary-1, boundary and boundary+1, in both modes, driven
 * by tables of JSON bodies and the outcome each must have.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/video_request.h"
#include "util/utf8.h"

typedef struct vr_case {
    const char *body; /* JSON text */
    hh_vr_mode mode;
    int ok;            /* 1: must validate */
    const char *field; /* on failure: the field that must be named */
} vr_case;

#define API HH_VR_API
#define JOB HH_VR_JOB

static const vr_case cases[] = {
    /* the body itself */
    {"[]", API, 0, ""},
    {"\"x\"", API, 0, ""},
    {"{}", API, 0, "prompt"},
    /* minimal valid bodies */
    {"{\"prompt\":\"abc\",\"durationSec\":3}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3}", JOB, 1, NULL},
    /* prompt type */
    {"{\"prompt\":null,\"durationSec\":3}", API, 0, "prompt"},
    {"{\"prompt\":123,\"durationSec\":3}", API, 0, "prompt"},
    {"{\"prompt\":[\"abc\"],\"durationSec\":3}", API, 0, "prompt"},
    /* prompt length after trimming (the long cases are built in code) */
    {"{\"prompt\":\"ab\",\"durationSec\":3}", API, 0, "prompt"},
    {"{\"prompt\":\"   ab \\n\\t\",\"durationSec\":3}", API, 0, "prompt"},
    {"{\"prompt\":\"  abc  \",\"durationSec\":3}", API, 1, NULL},
    {"{\"prompt\":\"\\u00e9\\u00e9\",\"durationSec\":3}", API, 0, "prompt"},
    {"{\"prompt\":\"\\u00e9\\u00e9\\u00e9\",\"durationSec\":3}", API, 1, NULL},
    {"{\"prompt\":\"\\ud83d\\ude00\\ud83d\\ude00\",\"durationSec\":3}", API, 0, "prompt"},
    {"{\"prompt\":\"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\",\"durationSec\":3}", API, 1, NULL},
    {"{\"prompt\":\"\",\"durationSec\":3}", API, 0, "prompt"},
    /* style */
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"style\":\"\"}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"style\":null}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"style\":5}", API, 0, "style"},
    /* durationSec: type and range */
    {"{\"prompt\":\"abc\"}", API, 0, "durationSec"},
    {"{\"prompt\":\"abc\",\"durationSec\":null}", API, 0, "durationSec"},
    {"{\"prompt\":\"abc\",\"durationSec\":2}", API, 0, "durationSec"},
    {"{\"prompt\":\"abc\",\"durationSec\":3}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":4}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":11}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":12}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":13}", API, 0, "durationSec"},
    {"{\"prompt\":\"abc\",\"durationSec\":0}", API, 0, "durationSec"},
    {"{\"prompt\":\"abc\",\"durationSec\":-5}", API, 0, "durationSec"},
    {"{\"prompt\":\"abc\",\"durationSec\":6.5}", API, 0, "durationSec"},
    {"{\"prompt\":\"abc\",\"durationSec\":6.0}", API, 0, "durationSec"},
    {"{\"prompt\":\"abc\",\"durationSec\":\"6\"}", API, 0, "durationSec"},
    {"{\"prompt\":\"abc\",\"durationSec\":true}", API, 0, "durationSec"},
    {"{\"prompt\":\"abc\",\"durationSec\":9223372036854775807}", API, 0, "durationSec"},
    /* enums */
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"aspectRatio\":\"9:16\"}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"aspectRatio\":\"1:1\"}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"aspectRatio\":\"4:3\"}", API, 0, "aspectRatio"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"aspectRatio\":\"16:9 \"}", API, 0, "aspectRatio"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"aspectRatio\":169}", API, 0, "aspectRatio"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"resolution\":\"1080p\"}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"resolution\":\"480p\"}", API, 0, "resolution"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"resolution\":\"1080P\"}", API, 0, "resolution"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"cameraMotion\":\"orbit\"}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"cameraMotion\":\"dolly\"}", API, 0, "cameraMotion"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"cameraMotion\":\"\"}", API, 0, "cameraMotion"},
    /* motionIntensity */
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"motionIntensity\":0}", API, 0, "motionIntensity"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"motionIntensity\":1}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"motionIntensity\":2}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"motionIntensity\":4}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"motionIntensity\":5}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"motionIntensity\":6}", API, 0, "motionIntensity"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"motionIntensity\":2.5}", API, 0, "motionIntensity"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"motionIntensity\":\"3\"}", API, 0, "motionIntensity"},
    /* cfgScale */
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"cfgScale\":-0.01}", API, 0, "cfgScale"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"cfgScale\":0}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"cfgScale\":0.0}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"cfgScale\":0.01}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"cfgScale\":0.99}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"cfgScale\":1}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"cfgScale\":1.0}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"cfgScale\":1.01}", API, 0, "cfgScale"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"cfgScale\":2}", API, 0, "cfgScale"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"cfgScale\":\"0.5\"}", API, 0, "cfgScale"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"cfgScale\":false}", API, 0, "cfgScale"},
    /* unknown fields, named */
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"model\":\"x\"}", API, 0, "model"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"inputImageUrl\":\"http://a\"}", API, 0,
     "inputImageUrl"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"referenceVideoUrl\":\"x\"}", API, 0,
     "referenceVideoUrl"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"audioUrl\":\"x\"}", API, 0, "audioUrl"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"Prompt\":\"x\"}", API, 0, "Prompt"},
    {"{\"model\":\"x\"}", API, 0, "model"},
    /* the other mode's names are unknown */
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"seed\":1}", API, 0, "seed"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"sourceImage\":\"a.png\"}", API, 0, "sourceImage"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"sourceImageKey\":\"k\"}", JOB, 0, "sourceImageKey"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"referenceAudioKey\":\"k\"}", JOB, 0,
     "referenceAudioKey"},
    /* references */
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"sourceImageKey\":\"videos/inputs/u/a.png\"}", API, 1,
     NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"sourceImageKey\":\"\"}", API, 0, "sourceImageKey"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"sourceImageKey\":7}", API, 0, "sourceImageKey"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"lastFrameKey\":\"k\"}", API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"lastFrameKey\":\"k\",\"sourceImageKey\":\"j\"}", API,
     0, "lastFrameKey"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"lastFrameKey\":\"k\",\"sourceImageKey\":null}", API,
     1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"referenceVideoKey\":\"k\",\"referenceAudioKey\":"
     "\"k2\"}",
     API, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"referenceVideoKey\":[]}", API, 0,
     "referenceVideoKey"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"lastFrame\":\"b.png\",\"sourceImage\":\"a.png\"}",
     JOB, 0, "lastFrame"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"referenceAudio\":\"a.wav\"}", JOB, 1, NULL},
    /* seed (job mode) */
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"seed\":42}", JOB, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"seed\":-1}", JOB, 1, NULL},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"seed\":4.5}", JOB, 0, "seed"},
    {"{\"prompt\":\"abc\",\"durationSec\":3,\"seed\":\"42\"}", JOB, 0, "seed"},
    /* order of checks: unknown fields before everything else */
    {"{\"prompt\":1,\"durationSec\":99,\"zzz\":1}", API, 0, "zzz"},
    {"{\"prompt\":\"ab\",\"durationSec\":99}", API, 0, "prompt"},
};

static void check_case(const vr_case *c)
{
    json_error_t jerr;
    json_t *body = json_loads(c->body, JSON_DECODE_ANY, &jerr);
    if (!body)
        fail_msg("bad test JSON %s: %s", c->body, jerr.text);
    hh_video_request *r = malloc(sizeof *r);
    assert_non_null(r);
    hh_errdetail d;
    hh_status rc = video_request_parse(body, c->mode, r, &d);
    if (c->ok) {
        if (rc != HH_OK)
            fail_msg("%s: expected ok, got %s (%s: %s)", c->body, hh_status_str(rc), d.field,
                     d.message);
    } else {
        if (rc != HH_ERR_INVALID)
            fail_msg("%s: expected invalid, got %s", c->body, hh_status_str(rc));
        if (strcmp(d.field, c->field))
            fail_msg("%s: expected field '%s', got '%s' (%s)", c->body, c->field, d.field,
                     d.message);
        assert_true(strlen(d.message) > 0);
    }
    free(r);
    json_decref(body);
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(&cases[i]);
}

/* Builds {"prompt": <n copies of unit>, "durationSec": 3} and parses it. */
static hh_status parse_prompt_of(const char *unit, int n, const char *pad, hh_errdetail *d)
{
    size_t ul = strlen(unit), pl = strlen(pad);
    char *s = malloc(ul * (size_t)n + 2 * pl + 1);
    assert_non_null(s);
    size_t o = 0;
    memcpy(s, pad, pl);
    o += pl;
    for (int i = 0; i < n; i++, o += ul)
        memcpy(s + o, unit, ul);
    memcpy(s + o, pad, pl);
    o += pl;
    s[o] = '\0';
    json_t *body = json_pack("{s:s, s:i}", "prompt", s, "durationSec", 3);
    assert_non_null(body);
    hh_video_request *r = malloc(sizeof *r);
    assert_non_null(r);
    hh_status rc = video_request_parse(body, HH_VR_API, r, d);
    if (rc == HH_OK) {
        assert_int_equal(strlen(r->prompt), ul * (size_t)n);
    }
    free(r);
    json_decref(body);
    free(s);
    return rc;
}

static void test_prompt_long_boundaries(void **state)
{
    (void)state;
    /* 1, 2, 3 and 4 byte code points: the limit is in code points, not bytes. */
    const char *units[] = {"a", "\xc3\xa9", "\xe6\xb0\xb4", "\xf0\x9f\x90\x8e"};
    hh_errdetail d;
    for (size_t u = 0; u < 4; u++) {
        assert_int_equal(parse_prompt_of(units[u], 1999, "", &d), HH_OK);
        assert_int_equal(parse_prompt_of(units[u], 2000, "", &d), HH_OK);
        assert_int_equal(parse_prompt_of(units[u], 2001, "", &d), HH_ERR_INVALID);
        assert_string_equal(d.field, "prompt");
        /* white space around does not count */
        assert_int_equal(parse_prompt_of(units[u], 2000, "  \n", &d), HH_OK);
        assert_int_equal(parse_prompt_of(units[u], 2, "   ", &d), HH_ERR_INVALID);
        assert_int_equal(parse_prompt_of(units[u], 3, "   ", &d), HH_OK);
    }
}

static void test_style_boundaries(void **state)
{
    (void)state;
    const char *units[] = {"s", "\xc3\xa9", "\xf0\x9f\x90\x8e"};
    for (size_t u = 0; u < 3; u++) {
        for (int n = 49; n <= 51; n++) {
            char style[51 * 4 + 3] = " ";
            for (int i = 0; i < n; i++)
                strncat(style, units[u], sizeof style - strlen(style) - 1);
            strncat(style, " ", sizeof style - strlen(style) - 1);
            json_t *body =
                json_pack("{s:s, s:i, s:s}", "prompt", "abc", "durationSec", 3, "style", style);
            hh_video_request *r = malloc(sizeof *r);
            assert_non_null(r);
            hh_errdetail d;
            hh_status rc = video_request_parse(body, HH_VR_API, r, &d);
            if (n <= 50) {
                assert_int_equal(rc, HH_OK);
                assert_int_equal(strlen(r->style), strlen(units[u]) * (size_t)n);
            } else {
                assert_int_equal(rc, HH_ERR_INVALID);
                assert_string_equal(d.field, "style");
            }
            free(r);
            json_decref(body);
        }
    }
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    /* jansson refuses these when decoding text, but a json_t built in code may hold them. */
    const char *bad[] = {
        "ab\xc3",     "abc\xff",     "a\xc0\xafz", "ab\xed\xa0\x80", "ab\xf4\x90\x80\x80",
        "ab\xe2\x82", "\x80\x80\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_true(hh_utf8_count(bad[i], strlen(bad[i])) < 0);
        json_t *body = json_object();
        json_object_set_new(body, "prompt", json_stringn_nocheck(bad[i], strlen(bad[i])));
        json_object_set_new(body, "durationSec", json_integer(5));
        hh_video_request *r = malloc(sizeof *r);
        assert_non_null(r);
        hh_errdetail d;
        assert_int_equal(video_request_parse(body, HH_VR_API, r, &d), HH_ERR_INVALID);
        assert_string_equal(d.field, "prompt");
        free(r);
        json_decref(body);
    }
    /* an embedded NUL is not text either */
    json_t *body = json_object();
    json_object_set_new(body, "prompt", json_stringn("abc\0def", 7));
    json_object_set_new(body, "durationSec", json_integer(5));
    hh_video_request *r = malloc(sizeof *r);
    hh_errdetail d;
    assert_int_equal(video_request_parse(body, HH_VR_API, r, &d), HH_ERR_INVALID);
    free(r);
    json_decref(body);
    assert_int_equal(hh_utf8_count("h\xc3\xa9\xf0\x9f\x90\x8e", 7), 3);
}

static void test_defaults_and_values(void **state)
{
    (void)state;
    hh_video_request *r = malloc(sizeof *r);
    assert_non_null(r);
    hh_errdetail d;
    json_t *body = json_loads("{\"prompt\":\" a sunlit meadow \",\"durationSec\":6}", 0, NULL);
    assert_int_equal(video_request_parse(body, HH_VR_API, r, &d), HH_OK);
    assert_string_equal(r->prompt, "a sunlit meadow");
    assert_string_equal(r->style, "");
    assert_int_equal(r->duration_sec, 6);
    assert_int_equal(r->aspect, HH_ASPECT_16_9);
    assert_int_equal(r->resolution, HH_RES_720P);
    assert_int_equal(r->camera, HH_CAM_NONE);
    assert_int_equal(r->motion_intensity, 3);
    assert_true(r->cfg_scale == 0.5);
    assert_int_equal(r->has_seed, 0);
    json_decref(body);

    body = json_loads("{\"prompt\":\"night city\",\"durationSec\":12,\"style\":\"noir\","
                      "\"aspectRatio\":\"9:16\",\"resolution\":\"1080p\",\"cameraMotion\":"
                      "\"zoom-out\",\"motionIntensity\":5,\"cfgScale\":1,\"referenceVideo\":"
                      "\"/tmp/v.mp4\",\"seed\":7}",
                      0, NULL);
    assert_int_equal(video_request_parse(body, HH_VR_JOB, r, &d), HH_OK);
    assert_string_equal(r->style, "noir");
    assert_int_equal(r->aspect, HH_ASPECT_9_16);
    assert_int_equal(r->resolution, HH_RES_1080P);
    assert_int_equal(r->camera, HH_CAM_ZOOM_OUT);
    assert_int_equal(r->motion_intensity, 5);
    assert_true(r->cfg_scale == 1.0);
    assert_string_equal(r->ref[HH_REF_VIDEO], "/tmp/v.mp4");
    assert_int_equal(r->has_seed, 1);
    assert_int_equal(r->seed, 7);

    /* round trip through JSON keeps every value */
    json_t *back = video_request_to_json(r, HH_VR_JOB);
    assert_non_null(back);
    hh_video_request *r2 = malloc(sizeof *r2);
    assert_non_null(r2);
    assert_int_equal(video_request_parse(back, HH_VR_JOB, r2, &d), HH_OK);
    assert_memory_equal(r, r2, sizeof *r);
    json_decref(back);
    free(r2);
    json_decref(body);
    free(r);
}

static void test_every_camera_name(void **state)
{
    (void)state;
    for (int c = 0; c < HH_CAM_COUNT; c++) {
        json_t *body = json_pack("{s:s, s:i, s:s}", "prompt", "abc", "durationSec", 3,
                                 "cameraMotion", video_camera_name((hh_camera)c));
        hh_video_request *r = malloc(sizeof *r);
        assert_non_null(r);
        hh_errdetail d;
        assert_int_equal(video_request_parse(body, HH_VR_API, r, &d), HH_OK);
        assert_int_equal(r->camera, c);
        free(r);
        json_decref(body);
    }
    assert_null(video_camera_name(HH_CAM_COUNT));
}

static void test_frame_sizes(void **state)
{
    (void)state;
    static const int want[6][2] = {{1280, 720},  {720, 1280},  {720, 720},
                                   {1920, 1080}, {1080, 1920}, {1080, 1080}};
    for (int res = 0; res < HH_RES_COUNT; res++) {
        for (int a = 0; a < HH_ASPECT_COUNT; a++) {
            int w = 0, h = 0;
            assert_int_equal(video_frame_size((hh_resolution)res, (hh_aspect)a, &w, &h), HH_OK);
            assert_int_equal(w, want[res * 3 + a][0]);
            assert_int_equal(h, want[res * 3 + a][1]);
        }
    }
    int w, h;
    assert_int_equal(video_frame_size(HH_RES_COUNT, HH_ASPECT_1_1, &w, &h), HH_ERR_INVALID);
    assert_int_equal(video_frame_size(HH_RES_720P, HH_ASPECT_COUNT, &w, &h), HH_ERR_INVALID);
}

static void test_reference_too_long(void **state)
{
    (void)state;
    char key[HH_REF_MAX + 1];
    for (int len = HH_REF_MAX - 2; len <= HH_REF_MAX; len++) {
        memset(key, 'k', (size_t)len);
        key[len] = '\0';
        json_t *body = json_pack("{s:s, s:i, s:s}", "prompt", "abc", "durationSec", 3,
                                 "referenceVideoKey", key);
        hh_video_request *r = malloc(sizeof *r);
        assert_non_null(r);
        hh_errdetail d;
        hh_status rc = video_request_parse(body, HH_VR_API, r, &d);
        if (len <= HH_REF_MAX - 1) {
            assert_int_equal(rc, HH_OK);
        } else {
            assert_int_equal(rc, HH_ERR_INVALID);
            assert_string_equal(d.field, "referenceVideoKey");
        }
        free(r);
        json_decref(body);
    }
}

/*
 * An unknown key longer than the field buffer, of 1-, 2-, 3- and 4-byte
 * characters: the field named is the longest whole-character prefix that
 * fits, and field and message stay valid UTF-8 (JSON can carry them).
 */
static void test_long_unknown_key_cut_on_characters(void **state)
{
    (void)state;
    const char *units[] = {"k", "\xc3\xa9", "\xe6\xb0\xb4", "\xf0\x9f\x90\x8e"};
    for (size_t u = 0; u < 4; u++) {
        size_t ul = strlen(units[u]);
        char key[400] = ""; /* 80 characters: past the field buffer whatever their width */
        for (int i = 0; i < 80; i++)
            strncat(key, units[u], sizeof key - strlen(key) - 1);
        json_t *body = json_pack("{s:s, s:i, s:i}", "prompt", "abc", "durationSec", 3, key, 1);
        assert_non_null(body);
        hh_video_request *r = malloc(sizeof *r);
        assert_non_null(r);
        hh_errdetail d;
        assert_int_equal(video_request_parse(body, HH_VR_API, r, &d), HH_ERR_INVALID);
        size_t want = (sizeof d.field - 1) / ul * ul;
        assert_int_equal(strlen(d.field), want);
        assert_memory_equal(d.field, key, want);
        assert_true(hh_utf8_count(d.field, strlen(d.field)) >= 0);
        assert_true(hh_utf8_count(d.message, strlen(d.message)) >= 0);
        json_t *wire = json_pack("{s:s, s:s}", "field", d.field, "message", d.message);
        assert_non_null(wire);
        json_decref(wire);
        free(r);
        json_decref(body);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_prompt_long_boundaries),
        cmocka_unit_test(test_style_boundaries),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_defaults_and_values),
        cmocka_unit_test(test_every_camera_name),
        cmocka_unit_test(test_frame_sizes),
        cmocka_unit_test(test_reference_too_long),
        cmocka_unit_test(test_long_unknown_key_cut_on_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
