/*
 * receiver.c - the upload checks of receiver.h around a blob_writer. The
 * writer is aborted the moment anything is refused, so a refused upload
 * holds no disk space while the client is still sending.
 */
#include "blob/receiver.h"

#include <stdlib.h>
#include <string.h>

#include "media/sniff.h"

struct blob_receiver {
    blob_writer *w; /* NULL once committed or aborted */
    int64_t size, received;
    char content_type[64];
    unsigned char head[SNIFF_NEED];
    size_t headlen;
    int sniffed;
    blob_refusal refusal;
};

hh_status blob_receiver_new(blob_store *bs, const char *key, const char *content_type, int64_t size,
                            blob_receiver **out)
{
    *out = NULL;
    if (size < 0 || strlen(content_type) >= sizeof((blob_receiver *)0)->content_type)
        return HH_ERR_INVALID;
    blob_receiver *r = calloc(1, sizeof *r);
    if (!r)
        return HH_ERR_NOMEM;
    hh_status rc = blob_writer_new(bs, key, &r->w);
    if (rc) {
        free(r);
        return rc;
    }
    r->size = size;
    memcpy(r->content_type, content_type, strlen(content_type) + 1);
    *out = r;
    return HH_OK;
}

static hh_status refuse(blob_receiver *r, blob_refusal why)
{
    blob_writer_abort(r->w);
    r->w = NULL;
    r->refusal = why;
    return why == BLOB_REFUSE_IO ? HH_ERR_IO : HH_ERR_INVALID;
}

/* Judges the type once SNIFF_NEED bytes are in, or at the end (complete). */
static hh_status sniff(blob_receiver *r, int complete)
{
    sniff_result s = sniff_check(r->content_type, r->head, r->headlen, complete);
    if (s == SNIFF_NEED_MORE)
        return HH_OK;
    r->sniffed = 1;
    return s == SNIFF_MATCH ? HH_OK : refuse(r, BLOB_REFUSE_WRONG_TYPE);
}

hh_status blob_receiver_feed(blob_receiver *r, const void *data, size_t len)
{
    if (!r->w)
        return r->refusal == BLOB_REFUSE_IO ? HH_ERR_IO : HH_ERR_INVALID;
    if ((uint64_t)len > (uint64_t)(r->size - r->received))
        return refuse(r, BLOB_REFUSE_TOO_LONG);
    if (!r->sniffed) {
        size_t take = SNIFF_NEED - r->headlen < len ? SNIFF_NEED - r->headlen : len;
        memcpy(r->head + r->headlen, data, take);
        r->headlen += take;
        hh_status rc = sniff(r, 0);
        if (rc)
            return rc;
    }
    if (blob_writer_write(r->w, data, len))
        return refuse(r, BLOB_REFUSE_IO);
    r->received += (int64_t)len;
    return HH_OK;
}

hh_status blob_receiver_finish(blob_receiver *r)
{
    if (!r->w)
        return r->refusal == BLOB_REFUSE_IO ? HH_ERR_IO : HH_ERR_INVALID;
    if (r->received != r->size)
        return refuse(r, BLOB_REFUSE_TOO_SHORT);
    hh_status rc = r->sniffed ? HH_OK : sniff(r, 1);
    if (rc)
        return rc;
    blob_writer *w = r->w;
    r->w = NULL;
    rc = blob_writer_commit(w); /* frees w */
    if (rc == HH_ERR_EXISTS) {
        r->refusal = BLOB_REFUSE_EXISTS;
        return rc;
    }
    if (rc)
        r->refusal = BLOB_REFUSE_IO;
    return rc;
}

blob_refusal blob_receiver_refusal(const blob_receiver *r)
{
    return r->refusal;
}

int64_t blob_receiver_received(const blob_receiver *r)
{
    return r->received;
}

void blob_receiver_free(blob_receiver *r)
{
    if (!r)
        return;
    blob_writer_abort(r->w);
    free(r);
}
