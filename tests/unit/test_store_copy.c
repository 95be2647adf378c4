/*
 * test_store_copy.c - the store's table copy (store_copy_read/_write/_stats,
 * the engine of `admin migrate`), from a SQLite store (a migration's
 * source) to a store of the backend the run asks for (HH_TEST_STORE: the
 * target, SQLite or PostgreSQL, through the store fixture): the spec names
 * every table of the schema and every column (checked against the SQLite
 * database itself, so a migration that adds one without the spec fails
 * here; the tables it skips are named); a whole store copied in small
 * batches keeps users, keys (their hashes are bytes), ledger, counts and
 * sums, and the target goes on from the copied ids; a second copy inserts
 * nothing; rows with a composite key page without gaps or repeats; every
 * type, NULLs, an empty blob and a fractional real come back as written;
 * and rows or arguments that do not fit the spec are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>
#include <unistd.h>

#include "store/store.h"
#include "support/store_fixture.h"
#include "util/crypto.h"

typedef struct fixture {
    store_fixture *a, *b; /* the source (SQLite) and the target */
    hh_store *src, *dst;
} fixture;

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->src);
    store_close(f->dst);
    int rc = sf_free(f->a) | sf_free(f->b);
    free(f);
    return rc;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    if (sf_new_sqlite(&f->a) || sf_new(&f->b) || sf_open(f->a, &f->src) || sf_open(f->b, &f->dst)) {
        teardown(state); /* cmocka skips it after a failed setup: the database would stay */
        return -1;
    }
    return 0;
}

static const store_copy_table *table(const char *name)
{
    for (size_t i = 0; i < store_copy_table_count; i++)
        if (!strcmp(store_copy_tables[i].name, name))
            return &store_copy_tables[i];
    fail_msg("no table %s in the spec", name);
    return NULL;
}

/* Copies every table of the spec from src to dst, limit rows a batch; returns the rows inserted. */
static size_t copy_all(hh_store *src, hh_store *dst, int limit)
{
    size_t total = 0;
    for (size_t i = 0; i < store_copy_table_count; i++) {
        const store_copy_table *t = &store_copy_tables[i];
        json_t *rows = NULL, *last = NULL;
        for (;;) {
            assert_int_equal(store_copy_read(src, t, last, limit, &rows), HH_OK);
            size_t n = json_array_size(rows), ins = 0;
            if (n) {
                assert_int_equal(store_copy_write(dst, t, rows, &ins), HH_OK);
                total += ins;
            }
            json_decref(last);
            last = n ? json_incref(json_array_get(rows, n - 1)) : NULL;
            json_decref(rows);
            if (n < (size_t)limit)
                break;
        }
        json_decref(last);
    }
    return total;
}

/* The database's own tables and columns are exactly the spec's, type for type. */
static void test_spec_is_the_schema(void **state)
{
    fixture *f = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/happyhorse.db", sf_location(f->a));
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT m.name, p.name, p.type FROM sqlite_master m,"
                                        " pragma_table_info(m.name) p WHERE m.type = 'table'"
                                        " AND m.name NOT LIKE 'sqlite_%'",
                                        -1, &s, NULL),
                     SQLITE_OK);
    static const char *const types[] = {"INTEGER", "TEXT", "BLOB", "REAL"};
    int columns = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *tname = (const char *)sqlite3_column_text(s, 0);
        const char *col = (const char *)sqlite3_column_text(s, 1);
        int skipped = 0;
        for (const char *const *k = store_copy_skipped; *k; k++)
            skipped |= !strcmp(*k, tname);
        if (skipped)
            continue;
        const store_copy_table *t = table(tname);
        int found = 0;
        for (int i = 0; i < t->ncols; i++)
            if (!strcmp(t->cols[i].name, col)) {
                assert_string_equal(types[t->cols[i].type], sqlite3_column_text(s, 2));
                found = 1;
            }
        if (!found)
            fail_msg("column %s.%s is not in the copy spec", tname, col);
        columns++;
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    int spec = 0;
    for (size_t i = 0; i < store_copy_table_count; i++)
        spec += store_copy_tables[i].ncols;
    assert_int_equal(columns, spec);
}

/* A store made through store.h arrives whole, in batches of 2, and a second copy adds nothing. */
static void test_copy_whole_store(void **state)
{
    fixture *f = *state;
    hh_user u, v, got;
    hh_api_key k, kk;
    uint8_t hash[CRYPTO_SHA256_LEN];
    assert_int_equal(store_user_create(f->src, "a@example.com", "$argon2id$x", "pro", 1, &u),
                     HH_OK);
    assert_int_equal(store_user_create(f->src, "b@example.com", NULL, "free", 0, &v), HH_OK);
    assert_int_equal(crypto_random(hash, sizeof hash), HH_OK);
    assert_int_equal(store_key_insert(f->src, u.id, "laptop", hash, "hh_live_AbCd", &k), HH_OK);
    for (int i = 1; i <= 7; i++)
        assert_int_equal(store_ledger_append(f->src, u.id, i, HH_LEDGER_GRANT, NULL, "g", NULL),
                         HH_OK);
    assert_int_equal(store_audit_append(f->src, "ops", "credits grant", u.id, "{}"), HH_OK);

    size_t first = copy_all(f->src, f->dst, 2);
    assert_int_equal(first, 2 + 1 + 7 + 1);
    assert_int_equal(copy_all(f->src, f->dst, 2), 0);
    for (size_t i = 0; i < store_copy_table_count; i++) {
        int64_t sn, ss, dn, ds;
        assert_int_equal(store_copy_stats(f->src, &store_copy_tables[i], &sn, &ss), HH_OK);
        assert_int_equal(store_copy_stats(f->dst, &store_copy_tables[i], &dn, &ds), HH_OK);
        assert_int_equal(sn, dn);
        assert_int_equal(ss, ds);
    }
    int64_t n, sum;
    assert_int_equal(store_copy_stats(f->dst, table("ledger"), &n, &sum), HH_OK);
    assert_int_equal(n, 7);
    assert_int_equal(sum, 28);
    assert_int_equal(store_key_lookup(f->dst, hash, &kk, &got), HH_OK);
    assert_string_equal(kk.id, k.id);
    assert_string_equal(got.id, u.id);
    assert_int_equal(got.credits, 28);
    char pw[64];
    assert_int_equal(store_user_password_hash(f->dst, u.id, pw, sizeof pw), HH_OK);
    assert_string_equal(pw, "$argon2id$x");
    /* The target goes on from the copied ids. */
    hh_ledger_entry *e = NULL;
    size_t ne = 0;
    assert_int_equal(store_ledger_append(f->dst, u.id, 1, HH_LEDGER_GRANT, NULL, NULL, NULL),
                     HH_OK);
    assert_int_equal(store_ledger_list(f->dst, u.id, 0, 1, &e, &ne), HH_OK);
    assert_int_equal(e[0].id, 8);
    free(e);
}

/* Rows of one JSON text, for the tables' own rows. */
static json_t *rows_of(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    return j;
}

static void write_rows(hh_store *st, const char *name, const char *text, size_t want)
{
    json_t *rows = rows_of(text);
    size_t ins = 0;
    assert_int_equal(store_copy_write(st, table(name), rows, &ins), HH_OK);
    assert_int_equal(ins, want);
    json_decref(rows);
}

/* At the target: every type and NULL as written; a composite key pages a row at a time, in order.
 */
static void test_types_and_composite_keys(void **state)
{
    fixture *f = *state;
    write_rows(f->dst, "users",
               "[[\"u1\", \"x@example.com\", null, \"pro\", 5, 1, 100, null],"
               " [\"u2\", \"y@example.com\", \"h\", \"free\", 0, 0, 101, 7]]",
               2);
    write_rows(f->dst, "webhooks",
               "[[\"w1\", \"u1\", \"https://h.example/\", 7, \"\", 1, null, null],"
               " [\"w2\", \"u1\", \"https://h.example/\", 1, \"00ff10\", 2, 3, 4]]",
               2);
    write_rows(f->dst, "idempotency",
               "[[\"u2\", \"k\", \"ab\", \"{}\", 1], [\"u1\", \"b\", \"cd\", \"{}\", 2],"
               " [\"u1\", \"a\", \"\", \"{}\", 3]]",
               3);
    write_rows(f->dst, "videos",
               "[[\"v1\", \"u1\", \"processing\", \"p\", null, 3, \"16:9\", \"720p\", \"{}\", 10,"
               " 0, 5, null, null, null, 1, 2, null, 0]]",
               1);
    write_rows(f->dst, "remote_tasks",
               "[[\"v1\", \"pro\", \"e\", \"wait\", \"{}\", null, null, 1, 2, 0, 0.1, null, null,"
               " 5, 6, 7, 8, null]]",
               1);
    /* Again: nothing new. */
    write_rows(f->dst, "users", "[[\"u1\", \"x@example.com\", null, \"pro\", 5, 1, 100, null]]", 0);

    const char *want[] = {"[\"u1\", \"a\", \"\", \"{}\", 3]", "[\"u1\", \"b\", \"cd\", \"{}\", 2]",
                          "[\"u2\", \"k\", \"ab\", \"{}\", 1]"};
    json_t *rows = NULL, *last = NULL;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(store_copy_read(f->dst, table("idempotency"), last, 1, &rows), HH_OK);
        if (i == 3) {
            assert_int_equal(json_array_size(rows), 0);
            json_decref(rows);
            break;
        }
        json_t *w = rows_of(want[i]);
        assert_true(json_equal(json_array_get(rows, 0), w));
        json_decref(w);
        json_decref(last);
        last = json_incref(json_array_get(rows, 0));
        json_decref(rows);
    }
    json_decref(last);

    assert_int_equal(store_copy_read(f->dst, table("webhooks"), NULL, 10, &rows), HH_OK);
    json_t *w = rows_of("[[\"w1\", \"u1\", \"https://h.example/\", 7, \"\", 1, null, null],"
                        " [\"w2\", \"u1\", \"https://h.example/\", 1, \"00ff10\", 2, 3, 4]]");
    assert_true(json_equal(rows, w));
    json_decref(w);
    json_decref(rows);
    assert_int_equal(store_copy_read(f->dst, table("remote_tasks"), NULL, 10, &rows), HH_OK);
    assert_true(json_real_value(json_array_get(json_array_get(rows, 0), 10)) == 0.1);
    assert_true(json_is_null(json_array_get(json_array_get(rows, 0), 5)));
    json_decref(rows);
}

/* What does not fit the spec never reaches the database. */
static void test_refusals(void **state)
{
    fixture *f = *state;
    const store_copy_table *users = table("users");
    store_copy_table other = *users;
    json_t *rows = NULL;
    size_t ins = 7;
    static const char *const bad[] = {
        "[]",
        "[[\"u1\", \"x@example.com\", null, \"pro\", 5, 1, 100]]",           /* a column short */
        "[[\"u1\", \"x@example.com\", null, \"pro\", \"5\", 1, 100, null]]", /* text for int */
        "[[null, \"x@example.com\", null, \"pro\", 5, 1, 100, null]]",       /* null key */
        "[[1, \"x@example.com\", null, \"pro\", 5, 1, 100, null]]",          /* int for text */
        "{}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = rows_of(bad[i]);
        assert_int_equal(store_copy_write(f->src, users, j, &ins), HH_ERR_INVALID);
        assert_int_equal(ins, 0);
        json_decref(j);
    }
    json_t *hex = rows_of("[[\"w\", \"u\", \"https://h/\", 1, \"abc\", 1, null, null]]");
    assert_int_equal(store_copy_write(f->src, table("webhooks"), hex, &ins), HH_ERR_INVALID);
    json_decref(hex);
    hex = rows_of("[[\"w\", \"u\", \"https://h/\", 1, \"zz\", 1, null, null]]");
    assert_int_equal(store_copy_write(f->src, table("webhooks"), hex, &ins), HH_ERR_INVALID);
    json_decref(hex);
    assert_int_equal(store_copy_read(f->src, &other, NULL, 10, &rows), HH_ERR_INVALID);
    assert_int_equal(store_copy_read(f->src, users, NULL, 0, &rows), HH_ERR_INVALID);
    assert_int_equal(store_copy_read(f->src, users, NULL, STORE_COPY_BATCH_MAX + 1, &rows),
                     HH_ERR_INVALID);
    assert_null(rows);
    int64_t n, s;
    assert_int_equal(store_copy_stats(f->src, &other, &n, &s), HH_ERR_INVALID);
    /* A row the schema refuses (a foreign key) fails the whole batch. */
    json_t *orphan = rows_of("[[\"k\", \"nobody\", \"n\", \"" /* 32 bytes of hash */
                             "0000000000000000000000000000000000000000000000000000000000000000"
                             "\", \"p\", 1, null, null]]");
    assert_int_not_equal(store_copy_write(f->src, table("api_keys"), orphan, &ins), HH_OK);
    json_decref(orphan);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_spec_is_the_schema),
        T(test_copy_whole_store),
        T(test_types_and_composite_keys),
        T(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
