/*
 * engine_config.c - the readers of engine settings: each checks its key's
 * type and range and says what is wrong in one line, so every engine's
 * configure is a list of reads.
 */
#include "engine/engine_int.h"

#include <stdio.h>
#include <string.h>

hh_status engine_cfg_int(const json_t *config, const char *key, long lo, long hi, int *out,
                         hh_errdetail *d)
{
    const json_t *v = json_object_get(config, key);
    if (!v)
        return HH_OK;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        return hh_errdetail_set(d, HH_ERR_INVALID, "",
                                "engine config: %s must be an integer %ld..%ld", key, lo, hi);
    }
    *out = (int)json_integer_value(v);
    return HH_OK;
}

hh_status engine_cfg_int_list(const json_t *config, const char *key, int lo, int hi, int *out,
                              size_t max, size_t *n, hh_errdetail *d)
{
    const json_t *v = json_object_get(config, key);
    if (!v)
        return HH_OK;
    size_t count = json_array_size(v);
    for (size_t i = 0; json_is_array(v) && i < count && i < max; i++) {
        const json_t *x = json_array_get(v, i);
        if (!json_is_integer(x) || json_integer_value(x) < lo || json_integer_value(x) > hi)
            count = 0;
        else
            out[i] = (int)json_integer_value(x);
    }
    if (!json_is_array(v) || count < 1 || count > max) {
        return hh_errdetail_set(d, HH_ERR_INVALID, "",
                                "engine config: %s must be an array of 1..%zu integers %d..%d", key,
                                max, lo, hi);
    }
    *n = count;
    return HH_OK;
}

hh_status engine_cfg_string(const json_t *config, const char *key, int required, char *out,
                            size_t size, hh_errdetail *d)
{
    const json_t *v = json_object_get(config, key);
    if (!v && !required)
        return HH_OK;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= size ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        return hh_errdetail_set(d, HH_ERR_INVALID, "",
                                "engine config: \"%s\" must be a string of 1..%zu bytes", key,
                                size - 1);
    }
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return HH_OK;
}

hh_status engine_cfg_number(const json_t *config, const char *key, double lo, double hi,
                            double *out, hh_errdetail *d)
{
    const json_t *v = json_object_get(config, key);
    if (!v)
        return HH_OK;
    if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi) {
        return hh_errdetail_set(d, HH_ERR_INVALID, "",
                                "engine config: \"%s\" must be a number %g..%g", key, lo, hi);
    }
    *out = json_number_value(v);
    return HH_OK;
}
