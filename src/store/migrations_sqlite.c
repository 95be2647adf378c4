/*
 * migrations_sqlite.c - the versioned SQLite schema (see
 * migrations_sqlite.h). store_sqlite.c applies the steps a database lacks,
 * each in its own BEGIN IMMEDIATE transaction together with the bump of
 * PRAGMA user_version, when the store is opened.
 *
 * Conventions: ids are UUIDv7 text, times are INTEGER milliseconds since
 * the epoch, tables are STRICT so a wrong type is an error, not a silent
 * conversion.
 */
#include "store/migrations_sqlite.h"

const store_migration store_sqlite_migrations[] = {
    {"users", "CREATE TABLE users ("
              " id TEXT PRIMARY KEY NOT NULL,"
              " email TEXT NOT NULL COLLATE NOCASE UNIQUE,"
              " password_hash TEXT,"
              " plan TEXT NOT NULL,"
              " credits INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0),"
              " api_access INTEGER NOT NULL DEFAULT 0 CHECK (api_access IN (0, 1)),"
              " created_at INTEGER NOT NULL"
              ") STRICT;"},

    {"api_keys", "CREATE TABLE api_keys ("
                 " id TEXT PRIMARY KEY NOT NULL,"
                 " user_id TEXT NOT NULL REFERENCES users(id),"
                 " name TEXT NOT NULL,"
                 " hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
                 " prefix TEXT NOT NULL,"
                 " created_at INTEGER NOT NULL,"
                 " last_used_at INTEGER,"
                 " deleted_at INTEGER"
                 ") STRICT;"
                 "CREATE INDEX api_keys_by_user ON api_keys(user_id, created_at);"},

    /* The ledger is append-only: triggers refuse UPDATE and DELETE, so even
     * a bug elsewhere cannot rewrite history. A video is charged once and
     * refunded once: the partial unique index turns a second charge or
     * refund with the same ref into a constraint error. */
    {"ledger", "CREATE TABLE ledger ("
               " id INTEGER PRIMARY KEY,"
               " user_id TEXT NOT NULL REFERENCES users(id),"
               " amount INTEGER NOT NULL CHECK (amount <> 0),"
               " balance_after INTEGER NOT NULL CHECK (balance_after >= 0),"
               " kind TEXT NOT NULL CHECK (kind IN ('grant', 'charge', 'refund', 'adjustment')),"
               " ref TEXT,"
               " note TEXT,"
               " created_at INTEGER NOT NULL"
               ") STRICT;"
               "CREATE INDEX ledger_by_user ON ledger(user_id, id);"
               "CREATE UNIQUE INDEX ledger_once_per_ref ON ledger(kind, ref)"
               " WHERE ref IS NOT NULL AND kind IN ('charge', 'refund');"
               "CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger"
               " BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;"
               "CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger"
               " BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;"},
    /* Uploads are recorded at presign time (pending) and completed by the
     * signed PUT once the whole body arrived and matched. */
    {"uploads", "CREATE TABLE uploads ("
                " key TEXT PRIMARY KEY NOT NULL,"
                " user_id TEXT NOT NULL REFERENCES users(id),"
                " kind TEXT NOT NULL CHECK (kind IN ('image', 'video', 'audio')),"
                " content_type TEXT NOT NULL,"
                " size_bytes INTEGER NOT NULL CHECK (size_bytes > 0),"
                " state TEXT NOT NULL CHECK (state IN ('pending', 'complete')),"
                " expires_at INTEGER NOT NULL,"
                " created_at INTEGER NOT NULL,"
                " completed_at INTEGER"
                ") STRICT;"
                "CREATE INDEX uploads_by_user ON uploads(user_id, created_at);"},

    /* A video and its job are created with the charge in one transaction;
     * the job row is the queue entry (claimed with a lease). The plan and
     * its jobs-in-flight cap are snapshotted on the job so a queued job
     * keeps the terms it was accepted under. */
    {"videos",
     "CREATE TABLE videos ("
     " id TEXT PRIMARY KEY NOT NULL,"
     " user_id TEXT NOT NULL REFERENCES users(id),"
     " status TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'ready', 'failed')),"
     " prompt TEXT NOT NULL,"
     " style TEXT,"
     " duration_sec INTEGER NOT NULL CHECK (duration_sec BETWEEN 1 AND 60),"
     " aspect_ratio TEXT NOT NULL,"
     " resolution TEXT NOT NULL,"
     " request TEXT NOT NULL,"
     " credits_charged INTEGER NOT NULL CHECK (credits_charged >= 0),"
     " credits_refunded INTEGER NOT NULL DEFAULT 0,"
     " progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),"
     " error_message TEXT,"
     " video_key TEXT,"
     " thumbnail_key TEXT,"
     " created_at INTEGER NOT NULL,"
     " started_at INTEGER,"
     " ready_at INTEGER,"
     " CHECK (status <> 'ready' OR (video_key IS NOT NULL AND thumbnail_key IS NOT NULL))"
     ") STRICT;"
     "CREATE INDEX videos_by_user ON videos(user_id, id);"
     "CREATE TABLE jobs ("
     " video_id TEXT PRIMARY KEY NOT NULL REFERENCES videos(id),"
     " user_id TEXT NOT NULL REFERENCES users(id),"
     " plan TEXT NOT NULL,"
     " state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),"
     " attempts INTEGER NOT NULL DEFAULT 0,"
     " max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),"
     " max_in_flight INTEGER NOT NULL CHECK (max_in_flight >= 1),"
     " lease_owner TEXT,"
     " lease_expires_at INTEGER,"
     " enqueued_at INTEGER NOT NULL,"
     " updated_at INTEGER NOT NULL"
     ") STRICT;"
     "CREATE INDEX jobs_by_state ON jobs(state, enqueued_at);"

     "CREATE INDEX jobs_by_user_state ON jobs(user_id, state);"
     "CREATE TABLE idempotency ("
     " user_id TEXT NOT NULL REFERENCES users(id),"
     " key TEXT NOT NULL,"
     " request_hash BLOB NOT NULL,"
     " response TEXT NOT NULL,"
     " created_at INTEGER NOT NULL,"
     " PRIMARY KEY (user_id, key)"
     ") STRICT;"},

    /* Dashboard sessions: only the SHA-256 of the cookie's secret is kept,
     * so a copy of the database holds no usable session. */
    {"sessions", "CREATE TABLE sessions ("
                 " id_hash BLOB PRIMARY KEY NOT NULL CHECK (length(id_hash) = 32),"
                 " user_id TEXT NOT NULL REFERENCES users(id),"
                 " csrf TEXT NOT NULL,"
                 " created_at INTEGER NOT NULL,"
                 " refreshed_at INTEGER NOT NULL,"
                 " expires_at INTEGER NOT NULL"
                 ") STRICT;"
                 "CREATE INDEX sessions_by_expiry ON sessions(expires_at);"
                 "CREATE INDEX sessions_by_user ON sessions(user_id);"},
    /* The claim walks the users that have queued jobs (a skip-scan over
     * jobs_queue) instead of sorting every queued job, so its cost grows
     * with the number of waiting users, not with the backlog; expired
     * leases are found by jobs_lease. jobs_queue's (state, user_id) prefix
     * also serves the per-user running counts, so the two older indexes go.
     * job_users numbers the turns (served: the claim sequence number of
     * each user's latest claim), so users with
     * equal running counts take turns (with one worker, "oldest job first"
     * alone would run a whole burst before another user's single job).
     * Idempotency records are pruned by age through idempotency_by_age. */
    {"fair_queue", "CREATE INDEX jobs_queue ON jobs(state, user_id, enqueued_at, video_id);"
                   "CREATE INDEX jobs_lease ON jobs(state, lease_expires_at);"
                   "DROP INDEX jobs_by_state;"
                   "DROP INDEX jobs_by_user_state;"
                   "CREATE TABLE job_users ("
                   " user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id),"
                   " served INTEGER NOT NULL"
                   ") STRICT;"
                   "CREATE INDEX job_users_by_served ON job_users(served);"
                   "CREATE INDEX idempotency_by_age ON idempotency(created_at);"},
    /* Jobs a provider makes (remote engines). The job row stays 'running'
     * with no lease while its remote task is in submit or wait; drivers
     * claim due tasks through remote_due (per plan and phase, by next_at)
     * with a short claim, so any node may poll any task and two never poll
     * one at once. creates counts the provider's answered creates: more
     * than one means a double submit (docs/engines.md says when). */
    {"remote_tasks",
     "CREATE TABLE remote_tasks ("
     " video_id TEXT PRIMARY KEY NOT NULL REFERENCES videos(id),"
     " plan TEXT NOT NULL,"
     " engine TEXT NOT NULL,"
     " phase TEXT NOT NULL CHECK (phase IN ('submit', 'wait', 'collect', 'done', 'failed')),"
     " task TEXT,"
     " usage TEXT,"
     " detail TEXT,"
     " creates INTEGER NOT NULL DEFAULT 0,"
     " polls INTEGER NOT NULL DEFAULT 0,"
     " errors INTEGER NOT NULL DEFAULT 0,"
     " cost REAL NOT NULL DEFAULT 0,"
     " claim_owner TEXT,"
     " claim_until INTEGER,"
     " next_at INTEGER NOT NULL,"
     " deadline_at INTEGER NOT NULL,"
     " created_at INTEGER NOT NULL,"
     " submitted_at INTEGER,"
     " done_at INTEGER,"
     " CHECK (phase IN ('submit', 'failed') OR task IS NOT NULL)"
     ") STRICT;"
     "CREATE INDEX remote_due ON remote_tasks(plan, phase, next_at);"
     /* A job back from its provider is queued at the 'collect' stage, for a
      * render thread only; a driver hands off the 'render' ones. */
     "ALTER TABLE jobs ADD COLUMN stage TEXT NOT NULL DEFAULT 'render'"
     " CHECK (stage IN ('render', 'collect'));"
     "CREATE INDEX remote_claims ON remote_tasks(claim_owner) WHERE claim_owner IS NOT NULL;"},
    /* Account limits (store_sqlite_accounts.c): a suspended user has disabled_at set; the
     * daily spending cap sums a user's charges and refunds of one day through
     * ledger_by_user_time; expired pending uploads are found through uploads_pending; the
     * audit log of operator actions is append-only like the ledger. */
    {"account_limits", "ALTER TABLE users ADD COLUMN disabled_at INTEGER;"
                       "CREATE INDEX ledger_by_user_time ON ledger(user_id, created_at);"
                       "CREATE INDEX uploads_pending ON uploads(state, expires_at);"
                       "CREATE TABLE audit_log ("
                       " id INTEGER PRIMARY KEY,"
                       " at INTEGER NOT NULL,"
                       " actor TEXT NOT NULL,"
                       " action TEXT NOT NULL,"
                       " target TEXT,"
                       " detail TEXT"
                       ") STRICT;"
                       "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log"
                       " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
                       "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log"
                       " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"},
    /* Public share pages (/v/{slug}): one row per published video, removed
     * when it is unpublished. No foreign key to videos on purpose: a page
     * is served only through a join with a ready video of the same owner,
     * so a video that is deleted (or its table rebuilt) simply has no page. */
    {"shares", "CREATE TABLE shares ("
               " video_id TEXT PRIMARY KEY NOT NULL,"
               " user_id TEXT NOT NULL REFERENCES users(id),"
               " slug TEXT NOT NULL UNIQUE,"
               " show_prompt INTEGER NOT NULL CHECK (show_prompt IN (0, 1)),"
               " created_at INTEGER NOT NULL"
               ") STRICT;"},
    /* A customer may cancel a video (store_video_cancel): 'canceled' joins the
     * statuses of a video and the states of its job, and a remote task whose
     * provider must still be told to stop waits in phase 'cancel' for its
     * driver. SQLite cannot change a CHECK in place, so the three tables are
     * rebuilt (SQLite's documented rebuild, inside this step's transaction):
     * with foreign keys on, the children are copied into tables that
     * reference the new videos table before any old table is dropped, so no
     * drop ever sees a child row; renaming videos_new then points their
     * REFERENCES at "videos". Every row is copied, every index remade. */
    {"canceled",
     "CREATE TABLE videos_new ("
     " id TEXT PRIMARY KEY NOT NULL,"
     " user_id TEXT NOT NULL REFERENCES users(id),"
     " status TEXT NOT NULL"
     "  CHECK (status IN ('queued', 'processing', 'ready', 'failed', 'canceled')),"
     " prompt TEXT NOT NULL,"
     " style TEXT,"
     " duration_sec INTEGER NOT NULL CHECK (duration_sec BETWEEN 1 AND 60),"
     " aspect_ratio TEXT NOT NULL,"
     " resolution TEXT NOT NULL,"
     " request TEXT NOT NULL,"
     " credits_charged INTEGER NOT NULL CHECK (credits_charged >= 0),"
     " credits_refunded INTEGER NOT NULL DEFAULT 0,"
     " progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),"
     " error_message TEXT,"
     " video_key TEXT,"
     " thumbnail_key TEXT,"
     " created_at INTEGER NOT NULL,"
     " started_at INTEGER,"
     " ready_at INTEGER,"
     " CHECK (status <> 'ready' OR (video_key IS NOT NULL AND thumbnail_key IS NOT NULL))"
     ") STRICT;"
     "INSERT INTO videos_new SELECT id, user_id, status, prompt, style, duration_sec,"
     " aspect_ratio, resolution, request, credits_charged, credits_refunded, progress,"
     " error_message, video_key, thumbnail_key, created_at, started_at, ready_at FROM videos;"
     "CREATE TABLE jobs_new ("
     " video_id TEXT PRIMARY KEY NOT NULL REFERENCES videos_new(id),"
     " user_id TEXT NOT NULL REFERENCES users(id),"
     " plan TEXT NOT NULL,"
     " state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'canceled')),"
     " attempts INTEGER NOT NULL DEFAULT 0,"
     " max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),"
     " max_in_flight INTEGER NOT NULL CHECK (max_in_flight >= 1),"
     " lease_owner TEXT,"
     " lease_expires_at INTEGER,"
     " enqueued_at INTEGER NOT NULL,"
     " updated_at INTEGER NOT NULL,"
     " stage TEXT NOT NULL DEFAULT 'render' CHECK (stage IN ('render', 'collect'))"
     ") STRICT;"
     "INSERT INTO jobs_new SELECT video_id, user_id, plan, state, attempts, max_attempts,"
     " max_in_flight, lease_owner, lease_expires_at, enqueued_at, updated_at, stage FROM jobs;"
     "CREATE TABLE remote_tasks_new ("
     " video_id TEXT PRIMARY KEY NOT NULL REFERENCES videos_new(id),"
     " plan TEXT NOT NULL,"
     " engine TEXT NOT NULL,"
     " phase TEXT NOT NULL"
     "  CHECK (phase IN ('submit', 'wait', 'collect', 'done', 'failed', 'cancel')),"
     " task TEXT,"
     " usage TEXT,"
     " detail TEXT,"
     " creates INTEGER NOT NULL DEFAULT 0,"
     " polls INTEGER NOT NULL DEFAULT 0,"
     " errors INTEGER NOT NULL DEFAULT 0,"
     " cost REAL NOT NULL DEFAULT 0,"
     " claim_owner TEXT,"
     " claim_until INTEGER,"
     " next_at INTEGER NOT NULL,"
     " deadline_at INTEGER NOT NULL,"
     " created_at INTEGER NOT NULL,"
     " submitted_at INTEGER,"
     " done_at INTEGER,"
     " CHECK (phase IN ('submit', 'failed') OR task IS NOT NULL)"
     ") STRICT;"
     "INSERT INTO remote_tasks_new SELECT video_id, plan, engine, phase, task, usage, detail,"
     " creates, polls, errors, cost, claim_owner, claim_until, next_at, deadline_at, created_at,"
     " submitted_at, done_at FROM remote_tasks;"
     "DROP TABLE remote_tasks;"
     "DROP TABLE jobs;"
     "DROP TABLE videos;"
     "ALTER TABLE videos_new RENAME TO videos;"
     "ALTER TABLE jobs_new RENAME TO jobs;"
     "ALTER TABLE remote_tasks_new RENAME TO remote_tasks;"
     "CREATE INDEX videos_by_user ON videos(user_id, id);"
     "CREATE INDEX jobs_queue ON jobs(state, user_id, enqueued_at, video_id);"
     "CREATE INDEX jobs_lease ON jobs(state, lease_expires_at);"
     "CREATE INDEX remote_due ON remote_tasks(plan, phase, next_at);"
     "CREATE INDEX remote_claims ON remote_tasks(claim_owner) WHERE claim_owner IS NOT NULL;"},
    /* Webhooks (store_sqlite_webhooks.c): endpoints, soft-deleted so the delivery log keeps
     * its rows; the outbox, one row per event and endpoint, written in the transaction of the
     * status change (sq_hook_event_tx) and claimed with a lease like jobs (webhook_due);
     * every attempt logged, the log of an endpoint cut to its newest rows. */
    {"webhooks",
     "CREATE TABLE webhooks ("
     " id TEXT PRIMARY KEY NOT NULL,"
     " user_id TEXT NOT NULL REFERENCES users(id),"
     " url TEXT NOT NULL,"
     " events INTEGER NOT NULL CHECK (events BETWEEN 1 AND 7),"
     " secret BLOB NOT NULL,"
     " created_at INTEGER NOT NULL,"
     " disabled_at INTEGER,"
     " deleted_at INTEGER"
     ") STRICT;"
     "CREATE INDEX webhooks_by_user ON webhooks(user_id) WHERE deleted_at IS NULL;"
     "CREATE TABLE webhook_deliveries ("
     " id INTEGER PRIMARY KEY,"
     " msg_id TEXT NOT NULL,"
     " webhook_id TEXT NOT NULL REFERENCES webhooks(id),"
     " video_id TEXT NOT NULL,"
     " type TEXT NOT NULL,"
     " created_at INTEGER NOT NULL,"
     " state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed', 'dropped')),"
     " attempts INTEGER NOT NULL DEFAULT 0,"
     " next_at INTEGER NOT NULL,"
     " claim_owner TEXT,"
     " claim_until INTEGER,"
     " UNIQUE (msg_id, webhook_id)"
     ") STRICT;"
     "CREATE INDEX webhook_due ON webhook_deliveries(next_at) WHERE state = 'pending';"
     "CREATE INDEX webhook_pending_by_hook ON webhook_deliveries(webhook_id)"
     " WHERE state = 'pending';"
     "CREATE TABLE webhook_attempts ("
     " id INTEGER PRIMARY KEY,"
     " delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id),"
     " webhook_id TEXT NOT NULL,"
     " attempt INTEGER NOT NULL,"
     " at INTEGER NOT NULL,"
     " status INTEGER NOT NULL,"
     " error TEXT,"
     " duration_ms INTEGER NOT NULL,"
     " outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'retrying', 'failed', 'disabled'))"
     ") STRICT;"
     "CREATE INDEX webhook_attempts_by_hook ON webhook_attempts(webhook_id, id);"},
    /* Favourites: a flag the owner sets on a video (store_video_set_favorite) for the gallery's
     * filter. The filter walks the owner's videos in videos_by_user like the status filter does,
     * so it needs no index of its own. */
    {"favorites", "ALTER TABLE videos ADD COLUMN favorite INTEGER NOT NULL DEFAULT 0"
                  " CHECK (favorite IN (0, 1));"},
    /* Secrets every node must agree on (store_secret): written once by the first node that
     * asks, never changed. */
    {"secrets", "CREATE TABLE secrets ("
                " name TEXT PRIMARY KEY NOT NULL,"
                " value BLOB NOT NULL"
                ") STRICT;"},
    /* Token buckets (store_rate_take): tokens in 1/60000 of a token, the time of the last
     * refill, and whether the last take got a token (what the one statement answers). */
    {"rate_buckets", "CREATE TABLE rate_buckets ("
                     " key TEXT PRIMARY KEY NOT NULL,"
                     " tokens INTEGER NOT NULL,"
                     " updated_ms INTEGER NOT NULL,"
                     " taken INTEGER NOT NULL CHECK (taken IN (0, 1))"
                     ") STRICT;"},
};

const size_t store_sqlite_migration_count =
    sizeof store_sqlite_migrations / sizeof store_sqlite_migrations[0];
