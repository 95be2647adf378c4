/*
 * store_json.c - JSON views of store records (see store_json.h).
 */
#include "store/store_json.h"
#include "util/timeutil.h"

json_t *store_time_json(int64_t ms)
{
    char buf[32];
    return ms ? json_string(hh_time_iso8601(ms, buf, sizeof buf)) : json_null();
}

json_t *store_user_json(const hh_user *u)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:b, s:o, s:b}", "id", u->id, "email", u->email, "plan",
                     u->plan, "credits", (json_int_t)u->credits, "apiAccess", u->api_access,
                     "createdAt", store_time_json(u->created_at), "disabled", u->disabled);
}

json_t *store_key_json(const hh_api_key *k)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", k->id, "name", k->name, "prefix", k->prefix,
                     "createdAt", store_time_json(k->created_at), "lastUsedAt",
                     store_time_json(k->last_used_at));
}

json_t *store_ledger_entry_json(const hh_ledger_entry *e)
{
    return json_pack("{s:I, s:s, s:I, s:I, s:s?, s:s?, s:o}", "id", (json_int_t)e->id, "kind",
                     hh_ledger_kind_str(e->kind), "amount", (json_int_t)e->amount, "balanceAfter",
                     (json_int_t)e->balance_after, "ref", e->ref[0] ? e->ref : NULL, "note",
                     e->note[0] ? e->note : NULL, "createdAt", store_time_json(e->created_at));
}
