/*
 * account_budget.c - the account's request budget (contract section 1),
 * taken by both guards: the Bearer-key guard (auth.c) and the dashboard's
 * session guard (dash_session.c). Its own file so neither guard depends on
 * the other for it.
 *
 * The rate is the account's: every key of a user draws on one bucket of
 * the plan's size (N keys are not N times the plan), and the dashboard's
 * session routes on a second bucket of the same size, so a browser tab
 * never eats an integration's budget.
 *
 * Nodes sharing a PostgreSQL store take from the store's buckets (one round
 * trip a request), so an account's rate is the cluster's whatever the node
 * count; a SQLite store's nodes share one machine and one process's
 * buckets do (docs/operations.md, "Several nodes").
 */
#include <stdio.h>

#include "api/app.h"
#include "util/timeutil.h"

static void set_ratelimit_headers(http_req *req, const ratelimit_result *rl)
{
    char v[96];
    snprintf(v, sizeof v, "\"default\";q=%d;w=%d", rl->limit, rl->window_s);
    http_req_add_header(req, "RateLimit-Policy", v);
    snprintf(v, sizeof v, "\"default\";r=%d;t=%d", rl->remaining, rl->reset_s);
    http_req_add_header(req, "RateLimit", v);
}

int api_rate_limit(hh_app *app, http_req *req, const char *scope, const char *user_id,
                   const hh_plan *plan)
{
    char bucket[HH_ID_LEN + 16];
    ratelimit_result rl;
    snprintf(bucket, sizeof bucket, "%s:%s", scope, user_id);
    int rpm = plan->requests_per_minute;
    hh_status rc = store_is_shared(app->store)
                       ? ratelimit_take_store(app->store, bucket, rpm, rpm, &rl)
                       : ratelimit_take(app->limiter, bucket, rpm, hh_time_mono_ms(), &rl);
    if (rc) { /* a database that does not answer in time is a 503, like any other call's */
        http_reply_error(req, api_error_from_status(rc == HH_ERR_BUSY ? rc : HH_ERR_INTERNAL),
                         "Rate limiter failed.", NULL);
        return 1;
    }
    set_ratelimit_headers(req, &rl);
    if (rl.allowed)
        return 0;
    char secs[16];
    snprintf(secs, sizeof secs, "%d", rl.retry_after_s);
    http_req_add_header(req, "Retry-After", secs);
    http_reply_error(req, API_ERR_RATE_LIMITED,
                     "Too many requests for this account; its plan's rate is shared by all its "
                     "keys.",
                     NULL);
    return 1;
}
