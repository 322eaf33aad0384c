# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The fleet report, written on the controller: the JSON document of every host's report
(module_utils/report.py) and its HTML and Markdown renderings (docs/report.md).

Pure functions of their input (the time of the report is an input too), so the same
fleet gives the same bytes. The filters of plugins/filter/report.py call them.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import html
import json
import posixpath

from ansible_collections.wso2si.keystores.plugins.module_utils.report import SCHEMA_VERSION

NEAREST = 10            # expiries listed in the summary
LANES = 25              # hosts drawn as lanes of the timeline (those with the nearest expiries)
HISTOGRAM_MONTHS = 24   # months of the expiry histogram, then "later"
PAGE_ROWS = 50          # rows per page of the HTML tables
EXPIRED_AXIS_DAYS = 180  # how far back the timeline's axis goes


def _parse(text):
    return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)


def _iso(dt):
    return dt.strftime('%Y-%m-%dT%H:%M:%SZ')


def _days_left(not_after, now):
    return int((_parse(not_after) - now).total_seconds() // 86400)


def _status(days, window):
    if days < 0:
        return 'expired'
    if days < window:
        return 'renew'
    return 'ok'


# ---------------------------------------------------------------- the document

def build_fleet(results, generated_at, renew_before_days=30):
    """The fleet document (schema docs/report.schema.json) from {host: si_report's registered
    result or None}. ``generated_at``: the report's time (datetime or ISO 8601 text, UTC);
    days left are counted from it."""
    if not isinstance(generated_at, datetime.datetime):
        generated_at = _parse(str(generated_at).replace('+00:00', 'Z')[:19] + 'Z')
    now = generated_at.astimezone(datetime.timezone.utc).replace(microsecond=0)
    window = int(renew_before_days)
    hosts = []
    for name in sorted(results):
        result = results[name] or {}
        host = {'name': name, 'ok': False, 'error': None, 'report': None}
        if result.get('unreachable'):
            host['error'] = 'unreachable: %s' % (result.get('msg') or 'no answer')
        elif result.get('failed') or 'report' not in result:
            host['error'] = str(result.get('msg') or 'no report gathered (the host was skipped or failed earlier)')
        else:
            host['ok'] = True
            host['report'] = _with_days(result['report'], now)
        hosts.append(host)
    return {'schema_version': SCHEMA_VERSION, 'generated_at': _iso(now), 'renew_before_days': window,
            'summary': _summary(hosts, window), 'hosts': hosts}


def _with_days(report, now):
    out = dict(report)
    stores = []
    for store in report.get('stores', []):
        store = dict(store)
        entries = []
        for e in store.get('entries', []):
            e = dict(e)
            if 'not_after' in e:
                e['days_left'] = _days_left(e['not_after'], now)
                e['expired'] = e['days_left'] < 0 or _parse(e['not_after']) <= now
            entries.append(e)
        store['entries'] = entries
        stores.append(store)
    out['stores'] = stores
    return out


def iter_entries(fleet):
    for host in fleet['hosts']:
        for store in (host['report'] or {}).get('stores', []):
            for e in store.get('entries', []):
                yield host, store, e


def _summary(hosts, window):
    s = {'hosts': len(hosts), 'hosts_failed': sum(1 for h in hosts if not h['ok']), 'stores': 0, 'entries': 0,
         'certificates': 0, 'findings': 0, 'hosts_with_findings': 0, 'hosts_with_shipped_material': 0,
         'stores_not_open': 0, 'expired': 0, 'within_renewal_window': 0, 'nearest_expiries': []}
    nearest = []
    for h in hosts:
        report = h['report'] or {}
        findings = len(report.get('findings', []))
        s['findings'] += findings
        s['hosts_with_findings'] += 1 if findings else 0
        shipped = False
        for store in report.get('stores', []):
            s['stores'] += 1
            s['stores_not_open'] += 1 if store.get('open_ok') is False else 0
            shipped = shipped or store.get('shipped_material', False)
            for e in store.get('entries', []):
                s['entries'] += 1
                if 'not_after' not in e:
                    continue
                s['certificates'] += 1
                status = _status(e['days_left'], window)
                s['expired'] += status == 'expired'
                if e['kind'] == 'private_key':  # the certificates the rollout renews; trusted ones are peers'
                    s['within_renewal_window'] += status == 'renew'
                    nearest.append((e['not_after'], h['name'], store['path'], e['alias'], e['kind'], e['days_left']))
        s['hosts_with_shipped_material'] += 1 if shipped else 0
    nearest.sort()
    s['nearest_expiries'] = [dict(zip(('not_after', 'host', 'store', 'alias', 'kind', 'days_left'), n))
                             for n in nearest[:NEAREST]]
    return s


def to_json(fleet):
    """report.json: sorted keys, two-space indent, one newline at the end."""
    return json.dumps(fleet, indent=2, sort_keys=True, ensure_ascii=False) + '\n'


# ---------------------------------------------------------------- Markdown

def _md(text):
    """A Markdown table cell: pipes, backslashes, angle brackets and line breaks cannot break out."""
    text = str(text).replace('\\', '\\\\').replace('|', '\\|').replace('\r', ' ').replace('\n', ' ')
    return text.replace('<', '&lt;').replace('>', '&gt;').replace('`', '\\`')


def to_markdown(fleet):
    s = fleet['summary']
    lines = ['# WSO2 SI fleet report', '',
             'Generated %s; renewal window %d days.' % (fleet['generated_at'], fleet['renew_before_days']), '',
             '| | |', '|---|---|']
    for label, value in (('Hosts', '%d (%d without a report)' % (s['hosts'], s['hosts_failed'])),
                         ('Stores / entries', '%d / %d' % (s['stores'], s['entries'])),
                         ('Audit findings', '%d on %d hosts' % (s['findings'], s['hosts_with_findings'])),
                         ('Hosts with shipped WSO2 material', s['hosts_with_shipped_material']),
                         ('Stores SI cannot open', s['stores_not_open']),
                         ('Certificates expired', s['expired']),
                         ('Key entries within the renewal window', s['within_renewal_window'])):
        lines.append('| %s | %s |' % (label, _md(value)))
    lines += ['', '## Nearest expiries of key entries', '']
    if s['nearest_expiries']:
        lines += ['| Host | Store | Alias | Kind | Not after (UTC) | Days left |', '|---|---|---|---|---|---:|']
        for n in s['nearest_expiries']:
            cells = (_md(n['host']), _md(n['store']), _md(n['alias']), _md(n['kind']), n['not_after'], n['days_left'])
            lines.append('| %s | %s | %s | %s | %s | %d |' % cells)
    else:
        lines.append('No certificate found.')
    problems = [h for h in fleet['hosts'] if _host_problems(h, fleet['renew_before_days'])]
    lines += ['', '## Hosts needing attention (%d)' % len(problems), '']
    for h in problems[:20]:
        lines.append('- **%s**: %s' % (_md(h['name']), _md('; '.join(_host_problems(h, fleet['renew_before_days'])))))
    if len(problems) > 20:
        lines.append('- ... and %d more (see report.html or report.json)' % (len(problems) - 20))
    if not problems:
        lines.append('None.')
    return '\n'.join(lines) + '\n'


def _host_problems(host, window):
    if not host['ok']:
        return ['no report: %s' % host['error']]
    out = []
    report = host['report']
    if report.get('findings'):
        out.append('%d audit findings' % len(report['findings']))
    for store in report.get('stores', []):
        if store.get('open_ok') is False:
            out.append('SI cannot open %s' % store['name'])
        if store.get('shipped_material'):
            out.append('%s holds shipped WSO2 material' % store['name'])
        for e in store.get('entries', []):
            if 'days_left' in e and _status(e['days_left'], window) != 'ok':
                out.append('%s/%s %s' % (store['name'], e['alias'],
                                         'expired' if e['days_left'] < 0 else 'expires in %d days' % e['days_left']))
    return out


# ---------------------------------------------------------------- HTML

def _h(text):
    return html.escape(str(text), quote=True)


def _script_json(obj):
    """JSON safe inside <script>: no '</script>', '<!--' or U+2028/2029 can end or break it."""
    text = json.dumps(obj, sort_keys=True, separators=(',', ':'), ensure_ascii=False)
    for raw, escaped in (('<', '\\u003c'), ('>', '\\u003e'), ('&', '\\u0026'),
                         ('\u2028', '\\u2028'), ('\u2029', '\\u2029')):
        text = text.replace(raw, escaped)
    return text


def table_rows(fleet):
    """The three tables of the page, as lists of rows (lists of plain values)."""
    window = fleet['renew_before_days']
    hosts, entries, findings = [], [], []
    for h in fleet['hosts']:
        report = h['report'] or {}
        days = [e['days_left'] for dummy, dummy2, e in iter_entries({'hosts': [h]}) if 'days_left' in e]
        hosts.append([h['name'], 'ok' if h['ok'] else 'no report', len(report.get('stores', [])),
                      sum(len(s.get('entries', [])) for s in report.get('stores', [])),
                      len(report.get('findings', [])),
                      'yes' if any(s.get('shipped_material') for s in report.get('stores', [])) else 'no',
                      sum(1 for s in report.get('stores', []) if s.get('open_ok') is False),
                      min(days) if days else None, h['error'] or ''])
        for f in report.get('findings', []):
            findings.append([h['name'], f.get('kind', ''), f.get('location', ''), f.get('key', '') or '',
                             f.get('detail', ''), f.get('file', '')])
    for h, store, e in iter_entries(fleet):
        opens = {True: 'yes', False: 'NO', None: 'unknown'}[store.get('open_ok')]
        status = _status(e['days_left'], window) if 'days_left' in e else ''
        key = ('%s %s' % (e.get('key_type', e.get('algorithm', '')), e.get('key_size') or '')).strip()
        entries.append([h['name'], store['name'], ', '.join(store.get('roles', [])), e['alias'], e['kind'],
                        e.get('subject', ''), e.get('issuer', ''), ', '.join(e.get('subject_alt_names', [])), key,
                        e.get('signature_algorithm', ''), e.get('not_before', ''), e.get('not_after', ''),
                        e.get('days_left'), status, 'YES' if e.get('shipped') else 'no', opens,
                        len(store.get('findings', []))])
    return hosts, entries, findings


HOST_COLUMNS = [('Host', 's'), ('Report', 's'), ('Stores', 'n'), ('Entries', 'n'), ('Findings', 'n'),
                ('Shipped material', 's'), ('Stores SI cannot open', 'n'), ('Nearest expiry (days)', 'n'), ('Error', 's')]
ENTRY_COLUMNS = [('Host', 's'), ('Store', 's'), ('Role', 's'), ('Alias', 's'), ('Kind', 's'), ('Subject', 's'),
                 ('Issuer', 's'), ('SANs', 's'), ('Key', 's'), ('Signature', 's'), ('Not before (UTC)', 's'),
                 ('Not after (UTC)', 's'), ('Days left', 'n'), ('Status', 's'), ('Shipped', 's'),
                 ('SI opens store', 's'), ('Store findings', 'n')]
FINDING_COLUMNS = [('Host', 's'), ('Kind', 's'), ('Location', 's'), ('Key', 's'), ('Detail', 's'), ('File', 's')]

CSS = '''
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2329;background:#f6f7f9}
header{background:#1d2f4a;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#c9d3e0}main{padding:16px 24px;max-width:1600px}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:12px 16px;margin:0 0 16px}
h2{font-size:16px;margin:0 0 10px}.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{border:1px solid #dde1e6;border-radius:6px;padding:8px 12px;min-width:150px}
.card b{display:block;font-size:22px}.card.bad b{color:#b3261e}.card.warn b{color:#a05a00}.card.good b{color:#1e7b34}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #e6e9ed;padding:4px 6px;
text-align:left;vertical-align:top}th{background:#eef1f4;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td{overflow-wrap:break-word;max-width:420px}td:first-child{white-space:nowrap}.wrap{overflow-x:auto}
.tools{display:flex;gap:10px;align-items:center;margin:0 0 8px}
.tools input{padding:4px 6px;min-width:260px}.tools button{padding:3px 10px}
.expired{color:#b3261e;font-weight:600}.renew{color:#a05a00;font-weight:600}.ok{color:#1e7b34}
.muted{color:#5f6b7a}svg text{font:11px system-ui,sans-serif;fill:#1d2329}
'''

JS = r'''
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  function cmp(a, b, numeric) {
    if (a === null || a === "") { return (b === null || b === "") ? 0 : 1; }
    if (b === null || b === "") { return -1; }
    if (numeric) { return a - b; }
    return String(a).localeCompare(String(b));
  }
  function Table(id, spec) {
    var root = document.getElementById(id);
    var state = {rows: spec.rows, view: spec.rows, sort: -1, dir: 1, page: 0};
    var filter = root.querySelector("input"), info = root.querySelector(".info");
    var prev = root.querySelector(".prev"), next = root.querySelector(".next");
    var table = root.querySelector("table"), head = document.createElement("tr");
    var thead = document.createElement("thead"), tbody = document.createElement("tbody");
    spec.columns.forEach(function (col, i) {
      var th = document.createElement("th");
      th.textContent = col[0];
      th.setAttribute("aria-sort", "none");
      th.addEventListener("click", function () {
        state.dir = state.sort === i ? -state.dir : 1;
        state.sort = i;
        head.querySelectorAll("th").forEach(function (t) { t.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
        apply();
      });
      head.appendChild(th);
    });
    thead.appendChild(head);
    table.appendChild(thead);
    table.appendChild(tbody);
    function apply() {
      var q = filter.value.toLowerCase();
      state.view = q ? state.rows.filter(function (r) {
        return r.some(function (v) { return v !== null && String(v).toLowerCase().indexOf(q) >= 0; });
      }) : state.rows.slice();
      if (state.sort >= 0) {
        var i = state.sort, numeric = spec.columns[i][1] === "n";
        state.view.sort(function (a, b) { return state.dir * cmp(a[i], b[i], numeric); });
      }
      state.page = 0;
      render();
    }
    function render() {
      var pages = Math.max(1, Math.ceil(state.view.length / data.pageRows));
      state.page = Math.min(state.page, pages - 1);
      var start = state.page * data.pageRows, frag = document.createDocumentFragment();
      state.view.slice(start, start + data.pageRows).forEach(function (r) {
        var tr = document.createElement("tr");
        r.forEach(function (v, i) {
          var td = document.createElement("td");
          td.textContent = v === null ? "" : String(v);
          if (spec.status === i) { td.className = String(v); }
          tr.appendChild(td);
        });
        frag.appendChild(tr);
      });
      tbody.textContent = "";
      tbody.appendChild(frag);
      info.textContent = state.view.length + " of " + state.rows.length + " rows, page " + (state.page + 1) +
        " of " + pages;
      prev.disabled = state.page === 0;
      next.disabled = state.page >= pages - 1;
    }
    filter.addEventListener("input", apply);
    prev.addEventListener("click", function () { state.page -= 1; render(); });
    next.addEventListener("click", function () { state.page += 1; render(); });
    apply();
  }
  Table("hosts", {columns: data.hostColumns, rows: data.hosts});
  Table("entries", {columns: data.entryColumns, rows: data.entries, status: 13});
  Table("findings", {columns: data.findingColumns, rows: data.findings});
  document.documentElement.setAttribute("data-report-ready", "yes");
}());
'''


def _table_section(tid, title, note=''):
    return ('<section id="%s"><h2>%s</h2>%s<div class="tools"><input type="search" placeholder="Filter rows" '
            'aria-label="Filter %s"><button class="prev" type="button">Previous</button>'
            '<button class="next" type="button">Next</button><span class="info muted"></span></div>'
            '<div class="wrap"><table></table></div></section>' % (tid, _h(title), note, _h(title.lower())))


def _card(label, value, level):
    return '<div class="card %s"><b>%s</b>%s</div>' % (level, _h(value), _h(label))


def _timeline_svg(fleet):
    """Lanes for the hosts with the nearest expiries (at most LANES), one dot per certificate,
    on a time axis from the report's time to the latest expiry shown (capped at five years)."""
    now = _parse(fleet['generated_at'])
    window = fleet['renew_before_days']
    per_host = {}
    for h, store, e in iter_entries(fleet):
        if 'days_left' in e:
            per_host.setdefault(h['name'], []).append((e['days_left'], store['name'], e['alias']))
    ranked = sorted(per_host, key=lambda name: (min(d for d, s, a in per_host[name]), name))[:LANES]
    if not ranked:
        return '<p class="muted">No certificate found.</p>'
    days_max = max(max(d for d, s, a in per_host[n]) for n in ranked)
    # certificates expired long ago (old CAs in a truststore) sit at the left edge, not stretch the axis
    days_min = max(-EXPIRED_AXIS_DAYS, min(0, min(min(d for d, s, a in per_host[n]) for n in ranked)))
    span_end = max(min(days_max, 5 * 366), window * 2, 30)
    left, width, lane = 150, 900, 18
    height = 40 + lane * len(ranked)

    def x(days):
        days = max(days_min, min(days, span_end))
        return left + (days - days_min) * float(width) / (span_end - days_min)

    out = ['<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Expiry timeline" viewBox="0 0 %d %d" '
           'width="100%%" style="max-width:%dpx">' % (left + width + 50, height, left + width + 50)]
    out.append('<rect x="%.1f" y="10" width="%.1f" height="%d" fill="#fdf1de"/>'
               % (x(0), x(window) - x(0), height - 30))
    if days_min < 0:
        out.append('<rect x="%.1f" y="10" width="%.1f" height="%d" fill="#fbe3e1"/>'
                   % (x(days_min), x(0) - x(days_min), height - 30))
    ticks = 6
    for i in range(ticks + 1):
        d = days_min + (span_end - days_min) * i // ticks
        xi = x(d)
        label = (now + datetime.timedelta(days=d)).strftime('%Y-%m-%d')
        out.append('<line x1="%.1f" x2="%.1f" y1="10" y2="%d" stroke="#dde1e6"/>' % (xi, xi, height - 20))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (xi, height - 6, label))
    out.append('<line x1="%.1f" x2="%.1f" y1="10" y2="%d" stroke="#1d2f4a" stroke-width="1.5"/>'
               % (x(0), x(0), height - 20))
    colors = {'expired': '#b3261e', 'renew': '#d98200', 'ok': '#2e8b47'}
    for i, name in enumerate(ranked):
        y = 20 + lane * i
        out.append('<text x="%d" y="%d" text-anchor="end">%s</text>' % (left - 8, y + 4, _h(name[:22])))
        out.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#eef1f4"/>' % (left, left + width, y, y))
        for d, store, alias in sorted(per_host[name]):
            out.append('<circle cx="%.1f" cy="%d" r="5" fill="%s" fill-opacity="0.8"><title>%s</title></circle>'
                       % (x(d), y, colors[_status(d, window)],
                          _h('%s %s/%s: %d days left%s' % (name, store, alias, d, ' (beyond the axis)'
                                                           if d > span_end or d < days_min else ''))))
    out.append('</svg>')
    hosts = len(per_host)
    note = ('<p class="muted">The %d hosts (of %d with certificates) whose certificates expire first; the shaded band is '
            'the renewal window (%d days).</p>' % (len(ranked), hosts, window))
    return ''.join(out) + note


def _histogram_svg(fleet):
    """Certificates of the whole fleet by month of expiry: expired, the next HISTOGRAM_MONTHS months, later."""
    now = _parse(fleet['generated_at'])
    window = fleet['renew_before_days']
    buckets = [[0, 0, 0] for dummy in range(HISTOGRAM_MONTHS + 2)]  # [expired], months..., [later]; by status
    for h, store, e in iter_entries(fleet):
        if 'days_left' not in e:
            continue
        after = _parse(e['not_after'])
        status = _status(e['days_left'], window)
        if status == 'expired':
            i = 0
        else:
            months = (after.year - now.year) * 12 + after.month - now.month
            i = 1 + min(months, HISTOGRAM_MONTHS)
        buckets[i][('expired', 'renew', 'ok').index(status)] += 1
    top = max([sum(b) for b in buckets] + [1])
    left, bar_width, gap, plot = 40, 30, 6, 140
    width = left + (bar_width + gap) * len(buckets) + 10
    out = ['<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Certificates by month of expiry" '
           'viewBox="0 0 %d %d" width="100%%" style="max-width:%dpx">' % (width, plot + 60, width)]
    out.append('<text x="4" y="14">%d</text><text x="4" y="%d">0</text>' % (top, plot + 10))
    colors = ('#b3261e', '#d98200', '#2e8b47')
    for i, counts in enumerate(buckets):
        xi = left + i * (bar_width + gap)
        y = plot + 10
        for n, count in enumerate(counts):
            if not count:
                continue
            hgt = max(1.0, count * float(plot) / top)
            y -= hgt
            out.append('<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%d %s</title></rect>'
                       % (xi, y, bar_width, hgt, colors[n], count, ('expired', 'within the renewal window', 'valid')[n]))
        if i == 0:
            label = 'expired'
        elif i == len(buckets) - 1:
            label = 'later'
        else:
            month = (now.month - 1 + i - 1)
            label = '%04d-%02d' % (now.year + month // 12, month % 12 + 1)
        if i in (0, len(buckets) - 1) or (i - 1) % 3 == 0:
            out.append('<text x="%d" y="%d" text-anchor="end" transform="rotate(-45 %d %d)">%s</text>'
                       % (xi + bar_width // 2 + 4, plot + 24, xi + bar_width // 2 + 4, plot + 24, label))
        total = sum(counts)
        if total:
            out.append('<text x="%d" y="%.1f" text-anchor="middle">%d</text>' % (xi + bar_width // 2, y - 3, total))
    out.append('</svg>')
    return ''.join(out)


def to_html(fleet):
    s = fleet['summary']
    hosts, entries, findings = table_rows(fleet)
    data = {'pageRows': PAGE_ROWS, 'hosts': hosts, 'entries': entries, 'findings': findings,
            'hostColumns': HOST_COLUMNS, 'entryColumns': ENTRY_COLUMNS, 'findingColumns': FINDING_COLUMNS}
    cards = [
        _card('hosts (%d without a report)' % s['hosts_failed'], s['hosts'], 'bad' if s['hosts_failed'] else 'good'),
        _card('audit findings, on %d hosts' % s['hosts_with_findings'], s['findings'], 'bad' if s['findings'] else 'good'),
        _card('hosts with shipped WSO2 material', s['hosts_with_shipped_material'],
              'bad' if s['hosts_with_shipped_material'] else 'good'),
        _card('stores SI cannot open', s['stores_not_open'], 'bad' if s['stores_not_open'] else 'good'),
        _card('certificates expired', s['expired'], 'bad' if s['expired'] else 'good'),
        _card('key entries within the renewal window (%d days)' % fleet['renew_before_days'], s['within_renewal_window'],
              'warn' if s['within_renewal_window'] else 'good'),
        _card('stores / entries', '%d / %d' % (s['stores'], s['entries']), ''),
    ]
    nearest = ['<table><thead><tr><th>Host</th><th>Store</th><th>Alias</th><th>Kind</th><th>Not after (UTC)</th>'
               '<th>Days left</th></tr></thead><tbody>']
    for n in s['nearest_expiries']:
        nearest.append('<tr><td>%s</td><td title="%s">%s</td><td>%s</td><td>%s</td><td>%s</td><td class="%s">%d</td></tr>'
                       % (_h(n['host']), _h(n['store']), _h(posixpath.basename(n['store'])), _h(n['alias']),
                          _h(n['kind']), _h(n['not_after']),
                          _status(n['days_left'], fleet['renew_before_days']), n['days_left']))
    nearest.append('</tbody></table>')
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
        'script-src \'unsafe-inline\'; img-src data:">',
        '<title>WSO2 SI fleet report %s</title><style>%s</style></head><body>' % (_h(fleet['generated_at']), CSS),
        '<header><h1>WSO2 SI fleet report</h1><p>Generated %s &middot; renewal window %d days &middot; schema %d</p>'
        '</header><main>' % (_h(fleet['generated_at']), fleet['renew_before_days'], fleet['schema_version']),
        '<noscript><section>The tables below need JavaScript; report.json holds the same data.</section></noscript>',
        '<section><h2>Fleet</h2><div class="cards">%s</div></section>' % ''.join(cards),
        '<section><h2>Nearest expiries of key entries</h2>%s</section>' % ''.join(nearest),
        '<section><h2>Expiry timeline</h2>%s</section>' % _timeline_svg(fleet),
        '<section><h2>Certificates by month of expiry (whole fleet)</h2>%s</section>' % _histogram_svg(fleet),
        _table_section('hosts', 'Hosts'),
        _table_section('entries', 'Store entries'),
        _table_section('findings', 'Audit findings'),
        '</main><script type="application/json" id="report-data">%s</script>' % _script_json(data),
        '<script>%s</script></body></html>\n' % JS,
    ]
    return '\n'.join(parts)
