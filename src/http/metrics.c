/*
 * metrics.c - a fixed table of (route, status) counters and one latency
 * histogram. Route names come from the static route table, so the series
 * count is bounded by routes × statuses seen; past SERIES_MAX new series
 * fold into route="other".
 */
#include "http/metrics.h"
#include "util/histogram.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERIES_MAX 256

static const double bucket_le[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                   0.25,  0.5,    1,     2.5,  5,     10};

typedef struct series {
    const char *route;
    unsigned status;
    uint64_t count;
} series;

struct http_metrics {
    pthread_mutex_t lock;
    series s[SERIES_MAX];
    size_t n;
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

void http_metrics_observe(http_metrics *m, const char *route, unsigned status, int64_t duration_us)
{
    pthread_mutex_lock(&m->lock);
    size_t i;
    for (i = 0; i < m->n; i++)
        if (m->s[i].status == status && !strcmp(m->s[i].route, route))
            break;
    if (i == m->n) {
        if (m->n == SERIES_MAX - 1) {
            route = "other";
            for (i = 0; i < m->n && strcmp(m->s[i].route, "other"); i++)
                ;
        }
        if (i == m->n) {
            m->s[i].route = route;
            m->s[i].status = status;
            m->n++;
        }
    }
    m->s[i].count++;
    pthread_mutex_unlock(&m->lock);

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
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n; i++)
        fprintf(f, "happyhorse_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n",
                m->s[i].route, m->s[i].status, (unsigned long long)m->s[i].count);
    pthread_mutex_unlock(&m->lock);
    hh_histogram_render(&m->latency, f, "happyhorse_http_request_duration_seconds",
                        "Time from request to reply.");
    if (fclose(f)) {
        free(text);
        return NULL;
    }
    return text;
}
