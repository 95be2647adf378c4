/*
 * api_error.h - the contract's error codes (spec section 6) and the one
 * table that maps them to HTTP statuses and wire names, and internal
 * hh_status codes to them.
 */
#ifndef HH_API_ERROR_H
#define HH_API_ERROR_H

#include "util/status.h"

typedef enum api_error {
    API_ERR_MISSING_API_KEY,
    API_ERR_INVALID_API_KEY,
    API_ERR_RATE_LIMITED,
    API_ERR_INVALID_INPUT,
    API_ERR_INSUFFICIENT_CREDITS,
    API_ERR_PLAN_GATE_EXCEEDED,
    API_ERR_UPLOAD_FILE_TOO_LARGE,
    API_ERR_UPLOAD_TYPE_NOT_SUPPORTED,
    API_ERR_NOT_FOUND,
    API_ERR_INTERNAL_ERROR,
    API_ERR_UNAVAILABLE, /* 503: the store is locked or the server saturated; Retry-After */
    API_ERR_CONFLICT,    /* 409: the video's status does not allow this (cancel, delete) */
    /* Dashboard-only codes (not part of the customer contract). */
    API_ERR_UNAUTHENTICATED,
    API_ERR_FORBIDDEN,
    API_ERR_COUNT
} api_error;

/* The wire name, e.g. "invalid_input". */
const char *api_error_code(api_error e);
/* The HTTP status, e.g. 400. */
unsigned api_error_http_status(api_error e);
/* The error an internal failure becomes when it reaches a client. */
api_error api_error_from_status(hh_status rc);

#endif
