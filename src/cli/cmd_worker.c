/*
 * cmd_worker.c - `happyhorse worker`: render workers without the HTTP API,
 * for scale-out beside `serve` on the same store and objects. Runs until
 * SIGTERM or SIGINT, then gives jobs in progress back to the queue.
 */
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "blob/blob.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "jobs/worker.h"
#include "util/log.h"

#define PROG "happyhorse worker"

static const char usage[] =
    "usage: happyhorse worker [--data DIR] [--workers N] [--plans FILE]\n"
    "\n"
    "Renders queued videos until SIGTERM/SIGINT, beside any number of `serve`\n"
    "and `worker` processes sharing the same store and objects.\n"
    "\n"
    "  --data DIR      data directory (HAPPYHORSE_DATA, default ./data)\n"
    "  --workers N     render threads (HAPPYHORSE_WORKERS, default 1)\n"
    "  --plans FILE    plans file (HAPPYHORSE_PLANS); must match the API's\n";

int cli_worker(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'd'},
        {"workers", required_argument, NULL, 'w'},
        {"plans", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *workers = NULL, *plans_file = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'w':
            workers = optarg;
            break;
        case 'p':
            plans_file = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return CLI_OK;
        default:
            return cli_usage_error(PROG, "bad option (see --help)");
        }
    }
    if (optind < argc)
        return cli_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
    int64_t n;
    if (!cli_parse_i64(cli_opt(workers, "HAPPYHORSE_WORKERS", "1"), 1, 256, &n))
        return cli_usage_error(PROG, "--workers takes a whole number from 1 to 256");
    data = cli_data_dir(data);

    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    char err[256], scratch[1100];
    hh_plans *plans = NULL;
    hh_store *store = NULL;
    blob_store *blob = NULL;
    worker_pool *pool = NULL;
    int rc = CLI_FAIL;
    if (cli_plans_load(plans_file, &plans, err, sizeof err)) {
        rc = cli_usage_error(PROG, "%s", err);
        goto out;
    }
    cli_log_plan_engines(plans);
    const char *location = cli_store_location(data);
    if (store_open(location, &store)) {
        cli_fail(PROG, "cannot open the store at %s", cli_store_label(location));
        goto out;
    }
    int brc = cli_blob_open(data, &blob, err, sizeof err);
    if (brc) {
        rc = brc < 0 ? cli_usage_error(PROG, "%s", err) : cli_fail(PROG, "%s", err);
        goto out;
    }
    snprintf(scratch, sizeof scratch, "%s/tmp", data);
    worker_config wc = {
        .store = store, .blob = blob, .plans = plans, .threads = (unsigned)n, .scratch = scratch};
    if (worker_pool_start(&wc, &pool)) {
        cli_fail(PROG, "cannot start the workers (see the log line above)");
        goto out;
    }
    hh_log_fields(HH_LOG_INFO, "worker started", json_pack("{s:I}", "threads", (json_int_t)n));
    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    hh_log_fields(HH_LOG_INFO, "stopping", json_pack("{s:s}", "signal", strsignal(sig)));
    rc = CLI_OK;
out:
    worker_pool_stop(pool);
    blob_free(blob);
    store_close(store);
    plans_free(plans);
    return rc;
}
