/*
 * store_sqlite_ops.c - the SQLite backend's table of operations, put
 * together from the part each file of the backend fills (sq_*_ops), and
 * the backend's open. It sits above every other file of the backend, so
 * none of them needs to know the others' operations.
 */
#include "store/store_int.h"
#include "store/store_sqlite_int.h"

#include <pthread.h>

static store_ops sqlite_ops;
static pthread_once_t sqlite_ops_once = PTHREAD_ONCE_INIT;

static void sqlite_ops_fill(void)
{
    sqlite_ops.close = sq_close;
    sq_core_ops(&sqlite_ops);
    sq_videos_ops(&sqlite_ops);
    sq_sessions_ops(&sqlite_ops);
    sq_remote_ops(&sqlite_ops);
    sq_accounts_ops(&sqlite_ops);
    sq_shares_ops(&sqlite_ops);
    sq_admin_ops(&sqlite_ops);
    sq_webhooks_ops(&sqlite_ops);
    sq_shared_ops(&sqlite_ops);
    sq_copy_ops(&sqlite_ops);
}

hh_status store_sqlite_open(const char *location, int version, hh_store **out)
{
    pthread_once(&sqlite_ops_once, sqlite_ops_fill);
    return sq_open(location, version, &sqlite_ops, out);
}
