/*
 * fuzz_router.c - libFuzzer target: the first input byte picks a method,
 * the rest is a path matched against the server's real route table, then
 * the Range parser gets the same bytes. Must never crash or read past the
 * path, whatever its length or bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "http/range.h"
#include "http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *path = malloc(size);
    if (!path)
        return 0;
    memcpy(path, data + 1, size - 1);
    path[size - 1] = '\0';
    router_match m;
    http_method method = (http_method)(1u << (data[0] % 8)); /* 7 real methods and one unknown */
    if (router_match_path(api_routes(), method, path, &m) == HH_OK && !m.route)
        abort(); /* a match must name its route */
    char allow[96];
    router_allow_header(m.allowed, allow, sizeof allow);
    uint64_t first, last;
    if (range_parse(path, (uint64_t)data[0] * 1000, &first, &last) == RANGE_OK &&
        (first > last || last >= (uint64_t)data[0] * 1000))
        abort(); /* a satisfiable range lies inside the object */
    free(path);
    return 0;
}
