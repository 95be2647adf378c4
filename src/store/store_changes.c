/*
 * store_changes.c - the store's change counter: one 64-bit number in a
 * small file next to the database (happyhorse.changes), mapped shared by
 * every process that opens the store, and bumped after every commit any of
 * them makes (the SQLite WAL hook, store_sqlite.c). A reader that noted the
 * counter before reading the database and finds it unchanged later knows
 * that nothing was committed since, by this process or another one (the
 * admin CLI, a separate worker), without a query: this is what lets the API
 * keep short-lived copies of what it read (api/read_cache.c).
 *
 * Order is what makes it safe: the bump comes after the commit is visible,
 * and a reader loads the counter before it reads, so a copy is never tagged
 * with a value newer than what it holds. A process that dies between its
 * commit and the bump leaves readers stale; their copies also expire after
 * a second. Without the file (read-only directory, a file of another
 * format) the counter reads 0, which readers take as "do not keep copies".
 */
#include "store/store_sqlite_int.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

#define CHANGES_FILE  "happyhorse.changes"
#define CHANGES_SIZE  4096
#define CHANGES_MAGIC "HHCHANGE1"

/* The file's layout: a magic, then the counter on its own cache line. */
typedef struct changes_page {
    char magic[16];
    char pad[48];
    _Atomic uint64_t counter;
} changes_page;

_Static_assert(sizeof(changes_page) <= CHANGES_SIZE, "the page fits the file");

struct sq_changes {
    changes_page *page;
};

/* Maps the file, creating it (zero-filled, then the magic) when missing. */
static changes_page *map_page(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return NULL;
    struct stat sb;
    void *p = MAP_FAILED;
    /* Two processes creating it at once both extend it to the same size. */
    if (!fstat(fd, &sb) && (sb.st_size >= CHANGES_SIZE || !ftruncate(fd, CHANGES_SIZE)))
        p = mmap(NULL, CHANGES_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return NULL;
    changes_page *page = p;
    char want[sizeof page->magic] = CHANGES_MAGIC;
    static const char zero[sizeof page->magic];
    if (!memcmp(page->magic, zero, sizeof zero))
        memcpy(page->magic, want, sizeof want); /* racing creators write the same bytes */
    if (memcmp(page->magic, want, sizeof want)) {
        munmap(p, CHANGES_SIZE);
        return NULL;
    }
    return page;
}

sq_changes *sq_changes_open(const char *dir)
{
    char path[4096];
    sq_changes *ch = calloc(1, sizeof *ch);
    if (!ch)
        return NULL;
    int n = snprintf(path, sizeof path, "%s/%s", dir, CHANGES_FILE);
    if (n > 0 && (size_t)n < sizeof path)
        ch->page = map_page(path);
    if (!ch->page)
        hh_warn("store: no change counter at %s/%s (cannot map it, or another format):"
                " API reads are not cached",
                dir, CHANGES_FILE);
    return ch;
}

void sq_changes_close(sq_changes *ch)
{
    if (!ch)
        return;
    if (ch->page)
        munmap(ch->page, CHANGES_SIZE);
    free(ch);
}

void sq_changes_bump(sq_changes *ch)
{
    if (ch && ch->page)
        atomic_fetch_add_explicit(&ch->page->counter, 1, memory_order_release);
}

uint64_t sq_changes_read(const sq_changes *ch)
{
    if (!ch || !ch->page)
        return 0;
    /* +1: a fresh file's 0 must not read as "not tracked". */
    return atomic_load_explicit(&ch->page->counter, memory_order_acquire) + 1;
}
