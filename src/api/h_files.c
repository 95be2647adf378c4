/*
 * h_files.c - GET/HEAD /files/<key>: uploads and generated videos served
 * from blob storage with the headers browsers need to play and seek: type,
 * length, ETag, Last-Modified, Accept-Ranges and single ranges (206/416),
 * If-None-Match (304). Objects never change once written (new content gets
 * a new key), so they are cacheable for a year. Bytes go out with
 * sendfile through http_reply_fd.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/app.h"
#include "api/routes.h"
#include "api/videos.h"
#include "domain/upload_policy.h"
#include "http/range.h"

static void http_date(int64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

void h_files_get(http_req *req, void *app_)
{
    if (api_files_serve(app_, req, http_req_tail(req)))
        http_reply_error(req, API_ERR_NOT_FOUND, "No such file.", NULL);
}

int api_files_serve(hh_app *app, http_req *req, const char *key)
{
    blob_info info;
    int fd = -1;
    /* Only the server's own key shapes are looked up: no temporary names, no other files. */
    const char *type = upload_key_content_type(key);
    if (!type || blob_open_read(app->blob, key, &fd, &info))
        return 1;
    char date[64], crange[96];
    http_date(info.mtime_ms, date, sizeof date);
    http_req_add_header(req, "ETag", info.etag);
    http_req_add_header(req, "Last-Modified", date);
    http_req_add_header(req, "Accept-Ranges", "bytes");
    http_req_add_header(req, "Cache-Control", "public, max-age=31536000, immutable");

    const char *inm = http_req_header(req, "If-None-Match");
    if (inm && (strstr(inm, info.etag) || !strcmp(inm, "*"))) {
        close(fd);
        http_reply_bytes(req, 304, NULL, NULL, 0);
        return 0;
    }
    uint64_t first = 0, last = 0;
    /* A Range with an If-Range that no longer matches gets the whole, current object. */
    const char *if_range = http_req_header(req, "If-Range");
    range_result r = if_range && strcmp(if_range, info.etag)
                         ? RANGE_NONE
                         : range_parse(http_req_header(req, "Range"), info.size, &first, &last);
    if (r == RANGE_UNSATISFIABLE) {
        close(fd);
        snprintf(crange, sizeof crange, "bytes */%llu", (unsigned long long)info.size);
        http_req_add_header(req, "Content-Range", crange);
        http_reply_error_status(req, 416, API_ERR_INVALID_INPUT, "Range not satisfiable.", NULL);
        return 0;
    }
    if (r == RANGE_OK) {
        snprintf(crange, sizeof crange, "bytes %llu-%llu/%llu", (unsigned long long)first,
                 (unsigned long long)last, (unsigned long long)info.size);
        http_req_add_header(req, "Content-Range", crange);
        http_reply_fd(req, 206, type, fd, first, last - first + 1);
        return 0;
    }
    http_reply_fd(req, 200, type, fd, 0, info.size);
    return 0;
}
