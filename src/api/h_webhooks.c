/*
 * h_webhooks.c - webhook endpoints (Standard Webhooks) of the Customer API
 * (docs/customer-api.md, an addition):
 *   POST   /api/v1/webhooks {"url", "events"?}  -> 201 with the signing
 *                                                  secret, shown this once
 *   GET    /api/v1/webhooks                     -> {"data": [endpoint]}
 *   DELETE /api/v1/webhooks/{id}                -> 204
 *   GET    /api/v1/webhooks/{id}/deliveries     -> {"data": [attempt]}
 * The dashboard points its session routes at the same handlers. Sending
 * is webhook_dispatch.c's; the outbox rows are the store's, written with
 * each status change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api/dashboard.h"
#include "api/webhook_dispatch.h"
#include "http/http_client.h"
#include "store/store_json.h"
#include "util/crypto.h"

/* The events of bits as a JSON array of names. New reference. */
static json_t *events_json(unsigned bits)
{
    json_t *arr = json_array();
    for (unsigned b = 1; arr && b <= HH_HOOK_EVENTS_ALL; b <<= 1)
        if (bits & b)
            json_array_append_new(arr, json_string(hh_hook_event_str((hh_hook_event)b)));
    return arr;
}

/* An endpoint as the API shows it (never its secret). New reference. */
static json_t *webhook_json(const hh_webhook *w)
{
    return json_pack("{s:s, s:s, s:o, s:s, s:o, s:o}", "id", w->id, "url", w->url, "events",
                     events_json(w->events), "status", w->disabled_at ? "disabled" : "active",
                     "createdAt", store_time_json(w->created_at), "disabledAt",
                     store_time_json(w->disabled_at));
}

static void reply_invalid(http_req *req, const char *field, const char *message)
{
    http_reply_error(req, API_ERR_INVALID_INPUT, message, json_pack("{s:s}", "field", field));
}

/*
 * Reads "events" of body into *bits: absent means all; else an array of
 * 1..3 distinct event names. Replies and returns 1 when it is not.
 */
static int parse_events(http_req *req, const json_t *body, unsigned *bits)
{
    const json_t *ev = json_object_get(body, "events");
    *bits = HH_HOOK_EVENTS_ALL;
    if (!ev)
        return 0;
    size_t i, n = json_is_array(ev) ? json_array_size(ev) : 0;
    *bits = 0;
    for (i = 0; i < n; i++) {
        unsigned b = hh_hook_event_parse(json_string_value(json_array_get(ev, i)));
        if (!b || (*bits & b))
            break;
        *bits |= b;
    }
    if (n >= 1 && i == n)
        return 0;
    reply_invalid(req, "events",
                  "events is a list of distinct event types: video.ready, video.failed, "
                  "video.canceled.");
    return 1;
}

/*
 * Reads and checks "url" of body (length, scheme, and, unless the
 * operator allows private targets, every address it resolves to). Replies
 * and returns NULL when it does not pass. Borrowed from body.
 */
static const char *parse_url(http_req *req, const hh_app *app, const json_t *body)
{
    const char *url = json_string_value(json_object_get(body, "url"));
    char why[160];
    if (!url || !*url || strlen(url) > WEBHOOK_URL_MAX) {
        snprintf(why, sizeof why, "url is an http or https URL of at most %d bytes.",
                 WEBHOOK_URL_MAX);
        reply_invalid(req, "url", why);
        return NULL;
    }
    hh_status rc = hc_url_check(url, !app->webhook_allow_private, why, sizeof why);
    if (rc == HH_ERR_INVALID)
        reply_invalid(req, "url", why);
    else if (rc)
        http_reply_error(req, api_error_from_status(rc), "Could not check the url.", NULL);
    return rc ? NULL : url;
}

/* Makes a signing key into key and its "whsec_..." form (malloc'd) into *text. */
static hh_status new_secret(uint8_t key[WEBHOOK_SECRET_BYTES], char **text)
{
    *text = NULL;
    hh_status rc = crypto_random(key, WEBHOOK_SECRET_BYTES);
    char *b64 = rc ? NULL : crypto_b64_encode_new(key, WEBHOOK_SECRET_BYTES);
    if (!rc && !b64)
        rc = HH_ERR_NOMEM;
    if (!rc && asprintf(text, "whsec_%s", b64) < 0) {
        *text = NULL;
        rc = HH_ERR_NOMEM;
    }
    if (b64)
        OPENSSL_cleanse(b64, strlen(b64));
    free(b64);
    return rc;
}

void h_webhooks_create(http_req *req, void *app_)
{
    hh_app *app = app_;
    const api_principal *p = api_principal_of(req);
    json_t *body = http_req_json(req);
    if (!body)
        return;
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
    {
        if (strcmp(k, "url") && strcmp(k, "events")) {
            reply_invalid(req, k, "Only url and events may be sent.");
            return;
        }
    }
    unsigned events;
    const char *url = parse_url(req, app, body);
    if (!url || parse_events(req, body, &events))
        return;
    uint8_t key[WEBHOOK_SECRET_BYTES], sealed[WEBHOOK_SEALED_BYTES];
    size_t sealed_len = 0;
    char *secret = NULL;
    hh_webhook w;
    /* The store keeps the key sealed: a copy of the database alone signs nothing. */
    hh_status rc = new_secret(key, &secret);
    if (!rc)
        rc = crypto_seal(app->hook_key, key, sizeof key, sealed, sizeof sealed, &sealed_len);
    OPENSSL_cleanse(key, sizeof key);
    if (!rc)
        rc = store_webhook_create(app->store, p->user.id, url, events, sealed, sealed_len,
                                  WEBHOOKS_PER_ACCOUNT, &w);
    if (rc == HH_ERR_LIMIT) {
        char msg[96];
        snprintf(msg, sizeof msg, "An account has at most %d webhook endpoints; delete one first.",
                 WEBHOOKS_PER_ACCOUNT);
        http_reply_error(req, API_ERR_FORBIDDEN, msg,
                         json_pack("{s:i}", "maxWebhooks", WEBHOOKS_PER_ACCOUNT));
    } else if (rc) {
        http_reply_error(req, api_error_from_status(rc), "Could not create the webhook.", NULL);
    } else {
        json_t *out = webhook_json(&w);
        json_object_set_new(out, "secret", json_string(secret));
        http_req_add_header(req, "Cache-Control", "no-store");
        http_reply_json(req, 201, out);
    }
    if (secret) /* the reply holds the only copy the client will ever see */
        OPENSSL_cleanse(secret, strlen(secret));
    free(secret);
}

void h_webhooks_list(http_req *req, void *app_)
{
    hh_app *app = app_;
    const api_principal *p = api_principal_of(req);
    hh_webhook *hooks = NULL;
    size_t n = 0;
    hh_status rc = store_webhook_list(app->store, p->user.id, &hooks, &n);
    if (rc) {
        http_reply_error(req, api_error_from_status(rc), "Could not list the webhooks.", NULL);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, webhook_json(&hooks[i]));
    free(hooks);
    http_req_add_header(req, "Cache-Control", "no-store");
    http_reply_json(req, 200, json_pack("{s:o}", "data", arr));
}

void h_webhooks_delete(http_req *req, void *app_)
{
    hh_app *app = app_;
    const api_principal *p = api_principal_of(req);
    hh_status rc = store_webhook_delete(app->store, p->user.id, http_req_param(req, "id"));
    if (rc == HH_ERR_NOTFOUND)
        http_reply_error(req, API_ERR_NOT_FOUND, "No such webhook.", NULL);
    else if (rc)
        http_reply_error(req, api_error_from_status(rc), "Could not delete the webhook.", NULL);
    else
        http_reply_bytes(req, 204, NULL, NULL, 0);
}

/* An attempt of the delivery log. New reference. */
static json_t *attempt_json(const hh_hook_attempt *a)
{
    return json_pack(
        "{s:s, s:s, s:s, s:i, s:o, s:o, s:s?, s:I, s:s}", "id", a->msg_id, "type", a->type,
        "videoId", a->video_id, "attempt", a->attempt, "at", store_time_json(a->at), "statusCode",
        a->status ? json_integer(a->status) : json_null(), "error", a->error[0] ? a->error : NULL,
        "durationMs", (json_int_t)a->duration_ms, "outcome", hh_hook_outcome_str(a->outcome));
}

void h_webhooks_deliveries(http_req *req, void *app_)
{
    hh_app *app = app_;
    const api_principal *p = api_principal_of(req);
    long long limit;
    if (dashboard_query_int(req, "limit", 1, DASH_PAGE_MAX, DASH_PAGE_DEFAULT, &limit))
        return;
    hh_hook_attempt *a = NULL;
    size_t n = 0;
    hh_status rc =
        store_hook_attempts(app->store, p->user.id, http_req_param(req, "id"), (int)limit, &a, &n);
    if (rc == HH_ERR_NOTFOUND) {
        http_reply_error(req, API_ERR_NOT_FOUND, "No such webhook.", NULL);
        return;
    }
    if (rc) {
        http_reply_error(req, api_error_from_status(rc), "Could not read the deliveries.", NULL);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, attempt_json(&a[i]));
    free(a);
    http_req_add_header(req, "Cache-Control", "no-store");
    http_reply_json(req, 200, json_pack("{s:o}", "data", arr));
}
