// Steward crisis response console (/console/incidents): the service posture and setting it by hand, firing
// alerts and silences, incidents with their timelines, updates and postmortems, and the customer notices.
// Plain ES2020, no dependencies, no build step. The UI strings come from the page itself
// (<script type="application/json" id="i18n">); every piece of data is rendered with textContent and DOM
// creation only, the postmortem's Markdown included. The page polls every 5 s.
'use strict';
(() => {
  const API = '/api/v1';
  const POLL_MS = 5000;
  const NOTICE_LEVELS = [1, 2, 3];

  // ---------- strings and helpers shared with the other console pages (staff.js) ----------
  const { LANG, t, label, $, mk, btn, enc, showError, chip, toDate, toast, toastError } = window.Staff;
  const ZH = LANG === 'zh-CN';
  // A text the API gives in both languages, in the page's: the Chinese one when there is one.
  const inLang = (en, zh) => (ZH && zh ? zh : en || zh || '');

  // ---------- small helpers ----------
  const fmtTime = (v) => {
    const d = toDate(v);
    return d ? d.toLocaleString(LANG, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '';
  };
  const pct = (x) => `${Math.round(Math.max(0, Math.min(1, Number(x) || 0)) * 1000) / 10}%`;
  // 42 → "42s", 190 → "3m 10s", 7300 → "2h 1m", in the page's language.
  const fmtDuration = (secs) => {
    const s = Math.max(0, Math.round(Number(secs) || 0));
    if (s < 60) return t('durS', { s });
    if (s < 3600) return t('durMS', { m: Math.floor(s / 60), s: s % 60 });
    if (s < 86400) return t('durHM', { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
    return t('durDH', { d: Math.floor(s / 86400), h: Math.floor((s % 86400) / 3600) });
  };
  const levelBadge = (level) => {
    const b = mk('span', 'inc-sev', label('alertlevel', level || 'info'));
    b.dataset.level = level || '';
    return b;
  };
  const phaseBadge = (phase) => {
    const b = mk('span', 'inc-phase', label('phase', phase));
    b.dataset.phase = phase || '';
    return b;
  };
  const incidentTitle = (inc) => inLang(inc.title, inc.title_zh) || inc.id;
  const matcherText = (m) => `${m.name}${m.op || '='}${JSON.stringify(String(m.value ?? ''))}`;

  // ---------- REST ----------
  const api = (method, path, body) => window.Staff.api(method, API + path, body);
  window.Staff.session.onUnauthorized = window.Staff.goLogin;

  const S = {
    me: null,
    perms: [],
    posture: null,    // GET /posture's posture
    incidents: [],
    selected: '',     // the incident shown on the right
    detail: null,     // GET /incidents/{id}
    pmFor: '',        // "id:phase" of the postmortem shown
    shown: {},        // section name -> the JSON last rendered, so a poll that changed nothing leaves the DOM alone
    timer: 0,
    polling: false,
    noticeBase: {},   // level -> the notice {zh, en} as last read or saved (loadNotices)
    faultsOff: false, // the server has fault injection off (its API answered 404)
  };
  let E = {};
  const canManage = () => S.perms.includes('incident.manage');

  // changed reports whether data differs from what the section shows, and remembers it.
  function changed(name, data) {
    const s = JSON.stringify(data);
    if (S.shown[name] === s) return false;
    S.shown[name] = s;
    return true;
  }
  // A form's error stays only while it is true: it clears when the form is sent again, and as soon as the
  // operator edits a field it is about (any of the form's, for an error from the server; see clearOnEdit).
  const errorFields = new Map(); // error element -> the fields its message is about; empty: the whole form
  function formError(errEl, msg, ...fields) {
    showError(errEl, msg);
    errorFields.set(errEl, fields);
    if (fields[0]) fields[0].focus();
  }
  function clearOnEdit(area, errEl) {
    const clear = (e) => {
      const about = errorFields.get(errEl) || [];
      if (!errEl.hidden && (!about.length || about.includes(e.target))) showError(errEl, '');
    };
    area.addEventListener('input', clear);
    area.addEventListener('change', clear);
  }

  async function run(button, errEl, fn) {
    if (errEl) showError(errEl, '');
    if (button) button.disabled = true;
    try {
      await fn();
    } catch (e) {
      if (errEl) formError(errEl, (e && e.message) || t('requestFailed'));
      else toastError(e);
    } finally {
      // A button whose own state says it has nothing to do (data-off, set
      // as the page redraws it, e.g. while fn ran) stays disabled.
      if (button) button.disabled = button.dataset.off === '1';
    }
  }

  // ---------- boot ----------
  async function boot() {
    E.bootError.hidden = true;
    let me;
    try {
      me = await api('GET', '/auth/me');
    } catch (e) {
      if (e.status !== 401) E.bootError.hidden = false;
      return;
    }
    S.me = me.user || {};
    S.perms = me.permissions || [];
    window.Staff.session.csrf = me.csrf_token || '';
    window.Staff.session.userID = S.me.id || '';
    E.meName.textContent = S.me.name || S.me.email || '';
    E.meName.title = S.me.email || '';
    E.meRole.textContent = label('role', S.me.role || '');
    E.meRole.dataset.role = S.me.role || '';
    E.meRole.hidden = !S.me.role;
    $('nav-audit').hidden = !S.perms.includes('audit.read');
    const manage = canManage();
    E.readonlyNote.hidden = manage;
    E.postureForm.hidden = !manage;
    E.declareBox.hidden = !manage;
    E.silenceForm.hidden = !manage;
    for (const b of document.querySelectorAll('.inc-notice-save')) b.hidden = !manage;
    for (const l of NOTICE_LEVELS) for (const s of ['zh', 'en']) $(`notice-${l}-${s}`).readOnly = !manage;
    loadNotices();
    await refresh();
    const fromHash = location.hash.replace(/^#/, '');
    const open = S.incidents.find((i) => i.phase !== 'resolved');
    if (fromHash) await select(fromHash);
    else if (open) await select(open.id, { replace: true });
    document.body.dataset.ready = '1';
    schedule();
  }

  function schedule() {
    clearTimeout(S.timer);
    S.timer = setTimeout(poll, POLL_MS);
  }
  async function poll() {
    if (!document.hidden) await refresh();
    schedule();
  }

  // refresh loads everything the page shows; the notice texts only into editors not being edited.
  async function refresh() {
    if (S.polling) return;
    S.polling = true;
    try {
      await Promise.allSettled([loadPosture(), loadAlerts(), loadSilences(), loadIncidents(), loadMonitor(),
        loadNotices({ quiet: true }), loadFaults()]);
      if (S.selected) await loadDetail();
      tickDurations();
    } finally {
      S.polling = false;
    }
  }

  // =====================================================================
  // Posture
  // =====================================================================
  // newest(name) numbers a read of one kind and returns whether it is still the newest begun: a
  // poll's answer that lands after the read an action made (setting the posture reads it again)
  // was read before that action, and put the old state back on the card and into the form.
  const reads = {};
  function newest(name) {
    const n = (reads[name] = (reads[name] || 0) + 1);
    return () => reads[name] === n;
  }

  async function loadPosture() {
    const current = newest('posture');
    let d;
    try { d = await api('GET', '/posture'); } catch (e) { if (current()) toastError(e); return; }
    if (!current()) return;
    S.posture = d.posture || { level: 0 };
    if (changed('posture', d)) renderPosture(d);
  }

  function renderPosture(d) {
    const p = d.posture || {};
    const level = Number(p.level) || 0;
    E.pLevel.textContent = label('postureLevel', level);
    E.pLevel.dataset.level = String(level);
    E.pMode.textContent = p.manual ? t('incManual') : t('incAutomatic');
    E.pMode.dataset.manual = p.manual ? '1' : '';
    E.pDesc.textContent = inLang(d.description, d.description_zh);
    const meta = [];
    if (toDate(p.since)) meta.push(t('incSince', { time: fmtTime(p.since) }));
    const inc = d.incident;
    E.pMeta.replaceChildren(meta.join(' · '));
    if (inc && inc.id) {
      if (meta.length) E.pMeta.append(' · ');
      const a = mk('a', 'inc-link', `${t('incLinked')}: ${incidentTitle(inc)}`);
      a.href = `#${inc.id}`;
      E.pMeta.append(a);
    }
    showError(E.pReason, p.reason ? t('incSetReason', { reason: inLang(p.reason, p.reason_zh) }) : '');
    const throttles = Object.entries(p.throttle || {});
    E.pThrottles.replaceChildren(...(throttles.length
      ? throttles.map(([src, rate]) => chip(t('incThrottleRate', { source: src, rate: Number(rate).toFixed(1) }), 'chip--warn'))
      : [mk('span', 'kb-meta', t('incNone'))]));
    const notice = d.notice || {};
    const text = inLang(notice.en, notice.zh);
    E.pNotice.textContent = text || t('incNoNotice');
    E.pNotice.classList.toggle('is-empty', !text);
    E.autoBtn.disabled = !p.manual;
    E.autoBtn.dataset.off = p.manual ? '' : '1';
    E.autoBtn.title = p.manual ? '' : t('incAlreadyAutomatic');
    // The form starts from the live posture, so that setting it without looking at the level
    // never drops an incident back to normal. An operator's own choices are left alone.
    if (!S.pfTouched) {
      E.pfLevel.value = String(level);
      if (level === 1) {
        E.pfAll.checked = !!p.all;
        E.pfCategories.value = (p.categories || []).join(', ');
        E.pfHuman.checked = !!p.human;
      }
      syncPostureForm();
    }
  }

  function syncPostureForm() {
    const level = Number(E.pfLevel.value);
    E.pfScope.hidden = level !== 1;
    E.pfCategories.disabled = E.pfAll.checked;
    E.pfLevelHint.textContent = label('postureHint', level);
  }

  async function setPosture() {
    const level = Number(E.pfLevel.value);
    const reason = E.pfReason.value.trim();
    const body = { level, reason };
    const live = S.posture || {};
    if (level === 1) {
      body.all = E.pfAll.checked;
      body.human = E.pfHuman.checked;
      if (!body.all) {
        body.categories = E.pfCategories.value.split(/[,，、]/).map((s) => s.trim()).filter(Boolean);
        // The form does not edit a level-1 scope's intents (set from the command line or by a
        // playbook): those in force stay (keep, below), and are scope enough.
        const intents = live.level === 1 && (live.intents || []).length > 0;
        if (!body.categories.length && !intents) { formError(E.pfError, t('incScopeRequired'), E.pfCategories, E.pfAll, E.pfLevel); return; }
      }
    }
    if (!reason) { formError(E.pfError, t('incReasonRequired'), E.pfReason); return; }
    // Nor does it edit throttles, or a notice of the posture's own: those in force stay. The
    // server takes them from the posture in force as it makes the change: copied from the last
    // read (up to 5 s old) they undid a throttle the controller had set since. (A notice in a
    // single language, set before both were required, gives way to the level's notice.)
    body.keep = ['throttle', 'notice', 'intents'];
    await run(E.pfSet, E.pfError, async () => {
      const res = await api('PUT', '/posture', body);
      E.pfReason.value = '';
      S.pfTouched = false;
      // The posture is in force, but part of what it set off may have failed (level 2's rollback).
      const problems = (res && res.problems) || [];
      if (problems.length) toast(`${t('incPostureSetButProblems')} ${problems.map((p) => inLang(p.message, p.message_zh)).join('；')}`, 'error');
      else toast(t('incPostureSet'));
      await Promise.all([loadPosture(), loadIncidents()]);
      if (S.selected) await loadDetail();
    });
  }

  async function handBack() {
    await run(E.autoBtn, E.pfError, async () => {
      await api('POST', '/posture/automatic');
      toast(t('incHandedBack'));
      await loadPosture();
    });
  }

  // The live windows: the last five minutes, on one line.
  async function loadMonitor() {
    let d;
    try { d = await api('GET', '/monitor'); } catch { return; } // a hint only
    const w = (d.windows || {})['5m0s'] || {};
    const parts = [t('incLiveLine', {
      turns: w.turns || 0, rate: pct(w.answer_rate), p95: (Number(w.p95_latency_s) || 0).toFixed(2),
      errors: w.errors || 0, diverted: w.diverted || 0,
    })];
    if (d.spool_pending) parts.push(t('incSpool', { n: d.spool_pending }));
    E.monitorLine.textContent = parts.join(' · ');
  }

  // =====================================================================
  // Alerts and silences
  // =====================================================================
  async function loadAlerts() {
    const current = newest('alerts');
    let d;
    try { d = await api('GET', '/alerts'); } catch (e) { if (current()) toastError(e); return; }
    if (!current()) return;
    const firing = d.firing || [];
    // Compared by what the rows show, not the whole JSON: an alert's value moves on every evaluation.
    if (changed('alerts', [firing.map((a) => [alertID(a), alertKey(a)]), canManage()])) renderAlerts(firing);
  }

  // An alert is known by its fingerprint, a hash of its labels (its level included): the same fingerprint is
  // the same alert, with the same labels, for as long as it fires.
  const alertID = (a) => a.fingerprint || JSON.stringify(a.labels || {});
  // alertKey is what an alert's row shows: a row whose key is unchanged is left alone.
  const alertKey = (a) => JSON.stringify([a.level, a.labels, a.summary, a.summary_zh, a.starts_at,
    (a.silenced || []).length > 0, (a.inhibited || []).length > 0, canManage()]);

  // renderAlerts brings the table to the alerts firing now in place: a row stays as long as its alert fires and
  // is only updated where what it shows changed, so a refresh every 5 s never takes away the operator's focus
  // (a Silence button reached with the keyboard), text selection or place, and nothing flickers.
  function renderAlerts(firing) {
    E.alertsCount.textContent = firing.length ? t('incFiringN', { n: firing.length }) : '';
    E.alertsTable.hidden = !firing.length;
    E.alertsEmpty.hidden = !!firing.length;
    const body = E.alertsBody;
    const old = new Map([...body.rows].map((tr) => [tr.dataset.id, tr]));
    const rows = firing.map((a) => {
      let tr = old.get(alertID(a));
      old.delete(alertID(a));
      if (tr && tr.dataset.manage !== String(canManage())) { tr.remove(); tr = null; }
      if (!tr) tr = alertRow(a);
      else fillAlertRow(tr, a);
      return tr;
    });
    for (const tr of old.values()) tr.remove();
    // In the API's order (newest first), moving as few rows as it takes; moveBefore keeps focus in a moved row.
    rows.forEach((tr, i) => {
      const at = body.rows[i] || null;
      if (at === tr) return;
      if (tr.isConnected && body.moveBefore) body.moveBefore(tr, at);
      else body.insertBefore(tr, at);
    });
  }

  function alertRow(a) {
    const tr = mk('tr', 'inc-alert');
    tr.dataset.id = alertID(a);
    tr.dataset.manage = String(canManage());
    for (let i = 0; i < 6; i++) tr.append(mk('td'));
    const muted = mk('span', 'chips');
    tr.cells[5].append(muted);
    if (canManage()) {
      const labels = a.labels || {}; // the fingerprint's: they do not change while the row stands
      const b = btn('btn btn--small btn--ghost inc-silence-this', t('incSilenceThis'));
      b.addEventListener('click', () => prefillSilence(labels));
      muted.append(b);
    }
    fillAlertRow(tr, a);
    return tr;
  }

  // fillAlertRow shows an alert in its row, touching only the cells whose content changed; the Silence button
  // is never replaced.
  function fillAlertRow(tr, a) {
    const key = alertKey(a);
    if (tr.dataset.key === key) return;
    tr.dataset.key = key;
    tr.dataset.fingerprint = a.fingerprint || '';
    tr.dataset.level = a.level || '';
    const labels = a.labels || {};
    const cell = (td, content, ...kids) => {
      if (td.dataset.shows === content) return;
      td.dataset.shows = content;
      td.replaceChildren(...kids);
    };
    const [level, name, summary, chips, since, mutedCell] = tr.cells;
    cell(level, a.level || '', levelBadge(a.level));
    cell(name, labels.alertname || '', mk('code', 'inc-alertname', labels.alertname || ''));
    const text = inLang(a.summary, a.summary_zh);
    cell(summary, text, mk('span', 'inc-summary', text));
    const shown = Object.entries(labels).filter(([k]) => k !== 'alertname' && k !== 'level').map(([k, v]) => `${k}=${v}`);
    const box = mk('span', 'chips');
    box.append(...shown.map((s) => chip(s)));
    cell(chips, JSON.stringify(shown), box);
    const time = fmtTime(a.starts_at);
    cell(since, time, mk('span', 'inc-time', time));
    const silenced = (a.silenced || []).length > 0, inhibited = (a.inhibited || []).length > 0;
    const muted = mutedCell.firstElementChild;
    if (muted.dataset.shows === `${silenced}/${inhibited}`) return;
    muted.dataset.shows = `${silenced}/${inhibited}`;
    const state = [];
    if (silenced) state.push(chip(t('incMutedSilenced'), 'chip--muted'));
    if (inhibited) state.push(chip(t('incMutedInhibited'), 'chip--muted'));
    if (!state.length) state.push(mk('span', 'kb-meta', t('incNotifying')));
    const b = muted.querySelector('.inc-silence-this');
    for (const n of [...muted.childNodes]) if (n !== b) n.remove();
    if (b) b.before(...state); else muted.append(...state);
  }

  // prefillSilence starts a silence for an alert: its labels as matchers, except its level.
  function prefillSilence(labels) {
    const lines = [];
    if (labels.alertname) lines.push(matcherText({ name: 'alertname', value: labels.alertname }));
    for (const [k, v] of Object.entries(labels)) if (k !== 'alertname' && k !== 'level') lines.push(matcherText({ name: k, value: v }));
    E.silMatchers.value = lines.join('\n');
    showError(E.silError, ''); // a new silence: what was wrong with the last one no longer is
    E.silComment.focus();
    E.silenceForm.scrollIntoView({ block: 'nearest' });
  }

  async function loadSilences() {
    const current = newest('silences');
    let d;
    try { d = await api('GET', '/silences'); } catch (e) { if (current()) toastError(e); return; }
    if (!current()) return;
    const list = d.silences || [];
    if (changed('silences', [list, canManage()])) renderSilences(list);
  }

  function renderSilences(list) {
    E.silencesEmpty.hidden = !!list.length;
    E.silencesList.replaceChildren(...list.map((s) => {
      const li = mk('li', 'inc-silence');
      li.dataset.id = s.id;
      const head = mk('div', 'kb-row');
      const ms = mk('span', 'chips');
      for (const m of s.matchers || []) ms.append(mk('code', 'chip', matcherText(m)));
      head.append(ms, mk('span', 'kb-meta', t('incSilenceUntil', { time: fmtTime(s.ends_at) })));
      if (canManage()) {
        const b = btn('btn btn--small btn--danger inc-expire', t('incExpire'));
        b.addEventListener('click', () => run(b, null, async () => {
          await api('DELETE', `/silences/${enc(s.id)}`);
          toast(t('incExpired'));
          await Promise.all([loadSilences(), loadAlerts()]);
        }));
        head.append(b);
      }
      li.append(head, mk('p', 'inc-comment', s.comment || ''));
      return li;
    }));
  }

  async function addSilence() {
    const matchers = E.silMatchers.value.split('\n').map((s) => s.trim()).filter(Boolean);
    const comment = E.silComment.value.trim();
    if (!matchers.length || !comment) { formError(E.silError, t('incSilenceMissing'), ...(matchers.length ? [] : [E.silMatchers]), E.silComment); return; }
    await run(E.silAdd, E.silError, async () => {
      await api('POST', '/silences', { matchers, comment, duration: E.silDuration.value });
      E.silMatchers.value = '';
      E.silComment.value = '';
      toast(t('incSilenced'));
      await Promise.all([loadSilences(), loadAlerts()]);
    });
  }

  // =====================================================================
  // Drills: fault injection (docs/crisis.md, "Drills")
  // =====================================================================
  // Shown to those who may inject, on a server started with fault injection on (the API answers
  // 404 otherwise, and the section stays hidden). Each fault lasts its duration, or until cleared.
  const canInject = () => S.perms.includes('faults.inject');
  async function loadFaults() {
    if (!canInject() || S.faultsOff) return;
    const current = newest('faults');
    let d;
    try {
      d = await api('GET', '/admin/faults');
    } catch (e) {
      if (!current()) return;
      // 404: fault injection is off; 403: no longer allowed (the role changed while the page was open).
      if (e.status === 404 || e.status === 403) { S.faultsOff = true; E.drillsBox.hidden = true; }
      return;
    }
    if (!current()) return;
    E.drillsBox.hidden = false;
    // Not kb.bad_release: it publishes and activates a damaged release, which no Clear undoes (the
    // drill command puts the earlier release back; here it would take a rollback on the KB page).
    const points = (d.points || []).filter((p) => p !== 'kb.bad_release');
    if (E.faultPoint.options.length !== points.length) {
      E.faultPoint.replaceChildren(...points.map((p) => { const o = mk('option', '', label('faultPoint', p)); o.value = p; return o; }));
    }
    const list = d.faults || [];
    // The counts of calls a fault applied to change on every poll: they are updated in place, so
    // that the list (and a Clear button with the focus) is rebuilt only when the faults change.
    if (changed('faults', list.map((f) => ({ ...f, applied: 0 })))) renderFaults(list);
    else for (const f of list) {
      const p = E.faultsList.querySelector(`li[data-point="${CSS.escape(f.point)}"] .inc-fault-detail`);
      if (p) p.textContent = faultDetail(f);
    }
  }
  const faultDetail = (f) => t('incFaultDetail', { rate: pct(f.error_rate), latency: f.latency_ms || 0, applied: f.applied || 0 });

  function renderFaults(list) {
    E.faultsEmpty.hidden = !!list.length;
    E.faultsList.replaceChildren(...list.map((f) => {
      const li = mk('li', 'inc-fault');
      li.dataset.point = f.point;
      const head = mk('div', 'kb-row');
      const name = mk('code', 'chip', f.scope ? `${f.point} · ${f.scope}` : f.point);
      head.append(name, mk('span', 'kb-meta', t('incFaultUntil', { time: fmtTime(f.until) })));
      const b = btn('btn btn--small btn--danger inc-fault-clear', t('incFaultClear'));
      b.addEventListener('click', () => run(b, E.faultError, async () => {
        const res = await api('DELETE', `/admin/faults/${enc(f.point)}`);
        // Not there any more: it ended on its own (its time ran out) before the click.
        toast(t(res && res.cleared === false ? 'incFaultEnded' : 'incFaultCleared', { point: label('faultPoint', f.point) }));
        await loadFaults();
      }));
      head.append(b);
      li.append(head, mk('p', 'kb-meta inc-fault-detail', faultDetail(f)));
      return li;
    }));
  }

  async function injectFault() {
    const point = E.faultPoint.value;
    const rate = Number(E.faultRate.value), latency = Number(E.faultLatency.value);
    if (!Number.isFinite(rate) || rate < 0 || rate > 100 || !Number.isFinite(latency) || latency < 0 || latency > 60000) {
      formError(E.faultError, t('incFaultBadInvalid'), E.faultRate, E.faultLatency);
      return;
    }
    const body = { point, error_rate: rate / 100, latency_ms: Math.round(latency), duration_s: Number(E.faultDuration.value) };
    const scope = E.faultScope.value.trim();
    if (scope) body.scope = scope;
    await run(E.faultAdd, E.faultError, async () => {
      const res = await api('POST', '/admin/faults', body);
      toast(t('incFaultInjected', { point: label('faultPoint', point) }));
      await loadFaults();
    });
  }

  // =====================================================================
  // Incidents
  // =====================================================================
  async function loadIncidents() {
    const current = newest('incidents');
    let d;
    try { d = await api('GET', '/incidents'); } catch (e) { if (current()) toastError(e); return; }
    if (!current()) return;
    S.incidents = d.incidents || [];
    if (changed('incidents', [S.incidents, S.selected])) renderIncidents();
  }

  function renderIncidents() {
    E.incidentsEmpty.hidden = !!S.incidents.length;
    E.incidentsList.replaceChildren(...S.incidents.map((inc) => {
      const li = mk('li', 'item inc-item');
      li.dataset.id = inc.id;
      li.dataset.phase = inc.phase || '';
      li.tabIndex = 0;
      li.setAttribute('role', 'button');
      if (inc.id === S.selected) { li.classList.add('is-selected'); li.setAttribute('aria-current', 'true'); }
      const top = mk('div', 'item-top');
      top.append(phaseBadge(inc.phase), levelBadge(inc.severity));
      const meta = mk('div', 'item-meta');
      meta.append(mk('span', '', t('incStarted', { time: fmtTime(inc.started_at) })), durationEl(inc));
      li.append(top, mk('div', 'inc-item-title', incidentTitle(inc)), meta);
      li.addEventListener('click', () => { location.hash = inc.id; });
      li.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); location.hash = inc.id; } });
      return li;
    }));
  }

  // durationEl shows how long an incident lasted, or has lasted so far; tickDurations keeps the latter current.
  function durationEl(inc) {
    const el = mk('span', 'inc-dur');
    el.dataset.started = inc.started_at || '';
    el.dataset.resolved = toDate(inc.resolved_at) ? inc.resolved_at : '';
    setDuration(el);
    return el;
  }
  function setDuration(el) {
    const from = toDate(el.dataset.started);
    if (!from) { el.textContent = ''; return; }
    const to = toDate(el.dataset.resolved);
    const secs = ((to || new Date()) - from) / 1000;
    el.textContent = to ? t('incLasted', { d: fmtDuration(secs) }) : t('incOngoing', { d: fmtDuration(secs) });
  }
  function tickDurations() {
    for (const el of document.querySelectorAll('.inc-dur')) setDuration(el);
  }

  async function select(id, { replace = false } = {}) {
    if (!id) return;
    if (replace && location.hash !== `#${id}`) history.replaceState(history.state, '', `#${id}`);
    if (S.selected !== id) {
      S.selected = id;
      S.detail = null;
      S.pmFor = '';
      delete S.shown.detail;
      E.pmBody.hidden = true;
      E.pmNumbers.hidden = true;
      E.pmRaw.hidden = true;
      showError(E.detailError, '');
      E.updNote.value = '';
      E.updPhase.value = '';
      E.resolveNote.value = '';
    }
    for (const li of E.incidentsList.children) {
      const on = li.dataset.id === id;
      li.classList.toggle('is-selected', on);
      if (on) li.setAttribute('aria-current', 'true'); else li.removeAttribute('aria-current');
    }
    S.shown.incidents = JSON.stringify([S.incidents, S.selected]);
    await loadDetail();
  }

  async function loadDetail() {
    const id = S.selected;
    const current = newest('detail');
    let d;
    try {
      d = await api('GET', `/incidents/${enc(id)}`);
    } catch (e) {
      if (id !== S.selected || !current()) return;
      if (e.status === 404) {
        S.selected = ''; E.detail.hidden = true; E.detailEmpty.hidden = false;
        // The address no longer names it either: a reload, or a link copied from here, would
        // open the same error.
        if (location.hash === `#${id}`) history.replaceState(history.state, '', location.pathname + location.search);
        for (const li of E.incidentsList.children) { li.classList.remove('is-selected'); li.removeAttribute('aria-current'); }
      }
      toastError(e);
      return;
    }
    if (id !== S.selected || !current()) return; // another was picked, or read again, meanwhile
    S.detail = d;
    if (changed('detail', [d, canManage()])) renderDetail(d);
    const inc = d.incident || {};
    // A resolved incident shows its postmortem; it is loaded again when the phase changes.
    if (inc.phase === 'resolved' && S.pmFor !== `${inc.id}:resolved`) loadPostmortem();
  }

  function renderDetail(d) {
    const inc = d.incident || {};
    const open = inc.phase !== 'resolved';
    E.detailEmpty.hidden = true;
    E.detail.hidden = false;
    E.detail.dataset.id = inc.id || '';
    E.detail.dataset.phase = inc.phase || '';
    E.detailTitle.textContent = incidentTitle(inc);
    E.detailPhase.textContent = label('phase', inc.phase);
    E.detailPhase.dataset.phase = inc.phase || '';
    E.detailSeverity.textContent = label('alertlevel', inc.severity);
    E.detailSeverity.dataset.level = inc.severity || '';
    const meta = [mk('code', 'kb-id', inc.id || ''), ` · ${t('incStarted', { time: fmtTime(inc.started_at) })}`];
    const dur = durationEl(inc);
    meta.push(' · ', dur);
    if (toDate(inc.detected_at)) meta.push(` · ${t('incDetected', { time: fmtTime(inc.detected_at) })}`);
    if (toDate(inc.mitigated_at)) meta.push(` · ${t('incMitigated', { time: fmtTime(inc.mitigated_at) })}`);
    if (inc.max_level) meta.push(` · ${t('incMaxLevel', { n: inc.max_level })}`);
    if (inc.manual) meta.push(` · ${t('incManualDeclared')}`);
    if (inc.title_zh && inc.title && inc.title_zh !== inc.title) meta.push(` · ${ZH ? inc.title : inc.title_zh}`);
    E.detailMeta.replaceChildren(...meta);

    // Actions a playbook waits to have approved.
    const pending = inc.pending || [];
    E.pendingBox.hidden = !pending.length;
    E.pendingList.replaceChildren(...pending.map((act, index) => {
      const li = mk('li', 'kb-row inc-pending');
      li.dataset.index = String(index);
      li.append(mk('span', 'kb-grow', inLang(act.summary, act.summary_zh) || act.playbook));
      li.append(mk('code', 'kb-id', act.playbook || ''));
      if (canManage() && open) {
        const b = btn('btn btn--small btn--primary inc-approve', t('incApprove'));
        b.addEventListener('click', () => run(b, E.detailError, async () => {
          // Named as shown: by its place alone, another operator's approval (or an alert that
          // resolved) made this click approve the next action in the list.
          await api('POST', `/incidents/${enc(inc.id)}/approve`, { index, playbook: act.playbook || '', alert: act.alert || '' });
          toast(t('incApproved'));
          await Promise.all([loadDetail(), loadPosture()]);
        }));
        li.append(b);
      }
      return li;
    }));
    E.confirmBox.hidden = !(open && inc.awaiting_confirm);
    E.confirmBtn.hidden = !canManage();

    E.detailManage.hidden = !(canManage() && open);

    E.timeline.replaceChildren(...(d.timeline || []).map((ev) => {
      const li = mk('li', 'inc-event');
      li.dataset.kind = ev.kind || '';
      const head = mk('div', 'inc-event-head');
      head.append(mk('span', 'inc-time', fmtTime(ev.at)), mk('span', 'inc-kind', label('evkind', ev.kind)));
      li.append(head, mk('div', 'inc-event-text', inLang(ev.text, ev.text_zh)));
      return li;
    }));

    E.pmRaw.href = `${API}/incidents/${enc(inc.id)}/postmortem?format=markdown`;
    E.pmRaw.setAttribute('download', `postmortem-${inc.id}.md`);
    E.pmLoad.textContent = open ? t('incPostmortemDraft') : t('incRefresh');
  }

  async function loadPostmortem() {
    const inc = (S.detail && S.detail.incident) || {};
    if (!inc.id) return;
    S.pmFor = `${inc.id}:${inc.phase}`;
    let d;
    try {
      d = await api('GET', `/incidents/${enc(inc.id)}/postmortem`);
    } catch (e) {
      S.pmFor = '';
      toastError(e);
      return;
    }
    if (!S.detail || S.detail.incident.id !== inc.id) return;
    const n = d.numbers || {};
    const secs = (v) => (v == null ? '—' : fmtDuration(v));
    E.pmNumbers.textContent = t('incPMNumbers', {
      detect: secs(n.time_to_detect_s), mitigate: secs(n.time_to_mitigate_s), resolve: secs(n.time_to_resolve_s),
      conv: n.conversations_affected ?? 0, rate: pct(n.session_interruption_rate),
    });
    E.pmNumbers.hidden = false;
    E.pmBody.replaceChildren(renderMarkdown(d.markdown || ''));
    E.pmBody.hidden = false;
    E.pmRaw.hidden = false;
  }

  // renderMarkdown turns the subset of Markdown postmortems use (headings, tables, lists, fenced blocks,
  // paragraphs, `code`) into DOM nodes. Every piece of text goes in as a text node: nothing is parsed as HTML.
  function renderMarkdown(md) {
    const out = document.createDocumentFragment();
    const lines = String(md).replace(/\r\n?/g, '\n').split('\n');
    const isTable = (l) => /^\s*\|/.test(l);
    const listItem = (l) => /^(\s*)([-*+]|\d+[.)])\s+(.*)$/.exec(l) || /^(\s*)([-*+]|\d+[.)])$/.exec(l.trimEnd());
    const isBlockStart = (l) => /^```/.test(l) || /^#{1,6}\s/.test(l) || isTable(l) || !!listItem(l);
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      if (!line.trim()) { i++; continue; }
      if (/^```/.test(line)) {
        const buf = [];
        for (i++; i < lines.length && !/^```/.test(lines[i]); i++) buf.push(lines[i]);
        i++; // the closing fence
        out.append(mk('pre', 'inc-md-pre', buf.join('\n')));
        continue;
      }
      const h = /^(#{1,6})\s+(.*)$/.exec(line);
      if (h) {
        // The page's own headings go down to h3: the postmortem's start at h4.
        const el = mk(`h${Math.min(6, h[1].length + 3)}`, `inc-md-h inc-md-h${h[1].length}`);
        inline(el, h[2]);
        out.append(el);
        i++;
        continue;
      }
      if (isTable(line)) {
        const rows = [];
        for (; i < lines.length && isTable(lines[i]); i++) rows.push(lines[i]);
        out.append(mdTable(rows));
        continue;
      }
      if (listItem(line)) {
        const items = [];
        for (; i < lines.length && lines[i].trim() && (listItem(lines[i]) || /^\s+\S/.test(lines[i])); i++) items.push(lines[i]);
        out.append(mdList(items, listItem));
        continue;
      }
      const buf = [];
      for (; i < lines.length && lines[i].trim() && !isBlockStart(lines[i]); i++) buf.push(lines[i].trim());
      const p = mk('p', 'inc-md-p');
      inline(p, buf.join(' '));
      out.append(p);
    }
    return out;
  }
  function inline(el, text) {
    String(text).split('`').forEach((part, k) => {
      if (k % 2) el.append(mk('code', null, part));
      else if (part) el.append(document.createTextNode(part));
    });
  }
  function mdTable(rows) {
    const cells = (r) => r.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
    const isRule = (r) => /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/.test(r);
    const table = mk('table', 'inc-table inc-md-table');
    const body = mk('tbody');
    rows.forEach((r, k) => {
      if (isRule(r)) return;
      const head = k === 0 && rows.length > 1 && isRule(rows[1]);
      const tr = mk('tr');
      for (const c of cells(r)) {
        const cell = mk(head ? 'th' : 'td');
        inline(cell, c);
        tr.append(cell);
      }
      if (head) { const thead = mk('thead'); thead.append(tr); table.append(thead); } else body.append(tr);
    });
    table.append(body);
    const wrap = mk('div', 'inc-table-wrap');
    wrap.append(table);
    return wrap;
  }
  // mdList builds lists from their lines: an item indented under another goes into a list inside it, a
  // continuation line joins the item above.
  function mdList(items, listItem) {
    const out = document.createDocumentFragment();
    const stack = []; // {indent, list, last}: the open lists, outermost first
    const tag = (ordered) => (ordered ? 'OL' : 'UL');
    for (const line of items) {
      const m = listItem(line);
      if (!m) {
        const top = stack[stack.length - 1];
        if (top && top.last) top.last.append(` ${line.trim()}`);
        continue;
      }
      const indent = m[1].length, ordered = /\d/.test(m[2]);
      while (stack.length && indent < stack[stack.length - 1].indent) stack.pop();
      let top = stack[stack.length - 1];
      if (!top || (indent > top.indent && top.last)) {
        const list = mk(tag(ordered).toLowerCase(), 'inc-md-list');
        if (top) top.last.append(list); else out.append(list);
        top = { indent, list, last: null };
        stack.push(top);
      } else if (top.list.tagName !== tag(ordered)) { // the same depth, another kind of list: a new one after it
        const list = mk(tag(ordered).toLowerCase(), 'inc-md-list');
        top.list.after(list);
        top.list = list;
      }
      const li = mk('li');
      inline(li, m[3] || '');
      top.list.append(li);
      top.last = li;
    }
    return out;
  }

  async function declare() {
    const title = E.decTitle.value.trim();
    if (!title) { formError(E.decError, t('incTitleRequired'), E.decTitle); return; }
    await run(E.decSubmit, E.decError, async () => {
      const d = await api('POST', '/incidents', { title, title_zh: E.decTitleZH.value.trim(), severity: E.decSeverity.value });
      E.decTitle.value = '';
      E.decTitleZH.value = '';
      toast(t('incDeclared', { title: incidentTitle(d.incident || { title }) }));
      await loadIncidents();
      if (d.incident) location.hash = d.incident.id; // hashchange selects it
    });
  }

  async function postUpdate() {
    const phase = E.updPhase.value, note = E.updNote.value.trim();
    if (!phase && !note) { formError(E.detailError, t('incNoteMissing'), E.updNote, E.updPhase); return; }
    const id = S.selected;
    await run(E.updPost, E.detailError, async () => {
      await api('POST', `/incidents/${enc(id)}/updates`, { phase, note });
      E.updNote.value = '';
      E.updPhase.value = '';
      toast(t('incUpdated'));
      await Promise.all([loadDetail(), loadIncidents()]);
    });
  }

  async function resolve() {
    const id = S.selected;
    if (!window.confirm(t('incResolveConfirm'))) return; // it cannot be undone
    await run(E.resolveBtn, E.detailError, async () => {
      await api('POST', `/incidents/${enc(id)}/resolve`, { note: E.resolveNote.value.trim() });
      E.resolveNote.value = '';
      toast(t('incResolvedToast'));
      await Promise.all([loadDetail(), loadIncidents(), loadPosture()]);
    });
  }

  async function confirmRecovery() {
    const id = S.selected;
    await run(E.confirmBtn, E.detailError, async () => {
      await api('POST', `/incidents/${enc(id)}/confirm`);
      toast(t('incConfirmed'));
      await loadDetail();
    });
  }

  // =====================================================================
  // Notices
  // =====================================================================
  // S.noticeBase[level] is the notice as last read or saved: an editor whose text is still that
  // is untouched, and takes another operator's newer text on the next poll; one being edited is
  // left alone. (The editors loaded once, so a save sent back a text read hours before and undid
  // another operator's later edit without a word.)
  const noticeText = (l) => ({ zh: $(`notice-${l}-zh`).value, en: $(`notice-${l}-en`).value });
  const sameNotice = (a, b) => !!a && !!b && (a.zh || '') === (b.zh || '') && (a.en || '') === (b.en || '');
  async function loadNotices({ quiet = false } = {}) {
    const current = newest('notices');
    let d;
    try { d = await api('GET', '/notices'); } catch (e) { if (!quiet) toastError(e); return null; }
    if (!current()) return null;
    const all = d.notices || {};
    for (const l of NOTICE_LEVELS) {
      const n = { zh: (all[String(l)] || {}).zh || '', en: (all[String(l)] || {}).en || '' };
      if (!S.noticeBase[l] || sameNotice(noticeText(l), S.noticeBase[l])) {
        $(`notice-${l}-zh`).value = n.zh;
        $(`notice-${l}-en`).value = n.en;
        S.noticeBase[l] = n;
      }
    }
    return all;
  }

  async function saveNotice(button) {
    const level = Number(button.dataset.level);
    const zh = $(`notice-${level}-zh`).value.trim(), en = $(`notice-${level}-en`).value.trim();
    if (!zh || !en) { formError(E.noticesError, t('incNoticeMissing'), $(`notice-${level}-${zh ? 'en' : 'zh'}`), $(`notice-${level}-${zh ? 'zh' : 'en'}`)); return; }
    await run(button, E.noticesError, async () => {
      // A poll's read under way was made before this save: its answer would put the old text back.
      newest('notices');
      // Changed by someone else since this editor read it: say so, with their text, rather than
      // overwrite it unseen. A second Save replaces it (the base is now their text).
      const base = S.noticeBase[level];
      const fresh = await api('GET', '/notices');
      const theirs = ((fresh && fresh.notices) || {})[String(level)] || {};
      const now = { zh: theirs.zh || '', en: theirs.en || '' };
      if (base && !sameNotice(now, base) && !sameNotice(now, { zh, en })) {
        S.noticeBase[level] = now;
        throw new Error(t('incNoticeChanged', { text: inLang(now.en, now.zh) || t('incNoNotice') }));
      }
      await api('PUT', `/notices/${level}`, { zh, en });
      newest('notices');
      S.noticeBase[level] = { zh, en };
      $(`notice-${level}-zh`).value = zh;
      $(`notice-${level}-en`).value = en;
      toast(t('incNoticeSaved', { level: label('postureLevel', level) }));
      await loadPosture();
    });
  }

  // ---------- wiring ----------
  function init() {
    E = {
      bootError: $('boot-error'), toasts: $('toasts'), meName: $('me-name'), meRole: $('me-role'),
      readonlyNote: $('readonly-note'),
      pLevel: $('posture-level'), pMode: $('posture-mode'), pDesc: $('posture-desc'), pMeta: $('posture-meta'),
      pReason: $('posture-reason'), pThrottles: $('posture-throttles'), pNotice: $('posture-notice'),
      monitorLine: $('monitor-line'),
      postureForm: $('posture-form'), pfLevel: $('pf-level'), pfLevelHint: $('pf-level-hint'), pfScope: $('pf-scope'),
      pfAll: $('pf-all'), pfCategories: $('pf-categories'), pfHuman: $('pf-human'), pfReason: $('pf-reason'),
      pfSet: $('pf-set'), pfError: $('pf-error'), autoBtn: $('posture-auto'),
      declareBox: $('declare-box'), declareForm: $('declare-form'), decTitle: $('dec-title'), decTitleZH: $('dec-title-zh'),
      decSeverity: $('dec-severity'), decSubmit: $('dec-submit'), decError: $('dec-error'),
      alertsCount: $('alerts-count'), alertsTable: $('alerts-table'), alertsBody: $('alerts-body'), alertsEmpty: $('alerts-empty'),
      silencesList: $('silences-list'), silencesEmpty: $('silences-empty'), silenceForm: $('silence-form'),
      silMatchers: $('sil-matchers'), silComment: $('sil-comment'), silDuration: $('sil-duration'), silAdd: $('sil-add'),
      silError: $('sil-error'),
      incidentsList: $('incidents-list'), incidentsEmpty: $('incidents-empty'),
      detailEmpty: $('detail-empty'), detail: $('detail'), detailTitle: $('detail-title'), detailPhase: $('detail-phase'),
      detailSeverity: $('detail-severity'), detailMeta: $('detail-meta'), pendingBox: $('pending-box'),
      pendingList: $('pending-list'), confirmBox: $('confirm-box'), confirmBtn: $('confirm-btn'),
      detailManage: $('detail-manage'), updateForm: $('update-form'), updPhase: $('upd-phase'), updNote: $('upd-note'),
      updPost: $('upd-post'), resolveNote: $('resolve-note'), resolveBtn: $('resolve-btn'), detailError: $('detail-error'),
      timeline: $('timeline'), pmLoad: $('pm-load'), pmRaw: $('pm-raw'), pmNumbers: $('pm-numbers'), pmBody: $('pm-body'),
      noticesError: $('notices-error'),
      drillsBox: $('drills-box'), faultsList: $('faults-list'), faultsEmpty: $('faults-empty'), faultForm: $('fault-form'),
      faultPoint: $('fault-point'), faultRate: $('fault-rate'), faultLatency: $('fault-latency'), faultScope: $('fault-scope'),
      faultDuration: $('fault-duration'), faultAdd: $('fault-add'), faultError: $('fault-error'),
    };
    $('logout-btn').addEventListener('click', async () => {
      try { await api('POST', '/auth/logout'); } catch { /* leaving anyway */ }
      location.replace('/console/login');
    });
    $('boot-retry').addEventListener('click', boot);
    window.addEventListener('hashchange', () => { const id = location.hash.replace(/^#/, ''); if (id) select(id); });
    document.addEventListener('visibilitychange', () => { if (!document.hidden && S.me) refresh(); });

    E.pfLevel.addEventListener('change', syncPostureForm);
    // Typing is a choice too ('change' comes only when the field is left): the live posture
    // redrawn meanwhile replaced the categories being typed.
    for (const el of [E.pfLevel, E.pfAll, E.pfCategories, E.pfHuman]) {
      for (const ev of ['change', 'input']) el.addEventListener(ev, () => { S.pfTouched = true; });
    }
    E.pfAll.addEventListener('change', syncPostureForm);
    E.postureForm.addEventListener('submit', (e) => { e.preventDefault(); setPosture(); });
    clearOnEdit(E.postureForm, E.pfError);
    clearOnEdit(E.declareForm, E.decError);
    clearOnEdit(E.silenceForm, E.silError);
    clearOnEdit(E.detailManage, E.detailError);
    clearOnEdit($('notices-box'), E.noticesError);
    E.autoBtn.addEventListener('click', handBack);
    E.declareForm.addEventListener('submit', (e) => { e.preventDefault(); declare(); });
    E.silenceForm.addEventListener('submit', (e) => { e.preventDefault(); addSilence(); });
    E.faultForm.addEventListener('submit', (e) => { e.preventDefault(); injectFault(); });
    clearOnEdit(E.faultForm, E.faultError);
    E.updateForm.addEventListener('submit', (e) => { e.preventDefault(); postUpdate(); });
    E.resolveBtn.addEventListener('click', resolve);
    E.confirmBtn.addEventListener('click', confirmRecovery);
    E.pmLoad.addEventListener('click', () => run(E.pmLoad, null, loadPostmortem));
    for (const b of document.querySelectorAll('.inc-notice-save')) b.addEventListener('click', () => saveNotice(b));
    syncPostureForm();
    boot();
  }

  init();
})();
