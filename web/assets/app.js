// app.js - the signed-in app: loads what every page needs in one parallel
// round, then routes between the workbench, API keys and credits pages
// on the client (/app, /app/keys, /app/credits).
import { api, setCsrf } from './api.js';
import { state, setUser, onUserChange, $, showError, fmtNum } from './ui.js';
import * as workbench from './workbench.js';
import * as keys from './keys.js';
import * as credits from './credits.js';

const pages = {
  workbench: { path: '/app', title: 'Workbench', mod: workbench },
  keys: { path: '/app/keys', title: 'API Keys', mod: keys },
  credits: { path: '/app/credits', title: 'Credits & plan', mod: credits },
};

function routeOf(pathname) {
  if (pathname.startsWith('/app/keys')) return 'keys';
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
    if (n === name) document.title = `${p.title} · HappyHorse`;
  }
  if (current !== name) {
    current = name;
    showError('');
    pages[name].mod.show();
  }
  if (focus) $('main').focus();
}

function header(s) {
  $('balance-value').textContent = fmtNum(s.user.credits);
  $('plan-badge').textContent = s.user.plan;
  $('account-email').textContent = s.user.email;
  $('nav-keys').hidden = !s.user.apiAccess;
}

async function start() {
  // Every page's first data in parallel: no waterfall.
  const [me, plans, videos, ledger, keyList] = await Promise.all([
    api('GET', '/me'),
    api('GET', '/plans'),
    // A gallery that cannot load must not take the other pages down with it.
    api('GET', '/videos?limit=24').catch((e) => ({ videos: [], nextBefore: null, error: e.message })),
    api('GET', '/ledger?limit=20'),
    // 403 when the workspace has no API access; the page then says so.
    api('GET', '/keys').catch(() => null),
  ]);
  setCsrf(me.csrfToken);
  state.plans = plans.plans;
  state.plan = me.plan;
  onUserChange(header);
  setUser(me.user);

  workbench.init(videos);
  keys.init(keyList);
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
  if (e.status !== 401) showError(`Could not load the dashboard: ${e.message}`);
});
