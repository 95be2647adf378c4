/*
 * engine_int.h - what the engines (engine_*.c) share and callers of
 * engine.h must not use: the table of operations each engine fills in,
 * the engine object, and the frame loop every engine ends in
 * (engine_frames.c). Like store_sqlite_int.h, private to src/engine/.
 *
 * Adding an engine: write engine_<name>.c with a const engine_ops, declare
 * it below and list it in the registry of engine.c. The registry is the
 * only list of engine names; the plans file is checked against it.
 */
#ifndef HH_ENGINE_INT_H
#define HH_ENGINE_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/plans.h"
#include "engine/engine_job.h"
#include "http/http_client.h"
#include "util/status.h"

/* The x264 settings every engine's own encode uses ("preset", "threads" of the config). */
typedef struct engine_encode {
    char preset[16];
    int threads; /* 0: x264's choice */
} engine_encode;

typedef struct hh_engine hh_engine;

/*
 * What a remote engine adds: it describes requests and reads answers, it
 * sends nothing itself (jobs/remote.c does, many at once). Each call is
 * the engine.h function of the same name without the engine_remote_ prefix.
 */
typedef struct engine_remote_ops {
    hh_status (*submit)(const hh_engine *e, const hh_render_job *job,
                        const char *const url[HH_REF_COUNT], hc_request *out, char *msg,
                        size_t msgsize);
    void (*submitted)(const hh_engine *e, const hc_response *resp, engine_verdict *v);
    hh_status (*poll)(const hh_engine *e, const json_t *task, hc_request *out);
    void (*polled)(const hh_engine *e, const json_t *task, const hc_response *resp,
                   engine_verdict *v);
    hh_status (*cancel)(const hh_engine *e, const json_t *task, hc_request *out); /* NULL: none */
    hh_status (*download)(const hh_engine *e, const json_t *task, hc_request *out);
} engine_remote_ops;

typedef struct engine_ops {
    const char *name;
    /* What it is, for people (engine_label). */
    const char *label;
    /* Config keys this engine reads besides "name", "preset" and "threads"; NULL-terminated. */
    const char *const *keys;
    /*
     * Reads the engine's own settings from config (never NULL here; {} for
     * defaults) into a new e->impl. On HH_ERR_INVALID writes a one-line
     * reason into err. May be NULL for an engine with no settings.
     */
    hh_status (*configure)(hh_engine *e, const json_t *config, hh_errdetail *d);
    /* Frees e->impl (NULL-safe). May be NULL. */
    void (*release)(void *impl);
    /* Whether the configured engine can honour feature; NULL: it can do them all. */
    int (*can)(const hh_engine *e, hh_plan_feature feature);
    /* engine_render for this engine; job is already checked. NULL for a remote engine. */
    hh_status (*render)(const hh_engine *e, const hh_render_job *job, char *msg, size_t msgsize);
    /* NULL for a local engine. Its impl then starts with an engine_remote_cfg. */
    const engine_remote_ops *remote;
} engine_ops;

struct hh_engine {
    const engine_ops *ops;
    engine_encode enc;
    int check_only; /* made by engine_check_plans: settings only, no secrets read */
    void *impl;     /* the engine's own settings (owned; ops->release frees) */
};

/*
 * Reads the optional integer config[key] into *out, which keeps its value
 * when the key is absent. HH_ERR_INVALID with "engine config: KEY must be
 * an integer LO..HI" in err otherwise.
 */
hh_status engine_cfg_int(const json_t *config, const char *key, long lo, long hi, int *out,
                         hh_errdetail *d);

/*
 * Reads config[key], a string of 1..size-1 bytes without NUL, into out;
 * absent is fine unless required (out keeps its value).
 */
hh_status engine_cfg_string(const json_t *config, const char *key, int required, char *out,
                            size_t size, hh_errdetail *d);

/* Reads the optional number config[key] (lo..hi) into *out, which keeps its value when absent. */
hh_status engine_cfg_number(const json_t *config, const char *key, double lo, double hi,
                            double *out, hh_errdetail *d);

/*
 * Reads the optional array of integers config[key] (1..max of them, each
 * lo..hi) into out; *n keeps its value when the key is absent.
 */
hh_status engine_cfg_int_list(const json_t *config, const char *key, int lo, int hi, int *out,
                              size_t max, size_t *n, hh_errdetail *d);

extern const engine_ops engine_procedural_ops;
extern const engine_ops engine_exec_ops;
extern const engine_ops engine_dashscope_ops;
extern const engine_ops engine_openai_ops;
extern const engine_ops engine_fal_ops;

/* ---- what the remote engines share (engine_remote.c) ------------------ */

/* The settings every remote engine reads; each remote engine's impl starts with one. */
typedef struct engine_remote_cfg {
    char base_url[512];    /* "baseUrl", no trailing slash */
    char model[128];       /* "model": text to video */
    char image_model[128]; /* "imageModel": used when a source image is given; "" none */
    char secret[512];      /* from "apiKeyEnv" or "apiKeyFile"; never logged */
    engine_remote_limits lim;
} engine_remote_cfg;

/* A provider's defaults for the settings above. */
typedef struct engine_remote_defaults {
    const char *base_url; /* NULL: "baseUrl" is required */
    int poll_interval_sec;
    double create_per_sec, poll_per_sec;
    int inputs_as_urls;
} engine_remote_defaults;

/* Config keys engine_remote_configure reads (NULL-terminated). */
extern const char *const engine_remote_keys[];

/*
 * Reads the shared remote settings of config into *rc, with defaults def.
 * The key comes from the environment variable named by "apiKeyEnv" or the
 * file named by "apiKeyFile" (exactly one of them; the plans file never
 * holds a secret); need_secret 0 checks the settings only (plans checks
 * in commands that never call a provider). HH_ERR_INVALID with a one-line
 * reason that never contains the secret.
 */
hh_status engine_remote_configure(engine_remote_cfg *rc, const json_t *config,
                                  const engine_remote_defaults *def, int need_secret,
                                  hh_errdetail *d);

/* Frees a remote engine's impl, wiping the secret first (an ops->release). */
void engine_remote_release(void *impl);

/* The impl of a remote engine, seen as its shared settings. */
const engine_remote_cfg *engine_remote_cfg_of(const hh_engine *e);

/*
 * The prompt as a model without style or camera fields should read it:
 * the customer's prompt, then "Style: ..." when with_style, then a
 * sentence for the camera motion at its intensity. Into out (size bytes,
 * cut on a character boundary).
 */
void engine_prompt_text(const hh_video_request *req, int with_style, char *out, size_t size);

/* The value of allowed[0..n) closest to want (ties: the longer one). */
int engine_nearest(int want, const int *allowed, size_t n);

/*
 * The bytes of job's local reference file r (malloc'd, caller frees) and
 * its content type from its magic bytes. HH_ERR_INVALID with msg when
 * there is none; HH_ERR_LIMIT past 64 MiB.
 */
hh_status engine_ref_file(const hh_render_job *job, hh_ref r, unsigned char **data, size_t *len,
                          const char **type, char *msg, size_t msgsize);

/*
 * Reference r of job as the provider should see it: input_url[r] when the
 * engine sends URLs, else a data: URL of the local file job->input[r].
 * *out is malloc'd (caller frees). HH_ERR_INVALID with msg when missing.
 */
hh_status engine_ref_value(const engine_remote_cfg *rc, const hh_render_job *job,
                           const char *const input_url[HH_REF_COUNT], hh_ref r, char **out,
                           char *msg, size_t msgsize);

/*
 * The part of reading an answer every protocol shares: no answer, 429,
 * 408 and 5xx are TRANSIENT; 401 and 403 FAILED (the provider refuses our
 * key: the operator's problem, the customer is refunded). Returns 1 when
 * it decided v, 0 for an answer the engine must read itself (2xx and the
 * other 4xx). what names the step ("create", "poll") in v->detail.
 */
int engine_http_verdict(const hc_response *resp, const char *what, engine_verdict *v);

/* Parses resp's body as a JSON object; NULL (and v TRANSIENT) when it is not one. */
json_t *engine_answer_json(const hc_response *resp, const char *what, engine_verdict *v);

/* Sets v FAILED with the customer's message and the operator's detail (printf-style). */
void engine_verdict_fail(engine_verdict *v, const char *message, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The customer's message for a provider's content check refusing the request. */
#define ENGINE_MSG_MODERATION                                                                      \
    "The video provider's content check refused the prompt or a reference image."

/* ---- the frame loop (engine_frames.c) ---------------------------------- */

/* Draws output frame index (0-based, in order) as BGR24 into rgb (width*height*3). */
typedef hh_status (*engine_frame_fn)(void *ctx, int index, uint8_t *rgb, char *msg, size_t msgsize);

/*
 * The loop every engine ends in: opens the MP4 of job at the request's
 * size, asks draw for each of durationSec x 24 frames, encodes them (with
 * audio_path muxed as AAC when set), reports progress, honours cancel, and
 * writes the thumbnail from the frame at one third. comment tags the MP4.
 */
hh_status engine_run_frames(const hh_render_job *job, engine_frame_fn draw, void *ctx,
                            const char *audio_path, const engine_encode *enc, const char *comment,
                            char *msg, size_t msgsize);

/*
 * Encodes the pictures of frames_path (a video file or a "%05d" PNG
 * pattern, see media_frames_open) and the optional audio file to the
 * contract's MP4 and thumbnail for job: size of the request, exactly
 * durationSec x 24 frames, cover + centre crop. Progress reaches job's
 * callback as progress_from..100 (the generator had the share before).
 */
hh_status engine_encode_external(const hh_render_job *job, const char *frames_path,
                                 const char *audio_path, const engine_encode *enc,
                                 const char *comment, int progress_from, char *msg, size_t msgsize);

#endif
