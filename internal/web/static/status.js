// Steward public status page (/status). Plain ES2020, no dependencies, no build step.
// The UI strings come from the page (<script type="application/json" id="i18n">, rendered
// by the server in zh-CN or en); the data comes from the public /api/v1/status every 5 s.
// Every piece of server data is rendered with textContent only.
'use strict';
(() => {
  const STATUS_API = '/api/v1/status';
  const POLL_EVERY = 5000;
  const PHASES = ['investigating', 'identified', 'monitoring', 'resolved'];
  const STATUSES = ['operational', 'degraded_performance', 'partial_outage', 'major_outage'];

  // ---------- strings and helpers shared with the console pages (staff.js) ----------
  const { LANG, t, label, $, mk, toDate } = window.Staff;
  // The text in the page's language, falling back to the other one.
  const pick = (en, zh) => String((LANG === 'zh-CN' ? zh || en : en || zh) || '');

  // ---------- small helpers ----------
  const knownStatus = (s) => (STATUSES.includes(s) ? s : 'operational');
  // "14:05" today, "3月2日 14:05" / "Mar 2, 14:05" before.
  function fmtTime(d) {
    const opts = { hour: '2-digit', minute: '2-digit' };
    if (d.toDateString() !== new Date().toDateString()) Object.assign(opts, { month: 'short', day: 'numeric' });
    return d.toLocaleString(LANG, opts);
  }
  function timeEl(v) {
    const d = toDate(v);
    const el = mk('time', 'status-time', d ? fmtTime(d) : '');
    if (d) { el.dateTime = d.toISOString(); el.title = d.toLocaleString(LANG); }
    return el;
  }
  function fmtDuration(ms) {
    const min = Math.floor(Math.max(0, ms) / 60000);
    if (min < 1) return t('lessThanMinute');
    if (min < 60) return t('minutes', { n: min });
    return t('hoursMinutes', { h: Math.floor(min / 60), m: min % 60 });
  }

  // ---------- rendering ----------
  let E = {};

  // The banner: overall is the worst of the posture, the components and an open incident (the
  // server's; status alone is the posture, for a server without it). An open incident is named
  // by its phase, so the banner never says all is well above it.
  function renderOverall(d) {
    const inc = d.incident || null;
    let s = knownStatus(d.overall || d.status);
    if (inc && s === 'operational') s = 'degraded_performance';
    E.overall.dataset.status = s;
    E.overall.dataset.incident = inc ? String(inc.phase || '') : '';
    E.overallText.textContent = !inc ? label('status', s)
      : PHASES.includes(inc.phase) ? label('banner_incident', inc.phase) : t('banner_incident');
  }

  function renderNotice(d) {
    const n = d.notice || {};
    const text = Number(d.level) > 0 ? pick(n.en, n['zh-CN']) : '';
    E.notice.hidden = !text;
    E.noticeText.textContent = text;
  }

  function renderIncident(inc) {
    E.incident.hidden = !inc;
    if (!inc) return;
    E.incidentTitle.textContent = pick(inc.title, inc.title_zh);
    // "critical · started Mar 2, 14:05"
    E.incidentMeta.replaceChildren();
    if (inc.severity) {
      const sev = mk('span', 'status-severity', label('severity', inc.severity));
      sev.dataset.severity = String(inc.severity);
      E.incidentMeta.append(sev, mk('span', 'status-foot-sep', '·'));
    }
    if (toDate(inc.started_at)) {
      const [before, after = ''] = t('startedAt').split('{time}');
      E.incidentMeta.append(before, timeEl(inc.started_at), after);
    }
    E.incident.dataset.phase = inc.phase || '';
    renderStepper(inc.phase);
    const updates = (Array.isArray(inc.updates) ? inc.updates : [])
      .map((u, i) => ({ u, i, at: toDate(u.at) }))
      .sort((a, b) => (b.at ? b.at.getTime() : 0) - (a.at ? a.at.getTime() : 0) || b.i - a.i); // newest first
    E.updates.replaceChildren(...updates.map(({ u }) => {
      const li = mk('li', 'status-update');
      li.append(timeEl(u.at), mk('p', 'status-update-text', pick(u.text, u.text_zh)));
      return li;
    }));
    E.noUpdates.hidden = updates.length > 0;
  }

  // investigating → identified → monitoring → resolved, the current phase marked.
  function renderStepper(phase) {
    const cur = PHASES.indexOf(phase);
    E.phases.forEach((li) => {
      const i = PHASES.indexOf(li.dataset.phase);
      li.classList.toggle('is-done', cur >= 0 && i < cur);
      li.classList.toggle('is-current', i === cur);
      if (i === cur) li.setAttribute('aria-current', 'step'); else li.removeAttribute('aria-current');
    });
  }

  function renderComponents(list) {
    list = Array.isArray(list) ? list : [];
    E.components.replaceChildren(...list.map((c) => {
      const s = knownStatus(c.status);
      const li = mk('li', 'status-component');
      li.dataset.name = String(c.name || '');
      li.dataset.status = s;
      const badge = mk('span', 'status-badge', label('component', s));
      badge.dataset.status = s;
      // Why it is not operational, where the status alone would mislead ("no agent online").
      const text = mk('div', 'status-component-text');
      text.append(mk('span', 'status-component-name', pick(c.name, c.name_zh)));
      const note = pick(c.note, c.note_zh);
      if (note) text.append(mk('span', 'status-component-note', note));
      li.append(text, badge);
      return li;
    }));
    E.componentsEmpty.hidden = list.length > 0;
  }

  function renderHistory(list, current, unavailable) {
    list = (Array.isArray(list) ? list : []).filter((inc) => !current || inc.id !== current.id);
    E.history.replaceChildren(...list.map((inc) => {
      const li = mk('li', 'status-past');
      li.dataset.id = String(inc.id || '');
      li.dataset.phase = String(inc.phase || '');
      const head = mk('div', 'status-past-head');
      const phase = mk('span', 'status-phase', label('phase', inc.phase));
      phase.dataset.phase = String(inc.phase || '');
      head.append(mk('span', 'status-past-title', pick(inc.title, inc.title_zh)), phase);
      const meta = mk('p', 'status-meta');
      meta.append(timeEl(inc.started_at));
      const started = toDate(inc.started_at), ended = toDate(inc.resolved_at);
      meta.append(mk('span', 'status-foot-sep', '·'),
        started && ended ? t('lasted', { d: fmtDuration(ended - started) }) : t('ongoing'));
      li.append(head, meta);
      return li;
    }));
    // The server could not read the incidents (its database is out of
    // reach): say so rather than "no recent incidents".
    E.historyEmpty.textContent = t(unavailable ? 'historyUnavailable' : 'historyEmpty');
    E.historyEmpty.hidden = list.length > 0 && !unavailable;
  }

  function render(d) {
    renderOverall(d);
    renderNotice(d);
    renderIncident(d.incident || null);
    renderComponents(d.components);
    renderHistory(d.history, d.incident || null, d.history_unavailable === true);
    const at = toDate(d.updated_at) || new Date();
    E.updatedAt.textContent = t('updatedAt', { time: at.toLocaleTimeString(LANG) });
  }

  // ---------- polling ----------
  const FETCH_TIMEOUT = 8000;
  let timer = 0, busy = false;
  async function poll() {
    clearTimeout(timer);
    if (busy) return;
    busy = true;
    try {
      // Bounded: an answer that never came kept the page on "loading" (or on an old status with
      // no word that it was old) for good.
      const res = await fetch(STATUS_API, { headers: { Accept: 'application/json' }, cache: 'no-store', credentials: 'omit',
        signal: AbortSignal.timeout(FETCH_TIMEOUT) });
      if (!res.ok) throw new Error(`status ${res.status}`);
      render(await res.json());
      E.error.hidden = true;
      document.body.dataset.ready = '1';
    } catch {
      E.error.hidden = false; // keep showing the last status we had
    } finally {
      busy = false;
      if (!document.hidden) timer = setTimeout(poll, POLL_EVERY);
    }
  }

  function init() {
    E = {
      overall: $('overall'), overallText: $('overall-text'), error: $('status-error'),
      notice: $('notice'), noticeText: $('notice-text'),
      incident: $('incident'), incidentTitle: $('incident-title'), incidentMeta: $('incident-meta'),
      phases: [...document.querySelectorAll('#incident-phases li')],
      updates: $('incident-updates'), noUpdates: $('incident-no-updates'),
      components: $('components'), componentsEmpty: $('components-empty'),
      history: $('history'), historyEmpty: $('history-empty'), updatedAt: $('updated-at'),
    };
    // A hidden tab stops polling; coming back refreshes at once.
    document.addEventListener('visibilitychange', () => { if (!document.hidden) poll(); else clearTimeout(timer); });
    poll();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
