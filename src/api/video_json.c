/*
 * video_json.c - a video as the API shows it. Only this file decides field
 * names and nulls, so every surface shows the same thing.
 */
#include "api/video_json.h"

#include "util/timeutil.h"

static json_t *time_or_null(int64_t ms)
{
    char buf[32];
    return ms ? json_string(hh_time_iso8601(ms, buf, sizeof buf)) : json_null();
}

static json_t *url_or_null(const blob_store *blob, const char *key)
{
    char buf[512];
    if (!key[0])
        return json_null();
    return json_string(blob ? blob_public_url(blob, key, buf, sizeof buf) : key);
}

/*
 * The settings the video was made with, from the normalised request the
 * store keeps (video_request_to_json, API mode: defaults filled in,
 * references only when used), added to o: each of SETTINGS, null when the
 * request lacks it. The request's own names are the API's, so nothing is
 * renamed here.
 */
static json_t *with_settings(json_t *o, const char *request)
{
    static const char *const settings[] = {
        "cameraMotion", "motionIntensity",   "cfgScale",         "sourceImageKey",
        "lastFrameKey", "referenceVideoKey", "referenceAudioKey"};
    json_t *req = request ? json_loads(request, 0, NULL) : NULL;
    for (size_t i = 0; o && i < sizeof settings / sizeof *settings; i++) {
        json_t *val = json_object_get(req, settings[i]);
        json_object_set_new(o, settings[i], val ? json_incref(val) : json_null());
    }
    json_decref(req);
    return o;
}

json_t *video_json(const hh_video *v, const blob_store *blob)
{
    int ready = v->status == HH_VIDEO_READY;
    return with_settings(
        json_pack("{s:s, s:s, s:s, s:s?, s:i, s:s, s:s, s:o, s:o, s:s?, s:o, s:o, s:i,"
                  " s:{s:I, s:I}, s:b}",
                  "id", v->id, "status", hh_video_status_str(v->status), "prompt", v->prompt,
                  "style", v->style, "durationSec", v->duration_sec, "aspectRatio", v->aspect_ratio,
                  "resolution", v->resolution, "videoUrl",
                  ready ? url_or_null(blob, v->video_key) : json_null(), "thumbnailUrl",
                  ready ? url_or_null(blob, v->thumbnail_key) : json_null(), "errorMessage",
                  v->error_message, "readyAt", time_or_null(v->ready_at), "createdAt",
                  time_or_null(v->created_at), "progress", v->progress, "credits", "charged",
                  (json_int_t)v->credits_charged, "refunded", (json_int_t)v->credits_refunded,
                  "favorite", v->favorite),
        v->request);
}

void video_json_set_queue(json_t *o, const hh_queue_place *q)
{
    const char *why = q->running >= q->running_limit ? "plan_limit"
                      : q->yours_ahead > 0           ? "own_queue"
                                                     : "worker";
    json_object_set_new(o, "queue",
                        json_pack("{s:I, s:I, s:I, s:I, s:s}", "yoursAhead",
                                  (json_int_t)q->yours_ahead, "othersWaiting",
                                  (json_int_t)q->others_waiting, "running", (json_int_t)q->running,
                                  "runningLimit", (json_int_t)q->running_limit, "reason", why));
}
