/*
 * test_crypto.c - the security primitives: SHA-256 and HMAC-SHA256 against
 * published vectors (FIPS 180-2, RFC 4231), hex and base64url against
 * RFC 4648 and their refusals, UUIDv7 shape and order, API key generation
 * and the shape check, Argon2id hashing and verification.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/apikey.h"
#include "util/crypto.h"
#include "util/password.h"
#include "util/timeutil.h"
#include "util/uuid.h"

static void assert_hex(const uint8_t *bytes, size_t n, const char *want)
{
    char hex[256];
    assert_int_equal(crypto_hex_encode(bytes, n, hex, sizeof hex), HH_OK);
    assert_string_equal(hex, want);
}

static void seal_round_trip_and_refusals(void **state)
{
    (void)state;
    uint8_t key[CRYPTO_SEAL_KEY_LEN] = {7}, other[CRYPTO_SEAL_KEY_LEN] = {8};
    const char text[] = "a webhook signing key of 32 byte";
    uint8_t box[64], box2[64], back[64];
    size_t n = 0, n2 = 0, m = 0;
    assert_int_equal(crypto_seal(key, text, 32, box, sizeof box, &n), HH_OK);
    assert_int_equal(n, 32 + CRYPTO_SEAL_OVERHEAD);
    assert_int_equal(crypto_seal(key, text, 32, box2, sizeof box2, &n2), HH_OK);
    assert_memory_not_equal(box, box2, n); /* a fresh nonce each time */
    assert_int_equal(crypto_open(key, box, n, back, sizeof back, &m), HH_OK);
    assert_int_equal(m, 32);
    assert_memory_equal(back, text, 32);
    assert_int_equal(crypto_open(other, box, n, back, sizeof back, &m), HH_ERR_INVALID);
    for (size_t i = 0; i < n; i += 7) { /* any byte changed, nonce, text or tag */
        box[i] ^= 1;
        assert_int_equal(crypto_open(key, box, n, back, sizeof back, &m), HH_ERR_INVALID);
        box[i] ^= 1;
    }
    assert_int_equal(crypto_open(key, box, CRYPTO_SEAL_OVERHEAD - 1, back, sizeof back, &m),
                     HH_ERR_INVALID);
    assert_int_equal(crypto_open(key, box, n, back, 31, &m), HH_ERR_LIMIT);
    assert_int_equal(crypto_seal(key, text, 32, box, 32 + CRYPTO_SEAL_OVERHEAD - 1, &n),
                     HH_ERR_LIMIT);
}

static void sha256_vectors(void **state)
{
    uint8_t d[32];
    crypto_sha256("abc", 3, d);
    assert_hex(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    crypto_sha256(NULL, 0, d);
    assert_hex(d, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    crypto_sha256(two, strlen(two), d);
    assert_hex(d, 32, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void hmac_rfc4231(void **state)
{
    uint8_t d[32];
    /* Test case 1 */
    uint8_t key1[20];
    memset(key1, 0x0b, sizeof key1);
    crypto_hmac_sha256(key1, sizeof key1, "Hi There", 8, d);
    assert_hex(d, 32, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    /* Test case 2: a key shorter than the block */
    const char *data2 = "what do ya want for nothing?";
    crypto_hmac_sha256("Jefe", 4, data2, strlen(data2), d);
    assert_hex(d, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* Test case 3: 0xaa key, 0xdd data */
    uint8_t key3[20], data3[50];
    memset(key3, 0xaa, sizeof key3);
    memset(data3, 0xdd, sizeof data3);
    crypto_hmac_sha256(key3, sizeof key3, data3, sizeof data3, d);
    assert_hex(d, 32, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    /* Test case 6: a key longer than the block (131 bytes of 0xaa) */
    uint8_t key6[131];
    memset(key6, 0xaa, sizeof key6);
    const char *data6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    crypto_hmac_sha256(key6, sizeof key6, data6, strlen(data6), d);
    assert_hex(d, 32, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void constant_time_equal(void **state)
{
    uint8_t a[32] = {1, 2, 3}, b[32] = {1, 2, 3};
    assert_true(crypto_equal(a, b, sizeof a));
    b[31] ^= 1;
    assert_false(crypto_equal(a, b, sizeof a));
    assert_true(crypto_equal(a, b, 0));
}

static void hex_round_trip_and_refusals(void **state)
{
    uint8_t in[] = {0x00, 0x7f, 0x80, 0xff}, out[8];
    size_t n = 0;
    assert_hex(in, 4, "007f80ff");
    assert_int_equal(crypto_hex_decode("007F80ff", 8, out, sizeof out, &n), HH_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(out, in, 4);
    assert_int_equal(crypto_hex_decode("abc", 3, out, sizeof out, &n), HH_ERR_INVALID);
    assert_int_equal(crypto_hex_decode("zz", 2, out, sizeof out, &n), HH_ERR_INVALID);
    assert_int_equal(crypto_hex_decode("0011", 4, out, 1, &n), HH_ERR_LIMIT);
    char small[8];
    assert_int_equal(crypto_hex_encode(in, 4, small, sizeof small), HH_ERR_LIMIT);
    assert_string_equal(small, "");
    char exact[9];
    assert_int_equal(crypto_hex_encode(in, 4, exact, sizeof exact), HH_OK);
}

static void b64url_rfc4648(void **state)
{
    static const struct {
        const char *in, *out;
    } v[] = {{"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
             {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char enc[32];
        uint8_t dec[32];
        size_t n = 99;
        size_t len = strlen(v[i].in);
        assert_int_equal(CRYPTO_B64URL_LEN(len), strlen(v[i].out));
        assert_int_equal(crypto_b64url_encode((const uint8_t *)v[i].in, len, enc, sizeof enc),
                         HH_OK);
        assert_string_equal(enc, v[i].out);
        assert_int_equal(crypto_b64url_decode(enc, strlen(enc), dec, sizeof dec, &n), HH_OK);
        assert_int_equal(n, len);
        assert_memory_equal(dec, v[i].in, len);
    }
}

static void b64url_alphabet_and_refusals(void **state)
{
    /* 0xfb 0xff 0xbf encodes to "-_-_" in base64url ("+/+/" in base64). */
    uint8_t in[] = {0xfb, 0xef, 0xbe, 0xfb, 0xff};
    char enc[16];
    assert_int_equal(crypto_b64url_encode(in, sizeof in, enc, sizeof enc), HH_OK);
    assert_string_equal(enc, "-----_8");
    uint8_t out[16];
    size_t n;
    assert_int_equal(crypto_b64url_decode("--+-", 4, out, sizeof out, &n), HH_ERR_INVALID);
    assert_int_equal(crypto_b64url_decode("ab/c", 4, out, sizeof out, &n), HH_ERR_INVALID);
    assert_int_equal(crypto_b64url_decode("Zg==", 4, out, sizeof out, &n), HH_ERR_INVALID);
    assert_int_equal(crypto_b64url_decode("Zm9vY", 5, out, sizeof out, &n), HH_ERR_INVALID);
    /* "Zh" has non-zero trailing bits: a second spelling of "f", refused. */
    assert_int_equal(crypto_b64url_decode("Zh", 2, out, sizeof out, &n), HH_ERR_INVALID);
    assert_int_equal(crypto_b64url_decode("Zm9vYmFy", 8, out, 5, &n), HH_ERR_LIMIT);
    char small[7];
    assert_int_equal(crypto_b64url_encode(in, sizeof in, small, sizeof small), HH_ERR_LIMIT);
    assert_string_equal(small, "");
    char exact[8]; /* 7 characters and the NUL */
    assert_int_equal(crypto_b64url_encode(in, sizeof in, exact, sizeof exact), HH_OK);
}

static void random_bytes_differ(void **state)
{
    uint8_t a[32], b[32];
    assert_int_equal(crypto_random(a, sizeof a), HH_OK);
    assert_int_equal(crypto_random(b, sizeof b), HH_OK);
    assert_memory_not_equal(a, b, sizeof a);
}

static void uuid_shape(void **state)
{
    char id[UUID_STR_LEN];
    int64_t before = hh_time_now_ms();
    assert_int_equal(uuid_v7(id), HH_OK);
    int64_t after = hh_time_now_ms();
    assert_int_equal(strlen(id), 36);
    assert_true(uuid_is_valid(id));
    assert_int_equal(id[14], '7');
    assert_non_null(strchr("89ab", id[19]));
    assert_in_range(uuid_v7_time_ms(id), before, after);
}

static void uuid_strictly_increasing(void **state)
{
    enum { N = 5000 };
    char prev[UUID_STR_LEN], cur[UUID_STR_LEN];
    assert_int_equal(uuid_v7(prev), HH_OK);
    for (int i = 0; i < N; i++) {
        assert_int_equal(uuid_v7(cur), HH_OK);
        assert_true(uuid_is_valid(cur));
        assert_int_equal(cur[14], '7');
        assert_non_null(strchr("89ab", cur[19]));
        if (strcmp(prev, cur) >= 0)
            fail_msg("not increasing: %s then %s", prev, cur);
        memcpy(prev, cur, sizeof cur);
    }
}

static void uuid_validator(void **state)
{
    assert_true(uuid_is_valid("01890a5d-ac96-774b-bcce-b302099a8057"));
    assert_true(uuid_is_valid("00000000-0000-0000-0000-000000000000"));
    assert_false(uuid_is_valid(NULL));
    assert_false(uuid_is_valid(""));
    assert_false(uuid_is_valid("01890A5D-AC96-774B-BCCE-B302099A8057"));  /* upper case */
    assert_false(uuid_is_valid("01890a5d-ac96-774b-bcce-b302099a805"));   /* short */
    assert_false(uuid_is_valid("01890a5d-ac96-774b-bcce-b302099a80570")); /* long */
    assert_false(uuid_is_valid("01890a5dac96-774b-bcce-b302099a80570"));  /* dash missing */
    assert_false(uuid_is_valid("01890a5d-ac96-774b-bcce-b302099a805g"));  /* not hex */
    assert_false(uuid_is_valid("{1890a5d-ac96-774b-bcce-b302099a8057}"));
    assert_false(uuid_is_valid("../../../../../../../../etc/passwd/x"));
}

static void apikey_generation(void **state)
{
    enum { N = 2000 };
    char(*keys)[APIKEY_BUF] = calloc(N, sizeof *keys);
    assert_non_null(keys);
    for (int i = 0; i < N; i++) {
        assert_int_equal(apikey_generate(keys[i]), HH_OK);
        assert_int_equal(strlen(keys[i]), APIKEY_LEN);
        assert_memory_equal(keys[i], "hh_live_", 8);
        assert_true(apikey_is_well_formed(keys[i]));
        uint8_t secret[40];
        size_t n = 0;
        assert_int_equal(crypto_b64url_decode(keys[i] + 8, 43, secret, sizeof secret, &n), HH_OK);
        assert_int_equal(n, 32);
    }
    /* Sort-free uniqueness: every pair differs (N^2/2 memcmp is cheap). */
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            if (!memcmp(keys[i], keys[j], APIKEY_LEN))
                fail_msg("duplicate key at %d and %d", i, j);

    char prefix[APIKEY_PREFIX_BUF];
    apikey_prefix(keys[0], prefix);
    assert_int_equal(strlen(prefix), 12);
    assert_memory_equal(prefix, keys[0], 12);

    uint8_t h1[32], h2[32];
    apikey_hash(keys[0], h1);
    crypto_sha256(keys[0], APIKEY_LEN, h2);
    assert_memory_equal(h1, h2, 32);
    apikey_hash(keys[1], h2);
    assert_memory_not_equal(h1, h2, 32);
    free(keys);
}

static void apikey_shape_check(void **state)
{
    char key[APIKEY_BUF], bad[APIKEY_BUF + 4];
    assert_int_equal(apikey_generate(key), HH_OK);
    assert_true(apikey_is_well_formed(key));
    assert_false(apikey_is_well_formed(NULL));
    assert_false(apikey_is_well_formed(""));
    assert_false(apikey_is_well_formed("hh_live_"));

    memcpy(bad, key, sizeof key);
    memcpy(bad, "hh_test_", 8);
    assert_false(apikey_is_well_formed(bad));

    memcpy(bad, key, sizeof key);
    bad[APIKEY_LEN - 1] = '\0'; /* one short */
    assert_false(apikey_is_well_formed(bad));

    memcpy(bad, key, sizeof key);
    bad[APIKEY_LEN] = 'A';
    bad[APIKEY_LEN + 1] = '\0'; /* one long */
    assert_false(apikey_is_well_formed(bad));

    static const char not_alphabet[] = "+/=. \n%";
    for (size_t i = 0; not_alphabet[i]; i++) {
        memcpy(bad, key, sizeof key);
        bad[20] = not_alphabet[i];
        assert_false(apikey_is_well_formed(bad));
    }
    /* A last character with non-zero padding bits is not a key we issue. */
    memcpy(bad, key, sizeof key);
    bad[APIKEY_LEN - 1] = 'B';
    assert_false(apikey_is_well_formed(bad));
    bad[APIKEY_LEN - 1] = 'A';
    assert_true(apikey_is_well_formed(bad));
}

static void password_hash_and_verify(void **state)
{
    char h1[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];
    assert_int_equal(password_hash("correct horse", h1, sizeof h1), HH_OK);
    assert_int_equal(strncmp(h1, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
    assert_int_equal(password_verify(h1, "correct horse"), HH_OK);
    assert_int_equal(password_verify(h1, "correct horsf"), HH_ERR_INVALID);
    assert_int_equal(password_verify(h1, ""), HH_ERR_INVALID);
    /* Fresh salt each time: same password, different hash, both verify. */
    assert_int_equal(password_hash("correct horse", h2, sizeof h2), HH_OK);
    assert_string_not_equal(h1, h2);
    assert_int_equal(password_verify(h2, "correct horse"), HH_OK);
    /* Minimum length, at the boundary. */
    assert_int_equal(password_hash("1234567", h2, sizeof h2), HH_ERR_INVALID);
    assert_int_equal(password_hash("12345678", h2, sizeof h2), HH_OK);
    /* Ceiling. */
    char *big = malloc(PASSWORD_MAX_LEN + 2);
    assert_non_null(big);
    memset(big, 'x', PASSWORD_MAX_LEN + 1);
    big[PASSWORD_MAX_LEN + 1] = '\0';
    assert_int_equal(password_hash(big, h2, sizeof h2), HH_ERR_LIMIT);
    assert_int_equal(password_verify(h1, big), HH_ERR_INVALID);
    free(big);
    /* Garbage and other algorithms are refused, never crash. */
    assert_int_equal(password_verify("", "correct horse"), HH_ERR_INVALID);
    assert_int_equal(password_verify("$argon2id$garbage", "correct horse"), HH_ERR_INVALID);
    assert_int_equal(password_verify("$argon2i$v=19$m=19456,t=2,p=1$x$y", "correct horse"),
                     HH_ERR_INVALID);
    char tiny[16];
    assert_int_equal(password_hash("correct horse", tiny, sizeof tiny), HH_ERR_LIMIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seal_round_trip_and_refusals),
        cmocka_unit_test(sha256_vectors),
        cmocka_unit_test(hmac_rfc4231),
        cmocka_unit_test(constant_time_equal),
        cmocka_unit_test(hex_round_trip_and_refusals),
        cmocka_unit_test(b64url_rfc4648),
        cmocka_unit_test(b64url_alphabet_and_refusals),
        cmocka_unit_test(random_bytes_differ),
        cmocka_unit_test(uuid_shape),
        cmocka_unit_test(uuid_strictly_increasing),
        cmocka_unit_test(uuid_validator),
        cmocka_unit_test(apikey_generation),
        cmocka_unit_test(apikey_shape_check),
        cmocka_unit_test(password_hash_and_verify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
