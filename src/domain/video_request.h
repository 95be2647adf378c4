/*
 * video_request.h - the create-video request (contract section 3) as a
 * validated struct: a pure parser of the JSON body, with no I/O, shared by
 * the API (POST /api/v1/videos) and `happyhorse render --job FILE`.
 *
 * Two modes differ only in how reference material is named:
 *   API mode      sourceImageKey, lastFrameKey, referenceVideoKey,
 *                 referenceAudioKey: storage keys (checked later by the API
 *                 against the user's uploads).
 *   job-file mode sourceImage, lastFrame, referenceVideo, referenceAudio:
 *                 local file paths, plus an optional integer `seed`.
 * Every other field, type rule, range and default is the same. A field of
 * the other mode is an unknown field. JSON null on an optional field counts
 * as absent; on a required field it is "required".
 *
 * Also here: the contract's frame size table and the enum <-> name maps.
 */
#ifndef HH_VIDEO_REQUEST_H
#define HH_VIDEO_REQUEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/errdetail.h"
#include "util/status.h"

#define HH_PROMPT_MIN_CP 3    /* code points, after trimming */
#define HH_PROMPT_MAX_CP 2000 /* code points, after trimming */
#define HH_STYLE_MAX_CP  50   /* code points, after trimming */
#define HH_DURATION_MIN  3    /* seconds */
#define HH_DURATION_MAX  12   /* seconds */
#define HH_INTENSITY_MIN 1
#define HH_INTENSITY_MAX 5
#define HH_INTENSITY_DEF 3
#define HH_CFG_DEFAULT   0.5
#define HH_REF_MAX       1024 /* bytes of a reference key or path, NUL included */
#define HH_VIDEO_FPS     24   /* the contract's output frame rate */

typedef enum hh_aspect { HH_ASPECT_16_9, HH_ASPECT_9_16, HH_ASPECT_1_1, HH_ASPECT_COUNT } hh_aspect;

typedef enum hh_resolution { HH_RES_720P, HH_RES_1080P, HH_RES_COUNT } hh_resolution;

typedef enum hh_camera {
    HH_CAM_NONE,
    HH_CAM_STATIC,
    HH_CAM_PAN_LEFT,
    HH_CAM_PAN_RIGHT,
    HH_CAM_TILT_UP,
    HH_CAM_TILT_DOWN,
    HH_CAM_ZOOM_IN,
    HH_CAM_ZOOM_OUT,
    HH_CAM_ORBIT,
    HH_CAM_COUNT
} hh_camera;

typedef enum hh_vr_mode {
    HH_VR_API, /* references are storage keys */
    HH_VR_JOB, /* references are local paths; `seed` allowed */
} hh_vr_mode;

/* The four kinds of reference material, in a fixed order. */
typedef enum hh_ref {
    HH_REF_SOURCE_IMAGE,
    HH_REF_LAST_FRAME,
    HH_REF_VIDEO,
    HH_REF_AUDIO,
    HH_REF_COUNT
} hh_ref;

typedef struct hh_video_request {
    char prompt[HH_PROMPT_MAX_CP * 4 + 1]; /* trimmed, valid UTF-8 */
    char style[HH_STYLE_MAX_CP * 4 + 1];   /* trimmed; "" when absent */
    int duration_sec;
    hh_aspect aspect;
    hh_resolution resolution;
    hh_camera camera;
    int motion_intensity;               /* HH_INTENSITY_DEF when absent */
    double cfg_scale;                   /* HH_CFG_DEFAULT when absent */
    char ref[HH_REF_COUNT][HH_REF_MAX]; /* key (API) or path (job); "" when absent */
    int has_seed;
    int64_t seed; /* job mode only; 0 when absent */
} hh_video_request;

/*
 * Parses and validates body (borrowed; must be a JSON object) in mode into
 * *out (caller's storage, fully overwritten). Empties *d, and on
 * HH_ERR_INVALID fills it: the offending field's name ("" when it is the
 * body itself) and a one-line message. Checks run in a fixed order:
 * unknown fields first, then the fields in the contract's table order,
 * then the cross-field rules.
 */
hh_status video_request_parse(const json_t *body, hh_vr_mode mode, hh_video_request *out,
                              hh_errdetail *d);

/*
 * The request as a JSON object with every field filled in (defaults made
 * explicit), references under the names of mode and only when present.
 * New reference, or NULL on allocation failure.
 */
json_t *video_request_to_json(const hh_video_request *req, hh_vr_mode mode);

/* Output frame size of the contract for resolution x aspect. Returns HH_ERR_INVALID if unknown. */
hh_status video_frame_size(hh_resolution res, hh_aspect aspect, int *width, int *height);

/* Wire names ("16:9", "1080p", "pan-left", ...); static strings, NULL if out of range. */
const char *video_aspect_name(hh_aspect a);
const char *video_resolution_name(hh_resolution r);
const char *video_camera_name(hh_camera c);

/* Field name of a reference in mode ("sourceImageKey" / "sourceImage", ...). Static. */
const char *video_ref_field(hh_ref ref, hh_vr_mode mode);

#endif
