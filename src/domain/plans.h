/*
 * plans.h - the plans a customer can be on (contract section 3): limits,
 * gated features, rate limits, prices and the engine that renders their
 * videos. The defaults of the contract are built in; an operator replaces
 * them with a JSON file (--plans FILE / HAPPYHORSE_PLANS), validated whole
 * at start-up.
 *
 * Plans are ordered from cheapest to dearest; "the cheapest plan that
 * allows X" is the first in that order that does. A loaded hh_plans is
 * immutable and may be shared by all threads.
 */
#ifndef HH_PLANS_H
#define HH_PLANS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/errdetail.h"
#include "util/status.h"

#define HH_PLANS_MAX             16
#define HH_PLAN_DEFAULT_MAX_KEYS 10 /* "maxApiKeys" when a plan does not say */

/* The `field` of plan_gate_exceeded when a plan may not publish. */
#define HH_PLAN_PUBLISH_FIELD "publish"

/* Features a plan may or may not allow; also the `field` of plan_gate_exceeded. */
typedef enum hh_plan_feature {
    HH_FEATURE_1080P,           /* field "resolution" */
    HH_FEATURE_SOURCE_IMAGE,    /* field "sourceImage" */
    HH_FEATURE_LAST_FRAME,      /* field "lastFrame" */
    HH_FEATURE_REFERENCE_VIDEO, /* field "referenceVideo" */
    HH_FEATURE_REFERENCE_AUDIO, /* field "referenceAudio" */
    HH_FEATURE_COUNT
} hh_plan_feature;

typedef struct hh_plan {
    char name[32];
    int max_duration_sec;
    int allows[HH_FEATURE_COUNT]; /* 0 or 1 */
    int requests_per_minute;
    int jobs_in_flight;
    int credits_per_sec_720p;
    int credits_per_sec_1080p;
    int publish;      /* 0 or 1: may its users publish a video to a public share page */
    int watermark;    /* 0 or 1: its outputs carry the visible "HappyHorse" mark */
    int max_api_keys; /* live API keys a user may hold (default 10) */
    int64_t
        max_credits_per_day; /* credits a user may spend per UTC day, net of refunds; 0: no cap */
    int max_queued_jobs;     /* a user's videos waiting in the queue; 0: no cap */
    char engine[32];         /* the engine's name; engine_check_plans says whether it exists */
    json_t *engine_config;   /* the plan's whole "engine" object (owned by hh_plans), may be NULL */
} hh_plan;

typedef struct hh_plans {
    hh_plan plan[HH_PLANS_MAX];
    size_t count;
} hh_plans;

/* The contract's default plans (free, basic, pro, max). Caller frees with plans_free. */
hh_status plans_default(hh_plans **out);

/*
 * Loads plans from a JSON file. Empties *d (may be NULL); on a validation
 * error returns HH_ERR_INVALID with a one-line reason naming the plan and
 * field in d->message (d->field stays ""). A file that cannot be opened
 * is HH_ERR_IO, with a reason too.
 */
hh_status plans_load_file(const char *path, hh_plans **out, hh_errdetail *d);

/* Same, from a JSON text (used by the file loader and by tests). */
hh_status plans_load_json(const char *text, size_t len, hh_plans **out, hh_errdetail *d);

void plans_free(hh_plans *plans);

/* The plan named name, or NULL. Borrowed from plans. */
const hh_plan *plans_find(const hh_plans *plans, const char *name);

/* The cheapest plan allowing feature, or NULL if none does. */
const hh_plan *plans_cheapest_allowing(const hh_plans *plans, hh_plan_feature feature);

/* The cheapest plan that may publish, or NULL if none may. */
const hh_plan *plans_cheapest_publishing(const hh_plans *plans);

/* The cheapest plan whose max duration is at least seconds, or NULL. */
const hh_plan *plans_cheapest_duration(const hh_plans *plans, int seconds);

/* The contract's `field` name of a feature ("resolution", "sourceImage", ...). */
const char *plans_feature_field(hh_plan_feature feature);

/* The key of a feature in the plans file's "allow" object ("1080p", "lastFrame", ...). */
const char *plans_allow_key(hh_plan_feature feature);

/* Credits for a video of seconds at 1080p (is_1080p) or 720p on plan. */
int64_t plans_price(const hh_plan *plan, int seconds, int is_1080p);

/* The plans as a JSON array (for the dashboard and `--print-plans`). New reference. */
json_t *plans_to_json(const hh_plans *plans);

#endif
