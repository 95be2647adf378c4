/*
 * engine_dashscope.c - the "dashscope" engine: Alibaba Cloud Model Studio
 * (DashScope), which serves HappyHorse and Wan. Create a task, poll it,
 * download its video (docs/engines.md has the mapping table):
 *
 *   POST {base}/services/aigc/video-generation/video-synthesis
 *        Authorization: Bearer KEY, X-DashScope-Async: enable
 *        {"model", "input": {...}, "parameters": {...}}
 *        -> {"output": {"task_id", "task_status": "PENDING"}, "request_id"}
 *   GET  {base}/tasks/{task_id}
 *        -> output.task_status PENDING | RUNNING | SUCCEEDED | FAILED |
 *           CANCELED | UNKNOWN; video_url (signed, 24 h) on success;
 *           code and message on failure; usage
 *   POST {base}/tasks/{task_id}/cancel   (a PENDING task; unconfirmed)
 *
 * The model family decides the input and parameter names: HappyHorse takes
 * a ratio and any duration 3..15; Wan t2v a size "W*H" and 5/10/15 s
 * (2.1/2.2: 5 s); Wan i2v a resolution. First-and-last-frame models
 * (kf2v) need a first frame, which the contract never sends with a last
 * frame, so they are not offered (docs/engines.md says why).
 */
#include "engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DS_CREATE_PATH "/services/aigc/video-generation/video-synthesis"

typedef enum ds_family {
    DS_UNKNOWN,
    DS_HH_T2V, /* happyhorse-1.x-t2v */
    DS_HH_I2V, /* happyhorse-1.x-i2v: media first_frame */
    DS_HH_R2V, /* happyhorse-1.x-r2v: media reference_image, prompt names character1 */
    DS_WAN_T2V,
    DS_WAN_I2V,
} ds_family;

typedef struct ds_cfg {
    engine_remote_cfg rc; /* first: engine_remote_cfg_of reads it */
    ds_family family, image_family;
    int wan_long; /* Wan 2.5 or later: 5/10/15 s and reference audio */
    int image_wan_long;
    int watermark;     /* DashScope's own mark; off unless the config turns it on */
    int prompt_extend; /* -1: the provider's default */
} ds_cfg;

/* The family of a model name; *wan_long set for Wan 2.5 and later. */
static ds_family family_of(const char *model, int *wan_long)
{
    size_t n = strlen(model);
    *wan_long = 0;
    int t2v = n > 4 && !strcmp(model + n - 4, "-t2v");
    if (!strncmp(model, "happyhorse-", 11)) {
        if (t2v)
            return DS_HH_T2V;
        if (n > 4 && !strcmp(model + n - 4, "-i2v"))
            return DS_HH_I2V;
        if (n > 4 && !strcmp(model + n - 4, "-r2v"))
            return DS_HH_R2V;
        return DS_UNKNOWN;
    }
    if (!strncmp(model, "wan2.", 5) && !strstr(model, "kf2v")) {
        *wan_long = model[5] >= '5' && model[5] <= '9';
        if (strstr(model, "-t2v"))
            return DS_WAN_T2V;
        if (strstr(model, "-i2v"))
            return DS_WAN_I2V;
    }
    return DS_UNKNOWN;
}

static hh_status ds_configure(hh_engine *e, const json_t *config, hh_errdetail *d)
{
    static const engine_remote_defaults defaults = {
        .base_url = NULL, /* the region decides it: the operator must say */
        .poll_interval_sec = 15,
        .create_per_sec = 2,
        .poll_per_sec = 20,
        .inputs_as_urls = 0,
    };
    ds_cfg *c = calloc(1, sizeof *c);
    if (!c)
        return HH_ERR_NOMEM;
    e->impl = c;
    c->prompt_extend = -1;
    hh_status rc = engine_remote_configure(&c->rc, config, &defaults, !e->check_only, d);
    if (rc)
        return rc;
    c->family = family_of(c->rc.model, &c->wan_long);
    if (c->family != DS_HH_T2V && c->family != DS_WAN_T2V) {
        return hh_errdetail_set(
            d, HH_ERR_INVALID, "",
            "engine config: \"model\" %.64s is not a text-to-video model of DashScope "
            "(happyhorse-1.x-t2v, wan2.x-t2v)",
            c->rc.model);
    }
    if (c->rc.image_model[0]) {
        c->image_family = family_of(c->rc.image_model, &c->image_wan_long);
        if (c->image_family != DS_HH_I2V && c->image_family != DS_HH_R2V &&
            c->image_family != DS_WAN_I2V) {
            return hh_errdetail_set(
                d, HH_ERR_INVALID, "",
                "engine config: \"imageModel\" %.64s is not an image-to-video model of "
                "DashScope (happyhorse-1.x-i2v or -r2v, wan2.x-i2v)",
                c->rc.image_model);
        }
    }
    const json_t *w = json_object_get(config, "watermark");
    const json_t *pe = json_object_get(config, "promptExtend");
    if ((w && !json_is_boolean(w)) || (pe && !json_is_boolean(pe))) {
        return hh_errdetail_set(
            d, HH_ERR_INVALID, "",
            "engine config: \"watermark\" and \"promptExtend\" are true or false");
    }
    c->watermark = json_is_true(w);
    c->prompt_extend = pe ? json_is_true(pe) : -1;
    return HH_OK;
}

static int ds_can(const hh_engine *e, hh_plan_feature f)
{
    const ds_cfg *c = e->impl;
    switch (f) {
    case HH_FEATURE_1080P:
        return 1;
    case HH_FEATURE_SOURCE_IMAGE:
        return c->image_family != DS_UNKNOWN;
    case HH_FEATURE_REFERENCE_AUDIO: /* Wan 2.5+ takes audio_url; both models must */
        return c->family == DS_WAN_T2V && c->wan_long &&
               (c->image_family == DS_UNKNOWN ||
                (c->image_family == DS_WAN_I2V && c->image_wan_long));
    default: /* a last frame alone, a reference video: no DashScope model takes them */
        return 0;
    }
}

/* "1280*720" of Wan t2v for the request's size. */
static void wan_size(const hh_video_request *req, char *out, size_t size)
{
    int w, h;
    video_frame_size(req->resolution, req->aspect, &w, &h);
    if (req->aspect == HH_ASPECT_1_1) /* Wan's square sizes */
        w = h = req->resolution == HH_RES_1080P ? 1440 : 960;
    snprintf(out, size, "%d*%d", w, h);
}

static int ds_duration(ds_family fam, int wan_long, int want)
{
    static const int wan_long_s[] = {5, 10, 15}, wan_short_s[] = {5};
    if (fam == DS_HH_T2V || fam == DS_HH_I2V || fam == DS_HH_R2V)
        return want < 3 ? 3 : want > 15 ? 15 : want;
    return wan_long ? engine_nearest(want, wan_long_s, 3) : engine_nearest(want, wan_short_s, 1);
}

/* input and parameters of the request for family fam. */
static hh_status ds_body(const ds_cfg *c, ds_family fam, int wan_long, const hh_render_job *job,
                         const char *image, const char *audio, json_t *input, json_t *par)
{
    const hh_video_request *req = job->req;
    char prompt[sizeof req->prompt + 512];
    engine_prompt_text(req, 1, prompt, sizeof prompt);
    int happyhorse = fam == DS_HH_T2V || fam == DS_HH_I2V || fam == DS_HH_R2V;
    if (fam == DS_HH_R2V) /* the r2v prompt names its references character1..N */
        snprintf(prompt + strlen(prompt), sizeof prompt - strlen(prompt),
                 " character1 is the subject of the reference image.");
    int bad = json_object_set_new(input, "prompt", json_string(prompt));
    if (fam == DS_HH_I2V || fam == DS_HH_R2V)
        bad |= json_object_set_new(input, "media",
                                   json_pack("[{s:s, s:s}]", "type",
                                             fam == DS_HH_I2V ? "first_frame" : "reference_image",
                                             "url", image));
    if (fam == DS_WAN_I2V)
        bad |= json_object_set_new(input, "img_url", json_string(image));
    if (audio)
        bad |= json_object_set_new(input, "audio_url", json_string(audio));
    if (fam == DS_WAN_T2V) {
        char size[32];
        wan_size(req, size, sizeof size);
        bad |= json_object_set_new(par, "size", json_string(size));
    } else {
        bad |= json_object_set_new(par, "resolution",
                                   json_string(req->resolution == HH_RES_1080P ? "1080P" : "720P"));
    }
    if (fam == DS_HH_T2V || fam == DS_HH_R2V) /* i2v: the image sets the shape */
        bad |= json_object_set_new(par, "ratio", json_string(video_aspect_name(req->aspect)));
    bad |= json_object_set_new(par, "duration",
                               json_integer(ds_duration(fam, wan_long, req->duration_sec)));
    bad |= json_object_set_new(par, "watermark", json_boolean(c->watermark));
    bad |= json_object_set_new(par, "seed", json_integer((json_int_t)(job->seed & 0x7FFFFFFF)));
    if (!happyhorse && c->prompt_extend >= 0)
        bad |= json_object_set_new(par, "prompt_extend", json_boolean(c->prompt_extend));
    return bad ? HH_ERR_NOMEM : HH_OK;
}

static hh_status ds_headers(const ds_cfg *c, hc_request *out)
{
    hh_status rc = hc_request_header(out, "Authorization: Bearer %s", c->rc.secret);
    return rc ? rc : hc_request_header(out, "X-DashScope-Async: enable");
}

static hh_status ds_submit(const hh_engine *e, const hh_render_job *job,
                           const char *const url[HH_REF_COUNT], hc_request *out, char *msg,
                           size_t msgsize)
{
    const ds_cfg *c = e->impl;
    int with_image = job->input[HH_REF_SOURCE_IMAGE] || (url && url[HH_REF_SOURCE_IMAGE]);
    int with_audio = job->input[HH_REF_AUDIO] || (url && url[HH_REF_AUDIO]);
    ds_family fam = with_image ? c->image_family : c->family;
    int wan_long = with_image ? c->image_wan_long : c->wan_long;
    if (fam == DS_UNKNOWN || job->input[HH_REF_LAST_FRAME] || job->input[HH_REF_VIDEO]) {
        snprintf(msg, msgsize, "This plan's model cannot take that reference material.");
        return HH_ERR_INVALID;
    }
    char *image = NULL, *audio = NULL;
    json_t *input = json_object(), *par = json_object(), *body = NULL;
    hh_status rc = input && par ? HH_OK : HH_ERR_NOMEM;
    if (!rc && with_image)
        rc = engine_ref_value(&c->rc, job, url, HH_REF_SOURCE_IMAGE, &image, msg, msgsize);
    if (!rc && with_audio)
        rc = engine_ref_value(&c->rc, job, url, HH_REF_AUDIO, &audio, msg, msgsize);
    if (!rc)
        rc = ds_body(c, fam, wan_long, job, image, audio, input, par);
    if (!rc) {
        body = json_pack("{s:s, s:O, s:O}", "model", with_image ? c->rc.image_model : c->rc.model,
                         "input", input, "parameters", par);
        rc = body ? HH_OK : HH_ERR_NOMEM;
    }
    char endpoint[sizeof c->rc.base_url + 64];
    snprintf(endpoint, sizeof endpoint, "%s%s", c->rc.base_url, DS_CREATE_PATH);
    if (!rc)
        rc = hc_request_set(out, "POST", endpoint);
    if (!rc)
        rc = ds_headers(c, out);
    if (!rc)
        rc = hc_request_json(out, body);
    json_decref(body);
    json_decref(input);
    json_decref(par);
    free(image);
    free(audio);
    return rc;
}

/* A refusal by code (create's 4xx body, or a FAILED task's output). */
static void ds_refused(const char *code, const char *message, const char *what, engine_verdict *v)
{
    const char *customer = "The video provider could not make this video.";
    if (!strcmp(code, "DataInspectionFailed"))
        customer = ENGINE_MSG_MODERATION;
    else if (!strcmp(code, "Arrearage"))
        customer = "The video provider is not available to this service right now.";
    engine_verdict_fail(v, customer, "%s: %.64s: %.300s", what, code, message);
}

static void ds_submitted(const hh_engine *e, const hc_response *resp, engine_verdict *v)
{
    (void)e;
    if (engine_http_verdict(resp, "create", v))
        return;
    json_t *doc = engine_answer_json(resp, "create", v);
    if (!doc)
        return;
    const char *id = json_string_value(json_object_get(json_object_get(doc, "output"), "task_id"));
    const char *code = json_string_value(json_object_get(doc, "code"));
    const char *message = json_string_value(json_object_get(doc, "message"));
    if (resp->status / 100 == 2 && id && *id && strlen(id) < 128) {
        v->outcome = ENGINE_RUNNING;
        v->task = json_pack("{s:s}", "id", id);
        if (!v->task)
            engine_verdict_fail(v, "The video provider's answer could not be kept.",
                                "create: nomem");
    } else {
        char status[32];
        snprintf(status, sizeof status, "create HTTP %ld", resp->status);
        ds_refused(code ? code : "?", message ? message : "", status, v);
    }
    json_decref(doc);
}

static hh_status ds_task_url(const hh_engine *e, const json_t *task, const char *suffix,
                             const char *method, hc_request *out)
{
    const ds_cfg *c = e->impl;
    const char *id = json_string_value(json_object_get(task, "id"));
    if (!id)
        return HH_ERR_INVALID;
    char url[1024];
    snprintf(url, sizeof url, "%s/tasks/%s%s", c->rc.base_url, id, suffix);
    hh_status rc = hc_request_set(out, method, url);
    return rc ? rc : hc_request_header(out, "Authorization: Bearer %s", c->rc.secret);
}

static hh_status ds_poll(const hh_engine *e, const json_t *task, hc_request *out)
{
    return ds_task_url(e, task, "", "GET", out);
}

static hh_status ds_cancel(const hh_engine *e, const json_t *task, hc_request *out)
{
    return ds_task_url(e, task, "/cancel", "POST", out);
}

/* The task with the result's URL and the usage of a SUCCEEDED answer. */
static void ds_succeeded(const json_t *task, json_t *doc, json_t *output, engine_verdict *v)
{
    const char *video = json_string_value(json_object_get(output, "video_url"));
    if (!video || strncmp(video, "http", 4)) {
        engine_verdict_fail(v, "The video provider finished without a video.",
                            "poll: SUCCEEDED without video_url");
        return;
    }
    v->outcome = ENGINE_DONE;
    v->task = json_deep_copy(task);
    json_object_set_new(v->task, "videoUrl", json_string(video));
    json_t *usage = json_object_get(doc, "usage");
    if (json_is_object(usage))
        v->usage = json_deep_copy(usage);
}

static void ds_polled(const hh_engine *e, const json_t *task, const hc_response *resp,
                      engine_verdict *v)
{
    (void)e;
    if (engine_http_verdict(resp, "poll", v))
        return;
    json_t *doc = engine_answer_json(resp, "poll", v);
    if (!doc)
        return;
    json_t *output = json_object_get(doc, "output");
    const char *st = json_string_value(json_object_get(output, "task_status"));
    const char *code = json_string_value(json_object_get(output, "code"));
    const char *message = json_string_value(json_object_get(output, "message"));
    if (resp->status / 100 != 2 || !st) {
        const char *c2 = json_string_value(json_object_get(doc, "code"));
        const char *m2 = json_string_value(json_object_get(doc, "message"));
        ds_refused(c2 ? c2 : "?", m2 ? m2 : "", "poll", v);
    } else if (!strcmp(st, "SUCCEEDED")) {
        ds_succeeded(task, doc, output, v);
    } else if (!strcmp(st, "FAILED")) {
        ds_refused(code ? code : "?", message ? message : "", "task FAILED", v);
    } else if (!strcmp(st, "CANCELED")) {
        engine_verdict_fail(v, "The video provider canceled the task.", "task CANCELED");
    } else if (!strcmp(st, "UNKNOWN")) {
        engine_verdict_fail(v, "The video provider lost the task.",
                            "task UNKNOWN (no such task, or older than 24 h)");
    } else {
        v->outcome = ENGINE_RUNNING; /* PENDING, RUNNING, and statuses added later */
    }
    json_decref(doc);
}

static hh_status ds_download(const hh_engine *e, const json_t *task, hc_request *out)
{
    (void)e;
    const char *url = json_string_value(json_object_get(task, "videoUrl"));
    /* A signed URL of the provider's object store: our key must not go there. */
    return url ? hc_request_set(out, "GET", url) : HH_ERR_INVALID;
}

static const char *const ds_keys[] = {"watermark", "promptExtend", NULL};

static const engine_remote_ops ds_remote = {
    .submit = ds_submit,
    .submitted = ds_submitted,
    .poll = ds_poll,
    .polled = ds_polled,
    .cancel = ds_cancel,
    .download = ds_download,
};

const engine_ops engine_dashscope_ops = {
    .name = "dashscope",
    .label = "Alibaba Cloud Model Studio (HappyHorse, Wan): AI video by a provider",
    .keys = ds_keys,
    .configure = ds_configure,
    .release = engine_remote_release,
    .can = ds_can,
    .remote = &ds_remote,
};
