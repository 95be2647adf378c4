/*
 * timeutil.h - wall-clock and monotonic time, and the one timestamp format
 * of the API (ISO-8601 UTC with milliseconds: 2026-04-26T12:30:00.000Z).
 */
#ifndef HH_TIMEUTIL_H
#define HH_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t hh_time_now_ms(void);

/* Milliseconds from an arbitrary origin that never goes back (CLOCK_MONOTONIC). */
int64_t hh_time_mono_ms(void);

/* Microseconds, monotonic; for durations. */
int64_t hh_time_mono_us(void);

/*
 * The absolute time ms milliseconds from now on clock (CLOCK_REALTIME or
 * CLOCK_MONOTONIC), normalised: the deadline pthread_cond_timedwait wants
 * (on a condition variable made with that clock).
 */
struct timespec hh_deadline_after_ms(clockid_t clock, int64_t ms);

/*
 * Formats ms since the epoch as ISO-8601 UTC with milliseconds into buf,
 * which needs 25 bytes. Returns buf.
 */
char *hh_time_iso8601(int64_t ms, char *buf, size_t size);

#endif
