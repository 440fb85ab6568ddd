// What every console page (/console, /console/kb, /console/incidents, /console/audit, the sign-in
// page) and the public status page (/status) share: their strings, DOM helpers, the REST client and
// toasts. Loaded before the page's own script (both deferred, so in order); the page takes what it
// needs from window.Staff.
// Plain ES2020, no dependencies, no build step; every piece of data is rendered with textContent only.
'use strict';
window.Staff = (() => {
  // ---------- strings ----------
  // The page renders them in zh-CN or en: <script type="application/json" id="i18n">.
  const I18N = (() => {
    try { return JSON.parse(document.getElementById('i18n').textContent); } catch { return { lang: 'zh-CN', t: {} }; }
  })();
  const LANG = I18N.lang || 'zh-CN';
  // t(name, {n: 3}) fills {n} placeholders; an unknown key shows itself rather than nothing.
  const t = (key, vars) => {
    let s = (I18N.t && I18N.t[key]) ?? key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
    return s;
  };
  // Looks up a label for a value from the API (state, outcome, reason…); unknown values show as they
  // are, a missing one as nothing.
  const label = (prefix, value) => {
    const key = `${prefix}_${value}`;
    return I18N.t && key in I18N.t ? I18N.t[key] : String(value ?? '');
  };

  // ---------- the language switch ----------
  // Its link is made by the server, which never sees the URL's #fragment: the open
  // conversation, incident or tab. Clicking keeps it, so switching language loses nothing.
  document.addEventListener('click', (e) => {
    const a = e.target && e.target.closest && e.target.closest('#lang-switch');
    if (!a || !location.hash) return;
    const u = new URL(a.href, location.href);
    if (!u.hash) { u.hash = location.hash; a.href = u.href; }
  }, true);

  // ---------- small helpers ----------
  const $ = (id) => document.getElementById(id);
  const mk = (tag, cls, text) => {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    if (text != null) el.textContent = text;
    return el;
  };
  const btn = (cls, text) => { const b = mk('button', cls, text); b.type = 'button'; return b; };
  const enc = encodeURIComponent;
  const showError = (el, msg) => { el.textContent = msg || ''; el.hidden = !msg; };
  const chip = (text, cls = '') => mk('span', `chip ${cls}`.trim(), text);
  // A time from the API, or null; Go's zero time (year 1) is no time.
  const toDate = (v) => { const d = v ? new Date(v) : null; return d && !isNaN(d) && d.getUTCFullYear() > 1 ? d : null; };
  const fullTime = (v) => { const d = toDate(v); return d ? d.toLocaleString(LANG) : ''; };

  // Runs fn after ms, unless called again by the same name before (debounce).
  const timers = {};
  function later(name, fn, ms) {
    clearTimeout(timers[name]);
    timers[name] = setTimeout(fn, ms);
  }

  // ---------- REST ----------
  // message is in the page's language where the server has it so (message_zh), else its English.
  class ApiError extends Error {
    constructor(status, code, message, data) { super(message || code); this.status = status; this.code = code; this.data = data; }
  }
  // session.csrf goes with every write; session.onUnauthorized runs on a 401 (the session is gone),
  // unless it is null (the sign-in page, where a 401 is the expected answer). session.userID is who the page
  // was loaded for.
  const session = { csrf: '', userID: '', onUnauthorized: null };
  // After the same person signs in again in another tab (a session that ended, a sign-out and back), this
  // tab's cookie is the new session's but its CSRF token the old one's: every write would be refused until a
  // reload, which loses what is being edited. A write refused with 403 asks /auth/me for the session's token
  // and, if it changed and the user is the same, is sent once more.
  async function freshCsrf() {
    let res;
    try {
      res = await fetch('/api/v1/auth/me', { headers: { Accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' });
    } catch { return false; }
    if (!res.ok) return false;
    let me = null;
    try { me = await res.json(); } catch { return false; }
    const token = (me && me.csrf_token) || '';
    const id = (me && me.user && me.user.id) || '';
    if (!token || token === session.csrf || (session.userID && id !== session.userID)) return false;
    session.csrf = token;
    return true;
  }
  async function api(method, path, body, retried) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET') {
      headers['Content-Type'] = 'application/json';
      if (session.csrf) headers['X-CSRF-Token'] = session.csrf;
    }
    let res;
    try {
      res = await fetch(path, {
        method, headers, cache: 'no-store', credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'network', t('networkError'));
    }
    let data = null;
    try { data = await res.json(); } catch { /* 204 or not JSON */ }
    if (!res.ok) {
      if (res.status === 403 && method !== 'GET' && !retried && session.csrf && await freshCsrf()) {
        return api(method, path, body, true);
      }
      const err = (data && data.error) || {};
      if (res.status === 401 && session.onUnauthorized) session.onUnauthorized();
      let message = (LANG === 'zh-CN' && err.message_zh) || err.message || res.statusText || t('requestFailed');
      if (LANG === 'zh-CN' && !err.message_zh) {
        // The server's English on a Chinese page (a database outage's 503, a 500, a rate limit, a
        // proxy's "Bad Gateway"): a Chinese sentence by the error's kind instead, the English kept
        // for the curious in the error's detail.
        const zh = (res.status >= 502 && res.status <= 504) || err.code === 'unavailable' ? 'errUnavailable'
          : res.status === 429 || err.code === 'rate_limited' ? 'errRateLimited'
            : res.status === 413 ? 'errTooLarge'
              : res.status >= 500 || err.code === 'internal' ? 'errInternal' : '';
        if (zh) message = t(zh);
      }
      const e = new ApiError(res.status, err.code || `http_${res.status}`, message, data);
      e.retryAfter = Number(res.headers.get('Retry-After')) || 0; // seconds, on a 429
      throw e;
    }
    return data || {};
  }
  // To the sign-in page, which brings the user back here afterwards.
  function goLogin() {
    location.replace(`/console/login?next=${enc(location.pathname + location.search + location.hash)}`);
  }

  // ---------- toasts (the page's #toasts) ----------
  // The same message again (every loader of a page that polls fails alike when the network does) keeps the one
  // shown for longer rather than stacking copies of it.
  const expiry = new WeakMap();
  function toast(msg, kind = 'info') {
    const box = $('toasts');
    if (!msg || !box) return;
    let el = [...box.children].find((c) => c.textContent === msg && c.classList.contains(`toast--${kind}`));
    if (!el) {
      el = mk('div', `toast toast--${kind}`, msg);
      box.append(el);
      while (box.children.length > 4) box.firstElementChild.remove();
    }
    clearTimeout(expiry.get(el));
    expiry.set(el, setTimeout(() => el.remove(), kind === 'error' ? 7000 : 4500));
  }
  // A failed request, unless it failed for want of a session: then the page is leaving for sign-in.
  const toastError = (e) => { if (!e || e.status !== 401) toast((e && e.message) || t('requestFailed'), 'error'); };

  return {
    I18N, LANG, t, label, $, mk, btn, enc, showError, chip, toDate, fullTime, later,
    ApiError, session, api, goLogin, toast, toastError,
  };
})();
