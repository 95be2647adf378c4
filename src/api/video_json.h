/*
 * video_json.h - the one JSON view of a video (contract section 4), shared
 * by the Customer API, the dashboard and the admin CLI.
 */
#ifndef HH_VIDEO_JSON_H
#define HH_VIDEO_JSON_H

#include <jansson.h>

#include "blob/blob.h"
#include "store/store.h"

/*
 * {"id","status","prompt","style","durationSec","aspectRatio","resolution",
 *  "videoUrl","thumbnailUrl","errorMessage","readyAt","createdAt","progress",
 *  "credits":{"charged","refunded"}, and the settings it was made with:
 *  "cameraMotion","motionIntensity","cfgScale","sourceImageKey",
 *  "lastFrameKey","referenceVideoKey","referenceAudioKey" (null when not
 *  used)}. URLs come from blob (may be NULL: then
 * the keys are given as they are). New reference, NULL on allocation failure.
 */
json_t *video_json(const hh_video *v, const blob_store *blob);

#endif
