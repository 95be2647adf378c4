/*
 * histogram.h - a fixed-bucket histogram of durations in seconds, updated
 * with atomics (no lock) and rendered in Prometheus text format.
 */
#ifndef HH_HISTOGRAM_H
#define HH_HISTOGRAM_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#define HH_HIST_MAX_BUCKETS 16

typedef struct hh_histogram {
    const double *le; /* upper bounds in seconds, increasing; static storage */
    int nbuckets;
    atomic_uint_fast64_t count[HH_HIST_MAX_BUCKETS + 1]; /* last: +Inf */
    atomic_uint_fast64_t sum_us;
} hh_histogram;

/* Initialises h with nbuckets bounds (borrowed, must outlive h). */
void hh_histogram_init(hh_histogram *h, const double *le, int nbuckets);
/* Records one observation of us microseconds. Thread-safe. */
void hh_histogram_observe(hh_histogram *h, int64_t us);
/* Writes the _bucket, _sum and _count lines of metric name (HELP/TYPE included). */
void hh_histogram_render(hh_histogram *h, FILE *out, const char *name, const char *help);

#endif
