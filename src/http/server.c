/*
 * server.c - libmicrohttpd glue: one http_req per request, framing checks,
 * routing, the guard, buffered and streaming bodies, replies, the access
 * log and metrics.
 *
 * The threads that read and write sockets never run code that may wait
 * on the store: the guard (with a stream's on_begin) and the handler (or
 * on_end) of a route without HTTP_ROUTE_INLINE run on the work pool
 * (http/workq.h) while libmicrohttpd holds the connection suspended, so a
 * locked database stalls only the requests that need it, never /healthz
 * or the other connections of the same thread, and creates waiting for
 * their group commit (store.h) hold pool threads, so that as many can
 * share a commit as the pool has threads. A request without a body makes
 * one hop (guard and handler together); one with a body makes two,
 * because the guard must decide before the body is read.
 *
 * libmicrohttpd lets a response be queued only on the first call of the
 * access handler (headers read, no body yet) or on the last (whole body
 * read). Handlers may reply at any time through http_reply_*, which only
 * builds the response; queue_pending() hands it to MHD at the next moment
 * MHD accepts it. Body bytes that arrive after a reply is built are
 * discarded (bounded: see DISCARD_MAX), never buffered.
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/access_log.h"
#include "http/json_body.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/netaddr.h"
#include "http/workq.h"
#include "util/crypto.h"
#include "util/keycount.h"
#include "util/log.h"
#include "util/timeutil.h"

#define DEFAULT_MAX_BODY (64 * 1024)
/* MHD zeroes a connection's whole pool before each request: a size paid on every request. */
#define DEFAULT_CONN_MEM   (32 * 1024)
#define DEFAULT_CONN_LIMIT 1024
#define DEFAULT_TIMEOUT_S  30
/* Work pool threads: they mostly wait on I/O, not the CPU; also the most creates one group
 * commit can gather. */
#define DEFAULT_POOL       32
#define DEFAULT_QUEUE_WAIT 10000 /* ms a request may wait for a pool thread before a 503 */
#define DEFAULT_BODY_RATE  16384 /* bytes/s a streaming body averages after its grace */
#define STOP_WAIT_MS       10000
/* After replying early, at most the route's body limit and this much more is read and
 * dropped (so the client can read our answer) before we hang up. */
#define DISCARD_MAX (1024 * 1024)
/* How often the header-deadline reaper looks at the open connections. */
#define REAP_EVERY_MS 200

typedef struct hdr {
    struct hdr *next;
    char *name;
    char *value;
} hdr;

/*
 * One open connection, for the deadlines. libmicrohttpd's timeout counts
 * from the last byte received, so a client trickling its headers a byte a
 * second is never idle and would hold its slot for ever (slowloris). The
 * reaper shuts down a connection whose request has not fully arrived
 * within the timeout of the connection opening or its previous response:
 * the header block, and for a buffered route (64 KiB by default) its body
 * too. A streaming route's body (an upload) has its own rule instead: after
 * the same timeout as a grace, it must keep up an average of min_body_rate
 * bytes a second since it began, which is also a deadline for the whole
 * body (at that rate, its declared length). And a client address holds at
 * most per_ip_limit connections; the ones past it are shut at once.
 */
typedef struct conn_track {
    struct conn_track *prev, *next;
    int fd;
    atomic_llong waiting_since_ms; /* 0 once the request is in (or streaming) */
    atomic_llong stream_since_ms;  /* when a streaming body began; 0 when none */
    atomic_llong stream_received;  /* its bytes so far */
    int reaped;
    char ip[HTTP_ADDR_MAX]; /* the address counted in per_ip; "" when not counted */
} conn_track;

struct http_server {
    struct MHD_Daemon *daemon;
    http_config cfg;
    unsigned port;
    http_metrics *metrics;
    atomic_int in_flight;
    workq *pool;           /* runs the parts of requests that may wait */
    int64_t queue_wait_ms; /* longer in the queue: 503 without running */

    keycount *per_ip;         /* connections per client address (NULL: no limit) */
    atomic_int refused_conns; /* shut for per_ip_limit since the reaper last said so */
    pthread_mutex_t conns_mu; /* guards conns, reaped, reaper_stop */
    pthread_cond_t reaper_cv;
    conn_track *conns;
    int64_t header_timeout_ms;
    unsigned min_body_rate; /* bytes/s a streaming body must average (after the grace) */
    int reaper_stop;
    int reaper_running;
    pthread_t reaper;

    pthread_mutex_t push_mu; /* guards pushes */
    http_push *pushes;       /* pushed bodies still open: ended at shutdown */
};

/* Where a request stands with the work pool. */
enum hop {
    HOP_NONE,
    HOP_BEGIN,  /* the guard (and a stream's on_begin; a bodiless request's handler too) */
    HOP_FINISH, /* the handler or on_end, the body being in */
};

struct http_req {
    workq_item item; /* first: the pool hands back the request itself */
    http_server *srv;
    struct MHD_Connection *conn;
    router_match match;
    const http_route *route;
    http_method method;
    char *path;
    char id[65];
    int64_t start_us;
    int64_t content_length; /* -1 when not declared */
    int chunked;            /* Transfer-Encoding: chunked (a body may follow) */
    enum hop hop;           /* the hop in progress or just back */
    int hop_back;           /* the pool has resumed the connection: the next call is its return */

    char *body;
    size_t body_len, body_cap, max_body;
    size_t discarded;
    json_t *json;

    int streaming; /* on_begin ran and neither on_end nor on_abort yet */
    int handled;   /* the handler (or on_end) has run */

    struct MHD_Response *resp; /* built, not yet queued */
    unsigned status;
    int queued;
    int close_after;
    uint64_t bytes_out;
    hdr *headers;

    void *user;
    void (*user_free)(void *);
    char client_ip[INET6_ADDRSTRLEN]; /* filled on first http_req_client_ip */
};

/* ---------------------------------------------------------------- helpers */

static void hdr_free_all(hdr *h)
{
    while (h) {
        hdr *next = h->next;
        free(h->name);
        free(h->value);
        free(h);
        h = next;
    }
}

static int sane_request_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/*
 * A generated request id: 24 hex digits, 16 of a random number drawn once
 * per thread and 8 of that thread's request count. Ids must be unique, not
 * secret, so the CSPRNG is not asked for every request.
 */
static void generate_request_id(char *out, size_t size)
{
    static _Thread_local uint64_t seed;
    static _Thread_local uint32_t count;
    uint8_t raw[sizeof seed];
    if (!seed) {
        if (crypto_random(raw, sizeof raw))
            seed = (uint64_t)hh_time_mono_us() ^ (uint64_t)(uintptr_t)&seed;
        else
            memcpy(&seed, raw, sizeof seed);
        seed |= 1; /* drawn: never 0 again */
    }
    snprintf(out, size, "%016llx%08x", (unsigned long long)seed, (unsigned)count++);
}

static void make_request_id(http_req *req)
{
    const char *given = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Request-Id");
    if (sane_request_id(given))
        snprintf(req->id, sizeof req->id, "%s", given);
    else
        generate_request_id(req->id, sizeof req->id);
}

static void req_free(http_req *req)
{
    if (!req)
        return;
    if (req->user && req->user_free)
        req->user_free(req->user);
    if (req->resp)
        MHD_destroy_response(req->resp);
    hdr_free_all(req->headers);
    json_decref(req->json);
    free(req->body);
    free(req->path);
    free(req);
}

/* ---------------------------------------------------------------- replies */

/* Adds our standard headers and the handler's, then keeps resp until it can be queued. */
static void set_response(http_req *req, unsigned status, struct MHD_Response *resp,
                         const char *content_type)
{
    if (req->resp || req->queued) {
        /* A second reply is a bug in a handler; keep the first, say so once. */
        hh_error("route %s replied twice", req->route ? req->route->name : "?");
        if (resp)
            MHD_destroy_response(resp);
        return;
    }
    if (!resp) {
        hh_error("cannot build a response (out of memory)");
        return;
    }
    /* Every 503 says when to come back (RFC 9110 15.6.4), unless the handler said already. */
    int has_retry = 0;
    for (hdr *h = req->headers; h && !has_retry; h = h->next)
        has_retry = !strcasecmp(h->name, "Retry-After");
    if (status == 503 && !has_retry)
        MHD_add_response_header(resp, "Retry-After", "1");
    MHD_add_response_header(resp, "X-Request-Id", req->id);
    if (content_type)
        MHD_add_response_header(resp, "Content-Type", content_type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (req->route && (req->route->flags & HTTP_ROUTE_CORS)) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
        MHD_add_response_header(resp, "Access-Control-Expose-Headers",
                                "ETag, Content-Length, Content-Range, Accept-Ranges, "
                                "X-Request-Id");
    }
    for (hdr *h = req->headers; h; h = h->next)
        MHD_add_response_header(resp, h->name, h->value);
    if (req->close_after)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    req->resp = resp;
    req->status = status;
}

/* Queues the built response if MHD is at a point where it accepts one. */
static enum MHD_Result queue_pending(http_req *req)
{
    if (!req->resp || req->queued)
        return MHD_YES;
    enum MHD_Result r = MHD_queue_response(req->conn, req->status, req->resp);
    MHD_destroy_response(req->resp);
    req->resp = NULL;
    req->queued = 1;
    return r;
}

void http_req_add_header(http_req *req, const char *name, const char *value)
{
    hdr *h = calloc(1, sizeof *h);
    if (!h)
        return;
    h->name = strdup(name);
    h->value = strdup(value);
    if (!h->name || !h->value) {
        hdr_free_all(h);
        return;
    }
    h->next = req->headers;
    req->headers = h;
}

void http_reply_bytes(http_req *req, unsigned status, const char *content_type, const void *body,
                      size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
    req->bytes_out = len;
    set_response(req, status, resp, content_type);
}

void http_reply_json(http_req *req, unsigned status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(body);
    if (!text) {
        static const char oom[] =
            "{\"error\":{\"code\":\"internal_error\",\"message\":\"Out of memory.\"}}";
        http_reply_bytes(req, 500, "application/json", oom,
                         sizeof oom - 1); /* no NUL on the wire */
        return;
    }
    size_t len = strlen(text);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp)
        free(text);
    req->bytes_out = len;
    set_response(req, status, resp, "application/json");
}

void http_reply_fd(http_req *req, unsigned status, const char *content_type, int fd,
                   uint64_t offset, uint64_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(len, fd, offset);
    if (!resp)
        close(fd);
    req->bytes_out = len;
    set_response(req, status, resp, content_type);
}

json_t *http_error_body(api_error code, const char *message, json_t *extra)
{
    json_t *err = json_pack("{s:s, s:s}", "code", api_error_code(code), "message", message);
    if (err && extra)
        json_object_update(err, extra);
    json_decref(extra);
    return err ? json_pack("{s:o}", "error", err) : NULL;
}

void http_reply_error_status(http_req *req, unsigned status, api_error code, const char *message,
                             json_t *extra)
{
    json_t *body = http_error_body(code, message, extra);
    if (body && req->route && (req->route->flags & HTTP_ROUTE_ERROR_SHAPE) &&
        req->srv->cfg.error_shape)
        body = req->srv->cfg.error_shape(status, body);
    http_reply_json(req, status, body);
}

void http_reply_error(http_req *req, api_error code, const char *message, json_t *extra)
{
    http_reply_error_status(req, api_error_http_status(code), code, message, extra);
}

/* ---------------------------------------------------------- pushed bodies */

/*
 * A pushed body is shared by the app (which writes) and the response
 * (MHD's reader and free callbacks): each holds a reference. The reader
 * runs on the connection's socket thread; when it finds nothing to send it
 * suspends the connection (libmicrohttpd's way to stream without busy
 * waiting), and the next write or the end resumes it. suspended is set
 * and cleared under mu, so a resume never misses a suspend nor comes
 * twice, and conn is used only while the response lives (a suspended
 * connection is never closed by MHD, so a resume finds it alive).
 */
struct http_push {
    pthread_mutex_t mu;
    int refs;
    http_server *srv;
    struct MHD_Connection *conn; /* NULL once the response is freed */
    char *buf;                   /* bytes not yet sent: buf[off..len) */
    size_t off, len, cap;
    int suspended;          /* the reader suspended conn: a write or the end resumes it */
    int ended;              /* no more writes: end of body after buf */
    int closed;             /* the response is freed (sent, or the client went away) */
    http_push *prev, *next; /* srv->pushes, while the response lives */
};

static void push_unref(http_push *p)
{
    pthread_mutex_lock(&p->mu);
    int left = --p->refs;
    pthread_mutex_unlock(&p->mu);
    if (left)
        return;
    pthread_mutex_destroy(&p->mu);
    free(p->buf);
    free(p);
}

/* Resumes the connection if the reader suspended it; with p->mu held. */
static void push_wake_locked(http_push *p)
{
    if (p->suspended && p->conn) {
        p->suspended = 0;
        MHD_resume_connection(p->conn);
    }
}

static ssize_t push_read(void *cls, uint64_t pos, char *out, size_t max)
{
    http_push *p = cls;
    ssize_t n = 0;
    (void)pos;
    pthread_mutex_lock(&p->mu);
    if (p->len > p->off) {
        size_t take = p->len - p->off < max ? p->len - p->off : max;
        memcpy(out, p->buf + p->off, take);
        p->off += take;
        if (p->off == p->len)
            p->off = p->len = 0;
        n = (ssize_t)take;
    } else if (p->ended) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        p->suspended = 1;
        MHD_suspend_connection(p->conn);
    }
    pthread_mutex_unlock(&p->mu);
    return n;
}

static void push_list_remove(http_server *srv, http_push *p)
{
    pthread_mutex_lock(&srv->push_mu);
    if (p->prev)
        p->prev->next = p->next;
    else if (srv->pushes == p)
        srv->pushes = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->prev = p->next = NULL;
    pthread_mutex_unlock(&srv->push_mu);
}

/* MHD is done with the response: the body was sent or the client went away. */
static void push_response_free(void *cls)
{
    http_push *p = cls;
    push_list_remove(p->srv, p);
    pthread_mutex_lock(&p->mu);
    p->closed = 1;
    p->conn = NULL;
    pthread_mutex_unlock(&p->mu);
    push_unref(p);
}

http_push *http_reply_push(http_req *req, unsigned status, const char *content_type)
{
    http_push *p = calloc(1, sizeof *p);
    if (!p) {
        http_reply_error(req, API_ERR_INTERNAL_ERROR, "Out of memory.", NULL);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    p->refs = 2; /* the caller's and the response's */
    p->srv = req->srv;
    p->conn = req->conn;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, push_read, p, push_response_free);
    if (!resp) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        http_reply_error(req, API_ERR_INTERNAL_ERROR, "Out of memory.", NULL);
        return NULL;
    }
    pthread_mutex_lock(&req->srv->push_mu);
    p->next = req->srv->pushes;
    if (p->next)
        p->next->prev = p;
    req->srv->pushes = p;
    pthread_mutex_unlock(&req->srv->push_mu);
    set_response(req, status, resp, content_type);
    return p;
}

hh_status http_push_write(http_push *p, const void *data, size_t len)
{
    hh_status rc = HH_OK;
    pthread_mutex_lock(&p->mu);
    if (p->closed || p->ended) {
        rc = HH_ERR_CANCELED;
    } else if (p->len - p->off + len > HTTP_PUSH_MAX) {
        p->ended = 1; /* a client this far behind is not reading: let it go */
        rc = HH_ERR_LIMIT;
    } else {
        if (p->off) { /* slide what is left to the front before growing */
            memmove(p->buf, p->buf + p->off, p->len - p->off);
            p->len -= p->off;
            p->off = 0;
        }
        if (p->len + len > p->cap) {
            size_t cap = p->cap ? p->cap : 1024;
            while (cap < p->len + len)
                cap *= 2;
            char *b = realloc(p->buf, cap);
            if (!b)
                rc = HH_ERR_NOMEM;
            else
                p->buf = b, p->cap = cap;
        }
        if (!rc) {
            memcpy(p->buf + p->len, data, len);
            p->len += len;
        }
    }
    push_wake_locked(p);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void http_push_end(http_push *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->ended = 1;
    push_wake_locked(p);
    pthread_mutex_unlock(&p->mu);
}

int http_push_closed(http_push *p)
{
    pthread_mutex_lock(&p->mu);
    int closed = p->closed || p->ended;
    pthread_mutex_unlock(&p->mu);
    return closed;
}

void http_push_release(http_push *p)
{
    if (!p)
        return;
    http_push_end(p);
    push_unref(p);
}

/* Ends every open pushed body, so that its connection finishes and the server can stop. */
static void push_end_all(http_server *srv)
{
    pthread_mutex_lock(&srv->push_mu);
    for (http_push *p = srv->pushes; p; p = p->next)
        http_push_end(p);
    pthread_mutex_unlock(&srv->push_mu);
}

/* ------------------------------------------------------------- accessors */

http_method http_req_method(const http_req *req)
{
    return req->method;
}

const char *http_req_path(const http_req *req)
{
    return req->path;
}

const char *http_req_id(const http_req *req)
{
    return req->id;
}

const char *http_req_header(const http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_req_query(const http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_req_param(const http_req *req, const char *name)
{
    for (size_t i = 0; i < req->match.nparams; i++)
        if (!strcmp(req->match.params[i].name, name))
            return req->match.params[i].value;
    return NULL;
}

const char *http_req_tail(const http_req *req)
{
    return req->match.tail ? req->match.tail : "";
}

/* The address of conn's peer as text into buf (HTTP_ADDR_MAX); "unknown" if it has none. */
static void peer_address(struct MHD_Connection *conn, char *buf, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    const void *addr = NULL;
    if (sa && sa->sa_family == AF_INET)
        addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    else if (sa && sa->sa_family == AF_INET6)
        addr = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (!addr || !inet_ntop(sa->sa_family, addr, buf, (socklen_t)size))
        snprintf(buf, size, "unknown");
}

const char *http_req_client_ip(http_req *req)
{
    if (req->client_ip[0])
        return req->client_ip;
    char peer[HTTP_ADDR_MAX];
    peer_address(req->conn, peer, sizeof peer);
    http_client_behind(req->srv->cfg.trusted_proxies, peer,
                       MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Forwarded-For"),
                       req->client_ip, sizeof req->client_ip);
    return req->client_ip;
}

const char *http_req_body(const http_req *req, size_t *len)
{
    *len = req->body_len;
    return req->body ? req->body : "";
}

int64_t http_req_content_length(const http_req *req)
{
    return req->content_length;
}

json_t *http_req_json(http_req *req)
{
    if (req->json)
        return req->json;
    hh_errdetail d;
    if (json_body_parse(req->body ? req->body : "", req->body_len, &req->json, &d)) {
        http_reply_error(req, API_ERR_INVALID_INPUT, d.message, NULL);
        return NULL;
    }
    return req->json;
}

/* What http_req_form's MHD iterator passes on. */
typedef struct form_ctx {
    http_form_fn cb;
    void *ctx;
    int stopped;
} form_ctx;

static enum MHD_Result form_piece(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *filename, const char *content_type,
                                  const char *transfer_encoding, const char *data, uint64_t off,
                                  size_t size)
{
    form_ctx *f = cls;
    (void)kind;
    (void)transfer_encoding;
    if (f->cb(f->ctx, key ? key : "", filename, content_type, data ? data : "", off, size)) {
        f->stopped = 1;
        return MHD_NO;
    }
    return MHD_YES;
}

hh_status http_req_form(http_req *req, http_form_fn cb, void *ctx)
{
    form_ctx f = {cb, ctx, 0};
    /* The parser's own buffer bounds a plain field's pieces, not the body. */
    struct MHD_PostProcessor *pp = MHD_create_post_processor(req->conn, 16 * 1024, form_piece, &f);
    if (!pp)
        return HH_ERR_INVALID;
    enum MHD_Result r = MHD_post_process(pp, req->body ? req->body : "", req->body_len);
    enum MHD_Result end = MHD_destroy_post_processor(pp);
    if (f.stopped)
        return HH_ERR_CANCELED;
    return r == MHD_YES && end == MHD_YES ? HH_OK : HH_ERR_INVALID;
}

void http_req_set_user(http_req *req, void *user, void (*user_free)(void *))
{
    req->user = user;
    req->user_free = user_free;
}

void *http_req_user(const http_req *req)
{
    return req->user;
}

/* ------------------------------------------------------- framing checks */

typedef struct framing {
    int content_length;
    int transfer_encoding;
    int te_chunked;
    int bad_name; /* a field name that is not an RFC 9110 token */
    int64_t length;
} framing;

/*
 * 1 when name is a field name of RFC 9110 (a token: 1 or more of
 * ALPHA DIGIT and !#$%&'*+-.^_`|~). libmicrohttpd keeps "Content-Length "
 * of "Content-Length : 47" as a name of its own, so without this check the
 * body would be read as the next request (RFC 9112 5.1 asks for a 400).
 */
static int field_name_ok(const char *name)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~0123456789"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    size_t n = strlen(name);
    return n > 0 && strspn(name, tchar) == n;
}

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    framing *f = cls;
    if (!key || !field_name_ok(key)) {
        f->bad_name++;
    } else if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
        f->content_length++;
        /* 1*DIGIT (RFC 9110 8.6): no sign, no spaces, no hex. */
        size_t n = value ? strlen(value) : 0;
        int digits = n > 0 && n <= 18 && strspn(value, "0123456789") == n;
        f->length = digits ? strtoll(value, NULL, 10) : -2;
    } else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
        f->transfer_encoding++;
        f->te_chunked = value && !strcasecmp(value, "chunked");
    }
    return MHD_YES;
}

/* Refuses framings that let a proxy and us disagree on where a body ends. */
static int check_framing(http_req *req)
{
    framing f = {0, 0, 0, 0, -1};
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, count_framing, &f);
    req->content_length = f.content_length == 1 ? f.length : -1;
    req->chunked = f.te_chunked;
    const char *why = NULL;
    if (f.bad_name)
        why = "Malformed header field name (no spaces or separators before the colon).";
    else if (f.content_length > 1)
        why = "More than one Content-Length header.";
    else if (f.content_length && f.transfer_encoding)
        why = "Transfer-Encoding and Content-Length together.";
    else if (f.transfer_encoding > 1 || (f.transfer_encoding && !f.te_chunked))
        why = "Only 'Transfer-Encoding: chunked' is supported.";
    else if (f.length == -2)
        why = "Content-Length is not a number.";
    if (!why)
        return 0;
    req->close_after = 1;
    http_reply_error(req, API_ERR_INVALID_INPUT, why, NULL);
    return 1;
}

/* ------------------------------------------------------- the handler */

static void reply_not_routed(http_req *req, hh_status rc)
{
    if (rc == HH_ERR_CONFLICT) {
        char allow[96];
        router_allow_header(req->match.allowed, allow, sizeof allow);
        http_req_add_header(req, "Allow", allow);
        http_reply_error_status(req, 405, API_ERR_INVALID_INPUT,
                                "Method not allowed on this route.", NULL);
    } else if (rc == HH_ERR_LIMIT) {
        http_reply_error(req, API_ERR_INVALID_INPUT, "Request path too long.", NULL);
    } else {
        http_reply_error(req, API_ERR_NOT_FOUND, "No such route.", NULL);
    }
}

static void reply_preflight(http_req *req)
{
    char allow[96];
    router_allow_header(req->match.allowed, allow, sizeof allow);
    http_req_add_header(req, "Access-Control-Allow-Methods", allow);
    http_req_add_header(req, "Access-Control-Allow-Headers",
                        "Authorization, Content-Type, Idempotency-Key, X-Request-Id, Range");
    http_req_add_header(req, "Access-Control-Max-Age", "600");
    http_reply_bytes(req, 204, NULL, NULL, 0);
}

static void reply_too_large(http_req *req)
{
    char msg[96];
    snprintf(msg, sizeof msg, "Request body too large (limit %zu bytes).", req->max_body);
    req->close_after = 1;
    http_reply_error(req, API_ERR_INVALID_INPUT, msg, NULL);
}

/* 503 with Retry-After: the pool is stopping or its queue waited too long. */
static void reply_unavailable(http_req *req)
{
    http_reply_error_status(req, 503, API_ERR_UNAVAILABLE,
                            "The server is too busy to take this request now; retry shortly.",
                            NULL);
}

/* First call, the part that never waits: framing, the route, a preflight. */
static void begin_headers(http_req *req, const char *url, const char *method)
{
    http_server *srv = req->srv;
    req->method = router_method(method);
    make_request_id(req);
    if (check_framing(req))
        return;
    hh_status rc = router_match_path(srv->cfg.routes, req->method, url, &req->match);
    if (rc) {
        reply_not_routed(req, rc);
        return;
    }
    req->route = req->match.route;
    if (req->method == HTTP_OPTIONS && (req->route->flags & HTTP_ROUTE_CORS)) {
        reply_preflight(req);
        return;
    }
    req->max_body = req->route->max_body ? req->route->max_body : srv->cfg.max_body;
}

/* First call, the part that may wait (the pool's, unless the route is inline): the guard. */
static void begin_guarded(http_req *req)
{
    http_server *srv = req->srv;
    if (srv->cfg.guard && srv->cfg.guard(req, req->route, srv->cfg.app))
        return;
    if (req->route->stream) {
        if (req->route->stream->on_begin(req, srv->cfg.app) == HH_OK)
            req->streaming = 1;
        return;
    }
    if (req->content_length > (int64_t)req->max_body)
        reply_too_large(req);
}

static conn_track *track_of(struct MHD_Connection *conn);

static void take_body(http_req *req, const char *data, size_t size)
{
    if (req->resp || req->queued) {
        req->discarded += size;
        return;
    }
    if (req->streaming) {
        conn_track *t = track_of(req->conn);
        if (t)
            atomic_fetch_add(&t->stream_received, (long long)size);
        if (req->route->stream->on_data(req, req->srv->cfg.app, data, size) != HH_OK) {
            req->streaming = 0;
            if (req->route->stream->on_abort)
                req->route->stream->on_abort(req, req->srv->cfg.app);
            if (!req->resp)
                http_reply_error(req, API_ERR_INTERNAL_ERROR, "Upload failed.", NULL);
            req->close_after = 1;
        }
        return;
    }
    if (req->body_len + size > req->max_body) {
        reply_too_large(req);
        req->discarded += size;
        return;
    }
    if (req->body_len + size + 1 > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : 1024;
        while (cap < req->body_len + size + 1)
            cap *= 2;
        if (cap > req->max_body + 1)
            cap = req->max_body + 1;
        char *b = realloc(req->body, cap);
        if (!b) {
            http_reply_error(req, API_ERR_INTERNAL_ERROR, "Out of memory.", NULL);
            return;
        }
        req->body = b;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, size);
    req->body_len += size;
    req->body[req->body_len] = '\0';
}

/* Runs the route's handler (or on_end); a handler that did not reply gets a 500. */
static void run_handler(http_req *req)
{
    void *app = req->srv->cfg.app;
    if (req->streaming) {
        req->streaming = 0;
        req->route->stream->on_end(req, app);
    } else if (req->route && req->route->handler) {
        req->route->handler(req, app);
    }
    if (!req->resp && !req->queued) {
        hh_error("route %s did not reply", req->route ? req->route->name : "?");
        http_reply_error(req, API_ERR_INTERNAL_ERROR, "The server did not answer.", NULL);
    }
}

/* Last call: the whole body is in. */
static void finish_request(http_req *req)
{
    if (req->resp || req->queued || req->handled)
        return;
    req->handled = 1;
    run_handler(req);
}

/* Whether the route's guard and handler run on the socket thread (they never wait). */
static int runs_inline(const http_req *req)
{
    return !req->srv->pool || (req->route->flags & HTTP_ROUTE_INLINE);
}

/* Whether a body follows the headers (MHD reads it after the first call). */
static int expects_body(const http_req *req)
{
    return req->content_length > 0 || req->chunked;
}

/* The pool's side of a hop: runs the stage, then hands the connection back to MHD. */
static void run_hop(workq_item *item, int64_t waited_ms, int stopping)
{
    http_req *req = (http_req *)(void *)item;
    if (stopping || waited_ms > req->srv->queue_wait_ms) {
        reply_unavailable(req);
    } else if (req->hop == HOP_BEGIN) {
        begin_guarded(req);
        /* Nothing more will arrive: the handler can run in this same hop. */
        if (!req->resp && !req->route->stream && !expects_body(req))
            finish_request(req);
    } else {
        finish_request(req);
    }
    req->hop_back = 1;
    /* MHD may process (and free) req as soon as this returns: touch nothing after it. */
    MHD_resume_connection(req->conn);
}

static void deadline_clear(struct MHD_Connection *conn);

/* Suspends the connection and queues stage of req on the pool. */
static enum MHD_Result hop(http_req *req, enum hop stage)
{
    req->hop = stage;
    req->item.fn = run_hop;
    deadline_clear(req->conn); /* waiting for the pool is not the client being slow */
    MHD_suspend_connection(req->conn);
    if (workq_push(req->srv->pool, &req->item) == HH_OK)
        return MHD_YES;
    MHD_resume_connection(req->conn); /* the pool is stopping */
    req->hop = HOP_NONE;
    reply_unavailable(req);
    return queue_pending(req);
}

/* The tracker of conn (NULL if none: untracked or already closed). */
static conn_track *track_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* The request on conn is all in (or streaming): the deadline no longer applies. */
static void deadline_clear(struct MHD_Connection *conn)
{
    conn_track *t = track_of(conn);
    if (t)
        atomic_store(&t->waiting_since_ms, 0);
}

/* The rest of the request (a body) must arrive within the timeout from now. */
static void deadline_restart(struct MHD_Connection *conn)
{
    conn_track *t = track_of(conn);
    if (t)
        atomic_store(&t->waiting_since_ms, hh_time_mono_ms());
}

/* A streaming body begins: the header deadline gives way to the rate rule (conn_track). */
static void stream_started(struct MHD_Connection *conn)
{
    conn_track *t = track_of(conn);
    if (!t)
        return;
    atomic_store(&t->waiting_since_ms, 0);
    atomic_store(&t->stream_received, 0);
    atomic_store(&t->stream_since_ms, hh_time_mono_ms());
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    http_server *srv = cls;
    http_req *req = *con_cls;
    if (!req) {
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        req->srv = srv;
        req->conn = conn;
        req->start_us = hh_time_mono_us();
        req->content_length = -1;
        req->path = strdup(url ? url : "/");
        *con_cls = req;
        atomic_fetch_add(&srv->in_flight, 1);
        if (!req->path)
            return MHD_NO;
        begin_headers(req, req->path, method);
        if (!req->resp && req->route && !runs_inline(req))
            return hop(req, HOP_BEGIN);
        if (!req->resp && req->route)
            begin_guarded(req);
        /* A stream may take long (a 50 MB upload): it runs under the rate rule instead. */
        if (req->streaming)
            stream_started(conn);
        return queue_pending(req);
    }
    if (req->hop_back) {
        /* MHD calls again once a hop has resumed the connection. */
        enum hop was = req->hop;
        req->hop_back = 0;
        req->hop = HOP_NONE;
        /* Back from the guard with no body to come: the final call, next, sends what the hop
         * built (MHD closes a connection whose answer is queued this early). */
        if (was == HOP_BEGIN && !expects_body(req))
            return MHD_YES;
        if (was == HOP_BEGIN && req->streaming)
            stream_started(conn);
        else if (was == HOP_BEGIN && !req->resp)
            deadline_restart(conn); /* the body is still to come, under the deadline */
        return queue_pending(req);
    }
    if (*upload_data_size) {
        take_body(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        /* Past the discard budget, hang up rather than read an unbounded body. */
        return req->discarded > DISCARD_MAX + req->max_body ? MHD_NO : MHD_YES;
    }
    deadline_clear(conn); /* a buffered request is all in */
    if (!req->resp && !req->queued && !req->handled && req->route && !runs_inline(req))
        return hop(req, HOP_FINISH);
    finish_request(req);
    return queue_pending(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_server *srv = cls;
    http_req *req = *con_cls;
    if (!req)
        return;
    *con_cls = NULL;
    if (req->streaming && req->route->stream->on_abort)
        req->route->stream->on_abort(req, srv->cfg.app);
    unsigned status = req->queued ? req->status : 0;
    int64_t dur = hh_time_mono_us() - req->start_us;
    const char *route = req->route ? req->route->name : (status == 404 ? "unknown" : "none");
    http_metrics_observe(srv->metrics, route, status, dur);
    static const char *const methods[] = {"GET",    "HEAD",  "POST",   "PUT",
                                          "DELETE", "PATCH", "OPTIONS"};
    const char *mname = "OTHER";
    for (int i = 0; i < 7; i++)
        if ((unsigned)req->method == (1u << i))
            mname = methods[i];
    /* The path is the client's bytes (%ff decodes to a stray byte): escaped, never dropped. */
    http_access line = {.method = mname,
                        .route = route,
                        .path = req->path ? req->path : "",
                        .status = status,
                        .duration_us = dur,
                        .request_id = req->id,
                        .bytes = req->bytes_out,
                        .completed = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK};
    http_access_log(&line);
    req_free(req);
    conn_track *t = track_of(conn);
    if (t) { /* a kept-alive connection now waits for the next request's headers */
        atomic_store(&t->stream_since_ms, 0);
        atomic_store(&t->waiting_since_ms, hh_time_mono_ms());
    }
    atomic_fetch_sub(&srv->in_flight, 1);
}

/*
 * Counts a new connection against its address's limit; past the limit it
 * is shut at once (before it sends a byte). Trusted proxies are not
 * limited: every client behind them shares their address.
 */
static void count_address(http_server *srv, struct MHD_Connection *conn, conn_track *t)
{
    char ip[HTTP_ADDR_MAX];
    if (!srv->per_ip)
        return;
    peer_address(conn, ip, sizeof ip);
    if (http_cidrs_match(srv->cfg.trusted_proxies, ip))
        return;
    int got = keycount_take(srv->per_ip, ip, srv->cfg.per_ip_limit);
    if (got == 1) {
        snprintf(t->ip, sizeof t->ip, "%s", ip);
    } else if (got == 0) {
        shutdown(t->fd, SHUT_RDWR);
        t->reaped = 1;
        atomic_fetch_add(&srv->refused_conns, 1);
    }
}

/* Keeps the list of open connections for the reaper. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    http_server *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn_track *t = ci ? calloc(1, sizeof *t) : NULL;
        if (!t)
            return; /* untracked: only MHD's idle timeout applies */
        t->fd = ci->connect_fd;
        atomic_store(&t->waiting_since_ms, hh_time_mono_ms());
        count_address(srv, conn, t);
        pthread_mutex_lock(&srv->conns_mu);
        t->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = t;
        srv->conns = t;
        pthread_mutex_unlock(&srv->conns_mu);
        *socket_context = t;
        return;
    }
    conn_track *t = *socket_context;
    if (!t)
        return;
    if (t->ip[0])
        keycount_release(srv->per_ip, t->ip);
    /* MHD closes the socket only after this returns, so the reaper (which
     * holds conns_mu while it calls shutdown) never touches a reused fd. */
    pthread_mutex_lock(&srv->conns_mu);
    if (t->prev)
        t->prev->next = t->next;
    else
        srv->conns = t->next;
    if (t->next)
        t->next->prev = t->prev;
    pthread_mutex_unlock(&srv->conns_mu);
    *socket_context = NULL;
    free(t);
}

/*
 * Whether the streaming body of t, elapsed_ms after it began, is below the
 * minimum rate: after the grace of the header timeout, it must have
 * delivered min_body_rate bytes for every second past the grace.
 */
static int too_slow_body(const http_server *srv, conn_track *t, int64_t elapsed_ms)
{
    int64_t late_ms = elapsed_ms - srv->header_timeout_ms;
    return late_ms > 0 &&
           atomic_load(&t->stream_received) < late_ms * (int64_t)srv->min_body_rate / 1000;
}

/* Shuts down connections past a deadline (the header block's, a streaming
 * body's rate); MHD then sees the end of the stream and closes them through
 * its own path. */
static void *reaper_main(void *arg)
{
    http_server *srv = arg;
    pthread_mutex_lock(&srv->conns_mu);
    while (!srv->reaper_stop) {
        struct timespec ts = hh_deadline_after_ms(CLOCK_MONOTONIC, REAP_EVERY_MS);
        pthread_cond_timedwait(&srv->reaper_cv, &srv->conns_mu, &ts);
        int64_t now = hh_time_mono_ms();
        int reaped = 0, slow = 0;
        for (conn_track *t = srv->conns; t; t = t->next) {
            if (t->reaped)
                continue;
            int64_t since = atomic_load(&t->waiting_since_ms);
            int64_t body = atomic_load(&t->stream_since_ms);
            int late = since && now - since > srv->header_timeout_ms;
            int too_slow = body && too_slow_body(srv, t, now - body);
            if (late || too_slow) {
                shutdown(t->fd, SHUT_RDWR);
                t->reaped = 1;
                reaped += late;
                slow += too_slow;
            }
        }
        int refused = atomic_exchange(&srv->refused_conns, 0);
        if (reaped || slow || refused)
            hh_log_fields(HH_LOG_INFO, "deadlines: closed slow clients",
                          json_pack("{s:i, s:i, s:i}", "connections", reaped, "slowBodies", slow,
                                    "overAddressLimit", refused));
    }
    pthread_mutex_unlock(&srv->conns_mu);
    return NULL;
}

/* Starts the reaper thread; 0 on success. */
static int reaper_start(http_server *srv)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca))
        return -1;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&srv->reaper_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc)
        return -1;
    if (pthread_create(&srv->reaper, NULL, reaper_main, srv)) {
        pthread_cond_destroy(&srv->reaper_cv);
        return -1;
    }
    srv->reaper_running = 1;
    return 0;
}

/* Stops the reaper and frees what is left of the list (empty once MHD has stopped). */
static void reaper_stop(http_server *srv)
{
    if (srv->reaper_running) {
        pthread_mutex_lock(&srv->conns_mu);
        srv->reaper_stop = 1;
        pthread_cond_signal(&srv->reaper_cv);
        pthread_mutex_unlock(&srv->conns_mu);
        pthread_join(srv->reaper, NULL);
        pthread_cond_destroy(&srv->reaper_cv);
        srv->reaper_running = 0;
    }
    while (srv->conns) {
        conn_track *t = srv->conns;
        srv->conns = t->next;
        free(t);
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    /* MHD's messages may quote a client's bytes, and the cut at 512 may split a character:
     * hh_log_text escapes both, so the line is never lost. */
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    hh_log_fields(HH_LOG_WARN, "libmicrohttpd", json_pack("{s:o}", "detail", hh_log_text(msg)));
}

/* ------------------------------------------------------- lifecycle */

/* Parses "host:port" or "[v6]:port" into addr; 0 on success. */
static int parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *len, int *v6)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen)
        return -1;
    size_t hl = (size_t)(colon - listen);
    if (hl >= sizeof host)
        return -1;
    memcpy(host, listen, hl);
    host[hl] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535)
        return -1;
    memset(addr, 0, sizeof *addr);
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            return -1;
        *len = sizeof *a6;
        *v6 = 1;
        return 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    if (!strcmp(host, "localhost"))
        snprintf(host, sizeof host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        return -1;
    *len = sizeof *a4;
    *v6 = 0;
    return 0;
}

/*
 * Frees what srv holds, in the order that keeps the pool's promise: the
 * pool drains first (every suspended connection is resumed with an
 * answer; MHD must not stop with one suspended), then the daemon stops.
 */
static void server_release(http_server *srv)
{
    workq_free(srv->pool);
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    reaper_stop(srv);
    pthread_mutex_destroy(&srv->conns_mu);
    pthread_mutex_destroy(&srv->push_mu);
    http_metrics_free(srv->metrics);
    keycount_free(srv->per_ip);
    free(srv);
}

hh_status http_server_new(const http_config *cfg, http_server **out)
{
    struct sockaddr_storage addr;
    socklen_t alen;
    int v6 = 0;
    *out = NULL;
    if (!cfg->routes || parse_listen(cfg->listen, &addr, &alen, &v6)) {
        hh_error("cannot parse listen address \"%s\" (want HOST:PORT or [V6]:PORT)",
                 cfg->listen ? cfg->listen : "");
        return HH_ERR_INVALID;
    }
    http_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return HH_ERR_NOMEM;
    srv->cfg = *cfg;
    if (!srv->cfg.max_body)
        srv->cfg.max_body = DEFAULT_MAX_BODY;
    srv->queue_wait_ms = cfg->queue_wait_ms ? cfg->queue_wait_ms : DEFAULT_QUEUE_WAIT;
    srv->min_body_rate = cfg->min_body_rate ? cfg->min_body_rate : DEFAULT_BODY_RATE;
    pthread_mutex_init(&srv->conns_mu, NULL);
    pthread_mutex_init(&srv->push_mu, NULL);
    srv->header_timeout_ms =
        1000 * (int64_t)(cfg->connection_timeout_s ? cfg->connection_timeout_s : DEFAULT_TIMEOUT_S);
    hh_status rc = HH_ERR_NOMEM;
    if (!(srv->metrics = http_metrics_new()))
        goto fail;
    if (cfg->per_ip_limit && !(srv->per_ip = keycount_new()))
        goto fail;
    rc = HH_ERR_IO;
    if (reaper_start(srv)) {
        hh_error("cannot start the header-deadline thread");
        goto fail;
    }
    if ((rc = workq_new(cfg->pool_threads ? cfg->pool_threads : DEFAULT_POOL, cfg->pool_thread_init,
                        cfg->app, &srv->pool))) {
        hh_error("cannot start the request pool: %s", hh_status_str(rc));
        goto fail;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = cfg->threads ? cfg->threads : (unsigned)(cores > 0 ? cores : 1);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    /* The logger first, so MHD's messages about the other options come through it. No
     * MHD_OPTION_LISTENING_ADDRESS_REUSE: its SO_REUSEPORT let a second server bind the same
     * port and silently take half the connections; MHD's default (SO_REUSEADDR) still allows
     * a restart while old connections linger in TIME_WAIT. */
    srv->daemon =
        MHD_start_daemon(flags, 0, NULL, NULL, on_access, srv, MHD_OPTION_EXTERNAL_LOGGER,
                         on_mhd_log, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                         MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT,
                         cfg->connection_limit ? cfg->connection_limit : DEFAULT_CONN_LIMIT,
                         MHD_OPTION_CONNECTION_TIMEOUT,
                         cfg->connection_timeout_s ? cfg->connection_timeout_s : DEFAULT_TIMEOUT_S,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                         cfg->connection_memory ? cfg->connection_memory : (size_t)DEFAULT_CONN_MEM,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                         MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_END);
    if (!srv->daemon) {
        hh_error("cannot listen on %s", cfg->listen);
        rc = HH_ERR_IO;
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : 0;
    *out = srv;
    return HH_OK;
fail:
    server_release(srv);
    return rc;
}

unsigned http_server_port(const http_server *srv)
{
    return srv->port;
}

char *http_server_metrics(http_server *srv)
{
    return http_metrics_render(srv->metrics);
}

void http_server_free(http_server *srv)
{
    if (!srv)
        return;
    MHD_socket lsock = MHD_quiesce_daemon(srv->daemon);
    if (lsock != MHD_INVALID_SOCKET)
        close(lsock);
    push_end_all(srv); /* streams never end by themselves; their requests are in flight */
    int64_t until = hh_time_mono_ms() + STOP_WAIT_MS;
    while (atomic_load(&srv->in_flight) > 0 && hh_time_mono_ms() < until)
        usleep(10000);
    server_release(srv);
}
