/*
 * http_client.h - outgoing HTTP on libcurl, for the upstream engines that
 * talk to video providers. Two ways to send:
 *   hc_perform / hc_download   one request, blocking, on the calling thread
 *   hc_multi                   many requests at once on one thread (curl's
 *                              multi interface): the remote-task poller
 *                              keeps hundreds of polls in flight with it
 * Every call is bounded: a connect timeout, a whole-transfer timeout, a
 * minimum transfer rate and a ceiling on the body, so a provider that
 * hangs, trickles or sends gigabytes can hold nothing for long. Redirects
 * are not followed unless the limits say so, and then only to http(s).
 *
 * Secrets: request headers (the provider's key) are never logged or copied
 * into error messages; URLs in messages are cut before their query string
 * (signed download URLs carry credentials there).
 */
#ifndef HH_HTTP_CLIENT_H
#define HH_HTTP_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

#define HC_MAX_HEADERS 8
#define HC_MAX_PARTS   8

/* One field of a multipart/form-data body: text, or a file given as bytes. */
typedef struct hc_part {
    char *name; /* owned */
    char *data; /* owned */
    size_t len;
    char *filename; /* owned; NULL for a text field */
    char *type;     /* owned content type of a file part; may be NULL */
} hc_part;

/*
 * A request. Built with the hc_request_* calls below, which copy what they
 * are given; hc_request_clear frees it all. A zeroed struct is empty.
 */
typedef struct hc_request {
    const char *method; /* static: "GET", "HEAD", "POST", "PUT", "DELETE" */
    char *url;
    char *headers[HC_MAX_HEADERS]; /* "Name: value" */
    int nheaders;
    char *body; /* a raw body (JSON), or NULL */
    size_t body_len;
    hc_part parts[HC_MAX_PARTS]; /* a multipart body when nparts > 0 */
    int nparts;
    /* A body read from a file as it is sent (hc_request_file), never whole in memory. */
    char *file;
    uint64_t file_offset, file_len;
} hc_request;

/* Sets method (a static string) and a copy of url. */
hh_status hc_request_set(hc_request *req, const char *method, const char *url);
/* Adds a header line "Name: value" (printf-style). HH_ERR_LIMIT past HC_MAX_HEADERS. */
hh_status hc_request_header(hc_request *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sets body to the compact JSON of doc and adds "Content-Type: application/json". */
hh_status hc_request_json(hc_request *req, const json_t *doc);
/* Adds a multipart field; filename NULL makes it a text field. Copies everything. */
hh_status hc_request_part(hc_request *req, const char *name, const void *data, size_t len,
                          const char *filename, const char *type);
/*
 * Sends len bytes of the file at path, from offset on, as the body (a PUT
 * of an object or of one part of it). The file is opened when the request
 * is sent and read in pieces.
 */
hh_status hc_request_file(hc_request *req, const char *path, uint64_t offset, uint64_t len);
/* Frees what req holds and zeroes it. */
void hc_request_clear(hc_request *req);

typedef struct hc_limits {
    long connect_timeout_ms; /* 0: 10 s */
    long timeout_ms;         /* whole transfer; 0: 30 s */
    size_t max_body;         /* bytes of response body kept or written; 0: 1 MiB */
    long min_rate;           /* bytes/s below which, for 15 s, the transfer is cut; 0: 1024 */
    int max_redirects;       /* 0: none followed (a 3xx is the answer) */
    int public_only; /* 1: connect only to public addresses (netaddr.h), else HH_ERR_DENIED */
} hc_limits;

typedef struct hc_response {
    /*
     * HH_OK when an HTTP answer arrived (whatever its status); HH_ERR_IO for
     * no answer (refused, reset, DNS, TLS, timeout); HH_ERR_LIMIT when the
     * body passed max_body; HH_ERR_NOMEM.
     */
    hh_status rc;
    long status; /* HTTP status, 0 without an answer */
    char *body;  /* NUL-terminated (len bytes before it); owned; "" when none */
    size_t len;
    long retry_after; /* seconds of a Retry-After header, -1 when absent */
    char error[512];  /* why rc is not HH_OK, with the URL cut before '?'; "" else */
    char *headers;    /* the answer's header lines as received (first 16 KiB); owned; may be NULL */
} hc_response;

/* Frees resp's body and headers and zeroes it. */
void hc_response_clear(hc_response *resp);

/*
 * The value of the answer's header name (any case; the last one when
 * repeated), trimmed, into buf; returns buf, or NULL when absent (or when
 * the value does not fit).
 */
const char *hc_response_header(const hc_response *resp, const char *name, char *buf, size_t size);

/* Sends req and waits for the whole answer into *resp (caller clears it). resp->rc is returned. */
hh_status hc_perform(const hc_request *req, const hc_limits *lim, hc_response *resp);

/*
 * Sends req and writes the body of a 2xx answer to path (created, 0600,
 * removed again on any failure). resp gets the status and, for a non-2xx
 * answer, up to 4 KiB of its body. HH_ERR_LIMIT past lim->max_body.
 */
hh_status hc_download(const hc_request *req, const hc_limits *lim, const char *path,
                      hc_response *resp);

/* ---- many requests on one thread ---- */

typedef struct hc_multi hc_multi;

/* Called once per finished request with the tag given to hc_multi_add; resp is cleared after. */
typedef void (*hc_done_fn)(void *ctx, void *tag, hc_response *resp);

/* At most max_parallel transfers run at once; more wait in order. */
hh_status hc_multi_new(int max_parallel, hc_multi **out);
/* Queues req (copied) with lim (copied); done gets tag back. */
hh_status hc_multi_add(hc_multi *m, const hc_request *req, const hc_limits *lim, void *tag);
/* Requests added and not yet finished. */
int hc_multi_pending(const hc_multi *m);
/*
 * Moves every transfer on, waiting up to wait_ms for network activity, and
 * calls done(ctx, tag, resp) for each that finished. Returns HH_OK, or
 * HH_ERR_INTERNAL when curl's multi handle failed.
 */
hh_status hc_multi_run(hc_multi *m, int wait_ms, hc_done_fn done, void *ctx);
/* Aborts what is still running (no callbacks) and frees. NULL-safe. */
void hc_multi_free(hc_multi *m);

/*
 * Checks that url is an absolute http(s) URL with a host and, when
 * public_only, that every address its host resolves to now is public
 * (http_addr_is_public). HH_OK, or HH_ERR_INVALID with why (a sentence
 * about "url", for the error envelope) filled in; HH_ERR_NOMEM.
 */
hh_status hc_url_check(const char *url, int public_only, char *why, size_t size);

/* "https://host/path" of url: no user info, no query, for logs and messages. */
void hc_url_for_log(const char *url, char *buf, size_t size);

#endif
