/*
 * keycount.h - counts per string key in memory, thread-safe: how many
 * connections one client address holds, which uploads have a body in
 * flight. A key whose count falls to zero is forgotten, so memory follows
 * what is live, not what was ever seen.
 */
#ifndef HH_KEYCOUNT_H
#define HH_KEYCOUNT_H

typedef struct keycount keycount;

/* A new, empty table; NULL when out of memory. Free with keycount_free. */
keycount *keycount_new(void);
void keycount_free(keycount *kc);

/*
 * Adds 1 to key's count unless it is already max or more. Returns 1 when
 * it was added, 0 when the count is at max, -1 when out of memory. A
 * check and an increment in one step: two threads cannot both take the
 * last place.
 */
int keycount_take(keycount *kc, const char *key, long max);

/* Subtracts 1 from key's count (forgetting it at 0). A key not counted is left alone. */
void keycount_release(keycount *kc, const char *key);

/* The count of key (0 when not counted). */
long keycount_get(keycount *kc, const char *key);

#endif
