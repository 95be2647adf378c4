// dashboard.test.mjs - the dashboard in a real browser: playwright-core
// driving Debian's chromium (headless, fresh temporary profile) against a
// real `happyhorse serve` started by tests/api/test_dashboard_browser.sh,
// which passes the server's address, the accounts and the fixture files in
// the environment. Run with node's own test runner: node --test.
//
// Flows (issue 6): sign in; create an API key, see it once, use it with
// curl, delete it and see the API refuse it; upload an image with the
// progress bar; create a video, watch it reach ready and play it; the
// charge in the ledger, linked to its video (settings on the card, reuse,
// search and status filter, publish and unpublish); a failed job's message and refund; a basic-plan
// user sees referenceAudio locked with "pro"; sign out. Issue 13: the docs
// site's every page at desktop and phone widths in both languages, the
// language switch (following the browser, remembered), translated error
// text, a prompt template carried into the workbench, style chips and
// camera previews; gallery favourites (star, filter), a gallery of 1,000
// videos paged on scrolling, and on phones an error of the create above
// the sticky Generate bar. Screenshots of each page at desktop and phone widths
// in both languages go to $HH_SCREENSHOTS when set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} must be set (run through tests/api/test_dashboard_browser.sh)`);
  return v;
};
const BASE = env('HH_BASE');
const PRO = { email: env('HH_PRO_EMAIL'), password: env('HH_PRO_PASSWORD') };
const BASIC = { email: env('HH_BASIC_EMAIL'), password: env('HH_BASIC_PASSWORD') };
const POOR = { email: env('HH_POOR_EMAIL'), password: env('HH_POOR_PASSWORD') }; // 0 credits
// 1,000 videos, all canceled but the newest two (rendered by the server's worker).
const MANY = { email: env('HH_MANY_EMAIL'), password: env('HH_MANY_PASSWORD') };
const MANY_VIDEOS = 1000;
const IMAGE = env('HH_FIXTURE_IMAGE');
const BROKEN_VIDEO = env('HH_FIXTURE_BROKEN_VIDEO');
const SHOTS = process.env.HH_SCREENSHOTS || '';
const RENDER_TIMEOUT_MS = Number(process.env.HH_RENDER_TIMEOUT_MS || 180000);
// Generous: make check runs this beside the ASan build and the fuzzers on few cores.
const STEP_TIMEOUT_MS = Number(process.env.HH_STEP_TIMEOUT_MS || 60000);

const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 375, height: 812 };
const PHONE_390 = { width: 390, height: 844 }; // the phone layout's checks (a common phone's CSS size)

let browser;
const errors = [];

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.HH_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
});

/**
 * A fresh context and page; page errors and CSP violations are collected.
 * storageState (optional) starts it with a signed-in session's cookie.
 */
async function newPage(viewport = DESKTOP, storageState = undefined, locale = 'en-US') {
  const context = await browser.newContext({ viewport, acceptDownloads: true, storageState, locale });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) errors.push(m.text());
  });
  return { context, page };
}

async function signIn(page, who) {
  await page.goto(`${BASE}/`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${BASE}/app`);
  await page.waitForSelector('body.ready');
}

// Sign-ins are rate-limited (docs/security-and-limits.md), so most
// tests reuse one session per user; the sign-in and sign-out tests make their own.
const sessions = new Map();
async function signedIn(who, viewport = DESKTOP, locale = 'en-US') {
  if (!sessions.has(who.email)) {
    const { context, page } = await newPage();
    await signIn(page, who);
    sessions.set(who.email, await context.storageState());
    await context.close();
  }
  const pg = await newPage(viewport, sessions.get(who.email), locale);
  await pg.page.goto(`${BASE}/app`);
  await pg.page.waitForSelector('body.ready');
  return pg;
}

async function go(page, name) {
  await page.locator(`.nav a[data-route="${name}"]`).click();
  await page.locator(`#page-${name}`).waitFor({ state: 'visible' });
}

/**
 * Fails the test unless the server routes method + path. Asked without a
 * session, a routed dashboard path answers 401 (or 403, 405); only a path
 * with no route answers 404. The flows need every route they use, so a
 * missing one is a failure that names it, never a skipped step.
 */
async function requireRoute(method, path) {
  const r = await fetch(`${BASE}${path}`, { method });
  assert.notEqual(r.status, 404, `${method} ${path} answers 404: the server has no such route`);
}

function curlStatus(key) {
  return execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}',
    '-H', `Authorization: Bearer ${key}`, `${BASE}/api/v1/account`]).toString();
}

/** A locator's box, failing when it has none (not displayed). */
async function box(locator, what) {
  const b = await locator.boundingBox();
  assert.ok(b, `${what} is not displayed`);
  return b;
}

async function balance(page) {
  return Number((await page.locator('#balance-value').textContent()).replace(/[^0-9]/g, ''));
}

test('sign in: the page asks nothing that fails, and a signed-in visitor goes straight on', async () => {
  const { context, page } = await newPage();
  const failed = [];
  page.on('console', (m) => { if (m.type() === 'error') failed.push(`${m.text()} ${m.location().url}`); });
  page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
  await page.goto(`${BASE}/`);
  await page.waitForSelector('body.ready');
  await page.waitForLoadState('networkidle');
  assert.deepEqual(failed, []);
  await context.close();
  const signed = await signedIn(PRO);
  await signed.page.goto(`${BASE}/`);
  await signed.page.waitForURL(`${BASE}/app`);
  await signed.context.close();
});

test('sign in: wrong password is refused in place, then the workbench opens', async () => {
  const { context, page } = await newPage();
  await page.goto(`${BASE}/app/credits`);
  await page.waitForURL(`${BASE}/?next=%2Fapp%2Fcredits`); // no session: to the sign-in page
  await page.getByLabel('Email').fill(PRO.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await assert.doesNotReject(page.getByRole('alert').filter({ hasText: 'Email or password is wrong' }).waitFor());
  // Keyboard only: the password field is focused again; type and press Enter.
  assert.equal(await page.evaluate(() => document.activeElement.id), 'password');
  await page.keyboard.type(PRO.password);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${BASE}/app/credits`); // back where the visitor was going
  await page.waitForSelector('body.ready');
  assert.equal(await page.locator('#page-credits').isVisible(), true);
  await go(page, 'workbench');
  assert.equal(await page.locator('#account-email').textContent(), PRO.email);
  assert.equal(await page.locator('#plan-badge').textContent(), 'pro');
  assert.equal(await page.title(), 'Workbench · HappyHorse');
  const cookies = await context.cookies();
  const c = cookies.find((x) => x.name === 'hh_session');
  assert.ok(c && c.httpOnly && c.sameSite === 'Lax', 'HttpOnly, SameSite=Lax session cookie');
  assert.equal(await page.evaluate(() => document.cookie.includes('hh_session')), false,
    'scripts cannot read the session');
  await context.close();
});

test('API keys: create, see once, use with curl, delete, refused', async () => {
  const { context, page } = await signedIn(PRO);
  await go(page, 'keys');
  await page.getByLabel('Key name').fill('browser test');
  await page.getByRole('button', { name: 'Create key' }).click();
  const secretBox = page.locator('#secret-value');
  await secretBox.waitFor({ state: 'visible' });
  const secret = await secretBox.inputValue();
  assert.match(secret, /^hh_live_[A-Za-z0-9_-]{43}$/);
  await assert.doesNotReject(page.getByText('it will not be shown again').waitFor());
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
  await page.getByRole('button', { name: 'Copy' }).click();
  await page.getByText('Copied to the clipboard.').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret, 'copy button');

  // The key works on the Customer API, from curl.
  assert.equal(curlStatus(secret), '200');

  const row = page.locator('#keys-body tr', { hasText: 'browser test' });
  await assert.doesNotReject(row.waitFor());
  assert.match(await row.textContent(), new RegExp(`${secret.slice(0, 12)}…`));
  assert.match(await row.textContent(), /Never|just now|minute/);

  // Once dismissed, the secret is gone from the page for good.
  await page.getByRole('button', { name: 'I have saved it' }).click();
  assert.equal(await page.locator('#secret-card').isHidden(), true);
  await page.reload();
  await page.waitForSelector('body.ready');
  assert.equal(await page.content().then((h) => h.includes(secret)), false, 'secret not shown again');

  // Delete: cancel first (nothing happens), then confirm.
  await row.getByRole('button', { name: 'Delete key browser test' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  assert.equal(curlStatus(secret), '200', 'cancelled delete keeps the key');
  await row.getByRole('button', { name: 'Delete key browser test' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await row.waitFor({ state: 'detached' });
  assert.equal(curlStatus(secret), '401', 'the deleted key is refused');
  await context.close();
});

test('webhooks: add an endpoint, its secret once, the delivery log, delete', async () => {
  for (const [m, path] of [['GET', '/api/dashboard/webhooks'], ['POST', '/api/dashboard/webhooks'],
    ['DELETE', '/api/dashboard/webhooks/x'], ['GET', '/api/dashboard/webhooks/x/deliveries']]) {
    await requireRoute(m, path);
  }
  const { page } = await signedIn(PRO);
  await go(page, 'webhooks');
  // A URL that is not http(s) is refused in place, naming the problem.
  await page.getByLabel('Endpoint URL').fill('ftp://example.com/hooks');
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  await page.locator('#hook-error', { hasText: 'http' }).waitFor();
  // The server runs with --webhook-allow-private: a loopback port nothing listens on.
  const url = 'http://127.0.0.1:9/browser-hook';
  await page.getByLabel('Endpoint URL').fill(url);
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  const secretBox = page.locator('#hook-secret-value');
  await secretBox.waitFor({ state: 'visible' });
  const secret = await secretBox.inputValue();
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  await page.locator('#hook-secret-done').click();
  assert.equal(await page.locator('#hook-secret-card').isHidden(), true);
  const row = page.locator('#hooks-body tr', { hasText: url });
  await row.waitFor();
  assert.match(await row.textContent(), /Active/);
  assert.match(await row.textContent(), /video\.ready, video\.failed, video\.canceled/);
  await page.reload();
  await page.waitForSelector('body.ready');
  assert.equal(await page.content().then((h) => h.includes(secret)), false, 'secret not shown again');
  await row.getByRole('button', { name: `Deliveries to ${url}` }).click();
  await page.locator('#hook-log').waitFor({ state: 'visible' });
  await page.getByText('Nothing sent to this endpoint yet.').waitFor();
  await row.getByRole('button', { name: `Delete endpoint ${url}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await row.waitFor({ state: 'detached' });
  await page.context().close();
});

test('a basic-plan user sees referenceAudio locked with "pro"', async () => {
  const { context, page } = await signedIn(BASIC);
  const audio = page.locator('.upload[data-slot="referenceAudio"]');
  assert.equal(await audio.getAttribute('data-locked'), 'true');
  assert.equal((await audio.locator('.lock').textContent()).trim(), 'pro');
  assert.equal(await page.locator('#up-referenceAudio').isDisabled(), true);
  const lastFrame = page.locator('.upload[data-slot="lastFrame"]');
  assert.equal((await lastFrame.locator('.lock').textContent()).trim(), 'pro');
  // What basic allows is open: 1080p and a reference video.
  assert.equal(await page.locator('#res-1080p').isDisabled(), false);
  assert.equal(await page.locator('#up-referenceVideo').isDisabled(), false);
  // Durations past basic's 8 s name the plan that allows them.
  const nine = page.locator('#f-duration option[value="9"]');
  assert.equal(await nine.isDisabled(), true);
  assert.match(await nine.textContent(), /pro/);
  // The price follows the plan's rates: 8 s at 1080p = 8 x 20.
  await page.locator('#f-duration').selectOption('8');
  await page.locator('label[for="res-1080p"]').click();
  assert.equal(await page.locator('#price').textContent(), '160 credits');
  await context.close();
});

test('workbench: a balance that cannot pay says so in words and where to look', async () => {
  const { context, page } = await signedIn(POOR);
  const help = page.locator('#short-help');
  await help.waitFor();
  assert.match(await help.textContent(), /balance is 0 credits.*operator/);
  assert.equal(await page.locator('#create-btn').isDisabled(), true);
  await help.getByRole('link').click();
  await page.waitForURL(`${BASE}/app/credits`);
  assert.equal(await page.locator('#page-credits').isVisible(), true);
  await context.close();
});

test('credits page: balance, plan limits, ledger', async () => {
  const { context, page } = await signedIn(PRO);
  await go(page, 'credits');
  const bal = await balance(page);
  assert.equal(Number((await page.locator('#credits-balance').textContent()).replace(/\D/g, '')), bal);
  assert.match(await page.locator('#plans-table th.current').textContent(), /pro/);
  const first = page.locator('#ledger-body tr').first();
  assert.equal(await first.getAttribute('data-kind'), 'grant');
  await context.close();
});

test('phone: the form and the gallery are tabs (remembered), Generate stays in reach', async () => {
  const { context, page } = await signedIn(PRO, PHONE_390);
  const tab = (name) => page.locator(`#wb-tabs [data-wb-tab="${name}"]`);
  const gallery = page.locator('#page-workbench .gallery-card');
  await tab('gallery').click();
  assert.equal(await page.locator('#video-form').isVisible(), false);
  const top = (await box(gallery, 'the gallery')).y;
  assert.ok(top < PHONE_390.height / 2, `the gallery starts at ${top}px, not on the first screen`);
  await page.reload();
  await page.waitForSelector('body.ready');
  assert.equal(await tab('gallery').getAttribute('aria-pressed'), 'true', 'the Gallery tab is not remembered');
  assert.equal(await gallery.isVisible(), true);
  await tab('create').click();
  assert.equal(await gallery.isVisible(), false);
  // At the top of the form, prompt focused, and deep in it: the price and Generate are on screen.
  await page.locator('#f-prompt').focus();
  await page.evaluate(() => document.getElementById('video-form').scrollIntoView({ block: 'start' }));
  const bar = await box(page.locator('#price-bar'), 'the price bar');
  assert.ok(bar.height <= 96, `the Generate bar is ${bar.height}px tall, an eighth of the screen at most`);
  for (const where of ['the prompt', 'the aspect ratio']) {
    if (where !== 'the prompt') await page.locator('#ar-16-9 + label').scrollIntoViewIfNeeded();
    for (const id of ['#create-btn', '#price']) {
      const b = await box(page.locator(id), id);
      assert.ok(b.y >= 0 && b.y + b.height <= PHONE_390.height,
        `${id} at y=${b.y} is outside the ${PHONE_390.height}px screen at ${where}`);
    }
  }
  await context.close();
});

test('phone: the plans table starts on screen with its labels, ledger rows are compact', async () => {
  const { context, page } = await signedIn(PRO, PHONE_390);
  await go(page, 'credits');
  const label = page.locator('#plans-table tbody th').first();
  const onScreen = async (what) => {
    const b = await box(label, 'the first plan limit');
    assert.ok(b.x >= 0 && b.x + b.width <= PHONE_390.width, `the plan limits' labels are off-screen ${what} (x=${b.x})`);
  };
  await onScreen('at first');
  const mine = await box(page.locator('#plans-table thead th.current'), 'your plan');
  assert.ok(mine.x >= 0 && mine.x + mine.width <= PHONE_390.width, `your plan's column is off-screen (x=${mine.x})`);
  // Scrolled sideways to the last plan, the labels stay in view.
  await page.evaluate(() => { const s = document.getElementById('plans-table').parentElement; s.scrollLeft = s.scrollWidth; });
  await onScreen('scrolled to the last plan');
  const rows = page.locator('#ledger-body tr');
  assert.ok(await rows.count() > 0);
  for (let i = 0; i < Math.min(await rows.count(), 5); i++) {
    const h = (await box(rows.nth(i), `ledger row ${i}`)).height;
    assert.ok(h < 72, `ledger row ${i} is ${h}px tall at ${PHONE_390.width}px`);
  }
  await context.close();
});

test('phone: a page title after navigation is below the bar, a toast is whole and off Generate', async () => {
  const { context, page } = await signedIn(PRO, PHONE_390);
  for (const name of ['credits', 'webhooks', 'workbench']) {
    await page.evaluate(() => window.scrollTo(0, 600));
    await go(page, name);
    const bar = await box(page.locator('.topbar'), 'the top bar');
    const h1 = await box(page.locator(`#page-${name} h1`), `the ${name} title`);
    assert.ok(h1.y >= bar.y + bar.height, `the ${name} title (y=${h1.y}) is under the bar (bottom ${bar.y + bar.height})`);
  }
  await page.locator('#wb-tabs [data-wb-tab="create"]').click();
  await page.evaluate(async () => (await import('/assets/ui.js')).toast('Your video is queued: it appears in the gallery with its progress'));
  const t = await box(page.locator('#toast'), 'the toast');
  assert.ok(t.width >= PHONE_390.width - 40 && t.x >= 0 && t.x + t.width <= PHONE_390.width, `the toast is ${t.width}px wide at x=${t.x}`);
  const bar = await box(page.locator('#price-bar'), 'the price bar');
  assert.ok(t.y + t.height <= bar.y, `the toast (bottom ${t.y + t.height}) covers the Generate bar (top ${bar.y})`);
  await context.close();
});

test('upload an image with the progress bar', async () => {
  await requireRoute('POST', '/api/dashboard/uploads/presign');
  const { context, page } = await signedIn(PRO);
  // Record every value the progress bar shows.
  await page.evaluate(() => {
    window.__progress = [];
    const bar = document.querySelector('.upload[data-slot="sourceImage"] progress');
    new MutationObserver(() => window.__progress.push(bar.value))
      .observe(bar, { attributes: true, attributeFilter: ['value'] });
  });
  await page.locator('#up-sourceImage').setInputFiles(IMAGE);
  const slot = page.locator('.upload[data-slot="sourceImage"]');
  await slot.locator('.upload-status.ok').waitFor();
  assert.equal(await slot.locator('progress').evaluate((p) => p.value), 100);
  assert.ok((await page.evaluate(() => window.__progress)).includes(100), 'progress reached 100');
  assert.match(await slot.getAttribute('data-key'), /^videos\/inputs\/[0-9a-f-]+\/[0-9a-f-]+\.png$/);
  // First and last frame exclude each other.
  assert.equal(await page.locator('#up-lastFrame').isDisabled(), true);
  // A failed upload leaves no broken preview and unlocks the other slot again.
  await slot.getByRole('button', { name: /Remove/ }).click();
  await page.locator('#up-sourceImage').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') });
  await slot.locator('.upload-status.bad').waitFor();
  assert.ok(await slot.locator('.upload-preview').isHidden(), 'no preview of a failed upload');
  assert.equal(await slot.evaluate((n) => n.classList.contains('has-file')), false, 'the slot is empty again');
  assert.equal(await page.locator('#up-lastFrame').isDisabled(), false, 'the last frame is free again');
  await context.close();
});

test('create a video, watch it reach ready, play it, see the charge', async () => {
  await requireRoute('POST', '/api/dashboard/videos');
  await requireRoute('POST', '/api/dashboard/uploads/presign');
  const { context, page } = await signedIn(PRO);
  const before = await balance(page);
  await page.locator('#up-sourceImage').setInputFiles(IMAGE); // the first frame
  await page.locator('.upload[data-slot="sourceImage"] .upload-status.ok').waitFor();
  await page.locator('#f-prompt').fill('A bright orange kite over a calm sea, browser test');
  await page.locator('label[for="styleChip-watercolor"]').click();
  await page.locator('#f-duration').selectOption('3');
  await page.locator('label[for="ar-1-1"]').click();
  await page.locator('label[for="cam-zoom-in"]').click();
  assert.equal(await page.locator('#price').textContent(), '30 credits');
  await page.getByRole('button', { name: 'Generate video' }).click();
  const card = page.locator('.video-card', { hasText: 'orange kite' }).first();
  await card.waitFor();
  await page.waitForFunction(() => Number(document.getElementById('balance-value').textContent.replace(/\D/g, '')) > 0);
  await card.locator('[data-status="ready"]').waitFor({ timeout: RENDER_TIMEOUT_MS });
  assert.equal(await balance(page), before - 30, 'charged the shown price');
  assert.ok(await card.locator('.thumb img').count(), 'thumbnail shown');
  const download = card.getByRole('link', { name: 'Download' });
  assert.match(await download.getAttribute('href'), /\/videos\/outputs\/[0-9a-f-]+\.mp4$/);

  await card.getByRole('button', { name: 'Play', exact: true }).click();
  const duration = await page.locator('#player').evaluate((v) => new Promise((resolve, reject) => {
    const done = () => resolve(v.duration);
    if (v.readyState >= 1) done();
    v.addEventListener('loadedmetadata', done, { once: true });
    v.addEventListener('error', () => reject(new Error(`video error ${v.error && v.error.code}`)), { once: true });
  }));
  assert.ok(Math.abs(duration - 3) <= 0.1, `duration ${duration} ≈ 3 s`);
  await page.keyboard.press('Escape');

  await go(page, 'credits');
  const charge = page.locator('#ledger-body tr[data-kind="charge"]').first();
  await charge.waitFor();
  assert.match(await charge.textContent(), /−30/);

  // The charge links to its video: the workbench opens with the card marked and the player open.
  const link = charge.locator('a.ledger-video');
  const videoId = (await link.getAttribute('href')).match(/[?&]video=([0-9a-f-]+)/)[1];
  await link.click();
  await page.locator(`.video-card.linked[data-id="${videoId}"]`).waitFor();
  await page.locator('#player-dialog[open]').waitFor();
  await page.keyboard.press('Escape');

  // The card says its settings and puts them back into the form.
  const linked = page.locator(`.video-card[data-id="${videoId}"]`);
  assert.match(await linked.locator('.video-meta').textContent(), /Watercolor.*3 s · 1:1 · 720p/);
  await page.locator('label[for="ar-16-9"]').click();
  await page.locator('#f-prompt').fill('something else');
  await linked.getByRole('button', { name: 'Reuse these settings' }).click();
  assert.match(await page.locator('#f-prompt').inputValue(), /orange kite/);
  assert.ok(await page.locator('#ar-1-1').isChecked(), 'aspect ratio reused');
  assert.ok(await page.locator('#styleChip-watercolor').isChecked(), 'style reused');

  // Search and status filter: asked of the server (debounced), the gallery shows its answer.
  await page.locator('#gallery-search').fill('no prompt says this');
  await page.locator('#gallery-nomatch').waitFor();
  await linked.waitFor({ state: 'detached' });
  const asked = page.waitForRequest((r) => r.url().includes('/api/dashboard/videos?') && r.url().includes('q=ORANGE+KITE'));
  await page.locator('#gallery-search').fill('ORANGE KITE');
  await asked;
  await linked.waitFor();
  assert.ok(await page.locator('#gallery-nomatch').isHidden(), 'search by prompt, any case');
  for (const p of await page.locator('.video-card .video-prompt').allTextContents()) assert.match(p, /orange kite/i);
  await page.locator('#gallery-search').fill('');
  await page.locator('#gallery-filter').selectOption('failed');
  await linked.waitFor({ state: 'detached' });
  await page.locator('#gallery-filter').selectOption('');
  await linked.waitFor();

  // Publish: the link appears on the card and serves the share page; unpublish removes it.
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await linked.locator('.share-prompt-opt input').check();
  await linked.getByRole('button', { name: 'Publish' }).click();
  const shareLink = page.locator(`.video-card[data-id="${videoId}"] a.share-link`);
  await shareLink.waitFor();
  const shareUrl = await shareLink.getAttribute('href');
  assert.match(shareUrl, /\/v\/[A-Za-z0-9_-]{22}$/);
  const shared = await context.newPage();
  await shared.goto(shareUrl);
  assert.equal(await shared.locator('meta[property="og:video:type"]').getAttribute('content'), 'video/mp4');
  assert.match(await shared.locator('.share-prompt').textContent(), /orange kite/);
  await shared.close();
  await page.locator(`.video-card[data-id="${videoId}"]`).getByRole('button', { name: 'Unpublish' }).click();
  await page.locator(`.video-card[data-id="${videoId}"]`).getByRole('button', { name: 'Publish' }).waitFor();
  await context.close();
});

test('a failed job shows its message and the refund', async () => {
  await requireRoute('POST', '/api/dashboard/uploads/presign'); // the failure comes from a broken upload
  const { context, page } = await signedIn(PRO);
  const before = await balance(page);
  await page.locator('#up-referenceVideo').setInputFiles(BROKEN_VIDEO);
  await page.locator('.upload[data-slot="referenceVideo"] .upload-status.ok').waitFor();
  await page.locator('#f-prompt').fill('This one cannot be rendered, browser test');
  await page.locator('#f-duration').selectOption('3');
  await page.getByRole('button', { name: 'Generate video' }).click();
  const card = page.locator('.video-card', { hasText: 'cannot be rendered' }).first();
  await card.locator('[data-status="failed"]').waitFor({ timeout: RENDER_TIMEOUT_MS });
  assert.ok((await card.locator('.video-error').textContent()).length > 5, 'error message shown');
  await card.locator('.video-refund').waitFor();
  assert.match(await card.locator('.video-refund').textContent(), /30 credits refunded/);
  await page.waitForFunction((b) => Number(document.getElementById('balance-value').textContent.replace(/\D/g, '')) === b, before);
  await go(page, 'credits');
  // The page reloads a stale ledger when shown: wait for that answer, not the rows it replaces.
  await page.waitForFunction(() => document.querySelector('#ledger-body tr')?.getAttribute('data-kind') === 'refund');
  assert.equal(await page.locator('#ledger-body tr').first().getAttribute('data-kind'), 'refund');
  await context.close();
});

test('gallery: cancel a render (refunded, balance refreshed), delete an ended video after confirming', async () => {
  await requireRoute('POST', '/api/dashboard/videos/00000000-0000-7000-8000-000000000000/cancel');
  await requireRoute('DELETE', '/api/dashboard/videos/00000000-0000-7000-8000-000000000000');
  const { context, page } = await signedIn(PRO);
  const before = await balance(page);
  await page.locator('#f-prompt').fill('A long slow pan to cancel at once, browser test');
  // The longest, largest render: it is still queued or rendering when the button is clicked.
  await page.locator('#f-duration').selectOption('12');
  await page.locator('label[for="res-1080p"]').click();
  await page.getByRole('button', { name: 'Generate video' }).click();
  const card = page.locator('.video-card', { hasText: 'to cancel at once' }).first();
  await card.locator('.cancel-btn').click();
  await card.locator('.badge[data-status="canceled"]').waitFor();
  assert.equal(await card.locator('.cancel-btn').count(), 0, 'an ended video has no cancel button');
  await page.waitForFunction((b) => Number(document.getElementById('balance-value').textContent.replace(/\D/g, '')) === b, before);

  // Delete: dismissing the dialog keeps the video; confirming removes the card and the video.
  const id = await card.getAttribute('data-id');
  await card.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  assert.ok(await card.isVisible(), 'still there after Cancel');
  await card.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await page.locator(`.video-card[data-id="${id}"]`).waitFor({ state: 'detached' });
  assert.equal((await context.request.get(`${BASE}/api/dashboard/videos/${id}`)).status(), 404, 'gone on the server');
  await context.close();
});

test('gallery: a star on a card, the favourites filter, unstar', async () => {
  await requireRoute('POST', '/api/dashboard/videos/00000000-0000-7000-8000-000000000000/favorite');
  const { context, page } = await signedIn(MANY);
  const cards = page.locator('#gallery .video-card');
  await cards.first().waitFor();
  const card = cards.nth(3);
  const id = await card.getAttribute('data-id');
  const star = page.locator(`.video-card[data-id="${id}"] .fav-btn`);
  assert.equal(await star.getAttribute('aria-pressed'), 'false');
  await star.click();
  await page.locator(`.video-card[data-id="${id}"] .fav-btn[aria-pressed="true"]`).waitFor();
  const saved = await (await context.request.get(`${BASE}/api/dashboard/videos/${id}`)).json();
  assert.equal(saved.favorite, true, 'the star is on the server');
  await page.locator('#gallery-fav').click();
  assert.equal(await page.locator('#gallery-fav').getAttribute('aria-pressed'), 'true');
  await page.waitForFunction(() => document.querySelectorAll('#gallery .video-card').length === 1);
  assert.equal(await cards.first().getAttribute('data-id'), id, 'only the favourite is listed');
  assert.equal(await page.locator('#gallery-more').isVisible(), false, 'one page of favourites');
  await star.click(); // unstar: the card stays until the list is asked again
  await page.locator(`.video-card[data-id="${id}"] .fav-btn[aria-pressed="false"]`).waitFor();
  assert.equal((await (await context.request.get(`${BASE}/api/dashboard/videos/${id}`)).json()).favorite, false);
  await page.locator('#gallery-fav').click();
  await page.waitForFunction(() => document.querySelectorAll('#gallery .video-card').length === 24);
  await page.locator('#gallery-fav').click();
  await page.locator('#gallery-nomatch').waitFor(); // no favourites left
  assert.equal(await cards.count(), 0);
  await context.close();
});

test('gallery: 1,000 videos: a first page of 24, more on scrolling, each once, thumbnails lazy', async () => {
  const lists = [];
  await (await signedIn(MANY)).context.close(); // the session, kept in sessions
  const { context, page } = await newPage(DESKTOP, sessions.get(MANY.email));
  page.on('response', async (r) => {
    const u = new URL(r.url());
    if (u.pathname === '/api/dashboard/videos' && r.request().method() === 'GET') {
      lists.push({ limit: u.searchParams.get('limit'), n: (await r.json()).videos.length });
    }
  });
  await page.goto(`${BASE}/app`);
  await page.waitForSelector('body.ready');
  const cards = page.locator('#gallery .video-card');
  await page.waitForFunction(() => document.querySelectorAll('#gallery .video-card').length > 0);
  assert.equal(await cards.count(), 24, 'the first page only');
  while (!lists.length) await page.waitForTimeout(20); // the listener reads the body after the page
  assert.deepEqual(lists[0], { limit: '24', n: 24 }, 'the first request asks 24 and gets 24');
  // The two newest render on the server; their thumbnails are lazy images.
  await page.waitForFunction(() => document.querySelectorAll('#gallery img').length === 2, null,
    { timeout: RENDER_TIMEOUT_MS });
  for (const img of await page.locator('#gallery img').all()) {
    assert.equal(await img.getAttribute('loading'), 'lazy');
  }
  // Scrolling to the end loads the next pages (no click), until every video is there.
  for (let i = 0; i < 100 && (await cards.count()) < MANY_VIDEOS; i++) {
    const n = await cards.count();
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await page.waitForFunction((was) => document.querySelectorAll('#gallery .video-card').length > was, n);
  }
  const ids = await page.$$eval('#gallery .video-card', (els) => els.map((e) => e.dataset.id));
  assert.equal(ids.length, MANY_VIDEOS);
  assert.equal(new Set(ids).size, MANY_VIDEOS, 'each video once');
  assert.equal(await page.locator('#gallery-more').isVisible(), false, 'nothing more to load');
  assert.ok(lists.length >= 42, `${lists.length} list requests for 1,000 in pages of 24`);
  assert.ok(lists.every((l) => l.limit === '24' && l.n <= 24), 'every page asked 24 at most');
  await context.close();
});

test('phone: an error of the create is on screen above the sticky Generate bar, a toast above both', async () => {
  const { context, page } = await signedIn(PRO, PHONE_390);
  await page.locator('#wb-tabs [data-wb-tab="create"]').click();
  const onScreenAboveBar = async (what) => {
    const e = await box(page.locator('#create-error'), what);
    const bar = await box(page.locator('#price-bar'), 'the price bar');
    assert.ok(e.y >= 0 && e.y + e.height <= PHONE_390.height, `${what} at y=${e.y} is off the ${PHONE_390.height}px screen`);
    assert.ok(e.y + e.height <= bar.y + 0.5, `${what} (bottom ${e.y + e.height}) is under the Generate bar (top ${bar.y})`);
    assert.ok(bar.y + bar.height <= PHONE_390.height + 0.5, 'the Generate bar is on screen');
    return e;
  };
  // Checked in the browser: a prompt too short, while the form is scrolled to its top.
  await page.locator('#f-prompt').fill('ab');
  await page.evaluate(() => document.getElementById('video-form').scrollIntoView({ block: 'start' }));
  await page.locator('#create-btn').click();
  await page.locator('#create-error:not(:empty)').waitFor();
  await onScreenAboveBar('the short-prompt error');
  const shortText = await page.locator('#create-error').textContent();
  // Refused by the server, deep in the form.
  await page.route('**/api/dashboard/videos', (route) => (route.request().method() === 'POST'
    ? route.fulfill({ status: 429, contentType: 'application/json', headers: { 'Retry-After': '30' },
      body: JSON.stringify({ error: { code: 'rate_limited', message: 'Too many requests.' } }) })
    : route.continue()));
  await page.locator('#f-prompt').fill('A horse refused by the server, browser test');
  await page.locator('#ar-16-9 + label').scrollIntoViewIfNeeded();
  await page.locator('#create-btn').click();
  await page.waitForFunction((was) => {
    const t = document.getElementById('create-error').textContent;
    return t && t !== was;
  }, shortText);
  const e = await onScreenAboveBar('the server\'s error');
  await page.evaluate(async () => (await import('/assets/ui.js')).toast('A toast while the error is shown'));
  const t = await box(page.locator('#toast'), 'the toast');
  assert.ok(t.y + t.height <= e.y + 0.5, `the toast (bottom ${t.y + t.height}) covers the error (top ${e.y})`);
  await page.unroute('**/api/dashboard/videos');
  await context.close();
});

test('screenshots of each page at desktop and phone widths, in both languages', async () => {
  // zh-CN (the product's language) as <page>-<width>.png, English as <page>-en-<width>.png.
  for (const [lang, locale, suffix] of [['zh-CN', 'zh-CN', ''], ['en', 'en-US', '-en']]) {
    for (const [tag, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
      const anon = await newPage(viewport, undefined, locale);
      await anon.page.goto(`${BASE}/`);
      await anon.page.locator('body.ready #auth-form').waitFor();
      assert.equal(await anon.page.evaluate(() => document.documentElement.lang), lang);
      if (SHOTS) await anon.page.screenshot({ path: join(SHOTS, `signin${suffix}-${tag}.png`) });
      await anon.context.close();
      const { context, page } = await signedIn(PRO, viewport, locale);
      assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
      if (tag === 'desktop' && lang === 'zh-CN') { // something to show in the key list
        await go(page, 'keys');
        await page.locator('#key-name').fill('production server');
        await page.locator('#key-create').click();
        await page.locator('#secret-done').click();
        await page.locator('#keys-body tr', { hasText: 'production server' }).waitFor();
      }
      for (const name of ['workbench', 'templates', 'keys', 'webhooks', 'credits']) {
        await go(page, name);
        const ready = { workbench: '#price', templates: '.tpl-card', keys: '#keys-body tr', webhooks: '#hook-form',
          credits: '#ledger-body tr' };
        await page.locator(`#page-${name} ${ready[name]}`).first().waitFor();
        // Lazy thumbnails below the fold: load them all before the full-page shot.
        await page.evaluate(() => Promise.all([...document.querySelectorAll('main img')].map((i) => {
          i.loading = 'eager';
          return i.complete ? 0 : new Promise((r) => { i.onload = r; i.onerror = r; });
        })));
        await page.evaluate(() => window.scrollTo(0, 0));
        // No horizontal scrolling at any width.
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${name} (${lang}) at ${viewport.width}px scrolls sideways by ${overflow}px`);
        // Every dashboard page links to the docs site in its language.
        assert.equal(await page.locator('#nav-docs').getAttribute('href'), `/docs/${lang}/`);
        // The phone's workbench as one screen: a full-page shot would paint its sticky Generate bar mid-form.
        const oneScreen = name === 'templates' || (name === 'workbench' && tag === 'phone');
        if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}${suffix}-${tag}.png`), fullPage: !oneScreen });
        if (name === 'workbench' && tag === 'phone') { // the phone's other tab
          await page.locator('#wb-tabs [data-wb-tab="gallery"]').click();
          if (SHOTS) await page.screenshot({ path: join(SHOTS, `gallery${suffix}-${tag}.png`) });
          await page.locator('#wb-tabs [data-wb-tab="create"]').click();
        }
      }
      await context.close();
    }
  }
});

const DOC_SLUGS = ['', 'quick-start', 'workbench', 'prompts-and-references', 'prompt-templates',
  'style-and-camera', 'output-quality', 'credits-plans-publishing', 'security-and-limits',
  'customer-api', 'overview'];

test('docs site: every page at desktop and phone widths in both languages', async () => {
  for (const lang of ['zh-CN', 'en']) {
    for (const [tag, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
      const { context, page } = await newPage(viewport, undefined, lang === 'en' ? 'en-US' : 'zh-CN');
      for (const slug of DOC_SLUGS) {
        const res = await page.goto(`${BASE}/docs/${lang}/${slug}`);
        assert.equal(res.status(), 200, `/docs/${lang}/${slug}`);
        assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
        assert.ok(await page.locator('article h1').isVisible(), `title of ${slug}`);
        assert.equal(await page.locator('#docs-dashboard').getAttribute('href'), '/app');
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `/docs/${lang}/${slug} at ${viewport.width}px scrolls sideways by ${overflow}px`);
        // The page list is open on wide screens and folded on phones.
        assert.equal(await page.locator('#docs-nav-box').evaluate((d) => d.open), tag === 'desktop');
        const name = slug || 'index';
        if (SHOTS) await page.screenshot({ path: join(SHOTS, `docs-${lang}-${name}-${tag}.png`) });
      }
      await context.close();
    }
  }
});

test('language: follows the browser, the switch is remembered and reaches the docs', async () => {
  const { context, page } = await newPage(PHONE, undefined, 'zh-CN');
  await page.goto(`${BASE}/`);
  await page.locator('body.ready').waitFor();
  assert.equal(await page.locator('#auth-title').textContent(), '登录');
  // A wrong password: the error code's own text in Chinese, not the API's English message.
  await page.getByLabel('邮箱').fill(BASIC.email);
  await page.getByLabel('密码').fill('not the password');
  await page.locator('#auth-submit').click();
  await page.getByRole('alert').filter({ hasText: '邮箱或密码错误' }).waitFor();
  assert.equal(await page.locator('#auth-docs').getAttribute('href'), '/docs/zh-CN/');
  // Switch to English: the page reloads in English, and stays so.
  await page.locator('#lang-switch').click();
  await page.waitForFunction(() => document.documentElement.lang === 'en' && document.body.classList.contains('ready'));
  assert.equal(await page.locator('#auth-title').textContent(), 'Sign in');
  await page.reload();
  await page.locator('body.ready').waitFor();
  assert.equal(await page.locator('#auth-title').textContent(), 'Sign in');
  // The docs site follows the remembered choice over the browser's Chinese.
  await page.goto(`${BASE}/docs/`);
  assert.equal(new URL(page.url()).pathname, '/docs/en/');
  // Its own switch goes to the same page in Chinese and remembers that.
  await page.goto(`${BASE}/docs/en/workbench`);
  await page.locator('#lang-switch').click();
  await page.waitForURL(`${BASE}/docs/zh-CN/workbench`);
  await page.goto(`${BASE}/`);
  await page.locator('body.ready').waitFor();
  assert.equal(await page.locator('#auth-title').textContent(), '登录');
  await context.close();
});

test('templates: fill in a blank, one click into the workbench', async () => {
  await requireRoute('GET', '/api/dashboard/templates');
  const { context, page } = await signedIn(PRO, DESKTOP, 'zh-CN');
  await go(page, 'templates');
  assert.ok(await page.locator('.tpl-card').count() >= 24, 'the whole library');
  await page.locator('#tpl-cats button[data-category="food"]').click();
  const cards = page.locator('.tpl-card');
  assert.ok(await cards.count() >= 4);
  assert.equal(await page.locator('.tpl-card:not([data-category="food"])').count(), 0, 'only food');
  const card = page.locator('.tpl-card[data-template="food-steam"]');
  await card.locator('input').first().fill('小笼包');
  assert.match(await card.locator('.tpl-prompt').textContent(), /一碗小笼包/);
  await card.getByRole('button', { name: '使用模板' }).click();
  await page.locator('#page-workbench').waitFor({ state: 'visible' });
  assert.match(await page.locator('#f-prompt').inputValue(), /^一碗小笼包放在木桌上/);
  assert.ok(await page.locator('#cam-zoom-in').isChecked(), 'the template\'s camera');
  assert.ok(await page.locator('input[name="styleChip"][data-style="cinematic"]').isChecked(), 'the template\'s style');
  assert.ok(await page.locator('#ar-1-1').isChecked(), 'the template\'s aspect ratio');
  // The blank stays editable in the workbench, and the prompt follows it.
  await page.locator('#tpl-fields input').first().fill('馄饨');
  assert.match(await page.locator('#f-prompt').inputValue(), /^一碗馄饨放在木桌上/);
  assert.equal(await page.locator('#price').textContent(), '50 积分');
  await context.close();
});

test('style chips, camera previews and what intensity does', async () => {
  const { context, page } = await signedIn(PRO, PHONE);
  const presets = await (await fetch(`${BASE}/assets/presets.json`)).json();
  for (const p of presets.styles) {
    await page.locator(`input[name="styleChip"][data-style="${p.id}"] + label`).click();
    assert.notEqual(await page.locator('#style-help').textContent(), '', `help of ${p.id}`);
  }
  assert.ok(await page.locator('#f-style').isHidden(), 'no free-text box unless asked');
  await page.locator('label[for="styleChip-custom"]').click();
  assert.ok(await page.locator('#f-style').isVisible(), 'free text stays possible');
  for (const c of presets.cameras) {
    const preview = page.locator(`label[for="cam-${c}"] .cam-scene`);
    const anim = await preview.evaluate((e) => getComputedStyle(e).animationName);
    if (c === 'static') assert.equal(anim, 'none');
    else assert.notEqual(anim, 'none', `the preview of ${c} moves`);
  }
  await page.locator('label[for="cam-pan-right"]').click();
  const help = [];
  for (const n of ['1', '3', '5']) {
    await page.locator('#f-intensity').fill(n);
    help.push(await page.locator('#intensity-help').textContent());
  }
  assert.match(help[0], /10%/);
  assert.match(help[2], /40%/);
  await page.locator('label[for="cam-zoom-in"]').click();
  assert.match(await page.locator('#intensity-help').textContent(), /1\.8×/);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the workbench at phone width scrolls sideways by ${overflow}px`);
  await context.close();
});

test('sign out ends the session', async () => {
  const { context, page } = await newPage();
  await signIn(page, PRO);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${BASE}/`);
  await page.goto(`${BASE}/app/credits`);
  await page.waitForURL(`${BASE}/?next=%2Fapp%2Fcredits`);
  await page.locator('#auth-form').waitFor();
  const r = await context.request.get(`${BASE}/api/dashboard/me`);
  assert.equal(r.status(), 401);
  await context.close();
});

test('no page error and no Content-Security-Policy violation on the way', () => {
  assert.deepEqual(errors, []);
});
