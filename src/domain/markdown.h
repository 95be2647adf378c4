/*
 * markdown.h - Markdown (CommonMark) to HTML for the docs site, by libcmark:
 * no parser of our own. On top of cmark's HTML: every level-2 and -3
 * heading gets an id made from its text (so "#上传参考素材" or
 * "#errors" links to it), and the document's title (its first level-1
 * heading), lead (its first paragraph), contents (its level-2 headings)
 * and every link destination are handed back for the page around it.
 *
 * Raw HTML in the source is kept (CMARK_OPT_UNSAFE): the sources are the
 * project's own files, built into the binary, never customer input; the
 * pages carry a Content-Security-Policy without inline scripts anyway.
 */
#ifndef HH_MARKDOWN_H
#define HH_MARKDOWN_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "util/status.h"

#define MD_TEXT_MAX 160 /* bytes of a title or heading text, NUL included */
#define MD_LEAD_MAX 400 /* bytes of the lead paragraph's text */
#define MD_ID_MAX   96  /* bytes of a heading id */
#define MD_TOC_MAX  32  /* level-2 headings listed */

typedef struct md_heading {
    int level;
    char id[MD_ID_MAX];
    char text[MD_TEXT_MAX];
} md_heading;

typedef struct md_doc {
    char *html;              /* owned (free with md_doc_clear) */
    char title[MD_TEXT_MAX]; /* text of the first level-1 heading; "" when none */
    char lead[MD_LEAD_MAX];  /* text of the first paragraph; "" when none */
    md_heading toc[MD_TOC_MAX];
    size_t ntoc;
    json_t *links; /* owned: array of every link's destination, in order */
} md_doc;

/* Renders len bytes of Markdown at text into *out (fully overwritten). HH_ERR_NOMEM on failure. */
hh_status md_render(const char *text, size_t len, md_doc *out);

/* Frees what md_render put in doc (NULL-safe, idempotent). */
void md_doc_clear(md_doc *doc);

/* Appends text to f with &, <, >, " escaped for HTML text and attribute values. */
void md_html_escape(FILE *f, const char *text);

#endif
