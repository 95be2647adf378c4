/*
 * markdown.c - the docs site's Markdown through libcmark (markdown.h):
 * parse, collect what the page around it needs in one walk of the tree,
 * then put an id on each level-2/3 heading by wrapping its inlines in a
 * custom block whose HTML is <hN id="...">...</hN>, and render.
 */
#include "domain/markdown.h"

#include <cmark.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

#define MAX_IDS 128 /* headings given an id per document */

/* Appends the plain text of node's inlines to out (size bytes), cut on a character. */
static void text_of(cmark_node *node, char *out, size_t size)
{
    size_t n = strlen(out);
    cmark_iter *it = cmark_iter_new(node);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *c = cmark_iter_get_node(it);
        cmark_node_type t = cmark_node_get_type(c);
        const char *lit = NULL;
        if (ev == CMARK_EVENT_ENTER && (t == CMARK_NODE_TEXT || t == CMARK_NODE_CODE))
            lit = cmark_node_get_literal(c);
        else if (ev == CMARK_EVENT_ENTER &&
                 (t == CMARK_NODE_SOFTBREAK || t == CMARK_NODE_LINEBREAK))
            lit = " ";
        if (!lit || n + 1 >= size)
            continue;
        size_t k = hh_utf8_prefix(lit, size - 1 - n);
        memcpy(out + n, lit, k);
        n += k;
        out[n] = '\0';
    }
    cmark_iter_free(it);
}

/* The id of a heading: ASCII letters and digits lowercased, other text kept, the rest '-'. */
static void slug_of(const char *text, char *id, size_t size)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p && n + 5 < size; p++) {
        int keep = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p >= 0x80;
        if (*p >= 'A' && *p <= 'Z')
            id[n++] = (char)(*p - 'A' + 'a');
        else if (keep)
            id[n++] = (char)*p;
        else if (n && id[n - 1] != '-')
            id[n++] = '-';
    }
    while (n && id[n - 1] == '-')
        n--;
    n = hh_utf8_prefix(id, n); /* never end inside a character */
    id[n] = '\0';
    if (!n)
        snprintf(id, size, "section");
}

/* Makes id unique among the first n ids by appending -2, -3, ... */
static void dedupe(char ids[][MD_ID_MAX], size_t n, char *id)
{
    char base[MD_ID_MAX];
    snprintf(base, sizeof base, "%.80s", id);
    for (int k = 2;; k++) {
        size_t i = 0;
        while (i < n && strcmp(ids[i], id))
            i++;
        if (i == n)
            return;
        snprintf(id, MD_ID_MAX, "%.80s-%d", base, k);
    }
}

/* Wraps heading's inlines in a custom block that renders as <hN id="id">. */
static hh_status give_id(cmark_node *heading, const char *id)
{
    int level = cmark_node_get_heading_level(heading);
    char open[MD_ID_MAX + 32], close[8];
    snprintf(open, sizeof open, "<h%d id=\"%s\">", level, id);
    snprintf(close, sizeof close, "</h%d>\n", level);
    cmark_node *block = cmark_node_new(CMARK_NODE_CUSTOM_BLOCK);
    if (!block || !cmark_node_set_on_enter(block, open) || !cmark_node_set_on_exit(block, close)) {
        cmark_node_free(block);
        return HH_ERR_NOMEM;
    }
    cmark_node *c;
    while ((c = cmark_node_first_child(heading)) != NULL) {
        cmark_node_unlink(c);
        cmark_node_append_child(block, c);
    }
    cmark_node_insert_before(heading, block);
    cmark_node_free(heading);
    return HH_OK;
}

hh_status md_render(const char *text, size_t len, md_doc *out)
{
    memset(out, 0, sizeof *out);
    out->links = json_array();
    cmark_node *doc = cmark_parse_document(text, len, CMARK_OPT_UNSAFE);
    cmark_node *heads[MAX_IDS];
    char(*idv)[MD_ID_MAX] = calloc(MAX_IDS, MD_ID_MAX);
    size_t nheads = 0;
    hh_status rc = doc && out->links && idv ? HH_OK : HH_ERR_NOMEM;
    cmark_iter *it = rc ? NULL : cmark_iter_new(doc);
    cmark_event_type ev;
    while (it && (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        cmark_node_type t = cmark_node_get_type(n);
        if (ev != CMARK_EVENT_ENTER)
            continue;
        if (t == CMARK_NODE_LINK && cmark_node_get_url(n))
            json_array_append_new(out->links, json_string(cmark_node_get_url(n)));
        if (t == CMARK_NODE_PARAGRAPH && !out->lead[0] &&
            cmark_node_get_type(cmark_node_parent(n)) == CMARK_NODE_DOCUMENT)
            text_of(n, out->lead, sizeof out->lead);
        if (t != CMARK_NODE_HEADING)
            continue;
        int level = cmark_node_get_heading_level(n);
        if (level == 1 && !out->title[0])
            text_of(n, out->title, sizeof out->title);
        if ((level == 2 || level == 3) && nheads < MAX_IDS) {
            char txt[MD_TEXT_MAX] = "";
            text_of(n, txt, sizeof txt);
            slug_of(txt, idv[nheads], MD_ID_MAX);
            dedupe(idv, nheads, idv[nheads]);
            if (level == 2 && out->ntoc < MD_TOC_MAX) {
                md_heading *h = &out->toc[out->ntoc++];
                h->level = level;
                snprintf(h->id, sizeof h->id, "%s", idv[nheads]);
                snprintf(h->text, sizeof h->text, "%s", txt);
            }
            heads[nheads++] = n;
        }
    }
    cmark_iter_free(it);
    for (size_t i = 0; !rc && i < nheads; i++)
        rc = give_id(heads[i], idv[i]);
    if (!rc && !(out->html = cmark_render_html(doc, CMARK_OPT_UNSAFE)))
        rc = HH_ERR_NOMEM;
    cmark_node_free(doc);
    free(idv);
    if (rc)
        md_doc_clear(out);
    return rc;
}

void md_doc_clear(md_doc *doc)
{
    if (!doc)
        return;
    free(doc->html);
    json_decref(doc->links);
    doc->html = NULL;
    doc->links = NULL;
}

void md_html_escape(FILE *f, const char *text)
{
    for (const char *p = text; p && *p; p++) {
        switch (*p) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*p, f);
        }
    }
}
