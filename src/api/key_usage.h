/*
 * key_usage.h - batches API keys' last-used times so that authenticating a
 * request never writes to the database. Requests record (key id, time) in
 * memory; a background thread flushes the latest time of each key to the
 * store every few seconds in one transaction, and once more at shutdown.
 * A crash loses at most one interval of last-used precision, never a key.
 */
#ifndef HH_KEY_USAGE_H
#define HH_KEY_USAGE_H

#include <stdint.h>

#include "store/store.h"
#include "util/status.h"

typedef struct key_usage key_usage;

/* Starts the flusher (interval_ms between flushes). The store is borrowed. */
hh_status key_usage_new(hh_store *st, int interval_ms, key_usage **out);
/* Records a use; cheap, never blocks on I/O. */
void key_usage_record(key_usage *ku, const char *key_id, int64_t used_at_ms);
/* Writes what is pending now (also called by the flusher and at free). */
hh_status key_usage_flush(key_usage *ku);
/* Stops the flusher, flushes, frees. NULL-safe. */
void key_usage_free(key_usage *ku);

#endif
