/*
 * store_sqlite_internal.h - what store_sqlite.c lends to the other
 * store_sqlite_*.c files (sessions, ...): a pooled connection for the
 * length of one call, and its mapping of SQLite errors to hh_status. Lets
 * a part of the store live in its own file without reaching into the pool.
 * Private to the SQLite store and its tests.
 */
#ifndef HH_STORE_SQLITE_INTERNAL_H
#define HH_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>

#include "store/store.h"

typedef hh_status (*store_sqlite_fn)(sqlite3 *db, void *arg);

/*
 * Borrows a connection from st's pool, runs fn(db, arg) and gives the
 * connection back (a transaction fn left open is rolled back). db is
 * valid only inside fn; fn must finalize every statement it prepared.
 * Returns fn's status, or the pool's error when no connection could be had.
 */
hh_status store_sqlite_with_db(hh_store *st, store_sqlite_fn fn, void *arg);

/* Maps SQLite result rc to an hh_status, logging what is not the caller's fault. */
hh_status store_sqlite_error(sqlite3 *db, int rc, const char *what);

#endif
