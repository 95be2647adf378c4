/*
 * store_copy.c - what `admin migrate` copies, independent of the backend:
 * the spec of every table of the schema (its columns with their types,
 * the primary key first, the column whose sum verifies the copy), in an
 * order that satisfies the foreign keys, and the SQL each backend's copy
 * (store_sqlite_copy.c, store_pg_copy.c) runs, put together here from the
 * spec's constant names only, never from input, in the backend's dialect.
 *
 * The spec follows the latest schema (migrations_sqlite.c and
 * migrations_pg.c): a step that adds a table or a column adds it here
 * (test_store_copy checks the spec against the schema). Not copied: state
 * that is not durable (store_copy_skipped).
 */
#include "store/store.h"
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define I STORE_COL_INT
#define T STORE_COL_TEXT
#define B STORE_COL_BYTES
#define R STORE_COL_REAL
#define TABLE(name, cols, nkey, identity, sum)                                                     \
    {                                                                                              \
        name, cols, (int)(sizeof cols / sizeof cols[0]), nkey, identity, sum                       \
    }

static const store_copy_col users_cols[] = {
    {"id", T},      {"email", T},      {"password_hash", T}, {"plan", T},
    {"credits", I}, {"api_access", I}, {"created_at", I},    {"disabled_at", I},
};
static const store_copy_col api_keys_cols[] = {
    {"id", T},     {"user_id", T},    {"name", T},         {"hash", B},
    {"prefix", T}, {"created_at", I}, {"last_used_at", I}, {"deleted_at", I},
};
static const store_copy_col ledger_cols[] = {
    {"id", I},   {"user_id", T}, {"amount", I}, {"balance_after", I},
    {"kind", T}, {"ref", T},     {"note", T},   {"created_at", I},
};
static const store_copy_col uploads_cols[] = {
    {"key", T},   {"user_id", T},    {"kind", T},       {"content_type", T}, {"size_bytes", I},
    {"state", T}, {"expires_at", I}, {"created_at", I}, {"completed_at", I},
};
static const store_copy_col videos_cols[] = {
    {"id", T},
    {"user_id", T},
    {"status", T},
    {"prompt", T},
    {"style", T},
    {"duration_sec", I},
    {"aspect_ratio", T},
    {"resolution", T},
    {"request", T},
    {"credits_charged", I},
    {"credits_refunded", I},
    {"progress", I},
    {"error_message", T},
    {"video_key", T},
    {"thumbnail_key", T},
    {"created_at", I},
    {"started_at", I},
    {"ready_at", I},
    {"favorite", I},
};
static const store_copy_col jobs_cols[] = {
    {"video_id", T},         {"user_id", T},      {"plan", T},          {"state", T},
    {"attempts", I},         {"max_attempts", I}, {"max_in_flight", I}, {"lease_owner", T},
    {"lease_expires_at", I}, {"enqueued_at", I},  {"updated_at", I},    {"stage", T},
};
static const store_copy_col idempotency_cols[] = {
    {"user_id", T}, {"key", T}, {"request_hash", B}, {"response", T}, {"created_at", I},
};
static const store_copy_col sessions_cols[] = {
    {"id_hash", B},    {"user_id", T},      {"csrf", T},
    {"created_at", I}, {"refreshed_at", I}, {"expires_at", I},
};
static const store_copy_col job_users_cols[] = {{"user_id", T}, {"served", I}};
static const store_copy_col remote_tasks_cols[] = {
    {"video_id", T},   {"plan", T},         {"engine", T},      {"phase", T},   {"task", T},
    {"usage", T},      {"detail", T},       {"creates", I},     {"polls", I},   {"errors", I},
    {"cost", R},       {"claim_owner", T},  {"claim_until", I}, {"next_at", I}, {"deadline_at", I},
    {"created_at", I}, {"submitted_at", I}, {"done_at", I},
};
static const store_copy_col audit_log_cols[] = {
    {"id", I}, {"at", I}, {"actor", T}, {"action", T}, {"target", T}, {"detail", T},
};
static const store_copy_col shares_cols[] = {
    {"video_id", T}, {"user_id", T}, {"slug", T}, {"show_prompt", I}, {"created_at", I},
};
static const store_copy_col webhooks_cols[] = {
    {"id", T},     {"user_id", T},    {"url", T},         {"events", I},
    {"secret", B}, {"created_at", I}, {"disabled_at", I}, {"deleted_at", I},
};
static const store_copy_col webhook_deliveries_cols[] = {
    {"id", I},      {"msg_id", T},      {"webhook_id", T},  {"video_id", T},
    {"type", T},    {"created_at", I},  {"state", T},       {"attempts", I},
    {"next_at", I}, {"claim_owner", T}, {"claim_until", I},
};
static const store_copy_col secrets_cols[] = {{"name", T}, {"value", B}};
static const store_copy_col webhook_attempts_cols[] = {
    {"id", I},     {"delivery_id", I}, {"webhook_id", T},  {"attempt", I}, {"at", I},
    {"status", I}, {"error", T},       {"duration_ms", I}, {"outcome", T},
};

/* Parents first: users, then what references users, videos, webhooks, deliveries. */
const store_copy_table store_copy_tables[] = {
    TABLE("users", users_cols, 1, 0, "credits"),
    TABLE("api_keys", api_keys_cols, 1, 0, "created_at"),
    TABLE("ledger", ledger_cols, 1, 1, "amount"),
    TABLE("uploads", uploads_cols, 1, 0, "size_bytes"),
    TABLE("videos", videos_cols, 1, 0, "credits_charged"),
    TABLE("jobs", jobs_cols, 1, 0, "attempts"),
    TABLE("idempotency", idempotency_cols, 2, 0, "created_at"),
    TABLE("sessions", sessions_cols, 1, 0, "expires_at"),
    TABLE("job_users", job_users_cols, 1, 0, "served"),
    TABLE("remote_tasks", remote_tasks_cols, 1, 0, "polls"),
    TABLE("audit_log", audit_log_cols, 1, 1, "at"),
    TABLE("shares", shares_cols, 1, 0, "show_prompt"),
    TABLE("webhooks", webhooks_cols, 1, 0, "events"),
    TABLE("webhook_deliveries", webhook_deliveries_cols, 1, 1, "attempts"),
    TABLE("webhook_attempts", webhook_attempts_cols, 1, 1, "duration_ms"),
    TABLE("secrets", secrets_cols, 1, 0, NULL),
};
const size_t store_copy_table_count = sizeof store_copy_tables / sizeof store_copy_tables[0];

/* Rate buckets start full after a crash anyway (store_rate_take): nothing to keep. */
const char *const store_copy_skipped[] = {"rate_buckets", NULL};

/* ---- building the SQL ---- */

/* A growing string; ok turns 0 for good once memory ran out. */
typedef struct sql_buf {
    char *s;
    size_t len, cap;
    int ok;
} sql_buf;

static void add(sql_buf *b, const char *text)
{
    size_t n = strlen(text);
    if (!b->ok)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap : 256) * 2 + n;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->ok = 0;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, text, n + 1);
    b->len += n;
}

/* Parameter number n as the dialect writes one of type. */
static void add_param(sql_buf *b, const store_copy_dialect *d, store_col_type type, size_t n)
{
    char num[24];
    snprintf(num, sizeof num, "%zu", n);
    add(b, d->param_pre[type]);
    add(b, num);
    add(b, d->param_post[type]);
}

/* Columns from..to-1 of t joined by ", "; selected (col_pre/col_post around each) or bare. */
static void add_cols(sql_buf *b, const store_copy_dialect *d, const store_copy_table *t, int from,
                     int to)
{
    for (int i = from; i < to; i++) {
        if (i > from)
            add(b, ", ");
        store_col_type type = t->cols[i].type;
        add(b, d ? d->col_pre[type] : "");
        add(b, t->cols[i].name);
        add(b, d ? d->col_post[type] : "");
    }
}

static char *done(sql_buf *b)
{
    if (b->ok)
        return b->s;
    free(b->s);
    return NULL;
}

char *store_copy_select_sql(const store_copy_dialect *d, const store_copy_table *t, int after)
{
    sql_buf b = {.ok = 1};
    size_t n = 1;
    add(&b, "SELECT ");
    add_cols(&b, d, t, 0, t->ncols);
    add(&b, " FROM ");
    add(&b, t->name);
    if (after) {
        add(&b, " WHERE (");
        add_cols(&b, NULL, t, 0, t->nkey);
        add(&b, ") > (");
        for (int i = 0; i < t->nkey; i++, n++) {
            add(&b, i ? ", " : "");
            add_param(&b, d, t->cols[i].type, n);
        }
        add(&b, ")");
    }
    add(&b, " ORDER BY ");
    add_cols(&b, NULL, t, 0, t->nkey);
    add(&b, " LIMIT ");
    add_param(&b, d, STORE_COL_INT, n);
    return done(&b);
}

char *store_copy_insert_sql(const store_copy_dialect *d, const store_copy_table *t, size_t nrows)
{
    sql_buf b = {.ok = 1};
    size_t n = 1;
    add(&b, d->insert);
    add(&b, t->name);
    add(&b, " (");
    add_cols(&b, NULL, t, 0, t->ncols);
    add(&b, ")");
    add(&b, t->identity ? d->identity : "");
    add(&b, " VALUES ");
    for (size_t r = 0; r < nrows; r++) {
        add(&b, r ? ", (" : "(");
        for (int i = 0; i < t->ncols; i++, n++) {
            add(&b, i ? ", " : "");
            add_param(&b, d, t->cols[i].type, n);
        }
        add(&b, ")");
    }
    add(&b, d->conflict);
    return done(&b);
}

char *store_copy_stats_sql(const store_copy_table *t)
{
    sql_buf b = {.ok = 1};
    add(&b, "SELECT count(*), ");
    if (t->sum) {
        add(&b, "coalesce(sum(");
        add(&b, t->sum);
        add(&b, "), 0)");
    } else {
        add(&b, "0");
    }
    add(&b, " FROM ");
    add(&b, t->name);
    return done(&b);
}
