// Steward chat widget for shop pages:
//   <script src="https://steward.example.com/widget.js" async
//           data-lang="zh-CN" data-position="right" data-title="在线客服"
//           data-identity="JWT the shop's server signed for its signed-in customer (optional)"></script>
// Runs on the shop's own site, so the Steward origin comes from this script's src,
// never from window.location. Styles are set through element.style (no <style> element)
// inside a Shadow DOM so the host page's CSS cannot break the widget.
(() => {
  'use strict';
  if (window.Steward && window.Steward.__stewardWidget) return; // loaded twice: keep the first
  const ROOT_ID = 'steward-widget-root';

  // currentScript is only valid now (synchronously); fall back to searching for the tag.
  const script = document.currentScript ||
    [...document.querySelectorAll('script[src]')].reverse().find((s) => /\/widget\.js(?:[?#]|$)/.test(s.src));
  if (!script || !script.src) {
    console.warn('[steward] could not determine the widget origin');
    return;
  }
  const ORIGIN = new URL(script.src, document.baseURI).origin;
  const opts = script.dataset;

  const normLang = (v) => {
    v = String(v || '').toLowerCase();
    return v.startsWith('zh') ? 'zh-CN' : v.startsWith('en') ? 'en' : null;
  };
  // The shop's own language first (data-lang, then the page's lang): a
  // Chinese shop showed an English chat to whoever set their browser to English.
  const lang = normLang(opts.lang) || normLang(document.documentElement.lang) ||
    (String(navigator.language || '').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en');
  const side = opts.position === 'left' ? 'left' : 'right';
  const other = side === 'left' ? 'right' : 'left';
  const T = {
    'zh-CN': { open: '打开在线客服', close: '关闭在线客服', title: '在线客服',
      failed: '客服窗口暂时无法在本页打开。', newTab: '在新窗口中打开在线客服', dismiss: '关闭',
      unread: (n) => `${n} 条新消息` },
    en: { open: 'Open customer service chat', close: 'Close customer service chat', title: 'Customer service',
      failed: 'The chat could not be opened on this page.', newTab: 'Open the chat in a new window', dismiss: 'Close',
      unread: (n) => (n === 1 ? '1 new message' : `${n} new messages`) },
  }[lang];
  const tooltip = opts.title || T.title;
  // A signed-in customer's identity, signed by the shop's server (docs/security.md). It goes to
  // the chat by postMessage once the chat has loaded, never in a URL; the frame's URL only says
  // that one is coming, so that the chat waits for it before starting a conversation.
  const isToken = (v) => typeof v === 'string' && v.length <= 4096 && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(v);
  let identity = isToken(opts.identity) ? opts.identity : '';

  const small = window.matchMedia('(max-width: 480px)');
  const reduceMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  const css = (el, props) => { for (const k in props) el.style.setProperty(k, props[k]); return el; };

  let host = null, launcher = null, panel = null, iframe = null, iconChat = null, iconClose = null, badge = null;
  // The chat page says when it has loaded in the frame; until then (or for good, when this site is
  // not one Steward may be framed by) the panel offers the chat in a new window instead.
  const LOAD_WAIT = 6000;
  let loaded = false, fallback = null;
  let isOpen = false, openWhenMounted = false;

  // ---------- icons (SVG via DOM API, no innerHTML) ----------
  function svg(pathD, stroke) {
    const NS = 'http://www.w3.org/2000/svg';
    const s = document.createElementNS(NS, 'svg');
    s.setAttribute('viewBox', '0 0 24 24');
    s.setAttribute('width', '26');
    s.setAttribute('height', '26');
    s.setAttribute('aria-hidden', 'true');
    s.setAttribute('focusable', 'false');
    const p = document.createElementNS(NS, 'path');
    p.setAttribute('d', pathD);
    if (stroke) {
      p.setAttribute('fill', 'none');
      p.setAttribute('stroke', 'currentColor');
      p.setAttribute('stroke-width', '2.2');
      p.setAttribute('stroke-linecap', 'round');
    } else {
      p.setAttribute('fill', 'currentColor');
    }
    s.appendChild(p);
    css(s, { display: 'block', 'pointer-events': 'none' });
    return s;
  }

  // ---------- DOM ----------
  function mount() {
    if (host) return true;
    if (!document.body) return false;
    if (document.getElementById(ROOT_ID)) return false; // another copy already mounted

    host = document.createElement('div');
    host.id = ROOT_ID;
    css(host, { all: 'initial', position: 'static' });
    const root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;

    launcher = document.createElement('button');
    launcher.type = 'button';
    launcher.className = 'steward-launcher';
    launcher.title = tooltip;
    launcher.setAttribute('aria-label', T.open);
    launcher.setAttribute('aria-expanded', 'false');
    launcher.setAttribute('aria-controls', 'steward-panel');
    css(launcher, {
      all: 'initial', position: 'fixed', bottom: '20px', [side]: '20px', [other]: 'auto',
      'z-index': '2147483001', width: '56px', height: '56px', 'border-radius': '50%',
      display: 'flex', 'align-items': 'center', 'justify-content': 'center',
      background: '#2563eb', color: '#ffffff', cursor: 'pointer', 'box-sizing': 'border-box',
      'box-shadow': '0 6px 20px rgba(15, 23, 42, 0.28)',
      transition: reduceMotion ? 'none' : 'transform 0.15s ease, background-color 0.15s ease',
      '-webkit-tap-highlight-color': 'transparent',
    });
    iconChat = svg('M4 6a2 2 0 0 1 2-2h12a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H9l-5 4z');
    iconClose = svg('M6 6l12 12M18 6L6 18', true);
    iconClose.style.setProperty('display', 'none');
    // Replies that came while the panel was closed (the chat page counts them).
    badge = document.createElement('span');
    badge.className = 'steward-badge';
    css(badge, {
      all: 'initial', position: 'absolute', top: '-2px', [other]: '-2px', 'min-width': '20px', height: '20px',
      padding: '0 5px', 'box-sizing': 'border-box', 'border-radius': '10px', background: '#dc2626', color: '#fff',
      font: '600 12px/20px system-ui, -apple-system, sans-serif', 'text-align': 'center', display: 'none',
      'pointer-events': 'none',
    });
    launcher.append(iconChat, iconClose, badge);
    launcher.addEventListener('click', toggle);
    launcher.addEventListener('mouseenter', () => css(launcher, { transform: 'scale(1.06)', background: '#1d4ed8' }));
    launcher.addEventListener('mouseleave', () => css(launcher, { transform: 'none', background: '#2563eb' }));
    launcher.addEventListener('focus', () => css(launcher, { outline: '3px solid rgba(37, 99, 235, 0.45)', 'outline-offset': '3px' }));
    launcher.addEventListener('blur', () => css(launcher, { outline: 'none' }));

    panel = document.createElement('div');
    panel.id = 'steward-panel';
    panel.className = 'steward-panel';
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-label', tooltip);
    css(panel, {
      all: 'initial', position: 'fixed', 'z-index': '2147483000', overflow: 'hidden',
      display: 'block', 'box-sizing': 'border-box', background: '#ffffff',
      'box-shadow': '0 16px 48px rgba(15, 23, 42, 0.28)',
    });
    setPanelVisible(false);
    layout();

    root.append(panel, launcher);
    document.body.appendChild(host);

    if (small.addEventListener) small.addEventListener('change', layout);
    else if (small.addListener) small.addListener(layout);
    return true;
  }

  // Desktop: ~380×600 card above the launcher. Small screens: full screen.
  function layout() {
    if (!panel) return;
    if (small.matches) {
      css(panel, {
        top: '0', left: '0', right: '0', bottom: '0', width: '100%', height: '100%',
        'max-width': 'none', 'max-height': 'none', 'border-radius': '0',
      });
    } else {
      css(panel, {
        top: 'auto', bottom: '88px', [side]: '20px', [other]: 'auto',
        width: '380px', height: '600px', 'max-width': 'calc(100vw - 40px)',
        'max-height': 'calc(100vh - 108px)', 'border-radius': '16px',
      });
    }
    // On small screens the chat page's own close button replaces the launcher, once the page
    // is there to show it: while it loads, or when it cannot load here, the launcher stays.
    launcher.style.setProperty('display', isOpen && small.matches && loaded ? 'none' : 'flex');
  }

  function setPanelVisible(on) {
    const dur = reduceMotion ? '0s' : '0.18s';
    css(panel, {
      opacity: on ? '1' : '0',
      visibility: on ? 'visible' : 'hidden',
      transform: on || reduceMotion ? 'none' : 'translateY(12px)',
      'pointer-events': on ? 'auto' : 'none',
      // hide only after the fade-out; show at once
      transition: `opacity ${dur} ease, transform ${dur} ease, visibility 0s linear ${on ? '0s' : dur}`,
    });
    panel.setAttribute('aria-hidden', on ? 'false' : 'true');
  }

  function ensureIframe() {
    if (iframe) return;
    iframe = document.createElement('iframe');
    iframe.title = tooltip;
    iframe.src = `${ORIGIN}/chat?embed=1&lang=${encodeURIComponent(lang)}` +
      (opts.title ? `&title=${encodeURIComponent(opts.title)}` : '') + (identity ? '&identity=1' : '');
    iframe.setAttribute('allow', 'clipboard-write');
    css(iframe, {
      all: 'initial', display: 'block', width: '100%', height: '100%', border: '0', margin: '0', padding: '0',
    });
    panel.appendChild(iframe);
    setTimeout(() => { if (!loaded) showFallback(); }, LOAD_WAIT);
  }

  // showFallback covers the frame with a note and a link to the chat in a new window.
  function showFallback() {
    if (fallback || loaded) return;
    console.warn(`[steward] the chat did not load in the widget's frame; if this site (${location.origin}) is ` +
      'not in Steward\'s security.frame_ancestors, Steward refuses to be framed here');
    fallback = document.createElement('div');
    fallback.setAttribute('role', 'alert');
    fallback.className = 'steward-fallback';
    css(fallback, {
      all: 'initial', position: 'absolute', inset: '0', display: 'flex', 'flex-direction': 'column',
      'align-items': 'center', 'justify-content': 'center', gap: '12px', padding: '24px', background: '#fff',
      color: '#1f2328', font: '15px/1.5 system-ui, -apple-system, "PingFang SC", "Microsoft YaHei", sans-serif',
      'text-align': 'center',
    });
    const note = document.createElement('p');
    note.textContent = T.failed;
    css(note, { margin: '0' });
    const link = document.createElement('a');
    link.href = `${ORIGIN}/chat?lang=${encodeURIComponent(lang)}`;
    link.target = '_blank';
    link.rel = 'noopener';
    link.textContent = T.newTab;
    css(link, { color: '#0b6bcb', 'font-weight': '600' });
    // Its own way out: on a phone the panel covers the page.
    const dismiss = document.createElement('button');
    dismiss.type = 'button';
    dismiss.className = 'steward-fallback-close';
    dismiss.textContent = T.dismiss;
    css(dismiss, {
      all: 'initial', cursor: 'pointer', padding: '8px 20px', border: '1px solid #d0d7de', 'border-radius': '8px',
      background: '#f6f8fa', color: '#1f2328', font: 'inherit',
    });
    dismiss.addEventListener('click', close);
    fallback.append(note, link, dismiss);
    panel.appendChild(fallback); // the panel is position: fixed, so inset 0 covers it
  }

  // ---------- public API ----------
  function open() {
    if (!mount()) { openWhenMounted = true; return; }
    ensureIframe();
    isOpen = true;
    if (badge) badge.style.setProperty('display', 'none'); // the chat clears its count when told
    setPanelVisible(true);
    launcher.setAttribute('aria-expanded', 'true');
    launcher.setAttribute('aria-label', T.close);
    iconChat.style.setProperty('display', 'none');
    iconClose.style.setProperty('display', 'block');
    layout();
    tellPanel(true);
    setTimeout(() => { try { iframe.focus(); } catch { /* ignore */ } }, 50);
  }

  function close() {
    openWhenMounted = false;
    if (!host || !isOpen) return;
    isOpen = false;
    setPanelVisible(false);
    launcher.setAttribute('aria-expanded', 'false');
    launcher.setAttribute('aria-label', T.open);
    iconChat.style.setProperty('display', 'block');
    iconClose.style.setProperty('display', 'none');
    layout();
    tellPanel(false);
    // Return focus to the launcher if it was inside the chat.
    if (document.activeElement === host || document.activeElement === iframe) launcher.focus();
  }

  function toggle() { if (isOpen) close(); else open(); }

  // showUnread puts the count of unseen replies on the launcher (none while the panel is open).
  function showUnread(n) {
    if (!badge) return;
    const show = n > 0 && !isOpen;
    badge.textContent = n > 9 ? '9+' : String(n);
    badge.style.setProperty('display', show ? 'block' : 'none');
    launcher.setAttribute('aria-label', show ? `${T.open} (${T.unread(n)})` : isOpen ? T.close : T.open);
  }

  // Tells the chat page whether it is in view: it shows the service notice and polls the
  // status only while the panel is open. Before the page has loaded the message is dropped
  // (the iframe is not at ORIGIN yet), and a page that loads polls from the start.
  function tellPanel(on) {
    try { iframe.contentWindow.postMessage({ type: 'steward:panel', open: on }, ORIGIN); } catch { /* ignore */ }
  }

  // The chat page (in embed mode) asks to be closed; accept it only from the Steward origin.
  window.addEventListener('message', (ev) => {
    if (ev.origin !== ORIGIN) return;
    if (iframe && ev.source !== iframe.contentWindow) return;
    const d = ev.data;
    if (d && typeof d === 'object' && d.type === 'steward:unread') showUnread(Number(d.count) || 0);
    if (d && typeof d === 'object' && d.type === 'steward:ready') {
      loaded = true;
      if (identity) sendIdentity();
      tellPanel(isOpen);
      if (fallback) { fallback.remove(); fallback = null; }
      layout();
    }
    if (d && typeof d === 'object' && d.type === 'steward:close') close();
    if (d && typeof d === 'object' && d.type === 'steward:active') remember(!!d.on);
  });
  // While people have the conversation, the shop's next pages load the chat (hidden) at once: the
  // frame was made only when the panel opened, so a reply that came after the customer moved on to
  // another page was counted nowhere. Session storage: for this tab, as long as it lasts.
  const ACTIVE_KEY = 'steward.widget.active';
  function remember(on) {
    try { if (on) sessionStorage.setItem(ACTIVE_KEY, '1'); else sessionStorage.removeItem(ACTIVE_KEY); } catch { /* ignore */ }
  }
  function active() {
    try { return sessionStorage.getItem(ACTIVE_KEY) === '1'; } catch { return false; }
  }
  // Escape closes the chat when the chat has the focus (the launcher; inside the chat's frame the chat page
  // itself asks), not when the shop's own page handles it (its dialog, its search box) or an input method
  // cancels a candidate.
  document.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape' || !isOpen || ev.defaultPrevented || ev.isComposing || ev.keyCode === 229) return;
    if (host && (document.activeElement === host || host.contains(document.activeElement))) close();
  });

  function sendIdentity() {
    try { iframe.contentWindow.postMessage({ type: 'steward:identity', token: identity }, ORIGIN); } catch { /* ignore */ }
  }
  // identify(token) tells the chat who the customer is after the page has loaded (a single-page
  // shop whose customer signs in or out without a reload); identify(null) on signing out. A
  // different customer gets a conversation of their own.
  function identify(token) {
    const next = isToken(token) ? token : '';
    if (token && !next) console.warn('[steward] identify: not a signed identity token');
    if (next === identity) return;
    identity = next;
    if (iframe && loaded) sendIdentity();
  }

  const api = { open, close, toggle, identify };
  Object.defineProperty(api, '__stewardWidget', { value: true });
  window.Steward = api;

  const start = () => {
    if (!mount()) return;
    if (openWhenMounted) open();
    else if (active()) ensureIframe(); // hidden: the chat counts the replies on the launcher (see remember)
  };
  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start);
})();
