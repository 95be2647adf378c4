/*
 * blob_local.c - objects as files under <data>/objects/<key>. Writes go to
 * a temporary file in the object's directory and are renamed (or linked)
 * into place after fsync, and the directory is fsynced after, so a reader
 * or a crash sees the old state or the whole new object, never a part, and
 * a new name survives a power cut. Temporary files are "<key>.tmp-XXXXXX"
 * (put_file) and "<key>.part-XXXXXX" (upload bodies); what a crash leaves
 * of them is removed by remove_parts and sweep_parts.
 */
#include "blob/blob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob/presign.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/timeutil.h"

typedef struct blob_local {
    blob_store base; /* first: a blob_local is a blob_store */
    char root[PATH_MAX];
    uint8_t secret[PRESIGN_SECRET_LEN]; /* signs upload URLs */
} blob_local;

static hh_status object_path(blob_local *bl, const char *key, char *out, size_t size)
{
    /* Keys are server-made; this is the last line of defence, not the validation. */
    if (!key[0] || key[0] == '/' || strstr(key, "..") || strstr(key, "//"))
        return HH_ERR_INVALID;
    int n = snprintf(out, size, "%s/%s", bl->root, key);
    return n < 0 || (size_t)n >= size ? HH_ERR_LIMIT : HH_OK;
}

/* fsync of the directory holding path, so a new name survives a crash. */
static hh_status sync_parent(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return HH_ERR_IO;
    hh_status rc = fsync(fd) ? HH_ERR_IO : HH_OK;
    close(fd);
    return rc;
}

/* Copies all of in to out with copy_file_range (in-kernel), falling back to read/write. */
static hh_status copy_fd(int in, int out)
{
    for (;;) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
        if (n == 0)
            return HH_OK;
        if (n < 0)
            break;
    }
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
        return HH_ERR_IO;
    char buf[1 << 16];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0)
                return HH_ERR_IO;
            off += w;
        }
    return n < 0 ? HH_ERR_IO : HH_OK;
}

static hh_status local_put_file(blob_store *bs, const char *key, const char *path)
{
    blob_local *bl = (blob_local *)bs;
    char final[PATH_MAX], tmp[PATH_MAX + 16];
    int in = -1, out = -1;
    hh_status rc = object_path(bl, key, final, sizeof final);
    if (rc || (rc = hh_mkdir_parents(final)))
        return rc;
    snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", final);
    rc = HH_ERR_IO;
    if ((in = open(path, O_RDONLY | O_CLOEXEC)) < 0 || (out = mkstemp(tmp)) < 0)
        goto fail;
    if ((rc = copy_fd(in, out)) || (rc = fsync(out) ? HH_ERR_IO : HH_OK))
        goto fail;
    if (fchmod(out, 0600) || close(out)) {
        out = -1;
        rc = HH_ERR_IO;
        goto fail;
    }
    out = -1;
    if (rename(tmp, final)) {
        rc = HH_ERR_IO;
        goto fail;
    }
    close(in);
    /* The rename is durable only once the directory is: outputs and thumbnails too. */
    return sync_parent(final);
fail:
    hh_warn("blob: cannot store %s: %s", key, strerror(errno));
    if (out >= 0)
        close(out);
    if (in >= 0)
        close(in);
    unlink(tmp);
    return rc;
}

static void fill_info(const struct stat *st, blob_info *info)
{
    info->size = (uint64_t)st->st_size;
    info->mtime_ms = (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
    snprintf(info->etag, sizeof info->etag, "\"%llx-%llx-%lx\"", (unsigned long long)st->st_size,
             (unsigned long long)st->st_mtim.tv_sec * 1000000000ULL + st->st_mtim.tv_nsec,
             (unsigned long)st->st_ino);
}

static hh_status local_open_read(blob_store *bs, const char *key, int *fd, blob_info *info)
{
    char path[PATH_MAX];
    struct stat st;
    *fd = -1;
    hh_status rc = object_path((blob_local *)bs, key, path, sizeof path);
    if (rc)
        return rc == HH_ERR_INVALID ? HH_ERR_NOTFOUND : rc;
    /* Objects are regular files we wrote; a symlink planted in the tree is never followed. */
    int f = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (f < 0)
        return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? HH_ERR_NOTFOUND : HH_ERR_IO;
    if (fstat(f, &st) || !S_ISREG(st.st_mode)) {
        close(f);
        return HH_ERR_NOTFOUND;
    }
    if (info)
        fill_info(&st, info);
    *fd = f;
    return HH_OK;
}

static hh_status local_stat(blob_store *bs, const char *key, blob_info *info)
{
    int fd;
    hh_status rc = local_open_read(bs, key, &fd, info);
    if (!rc)
        close(fd);
    return rc;
}

static hh_status local_read_head(blob_store *bs, const char *key, void *buf, size_t n, size_t *got)
{
    int fd;
    hh_status rc = local_open_read(bs, key, &fd, NULL);
    if (rc)
        return rc;
    ssize_t r = read(fd, buf, n);
    close(fd);
    if (r < 0)
        return HH_ERR_IO;
    *got = (size_t)r;
    return HH_OK;
}

static hh_status local_fetch_file(blob_store *bs, const char *key, const char *path)
{
    int in, out;
    hh_status rc = local_open_read(bs, key, &in, NULL);
    if (rc)
        return rc;
    out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    rc = out < 0 ? HH_ERR_IO : copy_fd(in, out);
    if (out >= 0 && close(out))
        rc = HH_ERR_IO;
    close(in);
    return rc;
}

static hh_status local_remove(blob_store *bs, const char *key)
{
    char path[PATH_MAX];
    hh_status rc = object_path((blob_local *)bs, key, path, sizeof path);
    if (rc)
        return rc;
    return unlink(path) == 0 || errno == ENOENT ? HH_OK : HH_ERR_IO;
}

/* ---- receiving in pieces ---- */

/*
 * An HTTP body arrives in pieces the size of the connection's read buffer
 * (about 32 KiB); gathering them into WRITE_BUF-sized write()s takes the
 * syscall count of a 50 MiB upload from ~1600 to ~200. The buffer is the
 * writer's whole memory cost, whatever the object's size.
 */
#define WRITE_BUF (256 * 1024)

typedef struct local_writer {
    blob_writer base;
    int fd;
    size_t buffered; /* bytes in buf not yet written */
    char tmp[PATH_MAX + 16];
    char final[PATH_MAX];
    char buf[WRITE_BUF];
} local_writer;

static hh_status local_writer_new(blob_store *bs, const char *key, blob_writer **out)
{
    local_writer *w = malloc(sizeof *w); /* not calloc: no need to touch the buffer's pages */
    *out = NULL;
    if (!w)
        return HH_ERR_NOMEM;
    w->base.bs = bs;
    w->fd = -1;
    w->buffered = 0;
    w->tmp[0] = '\0';
    hh_status rc = object_path((blob_local *)bs, key, w->final, sizeof w->final);
    if (!rc)
        rc = hh_mkdir_parents(w->final);
    if (!rc) {
        snprintf(w->tmp, sizeof w->tmp, "%s.part-XXXXXX", w->final);
        w->fd = mkstemp(w->tmp); /* O_EXCL, mode 0600 */
        rc = w->fd < 0 ? HH_ERR_IO : HH_OK;
    }
    if (rc) {
        free(w);
        return rc;
    }
    *out = &w->base;
    return HH_OK;
}

static hh_status flush(local_writer *w)
{
    hh_status rc = hh_write_all(w->fd, w->buf, w->buffered);
    w->buffered = 0;
    return rc;
}

static hh_status local_writer_write(blob_writer *bw, const void *data, size_t len)
{
    local_writer *w = (local_writer *)bw;
    const char *p = data;
    while (len) {
        if (w->buffered == 0 && len >= WRITE_BUF)
            return hh_write_all(w->fd, p, len); /* big pieces go straight through */
        size_t take = WRITE_BUF - w->buffered < len ? WRITE_BUF - w->buffered : len;
        memcpy(w->buf + w->buffered, p, take);
        w->buffered += take;
        p += take;
        len -= take;
        if (w->buffered == WRITE_BUF && flush(w))
            return HH_ERR_IO;
    }
    return HH_OK;
}

static void local_writer_abort(blob_writer *bw)
{
    local_writer *w = (local_writer *)bw;
    if (w->fd >= 0)
        close(w->fd);
    unlink(w->tmp);
    free(w);
}

static hh_status local_writer_commit(blob_writer *bw)
{
    local_writer *w = (local_writer *)bw;
    hh_status rc = flush(w);
    if (!rc && fsync(w->fd))
        rc = HH_ERR_IO;
    if (close(w->fd) && !rc)
        rc = HH_ERR_IO;
    w->fd = -1;
    /* link() refuses an existing name, so two uploads of one key cannot both win. */
    if (!rc && link(w->tmp, w->final))
        rc = errno == EEXIST ? HH_ERR_EXISTS : HH_ERR_IO;
    unlink(w->tmp);
    if (!rc)
        rc = sync_parent(w->final);
    free(w);
    return rc;
}

static hh_status local_presign_put(blob_store *bs, const char *key, const char *content_type,
                                   int64_t size, int64_t expires, char *url, size_t urlsize)
{
    char sig[PRESIGN_SIG_HEX];
    presign_sign(((blob_local *)bs)->secret, key, content_type, size, expires, sig);
    int n = snprintf(url, urlsize, "%s/uploads/%s?expires=%lld&sig=%s", bs->public_url, key,
                     (long long)expires, sig);
    return n < 0 || (size_t)n >= urlsize ? HH_ERR_LIMIT : HH_OK;
}

static hh_status local_check_put(blob_store *bs, const char *key, const char *content_type,
                                 int64_t size, int64_t expires, const char *sig, int64_t now_s)
{
    return presign_check(((blob_local *)bs)->secret, key, content_type, size, expires, sig, now_s);
}

static char *local_public_url(const blob_store *bs, const char *key, char *buf, size_t size)
{
    snprintf(buf, size, "%s/files/%s", bs->public_url, key);
    return buf;
}

static hh_status local_ping(blob_store *bs)
{
    return access(((blob_local *)bs)->root, W_OK | X_OK) ? HH_ERR_IO : HH_OK;
}

static void local_free(blob_store *bs)
{
    explicit_bzero(((blob_local *)bs)->secret, PRESIGN_SECRET_LEN);
    free(bs);
}

/* Whether name is a temporary file of ours (base is "" for any object, else one object's name). */
static int is_leftover(const char *name, const char *base)
{
    size_t bl = strlen(base);
    if (bl && (strncmp(name, base, bl) || name[bl] != '.'))
        return 0;
    /* ".part-" or ".tmp-" and mkstemp's six characters (never a dot among them). */
    const char *tail = strrchr(name, '.');
    return tail && ((!strncmp(tail, ".part-", 6) && strlen(tail) == 12) ||
                    (!strncmp(tail, ".tmp-", 5) && strlen(tail) == 11));
}

static hh_status local_remove_parts(blob_store *bs, const char *key)
{
    char path[PATH_MAX];
    hh_status rc = object_path((blob_local *)bs, key, path, sizeof path);
    if (rc)
        return rc;
    char *slash = strrchr(path, '/');
    *slash = '\0';
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? HH_OK : HH_ERR_IO;
    struct dirent *e;
    while ((e = readdir(d)))
        if (is_leftover(e->d_name, slash + 1) && unlinkat(dirfd(d), e->d_name, 0) &&
            errno != ENOENT)
            rc = HH_ERR_IO;
    closedir(d);
    return rc;
}

/* nftw has no context argument: the sweep's cut-off and count (one sweep at a time). */
static _Thread_local struct {
    int64_t cutoff_s;
    unsigned removed;
} sweep;

static int sweep_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    if (type == FTW_F && S_ISREG(sb->st_mode) && is_leftover(path + ftw->base, "") &&
        (int64_t)sb->st_mtime < sweep.cutoff_s && !unlink(path))
        sweep.removed++;
    return 0;
}

static unsigned local_sweep_parts(blob_store *bs, int64_t idle_s)
{
    sweep.cutoff_s = hh_time_now_ms() / 1000 - idle_s;
    sweep.removed = 0;
    nftw(((blob_local *)bs)->root, sweep_one, 16, FTW_PHYS);
    return sweep.removed;
}

static const blob_ops local_ops = {
    .put_file = local_put_file,
    .fetch_file = local_fetch_file,
    .stat = local_stat,
    .open_read = local_open_read,
    .remove = local_remove,
    .presign_put = local_presign_put,
    .check_put = local_check_put,
    .writer_new = local_writer_new,
    .writer_write = local_writer_write,
    .writer_commit = local_writer_commit,
    .writer_abort = local_writer_abort,
    .remove_parts = local_remove_parts,
    .sweep_parts = local_sweep_parts,
    .read_head = local_read_head,
    .public_url = local_public_url,
    .ping = local_ping,
    .free = local_free,
};

hh_status blob_local_new(const char *data_dir, const char *public_url, blob_store **out)
{
    blob_local *bl = calloc(1, sizeof *bl);
    *out = NULL;
    if (!bl)
        return HH_ERR_NOMEM;
    bl->base.ops = &local_ops;
    int n = snprintf(bl->root, sizeof bl->root, "%s/objects", data_dir);
    if (n < 0 || (size_t)n >= sizeof bl->root - 64) {
        free(bl);
        return HH_ERR_LIMIT;
    }
    if (hh_mkdir_p(bl->root)) { /* the data directory and objects/ in it */
        free(bl);
        return HH_ERR_IO;
    }
    /* A file, not a secret of the store (store_secret): the URLs it signs are for objects/ of
     * this directory, so only the processes sharing the directory check them, and they share
     * the file. Nodes of a cluster keep objects in S3, which signs with its own keys. */
    hh_status rc = presign_secret_load(data_dir, bl->secret);
    if (rc) {
        hh_error("cannot read or create %s/secret.key", data_dir);
        free(bl);
        return rc;
    }
    blob_set_public_url(&bl->base, public_url ? public_url : "");
    *out = &bl->base;
    return HH_OK;
}
