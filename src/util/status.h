/*
 * status.h - the one error idiom of the code base.
 *
 * Every fallible function returns an hh_status: HH_OK (zero) on success or a
 * positive code saying what kind of failure it was. Callers test `if (rc)`
 * and jump to a single cleanup label. The HTTP layer maps these codes to the
 * contract's error envelope in one table (domain/api_error.c); nowhere else
 * turns an hh_status into a status line.
 */
#ifndef HH_STATUS_H
#define HH_STATUS_H

typedef enum hh_status {
    HH_OK = 0,
    HH_ERR_NOMEM,    /* allocation failed */
    HH_ERR_INVALID,  /* input failed validation (caller's fault) */
    HH_ERR_NOTFOUND, /* no such object, or not visible to this caller */
    HH_ERR_EXISTS,   /* unique constraint: the object already exists */
    HH_ERR_CONFLICT, /* state does not allow the operation (e.g. key reuse) */
    HH_ERR_LIMIT,    /* a size, depth, count or time limit was exceeded */
    HH_ERR_CREDITS,  /* balance too low for a charge */
    HH_ERR_IO,       /* file system or network I/O failed */
    HH_ERR_DB,       /* the database failed (not the caller's fault) */
    HH_ERR_BUSY,     /* transient contention; retrying may succeed */
    HH_ERR_CANCELED, /* the operation was asked to stop */
    HH_ERR_INTERNAL, /* a bug or an impossible state */
    HH_ERR_DENIED,   /* the caller is no longer allowed (a key deleted, an account suspended) */
} hh_status;

/* Returns a static, lower-case name for rc ("nomem", "invalid", ...). */
const char *hh_status_str(hh_status rc);

#endif
