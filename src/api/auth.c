/*
 * auth.c - customer authentication and rate limiting (contract section 1),
 * run as the HTTP server's guard before any body is read, so an
 * unauthenticated client cannot make the server buffer a body.
 *
 * Order: header present and Bearer → key well formed → key known and live
 * → rate limit (the account's budget, account_budget.c). The key is looked up by
 * the SHA-256 of the whole token: keys are 256-bit random, so a fast hash
 * is the right one (a slow password hash buys nothing against a secret
 * that cannot be guessed).
 *
 * A found key and its user are kept in app->key_cache under the hash for
 * as long as nothing is committed to the store (by any process: a key
 * deleted, API access switched off or the account suspended by the admin
 * CLI counts at once) and at most a second; unknown keys are never kept.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/app.h"
#include "api/dashboard.h"
#include "auth/apikey.h"
#include "util/log.h"
#include "util/timeutil.h"

/* Returns the token of "Bearer <token>" (scheme case-insensitive), or NULL. */
static const char *bearer_token(const char *header)
{
    if (!header || strncasecmp(header, "Bearer", 6) || (header[6] != ' ' && header[6] != '\t'))
        return NULL;
    const char *t = header + 6;
    while (*t == ' ' || *t == '\t')
        t++;
    return *t ? t : NULL;
}

static void free_principal(void *p)
{
    free(p);
}

/* What the key cache keeps of a lookup. */
typedef struct cached_key {
    hh_api_key key;
    hh_user user;
} cached_key;

/* The key of hash and its user: from the cache while the store is unchanged, else the store. */
static hh_status lookup_key(hh_app *app, const uint8_t hash[CRYPTO_SHA256_LEN], api_principal *p)
{
    uint64_t gen = store_generation(app->store); /* before the read it may tag */
    int64_t now = hh_time_mono_ms();
    cached_key ck;
    if (read_cache_get(app->key_cache, hash, CRYPTO_SHA256_LEN, gen, now, &ck, sizeof ck) ==
        sizeof ck) {
        p->key = ck.key;
        p->user = ck.user;
        return HH_OK;
    }
    hh_status rc = store_key_lookup(app->store, hash, &p->key, &p->user);
    if (rc == HH_OK) {
        ck = (cached_key){p->key, p->user};
        read_cache_put(app->key_cache, hash, CRYPTO_SHA256_LEN, gen, now, &ck, sizeof ck);
    }
    return rc;
}

/* Authenticates and rate-limits; on success attaches a principal. */
static int guard_api_key(hh_app *app, http_req *req)
{
    const char *token = bearer_token(http_req_header(req, "Authorization"));
    if (!token) {
        http_reply_error(req, API_ERR_MISSING_API_KEY,
                         "Send your API key as 'Authorization: Bearer <key>'.", NULL);
        return 1;
    }
    if (!apikey_is_well_formed(token)) {
        http_reply_error(req, API_ERR_INVALID_API_KEY, "The API key is malformed.", NULL);
        return 1;
    }
    api_principal *p = calloc(1, sizeof *p);
    if (!p) {
        http_reply_error(req, API_ERR_INTERNAL_ERROR, "Out of memory.", NULL);
        return 1;
    }
    uint8_t hash[CRYPTO_SHA256_LEN];
    apikey_hash(token, hash);
    hh_status rc = lookup_key(app, hash, p);
    if (rc == HH_OK && p->user.disabled) {
        free(p);
        http_reply_error(req, API_ERR_INVALID_API_KEY,
                         "The account of this API key is suspended; ask your operator.", NULL);
        return 1;
    }
    if (rc == HH_OK)
        p->plan = plans_find(app->plans, p->user.plan);
    if (rc || !p->plan || !p->user.api_access) {
        /* A plan missing from the plans file is an operator error; log it, refuse as unknown. */
        api_error e = rc == HH_ERR_NOTFOUND || rc == HH_OK ? API_ERR_INVALID_API_KEY
                                                           : api_error_from_status(rc);
        if (rc == HH_OK && !p->plan)
            hh_error("user %s is on plan \"%s\" which the plans file lacks", p->user.id,
                     p->user.plan);
        free(p);
        http_reply_error(req, e,
                         e == API_ERR_INVALID_API_KEY ? "The API key is not valid."
                                                      : "The server could not check the key.",
                         NULL);
        return 1;
    }

    key_usage_record(app->usage, p->key.id, hh_time_now_ms());
    if (api_rate_limit(app, req, "api", p->user.id, p->plan)) {
        free(p);
        return 1;
    }
    http_req_set_user(req, p, free_principal);
    return 0;
}

int api_guard(http_req *req, const http_route *route, void *app)
{
    if (route->flags & HTTP_ROUTE_AUTH_KEY)
        return guard_api_key(app, req);
    if (route->flags & HTTP_ROUTE_AUTH_SESSION)
        return dashboard_guard(app, req);
    return 0;
}

const api_principal *api_principal_of(const http_req *req)
{
    return http_req_user(req);
}
