// webhooks.js - Settings / Webhooks: register an endpoint for video events
// (its signing secret shown once, with a copy button), list endpoints with
// their status, read an endpoint's delivery log (the latest attempts, their
// status codes and times), delete one after confirmation. Same routes and
// rules as the Customer API's /api/v1/webhooks (contract §10).
import { api } from './api.js';
import { el, $, fmtDate, fmtAgo, toast, confirmDialog, secretCard } from './ui.js';
import { t, errorText } from './i18n.js';

const EVENTS = ['video.ready', 'video.failed', 'video.canceled'];
let loaded = false;
const secret = secretCard('hook-secret');

function showLog(h, rows) {
  $('hook-log-url').textContent = h.url;
  $('hook-log-body').replaceChildren(...rows.map((a) => el('tr', {},
    el('td', { 'data-label': t('hooks.colAt'), title: fmtDate(a.at) }, fmtAgo(a.at)),
    el('td', { 'data-label': t('hooks.colEvent') }, el('code', {}, a.type)),
    el('td', { 'data-label': t('hooks.colAttempt') }, String(a.attempt)),
    el('td', { 'data-label': t('hooks.colStatus') },
      a.statusCode === null ? t('hooks.noAnswer') : String(a.statusCode)),
    el('td', { 'data-label': t('hooks.colOutcome'), title: a.error || '' }, t(`hooks.outcome.${a.outcome}`)))));
  $('hook-log-empty').hidden = rows.length > 0;
  $('hook-log-table').hidden = rows.length === 0;
  $('hook-log').hidden = false;
  $('hook-log').focus();
}

function row(h) {
  const del = el('button', { type: 'button', class: 'btn btn-ghost btn-sm danger-text',
    'aria-label': t('hooks.deleteLabel', { url: h.url }) }, t('dialog.delete'));
  del.addEventListener('click', async () => {
    const ok = await confirmDialog(t('hooks.confirmTitle'), t('hooks.confirmText', { url: h.url }));
    if (!ok) { del.focus(); return; }
    del.disabled = true;
    try {
      await api('DELETE', `/webhooks/${encodeURIComponent(h.id)}`);
      toast(t('hooks.deleted'));
      $('hook-log').hidden = true;
      await load();
      $('hook-url').focus();
    } catch (e) {
      del.disabled = false;
      toast(errorText(e));
    }
  });
  const logBtn = el('button', { type: 'button', class: 'btn btn-ghost btn-sm',
    'aria-label': t('hooks.logLabel', { url: h.url }) }, t('hooks.log'));
  logBtn.addEventListener('click', async () => {
    try {
      showLog(h, (await api('GET', `/webhooks/${encodeURIComponent(h.id)}/deliveries?limit=20`)).data);
    } catch (e) {
      toast(errorText(e));
    }
  });
  return el('tr', { 'data-hook-id': h.id },
    el('td', { 'data-label': t('hooks.colUrl') }, el('code', { class: 'mono' }, h.url)),
    el('td', { 'data-label': t('hooks.colEvents') }, h.events.join(', ')),
    el('td', { 'data-label': t('hooks.colState') }, t(`hooks.state.${h.status}`)),
    el('td', { 'data-label': t('hooks.colCreated') }, fmtDate(h.createdAt)),
    el('td', { class: 'actions' }, logBtn, del));
}

function render(hooks) {
  $('hooks-body').replaceChildren(...hooks.map(row));
  $('hooks-empty').hidden = hooks.length > 0;
  $('hooks-table').hidden = hooks.length === 0;
  loaded = true;
}

async function load() {
  render((await api('GET', '/webhooks')).data);
}

async function create(ev) {
  ev.preventDefault();
  const input = $('hook-url');
  const err = $('hook-error');
  err.textContent = '';
  const url = input.value.trim();
  if (!url) {
    err.textContent = t('hooks.urlMissing');
    input.focus();
    return;
  }
  const events = EVENTS.filter((e) => $(`hook-ev-${e.split('.')[1]}`).checked);
  if (!events.length) {
    err.textContent = t('hooks.eventsMissing');
    return;
  }
  const btn = $('hook-create');
  btn.disabled = true;
  try {
    const res = await api('POST', '/webhooks', { url, events });
    input.value = '';
    $('hook-secret-url').textContent = res.url;
    secret.show(res.secret);
    await load();
  } catch (e) {
    err.textContent = errorText(e);
  } finally {
    btn.disabled = false;
  }
}

/** Wires the page (once). */
export function init() {
  $('hook-form').addEventListener('submit', create);
  secret.wire(() => $('hook-url').focus());
  $('hook-log-close').addEventListener('click', () => { $('hook-log').hidden = true; });
}

/** Called when the page is shown: loads the list the first time. */
export function show() {
  if (!loaded) load().catch((e) => toast(errorText(e)));
}
