// Steward customer chat page (served at /chat). Plain ES2020, no dependencies.
// Sends over REST (durable acknowledgement), receives live messages over a WebSocket.
// While the service is degraded a notice shows above the chat, from the conversation's
// responses and from /api/v1/status, polled every 10 s.
// All message data is rendered with textContent only.
'use strict';
(() => {
  const API = '/api/v1/conversations';
  const STORE_KEY = 'steward.conversation';
  const MAX_CHARS = 4000;
  const FLAGGABLE = ['answer', 'clarify', 'fallback']; // bot replies a customer may mark as wrong
  const COUNTER_FROM = 3500; // show the character counter from here on
  const BACKOFF_MAX = 30000;
  // The stream is probed with a ping this often while it is quiet, and taken for dead when no frame
  // answers within PONG_WAIT: a socket whose network went away (a phone changing networks, a node
  // gone without a word) stays "open" in the browser, and the customer missed every reply on it.
  const PING_EVERY = 25000;
  const PONG_WAIT = 10000;
  // A request that has had no answer this long is given up (the message stays "not sent", with its
  // key, to send again): on a dead network fetch waits minutes, with the composer held.
  const REQUEST_TIMEOUT = 30000;
  const STATUS_API = '/api/v1/status';
  const STATUS_EVERY = 10000;

  const I18N = {
    'zh-CN': {
      title: '在线客服',
      subtitle: '在线 · 随时为您服务',
      presenceLimited: '部分服务受限 · 详见通知',
      presenceOffline: '已断开 · 正在尝试重新连接',
      placeholder: '请输入您的问题…',
      placeholderClosed: '会话已结束，点击“开始新会话”继续咨询',
      inputLabel: '消息内容',
      send: '发送',
      typing: '正在输入…',
      queued: '排队中，等待人工客服',
      assigned: '已转人工',
      closed: '会话已结束',
      retry: '发送失败，点击重试',
      tooFast: '发送太频繁，请稍后点击重试',
      tooMany: '操作太频繁，请稍后再试。',
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
      generated: '此回答由 AI 根据帮助中心内容生成，仅供参考',
      assignedNamed: '客服 {name} 正在为您服务',
      queuePosition: '您排在第 {n} 位',
      queueWait: ' · 预计等待约 {m} 分钟',
      queueWaitHours: ' · 预计等待约 {h} 小时',
      queueWaitClosed: ' · 客服已下班，预计约 {h} 小时后（营业后）接入',
      queueWaitShort: ' · 预计不到 1 分钟',
      leaveMessage: '留言',
      offlineTitle: '给客服留言',
      offlineQueued: '留言后您仍在排队中，客服接入后也会看到这条留言。',
      offlineContact: '联系方式',
      offlineContactHint: '手机号或邮箱',
      offlineMessage: '留言内容',
      offlineSubmit: '提交留言',
      offlineNeedMessage: '请填写留言内容。',
      offlineNeedContact: '请留下手机号或邮箱，方便我们联系您。',
      errInvalid: '提交的内容不符合要求，请检查后重试。',
      errTooLarge: '内容太长，请删减后再提交。',
      errConflict: '暂时无法提交：会话状态已变化，或已有留言在等待客服处理。',
      errGone: '会话已失效，请刷新页面后开始新会话。',
      errUnavailable: '服务暂时不可用，请稍后再试。',
      errInternal: '系统出了点问题，请稍后再试。',
      offlineDone: '已收到您的留言，我们会尽快联系您。',
      sending: '提交中…',
      sendFailed: '提交失败，请检查网络后重试。',
      ratingTitle: '请为本次服务打分',
      ratingStar: '{n} 星',
      ratingStarOne: '{n} 星',
      rating1: '非常不满意',
      rating2: '不满意',
      rating3: '一般',
      rating4: '满意',
      rating5: '非常满意',
      ratingTags: '评价标签',
      ratingComment: '还有什么想告诉我们的？（选填）',
      ratingSubmit: '提交评价',
      ratingNeedScore: '请先选择星级。',
      ratingDone: '感谢您的评价！',
      flagWrong: '回答有误',
      flagTitle: '这个回答不对或没有帮助',
      flagReason: '哪里不对？（选填）',
      flagSend: '提交',
      flagCancel: '取消',
      flagged: '已收到反馈，谢谢！我们会改进这个回答。',
      statusPage: '服务状态',
      serviceStatus: '服务状态',
    },
    en: {
      title: 'Customer service',
      subtitle: 'Online · here to help',
      presenceLimited: 'Limited service · see the notice',
      presenceOffline: 'Disconnected · trying to reconnect',
      placeholder: 'Type your question…',
      placeholderClosed: 'This conversation has ended. Start a new one to ask more.',
      inputLabel: 'Message',
      send: 'Send',
      typing: 'typing…',
      queued: 'Waiting for an agent',
      assigned: 'An agent has joined',
      closed: 'Conversation closed',
      retry: 'Not sent — tap to retry',
      tooFast: 'Sending too fast — tap to retry in a moment',
      tooMany: 'Too many requests. Please wait a moment and try again.',
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
      generated: 'AI-generated from our help centre; it may contain mistakes',
      assignedNamed: '{name} is helping you',
      queuePosition: 'You are number {n} in the queue',
      queueWait: ' · about {m} min',
      queueWaitHours: ' · about {h} h',
      queueWaitClosed: ' · the desk is closed: about {h} h, once it opens',
      queueWaitShort: ' · less than a minute',
      leaveMessage: 'Leave a message',
      offlineTitle: 'Leave a message for our team',
      offlineQueued: 'You keep your place in the queue; the agent will see your message too.',
      offlineContact: 'How can we reach you?',
      offlineContactHint: 'Phone or email',
      offlineMessage: 'Your message',
      offlineSubmit: 'Send message',
      offlineNeedMessage: 'Please write your message.',
      offlineNeedContact: 'Please leave a phone number or email so that we can reach you.',
      errInvalid: 'Something in what you sent is not right. Please check it and try again.',
      errTooLarge: 'That is too long. Please shorten it and try again.',
      errConflict: 'This cannot be sent right now: the conversation has changed, or messages are already waiting for our team.',
      errGone: 'This conversation has expired. Reload the page to start a new one.',
      errUnavailable: 'The service is briefly unavailable. Please try again in a moment.',
      errInternal: 'Something went wrong on our side. Please try again in a moment.',
      offlineDone: 'Thanks, we have your message and will get back to you soon.',
      sending: 'Sending…',
      sendFailed: 'Could not send. Check your connection and try again.',
      ratingTitle: 'How did we do?',
      ratingStar: '{n} stars',
      ratingStarOne: '{n} star',
      rating1: 'Very poor',
      rating2: 'Poor',
      rating3: 'OK',
      rating4: 'Good',
      rating5: 'Excellent',
      ratingTags: 'What stood out?',
      ratingComment: 'Anything else you would like to tell us? (optional)',
      ratingSubmit: 'Submit',
      ratingNeedScore: 'Please choose a star rating first.',
      ratingDone: 'Thank you for your feedback!',
      flagWrong: 'Wrong answer',
      flagTitle: 'This answer is wrong or did not help',
      flagReason: 'What was wrong? (optional)',
      flagSend: 'Send',
      flagCancel: 'Cancel',
      flagged: 'Thanks for telling us. We will fix this answer.',
      statusPage: 'Status page',
      serviceStatus: 'Service status',
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
    flagging: new Set(), // message ids with a flag request in flight
    locale: normLocale(params.get('lang')) ||
      (String(navigator.language || '').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en'),
    embed: params.get('embed') === '1',
    // In the widget of a shop that signs its customers' identities, the widget sends the token
    // by postMessage; the chat waits for it (a few seconds at most) before starting.
    awaitIdentity: params.get('embed') === '1' && params.get('identity') === '1',
    identity: '',        // the token, sent with a new conversation
    who: '',             // the customer id it names (unverified here: only to keep customers apart)
    // The site's own name for the chat (the widget's data-title), shown as text; only in a
    // frame, so that a link to the chat page (embed=1 included) cannot put words in Steward's header.
    title: params.get('embed') === '1' && window.parent !== window
      ? [...String(params.get('title') || '').trim()].slice(0, 40).join('') : '',
    conv: null,          // {id, token, rated?, offline_seq?}: the record kept in localStorage
    state: 'bot',
    queue: null,         // {position, wait_seconds} while queued
    agentName: '',       // the agent who has the conversation
    offlineRequested: false, // the customer asked for the offline form while queued
    offlineSent: false,  // an offline message was sent from this page
    offlineBusy: false,
    ratingScore: 0,
    ratingSel: new Set(), // chosen rating tag ids
    ratingTags: null,    // [{id, label:{zh-CN, en}}] once loaded
    ratingBusy: false,
    ratingDone: false,   // rated from this page
    ratingTagsLoading: false,
    detailsTimer: 0,
    known: new Map(),    // message id -> <li>
    maxSeq: 0,
    // The stream resumes after the newest message with none missing before it: a REST answer may
    // bring seq 10 while the socket is down and an agent's seq 9 is still to come.
    seqs: new Set(),
    gapless: 0,
    inFlight: false,
    sending: null, // the send under way (see send), or null
    sendingEl: null,     // pending bubble of the request in flight
    loading: null,       // promise of a running load()
    connKind: null,      // null | connecting | reconnecting | failed
    ws: null, wsGen: 0, wsAttempt: 0, wsTimer: 0, wsError: null,
    wsHeard: 0, pingSent: 0, pingTimer: 0, // the stream's liveness (watchStream)
    notice: null,        // null | {text} from a conversation response | {byLocale: {zh-CN, en}} from the status
    statusTimer: 0, statusBusy: false,
    panelOpen: true,     // in the widget: whether its panel is open (the widget tells us)
  };
  document.documentElement.lang = S.locale;
  if (S.embed) document.documentElement.classList.add('embed');

  const t = (key) => (key === 'title' && S.title) || ((I18N[S.locale] && I18N[S.locale][key]) ?? I18N.en[key] ?? key);
  const tf = (key, vars) => t(key).replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
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
  // remember({rated: true}) adds to the stored record of the current conversation.
  function remember(patch) {
    if (!S.conv) return;
    Object.assign(S.conv, patch);
    writeStore(S.conv);
  }

  // ---------- REST ----------
  // message is the server's English; zh its Chinese, where the server has one.
  class ApiError extends Error {
    constructor(status, code, message, zh, fromServer) {
      super(message || code);
      this.status = status; this.code = code; this.zh = zh || '';
      this.fromServer = !!fromServer; // message is Steward's own sentence, not a proxy's status text
    }
  }
  async function api(method, path, body, token) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    let res;
    const ctl = typeof AbortController === 'function' ? new AbortController() : null;
    const timer = ctl ? setTimeout(() => ctl.abort(), REQUEST_TIMEOUT) : 0;
    try {
      res = await fetch(path, {
        method, headers, cache: 'no-store', credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: ctl ? ctl.signal : undefined,
      });
    } catch (e) {
      throw new ApiError(0, 'network', e && e.message);
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try { data = await res.json(); } catch { /* empty or non-JSON body */ }
    if (!res.ok) {
      const err = (data && data.error) || {};
      throw new ApiError(res.status, err.code || `http_${res.status}`, err.message || res.statusText, err.message_zh, !!err.message);
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
    // The customer this load is for: an identity that arrives meanwhile starts a new load after this one
    // (startNew), and must not be written down as this conversation's.
    const who = S.who, identity = S.identity;
    let carried = [];
    try {
      let saved = readStore();
      // A conversation belongs to the customer it was started for: after a sign-in, a sign-out or
      // another customer signing in on this browser, start afresh instead of showing it (and
      // forget what that customer had not sent).
      if (saved && (saved.who || '') !== who) { forgetUnsent(saved.id); clearStore(); saved = null; }
      if (saved) {
        try {
          data = await api('GET', `${API}/${encodeURIComponent(saved.id)}`, undefined, saved.token);
          S.conv = saved;
        } catch (e) {
          if (!isGone(e)) throw e;
          // Unknown or expired conversation: forget it and start fresh. What the same customer
          // had not sent goes with them to the new one.
          carried = readUnsent(saved);
          forgetUnsent(saved.id);
          clearStore();
        }
      }
      if (!data) {
        data = await api('POST', API, identity ? { locale: S.locale, identity } : { locale: S.locale });
        S.conv = { id: data.id, token: data.token };
        if (who) S.conv.who = who;
        writeStore(S.conv);
      }
    } catch {
      S.conv = null;
      setConn('failed');
      updateComposer();
      return false;
    }
    resetMessages();
    // Not if another customer's identity came meanwhile: a new load for them follows this one.
    if (S.who === who) restoreUnsent([...carried, ...readUnsent(S.conv)]);
    (data.messages || []).forEach(addMessage);
    storeUnsent();
    applyDetails(data);
    noticeFrom(data);
    setState(data.state || 'bot');
    setConn(null);
    connectStream();
    scrollToBottom(true);
    document.body.dataset.ready = '1';
    return true;
  }
  // forget: the conversation is another customer's now (an identity change), and the messages not
  // sent yet are not theirs: they go, those the load under way may have put back included.
  function startNew({ forget = false } = {}) {
    // A load under way (the page just opened) is for the customer as it was: start anew after it.
    if (S.loading) return S.loading.then(() => startNew({ forget }));
    if (forget) for (const li of [...E.messages.querySelectorAll('.msg[data-pending]')]) li.remove();
    // The old conversation's unsent messages: those still on the page follow to the new one (a
    // resend after the old one was gone), or were removed (another customer); none stay stored.
    if (S.conv) forgetUnsent(S.conv.id);
    clearStore();
    // A send still under way belongs to the old conversation: its answer is not shown in the new
    // one (send drops it), and it does not hold the new one's composer.
    S.sending = null;
    S.inFlight = false;
    S.sendingEl = null;
    S.conv = null;
    S.state = 'bot';
    resetCards();
    return load();
  }

  // What GET /conversations/{id} says besides the messages: place in the queue, agent, rating.
  function applyDetails(d) {
    S.queue = d.queue || null;
    // An agent without a name is shown as "an agent": the name of the one before must not stay.
    if (d.agent) S.agentName = d.agent.name || '';
    if (d.rating && S.conv && !S.conv.rated) remember({ rated: true });
  }

  // Re-fetch the conversation (after a conflict or a stream auth error). Returns false if gone.
  async function refresh() {
    if (!S.conv) return false;
    try {
      const d = await api('GET', convPath(), undefined, S.conv.token);
      const msgs = d.messages || [];
      // Read before the stream brought something newer (an agent joining while the answer was
      // on its way): its messages are kept, its state and queue place are not (send() does the same).
      const stale = S.maxSeq > Math.max(0, ...msgs.map((m) => m.seq || 0));
      msgs.forEach(addMessage);
      noticeFrom(d);
      if (!stale) { applyDetails(d); setState(d.state); }
      return true;
    } catch (e) {
      if (isGone(e)) { startNew(); return false; }
      return true; // transient: keep what we have
    }
  }

  // ---------- service notice ----------
  // A conversation response carries `notice` (in the conversation's language) while the
  // service is degraded; /api/v1/status has it in both languages. Either may show or hide it.
  function noticeFrom(d) {
    if (typeof d.notice === 'string' && d.notice) {
      if (S.notice && S.notice.byLocale) return; // already shown, in the page's language
      S.notice = { text: d.notice };
      renderNotice();
      pollStatus(); // fetch it in both languages
      return;
    }
    S.notice = null;
    renderNotice();
  }
  function renderNotice() {
    const n = S.notice;
    const text = !n ? '' : n.byLocale ? String(n.byLocale[S.locale] || n.byLocale.en || n.byLocale['zh-CN'] || '') : n.text;
    E.notice.hidden = !text;
    E.noticeText.textContent = text;
    renderPresence();
  }
  // The header says "online" only while it is true: connected, and no
  // service notice in force.
  function renderPresence() {
    const kind = S.connKind;
    const state = kind === 'connecting' ? 'connecting' : kind ? 'offline' : S.notice ? 'limited' : 'online';
    E.presence.dataset.state = state;
    E.presenceText.textContent = t({ connecting: 'connecting', offline: 'presenceOffline',
      limited: 'presenceLimited', online: 'subtitle' }[state]);
  }
  // Polls the public status every STATUS_EVERY while the chat is in view.
  async function pollStatus() {
    clearTimeout(S.statusTimer);
    if (document.hidden || !S.panelOpen || S.statusBusy) return;
    S.statusBusy = true;
    try {
      const d = await api('GET', STATUS_API);
      S.notice = Number(d.level) > 0 && d.notice && typeof d.notice === 'object' ? { byLocale: d.notice } : null;
      renderNotice();
    } catch { /* keep what is shown; try again next time */ }
    finally {
      S.statusBusy = false;
      if (!document.hidden && S.panelOpen) S.statusTimer = setTimeout(pollStatus, STATUS_EVERY);
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
      if (gen === S.wsGen) ws.send(JSON.stringify({ type: 'auth', token: conv.token, after_seq: S.gapless }));
    };
    ws.onmessage = (ev) => {
      if (gen !== S.wsGen) return;
      S.wsHeard = Date.now();
      let f;
      try { f = JSON.parse(ev.data); } catch { return; }
      if (f.type === 'ready') {
        S.wsAttempt = 0; setConn(null); setState(f.state); watchStream(gen);
        S.resendAttempt = 0; // back: what failed on the way is sent again now
        if (E.messages.querySelector('.msg.is-failed[data-auto-retry]')) scheduleResend(0);
      }
      else if (f.type === 'message') {
        const fresh = !!f.message && !S.known.has(f.message.id);
        addMessage(f.message);
        if (fresh) noteUnread(f.message);
      }
      else if (f.type === 'state') {
        if (f.agent) S.agentName = f.agent.name || '';
        setState(f.state);
      } else if (f.type === 'queue') {
        S.queue = f.queue || null;
        renderState();
      }
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
    clearTimeout(S.pingTimer);
    if (S.ws) { try { S.ws.close(); } catch { /* ignore */ } S.ws = null; }
  }
  // watchStream pings a quiet stream and replaces one that does not answer (see PING_EVERY).
  function watchStream(gen) {
    clearTimeout(S.pingTimer);
    const tick = () => {
      if (gen !== S.wsGen || !S.ws) return;
      const quiet = Date.now() - (S.wsHeard || 0);
      if (S.pingSent && S.wsHeard < S.pingSent && Date.now() - S.pingSent >= PONG_WAIT) {
        S.pingSent = 0;
        stopStream(); // dead: its frames, should any come after all, are a stale generation's
        S.wsAttempt = 0;
        connectStream();
        return;
      }
      if (!S.pingSent || S.wsHeard >= S.pingSent) {
        if (quiet >= PING_EVERY) probeStream();
      }
      S.pingTimer = setTimeout(tick, 1000);
    };
    S.pingTimer = setTimeout(tick, 1000);
  }
  function probeStream() {
    if (!S.ws || S.ws.readyState !== 1) return;
    try { S.ws.send(JSON.stringify({ type: 'ping' })); S.pingSent = Date.now(); } catch { /* the close handler reconnects */ }
  }
  function reconnectNow() {
    if (S.conv && !S.ws && !S.loading && S.state !== 'closed') { S.wsAttempt = 0; connectStream(); return; }
    // Back online, or the page shown again: the socket may have died meanwhile without a word.
    if (S.ws && (!S.pingSent || S.wsHeard >= S.pingSent)) probeStream();
  }

  // ---------- rendering ----------
  function resetMessages() {
    parkCards();
    for (const li of [...E.messages.children]) if (!li.dataset.pending) li.remove();
    S.known.clear();
    S.maxSeq = 0;
    S.seqs.clear();
    S.gapless = 0;
  }

  function renderMessage(m) {
    const role = ['customer', 'bot', 'agent', 'system'].includes(m.role) ? m.role : 'system';
    const li = mk('li', `msg msg--${role}`);
    li.dataset.role = role;
    li.dataset.id = m.id;
    if (m.seq != null) li.dataset.seq = String(m.seq);
    if (m.outcome) li.dataset.outcome = m.outcome;
    if (m.entry && m.entry.id) li.dataset.entry = m.entry.id;
    const agentName = role === 'agent' && m.author && m.author.name;
    if (agentName) {
      // "李雷 · 人工客服": the name is data, the role label follows the page language.
      const label = mk('div', 'msg-label');
      const avatar = mk('span', 'agent-avatar');
      avatar.setAttribute('aria-hidden', 'true');
      avatar.textContent = [...agentName][0];
      const name = mk('span', 'msg-name');
      name.textContent = agentName;
      const roleLabel = mk('span', 'msg-role');
      roleLabel.dataset.i18n = 'roleAgent';
      roleLabel.textContent = t('roleAgent');
      label.append(avatar, name, roleLabel);
      li.append(label);
    } else if (role === 'bot' || role === 'agent') {
      const label = mk('div', 'msg-label');
      label.dataset.i18n = role === 'bot' ? 'roleBot' : 'roleAgent';
      label.textContent = t(label.dataset.i18n);
      li.append(label);
    }
    const bubble = mk('div', 'bubble');
    bubble.textContent = m.text || '';
    const when = m.created_at ? new Date(m.created_at) : null;
    if (when && !isNaN(when)) {
      bubble.title = when.toLocaleString(S.locale);
      li.dataset.at = String(when.getTime());
    }
    li.append(bubble);
    if (role === 'bot' && m.generated) {
      // Labelled as generated content: it is not an answer people wrote.
      const cap = mk('div', 'msg-generated');
      cap.dataset.i18n = 'generated';
      cap.textContent = t('generated');
      li.append(cap);
    }
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
    if (role === 'bot' && FLAGGABLE.includes(m.outcome)) li.append(renderFeedback(m.id));
    return li;
  }

  // A thumbs-down outline (the Feather icon's shape), drawn in the text colour.
  function thumbDownIcon() {
    const NS = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(NS, 'svg');
    for (const [k, v] of Object.entries({ viewBox: '0 0 24 24', width: '15', height: '15', fill: 'none', stroke: 'currentColor',
      'stroke-width': '2', 'stroke-linecap': 'round', 'stroke-linejoin': 'round', 'aria-hidden': 'true', class: 'thumb-down' })) {
      svg.setAttribute(k, v);
    }
    const path = document.createElementNS(NS, 'path');
    path.setAttribute('d', 'M10 15v4a3 3 0 0 0 3 3l4-9V2H5.72a2 2 0 0 0-2 1.7l-1.38 9a2 2 0 0 0 2 2.3zm7-13h2.67A2.31 2.31 0 0 1 22 4v7a2.31 2.31 0 0 1-2.33 2H17');
    svg.append(path);
    return svg;
  }

  // The thumbs-down under a bot answer: a click opens an optional reason and Send.
  const i18nEl = (tag, cls, key) => { const el = mk(tag, cls); el.dataset.i18n = key; el.textContent = t(key); return el; };
  function renderFeedback(id) {
    const box = mk('div', 'feedback');
    if (S.conv && Array.isArray(S.conv.flagged) && S.conv.flagged.includes(id)) {
      box.dataset.state = 'done';
      box.append(i18nEl('span', 'feedback-done', 'flagged'));
      return box;
    }
    const thumb = mk('button', 'flag-btn');
    thumb.type = 'button';
    thumb.dataset.i18nLabel = 'flagWrong';
    thumb.dataset.i18nTitle = 'flagTitle';
    thumb.setAttribute('aria-label', t('flagWrong'));
    thumb.title = t('flagTitle');
    thumb.setAttribute('aria-expanded', 'false');
    thumb.append(thumbDownIcon());
    const form = mk('form', 'feedback-form');
    form.hidden = true;
    form.noValidate = true;
    const reason = mk('input', 'feedback-reason');
    reason.type = 'text';
    reason.maxLength = 500;
    reason.dataset.i18nPlaceholder = 'flagReason';
    reason.dataset.i18nLabel = 'flagReason';
    reason.placeholder = t('flagReason');
    reason.setAttribute('aria-label', t('flagReason'));
    const sendB = i18nEl('button', 'feedback-send', 'flagSend');
    sendB.type = 'submit';
    const cancel = i18nEl('button', 'feedback-cancel', 'flagCancel');
    cancel.type = 'button';
    const err = mk('p', 'feedback-error');
    err.setAttribute('role', 'alert');
    err.hidden = true;
    form.append(reason, sendB, cancel, err);
    const open = (on) => {
      form.hidden = !on;
      thumb.setAttribute('aria-expanded', String(on));
      box.dataset.state = on ? 'open' : '';
      if (on) reason.focus();
    };
    thumb.addEventListener('click', () => open(form.hidden));
    cancel.addEventListener('click', () => { open(false); thumb.focus(); }); // the focused Cancel is hidden
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!S.conv || S.flagging.has(id)) return;
      S.flagging.add(id);
      sendB.disabled = true;
      showCardError(err, '');
      try {
        await api('POST', convPath(`/messages/${encodeURIComponent(id)}/flag`), { reason: reason.value.trim() }, S.conv.token);
        remember({ flagged: [...((S.conv && S.conv.flagged) || []), id].slice(-200) });
        box.dataset.state = 'done';
        box.replaceChildren(i18nEl('span', 'feedback-done', 'flagged'));
      } catch (e2) {
        showCardError(err, failText(e2));
        sendB.disabled = false;
      } finally {
        S.flagging.delete(id);
      }
    });
    box.append(thumb, form);
    return box;
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
    // By its client_id: the text as stored may differ (personal data masked).
    if (m.role === 'customer' && p && !p.adopted &&
        (m.client_id ? m.client_id === p.payload.client_id : p.payload.text === m.text)) { p.adopted = true; p.remove(); }
    // A bubble marked "not sent" whose message was stored after all (the answer lost on the way, the stream
    // bringing it later): it was sent, and a retry would only be a second message.
    if (m.role === 'customer' && m.client_id) {
      let dropped = false;
      for (const li of [...E.messages.children]) {
        if (li.dataset.pending && li !== p && li.payload && li.payload.client_id === m.client_id) {
          li.adopted = true; li.remove(); dropped = true;
        }
      }
      if (dropped) storeUnsent();
    }
    const near = isNearBottom();
    const li = renderMessage(m);
    S.known.set(m.id, li);
    if (typeof m.seq === 'number') {
      if (m.seq > S.maxSeq) S.maxSeq = m.seq;
      S.seqs.add(m.seq);
      while (S.seqs.has(S.gapless + 1)) S.seqs.delete(++S.gapless);
    }
    insertBySeq(li, m.seq);
    stampTimes();
    // The agent serving is the author of their replies and of the line that
    // says they joined (a transfer sends no state frame: the state stays).
    const serving = m.role === 'agent' || (m.role === 'system' && m.outcome === 'joined');
    if (serving && m.author && (m.author.name || '') !== S.agentName) {
      S.agentName = m.author.name || '';
      renderState();
    }
    updateChoices();
    updateCards();
    if (near || m.role === 'customer') scrollToBottom();
  }

  // Time stamps between messages, as chat apps show them: before the first message, and
  // wherever five minutes or a day passed since the one before; with the date unless it
  // is today (a conversation reopened days later says when it happened; on a phone there
  // is no tooltip to hover).
  const STAMP_GAP = 5 * 60 * 1000;
  function stampText(when) {
    const now = new Date();
    const time = when.toLocaleTimeString(S.locale, { hour: '2-digit', minute: '2-digit' });
    if (when.toDateString() === now.toDateString()) return time;
    const date = when.toLocaleDateString(S.locale, when.getFullYear() === now.getFullYear()
      ? { month: 'short', day: 'numeric' } : { year: 'numeric', month: 'short', day: 'numeric' });
    return `${date} ${time}`;
  }
  // stampTimes keeps the stamps as they should be, touching only what changed: the list is a
  // live region, and a stamp removed and put back would be read out again with every message.
  function stampTimes() {
    const keep = new Set();
    let prev = null;
    for (const li of [...E.messages.children]) {
      const at = Number(li.dataset.at || 0);
      if (!at || li.classList.contains('msg-stamp')) continue;
      const when = new Date(at);
      if (!prev || at - prev.getTime() >= STAMP_GAP || when.toDateString() !== prev.toDateString()) {
        const iso = when.toISOString(), text = stampText(when);
        let stamp = li.previousElementSibling;
        const tm = stamp && stamp.classList.contains('msg-stamp') ? stamp.firstElementChild : null;
        if (!tm || tm.dateTime !== iso || tm.textContent !== text) {
          stamp = mk('li', 'msg-stamp');
          const t2 = document.createElement('time');
          t2.dateTime = iso;
          t2.textContent = text;
          stamp.append(t2);
          E.messages.insertBefore(stamp, li);
        }
        keep.add(stamp);
      }
      prev = when;
    }
    for (const el of [...E.messages.querySelectorAll(':scope > li.msg-stamp')]) if (!keep.has(el)) el.remove();
  }

  // Replies that arrive while the customer is not looking (another tab, or the widget's panel
  // closed) are counted: in the page's title, and on the widget's launcher.
  function noteUnread(m) {
    if (m.role === 'customer' || !(document.hidden || !S.panelOpen)) return;
    S.unread = (S.unread || 0) + 1;
    showUnread();
  }
  function clearUnread() {
    if (!S.unread) return;
    S.unread = 0;
    showUnread();
  }
  function showUnread() {
    document.title = (S.unread ? `(${S.unread}) ` : '') + t('title');
    if (S.embed && window.parent !== window) window.parent.postMessage({ type: 'steward:unread', count: S.unread }, '*');
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
    const prev = S.state;
    S.state = state;
    // The widget keeps the chat loaded on the shop's next pages while people have the
    // conversation, so that their replies are counted on its launcher there too.
    if (S.embed && window.parent !== window && state !== prev) {
      window.parent.postMessage({ type: 'steward:active', on: state === 'queued' || state === 'assigned' }, '*');
    }
    if (state !== 'queued') {
      S.queue = null;
      if (!S.offlineSent) S.offlineRequested = false; // an agent came (or it closed) before they wrote
    }
    // Back in the queue (the agent left): whoever comes next is named afresh.
    if (state === 'queued') S.agentName = '';
    renderState();
    updateChoices();
    updateComposer();
    updateCards();
    // The queue position and the agent's name come with GET; fetch them if the change came without.
    clearTimeout(S.detailsTimer);
    if (state !== prev && ((state === 'queued' && !S.queue) || (state === 'assigned' && !S.agentName))) {
      S.detailsTimer = setTimeout(() => {
        if (S.state === state && (state === 'queued' ? !S.queue : !S.agentName)) refresh();
      }, 800);
    }
  }
  function renderState() {
    const s = S.state;
    const shown = s === 'queued' || s === 'assigned' || s === 'closed';
    E.banner.dataset.state = s;
    E.banner.hidden = !shown;
    E.stateText.textContent = s === 'assigned' && S.agentName ? tf('assignedNamed', { name: S.agentName }) : shown ? t(s) : '';
    E.newConv.hidden = s !== 'closed';
    E.handoff.hidden = s !== 'bot';
    E.leaveMsg.hidden = s !== 'queued' || S.offlineRequested || !E.offlineCard.hidden;
    renderQueue();
    updateQuickRow();
  }
  // "You are number 3 in the queue · about 4 min", the number in #queue-position.
  function renderQueue() {
    const q = S.state === 'queued' ? S.queue : null;
    E.queueStatus.hidden = !q || !q.position;
    if (E.queueStatus.hidden) return;
    const [before, after = ''] = t('queuePosition').split('{n}');
    E.queueBefore.textContent = before;
    E.queuePosition.textContent = String(q.position);
    E.queueAfter.textContent = after;
    const w = Number(q.wait_seconds);
    // A wait that goes on when the desk opens again says so; a long one is said in hours.
    const h = Math.max(1, Math.round(w / 3600));
    E.queueWait.textContent = !(w > 0) ? '' : q.after_hours ? tf('queueWaitClosed', { h })
      : w < 60 ? t('queueWaitShort') : w >= 5400 ? tf('queueWaitHours', { h }) : tf('queueWait', { m: Math.ceil(w / 60) });
  }
  // The row above the input holds the handoff button and the counter; collapse it when both are hidden.
  const updateQuickRow = () => { E.quick.hidden = E.handoff.hidden && E.counter.hidden; };

  function setConn(kind) {
    S.connKind = kind;
    E.conn.hidden = !kind;
    E.conn.dataset.kind = kind || '';
    E.connText.textContent = kind === 'failed' ? t('loadFailed') : kind ? t(kind) : '';
    E.connRetry.hidden = kind !== 'failed';
    renderPresence();
  }

  function updateComposer() {
    const n = charCount(E.input.value.trim());
    const closed = S.state === 'closed';
    E.input.disabled = closed;
    E.input.placeholder = t(closed ? 'placeholderClosed' : 'placeholder');
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
    document.title = (S.unread ? `(${S.unread}) ` : '') + t('title');
    document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    document.querySelectorAll('[data-i18n-label]').forEach((el) => { el.setAttribute('aria-label', t(el.dataset.i18nLabel)); });
    document.querySelectorAll('[data-i18n-title]').forEach((el) => { el.title = t(el.dataset.i18nTitle); });
    if (E.messages) stampTimes(); // dates in the page's language
    E.lang.dataset.lang = S.locale;
    E.lang.querySelectorAll('.lang-opt').forEach((o) => o.classList.toggle('is-active', o.dataset.lang === S.locale));
    const statusURL = `/status?lang=${encodeURIComponent(S.locale)}`;
    E.noticeLink.href = E.statusLink.href = statusURL;
    renderNotice();
    renderState();
    renderStars();
    renderRatingTags();
    setConn(S.connKind);
    if (E.input) updateComposer(); // the placeholder says whether the conversation has ended
  }

  // ---------- offline message and rating cards ----------
  // Each card is one element, moved into the message it answers (the bot's "offline" turn,
  // the "rating_request" system message) or shown below the transcript.
  function lastMessage(pred) {
    const lis = E.messages.children;
    for (let i = lis.length - 1; i >= 0; i--) if (pred(lis[i])) return lis[i];
    return null;
  }
  function placeCard(card, where) {
    const wasHidden = card.hidden;
    if (!where) {
      card.hidden = true;
      if (card.parentNode !== E.cards) E.cards.append(card);
      return;
    }
    card.hidden = false;
    if (card.parentNode !== where) where.append(card);
    if (wasHidden) scrollToBottom();
  }
  function parkCards() { placeCard(E.offlineCard, null); placeCard(E.ratingCard, null); }

  function updateCards() {
    if (!E.cards) return;
    // Offline form: for an offline turn newer than the last message left, or on request while queued.
    // A "notice" turn (an incident keeps the bot from a kind of question) offers it as well.
    const off = lastMessage((li) => li.dataset.role === 'bot' && (li.dataset.outcome === 'offline' || li.dataset.outcome === 'notice'));
    const offSeq = off ? Number(off.dataset.seq || 0) : 0;
    const thanks = lastMessage((li) => li.dataset.role === 'bot' && li.dataset.outcome === 'ticket');
    const thanksSeq = thanks ? Number(thanks.dataset.seq || 0) : 0;
    if (S.conv && off && thanksSeq > offSeq && offSeq > (S.conv.offline_seq || 0) && !S.offlineBusy) {
      // The bot thanked the customer for a message after this offer: it was left, though its
      // answer was lost on the way (the card said "could not send", and a second tap left it
      // twice) or it was left from another tab.
      remember({ offline_seq: thanksSeq - 1 });
      S.offlineRequested = false;
      showCardError(E.offlineError, '');
    } else if (S.offlineRequested && !S.offlineSent && !S.offlineBusy && thanksSeq > (S.offlineRequestedAt || 0)) {
      // The same for a form asked for while queued: its thank-you came, its answer did not.
      remember({ offline_seq: thanksSeq - 1 });
      S.offlineSent = true;
      showCardError(E.offlineError, '');
    }
    const sentSeq = (S.conv && S.conv.offline_seq) || 0;
    let where = null, done = false;
    // An unsent form is offered only while nobody serves the customer: once
    // an agent has joined (or the conversation ended) it would only mislead.
    const unserved = S.state === 'bot' || S.state === 'queued';
    if (off && offSeq > sentSeq) where = unserved ? off : null;
    else if (S.offlineRequested) { where = E.cards; done = S.offlineSent; }
    else if (off) { where = off; done = true; }
    // Once the bot's own thank-you for the message is in the transcript, the
    // card's would say it twice; the card's stays only if that line never came.
    if (done && thanks && thanksSeq > sentSeq) where = null;
    E.offlineForm.hidden = done;
    E.offlineDone.hidden = !done;
    E.offlineQueued.hidden = where !== E.cards || S.state !== 'queued';
    placeCard(E.offlineCard, where);
    E.leaveMsg.hidden = S.state !== 'queued' || !!where;

    // Rating form: once a rating is asked for (the agent's closing message), until rated.
    const ask = lastMessage((li) => li.dataset.role === 'system' && li.dataset.outcome === 'rating_request');
    const rated = !!(S.conv && S.conv.rated);
    const show = (!rated && !!ask) || S.ratingDone; // only when the close asked for one
    E.ratingForm.hidden = rated;
    E.ratingDone.hidden = !rated;
    placeCard(E.ratingCard, show && S.conv ? (ask || E.cards) : null);
    if (show && !rated) loadRatingTags();
  }

  function resetCards() {
    S.queue = null;
    S.agentName = '';
    S.offlineRequested = S.offlineSent = S.ratingDone = false;
    S.ratingScore = 0;
    S.ratingSel.clear();
    E.offlineContact.value = E.offlineMessage.value = E.ratingComment.value = '';
    showCardError(E.offlineError, '');
    showCardError(E.ratingError, '');
    renderStars();
    renderRatingTags();
    parkCards();
  }

  function showCardError(el, msg) { el.textContent = msg; el.hidden = !msg; }
  // What to tell the customer when a form was refused: the server's message
  // in the page's language (it names the field), or, in Chinese where the
  // server has none, a sentence of ours chosen by the error's code.
  const ERROR_TEXT = {
    invalid: 'errInvalid', conflict: 'errConflict', not_found: 'errGone',
    unauthorized: 'errGone', forbidden: 'errGone', unavailable: 'errUnavailable', internal: 'errInternal',
  };
  const failText = (e) => {
    if (!e || !e.status) return t('sendFailed'); // never reached the server
    if (e.status === 429) return t('tooMany');
    // A proxy's own error page (a 502 in HTML) has no sentence for the customer: ours below.
    if (S.locale === 'en' && e.fromServer && e.message) return e.message;
    if (S.locale !== 'en' && e.zh) return e.zh;
    // Too large is an invalid input to the API (code invalid); its status tells it apart.
    if (e.status >= 502 && e.status <= 504) return t('errUnavailable'); // a proxy in front found no server
    return t(e.status === 413 ? 'errTooLarge' : (ERROR_TEXT[e.code] || 'errInternal'));
  };

  // Asked again after a message was left, the form opens afresh: the button came back with the
  // thank-you, and a click did nothing while the last form still counted as sent.
  function requestOffline() {
    S.offlineRequested = true;
    S.offlineRequestedAt = S.maxSeq; // a thank-you after this is for the message left from here
    S.offlineSent = false;
    updateCards();
    E.offlineContact.focus();
  }

  async function submitOffline() {
    if (S.offlineBusy || !S.conv) return;
    const contact = E.offlineContact.value.trim(), message = E.offlineMessage.value.trim();
    if (!contact) {
      showCardError(E.offlineError, t('offlineNeedContact'));
      E.offlineContact.focus();
      return;
    }
    if (!message) {
      showCardError(E.offlineError, t('offlineNeedMessage'));
      E.offlineMessage.focus();
      return;
    }
    S.offlineBusy = true;
    E.offlineSubmit.disabled = true;
    E.offlineSubmit.textContent = t('sending');
    showCardError(E.offlineError, '');
    try {
      // The newest message before this one: the bot's thank-you comes after
      // it, and may arrive on the stream before the answer to this request.
      const before = S.maxSeq;
      await api('POST', convPath('/offline-message'), { contact, message }, S.conv.token);
      remember({ offline_seq: before });
      S.offlineSent = true;
      E.offlineMessage.value = '';
      updateCards();
    } catch (e) {
      showCardError(E.offlineError, failText(e));
    } finally {
      S.offlineBusy = false;
      E.offlineSubmit.disabled = false;
      E.offlineSubmit.textContent = t('offlineSubmit');
      updateCards(); // the bot's thank-you may have come while this was on its way (see updateCards)
    }
  }

  function setScore(n) {
    S.ratingScore = n;
    showCardError(E.ratingError, '');
    renderStars();
  }
  function renderStars() {
    if (!E.stars) return;
    E.stars.forEach((b) => {
      const n = Number(b.dataset.score);
      b.classList.toggle('is-on', n <= S.ratingScore);
      b.setAttribute('aria-pressed', String(n === S.ratingScore));
      b.setAttribute('aria-label', tf(n === 1 ? 'ratingStarOne' : 'ratingStar', { n }));
      b.title = t(`rating${n}`);
    });
    E.scoreLabel.textContent = S.ratingScore ? t(`rating${S.ratingScore}`) : '';
  }

  async function loadRatingTags() {
    if (S.ratingTags || S.ratingTagsLoading) return;
    S.ratingTagsLoading = true;
    try {
      const d = await api('GET', '/api/v1/rating-tags');
      S.ratingTags = Array.isArray(d.tags) ? d.tags : [];
      renderRatingTags();
    } catch {
      S.ratingTagsLoading = false; // the form works without tags; try again next time it shows
    }
  }
  const tagLabel = (tag) => (tag.label && (tag.label[S.locale] || tag.label.en || tag.label['zh-CN'])) || tag.id;
  function renderRatingTags() {
    if (!E.ratingTags) return;
    const tags = S.ratingTags || [];
    E.ratingTags.replaceChildren(...tags.map((tag) => {
      const b = mk('button', 'rating-tag');
      b.type = 'button';
      b.dataset.tag = tag.id;
      b.textContent = tagLabel(tag);
      b.setAttribute('aria-pressed', String(S.ratingSel.has(tag.id)));
      b.addEventListener('click', () => {
        if (S.ratingSel.has(tag.id)) S.ratingSel.delete(tag.id); else S.ratingSel.add(tag.id);
        b.setAttribute('aria-pressed', String(S.ratingSel.has(tag.id)));
      });
      return b;
    }));
    E.ratingTags.hidden = !tags.length;
  }

  async function submitRating() {
    if (S.ratingBusy || !S.conv) return;
    if (!S.ratingScore) { showCardError(E.ratingError, t('ratingNeedScore')); E.stars[0].focus(); return; }
    S.ratingBusy = true;
    E.ratingSubmit.disabled = true;
    E.ratingSubmit.textContent = t('sending');
    showCardError(E.ratingError, '');
    const body = { score: S.ratingScore, tags: [...S.ratingSel], comment: E.ratingComment.value.trim() };
    try {
      await api('POST', convPath('/rating'), body, S.conv.token);
      ratingFinished();
    } catch (e) {
      if (e && e.status === 409) ratingFinished(); // rated already (another tab): thank them all the same
      else showCardError(E.ratingError, failText(e));
    } finally {
      S.ratingBusy = false;
      E.ratingSubmit.disabled = false;
      E.ratingSubmit.textContent = t('ratingSubmit');
    }
  }
  function ratingFinished() {
    remember({ rated: true });
    S.ratingDone = true;
    updateCards();
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

  // The messages not (yet) sent are kept in this tab's session storage, by conversation, so that a
  // reload does not lose what the customer wrote while the network was down: they come back as
  // "not sent" bubbles to retry (with their keys: one stored after all is dropped as the
  // transcript loads, or stored once if retried). Session storage, not local: the customer's
  // words stay on this device only as long as the tab does.
  // Each record names the customer it is for (who), as the stored conversation does.
  const unsentKey = (id) => `steward.chat.unsent.${id}`;
  function storeUnsent() {
    if (!S.conv) return;
    const list = [...E.messages.querySelectorAll('.msg[data-pending]')].filter((li) => !li.adopted && li.payload)
      .map((li) => ({ text: li.payload.text, choice: li.payload.choice, client_id: li.payload.client_id }));
    try {
      if (list.length) sessionStorage.setItem(unsentKey(S.conv.id), JSON.stringify({ who: S.conv.who || '', list }));
      else sessionStorage.removeItem(unsentKey(S.conv.id));
    } catch { /* storage blocked or full: they live as long as the page */ }
  }
  function forgetUnsent(id) { try { sessionStorage.removeItem(unsentKey(id)); } catch { /* blocked */ } }
  // readUnsent returns conversation conv's stored unsent messages, if they are its customer's.
  function readUnsent(conv) {
    if (!conv) return [];
    try {
      const v = JSON.parse(sessionStorage.getItem(unsentKey(conv.id)) || 'null');
      return v && v.who === (conv.who || '') && Array.isArray(v.list) ? v.list : [];
    } catch { return []; }
  }
  function restoreUnsent(list) {
    const shown = new Set([...E.messages.querySelectorAll('.msg[data-pending]')].map((li) => li.payload && li.payload.client_id));
    for (const u of list) {
      if (!u || typeof u.text !== 'string' || !u.text || typeof u.client_id !== 'string' || shown.has(u.client_id)) continue;
      const payload = { text: u.text, client_id: u.client_id };
      if (typeof u.choice === 'string' && u.choice) payload.choice = u.choice;
      const li = createPending(payload);
      li.classList.add('is-failed');
      li.querySelector('.msg-retry').hidden = false;
    }
  }

  const postMessage = (payload) => api('POST', convPath('/messages'), payload, S.conv.token);

  // A message's key, kept across its retries: the server stores a message sent again with the
  // same key once, and answers with the turn it stored (the answer to the first try may have
  // been lost on the way).
  const newClientID = () => {
    const b = new Uint8Array(12);
    crypto.getRandomValues(b);
    return `w-${[...b].map((x) => x.toString(16).padStart(2, '0')).join('')}`;
  };

  // Sends payload {text, choice?}. `li` is the existing bubble when retrying. Returns true if started.
  function send(payload, li) {
    if (S.inFlight || !S.conv || S.loading || S.state === 'closed') return false;
    if (!payload.client_id) payload.client_id = newClientID();
    li = li || createPending(payload);
    storeUnsent();
    li.classList.remove('is-failed');
    li.classList.add('is-sending');
    li.querySelector('.msg-retry').hidden = true;
    // This send, while it is the conversation's: the customer may start another conversation
    // (or the shop sign in another customer) before the answer comes.
    const mine = {};
    let conv = S.conv;
    S.sending = mine;
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
          if (!isGone(e) || S.conv !== conv) throw e;
          // The stored conversation no longer exists: start a new one and resend once.
          if (!(await startNew())) throw e;
          conv = S.conv;
          S.sending = mine;
          S.inFlight = true;
          S.sendingEl = li;
          updateComposer();
          res = await postMessage(payload);
        }
        // Another conversation is on screen now: this answer is the old one's, which keeps it.
        if (S.conv !== conv) { li.remove(); return; }
        li.remove();
        // The stream may already have brought something newer (an agent
        // joining right after the handoff): then this turn's state is stale.
        const turnSeq = Math.max(res.customer_message.seq, ...(res.messages || []).map((m) => m.seq));
        const stale = S.maxSeq > turnSeq;
        addMessage(res.customer_message);
        (res.messages || []).forEach(addMessage);
        noticeFrom(res);
        if (!stale) setState(res.state);
        S.resendAttempt = 0;
        if (E.messages.querySelector('.msg.is-failed[data-auto-retry]')) scheduleResend(300); // the next one waiting
      } catch (e) {
        if (!li.adopted) { // if the stream already delivered it, it was sent after all
          li.classList.remove('is-sending');
          li.classList.add('is-failed');
          // A network failure or an unavailable server is tried again by itself, with backoff
          // (the message's key makes that safe); a refusal waits for the customer.
          if (transient(e)) { li.dataset.autoRetry = '1'; scheduleResend(); } else delete li.dataset.autoRetry;
          const retry = li.querySelector('.msg-retry');
          // Refused by a rate limit (429): the same button, saying why.
          retry.dataset.i18n = e && e.status === 429 ? 'tooFast' : 'retry';
          retry.textContent = t(retry.dataset.i18n);
          retry.hidden = false;
          retry.title = failText(e);
        }
        if (e && e.status === 409 && S.conv === conv) refresh(); // e.g. conversation closed meanwhile
      } finally {
        if (S.sending === mine) {
          S.sending = null;
          S.inFlight = false;
          S.sendingEl = null;
          updateChoices();
          updateComposer();
        }
        storeUnsent(); // the conversation on screen's, whichever it is now
      }
    })();
    return true;
  }

  // Messages whose send failed for a reason that passes (no network, 502–504) are sent again
  // automatically, oldest first, one at a time: 2 s, 4 s, … up to 30 s apart while they keep
  // failing, and at once when the stream comes back.
  const transient = (e) => !!e && (e.status === 0 || (e.status >= 502 && e.status <= 504));
  function scheduleResend(delay) {
    clearTimeout(S.resendTimer);
    if (delay === undefined) delay = Math.min(2000 * 2 ** (S.resendAttempt || 0), BACKOFF_MAX);
    S.resendTimer = setTimeout(resendNext, delay);
  }
  function resendNext() {
    const li = E.messages.querySelector('.msg.is-failed[data-auto-retry]');
    if (!li) { S.resendAttempt = 0; return; }
    if (S.inFlight || !S.conv || S.loading) { scheduleResend(1000); return; }
    S.resendAttempt = (S.resendAttempt || 0) + 1;
    send(li.payload, li);
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
      queueStatus: $('queue-status'), queueBefore: $('queue-before'), queuePosition: $('queue-position'),
      queueAfter: $('queue-after'), queueWait: $('queue-wait'), leaveMsg: $('leave-message-btn'), cards: $('cards'),
      offlineCard: $('offline-card'), offlineForm: $('offline-form'), offlineContact: $('offline-contact'),
      offlineMessage: $('offline-message'), offlineSubmit: $('offline-submit'), offlineError: $('offline-error'),
      offlineDone: $('offline-done'), offlineQueued: $('offline-queued'), ratingCard: $('rating-card'), ratingForm: $('rating-form'),
      stars: [...document.querySelectorAll('#rating-form button.star')], scoreLabel: $('rating-score-label'),
      ratingTags: $('rating-tags'), ratingComment: $('rating-comment'), ratingSubmit: $('rating-submit'),
      ratingError: $('rating-error'), ratingDone: $('rating-done'), notice: $('service-notice'),
      noticeText: $('service-notice-text'), noticeLink: $('service-notice-link'), statusLink: $('status-link'),
      presence: $('presence'), presenceText: $('presence-text'),
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
    E.leaveMsg.addEventListener('click', requestOffline);
    E.offlineForm.addEventListener('submit', (e) => { e.preventDefault(); submitOffline(); });
    E.offlineMessage.addEventListener('input', () => showCardError(E.offlineError, ''));
    E.ratingForm.addEventListener('submit', (e) => { e.preventDefault(); submitRating(); });
    E.stars.forEach((b) => {
      b.addEventListener('click', () => setScore(Number(b.dataset.score)));
      b.addEventListener('mouseenter', () => { b.parentNode.dataset.hover = b.dataset.score; });
      b.addEventListener('mouseleave', () => { delete b.parentNode.dataset.hover; });
    });
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
      // Tell the widget the chat has loaded in its frame (it offers a new window if it never hears this).
      if (window.parent !== window) window.parent.postMessage({ type: 'steward:ready' }, '*');
      E.close.hidden = false;
      E.close.addEventListener('click', closeEmbed);
      // Not an Escape that cancels an input method's candidates (Chinese typing), nor one a field handled.
      document.addEventListener('keydown', (e) => {
        if (e.key === 'Escape' && !e.isComposing && e.keyCode !== 229 && !e.defaultPrevented) closeEmbed();
      });
      // The widget says when its panel opens and closes: poll the status only while it is open.
      window.addEventListener('message', (ev) => {
        const d = ev.data;
        if (ev.source !== window.parent || !d || typeof d !== 'object' || d.type !== 'steward:panel') return;
        S.panelOpen = !!d.open;
        if (S.panelOpen) { pollStatus(); clearUnread(); } else clearTimeout(S.statusTimer);
      });
    }
    window.addEventListener('online', reconnectNow);
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) { reconnectNow(); pollStatus(); if (S.panelOpen) clearUnread(); }
    });

    if (S.awaitIdentity) waitForIdentity().then(() => { followIdentity(); load(); });
    else {
      if (S.embed) followIdentity();
      load();
    }
    pollStatus();
  }

  // waitForIdentity resolves when the widget has sent the shop's identity token, or after
  // IDENTITY_WAIT without one (the chat then starts anonymous: it must never stay blank).
  const IDENTITY_WAIT = 3000;
  function waitForIdentity() {
    return new Promise((resolve) => {
      const done = () => { window.removeEventListener('message', onMsg); clearTimeout(timer); resolve(); };
      const onMsg = (ev) => {
        const d = ev.data;
        if (ev.source !== window.parent || !d || typeof d !== 'object' || d.type !== 'steward:identity') return;
        takeIdentity(d.token);
        done();
      };
      const timer = setTimeout(done, IDENTITY_WAIT);
      window.addEventListener('message', onMsg);
    });
  }
  function takeIdentity(token) {
    const ok = typeof token === 'string' && token.length <= 4096;
    S.identity = ok ? token : '';
    S.who = ok ? identitySubject(token) : '';
  }
  // After the start, the widget sends the identity again when the shop says the customer signed
  // in or out (Steward.identify): another customer gets a conversation of their own.
  function followIdentity() {
    window.addEventListener('message', (ev) => {
      const d = ev.data;
      if (ev.source !== window.parent || !d || typeof d !== 'object' || d.type !== 'steward:identity') return;
      const was = S.who;
      takeIdentity(d.token);
      if (S.who !== was) {
        // The messages the last customer has not sent yet (or could retry) are theirs: another
        // customer's conversation must not show them, nor send them as its own.
        for (const li of [...E.messages.querySelectorAll('.msg[data-pending]')]) li.remove();
        startNew({ forget: true });
      }
    });
  }
  // identitySubject reads the customer id ("sub") of a JWT without verifying it: the server
  // verifies; here it only tells one customer's stored conversation from another's.
  function identitySubject(token) {
    try {
      const b = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      const bytes = Uint8Array.from(atob(b + '='.repeat((4 - (b.length % 4)) % 4)), (c) => c.charCodeAt(0));
      const claims = JSON.parse(new TextDecoder().decode(bytes));
      return typeof claims.sub === 'string' ? claims.sub : '';
    } catch { return ''; }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
