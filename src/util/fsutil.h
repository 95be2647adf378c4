/*
 * fsutil.h - the few filesystem chores several layers share: making a
 * directory path (mkdir -p), removing a directory tree of our own,
 * checking that a directory's disk can still take writes, and writing a
 * whole buffer. POSIX has no call for the first two; nftw(3) does the
 * walking for the removal.
 */
#ifndef HH_FSUTIL_H
#define HH_FSUTIL_H

#include <stddef.h>

#include "util/status.h"

/*
 * Creates dir and every missing directory above it with mode 0700 (an
 * existing one is left as it is). HH_ERR_INVALID for an empty path or one
 * longer than PATH_MAX; HH_ERR_IO when a component cannot be made or dir
 * exists but is not a directory (errno tells why).
 */
hh_status hh_mkdir_p(const char *dir);

/* Same for the directories above path (its last component is a file name). */
hh_status hh_mkdir_parents(const char *path);

/*
 * Removes path and everything under it, never following a symbolic link
 * (a link is removed, not its target). Best effort: what cannot be removed
 * stays. Only for directories the program made itself (scratch, job dirs).
 */
void hh_remove_tree(const char *path);

/*
 * Whether the file system of dir can take writes: at least min_free bytes
 * free for unprivileged users (statvfs), and a small file can be created,
 * written, fsynced and removed there. HH_OK; HH_ERR_LIMIT when less than
 * min_free is free; HH_ERR_IO when the write fails (ENOSPC, a read-only
 * or failing disk). *free_bytes (may be NULL) gets the free space.
 */
hh_status hh_disk_check(const char *dir, unsigned long long min_free,
                        unsigned long long *free_bytes);

/* write(2) all len bytes of p to fd, however many calls it takes (EINTR retried). */
hh_status hh_write_all(int fd, const void *p, size_t len);

#endif
