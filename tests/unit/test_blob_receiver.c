/*
 * test_blob_receiver.c - receiving an upload in pieces on local storage:
 * an exact, well-typed body becomes the object (0600, bytes intact, sniffed
 * across chunk boundaries); a long, short or mistyped body, an existing
 * key, or an abandoned upload leave nothing behind, not even a temporary
 * file; the writer never holds the body in memory (it streams a body far
 * larger than any buffer of the receiver).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "blob/receiver.h"

#define DIRKEY "videos/inputs/0190f3a2-7b1c-7d2e-8f3a-4b5c6d7e8f90"
#define KEY    DIRKEY "/0190f3a2-7b1c-7d2e-8f3a-4b5c6d7e8f91.png"

static const unsigned char png_head[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

typedef struct fixture {
    char dir[64];
    blob_store *bs;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/hh-recv-XXXXXX");
    if (!mkdtemp(f->dir) || blob_local_new(f->dir, "", &f->bs))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    blob_free(f->bs);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc;
}

/* Number of entries in the key's directory (objects and temporary files alike). */
static int entries(const fixture *f)
{
    char path[256];
    snprintf(path, sizeof path, "%s/objects/%s", f->dir, DIRKEY);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* A PNG-looking body of size bytes: the signature, then a pattern. */
static unsigned char *body(size_t size)
{
    unsigned char *b = malloc(size);
    for (size_t i = 0; i < size; i++)
        b[i] = (unsigned char)(i * 31 + 7);
    memcpy(b, png_head, size < 16 ? size : 16);
    return b;
}

/* Feeds b in chunks of chunk bytes; returns the first failing status. */
static hh_status feed(blob_receiver *r, const unsigned char *b, size_t size, size_t chunk)
{
    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        hh_status rc = blob_receiver_feed(r, b + off, n);
        if (rc)
            return rc;
    }
    return HH_OK;
}

static void exact_body_becomes_the_object(void **state)
{
    fixture *f = *state;
    const size_t size = 3 * 1024 * 1024 + 17; /* far beyond any buffer of the receiver */
    unsigned char *b = body(size);
    blob_receiver *r;
    assert_int_equal(blob_receiver_new(f->bs, KEY, "image/png", (int64_t)size, &r), HH_OK);
    assert_int_equal(feed(r, b, 5, 1), HH_OK); /* the signature arrives a byte at a time */
    assert_int_equal(entries(f), 1);           /* the temporary file, invisible under KEY */
    blob_info info;
    assert_int_equal(blob_stat(f->bs, KEY, &info), HH_ERR_NOTFOUND);
    /* Small pieces gathered in the writer's buffer, then pieces larger than it. */
    assert_int_equal(feed(r, b + 5, 200000, 999), HH_OK);
    assert_int_equal(feed(r, b + 200005, size - 200005, 300001), HH_OK);
    assert_int_equal(blob_receiver_received(r), size);
    assert_int_equal(blob_receiver_finish(r), HH_OK);
    assert_int_equal(blob_receiver_refusal(r), BLOB_REFUSE_NONE);
    blob_receiver_free(r);

    assert_int_equal(entries(f), 1); /* the object only */
    assert_int_equal(blob_stat(f->bs, KEY, &info), HH_OK);
    assert_int_equal(info.size, size);
    char path[256];
    snprintf(path, sizeof path, "%s/objects/%s", f->dir, KEY);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    FILE *fp = fopen(path, "rb");
    unsigned char *back = malloc(size);
    assert_int_equal(fread(back, 1, size, fp), size);
    fclose(fp);
    assert_memory_equal(back, b, size);
    free(back);

    /* A second upload of the same key is refused and the first object stays. */
    assert_int_equal(blob_receiver_new(f->bs, KEY, "image/png", 16, &r), HH_OK);
    assert_int_equal(feed(r, b, 16, 16), HH_OK);
    assert_int_equal(blob_receiver_finish(r), HH_ERR_EXISTS);
    assert_int_equal(blob_receiver_refusal(r), BLOB_REFUSE_EXISTS);
    blob_receiver_free(r);
    assert_int_equal(blob_stat(f->bs, KEY, &info), HH_OK);
    assert_int_equal(info.size, size);
    assert_int_equal(entries(f), 1);
    free(b);
}

static void refusals_leave_nothing(void **state)
{
    fixture *f = *state;
    unsigned char *b = body(1000);
    blob_receiver *r;
    blob_info info;

    /* One byte too many, in the chunk that crosses the limit. */
    assert_int_equal(blob_receiver_new(f->bs, KEY, "image/png", 999, &r), HH_OK);
    assert_int_equal(feed(r, b, 1000, 100), HH_ERR_INVALID);
    assert_int_equal(blob_receiver_refusal(r), BLOB_REFUSE_TOO_LONG);
    assert_int_equal(entries(f), 0); /* gone at once, while the client may still send */
    assert_int_equal(blob_receiver_feed(r, b, 1), HH_ERR_INVALID);
    assert_int_equal(blob_receiver_finish(r), HH_ERR_INVALID);
    blob_receiver_free(r);

    /* One byte short. */
    assert_int_equal(blob_receiver_new(f->bs, KEY, "image/png", 1000, &r), HH_OK);
    assert_int_equal(feed(r, b, 999, 100), HH_OK);
    assert_int_equal(blob_receiver_finish(r), HH_ERR_INVALID);
    assert_int_equal(blob_receiver_refusal(r), BLOB_REFUSE_TOO_SHORT);
    blob_receiver_free(r);
    assert_int_equal(entries(f), 0);

    /* A PNG declared as JPEG: refused as soon as the first bytes decide it. */
    assert_int_equal(blob_receiver_new(f->bs, KEY, "image/jpeg", 1000, &r), HH_OK);
    assert_int_equal(feed(r, b, 11, 11), HH_OK); /* not yet enough to judge */
    assert_int_equal(blob_receiver_feed(r, b + 11, 1), HH_ERR_INVALID);
    assert_int_equal(blob_receiver_refusal(r), BLOB_REFUSE_WRONG_TYPE);
    assert_int_equal(entries(f), 0);
    blob_receiver_free(r);

    /* A tiny whole body is judged at the end. */
    assert_int_equal(blob_receiver_new(f->bs, KEY, "image/jpeg", 2, &r), HH_OK);
    assert_int_equal(blob_receiver_feed(r, "\xff\xd8", 2), HH_OK);
    assert_int_equal(blob_receiver_finish(r), HH_ERR_INVALID);
    assert_int_equal(blob_receiver_refusal(r), BLOB_REFUSE_WRONG_TYPE);
    blob_receiver_free(r);

    /* The client went away: freeing an unfinished receiver removes its temporary file. */
    assert_int_equal(blob_receiver_new(f->bs, KEY, "image/png", 1000, &r), HH_OK);
    assert_int_equal(feed(r, b, 500, 100), HH_OK);
    assert_int_equal(entries(f), 1);
    blob_receiver_free(r);
    assert_int_equal(entries(f), 0);
    assert_int_equal(blob_stat(f->bs, KEY, &info), HH_ERR_NOTFOUND);

    /* Keys that would leave the root never get a writer. */
    assert_int_equal(blob_receiver_new(f->bs, "../x.png", "image/png", 1, &r), HH_ERR_INVALID);
    assert_null(r);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(exact_body_becomes_the_object, setup, teardown),
        cmocka_unit_test_setup_teardown(refusals_leave_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
