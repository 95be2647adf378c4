/*
 * job_inputs.c - a job's request, seed, scratch directory and references
 * (see job_inputs.h).
 */
#include "jobs/job_inputs.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/errdetail.h"
#include "util/fsutil.h"
#include "util/hash.h"

uint64_t job_seed(const char *video_id)
{
    return hh_fnv1a(HH_FNV1A_INIT, video_id);
}

hh_status job_request(const hh_video *v, hh_video_request *req)
{
    hh_errdetail d;
    json_error_t jerr;
    json_t *body = json_loads(v->request, 0, &jerr);
    hh_status rc = body ? video_request_parse(body, HH_VR_API, req, &d) : HH_ERR_INTERNAL;
    json_decref(body);
    return rc ? HH_ERR_INTERNAL : HH_OK;
}

hh_status job_dir_make(const char *scratch, const hh_video *v, const char *tag, job_inputs *in,
                       char *msg, size_t msgsize)
{
    memset(in, 0, sizeof *in);
    snprintf(in->dir, sizeof in->dir, "%s/%s-%sXXXXXX", scratch, v->id, tag);
    if (!mkdtemp(in->dir)) {
        in->dir[0] = '\0';
        snprintf(msg, msgsize, "The worker could not create its scratch directory.");
        return HH_ERR_IO;
    }
    return HH_OK;
}

hh_status job_fetch_inputs(blob_store *blob, const hh_video_request *req, int local_files, int urls,
                           job_inputs *in, char *msg, size_t msgsize)
{
    static const char *const names[HH_REF_COUNT] = {"source-image", "last-frame", "reference-video",
                                                    "reference-audio"};
    for (int r = 0; r < HH_REF_COUNT; r++) {
        if (!req->ref[r][0])
            continue;
        if (urls)
            blob_public_url(blob, req->ref[r], in->url[r], sizeof in->url[r]);
        if (!local_files)
            continue;
        const char *ext = strrchr(req->ref[r], '.');
        snprintf(in->input[r], sizeof in->input[r], "%s/%s%s", in->dir, names[r], ext ? ext : "");
        hh_status rc = blob_fetch_file(blob, req->ref[r], in->input[r]);
        if (rc) {
            snprintf(msg, msgsize, "The %s upload could not be read.", names[r]);
            return rc == HH_ERR_NOTFOUND ? HH_ERR_INVALID : rc;
        }
    }
    return HH_OK;
}

void job_dir_remove(job_inputs *in)
{
    if (in->dir[0])
        hh_remove_tree(in->dir);
    in->dir[0] = '\0';
}
