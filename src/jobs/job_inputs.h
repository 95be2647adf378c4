/*
 * job_inputs.h - what every job needs before an engine sees it, for the
 * render threads (worker.c) and the remote-task driver (remote.c) alike:
 * the stored request parsed back, the seed fixed by the video id, and the
 * reference uploads copied out of blob storage into the job's directory
 * (or, for a provider that fetches them itself, their public URLs).
 */
#ifndef HH_JOB_INPUTS_H
#define HH_JOB_INPUTS_H

#include <stddef.h>
#include <stdint.h>

#include "blob/blob.h"
#include "domain/video_request.h"
#include "store/store.h"
#include "util/status.h"

#define JOB_PATH_MAX 1100

typedef struct job_inputs {
    char dir[1024];                         /* the job's scratch directory ("" none) */
    char input[HH_REF_COUNT][JOB_PATH_MAX]; /* local copies, "" when absent */
    char url[HH_REF_COUNT][JOB_PATH_MAX];   /* public URLs, "" when absent */
} job_inputs;

/* The seed of video id: the same for every attempt, so a retry makes the same video. */
uint64_t job_seed(const char *video_id);

/*
 * Parses v's stored request into *req (heap-sized: the caller's storage).
 * HH_ERR_INTERNAL when it does not parse: stored requests were validated,
 * so that is a bug.
 */
hh_status job_request(const hh_video *v, hh_video_request *req);

/*
 * Makes a fresh directory for v under scratch in in->dir (mode 0700).
 * HH_ERR_IO with msg when it cannot.
 */
hh_status job_dir_make(const char *scratch, const hh_video *v, const char *tag, job_inputs *in,
                       char *msg, size_t msgsize);

/*
 * Copies req's references into in->dir (local_files) and/or writes their
 * public URLs (urls). HH_ERR_INVALID with a customer's message when an
 * upload is gone.
 */
hh_status job_fetch_inputs(blob_store *blob, const hh_video_request *req, int local_files, int urls,
                           job_inputs *in, char *msg, size_t msgsize);

/* Removes in->dir and all in it (NULL-safe on an empty dir). */
void job_dir_remove(job_inputs *in);

#endif
