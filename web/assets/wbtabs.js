// wbtabs.js - the workbench's two tabs, "Create" (the form) and "Gallery",
// on phones and narrow windows. Below 1,000 px the form and the gallery share
// one column and the form alone is about 1,700 px tall on a phone, so a
// gallery below it is out of sight; there the CSS shows only the tab chosen
// here, remembered in localStorage. Wider screens show both side by side and
// hide the tabs, so nothing here changes them.
import { $ } from './ui.js';

const KEY = 'hh.wbTab';
const TABS = ['create', 'gallery'];

function remembered() {
  try {
    const v = localStorage.getItem(KEY);
    return TABS.includes(v) ? v : 'create';
  } catch {
    return 'create'; // storage refused (private mode): the form first
  }
}

/** Whether the tabs are on screen (a phone or narrow window), i.e. only one panel shows. */
export function tabsShown() {
  return getComputedStyle($('wb-tabs')).display !== 'none';
}

/**
 * Shows the tab `name` ("create" or "gallery") and remembers it. `toTop`
 * scrolls to the page's top for a switch the page makes (after a video is
 * queued the visitor may be deep in the form, which is no longer there).
 */
export function showWbTab(name, toTop = false) {
  $('wb-grid').dataset.tab = name;
  for (const b of document.querySelectorAll('[data-wb-tab]')) b.setAttribute('aria-pressed', String(b.dataset.wbTab === name));
  try {
    localStorage.setItem(KEY, name);
  } catch {
    /* not remembered, still shown */
  }
  if (toTop && tabsShown()) window.scrollTo(0, 0);
}

export function initWbTabs() {
  showWbTab(remembered());
  $('wb-tabs').addEventListener('click', (ev) => {
    const b = ev.target.closest('[data-wb-tab]');
    if (b) showWbTab(b.dataset.wbTab);
  });
}
