/*
 * netaddr.h - client addresses: ranges of trusted proxies (CIDR lists) and
 * the client behind them (X-Forwarded-For), with no sockets involved, so
 * it is unit-tested on its own.
 *
 * Behind a proxy every connection comes from the proxy's address; a limit
 * per address would then be one limit for everyone. With the proxies'
 * ranges configured (serve --trusted-proxy), the client is read from
 * X-Forwarded-For, from the right: each trusted proxy appends the address
 * it saw, so the first address from the right that is not a trusted proxy
 * is the client. Anything further left was written by the client and is
 * never believed. Without the setting, X-Forwarded-For is ignored.
 */
#ifndef HH_NETADDR_H
#define HH_NETADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/status.h"

#define HTTP_CIDRS_MAX 32
#define HTTP_ADDR_MAX  46 /* INET6_ADDRSTRLEN */

typedef struct http_cidr {
    int family;       /* AF_INET or AF_INET6 */
    uint8_t addr[16]; /* network order; 4 bytes used for AF_INET */
    unsigned bits;    /* prefix length */
} http_cidr;

typedef struct http_cidrs {
    size_t n;
    http_cidr v[HTTP_CIDRS_MAX];
} http_cidrs;

/*
 * Parses a comma-separated list of ranges ("10.0.0.0/8, 192.0.2.7,
 * fd00::/8"); an address without /N is that one address. Bits past the
 * prefix must be zero ("10.1.0.0/8" is refused: it is a typo or a
 * misunderstanding). HH_ERR_INVALID for an empty list, a bad item or more
 * than HTTP_CIDRS_MAX; *out is set only on success.
 */
hh_status http_cidrs_parse(const char *text, http_cidrs *out);

/* 1 when the address (text, as inet_ntop writes it) lies in one of the ranges. */
int http_cidrs_match(const http_cidrs *c, const char *ip);

/*
 * Writes to out (size >= HTTP_ADDR_MAX) the client address of a request
 * that came from peer with X-Forwarded-For xff (may be NULL): peer itself
 * unless it is a trusted proxy; else, walking xff from the right, the
 * first address that is not trusted. An entry that is not an address ends
 * the walk at the last trusted hop (the client never names itself). IPv4
 * written as IPv4-mapped IPv6 is taken as IPv4.
 */
void http_client_behind(const http_cidrs *trusted, const char *peer, const char *xff, char *out,
                        size_t size);

/*
 * 1 when addr (family AF_INET: 4 bytes; AF_INET6: 16) is a public unicast
 * address a server may be asked to connect to on a customer's behalf
 * (webhooks): not unspecified, loopback, private (RFC 1918, fc00::/7),
 * shared (100.64/10), link-local (169.254/16, fe80::/10, so the cloud
 * metadata address 169.254.169.254), multicast, reserved, benchmarking or
 * documentation. IPv6 forms that carry an IPv4 address (v4-mapped,
 * v4-compatible, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by it.
 * 0 for anything else, other families included.
 */
int http_addr_is_public(int family, const uint8_t *addr);
/* The same for a socket address (sockaddr_in or sockaddr_in6). */
int http_sockaddr_is_public(const struct sockaddr *sa);

#endif
