/*
 * rate_take.c - the cost of the shared rate limit alone: THREADS threads
 * calling store_rate_take on one bucket (as every request of one key does)
 * for SECONDS, through one store and its connection pool, as a serve node
 * does. Usage: rate_take URL THREADS SECONDS. Prints the takes a second.
 * Built and run by bench/pg.sh against build/libhhcore.a.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/store.h"
#include "util/timeutil.h"

#define MAX_THREADS 64

/* What every thread shares: the store, the bucket and when to stop. */
typedef struct run {
    hh_store *st;
    int64_t until_us;
} run;

/* One thread: takes until the deadline. Its count, or -1 after a failed take. */
typedef struct worker {
    pthread_t t;
    const run *r;
    long takes;
} worker;

static void *take_loop(void *arg)
{
    worker *w = arg;
    while (hh_time_mono_us() < w->r->until_us) {
        hh_rate_state got;
        /* The plan "bench" of bench/lib.sh: 1,000,000 a minute, the burst as much. */
        if (store_rate_take(w->r->st, "bench:rate_take", 1000000, 1000000, &got)) {
            w->takes = -1;
            break;
        }
        w->takes++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: rate_take URL THREADS SECONDS\n");
        return 2;
    }
    int n = atoi(argv[2]);
    int secs = atoi(argv[3]);
    run r = {NULL, 0};
    if (n < 1 || n > MAX_THREADS || secs < 1 || store_open(argv[1], &r.st)) {
        fprintf(stderr, "rate_take: bad arguments or cannot open the store\n");
        return 1;
    }
    worker w[MAX_THREADS] = {0};
    int64_t t0 = hh_time_mono_us();
    r.until_us = t0 + (int64_t)secs * 1000000;
    int started = 0, failed = 0;
    for (; started < n; started++) {
        w[started].r = &r;
        if (pthread_create(&w[started].t, NULL, take_loop, &w[started]))
            break;
    }
    long total = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(w[i].t, NULL);
        failed |= w[i].takes < 0;
        total += w[i].takes;
    }
    double elapsed = (double)(hh_time_mono_us() - t0) / 1e6;
    store_close(r.st);
    if (started < n || failed || total == 0) {
        fprintf(stderr, "rate_take: a thread failed\n");
        return 1;
    }
    printf("%.0f\n", (double)total / elapsed);
    return 0;
}
