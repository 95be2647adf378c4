/*
 * histogram.c - cumulative buckets are computed at render time from
 * per-bucket counts, so an observation is two atomic adds.
 */
#include "util/histogram.h"

void hh_histogram_init(hh_histogram *h, const double *le, int nbuckets)
{
    h->le = le;
    h->nbuckets = nbuckets > HH_HIST_MAX_BUCKETS ? HH_HIST_MAX_BUCKETS : nbuckets;
    for (int i = 0; i <= HH_HIST_MAX_BUCKETS; i++)
        atomic_init(&h->count[i], 0);
    atomic_init(&h->sum_us, 0);
}

void hh_histogram_observe(hh_histogram *h, int64_t us)
{
    double secs = (double)us / 1e6;
    int b = 0;
    while (b < h->nbuckets && secs > h->le[b])
        b++;
    atomic_fetch_add(&h->count[b], 1);
    atomic_fetch_add(&h->sum_us, (uint64_t)(us > 0 ? us : 0));
}

void hh_histogram_render(hh_histogram *h, FILE *out, const char *name, const char *help)
{
    uint64_t cum = 0;
    fprintf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (int b = 0; b <= h->nbuckets; b++) {
        cum += atomic_load(&h->count[b]);
        if (b < h->nbuckets)
            fprintf(out, "%s_bucket{le=\"%g\"} %llu\n", name, h->le[b], (unsigned long long)cum);
        else
            fprintf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
    }
    fprintf(out, "%s_sum %.6f\n%s_count %llu\n", name, (double)atomic_load(&h->sum_us) / 1e6, name,
            (unsigned long long)cum);
}
