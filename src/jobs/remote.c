/*
 * remote.c - the remote-task driver and the render thread's collect step
 * (see remote.h).
 *
 * The driver is one thread: every tick it claims, per remote plan, the due
 * creates and polls its rate budget and its room for requests in flight
 * allow, turns each into a request (engine_remote_submit/_poll), adds it
 * to one curl multi handle and, as answers come in, asks the engine what
 * they mean (engine_remote_submitted/_polled) and writes that to the store.
 * A request in flight is a `call`: it owns the task's JSON until its answer
 * has been written. Nothing here sleeps on a provider: a hanging provider
 * costs a connection until the request's time limit, not a thread.
 */
#include "jobs/remote.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_client.h"
#include "jobs/job_inputs.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/timeutil.h"

#define TICK_MS            200
#define BACKOFF_MAX_MS     60000
#define HAND_OFFS_PER_TICK 64    /* queued jobs a tick hands to providers, at most */
#define HAND_OFF_LEASE_MS  60000 /* the claim's lease, given up at once by the hand-off */
#define STOP_WAIT_MS       35000 /* for creates in flight at a stop (the default request limit + 5 s) */
#define ANSWER_MAX         (1024 * 1024)
#define DOWNLOAD_TIME_MS   (15 * 60 * 1000)

typedef enum call_kind { CALL_CREATE, CALL_POLL, CALL_CANCEL } call_kind;

/* Requests per second, refilled continuously, at most one second's worth banked. */
typedef struct bucket {
    double tokens, rate;
    int64_t at_ms;
} bucket;

typedef struct plan_slot {
    const hh_plan *plan;
    const hh_engine *engine;
    const engine_remote_limits *lim;
    bucket creates, polls;
    int in_flight;
} plan_slot;

typedef struct call {
    struct call *prev, *next; /* the driver's list of calls in flight */
    call_kind kind;
    plan_slot *slot;
    char video_id[HH_ID_LEN];
    json_t *task; /* owned; NULL for a create */
    int errors;   /* consecutive transient errors before this call */
    int64_t deadline_at, started_at;
} call;

struct remote_driver {
    remote_config cfg;
    char owner[64], scratch[1024];
    plan_slot slots[HH_PLANS_MAX];
    size_t nslots;
    char *plans_json; /* the remote plans' names, a JSON array for store_job_claim_plans */
    hc_multi *multi;
    call *calls;
    int creates_in_flight;
    pthread_t thread;
    atomic_int stopping;
    atomic_uint_fast64_t sent[3], outcome[4];
};

/* ---- pacing ---- */

static void bucket_init(bucket *b, double rate)
{
    b->rate = rate;
    b->tokens = rate < 1 ? 1 : rate;
    b->at_ms = hh_time_mono_ms();
}

/* Whole requests the bucket allows now. */
static int bucket_room(bucket *b)
{
    int64_t now = hh_time_mono_ms();
    double cap = b->rate < 1 ? 1 : b->rate;
    b->tokens += (double)(now - b->at_ms) * b->rate / 1000.0;
    b->tokens = b->tokens > cap ? cap : b->tokens;
    b->at_ms = now;
    return (int)b->tokens;
}

/* The wait before retrying after errors transient errors in a row: 2^n s up to a minute, +-20%. */
static int64_t backoff_ms(int errors, long retry_after)
{
    int64_t ms = 1000LL << (errors < 6 ? errors : 6);
    ms = ms > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms;
    uint16_t r = 0;
    crypto_random(&r, sizeof r);
    ms = ms * (80 + r % 41) / 100;
    if (retry_after > 0 && retry_after * 1000 > ms)
        ms = retry_after * 1000;
    return ms;
}

/* What the customer sees while the provider works: its figure, else one that grows with time. */
static int progress_of(int provider, int64_t started_at, int64_t now)
{
    if (provider >= 0)
        return 5 + (provider > 100 ? 100 : provider) * 84 / 100;
    int64_t s = (now - started_at) / 1000;
    return (int)(5 + 80 * s / (s + 60));
}

/* ---- calls ---- */

static void call_free(remote_driver *d, call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else if (d->calls == c)
        d->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->kind == CALL_CREATE)
        d->creates_in_flight--;
    if (c->kind != CALL_CANCEL)
        c->slot->in_flight--;
    json_decref(c->task);
    free(c);
}

/* Sends req as call c (takes c; on failure frees it). */
static hh_status call_send(remote_driver *d, call *c, const hc_request *req)
{
    hc_limits lim = {.timeout_ms = c->slot->lim->request_timeout_ms, .max_body = ANSWER_MAX};
    c->next = d->calls;
    if (d->calls)
        d->calls->prev = c;
    d->calls = c;
    if (c->kind == CALL_CREATE)
        d->creates_in_flight++;
    if (c->kind != CALL_CANCEL)
        c->slot->in_flight++;
    hh_status rc = hc_multi_add(d->multi, req, &lim, c);
    if (rc) {
        call_free(d, c);
        return rc;
    }
    atomic_fetch_add(&d->sent[c->kind], 1);
    return HH_OK;
}

/* Asks the provider to stop task (fire and forget: the video is already settled). */
static void send_cancel(remote_driver *d, plan_slot *s, const char *video_id, const json_t *task)
{
    hc_request req = {0};
    call *c = task ? calloc(1, sizeof *c) : NULL;
    if (c && engine_remote_cancel(s->engine, task, &req) == HH_OK) {
        c->kind = CALL_CANCEL;
        c->slot = s;
        snprintf(c->video_id, sizeof c->video_id, "%s", video_id);
        call_send(d, c, &req);
    } else {
        free(c);
    }
    hc_request_clear(&req);
}

/*
 * Fails the video (refunded once by the store); task, when given, is still
 * alive at the provider and is canceled there.
 */
static void fail_task(remote_driver *d, plan_slot *s, const char *video_id, const json_t *task,
                      const char *message, const char *detail)
{
    hh_status rc = store_remote_fail(d->cfg.store, video_id, d->owner, message, detail);
    hh_log_fields(HH_LOG_WARN, "remote task failed",
                  json_pack("{s:s, s:s, s:s, s:s, s:s}", "video", video_id, "engine",
                            engine_name(s->engine), "message", message, "detail",
                            detail ? detail : "", "store", hh_status_str(rc)));
    send_cancel(d, s, video_id, task);
}

/* ---- starting calls ---- */

/* Builds the create of t: its video's request and references, as the engine wants them. */
static hh_status build_create(remote_driver *d, plan_slot *s, const hh_remote_task *t,
                              hc_request *req, char *msg, size_t msgsize)
{
    hh_video v;
    hh_video_request *vr = malloc(sizeof *vr);
    job_inputs *in = calloc(1, sizeof *in);
    hh_status rc = vr && in ? store_video_get_any(d->cfg.store, t->video_id, &v) : HH_ERR_NOMEM;
    if (rc) {
        free(vr);
        free(in);
        return rc;
    }
    int urls = s->lim->inputs_as_urls;
    rc = job_request(&v, vr);
    if (!rc && !urls)
        rc = job_dir_make(d->scratch, &v, "create-", in, msg, msgsize);
    if (!rc)
        rc = job_fetch_inputs(d->cfg.blob, vr, !urls, urls, in, msg, msgsize);
    if (!rc) {
        hh_render_job job = {.req = vr, .seed = job_seed(v.id)};
        const char *url[HH_REF_COUNT] = {0};
        for (int r = 0; r < HH_REF_COUNT; r++) {
            job.input[r] = in->input[r][0] ? in->input[r] : NULL;
            url[r] = in->url[r][0] ? in->url[r] : NULL;
        }
        rc = engine_remote_submit(s->engine, &job, url, req, msg, msgsize);
    }
    job_dir_remove(in);
    store_video_clear(&v);
    free(in);
    free(vr);
    return rc;
}

static void start_create(remote_driver *d, plan_slot *s, const hh_remote_task *t)
{
    char msg[HH_ENGINE_MSG_MAX] = "";
    hc_request req = {0};
    call *c = calloc(1, sizeof *c);
    hh_status rc = c ? build_create(d, s, t, &req, msg, sizeof msg) : HH_ERR_NOMEM;
    if (!rc) {
        c->kind = CALL_CREATE;
        c->slot = s;
        c->errors = t->errors;
        c->deadline_at = t->deadline_at;
        c->started_at = t->created_at;
        snprintf(c->video_id, sizeof c->video_id, "%s", t->video_id);
        rc = call_send(d, c, &req);
        c = NULL;
    }
    free(c);
    hc_request_clear(&req);
    if (rc == HH_ERR_INVALID)
        fail_task(d, s, t->video_id, NULL, msg[0] ? msg : "This video cannot be made here.",
                  "create: the engine refused the job");
    else if (rc) /* ours (memory, storage): try again after a pause, no attempt spent */
        store_remote_update(
            d->cfg.store, t->video_id, d->owner,
            &(hh_remote_update){.next_at = hh_time_now_ms() + backoff_ms(t->errors, -1),
                                .transient = 1,
                                .progress = -1,
                                .detail = hh_status_str(rc)});
}

static void start_poll(remote_driver *d, plan_slot *s, const hh_remote_task *t)
{
    hc_request req = {0};
    json_t *task = t->task ? json_loads(t->task, 0, NULL) : NULL;
    call *c = task ? calloc(1, sizeof *c) : NULL;
    hh_status rc = c ? engine_remote_poll(s->engine, task, &req) : HH_ERR_INTERNAL;
    if (!rc) {
        c->kind = CALL_POLL;
        c->slot = s;
        c->task = task;
        c->errors = t->errors;
        c->deadline_at = t->deadline_at;
        c->started_at = t->submitted_at ? t->submitted_at : t->created_at;
        snprintf(c->video_id, sizeof c->video_id, "%s", t->video_id);
        task = NULL;
        rc = call_send(d, c, &req);
        c = NULL;
    }
    free(c);
    hc_request_clear(&req);
    if (rc)
        fail_task(d, s, t->video_id, task, "The video provider's task could not be followed.",
                  "poll: the stored task does not make a request");
    json_decref(task);
}

/*
 * Stops at their providers the tasks of plan slot s whose videos were
 * canceled (phase CANCEL, store_video_cancel), then settles them. The
 * video is settled already, so like every cancel this is fire and forget.
 */
static void cancel_slot(remote_driver *d, plan_slot *s)
{
    hh_remote_task *tasks = NULL;
    size_t n = 0;
    int64_t claim_ms = d->cfg.claim_ms ? d->cfg.claim_ms : 2LL * s->lim->request_timeout_ms + 5000;
    if (store_remote_claim(d->cfg.store, s->plan->name, HH_REMOTE_CANCEL, d->owner, claim_ms, 16,
                           &tasks, &n))
        return;
    for (size_t i = 0; i < n; i++) {
        json_t *task = tasks[i].task ? json_loads(tasks[i].task, 0, NULL) : NULL;
        send_cancel(d, s, tasks[i].video_id, task);
        json_decref(task);
        hh_status rc = store_remote_canceled(d->cfg.store, tasks[i].video_id, d->owner);
        hh_log_fields(HH_LOG_INFO, "remote task of a canceled video: provider told to stop",
                      json_pack("{s:s, s:s, s:s}", "video", tasks[i].video_id, "engine",
                                engine_name(s->engine), "store", hh_status_str(rc)));
    }
    store_remote_list_free(tasks, n);
}

/* Claims and starts what plan slot s may send now. */
static void claim_slot(remote_driver *d, plan_slot *s)
{
    cancel_slot(d, s);
    static const hh_remote_phase phases[] = {HH_REMOTE_SUBMIT, HH_REMOTE_WAIT};
    for (size_t p = 0; p < 2; p++) {
        int room = s->lim->max_in_flight - s->in_flight;
        int budget = bucket_room(p == 0 ? &s->creates : &s->polls);
        int max = room < budget ? room : budget;
        if (max <= 0)
            continue;
        hh_remote_task *tasks = NULL;
        size_t n = 0;
        /* A claim outlives its request: twice the request's limit, and some. */
        int64_t claim_ms =
            d->cfg.claim_ms ? d->cfg.claim_ms : 2LL * s->lim->request_timeout_ms + 5000;
        if (store_remote_claim(d->cfg.store, s->plan->name, phases[p], d->owner, claim_ms, max,
                               &tasks, &n))
            continue;
        int64_t now = hh_time_now_ms();
        for (size_t i = 0; i < n; i++) {
            const hh_remote_task *t = &tasks[i];
            if (now > t->deadline_at) {
                json_t *task = t->task ? json_loads(t->task, 0, NULL) : NULL;
                char message[160];
                int secs = s->lim->timeout_sec;
                snprintf(message, sizeof message, "The video provider did not finish within %d %s.",
                         secs < 120 ? secs : (secs + 59) / 60, secs < 120 ? "seconds" : "minutes");
                fail_task(d, s, t->video_id, task, message, "time limit exceeded");
                json_decref(task);
            } else if (phases[p] == HH_REMOTE_SUBMIT) {
                start_create(d, s, t);
            } else {
                start_poll(d, s, t);
            }
        }
        (p == 0 ? &s->creates : &s->polls)->tokens -= (double)n;
        store_remote_list_free(tasks, n);
    }
}

/* ---- answers ---- */

static void on_transient(remote_driver *d, call *c, const engine_verdict *v, int64_t now)
{
    hh_remote_update u = {.next_at = now + backoff_ms(c->errors, v->retry_after),
                          .transient = 1,
                          .progress = -1,
                          .detail = v->detail};
    if (store_remote_update(d->cfg.store, c->video_id, d->owner, &u) == HH_ERR_CONFLICT)
        send_cancel(d, c->slot, c->video_id, c->task);
    hh_log_fields(HH_LOG_INFO, "remote task: provider unavailable, backing off",
                  json_pack("{s:s, s:s, s:i, s:I}", "video", c->video_id, "detail", v->detail,
                            "errors", c->errors + 1, "retryInMs", (json_int_t)(u.next_at - now)));
}

/* A create or poll answered and the task goes on: record it and when to look again. */
static void on_running(remote_driver *d, call *c, engine_verdict *v, int64_t now)
{
    const json_t *task = v->task ? v->task : c->task;
    char *text = task ? json_dumps(task, JSON_COMPACT) : NULL;
    hh_remote_update u = {
        .task = text,
        .next_at = v->poll_now ? now : now + c->slot->lim->poll_interval_ms,
        .created = c->kind == CALL_CREATE,
        .progress = progress_of(v->progress, c->started_at, now),
    };
    hh_status rc =
        text ? store_remote_update(d->cfg.store, c->video_id, d->owner, &u) : HH_ERR_NOMEM;
    if (rc == HH_ERR_CONFLICT) /* the video was settled meanwhile (an operator's fail) */
        send_cancel(d, c->slot, c->video_id, task);
    else if (rc)
        hh_warn("remote task %s: the answer could not be recorded: %s", c->video_id,
                hh_status_str(rc));
    free(text);
}

static void on_done(remote_driver *d, call *c, engine_verdict *v)
{
    char *task = json_dumps(v->task ? v->task : c->task, JSON_COMPACT);
    char *usage = v->usage ? json_dumps(v->usage, JSON_COMPACT) : NULL;
    const json_t *billed = json_object_get(v->usage, "duration");
    double cost =
        c->slot->lim->cost_per_sec * (json_is_number(billed) ? json_number_value(billed) : 0);
    hh_status rc =
        task ? store_remote_collect(d->cfg.store, c->video_id, d->owner, task, usage, cost)
             : HH_ERR_NOMEM;
    if (rc)
        hh_warn("remote task %s: done at the provider, but not recorded: %s", c->video_id,
                hh_status_str(rc));
    free(task);
    free(usage);
}

/* hc_multi's callback: what one answer means, written to the store. */
static void on_answer(void *ctx, void *tag, hc_response *resp)
{
    remote_driver *d = ctx;
    call *c = tag;
    engine_verdict v = {0};
    engine_verdict_clear(&v);
    int64_t now = hh_time_now_ms();
    if (c->kind == CALL_CANCEL) {
        hh_log_fields(
            HH_LOG_INFO, "remote task canceled at the provider",
            json_pack("{s:s, s:I}", "video", c->video_id, "status", (json_int_t)resp->status));
        call_free(d, c);
        return;
    }
    if (c->kind == CALL_CREATE)
        engine_remote_submitted(c->slot->engine, resp, &v);
    else
        engine_remote_polled(c->slot->engine, c->task, resp, &v);
    atomic_fetch_add(&d->outcome[v.outcome], 1);
    switch (v.outcome) {
    case ENGINE_RUNNING:
        on_running(d, c, &v, now);
        break;
    case ENGINE_DONE:
        on_done(d, c, &v);
        break;
    case ENGINE_TRANSIENT:
        on_transient(d, c, &v, now);
        break;
    case ENGINE_FAILED: /* the provider ended the task itself: nothing to cancel */
        fail_task(d, c->slot, c->video_id, NULL, v.message, v.detail);
        break;
    }
    engine_verdict_clear(&v);
    call_free(d, c);
}

/* ---- hand-offs ---- */

static plan_slot *slot_of(remote_driver *d, const char *plan)
{
    for (size_t i = 0; i < d->nslots; i++)
        if (!strcmp(d->slots[i].plan->name, plan))
            return &d->slots[i];
    return NULL;
}

/*
 * Hands queued jobs of the remote plans to their providers, as render
 * threads also do, so that they never wait behind renders and downloads:
 * the claim is the queue's own (fair, within each user's jobs in flight).
 */
static void hand_off_queued(remote_driver *d)
{
    for (int i = 0; i < HAND_OFFS_PER_TICK && !atomic_load(&d->stopping); i++) {
        hh_video v;
        if (store_job_claim_plans(d->cfg.store, d->owner, HAND_OFF_LEASE_MS, d->plans_json, &v))
            return; /* none queued (or the store is busy: the next tick tries again) */
        plan_slot *s = slot_of(d, v.plan);
        char msg[HH_ENGINE_MSG_MAX] = "";
        int handed = 0;
        hh_status rc = s ? remote_hand_off(d->cfg.store, s->engine, s->plan, &v, d->owner, &handed,
                                           msg, sizeof msg)
                         : HH_ERR_INVALID;
        if (rc || !handed)
            store_job_release(d->cfg.store, v.id, d->owner);
        store_video_clear(&v);
    }
}

/* ---- the thread ---- */

static void *driver_thread(void *arg)
{
    remote_driver *d = arg;
    while (!atomic_load(&d->stopping)) {
        hand_off_queued(d);
        for (size_t i = 0; i < d->nslots; i++)
            claim_slot(d, &d->slots[i]);
        if (hc_multi_run(d->multi, TICK_MS, on_answer, d))
            hh_warn("remote driver: the transfer loop failed; retrying");
    }
    /* A create cut off now may still make a task at the provider: let them answer. */
    int64_t until = hh_time_mono_ms() + STOP_WAIT_MS;
    while (d->creates_in_flight > 0 && hh_time_mono_ms() < until)
        hc_multi_run(d->multi, TICK_MS, on_answer, d);
    return NULL;
}

hh_status remote_driver_start(const remote_config *cfg, remote_driver **out)
{
    *out = NULL;
    remote_driver *d = calloc(1, sizeof *d);
    if (!d)
        return HH_ERR_NOMEM;
    d->cfg = *cfg;
    snprintf(d->owner, sizeof d->owner, "%s", cfg->owner);
    snprintf(d->scratch, sizeof d->scratch, "%s", cfg->scratch);
    d->cfg.owner = d->owner;
    d->cfg.scratch = d->scratch;
    for (size_t i = 0; i < cfg->plans->count; i++) {
        if (!cfg->engines[i] || !engine_is_remote(cfg->engines[i]))
            continue;
        plan_slot *s = &d->slots[d->nslots++];
        s->plan = &cfg->plans->plan[i];
        s->engine = cfg->engines[i];
        s->lim = engine_remote_limits_of(s->engine);
        bucket_init(&s->creates, s->lim->create_per_sec);
        bucket_init(&s->polls, s->lim->poll_per_sec);
    }
    if (d->nslots == 0) {
        free(d);
        return HH_OK;
    }
    json_t *names = json_array();
    for (size_t i = 0; names && i < d->nslots; i++)
        json_array_append_new(names, json_string(d->slots[i].plan->name));
    d->plans_json = names ? json_dumps(names, JSON_COMPACT) : NULL;
    json_decref(names);
    int parallel = 0;
    for (size_t i = 0; i < d->nslots; i++)
        parallel += d->slots[i].lim->max_in_flight + 8; /* + room for cancels */
    hh_status rc = d->plans_json ? hc_multi_new(parallel, &d->multi) : HH_ERR_NOMEM;
    if (!rc && pthread_create(&d->thread, NULL, driver_thread, d))
        rc = HH_ERR_NOMEM;
    if (rc) {
        hc_multi_free(d->multi);
        free(d->plans_json);
        free(d);
        return rc;
    }
    hh_info("remote driver %s: %zu plans hand their jobs to providers", d->owner, d->nslots);
    *out = d;
    return HH_OK;
}

void remote_driver_stop(remote_driver *d)
{
    if (!d)
        return;
    atomic_store(&d->stopping, 1);
    pthread_join(d->thread, NULL);
    hc_multi_free(d->multi); /* abandons the polls in flight: their claims are given back below */
    while (d->calls) {
        call *c = d->calls;
        d->calls = c->next;
        json_decref(c->task);
        free(c);
    }
    store_remote_release(d->cfg.store, d->owner);
    free(d->plans_json);
    free(d);
}

char *remote_driver_metrics(remote_driver *d)
{
    static const char *const kinds[] = {"create", "poll", "cancel"};
    static const char *const outcomes[] = {"running", "done", "failed", "transient"};
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return NULL;
    fprintf(f, "# HELP happyhorse_provider_requests_total Requests this process sent to video "
               "providers.\n# TYPE happyhorse_provider_requests_total counter\n");
    for (int k = 0; k < 3; k++)
        fprintf(f, "happyhorse_provider_requests_total{kind=\"%s\"} %llu\n", kinds[k],
                d ? (unsigned long long)atomic_load(&d->sent[k]) : 0ULL);
    fprintf(f, "# HELP happyhorse_provider_answers_total What providers' answers meant.\n"
               "# TYPE happyhorse_provider_answers_total counter\n");
    for (int o = 0; o < 4; o++)
        fprintf(f, "happyhorse_provider_answers_total{outcome=\"%s\"} %llu\n", outcomes[o],
                d ? (unsigned long long)atomic_load(&d->outcome[o]) : 0ULL);
    if (fclose(f)) {
        free(text);
        return NULL;
    }
    return text;
}

/* ---- the render thread's part ---- */

/* Downloads the result of task into dir/result.mp4. Customer's message in msg. */
static hh_status download(const hh_engine *engine, const json_t *task, const char *path, char *msg,
                          size_t msgsize)
{
    const engine_remote_limits *lim = engine_remote_limits_of(engine);
    hc_request req = {0};
    hc_response resp = {0};
    hc_limits hl = {
        .timeout_ms = DOWNLOAD_TIME_MS, .max_body = (size_t)lim->max_download, .max_redirects = 3};
    hh_status rc = engine_remote_download(engine, task, &req);
    if (!rc)
        rc = hc_download(&req, &hl, path, &resp);
    if (!rc && (resp.status < 200 || resp.status >= 300)) {
        hh_warn("remote result download: HTTP %ld", resp.status);
        snprintf(msg, msgsize, "The video provider's result could not be downloaded.");
        rc = HH_ERR_INVALID; /* an expired or missing result does not come back by retrying */
    } else if (rc == HH_ERR_LIMIT) {
        snprintf(msg, msgsize, "The video provider's result is larger than this service accepts.");
        rc = HH_ERR_INVALID;
    } else if (rc) {
        hh_warn("remote result download: %s", resp.error);
        snprintf(msg, msgsize, "The video provider's result could not be downloaded.");
    }
    hc_request_clear(&req);
    hc_response_clear(&resp);
    return rc;
}

hh_status remote_hand_off(hh_store *st, const hh_engine *engine, const hh_plan *plan,
                          const hh_video *v, const char *worker_id, int *handed_off, char *msg,
                          size_t msgsize)
{
    *handed_off = 0;
    hh_remote_task t;
    hh_status rc = store_remote_get(st, v->id, &t);
    if (rc == HH_ERR_NOTFOUND) {
        int64_t limit_ms = (int64_t)engine_remote_limits_of(engine)->timeout_sec * 1000;
        rc = store_remote_begin(st, v->id, worker_id, plan->name, engine_name(engine),
                                hh_time_now_ms() + limit_ms);
        *handed_off = rc == HH_OK;
        if (rc)
            snprintf(msg, msgsize, "The job could not be handed to the video provider.");
        return rc;
    }
    if (!rc && t.phase != HH_REMOTE_COLLECT)
        rc = HH_ERR_CONFLICT;
    store_remote_clear(&t);
    if (rc)
        snprintf(msg, msgsize, "The job's provider task could not be read.");
    return rc;
}

hh_status remote_collect_result(hh_store *st, const hh_engine *engine, const hh_video *v,
                                const hh_render_job *job, const char *dir, char *msg,
                                size_t msgsize)
{
    hh_remote_task t;
    hh_status rc = store_remote_get(st, v->id, &t);
    json_t *task = !rc && t.task ? json_loads(t.task, 0, NULL) : NULL;
    if (!rc)
        store_remote_clear(&t);
    if (!task) {
        snprintf(msg, msgsize, "The job's provider task could not be read.");
        return rc ? rc : HH_ERR_INTERNAL;
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/result.mp4", dir);
    rc = download(engine, task, path, msg, msgsize);
    if (!rc)
        rc = engine_remote_finish(engine, job, path, msg, msgsize);
    json_decref(task);
    return rc;
}
