/*
 * blob_s3.c - blob.h's operations on an S3-compatible bucket (see
 * blob_s3.h). Every server-side request goes through s3_call, which builds
 * the address (path-style or virtual-host), signs it with an Authorization
 * header (SigV4; file bodies are UNSIGNED-PAYLOAD, small bodies hashed)
 * and sends it with the HTTP client. Large objects go up in parts
 * (CreateMultipartUpload, UploadPart from file ranges, Complete; Abort on
 * any failure), so no object is ever whole in memory.
 *
 * The store is read-only after blob_s3_new, so any number of threads may
 * use it at once; each request has its own curl handle.
 */
#include "blob/blob_s3.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "domain/upload_policy.h"
#include "http/http_client.h"
#include "util/crypto.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/sigv4.h"
#include "util/timeutil.h"

#define MAX_PARTS     10000 /* S3's limit */
#define SMALL_TIMEOUT 30000 /* ms for requests without a large body */
#define LARGE_TIMEOUT (30 * 60 * 1000)
#define DOWNLOAD_MAX  ((size_t)64 << 30)
#define HEAD_BODY_MAX 65536
#define URL_MAX       2048
#define FALLBACK_TYPE "application/octet-stream"

typedef struct blob_s3 {
    blob_store base; /* first: a blob_s3 is a blob_store */
    blob_s3_config cfg;
    char scheme[8]; /* "http" or "https" */
    char host[256]; /* the endpoint's host[:port], a default port dropped */
    size_t part;
} blob_s3;

/* ---- settings ---- */

static int bucket_ok(const char *b)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63 || strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789.-") != n)
        return 0;
    return b[0] != '.' && b[0] != '-' && b[n - 1] != '.' && b[n - 1] != '-';
}

/* Splits endpoint into scheme and host; 0 when it is not scheme://host[:port][/]. */
static int split_endpoint(const char *endpoint, char *scheme, size_t ssize, char *host,
                          size_t hsize)
{
    const char *rest;
    if (!strncmp(endpoint, "https://", 8))
        rest = endpoint + 8;
    else if (!strncmp(endpoint, "http://", 7))
        rest = endpoint + 7;
    else
        return 0;
    size_t n = strcspn(rest, "/?#@ ");
    if (n == 0 || n >= hsize || (rest[n] && strcmp(rest + n, "/")))
        return 0;
    snprintf(scheme, ssize, "%.*s", (int)(rest - endpoint - 3), endpoint);
    snprintf(host, hsize, "%.*s", (int)n, rest);
    /* Clients leave a default port out of Host; sign what they send. */
    const char *dflt = !strcmp(scheme, "https") ? ":443" : ":80";
    size_t hl = strlen(host), dl = strlen(dflt);
    if (hl > dl && !strcmp(host + hl - dl, dflt))
        host[hl - dl] = '\0';
    return 1;
}

hh_status blob_s3_check_config(const blob_s3_config *cfg, char *why, size_t why_size)
{
    char scheme[8], host[256];
    const char *bad = NULL;
    if (!split_endpoint(cfg->endpoint, scheme, sizeof scheme, host, sizeof host))
        bad = "HAPPYHORSE_S3_ENDPOINT must be http(s)://host[:port] without a path";
    else if (!bucket_ok(cfg->bucket))
        bad = "HAPPYHORSE_S3_BUCKET must be 3-63 characters of a-z, 0-9, '.' and '-'";
    else if (!cfg->access_key_id[0] || !cfg->secret_access_key[0])
        bad = "HAPPYHORSE_S3_ACCESS_KEY_ID and HAPPYHORSE_S3_SECRET_ACCESS_KEY must be set";
    else if (cfg->public_url[0] && strncmp(cfg->public_url, "https://", 8) &&
             strncmp(cfg->public_url, "http://", 7))
        bad = "HAPPYHORSE_S3_PUBLIC_URL must start with http:// or https://";
    else if (cfg->part_size && cfg->part_size < BLOB_S3_MIN_PART)
        bad = "the multipart part size must be at least 5 MiB";
    if (bad)
        snprintf(why, why_size, "%s", bad);
    return bad ? HH_ERR_INVALID : HH_OK;
}

/* ---- addresses and signing ---- */

/* The host and raw path of key (NULL: the bucket itself) in the configured style. */
static void address(const blob_s3 *s, const char *key, char *host, size_t hsize, char *path,
                    size_t psize)
{
    if (s->cfg.force_path_style) {
        snprintf(host, hsize, "%s", s->host);
        snprintf(path, psize, "/%s%s%s", s->cfg.bucket, key ? "/" : "", key ? key : "");
    } else {
        snprintf(host, hsize, "%s.%s", s->cfg.bucket, s->host);
        snprintf(path, psize, "/%s", key ? key : "");
    }
}

static sigv4_credentials credentials(const blob_s3 *s)
{
    return (sigv4_credentials){s->cfg.access_key_id, s->cfg.secret_access_key, s->cfg.region, "s3"};
}

/* scheme://host/encoded-path into url; HH_ERR_LIMIT when it does not fit. */
static hh_status base_url(const blob_s3 *s, const char *host, const char *path, char *url,
                          size_t size)
{
    char enc[1024];
    hh_status rc = sigv4_uri_encode(path, 1, enc, sizeof enc);
    if (rc)
        return rc;
    int n = snprintf(url, size, "%s://%s%s", s->scheme, host, enc);
    return n < 0 || (size_t)n >= size ? HH_ERR_LIMIT : HH_OK;
}

hh_status blob_s3_presign(const blob_store *bs, const char *method, const char *key,
                          const char *content_type, int64_t size, int64_t signed_at,
                          int64_t expires_s, char *url, size_t urlsize)
{
    const blob_s3 *s = (const blob_s3 *)bs;
    char host[400], path[800], date[SIGV4_DATE_LEN], length[24], query[1536];
    address(s, key, host, sizeof host, path, sizeof path);
    sigv4_date(signed_at, date);
    snprintf(length, sizeof length, "%lld", (long long)size);
    sigv4_pair headers[3] = {{"host", host}};
    size_t nheaders = 1;
    if (content_type) {
        headers[nheaders++] = (sigv4_pair){"content-type", content_type};
        headers[nheaders++] = (sigv4_pair){"content-length", length};
    }
    /* X-Amz-Content-Sha256 in the query, as the AWS SDK's presigner puts it. */
    const sigv4_pair q[] = {{"X-Amz-Content-Sha256", SIGV4_UNSIGNED_PAYLOAD}};
    sigv4_request r = {method, path, q, 1, headers, nheaders, SIGV4_UNSIGNED_PAYLOAD};
    sigv4_credentials c = credentials(s);
    hh_status rc = sigv4_presign_query(&c, &r, date, expires_s, query, sizeof query);
    if (!rc)
        rc = base_url(s, host, path, url, urlsize);
    size_t n = rc ? 0 : strlen(url);
    if (!rc && (n + 1 + strlen(query) >= urlsize))
        rc = HH_ERR_LIMIT;
    if (!rc)
        snprintf(url + n, urlsize - n, "?%s", query);
    return rc;
}

/* ---- one signed request ---- */

typedef struct s3_req {
    const char *method;
    const char *key; /* NULL: the bucket */
    const sigv4_pair *query;
    size_t nquery;
    const char *content_type; /* sent when not NULL */
    const char *extra;        /* one more header line ("Range: ...") or NULL */
    const char *body;         /* a small body in memory (hashed and signed) */
    size_t body_len;
    const char *file; /* or a body from a file range (UNSIGNED-PAYLOAD) */
    uint64_t file_off, file_len;
    const char *download; /* a 2xx body goes to this file */
    size_t max_body;      /* of an answer kept in memory; 0: the client's default */
} s3_req;

/* Appends ?name=value&... (encoded) to url. */
static hh_status add_query(char *url, size_t size, const sigv4_pair *q, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char name[128], value[512];
        size_t len = strlen(url);
        if (sigv4_uri_encode(q[i].name, 0, name, sizeof name) ||
            sigv4_uri_encode(q[i].value, 0, value, sizeof value))
            return HH_ERR_LIMIT;
        int w = snprintf(url + len, size - len, "%c%s=%s", i ? '&' : '?', name, value);
        if (w < 0 || (size_t)w >= size - len)
            return HH_ERR_LIMIT;
    }
    return HH_OK;
}

/* Adds x-amz-date, x-amz-content-sha256 and Authorization for q to req. */
static hh_status sign_request(const blob_s3 *s, const s3_req *q, const char *host, const char *path,
                              hc_request *req)
{
    char date[SIGV4_DATE_LEN], hash[2 * CRYPTO_SHA256_LEN + 1], auth[512];
    sigv4_date(hh_time_now_ms() / 1000, date);
    if (q->file) {
        snprintf(hash, sizeof hash, "%s", SIGV4_UNSIGNED_PAYLOAD); /* not read twice */
    } else {
        uint8_t d[CRYPTO_SHA256_LEN];
        crypto_sha256(q->body, q->body ? q->body_len : 0, d);
        crypto_hex_encode(d, sizeof d, hash, sizeof hash);
    }
    const sigv4_pair headers[] = {
        {"host", host}, {"x-amz-content-sha256", hash}, {"x-amz-date", date}};
    sigv4_request r = {q->method, path, q->query, q->nquery, headers, 3, hash};
    sigv4_credentials c = credentials(s);
    hh_status rc = sigv4_authorization(&c, &r, date, auth, sizeof auth);
    if (!rc)
        rc = hc_request_header(req, "x-amz-date: %s", date);
    if (!rc)
        rc = hc_request_header(req, "x-amz-content-sha256: %s", hash);
    if (!rc)
        rc = hc_request_header(req, "Authorization: %s", auth);
    return rc;
}

/* Fills the request's body and its other headers. */
static hh_status set_body(const s3_req *q, hc_request *req)
{
    hh_status rc = HH_OK;
    if (q->content_type)
        rc = hc_request_header(req, "Content-Type: %s", q->content_type);
    if (!rc && q->extra)
        rc = hc_request_header(req, "%s", q->extra);
    if (!rc && q->file)
        rc = hc_request_file(req, q->file, q->file_off, q->file_len);
    if (!rc && q->body) {
        if (!(req->body = malloc(q->body_len + 1)))
            return HH_ERR_NOMEM;
        memcpy(req->body, q->body, q->body_len);
        req->body_len = q->body_len;
    }
    return rc;
}

/* Sends q; resp holds the answer (the caller clears it). HH_OK when any HTTP answer came. */
static hh_status s3_call(const blob_s3 *s, const s3_req *q, hc_response *resp)
{
    char host[400], path[800], url[URL_MAX];
    hc_request req = {0};
    memset(resp, 0, sizeof *resp);
    address(s, q->key, host, sizeof host, path, sizeof path);
    hh_status rc = base_url(s, host, path, url, sizeof url);
    if (!rc)
        rc = add_query(url, sizeof url, q->query, q->nquery);
    if (!rc)
        rc = hc_request_set(&req, q->method, url);
    if (!rc)
        rc = sign_request(s, q, host, path, &req);
    if (!rc)
        rc = set_body(q, &req);
    if (rc) {
        hc_request_clear(&req);
        return rc;
    }
    int large = q->file || q->download;
    hc_limits lim = {
        .timeout_ms = large ? LARGE_TIMEOUT : SMALL_TIMEOUT,
        .max_body = q->download ? DOWNLOAD_MAX : q->max_body,
    };
    rc = q->download ? hc_download(&req, &lim, q->download, resp) : hc_perform(&req, &lim, resp);
    hc_request_clear(&req);
    if (rc)
        hh_warn("s3: %s %s: %s", q->method, q->key ? q->key : s->cfg.bucket, resp->error);
    return rc;
}

/* The text of <tag>...</tag> in xml into out; 0 when absent or too long. */
static int xml_text(const char *xml, const char *tag, char *out, size_t size)
{
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = xml ? strstr(xml, open) : NULL;
    const char *b = a ? strstr(a + strlen(open), close) : NULL;
    if (!b)
        return 0;
    a += strlen(open);
    if ((size_t)(b - a) >= size)
        return 0;
    memcpy(out, a, (size_t)(b - a));
    out[b - a] = '\0';
    return 1;
}

/* Logs an answer the caller did not expect, with S3's error code, and returns HH_ERR_IO. */
static hh_status unexpected(const s3_req *q, const hc_response *resp)
{
    char code[64] = "";
    xml_text(resp->body, "Code", code, sizeof code);
    hh_warn("s3: %s %s: HTTP %ld %s", q->method, q->key ? q->key : "(bucket)", resp->status, code);
    return HH_ERR_IO;
}

/* ---- reading ---- */

static int64_t http_date_ms(const char *text)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = text ? strptime(text, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;
    return end ? (int64_t)timegm(&tm) * 1000 : 0;
}

static hh_status s3_stat(blob_store *bs, const char *key, blob_info *info)
{
    s3_req q = {.method = "HEAD", .key = key};
    hc_response resp;
    hh_status rc = s3_call((blob_s3 *)bs, &q, &resp);
    char v[128];
    if (!rc && resp.status == 404)
        rc = HH_ERR_NOTFOUND;
    else if (!rc && resp.status != 200)
        rc = unexpected(&q, &resp);
    if (!rc) {
        const char *len = hc_response_header(&resp, "Content-Length", v, sizeof v);
        char *end = NULL;
        unsigned long long size = len ? strtoull(len, &end, 10) : 0;
        if (!len || *end)
            rc = HH_ERR_IO;
        else if (info) {
            info->size = size;
            info->mtime_ms = http_date_ms(hc_response_header(&resp, "Last-Modified", v, sizeof v));
            const char *etag = hc_response_header(&resp, "ETag", v, sizeof v);
            snprintf(info->etag, sizeof info->etag, "%s", etag ? etag : "");
        }
    }
    hc_response_clear(&resp);
    return rc;
}

static hh_status s3_read_head(blob_store *bs, const char *key, void *buf, size_t n, size_t *got)
{
    char range[64];
    snprintf(range, sizeof range, "Range: bytes=0-%zu", n ? n - 1 : 0);
    s3_req q = {.method = "GET", .key = key, .extra = range, .max_body = HEAD_BODY_MAX};
    hc_response resp;
    hh_status rc = s3_call((blob_s3 *)bs, &q, &resp);
    if (!rc && resp.status == 404)
        rc = HH_ERR_NOTFOUND;
    else if (!rc && resp.status == 416) /* an empty object */
        resp.len = 0;
    else if (!rc && resp.status != 206 && resp.status != 200)
        rc = unexpected(&q, &resp);
    if (!rc) {
        *got = resp.len < n ? resp.len : n;
        memcpy(buf, resp.body, *got);
    }
    hc_response_clear(&resp);
    return rc;
}

static hh_status s3_fetch_file(blob_store *bs, const char *key, const char *path)
{
    s3_req q = {.method = "GET", .key = key, .download = path};
    hc_response resp;
    hh_status rc = s3_call((blob_s3 *)bs, &q, &resp);
    if (!rc && resp.status == 404)
        rc = HH_ERR_NOTFOUND;
    else if (!rc && resp.status != 200)
        rc = unexpected(&q, &resp);
    hc_response_clear(&resp);
    return rc;
}

static hh_status s3_open_read(blob_store *bs, const char *key, int *fd, blob_info *info)
{
    *fd = -1;
    return HH_ERR_NOTFOUND; /* the bucket serves its objects itself */
}

static hh_status s3_remove(blob_store *bs, const char *key)
{
    s3_req q = {.method = "DELETE", .key = key};
    hc_response resp;
    hh_status rc = s3_call((blob_s3 *)bs, &q, &resp);
    if (!rc && resp.status != 204 && resp.status != 200 && resp.status != 404)
        rc = unexpected(&q, &resp);
    hc_response_clear(&resp);
    return rc;
}

static hh_status s3_ping(blob_store *bs)
{
    s3_req q = {.method = "HEAD"};
    hc_response resp;
    hh_status rc = s3_call((blob_s3 *)bs, &q, &resp);
    if (!rc && resp.status != 200)
        rc = unexpected(&q, &resp);
    hc_response_clear(&resp);
    return rc;
}

/* ---- writing ---- */

static const char *type_of(const char *key)
{
    const char *t = upload_key_content_type(key);
    return t ? t : FALLBACK_TYPE;
}

/* Sends a write (PUT, Complete); 412 is another writer's object under an exclusive key. */
static hh_status write_object(const blob_s3 *s, const s3_req *q)
{
    hc_response resp;
    hh_status rc = s3_call(s, q, &resp);
    if (!rc && resp.status == 412)
        rc = HH_ERR_EXISTS;
    /* Complete can answer 200 with an error in the body. */
    else if (!rc && (resp.status != 200 || strstr(resp.body, "<Error>")))
        rc = unexpected(q, &resp);
    hc_response_clear(&resp);
    return rc;
}

static hh_status put_single(const blob_s3 *s, const char *key, const char *path, uint64_t size,
                            int exclusive)
{
    s3_req q = {.method = "PUT",
                .key = key,
                .content_type = type_of(key),
                .extra = exclusive ? "If-None-Match: *" : NULL,
                .file = path,
                .file_len = size};
    return write_object(s, &q);
}

static hh_status multipart_begin(const blob_s3 *s, const char *key, char *id, size_t idsize)
{
    const sigv4_pair query[] = {{"uploads", ""}};
    s3_req q = {
        .method = "POST", .key = key, .query = query, .nquery = 1, .content_type = type_of(key)};
    hc_response resp;
    hh_status rc = s3_call(s, &q, &resp);
    if (!rc && resp.status != 200)
        rc = unexpected(&q, &resp);
    if (!rc && !xml_text(resp.body, "UploadId", id, idsize))
        rc = HH_ERR_IO;
    hc_response_clear(&resp);
    return rc;
}

/* Uploads part number (1-based) from the file range; appends its <Part> to xml. */
static hh_status multipart_part(const blob_s3 *s, const char *key, const char *id, int number,
                                const char *path, uint64_t off, uint64_t len, FILE *xml)
{
    char num[16], etag[128];
    snprintf(num, sizeof num, "%d", number);
    const sigv4_pair query[] = {{"partNumber", num}, {"uploadId", id}};
    s3_req q = {.method = "PUT",
                .key = key,
                .query = query,
                .nquery = 2,
                .file = path,
                .file_off = off,
                .file_len = len};
    hc_response resp;
    hh_status rc = s3_call(s, &q, &resp);
    if (!rc && resp.status != 200)
        rc = unexpected(&q, &resp);
    if (!rc && !hc_response_header(&resp, "ETag", etag, sizeof etag))
        rc = HH_ERR_IO;
    if (!rc)
        fprintf(xml, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", number, etag);
    hc_response_clear(&resp);
    return rc;
}

static hh_status multipart_end(const blob_s3 *s, const char *key, const char *id, const char *xml,
                               int exclusive)
{
    const sigv4_pair query[] = {{"uploadId", id}};
    s3_req q = {.method = "POST",
                .key = key,
                .query = query,
                .nquery = 1,
                .content_type = "application/xml",
                .extra = exclusive ? "If-None-Match: *" : NULL,
                .body = xml,
                .body_len = strlen(xml)};
    return write_object(s, &q);
}

static void multipart_abort(const blob_s3 *s, const char *key, const char *id)
{
    const sigv4_pair query[] = {{"uploadId", id}};
    s3_req q = {.method = "DELETE", .key = key, .query = query, .nquery = 1};
    hc_response resp;
    /* Best effort: a bucket lifecycle rule should also expire stale uploads. */
    if (!s3_call(s, &q, &resp) && resp.status != 204 && resp.status != 200)
        unexpected(&q, &resp);
    hc_response_clear(&resp);
}

static hh_status put_multipart(const blob_s3 *s, const char *key, const char *path, uint64_t size,
                               int exclusive)
{
    char id[256], *xml = NULL;
    size_t xml_len = 0;
    uint64_t parts = (size + s->part - 1) / s->part;
    if (parts > MAX_PARTS)
        return HH_ERR_LIMIT;
    hh_status rc = multipart_begin(s, key, id, sizeof id);
    if (rc)
        return rc;
    FILE *f = open_memstream(&xml, &xml_len);
    rc = f ? HH_OK : HH_ERR_NOMEM;
    if (f)
        fputs("<CompleteMultipartUpload>", f);
    for (uint64_t i = 0; !rc && i < parts; i++) {
        uint64_t off = i * s->part, len = size - off < s->part ? size - off : s->part;
        rc = multipart_part(s, key, id, (int)i + 1, path, off, len, f);
    }
    if (f) {
        fputs("</CompleteMultipartUpload>", f);
        if (fclose(f) && !rc)
            rc = HH_ERR_NOMEM;
    }
    if (!rc)
        rc = multipart_end(s, key, id, xml, exclusive);
    if (rc)
        multipart_abort(s, key, id);
    free(xml);
    return rc;
}

/* Stores the file at path as key; exclusive: refuse (HH_ERR_EXISTS) when key exists. */
static hh_status put_object(const blob_s3 *s, const char *key, const char *path, int exclusive)
{
    struct stat st;
    if (stat(path, &st) || !S_ISREG(st.st_mode)) {
        hh_warn("s3: cannot read %s to store %s: %s", path, key, strerror(errno));
        return HH_ERR_IO;
    }
    uint64_t size = (uint64_t)st.st_size;
    return size > s->part ? put_multipart(s, key, path, size, exclusive)
                          : put_single(s, key, path, size, exclusive);
}

static hh_status s3_put_file(blob_store *bs, const char *key, const char *path)
{
    return put_object((blob_s3 *)bs, key, path, 0);
}

/* ---- receiving in pieces: a private temporary file, stored on commit ---- */

typedef struct s3_writer {
    blob_writer base;
    int fd;
    char tmp[PATH_MAX];
    char key[512];
} s3_writer;

static hh_status s3_writer_new(blob_store *bs, const char *key, blob_writer **out)
{
    const char *dir = getenv("TMPDIR");
    s3_writer *w = calloc(1, sizeof *w);
    *out = NULL;
    if (!w)
        return HH_ERR_NOMEM;
    w->base.bs = bs;
    snprintf(w->key, sizeof w->key, "%s", key);
    snprintf(w->tmp, sizeof w->tmp, "%s/hh-s3-XXXXXX", dir && *dir ? dir : "/tmp");
    w->fd = mkstemp(w->tmp); /* O_EXCL, mode 0600 */
    if (w->fd < 0) {
        free(w);
        return HH_ERR_IO;
    }
    *out = &w->base;
    return HH_OK;
}

static hh_status s3_writer_write(blob_writer *bw, const void *data, size_t len)
{
    return hh_write_all(((s3_writer *)bw)->fd, data, len);
}

static void s3_writer_abort(blob_writer *bw)
{
    s3_writer *w = (s3_writer *)bw;
    if (w->fd >= 0)
        close(w->fd);
    unlink(w->tmp);
    free(w);
}

static hh_status s3_writer_commit(blob_writer *bw)
{
    s3_writer *w = (s3_writer *)bw;
    hh_status rc = close(w->fd) ? HH_ERR_IO : HH_OK;
    w->fd = -1;
    if (!rc)
        rc = put_object((blob_s3 *)w->base.bs, w->key, w->tmp, 1);
    s3_writer_abort(bw);
    return rc;
}

/* ---- URLs ---- */

static hh_status s3_presign_put(blob_store *bs, const char *key, const char *content_type,
                                int64_t size, int64_t expires, char *url, size_t urlsize)
{
    int64_t now = hh_time_now_ms() / 1000;
    int64_t ttl = expires - now > 0 ? expires - now : 1;
    return blob_s3_presign(bs, "PUT", key, content_type, size, now, ttl, url, urlsize);
}

static char *s3_public_url(const blob_store *bs, const char *key, char *buf, size_t size)
{
    const blob_s3 *s = (const blob_s3 *)bs;
    if (s->cfg.public_url[0]) {
        snprintf(buf, size, "%s/%s", s->cfg.public_url, key);
        return buf;
    }
    int64_t now = hh_time_now_ms() / 1000;
    if (blob_s3_presign(bs, "GET", key, NULL, -1, now - now % 3600, BLOB_S3_GET_TTL, buf, size))
        buf[0] = '\0';
    return buf;
}

static void s3_free(blob_store *bs)
{
    blob_s3 *s = (blob_s3 *)bs;
    explicit_bzero(s->cfg.secret_access_key, sizeof s->cfg.secret_access_key);
    free(bs);
}

static const blob_ops s3_ops = {
    .put_file = s3_put_file,
    .fetch_file = s3_fetch_file,
    .stat = s3_stat,
    .open_read = s3_open_read,
    .remove = s3_remove,
    .presign_put = s3_presign_put,
    .check_put = NULL, /* uploads go to the bucket, not through us */
    .writer_new = s3_writer_new,
    .writer_write = s3_writer_write,
    .writer_commit = s3_writer_commit,
    .writer_abort = s3_writer_abort,
    .read_head = s3_read_head,
    .public_url = s3_public_url,
    .ping = s3_ping,
    .free = s3_free,
};

hh_status blob_s3_new(const blob_s3_config *cfg, blob_store **out)
{
    char why[160];
    *out = NULL;
    if (blob_s3_check_config(cfg, why, sizeof why)) {
        hh_error("%s", why);
        return HH_ERR_INVALID;
    }
    blob_s3 *s = calloc(1, sizeof *s);
    if (!s)
        return HH_ERR_NOMEM;
    s->base.ops = &s3_ops;
    s->cfg = *cfg;
    split_endpoint(cfg->endpoint, s->scheme, sizeof s->scheme, s->host, sizeof s->host);
    if (!s->cfg.region[0])
        snprintf(s->cfg.region, sizeof s->cfg.region, "us-east-1");
    size_t n = strlen(s->cfg.public_url);
    while (n > 0 && s->cfg.public_url[n - 1] == '/')
        s->cfg.public_url[--n] = '\0';
    s->part = cfg->part_size ? cfg->part_size : BLOB_S3_PART;
    *out = &s->base;
    return HH_OK;
}
