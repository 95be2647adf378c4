// templates.js - the prompt templates page: the library of
// GET /api/dashboard/templates (the same as the API's /api/v1/templates)
// by category, each card with the template's blanks to fill in and a
// "Use template" button that carries it into the workbench.
import { el, $ } from './ui.js';
import { t, currentLang } from './i18n.js';
import { applyTemplate, fillTemplate, styleLabel } from './workbench.js';

let library = { categories: [], templates: [] };
let category = '';
let openWorkbench = () => {};

function card(tpl) {
  const lang = currentLang();
  const values = {};
  for (const p of tpl.placeholders || []) values[p.name] = p.default[lang];
  const preview = el('p', { class: 'tpl-prompt' }, fillTemplate(tpl, values));
  const fields = (tpl.placeholders || []).map((p) => {
    const id = `tpl-${tpl.id}-${p.name}`;
    const input = el('input', { type: 'text', id, value: values[p.name], maxlength: '200' });
    input.addEventListener('input', () => {
      values[p.name] = input.value;
      preview.textContent = fillTemplate(tpl, values);
    });
    return el('div', { class: 'field' }, el('label', { for: id }, p.label[lang]), input);
  });
  const st = tpl.settings || {};
  const cat = library.categories.find((c) => c.id === tpl.category);
  const meta = [st.style ? styleLabel(st.style) : null, st.cameraMotion ? t(`camera.${st.cameraMotion}`) : null,
    st.aspectRatio, st.durationSec ? t('wb.seconds', { n: st.durationSec }) : null].filter(Boolean).join(' · ');
  const use = el('button', { type: 'button', class: 'btn btn-primary btn-sm' }, t('tpl.use'));
  use.addEventListener('click', () => {
    applyTemplate(tpl, values);
    openWorkbench();
  });
  return el('li', { class: 'card tpl-card', 'data-template': tpl.id, 'data-category': tpl.category },
    el('div', { class: 'tpl-top' },
      el('span', { class: 'badge' }, cat ? cat.label[lang] : tpl.category),
      el('span', { class: 'muted small' }, meta)),
    el('h2', { class: 'tpl-name' }, tpl.title[lang]),
    preview,
    el('div', { class: 'tpl-card-fields' }, ...fields),
    el('div', { class: 'tpl-actions' }, use));
}

function render() {
  const list = library.templates.filter((x) => !category || x.category === category);
  $('tpl-grid').replaceChildren(...list.map(card));
  $('tpl-empty').hidden = list.length > 0;
  for (const b of $('tpl-cats').querySelectorAll('button')) {
    b.setAttribute('aria-pressed', String(b.dataset.category === category));
  }
}

/** Builds the page from the library (fetched by app.js in parallel); go() opens the workbench. */
export function init(lib, go) {
  library = lib && lib.templates ? lib : library;
  openWorkbench = go;
  const lang = currentLang();
  const cats = [{ id: '', label: null }, ...library.categories];
  $('tpl-cats').replaceChildren(...cats.map((c) => {
    const b = el('button', { type: 'button', class: 'chip-btn', 'data-category': c.id },
      c.id ? c.label[lang] : t('tpl.all'));
    b.addEventListener('click', () => { category = c.id; render(); });
    return b;
  }));
  render();
}

/** Called when the page is shown. */
export function show() {}
