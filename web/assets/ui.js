// ui.js - small DOM helpers and the app's shared state, used by every page module.
import { api } from './api.js';
import { t, has, currentLang } from './i18n.js';

/** The signed-in workspace: user, its plan, every plan, and listeners for changes. */
export const state = {
  user: null,
  plan: null,
  plans: [],
  listeners: new Set(),
};

/** Replaces the user (e.g. a new balance) and tells every listener. */
export function setUser(user) {
  state.user = user;
  state.plan = state.plans.find((p) => p.name === user.plan) || state.plan;
  for (const fn of state.listeners) fn(state);
}

/** Calls fn(state) whenever the user changes. */
export function onUserChange(fn) {
  state.listeners.add(fn);
}

/**
 * Makes an element: el('a', {href: '/x', class: 'btn'}, 'text', child...).
 * Attributes starting with "on" become listeners; text is never parsed as HTML.
 */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (v === true) e.setAttribute(k, '');
    else e.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

const $ = (id) => document.getElementById(id);
export { $ };

/** "Nov 24, 2026, 2:30 PM" (in the page's language) for an ISO time, "Never" for null. */
export function fmtDate(iso) {
  if (!iso) return t('common.never');
  const d = new Date(iso);
  const fmt = new Intl.DateTimeFormat(currentLang(), { dateStyle: 'medium', timeStyle: 'short' });
  return Number.isNaN(d.getTime()) ? '–' : fmt.format(d);
}

/** "3 minutes ago" style relative time. */
export function fmtAgo(iso) {
  if (!iso) return t('common.never');
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 45) return t('common.justNow');
  const rtf = new Intl.RelativeTimeFormat(currentLang(), { numeric: 'auto' });
  if (s < 3600) return rtf.format(-Math.round(s / 60), 'minute');
  if (s < 86400) return rtf.format(-Math.round(s / 3600), 'hour');
  return rtf.format(-Math.round(s / 86400), 'day');
}

/** Thousands separators. */
export function fmtNum(n) {
  return new Intl.NumberFormat(currentLang()).format(n);
}

let toastTimer = 0;
/** Shows a short message at the bottom of the screen (announced politely). */
export function toast(msg) {
  const t = $('toast');
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 3500);
}

/** Shows or clears the page-wide error banner. */
export function showError(msg) {
  const b = $('app-error');
  b.textContent = msg || '';
  b.hidden = !msg;
}

/** Opens the confirmation dialog; resolves true when the user confirms. */
export function confirmDialog(title, text, okLabel = t('dialog.delete')) {
  const d = $('confirm-dialog');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = okLabel;
  d.returnValue = '';
  d.showModal();
  return new Promise((resolve) => {
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
  });
}

/** The cheapest plan (plans are cheapest first) for which test(plan) holds, or null. */
export function cheapestPlan(test) {
  return state.plans.find(test) || null;
}

/** What makes a plan's videos, in words: the catalogue's name of its engine, else the server's label. */
export function engineName(plan) {
  const key = `engine.${plan.engine}`;
  return has(key) ? t(key) : plan.engineLabel || plan.engine;
}

/** Price in credits of a video, from the user's plan: durationSec x rate of the resolution. */
export function priceOf(plan, durationSec, resolution) {
  if (!plan) return 0;
  return durationSec * plan.creditsPerSecond[resolution];
}

/** Re-reads the user (the balance after a charge or refund) and updates every page. */
export async function refreshUser() {
  const me = await api('GET', '/me');
  setUser(me.user);
}

/**
 * The card that shows a new secret once (an API key's, a webhook's): the
 * elements <prefix>-card, -value, -copy, -copied and -done. wire(done) sets
 * up its buttons once (done runs after the secret has left the page for
 * good); show(value) shows a secret, selected, with the card focused.
 */
export function secretCard(prefix) {
  const part = (name) => $(`${prefix}-${name}`);
  return {
    show(value) {
      part('value').value = value;
      part('copied').textContent = '';
      part('card').hidden = false;
      part('card').focus();
      part('value').select();
    },
    wire(done) {
      part('copy').addEventListener('click', async () => {
        const v = part('value');
        try {
          await navigator.clipboard.writeText(v.value);
        } catch (e) {
          v.select();
          document.execCommand('copy');
        }
        part('copied').textContent = t('keys.copied');
      });
      part('done').addEventListener('click', () => {
        part('value').value = '';
        part('card').hidden = true;
        done();
      });
    },
  };
}
