/*
 * fuzz_http.c - libFuzzer target: any bytes as a raw HTTP exchange with the
 * real server (the app, its routes, the guard, the work pool, a real
 * SQLite store in a scratch directory), over a loopback socket. "@KEY@" in
 * the input becomes a live API key, so mutations reach past the guard. The
 * client closes its side after the bytes; every response the server sends
 * back must have a status below 500: no client input may ever turn into a
 * server error (a detail that cannot be encoded, a handler that does not
 * answer, a crash). The one exception is 505, which libmicrohttpd itself
 * answers to an HTTP version it does not speak (RFC 9110 15.6.6).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "api/app.h"
#include "auth/apikey.h"
#include "util/fsutil.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One plan whose rate and credits never get in the way of a mutation. */
static const char plans_json[] =
    "{\"plans\":[{\"name\":\"fuzz\",\"maxDurationSec\":12,\"requestsPerMinute\":1000000,"
    "\"jobsInFlight\":1,\"allow\":{\"1080p\":true,\"sourceImage\":true,\"lastFrame\":true,"
    "\"referenceVideo\":true,\"referenceAudio\":true},"
    "\"creditsPerSecond\":{\"720p\":1,\"1080p\":2}}]}";

static hh_app *app;
static unsigned port;
static char key[APIKEY_BUF];
static char dir[] = "/tmp/hh-fuzz-http-XXXXXX";

static void cleanup(void)
{
    app_free(app);
    hh_remove_tree(dir);
}

/* Makes the app, a user with credits and a key, and the server; exits on failure. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    hh_plans *plans = NULL;
    hh_user u;
    uint8_t hash[CRYPTO_SHA256_LEN];
    char prefix[APIKEY_PREFIX_BUF];
    if (!mkdtemp(dir) || plans_load_json(plans_json, sizeof plans_json - 1, &plans, NULL))
        exit(1);
    app_config cfg = {.data_dir = dir, .store_location = dir, .plans = plans};
    if (app_new(&cfg, &app) ||
        store_user_create(app->store, "fuzz@example.com", NULL, "fuzz", 1, &u) ||
        store_ledger_append(app->store, u.id, 1000000000000LL, HH_LEDGER_GRANT, NULL, NULL, NULL) ||
        apikey_generate(key))
        exit(1);
    apikey_hash(key, hash);
    apikey_prefix(key, prefix);
    if (store_key_insert(app->store, u.id, "fuzz", hash, prefix, NULL))
        exit(1);
    http_config hc = {
        .listen = "127.0.0.1:0",
        .threads = 2,
        .connection_timeout_s = 1, /* an incomplete request ends the exchange after 1 s */
        .routes = api_routes(),
        .guard = api_guard,
        .app = app,
        .pool_thread_init = app_pool_thread_init,
    };
    if (http_server_new(&hc, &app->http))
        exit(1);
    port = http_server_port(app->http);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
    app_set_public_url(app, url);
    atexit(cleanup);
    return 0;
}

/* The input with every "@KEY@" replaced by the live key; NUL-terminated, *len set. */
static char *with_key(const uint8_t *data, size_t size, size_t *len)
{
    static const char mark[] = "@KEY@";
    size_t ml = sizeof mark - 1, kl = strlen(key);
    char *out = malloc(size / ml * kl + size + 1);
    size_t o = 0;
    for (size_t i = 0; out && i < size;) {
        if (i + ml <= size && !memcmp(data + i, mark, ml)) {
            memcpy(out + o, key, kl);
            o += kl;
            i += ml;
        } else {
            out[o++] = (char)data[i++];
        }
    }
    if (out)
        out[o] = '\0';
    *len = o;
    return out;
}

/* Checks every response in the len bytes of buf (as far as their framing can be followed). */
static void check_responses(const char *buf, size_t len)
{
    size_t pos = 0;
    while (pos + 12 <= len && !memcmp(buf + pos, "HTTP/1.", 7)) {
        int status = (int)strtol(buf + pos + 9, NULL, 10);
        if (status >= 500 && status != 505) {
            fprintf(stderr, "fuzz_http: the server answered %d:\n%.*s\n", status,
                    (int)(len - pos > 600 ? 600 : len - pos), buf + pos);
            abort();
        }
        const char *end = memmem(buf + pos, len - pos, "\r\n\r\n", 4);
        if (!end)
            return;
        size_t body = 0;
        for (const char *h = buf + pos; h < end; h++)
            if ((h == buf + pos || h[-1] == '\n') && !strncasecmp(h, "Content-Length:", 15))
                body = strtoul(h + 15, NULL, 10);
        pos = (size_t)(end - buf) + 4 + body;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len;
    char *req = with_key(data, size, &len);
    if (!req)
        return 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        close(fd);
        free(req);
        return 0;
    }
    for (size_t off = 0; off < len;) {
        ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server hung up early: what it said is still checked */
        off += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    free(req);
    size_t cap = 1 << 16, got = 0;
    char *buf = malloc(cap);
    for (ssize_t n = 1; buf && n > 0 && got < cap;) {
        n = recv(fd, buf + got, cap - got, 0);
        got += n > 0 ? (size_t)n : 0;
    }
    close(fd);
    if (buf)
        check_responses(buf, got);
    free(buf);
    return 0;
}
