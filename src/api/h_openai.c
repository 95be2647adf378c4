/*
 * h_openai.c - the OpenAI-compatible surface /v1/videos, for clients and
 * gateways written against OpenAI's Videos API (the official SDKs'
 * videos.create, retrieve, list, delete, downloadContent).
 *
 * Only the shapes are OpenAI's: the keys, credits, plans, rate limits and
 * every check are the Customer API's, through api/videos.h. A request is
 * mapped onto ours (seconds -> durationSec; size "1280x720" -> aspectRatio
 * and resolution by the contract's frame size table; input_reference ->
 * sourceImageKey, a file sent in the form stored as an upload first), then
 * parsed by the same video_request_parse; a video is mapped back (statuses
 * queued, in_progress, completed, failed; Unix-second times). Errors are
 * replied as everywhere and reshaped by api_openai_error_shape into
 * OpenAI's {"error":{"message","type","param","code"}}, on these routes
 * only (HTTP_ROUTE_ERROR_SHAPE), with our codes and HTTP statuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/app.h"
#include "api/dashboard.h"
#include "api/routes.h"
#include "api/videos.h"
#include "domain/video_request.h"
#include "util/errdetail.h"
#include "util/uuid.h"

#define OAI_MODEL        "happyhorse" /* the plan picks the engine; the model field is echoed so */
#define OAI_FIELD_MAX    (16 * 1024)  /* bytes of one plain form field (a prompt fits 4 times) */
#define OAI_DEFAULT_SECS 4            /* OpenAI's defaults when a field is absent */
#define OAI_DEFAULT_SIZE "720x1280"

/* ---- errors ---- */

/* Our field names as the parameter names of this surface. */
static const char *oai_param(const char *field)
{
    static const char *const map[][2] = {
        {"durationSec", "seconds"},
        {"aspectRatio", "size"},
        {"resolution", "size"},
        {"sourceImageKey", "input_reference"},
        {"sourceImage", "input_reference"},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(field, map[i][0]))
            return map[i][1];
    return field;
}

/* OpenAI's error type for an HTTP status. */
static const char *oai_error_type(unsigned status)
{
    switch (status) {
    case 401:
        return "authentication_error";
    case 402:
        return "insufficient_quota";
    case 403:
        return "permission_error";
    case 429:
        return "rate_limit_error";
    default:
        return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

json_t *api_openai_error_shape(unsigned status, json_t *body)
{
    json_t *err = json_object_get(body, "error");
    const char *code = json_string_value(json_object_get(err, "code"));
    const char *message = json_string_value(json_object_get(err, "message"));
    /* A param set by this file is already in this surface's names; a field is ours. */
    const char *param = json_string_value(json_object_get(err, "param"));
    const char *field = json_string_value(json_object_get(err, "field"));
    if (!param && field && *field)
        param = oai_param(field);
    json_t *out =
        json_pack("{s:{s:s, s:s, s:s?, s:s}}", "error", "message", message ? message : "", "type",
                  oai_error_type(status), "param", param, "code", code ? code : "");
    json_decref(body);
    return out;
}

/* invalid_input naming param, a name of this surface (never mapped). */
static void oai_reply_invalid(http_req *req, const char *param, const char *message)
{
    http_reply_error(req, API_ERR_INVALID_INPUT, message,
                     param && *param ? json_pack("{s:s}", "param", param) : NULL);
}

/* ---- the video object ---- */

/* "1280x720" for a video's aspect ratio and resolution names; "" when they are unknown. */
static void oai_size_of(const hh_video *v, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int r = 0; r < HH_RES_COUNT; r++)
        for (int a = 0; a < HH_ASPECT_COUNT; a++) {
            int w, h;
            if (!strcmp(v->resolution, video_resolution_name((hh_resolution)r)) &&
                !strcmp(v->aspect_ratio, video_aspect_name((hh_aspect)a)) &&
                !video_frame_size((hh_resolution)r, (hh_aspect)a, &w, &h))
                snprintf(buf, size, "%dx%d", w, h);
        }
}

/* OpenAI's video object for v. New reference, NULL when out of memory. */
static json_t *oai_video(const hh_video *v)
{
    static const char *const status[] = {"queued", "in_progress", "completed", "failed"};
    const char *st =
        (unsigned)v->status < sizeof status / sizeof *status ? status[v->status] : "failed";
    char secs[16], size[32];
    snprintf(secs, sizeof secs, "%d", v->duration_sec);
    oai_size_of(v, size, sizeof size);
    /* OpenAI's statuses have no canceled: it is failed there, with our word for why. */
    json_t *error = v->status == HH_VIDEO_FAILED
                        ? json_pack("{s:s, s:s}", "code", "generation_failed", "message",
                                    v->error_message ? v->error_message : "")
                    : v->status == HH_VIDEO_CANCELED
                        ? json_pack("{s:s, s:s}", "code", "canceled", "message",
                                    "The video was canceled (POST /api/v1/videos/{id}/cancel).")
                        : json_null();
    json_t *done = v->ready_at ? json_integer(v->ready_at / 1000) : json_null();
    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:o, s:n, s:s, s:s, s:s, s:n, s:o}", "id",
                     v->id, "object", "video", "model", OAI_MODEL, "status", st, "progress",
                     v->status == HH_VIDEO_READY ? 100 : v->progress, "created_at",
                     (json_int_t)(v->created_at / 1000), "completed_at", done, "expires_at",
                     "prompt", v->prompt, "seconds", secs, "size", size, "remixed_from_video_id",
                     "error", error);
}

/* Replies 200 with the video id of p's account as OpenAI's object (or the read's error). */
static void reply_video(hh_app *app, http_req *req, const api_principal *p, const char *id)
{
    hh_video v;
    if (api_video_read(app, req, id, p->user.id, &v))
        return;
    http_reply_json(req, 200, oai_video(&v));
    store_video_clear(&v);
}

/* ---- create: the body ---- */

/* A file sent in the form: input_reference's bytes and type. */
typedef struct oai_file {
    char *data;
    size_t len, cap;
    char content_type[128];
    int present;
} oai_file;

/* What the form parser gathers: plain fields as JSON strings, the file, the first refusal. */
typedef struct oai_form {
    json_t *fields;
    char name[64]; /* the plain field being read; "" when none */
    char *val;
    size_t val_len, val_cap;
    oai_file file;
    char bad[64]; /* the field refused ("" when none) */
    const char *why;
} oai_form;

static int form_refuse(oai_form *f, const char *name, const char *why)
{
    snprintf(f->bad, sizeof f->bad, "%s", name);
    f->why = why;
    return 1;
}

/* Appends len bytes to *buf (of *n bytes, room *cap); 0, or 1 out of memory. */
static int append(char **buf, size_t *n, size_t *cap, const char *data, size_t len)
{
    if (*n + len + 1 > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < *n + len + 1)
            c *= 2;
        char *b = realloc(*buf, c);
        if (!b)
            return 1;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *n, data, len);
    *n += len;
    (*buf)[*n] = '\0';
    return 0;
}

/* The plain field read so far goes into f->fields; 0, or 1 when refused. */
static int form_flush(oai_form *f)
{
    if (!f->name[0])
        return 0;
    json_t *s = json_stringn(f->val ? f->val : "", f->val_len);
    int refused = 0;
    if (!s)
        refused = form_refuse(f, f->name, "is not valid UTF-8.");
    else if (json_object_get(f->fields, f->name))
        refused = form_refuse(f, f->name, "is given more than once.");
    else
        json_object_set(f->fields, f->name, s);
    json_decref(s);
    f->name[0] = '\0';
    f->val_len = 0;
    return refused;
}

static int form_piece(void *ctx, const char *name, const char *filename, const char *content_type,
                      const char *data, uint64_t off, size_t size)
{
    oai_form *f = ctx;
    if (filename) {
        if (strcmp(name, "input_reference"))
            return form_refuse(f, name, "is not a file field of this request.");
        if (off == 0 && f->file.present)
            return form_refuse(f, name, "is given more than once.");
        if (off == 0 && form_flush(f))
            return 1;
        f->file.present = 1;
        if (off == 0)
            snprintf(f->file.content_type, sizeof f->file.content_type, "%s",
                     content_type ? content_type : "");
        return append(&f->file.data, &f->file.len, &f->file.cap, data, size)
                   ? form_refuse(f, name, "could not be read (out of memory).")
                   : 0;
    }
    if (off == 0) {
        if (form_flush(f))
            return 1;
        if (strlen(name) >= sizeof f->name)
            return form_refuse(f, "", "A form field's name is too long.");
        snprintf(f->name, sizeof f->name, "%s", name);
    }
    if (f->val_len + size > OAI_FIELD_MAX)
        return form_refuse(f, name, "is too long.");
    return append(&f->val, &f->val_len, &f->val_cap, data, size)
               ? form_refuse(f, name, "could not be read (out of memory).")
               : 0;
}

/* "1280x720" -> the contract's resolution and aspect of that frame size; 0, or -1 for none. */
static int oai_size_parse(const char *s, hh_resolution *res, hh_aspect *aspect)
{
    char want[32];
    for (int r = 0; r < HH_RES_COUNT; r++)
        for (int a = 0; a < HH_ASPECT_COUNT; a++) {
            int w, h;
            if (video_frame_size((hh_resolution)r, (hh_aspect)a, &w, &h))
                continue;
            snprintf(want, sizeof want, "%dx%d", w, h);
            if (!strcmp(s, want)) {
                *res = (hh_resolution)r;
                *aspect = (hh_aspect)a;
                return 0;
            }
        }
    return -1;
}

/* seconds as OpenAI sends it (a string of digits) or as a JSON integer; -1 when neither. */
static long oai_seconds(const json_t *v)
{
    if (json_is_integer(v))
        return (long)json_integer_value(v);
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 4 || strspn(s, "0123456789") != n)
        return -1;
    return strtol(s, NULL, 10);
}

/*
 * Maps the OpenAI fields of in onto a body of ours (ours: an empty object)
 * for video_request_parse. HH_OK, or HH_ERR_INVALID with d naming the
 * field refused.
 * input_reference here is the JSON form {"file_id": "<upload key>"}.
 */
static hh_status oai_map(json_t *in, json_t *ours, hh_errdetail *d)
{
    const char *name;
    json_t *v;
    json_t *secs = json_object_get(in, "seconds");
    json_t *size = json_object_get(in, "size");
    long n = secs ? oai_seconds(secs) : OAI_DEFAULT_SECS;
    hh_resolution res;
    hh_aspect aspect;
    json_object_foreach(in, name, v)
    {
        if (!strcmp(name, "prompt")) {
            json_object_set(ours, "prompt", v);
        } else if (!strcmp(name, "model")) {
            if (!json_is_string(v))
                return hh_errdetail_set(d, HH_ERR_INVALID, "model", "%s",
                                        "model must be a string.");
        } else if (!strcmp(name, "input_reference")) {
            json_t *file_id = json_object_get(v, "file_id");
            if (!json_is_object(v) || json_object_size(v) != 1 || !json_is_string(file_id))
                return hh_errdetail_set(d, HH_ERR_INVALID, "input_reference", "%s",
                                        "input_reference must be a file in a multipart request, or "
                                        "{\"file_id\": \"<key of an image upload>\"}; image_url is "
                                        "not fetched.");
            json_object_set(ours, "sourceImageKey", file_id);
        } else if (strcmp(name, "seconds") && strcmp(name, "size")) {
            return hh_errdetail_set(d, HH_ERR_INVALID, name, "Unknown field '%.60s'.", name);
        }
    }
    if (n < 0)
        return hh_errdetail_set(d, HH_ERR_INVALID, "seconds", "%s",
                                "seconds must be a whole number of seconds, e.g. \"4\".");
    if (oai_size_parse(size ? (json_string_value(size) ? json_string_value(size) : "")
                            : OAI_DEFAULT_SIZE,
                       &res, &aspect))
        return hh_errdetail_set(d, HH_ERR_INVALID, "size", "%s",
                                "size must be one of 1280x720, 720x1280, 720x720, 1920x1080, "
                                "1080x1920, 1080x1080.");
    json_object_set_new(ours, "durationSec", json_integer(n));
    json_object_set_new(ours, "aspectRatio", json_string(video_aspect_name(aspect)));
    json_object_set_new(ours, "resolution", json_string(video_resolution_name(res)));
    return HH_OK;
}

/* Whether the request's Content-Type is a form (multipart or urlencoded). */
static int is_form(http_req *req)
{
    const char *ct = http_req_header(req, "Content-Type");
    return ct && (!strncasecmp(ct, "multipart/form-data", 19) ||
                  !strncasecmp(ct, "application/x-www-form-urlencoded", 33));
}

static void form_clear(oai_form *f)
{
    json_decref(f->fields);
    free(f->val);
    free(f->file.data);
}

/* POST /v1/videos: JSON or a form, with input_reference as a file. 200 with the video. */
void h_openai_videos_create(http_req *req, void *app_)
{
    hh_app *app = app_;
    const api_principal *p = api_principal_of(req);
    oai_form f = {.fields = json_object()};
    json_t *ours = json_object(), *in = NULL;
    hh_video_request *vr = malloc(sizeof *vr);
    hh_errdetail d;
    hh_errdetail_clear(&d);
    char id[HH_ID_LEN], key[HH_KEY_MAX], msg[160];
    if (!f.fields || !ours || !vr) {
        http_reply_error(req, API_ERR_INTERNAL_ERROR, "Out of memory.", NULL);
        goto out;
    }
    if (is_form(req)) {
        hh_status rc = http_req_form(req, form_piece, &f);
        if (!rc && form_flush(&f))
            rc = HH_ERR_CANCELED;
        if (rc == HH_ERR_CANCELED && f.bad[0]) {
            snprintf(msg, sizeof msg, "%s %s", f.bad, f.why);
            oai_reply_invalid(req, f.bad, msg);
            goto out;
        }
        if (rc) {
            http_reply_error(req, API_ERR_INVALID_INPUT, f.why ? f.why : "Malformed form body.",
                             NULL);
            goto out;
        }
        in = f.fields;
    } else if (!(in = http_req_json(req))) {
        goto out;
    }
    if (oai_map(in, ours, &d)) { /* d names a field of this surface */
        oai_reply_invalid(req, d.field, d.message);
        goto out;
    }
    if (video_request_parse(ours, HH_VR_API, vr, &d)) { /* d names one of ours */
        http_reply_error(req, API_ERR_INVALID_INPUT, d.message,
                         d.field[0] ? json_pack("{s:s}", "field", d.field) : NULL);
        goto out;
    }
    /* The file is stored only once the rest is known good, as an upload of this account. */
    if (f.file.present) {
        if (api_upload_bytes(app, req, p->user.id, "image", f.file.content_type, f.file.data,
                             f.file.len, "input_reference", key))
            goto out;
        snprintf(vr->ref[HH_REF_SOURCE_IMAGE], sizeof vr->ref[HH_REF_SOURCE_IMAGE], "%s", key);
    }
    if (!api_video_create(app, req, p, vr, http_req_header(req, "Idempotency-Key"), id))
        reply_video(app, req, p, id);
out:
    free(vr);
    json_decref(ours);
    form_clear(&f);
}

/* GET /v1/videos/{id} */
void h_openai_videos_get(http_req *req, void *app_)
{
    reply_video(app_, req, api_principal_of(req), http_req_param(req, "id"));
}

/* GET /v1/videos/{id}/content?variant=video|thumbnail: the bytes of a completed video. */
void h_openai_videos_content(http_req *req, void *app_)
{
    hh_app *app = app_;
    const api_principal *p = api_principal_of(req);
    const char *variant = http_req_query(req, "variant");
    hh_video v;
    if (variant && strcmp(variant, "video") && strcmp(variant, "thumbnail")) {
        oai_reply_invalid(req, "variant", "variant must be video or thumbnail.");
        return;
    }
    if (api_video_read(app, req, http_req_param(req, "id"), p->user.id, &v))
        return;
    int thumb = variant && !strcmp(variant, "thumbnail");
    if (v.status != HH_VIDEO_READY) {
        oai_reply_invalid(req, "id", "The video is not completed yet.");
    } else if (api_files_serve(app, req, thumb ? v.thumbnail_key : v.video_key)) {
        /* Not served through us (S3): the object's own URL has it. */
        char url[1024];
        http_req_add_header(
            req, "Location",
            blob_public_url(app->blob, thumb ? v.thumbnail_key : v.video_key, url, sizeof url));
        http_reply_bytes(req, 302, NULL, NULL, 0);
    }
    store_video_clear(&v);
}

static json_t *list_item(hh_app *app, const hh_video *v)
{
    (void)app;
    return oai_video(v);
}

/*
 * GET /v1/videos?after=<video id>&limit=N&order=desc: OpenAI's list page
 * {"object":"list","data","first_id","last_id","has_more"}, newest first,
 * read by the Customer API's pager (keyset on the id, so after is an id).
 */
void h_openai_videos_list(http_req *req, void *app_)
{
    hh_app *app = app_;
    const api_principal *p = api_principal_of(req);
    long long limit;
    if (dashboard_query_int(req, "limit", 1, API_LIST_LIMIT_MAX, API_LIST_LIMIT_DEFAULT, &limit))
        return;
    const char *after = http_req_query(req, "after"), *order = http_req_query(req, "order");
    if (after && !uuid_is_valid(after)) {
        oai_reply_invalid(req, "after", "after must be the id of a video.");
        return;
    }
    if (order && strcmp(order, "desc")) {
        oai_reply_invalid(req, "order", "order must be desc (newest first).");
        return;
    }
    json_t *arr = NULL;
    char last[HH_ID_LEN];
    hh_video_filter f = {after, HH_VIDEO_ANY, NULL, 0};
    if (api_video_page(app, req, p->user.id, &f, (int)limit, list_item, &arr, last))
        return;
    size_t n = json_array_size(arr);
    json_t *first_id =
        n ? json_deep_copy(json_object_get(json_array_get(arr, 0), "id")) : json_null();
    json_t *last_id =
        n ? json_deep_copy(json_object_get(json_array_get(arr, n - 1), "id")) : json_null();
    http_req_add_header(req, "Cache-Control", "no-store");
    http_reply_json(req, 200,
                    json_pack("{s:s, s:o, s:o, s:o, s:b}", "object", "list", "data", arr,
                              "first_id", first_id, "last_id", last_id, "has_more",
                              last[0] != '\0'));
}

/* DELETE /v1/videos/{id}: the Customer API's delete, answered as OpenAI's deletion object. */
void h_openai_videos_delete(http_req *req, void *app_)
{
    const char *id = http_req_param(req, "id");
    if (!api_video_delete(app_, req, api_principal_of(req)->user.id))
        http_reply_json(
            req, 200,
            json_pack("{s:s, s:s, s:b}", "id", id, "object", "video.deleted", "deleted", 1));
}
