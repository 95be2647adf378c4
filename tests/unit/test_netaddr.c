/*
 * test_netaddr.c - trusted-proxy ranges and the client behind them: CIDR
 * parsing at the edges (/0, /32, /128, bits past the prefix, junk), IPv4
 * written as IPv4-mapped IPv6, and the X-Forwarded-For walk from the
 * right (a client cannot name itself, a hop that is not trusted ends it);
 * which addresses a webhook may reach, at the edges of each closed range.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <string.h>

#include <cmocka.h>

#include "http/netaddr.h"

/* http_addr_is_public of an address in text. */
static int public(const char *text)
{
    uint8_t a[16];
    if (inet_pton(AF_INET, text, a) == 1)
        return http_addr_is_public(AF_INET, a);
    assert_int_equal(inet_pton(AF_INET6, text, a), 1);
    return http_addr_is_public(AF_INET6, a);
}

static void public_addresses(void **state)
{
    (void)state;
    const char *closed[] = {"0.0.0.0",
                            "127.0.0.1",
                            "127.255.255.255",
                            "10.0.0.0",
                            "10.255.255.255",
                            "172.16.0.0",
                            "172.31.255.255",
                            "192.168.0.1",
                            "169.254.0.1",
                            "169.254.169.254",
                            "100.64.0.0",
                            "100.127.255.255",
                            "192.0.0.8",
                            "192.0.2.1",
                            "198.18.0.1",
                            "198.19.255.255",
                            "198.51.100.1",
                            "203.0.113.1",
                            "224.0.0.1",
                            "239.1.2.3",
                            "240.0.0.1",
                            "255.255.255.255",
                            "::",
                            "::1",
                            "::ffff:127.0.0.1",
                            "::ffff:10.0.0.1",
                            "::ffff:169.254.169.254",
                            "::127.0.0.1",
                            "64:ff9b::a00:1",
                            "fe80::1",
                            "febf::1",
                            "fc00::1",
                            "fd00:ec2::254",
                            "fec0::1",
                            "ff02::1",
                            "2001:db8::1",
                            "2002:7f00:1::",
                            "2002:a9fe:a9fe::",
                            "100::1",
                            "2001::1",
                            NULL};
    for (int i = 0; closed[i]; i++)
        if (public(closed[i]))
            fail_msg("%s must not be public", closed[i]);
    const char *open[] = {"1.1.1.1",
                          "9.255.255.255",
                          "11.0.0.0",
                          "172.15.255.255",
                          "172.32.0.0",
                          "100.63.255.255",
                          "100.128.0.0",
                          "169.253.255.255",
                          "192.167.255.255",
                          "198.17.255.255",
                          "223.255.255.255",
                          "8.8.8.8",
                          "::ffff:8.8.8.8",
                          "64:ff9b::808:808",
                          "2606:4700::1111",
                          "2002:808:808::",
                          "2a00:1450::1",
                          "fe7f::1",
                          NULL};
    for (int i = 0; open[i]; i++)
        if (!public(open[i]))
            fail_msg("%s must be public", open[i]);
    assert_int_equal(http_addr_is_public(AF_UNIX, (const uint8_t *)"\0\0\0\0"), 0);
    assert_int_equal(http_sockaddr_is_public(NULL), 0);
}

static void parse_edges(void **state)
{
    (void)state;
    http_cidrs c;
    assert_int_equal(http_cidrs_parse("10.0.0.0/8", &c), HH_OK);
    assert_int_equal(c.n, 1);
    assert_int_equal(http_cidrs_parse(" 10.0.0.0/8 , 192.0.2.7,fd00::/8,::1 ", &c), HH_OK);
    assert_int_equal(c.n, 4);
    assert_int_equal(c.v[1].bits, 32);
    assert_int_equal(c.v[3].bits, 128);
    assert_int_equal(http_cidrs_parse("0.0.0.0/0", &c), HH_OK);
    assert_int_equal(http_cidrs_parse("::/0", &c), HH_OK);
    assert_int_equal(http_cidrs_parse("192.0.2.7/32", &c), HH_OK);
    const char *bad[] = {"",          " ",           "10.0.0.0/33",   "::/129", "10.1.0.0/8",
                         "10.0.0.0/", "10.0.0.0/x",  "10.0.0.0/8,",   ",::1",   "example.com",
                         "10.0.0",    "1.2.3.4/08a", "10.0.0.0/8//1", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(http_cidrs_parse(bad[i], &c), HH_ERR_INVALID);
    assert_int_equal(http_cidrs_parse(NULL, &c), HH_ERR_INVALID);
}

static void match_edges(void **state)
{
    (void)state;
    http_cidrs c;
    assert_int_equal(http_cidrs_parse("10.0.0.0/8, 192.0.2.0/25, fd00::/8", &c), HH_OK);
    assert_true(http_cidrs_match(&c, "10.0.0.0"));
    assert_true(http_cidrs_match(&c, "10.255.255.255"));
    assert_false(http_cidrs_match(&c, "11.0.0.0"));
    assert_false(http_cidrs_match(&c, "9.255.255.255"));
    assert_true(http_cidrs_match(&c, "192.0.2.127"));
    assert_false(http_cidrs_match(&c, "192.0.2.128"));
    assert_true(http_cidrs_match(&c, "::ffff:10.1.2.3")); /* IPv4-mapped is IPv4 */
    assert_true(http_cidrs_match(&c, "fdab::1"));
    assert_false(http_cidrs_match(&c, "fe00::1"));
    assert_false(http_cidrs_match(&c, "nonsense"));
    assert_false(http_cidrs_match(&c, NULL));
    assert_false(http_cidrs_match(NULL, "10.0.0.1"));
}

static void forwarded_walk(void **state)
{
    (void)state;
    http_cidrs t;
    char out[HTTP_ADDR_MAX];
    assert_int_equal(http_cidrs_parse("10.0.0.0/8", &t), HH_OK);
    /* A peer that is not a proxy: its own address, whatever the header says. */
    http_client_behind(&t, "203.0.113.9", "198.51.100.1", out, sizeof out);
    assert_string_equal(out, "203.0.113.9");
    /* One proxy: the address it appended. */
    http_client_behind(&t, "10.0.0.2", "198.51.100.1", out, sizeof out);
    assert_string_equal(out, "198.51.100.1");
    /* The client's own entries to the left are never believed. */
    http_client_behind(&t, "10.0.0.2", "1.1.1.1, 198.51.100.1", out, sizeof out);
    assert_string_equal(out, "198.51.100.1");
    /* Two proxies in a row: skip both. */
    http_client_behind(&t, "10.0.0.2", "1.1.1.1,198.51.100.1, 10.9.9.9", out, sizeof out);
    assert_string_equal(out, "198.51.100.1");
    /* Only proxies: the leftmost. */
    http_client_behind(&t, "10.0.0.2", "10.0.0.5, 10.0.0.4", out, sizeof out);
    assert_string_equal(out, "10.0.0.5");
    /* Junk where the client should be: the last trusted hop. */
    http_client_behind(&t, "10.0.0.2", "junk, 10.0.0.4", out, sizeof out);
    assert_string_equal(out, "10.0.0.4");
    http_client_behind(&t, "10.0.0.2", "", out, sizeof out);
    assert_string_equal(out, "10.0.0.2");
    http_client_behind(&t, "10.0.0.2", NULL, out, sizeof out);
    assert_string_equal(out, "10.0.0.2");
    /* Canonical text: two spellings of one client are one client. */
    http_client_behind(&t, "10.0.0.2", "2001:DB8:0:0::1", out, sizeof out);
    assert_string_equal(out, "2001:db8::1");
    http_client_behind(&t, "10.0.0.2", "::ffff:198.51.100.1", out, sizeof out);
    assert_string_equal(out, "198.51.100.1");
    /* No trusted proxies: the peer. */
    http_client_behind(NULL, "10.0.0.2", "198.51.100.1", out, sizeof out);
    assert_string_equal(out, "10.0.0.2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(public_addresses),
        cmocka_unit_test(parse_edges),
        cmocka_unit_test(match_edges),
        cmocka_unit_test(forwarded_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
