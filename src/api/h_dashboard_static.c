/*
 * h_dashboard_static.c - serves the web app of web/: "/" is the sign-in
 * page (index.html), "/app" and everything under it the app shell
 * (app.html, which routes on the client), "/assets/<name>" the scripts,
 * styles and images, "/i18n/<lang>.json" the language catalogues (web/i18n/).
 * Nothing else is reachable: an asset name is one path
 * segment of [A-Za-z0-9._-] not starting with a dot, so no request can
 * climb out of the directory, and files are opened with O_NOFOLLOW.
 *
 * Every answer carries a strict Content-Security-Policy (no inline code
 * anywhere in web/, so no 'unsafe-inline'), nosniff, no framing, and a
 * validator (ETag from size and mtime) so a reload costs a 304.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/dashboard.h"

#define NAME_MAX_LEN 64

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".webp", "image/webp"},
    {".woff2", "font/woff2"},
    {".json", "application/json"},
};

/* The content type of a file name by its extension, or NULL when we do not serve it. */
static const char *type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return NULL;
}

/* 1 when name is a safe single segment: [A-Za-z0-9._-], 1..64 bytes, no leading dot. */
static int safe_name(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n <= NAME_MAX_LEN && name[0] != '.' &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* The origin (scheme://host[:port]) of the public URL, for the CSP's asset sources. */
static void public_origin(const hh_app *app, char *out, size_t size)
{
    const char *u = app->public_url;
    const char *host = strstr(u, "://");
    size_t n = host ? strcspn(host + 3, "/") + (size_t)(host + 3 - u) : 0;
    if (n >= size)
        n = 0;
    memcpy(out, u, n);
    out[n] = '\0';
}

void dashboard_security_headers(hh_app *app, http_req *req)
{
    char origin[256], csp[1024];
    public_origin(app, origin, sizeof origin);
    snprintf(csp, sizeof csp,
             "default-src 'self'; img-src 'self' data: blob: %s; media-src 'self' blob: %s; "
             "connect-src 'self' %s; script-src 'self'; style-src 'self'; object-src 'none'; "
             "base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
             origin, origin, origin);
    http_req_add_header(req, "Content-Security-Policy", csp);
    http_req_add_header(req, "Referrer-Policy", "same-origin");
    http_req_add_header(req, "X-Frame-Options", "DENY");
}

/* 1 when dir/index.html is a readable regular file. */
static int has_index(const char *dir)
{
    char f[1200];
    struct stat sb;
    int n = snprintf(f, sizeof f, "%s/index.html", dir);
    return n > 0 && (size_t)n < sizeof f && stat(f, &sb) == 0 && S_ISREG(sb.st_mode) &&
           access(f, R_OK) == 0;
}

hh_status dashboard_find_web_dir(const char *given, char *out, size_t size)
{
    out[0] = '\0';
    if (given) {
        if (!has_index(given) || (size_t)snprintf(out, size, "%s", given) >= size) {
            out[0] = '\0';
            return HH_ERR_NOTFOUND;
        }
        return HH_OK;
    }
    char exe[1024];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return HH_ERR_NOTFOUND;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    static const char *const rel[] = {"/../web", "/../share/happyhorse/web"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        char dir[1200];
        snprintf(dir, sizeof dir, "%s%s", exe, rel[i]);
        char *real = realpath(dir, NULL);
        int ok = real && has_index(real) && (size_t)snprintf(out, size, "%s", real) < size;
        free(real);
        if (ok)
            return HH_OK;
        out[0] = '\0';
    }
    return HH_ERR_NOTFOUND;
}

void h_dash_static(http_req *req, void *app_)
{
    hh_app *app = app_;
    const char *path = http_req_path(req);
    const char *name, *dir = "";
    int asset = 0;
    if (!strcmp(path, "/")) {
        name = "index.html";
    } else if (!strcmp(path, "/app") || !strncmp(path, "/app/", 5)) {
        name = "app.html";
    } else {
        name = http_req_tail(req);
        asset = 1;
        dir = !strncmp(path, "/i18n/", 6) ? "i18n/" : "assets/";
    }
    const char *type = type_of(name);
    if (!safe_name(name) || !type) {
        http_reply_error(req, API_ERR_NOT_FOUND, "No such file.", NULL);
        return;
    }
    char file[sizeof app->web_dir + 80];
    snprintf(file, sizeof file, "%s/%s%s", app->web_dir, dir, name);
    int fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0)
            close(fd);
        http_reply_error(req, API_ERR_NOT_FOUND, "No such file.", NULL);
        return;
    }
    char etag[64];
    snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)sb.st_size,
             (unsigned long long)sb.st_mtim.tv_sec * 1000000000ULL +
                 (unsigned long long)sb.st_mtim.tv_nsec);
    dashboard_security_headers(app, req);
    http_req_add_header(req, "ETag", etag);
    /* HTML is revalidated every time (a new release shows at once); assets for 5 minutes. */
    http_req_add_header(req, "Cache-Control", asset ? "public, max-age=300" : "no-cache");
    const char *inm = http_req_header(req, "If-None-Match");
    if (inm && strstr(inm, etag)) {
        close(fd);
        http_reply_bytes(req, 304, NULL, NULL, 0);
        return;
    }
    http_reply_fd(req, 200, type, fd, 0, (uint64_t)sb.st_size);
}
