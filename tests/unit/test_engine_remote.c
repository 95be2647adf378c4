/*
 * test_engine_remote.c - the upstream engines without a network: what each
 * one asks a provider (URL, headers, body) for a request, and what each
 * provider answer means (tables of canned answers, one row per case),
 * the settings they refuse, what a plan may sell on them, and the shared
 * helpers (the prompt's camera sentence, the nearest duration).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/engine_int.h"

#define KEY "sk-test-secret-0123456789"

static hh_engine *make(const char *json)
{
    json_t *cfg = json_loads(json, 0, NULL);
    assert_non_null(cfg);
    hh_engine *e = NULL;
    hh_errdetail dd = {"", ""};
    hh_status rc = engine_new(json_string_value(json_object_get(cfg, "name")), cfg, &e, &dd);
    if (rc)
        fail_msg("engine_new(%s): %s", json, dd.message);
    json_decref(cfg);
    return e;
}

static hh_video_request request(const char *body)
{
    hh_video_request req;
    hh_errdetail d = {"", ""};
    json_t *j = json_loads(body, 0, NULL);
    assert_non_null(j);
    if (video_request_parse(j, HH_VR_JOB, &req, &d))
        fail_msg("request %s: %s %s", body, d.field, d.message);
    json_decref(j);
    return req;
}

static const char *header(const hc_request *r, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < r->nheaders; i++)
        if (!strncasecmp(r->headers[i], name, n) && r->headers[i][n] == ':')
            return r->headers[i] + n + 2;
    return NULL;
}

static json_t *body_of(const hc_request *r)
{
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    assert_non_null(j);
    return j;
}

#define DS                                                                                         \
    "{\"name\":\"dashscope\",\"baseUrl\":\"https://ds.example/api/v1/"                             \
    "\",\"apiKeyEnv\":\"HH_T_KEY\""

static void test_dashscope_request(void **state)
{
    (void)state;
    hh_engine *e =
        make(DS ",\"model\":\"happyhorse-1.1-t2v\",\"imageModel\":\"happyhorse-1.1-i2v\"}");
    hh_video_request req =
        request("{\"prompt\":\"a chestnut horse\",\"style\":\"noir\",\"durationSec\":7,"
                "\"aspectRatio\":\"9:16\",\"resolution\":\"1080p\","
                "\"cameraMotion\":\"pan-left\",\"motionIntensity\":1}");
    hh_render_job job = {.req = &req, .seed = 0xFFFFFFFFFFull};
    hc_request r = {0};
    char msg[256];
    assert_int_equal(engine_remote_submit(e, &job, NULL, &r, msg, sizeof msg), HH_OK);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.url,
                        "https://ds.example/api/v1/services/aigc/video-generation/video-synthesis");
    assert_string_equal(header(&r, "Authorization"), "Bearer " KEY);
    assert_string_equal(header(&r, "X-DashScope-Async"), "enable");
    json_t *b = body_of(&r);
    assert_string_equal(json_string_value(json_object_get(b, "model")), "happyhorse-1.1-t2v");
    json_t *par = json_object_get(b, "parameters");
    assert_string_equal(json_string_value(json_object_get(par, "resolution")), "1080P");
    assert_string_equal(json_string_value(json_object_get(par, "ratio")), "9:16");
    assert_int_equal(json_integer_value(json_object_get(par, "duration")), 7);
    assert_int_equal(json_integer_value(json_object_get(par, "seed")), 0x7FFFFFFF);
    assert_true(json_is_false(json_object_get(par, "watermark")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(b, "input"), "prompt")),
        "a chestnut horse Style: noir. The camera pans to the left. Very gentle, slow "
        "movement.");
    json_decref(b);
    hc_request_clear(&r);
    engine_free(e);

    /* Wan t2v: a size and the nearest duration it takes. */
    e = make(DS ",\"model\":\"wan2.6-t2v\"}");
    req = request("{\"prompt\":\"a horse\",\"durationSec\":12,\"aspectRatio\":\"1:1\"}");
    assert_int_equal(engine_remote_submit(e, &job, NULL, &r, msg, sizeof msg), HH_OK);
    b = body_of(&r);
    par = json_object_get(b, "parameters");
    assert_string_equal(json_string_value(json_object_get(par, "size")), "960*960");
    assert_int_equal(json_integer_value(json_object_get(par, "duration")), 10);
    assert_null(json_object_get(par, "ratio"));
    json_decref(b);
    hc_request_clear(&r);
    engine_free(e);
}

/* One canned provider answer and what it must mean. */
typedef struct answer_case {
    long status;
    hh_status rc; /* of the transport: HH_OK = an answer arrived */
    const char *body;
    engine_outcome outcome;
    const char *message_has; /* customer's message, FAILED only */
} answer_case;

static void run_polls(hh_engine *e, const char *task_json, const answer_case *cases, size_t n)
{
    json_t *task = json_loads(task_json, 0, NULL);
    for (size_t i = 0; i < n; i++) {
        hc_response resp = {.rc = cases[i].rc, .status = cases[i].status, .retry_after = -1};
        resp.body = (char *)cases[i].body;
        resp.len = strlen(cases[i].body);
        engine_verdict v = {0};
        engine_remote_polled(e, task, &resp, &v);
        if (v.outcome != cases[i].outcome)
            fail_msg("case %zu (%ld %s): outcome %d, want %d (%s)", i, cases[i].status,
                     cases[i].body, v.outcome, cases[i].outcome, v.detail);
        if (cases[i].message_has && !strstr(v.message, cases[i].message_has))
            fail_msg("case %zu: message '%s' lacks '%s'", i, v.message, cases[i].message_has);
        if (strstr(v.message, KEY) || strstr(v.detail, KEY))
            fail_msg("case %zu: the key leaked into a message", i);
        engine_verdict_clear(&v);
    }
    json_decref(task);
}

static void test_dashscope_answers(void **state)
{
    (void)state;
    static const answer_case cases[] = {
        {200, HH_OK, "{\"output\":{\"task_id\":\"t\",\"task_status\":\"PENDING\"}}", ENGINE_RUNNING,
         NULL},
        {200, HH_OK, "{\"output\":{\"task_id\":\"t\",\"task_status\":\"RUNNING\"}}", ENGINE_RUNNING,
         NULL},
        {200, HH_OK, "{\"output\":{\"task_status\":\"SOMETHING_NEW\"}}", ENGINE_RUNNING, NULL},
        {200, HH_OK,
         "{\"output\":{\"task_status\":\"SUCCEEDED\",\"video_url\":\"https://oss/v.mp4?s=1\"},"
         "\"usage\":{\"duration\":5}}",
         ENGINE_DONE, NULL},
        {200, HH_OK, "{\"output\":{\"task_status\":\"SUCCEEDED\"}}", ENGINE_FAILED,
         "without a video"},
        {200, HH_OK,
         "{\"output\":{\"task_status\":\"FAILED\",\"code\":\"DataInspectionFailed\","
         "\"message\":\"x\"}}",
         ENGINE_FAILED, "content check"},
        {200, HH_OK, "{\"output\":{\"task_status\":\"FAILED\",\"code\":\"InternalError.Algo\"}}",
         ENGINE_FAILED, "could not make"},
        {200, HH_OK, "{\"output\":{\"task_status\":\"UNKNOWN\"}}", ENGINE_FAILED, "lost the task"},
        {200, HH_OK, "{\"output\":{\"task_status\":\"CANCELED\"}}", ENGINE_FAILED, "canceled"},
        {200, HH_OK, "{\"output\": {\"task_status\": \"RUN", ENGINE_TRANSIENT, NULL},
        {200, HH_OK, "[1,2]", ENGINE_TRANSIENT, NULL},
        {429, HH_OK, "{\"code\":\"Throttling\"}", ENGINE_TRANSIENT, NULL},
        {500, HH_OK, "", ENGINE_TRANSIENT, NULL},
        {503, HH_OK, "<html>", ENGINE_TRANSIENT, NULL},
        {408, HH_OK, "{}", ENGINE_TRANSIENT, NULL},
        {0, HH_ERR_IO, "", ENGINE_TRANSIENT, NULL},
        {401, HH_OK, "{\"code\":\"InvalidApiKey\"}", ENGINE_FAILED, "credentials"},
        {400, HH_OK, "{\"code\":\"Arrearage\",\"message\":\"overdue\"}", ENGINE_FAILED,
         "not available"},
    };
    hh_engine *e = make(DS ",\"model\":\"happyhorse-1.0-t2v\"}");
    run_polls(e, "{\"id\":\"t\"}", cases, sizeof cases / sizeof cases[0]);
    hc_request r = {0};
    json_t *task =
        json_loads("{\"id\":\"abc\",\"videoUrl\":\"https://oss.example/v.mp4?sig=1\"}", 0, NULL);
    assert_int_equal(engine_remote_poll(e, task, &r), HH_OK);
    assert_string_equal(r.url, "https://ds.example/api/v1/tasks/abc");
    hc_request_clear(&r);
    assert_int_equal(engine_remote_download(e, task, &r), HH_OK);
    assert_string_equal(r.url, "https://oss.example/v.mp4?sig=1");
    assert_null(header(&r, "Authorization")); /* our key never goes to the provider's storage */
    hc_request_clear(&r);
    assert_int_equal(engine_remote_cancel(e, task, &r), HH_OK);
    assert_string_equal(r.url, "https://ds.example/api/v1/tasks/abc/cancel");
    hc_request_clear(&r);
    json_decref(task);

    /* The create's answer: the task id, or a refusal by code. */
    static const struct {
        long status;
        const char *body;
        engine_outcome outcome;
    } creates[] = {
        {200, "{\"output\":{\"task_id\":\"t1\",\"task_status\":\"PENDING\"}}", ENGINE_RUNNING},
        {200, "{\"output\":{}}", ENGINE_FAILED},
        {400, "{\"code\":\"DataInspectionFailed\",\"message\":\"bad\"}", ENGINE_FAILED},
        {429, "{}", ENGINE_TRANSIENT},
    };
    for (size_t i = 0; i < sizeof creates / sizeof creates[0]; i++) {
        hc_response resp = {.rc = HH_OK, .status = creates[i].status, .retry_after = -1};
        resp.body = (char *)creates[i].body;
        resp.len = strlen(creates[i].body);
        engine_verdict v = {0};
        engine_remote_submitted(e, &resp, &v);
        assert_int_equal(v.outcome, creates[i].outcome);
        if (v.outcome == ENGINE_RUNNING)
            assert_string_equal(json_string_value(json_object_get(v.task, "id")), "t1");
        engine_verdict_clear(&v);
    }
    engine_free(e);
}

static void test_openai(void **state)
{
    (void)state;
    hh_engine *e =
        make("{\"name\":\"openai-videos\",\"baseUrl\":\"http://gw.example/v1\",\"apiKeyEnv\":"
             "\"HH_T_KEY\",\"model\":\"sora-2\",\"seconds\":[5,10]}");
    hh_video_request req = request("{\"prompt\":\"a horse\",\"durationSec\":8}");
    hh_render_job job = {.req = &req};
    hc_request r = {0};
    char msg[256];
    assert_int_equal(engine_remote_submit(e, &job, NULL, &r, msg, sizeof msg), HH_OK);
    assert_string_equal(r.url, "http://gw.example/v1/videos");
    json_t *b = body_of(&r);
    assert_string_equal(json_string_value(json_object_get(b, "seconds")), "10");
    assert_string_equal(json_string_value(json_object_get(b, "size")), "1280x720");
    json_decref(b);
    hc_request_clear(&r);
    static const answer_case cases[] = {
        {200, HH_OK, "{\"id\":\"v\",\"status\":\"queued\",\"progress\":0}", ENGINE_RUNNING, NULL},
        {200, HH_OK, "{\"id\":\"v\",\"status\":\"in_progress\",\"progress\":40}", ENGINE_RUNNING,
         NULL},
        {200, HH_OK, "{\"id\":\"v\",\"status\":\"unknown\"}", ENGINE_RUNNING, NULL},
        {200, HH_OK, "{\"id\":\"v\",\"status\":\"completed\"}", ENGINE_DONE, NULL},
        {200, HH_OK,
         "{\"id\":\"v\",\"status\":\"failed\",\"error\":{\"code\":\"moderation_blocked\"}}",
         ENGINE_FAILED, "content check"},
        {200, HH_OK, "{\"id\":\"v\",\"status\":\"failed\",\"error\":{\"code\":\"internal\"}}",
         ENGINE_FAILED, "could not make"},
        {404, HH_OK, "{\"error\":{\"code\":\"not_found\"}}", ENGINE_FAILED, "lost the task"},
        {502, HH_OK, "bad gateway", ENGINE_TRANSIENT, NULL},
    };
    run_polls(e, "{\"id\":\"v\"}", cases, sizeof cases / sizeof cases[0]);
    json_t *task = json_loads("{\"id\":\"v\"}", 0, NULL);
    assert_int_equal(engine_remote_download(e, task, &r), HH_OK);
    assert_string_equal(r.url, "http://gw.example/v1/videos/v/content?variant=video");
    assert_string_equal(header(&r, "Authorization"), "Bearer " KEY);
    hc_request_clear(&r);
    assert_int_equal(engine_remote_cancel(e, task, &r), HH_ERR_CONFLICT); /* the shape has none */
    json_decref(task);
    engine_free(e);
}

static void test_fal(void **state)
{
    (void)state;
    hh_engine *e = make("{\"name\":\"fal\",\"baseUrl\":\"https://queue.fal.run\",\"apiKeyEnv\":"
                        "\"HH_T_KEY\",\"model\":\"fal-ai/wan/t2v\",\"guidanceScale\":true}");
    hc_response resp = {.rc = HH_OK, .status = 200, .retry_after = -1};
    /* Queue URLs on another host are not followed with our key. */
    resp.body = "{\"request_id\":\"r\",\"status_url\":\"https://evil.example/s\","
                "\"response_url\":\"https://evil.example/r\"}";
    resp.len = strlen(resp.body);
    engine_verdict v = {0};
    engine_remote_submitted(e, &resp, &v);
    assert_int_equal(v.outcome, ENGINE_FAILED);
    engine_verdict_clear(&v);
    resp.body = "{\"request_id\":\"r\",\"status_url\":\"https://queue.fal.run/fal-ai/wan/requests/"
                "r/status\","
                "\"response_url\":\"https://queue.fal.run/fal-ai/wan/requests/r\","
                "\"cancel_url\":\"https://queue.fal.run/fal-ai/wan/requests/r/cancel\"}";
    resp.len = strlen(resp.body);
    engine_remote_submitted(e, &resp, &v);
    assert_int_equal(v.outcome, ENGINE_RUNNING);
    json_t *task = json_incref(v.task);
    engine_verdict_clear(&v);
    /* COMPLETED: the next request is the result, at once. */
    resp.body = "{\"status\":\"COMPLETED\"}";
    resp.len = strlen(resp.body);
    engine_remote_polled(e, task, &resp, &v);
    assert_int_equal(v.outcome, ENGINE_RUNNING);
    assert_int_equal(v.poll_now, 1);
    json_t *result_task = json_incref(v.task);
    engine_verdict_clear(&v);
    hc_request r = {0};
    assert_int_equal(engine_remote_poll(e, result_task, &r), HH_OK);
    assert_string_equal(r.url, "https://queue.fal.run/fal-ai/wan/requests/r");
    assert_string_equal(header(&r, "Authorization"), "Key " KEY);
    hc_request_clear(&r);
    static const answer_case results[] = {
        {200, HH_OK, "{\"video\":{\"url\":\"https://cdn.fal/v.mp4\"}}", ENGINE_DONE, NULL},
        {422, HH_OK, "{\"detail\":[{\"type\":\"content_policy_violation\"}]}", ENGINE_FAILED,
         "content check"},
        {400, HH_OK, "{\"detail\":\"Request was cancelled\"}", ENGINE_FAILED, "could not make"},
        {500, HH_OK, "{\"detail\":\"boom\"}", ENGINE_TRANSIENT, NULL},
    };
    char *text = json_dumps(result_task, JSON_COMPACT);
    run_polls(e, text, results, sizeof results / sizeof results[0]);
    free(text);
    assert_int_equal(engine_remote_cancel(e, task, &r), HH_OK);
    assert_string_equal(r.method, "PUT");
    hc_request_clear(&r);
    hh_video_request req = request("{\"prompt\":\"a horse\",\"durationSec\":4,\"cfgScale\":1}");
    hh_render_job job = {.req = &req};
    char msg[256];
    assert_int_equal(engine_remote_submit(e, &job, NULL, &r, msg, sizeof msg), HH_OK);
    assert_string_equal(r.url, "https://queue.fal.run/fal-ai/wan/t2v");
    json_t *b = body_of(&r);
    assert_string_equal(json_string_value(json_object_get(b, "duration")), "5");
    assert_true(json_real_value(json_object_get(b, "guidance_scale")) > 9.99);
    json_decref(b);
    hc_request_clear(&r);
    json_decref(task);
    json_decref(result_task);
    engine_free(e);
}

/* What a plan may sell on each engine, and settings refused. */
static void test_capabilities_and_settings(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        hh_plan_feature f;
        int can;
    } caps[] = {
        {DS ",\"model\":\"happyhorse-1.0-t2v\"}", HH_FEATURE_SOURCE_IMAGE, 0},
        {DS ",\"model\":\"happyhorse-1.0-t2v\",\"imageModel\":\"happyhorse-1.0-r2v\"}",
         HH_FEATURE_SOURCE_IMAGE, 1},
        {DS ",\"model\":\"happyhorse-1.0-t2v\"}", HH_FEATURE_REFERENCE_AUDIO, 0},
        {DS ",\"model\":\"wan2.6-t2v\"}", HH_FEATURE_REFERENCE_AUDIO, 1},
        {DS ",\"model\":\"wan2.6-t2v\",\"imageModel\":\"wan2.2-i2v-flash\"}",
         HH_FEATURE_REFERENCE_AUDIO, 0},
        {DS ",\"model\":\"wan2.1-t2v-turbo\"}", HH_FEATURE_REFERENCE_AUDIO, 0},
        {DS ",\"model\":\"wan2.6-t2v\"}", HH_FEATURE_LAST_FRAME, 0},
        {DS ",\"model\":\"wan2.6-t2v\"}", HH_FEATURE_REFERENCE_VIDEO, 0},
        {DS ",\"model\":\"wan2.6-t2v\"}", HH_FEATURE_1080P, 1},
    };
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        hh_engine *e = make(caps[i].json);
        if (engine_can(e, caps[i].f) != caps[i].can)
            fail_msg("case %zu: %s feature %d", i, caps[i].json, caps[i].f);
        engine_free(e);
    }
    static const char *const bad[] = {
        DS "}",                                 /* no model */
        DS ",\"model\":\"wan2.2-kf2v-flash\"}", /* not text to video */
        DS ",\"model\":\"happyhorse-1.0-t2v\",\"imageModel\":\"happyhorse-1.0-t2v\"}",
        DS ",\"model\":\"happyhorse-1.0-t2v\",\"pollIntervalSec\":0}",
        DS ",\"model\":\"happyhorse-1.0-t2v\",\"inputs\":\"ftp\"}",
        DS ",\"model\":\"happyhorse-1.0-t2v\",\"apiKeyFile\":\"/k\"}",  /* both sources */
        DS ",\"model\":\"happyhorse-1.0-t2v\",\"apiKey\":\"" KEY "\"}", /* never in the file */
        "{\"name\":\"dashscope\",\"apiKeyEnv\":\"HH_T_KEY\",\"model\":\"happyhorse-1.0-t2v\"}",
        "{\"name\":\"dashscope\",\"baseUrl\":\"ftp://"
        "x\",\"apiKeyEnv\":\"HH_T_KEY\",\"model\":\"happyhorse-1.0-t2v\"}",
        "{\"name\":\"dashscope\",\"baseUrl\":\"https://"
        "x\",\"apiKeyEnv\":\"HH_T_NOT_SET\",\"model\":\"happyhorse-1.0-t2v\"}",
        "{\"name\":\"openai-videos\",\"baseUrl\":\"https://"
        "x\",\"apiKeyEnv\":\"HH_T_KEY\",\"model\":\"m\",\"inputs\":\"url\"}",
        "{\"name\":\"fal\",\"apiKeyEnv\":\"HH_T_KEY\",\"model\":\"m\",\"durations\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *cfg = json_loads(bad[i], 0, NULL);
        hh_engine *e = NULL;
        hh_errdetail dd = {"", ""};
        assert_non_null(cfg);
        if (engine_new(json_string_value(json_object_get(cfg, "name")), cfg, &e, &dd) !=
            HH_ERR_INVALID)
            fail_msg("bad config %zu accepted: %s", i, bad[i]);
        assert_null(e);
        assert_null(strstr(dd.message, KEY));
        json_decref(cfg);
    }
}

static void test_helpers(void **state)
{
    (void)state;
    static const int wan[] = {5, 10, 15};
    assert_int_equal(engine_nearest(3, wan, 3), 5);
    assert_int_equal(engine_nearest(7, wan, 3), 5);
    assert_int_equal(engine_nearest(8, wan, 3), 10);
    assert_int_equal(engine_nearest(12, wan, 3), 10);
    assert_int_equal(engine_nearest(13, wan, 3), 15);
    static const int oa[] = {4, 8, 12};
    assert_int_equal(engine_nearest(6, oa, 3), 8); /* a tie goes to the longer */
    hh_video_request req =
        request("{\"prompt\":\"x y "
                "z\",\"durationSec\":3,\"cameraMotion\":\"static\",\"motionIntensity\":5}");
    char out[256];
    engine_prompt_text(&req, 1, out, sizeof out);
    assert_string_equal(out, "x y z The camera stays still on a tripod.");
    /* A cut never splits a character: 8 bytes hold 7 of text, so three of the four "é". */
    req = request("{\"prompt\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\",\"durationSec\":3}");
    engine_prompt_text(&req, 1, out, 8);
    assert_string_equal(out, "\xc3\xa9\xc3\xa9\xc3\xa9");
}

int main(void)
{
    setenv("HH_T_KEY", KEY, 1);
    unsetenv("HH_T_NOT_SET");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dashscope_request),
        cmocka_unit_test(test_dashscope_answers),
        cmocka_unit_test(test_openai),
        cmocka_unit_test(test_fal),
        cmocka_unit_test(test_capabilities_and_settings),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
