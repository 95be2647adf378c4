/*
 * utf8.h - the one UTF-8 decoder of the tree: how much of a byte string is
 * valid text, how many code points it holds, and where to cut it so that
 * what is kept is still valid text (a cut inside a character, or a stray
 * byte, makes a string the JSON encoder refuses).
 *
 * Valid means: well-formed sequences of 1 to 4 bytes, no NUL, no overlong
 * forms, no UTF-16 surrogates, nothing past U+10FFFF.
 */
#ifndef HH_UTF8_H
#define HH_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * The length in bytes of the longest prefix of the len bytes at s that is
 * valid UTF-8; *count (may be NULL) gets the code points in that prefix.
 */
size_t hh_utf8_valid_len(const char *s, size_t len, long *count);

/* The code points of the len bytes at s, or -1 when they are not all valid UTF-8. */
long hh_utf8_count(const char *s, size_t len);

/*
 * The length in bytes of the longest valid-UTF-8 prefix of s that is at
 * most max bytes long: it never ends inside a character, and stops before
 * any byte that is not text. s is read up to its NUL or max bytes. Use it
 * as the precision to echo a string with "%.*s".
 */
size_t hh_utf8_prefix(const char *s, size_t max);

/*
 * Decodes the character at s (len bytes there): its length in bytes, with
 * *cp its code point; 0 when no valid character starts there (or len is 0).
 */
size_t hh_utf8_next(const char *s, size_t len, uint32_t *cp);

/* Encodes cp into out: its length (1-4), or 0 for a surrogate or past U+10FFFF. */
size_t hh_utf8_put(uint32_t cp, char out[4]);

/*
 * Copies the len bytes at src into dst (size bytes, size > 0) as valid
 * UTF-8 text: valid characters as they are, every other byte (a stray
 * byte, a cut character, a NUL) as the four characters \xNN. Stops before
 * a character or an escape that would not fit, so a cut never splits
 * one; dst is always NUL-terminated. Returns the bytes written (no NUL).
 * For logs: a client's bytes stay readable and the line stays valid JSON.
 */
size_t hh_utf8_escape(char *dst, size_t size, const char *src, size_t len);

#endif
