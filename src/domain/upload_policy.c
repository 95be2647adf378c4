/*
 * upload_policy.c - the contract's upload table as data, and the presign
 * body's validation in the order the contract lists its errors.
 */
#include "domain/upload_policy.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    const char *prefix; /* key folder */
    int64_t max;
    struct {
        const char *type, *ext;
    } types[4];
} kinds[UPLOAD_KIND_COUNT] = {
    [UPLOAD_IMAGE] = {"image",
                      "videos/inputs",
                      10 * UPLOAD_MB,
                      {{"image/png", "png"}, {"image/jpeg", "jpg"}, {"image/webp", "webp"}}},
    [UPLOAD_VIDEO] = {"video",
                      "videos/reference-video",
                      50 * UPLOAD_MB,
                      {{"video/mp4", "mp4"}, {"video/quicktime", "mov"}, {"video/webm", "webm"}}},
    [UPLOAD_AUDIO] = {"audio",
                      "videos/reference-audio",
                      15 * UPLOAD_MB,
                      {{"audio/mpeg", "mp3"},
                       {"audio/mp3", "mp3"},
                       {"audio/wav", "wav"},
                       {"audio/webm", "weba"}}},
};

const char *upload_kind_name(upload_kind kind)
{
    return (unsigned)kind < UPLOAD_KIND_COUNT ? kinds[kind].name : "";
}

int64_t upload_max_bytes(upload_kind kind)
{
    return (unsigned)kind < UPLOAD_KIND_COUNT ? kinds[kind].max : 0;
}

static hh_status refuse(api_error e, const char *f, const char *m, api_error *err, char *field,
                        size_t fieldsize, char *msg, size_t msgsize)
{
    *err = e;
    snprintf(field, fieldsize, "%s", f);
    snprintf(msg, msgsize, "%s", m);
    return HH_ERR_INVALID;
}

hh_status upload_request_parse(const json_t *body, upload_request *out, api_error *err, char *field,
                               size_t fieldsize, char *msg, size_t msgsize)
{
    const char *key;
    json_t *val;
    char m[160];
    json_object_foreach((json_t *)body, key, val)
    {
        if (strcmp(key, "kind") && strcmp(key, "contentType") && strcmp(key, "sizeBytes")) {
            snprintf(m, sizeof m, "Unknown field \"%.60s\".", key);
            return refuse(API_ERR_INVALID_INPUT, key, m, err, field, fieldsize, msg, msgsize);
        }
    }
    json_t *kind = json_object_get(body, "kind");
    out->kind = UPLOAD_KIND_COUNT;
    if (!kind) {
        out->kind = UPLOAD_IMAGE;
    } else if (json_is_string(kind)) {
        for (int k = 0; k < UPLOAD_KIND_COUNT; k++)
            if (!strcmp(json_string_value(kind), kinds[k].name))
                out->kind = (upload_kind)k;
    }
    if (out->kind == UPLOAD_KIND_COUNT)
        return refuse(API_ERR_INVALID_INPUT, "kind", "kind must be image, video or audio.", err,
                      field, fieldsize, msg, msgsize);
    json_t *size = json_object_get(body, "sizeBytes");
    if (!json_is_integer(size) || json_integer_value(size) <= 0)
        return refuse(API_ERR_INVALID_INPUT, "sizeBytes",
                      "sizeBytes must be a positive integer: the exact size of the file.", err,
                      field, fieldsize, msg, msgsize);
    out->size_bytes = json_integer_value(size);
    json_t *type = json_object_get(body, "contentType");
    if (!json_is_string(type))
        return refuse(API_ERR_INVALID_INPUT, "contentType", "contentType must be a string.", err,
                      field, fieldsize, msg, msgsize);
    out->content_type = NULL;
    for (int t = 0; t < 4 && kinds[out->kind].types[t].type; t++)
        if (!strcmp(json_string_value(type), kinds[out->kind].types[t].type)) {
            out->content_type = kinds[out->kind].types[t].type;
            out->ext = kinds[out->kind].types[t].ext;
        }
    if (!out->content_type) {
        snprintf(m, sizeof m, "Content type \"%.60s\" is not accepted for %s uploads.",
                 json_string_value(type), kinds[out->kind].name);
        return refuse(API_ERR_UPLOAD_TYPE_NOT_SUPPORTED, "contentType", m, err, field, fieldsize,
                      msg, msgsize);
    }
    if (out->size_bytes > kinds[out->kind].max) {
        snprintf(m, sizeof m, "%s uploads are limited to %lld MB.", kinds[out->kind].name,
                 (long long)(kinds[out->kind].max / UPLOAD_MB));
        return refuse(API_ERR_UPLOAD_FILE_TOO_LARGE, "sizeBytes", m, err, field, fieldsize, msg,
                      msgsize);
    }
    return HH_OK;
}

void upload_key(const upload_request *r, const char *user_id, const char *asset_id, char *out,
                size_t size)
{
    snprintf(out, size, "%s/%s/%s.%s", kinds[r->kind].prefix, user_id, asset_id, r->ext);
}
