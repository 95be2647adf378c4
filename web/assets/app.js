// app.js - the signed-in app: loads what every page needs in one parallel
// round, then routes between the workbench, API keys and credits pages
// on the client (/app, /app/templates, /app/keys, /app/webhooks, /app/credits).
import { api, setCsrf } from './api.js';
import { state, setUser, onUserChange, $, showError, fmtNum } from './ui.js';
import { loadI18n, t, errorText } from './i18n.js';
import * as workbench from './workbench.js';
import * as templates from './templates.js';
import * as keys from './keys.js';
import * as webhooks from './webhooks.js';
import * as credits from './credits.js';
import { initWbTabs, showWbTab } from './wbtabs.js';

const pages = {
  workbench: { path: '/app', title: 'nav.workbench', mod: workbench },
  templates: { path: '/app/templates', title: 'nav.templates', mod: templates },
  keys: { path: '/app/keys', title: 'nav.keys', mod: keys },
  webhooks: { path: '/app/webhooks', title: 'nav.webhooks', mod: webhooks },
  credits: { path: '/app/credits', title: 'nav.credits', mod: credits },
};

function routeOf(pathname) {
  if (pathname.startsWith('/app/templates')) return 'templates';
  if (pathname.startsWith('/app/keys')) return 'keys';
  if (pathname.startsWith('/app/webhooks')) return 'webhooks';
  if (pathname.startsWith('/app/credits')) return 'credits';
  return 'workbench';
}

let current = null;
function show(name, focus) {
  if (name === 'keys' && !state.user.apiAccess) name = 'keys'; // the page says why it is empty
  for (const [n, p] of Object.entries(pages)) {
    $(`page-${n}`).hidden = n !== name;
    for (const a of document.querySelectorAll(`[data-route="${n}"]`)) {
      if (a.closest('.nav')) {
        if (n === name) a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
      }
    }
    if (n === name) document.title = `${t(p.title)} · HappyHorse`;
  }
  if (current !== name) {
    current = name;
    showError('');
    pages[name].mod.show();
  }
  if (focus) {
    // Focus without the browser's scroll-into-view, which left the page title under the sticky bar.
    $('main').focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
}

function header(s) {
  $('balance-value').textContent = fmtNum(s.user.credits);
  $('plan-badge').textContent = s.user.plan;
  $('account-email').textContent = s.user.email;
  $('nav-keys').hidden = !s.user.apiAccess;
}

/** Opens the workbench (used by the templates page's "Use template"). */
export function goWorkbench() {
  if (location.pathname !== pages.workbench.path) history.pushState({}, '', pages.workbench.path);
  showWbTab('create'); // the template fills the form
  show('workbench', true);
}

async function start() {
  // Every page's first data in parallel with the catalogue: no waterfall.
  const [, me, plans, videos, ledger, keyList, tpls] = await Promise.all([
    loadI18n(),
    api('GET', '/me'),
    api('GET', '/plans'),
    // A gallery that cannot load must not take the other pages down with it.
    api('GET', '/videos?limit=24').catch((e) => ({ videos: [], nextBefore: null, error: e.message })),
    api('GET', '/ledger?limit=20'),
    // 403 when the workspace has no API access; the page then says so.
    api('GET', '/keys').catch(() => null),
    api('GET', '/templates').catch(() => ({ categories: [], templates: [] })),
  ]);
  setCsrf(me.csrfToken);
  state.plans = plans.plans;
  state.plan = me.plan;
  onUserChange(header);
  setUser(me.user);

  initWbTabs();
  await workbench.init(videos);
  templates.init(tpls, goWorkbench);
  keys.init(keyList);
  webhooks.init();
  credits.init(ledger);

  document.addEventListener('click', (ev) => {
    const a = ev.target.closest('a[data-route]');
    if (!a || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.button !== 0) return;
    ev.preventDefault();
    const name = a.dataset.route;
    if (location.pathname !== pages[name].path) history.pushState({}, '', pages[name].path);
    show(name, true);
  });
  window.addEventListener('popstate', () => show(routeOf(location.pathname), true));
  $('signout').addEventListener('click', async () => {
    $('signout').disabled = true;
    try {
      await api('POST', '/logout');
    } finally {
      location.assign('/');
    }
  });
  document.body.classList.add('ready');
  show(routeOf(location.pathname), false);
}

start().catch((e) => {
  document.body.classList.add('ready');
  if (e.status !== 401) showError(t('app.loadFailed', { error: errorText(e) }));
});
