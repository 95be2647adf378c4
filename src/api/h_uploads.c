/*
 * h_uploads.c - POST /api/v1/uploads/presign and the signed PUT of local
 * storage (contract section 2).
 *
 * The PUT is a streaming route: the signature, expiry, type and length are
 * checked on the headers before a byte of body is read; the body goes
 * straight to a blob writer (never whole in memory), its first bytes are
 * checked against the type's magic numbers, and only a body that arrived
 * whole becomes an object and completes the upload. Anything else aborts
 * the writer, so a refused or broken upload leaves nothing behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/routes.h"
#include "api/videos.h"
#include "blob/receiver.h"
#include "domain/upload_policy.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/uuid.h"

/*
 * Fills up for a new upload of user_id as ur describes: a fresh key, its
 * kind and type, the URL's expiry. Returns that expiry (Unix seconds), or
 * 0 when no id could be made.
 */
static int64_t upload_describe(hh_app *app, const char *user_id, const upload_request *ur,
                               hh_upload *up)
{
    char asset[HH_ID_LEN];
    memset(up, 0, sizeof *up);
    if (uuid_v7(asset))
        return 0;
    up->size_bytes = ur->size_bytes;
    upload_key(ur, user_id, asset, up->key, sizeof up->key);
    memcpy(up->user_id, user_id, HH_ID_LEN);
    snprintf(up->kind, sizeof up->kind, "%s", upload_kind_name(ur->kind));
    snprintf(up->content_type, sizeof up->content_type, "%s", ur->content_type);
    int64_t expires = hh_time_now_ms() / 1000 + app->upload_ttl_s;
    up->expires_at = expires * 1000;
    return expires;
}

void h_uploads_presign(http_req *req, void *app_)
{
    hh_app *app = app_;
    const api_principal *p = api_principal_of(req);
    json_t *body = http_req_json(req);
    if (!body)
        return;
    upload_request ur;
    api_error err;
    hh_errdetail d;
    if (upload_request_parse(body, &ur, &err, &d)) {
        http_reply_error(req, err, d.message,
                         d.field[0] ? json_pack("{s:s}", "field", d.field) : NULL);
        return;
    }
    hh_upload up;
    char url[1024], pub[1024];
    int64_t expires = upload_describe(app, p->user.id, &ur, &up);
    hh_status rc = expires ? blob_presign_put(app->blob, up.key, up.content_type, up.size_bytes,
                                              expires, url, sizeof url)
                           : HH_ERR_INTERNAL;
    if (!rc)
        rc = store_upload_create(app->store, &up);
    if (rc) {
        http_reply_error(req, api_error_from_status(rc == HH_ERR_BUSY ? rc : HH_ERR_INTERNAL),
                         "Could not record the upload.", NULL);
        return;
    }
    http_reply_json(req, 200,
                    json_pack("{s:s, s:s, s:s, s:s}", "uploadUrl", url, "key", up.key, "publicUrl",
                              blob_public_url(app->blob, up.key, pub, sizeof pub), "kind",
                              up.kind));
}

/*
 * The commit of an upload is two steps: the object is linked into place
 * (only after the whole body arrived and matched), then the row is marked
 * complete. A crash between them left an object with a pending row: every
 * PUT refused as "already complete" and every create as "not uploaded
 * completely", for ever. Whoever meets a pending upload finishes the
 * commit if its object is there whole (the link is the proof), and removes
 * an object of the wrong size. Updates up. 0, or the store's failure.
 */
static hh_status upload_reconcile(hh_app *app, hh_upload *up)
{
    blob_info info;
    if (up->complete || blob_stat(app->blob, up->key, &info))
        return HH_OK;
    if ((int64_t)info.size != up->size_bytes) {
        hh_log_fields(HH_LOG_WARN, "upload: an object of the wrong size removed",
                      json_pack("{s:s}", "key", up->key));
        return blob_remove(app->blob, up->key);
    }
    hh_status rc = store_upload_complete(app->store, up->key);
    if (rc && rc != HH_ERR_CONFLICT)
        return rc;
    hh_log_fields(HH_LOG_INFO, "upload: commit finished after a crash",
                  json_pack("{s:s}", "key", up->key));
    up->complete = 1;
    return HH_OK;
}

/* ---- the signed PUT ---- */

typedef struct put_state {
    hh_upload up;
    blob_receiver *rx;   /* open until finished or aborted */
    keycount *in_flight; /* set while this request holds the upload's one body slot */
} put_state;

static void put_state_free(void *p)
{
    put_state *ps = p;
    blob_receiver_free(ps->rx); /* throws an unfinished body away */
    if (ps->in_flight)
        keycount_release(ps->in_flight, ps->up.key);
    free(ps);
}

static hh_status refuse(http_req *req, unsigned status, api_error code, const char *msg)
{
    const char *key = http_req_tail(req);
    hh_log_fields(
        HH_LOG_INFO, "upload refused",
        json_pack("{s:o, s:i, s:s}", "key", hh_log_text(key), "status", (int)status, "why", msg));
    http_reply_error_status(req, status, code, msg, NULL);
    return HH_ERR_INVALID;
}

/* Signature, expiry, state, type and length: all decided on the headers. */
static hh_status check_put(hh_app *app, http_req *req, hh_upload *up)
{
    const char *key = http_req_tail(req);
    const char *sig = http_req_query(req, "sig");
    const char *exp = http_req_query(req, "expires");
    char *end = NULL;
    long long expires = exp ? strtoll(exp, &end, 10) : 0;
    upload_key_class cls = upload_key_classify(key);
    if (cls < UPLOAD_KEY_IMAGE || cls > UPLOAD_KEY_AUDIO || !sig || !exp || !*exp || *end)
        return refuse(req, 403, API_ERR_INVALID_INPUT, "The upload URL's signature is not valid.");
    hh_status rc = store_upload_get(app->store, key, up);
    if (rc && rc != HH_ERR_NOTFOUND)
        return refuse(req, api_error_http_status(api_error_from_status(rc)),
                      api_error_from_status(rc), "Could not read the upload.");
    if (rc || up->expires_at / 1000 != expires)
        return refuse(req, 403, API_ERR_INVALID_INPUT, "The upload URL's signature is not valid.");
    if ((rc = upload_reconcile(app, up)))
        return refuse(req, api_error_http_status(api_error_from_status(rc)),
                      api_error_from_status(rc), "Could not read the upload.");
    rc = blob_check_put(app->blob, up->key, up->content_type, up->size_bytes, expires, sig,
                        hh_time_now_ms() / 1000);
    if (rc == HH_ERR_LIMIT)
        return refuse(req, 403, API_ERR_INVALID_INPUT, "The upload URL has expired.");
    if (rc)
        return refuse(req, 403, API_ERR_INVALID_INPUT, "The upload URL's signature is not valid.");
    if (up->complete)
        return refuse(req, 409, API_ERR_INVALID_INPUT, "This upload is already complete.");
    const char *type = http_req_header(req, "Content-Type");
    if (!type || strcmp(type, up->content_type))
        return refuse(req, 400, API_ERR_INVALID_INPUT,
                      "Content-Type must be the one given at presign.");
    if (http_req_content_length(req) != up->size_bytes)
        return refuse(req, 400, API_ERR_INVALID_INPUT,
                      "Content-Length must be exactly the sizeBytes given at presign.");
    return HH_OK;
}

static hh_status put_begin(http_req *req, void *app_)
{
    hh_app *app = app_;
    put_state *ps = calloc(1, sizeof *ps);
    if (!ps)
        return refuse(req, 500, API_ERR_INTERNAL_ERROR, "Out of memory.");
    http_req_set_user(req, ps, put_state_free);
    hh_status rc = check_put(app, req, &ps->up);
    if (rc)
        return rc;
    /* One body at a time per upload: a second PUT while one streams is refused at once, so a
     * single URL cannot hold a thousand connections and temporary files. */
    int slot = keycount_take(app->uploads_in_flight, ps->up.key, 1);
    if (slot < 0)
        return refuse(req, 500, API_ERR_INTERNAL_ERROR, "Out of memory.");
    if (slot == 0)
        return refuse(req, 409, API_ERR_INVALID_INPUT,
                      "An upload to this URL is already in progress.");
    ps->in_flight = app->uploads_in_flight;
    if (blob_receiver_new(app->blob, ps->up.key, ps->up.content_type, ps->up.size_bytes, &ps->rx))
        return refuse(req, 500, API_ERR_INTERNAL_ERROR, "Could not store the upload.");
    return HH_OK;
}

/* The reply for a receiver's refusal. */
static void refuse_body(http_req *req, const blob_receiver *rx)
{
    switch (blob_receiver_refusal(rx)) {
    case BLOB_REFUSE_TOO_LONG:
        refuse(req, 400, API_ERR_INVALID_INPUT, "The body is longer than sizeBytes.");
        break;
    case BLOB_REFUSE_TOO_SHORT:
        refuse(req, 400, API_ERR_INVALID_INPUT, "The body is shorter than sizeBytes.");
        break;
    case BLOB_REFUSE_WRONG_TYPE:
        refuse(req, 400, API_ERR_UPLOAD_TYPE_NOT_SUPPORTED,
               "The file's contents are not of the declared content type.");
        break;
    case BLOB_REFUSE_EXISTS:
        refuse(req, 409, API_ERR_INVALID_INPUT, "This upload is already complete.");
        break;
    default:
        refuse(req, 500, API_ERR_INTERNAL_ERROR, "Could not store the upload.");
    }
}

static hh_status put_data(http_req *req, void *app_, const char *data, size_t len)
{
    put_state *ps = http_req_user(req);
    hh_status rc = blob_receiver_feed(ps->rx, data, len);
    if (rc)
        refuse_body(req, ps->rx);
    return rc;
}

static void put_end(http_req *req, void *app_)
{
    hh_app *app = app_;
    put_state *ps = http_req_user(req);
    if (blob_receiver_finish(ps->rx)) {
        refuse_body(req, ps->rx);
        return;
    }
    hh_status rc = store_upload_complete(app->store, ps->up.key);
    if (rc == HH_ERR_CONFLICT) {
        refuse(req, 409, API_ERR_INVALID_INPUT, "This upload is already complete.");
        return;
    }
    if (rc) {
        /* The object is there but not marked complete: remove it so the state stays one. */
        blob_remove(app->blob, ps->up.key);
        api_error e = api_error_from_status(rc == HH_ERR_BUSY ? rc : HH_ERR_INTERNAL);
        refuse(req, api_error_http_status(e), e, "Could not complete the upload.");
        return;
    }
    http_reply_json(req, 200,
                    json_pack("{s:s, s:I, s:s}", "key", ps->up.key, "sizeBytes",
                              (json_int_t)ps->up.size_bytes, "contentType", ps->up.content_type));
}

static void put_abort(http_req *req, void *app_)
{
    put_state *ps = http_req_user(req);
    if (ps && ps->rx) {
        hh_log_fields(HH_LOG_INFO, "upload aborted",
                      json_pack("{s:s, s:I}", "key", ps->up.key, "received",
                                (json_int_t)blob_receiver_received(ps->rx)));
        blob_receiver_free(ps->rx);
        ps->rx = NULL;
    }
}

const http_stream_ops h_uploads_put_ops = {
    .on_begin = put_begin,
    .on_data = put_data,
    .on_end = put_end,
    .on_abort = put_abort,
};

int api_upload_bytes(hh_app *app, http_req *req, const char *user_id, const char *kind,
                     const char *content_type, const void *data, size_t len, const char *field,
                     char key[HH_KEY_MAX])
{
    json_t *desc = json_pack("{s:s, s:s, s:I}", "kind", kind, "contentType",
                             content_type ? content_type : "", "sizeBytes", (json_int_t)len);
    upload_request ur;
    api_error err;
    hh_errdetail d;
    hh_upload up;
    blob_receiver *rx = NULL;
    hh_status rc;
    int failed = 1;
    if (!desc) {
        http_reply_error(req, API_ERR_INTERNAL_ERROR, "Out of memory.", NULL);
        goto out;
    }
    /* The presign's rules (type, size) decide; the field named is the caller's. */
    if (upload_request_parse(desc, &ur, &err, &d)) {
        http_reply_error(req, err, d.message, json_pack("{s:s}", "field", field));
        goto out;
    }
    rc = upload_describe(app, user_id, &ur, &up) ? store_upload_create(app->store, &up)
                                                 : HH_ERR_INTERNAL;
    if (!rc)
        rc = blob_receiver_new(app->blob, up.key, up.content_type, up.size_bytes, &rx);
    if (rc) {
        http_reply_error(req, api_error_from_status(rc == HH_ERR_BUSY ? rc : HH_ERR_INTERNAL),
                         "Could not store the upload.", NULL);
        goto out;
    }
    /* The bytes go through the receiver as a PUT's would: sniffed, whole or not at all. */
    if (blob_receiver_feed(rx, data, len) || blob_receiver_finish(rx)) {
        refuse_body(req, rx);
        goto out;
    }
    if ((rc = store_upload_complete(app->store, up.key))) {
        blob_remove(app->blob, up.key);
        http_reply_error(req, api_error_from_status(rc == HH_ERR_BUSY ? rc : HH_ERR_INTERNAL),
                         "Could not complete the upload.", NULL);
        goto out;
    }
    snprintf(key, HH_KEY_MAX, "%s", up.key);
    failed = 0;
out:
    blob_receiver_free(rx);
    json_decref(desc);
    return failed;
}
