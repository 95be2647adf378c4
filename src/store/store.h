/*
 * store.h - the persistent state of HappyHorse behind one interface:
 * users, API keys, the credit ledger, uploads, videos, the job queue and
 * idempotency records.
 *
 * Every call on a handle goes through store_dispatch.c, which checks what does not
 * depend on the database and calls the backend's table of operations
 * (store_int.h): SQLite (store_sqlite*.c, a data directory) or
 * PostgreSQL (store_pg*.c, a postgres:// URL), held to one contract test
 * suite. Nothing outside src/store/ may assume SQL or files.
 *
 * Threading: an hh_store is shared by all threads; every call is safe to
 * make concurrently (implementations keep a connection per caller or a
 * pool). Every call that changes more than one row does so in one
 * transaction: it happens whole or not at all.
 *
 * Ledger invariant: for every user, credits == SUM(ledger.amount) and
 * credits >= 0 at every commit. Every balance change appends its ledger
 * row in the same transaction, through one ledger-append routine: the
 * grants and adjustments of store_ledger_append, the charge of
 * store_video_create, the refund of a video that fails for good
 * (store_job_fail, store_job_claim) and store_video_refund.
 *
 * Ids are UUIDv7 strings (36 chars + NUL). Times are ms since the epoch.
 */
#ifndef HH_STORE_H
#define HH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "util/crypto.h"
#include "util/status.h"

#define HH_ID_LEN      37   /* UUID text + NUL */
#define STORE_KEYS_MAX 1000 /* ceiling of store_key_list */
#define STORE_PAGE_MAX 1000 /* ceiling of one store_ledger_list page */
#define STORE_PLAN_MAX 32   /* bytes of a plan name, NUL included */
#define STORE_NOTE_MAX 256  /* bytes of a ledger note, NUL included */

typedef struct hh_store hh_store;

typedef struct hh_user {
    char id[HH_ID_LEN];
    char email[256];
    char plan[STORE_PLAN_MAX];
    int64_t credits;
    int api_access; /* 0 or 1 */
    int64_t created_at;
    int disabled; /* 1: suspended by an operator (store_user_set_disabled) */
} hh_user;

typedef struct hh_api_key {
    char id[HH_ID_LEN];
    char user_id[HH_ID_LEN];
    char name[128];
    char prefix[32]; /* display prefix, e.g. "hh_live_AbCd" */
    int64_t created_at;
    int64_t last_used_at; /* 0 when never used */
} hh_api_key;

typedef enum hh_ledger_kind {
    HH_LEDGER_GRANT,
    HH_LEDGER_CHARGE,
    HH_LEDGER_REFUND,
    HH_LEDGER_ADJUSTMENT,
} hh_ledger_kind;

typedef struct hh_ledger_entry {
    int64_t id; /* increasing; used for pagination */
    char user_id[HH_ID_LEN];
    int64_t amount; /* signed: grants and refunds > 0, charges < 0 */
    int64_t balance_after;
    hh_ledger_kind kind;
    char ref[HH_ID_LEN]; /* video id for charge/refund, "" otherwise */
    char note[STORE_NOTE_MAX];
    int64_t created_at;
} hh_ledger_entry;

/* "grant", "charge", "refund", "adjustment". */
const char *hh_ledger_kind_str(hh_ledger_kind kind);

/*
 * Opens the store at location: a directory (SQLite file "happyhorse.db"
 * inside it; the directory is created, mode 0700, when missing) or, later,
 * a postgres:// URL (refused for now with HH_ERR_INVALID). Applies pending
 * migrations. On success *out owns the store. A database whose schema is
 * newer than this binary is refused with HH_ERR_CONFLICT.
 */
hh_status store_open(const char *location, hh_store **out);
/*
 * Same, but migrates only up to schema version (1..latest): for tests of
 * upgrades from an older schema. HH_ERR_INVALID for a version out of range.
 */
hh_status store_open_version(const char *location, int version, hh_store **out);
/* Closes and frees. NULL-safe. */
void store_close(hh_store *st);
/* The schema version after migrations (for tests and `readyz`). */
int store_schema_version(hh_store *st);
/* Cheap liveness query for /readyz. */
hh_status store_ping(hh_store *st);
/*
 * How long the calling thread's store calls wait for a lock another
 * connection or process holds before failing with HH_ERR_BUSY: ms > 0, or
 * 0 for the default (10 s). Request threads set a short wait so a stalled
 * database turns into quick 503s instead of held threads.
 */
void store_thread_busy_ms(int ms);

/* What store_health found. */
typedef struct hh_store_health {
    int ok;            /* 1: readable and no corruption found */
    int checked_all;   /* 1: the integrity check covered the whole database in its time budget */
    char problem[160]; /* "" when ok, else one line */
} hh_store_health;

/*
 * For /readyz: whether the database can be read and is not corrupt. Opens
 * a fresh read-only connection (so no cached page hides what is on disk)
 * and runs SQLite's quick_check for at most budget_ms; also reports any
 * corrupt page another call of this process met. Never waits for a lock
 * for more than budget_ms. HH_OK with out filled in (out->ok says the
 * verdict); another status only when the check itself could not run.
 */
hh_status store_health(hh_store *st, int budget_ms, hh_store_health *out);

/*
 * A number that changes after every commit to the store, made by this
 * process or any other one on the same machine; never 0 while changes are
 * tracked, 0 when they cannot be (then a caller must not keep what it
 * read). Read it before reading the store: if it is the same later,
 * nothing was committed in between, so a copy of what was read is still
 * what the store holds. Costs no query.
 */
uint64_t store_generation(hh_store *st);

/* ---- users ---- */
/*
 * Creates a user with 0 credits (grant credits through the ledger).
 * password_hash may be NULL (no dashboard login). Emails compare
 * case-insensitively (ASCII). HH_ERR_EXISTS if the email is taken;
 * HH_ERR_INVALID if email (<= 255 bytes) or plan (< STORE_PLAN_MAX) does not fit.
 */
hh_status store_user_create(hh_store *st, const char *email, const char *password_hash,
                            const char *plan, int api_access, hh_user *out);
hh_status store_user_by_email(hh_store *st, const char *email, hh_user *out);
hh_status store_user_by_id(hh_store *st, const char *id, hh_user *out);
hh_status store_user_set_plan(hh_store *st, const char *user_id, const char *plan);
hh_status store_user_set_api_access(hh_store *st, const char *user_id, int on);
/* Copies the Argon2id encoded hash into buf; HH_ERR_NOTFOUND if none set. */
hh_status store_user_password_hash(hh_store *st, const char *user_id, char *buf, size_t size);

/* ---- API keys ---- */
/* Stores a key by the SHA-256 of its secret; never the secret itself. */
hh_status store_key_insert(hh_store *st, const char *user_id, const char *name,
                           const uint8_t hash[CRYPTO_SHA256_LEN], const char *prefix,
                           hh_api_key *out);
/* Finds a live (not deleted) key by hash, with its user. HH_ERR_NOTFOUND otherwise. */
hh_status store_key_lookup(hh_store *st, const uint8_t hash[CRYPTO_SHA256_LEN], hh_api_key *key,
                           hh_user *user);
/* Live keys of a user, newest first, at most STORE_KEYS_MAX. *keys is malloc'd; caller frees. */
hh_status store_key_list(hh_store *st, const char *user_id, hh_api_key **keys, size_t *n);
/* Soft-deletes; HH_ERR_NOTFOUND if no live key of this user has that id. */
hh_status store_key_delete(hh_store *st, const char *user_id, const char *key_id);
/* Records last-use times for many keys in one transaction (batched by the API). */
hh_status store_key_touch(hh_store *st, const char *const *key_ids, const int64_t *used_at,
                          size_t n);

/* ---- ledger ---- */
/*
 * Appends one row and moves the balance by amount, atomically (one BEGIN
 * IMMEDIATE transaction). Fails with HH_ERR_CREDITS (and changes nothing)
 * if the balance would go below zero; HH_ERR_LIMIT if it would overflow;
 * HH_ERR_INVALID for amount 0 or INT64_MIN; HH_ERR_NOTFOUND for an unknown
 * user; HH_ERR_EXISTS for a second charge or a second refund with the same
 * ref (each video is charged and refunded at most once). ref (an id, <= 36
 * chars) and note (< STORE_NOTE_MAX bytes) may be NULL. *balance_after may
 * be NULL; on HH_ERR_CREDITS it gets the balance.
 */
hh_status store_ledger_append(hh_store *st, const char *user_id, int64_t amount,
                              hh_ledger_kind kind, const char *ref, const char *note,
                              int64_t *balance_after);
/*
 * Entries newest first with id < before (0: from the newest), at most
 * limit (1..STORE_PAGE_MAX, else HH_ERR_INVALID). *entries is malloc'd
 * (NULL when *n is 0); caller frees.
 */
hh_status store_ledger_list(hh_store *st, const char *user_id, int64_t before, int limit,
                            hh_ledger_entry **entries, size_t *n);
/* SUM(amount) over the user's ledger, for invariant checks. */
hh_status store_ledger_sum(hh_store *st, const char *user_id, int64_t *sum);

/* ---- uploads (contract section 2) ---- */

#define HH_KEY_MAX 160 /* storage keys are server-made and short */

typedef struct hh_upload {
    char key[HH_KEY_MAX];
    char user_id[HH_ID_LEN];
    char kind[8]; /* "image", "video", "audio" */
    char content_type[32];
    int64_t size_bytes;
    int complete;       /* 0 pending, 1 complete */
    int64_t expires_at; /* the signed URL's expiry */
    int64_t created_at;
    int64_t completed_at; /* 0 while pending */
} hh_upload;

/* Records a presigned upload as pending. HH_ERR_EXISTS if the key is taken. */
hh_status store_upload_create(hh_store *st, const hh_upload *u);
/* The upload of key (any user's: the signed URL is the authority). */
hh_status store_upload_get(hh_store *st, const char *key, hh_upload *out);
/* pending -> complete, once. HH_ERR_NOTFOUND unknown; HH_ERR_CONFLICT already complete. */
hh_status store_upload_complete(hh_store *st, const char *key);

/* ---- videos and their jobs (contract sections 3-5) ---- */

typedef enum hh_video_status {
    HH_VIDEO_QUEUED,
    HH_VIDEO_PROCESSING,
    HH_VIDEO_READY,
    HH_VIDEO_FAILED,
    HH_VIDEO_CANCELED,    /* its owner canceled it (store_video_cancel); terminal, refunded */
    HH_VIDEO_STATUS_COUNT /* the number of statuses, not a status */
} hh_video_status;

/* "queued", "processing", "ready", "failed", "canceled". */
const char *hh_video_status_str(hh_video_status s);
/* The status named s (one of hh_video_status_str's names), or -1 when s names none. */
int hh_video_status_parse(const char *s);

/* A video row. Strings marked (heap) are owned: release with store_video_clear. */
typedef struct hh_video {
    char id[HH_ID_LEN];
    char user_id[HH_ID_LEN];
    hh_video_status status;
    char *prompt;        /* (heap) */
    char *style;         /* (heap) NULL when none */
    char *request;       /* (heap) the normalised create request, JSON text */
    char *error_message; /* (heap) NULL unless failed */
    int duration_sec;
    char aspect_ratio[8];
    char resolution[8];
    int progress; /* 0..100 */
    int64_t credits_charged;
    int64_t credits_refunded;
    char video_key[HH_KEY_MAX];     /* "" until ready */
    char thumbnail_key[HH_KEY_MAX]; /* "" until ready */
    char plan[STORE_PLAN_MAX];      /* the plan that priced it; picks the engine */
    int attempts;
    int favorite;                             /* 1 when its owner starred it */
    int64_t created_at, started_at, ready_at; /* 0 when not yet */
} hh_video;

void store_video_clear(hh_video *v);

/* What store_video_create needs; all strings borrowed for the call. */
typedef struct hh_video_new {
    const char *user_id;
    const char *prompt;
    const char *style; /* may be NULL */
    int duration_sec;
    const char *aspect_ratio;
    const char *resolution;
    const char *request_json; /* normalised request, stored for the worker */
    int64_t price;            /* credits to charge, > 0 */
    const char *plan;
    int max_in_flight;             /* the plan's jobs in flight, snapshotted on the job */
    int max_attempts;              /* 0: default (3) */
    const char *idem_key;          /* Idempotency-Key or NULL */
    const uint8_t *idem_hash;      /* SHA-256 (CRYPTO_SHA256_LEN) of the request when idem_key */
    const char *response_body;     /* the answer to remember for replays (JSON) */
    struct hh_create_guard *guard; /* may be NULL: checks inside the transaction (below) */
} hh_video_new;

/* Which of hh_create_guard's checks refused a create. */
typedef enum hh_guard_hit {
    HH_GUARD_NONE,
    HH_GUARD_REVOKED,     /* the key or session, or the account, no longer may (HH_ERR_DENIED) */
    HH_GUARD_QUEUED,      /* max_queued jobs are waiting already (HH_ERR_LIMIT) */
    HH_GUARD_DAILY_SPEND, /* the charge would pass max_credits_per_day (HH_ERR_LIMIT) */
} hh_guard_hit;

/*
 * What store_video_create checks in its transaction, before it charges, so
 * that nothing decided on the request's headers can be stale: the caller
 * (an API key, or a dashboard session) may still create, and the account's
 * caps. Strings are borrowed for the call; the out fields are written.
 */
typedef struct hh_create_guard {
    const char *key_id;          /* the API key the request came with, or NULL */
    const uint8_t *session_hash; /* or the dashboard session's hash (CRYPTO_SHA256_LEN) */
    int max_queued;              /* 0: no cap */
    int64_t max_credits_per_day; /* 0: no cap; net spend of the UTC day, refunds subtracted */
    hh_guard_hit hit;            /* out: what refused */
    int64_t queued;              /* out: jobs waiting when HH_GUARD_QUEUED */
    int64_t spent_today;         /* out: credits spent today when HH_GUARD_DAILY_SPEND */
} hh_create_guard;

/*
 * In one transaction: the idempotency check, the charge, the video row, its
 * job and the idempotency record. Results:
 *   HH_OK          created; id_out holds the new id; *replay_body NULL
 *   HH_OK          replay of an earlier request with the same key and body:
 *                  *replay_body (malloc'd, caller frees) is the first answer;
 *                  nothing was charged
 *   HH_ERR_CONFLICT same Idempotency-Key, different body (nothing written)
 *   HH_ERR_CREDITS  balance too low; *balance_out holds it (nothing written)
 *   HH_ERR_INVALID  price <= 0, or idem_key without idem_hash
 *   HH_ERR_DENIED   in->guard: the key, session or account may no longer create
 *   HH_ERR_LIMIT    in->guard: a cap of the account (guard->hit says which)
 */
hh_status store_video_create(hh_store *st, const hh_video_new *in, char id_out[HH_ID_LEN],
                             char **replay_body, int64_t *balance_out);

/* The video id of user_id; HH_ERR_NOTFOUND for unknown ids and other users' alike. */
hh_status store_video_get(hh_store *st, const char *id, const char *user_id, hh_video *out);
/* Any user's video (operators, workers). */
hh_status store_video_get_any(hh_store *st, const char *id, hh_video *out);
/* store_video_list's status for videos of every status. */
#define HH_VIDEO_ANY (-1)
/*
 * A user's videos, newest first (by id: ids are UUIDv7, so by creation),
 * with id < before ("" or NULL: from the newest), of status only (an
 * hh_video_status, or HH_VIDEO_ANY), at most limit (1..STORE_PAGE_MAX).
 * Keyset paging: a page that starts below an id is the same whatever is
 * created meanwhile (new ids are greater). HH_ERR_INVALID for a limit or
 * status out of range. Release with store_video_list_free.
 */
hh_status store_video_list(hh_store *st, const char *user_id, const char *before, int status,
                           int limit, hh_video **videos, size_t *n);

/* The longest search text of hh_video_filter.q, in bytes (200 characters of 4 bytes at most). */
#define STORE_VIDEO_QUERY_MAX 800
/* What store_video_find selects beyond store_video_list's before and status. */
typedef struct hh_video_filter {
    const char *before; /* id < before; NULL or "": from the newest */
    int status;         /* an hh_video_status, or HH_VIDEO_ANY */
    const char *q;      /* NULL or "": any; else the prompt contains it (ASCII letters in any case),
                           % and _ meaning themselves; at most STORE_VIDEO_QUERY_MAX bytes */
    int favorite;       /* 1: only the videos the owner starred; 0: any */
} hh_video_filter;
/*
 * store_video_list with a filter: the same order, paging and limits;
 * user_id NULL: every user's videos (operators). HH_ERR_INVALID also for
 * a q over STORE_VIDEO_QUERY_MAX bytes.
 */
hh_status store_video_find(hh_store *st, const char *user_id, const hh_video_filter *f, int limit,
                           hh_video **videos, size_t *n);
void store_video_list_free(hh_video *videos, size_t n);

/*
 * Stars (on = 1) or unstars (on = 0) the video id of user_id, whatever its
 * status; doing it twice is no error. HH_ERR_NOTFOUND for unknown ids and
 * other users' alike.
 */
hh_status store_video_set_favorite(hh_store *st, const char *id, const char *user_id, int on);

/* ---- the job queue ---- */

/*
 * Claims the next job for worker_id with a lease of lease_ms, fairly: a
 * user never has more running jobs than the plan's jobs in flight (as
 * snapshotted on the user's oldest queued job); among users with room, the
 * one with the fewest running jobs goes first, then the one served least
 * recently (users take turns, so a burst never starves another user's
 * single job even with one worker), then the oldest job. First, every
 * expired lease ends: the job goes back to the queue, or, when it has been
 * claimed max_attempts times, fails and is refunded (attempts counts
 * claims). Fills *out (its video, attempts included); HH_ERR_NOTFOUND when
 * no job is ready. Cost does not grow with the backlog (docs/internals/queue.md).
 */
hh_status store_job_claim(hh_store *st, const char *worker_id, int64_t lease_ms, hh_video *out);
/*
 * Like store_job_claim, among the jobs of plans (a JSON array of plan
 * names; NULL: any job) that no provider has made yet: a remote driver's
 * claim of the jobs it hands off, so they never wait behind renders. A job
 * back from a provider for its download and re-encode (store_remote_collect)
 * is only ever claimed by store_job_claim.
 */
hh_status store_job_claim_plans(hh_store *st, const char *worker_id, int64_t lease_ms,
                                const char *plans, hh_video *out);
/*
 * Extends worker_id's lease on video_id by lease_ms and records progress.
 * HH_ERR_CANCELED when its owner canceled the video, HH_ERR_CONFLICT when
 * the worker no longer holds the lease otherwise: either way it must stop
 * and write nothing.
 */
hh_status store_job_heartbeat(hh_store *st, const char *video_id, const char *worker_id,
                              int progress, int64_t lease_ms);
/*
 * Marks the video ready with its output keys, if worker_id still holds the
 * lease (HH_ERR_CONFLICT otherwise; HH_ERR_CANCELED when its owner
 * canceled the video: the outputs are then nobody's and may be removed).
 */
hh_status store_job_finish(hh_store *st, const char *video_id, const char *worker_id,
                           const char *video_key, const char *thumbnail_key);
/*
 * Ends a running job as failed, if worker_id still holds the lease
 * (HH_ERR_CONFLICT otherwise). retryable and attempts left: back to
 * queued. Otherwise the video fails with message and its charge is
 * refunded in the same transaction, exactly once. worker_id NULL is an
 * operator's order: no lease needed, never retried, any video that is not
 * ready or failed already (those are HH_ERR_CONFLICT).
 */
hh_status store_job_fail(hh_store *st, const char *video_id, const char *worker_id,
                         const char *message, int retryable);
/* Gives a claimed job back to the queue without counting the attempt (worker stopping). */
hh_status store_job_release(hh_store *st, const char *video_id, const char *worker_id);
/* Number of videos per status, indexed by hh_video_status. */
hh_status store_job_counts(hh_store *st, int64_t counts[HH_VIDEO_STATUS_COUNT]);

/* Where a queued video waits (store_video_queue_place). */
typedef struct hh_queue_place {
    int64_t running;        /* the owner's videos rendering now */
    int64_t running_limit;  /* how many the owner's plan renders at once */
    int64_t yours_ahead;    /* the owner's queued videos that go before this one */
    int64_t others_waiting; /* other accounts with videos queued */
} hh_queue_place;

/* Fills *out for a queued video; HH_ERR_NOTFOUND when it is not queued (any more). */
hh_status store_video_queue_place(hh_store *st, const char *video_id, hh_queue_place *out);

/* The queue as every node sees it, for metrics and alerts. */
typedef struct hh_queue_stats {
    int64_t queued;             /* waiting for a worker */
    int64_t running;            /* under a live lease */
    int64_t lease_expired;      /* running, lease expired, not yet reclaimed (a worker died) */
    int64_t waiting_users;      /* users with at least one queued job */
    int64_t oldest_enqueued_at; /* ms; 0 when nothing is queued */
} hh_queue_stats;

/* Reads *out in one statement (a consistent snapshot). */
hh_status store_queue_stats(hh_store *st, hh_queue_stats *out);

/*
 * An operator's refund of a ready video (a customer complaint): credits
 * the charge back to its owner with a ledger row whose ref is the video id
 * and records it on the video, which stays ready. Once per video: the
 * ledger's unique index backs this. *refunded (may be NULL) gets the
 * amount. HH_ERR_NOTFOUND unknown id; HH_ERR_CONFLICT when the video is
 * not ready (fail a queued or running one instead, which refunds) or was
 * refunded already. note (<= 255 bytes) may be NULL.
 */
hh_status store_video_refund(hh_store *st, const char *video_id, const char *note,
                             int64_t *refunded);

/*
 * The customer cancels video_id of user_id, in one transaction: the job
 * ends (state canceled, its lease gone, so the worker rendering it finds
 * out at its next heartbeat, store_job_heartbeat's HH_ERR_CANCELED, and
 * stops), the video becomes canceled and its charge is refunded in full
 * with one ledger row. A remote task still waiting at its provider moves
 * to phase cancel, for its driver to stop it there; one not yet created,
 * or already done there, is settled. A later finish or fail of the job
 * changes nothing (they check the lease). *status (may be NULL) gets the
 * status the video had; *refunded (may be NULL) the credits given back.
 * HH_ERR_NOTFOUND for unknown ids and other users' alike; HH_ERR_CONFLICT
 * when the video has ended already (ready, failed or canceled).
 */
hh_status store_video_cancel(hh_store *st, const char *video_id, const char *user_id,
                             hh_video_status *status, int64_t *refunded);

/* Most storage keys a deleted video frees: its MP4, its thumbnail and its four references. */
#define STORE_VIDEO_BLOBS_MAX 6

/*
 * Deletes video_id of user_id, which must have ended (ready, failed or
 * canceled), in one transaction: the video, its job, its remote task and
 * its share page go, and so do the upload records of the references no
 * other video of the user names. The ledger keeps every row (its refs
 * are text, not keys). The storage keys that nothing names any more, the
 * outputs included, are copied to keys (STORE_VIDEO_BLOBS_MAX slots) and
 * *nkeys says how many: the caller removes those objects, after the
 * commit, so a failure in between leaves files, never a video without
 * them. HH_ERR_NOTFOUND for unknown ids and other users' alike;
 * HH_ERR_CONFLICT when the video is queued or processing (*status, may
 * be NULL, gets its status then).
 */
hh_status store_video_delete(hh_store *st, const char *video_id, const char *user_id,
                             hh_video_status *status, char (*keys)[HH_KEY_MAX], size_t *nkeys);

/* ---- account limits, suspension, audit (store_sqlite_accounts.c) ---- */

/*
 * Stores a new API key as store_key_insert does, unless the user holds
 * max_keys live keys already (HH_ERR_LIMIT; counted and inserted in one
 * transaction, so racing creates cannot pass the cap).
 */
hh_status store_key_insert_capped(hh_store *st, const char *user_id, const char *name,
                                  const uint8_t hash[CRYPTO_SHA256_LEN], const char *prefix,
                                  int max_keys, hh_api_key *out);
/*
 * A page of a user's live keys, newest first: those with id < before
 * ("" or NULL: from the newest), at most limit (1..STORE_KEYS_MAX).
 * *keys is malloc'd (NULL when none); caller frees.
 */
hh_status store_key_list_page(hh_store *st, const char *user_id, const char *before, int limit,
                              hh_api_key **keys, size_t *n);

/* What suspending an account did. */
typedef struct hh_suspension {
    int64_t videos_canceled;  /* queued or running videos failed and refunded */
    int64_t credits_refunded; /* their charges, back on the balance */
    int64_t sessions_ended;
} hh_suspension;

/*
 * Suspends (on) or reinstates (!on) a user. Suspending, in one
 * transaction: the user is marked (its keys stop authenticating, it
 * cannot sign in), its dashboard sessions are deleted, and every video of
 * it that is queued or running ends failed with message and a full refund.
 * *out (may be NULL) says what was done. HH_ERR_NOTFOUND unknown user;
 * HH_ERR_CONFLICT already in that state.
 */
hh_status store_user_set_disabled(hh_store *st, const char *user_id, int on, const char *message,
                                  hh_suspension *out);

/* One row of the audit log of operator actions (append-only). */
typedef struct hh_audit_entry {
    int64_t id; /* increasing */
    int64_t at;
    char actor[64];   /* who: the OS user running the admin command */
    char action[64];  /* what: "user disable", "credits grant", ... */
    char target[256]; /* on what: an email or an id, "" when none */
    char *detail;     /* (heap) the command's options as JSON text */
} hh_audit_entry;

/* Appends an audit row; strings are copied, detail (JSON text) may be NULL. */
hh_status store_audit_append(hh_store *st, const char *actor, const char *action,
                             const char *target, const char *detail);
/*
 * Rows newest first with id < before (0: from the newest), at most limit
 * (1..STORE_PAGE_MAX). Release with store_audit_list_free.
 */
hh_status store_audit_list(hh_store *st, int64_t before, int limit, hh_audit_entry **entries,
                           size_t *n);
void store_audit_list_free(hh_audit_entry *entries, size_t n);

/*
 * Forgets at most limit pending uploads that no body can still be on its
 * way to: their URL expired before now, plus the longest a body may take
 * after its start (grace_ms, then its size at min_rate bytes a second),
 * so that no node sharing the storage is still receiving one. Those skip
 * says are in flight here are kept too (skip may be NULL; ctx is its).
 * Their keys are copied into keys (limit slots of HH_KEY_MAX), *n says how
 * many, so the caller can remove what a broken body left in storage.
 */
hh_status store_upload_expire(hh_store *st, int64_t now, int64_t grace_ms, int64_t min_rate,
                              int limit, int (*skip)(void *ctx, const char *key), void *ctx,
                              char (*keys)[HH_KEY_MAX], size_t *n);

/* ---- the operator's lists and statistics (store_sqlite_admin.c) ---- */

/*
 * Users by creation (oldest first), with id > after ("" or NULL: from the
 * first), only those on plan when plan is not NULL, at most limit
 * (1..STORE_PAGE_MAX, else HH_ERR_INVALID). *users is malloc'd (NULL when
 * *n is 0); caller frees.
 */
hh_status store_user_list(hh_store *st, const char *plan, const char *after, int limit,
                          hh_user **users, size_t *n);
/*
 * Sets (or replaces) the user's dashboard password hash and ends every
 * dashboard session of the user, in one transaction. HH_ERR_NOTFOUND for
 * an unknown user.
 */
hh_status store_user_set_password(hh_store *st, const char *user_id, const char *password_hash);

/* Credits charged and refunded on one UTC day (from the ledger). */
typedef struct hh_credit_day {
    char day[11];     /* YYYY-MM-DD */
    int64_t charged;  /* sum of charges, as a positive number */
    int64_t refunded; /* sum of refunds */
    int64_t granted;  /* sum of grants */
    int64_t adjusted; /* sum of adjustments (signed) */
} hh_credit_day;

/*
 * The last `days` UTC days that have ledger rows (1..STORE_PAGE_MAX), newest
 * first. *out is malloc'd (NULL when *n is 0); caller frees.
 */
hh_status store_credit_days(hh_store *st, int days, hh_credit_day **out, size_t *n);

/* ---- public share pages (store_sqlite_shares.c) ---- */
#define STORE_SLUG_MAX 48 /* bytes of a share slug, NUL included */

typedef struct hh_share {
    char video_id[HH_ID_LEN];
    char user_id[HH_ID_LEN];
    char slug[STORE_SLUG_MAX];
    int show_prompt; /* 0 or 1: the owner chose to show the prompt */
    int64_t created_at;
} hh_share;

/*
 * Publishes video_id of user_id under slug (1..STORE_SLUG_MAX-1 bytes) in
 * one transaction. A video already published keeps its slug (slug is then
 * unused) and takes the new show_prompt. *out gets the share as stored.
 * HH_ERR_NOTFOUND when the video is not user_id's; HH_ERR_CONFLICT when it
 * is not ready; HH_ERR_EXISTS when slug is taken by another video.
 */
hh_status store_share_publish(hh_store *st, const char *video_id, const char *user_id,
                              const char *slug, int show_prompt, int64_t now, hh_share *out);
/*
 * Unpublishes (the slug is forgotten: a later publish gets a new one).
 * HH_ERR_NOTFOUND when the video is not user_id's; HH_OK when it was not
 * published.
 */
hh_status store_share_unpublish(hh_store *st, const char *video_id, const char *user_id);
/* The share of slug whose video is ready and its owner's; HH_ERR_NOTFOUND otherwise. */
hh_status store_share_by_slug(hh_store *st, const char *slug, hh_share *out);
/* The share of video_id; HH_ERR_NOTFOUND when it is not published. */
hh_status store_share_of_video(hh_store *st, const char *video_id, hh_share *out);

/* ---- dashboard sessions (store_sqlite_sessions.c) ---- */
#define STORE_CSRF_MAX 64 /* bytes of a CSRF token, NUL included */

typedef struct hh_session {
    char user_id[HH_ID_LEN];
    char csrf[STORE_CSRF_MAX];
    int64_t created_at;
    int64_t refreshed_at; /* last time the expiry was moved */
    int64_t expires_at;
} hh_session;

/*
 * Records a session by the SHA-256 of its secret (never the secret), with
 * its CSRF token (< STORE_CSRF_MAX bytes, else HH_ERR_INVALID). HH_ERR_NOTFOUND
 * for an unknown user; HH_ERR_EXISTS if the hash is taken.
 */
hh_status store_session_create(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN],
                               const char *user_id, const char *csrf, int64_t now,
                               int64_t expires_at);
/*
 * The live session with this hash and its user. An expired one is deleted
 * and reported as HH_ERR_NOTFOUND, like an unknown one. user may be NULL.
 */
hh_status store_session_get(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN], int64_t now,
                            hh_session *out, hh_user *user);
/* Moves a session's expiry (sliding sessions). HH_ERR_NOTFOUND if it is gone. */
hh_status store_session_touch(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN], int64_t now,
                              int64_t expires_at);
/* Deletes a session (logout). HH_ERR_NOTFOUND if there was none. */
hh_status store_session_delete(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN]);
/* Deletes every session that expired before now; *removed (may be NULL) says how many. */
hh_status store_session_purge(hh_store *st, int64_t now, int64_t *removed);

/* ---- remote tasks: jobs a provider makes (store_sqlite_remote.c) ---- */

/*
 * A job of a remote engine (jobs/remote.h) moves through these phases. Its
 * job stays 'running' without a lease while the provider works, so it
 * counts toward the customer's jobs in flight and no lease expiry touches
 * it; the remote row says where it is.
 */
typedef enum hh_remote_phase {
    HH_REMOTE_SUBMIT,  /* to be created at the provider */
    HH_REMOTE_WAIT,    /* created (task id known): to be polled */
    HH_REMOTE_COLLECT, /* done at the provider: the job is queued for a render thread */
    HH_REMOTE_DONE,    /* the video is ready */
    HH_REMOTE_FAILED,  /* the video failed (and was refunded) */
    HH_REMOTE_CANCEL,  /* the video was canceled: the provider's task is to be stopped */
    HH_REMOTE_PHASE_COUNT
} hh_remote_phase;

/* "submit", "wait", "collect", "done", "failed", "cancel". */
const char *hh_remote_phase_str(hh_remote_phase phase);

/* A remote task. Strings marked (heap) are owned: release with store_remote_clear. */
typedef struct hh_remote_task {
    char video_id[HH_ID_LEN];
    char plan[STORE_PLAN_MAX];
    char engine[STORE_PLAN_MAX];
    hh_remote_phase phase;
    char *task;   /* (heap) the engine's task JSON (provider's id, URLs); NULL before the create */
    char *usage;  /* (heap) what the provider says it billed (JSON), or NULL */
    char *detail; /* (heap) the last provider error, for operators only, or NULL */
    int creates;  /* creates the provider answered with a task (more than 1: a double submit) */
    int polls;    /* polls answered */
    int errors;   /* transient errors in a row (the back-off's exponent) */
    double cost;  /* the operator's cost figure from the plan's engine, 0 when none */
    int64_t created_at, submitted_at, next_at, deadline_at, done_at; /* 0 when not yet */
} hh_remote_task;

void store_remote_clear(hh_remote_task *t);
void store_remote_list_free(hh_remote_task *tasks, size_t n);

/*
 * Hands the job of video_id, whose lease worker_id holds, to the remote
 * driver in one transaction: the task row (phase SUBMIT, due now) and the
 * lease given up. HH_ERR_CONFLICT when worker_id no longer holds the
 * lease; HH_ERR_EXISTS when the video has a remote task already.
 */
hh_status store_remote_begin(hh_store *st, const char *video_id, const char *worker_id,
                             const char *plan, const char *engine, int64_t deadline_at);

/* The remote task of video_id; HH_ERR_NOTFOUND when it has none. */
hh_status store_remote_get(hh_store *st, const char *video_id, hh_remote_task *out);

/*
 * Claims for owner, until claim_ms from now, up to max (1..STORE_PAGE_MAX)
 * tasks of plan in phase (SUBMIT, WAIT or CANCEL) that are due (next_at <= now)
 * and not claimed by anyone else now, oldest due first. Nodes share the
 * store's clock rule of the other leases. *out is malloc'd (NULL when *n
 * is 0): release with store_remote_list_free.
 */
hh_status store_remote_claim(hh_store *st, const char *plan, hh_remote_phase phase,
                             const char *owner, int64_t claim_ms, int max, hh_remote_task **out,
                             size_t *n);

/* What a create or poll that leaves the task going changes (store_remote_update). */
typedef struct hh_remote_update {
    const char *task;   /* the new task JSON, or NULL: unchanged */
    const char *detail; /* the error to keep for operators, or NULL: cleared */
    int64_t next_at;    /* when to look again */
    int created;        /* 1: a create answered with a task (phase WAIT, creates + 1) */
    int transient;      /* 1: no usable answer (errors + 1); 0: errors back to 0, polls + 1 */
    int progress;       /* the video's progress (0..99), or -1: unchanged */
} hh_remote_update;

/*
 * Applies u to the task owner has claimed and gives the claim back.
 * HH_ERR_CONFLICT when owner holds no claim on it or its video is no longer
 * processing (an operator settled it): the caller stops the provider's task.
 */
hh_status store_remote_update(hh_store *st, const char *video_id, const char *owner,
                              const hh_remote_update *u);

/*
 * The provider is done: the task (with where its result is) and usage
 * (may be NULL) recorded, phase COLLECT, and the job back in the queue, at
 * its collect stage, for a render thread with a fresh count of attempts
 * (the video stays processing). HH_ERR_CONFLICT as store_remote_update.
 */
hh_status store_remote_collect(hh_store *st, const char *video_id, const char *owner,
                               const char *task, const char *usage, double cost);

/*
 * The provider failed the task for good (or it ran out of time): phase
 * FAILED with detail for operators, and the video failed with message and
 * refunded once, in one transaction. owner NULL: no claim needed.
 * HH_ERR_CONFLICT when the video is settled already.
 */
hh_status store_remote_fail(hh_store *st, const char *video_id, const char *owner,
                            const char *message, const char *detail);

/*
 * The provider was asked to stop the task of a canceled video, which
 * owner claimed in phase CANCEL: the task is settled (phase FAILED).
 * HH_ERR_CONFLICT when owner holds no such claim.
 */
hh_status store_remote_canceled(hh_store *st, const char *video_id, const char *owner);

/* Gives back every claim owner holds (a stopping driver), so others poll at once. */
hh_status store_remote_release(hh_store *st, const char *owner);

/* Remote tasks by phase, indexed by hh_remote_phase. */
hh_status store_remote_counts(hh_store *st, int64_t counts[HH_REMOTE_PHASE_COUNT]);

/* ---- webhooks and their durable outbox (store_sqlite_webhooks.c) ---- */
#define STORE_URL_MAX 2049 /* bytes of a webhook URL, NUL included */
#define STORE_HOOK_SECRET_MAX                                                                      \
    64 /* bytes of an endpoint's signing key, as the caller keeps it (sealed) */
#define STORE_HOOKS_MAX      100 /* ceiling of store_webhook_list */
#define STORE_HOOK_ERROR_MAX 160 /* bytes of an attempt's error, NUL included */

/* The events an endpoint can take, as bits of hh_webhook.events. */
typedef enum hh_hook_event {
    HH_HOOK_VIDEO_READY = 1,
    HH_HOOK_VIDEO_FAILED = 2,
    HH_HOOK_VIDEO_CANCELED = 4,
} hh_hook_event;
#define HH_HOOK_EVENTS_ALL 7

/* "video.ready", "video.failed", "video.canceled"; "" for anything else. Static. */
const char *hh_hook_event_str(hh_hook_event event);
/* The event named name, or 0 when it names none. */
hh_hook_event hh_hook_event_parse(const char *name);

typedef struct hh_webhook {
    char id[HH_ID_LEN];
    char user_id[HH_ID_LEN];
    char url[STORE_URL_MAX];
    unsigned events; /* hh_hook_event bits, never 0 */
    int64_t created_at;
    int64_t disabled_at; /* 0: live; else when the endpoint answered 410 Gone */
} hh_webhook;

/*
 * Registers an endpoint of user_id for events (bits, 1..HH_HOOK_EVENTS_ALL)
 * with its signing key secret[0..secret_len) (1..STORE_HOOK_SECRET_MAX
 * bytes), unless the user has max_per_user endpoints already (HH_ERR_LIMIT;
 * counted and inserted in one transaction). *out gets the endpoint.
 * HH_ERR_INVALID when an argument does not fit.
 */
hh_status store_webhook_create(hh_store *st, const char *user_id, const char *url, unsigned events,
                               const uint8_t *secret, size_t secret_len, int max_per_user,
                               hh_webhook *out);
/* The endpoint id of user_id (not deleted); HH_ERR_NOTFOUND otherwise. */
hh_status store_webhook_get(hh_store *st, const char *user_id, const char *id, hh_webhook *out);
/* The user's endpoints, newest first, at most STORE_HOOKS_MAX; *out malloc'd, caller frees. */
hh_status store_webhook_list(hh_store *st, const char *user_id, hh_webhook **out, size_t *n);
/*
 * Deletes the endpoint and drops its pending deliveries, in one
 * transaction. HH_ERR_NOTFOUND when user_id has no such endpoint.
 */
hh_status store_webhook_delete(hh_store *st, const char *user_id, const char *id);

/* A delivery of the outbox, as a dispatcher claims it. */
typedef struct hh_hook_delivery {
    int64_t id;      /* the outbox row */
    char msg_id[48]; /* the webhook-id header: the same on every attempt */
    char webhook_id[HH_ID_LEN];
    char video_id[HH_ID_LEN];
    char type[24];      /* hh_hook_event_str of the event */
    int64_t created_at; /* when the status changed */
    int attempt;        /* this claim's attempt, 1 for the first */
    char url[STORE_URL_MAX];
    uint8_t secret[STORE_HOOK_SECRET_MAX];
    size_t secret_len;
} hh_hook_delivery;

/*
 * Claims for owner, until now + claim_ms, up to max (1..STORE_PAGE_MAX)
 * pending deliveries that are due (next_at <= now) and claimed by no one
 * (a lapsed claim, whose dispatcher died, is free again), oldest due
 * first, counting the attempt. So one attempt at a time is made of each.
 * *out malloc'd (NULL when *n is 0); the caller frees it after
 * OPENSSL_cleanse-ing the secrets.
 */
hh_status store_hook_claim(hh_store *st, const char *owner, int64_t now, int64_t claim_ms, int max,
                           hh_hook_delivery **out, size_t *n);

/* What an attempt came to, as the dispatcher judges it. */
typedef enum hh_hook_outcome {
    HH_HOOK_DELIVERED, /* a 2xx answer */
    HH_HOOK_RETRYING,  /* no answer or another status: again at next_at */
    HH_HOOK_FAILED,    /* the same, with no attempt left: given up */
    HH_HOOK_DISABLED,  /* 410 Gone: the endpoint is disabled, its pending deliveries dropped */
} hh_hook_outcome;

/* One attempt, as the dispatcher records it and the delivery log shows it. */
typedef struct hh_hook_attempt {
    char msg_id[48];
    char type[24];
    char video_id[HH_ID_LEN];
    int attempt;
    int64_t at;
    int status; /* HTTP status, 0 when no answer came */
    char error[STORE_HOOK_ERROR_MAX];
    int64_t duration_ms;
    hh_hook_outcome outcome;
} hh_hook_attempt;

/* "delivered", "retrying", "failed", "disabled". Static. */
const char *hh_hook_outcome_str(hh_hook_outcome outcome);

/* What one attempt of delivery id came to (store_hook_record). */
typedef struct hh_hook_result {
    int64_t id;        /* hh_hook_delivery.id */
    hh_hook_attempt a; /* msg_id, type, video_id and attempt are the store's own */
    int64_t next_at;   /* the next attempt, for HH_HOOK_RETRYING */
} hh_hook_result;

/*
 * Records the attempts owner made, r[0..n), and settles each delivery as
 * its outcome says (pending again at next_at for HH_HOOK_RETRYING),
 * giving the claims back, all in one transaction (one commit for a whole
 * pass). A delivery whose claim owner no longer holds (it lapsed and
 * another dispatcher took it) is skipped, nothing of it written; *skipped
 * (may be NULL) counts those. On any other failure nothing is written and
 * the claims lapse, so the deliveries are sent again.
 */
hh_status store_hook_record(hh_store *st, const char *owner, const hh_hook_result *r, size_t n,
                            size_t *skipped);

/*
 * The newest attempts at endpoint webhook_id of user_id, newest first, at
 * most limit (1..STORE_PAGE_MAX). *out malloc'd (NULL when *n is 0),
 * caller frees. HH_ERR_NOTFOUND when the endpoint is not the user's.
 */
hh_status store_hook_attempts(hh_store *st, const char *user_id, const char *webhook_id, int limit,
                              hh_hook_attempt **out, size_t *n);

/* Deliveries still pending (for metrics, tests and the benchmark). */
hh_status store_hook_pending(hh_store *st, int64_t *n);

/* ---- what every node of a cluster shares (store_sqlite_shared.c, store_pg_shared.c) ---- */
#define STORE_SECRET_NAME_MAX 64    /* bytes of a secret's name, NUL included */
#define STORE_SECRET_MAX      64    /* bytes of a secret's value */
#define STORE_RATE_KEY_MAX    192   /* bytes of a rate bucket's key, NUL included */
#define STORE_RATE_UNIT       60000 /* a bucket counts tokens in these parts: R a minute is R a ms */
#define STORE_RATE_MAX        1000000 /* the largest burst and per_minute (plans allow as much) */

/*
 * 1 when several nodes share this store (PostgreSQL): state the nodes must
 * agree on (rate buckets) is then the store's; 0 for SQLite, whose nodes
 * share one machine and keep such state in memory.
 */
int store_is_shared(hh_store *st);

/*
 * The secret name (1..STORE_SECRET_NAME_MAX-1 bytes) of len bytes
 * (1..STORE_SECRET_MAX) into out. The first caller's value is kept for
 * good: seed is what this caller proposes (NULL: random bytes), and every
 * caller, this one and any later one on any node, gets the value stored
 * first. Secrets are never changed or removed. HH_ERR_CONFLICT when the
 * stored value has another length; HH_ERR_INVALID for bad arguments.
 */
hh_status store_secret(hh_store *st, const char *name, const uint8_t *seed, size_t len,
                       uint8_t *out);

/* What store_rate_take found in the bucket. */
typedef struct hh_rate_state {
    int allowed;   /* 1: a token was taken; 0: the bucket held less than one */
    int64_t units; /* what the bucket holds after the take, in 1/STORE_RATE_UNIT tokens */
} hh_rate_state;

/*
 * Takes one token from the token bucket key (1..STORE_RATE_KEY_MAX-1
 * bytes), made full on first use: it holds at most burst tokens and gains
 * per_minute a minute (both 1..STORE_RATE_MAX, else HH_ERR_INVALID), on
 * the store's clock (the database's, so nodes' clocks do not matter). A
 * change of burst or rate applies at once; the tokens held carry over, cut
 * to the new burst. One statement: the refill, the take and the answer.
 * Buckets are not durable state: after a crash they may start full.
 */
hh_status store_rate_take(hh_store *st, const char *key, int burst, int per_minute,
                          hh_rate_state *out);

/* ---- copying a store to another, table by table (admin migrate; store_copy.c) ---- */
struct json_t;

/* How a column travels in a copied row (a JSON array): integer, string, hex string, number. */
typedef enum store_col_type {
    STORE_COL_INT,
    STORE_COL_TEXT,
    STORE_COL_BYTES,
    STORE_COL_REAL,
    STORE_COL_TYPES /* the number of types, not a type */
} store_col_type;

typedef struct store_copy_col {
    const char *name;
    store_col_type type;
} store_copy_col;

/* A table to copy: its columns (the primary key's first), in the order rows carry them. */
typedef struct store_copy_table {
    const char *name;
    const store_copy_col *cols;
    int ncols;
    int nkey;     /* the first nkey columns are the primary key */
    int identity; /* 1: the key is a generated integer id, copied as it is */
    /* The integer column whose sum verifies a copy; NULL for a small table compared row by row. */
    const char *sum;
} store_copy_table;

/* Every table of the schema at the latest version, parents before children. */
extern const store_copy_table store_copy_tables[];
extern const size_t store_copy_table_count;
/* The tables of the schema that are not copied (not durable state), NULL-ended. */
extern const char *const store_copy_skipped[];
#define STORE_COPY_BATCH_MAX 10000 /* rows of one store_copy_read or store_copy_write */

/*
 * The rows of t (one of store_copy_tables) after the key of row after (a
 * row as store_copy_read gives them; NULL: from the first), ordered by
 * key, at most limit (1..STORE_COPY_BATCH_MAX): *rows is a new JSON array
 * of rows, each an array of t's columns in its order (NULL as null, bytes
 * as lower-case hex), empty at the end.
 */
hh_status store_copy_read(hh_store *st, const store_copy_table *t, const struct json_t *after,
                          int limit, struct json_t **rows);
/*
 * Inserts rows (as store_copy_read gives them, 1..STORE_COPY_BATCH_MAX) into
 * t in one transaction, as they are (ids and generated ids kept), skipping
 * every row that collides with one already there; *inserted counts the
 * new ones. HH_ERR_INVALID when a row does not fit t's columns.
 */
hh_status store_copy_write(hh_store *st, const store_copy_table *t, const struct json_t *rows,
                           size_t *inserted);
/* The number of rows of t and the sum of its column t->sum (0 when it has none). */
hh_status store_copy_stats(hh_store *st, const store_copy_table *t, int64_t *count, int64_t *sum);

#endif
