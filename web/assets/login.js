// login.js - the sign-in page: sign in (or sign up when the operator allows
// it), then go to the app. A visitor who already has a session goes straight on.
import { api } from './api.js';

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

// Both questions at once: is there a session, and may visitors sign up?
Promise.allSettled([api('GET', '/me'), api('GET', '/config')]).then(([me, cfg]) => {
  if (me.status === 'fulfilled') location.replace(next());
  if (cfg.status === 'fulfilled' && cfg.value && cfg.value.signupAllowed) switchRow.hidden = false;
});

function setMode(m) {
  mode = m;
  const login = m === 'login';
  title.textContent = login ? 'Sign in' : 'Create your account';
  lead.textContent = login ? 'Welcome back. Sign in to your workspace.'
    : 'Start on the free plan. Passwords need at least 8 characters.';
  submit.textContent = login ? 'Sign in' : 'Create account';
  switchText.textContent = login ? 'No account yet?' : 'Already have an account?';
  switchBtn.textContent = login ? 'Create one' : 'Sign in';
  password.autocomplete = login ? 'current-password' : 'new-password';
  document.title = `${title.textContent} · HappyHorse`;
  errorBox.textContent = '';
}
switchBtn.addEventListener('click', () => setMode(mode === 'login' ? 'signup' : 'login'));

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  errorBox.textContent = '';
  const email = form.email.value.trim();
  if (!email || !form.password.value) {
    errorBox.textContent = 'Enter your email and password.';
    (email ? form.password : form.email).focus();
    return;
  }
  submit.disabled = true;
  submit.classList.add('busy');
  try {
    await api('POST', mode === 'login' ? '/login' : '/signup', { email, password: form.password.value });
    location.assign(next());
  } catch (e) {
    errorBox.textContent = e.code === 'rate_limited'
      ? `Too many attempts. Try again in ${e.retryAfter || 60} seconds.` : e.message;
    form.password.select();
    form.password.focus();
  } finally {
    submit.disabled = false;
    submit.classList.remove('busy');
  }
});
