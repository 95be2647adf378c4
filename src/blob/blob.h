/*
 * blob.h - object storage for uploads and generated videos, behind one
 * interface so that local disk (blob_local.c, the default) and an
 * S3-compatible service can serve the same callers. Nothing outside
 * src/blob/ may assume objects are files.
 *
 * Keys are made by the server (domain/upload_policy.h validates their
 * shape) and are never built from client strings. Writes are atomic: an
 * object is either absent or whole, never partial.
 *
 * How the S3 backend (blob_s3.c) fits (same operations, no caller changes):
 *   presign_put  -> a SigV4 presigned PUT URL with Content-Type and
 *                   Content-Length among the signed headers; the client
 *                   PUTs to S3 directly, so check_put and the writer are
 *                   not used for customer uploads (check_put answers
 *                   HH_ERR_NOTFOUND and our PUT route 404s);
 *   public_url   -> HAPPYHORSE_S3_PUBLIC_URL/<key>, else a presigned GET;
 *   open_read    -> HH_ERR_NOTFOUND: no bytes pass through us (the URLs
 *                   the API hands out point at the bucket);
 *   stat         -> HEAD Object (size, Last-Modified, ETag);
 *   read_head    -> a ranged GET of the first bytes;
 *   put_file     -> PutObject (multipart above a threshold), atomic in S3;
 *   fetch_file   -> GetObject into a local file (workers render from it);
 *   writer       -> a multipart upload: parts as they come, completed on
 *                   commit (with If-None-Match: * to refuse an existing
 *                   key), aborted on abort;
 *   remove       -> DeleteObject;
 *   ping         -> HEAD Bucket (for /readyz).
 * The existence of an object is the one fact the upload state machine
 * relies on: with local storage our PUT route marks an upload complete
 * after its commit; with S3 the client PUTs to the bucket, so creating a
 * video asks blob_check_upload whether the object is there, whole and of
 * its type, and marks it complete then.
 */
#ifndef HH_BLOB_H
#define HH_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

typedef struct blob_store blob_store;
typedef struct blob_writer blob_writer;

typedef struct blob_info {
    uint64_t size;
    int64_t mtime_ms;
    char etag[48]; /* quoted strong validator, e.g. "\"1f-18c2a...\"" */
} blob_info;

/* The operations a backend implements; see blob_local.c for the local one. */
typedef struct blob_ops {
    hh_status (*put_file)(blob_store *bs, const char *key, const char *path);
    hh_status (*fetch_file)(blob_store *bs, const char *key, const char *path);
    hh_status (*stat)(blob_store *bs, const char *key, blob_info *info);
    hh_status (*open_read)(blob_store *bs, const char *key, int *fd, blob_info *info);
    hh_status (*remove)(blob_store *bs, const char *key);
    hh_status (*presign_put)(blob_store *bs, const char *key, const char *content_type,
                             int64_t size, int64_t expires, char *url, size_t urlsize);
    hh_status (*check_put)(blob_store *bs, const char *key, const char *content_type, int64_t size,
                           int64_t expires, const char *sig, int64_t now_s);
    hh_status (*writer_new)(blob_store *bs, const char *key, blob_writer **out);
    hh_status (*writer_write)(blob_writer *w, const void *data, size_t len);
    hh_status (*writer_commit)(blob_writer *w);
    void (*writer_abort)(blob_writer *w);
    hh_status (*remove_parts)(blob_store *bs, const char *key);
    unsigned (*sweep_parts)(blob_store *bs, int64_t idle_s);
    /* The first up to n bytes of key into buf (*got of them); HH_ERR_NOTFOUND when absent. */
    hh_status (*read_head)(blob_store *bs, const char *key, void *buf, size_t n, size_t *got);
    char *(*public_url)(const blob_store *bs, const char *key, char *buf, size_t size);
    hh_status (*ping)(blob_store *bs);
    void (*free)(blob_store *bs);
} blob_ops;

struct blob_store {
    const blob_ops *ops;
    char public_url[256]; /* base of public URLs, no trailing slash */
};

/* Backends embed this first in their writer, so dispatch finds the store. */
struct blob_writer {
    blob_store *bs;
};

/*
 * Local storage under <data_dir>/objects. public_url is the server's base
 * URL; objects are served at <public_url>/files/<key> and uploads are
 * PUT to <public_url>/uploads/<key>?expires=..&sig=.. (blob/presign.h),
 * signed with <data_dir>/secret.key (made on first open, 0600). On
 * success *out is owned by the caller (blob_free).
 */
hh_status blob_local_new(const char *data_dir, const char *public_url, blob_store **out);

typedef struct blob_s3_config blob_s3_config; /* blob/blob_s3.h */

/*
 * The object store a process uses: S3 when s3 is not NULL (blob_s3_new),
 * else local storage under data_dir (blob_local_new). On success *out is
 * owned by the caller (blob_free).
 */
hh_status blob_open(const char *data_dir, const blob_s3_config *s3, blob_store **out);

/* Stores the local file at path as key, atomically (temp name + rename). */
hh_status blob_put_file(blob_store *bs, const char *key, const char *path);
/*
 * Copies object key into the local file path (created or truncated). For
 * an upload's key (domain/upload_policy.h) the copy's first bytes are
 * sniffed against the key's type before anything uses it: an object that
 * was replaced after it was checked is HH_ERR_INVALID (the copy removed).
 */
hh_status blob_fetch_file(blob_store *bs, const char *key, const char *path);
/* Size, time and ETag of key; HH_ERR_NOTFOUND when absent. */
hh_status blob_stat(blob_store *bs, const char *key, blob_info *info);
/*
 * Opens key for reading: *fd (owned by the caller) reads the whole object.
 * Local only serves its own objects this way; a remote backend answers
 * HH_ERR_NOTFOUND and the HTTP layer redirects to blob_public_url instead.
 */
hh_status blob_open_read(blob_store *bs, const char *key, int *fd, blob_info *info);
/* Deletes key; HH_OK when it was already absent. */
hh_status blob_remove(blob_store *bs, const char *key);
/*
 * Writes into url a URL that lets anyone PUT exactly size bytes of
 * content_type to key until expires (Unix seconds) and nothing else.
 * HH_ERR_LIMIT when urlsize is too small.
 */
hh_status blob_presign_put(blob_store *bs, const char *key, const char *content_type, int64_t size,
                           int64_t expires, char *url, size_t urlsize);
/*
 * The receiving end of blob_presign_put's URLs, for backends that receive
 * uploads through our own server (local): HH_OK when sig and expires (from
 * the URL) are right for these values at now_s; HH_ERR_INVALID for a bad
 * signature; HH_ERR_LIMIT when expired; HH_ERR_NOTFOUND when this backend
 * does not receive uploads itself.
 */
hh_status blob_check_put(blob_store *bs, const char *key, const char *content_type, int64_t size,
                         int64_t expires, const char *sig, int64_t now_s);
/*
 * Whether key holds what an upload declared: HH_OK when the object is
 * there with exactly size bytes whose first bytes sniff as content_type
 * (media/sniff.h); HH_ERR_NOTFOUND when it is absent or of another size
 * (not uploaded, or not completely); HH_ERR_INVALID when its bytes are not
 * of that type (the object is then removed, as a refused PUT leaves
 * nothing); HH_ERR_IO when the store cannot tell.
 */
hh_status blob_check_upload(blob_store *bs, const char *key, const char *content_type,
                            int64_t size);
/* HH_OK when the store answers (local: its directory is writable; S3: the bucket). */
hh_status blob_ping(blob_store *bs);
/*
 * Writes the URL of key that the API hands out into buf; returns buf.
 * Local: <public_url>/files/<key>. S3: HAPPYHORSE_S3_PUBLIC_URL/<key>, or
 * a presigned GET.
 */
char *blob_public_url(const blob_store *bs, const char *key, char *buf, size_t size);
/*
 * Receiving an object in pieces (an upload's body as it arrives): bytes go
 * to a temporary object that nobody can read (local: a file created with
 * O_EXCL, mode 0600, in the object's own directory, so the final step is a
 * same-file-system link); commit makes it durable and visible under key at
 * once, and refuses (HH_ERR_EXISTS) if key already exists; abort throws it
 * away. Either commit or abort frees the writer. blob/receiver.h adds the
 * checks an upload needs (declared length, content sniffing) on top.
 */
hh_status blob_writer_new(blob_store *bs, const char *key, blob_writer **out);
hh_status blob_writer_write(blob_writer *w, const void *data, size_t len);
hh_status blob_writer_commit(blob_writer *w);
/* NULL is fine. */
void blob_writer_abort(blob_writer *w);

/*
 * Removes what bodies of key that never committed left behind (local: the
 * temporary files of writers that a crash stopped before their abort).
 * HH_OK when there was nothing, too. Only for a key no writer is using.
 */
hh_status blob_remove_parts(blob_store *bs, const char *key);
/*
 * Removes every such leftover of any key untouched for idle_s seconds
 * (at start-up: no writer of this process is running yet, and one of
 * another is never idle that long). Returns how many it removed.
 */
unsigned blob_sweep_parts(blob_store *bs, int64_t idle_s);

/*
 * Sets the base of local public URLs (known once the server listens);
 * trailing '/' dropped. S3 URLs do not use it.
 */
void blob_set_public_url(blob_store *bs, const char *url);
/* Frees the store (NULL is fine). */
void blob_free(blob_store *bs);

#endif
