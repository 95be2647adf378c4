/*
 * dash_session.c - dashboard sessions on the wire: the hh_session cookie,
 * the guard of HTTP_ROUTE_AUTH_SESSION routes (session, then CSRF), and
 * starting a session after a sign-in.
 *
 * The cookie carries 32 CSPRNG bytes as base64url; the store keeps only
 * their SHA-256 (a stolen database holds no usable session). The CSRF
 * token is a second, independent random value kept with the session and
 * handed to the page in JSON: a cross-site page can make the browser send
 * the cookie (SameSite=Lax stops most of that already) but can never read
 * the token, so it cannot forge a state-changing request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "api/dashboard.h"
#include "engine/engine.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/timeutil.h"

/* Cookie attributes shared by setting and clearing; Secure over HTTPS only. */
static void add_cookie(hh_app *app, http_req *req, const char *value, long long max_age_s)
{
    char v[256];
    int secure = !strncasecmp(app->public_url, "https://", 8);
    snprintf(v, sizeof v, "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Lax%s", DASH_COOKIE,
             value, max_age_s, secure ? "; Secure" : "");
    http_req_add_header(req, "Set-Cookie", v);
}

void dashboard_cookie_clear(hh_app *app, http_req *req)
{
    add_cookie(app, req, "", 0);
}

/*
 * Finds hh_session in a Cookie header and decodes it to the 32-byte secret.
 * Returns 1 when present and well formed, else 0.
 */
static int cookie_secret(const char *header, uint8_t secret[DASH_SECRET_BYTES])
{
    const size_t nl = sizeof DASH_COOKIE - 1;
    const char *p = header;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        size_t len = strcspn(p, ";");
        if (len > nl && !strncmp(p, DASH_COOKIE, nl) && p[nl] == '=') {
            const char *v = p + nl + 1;
            size_t vl = len - nl - 1;
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            size_t got = 0;
            return vl == DASH_SECRET_CHARS &&
                   !crypto_b64url_decode(v, vl, secret, DASH_SECRET_BYTES, &got) &&
                   got == DASH_SECRET_BYTES;
        }
        p += len;
    }
    return 0;
}

/* A fresh random token: n CSPRNG bytes as base64url into out. */
static hh_status random_token(size_t n, char *out, size_t outsize, uint8_t *raw)
{
    uint8_t buf[DASH_SECRET_BYTES];
    if (n > sizeof buf)
        return HH_ERR_INVALID;
    hh_status rc = crypto_random(buf, n);
    if (!rc)
        rc = crypto_b64url_encode(buf, n, out, outsize);
    if (!rc && raw)
        memcpy(raw, buf, n);
    OPENSSL_cleanse(buf, sizeof buf);
    return rc;
}

hh_status dashboard_session_start(hh_app *app, http_req *req, const hh_user *user, char *csrf)
{
    char cookie[DASH_SECRET_CHARS + 4];
    uint8_t secret[DASH_SECRET_BYTES], hash[CRYPTO_SHA256_LEN];
    int64_t now = hh_time_now_ms();
    hh_status rc = random_token(DASH_SECRET_BYTES, cookie, sizeof cookie, secret);
    if (!rc)
        rc = random_token(DASH_SECRET_BYTES, csrf, STORE_CSRF_MAX, NULL);
    if (rc)
        goto out;
    crypto_sha256(secret, sizeof secret, hash);
    /* Sign-ins are rare and the expiry is indexed: a good moment to forget
     * sessions that ended without a logout. */
    store_session_purge(app->store, now, NULL);
    rc = store_session_create(app->store, hash, user->id, csrf, now, now + DASH_SESSION_TTL_MS);
    if (!rc)
        add_cookie(app, req, cookie, DASH_SESSION_TTL_MS / 1000);
out:
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(cookie, sizeof cookie);
    return rc;
}

static void free_principal(void *p)
{
    if (p)
        OPENSSL_cleanse(p, sizeof(dash_principal));
    free(p);
}

static int is_state_changing(http_method m)
{
    return m != HTTP_GET && m != HTTP_HEAD && m != HTTP_OPTIONS;
}

int dashboard_session_live(hh_app *app, const http_req *req)
{
    uint8_t secret[DASH_SECRET_BYTES], hash[CRYPTO_SHA256_LEN];
    if (!cookie_secret(http_req_header(req, "Cookie"), secret))
        return 0;
    crypto_sha256(secret, sizeof secret, hash);
    OPENSSL_cleanse(secret, sizeof secret);
    hh_session s;
    hh_user u;
    int live =
        store_session_get(app->store, hash, hh_time_now_ms(), &s, &u) == HH_OK && !u.disabled;
    OPENSSL_cleanse(&s, sizeof s);
    return live;
}

int dashboard_guard(hh_app *app, http_req *req)
{
    uint8_t secret[DASH_SECRET_BYTES];
    if (!cookie_secret(http_req_header(req, "Cookie"), secret)) {
        http_reply_error(req, API_ERR_UNAUTHENTICATED, "Sign in first.", NULL);
        return 1;
    }
    dash_principal *p = calloc(1, sizeof *p);
    if (!p) {
        http_reply_error(req, API_ERR_INTERNAL_ERROR, "Out of memory.", NULL);
        return 1;
    }
    crypto_sha256(secret, sizeof secret, p->session_hash);
    OPENSSL_cleanse(secret, sizeof secret);
    int64_t now = hh_time_now_ms();
    hh_status rc = store_session_get(app->store, p->session_hash, now, &p->session, &p->base.user);
    if (rc == HH_OK && p->base.user.disabled)
        rc = HH_ERR_NOTFOUND; /* suspended: its sessions are gone, this one too */
    if (rc == HH_OK) {
        p->base.plan = plans_find(app->plans, p->base.user.plan);
        if (!p->base.plan) {
            hh_error("user %s is on plan \"%s\" which the plans file lacks", p->base.user.id,
                     p->base.user.plan);
            rc = HH_ERR_INTERNAL;
        }
    }
    if (rc) {
        if (rc == HH_ERR_NOTFOUND) {
            dashboard_cookie_clear(app, req);
            http_reply_error(req, API_ERR_UNAUTHENTICATED, "Your session has ended. Sign in again.",
                             NULL);
        } else {
            http_reply_error(req, api_error_from_status(rc),
                             "The server could not check the session.", NULL);
        }
        free_principal(p);
        return 1;
    }
    if (is_state_changing(http_req_method(req))) {
        const char *token = http_req_header(req, "X-CSRF-Token");
        size_t n = strlen(p->session.csrf);
        if (!token || strlen(token) != n || !crypto_equal(token, p->session.csrf, n)) {
            free_principal(p);
            http_reply_error(req, API_ERR_FORBIDDEN,
                             "Missing or wrong CSRF token (send X-CSRF-Token).", NULL);
            return 1;
        }
    }
    /* The plan's rate, as on the Customer API (a bucket of its own: see account_budget.c). */
    if (api_rate_limit(app, req, "dash", p->base.user.id, p->base.plan)) {
        free_principal(p);
        return 1;
    }
    /* Sliding expiry, written at most hourly so reads stay reads. The
     * cookie's Max-Age slides with it. */
    if (now - p->session.refreshed_at >= DASH_REFRESH_MS &&
        store_session_touch(app->store, p->session_hash, now, now + DASH_SESSION_TTL_MS) == HH_OK) {
        char cookie[DASH_SECRET_CHARS + 4];
        if (cookie_secret(http_req_header(req, "Cookie"), secret) &&
            !crypto_b64url_encode(secret, sizeof secret, cookie, sizeof cookie))
            add_cookie(app, req, cookie, DASH_SESSION_TTL_MS / 1000);
        OPENSSL_cleanse(secret, sizeof secret);
        OPENSSL_cleanse(cookie, sizeof cookie);
        p->session.refreshed_at = now;
        p->session.expires_at = now + DASH_SESSION_TTL_MS;
    }
    http_req_set_user(req, p, free_principal);
    return 0;
}

const dash_principal *dash_principal_of(const http_req *req)
{
    return http_req_user(req);
}

json_t *dashboard_plans_json(const hh_app *app)
{
    json_t *all = plans_to_json(app->plans), *v;
    size_t i;
    json_array_foreach(all, i, v)
    {
        const char *label = engine_label_of(json_string_value(json_object_get(v, "engine")));
        json_object_set_new(v, "engineLabel", json_string(label ? label : ""));
    }
    return all;
}

json_t *dashboard_plan_json(const hh_app *app, const char *name)
{
    json_t *all = dashboard_plans_json(app), *v;
    size_t i;
    json_t *found = NULL;
    json_array_foreach(all, i, v)
    {
        if (!strcmp(json_string_value(json_object_get(v, "name")), name)) {
            found = json_incref(v);
            break;
        }
    }
    json_decref(all);
    return found ? found : json_null();
}
