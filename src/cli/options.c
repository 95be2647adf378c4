/*
 * options.c - flag → environment → default resolution shared by commands.
 */
#include "cli/options.h"

#include <errno.h>
#include <stdlib.h>

const char *options_str(const char *flag, const char *env, const char *dflt)
{
    if (flag)
        return flag;
    const char *v = env ? getenv(env) : NULL;
    return v && *v ? v : dflt;
}

int options_long(const char *flag, const char *env, long dflt, long lo, long hi, long *out)
{
    const char *text = options_str(flag, env, NULL);
    if (!text) {
        *out = dflt;
        return 0;
    }
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

const char *options_store_location(const char *data_dir)
{
    return options_str(NULL, "HAPPYHORSE_DATABASE_URL", data_dir);
}
