/*
 * migrate.c - `happyhorse admin migrate`: a single node's installation (the
 * SQLite store under --data and its local objects) copied to another store
 * location (a postgres:// URL, or another data directory) and, with --s3,
 * its objects to the bucket of HAPPYHORSE_S3_*.
 *
 * Steps: both stores opened (the target migrated to the latest schema; the
 * source must be there already, not migrated behind the operator's back,
 * and holding the secrets its nodes derive from its secret.key);
 * the target checked to be empty or an earlier partial copy of this source
 * (no table holds more rows than the source's, every user is the source's);
 * every table of the store's copy spec (store.h, store_copy_tables) copied
 * in its order, in batches of --batch rows, each batch one transaction on
 * the target that skips rows already there, so a run killed half-way is
 * resumed by running it again; every object the rows refer to (ready
 * videos' outputs and thumbnails, complete uploads) copied unless the
 * target has it with the same size; then verified: per table the row count
 * and a sum compared, every object present with its size. Progress goes to
 * stderr, the summary (JSON) to stdout; a mismatch exits 1 naming it.
 */
#include "cli/migrate.h"
#include "api/webhook_dispatch.h"
#include "blob/blob.h"
#include "blob/blob_s3.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "store/store.h"
#include "util/timeutil.h"

#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROGRESS_MS 1000 /* at most one progress line a second per table */
#define BAD_SHOWN   5    /* objects named in a failure message */

/* One run: the stores, the object stores, and what the summary says. */
typedef struct migration {
    const char *prog;
    const cli_migrate_opts *o;
    const char *src_dir;
    const char *to_label; /* what messages call the target (a URL may hold a password) */
    hh_store *src, *dst;
    blob_store *src_blob;
    blob_store *dst_blob; /* NULL: the objects stay where they are */
    char tmp[PATH_MAX];   /* the scratch file objects pass through, "" until made */
    json_t *tables;       /* {"<table>": {...}} */
    int64_t last_progress;
} migration;

/* What happened to the objects, copied or checked. */
typedef struct obj_tally {
    int64_t referenced, copied, present, missing_source, bad;
    json_t *bad_keys; /* the first BAD_SHOWN objects the target lacks */
} obj_tally;

static int is_url(const char *location)
{
    return strstr(location, "://") != NULL;
}

static int col_of(const store_copy_table *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (!strcmp(t->cols[i].name, name))
            return i;
    return -1;
}

static const store_copy_table *table_named(const char *name)
{
    for (size_t i = 0; i < store_copy_table_count; i++)
        if (!strcmp(store_copy_tables[i].name, name))
            return &store_copy_tables[i];
    return NULL;
}

/* ---- opening ---- */

/* Opens one store: -1 when fine, else the exit status with a message. */
static int open_one(migration *m, const char *location, const char *label, int version,
                    hh_store **out)
{
    hh_status rc = version ? store_open_version(location, version, out) : store_open(location, out);
    if (rc == HH_ERR_CONFLICT)
        return cli_fail(m->prog, "the store at %s is newer than this binary: upgrade happyhorse",
                        label);
    if (rc)
        return cli_fail(m->prog, "cannot open the store at %s: %s", label, hh_status_str(rc));
    return -1;
}

/* 1 when path a and path b name one existing directory. */
static int same_dir(const char *a, const char *b)
{
    char ra[PATH_MAX], rb[PATH_MAX];
    return realpath(a, ra) && realpath(b, rb) && !strcmp(ra, rb);
}

/*
 * Makes sure the source holds the key that seals its webhooks' signing keys
 * (derived from its secret.key, as its serve would), so the key travels in
 * the secrets table: nodes on the target have no secret.key to derive it.
 */
static int seal_key(migration *m)
{
    uint8_t key[CRYPTO_SEAL_KEY_LEN];
    hh_status rc = hook_key_load(m->src, m->src_dir, key);
    OPENSSL_cleanse(key, sizeof key);
    return rc ? cli_fail(m->prog, "cannot read the webhook seal key of %s: %s", m->src_dir,
                         hh_status_str(rc))
              : -1;
}

/*
 * Opens the source without migrating it (version 1 applies nothing to a
 * store that has a schema) and the target at the latest version, and
 * refuses a source at another version than the target's.
 */
static int open_stores(migration *m)
{
    struct stat sb;
    if (is_url(m->o->to) && strncmp(m->o->to, "postgres://", 11) &&
        strncmp(m->o->to, "postgresql://", 13))
        return cli_usage_error(m->prog, "--to is a postgres:// URL or a directory");
    if (!is_url(m->o->to) && same_dir(m->src_dir, m->o->to))
        return cli_usage_error(m->prog, "--to names the source's own data directory");
    if (stat(m->src_dir, &sb) || !S_ISDIR(sb.st_mode))
        return cli_fail(m->prog, "no data directory at %s (see --data)", m->src_dir);
    int ex = open_one(m, m->src_dir, m->src_dir, 1, &m->src);
    if (ex < 0)
        ex = open_one(m, m->o->to, m->to_label, 0, &m->dst);
    if (ex >= 0)
        return ex;
    int sv = store_schema_version(m->src), tv = store_schema_version(m->dst);
    if (sv < tv)
        return cli_fail(m->prog,
                        "the store at %s is at schema version %d, this binary's is %d: run "
                        "`happyhorse serve --data %s` once (it upgrades the store), stop it, "
                        "then migrate",
                        m->src_dir, sv, tv, m->src_dir);
    if (sv > tv)
        return cli_fail(m->prog,
                        "the store at %s is at schema version %d, newer than %s's %d: "
                        "upgrade happyhorse",
                        m->src_dir, sv, m->to_label, tv);
    return seal_key(m);
}

/* The source's local objects, and where they go: the bucket, the target's directory, or nowhere. */
static int open_objects(migration *m)
{
    char err[320];
    blob_s3_config cfg;
    if (blob_open(m->src_dir, NULL, &m->src_blob))
        return cli_fail(m->prog, "cannot open the objects under %s", m->src_dir);
    if (m->o->s3) {
        int got = cli_s3_config(&cfg, err, sizeof err);
        if (got == 0)
            return cli_usage_error(m->prog, "--s3 needs the bucket's HAPPYHORSE_S3_ENDPOINT, "
                                            "_BUCKET, _REGION, _ACCESS_KEY_ID and "
                                            "_SECRET_ACCESS_KEY");
        if (got < 0)
            return cli_usage_error(m->prog, "%s", err);
        if (blob_open(m->src_dir, &cfg, &m->dst_blob) || blob_ping(m->dst_blob))
            return cli_fail(m->prog, "the bucket %s does not answer", cfg.bucket);
    } else if (!is_url(m->o->to) && blob_open(m->o->to, NULL, &m->dst_blob)) {
        return cli_fail(m->prog, "cannot open the objects under %s", m->o->to);
    }
    return -1;
}

/* ---- reading a table batch by batch ---- */

/* What is done with each batch of rows read (-1: go on, else the exit status). */
typedef int (*batch_fn)(migration *m, const store_copy_table *t, const json_t *rows, void *ctx);

/*
 * Reads table t of st in key order, --batch rows at a time, and calls fn
 * with each batch: -1 when every call returned -1, else the first other
 * exit status (or the failure to read, with its message).
 */
static int each_batch(migration *m, hh_store *st, const store_copy_table *t, batch_fn fn, void *ctx)
{
    json_t *rows = NULL, *last = NULL;
    int ex = -1;
    for (;;) {
        hh_status rc = store_copy_read(st, t, last, m->o->batch, &rows);
        if (rc) {
            ex = cli_fail(m->prog, "cannot read table %s of %s: %s", t->name,
                          st == m->src ? m->src_dir : m->to_label, hh_status_str(rc));
            break;
        }
        size_t n = json_array_size(rows);
        if (n)
            ex = fn(m, t, rows, ctx);
        json_decref(last);
        last = n ? json_incref(json_array_get(rows, n - 1)) : NULL;
        json_decref(rows);
        if (ex >= 0 || n < (size_t)m->o->batch)
            break;
    }
    json_decref(last);
    return ex;
}

/* ---- the target: empty, or an earlier copy of this source ---- */

/* Each user of the batch (of the target) must be the source's: same id, same email. */
static int check_users(migration *m, const store_copy_table *t, const json_t *rows, void *ctx)
{
    size_t email = (size_t)col_of(t, "email");
    for (size_t i = 0; i < json_array_size(rows); i++) {
        const json_t *row = json_array_get(rows, i);
        const char *id = json_string_value(json_array_get(row, 0));
        hh_user u;
        if (store_user_by_id(m->src, id, &u) ||
            strcmp(u.email, json_string_value(json_array_get(row, email))))
            return cli_fail(m->prog,
                            "%s holds user %s, which this store lacks: it is neither empty nor "
                            "an earlier copy of this store",
                            m->to_label, id);
    }
    return -1;
}

/* The users first (the likeliest to differ), then no table may hold more rows than the source's. */
static int check_target(migration *m)
{
    int ex = each_batch(m, m->dst, table_named("users"), check_users, NULL);
    for (size_t i = 0; ex < 0 && i < store_copy_table_count; i++) {
        const store_copy_table *t = &store_copy_tables[i];
        int64_t sn, ss, dn, ds;
        if (store_copy_stats(m->src, t, &sn, &ss) || store_copy_stats(m->dst, t, &dn, &ds))
            ex = cli_fail(m->prog, "cannot count the rows of %s", t->name);
        else if (dn > sn)
            ex = cli_fail(m->prog,
                          "%s is neither empty nor an earlier copy of this store: its table %s "
                          "holds %lld rows, this store's %lld",
                          m->to_label, t->name, (long long)dn, (long long)sn);
    }
    return ex;
}

/* ---- the tables ---- */

/* Rows read and rows new at the target, so far, of the table being copied. */
typedef struct copy_count {
    int64_t read, copied;
} copy_count;

static void progress(migration *m, const char *table, const copy_count *n, int last)
{
    int64_t now = hh_time_mono_ms();
    if (!last && now - m->last_progress < PROGRESS_MS)
        return;
    m->last_progress = now;
    fprintf(stderr, "migrate: %s: %lld rows%s, %lld copied\n", table, (long long)n->read,
            last ? "" : " so far", (long long)n->copied);
}

/* Writes a batch to the target in one transaction; rows it has already are skipped. */
static int copy_batch(migration *m, const store_copy_table *t, const json_t *rows, void *ctx)
{
    copy_count *n = ctx;
    size_t inserted = 0;
    hh_status rc = store_copy_write(m->dst, t, rows, &inserted);
    if (rc)
        return cli_fail(m->prog, "copying table %s failed after %lld rows: %s", t->name,
                        (long long)n->read, hh_status_str(rc));
    n->read += (int64_t)json_array_size(rows);
    n->copied += (int64_t)inserted;
    progress(m, t->name, n, 0);
    return -1;
}

static int copy_table(migration *m, const store_copy_table *t)
{
    copy_count n = {0};
    m->last_progress = hh_time_mono_ms();
    int ex = each_batch(m, m->src, t, copy_batch, &n);
    if (ex >= 0)
        return ex;
    progress(m, t->name, &n, 1);
    json_object_set_new(m->tables, t->name, json_pack("{s:I}", "copied", (json_int_t)n.copied));
    return -1;
}

/* ---- the objects ---- */

/* What is done with each object the source's rows refer to. */
typedef int (*object_fn)(migration *m, const char *key, obj_tally *tally);

/* Which rows of a table refer to objects, and in which columns; what to do with each. */
typedef struct object_refs {
    const char *state_col, *state; /* rows whose state_col holds state */
    const char *const *cols;       /* the columns naming objects, NULL-ended */
    object_fn fn;
    obj_tally *tally;
} object_refs;

static int objects_of_batch(migration *m, const store_copy_table *t, const json_t *rows, void *ctx)
{
    const object_refs *r = ctx;
    size_t sc = (size_t)col_of(t, r->state_col);
    int ex = -1;
    for (size_t i = 0; i < json_array_size(rows) && ex < 0; i++) {
        const json_t *row = json_array_get(rows, i);
        const char *s = json_string_value(json_array_get(row, sc));
        for (const char *const *c = r->cols; *c && ex < 0 && s && !strcmp(s, r->state); c++) {
            const char *key = json_string_value(json_array_get(row, (size_t)col_of(t, *c)));
            if (key && *key) {
                r->tally->referenced++;
                ex = r->fn(m, key, r->tally);
            }
        }
    }
    return ex;
}

/* Calls fn for every object a ready video or a complete upload refers to. */
static int each_object(migration *m, object_fn fn, obj_tally *tally)
{
    static const char *const video_cols[] = {"video_key", "thumbnail_key", NULL};
    static const char *const upload_cols[] = {"key", NULL};
    object_refs videos = {"status", "ready", video_cols, fn, tally};
    object_refs uploads = {"state", "complete", upload_cols, fn, tally};
    int ex = each_batch(m, m->src, table_named("videos"), objects_of_batch, &videos);
    return ex < 0 ? each_batch(m, m->src, table_named("uploads"), objects_of_batch, &uploads) : ex;
}

/* The source's size of key into *size: 1, or 0 when the source lacks it; -1 with rc set. */
static int source_size(migration *m, const char *key, uint64_t *size, hh_status *rc)
{
    blob_info info;
    *rc = blob_stat(m->src_blob, key, &info);
    if (*rc == HH_ERR_NOTFOUND)
        return 0;
    *size = info.size;
    return *rc ? -1 : 1;
}

/* Copies key to the target unless it has it with the source's size. */
static int copy_object(migration *m, const char *key, obj_tally *tally)
{
    uint64_t size = 0;
    blob_info info;
    hh_status rc;
    int got = source_size(m, key, &size, &rc);
    if (got == 0) {
        tally->missing_source++;
        fprintf(stderr, "migrate: object %s is missing from %s (not copied)\n", key, m->src_dir);
        return -1;
    }
    if (got < 0 || !m->dst_blob)
        return got < 0 ? cli_fail(m->prog, "cannot read object %s: %s", key, hh_status_str(rc))
                       : -1;
    rc = blob_stat(m->dst_blob, key, &info);
    if (!rc && info.size == size) {
        tally->present++;
        return -1;
    }
    rc = blob_fetch_file(m->src_blob, key, m->tmp);
    if (!rc)
        rc = blob_put_file(m->dst_blob, key, m->tmp);
    if (rc)
        return cli_fail(m->prog, "copying object %s failed: %s", key, hh_status_str(rc));
    if (++tally->copied % 100 == 0)
        fprintf(stderr, "migrate: objects: %lld copied so far\n", (long long)tally->copied);
    return -1;
}

/* Checks that the target has key with the source's size. */
static int verify_object(migration *m, const char *key, obj_tally *tally)
{
    uint64_t size = 0;
    blob_info info;
    hh_status rc;
    int got = source_size(m, key, &size, &rc);
    if (got <= 0)
        return got < 0 ? cli_fail(m->prog, "cannot read object %s: %s", key, hh_status_str(rc))
                       : -1;
    rc = blob_stat(m->dst_blob ? m->dst_blob : m->src_blob, key, &info);
    if (rc || info.size != size) {
        if (tally->bad++ < BAD_SHOWN)
            json_array_append_new(tally->bad_keys, json_string(key));
    }
    return -1;
}

/*
 * The scratch file objects pass through, in the source's directory: one
 * name, so a killed run's is reused (blob_fetch_file truncates it), not
 * left behind.
 */
static int name_tmp(migration *m)
{
    int n = snprintf(m->tmp, sizeof m->tmp, "%s/.migrate.part", m->src_dir);
    if (n > 0 && (size_t)n < sizeof m->tmp)
        return -1;
    m->tmp[0] = '\0';
    return cli_fail(m->prog, "the data directory's path is too long");
}

static int copy_objects(migration *m, json_t *summary)
{
    obj_tally tally = {0};
    int ex = m->dst_blob ? name_tmp(m) : -1;
    fprintf(stderr, "migrate: objects: %s\n",
            m->o->s3      ? "to the bucket"
            : m->dst_blob ? "to the target's directory"
                          : "left in place (no --s3)");
    if (ex < 0)
        ex = each_object(m, copy_object, &tally);
    if (ex >= 0)
        return ex;
    fprintf(stderr, "migrate: objects: %lld referenced, %lld copied, %lld there already\n",
            (long long)tally.referenced, (long long)tally.copied, (long long)tally.present);
    json_object_set_new(summary, "objects",
                        json_pack("{s:I, s:I, s:I, s:I}", "referenced",
                                  (json_int_t)tally.referenced, "copied", (json_int_t)tally.copied,
                                  "present", (json_int_t)tally.present, "missingAtSource",
                                  (json_int_t)tally.missing_source));
    return -1;
}

/* ---- verification ---- */

/* Appends the rows of a batch to the array ctx. */
static int collect_rows(migration *m, const store_copy_table *t, const json_t *rows, void *ctx)
{
    return json_array_extend(ctx, (json_t *)rows) ? cli_fail(m->prog, "out of memory") : -1;
}

/*
 * For a table without a column to sum (small: secrets): whether the
 * target holds exactly the source's rows, each equal, whatever the order
 * (the stores may order text keys differently). *same gets the answer.
 */
static int same_rows(migration *m, const store_copy_table *t, int *same)
{
    json_t *a = json_array(), *b = json_array();
    int ex =
        a && b ? each_batch(m, m->src, t, collect_rows, a) : cli_fail(m->prog, "out of memory");
    if (ex < 0)
        ex = each_batch(m, m->dst, t, collect_rows, b);
    *same = json_array_size(a) == json_array_size(b);
    for (size_t i = 0; ex < 0 && *same && i < json_array_size(a); i++) {
        int found = 0;
        for (size_t k = 0; !found && k < json_array_size(b); k++)
            found = json_equal(json_array_get(a, i), json_array_get(b, k));
        *same = found;
    }
    json_decref(a);
    json_decref(b);
    return ex;
}

/* Compares every table's count and sum (or rows); *failed gets the names of those that differ. */
static int verify_tables(migration *m, char *failed, size_t size)
{
    for (size_t i = 0; i < store_copy_table_count; i++) {
        const store_copy_table *t = &store_copy_tables[i];
        int64_t sn, ss, dn, ds;
        if (store_copy_stats(m->src, t, &sn, &ss) || store_copy_stats(m->dst, t, &dn, &ds))
            return cli_fail(m->prog, "cannot count the rows of %s", t->name);
        int ok = sn == dn && ss == ds, ex = -1;
        if (!t->sum && (ex = same_rows(m, t, &ok)) >= 0)
            return ex;
        json_t *j = json_object_get(m->tables, t->name);
        json_object_set_new(j, "rows", json_integer(sn));
        json_object_set_new(j, "targetRows", json_integer(dn));
        json_object_set_new(j, "sumOf", t->sum ? json_string(t->sum) : json_null());
        json_object_set_new(j, "sum", json_integer(ss));
        json_object_set_new(j, "targetSum", json_integer(ds));
        json_object_set_new(j, "ok", json_boolean(ok));
        if (!ok) {
            size_t len = strlen(failed);
            snprintf(failed + len, size - len, "%s%s", len ? ", " : "", t->name);
        }
    }
    return -1;
}

static int verify(migration *m, json_t *summary)
{
    char failed[512] = "";
    obj_tally tally = {.bad_keys = json_array()};
    int ex = verify_tables(m, failed, sizeof failed);
    if (ex < 0)
        ex = each_object(m, verify_object, &tally);
    json_t *objects = json_object_get(summary, "objects");
    json_object_set_new(objects, "missingAtTarget", json_integer(tally.bad));
    json_object_set_new(objects, "missingKeys", tally.bad_keys);
    if (ex >= 0)
        return ex;
    int ok = !*failed && !tally.bad;
    json_object_set_new(summary, "ok", json_boolean(ok));
    char *text = json_dumps(summary, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text)
        printf("%s\n", text);
    free(text);
    if (*failed)
        return cli_fail(m->prog, "verification failed: rows or sums differ in %s", failed);
    if (tally.bad)
        return cli_fail(m->prog,
                        "verification failed: %lld objects missing or of another size at the "
                        "target (the summary names the first)",
                        (long long)tally.bad);
    fprintf(stderr, "migrate: verified: every table's rows and sum, every object\n");
    return CLI_OK;
}

/* ---- the command ---- */

static int run(migration *m, json_t *summary)
{
    int ex = open_stores(m);
    if (ex < 0)
        ex = open_objects(m);
    if (ex < 0)
        ex = check_target(m);
    if (ex < 0)
        fprintf(stderr, "migrate: from %s to %s\n", m->src_dir, m->to_label);
    for (size_t i = 0; ex < 0 && i < store_copy_table_count; i++)
        ex = copy_table(m, &store_copy_tables[i]);
    if (ex < 0)
        ex = copy_objects(m, summary);
    return ex < 0 ? verify(m, summary) : ex;
}

int cli_migrate(const char *prog, const cli_migrate_opts *o)
{
    migration m = {.prog = prog, .o = o, .src_dir = cli_data_dir(o->data)};
    m.to_label = is_url(o->to) ? "the database of --to" : o->to;
    m.tables = json_object();
    json_t *summary = json_pack("{s:s, s:s, s:O}", "source", m.src_dir, "target",
                                is_url(o->to) ? "postgres" : o->to, "tables", m.tables);
    int ex = m.tables && summary ? run(&m, summary) : cli_fail(prog, "out of memory");
    if (m.tmp[0])
        unlink(m.tmp);
    blob_free(m.dst_blob);
    blob_free(m.src_blob);
    store_close(m.dst);
    store_close(m.src);
    json_decref(m.tables);
    json_decref(summary);
    return ex;
}
