/*
 * h_account.c - GET /api/v1/account: who the key belongs to, the plan's
 * limits and the credit balance. Not in the documented product; an addition
 * that lets an integration check its key and budget without side effects.
 */
#include "api/app.h"
#include "api/routes.h"
#include "util/timeutil.h"

void h_account_get(http_req *req, void *app)
{
    const api_principal *p = api_principal_of(req);
    char created[32];
    hh_time_iso8601(p->user.created_at, created, sizeof created);
    json_t *plan = json_pack("{s:s, s:i, s:i, s:i}", "name", p->plan->name, "maxDurationSec",
                             p->plan->max_duration_sec, "requestsPerMinute",
                             p->plan->requests_per_minute, "jobsInFlight", p->plan->jobs_in_flight);
    http_reply_json(req, 200,
                    json_pack("{s:s, s:s, s:o, s:I, s:s, s:{s:s, s:s}}", "id", p->user.id, "email",
                              p->user.email, "plan", plan, "credits", (json_int_t)p->user.credits,
                              "createdAt", created, "apiKey", "id", p->key.id, "prefix",
                              p->key.prefix));
}
