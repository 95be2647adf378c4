/*
 * test_router.c - route matching as data: literal segments, {params},
 * tails, 404 vs 405 with the Allow set (HEAD wherever GET, OPTIONS on
 * CORS routes), exactness (no trailing-slash or dot-segment folding) and
 * the limits on path and segment length.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/router.h"

static void h(http_req *req, void *app)
{
}

static const http_route routes[] = {
    {HTTP_GET, "/healthz", "healthz", 0, 0, h, NULL},
    {HTTP_POST, "/api/v1/videos", "create", 0, 0, h, NULL},
    {HTTP_GET, "/api/v1/videos/{id}", "get", 0, 0, h, NULL},
    {HTTP_DELETE, "/api/v1/keys/{id}", "delete", 0, 0, h, NULL},
    {HTTP_GET, "/a/{x}/b/{y}", "two", 0, 0, h, NULL},
    {HTTP_GET, "/files/*", "files", HTTP_ROUTE_CORS, 0, h, NULL},
    {HTTP_PUT, "/uploads/*", "put", HTTP_ROUTE_CORS, 0, h, NULL},
    {0, NULL, NULL, 0, 0, NULL, NULL},
};

static const struct {
    http_method method;
    const char *path;
    hh_status want;
    const char *route; /* matched route, or the Allow header for 405 */
    const char *param; /* "name=value" of the first param, or the tail */
} cases[] = {
    {HTTP_GET, "/healthz", HH_OK, "healthz", ""},
    {HTTP_HEAD, "/healthz", HH_OK, "healthz", ""},
    {HTTP_POST, "/healthz", HH_ERR_CONFLICT, "GET, HEAD", ""},
    {HTTP_GET, "/healthz/", HH_ERR_NOTFOUND, "", ""},
    {HTTP_GET, "/healthz/x", HH_ERR_NOTFOUND, "", ""},
    {HTTP_GET, "/Healthz", HH_ERR_NOTFOUND, "", ""},
    {HTTP_GET, "//healthz", HH_ERR_NOTFOUND, "", ""},
    {HTTP_GET, "/api/v1/./healthz", HH_ERR_NOTFOUND, "", ""},
    {HTTP_GET, "", HH_ERR_NOTFOUND, "", ""},
    {HTTP_GET, "healthz", HH_ERR_NOTFOUND, "", ""},
    {HTTP_POST, "/api/v1/videos", HH_OK, "create", ""},
    {HTTP_GET, "/api/v1/videos", HH_ERR_CONFLICT, "POST", ""},
    {HTTP_GET, "/api/v1/videos/abc", HH_OK, "get", "id=abc"},
    {HTTP_GET, "/api/v1/videos/..", HH_OK, "get", "id=.."}, /* handlers validate ids */
    {HTTP_GET, "/api/v1/videos/", HH_ERR_NOTFOUND, "", ""}, /* empty param */
    {HTTP_GET, "/api/v1/videos/a/b", HH_ERR_NOTFOUND, "", ""},
    {HTTP_PATCH, "/api/v1/videos/abc", HH_ERR_CONFLICT, "GET, HEAD", ""},
    {0, "/api/v1/videos/abc", HH_ERR_CONFLICT, "GET, HEAD", ""}, /* unknown method */
    {HTTP_DELETE, "/api/v1/keys/k1", HH_OK, "delete", "id=k1"},
    {HTTP_GET, "/a/1/b/2", HH_OK, "two", "x=1"},
    {HTTP_GET, "/a/1/c/2", HH_ERR_NOTFOUND, "", ""},
    {HTTP_GET, "/files/videos/outputs/x.mp4", HH_OK, "files", "videos/outputs/x.mp4"},
    {HTTP_GET, "/files/", HH_OK, "files", ""},
    {HTTP_GET, "/files", HH_ERR_NOTFOUND, "", ""},
    {HTTP_OPTIONS, "/files/x", HH_OK, "files", "x"}, /* preflight: the server answers it */
    {HTTP_POST, "/files/x", HH_ERR_CONFLICT, "GET, HEAD, OPTIONS", ""},
    {HTTP_PUT, "/uploads/videos/inputs/u/a.png", HH_OK, "put", "videos/inputs/u/a.png"},
    {HTTP_GET, "/uploads/x", HH_ERR_CONFLICT, "PUT, OPTIONS", ""},
};

static void table(void **state)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        router_match m;
        hh_status rc = router_match_path(routes, cases[i].method, cases[i].path, &m);
        if (rc != cases[i].want)
            fail_msg("case %zu %s: %s, want %s", i, cases[i].path, hh_status_str(rc),
                     hh_status_str(cases[i].want));
        if (rc == HH_OK) {
            assert_string_equal(m.route->name, cases[i].route);
            char got[300] = "";
            if (m.nparams)
                snprintf(got, sizeof got, "%s=%s", m.params[0].name, m.params[0].value);
            else
                snprintf(got, sizeof got, "%s", m.tail);
            if (strcmp(got, cases[i].param))
                fail_msg("case %zu %s: param/tail \"%s\", want \"%s\"", i, cases[i].path, got,
                         cases[i].param);
        } else if (rc == HH_ERR_CONFLICT) {
            char allow[96];
            router_allow_header(m.allowed, allow, sizeof allow);
            if (strcmp(allow, cases[i].route))
                fail_msg("case %zu %s: Allow \"%s\", want \"%s\"", i, cases[i].path, allow,
                         cases[i].route);
        }
    }
}

static void limits(void **state)
{
    char path[ROUTER_MAX_PATH + 16];
    router_match m;
    /* A path at the limit is matched (404 here), one past it is refused as too long. */
    memset(path, 'a', sizeof path);
    path[0] = '/';
    path[ROUTER_MAX_PATH] = '\0';
    assert_int_equal(router_match_path(routes, HTTP_GET, path, &m), HH_ERR_NOTFOUND);
    path[ROUTER_MAX_PATH] = 'a';
    path[ROUTER_MAX_PATH + 1] = '\0';
    assert_int_equal(router_match_path(routes, HTTP_GET, path, &m), HH_ERR_LIMIT);
    /* A parameter longer than its buffer does not match rather than being cut. */
    char id[300];
    snprintf(path, sizeof path, "/api/v1/videos/%s", (memset(id, 'x', 255), id[255] = 0, id));
    assert_int_equal(router_match_path(routes, HTTP_GET, path, &m), HH_OK);
    snprintf(path, sizeof path, "/api/v1/videos/%s", (memset(id, 'x', 256), id[256] = 0, id));
    assert_int_equal(router_match_path(routes, HTTP_GET, path, &m), HH_ERR_NOTFOUND);
    assert_int_equal(router_method("GET"), HTTP_GET);
    assert_int_equal(router_method("get"), 0);
    assert_int_equal(router_method("BREW"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(table), cmocka_unit_test(limits)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
