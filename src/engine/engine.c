/*
 * engine.c - engine lookup by name with a JSON config, the render entry
 * point, and the frame loop shared by every engine (encode, audio,
 * progress, cancel, thumbnail), so each engine only draws pictures.
 */
#include "engine/engine.h"
#include "media/media.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THUMB_MAX_SIDE 640

typedef enum engine_kind { ENGINE_PROCEDURAL, ENGINE_EXEC } engine_kind;

struct hh_engine {
    engine_kind kind;
    char preset[32];
    int threads;
    int draw_threads; /* procedural */
    json_t *command;  /* exec: argv array (owned) */
    int timeout_sec;  /* exec */
};

/* Reads the settings every engine shares: "preset" (x264) and "threads". */
static hh_status common_config(hh_engine *e, const json_t *config, char *err, size_t errsize)
{
    static const char *const presets[] = {"ultrafast", "superfast", "veryfast", "faster",  "fast",
                                          "medium",    "slow",      "slower",   "veryslow"};
    snprintf(e->preset, sizeof e->preset, "veryfast");
    const json_t *p = json_object_get(config, "preset");
    if (p) {
        int found = 0;
        for (size_t i = 0; json_is_string(p) && i < sizeof presets / sizeof presets[0]; i++)
            found |= !strcmp(json_string_value(p), presets[i]);
        if (!found) {
            snprintf(err, errsize, "engine config: preset must be an x264 preset name");
            return HH_ERR_INVALID;
        }
        snprintf(e->preset, sizeof e->preset, "%s", json_string_value(p));
    }
    const json_t *t = json_object_get(config, "threads");
    if (t) {
        if (!json_is_integer(t) || json_integer_value(t) < 0 || json_integer_value(t) > 64) {
            snprintf(err, errsize, "engine config: threads must be an integer 0..64");
            return HH_ERR_INVALID;
        }
        e->threads = (int)json_integer_value(t);
    }
    const json_t *d = json_object_get(config, "drawThreads");
    if (d) {
        if (!json_is_integer(d) || json_integer_value(d) < 0 || json_integer_value(d) > 8) {
            snprintf(err, errsize, "engine config: drawThreads must be an integer 0..8");
            return HH_ERR_INVALID;
        }
        e->draw_threads = (int)json_integer_value(d);
    }
    return HH_OK;
}

static hh_status exec_config(hh_engine *e, const json_t *config, char *err, size_t errsize)
{
    const json_t *cmd = json_object_get(config, "command");
    if (!json_is_array(cmd) || json_array_size(cmd) < 1 || json_array_size(cmd) > 64) {
        snprintf(err, errsize, "engine config: exec needs \"command\", an array of 1..64 strings");
        return HH_ERR_INVALID;
    }
    size_t i;
    const json_t *arg;
    json_array_foreach(cmd, i, arg)
    {
        if (!json_is_string(arg) || json_string_length(arg) == 0 ||
            json_string_length(arg) > 4096 ||
            strlen(json_string_value(arg)) != json_string_length(arg)) {
            snprintf(err, errsize, "engine config: command[%zu] must be a non-empty string", i);
            return HH_ERR_INVALID;
        }
    }
    e->command = json_deep_copy(cmd);
    if (!e->command)
        return HH_ERR_NOMEM;
    e->timeout_sec = 600;
    const json_t *t = json_object_get(config, "timeoutSec");
    if (t) {
        if (!json_is_integer(t) || json_integer_value(t) < 1 || json_integer_value(t) > 86400) {
            snprintf(err, errsize, "engine config: timeoutSec must be an integer 1..86400");
            return HH_ERR_INVALID;
        }
        e->timeout_sec = (int)json_integer_value(t);
    }
    return HH_OK;
}

hh_status engine_new(const char *name, const json_t *config, hh_engine **out, char *err,
                     size_t errsize)
{
    *out = NULL;
    if (config && !json_is_object(config)) {
        snprintf(err, errsize, "engine config must be a JSON object");
        return HH_ERR_INVALID;
    }
    hh_engine *e = calloc(1, sizeof *e);
    if (!e)
        return HH_ERR_NOMEM;
    hh_status rc;
    if (!strcmp(name, "procedural")) {
        e->kind = ENGINE_PROCEDURAL;
    } else if (!strcmp(name, "exec")) {
        e->kind = ENGINE_EXEC;
    } else {
        snprintf(err, errsize, "unknown engine '%s' (procedural, exec)", name);
        rc = HH_ERR_INVALID;
        goto fail;
    }
    rc = common_config(e, config, err, errsize);
    if (!rc && e->kind == ENGINE_EXEC)
        rc = exec_config(e, config, err, errsize);
    if (rc)
        goto fail;
    *out = e;
    return HH_OK;
fail:
    engine_free(e);
    return rc;
}

const char *engine_name(const hh_engine *e)
{
    return e->kind == ENGINE_EXEC ? "exec" : "procedural";
}

void engine_free(hh_engine *e)
{
    if (!e)
        return;
    json_decref(e->command);
    free(e);
}

hh_status engine_render(const hh_engine *e, const hh_render_job *job, char *msg, size_t msgsize)
{
    int w, h;
    if (!job->req || !job->video_path || !job->thumb_path ||
        video_frame_size(job->req->resolution, job->req->aspect, &w, &h) ||
        job->req->duration_sec < HH_DURATION_MIN || job->req->duration_sec > HH_DURATION_MAX) {
        snprintf(msg, msgsize, "invalid render job");
        return HH_ERR_INVALID;
    }
    msg[0] = '\0';
    if (e->kind == ENGINE_EXEC)
        return engine_exec_render(job, e->command, e->timeout_sec, e->preset, e->threads, msg,
                                  msgsize);
    return engine_procedural_render(job, e->preset, e->threads, e->draw_threads, msg, msgsize);
}

/*
 * Frame-level pipelining: a drawing thread fills PIPE_DEPTH buffers ahead
 * while this thread converts and hands frames to x264, so drawing frame
 * N+1 overlaps encoding frame N. The drawing thread owns ctx (and any
 * decoder in it) for the whole loop.
 */
#define PIPE_DEPTH 2

typedef struct frame_pipe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint8_t *buf[PIPE_DEPTH];
    int frames, produced, consumed, stop;
    hh_status rc; /* of the drawing thread */
    char msg[HH_ENGINE_MSG_MAX];
    engine_frame_fn draw;
    void *ctx;
} frame_pipe;

static void *draw_thread(void *arg)
{
    frame_pipe *p = arg;
    for (int i = 0; i < p->frames; i++) {
        pthread_mutex_lock(&p->mu);
        while (!p->stop && p->produced - p->consumed >= PIPE_DEPTH)
            pthread_cond_wait(&p->cv, &p->mu);
        int stop = p->stop;
        pthread_mutex_unlock(&p->mu);
        if (stop)
            break;
        char msg[HH_ENGINE_MSG_MAX] = "";
        hh_status rc = p->draw(p->ctx, i, p->buf[i % PIPE_DEPTH], msg, sizeof msg);
        pthread_mutex_lock(&p->mu);
        if (rc) {
            p->rc = rc;
            memcpy(p->msg, msg, sizeof msg);
            p->stop = 1;
        } else {
            p->produced++;
        }
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        if (rc)
            break;
    }
    return NULL;
}

/* Waits for frame i; returns its buffer, or NULL when the drawing thread failed. */
static uint8_t *pipe_take(frame_pipe *p, int i)
{
    pthread_mutex_lock(&p->mu);
    while (p->produced <= i && !p->stop)
        pthread_cond_wait(&p->cv, &p->mu);
    uint8_t *b = p->produced > i ? p->buf[i % PIPE_DEPTH] : NULL;
    pthread_mutex_unlock(&p->mu);
    return b;
}

static void pipe_release(frame_pipe *p, int stop)
{
    pthread_mutex_lock(&p->mu);
    p->consumed++;
    p->stop |= stop;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

hh_status engine_run_frames(const hh_render_job *job, engine_frame_fn draw, void *ctx,
                            const char *audio_path, const char *preset, int threads,
                            const char *comment, char *msg, size_t msgsize)
{
    int w, h;
    hh_status rc = video_frame_size(job->req->resolution, job->req->aspect, &w, &h);
    if (rc)
        return rc;
    int frames = job->req->duration_sec * HH_VIDEO_FPS;
    size_t bytes = (size_t)w * (size_t)h * 3;
    frame_pipe pipe = {.frames = frames, .draw = draw, .ctx = ctx};
    pthread_mutex_init(&pipe.mu, NULL);
    pthread_cond_init(&pipe.cv, NULL);
    uint8_t *thumb = media_frame_alloc(w, h);
    float *audio = NULL;
    media_encoder *enc = NULL;
    for (int b = 0; b < PIPE_DEPTH; b++)
        pipe.buf[b] = media_frame_alloc(w, h);
    if (!thumb || !pipe.buf[0] || !pipe.buf[PIPE_DEPTH - 1]) {
        snprintf(msg, msgsize, "out of memory");
        rc = HH_ERR_NOMEM;
        goto done;
    }
    size_t samples = (size_t)job->req->duration_sec * MEDIA_AUDIO_RATE;
    if (audio_path) {
        rc = media_load_audio(audio_path, "reference audio", samples, &audio, msg, msgsize);
        if (rc)
            goto done;
    }
    media_encoder_opts o = {.width = w,
                            .height = h,
                            .fps = HH_VIDEO_FPS,
                            .frames = frames,
                            .preset = preset,
                            .threads = threads,
                            .audio = audio,
                            .audio_samples = samples,
                            .comment = comment};
    rc = media_encoder_new(job->video_path, &o, &enc, msg, msgsize);
    if (rc)
        goto done;
    pthread_t th;
    if (pthread_create(&th, NULL, draw_thread, &pipe)) {
        snprintf(msg, msgsize, "cannot start the drawing thread");
        rc = HH_ERR_INTERNAL;
        goto done;
    }
    int last_pct = -1;
    for (int i = 0; i < frames; i++) {
        if (job->cancel && atomic_load(job->cancel)) {
            snprintf(msg, msgsize, "render canceled");
            rc = HH_ERR_CANCELED;
            break;
        }
        uint8_t *rgb = pipe_take(&pipe, i);
        if (!rgb) {
            snprintf(msg, msgsize, "%s", pipe.msg);
            rc = pipe.rc ? pipe.rc : HH_ERR_INTERNAL;
            break;
        }
        if (i == frames / 3)
            memcpy(thumb, rgb, bytes);
        rc = media_encoder_write_bgr(enc, rgb, w * 3, msg, msgsize);
        pipe_release(&pipe, rc != HH_OK);
        if (rc)
            break;
        int pct = (int)((int64_t)(i + 1) * 99 / frames);
        if (job->progress && pct != last_pct)
            job->progress(job->progress_ctx, pct);
        last_pct = pct;
    }
    pipe_release(&pipe, 1); /* stops the drawing thread if we left early */
    pthread_join(th, NULL);
    if (rc)
        goto done;
    rc = media_encoder_finish(enc, msg, msgsize);
    if (rc)
        goto done;
    rc = media_write_jpeg(job->thumb_path, thumb, w, h, w * 3, THUMB_MAX_SIDE, msg, msgsize);
    if (rc)
        goto done;
    if (job->progress)
        job->progress(job->progress_ctx, 100);
done:
    media_encoder_free(enc);
    free(audio);
    free(thumb);
    for (int b = 0; b < PIPE_DEPTH; b++)
        free(pipe.buf[b]);
    pthread_cond_destroy(&pipe.cv);
    pthread_mutex_destroy(&pipe.mu);
    return rc;
}
