// Steward customer chat page (served at /chat). Plain ES2020, no dependencies.
// Sends over REST (durable acknowledgement), receives live messages over a WebSocket.
// All message data is rendered with textContent only.
'use strict';
(() => {
  const API = '/api/v1/conversations';
  const STORE_KEY = 'steward.conversation';
  const MAX_CHARS = 4000;
  const COUNTER_FROM = 3500; // show the character counter from here on
  const BACKOFF_MAX = 30000;

  const I18N = {
    'zh-CN': {
      title: '在线客服',
      subtitle: '在线 · 随时为您服务',
      placeholder: '请输入您的问题…',
      inputLabel: '消息内容',
      send: '发送',
      typing: '正在输入…',
      queued: '排队中，等待人工客服',
      assigned: '已转人工',
      closed: '会话已结束',
      retry: '发送失败，点击重试',
      connecting: '连接中…',
      reconnecting: '连接中…',
      loadFailed: '无法连接客服',
      retryNow: '重试',
      handoff: '转人工',
      handoffText: '转人工',
      roleBot: '智能助手',
      roleAgent: '人工客服',
      langSwitch: 'Switch to English',
      close: '关闭',
      newConversation: '开始新会话',
      related: '您可能还想问：',
    },
    en: {
      title: 'Customer service',
      subtitle: 'Online · here to help',
      placeholder: 'Type your question…',
      inputLabel: 'Message',
      send: 'Send',
      typing: 'typing…',
      queued: 'Waiting for an agent',
      assigned: 'An agent has joined',
      closed: 'Conversation closed',
      retry: 'Not sent — tap to retry',
      connecting: 'Connecting…',
      reconnecting: 'Reconnecting…',
      loadFailed: 'Could not reach customer service',
      retryNow: 'Retry',
      handoff: 'Talk to a human',
      handoffText: 'human',
      roleBot: 'Assistant',
      roleAgent: 'Agent',
      langSwitch: '切换到中文',
      close: 'Close',
      newConversation: 'Start a new conversation',
      related: 'You may also ask:',
    },
  };

  // ---------- locale & mode (run immediately, before first paint) ----------
  const params = new URLSearchParams(location.search);
  const normLocale = (v) => {
    v = String(v || '').toLowerCase();
    if (v.startsWith('zh')) return 'zh-CN';
    if (v.startsWith('en')) return 'en';
    return null;
  };
  const S = {
    locale: normLocale(params.get('lang')) ||
      (String(navigator.language || '').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en'),
    embed: params.get('embed') === '1',
    conv: null,          // {id, token}
    state: 'bot',
    known: new Map(),    // message id -> <li>
    maxSeq: 0,
    inFlight: false,
    sendingEl: null,     // pending bubble of the request in flight
    loading: null,       // promise of a running load()
    connKind: null,      // null | connecting | reconnecting | failed
    ws: null, wsGen: 0, wsAttempt: 0, wsTimer: 0, wsError: null,
  };
  document.documentElement.lang = S.locale;
  if (S.embed) document.documentElement.classList.add('embed');

  const t = (key) => (I18N[S.locale] && I18N[S.locale][key]) ?? I18N.en[key] ?? key;
  let E = {}; // element cache, filled in init()

  // ---------- small helpers ----------
  const mk = (tag, cls) => { const el = document.createElement(tag); if (cls) el.className = cls; return el; };
  const charCount = (s) => [...s].length; // count code points, not UTF-16 units
  const convPath = (suffix = '') => `${API}/${encodeURIComponent(S.conv.id)}${suffix}`;

  function readStore() {
    try {
      const v = JSON.parse(localStorage.getItem(STORE_KEY) || 'null');
      return v && typeof v.id === 'string' && typeof v.token === 'string' ? v : null;
    } catch { return null; } // storage blocked (e.g. third-party iframe) or bad JSON
  }
  function writeStore(v) { try { localStorage.setItem(STORE_KEY, JSON.stringify(v)); } catch { /* ignore */ } }
  function clearStore() { try { localStorage.removeItem(STORE_KEY); } catch { /* ignore */ } }

  // ---------- REST ----------
  class ApiError extends Error {
    constructor(status, code, message) { super(message || code); this.status = status; this.code = code; }
  }
  async function api(method, path, body, token) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    let res;
    try {
      res = await fetch(path, {
        method, headers, cache: 'no-store', credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, 'network', e && e.message);
    }
    let data = null;
    try { data = await res.json(); } catch { /* empty or non-JSON body */ }
    if (!res.ok) {
      const err = (data && data.error) || {};
      throw new ApiError(res.status, err.code || `http_${res.status}`, err.message || res.statusText);
    }
    return data || {};
  }
  const isGone = (e) => e && (e.status === 401 || e.status === 404);

  // ---------- loading / creating the conversation ----------
  function load() {
    if (!S.loading) S.loading = doLoad().finally(() => { S.loading = null; });
    return S.loading;
  }
  async function doLoad() {
    stopStream();
    setConn('connecting');
    let data = null;
    try {
      const saved = readStore();
      if (saved) {
        try {
          data = await api('GET', `${API}/${encodeURIComponent(saved.id)}`, undefined, saved.token);
          S.conv = saved;
        } catch (e) {
          if (!isGone(e)) throw e;
          clearStore(); // unknown or expired conversation: forget it and start fresh
        }
      }
      if (!data) {
        data = await api('POST', API, { locale: S.locale });
        S.conv = { id: data.id, token: data.token };
        writeStore(S.conv);
      }
    } catch {
      S.conv = null;
      setConn('failed');
      updateComposer();
      return false;
    }
    resetMessages();
    (data.messages || []).forEach(addMessage);
    setState(data.state || 'bot');
    setConn(null);
    connectStream();
    scrollToBottom(true);
    document.body.dataset.ready = '1';
    return true;
  }
  function startNew() { clearStore(); S.conv = null; S.state = 'bot'; return load(); }

  // Re-fetch the conversation (after a conflict or a stream auth error). Returns false if gone.
  async function refresh() {
    if (!S.conv) return false;
    try {
      const d = await api('GET', convPath(), undefined, S.conv.token);
      (d.messages || []).forEach(addMessage);
      setState(d.state);
      return true;
    } catch (e) {
      if (isGone(e)) { startNew(); return false; }
      return true; // transient: keep what we have
    }
  }

  // ---------- WebSocket stream ----------
  function connectStream() {
    if (!S.conv || !('WebSocket' in window)) return;
    stopStream();
    const gen = ++S.wsGen;
    const conv = S.conv;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws;
    try { ws = new WebSocket(`${proto}//${location.host}${convPath('/stream')}`); } catch { scheduleReconnect(gen); return; }
    S.ws = ws;
    S.wsError = null;
    // The token never goes into the URL: it is the first frame.
    ws.onopen = () => {
      if (gen === S.wsGen) ws.send(JSON.stringify({ type: 'auth', token: conv.token, after_seq: S.maxSeq }));
    };
    ws.onmessage = (ev) => {
      if (gen !== S.wsGen) return;
      let f;
      try { f = JSON.parse(ev.data); } catch { return; }
      if (f.type === 'ready') { S.wsAttempt = 0; setConn(null); setState(f.state); }
      else if (f.type === 'message') addMessage(f.message);
      else if (f.type === 'state') setState(f.state);
      else if (f.type === 'error') S.wsError = (f.error && f.error.code) || 'internal';
    };
    ws.onclose = async () => {
      if (gen !== S.wsGen) return;
      S.ws = null;
      const code = S.wsError;
      if (code === 'unauthorized' || code === 'not_found') {
        if (!(await refresh()) || gen !== S.wsGen) return; // refresh() started a new conversation
      }
      if (S.state === 'closed') { setConn(null); return; } // nothing more will arrive
      scheduleReconnect(gen);
    };
  }
  function scheduleReconnect(gen) {
    clearTimeout(S.wsTimer);
    const delay = Math.min(1000 * 2 ** S.wsAttempt, BACKOFF_MAX); // 1s, 2s, 4s … 30s
    S.wsAttempt++;
    setConn('reconnecting');
    S.wsTimer = setTimeout(() => { if (gen === S.wsGen) connectStream(); }, delay);
  }
  function stopStream() {
    S.wsGen++;
    clearTimeout(S.wsTimer);
    if (S.ws) { try { S.ws.close(); } catch { /* ignore */ } S.ws = null; }
  }
  function reconnectNow() {
    if (S.conv && !S.ws && !S.loading && S.state !== 'closed') { S.wsAttempt = 0; connectStream(); }
  }

  // ---------- rendering ----------
  function resetMessages() {
    for (const li of [...E.messages.children]) if (!li.dataset.pending) li.remove();
    S.known.clear();
    S.maxSeq = 0;
  }

  function renderMessage(m) {
    const role = ['customer', 'bot', 'agent', 'system'].includes(m.role) ? m.role : 'system';
    const li = mk('li', `msg msg--${role}`);
    li.dataset.role = role;
    li.dataset.id = m.id;
    if (m.seq != null) li.dataset.seq = String(m.seq);
    if (m.outcome) li.dataset.outcome = m.outcome;
    if (m.entry && m.entry.id) li.dataset.entry = m.entry.id;
    if (role === 'bot' || role === 'agent') {
      const label = mk('div', 'msg-label');
      label.dataset.i18n = role === 'bot' ? 'roleBot' : 'roleAgent';
      label.textContent = t(label.dataset.i18n);
      li.append(label);
    }
    const bubble = mk('div', 'bubble');
    bubble.textContent = m.text || '';
    const when = m.created_at ? new Date(m.created_at) : null;
    if (when && !isNaN(when)) bubble.title = when.toLocaleString(S.locale);
    li.append(bubble);
    if (Array.isArray(m.choices) && m.choices.length) {
      const box = mk('div', 'choices');
      if (m.outcome === 'answer') {
        // Under an answer, choices are related questions rather than a clarification.
        const cap = mk('div', 'choices-caption');
        cap.dataset.i18n = 'related';
        cap.textContent = t('related');
        box.append(cap);
      }
      for (const c of m.choices) {
        const b = mk('button', 'choice');
        b.type = 'button';
        b.textContent = c.title;
        b.dataset.entryId = c.entry_id;
        b.addEventListener('click', () => pickChoice(box, b, c));
        box.append(b);
      }
      li.append(box);
    }
    return li;
  }

  // Insert by seq; locally pending bubbles always stay at the end.
  function insertBySeq(li, seq) {
    const s = seq == null ? Infinity : seq;
    for (const c of E.messages.children) {
      if (c.dataset.pending || (c.dataset.seq && Number(c.dataset.seq) > s)) { E.messages.insertBefore(li, c); return; }
    }
    E.messages.append(li);
  }

  function addMessage(m) {
    if (!m || !m.id || S.known.has(m.id)) return; // dedupe by id (REST + stream overlap)
    // Our own message echoed by the stream before the POST answered: drop the pending copy.
    const p = S.sendingEl;
    if (m.role === 'customer' && p && !p.adopted && p.payload.text === m.text) { p.adopted = true; p.remove(); }
    const near = isNearBottom();
    const li = renderMessage(m);
    S.known.set(m.id, li);
    if (typeof m.seq === 'number' && m.seq > S.maxSeq) S.maxSeq = m.seq;
    insertBySeq(li, m.seq);
    updateChoices();
    if (near || m.role === 'customer') scrollToBottom();
  }

  // Clarify choices are usable only until the customer has said something after them.
  function updateChoices() {
    let answered = S.state === 'closed';
    for (const li of [...E.messages.children].reverse()) {
      if (li.dataset.role === 'customer') { answered = true; continue; }
      if (answered) li.querySelectorAll('.choice').forEach((b) => { b.disabled = true; });
    }
  }

  function isNearBottom() {
    const s = E.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 120;
  }
  function scrollToBottom() {
    requestAnimationFrame(() => { E.scroller.scrollTop = E.scroller.scrollHeight; });
  }

  function setState(state) {
    if (!state) return;
    S.state = state;
    renderState();
    updateChoices();
    updateComposer();
  }
  function renderState() {
    const s = S.state;
    const shown = s === 'queued' || s === 'assigned' || s === 'closed';
    E.banner.dataset.state = s;
    E.banner.hidden = !shown;
    E.stateText.textContent = shown ? t(s) : '';
    E.newConv.hidden = s !== 'closed';
    E.handoff.hidden = s !== 'bot';
    updateQuickRow();
  }
  // The row above the input holds the handoff button and the counter; collapse it when both are hidden.
  const updateQuickRow = () => { E.quick.hidden = E.handoff.hidden && E.counter.hidden; };

  function setConn(kind) {
    S.connKind = kind;
    E.conn.hidden = !kind;
    E.conn.dataset.kind = kind || '';
    E.connText.textContent = kind === 'failed' ? t('loadFailed') : kind ? t(kind) : '';
    E.connRetry.hidden = kind !== 'failed';
  }

  function updateComposer() {
    const n = charCount(E.input.value.trim());
    const closed = S.state === 'closed';
    E.input.disabled = closed;
    E.send.disabled = S.inFlight || !S.conv || closed || n === 0 || n > MAX_CHARS;
    E.handoff.disabled = S.inFlight || !S.conv;
    E.counter.hidden = n < COUNTER_FROM;
    E.counter.textContent = `${n} / ${MAX_CHARS}`;
    E.counter.classList.toggle('is-over', n > MAX_CHARS);
    updateQuickRow();
    const typing = S.inFlight && S.state === 'bot';
    if (typing && E.typing.hidden) scrollToBottom();
    E.typing.hidden = !typing;
  }

  function applyI18n() {
    document.documentElement.lang = S.locale;
    document.title = t('title');
    document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    document.querySelectorAll('[data-i18n-label]').forEach((el) => { el.setAttribute('aria-label', t(el.dataset.i18nLabel)); });
    document.querySelectorAll('[data-i18n-title]').forEach((el) => { el.title = t(el.dataset.i18nTitle); });
    E.lang.dataset.lang = S.locale;
    E.lang.querySelectorAll('.lang-opt').forEach((o) => o.classList.toggle('is-active', o.dataset.lang === S.locale));
    renderState();
    setConn(S.connKind);
  }

  // ---------- sending ----------
  function createPending(payload) {
    const li = mk('li', 'msg msg--customer is-pending');
    li.dataset.role = 'customer';
    li.dataset.pending = '1';
    li.payload = payload;
    const bubble = mk('div', 'bubble');
    bubble.textContent = payload.text;
    const retry = mk('button', 'msg-retry');
    retry.type = 'button';
    retry.dataset.i18n = 'retry';
    retry.textContent = t('retry');
    retry.hidden = true;
    retry.addEventListener('click', () => send(payload, li));
    li.append(bubble, retry);
    E.messages.append(li);
    return li;
  }

  const postMessage = (payload) => api('POST', convPath('/messages'), payload, S.conv.token);

  // Sends payload {text, choice?}. `li` is the existing bubble when retrying. Returns true if started.
  function send(payload, li) {
    if (S.inFlight || !S.conv || S.loading || S.state === 'closed') return false;
    li = li || createPending(payload);
    li.classList.remove('is-failed');
    li.classList.add('is-sending');
    li.querySelector('.msg-retry').hidden = true;
    S.inFlight = true;
    S.sendingEl = li;
    updateChoices();
    updateComposer();
    scrollToBottom();
    (async () => {
      try {
        let res;
        try {
          res = await postMessage(payload);
        } catch (e) {
          if (!isGone(e)) throw e;
          // The stored conversation no longer exists: start a new one and resend once.
          if (!(await startNew())) throw e;
          res = await postMessage(payload);
        }
        li.remove();
        addMessage(res.customer_message);
        (res.messages || []).forEach(addMessage);
        setState(res.state);
      } catch (e) {
        if (!li.adopted) { // if the stream already delivered it, it was sent after all
          li.classList.remove('is-sending');
          li.classList.add('is-failed');
          const retry = li.querySelector('.msg-retry');
          retry.hidden = false;
          retry.title = (e && e.message) || '';
        }
        if (e && e.status === 409) refresh(); // e.g. conversation closed meanwhile
      } finally {
        S.inFlight = false;
        S.sendingEl = null;
        updateChoices();
        updateComposer();
      }
    })();
    return true;
  }

  function submitComposer() {
    const text = E.input.value.trim();
    const n = charCount(text);
    if (!n || n > MAX_CHARS || S.inFlight) return; // text stays in the box if we cannot send
    if (send({ text })) {
      E.input.value = '';
      updateComposer();
    }
  }

  function pickChoice(box, btn, c) {
    if (box.dataset.used || btn.disabled) return;
    if (!send({ text: c.title, choice: c.entry_id })) return;
    box.dataset.used = '1';
    btn.classList.add('is-chosen');
    box.querySelectorAll('.choice').forEach((b) => { b.disabled = true; });
  }

  const closeEmbed = () => { if (window.parent !== window) window.parent.postMessage({ type: 'steward:close' }, '*'); };

  // ---------- wiring ----------
  function init() {
    const $ = (id) => document.getElementById(id);
    E = {
      messages: $('messages'), scroller: $('scroller'), input: $('composer-input'), send: $('composer-send'),
      form: $('composer'), counter: $('composer-counter'), typing: $('typing'), banner: $('state-banner'),
      stateText: $('state-text'), newConv: $('new-conv-btn'), conn: $('conn-status'), connText: $('conn-text'),
      connRetry: $('conn-retry'), quick: $('quick'), handoff: $('handoff-btn'), lang: $('lang-switch'), close: $('close-btn'),
    };
    applyI18n();
    updateComposer();

    E.form.addEventListener('submit', (e) => { e.preventDefault(); submitComposer(); });
    E.input.addEventListener('input', updateComposer);
    E.input.addEventListener('keydown', (e) => {
      // Enter sends, Shift+Enter is a newline; never send while an IME is composing (Chinese input).
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submitComposer();
      }
    });
    E.handoff.addEventListener('click', () => send({ text: t('handoffText') }));
    E.newConv.addEventListener('click', () => startNew());
    E.connRetry.addEventListener('click', () => load());
    E.lang.addEventListener('click', () => {
      S.locale = S.locale === 'zh-CN' ? 'en' : 'zh-CN';
      const u = new URL(location.href);
      u.searchParams.set('lang', S.locale);
      history.replaceState(history.state, '', u);
      applyI18n();
    });
    if (S.embed) {
      E.close.hidden = false;
      E.close.addEventListener('click', closeEmbed);
      document.addEventListener('keydown', (e) => { if (e.key === 'Escape') closeEmbed(); });
    }
    window.addEventListener('online', reconnectNow);
    document.addEventListener('visibilitychange', () => { if (!document.hidden) reconnectNow(); });

    load();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
