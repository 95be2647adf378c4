/*
 * options.c - flag / environment / default resolution and strict number
 * parsing for the CLI, as declared in options.h.
 */
#include "cli/options.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "util/log.h"

const char *cli_opt(const char *flag, const char *env, const char *def)
{
    if (flag)
        return flag;
    const char *v = env ? getenv(env) : NULL;
    return v && *v ? v : def;
}

const char *cli_data_dir(const char *data_flag)
{
    return cli_opt(data_flag, "HAPPYHORSE_DATA", CLI_DEFAULT_DATA);
}

const char *cli_store_location(const char *data_flag)
{
    const char *url = getenv("HAPPYHORSE_DATABASE_URL");
    if (url && *url)
        return url;
    return cli_data_dir(data_flag);
}

/* Copies the variable env (or "") into out; 0 when it does not fit. */
static int copy_env(const char *env, char *out, size_t size)
{
    const char *v = cli_opt(NULL, env, "");
    return (size_t)snprintf(out, size, "%s", v) < size;
}

int cli_s3_config(blob_s3_config *out, char *err, size_t errsize)
{
    static const struct {
        const char *env;
        size_t off, size;
    } fields[] = {
#define FIELD(env, f) {env, offsetof(blob_s3_config, f), sizeof((blob_s3_config *)0)->f}
        FIELD("HAPPYHORSE_S3_ENDPOINT", endpoint),
        FIELD("HAPPYHORSE_S3_BUCKET", bucket),
        FIELD("HAPPYHORSE_S3_REGION", region),
        FIELD("HAPPYHORSE_S3_ACCESS_KEY_ID", access_key_id),
        FIELD("HAPPYHORSE_S3_SECRET_ACCESS_KEY", secret_access_key),
        FIELD("HAPPYHORSE_S3_PUBLIC_URL", public_url),
#undef FIELD
    };
    if (!cli_opt(NULL, "HAPPYHORSE_S3_ENDPOINT", NULL))
        return 0;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (!copy_env(fields[i].env, (char *)out + fields[i].off, fields[i].size)) {
            snprintf(err, errsize, "%s is too long", fields[i].env);
            return -1;
        }
    const char *path_style = cli_opt(NULL, "HAPPYHORSE_S3_FORCE_PATH_STYLE", "0");
    out->force_path_style = !strcmp(path_style, "1") || !strcmp(path_style, "true");
    if (!out->force_path_style && strcmp(path_style, "0") && strcmp(path_style, "false")) {
        snprintf(err, errsize, "HAPPYHORSE_S3_FORCE_PATH_STYLE must be 1 or 0");
        return -1;
    }
    return blob_s3_check_config(out, err, errsize) ? -1 : 1;
}

const char *cli_store_label(const char *location)
{
    if (location && strstr(location, "://"))
        return "HAPPYHORSE_DATABASE_URL";
    return location ? location : "";
}

int cli_blob_open(const char *data_flag, blob_store **out, char *err, size_t errsize)
{
    blob_s3_config s3;
    int use_s3 = cli_s3_config(&s3, err, errsize);
    if (use_s3 < 0)
        return -1;
    const char *data = cli_data_dir(data_flag);
    if (blob_open(data, use_s3 ? &s3 : NULL, out)) {
        snprintf(err, errsize, "cannot open object storage (%s)", use_s3 ? "S3" : data);
        return 1;
    }
    return 0;
}

void cli_public_url(const char *flag, char *out, size_t size)
{
    const char *url = cli_opt(flag, "HAPPYHORSE_PUBLIC_URL", NULL);
    if (url)
        snprintf(out, size, "%s", url);
    else
        snprintf(out, size, "http://%s", cli_opt(NULL, "HAPPYHORSE_LISTEN", CLI_DEFAULT_LISTEN));
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == '/') /* as serve's: "<base>/files/<key>", never "//files" */
        out[--n] = '\0';
}

hh_status cli_plans_load(const char *plans_flag, hh_plans **out, char *err, size_t errsize)
{
    const char *path = cli_opt(plans_flag, "HAPPYHORSE_PLANS", NULL);
    if (errsize)
        err[0] = '\0';
    if (!path) {
        hh_status rc = plans_default(out);
        if (rc)
            snprintf(err, errsize, "cannot build the default plans: %s", hh_status_str(rc));
        return rc;
    }
    hh_errdetail why = {"", ""};
    hh_status rc = plans_load_file(path, out, &why);
    if (!rc && (rc = engine_check_plans(*out, &why))) {
        plans_free(*out);
        *out = NULL;
    }
    if (rc)
        snprintf(err, errsize, "plans file %s: %s", path,
                 why.message[0] ? why.message : hh_status_str(rc));
    return rc;
}

void cli_log_plan_engines(const hh_plans *plans)
{
    for (size_t i = 0; i < plans->count; i++) {
        const char *label = engine_label_of(plans->plan[i].engine);
        hh_info("plan \"%s\": engine %s, %s", plans->plan[i].name, plans->plan[i].engine,
                label ? label : "unknown");
    }
}

int cli_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    if (!s || !*s)
        return 0;
    const char *p = s[0] == '-' ? s + 1 : s;
    for (; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    if (s[0] == '-' && !s[1])
        return 0;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return 0;
    *out = (int64_t)v;
    return 1;
}
