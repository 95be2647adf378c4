/*
 * migrations_pg.c - the versioned PostgreSQL schema (see migrations_pg.h).
 * store_pg.c applies the steps a database lacks when the store is opened,
 * each in its own transaction with the bump of schema_version, under an
 * advisory lock so that nodes starting together migrate once.
 *
 * Every step mirrors the step of the same name in migrations_sqlite.c:
 * same tables, columns and CHECKs. The dialect's differences: INTEGER is
 * BIGINT (0/1 flags too), BLOB is BYTEA, REAL is DOUBLE PRECISION, a rowid
 * is an identity column, the case-blind email uniqueness is a unique index
 * on lower(email) (users are looked up by lower(email) = lower($1)), and the
 * append-only triggers RAISE (SQLSTATE P0001, which the store maps to
 * HH_ERR_CONFLICT). CHECKs that a later step changes are named, so that step
 * can replace them in place where SQLite must rebuild the table.
 *
 * Time: hh_now_ms() is the database's clock in milliseconds since the
 * epoch. Leases, claims and expiries are taken from it rather than from a
 * node's clock, since the nodes' clocks differ; clock_timestamp() (not
 * now()) so a long transaction does not see time stand still.
 */
#include "store/migrations_pg.h"

const store_migration store_pg_migrations[] = {
    {"users", "CREATE FUNCTION hh_now_ms() RETURNS bigint LANGUAGE sql VOLATILE AS"
              " $$ SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;"
              "CREATE TABLE users ("
              " id TEXT PRIMARY KEY NOT NULL,"
              " email TEXT NOT NULL,"
              " password_hash TEXT,"
              " plan TEXT NOT NULL,"
              " credits BIGINT NOT NULL DEFAULT 0 CHECK (credits >= 0),"
              " api_access BIGINT NOT NULL DEFAULT 0 CHECK (api_access IN (0, 1)),"
              " created_at BIGINT NOT NULL"
              ");"
              "CREATE UNIQUE INDEX users_email ON users(lower(email));"},

    {"api_keys", "CREATE TABLE api_keys ("
                 " id TEXT PRIMARY KEY NOT NULL,"
                 " user_id TEXT NOT NULL REFERENCES users(id),"
                 " name TEXT NOT NULL,"
                 " hash BYTEA NOT NULL UNIQUE CHECK (length(hash) = 32),"
                 " prefix TEXT NOT NULL,"
                 " created_at BIGINT NOT NULL,"
                 " last_used_at BIGINT,"
                 " deleted_at BIGINT"
                 ");"
                 "CREATE INDEX api_keys_by_user ON api_keys(user_id, created_at);"},

    /* Append-only as in SQLite; hh_append_only raises the message its trigger
     * passes. TRUNCATE, which skips row triggers, is refused as well. */
    {"ledger", "CREATE TABLE ledger ("
               " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
               " user_id TEXT NOT NULL REFERENCES users(id),"
               " amount BIGINT NOT NULL CHECK (amount <> 0),"
               " balance_after BIGINT NOT NULL CHECK (balance_after >= 0),"
               " kind TEXT NOT NULL CHECK (kind IN ('grant', 'charge', 'refund', 'adjustment')),"
               " ref TEXT,"
               " note TEXT,"
               " created_at BIGINT NOT NULL"
               ");"
               "CREATE INDEX ledger_by_user ON ledger(user_id, id);"
               "CREATE UNIQUE INDEX ledger_once_per_ref ON ledger(kind, ref)"
               " WHERE ref IS NOT NULL AND kind IN ('charge', 'refund');"
               "CREATE FUNCTION hh_append_only() RETURNS trigger LANGUAGE plpgsql AS"
               " $$ BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$;"
               "CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger"
               " FOR EACH ROW EXECUTE FUNCTION hh_append_only('ledger is append-only');"
               "CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger"
               " FOR EACH ROW EXECUTE FUNCTION hh_append_only('ledger is append-only');"
               "CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger"
               " FOR EACH STATEMENT EXECUTE FUNCTION hh_append_only('ledger is append-only');"},

    {"uploads", "CREATE TABLE uploads ("
                " key TEXT PRIMARY KEY NOT NULL,"
                " user_id TEXT NOT NULL REFERENCES users(id),"
                " kind TEXT NOT NULL CHECK (kind IN ('image', 'video', 'audio')),"
                " content_type TEXT NOT NULL,"
                " size_bytes BIGINT NOT NULL CHECK (size_bytes > 0),"
                " state TEXT NOT NULL CHECK (state IN ('pending', 'complete')),"
                " expires_at BIGINT NOT NULL,"
                " created_at BIGINT NOT NULL,"
                " completed_at BIGINT"
                ");"
                "CREATE INDEX uploads_by_user ON uploads(user_id, created_at);"},

    {"videos", "CREATE TABLE videos ("
               " id TEXT PRIMARY KEY NOT NULL,"
               " user_id TEXT NOT NULL REFERENCES users(id),"
               " status TEXT NOT NULL CONSTRAINT videos_status_check"
               "  CHECK (status IN ('queued', 'processing', 'ready', 'failed')),"
               " prompt TEXT NOT NULL,"
               " style TEXT,"
               " duration_sec BIGINT NOT NULL CHECK (duration_sec BETWEEN 1 AND 60),"
               " aspect_ratio TEXT NOT NULL,"
               " resolution TEXT NOT NULL,"
               " request TEXT NOT NULL,"
               " credits_charged BIGINT NOT NULL CHECK (credits_charged >= 0),"
               " credits_refunded BIGINT NOT NULL DEFAULT 0,"
               " progress BIGINT NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),"
               " error_message TEXT,"
               " video_key TEXT,"
               " thumbnail_key TEXT,"
               " created_at BIGINT NOT NULL,"
               " started_at BIGINT,"
               " ready_at BIGINT,"
               " CHECK (status <> 'ready' OR (video_key IS NOT NULL AND thumbnail_key IS NOT NULL))"
               ");"
               "CREATE INDEX videos_by_user ON videos(user_id, id);"
               "CREATE TABLE jobs ("
               " video_id TEXT PRIMARY KEY NOT NULL REFERENCES videos(id),"
               " user_id TEXT NOT NULL REFERENCES users(id),"
               " plan TEXT NOT NULL,"
               " state TEXT NOT NULL CONSTRAINT jobs_state_check"
               "  CHECK (state IN ('queued', 'running', 'done', 'failed')),"
               " attempts BIGINT NOT NULL DEFAULT 0,"
               " max_attempts BIGINT NOT NULL CHECK (max_attempts >= 1),"
               " max_in_flight BIGINT NOT NULL CHECK (max_in_flight >= 1),"
               " lease_owner TEXT,"
               " lease_expires_at BIGINT,"
               " enqueued_at BIGINT NOT NULL,"
               " updated_at BIGINT NOT NULL"
               ");"
               "CREATE INDEX jobs_by_state ON jobs(state, enqueued_at);"
               "CREATE INDEX jobs_by_user_state ON jobs(user_id, state);"
               "CREATE TABLE idempotency ("
               " user_id TEXT NOT NULL REFERENCES users(id),"
               " key TEXT NOT NULL,"
               " request_hash BYTEA NOT NULL,"
               " response TEXT NOT NULL,"
               " created_at BIGINT NOT NULL,"
               " PRIMARY KEY (user_id, key)"
               ");"},

    {"sessions", "CREATE TABLE sessions ("
                 " id_hash BYTEA PRIMARY KEY NOT NULL CHECK (length(id_hash) = 32),"
                 " user_id TEXT NOT NULL REFERENCES users(id),"
                 " csrf TEXT NOT NULL,"
                 " created_at BIGINT NOT NULL,"
                 " refreshed_at BIGINT NOT NULL,"
                 " expires_at BIGINT NOT NULL"
                 ");"
                 "CREATE INDEX sessions_by_expiry ON sessions(expires_at);"
                 "CREATE INDEX sessions_by_user ON sessions(user_id);"},

    {"fair_queue", "CREATE INDEX jobs_queue ON jobs(state, user_id, enqueued_at, video_id);"
                   "CREATE INDEX jobs_lease ON jobs(state, lease_expires_at);"
                   "DROP INDEX jobs_by_state;"
                   "DROP INDEX jobs_by_user_state;"
                   "CREATE TABLE job_users ("
                   " user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id),"
                   " served BIGINT NOT NULL"
                   ");"
                   "CREATE INDEX job_users_by_served ON job_users(served);"
                   "CREATE INDEX idempotency_by_age ON idempotency(created_at);"},

    {"remote_tasks",
     "CREATE TABLE remote_tasks ("
     " video_id TEXT PRIMARY KEY NOT NULL REFERENCES videos(id),"
     " plan TEXT NOT NULL,"
     " engine TEXT NOT NULL,"
     " phase TEXT NOT NULL CONSTRAINT remote_tasks_phase_check"
     "  CHECK (phase IN ('submit', 'wait', 'collect', 'done', 'failed')),"
     " task TEXT,"
     " usage TEXT,"
     " detail TEXT,"
     " creates BIGINT NOT NULL DEFAULT 0,"
     " polls BIGINT NOT NULL DEFAULT 0,"
     " errors BIGINT NOT NULL DEFAULT 0,"
     " cost DOUBLE PRECISION NOT NULL DEFAULT 0,"
     " claim_owner TEXT,"
     " claim_until BIGINT,"
     " next_at BIGINT NOT NULL,"
     " deadline_at BIGINT NOT NULL,"
     " created_at BIGINT NOT NULL,"
     " submitted_at BIGINT,"
     " done_at BIGINT,"
     " CHECK (phase IN ('submit', 'failed') OR task IS NOT NULL)"
     ");"
     "CREATE INDEX remote_due ON remote_tasks(plan, phase, next_at);"
     "ALTER TABLE jobs ADD COLUMN stage TEXT NOT NULL DEFAULT 'render'"
     " CHECK (stage IN ('render', 'collect'));"
     "CREATE INDEX remote_claims ON remote_tasks(claim_owner) WHERE claim_owner IS NOT NULL;"},

    {"account_limits",
     "ALTER TABLE users ADD COLUMN disabled_at BIGINT;"
     "CREATE INDEX ledger_by_user_time ON ledger(user_id, created_at);"
     "CREATE INDEX uploads_pending ON uploads(state, expires_at);"
     "CREATE TABLE audit_log ("
     " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
     " at BIGINT NOT NULL,"
     " actor TEXT NOT NULL,"
     " action TEXT NOT NULL,"
     " target TEXT,"
     " detail TEXT"
     ");"
     "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log"
     " FOR EACH ROW EXECUTE FUNCTION hh_append_only('the audit log is append-only');"
     "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log"
     " FOR EACH ROW EXECUTE FUNCTION hh_append_only('the audit log is append-only');"
     "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_log"
     " FOR EACH STATEMENT EXECUTE FUNCTION hh_append_only('the audit log is append-only');"},

    /* No foreign key to videos, as in SQLite (see migrations_sqlite.c). */
    {"shares", "CREATE TABLE shares ("
               " video_id TEXT PRIMARY KEY NOT NULL,"
               " user_id TEXT NOT NULL REFERENCES users(id),"
               " slug TEXT NOT NULL UNIQUE,"
               " show_prompt BIGINT NOT NULL CHECK (show_prompt IN (0, 1)),"
               " created_at BIGINT NOT NULL"
               ");"},

    /* 'canceled' joins the statuses, states and phases: PostgreSQL replaces
     * the three named CHECKs in place, no rebuild needed. */
    {"canceled", "ALTER TABLE videos DROP CONSTRAINT videos_status_check,"
                 " ADD CONSTRAINT videos_status_check"
                 "  CHECK (status IN ('queued', 'processing', 'ready', 'failed', 'canceled'));"
                 "ALTER TABLE jobs DROP CONSTRAINT jobs_state_check,"
                 " ADD CONSTRAINT jobs_state_check"
                 "  CHECK (state IN ('queued', 'running', 'done', 'failed', 'canceled'));"
                 "ALTER TABLE remote_tasks DROP CONSTRAINT remote_tasks_phase_check,"
                 " ADD CONSTRAINT remote_tasks_phase_check"
                 "  CHECK (phase IN ('submit', 'wait', 'collect', 'done', 'failed', 'cancel'));"},

    {"webhooks",
     "CREATE TABLE webhooks ("
     " id TEXT PRIMARY KEY NOT NULL,"
     " user_id TEXT NOT NULL REFERENCES users(id),"
     " url TEXT NOT NULL,"
     " events BIGINT NOT NULL CHECK (events BETWEEN 1 AND 7),"
     " secret BYTEA NOT NULL,"
     " created_at BIGINT NOT NULL,"
     " disabled_at BIGINT,"
     " deleted_at BIGINT"
     ");"
     "CREATE INDEX webhooks_by_user ON webhooks(user_id) WHERE deleted_at IS NULL;"
     "CREATE TABLE webhook_deliveries ("
     " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
     " msg_id TEXT NOT NULL,"
     " webhook_id TEXT NOT NULL REFERENCES webhooks(id),"
     " video_id TEXT NOT NULL,"
     " type TEXT NOT NULL,"
     " created_at BIGINT NOT NULL,"
     " state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed', 'dropped')),"
     " attempts BIGINT NOT NULL DEFAULT 0,"
     " next_at BIGINT NOT NULL,"
     " claim_owner TEXT,"
     " claim_until BIGINT,"
     " UNIQUE (msg_id, webhook_id)"
     ");"
     "CREATE INDEX webhook_due ON webhook_deliveries(next_at) WHERE state = 'pending';"
     "CREATE INDEX webhook_pending_by_hook ON webhook_deliveries(webhook_id)"
     " WHERE state = 'pending';"
     "CREATE TABLE webhook_attempts ("
     " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
     " delivery_id BIGINT NOT NULL REFERENCES webhook_deliveries(id),"
     " webhook_id TEXT NOT NULL,"
     " attempt BIGINT NOT NULL,"
     " at BIGINT NOT NULL,"
     " status BIGINT NOT NULL,"
     " error TEXT,"
     " duration_ms BIGINT NOT NULL,"
     " outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'retrying', 'failed', 'disabled'))"
     ");"
     "CREATE INDEX webhook_attempts_by_hook ON webhook_attempts(webhook_id, id);"},

    {"favorites", "ALTER TABLE videos ADD COLUMN favorite BIGINT NOT NULL DEFAULT 0"
                  " CHECK (favorite IN (0, 1));"},
    /* Secrets every node must agree on (store_secret): written once by the first node that
     * asks, never changed. */
    {"secrets", "CREATE TABLE secrets ("
                " name TEXT PRIMARY KEY NOT NULL,"
                " value BYTEA NOT NULL"
                ");"},
    /* Token buckets (store_rate_take), as SQLite's. UNLOGGED: a take writes no WAL and waits
     * for no flush; after a crash the table is empty, so every bucket starts full. */
    {"rate_buckets", "CREATE UNLOGGED TABLE rate_buckets ("
                     " key TEXT PRIMARY KEY NOT NULL,"
                     " tokens BIGINT NOT NULL,"
                     " updated_ms BIGINT NOT NULL,"
                     " taken BIGINT NOT NULL CHECK (taken IN (0, 1))"
                     ");"},
};

const size_t store_pg_migration_count = sizeof store_pg_migrations / sizeof store_pg_migrations[0];
