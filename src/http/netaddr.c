/*
 * netaddr.c - CIDR lists and the X-Forwarded-For walk (netaddr.h), on
 * inet_pton's binary forms so that "::ffff:10.0.0.1" and "10.0.0.1", or
 * two spellings of one IPv6 address, are the same address.
 */
#include "http/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* Parses text (len bytes) as an address into family and addr; 1 on success. */
static int parse_addr(const char *text, size_t len, int *family, uint8_t addr[16])
{
    char buf[HTTP_ADDR_MAX];
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, addr) == 1) {
        *family = AF_INET;
        return 1;
    }
    if (inet_pton(AF_INET6, buf, addr) != 1)
        return 0;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!memcmp(addr, mapped, sizeof mapped)) {
        memmove(addr, addr + 12, 4);
        *family = AF_INET;
        return 1;
    }
    *family = AF_INET6;
    return 1;
}

/* 1 when the first bits of a and b agree. */
static int prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, whole))
        return 0;
    if (!rest)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

/* Parses one "ADDR[/BITS]" of len bytes into c; 1 on success. */
static int parse_cidr(const char *s, size_t len, http_cidr *c)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    if (!parse_addr(s, alen, &c->family, c->addr))
        return 0;
    unsigned max = c->family == AF_INET ? 32 : 128;
    c->bits = max;
    if (slash) {
        const char *d = slash + 1;
        size_t dl = len - alen - 1;
        if (dl == 0 || dl > 3 || strspn(d, "0123456789") < dl)
            return 0;
        unsigned v = 0;
        for (size_t i = 0; i < dl; i++)
            v = v * 10 + (unsigned)(d[i] - '0');
        if (v > max)
            return 0;
        c->bits = v;
    }
    uint8_t masked[16];
    memcpy(masked, c->addr, sizeof masked);
    /* Bits past the prefix must be zero: compare the address with itself cut to the prefix. */
    for (unsigned b = c->bits; b < max; b++)
        masked[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
    return !memcmp(masked, c->addr, max / 8);
}

/* The length of s without spaces and tabs at both ends; *start gets where it begins. */
static size_t trimmed(const char *s, size_t len, const char **start)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    *start = s;
    return len;
}

hh_status http_cidrs_parse(const char *text, http_cidrs *out)
{
    http_cidrs c = {0};
    const char *p = text;
    if (!text)
        return HH_ERR_INVALID;
    for (;;) {
        size_t len = strcspn(p, ",");
        const char *item;
        size_t il = trimmed(p, len, &item);
        if (il == 0 || c.n == HTTP_CIDRS_MAX || !parse_cidr(item, il, &c.v[c.n]))
            return HH_ERR_INVALID;
        c.n++;
        if (!p[len])
            break;
        p += len + 1;
    }
    *out = c;
    return HH_OK;
}

/* Whether the binary address (family, addr) lies in one of c's ranges. */
static int match_bin(const http_cidrs *c, int family, const uint8_t *addr)
{
    for (size_t i = 0; c && i < c->n; i++)
        if (c->v[i].family == family && prefix_equal(c->v[i].addr, addr, c->v[i].bits))
            return 1;
    return 0;
}

int http_cidrs_match(const http_cidrs *c, const char *ip)
{
    int family;
    uint8_t addr[16];
    return ip && parse_addr(ip, strlen(ip), &family, addr) && match_bin(c, family, addr);
}

/* Writes the canonical text of (family, addr) to out. */
static void write_addr(int family, const uint8_t *addr, char *out, size_t size)
{
    if (!inet_ntop(family, addr, out, (socklen_t)size))
        snprintf(out, size, "unknown");
}

void http_client_behind(const http_cidrs *trusted, const char *peer, const char *xff, char *out,
                        size_t size)
{
    int family;
    uint8_t addr[16];
    snprintf(out, size, "%s", peer ? peer : "unknown");
    if (!trusted || !trusted->n || !xff || !http_cidrs_match(trusted, peer))
        return;
    /* From the right: the entry each trusted hop appended. */
    size_t end = strlen(xff);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        const char *item;
        size_t il = trimmed(xff + start, end - start, &item);
        if (!parse_addr(item, il, &family, addr))
            return; /* not an address: stop at the last trusted hop, already in out */
        write_addr(family, addr, out, size);
        if (!match_bin(trusted, family, addr))
            return;
        end = start ? start - 1 : 0;
    }
}

/* ---- public addresses (webhook targets) ---- */

/* IPv4 ranges no webhook may reach (IANA special-purpose registry, the non-global rows). */
static const http_cidr v4_closed[] = {
    {AF_INET, {0, 0, 0, 0}, 8},      {AF_INET, {10, 0, 0, 0}, 8},
    {AF_INET, {100, 64, 0, 0}, 10},  {AF_INET, {127, 0, 0, 0}, 8},
    {AF_INET, {169, 254, 0, 0}, 16}, {AF_INET, {172, 16, 0, 0}, 12},
    {AF_INET, {192, 0, 0, 0}, 24},   {AF_INET, {192, 0, 2, 0}, 24},
    {AF_INET, {192, 88, 99, 0}, 24}, {AF_INET, {192, 168, 0, 0}, 16},
    {AF_INET, {198, 18, 0, 0}, 15},  {AF_INET, {198, 51, 100, 0}, 24},
    {AF_INET, {203, 0, 113, 0}, 24}, {AF_INET, {224, 0, 0, 0}, 4},
    {AF_INET, {240, 0, 0, 0}, 4},
};

/* IPv6 ranges no webhook may reach; the IPv4-carrying forms are handled before. */
static const http_cidr v6_closed[] = {
    {AF_INET6, {0}, 96},                      /* ::/96: unspecified, loopback, v4-compat */
    {AF_INET6, {0x01, 0x00}, 64},             /* 100::/64 discard */
    {AF_INET6, {0x20, 0x01, 0x00, 0x00}, 23}, /* 2001::/23 IETF protocol assignments */
    {AF_INET6, {0x20, 0x01, 0x0d, 0xb8}, 32}, /* documentation */
    {AF_INET6, {0xfc, 0x00}, 7},              /* unique local (fd00:ec2::254 too) */
    {AF_INET6, {0xfe, 0x80}, 10},             /* link-local */
    {AF_INET6, {0xfe, 0xc0}, 10},             /* site-local (deprecated) */
    {AF_INET6, {0xff, 0x00}, 8},              /* multicast */
    {AF_INET6, {0x3f, 0xff, 0xf0, 0x00}, 20}, /* documentation (RFC 9637) */
    {AF_INET6, {0x5f, 0x00}, 8},              /* segment routing */
};

/* 1 when addr lies in one of the n ranges of list. */
static int in_ranges(const http_cidr *list, size_t n, const uint8_t *addr)
{
    for (size_t i = 0; i < n; i++)
        if (prefix_equal(addr, list[i].addr, list[i].bits))
            return 1;
    return 0;
}

int http_addr_is_public(int family, const uint8_t *addr)
{
    if (family == AF_INET)
        return !in_ranges(v4_closed, sizeof v4_closed / sizeof v4_closed[0], addr);
    if (family != AF_INET6)
        return 0;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};
    if (!memcmp(addr, mapped, 12) || !memcmp(addr, nat64, 12))
        return http_addr_is_public(AF_INET, addr + 12);
    if (addr[0] == 0x20 && addr[1] == 0x02) /* 6to4: the IPv4 address follows */
        return http_addr_is_public(AF_INET, addr + 2);
    /* ::/96 holds ::, ::1 and the v4-compatible form, none of them a place to send to. */
    return !in_ranges(v6_closed, sizeof v6_closed / sizeof v6_closed[0], addr);
}

int http_sockaddr_is_public(const struct sockaddr *sa)
{
    if (!sa)
        return 0;
    if (sa->sa_family == AF_INET)
        return http_addr_is_public(AF_INET,
                                   (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr);
    if (sa->sa_family == AF_INET6)
        return http_addr_is_public(AF_INET6,
                                   (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return 0;
}
