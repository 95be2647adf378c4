// credits.js - Credits & plan: the balance, the plans and their limits (the
// user's own highlighted), and the ledger with cursor pagination.
import { api } from './api.js';
import { state, onUserChange, el, $, fmtDate, fmtNum, engineName } from './ui.js';
import { t } from './i18n.js';

const PAGE = 20;
let cursors = [0]; // cursors[i] = `before` of page i (0: newest)
let pageIndex = 0;
let stale = false;


/** A row's details: its note, and for a video's charge or refund a link that opens the video. */
function details(e) {
  if (!e.ref) return e.note || '–';
  const link = el('a', { href: `/app?video=${encodeURIComponent(e.ref)}`, class: 'ledger-video',
    'aria-label': t('credits.openVideo', { id: e.ref.slice(0, 8) }) }, t('credits.videoRef', { id: e.ref.slice(0, 8) }));
  return e.note ? el('span', {}, `${e.note} · `, link) : link;
}

function renderLedger(page) {
  const rows = (page.entries || []).map((e) => el('tr', { 'data-kind': e.kind },
    el('td', { 'data-label': t('credits.colDate') }, fmtDate(e.createdAt)),
    el('td', { 'data-label': t('credits.colKind') }, el('span', { class: `badge kind-${e.kind}` }, t(`kind.${e.kind}`))),
    el('td', { 'data-label': t('credits.colDetails'), class: 'ledger-note' }, details(e)),
    el('td', { 'data-label': t('credits.colAmount'), class: `num ${e.amount < 0 ? 'neg' : 'pos'}` },
      `${e.amount > 0 ? '+' : '−'}${fmtNum(Math.abs(e.amount))}`),
    el('td', { 'data-label': t('credits.colBalance'), class: 'num' }, fmtNum(e.balanceAfter))));
  $('ledger-body').replaceChildren(...rows);
  $('ledger-empty').hidden = rows.length > 0;
  if (page.nextBefore) cursors[pageIndex + 1] = page.nextBefore;
  else cursors.length = pageIndex + 1;
  $('ledger-older').disabled = !page.nextBefore;
  $('ledger-newer').disabled = pageIndex === 0;
  $('ledger-page').textContent = t('credits.page', { n: pageIndex + 1 });
}

async function go(index) {
  pageIndex = index;
  const before = cursors[index];
  const page = await api('GET', `/ledger?limit=${PAGE}${before ? `&before=${encodeURIComponent(before)}` : ''}`);
  renderLedger(page);
  stale = false;
}

function renderPlans() {
  const plans = state.plans;
  const cur = state.user.plan;
  const head = el('tr', {}, el('th', { scope: 'col' }, t('plans.limit')),
    ...plans.map((p) => el('th', { scope: 'col', class: p.name === cur ? 'current' : '' },
      p.name, p.name === cur ? el('span', { class: 'you' }, t('plans.yours')) : '')));
  const yes = (b) => (b ? el('span', { class: 'yes' }, t('plans.yes')) : el('span', { class: 'no' }, '—'));
  const rowOf = (label, f) => el('tr', {}, el('th', { scope: 'row' }, label),
    ...plans.map((p) => el('td', { class: p.name === cur ? 'current' : '' }, f(p))));
  $('plans-table').tHead.replaceChildren(head);
  $('plans-table').tBodies[0].replaceChildren(
    rowOf(t('plans.madeBy'), (p) => engineName(p)),
    rowOf(t('plans.longest'), (p) => t('wb.seconds', { n: p.maxDurationSec })),
    rowOf('1080p', (p) => yes(p.allow['1080p'])),
    rowOf(t('upload.sourceImage'), (p) => yes(p.allow.sourceImage)),
    rowOf(t('upload.lastFrame'), (p) => yes(p.allow.lastFrame)),
    rowOf(t('upload.referenceVideo'), (p) => yes(p.allow.referenceVideo)),
    rowOf(t('upload.referenceAudio'), (p) => yes(p.allow.referenceAudio)),
    rowOf(t('plans.price720'), (p) => t('plans.rate', { n: p.creditsPerSecond['720p'] })),
    rowOf(t('plans.price1080'), (p) => t('plans.rate', { n: p.creditsPerSecond['1080p'] })),
    rowOf(t('plans.rpm'), (p) => fmtNum(p.requestsPerMinute)),
    rowOf(t('plans.inFlight'), (p) => fmtNum(p.jobsInFlight)));
}

/**
 * On a phone the plans scroll sideways under their sticky labels (style.css):
 * the user's own plan is brought into view beside them rather than left
 * off-screen to the right. Needs the page's layout, so only while it shows.
 */
function revealCurrentPlan() {
  const table = $('plans-table');
  const cur = table.querySelector('thead th.current');
  const scroller = table.parentElement;
  if ($('page-credits').hidden || !cur || scroller.scrollWidth <= scroller.clientWidth) return;
  scroller.scrollLeft = cur.offsetLeft - table.querySelector('thead th').offsetWidth;
}

function renderSummary(s) {
  $('credits-balance').textContent = fmtNum(s.user.credits);
  $('credits-plan').textContent = s.user.plan;
  if (s.plan) {
    $('credits-plan-rate').textContent =
      t('credits.planRate', { n: s.plan.maxDurationSec, rate: s.plan.creditsPerSecond['720p'] });
  }
  renderPlans();
  revealCurrentPlan();
  stale = true; // the balance moved: the ledger has news
  if (!$('page-credits').hidden) go(0).catch(() => {});
}

/** Builds the page from the first ledger page (fetched by app.js in parallel). */
export function init(firstLedger) {
  $('ledger-older').addEventListener('click', () => go(pageIndex + 1));
  $('ledger-newer').addEventListener('click', () => go(Math.max(0, pageIndex - 1)));
  renderSummary(state);
  stale = false;
  renderLedger(firstLedger);
  onUserChange(renderSummary);
}

/** Called when the page is shown: refreshes the ledger if the balance changed since. */
export function show() {
  revealCurrentPlan();
  if (stale) {
    cursors = [0];
    go(0).catch(() => {});
  }
}
