/*
 * video_events.h - the status stream of GET /api/v1/videos/{id}/events:
 * one thread in `serve` that watches every open stream's video in the
 * store and pushes an event (the video object) on each change of status
 * or progress, a keep-alive comment while nothing changes, and ends the
 * stream after the terminal event.
 *
 * `serve` and `worker` may be separate processes sharing the SQLite file,
 * so changes are found by polling the store, never by in-process signals:
 * every POLL_MS the thread compares store_generation (no query) with the
 * one of its last look, and only when it moved (a commit by any process)
 * reads each stream's video once. The streams hold no thread and no work
 * pool slot (http_push). Their number is bounded per API key and in all.
 */
#ifndef HH_VIDEO_EVENTS_H
#define HH_VIDEO_EVENTS_H

#include "blob/blob.h"
#include "http/http.h"
#include "store/store.h"

#define VIDEO_EVENTS_PER_KEY      8   /* open streams one API key may hold */
#define VIDEO_EVENTS_MAX          256 /* open streams in one `serve` */
#define VIDEO_EVENTS_KEEPALIVE_MS 15000

typedef struct video_events video_events;

/*
 * Starts the watching thread over store and blob (borrowed: they must
 * outlive the result). keepalive_ms (0: VIDEO_EVENTS_KEEPALIVE_MS) is the
 * longest a stream stays silent. On success *out is the caller's, freed
 * with video_events_free.
 */
hh_status video_events_new(hh_store *store, const blob_store *blob, int keepalive_ms,
                           video_events **out);
/* Stops the thread and lets go of every stream (ended). NULL-safe. */
void video_events_free(video_events *ve);

/*
 * Takes a place for one stream of key_id: 1 when taken, 0 when the key
 * (VIDEO_EVENTS_PER_KEY) or the server (VIDEO_EVENTS_MAX) is at its bound,
 * -1 when out of memory. A place taken is given back by video_events_watch
 * (when its stream ends) or by video_events_unreserve.
 */
int video_events_reserve(video_events *ve, const char *key_id);
void video_events_unreserve(video_events *ve, const char *key_id);

/*
 * Watches video_id of user_id for the stream p, on a place reserved for
 * key_id: takes ownership of p (released when the stream ends) and of the
 * place. The first event, the video as it is now, goes out at once.
 */
hh_status video_events_watch(video_events *ve, http_push *p, const char *video_id,
                             const char *user_id, const char *key_id);

#endif
