/*
 * sniff.h - does a body start like the content type it claims? Magic-byte
 * checks for every upload type of the contract, so a PNG declared as JPEG,
 * or a script declared as MP4, never becomes an object.
 */
#ifndef HH_SNIFF_H
#define HH_SNIFF_H

#include <stddef.h>

#define SNIFF_NEED 12 /* bytes that decide every type */

typedef enum sniff_result { SNIFF_MATCH, SNIFF_MISMATCH, SNIFF_NEED_MORE } sniff_result;

/*
 * Checks the first len bytes of a body against content_type. NEED_MORE
 * while fewer than SNIFF_NEED bytes are given and the body may be longer
 * (complete: 0); with complete set, a short body is judged as it is.
 */
sniff_result sniff_check(const char *content_type, const unsigned char *head, size_t len,
                         int complete);

#endif
