/*
 * migrate.h - `happyhorse admin migrate` (cmd_admin.c parses its command
 * line): a single node's store and objects copied to another store
 * location, and optionally its objects to S3, resumably, then verified.
 */
#ifndef HH_CLI_MIGRATE_H
#define HH_CLI_MIGRATE_H

#define CLI_MIGRATE_BATCH 500 /* default rows per transaction */

typedef struct cli_migrate_opts {
    const char *data; /* --data: the source's data directory (NULL: HAPPYHORSE_DATA or ./data) */
    const char *to;   /* --to: a postgres:// URL or another data directory */
    int s3;           /* --s3: objects to the bucket of HAPPYHORSE_S3_* */
    int batch;        /* rows per transaction, 1..STORE_COPY_BATCH_MAX */
} cli_migrate_opts;

/*
 * Runs the migration, printing progress on stderr and the summary (JSON)
 * on stdout. Returns 0, 1 (a failure or a mismatch, named on stderr) or 2
 * (bad usage: --s3 without a bucket, --to the source itself).
 */
int cli_migrate(const char *prog, const cli_migrate_opts *o);

#endif
