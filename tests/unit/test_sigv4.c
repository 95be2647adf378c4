/*
 * test_sigv4.c - the SigV4 signer (util/sigv4.h) against published
 * answers. On its own it checks the examples AWS documents by value (a
 * vector of the Signature V4 test suite, the S3 guide's header-signed GET
 * and its presigned GET), the canonical request's trimming, folding and
 * encoding, and its buffer limits.
 *
 * With --vectors FILE (tests/api/test_s3.sh makes FILE with
 * tests/s3/vectors.mjs from the npm registry's packages) it also runs
 * every request of AWS's Signature V4 test suite as the AWS SDK for
 * JavaScript carries it, and compares blob_s3's presigned URLs with the
 * SDK presigner's (@aws-sdk/s3-request-presigner) for the same inputs.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "blob/blob_s3.h"
#include "util/crypto.h"
#include "util/sigv4.h"

static const char *vectors_path;

static const sigv4_credentials suite_key = {
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "service"};
static const sigv4_credentials s3_doc_key = {
    "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3"};

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void suite_get_vanilla(void **state)
{
    const sigv4_pair h[] = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
    sigv4_request r = {"GET", "/", NULL, 0, h, 2, EMPTY_SHA256};
    char auth[512];
    assert_int_equal(sigv4_authorization(&suite_key, &r, "20150830T123600Z", auth, sizeof auth),
                     HH_OK);
    assert_string_equal(auth, "AWS4-HMAC-SHA256 "
                              "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                              "SignedHeaders=host;x-amz-date, "
                              "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d7"
                              "63fbf31");
}

/* The S3 developer guide's GET Object example, signed in the Authorization header. */
static void s3_guide_get_object(void **state)
{
    const sigv4_pair h[] = {{"host", "examplebucket.s3.amazonaws.com"},
                            {"range", "bytes=0-9"},
                            {"x-amz-content-sha256", EMPTY_SHA256},
                            {"x-amz-date", "20130524T000000Z"}};
    sigv4_request r = {"GET", "/test.txt", NULL, 0, h, 4, EMPTY_SHA256};
    char auth[512];
    assert_int_equal(sigv4_authorization(&s3_doc_key, &r, "20130524T000000Z", auth, sizeof auth),
                     HH_OK);
    assert_non_null(strstr(auth, "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "));
    assert_non_null(
        strstr(auth, "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
}

/* The S3 developer guide's presigned GET example. */
static void s3_guide_presigned_get(void **state)
{
    const sigv4_pair h[] = {{"host", "examplebucket.s3.amazonaws.com"}};
    sigv4_request r = {"GET", "/test.txt", NULL, 0, h, 1, SIGV4_UNSIGNED_PAYLOAD};
    char q[1024];
    assert_int_equal(sigv4_presign_query(&s3_doc_key, &r, "20130524T000000Z", 86400, q, sizeof q),
                     HH_OK);
    assert_string_equal(q, "X-Amz-Algorithm=AWS4-HMAC-SHA256"
                           "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%"
                           "2Faws4_request"
                           "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
                           "&X-Amz-SignedHeaders=host"
                           "&X-Amz-Signature="
                           "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    assert_int_equal(sigv4_presign_query(&s3_doc_key, &r, "20130524T000000Z", 0, q, sizeof q),
                     HH_ERR_INVALID);
    assert_int_equal(sigv4_presign_query(&s3_doc_key, &r, "20130524T000000Z", SIGV4_MAX_EXPIRES + 1,
                                         q, sizeof q),
                     HH_ERR_INVALID);
    assert_int_equal(sigv4_presign_query(&s3_doc_key, &r, "20130524T000000Z", 60, q, 100),
                     HH_ERR_LIMIT);
}

static void canonical_form(void **state)
{
    const sigv4_pair h[] = {{"My-Header2", "  \"a   b\tc\"  "},
                            {"host", "h"},
                            {"my-header1", "v2"},
                            {"MY-HEADER1", "v1"}};
    const sigv4_pair q[] = {{"b", "2"}, {"a b", "x/y"}, {"a", ""}, {"b", "1"}};
    sigv4_request r = {"PUT", "/bucket/ke y/\xe1\x88\xb4", q, 4, h, 4, "UNSIGNED-PAYLOAD"};
    char creq[1024];
    assert_int_equal(sigv4_canonical_request(&r, creq, sizeof creq), HH_OK);
    assert_string_equal(creq, "PUT\n"
                              "/bucket/ke%20y/%E1%88%B4\n"
                              "a=&a%20b=x%2Fy&b=1&b=2\n"
                              "host:h\n"
                              "my-header1:v2,v1\n"
                              "my-header2:\"a b c\"\n"
                              "\n"
                              "host;my-header1;my-header2\n"
                              "UNSIGNED-PAYLOAD");
    assert_int_equal(sigv4_canonical_request(&r, creq, 20), HH_ERR_LIMIT);
    r.payload_hash = NULL;
    assert_int_equal(sigv4_canonical_request(&r, creq, sizeof creq), HH_ERR_INVALID);
}

static void encoding_and_dates(void **state)
{
    char out[16], date[SIGV4_DATE_LEN];
    assert_int_equal(sigv4_uri_encode("a/b c~", 1, out, sizeof out), HH_OK);
    assert_string_equal(out, "a/b%20c~");
    assert_int_equal(sigv4_uri_encode("a/b", 0, out, sizeof out), HH_OK);
    assert_string_equal(out, "a%2Fb");
    assert_int_equal(sigv4_uri_encode("12345", 0, out, 6), HH_OK); /* exactly fits */
    assert_int_equal(sigv4_uri_encode("123456", 0, out, 6), HH_ERR_LIMIT);
    assert_int_equal(sigv4_uri_encode("1234 ", 0, out, 7), HH_ERR_LIMIT); /* %20 needs 3 */
    sigv4_date(1440938160, date);
    assert_string_equal(date, "20150830T123600Z");
}

/* ---- the published vectors, from the npm packages (--vectors FILE) ---- */

static json_t *load_vectors(void)
{
    json_error_t err;
    json_t *doc = json_load_file(vectors_path, 0, &err);
    if (!doc)
        print_error("%s: %s\n", vectors_path, err.text);
    assert_non_null(doc);
    return doc;
}

/* Pairs of a [[name, value], ...] array into p (at most max). */
static size_t pairs_of(json_t *arr, sigv4_pair *p, size_t max)
{
    size_t i, n = 0;
    json_t *pair;
    json_array_foreach(arr, i, pair)
    {
        assert_true(n < max);
        p[n].name = json_string_value(json_array_get(pair, 0));
        p[n].value = json_string_value(json_array_get(pair, 1));
        assert_non_null(p[n].name);
        assert_non_null(p[n].value);
        n++;
    }
    return n;
}

static void aws_test_suite(void **state)
{
    json_t *doc = load_vectors(), *suite = json_object_get(doc, "suite"), *req;
    const char *date = json_string_value(json_object_get(suite, "date"));
    sigv4_credentials key = {
        json_string_value(json_object_get(suite, "accessKeyId")),
        json_string_value(json_object_get(suite, "secretAccessKey")),
        json_string_value(json_object_get(suite, "region")),
        json_string_value(json_object_get(suite, "service")),
    };
    assert_non_null(date);
    assert_non_null(key.secret_access_key);
    size_t i, ran = 0;
    json_array_foreach(json_object_get(suite, "requests"), i, req)
    {
        sigv4_pair q[16], h[16];
        const char *body = json_string_value(json_object_get(req, "body"));
        uint8_t d[CRYPTO_SHA256_LEN];
        char hash[2 * CRYPTO_SHA256_LEN + 1], auth[512];
        crypto_sha256(body, body ? strlen(body) : 0, d);
        crypto_hex_encode(d, sizeof d, hash, sizeof hash);
        sigv4_request r = {
            json_string_value(json_object_get(req, "method")),
            json_string_value(json_object_get(req, "path")),
            q,
            pairs_of(json_object_get(req, "query"), q, 16),
            h,
            pairs_of(json_object_get(req, "headers"), h, 16),
            hash,
        };
        assert_int_equal(sigv4_authorization(&key, &r, date, auth, sizeof auth), HH_OK);
        const char *want = json_string_value(json_object_get(req, "authorization"));
        if (!want || strcmp(auth, want))
            print_error("%s:\n  got  %s\n  want %s\n",
                        json_string_value(json_object_get(req, "name")), auth, want);
        assert_non_null(want);
        assert_string_equal(auth, want);
        ran++;
    }
    assert_true(ran >= 20); /* the suite has two dozen plain requests */
    json_decref(doc);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Compares two URLs: the same address and the same query parameters in any order. */
static void assert_same_url(const char *name, const char *got, const char *want)
{
    char a[4096], b[4096], *pa[32], *pb[32];
    size_t na = 0, nb = 0;
    snprintf(a, sizeof a, "%s", got);
    snprintf(b, sizeof b, "%s", want);
    char *qa = strchr(a, '?'), *qb = strchr(b, '?'), *save;
    assert_non_null(qa);
    assert_non_null(qb);
    *qa++ = '\0';
    *qb++ = '\0';
    if (strcmp(a, b))
        print_error("%s: address %s, want %s\n", name, a, b);
    assert_string_equal(a, b);
    for (char *t = strtok_r(qa, "&", &save); t && na < 32; t = strtok_r(NULL, "&", &save))
        pa[na++] = t;
    for (char *t = strtok_r(qb, "&", &save); t && nb < 32; t = strtok_r(NULL, "&", &save))
        pb[nb++] = t;
    qsort(pa, na, sizeof *pa, str_cmp);
    qsort(pb, nb, sizeof *pb, str_cmp);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        if (strcmp(pa[i], pb[i]))
            print_error("%s: parameter %s, want %s\n", name, pa[i], pb[i]);
        assert_string_equal(pa[i], pb[i]);
    }
}

static void sdk_presigner(void **state)
{
    json_t *doc = load_vectors(), *c;
    size_t i, ran = 0;
    json_array_foreach(json_object_get(doc, "presign"), i, c)
    {
        blob_s3_config cfg = {.force_path_style = json_is_true(json_object_get(c, "pathStyle"))};
        snprintf(cfg.endpoint, sizeof cfg.endpoint, "%s",
                 json_string_value(json_object_get(c, "endpoint")));
        snprintf(cfg.bucket, sizeof cfg.bucket, "%s",
                 json_string_value(json_object_get(c, "bucket")));
        snprintf(cfg.region, sizeof cfg.region, "%s",
                 json_string_value(json_object_get(c, "region")));
        snprintf(cfg.access_key_id, sizeof cfg.access_key_id, "%s",
                 json_string_value(json_object_get(c, "accessKeyId")));
        snprintf(cfg.secret_access_key, sizeof cfg.secret_access_key, "%s",
                 json_string_value(json_object_get(c, "secretAccessKey")));
        blob_store *bs;
        assert_int_equal(blob_s3_new(&cfg, &bs), HH_OK);
        const char *type = json_string_value(json_object_get(c, "contentType"));
        char url[2048];
        assert_int_equal(blob_s3_presign(bs, json_string_value(json_object_get(c, "method")),
                                         json_string_value(json_object_get(c, "key")), type,
                                         type ? json_integer_value(json_object_get(c, "size")) : -1,
                                         json_integer_value(json_object_get(c, "signedAt")),
                                         json_integer_value(json_object_get(c, "expires")), url,
                                         sizeof url),
                         HH_OK);
        assert_same_url(json_string_value(json_object_get(c, "name")), url,
                        json_string_value(json_object_get(c, "url")));
        blob_free(bs);
        ran++;
    }
    assert_true(ran >= 4);
    json_decref(doc);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest offline[] = {
        cmocka_unit_test(suite_get_vanilla),      cmocka_unit_test(s3_guide_get_object),
        cmocka_unit_test(s3_guide_presigned_get), cmocka_unit_test(canonical_form),
        cmocka_unit_test(encoding_and_dates),
    };
    const struct CMUnitTest published[] = {
        cmocka_unit_test(aws_test_suite),
        cmocka_unit_test(sdk_presigner),
    };
    if (argc == 3 && !strcmp(argv[1], "--vectors")) {
        vectors_path = argv[2];
        return cmocka_run_group_tests(published, NULL, NULL);
    }
    return cmocka_run_group_tests(offline, NULL, NULL);
}
