/*
 * templates.c - loader and validator of the prompt template library
 * (templates.h). A template's suggested settings are checked by the very
 * parser of the create-video request (video_request_parse) with its prompt
 * filled in with the defaults, so a template can never suggest a video the
 * API would refuse. The built-in library goes through the same checks.
 */
#include "domain/templates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/i18n.h"
#include "domain/video_request.h"
#include "util/embed.h"
#include "util/utf8.h"

struct hh_templates {
    json_t *doc; /* the validated library: {"categories": [...], "templates": [...]} */
};

#define BUILTIN_PATH "docs/templates.json"
#define FILLED_MAX   (HH_PROMPT_MAX_CP * 4 + 1) /* bytes of a prompt with its defaults in */

/* Records a one-line reason naming where and returns HH_ERR_INVALID. */
#define FAIL(d, ...) hh_errdetail_set((d), HH_ERR_INVALID, "", __VA_ARGS__)

/* Rejects any member of obj not in allowed (NULL-terminated). */
static hh_status only_keys(const json_t *obj, const char *const *allowed, const char *where,
                           hh_errdetail *d)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val)
    {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            ok |= !strcmp(*a, key);
        if (!ok)
            return FAIL(d, "%s: unknown field \"%.40s\"", where, key);
    }
    return HH_OK;
}

/* 1 when s is 1..max-1 bytes of [a-z0-9-], neither starting nor ending with '-'. */
static int valid_slug(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n < max && s[0] != '-' && s[n - 1] != '-' &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* A string member of 1..max code points of valid text. */
static hh_status text_of(const json_t *obj, const char *key, long max, const char *where,
                         const char **out, hh_errdetail *d)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        return FAIL(d, "%s: \"%s\" must be a string", where, key);
    long cp = hh_utf8_count(json_string_value(v), json_string_length(v));
    if (cp < 1 || cp > max)
        return FAIL(d, "%s: \"%s\" must be 1 to %ld characters", where, key, max);
    *out = json_string_value(v);
    return HH_OK;
}

/* An object with a text of 1..max code points for every language, and nothing else. */
static hh_status localized(const json_t *obj, const char *key, long max, const char *where,
                           hh_errdetail *d)
{
    const json_t *v = json_object_get(obj, key);
    char at[200];
    snprintf(at, sizeof at, "%.140s: %s", where, key);
    if (!json_is_object(v))
        return FAIL(d, "%s: must be an object with a text for each of zh-CN and en", at);
    const char *keys[HH_LANG_COUNT + 1] = {NULL};
    for (int l = 0; l < HH_LANG_COUNT; l++)
        keys[l] = i18n_lang_code((hh_lang)l);
    hh_status rc = only_keys(v, keys, at, d);
    const char *s;
    for (int l = 0; !rc && l < HH_LANG_COUNT; l++)
        rc = text_of(v, keys[l], max, at, &s, d);
    return rc;
}

/* The text of lang in a localized member (validated before). */
static const char *loc(const json_t *obj, const char *key, hh_lang lang)
{
    return json_string_value(json_object_get(json_object_get(obj, key), i18n_lang_code(lang)));
}

/* The placeholder object named name in slots, or NULL. */
static const json_t *slot_named(const json_t *slots, const char *name, size_t n)
{
    size_t i;
    const json_t *s;
    json_array_foreach(slots, i, s)
    {
        const char *sn = json_string_value(json_object_get(s, "name"));
        if (sn && strlen(sn) == n && !strncmp(sn, name, n))
            return s;
    }
    return NULL;
}

/*
 * Fills the placeholders of prompt with their defaults in lang, into out
 * (size bytes), and marks in used[] which slots appear. Fails on a brace
 * that opens no well-formed {name} and on a name that is not declared.
 */
static hh_status fill(const char *prompt, const json_t *slots, hh_lang lang, char *out, size_t size,
                      int *used, const char *where, hh_errdetail *d)
{
    size_t o = 0;
    for (const char *p = prompt; *p;) {
        const char *piece = p;
        size_t n = 1;
        if (*p == '}')
            return FAIL(d, "%s: a \"}\" closes no placeholder", where);
        if (*p == '{') {
            size_t k = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz0123456789_");
            if (k == 0 || p[1 + k] != '}' || p[1] < 'a' || p[1] > 'z')
                return FAIL(d, "%s: placeholders are {name} with a-z, 0-9 and _", where);
            const json_t *s = slot_named(slots, p + 1, k);
            if (!s)
                return FAIL(d, "%s: placeholder {%.*s} is not declared", where, (int)k, p + 1);
            for (size_t i = 0; i < json_array_size(slots); i++)
                if (json_array_get(slots, i) == s)
                    used[i] = 1;
            piece = loc(s, "default", lang);
            n = strlen(piece);
            p += k + 2;
        } else {
            p++;
        }
        if (o + n >= size)
            return FAIL(d, "%s: too long once filled in", where);
        memcpy(out + o, piece, n);
        o += n;
    }
    out[o] = '\0';
    return HH_OK;
}

static hh_status check_slots(const json_t *slots, const char *where, hh_errdetail *d)
{
    static const char *const keys[] = {"name", "label", "default", NULL};
    char at[200];
    if (!slots)
        return HH_OK;
    if (!json_is_array(slots) || json_array_size(slots) > HH_TEMPLATE_SLOTS_MAX)
        return FAIL(d, "%s: \"placeholders\" must be an array of at most %d", where,
                    HH_TEMPLATE_SLOTS_MAX);
    size_t i;
    const json_t *s;
    json_array_foreach(slots, i, s)
    {
        snprintf(at, sizeof at, "%.150s: placeholders[%zu]", where, i);
        const char *name;
        hh_status rc =
            json_is_object(s) ? only_keys(s, keys, at, d) : FAIL(d, "%s: must be an object", at);
        if (!rc)
            rc = text_of(s, "name", 32, at, &name, d);
        if (!rc && (name[0] < 'a' || name[0] > 'z' ||
                    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(name)))
            rc = FAIL(d, "%s: \"name\" must be a-z, 0-9 and _, starting with a letter", at);
        if (!rc && slot_named(slots, name, strlen(name)) != s)
            rc = FAIL(d, "%s: the name \"%s\" is used twice", at, name);
        if (!rc)
            rc = localized(s, "label", HH_TEMPLATE_LABEL_MAX, at, d);
        if (!rc)
            rc = localized(s, "default", HH_TEMPLATE_DEFAULT_MAX, at, d);
        if (rc)
            return rc;
    }
    return HH_OK;
}

/* The prompt of every language uses only declared placeholders and all of them; the
 * settings with the filled prompt pass the create-video rules. */
static hh_status check_prompt(const json_t *tpl, const char *where, hh_errdetail *d)
{
    const json_t *slots = json_object_get(tpl, "placeholders");
    const json_t *settings = json_object_get(tpl, "settings");
    char at[200];
    hh_status rc = HH_OK;
    if (settings && !json_is_object(settings))
        return FAIL(d, "%s: \"settings\" must be an object", where);
    for (int l = 0; !rc && l < HH_LANG_COUNT; l++) {
        int used[HH_TEMPLATE_SLOTS_MAX] = {0};
        snprintf(at, sizeof at, "%.150s: prompt.%s", where, i18n_lang_code((hh_lang)l));
        char *buf = malloc(FILLED_MAX);
        if (!buf)
            return HH_ERR_NOMEM;
        rc = fill(loc(tpl, "prompt", (hh_lang)l), slots, (hh_lang)l, buf, FILLED_MAX, used, at, d);
        for (size_t i = 0; !rc && i < json_array_size(slots); i++)
            if (!used[i])
                rc = FAIL(d, "%s: placeholder {%s} is declared but not used", at,
                          json_string_value(json_object_get(json_array_get(slots, i), "name")));
        json_t *body = rc ? NULL : (settings ? json_deep_copy(settings) : json_object());
        if (!rc && !body)
            rc = HH_ERR_NOMEM;
        if (!rc && json_object_get(body, "prompt"))
            rc = FAIL(d, "%s: settings: \"prompt\" belongs in the template's prompt", where);
        for (int r = 0; !rc && r < HH_REF_COUNT; r++)
            if (json_object_get(body, video_ref_field((hh_ref)r, HH_VR_API)))
                rc = FAIL(d, "%s: settings: \"%s\": a template holds no references", where,
                          video_ref_field((hh_ref)r, HH_VR_API));
        if (!rc && !json_object_get(body, "durationSec"))
            json_object_set_new(body, "durationSec", json_integer(5));
        if (!rc) {
            json_object_set_new(body, "prompt", json_string(buf));
            hh_video_request *req = malloc(sizeof *req);
            hh_errdetail why;
            rc = req ? video_request_parse(body, HH_VR_API, req, &why) : HH_ERR_NOMEM;
            if (rc == HH_ERR_INVALID)
                rc = FAIL(d, "%s: with its defaults filled in: %s: %s", at,
                          why.field[0] ? why.field : "settings", why.message);
            free(req);
        }
        json_decref(body);
        free(buf);
    }
    return rc;
}

static hh_status check_template(const json_t *tpl, size_t index, const json_t *cats,
                                hh_errdetail *d)
{
    static const char *const keys[] = {"id",           "category", "title", "prompt",
                                       "placeholders", "settings", NULL};
    char where[160];
    snprintf(where, sizeof where, "templates[%zu]", index);
    if (!json_is_object(tpl))
        return FAIL(d, "%s: must be an object", where);
    const char *id = json_string_value(json_object_get(tpl, "id"));
    if (!valid_slug(id, HH_TEMPLATE_ID_MAX))
        return FAIL(d, "%s: \"id\" must be 1 to %d characters of a-z, 0-9 and -", where,
                    HH_TEMPLATE_ID_MAX - 1);
    snprintf(where, sizeof where, "templates[%zu] \"%s\"", index, id);
    hh_status rc = only_keys(tpl, keys, where, d);
    const char *cat = json_string_value(json_object_get(tpl, "category"));
    int known = 0;
    size_t i;
    const json_t *c;
    json_array_foreach(cats, i, c)
    {
        known |= cat && !strcmp(cat, json_string_value(json_object_get(c, "id")));
    }
    if (!rc && !known)
        rc = FAIL(d, "%s: \"category\" must be the id of one of \"categories\"", where);
    if (!rc)
        rc = localized(tpl, "title", HH_TEMPLATE_TITLE_MAX, where, d);
    if (!rc)
        rc = localized(tpl, "prompt", HH_PROMPT_MAX_CP, where, d);
    if (!rc)
        rc = check_slots(json_object_get(tpl, "placeholders"), where, d);
    if (!rc)
        rc = check_prompt(tpl, where, d);
    return rc;
}

static hh_status check_categories(const json_t *cats, hh_errdetail *d)
{
    static const char *const keys[] = {"id", "label", NULL};
    if (!json_is_array(cats) || json_array_size(cats) == 0 ||
        json_array_size(cats) > HH_TEMPLATE_CATS_MAX)
        return FAIL(d, "\"categories\" must be an array of 1 to %d", HH_TEMPLATE_CATS_MAX);
    size_t i;
    const json_t *c;
    char where[64];
    json_array_foreach(cats, i, c)
    {
        snprintf(where, sizeof where, "categories[%zu]", i);
        if (!json_is_object(c))
            return FAIL(d, "%s: must be an object", where);
        const char *id = json_string_value(json_object_get(c, "id"));
        hh_status rc = only_keys(c, keys, where, d);
        if (!rc && !valid_slug(id, 33))
            rc = FAIL(d, "%s: \"id\" must be 1 to 32 characters of a-z, 0-9 and -", where);
        for (size_t j = 0; !rc && j < i; j++)
            if (!strcmp(id, json_string_value(json_object_get(json_array_get(cats, j), "id"))))
                rc = FAIL(d, "%s: the id \"%s\" is used twice", where, id);
        if (!rc)
            rc = localized(c, "label", HH_TEMPLATE_LABEL_MAX, where, d);
        if (rc)
            return rc;
    }
    return HH_OK;
}

static hh_status check_library(const json_t *doc, hh_errdetail *d)
{
    static const char *const keys[] = {"categories", "templates", NULL};
    if (!json_is_object(doc))
        return FAIL(d, "the library must be a JSON object");
    hh_status rc = only_keys(doc, keys, "library", d);
    const json_t *cats = json_object_get(doc, "categories");
    const json_t *tpls = json_object_get(doc, "templates");
    if (!rc)
        rc = check_categories(cats, d);
    if (!rc && (!json_is_array(tpls) || json_array_size(tpls) == 0 ||
                json_array_size(tpls) > HH_TEMPLATES_MAX))
        rc = FAIL(d, "\"templates\" must be an array of 1 to %d", HH_TEMPLATES_MAX);
    for (size_t i = 0; !rc && i < json_array_size(tpls); i++) {
        rc = check_template(json_array_get(tpls, i), i, cats, d);
        const char *id = json_string_value(json_object_get(json_array_get(tpls, i), "id"));
        for (size_t j = 0; !rc && j < i; j++)
            if (!strcmp(id, json_string_value(json_object_get(json_array_get(tpls, j), "id"))))
                rc = FAIL(d, "templates[%zu]: the id \"%s\" is used twice", i, id);
    }
    return rc;
}

hh_status templates_load_json(const char *text, size_t len, hh_templates **out, hh_errdetail *d)
{
    json_error_t jerr;
    hh_errdetail_clear(d);
    *out = NULL;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return FAIL(d, "not valid JSON: %s (line %d)", jerr.text, jerr.line);
    hh_status rc = check_library(doc, d);
    hh_templates *t = rc ? NULL : calloc(1, sizeof *t);
    if (!rc && !t)
        rc = HH_ERR_NOMEM;
    if (rc) {
        json_decref(doc);
        return rc;
    }
    t->doc = doc;
    *out = t;
    return HH_OK;
}

hh_status templates_default(hh_templates **out, hh_errdetail *d)
{
    const hh_embed_file *f = hh_embed_find(BUILTIN_PATH);
    if (!f) {
        *out = NULL;
        return hh_errdetail_set(d, HH_ERR_NOTFOUND, "", "%s is not in the build", BUILTIN_PATH);
    }
    return templates_load_json((const char *)f->data, f->len, out, d);
}

hh_status templates_load_file(const char *path, hh_templates **out, hh_errdetail *d)
{
    *out = NULL;
    hh_errdetail_clear(d);
    FILE *f = fopen(path, "rb");
    if (!f)
        return hh_errdetail_set(d, HH_ERR_IO, "", "%s: cannot open", path);
    char *buf = malloc(HH_TEMPLATES_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, HH_TEMPLATES_FILE_MAX + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    hh_status rc = HH_ERR_NOMEM;
    if (buf && bad)
        rc = hh_errdetail_set(d, HH_ERR_IO, "", "%s: cannot read", path);
    else if (buf && n > HH_TEMPLATES_FILE_MAX)
        rc = FAIL(d, "%s: larger than 4 MiB", path);
    else if (buf) {
        hh_errdetail inner = {"", ""};
        rc = templates_load_json(buf, n, out, &inner);
        if (rc && inner.message[0])
            hh_errdetail_set(d, rc, "", "%s: %s", path, inner.message);
    }
    free(buf);
    return rc;
}

void templates_free(hh_templates *t)
{
    if (!t)
        return;
    json_decref(t->doc);
    free(t);
}

size_t templates_count(const hh_templates *t)
{
    return json_array_size(json_object_get(t->doc, "templates"));
}

int templates_has_category(const hh_templates *t, const char *category)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(t->doc, "categories"), i, c)
    {
        if (!strcmp(category, json_string_value(json_object_get(c, "id"))))
            return 1;
    }
    return 0;
}

json_t *templates_to_json(const hh_templates *t, const char *category)
{
    if (!category)
        return json_deep_copy(t->doc);
    json_t *list = json_array(), *cats = json_deep_copy(json_object_get(t->doc, "categories"));
    size_t i;
    const json_t *tpl;
    json_array_foreach(json_object_get(t->doc, "templates"), i, tpl)
    {
        if (!strcmp(category, json_string_value(json_object_get(tpl, "category"))))
            json_array_append_new(list, json_deep_copy(tpl));
    }
    json_t *out = json_object();
    int bad = !out || !list || !cats;
    if (!bad) { /* set_new takes the reference even when it fails */
        bad = json_object_set_new(out, "categories", cats);
        cats = NULL;
    }
    if (!bad) {
        bad = json_object_set_new(out, "templates", list);
        list = NULL;
    }
    json_decref(cats);
    json_decref(list);
    if (bad) {
        json_decref(out);
        return NULL;
    }
    return out;
}
