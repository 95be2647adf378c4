/*
 * upload_policy.c - the contract's upload table as data, and the presign
 * body's validation in the order the contract lists its errors.
 */
#include "domain/upload_policy.h"

#include <stdio.h>
#include <string.h>

#include "util/utf8.h"
#include "util/uuid.h"

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
                      UPLOAD_IMAGE_MAX,
                      {{"image/png", "png"}, {"image/jpeg", "jpg"}, {"image/webp", "webp"}}},
    [UPLOAD_VIDEO] = {"video",
                      "videos/reference-video",
                      UPLOAD_MAX_BYTES,
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

/* Records a refusal as the contract error e (in *err) and a detail; returns HH_ERR_INVALID. */
#define REFUSE(e, f, ...) (*err = (e), hh_errdetail_set(d, HH_ERR_INVALID, (f), __VA_ARGS__))

/* Longest an echoed client string may be in a message, in bytes (cut on a character boundary). */
#define ECHO_MAX 60

hh_status upload_request_parse(const json_t *body, upload_request *out, api_error *err,
                               hh_errdetail *d)
{
    const char *key;
    json_t *val;
    hh_errdetail_clear(d);
    json_object_foreach((json_t *)body, key, val)
    {
        if (strcmp(key, "kind") && strcmp(key, "contentType") && strcmp(key, "sizeBytes"))
            return REFUSE(API_ERR_INVALID_INPUT, key, "Unknown field \"%.*s\".",
                          (int)hh_utf8_prefix(key, ECHO_MAX), key);
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
        return REFUSE(API_ERR_INVALID_INPUT, "kind", "kind must be image, video or audio.");
    json_t *size = json_object_get(body, "sizeBytes");
    if (!json_is_integer(size) || json_integer_value(size) <= 0)
        return REFUSE(API_ERR_INVALID_INPUT, "sizeBytes",
                      "sizeBytes must be a positive integer: the exact size of the file.");
    out->size_bytes = json_integer_value(size);
    json_t *type = json_object_get(body, "contentType");
    if (!json_is_string(type))
        return REFUSE(API_ERR_INVALID_INPUT, "contentType", "contentType must be a string.");
    out->content_type = NULL;
    for (int t = 0; t < 4 && kinds[out->kind].types[t].type; t++)
        if (!strcmp(json_string_value(type), kinds[out->kind].types[t].type)) {
            out->content_type = kinds[out->kind].types[t].type;
            out->ext = kinds[out->kind].types[t].ext;
        }
    if (!out->content_type) {
        const char *t = json_string_value(type);
        return REFUSE(API_ERR_UPLOAD_TYPE_NOT_SUPPORTED, "contentType",
                      "Content type \"%.*s\" is not accepted for %s uploads.",
                      (int)hh_utf8_prefix(t, ECHO_MAX), t, kinds[out->kind].name);
    }
    if (out->size_bytes > kinds[out->kind].max)
        return REFUSE(API_ERR_UPLOAD_FILE_TOO_LARGE, "sizeBytes",
                      "%s uploads are limited to %lld MB.", kinds[out->kind].name,
                      (long long)(kinds[out->kind].max / UPLOAD_MB));
    return HH_OK;
}

void upload_key(const upload_request *r, const char *user_id, const char *asset_id, char *out,
                size_t size)
{
    snprintf(out, size, "%s/%s/%s.%s", kinds[r->kind].prefix, user_id, asset_id, r->ext);
}

static hh_status id_key(const char *fmt_prefix, const char *id, const char *ext, char *out,
                        size_t size)
{
    if (!uuid_is_valid(id))
        return HH_ERR_INVALID;
    int n = snprintf(out, size, "%s/%s.%s", fmt_prefix, id, ext);
    return n < 0 || (size_t)n >= size ? HH_ERR_LIMIT : HH_OK;
}

hh_status upload_output_key(const char *video_id, char *out, size_t size)
{
    return id_key("videos/outputs", video_id, "mp4", out, size);
}

hh_status upload_thumbnail_key(const char *video_id, char *out, size_t size)
{
    return id_key("videos/thumbnails", video_id, "jpg", out, size);
}

const char *upload_ext_of_type(const char *content_type)
{
    for (int k = 0; content_type && k < UPLOAD_KIND_COUNT; k++)
        for (int t = 0; t < 4 && kinds[k].types[t].type; t++)
            if (!strcmp(content_type, kinds[k].types[t].type))
                return kinds[k].types[t].ext;
    return NULL;
}

/* Reads a canonical UUID at *p followed by the character end; advances past both. */
static int take_uuid(const char **p, char end)
{
    char id[UUID_STR_LEN];
    const char *stop = strchr(*p, end);
    if (!stop || stop - *p != UUID_STR_LEN - 1)
        return 0;
    memcpy(id, *p, UUID_STR_LEN - 1);
    id[UUID_STR_LEN - 1] = '\0';
    if (!uuid_is_valid(id))
        return 0;
    *p = stop + 1;
    return 1;
}

/* 1 if ext is one of kind's extensions. */
static int ext_of_kind(upload_kind k, const char *ext)
{
    for (int t = 0; t < 4 && kinds[k].types[t].type; t++)
        if (!strcmp(ext, kinds[k].types[t].ext))
            return 1;
    return 0;
}

upload_key_class upload_key_classify(const char *key)
{
    if (!key || strlen(key) >= UPLOAD_KEY_MAX)
        return UPLOAD_KEY_INVALID;
    static const struct {
        const char *prefix;
        upload_key_class cls;
    } outputs[] = {{"videos/outputs/", UPLOAD_KEY_OUTPUT},
                   {"videos/thumbnails/", UPLOAD_KEY_THUMBNAIL}};
    for (size_t i = 0; i < sizeof outputs / sizeof *outputs; i++) {
        size_t n = strlen(outputs[i].prefix);
        const char *p = key + n;
        if (strncmp(key, outputs[i].prefix, n) || !take_uuid(&p, '.'))
            continue;
        return !strcmp(p, outputs[i].cls == UPLOAD_KEY_OUTPUT ? "mp4" : "jpg") ? outputs[i].cls
                                                                               : UPLOAD_KEY_INVALID;
    }
    for (int k = 0; k < UPLOAD_KIND_COUNT; k++) {
        size_t n = strlen(kinds[k].prefix);
        const char *p = key + n;
        if (strncmp(key, kinds[k].prefix, n) || *p++ != '/')
            continue;
        if (!take_uuid(&p, '/') || !take_uuid(&p, '.') || !ext_of_kind((upload_kind)k, p))
            return UPLOAD_KEY_INVALID;
        return (upload_key_class)(UPLOAD_KEY_IMAGE + k);
    }
    return UPLOAD_KEY_INVALID;
}

const char *upload_key_content_type(const char *key)
{
    static const char *const thumb = "image/jpeg", *const output = "video/mp4";
    upload_key_class c = upload_key_classify(key);
    if (c == UPLOAD_KEY_INVALID)
        return NULL;
    if (c == UPLOAD_KEY_OUTPUT)
        return output;
    if (c == UPLOAD_KEY_THUMBNAIL)
        return thumb;
    const char *ext = strrchr(key, '.') + 1;
    upload_kind k = (upload_kind)(c - UPLOAD_KEY_IMAGE);
    /* The first type with this extension is the registered one (audio/mpeg before audio/mp3). */
    for (int t = 0; t < 4 && kinds[k].types[t].type; t++)
        if (!strcmp(ext, kinds[k].types[t].ext))
            return kinds[k].types[t].type;
    return NULL;
}
