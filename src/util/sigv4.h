/*
 * sigv4.h - AWS Signature Version 4, written once: the canonical request,
 * the string to sign, the derived signing key and the two ways a request
 * carries the signature (an Authorization header, or a presigned URL's
 * query string). Used by the S3 object store (blob/blob_s3.c); nothing in
 * it is S3-specific except that paths are encoded once, never normalized,
 * which is also what the AWS test suite's plain vectors expect.
 *
 * Inputs are raw (not URI-encoded): the signer encodes path segments,
 * query names and values itself (RFC 3986 unreserved characters stay, the
 * rest become %XX, upper-case hex). Header names are compared without
 * case; values are trimmed and runs of spaces folded to one, as the
 * specification says. HMAC-SHA256 and SHA-256 come from util/crypto.h.
 *
 * Nothing here allocates for the caller or logs; outputs go to caller
 * buffers whose sizes are checked (HH_ERR_LIMIT when too small).
 */
#ifndef HH_SIGV4_H
#define HH_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

/* The payload hash of a body the signature does not cover (S3 allows it). */
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* The longest X-Amz-Expires AWS accepts: seven days. */
#define SIGV4_MAX_EXPIRES 604800
/* "YYYYMMDDTHHMMSSZ" and its NUL. */
#define SIGV4_DATE_LEN 17

typedef struct sigv4_credentials {
    const char *access_key_id;
    const char *secret_access_key;
    const char *region;  /* e.g. "us-east-1" */
    const char *service; /* e.g. "s3" */
} sigv4_credentials;

/* A name and a value, both raw (unencoded). A query value may be "". */
typedef struct sigv4_pair {
    const char *name;
    const char *value;
} sigv4_pair;

typedef struct sigv4_request {
    const char *method; /* "GET", "PUT", ... */
    const char *path;   /* raw path, starting with '/'; NULL or "" means "/" */
    const sigv4_pair *query;
    size_t nquery;
    /* Every header to sign, "host" included; the same name twice is joined with ','. */
    const sigv4_pair *headers;
    size_t nheaders;
    /* Lower-case hex SHA-256 of the body, or SIGV4_UNSIGNED_PAYLOAD. */
    const char *payload_hash;
} sigv4_request;

/* The X-Amz-Date form of a Unix time, e.g. "20150830T123600Z". */
void sigv4_date(int64_t unix_s, char out[SIGV4_DATE_LEN]);

/*
 * URI-encodes s into out as SigV4 wants it: unreserved characters
 * (A-Z a-z 0-9 - . _ ~) stay, every other byte becomes %XX; '/' stays when
 * keep_slash (paths) and is encoded otherwise (query names and values).
 */
hh_status sigv4_uri_encode(const char *s, int keep_slash, char *out, size_t size);

/*
 * The canonical request of r into out (NUL-terminated), for tests and for
 * explaining a SignatureDoesNotMatch. HH_ERR_INVALID for a request without
 * a method or a payload hash.
 */
hh_status sigv4_canonical_request(const sigv4_request *r, char *out, size_t size);

/*
 * The Authorization header's value for r signed at amz_date
 * ("AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...").
 * r's headers must already hold x-amz-date (and x-amz-content-sha256 for
 * S3) with the values that will be sent.
 */
hh_status sigv4_authorization(const sigv4_credentials *c, const sigv4_request *r,
                              const char *amz_date, char *out, size_t size);

/*
 * A presigned request's whole query string: r's own query plus
 * X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires and
 * X-Amz-SignedHeaders, encoded and in canonical order, then
 * &X-Amz-Signature=... last. The URL is <scheme>://<host><encoded path>?<out>.
 * r->payload_hash is normally SIGV4_UNSIGNED_PAYLOAD. expires_s must be
 * 1..SIGV4_MAX_EXPIRES (HH_ERR_INVALID otherwise).
 */
hh_status sigv4_presign_query(const sigv4_credentials *c, const sigv4_request *r,
                              const char *amz_date, int64_t expires_s, char *out, size_t size);

#endif
