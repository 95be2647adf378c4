/*
 * options.h - where the operator's settings come from, shared by every
 * command (admin, serve, worker): a flag wins, then its environment
 * variable, then the built-in default (contract section 7). Also the
 * strict number parsing every flag uses.
 */
#ifndef HH_CLI_OPTIONS_H
#define HH_CLI_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "blob/blob.h"
#include "blob/blob_s3.h"
#include "domain/plans.h"
#include "util/status.h"

#define CLI_DEFAULT_DATA   "./data"
#define CLI_DEFAULT_LISTEN "127.0.0.1:8080"

/*
 * Returns flag when not NULL, else the value of the environment variable
 * env when set and non-empty, else def. The result is borrowed (from argv,
 * the environment or def) and lives as long as they do.
 */
const char *cli_opt(const char *flag, const char *env, const char *def);

/* The data directory: --data DIR, else HAPPYHORSE_DATA, else "./data". Borrowed. */
const char *cli_data_dir(const char *data_flag);

/*
 * The store location for store_open: HAPPYHORSE_DATABASE_URL when set and
 * non-empty (it wins over --data, which then only places local files),
 * else cli_data_dir(data_flag). Borrowed. May hold a password: never print
 * it; print cli_store_label instead.
 */
const char *cli_store_location(const char *data_flag);

/* A printable name for a location: the path itself, or "HAPPYHORSE_DATABASE_URL" for a URL. */
const char *cli_store_label(const char *location);

/*
 * Where objects live: 0 when HAPPYHORSE_S3_ENDPOINT is unset or empty
 * (local files under the data directory); 1 with *out filled from
 * HAPPYHORSE_S3_ENDPOINT, _BUCKET, _REGION, _ACCESS_KEY_ID,
 * _SECRET_ACCESS_KEY, _FORCE_PATH_STYLE (1 or true for path-style) and
 * _PUBLIC_URL, and checked (blob_s3_check_config); -1 with a one-line
 * reason in err when a setting is missing, too long or wrong.
 */
int cli_s3_config(blob_s3_config *out, char *err, size_t errsize);

/*
 * Opens object storage as serve and worker use it: the S3 bucket of
 * cli_s3_config when one is set, else the files under the data directory
 * of --data / HAPPYHORSE_DATA. 0 with *out (blob_free) on success; -1 with
 * a reason in err for a wrong S3 setting (bad usage); 1 with a reason when
 * it cannot be opened.
 */
int cli_blob_open(const char *data_flag, blob_store **out, char *err, size_t errsize);

/*
 * The base of the URLs the API hands out, as serve makes it when it is not
 * told the port: --public-url URL, else HAPPYHORSE_PUBLIC_URL, else
 * http://<HAPPYHORSE_LISTEN or 127.0.0.1:8080>; written into out without a
 * trailing slash.
 */
void cli_public_url(const char *flag, char *out, size_t size);

/*
 * Loads the plans: the file of --plans FILE, else of HAPPYHORSE_PLANS, else
 * the contract's defaults. On failure err gets a one-line reason. On
 * success *out is owned by the caller (plans_free).
 */
hh_status cli_plans_load(const char *plans_flag, hh_plans **out, char *err, size_t errsize);

/* Logs which engine makes each plan's videos, in words (what a preview is, what is AI). */
void cli_log_plan_engines(const hh_plans *plans);

/*
 * Parses s as a whole base-10 integer in [lo, hi] (no sign tricks, no
 * spaces, no fraction, no exponent). Returns 1 and sets *out on success,
 * 0 otherwise.
 */
int cli_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out);

#endif
