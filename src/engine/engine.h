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
#include "util/status.h"

typedef struct hh_engine hh_engine;

/*
 * Makes the engine called name with config (borrowed; NULL = defaults; the
 * plans file passes its whole "engine" object, "name" included). On
 * HH_ERR_INVALID (unknown name, bad config) writes a one-line reason into
 * err. Free with engine_free.
 */
hh_status engine_new(const char *name, const json_t *config, hh_engine **out, char *err,
                     size_t errsize);

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

/*
 * Whether the engine, as configured, can honour feature (the plan gates of
 * plans.h): a plan must never sell what its engine cannot make.
 */
int engine_can(const hh_engine *engine, hh_plan_feature feature);

/*
 * Checks every plan of plans against the registry: its engine exists, its
 * config is valid and the engine can do everything the plan allows. On the
 * first failure returns HH_ERR_INVALID with one line naming the plan and
 * the field in err. Run at start by every command that loads plans.
 */
hh_status engine_check_plans(const hh_plans *plans, char *err, size_t errsize);

/* Frees engine (NULL is fine); no render may be running on it. */
void engine_free(hh_engine *engine);

#endif
