/*
 * upload_policy.h - what customers may upload (contract section 2): the
 * kinds, their content types and size limits, the presign request's rules,
 * and the storage keys the server makes (uploads and generated outputs),
 * with the strict validator every route that takes a key from a URL uses.
 * Pure: no I/O.
 */
#ifndef HH_UPLOAD_POLICY_H
#define HH_UPLOAD_POLICY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/api_error.h"
#include "util/errdetail.h"
#include "util/status.h"

#define UPLOAD_MB        (1024LL * 1024)
#define UPLOAD_MAX_BYTES (50 * UPLOAD_MB) /* the largest upload of any kind (a video) */
#define UPLOAD_IMAGE_MAX (10 * UPLOAD_MB) /* the largest image */
#define UPLOAD_KEY_MAX   160 /* bytes with the NUL; the store's HH_KEY_MAX is the same */

typedef enum upload_kind {
    UPLOAD_IMAGE,
    UPLOAD_VIDEO,
    UPLOAD_AUDIO,
    UPLOAD_KIND_COUNT
} upload_kind;

typedef struct upload_request {
    upload_kind kind;
    const char *content_type; /* static: the table's spelling */
    const char *ext;          /* static: "png", "mp4", ... */
    int64_t size_bytes;
} upload_request;

/* "image", "video", "audio". */
const char *upload_kind_name(upload_kind kind);
/* Largest size of kind in bytes (10, 50, 15 MB). */
int64_t upload_max_bytes(upload_kind kind);

/*
 * Validates a presign body: {"kind"?, "contentType", "sizeBytes"}. Empties
 * *d; on failure returns HH_ERR_INVALID with *err set to the contract's
 * error (invalid_input, upload_type_not_supported, upload_file_too_large)
 * and *d naming the field ("" for the body) with a sentence.
 */
hh_status upload_request_parse(const json_t *body, upload_request *out, api_error *err,
                               hh_errdetail *d);

/*
 * The key of a new upload: videos/inputs/<user>/<asset>.<ext> for images,
 * videos/reference-video/... and videos/reference-audio/... for the others.
 */
void upload_key(const upload_request *r, const char *user_id, const char *asset_id, char *out,
                size_t size);

/*
 * The key of a generated video (videos/outputs/<videoId>.mp4) or its
 * thumbnail (videos/thumbnails/<videoId>.jpg). HH_ERR_INVALID unless
 * video_id is a canonical UUID; HH_ERR_LIMIT when out is too small.
 */
hh_status upload_output_key(const char *video_id, char *out, size_t size);
hh_status upload_thumbnail_key(const char *video_id, char *out, size_t size);

/* The file extension ("png", "mp4", ...) of an accepted content type; NULL for others. */
const char *upload_ext_of_type(const char *content_type);

/* What a well-formed key names. */
typedef enum upload_key_class {
    UPLOAD_KEY_INVALID = 0,
    UPLOAD_KEY_IMAGE,     /* videos/inputs/<userId>/<assetId>.(png|jpg|webp) */
    UPLOAD_KEY_VIDEO,     /* videos/reference-video/<userId>/<assetId>.(mp4|mov|webm) */
    UPLOAD_KEY_AUDIO,     /* videos/reference-audio/<userId>/<assetId>.(mp3|wav|weba) */
    UPLOAD_KEY_OUTPUT,    /* videos/outputs/<videoId>.mp4 */
    UPLOAD_KEY_THUMBNAIL, /* videos/thumbnails/<videoId>.jpg */
} upload_key_class;

/*
 * Classifies key strictly: only the five shapes above, with canonical
 * lower-case UUIDs and the extensions of the upload table. Anything else
 * (other folders, "..", temporary names, upper case, extra segments) is
 * UPLOAD_KEY_INVALID. NULL-safe.
 */
upload_key_class upload_key_classify(const char *key);

/*
 * The Content-Type an object is served with, from its key's extension
 * (mp3 is served as audio/mpeg, its registered type). NULL for a key that
 * upload_key_classify refuses.
 */
const char *upload_key_content_type(const char *key);

#endif
