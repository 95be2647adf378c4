/*
 * h_docs.c - the docs site's routes (api/docs_site.h):
 *   /docs, /docs/          302 to /docs/<lang>/ (the visitor's language)
 *   /docs/<slug>           302 to /docs/<lang>/<slug>
 *   /docs/<lang>/          the index of every page
 *   /docs/<lang>/<slug>    a page
 *   /docs/source/<name>.md the Markdown source of an operator document of
 *                          docs/ that the pages link to (text/plain)
 * The visitor's language is the remembered choice (the hh_lang cookie),
 * else Accept-Language (domain/i18n.h). Pages are built at start and
 * served from memory with an ETag.
 */
#include <stdio.h>
#include <string.h>

#include "api/dashboard.h"
#include "util/embed.h"

static void not_found(http_req *req)
{
    http_reply_error(req, API_ERR_NOT_FOUND, "No such page.", NULL);
}

static void redirect(http_req *req, const char *slug)
{
    hh_lang lang =
        i18n_negotiate(http_req_header(req, "Cookie"), http_req_header(req, "Accept-Language"));
    char to[160];
    snprintf(to, sizeof to, "/docs/%s/%s", i18n_lang_code(lang), slug);
    http_req_add_header(req, "Location", to);
    http_req_add_header(req, "Vary", "Accept-Language, Cookie");
    http_req_add_header(req, "Cache-Control", "no-cache");
    http_reply_bytes(req, 302, NULL, NULL, 0);
}

/* Sends body with its validator, or 304 when the client has it. */
static void send_text(hh_app *app, http_req *req, const char *type, const char *body, size_t len,
                      const char *etag, const char *lang)
{
    dashboard_security_headers(app, req);
    http_req_add_header(req, "ETag", etag);
    http_req_add_header(req, "Cache-Control", "no-cache");
    if (lang)
        http_req_add_header(req, "Content-Language", lang);
    const char *inm = http_req_header(req, "If-None-Match");
    if (inm && strstr(inm, etag)) {
        http_reply_bytes(req, 304, NULL, NULL, 0);
        return;
    }
    http_reply_bytes(req, 200, type, body, len);
}

static void source(hh_app *app, http_req *req, const char *name)
{
    char path[128];
    size_t n = strlen(name);
    if (n < 4 || n > 64 || strcmp(name + n - 3, ".md") ||
        strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-.") != n || name[0] == '.') {
        not_found(req);
        return;
    }
    snprintf(path, sizeof path, "docs/%s", name);
    const hh_embed_file *f = hh_embed_find(path);
    if (!f) {
        not_found(req);
        return;
    }
    char etag[32];
    snprintf(etag, sizeof etag, "\"src-%zx-%s\"", f->len, HH_VERSION);
    send_text(app, req, "text/plain; charset=utf-8", (const char *)f->data, f->len, etag, "en");
}

void h_docs(http_req *req, void *app_)
{
    hh_app *app = app_;
    const char *tail = http_req_tail(req); /* "" for /docs and /docs/ */
    if (!app->docs) {
        not_found(req);
        return;
    }
    if (!tail[0]) {
        redirect(req, "");
        return;
    }
    const char *slash = strchr(tail, '/');
    size_t first = slash ? (size_t)(slash - tail) : strlen(tail);
    if (!slash && docs_site_has(app->docs, tail)) {
        redirect(req, tail);
        return;
    }
    if (slash && first == 6 && !strncmp(tail, "source", 6)) {
        source(app, req, slash + 1);
        return;
    }
    hh_lang lang;
    const char *slug = slash ? slash + 1 : "";
    docs_page page;
    if (!i18n_lang_parse(tail, first, &lang) || strchr(slug, '/') ||
        !docs_site_page(app->docs, lang, slug, &page)) {
        not_found(req);
        return;
    }
    send_text(app, req, "text/html; charset=utf-8", page.html, page.len, page.etag,
              i18n_lang_code(lang));
}
