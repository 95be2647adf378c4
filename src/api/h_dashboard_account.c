/*
 * h_dashboard_account.c - the workspace pages' data: plans, API keys
 * (Dashboard / Settings / API Keys of the contract's section 1) and the
 * credit ledger (docs/dashboard-api.md). Keys are made exactly as the
 * admin CLI makes them (auth/apikey.h); the JSON shapes are store_json.h's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api/dashboard.h"
#include "auth/apikey.h"
#include "store/store_json.h"
#include "util/uuid.h"

void h_dash_plans(http_req *req, void *app_)
{
    hh_app *app = app_;
    http_reply_json(req, 200, json_pack("{s:o}", "plans", dashboard_plans_json(app)));
}

/* Replies 403 and returns 1 when the workspace may not hold API keys. */
static int no_api_access(http_req *req, const dash_principal *p)
{
    if (p->base.user.api_access)
        return 0;
    http_reply_error(req, API_ERR_FORBIDDEN,
                     "API access is not enabled for this workspace; ask your operator.", NULL);
    return 1;
}

/* GET /api/dashboard/keys?limit&before: a page of the live keys, newest first. */
void h_dash_keys_list(http_req *req, void *app_)
{
    hh_app *app = app_;
    const dash_principal *p = dash_principal_of(req);
    hh_api_key *keys = NULL;
    size_t n = 0;
    long long limit;
    if (no_api_access(req, p) ||
        dashboard_query_int(req, "limit", 1, DASH_PAGE_MAX, DASH_PAGE_MAX, &limit))
        return;
    const char *before = http_req_query(req, "before");
    if (before && !uuid_is_valid(before)) {
        http_reply_error(req, API_ERR_INVALID_INPUT, "before must be a key id.",
                         json_pack("{s:s}", "field", "before"));
        return;
    }
    /* One more than asked tells whether an older page exists. */
    hh_status rc =
        store_key_list_page(app->store, p->base.user.id, before, (int)limit + 1, &keys, &n);
    if (rc) {
        http_reply_error(req, api_error_from_status(rc), "Could not list the keys.", NULL);
        return;
    }
    size_t shown = n > (size_t)limit ? (size_t)limit : n;
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < shown; i++)
        json_array_append_new(arr, store_key_json(&keys[i]));
    json_t *next = n > shown ? json_string(keys[shown - 1].id) : json_null();
    free(keys);
    http_req_add_header(req, "Cache-Control", "no-store");
    http_reply_json(req, 200, json_pack("{s:o, s:o}", "keys", arr, "nextBefore", next));
}

/*
 * Trims s in place and checks it is 1..max_cp code points with no control
 * characters (jansson has already refused invalid UTF-8). Returns s or NULL.
 */
static char *clean_name(char *s, size_t max_cp)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    size_t cp = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return NULL;
        cp += (c & 0xc0) != 0x80;
    }
    /* The store holds names of up to 127 bytes (hh_api_key.name). */
    return cp >= 1 && cp <= max_cp && n < sizeof(((hh_api_key *)0)->name) ? s : NULL;
}

void h_dash_keys_create(http_req *req, void *app_)
{
    hh_app *app = app_;
    const dash_principal *p = dash_principal_of(req);
    if (no_api_access(req, p))
        return;
    json_t *body = http_req_json(req);
    if (!body)
        return;
    if (json_object_size(body) != 1 || !json_is_string(json_object_get(body, "name"))) {
        http_reply_error(req, API_ERR_INVALID_INPUT, "Send {\"name\": \"...\"} and nothing else.",
                         json_pack("{s:s}", "field", "name"));
        return;
    }
    char buf[4 * DASH_KEY_NAME_MAX_CP + 1];
    const char *given = json_string_value(json_object_get(body, "name"));
    char *name = strlen(given) < sizeof buf ? buf : NULL;
    if (name) {
        memcpy(buf, given, strlen(given) + 1);
        name = clean_name(buf, DASH_KEY_NAME_MAX_CP);
    }
    if (!name) {
        http_reply_error(
            req, API_ERR_INVALID_INPUT,
            "A key name has 1 to 100 characters (127 bytes) and no control characters.",
            json_pack("{s:s}", "field", "name"));
        return;
    }
    char key[APIKEY_BUF], prefix[APIKEY_PREFIX_BUF];
    uint8_t hash[CRYPTO_SHA256_LEN];
    hh_api_key k;
    hh_status rc = apikey_generate(key);
    if (!rc) {
        apikey_hash(key, hash);
        apikey_prefix(key, prefix);
        rc = store_key_insert_capped(app->store, p->base.user.id, name, hash, prefix,
                                     p->base.plan->max_api_keys, &k);
    }
    if (rc == HH_ERR_LIMIT) {
        char msg[128];
        snprintf(msg, sizeof msg, "The %s plan allows %d API keys; delete one first.",
                 p->base.plan->name, p->base.plan->max_api_keys);
        http_reply_error(req, API_ERR_FORBIDDEN, msg,
                         json_pack("{s:i}", "maxApiKeys", p->base.plan->max_api_keys));
    } else if (rc)
        http_reply_error(req, api_error_from_status(rc), "Could not create the key.", NULL);
    else
        http_reply_json(req, 201,
                        json_pack("{s:o, s:s}", "key", store_key_json(&k), "secret", key));
    OPENSSL_cleanse(key, sizeof key); /* the reply holds the only copy now */
}

void h_dash_keys_delete(http_req *req, void *app_)
{
    hh_app *app = app_;
    const dash_principal *p = dash_principal_of(req);
    if (no_api_access(req, p))
        return;
    hh_status rc = store_key_delete(app->store, p->base.user.id, http_req_param(req, "id"));
    if (rc == HH_ERR_NOTFOUND || rc == HH_ERR_INVALID)
        http_reply_error(req, API_ERR_NOT_FOUND, "No such key.", NULL);
    else if (rc)
        http_reply_error(req, api_error_from_status(rc), "Could not delete the key.", NULL);
    else
        http_reply_bytes(req, 204, NULL, NULL, 0);
}

int dashboard_query_int(http_req *req, const char *name, long long lo, long long hi, long long dflt,
                        long long *out)
{
    const char *s = http_req_query(req, name);
    *out = dflt;
    if (!s)
        return 0;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*s && *end == '\0' && errno == 0 && v >= lo && v <= hi && s[0] != '+' && s[0] != ' ') {
        *out = v;
        return 0;
    }
    http_reply_error(req, API_ERR_INVALID_INPUT, "Query argument out of range.",
                     json_pack("{s:s}", "field", name));
    return 1;
}

void h_dash_ledger(http_req *req, void *app_)
{
    hh_app *app = app_;
    const dash_principal *p = dash_principal_of(req);
    long long limit, before;
    if (dashboard_query_int(req, "limit", 1, DASH_PAGE_MAX, DASH_PAGE_DEFAULT, &limit) ||
        dashboard_query_int(req, "before", 0, INT64_MAX, 0, &before))
        return;
    hh_ledger_entry *e = NULL;
    size_t n = 0;
    /* One more than asked tells whether an older page exists. */
    hh_status rc = store_ledger_list(app->store, p->base.user.id, before, (int)limit + 1, &e, &n);
    if (rc) {
        http_reply_error(req, api_error_from_status(rc), "Could not read the ledger.", NULL);
        return;
    }
    json_t *arr = json_array();
    size_t shown = n > (size_t)limit ? (size_t)limit : n;
    for (size_t i = 0; arr && i < shown; i++)
        json_array_append_new(arr, store_ledger_entry_json(&e[i]));
    json_t *next = n > (size_t)limit ? json_integer(e[shown - 1].id) : json_null();
    free(e);
    http_req_add_header(req, "Cache-Control", "no-store");
    http_reply_json(req, 200,
                    json_pack("{s:I, s:o, s:o}", "balance", (json_int_t)p->base.user.credits,
                              "entries", arr, "nextBefore", next));
}
