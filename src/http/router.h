/*
 * router.h - matching a method and path against the route table, with no
 * sockets involved (so it is unit-tested and fuzzed on its own).
 *
 * Patterns are literal segments, `{name}` segments matching one non-empty
 * segment, and an optional final `*` matching the rest of the path
 * ("/files/...": a final segment "*"). Matching is exact: no trailing-slash folding, no
 * percent-decoding (libmicrohttpd has already decoded the path).
 */
#ifndef HH_ROUTER_H
#define HH_ROUTER_H

#include <stddef.h>

#include "http/http.h"

#define ROUTER_MAX_PARAMS 4
#define ROUTER_MAX_PATH   2048

typedef struct router_match {
    const http_route *route; /* NULL when nothing matched this method */
    unsigned allowed;        /* methods of routes whose pattern matched the path */
    size_t nparams;
    struct {
        char name[32];
        char value[256];
    } params[ROUTER_MAX_PARAMS];
    const char *tail; /* points into the path given; "" when none */
} router_match;

/*
 * Finds the route for method and path. Returns HH_OK with m->route set;
 * HH_ERR_NOTFOUND when no pattern matches the path (404); HH_ERR_CONFLICT
 * when patterns match but none for this method (405, m->allowed says which);
 * HH_ERR_LIMIT for a path too long or with an oversized segment. m->tail
 * borrows from path.
 */
hh_status router_match_path(const http_route *routes, http_method method, const char *path,
                            router_match *m);

/* Parses a method name ("GET"); 0 for one we do not serve. */
http_method router_method(const char *name);

/* Writes the Allow header value for a method set ("GET, HEAD"). */
void router_allow_header(unsigned methods, char *buf, size_t size);

#endif
