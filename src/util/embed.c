/*
 * embed.c - lookup in the table of embedded files (util/embed.h). The
 * table has tens of entries and is read a few times at start, so a scan.
 */
#include "util/embed.h"

#include <string.h>

const hh_embed_file *hh_embed_find(const char *path)
{
    for (const hh_embed_file *f = hh_embed_files; path && f->path; f++)
        if (!strcmp(f->path, path))
            return f;
    return NULL;
}
