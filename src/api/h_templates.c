/*
 * h_templates.c - GET /api/v1/templates (and the dashboard's
 * /api/dashboard/templates, the same handler): the prompt template library
 * (domain/templates.h) in both languages, optionally one category of it
 * (?category=food). An unknown category is invalid_input naming it.
 */
#include "api/app.h"
#include "api/routes.h"

void h_templates_list(http_req *req, void *app_)
{
    hh_app *app = app_;
    const char *category = http_req_query(req, "category");
    if (category && !templates_has_category(app->templates, category)) {
        http_reply_error(req, API_ERR_INVALID_INPUT,
                         "category must be the id of one of the library's categories.",
                         json_pack("{s:s}", "field", "category"));
        return;
    }
    json_t *body = templates_to_json(app->templates, category);
    if (!body) {
        http_reply_error(req, API_ERR_INTERNAL_ERROR, "Out of memory.", NULL);
        return;
    }
    http_reply_json(req, 200, body);
}
