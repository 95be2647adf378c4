/*
 * embed.h - data files the build carries inside the binary (cmake/embed.cmake
 * writes the table): the docs site's Markdown (docs/site/<lang>/<slug>.md),
 * the operator documents it links to (the Markdown files of docs/), the language catalogues
 * (web/i18n/<lang>.json) and the built-in prompt templates
 * (docs/templates.json). Each is named by its path in the source tree.
 */
#ifndef HH_EMBED_H
#define HH_EMBED_H

#include <stddef.h>

typedef struct hh_embed_file {
    const char *path;          /* "docs/site/en/quick-start.md"; NULL ends the table */
    const unsigned char *data; /* len bytes, then a NUL (text can be read as a string) */
    size_t len;
} hh_embed_file;

/* Every embedded file, sorted by path, ended by an entry whose path is NULL. */
extern const hh_embed_file hh_embed_files[];

/* The file embedded as path, or NULL. Static storage. */
const hh_embed_file *hh_embed_find(const char *path);

#endif
