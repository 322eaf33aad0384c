# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Benchmarks: the collection beside community.general and keytool, in one run.

    make bench          # full run: 3 runs of every scenario, writes BENCHMARKS.md
    make bench-smoke    # tiny sizes, 1 run, no community.general: < 60 s, for CI

    python bench/run.py [--smoke] [--runs N] [--output FILE] [--no-peers] [--strict]
                        [--scenarios 1,2,3,4,5]

Run from the repository root after `make collection` (the Makefile targets do
both). The full run installs the `ansible` package (for community.general's
java_cert and java_keystore) into .build/bench-venv, leaving the project's
pinned ansible-core in .venv as it is: every playbook runs with .venv's
ansible-playbook, which finds community.general through
ANSIBLE_COLLECTIONS_PATH. Test certificates are made once and cached in
.build/bench-cache; scratch files go to .build/bench-work/full (or smoke).

Scenarios (every contender measured in every run, medians over the runs):

1. a truststore of 150 CA certificates: si_truststore in one task,
   community.general.java_cert in a loop, keytool in a loop (one call per
   certificate); first run and no-change rerun;
2. si_truststore with 10, 100, 1000 and 5000 certificates, the module process
   run directly (python -m ... ARGS.json): wall time, CPU time, peak RSS;
3. an identity keystore: si_keystore (generated key; and from PEM),
   community.general.java_keystore (from PEM), keytool -genkeypair;
4. the rollout role on 1, 5 and 20 local SI homes (demo/fleet.py), forks 10,
   first run and no-change rerun, beside a playbook of as many
   ansible.builtin.stat tasks on the same hosts (Ansible's own per-task floor);
5. one no-change si_keystore task beside one ansible.builtin.stat task.

Task times come from bench/callback_plugins/bench_timer.py (a task's wall
time, start to next task), so ansible-playbook's own start-up, the same for
every contender, is left out. Targets are ratios within one run, never
absolute times; `--strict` exits 1 when one is missed.
"""

from __future__ import annotations

import argparse
import datetime
import fcntl
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import certs as material  # noqa: E402  (bench/certs.py)

BUILD = os.path.join(REPO, '.build')
VENV_BIN = os.path.join(REPO, '.venv', 'bin')
PYTHON = os.path.join(VENV_BIN, 'python')
BENCH_VENV = os.path.join(BUILD, 'bench-venv')
CACHE = os.path.join(BUILD, 'bench-cache')
WORK = os.path.join(BUILD, 'bench-work', 'full')  # bench-work/smoke for --smoke: the two may run at once
ANSIBLE_PACKAGE = 'ansible==12.3.0'  # community.general 11.x; ansible-core 2.19 like .venv
PASSWORD = 'bench-Passw0rd'
PORT_BASE = 40000  # fleet listeners on 47453+ and 49453+, apart from the demo's and the tests'
PORT_BASE_SMOKE = 42000  # 49453+ / 51453+ ... for --smoke, apart from a full run's

FULL = dict(runs=3, truststore=150, sizes=[10, 100, 1000, 5000], hosts=[1, 5, 20], repeat=9)
SMOKE = dict(runs=1, truststore=3, sizes=[10, 50], hosts=[1], repeat=2)

TARGETS_TEXT = {
    's1_javacert_first': 'S1 si_truststore vs java_cert loop, first run: >= 30x faster',
    's1_javacert_rerun': 'S1 si_truststore vs java_cert loop, no-change rerun: >= 30x faster',
    's1_keytool_first': 'S1 si_truststore vs keytool loop, first run: >= 5x faster',
    's2_5000': 'S2 5000 certificates: < 3 s module time (first run and rerun)',
    's2_linear': 'S2 cost per certificate within 1.5x from 100 to 5000 (first run)',
    's4_rerun': 'S4 rollout no-change rerun within 1.5x of the stat floor (each fleet size)',
    's4_first': 'S4 first run: apart from key generation and SI restarts, within 1.5x of the rerun',
    's5_ratio': 'S5 one no-change si_keystore task within 1.3x of one stat task',
}


# ---------------------------------------------------------------- helpers

def log(msg):
    sys.stderr.write('[bench %s] %s\n' % (time.strftime('%H:%M:%S'), msg))
    sys.stderr.flush()


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def run_cmd(cmd, env=None, cwd=None, check=True, log_to=None):
    """Run a command; returns (wall seconds, returncode, rusage of the child)."""
    out = open(log_to, 'ab') if log_to else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT if log_to else subprocess.DEVNULL)
        dummy, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if log_to:
            out.close()
    if check and proc.returncode != 0:
        raise SystemExit('bench: %s failed (exit %d)%s' % (' '.join(cmd[:4]), proc.returncode,
                                                           '; see %s' % log_to if log_to else ''))
    return wall, proc.returncode, usage


class Env(object):
    """Paths and the environment every playbook runs with."""

    def __init__(self, args):
        self.args = args
        self.peers = not args.no_peers
        self.logs = os.path.join(WORK, 'logs')
        paths = [BUILD]
        if self.peers:
            paths.append(site_packages(BENCH_VENV))
        self.env = dict(os.environ)
        self.env.update({
            'PATH': VENV_BIN + os.pathsep + os.environ.get('PATH', ''),
            'ANSIBLE_COLLECTIONS_PATH': os.pathsep.join(paths),
            'ANSIBLE_CALLBACK_PLUGINS': os.path.join(HERE, 'callback_plugins'),
            'ANSIBLE_CALLBACKS_ENABLED': 'bench_timer',
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_FORKS': '10',
            'ANSIBLE_DEPRECATION_WARNINGS': 'False',
            'ANSIBLE_LOCALHOST_WARNING': 'False',
            'ANSIBLE_INVENTORY_UNPARSED_WARNING': 'False',
            'ANSIBLE_PYTHON_INTERPRETER': PYTHON,
            'ANSIBLE_LOCAL_TEMP': os.path.join(WORK, 'ansible-local'),
            'ANSIBLE_REMOTE_TMP': os.path.join(WORK, 'ansible-remote'),
            'PYTHONDONTWRITEBYTECODE': '1',
            'BENCH_PW': PASSWORD,
        })
        self.env.pop('ANSIBLE_CONFIG', None)
        self.counter = 0

    def playbook(self, playbook, inventory=None, extra=(), label='playbook'):
        """Run ansible-playbook; returns (wall seconds, timer data)."""
        self.counter += 1
        timer = os.path.join(self.logs, '%03d-%s.json' % (self.counter, label))
        logfile = os.path.join(self.logs, '%03d-%s.log' % (self.counter, label))
        env = dict(self.env, BENCH_TIMER_OUT=timer)
        cmd = [os.path.join(VENV_BIN, 'ansible-playbook'), '-f', '10']
        cmd += ['-i', inventory] if inventory else ['-i', 'localhost,', '-c', 'local']
        for e in extra:
            cmd += ['-e', e]
        cmd.append(playbook)
        wall, dummy, dummy = run_cmd(cmd, env=env, cwd=REPO, log_to=logfile)
        with open(timer) as f:
            return wall, json.load(f)


def site_packages(venv):
    return os.path.join(venv, 'lib', 'python%d.%d' % sys.version_info[:2], 'site-packages')


def ensure_peers():
    """community.general (the `ansible` package) in .build/bench-venv."""
    stamp = os.path.join(BENCH_VENV, '.installed-' + ANSIBLE_PACKAGE.replace('==', '-'))
    if os.path.exists(stamp):
        return
    log('installing %s into %s (once)' % (ANSIBLE_PACKAGE, BENCH_VENV))
    if not os.path.exists(os.path.join(BENCH_VENV, 'bin', 'python')):
        subprocess.run([sys.executable, '-m', 'venv', BENCH_VENV], check=True)
    subprocess.run([os.path.join(BENCH_VENV, 'bin', 'python'), '-m', 'pip', 'install', '-q',
                    '--disable-pip-version-check', ANSIBLE_PACKAGE], check=True)
    with open(stamp, 'w') as f:
        f.write(ANSIBLE_PACKAGE + '\n')


def peer_version():
    path = os.path.join(site_packages(BENCH_VENV), 'ansible_collections', 'community', 'general', 'MANIFEST.json')
    try:
        with open(path) as f:
            return json.load(f)['collection_info']['version']
    except (OSError, ValueError, KeyError):
        return None


def task_times(timer, prefix):
    """{task name: seconds} for tasks whose name starts with prefix."""
    return {t['name']: t['seconds'] for t in timer['tasks'] if t['name'].startswith(prefix)}


def statuses(timer, name):
    for t in timer['tasks']:
        if t['name'] == name:
            return sorted(set(t['hosts'].values()))
    return []


# ---------------------------------------------------------------- scenarios 1, 3, 5: one playbook per run

def modules_playbook(env, cert_paths, identity, repeat):
    """Scenarios 1, 3 and 5 as one playbook (JSON is YAML), written into WORK."""
    s1 = os.path.join(WORK, 's1')
    s3 = os.path.join(WORK, 's3')
    s5 = os.path.join(WORK, 's5')
    items = [{'alias': 'bench-ca-%04d' % i, 'path': p} for i, p in enumerate(cert_paths)]
    key_pem, cert_pem = identity
    tasks = [
        {'name': 'setup: clean scratch directories', 'ansible.builtin.file': {'path': '{{ item }}', 'state': 'absent'},
         'loop': [s1, s3, s5]},
        {'name': 'setup: make scratch directories', 'ansible.builtin.file': {'path': '{{ item }}', 'state': 'directory'},
         'loop': [s1, s3, s5]},
    ]
    truststore = {'path': s1 + '/si.jks', 'password': PASSWORD, 'certificates': items}
    tasks += [{'name': 's1 si_truststore first', 'wso2si.keystores.si_truststore': truststore},
              {'name': 's1 si_truststore rerun', 'wso2si.keystores.si_truststore': truststore}]
    if env.peers:
        java_cert = {'cert_path': '{{ item.path }}', 'cert_alias': '{{ item.alias }}', 'trust_cacert': True,
                     'keystore_path': s1 + '/java_cert.jks', 'keystore_pass': PASSWORD, 'keystore_create': True,
                     'keystore_type': 'JKS'}
        loop = {'loop': items, 'loop_control': {'label': '{{ item.alias }}'}}
        tasks += [dict({'name': 's1 java_cert first', 'community.general.java_cert': java_cert}, **loop),
                  dict({'name': 's1 java_cert rerun', 'community.general.java_cert': java_cert}, **loop)]
    generated = {'path': s3 + '/si.jks', 'password': PASSWORD, 'alias': 'si', 'key_type': 'rsa', 'key_size': 2048,
                 'subject': 'CN=bench.example.com', 'subject_alt_names': ['DNS:bench.example.com'],
                 'validity_days': 365}
    from_pem = {'path': s3 + '/si-pem.jks', 'password': PASSWORD, 'alias': 'si',
                'certificate_path': cert_pem, 'private_key_path': key_pem}
    tasks += [{'name': 's3 si_keystore first', 'wso2si.keystores.si_keystore': generated},
              {'name': 's3 si_keystore rerun', 'wso2si.keystores.si_keystore': generated},
              {'name': 's3 si_keystore_pem first', 'wso2si.keystores.si_keystore': from_pem},
              {'name': 's3 si_keystore_pem rerun', 'wso2si.keystores.si_keystore': from_pem}]
    if env.peers:
        java_keystore = {'name': 'si', 'certificate_path': cert_pem, 'private_key_path': key_pem,
                         'password': PASSWORD, 'dest': s3 + '/java_keystore.jks', 'keystore_type': 'jks'}
        tasks += [{'name': 's3 java_keystore first', 'community.general.java_keystore': java_keystore},
                  {'name': 's3 java_keystore rerun', 'community.general.java_keystore': java_keystore}]
    # scenario 5: alternating single tasks, so that drift hits both alike
    s5_store = dict(generated, path=s5 + '/si.jks')
    tasks.append({'name': 's5 setup si_keystore', 'wso2si.keystores.si_keystore': s5_store})
    for i in range(repeat):
        tasks.append({'name': 's5 stat %02d' % i, 'ansible.builtin.stat': {'path': s5 + '/si.jks'}})
        tasks.append({'name': 's5 si_keystore %02d' % i, 'wso2si.keystores.si_keystore': s5_store})
    play = [{'name': 'bench: scenarios 1, 3 and 5', 'hosts': 'all', 'gather_facts': False, 'tasks': tasks}]
    path = os.path.join(WORK, 'modules.json')
    with open(path, 'w') as f:
        json.dump(play, f, indent=1)
    return path


def keytool_env():
    return dict(os.environ, BENCH_PW=PASSWORD)


def keytool_truststore_loop(cert_paths, store):
    """One keytool -importcert per certificate, as a shell loop would. On a
    rerun keytool refuses each alias that exists (exit 1): no change."""
    env = keytool_env()
    start = time.perf_counter()
    codes = []
    for i, path in enumerate(cert_paths):
        dummy, code, dummy = run_cmd(['keytool', '-importcert', '-noprompt', '-alias', 'bench-ca-%04d' % i,
                                      '-file', path, '-keystore', store, '-storetype', 'JKS',
                                      '-storepass:env', 'BENCH_PW'], env=env, check=False)
        codes.append(code)
    return time.perf_counter() - start, codes


def keytool_genkeypair(store):
    env = keytool_env()
    wall, code, dummy = run_cmd(['keytool', '-genkeypair', '-alias', 'si', '-keyalg', 'RSA', '-keysize', '2048',
                                 '-validity', '365', '-dname', 'CN=bench.example.com',
                                 '-ext', 'SAN=dns:bench.example.com', '-keystore', store, '-storetype', 'JKS',
                                 '-storepass:env', 'BENCH_PW', '-keypass:env', 'BENCH_PW'], env=env, check=False)
    return wall, code


def run_modules(env, results, cert_paths, identity, repeat):
    playbook = modules_playbook(env, cert_paths, identity, repeat)
    dummy, timer = env.playbook(playbook, label='modules')
    times = task_times(timer, 's')
    check = results.setdefault('checks', [])
    for name in ('s1 si_truststore', 's1 java_cert', 's3 si_keystore', 's3 si_keystore_pem', 's3 java_keystore'):
        if name + ' first' in times:
            first, rerun = statuses(timer, name + ' first'), statuses(timer, name + ' rerun')
            if first != ['changed'] or rerun != ['ok']:
                check.append('%s: first run %s, rerun %s (expected changed, then ok)' % (name, first, rerun))
    for name in ('si_truststore', 'java_cert'):
        for run in ('first', 'rerun'):
            key = 's1 %s %s' % (name, run)
            if key in times:
                results.setdefault('s1', {}).setdefault(name + ' ' + run, []).append(times[key])
    for name in ('si_keystore', 'si_keystore_pem', 'java_keystore'):
        for run in ('first', 'rerun'):
            key = 's3 %s %s' % (name, run)
            if key in times:
                results.setdefault('s3', {}).setdefault(name + ' ' + run, []).append(times[key])
    stat = [v for k, v in times.items() if k.startswith('s5 stat ')]
    ks = [v for k, v in times.items() if k.startswith('s5 si_keystore ')]
    if any(s != ['ok'] for s in (statuses(timer, k) for k in times if k.startswith('s5 si_keystore '))):
        check.append('s5: a no-change si_keystore task reported a change')
    results.setdefault('s5', {}).setdefault('stat', []).append(median(stat))
    results['s5'].setdefault('si_keystore', []).append(median(ks))

    # keytool, outside Ansible (its most favourable setting)
    kt = os.path.join(WORK, 'keytool')
    shutil.rmtree(kt, ignore_errors=True)
    os.makedirs(kt)
    first, codes = keytool_truststore_loop(cert_paths, os.path.join(kt, 'trust.jks'))
    if any(codes):
        check.append('s1 keytool loop: first run failed for %d certificates' % sum(1 for c in codes if c))
    rerun, codes = keytool_truststore_loop(cert_paths, os.path.join(kt, 'trust.jks'))
    if not all(codes):
        check.append('s1 keytool loop: the rerun imported again')
    results['s1'].setdefault('keytool first', []).append(first)
    results['s1'].setdefault('keytool rerun', []).append(rerun)
    first, code = keytool_genkeypair(os.path.join(kt, 'identity.jks'))
    rerun, code2 = keytool_genkeypair(os.path.join(kt, 'identity.jks'))
    if code or not code2:
        check.append('s3 keytool -genkeypair: first exit %d, rerun exit %d (expected 0, then refused)' % (code, code2))
    results['s3'].setdefault('keytool first', []).append(first)
    results['s3'].setdefault('keytool rerun', []).append(rerun)


# ---------------------------------------------------------------- scenario 2: the module process itself

def run_scale(env, results, cert_paths_all, sizes):
    s2 = os.path.join(WORK, 's2')
    os.makedirs(s2, exist_ok=True)
    module_env = dict(env.env, PYTHONPATH=BUILD)
    out = results.setdefault('s2', {})
    for n in [0] + sizes:
        items = [{'alias': 'bench-ca-%04d' % i, 'content': open(p).read()} for i, p in enumerate(cert_paths_all[:n])]
        store = os.path.join(s2, 'si-%d.jks' % n)
        args = os.path.join(s2, 'args-%d.json' % n)
        with open(args, 'w') as f:
            json.dump({'ANSIBLE_MODULE_ARGS': {'path': store, 'password': PASSWORD, 'certificates': items}}, f)
        for run in ('first', 'rerun'):
            if run == 'first' and os.path.exists(store):
                os.remove(store)
            result = os.path.join(s2, 'result-%d-%s.json' % (n, run))
            if os.path.exists(result):
                os.remove(result)
            with open(result, 'wb') as f:
                start = time.perf_counter()
                proc = subprocess.Popen([PYTHON, '-m', 'ansible_collections.wso2si.keystores.plugins.modules.si_truststore',
                                         args], env=module_env, stdout=f, cwd=s2)
                dummy, status, usage = os.wait4(proc.pid, 0)
                wall = time.perf_counter() - start
            with open(result) as f:
                reply = json.load(f)
            if os.waitstatus_to_exitcode(status) != 0 or reply.get('failed'):
                raise SystemExit('bench: si_truststore with %d certificates failed: %s' % (n, reply.get('msg')))
            if reply['changed'] != (run == 'first') or reply['entries'] != n:
                results.setdefault('checks', []).append('s2 %d %s: changed=%s entries=%s' % (
                    n, run, reply['changed'], reply['entries']))
            entry = out.setdefault('%d %s' % (n, run), {'wall': [], 'cpu': [], 'rss_mb': []})
            entry['wall'].append(wall)
            entry['cpu'].append(usage.ru_utime + usage.ru_stime)
            entry['rss_mb'].append(usage.ru_maxrss / 1024.0)


# ---------------------------------------------------------------- scenario 4: the rollout role on a local fleet

def fleet_homes(directory):
    if not os.path.isdir(directory):
        return []
    return [os.path.join(directory, d) for d in sorted(os.listdir(directory))
            if os.path.isfile(os.path.join(directory, d, 'conf', 'server', 'deployment.yaml'))]


def stop_fleet(directory):
    for home in fleet_homes(directory):
        subprocess.run([PYTHON, os.path.join(REPO, 'demo', 'fleet.py'), 'stop', home],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def stat_floor_playbook(tasks_per_host):
    """gather_facts (as the rollout) and tasks_per_host - 1 stat tasks: as many module runs per host as the
    rollout's rerun, on the same hosts, in one batch."""
    tasks = [{'name': 'floor stat %03d' % i,
              'ansible.builtin.stat': {'path': '{{ rollout_si_home }}/conf/server/deployment.yaml'}}
             for i in range(max(tasks_per_host - 1, 0))]
    play = [{'name': 'bench: stat floor', 'hosts': 'wso2si', 'serial': '100%', 'gather_facts': True, 'tasks': tasks}]
    path = os.path.join(WORK, 'stat-floor-%d.json' % tasks_per_host)
    with open(path, 'w') as f:
        json.dump(play, f, indent=1)
    return path


KEYGEN_TASKS = ('Key pair and certificate in the new keystore', "The host's own secure vault key",
                'Sign it with the CA on the controller')
RESTART_TASKS = ('Restart SI', 'Restart the SI service',
                 'Each listener serves the new certificate, trusted by the new truststore')
# actions the controller runs itself, with no module on the host
CONTROLLER_ACTIONS = ('set_fact', 'assert', 'include_tasks', 'import_tasks', 'include_role', 'import_role', 'meta',
                      'debug', 'validate_argument_spec', 'fail', 'include_vars', 'add_host', 'group_by')


def short_name(task):
    """A role task's name without its 'namespace.collection.role : ' prefix."""
    return task['name'].split(' : ', 1)[-1]


def play_seconds(timer):
    return sum(t['seconds'] or 0 for t in timer['tasks'])


def module_runs(timer, host):
    """Module executions on ``host``: each non-skipped task (or loop item) whose
    action runs a module, gather_facts included; controller-only actions
    (set_fact, assert, include_tasks, ...) are not counted."""
    count = 0
    for t in timer['tasks']:
        if t['hosts'].get(host) in (None, 'skipped'):
            continue
        if t['action'].rsplit('.', 1)[-1] in CONTROLLER_ACTIONS:
            continue
        count += max(1, t.get('items', {}).get(host, 0))
    return count


def payload_builds(timer, host):
    """(distinct modules run on ``host``, mean seconds a module's first task took over its later ones).

    ansible-playbook builds a module's payload (AnsiballZ) once per run and
    module, on the first task that uses it; the difference estimates that cost.
    None when no module ran twice."""
    by_action = {}
    for t in timer['tasks']:
        if t['hosts'].get(host) in (None, 'skipped') or t['action'].rsplit('.', 1)[-1] in CONTROLLER_ACTIONS:
            continue
        by_action.setdefault(t['action'], []).append((t['seconds'] or 0) / max(1, t.get('items', {}).get(host, 0)))
    extra = [s[0] - statistics.median(s[1:]) for s in by_action.values() if len(s) > 1]
    return len(by_action), (statistics.mean(extra) if extra else None)


def all_tasks(timer, host):
    return sum(1 for t in timer['tasks'] if t['hosts'].get(host) not in (None, 'skipped'))


def run_rollout(env, results, hosts):
    directory = os.path.join(WORK, 'fleet-%d' % hosts)
    stop_fleet(directory)
    shutil.rmtree(directory, ignore_errors=True)
    run_cmd([PYTHON, os.path.join(REPO, 'demo', 'fleet.py'), 'setup', directory, '--hosts', str(hosts),
             '--python', PYTHON, '--port-base', str(PORT_BASE_SMOKE if env.args.smoke else PORT_BASE)],
            env=env.env, cwd=REPO,
            log_to=os.path.join(env.logs, 'fleet-%d.log' % hosts))
    try:
        inventory = os.path.join(directory, 'inventory.yml')
        extra = ['@' + os.path.join(directory, 'vars.yml'), 'rollout_serial=100%']
        playbook = os.path.join(REPO, 'playbooks', 'rollout.yml')
        wall_first, first = env.playbook(playbook, inventory, extra + ['rollout_ca_create=true'],
                                         label='rollout-%d-first' % hosts)
        wall_rerun, rerun = env.playbook(playbook, inventory, extra, label='rollout-%d-rerun' % hosts)
        changed = [t['name'] for t in rerun['tasks'] if 'changed' in t['hosts'].values()]
        if changed:
            results.setdefault('checks', []).append('s4 %d hosts: the rerun changed %s' % (hosts, ', '.join(changed)))
        count = module_runs(rerun, 'si1')
        wall_floor, floor = env.playbook(stat_floor_playbook(count), inventory, label='floor-%d' % hosts)
    finally:
        stop_fleet(directory)

    def split(timer):
        keygen = sum(t['seconds'] or 0 for t in timer['tasks'] if short_name(t) in KEYGEN_TASKS)
        restart = sum(t['seconds'] or 0 for t in timer['tasks'] if short_name(t) in RESTART_TASKS)
        return keygen, restart

    k1, r1 = split(first)
    k2, r2 = split(rerun)
    modules, first_use = payload_builds(rerun, 'si1')
    floor_modules, floor_first_use = payload_builds(floor, 'si1')
    entry = results.setdefault('s4', {}).setdefault(str(hosts), {})
    for key, value in (('first', play_seconds(first)), ('rerun', play_seconds(rerun)), ('floor', play_seconds(floor)),
                       ('first_wall', wall_first), ('rerun_wall', wall_rerun), ('floor_wall', wall_floor),
                       ('first_keygen', k1), ('first_restart', r1), ('rerun_keygen', k2), ('rerun_restart', r2),
                       ('tasks', count), ('all_tasks', all_tasks(rerun, 'si1')),
                       ('modules', modules), ('first_use', first_use),
                       ('floor_modules', floor_modules), ('floor_first_use', floor_first_use)):
        entry.setdefault(key, []).append(value)


# ---------------------------------------------------------------- report

def fmt(value, digits=2, unit=''):
    if value is None:
        return 'n/a'
    return ('%.' + str(digits) + 'f%s') % (value, unit)


def ratio(a, b):
    return a / b if a is not None and b else None


def machine():
    cpu = platform.processor() or ''
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open('/proc/meminfo') as f:
            mem = int(f.readline().split()[1]) / 1024.0 / 1024.0
    except (OSError, ValueError, IndexError):
        mem = 0
    os_name = platform.platform()
    try:
        with open('/etc/os-release') as f:
            for line in f:
                if line.startswith('PRETTY_NAME='):
                    os_name = line.split('=', 1)[1].strip().strip('"') + ', kernel ' + platform.release()
    except OSError:
        pass

    def version(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, check=False)
            return (out.stdout + out.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return 'n/a'

    return {
        'cpu': '%s, %d cores' % (cpu, os.cpu_count() or 0),
        'memory': '%.1f GiB' % mem,
        'os': os_name,
        'python': platform.python_version(),
        'ansible-core': version([os.path.join(VENV_BIN, 'ansible'), '--version']),
        'java': version(['java', '-version']),
    }


def evaluate(results, config):
    """{target id: (measured text, met bool or None)}."""
    out = {}
    s1 = results.get('s1', {})
    si_first, si_rerun = median(s1.get('si_truststore first', [])), median(s1.get('si_truststore rerun', []))
    jc_first, jc_rerun = median(s1.get('java_cert first', [])), median(s1.get('java_cert rerun', []))
    kt_first = median(s1.get('keytool first', []))
    for key, a, b, want in (('s1_javacert_first', jc_first, si_first, 30), ('s1_javacert_rerun', jc_rerun, si_rerun, 30),
                            ('s1_keytool_first', kt_first, si_first, 5)):
        r = ratio(a, b)
        out[key] = ('%.1fx' % r if r else 'not measured', None if r is None else r >= want)
    s2 = results.get('s2', {})
    biggest = max(config['sizes'])
    f5 = median(s2.get('%d first' % biggest, {}).get('wall', []))
    r5 = median(s2.get('%d rerun' % biggest, {}).get('wall', []))
    if biggest >= 5000:
        out['s2_5000'] = ('%s s first, %s s rerun' % (fmt(f5), fmt(r5)), f5 is not None and f5 < 3 and r5 < 3)
    else:
        out['s2_5000'] = ('not measured (largest size %d)' % biggest, None)
    # Linear: no size pays more than 1.5x per certificate what another pays. Below about 1000
    # certificates the extra time over the 0-certificate run is within a process start's run-to-run
    # noise (100 certificates add a few ms), so such a size is checked from above only: it must not
    # cost more than 1.5x the largest size's rate.
    per = per_certificate(results, config, 'first')
    sized = sorted((n, v) for n, v in per.items() if n >= 100)
    if len(sized) >= 2 and sized[-1][1] > 0:
        top = sized[-1][1]
        resolved = [(n, v) for n, v in sized if v * n >= 0.02]  # 20 ms or more over the fixed cost
        spread = max(v for n, v in resolved) / min(v for n, v in resolved) if len(resolved) >= 2 else 1.0
        met = spread <= 1.5 and all(v <= 1.5 * top for n, v in sized)
        listed = ', '.join('%d: %.3f' % (n, v) for n, v in sized)
        out['s2_linear'] = ('%.2fx from %s to %d; every size <= 1.5x the %d rate (ms/cert %s)' % (
            spread, resolved[0][0] if resolved else sized[-1][0], sized[-1][0], sized[-1][0], listed), met)
    else:
        out['s2_linear'] = ('not measured', None)
    s4 = results.get('s4', {})
    if s4:
        ratios, firsts = [], []
        for hosts, e in sorted(s4.items(), key=lambda kv: int(kv[0])):
            ratios.append((hosts, ratio(median(e['rerun']), median(e['floor']))))
            rest_first = median(e['first']) - median(e['first_keygen']) - median(e['first_restart'])
            rest_rerun = median(e['rerun']) - median(e['rerun_keygen']) - median(e['rerun_restart'])
            firsts.append((hosts, ratio(rest_first, rest_rerun)))
        out['s4_rerun'] = (', '.join('%s hosts %.2fx' % (h, r) for h, r in ratios), all(r <= 1.5 for h, r in ratios))
        out['s4_first'] = (', '.join('%s hosts %.2fx' % (h, r) for h, r in firsts), all(r <= 1.5 for h, r in firsts))
    else:
        out['s4_rerun'] = out['s4_first'] = ('not measured', None)
    s5 = results.get('s5', {})
    r = ratio(median(s5.get('si_keystore', [])), median(s5.get('stat', [])))
    out['s5_ratio'] = ('%.2fx' % r if r else 'not measured', None if r is None else r <= 1.3)
    return out


def per_certificate(results, config, run):
    """{n: ms per certificate} = (time(n) - time(0)) / n, from median wall times."""
    s2 = results.get('s2', {})
    base = median(s2.get('0 %s' % run, {}).get('wall', []))
    out = {}
    for n in config['sizes']:
        t = median(s2.get('%d %s' % (n, run), {}).get('wall', []))
        if t is not None and base is not None:
            out[n] = (t - base) / n * 1000.0
    return out


def report(results, config, args, info, started, finished, loads):
    targets = evaluate(results, config)
    lines = []
    w = lines.append
    w('# Benchmarks')
    w('')
    w('Written by `%s` (bench/run.py) on %s; %d run%s, medians. Every comparison is within this one run on'
      % ('make bench-smoke' if args.smoke else 'make bench', started.strftime('%Y-%m-%d %H:%M UTC'), config['runs'],
         '' if config['runs'] == 1 else 's'))
    w('this machine; targets are ratios, never absolute times. Times are wall seconds of a task as')
    w('Ansible runs it (from the bench_timer callback; ansible-playbook start-up excluded), of the')
    w('module process run directly (scenario 2), or of the command (keytool).')
    w('')
    w('Machine: %s; %s; %s; Python %s; %s; %s%s. Load average %s at the start, %s at the end (other'
      % (info['cpu'], info['memory'], info['os'], info['python'], info['ansible-core'], info['java'],
         '; community.general %s (ansible 12.3.0)' % info['community.general'] if info.get('community.general') else '',
         loads[0], loads[1]))
    w('work on the machine slows every contender alike; ratios are what to read). Took %.0f s.'
      % (finished - started).total_seconds())
    w('')
    w('## Targets')
    w('')
    w('| target | measured | met |')
    w('|---|---|---|')
    for key, text in TARGETS_TEXT.items():
        measured, met = targets[key]
        if args.smoke:
            verdict = 'n/a (smoke sizes)'
        else:
            verdict = 'n/a' if met is None else ('yes' if met else '**no**')
        w('| %s | %s | %s |' % (text, measured, verdict))
    w('')
    s1 = results.get('s1', {})
    n1 = config['truststore']
    w('## 1. A truststore of %d CA certificates' % n1)
    w('')
    w('| contender | first run (s) | no-change rerun (s) | first run per certificate (ms) | vs si_truststore (first / rerun) |')
    w('|---|---|---|---|---|')
    si = (median(s1.get('si_truststore first', [])), median(s1.get('si_truststore rerun', [])))
    for name, label in (('si_truststore', 'wso2si.keystores.si_truststore, one task'),
                        ('java_cert', 'community.general.java_cert, loop of %d items' % n1),
                        ('keytool', 'keytool -importcert, %d calls (no Ansible)' % n1)):
        first, rerun = median(s1.get(name + ' first', [])), median(s1.get(name + ' rerun', []))
        if first is None:
            w('| %s | not run | | | |' % label)
            continue
        w('| %s | %s | %s | %s | %s |' % (label, fmt(first), fmt(rerun), fmt(first / n1 * 1000, 1),
                                          '1x' if name == 'si_truststore' else '%.1fx / %.1fx' % (
                                              ratio(first, si[0]) or 0, ratio(rerun, si[1]) or 0)))
    w('')
    w('The keytool rerun is the same %d calls, each refused because the alias exists (a loop that' % n1)
    w('skips existing aliases would need a `keytool -list` per certificate or a parse of one listing).')
    w('')
    s2 = results.get('s2', {})
    w('## 2. si_truststore at scale (the module process, run directly)')
    w('')
    w('| certificates | first run (s) | CPU (s) | peak RSS (MiB) | no-change rerun (s) | CPU (s) | peak RSS (MiB) | per certificate, first / rerun (ms) |')
    w('|---|---|---|---|---|---|---|---|')
    per_first, per_rerun = per_certificate(results, config, 'first'), per_certificate(results, config, 'rerun')
    for n in [0] + config['sizes']:
        f, r = s2.get('%d first' % n), s2.get('%d rerun' % n)
        if not f:
            continue
        w('| %s | %s | %s | %s | %s | %s | %s | %s |' % (
            n if n else '0 (fixed cost)', fmt(median(f['wall'])), fmt(median(f['cpu'])), fmt(max(f['rss_mb']), 0),
            fmt(median(r['wall'])), fmt(median(r['cpu'])), fmt(max(r['rss_mb']), 0),
            '%s / %s' % (fmt(per_first.get(n), 3), fmt(per_rerun.get(n), 3)) if n else ''))
    w('')
    w('Per certificate: (time(n) - time(0)) / n; below 1000 certificates the difference is within the')
    w('run-to-run noise of a process start (a few ms) and can come out negative.')
    w('Certificates are given as PEM `content`, as the role')
    w('passes them; the arguments then carry them through AnsibleModule\'s validation and no_log scan.')
    w('')
    s3 = results.get('s3', {})
    w('## 3. An identity keystore')
    w('')
    w('| contender | create (s) | no-change rerun (s) |')
    w('|---|---|---|')
    for name, label in (('si_keystore', 'wso2si.keystores.si_keystore, RSA 2048 generated on the host'),
                        ('si_keystore_pem', 'wso2si.keystores.si_keystore, from a PEM key and certificate'),
                        ('java_keystore', 'community.general.java_keystore, from a PEM key and certificate'),
                        ('keytool', 'keytool -genkeypair, RSA 2048 (no Ansible)')):
        first, rerun = median(s3.get(name + ' first', [])), median(s3.get(name + ' rerun', []))
        w('| %s | %s | %s |' % (label, fmt(first) if first is not None else 'not run', fmt(rerun) if rerun is not None else ''))
    w('')
    w('java_keystore cannot generate a key; it and si_keystore\'s PEM mode get the same cached key and')
    w('certificate (made outside the timing). The keytool rerun is refused: the alias exists.')
    w('')
    s4 = results.get('s4', {})
    w('## 4. The rollout role on a local fleet (forks 10, one batch)')
    w('')
    w('| hosts | first run (s) | of which key generation / restart + TLS proof (s) | no-change rerun (s) '
      '| stat floor (s) | rerun / floor | module runs (tasks) per host |')
    w('|---|---|---|---|---|---|---|')
    for hosts, e in sorted(s4.items(), key=lambda kv: int(kv[0])):
        w('| %s | %s | %s / %s | %s | %s | %.2fx | %d (%d) |' % (
            hosts, fmt(median(e['first'])), fmt(median(e['first_keygen'])), fmt(median(e['first_restart'])),
            fmt(median(e['rerun'])), fmt(median(e['floor'])), ratio(median(e['rerun']), median(e['floor'])) or 0,
            int(median(e['tasks'])), int(median(e['all_tasks']))))
    w('')
    w('Play times (all tasks, start-up excluded); ansible-playbook wall times: ' + '; '.join(
        '%s hosts %s / %s / %s s' % (h, fmt(median(e['first_wall'])), fmt(median(e['rerun_wall'])), fmt(median(e['floor_wall'])))
        for h, e in sorted(s4.items(), key=lambda kv: int(kv[0]))) + ' (first / rerun / floor).')
    w('The stat floor is a play on the same hosts, in one batch with forks 10, with gather_facts and as many')
    w('`ansible.builtin.stat` tasks as the rerun ran modules on each host (module runs: each non-skipped task')
    w('or loop item that runs a module, gather_facts included). The rerun\'s controller-only tasks (set_fact,')
    w('assert, include_tasks, ...; the number in brackets counts them too) are not in the floor, so they')
    w('count against the rollout.')
    builds = [(h, e) for h, e in sorted(s4.items(), key=lambda kv: int(kv[0])) if e.get('modules')]
    if builds:
        h, e = builds[0]
        first_use = [x for x in e.get('first_use', []) if x is not None]
        floor_first_use = [x for x in e.get('floor_first_use', []) if x is not None]
        w('Each run builds a module\'s payload once, on its first task: at %s host%s, the rerun runs %d distinct modules'
          % (h, '' if h == '1' else 's', int(median(e['modules']))) + ' (the floor %d: gather_facts and stat), and a module\'s'
          % int(median(e['floor_modules'])) + ' first task took %s s more than its later ones (the floor\'s first stat %s s'
          % (fmt(median(first_use)) if first_use else '?', fmt(median(floor_first_use)) if floor_first_use else '?')
          + ' more). With more hosts in the batch that cost is shared.')
    w('demo/fleet.py lays out the SI homes with Java TLS listeners standing in for SI; "restart" is')
    w('the handler that restarts them and the TLS proof that waits for them (`%s`).' % '`, `'.join(RESTART_TASKS[:1] + RESTART_TASKS[2:]))
    w('')
    s5 = results.get('s5', {})
    w('## 5. One no-change task')
    w('')
    w('| task | seconds (median of %d alternating tasks, median over runs) |' % config['repeat'])
    w('|---|---|')
    w('| wso2si.keystores.si_keystore, nothing to change | %s |' % fmt(median(s5.get('si_keystore', [])), 3))
    w('| ansible.builtin.stat | %s |' % fmt(median(s5.get('stat', [])), 3))
    w('')
    checks = results.get('checks', [])
    w('## Checks')
    w('')
    if checks:
        for c in checks:
            w('- %s' % c)
    else:
        w('Every first run changed and every rerun changed nothing, for every contender.')
    w('')
    return '\n'.join(lines), targets


# ---------------------------------------------------------------- main

def report_again(args):
    with open(args.report_from) as f:
        saved = json.load(f)
    args.smoke = saved.get('smoke', False)
    output = args.output or (os.path.join(HERE, 'output', 'BENCHMARKS-smoke.md') if args.smoke
                             else os.path.join(REPO, 'BENCHMARKS.md'))
    started = datetime.datetime.fromisoformat(saved['started'])
    finished = datetime.datetime.fromisoformat(saved['finished'])
    text, dummy = report(saved['results'], saved['config'], args, saved['machine'], started, finished, saved['loads'])
    with open(output, 'w') as f:
        f.write(text)
    print(text)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--smoke', action='store_true', help='tiny sizes, 1 run, no community.general (CI)')
    parser.add_argument('--runs', type=int)
    parser.add_argument('--output', help='the Markdown report (default BENCHMARKS.md; bench/output/ for --smoke)')
    parser.add_argument('--no-peers', action='store_true', help='skip community.general (no install)')
    parser.add_argument('--scenarios', default='1,2,3,4,5')
    parser.add_argument('--strict', action='store_true', help='exit 1 when a target is missed')
    parser.add_argument('--report-from', metavar='RESULTS_JSON',
                        help='write the report again from a finished run\'s bench/output/results.json')
    args = parser.parse_args()
    if args.report_from:
        return report_again(args)
    config = dict(SMOKE if args.smoke else FULL)
    if args.runs:
        config['runs'] = args.runs
    if args.smoke:
        args.no_peers = True
    output = args.output or (os.path.join(HERE, 'output', 'BENCHMARKS-smoke.md') if args.smoke
                             else os.path.join(REPO, 'BENCHMARKS.md'))
    scenarios = set(int(s) for s in args.scenarios.split(',') if s.strip())
    if not os.path.isdir(os.path.join(BUILD, 'ansible_collections', 'wso2si', 'keystores', 'plugins')):
        raise SystemExit('bench: build the collection first (make collection), or run make bench')
    if not shutil.which('keytool'):
        raise SystemExit('bench: keytool (a JDK) is needed')

    global WORK
    WORK = os.path.join(BUILD, 'bench-work', 'smoke' if args.smoke else 'full')
    os.makedirs(os.path.dirname(WORK), exist_ok=True)
    lock = open(WORK + '.lock', 'w')
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise SystemExit('bench: another %s run is using %s' % ('smoke' if args.smoke else 'full', WORK))
    started = datetime.datetime.now(datetime.timezone.utc)
    loads = ['%.2f' % os.getloadavg()[0]]
    if not args.no_peers:
        ensure_peers()
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(os.path.join(WORK, 'logs'))
    raw = os.path.join(HERE, 'output', 'results-smoke.json' if args.smoke else 'results.json')
    os.makedirs(os.path.dirname(raw), exist_ok=True)
    env = Env(args)
    log('test certificates (cached in %s)' % CACHE)
    cert_paths = material.certificates(CACHE, max(config['sizes'] + [config['truststore']]))
    identity = material.identity(CACHE)
    results = {}

    def interrupted(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, interrupted)
    try:
        for run in range(1, config['runs'] + 1):
            if scenarios & {1, 3, 5}:
                log('run %d/%d: scenarios 1, 3, 5 (modules playbook, keytool)' % (run, config['runs']))
                run_modules(env, results, cert_paths[:config['truststore']], identity, config['repeat'])
            if 2 in scenarios:
                log('run %d/%d: scenario 2 (si_truststore, %s certificates)'
                    % (run, config['runs'], ', '.join(str(n) for n in config['sizes'])))
                run_scale(env, results, cert_paths, config['sizes'])
            if 4 in scenarios:
                for hosts in config['hosts']:
                    log('run %d/%d: scenario 4 (rollout on %d hosts)' % (run, config['runs'], hosts))
                    run_rollout(env, results, hosts)
            with open(raw, 'w') as f:  # what is measured so far survives a later failure
                json.dump({'config': config, 'runs_done': run, 'results': results}, f, indent=1)
    finally:
        for hosts in config['hosts']:
            stop_fleet(os.path.join(WORK, 'fleet-%d' % hosts))
    finished = datetime.datetime.now(datetime.timezone.utc)
    loads.append('%.2f' % os.getloadavg()[0])
    info = machine()
    if not args.no_peers:
        info['community.general'] = peer_version()
    text, targets = report(results, config, args, info, started, finished, loads)
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, 'w') as f:
        f.write(text)
    with open(raw, 'w') as f:
        json.dump({'config': config, 'machine': info, 'results': results, 'smoke': args.smoke,
                   'started': started.isoformat(), 'finished': finished.isoformat(), 'loads': loads}, f, indent=1)
    print(text)
    log('wrote %s (raw numbers in %s)' % (os.path.relpath(output, REPO), os.path.relpath(raw, REPO)))
    if results.get('checks'):
        log('checks failed: %s' % '; '.join(results['checks']))
        return 2
    if args.strict and not args.smoke and any(met is False for dummy, met in targets.values()):
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
