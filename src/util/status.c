/*
 * status.c - names of hh_status codes, for logs and test messages.
 */
#include "util/status.h"

const char *hh_status_str(hh_status rc)
{
    switch (rc) {
    case HH_OK:
        return "ok";
    case HH_ERR_NOMEM:
        return "nomem";
    case HH_ERR_INVALID:
        return "invalid";
    case HH_ERR_NOTFOUND:
        return "notfound";
    case HH_ERR_EXISTS:
        return "exists";
    case HH_ERR_CONFLICT:
        return "conflict";
    case HH_ERR_LIMIT:
        return "limit";
    case HH_ERR_CREDITS:
        return "credits";
    case HH_ERR_IO:
        return "io";
    case HH_ERR_DB:
        return "db";
    case HH_ERR_BUSY:
        return "busy";
    case HH_ERR_CANCELED:
        return "canceled";
    case HH_ERR_INTERNAL:
        return "internal";
    case HH_ERR_DENIED:
        return "denied";
    }
    return "unknown";
}
