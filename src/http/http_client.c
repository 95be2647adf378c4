/*
 * http_client.c - outgoing HTTP on libcurl (see http_client.h).
 *
 * One transfer is an easy handle plus what it points at (header list,
 * mime body, the sink its body goes to); both the blocking calls and the
 * multi driver build it with transfer_new and take it apart with
 * transfer_free, so the limits are set in one place.
 */
#include "http/http_client.h"

#include <netdb.h>

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http/netaddr.h"

#define DEFAULT_CONNECT_MS 10000
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_MAX_BODY   (1024 * 1024)
#define DEFAULT_MIN_RATE   1024
#define LOW_SPEED_SECONDS  15
#define ERROR_BODY_MAX     4096  /* of a non-2xx answer to a download */
#define HEADERS_MAX        16384 /* of the answer's header lines kept */

/* ---- requests ---- */

hh_status hc_request_set(hc_request *req, const char *method, const char *url)
{
    char *u = strdup(url);
    if (!u)
        return HH_ERR_NOMEM;
    free(req->url);
    req->url = u;
    req->method = method;
    return HH_OK;
}

hh_status hc_request_header(hc_request *req, const char *fmt, ...)
{
    if (req->nheaders >= HC_MAX_HEADERS)
        return HH_ERR_LIMIT;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&req->headers[req->nheaders], fmt, ap);
    va_end(ap);
    if (n < 0) {
        req->headers[req->nheaders] = NULL;
        return HH_ERR_NOMEM;
    }
    req->nheaders++;
    return HH_OK;
}

hh_status hc_request_json(hc_request *req, const json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    if (!text)
        return HH_ERR_NOMEM;
    free(req->body);
    req->body = text;
    req->body_len = strlen(text);
    return hc_request_header(req, "Content-Type: application/json");
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

hh_status hc_request_part(hc_request *req, const char *name, const void *data, size_t len,
                          const char *filename, const char *type)
{
    if (req->nparts >= HC_MAX_PARTS)
        return HH_ERR_LIMIT;
    hc_part *p = &req->parts[req->nparts];
    p->name = strdup(name);
    p->data = malloc(len + 1);
    p->filename = dup_or_null(filename);
    p->type = dup_or_null(type);
    p->len = len;
    req->nparts++; /* counted even when half made, so hc_request_clear frees it */
    if (!p->name || !p->data || (filename && !p->filename) || (type && !p->type))
        return HH_ERR_NOMEM;
    memcpy(p->data, data, len);
    p->data[len] = '\0';
    return HH_OK;
}

hh_status hc_request_file(hc_request *req, const char *path, uint64_t offset, uint64_t len)
{
    char *p = strdup(path);
    if (!p)
        return HH_ERR_NOMEM;
    free(req->file);
    req->file = p;
    req->file_offset = offset;
    req->file_len = len;
    return HH_OK;
}

void hc_request_clear(hc_request *req)
{
    free(req->url);
    free(req->file);
    for (int i = 0; i < req->nheaders; i++)
        free(req->headers[i]);
    free(req->body);
    for (int i = 0; i < req->nparts; i++) {
        free(req->parts[i].name);
        free(req->parts[i].data);
        free(req->parts[i].filename);
        free(req->parts[i].type);
    }
    memset(req, 0, sizeof *req);
}

void hc_response_clear(hc_response *resp)
{
    free(resp->body);
    free(resp->headers);
    memset(resp, 0, sizeof *resp);
}

const char *hc_response_header(const hc_response *resp, const char *name, char *buf, size_t size)
{
    size_t nlen = strlen(name);
    const char *found = NULL, *end = NULL;
    for (const char *line = resp->headers; line && *line;) {
        const char *eol = strchr(line, '\n');
        const char *next = eol ? eol + 1 : line + strlen(line);
        if (!strncasecmp(line, name, nlen) && line[nlen] == ':') {
            found = line + nlen + 1;
            end = eol ? eol : next;
        }
        line = next;
    }
    if (!found)
        return NULL;
    while (found < end && (*found == ' ' || *found == '\t'))
        found++;
    while (end > found && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if ((size_t)(end - found) >= size)
        return NULL;
    memcpy(buf, found, (size_t)(end - found));
    buf[end - found] = '\0';
    return buf;
}

void hc_url_for_log(const char *url, char *buf, size_t size)
{
    const char *scheme = strstr(url, "://");
    const char *host = scheme ? scheme + 3 : url;
    const char *at = strchr(host, '@');
    const char *slash = strchr(host, '/');
    if (at && (!slash || at < slash))
        host = at + 1; /* drop user:password@ */
    size_t keep = strcspn(host, "?#");
    snprintf(buf, size, "%.*s%.*s", scheme ? (int)(scheme + 3 - url) : 0, url, (int)keep, host);
}

/* ---- one transfer ---- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

/* curl_global_init is not thread-safe in every build; run it exactly once. */
static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

typedef struct transfer {
    CURL *easy;
    struct curl_slist *headers;
    curl_mime *mime;
    char *body_copy; /* the request body, owned by the transfer (multi copies the request) */
    /* The sink: memory (buf) or a file (fd >= 0, path set). */
    char *buf;
    size_t len, cap, max;
    int fd;
    const char *path;
    int too_big;
    int refused; /* 1: the address connected to was not public (hc_limits.public_only) */
    long retry_after;
    /* A body sent from a file: its descriptor, where the next read starts, what is left. */
    int up_fd;
    uint64_t up_off, up_left;
    char *head; /* the answer's header lines */
    size_t head_len;
    char errbuf[CURL_ERROR_SIZE];
    char url_log[256];
    void *tag;
    struct transfer *next; /* multi's waiting or running list */
} transfer;

static size_t keep_in_memory(transfer *t, const char *data, size_t n)
{
    if (t->len + n > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + n)
            cap *= 2;
        char *nb = realloc(t->buf, cap + 1);
        if (!nb)
            return 0;
        t->buf = nb;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, data, n);
    t->len += n;
    return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    transfer *t = arg;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    int to_file = t->fd >= 0 && status >= 200 && status < 300;
    size_t limit = to_file ? t->max : (t->fd >= 0 ? ERROR_BODY_MAX : t->max);
    if (t->len + n > limit) {
        t->too_big = to_file || t->fd < 0; /* an error page is only cut short */
        if (t->too_big)
            return 0; /* aborts the transfer */
        n = limit - t->len;
    }
    if (!to_file)
        return keep_in_memory(t, data, n) == n ? size * nmemb : 0;
    for (size_t off = 0; off < n;) {
        ssize_t w = write(t->fd, data + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return 0;
        off += (size_t)w;
    }
    t->len += n;
    return size * nmemb;
}

/* Keeps the header lines of the last answer (a 100 Continue's or a redirect's are dropped). */
static void keep_header(transfer *t, const char *data, size_t n)
{
    if (n >= 5 && !strncmp(data, "HTTP/", 5))
        t->head_len = 0;
    if (t->head_len + n > HEADERS_MAX)
        return;
    if (!t->head && !(t->head = malloc(HEADERS_MAX + 1)))
        return;
    memcpy(t->head + t->head_len, data, n);
    t->head_len += n;
    t->head[t->head_len] = '\0';
}

/* Keeps the header lines; picks up Retry-After (delta-seconds form; an HTTP-date is ignored). */
static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    transfer *t = arg;
    size_t n = size * nmemb;
    keep_header(t, data, n);
    static const char name[] = "retry-after:";
    if (n > sizeof name && !strncasecmp(data, name, sizeof name - 1)) {
        char tmp[32];
        size_t vlen =
            n - (sizeof name - 1) < sizeof tmp - 1 ? n - (sizeof name - 1) : sizeof tmp - 1;
        memcpy(tmp, data + sizeof name - 1, vlen);
        tmp[vlen] = '\0';
        char *end;
        long v = strtol(tmp, &end, 10);
        if (end != tmp && v >= 0 && v <= 86400)
            t->retry_after = v;
    }
    return n;
}

static void transfer_free(transfer *t)
{
    if (!t)
        return;
    if (t->easy)
        curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    curl_mime_free(t->mime);
    free(t->body_copy);
    free(t->buf);
    free(t->head);
    if (t->fd >= 0)
        close(t->fd);
    if (t->up_fd >= 0)
        close(t->up_fd);
    free(t);
}

/* Reads the next piece of a file body (pread: the offset is ours, not the descriptor's). */
static size_t on_read(char *buf, size_t size, size_t nmemb, void *arg)
{
    transfer *t = arg;
    size_t want = size * nmemb < t->up_left ? size * nmemb : (size_t)t->up_left;
    if (!want)
        return 0;
    ssize_t n;
    do
        n = pread(t->up_fd, buf, want, (off_t)t->up_off);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return CURL_READFUNC_ABORT; /* the file is shorter than said, or unreadable */
    t->up_off += (uint64_t)n;
    t->up_left -= (uint64_t)n;
    return (size_t)n;
}

static hh_status set_file_body(transfer *t, const hc_request *req)
{
    t->up_fd = open(req->file, O_RDONLY | O_CLOEXEC);
    if (t->up_fd < 0)
        return HH_ERR_IO;
    t->up_off = req->file_offset;
    t->up_left = req->file_len;
    curl_easy_setopt(t->easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(t->easy, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(t->easy, CURLOPT_READDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->file_len);
    return HH_OK;
}

static hh_status set_body(transfer *t, const hc_request *req)
{
    CURL *e = t->easy;
    if (req->file) {
        hh_status rc = set_file_body(t, req);
        if (rc)
            return rc;
    } else if (req->nparts > 0) {
        t->mime = curl_mime_init(e);
        for (int i = 0; t->mime && i < req->nparts; i++) {
            const hc_part *p = &req->parts[i];
            curl_mimepart *part = curl_mime_addpart(t->mime);
            if (!part || curl_mime_name(part, p->name) || curl_mime_data(part, p->data, p->len) ||
                (p->filename && curl_mime_filename(part, p->filename)) ||
                (p->type && curl_mime_type(part, p->type)))
                return HH_ERR_NOMEM;
        }
        if (!t->mime)
            return HH_ERR_NOMEM;
        curl_easy_setopt(e, CURLOPT_MIMEPOST, t->mime);
    } else if (req->body) {
        t->body_copy = malloc(req->body_len + 1);
        if (!t->body_copy)
            return HH_ERR_NOMEM;
        memcpy(t->body_copy, req->body, req->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body_copy);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    if (!strcmp(req->method, "HEAD"))
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L); /* a HEAD answer has no body to wait for */
    else if (strcmp(req->method, "POST") && strcmp(req->method, "GET"))
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    else if (!strcmp(req->method, "POST") && !req->body && !req->nparts)
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, ""); /* a POST with an empty body */
    return HH_OK;
}

static hh_status set_headers(transfer *t, const hc_request *req)
{
    /* No "Expect: 100-continue": it costs a round trip (or a second) with servers that ignore it.
     */
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    for (int i = 0; h && i < req->nheaders; i++) {
        struct curl_slist *n = curl_slist_append(h, req->headers[i]);
        if (!n) {
            curl_slist_free_all(h);
            h = NULL;
        }
        h = n;
    }
    if (!h)
        return HH_ERR_NOMEM;
    t->headers = h;
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, h);
    return HH_OK;
}

/*
 * curl's socket opener under hc_limits.public_only: the check is made on
 * the very address curl is about to connect to, after its own resolution,
 * so a name that resolves to a public address when a URL is registered
 * and to a private one later (DNS rebinding) is still refused.
 */
static curl_socket_t open_public(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    transfer *t = clientp;
    if (purpose != CURLSOCKTYPE_IPCXN || !http_sockaddr_is_public(&a->addr)) {
        t->refused = 1;
        return CURL_SOCKET_BAD;
    }
    int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

static void set_limits(CURL *e, const hc_limits *lim, transfer *t)
{
    if (lim->public_only) {
        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_public);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
        curl_easy_setopt(e, CURLOPT_PROXY, ""); /* a proxy would connect for us, unchecked */
    }
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     lim->connect_timeout_ms > 0 ? lim->connect_timeout_ms : DEFAULT_CONNECT_MS);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     lim->timeout_ms > 0 ? lim->timeout_ms : DEFAULT_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT,
                     lim->min_rate > 0 ? lim->min_rate : DEFAULT_MIN_RATE);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)LOW_SPEED_SECONDS);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, lim->max_redirects > 0 ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)(lim->max_redirects > 0 ? lim->max_redirects : 0));
}

/* Makes the transfer of req; the body goes to memory, or to path when path is set. */
static hh_status transfer_new(const hc_request *req, const hc_limits *lim, const char *path,
                              transfer **out)
{
    *out = NULL;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK || !req->url || !req->method)
        return global_rc != CURLE_OK ? HH_ERR_INTERNAL : HH_ERR_INVALID;
    transfer *t = calloc(1, sizeof *t);
    if (!t)
        return HH_ERR_NOMEM;
    t->fd = -1;
    t->up_fd = -1;
    t->retry_after = -1;
    t->max = lim->max_body > 0 ? lim->max_body : DEFAULT_MAX_BODY;
    hc_url_for_log(req->url, t->url_log, sizeof t->url_log);
    hh_status rc = (t->easy = curl_easy_init()) ? HH_OK : HH_ERR_NOMEM;
    if (!rc && path) {
        t->path = path;
        t->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        rc = t->fd >= 0 ? HH_OK : HH_ERR_IO;
    }
    if (!rc)
        rc = set_headers(t, req);
    if (!rc)
        rc = set_body(t, req);
    if (rc) {
        transfer_free(t);
        return rc;
    }
    CURL *e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
    curl_easy_setopt(e, CURLOPT_USERAGENT, "happyhorse/" HH_VERSION);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    set_limits(e, lim, t);
    *out = t;
    return HH_OK;
}

/* Fills resp from the finished transfer t (code: curl's result). Takes t's body. */
static void transfer_result(transfer *t, CURLcode code, hc_response *resp)
{
    memset(resp, 0, sizeof *resp);
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &resp->status);
    resp->retry_after = t->retry_after;
    resp->headers = t->head;
    t->head = NULL;
    if (t->too_big) {
        resp->rc = HH_ERR_LIMIT;
        snprintf(resp->error, sizeof resp->error, "%.200s: the answer is larger than %zu bytes",
                 t->url_log, t->max);
    } else if (code != CURLE_OK && t->refused) { /* with no other address to fall back on */
        resp->rc = HH_ERR_DENIED;
        snprintf(resp->error, sizeof resp->error,
                 "%.200s: refused to connect to an address that is not public", t->url_log);
    } else if (code != CURLE_OK) {
        resp->rc = code == CURLE_OUT_OF_MEMORY ? HH_ERR_NOMEM : HH_ERR_IO;
        snprintf(resp->error, sizeof resp->error, "%.200s: %.250s", t->url_log,
                 t->errbuf[0] ? t->errbuf : curl_easy_strerror(code));
    }
    if (t->fd >= 0 && (resp->status < 200 || resp->status >= 300))
        t->len = t->len > ERROR_BODY_MAX ? ERROR_BODY_MAX : t->len;
    int in_memory = t->fd < 0 || resp->status < 200 || resp->status >= 300;
    if (in_memory && t->buf) {
        t->buf[t->len] = '\0';
        resp->body = t->buf;
        resp->len = t->len;
        t->buf = NULL;
    } else {
        resp->body = strdup("");
        if (!resp->body && !resp->rc)
            resp->rc = HH_ERR_NOMEM;
    }
}

/* One blocking transfer into resp; returns it for the caller to finish and free (NULL: none made).
 */
static transfer *perform(const hc_request *req, const hc_limits *lim, const char *path,
                         hc_response *resp)
{
    transfer *t;
    memset(resp, 0, sizeof *resp);
    resp->rc = transfer_new(req, lim, path, &t);
    if (resp->rc)
        return NULL;
    transfer_result(t, curl_easy_perform(t->easy), resp);
    return t;
}

hh_status hc_perform(const hc_request *req, const hc_limits *lim, hc_response *resp)
{
    transfer_free(perform(req, lim, NULL, resp));
    return resp->rc;
}

hh_status hc_download(const hc_request *req, const hc_limits *lim, const char *path,
                      hc_response *resp)
{
    transfer *t = perform(req, lim, path, resp);
    if (!t)
        return resp->rc;
    int ok = resp->rc == HH_OK && resp->status >= 200 && resp->status < 300;
    if (ok && fsync(t->fd)) {
        resp->rc = HH_ERR_IO;
        snprintf(resp->error, sizeof resp->error, "cannot write the download");
        ok = 0;
    }
    transfer_free(t);
    if (!ok)
        unlink(path);
    return resp->rc;
}

/* ---- multi ---- */

struct hc_multi {
    CURLM *multi;
    int max_parallel;
    int running; /* transfers on the multi handle, listed from active */
    int waiting; /* transfers waiting for room, head first */
    transfer *active;
    transfer *head, *tail;
};

hh_status hc_multi_new(int max_parallel, hc_multi **out)
{
    *out = NULL;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return HH_ERR_INTERNAL;
    hc_multi *m = calloc(1, sizeof *m);
    if (!m)
        return HH_ERR_NOMEM;
    m->multi = curl_multi_init();
    if (!m->multi) {
        free(m);
        return HH_ERR_NOMEM;
    }
    m->max_parallel = max_parallel > 0 ? max_parallel : 1;
    *out = m;
    return HH_OK;
}

hh_status hc_multi_add(hc_multi *m, const hc_request *req, const hc_limits *lim, void *tag)
{
    transfer *t;
    hh_status rc = transfer_new(req, lim, NULL, &t);
    if (rc)
        return rc;
    t->tag = tag;
    if (m->tail)
        m->tail->next = t;
    else
        m->head = t;
    m->tail = t;
    m->waiting++;
    return HH_OK;
}

int hc_multi_pending(const hc_multi *m)
{
    return m->running + m->waiting;
}

/* Moves waiting transfers onto the multi handle while there is room. */
static hh_status start_waiting(hc_multi *m)
{
    while (m->head && m->running < m->max_parallel) {
        transfer *t = m->head;
        m->head = t->next;
        if (!m->head)
            m->tail = NULL;
        m->waiting--;
        t->next = NULL;
        if (curl_multi_add_handle(m->multi, t->easy) != CURLM_OK) {
            transfer_free(t);
            return HH_ERR_INTERNAL;
        }
        t->next = m->active;
        m->active = t;
        m->running++;
    }
    return HH_OK;
}

/* Hands every finished transfer to done and frees it. */
static void collect_done(hc_multi *m, hc_done_fn done, void *ctx)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        transfer *t = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        CURLcode code = msg->data.result;
        curl_multi_remove_handle(m->multi, t->easy);
        for (transfer **p = &m->active; *p; p = &(*p)->next)
            if (*p == t) {
                *p = t->next;
                break;
            }
        m->running--;
        hc_response resp;
        transfer_result(t, code, &resp);
        void *tag = t->tag;
        transfer_free(t);
        done(ctx, tag, &resp);
        hc_response_clear(&resp);
    }
}

hh_status hc_multi_run(hc_multi *m, int wait_ms, hc_done_fn done, void *ctx)
{
    int still;
    if (start_waiting(m) || curl_multi_perform(m->multi, &still) != CURLM_OK)
        return HH_ERR_INTERNAL;
    collect_done(m, done, ctx);
    if (curl_multi_poll(m->multi, NULL, 0, wait_ms, NULL) != CURLM_OK ||
        curl_multi_perform(m->multi, &still) != CURLM_OK)
        return HH_ERR_INTERNAL;
    collect_done(m, done, ctx);
    return start_waiting(m);
}

void hc_multi_free(hc_multi *m)
{
    if (!m)
        return;
    while (m->active) {
        transfer *t = m->active;
        m->active = t->next;
        curl_multi_remove_handle(m->multi, t->easy);
        transfer_free(t);
    }
    while (m->head) {
        transfer *t = m->head;
        m->head = t->next;
        transfer_free(t);
    }
    curl_multi_cleanup(m->multi);
    free(m);
}

hh_status hc_url_check(const char *url, int public_only, char *why, size_t size)
{
    hh_status rc = HH_ERR_INVALID;
    char *scheme = NULL, *host = NULL;
    struct addrinfo *res = NULL;
    why[0] = '\0';
    CURLU *u = curl_url();
    if (!u)
        return HH_ERR_NOMEM;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
        snprintf(why, size, "url must be an absolute http or https URL.");
        goto out;
    }
    if (strcasecmp(scheme, "http") && strcasecmp(scheme, "https")) {
        snprintf(why, size, "url must use http or https.");
        goto out;
    }
    rc = HH_OK;
    if (!public_only)
        goto out;
    /* curl keeps the brackets of an IPv6 literal; getaddrinfo wants the address alone. */
    size_t n = strlen(host);
    char *name = host;
    if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
        host[n - 1] = '\0';
        name = host + 1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    if (getaddrinfo(name, NULL, &hints, &res) || !res) {
        rc = HH_ERR_INVALID;
        snprintf(why, size, "url's host does not resolve.");
        goto out;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (!http_sockaddr_is_public(ai->ai_addr)) {
            rc = HH_ERR_INVALID;
            snprintf(why, size,
                     "url resolves to a loopback, private, link-local or metadata address.");
            break;
        }
out:
    if (res)
        freeaddrinfo(res);
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}
