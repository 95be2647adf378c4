/*
 * json_body.c - strict JSON bodies on top of jansson. The depth scan is
 * hand-written because jansson has no depth option: it counts brackets
 * outside strings in one pass, which is all a bound needs (the real
 * grammar check is jansson's).
 */
#include "http/json_body.h"

#include "util/utf8.h"

int json_body_depth(const char *text, size_t len, int limit)
{
    int depth = 0, max = 0, in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++; /* skip the escaped character, whatever it is */
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > max)
                max = depth;
            if (max > limit)
                return max;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return max;
}

hh_status json_body_parse(const char *body, size_t len, json_t **out, hh_errdetail *d)
{
    *out = NULL;
    hh_errdetail_clear(d);
    if (len == 0)
        return hh_errdetail_set(d, HH_ERR_INVALID, "",
                                "Request body is empty; expected a JSON object.");
    if (json_body_depth(body, len, JSON_BODY_MAX_DEPTH) > JSON_BODY_MAX_DEPTH)
        return hh_errdetail_set(d, HH_ERR_LIMIT, "", "JSON is nested deeper than %d levels.",
                                JSON_BODY_MAX_DEPTH);
    json_error_t err;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    /* jansson quotes the bytes it stopped at, which may be part of a character: keep the text. */
    if (!root)
        return hh_errdetail_set(
            d, HH_ERR_INVALID, "", "Request body is not valid JSON: %.*s (line %d, column %d).",
            (int)hh_utf8_prefix(err.text, sizeof err.text), err.text, err.line, err.column);
    if (!json_is_object(root)) {
        json_decref(root);
        return hh_errdetail_set(d, HH_ERR_INVALID, "", "Request body must be a JSON object.");
    }
    *out = root;
    return HH_OK;
}
