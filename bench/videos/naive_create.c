/*
 * naive_create.c - the reference for the create benchmark (bench/videos.sh):
 * the rows one create writes (balance update, ledger row, video row, job
 * row), one transaction each, one after another, through SQLite directly
 * on the store's own schema and settings (WAL, synchronous as given), as a
 * small program that does nothing else would. Prints creates per second.
 *
 *   naive_create DB USER_ID N SYNCHRONOUS
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "naive_create: %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static const char *const sql[] = {
    "BEGIN IMMEDIATE",
    "UPDATE users SET credits = credits - 6 WHERE id = ?1",
    "INSERT INTO ledger (user_id, amount, balance_after, kind, ref, note, created_at)"
    " SELECT ?1, -6, credits, 'charge', ?2, 'video', ?3 FROM users WHERE id = ?1",
    "INSERT INTO videos (id, user_id, status, prompt, style, duration_sec, aspect_ratio,"
    " resolution, request, credits_charged, created_at) VALUES (?2, ?1, 'queued',"
    " 'A cinematic shot of a chestnut horse running through a sunlit meadow', 'cinematic', 6,"
    " '16:9', '720p', '{}', 6, ?3)",
    "INSERT INTO jobs (video_id, user_id, plan, state, max_attempts, max_in_flight,"
    " enqueued_at, updated_at) VALUES (?2, ?1, 'bench', 'queued', 3, 1, ?3, ?3)",
    "COMMIT",
};
#define NSQL (sizeof sql / sizeof *sql)

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: naive_create DB USER_ID N SYNCHRONOUS\n");
        return 2;
    }
    sqlite3 *db;
    check(NULL, sqlite3_open(argv[1], &db) == SQLITE_OK ? SQLITE_OK : SQLITE_ERROR, "open");
    sqlite3_busy_timeout(db, 10000);
    char pragma[96];
    snprintf(pragma, sizeof pragma, "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s", argv[4]);
    check(db, sqlite3_exec(db, pragma, NULL, NULL, NULL), "pragma");
    sqlite3_stmt *st[NSQL];
    for (size_t i = 0; i < NSQL; i++)
        check(db, sqlite3_prepare_v2(db, sql[i], -1, &st[i], NULL), sql[i]);
    long n = strtol(argv[3], NULL, 10);
    unsigned run = (unsigned)time(NULL); /* ids unique across runs on one database */
    double t0 = now_s();
    for (long k = 0; k < n; k++) {
        char vid[64];
        snprintf(vid, sizeof vid, "%08x-0000-7000-8000-%012ld", run, k % 1000000000000L);
        for (size_t i = 0; i < NSQL; i++) {
            sqlite3_bind_text(st[i], 1, argv[2], -1, SQLITE_STATIC);
            sqlite3_bind_text(st[i], 2, vid, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st[i], 3, k);
            check(db, sqlite3_step(st[i]), sql[i]);
            sqlite3_reset(st[i]);
            sqlite3_clear_bindings(st[i]);
        }
    }
    double t = now_s() - t0;
    printf("%.0f\n", (double)n / t);
    for (size_t i = 0; i < NSQL; i++)
        sqlite3_finalize(st[i]);
    sqlite3_close(db);
    return 0;
}
