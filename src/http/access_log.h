/*
 * access_log.h - the access log: one JSON line per request, in the
 * logger's format (util/log.h: ts, level, msg, then the fields), written
 * straight into one buffer and out with one write(2): no JSON tree, no
 * allocation for a line of ordinary length, nothing at all built when the
 * level is above info.
 */
#ifndef HH_ACCESS_LOG_H
#define HH_ACCESS_LOG_H

#include <stddef.h>
#include <stdint.h>

/* The fields of one line. Strings are borrowed; path is the client's bytes. */
typedef struct http_access {
    const char *method;
    const char *route;
    const char *path;
    unsigned status;
    int64_t duration_us;
    const char *request_id;
    uint64_t bytes;
    int completed;
} http_access;

/* The text of a path field longer than this (in the client's bytes) is cut. */
#define HTTP_ACCESS_PATH_MAX 4096

/*
 * Formats the line into buf (size bytes): its length, newline included, or
 * 0 when it does not fit. Valid UTF-8 is kept as it is (JSON-escaped);
 * a byte that is not text is written as the four characters \xNN, so a
 * path with stray bytes keeps its line (as util/utf8.h defines text).
 */
size_t http_access_format(const http_access *a, int64_t now_ms, char *buf, size_t size);

/* Writes the line of a when info lines are enabled. */
void http_access_log(const http_access *a);

#endif
