/*
 * router.c - a linear scan of the route table. The table has tens of
 * entries, so a scan with early rejection on the first differing segment
 * beats any index in both speed and obviousness.
 */
#include "http/router.h"

#include <stdio.h>
#include <string.h>

static const struct {
    http_method m;
    const char *name;
} methods[] = {
    {HTTP_GET, "GET"},       {HTTP_HEAD, "HEAD"},   {HTTP_POST, "POST"},       {HTTP_PUT, "PUT"},
    {HTTP_DELETE, "DELETE"}, {HTTP_PATCH, "PATCH"}, {HTTP_OPTIONS, "OPTIONS"},
};

http_method router_method(const char *name)
{
    for (size_t i = 0; name && i < sizeof methods / sizeof *methods; i++)
        if (!strcmp(methods[i].name, name))
            return methods[i].m;
    return 0;
}

void router_allow_header(unsigned set, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
        if (!(set & methods[i].m))
            continue;
        int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", methods[i].name);
        if (n < 0 || (size_t)n >= size - used)
            return;
        used += (size_t)n;
    }
}

/* Length of the segment starting at s (up to '/' or the end). */
static size_t seglen(const char *s)
{
    return strcspn(s, "/");
}

/*
 * Matches path against one pattern; on success fills params and tail.
 * Both start with '/'.
 */
static int match_one(const char *pat, const char *path, router_match *m)
{
    m->nparams = 0;
    m->tail = "";
    while (*pat == '/' && *path == '/') {
        pat++;
        path++;
        if (!strcmp(pat, "*")) {
            m->tail = path;
            return 1;
        }
        size_t pl = seglen(pat), sl = seglen(path);
        if (pat[0] == '{' && pl >= 2 && pat[pl - 1] == '}') {
            if (sl == 0 || m->nparams == ROUTER_MAX_PARAMS || sl >= sizeof m->params[0].value ||
                pl - 2 >= sizeof m->params[0].name)
                return 0;
            memcpy(m->params[m->nparams].name, pat + 1, pl - 2);
            m->params[m->nparams].name[pl - 2] = '\0';
            memcpy(m->params[m->nparams].value, path, sl);
            m->params[m->nparams].value[sl] = '\0';
            m->nparams++;
        } else if (pl != sl || memcmp(pat, path, pl)) {
            return 0;
        }
        pat += pl;
        path += sl;
    }
    return *pat == '\0' && *path == '\0';
}

hh_status router_match_path(const http_route *routes, http_method method, const char *path,
                            router_match *m)
{
    router_match scratch;
    memset(m, 0, sizeof *m);
    m->tail = "";
    if (!path || path[0] != '/' || strlen(path) > ROUTER_MAX_PATH)
        return path && path[0] == '/' ? HH_ERR_LIMIT : HH_ERR_NOTFOUND;
    /* HEAD is served wherever GET is. */
    http_method want = method == HTTP_HEAD ? (HTTP_HEAD | HTTP_GET) : method;
    for (const http_route *r = routes; r->pattern; r++) {
        if (!match_one(r->pattern, path, &scratch))
            continue;
        unsigned methods_of_route = r->methods | ((r->methods & HTTP_GET) ? HTTP_HEAD : 0);
        if (r->flags & HTTP_ROUTE_CORS)
            methods_of_route |= HTTP_OPTIONS;
        m->allowed |= methods_of_route;
        if (!m->route && method && (methods_of_route & want)) {
            const unsigned allowed = m->allowed;
            *m = scratch;
            m->allowed = allowed;
            m->route = r;
        }
    }
    if (m->route)
        return HH_OK;
    return m->allowed ? HH_ERR_CONFLICT : HH_ERR_NOTFOUND;
}
