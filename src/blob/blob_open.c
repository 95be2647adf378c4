/*
 * blob_open.c - which object store a process uses: S3-compatible storage
 * when it is configured, else the local data directory. Apart from blob.c
 * so that the dispatch half knows no backend and no backend knows it.
 */
#include "blob/blob.h"
#include "blob/blob_s3.h"

hh_status blob_open(const char *data_dir, const blob_s3_config *s3, blob_store **out)
{
    return s3 ? blob_s3_new(s3, out) : blob_local_new(data_dir, "", out);
}
