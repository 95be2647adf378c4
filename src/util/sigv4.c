/*
 * sigv4.c - AWS Signature Version 4 (see sigv4.h). The canonical request is
 * written to a memory stream in the specification's order: method, URI,
 * query, headers, signed header names, payload hash. Query pairs and
 * headers are sorted on copies, so the caller's arrays stay as given.
 */
#include "util/sigv4.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/crypto.h"

#define ALGORITHM "AWS4-HMAC-SHA256"

void sigv4_date(int64_t unix_s, char out[SIGV4_DATE_LEN])
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, SIGV4_DATE_LEN, "%Y%m%dT%H%M%SZ", &tm);
}

static int unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Writes the encoding of s to f. */
static void encode_to(FILE *f, const char *s, int keep_slash)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (unreserved(*p) || (keep_slash && *p == '/'))
            fputc(*p, f);
        else
            fprintf(f, "%%%02X", *p);
    }
}

hh_status sigv4_uri_encode(const char *s, int keep_slash, char *out, size_t size)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = unreserved(*p) || (keep_slash && *p == '/');
        if (n + (plain ? 1 : 3) >= size) {
            if (size)
                out[0] = '\0';
            return HH_ERR_LIMIT;
        }
        if (plain)
            out[n++] = (char)*p;
        else
            n += (size_t)snprintf(out + n, size - n, "%%%02X", *p);
    }
    if (!size)
        return HH_ERR_LIMIT;
    out[n] = '\0';
    return HH_OK;
}

/* ---- sorted copies of the query and the headers ---- */

typedef struct entry {
    char *name, *value;
    size_t order; /* position given, so equal names keep their order */
} entry;

static int entry_cmp(const void *a_, const void *b_)
{
    const entry *a = a_, *b = b_;
    int c = strcmp(a->name, b->name);
    if (!c)
        c = strcmp(a->value, b->value);
    if (!c)
        c = a->order < b->order ? -1 : a->order > b->order;
    return c;
}

static int header_cmp(const void *a_, const void *b_)
{
    const entry *a = a_, *b = b_;
    int c = strcmp(a->name, b->name);
    return c ? c : a->order < b->order ? -1 : a->order > b->order;
}

static void entries_free(entry *e, size_t n)
{
    for (size_t i = 0; e && i < n; i++) {
        free(e[i].name);
        free(e[i].value);
    }
    free(e);
}

/* A malloc'd copy of s encoded (query) or as is. */
static char *dup_encoded(const char *s, int encode)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        return NULL;
    if (encode)
        encode_to(f, s ? s : "", 0);
    else
        fputs(s ? s : "", f);
    if (fclose(f)) {
        free(out);
        return NULL;
    }
    return out;
}

/* A header value as signed: trimmed, each run of spaces and tabs folded to one space. */
static char *canonical_value(const char *v)
{
    char *out = malloc(strlen(v) + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    int space = 0;
    for (; *v == ' ' || *v == '\t'; v++)
        ;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            space = 1;
            continue;
        }
        if (space && n)
            out[n++] = ' ';
        space = 0;
        out[n++] = *v;
    }
    out[n] = '\0';
    return out;
}

static char *lower_dup(const char *s)
{
    char *out = strdup(s);
    for (char *p = out; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return out;
}

/* Sorted, encoded copies of q[0..n) and extra[0..nextra). */
static hh_status sorted_query(const sigv4_pair *q, size_t n, const sigv4_pair *extra, size_t nextra,
                              entry **out)
{
    entry *e = calloc(n + nextra + 1, sizeof *e);
    if (!e)
        return HH_ERR_NOMEM;
    for (size_t i = 0; i < n + nextra; i++) {
        const sigv4_pair *p = i < n ? &q[i] : &extra[i - n];
        e[i].name = dup_encoded(p->name, 1);
        e[i].value = dup_encoded(p->value, 1);
        e[i].order = i;
        if (!e[i].name || !e[i].value) {
            entries_free(e, n + nextra);
            return HH_ERR_NOMEM;
        }
    }
    qsort(e, n + nextra, sizeof *e, entry_cmp);
    *out = e;
    return HH_OK;
}

static hh_status sorted_headers(const sigv4_request *r, entry **out)
{
    entry *e = calloc(r->nheaders + 1, sizeof *e);
    if (!e)
        return HH_ERR_NOMEM;
    for (size_t i = 0; i < r->nheaders; i++) {
        e[i].name = lower_dup(r->headers[i].name);
        e[i].value = canonical_value(r->headers[i].value ? r->headers[i].value : "");
        e[i].order = i;
        if (!e[i].name || !e[i].value) {
            entries_free(e, r->nheaders);
            return HH_ERR_NOMEM;
        }
    }
    qsort(e, r->nheaders, sizeof *e, header_cmp);
    *out = e;
    return HH_OK;
}

/* "host;x-amz-date": the sorted, distinct header names joined by ';'. */
static void write_signed_names(FILE *f, const entry *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i && !strcmp(h[i].name, h[i - 1].name))
            continue;
        fprintf(f, "%s%s", i ? ";" : "", h[i].name);
    }
}

static void write_query(FILE *f, const entry *q, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%s=%s", i ? "&" : "", q[i].name, q[i].value);
}

static void write_canonical(FILE *f, const sigv4_request *r, const entry *q, size_t nq,
                            const entry *h)
{
    fprintf(f, "%s\n", r->method);
    encode_to(f, r->path && r->path[0] ? r->path : "/", 1);
    fputc('\n', f);
    write_query(f, q, nq);
    fputc('\n', f);
    for (size_t i = 0; i < r->nheaders; i++) {
        int same = i && !strcmp(h[i].name, h[i - 1].name);
        int last = i + 1 == r->nheaders || strcmp(h[i].name, h[i + 1].name);
        if (same)
            fprintf(f, ",%s", h[i].value);
        else
            fprintf(f, "%s:%s", h[i].name, h[i].value);
        if (last)
            fputc('\n', f);
    }
    fputc('\n', f);
    write_signed_names(f, h, r->nheaders);
    fprintf(f, "\n%s", r->payload_hash);
}

/* ---- signing ---- */

/* What one signature needs, built once per call and freed by sig_work_clear. */
typedef struct sig_work {
    entry *query, *headers;
    size_t nquery;
    char *creq;         /* the canonical request */
    char *signed_names; /* "host;x-amz-date" */
} sig_work;

static void sig_work_clear(sig_work *w)
{
    entries_free(w->query, w->nquery);
    free(w->creq);
    free(w->signed_names);
    memset(w, 0, sizeof *w);
}

static hh_status memstream_done(FILE *f, char **buf)
{
    if (fclose(f)) {
        free(*buf);
        *buf = NULL;
        return HH_ERR_NOMEM;
    }
    return HH_OK;
}

/* Builds the sorted query (r's plus extra) and headers, the canonical request and the names. */
static hh_status sig_work_build(const sigv4_request *r, const sigv4_pair *extra, size_t nextra,
                                sig_work *w)
{
    memset(w, 0, sizeof *w);
    if (!r->method || !r->payload_hash)
        return HH_ERR_INVALID;
    size_t len;
    hh_status rc = sorted_query(r->query, r->nquery, extra, nextra, &w->query);
    if (rc)
        return rc;
    w->nquery = r->nquery + nextra;
    entry *h = NULL;
    if ((rc = sorted_headers(r, &h)))
        goto fail;
    FILE *f = open_memstream(&w->creq, &len);
    rc = HH_ERR_NOMEM;
    if (!f)
        goto fail;
    write_canonical(f, r, w->query, w->nquery, h);
    if ((rc = memstream_done(f, &w->creq)))
        goto fail;
    if (!(f = open_memstream(&w->signed_names, &len))) {
        rc = HH_ERR_NOMEM;
        goto fail;
    }
    write_signed_names(f, h, r->nheaders);
    if ((rc = memstream_done(f, &w->signed_names)))
        goto fail;
    entries_free(h, r->nheaders);
    return HH_OK;
fail:
    entries_free(h, r->nheaders);
    sig_work_clear(w);
    return rc;
}

/* "20150830/us-east-1/service/aws4_request" */
static void scope_of(const sigv4_credentials *c, const char *amz_date, char *out, size_t size)
{
    snprintf(out, size, "%.8s/%s/%s/aws4_request", amz_date, c->region, c->service);
}

/* The hex signature of the canonical request creq at amz_date. */
static void sign(const sigv4_credentials *c, const char *amz_date, const char *creq,
                 char hex[2 * CRYPTO_SHA256_LEN + 1])
{
    uint8_t hash[CRYPTO_SHA256_LEN], k[CRYPTO_SHA256_LEN];
    char scope[256], hash_hex[2 * CRYPTO_SHA256_LEN + 1], sts[512], secret[300];
    scope_of(c, amz_date, scope, sizeof scope);
    crypto_sha256(creq, strlen(creq), hash);
    crypto_hex_encode(hash, sizeof hash, hash_hex, sizeof hash_hex);
    int n = snprintf(sts, sizeof sts, "%s\n%s\n%s\n%s", ALGORITHM, amz_date, scope, hash_hex);
    int s = snprintf(secret, sizeof secret, "AWS4%s", c->secret_access_key);
    crypto_hmac_sha256(secret, (size_t)s, amz_date, 8, k);
    crypto_hmac_sha256(k, sizeof k, c->region, strlen(c->region), k);
    crypto_hmac_sha256(k, sizeof k, c->service, strlen(c->service), k);
    crypto_hmac_sha256(k, sizeof k, "aws4_request", 12, k);
    crypto_hmac_sha256(k, sizeof k, sts, (size_t)n, hash);
    crypto_hex_encode(hash, sizeof hash, hex, 2 * CRYPTO_SHA256_LEN + 1);
    explicit_bzero(secret, sizeof secret);
    explicit_bzero(k, sizeof k);
}

static int fits(int n, size_t size)
{
    return n >= 0 && (size_t)n < size;
}

hh_status sigv4_canonical_request(const sigv4_request *r, char *out, size_t size)
{
    sig_work w;
    hh_status rc = sig_work_build(r, NULL, 0, &w);
    if (rc)
        return rc;
    rc = fits(snprintf(out, size, "%s", w.creq), size) ? HH_OK : HH_ERR_LIMIT;
    sig_work_clear(&w);
    return rc;
}

hh_status sigv4_authorization(const sigv4_credentials *c, const sigv4_request *r,
                              const char *amz_date, char *out, size_t size)
{
    sig_work w;
    char scope[256], sig[2 * CRYPTO_SHA256_LEN + 1];
    hh_status rc = sig_work_build(r, NULL, 0, &w);
    if (rc)
        return rc;
    sign(c, amz_date, w.creq, sig);
    scope_of(c, amz_date, scope, sizeof scope);
    int n = snprintf(out, size, "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s", ALGORITHM,
                     c->access_key_id, scope, w.signed_names, sig);
    sig_work_clear(&w);
    return fits(n, size) ? HH_OK : HH_ERR_LIMIT;
}

hh_status sigv4_presign_query(const sigv4_credentials *c, const sigv4_request *r,
                              const char *amz_date, int64_t expires_s, char *out, size_t size)
{
    if (expires_s < 1 || expires_s > SIGV4_MAX_EXPIRES)
        return HH_ERR_INVALID;
    /* The signed header names go into the query before signing: sort them once first. */
    sig_work names;
    hh_status rc = sig_work_build(r, NULL, 0, &names);
    if (rc)
        return rc;
    char scope[256], credential[400], expires[24], sig[2 * CRYPTO_SHA256_LEN + 1];
    scope_of(c, amz_date, scope, sizeof scope);
    snprintf(credential, sizeof credential, "%s/%s", c->access_key_id, scope);
    snprintf(expires, sizeof expires, "%lld", (long long)expires_s);
    const sigv4_pair extra[] = {
        {"X-Amz-Algorithm", ALGORITHM},
        {"X-Amz-Credential", credential},
        {"X-Amz-Date", amz_date},
        {"X-Amz-Expires", expires},
        {"X-Amz-SignedHeaders", names.signed_names},
    };
    sig_work w;
    rc = sig_work_build(r, extra, sizeof extra / sizeof *extra, &w);
    sig_work_clear(&names);
    if (rc)
        return rc;
    sign(c, amz_date, w.creq, sig);
    char *q = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&q, &len);
    if (!f) {
        sig_work_clear(&w);
        return HH_ERR_NOMEM;
    }
    write_query(f, w.query, w.nquery);
    rc = memstream_done(f, &q);
    if (!rc)
        rc =
            fits(snprintf(out, size, "%s&X-Amz-Signature=%s", q, sig), size) ? HH_OK : HH_ERR_LIMIT;
    free(q);
    sig_work_clear(&w);
    return rc;
}
