/*
 * uuid.c - UUIDv7 generation and validation, as declared in uuid.h.
 *
 * The 74 random bits are kept as rand_a (12 bits, after the version
 * nibble) and rand_b (62 bits, after the variant). The last id issued is
 * remembered under a mutex; a new id in the same (or an earlier)
 * millisecond reuses that millisecond and adds a random step of 1..2^32 to
 * the 74-bit field, carrying into the timestamp in the practically
 * impossible case that the field overflows.
 */
#include "util/uuid.h"
#include "util/crypto.h"
#include "util/timeutil.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define RAND_B_BITS 62
#define RAND_B_MOD  ((uint64_t)1 << RAND_B_BITS)

static pthread_mutex_t uuid_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t last_ms = -1;
static uint64_t last_a, last_b;

static uint64_t load_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void format(int64_t ms, uint64_t a, uint64_t b, char out[UUID_STR_LEN])
{
    uint8_t u[16];
    for (int i = 0; i < 6; i++)
        u[i] = (uint8_t)((uint64_t)ms >> (40 - 8 * i));
    u[6] = (uint8_t)(0x70 | (a >> 8 & 0x0f));
    u[7] = (uint8_t)(a & 0xff);
    u[8] = (uint8_t)(0x80 | (b >> 56 & 0x3f));
    for (int i = 9; i < 16; i++)
        u[i] = (uint8_t)(b >> (8 * (15 - i)));
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[u[i] >> 4];
        out[o++] = hex[u[i] & 0x0f];
    }
    out[o] = '\0';
}

hh_status uuid_v7(char out[UUID_STR_LEN])
{
    uint8_t rnd[16];
    out[0] = '\0';
    if (crypto_random(rnd, sizeof rnd))
        return HH_ERR_INTERNAL;
    uint64_t fresh_a = load_u64(rnd) & 0x0fff;
    uint64_t fresh_b = load_u64(rnd + 8) & (RAND_B_MOD - 1);
    uint64_t step = (load_u64(rnd + 8) >> RAND_B_BITS) + 1 + (load_u64(rnd) >> 32);

    int64_t now = hh_time_now_ms();
    int64_t ms;
    uint64_t a, b;
    pthread_mutex_lock(&uuid_lock);
    if (now > last_ms) {
        ms = now;
        a = fresh_a;
        b = fresh_b;
    } else {
        ms = last_ms;
        a = last_a;
        b = last_b + step;
        if (b >= RAND_B_MOD) {
            b -= RAND_B_MOD;
            if (++a > 0x0fff) {
                ms++;
                a = fresh_a;
                b = fresh_b;
            }
        }
    }
    last_ms = ms;
    last_a = a;
    last_b = b;
    pthread_mutex_unlock(&uuid_lock);
    format(ms, a, b, out);
    return HH_OK;
}

int uuid_is_valid(const char *s)
{
    if (!s)
        return 0;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return 0; /* also stops at a NUL before position 36 */
        }
    }
    return s[36] == '\0';
}

int64_t uuid_v7_time_ms(const char *s)
{
    int64_t ms = 0;
    for (int i = 0; i < 13; i++) {
        if (s[i] == '-')
            continue;
        char c = s[i];
        ms = ms << 4 | (c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return ms;
}
