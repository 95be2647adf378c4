// docs.js - the docs site's one script (the pages work without it): the
// language switch remembers the choice in the hh_lang cookie, which the
// server and the dashboard both read, and the page list is open on wide
// screens and folded on phones.
const sw = document.getElementById('lang-switch');
if (sw) {
  sw.addEventListener('click', () => {
    document.cookie = `hh_lang=${encodeURIComponent(sw.dataset.lang)}; Path=/; Max-Age=31536000; SameSite=Lax`;
  });
}
const box = document.getElementById('docs-nav-box');
if (box && window.matchMedia('(min-width: 900px)').matches) box.open = true;
const dash = document.getElementById('docs-dashboard');
if (dash) dash.addEventListener('click', () => {
  document.cookie = `hh_lang=${encodeURIComponent(document.documentElement.lang)}; Path=/; Max-Age=31536000; SameSite=Lax`;
});
