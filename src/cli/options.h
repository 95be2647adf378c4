/*
 * options.h - how every command resolves a setting: the flag if given,
 * else the HAPPYHORSE_* environment variable, else the default.
 */
#ifndef HH_OPTIONS_H
#define HH_OPTIONS_H

/* flag if non-NULL, else getenv(env) if set and non-empty, else dflt. Borrowed. */
const char *options_str(const char *flag, const char *env, const char *dflt);

/*
 * Same for a whole number in [lo, hi]; *out gets dflt when neither is given.
 * Returns 0, or -1 when the given text is not a whole number in range.
 */
int options_long(const char *flag, const char *env, long dflt, long lo, long hi, long *out);

/* HAPPYHORSE_DATABASE_URL when set, else the data directory. Borrowed. */
const char *options_store_location(const char *data_dir);

#endif
