/*
 * test_http.c - the real HTTP server in-process (http_server_new on
 * 127.0.0.1:0) with a test route table, driven over loopback sockets with
 * raw request bytes: framing refusals, body limits (declared and chunked),
 * 404/405/Allow, request ids, HEAD, CORS, the guard, streaming bodies and
 * their abort, the idle timeout, oversized header blocks, handlers that
 * wait run on the work pool (off the connection threads), the fallback
 * 500, and a graceful stop with a request in flight. Status line and
 * headers are parsed here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "http/http.h"
#include "util/timeutil.h"

#define SMALL_MAX  16
#define STREAM_CAP (1024 * 1024)

/* ------------------------------------------------------------ app side */

static atomic_int echo_calls;
static atomic_int small_calls;
static atomic_int guard_refusals;
static atomic_int slow_started;
static atomic_int stream_begun;
static atomic_int stream_ended;
static atomic_int stream_aborted;
static pthread_mutex_t stream_mu = PTHREAD_MUTEX_INITIALIZER;
static char *stream_buf; /* what the streaming route received, in order */
static size_t stream_len;

static void h_echo(http_req *req, void *app)
{
    (void)app;
    atomic_fetch_add(&echo_calls, 1);
    json_t *body = http_req_json(req);
    if (!body)
        return; /* replied invalid_input */
    http_reply_json(req, 200, json_incref(body));
}

static void h_small(http_req *req, void *app)
{
    (void)app;
    atomic_fetch_add(&small_calls, 1);
    size_t len;
    const char *b = http_req_body(req, &len);
    http_reply_bytes(req, 200, "text/plain", b, len);
}

static void h_hello(http_req *req, void *app)
{
    (void)app;
    http_reply_bytes(req, 200, "text/plain", "hello, world\n", 13);
}

/* A reply whose JSON cannot be built (NULL): the server's fallback 500 goes out instead. */
static void h_nobody(http_req *req, void *app)
{
    (void)app;
    http_reply_json(req, 200, NULL);
}

static void h_cors(http_req *req, void *app)
{
    (void)app;
    const char *id = http_req_param(req, "id");
    http_reply_bytes(req, 200, "text/plain", id, strlen(id));
}

static void h_slow(http_req *req, void *app)
{
    (void)app;
    atomic_store(&slow_started, 1);
    struct timespec ts = {1, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    http_reply_bytes(req, 200, "text/plain", "slow", 4);
}

static hh_status st_begin(http_req *req, void *app)
{
    (void)req;
    (void)app;
    pthread_mutex_lock(&stream_mu);
    stream_len = 0;
    pthread_mutex_unlock(&stream_mu);
    atomic_fetch_add(&stream_begun, 1);
    return HH_OK;
}

static hh_status st_data(http_req *req, void *app, const char *data, size_t len)
{
    (void)app;
    pthread_mutex_lock(&stream_mu);
    int over = stream_len + len > STREAM_CAP;
    if (!over) {
        memcpy(stream_buf + stream_len, data, len);
        stream_len += len;
    }
    pthread_mutex_unlock(&stream_mu);
    if (over) {
        http_reply_error(req, API_ERR_INVALID_INPUT, "too much", NULL);
        return HH_ERR_LIMIT;
    }
    return HH_OK;
}

static void st_end(http_req *req, void *app)
{
    (void)app;
    char n[32];
    pthread_mutex_lock(&stream_mu);
    snprintf(n, sizeof n, "%zu", stream_len);
    pthread_mutex_unlock(&stream_mu);
    atomic_fetch_add(&stream_ended, 1);
    http_reply_bytes(req, 200, "text/plain", n, strlen(n));
}

static void st_abort(http_req *req, void *app)
{
    (void)req;
    (void)app;
    atomic_fetch_add(&stream_aborted, 1);
}

static const http_stream_ops stream_ops = {st_begin, st_data, st_end, st_abort};

/* A handler that blocks: waits until the test opens the gate (or 20 s, then says so). */
static atomic_int gate_in;
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open;

static void h_gate(http_req *req, void *app)
{
    (void)app;
    atomic_fetch_add(&gate_in, 1);
    struct timespec until = hh_deadline_after_ms(CLOCK_REALTIME, 20000);
    pthread_mutex_lock(&gate_mu);
    while (!gate_open && pthread_cond_timedwait(&gate_cv, &gate_mu, &until) == 0)
        ;
    int opened = gate_open;
    pthread_mutex_unlock(&gate_mu);
    http_reply_bytes(req, 200, "text/plain", opened ? "opened" : "timeout", opened ? 6 : 7);
}

/* Refuses any request carrying "X-Deny: yes", on the headers alone. */
static int guard(http_req *req, const http_route *route, void *app)
{
    (void)route;
    (void)app;
    const char *v = http_req_header(req, "X-Deny");
    if (v && !strcmp(v, "yes")) {
        atomic_fetch_add(&guard_refusals, 1);
        http_reply_error(req, API_ERR_FORBIDDEN, "Denied by the test guard.", NULL);
        return 1;
    }
    return 0;
}

static const http_route routes[] = {
    {HTTP_POST, "/echo", "echo", 0, 0, h_echo, NULL},
    {HTTP_POST, "/small", "small", 0, SMALL_MAX, h_small, NULL},
    {HTTP_GET | HTTP_HEAD, "/hello", "hello", 0, 0, h_hello, NULL},
    {HTTP_GET | HTTP_HEAD, "/cors/{id}", "cors", HTTP_ROUTE_CORS, 0, h_cors, NULL},
    {HTTP_GET, "/slow", "slow", 0, 0, h_slow, NULL},
    {HTTP_GET, "/gate", "gate", 0, 0, h_gate, NULL},
    {HTTP_GET, "/nobody", "nobody", 0, 0, h_nobody, NULL},
    {HTTP_PUT, "/stream/{id}", "stream", 0, STREAM_CAP, NULL, &stream_ops},
    {0, NULL, NULL, 0, 0, NULL, NULL},
};

static http_server *srv;
static unsigned port;

static int setup(void **state)
{
    (void)state;
    stream_buf = malloc(STREAM_CAP);
    if (!stream_buf)
        return -1;
    http_config cfg = {
        .listen = "127.0.0.1:0",
        .threads = 2,
        .connection_timeout_s = 1,
        .routes = routes,
        .guard = guard,
        .min_body_rate = 2,
    };
    if (http_server_new(&cfg, &srv))
        return -1;
    port = http_server_port(srv);
    return port ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    http_server_free(srv);
    srv = NULL;
    free(stream_buf);
    stream_buf = NULL;
    return 0;
}

/* ------------------------------------------------------------ client side */

typedef struct resp {
    int status; /* 0: the server closed without a status line */
    char head[16384];
    char *body; /* NUL-terminated; owned */
    size_t body_len;
    int closed; /* server closed the connection after the response */
} resp;

/* A loopback connection to port p with receive/send timeouts; -1 when refused. */
static int raw_connect(unsigned p, int timeout_s)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {timeout_s, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)p);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        return -1;
    }
    return fd;
}

static int connect_to(unsigned p, int timeout_s)
{
    int fd = raw_connect(p, timeout_s);
    assert_true(fd >= 0);
    return fd;
}

/* Sends everything; returns 0, or -1 if the peer stopped reading. */
static int send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Value of header name in r (case-insensitive), copied into out; NULL when absent. */
static const char *resp_header(const resp *r, const char *name, char *out, size_t size)
{
    size_t nl = strlen(name);
    const char *line = strstr(r->head, "\r\n");
    while (line && line[2] && !(line[2] == '\r' && line[3] == '\n')) {
        line += 2;
        const char *eol = strstr(line, "\r\n");
        if (!eol)
            break;
        if (!strncasecmp(line, name, nl) && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = (size_t)(eol - v);
            if (vl >= size)
                vl = size - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return out;
        }
        line = eol;
    }
    return NULL;
}

/*
 * Reads one response: status line, headers, then Content-Length bytes of
 * body (none for HEAD or 204/304), or up to the close.
 */
static void read_resp(int fd, resp *r, int head_only)
{
    memset(r, 0, sizeof *r);
    /* the head a byte at a time, so nothing of a pipelined next response is consumed */
    size_t hl = 0;
    while (hl < 4 || memcmp(r->head + hl - 4, "\r\n\r\n", 4)) {
        if (hl == sizeof r->head - 1)
            fail_msg("response header block too big");
        ssize_t n = recv(fd, r->head + hl, 1, 0);
        if (n <= 0) {
            r->closed = 1;
            r->head[0] = '\0';
            r->body = calloc(1, 1);
            return;
        }
        hl++;
    }
    r->head[hl] = '\0';
    assert_int_equal(strncmp(r->head, "HTTP/1.1 ", 9), 0);
    r->status = (int)strtol(r->head + 9, NULL, 10);
    char v[64];
    long want = -1;
    if (resp_header(r, "Content-Length", v, sizeof v))
        want = strtol(v, NULL, 10);
    if (head_only || r->status == 204 || r->status == 304)
        want = 0;
    size_t cap = want >= 0 ? (size_t)want + 1 : 1 << 20;
    r->body = calloc(1, cap);
    assert_non_null(r->body);
    size_t got = 0;
    while (want < 0 || got < (size_t)want) {
        if (got == cap - 1)
            break;
        ssize_t n = recv(fd, r->body + got, cap - 1 - got, 0);
        if (n <= 0) {
            r->closed = 1;
            break;
        }
        got += (size_t)n;
    }
    r->body_len = got;
    if (want >= 0)
        assert_int_equal(got, (size_t)want);
    if (resp_header(r, "Connection", v, sizeof v) && !strcasecmp(v, "close"))
        r->closed = 1;
}

/* One request of raw bytes on a fresh connection; the response in r (free r->body). */
static void exchange(const char *raw, size_t len, resp *r)
{
    int fd = connect_to(port, 5);
    assert_int_equal(send_all(fd, raw, len), 0);
    read_resp(fd, r, !strncmp(raw, "HEAD ", 5));
    close(fd);
}

static void exchange_str(const char *raw, resp *r)
{
    exchange(raw, strlen(raw), r);
}

/* Asserts r is the contract's error envelope with code and HTTP status. */
static void assert_envelope(const resp *r, int status, const char *code)
{
    assert_int_equal(r->status, status);
    char v[128];
    assert_non_null(resp_header(r, "Content-Type", v, sizeof v));
    assert_string_equal(v, "application/json");
    json_error_t err;
    json_t *j = json_loadb(r->body, r->body_len, 0, &err);
    assert_non_null(j);
    json_t *e = json_object_get(j, "error");
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    assert_non_null(json_string_value(json_object_get(e, "message")));
    assert_non_null(resp_header(r, "X-Request-Id", v, sizeof v));
    json_decref(j);
}

/* Waits up to ms for *flag to reach at least want. */
static int wait_for(atomic_int *flag, int want, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        if (atomic_load(flag) >= want)
            return 1;
        usleep(10000);
    }
    return atomic_load(flag) >= want;
}

/* ------------------------------------------------------------ tests */

static void test_echo_and_request_ids(void **state)
{
    (void)state;
    resp r;
    char v[128];
    int before = atomic_load(&echo_calls);
    exchange_str("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Content-Length: 15\r\n\r\n{\"a\":1,\"b\":[2]}",
                 &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"a\":1,\"b\":[2]}");
    assert_int_equal(atomic_load(&echo_calls), before + 1);
    /* generated: 24 hex digits */
    assert_non_null(resp_header(&r, "X-Request-Id", v, sizeof v));
    assert_int_equal(strlen(v), 24);
    assert_int_equal(strspn(v, "0123456789abcdef"), 24);
    assert_non_null(resp_header(&r, "X-Content-Type-Options", v, sizeof v));
    free(r.body);
    /* counted by route and status (the log line and metrics are written on completion) */
    usleep(50000);
    char *metrics = http_server_metrics(srv);
    assert_non_null(metrics);
    assert_non_null(
        strstr(metrics, "happyhorse_http_requests_total{route=\"echo\",status=\"200\"}"));
    assert_non_null(strstr(metrics, "happyhorse_http_request_duration_seconds_bucket"));
    free(metrics);

    /* a sane id is echoed */
    exchange_str("GET /hello HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc-123_X.y\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello, world\n");
    assert_string_equal(resp_header(&r, "X-Request-Id", v, sizeof v), "abc-123_X.y");
    free(r.body);

    /* insane ids are replaced: odd characters, too long */
    static const char *const bad[] = {
        "a b", "<script>", "a/b", "x\"y",
        "0123456789012345678901234567890123456789012345678901234567890123456789"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char raw[512];
        snprintf(raw, sizeof raw, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Request-Id: %s\r\n\r\n",
                 bad[i]);
        exchange_str(raw, &r);
        assert_int_equal(r.status, 200);
        assert_non_null(resp_header(&r, "X-Request-Id", v, sizeof v));
        assert_string_not_equal(v, bad[i]);
        assert_int_equal(strspn(v, "0123456789abcdef"), 24);
        free(r.body);
    }
}

static void test_framing_refused(void **state)
{
    (void)state;
    static const char *const raw[] = {
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n"
        "{\"a\":1}",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n"
        "7\r\n{\"a\":1}\r\n0\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 7\r\n\r\n"
        "7\r\n{\"a\":1}\r\n0\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n{\"a\":1}",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        "7\r\n{\"a\":1}\r\n0\r\n\r\n",
    };
    /*
     * A Content-Length that is not a number is refused by libmicrohttpd
     * itself (0.9.75 parses it before our first callback): 400 with its own
     * HTML page, no envelope, no X-Request-Id, connection closed. We cannot
     * reach that answer; assert what it is so an upgrade that changes it shows.
     */
    static const struct {
        const char *raw;
        int status;
    } mhd_raw[] = {
        {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 7x\r\n\r\n{\"a\":1}", 400},
        {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -7\r\n\r\n{\"a\":1}", 400},
        {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 7, 7\r\n\r\n{\"a\":1}", 400},
        /* too large for 64 bits: MHD says 413 */
        {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413},
    };
    int before = atomic_load(&echo_calls);
    for (size_t i = 0; i < sizeof raw / sizeof *raw; i++) {
        resp r;
        exchange_str(raw[i], &r);
        if (r.status == 0)
            fail_msg("case %zu: closed without a status line", i);
        assert_envelope(&r, 400, "invalid_input");
        assert_true(r.closed);
        free(r.body);
    }
    for (size_t i = 0; i < sizeof mhd_raw / sizeof *mhd_raw; i++) {
        resp r;
        exchange_str(mhd_raw[i].raw, &r);
        if (r.status != mhd_raw[i].status)
            fail_msg("case %zu: status %d", i, r.status);
        assert_true(r.closed);
        free(r.body);
    }
    /* the body never reached the handler */
    assert_int_equal(atomic_load(&echo_calls), before);
}

/* POST /small with n bytes, declared (Content-Length) or chunked in two pieces. */
static void post_small(size_t n, int chunked, resp *r)
{
    char body[64];
    memset(body, 'a', n);
    body[n] = '\0';
    char raw[512];
    if (chunked)
        snprintf(raw, sizeof raw,
                 "POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "%zx\r\n%.*s\r\n%zx\r\n%s\r\n0\r\n\r\n",
                 n / 2, (int)(n / 2), body, n - n / 2, body + n / 2);
    else
        snprintf(raw, sizeof raw,
                 "POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n%s", n, body);
    exchange_str(raw, r);
}

static void test_body_limits(void **state)
{
    (void)state;
    for (int chunked = 0; chunked < 2; chunked++) {
        resp r;
        int before = atomic_load(&small_calls);
        post_small(SMALL_MAX, chunked, &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body_len, SMALL_MAX);
        assert_int_equal(atomic_load(&small_calls), before + 1);
        free(r.body);

        post_small(SMALL_MAX + 1, chunked, &r);
        assert_envelope(&r, 400, "invalid_input");
        assert_non_null(strstr(r.body, "too large"));
        assert_true(r.closed);
        assert_int_equal(atomic_load(&small_calls), before + 1);
        free(r.body);
    }
    /* the server default (64 KiB) on /echo: 64 KiB + 1 declared is refused on the headers */
    resp r;
    int before = atomic_load(&echo_calls);
    exchange_str("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n", &r);
    assert_envelope(&r, 400, "invalid_input");
    free(r.body);
    /* and 64 KiB + 1 sent chunked without a length */
    size_t n = 65537;
    char *raw = malloc(n + 256);
    assert_non_null(raw);
    int hl = snprintf(
        raw, 256, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n", n);
    memset(raw + hl, ' ', n);
    memcpy(raw + hl + n, "\r\n0\r\n\r\n", 7);
    exchange(raw, (size_t)hl + n + 7, &r);
    assert_envelope(&r, 400, "invalid_input");
    free(r.body);
    /* exactly 64 KiB of JSON is accepted */
    n = 65536;
    hl = snprintf(raw, 256, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", n);
    memset(raw + hl, ' ', n);
    memcpy(raw + hl + n - 7, "{\"a\":1}", 7);
    exchange(raw, (size_t)hl + n, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"a\":1}");
    free(r.body);
    free(raw);
    assert_int_equal(atomic_load(&echo_calls), before + 1);
}

static void test_json_refusals(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "",
        "{",
        "[1,2]",
        "{\"a\":1,\"a\":2}",
        "{\"a\":1} x",
        "{\"a\":\"\xff\"}",
        "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        char raw[1024];
        snprintf(raw, sizeof raw, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n%s",
                 strlen(bodies[i]), bodies[i]);
        resp r;
        exchange_str(raw, &r);
        assert_envelope(&r, 400, "invalid_input");
        free(r.body);
    }
    /* a NUL byte inside the body */
    static const char nul[] = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n"
                              "{\"a\":\"\0\"}";
    resp r;
    exchange(nul, sizeof nul - 1, &r);
    assert_envelope(&r, 400, "invalid_input");
    free(r.body);
}

static void test_routing_errors(void **state)
{
    (void)state;
    resp r;
    char v[128];
    exchange_str("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    assert_envelope(&r, 404, "not_found");
    free(r.body);

    exchange_str("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    assert_envelope(&r, 405, "invalid_input");
    assert_string_equal(resp_header(&r, "Allow", v, sizeof v), "POST");
    free(r.body);

    exchange_str("DELETE /cors/abc HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    assert_envelope(&r, 405, "invalid_input");
    assert_string_equal(resp_header(&r, "Allow", v, sizeof v), "GET, HEAD, OPTIONS");
    free(r.body);

    /* an unknown method on a known path */
    exchange_str("BREW /hello HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    assert_envelope(&r, 405, "invalid_input");
    assert_string_equal(resp_header(&r, "Allow", v, sizeof v), "GET, HEAD");
    free(r.body);

    /* over-long path */
    char raw[8192];
    int n = snprintf(raw, sizeof raw, "GET /");
    memset(raw + n, 'a', 5000);
    snprintf(raw + n + 5000, sizeof raw - (size_t)n - 5000, " HTTP/1.1\r\nHost: x\r\n\r\n");
    exchange_str(raw, &r);
    assert_envelope(&r, 400, "invalid_input");
    assert_non_null(strstr(r.body, "too long"));
    free(r.body);

    /* trailing slash is not folded */
    exchange_str("GET /hello/ HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    assert_envelope(&r, 404, "not_found");
    free(r.body);
}

static void test_head_and_cors(void **state)
{
    (void)state;
    resp r;
    char v[256];
    exchange_str("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    assert_string_equal(resp_header(&r, "Content-Length", v, sizeof v), "13");
    free(r.body);

    /* HEAD answered on a kept-alive connection does not leak a body into the next response */
    int fd = connect_to(port, 5);
    const char two[] =
        "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(send_all(fd, two, sizeof two - 1), 0);
    read_resp(fd, &r, 1);
    assert_int_equal(r.status, 200);
    free(r.body);
    read_resp(fd, &r, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello, world\n");
    free(r.body);
    close(fd);

    exchange_str("OPTIONS /cors/abc HTTP/1.1\r\nHost: x\r\nOrigin: http://o.example\r\n"
                 "Access-Control-Request-Method: GET\r\n\r\n",
                 &r);
    assert_int_equal(r.status, 204);
    assert_string_equal(resp_header(&r, "Access-Control-Allow-Origin", v, sizeof v), "*");
    assert_string_equal(resp_header(&r, "Access-Control-Allow-Methods", v, sizeof v),
                        "GET, HEAD, OPTIONS");
    assert_non_null(resp_header(&r, "Access-Control-Allow-Headers", v, sizeof v));
    assert_non_null(strstr(v, "Authorization"));
    free(r.body);

    exchange_str("GET /cors/abc HTTP/1.1\r\nHost: x\r\nOrigin: http://o.example\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "abc");
    assert_string_equal(resp_header(&r, "Access-Control-Allow-Origin", v, sizeof v), "*");
    free(r.body);

    /* OPTIONS on a route without CORS is 405 */
    exchange_str("OPTIONS /hello HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    assert_int_equal(r.status, 405);
    assert_null(resp_header(&r, "Access-Control-Allow-Origin", v, sizeof v));
    free(r.body);
}

static void test_guard_before_body(void **state)
{
    (void)state;
    int before = atomic_load(&echo_calls);
    int refusals = atomic_load(&guard_refusals);
    /* declares 50 MB and sends none of it: the answer comes on the headers alone */
    int fd = connect_to(port, 3);
    const char raw[] = "POST /echo HTTP/1.1\r\nHost: x\r\nX-Deny: yes\r\n"
                       "Content-Length: 50000000\r\n\r\n";
    assert_int_equal(send_all(fd, raw, sizeof raw - 1), 0);
    resp r;
    read_resp(fd, &r, 0);
    close(fd);
    assert_envelope(&r, 403, "forbidden");
    free(r.body);
    assert_int_equal(atomic_load(&guard_refusals), refusals + 1);
    assert_int_equal(atomic_load(&echo_calls), before);

    /* the streaming route too: on_begin never runs */
    int begun = atomic_load(&stream_begun);
    exchange_str("PUT /stream/a HTTP/1.1\r\nHost: x\r\nX-Deny: yes\r\nContent-Length: 3\r\n\r\nabc",
                 &r);
    assert_envelope(&r, 403, "forbidden");
    free(r.body);
    assert_int_equal(atomic_load(&stream_begun), begun);
}

static void test_streaming_whole_and_in_order(void **state)
{
    (void)state;
    size_t n = 700 * 1000 + 7;
    unsigned char *data = malloc(n);
    assert_non_null(data);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (unsigned char)(x >> 16);
    }
    int ended = atomic_load(&stream_ended);
    int fd = connect_to(port, 5);
    char head[128];
    int hl = snprintf(head, sizeof head,
                      "PUT /stream/s1 HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", n);
    assert_int_equal(send_all(fd, head, (size_t)hl), 0);
    /* uneven pieces so the server sees many partial reads */
    size_t off = 0, step = 1;
    while (off < n) {
        size_t k = step < n - off ? step : n - off;
        assert_int_equal(send_all(fd, data + off, k), 0);
        off += k;
        step = step * 3 + 1;
        if (step > 50000)
            step = 7;
    }
    resp r;
    read_resp(fd, &r, 0);
    close(fd);
    assert_int_equal(r.status, 200);
    char want[32];
    snprintf(want, sizeof want, "%zu", n);
    assert_string_equal(r.body, want);
    free(r.body);
    assert_int_equal(atomic_load(&stream_ended), ended + 1);
    pthread_mutex_lock(&stream_mu);
    assert_int_equal(stream_len, n);
    assert_memory_equal(stream_buf, data, n);
    pthread_mutex_unlock(&stream_mu);

    /* chunked, too */
    fd = connect_to(port, 5);
    const char raw[] = "PUT /stream/s2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "3\r\nabc\r\n1\r\nd\r\na\r\nefghijklmn\r\n0\r\n\r\n";
    assert_int_equal(send_all(fd, raw, sizeof raw - 1), 0);
    read_resp(fd, &r, 0);
    close(fd);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "14");
    free(r.body);
    pthread_mutex_lock(&stream_mu);
    assert_int_equal(stream_len, 14);
    assert_memory_equal(stream_buf, "abcdefghijklmn", 14);
    pthread_mutex_unlock(&stream_mu);
    free(data);
}

static void test_streaming_abort(void **state)
{
    (void)state;
    int aborted = atomic_load(&stream_aborted);
    int ended = atomic_load(&stream_ended);
    int begun = atomic_load(&stream_begun);
    int fd = connect_to(port, 5);
    const char head[] = "PUT /stream/ab HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n";
    assert_int_equal(send_all(fd, head, sizeof head - 1), 0);
    char part[1000];
    memset(part, 'z', sizeof part);
    assert_int_equal(send_all(fd, part, sizeof part), 0);
    assert_true(wait_for(&stream_begun, begun + 1, 2000));
    close(fd);
    assert_true(wait_for(&stream_aborted, aborted + 1, 3000));
    assert_int_equal(atomic_load(&stream_ended), ended);
}

static void test_idle_timeout(void **state)
{
    (void)state;
    /* connection_timeout_s is 1: an idle client is closed within a few seconds */
    int fd = connect_to(port, 6);
    int64_t t0 = hh_time_mono_ms();
    char c;
    ssize_t n = recv(fd, &c, 1, 0);
    int64_t took = hh_time_mono_ms() - t0;
    close(fd);
    assert_int_equal(n, 0);
    assert_true(took >= 500 && took < 4000);

    /* a client that never finishes its headers, likewise */
    fd = connect_to(port, 6);
    const char part[] = "GET /hello HTTP/1.1\r\nHost: x\r\n";
    assert_int_equal(send_all(fd, part, sizeof part - 1), 0);
    t0 = hh_time_mono_ms();
    n = recv(fd, &c, 1, 0);
    took = hh_time_mono_ms() - t0;
    close(fd);
    assert_true(n <= 0);
    assert_true(took < 4000);
}

/*
 * A client trickling its headers (a byte every 250 ms, never idle for the
 * 1 s timeout) is still cut off: the header deadline, not MHD's idle timer.
 */
static void test_slowloris_cut_off(void **state)
{
    (void)state;
    int fd = connect_to(port, 2);
    const char raw[] =
        "GET /hello HTTP/1.1\r\nHost: x\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    int64_t t0 = hh_time_mono_ms();
    int cut = 0;
    for (size_t i = 0; i < sizeof raw - 1 && !cut; i++) {
        if (send(fd, raw + i, 1, MSG_NOSIGNAL) != 1)
            cut = 1;
        struct timespec ts = {0, 250 * 1000 * 1000};
        nanosleep(&ts, NULL);
        char c;
        if (recv(fd, &c, 1, MSG_DONTWAIT) == 0)
            cut = 1;
    }
    int64_t took = hh_time_mono_ms() - t0;
    close(fd);
    assert_true(cut);
    assert_true(took >= 900 && took < 3000);

    /* and a well-behaved client is served meanwhile */
    resp r;
    exchange_str("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    free(r.body);
}

/* Sends n bytes of body one every 250 ms after head; returns the ms until the
 * server cut the connection, or -1 if it never did (then *r holds the answer). */
static int64_t trickle_body(const char *head, size_t n, resp *r)
{
    int fd = connect_to(port, 3);
    assert_int_equal(send_all(fd, head, strlen(head)), 0);
    int64_t t0 = hh_time_mono_ms();
    for (size_t i = 0; i < n; i++) {
        struct timespec ts = {0, 250 * 1000 * 1000};
        nanosleep(&ts, NULL);
        char c;
        if (send(fd, "x", 1, MSG_NOSIGNAL) != 1 || recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) == 0) {
            close(fd);
            return hh_time_mono_ms() - t0;
        }
    }
    read_resp(fd, r, 0);
    close(fd);
    return -1;
}

/* A buffered body trickled slower than the timeout allows is cut off; a
 * streaming body at the same pace (never idle for 1 s, and above the
 * server's minimum rate of 2 bytes a second) is not. */
static void test_slow_body(void **state)
{
    (void)state;
    resp r;
    int before = atomic_load(&small_calls);
    int64_t took =
        trickle_body("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\n", 16, &r);
    assert_true(took >= 0 && took < 3000);
    assert_int_equal(atomic_load(&small_calls), before);

    took =
        trickle_body("PUT /stream/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n", 10, &r);
    assert_int_equal(took, -1);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "10");
    free(r.body);
}

/* On a server whose minimum body rate is 1000 bytes a second, the same 4-bytes-a-second
 * stream is cut once the 1 s grace has passed: trickling is no way to hold a slot. */
static void test_stream_below_min_rate(void **state)
{
    (void)state;
    http_config cfg = {.listen = "127.0.0.1:0",
                       .threads = 1,
                       .connection_timeout_s = 1,
                       .routes = routes,
                       .guard = guard,
                       .min_body_rate = 1000};
    http_server *other = NULL;
    assert_int_equal(http_server_new(&cfg, &other), HH_OK);
    unsigned shared = port;
    port = http_server_port(other);
    resp r;
    memset(&r, 0, sizeof r);
    int64_t took =
        trickle_body("PUT /stream/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n", 40, &r);
    port = shared;
    http_server_free(other);
    free(r.body);
    assert_true(took >= 0); /* cut, not answered after all 40 bytes */
}

static void test_huge_header_block(void **state)
{
    (void)state;
    size_t big = 100 * 1024;
    char *raw = malloc(big + 256);
    assert_non_null(raw);
    int hl = snprintf(raw, 256, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(raw + hl, 'x', big);
    memcpy(raw + hl + big, "\r\n\r\n", 4);
    int fd = connect_to(port, 5);
    /* the server may stop reading and answer before we have sent it all */
    (void)send_all(fd, raw, (size_t)hl + big + 4);
    free(raw);
    resp r;
    read_resp(fd, &r, 0);
    close(fd);
    /* libmicrohttpd 0.9.75 answers 431 (Request Header Fields Too Large) and closes */
    assert_int_equal(r.status, 431);
    free(r.body);

    /* the server survives and still serves */
    exchange_str("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    free(r.body);
}

static void *slow_client(void *arg)
{
    resp *r = arg;
    int fd = raw_connect(port, 10);
    if (fd >= 0) {
        const char raw[] = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
        if (send_all(fd, raw, sizeof raw - 1) == 0) {
            char buf[1024];
            size_t have = 0;
            ssize_t n;
            while (have < sizeof buf - 1 &&
                   (n = recv(fd, buf + have, sizeof buf - 1 - have, 0)) > 0)
                have += (size_t)n;
            buf[have] = '\0';
            r->status = strncmp(buf, "HTTP/1.1 ", 9) ? 0 : (int)strtol(buf + 9, NULL, 10);
            const char *body = strstr(buf, "\r\n\r\n");
            snprintf(r->head, sizeof r->head, "%s", body ? body + 4 : "");
        }
        close(fd);
    }
    return NULL;
}

/* A second server on a port in use fails (no SO_REUSEPORT sharing); a bad address too. */
static void test_port_in_use(void **state)
{
    (void)state;
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", port);
    http_config cfg = {.listen = listen, .threads = 1, .routes = routes};
    http_server *other = NULL;
    assert_int_equal(http_server_new(&cfg, &other), HH_ERR_IO);
    assert_null(other);
    static const char *const bad[] = {"nohost",  "127.0.0.1:",   "127.0.0.1:70000",
                                      "[::1:80", "300.1.1.1:80", ":80"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cfg.listen = bad[i];
        assert_int_equal(http_server_new(&cfg, &other), HH_ERR_INVALID);
        assert_null(other);
    }
}

/*
 * A handler that waits runs on the work pool, off the connection threads:
 * more of them wait at once than the server has connection threads (2),
 * and another route is still answered meanwhile; each gets its reply once
 * let go.
 */
static void test_blocking_route_off_connection_threads(void **state)
{
    (void)state;
    enum { N = 5 };
    int fd[N];
    atomic_store(&gate_in, 0);
    for (int i = 0; i < N; i++) {
        fd[i] = connect_to(port, 30);
        assert_int_equal(send_all(fd[i], "GET /gate HTTP/1.1\r\nHost: t\r\n\r\n", 32), 0);
    }
    assert_true(wait_for(&gate_in, N, 15000)); /* inline, at most 2 would ever get in */
    resp r;
    exchange_str("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello, world\n");
    free(r.body);
    pthread_mutex_lock(&gate_mu);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    for (int i = 0; i < N; i++) {
        read_resp(fd[i], &r, 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "opened");
        free(r.body);
        close(fd[i]);
    }
}

/*
 * The fallback 500 (a reply whose JSON could not be built) declares exactly
 * the bytes of its text: once it declared 63 for 62 and sent a stray NUL,
 * which the next pipelined response then began with.
 */
static void test_fallback_500_exact(void **state)
{
    (void)state;
    static const char req2[] = "GET /nobody HTTP/1.1\r\nHost: t\r\n\r\n"
                               "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    int fd = connect_to(port, 5);
    assert_int_equal(send_all(fd, req2, sizeof req2 - 1), 0);
    resp r;
    read_resp(fd, &r, 0);
    assert_envelope(&r, 500, "internal_error");
    assert_int_equal(strlen(r.body), r.body_len); /* no NUL inside what was declared */
    assert_string_equal(r.body,
                        "{\"error\":{\"code\":\"internal_error\",\"message\":\"Out of memory.\"}}");
    free(r.body);
    read_resp(fd, &r, 0); /* starts with "HTTP/1.1 ", not a stray byte */
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello, world\n");
    free(r.body);
    close(fd);
}

/* Runs last: frees the shared server while a slow request is in flight. */
static void test_free_lets_request_finish(void **state)
{
    (void)state;
    resp r;
    memset(&r, 0, sizeof r);
    atomic_store(&slow_started, 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, slow_client, &r), 0);
    assert_true(wait_for(&slow_started, 1, 3000));
    int64_t t0 = hh_time_mono_ms();
    http_server_free(srv);
    srv = NULL;
    int64_t took = hh_time_mono_ms() - t0;
    pthread_join(t, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.head, "slow");
    assert_true(took >= 500); /* it waited for the handler */
    /* nothing listens any more */
    assert_int_equal(raw_connect(port, 1), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo_and_request_ids),
        cmocka_unit_test(test_framing_refused),
        cmocka_unit_test(test_body_limits),
        cmocka_unit_test(test_json_refusals),
        cmocka_unit_test(test_routing_errors),
        cmocka_unit_test(test_head_and_cors),
        cmocka_unit_test(test_guard_before_body),
        cmocka_unit_test(test_streaming_whole_and_in_order),
        cmocka_unit_test(test_streaming_abort),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_slowloris_cut_off),
        cmocka_unit_test(test_slow_body),
        cmocka_unit_test(test_stream_below_min_rate),
        cmocka_unit_test(test_huge_header_block),
        cmocka_unit_test(test_port_in_use),
        cmocka_unit_test(test_blocking_route_off_connection_threads),
        cmocka_unit_test(test_fallback_500_exact),
        cmocka_unit_test(test_free_lets_request_finish),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
