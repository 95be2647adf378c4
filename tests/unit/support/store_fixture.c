/*
 * store_fixture.c - the contract tests' store location (store_fixture.h):
 * a mkdtemp directory always (the test's own files, and SQLite's data
 * under dir/data), plus for PostgreSQL a database hh_t_<pid>_<n> created
 * on the cluster's URL and dropped WITH (FORCE) at the end, so a test that
 * died holding connections still leaves nothing behind. The direct SQL of
 * sf_exec goes through the backend's own client library, on a connection
 * that is not one of the store's.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "store/migrations_sqlite.h"
#include "support/store_fixture.h"

enum { URL_MAX = 512 };

struct store_fixture {
    int pg;                  /* the PostgreSQL backend, else SQLite */
    char dir[64];            /* the mkdtemp directory */
    char location[URL_MAX];  /* what store_open takes */
    char admin_url[URL_MAX]; /* PostgreSQL: the cluster's URL, for CREATE/DROP */
    char dbname[64];         /* PostgreSQL: this fixture's database */
    char error[256];         /* the last refusal of sf_exec */
};

/* Databases made by this process so far: with the pid, a name no other fixture has. */
static atomic_uint db_counter;

static void set_error(store_fixture *f, const char *msg)
{
    snprintf(f->error, sizeof f->error, "%s", msg ? msg : "");
    size_t n = strlen(f->error);
    while (n && f->error[n - 1] == '\n')
        f->error[--n] = '\0';
}

/* The first line of path into buf, without its newline. */
static hh_status read_line(const char *path, char *buf, size_t n)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return HH_ERR_NOTFOUND;
    hh_status rc = fgets(buf, (int)n, fp) ? HH_OK : HH_ERR_IO;
    fclose(fp);
    buf[strcspn(buf, "\r\n")] = '\0';
    return rc == HH_OK && buf[0] ? HH_OK : HH_ERR_IO;
}

/* The cluster's URL: HH_PG_URL, else the url file that tests/pg/cluster.sh start wrote. */
static hh_status cluster_url(char *buf, size_t n)
{
    const char *env = getenv("HH_PG_URL");
    if (env && *env)
        return (size_t)snprintf(buf, n, "%s", env) < n ? HH_OK : HH_ERR_LIMIT;
    char path[URL_MAX];
    const char *dir = getenv("HH_PG_DIR");
    const char *build = getenv("HH_BUILD");
    if (dir && *dir)
        snprintf(path, sizeof path, "%s/url", dir);
    else if (build && *build)
        snprintf(path, sizeof path, "%s/pg/url", build);
    else
        return HH_ERR_NOTFOUND;
    return read_line(path, buf, n);
}

/* url with its database (the path after host[:port]) replaced by db, its ?options kept. */
static hh_status url_with_db(const char *url, const char *db, char *out, size_t n)
{
    const char *scheme = strstr(url, "://");
    if (!scheme)
        return HH_ERR_INVALID;
    const char *host = scheme + 3;
    size_t head = (size_t)(host - url) + strcspn(host, "/?");
    const char *query = strchr(host, '?');
    int len = snprintf(out, n, "%.*s/%s%s", (int)head, url, db, query ? query : "");
    return len > 0 && (size_t)len < n ? HH_OK : HH_ERR_LIMIT;
}

/* Runs sql on url; a result with rows puts its first column of the first row in *out. */
static int pg_run_sql(store_fixture *f, const char *url, const char *sql, int64_t *out)
{
    int rc = -1;
    PGresult *res = NULL;
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) {
        set_error(f, PQerrorMessage(c));
        goto out;
    }
    res = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(res);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        set_error(f, PQresultErrorMessage(res));
        goto out;
    }
    if (out) {
        if (s != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
            set_error(f, "not one row with a value");
            goto out;
        }
        *out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    }
    rc = 0;
out:
    PQclear(res);
    PQfinish(c);
    return rc;
}

/* Runs sql on the SQLite file of f's location, as pg_run_sql does. */
static int sqlite_run_sql(store_fixture *f, const char *sql, int64_t *out)
{
    char path[URL_MAX + 32];
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    int rc = -1;
    snprintf(path, sizeof path, "%s/happyhorse.db", f->location);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(db, 5000); /* the store's own connections may be writing */
    if (!out) {
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
            goto fail;
        rc = 0;
        goto out;
    }
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        goto fail;
    if (sqlite3_step(s) != SQLITE_ROW || sqlite3_column_type(s, 0) == SQLITE_NULL) {
        set_error(f, "not one row with a value");
        goto out;
    }
    *out = sqlite3_column_int64(s, 0);
    rc = 0;
    goto out;
fail:
    set_error(f, db ? sqlite3_errmsg(db) : "out of memory");
out:
    sqlite3_finalize(s);
    sqlite3_close(db);
    return rc;
}

/* Creates f's own database on the cluster; f->location is its URL. */
static hh_status pg_create(store_fixture *f)
{
    hh_status rc = cluster_url(f->admin_url, sizeof f->admin_url);
    if (rc) {
        fprintf(stderr, "store_fixture: no PostgreSQL cluster: set HH_PG_URL, or HH_PG_DIR to"
                        " a tests/pg/cluster.sh start (CTest's *_pg tests get one)\n");
        return rc;
    }
    snprintf(f->dbname, sizeof f->dbname, "hh_t_%ld_%u", (long)getpid(),
             atomic_fetch_add(&db_counter, 1));
    rc = url_with_db(f->admin_url, f->dbname, f->location, sizeof f->location);
    if (rc)
        return rc;
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", f->dbname);
    if (pg_run_sql(f, f->admin_url, sql, NULL)) {
        fprintf(stderr, "store_fixture: %s: %s\n", sql, f->error);
        f->dbname[0] = '\0';
        return HH_ERR_DB;
    }
    return HH_OK;
}

static hh_status fixture_new(int pg, store_fixture **out)
{
    *out = NULL;
    store_fixture *f = calloc(1, sizeof *f);
    if (!f)
        return HH_ERR_NOMEM;
    f->pg = pg;
    hh_status rc = HH_ERR_IO;
    snprintf(f->dir, sizeof f->dir, "/tmp/hh-test-XXXXXX");
    if (!mkdtemp(f->dir)) {
        f->dir[0] = '\0';
        goto out;
    }
    if (pg) {
        rc = pg_create(f);
    } else {
        snprintf(f->location, sizeof f->location, "%s/data", f->dir);
        rc = HH_OK;
    }
out:
    if (rc) {
        sf_free(f);
        return rc;
    }
    *out = f;
    return HH_OK;
}

hh_status sf_new(store_fixture **out)
{
    const char *which = getenv("HH_TEST_STORE");
    return fixture_new(which && !strcmp(which, "pg"), out);
}

hh_status sf_new_sqlite(store_fixture **out)
{
    return fixture_new(0, out);
}

hh_status sf_new_pg(store_fixture **out)
{
    return fixture_new(1, out);
}

int sf_free(store_fixture *f)
{
    if (!f)
        return 0;
    int rc = 0;
    if (f->dbname[0]) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->dbname);
        if (pg_run_sql(f, f->admin_url, sql, NULL)) {
            fprintf(stderr, "store_fixture: %s: %s\n", sql, f->error);
            rc = -1;
        }
    }
    if (f->dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        if (system(cmd) != 0)
            rc = -1;
    }
    free(f);
    return rc;
}

hh_status sf_new_open(hh_status (*make)(store_fixture **out), store_fixture **f, hh_store **st)
{
    *st = NULL;
    hh_status rc = make(f);
    if (!rc && (rc = sf_open(*f, st)) != HH_OK) {
        sf_free(*f);
        *f = NULL;
    }
    return rc;
}

int sf_close_free(store_fixture *f, hh_store *st)
{
    store_close(st);
    return sf_free(f);
}

hh_status sf_open(store_fixture *f, hh_store **st)
{
    return store_open(f->location, st);
}

hh_status sf_open_version(store_fixture *f, int version, hh_store **st)
{
    return store_open_version(f->location, version, st);
}

hh_status sf_reopen(store_fixture *f, hh_store **st)
{
    store_close(*st);
    *st = NULL;
    return sf_open(f, st);
}

int sf_latest_version(void)
{
    return (int)store_sqlite_migration_count;
}

int sf_setup_end(void **state, int (*teardown)(void **state), hh_status rc)
{
    if (rc == HH_OK)
        return 0;
    fprintf(stderr, "store_fixture: setup failed: %s\n", hh_status_str(rc));
    teardown(state);
    return -1;
}

int sf_exec(store_fixture *f, const char *sql)
{
    set_error(f, NULL);
    return f->pg ? pg_run_sql(f, f->location, sql, NULL) : sqlite_run_sql(f, sql, NULL);
}

int sf_query_int(store_fixture *f, const char *sql, int64_t *out)
{
    set_error(f, NULL);
    return f->pg ? pg_run_sql(f, f->location, sql, out) : sqlite_run_sql(f, sql, out);
}

int sf_exec_cluster(store_fixture *f, const char *sql)
{
    set_error(f, NULL);
    if (!f->pg) {
        set_error(f, "not a PostgreSQL fixture");
        return -1;
    }
    return pg_run_sql(f, f->admin_url, sql, NULL);
}

const char *sf_error(const store_fixture *f)
{
    return f->error;
}

const char *sf_backend(const store_fixture *f)
{
    return f->pg ? "postgres" : "sqlite";
}

const char *sf_db_name(const store_fixture *f)
{
    return f->dbname;
}

const char *sf_location(const store_fixture *f)
{
    return f->location;
}

const char *sf_dir(const store_fixture *f)
{
    return f->dir;
}
