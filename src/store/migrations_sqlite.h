/*
 * migrations_sqlite.h - the SQLite schema as an ordered list of steps.
 * Step i (0-based) takes a database from version i to version i+1
 * (PRAGMA user_version). Steps are append-only: a released step is never
 * edited, a change of schema is a new step at the end. Private to
 * store_sqlite.c and its tests.
 */
#ifndef HH_MIGRATIONS_SQLITE_H
#define HH_MIGRATIONS_SQLITE_H

#include <stddef.h>

typedef struct store_migration {
    const char *name; /* for the log line when it is applied */
    const char *sql;  /* one or more statements, run in one transaction */
} store_migration;

extern const store_migration store_sqlite_migrations[];
extern const size_t store_sqlite_migration_count;

#endif
