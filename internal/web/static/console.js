// Steward agent console (/console) and its sign-in page (/console/login).
// Plain ES2020, no dependencies, no build step. The UI strings come from the page itself
// (<script type="application/json" id="i18n">, rendered by the server in zh-CN or en).
// Live updates arrive over one WebSocket; every piece of data is rendered with textContent only.
'use strict';
(() => {
  const DESK = '/api/v1/desk';
  const MAX_CHARS = 4000;
  const COUNTER_FROM = 3500;
  const BACKOFF_MAX = 30000;
  const PING_EVERY = 25000;
  const ROLES = ['customer', 'bot', 'agent', 'system'];
  const FLAGGABLE = ['answer', 'clarify', 'fallback']; // the bot outcomes an agent may flag as wrong

  // ---------- strings and helpers shared with the other console pages (staff.js) ----------
  const { LANG, t, label, $, mk, btn, enc, toDate, fullTime, later, toast, toastError, api, session } = window.Staff;

  // ---------- small helpers ----------
  const charCount = (s) => [...s].length; // code points, as the server counts
  const pct = (x) => `${Math.round(Math.max(0, Math.min(1, Number(x) || 0)) * 100)}%`;
  // A knowledge-base category by its label (category_order_status); one an operator added shows its id.
  const category = (c) => label('category', c);
  // A summary tag: its own label (vip, bot_failed…), else the category it names.
  const tagLabel = (x) => { const l = label('tag', x); return l === x ? category(x) : l; };
  const isTextField = (el) => !!el && (el.isContentEditable ||
    (el.tagName === 'INPUT' && !['button', 'checkbox', 'radio', 'submit'].includes(el.type)) ||
    el.tagName === 'TEXTAREA' || el.tagName === 'SELECT');

  // "14:05" today, "3月2日 14:05" / "Mar 2, 14:05" before.
  function fmtTime(v) {
    const d = toDate(v);
    if (!d) return '';
    const now = new Date();
    const opts = { hour: '2-digit', minute: '2-digit' };
    if (d.toDateString() !== now.toDateString()) Object.assign(opts, { month: 'short', day: 'numeric' });
    return d.toLocaleString(LANG, opts);
  }
  // 0:45, 12:05, 1:02:05
  function fmtDuration(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const two = (n) => String(n).padStart(2, '0');
    return h ? `${h}:${two(m)}:${two(sec)}` : `${m}:${two(sec)}`;
  }

  // Where to go after signing in: a /console path of ours only, never another site.
  function nextTarget() {
    const raw = new URLSearchParams(location.search).get('next');
    if (raw) {
      try {
        const u = new URL(raw, location.origin);
        if (u.origin === location.origin && ['/console', '/console/', '/console/kb', '/console/incidents', '/console/audit'].includes(u.pathname)) {
          return u.pathname + u.search + u.hash;
        }
      } catch { /* not a URL */ }
    }
    return '/console';
  }

  // =====================================================================
  // Sign-in page
  // =====================================================================
  function initLogin() {
    const form = $('login-form'), email = $('login-email'), password = $('login-password');
    const submit = $('login-submit'), error = $('login-error');
    let busy = false;
    const showError = (msg) => { error.textContent = msg; error.hidden = !msg; };

    // Already signed in (e.g. the back button): go straight on.
    api('GET', '/api/v1/auth/me').then(() => location.replace(nextTarget())).catch(() => { /* stay */ });

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (busy) return;
      const em = email.value.trim(), pw = password.value;
      if (!em || !pw) {
        showError(t('loginMissing'));
        (em ? password : email).focus();
        return;
      }
      busy = true;
      submit.disabled = true;
      submit.textContent = t('signingIn');
      showError('');
      try {
        await api('POST', '/api/v1/auth/login', { email: em, password: pw });
        location.replace(nextTarget());
      } catch (err) {
        showError(err.status === 401 ? t('loginWrong') : err.status === 429 ? loginRefusal(err) : (err.message || t('loginFailed')));
        password.select();
        password.focus();
        busy = false;
        submit.disabled = false;
        submit.textContent = t('signIn');
      }
    });
    // A 429 is either this network's sign-in rate (error.limit names it; a
    // few seconds, say how many) or the account's lock-out (the server's own
    // sentence says for how long).
    function loginRefusal(err) {
      const e = (err.data && err.data.error) || {};
      if (e.limit) return t('loginBusy', { seconds: String(Math.max(1, err.retryAfter || 1)) });
      return e.message ? err.message : t('loginLocked');
    }
    [email, password].forEach((el) => el.addEventListener('input', () => { if (!error.hidden) showError(''); }));
    // The form is ours now: until here a click would have posted it natively.
    submit.disabled = false;
    document.body.dataset.ready = '1';
  }

  // =====================================================================
  // Console
  // =====================================================================
  const S = {
    me: null,
    section: 'queue',
    items: new Map(),      // conversation id -> latest Item
    lists: { queue: [], mine: [], active: [], closed: [] }, // ids, in display order
    closedLoaded: false,   // the Closed tab has been fetched once (it loads when first shown)
    waitSince: new Map(),  // conversation id -> local ms when it started waiting
    agentsOnline: null,
    agents: [], agentsAt: 0,
    tickets: [], ticketsTotal: 0, ticketStatus: 'open',
    contacts: new Map(),   // ticket id -> {text} revealed original or {refused} why not, while the page lives
    unread: new Map(),     // conversation id -> customer messages not seen yet
    hiddenUnread: 0,       // messages in the open conversation while the tab was hidden
    cursor: {},            // section -> id of its keyboard-focused row
    claiming: new Set(),   // conversation ids with a claim in flight
    open: null,            // {id, item, known:Set, notes:Set, loaded}
    openGen: 0,
    drafts: new Map(),     // conversation id -> unsent text
    noteMode: false,
    sending: false,
    canned: new Map(),     // locale -> {at, list}
    ws: null, wsGen: 0, wsAttempt: 0, wsTimer: 0, pingTimer: 0, wsOpen: false, everReady: false,
    sessionCheckAt: 0,
    timers: {},            // intervals by name
  };
  let E = {};

  // ---------- permissions ----------
  const role = () => (S.me && S.me.role) || '';
  const isAuditor = () => role() === 'auditor';
  const isSupervisor = () => role() === 'supervisor' || role() === 'admin';
  const seesAll = () => isSupervisor() || isAuditor();
  const hasMine = () => !isAuditor();
  const isMine = (it) => !!(it && it.assignee && S.me && it.assignee.id === S.me.id);
  // May reply, write notes, close: an agent on their own conversations, supervisors and admins on any.
  const canAct = (it) => !!it && !isAuditor() && (isSupervisor() || isMine(it));
  const canClaim = (it) => !!it && !isAuditor() &&
    (it.state === 'queued' || (isSupervisor() && it.state === 'assigned' && !isMine(it)));

  // Customers without a name are told apart by the end of their conversation id: "访客 3F2A".
  const itemName = (it) => (it && it.customer && it.customer.name) ||
    (it && it.id ? `${t('visitor')} ${String(it.id).slice(-4).toUpperCase()}` : t('visitor'));

  function goLogin() {
    stopStream();
    saveDraft(); // the reply being typed is there again after signing in
    window.Staff.goLogin();
  }

  // ---------- boot ----------
  async function boot() {
    E.bootError.hidden = true;
    let me;
    try {
      me = await api('GET', '/api/v1/auth/me');
    } catch (e) {
      if (e.status !== 401) E.bootError.hidden = false; // 401 already went to the login page
      return;
    }
    S.me = me.user || {};
    session.csrf = me.csrf_token || '';
    session.userID = S.me.id || '';
    loadDrafts();
    $('nav-incidents').hidden = !(me.permissions || []).includes('incident.read');
    $('nav-audit').hidden = !(me.permissions || []).includes('audit.read');
    renderMe();
    setupSections();
    connectStream();
    await Promise.allSettled([loadPresence(), loadQueue(), loadMine(), loadActive(), loadAgents(), loadTickets()]);
    const id = convFromHash();
    if (id) openConversation(id);
    document.body.dataset.ready = '1';
  }

  // After a reconnect: everything may have changed while we were away.
  function reloadAll() {
    loadPresence(); loadQueue(); loadMine(); loadActive(); loadTickets();
    if (S.section === 'closed') loadClosed(); else S.closedLoaded = false;
    if (S.section === 'team' || isSupervisor()) loadAgents();
    if (S.open) openConversation(S.open.id, { refresh: true });
  }

  function renderMe() {
    E.meName.textContent = S.me.name || S.me.email || '';
    E.meName.title = S.me.email || '';
    E.meRole.textContent = label('role', S.me.role || '');
    E.meRole.dataset.role = S.me.role || '';
    E.meRole.hidden = !S.me.role;
  }

  // ---------- sections ----------
  const SECTIONS = ['queue', 'mine', 'active', 'team', 'tickets', 'closed'];
  const sectionVisible = (name) => name === 'queue' || name === 'tickets' || name === 'closed' ||
    (name === 'mine' && hasMine()) || ((name === 'active' || name === 'team') && seesAll());
  const visibleTabs = () => SECTIONS.filter(sectionVisible).map((s) => $(`tab-${s}`));

  function setupSections() {
    for (const s of SECTIONS) $(`tab-${s}`).hidden = !sectionVisible(s);
    let saved = null;
    try { saved = sessionStorage.getItem('steward.console.section'); } catch { /* blocked */ }
    showSection(saved && SECTIONS.includes(saved) && sectionVisible(saved) ? saved : 'queue');
  }

  function showSection(name, { focus = false } = {}) {
    if (!sectionVisible(name)) return;
    S.section = name;
    for (const s of SECTIONS) {
      const tab = $(`tab-${s}`);
      tab.setAttribute('aria-selected', String(s === name));
      tab.tabIndex = s === name ? 0 : -1;
      $(`section-${s}`).hidden = s !== name;
    }
    try { sessionStorage.setItem('steward.console.section', name); } catch { /* blocked */ }
    clearInterval(S.timers.poll);
    if (name === 'team') { loadAgents(); loadReport(); S.timers.poll = setInterval(loadAgents, 20000); }
    if (name === 'tickets') { loadTickets(); S.timers.poll = setInterval(loadTickets, 60000); }
    if (name === 'active') loadActive();
    if (name === 'closed') loadClosed();
    if (focus) focusList();
  }

  const listOf = (section) => $(`${section}-list`);
  function rowsOf(section) { return [...listOf(section).children].filter((li) => li.tagName === 'LI'); }

  // Gives the section's list one tab stop (roving tabindex) and optionally focuses it.
  function syncCursor(section, { focus = false } = {}) {
    const rows = rowsOf(section);
    if (!rows.length) return null;
    const want = S.cursor[section] || (S.open && S.open.id);
    const cur = rows.find((r) => r.dataset.id === want) || rows[0];
    rows.forEach((r) => { r.tabIndex = r === cur ? 0 : -1; });
    if (focus) { cur.focus(); cur.scrollIntoView({ block: 'nearest' }); }
    return cur;
  }
  function focusList() {
    if (!syncCursor(S.section, { focus: true })) $(`tab-${S.section}`).focus();
  }
  function moveCursor(delta, to) {
    const rows = rowsOf(S.section);
    if (!rows.length) return;
    let i = rows.indexOf(document.activeElement.closest && document.activeElement.closest('.list > li'));
    if (i < 0) i = rows.findIndex((r) => r.tabIndex === 0);
    i = to === 'first' ? 0 : to === 'last' ? rows.length - 1 : Math.max(0, Math.min(rows.length - 1, i + delta));
    S.cursor[S.section] = rows[i].dataset.id;
    syncCursor(S.section, { focus: true });
  }

  // ---------- conversation lists ----------
  function setWait(it) {
    if (typeof it.waiting_seconds === 'number' && it.state === 'queued') {
      S.waitSince.set(it.id, Date.now() - it.waiting_seconds * 1000);
    } else if (it.state !== 'queued') {
      S.waitSince.delete(it.id);
    }
  }
  // An item older than the one held is not taken: a routing pass's queue that read a conversation
  // as queued can arrive after the claim's own frame, and overwrote it back to "queued" (the
  // claimer's Mine row said so, and closing it then asked no rating). Older is by last_seq, which
  // every change of state moves on (a line in the transcript), whichever node made it; nodes'
  // clocks (updated_at) only break a tie.
  const stale = (it, held) => {
    if (!held) return false;
    if (typeof it.last_seq === 'number' && typeof held.last_seq === 'number' && it.last_seq !== held.last_seq) {
      return it.last_seq < held.last_seq;
    }
    return !!(it.updated_at && held.updated_at && Date.parse(it.updated_at) < Date.parse(held.updated_at));
  };
  function putItems(list) {
    for (const it of list) {
      if (!it || !it.id || stale(it, S.items.get(it.id))) continue;
      S.items.set(it.id, it);
      setWait(it);
    }
    return list.filter((it) => it && it.id).map((it) => it.id);
  }

  async function loadQueue() {
    try {
      const d = await api('GET', `${DESK}/queue`);
      setQueue(d.queue || [], d.agents_online);
    } catch (e) { if (e.status !== 401) toastError(e); }
  }
  function setQueue(queue, agentsOnline) {
    S.lists.queue = putItems(queue).filter((id) => (S.items.get(id) || {}).state === 'queued');
    if (typeof agentsOnline === 'number') S.agentsOnline = agentsOnline;
    // Queued conversations are part of "active" too.
    if (seesAll()) for (const id of S.lists.queue) if (!S.lists.active.includes(id)) S.lists.active.push(id);
    renderList('queue');
    if (seesAll()) renderList('active');
    // The open conversation was queued and has left the queue (another agent or the router took
    // it): the stream tells only its old holder, so it is read again; it kept "Queued" and a
    // Claim button that another agent's claim made useless.
    // A frame that comes while the view's own read is on its way marks it: that read may have
    // been made before the claim, and it is made again once it has answered.
    if (S.open && !S.claiming.has(S.open.id) && !S.lists.queue.includes(S.open.id)) {
      const it = S.items.get(S.open.id) || S.open.item;
      if (it && it.state === 'queued') {
        if (S.open.loaded) openConversation(S.open.id, { refresh: true });
        else S.open.leftQueue = true;
      }
    }
  }
  async function loadMine() {
    if (!hasMine()) return;
    try {
      const d = await api('GET', `${DESK}/conversations?scope=mine`);
      S.lists.mine = putItems(d.conversations || []);
      // Conversations that left me while the stream was down (requeued, taken over) take their
      // unread counts with them: the title counted them until a reload.
      for (const id of [...S.unread.keys()]) if (!S.lists.mine.includes(id)) S.unread.delete(id);
      renderList('mine');
      updateTitle();
    } catch (e) { if (e.status !== 401) toastError(e); }
  }
  async function loadActive() {
    if (!seesAll()) return;
    try {
      const d = await api('GET', `${DESK}/conversations?scope=active`);
      S.lists.active = putItems(d.conversations || []);
      renderList('active');
    } catch (e) { if (e.status !== 401) toastError(e); }
  }

  // The Closed tab: the actor's own recently closed conversations, everyone's
  // for supervisors and auditors (the server decides), the latest first.
  async function loadClosed() {
    try {
      const d = await api('GET', `${DESK}/conversations?scope=closed`);
      S.lists.closed = putItems(d.conversations || []);
      S.closedLoaded = true;
      renderList('closed');
    } catch (e) { if (e.status !== 401) toastError(e); }
  }
  // Closed lists the actor's own conversations, or everyone's for those who see all.
  const listedAsClosed = (it) => seesAll() || isMine(it);

  function renderList(section) {
    const ul = listOf(section);
    const hadFocus = ul.contains(document.activeElement);
    const focusedId = hadFocus && document.activeElement.closest('li') ? document.activeElement.closest('li').dataset.id : null;
    const ids = S.lists[section];
    const frag = document.createDocumentFragment();
    for (const id of ids) {
      const it = S.items.get(id);
      if (it) frag.append(renderItem(it, section));
    }
    ul.replaceChildren(frag);
    $(`${section}-empty`).hidden = ids.length > 0;
    setCount(section, ids.length);
    if (section === 'closed') E.closedMeta.textContent = t('closedMeta', { n: ids.length });
    if (section === 'queue') {
      const parts = [t('queueCount', { n: ids.length })];
      if (S.agentsOnline != null) parts.push(t(S.agentsOnline === 1 ? 'agentOnline' : 'agentsOnline', { n: S.agentsOnline }));
      E.queueMeta.textContent = parts.join(' · ');
    }
    if (focusedId) S.cursor[section] = focusedId;
    syncCursor(section, { focus: hadFocus });
    tick();
  }
  function setCount(section, n) {
    const el = $(`count-${section}`);
    if (!el) return; // Closed has no count: it only grows
    el.textContent = String(n);
    el.hidden = !n;
    if (section === 'mine') el.classList.toggle('has-unread', [...S.unread.keys()].some((id) => S.lists.mine.includes(id)));
  }

  function renderItem(it, section) {
    const li = mk('li', 'item');
    li.dataset.id = it.id;
    li.dataset.state = it.state || '';
    li.tabIndex = -1;
    const vip = !!(it.customer && it.customer.vip);
    if (vip) li.classList.add('is-vip');
    if (S.open && S.open.id === it.id) { li.classList.add('is-open'); li.setAttribute('aria-current', 'true'); }

    const top = mk('div', 'item-top');
    top.append(mk('span', 'item-name', itemName(it)));
    if (vip) top.append(mk('span', 'badge badge--vip', 'VIP'));
    if (Number(it.priority) > 0) top.append(mk('span', 'badge badge--prio', t('priority')));
    const unread = S.unread.get(it.id) || 0;
    if (unread) {
      const u = mk('span', 'unread', String(unread));
      u.title = t('unreadTitle', { n: unread });
      top.append(u);
    }
    const side = mk('span', 'item-side');
    if (it.state === 'queued' && S.waitSince.has(it.id)) {
      const w = mk('span', 'wait');
      w.dataset.since = String(S.waitSince.get(it.id));
      w.title = t('waiting');
      side.append(w);
    } else if (section !== 'queue') {
      side.append(mk('span', 'item-time', fmtTime((section === 'closed' && it.closed_at) || it.updated_at)));
    }
    top.append(side);
    li.append(top);

    const meta = mk('div', 'item-meta');
    if (section === 'active' || (section === 'mine' && it.state !== 'assigned')) {
      meta.append(mk('span', `state-dot state-dot--${it.state}`, label('state', it.state)));
    }
    if ((section === 'active' || (section === 'closed' && seesAll())) && it.assignee) meta.append(mk('span', 'item-assignee', it.assignee.name || ''));
    if (it.handoff_reason) meta.append(mk('span', 'item-reason', label('reason', it.handoff_reason)));
    if (it.category) meta.append(mk('span', 'item-category', category(it.category)));
    if (it.locale) meta.append(mk('span', 'item-locale', label('locale', it.locale)));
    if (meta.children.length) li.append(meta);

    if (it.preview) li.append(mk('div', 'item-preview', it.preview));

    if (section === 'queue' && canClaim(it)) {
      const b = btn('btn btn--small btn--primary claim', t('claim'));
      b.tabIndex = -1; // the row is the tab stop; "c" claims from the keyboard
      b.title = t('claimTitle');
      b.addEventListener('click', (e) => { e.stopPropagation(); claim(it.id, b); });
      li.append(b);
    }
    li.addEventListener('click', (e) => {
      if (e.target.closest('button')) return;
      S.cursor[section] = it.id;
      openConversation(it.id);
    });
    return li;
  }

  // Re-renders one conversation's rows wherever they appear (unread badge, preview, state).
  function refreshItem(id) {
    const it = S.items.get(id);
    if (!it) return;
    for (const section of ['queue', 'mine', 'active', 'closed']) {
      const old = listOf(section).querySelector(`li[data-id="${CSS.escape(id)}"]`);
      if (!old) continue;
      const li = renderItem(it, section);
      li.tabIndex = old.tabIndex;
      const focused = document.activeElement === old;
      old.replaceWith(li);
      if (focused) li.focus();
    }
    setCount('mine', S.lists.mine.length);
    tick();
  }

  function markOpenRows() {
    document.querySelectorAll('.list > li.is-open').forEach((li) => { li.classList.remove('is-open'); li.removeAttribute('aria-current'); });
    if (!S.open) return;
    document.querySelectorAll(`.list > li[data-id="${CSS.escape(S.open.id)}"]`).forEach((li) => {
      li.classList.add('is-open');
      li.setAttribute('aria-current', 'true');
    });
  }

  function updateTitle() {
    let n = S.hiddenUnread;
    for (const v of S.unread.values()) n += v;
    document.title = `${n ? `(${n}) ` : ''}${t('product')} · Steward`;
  }

  // Waiting times tick every second without re-rendering.
  function tick() {
    const now = Date.now();
    document.querySelectorAll('[data-since]').forEach((el) => {
      const ms = now - Number(el.dataset.since);
      el.textContent = fmtDuration(ms);
      el.classList.toggle('is-long', ms >= 120000 && ms < 300000);
      el.classList.toggle('is-very-long', ms >= 300000);
    });
  }

  // ---------- claim / assign / close ----------
  async function claim(id, button) {
    const it = S.items.get(id);
    if (!canClaim(it) && !(S.open && S.open.id === id && canClaim(S.open.item))) return;
    if (button) button.disabled = true;
    S.claiming.add(id); // its stream frame may come before the answer: no "new conversation" toast
    const wasOpen = !!S.open && S.open.id === id;
    try {
      const d = await api('POST', `${DESK}/conversations/${enc(id)}/claim`);
      if (d.conversation) onConversation(d.conversation, { quiet: true });
      if (hasMine()) { S.cursor.mine = id; showSection('mine'); }
      if (wasOpen && S.open && S.open.id === id) {
        // Drawn before the claim, its masked messages have no "show
        // original" button: draw the transcript again now that it is ours.
        S.open.known.clear();
        S.open.notes.clear();
        E.transcript.replaceChildren();
        await openConversation(id, { refresh: true });
      } else {
        await openConversation(id);
      }
      if (!E.input.disabled) E.input.focus();
    } catch (e) {
      toastError(e);
      if (e.status === 409 || e.status === 404 || e.status === 403) {
        loadQueue();
        // Taken by someone else: read it again (an agent may no longer see it at all).
        if (S.open && S.open.id === id) openConversation(id, { refresh: true });
      }
    } finally {
      // The header's button serves the next conversation too; a row's is redrawn.
      if (button) button.disabled = false;
      S.claiming.delete(id);
    }
  }

  async function assign() {
    const agentId = E.assignSelect.value;
    if (!S.open || !agentId) return;
    const id = S.open.id;
    E.assignBtn.disabled = true;
    try {
      const d = await api('POST', `${DESK}/conversations/${enc(id)}/assign`, { agent_id: agentId });
      if (d.conversation) onConversation(d.conversation, { quiet: true });
      const a = S.agents.find((x) => x.id === agentId);
      toast(t('assignedTo', { name: (a && a.name) || agentId }));
      loadAgents();
    } catch (e) {
      toastError(e);
    } finally {
      renderHeader();
    }
  }

  async function closeConversation() {
    if (!S.open) return;
    const id = S.open.id;
    // Only a conversation a person served asks for a rating: a supervisor
    // closing a queued one must not ask the customer to rate a service
    // nobody gave. Closing cannot be undone, so it is confirmed first.
    const it = S.items.get(id) || S.open;
    const rate = it.state === 'assigned';
    if (!window.confirm(t(rate ? 'closeConfirm' : 'closeConfirmQueued'))) return;
    E.closeBtn.disabled = true;
    try {
      const d = await api('POST', `${DESK}/conversations/${enc(id)}/close`, { ask_rating: rate });
      if (d.conversation) onConversation(d.conversation, { quiet: true });
      toast(t(rate ? 'closedToast' : 'closedToastNoRating'));
      later('presence', loadPresence, 300);
    } catch (e) {
      toastError(e);
      if (e.status === 409) openConversation(id, { refresh: true });
    } finally {
      E.closeBtn.disabled = false;
    }
  }

  // ---------- stream events ----------
  function onConversation(it, { quiet = false } = {}) {
    if (!it || !it.id) return;
    const prev = S.items.get(it.id);
    // A REST answer (claim, assign, close) that arrives after a newer stream frame is not taken.
    if (stale(it, prev)) return;
    const wasMine = S.lists.mine.includes(it.id);
    S.items.set(it.id, it);
    setWait(it);
    const mineNow = it.state === 'assigned' && isMine(it);

    if (hasMine()) {
      if (mineNow && !wasMine) {
        S.lists.mine.push(it.id);
        if (!quiet && !S.claiming.has(it.id) && !(S.open && S.open.id === it.id)) {
          toast(t('newAssigned', { name: itemName(it) }));
          S.unread.set(it.id, Math.max(1, S.unread.get(it.id) || 0));
        }
      } else if (!mineNow && wasMine) {
        S.lists.mine = S.lists.mine.filter((x) => x !== it.id);
        S.unread.delete(it.id);
        if (!quiet && it.state === 'assigned' && it.assignee) toast(t('reassignedAway', { name: itemName(it), agent: it.assignee.name || '' }));
      }
    }
    if (it.state !== 'queued') S.lists.queue = S.lists.queue.filter((x) => x !== it.id);
    if (seesAll()) {
      const live = it.state === 'queued' || it.state === 'assigned';
      const has = S.lists.active.includes(it.id);
      if (live && !has) S.lists.active.push(it.id);
      if (!live && has) S.lists.active = S.lists.active.filter((x) => x !== it.id);
    }
    // A conversation that just closed goes to the top of Closed, once that tab has loaded.
    if (S.closedLoaded && it.state === 'closed' && listedAsClosed(it) && !S.lists.closed.includes(it.id)) {
      S.lists.closed.unshift(it.id);
      renderList('closed');
    }
    renderList('queue');
    if (hasMine()) renderList('mine');
    if (seesAll()) renderList('active');
    updateTitle();

    if (S.open && S.open.id === it.id) {
      const couldAct = canAct(S.open.item);
      S.open.item = it;
      renderHeader();
      updateComposer();
      if (!couldAct && canAct(it) && S.open.loaded && !quiet) {
        // Given to this agent while open (the router, a supervisor's Assign): drawn before,
        // its masked messages have no "show original" button. Drawn again, as after a claim.
        const id = it.id;
        S.open.known.clear();
        S.open.notes.clear();
        S.open.maxSeq = 0;
        E.transcript.replaceChildren();
        openConversation(id, { refresh: true });
      }
    }
    if (mineNow !== (prev ? prev.state === 'assigned' && isMine(prev) : false)) later('presence', loadPresence, 300);
    if (S.section === 'team' || isSupervisor()) later('agents', loadAgents, 1000);
  }

  function onMessage(cid, m) {
    if (!cid || !m) return;
    const it = S.items.get(cid);
    if (it && m.role !== 'system') {
      it.preview = m.text;
      if (typeof m.seq === 'number') it.last_seq = Math.max(it.last_seq || 0, m.seq);
      if (m.created_at) it.updated_at = m.created_at;
    }
    // The bot thanks the customer for each message left: a new ticket. The Messages tab's
    // count catches up, and an open transcript shows the ticket where it was left.
    if (m.outcome === 'ticket') {
      later('tickets', loadTickets, 300);
      if (S.open && S.open.id === cid) rereadOpen('open-tickets', cid, 300);
    }
    if (S.open && S.open.id === cid) {
      // A conversation with the bot sends its turns to the desk only once it involves people:
      // opened while with the bot, the transcript would jump from before the customer's last
      // questions to the handoff. A gap in the numbering reads the transcript again.
      const gap = S.open.loaded && typeof m.seq === 'number' && m.seq > (S.open.maxSeq || 0) + 1;
      addMsg(m, { live: true });
      if (gap) rereadOpen('open-gap', cid, 200);
      if (m.role === 'customer') {
        later('suggestions', refreshSuggestions, 400);
        if (document.hidden) S.hiddenUnread++;
      }
    } else if (m.role === 'customer' && (S.lists.mine.includes(cid) || isMine(it))) {
      S.unread.set(cid, (S.unread.get(cid) || 0) + 1); // unread counts only on my own conversations
    }
    refreshItem(cid);
    updateTitle();
  }

  // rereadOpen reads conversation id again after delay ms (once for a burst, by key), if it is
  // still the one open.
  function rereadOpen(key, id, delay) {
    later(key, () => { if (S.open && S.open.id === id) openConversation(id, { refresh: true }); }, delay);
  }

  function onNote(cid, n) {
    if (S.open && S.open.id === cid && n) addNote(n, { live: true });
  }

  // ---------- the open conversation ----------
  function convFromHash() {
    const m = /^#c=(.+)$/.exec(location.hash);
    if (!m) return null;
    try { return decodeURIComponent(m[1]); } catch { return null; }
  }

  async function openConversation(id, { refresh = false } = {}) {
    const same = S.open && S.open.id === id;
    if (!same) {
      saveDraft();
      S.open = { id, item: S.items.get(id) || null, known: new Set(), notes: new Set(), loaded: false };
      E.transcript.replaceChildren();
      E.transcriptLoading.hidden = false;
      E.convEmpty.hidden = true;
      E.convView.hidden = false;
      E.panelEmpty.hidden = true;
      clearReplyError();
      E.input.value = S.drafts.get(id) || '';
      renderHeader();
      renderSummary(null);
      renderSuggestions(null);
      updateComposer();
      if (convFromHash() !== id) history.replaceState(history.state, '', `#c=${enc(id)}`);
    } else if (!refresh && S.open.loaded) {
      return; // a click on the open row; one whose load failed is tried again
    }
    S.unread.delete(id);
    S.hiddenUnread = 0;
    refreshItem(id);
    markOpenRows();
    updateTitle();
    const gen = ++S.openGen;
    let d;
    try {
      d = await api('GET', `${DESK}/conversations/${enc(id)}?lang=${enc(LANG)}`);
    } catch (e) {
      if (gen !== S.openGen) return;
      E.transcriptLoading.hidden = true;
      if (e.status === 404 || e.status === 403) {
        toast(e.status === 404 ? t('convNotFound') : t('convForbidden'), 'error');
        // Even the open one: taken away (while the stream was down), it must not stay writable.
        closeView();
      } else if (e.status !== 401) {
        toastError(e);
      }
      return;
    }
    if (gen !== S.openGen || !S.open || S.open.id !== id) return;
    E.transcriptLoading.hidden = true;
    const near = isNearBottom();
    // The stream may have moved it on while this answer was on its way (closed it): the older
    // state is not put back.
    if (d.conversation && !stale(d.conversation, S.items.get(id))) {
      S.open.item = d.conversation; S.items.set(id, d.conversation); setWait(d.conversation);
    } else if (S.items.get(id)) {
      S.open.item = S.items.get(id);
    }
    (d.messages || []).forEach((m) => addMsg(m));
    (d.notes || []).forEach((n) => addNote(n));
    (d.tickets || []).forEach((tk, k) => addTicket(tk, k));
    showRating(d.rating);
    S.open.loaded = true;
    if (S.open.leftQueue) {
      S.open.leftQueue = false;
      const it = S.open.item;
      if (it && it.state === 'queued' && !S.lists.queue.includes(id)) {
        openConversation(id, { refresh: true });
      }
    }
    renderHeader();
    renderSummary(d.summary);
    renderSuggestions(d.suggestions);
    loadCanned(S.open.item && S.open.item.locale);
    updateComposer();
    if (!same || near) scrollToBottom();
    if (seesAll() && isSupervisor() && Date.now() - S.agentsAt > 30000) loadAgents();
  }

  function closeView() {
    S.open = null;
    S.openGen++;
    E.convView.hidden = true;
    E.convEmpty.hidden = false;
    E.panelEmpty.hidden = false;
    ['summary', 'suggestions', 'canned'].forEach((s) => { $(s).hidden = true; });
    history.replaceState(history.state, '', location.pathname + location.search);
    markOpenRows();
  }

  function saveDraft() {
    if (!S.open) return;
    const v = E.input.value;
    if (v.trim()) S.drafts.set(S.open.id, v); else S.drafts.delete(S.open.id);
    storeDrafts();
  }
  // Drafts outlive the page in this tab (sessionStorage, by user): a session that ends sends the page to the
  // sign-in page, which brings the agent back here, to the reply they were typing.
  const draftsKey = () => `steward.console.drafts.${S.me && S.me.id}`;
  function storeDrafts() {
    if (!S.me || !S.me.id) return;
    try {
      if (S.drafts.size) sessionStorage.setItem(draftsKey(), JSON.stringify(Object.fromEntries(S.drafts)));
      else sessionStorage.removeItem(draftsKey());
    } catch { /* storage blocked or full: drafts stay in memory */ }
  }
  function loadDrafts() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(draftsKey()) || '{}');
      for (const [id, text] of Object.entries(saved)) {
        if (typeof text === 'string' && text.trim() && !S.drafts.has(id)) S.drafts.set(id, text);
      }
    } catch { /* nothing kept */ }
  }

  function renderHeader() {
    if (!S.open) return;
    const it = S.open.item;
    E.convTitle.textContent = it ? itemName(it) : '…';
    E.convVip.hidden = !(it && it.customer && it.customer.vip);
    E.convState.textContent = it ? label('state', it.state) : '';
    E.convState.dataset.state = (it && it.state) || '';

    const parts = [];
    if (it) {
      if (it.assignee && it.assignee.name) parts.push(t('handledBy', { name: it.assignee.name }));
      if (it.category) parts.push(`${t('category')}: ${category(it.category)}`);
      if (it.locale) parts.push(label('locale', it.locale));
      if (it.handoff_reason) parts.push(label('reason', it.handoff_reason));
    }
    const meta = [];
    parts.forEach((p, i) => { if (i) meta.push(mk('span', 'sep', '·')); meta.push(mk('span', '', p)); });
    if (it && it.state === 'queued' && S.waitSince.has(it.id)) {
      if (meta.length) meta.push(mk('span', 'sep', '·'));
      meta.push(mk('span', '', `${t('waiting')} `));
      const w = mk('span', 'wait');
      w.dataset.since = String(S.waitSince.get(it.id));
      meta.push(w);
    }
    E.convMeta.replaceChildren(...meta);

    const claimable = canClaim(it);
    E.claimBtn.hidden = !claimable;
    const takeOver = !!it && it.state === 'assigned';
    E.claimBtn.textContent = takeOver ? t('takeOver') : t('claim');
    E.claimBtn.classList.toggle('btn--primary', !takeOver); // claiming from the queue is the usual move
    E.closeBtn.hidden = !(it && canAct(it) && it.state !== 'closed' && it.state !== 'bot');

    const assignable = isSupervisor() && it && (it.state === 'queued' || it.state === 'assigned');
    E.assignBox.hidden = !assignable;
    if (assignable) fillAssignSelect(it);
    tick();
  }

  // fillAssignSelect lists the agents a supervisor may assign it to. Presence and load change every
  // few seconds: with the same agents in the same order only the labels change, and a list that
  // must be rebuilt waits while the supervisor has it open (rebuilt, it closed under their pointer).
  function fillAssignSelect(it) {
    const keep = E.assignSelect.value;
    const order = { online: 0, away: 1, offline: 2 };
    const agents = S.agents.filter((a) => a.role !== 'auditor' && !(it.assignee && it.assignee.id === a.id))
      .sort((a, b) => (order[a.status] ?? 3) - (order[b.status] ?? 3) || String(a.name).localeCompare(String(b.name), LANG));
    const text = (a) => `${a.name || a.email} · ${label('status', a.status)} · ${a.load ?? 0}/${a.max_chats ?? '–'}`;
    const have = [...E.assignSelect.options];
    if (have.length === agents.length + 1 && have[0].value === '' && agents.every((a, i) => have[i + 1].value === a.id)) {
      agents.forEach((a, i) => { if (have[i + 1].text !== text(a)) have[i + 1].text = text(a); });
      E.assignBtn.disabled = !E.assignSelect.value;
      return;
    }
    if (document.activeElement === E.assignSelect) { S.assignStale = true; return; }
    S.assignStale = false;
    const opts = [new Option(t('assignTo'), '')];
    for (const a of agents) opts.push(new Option(text(a), a.id));
    E.assignSelect.replaceChildren(...opts);
    if (agents.some((a) => a.id === keep)) E.assignSelect.value = keep;
    E.assignBtn.disabled = !E.assignSelect.value;
  }

  // ----- transcript -----
  function msgTs(v) { const d = toDate(v); return d ? d.getTime() : Date.now(); }

  function renderMsg(m) {
    const role = ROLES.includes(m.role) ? m.role : 'system';
    const li = mk('li', `msg msg--${role}`);
    li.dataset.role = role;
    li.dataset.id = m.id;
    if (m.seq != null) li.dataset.seq = String(m.seq);
    li.dataset.ts = String(msgTs(m.created_at));
    if (m.outcome) li.dataset.outcome = m.outcome;

    if (role !== 'system') {
      const head = mk('div', 'msg-head');
      let who;
      if (role === 'customer') who = itemName(S.open && S.open.item);
      else if (role === 'bot') who = t('roleBot');
      else who = (m.author && m.author.name) || t('roleAgent');
      head.append(mk('span', 'msg-who', who));
      if (role === 'bot' && m.outcome) {
        const o = mk('span', `tag tag--${m.outcome}`, label('outcome', m.outcome));
        if (typeof m.confidence === 'number') o.title = `${t('confidence')} ${pct(m.confidence)}`;
        head.append(o);
      }
      if (role === 'bot' && m.entry && m.entry.title) head.append(mk('span', 'msg-entry', m.entry.title));
      if (role === 'bot' && m.intent === 'llm') {
        const g = mk('span', 'tag tag--generated', t('generated'));
        g.title = t('generatedHint');
        head.append(g);
      }
      const time = mk('time', 'msg-time', fmtTime(m.created_at));
      time.title = fullTime(m.created_at);
      head.append(time);
      if (role === 'bot' && FLAGGABLE.includes(m.outcome) && !isAuditor()) head.append(flagButton(m));
      li.append(head);
    }
    const bubble = mk('div', 'bubble', m.text || '');
    if (Array.isArray(m.pii) && m.pii.length && canAct(S.open && S.open.item)) {
      const head = li.querySelector('.msg-head') || li;
      head.append(revealMessageButton(m, bubble));
    }
    if (role === 'system') bubble.title = fullTime(m.created_at);
    li.append(bubble);
    if (Array.isArray(m.choices) && m.choices.length) {
      const box = mk('div', 'msg-choices');
      box.append(mk('span', 'msg-choices-label', t('choicesOffered')));
      for (const c of m.choices) box.append(mk('span', 'chip', c.title || ''));
      li.append(box);
    }
    return li;
  }

  // A bot answer an agent thinks wrong goes to the knowledge base's correction queue.
  function flagButton(m) {
    const b = btn('link-btn msg-flag', t('flagAnswer'));
    b.title = t('flagAnswerTitle');
    b.addEventListener('click', async () => {
      if (!S.open || b.disabled) return;
      b.disabled = true;
      try {
        await api('POST', `${DESK}/conversations/${enc(S.open.id)}/messages/${enc(m.id)}/flag`, {});
        b.textContent = t('flaggedAnswer');
        b.classList.add('is-flagged');
        b.closest('.msg').dataset.flagged = '1';
        toast(t('flaggedToast'));
      } catch (e) {
        b.disabled = false;
        toastError(e);
      }
    });
    return b;
  }

  // Masked personal data (a message, a ticket's contact): whoever handles it may
  // show the original; the server audits every reveal. The button asks for
  // ref of the conversation convId() names and hands the outcome to show:
  // {text} (to be shown as text), or {refused} saying why not (403: not this
  // user's to see; 404: nothing kept). Other failures leave the button to retry.
  function revealButton(cls, label, title, convId, ref, show) {
    const b = btn(cls, label);
    b.title = title;
    b.addEventListener('click', async () => {
      const id = convId();
      if (!id || b.disabled) return;
      b.disabled = true;
      try {
        const d = await api('POST', `${DESK}/conversations/${enc(id)}/reveal`, { ref });
        show({ text: d.text || '' });
      } catch (e) {
        if (e.status === 403 || e.status === 404) {
          show({ refused: e.status === 403 ? t('revealForbidden') : t('revealGone') });
        } else {
          b.disabled = false;
          toastError(e);
          return;
        }
      }
      b.remove();
    });
    return b;
  }
  function revealMessageButton(m, bubble) {
    const convId = S.open && S.open.id;
    return revealButton('link-btn msg-reveal', t('revealPII'), t('revealPIITitle'),
      () => S.open && S.open.id === convId && convId, m.id, (r) => {
        if (r.refused) { toast(r.refused, 'error'); return; }
        bubble.textContent = r.text;
        bubble.classList.add('is-revealed');
      });
  }

  // noteBlock is a full-width block in the transcript that is not a chat message: a head (a
  // flag, who, any chips, the time) over a text.
  function noteBlock(cls, ts, flag, who, chips, createdAt, text) {
    const li = mk('li', cls);
    li.dataset.ts = String(ts);
    const head = mk('div', 'note-head');
    head.append(mk('span', 'note-flag', flag), mk('span', 'msg-who', who), ...chips);
    const time = mk('time', 'msg-time', fmtTime(createdAt));
    time.title = fullTime(createdAt);
    head.append(time);
    li.append(head, mk('div', 'note-text', text || ''));
    return li;
  }

  function renderNote(n) {
    const li = noteBlock('note', msgTs(n.created_at), t('noteFlag'), (n.author && n.author.name) || '', [],
      n.created_at, n.text);
    li.dataset.noteId = n.id;
    return li;
  }

  // The customer's rating, at its time in the transcript: the stars, the tags in the page's
  // language, the comment (masked as every customer text is).
  async function showRating(r) {
    E.transcript.querySelectorAll(':scope > li.note--rating').forEach((li) => li.remove());
    if (!S.open || !r || !r.score) return;
    const id = S.open.id;
    // A failed request shows the tags' ids this time and is asked again next time: cached
    // empty, every rating showed ids until the page was reloaded.
    let tags = S.ratingTags;
    if (!tags) {
      try {
        const d = await api('GET', '/api/v1/rating-tags');
        tags = S.ratingTags = new Map((d.tags || []).map((x) => [x.id, (x.label && (x.label[LANG] || x.label.en)) || x.id]));
      } catch { tags = new Map(); }
    }
    if (!S.open || S.open.id !== id || E.transcript.querySelector(':scope > li.note--rating')) return;
    const n = Math.max(1, Math.min(5, Number(r.score) || 0));
    const chips = (r.tags || []).map((x) => mk('span', 'tag', tags.get(x) || x));
    const li = noteBlock('note note--rating', msgTs(r.created_at), t('ratingFlag'),
      `${'★'.repeat(n)}${'☆'.repeat(5 - n)}`, chips, r.created_at, r.comment || '');
    li.setAttribute('aria-label', t('ratingStars', { n }));
    insertOrdered(li);
  }

  // An offline message the customer left, where they left it: the form said the agent who
  // takes the conversation will see it (it was only in the Messages tab).
  function renderTicket(tk) {
    const status = mk('span', 'tag', t(tk.status === 'resolved' ? 'ticketsResolved' : 'ticketsOpen'));
    const li = noteBlock('note note--ticket', msgTs(tk.created_at), t('ticketInTranscript'),
      t('ticketContact', { contact: tk.contact || '' }), [status], tk.created_at, tk.message);
    li.dataset.ticketId = tk.id;
    return li;
  }
  // addTicket places the k-th ticket (oldest first) just before the k-th thank-you the bot
  // wrote for one: each is written right after its ticket, and times alone cannot order them
  // (a request, a ticket and its thanks often share a millisecond).
  function addTicket(tk, k) {
    if (!S.open || !tk || !tk.id) return;
    const shown = E.transcript.querySelector(`li[data-ticket-id="${CSS.escape(tk.id)}"]`);
    // Shown already: drawn again, as it may have been resolved since (it said 待处理 for good).
    if (shown) { shown.replaceWith(renderTicket(tk)); return; }
    const li = renderTicket(tk);
    const thanks = E.transcript.querySelectorAll(':scope > li.msg[data-outcome="ticket"]')[k];
    if (thanks) E.transcript.insertBefore(li, thanks);
    else insertOrdered(li);
  }


  // Messages are ordered by seq, notes by time; an element goes before the first one that is later.
  function insertOrdered(li) {
    const seq = li.dataset.seq != null ? Number(li.dataset.seq) : null;
    const ts = Number(li.dataset.ts);
    for (const c of E.transcript.children) {
      const later = (seq != null && c.dataset.seq != null) ? Number(c.dataset.seq) > seq : Number(c.dataset.ts) > ts;
      if (later) { E.transcript.insertBefore(li, c); return; }
    }
    E.transcript.append(li);
  }

  function addMsg(m, { live = false } = {}) {
    if (!S.open || !m || !m.id || S.open.known.has(m.id)) return; // dedupe: REST and stream overlap
    S.open.known.add(m.id);
    if (typeof m.seq === 'number') S.open.maxSeq = Math.max(S.open.maxSeq || 0, m.seq);
    const near = isNearBottom();
    insertOrdered(renderMsg(m));
    if (live && (near || m.role === 'agent')) scrollToBottom();
  }
  function addNote(n, { live = false } = {}) {
    if (!S.open || !n || !n.id || S.open.notes.has(n.id)) return;
    S.open.notes.add(n.id);
    const near = isNearBottom();
    insertOrdered(renderNote(n));
    if (live && near) scrollToBottom();
  }

  function isNearBottom() {
    const s = E.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 120;
  }
  function scrollToBottom() { requestAnimationFrame(() => { E.scroller.scrollTop = E.scroller.scrollHeight; }); }

  // ----- side panel -----
  function renderSummary(sm) {
    E.summary.hidden = !S.open;
    sm = sm || {};
    const loaded = S.open && S.open.loaded;
    E.summaryText.textContent = sm.text || (loaded ? t('noSummary') : t('loading'));
    E.summaryText.classList.toggle('is-empty', !sm.text);
    const reason = sm.handoff_reason || (S.open && S.open.item && S.open.item.handoff_reason);
    E.summaryReason.textContent = reason ? label('reason', reason) : '—';

    // Emotion: 0 calm … 1 furious. The server's tags (calm/upset/angry) decide the level when given.
    const em = sm.emotion || {};
    let score = Number(em.score);
    const hasScore = em.score != null && Number.isFinite(score);
    score = hasScore ? Math.max(0, Math.min(1, score)) : 0;
    const tags = (em.tags || []).map(String);
    const level = !hasScore ? '' : tags.includes('angry') ? 'high' : tags.includes('upset') ? 'mid' :
      tags.includes('calm') ? 'low' : score >= 0.8 ? 'high' : score >= 0.4 ? 'mid' : 'low';
    E.emotion.dataset.level = level;
    E.emotionFill.style.width = `${Math.round(score * 100)}%`;
    E.emotionBar.setAttribute('aria-valuenow', String(Math.round(score * 100)));
    E.emotionBar.setAttribute('aria-valuetext', hasScore ? `${pct(score)} ${label('emotion', level)}` : '—');
    E.emotionValue.textContent = hasScore ? `${pct(score)} · ${label('emotion', level)}` : '—';
    E.emotionTags.replaceChildren(...tags.filter((x) => x !== 'calm' && x !== 'upset' && x !== 'angry')
      .map((x) => mk('span', 'chip', tagLabel(x))));

    fillBlock('questions', (sm.questions || []).map((q) => mk('li', '', String(q))));
    fillBlock('intents', (sm.intents || []).map((x) => {
      const li = mk('li', 'row');
      li.append(mk('span', 'row-main', x.title || x.intent || ''));
      if (x.category) li.append(mk('span', 'chip', category(x.category)));
      if (typeof x.confidence === 'number') li.append(mk('span', 'conf', pct(x.confidence)));
      return li;
    }));
    fillBlock('attempts', (sm.bot_attempts || []).map((x) => {
      const li = mk('li', 'attempt');
      const top = mk('div', 'row');
      top.append(mk('span', `tag tag--${x.outcome || ''}`, label('outcome', x.outcome || '')));
      top.append(mk('span', 'row-main', x.title || ''));
      if (typeof x.confidence === 'number') top.append(mk('span', 'conf', pct(x.confidence)));
      li.append(top);
      if (x.text) { const p = mk('div', 'attempt-text', x.text); p.title = x.text; li.append(p); }
      return li;
    }));
    const moods = ['calm', 'upset', 'angry']; // shown with the emotion bar already
    const summaryTags = (sm.tags || []).map(String).filter((x) => !moods.includes(x));
    E.summaryTags.replaceChildren(...summaryTags.map((x) => {
      const chip = mk('span', `chip chip--${x}`, tagLabel(x));
      if (x === 'angry' || x === 'upset' || x === 'bot_failed') chip.classList.add('chip--warn');
      return chip;
    }));
    E.summaryTags.hidden = !summaryTags.length;
    E.summaryDetails.hidden = !(sm.questions || []).length && !(sm.intents || []).length && !(sm.bot_attempts || []).length;
  }
  function fillBlock(name, rows) {
    $(`summary-${name}`).replaceChildren(...rows);
    $(`summary-${name}-box`).hidden = !rows.length;
  }

  function renderSuggestions(list) {
    E.suggestions.hidden = !S.open;
    const items = list || [];
    E.suggestionList.replaceChildren(...items.map((s) => {
      const li = mk('li');
      const b = btn('pick suggestion');
      if (s.entry_id) b.dataset.entryId = s.entry_id;
      const top = mk('span', 'pick-top');
      top.append(mk('span', 'pick-title', s.title || ''));
      if (typeof s.confidence === 'number') top.append(mk('span', 'conf', pct(s.confidence)));
      b.append(top, mk('span', 'pick-text', s.answer || ''));
      b.title = t('insertTitle');
      b.addEventListener('click', () => insertText(s.answer || ''));
      li.append(b);
      return li;
    }));
    E.suggestionsEmpty.hidden = items.length > 0 || list == null;
  }

  async function refreshSuggestions() {
    if (!S.open) return;
    const id = S.open.id;
    try {
      const d = await api('GET', `${DESK}/conversations/${enc(id)}/suggestions`);
      if (S.open && S.open.id === id) renderSuggestions(d.suggestions || []);
    } catch { /* keep the old ones */ }
  }

  async function loadCanned(locale) {
    const key = locale || '';
    E.canned.hidden = !S.open;
    const c = S.canned.get(key);
    if (c && Date.now() - c.at < 5 * 60000) { renderCanned(); return; }
    try {
      const d = await api('GET', `${DESK}/canned?locale=${enc(key)}`);
      S.canned.set(key, { at: Date.now(), list: d.canned || [] });
    } catch (e) {
      if (e.status !== 401) toastError(e);
    }
    renderCanned();
  }
  function renderCanned() {
    const key = (S.open && S.open.item && S.open.item.locale) || '';
    const all = (S.canned.get(key) || { list: [] }).list;
    const q = E.cannedFilter.value.trim().toLowerCase();
    const shown = q ? all.filter((c) => `${c.title} ${c.text}`.toLowerCase().includes(q)) : all;
    E.cannedList.replaceChildren(...shown.map((c) => {
      const li = mk('li');
      const b = btn('pick canned');
      b.dataset.id = c.id;
      b.append(mk('span', 'pick-title', c.title || ''), mk('span', 'pick-text', c.text || ''));
      b.title = t('insertTitle');
      b.addEventListener('click', () => insertText(c.text || ''));
      li.append(b);
      return li;
    }));
    E.cannedEmpty.textContent = q ? t('noCannedMatch') : t('noCanned');
    E.cannedEmpty.hidden = shown.length > 0;
  }

  // One click puts the text into the reply box at the caret (or replaces an empty box).
  function insertText(text) {
    if (!S.open || !text) return;
    if (E.input.disabled) { toast(E.input.placeholder); return; }
    const el = E.input;
    if (!el.value.trim()) {
      el.value = text;
      el.setSelectionRange(text.length, text.length);
    } else {
      el.setRangeText(text, el.selectionStart, el.selectionEnd, 'end');
    }
    el.focus();
    updateComposer();
  }

  // ----- composer -----
  function updateComposer() {
    const it = S.open && S.open.item;
    E.form.hidden = isAuditor();
    const canReply = !!it && canAct(it) && it.state === 'assigned';
    const canNote = !!it && !isAuditor();
    const enabled = S.noteMode ? canNote : canReply;
    E.form.dataset.mode = S.noteMode ? 'note' : 'reply';
    E.noteToggle.setAttribute('aria-pressed', String(S.noteMode));
    E.noteToggle.disabled = !canNote;
    E.input.disabled = !enabled;
    E.input.readOnly = S.sending;
    let ph = t('replyPlaceholder');
    if (S.noteMode) ph = t('notePlaceholder');
    else if (!it) ph = '';
    else if (it.state === 'queued') ph = t('claimToReply');
    else if (it.state === 'closed') ph = t('closedNoReply');
    else if (it.state === 'assigned' && !canAct(it)) ph = t('assignedToOther', { name: (it.assignee && it.assignee.name) || '' });
    else if (!canReply) ph = t('cannotReply');
    E.input.placeholder = ph;
    E.input.setAttribute('aria-label', S.noteMode ? t('noteLabel') : t('replyLabel'));
    const n = charCount(E.input.value.trim());
    E.send.disabled = !enabled || S.sending || n === 0 || n > MAX_CHARS;
    E.send.textContent = S.noteMode ? t('addNote') : t('send');
    E.counter.hidden = n < COUNTER_FROM;
    E.counter.textContent = `${n} / ${MAX_CHARS}`;
    E.counter.classList.toggle('is-over', n > MAX_CHARS);
  }

  function setNoteMode(on) {
    S.noteMode = on;
    updateComposer();
  }

  function clearReplyError() { E.replyError.hidden = true; E.replyError.textContent = ''; }

  async function submitReply() {
    if (!S.open || S.sending || E.send.disabled) return;
    const text = E.input.value.trim();
    const n = charCount(text);
    if (!n || n > MAX_CHARS) return;
    const id = S.open.id;
    const note = S.noteMode;
    S.sending = true;
    clearReplyError();
    updateComposer();
    try {
      const d = await api('POST', `${DESK}/conversations/${enc(id)}/${note ? 'notes' : 'messages'}`, { text });
      S.drafts.delete(id);
      storeDrafts();
      if (S.open && S.open.id === id) {
        E.input.value = '';
        if (note) addNote(d.note, { live: true }); else addMsg(d.message, { live: true });
        scrollToBottom();
      }
    } catch (e) {
      if (S.open && S.open.id === id) {
        E.replyError.textContent = e.message || t('requestFailed');
        E.replyError.hidden = false;
      }
      if (e.status === 409 || e.status === 403) openConversation(id, { refresh: true });
    } finally {
      S.sending = false;
      updateComposer();
    }
  }

  // ---------- presence ----------
  // The newest read wins: the boot's read may answer after the one the stream's "ready" asks
  // for, and say "offline" from before the stream's first beat put the agent back online.
  let presenceReads = 0;
  async function loadPresence() {
    if (isAuditor()) return;
    const n = ++presenceReads;
    try {
      const p = await api('GET', `${DESK}/presence`);
      if (n === presenceReads) renderPresence(p);
    } catch (e) { if (e.status !== 401) toastError(e); }
  }
  function renderPresence(p) {
    if (!p || !p.status) return;
    E.presence.hidden = false;
    E.presence.dataset.status = p.status;
    E.presenceSelect.value = p.status;
    E.presenceSelect.dataset.current = p.status;
    E.load.textContent = `${p.load ?? 0}/${p.max_chats ?? '–'}`;
  }
  async function setPresence(status) {
    const prev = E.presenceSelect.dataset.current;
    E.presence.dataset.status = status;
    const n = ++presenceReads; // a read already on its way answers from before the change
    try {
      const p = await api('PUT', `${DESK}/presence`, { status });
      if (n === presenceReads) renderPresence(p);
    } catch (e) {
      toastError(e);
      E.presenceSelect.value = prev || 'offline';
      E.presence.dataset.status = prev || '';
    }
  }

  // ---------- team ----------
  async function loadAgents() {
    if (!seesAll()) return;
    try {
      const d = await api('GET', `${DESK}/agents`);
      S.agents = d.agents || [];
      S.agentsAt = Date.now();
      renderTeam();
      if (S.open) renderHeader();
    } catch (e) { if (e.status !== 401 && S.section === 'team') toastError(e); }
  }
  // The last seven days' quality report, above the team: loaded when the tab is shown.
  async function loadReport() {
    if (!seesAll()) return;
    try {
      const d = await api('GET', '/api/v1/reports/quality?days=7');
      const r = d.totals || {};
      $('report-resolved').textContent = pct(r.resolution_rate);
      $('report-transferred').textContent = pct(r.transfer_rate);
      $('report-answered').textContent = pct(r.answer_rate);
      $('report-ratings').textContent = r.ratings
        ? t('reportRatingsValue', { n: r.ratings, mean: Number(r.mean_stars || 0).toFixed(1) }) : t('reportNoRatings');
      $('report-meta').textContent = t('reportMeta', { engaged: r.engaged || 0, total: r.conversations || 0, zone: d.timezone || 'UTC' });
      $('team-report').hidden = false;
    } catch (e) { if (e.status !== 401 && S.section === 'team') toastError(e); }
  }
  function renderTeam() {
    const order = { online: 0, away: 1, offline: 2 };
    const agents = [...S.agents].sort((a, b) => (order[a.status] ?? 3) - (order[b.status] ?? 3) ||
      String(a.name).localeCompare(String(b.name), LANG));
    const hadFocus = E.teamList.contains(document.activeElement);
    E.teamList.replaceChildren(...agents.map((a) => {
      const li = mk('li', 'agent');
      li.dataset.id = a.id;
      li.dataset.status = a.status || '';
      li.tabIndex = -1;
      const top = mk('div', 'item-top');
      top.append(mk('span', `status-dot status-dot--${a.status}`, ''), mk('span', 'item-name', a.name || a.email || ''));
      if (a.role && a.role !== 'agent') top.append(mk('span', 'role-badge', label('role', a.role)));
      const side = mk('span', 'item-side', label('status', a.status));
      top.append(side);
      li.append(top);
      const load = Number(a.load) || 0, max = Number(a.max_chats) || 0;
      const row = mk('div', 'load-row');
      const bar = mk('span', 'load-bar');
      const fill = mk('span', 'load-fill');
      fill.style.width = `${max ? Math.min(100, Math.round((load / max) * 100)) : 0}%`;
      if (max && load >= max) bar.classList.add('is-full');
      bar.append(fill);
      row.append(mk('span', 'load-text', t('loadOf', { load, max: max || '–' })), bar);
      li.append(row);
      const facts = [];
      if (a.skills && a.skills.length) facts.push(`${t('skills')}: ${a.skills.join(', ')}`);
      if (a.languages && a.languages.length) facts.push(`${t('languages')}: ${a.languages.map((l) => label('locale', l)).join(', ')}`);
      if (facts.length) li.append(mk('div', 'item-meta', facts.join(' · ')));
      return li;
    }));
    E.teamEmpty.hidden = agents.length > 0;
    const online = agents.filter((a) => a.status === 'online').length;
    E.teamMeta.textContent = t('teamMeta', { online, total: agents.length });
    setCount('team', online);
    syncCursor('team', { focus: hadFocus });
  }

  // ---------- tickets (offline messages) ----------
  async function loadTickets() {
    try {
      const status = S.ticketStatus;
      const d = await api('GET', `${DESK}/tickets?status=${enc(status)}`);
      if (status !== S.ticketStatus) return;
      S.tickets = d.tickets || [];
      S.ticketsTotal = Math.max(Number(d.total) || 0, S.tickets.length);
      renderTickets();
    } catch (e) { if (e.status !== 401 && S.section === 'tickets') toastError(e); }
  }
  function renderTickets() {
    const hadFocus = E.ticketsList.contains(document.activeElement);
    E.ticketsList.replaceChildren(...S.tickets.map((tk) => {
      const li = mk('li', 'ticket');
      li.dataset.id = tk.id;
      li.dataset.status = tk.status || '';
      if (tk.conversation_id) li.dataset.conversationId = tk.conversation_id;
      li.tabIndex = -1;
      const top = mk('div', 'item-top');
      const contact = mk('span', tk.contact ? 'item-name ticket-contact' : 'item-name is-muted', tk.contact || t('noContact'));
      const shown = S.contacts.get(tk.id);
      if (shown && shown.text != null) { contact.textContent = shown.text; contact.classList.add('is-revealed'); }
      top.append(contact);
      if (tk.locale) top.append(mk('span', 'chip', label('locale', tk.locale)));
      const time = mk('time', 'item-side item-time', fmtTime(tk.created_at));
      time.title = fullTime(tk.created_at);
      top.append(time);
      li.append(top);
      if (shown && shown.refused) li.append(mk('p', 'ticket-reveal-error', shown.refused));
      li.append(mk('div', 'ticket-text', tk.message || ''));
      if (tk.status === 'resolved') {
        const time = fmtTime(tk.resolved_at);
        const by = resolverName(tk);
        li.append(mk('div', 'item-meta ticket-resolved', by ? t('resolvedBy', { name: by, time }) : t('resolvedAt', { time })));
      }
      const actions = mk('div', 'ticket-actions');
      // The contact is masked like all personal data; whoever works the tickets may show it.
      if (tk.contact && tk.conversation_id && !shown && !isAuditor()) {
        const b = revealButton('btn btn--small reveal-contact', t('revealContact'), t('revealContactTitle'),
          () => tk.conversation_id, `ticket:${tk.id}:contact`, (r) => {
            S.contacts.set(tk.id, r);
            // The list may have been redrawn while the reveal was on its way (a refresh, the
            // tab's own load): this row is then gone, so redraw from what is now known.
            if (!contact.isConnected) { renderTickets(); return; }
            if (r.text != null) {
              contact.textContent = r.text;
              contact.classList.add('is-revealed');
            } else {
              const p = mk('p', 'ticket-reveal-error', r.refused);
              p.setAttribute('role', 'alert');
              top.after(p);
            }
          });
        b.tabIndex = -1;
        actions.append(b);
      }
      if (tk.conversation_id) {
        const b = btn('btn btn--small view-conv', t('viewConversation'));
        b.tabIndex = -1;
        b.addEventListener('click', () => openConversation(tk.conversation_id));
        actions.append(b);
      }
      if (tk.status !== 'resolved' && !isAuditor()) {
        const b = btn('btn btn--small btn--primary resolve', t('resolve'));
        b.tabIndex = -1;
        b.addEventListener('click', () => resolveTicket(tk.id, b));
        actions.append(b);
      }
      if (actions.children.length) li.append(actions);
      li.addEventListener('click', (e) => {
        if (e.target.closest('button')) return;
        S.cursor.tickets = tk.id;
        syncCursor('tickets');
      });
      return li;
    }));
    E.ticketsEmpty.hidden = S.tickets.length > 0;
    // The open list holds the oldest 500, the resolved list the newest 500: say how many more
    // there are, and count them all.
    const total = Math.max(S.ticketsTotal || 0, S.tickets.length);
    E.ticketsMore.hidden = total <= S.tickets.length;
    const more = S.ticketStatus === 'open' ? 'ticketsMore' : 'ticketsMoreResolved';
    E.ticketsMore.textContent = E.ticketsMore.hidden ? '' : t(more, { total, shown: S.tickets.length });
    if (S.ticketStatus === 'open') setCount('tickets', total);
    syncCursor('tickets', { focus: hadFocus });
  }
  // Who resolved a ticket, by name: the API names them; the team list (for
  // those who may see it) is the fallback. Never the bare user id.
  function resolverName(tk) {
    if (tk.resolver && tk.resolver.name) return tk.resolver.name;
    const id = (tk.resolver && tk.resolver.id) || tk.resolved_by;
    const a = id && S.agents.find((x) => x.id === id);
    return (a && (a.name || a.email)) || '';
  }
  async function resolveTicket(id, button) {
    if (button) button.disabled = true;
    try {
      await api('POST', `${DESK}/tickets/${enc(id)}/resolve`);
      toast(t('ticketResolved'));
      const before = S.tickets.length;
      S.tickets = S.tickets.filter((x) => x.id !== id);
      if (S.tickets.length < before && S.ticketsTotal) S.ticketsTotal--;
      renderTickets();
      if (S.ticketsTotal > S.tickets.length) later('tickets', loadTickets, 300); // the next one waiting
      refreshOpenTickets();
    } catch (e) {
      if (button) button.disabled = false;
      toastError(e);
    }
  }
  // The open conversation's tickets, read again after one was resolved (here or elsewhere): its
  // transcript showed the ticket as open until another conversation was opened.
  function refreshOpenTickets() {
    if (!S.open || !S.open.loaded || !E.transcript.querySelector('li[data-ticket-id]')) return;
    rereadOpen('open-tickets', S.open.id, 300);
  }
  function setTicketStatus(status) {
    S.ticketStatus = status;
    E.ticketsOpen.setAttribute('aria-pressed', String(status === 'open'));
    E.ticketsResolved.setAttribute('aria-pressed', String(status === 'resolved'));
    S.tickets = [];
    S.ticketsTotal = 0;
    renderTickets();
    loadTickets();
  }

  // ---------- live stream ----------
  function connectStream() {
    if (!('WebSocket' in window)) return;
    stopStream();
    const gen = ++S.wsGen;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws;
    try { ws = new WebSocket(`${proto}//${location.host}${DESK}/stream`); } catch { scheduleReconnect(gen); return; }
    S.ws = ws;
    S.wsOpen = false;
    setConn(S.everReady ? 'reconnecting' : 'connecting');
    ws.onopen = () => {
      if (gen !== S.wsGen) return;
      S.wsOpen = true;
      clearInterval(S.pingTimer);
      S.pingTimer = setInterval(() => { if (ws.readyState === WebSocket.OPEN) ws.send('{"type":"ping"}'); }, PING_EVERY);
    };
    ws.onmessage = (ev) => {
      if (gen !== S.wsGen) return;
      let f;
      try { f = JSON.parse(ev.data); } catch { return; }
      onFrame(f);
    };
    ws.onclose = () => {
      if (gen !== S.wsGen) return;
      clearInterval(S.pingTimer);
      S.ws = null;
      if (!S.wsOpen) checkSession(); // refused at once: maybe the session has ended
      scheduleReconnect(gen);
    };
  }
  function onFrame(f) {
    switch (f.type) {
      case 'ready': {
        // Anything may have changed while the stream was down (or before it first came up late).
        const missed = S.everReady || S.wsAttempt > 0;
        S.wsAttempt = 0;
        S.everReady = true;
        setConn(null);
        if (f.user && session.userID && f.user.id && f.user.id !== session.userID) {
          // Another person signed in in another tab: this page is theirs now, loaded afresh. It
          // went on as a mix of both (the first one's tabs, the second one's lists, every write
          // refused), and its beats kept the second one online.
          location.reload();
          return;
        }
        if (f.user) { S.me = { ...S.me, ...f.user }; renderMe(); }
        // The stream's first beat (sent before "ready") may have changed what the presence
        // reads, from "offline" (not heard from) to "online": read it again.
        if (missed) reloadAll(); else loadPresence();
        break;
      }
      case 'queue': setQueue(f.queue || [], f.agents_online); break;
      case 'conversation': onConversation(f.conversation); break;
      case 'message': onMessage(f.conversation_id, f.message); break;
      case 'note': onNote(f.conversation_id, f.note); break;
      case 'tickets': later('tickets', loadTickets, 300); refreshOpenTickets(); break; // resolved in another console
      case 'rating': if (S.open && S.open.id === f.conversation_id && S.open.loaded) showRating(f.rating); break;
      case 'error': if (f.error && f.error.code === 'unauthorized') checkSession(); break;
      default: break; // pong and anything newer
    }
  }
  function scheduleReconnect(gen) {
    clearTimeout(S.wsTimer);
    const delay = Math.min(1000 * 2 ** S.wsAttempt, BACKOFF_MAX) + Math.floor(Math.random() * 400);
    S.wsAttempt++;
    setConn('reconnecting');
    S.wsTimer = setTimeout(() => { if (gen === S.wsGen) connectStream(); }, delay);
  }
  function stopStream() {
    S.wsGen++;
    clearTimeout(S.wsTimer);
    clearInterval(S.pingTimer);
    if (S.ws) { try { S.ws.close(); } catch { /* ignore */ } S.ws = null; }
  }
  function reconnectNow() {
    if (S.me && !S.ws) { S.wsAttempt = 0; connectStream(); }
  }
  function checkSession() {
    if (Date.now() - S.sessionCheckAt < 10000) return;
    S.sessionCheckAt = Date.now();
    api('GET', '/api/v1/auth/me').then((me) => {
      if (me && me.user && session.userID && me.user.id !== session.userID) location.reload(); // someone else signed in
    }).catch(() => { /* a 401 goes to the login page */ });
  }
  function setConn(kind) {
    E.conn.hidden = !kind;
    E.conn.dataset.kind = kind || '';
    E.connText.textContent = kind ? t(`conn_${kind}`) : '';
  }

  // ---------- keyboard ----------
  function onKey(e) {
    if (e.defaultPrevented || e.isComposing || e.keyCode === 229) return;
    const target = e.target;
    // Alt+1…6: sections, in the order shown (e.code: Alt changes e.key on macOS).
    if (e.altKey && !e.ctrlKey && !e.metaKey && /^Digit[1-9]$/.test(e.code)) {
      const tab = visibleTabs()[Number(e.code.slice(5)) - 1];
      if (tab) { e.preventDefault(); showSection(tab.dataset.section, { focus: true }); }
      return;
    }
    if (e.key === 'Escape') {
      if (isTextField(target)) { e.preventDefault(); target.blur(); focusList(); }
      return;
    }
    if (isTextField(target) || e.ctrlKey || e.metaKey || e.altKey) return;

    if (target.getAttribute && target.getAttribute('role') === 'tab' && (e.key === 'ArrowLeft' || e.key === 'ArrowRight')) {
      const tabs = visibleTabs();
      const i = tabs.indexOf(target);
      const next = tabs[(i + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
      e.preventDefault();
      showSection(next.dataset.section);
      next.focus();
      return;
    }
    const row = target.closest && target.closest('.list > li');
    const inList = !!row || target === document.body || (target.getAttribute && target.getAttribute('role') === 'tab');
    switch (e.key) {
      case 'j': case 'ArrowDown':
        if (!inList && e.key === 'ArrowDown') return;
        e.preventDefault(); moveCursor(row ? 1 : 0); break;
      case 'k': case 'ArrowUp':
        if (!inList && e.key === 'ArrowUp') return;
        e.preventDefault(); moveCursor(row ? -1 : 0); break;
      case 'Home': if (row) { e.preventDefault(); moveCursor(0, 'first'); } break;
      case 'End': if (row) { e.preventDefault(); moveCursor(0, 'last'); } break;
      case 'Enter':
        if (row && target === row) { e.preventDefault(); activateRow(row); }
        break;
      case 'c':
        if (row && row.closest('#queue-list, #active-list') && canClaim(S.items.get(row.dataset.id))) {
          e.preventDefault();
          claim(row.dataset.id, row.querySelector('button.claim'));
        } else if (!row && S.open && canClaim(S.open.item)) {
          e.preventDefault();
          claim(S.open.id, E.claimBtn);
        }
        break;
      case 'r':
        if (S.open && !isAuditor()) { e.preventDefault(); if (S.noteMode) setNoteMode(false); E.input.focus(); }
        break;
      case 'n':
        if (S.open && !isAuditor()) { e.preventDefault(); setNoteMode(true); E.input.focus(); }
        break;
      case '/':
        if (S.open && !E.canned.hidden) { e.preventDefault(); E.cannedFilter.focus(); E.cannedFilter.select(); }
        break;
      default: break;
    }
  }
  function activateRow(row) {
    const section = row.closest('.section').id.replace('section-', '');
    if (section === 'tickets') {
      if (row.dataset.conversationId) openConversation(row.dataset.conversationId);
    } else if (section !== 'team') {
      S.cursor[section] = row.dataset.id;
      openConversation(row.dataset.id);
    }
  }

  // ---------- wiring ----------
  function initConsole() {
    E = {
      bootError: $('boot-error'), toasts: $('toasts'), conn: $('conn-status'), connText: $('conn-text'),
      meName: $('me-name'), meRole: $('me-role'), presence: $('presence'), presenceSelect: $('presence-select'), load: $('load'),
      queueMeta: $('queue-meta'), closedMeta: $('closed-meta'), teamList: $('team-list'), teamEmpty: $('team-empty'), teamMeta: $('team-meta'),
      ticketsList: $('tickets-list'), ticketsEmpty: $('tickets-empty'), ticketsMore: $('tickets-more'), ticketsOpen: $('tickets-open'), ticketsResolved: $('tickets-resolved'),
      convEmpty: $('conv-empty'), convView: $('conv-view'), convTitle: $('conv-title'), convVip: $('conv-vip'),
      convState: $('conv-state'), convMeta: $('conv-meta'), claimBtn: $('conv-claim'), assignBox: $('assign-box'),
      assignSelect: $('assign-select'), assignBtn: $('assign-btn'), closeBtn: $('close-btn'),
      scroller: $('transcript-scroller'), transcript: $('transcript'), transcriptLoading: $('transcript-loading'),
      form: $('reply-form'), input: $('reply-input'), send: $('reply-send'), noteToggle: $('note-toggle'),
      counter: $('reply-counter'), replyError: $('reply-error'),
      panelEmpty: $('panel-empty'), summary: $('summary'), summaryText: $('summary-text'), summaryReason: $('summary-reason'),
      emotion: $('summary-emotion'), emotionFill: $('emotion-fill'), emotionValue: $('emotion-value'), emotionTags: $('emotion-tags'),
      summaryTags: $('summary-tags'), suggestions: $('suggestions'), suggestionList: $('suggestion-list'),
      suggestionsEmpty: $('suggestions-empty'), canned: $('canned'), cannedFilter: $('canned-filter'),
      cannedList: $('canned-list'), cannedEmpty: $('canned-empty'),
    };
    E.emotionBar = E.emotion.querySelector('.emotion-bar');
    E.summaryDetails = $('summary-details');
    // The summary's details stay open or closed as the agent last left them.
    try { E.summaryDetails.open = localStorage.getItem('steward.console.details') === 'open'; } catch { /* blocked */ }
    E.summaryDetails.addEventListener('toggle', () => {
      try { localStorage.setItem('steward.console.details', E.summaryDetails.open ? 'open' : 'closed'); } catch { /* blocked */ }
    });
    session.onUnauthorized = goLogin;

    for (const s of SECTIONS) $(`tab-${s}`).addEventListener('click', () => showSection(s));
    E.ticketsOpen.addEventListener('click', () => setTicketStatus('open'));
    E.ticketsResolved.addEventListener('click', () => setTicketStatus('resolved'));
    E.presenceSelect.addEventListener('change', () => setPresence(E.presenceSelect.value));
    $('logout-btn').addEventListener('click', async () => {
      try { await api('POST', '/api/v1/auth/logout'); } catch { /* leaving anyway */ }
      stopStream();
      // Signing out on purpose leaves no drafts behind in the tab (the pagehide on the way must not keep them).
      S.drafts.clear();
      S.open = null;
      try { sessionStorage.removeItem(draftsKey()); } catch { /* blocked */ }
      location.replace('/console/login');
    });
    $('conn-retry').addEventListener('click', () => { S.wsAttempt = 0; connectStream(); });
    $('boot-retry').addEventListener('click', boot);

    E.claimBtn.addEventListener('click', () => { if (S.open) claim(S.open.id, E.claimBtn); });
    E.closeBtn.addEventListener('click', closeConversation);
    E.assignSelect.addEventListener('change', () => { E.assignBtn.disabled = !E.assignSelect.value; });
    // Left (focus has moved on by the next task): a list that waited is rebuilt now.
    E.assignSelect.addEventListener('blur', () => setTimeout(() => { if (S.assignStale && S.open) renderHeader(); }));
    E.assignBtn.addEventListener('click', assign);

    E.form.addEventListener('submit', (e) => { e.preventDefault(); submitReply(); });
    window.addEventListener('pagehide', saveDraft);
    E.input.addEventListener('input', () => {
      updateComposer();
      if (!E.replyError.hidden) clearReplyError();
      later('draft', saveDraft, 300);
    });
    E.input.addEventListener('keydown', (e) => {
      // Enter (or Ctrl/Cmd+Enter) sends, Shift+Enter is a newline; never while an IME is composing.
      if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submitReply();
      }
    });
    E.noteToggle.addEventListener('click', () => { setNoteMode(!S.noteMode); E.input.focus(); });
    E.cannedFilter.addEventListener('input', renderCanned);
    E.cannedFilter.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.isComposing) { // Enter takes the first match
        e.preventDefault();
        const first = E.cannedList.querySelector('button.canned');
        if (first) first.click();
      }
    });

    document.addEventListener('keydown', onKey);
    window.addEventListener('hashchange', () => { const id = convFromHash(); if (id && (!S.open || S.open.id !== id)) openConversation(id); });
    window.addEventListener('online', reconnectNow);
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) return;
      S.hiddenUnread = 0;
      updateTitle();
      reconnectNow();
    });
    setInterval(tick, 1000);
    boot();
  }

  if (document.body.dataset.page === 'login') initLogin();
  else initConsole();
})();
