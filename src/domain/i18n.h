/*
 * i18n.h - the languages of the product's pages (the dashboard and the
 * docs site): zh-CN, the product's own language, and en. Which one a
 * visitor gets: the choice remembered in the hh_lang cookie, else the
 * first of Accept-Language's preferences (by q) that is Chinese or
 * English, else zh-CN. The dashboard's scripts apply the same rule to the
 * cookie and navigator.languages (web/assets/i18n.js).
 *
 * Every string a page shows comes from one catalogue per language,
 * web/i18n/<lang>.json: a flat JSON object of key -> text, carried in the
 * binary for the docs site and served to the dashboard from web/.
 * API error messages are not here: they are English, part of the contract.
 */
#ifndef HH_I18N_H
#define HH_I18N_H

#include <jansson.h>
#include <stddef.h>

#include "util/status.h"

#define I18N_COOKIE "hh_lang"

typedef enum hh_lang { HH_LANG_ZH_CN, HH_LANG_EN, HH_LANG_COUNT } hh_lang;

/* "zh-CN" or "en"; NULL when out of range. Static. */
const char *i18n_lang_code(hh_lang lang);

/* The language whose code is the n bytes at s (ASCII case ignored); 1 when found. */
int i18n_lang_parse(const char *s, size_t n, hh_lang *out);

/*
 * The language for a request: the hh_lang cookie in cookie_header when it
 * names a language, else Accept-Language, else zh-CN. Both may be NULL.
 */
hh_lang i18n_negotiate(const char *cookie_header, const char *accept_language);

/*
 * The catalogue of lang (web/i18n/<lang>.json, embedded), parsed. New
 * reference; HH_ERR_NOTFOUND when it is missing, HH_ERR_INVALID when it is
 * not an object of strings.
 */
hh_status i18n_catalog(hh_lang lang, json_t **out);

/* The text of key in catalog, or key itself when missing (so a gap shows, never crashes). */
const char *i18n_text(const json_t *catalog, const char *key);

#endif
