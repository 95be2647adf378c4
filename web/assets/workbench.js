// workbench.js - the generation workbench: every create-video field, style
// chips and camera motions with animated previews (web/assets/presets.json),
// the fields of a prompt template, reference uploads straight to presigned
// URLs with progress bars, the price before submitting, plan-gated options
// shown locked with the plan that unlocks them, and the gallery of the
// user's videos with live status by polling.
import { api, putWithProgress } from './api.js';
import { state, onUserChange, el, $, fmtAgo, fmtNum, toast, cheapestPlan, priceOf,
  refreshUser, engineName, confirmDialog } from './ui.js';
import { t, currentLang, errorText } from './i18n.js';
import { showWbTab } from './wbtabs.js';

const POLL_MS = 2000;
const MAX_POLLS_AT_ONCE = 8;
const PAGE = 24; // the gallery's page; thumbnails below the fold load lazily
const SEARCH_DEBOUNCE_MS = 300;

// Reference slots: request field, upload kind, the plan feature that gates it.
// Labels and hints are catalogue keys: upload.<id>, upload.<id>.hint, upload.choose.<kind>.
const SLOTS = [
  { id: 'sourceImage', field: 'sourceImageKey', kind: 'image',
    accept: 'image/png,image/jpeg,image/webp', other: 'lastFrame' },
  { id: 'lastFrame', field: 'lastFrameKey', kind: 'image',
    accept: 'image/png,image/jpeg,image/webp', other: 'sourceImage' },
  { id: 'referenceVideo', field: 'referenceVideoKey', kind: 'video',
    accept: 'video/mp4,video/quicktime,video/webm' },
  { id: 'referenceAudio', field: 'referenceAudioKey', kind: 'audio',
    accept: 'audio/mpeg,audio/mp3,audio/wav,audio/webm' },
];
const label = (s) => t(`upload.${s.id}`);
const statusLabel = (status) => t(`status.${status}`);

let presets = { styles: [], cameras: [], intensity: { pan: [], zoom: [] } };
let template = null; // { tpl, values, synced } while the prompt follows a template's fields

const uploads = {}; // slot id -> { key, busy, abort, dom... }
const videos = new Map(); // id -> { v, li }
let nextBefore = null;
let pollTimer = 0;
let searchTimer = 0;
let listSeq = 0; // the newest search's answer wins over an older one's
let form;

/** Browsers name some types differently from the contract's table. */
function contractType(file) {
  const t = (file.type || '').toLowerCase();
  if (t === 'audio/x-wav' || t === 'audio/wave') return 'audio/wav';
  if (!t && /\.mp3$/i.test(file.name)) return 'audio/mpeg';
  return t || 'application/octet-stream';
}

function lockBadge(planName) {
  return el('span', { class: 'lock', title: t('wb.lockTitle', { plan: planName }) },
    el('span', { class: 'lock-icon', 'aria-hidden': 'true' }), planName);
}

// ---- the form ----

function buildUploads() {
  const box = $('uploads');
  for (const s of SLOTS) {
    const inputId = `up-${s.id}`;
    const input = el('input', { type: 'file', id: inputId, class: 'file-input', accept: s.accept,
      'aria-describedby': `${inputId}-hint ${inputId}-status` });
    const progress = el('progress', { max: '100', value: '0', hidden: true,
      'aria-label': t('upload.progress', { what: label(s) }) });
    const status = el('p', { class: 'upload-status', id: `${inputId}-status`, 'aria-live': 'polite' });
    const preview = el('div', { class: 'upload-preview', hidden: true });
    const remove = el('button', { type: 'button', class: 'btn btn-ghost btn-sm', hidden: true,
      'aria-label': t('upload.removeLabel', { what: label(s) }) }, t('upload.remove'));
    const lockSlot = el('span', { class: 'lock-slot' });
    const node = el('div', { class: 'upload', 'data-slot': s.id },
      el('div', { class: 'upload-head' },
        el('label', { for: inputId, class: 'upload-label' }, label(s)), lockSlot),
      el('label', { for: inputId, class: 'dropzone' },
        el('span', { class: 'dz-icon', 'aria-hidden': 'true' }),
        el('span', { class: 'dz-text' }, t(`upload.choose.${s.kind}`)),
        el('span', { class: 'dz-hint', id: `${inputId}-hint` }, t(`upload.${s.id}.hint`))),
      input, preview, progress, status, remove);
    box.append(node);
    uploads[s.id] = { slot: s, key: '', busy: false, abort: null, node, input, progress, status,
      preview, remove, lockSlot, locked: false };
    input.addEventListener('change', () => { if (input.files[0]) startUpload(s.id, input.files[0]); });
    remove.addEventListener('click', () => clearUpload(s.id));
  }
}

function clearUpload(id) {
  const u = uploads[id];
  if (u.abort) u.abort();
  u.key = '';
  u.busy = false;
  u.input.value = '';
  u.progress.hidden = true;
  u.progress.value = 0;
  u.status.textContent = '';
  u.status.className = 'upload-status';
  u.preview.replaceChildren();
  u.preview.hidden = true;
  u.remove.hidden = true;
  u.node.classList.remove('has-file');
  applyGates();
}

async function startUpload(id, file) {
  const u = uploads[id];
  if (u.abort) u.abort();
  u.key = '';
  u.busy = true;
  u.node.classList.add('has-file');
  u.remove.hidden = false;
  u.progress.hidden = false;
  u.progress.value = 0;
  u.status.className = 'upload-status';
  u.status.textContent = t('upload.uploading', { name: file.name });
  u.preview.replaceChildren();
  if (u.slot.kind === 'image') {
    const img = el('img', { src: URL.createObjectURL(file), alt: t('upload.preview', { name: file.name }) });
    img.addEventListener('error', () => { u.preview.hidden = true; }, { once: true }); // no broken picture
    u.preview.append(img);
    u.preview.hidden = false;
  }
  applyGates();
  updateSubmit();
  const contentType = contractType(file);
  try {
    const p = await api('POST', '/uploads/presign',
      { kind: u.slot.kind, contentType, sizeBytes: file.size });
    const put = putWithProgress(p.uploadUrl, file, contentType, (f) => {
      u.progress.value = Math.round(f * 100);
    });
    u.abort = put.abort;
    await put.promise;
    u.abort = null;
    u.key = p.key;
    u.node.dataset.key = p.key;
    u.status.textContent = t('upload.done', { name: file.name, size: fmtSize(file.size) });
    u.status.classList.add('ok');
  } catch (e) {
    u.abort = null;
    u.progress.hidden = true;
    u.status.textContent = e.code ? errorText(e) : t('upload.failed', { error: e.message });
    u.status.classList.add('bad');
    // Nothing was uploaded: no preview, the slot empty again (and what it unlocks locked again).
    u.preview.replaceChildren();
    u.preview.hidden = true;
    u.remove.hidden = true;
    u.input.value = '';
    u.node.classList.remove('has-file');
  } finally {
    u.busy = false;
    applyGates();
    updateSubmit();
  }
}

function fmtSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** Locks what the plan does not allow, naming the cheapest plan that does. */
function applyGates() {
  const plan = state.plan;
  if (!plan) return;
  // Duration: options past the plan's maximum are disabled and name the plan.
  const sel = $('f-duration');
  const cur = Number(sel.value) || Math.min(5, plan.maxDurationSec);
  sel.replaceChildren();
  for (let d = 3; d <= 12; d++) {
    const ok = d <= plan.maxDurationSec;
    const need = ok ? null : cheapestPlan((p) => p.maxDurationSec >= d);
    sel.append(el('option', { value: d, disabled: !ok },
      ok ? t('wb.seconds', { n: d }) : t('wb.secondsLocked', { n: d, plan: need ? need.name : t('wb.unavailable') })));
  }
  sel.value = String(Math.min(cur, plan.maxDurationSec));
  const longest = cheapestPlan((p) => p.maxDurationSec >= 12);
  $('f-duration-help').textContent = plan.maxDurationSec >= 12 ? t('wb.durationAll')
    : t('wb.durationUpTo', { n: plan.maxDurationSec, plan: plan.name, longer: longest ? longest.name : t('wb.anotherPlan') });

  // 1080p.
  const hd = $('res-1080p');
  const hdLabel = $('res-1080p-label');
  hdLabel.querySelector('.lock')?.remove();
  hd.disabled = !plan.allow['1080p'];
  if (hd.disabled) {
    const need = cheapestPlan((p) => p.allow['1080p']);
    if (hd.checked) $('res-720p').checked = true;
    if (need) hdLabel.append(lockBadge(need.name));
  }
  $('res-help').textContent = t('wb.resHelp', { sd: plan.creditsPerSecond['720p'], hd: plan.creditsPerSecond['1080p'] });

  // Reference slots.
  for (const u of Object.values(uploads)) {
    const allowed = !!plan.allow[u.slot.id];
    u.locked = !allowed;
    u.lockSlot.replaceChildren();
    const otherTaken = u.slot.other && (uploads[u.slot.other].key || uploads[u.slot.other].busy);
    u.input.disabled = !allowed || !!otherTaken;
    u.node.classList.toggle('locked', !allowed);
    u.node.classList.toggle('excluded', allowed && !!otherTaken);
    u.node.dataset.locked = allowed ? '' : 'true';
    if (!allowed) {
      const need = cheapestPlan((p) => p.allow[u.slot.id]);
      u.lockSlot.append(lockBadge(need ? need.name : 'unavailable'));
      u.status.textContent = t('upload.upgrade', { plan: need ? need.name : t('wb.anotherPlan'), what: label(u.slot) });
    } else if (otherTaken && !u.key) {
      u.status.textContent = t('upload.excluded', { other: label(uploads[u.slot.other].slot) });
    } else if (!u.key && !u.busy && !u.status.classList.contains('bad')) {
      u.status.textContent = '';
    }
  }
  updatePrice();
}

function formValues() {
  return {
    duration: Number($('f-duration').value),
    resolution: form.querySelector('input[name="resolution"]:checked').value,
  };
}

// The contract's frame sizes, [resolution][aspect ratio].
const FRAME = { '720p': { '16:9': '1280×720', '9:16': '720×1280', '1:1': '720×720' },
  '1080p': { '16:9': '1920×1080', '9:16': '1080×1920', '1:1': '1080×1080' } };

function updatePrice() {
  const plan = state.plan;
  if (!plan || !state.user) return;
  const { duration, resolution } = formValues();
  const ar = form.querySelector('input[name="aspectRatio"]:checked').value;
  $('aspect-help').textContent = t('wb.frame', { size: FRAME[resolution][ar], use: t(`aspect.${ar.replace(':', '-')}`) });
  $('engine-note').textContent = plan.engineLabel ? t('wb.engineNote', { engine: engineName(plan) }) : '';
  const price = priceOf(plan, duration, resolution);
  $('price').textContent = t('wb.priceCredits', { n: fmtNum(price) });
  const short = price > state.user.credits;
  $('price-detail').textContent = t('wb.priceDetail', { duration, rate: plan.creditsPerSecond[resolution],
    resolution, balance: fmtNum(state.user.credits) });
  $('price-bar').classList.toggle('short', short);
  $('price').dataset.credits = String(price);
  showShort(short, price);
  updateSubmit();
}

/** When the balance cannot pay: why Generate is off, and what to do, in words (not a tooltip). */
function showShort(short, price) {
  const box = $('short-help');
  box.hidden = !short;
  if (!short) return;
  const balance = state.user.credits;
  const text = balance > 0 ? t('wb.shortHelp', { price: fmtNum(price), balance: fmtNum(balance) }) : t('wb.noCreditsHelp');
  box.replaceChildren(text, ' ', el('a', { href: '/app/credits', 'data-route': 'credits' }, t('wb.seeCredits')));
}

function updateSubmit() {
  const busy = Object.values(uploads).some((u) => u.busy);
  const btn = $('create-btn');
  const plan = state.plan;
  const short = plan && state.user &&
    priceOf(plan, formValues().duration, formValues().resolution) > state.user.credits;
  btn.disabled = busy || !!short || btn.classList.contains('busy');
  btn.title = busy ? t('wb.waitUploads') : short ? t('wb.notEnough') : '';
}

async function submit(ev) {
  ev.preventDefault();
  const err = $('create-error');
  err.textContent = '';
  const prompt = form.prompt.value.trim();
  if ([...prompt].length < 3) {
    err.textContent = t('wb.promptShort');
    form.prompt.focus();
    return;
  }
  const body = {
    prompt,
    durationSec: Number($('f-duration').value),
    aspectRatio: form.querySelector('input[name="aspectRatio"]:checked').value,
    resolution: formValues().resolution,
    cameraMotion: form.querySelector('input[name="cameraMotion"]:checked').value,
    motionIntensity: Number($('f-intensity').value),
    cfgScale: Number($('f-cfg').value),
  };
  const style = styleValue();
  if (style) body.style = style;
  for (const u of Object.values(uploads)) if (u.key) body[u.slot.field] = u.key;

  const btn = $('create-btn');
  btn.classList.add('busy');
  btn.disabled = true;
  try {
    const created = await api('POST', '/videos', body, { 'Idempotency-Key': crypto.randomUUID() });
    toast(t('wb.queued'));
    showWbTab('gallery', true); // on a phone: its card, with the progress, in place of the form
    const v = { ...body, id: created.id, status: created.status || 'queued', progress: 0,
      createdAt: new Date().toISOString(), videoUrl: null, thumbnailUrl: null };
    upsert(v, true);
    refreshUser().catch(() => {});
    schedulePoll(300);
  } catch (e) {
    const d = e.details || {};
    if (e.code === 'plan_gate_exceeded') {
      err.textContent = t('wb.planGate', { required: d.requiredPlan, current: d.currentPlan, field: d.field });
    } else if (e.code === 'insufficient_credits') {
      err.textContent = t('wb.short', { required: d.required, balance: d.balance });
    } else {
      err.textContent = errorText(e);
    }
  } finally {
    btn.classList.remove('busy');
    updateSubmit();
  }
}

// ---- the gallery ----

function creditsOf(v) {
  const c = v.credits;
  if (c && typeof c === 'object') return { charged: c.charged || 0, refunded: c.refunded || 0 };
  if (typeof c === 'number') return { charged: c, refunded: v.status === 'failed' ? c : 0 };
  return { charged: 0, refunded: 0 };
}

/** Why a queued video waits, from the API's "queue" object. */
function queueText(q) {
  if (q.reason === 'plan_limit') return t('gallery.queue.planLimit', { limit: fmtNum(q.runningLimit) });
  if (q.reason === 'own_queue') return t('gallery.queue.ownQueue', { n: fmtNum(q.yoursAhead) });
  return q.othersWaiting ? t('gallery.queue.workerShared', { n: fmtNum(q.othersWaiting) }) : t('gallery.queue.worker');
}

function card(v) {
  const status = v.status;
  const thumb = el('div', { class: `thumb ar-${(v.aspectRatio || '16:9').replace(':', '-')}` });
  if (v.thumbnailUrl) thumb.append(el('img', { src: v.thumbnailUrl, alt: '', loading: 'lazy' }));
  else thumb.append(el('span', { class: `thumb-placeholder s-${status}`, 'aria-hidden': 'true' }));
  if (status === 'ready' && v.videoUrl) {
    thumb.append(el('button', { type: 'button', class: 'play-btn', 'aria-label': t('gallery.playLabel', { prompt: v.prompt }),
      onclick: () => play(v) }, el('span', { class: 'play-icon', 'aria-hidden': 'true' })));
  }
  const { charged, refunded } = creditsOf(v);
  const meta = settingsText(v);
  const info = el('div', { class: 'video-info' },
    el('div', { class: 'video-top' },
      el('span', { class: `badge status-${status}`, 'data-status': status }, statusLabel(status)),
      el('span', { class: 'video-when' },
        el('span', { class: 'muted small' }, v.createdAt ? fmtAgo(v.createdAt) : ''),
        el('button', { type: 'button', class: 'fav-btn', 'aria-pressed': String(Boolean(v.favorite)),
          'aria-label': t('gallery.favoriteLabel', { prompt: v.prompt }), title: t('gallery.favorite'),
          onclick: (e) => setFavorite(v, !v.favorite, e.currentTarget) },
        el('span', { 'aria-hidden': 'true' }, v.favorite ? '★' : '☆')))),
    el('p', { class: 'video-prompt', title: v.prompt }, v.prompt),
    el('p', { class: 'video-meta muted small' }, meta, charged ? ` · ${t('wb.priceCredits', { n: fmtNum(charged) })}` : ''));
  if (status === 'queued' || status === 'processing') {
    const pct = Math.max(0, Math.min(100, Number(v.progress) || 0));
    info.append(el('div', { class: 'progress-row' },
      el('progress', { max: '100', value: String(pct), 'aria-label': t('gallery.progressLabel', { prompt: v.prompt }) }),
      el('span', { class: 'small muted pct' }, status === 'queued' ? t('gallery.waiting') : `${pct}%`)));
    if (status === 'queued' && v.queue) info.append(el('p', { class: 'video-queue small muted' }, queueText(v.queue)));
  }
  if (status === 'failed' || status === 'canceled') {
    info.append(el('p', { class: 'video-error' },
      status === 'canceled' ? t('gallery.canceled') : v.errorMessage || t('gallery.failed')));
    if (refunded) info.append(el('p', { class: 'video-refund small' }, t('gallery.refunded', { n: fmtNum(refunded) })));
  }
  if (status === 'ready' && v.videoUrl) {
    info.append(el('div', { class: 'video-actions' },
      el('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: () => play(v) }, t('gallery.play')),
      el('a', { class: 'btn btn-ghost btn-sm', href: v.videoUrl, download: `happyhorse-${v.id}.mp4` }, t('gallery.download'))));
    if (!state.plan || state.plan.publish !== false || v.shareUrl) info.append(shareRow(v));
  }
  info.append(el('button', { type: 'button', class: 'btn btn-ghost btn-sm reuse-btn', onclick: () => reuse(v) }, t('gallery.reuse')));
  if (status === 'queued' || status === 'processing') {
    info.append(el('button', { type: 'button', class: 'btn btn-ghost btn-sm cancel-btn',
      'aria-label': t('gallery.cancelLabel', { prompt: v.prompt }), onclick: (e) => cancelVideo(v, e.currentTarget) }, t('gallery.cancel')));
  } else {
    info.append(el('button', { type: 'button', class: 'btn btn-ghost btn-sm danger-text delete-btn',
      'aria-label': t('gallery.deleteLabel', { prompt: v.prompt }), onclick: (e) => deleteVideo(v, e.currentTarget) }, t('dialog.delete')));
  }
  return el('li', { class: 'video-card', 'data-id': v.id, 'data-status': status }, thumb, info);
}

// Publishing: a public page at /v/{slug}; the link is copied, the prompt shown only if chosen.
function shareRow(v) {
  const row = el('div', { class: 'share-row' });
  if (v.shareUrl) {
    row.append(
      el('p', { class: 'small muted share-state' }, t('gallery.published'), ' ',
        el('a', { href: v.shareUrl, target: '_blank', rel: 'noopener', class: 'share-link' }, v.shareUrl)),
      el('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: () => copyLink(v.shareUrl) }, t('gallery.copyLink')),
      el('button', { type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => setPublished(v, false) }, t('gallery.unpublish')));
    return row;
  }
  const id = `share-prompt-${v.id}`;
  row.append(
    el('label', { class: 'small share-prompt-opt', for: id }, el('input', { type: 'checkbox', id }), ' ', t('gallery.showPrompt')),
    el('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: () => setPublished(v, true, $(id).checked) }, t('gallery.publish')));
  return row;
}

async function copyLink(url) {
  try {
    await navigator.clipboard.writeText(url);
    toast(t('gallery.linkCopied'));
  } catch {
    window.prompt(t('gallery.copyLink'), url);
  }
}

async function setPublished(v, on, showPrompt = false) {
  const path = `/videos/${encodeURIComponent(v.id)}/publish`;
  try {
    if (on) {
      const r = await api('POST', path, { showPrompt });
      upsert({ ...v, shareUrl: r.shareUrl, sharePrompt: r.showPrompt }, false);
      await copyLink(r.shareUrl);
    } else {
      await api('DELETE', path);
      upsert({ ...v, shareUrl: null }, false);
      toast(t('gallery.unpublished'));
    }
  } catch (e) {
    toast(errorText(e));
  }
}

// A star on each card: the API's favourite routes; the answer is the video, redrawn in place.
async function setFavorite(v, on, btn) {
  const hadFocus = document.activeElement === btn;
  btn.disabled = true;
  try {
    upsert(await api(on ? 'POST' : 'DELETE', `/videos/${encodeURIComponent(v.id)}/favorite`), false);
    if (hadFocus) videos.get(v.id).li.querySelector('.fav-btn').focus();
  } catch (e) {
    btn.disabled = false;
    toast(errorText(e));
  }
}

// Cancel (queued or processing: refunded in full) and delete (ended) are the API's own, on dashboard routes.
async function cancelVideo(v, btn) {
  btn.disabled = true;
  try {
    upsert(await api('POST', `/videos/${encodeURIComponent(v.id)}/cancel`), false);
    toast(t('gallery.canceledToast'));
    refreshUser().catch(() => {});
  } catch (e) {
    btn.disabled = false;
    toast(errorText(e));
    // 409: it ended meanwhile; show what it is now.
    api('GET', `/videos/${encodeURIComponent(v.id)}`).then((now) => upsert(now, false)).catch(() => {});
  }
}

async function deleteVideo(v, btn) {
  const ok = await confirmDialog(t('gallery.confirmTitle'), t('gallery.confirmText', { prompt: v.prompt }));
  if (!ok) { btn.focus(); return; }
  btn.disabled = true;
  try {
    await api('DELETE', `/videos/${encodeURIComponent(v.id)}`);
    const old = videos.get(v.id);
    if (old) old.li.remove();
    videos.delete(v.id);
    showEmpty();
    toast(t('gallery.deleted'));
  } catch (e) {
    btn.disabled = false;
    toast(errorText(e));
  }
}

/** The settings of a video in words: style, duration, aspect ratio, resolution, camera. */
function settingsText(v) {
  const cam = v.cameraMotion && v.cameraMotion !== 'none' ? `${t(`camera.${v.cameraMotion}`)} ${v.motionIntensity || ''}`.trim() : '';
  return [v.style ? styleLabel(v.style) : '', `${v.durationSec} s`, v.aspectRatio, v.resolution, cam]
    .filter(Boolean).join(' · ');
}

/** Puts a video's prompt and settings back into the form ("reuse these settings"). */
function reuse(v) {
  template = null;
  $('tpl-panel').hidden = true;
  form.prompt.value = v.prompt || '';
  form.prompt.dispatchEvent(new Event('input'));
  setStyle(v.style || '');
  const pick = (name, value) => {
    const r = form.querySelector(`input[name="${name}"][value="${value}"]`);
    if (r && !r.disabled) r.checked = true;
  };
  pick('aspectRatio', v.aspectRatio);
  pick('resolution', v.resolution);
  if (v.cameraMotion) pick('cameraMotion', v.cameraMotion);
  if (v.motionIntensity) $('f-intensity').value = String(v.motionIntensity);
  const sel = $('f-duration');
  const opt = [...sel.options].find((o) => Number(o.value) === v.durationSec && !o.disabled);
  if (opt) sel.value = opt.value;
  updateIntensity();
  updatePrice();
  showWbTab('create');
  form.prompt.focus({ preventScroll: true });
  form.scrollIntoView({ behavior: 'smooth', block: 'start' });
  toast(t('gallery.reused'));
}

// Search and status filter are the server's (GET /videos?q&status): they reach every video, not only those loaded.
const favOnly = () => $('gallery-fav').getAttribute('aria-pressed') === 'true';
const filtering = () => Boolean($('gallery-search').value.trim() || $('gallery-filter').value || favOnly());

/** The list's path for the search box and the status filter, below `before` when given. */
function listPath(before) {
  const p = new URLSearchParams({ limit: String(PAGE) });
  const q = $('gallery-search').value.trim();
  if (q) p.set('q', q);
  if ($('gallery-filter').value) p.set('status', $('gallery-filter').value);
  if (favOnly()) p.set('favorite', 'true');
  if (before) p.set('before', before);
  return `/videos?${p}`;
}

/** Replaces the gallery with the first page that matches the search box and the filter. */
async function search() {
  clearTimeout(searchTimer);
  const seq = ++listSeq;
  const page = await api('GET', listPath(null)).catch((e) => ({ videos: [], nextBefore: null, error: errorText(e) }));
  if (seq !== listSeq) return;
  for (const { li } of videos.values()) li.remove();
  videos.clear();
  addPage(page);
}

function showEmpty() {
  $('gallery-empty').hidden = videos.size > 0 || filtering();
  $('gallery-nomatch').hidden = videos.size > 0 || !filtering();
}

function upsert(v, prepend) {
  const old = videos.get(v.id);
  const merged = old ? { ...old.v, ...v } : v;
  const li = card(merged);
  if (old) old.li.replaceWith(li);
  else if (prepend) $('gallery').prepend(li);
  else $('gallery').append(li);
  videos.set(v.id, { v: merged, li });
  showEmpty();
  return { old: old ? old.v : null, now: merged };
}

function play(v) {
  const d = $('player-dialog');
  const p = $('player');
  $('player-title').textContent = v.prompt;
  $('player-meta').textContent = [`${v.durationSec} s`, v.aspectRatio, v.resolution].filter(Boolean).join(' · ');
  p.src = v.videoUrl;
  d.showModal();
  p.play().catch(() => {});
  d.addEventListener('close', () => { p.pause(); }, { once: true });
}

function unfinished() {
  return [...videos.values()].map((x) => x.v).filter((v) => v.status === 'queued' || v.status === 'processing');
}

function schedulePoll(ms = POLL_MS) {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(poll, ms);
}

async function poll() {
  const todo = unfinished().slice(0, MAX_POLLS_AT_ONCE);
  $('gallery-status').textContent = todo.length ? t('gallery.inProgress', { n: unfinished().length }) : '';
  if (!todo.length) return;
  if (document.hidden) { schedulePoll(); return; }
  const results = await Promise.allSettled(todo.map((v) => api('GET', `/videos/${encodeURIComponent(v.id)}`)));
  let ended = false;
  for (const r of results) {
    if (r.status !== 'fulfilled') continue;
    const { old, now } = upsert(r.value, false);
    if (old && old.status !== now.status) {
      if (now.status === 'ready') toast(t('gallery.readyToast'));
      if (now.status === 'failed') toast(t('gallery.failedToast'));
      if (now.status === 'ready' || now.status === 'failed' || now.status === 'canceled') ended = true;
    }
  }
  if (ended) refreshUser().catch(() => {});
  $('gallery-status').textContent = unfinished().length ? t('gallery.inProgress', { n: unfinished().length }) : '';
  if (unfinished().length) schedulePoll();
}

/** The next page below the last card: by the button, or by scrolling near it (watchScroll). */
async function loadMore() {
  const btn = $('gallery-more');
  if (btn.disabled || !nextBefore) return;
  btn.disabled = true;
  btn.textContent = t('gallery.loadingMore');
  const seq = listSeq;
  try {
    const page = await api('GET', listPath(nextBefore));
    if (seq === listSeq) addPage(page);
  } catch (e) {
    toast(errorText(e));
  } finally {
    btn.disabled = false;
    btn.textContent = t('gallery.more');
  }
}

// Infinite scroll: the "load more" button coming within 400 px of view loads the next page, once
// at a time; the button stays for keyboards and for browsers without IntersectionObserver.
function watchScroll() {
  if (!('IntersectionObserver' in window)) return;
  const seen = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && !$('gallery-more').hidden) loadMore().then(recheck);
  }, { rootMargin: '0px 0px 400px 0px' });
  // A page that leaves the button in view fires no new intersection: look again after each page.
  const recheck = () => { seen.unobserve($('gallery-more')); seen.observe($('gallery-more')); };
  seen.observe($('gallery-more'));
}

function addPage(page) {
  if (page.error) $('gallery-status').textContent = t('gallery.loadFailed', { error: page.error });
  for (const v of page.videos || []) upsert(v, false);
  nextBefore = page.nextBefore || null;
  $('gallery-more').hidden = !nextBefore;
  showEmpty();
}

// ---- style chips, camera motions, intensity ----

/** The style to send: the chosen chip's, the custom text, or '' for none. */
function styleValue() {
  const chosen = form.querySelector('input[name="styleChip"]:checked');
  if (!chosen || chosen.value === '') return '';
  return chosen.value === 'custom' ? $('f-style').value.trim() : chosen.value;
}

function chip(group, value, text, checked, extra = {}) {
  const id = `${group}-${value || 'none'}`.replace(/[^a-z0-9-]/gi, '-');
  return [el('input', { type: 'radio', name: group, id, value, checked, ...extra }),
    el('label', { for: id }, text)];
}

function buildStyles() {
  const box = $('style-chips');
  box.append(...chip('styleChip', '', t('style.none'), true));
  for (const p of presets.styles) box.append(...chip('styleChip', p.style, t(`style.${p.id}`), false, { 'data-style': p.id }));
  box.append(...chip('styleChip', 'custom', t('style.custom'), false));
  box.addEventListener('change', () => {
    const chosen = form.querySelector('input[name="styleChip"]:checked');
    const custom = chosen && chosen.value === 'custom';
    $('f-style').hidden = !custom;
    if (custom) $('f-style').focus();
    const id = chosen && chosen.dataset.style;
    $('style-help').textContent = id ? t(`style.${id}.help`) : custom ? t('style.custom.help') : t('style.none.help');
  });
  $('style-help').textContent = t('style.none.help');
}

/** The label of a style string: its preset's name in the page's language, else the text. */
export function styleLabel(style) {
  const preset = presets.styles.find((p) => p.style.toLowerCase() === String(style || '').toLowerCase());
  return preset ? t(`style.${preset.id}`) : style;
}

/** Selects the chip of a style string (a preset's, else custom with the text). */
function setStyle(style) {
  const preset = presets.styles.find((p) => p.style.toLowerCase() === String(style || '').toLowerCase());
  const value = !style ? '' : preset ? preset.style : 'custom';
  for (const r of form.querySelectorAll('input[name="styleChip"]')) r.checked = r.value === value;
  $('f-style').value = value === 'custom' ? style : '';
  $('style-chips').dispatchEvent(new Event('change'));
}

function buildCameras() {
  const box = $('cam-grid');
  for (const c of presets.cameras) {
    const id = `cam-${c}`;
    box.append(el('input', { type: 'radio', name: 'cameraMotion', id, value: c, checked: c === 'none' }),
      el('label', { for: id, class: 'cam-option', title: t(`camera.${c}.help`) },
        el('span', { class: `cam-preview cam-${c}`, 'aria-hidden': 'true' },
          el('span', { class: 'cam-scene' }, el('span', { class: 'cam-sun' }), el('span', { class: 'cam-hill' }),
            el('span', { class: 'cam-subject' }))),
        el('span', { class: 'cam-name' }, t(`camera.${c}`))));
  }
}

/** What the chosen intensity does to the chosen camera motion, in words and numbers. */
function updateIntensity() {
  const n = Number($('f-intensity').value);
  const cam = form.querySelector('input[name="cameraMotion"]:checked').value;
  $('intensity-out').textContent = String(n);
  $('cam-grid').dataset.intensity = String(n);
  const pan = Math.round((presets.intensity.pan[n - 1] || 0) * 100);
  const zoom = (presets.intensity.zoom[n - 1] || 1).toFixed(2).replace(/0$/, '');
  let key = 'intensity.help.move';
  if (cam === 'zoom-in' || cam === 'zoom-out') key = 'intensity.help.zoom';
  if (cam === 'none' || cam === 'static') key = 'intensity.help.still';
  $('intensity-help').textContent = `${t(`intensity.${n}`)} · ${t(key, { pan, zoom })}`;
}

// ---- templates ----

/** The template's prompt in the page's language with values (name -> text) filled in. */
export function fillTemplate(tpl, values) {
  const lang = currentLang();
  return tpl.prompt[lang].replace(/\{([a-z][a-z0-9_]*)\}/g, (all, name) => values[name] ?? all);
}

function syncTemplatePrompt() {
  if (!template || !template.synced) return;
  form.prompt.value = fillTemplate(template.tpl, template.values);
  form.prompt.dispatchEvent(new Event('input'));
}

/**
 * Puts a template into the form: its prompt with values filled in, its
 * settings, and a field per placeholder that keeps the prompt in step until
 * the prompt is edited by hand.
 */
export function applyTemplate(tpl, values) {
  const lang = currentLang();
  template = { tpl, values: { ...values }, synced: true };
  $('tpl-panel').hidden = false;
  $('tpl-panel-title').textContent = `“${tpl.title[lang]}”`;
  const fields = (tpl.placeholders || []).map((p) => {
    const id = `tplf-${p.name}`;
    const input = el('input', { type: 'text', id, value: template.values[p.name], maxlength: '200', 'data-slot': p.name });
    input.addEventListener('input', () => {
      template.values[p.name] = input.value;
      syncTemplatePrompt();
    });
    return el('div', { class: 'field' }, el('label', { for: id }, p.label[lang]), input);
  });
  $('tpl-fields').replaceChildren(...fields);
  const st = tpl.settings || {};
  setStyle(st.style || '');
  const cam = form.querySelector(`input[name="cameraMotion"][value="${st.cameraMotion || 'none'}"]`);
  if (cam) cam.checked = true;
  $('f-intensity').value = String(st.motionIntensity || 3);
  const ar = form.querySelector(`input[name="aspectRatio"][value="${st.aspectRatio || '16:9'}"]`);
  if (ar) ar.checked = true;
  if (st.durationSec) {
    const sel = $('f-duration');
    sel.value = String(Math.min(st.durationSec, state.plan ? state.plan.maxDurationSec : st.durationSec));
  }
  updateIntensity();
  syncTemplatePrompt();
  updatePrice();
}

/** Builds the page from the first page of videos (fetched by app.js in parallel). */
export async function init(firstVideos) {
  form = $('video-form');
  try {
    presets = await (await fetch('/assets/presets.json')).json();
  } catch (e) { /* the chips stay empty; free text and the API still work */ }
  buildStyles();
  buildCameras();
  buildUploads();
  $('f-prompt').addEventListener('input', (ev) => { if (ev.isTrusted && template) template.synced = false; });
  $('tpl-panel-close').addEventListener('click', () => { template = null; $('tpl-panel').hidden = true; });
  $('cam-grid').addEventListener('change', updateIntensity);
  updateIntensity();
  const prompt = $('f-prompt');
  prompt.addEventListener('input', () => { $('prompt-count').textContent = [...prompt.value.trim()].length; });
  $('f-intensity').addEventListener('input', updateIntensity);
  $('f-cfg').addEventListener('input', (e) => { $('cfg-out').textContent = Number(e.target.value).toFixed(2); });
  form.addEventListener('change', updatePrice);
  form.addEventListener('submit', submit);
  $('gallery-more').addEventListener('click', loadMore);
  $('gallery-search').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, SEARCH_DEBOUNCE_MS);
  });
  $('gallery-filter').addEventListener('change', search);
  $('gallery-fav').addEventListener('click', (e) => {
    e.currentTarget.setAttribute('aria-pressed', String(!favOnly()));
    search();
  });
  watchScroll();
  // The height of the docked price bar (and error) on phones, for the toast to sit above it.
  new ResizeObserver(() => document.body.style.setProperty('--dock-h',
    `${Math.ceil($('submit-dock').getBoundingClientRect().height)}px`)).observe($('submit-dock'));
  onUserChange(applyGates);
  applyGates();
  addPage(firstVideos);
  openLinkedVideo();
  if (unfinished().length) schedulePoll(0);
  document.addEventListener('visibilitychange', () => { if (!document.hidden && unfinished().length) schedulePoll(0); });
}

/** A ledger row links to /app?video=<id>: the video is fetched, shown in the gallery and played. */
async function openLinkedVideo() {
  const id = new URLSearchParams(location.search).get('video');
  if (!id) return;
  try {
    const { now } = upsert(await api('GET', `/videos/${encodeURIComponent(id)}`), true);
    const li = videos.get(now.id).li;
    showWbTab('gallery');
    li.classList.add('linked');
    li.scrollIntoView({ block: 'center' });
    if (now.status === 'ready' && now.videoUrl) play(now);
  } catch (e) {
    toast(errorText(e));
  }
}

/** Called when the page is shown. */
export function show() {}
