// keys.js - Settings / API Keys: create a key with a name (its secret shown
// once, with a copy button), list keys, delete one after confirmation. The
// page exists only when the workspace has API access.
import { api } from './api.js';
import { state, el, $, fmtDate, fmtAgo, toast, confirmDialog, secretCard } from './ui.js';
import { t, errorText } from './i18n.js';

let loaded = false;
const secret = secretCard('secret');

function row(k) {
  const del = el('button', { type: 'button', class: 'btn btn-ghost btn-sm danger-text',
    'aria-label': t('keys.deleteLabel', { name: k.name }) }, t('dialog.delete'));
  del.addEventListener('click', async () => {
    const ok = await confirmDialog(t('keys.confirmTitle'), t('keys.confirmText', { name: k.name, prefix: k.prefix }));
    if (!ok) { del.focus(); return; }
    del.disabled = true;
    try {
      await api('DELETE', `/keys/${encodeURIComponent(k.id)}`);
      toast(t('keys.deleted', { name: k.name }));
      await load();
      $('key-name').focus();
    } catch (e) {
      del.disabled = false;
      toast(errorText(e));
    }
  });
  return el('tr', { 'data-key-id': k.id },
    el('td', { 'data-label': t('keys.colName') }, el('strong', {}, k.name)),
    el('td', { 'data-label': t('keys.colKey') }, el('code', { class: 'mono' }, `${k.prefix}…`)),
    el('td', { 'data-label': t('keys.colCreated') }, fmtDate(k.createdAt)),
    el('td', { 'data-label': t('keys.colUsed'), title: k.lastUsedAt ? fmtDate(k.lastUsedAt) : '' },
      k.lastUsedAt ? fmtAgo(k.lastUsedAt) : t('common.never')),
    el('td', { class: 'actions' }, del));
}

function render(keys) {
  $('keys-body').replaceChildren(...keys.map(row));
  $('keys-empty').hidden = keys.length > 0;
  $('keys-table').hidden = keys.length === 0;
  loaded = true;
}

async function load() {
  render((await api('GET', '/keys')).keys);
}

async function create(ev) {
  ev.preventDefault();
  const input = $('key-name');
  const err = $('key-error');
  err.textContent = '';
  const name = input.value.trim();
  if (!name) {
    err.textContent = t('keys.nameMissing');
    input.focus();
    return;
  }
  const btn = $('key-create');
  btn.disabled = true;
  try {
    const res = await api('POST', '/keys', { name });
    input.value = '';
    $('secret-name').textContent = res.key.name;
    secret.show(res.secret);
    await load();
  } catch (e) {
    err.textContent = errorText(e);
  } finally {
    btn.disabled = false;
  }
}

/** Wires the page (once), with the key list app.js fetched in parallel (null if none). */
export function init(first) {
  if (first) render(first.keys);
  $('key-form').addEventListener('submit', create);
  secret.wire(() => $('key-name').focus());
}

/** Called when the page is shown: loads the list the first time. */
export function show() {
  const on = !!(state.user && state.user.apiAccess);
  $('keys-disabled').hidden = on;
  $('keys-enabled').hidden = !on;
  if (on && !loaded) load().catch((e) => toast(errorText(e)));
}
