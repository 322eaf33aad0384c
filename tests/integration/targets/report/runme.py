#!/usr/bin/env python
# Copyright: wso2si.keystores contributors
# Apache License 2.0 (see LICENSE)
"""playbooks/report.yml over a small local fleet, checked with real tools.

1. Three SI homes (demo/fleet.py setup --no-start: no listener, no port): si1 made
   of the real SI files when ../shared/fixtures/si is there (shipped material),
   si2 whose deployment.yaml gives the truststore a wrong password, si3 whose
   keystore's certificate expires in 10 days (inside the 30-day window).
2. The playbook in check mode (no textfile written, the report written), then for
   real: report.json validated against docs/report.schema.json, its facts
   checked, no configured password anywhere in the output.
3. `promtool check metrics` on every textfile, `promtool check rules` and
   `promtool test rules` on the shipped alerting rules.
4. A real node_exporter per host on a free loopback port, scraped over HTTP:
   the metrics found with the values report.json holds; Prometheus scraping them
   with the shipped rules loaded: the expected alerts pending or firing.
5. report.html of this fleet and of a synthetic 500-host fleet opened in headless
   Chromium: the page's script ran (DOM dump), no console message, screenshots
   kept in tests/output/report/ of the collection.

The tools come from Debian's prometheus, prometheus-node-exporter and chromium
packages; without them the step is skipped, or fails when CI=true.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
CI = os.environ.get('CI', '').lower() in ('1', 'true', 'yes')
PROCS = []


def log(msg):
    print('report: %s' % msg, flush=True)


def fail(msg):
    print('report: FAIL: %s' % msg, flush=True)
    raise SystemExit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def tool(name):
    path = shutil.which(name)
    if path is None:
        if CI:
            fail('%s is missing (CI installs it from Debian)' % name)
        log('SKIP the steps that need %s (not installed)' % name)
    return path


def free_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def start(argv, logfile):
    out = open(logfile, 'wb')
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    PROCS.append(proc)
    return proc


def stop_all():
    for proc in PROCS:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def http_get(url, timeout=30):
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return resp.read().decode('utf-8')
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def parse_metrics(text):
    """{(name, frozenset(labels)): value} of the text exposition format."""
    out = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith('#'):
            continue
        m = line_re.match(line)
        check(m is not None, 'unparsable metrics line %r' % line)
        labels = dict((k, v.replace('\\"', '"').replace('\\n', '\n').replace('\\\\', '\\'))
                      for k, v in label_re.findall(m.group(3) or ''))
        out[(m.group(1), frozenset(labels.items()))] = float(m.group(4))
    return out


def value(metrics, name, **labels):
    found = [v for (n, ls), v in metrics.items() if n == name and set(labels.items()) <= ls]
    check(len(found) == 1, '%s%r: %d samples, expected one' % (name, labels, len(found)))
    return found[0]


def main():
    started = time.time()
    config = {}
    cfg = os.path.join(HERE, '..', '..', 'integration_config.yml')
    if os.path.exists(cfg):
        with open(cfg) as f:
            config = yaml.safe_load(f) or {}
    root = config.get('wso2si_test_collection_root') or os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))
    fixtures = config.get('wso2si_test_fixtures_dir') or ''
    if fixtures and not os.path.isdir(fixtures):
        fixtures = ''
    out = os.path.join(os.environ.get('OUTPUT_DIR') or tempfile.mkdtemp(), 'report')
    shots = os.path.join(root, 'tests', 'output', 'report')
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    os.makedirs(shots, exist_ok=True)
    python = sys.executable
    collections = os.path.dirname(os.path.dirname(os.path.dirname(root)))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0',
               ANSIBLE_STDOUT_CALLBACK='default', ANSIBLE_RETRY_FILES_ENABLED='0',
               JUNIT_OUTPUT_DIR=os.path.join(out, 'junit'))
    sys.path.insert(0, collections)
    from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
    from ansible_collections.wso2si.keystores.plugins.module_utils import keystore as ks
    from ansible_collections.wso2si.keystores.plugins.module_utils import report_render

    # 1. the fleet
    fleet = os.path.join(out, 'fleet')
    subprocess.run([python, os.path.join(root, 'demo', 'fleet.py'), 'setup', fleet, '--hosts', '3', '--python', python,
                    '--no-start'], env=env, check=True, stdout=subprocess.DEVNULL)
    homes = dict((h, os.path.join(fleet, h)) for h in ('si1', 'si2', 'si3'))
    if fixtures:
        for rel in ('conf/server/deployment.yaml', 'conf/server/secrets.properties', 'conf/server/master-keys.yaml',
                    'wso2/server/bin/carbon.sh', 'resources/security/wso2carbon.jks',
                    'resources/security/client-truststore.jks', 'resources/security/securevault.jks'):
            shutil.copyfile(os.path.join(fixtures, 'server', rel), os.path.join(homes['si1'], rel))
        log('si1 is made of the real SI files from %s' % fixtures)
    else:
        log('no real SI files (../shared/fixtures/si): si1 is the project fixture')
    wrong = 'not-the-truststore-password-%d' % os.getpid()
    dep = os.path.join(homes['si2'], 'conf', 'server', 'deployment.yaml')
    with open(dep) as f:
        text = f.read()
    text, count = re.subn(r"(trustStorePassword:\s*)'wso2carbon'", r"\1'%s'" % wrong, text)
    check(count == 2, 'si2: expected two trustStorePassword lines, found %d' % count)
    with open(dep, 'w') as f:
        f.write(text)
    key = certs.generate_private_key('ec', 256)
    soon = certs.self_signed_certificate(key, certs.parse_name('CN=si3.example, O=Report "test" <&>'),
                                         ['DNS:si3.example'], 10)
    store = ks.Keystore('jks', password='wso2carbon')
    store.set_key('wso2carbon', key, [soon])
    with open(os.path.join(homes['si3'], 'resources', 'security', 'wso2carbon.jks'), 'wb') as f:
        f.write(store.dumps('wso2carbon'))
    for home in homes.values():
        os.makedirs(os.path.join(home, 'metrics'))
    with open(os.path.join(fleet, 'vars.yml')) as f:
        fleet_vars = yaml.safe_load(f)
    secrets = [fleet_vars['rollout_keystore_password'], fleet_vars['rollout_truststore_password'], wrong]

    # 2. the playbook: check mode, then for real
    # si4: no SI home at all; the report lists it with its error and goes on
    broken = os.path.join(fleet, 'broken.yml')
    with open(broken, 'w') as f:
        yaml.safe_dump({'wso2si': {'hosts': {'si4': {'rollout_si_home': os.path.join(fleet, 'si4')}},
                                   'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': python}}}, f)
    report_dir = os.path.join(out, 'out')
    argv = [python, '-m', 'ansible.cli.playbook', '-i', os.path.join(fleet, 'inventory.yml'), '-i', broken,
            '-e', '@' + os.path.join(fleet, 'vars.yml'), '-e', 'report_dir=' + report_dir,
            '-e', 'rollout_metrics_dir={{ rollout_si_home }}/metrics', os.path.join(root, 'playbooks', 'report.yml')]
    for mode, extra in (('check', ['--check']), ('run', [])):
        run = subprocess.run(argv + extra, env=env, capture_output=True, text=True, check=False)
        with open(os.path.join(out, 'playbook-%s.log' % mode), 'w') as f:
            f.write(run.stdout + run.stderr)
        check(run.returncode == 0, 'report.yml (%s) failed:\n%s%s' % (mode, run.stdout[-3000:], run.stderr[-2000:]))
        check(re.search(r'Fleet report of 4 hosts .*%s/report.html' % re.escape(report_dir), run.stdout),
              'report.yml (%s) does not say where the report is' % mode)
        for s in secrets:
            check(s not in run.stdout + run.stderr, 'a password appears in the playbook output (%s)' % mode)
        textfiles = [os.path.join(h, 'metrics', 'wso2si_keystores.prom') for h in homes.values()]
        if mode == 'check':
            check(not any(os.path.exists(t) for t in textfiles), 'check mode wrote a textfile')
            check(os.path.exists(os.path.join(report_dir, 'report.html')), 'check mode wrote no report')
            shutil.rmtree(report_dir)
        else:
            check(all(os.path.exists(t) for t in textfiles), 'a textfile is missing')
    log('report.yml: check mode, then for real (%d s)' % (time.time() - started))

    # the rollout role's metrics task, alone, on the same directories: the same file, so no change
    role_play = os.path.join(out, 'role-metrics.yml')
    with open(role_play, 'w') as f:
        f.write('- hosts: wso2si\n  gather_facts: false\n  tasks:\n'
                '    - ansible.builtin.include_role:\n        name: wso2si.keystores.rollout\n'
                '        tasks_from: metrics.yml\n')
    before = dict((t, os.stat(t).st_mtime_ns) for t in textfiles)
    run = subprocess.run(argv[:-1] + ['--limit', 'si1,si2,si3', role_play], env=env, capture_output=True, text=True,
                         check=False)
    with open(os.path.join(out, 'role-metrics.log'), 'w') as f:
        f.write(run.stdout + run.stderr)
    check(run.returncode == 0, 'the role\'s metrics.yml failed:\n%s%s' % (run.stdout[-3000:], run.stderr[-2000:]))
    recap = re.findall(r'^(si\d) +: ok=\d+ +changed=(\d+) +unreachable=0 +failed=0 +skipped=(\d+)', run.stdout, re.M)
    check(sorted(recap) == [('si1', '0', '0'), ('si2', '0', '0'), ('si3', '0', '0')],
          'the role\'s metrics task: %r (expected changed=0 skipped=0 on each host)' % recap)
    check(run.stdout.count('ok: [si') >= 3 and 'Prometheus textfile of the host' in run.stdout, 'the task did not run')
    check(before == dict((t, os.stat(t).st_mtime_ns) for t in textfiles), 'the role rewrote an unchanged textfile')
    log('the role\'s metrics.yml: the same textfiles as report.yml, unchanged (%d s)' % (time.time() - started))

    import jsonschema
    with open(os.path.join(root, 'docs', 'report.schema.json')) as f:
        schema = json.load(f)
    with open(os.path.join(report_dir, 'report.json')) as f:
        doc = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(doc)
    hosts = dict((h['name'], h) for h in doc['hosts'])
    check(sorted(hosts) == ['si1', 'si2', 'si3', 'si4'], 'hosts: %r' % hosts.keys())
    si4 = hosts.pop('si4')
    check(not si4['ok'] and si4['report'] is None and 'does not exist' in si4['error'], 'si4: %r' % si4)
    check(doc['summary']['hosts_failed'] == 1 and all(h['ok'] for h in hosts.values()), doc['summary'])

    def store_of(host, name):
        found = [s for s in hosts[host]['report']['stores'] if s['name'] == 'resources/security/' + name]
        check(len(found) == 1, '%s: no store %s' % (host, name))
        return found[0]
    si2_trust = store_of('si2', 'client-truststore.jks')
    check(si2_trust['open_ok'] is False and si2_trust['entries_listed'], 'si2 truststore: %r' % si2_trust)
    check(store_of('si1', 'wso2carbon.jks')['open_ok'] is True, 'si1 keystore does not open')
    si3_key = store_of('si3', 'wso2carbon.jks')['entries'][0]
    check(si3_key['days_left'] in (8, 9, 10) and si3_key['key_type'] == 'EC' and si3_key['key_size'] == 256,
          'si3 key entry: %r' % si3_key)
    check(si3_key['signature_algorithm'] == 'ecdsa-with-SHA256', si3_key['signature_algorithm'])
    check(doc['summary']['within_renewal_window'] >= 1 and doc['summary']['stores_not_open'] == 1, doc['summary'])
    nearest = [(n['host'], n['alias']) for n in doc['summary']['nearest_expiries']]
    check(('si3', 'wso2carbon') in nearest and all(n['kind'] == 'private_key' for n in doc['summary']['nearest_expiries']),
          'nearest expiries: %r' % nearest)
    if fixtures:
        check(store_of('si1', 'wso2carbon.jks')['shipped_material'], 'si1: the real wso2carbon.jks is not shipped')
        check(doc['summary']['hosts_with_shipped_material'] == 1, doc['summary'])
    check(all(h['report']['findings'] for h in hosts.values()), 'a host on shipped defaults has no finding')
    for name in os.listdir(report_dir) + ['../fleet/si1/metrics/wso2si_keystores.prom',
                                          '../fleet/si2/metrics/wso2si_keystores.prom']:
        with open(os.path.join(report_dir, name)) as f:
            content = f.read()
        for s in secrets:
            check(s not in content, 'a password appears in %s' % name)
    log('report.json: valid against docs/report.schema.json; facts as expected; no password in any output')

    # 3. promtool
    rules = os.path.join(root, 'roles', 'rollout', 'files', 'prometheus', 'wso2si-rules.yml')
    promtool = tool('promtool')
    if promtool:
        for t in textfiles:
            with open(t, 'rb') as f:
                res = subprocess.run([promtool, 'check', 'metrics'], stdin=f, capture_output=True, text=True, check=False)
            check(res.returncode == 0, 'promtool check metrics %s:\n%s%s' % (t, res.stdout, res.stderr))
        res = subprocess.run([promtool, 'check', 'rules', rules], capture_output=True, text=True, check=False)
        check(res.returncode == 0, 'promtool check rules:\n%s%s' % (res.stdout, res.stderr))
        test = os.path.join(out, 'rules-test.yml')
        with open(os.path.join(HERE, 'rules-test.yml')) as f:
            text = f.read()
        with open(test, 'w') as f:
            f.write(text.replace('RULES_FILE', rules))
        res = subprocess.run([promtool, 'test', 'rules', test], capture_output=True, text=True, check=False)
        check(res.returncode == 0, 'promtool test rules:\n%s%s' % (res.stdout, res.stderr))
        log('promtool: 3 textfiles, the rules checked and unit-tested')

    # 4. node_exporter and Prometheus
    exporter = tool('prometheus-node-exporter')
    targets = {}
    if exporter:
        for host, home in homes.items():
            port = free_port()
            start([exporter, '--web.listen-address=127.0.0.1:%d' % port, '--collector.disable-defaults',
                   '--collector.textfile', '--collector.textfile.directory=' + os.path.join(home, 'metrics')],
                  os.path.join(out, 'node-exporter-%s.log' % host))
            targets[host] = port
        for host, port in targets.items():
            metrics = parse_metrics(http_get('http://127.0.0.1:%d/metrics' % port))
            check(value(metrics, 'node_textfile_scrape_error') == 0, '%s: textfile scrape error' % host)
            report = hosts[host]['report']
            check(value(metrics, 'wso2si_audit_findings') == len(report['findings']), '%s: findings' % host)
            check(value(metrics, 'wso2si_renewal_window_seconds') == 30 * 86400, '%s: window' % host)
            for s in report['stores']:
                if s['open_ok'] is not None:
                    check(value(metrics, 'wso2si_store_open_ok', store=s['path']) == (1 if s['open_ok'] else 0),
                          '%s %s: open_ok' % (host, s['path']))
                check(value(metrics, 'wso2si_store_shipped_material', store=s['path']) ==
                      (1 if s['shipped_material'] else 0), '%s %s: shipped' % (host, s['path']))
                for e in s['entries']:
                    if 'not_after' in e:
                        got = value(metrics, 'wso2si_certificate_not_after_timestamp_seconds', store=s['path'],
                                    alias=e['alias'], subject=e['subject'], issuer=e['issuer'])
                        check(got == e['not_after_timestamp'], '%s %s/%s: not_after' % (host, s['path'], e['alias']))
        log('node_exporter: 3 scraped over HTTP, every value as report.json says')
    prometheus = tool('prometheus')
    if exporter and prometheus:
        port = free_port()
        conf = os.path.join(out, 'prometheus.yml')
        with open(conf, 'w') as f:
            yaml.safe_dump({'global': {'scrape_interval': '1s', 'evaluation_interval': '1s'},
                            'rule_files': [rules],
                            'scrape_configs': [{'job_name': 'node', 'static_configs': [
                                {'targets': ['127.0.0.1:%d' % p for p in targets.values()]}]}]}, f)
        start([prometheus, '--config.file=' + conf, '--storage.tsdb.path=' + os.path.join(out, 'tsdb'),
               '--web.listen-address=127.0.0.1:%d' % port], os.path.join(out, 'prometheus.log'))
        wanted = {('WSO2SIStoreCannotBeOpened', '127.0.0.1:%d' % targets['si2']),
                  ('WSO2SICertificateRenewalDue', '127.0.0.1:%d' % targets['si3'])}
        if fixtures:
            wanted.add(('WSO2SIShippedMaterial', '127.0.0.1:%d' % targets['si1']))
        deadline = time.time() + 40
        while True:
            try:
                alerts = json.loads(http_get('http://127.0.0.1:%d/api/v1/alerts' % port, timeout=10))['data']['alerts']
            except OSError:
                alerts = []
            seen = set((a['labels']['alertname'], a['labels']['instance']) for a in alerts
                       if a['state'] in ('pending', 'firing'))
            if wanted <= seen:
                break
            check(time.time() < deadline, 'Prometheus: alerts %r not all pending, got %r' % (wanted, seen))
            time.sleep(1)
        unexpected = [a for a in seen if a[0] == 'WSO2SIStoreCannotBeOpened' and a[1] != '127.0.0.1:%d' % targets['si2']]
        check(not unexpected, 'Prometheus: unexpected alerts %r' % unexpected)
        log('Prometheus: the shipped rules loaded, alerts pending for %s' % sorted(a[0] for a in wanted))

    # 5. Chromium
    big = synthetic_fleet(report_render, 500)
    big_html = os.path.join(out, 'report-500.html')
    with open(big_html, 'w') as f:
        f.write(report_render.to_html(big))
    chromium = tool('chromium')
    if chromium:
        for name, page in (('report-3-hosts', os.path.join(report_dir, 'report.html')), ('report-500-hosts', big_html)):
            browse(chromium, page, os.path.join(shots, name + '.png'), out)
        log('chromium: both reports rendered, their script ran, no console message; screenshots in %s' % shots)
    log('done in %d s' % (time.time() - started))


def browse(chromium, page, png, out):
    common = [chromium, '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
              '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-logging=stderr', '--v=0',
              '--window-size=1400,2400']
    url = 'file://' + page
    for args in (['--dump-dom'], ['--screenshot=' + png]):
        profile = tempfile.mkdtemp(dir=out)
        res = subprocess.run(common + ['--user-data-dir=' + profile] + args + [url], capture_output=True, text=True,
                             timeout=120, check=False)
        check(res.returncode == 0, 'chromium %s: exit %d\n%s' % (args[0], res.returncode, res.stderr[-2000:]))
        console = [line for line in res.stderr.splitlines() if 'CONSOLE' in line]
        check(not console, 'chromium: console messages on %s:\n%s' % (page, '\n'.join(console)))
        if args == ['--dump-dom']:
            check('data-report-ready="yes"' in res.stdout, 'the script of %s did not run to its end' % page)
            check(res.stdout.count('<tr>') > 3, 'the tables of %s are empty' % page)
    check(os.path.getsize(png) > 10000, 'no screenshot of %s' % page)


def synthetic_fleet(report_render, count):
    """A fleet of ``count`` hosts with a fixed seed: certificates expiring from 20 days ago to 3 years ahead."""
    rng = random.Random(16)
    now = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)
    results = {}
    for i in range(count):
        name = 'si-%03d.example.org' % i
        if i % 97 == 5:
            results[name] = {'unreachable': True, 'msg': 'ssh: connect to host %s port 22: timed out' % name}
            continue
        stores = []
        for sname, role, kind, n in (('resources/security/si-keystore.jks', 'keystore', 'private_key', 1),
                                     ('resources/security/si-truststore.jks', 'truststore', 'trusted_certificate', 3)):
            entries = []
            for k in range(n):
                after = now + datetime.timedelta(days=rng.randint(-20, 3 * 365), seconds=rng.randint(0, 86399))
                entries.append({'alias': 'si' if kind == 'private_key' else 'ca%d' % k, 'kind': kind,
                                'shipped': i % 50 == 7, 'subject': 'CN=%s' % name, 'issuer': 'CN=Fleet CA %d' % (k % 2),
                                'serial': '%x' % (i * 10 + k + 1), 'subject_alt_names': ['DNS:' + name],
                                'key_type': 'RSA', 'key_size': 2048, 'signature_algorithm': 'sha256WithRSAEncryption',
                                'not_before': '2026-01-01T00:00:00Z', 'not_after': after.strftime('%Y-%m-%dT%H:%M:%SZ'),
                                'not_after_timestamp': int(after.timestamp()), 'days_left': 0, 'expired': False,
                                'self_signed': False, 'fingerprint_sha256': ':'.join(['AB'] * 32)})
            stores.append({'path': '/opt/wso2si/' + sname, 'name': sname, 'roles': [role], 'exists': True,
                           'store_type': 'jks', 'open_ok': i % 61 != 3, 'entries_listed': True, 'error': None,
                           'shipped_material': i % 50 == 7, 'entries': entries, 'findings': [], 'references': []})
        findings = [{'kind': 'implicit_default', 'file': '/opt/wso2si/conf/server/deployment.yaml',
                     'location': 'siddhi > extensions[]', 'detail': 'no override <script>alert(1)</script>'}] \
            if i % 7 == 0 else []
        results[name] = {'report': {'si_home': '/opt/wso2si', 'profile': 'server', 'gathered_at': '2026-06-01T00:00:00Z',
                                    'stores': stores, 'unresolved_references': [], 'findings': findings,
                                    'secure': not findings}}
    return report_render.build_fleet(results, now, 30)


if __name__ == '__main__':
    try:
        main()
    finally:
        stop_all()
