/*
 * media.c - media.h in every process: the picture allocator, and the calls
 * that need FFmpeg handed to the FFmpeg module (media_module.h), loaded
 * with dlopen the first time one is made. The module is
 * $HAPPYHORSE_MEDIA_MODULE, else happyhorse-media.so in the directory of the
 * running executable. A module that cannot be loaded fails each call with
 * a message naming it (media_ready lets a worker refuse to start instead).
 */
#include "media/media_module.h"
#include "util/log.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MODULE_ENV "HAPPYHORSE_MEDIA_MODULE"

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const media_module *module;      /* set once by load, NULL when it failed */
static char load_error[PATH_MAX + 160]; /* why, when it failed */

uint8_t *media_frame_alloc(int w, int h)
{
    if (w <= 0 || h <= 0 || w > 16384 || h > 16384)
        return NULL;
    size_t row = (size_t)w * 3;
    return malloc(row * ((size_t)h + 1) + 64);
}

/* FFmpeg's lines, from the module: errors as errors, the rest at debug level. */
static void host_log(int error, const char *line)
{
    hh_log(error ? HH_LOG_ERROR : HH_LOG_DEBUG, "ffmpeg: %s", line);
}

/* The module's path: the environment's, else beside /proc/self/exe. 0, or -1 if it does not fit. */
static int module_path(char *buf, size_t size)
{
    const char *env = getenv(MODULE_ENV);
    if (env && *env)
        return snprintf(buf, size, "%s", env) < (int)size ? 0 : -1;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    return snprintf(buf, size, "%s/%s", exe, MEDIA_MODULE_FILE) < (int)size ? 0 : -1;
}

static void load(void)
{
    char path[PATH_MAX];
    if (module_path(path, sizeof path)) {
        snprintf(load_error, sizeof load_error, "cannot name the FFmpeg module");
        return;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    media_module_get_fn get = h ? (media_module_get_fn)dlsym(h, MEDIA_MODULE_SYMBOL) : NULL;
    const media_module *m = get ? get(host_log) : NULL;
    if (!m || m->abi != MEDIA_MODULE_ABI) {
        snprintf(load_error, sizeof load_error, "the FFmpeg module %s cannot be used: %s", path,
                 !h   ? dlerror()
                 : !m ? "no " MEDIA_MODULE_SYMBOL
                      : "built for another version");
        if (h)
            dlclose(h);
        return;
    }
    module = m; /* kept loaded for the life of the process */
}

/* The module, loaded on first use; NULL with the reason in msg when it cannot be. */
static const media_module *mod(char *msg, size_t msgsize)
{
    pthread_once(&load_once, load);
    if (!module && msg && msgsize)
        snprintf(msg, msgsize, "%s", load_error);
    return module;
}

hh_status media_ready(char *msg, size_t msgsize)
{
    char path[PATH_MAX];
    if (module_path(path, sizeof path) || access(path, R_OK)) {
        snprintf(msg, msgsize, "the FFmpeg module %s is missing (set %s to its path)",
                 module_path(path, sizeof path) ? MEDIA_MODULE_FILE : path, MODULE_ENV);
        return HH_ERR_IO;
    }
    return HH_OK;
}

hh_status media_encoder_new(const char *path, const media_encoder_opts *opts, media_encoder **out,
                            char *msg, size_t msgsize)
{
    const media_module *m = mod(msg, msgsize);
    *out = NULL;
    return m ? m->encoder_new(path, opts, out, msg, msgsize) : HH_ERR_INTERNAL;
}

/* An encoder or a frame source exists only if the module made it: module is set. */
hh_status media_encoder_write_bgr(media_encoder *enc, const uint8_t *rgb, int stride, char *msg,
                                  size_t msgsize)
{
    return module->encoder_write_bgr(enc, rgb, stride, msg, msgsize);
}

hh_status media_encoder_finish(media_encoder *enc, char *msg, size_t msgsize)
{
    return module->encoder_finish(enc, msg, msgsize);
}

void media_encoder_free(media_encoder *enc)
{
    if (enc)
        module->encoder_free(enc);
}

hh_status media_write_jpeg(const char *path, const uint8_t *rgb, int w, int h, int stride,
                           int max_side, char *msg, size_t msgsize)
{
    const media_module *m = mod(msg, msgsize);
    return m ? m->write_jpeg(path, rgb, w, h, stride, max_side, msg, msgsize) : HH_ERR_INTERNAL;
}

hh_status media_load_image_cover(const char *path, const char *what, int w, int h, uint8_t *out,
                                 char *msg, size_t msgsize)
{
    const media_module *m = mod(msg, msgsize);
    return m ? m->load_image_cover(path, what, w, h, out, msg, msgsize) : HH_ERR_INTERNAL;
}

hh_status media_frames_open(const char *path, const char *what, int w, int h, int frames,
                            media_frames **out, char *msg, size_t msgsize)
{
    const media_module *m = mod(msg, msgsize);
    *out = NULL;
    return m ? m->frames_open(path, what, w, h, frames, out, msg, msgsize) : HH_ERR_INTERNAL;
}

hh_status media_frames_get(media_frames *src, int index, uint8_t *out, char *msg, size_t msgsize)
{
    return module->frames_get(src, index, out, msg, msgsize);
}

void media_frames_free(media_frames *src)
{
    if (src)
        module->frames_free(src);
}

hh_status media_load_audio(const char *path, const char *what, size_t samples, float **out,
                           char *msg, size_t msgsize)
{
    const media_module *m = mod(msg, msgsize);
    *out = NULL;
    return m ? m->load_audio(path, what, samples, out, msg, msgsize) : HH_ERR_INTERNAL;
}

int media_has_audio(const char *path)
{
    const media_module *m = mod(NULL, 0);
    return m ? m->has_audio(path) : 0;
}
