/*
 * metrics.c - a fixed table of (route, status) counters and one latency
 * histogram. Route names come from the static route table, so the series
 * count is bounded by routes × statuses seen; past SERIES_MAX new series
 * fold into route="other". Counting a request takes no lock: series are
 * only ever appended (under the lock) and published by the count n, and
 * counters are atomic.
 */
#include "http/metrics.h"
#include "util/histogram.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERIES_MAX 256

static const double bucket_le[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                   0.25,  0.5,    1,     2.5,  5,     10};

typedef struct series {
    const char *route;
    unsigned status;
    _Atomic uint64_t count;
} series;

struct http_metrics {
    pthread_mutex_t lock; /* appending a series */
    series s[SERIES_MAX];
    _Atomic size_t n; /* series published: s[0..n) are complete */
    hh_histogram latency;
};

http_metrics *http_metrics_new(void)
{
    http_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    pthread_mutex_init(&m->lock, NULL);
    hh_histogram_init(&m->latency, bucket_le, (int)(sizeof bucket_le / sizeof *bucket_le));
    return m;
}

void http_metrics_free(http_metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* The series of (route, status) among the first n, or NULL. */
static series *find(http_metrics *m, size_t n, const char *route, unsigned status)
{
    for (size_t i = 0; i < n; i++)
        if (m->s[i].status == status && (m->s[i].route == route || !strcmp(m->s[i].route, route)))
            return &m->s[i];
    return NULL;
}

/* Finds or appends the series under the lock (the first request of a route and status). */
static series *add(http_metrics *m, const char *route, unsigned status)
{
    pthread_mutex_lock(&m->lock);
    size_t n = atomic_load(&m->n);
    series *s = find(m, n, route, status);
    if (!s && n == SERIES_MAX - 1) {
        route = "other";
        for (size_t i = 0; i < n && !s; i++)
            if (!strcmp(m->s[i].route, "other"))
                s = &m->s[i];
    }
    if (!s) {
        s = &m->s[n];
        s->route = route;
        s->status = status;
        atomic_store(&m->n, n + 1); /* publishes it */
    }
    pthread_mutex_unlock(&m->lock);
    return s;
}

void http_metrics_observe(http_metrics *m, const char *route, unsigned status, int64_t duration_us)
{
    series *s = find(m, atomic_load_explicit(&m->n, memory_order_acquire), route, status);
    if (!s)
        s = add(m, route, status);
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
    hh_histogram_observe(&m->latency, duration_us);
}

char *http_metrics_render(http_metrics *m)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return NULL;
    fprintf(f,
            "# HELP happyhorse_build_info Build of the running binary.\n"
            "# TYPE happyhorse_build_info gauge\n"
            "happyhorse_build_info{version=\"%s\"} 1\n",
            HH_VERSION);
    fprintf(f, "# HELP happyhorse_http_requests_total HTTP requests by route and status.\n"
               "# TYPE happyhorse_http_requests_total counter\n");
    size_t n = atomic_load(&m->n);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "happyhorse_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n",
                m->s[i].route, m->s[i].status, (unsigned long long)atomic_load(&m->s[i].count));
    hh_histogram_render(&m->latency, f, "happyhorse_http_request_duration_seconds",
                        "Time from request to reply.");
    if (fclose(f)) {
        free(text);
        return NULL;
    }
    return text;
}
