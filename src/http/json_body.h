/*
 * json_body.h - turning a request body into a JSON object, strictly:
 * length-bounded parse (the body is not NUL-terminated), duplicate keys
 * refused, nesting bounded before jansson sees the text (jansson's own
 * limit is 2048 levels, deep enough to hurt), and only an object at the
 * top. Pure; fuzzed.
 */
#ifndef HH_JSON_BODY_H
#define HH_JSON_BODY_H

#include <jansson.h>
#include <stddef.h>

#include "util/errdetail.h"
#include "util/status.h"

#define JSON_BODY_MAX_DEPTH 32

/*
 * Parses len bytes of body. On success *out is a new reference to an
 * object. On failure returns HH_ERR_INVALID (or HH_ERR_LIMIT for depth)
 * and puts a client-facing sentence in d->message (d->field is "").
 */
hh_status json_body_parse(const char *body, size_t len, json_t **out, hh_errdetail *d);

/* The nesting depth of JSON text (strings and escapes respected); stops counting past limit. */
int json_body_depth(const char *text, size_t len, int limit);

#endif
