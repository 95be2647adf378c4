/*
 * templates.h - the prompt template library: curated prompts in every
 * language of the product (domain/i18n.h), grouped in categories, with
 * placeholders the customer fills in ("{product}") and the settings a
 * template suggests (style, camera motion, ...). The built-in library is
 * docs/templates.json, carried in the binary; an operator replaces it with
 * a file (--templates FILE / HAPPYHORSE_TEMPLATES), validated whole at
 * start-up. Served as JSON by GET /api/v1/templates and to the dashboard.
 *
 * A loaded library is immutable and may be shared by all threads.
 */
#ifndef HH_TEMPLATES_H
#define HH_TEMPLATES_H

#include <jansson.h>
#include <stddef.h>

#include "util/errdetail.h"
#include "util/status.h"

#define HH_TEMPLATES_MAX        500 /* templates in one library */
#define HH_TEMPLATE_CATS_MAX    32  /* categories in one library */
#define HH_TEMPLATE_SLOTS_MAX   8   /* placeholders in one template */
#define HH_TEMPLATE_ID_MAX      64  /* bytes of an id: [a-z0-9-] */
#define HH_TEMPLATE_TITLE_MAX   80  /* code points */
#define HH_TEMPLATE_LABEL_MAX   40  /* code points of a category or placeholder label */
#define HH_TEMPLATE_DEFAULT_MAX 200 /* code points of a placeholder's default */
#define HH_TEMPLATES_FILE_MAX   (4 << 20)

typedef struct hh_templates hh_templates;

/* The built-in library (docs/templates.json). Caller frees with templates_free. */
hh_status templates_default(hh_templates **out, hh_errdetail *d);

/*
 * Parses and validates a library from JSON text. Empties *d (may be NULL);
 * on HH_ERR_INVALID d->message names the template and the field, e.g.
 * `templates[3] "sunset-beach": prompt.en: placeholder {colour} is not
 * declared`. On success *out is the caller's (templates_free).
 */
hh_status templates_load_json(const char *text, size_t len, hh_templates **out, hh_errdetail *d);

/* Same from a file; a file that cannot be read is HH_ERR_IO with a reason. */
hh_status templates_load_file(const char *path, hh_templates **out, hh_errdetail *d);

void templates_free(hh_templates *t);

/* Number of templates in the library. */
size_t templates_count(const hh_templates *t);

/* 1 when the library has a category of this id. */
int templates_has_category(const hh_templates *t, const char *category);

/*
 * The library as the API serves it: {"categories": [...], "templates": [...]},
 * only the templates of category when it is not NULL. New reference, or
 * NULL on allocation failure.
 */
json_t *templates_to_json(const hh_templates *t, const char *category);

#endif
