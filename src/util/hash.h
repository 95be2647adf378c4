/*
 * hash.h - FNV-1a, the one non-cryptographic string hash of the program:
 * hash-table buckets, and seeds that must stay the same for the same text
 * (a retried job renders the same video). Not for anything an attacker
 * could exploit by choosing collisions; keys it buckets are random ids.
 */
#ifndef HH_HASH_H
#define HH_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HH_FNV1A_INIT 0xCBF29CE484222325ULL /* the 64-bit offset basis */

/* Folds the bytes of the NUL-terminated s into h (start from HH_FNV1A_INIT). */
static inline uint64_t hh_fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001B3ULL;
    return h;
}

/* Folds n bytes at p into h. */
static inline uint64_t hh_fnv1a_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001B3ULL;
    return h;
}

#endif
