/*
 * engine_job.h - the types the callers of engine.h and the engines
 * themselves (engine_int.h) share, so neither has to include the other:
 * what one render is given (the validated request, local input files, a
 * seed, where to write the MP4 and the thumbnail, progress and cancel
 * hooks), and for remote engines their limits and the verdict on a
 * provider's answer.
 */
#ifndef HH_ENGINE_JOB_H
#define HH_ENGINE_JOB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "domain/video_request.h"

#define HH_ENGINE_MSG_MAX 512 /* a good size for the msg buffer of engine_render */

/* Called with 0..100 as frames are done, on the thread that called engine_render. */
typedef void (*hh_progress_fn)(void *ctx, int percent);

typedef struct hh_render_job {
    /* The request; its ref[] fields are ignored, inputs come from the paths below. */
    const hh_video_request *req;
    uint64_t seed;
    /* Local input files or NULL, indexed by hh_ref (source image, last frame, video, audio). */
    const char *input[HH_REF_COUNT];
    /* Where to write the results. */
    const char *video_path;
    const char *thumb_path;
    /* Optional: progress reports and a flag that, once non-zero, stops the render. */
    hh_progress_fn progress;
    void *progress_ctx;
    const atomic_int *cancel;
} hh_render_job;

/* ---- remote engines: their limits and what an answer means ---- */

/* The pace and bounds a remote engine's configuration sets (defaults filled in). */
typedef struct engine_remote_limits {
    int poll_interval_ms;   /* between polls of one task */
    int timeout_sec;        /* from hand-off to a result, else the video fails */
    int request_timeout_ms; /* one create or poll, answer included */
    double create_per_sec;  /* creates this process sends at most, per engine */
    double poll_per_sec;    /* polls this process sends at most, per engine */
    int max_in_flight;      /* requests at once to this provider */
    int64_t max_download;   /* bytes of a result */
    int inputs_as_urls;     /* 1: send references as URLs of our storage; 0: as data: URLs */
    double cost_per_sec;    /* operator's cost per second of output (0: not configured) */
} engine_remote_limits;

/* What a provider's answer means for the task. */
typedef enum engine_outcome {
    ENGINE_RUNNING,   /* not done yet: poll again later */
    ENGINE_DONE,      /* the result is ready to download (task holds where) */
    ENGINE_FAILED,    /* final: the video fails and is refunded with message */
    ENGINE_TRANSIENT, /* no usable answer (429, 5xx, network): retry later, no attempt spent */
} engine_outcome;

typedef struct engine_verdict {
    engine_outcome outcome;
    int progress;      /* 0..100, -1 when the provider says nothing */
    int poll_now;      /* poll again at once (the next step of the protocol) */
    long retry_after;  /* seconds the provider asked for, -1 when none */
    json_t *task;      /* (owned) the task to store from now on, or NULL: unchanged */
    json_t *usage;     /* (owned) what the provider reports it billed, or NULL */
    char message[256]; /* for the customer when FAILED: one line, no provider internals */
    char detail[512];  /* for the operator's log: status, provider code and message */
} engine_verdict;

#endif
