/*
 * engine_openai.c - the "openai-videos" engine: any service with the
 * OpenAI-style /v1/videos shape, which gateways such as LiteLLM and new-api
 * put in front of many models (OpenAI's own service closed in 2026).
 *
 *   POST {base}/videos   JSON {"model", "prompt", "seconds": "8", "size": "1280x720"},
 *                        or multipart with the source image as input_reference
 *                        -> a video object {"id", "status", "progress", ...}
 *   GET  {base}/videos/{id}                       -> the video object
 *   GET  {base}/videos/{id}/content?variant=video -> the MP4 (same Bearer key)
 *
 * status is queued | in_progress | completed | failed; anything else (new-api
 * adds "unknown") counts as still running until the time limit, never as
 * success. The protocol has no cancel of a running video.
 */
#include "engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OA_SECONDS_MAX 8

typedef struct oa_cfg {
    engine_remote_cfg rc; /* first: engine_remote_cfg_of reads it */
    int seconds[OA_SECONDS_MAX];
    size_t nseconds;
} oa_cfg;

static hh_status oa_configure(hh_engine *e, const json_t *config, hh_errdetail *d)
{
    static const engine_remote_defaults defaults = {
        .base_url = NULL,
        .poll_interval_sec = 10,
        .create_per_sec = 5,
        .poll_per_sec = 20,
        .inputs_as_urls = 0,
    };
    oa_cfg *c = calloc(1, sizeof *c);
    if (!c)
        return HH_ERR_NOMEM;
    e->impl = c;
    c->seconds[0] = 4, c->seconds[1] = 8, c->seconds[2] = 12;
    c->nseconds = 3;
    hh_status rc = engine_remote_configure(&c->rc, config, &defaults, !e->check_only, d);
    if (!rc)
        rc = engine_cfg_int_list(config, "seconds", 1, 60, c->seconds, OA_SECONDS_MAX, &c->nseconds,
                                 d);
    if (!rc && c->rc.lim.inputs_as_urls) {
        rc = hh_errdetail_set(d, HH_ERR_INVALID, "",
                              "engine config: openai-videos sends references as files, "
                              "\"inputs\" must be \"data\"");
    }
    return rc;
}

static int oa_can(const hh_engine *e, hh_plan_feature f)
{
    (void)e;
    /* input_reference is the one reference the shape has: the first frame. */
    return f == HH_FEATURE_1080P || f == HH_FEATURE_SOURCE_IMAGE;
}

static hh_status oa_auth(const oa_cfg *c, hc_request *out)
{
    return hc_request_header(out, "Authorization: Bearer %s", c->rc.secret);
}

static hh_status oa_submit(const hh_engine *e, const hh_render_job *job,
                           const char *const url[HH_REF_COUNT], hc_request *out, char *msg,
                           size_t msgsize)
{
    (void)url;
    const oa_cfg *c = e->impl;
    const hh_video_request *req = job->req;
    if (job->input[HH_REF_LAST_FRAME] || job->input[HH_REF_VIDEO] || job->input[HH_REF_AUDIO]) {
        snprintf(msg, msgsize, "This plan's model cannot take that reference material.");
        return HH_ERR_INVALID;
    }
    char prompt[sizeof req->prompt + 512], seconds[16], size[32], endpoint[600];
    int w, h;
    engine_prompt_text(req, 1, prompt, sizeof prompt);
    snprintf(seconds, sizeof seconds, "%d",
             engine_nearest(req->duration_sec, c->seconds, c->nseconds));
    video_frame_size(req->resolution, req->aspect, &w, &h);
    snprintf(size, sizeof size, "%dx%d", w, h);
    snprintf(endpoint, sizeof endpoint, "%s/videos", c->rc.base_url);
    const char *model =
        job->input[HH_REF_SOURCE_IMAGE] && c->rc.image_model[0] ? c->rc.image_model : c->rc.model;
    hh_status rc = hc_request_set(out, "POST", endpoint);
    if (!rc)
        rc = oa_auth(c, out);
    if (rc || !job->input[HH_REF_SOURCE_IMAGE]) {
        json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "model", model, "prompt", prompt,
                                 "seconds", seconds, "size", size);
        rc = rc ? rc : body ? hc_request_json(out, body) : HH_ERR_NOMEM;
        json_decref(body);
        return rc;
    }
    unsigned char *data = NULL;
    size_t len = 0;
    const char *type = NULL;
    rc = engine_ref_file(job, HH_REF_SOURCE_IMAGE, &data, &len, &type, msg, msgsize);
    static const char *const ext[] = {"image/png",     "reference.png", "image/jpeg",
                                      "reference.jpg", "image/webp",    "reference.webp"};
    const char *filename = "reference";
    for (size_t i = 0; type && i < sizeof ext / sizeof *ext; i += 2)
        if (!strcmp(type, ext[i]))
            filename = ext[i + 1];
    if (!rc)
        rc = hc_request_part(out, "model", model, strlen(model), NULL, NULL);
    if (!rc)
        rc = hc_request_part(out, "prompt", prompt, strlen(prompt), NULL, NULL);
    if (!rc)
        rc = hc_request_part(out, "seconds", seconds, strlen(seconds), NULL, NULL);
    if (!rc)
        rc = hc_request_part(out, "size", size, strlen(size), NULL, NULL);
    if (!rc)
        rc = hc_request_part(out, "input_reference", data, len, filename, type);
    free(data);
    return rc;
}

/* Refused by the content check? OpenAI says moderation_blocked; gateways vary. */
static int oa_moderation(const char *code)
{
    return code &&
           (strstr(code, "moderation") || strstr(code, "content_policy") || strstr(code, "safety"));
}

/* Reads a video object: queued/in_progress, completed, failed, or unknown (running). */
static void oa_read_video(const json_t *doc, engine_verdict *v)
{
    const char *st = json_string_value(json_object_get(doc, "status"));
    const json_t *error = json_object_get(doc, "error");
    const char *code = json_string_value(json_object_get(error, "code"));
    const char *message = json_string_value(json_object_get(error, "message"));
    json_t *p = json_object_get(doc, "progress");
    if (json_is_number(p))
        v->progress = (int)json_number_value(p);
    if (st && !strcmp(st, "completed")) {
        v->outcome = ENGINE_DONE;
    } else if (st && !strcmp(st, "failed")) {
        engine_verdict_fail(v,
                            oa_moderation(code) ? ENGINE_MSG_MODERATION
                                                : "The video provider could not make this video.",
                            "video failed: %.64s: %.300s", code ? code : "?",
                            message ? message : "");
    } else {
        v->outcome = ENGINE_RUNNING;
    }
}

/* A 4xx answer's error object. */
static void oa_refused(const json_t *doc, const char *what, long status, engine_verdict *v)
{
    const json_t *error = json_object_get(doc, "error");
    const char *code = json_string_value(json_object_get(error, "code"));
    const char *message = json_string_value(json_object_get(error, "message"));
    engine_verdict_fail(v,
                        oa_moderation(code) ? ENGINE_MSG_MODERATION
                                            : "The video provider could not make this video.",
                        "%s: HTTP %ld: %.64s: %.300s", what, status, code ? code : "?",
                        message ? message : "");
}

static void oa_submitted(const hh_engine *e, const hc_response *resp, engine_verdict *v)
{
    (void)e;
    if (engine_http_verdict(resp, "create", v))
        return;
    json_t *doc = engine_answer_json(resp, "create", v);
    if (!doc)
        return;
    const char *id = json_string_value(json_object_get(doc, "id"));
    if (resp->status / 100 != 2) {
        oa_refused(doc, "create", resp->status, v);
    } else if (!id || !*id || strlen(id) > 200 || strchr(id, '/') || strchr(id, '?')) {
        engine_verdict_fail(v, "The video provider's answer could not be read.",
                            "create: no usable id in the video object");
    } else {
        oa_read_video(doc, v);
        if (v->outcome != ENGINE_FAILED) {
            v->outcome = ENGINE_RUNNING; /* a result is fetched after a poll says so */
            v->task = json_pack("{s:s}", "id", id);
        }
    }
    json_decref(doc);
}

static hh_status oa_video_url(const hh_engine *e, const json_t *task, const char *suffix,
                              hc_request *out)
{
    const oa_cfg *c = e->impl;
    const char *id = json_string_value(json_object_get(task, "id"));
    if (!id)
        return HH_ERR_INVALID;
    char url[1024];
    snprintf(url, sizeof url, "%s/videos/%s%s", c->rc.base_url, id, suffix);
    hh_status rc = hc_request_set(out, "GET", url);
    return rc ? rc : oa_auth(c, out);
}

static hh_status oa_poll(const hh_engine *e, const json_t *task, hc_request *out)
{
    return oa_video_url(e, task, "", out);
}

static void oa_polled(const hh_engine *e, const json_t *task, const hc_response *resp,
                      engine_verdict *v)
{
    (void)e;
    (void)task;
    if (engine_http_verdict(resp, "poll", v))
        return;
    if (resp->status == 404) {
        engine_verdict_fail(v, "The video provider lost the task.", "poll: HTTP 404");
        return;
    }
    json_t *doc = engine_answer_json(resp, "poll", v);
    if (!doc)
        return;
    if (resp->status / 100 != 2)
        oa_refused(doc, "poll", resp->status, v);
    else
        oa_read_video(doc, v);
    json_decref(doc);
}

static hh_status oa_download(const hh_engine *e, const json_t *task, hc_request *out)
{
    /* Our own base URL: the content endpoint needs the key, and it stays on that host. */
    return oa_video_url(e, task, "/content?variant=video", out);
}

static const char *const oa_keys[] = {"seconds", NULL};

static const engine_remote_ops oa_remote = {
    .submit = oa_submit,
    .submitted = oa_submitted,
    .poll = oa_poll,
    .polled = oa_polled,
    .cancel = NULL,
    .download = oa_download,
};

const engine_ops engine_openai_ops = {
    .name = "openai-videos",
    .label = "an OpenAI-style /v1/videos service: AI video by a provider",
    .keys = oa_keys,
    .configure = oa_configure,
    .release = engine_remote_release,
    .can = oa_can,
    .remote = &oa_remote,
};
