/*
 * media_module.h - the seam between HappyHorse and FFmpeg's libraries,
 * private to src/media/. Everything that calls FFmpeg (media_decode.c,
 * media_encode.c, media_log.c) is built into a module of its own,
 * happyhorse-media.so beside the binary, that a process loads the first time
 * it decodes or encodes (media.c). Linking FFmpeg as Debian builds it pulls
 * in some 140 shared libraries whose pages cost about 25 MiB of resident
 * memory before the first line of main; an API node, or a serve whose
 * render threads have not rendered yet, does not pay that.
 *
 * The module exports one symbol, media_module_get (MEDIA_MODULE_SYMBOL):
 * given the host's log function it returns its table of operations, one per
 * function of media.h that needs FFmpeg, same arguments. MEDIA_MODULE_ABI
 * changes whenever the table does, so a module of another build is refused.
 */
#ifndef HH_MEDIA_MODULE_H
#define HH_MEDIA_MODULE_H

#include "media/media.h"

#define MEDIA_MODULE_ABI    1
#define MEDIA_MODULE_SYMBOL "media_module_get"
#define MEDIA_MODULE_FILE   "happyhorse-media.so"

/* The host's logger: error 1 for a line worth an error, 0 for library chatter (debug). */
typedef void (*media_host_log)(int error, const char *line);

typedef struct media_module {
    int abi; /* MEDIA_MODULE_ABI of the build that made the module */
    hh_status (*encoder_new)(const char *path, const media_encoder_opts *opts, media_encoder **out,
                             char *msg, size_t msgsize);
    hh_status (*encoder_write_bgr)(media_encoder *enc, const uint8_t *rgb, int stride, char *msg,
                                   size_t msgsize);
    hh_status (*encoder_finish)(media_encoder *enc, char *msg, size_t msgsize);
    void (*encoder_free)(media_encoder *enc);
    hh_status (*write_jpeg)(const char *path, const uint8_t *rgb, int w, int h, int stride,
                            int max_side, char *msg, size_t msgsize);
    hh_status (*load_image_cover)(const char *path, const char *what, int w, int h, uint8_t *out,
                                  char *msg, size_t msgsize);
    hh_status (*frames_open)(const char *path, const char *what, int w, int h, int frames,
                             media_frames **out, char *msg, size_t msgsize);
    hh_status (*frames_get)(media_frames *src, int index, uint8_t *out, char *msg, size_t msgsize);
    void (*frames_free)(media_frames *src);
    hh_status (*load_audio)(const char *path, const char *what, size_t samples, float **out,
                            char *msg, size_t msgsize);
    int (*has_audio)(const char *path);
} media_module;

/* The module's one export: its table, FFmpeg's log routed to log from now on. */
__attribute__((visibility("default"))) const media_module *media_module_get(media_host_log log);
typedef const media_module *(*media_module_get_fn)(media_host_log log);

/* Inside the module: routes av_log to the host's logger (idempotent, any thread). */
void media_log_install(void);
/* Inside the module: the host's logger, set once before any other call. */
void media_log_host(media_host_log log);

#endif
