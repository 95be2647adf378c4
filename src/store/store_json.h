/*
 * store_json.h - the one JSON shape of each store record that clients see
 * (users, API keys, ledger entries), shared by the admin CLI and the
 * dashboard API so the two can never drift apart. Times are ISO-8601 UTC
 * with milliseconds; a time of 0 ("never") is JSON null.
 */
#ifndef HH_STORE_JSON_H
#define HH_STORE_JSON_H

#include <jansson.h>

#include "store/store.h"

/* A time (ms since the epoch) as ISO-8601 text, or null for 0. New reference. */
json_t *store_time_json(int64_t ms);
/* {"id","email","plan","credits","apiAccess","createdAt"}. New reference. */
json_t *store_user_json(const hh_user *u);
/* {"id","name","prefix","createdAt","lastUsedAt"}. New reference. */
json_t *store_key_json(const hh_api_key *k);
/* {"id","kind","amount","balanceAfter","ref","note","createdAt"}. New reference. */
json_t *store_ledger_entry_json(const hh_ledger_entry *e);

#endif
