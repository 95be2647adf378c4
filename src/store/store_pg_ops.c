/*
 * store_pg_ops.c - the PostgreSQL backend's table of operations, put
 * together from the part each file of the backend fills (pg_*_ops), and
 * the backend's open. It sits above every other file of the backend, so
 * none of them needs to know the others' operations.
 */
#include "store/store_int.h"
#include "store/store_pg_int.h"

#include <pthread.h>

static store_ops pg_ops;
static pthread_once_t pg_ops_once = PTHREAD_ONCE_INIT;

static void pg_ops_fill(void)
{
    pg_ops.close = pg_close;
    pg_core_ops(&pg_ops);
    pg_users_ops(&pg_ops);
    pg_accounts_ops(&pg_ops);
    pg_admin_ops(&pg_ops);
    pg_videos_ops(&pg_ops);
    pg_queue_ops(&pg_ops);
    pg_remote_ops(&pg_ops);
    pg_sessions_ops(&pg_ops);
    pg_shares_ops(&pg_ops);
    pg_webhooks_ops(&pg_ops);
    pg_shared_ops(&pg_ops);
    pg_copy_ops(&pg_ops);
}

hh_status store_pg_open(const char *url, int version, hh_store **out)
{
    pthread_once(&pg_ops_once, pg_ops_fill);
    return pg_open(url, version, &pg_ops, out);
}
