// Steward audit trail (/console/audit): the hash-chained audit log, newest first, filtered by action prefix
// and object and paged by sequence number, with the chain's verification from GET /api/v1/audit/verify.
// Read-only: the page changes nothing. Plain ES2020, no dependencies, no build step. The UI strings come from
// the page itself (<script type="application/json" id="i18n">); every field of every entry is rendered with
// textContent only: an entry's detail holds what people typed (names, reasons, emails).
'use strict';
(() => {
  const API = '/api/v1';
  const PAGE = 50;

  const { LANG, t, label, $, mk, enc } = window.Staff;
  const fmtTime = (v) => {
    const d = v ? new Date(v) : null;
    return d && !isNaN(d) ? d.toLocaleString(LANG, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '';
  };
  // A detail as key=value pairs an auditor reads: nested objects flattened to
  // dotted keys ("changes.answer"), lists of plain values joined, and only what
  // is left (a list of objects) as JSON.
  const plain = (v) => v === null || typeof v !== 'object';
  const valueText = (v) => (typeof v === 'string' ? v : JSON.stringify(v));
  function flatten(d, prefix = '', out = []) {
    for (const k of Object.keys(d).sort()) {
      const v = d[k], key = prefix + k;
      if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length) flatten(v, `${key}.`, out);
      else if (Array.isArray(v) && v.every(plain)) out.push([key, v.map(valueText).join(', ')]);
      else out.push([key, valueText(v)]);
    }
    return out;
  }

  // GET only: the page reads; signing out is its one write.
  const api = (path) => window.Staff.api('GET', API + path);
  window.Staff.session.onUnauthorized = window.Staff.goLogin;

  const S = {
    filter: { action: '', object: '' },
    before: 0,      // the page shown lists entries below this seq (0: the newest)
    broken: 0,      // the seq where the chain breaks (0: intact or not checked)
    newer: [],      // the "before" of each page shown before this one, to go back
  };
  let E = {};

  // The view (filters and page) lives in the URL's #fragment, so that a link
  // or a reload shows the same entries and the language switch keeps them:
  // #action=kb.&object=entry:e1&before=120.
  function viewHash() {
    const q = new URLSearchParams();
    if (S.filter.action) q.set('action', S.filter.action);
    if (S.filter.object) q.set('object', S.filter.object);
    if (S.before) q.set('before', String(S.before));
    const h = q.toString();
    return h ? `#${h}` : location.pathname + location.search;
  }
  // show records the view in the browser's history (Back returns to the
  // previous filter or page) and loads it.
  function show() {
    history.pushState({ newer: S.newer }, '', viewHash());
    return load();
  }
  function readHash(state) {
    const q = new URLSearchParams(location.hash.slice(1));
    S.filter = { action: (q.get('action') || '').trim(), object: (q.get('object') || '').trim() };
    const before = Number(q.get('before'));
    S.before = Number.isSafeInteger(before) && before > 0 ? before : 0;
    S.newer = (state && Array.isArray(state.newer)) ? state.newer : [];
    E.fAction.value = S.filter.action;
    E.fObject.value = S.filter.object;
  }

  async function boot() {
    E.bootError.hidden = true;
    let me;
    try {
      me = await api('/auth/me');
    } catch (e) {
      if (e.status !== 401) E.bootError.hidden = false;
      return;
    }
    const user = me.user || {};
    // The shared client's session: its writes (the sign-out) fetch a fresh token and try again
    // when the session was renewed in another tab.
    window.Staff.session.csrf = me.csrf_token || '';
    window.Staff.session.userID = user.id || '';
    const perms = me.permissions || [];
    E.meName.textContent = user.name || user.email || '';
    E.meName.title = user.email || '';
    E.meRole.textContent = label('role', user.role || '');
    E.meRole.dataset.role = user.role || '';
    E.meRole.hidden = !user.role;
    $('nav-incidents').hidden = !perms.includes('incident.read');
    if (!perms.includes('audit.read')) {
      E.forbidden.hidden = false;
      $('verify-box').hidden = true;
      $('trail-box').hidden = true;
      document.body.dataset.ready = '1';
      return;
    }
    readHash(history.state);
    await Promise.allSettled([verify(), load()]);
    document.body.dataset.ready = '1';
  }

  async function verify() {
    E.verifyBtn.disabled = true;
    E.verifyStatus.dataset.ok = '';
    E.verifyStatus.textContent = t('auditChecking');
    try {
      const rep = await api('/audit/verify');
      const head = rep.head || {};
      E.verifyStatus.dataset.ok = rep.ok ? '1' : '0';
      if (rep.ok) {
        E.verifyStatus.textContent = t('auditIntact', { n: rep.entries ?? 0, seq: head.seq ?? 0 });
        E.verifyDetail.hidden = true;
      } else {
        const b = rep.break || {};
        S.broken = Number(b.seq) || 0;
        E.verifyStatus.textContent = t('auditBroken', { seq: b.seq ?? '?', kind: label('auditKind', b.kind || '') });
        const detail = (LANG === 'zh-CN' && b.message_zh) || b.message || '';
        E.verifyDetail.textContent = detail;
        E.verifyDetail.hidden = !detail;
      }
      if (rep.ok) S.broken = 0;
      E.verifyShow.hidden = !S.broken;
      markBroken();
      E.verifyHead.textContent = `${t('auditHead')}: ${head.seq ?? 0}:${head.hash || ''}`;
      E.verifyHead.hidden = false;
    } catch (e) {
      E.verifyStatus.dataset.ok = '';
      E.verifyStatus.textContent = e.message || t('requestFailed');
    } finally {
      E.verifyBtn.disabled = false;
    }
  }

  async function load() {
    const q = new URLSearchParams({ limit: String(PAGE + 1) });
    if (S.filter.action) q.set('action', S.filter.action);
    if (S.filter.object) q.set('object', S.filter.object);
    if (S.before) q.set('before', String(S.before));
    E.trailError.hidden = true;
    let entries;
    try {
      entries = (await api(`/audit?${q}`)).entries || [];
    } catch (e) {
      E.trailError.textContent = e.message || t('requestFailed');
      E.trailError.hidden = false;
      return;
    }
    const more = entries.length > PAGE;
    entries = entries.slice(0, PAGE);
    E.body.replaceChildren(...entries.map(row));
    E.empty.hidden = entries.length > 0;
    E.table.hidden = entries.length === 0;
    E.older.disabled = !more;
    // Opened at an older page (a link, a reload) there is no way back recorded:
    // Newer then goes to the newest entries.
    E.newer.disabled = S.newer.length === 0 && !S.before;
    E.pageInfo.textContent = entries.length
      ? t('auditPage', { from: entries[0].seq, to: entries[entries.length - 1].seq }) : '';
    E.older.dataset.before = entries.length ? String(entries[entries.length - 1].seq) : '';
    markBroken();
  }

  function row(e) {
    const tr = mk('tr');
    tr.dataset.seq = String(e.seq);
    tr.dataset.action = e.action || '';
    tr.append(mk('td', 'audit-seq', String(e.seq)));
    const time = mk('td', 'audit-time', fmtTime(e.at));
    time.title = e.at || '';
    tr.append(time);
    const actor = mk('td', 'audit-actor');
    actor.append(mk('span', 'audit-actor-name', e.actor_name || e.actor || ''));
    if (e.actor_name && e.actor) actor.append(mk('span', 'kb-meta audit-actor-id', e.actor));
    tr.append(actor);
    tr.append(mk('td', 'audit-action', e.action || ''));
    const object = mk('td', 'audit-object');
    if (e.object) {
      // The object filters the trail to its own history.
      const b = mk('button', 'audit-object-link', e.object);
      b.type = 'button';
      b.title = t('auditOnlyObject');
      b.addEventListener('click', () => {
        E.fObject.value = e.object;
        E.fAction.value = '';
        applyFilter();
      });
      object.append(b);
    }
    tr.append(object);
    const detail = mk('td', 'audit-detail');
    for (const [k, v] of flatten(e.detail || {})) {
      const item = mk('span', 'audit-kv');
      item.append(mk('span', 'audit-k', `${k}=`), mk('span', 'audit-v', v));
      detail.append(item);
    }
    tr.append(detail);
    return tr;
  }

  // The entry where the chain breaks is marked wherever it is shown; "Show that entry"
  // pages to it (filters off) and scrolls it into view.
  function markBroken() {
    for (const tr of E.body.children) tr.classList.toggle('is-broken', S.broken > 0 && tr.dataset.seq === String(S.broken));
  }
  async function showBroken() {
    if (!S.broken) return;
    S.filter = { action: '', object: '' };
    E.fAction.value = E.fObject.value = '';
    S.newer = S.before === S.broken + 1 ? S.newer : [...S.newer, S.before];
    S.before = S.broken + 1;
    await show();
    const tr = E.body.querySelector(`tr[data-seq="${S.broken}"]`);
    if (tr) { tr.scrollIntoView({ block: 'center' }); tr.tabIndex = -1; tr.focus({ preventScroll: true }); }
  }

  function applyFilter() {
    S.filter = { action: E.fAction.value.trim(), object: E.fObject.value.trim() };
    S.before = 0;
    S.newer = [];
    show();
  }

  function init() {
    E = {
      bootError: $('boot-error'), meName: $('me-name'), meRole: $('me-role'), forbidden: $('audit-forbidden'),
      verifyStatus: $('verify-status'), verifyShow: $('verify-show'), verifyDetail: $('verify-detail'), verifyHead: $('verify-head'), verifyBtn: $('verify-btn'),
      fAction: $('f-action'), fObject: $('f-object'), trailError: $('trail-error'), table: $('audit-table'),
      body: $('audit-body'), empty: $('audit-empty'), newer: $('page-newer'), older: $('page-older'), pageInfo: $('page-info'),
    };
    $('logout-btn').addEventListener('click', async () => {
      try {
        await window.Staff.api('POST', `${API}/auth/logout`);
      } catch { /* leaving anyway */ }
      location.replace('/console/login');
    });
    $('boot-retry').addEventListener('click', boot);
    E.verifyBtn.addEventListener('click', verify);
    E.verifyShow.addEventListener('click', showBroken);
    $('filter-form').addEventListener('submit', (e) => { e.preventDefault(); applyFilter(); });
    $('f-clear').addEventListener('click', () => { E.fAction.value = ''; E.fObject.value = ''; applyFilter(); });
    E.older.addEventListener('click', () => {
      if (!E.older.dataset.before) return;
      S.newer = [...S.newer, S.before];
      S.before = Number(E.older.dataset.before);
      show();
    });
    E.newer.addEventListener('click', () => {
      if (!S.newer.length && !S.before) return;
      S.newer = S.newer.slice();
      S.before = S.newer.length ? S.newer.pop() : 0;
      show();
    });
    // Back and Forward, and a fragment typed into the address bar (which fires popstate too).
    window.addEventListener('popstate', (e) => { readHash(e.state); load(); });
    boot();
  }

  init();
})();
