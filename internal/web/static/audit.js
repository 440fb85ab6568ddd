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
  // A detail value as text: strings as they are, anything else as JSON.
  const valueText = (v) => (typeof v === 'string' ? v : JSON.stringify(v));

  // GET only: the page reads; signing out is its one write.
  const api = (path) => window.Staff.api('GET', API + path);
  window.Staff.session.onUnauthorized = window.Staff.goLogin;

  const S = {
    filter: { action: '', object: '' },
    before: 0,      // the page shown lists entries below this seq (0: the newest)
    broken: 0,      // the seq where the chain breaks (0: intact or not checked)
    newer: [],      // the "before" of each page shown before this one, to go back
    csrf: '',       // for signing out, the page's only POST
  };
  let E = {};

  async function boot() {
    E.bootError.hidden = true;
    let me;
    try {
      me = await api('/auth/me');
    } catch (e) {
      if (e.status !== 401) E.bootError.hidden = false;
      return;
    }
    S.csrf = me.csrf_token || '';
    const user = me.user || {};
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
        E.verifyDetail.textContent = b.message || '';
        E.verifyDetail.hidden = !b.message;
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
    E.newer.disabled = S.newer.length === 0;
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
    tr.append(mk('td', 'audit-object', e.object || ''));
    const detail = mk('td', 'audit-detail');
    const d = e.detail || {};
    for (const k of Object.keys(d).sort()) {
      const item = mk('span', 'audit-kv');
      item.append(mk('span', 'audit-k', `${k}=`), mk('span', 'audit-v', valueText(d[k])));
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
    await load();
    const tr = E.body.querySelector(`tr[data-seq="${S.broken}"]`);
    if (tr) { tr.scrollIntoView({ block: 'center' }); tr.tabIndex = -1; tr.focus({ preventScroll: true }); }
  }

  function applyFilter() {
    S.filter = { action: E.fAction.value.trim(), object: E.fObject.value.trim() };
    S.before = 0;
    S.newer = [];
    load();
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
        await fetch(`${API}/auth/logout`, { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': S.csrf } });
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
      S.newer.push(S.before);
      S.before = Number(E.older.dataset.before);
      load();
    });
    E.newer.addEventListener('click', () => {
      if (!S.newer.length) return;
      S.before = S.newer.pop();
      load();
    });
    boot();
  }

  init();
})();
