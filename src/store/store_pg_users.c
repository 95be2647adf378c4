/*
 * store_pg_users.c - users, API keys and the credit ledger on PostgreSQL
 * (the part of store.h that store_sqlite.c serves on SQLite, and the paged
 * key list of store_sqlite_accounts.c, which shares this file's reader of a
 * key row), with the same statuses, order and limits.
 *
 * Emails: the schema's unique index is on lower(email), so a user is found
 * by lower(email) = lower($1), which that index serves.
 *
 * The ledger: every balance change goes through pg_ledger_append_tx inside
 * its caller's transaction. It locks the user row first (FOR NO KEY UPDATE:
 * the lock an UPDATE of credits takes, which does not block inserts that
 * merely reference the user), so concurrent appends to one balance queue
 * behind each other and each decides on the balance as committed; the
 * database holds the invariant as well (credits >= 0, balance_after >= 0,
 * one charge and one refund per ref), and the new balance it writes is the
 * one the ledger row records. Times the SQLite code takes from the node's
 * clock come from the database's (hh_now_ms()), but for a key's created_at,
 * which pg_key_new fills before any connection is held.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_int.h"
#include "store/store_pg_int.h"
#include "util/timeutil.h"
#include "util/uuid.h"

#define USER_COLS "id, email, plan, credits, api_access, created_at, (disabled_at IS NOT NULL)::int"
#define KEY_COLS  "id, user_id, name, prefix, created_at, last_used_at"

/* Room for the bytea literal of a SHA-256. */
#define HASH_HEX (2 * CRYPTO_SHA256_LEN + 3)

/* This file's statements: the SQL of each in users_text, the prepared row PG_FILE_USERS. */
enum users_stmt {
    U_USER_INSERT,
    U_USER_BY_EMAIL,
    U_USER_BY_ID,
    U_USER_SET_PLAN,
    U_USER_SET_ACCESS,
    U_USER_PWHASH,
    U_KEY_INSERT,
    U_KEY_LOOKUP,
    U_KEY_LIST,
    U_KEY_PAGE,
    U_KEY_DELETE,
    U_KEY_TOUCH,
    U_BALANCE_LOCK,
    U_LEDGER_APPEND,
    U_LEDGER_LIST,
    U_LEDGER_SUM,
    U_COUNT
};
_Static_assert(U_COUNT <= PG_STMTS_MAX, "raise PG_STMTS_MAX in store_pg_int.h");

static const char *const users_text[U_COUNT] = {
    [U_USER_INSERT] = "INSERT INTO users (id, email, password_hash, plan, credits, api_access,"
                      " created_at) VALUES ($1, $2, $3, $4, 0, $5::bigint, hh_now_ms())"
                      " RETURNING created_at",
    [U_USER_BY_EMAIL] = "SELECT " USER_COLS " FROM users WHERE lower(email) = lower($1)",
    [U_USER_BY_ID] = "SELECT " USER_COLS " FROM users WHERE id = $1",
    [U_USER_SET_PLAN] = "UPDATE users SET plan = $2 WHERE id = $1",
    [U_USER_SET_ACCESS] = "UPDATE users SET api_access = $2::bigint WHERE id = $1",
    [U_USER_PWHASH] = "SELECT password_hash FROM users WHERE id = $1",
    [U_KEY_INSERT] = "INSERT INTO api_keys (id, user_id, name, hash, prefix, created_at)"
                     " VALUES ($1, $2, $3, $4::bytea, $5, $6::bigint)",
    [U_KEY_LOOKUP] = "SELECT k.id, k.user_id, k.name, k.prefix, k.created_at, k.last_used_at,"
                     " u.id, u.email, u.plan, u.credits, u.api_access, u.created_at,"
                     " (u.disabled_at IS NOT NULL)::int"
                     " FROM api_keys k JOIN users u ON u.id = k.user_id"
                     " WHERE k.hash = $1::bytea AND k.deleted_at IS NULL",
    [U_KEY_LIST] = "SELECT " KEY_COLS " FROM api_keys WHERE user_id = $1 AND deleted_at IS NULL"
                   " ORDER BY created_at DESC, id DESC LIMIT $2::bigint",
    [U_KEY_PAGE] = "SELECT " KEY_COLS " FROM api_keys WHERE user_id = $1 AND deleted_at IS NULL"
                   " AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3::bigint",
    [U_KEY_DELETE] = "UPDATE api_keys SET deleted_at = hh_now_ms()"
                     " WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL",
    /* A whole batch in one statement: each key once, at the latest of its times. */
    [U_KEY_TOUCH] = "UPDATE api_keys k SET last_used_at = greatest(coalesce(k.last_used_at, 0),"
                    " t.at) FROM (SELECT id, max(at) AS at"
                    " FROM unnest($1::text[], $2::bigint[]) AS b(id, at) GROUP BY id) t"
                    " WHERE k.id = t.id",
    [U_BALANCE_LOCK] = "SELECT credits FROM users WHERE id = $1 FOR NO KEY UPDATE",
    /* One statement moves the balance and writes the row with the balance the database made. */
    [U_LEDGER_APPEND] = "WITH u AS (UPDATE users SET credits = credits + $2::bigint WHERE id = $1"
                        " RETURNING credits)"
                        " INSERT INTO ledger (user_id, amount, balance_after, kind, ref, note,"
                        " created_at) SELECT $1, $2::bigint, credits, $3, $4, $5, hh_now_ms()"
                        " FROM u RETURNING balance_after",
    [U_LEDGER_LIST] = "SELECT id, user_id, amount, balance_after, kind, ref, note, created_at"
                      " FROM ledger WHERE user_id = $1 AND ($2::bigint <= 0 OR id < $2::bigint)"
                      " ORDER BY id DESC LIMIT $3::bigint",
    [U_LEDGER_SUM] = "SELECT coalesce(sum(amount), 0)::bigint FROM ledger WHERE user_id = $1",
};

static const pg_sql users_sql = {PG_FILE_USERS, U_COUNT, users_text};

/* pg_run of an at-most-one-row query: HH_OK with *res holding the row, or HH_ERR_NOTFOUND. */
static hh_status run_row(hh_store *st, int id, int n, const char *const *p, PGresult **res)
{
    hh_status rc = pg_run(st, &users_sql, id, n, p, res);
    if (!rc && PQntuples(*res) == 0) {
        PQclear(*res);
        *res = NULL;
        rc = HH_ERR_NOTFOUND;
    }
    return rc;
}

/* ---- users ---- */

/* Reads the user of columns col..col+6 (USER_COLS) of row 0. */
static void read_user(const PGresult *r, int col, hh_user *u)
{
    memset(u, 0, sizeof *u);
    pg_col_text(r, 0, col, u->id, sizeof u->id);
    pg_col_text(r, 0, col + 1, u->email, sizeof u->email);
    pg_col_text(r, 0, col + 2, u->plan, sizeof u->plan);
    u->credits = pg_col_i64(r, 0, col + 3);
    u->api_access = pg_col_i64(r, 0, col + 4) != 0;
    u->created_at = pg_col_i64(r, 0, col + 5);
    u->disabled = pg_col_i64(r, 0, col + 6) != 0;
}

static hh_status pg_user_create(hh_store *st, const char *email, const char *password_hash,
                                const char *plan, int api_access, hh_user *out)
{
    PGresult *r = NULL;
    pg_num a;
    hh_user u = {0};
    hh_status rc = uuid_v7(u.id);
    if (rc)
        return rc;
    memcpy(u.email, email, strlen(email) + 1);
    memcpy(u.plan, plan, strlen(plan) + 1);
    u.api_access = api_access != 0;
    const char *p[] = {u.id, u.email, pg_text_or_null(password_hash), u.plan,
                       pg_i64(&a, u.api_access)};
    rc = pg_run(st, &users_sql, U_USER_INSERT, 5, p, &r);
    if (!rc) {
        u.created_at = pg_col_i64(r, 0, 0);
        if (out)
            *out = u;
    }
    PQclear(r);
    return rc;
}

/* Runs the one-parameter user query id with key and reads the row into out. */
static hh_status user_query(hh_store *st, int id, const char *key, hh_user *out)
{
    PGresult *r = NULL;
    if (!key)
        return HH_ERR_NOTFOUND;
    const char *p[] = {key};
    hh_status rc = run_row(st, id, 1, p, &r);
    if (!rc)
        read_user(r, 0, out);
    PQclear(r);
    return rc;
}

static hh_status pg_user_by_email(hh_store *st, const char *email, hh_user *out)
{
    return user_query(st, U_USER_BY_EMAIL, email, out);
}

static hh_status pg_user_by_id(hh_store *st, const char *id, hh_user *out)
{
    return user_query(st, U_USER_BY_ID, id, out);
}

static hh_status pg_user_set_plan(hh_store *st, const char *user_id, const char *plan)
{
    const char *p[] = {user_id, plan};
    return pg_run_one(st, &users_sql, U_USER_SET_PLAN, 2, p);
}

static hh_status pg_user_set_api_access(hh_store *st, const char *user_id, int on)
{
    const char *p[] = {user_id, on ? "1" : "0"};
    return pg_run_one(st, &users_sql, U_USER_SET_ACCESS, 2, p);
}

static hh_status pg_user_password_hash(hh_store *st, const char *user_id, char *buf, size_t size)
{
    PGresult *r = NULL;
    buf[0] = '\0';
    const char *p[] = {user_id};
    hh_status rc = run_row(st, U_USER_PWHASH, 1, p, &r);
    if (!rc && pg_col_null(r, 0, 0))
        rc = HH_ERR_NOTFOUND; /* the user exists but has no password */
    else if (!rc && (size_t)PQgetlength(r, 0, 0) >= size)
        rc = HH_ERR_LIMIT;
    else if (!rc)
        pg_col_text(r, 0, 0, buf, size);
    PQclear(r);
    return rc;
}

/* ---- API keys ---- */

static void read_key_row(const PGresult *r, int row, void *out)
{
    hh_api_key *k = out;
    memset(k, 0, sizeof *k);
    pg_col_text(r, row, 0, k->id, sizeof k->id);
    pg_col_text(r, row, 1, k->user_id, sizeof k->user_id);
    pg_col_text(r, row, 2, k->name, sizeof k->name);
    pg_col_text(r, row, 3, k->prefix, sizeof k->prefix);
    k->created_at = pg_col_i64(r, row, 4);
    k->last_used_at = pg_col_i64(r, row, 5); /* NULL reads as 0: never used */
}

hh_status pg_key_new(const char *user_id, const char *name, const char *prefix, hh_api_key *k)
{
    memset(k, 0, sizeof *k);
    if (!user_id || strnlen(user_id, HH_ID_LEN) >= HH_ID_LEN || !name ||
        strnlen(name, sizeof k->name) >= sizeof k->name || !prefix || !*prefix ||
        strnlen(prefix, sizeof k->prefix) >= sizeof k->prefix)
        return HH_ERR_INVALID;
    hh_status rc = uuid_v7(k->id);
    if (rc)
        return rc;
    memcpy(k->user_id, user_id, strlen(user_id) + 1);
    memcpy(k->name, name, strlen(name) + 1);
    memcpy(k->prefix, prefix, strlen(prefix) + 1);
    k->created_at = hh_time_now_ms();
    return HH_OK;
}

hh_status pg_key_insert_on(pg_conn *c, const hh_api_key *k, const uint8_t hash[CRYPTO_SHA256_LEN])
{
    char hex[HASH_HEX];
    pg_num at;
    const char *p[] = {k->id,     k->user_id,
                       k->name,   pg_bytea_hex(hash, CRYPTO_SHA256_LEN, hex, sizeof hex),
                       k->prefix, pg_i64(&at, k->created_at)};
    return pg_exec(c, &users_sql, U_KEY_INSERT, 6, p);
}

/* Runs store_key_insert's single insert on a borrowed connection. */
static hh_status pg_key_insert(hh_store *st, const char *user_id, const char *name,
                               const uint8_t hash[CRYPTO_SHA256_LEN], const char *prefix,
                               hh_api_key *out)
{
    pg_conn *c = NULL;
    hh_api_key k;
    hh_status rc = pg_key_new(user_id, name, prefix, &k);
    if (rc)
        return rc;
    rc = pg_borrow(st, &c);
    if (!rc)
        rc = pg_key_insert_on(c, &k, hash);
    if (!rc && out)
        *out = k;
    pg_put(st, c);
    return rc;
}

static hh_status pg_key_lookup(hh_store *st, const uint8_t hash[CRYPTO_SHA256_LEN], hh_api_key *key,
                               hh_user *user)
{
    PGresult *r = NULL;
    char hex[HASH_HEX];
    const char *p[] = {pg_bytea_hex(hash, CRYPTO_SHA256_LEN, hex, sizeof hex)};
    hh_status rc = run_row(st, U_KEY_LOOKUP, 1, p, &r);
    if (!rc && key)
        read_key_row(r, 0, key);
    if (!rc && user)
        read_user(r, 6, user);
    PQclear(r);
    return rc;
}

/* Runs the key query id with its n parameters and reads every row into *keys. */
static hh_status key_rows(hh_store *st, int id, int n, const char *const *p, hh_api_key **keys,
                          size_t *count)
{
    PGresult *r = NULL;
    void *arr = NULL;
    *keys = NULL;
    *count = 0;
    hh_status rc = pg_run(st, &users_sql, id, n, p, &r);
    if (!rc)
        rc = pg_collect_rows(r, sizeof **keys, read_key_row, &arr, count);
    PQclear(r);
    if (!rc)
        *keys = arr;
    return rc;
}

static hh_status pg_key_list(hh_store *st, const char *user_id, hh_api_key **keys, size_t *n)
{
    pg_num max;
    const char *p[] = {user_id, pg_i64(&max, STORE_KEYS_MAX)};
    return key_rows(st, U_KEY_LIST, 2, p, keys, n);
}

/*
 * store_key_list_page (store_sqlite_accounts.c's on SQLite) lives here, by
 * the key list and the one reader of a key row.
 */
static hh_status pg_key_list_page(hh_store *st, const char *user_id, const char *before, int limit,
                                  hh_api_key **keys, size_t *n)
{
    pg_num lim;
    const char *p[] = {user_id, before ? before : "", pg_i64(&lim, limit)};
    return key_rows(st, U_KEY_PAGE, 3, p, keys, n);
}

static hh_status pg_key_delete(hh_store *st, const char *user_id, const char *key_id)
{
    if (!user_id || !key_id)
        return HH_ERR_NOTFOUND;
    const char *p[] = {key_id, user_id};
    return pg_run_one(st, &users_sql, U_KEY_DELETE, 2, p);
}

/*
 * The array literal of key_ids[0..n) for $1::text[]: each element quoted,
 * its quotes and backslashes escaped. malloc'd (the caller frees); NULL when
 * out of memory.
 */
static char *text_array(const char *const *key_ids, size_t n)
{
    size_t size = 3;
    for (size_t i = 0; i < n; i++)
        size += 2 * strlen(key_ids[i]) + 3;
    char *buf = malloc(size), *w = buf;
    if (!buf)
        return NULL;
    *w++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *w++ = ',';
        *w++ = '"';
        for (const char *c = key_ids[i]; *c; c++) {
            if (*c == '"' || *c == '\\')
                *w++ = '\\';
            *w++ = *c;
        }
        *w++ = '"';
    }
    *w++ = '}';
    *w = '\0';
    return buf;
}

/* The array literal of used_at[0..n) for $2::bigint[]; malloc'd, NULL when out of memory. */
static char *int_array(const int64_t *used_at, size_t n)
{
    size_t size = 3 + n * sizeof(pg_num), len = 0;
    char *buf = malloc(size);
    if (!buf)
        return NULL;
    buf[len++] = '{';
    for (size_t i = 0; i < n; i++) {
        pg_num v;
        len +=
            (size_t)snprintf(buf + len, size - len, "%s%s", i ? "," : "", pg_i64(&v, used_at[i]));
    }
    snprintf(buf + len, size - len, "}");
    return buf;
}

static hh_status pg_key_touch(hh_store *st, const char *const *key_ids, const int64_t *used_at,
                              size_t n)
{
    if (n == 0)
        return HH_OK;
    hh_status rc = HH_ERR_NOMEM;
    char *ids = text_array(key_ids, n), *times = int_array(used_at, n);
    if (!ids || !times)
        goto out;
    const char *p[] = {ids, times};
    rc = pg_run(st, &users_sql, U_KEY_TOUCH, 2, p, NULL);
out:
    free(ids);
    free(times);
    return rc;
}

/* ---- ledger ---- */

/*
 * The ledger step inside the caller's transaction on c (store_pg_int.h):
 * locks the user row, refuses what would take the balance below zero
 * (HH_ERR_CREDITS, *balance_after the balance) or past INT64_MAX
 * (HH_ERR_LIMIT), then moves the balance and appends the row in one
 * statement. HH_ERR_NOTFOUND for an unknown user; HH_ERR_EXISTS for a second
 * charge or refund of one ref (the ledger's unique index).
 */
hh_status pg_ledger_append_tx(pg_conn *c, const char *user_id, int64_t amount, hh_ledger_kind kind,
                              const char *ref, const char *note, int64_t *balance_after)
{
    PGresult *r = NULL;
    const char *lock[] = {user_id};
    hh_status rc = pg_one(c, &users_sql, U_BALANCE_LOCK, 1, lock, &r);
    int64_t balance = rc ? 0 : pg_col_i64(r, 0, 0);
    PQclear(r);
    r = NULL;
    if (rc)
        return rc;
    if (amount < 0 ? balance < -amount : balance > INT64_MAX - amount) {
        if (balance_after)
            *balance_after = balance; /* what the refusal is measured against */
        return amount < 0 ? HH_ERR_CREDITS : HH_ERR_LIMIT;
    }
    pg_num a;
    const char *p[] = {user_id, pg_i64(&a, amount), hh_ledger_kind_str(kind), pg_text_or_null(ref),
                       pg_text_or_null(note)};
    rc = pg_one(c, &users_sql, U_LEDGER_APPEND, 5, p, &r);
    if (rc == HH_ERR_NOTFOUND)
        rc = HH_ERR_DB; /* the locked row cannot go: the statement must have written */
    if (!rc && balance_after)
        *balance_after = pg_col_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

static void read_entry_row(const PGresult *r, int row, void *out)
{
    hh_ledger_entry *e = out;
    char kind[16];
    memset(e, 0, sizeof *e);
    e->id = pg_col_i64(r, row, 0);
    pg_col_text(r, row, 1, e->user_id, sizeof e->user_id);
    e->amount = pg_col_i64(r, row, 2);
    e->balance_after = pg_col_i64(r, row, 3);
    pg_col_text(r, row, 4, kind, sizeof kind);
    e->kind = store_ledger_kind_parse(kind);
    pg_col_text(r, row, 5, e->ref, sizeof e->ref);
    pg_col_text(r, row, 6, e->note, sizeof e->note);
    e->created_at = pg_col_i64(r, row, 7);
}

/* The arguments of one store_ledger_append. */
typedef struct ledger_call {
    const char *user_id;
    int64_t amount;
    hh_ledger_kind kind;
    const char *ref, *note;
    int64_t *balance_after;
} ledger_call;

static hh_status ledger_append_tx(pg_conn *c, void *ctx)
{
    const ledger_call *l = ctx;
    return pg_ledger_append_tx(c, l->user_id, l->amount, l->kind, l->ref, l->note,
                               l->balance_after);
}

static hh_status pg_ledger_append(hh_store *st, const char *user_id, int64_t amount,
                                  hh_ledger_kind kind, const char *ref, const char *note,
                                  int64_t *balance_after)
{
    ledger_call l = {user_id, amount, kind, ref, note, balance_after};
    return pg_tx(st, ledger_append_tx, &l);
}

static hh_status pg_ledger_list(hh_store *st, const char *user_id, int64_t before, int limit,
                                hh_ledger_entry **entries, size_t *n)
{
    PGresult *r = NULL;
    void *arr = NULL;
    pg_num b, lim;
    *entries = NULL;
    *n = 0;
    const char *p[] = {user_id, pg_i64(&b, before), pg_i64(&lim, limit)};
    hh_status rc = pg_run(st, &users_sql, U_LEDGER_LIST, 3, p, &r);
    if (!rc)
        rc = pg_collect_rows(r, sizeof **entries, read_entry_row, &arr, n);
    PQclear(r);
    if (!rc)
        *entries = arr;
    return rc;
}

static hh_status pg_ledger_sum(hh_store *st, const char *user_id, int64_t *sum)
{
    PGresult *r = NULL;
    const char *p[] = {user_id};
    hh_status rc = run_row(st, U_LEDGER_SUM, 1, p, &r);
    if (!rc)
        *sum = pg_col_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

/* The operations of store.h this file implements, into the PostgreSQL table. */
void pg_users_ops(store_ops *o)
{
    o->user_create = pg_user_create;
    o->user_by_email = pg_user_by_email;
    o->user_by_id = pg_user_by_id;
    o->user_set_plan = pg_user_set_plan;
    o->user_set_api_access = pg_user_set_api_access;
    o->user_password_hash = pg_user_password_hash;
    o->key_insert = pg_key_insert;
    o->key_lookup = pg_key_lookup;
    o->key_list = pg_key_list;
    o->key_list_page = pg_key_list_page;
    o->key_delete = pg_key_delete;
    o->key_touch = pg_key_touch;
    o->ledger_append = pg_ledger_append;
    o->ledger_list = pg_ledger_list;
    o->ledger_sum = pg_ledger_sum;
}
