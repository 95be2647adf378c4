/*
 * claim_bench.c - the cost of a fair claim (store_job_claim) against the
 * floor: one BEGIN IMMEDIATE transaction that takes any queued job, on the
 * same SQLite file. Usage: claim_bench DIR BACKLOG. One user holds BACKLOG
 * queued jobs (jobs in flight 20), ten others one job each. Prints one
 * Markdown table row: backlog, floor us, fair us, ratio, empty-claim us.
 * Built and run by bench/queue.sh against build/libhhcore.a.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/timeutil.h"

#define CLAIMS 20

static int fail(const char *what)
{
    fprintf(stderr, "claim_bench: %s\n", what);
    return 1;
}

static int enqueue(hh_store *st, const char *email, int n, int cap)
{
    hh_user u;
    if (store_user_create(st, email, NULL, "bench", 1, &u) ||
        store_ledger_append(st, u.id, 1000000000, HH_LEDGER_GRANT, NULL, NULL, NULL))
        return -1;
    hh_video_new in = {.user_id = u.id,
                       .prompt = "a horse",
                       .duration_sec = 6,
                       .aspect_ratio = "16:9",
                       .resolution = "720p",
                       .request_json = "{}",
                       .price = 6,
                       .plan = "bench",
                       .max_in_flight = cap};
    for (int i = 0; i < n; i++) {
        char id[HH_ID_LEN], *replay = NULL;
        if (store_video_create(st, &in, id, &replay, NULL))
            return -1;
    }
    return 0;
}

/* Steps a prepared statement to its end and resets it; 0 on success. */
static int run(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * The floor: take any queued job, in one write transaction each, with the
 * store's settings (WAL, synchronous=NORMAL) and statements prepared once.
 */
static double floor_us(const char *dir)
{
    char path[512];
    sqlite3 *db;
    sqlite3_stmt *begin = NULL, *take = NULL, *commit = NULL;
    double us = -1;
    snprintf(path, sizeof path, "%s/happyhorse.db", dir);
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return -1;
    sqlite3_busy_timeout(db, 10000);
    sqlite3_exec(db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    if (sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) ||
        sqlite3_prepare_v2(db,
                           "UPDATE jobs SET state = 'running', attempts = attempts + 1"
                           " WHERE video_id = (SELECT video_id FROM jobs WHERE state = 'queued'"
                           " LIMIT 1)",
                           -1, &take, NULL) ||
        sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL))
        goto out;
    if (run(begin) || run(take) || run(commit)) /* warm-up, like the claim's */
        goto out;
    int64_t t0 = hh_time_mono_us();
    for (int i = 0; i < CLAIMS; i++)
        if (run(begin) || run(take) || run(commit))
            goto out;
    us = (double)(hh_time_mono_us() - t0) / CLAIMS;
    sqlite3_exec(db, "UPDATE jobs SET state = 'queued', attempts = 0 WHERE state = 'running'", NULL,
                 NULL, NULL);
out:
    sqlite3_finalize(begin);
    sqlite3_finalize(take);
    sqlite3_finalize(commit);
    sqlite3_close(db);
    return us;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return fail("usage: claim_bench DIR BACKLOG");
    long backlog = strtol(argv[2], NULL, 10);
    hh_store *st;
    if (backlog < 1 || store_open(argv[1], &st))
        return fail("cannot open the store");
    if (enqueue(st, "burst@example.com", (int)backlog, 20))
        return fail("cannot enqueue");
    for (int i = 0; i < 10; i++) {
        char email[64];
        snprintf(email, sizeof email, "single%d@example.com", i);
        if (enqueue(st, email, 1, 5))
            return fail("cannot enqueue");
    }
    /* Start both from an empty WAL, so neither pays for the enqueue's checkpoint. */
    char path[512];
    sqlite3 *db;
    snprintf(path, sizeof path, "%s/happyhorse.db", argv[1]);
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK)
        return fail("checkpoint failed");
    sqlite3_close(db);
    double flo = floor_us(argv[1]);
    if (flo < 0)
        return fail("floor claim failed");
    /* 30 claims: the ten singles and 20 of the burst, which then sits at its cap.
     * The first one prepares the statements and is not timed. */
    hh_video first;
    if (store_job_claim(st, "bench", 600000, &first))
        return fail("claim failed");
    store_video_clear(&first);
    int64_t t0 = hh_time_mono_us();
    for (int i = 1; i < 30; i++) {
        hh_video v;
        if (store_job_claim(st, "bench", 600000, &v))
            return fail("claim failed");
        store_video_clear(&v);
    }
    int64_t t1 = hh_time_mono_us();
    for (int i = 0; i < CLAIMS; i++) {
        hh_video v;
        if (store_job_claim(st, "bench", 600000, &v) != HH_ERR_NOTFOUND)
            return fail("a capped user was served");
    }
    int64_t t2 = hh_time_mono_us();
    double fair = (double)(t1 - t0) / 29, empty = (double)(t2 - t1) / CLAIMS;
    printf("| %ld | %.0f | %.0f | %.2f | %.0f |\n", backlog, flo, fair, fair / flo, empty);
    store_close(st);
    return 0;
}
