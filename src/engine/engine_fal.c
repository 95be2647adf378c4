/*
 * engine_fal.c - the "fal" engine: fal's queue API in front of its video
 * models (the application id, e.g. "fal-ai/wan/v2.2-a14b/text-to-video",
 * is the model).
 *
 *   POST {base}/{app}    Authorization: Key KEY, the model's JSON input
 *        -> {"request_id", "status_url", "response_url", "cancel_url"}
 *   GET  status_url      -> {"status": IN_QUEUE | IN_PROGRESS | COMPLETED}
 *   GET  response_url    -> the model's output, {"video": {"url"}, ...}, or
 *                           an error (422 with a content-policy detail)
 *   PUT  cancel_url      -> 202 CANCELLATION_REQUESTED, 400 ALREADY_COMPLETED
 *
 * Input fields differ between fal's models; this engine sends the common
 * ones (prompt, aspect_ratio, resolution, duration, seed, image_url and,
 * when configured, guidance_scale) and says so in docs/engines.md. The
 * URLs fal returns are used only when they are on the configured base, so
 * our key never goes to another host.
 */
#include "engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAL_DURATIONS_MAX 8

typedef struct fal_cfg {
    engine_remote_cfg rc; /* first: engine_remote_cfg_of reads it */
    int durations[FAL_DURATIONS_MAX];
    size_t ndurations;
    int guidance; /* send cfgScale as guidance_scale */
} fal_cfg;

static hh_status fal_configure(hh_engine *e, const json_t *config, hh_errdetail *d)
{
    static const engine_remote_defaults defaults = {
        .base_url = "https://queue.fal.run",
        .poll_interval_sec = 5,
        .create_per_sec = 5,
        .poll_per_sec = 20,
        .inputs_as_urls = 0,
    };
    fal_cfg *c = calloc(1, sizeof *c);
    if (!c)
        return HH_ERR_NOMEM;
    e->impl = c;
    c->durations[0] = 5, c->durations[1] = 10;
    c->ndurations = 2;
    hh_status rc = engine_remote_configure(&c->rc, config, &defaults, !e->check_only, d);
    if (!rc)
        rc = engine_cfg_int_list(config, "durations", 1, 60, c->durations, FAL_DURATIONS_MAX,
                                 &c->ndurations, d);
    const json_t *g = json_object_get(config, "guidanceScale");
    if (!rc && g && !json_is_boolean(g)) {
        rc = hh_errdetail_set(d, HH_ERR_INVALID, "",
                              "engine config: \"guidanceScale\" is true or false");
    }
    c->guidance = json_is_true(g);
    return rc;
}

static int fal_can(const hh_engine *e, hh_plan_feature f)
{
    const fal_cfg *c = e->impl;
    return f == HH_FEATURE_1080P || (f == HH_FEATURE_SOURCE_IMAGE && c->rc.image_model[0]);
}

static hh_status fal_submit(const hh_engine *e, const hh_render_job *job,
                            const char *const url[HH_REF_COUNT], hc_request *out, char *msg,
                            size_t msgsize)
{
    const fal_cfg *c = e->impl;
    const hh_video_request *req = job->req;
    int with_image = job->input[HH_REF_SOURCE_IMAGE] || (url && url[HH_REF_SOURCE_IMAGE]);
    if ((with_image && !c->rc.image_model[0]) || job->input[HH_REF_LAST_FRAME] ||
        job->input[HH_REF_VIDEO] || job->input[HH_REF_AUDIO]) {
        snprintf(msg, msgsize, "This plan's model cannot take that reference material.");
        return HH_ERR_INVALID;
    }
    char prompt[sizeof req->prompt + 512], duration[16], endpoint[800];
    engine_prompt_text(req, 1, prompt, sizeof prompt);
    snprintf(duration, sizeof duration, "%d",
             engine_nearest(req->duration_sec, c->durations, c->ndurations));
    snprintf(endpoint, sizeof endpoint, "%s/%s", c->rc.base_url,
             with_image ? c->rc.image_model : c->rc.model);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:I}", "prompt", prompt, "aspect_ratio",
                             video_aspect_name(req->aspect), "resolution",
                             video_resolution_name(req->resolution), "duration", duration, "seed",
                             (json_int_t)(job->seed & 0x7FFFFFFF));
    hh_status rc = body ? HH_OK : HH_ERR_NOMEM;
    if (!rc && c->guidance) /* cfgScale 0..1 onto the usual 1..10 guidance range */
        rc = json_object_set_new(body, "guidance_scale", json_real(1.0 + 9.0 * req->cfg_scale))
                 ? HH_ERR_NOMEM
                 : HH_OK;
    char *image = NULL;
    if (!rc && with_image)
        rc = engine_ref_value(&c->rc, job, url, HH_REF_SOURCE_IMAGE, &image, msg, msgsize);
    if (!rc && image)
        rc = json_object_set_new(body, "image_url", json_string(image)) ? HH_ERR_NOMEM : HH_OK;
    if (!rc)
        rc = hc_request_set(out, "POST", endpoint);
    if (!rc)
        rc = hc_request_header(out, "Authorization: Key %s", c->rc.secret);
    if (!rc)
        rc = hc_request_json(out, body);
    free(image);
    json_decref(body);
    return rc;
}

/* url when it is on our base (so the key may go with it), else NULL. */
static const char *on_base(const fal_cfg *c, const char *url)
{
    size_t n = strlen(c->rc.base_url);
    return url && !strncmp(url, c->rc.base_url, n) && url[n] == '/' ? url : NULL;
}

static void fal_submitted(const hh_engine *e, const hc_response *resp, engine_verdict *v)
{
    const fal_cfg *c = e->impl;
    if (engine_http_verdict(resp, "create", v))
        return;
    json_t *doc = engine_answer_json(resp, "create", v);
    if (!doc)
        return;
    const char *id = json_string_value(json_object_get(doc, "request_id"));
    const char *status = on_base(c, json_string_value(json_object_get(doc, "status_url")));
    const char *response = on_base(c, json_string_value(json_object_get(doc, "response_url")));
    const char *cancel = on_base(c, json_string_value(json_object_get(doc, "cancel_url")));
    if (resp->status / 100 != 2) {
        engine_verdict_fail(v, "The video provider refused the request.",
                            "create: HTTP %ld: %.300s", resp->status, resp->body);
    } else if (!id || !status || !response) {
        engine_verdict_fail(v, "The video provider's answer could not be read.",
                            "create: no request_id or queue URLs on the configured base");
    } else {
        v->outcome = ENGINE_RUNNING;
        v->task = json_pack("{s:s, s:s, s:s, s:s?, s:s}", "id", id, "statusUrl", status,
                            "responseUrl", response, "cancelUrl", cancel, "phase", "status");
    }
    json_decref(doc);
}

static hh_status fal_get(const fal_cfg *c, const char *method, const char *url, hc_request *out)
{
    if (!url)
        return HH_ERR_INVALID;
    hh_status rc = hc_request_set(out, method, url);
    return rc ? rc : hc_request_header(out, "Authorization: Key %s", c->rc.secret);
}

static hh_status fal_poll(const hh_engine *e, const json_t *task, hc_request *out)
{
    const fal_cfg *c = e->impl;
    const char *phase = json_string_value(json_object_get(task, "phase"));
    const char *key = phase && !strcmp(phase, "result") ? "responseUrl" : "statusUrl";
    return fal_get(c, "GET", on_base(c, json_string_value(json_object_get(task, key))), out);
}

/* The answer of response_url: the model's output, or why it failed. */
static void fal_result(const json_t *task, const hc_response *resp, json_t *doc, engine_verdict *v)
{
    const char *video = json_string_value(json_object_get(json_object_get(doc, "video"), "url"));
    if (resp->status / 100 == 2 && video && !strncmp(video, "http", 4)) {
        v->outcome = ENGINE_DONE;
        v->task = json_deep_copy(task);
        json_object_set_new(v->task, "videoUrl", json_string(video));
        return;
    }
    char *detail = json_dumps(json_object_get(doc, "detail"), JSON_COMPACT | JSON_ENCODE_ANY);
    int policy = detail && (strstr(detail, "content_policy") || strstr(detail, "moderation"));
    engine_verdict_fail(
        v, policy ? ENGINE_MSG_MODERATION : "The video provider could not make this video.",
        "result: HTTP %ld: %.300s", resp->status, detail ? detail : "");
    free(detail);
}

static void fal_polled(const hh_engine *e, const json_t *task, const hc_response *resp,
                       engine_verdict *v)
{
    (void)e;
    const char *phase = json_string_value(json_object_get(task, "phase"));
    int result = phase && !strcmp(phase, "result");
    if (engine_http_verdict(resp, result ? "result" : "status", v))
        return;
    if (resp->status == 404) {
        engine_verdict_fail(v, "The video provider lost the task.", "poll: HTTP 404");
        return;
    }
    json_t *doc = engine_answer_json(resp, "poll", v);
    if (!doc)
        return;
    const char *st = json_string_value(json_object_get(doc, "status"));
    if (result) {
        fal_result(task, resp, doc, v);
    } else if (resp->status / 100 != 2) {
        engine_verdict_fail(v, "The video provider could not make this video.",
                            "status: HTTP %ld: %.300s", resp->status, resp->body);
    } else if (st && !strcmp(st, "COMPLETED")) {
        v->outcome = ENGINE_RUNNING; /* the result is the next request */
        v->poll_now = 1;
        v->task = json_deep_copy(task);
        json_object_set_new(v->task, "phase", json_string("result"));
    } else {
        v->outcome = ENGINE_RUNNING; /* IN_QUEUE, IN_PROGRESS, and what comes later */
    }
    json_decref(doc);
}

static hh_status fal_cancel(const hh_engine *e, const json_t *task, hc_request *out)
{
    const fal_cfg *c = e->impl;
    const char *url = on_base(c, json_string_value(json_object_get(task, "cancelUrl")));
    return url ? fal_get(c, "PUT", url, out) : HH_ERR_CONFLICT;
}

static hh_status fal_download(const hh_engine *e, const json_t *task, hc_request *out)
{
    (void)e;
    const char *url = json_string_value(json_object_get(task, "videoUrl"));
    /* fal's media CDN: public URLs, the key stays home. */
    return url ? hc_request_set(out, "GET", url) : HH_ERR_INVALID;
}

static const char *const fal_keys[] = {"durations", "guidanceScale", NULL};

static const engine_remote_ops fal_remote = {
    .submit = fal_submit,
    .submitted = fal_submitted,
    .poll = fal_poll,
    .polled = fal_polled,
    .cancel = fal_cancel,
    .download = fal_download,
};

const engine_ops engine_fal_ops = {
    .name = "fal",
    .label = "fal's model queue: AI video by a provider",
    .keys = fal_keys,
    .configure = fal_configure,
    .release = engine_remote_release,
    .can = fal_can,
    .remote = &fal_remote,
};
