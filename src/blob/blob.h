/*
 * blob.h - object storage for uploads and generated videos, behind one
 * interface so that local disk (blob_local.c, the default) and an
 * S3-compatible service can serve the same callers. Nothing outside
 * src/blob/ may assume objects are files.
 *
 * Keys are made by the server (domain/upload_policy.h validates their
 * shape) and are never built from client strings. Writes are atomic: an
 * object is either absent or whole, never partial.
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
    hh_status (*writer_new)(blob_store *bs, const char *key, blob_writer **out);
    hh_status (*writer_write)(blob_writer *w, const void *data, size_t len);
    hh_status (*writer_commit)(blob_writer *w);
    void (*writer_abort)(blob_writer *w);
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
 * URL; objects are served at <public_url>/files/<key>. On success *out is
 * owned by the caller (blob_free).
 */
hh_status blob_local_new(const char *data_dir, const char *public_url, blob_store **out);

/* Stores the local file at path as key, atomically (temp name + rename). */
hh_status blob_put_file(blob_store *bs, const char *key, const char *path);
/* Copies object key into the local file path (created or truncated). */
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
/* Writes the public URL of key into buf; returns buf. */
char *blob_public_url(const blob_store *bs, const char *key, char *buf, size_t size);
/*
 * Receiving an object in pieces (an upload's body as it arrives): bytes go
 * to a temporary object that nobody can read; commit makes it visible under
 * key at once, and refuses (HH_ERR_EXISTS) if key already exists; abort
 * throws it away. Either commit or abort frees the writer.
 */
hh_status blob_writer_new(blob_store *bs, const char *key, blob_writer **out);
hh_status blob_writer_write(blob_writer *w, const void *data, size_t len);
hh_status blob_writer_commit(blob_writer *w);
/* NULL is fine. */
void blob_writer_abort(blob_writer *w);

/* Sets the base of public URLs (known once the server listens); trailing '/' dropped. */
void blob_set_public_url(blob_store *bs, const char *url);
/* Frees the store (NULL is fine). */
void blob_free(blob_store *bs);

#endif
