/*
 * h_videos.c - POST /api/v1/videos and GET /api/v1/videos/{id} (contract
 * sections 3 and 4).
 *
 * Creating checks in the contract's order: the body and its fields
 * (invalid_input; the operator's prompt blocklist is one of these), the
 * references (invalid_input naming the field), the plan's gates
 * (plan_gate_exceeded), then the credits, which are taken in the store's
 * single transaction with the video and its job. That transaction also
 * checks again what the headers decided (the key or session still live,
 * the account not suspended: a key deleted while the body was on its way
 * creates nothing) and the account's caps on queued jobs and daily spend
 * (rate_limited with Retry-After; docs/security-and-limits.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/dashboard.h"
#include "api/routes.h"
#include "api/video_json.h"
#include "api/videos.h"
#include "domain/video_request.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/uuid.h"

#define IDEM_KEY_MAX 255

/* The upload kind each reference must be. */
static const char *const ref_kind[HH_REF_COUNT] = {"image", "image", "video", "audio"};

static int reply_invalid(http_req *req, const char *field, const char *msg)
{
    http_reply_error(req, API_ERR_INVALID_INPUT, msg,
                     field && *field ? json_pack("{s:s}", "field", field) : NULL);
    return 1;
}

/*
 * An upload not yet marked complete may still be whole in the object
 * store: with S3 the client PUTs to the bucket, not to us, and locally a
 * crash may have come between linking the object and marking it (the PUT
 * route finishes that commit too: h_uploads.c), so the object's
 * presence, size and first bytes are checked now and the upload marked
 * complete. 0 when it is; otherwise the reply is sent and 1 returned.
 */
static int complete_upload(hh_app *app, http_req *req, const hh_upload *up, const char *field)
{
    char msg[160];
    hh_status rc = blob_check_upload(app->blob, up->key, up->content_type, up->size_bytes);
    if (!rc && (rc = store_upload_complete(app->store, up->key)) == HH_ERR_CONFLICT)
        rc = HH_OK; /* marked by a concurrent request */
    if (rc == HH_ERR_NOTFOUND) {
        snprintf(msg, sizeof msg, "%s has not been uploaded completely.", field);
        return reply_invalid(req, field, msg);
    }
    if (rc == HH_ERR_INVALID) {
        snprintf(msg, sizeof msg, "%s is not a file of its declared content type.", field);
        return reply_invalid(req, field, msg);
    }
    if (rc) {
        http_reply_error(req, API_ERR_INTERNAL_ERROR, "Could not check the upload.", NULL);
        return 1;
    }
    return 0;
}

/* Each reference must be a complete upload of this user, of the right kind. */
static int check_references(hh_app *app, http_req *req, const hh_video_request *vr,
                            const char *user_id)
{
    for (int r = 0; r < HH_REF_COUNT; r++) {
        if (!vr->ref[r][0])
            continue;
        const char *field = video_ref_field((hh_ref)r, HH_VR_API);
        hh_upload up;
        hh_status rc = store_upload_get(app->store, vr->ref[r], &up);
        char msg[160];
        if (rc && rc != HH_ERR_NOTFOUND) {
            http_reply_error(req, api_error_from_status(rc), "Could not check the upload.", NULL);
            return 1;
        }
        if (rc || strcmp(up.user_id, user_id)) {
            snprintf(msg, sizeof msg, "%s is not an upload of this account.", field);
            return reply_invalid(req, field, msg);
        }
        if (strcmp(up.kind, ref_kind[r])) {
            snprintf(msg, sizeof msg, "%s must be an %s upload, not %s.", field, ref_kind[r],
                     up.kind);
            return reply_invalid(req, field, msg);
        }
        if (!up.complete && complete_upload(app, req, &up, field))
            return 1;
    }
    return 0;
}

static int reply_gate(http_req *req, const hh_plans *plans, const hh_plan *plan, const char *field,
                      const hh_plan *required)
{
    char msg[160];
    snprintf(msg, sizeof msg, "The %s plan does not allow this %s.", plan->name, field);
    http_reply_error(req, API_ERR_PLAN_GATE_EXCEEDED, msg,
                     json_pack("{s:s, s:s?, s:s}", "field", field, "requiredPlan",
                               required ? required->name : NULL, "currentPlan", plan->name));
    return 1;
}

/* The plan's gates, in a fixed order; the first one exceeded answers. */
static int check_gates(http_req *req, const hh_plans *plans, const hh_plan *plan,
                       const hh_video_request *vr)
{
    if (vr->duration_sec > plan->max_duration_sec)
        return reply_gate(req, plans, plan, "durationSec",
                          plans_cheapest_duration(plans, vr->duration_sec));
    static const struct {
        hh_plan_feature feature;
        int ref; /* -1: the resolution */
    } gates[] = {
        {HH_FEATURE_1080P, -1},
        {HH_FEATURE_SOURCE_IMAGE, HH_REF_SOURCE_IMAGE},
        {HH_FEATURE_LAST_FRAME, HH_REF_LAST_FRAME},
        {HH_FEATURE_REFERENCE_VIDEO, HH_REF_VIDEO},
        {HH_FEATURE_REFERENCE_AUDIO, HH_REF_AUDIO},
    };
    for (size_t i = 0; i < sizeof gates / sizeof *gates; i++) {
        int used = gates[i].ref < 0 ? vr->resolution == HH_RES_1080P : vr->ref[gates[i].ref][0];
        if (used && !plan->allows[gates[i].feature])
            return reply_gate(req, plans, plan, plans_feature_field(gates[i].feature),
                              plans_cheapest_allowing(plans, gates[i].feature));
    }
    return 0;
}

/* Idempotency-Key: 1-255 visible ASCII characters. */
static int idem_key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > IDEM_KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (k[i] < 0x21 || k[i] > 0x7e)
            return 0;
    return 1;
}

static void reply_created(http_req *req, const char *id)
{
    http_reply_json(req, 202, json_pack("{s:s, s:s}", "id", id, "status", "queued"));
}

/* rate_limited 429 with Retry-After seconds, message and extra (taken). */
static void reply_capped(http_req *req, int64_t retry_after_s, const char *message, json_t *extra)
{
    char secs[24];
    snprintf(secs, sizeof secs, "%lld", (long long)(retry_after_s > 0 ? retry_after_s : 1));
    http_req_add_header(req, "Retry-After", secs);
    http_reply_error(req, API_ERR_RATE_LIMITED, message, extra);
}

/* A prompt the operator's blocklist refuses: invalid_input naming prompt, and a log line. */
static void reply_blocked(http_req *req, const api_principal *p)
{
    hh_log_fields(HH_LOG_INFO, "prompt refused by the blocklist",
                  json_pack("{s:s, s:s}", "user", p->user.id, "request_id", http_req_id(req)));
    reply_invalid(req, "prompt", "The prompt contains words this service does not accept.");
}

/* The answer to a create the transaction's guard refused (hh_create_guard). */
static void reply_guarded(http_req *req, const api_principal *p, const hh_create_guard *g)
{
    char msg[200];
    if (g->hit == HH_GUARD_REVOKED) {
        int session = !p->key.id[0];
        http_reply_error(req, session ? API_ERR_UNAUTHENTICATED : API_ERR_INVALID_API_KEY,
                         session ? "Your session has ended. Sign in again."
                                 : "The API key was deleted, or API access switched off, while "
                                   "the request was on its way.",
                         NULL);
    } else if (g->hit == HH_GUARD_QUEUED) {
        snprintf(msg, sizeof msg,
                 "%lld videos of this account are waiting in the queue, the most the %s plan "
                 "allows; retry once some have started.",
                 (long long)g->queued, p->plan->name);
        reply_capped(req, 10, msg, json_pack("{s:i}", "maxQueuedJobs", g->max_queued));
    } else {
        int64_t now = hh_time_now_ms(), day = 24LL * 3600 * 1000;
        snprintf(msg, sizeof msg,
                 "This video would pass the %s plan's %lld credits a day (%lld spent today, UTC); "
                 "the day ends in %lld s.",
                 p->plan->name, (long long)g->max_credits_per_day, (long long)g->spent_today,
                 (long long)((day - now % day + 999) / 1000));
        reply_capped(req, (day - now % day + 999) / 1000, msg,
                     json_pack("{s:I, s:I}", "maxCreditsPerDay", (json_int_t)g->max_credits_per_day,
                               "spentToday", (json_int_t)g->spent_today));
    }
}

/* Charges and enqueues: 0 with the video's id (a replay's: the first one's), or 1 after replying.
 */
static int create(hh_app *app, http_req *req, const api_principal *p, const hh_video_request *vr,
                  const char *idem_key, char id_out[HH_ID_LEN])
{
    json_t *norm = video_request_to_json(vr, HH_VR_API);
    char *text = norm ? json_dumps(norm, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(norm);
    if (!text) {
        http_reply_error(req, API_ERR_INTERNAL_ERROR, "Out of memory.", NULL);
        return 1;
    }
    uint8_t hash[CRYPTO_SHA256_LEN];
    crypto_sha256(text, strlen(text), hash);
    /* A session route's principal has no key: its session is what must still be live. */
    const dash_principal *dp = p->key.id[0] ? NULL : dash_principal_of(req);
    hh_create_guard guard = {
        .key_id = p->key.id[0] ? p->key.id : NULL,
        .session_hash = dp ? dp->session_hash : NULL,
        .max_queued = p->plan->max_queued_jobs,
        .max_credits_per_day = p->plan->max_credits_per_day,
    };
    hh_video_new in = {
        .user_id = p->user.id,
        .prompt = vr->prompt,
        .style = vr->style[0] ? vr->style : NULL,
        .duration_sec = vr->duration_sec,
        .aspect_ratio = video_aspect_name(vr->aspect),
        .resolution = video_resolution_name(vr->resolution),
        .request_json = text,
        .price = plans_price(p->plan, vr->duration_sec, vr->resolution == HH_RES_1080P),
        .plan = p->plan->name,
        .max_in_flight = p->plan->jobs_in_flight,
        .idem_key = idem_key,
        .idem_hash = idem_key ? hash : NULL,
        .guard = &guard,
    };
    char id[HH_ID_LEN], *replay = NULL;
    int64_t balance = 0;
    hh_status rc = store_video_create(app->store, &in, id, &replay, &balance);
    free(text);
    if (rc == HH_OK) {
        snprintf(id_out, HH_ID_LEN, "%s", replay ? replay : id);
    } else if (rc == HH_ERR_CREDITS) {
        http_reply_error(req, API_ERR_INSUFFICIENT_CREDITS,
                         "Not enough credits for this duration and resolution.",
                         json_pack("{s:I, s:I}", "required", (json_int_t)in.price, "balance",
                                   (json_int_t)balance));
    } else if (rc == HH_ERR_CONFLICT) {
        reply_invalid(req, NULL,
                      "This Idempotency-Key was already used with a different request body.");
    } else if ((rc == HH_ERR_DENIED || rc == HH_ERR_LIMIT) && guard.hit != HH_GUARD_NONE) {
        reply_guarded(req, p, &guard);
    } else {
        hh_error("video create failed: %s", hh_status_str(rc));
        http_reply_error(req, api_error_from_status(rc), "Could not create the video.", NULL);
    }
    free(replay);
    return rc != HH_OK;
}

int api_video_create(hh_app *app, http_req *req, const api_principal *p, const hh_video_request *vr,
                     const char *idem, char id[HH_ID_LEN])
{
    if (idem && !idem_key_ok(idem))
        return reply_invalid(req, NULL, "Idempotency-Key must be 1-255 visible ASCII characters.");
    if (app_prompt_blocked(app, vr->prompt)) {
        reply_blocked(req, p);
        return 1;
    }
    if (check_references(app, req, vr, p->user.id) || check_gates(req, app->plans, p->plan, vr))
        return 1;
    return create(app, req, p, vr, idem, id);
}

void h_videos_create(http_req *req, void *app_)
{
    hh_app *app = app_;
    const api_principal *p = api_principal_of(req);
    json_t *body = http_req_json(req);
    if (!body)
        return;
    hh_video_request *vr = malloc(sizeof *vr);
    if (!vr) {
        http_reply_error(req, API_ERR_INTERNAL_ERROR, "Out of memory.", NULL);
        return;
    }
    hh_errdetail d;
    char id[HH_ID_LEN];
    if (video_request_parse(body, HH_VR_API, vr, &d))
        reply_invalid(req, d.field, d.message);
    else if (!api_video_create(app, req, p, vr, http_req_header(req, "Idempotency-Key"), id))
        reply_created(req, id);
    free(vr);
}

int api_video_read(hh_app *app, http_req *req, const char *id, const char *user_id, hh_video *v)
{
    /* Malformed, unknown and other users' ids take the same answer. */
    hh_status rc =
        uuid_is_valid(id) ? store_video_get(app->store, id, user_id, v) : HH_ERR_NOTFOUND;
    if (rc == HH_ERR_NOTFOUND) {
        http_reply_error(req, API_ERR_NOT_FOUND, "No such video.", NULL);
        return 1;
    }
    if (rc) { /* a busy store is a 503 with Retry-After (api_error_from_status) */
        http_reply_error(req, api_error_from_status(rc), "Could not read the video.", NULL);
        return 1;
    }
    return 0;
}

/* A status answer as the status cache keeps it: a byte saying "still running", then the JSON. */
#define STATUS_TEXT_MAX 8192

/* The answer to a status poll: 200 with the JSON, Retry-After while the video is not final. */
static void reply_status(http_req *req, const char *entry, size_t len)
{
    if (entry[0] == 'r')
        http_req_add_header(req, "Retry-After", "5");
    http_reply_bytes(req, 200, "application/json", entry + 1, len - 1);
}

/*
 * Reads the video and builds its answer into entry (cap bytes): its length,
 * or 0 after replying itself (an error, or an answer too long to keep).
 */
static size_t read_status(hh_app *app, http_req *req, const char *id, const char *user_id,
                          char *entry, size_t cap)
{
    hh_video v;
    if (api_video_read(app, req, id, user_id, &v))
        return 0;
    json_t *j = video_json(&v, app->blob);
    hh_queue_place q;
    /* Where it waits; a poll that cannot say (claimed meanwhile, a busy store) just omits it. */
    if (j && v.status == HH_VIDEO_QUEUED && store_video_queue_place(app->store, id, &q) == HH_OK)
        video_json_set_queue(j, &q);
    entry[0] = v.status == HH_VIDEO_QUEUED || v.status == HH_VIDEO_PROCESSING ? 'r' : 'f';
    store_video_clear(&v);
    size_t n = j ? json_dumpb(j, entry + 1, cap - 1, JSON_COMPACT | JSON_PRESERVE_ORDER) : 0;
    if (n == 0 || n > cap - 1) {
        /* Too long to keep (a long prompt of wide characters): answered, not cached. */
        if (entry[0] == 'r')
            http_req_add_header(req, "Retry-After", "5");
        http_reply_json(req, 200, j);
        return 0;
    }
    json_decref(j);
    return n + 1;
}

/*
 * GET /api/v1/videos/{id}: the poll route, so its answer is kept in the
 * status cache (video id + owner id) while the store is unchanged.
 */
void h_videos_get(http_req *req, void *app_)
{
    hh_app *app = app_;
    const api_principal *p = api_principal_of(req);
    const char *id = http_req_param(req, "id");
    /* Malformed, unknown and other users' ids take the same answer. */
    if (!uuid_is_valid(id)) {
        http_reply_error(req, API_ERR_NOT_FOUND, "No such video.", NULL);
        return;
    }
    char key[2 * HH_ID_LEN], entry[STATUS_TEXT_MAX];
    size_t klen = (size_t)snprintf(key, sizeof key, "%s%s", id, p->user.id);
    uint64_t gen = store_generation(app->store); /* before the read it may tag */
    int64_t now = hh_time_mono_ms();
    size_t n = read_cache_get(app->status_cache, key, klen, gen, now, entry, sizeof entry);
    if (!n) {
        n = read_status(app, req, id, p->user.id, entry, sizeof entry);
        if (!n)
            return;
        read_cache_put(app->status_cache, key, klen, gen, now, entry, n);
    }
    reply_status(req, entry, n);
}

/*
 * GET /api/v1/videos/{id}/events: the status stream (text/event-stream).
 * The video is read once here, so that an unknown id is the same not_found
 * as the poll's; then a place is taken under the stream bounds
 * (video_events.h; past them rate_limited), the stream answered, and
 * handed to the watching thread, which sends every event. This pool
 * thread is free again as soon as it returns.
 */
void h_videos_events(http_req *req, void *app_)
{
    hh_app *app = app_;
    const api_principal *p = api_principal_of(req);
    const char *id = http_req_param(req, "id");
    hh_video v;
    if (api_video_read(app, req, id, p->user.id, &v))
        return;
    store_video_clear(&v);
    int got = video_events_reserve(app->events, p->key.id);
    if (got <= 0) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "Too many status streams open: at most %d per API key and %d in all; close one "
                 "or poll GET /api/v1/videos/{id}.",
                 VIDEO_EVENTS_PER_KEY, VIDEO_EVENTS_MAX);
        if (got < 0)
            http_reply_error(req, API_ERR_INTERNAL_ERROR, "Out of memory.", NULL);
        else
            reply_capped(req, 5, msg, json_pack("{s:i}", "maxStreams", VIDEO_EVENTS_PER_KEY));
        return;
    }
    http_req_add_header(req, "Cache-Control", "no-store");
    http_req_add_header(req, "X-Accel-Buffering", "no"); /* proxies must not hold events back */
    http_push *push = http_reply_push(req, 200, "text/event-stream");
    if (!push) {
        video_events_unreserve(app->events, p->key.id);
        return;
    }
    if (video_events_watch(app->events, push, id, p->user.id, p->key.id))
        hh_warn("status stream of %s: out of memory", id);
}
