// Tandem dashboard: one page over the admin API (/api/v1). Plain JavaScript, no build step, no dependency.
// Served under a strict CSP: no inline script or style, so the DOM is built here with createElement and
// textContent (never innerHTML: every value shown comes from the database), and positions are CSS custom properties.
'use strict';

(() => {
  const TOKEN_KEY = 'tandem.token';
  const THEME_KEY = 'tandem.theme';
  const LIVE_KEY = 'tandem.live';
  const STATUSES = ['ENQUEUED', 'DELAYED', 'RUNNING', 'SUCCESS', 'ERROR', 'CANCELLED', 'RETRIES_EXCEEDED'];
  const FINAL = new Set(['SUCCESS', 'ERROR', 'CANCELLED', 'RETRIES_EXCEEDED']);
  const RESUMABLE = new Set(['ERROR', 'CANCELLED', 'RETRIES_EXCEEDED']);
  const WAIT_KINDS = new Set(['SLEEP', 'RECV', 'CHILD_RESULT']);
  const FILTER_KEYS = ['status', 'name', 'queue', 'executor', 'since', 'created_after', 'created_before',
    'id_prefix', 'parent', 'input', 'output'];
  const PAGE_SIZE = 50;
  const COUNTS_EVERY_MS = 5000;
  const DETAIL_EVERY_MS = 3000;
  const SINCE_CHOICES = [['', 'Any time'], ['15m', 'Last 15 minutes'], ['1h', 'Last hour'], ['6h', 'Last 6 hours'],
    ['24h', 'Last 24 hours'], ['7d', 'Last 7 days'], ['30d', 'Last 30 days']];

  const state = {
    me: null,
    renderSeq: 0,
    timer: null,
    lastList: '#/workflows',
    flash: null,
    live: localStorage.getItem(LIVE_KEY) !== 'paused',
  };

  // ---------------------------------------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = 'Bearer ' + token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch('/api/v1/' + path, {
        method, headers, cache: 'no-store', credentials: 'omit',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, 'cannot reach the Tandem admin server (' + e.message + ')');
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (e) { data = null; }
    }
    if (!response.ok) {
      const message = data && typeof data.error === 'string' ? data.error : 'HTTP ' + response.status;
      if (response.status === 401 && state.me && path !== 'me') {
        // The token stopped working (rotated, server restarted with new tokens): back to the login screen.
        signOut('Signed out: ' + message);
      }
      throw new ApiError(response.status, message);
    }
    return data;
  }

  // ---------------------------------------------------------------------------------------------- DOM helpers

  /** h('div', {class: 'x', onclick: f, vars: {'--left': '10%'}}, child, 'text', [more]) */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else if (k === 'vars') for (const [name, value] of Object.entries(v)) el.style.setProperty(name, value);
        else if (k === 'dataset') Object.assign(el.dataset, v);
        else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else if (k === 'value') el.value = v;
        else if (k === 'checked') el.checked = !!v;
        else if (v === true) el.setAttribute(k, '');
        else el.setAttribute(k, String(v));
      }
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  const $ = (sel, root = document) => root.querySelector(sel);

  function link(href, text, cls) {
    return h('a', { href, class: cls }, text);
  }

  function wfHref(id) {
    return '#/workflow/' + encodeURIComponent(id);
  }

  function wfLink(id) {
    return id ? link(wfHref(id), id, 'mono') : '—';
  }

  function badge(status, big) {
    return h('span', { class: 'badge s-' + status + (big ? ' badge-big' : '') }, status);
  }

  function empty(title, detail) {
    return h('div', { class: 'empty' }, h('strong', null, title), detail || '');
  }

  function errorBox(error, prefix) {
    const status = error && error.status ? ' (HTTP ' + error.status + ')' : '';
    return h('div', { class: 'error-box', role: 'alert' },
      h('strong', null, (prefix || 'Error') + status + ':'), error && error.message ? error.message : String(error));
  }

  function toast(message, kind) {
    const t = h('div', { class: 'toast' + (kind ? ' ' + kind : '') }, message);
    $('#toasts').append(t);
    t.addEventListener('click', () => t.remove());
    setTimeout(() => t.remove(), 4000);
  }

  // ---------------------------------------------------------------------------------------------- formatting

  const pad = n => String(n).padStart(2, '0');

  function fmtTime(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' '
      + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }

  /** Today: 14:03:21; else 2026-11-30 14:03. */
  function fmtShortTime(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    const now = new Date();
    const time = pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
    if (d.toDateString() === now.toDateString()) return time;
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + time.slice(0, 5);
  }

  function fmtDuration(ms) {
    if (ms === null || ms === undefined || isNaN(ms)) return '—';
    if (ms < 0) ms = 0;
    if (ms > 0 && ms < 10 && ms !== Math.round(ms)) return ms.toFixed(1) + ' ms'; // a short timeline's ticks
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 10000) return (ms / 1000).toFixed(2) + ' s';
    if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
    const s = Math.round(ms / 1000);
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
    return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
  }

  function fmtAgo(iso) {
    if (!iso) return '—';
    return fmtDuration(Date.now() - Date.parse(iso)) + ' ago';
  }

  function timeCell(iso) {
    return h('td', { class: 'nowrap', title: iso ? fmtTime(iso) + ' (' + fmtAgo(iso) + ')' : null }, fmtShortTime(iso));
  }

  function wfDuration(w) {
    const start = Date.parse(w.started_at || w.created_at);
    if (FINAL.has(w.status)) return Date.parse(w.updated_at) - start;
    if (w.status === 'RUNNING') return Date.now() - start;
    return null;
  }

  /** A waiting reason or error message with a PostgreSQL timestamp ("delayed until 2026-11-30 03:59:00.68+00") made local. */
  function waitingText(reason) {
    if (!reason) return '';
    return reason.replace(/(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d)(:?\d\d)?/, (all, day, time, frac, hours, minutes) => {
      const iso = day + 'T' + time + (frac ? frac.slice(0, 4) : '') + hours + ':' + (minutes ? minutes.replace(':', '') : '00');
      const at = Date.parse(iso);
      if (isNaN(at)) return all;
      const left = at - Date.now();
      return fmtTime(new Date(at).toISOString()) + (left > 0 ? ' (in ' + fmtDuration(left) + ')' : '');
    });
  }

  function compactJson(v) {
    if (v === null || v === undefined) return '';
    const s = JSON.stringify(v);
    return s.length > 120 ? s.slice(0, 117) + '…' : s;
  }

  /** Pretty JSON with coloured tokens, built from text nodes. */
  function jsonView(value) {
    const pre = h('pre', { class: 'json' });
    if (value === undefined) {
      pre.append(h('span', { class: 'muted' }, 'none'));
      return pre;
    }
    const text = JSON.stringify(value, null, 2);
    const re = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
    let last = 0;
    let m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) pre.append(text.slice(last, m.index));
      if (m[1]) {
        pre.append(h('span', { class: m[2] ? 'j-key' : 'j-str' }, m[1]));
        if (m[2]) pre.append(m[2]);
      } else if (m[3]) {
        pre.append(h('span', { class: 'j-lit' }, m[3]));
      } else {
        pre.append(h('span', { class: 'j-num' }, m[4]));
      }
      last = re.lastIndex;
    }
    pre.append(text.slice(last));
    return pre;
  }

  /** A recorded error: {type, message, stack} (stack a string or lines), shown with a collapsible stack. */
  function errorView(err, open) {
    if (!err) return null;
    const title = [err.type, err.message].filter(Boolean).join(': ') || 'error';
    const rest = Object.assign({}, err);
    delete rest.type; delete rest.message; delete rest.stack;
    const stack = Array.isArray(err.stack) ? err.stack.join('\n') : err.stack;
    return h('div', { class: 'error-view' },
      h('div', { class: 'error-title' }, title),
      stack ? h('details', { class: 'stack-details', open: !!open },
        h('summary', null, 'Stack trace'), h('pre', { class: 'json stack' }, stack)) : null,
      Object.keys(rest).length ? jsonView(rest) : null);
  }

  // ---------------------------------------------------------------------------------------------- dialog

  /**
   * A modal confirmation: body nodes, an OK button; onOk runs while the dialog stays open, and an error it throws
   * is shown in the dialog (the API's text) so the user can correct the input or cancel.
   */
  function openDialog({ title, body, ok, danger, onOk }) {
    const dialog = $('#dialog');
    $('#dialog-title').textContent = title;
    append(clear($('#dialog-body')), [body]);
    const error = $('#dialog-error');
    error.hidden = true;
    const okButton = $('#dialog-ok');
    okButton.textContent = ok || 'OK';
    okButton.className = 'btn ' + (danger ? 'btn-danger-solid' : 'btn-primary');
    okButton.disabled = false;
    return new Promise(resolve => {
      const form = $('#dialog-form');
      const close = value => {
        form.onsubmit = null;
        $('#dialog-cancel').onclick = null;
        dialog.oncancel = null;
        if (dialog.open) dialog.close();
        resolve(value);
      };
      form.onsubmit = async event => {
        event.preventDefault();
        okButton.disabled = true;
        error.hidden = true;
        try {
          const result = onOk ? await onOk() : true;
          close(result === undefined ? true : result);
        } catch (e) {
          error.textContent = e.message || String(e);
          error.hidden = false;
          okButton.disabled = false;
        }
      };
      $('#dialog-cancel').onclick = () => close(null);
      dialog.oncancel = () => close(null);
      dialog.showModal();
      const first = $('#dialog-body input, #dialog-body textarea');
      (first || okButton).focus();
    });
  }

  function parseJsonField(text, what, containerOnly) {
    let value;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new Error(what + ' is not valid JSON: ' + e.message);
    }
    if (containerOnly && (value === null || typeof value !== 'object')) {
      throw new Error(what + ' must be a JSON object or array, such as {"customer": "ada"}');
    }
    return value;
  }

  // ---------------------------------------------------------------------------------------------- session

  async function boot() {
    applyTheme(localStorage.getItem(THEME_KEY));
    $('#theme-toggle').addEventListener('click', toggleTheme);
    $('#sign-out').addEventListener('click', () => signOut(null));
    window.addEventListener('hashchange', render);
    try {
      state.me = await api('GET', 'me');
      enter();
    } catch (e) {
      if (e.status === 401) {
        const hadToken = !!sessionStorage.getItem(TOKEN_KEY);
        sessionStorage.removeItem(TOKEN_KEY);
        showLogin(hadToken ? e.message : null);
      } else {
        showFatal(e);
      }
    }
  }

  function enter() {
    const me = state.me;
    $('#topbar').hidden = false;
    append(clear($('#who')), [me.name, ' ',
      h('span', { class: 'badge badge-plain ' + (me.role === 'operator' ? 'b-info' : 'b-warn'), id: 'role' }, me.role)]);
    $('#sign-out').hidden = !sessionStorage.getItem(TOKEN_KEY);
    render();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.me = null;
    stopTimer();
    showLogin(message);
  }

  function canAct() {
    return state.me && state.me.role === 'operator';
  }

  function showLogin(message) {
    $('#topbar').hidden = true;
    const input = h('input', { type: 'password', id: 'login-token', autocomplete: 'off', spellcheck: 'false',
      placeholder: 'Bearer token', 'aria-label': 'Token', required: true });
    const errorHolder = h('div', { id: 'login-error-holder' },
      message ? h('div', { class: 'error-box', id: 'login-error', role: 'alert' }, message) : null);
    const button = h('button', { type: 'submit', class: 'btn btn-primary', id: 'login-submit' }, 'Sign in');
    const form = h('form', {
      onsubmit: async event => {
        event.preventDefault();
        const token = input.value.trim();
        if (!token) return;
        button.disabled = true;
        sessionStorage.setItem(TOKEN_KEY, token);
        try {
          state.me = await api('GET', 'me');
          enter();
        } catch (e) {
          sessionStorage.removeItem(TOKEN_KEY);
          button.disabled = false;
          append(clear(errorHolder), [h('div', { class: 'error-box', id: 'login-error', role: 'alert' },
            e.status === 401 ? 'That token was refused: ' + e.message : e.message)]);
          input.select();
        }
      },
    }, h('label', { class: 'field' }, 'Admin token', input), errorHolder, button);
    append(clear($('#app')), [h('section', { class: 'login' },
      h('h1', null, h('img', { src: '/ui/favicon.svg', alt: '', width: 26, height: 26 }), 'Tandem'),
      h('p', null, 'Sign in with an operator or viewer token. It is kept in this tab only, until you close it.'),
      form)]);
    input.focus();
  }

  function showFatal(e) {
    append(clear($('#app')), [errorBox(e, 'The admin API did not answer')]);
  }

  // ---------------------------------------------------------------------------------------------- theme

  function effectiveTheme() {
    const chosen = document.documentElement.dataset.theme;
    if (chosen) return chosen;
    return window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  }

  function applyTheme(theme) {
    if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
    else delete document.documentElement.dataset.theme;
    $('#theme-toggle').textContent = effectiveTheme() === 'dark' ? 'Light theme' : 'Dark theme';
  }

  function toggleTheme() {
    const next = effectiveTheme() === 'dark' ? 'light' : 'dark';
    localStorage.setItem(THEME_KEY, next);
    applyTheme(next);
  }

  // ---------------------------------------------------------------------------------------------- routing

  function parseHash() {
    const raw = location.hash.replace(/^#\/?/, '');
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const parts = path.split('/').filter(Boolean).map(p => {
      try { return decodeURIComponent(p); } catch (e) { return p; }
    });
    return { page: parts[0] || 'workflows', arg: parts.slice(1).join('/'), params: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
  }

  const VIEWS = {
    workflows: workflowsView,
    workflow: workflowView,
    queues: queuesView,
    executors: executorsView,
    schedules: schedulesView,
    stuck: stuckView,
    audit: auditView,
  };

  function stopTimer() {
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
  }

  function every(ms, fn) {
    stopTimer();
    state.timer = setInterval(() => {
      if (state.live && !document.hidden && !$('#dialog').open) fn();
    }, ms);
  }

  async function render() {
    if (!state.me) return;
    stopTimer();
    const seq = ++state.renderSeq;
    const route = parseHash();
    const navPage = route.page === 'workflow' ? 'workflows' : route.page;
    document.querySelectorAll('.nav a').forEach(a => a.classList.toggle('active', a.dataset.page === navPage));
    const view = VIEWS[route.page];
    const root = $('#app');
    if (!view) {
      append(clear(root), [empty('No such page', 'Try the navigation above.')]);
      return;
    }
    const current = () => seq === state.renderSeq;
    try {
      await view(root, route, current);
    } catch (e) {
      if (current()) append(clear(root), [errorBox(e)]);
    }
  }

  function mount(root, current, ...nodes) {
    if (!current()) return false;
    append(clear(root), nodes);
    // Which route and render the page shows: tests wait on these instead of on time.
    root.dataset.route = location.hash;
    root.dataset.seq = String(state.renderSeq);
    return true;
  }

  function liveToggle(onResume) {
    const dot = h('span', { class: 'live-dot' + (state.live ? '' : ' paused') });
    const label = h('span', null, state.live ? 'Live' : 'Paused');
    const button = h('button', {
      type: 'button', class: 'btn btn-quiet btn-small refresh-state', id: 'live-toggle',
      title: 'Refresh automatically every few seconds',
      onclick: () => {
        state.live = !state.live;
        localStorage.setItem(LIVE_KEY, state.live ? 'live' : 'paused');
        dot.classList.toggle('paused', !state.live);
        label.textContent = state.live ? 'Live' : 'Paused';
        if (state.live && onResume) onResume();
      },
    }, dot, label);
    return button;
  }

  // ---------------------------------------------------------------------------------------------- workflow list

  function filtersFrom(params) {
    const f = {};
    for (const key of FILTER_KEYS) {
      const v = params.get(key);
      if (v !== null && v.trim() !== '') f[key] = v.trim();
    }
    return f;
  }

  function toQuery(f, omit) {
    const p = new URLSearchParams();
    for (const key of FILTER_KEYS) if (f[key] && key !== omit) p.set(key, f[key]);
    return p.toString();
  }

  function listHash(f) {
    const q = toQuery(f);
    return '#/workflows' + (q ? '?' + q : '');
  }

  function selectedStatuses(f) {
    return f.status ? f.status.split(',').map(s => s.trim().toUpperCase()).filter(Boolean) : [];
  }

  async function workflowsView(root, route, current) {
    const f = filtersFrom(route.params);
    state.lastList = listHash(f);
    const query = toQuery(f);
    // The first page is what the user waits for: it is asked before anything is drawn, and the counts (a scan of
    // every matching row) only once it has arrived, so that the two do not compete for the database.
    const listing = api('GET', 'workflows?' + (query ? query + '&' : '') + 'limit=' + PAGE_SIZE);
    const countsQuery = toQuery(f, 'status');
    const counting = listing.catch(() => null)
      .then(() => api('GET', 'workflows/counts' + (countsQuery ? '?' + countsQuery : '')));
    counting.catch(() => {});

    const hidden = state.me.values_hidden;
    const selected = new Set(selectedStatuses(f));
    const chips = STATUSES.map(s => h('button', {
      type: 'button', class: 'chip' + (selected.has(s) ? ' on' : ''), dataset: { status: s },
      'aria-pressed': selected.has(s) ? 'true' : 'false',
      onclick: () => {
        const next = new Set(selected);
        if (next.has(s)) next.delete(s); else next.add(s);
        const nf = Object.assign({}, f);
        if (next.size) nf.status = STATUSES.filter(x => next.has(x)).join(','); else delete nf.status;
        location.hash = listHash(nf);
      },
    }, h('span', { class: 'dot s-' + s }), s, h('span', { class: 'count' }, '…')));
    const total = h('span', { class: 'total', id: 'match-total' });

    const field = (key, label, placeholder, cls) => h('label', { class: 'field ' + (cls || '') }, label,
      h('input', { type: 'text', name: key, value: f[key] || '', placeholder, spellcheck: 'false',
        disabled: hidden && (key === 'input' || key === 'output'),
        title: hidden && (key === 'input' || key === 'output') ? 'Values are hidden for your role' : null }));
    const since = h('select', { name: 'since' }, SINCE_CHOICES.map(([v, label]) =>
      h('option', { value: v, selected: (f.since || '') === v }, label)));
    if (f.since && !SINCE_CHOICES.some(([v]) => v === f.since)) since.append(h('option', { value: f.since, selected: true }, 'Last ' + f.since));
    since.addEventListener('change', () => form.requestSubmit());

    const form = h('form', {
      class: 'filters', id: 'filters',
      onsubmit: event => {
        event.preventDefault();
        const nf = {};
        if (f.status) nf.status = f.status;
        for (const el of form.elements) {
          if (el.name && el.value.trim()) nf[el.name] = el.value.trim();
        }
        for (const key of ['input', 'output']) {
          if (!nf[key]) continue;
          try {
            parseJsonField(nf[key], key === 'input' ? 'Input filter' : 'Output filter', true);
            form.elements[key].classList.remove('invalid');
          } catch (e) {
            form.elements[key].classList.add('invalid');
            append(clear(formError), [errorBox(e, 'Filter')]);
            return;
          }
        }
        if (nf.since) delete nf.created_after;
        location.hash = listHash(nf);
      },
    },
      h('div', { class: 'status-line' }, h('div', { class: 'chips' }, chips), total, liveToggle(() => refreshCounts())),
      h('div', { class: 'filter-row' },
        field('name', 'Name', 'workflow name'),
        field('queue', 'Queue', 'queue'),
        field('executor', 'Executor', 'executor id'),
        h('label', { class: 'field' }, 'Created', since),
        field('id_prefix', 'ID starts with', 'order-'),
        field('parent', 'Parent', 'parent workflow id')),
      h('div', { class: 'filter-row' },
        field('input', 'Input contains (JSON)', '{"customer": "ada"}', 'wide'),
        field('output', 'Output contains (JSON)', '{"paid": true}', 'wide'),
        field('created_after', 'Created after', '2026-11-30T09:00:00Z', 'narrow'),
        field('created_before', 'Created before', 'ISO instant', 'narrow'),
        h('div', { class: 'filter-buttons' },
          h('button', { type: 'submit', class: 'btn btn-primary', id: 'apply-filters' }, 'Apply'),
          h('button', { type: 'button', class: 'btn', onclick: () => { location.hash = '#/workflows'; } }, 'Clear'))));
    const formError = h('div');

    const hasFilter = Object.keys(f).length > 0;
    const bulkButtons = canAct() ? [
      h('button', { type: 'button', class: 'btn btn-small', id: 'bulk-resume', disabled: !hasFilter,
        title: hasFilter ? 'Resume every matching workflow that ended in error or was cancelled' : 'Set a filter first',
        onclick: () => bulk('resume', f) }, 'Resume all matching…'),
      h('button', { type: 'button', class: 'btn btn-small btn-danger', id: 'bulk-cancel', disabled: !hasFilter,
        title: hasFilter ? 'Cancel every matching workflow that has not ended' : 'Set a filter first',
        onclick: () => bulk('cancel', f) }, 'Cancel all matching…'),
    ] : [];
    const tbody = h('tbody');
    const tableHolder = h('div', { class: 'table-wrap' }, h('p', { class: 'empty' }, 'Loading…'));
    const foot = h('div', { class: 'table-foot', hidden: true });
    const shown = h('span', { class: 'muted small', id: 'shown-count' });

    mount(root, current,
      h('div', { class: 'page-head' }, h('h1', null, 'Workflows'),
        hidden ? h('span', { class: 'muted small' }, 'Inputs and outputs are hidden for your role.') : null),
      h('section', { class: 'panel' }, form), formError,
      h('section', { class: 'panel panel-flush' },
        h('div', { class: 'panel-head' }, h('h2', null, 'Newest first'), shown, h('span', { class: 'spacer' }),
          bulkButtons,
          h('button', { type: 'button', class: 'btn btn-small', id: 'refresh-list', onclick: () => render() }, 'Refresh')),
        tableHolder, foot));

    function showCounts(counts) {
      const by = counts.by_status || {};
      chips.forEach(chip => {
        const n = by[chip.dataset.status] || 0;
        chip.querySelector('.count').textContent = n.toLocaleString();
        chip.classList.toggle('zero', n === 0 && !selected.has(chip.dataset.status));
      });
      const matching = selected.size ? [...selected].reduce((sum, s) => sum + (by[s] || 0), 0) : counts.total;
      total.textContent = matching.toLocaleString() + ' matching';
    }

    async function refreshCounts() {
      try {
        const counts = await api('GET', 'workflows/counts' + (countsQuery ? '?' + countsQuery : ''));
        if (current()) showCounts(counts);
      } catch (e) { /* the next tick tries again; the list shows errors */ }
    }

    let page;
    try {
      page = await listing;
    } catch (e) {
      if (current()) append(clear(tableHolder), [h('div', { class: 'table-foot' }, errorBox(e, 'Cannot list workflows'))]);
      return;
    }
    if (!current()) return;
    let count = page.workflows.length;
    if (count === 0) {
      append(clear(tableHolder), [empty('No workflows match', hasFilter ? 'Change or clear the filters.' : 'Nothing has run yet.')]);
    } else {
      tbody.append(...page.workflows.map(row));
      append(clear(tableHolder), [h('table', { class: 'data', id: 'workflow-table' },
        h('thead', null, h('tr', null, h('th', null, 'Status'), h('th', null, 'Workflow ID'), h('th', null, 'Name'),
          h('th', null, 'Input'), h('th', null, 'Queue'), h('th', null, 'Executor'), h('th', { class: 'num' }, 'Att.'),
          h('th', null, 'Created'), h('th', { class: 'num' }, 'Duration'), h('th', null, 'Error / waiting'))),
        tbody)]);
    }
    shown.textContent = count ? count.toLocaleString() + ' shown' : '';
    let next = page.next;
    const more = h('button', { type: 'button', class: 'btn', id: 'load-more' }, 'Load more');
    more.addEventListener('click', async () => {
      more.disabled = true;
      try {
        const p = await api('GET', 'workflows?' + (query ? query + '&' : '') + 'limit=' + PAGE_SIZE + '&cursor=' + encodeURIComponent(next));
        if (!current()) return;
        tbody.append(...p.workflows.map(row));
        count += p.workflows.length;
        shown.textContent = count.toLocaleString() + ' shown';
        next = p.next;
        foot.hidden = !next;
      } catch (e) {
        toast('Cannot load more: ' + e.message, 'bad');
      }
      more.disabled = false;
    });
    append(foot, [more]);
    foot.hidden = !next;
    performance.mark('tandem:list-rendered');

    try { showCounts(await counting); } catch (e) { total.textContent = 'counts unavailable: ' + e.message; }
    if (current()) every(COUNTS_EVERY_MS, refreshCounts);
  }

  function row(w) {
    const href = wfHref(w.workflow_id);
    const info = waitingText(w.error ? [w.error.type, w.error.message].filter(Boolean).join(': ') : w.waiting_reason);
    const failed = w.status === 'ERROR' || w.status === 'RETRIES_EXCEEDED';
    return h('tr', {
      class: 'clickable wf-row', dataset: { id: w.workflow_id, status: w.status },
      onclick: event => {
        if (event.target.closest('a')) return;
        location.hash = href;
      },
    },
      h('td', null, badge(w.status)),
      h('td', { class: 'id', title: w.workflow_id }, h('a', { href }, w.workflow_id)),
      h('td', { class: 'nowrap' }, w.name),
      h('td', { class: 'clip-input mono', title: w.redacted ? 'hidden' : compactJson(w.input) }, w.redacted ? h('span', { class: 'muted' }, 'hidden') : compactJson(w.input)),
      h('td', null, w.queue_name || h('span', { class: 'muted' }, '—')),
      h('td', { class: 'clip' }, w.executor_id || h('span', { class: 'muted' }, '—')),
      h('td', { class: 'num' }, w.attempts),
      timeCell(w.created_at),
      h('td', { class: 'num nowrap' }, w.status === 'ENQUEUED' || w.status === 'DELAYED' ? h('span', { class: 'muted' }, 'waiting') : fmtDuration(wfDuration(w))),
      h('td', { class: 'fill' + (failed ? ' err' : ' muted'), title: info }, info));
  }

  async function bulk(action, f) {
    const filter = Object.assign({}, f);
    for (const key of ['input', 'output']) if (filter[key]) filter[key] = JSON.parse(filter[key]);
    let dry;
    try {
      dry = await api('POST', 'workflows/bulk/' + action, { filter, dry_run: true });
    } catch (e) {
      toast(e.message, 'bad');
      return;
    }
    const verb = action === 'cancel' ? 'cancel' : 'resume';
    const which = action === 'cancel' ? 'that have not ended' : 'that ended in error or were cancelled';
    if (dry.matched === 0) {
      await openDialog({ title: 'Nothing to ' + verb, ok: 'Close',
        body: h('p', null, 'No workflow matching these filters ' + (action === 'cancel' ? 'is still live.' : 'can be resumed.')) });
      return;
    }
    const result = await openDialog({
      title: (action === 'cancel' ? 'Cancel ' : 'Resume ') + dry.matched.toLocaleString() + ' workflow' + (dry.matched === 1 ? '' : 's') + '?',
      danger: action === 'cancel',
      ok: (action === 'cancel' ? 'Cancel ' : 'Resume ') + dry.matched.toLocaleString(),
      body: [h('p', { id: 'bulk-summary' }, 'Dry run: ' + dry.matched.toLocaleString() + ' workflow' + (dry.matched === 1 ? '' : 's')
        + ' matching these filters ' + which + ' would be ' + (action === 'cancel' ? 'cancelled' : 'resumed') + '.'),
      h('p', { class: 'muted small' }, 'Filters: ' + (toQuery(f) ? decodeURIComponent(toQuery(f)).replace(/&/g, ', ') : 'none')),
      dry.sample && dry.sample.length ? h('div', { class: 'sample' }, 'For example: ', dry.sample.slice(0, 8).join(', '),
        dry.matched > 8 ? ', …' : '') : null],
      onOk: () => api('POST', 'workflows/bulk/' + action, { filter, dry_run: false }),
    });
    if (result) {
      toast(result.affected.toLocaleString() + ' of ' + result.matched.toLocaleString() + ' workflow(s) '
        + (action === 'cancel' ? 'cancelled' : 'resumed') + '.');
      render();
    }
  }

  // ---------------------------------------------------------------------------------------------- one workflow

  async function workflowView(root, route, current) {
    const id = route.arg;
    let selectedStep = null;
    let wf;
    const shownValue = v => wf.redacted ? h('span', { class: 'muted' }, 'hidden') : h('code', null, compactJson(v));
    try {
      wf = await api('GET', 'workflows/' + encodeURIComponent(id));
    } catch (e) {
      mount(root, current, link(state.lastList, '← Workflows', 'crumb'), errorBox(e, e.status === 404 ? 'Not found' : 'Error'));
      return;
    }
    draw(wf);
    if (!FINAL.has(wf.status)) {
      every(DETAIL_EVERY_MS, async () => {
        try {
          const fresh = await api('GET', 'workflows/' + encodeURIComponent(id));
          if (current() && JSON.stringify(fresh) !== JSON.stringify(wf)) draw(fresh);
          if (FINAL.has(fresh.status)) stopTimer();
        } catch (e) { /* shown on the next manual refresh */ }
      });
    }

    function draw(w) {
      wf = w;
      const flash = state.flash && state.flash.id === id ? state.flash : null;
      state.flash = null;
      const facts = [
        ['Queue', w.queue_name || '—'],
        ['Executor', w.executor_id ? link('#/workflows?executor=' + encodeURIComponent(w.executor_id), w.executor_id) : '—'],
        ['Attempts', String(w.attempts)],
        ['Version', w.app_version || '—'],
        ['Created', fmtTime(w.created_at)],
        w.started_at ? ['Started', fmtTime(w.started_at)] : null,
        ['Updated', fmtTime(w.updated_at)],
        ['Duration', w.status === 'ENQUEUED' || w.status === 'DELAYED' ? 'not started' : fmtDuration(wfDuration(w))],
      ].filter(Boolean);
      if (w.parent_workflow_id) facts.push(['Parent', wfLink(w.parent_workflow_id)]);
      if (w.forked_from) facts.push(['Forked from', wfLink(w.forked_from)]);
      if (w.deadline_at) facts.push(['Deadline', fmtTime(w.deadline_at)]);
      if (w.waiting_reason) facts.push(['Waiting', waitingText(w.waiting_reason)]);

      const valuesHidden = w.redacted;
      mount(root, current,
        link(state.lastList, '← Workflows', 'crumb'),
        flash ? h('div', { class: 'notice' + (flash.changed ? '' : ' unchanged'), id: 'action-result', role: 'status' },
          h('strong', null, flash.action + ': '), flash.outcome,
          flash.status ? ' — status now ' + flash.status : '',
          flash.newId ? [' — ', link(wfHref(flash.newId), 'open ' + flash.newId)] : null) : null,
        h('section', { class: 'panel' },
          h('div', { class: 'wf-head' }, h('span', { id: 'wf-status' }, badge(w.status, true)), h('h1', { id: 'wf-name' }, w.name),
            h('span', { class: 'wf-id', id: 'wf-id' }, w.workflow_id), h('span', { class: 'spacer' }), FINAL.has(w.status) ? null : liveToggle(null)),
          h('div', { class: 'facts' }, facts.map(([k, v]) => h('div', { class: 'fact' }, h('div', { class: 'k' }, k), h('div', { class: 'v' }, v)))),
          canAct() ? actions(w) : null),
        timeline(w),
        h('div', { class: 'two-col' },
          h('section', { class: 'panel' }, h('h2', null, 'Input'), valuesHidden ? h('p', { class: 'muted' }, 'Hidden for your role.') : jsonView(w.input)),
          h('section', { class: 'panel' }, h('h2', null, w.error ? 'Error' : 'Output'),
            w.error ? errorView(w.error, true)
              : valuesHidden ? h('p', { class: 'muted' }, 'Hidden for your role.')
                : FINAL.has(w.status) ? jsonView(w.output) : h('p', { class: 'muted' }, 'Not finished yet.'))),
        children(w), events(w), streams(w), messages(w),
        w.truncated ? h('p', { class: 'muted small' }, 'Some lists were cut at 1,000 entries.') : null);
    }

    function timeline(w) {
      const steps = w.steps || [];
      const panel = h('section', { class: 'panel', id: 'timeline' });
      panel.append(h('div', { class: 'page-head' }, h('h2', null, 'Steps'),
        h('span', { class: 'muted small' }, steps.length + ' step' + (steps.length === 1 ? '' : 's'))));
      if (!steps.length) {
        panel.append(empty('No steps recorded yet', w.status === 'ENQUEUED' || w.status === 'DELAYED' ? 'It has not started.' : ''));
        return panel;
      }
      const created = Date.parse(w.created_at);
      const wfEnd = (FINAL.has(w.status) ? Date.parse(w.updated_at) : Date.now()) - created;
      const stepsEnd = Math.max(...steps.map(s => s.offset_millis + s.duration_millis));
      const totalMs = Math.max(stepsEnd, wfEnd, 1);
      const pct = ms => Math.min(100, Math.max(0, (ms / totalMs) * 100)).toFixed(3) + '%';
      const tl = h('div', { class: 'timeline' });
      tl.append(h('div', { class: 'tl-axis' }, h('span', null, 'step'),
        h('div', { class: 'tl-ticks' }, [0, 0.25, 0.5, 0.75, 1].map(x => h('span', { class: 'tl-tick', vars: { '--at': (x * 100) + '%' } }, fmtDuration(x * totalMs)))),
        h('span', { class: 'tl-dur' }, 'took')));
      const detail = h('div', { class: 'step-detail', id: 'step-detail', hidden: true });
      const rows = steps.map(s => {
        const wait = WAIT_KINDS.has(s.kind);
        const failed = !!s.error;
        const tip = '#' + s.position + ' ' + s.name + ' (' + s.kind + '): ' + fmtDuration(s.duration_millis)
          + ', at +' + fmtDuration(s.offset_millis) + (failed ? ' — failed: ' + (s.error.message || s.error.type || '') : '');
        const r = h('div', { class: 'tl-row', dataset: { position: s.position }, title: tip, tabindex: 0, role: 'button' },
          h('div', { class: 'tl-label' }, h('span', { class: 'pos' }, s.position), h('span', { class: 'name' }, s.name), h('span', { class: 'tl-kind' }, s.kind)),
          h('div', { class: 'tl-track' }, h('div', {
            class: 'tl-bar k-' + s.kind + (wait ? ' wait' : '') + (failed ? ' failed' : ''),
            vars: { '--left': pct(Math.min(s.offset_millis, totalMs * 0.995)), '--width': pct(s.duration_millis) },
          })),
          h('span', { class: 'tl-dur' }, fmtDuration(s.duration_millis)));
        const select = () => {
          selectedStep = s.position;
          tl.querySelectorAll('.tl-row.selected').forEach(x => x.classList.remove('selected'));
          r.classList.add('selected');
          showStep(detail, s);
        };
        r.addEventListener('click', select);
        r.addEventListener('keydown', e => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); select(); } });
        if (selectedStep === s.position) setTimeout(select);
        return r;
      });
      append(tl, rows);
      panel.append(tl, h('div', { class: 'legend' },
        h('span', null, h('i', { class: 'tl-bar' }), 'step'),
        h('span', null, h('i', { class: 'tl-bar k-TRANSACTION' }), 'transaction'),
        h('span', null, h('i', { class: 'tl-bar wait' }), 'waiting (sleep, recv, child result)'),
        h('span', null, h('i', { class: 'tl-bar k-CHILD' }), 'child started'),
        h('span', null, h('i', { class: 'tl-bar k-SEND' }), 'send / event / stream'),
        h('span', null, h('i', { class: 'tl-bar failed' }), 'failed'),
        h('span', null, 'Click a step for its output.')), detail);
      return panel;
    }

    function showStep(detail, s) {
      const facts = [['Step', '#' + s.position + ' ' + s.name], ['Kind', s.kind], ['Started', fmtTime(s.started_at)],
        ['Finished', fmtTime(s.finished_at)], ['At', '+' + fmtDuration(s.offset_millis)], ['Took', fmtDuration(s.duration_millis)]];
      if (s.child_workflow_id) facts.push(['Child', wfLink(s.child_workflow_id)]);
      append(clear(detail), [h('div', { class: 'facts' }, facts.map(([k, v]) => h('div', { class: 'fact' }, h('div', { class: 'k' }, k), h('div', { class: 'v' }, v)))),
        s.error ? errorView(s.error, true) : wf.redacted ? h('p', { class: 'muted' }, 'Output hidden for your role.') : [h('h3', null, 'Output'), jsonView(s.output)]]);
      detail.hidden = false;
    }

    function table(title, idName, headers, items, cells, emptyText) {
      return h('section', { class: 'panel panel-flush', id: idName },
        h('div', { class: 'panel-head' }, h('h2', null, title), h('span', { class: 'muted small' }, String(items.length))),
        items.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
          h('thead', null, h('tr', null, headers.map(x => h('th', null, x)))),
          h('tbody', null, items.map(cells)))) : h('p', { class: 'empty' }, emptyText));
    }

    function children(w) {
      if (!w.children.length) return null;
      return table('Children', 'children', ['Status', 'Workflow ID', 'Name', 'Created', 'Duration'], w.children, c =>
        h('tr', { class: 'clickable', onclick: e => { if (!e.target.closest('a')) location.hash = wfHref(c.workflow_id); } },
          h('td', null, badge(c.status)), h('td', { class: 'id' }, wfLink(c.workflow_id)), h('td', null, c.name),
          timeCell(c.created_at), h('td', null, fmtDuration(wfDuration(c)))), '');
    }

    function events(w) {
      return table('Events', 'events', ['Key', 'Value', 'Updated'], w.events, e =>
        h('tr', null, h('td', { class: 'mono' }, e.key), h('td', { class: 'clip' }, shownValue(e.value)), timeCell(e.updated_at)),
        'No events set.');
    }

    function streams(w) {
      return table('Streams', 'streams', ['Key', '#', 'Value', 'Written'], w.streams, s =>
        h('tr', null, h('td', { class: 'mono' }, s.key), h('td', { class: 'num' }, s.position),
          h('td', { class: 'clip' }, s.closed ? h('span', { class: 'muted' }, '(closed)') : shownValue(s.value)), timeCell(s.created_at)),
        'No stream values.');
    }

    function messages(w) {
      return table('Messages', 'messages', ['Topic', 'Message', 'Idempotency key', 'Sent', 'Received'], w.messages, m =>
        h('tr', null, h('td', { class: 'mono' }, m.topic || h('span', { class: 'muted' }, '(default)')),
          h('td', { class: 'clip' }, shownValue(m.message)), h('td', { class: 'mono' }, m.idempotency_key || '—'),
          timeCell(m.created_at), m.consumed_at ? timeCell(m.consumed_at) : h('td', { class: 'muted' }, 'not yet')),
        'No messages sent to it.');
    }

    function actions(w) {
      const buttons = [];
      const act = async (name, body, opts) => {
        const result = await openDialog(Object.assign({
          onOk: () => api('POST', 'workflows/' + encodeURIComponent(w.workflow_id) + '/' + name, body ? body() : undefined),
        }, opts));
        if (!result) return;
        state.flash = { id: w.workflow_id, action: result.action, changed: result.changed, outcome: result.outcome,
          status: result.status, newId: result.new_workflow_id };
        render();
      };
      if (!FINAL.has(w.status)) {
        const withChildren = h('input', { type: 'checkbox', id: 'cancel-children', checked: true });
        buttons.push(h('button', { type: 'button', class: 'btn btn-danger', dataset: { action: 'cancel' },
          onclick: () => act('cancel', () => ({ with_children: withChildren.checked }), {
            title: 'Cancel this workflow?', danger: true, ok: 'Cancel workflow',
            body: [h('p', null, 'It stops at its next step boundary and ends CANCELLED. You can resume it later.'),
              h('label', null, withChildren, ' Cancel its children too')],
          }) }, 'Cancel'));
      }
      if (RESUMABLE.has(w.status)) {
        buttons.push(h('button', { type: 'button', class: 'btn btn-primary', dataset: { action: 'resume' },
          onclick: () => act('resume', null, {
            title: 'Resume this workflow?', ok: 'Resume',
            body: h('p', null, 'It runs again from its last checkpoint: recorded steps are not repeated; a failed step runs again.'),
          }) }, 'Resume'));
      }
      if (FINAL.has(w.status)) {
        const failed = (w.steps || []).find(s => s.error);
        const stepInput = h('input', { type: 'number', min: 1, max: (w.steps || []).length + 1, id: 'fork-step',
          value: String(failed ? failed.position : Math.max(1, (w.steps || []).length)) });
        buttons.push(h('button', { type: 'button', class: 'btn', dataset: { action: 'fork' },
          onclick: () => act('fork', () => ({ from_step: parseInt(stepInput.value, 10) }), {
            title: 'Fork from a step', ok: 'Fork',
            body: [h('p', null, 'Starts a new workflow with the same input that reuses the recorded results of the steps before this one and runs from it.'),
              h('label', { class: 'field' }, 'From step (1 = the first)', stepInput)],
          }) }, 'Fork…'));
        buttons.push(h('button', { type: 'button', class: 'btn', dataset: { action: 'restart' },
          onclick: () => act('restart', null, {
            title: 'Restart this workflow?', ok: 'Restart',
            body: h('p', null, 'Starts a new workflow with the same input, from the first step. This one stays as it is.'),
          }) }, 'Restart'));
      }
      if (w.status !== 'SUCCESS') {
        const version = h('input', { type: 'text', id: 'set-version', placeholder: 'empty: any version may run it' });
        version.value = w.app_version || '';
        buttons.push(h('button', { type: 'button', class: 'btn', dataset: { action: 'set-version' },
          onclick: () => act('set-version', () => ({ app_version: version.value.trim() || null }), {
            title: 'Move to another application version', ok: 'Set version',
            body: [h('p', null, 'Executors of that version will run it, replaying its recorded steps with their code. Use it for a stranded workflow whose version no longer runs, if the new code follows its history.'),
              h('label', { class: 'field' }, 'Application version', version)],
          }) }, 'Set version…'));
      }
      if (!FINAL.has(w.status)) {
        const topic = h('input', { type: 'text', id: 'send-topic', placeholder: '(default topic)' });
        const message = h('textarea', { id: 'send-message', spellcheck: 'false' });
        message.value = '{\n  "approved": true\n}';
        const key = h('input', { type: 'text', id: 'send-key', placeholder: 'optional: makes a re-send a no-op' });
        buttons.push(h('button', { type: 'button', class: 'btn', dataset: { action: 'send' },
          onclick: () => act('send', () => {
            const body = { message: parseJsonField(message.value, 'The message', false) };
            if (topic.value.trim()) body.topic = topic.value.trim();
            if (key.value.trim()) body.idempotency_key = key.value.trim();
            return body;
          }, {
            title: 'Send a message', ok: 'Send',
            body: [h('label', { class: 'field' }, 'Topic', topic), h('label', { class: 'field' }, 'Message (JSON)', message),
              h('label', { class: 'field' }, 'Idempotency key', key)],
          }) }, 'Send message…'));
      }
      return h('div', { class: 'actions', id: 'actions' }, buttons);
    }
  }

  // ---------------------------------------------------------------------------------------------- other pages

  function simpleTable(headers, items, cells, emptyNode, idName) {
    if (!items.length) return emptyNode;
    return h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: idName },
      h('thead', null, h('tr', null, headers.map(x => Array.isArray(x) ? h('th', { class: x[1] }, x[0]) : h('th', null, x)))),
      h('tbody', null, items.map(cells))));
  }

  const num = v => h('td', { class: 'num' }, v === null || v === undefined ? '—' : Number(v).toLocaleString());
  const orDash = v => (v === null || v === undefined || v === '') ? h('span', { class: 'muted' }, '—') : String(v);

  async function pageWithRefresh(root, current, title, subtitle, load, draw, everyMs) {
    const body = h('section', { class: 'panel panel-flush' }, h('p', { class: 'empty' }, 'Loading…'));
    let shown = null;
    const refresh = async () => {
      try {
        const data = await load();
        const text = JSON.stringify(data);
        if (text === shown) return; // unchanged: keep the DOM (and the reader's selection) as it is
        shown = text;
        if (current()) append(clear(body), [draw(data)]);
      } catch (e) {
        if (current()) append(clear(body), [h('div', { class: 'table-foot' }, errorBox(e))]);
      }
    };
    mount(root, current, h('div', { class: 'page-head' }, h('h1', null, title),
      h('span', { class: 'muted small' }, subtitle), h('span', { class: 'spacer' }), everyMs ? liveToggle(refresh) : null), body);
    await refresh();
    if (everyMs && current()) every(everyMs, refresh);
  }

  function queuesView(root, route, current) {
    return pageWithRefresh(root, current, 'Queues', 'Limits and what waits, across all executors.', () => api('GET', 'queues'), queues =>
      simpleTable(['Queue', ['Concurrency', 'num'], ['Per executor', 'num'], 'Rate limit', ['Per partition', 'num'],
        ['Waiting', 'num'], ['Delayed', 'num'], ['Running', 'num'], ['Oldest waiting', 'num'], ['Started last min', 'num']], queues, q =>
        h('tr', { class: 'clickable', onclick: () => { location.hash = '#/workflows?queue=' + encodeURIComponent(q.name); } },
          h('td', null, h('a', { href: '#/workflows?queue=' + encodeURIComponent(q.name) }, q.name),
            q.declared ? null : h('span', { class: 'muted small' }, ' (not declared)')),
          num(q.concurrency), num(q.worker_concurrency),
          h('td', null, q.rate_limit ? q.rate_limit + ' per ' + fmtDuration(q.rate_period_seconds * 1000) : h('span', { class: 'muted' }, '—')),
          num(q.partition_concurrency), num(q.waiting), num(q.delayed), num(q.running),
          h('td', { class: 'num' }, q.oldest_waiting_seconds === null ? '—' : fmtDuration(q.oldest_waiting_seconds * 1000)),
          num(q.started_last_minute)),
      empty('No queues', 'Declare one with Tandem.builder().queue(name, options).'), 'queue-table'), 5000);
  }

  function executorsView(root, route, current) {
    return pageWithRefresh(root, current, 'Executors', 'Engine processes and their heartbeats.', () => api('GET', 'executors'), executors =>
      simpleTable(['Executor', 'State', 'Version', 'Host', ['PID', 'num'], ['Heartbeat', 'num'], 'Started', ['Running', 'num'], 'Running now', 'Registered workflows'],
        executors, e => h('tr', null,
          h('td', { class: 'mono' }, link('#/workflows?executor=' + encodeURIComponent(e.executor_id), e.executor_id)),
          h('td', null, h('span', { class: 'badge ' + (e.alive ? 'b-ok' : e.state === 'stopped' ? 'b-muted' : 'b-bad') }, e.alive ? 'live' : e.state)),
          h('td', { class: 'mono' }, orDash(e.app_version)),
          h('td', null, orDash(e.hostname)), num(e.pid),
          h('td', { class: 'num nowrap' + (e.state === 'dead' ? ' err' : '') }, e.heartbeat_age_seconds === null ? '—' : fmtDuration(e.heartbeat_age_seconds * 1000) + ' ago'),
          timeCell(e.started_at),
          h('td', { class: 'num' }, e.running ? link('#/workflows?status=RUNNING&executor=' + encodeURIComponent(e.executor_id), String(e.running)) : '0'),
          h('td', null, h('div', { class: 'kv-list' }, Object.entries(e.running_by_name || {}).map(([n, c]) => h('span', { class: 'tag' }, n + ' × ' + c)))),
          h('td', null, h('div', { class: 'kv-list' }, (e.workflow_names || []).map(n => h('span', { class: 'tag' }, n))))),
        empty('No executors', 'No Tandem engine has started against this database.'), 'executor-table'), 5000);
  }

  function schedulesView(root, route, current) {
    const scheduleAction = async (s, action, opts, body) => {
      const result = await openDialog(Object.assign({
        onOk: () => api('POST', 'schedules/' + encodeURIComponent(s.name) + '/' + action, body ? body() : undefined),
      }, opts));
      if (result) {
        toast(s.name + ': ' + result.outcome, result.changed ? null : 'warn');
        render();
      }
    };
    return pageWithRefresh(root, current, 'Schedules', 'Cron schedules and their next ticks.', () => api('GET', 'schedules'), schedules =>
      simpleTable(['Schedule', 'Workflow', 'Cron', 'Time zone', 'Queue', 'Catch-up', 'State', 'Next tick', 'Last tick', canAct() ? '' : null].filter(x => x !== null),
        schedules, s => h('tr', { dataset: { schedule: s.name } },
          h('td', { class: 'mono' }, s.name),
          h('td', null, link('#/workflows?name=' + encodeURIComponent(s.workflow_name), s.workflow_name)),
          h('td', { class: 'mono' }, s.cron), h('td', null, s.time_zone), h('td', null, s.queue_name), h('td', null, s.catch_up),
          h('td', null, h('span', { class: 'badge ' + (s.paused ? 'b-warn' : 'b-ok') }, s.paused ? 'paused' : 'active')),
          h('td', { class: 'nowrap' }, s.paused ? h('span', { class: 'muted' }, '—') : fmtTime(s.next_tick)),
          h('td', { class: 'nowrap' }, fmtTime(s.last_tick)),
          canAct() ? h('td', { class: 'nowrap' },
            h('button', { type: 'button', class: 'btn btn-small', dataset: { action: s.paused ? 'resume' : 'pause' },
              onclick: () => scheduleAction(s, s.paused ? 'resume' : 'pause', {
                title: (s.paused ? 'Resume' : 'Pause') + ' schedule ' + s.name + '?', ok: s.paused ? 'Resume' : 'Pause',
                body: h('p', null, s.paused ? 'Ticks start again from the next one (' + s.catch_up + ' decides about missed ones).' : 'No ticks start while it is paused.'),
              }) }, s.paused ? 'Resume' : 'Pause'), ' ',
            h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'trigger' },
              onclick: () => scheduleAction(s, 'trigger', {
                title: 'Trigger ' + s.name + ' now?', ok: 'Trigger',
                body: h('p', null, 'Starts one ' + s.workflow_name + ' workflow now, outside the cron times.'),
              }) }, 'Trigger'), ' ',
            h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'backfill' },
              onclick: () => {
                const from = h('input', { type: 'text', id: 'backfill-from', value: new Date(Date.now() - 86400000).toISOString().replace(/\.\d+Z$/, 'Z') });
                const to = h('input', { type: 'text', id: 'backfill-to', value: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
                scheduleAction(s, 'backfill', {
                  title: 'Backfill ' + s.name, ok: 'Backfill',
                  body: [h('p', null, 'Enqueues one workflow per cron tick in this range (ticks that already ran are skipped).'),
                    h('label', { class: 'field' }, 'From (ISO-8601)', from), h('label', { class: 'field' }, 'To (ISO-8601)', to)],
                }, () => ({ from: from.value.trim(), to: to.value.trim() }));
              } }, 'Backfill…')) : null),
        empty('No schedules', 'Create one with tandem.schedules().create(...).'), 'schedule-table'), 10000);
  }

  function stuckView(root, route, current) {
    return pageWithRefresh(root, current, 'Stuck workflows', 'Workflows that are not moving, and why.', () => api('GET', 'stuck'), stuck =>
      simpleTable(['Reason', 'Workflow', 'Name', 'Status', 'Queue', 'Executor', 'Stuck since', 'Detail'], stuck, s =>
        h('tr', { class: 'clickable', onclick: e => { if (!e.target.closest('a')) location.hash = wfHref(s.workflow_id); } },
          h('td', null, h('span', { class: 'badge badge-plain ' + (s.reason === 'DEAD_EXECUTOR' || s.reason === 'UNKNOWN_WORKFLOW' ? 'b-bad' : 'b-warn') }, s.reason)),
          h('td', { class: 'id' }, wfLink(s.workflow_id)), h('td', null, s.name), h('td', null, badge(s.status)),
          h('td', null, orDash(s.queue_name)), h('td', { class: 'clip' }, orDash(s.executor_id)),
          h('td', { class: 'nowrap', title: fmtTime(s.since) }, fmtAgo(s.since)),
          h('td', null, s.detail)),
        empty('Nothing is stuck', 'Every live workflow is running, waiting its turn, or sleeping on purpose.'), 'stuck-table'), 10000);
  }

  async function auditView(root, route, current) {
    const tbody = h('tbody');
    const foot = h('div', { class: 'table-foot', hidden: true });
    const holder = h('div', { class: 'table-wrap' }, h('p', { class: 'empty' }, 'Loading…'));
    mount(root, current, h('div', { class: 'page-head' }, h('h1', null, 'Audit log'), h('span', { class: 'muted small' }, 'Every action, newest first.')),
      h('section', { class: 'panel panel-flush' }, holder, foot));
    const entryRow = a => h('tr', null,
      h('td', { class: 'nowrap' }, fmtTime(a.at)), h('td', null, a.actor), h('td', null, a.source), h('td', { class: 'mono' }, a.action),
      h('td', { class: 'id' }, a.target ? (a.action.startsWith('workflow.') && !a.action.startsWith('workflow.bulk')
        ? wfLink(a.target) : a.target) : '—'),
      h('td', null, a.outcome), h('td', { class: 'clip mono', title: compactJson(a.details) }, compactJson(a.details)));
    const load = async before => {
      const entries = await api('GET', 'audit?limit=100' + (before ? '&before=' + before : ''));
      if (!current()) return;
      tbody.append(...entries.map(entryRow));
      foot.hidden = entries.length < 100;
      lastId = entries.length ? entries[entries.length - 1].id : lastId;
      return entries;
    };
    let lastId = null;
    const first = await load(null);
    if (!current()) return;
    append(clear(holder), [first.length ? h('table', { class: 'data', id: 'audit-table' },
      h('thead', null, h('tr', null, ['At', 'Actor', 'Source', 'Action', 'Target', 'Outcome', 'Details'].map(x => h('th', null, x)))), tbody)
      : empty('No actions yet', 'Cancels, resumes, forks and schedule changes made through the API, the dashboard or the CLI appear here.')]);
    append(foot, [h('button', { type: 'button', class: 'btn', onclick: () => load(lastId).catch(e => toast(e.message, 'bad')) }, 'Load older')]);
  }

  document.addEventListener('DOMContentLoaded', boot);
})();
