/*
 * engine_job.h - what one render is given: the validated request, local
 * input files, a seed, where to write the MP4 and the thumbnail, and the
 * progress and cancel hooks. Shared by the callers of engine.h and by the
 * engines themselves (engine_int.h), so neither has to include the other.
 */
#ifndef HH_ENGINE_JOB_H
#define HH_ENGINE_JOB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

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

#endif
