/*
 * h_dashboard_auth.c - signing in and out of the dashboard:
 * GET /api/dashboard/config, POST /api/dashboard/login, /signup, /logout
 * and GET /api/dashboard/me (docs/dashboard-api.md).
 *
 * Login answers the same 401 for an unknown email and a wrong password,
 * and verifies a throw-away Argon2id hash for an unknown email so both
 * take the same time. Two budgets are taken before any hash is checked
 * (docs/security-and-limits.md), so they also cap the Argon2 work:
 *  - per client address, DASH_LOGIN_PER_ADDR a minute whatever the email:
 *    spraying many accounts (or random emails) from one address stops;
 *  - per account, whoever asks: a burst of DASH_LOGIN_ACCOUNT_BURST, then
 *    one every 60 / DASH_LOGIN_ACCOUNT_PER_MIN seconds. This slows
 *    guessing down instead of locking anyone out: after five wrong
 *    passwords, the owner's right one works a couple of seconds later.
 * The address is the peer's, or behind --trusted-proxy the client that
 * X-Forwarded-For names (http/netaddr.h).
 * Both budgets are each node's own (app->limiter), also when nodes share a
 * PostgreSQL store: they bound the Argon2 work of the node that would do
 * it, and a flood of guesses then costs the shared database nothing. With
 * N nodes an account sees at most N times the burst, still a handful of
 * guesses a minute against an Argon2id hash.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/dashboard.h"
#include "store/store_json.h"
#include "util/log.h"
#include "util/password.h"
#include "util/timeutil.h"

#define EMAIL_MAX 255

/* A hash of a password nobody knows, verified when the email is unknown. */
static char dummy_hash[PASSWORD_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
    if (password_hash("no-such-user-timing-equaliser", dummy_hash, sizeof dummy_hash))
        dummy_hash[0] = '\0';
}

void h_dash_config(http_req *req, void *app_)
{
    hh_app *app = app_;
    http_reply_json(req, 200,
                    json_pack("{s:b,s:b}", "signupAllowed", app->allow_signup, "signedIn",
                              dashboard_session_live(app, req)));
}

/*
 * Reads {"email","password"} of a JSON request into the buffers. Replies
 * invalid_input and returns non-zero when the body is not that.
 */
static int read_credentials(http_req *req, char *email, char *password)
{
    const char *ct = http_req_header(req, "Content-Type");
    if (!ct || strncasecmp(ct, "application/json", 16) ||
        (ct[16] && ct[16] != ';' && ct[16] != ' ')) {
        http_reply_error(req, API_ERR_INVALID_INPUT, "Send the body as application/json.", NULL);
        return 1;
    }
    json_t *body = http_req_json(req);
    if (!body)
        return 1;
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "email") && strcmp(key, "password")) {
            http_reply_error(req, API_ERR_INVALID_INPUT, "Unknown field.",
                             json_pack("{s:s}", "field", key));
            return 1;
        }
    }
    const char *e = json_string_value(json_object_get(body, "email"));
    const char *p = json_string_value(json_object_get(body, "password"));
    const char *bad = !e ? "email" : !p ? "password" : NULL;
    if (!bad && (strlen(e) == 0 || strlen(e) > EMAIL_MAX || !strchr(e, '@')))
        bad = "email";
    if (!bad && (strlen(p) == 0 || strlen(p) > PASSWORD_MAX_LEN))
        bad = "password";
    if (bad) {
        http_reply_error(req, API_ERR_INVALID_INPUT,
                         !strcmp(bad, "email") ? "Give a valid email address."
                                               : "Give a password (at most 1024 bytes).",
                         json_pack("{s:s}", "field", bad));
        return 1;
    }
    snprintf(email, EMAIL_MAX + 1, "%s", e);
    snprintf(password, PASSWORD_MAX_LEN + 1, "%s", p);
    return 0;
}

/*
 * Takes a token of the bucket "scope|who" (burst, per_minute); replies
 * 429 with Retry-After and message and returns 1 when there is none.
 */
static int take_or_refuse(hh_app *app, http_req *req, const char *scope, const char *who, int burst,
                          int per_minute, const char *message)
{
    char key[EMAIL_MAX + 128];
    int n = snprintf(key, sizeof key, "%s|", scope);
    for (size_t i = 0; who[i] && (size_t)n < sizeof key - 1; i++)
        key[n++] = (char)tolower((unsigned char)who[i]);
    key[n] = '\0';
    ratelimit_result rl;
    if (ratelimit_take_burst(app->limiter, key, burst, per_minute, hh_time_mono_ms(), &rl)) {
        http_reply_error(req, API_ERR_INTERNAL_ERROR, "Rate limiter failed.", NULL);
        return 1;
    }
    if (rl.allowed)
        return 0;
    char secs[16];
    snprintf(secs, sizeof secs, "%d", rl.retry_after_s);
    http_req_add_header(req, "Retry-After", secs);
    http_reply_error(req, API_ERR_RATE_LIMITED, message, NULL);
    return 1;
}

/* The budgets of one password check (see the file's comment); 1 when refused (replied). */
static int attempt_limited(hh_app *app, http_req *req, const char *scope, int per_addr,
                           const char *email)
{
    if (take_or_refuse(app, req, scope, http_req_client_ip(req), per_addr, per_addr,
                       "Too many sign-in attempts from your address. Wait a minute."))
        return 1;
    return email[0] && take_or_refuse(app, req, "account", email, DASH_LOGIN_ACCOUNT_BURST,
                                      DASH_LOGIN_ACCOUNT_PER_MIN,
                                      "Too many sign-in attempts for this account. Wait a few "
                                      "seconds (see Retry-After).");
}

/* Starts the session and answers {user, csrfToken} with status. */
static void reply_signed_in(hh_app *app, http_req *req, unsigned status, const hh_user *u)
{
    char csrf[STORE_CSRF_MAX];
    if (dashboard_session_start(app, req, u, csrf)) {
        http_reply_error(req, API_ERR_INTERNAL_ERROR, "Could not start a session.", NULL);
        return;
    }
    hh_log_fields(HH_LOG_INFO, "dashboard sign-in", json_pack("{s:s}", "user", u->id));
    http_reply_json(req, status,
                    json_pack("{s:o, s:s}", "user", store_user_json(u), "csrfToken", csrf));
}

void h_dash_login(http_req *req, void *app_)
{
    hh_app *app = app_;
    char email[EMAIL_MAX + 1], password[PASSWORD_MAX_LEN + 1], hash[PASSWORD_HASH_MAX];
    hh_user u;
    if (read_credentials(req, email, password))
        return;
    if (attempt_limited(app, req, "login-addr", DASH_LOGIN_PER_ADDR, email))
        goto out;
    hh_status rc = store_user_by_email(app->store, email, &u);
    if (rc == HH_OK)
        rc = store_user_password_hash(app->store, u.id, hash, sizeof hash);
    if (rc == HH_ERR_NOTFOUND) {
        pthread_once(&dummy_once, make_dummy);
        password_verify(dummy_hash, password);
    } else if (rc == HH_OK) {
        rc = password_verify(hash, password);
    }
    if (rc == HH_OK && u.disabled)
        http_reply_error(req, API_ERR_FORBIDDEN, "This account is suspended.", NULL);
    else if (rc == HH_OK)
        reply_signed_in(app, req, 200, &u);
    else if (rc == HH_ERR_NOTFOUND || rc == HH_ERR_INVALID)
        http_reply_error(req, API_ERR_UNAUTHENTICATED, "Email or password is wrong.", NULL);
    else
        http_reply_error(req, api_error_from_status(rc), "Could not check the password.", NULL);
out:
    memset(password, 0, sizeof password);
}

void h_dash_signup(http_req *req, void *app_)
{
    hh_app *app = app_;
    char email[EMAIL_MAX + 1], password[PASSWORD_MAX_LEN + 1], hash[PASSWORD_HASH_MAX];
    hh_user u;
    if (!app->allow_signup) {
        http_reply_error(req, API_ERR_NOT_FOUND, "Sign-up is turned off on this server.", NULL);
        return;
    }
    if (read_credentials(req, email, password))
        return;
    if (attempt_limited(app, req, "signup-addr", DASH_SIGNUP_PER_ADDR, ""))
        goto out;
    hh_status rc = password_hash(password, hash, sizeof hash);
    if (rc == HH_ERR_INVALID || rc == HH_ERR_LIMIT) {
        http_reply_error(req, API_ERR_INVALID_INPUT, "Passwords need 8 to 1024 characters.",
                         json_pack("{s:s}", "field", "password"));
        goto out;
    }
    /* New accounts start on the cheapest plan, with no credits and no API access. */
    if (!rc)
        rc = store_user_create(app->store, email, hash, app->plans->plan[0].name, 0, &u);
    if (rc == HH_ERR_EXISTS || rc == HH_ERR_INVALID)
        http_reply_error(req, API_ERR_INVALID_INPUT,
                         rc == HH_ERR_EXISTS ? "An account with this email exists; sign in."
                                             : "That email address is too long.",
                         json_pack("{s:s}", "field", "email"));
    else if (rc)
        http_reply_error(req, api_error_from_status(rc), "Could not create the account.", NULL);
    else
        reply_signed_in(app, req, 201, &u);
out:
    memset(password, 0, sizeof password);
}

void h_dash_logout(http_req *req, void *app_)
{
    hh_app *app = app_;
    const dash_principal *p = dash_principal_of(req);
    hh_status rc = store_session_delete(app->store, p->session_hash);
    if (rc && rc != HH_ERR_NOTFOUND) {
        http_reply_error(req, api_error_from_status(rc), "Could not end the session.", NULL);
        return;
    }
    dashboard_cookie_clear(app, req);
    http_reply_bytes(req, 204, NULL, NULL, 0);
}

void h_dash_me(http_req *req, void *app_)
{
    hh_app *app = app_;
    const dash_principal *p = dash_principal_of(req);
    http_req_add_header(req, "Cache-Control", "no-store");
    http_reply_json(req, 200,
                    json_pack("{s:o, s:o, s:s, s:b}", "user", store_user_json(&p->base.user),
                              "plan", dashboard_plan_json(app, p->base.user.plan), "csrfToken",
                              p->session.csrf, "signupAllowed", app->allow_signup));
}
