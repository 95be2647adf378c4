/*
 * log.h - structured logging as JSON lines on stderr.
 *
 * One line per event: {"ts":"...","level":"info","msg":"...", ...fields}.
 * Safe to call from any thread; each line is written with a single write(2)
 * so lines from different threads never interleave. Never pass a secret
 * (API key, password, session token) to these functions.
 */
#ifndef HH_LOG_H
#define HH_LOG_H

#include <jansson.h>

typedef enum hh_log_level {
    HH_LOG_DEBUG,
    HH_LOG_INFO,
    HH_LOG_WARN,
    HH_LOG_ERROR,
} hh_log_level;

/* Sets the minimum level written (default HH_LOG_INFO). */
void hh_log_set_level(hh_log_level level);

/* Writes one line with msg formatted printf-style. */
void hh_log(hh_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Writes one line with msg and the members of fields merged in. Takes
 * ownership of fields (a JSON object, may be NULL) and decrefs it.
 */
void hh_log_fields(hh_log_level level, const char *msg, json_t *fields);

/*
 * A JSON string of any bytes for a log field (new reference, NULL only
 * when out of memory): invalid UTF-8 is escaped as \xNN (util/utf8.h) and
 * the text is cut at HH_LOG_TEXT_MAX bytes on a character boundary, so a
 * client's bytes (a path, a key) never make the encoder drop the line.
 */
#define HH_LOG_TEXT_MAX 4096
json_t *hh_log_text(const char *s);

/* Whether a line of this level would be written (to skip building one that would not). */
int hh_log_enabled(hh_log_level level);

/* Writes one finished line (a JSON object and its newline) with one write(2). */
void hh_log_write_line(const char *line, size_t len);

#define hh_info(...)  hh_log(HH_LOG_INFO, __VA_ARGS__)
#define hh_warn(...)  hh_log(HH_LOG_WARN, __VA_ARGS__)
#define hh_error(...) hh_log(HH_LOG_ERROR, __VA_ARGS__)

#endif
