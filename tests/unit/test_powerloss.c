/*
 * test_powerloss.c - the create path against a power cut. The real server
 * (app, routes, guard, store) runs in-process over loopback while clients
 * post creates; the store's files go through a SQLite VFS that passes every
 * call to the default one but remembers what each write overwrote until the
 * file is synced. At a "power cut" every write, sync and delete starts
 * failing; once everything is closed, the writes no sync covered are undone
 * (all of them, or all but an in-order prefix per file: a disk that kept
 * the start of what it was given), as a machine that lost power would find
 * its disk. The store is then reopened normally: every create that was
 * answered 202 must be there, with its charge, the balance equal to the
 * ledger's sum, a video for every charge, and the database intact.
 *
 * The VFS is checked to have teeth first: a plain SQLite connection at
 * synchronous=NORMAL through it loses commits it acknowledged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/app.h"
#include "auth/apikey.h"
#include "domain/plans.h"
#include "store/store.h"

#define CLIENTS 6
#define PRICE   3 /* 3 s at 1 credit a second */

/* ------------------------------------------------- the power-cut VFS */

/* What one write or truncate replaced, so it can be undone. */
typedef struct undo {
    struct undo *prev; /* older record of the same file */
    int64_t offset;
    int64_t old_size; /* the file's size before the change */
    size_t len;       /* bytes of old */
    unsigned char *old;
} undo;

/* A file the VFS tracks (the database and its WAL), by path; outlives its handles. */
typedef struct tracked {
    struct tracked *next;
    char path[512];
    undo *last; /* newest unsynced change */
    size_t pending;
} tracked;

typedef struct pl_file {
    sqlite3_file base;
    tracked *t; /* NULL: passed through untracked */
    sqlite3_file real[];
} pl_file;

static pthread_mutex_t pl_mu = PTHREAD_MUTEX_INITIALIZER;
static tracked *pl_files;
static atomic_int pl_cut;
static sqlite3_vfs *pl_real;

static void undo_free_all(tracked *t)
{
    while (t->last) {
        undo *u = t->last;
        t->last = u->prev;
        free(u->old);
        free(u);
    }
    t->pending = 0;
}

static tracked *track_path(const char *path)
{
    pthread_mutex_lock(&pl_mu);
    tracked *t;
    for (t = pl_files; t && strcmp(t->path, path); t = t->next)
        ;
    if (!t && (t = calloc(1, sizeof *t))) {
        snprintf(t->path, sizeof t->path, "%s", path);
        t->next = pl_files;
        pl_files = t;
    }
    pthread_mutex_unlock(&pl_mu);
    return t;
}

/* Records what [offset, offset + len) holds now and the size, before a change. */
static int remember(pl_file *f, int64_t offset, int64_t len)
{
    sqlite3_int64 size = 0;
    int rc = f->real->pMethods->xFileSize(f->real, &size);
    if (rc != SQLITE_OK)
        return rc;
    undo *u = calloc(1, sizeof *u);
    if (!u)
        return SQLITE_NOMEM;
    u->offset = offset;
    u->old_size = size;
    int64_t have = size > offset ? size - offset : 0;
    u->len = (size_t)(have < len ? have : len);
    if (u->len && (!(u->old = malloc(u->len)) ||
                   f->real->pMethods->xRead(f->real, u->old, (int)u->len, offset) != SQLITE_OK)) {
        free(u->old);
        free(u);
        return SQLITE_IOERR;
    }
    pthread_mutex_lock(&pl_mu);
    u->prev = f->t->last;
    f->t->last = u;
    f->t->pending++;
    pthread_mutex_unlock(&pl_mu);
    return SQLITE_OK;
}

static int pl_close(sqlite3_file *file)
{
    pl_file *f = (pl_file *)file;
    return f->real->pMethods->xClose(f->real);
}

static int pl_read(sqlite3_file *file, void *buf, int n, sqlite3_int64 off)
{
    pl_file *f = (pl_file *)file;
    return f->real->pMethods->xRead(f->real, buf, n, off);
}

static int pl_write(sqlite3_file *file, const void *buf, int n, sqlite3_int64 off)
{
    pl_file *f = (pl_file *)file;
    if (atomic_load(&pl_cut))
        return SQLITE_IOERR_WRITE;
    int rc = f->t ? remember(f, off, n) : SQLITE_OK;
    return rc ? rc : f->real->pMethods->xWrite(f->real, buf, n, off);
}

static int pl_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    pl_file *f = (pl_file *)file;
    if (atomic_load(&pl_cut))
        return SQLITE_IOERR_TRUNCATE;
    int rc = f->t ? remember(f, size, INT64_MAX / 2) : SQLITE_OK;
    return rc ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int pl_sync(sqlite3_file *file, int flags)
{
    pl_file *f = (pl_file *)file;
    if (atomic_load(&pl_cut))
        return SQLITE_IOERR_FSYNC;
    int rc = f->real->pMethods->xSync(f->real, flags);
    if (rc == SQLITE_OK && f->t) {
        pthread_mutex_lock(&pl_mu);
        undo_free_all(f->t); /* on the disk now: a power cut keeps it */
        pthread_mutex_unlock(&pl_mu);
    }
    return rc;
}

static int pl_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    pl_file *f = (pl_file *)file;
    return f->real->pMethods->xFileSize(f->real, size);
}

static int pl_lock(sqlite3_file *file, int level)
{
    pl_file *f = (pl_file *)file;
    return f->real->pMethods->xLock(f->real, level);
}

static int pl_unlock(sqlite3_file *file, int level)
{
    pl_file *f = (pl_file *)file;
    return f->real->pMethods->xUnlock(f->real, level);
}

static int pl_reserved(sqlite3_file *file, int *out)
{
    pl_file *f = (pl_file *)file;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int pl_fcntl(sqlite3_file *file, int op, void *arg)
{
    pl_file *f = (pl_file *)file;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int pl_sector(sqlite3_file *file)
{
    pl_file *f = (pl_file *)file;
    return f->real->pMethods->xSectorSize(f->real);
}

static int pl_device(sqlite3_file *file)
{
    pl_file *f = (pl_file *)file;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

/* The WAL index (shared memory) is not durable state: passed through. */
static int pl_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **out)
{
    pl_file *f = (pl_file *)file;
    return f->real->pMethods->xShmMap(f->real, page, size, extend, out);
}

static int pl_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    pl_file *f = (pl_file *)file;
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void pl_shm_barrier(sqlite3_file *file)
{
    pl_file *f = (pl_file *)file;
    f->real->pMethods->xShmBarrier(f->real);
}

static int pl_shm_unmap(sqlite3_file *file, int del)
{
    pl_file *f = (pl_file *)file;
    return f->real->pMethods->xShmUnmap(f->real, del);
}

/* Version 2: no xFetch, so SQLite never reads these files through a memory map. */
static const sqlite3_io_methods pl_methods = {
    2,           pl_close,       pl_read,      pl_write, pl_truncate, pl_sync,   pl_file_size,
    pl_lock,     pl_unlock,      pl_reserved,  pl_fcntl, pl_sector,   pl_device, pl_shm_map,
    pl_shm_lock, pl_shm_barrier, pl_shm_unmap, NULL,     NULL,
};

static int pl_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
                   int *out_flags)
{
    pl_file *f = (pl_file *)file;
    memset(f, 0, sizeof *f);
    int rc = pl_real->xOpen(pl_real, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK)
        return rc;
    if (name && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)))
        f->t = track_path(name);
    f->base.pMethods = &pl_methods;
    return SQLITE_OK;
}

static int pl_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    if (atomic_load(&pl_cut))
        return SQLITE_IOERR_DELETE;
    return pl_real->xDelete(pl_real, name, sync_dir);
}

static int pl_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    return pl_real->xAccess(pl_real, name, flags, out);
}

static int pl_full_path(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    return pl_real->xFullPathname(pl_real, name, n, out);
}

static int pl_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    return pl_real->xRandomness(pl_real, n, out);
}

static int pl_sleep(sqlite3_vfs *vfs, int us)
{
    return pl_real->xSleep(pl_real, us);
}

static int pl_time(sqlite3_vfs *vfs, double *out)
{
    return pl_real->xCurrentTime(pl_real, out);
}

static int pl_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    return pl_real->xGetLastError(pl_real, n, out);
}

static sqlite3_vfs pl_vfs = {
    .iVersion = 1,
    .zName = "powerloss",
    .xOpen = pl_open,
    .xDelete = pl_delete,
    .xAccess = pl_access,
    .xFullPathname = pl_full_path,
    .xRandomness = pl_randomness,
    .xSleep = pl_sleep,
    .xCurrentTime = pl_time,
    .xGetLastError = pl_last_error,
};

/* From now on every store goes through the power-cut VFS, with power on. */
static void power_on(void)
{
    pl_real = sqlite3_vfs_find("unix");
    assert_non_null(pl_real);
    pl_vfs.szOsFile = (int)sizeof(pl_file) + pl_real->szOsFile;
    pl_vfs.mxPathname = pl_real->mxPathname;
    atomic_store(&pl_cut, 0);
    assert_int_equal(sqlite3_vfs_register(&pl_vfs, 1), SQLITE_OK);
}

/* The cut: nothing written from here on reaches the disk. */
static void power_cut(void)
{
    atomic_store(&pl_cut, 1);
}

/*
 * After every handle is closed: undoes what no sync covered, newest first,
 * keeping the oldest keep_prefix_of_every changes of each file when
 * asked (0: drop all; else each file keeps a prefix of random length).
 * Then the default VFS is the plain one again.
 */
static void power_restore(unsigned seed, int keep_prefix)
{
    pthread_mutex_lock(&pl_mu);
    for (tracked *t = pl_files; t; t = t->next) {
        size_t keep = keep_prefix && t->pending ? (size_t)rand_r(&seed) % (t->pending + 1) : 0;
        int fd = open(t->path, O_RDWR | O_CLOEXEC);
        assert_true(fd >= 0 || !t->last);
        for (size_t n = t->pending; t->last && n > keep; n--) {
            undo *u = t->last;
            t->last = u->prev;
            assert_int_equal(pwrite(fd, u->old, u->len, u->offset), (ssize_t)u->len);
            assert_int_equal(ftruncate(fd, u->old_size), 0);
            free(u->old);
            free(u);
        }
        if (fd >= 0)
            close(fd);
        undo_free_all(t);
    }
    while (pl_files) {
        tracked *t = pl_files;
        pl_files = t->next;
        free(t);
    }
    pthread_mutex_unlock(&pl_mu);
    assert_int_equal(sqlite3_vfs_register(pl_real, 1), SQLITE_OK);
    assert_int_equal(sqlite3_vfs_unregister(&pl_vfs), SQLITE_OK);
}

/* ------------------------------------------------- fixture and client */

typedef struct fixture {
    char dir[64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/hh-powerloss-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static const char plans_json[] =
    "{\"plans\": [{\"name\": \"pl\", \"maxDurationSec\": 12, \"requestsPerMinute\": 1000000,"
    " \"jobsInFlight\": 1, \"allow\": {\"1080p\": true, \"sourceImage\": true,"
    " \"lastFrame\": true, \"referenceVideo\": true, \"referenceAudio\": true},"
    " \"creditsPerSecond\": {\"720p\": 1, \"1080p\": 2}}]}";

/* The ids answered 202, shared by the clients. */
typedef struct acked {
    pthread_mutex_t mu;
    char (*ids)[HH_ID_LEN];
    size_t n, cap;
} acked;

typedef struct client {
    unsigned port;
    const char *key;
    acked *acks;
    atomic_int *stop;
    int bad; /* a 202 without an id, or no memory: checked on the main thread */
    pthread_t t;
} client;

/* One POST over its own connection; returns the status and copies the body's id. */
static int post_create(const client *c, char id[HH_ID_LEN])
{
    static const char body[] = "{\"prompt\":\"a lighthouse in a storm\",\"durationSec\":3}";
    char req[512], resp[4096];
    int n = snprintf(req, sizeof req,
                     "POST /api/v1/videos HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     c->key, sizeof body - 1, body);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) ||
        send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    size_t got = 0;
    ssize_t r;
    while (got < sizeof resp - 1 && (r = recv(fd, resp + got, sizeof resp - 1 - got, 0)) > 0)
        got += (size_t)r;
    close(fd);
    resp[got] = '\0';
    int status = 0;
    if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
        return -1;
    const char *p = strstr(resp, "\"id\":\"");
    id[0] = '\0';
    if (p && strlen(p + 6) >= HH_ID_LEN - 1) {
        memcpy(id, p + 6, HH_ID_LEN - 1);
        id[HH_ID_LEN - 1] = '\0';
    }
    return status;
}

static void *client_main(void *arg)
{
    client *c = arg;
    while (!atomic_load(c->stop)) {
        char id[HH_ID_LEN];
        if (post_create(c, id) != 202)
            continue; /* refused or failed: promised nothing */
        if (strlen(id) != HH_ID_LEN - 1) {
            c->bad = 1;
            return NULL;
        }
        pthread_mutex_lock(&c->acks->mu);
        if (c->acks->n == c->acks->cap) {
            size_t cap = c->acks->cap ? c->acks->cap * 2 : 256;
            void *p = realloc(c->acks->ids, cap * sizeof *c->acks->ids);
            if (p) {
                c->acks->ids = p;
                c->acks->cap = cap;
            }
        }
        if (c->acks->n < c->acks->cap)
            memcpy(c->acks->ids[c->acks->n++], id, HH_ID_LEN);
        else
            c->bad = 1;
        pthread_mutex_unlock(&c->acks->mu);
    }
    return NULL;
}

static size_t acked_count(acked *a)
{
    pthread_mutex_lock(&a->mu);
    size_t n = a->n;
    pthread_mutex_unlock(&a->mu);
    return n;
}

/* ------------------------------------------------- the checks after the cut */

static int has_charge(const hh_ledger_entry *e, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (e[i].kind == HH_LEDGER_CHARGE && !strcmp(e[i].ref, id) && e[i].amount == -PRICE)
            return 1;
    return 0;
}

/* Every ledger row of the user, newest first (*n of them; caller frees). */
static hh_ledger_entry *whole_ledger(hh_store *st, const char *user_id, size_t *n)
{
    hh_ledger_entry *all = NULL;
    *n = 0;
    int64_t before = 0;
    for (;;) {
        hh_ledger_entry *page = NULL;
        size_t got = 0;
        assert_int_equal(store_ledger_list(st, user_id, before, STORE_PAGE_MAX, &page, &got),
                         HH_OK);
        if (got) {
            all = realloc(all, (*n + got) * sizeof *all);
            assert_non_null(all);
            memcpy(all + *n, page, got * sizeof *page);
            *n += got;
            before = page[got - 1].id;
        }
        free(page);
        if (got < STORE_PAGE_MAX)
            return all;
    }
}

static void assert_intact(const char *dir)
{
    char path[128];
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    snprintf(path, sizeof path, "%s/happyhorse.db", dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
    sqlite3_finalize(s);
    sqlite3_close(db);
}

/* Reopens the store after the cut and checks every acknowledged create and the money. */
static void assert_survived(const char *dir, const char *email, acked *acks)
{
    hh_store *st = NULL;
    hh_user u;
    assert_int_equal(store_open(dir, &st), HH_OK);
    assert_int_equal(store_user_by_email(st, email, &u), HH_OK);
    size_t n = 0;
    hh_ledger_entry *ledger = whole_ledger(st, u.id, &n);
    int64_t sum = 0, charges = 0;
    for (size_t i = 0; i < n; i++) {
        sum += ledger[i].amount;
        charges += ledger[i].kind == HH_LEDGER_CHARGE;
    }
    assert_int_equal(u.credits, sum);
    assert_true(u.credits >= 0);
    for (size_t i = 0; i < acks->n; i++) {
        hh_video v;
        assert_int_equal(store_video_get_any(st, acks->ids[i], &v), HH_OK);
        assert_int_equal(v.credits_charged, PRICE);
        assert_string_equal(v.user_id, u.id);
        store_video_clear(&v);
        assert_true(has_charge(ledger, n, acks->ids[i]));
    }
    int64_t counts[HH_VIDEO_STATUS_COUNT], videos = 0;
    assert_int_equal(store_job_counts(st, counts), HH_OK);
    for (int s = 0; s < HH_VIDEO_STATUS_COUNT; s++)
        videos += counts[s];
    assert_int_equal(videos, charges); /* a video for every charge, none without */
    assert_true(videos >= (int64_t)acks->n);
    free(ledger);
    store_close(st);
    assert_intact(dir);
}

/* ------------------------------------------------- the tests */

/* The harness has teeth: commits acknowledged at synchronous=NORMAL are lost. */
static void cut_loses_unsynced_commits(void **state)
{
    fixture *f = *state;
    char path[128];
    snprintf(path, sizeof path, "%s/plain.db", f->dir);
    power_on();
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                                  " CREATE TABLE t (x INTEGER); PRAGMA synchronous = NORMAL",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    for (int i = 0; i < 20; i++) /* each one acknowledged: sqlite3_exec returned OK */
        assert_int_equal(sqlite3_exec(db, "INSERT INTO t VALUES (1)", NULL, NULL, NULL), SQLITE_OK);
    power_cut();
    sqlite3_close(db);
    power_restore(0, 0);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 0); /* the table was synced, no row was */
    sqlite3_finalize(s);
    sqlite3_close(db);
}

/* One round: serve, create from CLIENTS clients, cut after `after` answers, check. */
static void creates_survive_a_cut(fixture *f, int round, size_t after, int keep_prefix)
{
    char dir[96], email[64];
    snprintf(dir, sizeof dir, "%s/r%d", f->dir, round);
    snprintf(email, sizeof email, "r%d@example.com", round);
    power_on();
    hh_plans *plans = NULL;
    assert_int_equal(plans_load_json(plans_json, sizeof plans_json - 1, &plans, NULL), HH_OK);
    hh_app *app = NULL;
    app_config cfg = {.data_dir = dir, .store_location = dir, .plans = plans};
    assert_int_equal(app_new(&cfg, &app), HH_OK);
    hh_user u;
    char key[APIKEY_BUF], prefix[APIKEY_PREFIX_BUF];
    uint8_t hash[CRYPTO_SHA256_LEN];
    assert_int_equal(store_user_create(app->store, email, NULL, "pl", 1, &u), HH_OK);
    assert_int_equal(
        store_ledger_append(app->store, u.id, 1000000, HH_LEDGER_GRANT, NULL, NULL, NULL), HH_OK);
    assert_int_equal(apikey_generate(key), HH_OK);
    apikey_hash(key, hash);
    apikey_prefix(key, prefix);
    assert_int_equal(store_key_insert(app->store, u.id, "t", hash, prefix, NULL), HH_OK);
    http_config hc = {.listen = "127.0.0.1:0",
                      .threads = 2,
                      .routes = api_routes(),
                      .guard = api_guard,
                      .app = app};
    assert_int_equal(http_server_new(&hc, &app->http), HH_OK);

    acked acks = {.mu = PTHREAD_MUTEX_INITIALIZER};
    atomic_int stop = 0;
    client c[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        c[i] = (client){http_server_port(app->http), key, &acks, &stop, 0, 0};
        assert_int_equal(pthread_create(&c[i].t, NULL, client_main, &c[i]), 0);
    }
    while (acked_count(&acks) < after) /* a count of answers, not a time */
        usleep(2000);
    power_cut(); /* clients are mid-request: some creates are half written */
    atomic_store(&stop, 1);
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(c[i].t, NULL);
        assert_int_equal(c[i].bad, 0);
    }
    app_free(app); /* the server stops; closing writes nothing more */
    power_restore((unsigned)round, keep_prefix);

    assert_true(acks.n >= after);
    assert_survived(dir, email, &acks);
    free(acks.ids);
    pthread_mutex_destroy(&acks.mu);
}

static void creates_answered_202_survive_power_loss(void **state)
{
    fixture *f = *state;
    creates_survive_a_cut(f, 1, 40, 0);  /* every unsynced write lost */
    creates_survive_a_cut(f, 2, 75, 1);  /* each file keeps a random prefix of them */
    creates_survive_a_cut(f, 3, 120, 1); /* again, later, past a checkpoint or not */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(cut_loses_unsynced_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(creates_answered_202_survive_power_loss, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
