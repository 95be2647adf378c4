/*
 * job_metrics.c - the queue gauges of job_metrics.h, from one snapshot of
 * the store (store_queue_stats).
 */
#include "jobs/job_metrics.h"

hh_status job_metrics_write(hh_store *st, int64_t now, FILE *f)
{
    hh_queue_stats q;
    hh_status rc = store_queue_stats(st, &q);
    if (rc)
        return rc;
    double oldest = q.oldest_enqueued_at && now > q.oldest_enqueued_at
                        ? (double)(now - q.oldest_enqueued_at) / 1000.0
                        : 0.0;
    fprintf(f,
            "# HELP happyhorse_jobs Jobs in the queue by state (the same on every node).\n"
            "# TYPE happyhorse_jobs gauge\n"
            "happyhorse_jobs{state=\"queued\"} %lld\n"
            "happyhorse_jobs{state=\"running\"} %lld\n"
            "happyhorse_jobs{state=\"lease_expired\"} %lld\n"
            "# HELP happyhorse_queue_waiting_users Users with at least one queued job.\n"
            "# TYPE happyhorse_queue_waiting_users gauge\n"
            "happyhorse_queue_waiting_users %lld\n"
            "# HELP happyhorse_queue_oldest_seconds Age of the oldest queued job (0 when none).\n"
            "# TYPE happyhorse_queue_oldest_seconds gauge\n"
            "happyhorse_queue_oldest_seconds %.3f\n",
            (long long)q.queued, (long long)q.running, (long long)q.lease_expired,
            (long long)q.waiting_users, oldest);
    return HH_OK;
}
