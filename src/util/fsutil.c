/*
 * fsutil.c - mkdir -p and rm -r for the program's own directories, and
 * the free-space and write probe of a data directory.
 */
#include "util/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* mkdir of every prefix of buf that ends before a '/', and of buf itself when last_too. */
static hh_status make_prefixes(char *buf, size_t n, int last_too)
{
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && (buf[i] != '\0' || !last_too))
            continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return HH_ERR_IO;
        buf[i] = saved;
    }
    return HH_OK;
}

static hh_status mkdir_path(const char *path, int last_too)
{
    char buf[PATH_MAX];
    size_t n = path ? strnlen(path, sizeof buf) : 0;
    if (n == 0 || n >= sizeof buf)
        return HH_ERR_INVALID;
    memcpy(buf, path, n + 1);
    return make_prefixes(buf, n, last_too);
}

hh_status hh_mkdir_p(const char *dir)
{
    hh_status rc = mkdir_path(dir, 1);
    if (rc)
        return rc;
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return HH_ERR_IO;
    if (!S_ISDIR(sb.st_mode)) {
        errno = ENOTDIR;
        return HH_ERR_IO;
    }
    return HH_OK;
}

hh_status hh_mkdir_parents(const char *path)
{
    return mkdir_path(path, 0);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void hh_remove_tree(const char *path)
{
    /* FTW_DEPTH: children before their directory; FTW_PHYS: never follow a link. */
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

hh_status hh_disk_check(const char *dir, unsigned long long min_free,
                        unsigned long long *free_bytes)
{
    struct statvfs vfs;
    char probe[PATH_MAX];
    if (statvfs(dir, &vfs))
        return HH_ERR_IO;
    unsigned long long avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
    if (free_bytes)
        *free_bytes = avail;
    if (avail < min_free)
        return HH_ERR_LIMIT;
    /* Free blocks are not the whole story (inodes, quotas, a failing disk): write for real. */
    int n = snprintf(probe, sizeof probe, "%s/.write-probe-XXXXXX", dir);
    if (n < 0 || (size_t)n >= sizeof probe)
        return HH_ERR_INVALID;
    int fd = mkstemp(probe);
    if (fd < 0)
        return HH_ERR_IO;
    static const char byte = 'x';
    hh_status rc = write(fd, &byte, 1) == 1 && fsync(fd) == 0 ? HH_OK : HH_ERR_IO;
    close(fd);
    unlink(probe);
    return rc;
}

hh_status hh_write_all(int fd, const void *p, size_t len)
{
    for (const char *c = p; len;) {
        ssize_t n = write(fd, c, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return HH_ERR_IO;
        c += n;
        len -= (size_t)n;
    }
    return HH_OK;
}
