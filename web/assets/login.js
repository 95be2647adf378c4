// login.js - the sign-in page: sign in (or sign up when the operator allows
// it), then go to the app. A visitor who already has a session goes straight on.
import { api } from './api.js';
import { loadI18n, t, errorText } from './i18n.js';

const form = document.getElementById('auth-form');
const errorBox = document.getElementById('auth-error');
const submit = document.getElementById('auth-submit');
const switchRow = document.getElementById('auth-switch');
const switchBtn = document.getElementById('auth-switch-btn');
const switchText = document.getElementById('auth-switch-text');
const title = document.getElementById('auth-title');
const lead = document.getElementById('auth-lead');
const password = document.getElementById('password');
let mode = 'login';

function next() {
  const p = new URLSearchParams(location.search).get('next') || '';
  return /^\/app(\/[a-z]*)?$/.test(p) ? p : '/app';
}

function setMode(m) {
  mode = m;
  const login = m === 'login';
  title.textContent = t(login ? 'login.title' : 'signup.title');
  lead.textContent = t(login ? 'login.lead' : 'signup.lead');
  submit.textContent = t(login ? 'login.submit' : 'signup.submit');
  switchText.textContent = t(login ? 'login.noAccount' : 'signup.haveAccount');
  switchBtn.textContent = t(login ? 'login.createOne' : 'signup.signIn');
  password.autocomplete = login ? 'current-password' : 'new-password';
  document.title = `${title.textContent} · HappyHorse`;
  errorBox.textContent = '';
}

async function start() {
  await loadI18n();
  setMode('login');
  document.body.classList.add('ready');
  // One question that cannot fail for a visitor: is there a session, and
  // may visitors sign up? (Probing /me would log a 401 in every console.)
  const cfg = await api('GET', '/config').catch(() => null);
  if (cfg && cfg.signedIn) location.replace(next());
  else if (cfg && cfg.signupAllowed) switchRow.hidden = false;
}

switchBtn.addEventListener('click', () => setMode(mode === 'login' ? 'signup' : 'login'));

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  errorBox.textContent = '';
  const email = form.email.value.trim();
  if (!email || !form.password.value) {
    errorBox.textContent = t('login.missing');
    (email ? form.password : form.email).focus();
    return;
  }
  submit.disabled = true;
  submit.classList.add('busy');
  try {
    await api('POST', mode === 'login' ? '/login' : '/signup', { email, password: form.password.value });
    location.assign(next());
  } catch (e) {
    if (e.code === 'rate_limited') errorBox.textContent = t('login.tooMany', { seconds: e.retryAfter || 60 });
    else if (e.code === 'unauthenticated') errorBox.textContent = t('login.wrong');
    else errorBox.textContent = errorText(e);
    form.password.select();
    form.password.focus();
  } finally {
    submit.disabled = false;
    submit.classList.remove('busy');
  }
});

start();
