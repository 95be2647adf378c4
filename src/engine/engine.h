/*
 * engine.h - the generation engines: turn one job (a validated create-video
 * request plus local input files and a seed) into an MP4 and a JPEG
 * thumbnail of the contract (section 5).
 *
 * Engines are chosen by name with a JSON config object, as the plans file
 * does per plan ("the model is chosen by the customer's plan"):
 *   "procedural"  built in, CPU only (config: optional "preset", "threads",
 *                 "drawThreads")
 *   "exec"        any external generator (config: "command" argv array,
 *                 optional "timeoutSec"); see docs/engines.md
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
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/video_request.h"
#include "util/status.h"

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

typedef struct hh_engine hh_engine;

/*
 * Makes the engine called name with config (borrowed; NULL = defaults).
 * On HH_ERR_INVALID (unknown name, bad config) writes a one-line reason into
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

/* Frees engine (NULL is fine); no render may be running on it. */
void engine_free(hh_engine *engine);

/* ---- shared by the engines (engine_*.c), not for callers ------------- */

/* Draws output frame index (0-based, in order) as BGR24 into rgb (width*height*3). */
typedef hh_status (*engine_frame_fn)(void *ctx, int index, uint8_t *rgb, char *msg, size_t msgsize);

/*
 * The loop every engine ends in: opens the MP4 of job at the request's
 * size, asks draw for each of durationSec x 24 frames, encodes them (with
 * the reference audio file when job->input[HH_REF_AUDIO] or audio_path is
 * set), reports progress, honours cancel, and writes the thumbnail from
 * the frame at one third. comment tags the MP4.
 */
hh_status engine_run_frames(const hh_render_job *job, engine_frame_fn draw, void *ctx,
                            const char *audio_path, const char *preset, int threads,
                            const char *comment, char *msg, size_t msgsize);

/*
 * The built-in renderer. preset/threads as media_encoder_opts; draw_threads
 * draw row bands of each frame in parallel (0 = a quarter of the cores when
 * there are 8 or more, else 1). The picture does not depend on it.
 */
hh_status engine_procedural_render(const hh_render_job *job, const char *preset, int threads,
                                   int draw_threads, char *msg, size_t msgsize);

/*
 * Encodes the pictures of frames_path (a video file or a "%05d" PNG
 * pattern, see media_frames_open) and the optional audio file to the
 * contract's MP4 and thumbnail for job: size of the request, exactly
 * durationSec x 24 frames, cover + centre crop.
 */
hh_status engine_encode_external(const hh_render_job *job, const char *frames_path,
                                 const char *audio_path, const char *preset, int threads, char *msg,
                                 size_t msgsize);

/* Runs the exec engine's command for job; see docs/engines.md. */
hh_status engine_exec_render(const hh_render_job *job, const json_t *command, int timeout_sec,
                             const char *preset, int threads, char *msg, size_t msgsize);

#endif
