/*
 * fuzz_json_body.c - libFuzzer target: any bytes as a request body through
 * the strict JSON parser and, when it yields an object, through the
 * create-video validator and the presign validator, which read every field
 * a client controls. Must never crash, leak or read out of bounds, and
 * every refusal must go out as the contract's 400: its error envelope,
 * built by the server's own http_error_body with the detail's field and
 * message, must encode (a detail cut inside a character would make the
 * encoder refuse it, and the answer a 500).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/upload_policy.h"
#include "domain/video_request.h"
#include "http/http.h"
#include "http/json_body.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the run when a detail could not go out as a 4xx: the reply would be the fallback 500. */
static void check_detail(const hh_errdetail *d)
{
    if (hh_utf8_count(d->field, strlen(d->field)) < 0 ||
        hh_utf8_count(d->message, strlen(d->message)) < 0)
        abort();
    json_t *extra = d->field[0] ? json_pack("{s:s}", "field", d->field) : NULL;
    if (d->field[0] && !extra)
        abort();
    json_t *body = http_error_body(API_ERR_INVALID_INPUT, d->message, extra);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        abort(); /* status 500: client input must never get here */
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *obj = NULL;
    hh_errdetail d;
    hh_status rc = json_body_parse((const char *)data, size, &obj, &d);
    check_detail(&d);
    if (rc != HH_OK)
        return 0;
    hh_video_request *vr = malloc(sizeof *vr);
    if (vr) {
        video_request_parse(obj, HH_VR_API, vr, &d);
        check_detail(&d);
        video_request_parse(obj, HH_VR_JOB, vr, &d);
        check_detail(&d);
        free(vr);
    }
    upload_request ur;
    api_error err;
    upload_request_parse(obj, &ur, &err, &d);
    check_detail(&d);
    json_decref(obj);
    return 0;
}
