/*
 * plans.c - built-in default plans and the loader/validator of the plans
 * file. The defaults are written as the same JSON an operator would write,
 * so there is one parser and the defaults go through the same validation.
 */
#include "domain/plans.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Contract section 3, cheapest first. */
static const char default_plans_json[] =
    "{\"plans\": ["
    "{\"name\":\"free\",\"maxDurationSec\":5,\"requestsPerMinute\":30,\"jobsInFlight\":1,"
    "\"allow\":{\"1080p\":false,\"sourceImage\":true,\"lastFrame\":false,"
    "\"referenceVideo\":false,\"referenceAudio\":false},"
    "\"creditsPerSecond\":{\"720p\":10,\"1080p\":20},\"publish\":true,\"watermark\":true},"
    "{\"name\":\"basic\",\"maxDurationSec\":8,\"requestsPerMinute\":60,\"jobsInFlight\":2,"
    "\"allow\":{\"1080p\":true,\"sourceImage\":true,\"lastFrame\":false,"
    "\"referenceVideo\":true,\"referenceAudio\":false},"
    "\"creditsPerSecond\":{\"720p\":10,\"1080p\":20}},"
    "{\"name\":\"pro\",\"maxDurationSec\":12,\"requestsPerMinute\":300,\"jobsInFlight\":5,"
    "\"allow\":{\"1080p\":true,\"sourceImage\":true,\"lastFrame\":true,"
    "\"referenceVideo\":true,\"referenceAudio\":true},"
    "\"creditsPerSecond\":{\"720p\":10,\"1080p\":20}},"
    "{\"name\":\"max\",\"maxDurationSec\":12,\"requestsPerMinute\":1200,\"jobsInFlight\":20,"
    "\"allow\":{\"1080p\":true,\"sourceImage\":true,\"lastFrame\":true,"
    "\"referenceVideo\":true,\"referenceAudio\":true},"
    "\"creditsPerSecond\":{\"720p\":10,\"1080p\":20}}"
    "]}";

/* Keys of "allow", in hh_plan_feature order. */
static const char *const allow_keys[HH_FEATURE_COUNT + 1] = {
    "1080p", "sourceImage", "lastFrame", "referenceVideo", "referenceAudio", NULL,
};

/* The contract's plan_gate_exceeded `field` values, in hh_plan_feature order. */
static const char *const feature_fields[HH_FEATURE_COUNT] = {
    "resolution", "sourceImage", "lastFrame", "referenceVideo", "referenceAudio",
};

/* Records the loader's one-line reason in *d and returns HH_ERR_INVALID. */
#define FAIL(d, ...) hh_errdetail_set((d), HH_ERR_INVALID, "", __VA_ARGS__)

/* Rejects any member of obj not in allowed (NULL-terminated); names it in *d. */
static hh_status only_keys(json_t *obj, const char *const *allowed, const char *where,
                           hh_errdetail *d)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            ok |= !strcmp(*a, key);
        if (!ok)
            return FAIL(d, "%s: unknown field \"%s\"", where, key);
    }
    return HH_OK;
}

/* An integer member in [lo, hi] into *out; absent: dflt when optional, else an error. */
static hh_status get_int64(json_t *obj, const char *key, long long lo, long long hi, int optional,
                           long long dflt, const char *where, long long *out, hh_errdetail *d)
{
    json_t *v = json_object_get(obj, key);
    if (!v && optional) {
        *out = dflt;
        return HH_OK;
    }
    if (!json_is_integer(v))
        return FAIL(d, "%s: \"%s\" must be an integer", where, key);
    json_int_t n = json_integer_value(v);
    if (n < lo || n > hi)
        return FAIL(d, "%s: \"%s\" must be between %lld and %lld", where, key, lo, hi);
    *out = (long long)n;
    return HH_OK;
}

static hh_status get_int(json_t *obj, const char *key, long lo, long hi, const char *where,
                         int *out, hh_errdetail *d)
{
    long long v = 0;
    hh_status rc = get_int64(obj, key, lo, hi, 0, 0, where, &v, d);
    if (!rc)
        *out = (int)v;
    return rc;
}

/* The account limits: all optional (docs/plans.md, docs/security-and-limits.md). */
static hh_status parse_limits(json_t *obj, hh_plan *p, const char *where, hh_errdetail *d)
{
    long long keys = 0, per_day = 0, queued = 0;
    hh_status rc =
        get_int64(obj, "maxApiKeys", 1, 1000, 1, HH_PLAN_DEFAULT_MAX_KEYS, where, &keys, d);
    if (!rc)
        rc = get_int64(obj, "maxCreditsPerDay", 1, 1000000000000LL, 1, 0, where, &per_day, d);
    if (!rc)
        rc = get_int64(obj, "maxQueuedJobs", 1, 1000000, 1, 0, where, &queued, d);
    if (rc)
        return rc;
    p->max_api_keys = (int)keys;
    p->max_credits_per_day = per_day;
    p->max_queued_jobs = (int)queued;
    return HH_OK;
}

static int valid_plan_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(((hh_plan *)0)->name))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_-", s[i]))
            return 0;
    return 1;
}

static hh_status parse_engine(json_t *eng, hh_plan *p, const char *where, hh_errdetail *d)
{
    if (!eng) {
        snprintf(p->engine, sizeof p->engine, "procedural");
        return HH_OK;
    }
    /* Only the shape here: which engines exist and what their settings
     * mean is the engine registry's to say (engine_check_plans). */
    json_t *name = json_object_get(eng, "name");
    if (!json_is_object(eng) || !json_is_string(name) || json_string_length(name) == 0 ||
        json_string_length(name) >= sizeof p->engine)
        return FAIL(d, "%s: \"engine\" must be an object with a string \"name\"", where);
    snprintf(p->engine, sizeof p->engine, "%s", json_string_value(name));
    p->engine_config = json_deep_copy(eng);
    return p->engine_config ? HH_OK : HH_ERR_NOMEM;
}

/* Reads the optional boolean obj[key] into *out, which keeps its default when absent. */
static hh_status get_flag(json_t *obj, const char *key, const char *where, int *out,
                          hh_errdetail *d)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return HH_OK;
    if (!json_is_boolean(v))
        return FAIL(d, "%s: \"%s\" must be true or false", where, key);
    *out = json_is_true(v);
    return HH_OK;
}

static hh_status parse_plan(json_t *obj, size_t index, hh_plan *p, hh_errdetail *d)
{
    static const char *const keys[] = {"name",
                                       "maxDurationSec",
                                       "requestsPerMinute",
                                       "jobsInFlight",
                                       "allow",
                                       "creditsPerSecond",
                                       "engine",
                                       "publish",
                                       "watermark",
                                       "maxApiKeys",
                                       "maxCreditsPerDay",
                                       "maxQueuedJobs",
                                       NULL};
    static const char *const price_keys[] = {"720p", "1080p", NULL};
    char where[64];
    hh_status rc;

    snprintf(where, sizeof where, "plans[%zu]", index);
    if (!json_is_object(obj))
        return FAIL(d, "%s: must be an object", where);
    json_t *name = json_object_get(obj, "name");
    if (!json_is_string(name) || !valid_plan_name(json_string_value(name)))
        return FAIL(d, "%s: \"name\" must be 1-31 characters of a-z 0-9 _ -", where);
    snprintf(p->name, sizeof p->name, "%s", json_string_value(name));
    snprintf(where, sizeof where, "plan \"%s\"", p->name);

    if ((rc = only_keys(obj, keys, where, d)))
        return rc;
    if ((rc = get_int(obj, "maxDurationSec", 3, 12, where, &p->max_duration_sec, d)) ||
        (rc = get_int(obj, "requestsPerMinute", 1, 1000000, where, &p->requests_per_minute, d)) ||
        (rc = get_int(obj, "jobsInFlight", 1, 10000, where, &p->jobs_in_flight, d)) ||
        (rc = parse_limits(obj, p, where, d)))
        return rc;

    json_t *allow = json_object_get(obj, "allow");
    if (!json_is_object(allow))
        return FAIL(d, "%s: \"allow\" must be an object", where);
    if ((rc = only_keys(allow, allow_keys, where, d)))
        return rc;
    for (int f = 0; f < HH_FEATURE_COUNT; f++) {
        json_t *v = json_object_get(allow, allow_keys[f]);
        if (!json_is_boolean(v))
            return FAIL(d, "%s: \"allow.%s\" must be true or false", where, allow_keys[f]);
        p->allows[f] = json_is_true(v);
    }

    json_t *price = json_object_get(obj, "creditsPerSecond");
    if (!json_is_object(price))
        return FAIL(d, "%s: \"creditsPerSecond\" must be an object", where);
    if ((rc = only_keys(price, price_keys, where, d)) ||
        (rc = get_int(price, "720p", 0, 1000000, where, &p->credits_per_sec_720p, d)) ||
        (rc = get_int(price, "1080p", 0, 1000000, where, &p->credits_per_sec_1080p, d)))
        return rc;
    p->publish = 1;
    p->watermark = 0;
    if ((rc = get_flag(obj, "publish", where, &p->publish, d)) ||
        (rc = get_flag(obj, "watermark", where, &p->watermark, d)))
        return rc;
    return parse_engine(json_object_get(obj, "engine"), p, where, d);
}

hh_status plans_load_json(const char *text, size_t len, hh_plans **out, hh_errdetail *d)
{
    json_error_t jerr;
    hh_plans *plans = NULL;
    hh_status rc = HH_ERR_INVALID;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);

    *out = NULL;
    hh_errdetail_clear(d);
    if (!root) {
        rc = FAIL(d, "line %d: %s", jerr.line, jerr.text);
        goto fail;
    }
    static const char *const top_keys[] = {"plans", NULL};
    json_t *arr = json_object_get(root, "plans");
    if (!json_is_object(root) || !json_is_array(arr) || json_array_size(arr) == 0) {
        rc = FAIL(d, "the file must be an object with a non-empty \"plans\" array");
        goto fail;
    }
    if ((rc = only_keys(root, top_keys, "top level", d)))
        goto fail;
    if (json_array_size(arr) > HH_PLANS_MAX) {
        rc = FAIL(d, "at most %d plans", HH_PLANS_MAX);
        goto fail;
    }
    plans = calloc(1, sizeof *plans);
    if (!plans) {
        rc = HH_ERR_NOMEM;
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(arr); i++) {
        hh_plan *p = &plans->plan[plans->count];
        if ((rc = parse_plan(json_array_get(arr, i), i, p, d)))
            goto fail;
        plans->count++;
        if (plans_find(plans, p->name) != p) {
            rc = FAIL(d, "plan \"%s\" is defined twice", p->name);
            goto fail;
        }
    }
    json_decref(root);
    *out = plans;
    return HH_OK;
fail:
    plans_free(plans);
    json_decref(root);
    return rc;
}

hh_status plans_load_file(const char *path, hh_plans **out, hh_errdetail *d)
{
    /* Plans files are small; 1 MiB is far beyond any sane one. */
    enum { MAX_FILE = 1 << 20 };
    char *buf = NULL;
    hh_status rc = HH_ERR_IO;
    FILE *f = fopen(path, "rb");

    *out = NULL;
    hh_errdetail_clear(d);
    if (!f) {
        hh_errdetail_set(d, rc, "", "%s: cannot open", path);
        goto fail;
    }
    buf = malloc(MAX_FILE + 1);
    if (!buf) {
        rc = HH_ERR_NOMEM;
        goto fail;
    }
    size_t n = fread(buf, 1, MAX_FILE + 1, f);
    if (n > MAX_FILE) {
        rc = FAIL(d, "%s: larger than 1 MiB", path);
        goto fail;
    }
    hh_errdetail inner;
    rc = plans_load_json(buf, n, out, &inner);
    if (rc && inner.message[0]) /* allocation failures come without a reason */
        hh_errdetail_set(d, rc, "", "%s: %s", path, inner.message);
fail:
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

hh_status plans_default(hh_plans **out)
{
    return plans_load_json(default_plans_json, sizeof default_plans_json - 1, out, NULL);
}

void plans_free(hh_plans *plans)
{
    if (!plans)
        return;
    for (size_t i = 0; i < plans->count; i++)
        json_decref(plans->plan[i].engine_config);
    free(plans);
}

const hh_plan *plans_find(const hh_plans *plans, const char *name)
{
    for (size_t i = 0; name && i < plans->count; i++)
        if (!strcmp(plans->plan[i].name, name))
            return &plans->plan[i];
    return NULL;
}

const hh_plan *plans_cheapest_allowing(const hh_plans *plans, hh_plan_feature feature)
{
    for (size_t i = 0; i < plans->count; i++)
        if (plans->plan[i].allows[feature])
            return &plans->plan[i];
    return NULL;
}

const hh_plan *plans_cheapest_publishing(const hh_plans *plans)
{
    for (size_t i = 0; i < plans->count; i++)
        if (plans->plan[i].publish)
            return &plans->plan[i];
    return NULL;
}

const hh_plan *plans_cheapest_duration(const hh_plans *plans, int seconds)
{
    for (size_t i = 0; i < plans->count; i++)
        if (plans->plan[i].max_duration_sec >= seconds)
            return &plans->plan[i];
    return NULL;
}

const char *plans_feature_field(hh_plan_feature feature)
{
    return (unsigned)feature < HH_FEATURE_COUNT ? feature_fields[feature] : "";
}

const char *plans_allow_key(hh_plan_feature feature)
{
    return (unsigned)feature < HH_FEATURE_COUNT ? allow_keys[feature] : "";
}

int64_t plans_price(const hh_plan *plan, int seconds, int is_1080p)
{
    int rate = is_1080p ? plan->credits_per_sec_1080p : plan->credits_per_sec_720p;
    return (int64_t)seconds * rate;
}

json_t *plans_to_json(const hh_plans *plans)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < plans->count; i++) {
        const hh_plan *p = &plans->plan[i];
        json_t *allow = json_object();
        for (int f = 0; allow && f < HH_FEATURE_COUNT; f++)
            json_object_set_new(allow, allow_keys[f], json_boolean(p->allows[f]));
        json_t *j = json_pack("{s:s, s:i, s:i, s:i, s:o, s:{s:i, s:i}, s:b, s:b, s:s, s:i}", "name",
                              p->name, "maxDurationSec", p->max_duration_sec, "requestsPerMinute",
                              p->requests_per_minute, "jobsInFlight", p->jobs_in_flight, "allow",
                              allow, "creditsPerSecond", "720p", p->credits_per_sec_720p, "1080p",
                              p->credits_per_sec_1080p, "publish", p->publish, "watermark",
                              p->watermark, "engine", p->engine, "maxApiKeys", p->max_api_keys);
        /* The caps are there only when set: absent means none, as in the file. */
        if (j && p->max_credits_per_day)
            json_object_set_new(j, "maxCreditsPerDay", json_integer(p->max_credits_per_day));
        if (j && p->max_queued_jobs)
            json_object_set_new(j, "maxQueuedJobs", json_integer(p->max_queued_jobs));
        json_array_append_new(arr, j);
    }
    return arr;
}
