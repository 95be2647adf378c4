/*
 * video_events.c - the watching thread of video_events.h. Streams are
 * handed over through `incoming` (under mu) and then belong to the thread
 * alone, so a look at the store never holds the lock the request threads
 * take. A stream ends when its video reaches a terminal status (after that
 * event), when the video is gone, when its client goes away or stops
 * reading (http_push's bound), or when the server stops.
 */
#include "api/video_events.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/video_json.h"
#include "util/keycount.h"
#include "util/log.h"
#include "util/timeutil.h"

#define POLL_MS 250 /* how often the store's generation is looked at */

typedef struct stream {
    struct stream *next;
    http_push *push;
    char video_id[HH_ID_LEN];
    char user_id[HH_ID_LEN];
    char key_id[HH_ID_LEN];
    int sent; /* an event went out: status and progress are the last ones sent */
    hh_video_status status;
    int progress;
    int64_t last_write_ms;
} stream;

struct video_events {
    hh_store *store;
    const blob_store *blob;
    int keepalive_ms;
    pthread_t thread;
    pthread_mutex_t mu; /* guards incoming, open, stop */
    pthread_cond_t cv;
    int stop;
    stream *incoming; /* handed over, not yet taken by the thread */
    stream *live;     /* the thread's own */
    keycount *per_key;
    int open;     /* places taken */
    uint64_t gen; /* the store's generation when every stream was last read */
};

int video_events_reserve(video_events *ve, const char *key_id)
{
    int got = 0;
    pthread_mutex_lock(&ve->mu);
    if (ve->open < VIDEO_EVENTS_MAX &&
        (got = keycount_take(ve->per_key, key_id, VIDEO_EVENTS_PER_KEY)) == 1)
        ve->open++;
    pthread_mutex_unlock(&ve->mu);
    return got;
}

void video_events_unreserve(video_events *ve, const char *key_id)
{
    keycount_release(ve->per_key, key_id);
    pthread_mutex_lock(&ve->mu);
    ve->open--;
    pthread_mutex_unlock(&ve->mu);
}

static void stream_free(video_events *ve, stream *s)
{
    http_push_release(s->push);
    video_events_unreserve(ve, s->key_id);
    free(s);
}

/* Sends text on s; 0, or 1 when the stream is over (client gone, or not reading). */
static int stream_send(stream *s, const char *text, int64_t now)
{
    if (http_push_write(s->push, text, strlen(text)))
        return 1;
    s->last_write_ms = now;
    return 0;
}

/* The event of v: "event: status", the video object as data (one line: compact JSON). */
static int send_event(video_events *ve, stream *s, const hh_video *v, int64_t now)
{
    json_t *j = video_json(v, ve->blob);
    char *data = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!data)
        return 1;
    size_t n = strlen(data) + 32;
    char *text = malloc(n);
    int over = 1;
    if (text) {
        snprintf(text, n, "event: status\ndata: %s\n\n", data);
        over = stream_send(s, text, now);
    }
    free(text);
    free(data);
    return over;
}

/*
 * Reads s's video and sends an event when its status or progress moved
 * (or none was sent yet). 0 to go on, 1 when the stream is over (a
 * terminal status sent, the video gone), -1 when the store could not be
 * read (busy: tried again at the next look).
 */
static int stream_look(video_events *ve, stream *s, int64_t now)
{
    hh_video v;
    hh_status rc = store_video_get(ve->store, s->video_id, s->user_id, &v);
    if (rc == HH_ERR_NOTFOUND)
        return 1;
    if (rc)
        return -1;
    int over = 0;
    if (!s->sent || v.status != s->status || v.progress != s->progress) {
        over = send_event(ve, s, &v, now);
        s->sent = 1;
        s->status = v.status;
        s->progress = v.progress;
    }
    if (v.status != HH_VIDEO_QUEUED && v.status != HH_VIDEO_PROCESSING)
        over = 1; /* the terminal event is out: nothing more will change */
    store_video_clear(&v);
    return over;
}

/* One look at every stream: the store only when it changed, keep-alives when due. */
static void tick(video_events *ve)
{
    int64_t now = hh_time_mono_ms();
    uint64_t gen = store_generation(ve->store); /* before the reads it covers */
    int changed = gen == 0 || gen != ve->gen, all_read = 1;
    for (stream **pp = &ve->live; *pp;) {
        stream *s = *pp;
        int over = http_push_closed(s->push);
        if (!over && (changed || !s->sent)) {
            int r = stream_look(ve, s, now);
            all_read &= r >= 0;
            over = r > 0;
        }
        if (!over && now - s->last_write_ms >= ve->keepalive_ms)
            over = stream_send(s, ": keep-alive\n\n", now);
        if (over) {
            *pp = s->next;
            stream_free(ve, s);
        } else {
            pp = &s->next;
        }
    }
    if (all_read)
        ve->gen = gen;
}

static void *events_main(void *arg)
{
    video_events *ve = arg;
    pthread_mutex_lock(&ve->mu);
    while (!ve->stop) {
        if (!ve->incoming) {
            struct timespec until = hh_deadline_after_ms(CLOCK_MONOTONIC, POLL_MS);
            pthread_cond_timedwait(&ve->cv, &ve->mu, &until);
        }
        if (ve->stop)
            break;
        while (ve->incoming) { /* new streams join the thread's own list */
            stream *s = ve->incoming;
            ve->incoming = s->next;
            s->next = ve->live;
            ve->live = s;
        }
        pthread_mutex_unlock(&ve->mu);
        tick(ve);
        pthread_mutex_lock(&ve->mu);
    }
    pthread_mutex_unlock(&ve->mu);
    return NULL;
}

hh_status video_events_watch(video_events *ve, http_push *p, const char *video_id,
                             const char *user_id, const char *key_id)
{
    stream *s = calloc(1, sizeof *s);
    if (!s) {
        http_push_release(p);
        video_events_unreserve(ve, key_id);
        return HH_ERR_NOMEM;
    }
    s->push = p;
    snprintf(s->video_id, sizeof s->video_id, "%s", video_id);
    snprintf(s->user_id, sizeof s->user_id, "%s", user_id);
    snprintf(s->key_id, sizeof s->key_id, "%s", key_id);
    s->last_write_ms = hh_time_mono_ms();
    pthread_mutex_lock(&ve->mu);
    s->next = ve->incoming;
    ve->incoming = s;
    pthread_cond_signal(&ve->cv);
    pthread_mutex_unlock(&ve->mu);
    return HH_OK;
}

hh_status video_events_new(hh_store *store, const blob_store *blob, int keepalive_ms,
                           video_events **out)
{
    *out = NULL;
    video_events *ve = calloc(1, sizeof *ve);
    if (!ve || !(ve->per_key = keycount_new())) {
        free(ve);
        return HH_ERR_NOMEM;
    }
    ve->store = store;
    ve->blob = blob;
    ve->keepalive_ms = keepalive_ms > 0 ? keepalive_ms : VIDEO_EVENTS_KEEPALIVE_MS;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ve->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&ve->mu, NULL);
    if (pthread_create(&ve->thread, NULL, events_main, ve)) {
        pthread_cond_destroy(&ve->cv);
        pthread_mutex_destroy(&ve->mu);
        keycount_free(ve->per_key);
        free(ve);
        return HH_ERR_NOMEM;
    }
    *out = ve;
    return HH_OK;
}

static void free_list(video_events *ve, stream *s)
{
    while (s) {
        stream *next = s->next;
        stream_free(ve, s);
        s = next;
    }
}

void video_events_free(video_events *ve)
{
    if (!ve)
        return;
    pthread_mutex_lock(&ve->mu);
    ve->stop = 1;
    pthread_cond_signal(&ve->cv);
    pthread_mutex_unlock(&ve->mu);
    pthread_join(ve->thread, NULL);
    free_list(ve, ve->live);
    free_list(ve, ve->incoming);
    pthread_cond_destroy(&ve->cv);
    pthread_mutex_destroy(&ve->mu);
    keycount_free(ve->per_key);
    free(ve);
}
