/*
 * blob.c - the backend-independent half of blob.h: dispatch to the
 * backend's operations and public URLs.
 */
#include "blob/blob.h"

#include <stdio.h>
#include <string.h>

hh_status blob_put_file(blob_store *bs, const char *key, const char *path)
{
    return bs->ops->put_file(bs, key, path);
}

hh_status blob_fetch_file(blob_store *bs, const char *key, const char *path)
{
    return bs->ops->fetch_file(bs, key, path);
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
    snprintf(buf, size, "%s/files/%s", bs->public_url, key);
    return buf;
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
