/*
 * api_error.c - the single table from error codes to wire names and HTTP
 * statuses (contract section 6). Nothing else in the tree spells a status
 * code for an error.
 */
#include "domain/api_error.h"

static const struct {
    const char *code;
    unsigned http;
} table[API_ERR_COUNT] = {
    [API_ERR_MISSING_API_KEY] = {"missing_api_key", 401},
    [API_ERR_INVALID_API_KEY] = {"invalid_api_key", 401},
    [API_ERR_RATE_LIMITED] = {"rate_limited", 429},
    [API_ERR_INVALID_INPUT] = {"invalid_input", 400},
    [API_ERR_INSUFFICIENT_CREDITS] = {"insufficient_credits", 402},
    [API_ERR_PLAN_GATE_EXCEEDED] = {"plan_gate_exceeded", 403},
    [API_ERR_UPLOAD_FILE_TOO_LARGE] = {"upload_file_too_large", 413},
    [API_ERR_UPLOAD_TYPE_NOT_SUPPORTED] = {"upload_type_not_supported", 400},
    [API_ERR_NOT_FOUND] = {"not_found", 404},
    [API_ERR_INTERNAL_ERROR] = {"internal_error", 500},
    [API_ERR_UNAVAILABLE] = {"service_unavailable", 503},
    [API_ERR_CONFLICT] = {"conflict", 409},
    [API_ERR_UNAUTHENTICATED] = {"unauthenticated", 401},
    [API_ERR_FORBIDDEN] = {"forbidden", 403},
};

const char *api_error_code(api_error e)
{
    return (unsigned)e < API_ERR_COUNT ? table[e].code : "internal_error";
}

unsigned api_error_http_status(api_error e)
{
    return (unsigned)e < API_ERR_COUNT ? table[e].http : 500;
}

api_error api_error_from_status(hh_status rc)
{
    switch (rc) {
    case HH_ERR_INVALID:
    case HH_ERR_LIMIT:
    case HH_ERR_CONFLICT:
    case HH_ERR_EXISTS:
        return API_ERR_INVALID_INPUT;
    case HH_ERR_NOTFOUND:
        return API_ERR_NOT_FOUND;
    case HH_ERR_CREDITS:
        return API_ERR_INSUFFICIENT_CREDITS;
    case HH_ERR_BUSY:
        return API_ERR_UNAVAILABLE;
    default:
        return API_ERR_INTERNAL_ERROR;
    }
}
