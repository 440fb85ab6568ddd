// Steward knowledge-base console (/console/kb): entries and their review, releases with the quality
// gate, the correction queue, unanswered questions and golden questions.
// Plain ES2020, no dependencies, no build step. The UI strings come from the page itself
// (<script type="application/json" id="i18n">); every piece of data is rendered with textContent only.
'use strict';
(() => {
  const KB = '/api/v1/kb';
  const LOCALES = ['zh-CN', 'en'];
  const SUFFIX = { 'zh-CN': 'zh', en: 'en' }; // editor field ids: ed-answer-zh, ed-answer-en
  const TABS = ['entries', 'reviews', 'releases', 'corrections', 'unanswered', 'golden'];

  // ---------- strings and helpers shared with the other console pages (staff.js) ----------
  const { LANG, t, label, $, mk, btn, enc, showError, chip, toDate, fullTime, later, toast, toastError, api } = window.Staff;
  window.Staff.session.onUnauthorized = window.Staff.goLogin;
  // "en.answer" → "English · answer"; "category" → "category"; "zh-CN" → "Chinese".
  const fieldLabel = (f) => {
    const [a, b] = String(f).split('.');
    if (b) return `${label('locale', a)} · ${label('kbfield', b)}`;
    return LOCALES.includes(a) ? label('locale', a) : label('kbfield', a);
  };

  // ---------- small helpers ----------
  const pct = (x) => `${Math.round(Math.max(0, Math.min(1, Number(x) || 0)) * 1000) / 10}%`;
  const lines = (s) => String(s || '').split('\n').map((x) => x.trim()).filter(Boolean);
  const fmtTime = (v) => {
    const d = toDate(v);
    return d ? d.toLocaleString(LANG, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : '';
  };
  const statusBadge = (status) => {
    const s = mk('span', 'kb-status', label('kbstatus', status));
    s.dataset.status = status || '';
    return s;
  };

  // ---------- state ----------
  const S = {
    me: null,
    tab: 'entries',
    entries: [],      // the list as filtered
    titles: new Map(), // entry id -> title, for every entry
    edit: null,       // {rec: the entry as stored or null when new, flags: [flag ids this change fixes]}
    releases: null,   // GET /kb/releases
    diffPicked: false, // the user chose the releases to compare
    pending: null,    // GET /kb/pending: what Publish would change
    twoPerson: true,  // the entry list's two_person_rule
  };
  let E = {};

  // What the user may do comes from the server (/api/v1/auth/me).
  const can = (perm) => !!(S.perms && S.perms.includes(perm));
  const canPropose = () => can('kb.propose');
  const canReview = () => can('kb.review');
  const canPublish = () => can('kb.publish');
  const canOverride = () => can('kb.override');

  const entryTitle = (id) => S.titles.get(id) || id;
  // An entry's name in the page's language: its title there, its own title, another language's, its id.
  const titleOf = (en) => {
    const loc = (en && en.locales) || {};
    return (loc[LANG] && loc[LANG].title) || en.title || en.display_title ||
      LOCALES.map((l) => loc[l] && loc[l].title).find(Boolean) || en.id;
  };

  // closer returns what closes an inline box put in place of `row`: the box goes, the row comes back, and
  // the focus goes back where it was when the box opened (the button that opened it), not to the page.
  function closer(box, row) {
    const opener = document.activeElement;
    return () => {
      const hadFocus = box.contains(document.activeElement);
      box.remove();
      row.hidden = false;
      if (hadFocus && opener && opener.isConnected && !opener.disabled) opener.focus();
    };
  }

  // ask puts a reason field with OK and Cancel in place of the element `row` (usually a row of buttons)
  // and calls onOk(reason); an error from onOk is shown under the field.
  function ask(row, { placeholder, required = false, ok, danger = false }, onOk) {
    const box = mk('div', 'kb-ask');
    const input = mk('input', 'field field--small kb-ask-input');
    input.type = 'text';
    input.maxLength = 1000;
    input.placeholder = placeholder;
    input.setAttribute('aria-label', placeholder);
    const okB = btn(`btn btn--small ${danger ? 'btn--danger' : 'btn--primary'} kb-ask-ok`, ok);
    const cancel = btn('btn btn--small btn--ghost kb-ask-cancel', t('cancel'));
    const err = mk('p', 'form-error kb-ask-error');
    err.setAttribute('role', 'alert');
    err.hidden = true;
    const close = closer(box, row);
    const go = async () => {
      const v = input.value.trim();
      if (required && !v) { showError(err, t('kbReasonRequired')); input.focus(); return; }
      okB.disabled = true;
      try {
        await onOk(v);
        close();
      } catch (e) {
        showError(err, (e && e.message) || t('requestFailed'));
        okB.disabled = false;
      }
    };
    okB.addEventListener('click', go);
    cancel.addEventListener('click', close);
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.isComposing) { e.preventDefault(); go(); }
      if (e.key === 'Escape' && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); close(); }
    });
    const fields = mk('div', 'kb-row');
    fields.append(input, okB, cancel);
    box.append(fields, err);
    row.hidden = true;
    row.after(box);
    input.focus();
    return box;
  }

  // ---------- boot ----------
  async function boot() {
    E.bootError.hidden = true;
    let me;
    try {
      me = await api('GET', '/api/v1/auth/me');
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
    E.entryNew.hidden = !canPropose();
    E.publishBox.hidden = !canPublish();
    E.goldenForm.hidden = !canReview();
    $('nav-incidents').hidden = !can('incident.read');
    $('nav-audit').hidden = !can('audit.read');
    await loadTitles();
    showTab(tabFromHash());
    document.body.dataset.ready = '1';
  }

  // Every entry's title (and the categories in use), for names in the other tabs and the editor's hints.
  async function loadTitles() {
    try {
      const d = await api('GET', `${KB}/entries?all=true`);
      S.titles.clear();
      const cats = new Set();
      for (const e of d.entries || []) { S.titles.set(e.id, titleOf(e)); if (e.category) cats.add(e.category); }
      $('category-list').replaceChildren(...[...cats].sort().map((c) => new Option(label('category', c), c)));
      $('entry-ids').replaceChildren(...[...S.titles].map(([id, title]) => { const o = new Option(title, id); o.label = title; return o; }));
    } catch (e) { toastError(e); }
  }

  // loadCounts refreshes the badges of the reviews and corrections tabs, but for the tab `loading`,
  // which counts itself as it loads.
  async function loadCounts(loading) {
    try {
      await Promise.all([
        loading === 'reviews' ? null : api('GET', `${KB}/entries?status=in_review`).then((r) => setCount('reviews', (r.entries || []).length)),
        loading === 'corrections' ? null : api('GET', `${KB}/corrections`).then((c) => setCount('corrections', (c.groups || []).length)),
      ]);
    } catch { /* counts are a hint */ }
  }
  function setCount(name, n) {
    const el = $(`count-${name}`);
    el.textContent = String(n);
    el.hidden = !n;
  }

  // ---------- tabs ----------
  function tabFromHash() {
    const h = location.hash.replace(/^#/, '');
    return TABS.includes(h) ? h : 'entries';
  }
  function showTab(name) {
    S.tab = name;
    for (const tname of TABS) {
      const tab = $(`tab-${tname}`);
      tab.setAttribute('aria-selected', String(tname === name));
      tab.tabIndex = tname === name ? 0 : -1;
      $(`section-${tname}`).hidden = tname !== name;
    }
    if (location.hash !== `#${name}`) history.replaceState(history.state, '', `#${name}`);
    loadCounts(name); // the other tab's badge too: opened at #reviews, corrections went uncounted
    loadTab(name);
  }
  function loadTab(name) {
    switch (name) {
      case 'entries': loadEntries(); break;
      case 'reviews': loadReviews(); break;
      case 'releases': loadReleases(); break;
      case 'corrections': loadCorrections(); break;
      case 'unanswered': loadUnanswered(); break;
      case 'golden': loadGolden(); break;
      default: break;
    }
  }

  // ---------- live refresh ----------
  // Other editors approve, publish and roll back while this page is open. Every LIVE_MS, while the
  // page is visible, the tab badges and the lists that change under a publisher (entries, releases
  // and what Publish would ship) reload; review and correction cards, which a reader may be in the
  // middle of, are not redrawn on a timer (their badge says something changed). Coming back to the
  // page reloads the tab shown, whichever it is. Nothing reloads while the user is busy in the tab:
  // a reason box open, the focus on an item of a list (which a reload would redraw), a field of the
  // tab holding text with the focus in it, a publish under way.
  const LIVE_MS = 30000;
  const LIVE_TABS = ['entries', 'releases'];
  function busyInTab() {
    const sec = $(`section-${S.tab}`);
    if (!sec || sec.querySelector('.kb-ask') || E.publishBox.dataset.busy) return true;
    const a = document.activeElement;
    if (!a || !sec.contains(a)) return false;
    return !!a.closest('ul, ol') || (/^(INPUT|TEXTAREA)$/.test(a.tagName) && a.value !== '');
  }
  let liveAt = 0;
  function refreshLive(whole) {
    // Coming back fires both visibilitychange and focus: one reload.
    if (!S.me || document.hidden || busyInTab() || Date.now() - liveAt < 1000) return;
    liveAt = Date.now();
    const reload = whole || LIVE_TABS.includes(S.tab);
    loadCounts(reload ? S.tab : ''); // a tab that reloads counts itself
    if (reload) loadTab(S.tab);
  }

  // =====================================================================
  // Entries and the editor
  // =====================================================================
  async function loadEntries() {
    const status = E.entriesStatus.value, q = E.entriesSearch.value.trim();
    const params = new URLSearchParams();
    if (status) params.set('status', status);
    if (q) params.set('q', q);
    try {
      const d = await api('GET', `${KB}/entries?${params}`);
      if (status !== E.entriesStatus.value || q !== E.entriesSearch.value.trim()) return; // a newer filter is loading
      S.entries = d.entries || [];
      renderEntries();
    } catch (e) { toastError(e); }
  }
  function renderEntries() {
    E.entriesList.replaceChildren(...S.entries.map((en) => {
      const li = mk('li', 'kb-entry');
      li.dataset.id = en.id;
      li.dataset.status = en.status || '';
      li.tabIndex = 0;
      if (S.edit && S.edit.rec && S.edit.rec.id === en.id) li.classList.add('is-open');
      const top = mk('div', 'item-top');
      top.append(mk('span', 'item-name', titleOf(en)), statusBadge(en.status));
      li.append(top);
      const meta = mk('div', 'item-meta');
      meta.append(mk('span', 'kb-id', en.id), mk('span', '', en.category ? label('category', en.category) : ''));
      meta.append(mk('span', '', versionText(en)));
      if (en.essential) meta.append(chip(t('kbEssential')));
      li.append(meta);
      const open = () => openEntry(en.id);
      li.addEventListener('click', open);
      li.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); open(); } });
      return li;
    }));
    E.entriesEmpty.hidden = S.entries.length > 0;
    E.entriesMeta.textContent = t('kbEntriesCount', { n: S.entries.length });
  }
  const versionText = (en) => {
    const parts = [t('kbVersion', { v: en.version })];
    if (en.published_version) parts.push(t('kbPublishedV', { v: en.published_version }));
    else parts.push(t('kbNotPublished'));
    return parts.join(' · ');
  };

  async function openEntry(id, { flags = [], addQuestions = [] } = {}) {
    if (!mayLeaveEditor()) return;
    let rec;
    try {
      rec = await api('GET', `${KB}/entries/${enc(id)}`);
    } catch (e) { toastError(e); return; }
    const locales = structuredClone(rec.locales || {});
    for (const q of addQuestions) { // the customers' wordings become new question variants
      const loc = LOCALES.includes(q.locale) ? q.locale : LOCALES[0];
      const c = locales[loc] || (locales[loc] = { questions: [], answer: '' });
      c.questions = c.questions || [];
      if (!c.questions.some((x) => x.trim().toLowerCase() === q.text.trim().toLowerCase())) c.questions.push(q.text);
    }
    openEditor(rec, { ...rec, locales }, flags, { pristine: !addQuestions.length });
  }

  // newEntry opens an empty editor, prefilled with questions [{text, locale}] and linked to flags.
  function newEntry({ questions = [], flags = [] } = {}) {
    if (!mayLeaveEditor()) return;
    const locales = {};
    for (const q of questions) {
      const loc = LOCALES.includes(q.locale) ? q.locale : LOCALES[0];
      const c = locales[loc] || (locales[loc] = { questions: [], answer: '' });
      if (q.text && !c.questions.includes(q.text)) c.questions.push(q.text);
    }
    openEditor(null, { locales }, flags, { pristine: !questions.length });
  }

  // openEditor shows the editor for rec (null for a new entry) with the content `fill` in the fields.
  // pristine says the fields hold what is stored; otherwise (customers' wordings added) they count
  // as unsaved from the start.
  function openEditor(rec, fill, flags, { pristine = true } = {}) {
    S.edit = { rec, flags: [...flags] };
    if (S.tab !== 'entries') showTab('entries');
    E.editorEmpty.hidden = true;
    E.form.hidden = false;
    showError(E.edError, '');
    E.edId.value = (rec && rec.id) || fill.id || '';
    E.edId.readOnly = !!rec;
    E.edCategory.value = fill.category || '';
    E.edTitle.value = fill.title || '';
    E.edTags.value = (fill.tags || []).join(', ');
    E.edEssential.checked = !!fill.essential;
    for (const loc of LOCALES) {
      const c = (fill.locales || {})[loc] || {};
      $(`ed-title-${SUFFIX[loc]}`).value = c.title || '';
      $(`ed-questions-${SUFFIX[loc]}`).value = (c.questions || []).join('\n');
      $(`ed-answer-${SUFFIX[loc]}`).value = c.answer || '';
    }
    E.historyBox.hidden = true;
    countAll();
    S.edit.saved = pristine ? editorSnapshot() : null;
    renderEditorMeta();
    markOpenEntry();
    E.form.parentElement.scrollTop = 0;
    // Below 900 px the editor sits under the list: bring it into view, or the click seems lost.
    if (window.matchMedia('(max-width: 900px)').matches) E.form.scrollIntoView({ block: 'start' });
    (rec ? E.edCategory : E.edId).focus({ preventScroll: true });
  }

  function renderEditorMeta() {
    const rec = S.edit && S.edit.rec;
    E.edHeading.textContent = rec ? titleOf(rec) : t('kbNewEntry');
    E.edStatus.textContent = rec ? label('kbstatus', rec.status) : t('kbNew');
    E.edStatus.dataset.status = rec ? rec.status : 'new';
    const meta = [];
    if (rec) {
      meta.push(versionText(rec));
      if (rec.approved_version) meta.push(t('kbApprovedV', { v: rec.approved_version }));
      if (rec.author && rec.author.name) meta.push(t('kbBy', { name: rec.author.name }));
      if (rec.updated_at) meta.push(fmtTime(rec.updated_at));
    }
    E.edMeta.textContent = meta.join(' · ');
    const why = rec && rec.reason && (rec.status === 'rejected' || rec.status === 'retired');
    E.edReason.hidden = !why;
    E.edReason.textContent = why ? t(rec.status === 'rejected' ? 'kbRejectedBecause' : 'kbRetiredBecause', { reason: realignReason(rec.reason) }) : '';
    const n = S.edit ? S.edit.flags.length : 0;
    E.edFlags.hidden = !n;
    E.edFlags.textContent = n ? t('kbFixesFlags', { n }) : '';
    const editable = canPropose();
    E.edSave.hidden = E.edSubmit.hidden = !editable;
    E.edHistory.hidden = !rec;
    E.edRetire.hidden = !(rec && canReview() && rec.status !== 'retired');
    for (const el of E.form.querySelectorAll('input, textarea')) if (el !== E.edId) el.readOnly = !editable;
    E.edEssential.disabled = !editable;
  }
  function markOpenEntry() {
    const id = S.edit && S.edit.rec && S.edit.rec.id;
    for (const li of E.entriesList.children) li.classList.toggle('is-open', li.dataset.id === id);
  }
  // Counters under the questions and answers: how many questions, and an answer's length
  // against the server's limit (data-max), marked once it is over so the author trims it
  // before the server refuses it. Nothing is cut off here: a pasted text stays whole.
  function countField(el) {
    const out = $(`${el.id}-count`);
    if (!out) return;
    if (el.dataset.max) {
      const n = [...el.value].length, max = Number(el.dataset.max);
      out.textContent = n ? t('kbAnswerCount', { n, max }) : '';
      out.classList.toggle('is-over', n > max);
    } else {
      const n = lines(el.value).length;
      out.textContent = n ? t('kbQuestionCount', { n }) : '';
    }
  }
  function countAll() {
    for (const loc of LOCALES) for (const f of ['questions', 'answer']) countField($(`ed-${f}-${SUFFIX[loc]}`));
  }

  // editorSnapshot is everything the fields hold, to tell unsaved edits.
  function editorSnapshot() {
    const v = [E.edId.value, E.edCategory.value, E.edTitle.value, E.edTags.value, E.edEssential.checked];
    for (const loc of LOCALES) {
      for (const f of ['title', 'questions', 'answer']) v.push($(`ed-${f}-${SUFFIX[loc]}`).value);
    }
    return JSON.stringify(v);
  }
  const editorDirty = () => !!S.edit && canPropose() && editorSnapshot() !== S.edit.saved;
  // mayLeaveEditor asks before unsaved edits are thrown away (another entry, a new one, Close).
  function mayLeaveEditor() {
    return !editorDirty() || window.confirm(t('kbDiscardConfirm'));
  }
  function closeEditor() {
    if (!mayLeaveEditor()) return;
    S.edit = null;
    E.form.hidden = true;
    E.editorEmpty.hidden = false;
    markOpenEntry();
  }

  function editorBody() {
    const locales = {};
    for (const loc of LOCALES) {
      const sfx = SUFFIX[loc];
      const questions = lines($(`ed-questions-${sfx}`).value);
      const answer = $(`ed-answer-${sfx}`).value.trim();
      const title = $(`ed-title-${sfx}`).value.trim();
      if (!questions.length && !answer && !title) continue;
      const c = { questions, answer };
      if (title) c.title = title;
      locales[loc] = c;
    }
    const body = {
      id: E.edId.value.trim(),
      category: E.edCategory.value.trim(),
      title: E.edTitle.value.trim(),
      tags: E.edTags.value.split(/[,，]/).map((x) => x.trim()).filter(Boolean),
      essential: E.edEssential.checked,
      locales,
    };
    if (S.edit.rec) body.version = S.edit.rec.version;
    if (S.edit.flags.length) body.flags = S.edit.flags;
    return body;
  }

  async function saveEntry(submit) {
    if (!S.edit || E.form.dataset.busy) return;
    const body = editorBody();
    if (!body.id) { showError(E.edError, t('kbIDRequired')); E.edId.focus(); return; }
    if (!Object.keys(body.locales).length) { showError(E.edError, t('kbLocaleRequired')); return; }
    if (submit) body.submit = true;
    E.form.dataset.busy = '1';
    E.edSave.disabled = E.edSubmit.disabled = true;
    showError(E.edError, '');
    // The editor the save came from: another entry opened while it was on its way (a click in the
    // list) owns the fields by the time it answers, and must not take this one's record or state.
    const edit = S.edit;
    try {
      const rec = edit.rec
        ? await api('PUT', `${KB}/entries/${enc(edit.rec.id)}`, body)
        : await api('POST', `${KB}/entries`, body);
      if (S.edit === edit) {
        edit.rec = rec;
        edit.flags = []; // linked now
        edit.saved = editorSnapshot();
        E.edId.readOnly = true;
        renderEditorMeta();
        if (!E.historyBox.hidden) loadHistory();
      }
      // Only a draft or a rejected version is submitted: an unchanged published entry is not.
      toast(!submit ? t('kbSaved') : rec.status === 'in_review' ? t('kbSubmitted') : t('kbNothingToSubmit'));
      S.titles.set(rec.id, titleOf(rec));
      loadEntries();
      loadCounts();
    } catch (e) {
      const msg = e.status === 409 ? `${e.message} ${t('kbConflictHint')}` : e.message;
      if (S.edit === edit) showError(E.edError, msg); else toastError(e);
    } finally {
      delete E.form.dataset.busy;
      E.edSave.disabled = E.edSubmit.disabled = false;
    }
  }

  async function loadHistory() {
    const rec = S.edit && S.edit.rec;
    if (!rec) return;
    try {
      const d = await api('GET', `${KB}/entries/${enc(rec.id)}/history`);
      if (!S.edit || !S.edit.rec || S.edit.rec.id !== rec.id) return;
      const revs = [...(d.revisions || [])].reverse(); // newest first
      E.historyList.replaceChildren(...revs.map((rv) => {
        const li = mk('li', 'kb-rev');
        li.dataset.action = rv.action;
        const top = mk('div', 'item-top');
        top.append(mk('span', 'kb-rev-v', t('kbVersion', { v: rv.version })), mk('span', 'kb-rev-action', label('kbaction', rv.action)),
          statusBadge(rv.status), mk('span', 'item-side', `${rv.actor_name || rv.actor || ''} · ${fmtTime(rv.at)}`));
        li.append(top);
        if (rv.changes && rv.changes.length) {
          const ch = mk('div', 'chips');
          ch.append(mk('span', 'kb-meta', t('kbChanged')), ...rv.changes.map((f) => chip(fieldLabel(f))));
          li.append(ch);
        }
        if (rv.reason) li.append(mk('div', 'kb-meta', t('kbReasonIs', { reason: realignReason(rv.reason) })));
        return li;
      }));
      // Who did what to the entry, as the hash-chained trail has it (for those who may read it).
      E.historyAudit.href = `/console/audit#object=${encodeURIComponent(`entry:${rec.id}`)}`;
      E.historyAudit.hidden = !can('audit.read');
      E.historyBox.hidden = false;
    } catch (e) { toastError(e); }
  }

  // The server words the reason of a rollback's or an activation's realignment in English
  // (knowledge.Service.realign); it is said in the page's language when it has that form.
  // The operator's own words, if any, follow after ": ".
  function realignReason(reason) {
    const note = (m) => (m[3] ? `${t('colon')}${m[3]}` : '');
    let m = /^release (\d+) was rolled back to release (\d+)(?:: ([\s\S]*))?$/.exec(reason || '');
    if (m) return t('kbRealignRollback', { from: m[1], to: m[2] }) + note(m);
    m = /^release (\d+) activated in place of release (\d+)(?:: ([\s\S]*))?$/.exec(reason || '');
    if (m) return t('kbRealignActivate', { to: m[1], from: m[2] }) + note(m);
    return reason;
  }

  function retireEntry() {
    const rec = S.edit && S.edit.rec;
    if (!rec) return;
    ask(E.edActions, { placeholder: t('kbReasonOptional'), ok: t('kbRetire'), danger: true }, async (reason) => {
      const r = await api('POST', `${KB}/entries/${enc(rec.id)}/retire`, { reason });
      if (S.edit && S.edit.rec && S.edit.rec.id === rec.id) { S.edit.rec = r; renderEditorMeta(); }
      toast(t('kbRetired'));
      loadEntries();
    });
  }

  // =====================================================================
  // Reviews
  // =====================================================================
  async function loadReviews() {
    try {
      const d = await api('GET', `${KB}/entries?status=in_review`);
      const entries = d.entries || [];
      S.twoPerson = d.two_person_rule !== false;
      setCount('reviews', entries.length);
      // A history that cannot be read is null: the card says so rather than taking the entry for new.
      const hist = await Promise.all(entries.map((en) => api('GET', `${KB}/entries/${enc(en.id)}/history`)
        .then((h) => h.revisions || []).catch(() => null)));
      if (S.tab !== 'reviews') return;
      E.reviewsList.replaceChildren(...entries.map((en, i) => renderReview(en, hist[i])));
      E.reviewsEmpty.hidden = entries.length > 0;
    } catch (e) { toastError(e); }
  }

  // What changed since the approved version: the fields of every edit after it, and its content.
  function sinceApproved(en, revs) {
    const fields = new Set();
    let before = null;
    for (const rv of revs) {
      if (!rv.content) continue;
      if (rv.version <= en.approved_version) before = rv.content;
      else for (const f of rv.changes || []) fields.add(f);
    }
    return { fields: [...fields], before: en.approved_version ? before : null };
  }

  function renderReview(en, revs) {
    const li = mk('li', 'kb-card kb-review');
    li.dataset.id = en.id;
    const top = mk('div', 'kb-card-head');
    top.append(mk('span', 'kb-card-title', titleOf(en)), mk('span', 'kb-id', en.id), statusBadge(en.status));
    li.append(top);
    const meta = [t('kbVersion', { v: en.version })];
    if (en.author && en.author.name) meta.push(t('kbBy', { name: en.author.name }));
    meta.push(fmtTime(en.updated_at));
    li.append(mk('p', 'kb-meta', meta.join(' · ')));

    const { fields, before } = sinceApproved(en, revs || []);
    const changed = mk('div', 'chips kb-changed');
    if (!revs && en.approved_version) {
      changed.append(mk('span', 'kb-meta', t('kbHistoryUnavailable', { v: en.approved_version })));
    } else if (!before) {
      changed.append(chip(t('kbNewEntryChip'), 'chip--new'));
    } else {
      changed.append(mk('span', 'kb-meta', t('kbChangedSince', { v: en.approved_version })));
      changed.append(...(fields.length ? fields : ['—']).map((f) => chip(fieldLabel(f), 'chip--changed')));
    }
    li.append(changed);
    li.append(contentView(en, before));

    const err = mk('p', 'form-error kb-review-error');
    err.setAttribute('role', 'alert');
    err.hidden = true;
    if (canReview()) {
      const actions = mk('div', 'kb-actions');
      const approve = btn('btn btn--primary btn--small kb-approve', t('kbApprove'));
      const reject = btn('btn btn--danger btn--small kb-reject', t('kbReject'));
      const open = btn('btn btn--ghost btn--small kb-open', t('kbOpenEditor'));
      approve.addEventListener('click', async () => {
        approve.disabled = true;
        showError(err, '');
        try {
          await api('POST', `${KB}/entries/${enc(en.id)}/approve`);
          toast(t('kbApproved', { title: titleOf(en) }));
          loadReviews();
        } catch (e) {
          showError(err, e.message);
          approve.disabled = false;
        }
      });
      reject.addEventListener('click', () => {
        showError(err, '');
        ask(actions, { placeholder: t('kbRejectReason'), required: true, ok: t('kbReject'), danger: true }, async (reason) => {
          await api('POST', `${KB}/entries/${enc(en.id)}/reject`, { reason });
          toast(t('kbRejected', { title: titleOf(en) }));
          loadReviews();
        });
      });
      open.addEventListener('click', () => openEntry(en.id));
      actions.append(approve, reject, open);
      li.append(actions);
      // The server refuses an author's approval of their own version: say so
      // instead of offering a button that can only fail.
      if (S.twoPerson && en.author && en.author.id && S.me && en.author.id === S.me.id) {
        approve.disabled = true;
        approve.title = t('kbOwnVersion');
        li.append(mk('p', 'kb-meta kb-own-version', t('kbOwnVersion')));
      }
    } else {
      li.append(mk('p', 'kb-meta', t('kbWaitingReviewer')));
    }
    li.append(err);
    return li;
  }

  // contentView shows an entry's questions and answers per locale; with `before` (an earlier content),
  // a changed answer shows both, and questions added or removed are marked.
  function contentView(en, before) {
    const box = mk('div', 'kb-content');
    for (const loc of LOCALES) {
      const c = (en.locales || {})[loc];
      const b = before && before.locales ? before.locales[loc] : null;
      if (!c && !b) continue;
      const sec = mk('div', 'kb-loc');
      sec.dataset.locale = loc;
      sec.append(mk('h3', 'block-title', label('locale', loc)));
      if (!c) { sec.append(mk('p', 'kb-removed', t('kbLocaleRemoved'))); box.append(sec); continue; }
      const qs = mk('ul', 'kb-questions');
      const old = new Set(b ? b.questions || [] : []);
      for (const q of c.questions || []) {
        const li = mk('li', b && !old.has(q) ? 'kb-added' : '', q);
        qs.append(li);
      }
      if (b) for (const q of b.questions || []) if (!(c.questions || []).includes(q)) qs.append(mk('li', 'kb-removed', q));
      sec.append(qs);
      if (b && b.answer !== c.answer) {
        sec.append(mk('div', 'kb-label', t('kbBefore')), mk('p', 'kb-answer kb-before', b.answer || ''));
        sec.append(mk('div', 'kb-label', t('kbAfter')), mk('p', 'kb-answer kb-after', c.answer || ''));
      } else {
        sec.append(mk('p', 'kb-answer', c.answer || ''));
      }
      box.append(sec);
    }
    return box;
  }

  // =====================================================================
  // Releases
  // =====================================================================
  async function loadReleases() {
    try {
      const [rels, pending] = await Promise.all([api('GET', `${KB}/releases`),
        canPublish() ? api('GET', `${KB}/pending`).catch(() => null) : null]);
      S.releases = rels;
      S.pending = pending;
      renderReleases();
      renderPending();
    } catch (e) { toastError(e); }
  }

  // What Publish would ship, against the active release: an editor sees it
  // before a minute of training, and is asked before making a release that
  // serves the same answers as the one live.
  const pendingCount = (d) => (d ? d.added.length + d.changed.length + d.removed.length : 0);
  function renderPending() {
    const d = S.pending;
    E.publishPending.hidden = !d;
    E.publishPendingList.hidden = true;
    if (!d) return;
    if (!pendingCount(d)) {
      E.publishPending.textContent = d.from ? t('kbPendingNone', { id: d.from }) : '';
      E.publishPending.hidden = !d.from;
      return;
    }
    E.publishPending.textContent = t(d.from ? 'kbPendingSince' : 'kbPendingFirst',
      { id: d.from, added: d.added.length, changed: d.changed.length, removed: d.removed.length });
    const items = [
      ...d.added.map((x) => chip(`+ ${S.titles.get(x.id) || x.title || x.id}`, 'chip--new')),
      ...d.changed.map((x) => chip(`~ ${S.titles.get(x.id) || x.title || x.id}`, 'chip--changed')),
      ...d.removed.map((x) => chip(`− ${S.titles.get(x.id) || x.title || x.id}`, 'chip--removed')),
    ];
    const max = 12;
    const shown = items.slice(0, max);
    if (items.length > max) shown.push(chip(t('kbPendingMore', { n: items.length - max })));
    E.publishPendingList.replaceChildren(...shown.map((c) => { const li = mk('li'); li.append(c); return li; }));
    E.publishPendingList.hidden = false;
  }

  function gateSummary(q) {
    q = q || {};
    const parts = [];
    if (q.cv_questions) {
      let s = t('kbGateAccuracy', { acc: pct(q.cv_accuracy), n: q.cv_questions });
      if (q.baseline_accuracy != null) s += ` ${t('kbGateBaseline', { acc: pct(q.baseline_accuracy) })}`;
      parts.push(s);
    } else {
      parts.push(t('kbGateNoCV'));
    }
    const g = q.golden || {};
    if (g.total) parts.push(t('kbGateGolden', { passed: g.passed, total: g.total }));
    const n = (q.problems || []).length;
    parts.push(n ? t('kbGateProblems', { n }) : t('kbGateClean'));
    return parts.join(' · ');
  }
  const problemText = (p) => (LANG === 'zh-CN' ? p.message_zh || p.message : p.message || p.message_zh) || p.check;

  function renderReleases() {
    const l = S.releases || {};
    const rels = l.releases || [];
    E.releasesList.replaceChildren(...rels.map((r) => {
      const li = mk('li', 'kb-card kb-release');
      li.dataset.id = String(r.id);
      if (r.active) li.classList.add('is-active');
      const top = mk('div', 'kb-card-head');
      top.append(mk('span', 'kb-card-title', t('kbReleaseN', { id: r.id })));
      const marks = mk('span', 'chips kb-markers');
      if (r.active) marks.append(chip(t('kbActive'), 'marker marker--active'));
      if (r.last_good) marks.append(chip(t('kbLastGood'), 'marker marker--good'));
      if (r.rolled_back_at) marks.append(chip(t('kbRolledBack'), 'marker marker--rolled'));
      if (r.override) marks.append(chip(t('kbOverridden'), 'marker marker--override'));
      top.append(marks, mk('span', 'item-side', fmtTime(r.created_at)));
      li.append(top);
      const meta = [t('kbEntriesN', { n: r.entries }), t('kbBy', { name: r.author_name || r.author || '' })];
      if (r.minimal_entries) meta.push(t('kbMinimalN', { n: r.minimal_entries }));
      li.append(mk('p', 'kb-meta', meta.join(' · ')));
      if (r.note) li.append(mk('p', 'kb-release-note', r.note));
      li.append(mk('p', 'kb-gate-line', gateSummary(r.quality)));
      if (r.override) li.append(mk('p', 'kb-note kb-note--warn', t('kbOverrideBy', { name: r.override.name || r.override.by, reason: r.override.reason })));
      if (r.rolled_back_at) {
        li.append(mk('p', 'kb-meta', t('kbRolledBackAt', { time: fmtTime(r.rolled_back_at) }) +
          (r.rollback_reason ? ` · ${r.rollback_reason}` : '')));
      }
      if (canPublish() && !r.active) {
        const actions = mk('div', 'kb-actions');
        const act = btn('btn btn--small kb-activate', t('kbActivate'));
        act.addEventListener('click', () => ask(actions, { placeholder: t('kbReasonOptional'), ok: t('kbActivate') }, async (reason) => {
          await api('POST', `${KB}/releases/${r.id}/activate`, { reason });
          toast(t('kbActivated', { id: r.id }));
          loadReleases();
          afterRelease();
        }));
        actions.append(act);
        li.append(actions);
      }
      return li;
    }));
    E.releasesEmpty.hidden = rels.length > 0;

    const to = l.rollback_to_id;
    E.rollbackBox.hidden = !(canPublish() && to);
    E.rollbackText.textContent = to ? t('kbRollbackTo', { from: l.active_id, to }) : '';
    E.rollbackBtn.dataset.to = to ? String(to) : '';

    // The diff compares the newest release with the one before it until the user picks others.
    const keep = [E.diffFrom.value, E.diffTo.value];
    const opts = () => rels.map((r) => new Option(`#${r.id} · ${fmtTime(r.created_at)}${r.active ? ` · ${t('kbActive')}` : ''}`, String(r.id)));
    E.diffFrom.replaceChildren(...opts());
    E.diffTo.replaceChildren(...opts());
    const ids = rels.map((r) => String(r.id));
    if (S.diffPicked && ids.includes(keep[0]) && ids.includes(keep[1])) {
      [E.diffFrom.value, E.diffTo.value] = keep;
    } else if (rels.length > 1) {
      S.diffPicked = false;
      E.diffTo.value = ids[0];
      E.diffFrom.value = ids[1];
    }
    E.diffBtn.disabled = rels.length < 2;
  }

  async function publish(override) {
    if (E.publishBox.dataset.busy) return;
    const body = { note: E.publishNote.value.trim() };
    if (override) {
      const reason = E.overrideReason.value.trim();
      if (!reason) { showError(E.overrideError, t('kbReasonRequired')); E.overrideReason.focus(); return; }
      body.override = true;
      body.reason = reason;
    }
    // Busy from the first await on: a second click while the pending diff loads must not publish twice.
    E.publishBox.dataset.busy = '1';
    E.publishBtn.disabled = E.overrideBtn.disabled = true;
    showError(E.publishError, '');
    showError(E.overrideError, '');
    try {
      if (!override) {
        // Asked afresh: a rollback or an approval elsewhere may have changed it since the tab was drawn.
        S.pending = await api('GET', `${KB}/pending`).catch(() => S.pending);
        renderPending();
        if (S.pending && S.pending.from && !pendingCount(S.pending) &&
            !window.confirm(t('kbPendingConfirm', { id: S.pending.from }))) return;
      }
      E.publishStatus.hidden = false;
      E.publishStatus.textContent = t('kbPublishing');
      const r = await api('POST', `${KB}/releases`, body);
      E.gateReport.hidden = true;
      E.publishNote.value = '';
      E.overrideReason.value = '';
      toast(t('kbPublished', { id: r.id }));
      loadReleases();
      afterRelease();
    } catch (e) {
      if (e.status === 422 && e.data && e.data.report) showGateReport(e.data.report);
      else showError(override ? E.overrideError : E.publishError, e.message);
    } finally {
      delete E.publishBox.dataset.busy;
      E.publishBtn.disabled = E.overrideBtn.disabled = false;
      E.publishStatus.hidden = true;
    }
  }

  // afterRelease catches up with what a publish, rollback or activation changed beyond the
  // releases: the counts (flags move between fixing and resolved), and the open entry's status
  // and versions ("approved · not published" stayed after its publish, and a rollback's
  // rejection did not show), re-read unless the editor holds unsaved changes.
  async function afterRelease() {
    loadCounts();
    const rec = S.edit && S.edit.rec;
    if (!rec || editorDirty()) return;
    let fresh;
    try { fresh = await api('GET', `${KB}/entries/${enc(rec.id)}`); } catch { return; }
    if (!S.edit || S.edit.rec !== rec || editorDirty()) return; // moved on meanwhile
    if (fresh.version !== rec.version) return; // edited elsewhere meanwhile: its fields are another matter
    S.edit.rec = fresh;
    renderEditorMeta();
  }

  function showGateReport(rep) {
    E.gateReport.hidden = false;
    E.gateSummary.textContent = gateSummary(rep);
    const items = (rep.problems || []).map((p) => {
      const li = mk('li', 'kb-problem');
      li.dataset.check = p.check || '';
      li.append(chip(label('kbcheck', p.check)), mk('span', '', problemText(p)));
      if (p.entry) {
        const open = btn('link-btn kb-problem-entry', p.entry);
        open.addEventListener('click', () => openEntry(p.entry));
        li.append(open);
      }
      return li;
    });
    E.gateProblems.replaceChildren(...items);
    E.overrideBox.hidden = !canOverride();
    E.overrideAdminOnly.hidden = canOverride(); // a supervisor learns who can go past the gate
    E.gateReport.scrollIntoView({ block: 'nearest' });
  }

  async function rollback() {
    const to = Number(E.rollbackBtn.dataset.to) || 0;
    // Rolling back changes what the bot tells customers at once: confirmed, as activating is.
    if (!window.confirm(t('kbRollbackConfirm', { to }))) return;
    E.rollbackBtn.disabled = true;
    try {
      const r = await api('POST', `${KB}/rollback`, { to, reason: E.rollbackReason.value.trim() });
      E.rollbackReason.value = '';
      toast(t('kbRolledBackTo', { id: r.id }));
      loadReleases();
      afterRelease();
    } catch (e) {
      toastError(e);
    } finally {
      E.rollbackBtn.disabled = false;
    }
  }

  async function diff() {
    const from = E.diffFrom.value, to = E.diffTo.value;
    showError(E.diffError, '');
    if (!from || !to || from === to) { showError(E.diffError, t('kbDiffPickTwo')); return; }
    let d;
    try {
      d = await api('GET', `${KB}/diff?from=${enc(from)}&to=${enc(to)}`);
    } catch (e) { showError(E.diffError, e.message); return; }
    const out = [];
    const head = (key, n) => mk('h3', 'block-title', `${t(key)} (${n})`);
    const simple = (list, cls) => {
      const ul = mk('ul', `kb-diff-list ${cls}`);
      for (const x of list) {
        const li = mk('li', 'kb-diff-item');
        li.dataset.id = x.id;
        const top = mk('div', 'kb-card-head');
        top.append(mk('span', 'kb-card-title', S.titles.get(x.id) || x.title || x.id), mk('span', 'kb-id', x.id), mk('span', 'kb-meta', t('kbVersion', { v: x.version })));
        li.append(top);
        if (x.entry) li.append(contentView(x.entry, null)); // what the release adds or takes away
        ul.append(li);
      }
      return ul;
    };
    const added = d.added || [], removed = d.removed || [], changed = d.changed || [];
    if (!added.length && !removed.length && !changed.length) out.push(mk('p', 'empty', t('kbDiffSame')));
    if (added.length) out.push(head('kbDiffAdded', added.length), simple(added, 'kb-diff-added'));
    if (removed.length) out.push(head('kbDiffRemoved', removed.length), simple(removed, 'kb-diff-removed'));
    if (changed.length) {
      out.push(head('kbDiffChanged', changed.length));
      const ul = mk('ul', 'kb-diff-list kb-diff-changed');
      for (const c of changed) {
        const li = mk('li', 'kb-diff-item');
        li.dataset.id = c.id;
        const top = mk('div', 'kb-card-head');
        top.append(mk('span', 'kb-card-title', S.titles.get(c.id) || c.title || c.id), mk('span', 'kb-id', c.id),
          mk('span', 'kb-meta', `${t('kbVersion', { v: c.from_version })} → ${t('kbVersion', { v: c.to_version })}`));
        li.append(top);
        const ch = mk('div', 'chips');
        ch.append(...(c.fields || []).map((f) => chip(fieldLabel(f), 'chip--changed')));
        li.append(ch, contentView(c.after || {}, c.before || {}));
        ul.append(li);
      }
      out.push(ul);
    }
    E.diffResult.replaceChildren(...out);
    E.diffResult.hidden = false;
  }

  // =====================================================================
  // Corrections
  // =====================================================================
  async function loadCorrections() {
    try {
      const d = await api('GET', `${KB}/corrections`);
      const groups = d.groups || [];
      setCount('corrections', groups.length);
      E.correctionsList.replaceChildren(...groups.map(renderCorrection));
      E.correctionsEmpty.hidden = groups.length > 0;
      E.correctionsCoverage.hidden = !d.truncated;
      E.correctionsCoverage.textContent = d.truncated ? t('kbCorrectionsTruncated', { n: d.flags, from: fmtTime(d.oldest) }) : '';
    } catch (e) { toastError(e); }
  }

  function renderCorrection(g) {
    const li = mk('li', 'kb-card kb-correction');
    li.dataset.key = g.key;
    if (g.entry_id) li.dataset.entry = g.entry_id;
    const flags = g.flags || [];
    const top = mk('div', 'kb-card-head');
    if (g.entry_id) top.append(mk('span', 'kb-card-title', entryTitle(g.entry_id)), mk('span', 'kb-id', g.entry_id));
    else top.append(mk('span', 'kb-card-title', t('kbNoEntry')), mk('span', 'kb-id', g.question || ''));
    top.append(mk('span', 'kb-count', t('kbFlagsN', { n: g.count })), mk('span', 'item-side', fmtTime(g.last_at)));
    li.append(top);
    const byStatus = {};
    for (const f of flags) byStatus[f.status] = (byStatus[f.status] || 0) + 1;
    const st = mk('div', 'chips');
    for (const [s, n] of Object.entries(byStatus)) st.append(chip(`${label('flagstatus', s)} ${n}`, `chip--${s}`));
    const sources = new Set(flags.map((f) => f.source).filter(Boolean));
    for (const s of sources) st.append(chip(label('flagsource', s)));
    li.append(st);

    li.append(mk('div', 'kb-label', t('kbCustomersAsked')));
    const qs = mk('ul', 'kb-wordings');
    for (const q of g.questions || []) {
      const w = mk('li', 'kb-wording');
      w.append(mk('span', '', q.text), chip(label('locale', q.locale)));
      if (q.count > 1) w.append(mk('span', 'kb-meta', `×${q.count}`));
      qs.append(w);
    }
    li.append(qs);
    const reasons = (g.reasons || []).filter(Boolean);
    if (reasons.length) {
      li.append(mk('div', 'kb-label', t('kbReasons')));
      const rs = mk('ul', 'kb-reasons');
      for (const r of reasons) rs.append(mk('li', '', r));
      li.append(rs);
    }
    const answer = flags.find((f) => f.answer);
    if (answer) li.append(mk('div', 'kb-label', t('kbBotAnswered')), mk('p', 'kb-answer kb-before', answer.answer));

    const ids = flags.map((f) => f.id);
    const wordings = (g.questions || []).map((q) => ({ text: q.text, locale: q.locale }));
    const actions = mk('div', 'kb-actions');
    if (canPropose()) {
      if (g.entry_id) {
        // The entry answered but its answer is wrong or out of date: fix it (the wordings join it).
        const fix = btn('btn btn--primary btn--small kb-fix', t('kbFixEntry'));
        fix.addEventListener('click', () => openEntry(g.entry_id, { flags: ids, addQuestions: wordings }));
        // The wrong entry answered: the wordings belong to another one, never to this one.
        const other = btn('btn btn--small kb-other', t('kbOtherEntry'));
        other.addEventListener('click', () => pickEntry(actions, g.entry_id, (id) => openEntry(id, { flags: ids, addQuestions: wordings })));
        actions.append(fix, other);
      }
      const create = btn(`btn btn--small kb-create${g.entry_id ? '' : ' btn--primary'}`, t('kbNewEntry'));
      create.addEventListener('click', () => newEntry({ questions: wordings, flags: ids }));
      actions.append(create);
    }
    if (canReview()) {
      const dismiss = btn('btn btn--ghost btn--small kb-dismiss', t('kbDismiss'));
      dismiss.addEventListener('click', () => ask(actions, { placeholder: t('kbDismissNote'), ok: t('kbDismiss') }, async (note) => {
        await api('POST', `${KB}/corrections/dismiss`, { flags: ids, note });
        toast(t('kbDismissed'));
        loadCorrections();
      }));
      actions.append(dismiss);
    }
    if (actions.children.length) li.append(actions);
    return li;
  }

  // pickEntry shows, in place of row, a choice of every entry but `except`, then onPick(id).
  function pickEntry(row, except, onPick) {
    const box = mk('div', 'kb-ask kb-pick');
    const sel = mk('select', 'field field--small kb-pick-entry');
    sel.setAttribute('aria-label', t('kbOtherEntryPick'));
    const none = mk('option', '', t('kbOtherEntryPick'));
    none.value = '';
    sel.append(none);
    const ids = [...S.titles.keys()].filter((id) => id !== except)
      .sort((a, b) => entryTitle(a).localeCompare(entryTitle(b), LANG));
    for (const id of ids) {
      const o = mk('option', '', `${entryTitle(id)} (${id})`);
      o.value = id;
      sel.append(o);
    }
    const okB = btn('btn btn--small btn--primary kb-pick-ok', t('kbOtherEntryOpen'));
    const cancel = btn('btn btn--small btn--ghost kb-ask-cancel', t('cancel'));
    const close = closer(box, row);
    okB.addEventListener('click', () => {
      if (!sel.value) { sel.focus(); return; }
      const id = sel.value;
      close();
      onPick(id);
    });
    cancel.addEventListener('click', close);
    const fields = mk('div', 'kb-row');
    fields.append(sel, okB, cancel);
    box.append(fields);
    row.hidden = true;
    row.after(box);
    sel.focus();
  }

  // =====================================================================
  // Unanswered questions
  // =====================================================================
  // clip shortens a customer's message for a list: a 4,000-character one filled the page (QA pass).
  const CLIP = 280;
  const clip = (s) => { const cs = [...String(s || '')]; return cs.length > CLIP ? `${cs.slice(0, CLIP).join('')}…` : cs.join(''); };

  // all: the list is not cut to the 50 most frequent clusters (the server's cap, 500, still holds).
  async function loadUnanswered(all = false) {
    try {
      // The questions the bot could not answer, or those the AI model answered instead: both are gaps.
      const kind = E.unansweredKind.value === 'generated' ? 'generated' : 'unanswered';
      E.unansweredIntro.textContent = t(kind === 'generated' ? 'kbGeneratedIntro' : 'kbUnansweredIntro');
      E.unansweredEmpty.textContent = t(kind === 'generated' ? 'kbNoGenerated' : 'kbNoUnanswered');
      const d = await api('GET', `${KB}/unanswered?kind=${kind}${all === true ? '&limit=500' : ''}`);
      if (d.kind && d.kind !== (E.unansweredKind.value === 'generated' ? 'generated' : 'unanswered')) return; // switched meanwhile
      const clusters = d.clusters || [];
      E.unansweredList.replaceChildren(...clusters.map((c) => {
        const li = mk('li', 'kb-card kb-cluster');
        li.dataset.locale = c.locale || '';
        const top = mk('div', 'kb-card-head');
        const title = mk('span', 'kb-card-title', clip(c.text));
        title.title = c.text; // the whole message on hover
        top.append(title, chip(label('locale', c.locale)),
          mk('span', 'kb-count', t('kbAskedN', { n: c.count, conversations: c.conversations })),
          mk('span', 'item-side', fmtTime(c.last_at)));
        li.append(top);
        const ex = (c.examples || []).filter(Boolean);
        if (ex.length) {
          li.append(mk('div', 'kb-label', t('kbAlsoAsked')));
          const ul = mk('ul', 'kb-wordings');
          for (const x of ex) { const w = mk('li', 'kb-wording', clip(x)); w.title = x; ul.append(w); }
          li.append(ul);
        }
        if (canPropose()) {
          const actions = mk('div', 'kb-actions');
          const create = btn('btn btn--primary btn--small kb-create', t('kbCreateEntry'));
          create.addEventListener('click', () => newEntry({
            questions: [c.text, ...ex].map((text) => ({ text, locale: c.locale })),
          }));
          actions.append(create);
          li.append(actions);
        }
        return li;
      }));
      E.unansweredEmpty.hidden = clusters.length > 0;
      // Past the newest 5,000 questions the clusters cover less than the period: say since when.
      E.unansweredCoverage.hidden = !d.truncated;
      E.unansweredCoverage.textContent = d.truncated ? t('kbUnansweredTruncated', { n: d.questions, from: fmtTime(d.from) }) : '';
      // A list cut to the most frequent clusters says so, and can show the rest.
      const more = Number(d.clusters_total) > clusters.length;
      E.unansweredTop.hidden = !more;
      E.unansweredTop.replaceChildren();
      if (more) {
        E.unansweredTop.append(mk('span', '', t('kbUnansweredTop', { n: clusters.length, total: d.clusters_total })));
        if (all !== true) {
          const b = btn('btn btn--small kb-unanswered-all', t('kbUnansweredShowAll'));
          b.addEventListener('click', () => loadUnanswered(true));
          E.unansweredTop.append(' ', b);
        }
      }
    } catch (e) { toastError(e); }
  }

  // =====================================================================
  // Golden questions
  // =====================================================================
  async function loadGolden() {
    try {
      const d = await api('GET', `${KB}/golden`);
      const list = d.golden || [];
      E.goldenList.replaceChildren(...list.map((g) => {
        const li = mk('li', 'kb-card kb-golden');
        li.dataset.id = g.id;
        const top = mk('div', 'kb-card-head');
        top.append(mk('span', 'kb-card-title', g.question), chip(label('locale', g.locale)),
          mk('span', 'kb-arrow', '→'), mk('span', 'kb-golden-entry', entryTitle(g.entry_id)), mk('span', 'kb-id', g.entry_id),
          mk('span', 'item-side', fmtTime(g.created_at)));
        li.append(top);
        if (canReview()) {
          const actions = mk('div', 'kb-actions');
          const del = btn('btn btn--danger btn--small kb-delete', t('kbDelete'));
          del.addEventListener('click', async () => {
            del.disabled = true;
            try {
              await api('DELETE', `${KB}/golden/${enc(g.id)}`);
              toast(t('kbGoldenDeleted'));
              loadGolden();
            } catch (e) { del.disabled = false; toastError(e); }
          });
          actions.append(del);
          li.append(actions);
        }
        return li;
      }));
      E.goldenEmpty.hidden = list.length > 0;
    } catch (e) { toastError(e); }
  }

  async function addGolden() {
    const body = { question: E.goldenQuestion.value.trim(), locale: E.goldenLocale.value, entry_id: E.goldenEntry.value.trim() };
    if (!body.question || !body.entry_id) { showError(E.goldenError, t('kbGoldenMissing')); return; }
    E.goldenAdd.disabled = true;
    showError(E.goldenError, '');
    try {
      await api('POST', `${KB}/golden`, body);
      E.goldenQuestion.value = '';
      E.goldenEntry.value = '';
      toast(t('kbGoldenAdded'));
      loadGolden();
    } catch (e) {
      showError(E.goldenError, e.message);
    } finally {
      E.goldenAdd.disabled = false;
    }
  }

  // ---------- wiring ----------
  function init() {
    E = {
      bootError: $('boot-error'), toasts: $('toasts'), meName: $('me-name'), meRole: $('me-role'),
      entriesStatus: $('entries-status'), entriesSearch: $('entries-search'), entryNew: $('entry-new'),
      entriesList: $('entries-list'), entriesEmpty: $('entries-empty'), entriesMeta: $('entries-meta'),
      editorEmpty: $('editor-empty'), form: $('entry-form'), edHeading: $('ed-heading'), edStatus: $('ed-status'),
      edMeta: $('ed-meta'), edReason: $('ed-reason'), edFlags: $('ed-flags'), edId: $('ed-id'), edCategory: $('ed-category'),
      edTitle: $('ed-title'), edTags: $('ed-tags'), edEssential: $('ed-essential'), edError: $('ed-error'),
      edActions: $('ed-actions'), edSave: $('ed-save'), edSubmit: $('ed-submit'), edHistory: $('ed-history'),
      edRetire: $('ed-retire'), edClose: $('ed-close'), historyBox: $('ed-history-box'), historyList: $('ed-history-list'),
      historyAudit: $('ed-history-audit'),
      reviewsList: $('reviews-list'), reviewsEmpty: $('reviews-empty'),
      publishBox: $('publish-box'), publishNote: $('publish-note'), publishBtn: $('publish-btn'),
      publishPending: $('publish-pending'), publishPendingList: $('publish-pending-list'),
      publishStatus: $('publish-status'), publishError: $('publish-error'), gateReport: $('gate-report'),
      gateSummary: $('gate-summary'), gateProblems: $('gate-problems'), overrideBox: $('override-box'),
      overrideReason: $('override-reason'), overrideBtn: $('override-btn'), overrideError: $('override-error'),
      rollbackBox: $('rollback-box'), rollbackText: $('rollback-text'), rollbackReason: $('rollback-reason'),
      rollbackBtn: $('rollback-btn'), overrideAdminOnly: $('override-admin-only'), releasesList: $('releases-list'), releasesEmpty: $('releases-empty'),
      diffFrom: $('diff-from'), diffTo: $('diff-to'), diffBtn: $('diff-btn'), diffError: $('diff-error'),
      diffResult: $('diff-result'),
      correctionsList: $('corrections-list'), correctionsEmpty: $('corrections-empty'), correctionsCoverage: $('corrections-coverage'),
      unansweredList: $('unanswered-list'), unansweredEmpty: $('unanswered-empty'), unansweredCoverage: $('unanswered-coverage'), unansweredTop: $('unanswered-top'),
      unansweredKind: $('unanswered-kind'), unansweredIntro: $('unanswered-intro'),
      goldenForm: $('golden-form'), goldenQuestion: $('golden-question'), goldenLocale: $('golden-locale'),
      goldenEntry: $('golden-entry'), goldenAdd: $('golden-add'), goldenError: $('golden-error'),
      goldenList: $('golden-list'), goldenEmpty: $('golden-empty'),
    };
    $('logout-btn').addEventListener('click', async () => {
      try { await api('POST', '/api/v1/auth/logout'); } catch { /* leaving anyway */ }
      location.replace('/console/login');
    });
    $('boot-retry').addEventListener('click', boot);
    window.addEventListener('hashchange', () => { const tab = tabFromHash(); if (tab !== S.tab || location.hash === '') showTab(tab); });
    for (const name of TABS) {
      // A click on another tab changes the hash (hashchange shows it); on the open tab it reloads.
      $(`tab-${name}`).addEventListener('click', (e) => { if (name === S.tab) { e.preventDefault(); showTab(name); } });
      $(`tab-${name}`).addEventListener('keydown', (e) => {
        if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
        e.preventDefault();
        const i = (TABS.indexOf(name) + (e.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length;
        location.hash = TABS[i];
        $(`tab-${TABS[i]}`).focus();
      });
    }

    E.entriesStatus.addEventListener('change', loadEntries);
    E.unansweredKind.addEventListener('change', loadUnanswered);
    E.entriesSearch.addEventListener('input', () => later('search', loadEntries, 250));
    for (const loc of LOCALES) {
      for (const f of ['questions', 'answer']) {
        const el = $(`ed-${f}-${SUFFIX[loc]}`);
        el.addEventListener('input', () => countField(el));
      }
    }
    E.entryNew.addEventListener('click', () => newEntry());
    E.form.addEventListener('submit', (e) => { e.preventDefault(); saveEntry(false); });
    E.edSave.addEventListener('click', () => saveEntry(false));
    E.edSubmit.addEventListener('click', () => saveEntry(true));
    E.edHistory.addEventListener('click', () => { if (E.historyBox.hidden) loadHistory(); else E.historyBox.hidden = true; });
    E.edRetire.addEventListener('click', retireEntry);
    E.edClose.addEventListener('click', closeEditor);
    // Leaving the page (the language switch, another console page, closing the tab) with
    // unsaved edits asks too, in the browser's own words.
    window.addEventListener('beforeunload', (e) => {
      if (editorDirty()) { e.preventDefault(); e.returnValue = ''; }
    });

    E.publishBtn.addEventListener('click', () => publish(false));
    E.publishNote.addEventListener('keydown', (e) => { if (e.key === 'Enter' && !e.isComposing) { e.preventDefault(); publish(false); } });
    E.overrideBtn.addEventListener('click', () => publish(true));
    E.rollbackBtn.addEventListener('click', rollback);
    E.diffBtn.addEventListener('click', diff);
    for (const sel of [E.diffFrom, E.diffTo]) sel.addEventListener('change', () => { S.diffPicked = true; });

    E.goldenForm.addEventListener('submit', (e) => { e.preventDefault(); addGolden(); });
    setInterval(() => refreshLive(false), LIVE_MS);
    document.addEventListener('visibilitychange', () => refreshLive(true));
    window.addEventListener('focus', () => refreshLive(true));
    boot();
  }

  init();
})();
