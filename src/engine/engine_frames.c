/*
 * engine_frames.c - the frame loop every engine ends in (encode, audio,
 * progress, cancel, thumbnail), so each engine only makes pictures: the
 * procedural renderer draws them, the others decode what a generator or a
 * provider made (engine_encode_external). The plan's watermark is drawn
 * here too, so every engine's output carries it.
 */
#include "engine/engine_int.h"
#include "media/media.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THUMB_MAX_SIDE 640

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
                            const char *audio_path, const engine_encode *enc_opts,
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
                            .preset = enc_opts->preset,
                            .threads = enc_opts->threads,
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
        if (job->watermark)
            media_watermark(rgb, w, h, w * 3);
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

typedef struct external_ctx {
    media_frames *src;
    const hh_render_job *job; /* the caller's, for its progress callback */
    int from;                 /* progress already spent before our encode */
} external_ctx;

/* Our encode is the last share of the job: from..100. */
static void encode_progress(void *ctx, int pct)
{
    const external_ctx *x = ctx;
    x->job->progress(x->job->progress_ctx, x->from + pct * (100 - x->from) / 100);
}

static hh_status draw_external(void *ctx, int index, uint8_t *rgb, char *msg, size_t msgsize)
{
    external_ctx *x = ctx;
    return media_frames_get(x->src, index, rgb, msg, msgsize);
}

hh_status engine_encode_external(const hh_render_job *job, const char *frames_path,
                                 const char *audio_path, const engine_encode *enc,
                                 const char *comment, int progress_from, char *msg, size_t msgsize)
{
    int w, h;
    hh_status rc = video_frame_size(job->req->resolution, job->req->aspect, &w, &h);
    if (rc)
        return rc;
    external_ctx x = {NULL, job, progress_from < 0 ? 0 : progress_from > 99 ? 99 : progress_from};
    hh_render_job j = *job;
    if (job->progress) {
        j.progress = encode_progress;
        j.progress_ctx = &x;
    }
    rc = media_frames_open(frames_path, "generated video", w, h,
                           job->req->duration_sec * HH_VIDEO_FPS, &x.src, msg, msgsize);
    if (!rc)
        rc = engine_run_frames(&j, draw_external, &x, audio_path, enc, comment, msg, msgsize);
    media_frames_free(x.src);
    return rc;
}
