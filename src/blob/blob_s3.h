/*
 * blob_s3.h - objects in a bucket of any S3-compatible service (AWS S3,
 * MinIO, Ceph, R2, ...), behind blob.h's operations. Requests are signed
 * with SigV4 (util/sigv4.h) and sent with the HTTP client on libcurl
 * (http/http_client.h). Customers PUT uploads straight to the bucket with
 * presigned URLs whose signature covers Content-Type and Content-Length,
 * so the service itself refuses another type or size; workers GET inputs
 * and PUT outputs server-side (multipart above part_size).
 *
 * The settings come from the environment (HAPPYHORSE_S3_*, read by
 * cli/options.c); nothing here reads it.
 */
#ifndef HH_BLOB_S3_H
#define HH_BLOB_S3_H

#include <stddef.h>
#include <stdint.h>

#include "blob/blob.h"

#define BLOB_S3_MIN_PART (5u * 1024 * 1024)  /* S3's smallest part but the last */
#define BLOB_S3_PART     (16u * 1024 * 1024) /* default part size and threshold */
/* Presigned GETs are signed at the start of the hour and live a day, so a URL is
 * the same for an hour (browsers and CDNs cache it) and good for 23 hours at least. */
#define BLOB_S3_GET_TTL 86400

struct blob_s3_config {
    char endpoint[256]; /* scheme://host[:port]: HAPPYHORSE_S3_ENDPOINT */
    char bucket[64];    /* HAPPYHORSE_S3_BUCKET */
    char region[64];    /* HAPPYHORSE_S3_REGION; "us-east-1" when empty */
    char access_key_id[128];
    char secret_access_key[128];
    int force_path_style; /* 1: <endpoint>/<bucket>/<key>; 0: <bucket>.<host>/<key> */
    char public_url[256]; /* base of object URLs; "" means presigned GETs */
    size_t part_size;     /* 0: BLOB_S3_PART; at least BLOB_S3_MIN_PART */
};

/*
 * Checks cfg: an http(s) endpoint without a path, a bucket name S3
 * accepts, both keys, an http(s) public URL if any, a part size of at
 * least 5 MiB if any. HH_ERR_INVALID with a one-line reason in why.
 */
hh_status blob_s3_check_config(const blob_s3_config *cfg, char *why, size_t why_size);
/*
 * Makes the store from cfg (copied; checked as above, the reason logged).
 * The bucket is not contacted (blob_ping does that), so a node starts
 * while the service is away and /readyz says so. On success *out is owned
 * by the caller (blob_free).
 */
hh_status blob_s3_new(const blob_s3_config *cfg, blob_store **out);

/*
 * The presigned URL of method ("PUT" with content_type and size signed,
 * or "GET" with both NULL/-1) for key, as signed at signed_at (Unix s)
 * for expires_s seconds. blob_presign_put and presigned public URLs use
 * it with the current time; tests compare it with the AWS SDK's.
 */
hh_status blob_s3_presign(const blob_store *bs, const char *method, const char *key,
                          const char *content_type, int64_t size, int64_t signed_at,
                          int64_t expires_s, char *url, size_t urlsize);

#endif
