/*
 * log.c - JSON-lines logger. Each event is serialised into one buffer and
 * written with one write(2) on stderr, which is atomic for pipes up to
 * PIPE_BUF and in practice for files opened O_APPEND, so no lock is needed.
 * Text of unknown origin is escaped into valid UTF-8 first (hh_log_text):
 * the JSON encoder refuses anything else, and a refused string would lose
 * the whole line.
 */
#include "util/log.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_int min_level = HH_LOG_INFO;

static const char *level_name[] = {"debug", "info", "warn", "error"};

void hh_log_set_level(hh_log_level level)
{
    atomic_store(&min_level, (int)level);
}

void hh_log_fields(hh_log_level level, const char *msg, json_t *fields)
{
    if ((int)level < atomic_load(&min_level)) {
        json_decref(fields);
        return;
    }
    char ts[32];
    hh_time_iso8601(hh_time_now_ms(), ts, sizeof ts);
    json_t *line =
        json_pack("{s:s, s:s, s:o}", "ts", ts, "level", level_name[level], "msg", hh_log_text(msg));
    if (line && fields)
        json_object_update(line, fields);
    json_decref(fields);
    char *text = line ? json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(line);
    if (!text)
        return;
    size_t n = strlen(text);
    char *out = malloc(n + 2);
    if (out) {
        memcpy(out, text, n);
        out[n] = '\n';
        ssize_t w = write(STDERR_FILENO, out, n + 1);
        (void)w;
        free(out);
    }
    free(text);
}

json_t *hh_log_text(const char *s)
{
    char buf[HH_LOG_TEXT_MAX + 1];
    size_t n = hh_utf8_escape(buf, sizeof buf, s ? s : "", s ? strlen(s) : 0);
    return json_stringn(buf, n);
}

void hh_log(hh_log_level level, const char *fmt, ...)
{
    if ((int)level < atomic_load(&min_level))
        return;
    /* A cut at 1024 bytes may split a character; hh_log_fields escapes what is left of it. */
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hh_log_fields(level, msg, NULL);
}

int hh_log_enabled(hh_log_level level)
{
    return (int)level >= atomic_load(&min_level);
}

void hh_log_write_line(const char *line, size_t len)
{
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
