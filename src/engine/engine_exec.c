/*
 * engine_exec.c - the exec engine: runs an external generator (a diffusion
 * model runner, a script) under the contract of docs/engines.md, then
 * encodes whatever pictures it left into the contract's MP4.
 *
 *   argv      the configured command, plus the output directory as last argument
 *   stdin     the job as one JSON object (local input paths, seed, width,
 *             height, fps, frames, outputDir), then EOF
 *   stdout    optional JSON lines {"progress": 0..100}; other lines ignored
 *   stderr    free text; its last non-empty line is the failure message
 *   exit      0 = success; anything else, or the time limit, = failure
 *   output    outputDir/frame_00001.png... (a numbered PNG sequence) or one
 *             video file (preferably video.<ext>) FFmpeg decodes, plus an
 *             optional audio.wav
 *
 * The generator runs in its own process group, which is killed (SIGKILL)
 * on the time limit, on cancel and when the generator exits, so no
 * grandchild outlives the job. It is spawned with posix_spawn (safe in a
 * threaded server) with every descriptor but its three pipes closed.
 */
#include "engine/engine_int.h"
#include "media/media.h"
#include "util/fsutil.h"
#include "util/timeutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define LINE_MAX_BYTES 4096
#define POLL_SLICE_MS  200

typedef struct child_io {
    char out[LINE_MAX_BYTES]; /* partial stdout line */
    size_t outlen;
    int out_overflow;
    char err[LINE_MAX_BYTES]; /* partial stderr line */
    size_t errlen;
    char last_err[512]; /* last complete non-empty stderr line */
    const hh_render_job *job;
} child_io;

/* dst = a "/" b; returns 0, or -1 (dst empty) when it does not fit. */
static int join(char *dst, size_t size, const char *a, const char *b)
{
    int n = snprintf(dst, size, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= size) {
        dst[0] = '\0';
        return -1;
    }
    return 0;
}

static void on_stdout_line(child_io *io, const char *line)
{
    json_t *j = json_loads(line, 0, NULL);
    const json_t *p = json_object_get(j, "progress");
    if (json_is_number(p) && io->job->progress) {
        double v = json_number_value(p);
        v = v < 0 ? 0 : v > 100 ? 100 : v;
        /* The generator's share is 0..90; our encode is the rest. */
        io->job->progress(io->job->progress_ctx, (int)(v * 0.9));
    }
    json_decref(j);
}

static void on_stderr_line(child_io *io, const char *line)
{
    const char *s = line;
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    size_t n = strlen(s);
    if (!n)
        return;
    if (n >= sizeof io->last_err)
        n = sizeof io->last_err - 1;
    memcpy(io->last_err, s, n);
    io->last_err[n] = '\0';
}

/* Splits buf into lines; keeps the unfinished tail in acc. */
static void feed(char *acc, size_t *acclen, int *overflow, const char *buf, size_t n, child_io *io,
                 void (*line_fn)(child_io *, const char *))
{
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (c == '\n') {
            acc[*acclen] = '\0';
            if (!(overflow && *overflow))
                line_fn(io, acc);
            *acclen = 0;
            if (overflow)
                *overflow = 0;
            continue;
        }
        if (*acclen < LINE_MAX_BYTES - 1)
            acc[(*acclen)++] = c;
        else if (overflow)
            *overflow = 1; /* an over-long line is not a progress line */
        else {
            /* stderr: keep the last part of an over-long line */
            memmove(acc, acc + LINE_MAX_BYTES / 2, *acclen - LINE_MAX_BYTES / 2);
            *acclen -= LINE_MAX_BYTES / 2;
            acc[(*acclen)++] = c;
        }
    }
}

/* Builds the job JSON of the contract. New reference or NULL. */
static json_t *job_json(const hh_render_job *job, const char *outdir)
{
    int w, h;
    if (video_frame_size(job->req->resolution, job->req->aspect, &w, &h))
        return NULL;
    json_t *j = video_request_to_json(job->req, HH_VR_JOB);
    if (!j)
        return NULL;
    int bad = 0;
    for (int r = 0; r < HH_REF_COUNT; r++) {
        const char *name = video_ref_field((hh_ref)r, HH_VR_JOB);
        json_object_del(j, name);
        json_object_del(j, video_ref_field((hh_ref)r, HH_VR_API));
        if (job->input[r]) {
            char abs[PATH_MAX];
            const char *p = realpath(job->input[r], abs) ? abs : job->input[r];
            bad |= json_object_set_new(j, name, json_string(p));
        }
    }
    bad |= json_object_set_new(j, "seed", json_integer((json_int_t)job->seed));
    bad |= json_object_set_new(j, "width", json_integer(w));
    bad |= json_object_set_new(j, "height", json_integer(h));
    bad |= json_object_set_new(j, "fps", json_integer(HH_VIDEO_FPS));
    bad |= json_object_set_new(j, "frames", json_integer(job->req->duration_sec * HH_VIDEO_FPS));
    bad |= json_object_set_new(j, "outputDir", json_string(outdir));
    if (bad) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* Spawns argv in a new process group with pipes on 0, 1, 2. */
static hh_status spawn(char **argv, int in_fd, int out_fd, int err_fd, pid_t *pid, char *msg,
                       size_t msgsize)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_setpgroup(&at, 0);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    int err = posix_spawnp(pid, argv[0], &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (err) {
        snprintf(msg, msgsize, "generator could not be started: %s", strerror(err));
        return HH_ERR_IO;
    }
    return HH_OK;
}

/*
 * Feeds stdin, reads stdout/stderr, enforces the deadline and cancel.
 * Returns HH_OK with *status set when the child exited by itself.
 */
static hh_status supervise(pid_t pid, int in_fd, int out_fd, int err_fd, const char *input,
                           int timeout_sec, child_io *io, int *status, char *msg, size_t msgsize)
{
    size_t in_len = strlen(input), in_off = 0;
    int64_t deadline = hh_time_mono_ms() + (int64_t)timeout_sec * 1000;
    hh_status rc = HH_OK;
    int exited = 0;
    fcntl(in_fd, F_SETFL, fcntl(in_fd, F_GETFL) | O_NONBLOCK);
    while (out_fd >= 0 || err_fd >= 0 || !exited) {
        if (!exited) {
            pid_t w = waitpid(pid, status, WNOHANG);
            if (w == pid) {
                exited = 1;
                kill(-pid, SIGKILL); /* stragglers of its group must not hold the pipes */
            }
        }
        if (io->job->cancel && atomic_load(io->job->cancel)) {
            snprintf(msg, msgsize, "render canceled");
            rc = HH_ERR_CANCELED;
            break;
        }
        int64_t left = deadline - hh_time_mono_ms();
        if (left <= 0) {
            snprintf(msg, msgsize, "generator timed out after %d s", timeout_sec);
            rc = HH_ERR_LIMIT;
            break;
        }
        struct pollfd pf[3];
        int n = 0;
        if (in_fd >= 0)
            pf[n++] = (struct pollfd){.fd = in_fd, .events = POLLOUT};
        if (out_fd >= 0)
            pf[n++] = (struct pollfd){.fd = out_fd, .events = POLLIN};
        if (err_fd >= 0)
            pf[n++] = (struct pollfd){.fd = err_fd, .events = POLLIN};
        int slice = left < POLL_SLICE_MS ? (int)left : POLL_SLICE_MS;
        if (n == 0) {
            usleep(20 * 1000); /* pipes closed, waiting for the exit status */
            continue;
        }
        if (poll(pf, (nfds_t)n, slice) < 0 && errno != EINTR) {
            snprintf(msg, msgsize, "generator supervision failed");
            rc = HH_ERR_IO;
            break;
        }
        for (int i = 0; i < n; i++) {
            if (!pf[i].revents)
                continue;
            if (pf[i].fd == in_fd) {
                ssize_t w = write(in_fd, input + in_off, in_len - in_off);
                if (w > 0)
                    in_off += (size_t)w;
                if ((w < 0 && errno != EAGAIN) || in_off == in_len ||
                    (pf[i].revents & (POLLERR | POLLHUP))) {
                    close(in_fd); /* done, or the generator does not read its stdin */
                    in_fd = -1;
                }
                continue;
            }
            char buf[8192];
            ssize_t r = read(pf[i].fd, buf, sizeof buf);
            if (r > 0) {
                if (pf[i].fd == out_fd)
                    feed(io->out, &io->outlen, &io->out_overflow, buf, (size_t)r, io,
                         on_stdout_line);
                else
                    feed(io->err, &io->errlen, NULL, buf, (size_t)r, io, on_stderr_line);
            } else if (r == 0 || errno != EINTR) {
                if (pf[i].fd == out_fd) {
                    close(out_fd);
                    out_fd = -1;
                } else {
                    close(err_fd);
                    err_fd = -1;
                }
            }
        }
    }
    if (in_fd >= 0)
        close(in_fd);
    if (out_fd >= 0)
        close(out_fd);
    if (err_fd >= 0)
        close(err_fd);
    if (io->errlen) {
        io->err[io->errlen] = '\0';
        on_stderr_line(io, io->err);
    }
    if (!exited) {
        kill(-pid, SIGKILL);
        while (waitpid(pid, status, 0) < 0 && errno == EINTR)
            ;
    }
    return rc;
}

/* Finds what the generator left in outdir: a PNG sequence pattern or one video file. */
static hh_status find_output(const char *outdir, char *frames, size_t fsize, char *audio,
                             size_t asize, char *msg, size_t msgsize)
{
    char probe[PATH_MAX];
    struct stat st;
    audio[0] = '\0';
    if (!join(probe, sizeof probe, outdir, "audio.wav") && stat(probe, &st) == 0 &&
        S_ISREG(st.st_mode))
        snprintf(audio, asize, "%s", probe);
    for (int first = 0; first <= 1; first++) {
        if (!join(probe, sizeof probe, outdir, first ? "frame_00001.png" : "frame_00000.png") &&
            stat(probe, &st) == 0 && S_ISREG(st.st_mode)) {
            if (join(frames, fsize, outdir, "frame_%05d.png"))
                break;
            return HH_OK;
        }
    }
    DIR *d = opendir(outdir);
    if (!d) {
        snprintf(msg, msgsize, "generator output directory is gone");
        return HH_ERR_IO;
    }
    char best[NAME_MAX + 1] = "";
    int best_is_video = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        size_t len = strlen(n);
        if (n[0] == '.' || !strcmp(n, "audio.wav") || (len > 4 && !strcmp(n + len - 4, ".png")))
            continue;
        if (join(probe, sizeof probe, outdir, n) || stat(probe, &st) || !S_ISREG(st.st_mode))
            continue;
        int is_video = !strncmp(n, "video.", 6);
        /* video.<ext> wins; otherwise the first name in byte order, for determinism. */
        if (!best[0] || (is_video && !best_is_video) ||
            (is_video == best_is_video && strcmp(n, best) < 0)) {
            snprintf(best, sizeof best, "%s", n);
            best_is_video = is_video;
        }
    }
    closedir(d);
    if (!best[0]) {
        snprintf(msg, msgsize, "generator produced no video");
        return HH_ERR_INVALID;
    }
    if (join(frames, fsize, outdir, best)) {
        snprintf(msg, msgsize, "generator output name too long");
        return HH_ERR_INVALID;
    }
    return HH_OK;
}

/* The exec engine's settings: the generator's argv and its time limit. */
typedef struct exec_cfg {
    json_t *command; /* argv array (owned) */
    int timeout_sec;
} exec_cfg;

static void exec_release(void *impl)
{
    exec_cfg *x = impl;
    if (x)
        json_decref(x->command);
    free(x);
}

static hh_status exec_configure(hh_engine *e, const json_t *config, hh_errdetail *d)
{
    exec_cfg *x = calloc(1, sizeof *x);
    if (!x)
        return HH_ERR_NOMEM;
    e->impl = x;
    const json_t *cmd = json_object_get(config, "command");
    if (!json_is_array(cmd) || json_array_size(cmd) < 1 || json_array_size(cmd) > 64) {
        return hh_errdetail_set(d, HH_ERR_INVALID, "",
                                "engine config: exec needs \"command\", an array of 1..64 strings");
    }
    size_t i;
    const json_t *arg;
    json_array_foreach(cmd, i, arg)
    {
        if (!json_is_string(arg) || json_string_length(arg) == 0 ||
            json_string_length(arg) > 4096 ||
            strlen(json_string_value(arg)) != json_string_length(arg)) {
            return hh_errdetail_set(d, HH_ERR_INVALID, "",
                                    "engine config: command[%zu] must be a non-empty string", i);
        }
    }
    x->command = json_deep_copy(cmd);
    if (!x->command)
        return HH_ERR_NOMEM;
    x->timeout_sec = 600;
    return engine_cfg_int(config, "timeoutSec", 1, 86400, &x->timeout_sec, d);
}

static hh_status exec_render(const hh_engine *e, const hh_render_job *job, char *msg,
                             size_t msgsize)
{
    const json_t *command = ((const exec_cfg *)e->impl)->command;
    int timeout_sec = ((const exec_cfg *)e->impl)->timeout_sec;
    hh_status rc = HH_ERR_NOMEM;
    char tmpl[PATH_MAX], outdir[PATH_MAX];
    const char *tmp = getenv("TMPDIR");
    snprintf(tmpl, sizeof tmpl, "%s/hh-exec-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(tmpl)) {
        snprintf(msg, msgsize, "cannot create a work directory");
        return HH_ERR_IO;
    }
    if (join(outdir, sizeof outdir, tmpl, "out")) {
        rmdir(tmpl);
        snprintf(msg, msgsize, "work directory name too long");
        return HH_ERR_IO;
    }
    json_t *j = NULL;
    char *input = NULL;
    char **argv = NULL;
    int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
    if (mkdir(outdir, 0700)) {
        snprintf(msg, msgsize, "cannot create a work directory");
        rc = HH_ERR_IO;
        goto done;
    }
    j = job_json(job, outdir);
    input = j ? json_dumps(j, JSON_COMPACT) : NULL;
    size_t argc = json_array_size(command);
    argv = calloc(argc + 2, sizeof *argv);
    if (!input || !argv)
        goto done;
    for (size_t i = 0; i < argc; i++)
        argv[i] = (char *)json_string_value(json_array_get(command, i));
    argv[argc] = outdir;
    if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC)) {
        snprintf(msg, msgsize, "cannot create pipes");
        rc = HH_ERR_IO;
        goto done;
    }
    pid_t pid;
    rc = spawn(argv, pin[0], pout[1], perr[1], &pid, msg, msgsize);
    close(pin[0]);
    close(pout[1]);
    close(perr[1]);
    pin[0] = pout[1] = perr[1] = -1;
    if (rc) {
        close(pin[1]);
        close(pout[0]);
        close(perr[0]);
        pin[1] = pout[0] = perr[0] = -1;
        goto done;
    }
    child_io *io = calloc(1, sizeof *io);
    if (!io) {
        kill(-pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(pin[1]);
        close(pout[0]);
        close(perr[0]);
        pin[1] = pout[0] = perr[0] = -1;
        goto done;
    }
    io->job = job;
    int status = 0;
    rc = supervise(pid, pin[1], pout[0], perr[0], input, timeout_sec, io, &status, msg, msgsize);
    pin[1] = pout[0] = perr[0] = -1; /* closed by supervise */
    if (!rc && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        if (io->last_err[0])
            snprintf(msg, msgsize, "generator failed: %s", io->last_err);
        else if (WIFSIGNALED(status))
            snprintf(msg, msgsize, "generator killed by signal %d", WTERMSIG(status));
        else
            snprintf(msg, msgsize, "generator exited with status %d", WEXITSTATUS(status));
        rc = HH_ERR_IO;
    }
    free(io);
    if (rc)
        goto done;
    char frames[PATH_MAX + 32], audio[PATH_MAX];
    rc = find_output(outdir, frames, sizeof frames, audio, sizeof audio, msg, msgsize);
    if (rc)
        goto done;
    const char *audio_path = audio[0] ? audio : job->input[HH_REF_AUDIO];
    rc = engine_encode_external(job, frames, audio_path, &e->enc, "HappyHorse exec engine", 90, msg,
                                msgsize);
done:
    if (rc == HH_ERR_NOMEM && !msg[0])
        snprintf(msg, msgsize, "out of memory");
    for (int i = 0; i < 2; i++) {
        if (pin[i] >= 0)
            close(pin[i]);
        if (pout[i] >= 0)
            close(pout[i]);
        if (perr[i] >= 0)
            close(perr[i]);
    }
    free(argv);
    free(input);
    json_decref(j);
    hh_remove_tree(tmpl);
    return rc;
}

static const char *const exec_keys[] = {"command", "timeoutSec", NULL};

const engine_ops engine_exec_ops = {
    .name = "exec",
    .label = "external generator run by the exec engine (docs/engines.md)",
    .keys = exec_keys,
    .configure = exec_configure,
    .release = exec_release,
    .render = exec_render,
};
