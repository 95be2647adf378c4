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
#include "util/status.h"

/* The x264 settings every engine's own encode uses ("preset", "threads" of the config). */
typedef struct engine_encode {
    char preset[16];
    int threads; /* 0: x264's choice */
} engine_encode;

typedef struct hh_engine hh_engine;

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
    hh_status (*configure)(hh_engine *e, const json_t *config, char *err, size_t errsize);
    /* Frees e->impl (NULL-safe). May be NULL. */
    void (*release)(void *impl);
    /* Whether the configured engine can honour feature; NULL: it can do them all. */
    int (*can)(const hh_engine *e, hh_plan_feature feature);
    /* engine_render for this engine; job is already checked. */
    hh_status (*render)(const hh_engine *e, const hh_render_job *job, char *msg, size_t msgsize);
} engine_ops;

struct hh_engine {
    const engine_ops *ops;
    engine_encode enc;
    void *impl; /* the engine's own settings (owned; ops->release frees) */
};

/*
 * Reads the optional integer config[key] into *out, which keeps its value
 * when the key is absent. HH_ERR_INVALID with "engine config: KEY must be
 * an integer LO..HI" in err otherwise.
 */
hh_status engine_cfg_int(const json_t *config, const char *key, long lo, long hi, int *out,
                         char *err, size_t errsize);

extern const engine_ops engine_procedural_ops;
extern const engine_ops engine_exec_ops;

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
