/*
 * engine.c - the registry of engines and the calls every caller makes:
 * engine_new looks a name up, reads the settings all engines share
 * ("preset", "threads"), refuses keys no engine reads, and hands the rest
 * to the engine's configure; engine_render checks the job and dispatches;
 * engine_check_plans holds each plan against what its engine can do.
 */
#include "engine/engine.h"
#include "engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every engine there is; the one list of names (the plans file is checked against it). */
static const engine_ops *const registry[] = {
    &engine_procedural_ops, &engine_exec_ops, &engine_dashscope_ops,
    &engine_openai_ops,     &engine_fal_ops,
};
#define REGISTRY_SIZE (sizeof registry / sizeof registry[0])

static const engine_ops *find_ops(const char *name)
{
    for (size_t i = 0; name && i < REGISTRY_SIZE; i++)
        if (!strcmp(registry[i]->name, name))
            return registry[i];
    return NULL;
}

/* "procedural, exec": the names, for error messages. */
static void list_names(char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < REGISTRY_SIZE && n < size; i++) {
        int w = snprintf(buf + n, size - n, "%s%s", i ? ", " : "", registry[i]->name);
        n += w > 0 ? (size_t)w : 0;
    }
}

/* Refuses a key that neither the shared settings nor the engine read (a typo would be silent). */
static hh_status check_keys(const engine_ops *ops, const json_t *config, hh_errdetail *d)
{
    static const char *const shared[] = {"name", "preset", "threads", NULL};
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)config, key, val)
    {
        int known = 0;
        for (const char *const *k = shared; *k && !known; k++)
            known = !strcmp(*k, key);
        for (const char *const *k = ops->keys; k && *k && !known; k++)
            known = !strcmp(*k, key);
        for (const char *const *k = engine_remote_keys; ops->remote && *k && !known; k++)
            known = !strcmp(*k, key);
        if (!known) {
            return hh_errdetail_set(d, HH_ERR_INVALID, "",
                                    "engine config: %s does not read \"%.64s\"", ops->name, key);
        }
    }
    return HH_OK;
}

/* Reads the settings every engine shares: "preset" (x264) and "threads". */
static hh_status encode_config(engine_encode *enc, const json_t *config, hh_errdetail *d)
{
    static const char *const presets[] = {"ultrafast", "superfast", "veryfast", "faster",  "fast",
                                          "medium",    "slow",      "slower",   "veryslow"};
    snprintf(enc->preset, sizeof enc->preset, "veryfast");
    const json_t *p = json_object_get(config, "preset");
    if (p) {
        int found = 0;
        for (size_t i = 0; json_is_string(p) && i < sizeof presets / sizeof presets[0]; i++)
            found |= !strcmp(json_string_value(p), presets[i]);
        if (!found) {
            return hh_errdetail_set(d, HH_ERR_INVALID, "",
                                    "engine config: preset must be an x264 preset name");
        }
        snprintf(enc->preset, sizeof enc->preset, "%s", json_string_value(p));
    }
    return engine_cfg_int(config, "threads", 0, 64, &enc->threads, d);
}

/* engine_new; check_only: the settings are checked, no secret is read (engine_check_plans). */
static hh_status make(const char *name, const json_t *config, int check_only, hh_engine **out,
                      hh_errdetail *d)
{
    *out = NULL;
    const engine_ops *ops = find_ops(name);
    if (!ops) {
        char names[128];
        list_names(names, sizeof names);
        return hh_errdetail_set(d, HH_ERR_INVALID, "", "unknown engine '%.64s' (%s)",
                                name ? name : "", names);
    }
    if (config && !json_is_object(config)) {
        return hh_errdetail_set(d, HH_ERR_INVALID, "", "engine config must be a JSON object");
    }
    json_t *empty = config ? NULL : json_object();
    const json_t *cfg = config ? config : empty;
    hh_engine *e = calloc(1, sizeof *e);
    hh_status rc = e && cfg ? HH_OK : HH_ERR_NOMEM;
    if (!rc) {
        e->ops = ops;
        e->check_only = check_only;
        rc = check_keys(ops, cfg, d);
    }
    if (!rc)
        rc = encode_config(&e->enc, cfg, d);
    if (!rc && ops->configure)
        rc = ops->configure(e, cfg, d);
    json_decref(empty);
    if (rc) {
        engine_free(e);
        return rc;
    }
    *out = e;
    return HH_OK;
}

hh_status engine_new(const char *name, const json_t *config, hh_engine **out, hh_errdetail *d)
{
    return make(name, config, 0, out, d);
}

hh_status engine_render(const hh_engine *e, const hh_render_job *job, char *msg, size_t msgsize)
{
    int w, h;
    if (!job->req || !job->video_path || !job->thumb_path ||
        video_frame_size(job->req->resolution, job->req->aspect, &w, &h) ||
        job->req->duration_sec < HH_DURATION_MIN || job->req->duration_sec > HH_DURATION_MAX) {
        snprintf(msg, msgsize, "invalid render job");
        return HH_ERR_INVALID;
    }
    msg[0] = '\0';
    if (!e->ops->render) {
        snprintf(msg, msgsize, "the %s engine hands jobs to a provider; it renders nothing here",
                 e->ops->name);
        return HH_ERR_INVALID;
    }
    return e->ops->render(e, job, msg, msgsize);
}

const char *engine_name(const hh_engine *e)
{
    return e->ops->name;
}

const char *engine_label(const hh_engine *e)
{
    return e->ops->label;
}

const char *engine_label_of(const char *name)
{
    const engine_ops *ops = find_ops(name);
    return ops ? ops->label : NULL;
}

int engine_can(const hh_engine *e, hh_plan_feature feature)
{
    return !e->ops->can || e->ops->can(e, feature);
}

hh_status engine_check_plans(const hh_plans *plans, hh_errdetail *d)
{
    for (size_t i = 0; i < plans->count; i++) {
        const hh_plan *p = &plans->plan[i];
        hh_engine *e = NULL;
        hh_errdetail why = {"", ""};
        if (make(p->engine, p->engine_config, 1, &e, &why))
            return hh_errdetail_set(d, HH_ERR_INVALID, p->name, "plan \"%s\": engine: %s", p->name,
                                    why.message);
        for (int f = 0; f < HH_FEATURE_COUNT; f++) {
            if (p->allows[f] && !engine_can(e, (hh_plan_feature)f)) {
                engine_free(e);
                return hh_errdetail_set(d, HH_ERR_INVALID, p->name,
                                        "plan \"%s\": allow.%s is true but engine \"%s\" as "
                                        "configured cannot take it",
                                        p->name, plans_allow_key((hh_plan_feature)f), p->engine);
            }
        }
        engine_free(e);
    }
    return HH_OK;
}

void engine_free(hh_engine *e)
{
    if (!e)
        return;
    if (e->ops && e->ops->release)
        e->ops->release(e->impl);
    free(e);
}

/* ---- remote engines: the calls of engine.h, handed to the engine's remote ops ---- */

int engine_is_remote(const hh_engine *e)
{
    return e->ops->remote != NULL;
}

const engine_remote_limits *engine_remote_limits_of(const hh_engine *e)
{
    return e->ops->remote ? &engine_remote_cfg_of(e)->lim : NULL;
}

hh_status engine_remote_submit(const hh_engine *e, const hh_render_job *job,
                               const char *const input_url[HH_REF_COUNT], hc_request *out,
                               char *msg, size_t msgsize)
{
    msg[0] = '\0';
    if (!e->ops->remote || !job->req)
        return HH_ERR_INVALID;
    return e->ops->remote->submit(e, job, input_url, out, msg, msgsize);
}

void engine_remote_submitted(const hh_engine *e, const hc_response *resp, engine_verdict *v)
{
    engine_verdict_clear(v);
    e->ops->remote->submitted(e, resp, v);
}

hh_status engine_remote_poll(const hh_engine *e, const json_t *task, hc_request *out)
{
    return e->ops->remote->poll(e, task, out);
}

void engine_remote_polled(const hh_engine *e, const json_t *task, const hc_response *resp,
                          engine_verdict *v)
{
    engine_verdict_clear(v);
    e->ops->remote->polled(e, task, resp, v);
}

hh_status engine_remote_cancel(const hh_engine *e, const json_t *task, hc_request *out)
{
    if (!e->ops->remote->cancel)
        return HH_ERR_CONFLICT;
    return e->ops->remote->cancel(e, task, out);
}

hh_status engine_remote_download(const hh_engine *e, const json_t *task, hc_request *out)
{
    return e->ops->remote->download(e, task, out);
}
