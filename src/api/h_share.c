/*
 * h_share.c - publishing a ready video to a public share page (contract
 * section 8, an addition):
 *   POST   /api/v1/videos/{id}/publish  body optional {"showPrompt": bool}
 *                                       -> 200 {"shareUrl", "showPrompt"}
 *   DELETE /api/v1/videos/{id}/publish  -> 204; the page is gone
 *   GET    /v/{slug}                    the page: the player, the prompt
 *                                       only if the owner chose, Open Graph
 *                                       and Twitter player tags
 * The dashboard points its session routes at the same two handlers. A
 * slug is 128 random bits in base64url, so a page cannot be found by
 * guessing; a plan without "publish" answers plan_gate_exceeded with field
 * "publish". Nothing of the account (email, plan, credits, other videos)
 * is on the page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dashboard.h"
#include "domain/markdown.h"
#include "domain/video_request.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/uuid.h"

#define SLUG_BYTES 16 /* 128 bits */

static void reply_no_video(http_req *req)
{
    http_reply_error(req, API_ERR_NOT_FOUND, "No such video.", NULL);
}

/* The share URL of slug into out. */
static void share_url(const hh_app *app, const char *slug, char *out, size_t size)
{
    snprintf(out, size, "%s/v/%s", app->public_url, slug);
}

/* Reads the optional body {"showPrompt": bool} into *show; replies and returns 1 when bad. */
static int read_show_prompt(http_req *req, int *show)
{
    size_t len = 0;
    http_req_body(req, &len);
    *show = 0;
    if (len == 0)
        return 0;
    json_t *body = http_req_json(req);
    if (!body)
        return 1;
    const char *key;
    json_t *val;
    json_object_foreach(body, key, val)
    {
        if (strcmp(key, "showPrompt")) {
            char msg[160];
            snprintf(msg, sizeof msg, "Unknown field \"%.60s\".", key);
            http_reply_error(req, API_ERR_INVALID_INPUT, msg, json_pack("{s:s}", "field", key));
            return 1;
        }
        if (!json_is_boolean(val)) {
            http_reply_error(req, API_ERR_INVALID_INPUT, "showPrompt must be true or false.",
                             json_pack("{s:s}", "field", "showPrompt"));
            return 1;
        }
        *show = json_is_true(val);
    }
    return 0;
}

/* plan_gate_exceeded for a plan that may not publish; 1 after replying. */
static int check_plan(hh_app *app, http_req *req, const hh_plan *plan)
{
    if (plan->publish)
        return 0;
    const hh_plan *req_plan = plans_cheapest_publishing(app->plans);
    char msg[160];
    snprintf(msg, sizeof msg, "The %s plan does not allow publishing.", plan->name);
    http_reply_error(req, API_ERR_PLAN_GATE_EXCEEDED, msg,
                     json_pack("{s:s, s:s?, s:s}", "field", HH_PLAN_PUBLISH_FIELD, "requiredPlan",
                               req_plan ? req_plan->name : NULL, "currentPlan", plan->name));
    return 1;
}

/* Publishes under a fresh slug (or the one it has); the store says which. */
static hh_status publish(hh_app *app, const char *id, const char *user_id, int show, hh_share *out)
{
    uint8_t raw[SLUG_BYTES];
    char slug[STORE_SLUG_MAX];
    hh_status rc = crypto_random(raw, sizeof raw);
    if (!rc)
        rc = crypto_b64url_encode(raw, sizeof raw, slug, sizeof slug);
    if (!rc)
        rc = store_share_publish(app->store, id, user_id, slug, show, hh_time_now_ms(), out);
    return rc;
}

void h_videos_publish(http_req *req, void *app_)
{
    hh_app *app = app_;
    const api_principal *p = api_principal_of(req);
    const char *id = http_req_param(req, "id");
    int show;
    if (!uuid_is_valid(id)) {
        reply_no_video(req);
        return;
    }
    if (read_show_prompt(req, &show) || check_plan(app, req, p->plan))
        return;
    hh_share sh;
    hh_status rc = publish(app, id, p->user.id, show, &sh);
    if (rc == HH_ERR_NOTFOUND) {
        reply_no_video(req);
        return;
    }
    if (rc == HH_ERR_CONFLICT) {
        http_reply_error(req, API_ERR_INVALID_INPUT, "Only a ready video can be published.",
                         json_pack("{s:s}", "field", "id"));
        return;
    }
    if (rc) {
        hh_error("publish %s: %s", id, hh_status_str(rc));
        http_reply_error(req, API_ERR_INTERNAL_ERROR, "Could not publish the video.", NULL);
        return;
    }
    char url[512];
    share_url(app, sh.slug, url, sizeof url);
    http_reply_json(req, 200,
                    json_pack("{s:s, s:b}", "shareUrl", url, "showPrompt", sh.show_prompt));
}

void h_videos_unpublish(http_req *req, void *app_)
{
    hh_app *app = app_;
    const api_principal *p = api_principal_of(req);
    const char *id = http_req_param(req, "id");
    hh_status rc =
        uuid_is_valid(id) ? store_share_unpublish(app->store, id, p->user.id) : HH_ERR_NOTFOUND;
    if (rc == HH_ERR_NOTFOUND) {
        reply_no_video(req);
        return;
    }
    if (rc) {
        http_reply_error(req, API_ERR_INTERNAL_ERROR, "Could not unpublish the video.", NULL);
        return;
    }
    http_reply_bytes(req, 204, NULL, NULL, 0);
}

/* The frame size of a stored video's resolution and aspect names (0 x 0 when unknown). */
static void frame_size(const hh_video *v, int *w, int *h)
{
    *w = *h = 0;
    for (int r = 0; r < HH_RES_COUNT; r++)
        for (int a = 0; a < HH_ASPECT_COUNT; a++)
            if (!strcmp(v->resolution, video_resolution_name((hh_resolution)r)) &&
                !strcmp(v->aspect_ratio, video_aspect_name((hh_aspect)a)))
                video_frame_size((hh_resolution)r, (hh_aspect)a, w, h);
}

/* <meta property|name="key" content="value">, the value escaped. */
static void meta(FILE *f, const char *attr, const char *key, const char *value)
{
    fprintf(f, "<meta %s=\"%s\" content=\"", attr, key);
    md_html_escape(f, value);
    fputs("\">\n", f);
}

typedef struct page_in {
    const hh_video *v;
    const hh_share *sh;
    const char *url, *video, *thumb;
    hh_lang lang;
} page_in;

static void page_head(hh_app *app, FILE *f, const page_in *in)
{
    const char *title = docs_site_text(app->docs, in->lang, "share.title");
    const char *desc = in->sh->show_prompt ? in->v->prompt : title;
    char w[16], h[16];
    int fw, fh;
    frame_size(in->v, &fw, &fh);
    snprintf(w, sizeof w, "%d", fw);
    snprintf(h, sizeof h, "%d", fh);
    fprintf(f, "<!doctype html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n",
            i18n_lang_code(in->lang));
    fputs("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", f);
    md_html_escape(f, title);
    fputs("</title>\n<link rel=\"icon\" href=\"/assets/logo.svg\" type=\"image/svg+xml\">\n"
          "<link rel=\"stylesheet\" href=\"/assets/style.css\">\n",
          f);
    meta(f, "name", "description", desc);
    meta(f, "property", "og:type", "video.other");
    meta(f, "property", "og:site_name", "HappyHorse");
    meta(f, "property", "og:title", title);
    meta(f, "property", "og:description", desc);
    meta(f, "property", "og:url", in->url);
    meta(f, "property", "og:image", in->thumb);
    meta(f, "property", "og:video", in->video);
    meta(f, "property", "og:video:secure_url", in->video);
    meta(f, "property", "og:video:type", "video/mp4");
    meta(f, "property", "og:video:width", w);
    meta(f, "property", "og:video:height", h);
    meta(f, "name", "twitter:card", "player");
    meta(f, "name", "twitter:title", title);
    meta(f, "name", "twitter:description", desc);
    meta(f, "name", "twitter:image", in->thumb);
    meta(f, "name", "twitter:player", in->url);
    meta(f, "name", "twitter:player:width", w);
    meta(f, "name", "twitter:player:height", h);
    meta(f, "name", "twitter:player:stream", in->video);
    meta(f, "name", "twitter:player:stream:content_type", "video/mp4");
    fputs("</head>\n", f);
}

static void page_body(hh_app *app, FILE *f, const page_in *in)
{
    fputs("<body class=\"share-page\">\n<main class=\"share\">\n"
          "<video class=\"share-video\" controls playsinline preload=\"metadata\" poster=\"",
          f);
    md_html_escape(f, in->thumb);
    fputs("\" src=\"", f);
    md_html_escape(f, in->video);
    fputs("\"></video>\n", f);
    if (in->sh->show_prompt) {
        fprintf(f, "<section class=\"share-prompt\"><h2>%s</h2>\n<p>",
                docs_site_text(app->docs, in->lang, "share.prompt"));
        md_html_escape(f, in->v->prompt);
        fputs("</p></section>\n", f);
    }
    fprintf(f,
            "<p class=\"share-made\"><img src=\"/assets/logo.svg\" alt=\"\" width=\"20\" "
            "height=\"20\"> %s · <a href=\"/\">%s</a></p>\n",
            docs_site_text(app->docs, in->lang, "share.madeWith"),
            docs_site_text(app->docs, in->lang, "share.makeYours"));
    fputs("</main>\n</body>\n</html>\n", f);
}

/* The page of a published video; NULL when out of memory. Caller frees. */
static char *render_page(hh_app *app, const page_in *in, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    page_head(app, f, in);
    page_body(app, f, in);
    if (fclose(f)) {
        free(buf);
        return NULL;
    }
    return buf;
}

void h_share_page(http_req *req, void *app_)
{
    hh_app *app = app_;
    const char *slug = http_req_param(req, "slug");
    hh_share sh;
    hh_video v;
    size_t n = slug ? strlen(slug) : 0;
    hh_status rc = n > 0 && n < STORE_SLUG_MAX &&
                           strspn(slug, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
                                        "nopqrstuvwxyz0123456789-_") == n
                       ? store_share_by_slug(app->store, slug, &sh)
                       : HH_ERR_NOTFOUND;
    if (!rc)
        rc = store_video_get(app->store, sh.video_id, sh.user_id, &v);
    if (rc == HH_ERR_NOTFOUND) {
        http_reply_error(req, API_ERR_NOT_FOUND, "No such page.", NULL);
        return;
    }
    if (rc) {
        http_reply_error(req, API_ERR_INTERNAL_ERROR, "Could not read the page.", NULL);
        return;
    }
    char url[512], video[512], thumb[512];
    share_url(app, sh.slug, url, sizeof url);
    blob_public_url(app->blob, v.video_key, video, sizeof video);
    blob_public_url(app->blob, v.thumbnail_key, thumb, sizeof thumb);
    hh_lang lang =
        i18n_negotiate(http_req_header(req, "Cookie"), http_req_header(req, "Accept-Language"));
    page_in in = {&v, &sh, url, video, thumb, lang};
    size_t len = 0;
    char *html = render_page(app, &in, &len);
    store_video_clear(&v);
    if (!html) {
        http_reply_error(req, API_ERR_INTERNAL_ERROR, "Out of memory.", NULL);
        return;
    }
    dashboard_share_headers(app, req);
    http_req_add_header(req, "Cache-Control", "no-cache");
    http_req_add_header(req, "Vary", "Accept-Language, Cookie");
    http_reply_bytes(req, 200, "text/html; charset=utf-8", html, len);
    free(html);
}
