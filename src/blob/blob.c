/*
 * blob.c - the backend-independent half of blob.h: dispatch to the
 * backend's operations and the upload checks that hold for every backend
 * (size and magic bytes, through read_head and media/sniff.h).
 */
#include "blob/blob.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "domain/upload_policy.h"
#include "media/sniff.h"

hh_status blob_put_file(blob_store *bs, const char *key, const char *path)
{
    return bs->ops->put_file(bs, key, path);
}

/* The type an upload's key promises, or NULL for other keys (outputs, tests' own). */
static const char *upload_type(const char *key)
{
    upload_key_class c = upload_key_classify(key);
    return c >= UPLOAD_KEY_IMAGE && c <= UPLOAD_KEY_AUDIO ? upload_key_content_type(key) : NULL;
}

/* HH_OK when the local file at path starts like type. */
static hh_status sniff_file(const char *path, const char *type)
{
    unsigned char head[SNIFF_NEED];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return HH_ERR_IO;
    ssize_t n = read(fd, head, sizeof head);
    close(fd);
    if (n < 0)
        return HH_ERR_IO;
    return sniff_check(type, head, (size_t)n, 1) == SNIFF_MATCH ? HH_OK : HH_ERR_INVALID;
}

hh_status blob_fetch_file(blob_store *bs, const char *key, const char *path)
{
    hh_status rc = bs->ops->fetch_file(bs, key, path);
    const char *type = rc ? NULL : upload_type(key);
    if (type && (rc = sniff_file(path, type)))
        unlink(path);
    return rc;
}

hh_status blob_check_upload(blob_store *bs, const char *key, const char *content_type, int64_t size)
{
    blob_info info;
    unsigned char head[SNIFF_NEED];
    size_t got = 0;
    hh_status rc = blob_stat(bs, key, &info);
    if (rc)
        return rc;
    if (size < 0 || info.size != (uint64_t)size)
        return HH_ERR_NOTFOUND;
    if ((rc = bs->ops->read_head(bs, key, head, sizeof head, &got)))
        return rc;
    if (sniff_check(content_type, head, got, got < sizeof head) == SNIFF_MATCH)
        return HH_OK;
    blob_remove(bs, key);
    return HH_ERR_INVALID;
}

hh_status blob_ping(blob_store *bs)
{
    return bs->ops->ping(bs);
}

hh_status blob_stat(blob_store *bs, const char *key, blob_info *info)
{
    return bs->ops->stat(bs, key, info);
}

hh_status blob_open_read(blob_store *bs, const char *key, int *fd, blob_info *info)
{
    return bs->ops->open_read(bs, key, fd, info);
}

hh_status blob_remove(blob_store *bs, const char *key)
{
    return bs->ops->remove(bs, key);
}

hh_status blob_remove_parts(blob_store *bs, const char *key)
{
    return bs->ops->remove_parts ? bs->ops->remove_parts(bs, key) : HH_OK;
}

unsigned blob_sweep_parts(blob_store *bs, int64_t idle_s)
{
    return bs->ops->sweep_parts ? bs->ops->sweep_parts(bs, idle_s) : 0;
}

hh_status blob_writer_new(blob_store *bs, const char *key, blob_writer **out)
{
    return bs->ops->writer_new(bs, key, out);
}

hh_status blob_writer_write(blob_writer *w, const void *data, size_t len)
{
    return w->bs->ops->writer_write(w, data, len);
}

hh_status blob_writer_commit(blob_writer *w)
{
    return w->bs->ops->writer_commit(w);
}

void blob_writer_abort(blob_writer *w)
{
    if (w)
        w->bs->ops->writer_abort(w);
}

hh_status blob_presign_put(blob_store *bs, const char *key, const char *content_type, int64_t size,
                           int64_t expires, char *url, size_t urlsize)
{
    return bs->ops->presign_put(bs, key, content_type, size, expires, url, urlsize);
}

hh_status blob_check_put(blob_store *bs, const char *key, const char *content_type, int64_t size,
                         int64_t expires, const char *sig, int64_t now_s)
{
    if (!bs->ops->check_put)
        return HH_ERR_NOTFOUND;
    return bs->ops->check_put(bs, key, content_type, size, expires, sig, now_s);
}

char *blob_public_url(const blob_store *bs, const char *key, char *buf, size_t size)
{
    return bs->ops->public_url(bs, key, buf, size);
}

void blob_set_public_url(blob_store *bs, const char *url)
{
    snprintf(bs->public_url, sizeof bs->public_url, "%s", url);
    size_t n = strlen(bs->public_url);
    while (n > 0 && bs->public_url[n - 1] == '/')
        bs->public_url[--n] = '\0';
}

void blob_free(blob_store *bs)
{
    if (bs)
        bs->ops->free(bs);
}
