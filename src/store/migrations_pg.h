/*
 * migrations_pg.h - the PostgreSQL schema as an ordered list of steps, the
 * same steps (names, order, count) as migrations_sqlite.h in PostgreSQL's
 * dialect. Step i (0-based) takes a database from version i to version i+1
 * (the row of table schema_version). Append-only like SQLite's: a change of
 * schema is a new step at the end of both lists. Private to store_pg.c and
 * its tests.
 */
#ifndef HH_MIGRATIONS_PG_H
#define HH_MIGRATIONS_PG_H

#include "store/migrations_sqlite.h" /* store_migration */

#include <stddef.h>

extern const store_migration store_pg_migrations[];
extern const size_t store_pg_migration_count;

#endif
