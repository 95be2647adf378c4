/*
 * engine_remote.c - what the remote engines (dashscope, openai-videos, fal)
 * share: their common settings and the provider's secret, the prompt as a
 * model without style or camera fields reads it, references as data: URLs
 * or URLs of our storage, the reading of HTTP answers every protocol
 * agrees on, and the re-encode of a provider's result into the contract's
 * asset. The protocols themselves are in engine_<provider>.c.
 */
#include "engine/engine.h"
#include "engine/engine_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/media.h"
#include "util/crypto.h"
#include "util/utf8.h"

#define SECRET_FILE_MAX 4096
#define REF_FILE_MAX    (64LL * 1024 * 1024) /* a reference read into a data: URL */

const char *const engine_remote_keys[] = {
    "baseUrl",       "apiKeyEnv",         "apiKeyFile",
    "model",         "imageModel",        "pollIntervalSec",
    "timeoutSec",    "createPerSecond",   "pollPerSecond",
    "maxInFlight",   "maxDownloadMB",     "inputs",
    "costPerSecond", "requestTimeoutSec", NULL,
};

/* Reads the secret the config points at: a variable of the environment or a file. */
static hh_status read_secret(engine_remote_cfg *rc, const json_t *config, int need_secret,
                             hh_errdetail *d)
{
    const json_t *env = json_object_get(config, "apiKeyEnv");
    const json_t *file = json_object_get(config, "apiKeyFile");
    if (!env == !file || (env && !json_is_string(env)) || (file && !json_is_string(file))) {
        return hh_errdetail_set(
            d, HH_ERR_INVALID, "",
            "engine config: exactly one of \"apiKeyEnv\" (a variable's name) and "
            "\"apiKeyFile\" (a path) must say where the provider's key is");
    }
    if (!need_secret)
        return HH_OK;
    if (env) {
        const char *v = getenv(json_string_value(env));
        if (!v || !*v || strlen(v) >= sizeof rc->secret) {
            return hh_errdetail_set(d, HH_ERR_INVALID, "",
                                    "engine config: the variable %.64s named by apiKeyEnv is %s",
                                    json_string_value(env), v && *v ? "too long" : "not set");
        }
        snprintf(rc->secret, sizeof rc->secret, "%s", v);
        return HH_OK;
    }
    FILE *f = fopen(json_string_value(file), "rb");
    if (!f) {
        return hh_errdetail_set(d, HH_ERR_INVALID, "",
                                "engine config: cannot read apiKeyFile %.200s: %s",
                                json_string_value(file), strerror(errno));
    }
    size_t n = fread(rc->secret, 1, sizeof rc->secret - 1, f);
    fclose(f);
    rc->secret[n] = '\0';
    while (n > 0 && strchr(" \t\r\n", rc->secret[n - 1]))
        rc->secret[--n] = '\0';
    if (n == 0 || n >= sizeof rc->secret - 1) {
        return hh_errdetail_set(d, HH_ERR_INVALID, "",
                                "engine config: apiKeyFile %.200s holds no key of 1..510 bytes",
                                json_string_value(file));
    }
    return HH_OK;
}

static hh_status read_limits(engine_remote_limits *l, const json_t *config,
                             const engine_remote_defaults *def, hh_errdetail *d)
{
    int poll_sec = def->poll_interval_sec, max_mb = 512, request_sec = 30;
    l->timeout_sec = 3600;
    l->create_per_sec = def->create_per_sec;
    l->poll_per_sec = def->poll_per_sec;
    l->max_in_flight = 64;
    l->inputs_as_urls = def->inputs_as_urls;
    hh_status rc;
    if ((rc = engine_cfg_int(config, "pollIntervalSec", 1, 3600, &poll_sec, d)) ||
        (rc = engine_cfg_int(config, "timeoutSec", 10, 86400, &l->timeout_sec, d)) ||
        (rc = engine_cfg_int(config, "requestTimeoutSec", 1, 300, &request_sec, d)) ||
        (rc = engine_cfg_int(config, "maxInFlight", 1, 1024, &l->max_in_flight, d)) ||
        (rc = engine_cfg_int(config, "maxDownloadMB", 1, 4096, &max_mb, d)) ||
        (rc = engine_cfg_number(config, "createPerSecond", 0.01, 1000, &l->create_per_sec, d)) ||
        (rc = engine_cfg_number(config, "pollPerSecond", 0.01, 1000, &l->poll_per_sec, d)) ||
        (rc = engine_cfg_number(config, "costPerSecond", 0, 1000, &l->cost_per_sec, d)))
        return rc;
    l->poll_interval_ms = poll_sec * 1000;
    l->request_timeout_ms = request_sec * 1000;
    l->max_download = (int64_t)max_mb * 1024 * 1024;
    const json_t *in = json_object_get(config, "inputs");
    if (in) {
        const char *s = json_string_value(in);
        if (!s || (strcmp(s, "url") && strcmp(s, "data"))) {
            return hh_errdetail_set(d, HH_ERR_INVALID, "",
                                    "engine config: \"inputs\" must be \"url\" or \"data\"");
        }
        l->inputs_as_urls = !strcmp(s, "url");
    }
    return HH_OK;
}

hh_status engine_remote_configure(engine_remote_cfg *rc, const json_t *config,
                                  const engine_remote_defaults *def, int need_secret,
                                  hh_errdetail *d)
{
    hh_status st;
    if (def->base_url)
        snprintf(rc->base_url, sizeof rc->base_url, "%s", def->base_url);
    if ((st = engine_cfg_string(config, "baseUrl", !def->base_url, rc->base_url,
                                sizeof rc->base_url, d)) ||
        (st = engine_cfg_string(config, "model", 1, rc->model, sizeof rc->model, d)) ||
        (st = engine_cfg_string(config, "imageModel", 0, rc->image_model, sizeof rc->image_model,
                                d)) ||
        (st = read_limits(&rc->lim, config, def, d)) ||
        (st = read_secret(rc, config, need_secret, d)))
        return st;
    if (strncmp(rc->base_url, "http://", 7) && strncmp(rc->base_url, "https://", 8)) {
        return hh_errdetail_set(d, HH_ERR_INVALID, "",
                                "engine config: \"baseUrl\" must start with https:// or http://");
    }
    size_t n = strlen(rc->base_url);
    while (n > 0 && rc->base_url[n - 1] == '/')
        rc->base_url[--n] = '\0';
    return HH_OK;
}

void engine_remote_release(void *impl)
{
    engine_remote_cfg *rc = impl;
    if (rc)
        explicit_bzero(rc->secret, sizeof rc->secret);
    free(impl);
}

const engine_remote_cfg *engine_remote_cfg_of(const hh_engine *e)
{
    return e->impl;
}

/* ---- mapping the request ---- */

/* Drops what a byte limit cut off the end of s in the middle of a character. */
static void trim_partial_utf8(char *s)
{
    s[hh_utf8_prefix(s, strlen(s))] = '\0';
}

/* Appends s to out (size bytes), keeping it NUL-terminated. */
static void append(char *out, size_t size, const char *s)
{
    size_t n = strlen(out);
    if (n + 1 < size)
        snprintf(out + n, size - n, "%s", s);
}

static const char *camera_sentence(hh_camera c)
{
    static const char *const s[HH_CAM_COUNT] = {
        [HH_CAM_NONE] = NULL,
        [HH_CAM_STATIC] = "The camera stays still on a tripod.",
        [HH_CAM_PAN_LEFT] = "The camera pans to the left.",
        [HH_CAM_PAN_RIGHT] = "The camera pans to the right.",
        [HH_CAM_TILT_UP] = "The camera tilts up.",
        [HH_CAM_TILT_DOWN] = "The camera tilts down.",
        [HH_CAM_ZOOM_IN] = "The camera zooms in.",
        [HH_CAM_ZOOM_OUT] = "The camera zooms out.",
        [HH_CAM_ORBIT] = "The camera orbits around the subject.",
    };
    return (unsigned)c < HH_CAM_COUNT ? s[c] : NULL;
}

void engine_prompt_text(const hh_video_request *req, int with_style, char *out, size_t size)
{
    static const char *const pace[HH_INTENSITY_MAX + 1] = {
        "", "Very gentle, slow movement.", "Gentle movement.",
        "", "Strong, lively movement.",    "Very strong, fast, dynamic movement.",
    };
    const char *cam = camera_sentence(req->camera);
    int m = req->motion_intensity;
    const char *p = m >= HH_INTENSITY_MIN && m <= HH_INTENSITY_MAX ? pace[m] : "";
    snprintf(out, size, "%s", req->prompt);
    if (with_style && req->style[0]) {
        append(out, size, " Style: ");
        append(out, size, req->style);
        append(out, size, ".");
    }
    if (cam) {
        append(out, size, " ");
        append(out, size, cam);
    }
    if (*p && req->camera != HH_CAM_STATIC) {
        append(out, size, " ");
        append(out, size, p);
    }
    trim_partial_utf8(out);
}

int engine_nearest(int want, const int *allowed, size_t n)
{
    int best = allowed[0];
    for (size_t i = 1; i < n; i++) {
        int d = abs(allowed[i] - want), bd = abs(best - want);
        if (d < bd || (d == bd && allowed[i] > best))
            best = allowed[i];
    }
    return best;
}

/* "image/png" etc. from the file's first bytes; the uploads were sniffed already. */
static const char *mime_of(const unsigned char *b, size_t n)
{
    if (n >= 8 && !memcmp(b, "\x89PNG", 4))
        return "image/png";
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8)
        return "image/jpeg";
    if (n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4))
        return "image/webp";
    if (n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WAVE", 4))
        return "audio/wav";
    if (n >= 3 && (!memcmp(b, "ID3", 3) || (b[0] == 0xFF && (b[1] & 0xE0) == 0xE0)))
        return "audio/mpeg";
    if (n >= 8 && !memcmp(b + 4, "ftyp", 4))
        return "video/mp4";
    return "application/octet-stream";
}

/* The whole file at path, malloc'd; HH_ERR_LIMIT past REF_FILE_MAX. */
static hh_status slurp(const char *path, unsigned char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return HH_ERR_IO;
    hh_status rc = HH_OK;
    unsigned char *buf = NULL;
    long size = fseek(f, 0, SEEK_END) ? -1 : ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET))
        rc = HH_ERR_IO;
    else if (size > REF_FILE_MAX)
        rc = HH_ERR_LIMIT;
    else if (!(buf = malloc((size_t)size + 1)))
        rc = HH_ERR_NOMEM;
    else if (fread(buf, 1, (size_t)size, f) != (size_t)size)
        rc = HH_ERR_IO;
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = (size_t)size;
    return HH_OK;
}

hh_status engine_ref_file(const hh_render_job *job, hh_ref r, unsigned char **data, size_t *len,
                          const char **type, char *msg, size_t msgsize)
{
    *data = NULL;
    if (!job->input[r]) {
        snprintf(msg, msgsize, "a reference file is missing");
        return HH_ERR_INVALID;
    }
    hh_status st = slurp(job->input[r], data, len);
    if (st) {
        snprintf(msg, msgsize, "a reference file could not be read");
        return st;
    }
    *type = mime_of(*data, *len);
    return HH_OK;
}

hh_status engine_ref_value(const engine_remote_cfg *rc, const hh_render_job *job,
                           const char *const input_url[HH_REF_COUNT], hh_ref r, char **out,
                           char *msg, size_t msgsize)
{
    *out = NULL;
    if (rc->lim.inputs_as_urls) {
        if (!input_url || !input_url[r]) {
            snprintf(msg, msgsize, "a reference has no public URL to hand the provider");
            return HH_ERR_INVALID;
        }
        *out = strdup(input_url[r]);
        return *out ? HH_OK : HH_ERR_NOMEM;
    }
    unsigned char *data;
    size_t len;
    const char *type;
    hh_status st = engine_ref_file(job, r, &data, &len, &type, msg, msgsize);
    if (st)
        return st;
    char *b64 = crypto_b64_encode_new(data, len);
    free(data);
    if (!b64 || asprintf(out, "data:%s;base64,%s", type, b64) < 0) {
        free(b64);
        *out = NULL;
        return HH_ERR_NOMEM;
    }
    free(b64);
    return HH_OK;
}

/* ---- reading answers ---- */

void engine_verdict_clear(engine_verdict *v)
{
    json_decref(v->task);
    json_decref(v->usage);
    memset(v, 0, sizeof *v);
    v->progress = -1;
    v->retry_after = -1;
}

void engine_verdict_fail(engine_verdict *v, const char *message, const char *fmt, ...)
{
    v->outcome = ENGINE_FAILED;
    snprintf(v->message, sizeof v->message, "%s", message);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof v->detail, fmt, ap);
    va_end(ap);
    trim_partial_utf8(v->detail);
}

static void transient(engine_verdict *v, long retry_after, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void transient(engine_verdict *v, long retry_after, const char *fmt, ...)
{
    v->outcome = ENGINE_TRANSIENT;
    v->retry_after = retry_after;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof v->detail, fmt, ap);
    va_end(ap);
    trim_partial_utf8(v->detail);
}

int engine_http_verdict(const hc_response *resp, const char *what, engine_verdict *v)
{
    if (resp->rc != HH_OK) {
        transient(v, -1, "%s: no answer: %s", what, resp->error);
        return 1;
    }
    long s = resp->status;
    if (s == 429 || s == 408 || s >= 500) {
        transient(v, resp->retry_after, "%s: HTTP %ld: %.300s", what, s, resp->body);
        return 1;
    }
    if (s == 401 || s == 403) {
        engine_verdict_fail(v, "The video provider refused this service's credentials.",
                            "%s: HTTP %ld (check the engine's key): %.300s", what, s, resp->body);
        return 1;
    }
    return 0;
}

json_t *engine_answer_json(const hc_response *resp, const char *what, engine_verdict *v)
{
    json_t *doc = json_loadb(resp->body, resp->len, 0, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        transient(v, -1, "%s: HTTP %ld with a body that is not a JSON object", what, resp->status);
        return NULL;
    }
    return doc;
}

/* ---- bringing the result home ---- */

hh_status engine_remote_finish(const hh_engine *e, const hh_render_job *job, const char *path,
                               char *msg, size_t msgsize)
{
    char comment[256];
    snprintf(comment, sizeof comment, "HappyHorse via %s (%s)", e->ops->name,
             engine_remote_cfg_of(e)->model);
    /* The customer's reference audio when given, else the provider's own soundtrack, if any. */
    const char *audio = job->input[HH_REF_AUDIO] ? job->input[HH_REF_AUDIO]
                        : media_has_audio(path)  ? path
                                                 : NULL;
    hh_status rc = engine_encode_external(job, path, audio, &e->enc, comment, 90, msg, msgsize);
    if (rc == HH_ERR_INVALID || rc == HH_ERR_IO)
        snprintf(msg, msgsize, "The video provider's result is not a playable video.");
    return rc;
}
