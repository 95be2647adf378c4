/*
 * metrics.h - HTTP request counters by route and status and a latency
 * histogram, rendered as Prometheus text. Thread-safe: observations are
 * atomic adds (a mutex only for the first request of a route and status).
 */
#ifndef HH_METRICS_H
#define HH_METRICS_H

#include <stdint.h>

#include "util/status.h"

typedef struct http_metrics http_metrics;

http_metrics *http_metrics_new(void);
void http_metrics_free(http_metrics *m);

/* Counts one request of route (a static name) that ended with status after duration_us. */
void http_metrics_observe(http_metrics *m, const char *route, unsigned status, int64_t duration_us);

/* Prometheus exposition text; caller frees. NULL on allocation failure. */
char *http_metrics_render(http_metrics *m);

#endif
