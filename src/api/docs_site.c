/*
 * docs_site.c - builds the docs site of docs_site.h: renders every
 * embedded page of every language, checks the links, then writes each
 * page into the site's HTML frame (topbar, navigation, contents, pager).
 */
#include "api/docs_site.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/markdown.h"
#include "util/embed.h"
#include "util/hash.h"

/* The pages in reading order, each in the group the navigation shows it under. */
static const struct {
    const char *slug, *group;
} pages[] = {
    {"quick-start", "start"},
    {"workbench", "start"},
    {"prompts-and-references", "create"},
    {"prompt-templates", "create"},
    {"style-and-camera", "create"},
    {"output-quality", "create"},
    {"credits-plans-publishing", "operate"},
    {"security-and-limits", "operate"},
    {"customer-api", "integrate"},
    {"overview", "integrate"},
};
#define NPAGES (sizeof pages / sizeof pages[0])
static const char *const groups[] = {"start", "create", "operate", "integrate"};

typedef struct built {
    char *html;
    size_t len;
    char etag[24];
} built;

struct docs_site {
    md_doc doc[HH_LANG_COUNT][NPAGES];
    built page[HH_LANG_COUNT][NPAGES];
    built index[HH_LANG_COUNT];
    json_t *cat[HH_LANG_COUNT];
};

#define esc md_html_escape

static const char *T(const docs_site *s, hh_lang l, const char *key)
{
    return i18n_text(s->cat[l], key);
}

static int page_index(const char *slug, size_t n)
{
    for (size_t i = 0; i < NPAGES; i++)
        if (strlen(pages[i].slug) == n && !strncmp(pages[i].slug, slug, n))
            return (int)i;
    return -1;
}

/* 1 when doc has a level-2 heading of this id. */
static int has_anchor(const md_doc *doc, const char *id)
{
    for (size_t i = 0; i < doc->ntoc; i++)
        if (!strcmp(doc->toc[i].id, id))
            return 1;
    return 0;
}

/* Checks one link of page p in lang l; 0 when it resolves. */
static int check_link(const docs_site *s, hh_lang l, size_t p, const char *url, char *err,
                      size_t errsize)
{
    const char *lang = i18n_lang_code(l);
    if (!strncmp(url, "https://", 8) || !strncmp(url, "http://", 7) ||
        !strncmp(url, "mailto:", 7) || !strcmp(url, "/") || !strcmp(url, "/app") ||
        !strncmp(url, "/app/", 5))
        return 0;
    if (!strncmp(url, "/docs/source/", 13)) {
        char path[200];
        snprintf(path, sizeof path, "docs/%s", url + 13);
        if (!strchr(url + 13, '/') && hh_embed_find(path))
            return 0;
        snprintf(err, errsize, "docs/site/%s/%s.md: link %s: no such document", lang, pages[p].slug,
                 url);
        return 1;
    }
    const char *hash = strchr(url, '#');
    size_t n = hash ? (size_t)(hash - url) : strlen(url);
    int target = n ? page_index(url, n) : (int)p;
    if (target < 0 || (hash && !has_anchor(&s->doc[l][target], hash + 1))) {
        snprintf(err, errsize, "docs/site/%s/%s.md: link %s: no such %s", lang, pages[p].slug, url,
                 target < 0 ? "page" : "heading");
        return 1;
    }
    return 0;
}

static void topbar(FILE *f, const docs_site *s, hh_lang l, const char *slug)
{
    const char *lang = i18n_lang_code(l);
    hh_lang other = l == HH_LANG_ZH_CN ? HH_LANG_EN : HH_LANG_ZH_CN;
    char key[32];
    snprintf(key, sizeof key, "lang.%s", i18n_lang_code(other));
    fprintf(f, "<a class=\"skip-link\" href=\"#main\">");
    esc(f, T(s, l, "docs.skip"));
    fprintf(f,
            "</a>\n<header class=\"topbar docs-topbar\">\n<a class=\"brand\" href=\"/docs/%s/\">"
            "<img src=\"/assets/logo.svg\" alt=\"\" width=\"28\" height=\"28\"><span>",
            lang);
    esc(f, T(s, l, "docs.title"));
    fprintf(f, "</span></a>\n<nav class=\"nav\" aria-label=\"");
    esc(f, T(s, l, "docs.topNav"));
    fprintf(f, "\"><a href=\"/docs/%s/\"%s>", lang, slug[0] ? "" : " aria-current=\"page\"");
    esc(f, T(s, l, "docs.home"));
    fprintf(f, "</a><a href=\"/app\" id=\"docs-dashboard\">");
    esc(f, T(s, l, "docs.dashboard"));
    fprintf(f,
            "</a></nav>\n<a class=\"lang-switch\" id=\"lang-switch\" href=\"/docs/%s/%s\" "
            "hreflang=\"%s\" lang=\"%s\" data-lang=\"%s\" title=\"",
            i18n_lang_code(other), slug, i18n_lang_code(other), i18n_lang_code(other),
            i18n_lang_code(other));
    esc(f, T(s, l, "docs.language"));
    fprintf(f, "\">");
    esc(f, T(s, other, key));
    fprintf(f, "</a>\n</header>\n");
}

static void sidebar(FILE *f, const docs_site *s, hh_lang l, int current)
{
    const char *lang = i18n_lang_code(l);
    fprintf(f, "<nav class=\"docs-nav\" aria-label=\"");
    esc(f, T(s, l, "docs.toc"));
    fprintf(f, "\"><details id=\"docs-nav-box\"><summary>");
    esc(f, T(s, l, "docs.toc"));
    fprintf(f, "</summary>\n");
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        char key[48];
        snprintf(key, sizeof key, "docs.group.%s", groups[g]);
        fprintf(f, "<p class=\"docs-group\">");
        esc(f, T(s, l, key));
        fprintf(f, "</p><ul>\n");
        for (size_t i = 0; i < NPAGES; i++) {
            if (strcmp(pages[i].group, groups[g]))
                continue;
            fprintf(f, "<li><a href=\"/docs/%s/%s\"%s>", lang, pages[i].slug,
                    (int)i == current ? " aria-current=\"page\"" : "");
            esc(f, s->doc[l][i].title);
            fprintf(f, "</a></li>\n");
        }
        fprintf(f, "</ul>\n");
    }
    fprintf(f, "</details></nav>\n");
}

static void head(FILE *f, const docs_site *s, hh_lang l, const char *title, const char *lead)
{
    fprintf(f,
            "<!doctype html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
            i18n_lang_code(l));
    esc(f, title);
    fputs(" · ", f);
    esc(f, T(s, l, "docs.title"));
    fputs("</title>\n<meta name=\"description\" content=\"", f);
    esc(f, lead);
    fputs("\">\n<link rel=\"icon\" href=\"/assets/logo.svg\" type=\"image/svg+xml\">\n"
          "<link rel=\"stylesheet\" href=\"/assets/style.css\">\n"
          "<script type=\"module\" src=\"/assets/docs.js\"></script>\n</head>\n"
          "<body class=\"docs-page\">\n",
          f);
}

static void pager(FILE *f, const docs_site *s, hh_lang l, int p)
{
    const char *lang = i18n_lang_code(l);
    fprintf(f, "<nav class=\"docs-pager\" aria-label=\"");
    esc(f, T(s, l, "docs.pager"));
    fprintf(f, "\">");
    if (p > 0) {
        fprintf(f, "<a class=\"prev\" rel=\"prev\" href=\"/docs/%s/%s\"><span>", lang,
                pages[p - 1].slug);
        esc(f, T(s, l, "docs.prev"));
        fprintf(f, "</span>");
        esc(f, s->doc[l][p - 1].title);
        fprintf(f, "</a>");
    }
    if (p + 1 < (int)NPAGES) {
        fprintf(f, "<a class=\"next\" rel=\"next\" href=\"/docs/%s/%s\"><span>", lang,
                pages[p + 1].slug);
        esc(f, T(s, l, "docs.next"));
        fprintf(f, "</span>");
        esc(f, s->doc[l][p + 1].title);
        fprintf(f, "</a>");
    }
    fprintf(f, "</nav>\n");
}

static void contents(FILE *f, const docs_site *s, hh_lang l, const md_doc *d)
{
    if (!d->ntoc)
        return;
    fprintf(f, "<aside class=\"docs-toc\" aria-label=\"");
    esc(f, T(s, l, "docs.onThisPage"));
    fprintf(f, "\"><p>");
    esc(f, T(s, l, "docs.onThisPage"));
    fprintf(f, "</p><ul>\n");
    for (size_t i = 0; i < d->ntoc; i++) {
        fprintf(f, "<li><a href=\"#%s\">", d->toc[i].id);
        esc(f, d->toc[i].text);
        fprintf(f, "</a></li>\n");
    }
    fprintf(f, "</ul></aside>\n");
}

/* Writes page p (or the index when p < 0) of lang l into f. */
static void write_page(FILE *f, const docs_site *s, hh_lang l, int p)
{
    const char *lang = i18n_lang_code(l);
    const md_doc *d = p >= 0 ? &s->doc[l][p] : NULL;
    head(f, s, l, d ? d->title : T(s, l, "docs.home"), d ? d->lead : T(s, l, "docs.indexLead"));
    topbar(f, s, l, p >= 0 ? pages[p].slug : "");
    fprintf(f, "<div class=\"docs-layout\">\n");
    sidebar(f, s, l, p);
    fprintf(f, "<main id=\"main\" class=\"docs-main\" tabindex=\"-1\">\n<article "
               "class=\"docs-article\">\n");
    if (d) {
        fputs(d->html, f);
    } else {
        fprintf(f, "<h1>");
        esc(f, T(s, l, "docs.title"));
        fprintf(f, "</h1>\n<p class=\"lead\">");
        esc(f, T(s, l, "docs.indexLead"));
        fprintf(f, "</p>\n");
        for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
            char key[48];
            snprintf(key, sizeof key, "docs.group.%s", groups[g]);
            fprintf(f, "<h2>");
            esc(f, T(s, l, key));
            fprintf(f, "</h2>\n<ul class=\"docs-cards\">\n");
            for (size_t i = 0; i < NPAGES; i++) {
                if (strcmp(pages[i].group, groups[g]))
                    continue;
                fprintf(f, "<li><a href=\"/docs/%s/%s\"><strong>", lang, pages[i].slug);
                esc(f, s->doc[l][i].title);
                fprintf(f, "</strong><span>");
                esc(f, s->doc[l][i].lead);
                fprintf(f, "</span></a></li>\n");
            }
            fprintf(f, "</ul>\n");
        }
    }
    fprintf(f, "</article>\n");
    if (p >= 0)
        pager(f, s, l, p);
    fprintf(f, "</main>\n");
    if (d)
        contents(f, s, l, d);
    fprintf(f, "</div>\n</body>\n</html>\n");
}

static hh_status build(built *b, const docs_site *s, hh_lang l, int p)
{
    FILE *f = open_memstream(&b->html, &b->len);
    if (!f)
        return HH_ERR_NOMEM;
    write_page(f, s, l, p);
    if (fclose(f))
        return HH_ERR_NOMEM;
    uint64_t h = hh_fnv1a(HH_FNV1A_INIT, b->html);
    snprintf(b->etag, sizeof b->etag, "\"%016llx\"", (unsigned long long)h);
    return HH_OK;
}

/* Renders every page's Markdown and loads the catalogues. */
static hh_status render_all(docs_site *s, char *err, size_t errsize)
{
    for (int l = 0; l < HH_LANG_COUNT; l++) {
        const char *lang = i18n_lang_code((hh_lang)l);
        if (i18n_catalog((hh_lang)l, &s->cat[l])) {
            snprintf(err, errsize, "web/i18n/%s.json: missing or not an object of strings", lang);
            return HH_ERR_INVALID;
        }
        for (size_t p = 0; p < NPAGES; p++) {
            char path[128];
            snprintf(path, sizeof path, "docs/site/%s/%s.md", lang, pages[p].slug);
            const hh_embed_file *src = hh_embed_find(path);
            if (!src) {
                snprintf(err, errsize, "%s: missing", path);
                return HH_ERR_INVALID;
            }
            if (md_render((const char *)src->data, src->len, &s->doc[l][p]))
                return HH_ERR_NOMEM;
            if (!s->doc[l][p].title[0]) {
                snprintf(err, errsize, "%s: has no title (a level-1 heading)", path);
                return HH_ERR_INVALID;
            }
        }
    }
    return HH_OK;
}

hh_status docs_site_new(docs_site **out, char *err, size_t errsize)
{
    docs_site *s = calloc(1, sizeof *s);
    hh_status rc = s ? render_all(s, err, errsize) : HH_ERR_NOMEM;
    for (int l = 0; !rc && l < HH_LANG_COUNT; l++)
        for (size_t p = 0; !rc && p < NPAGES; p++) {
            size_t i;
            json_t *u;
            json_array_foreach(s->doc[l][p].links, i, u)
            {
                if (!rc && check_link(s, (hh_lang)l, p, json_string_value(u), err, errsize))
                    rc = HH_ERR_INVALID;
            }
        }
    for (int l = 0; !rc && l < HH_LANG_COUNT; l++) {
        rc = build(&s->index[l], s, (hh_lang)l, -1);
        for (size_t p = 0; !rc && p < NPAGES; p++)
            rc = build(&s->page[l][p], s, (hh_lang)l, (int)p);
    }
    if (rc) {
        if (rc == HH_ERR_NOMEM)
            snprintf(err, errsize, "out of memory");
        docs_site_free(s);
        return rc;
    }
    *out = s;
    return HH_OK;
}

void docs_site_free(docs_site *s)
{
    if (!s)
        return;
    for (int l = 0; l < HH_LANG_COUNT; l++) {
        for (size_t p = 0; p < NPAGES; p++) {
            md_doc_clear(&s->doc[l][p]);
            free(s->page[l][p].html);
        }
        free(s->index[l].html);
        json_decref(s->cat[l]);
    }
    free(s);
}

int docs_site_has(const docs_site *s, const char *slug)
{
    (void)s;
    return page_index(slug, strlen(slug)) >= 0;
}

int docs_site_page(const docs_site *s, hh_lang lang, const char *slug, docs_page *out)
{
    if ((unsigned)lang >= HH_LANG_COUNT)
        return 0;
    const built *b = NULL;
    if (!slug[0]) {
        b = &s->index[lang];
    } else {
        int p = page_index(slug, strlen(slug));
        if (p < 0)
            return 0;
        b = &s->page[lang][p];
    }
    *out = (docs_page){b->html, b->len, b->etag};
    return 1;
}
