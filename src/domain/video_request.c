/*
 * video_request.c - validation of the create-video body (contract section 3)
 * into an hh_video_request. Pure: no I/O, no globals, no allocation except
 * in video_request_to_json. Every rule is table- or range-driven so the unit
 * test can walk each boundary.
 */
#include "domain/video_request.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

static const char *const aspect_names[HH_ASPECT_COUNT] = {"16:9", "9:16", "1:1"};
static const char *const resolution_names[HH_RES_COUNT] = {"720p", "1080p"};
static const char *const camera_names[HH_CAM_COUNT] = {"none",      "static",   "pan-left",
                                                       "pan-right", "tilt-up",  "tilt-down",
                                                       "zoom-in",   "zoom-out", "orbit"};
static const char *const ref_api_names[HH_REF_COUNT] = {"sourceImageKey", "lastFrameKey",
                                                        "referenceVideoKey", "referenceAudioKey"};
static const char *const ref_job_names[HH_REF_COUNT] = {"sourceImage", "lastFrame",
                                                        "referenceVideo", "referenceAudio"};

/* Frame sizes of the contract, [resolution][aspect] = {width, height}. */
static const int frame_sizes[HH_RES_COUNT][HH_ASPECT_COUNT][2] = {
    {{1280, 720}, {720, 1280}, {720, 720}},
    {{1920, 1080}, {1080, 1920}, {1080, 1080}},
};

/* Fields common to both modes, in the order they are checked. */
static const char *const common_fields[] = {
    "prompt",     "style",        "durationSec",     "aspectRatio",
    "resolution", "cameraMotion", "motionIntensity", "cfgScale",
};

const char *video_aspect_name(hh_aspect a)
{
    return (unsigned)a < HH_ASPECT_COUNT ? aspect_names[a] : NULL;
}

const char *video_resolution_name(hh_resolution r)
{
    return (unsigned)r < HH_RES_COUNT ? resolution_names[r] : NULL;
}

const char *video_camera_name(hh_camera c)
{
    return (unsigned)c < HH_CAM_COUNT ? camera_names[c] : NULL;
}

const char *video_ref_field(hh_ref ref, hh_vr_mode mode)
{
    if ((unsigned)ref >= HH_REF_COUNT)
        return NULL;
    return mode == HH_VR_API ? ref_api_names[ref] : ref_job_names[ref];
}

hh_status video_frame_size(hh_resolution res, hh_aspect aspect, int *width, int *height)
{
    if ((unsigned)res >= HH_RES_COUNT || (unsigned)aspect >= HH_ASPECT_COUNT)
        return HH_ERR_INVALID;
    *width = frame_sizes[res][aspect][0];
    *height = frame_sizes[res][aspect][1];
    return HH_OK;
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * Validates an optional or required string member: trims ASCII white space,
 * checks UTF-8 and code-point bounds, copies into dst. Sets *present.
 */
typedef struct str_rule {
    const char *name;
    int required;
    long min_cp, max_cp;
} str_rule;

/* Records a validation failure of field name and returns HH_ERR_INVALID. */
#define FAIL(d, name, ...) hh_errdetail_set((d), HH_ERR_INVALID, (name), __VA_ARGS__)

static hh_status take_string(const json_t *body, const str_rule *r, char *dst, size_t dstsize,
                             hh_errdetail *e)
{
    const json_t *v = json_object_get(body, r->name);
    dst[0] = '\0';
    if (!v || json_is_null(v)) {
        if (r->required)
            return FAIL(e, r->name, "%s is required", r->name);
        return HH_OK;
    }
    if (!json_is_string(v))
        return FAIL(e, r->name, "%s must be a string", r->name);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (hh_utf8_count(s, len) < 0)
        return FAIL(e, r->name, "%s is not valid UTF-8 text", r->name);
    while (len && is_space((unsigned char)s[0])) {
        s++;
        len--;
    }
    while (len && is_space((unsigned char)s[len - 1]))
        len--;
    long cp = hh_utf8_count(s, len);
    if (cp < r->min_cp || cp > r->max_cp) {
        if (r->min_cp > 0)
            return FAIL(e, r->name, "%s must be %ld to %ld characters long (got %ld)", r->name,
                        r->min_cp, r->max_cp, cp);
        return FAIL(e, r->name, "%s must be at most %ld characters long (got %ld)", r->name,
                    r->max_cp, cp);
    }
    if (len >= dstsize) /* cannot happen: 4 bytes per code point at most */
        return FAIL(e, r->name, "%s is too long", r->name);
    memcpy(dst, s, len);
    dst[len] = '\0';
    return HH_OK;
}

/* An optional integer member within [lo, hi]; *out keeps its default when absent. */
static hh_status take_int(const json_t *body, const char *name, int required, long long lo,
                          long long hi, long long *out, hh_errdetail *e)
{
    const json_t *v = json_object_get(body, name);
    if (!v || json_is_null(v)) {
        if (required)
            return FAIL(e, name, "%s is required", name);
        return HH_OK;
    }
    if (!json_is_integer(v))
        return FAIL(e, name, "%s must be an integer", name);
    json_int_t n = json_integer_value(v);
    if (n < lo || n > hi)
        return FAIL(e, name, "%s must be between %lld and %lld", name, lo, hi);
    *out = n;
    return HH_OK;
}

/* An optional enum member; *out keeps its default when absent. */
static hh_status take_enum(const json_t *body, const char *name, const char *const *names,
                           int count, int *out, hh_errdetail *e)
{
    const json_t *v = json_object_get(body, name);
    if (!v || json_is_null(v))
        return HH_OK;
    if (json_is_string(v)) {
        for (int i = 0; i < count; i++) {
            if (!strcmp(json_string_value(v), names[i]) &&
                json_string_length(v) == strlen(names[i])) {
                *out = i;
                return HH_OK;
            }
        }
    }
    char allowed[256] = "";
    size_t used = 0;
    for (int i = 0; i < count && used < sizeof allowed; i++) {
        int w = snprintf(allowed + used, sizeof allowed - used, "%s%s", i ? ", " : "", names[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return FAIL(e, name, "%s must be one of: %s", name, allowed);
}

static int is_known_field(const char *key, hh_vr_mode mode)
{
    for (size_t i = 0; i < sizeof common_fields / sizeof common_fields[0]; i++)
        if (!strcmp(key, common_fields[i]))
            return 1;
    for (int r = 0; r < HH_REF_COUNT; r++)
        if (!strcmp(key, video_ref_field((hh_ref)r, mode)))
            return 1;
    return mode == HH_VR_JOB && !strcmp(key, "seed");
}

hh_status video_request_parse(const json_t *body, hh_vr_mode mode, hh_video_request *out,
                              hh_errdetail *e)
{
    hh_status rc;
    memset(out, 0, sizeof *out);
    out->aspect = HH_ASPECT_16_9;
    out->resolution = HH_RES_720P;
    out->camera = HH_CAM_NONE;
    out->motion_intensity = HH_INTENSITY_DEF;
    out->cfg_scale = HH_CFG_DEFAULT;
    hh_errdetail_clear(e);

    if (!json_is_object(body))
        return FAIL(e, "", "the body must be a JSON object");

    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)body, key, value)
    {
        if (!is_known_field(key, mode))
            return FAIL(e, key, "unknown field '%s'", key);
    }

    const str_rule prompt = {"prompt", 1, HH_PROMPT_MIN_CP, HH_PROMPT_MAX_CP};
    const str_rule style = {"style", 0, 0, HH_STYLE_MAX_CP};
    rc = take_string(body, &prompt, out->prompt, sizeof out->prompt, e);
    if (rc)
        return rc;
    rc = take_string(body, &style, out->style, sizeof out->style, e);
    if (rc)
        return rc;

    long long n = 0;
    rc = take_int(body, "durationSec", 1, HH_DURATION_MIN, HH_DURATION_MAX, &n, e);
    if (rc)
        return rc;
    out->duration_sec = (int)n;

    int en = (int)out->aspect;
    rc = take_enum(body, "aspectRatio", aspect_names, HH_ASPECT_COUNT, &en, e);
    if (rc)
        return rc;
    out->aspect = (hh_aspect)en;
    en = (int)out->resolution;
    rc = take_enum(body, "resolution", resolution_names, HH_RES_COUNT, &en, e);
    if (rc)
        return rc;
    out->resolution = (hh_resolution)en;
    en = (int)out->camera;
    rc = take_enum(body, "cameraMotion", camera_names, HH_CAM_COUNT, &en, e);
    if (rc)
        return rc;
    out->camera = (hh_camera)en;

    n = HH_INTENSITY_DEF;
    rc = take_int(body, "motionIntensity", 0, HH_INTENSITY_MIN, HH_INTENSITY_MAX, &n, e);
    if (rc)
        return rc;
    out->motion_intensity = (int)n;

    const json_t *cfg = json_object_get(body, "cfgScale");
    if (cfg && !json_is_null(cfg)) {
        if (!json_is_number(cfg))
            return FAIL(e, "cfgScale", "cfgScale must be a number");
        double d = json_number_value(cfg);
        if (!isfinite(d) || d < 0.0 || d > 1.0)
            return FAIL(e, "cfgScale", "cfgScale must be between 0 and 1");
        out->cfg_scale = d;
    }

    for (int r = 0; r < HH_REF_COUNT; r++) {
        const char *name = video_ref_field((hh_ref)r, mode);
        const json_t *v = json_object_get(body, name);
        if (!v || json_is_null(v))
            continue;
        if (!json_is_string(v))
            return FAIL(e, name, "%s must be a string", name);
        size_t len = json_string_length(v);
        if (len == 0)
            return FAIL(e, name, "%s must not be empty", name);
        if (len >= HH_REF_MAX)
            return FAIL(e, name, "%s is longer than %d bytes", name, HH_REF_MAX - 1);
        if (hh_utf8_count(json_string_value(v), len) < 0)
            return FAIL(e, name, "%s is not valid UTF-8 text", name);
        memcpy(out->ref[r], json_string_value(v), len + 1);
    }

    if (mode == HH_VR_JOB) {
        const json_t *s = json_object_get(body, "seed");
        if (s && !json_is_null(s)) {
            if (!json_is_integer(s))
                return FAIL(e, "seed", "seed must be an integer");
            out->has_seed = 1;
            out->seed = json_integer_value(s);
        }
    }

    if (out->ref[HH_REF_LAST_FRAME][0] && out->ref[HH_REF_SOURCE_IMAGE][0]) {
        const char *lf = video_ref_field(HH_REF_LAST_FRAME, mode);
        return FAIL(e, lf, "%s cannot be combined with %s", lf,
                    video_ref_field(HH_REF_SOURCE_IMAGE, mode));
    }
    return HH_OK;
}

json_t *video_request_to_json(const hh_video_request *req, hh_vr_mode mode)
{
    json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:i, s:f}", "prompt", req->prompt,
                          "style", req->style, "durationSec", req->duration_sec, "aspectRatio",
                          video_aspect_name(req->aspect), "resolution",
                          video_resolution_name(req->resolution), "cameraMotion",
                          video_camera_name(req->camera), "motionIntensity", req->motion_intensity,
                          "cfgScale", req->cfg_scale);
    if (!o)
        return NULL;
    for (int r = 0; r < HH_REF_COUNT; r++) {
        if (!req->ref[r][0])
            continue;
        if (json_object_set_new(o, video_ref_field((hh_ref)r, mode), json_string(req->ref[r]))) {
            json_decref(o);
            return NULL;
        }
    }
    if (mode == HH_VR_JOB && req->has_seed &&
        json_object_set_new(o, "seed", json_integer(req->seed))) {
        json_decref(o);
        return NULL;
    }
    return o;
}
