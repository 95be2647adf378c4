/*
 * upload_policy.h - what customers may upload (contract section 2): the
 * kinds, their content types and size limits, the presign request's rules,
 * and the storage keys the server makes. Pure: no I/O.
 */
#ifndef HH_UPLOAD_POLICY_H
#define HH_UPLOAD_POLICY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api_error.h"
#include "util/status.h"

#define UPLOAD_MB (1024LL * 1024)

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
 * Validates a presign body: {"kind"?, "contentType", "sizeBytes"}. On
 * failure returns HH_ERR_INVALID with *err set to the contract's error
 * (invalid_input, upload_type_not_supported, upload_file_too_large), the
 * field in field ("" for the body) and a sentence in msg.
 */
hh_status upload_request_parse(const json_t *body, upload_request *out, api_error *err, char *field,
                               size_t fieldsize, char *msg, size_t msgsize);

/*
 * The key of a new upload: videos/inputs/<user>/<asset>.<ext> for images,
 * videos/reference-video/... and videos/reference-audio/... for the others.
 */
void upload_key(const upload_request *r, const char *user_id, const char *asset_id, char *out,
                size_t size);

#endif
