// workbench.js - the generation workbench: every create-video field, reference
// uploads straight to presigned URLs with progress bars, the price before
// submitting, plan-gated options shown locked with the plan that unlocks them,
// and the gallery of the user's videos with live status by polling.
import { api, putWithProgress } from './api.js';
import { state, onUserChange, el, $, fmtAgo, fmtNum, toast, cheapestPlan, priceOf,
  refreshUser } from './ui.js';

const POLL_MS = 2000;
const MAX_POLLS_AT_ONCE = 8;

// Reference slots: request field, upload kind, the plan feature that gates it.
const SLOTS = [
  { id: 'sourceImage', field: 'sourceImageKey', label: 'First frame', kind: 'image',
    accept: 'image/png,image/jpeg,image/webp', hint: 'PNG, JPEG or WebP, up to 10 MB', other: 'lastFrame' },
  { id: 'lastFrame', field: 'lastFrameKey', label: 'Last frame', kind: 'image',
    accept: 'image/png,image/jpeg,image/webp', hint: 'PNG, JPEG or WebP, up to 10 MB', other: 'sourceImage' },
  { id: 'referenceVideo', field: 'referenceVideoKey', label: 'Reference video', kind: 'video',
    accept: 'video/mp4,video/quicktime,video/webm', hint: 'MP4, MOV or WebM, up to 50 MB' },
  { id: 'referenceAudio', field: 'referenceAudioKey', label: 'Reference audio', kind: 'audio',
    accept: 'audio/mpeg,audio/mp3,audio/wav,audio/webm', hint: 'MP3, WAV or WebM, up to 15 MB' },
];

const STATUS_LABEL = { queued: 'Queued', processing: 'Rendering', ready: 'Ready', failed: 'Failed' };

const uploads = {}; // slot id -> { key, busy, abort, dom... }
const videos = new Map(); // id -> { v, li }
let nextBefore = null;
let pollTimer = 0;
let form;

/** Browsers name some types differently from the contract's table. */
function contractType(file) {
  const t = (file.type || '').toLowerCase();
  if (t === 'audio/x-wav' || t === 'audio/wave') return 'audio/wav';
  if (!t && /\.mp3$/i.test(file.name)) return 'audio/mpeg';
  return t || 'application/octet-stream';
}

function lockBadge(planName) {
  return el('span', { class: 'lock', title: `Available on the ${planName} plan and above` },
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
      'aria-label': `${s.label} upload progress` });
    const status = el('p', { class: 'upload-status', id: `${inputId}-status`, 'aria-live': 'polite' });
    const preview = el('div', { class: 'upload-preview', hidden: true });
    const remove = el('button', { type: 'button', class: 'btn btn-ghost btn-sm', hidden: true,
      'aria-label': `Remove ${s.label.toLowerCase()}` }, 'Remove');
    const lockSlot = el('span', { class: 'lock-slot' });
    const node = el('div', { class: 'upload', 'data-slot': s.id },
      el('div', { class: 'upload-head' },
        el('label', { for: inputId, class: 'upload-label' }, s.label), lockSlot),
      el('label', { for: inputId, class: 'dropzone' },
        el('span', { class: 'dz-icon', 'aria-hidden': 'true' }),
        el('span', { class: 'dz-text' }, `Choose ${s.kind}…`),
        el('span', { class: 'dz-hint', id: `${inputId}-hint` }, s.hint)),
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
  u.status.textContent = `Uploading ${file.name}…`;
  u.preview.replaceChildren();
  if (u.slot.kind === 'image') {
    u.preview.append(el('img', { src: URL.createObjectURL(file), alt: `Preview of ${file.name}` }));
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
    u.status.textContent = `${file.name} uploaded (${fmtSize(file.size)})`;
    u.status.classList.add('ok');
  } catch (e) {
    u.abort = null;
    u.progress.hidden = true;
    u.status.textContent = e.message;
    u.status.classList.add('bad');
  } finally {
    u.busy = false;
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
      ok ? `${d} seconds` : `${d} seconds · ${need ? need.name : 'unavailable'}`));
  }
  sel.value = String(Math.min(cur, plan.maxDurationSec));
  const longest = cheapestPlan((p) => p.maxDurationSec >= 12);
  $('f-duration-help').textContent = plan.maxDurationSec >= 12 ? 'Up to 12 seconds.'
    : `Up to ${plan.maxDurationSec} s on ${plan.name}; longer with ${longest ? longest.name : 'another plan'}.`;

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
      u.status.textContent = `Upgrade to ${need ? need.name : 'another plan'} to use a ${u.slot.label.toLowerCase()}.`;
    } else if (otherTaken && !u.key) {
      u.status.textContent = `Remove the ${uploads[u.slot.other].slot.label.toLowerCase()} to use this instead.`;
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

function updatePrice() {
  const plan = state.plan;
  if (!plan || !state.user) return;
  const { duration, resolution } = formValues();
  $('engine-note').textContent = plan.engineLabel ? `Your plan's videos are made by: ${plan.engineLabel}.` : '';
  const price = priceOf(plan, duration, resolution);
  $('price').textContent = `${fmtNum(price)} credits`;
  const short = price > state.user.credits;
  $('price-detail').textContent = `${duration} s × ${plan.creditsPerSecond[resolution]}/s at ${resolution} · balance ${fmtNum(state.user.credits)}`;
  $('price-bar').classList.toggle('short', short);
  $('price').dataset.credits = String(price);
  updateSubmit();
}

function updateSubmit() {
  const busy = Object.values(uploads).some((u) => u.busy);
  const btn = $('create-btn');
  const plan = state.plan;
  const short = plan && state.user &&
    priceOf(plan, formValues().duration, formValues().resolution) > state.user.credits;
  btn.disabled = busy || !!short || btn.classList.contains('busy');
  btn.title = busy ? 'Wait for the uploads to finish' : short ? 'Not enough credits' : '';
}

async function submit(ev) {
  ev.preventDefault();
  const err = $('create-error');
  err.textContent = '';
  const prompt = form.prompt.value.trim();
  if ([...prompt].length < 3) {
    err.textContent = 'Write a prompt of at least 3 characters.';
    form.prompt.focus();
    return;
  }
  const body = {
    prompt,
    durationSec: Number($('f-duration').value),
    aspectRatio: form.querySelector('input[name="aspectRatio"]:checked').value,
    resolution: formValues().resolution,
    cameraMotion: $('f-camera').value,
    motionIntensity: Number($('f-intensity').value),
    cfgScale: Number($('f-cfg').value),
  };
  const style = form.style.value.trim();
  if (style) body.style = style;
  for (const u of Object.values(uploads)) if (u.key) body[u.slot.field] = u.key;

  const btn = $('create-btn');
  btn.classList.add('busy');
  btn.disabled = true;
  try {
    const created = await api('POST', '/videos', body, { 'Idempotency-Key': crypto.randomUUID() });
    toast('Video queued. It will appear in the gallery when ready.');
    const v = { ...body, id: created.id, status: created.status || 'queued', progress: 0,
      createdAt: new Date().toISOString(), videoUrl: null, thumbnailUrl: null };
    upsert(v, true);
    refreshUser().catch(() => {});
    schedulePoll(300);
  } catch (e) {
    const d = e.details || {};
    if (e.code === 'plan_gate_exceeded') {
      err.textContent = `${e.message} (needs the ${d.requiredPlan} plan; you are on ${d.currentPlan}).`;
    } else if (e.code === 'insufficient_credits') {
      err.textContent = `Not enough credits: this video costs ${d.required}, your balance is ${d.balance}.`;
    } else {
      err.textContent = d.field ? `${e.message} (${d.field})` : e.message;
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

function card(v) {
  const status = v.status;
  const thumb = el('div', { class: `thumb ar-${(v.aspectRatio || '16:9').replace(':', '-')}` });
  if (v.thumbnailUrl) thumb.append(el('img', { src: v.thumbnailUrl, alt: '', loading: 'lazy' }));
  else thumb.append(el('span', { class: `thumb-placeholder s-${status}`, 'aria-hidden': 'true' }));
  if (status === 'ready' && v.videoUrl) {
    thumb.append(el('button', { type: 'button', class: 'play-btn', 'aria-label': `Play “${v.prompt}”`,
      onclick: () => play(v) }, el('span', { class: 'play-icon', 'aria-hidden': 'true' })));
  }
  const { charged, refunded } = creditsOf(v);
  const meta = [`${v.durationSec} s`, v.aspectRatio, v.resolution].filter(Boolean).join(' · ');
  const info = el('div', { class: 'video-info' },
    el('div', { class: 'video-top' },
      el('span', { class: `badge status-${status}`, 'data-status': status }, STATUS_LABEL[status] || status),
      el('span', { class: 'muted small' }, v.createdAt ? fmtAgo(v.createdAt) : '')),
    el('p', { class: 'video-prompt', title: v.prompt }, v.prompt),
    el('p', { class: 'video-meta muted small' }, meta, charged ? ` · ${fmtNum(charged)} credits` : ''));
  if (status === 'queued' || status === 'processing') {
    const pct = Math.max(0, Math.min(100, Number(v.progress) || 0));
    info.append(el('div', { class: 'progress-row' },
      el('progress', { max: '100', value: String(pct), 'aria-label': `Progress of “${v.prompt}”` }),
      el('span', { class: 'small muted pct' }, status === 'queued' ? 'waiting' : `${pct}%`)));
  }
  if (status === 'failed') {
    info.append(el('p', { class: 'video-error' }, v.errorMessage || 'The render failed.'));
    if (refunded) info.append(el('p', { class: 'video-refund small' }, `${fmtNum(refunded)} credits refunded`));
  }
  if (status === 'ready' && v.videoUrl) {
    info.append(el('div', { class: 'video-actions' },
      el('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: () => play(v) }, 'Play'),
      el('a', { class: 'btn btn-ghost btn-sm', href: v.videoUrl, download: `happyhorse-${v.id}.mp4` }, 'Download')));
  }
  return el('li', { class: 'video-card', 'data-id': v.id, 'data-status': status }, thumb, info);
}

function upsert(v, prepend) {
  const old = videos.get(v.id);
  const merged = old ? { ...old.v, ...v } : v;
  const li = card(merged);
  if (old) old.li.replaceWith(li);
  else if (prepend) $('gallery').prepend(li);
  else $('gallery').append(li);
  videos.set(v.id, { v: merged, li });
  $('gallery-empty').hidden = videos.size > 0;
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
  $('gallery-status').textContent = todo.length ? `${unfinished().length} in progress` : '';
  if (!todo.length) return;
  if (document.hidden) { schedulePoll(); return; }
  const results = await Promise.allSettled(todo.map((v) => api('GET', `/videos/${encodeURIComponent(v.id)}`)));
  let ended = false;
  for (const r of results) {
    if (r.status !== 'fulfilled') continue;
    const { old, now } = upsert(r.value, false);
    if (old && old.status !== now.status) {
      if (now.status === 'ready') toast('A video is ready.');
      if (now.status === 'failed') toast('A video failed; its credits were refunded.');
      if (now.status === 'ready' || now.status === 'failed') ended = true;
    }
  }
  if (ended) refreshUser().catch(() => {});
  $('gallery-status').textContent = unfinished().length ? `${unfinished().length} in progress` : '';
  if (unfinished().length) schedulePoll();
}

async function loadMore() {
  const btn = $('gallery-more');
  btn.disabled = true;
  try {
    const page = await api('GET', `/videos?limit=24&before=${encodeURIComponent(nextBefore)}`);
    addPage(page);
  } catch (e) {
    toast(e.message);
  } finally {
    btn.disabled = false;
  }
}

function addPage(page) {
  if (page.error) $('gallery-status').textContent = `Could not load your videos: ${page.error}`;
  for (const v of page.videos || []) upsert(v, false);
  nextBefore = page.nextBefore || null;
  $('gallery-more').hidden = !nextBefore;
  $('gallery-empty').hidden = videos.size > 0;
}

/** Builds the page from the first page of videos (fetched by app.js in parallel). */
export function init(firstVideos) {
  form = $('video-form');
  buildUploads();
  const prompt = $('f-prompt');
  prompt.addEventListener('input', () => { $('prompt-count').textContent = [...prompt.value.trim()].length; });
  $('f-intensity').addEventListener('input', (e) => { $('intensity-out').textContent = e.target.value; });
  $('f-cfg').addEventListener('input', (e) => { $('cfg-out').textContent = Number(e.target.value).toFixed(2); });
  form.addEventListener('change', updatePrice);
  form.addEventListener('submit', submit);
  $('gallery-more').addEventListener('click', loadMore);
  onUserChange(applyGates);
  applyGates();
  addPage(firstVideos);
  if (unfinished().length) schedulePoll(0);
  document.addEventListener('visibilitychange', () => { if (!document.hidden && unfinished().length) schedulePoll(0); });
}

/** Called when the page is shown. */
export function show() {}
