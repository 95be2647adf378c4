/*
 * range.h - the single-range subset of HTTP Range (RFC 9110 14.2) that
 * browsers use to seek in media: "bytes=a-b", "bytes=a-", "bytes=-n".
 * Several ranges in one header are answered with the whole object, which
 * the RFC allows.
 */
#ifndef HH_RANGE_H
#define HH_RANGE_H

#include <stdint.h>

typedef enum range_result {
    RANGE_NONE,          /* no header, another unit, or several ranges: send it all (200) */
    RANGE_OK,            /* send [first, last] (206) */
    RANGE_UNSATISFIABLE, /* 416 with Content-Range: bytes * / size */
} range_result;

/* Parses header against an object of size bytes. */
range_result range_parse(const char *header, uint64_t size, uint64_t *first, uint64_t *last);

#endif
