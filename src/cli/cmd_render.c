/*
 * cmd_render.c - `happyhorse render`: renders one job file to an MP4 and a
 * JPEG thumbnail with an engine, without a server. The job file is a
 * create-video body in job-file mode (domain/video_request.h): same fields,
 * rules and defaults as the API, local files as sourceImage, lastFrame,
 * referenceVideo, referenceAudio (relative paths are relative to the job
 * file's directory), optional integer seed.
 *
 *   happyhorse render --job job.json --out video.mp4 --thumb thumb.jpg
 *                     [--engine procedural|exec] [--engine-config JSON|@FILE]
 *
 * Exit 0 on success; 1 with one line on stderr when the render fails (the
 * partial outputs are removed); 2 on bad usage or an invalid job.
 */
#include "cli/cli.h"
#include "domain/video_request.h"
#include "engine/engine.h"
#include "util/log.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG         "happyhorse render"
#define JOB_MAX_SIZE (1 << 20)

static const char usage[] =
    "usage: happyhorse render --job FILE --out VIDEO.mp4 --thumb THUMB.jpg\n"
    "                         [--engine procedural|exec] [--engine-config JSON|@FILE]\n"
    "Renders a job file (a create-video body with local paths sourceImage, lastFrame,\n"
    "referenceVideo, referenceAudio and an optional integer seed) to an MP4 and a JPEG.\n";

/* Reads a whole file of at most JOB_MAX_SIZE bytes as JSON. New reference or NULL (err set). */
static json_t *load_json_file(const char *path, char *err, size_t errsize)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errsize, "cannot open %s", path);
        return NULL;
    }
    char *buf = malloc(JOB_MAX_SIZE + 1);
    size_t n = buf ? fread(buf, 1, JOB_MAX_SIZE + 1, f) : 0;
    fclose(f);
    if (!buf || n > JOB_MAX_SIZE) {
        free(buf);
        snprintf(err, errsize, "%s is larger than %d bytes", path, JOB_MAX_SIZE);
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (!j)
        snprintf(err, errsize, "%s: bad JSON at line %d: %s", path, je.line, je.text);
    return j;
}

/* Resolves path against the directory of the job file into out (PATH_MAX). */
static int resolve(const char *jobfile, const char *path, char *out, size_t outsize)
{
    if (path[0] == '/')
        return snprintf(out, outsize, "%s", path) >= (int)outsize ? -1 : 0;
    const char *slash = strrchr(jobfile, '/');
    int dirlen = slash ? (int)(slash - jobfile) : 1;
    const char *dir = slash ? jobfile : ".";
    return snprintf(out, outsize, "%.*s/%s", dirlen, dir, path) >= (int)outsize ? -1 : 0;
}

int cli_render(int argc, char **argv)
{
    const char *jobfile = NULL, *out = NULL, *thumb = NULL, *engine = "procedural";
    const char *config_arg = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return CLI_OK;
        }
        if (i + 1 >= argc)
            return cli_usage_error(PROG, "unknown option or missing value: %s (see --help)", a);
        if (!strcmp(a, "--job"))
            jobfile = argv[++i];
        else if (!strcmp(a, "--out"))
            out = argv[++i];
        else if (!strcmp(a, "--thumb"))
            thumb = argv[++i];
        else if (!strcmp(a, "--engine"))
            engine = argv[++i];
        else if (!strcmp(a, "--engine-config"))
            config_arg = argv[++i];
        else
            return cli_usage_error(PROG, "unknown option %s (see --help)", a);
    }
    if (!jobfile || !out || !thumb)
        return cli_usage_error(PROG, "--job, --out and --thumb are required (see --help)");

    /* The exec engine writes to a generator's stdin, which may close early. */
    signal(SIGPIPE, SIG_IGN);
    int ret = CLI_FAIL;
    json_t *job = NULL, *config = NULL;
    hh_engine *eng = NULL;
    hh_video_request *req = malloc(sizeof *req);
    char(*paths)[PATH_MAX] = calloc(HH_REF_COUNT, PATH_MAX);
    char err[512], msg[HH_ENGINE_MSG_MAX];
    hh_errdetail d;
    if (!req || !paths) {
        ret = cli_fail(PROG, "out of memory");
        goto done;
    }
    if (config_arg) {
        json_error_t je;
        config = config_arg[0] == '@' ? load_json_file(config_arg + 1, err, sizeof err)
                                      : json_loads(config_arg, JSON_REJECT_DUPLICATES, &je);
        if (!config) {
            ret =
                cli_usage_error(PROG, "--engine-config: %s", config_arg[0] == '@' ? err : je.text);
            goto done;
        }
    }
    hh_errdetail why = {"", ""};
    if (engine_new(engine, config, &eng, &why)) {
        ret = cli_usage_error(PROG, "%s", why.message);
        goto done;
    }
    job = load_json_file(jobfile, err, sizeof err);
    if (!job) {
        ret = cli_usage_error(PROG, "invalid job: %s", err);
        goto done;
    }
    if (video_request_parse(job, HH_VR_JOB, req, &d)) {
        ret = cli_usage_error(PROG, "invalid job: %s", d.message);
        goto done;
    }
    hh_render_job rj = {
        .req = req, .seed = (uint64_t)req->seed, .video_path = out, .thumb_path = thumb};
    for (int r = 0; r < HH_REF_COUNT; r++) {
        if (!req->ref[r][0])
            continue;
        if (resolve(jobfile, req->ref[r], paths[r], PATH_MAX)) {
            ret = cli_usage_error(PROG, "invalid job: %s: path too long",
                                  video_ref_field((hh_ref)r, HH_VR_JOB));
            goto done;
        }
        rj.input[r] = paths[r];
    }
    hh_status rc = engine_render(eng, &rj, msg, sizeof msg);
    if (rc) {
        unlink(out);
        unlink(thumb);
        ret = cli_fail(PROG, "%s", msg[0] ? msg : hh_status_str(rc));
        goto done;
    }
    ret = CLI_OK;
done:
    engine_free(eng);
    json_decref(config);
    json_decref(job);
    free(paths);
    free(req);
    return ret;
}
