// i18n.js - every string the dashboard shows, from one catalogue per language
// (web/i18n/<lang>.json, served at /i18n/<lang>.json). The language is the
// choice remembered in the hh_lang cookie, else the first of the browser's
// languages that is Chinese or English, else zh-CN: the same rule the
// server applies to Accept-Language for the docs site (src/domain/i18n.h).
// API error messages stay English (they are the contract); the dashboard
// shows the catalogue's text for each error code instead.
export const LANGS = ['zh-CN', 'en'];
const COOKIE = 'hh_lang';
let catalog = {};
let lang = 'zh-CN';

/** The language of a tag ("zh-TW" -> zh-CN, "en-GB" -> en), or null. */
function langOf(tag) {
  const p = String(tag || '').toLowerCase().split(/[-_]/)[0];
  return p === 'zh' ? 'zh-CN' : p === 'en' ? 'en' : null;
}

/** The visitor's language: cookie, then navigator.languages, then zh-CN. */
export function pickLang() {
  const m = document.cookie.match(/(?:^|;\s*)hh_lang=([^;]*)/);
  if (m && LANGS.includes(decodeURIComponent(m[1]))) return decodeURIComponent(m[1]);
  for (const tag of navigator.languages || [navigator.language]) {
    const l = langOf(tag);
    if (l) return l;
  }
  return 'zh-CN';
}

/** The current language code. */
export function currentLang() {
  return lang;
}

/** The text of key with {name} replaced from vars; the key itself when missing. */
export function t(key, vars = {}) {
  const s = Object.prototype.hasOwnProperty.call(catalog, key) ? catalog[key] : key;
  return s.replace(/\{(\w+)\}/g, (all, name) => (name in vars ? String(vars[name]) : all));
}

/** 1 when the catalogue has key. */
export function has(key) {
  return Object.prototype.hasOwnProperty.call(catalog, key);
}

/**
 * Fills root's elements from the catalogue: data-i18n="key" sets the text,
 * data-i18n-attr="placeholder:key;aria-label:key" sets attributes.
 */
export function applyI18n(root = document) {
  for (const e of root.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const e of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of e.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      if (attr && key) e.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}

/** Remembers lang for a year (the docs site reads the same cookie) and reloads. */
export function setLang(l) {
  if (!LANGS.includes(l)) return;
  document.cookie = `${COOKIE}=${encodeURIComponent(l)}; Path=/; Max-Age=31536000; SameSite=Lax`;
  location.reload();
}

/** The text to show for an ApiError: the catalogue's text for its code, with its details. */
export function errorText(e) {
  const d = (e && e.details) || {};
  const code = (e && e.code) || 'internal_error';
  // English is the API's own language: its message is the most precise text there is.
  if (lang === 'en' && e && e.message) return d.field ? `${e.message} (${d.field})` : e.message;
  const key = has(`error.${code}`) ? `error.${code}` : 'error.internal_error';
  const text = t(key, d);
  return code === 'invalid_input' && d.field ? t('error.field', { text, field: d.field }) : text;
}

/**
 * Loads the catalogue of the visitor's language, sets <html lang>, fills
 * the page and wires every [data-lang-switch] button to the other language.
 */
export async function loadI18n() {
  lang = pickLang();
  try {
    const res = await fetch(`/i18n/${lang}.json`, { credentials: 'same-origin' });
    catalog = res.ok ? await res.json() : {};
  } catch (e) {
    catalog = {};
  }
  document.documentElement.lang = lang;
  applyI18n(document);
  const other = lang === 'zh-CN' ? 'en' : 'zh-CN';
  for (const b of document.querySelectorAll('[data-lang-switch]')) {
    b.textContent = t(`lang.${other}`);
    b.lang = other;
    b.addEventListener('click', () => setLang(other));
  }
  for (const a of document.querySelectorAll('a[data-docs-link]')) a.href = `/docs/${lang}/${a.dataset.docsLink}`;
}
