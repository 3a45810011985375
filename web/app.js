/* golive's web interface (#14): one script for every page.  The pages
 * hold no data: it comes from the API (/api/v1) after sign-in, with the
 * session's cookie and, on changes, its CSRF token.  What a person may do
 * is what the API's `actions` say: nothing here re-implements a rule. */
'use strict';

(function () {
  var D = window.GL_I18N;
  var lang = localStorage.getItem('golive.lang') ||
    (/^zh/i.test(navigator.language || '') ? 'zh' : 'en');
  var page = location.pathname.replace(/\/+$/, '') || '/';
  var tv = /[?&]tv=1\b/.test(location.search);
  var csrf = sessionStorage.getItem('golive.csrf');
  var me = null;          /* GET /me */
  var data = {};          /* the last answers, by name */
  var offset = 0;         /* the plan's switch_at offset, minutes */
  var skew = 0;           /* server's clock minus ours, ms */
  var switchAt = null;    /* ms */
  var stream = null, reload = null, downSince = 0;

  function t(key) {
    var d = D[lang] || D.en;
    return d[key] !== undefined ? d[key] : (D.en[key] !== undefined ? D.en[key] : key);
  }

  /* el('div', {class: 'x'}, child, 'text', ...) */
  function el(tag, attrs) {
    var e = document.createElement(tag), k, i, c;
    for (k in attrs || {}) {
      if (attrs[k] === null || attrs[k] === undefined || attrs[k] === false) continue;
      if (k === 'class') e.className = attrs[k];
      else if (k === 'text') e.textContent = attrs[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
    }
    for (i = 2; i < arguments.length; i++) {
      c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) c.forEach(function (x) { if (x) e.appendChild(typeof x === 'string' ? document.createTextNode(x) : x); });
      else e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return e;
  }
  function $(id) { return document.getElementById(id); }

  function flash(msg, ok) {
    var f = $('flash');
    f.textContent = msg;
    f.className = ok ? 'ok' : 'bad';
    f.hidden = !msg;
  }

  /* ---- the API ---------------------------------------------------- */

  function api(method, path, body) {
    var h = {};
    if (body !== undefined) h['Content-Type'] = 'application/json';
    if (method !== 'GET' && csrf) h['X-Golive-CSRF'] = csrf;
    return fetch('/api/v1' + path, {
      method: method, headers: h, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      var ct = r.headers.get('Content-Type') || '';
      return (ct.indexOf('application/json') === 0 ? r.json() : r.text()).then(function (b) {
        if (r.status === 401 && page !== '/login') {
          signedOut();
          throw new Error(t('signed_out'));
        }
        if (r.status >= 400) {
          var m = b && b.error ? b.error.message : String(b);
          var err = new Error(m);
          err.status = r.status;
          throw err;
        }
        return b;
      });
    });
  }

  function signedOut() {
    sessionStorage.removeItem('golive.csrf');
    sessionStorage.removeItem('golive.person');
    location.replace('/login');
  }

  /* A change: the answer, or the server's refusal in the flash. */
  function act(method, path, body) {
    flash('');
    return api(method, path, body).then(function (b) {
      refresh();
      return b;
    }, function (e) {
      flash(e.message, false);
      throw e;
    });
  }

  /* ---- times ------------------------------------------------------ */

  function parseOffset(iso) {
    var m = /([+-])(\d\d):?(\d\d)$/.exec(iso || '');
    return m ? (m[1] === '-' ? -1 : 1) * (parseInt(m[2], 10) * 60 + parseInt(m[3], 10)) : 0;
  }
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function offLabel() {
    var a = Math.abs(offset);
    return offset === 0 ? 'UTC' : 'UTC' + (offset < 0 ? '−' : '+') + pad(Math.floor(a / 60)) + ':' + pad(a % 60);
  }
  /* an ISO time in the plan's offset: "14 Mar 01:05" (or "01:05" today) */
  function fmtTime(iso) {
    if (!iso) return '—';
    var ms = Date.parse(iso);
    if (isNaN(ms)) return iso;
    var d = new Date(ms + offset * 60000), n = new Date(Date.now() + skew + offset * 60000);
    var hm = pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes());
    if (d.toISOString().slice(0, 10) === n.toISOString().slice(0, 10)) return hm;
    return d.toISOString().slice(5, 10) + ' ' + hm;
  }
  /* seconds as T±: T−2h15m, T+45s */
  function fmtT(sec, full) {
    var s = Math.abs(Math.round(sec)), out = '';
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600),
      m = Math.floor(s % 3600 / 60), x = s % 60;
    if (d) out += d + 'd';
    if (h) out += h + 'h';
    if (m && (full || !d)) out += m + 'm';
    if (full && !d && (x || !out)) out += x + 's';
    if (!out) return 'T0';
    return 'T' + (sec < 0 ? '−' : '+') + out;
  }
  function fmtDur(sec) {
    return fmtT(sec).replace(/^T[+−]/, '').replace('T0', '0m');
  }

  /* ---- the frame: header, navigation, connection ---------------- */

  var PAGES = [['/', 'nav_warroom'], ['/me', 'nav_me'], ['/defects', 'nav_defects'],
    ['/duty', 'nav_duty'], ['/events', 'nav_events'], ['/report', 'nav_report']];

  function frame() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.body.classList.toggle('tv', tv);
    var nav = $('nav');
    nav.textContent = '';
    if (page !== '/login' && !tv)
      PAGES.forEach(function (p) {
        nav.appendChild(el('a', {href: p[0], 'aria-current': p[0] === page ? 'page' : null, text: t(p[1])}));
      });
    $('lang').textContent = lang === 'zh' ? 'English' : '中文';
    $('lang').setAttribute('aria-label', t('language'));
    $('signout').textContent = t('sign_out');
    $('signout').hidden = page === '/login' || tv || !csrf;
    $('who').textContent = me ? me.person + (me.viewer ? ' (' + t('viewer') + ')' : '') : '';
    $('cutover').textContent = data.status ? (data.status.title || data.status.cutover || '') + (data.status.rehearsal ? ' · ' + t('rehearsal') : '') : '';
    connShow();
    var title = t(page === '/login' ? 'sign_in' : (PAGES.filter(function (p) { return p[0] === page; })[0] || [0, 'nav_warroom'])[1]);
    document.title = title + ' · golive';
  }

  function connShow() {
    var c = $('conn');
    if (page === '/login') { c.textContent = ''; return; }
    if (downSince) {
      c.textContent = '⚠ ' + t('unreachable');
      c.className = 'bad';
    } else if (stream && stream.readyState === 1) {
      c.textContent = '● ' + t('live');
      c.className = 'ok';
    } else {
      c.textContent = '○ ' + t('connecting');
      c.className = '';
    }
  }

  /* The event stream: any event refreshes the page's data (at most every
   * 250 ms); a lost stream is reopened; while the server cannot be
   * reached the header says so. */
  function follow() {
    if (stream) stream.close();
    stream = new EventSource('/api/v1/events/stream');
    stream.onopen = function () {
      var was = downSince;
      downSince = 0;
      connShow();
      if (was) refresh();
    };
    stream.onmessage = function () { soon(); };
    stream.onerror = function () {
      if (!downSince) downSince = Date.now();
      connShow();
      if (stream.readyState === 2) {
        /* closed for good (an answer that is not a stream): try again,
         * after checking that the session still holds */
        setTimeout(function () {
          api('GET', '/me').then(function () { follow(); }, function () { setTimeout(follow, 3000); });
        }, 2000);
      }
    };
  }
  function soon() {
    if (reload) return;
    reload = setTimeout(function () { reload = null; refresh(); }, 250);
  }

  /* ---- pages ------------------------------------------------------ */

  var loaders = {}, renderers = {};

  function refresh() {
    var names = (loaders[page] || function () { return []; })();
    return Promise.all(names.map(function (n) {
      return api('GET', n[1]).then(function (b) { data[n[0]] = b; }, function (e) {
        data[n[0]] = {error: e.message};
      });
    })).then(function () {
      if (data.status && !data.status.error) {
        offset = parseOffset(data.status.switch_at);
        switchAt = Date.parse(data.status.switch_at);
        skew = Date.parse(data.status.now) - Date.now();
        if (Math.abs(skew) < 1500) skew = 0;
      }
      render();
    });
  }

  function render() {
    frame();
    var main = $('main'), r = renderers[page];
    var focused = document.activeElement, keep = focused && focused.id, caret = null;
    var notes = {};
    try { if (focused && focused.tagName === 'INPUT') caret = [focused.selectionStart, focused.selectionEnd]; } catch (e) { caret = null; }
    Array.prototype.forEach.call(main.querySelectorAll('input[id], select[id], textarea[id]'), function (i) { notes[i.id] = i.value; });
    main.textContent = '';
    if (r) r(main);
    Object.keys(notes).forEach(function (id) { var i = $(id); if (i && notes[id]) i.value = notes[id]; });
    if (keep && $(keep)) {
      $(keep).focus();
      if (caret) try { $(keep).setSelectionRange(caret[0], caret[1]); } catch (e) { /* not a text box */ }
    }
  }

  function section(cls, title) {
    var s = el('section', {class: 'card ' + cls, 'aria-label': title});
    s.appendChild(el('h2', {text: title}));
    for (var i = 2; i < arguments.length; i++) if (arguments[i]) s.appendChild(arguments[i]);
    return s;
  }
  function empty(text) { return el('p', {class: 'muted', text: text || t('none')}); }
  function errorOf(x) { return x && x.error ? el('p', {class: 'bad', text: '⚠ ' + x.error}) : null; }

  var STATE_SYM = {pending: '○', ready: '◎', running: '▶', done: '◐', checked: '✔', failed: '✖',
    skipped: '↷', lost: '⚠', open: '●', fixing: '▶', fixed: '◐', verified: '✔', reopened: '↺',
    deferred: '↷', passed: '✔', blocked: '■', taken: '▶'};
  function stateTag(s) {
    return el('span', {class: 'state s-' + s}, (STATE_SYM[s] || '·') + ' ' + t('st_' + s));
  }

  /* An object's actions as buttons: allowed ones do it; the others are
   * marked and, pressed, say the API's reason. */
  function actionButtons(obj, names, run) {
    var box = el('span', {class: 'actions'});
    if (tv) return box;
    (obj.actions || []).forEach(function (a) {
      if (names && names.indexOf(a.action) < 0) return;
      var b = el('button', {type: 'button', class: 'act' + (a.allowed ? '' : ' no'),
        'data-action': a.action, id: 'b-' + obj.id + '-' + a.action, 'aria-disabled': a.allowed ? null : 'true',
        title: a.allowed ? null : a.reason, text: (a.allowed ? '' : '⊘ ') + t('a_' + a.action)});
      b.addEventListener('click', function () {
        if (!a.allowed) { flash(a.reason, false); return; }
        run(a.action, a);
      });
      box.appendChild(b);
    });
    return box;
  }

  /* ---- the war room ----------------------------------------------- */

  loaders['/'] = function () {
    return [['status', '/status'], ['gate', '/gate'], ['syncs', '/syncs'], ['checks', '/checks'],
      ['defects', '/defects'], ['duty', '/duty'], ['scenarios', '/scenarios']];
  };

  function clockText() {
    if (switchAt === null) return '';
    return fmtT((Date.now() + skew - switchAt) / 1000, true);
  }

  function timeline(st) {
    var list = (st.task_list || []).filter(function (x) { return x.in_scope !== false && x.planned_start; });
    if (!list.length) return empty();
    list = list.slice().sort(function (a, b) { return Date.parse(a.planned_start) - Date.parse(b.planned_start); }).slice(0, 40);
    var now = Date.now() + skew, lo = Infinity, hi = -Infinity;
    function span(a, b) {
      var x = Date.parse(a), y = Date.parse(b);
      if (isNaN(x)) return null;
      if (isNaN(y) || y < x) y = x;
      lo = Math.min(lo, x); hi = Math.max(hi, y);
      return [x, y];
    }
    var rows = list.map(function (x) {
      var plan = span(x.planned_start, x.planned_end);
      var act = x.started ? span(x.started, x.ended || (x.state === 'running' ? new Date(now).toISOString() : x.started))
        : span(x.expected_start, x.expected_end);
      return [x, plan, act];
    });
    lo = Math.min(lo, now); hi = Math.max(hi, now);
    if (hi - lo < 60000) hi = lo + 60000;
    function bar(cls, sp, label) {
      var b = el('span', {class: 'tl-bar ' + cls, title: label});
      b.style.left = (100 * (sp[0] - lo) / (hi - lo)) + '%';
      b.style.width = Math.max(0.6, 100 * (sp[1] - sp[0]) / (hi - lo)) + '%';
      return b;
    }
    var nowAt = (100 * (now - lo) / (hi - lo)) + '%';
    return el('div', {class: 'tl', role: 'img', 'aria-label': t('timeline')},
      el('div', {class: 'tl-legend muted'}, el('span', {class: 'tl-key plan'}), ' ' + t('planned') + '  ',
        el('span', {class: 'tl-key actual'}), ' ' + t('actual') + '  ', el('span', {class: 'tl-key expected'}), ' ' + t('expected') +
        '  │ ' + t('now') + ' · ' + fmtTime(new Date(lo).toISOString()) + ' – ' + fmtTime(new Date(hi).toISOString())),
      rows.map(function (r) {
        var x = r[0], track = el('span', {class: 'tl-track'});
        if (r[1]) track.appendChild(bar('plan', r[1], t('planned') + ' ' + x.planned_start_t + ' – ' + x.planned_end_t));
        if (r[2]) track.appendChild(bar((x.started ? 'actual s-' + x.state : 'expected'), r[2],
          (x.started ? t('actual') : t('expected')) + ' ' + fmtTime(x.started || x.expected_start) + ' – ' + fmtTime(x.ended || x.expected_end)));
        var nl = el('span', {class: 'tl-now'});
        nl.style.left = nowAt;
        track.appendChild(nl);
        return el('div', {class: 'tl-row'}, el('span', {class: 'tl-label'}, stateSym(x.state), ' ', el('b', {text: x.id})), track);
      }));
  }
  function stateSym(s) { return el('span', {class: 's-' + s, title: t('st_' + s), text: STATE_SYM[s] || '·'}); }

  renderers['/'] = function (main) {
    var st = data.status || {}, g = data.gate || {};
    if (st.error) { main.appendChild(errorOf(st)); return; }
    var head = el('section', {class: 'card clock', 'aria-label': t('clock')},
      el('h1', {id: 'title', text: st.title || st.cutover || ''}),
      el('div', {id: 'tclock', class: 'tclock', text: clockText()}),
      el('div', {class: 'muted'}, t('t0') + ' ' + fmtTime(st.switch_at) + ' · ' + t('now') + ' ',
        el('span', {id: 'nowtime', text: fmtTime(new Date(Date.now() + skew).toISOString())}), ' ' + offLabel()));
    main.appendChild(head);

    /* the light */
    var passed = g.passed === true;
    var light = el('section', {id: 'gate', class: 'card gate ' + (passed ? 'go' : 'nogo'), 'aria-label': t('gate')},
      el('h2', {text: t('gate')}),
      el('div', {id: 'light', class: 'light', text: passed ? '✔ ' + t('go') : '✖ ' + t('nogo')}),
      g.error ? errorOf(g) : el('ul', {class: 'rules'}, (g.rules || []).map(function (r) {
        return el('li', {class: r.passed ? 'ok' : 'bad'}, (r.passed ? '✔ ' : '✖ '),
          el('b', {text: r.rule}), r.detail ? ' — ' + r.detail : '');
      })),
      (g.rules && !g.rules.length) ? empty(t('no_rules')) : null,
      st.decided ? el('p', {class: 'decided'}, t('decided') + ': ', el('b', {text: t('d_' + st.decided.decision)}),
        ' · ' + (st.decided.by || '') + ' ' + fmtTime(st.decided.at)) : null);
    main.appendChild(light);

    /* blockers first */
    var bl = st.blockers || [];
    main.appendChild(section('blockers' + (bl.length ? ' alarm' : ''), t('blockers'),
      bl.length ? el('ul', {id: 'blockers'}, bl.map(function (b) {
        return el('li', null, '⚠ ', el('b', {text: b.id}), ' ' + t('k_' + b.kind) + ': ' + b.detail);
      })) : empty()));

    /* ETA */
    var eta = el('div', null,
      el('p', {class: 'big'}, t('eta_decision') + ': ', el('b', {text: fmtTime(st.eta)}),
        st.eta_t ? ' (' + st.eta_t + ')' : '',
        st.late_seconds > 0 ? el('span', {class: 'bad'}, ' · ⚠ ' + t('late') + ' ' + fmtDur(st.late_seconds)) : null),
      st.chain && st.chain.length ? el('p', {class: 'muted'}, t('chain') + ': ' + st.chain.join(' → ')) : null,
      el('ul', {class: 'stages'}, (st.stages || []).map(function (s) {
        return el('li', null, el('b', {text: s.stage}), ' ' + (s.done ? '✔ ' + t('done_at') + ' ' + fmtTime(s.ended)
          : t('eta') + ' ' + fmtTime(s.eta)) + ' · ' + t('planned') + ' ' + (s.planned_end_t || '—') +
          (s.late > 0 && !s.done ? ' · ' + t('late') + ' ' + fmtDur(s.late) : ''));
      })));
    var late = (st.late_tasks || []).slice(0, 8);
    main.appendChild(section('eta', t('eta'), eta,
      late.length ? el('h3', {text: t('late_tasks')}) : null,
      late.length ? el('ul', null, late.map(function (x) {
        return el('li', null, '⚠ ', el('b', {text: x.id}), ' ' + x.owner + ' · ' + t('late_' + x.late) + ' ' +
          fmtDur(x.by) + ' (' + t('planned') + ' ' + x.planned_t + ')');
      })) : null));

    /* progress per stage */
    var stages = st.tasks || {};
    main.appendChild(section('progress', t('progress'), el('ul', {class: 'bars'},
      Object.keys(stages).filter(function (k) {
        var c = stages[k]; return Object.keys(c).some(function (x) { return c[x] > 0; });
      }).map(function (k) {
        var c = stages[k], all = 0, fin = c.done + c.checked + c.skipped;
        Object.keys(c).forEach(function (x) { all += c[x]; });
        var bar = el('span', {class: 'fill'});
        bar.style.width = (all ? Math.round(100 * fin / all) : 0) + '%';
        return el('li', null, el('span', {class: 'lbl'}, el('b', {text: k}), ' ' + fin + '/' + all +
          (c.failed ? ' · ✖ ' + c.failed : '') + (c.running ? ' · ▶ ' + c.running : '')),
        el('span', {class: 'bar', role: 'img', 'aria-label': fin + '/' + all}, bar));
      }))));

    /* what runs now */
    var titles = {};
    (st.task_list || []).forEach(function (x) { titles[x.id] = x.title; });
    var run = st.running || [];
    main.appendChild(section('running', t('running_now'), run.length ? el('ul', {id: 'running'}, run.map(function (x) {
      return el('li', {class: x.lost ? 'bad' : null}, (x.lost ? '⚠ ' : '▶ '), el('b', {text: x.id}),
        ' ' + (titles[x.id] || '') + ' · ' + x.owner + ' · ' + t('since') + ' ' + fmtTime(x.since) + (x.lost ? ' · ' + t('st_lost') : ''));
    })) : empty()));

    /* the timeline: planned against actual (or expected), a now line */
    main.appendChild(section('timeline wide', t('timeline'), timeline(st)));

    /* syncs */
    var sy = data.syncs || {};
    main.appendChild(section('syncs', t('syncs'), errorOf(sy) || ((sy.syncs || []).length ? el('ul', null, sy.syncs.slice(-10).map(function (x) {
      /* a running one: what it has done so far, as the sync keeps it */
      var p = x.progress, n = p || x;
      return el('li', p ? {class: 'sync-progress'} : null, stateTag(x.outcome), ' ', el('b', {text: x.job}), ' ' + x.mode + ' · ' +
        t('rows_read') + ' ' + n.rows_read + ' · ' + t('rows_written') + ' ' + n.rows_written +
        (p && p.rows_total != null ? ' / ' + p.rows_total : '') + ' · ' +
        t('rows_rejected') + ' ' + n.rows_rejected +
        (p && p.rows_per_second ? ' · ' + Math.round(p.rows_per_second) + ' ' + t('rows_per_s') : ''));
    })) : empty())));

    /* checks */
    var ck = data.checks || {};
    main.appendChild(section('checks', t('checks'), errorOf(ck) || ((ck.checks || []).length ? el('ul', null, ck.checks.map(function (x) {
      /* a check's latest result: passed, failed, or none yet */
      var out = x.outcome || (x.passed === true ? 'passed' : x.passed === false ? 'failed' : null);
      return el('li', out === 'passed' ? {class: 'ok'} : out ? {class: 'bad'} : null,
        (out === 'passed' ? '✔ ' : out ? '✖ ' : '○ '), el('b', {text: x.check || x.id || ''}),
        ' ' + (x.detail || x.outcome || '') + ' · ' + fmtTime(x.at));
    })) : empty())));

    /* scenarios per area and per tester */
    var sc = (data.scenarios || {}).scenarios || [], areas = {}, testers = {};
    sc.forEach(function (x) {
      var a = areas[x.area || '—'] = areas[x.area || '—'] || {all: 0, passed: 0, failed: 0, blocked: 0};
      a.all++; if (a[x.state] !== undefined) a[x.state]++;
      var who = x.result_by || x.taken_by || x.assignee;
      if (who) { var p = testers[who] = testers[who] || {all: 0, passed: 0, failed: 0, blocked: 0}; p.all++; if (p[x.state] !== undefined) p[x.state]++; }
    });
    function tally(o) {
      return el('ul', null, Object.keys(o).map(function (k) {
        var a = o[k];
        return el('li', null, el('b', {text: k}), ' ✔ ' + a.passed + ' ✖ ' + a.failed + ' ■ ' + a.blocked + ' / ' + a.all);
      }));
    }
    main.appendChild(section('scenarios', t('scenarios'), sc.length ? el('div', {class: 'two'},
      el('div', null, el('h3', {text: t('per_area')}), tally(areas)),
      el('div', null, el('h3', {text: t('per_tester')}), tally(testers))) : empty()));

    /* defects by state */
    var df = (data.defects || {}).defects || [], by = {};
    df.forEach(function (x) { (by[x.state] = by[x.state] || []).push(x); });
    main.appendChild(section('defects wide', t('defects'), df.length ? el('div', {class: 'board'},
      ['open', 'reopened', 'fixing', 'fixed', 'verified', 'deferred'].filter(function (s) { return by[s]; }).map(function (s) {
        return el('div', {class: 'col'}, el('h3', null, stateTag(s), ' ' + by[s].length),
          el('ul', null, by[s].map(function (x) {
            /* a blocker is red while it blocks: not once verified or deferred */
            var blocks = x.severity === 'blocker' && s !== 'verified' && s !== 'deferred';
            return el('li', {class: blocks ? 'bad' : null}, el('b', {text: x.id}),
              ' [' + t('sev_' + x.severity) + '] ' + x.title);
          })));
      })) : empty()));

    /* duty log */
    var du = ((data.duty || {}).duty || []).slice(-8).reverse();
    main.appendChild(section('duty', t('duty'), du.length ? el('ul', null, du.map(function (x) {
      return el('li', null, fmtTime(x.at) + ' ', el('b', {text: x.id}), ' ' + x.actor + ' · ' + t('ch_' + x.channel) + ' · ' + x.text +
        (x.defect ? ' → ' + x.defect : ''));
    })) : empty()));
  };

  /* ---- my work ---------------------------------------------------- */

  loaders['/me'] = function () {
    return [['status', '/status'], ['tasks', '/tasks'], ['scenarios', '/scenarios'], ['defects', '/defects']];
  };

  function noteInput(id) {
    return el('input', {type: 'text', id: id, class: 'note', placeholder: t('note'), 'aria-label': t('note'), maxlength: 500});
  }
  function noteOf(id) { var i = $(id); return i && i.value ? {note: i.value} : {}; }

  function taskItem(x, names) {
    var nid = 'note-task-' + x.id;
    return el('li', {class: 'item', 'data-task': x.id},
      el('div', null, stateTag(x.state), ' ', el('b', {text: x.id}), ' ' + x.title,
        el('span', {class: 'muted'}, ' · ' + t('owner') + ' ' + x.owner + ' · ' + t('checker') + ' ' + x.checker +
          (x.expected_end ? ' · ' + t('eta') + ' ' + fmtTime(x.expected_end) : ''))),
      tv ? null : el('div', {class: 'row'}, noteInput(nid),
        actionButtons(x, names, function (a) { act('POST', '/tasks/' + encodeURIComponent(x.id) + '/' + a, noteOf(nid)); })));
  }

  renderers['/me'] = function (main) {
    var who = me ? me.person : '', tasks = (data.tasks || {}).tasks || [];
    main.appendChild(el('h1', {id: 'title', text: t('nav_me') + ' · ' + who}));
    var mine = tasks.filter(function (x) { return x.owner === who && ['ready', 'running', 'failed', 'lost', 'done'].indexOf(x.state) >= 0; });
    var checks = tasks.filter(function (x) { return x.checker === who && x.state === 'done'; });
    main.appendChild(section('mytasks', t('my_tasks'), errorOf(data.tasks) || (mine.length ? el('ul', {id: 'mytasks'}, mine.map(function (x) {
      return taskItem(x, ['start', 'done', 'fail', 'check']);
    })) : empty())));
    main.appendChild(section('mychecks', t('my_checks'), checks.length ? el('ul', {id: 'mychecks'}, checks.map(function (x) {
      return taskItem(x, ['check', 'reopen']);
    })) : empty()));

    /* scenarios */
    var sc = ((data.scenarios || {}).scenarios || []).filter(function (x) {
      return (x.taken_by === who || x.assignee === who) && ['pending', 'running'].indexOf(x.state) >= 0 ||
        (x.result_by === who && x.state === 'failed');
    });
    main.appendChild(section('myscen', t('my_scenarios'),
      tv ? null : el('button', {type: 'button', class: 'act', id: 'next', text: t('take_next'), onclick: function () {
        act('POST', '/scenarios/next', {}).then(function (b) { if (!b.scenario) flash(b.message || t('none_left'), true); });
      }}),
      sc.length ? el('ul', {id: 'myscen'}, sc.map(function (x) {
        var nid = 'note-scen-' + x.id, sid = 'sev-' + x.id;
        return el('li', {class: 'item', 'data-scenario': x.id},
          el('div', null, stateTag(x.state), ' ', el('b', {text: x.id}), ' ' + x.title,
            el('span', {class: 'muted', text: ' · ' + (x.area || '') + ' · ' + (x.priority || '')})),
          tv ? null : el('div', {class: 'row'}, noteInput(nid),
            actionButtons(x, ['pass', 'fail', 'block'], function (a) {
              act('POST', '/scenarios/' + encodeURIComponent(x.id) + '/' + a, noteOf(nid));
            }),
            x.state === 'failed' ? el('span', {class: 'actions'},
              el('select', {id: sid, 'aria-label': t('severity')}, ['blocker', 'major', 'minor'].map(function (s) {
                return el('option', {value: s, text: t('sev_' + s)});
              })),
              el('button', {type: 'button', class: 'act', 'data-action': 'open-defect', text: t('open_defect'), onclick: function () {
                act('POST', '/defects', {severity: $(sid).value, title: ($(nid).value || x.title), scenario: x.id});
              }})) : null));
      })) : empty()));

    /* defects I fix or verify */
    var df = ((data.defects || {}).defects || []).filter(function (x) {
      return x.fixer === who && x.state !== 'verified' ||
        (x.actions || []).some(function (a) { return a.allowed && ['fixing', 'verify'].indexOf(a.action) >= 0; });
    });
    main.appendChild(section('mydefects', t('my_defects'), df.length ? el('ul', {id: 'mydefects'}, df.map(function (x) { return defectItem(x); })) : empty()));

    /* hand over my open work */
    if (!tv && me && !me.viewer)
      main.appendChild(section('handover', t('handover'), el('p', {class: 'muted', text: t('handover_help')}),
        el('div', {class: 'row'},
          el('input', {type: 'text', id: 'ho-to', class: 'short', placeholder: t('to_person'), 'aria-label': t('to_person')}),
          noteInput('ho-note'),
          el('button', {type: 'button', class: 'act', id: 'ho-go', text: t('hand_over'), onclick: function () {
            act('POST', '/handover', Object.assign({to: $('ho-to').value.trim()}, noteOf('ho-note'))).then(function (b) {
              var moved = (b.tasks || []).length + (b.checks || []).length + (b.scenarios || []).length + (b.defects || []).length;
              flash(t('handed_over') + ' ' + b.to + ': ' + moved + ((b.refused || []).length ? ' · ' +
                b.refused.map(function (r) { return r.id + ': ' + r.why; }).join('; ') : ''), !(b.refused || []).length);
            });
          }}))));
  };

  function allowed(x, action) {
    return (x.actions || []).some(function (a) { return a.action === action && a.allowed; });
  }

  /* A defect with its moves (names: which of its actions to offer); a
   * deferral takes a patch, a change of severity a severity, a comment
   * its text (the note box). */
  function defectItem(x, names) {
    var nid = 'note-def-' + x.id, pid = 'patch-' + x.id, vid = 'sevc-' + x.id;
    names = Array.isArray(names) ? names : ['fixing', 'fixed', 'verify', 'reopen'];
    return el('li', {class: 'item', 'data-defect': x.id},
      el('div', null, stateTag(x.state), ' ', el('b', {text: x.id}), ' [' + t('sev_' + x.severity) + '] ' + x.title,
        el('span', {class: 'muted', text: ' · ' + t('opened_by') + ' ' + x.opened_by + (x.fixer ? ' · ' + t('fixer') + ' ' + x.fixer : '') +
          (x.scenario ? ' · ' + x.scenario : '') + (x.patch ? ' · ' + x.patch : '')})),
      tv ? null : el('div', {class: 'row'}, noteInput(nid),
        names.indexOf('defer') >= 0 && allowed(x, 'defer') ?
          el('input', {type: 'text', id: pid, class: 'short', placeholder: t('patch'), 'aria-label': t('patch')}) : null,
        names.indexOf('severity') >= 0 && allowed(x, 'severity') ?
          el('select', {id: vid, 'aria-label': t('severity')}, ['blocker', 'major', 'minor'].map(function (v) {
            return el('option', {value: v, selected: v === x.severity, text: t('sev_' + v)});
          })) : null,
        actionButtons(x, names, function (a) {
          var id = encodeURIComponent(x.id), body = noteOf(nid);
          if (a === 'comment') {
            act('POST', '/defects/' + id + '/comments', {text: body.note || ''});
            return;
          }
          if (a === 'defer') body.patch = ($(pid) || {}).value || '';
          if (a === 'severity') body.severity = $(vid).value;
          act('POST', '/defects/' + id + '/' + a, body);
        })));
  }

  /* ---- defects, duty, events, report ------------------------------ */

  var opened = {}; /* the defects whose comments are shown */
  loaders['/defects'] = function () {
    return [['status', '/status'], ['defects', '/defects']].concat(Object.keys(opened).map(function (id) {
      return ['c:' + id, '/defects/' + encodeURIComponent(id)];
    }));
  };
  renderers['/defects'] = function (main) {
    main.appendChild(el('h1', {id: 'title', text: t('nav_defects')}));
    if (!tv && me && !me.viewer)
      main.appendChild(section('newdefect', t('open_defect'), el('div', {class: 'row'},
        el('select', {id: 'nd-sev', 'aria-label': t('severity')}, ['major', 'blocker', 'minor'].map(function (s) {
          return el('option', {value: s, text: t('sev_' + s)});
        })),
        el('input', {type: 'text', id: 'nd-title', placeholder: t('title'), 'aria-label': t('title')}),
        el('button', {type: 'button', class: 'act', text: t('open_defect'), onclick: function () {
          act('POST', '/defects', {severity: $('nd-sev').value, title: $('nd-title').value}).then(function () { $('nd-title').value = ''; });
        }}))));
    var df = (data.defects || {}).defects || [];
    main.appendChild(section('alldefects wide', t('defects'), errorOf(data.defects) ||
      (df.length ? el('ul', {id: 'defects'}, df.map(function (x) {
        var li = defectItem(x, ['fixing', 'fixed', 'verify', 'reopen', 'defer', 'severity', 'comment']);
        var shown = opened[x.id], c = data['c:' + x.id];
        li.appendChild(el('button', {type: 'button', class: 'small', id: 'cm-' + x.id, 'aria-expanded': shown ? 'true' : 'false',
          text: (shown ? '▾ ' : '▸ ') + t('comments'), onclick: function () {
            if (opened[x.id]) delete opened[x.id]; else opened[x.id] = 1;
            refresh();
          }}));
        if (shown && c && !c.error)
          li.appendChild(c.comments && c.comments.length ? el('ol', {class: 'comments', id: 'comments-' + x.id}, c.comments.map(function (m) {
            return el('li', null, el('span', {class: 'muted', text: fmtTime(m.at) + ' ' + m.actor + ': '}), m.text);
          })) : empty());
        return li;
      })) : empty())));
  };

  loaders['/duty'] = function () { return [['status', '/status'], ['duty', '/duty']]; };
  renderers['/duty'] = function (main) {
    main.appendChild(el('h1', {id: 'title', text: t('nav_duty')}));
    function pick(id, opts, pre) {
      return el('select', {id: id, 'aria-label': t(pre)}, opts.map(function (s) { return el('option', {value: s, text: t(pre + '_' + s)}); }));
    }
    if (!tv && me && !me.viewer)
      main.appendChild(section('newcall', t('log_call'), el('div', {class: 'row'},
        el('input', {type: 'text', id: 'call-text', placeholder: t('call_text'), 'aria-label': t('call_text')}),
        pick('call-ch', ['phone', 'chat', 'ticket'], 'ch'), pick('call-kind', ['question', 'defect', 'request'], 'kind'),
        el('button', {type: 'button', class: 'act', id: 'log-call', text: t('log_call'), onclick: function () {
          act('POST', '/duty', {text: $('call-text').value, channel: $('call-ch').value, kind: $('call-kind').value})
            .then(function () { $('call-text').value = ''; });
        }}))));
    var du = ((data.duty || {}).duty || []).slice().reverse();
    main.appendChild(section('dutylog wide', t('duty'), errorOf(data.duty) || (du.length ? el('ul', {id: 'duty'}, du.map(function (x) {
      var sid = 'dsev-' + x.id;
      return el('li', {class: 'item', 'data-duty': x.id},
        el('div', null, fmtTime(x.at) + ' ', el('b', {text: x.id}), ' ' + x.actor + ' · ' + t('ch_' + x.channel) + ' · ' +
          t('kind_' + x.kind) + ' · ' + x.text + (x.defect ? ' → ' + x.defect : '') + (x.patch ? ' · ' + x.patch : '')),
        tv ? null : el('div', {class: 'row'},
          allowed(x, 'defect') ? pick(sid, ['major', 'blocker', 'minor'], 'sev') : null,
          allowed(x, 'patch') ? el('input', {type: 'text', id: 'dpatch-' + x.id, class: 'short', placeholder: t('patch'),
            'aria-label': t('patch')}) : null,
          actionButtons(x, ['defect', 'patch'], function (a) {
            var id = encodeURIComponent(x.id);
            if (a === 'patch') act('POST', '/duty/' + id + '/patch', {patch: $('dpatch-' + x.id).value});
            else act('POST', '/duty/' + id + '/defect', {severity: $(sid).value});
          })));
    })) : empty())));
  };

  loaders['/events'] = function () {
    var n = data.status && data.status.events ? Math.max(0, data.status.events - 100) : 0;
    return [['status', '/status'], ['audit', '/audit'], ['events', '/events?limit=1000&after=' + n]];
  };
  renderers['/events'] = function (main) {
    var au = data.audit || {}, ev = ((data.events || {}).events || []).slice().reverse();
    main.appendChild(el('h1', {id: 'title', text: t('nav_events')}));
    main.appendChild(section('audit', t('chain'), errorOf(au) || el('p', {id: 'chain', class: au.ok ? 'ok' : 'bad'},
      (au.ok ? '✔ ' + t('chain_ok') : '✖ ' + t('chain_bad') + ': ' + (au.problem || '')) + ' · ' + au.events + ' · ' + (au.head || ''))));
    main.appendChild(section('events wide', t('nav_events'), ev.length ? el('ol', {id: 'events', class: 'feed'}, ev.map(function (x) {
      return el('li', null, fmtTime(x.at) + ' #' + x.seq + ' ', el('b', {text: x.kind}), ' ' + x.actor + ' ',
        el('code', {text: JSON.stringify(x.payload).slice(0, 200)}));
    })) : empty()));
  };

  loaders['/report'] = function () { return [['status', '/status'], ['report', '/report?format=md']]; };
  renderers['/report'] = function (main) {
    main.appendChild(el('h1', {id: 'title', text: t('nav_report')}));
    var rp = data.report;
    main.appendChild(section('report wide', t('nav_report'), rp && rp.error ? errorOf(rp) : el('pre', {id: 'report', text: rp || ''})));
  };

  /* ---- sign in ------------------------------------------------------ */

  function signIn(token) {
    flash('');
    return api('POST', '/session', {token: token}).then(function (b) {
      sessionStorage.setItem('golive.csrf', b.csrf);
      sessionStorage.setItem('golive.person', b.person);
      location.replace('/');
    }, function (e) { flash(e.message, false); });
  }

  function loginPage() {
    var m = /(?:^#|&)t=([^&]+)/.exec(location.hash);
    /* the token never stays in the address bar or the history */
    if (location.hash) history.replaceState(null, '', '/login');
    frame();
    var main = $('main');
    main.textContent = '';
    var form = el('form', {class: 'card login', id: 'login'},
      el('h1', {text: t('sign_in')}),
      el('p', {class: 'muted', text: t('login_help')}),
      el('label', {for: 'token', text: t('token')}),
      el('input', {type: 'password', id: 'token', autocomplete: 'off', required: true}),
      el('button', {type: 'submit', class: 'act', text: t('sign_in')}));
    form.addEventListener('submit', function (ev) { ev.preventDefault(); signIn($('token').value.trim()); });
    main.appendChild(form);
    if (m) signIn(decodeURIComponent(m[1]));
  }

  /* ---- start ---------------------------------------------------------- */

  function tick() {
    var c = $('tclock'), n = $('nowtime');
    if (c) c.textContent = clockText();
    if (n) n.textContent = fmtTime(new Date(Date.now() + skew).toISOString());
  }

  function start() {
    /* a page left closes its stream at once (the browser's few
     * connections to the server are not held by pages gone) */
    window.addEventListener('pagehide', function () { if (stream) stream.close(); });
    window.addEventListener('pageshow', function (ev) {
      if (ev.persisted && stream) { follow(); refresh(); }
    });
    $('lang').addEventListener('click', function () {
      lang = lang === 'zh' ? 'en' : 'zh';
      localStorage.setItem('golive.lang', lang);
      if (page === '/login') loginPage(); else render();
    });
    $('signout').addEventListener('click', function () {
      api('DELETE', '/session').then(signedOut, function (e) { flash(e.message, false); });
    });
    if (page === '/login') { loginPage(); return; }
    if (!csrf) { location.replace('/login'); return; }
    if (!renderers[page]) page = '/';
    frame();
    api('GET', '/me').then(function (b) {
      me = b;
      return refresh();
    }).then(function () {
      follow();
      setInterval(tick, 1000);
      /* the forecast moves with the clock even when nothing happens */
      setInterval(function () { if (!downSince) refresh(); }, 30000);
    }, function (e) { if (e.status) flash(e.message, false); });
  }

  start();
})();
