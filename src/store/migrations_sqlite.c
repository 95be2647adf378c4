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
};

const size_t store_sqlite_migration_count =
    sizeof store_sqlite_migrations / sizeof store_sqlite_migrations[0];
