/*
 * media_log.c - routes FFmpeg's av_log to the host's logger (util/log.h in
 * the process that loaded the module, media_module.h). av_log's callback
 * is process-global and called from any thread (decoder and x264 threads
 * included), so the line formatting, which keeps a "print prefix" state
 * between calls, runs under one mutex; the host's logger is thread-safe.
 */
#include "media/media_module.h"

#include <libavutil/log.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static int print_prefix = 1;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static media_host_log host_log;

void media_log_host(media_host_log log)
{
    host_log = log;
}

static void av_log_to_hh(void *avcl, int level, const char *fmt, va_list vl)
{
    if (level > av_log_get_level())
        return;
    char line[1024];
    pthread_mutex_lock(&log_mu);
    av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &print_prefix);
    pthread_mutex_unlock(&log_mu);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (!n || !host_log)
        return;
    /* Hostile inputs make decoders complain loudly; the caller reports the
     * failure in one message, so library chatter stays at debug level. */
    host_log(level <= AV_LOG_FATAL, line);
}

static void install(void)
{
    av_log_set_level(AV_LOG_ERROR);
    av_log_set_callback(av_log_to_hh);
}

void media_log_install(void)
{
    pthread_once(&install_once, install);
}
