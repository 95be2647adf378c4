/*
 * test_blob_s3.c - the S3 object store (blob/blob_s3.h).
 *
 * On its own: the settings it refuses, the URLs it makes (public base,
 * presigned GETs on the hour, presigned PUTs that sign type and length,
 * default ports dropped), the operations that never reach the bucket, and
 * an endpoint where nothing listens (ping, stat and put fail with
 * HH_ERR_IO, never hang or crash).
 *
 * With --contract (tests/api/test_s3.sh runs it with HAPPYHORSE_S3_*
 * pointing at a real S3-compatible server that checks SigV4): every
 * operation against the bucket; multipart puts (test_s3.sh checks the
 * server's log for their parts); the writer; the create-time upload check
 * (blob_check_upload) and the fetch-time sniff; and the service itself
 * refusing presigned PUTs with another type, another length or an expired
 * signature. Virtual-host style is checked by URL (here and against the
 * AWS SDK in test_sigv4) but not against the server: s3rver verifies a
 * virtual-host request's SigV4 signature over the path-style path, which
 * AWS does not.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "blob/blob_s3.h"
#include "http/http_client.h"
#include "util/fsutil.h"
#include "util/timeutil.h"
#include "util/uuid.h"

static const unsigned char png_head[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
                                         0,    0,   0,   13,  'I',  'H',  'D',  'R'};

static blob_s3_config base_config(void)
{
    blob_s3_config c = {.force_path_style = 1};
    snprintf(c.endpoint, sizeof c.endpoint, "http://127.0.0.1:9000");
    snprintf(c.bucket, sizeof c.bucket, "hh-test");
    snprintf(c.access_key_id, sizeof c.access_key_id, "AKID");
    snprintf(c.secret_access_key, sizeof c.secret_access_key, "SECRET");
    return c;
}

static hh_status check(const blob_s3_config *c)
{
    char why[160];
    return blob_s3_check_config(c, why, sizeof why);
}

static void refuses_bad_settings(void **state)
{
    blob_s3_config c = base_config();
    assert_int_equal(check(&c), HH_OK);
    static const char *const bad_endpoints[] = {
        "", "127.0.0.1:9000", "ftp://h", "http://", "http://h/prefix", "http://u@h", "http://h?x"};
    for (size_t i = 0; i < sizeof bad_endpoints / sizeof *bad_endpoints; i++) {
        c = base_config();
        snprintf(c.endpoint, sizeof c.endpoint, "%s", bad_endpoints[i]);
        assert_int_equal(check(&c), HH_ERR_INVALID);
    }
    c = base_config();
    snprintf(c.endpoint, sizeof c.endpoint, "https://s3.example.com/");
    assert_int_equal(check(&c), HH_OK); /* a trailing slash is fine */
    static const char *const bad_buckets[] = {"ab", "Upper", "-lead", "trail.", "sp ace", "a/b"};
    for (size_t i = 0; i < sizeof bad_buckets / sizeof *bad_buckets; i++) {
        c = base_config();
        snprintf(c.bucket, sizeof c.bucket, "%s", bad_buckets[i]);
        assert_int_equal(check(&c), HH_ERR_INVALID);
    }
    c = base_config();
    c.secret_access_key[0] = '\0';
    assert_int_equal(check(&c), HH_ERR_INVALID);
    c = base_config();
    snprintf(c.public_url, sizeof c.public_url, "cdn.example.com");
    assert_int_equal(check(&c), HH_ERR_INVALID);
    c = base_config();
    c.part_size = BLOB_S3_MIN_PART - 1;
    assert_int_equal(check(&c), HH_ERR_INVALID);
    c.part_size = BLOB_S3_MIN_PART;
    assert_int_equal(check(&c), HH_OK);
    blob_store *bs = (blob_store *)&c; /* must be left alone on failure */
    c.bucket[0] = '\0';
    assert_int_equal(blob_s3_new(&c, &bs), HH_ERR_INVALID);
    assert_null(bs);
}

static void urls(void **state)
{
    blob_s3_config c = base_config();
    snprintf(c.public_url, sizeof c.public_url, "https://cdn.example.com/media//");
    blob_store *bs;
    char url[2048];
    assert_int_equal(blob_s3_new(&c, &bs), HH_OK);
    assert_string_equal(blob_public_url(bs, "videos/outputs/x.mp4", url, sizeof url),
                        "https://cdn.example.com/media/videos/outputs/x.mp4");
    blob_free(bs);

    c = base_config(); /* no public URL: presigned GETs, signed on the hour for a day */
    assert_int_equal(blob_s3_new(&c, &bs), HH_OK);
    blob_public_url(bs, "videos/outputs/x.mp4", url, sizeof url);
    assert_non_null(strstr(url, "http://127.0.0.1:9000/hh-test/videos/outputs/x.mp4?"));
    assert_non_null(strstr(url, "X-Amz-Expires=86400&"));
    assert_non_null(strstr(url, "X-Amz-SignedHeaders=host&"));
    const char *date = strstr(url, "X-Amz-Date=");
    assert_non_null(date);
    assert_memory_equal(date + strlen("X-Amz-Date=") + 11, "0000Z", 5);
    char again[2048];
    blob_public_url(bs, "videos/outputs/x.mp4", again, sizeof again);
    int64_t now = hh_time_now_ms() / 1000;
    if (now % 3600) /* within one hour the URL does not change, so caches keep it */
        assert_string_equal(url, again);
    assert_int_equal(
        blob_presign_put(bs, "videos/inputs/a.png", "image/png", 1234, now + 900, url, sizeof url),
        HH_OK);
    assert_non_null(strstr(url, "X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost"));
    assert_int_equal(
        blob_presign_put(bs, "videos/inputs/a.png", "image/png", 1234, now + 900, url, 40),
        HH_ERR_LIMIT);
    int fd = 7;
    assert_int_equal(blob_open_read(bs, "videos/outputs/x.mp4", &fd, NULL), HH_ERR_NOTFOUND);
    assert_int_equal(fd, -1);
    assert_int_equal(blob_check_put(bs, "k", "image/png", 1, now, "sig", now), HH_ERR_NOTFOUND);
    blob_free(bs);

    c = base_config();
    c.force_path_style = 0;
    snprintf(c.endpoint, sizeof c.endpoint, "https://s3.example.com:443");
    assert_int_equal(blob_s3_new(&c, &bs), HH_OK);
    blob_public_url(bs, "videos/outputs/x.mp4", url, sizeof url);
    assert_non_null(strstr(url, "https://hh-test.s3.example.com/videos/outputs/x.mp4?"));
    blob_free(bs);
}

/* A loopback port where nothing listens (bound, then closed). */
static int closed_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_true(s >= 0);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void unreachable(void **state)
{
    blob_s3_config c = base_config();
    snprintf(c.endpoint, sizeof c.endpoint, "http://127.0.0.1:%d", closed_port());
    blob_store *bs;
    blob_info info;
    char path[] = "/tmp/hh-s3-unreachable-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_bytes(path, "x", 1);
    assert_int_equal(blob_s3_new(&c, &bs), HH_OK); /* starts; the bucket is asked later */
    assert_int_equal(blob_ping(bs), HH_ERR_IO);
    assert_int_equal(blob_stat(bs, "videos/outputs/x.mp4", &info), HH_ERR_IO);
    assert_int_equal(blob_put_file(bs, "videos/outputs/x.mp4", path), HH_ERR_IO);
    assert_int_equal(blob_check_upload(bs, "videos/outputs/x.mp4", "video/mp4", 1), HH_ERR_IO);
    blob_free(bs);
    unlink(path);
}

/* ---- against a real server (--contract) ---- */

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        print_error("--contract needs %s\n", name);
    assert_non_null(v);
    assert_true(*v);
    return v;
}

static blob_s3_config server_config(void)
{
    blob_s3_config c = {.force_path_style = 1, .part_size = BLOB_S3_MIN_PART};
    snprintf(c.endpoint, sizeof c.endpoint, "%s", env("HAPPYHORSE_S3_ENDPOINT"));
    snprintf(c.bucket, sizeof c.bucket, "%s", env("HAPPYHORSE_S3_BUCKET"));
    snprintf(c.access_key_id, sizeof c.access_key_id, "%s", env("HAPPYHORSE_S3_ACCESS_KEY_ID"));
    snprintf(c.secret_access_key, sizeof c.secret_access_key, "%s",
             env("HAPPYHORSE_S3_SECRET_ACCESS_KEY"));
    return c;
}

typedef struct fixture {
    blob_store *bs;
    char dir[64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    blob_s3_config c = server_config();
    snprintf(f->dir, sizeof f->dir, "/tmp/hh-s3-contract-XXXXXX");
    if (!mkdtemp(f->dir) || blob_s3_new(&c, &f->bs))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    blob_free(f->bs);
    hh_remove_tree(f->dir);
    free(f);
    return 0;
}

/* A fresh key of kind ("inputs", "outputs") and extension. */
static void fresh_key(const char *folder, const char *ext, char *key, size_t size)
{
    char a[UUID_STR_LEN], b[UUID_STR_LEN];
    assert_int_equal(uuid_v7(a), HH_OK);
    assert_int_equal(uuid_v7(b), HH_OK);
    if (!strcmp(folder, "outputs"))
        snprintf(key, size, "videos/outputs/%s.%s", a, ext);
    else
        snprintf(key, size, "videos/%s/%s/%s.%s", folder, a, b, ext);
}

/* Writes n pseudo-random bytes (starting with head) to path. */
static void make_file(const char *path, size_t n, const void *head, size_t headlen)
{
    unsigned char *buf = malloc(n);
    assert_non_null(buf);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        buf[i] = (unsigned char)x;
    }
    memcpy(buf, head, headlen < n ? headlen : n);
    write_bytes(path, buf, n);
    free(buf);
}

static void assert_same_file(const char *a, const char *b)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cmp -s %s %s", a, b);
    assert_int_equal(system(cmd), 0);
}

/* Puts a fresh file of size bytes under a fresh key, stats it, fetches it back byte for byte. */
static void round_trip(fixture *f, size_t size, char *key, size_t keysize, blob_info *info)
{
    char src[128], dst[128];
    snprintf(src, sizeof src, "%s/src", f->dir);
    snprintf(dst, sizeof dst, "%s/dst", f->dir);
    fresh_key("outputs", "mp4", key, keysize);
    make_file(src, size, "", 0);
    assert_int_equal(blob_stat(f->bs, key, info), HH_ERR_NOTFOUND);
    assert_int_equal(blob_put_file(f->bs, key, src), HH_OK);
    assert_int_equal(blob_stat(f->bs, key, info), HH_OK);
    assert_int_equal(info->size, size);
    assert_int_equal(blob_fetch_file(f->bs, key, dst), HH_OK);
    assert_same_file(src, dst);
}

static void put_stat_fetch_remove(void **state)
{
    fixture *f = *state;
    char key[160], dst[128];
    blob_info info;
    snprintf(dst, sizeof dst, "%s/dst", f->dir);
    assert_int_equal(blob_ping(f->bs), HH_OK);
    round_trip(f, 100000, key, sizeof key, &info);
    assert_true(info.etag[0] == '"');
    int64_t now = hh_time_now_ms();
    assert_true(info.mtime_ms > now - 3600 * 1000 && info.mtime_ms < now + 3600 * 1000);
    assert_int_equal(blob_remove(f->bs, key), HH_OK);
    assert_int_equal(blob_stat(f->bs, key, &info), HH_ERR_NOTFOUND);
    assert_int_equal(blob_remove(f->bs, key), HH_OK); /* already gone is fine */
    unlink(dst);
    assert_int_equal(blob_fetch_file(f->bs, key, dst), HH_ERR_NOTFOUND);
    assert_int_equal(access(dst, F_OK), -1); /* no partial file left */
}

static void multipart(void **state)
{
    fixture *f = *state;
    char key[160];
    blob_info info;
    round_trip(f, 2 * BLOB_S3_MIN_PART + 12345, key, sizeof key, &info); /* 3 parts, last short */
    assert_int_equal(blob_remove(f->bs, key), HH_OK);
}

static void writer(void **state)
{
    fixture *f = *state;
    char key[160], dst[128];
    blob_writer *w;
    blob_info info;
    snprintf(dst, sizeof dst, "%s/w", f->dir);
    fresh_key("outputs", "mp4", key, sizeof key);
    assert_int_equal(blob_writer_new(f->bs, key, &w), HH_OK);
    assert_int_equal(blob_writer_write(w, "hello ", 6), HH_OK);
    assert_int_equal(blob_writer_write(w, "objects", 7), HH_OK);
    assert_int_equal(blob_stat(f->bs, key, &info), HH_ERR_NOTFOUND); /* nothing before commit */
    assert_int_equal(blob_writer_commit(w), HH_OK);
    assert_int_equal(blob_stat(f->bs, key, &info), HH_OK);
    assert_int_equal(info.size, 13);
    fresh_key("outputs", "mp4", key, sizeof key);
    assert_int_equal(blob_writer_new(f->bs, key, &w), HH_OK);
    assert_int_equal(blob_writer_write(w, "gone", 4), HH_OK);
    blob_writer_abort(w);
    assert_int_equal(blob_stat(f->bs, key, &info), HH_ERR_NOTFOUND);
}

static void upload_checks(void **state)
{
    fixture *f = *state;
    char key[160], src[128], dst[128];
    snprintf(src, sizeof src, "%s/up.png", f->dir);
    snprintf(dst, sizeof dst, "%s/in.png", f->dir);
    fresh_key("inputs", "png", key, sizeof key);
    assert_int_equal(blob_check_upload(f->bs, key, "image/png", 5000), HH_ERR_NOTFOUND);
    make_file(src, 5000, png_head, sizeof png_head);
    assert_int_equal(blob_put_file(f->bs, key, src), HH_OK);
    assert_int_equal(blob_check_upload(f->bs, key, "image/png", 4999), HH_ERR_NOTFOUND);
    assert_int_equal(blob_check_upload(f->bs, key, "image/png", 5000), HH_OK);
    assert_int_equal(blob_fetch_file(f->bs, key, dst), HH_OK);
    assert_same_file(src, dst);

    /* Replaced by bytes of another type after the check: the worker's fetch refuses them. */
    make_file(src, 5000, "GIF89a", 6);
    assert_int_equal(blob_put_file(f->bs, key, src), HH_OK);
    assert_int_equal(blob_fetch_file(f->bs, key, dst), HH_ERR_INVALID);
    assert_int_equal(access(dst, F_OK), -1);
    /* At create time the same object is refused and removed. */
    assert_int_equal(blob_check_upload(f->bs, key, "image/png", 5000), HH_ERR_INVALID);
    blob_info info;
    assert_int_equal(blob_stat(f->bs, key, &info), HH_ERR_NOTFOUND);
}

/* PUTs body (len bytes, declared as type) to url; returns the HTTP status. */
static long put_to(const char *url, const char *type, const void *body, size_t len)
{
    hc_request req = {0};
    hc_response resp;
    assert_int_equal(hc_request_set(&req, "PUT", url), HH_OK);
    assert_int_equal(hc_request_header(&req, "Content-Type: %s", type), HH_OK);
    req.body = malloc(len + 1);
    assert_non_null(req.body);
    memcpy(req.body, body, len);
    req.body_len = len;
    hc_limits lim = {0};
    assert_int_equal(hc_perform(&req, &lim, &resp), HH_OK);
    long status = resp.status;
    hc_request_clear(&req);
    hc_response_clear(&resp);
    return status;
}

static void presigned_puts(void **state)
{
    fixture *f = *state;
    char key[160], url[2048], body[64];
    blob_info info;
    memcpy(body, png_head, sizeof png_head);
    memset(body + sizeof png_head, 'x', sizeof body - sizeof png_head);
    fresh_key("inputs", "png", key, sizeof key);
    int64_t now = hh_time_now_ms() / 1000;
    assert_int_equal(blob_presign_put(f->bs, key, "image/png", 64, now + 900, url, sizeof url),
                     HH_OK);
    assert_int_equal(put_to(url, "image/jpeg", body, 64), 403); /* another type */
    assert_int_equal(put_to(url, "image/png", body, 63), 403);  /* another length */
    assert_int_equal(blob_stat(f->bs, key, &info), HH_ERR_NOTFOUND);
    assert_int_equal(put_to(url, "image/png", body, 64), 200);
    assert_int_equal(blob_check_upload(f->bs, key, "image/png", 64), HH_OK);

    fresh_key("inputs", "png", key, sizeof key); /* signed 20 minutes ago for 15: expired */
    assert_int_equal(
        blob_s3_presign(f->bs, "PUT", key, "image/png", 64, now - 1200, 900, url, sizeof url),
        HH_OK);
    assert_int_equal(put_to(url, "image/png", body, 64), 403);
    assert_int_equal(blob_stat(f->bs, key, &info), HH_ERR_NOTFOUND);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest offline[] = {
        cmocka_unit_test(refuses_bad_settings),
        cmocka_unit_test(urls),
        cmocka_unit_test(unreachable),
    };
    const struct CMUnitTest contract[] = {
        cmocka_unit_test(put_stat_fetch_remove),
        cmocka_unit_test(multipart),
        cmocka_unit_test(writer),
        cmocka_unit_test(upload_checks),
        cmocka_unit_test(presigned_puts),
    };
    if (argc == 2 && !strcmp(argv[1], "--contract"))
        return cmocka_run_group_tests(contract, setup, teardown);
    return cmocka_run_group_tests(offline, NULL, NULL);
}
