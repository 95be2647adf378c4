/*
 * access_log.c - formats and writes the access log line (access_log.h).
 * The line is built with a small appender over one buffer; a path too long
 * for the stack buffer gets a heap one sized for the worst escaping.
 */
#include "http/access_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#define LINE_STACK 4096
#define LINE_FIXED 512 /* everything but the path, with room to spare */
#define ESCAPE_MAX 6   /* \u00XX: the most one byte of a path becomes */

typedef struct out {
    char *p, *end;
    int full;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->full || (size_t)(o->end - o->p) < n) {
        o->full = 1;
        return;
    }
    memcpy(o->p, s, n);
    o->p += n;
}

static void puts_(out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* Appends the JSON-escaped text of the n valid UTF-8 bytes at s. */
static void put_text(out *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(o, s + run, i - run);
        run = i + 1;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(o, e, 2);
        } else {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(o, e, 6);
        }
    }
    put(o, s + run, n - run);
}

/* Appends "s" with valid text kept and each other byte as \xNN (in JSON: \\xNN). */
static void put_string(out *o, const char *s, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = strnlen(s, max);
    put(o, "\"", 1);
    while (n) {
        size_t ok = hh_utf8_valid_len(s, n, NULL);
        put_text(o, s, ok);
        s += ok;
        n -= ok;
        if (n) {
            unsigned char c = (unsigned char)*s++;
            char e[5] = {'\\', '\\', 'x', hex[c >> 4], hex[c & 15]};
            put(o, e, 5);
            n--;
        }
    }
    put(o, "\"", 1);
}

static void put_field(out *o, const char *name, const char *value, size_t max)
{
    put(o, ",\"", 2);
    puts_(o, name);
    put(o, "\":", 2);
    put_string(o, value ? value : "", max);
}

static void put_number(out *o, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void put_number(out *o, const char *name, const char *fmt, ...)
{
    char num[48];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(num, sizeof num, fmt, ap);
    va_end(ap);
    put(o, ",\"", 2);
    puts_(o, name);
    put(o, "\":", 2);
    put(o, num, n > 0 && (size_t)n < sizeof num ? (size_t)n : 0);
}

size_t http_access_format(const http_access *a, int64_t now_ms, char *buf, size_t size)
{
    char ts[32];
    out o = {buf, buf + size, 0};
    hh_time_iso8601(now_ms, ts, sizeof ts);
    put(&o, "{\"ts\":\"", 7);
    puts_(&o, ts);
    puts_(&o, "\",\"level\":\"info\",\"msg\":\"request\"");
    put_field(&o, "method", a->method, 16);
    put_field(&o, "route", a->route, 64);
    put_field(&o, "path", a->path, HTTP_ACCESS_PATH_MAX);
    put_number(&o, "status", "%u", a->status);
    put_number(&o, "duration_ms", "%.3f", (double)a->duration_us / 1000.0);
    put_field(&o, "request_id", a->request_id, 64);
    put_number(&o, "bytes", "%llu", (unsigned long long)a->bytes);
    puts_(&o, a->completed ? ",\"completed\":true}\n" : ",\"completed\":false}\n");
    return o.full ? 0 : (size_t)(o.p - buf);
}

void http_access_log(const http_access *a)
{
    if (!hh_log_enabled(HH_LOG_INFO))
        return;
    char stack[LINE_STACK];
    size_t need = LINE_FIXED + ESCAPE_MAX * strnlen(a->path ? a->path : "", HTTP_ACCESS_PATH_MAX);
    char *buf = need <= sizeof stack ? stack : malloc(need);
    if (!buf)
        return;
    size_t n =
        http_access_format(a, hh_time_now_ms(), buf, need <= sizeof stack ? sizeof stack : need);
    if (n)
        hh_log_write_line(buf, n);
    if (buf != stack)
        free(buf);
}
