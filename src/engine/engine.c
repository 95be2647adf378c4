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
    &engine_procedural_ops,
    &engine_exec_ops,
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
static hh_status check_keys(const engine_ops *ops, const json_t *config, char *err, size_t errsize)
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
        if (!known) {
            snprintf(err, errsize, "engine config: %s does not read \"%.64s\"", ops->name, key);
            return HH_ERR_INVALID;
        }
    }
    return HH_OK;
}

hh_status engine_cfg_int(const json_t *config, const char *key, long lo, long hi, int *out,
                         char *err, size_t errsize)
{
    const json_t *v = json_object_get(config, key);
    if (!v)
        return HH_OK;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        snprintf(err, errsize, "engine config: %s must be an integer %ld..%ld", key, lo, hi);
        return HH_ERR_INVALID;
    }
    *out = (int)json_integer_value(v);
    return HH_OK;
}

/* Reads the settings every engine shares: "preset" (x264) and "threads". */
static hh_status encode_config(engine_encode *enc, const json_t *config, char *err, size_t errsize)
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
            snprintf(err, errsize, "engine config: preset must be an x264 preset name");
            return HH_ERR_INVALID;
        }
        snprintf(enc->preset, sizeof enc->preset, "%s", json_string_value(p));
    }
    return engine_cfg_int(config, "threads", 0, 64, &enc->threads, err, errsize);
}

hh_status engine_new(const char *name, const json_t *config, hh_engine **out, char *err,
                     size_t errsize)
{
    *out = NULL;
    const engine_ops *ops = find_ops(name);
    if (!ops) {
        char names[128];
        list_names(names, sizeof names);
        snprintf(err, errsize, "unknown engine '%.64s' (%s)", name ? name : "", names);
        return HH_ERR_INVALID;
    }
    if (config && !json_is_object(config)) {
        snprintf(err, errsize, "engine config must be a JSON object");
        return HH_ERR_INVALID;
    }
    json_t *empty = config ? NULL : json_object();
    const json_t *cfg = config ? config : empty;
    hh_engine *e = calloc(1, sizeof *e);
    hh_status rc = e && cfg ? HH_OK : HH_ERR_NOMEM;
    if (!rc) {
        e->ops = ops;
        rc = check_keys(ops, cfg, err, errsize);
    }
    if (!rc)
        rc = encode_config(&e->enc, cfg, err, errsize);
    if (!rc && ops->configure)
        rc = ops->configure(e, cfg, err, errsize);
    json_decref(empty);
    if (rc) {
        engine_free(e);
        return rc;
    }
    *out = e;
    return HH_OK;
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

int engine_can(const hh_engine *e, hh_plan_feature feature)
{
    return !e->ops->can || e->ops->can(e, feature);
}

hh_status engine_check_plans(const hh_plans *plans, char *err, size_t errsize)
{
    for (size_t i = 0; i < plans->count; i++) {
        const hh_plan *p = &plans->plan[i];
        hh_engine *e = NULL;
        char why[256];
        if (engine_new(p->engine, p->engine_config, &e, why, sizeof why)) {
            snprintf(err, errsize, "plan \"%s\": engine: %s", p->name, why);
            return HH_ERR_INVALID;
        }
        for (int f = 0; f < HH_FEATURE_COUNT; f++) {
            if (p->allows[f] && !engine_can(e, (hh_plan_feature)f)) {
                snprintf(err, errsize,
                         "plan \"%s\": allow.%s is true but engine \"%s\" as configured cannot "
                         "take it",
                         p->name, plans_allow_key((hh_plan_feature)f), p->engine);
                engine_free(e);
                return HH_ERR_INVALID;
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
