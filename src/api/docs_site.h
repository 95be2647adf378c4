/*
 * docs_site.h - the customer documentation served at /docs/: one page per
 * slug in each language (domain/i18n.h), written in Markdown under
 * docs/site/<lang>/<slug>.md, carried in the binary and rendered once at
 * start by libcmark (domain/markdown.h) into complete HTML pages in the
 * dashboard's style: the site's navigation in groups, the page's contents,
 * a language switch, previous and next. Every string around the Markdown
 * comes from the language's catalogue (web/i18n/<lang>.json).
 *
 * Building the site checks it: every page exists in every language, and
 * every relative link of a page names a page or a heading that exists, so
 * a broken link stops `serve` at start instead of reaching a customer.
 * Built once, then read-only: any thread may read it.
 */
#ifndef HH_DOCS_SITE_H
#define HH_DOCS_SITE_H

#include <stddef.h>

#include "domain/i18n.h"
#include "util/status.h"

typedef struct docs_site docs_site;

/* A rendered page: complete HTML, with a validator. Borrowed from the site. */
typedef struct docs_page {
    const char *html;
    size_t len;
    const char *etag; /* quoted, for ETag / If-None-Match */
} docs_page;

/* Builds the site; on HH_ERR_INVALID err gets a one-line reason (page, link). */
hh_status docs_site_new(docs_site **out, char *err, size_t errsize);
void docs_site_free(docs_site *site);

/* 1 when slug is one of the site's pages. */
int docs_site_has(const docs_site *site, const char *slug);

/*
 * The page slug in lang; slug "" is the site's index (every page by group,
 * with its lead). Returns 0 and leaves *out alone when there is no such page.
 */
int docs_site_page(const docs_site *site, hh_lang lang, const char *slug, docs_page *out);

#endif
