/*
 * cmd_serve.c - `happyhorse serve`: the HTTP API, the dashboard and (with
 * --workers) the render workers in one process. Runs until SIGTERM or
 * SIGINT, then stops accepting, lets requests in flight finish and exits 0.
 * SIGHUP reloads the prompt blocklist (--blocklist), keeping the old one
 * if the file has become unreadable or invalid.
 *
 * Signals are blocked in every thread (the mask is set before any thread
 * starts and inherited) and taken synchronously with sigwait in the main
 * thread, so no handler runs in an arbitrary thread's context.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/dashboard.h"
#include "api/janitor.h"
#include "api/webhook_dispatch.h"
#include "cli/cli.h"
#include "cli/options.h"
#include <stdint.h>
#include "util/log.h"

#define PROG "happyhorse serve"

static const char usage[] =
    "usage: happyhorse serve [options]\n"
    "\n"
    "Serves the Customer API and the dashboard until SIGTERM/SIGINT.\n"
    "\n"
    "  --listen ADDR:PORT    address to listen on (HAPPYHORSE_LISTEN, default 127.0.0.1:8080)\n"
    "  --data DIR            data directory (HAPPYHORSE_DATA, default ./data)\n"
    "  --public-url URL      base of the URLs the API returns (HAPPYHORSE_PUBLIC_URL,\n"
    "                        default http://<listen>)\n"
    "  --workers N           render worker threads in this process (HAPPYHORSE_WORKERS,\n"
    "                        default 1; 0 = API only)\n"
    "  --plans FILE          plans file replacing the built-in plans (HAPPYHORSE_PLANS)\n"
    "  --templates FILE      prompt template library replacing the built-in one\n"
    "                        (HAPPYHORSE_TEMPLATES; docs/templates.json is the example)\n"
    "  --http-threads N      HTTP threads (HAPPYHORSE_HTTP_THREADS, default: one per core)\n"
    "  --max-connections N   concurrent connections (HAPPYHORSE_MAX_CONNECTIONS, default 1024)\n"
    "  --timeout SECONDS     idle/slow connection timeout (HAPPYHORSE_TIMEOUT, default 30)\n"
    "  --upload-url-ttl S    lifetime of upload URLs in seconds (HAPPYHORSE_UPLOAD_URL_TTL,\n"
    "                        default 900)\n"
    "  --store-wait-ms MS    how long a request waits for a locked database before it is\n"
    "                        answered 503 with Retry-After (HAPPYHORSE_STORE_WAIT_MS,\n"
    "                        default 1000)\n"
    "  --min-free-mb MB      /readyz fails when the data directory's disk has less free\n"
    "                        (HAPPYHORSE_MIN_FREE_MB, default 64)\n"
    "  --max-connections-per-ip N\n"
    "                        connections one client address may hold; 0 = no limit\n"
    "                        (HAPPYHORSE_MAX_CONNECTIONS_PER_IP, default 128)\n"
    "  --upload-min-rate B   bytes/s an upload body must average once --timeout has passed\n"
    "                        (HAPPYHORSE_UPLOAD_MIN_RATE, default 16384)\n"
    "  --trusted-proxy CIDR  proxies (comma-separated ranges) whose X-Forwarded-For names\n"
    "                        the client (HAPPYHORSE_TRUSTED_PROXY, default none)\n"
    "  --blocklist FILE      phrases a prompt may not contain, one a line; SIGHUP reloads\n"
    "                        it (HAPPYHORSE_BLOCKLIST, default none)\n"
    "  --log-level LEVEL     debug, info, warn or error (HAPPYHORSE_LOG_LEVEL, default info)\n"
    "  --web DIR             the dashboard's files (HAPPYHORSE_WEB, default: web/ found\n"
    "                        beside the binary)\n"
    "  --allow-signup        let visitors create accounts in the dashboard\n"
    "                        (HAPPYHORSE_ALLOW_SIGNUP=1; off by default)\n"
    "  --webhook-allow-private\n"
    "                        let webhooks reach loopback, private and link-local\n"
    "                        addresses (HAPPYHORSE_WEBHOOK_ALLOW_PRIVATE=1; off by default)\n"
    "\n"
    "The store is SQLite under --data unless HAPPYHORSE_DATABASE_URL is set; objects\n"
    "are files under --data unless HAPPYHORSE_S3_ENDPOINT is set (README, configuration).\n";

typedef struct serve_opts {
    const char *listen, *data, *public_url, *plans, *log_level, *web, *trusted, *blocklist,
        *templates;
    int allow_signup, webhook_allow_private;
    double webhook_retry_scale;
    int64_t workers, http_threads, max_connections, timeout, upload_ttl, store_wait_ms, min_free_mb,
        per_ip, min_rate;
} serve_opts;

/* A whole number from flag, else env, else dflt, in [lo, hi]; -1 when not. */
static int number(const char *flag, const char *env, const char *dflt, int64_t lo, int64_t hi,
                  int64_t *out)
{
    return cli_parse_i64(cli_opt(flag, env, dflt), lo, hi, out) ? 0 : -1;
}

static int parse(int argc, char **argv, serve_opts *o)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"data", required_argument, NULL, 'd'},
        {"public-url", required_argument, NULL, 'u'},
        {"workers", required_argument, NULL, 'w'},
        {"plans", required_argument, NULL, 'p'},
        {"http-threads", required_argument, NULL, 't'},
        {"max-connections", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, 'T'},
        {"log-level", required_argument, NULL, 'L'},
        {"upload-url-ttl", required_argument, NULL, 'U'},
        {"web", required_argument, NULL, 'W'},
        {"allow-signup", no_argument, NULL, 'S'},
        {"webhook-allow-private", no_argument, NULL, 'H'},
        {"store-wait-ms", required_argument, NULL, 'B'},
        {"min-free-mb", required_argument, NULL, 'F'},
        {"max-connections-per-ip", required_argument, NULL, 'I'},
        {"upload-min-rate", required_argument, NULL, 'R'},
        {"trusted-proxy", required_argument, NULL, 'P'},
        {"blocklist", required_argument, NULL, 'K'},
        {"templates", required_argument, NULL, 'M'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *workers = NULL, *threads = NULL, *conns = NULL, *timeout = NULL, *ttl = NULL,
               *wait = NULL, *min_free = NULL, *per_ip = NULL, *min_rate = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            o->listen = optarg;
            break;
        case 'd':
            o->data = optarg;
            break;
        case 'u':
            o->public_url = optarg;
            break;
        case 'w':
            workers = optarg;
            break;
        case 'p':
            o->plans = optarg;
            break;
        case 't':
            threads = optarg;
            break;
        case 'c':
            conns = optarg;
            break;
        case 'T':
            timeout = optarg;
            break;
        case 'L':
            o->log_level = optarg;
            break;
        case 'U':
            ttl = optarg;
            break;
        case 'W':
            o->web = optarg;
            break;
        case 'S':
            o->allow_signup = 1;
            break;
        case 'H':
            o->webhook_allow_private = 1;
            break;
        case 'B':
            wait = optarg;
            break;
        case 'F':
            min_free = optarg;
            break;
        case 'I':
            per_ip = optarg;
            break;
        case 'R':
            min_rate = optarg;
            break;
        case 'P':
            o->trusted = optarg;
            break;
        case 'K':
            o->blocklist = optarg;
            break;
        case 'M':
            o->templates = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return -1;
        default:
            return cli_usage_error(PROG, "bad option (see --help)");
        }
    }
    if (optind < argc)
        return cli_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
    o->listen = cli_opt(o->listen, "HAPPYHORSE_LISTEN", CLI_DEFAULT_LISTEN);
    o->data = cli_data_dir(o->data);
    o->public_url = cli_opt(o->public_url, "HAPPYHORSE_PUBLIC_URL", NULL);
    o->log_level = cli_opt(o->log_level, "HAPPYHORSE_LOG_LEVEL", "info");
    o->web = cli_opt(o->web, "HAPPYHORSE_WEB", NULL);
    o->trusted = cli_opt(o->trusted, "HAPPYHORSE_TRUSTED_PROXY", NULL);
    o->blocklist = cli_opt(o->blocklist, "HAPPYHORSE_BLOCKLIST", NULL);
    o->templates = cli_opt(o->templates, "HAPPYHORSE_TEMPLATES", NULL);
    if (!o->allow_signup) {
        const char *v = cli_opt(NULL, "HAPPYHORSE_ALLOW_SIGNUP", "0");
        o->allow_signup = !strcmp(v, "1") || !strcmp(v, "true");
    }
    if (!o->webhook_allow_private) {
        const char *v = cli_opt(NULL, "HAPPYHORSE_WEBHOOK_ALLOW_PRIVATE", "0");
        o->webhook_allow_private = !strcmp(v, "1") || !strcmp(v, "true");
    }
    /* Test-only: shortens the webhook retry schedule (README, configuration). */
    const char *scale = cli_opt(NULL, "HAPPYHORSE_WEBHOOK_RETRY_SCALE", "1");
    char *end = NULL;
    o->webhook_retry_scale = strtod(scale, &end);
    if (end == scale || *end || !(o->webhook_retry_scale > 0 && o->webhook_retry_scale <= 1))
        return cli_usage_error(PROG, "HAPPYHORSE_WEBHOOK_RETRY_SCALE must be a number in (0, 1]");
    if (number(workers, "HAPPYHORSE_WORKERS", "1", 0, 256, &o->workers) ||
        number(threads, "HAPPYHORSE_HTTP_THREADS", "0", 0, 1024, &o->http_threads) ||
        number(conns, "HAPPYHORSE_MAX_CONNECTIONS", "1024", 1, 1000000, &o->max_connections) ||
        number(timeout, "HAPPYHORSE_TIMEOUT", "30", 1, 3600, &o->timeout) ||
        number(ttl, "HAPPYHORSE_UPLOAD_URL_TTL", "900", 1, 7 * 86400, &o->upload_ttl) ||
        number(wait, "HAPPYHORSE_STORE_WAIT_MS", "1000", 1, 600000, &o->store_wait_ms) ||
        number(min_free, "HAPPYHORSE_MIN_FREE_MB", "64", 0, 100000000, &o->min_free_mb) ||
        number(per_ip, "HAPPYHORSE_MAX_CONNECTIONS_PER_IP", "128", 0, 1000000, &o->per_ip) ||
        number(min_rate, "HAPPYHORSE_UPLOAD_MIN_RATE", "16384", 1, 1000000000, &o->min_rate))
        return cli_usage_error(PROG, "--workers, --http-threads, --max-connections, --timeout, "
                                     "--upload-url-ttl, --store-wait-ms, --min-free-mb, "
                                     "--max-connections-per-ip and --upload-min-rate take "
                                     "whole numbers in range (see --help)");
    http_cidrs probe;
    if (o->trusted && http_cidrs_parse(o->trusted, &probe))
        return cli_usage_error(PROG,
                               "--trusted-proxy '%s': give addresses or CIDR ranges, comma-"
                               "separated, with no bits set past the prefix (10.0.0.0/8)",
                               o->trusted);
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(o->log_level, levels[i])) {
            hh_log_set_level((hh_log_level)i);
            return 0;
        }
    return cli_usage_error(PROG, "--log-level must be debug, info, warn or error");
}

/* Blocks until SIGTERM or SIGINT arrives, reloading the blocklist on each SIGHUP; returns it. */
static int wait_for_stop(const sigset_t *set, hh_app *app)
{
    int sig = 0;
    for (;;) {
        if (sigwait(set, &sig) != 0)
            continue;
        if (sig != SIGHUP)
            return sig;
        char err[320];
        if (!app->blocklist_path[0])
            hh_info("SIGHUP: no --blocklist to reload");
        else if (app_blocklist_load(app, app->blocklist_path, err, sizeof err))
            hh_error("SIGHUP: blocklist not reloaded, the old one stays: %s", err);
    }
}

int cli_serve(int argc, char **argv)
{
    serve_opts o = {0};
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;

    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    hh_app *app = NULL;
    char err[256];
    hh_plans *plans = NULL;
    if (cli_plans_load(o.plans, &plans, err, sizeof err))
        return cli_usage_error(PROG, "%s", err);
    cli_log_plan_engines(plans);
    hh_templates *templates = NULL;
    hh_errdetail why = {"", ""};
    if (o.templates && templates_load_file(o.templates, &templates, &why)) {
        plans_free(plans);
        return cli_usage_error(PROG, "templates file %s",
                               why.message[0] ? why.message : "cannot be loaded");
    }
    blob_s3_config s3;
    int use_s3 = cli_s3_config(&s3, err, sizeof err);
    if (use_s3 < 0) {
        templates_free(templates);
        plans_free(plans);
        return cli_usage_error(PROG, "%s", err);
    }
    app_config acfg = {
        .data_dir = o.data,
        .store_location = cli_store_location(o.data),
        .s3 = use_s3 ? &s3 : NULL,
        .plans = plans,
        .upload_ttl_s = (int)o.upload_ttl,
        .templates = templates,
    };
    if (app_new(&acfg, &app))
        return cli_fail(PROG, "cannot open the store at %s (see the log line above)",
                        cli_store_label(acfg.store_location));
    app->allow_signup = o.allow_signup;
    app->webhook_allow_private = o.webhook_allow_private;
    if (o.blocklist && app_blocklist_load(app, o.blocklist, err, sizeof err)) {
        app_free(app);
        return cli_usage_error(PROG, "--blocklist %s", err);
    }
    app->store_wait_ms = (int)o.store_wait_ms;
    app->body_grace_s = (int)o.timeout;
    app->body_min_rate = (unsigned)o.min_rate;
    app->min_free_bytes = (unsigned long long)o.min_free_mb * 1024 * 1024;
    if (o.trusted)
        http_cidrs_parse(o.trusted, &app->trusted_proxies); /* checked by parse() */
    if (dashboard_find_web_dir(o.web, app->web_dir, sizeof app->web_dir)) {
        if (o.web) { /* asked for by name: a typo must not start a server without its pages */
            app_free(app);
            return cli_usage_error(PROG, "--web %s: no index.html there", o.web);
        }
        hh_warn("no dashboard files found (give --web DIR); the API works, the pages 404");
    }

    http_config hcfg = {
        .listen = o.listen,
        .threads = (unsigned)o.http_threads,
        .connection_limit = (unsigned)o.max_connections,
        .connection_timeout_s = (unsigned)o.timeout,
        .routes = api_routes(),
        .guard = api_guard,
        .error_shape = api_openai_error_shape,
        .app = app,
        .pool_thread_init = app_pool_thread_init,
        .min_body_rate = (unsigned)o.min_rate,
        .per_ip_limit = (unsigned)o.per_ip,
        .trusted_proxies = app->trusted_proxies.n ? &app->trusted_proxies : NULL,
    };
    if (http_server_new(&hcfg, &app->http)) {
        app_free(app);
        return cli_fail(PROG, "cannot listen on %s", o.listen);
    }
    if (o.public_url) {
        app_set_public_url(app, o.public_url);
    } else {
        /* Port 0 picks a free port: the URL must show the real one. */
        char url[300], host[256];
        snprintf(host, sizeof host, "%s", o.listen);
        char *colon = strrchr(host, ':');
        if (colon)
            *colon = '\0';
        snprintf(url, sizeof url, "http://%s:%u", host, http_server_port(app->http));
        app_set_public_url(app, url);
    }
    /* Expired uploads are looked for as often as an upload URL lives (at most every minute). */
    if (janitor_start(app, (int)o.upload_ttl, &app->janitor)) {
        app_free(app);
        return cli_fail(PROG, "cannot start the housekeeping thread");
    }
    if (hook_dispatch_start(app, o.webhook_retry_scale, &app->hooks)) {
        app_free(app);
        return cli_fail(PROG, "cannot start the webhook dispatcher");
    }
    if (o.workers > 0 && app_start_workers(app, (unsigned)o.workers)) {
        app_free(app);
        return cli_fail(PROG, "cannot start the workers (see the log line above)");
    }
    hh_log_fields(HH_LOG_INFO, "listening",
                  json_pack("{s:s, s:i, s:s, s:s}", "listen", o.listen, "port",
                            (int)http_server_port(app->http), "publicUrl", app->public_url, "data",
                            o.data));

    int sig = wait_for_stop(&stop, app);
    hh_log_fields(HH_LOG_INFO, "stopping", json_pack("{s:s}", "signal", strsignal(sig)));
    app_free(app);
    hh_info("stopped");
    return CLI_OK;
}
