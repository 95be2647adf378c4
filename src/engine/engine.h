/*
 * engine.h - the generation engines: turn one job (a validated create-video
 * request plus local input files and a seed) into an MP4 and a JPEG
 * thumbnail of the contract (section 5).
 *
 * Engines are chosen by name with a JSON config object, as the plans file
 * does per plan ("the model is chosen by the customer's plan"). The
 * registry (engine.c) knows every engine; docs/engines.md has their
 * settings:
 *   "procedural"  built in, CPU only, a preview renderer, not an AI model
 *                 (config: optional "preset", "threads", "drawThreads")
 *   "exec"        any external generator (config: "command" argv array,
 *                 optional "timeoutSec", "preset", "threads")
 *   "dashscope"   Alibaba Cloud Model Studio: HappyHorse and Wan models
 *   "openai-videos"  any service with the OpenAI-style /v1/videos shape
 *   "fal"         fal's queue API
 * The last three are remote: they do not render on the calling thread but
 * describe HTTP requests to a provider and read its answers (the
 * engine_remote_* calls below); the jobs layer sends them, keeps the
 * provider's task in the store and brings the result home.
 * An hh_engine holds only its configuration: it is immutable after
 * engine_new and one instance may render many jobs at once from many
 * threads.
 *
 * A render writes the MP4 and the thumbnail to the paths it is given (the
 * caller picks temporary names and renames them once engine_render returns
 * HH_OK). On failure both paths may hold partial files, which the caller
 * removes; the message is one line fit for the customer's errorMessage
 * (it never contains a server path).
 *
 * The process must ignore SIGPIPE (the server does; `happyhorse render`
 * does): the exec engine writes the job to a generator that may close its
 * stdin early.
 */
#ifndef HH_ENGINE_H
#define HH_ENGINE_H

#include <jansson.h>
#include <stddef.h>

#include "domain/plans.h"
#include "engine/engine_job.h"
#include "http/http_client.h"
#include "util/errdetail.h"
#include "util/status.h"

typedef struct hh_engine hh_engine;

/*
 * Makes the engine called name with config (borrowed; NULL = defaults; the
 * plans file passes its whole "engine" object, "name" included). On
 * HH_ERR_INVALID (unknown name, bad config) writes a one-line reason into
 * err. Free with engine_free.
 */
hh_status engine_new(const char *name, const json_t *config, hh_engine **out, hh_errdetail *d);

/*
 * Renders job. Returns HH_OK, HH_ERR_CANCELED when job->cancel was raised,
 * HH_ERR_INVALID when an input cannot be used (e.g. "reference video could
 * not be decoded"), HH_ERR_LIMIT on the exec time limit, HH_ERR_IO or
 * HH_ERR_INTERNAL otherwise; msg (msgsize bytes, HH_ENGINE_MSG_MAX is
 * plenty) receives the reason. Thread-safe.
 */
hh_status engine_render(const hh_engine *engine, const hh_render_job *job, char *msg,
                        size_t msgsize);

/* The engine's name ("procedural", "exec"). Static for the engine's life. */
const char *engine_name(const hh_engine *engine);

/*
 * What the engine is, in a few words for people (the serve banner, the
 * dashboard, `admin plan list`): e.g. "built-in procedural preview
 * renderer, not an AI model". Static.
 */
const char *engine_label(const hh_engine *engine);

/* engine_label of the engine called name, without making one; NULL for an unknown name. */
const char *engine_label_of(const char *name);

/*
 * Whether the engine, as configured, can honour feature (the plan gates of
 * plans.h): a plan must never sell what its engine cannot make.
 */
int engine_can(const hh_engine *engine, hh_plan_feature feature);

/*
 * Checks every plan of plans against the registry: its engine exists, its
 * config is valid and the engine can do everything the plan allows. On the
 * first failure returns HH_ERR_INVALID with one line naming the plan and
 * the field in d->message (d->field: the plan's name). Run at start by
 * every command that loads plans.
 */
hh_status engine_check_plans(const hh_plans *plans, hh_errdetail *d);

/* Frees engine (NULL is fine); no render may be running on it. */
void engine_free(hh_engine *engine);

/* ---- remote engines ------------------------------------------------------ */

/* 1 for an engine that hands jobs to a provider (engine_render refuses them). */
int engine_is_remote(const hh_engine *engine);

/* The limits of a remote engine (NULL for a local one). Static for the engine's life. */
const engine_remote_limits *engine_remote_limits_of(const hh_engine *engine);

/* Releases what v owns and zeroes it (outcome RUNNING, progress -1, retry_after -1). */
void engine_verdict_clear(engine_verdict *v);

/*
 * Builds the provider's create request for job into *out (caller clears):
 * the model picked by the job's inputs, the request mapped to the
 * provider's parameters, references from job->input paths (read into data:
 * URLs) or from input_url (URLs of our storage) as the limits say.
 * HH_ERR_INVALID with msg for a job the engine cannot take.
 */
hh_status engine_remote_submit(const hh_engine *engine, const hh_render_job *job,
                               const char *const input_url[HH_REF_COUNT], hc_request *out,
                               char *msg, size_t msgsize);
/* Reads the create's answer: DONE is never given; RUNNING carries the new task in v->task. */
void engine_remote_submitted(const hh_engine *engine, const hc_response *resp, engine_verdict *v);
/* Builds the next poll of task. */
hh_status engine_remote_poll(const hh_engine *engine, const json_t *task, hc_request *out);
/* Reads a poll's answer. */
void engine_remote_polled(const hh_engine *engine, const json_t *task, const hc_response *resp,
                          engine_verdict *v);
/* Builds the provider's cancel of task; HH_ERR_CONFLICT when the provider has none. */
hh_status engine_remote_cancel(const hh_engine *engine, const json_t *task, hc_request *out);
/* Builds the download of a DONE task's result. */
hh_status engine_remote_download(const hh_engine *engine, const json_t *task, hc_request *out);
/*
 * Turns the downloaded result at path into the contract's asset for job
 * (our own re-encode: exact size and length, faststart, thumbnail, the
 * reference audio muxed when given). HH_ERR_INVALID when it is not a
 * decodable video.
 */
hh_status engine_remote_finish(const hh_engine *engine, const hh_render_job *job, const char *path,
                               char *msg, size_t msgsize);

#endif
