/*
 * test_docs_domain.c - the pure parts behind the docs site, the catalogues
 * and the template library: Markdown through libcmark (title, lead,
 * contents, heading ids, links, raw HTML kept, escaping), the choice of a
 * language from the cookie and Accept-Language, the embedded catalogues,
 * and the template library's loader at the boundaries of each rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "domain/i18n.h"
#include "domain/markdown.h"
#include "domain/templates.h"
#include "util/embed.h"

static void markdown_page(void **state)
{
    (void)state;
    static const char md[] =
        "# Quick *start*\n\nFive minutes, from `sign in` to a video.\n\n"
        "## 1. Sign in\n\nSee [the workbench](workbench#the-gallery).\n\n"
        "## 上传参考素材\n\n<div class=\"x\"><table><tr><td>a</td></tr></table></div>\n\n"
        "## 1. Sign in\n\n### Deeper & deeper\n\n[out](https://example.com)\n";
    md_doc d;
    assert_int_equal(md_render(md, strlen(md), &d), HH_OK);
    assert_string_equal(d.title, "Quick start");
    assert_string_equal(d.lead, "Five minutes, from sign in to a video.");
    assert_int_equal(d.ntoc, 3);
    assert_string_equal(d.toc[0].id, "1-sign-in");
    assert_string_equal(d.toc[1].id, "上传参考素材");
    assert_string_equal(d.toc[2].id, "1-sign-in-2"); /* the same text twice: unique ids */
    assert_non_null(strstr(d.html, "<h2 id=\"1-sign-in\">"));
    assert_non_null(strstr(d.html, "<h3 id=\"deeper-deeper\">"));
    assert_non_null(strstr(d.html, "<h1>Quick <em>start</em></h1>"));
    assert_non_null(strstr(d.html, "<div class=\"x\"><table>")); /* raw HTML of our own kept */
    assert_non_null(strstr(d.html, "Deeper &amp; deeper"));
    assert_int_equal(json_array_size(d.links), 2);
    assert_string_equal(json_string_value(json_array_get(d.links, 0)), "workbench#the-gallery");
    md_doc_clear(&d);
    md_doc_clear(&d); /* idempotent */
    assert_int_equal(md_render("", 0, &d), HH_OK);
    assert_string_equal(d.title, "");
    assert_int_equal(d.ntoc, 0);
    md_doc_clear(&d);
}

static void languages(void **state)
{
    (void)state;
    static const struct {
        const char *cookie, *accept;
        hh_lang want;
    } cases[] = {
        {NULL, NULL, HH_LANG_ZH_CN},
        {NULL, "en-US,en;q=0.9", HH_LANG_EN},
        {NULL, "zh-TW", HH_LANG_ZH_CN},
        {NULL, "fr-FR", HH_LANG_ZH_CN},
        {NULL, "fr-FR, en-GB;q=0.7, zh;q=0.6", HH_LANG_EN},
        {NULL, "en;q=0.5, zh;q=0.9", HH_LANG_ZH_CN},
        {NULL, "en;q=0.9, zh;q=0.9", HH_LANG_EN}, /* equal q: the first */
        {NULL, "zh;q=0, en;q=0.1", HH_LANG_EN},
        {NULL, "*", HH_LANG_ZH_CN},
        {NULL, "EN", HH_LANG_EN},
        {NULL, "english", HH_LANG_ZH_CN},
        {"hh_lang=en", "zh-CN", HH_LANG_EN},
        {"a=b; hh_lang=zh-CN ; c=d", "en", HH_LANG_ZH_CN},
        {"hh_lang=fr", "en", HH_LANG_EN},
        {"xhh_lang=en", "zh", HH_LANG_ZH_CN},
        {"hh_lang=", "en", HH_LANG_EN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (i18n_negotiate(cases[i].cookie, cases[i].accept) != cases[i].want)
            fail_msg("case %zu: cookie %s, Accept-Language %s", i, cases[i].cookie,
                     cases[i].accept);
    hh_lang l;
    assert_true(i18n_lang_parse("zh-cn", 5, &l) && l == HH_LANG_ZH_CN);
    assert_false(i18n_lang_parse("zh", 2, &l));
    assert_null(i18n_lang_code(HH_LANG_COUNT));
}

static void catalogues(void **state)
{
    (void)state;
    json_t *zh = NULL, *en = NULL;
    assert_int_equal(i18n_catalog(HH_LANG_ZH_CN, &zh), HH_OK);
    assert_int_equal(i18n_catalog(HH_LANG_EN, &en), HH_OK);
    assert_int_equal(json_object_size(zh), json_object_size(en));
    assert_string_equal(i18n_text(zh, "docs.title"), "HappyHorse 文档");
    assert_string_equal(i18n_text(en, "docs.title"), "HappyHorse Docs");
    assert_string_equal(i18n_text(en, "no.such.key"), "no.such.key");
    json_decref(zh);
    json_decref(en);
    assert_non_null(hh_embed_find("docs/templates.json"));
    assert_null(hh_embed_find("docs/nope.md"));
    assert_null(hh_embed_find(NULL));
}

/* A library of one template whose parts are given; placeholders {item}. */
static hh_status load_one(const char *prompt_en, const char *slots, const char *settings,
                          hh_errdetail *d)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fprintf(f,
            "{\"categories\":[{\"id\":\"food\",\"label\":{\"zh-CN\":\"美食\",\"en\":\"Food\"}}],"
            "\"templates\":[{\"id\":\"t\",\"category\":\"food\","
            "\"title\":{\"zh-CN\":\"标题\",\"en\":\"Title\"},"
            "\"prompt\":{\"zh-CN\":\"一碗{item}\",\"en\":\"%s\"},"
            "\"placeholders\":%s%s%s}]}",
            prompt_en, slots, settings ? ",\"settings\":" : "", settings ? settings : "");
    fclose(f);
    hh_templates *t = NULL;
    hh_status rc = templates_load_json(text, len, &t, d);
    assert_true(rc ? t == NULL : t != NULL);
    templates_free(t);
    free(text);
    return rc;
}

#define SLOT                                                                                       \
    "[{\"name\":\"item\",\"label\":{\"zh-CN\":\"菜\",\"en\":\"Dish\"},\"default\":{\"zh-CN\":"    \
    "\"面\",\"en\":\"noodles\"}}]"

static void template_rules(void **state)
{
    (void)state;
    static const struct {
        const char *prompt, *slots, *settings, *err; /* err NULL: accepted */
    } cases[] = {
        {"A bowl of {item}", SLOT, NULL, NULL},
        {"A bowl of {item}", SLOT, "{\"durationSec\":12,\"cameraMotion\":\"orbit\"}", NULL},
        {"A bowl of {item}", SLOT, "{\"durationSec\":13}", "durationSec"},
        {"A bowl of {item}", SLOT, "{\"durationSec\":2}", "durationSec"},
        {"A bowl of {item}", SLOT, "{\"motionIntensity\":6}", "motionIntensity"},
        {"A bowl of {item}", SLOT,
         "{\"style\":\"" /* 51 characters */
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
         "style"},
        {"A bowl of {item}", SLOT, "{\"prompt\":\"x\"}", "belongs in the template's prompt"},
        {"A bowl of {item}", SLOT, "{\"sourceImageKey\":\"videos/inputs/x.png\"}",
         "a template holds no references"},
        {"A bowl of {item}", SLOT, "[]", "\"settings\" must be an object"},
        {"A bowl of {dish}", SLOT, NULL, "placeholder {dish} is not declared"},
        {"A bowl of soup", SLOT, NULL, "placeholder {item} is declared but not used"},
        {"A bowl of {Item}", SLOT, NULL, "placeholders are {name}"},
        {"A bowl of {item", SLOT, NULL, "placeholders are {name}"},
        {"A bowl of item}", SLOT, NULL, "closes no placeholder"},
        {"A bowl of {}", SLOT, NULL, "placeholders are {name}"},
        {"{item}",
         "[{\"name\":\"item\",\"label\":{\"zh-CN\":\"菜\",\"en\":\"Dish\"},"
         "\"default\":{\"zh-CN\":\"面\",\"en\":\"ab\"}}]",
         NULL, "prompt"}, /* 2 characters once filled in: under the prompt's minimum */
        {"A bowl of {item}",
         "[{\"name\":\"item\",\"label\":{\"zh-CN\":\"菜\",\"en\":\"Dish\"},\"default\":{\"zh-CN\":"
         "\"面\"}}]",
         NULL, "default"},
        {"A bowl of {item}", "{}", NULL, "\"placeholders\" must be an array"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hh_errdetail d;
        hh_status rc = load_one(cases[i].prompt, cases[i].slots, cases[i].settings, &d);
        if (!cases[i].err && rc)
            fail_msg("case %zu refused: %s", i, d.message);
        if (cases[i].err && (rc != HH_ERR_INVALID || !strstr(d.message, cases[i].err)))
            fail_msg("case %zu: rc %d, '%s' lacks '%s'", i, rc, d.message, cases[i].err);
    }
    /* Whole-library rules. */
    static const struct {
        const char *json, *err;
    } libs[] = {
        {"[]", "must be a JSON object"},
        {"{\"categories\":[],\"templates\":[]}", "\"categories\" must be an array of 1 to"},
        {"{\"categories\":[{\"id\":\"a\",\"label\":{\"zh-CN\":\"甲\",\"en\":\"A\"}}],\"templates\":"
         "[]}",
         "\"templates\" must be an array of 1 to"},
        {"{\"categories\":[{\"id\":\"A\",\"label\":{\"zh-CN\":\"甲\",\"en\":\"A\"}}]}", "\"id\""},
        {"{\"categories\":[{\"id\":\"a\",\"label\":{\"zh-CN\":\"甲\",\"en\":\"A\"}},"
         "{\"id\":\"a\",\"label\":{\"zh-CN\":\"甲\",\"en\":\"A\"}}]}",
         "used twice"},
        {"{\"categories\":[{\"id\":\"a\",\"label\":{\"zh-CN\":\"甲\",\"en\":\"A\",\"fr\":\"A\"}}]}",
         "unknown field \"fr\""},
        {"{\"x\":1}", "unknown field \"x\""},
        {"{\"categories\":", "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        hh_templates *t = NULL;
        hh_errdetail d;
        hh_status rc = templates_load_json(libs[i].json, strlen(libs[i].json), &t, &d);
        if (rc != HH_ERR_INVALID || !strstr(d.message, libs[i].err))
            fail_msg("library %zu: rc %d, '%s' lacks '%s'", i, rc, d.message, libs[i].err);
        assert_null(t);
    }
}

static void builtin_library(void **state)
{
    (void)state;
    hh_templates *t = NULL;
    hh_errdetail d;
    assert_int_equal(templates_default(&t, &d), HH_OK);
    assert_true(templates_count(t) >= 24);
    static const char *const cats[] = {"product", "landscape",    "character",
                                       "food",    "architecture", "abstract"};
    for (size_t i = 0; i < sizeof cats / sizeof cats[0]; i++) {
        assert_true(templates_has_category(t, cats[i]));
        json_t *one = templates_to_json(t, cats[i]);
        assert_true(json_array_size(json_object_get(one, "templates")) >= 4);
        json_decref(one);
    }
    assert_false(templates_has_category(t, "nope"));
    json_t *all = templates_to_json(t, NULL);
    assert_int_equal(json_array_size(json_object_get(all, "templates")), templates_count(t));
    json_decref(all);
    templates_free(t);
    templates_free(NULL);
    assert_int_equal(templates_load_file("/nonexistent/t.json", &t, &d), HH_ERR_IO);
    assert_non_null(strstr(d.message, "cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(markdown_page),   cmocka_unit_test(languages),
        cmocka_unit_test(catalogues),      cmocka_unit_test(template_rules),
        cmocka_unit_test(builtin_library),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
