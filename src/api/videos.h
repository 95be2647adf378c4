/*
 * videos.h - what the two surfaces of videos share: the Customer API
 * (h_videos.c, /api/v1) and the OpenAI-compatible one (h_openai.c, /v1).
 * Each parses its own body and shapes its own answers; the checks, the
 * charge and the reads are these, written once. Errors are replied with
 * http_reply_error, which a route of the other surface turns into its own
 * error shape (HTTP_ROUTE_ERROR_SHAPE).
 */
#ifndef HH_API_VIDEOS_H
#define HH_API_VIDEOS_H

#include "api/app.h"
#include "domain/video_request.h"

/*
 * A create of contract section 3 once the body is parsed into vr: the
 * Idempotency-Key's shape (idem may be NULL), the prompt blocklist, the
 * references, the plan's gates, then the charge and enqueue in one
 * transaction. Returns 0 with the video's id in id (a replay's: the first
 * one's), or 1 after replying the error.
 */
int api_video_create(hh_app *app, http_req *req, const api_principal *p, const hh_video_request *vr,
                     const char *idem, char id[HH_ID_LEN]);

/*
 * Reads the video id of user_id into v (release with store_video_clear):
 * 0, or 1 after replying not_found (malformed, unknown or another
 * account's id alike) or the store's error.
 */
int api_video_read(hh_app *app, http_req *req, const char *id, const char *user_id, hh_video *v);

/*
 * DELETE of the route's {id}, an ended video of user_id (h_videos_end.c): its rows in one
 * transaction, then its objects. 0 when deleted (the caller replies), or 1
 * after replying not_found or conflict (still queued or processing).
 */
int api_video_delete(hh_app *app, http_req *req, const char *user_id);

/*
 * Stores len bytes of data (borrowed) as a complete upload of user_id, of
 * kind ("image", ...) and content_type, under the rules of a presigned
 * upload (contract section 2: types, sizes, the bytes sniffed), as if
 * presigned and PUT: for a file sent inside a request (the OpenAI surface's
 * input_reference). Returns 0 with the upload's key in key, or 1 after
 * replying the error (naming field).
 */
int api_upload_bytes(hh_app *app, http_req *req, const char *user_id, const char *kind,
                     const char *content_type, const void *data, size_t len, const char *field,
                     char key[HH_KEY_MAX]);

/*
 * Serves object key of blob storage as GET /files/<key> does (type,
 * length, ETag, ranges, 304): 0 once replied; 1, without replying, when
 * there is no such object here (a remote store's objects are not served
 * through us: the caller redirects, or answers not_found).
 */
int api_files_serve(hh_app *app, http_req *req, const char *key);

#endif
