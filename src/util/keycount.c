/*
 * keycount.c - a chained hash table of counts under one mutex. Keys come
 * from clients (addresses), so the hash starts from a random basis chosen
 * at creation: a client cannot pick keys that all fall into one chain.
 */
#include "util/keycount.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"
#include "util/hash.h"

#define NCHAINS 1024

typedef struct entry {
    struct entry *next;
    long count;
    char key[];
} entry;

struct keycount {
    pthread_mutex_t mu;
    uint64_t basis;
    entry *chains[NCHAINS];
};

keycount *keycount_new(void)
{
    keycount *kc = calloc(1, sizeof *kc);
    if (!kc)
        return NULL;
    if (crypto_random(&kc->basis, sizeof kc->basis))
        kc->basis = HH_FNV1A_INIT;
    pthread_mutex_init(&kc->mu, NULL);
    return kc;
}

void keycount_free(keycount *kc)
{
    if (!kc)
        return;
    for (size_t i = 0; i < NCHAINS; i++)
        while (kc->chains[i]) {
            entry *e = kc->chains[i];
            kc->chains[i] = e->next;
            free(e);
        }
    pthread_mutex_destroy(&kc->mu);
    free(kc);
}

/* The link that points at key's entry (or at the NULL ending its chain). Lock held. */
static entry **find(keycount *kc, const char *key)
{
    entry **pp = &kc->chains[hh_fnv1a(kc->basis, key) % NCHAINS];
    while (*pp && strcmp((*pp)->key, key))
        pp = &(*pp)->next;
    return pp;
}

int keycount_take(keycount *kc, const char *key, long max)
{
    int rc = 1;
    pthread_mutex_lock(&kc->mu);
    entry **pp = find(kc, key);
    if (*pp && (*pp)->count >= max) {
        rc = 0;
    } else if (*pp) {
        (*pp)->count++;
    } else if (max < 1) {
        rc = 0;
    } else {
        size_t n = strlen(key);
        entry *e = malloc(sizeof *e + n + 1);
        if (e) {
            memcpy(e->key, key, n + 1);
            e->count = 1;
            e->next = NULL;
            *pp = e;
        }
        rc = e ? 1 : -1;
    }
    pthread_mutex_unlock(&kc->mu);
    return rc;
}

void keycount_release(keycount *kc, const char *key)
{
    pthread_mutex_lock(&kc->mu);
    entry **pp = find(kc, key);
    entry *e = *pp;
    if (e && --e->count <= 0) {
        *pp = e->next;
        free(e);
    }
    pthread_mutex_unlock(&kc->mu);
}

long keycount_get(keycount *kc, const char *key)
{
    pthread_mutex_lock(&kc->mu);
    entry *e = *find(kc, key);
    long n = e ? e->count : 0;
    pthread_mutex_unlock(&kc->mu);
    return n;
}
