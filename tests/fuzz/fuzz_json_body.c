/*
 * fuzz_json_body.c - libFuzzer target: any bytes as a request body through
 * the strict JSON parser and, when it yields an object, through the
 * create-video validator and the presign validator, which read every field
 * a client controls. Must never crash, leak or read out of bounds, and
 * every error detail must be valid UTF-8 (the reply's JSON has to carry
 * it: a detail cut inside a character would turn a 400 into a 500).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/upload_policy.h"
#include "domain/video_request.h"
#include "http/json_body.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the run when a detail could not go out in a JSON reply. */
static void check_detail(const hh_errdetail *d)
{
    if (hh_utf8_count(d->field, strlen(d->field)) < 0 ||
        hh_utf8_count(d->message, strlen(d->message)) < 0)
        abort();
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
