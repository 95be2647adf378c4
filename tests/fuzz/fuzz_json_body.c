/*
 * fuzz_json_body.c - libFuzzer target: any bytes as a request body through
 * the strict JSON parser and, when it yields an object, through the
 * create-video validator and the presign validator, which read every field
 * a client controls. Must never crash, leak or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>

#include "domain/upload_policy.h"
#include "domain/video_request.h"
#include "http/json_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *obj = NULL;
    char msg[256], field[64];
    if (json_body_parse((const char *)data, size, &obj, msg, sizeof msg) != HH_OK)
        return 0;
    hh_video_request *vr = malloc(sizeof *vr);
    if (vr) {
        video_request_parse(obj, HH_VR_API, vr, field, sizeof field, msg, sizeof msg);
        video_request_parse(obj, HH_VR_JOB, vr, field, sizeof field, msg, sizeof msg);
        free(vr);
    }
    upload_request ur;
    api_error err;
    upload_request_parse(obj, &ur, &err, field, sizeof field, msg, sizeof msg);
    json_decref(obj);
    return 0;
}
