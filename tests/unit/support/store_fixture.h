/*
 * store_fixture.h - a fresh, empty store for a contract test, on whichever
 * backend the run asks for: SQLite in a temporary directory by default, or,
 * with HH_TEST_STORE=pg, a database of its own on the suite's PostgreSQL
 * cluster (tests/pg/cluster.sh; its URL from HH_PG_URL, else
 * $HH_PG_DIR/url, else $HH_BUILD/pg/url). So one test file runs unchanged
 * against both, and never includes a backend's header: the few cases that
 * must touch the database directly do it through sf_exec with SQL both
 * dialects accept (same tables and columns; PostgreSQL's integers are
 * BIGINT, its blobs BYTEA).
 *
 * The fixture owns the location, never the test's store handles: a test
 * opens as many as it needs (sf_open), closes them, then sf_free removes
 * the location (the directory, or DROP DATABASE ... WITH (FORCE)).
 */
#ifndef HH_TEST_STORE_FIXTURE_H
#define HH_TEST_STORE_FIXTURE_H

#include <stdint.h>

#include "store/store.h"

typedef struct store_fixture store_fixture;

/* A fresh location on the backend HH_TEST_STORE names ("pg", else SQLite). */
hh_status sf_new(store_fixture **out);
/* A fresh SQLite location whatever the environment says (SQLite-only tests). */
hh_status sf_new_sqlite(store_fixture **out);
/*
 * A fresh PostgreSQL database whatever HH_TEST_STORE says (PostgreSQL-only
 * tests): no cluster is a failure, with a message saying how to start one.
 */
hh_status sf_new_pg(store_fixture **out);
/* Removes the location (close every handle first). 0, or -1 when that failed. NULL-safe. */
int sf_free(store_fixture *f);

/*
 * A fresh location from make (sf_new, sf_new_pg, sf_new_sqlite) with a
 * store opened on it; on failure nothing is left (*f and *st NULL).
 */
hh_status sf_new_open(hh_status (*make)(store_fixture **out), store_fixture **f, hh_store **st);
/* Closes st (NULL is fine), then sf_free(f): 0, or -1 when removing the location failed. */
int sf_close_free(store_fixture *f, hh_store *st);

/* Opens a new handle on the store, migrating it to the latest schema. Call again for a second. */
hh_status sf_open(store_fixture *f, hh_store **st);
/* Same, migrating only up to version (store_open_version). */
hh_status sf_open_version(store_fixture *f, int version, hh_store **st);
/* Closes *st and opens the store again into it (*st is NULL when that fails). */
hh_status sf_reopen(store_fixture *f, hh_store **st);
/*
 * The schema version a store has after sf_open, either backend: their
 * migration lists have the same steps, by count and name (a check of
 * test_store_pg_core.c, test_migration_lists_match).
 */
int sf_latest_version(void);

/*
 * Ends a cmocka setup whose steps came to rc: 0 when HH_OK, else it runs
 * teardown(state) and returns -1, since cmocka runs no teardown after a
 * failed setup and the store and its database would stay behind. So the
 * setup puts its fixture in *state before its first step, takes its steps
 * without asserts, and its teardown copes with a fixture built in part.
 */
int sf_setup_end(void **state, int (*teardown)(void **state), hh_status rc);

/*
 * Runs sql (one or more statements, no parameters) on a connection of its
 * own, as another tool would: 0 on success, -1 when the database refused it
 * (the reason in sf_error).
 */
int sf_exec(store_fixture *f, const char *sql);
/* Runs a query of one row and one integer column into *out: 0, or -1 as sf_exec. */
int sf_query_int(store_fixture *f, const char *sql, int64_t *out);
/*
 * PostgreSQL: runs sql on the cluster's maintenance database (for what
 * must be said from outside the test's own, e.g. ALTER DATABASE), as sf_exec.
 */
int sf_exec_cluster(store_fixture *f, const char *sql);
/* The last refusal's message ("" when none), for assertion messages. */
const char *sf_error(const store_fixture *f);

/* "sqlite" or "postgres", for messages. */
const char *sf_backend(const store_fixture *f);
/* PostgreSQL: the name of the fixture's database ("" for SQLite). */
const char *sf_db_name(const store_fixture *f);
/* The location store_open takes: a directory, or a postgres:// URL. */
const char *sf_location(const store_fixture *f);
/* A private temporary directory for the test's own files (removed by sf_free), either backend. */
const char *sf_dir(const store_fixture *f);

#endif
