/*
 * http.h - the HTTP server: libmicrohttpd underneath, a routing table on top.
 *
 * The server owns connections, limits and bookkeeping (request ids, the
 * access log, metrics, body accumulation, graceful shutdown). Everything a
 * route does goes through the small request API below, so handlers never
 * see libmicrohttpd types.
 *
 * Lifecycle of a request:
 *   1. headers arrive; framing is checked (two Content-Length headers,
 *      Transfer-Encoding with Content-Length, or a non-chunked
 *      Transfer-Encoding are refused here, before any body is read);
 *   2. the route is looked up by method and path (404 not_found for an
 *      unknown path, 405 with Allow for a known path with another method);
 *   3. the server's guard hook runs (authentication, rate limits); it may
 *      reply and stop the request; it and the handler of step 4 run on
 *      the server's work pool (not the threads that serve sockets) unless
 *      the route is HTTP_ROUTE_INLINE, so they may wait on the store;
 *   4. a buffered route gets its whole body (up to its limit, else 400
 *      invalid_input "body too large") and its handler runs once (on the
 *      work pool too, the connection suspended meanwhile: a create waiting
 *      for its group commit holds a pool thread, never a socket thread);
 *      a streaming route gets on_begin / on_data / on_end callbacks and
 *      on_abort if the client goes away before the end;
 *   5. the handler replies exactly once with one of the http_reply_* calls.
 *
 * Memory: an http_req lives from the first callback until the response has
 * been sent (or the connection died); everything it owns is freed then.
 * Strings returned by accessors are borrowed for that lifetime.
 */
#ifndef HH_HTTP_H
#define HH_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "domain/api_error.h"
#include "util/status.h"

typedef struct http_server http_server;
typedef struct http_req http_req;

typedef enum http_method {
    HTTP_GET = 1 << 0,
    HTTP_HEAD = 1 << 1,
    HTTP_POST = 1 << 2,
    HTTP_PUT = 1 << 3,
    HTTP_DELETE = 1 << 4,
    HTTP_PATCH = 1 << 5,
    HTTP_OPTIONS = 1 << 6,
} http_method;

/* Route flags; the server passes them to the guard hook untouched. */
enum {
    HTTP_ROUTE_AUTH_KEY = 1 << 0,     /* needs a customer API key (Bearer) */
    HTTP_ROUTE_AUTH_SESSION = 1 << 1, /* needs a dashboard session */
    HTTP_ROUTE_CORS = 1 << 2,         /* add CORS headers, answer preflight */
    HTTP_ROUTE_INLINE = 1 << 3,       /* guard and handler never wait (no store): run them on
                                         the socket thread instead of the work pool */
    HTTP_ROUTE_ERROR_SHAPE = 1 << 4,  /* errors (the guard's too) go through the config's
                                         error_shape: another API's error body */
};

typedef void (*http_handler_fn)(http_req *req, void *app);

/* Streaming body callbacks: return HH_OK to go on; any other status stops
 * reading, and the callback must have replied (http_reply_*) before. */
typedef struct http_stream_ops {
    hh_status (*on_begin)(http_req *req, void *app);
    hh_status (*on_data)(http_req *req, void *app, const char *data, size_t len);
    void (*on_end)(http_req *req, void *app);   /* whole body arrived: reply here */
    void (*on_abort)(http_req *req, void *app); /* client went away: clean up, no reply */
} http_stream_ops;

typedef struct http_route {
    unsigned methods;              /* HTTP_GET | HTTP_HEAD ... */
    const char *pattern;           /* "/api/v1/videos/{id}" or a prefix "/files/..." */
    const char *name;              /* label for logs and metrics, e.g. "videos.get" */
    unsigned flags;                /* HTTP_ROUTE_* */
    size_t max_body;               /* bytes; 0 means the server default (64 KiB) */
    http_handler_fn handler;       /* buffered routes */
    const http_stream_ops *stream; /* streaming routes (handler NULL) */
} http_route;

/* Returns 0 to let the request go on, non-zero when it has replied. */
typedef int (*http_guard_fn)(http_req *req, const http_route *route, void *app);

/*
 * Rewrites the contract's error envelope (body, taken) into another API's
 * shape for a route with HTTP_ROUTE_ERROR_SHAPE; status is the reply's.
 * Returns the new body (a new reference; NULL falls back to the 500).
 */
typedef json_t *(*http_error_shape_fn)(unsigned status, json_t *body);

typedef struct http_config {
    const char *listen;                  /* "127.0.0.1:8080" */
    unsigned threads;                    /* 0: one per core */
    unsigned connection_limit;           /* 0: 1024 */
    unsigned connection_timeout_s;       /* 0: 30; idle or slow clients are closed */
    size_t connection_memory;            /* 0: 64 KiB per connection for headers */
    size_t max_body;                     /* 0: 64 KiB for buffered bodies */
    const http_route *routes;            /* terminated by an entry with pattern NULL */
    http_guard_fn guard;                 /* may be NULL */
    void *app;                           /* passed to handlers, guard and stream ops */
    unsigned pool_threads;               /* 0: 32 threads run guards and handlers */
    void (*pool_thread_init)(void *app); /* run once on each pool thread (may be NULL) */
    int64_t queue_wait_ms;  /* 0: 10 s; a request queued longer for the pool gets a 503 */
    unsigned min_body_rate; /* 0: 16 KiB/s; a streaming body slower than this on average after
                               the connection timeout is cut off (slow uploads) */
    unsigned per_ip_limit;  /* 0: none; connections one client address may hold */
    const struct http_cidrs *trusted_proxies; /* may be NULL; borrowed: proxies whose
                               X-Forwarded-For names the client (http/netaddr.h), and
                               who are exempt from per_ip_limit */
    http_error_shape_fn error_shape; /* may be NULL: HTTP_ROUTE_ERROR_SHAPE routes keep ours */
} http_config;

/* Starts listening. On success *out owns the server; free with http_server_free. */
hh_status http_server_new(const http_config *cfg, http_server **out);
/* The port actually bound (useful with port 0). */
unsigned http_server_port(const http_server *srv);
/* Stops accepting, waits for requests in flight, frees everything. NULL-safe. */
void http_server_free(http_server *srv);
/* Prometheus text for the requests counters and latency histogram; caller frees. */
char *http_server_metrics(http_server *srv);

/* ---- request accessors (borrowed, valid for the request's lifetime) ---- */
http_method http_req_method(const http_req *req);
const char *http_req_path(const http_req *req);
const char *http_req_id(const http_req *req);
/* Case-insensitive; NULL when absent. */
const char *http_req_header(const http_req *req, const char *name);
/* Query-string argument, decoded; NULL when absent. */
const char *http_req_query(const http_req *req, const char *name);
/* Value of a {name} segment of the route pattern; NULL when none. */
const char *http_req_param(const http_req *req, const char *name);
/* The tail matched by a "/prefix/..." pattern; "" when none. */
const char *http_req_tail(const http_req *req);
/*
 * The client's address as text ("127.0.0.1", "::1"): the peer's, or when
 * the peer is one of trusted_proxies the client X-Forwarded-For names
 * (http/netaddr.h); "unknown" if the socket has none.
 */
const char *http_req_client_ip(http_req *req);
/* Buffered body; len 0 and "" when there was none. */
const char *http_req_body(const http_req *req, size_t *len);
/* Content-Length the client declared, or -1. */
int64_t http_req_content_length(const http_req *req);

/*
 * Parses the buffered body as a JSON object with jansson (length-bounded,
 * duplicate keys refused, depth bounded). On failure replies invalid_input
 * itself and returns NULL. The returned reference is borrowed: the request
 * owns it.
 */
json_t *http_req_json(http_req *req);

/*
 * One piece of a field of a multipart/form-data body, in order: name, the
 * file's name and content type (NULL for a plain field), the piece's bytes
 * and where they lie in the value (off). Returns 0 to go on, non-zero to
 * stop the parse.
 */
typedef int (*http_form_fn)(void *ctx, const char *name, const char *filename,
                            const char *content_type, const char *data, uint64_t off, size_t size);
/*
 * Parses the buffered body as the form its Content-Type says
 * (multipart/form-data or application/x-www-form-urlencoded, through
 * libmicrohttpd's parser), calling cb for every piece. HH_OK; HH_ERR_INVALID
 * when the body is not such a form or is malformed; HH_ERR_CANCELED when cb
 * stopped it.
 */
hh_status http_req_form(http_req *req, http_form_fn cb, void *ctx);

/*
 * Per-request slot for the app (principal, stream state). user_free (may be
 * NULL) is called with user when the request ends, however it ends.
 */
void http_req_set_user(http_req *req, void *user, void (*user_free)(void *));
void *http_req_user(const http_req *req);

/* ---- replies: exactly one per request ---- */
/* Adds a response header (copied). Call before the reply. */
void http_req_add_header(http_req *req, const char *name, const char *value);
/* Sends body as JSON. Takes ownership of body. */
void http_reply_json(http_req *req, unsigned status, json_t *body);
/* Sends bytes (copied) with a content type; body may be NULL for no body. */
void http_reply_bytes(http_req *req, unsigned status, const char *content_type, const void *body,
                      size_t len);
/*
 * Sends len bytes of fd from offset (zero-copy where the platform allows).
 * Takes ownership of fd, closed when done. For HEAD, sends headers only.
 */
void http_reply_fd(http_req *req, unsigned status, const char *content_type, int fd,
                   uint64_t offset, uint64_t len);
/*
 * Sends the contract's error envelope {"error":{"code","message",...extra}}.
 * Takes ownership of extra (an object whose members are merged in; may be NULL).
 */
void http_reply_error(http_req *req, api_error code, const char *message, json_t *extra);
/*
 * The envelope itself, {"error":{"code","message",...extra}}: a new
 * reference, or NULL when it cannot be built (message or extra not valid
 * UTF-8, no memory), which the reply turns into the fallback 500. Takes
 * ownership of extra. The fuzzers check that client input never makes it
 * NULL.
 */
json_t *http_error_body(api_error code, const char *message, json_t *extra);
/*
 * ---- pushed bodies (server-sent events) ----
 * A response whose body the app writes later, from any thread, while the
 * connection holds no thread at all: when nothing is waiting to be sent,
 * the connection is suspended, and a write resumes it. For streams that
 * last (text/event-stream); sent chunked.
 */
typedef struct http_push http_push;

/* The most bytes a push keeps waiting for a slow client; a write past it ends the stream. */
#define HTTP_PUSH_MAX (64 * 1024)

/*
 * Replies to req with status, content_type and a body to come through
 * http_push_write. Returns the stream, which the caller holds until
 * http_push_release (it outlives the request: it says when the client has
 * gone); NULL when it cannot be made, after a 500 was sent.
 */
http_push *http_reply_push(http_req *req, unsigned status, const char *content_type);
/*
 * Appends len bytes (copied) and wakes the connection. HH_OK;
 * HH_ERR_CANCELED when the client has gone or the body was ended;
 * HH_ERR_LIMIT when the bytes would pass HTTP_PUSH_MAX unsent (the body is
 * then ended after what it holds); HH_ERR_NOMEM.
 */
hh_status http_push_write(http_push *p, const void *data, size_t len);
/* Ends the body after what was written (NULL-safe). */
void http_push_end(http_push *p);
/* 1 once the client has gone or the body has ended; the caller may then release it. */
int http_push_closed(http_push *p);
/* Gives up the caller's hold on p (NULL-safe); it ends the body if not ended. */
void http_push_release(http_push *p);

/* The envelope with a status other than the code's own (405 invalid_input, 416). */
void http_reply_error_status(http_req *req, unsigned status, api_error code, const char *message,
                             json_t *extra);

#endif
