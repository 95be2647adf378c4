/*
 * i18n.c - language codes, the choice of a request's language (cookie, then
 * Accept-Language with its q-values), and the catalogues of web/i18n/
 * as i18n.h describes them.
 */
#include "domain/i18n.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "util/embed.h"

static const char *const codes[HH_LANG_COUNT] = {"zh-CN", "en"};

const char *i18n_lang_code(hh_lang lang)
{
    return (unsigned)lang < HH_LANG_COUNT ? codes[lang] : NULL;
}

int i18n_lang_parse(const char *s, size_t n, hh_lang *out)
{
    for (int l = 0; s && l < HH_LANG_COUNT; l++)
        if (strlen(codes[l]) == n && !strncasecmp(s, codes[l], n)) {
            *out = (hh_lang)l;
            return 1;
        }
    return 0;
}

/* The language of the cookie hh_lang in a Cookie header; 1 when it names one. */
static int from_cookie(const char *header, hh_lang *out)
{
    const size_t nl = sizeof I18N_COOKIE - 1;
    for (const char *p = header; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        size_t len = strcspn(p, ";");
        if (len > nl && !strncmp(p, I18N_COOKIE, nl) && p[nl] == '=') {
            size_t vl = len - nl - 1;
            while (vl && (p[nl + 1 + vl - 1] == ' ' || p[nl + 1 + vl - 1] == '\t'))
                vl--;
            return i18n_lang_parse(p + nl + 1, vl, out);
        }
        p += len;
    }
    return 0;
}

/* The q of one Accept-Language item's parameters (";q=0.8"), 1000ths; 1000 without one. */
static int q_of(const char *params, size_t n)
{
    const char *q = NULL;
    for (size_t i = 0; i + 1 < n; i++)
        if ((params[i] == 'q' || params[i] == 'Q') && params[i + 1] == '=') {
            q = params + i + 2;
            break;
        }
    if (!q)
        return 1000;
    if (*q == '1')
        return 1000;
    if (*q != '0')
        return 0;
    int v = 0, scale = 100;
    for (q++; *q == '.' || (*q >= '0' && *q <= '9'); q++) {
        if (*q == '.')
            continue;
        v += (*q - '0') * scale;
        scale /= 10;
    }
    return v;
}

/* The language a tag's primary subtag speaks ("zh-TW", "zh", "en-GB"); 1 when one of ours. */
static int tag_lang(const char *tag, size_t n, hh_lang *out)
{
    size_t primary = 0;
    while (primary < n && tag[primary] != '-' && tag[primary] != '_')
        primary++;
    if (primary == 2 && !strncasecmp(tag, "zh", 2)) {
        *out = HH_LANG_ZH_CN;
        return 1;
    }
    if (primary == 2 && !strncasecmp(tag, "en", 2)) {
        *out = HH_LANG_EN;
        return 1;
    }
    return 0;
}

hh_lang i18n_negotiate(const char *cookie_header, const char *accept_language)
{
    hh_lang lang = HH_LANG_ZH_CN, l;
    if (from_cookie(cookie_header, &lang))
        return lang;
    int best_q = 0;
    for (const char *p = accept_language; p && *p;) {
        size_t len = strcspn(p, ",");
        const char *tag = p;
        while (tag < p + len && (*tag == ' ' || *tag == '\t'))
            tag++;
        size_t tl = strcspn(tag, ";, \t");
        if (tl > (size_t)(p + len - tag))
            tl = (size_t)(p + len - tag);
        int q = q_of(tag + tl, (size_t)(p + len - tag) - tl);
        /* Strictly greater: of equal q, the earlier one wins. */
        if (q > best_q && tag_lang(tag, tl, &l)) {
            best_q = q;
            lang = l;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return lang;
}

hh_status i18n_catalog(hh_lang lang, json_t **out)
{
    char path[64];
    if (!i18n_lang_code(lang))
        return HH_ERR_INVALID;
    snprintf(path, sizeof path, "web/i18n/%s.json", i18n_lang_code(lang));
    const hh_embed_file *f = hh_embed_find(path);
    if (!f)
        return HH_ERR_NOTFOUND;
    json_t *cat = json_loadb((const char *)f->data, f->len, JSON_REJECT_DUPLICATES, NULL);
    const char *key;
    json_t *v;
    int ok = json_is_object(cat);
    json_object_foreach(cat, key, v)
    {
        ok &= json_is_string(v);
    }
    if (!ok) {
        json_decref(cat);
        return HH_ERR_INVALID;
    }
    *out = cat;
    return HH_OK;
}

const char *i18n_text(const json_t *catalog, const char *key)
{
    const char *s = json_string_value(json_object_get(catalog, key));
    return s ? s : key;
}
