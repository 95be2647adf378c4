/*
 * test_blob_local.c - local object storage: atomic puts, reads, stats with
 * stable ETags, fetches, removal, and keys that try to leave the root; a
 * put's new name made durable (its directory fsynced after the rename);
 * leftovers of crashed writes removed per key and swept at start.
 *
 * fsync is interposed (this executable's definition wins over libc's for
 * the library linked into it) to see which directories get synced.
 */
#include <dlfcn.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "blob/blob.h"

/* The directories fsync was called on since the last reset, as paths joined by '\n'. */
static char synced_dirs[8192];

int fsync(int fd);
int fsync(int fd)
{
    static int (*real)(int);
    if (!real)
        *(void **)(&real) = dlsym(RTLD_NEXT, "fsync");
    struct stat st;
    char link[64], path[PATH_MAX];
    if (!fstat(fd, &st) && S_ISDIR(st.st_mode)) {
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, path, sizeof path - 1);
        if (n > 0) {
            path[n] = '\0';
            size_t used = strlen(synced_dirs);
            snprintf(synced_dirs + used, sizeof synced_dirs - used, "%s\n", path);
        }
    }
    return real(fd);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void put_stat_fetch_remove(void **state)
{
    char dir[] = "/tmp/hh-blob-XXXXXX";
    assert_non_null(mkdtemp(dir));
    blob_store *bs;
    assert_int_equal(blob_local_new(dir, "http://h:1/", &bs), HH_OK);

    char src[256], dst[256], obj[512], url[512];
    snprintf(src, sizeof src, "%s/src.txt", dir);
    snprintf(dst, sizeof dst, "%s/dst.txt", dir);
    write_file(src, "hello objects");
    assert_int_equal(blob_put_file(bs, "videos/outputs/a.mp4", src), HH_OK);
    snprintf(obj, sizeof obj, "%s/objects/videos/outputs/a.mp4", dir);
    struct stat st;
    assert_int_equal(stat(obj, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    blob_info a, b;
    assert_int_equal(blob_stat(bs, "videos/outputs/a.mp4", &a), HH_OK);
    assert_int_equal(a.size, 13);
    assert_int_equal(blob_stat(bs, "videos/outputs/a.mp4", &b), HH_OK);
    assert_string_equal(a.etag, b.etag);
    assert_int_equal(a.etag[0], '"');

    int fd;
    char buf[32] = "";
    assert_int_equal(blob_open_read(bs, "videos/outputs/a.mp4", &fd, &a), HH_OK);
    assert_int_equal(read(fd, buf, sizeof buf - 1), 13);
    close(fd);
    assert_string_equal(buf, "hello objects");

    assert_int_equal(blob_fetch_file(bs, "videos/outputs/a.mp4", dst), HH_OK);
    FILE *f = fopen(dst, "rb");
    memset(buf, 0, sizeof buf);
    assert_int_equal(fread(buf, 1, sizeof buf, f), 13);
    fclose(f);

    assert_string_equal(blob_public_url(bs, "videos/outputs/a.mp4", url, sizeof url),
                        "http://h:1/files/videos/outputs/a.mp4");

    /* Replacing is atomic and leaves no temporary file behind. */
    write_file(src, "v2");
    assert_int_equal(blob_put_file(bs, "videos/outputs/a.mp4", src), HH_OK);
    assert_int_equal(blob_stat(bs, "videos/outputs/a.mp4", &b), HH_OK);
    assert_int_equal(b.size, 2);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test $(ls '%s/objects/videos/outputs' | wc -l) -eq 1", dir);
    assert_int_equal(system(cmd), 0);

    assert_int_equal(blob_remove(bs, "videos/outputs/a.mp4"), HH_OK);
    assert_int_equal(blob_remove(bs, "videos/outputs/a.mp4"), HH_OK);
    assert_int_equal(blob_stat(bs, "videos/outputs/a.mp4", &a), HH_ERR_NOTFOUND);
    assert_int_equal(blob_fetch_file(bs, "videos/outputs/a.mp4", dst), HH_ERR_NOTFOUND);

    /* Keys that would escape the root are refused, never opened. */
    assert_int_equal(blob_stat(bs, "../src.txt", &a), HH_ERR_NOTFOUND);
    assert_int_equal(blob_stat(bs, "/etc/passwd", &a), HH_ERR_NOTFOUND);
    assert_int_equal(blob_put_file(bs, "a/../../x", src), HH_ERR_INVALID);
    assert_int_equal(blob_stat(bs, "videos", &a), HH_ERR_NOTFOUND); /* a directory */
    assert_int_equal(blob_put_file(bs, "videos/x.bin", "/nonexistent/file"), HH_ERR_IO);
    /* A symlink planted among the objects is not served. */
    char link_path[512];
    snprintf(link_path, sizeof link_path, "%s/objects/videos/outputs/evil.mp4", dir);
    assert_int_equal(symlink("/etc/hostname", link_path), 0);
    assert_int_equal(blob_stat(bs, "videos/outputs/evil.mp4", &a), HH_ERR_NOTFOUND);

    blob_free(bs);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* A rename is durable only with its directory: put_file (outputs, thumbnails) syncs it. */
static void put_syncs_the_directory(void **state)
{
    (void)state;
    char dir[] = "/tmp/hh-blob-XXXXXX", src[256], want[PATH_MAX + 64], cmd[512];
    assert_non_null(mkdtemp(dir));
    blob_store *bs;
    assert_int_equal(blob_local_new(dir, "", &bs), HH_OK);
    snprintf(src, sizeof src, "%s/src.txt", dir);
    write_file(src, "frames");
    synced_dirs[0] = '\0';
    assert_int_equal(blob_put_file(bs, "videos/thumbnails/t.jpg", src), HH_OK);
    char real[PATH_MAX];
    assert_non_null(realpath(dir, real));
    snprintf(want, sizeof want, "%s/objects/videos/thumbnails\n", real);
    assert_non_null(strstr(synced_dirs, want));
    blob_free(bs);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* What a crashed writer leaves: removed for its key, or swept when old enough. */
static void leftovers_removed(void **state)
{
    (void)state;
    char dir[] = "/tmp/hh-blob-XXXXXX", path[512], cmd[1024];
    assert_non_null(mkdtemp(dir));
    blob_store *bs;
    assert_int_equal(blob_local_new(dir, "", &bs), HH_OK);
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/objects/v/u && cd %s/objects/v/u && touch a.png a.png.part-AAAAAA "
             "a.png.part-BBBBBB ab.png.part-CCCCCC b.png.tmp-DDDDDD a.png.part-short",
             dir, dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(blob_remove_parts(bs, "v/u/a.png"), HH_OK);
    static const char *const gone[] = {"a.png.part-AAAAAA", "a.png.part-BBBBBB"};
    static const char *const kept[] = {"a.png", "ab.png.part-CCCCCC", "b.png.tmp-DDDDDD",
                                       "a.png.part-short"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/objects/v/u/%s", dir, gone[i]);
        assert_int_not_equal(access(path, F_OK), 0);
    }
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/objects/v/u/%s", dir, kept[i]);
        assert_int_equal(access(path, F_OK), 0);
    }
    assert_int_equal(blob_remove_parts(bs, "v/none/x.png"), HH_OK); /* no directory: nothing */
    /* The sweep takes only leftovers older than its idle time. */
    assert_int_equal(blob_sweep_parts(bs, 3600), 0);
    snprintf(cmd, sizeof cmd, "touch -d '2 hours ago' %s/objects/v/u/*", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(blob_sweep_parts(bs, 3600), 2); /* ab.png.part-CCCCCC, b.png.tmp-DDDDDD */
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/objects/v/u/%s", dir, kept[i]);
        assert_int_equal(access(path, F_OK) == 0, i == 0 || i == 3);
    }
    blob_free(bs);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(put_stat_fetch_remove),
        cmocka_unit_test(put_syncs_the_directory),
        cmocka_unit_test(leftovers_removed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
