/*
 * test_presign.c - signed upload URLs: a signature verifies only for the
 * exact key, type, length and expiry it was made for; expiry is judged
 * against a clock the test sets; the secret file is made once, 0600, and
 * refused when others can read it; the local store's URL format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "blob/blob.h"
#include "blob/presign.h"

#define KEY                                                                                        \
    "videos/inputs/0190f3a2-7b1c-7d2e-8f3a-4b5c6d7e8f90/0190f3a2-7b1c-7d2e-8f3a-4b5c6d7e8f91.png"
#define KEY2                                                                                       \
    "videos/inputs/0190f3a2-7b1c-7d2e-8f3a-4b5c6d7e8f90/0190f3a2-7b1c-7d2e-8f3a-4b5c6d7e8f92.png"

static void signatures(void **state)
{
    uint8_t secret[PRESIGN_SECRET_LEN], other[PRESIGN_SECRET_LEN];
    memset(secret, 7, sizeof secret);
    memset(other, 8, sizeof other);
    char sig[PRESIGN_SIG_HEX];
    const int64_t exp = 1800000000;
    presign_sign(secret, KEY, "image/png", 1234, exp, sig);
    assert_int_equal(strlen(sig), 64);

    /* Valid up to and including the expiry second, expired one second after. */
    assert_int_equal(presign_check(secret, KEY, "image/png", 1234, exp, sig, exp - 900), HH_OK);
    assert_int_equal(presign_check(secret, KEY, "image/png", 1234, exp, sig, exp), HH_OK);
    assert_int_equal(presign_check(secret, KEY, "image/png", 1234, exp, sig, exp + 1),
                     HH_ERR_LIMIT);

    /* Each signed value matters. */
    assert_int_equal(presign_check(secret, KEY2, "image/png", 1234, exp, sig, 0), HH_ERR_INVALID);
    assert_int_equal(presign_check(secret, KEY, "image/jpeg", 1234, exp, sig, 0), HH_ERR_INVALID);
    assert_int_equal(presign_check(secret, KEY, "image/png", 1235, exp, sig, 0), HH_ERR_INVALID);
    assert_int_equal(presign_check(secret, KEY, "image/png", 1234, exp + 1, sig, 0),
                     HH_ERR_INVALID);
    assert_int_equal(presign_check(other, KEY, "image/png", 1234, exp, sig, 0), HH_ERR_INVALID);
    /* An expired URL with a forged later expiry is a bad signature, not a fresh URL. */
    assert_int_equal(presign_check(secret, KEY, "image/png", 1234, exp + 3600, sig, exp + 1),
                     HH_ERR_INVALID);

    /* Tampered, truncated, extended, missing signatures. */
    char bad[PRESIGN_SIG_HEX + 1];
    memcpy(bad, sig, sizeof sig);
    bad[10] = bad[10] == 'a' ? 'b' : 'a';
    assert_int_equal(presign_check(secret, KEY, "image/png", 1234, exp, bad, 0), HH_ERR_INVALID);
    memcpy(bad, sig, sizeof sig);
    bad[63] = '\0';
    assert_int_equal(presign_check(secret, KEY, "image/png", 1234, exp, bad, 0), HH_ERR_INVALID);
    memcpy(bad, sig, sizeof sig);
    bad[64] = '0';
    bad[65] = '\0';
    assert_int_equal(presign_check(secret, KEY, "image/png", 1234, exp, bad, 0), HH_ERR_INVALID);
    assert_int_equal(presign_check(secret, KEY, "image/png", 1234, exp, NULL, 0), HH_ERR_INVALID);
    assert_int_equal(presign_check(secret, KEY, "image/png", 1234, exp, "", 0), HH_ERR_INVALID);
}

static void secret_file_and_urls(void **state)
{
    char dir[] = "/tmp/hh-presign-XXXXXX", path[256], cmd[300];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/secret.key", dir);
    uint8_t a[PRESIGN_SECRET_LEN], b[PRESIGN_SECRET_LEN], zero[PRESIGN_SECRET_LEN] = {0};

    assert_int_equal(presign_secret_load(dir, a), HH_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, PRESIGN_SECRET_LEN);
    assert_memory_not_equal(a, zero, sizeof a);
    assert_int_equal(presign_secret_load(dir, b), HH_OK); /* the same secret on restart */
    assert_memory_equal(a, b, sizeof a);

    /* The local store signs with that secret and the URL carries expires and sig. */
    blob_store *bs;
    char url[1024], sig[PRESIGN_SIG_HEX], want[1024];
    assert_int_equal(blob_local_new(dir, "http://h:9/", &bs), HH_OK);
    assert_int_equal(blob_presign_put(bs, KEY, "image/png", 42, 1800000000, url, sizeof url),
                     HH_OK);
    presign_sign(a, KEY, "image/png", 42, 1800000000, sig);
    snprintf(want, sizeof want, "http://h:9/uploads/%s?expires=1800000000&sig=%s", KEY, sig);
    assert_string_equal(url, want);
    assert_int_equal(blob_check_put(bs, KEY, "image/png", 42, 1800000000, sig, 1799999999), HH_OK);
    assert_int_equal(blob_check_put(bs, KEY, "image/png", 42, 1800000000, sig, 1800000001),
                     HH_ERR_LIMIT);
    assert_int_equal(blob_presign_put(bs, KEY, "image/png", 42, 1800000000, url, 40), HH_ERR_LIMIT);
    blob_free(bs);

    /* A secret others can read is refused, not used. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(presign_secret_load(dir, b), HH_ERR_IO);
    assert_int_equal(blob_local_new(dir, "", &bs), HH_ERR_IO);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signatures),
        cmocka_unit_test(secret_file_and_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
