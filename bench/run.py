# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Benchmarks: the collection beside community.general and keytool, in one run.

    make bench          # full run: 3 runs of every scenario (1 at 100 hosts), writes BENCHMARKS.md
    make bench-smoke    # tiny sizes, 1 run, peer role syntax-checked: about a minute, for CI

    python bench/run.py [--smoke] [--runs N] [--output FILE] [--no-peers] [--strict]
                        [--scenarios 1,2,3,4,5] [--hosts 1,5,20,100] [--forks N]

Run from the repository root after `make collection` (the Makefile targets do
both). The peers (community.general's java_cert and java_keystore,
community.crypto, and the peer role bench/peer/) need community.general and
community.crypto: bench/peer_collections.py downloads the pinned `ansible`
wheel with pip (--no-deps, nothing installed) into .build/bench-cache/pip and
extracts the two collections into .build/bench-collections, leaving the
project's ansible-core in .venv as it is: every playbook runs with .venv's
ansible-playbook, which finds them through ANSIBLE_COLLECTIONS_PATH. Test
certificates are made once and cached in .build/bench-cache; scratch files go
to .build/bench-work/full (or smoke).

Scenarios (every contender measured in every run, medians over the runs):

1. a truststore of 150 CA certificates: si_truststore in one task,
   community.general.java_cert in a loop, keytool in a loop (one call per
   certificate); first run and no-change rerun;
2. si_truststore with 10, 100, 1000 and 5000 certificates, the module process
   run directly (python -m ... ARGS.json): wall time, CPU time, peak RSS;
3. an identity keystore: si_keystore (generated key; and from PEM),
   community.general.java_keystore (from PEM), keytool -genkeypair;
4. the rollout role beside its peer (bench/peer/rollout.yml: the same job
   written with community.general and community.crypto) on 1, 5, 20 and 100
   local SI homes (demo/fleet.py), one batch, forks 25, first run and
   no-change rerun of each, which goes first alternating between runs;
   the controller's CPU and peak memory, and the time per task name; at 1 host
   also a playbook of as many ansible.builtin.stat tasks (Ansible's own floor);
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
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import certs as material  # noqa: E402  (bench/certs.py)
import peer_collections  # noqa: E402  (bench/peer_collections.py)

BUILD = os.path.join(REPO, '.build')
VENV_BIN = os.path.join(REPO, '.venv', 'bin')
PYTHON = os.path.join(VENV_BIN, 'python')
CACHE = os.path.join(BUILD, 'bench-cache')
WORK = os.path.join(BUILD, 'bench-work', 'full')  # bench-work/smoke for --smoke: the two may run at once
PASSWORD = 'bench-Passw0rd'
PORT_BASE = 40000  # host i (1 to 100) listens on 47443 + 10 i and 49443 + 10 i: 47453-48443, 49453-50443
PORT_BASE_SMOKE = 44000  # 51453 and 53453 for --smoke's one host, apart from a full run's (they may run at once)

# big_hosts and more are measured in the first run only (a 100-host first run and rerun of both
# contenders takes some 20 minutes on 2 cores); the stat floor runs at floor_hosts only
FULL = dict(runs=3, truststore=150, sizes=[10, 100, 1000, 5000], hosts=[1, 5, 20, 100], repeat=9, forks=25,
            big_hosts=100, floor_hosts=[1])
SMOKE = dict(runs=1, truststore=3, sizes=[10, 50], hosts=[1], repeat=2, forks=25, big_hosts=100, floor_hosts=[])

TARGETS_TEXT = {
    's1_javacert_first': 'S1 si_truststore vs java_cert loop, first run: >= 30x faster',
    's1_javacert_rerun': 'S1 si_truststore vs java_cert loop, no-change rerun: >= 30x faster',
    's1_keytool_first': 'S1 si_truststore vs keytool loop, first run: >= 5x faster',
    's2_5000': 'S2 5000 certificates: < 3 s module time (first run and rerun)',
    's2_linear': 'S2 cost per certificate within 1.5x from 100 to 5000 (first run)',
    's4_peer_first': 'S4 rollout vs its peer (community.general/crypto), first run: >= 3x faster (each fleet size)',
    's4_peer_rerun': 'S4 rollout vs its peer, no-change rerun: >= 5x faster (each fleet size)',
    's4_linear': 'S4 rollout no-change rerun, cost per host at 100 hosts within 1.15x of 20 hosts',
    's4_first': 'S4 first run: apart from key generation and SI restarts, within 1.5x of the rerun with every step',
    's5_ratio': 'S5 one no-change si_keystore task within 1.3x of one stat task',
}


# ---------------------------------------------------------------- helpers

def log(msg):
    sys.stderr.write('[bench %s] %s\n' % (time.strftime('%H:%M:%S'), msg))
    sys.stderr.flush()


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def run_cmd(cmd, env=None, cwd=None, check=True, log_to=None, sampler=None):
    """Run a command; returns (wall seconds, returncode, rusage of the child)."""
    out = open(log_to, 'ab') if log_to else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT if log_to else subprocess.DEVNULL)
        if sampler:
            sampler.pid = proc.pid
            sampler.start()
        try:
            dummy, status, usage = os.wait4(proc.pid, 0)
        finally:
            if sampler:
                sampler.done.set()
                sampler.join()
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
        # --smoke: the peers are checked (syntax-check of the peer playbook), not run: a run at 1 host
        # (about 30 s on 2 idle cores) would take bench-smoke well over its minute
        self.run_peers = self.peers and not args.smoke
        self.logs = os.path.join(WORK, 'logs')
        paths = [BUILD]
        if self.peers:
            paths.append(peer_collections.COLLECTIONS)
        self.env = dict(os.environ)
        self.env.update({
            'PATH': VENV_BIN + os.pathsep + os.environ.get('PATH', ''),
            'ANSIBLE_COLLECTIONS_PATH': os.pathsep.join(paths),
            'ANSIBLE_CALLBACK_PLUGINS': os.path.join(HERE, 'callback_plugins'),
            'ANSIBLE_CALLBACKS_ENABLED': 'bench_timer',
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_FORKS': str(args.forks),
            'ANSIBLE_ROLES_PATH': os.path.join(HERE, 'peer', 'roles'),
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

    def playbook(self, playbook, inventory=None, extra=(), label='playbook', usage=None):
        """Run ansible-playbook; returns (wall seconds, timer data). With a dict as ``usage``, fills in
        the CPU seconds of the run (every process, the local hosts' modules included), the controller
        process's own CPU seconds and the controller's peak memory (see ControllerSampler)."""
        self.counter += 1
        timer = os.path.join(self.logs, '%03d-%s.json' % (self.counter, label))
        logfile = os.path.join(self.logs, '%03d-%s.log' % (self.counter, label))
        env = dict(self.env, BENCH_TIMER_OUT=timer)
        cmd = [os.path.join(VENV_BIN, 'ansible-playbook'), '-f', str(self.args.forks)]
        inventories = inventory if isinstance(inventory, (list, tuple)) else [inventory] if inventory else []
        for i in inventories:
            cmd += ['-i', i]
        if not inventories:
            cmd += ['-i', 'localhost,', '-c', 'local']
        for e in extra:
            cmd += ['-e', e]
        cmd.append(playbook)
        sampler = ControllerSampler() if usage is not None else None
        wall, dummy, rusage = run_cmd(cmd, env=env, cwd=REPO, log_to=logfile, sampler=sampler)
        if usage is not None:
            usage.update(cpu=rusage.ru_utime + rusage.ru_stime, main_cpu=sampler.main_cpu,
                         peak_mib=sampler.peak_kib / 1024.0, main_rss_mib=sampler.main_rss_kib / 1024.0)
        with open(timer) as f:
            return wall, json.load(f)


class ControllerSampler(threading.Thread):
    """Samples the controller while ansible-playbook runs (every 0.2 s): the proportional set size
    (PSS, shared pages counted once) summed over ansible-playbook and its worker forks (the processes
    whose command line is ansible-playbook's; the modules the local hosts run are not counted), its
    peak, and the main process's own CPU seconds (the strategy loop, which no fork count spreads)."""

    def __init__(self):
        super(ControllerSampler, self).__init__(daemon=True)
        self.pid = None
        self.done = threading.Event()
        self.peak_kib = 0
        self.main_rss_kib = 0
        self.main_cpu = 0.0
        self.tick = os.sysconf('SC_CLK_TCK')

    def _children(self):
        parents = {}
        for entry in os.listdir('/proc'):
            if not entry.isdigit():
                continue
            try:
                with open('/proc/%s/stat' % entry) as f:
                    fields = f.read().rsplit(')', 1)[1].split()
                parents.setdefault(int(fields[1]), []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
        tree, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(parents.get(pid, []))
        return tree

    def _sample(self):
        total = 0
        for pid in self._children():
            try:
                with open('/proc/%d/cmdline' % pid, 'rb') as f:
                    if b'ansible-playbook' not in f.read():
                        continue
                with open('/proc/%d/smaps_rollup' % pid) as f:
                    for line in f:
                        if line.startswith('Pss:'):
                            total += int(line.split()[1])
                        elif line.startswith('Rss:') and pid == self.pid:
                            self.main_rss_kib = max(self.main_rss_kib, int(line.split()[1]))
                if pid == self.pid:
                    with open('/proc/%d/stat' % pid) as f:
                        fields = f.read().rsplit(')', 1)[1].split()
                    self.main_cpu = (int(fields[11]) + int(fields[12])) / float(self.tick)
            except (OSError, ValueError, IndexError):
                continue
        self.peak_kib = max(self.peak_kib, total)

    def run(self):
        while not self.done.wait(0.2):
            if self.pid:
                self._sample()


def peer_version():
    """'community.general 11.4.2, community.crypto 3.0.5 (from ansible 12.3.0)', or None."""
    found = peer_collections.versions()
    if not found:
        return None
    names = ', '.join('%s %s' % kv for kv in sorted(found.items(), reverse=True))
    return '%s (from the ansible %s wheel)' % (names, peer_collections.ANSIBLE_VERSION)


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
    if env.run_peers:
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
    if env.run_peers:
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


def peer_inventory(directory):
    """The peer's extra inventory: each host's HTTPS ports (the rollout reads them from deployment.yaml
    with si_config; an operator writing the peer would know them)."""
    import yaml
    lines = ['---', 'wso2si:', '  hosts:']
    for home in fleet_homes(directory):
        with open(os.path.join(home, 'conf', 'server', 'deployment.yaml')) as f:
            doc = yaml.safe_load(f)
        offset = int(doc['wso2.carbon']['ports']['offset'])
        ports = [int(item['port']) + offset for section in ('wso2.transport.http', 'siddhi.stores.query.api')
                 for item in (doc.get(section) or {}).get('listenerConfigurations') or [] if item.get('scheme') == 'https']
        lines += ['    %s:' % os.path.basename(home), '      peer_https_ports: %s' % json.dumps(ports)]
    path = os.path.join(directory, 'peer-ports.yml')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def task_profile(timer):
    """{short task name: seconds}, summed over the tasks (and handlers) of that name."""
    out = {}
    for t in timer['tasks']:
        name = short_name(t)
        out[name] = out.get(name, 0.0) + (t['seconds'] or 0)
    return out


def make_fleet(env, directory, hosts):
    stop_fleet(directory)
    shutil.rmtree(directory, ignore_errors=True)
    run_cmd([PYTHON, os.path.join(REPO, 'demo', 'fleet.py'), 'setup', directory, '--hosts', str(hosts),
             '--python', PYTHON, '--port-base', str(PORT_BASE_SMOKE if env.args.smoke else PORT_BASE)],
            env=env.env, cwd=REPO, log_to=os.path.join(env.logs, '%s.log' % os.path.basename(directory)))


def run_contender(env, results, hosts, contender, floor):
    """First run and no-change rerun of the rollout (or its peer) on a fresh fleet of ``hosts``."""
    directory = os.path.join(WORK, '%s-%d' % ('fleet' if contender == 'rollout' else 'peer', hosts))
    make_fleet(env, directory, hosts)
    check = results.setdefault('checks', [])
    usage_first, usage_rerun = {}, {}
    try:
        inventory = [os.path.join(directory, 'inventory.yml')]
        extra = ['@' + os.path.join(directory, 'vars.yml'), 'rollout_serial=100%']
        if contender == 'rollout':
            playbook, first_extra = os.path.join(REPO, 'playbooks', 'rollout.yml'), ['rollout_ca_create=true']
        else:
            playbook, first_extra = os.path.join(HERE, 'peer', 'rollout.yml'), []
            inventory.append(peer_inventory(directory))
        wall_first, first = env.playbook(playbook, inventory, extra + first_extra,
                                         label='%s-%d-first' % (contender, hosts), usage=usage_first)
        wall_rerun, rerun = env.playbook(playbook, inventory, extra, label='%s-%d-rerun' % (contender, hosts),
                                         usage=usage_rerun)
        full = None
        if contender == 'rollout':
            # the same rerun with every step taken (no fast path, docs/reruns.md)
            dummy, full = env.playbook(playbook, inventory, extra + ['rollout_fast_rerun=false'],
                                       label='%s-%d-rerun-full' % (contender, hosts))
            if any('changed' in t['hosts'].values() for t in full['tasks']):
                check.append('s4 rollout, %d hosts: the rerun without the fast path changed something' % hosts)
        changed = [t['name'] for t in rerun['tasks'] if 'changed' in t['hosts'].values()]
        if changed:
            check.append('s4 %s, %d hosts: the rerun changed %s' % (contender, hosts, ', '.join(changed)))
        if not any('changed' in t['hosts'].values() for t in first['tasks']):
            check.append('s4 %s, %d hosts: the first run changed nothing' % (contender, hosts))
        count = module_runs(rerun, 'si1')
        if floor:
            wall_floor, floor_timer = env.playbook(stat_floor_playbook(count), inventory[0], label='floor-%d' % hosts)
    finally:
        stop_fleet(directory)
    entry = results.setdefault('s4', {}).setdefault(str(hosts), {}).setdefault(contender, {})
    values = [('first', play_seconds(first)), ('rerun', play_seconds(rerun)),
              ('first_wall', wall_first), ('rerun_wall', wall_rerun),
              ('tasks', count), ('all_tasks', all_tasks(rerun, 'si1'))]
    for run, usage in (('first', usage_first), ('rerun', usage_rerun)):
        values += [(run + '_' + k, v) for k, v in usage.items()]
    if contender == 'rollout':
        def split(timer):
            keygen = sum(t['seconds'] or 0 for t in timer['tasks'] if short_name(t) in KEYGEN_TASKS)
            restart = sum(t['seconds'] or 0 for t in timer['tasks'] if short_name(t) in RESTART_TASKS)
            return keygen, restart
        k1, r1 = split(first)
        k2, r2 = split(full)
        values += [('first_keygen', k1), ('first_restart', r1), ('rerun_full', play_seconds(full)),
                   ('rerun_full_keygen', k2), ('rerun_full_restart', r2), ('full_tasks', module_runs(full, 'si1'))]
    if floor:
        modules, first_use = payload_builds(rerun, 'si1')
        floor_modules, floor_first_use = payload_builds(floor_timer, 'si1')
        values += [('floor', play_seconds(floor_timer)), ('floor_wall', wall_floor), ('modules', modules),
                   ('first_use', first_use), ('floor_modules', floor_modules), ('floor_first_use', floor_first_use)]
    for key, value in values:
        entry.setdefault(key, []).append(value)
    # where the time goes: per task name, kept from every run (the report takes medians)
    for run, timer in (('first', first), ('rerun', rerun)):
        profile = entry.setdefault('profile_' + run, {})
        for name, seconds in task_profile(timer).items():
            profile.setdefault(name, []).append(seconds)


def check_peer(env, results):
    """--smoke: the peer playbook resolves every module and role it names (ansible-playbook --syntax-check)."""
    logfile = os.path.join(env.logs, 'peer-syntax-check.log')
    dummy, code, dummy = run_cmd([os.path.join(VENV_BIN, 'ansible-playbook'), '--syntax-check', '-i', 'localhost,',
                                  os.path.join(HERE, 'peer', 'rollout.yml')], env=env.env, cwd=REPO, check=False,
                                 log_to=logfile)
    if code:
        results.setdefault('checks', []).append('s4 peer: ansible-playbook --syntax-check failed, see %s' % logfile)


def run_rollout(env, results, hosts, run, config):
    """The rollout and its peer on ``hosts`` hosts; which goes first alternates between runs."""
    contenders = ['rollout', 'peer'] if env.run_peers else ['rollout']
    if run % 2 == 0:
        contenders.reverse()
    for contender in contenders:
        log('  %s on %d hosts' % (contender, hosts))
        run_contender(env, results, hosts, contender,
                      floor=contender == 'rollout' and hosts in config['floor_hosts'])


# ---------------------------------------------------------------- report

def fmt(value, digits=2, unit=''):
    if value is None:
        return 'n/a'
    return ('%.' + str(digits) + 'f%s') % (value, unit)


def ratio(a, b):
    return a / b if a is not None and b else None


def m(size_entry, contender, key):
    """The median of one scenario-4 measurement, or None."""
    return median((size_entry.get(contender) or {}).get(key, []))


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
    sizes = sorted(s4, key=int)
    first_ratios = [(h, ratio(m(s4[h], 'peer', 'first'), m(s4[h], 'rollout', 'first'))) for h in sizes]
    rerun_ratios = [(h, ratio(m(s4[h], 'peer', 'rerun'), m(s4[h], 'rollout', 'rerun'))) for h in sizes]
    for key, ratios, want in (('s4_peer_first', first_ratios, 3), ('s4_peer_rerun', rerun_ratios, 5)):
        got = [(h, r) for h, r in ratios if r is not None]
        out[key] = (', '.join('%s hosts %.2fx' % (h, r) for h, r in got) or 'not measured',
                    all(r >= want for h, r in got) if got else None)
    per = dict((h, ratio(m(s4[h], 'rollout', 'rerun'), int(h))) for h in sizes)
    if per.get('20') and per.get('100'):
        r = per['100'] / per['20']
        out['s4_linear'] = ('%.2fx (%.3f s per host at 20 hosts, %.3f s at 100)' % (r, per['20'], per['100']), r <= 1.15)
    else:
        out['s4_linear'] = ('not measured (needs 20 and 100 hosts)', None)
    firsts = []
    for h in sizes:
        e = s4[h].get('rollout')
        if e and e.get('first_keygen'):
            rest_first = median(e['first']) - median(e['first_keygen']) - median(e['first_restart'])
            rest_rerun = median(e['rerun_full']) - median(e['rerun_full_keygen']) - median(e['rerun_full_restart'])
            firsts.append((h, ratio(rest_first, rest_rerun)))
    out['s4_first'] = (', '.join('%s hosts %.2fx' % (h, r) for h, r in firsts) or 'not measured',
                       all(r <= 1.5 for h, r in firsts) if firsts else None)
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


def top_tasks(profile, count):
    """[(name, median seconds)] of the ``count`` costliest task names of a profile."""
    rows = [(name, median(values)) for name, values in profile.items()]
    return sorted(rows, key=lambda r: -(r[1] or 0))[:count]


def report_fleet(w, s4, config):
    """Scenario 4: the rollout beside its peer, how its cost grows, and the projection."""
    sizes = sorted(s4, key=int)
    w('## 4. The rollout role beside its peer on a local fleet (one batch, forks %d)' % config.get('forks', 10))
    w('')
    w('| hosts | rollout first run (s) | peer first run (s) | peer / rollout | rollout rerun (s) | peer rerun (s) '
      '| peer / rollout | runs |')
    w('|---|---|---|---|---|---|---|---|')
    for h in sizes:
        e = s4[h]
        w('| %s | %s | %s | %s | %s | %s | %s | %d |' % (
            h, fmt(m(e, 'rollout', 'first')), fmt(m(e, 'peer', 'first')),
            fmt(ratio(m(e, 'peer', 'first'), m(e, 'rollout', 'first')), 2, 'x'),
            fmt(m(e, 'rollout', 'rerun')), fmt(m(e, 'peer', 'rerun')),
            fmt(ratio(m(e, 'peer', 'rerun'), m(e, 'rollout', 'rerun')), 2, 'x'),
            len((e.get('rollout') or {}).get('rerun', []))))
    w('')
    w('Play times (all tasks and handlers, ansible-playbook start-up excluded). ansible-playbook wall times, '
      'first / rerun: ' + '; '.join('%s hosts rollout %s / %s s, peer %s / %s s' % (
          h, fmt(m(s4[h], 'rollout', 'first_wall')), fmt(m(s4[h], 'rollout', 'rerun_wall')),
          fmt(m(s4[h], 'peer', 'first_wall')), fmt(m(s4[h], 'peer', 'rerun_wall'))) for h in sizes) + '.')
    e1 = s4[sizes[0]] if sizes else {}
    if e1.get('rollout') and e1.get('peer'):
        w('Per host, the rerun runs %d modules (%d tasks) for the rollout and %d modules (%d tasks) for the peer.' % (
            m(e1, 'rollout', 'tasks'), m(e1, 'rollout', 'all_tasks'), m(e1, 'peer', 'tasks'), m(e1, 'peer', 'all_tasks')))
    w('')
    w('The peer (bench/peer/rollout.yml, role bench/peer/roles/peer_rollout) does the rollout\'s job in own-CA')
    w('mode with the tools an operator has without this collection: a CA on the controller')
    w('(community.crypto `openssl_privatekey`, `openssl_csr_pipe`, `x509_certificate`), on each host a key')
    w('(`openssl_privatekey`), a CSR (`openssl_csr`) fetched to the controller and signed there (`x509_certificate`,')
    w('`ownca` provider), the chain and the CA copied back, a JKS keystore with the key and chain')
    w('(community.general `java_keystore`), a JKS truststore with the CA (`java_cert`), a vault keystore of')
    w('its own (keytool, `creates:`), master-keys.yaml (`template`), the http extensions (`blockinfile`),')
    w('deployment.yaml and carbon.sh rewired (`replace`, one loop of 10 edits), a restart handler and a TLS')
    w('check of every listener (`get_certificate` against the CA). It is idempotent (the checks below) and')
    w('skips what the rollout adds beyond that: backups and the rollback record, the password and')
    w('shipped-default checks, the audit, the served-certificate check against other CAs; it leaves the')
    w('private key as a PEM file beside the keystore, and it does not gather facts. Both run in one batch')
    w('(`rollout_serial=100%`) on fresh fleets made by demo/fleet.py; which goes first alternates between runs.')
    w('')
    rows = [(h, s4[h]['rollout']) for h in sizes if (s4[h].get('rollout') or {}).get('first_keygen')]
    if rows:
        w('The rollout\'s first run, apart from key generation and SI restarts:')
        w('')
        w('| hosts | first run (s) | of which key generation / restart + TLS proof (s) | rerun, every step (s) '
          '| rerun, fast path (s) |')
        w('|---|---|---|---|---|')
        for h, e in rows:
            w('| %s | %s | %s / %s | %s | %s |' % (h, fmt(median(e['first'])), fmt(median(e['first_keygen'])),
                                                   fmt(median(e['first_restart'])), fmt(median(e['rerun_full'])),
                                                   fmt(median(e['rerun']))))
        w('')
        w('"Every step" is the rerun with `rollout_fast_rerun=false` (%d module runs per host); the fast path'
          % int(median(rows[0][1]['full_tasks'])))
        w('(docs/reruns.md) reads each host\'s record and goes straight to the TLS check.')
        w('')
        w('"Restart" is the handler that restarts the stand-in listeners and the TLS proof that waits for')
        w('them (`%s`).' % '`, `'.join(RESTART_TASKS[:1] + RESTART_TASKS[2:]))
        w('')
    floors = [(h, s4[h]['rollout']) for h in sizes if (s4[h].get('rollout') or {}).get('floor')]
    for h, e in floors[:1]:
        first_use = [x for x in e.get('first_use', []) if x is not None]
        floor_first_use = [x for x in e.get('floor_first_use', []) if x is not None]
        w('### One host against the stat floor')
        w('')
        w('At %s host%s the rollout\'s no-change rerun took %s s, a play of as many `ansible.builtin.stat` tasks'
          % (h, '' if h == '1' else 's', fmt(median(e['rerun']))) + ' (%d: a stat per module run) %s s: %s.'
          % (int(median(e['tasks'])), fmt(median(e['floor'])), fmt(ratio(median(e['rerun']), median(e['floor'])), 2, 'x')))
        w('This is bounded by ansible-core building each distinct module\'s payload once per run, on its first task:')
        w('the rerun runs %d distinct modules (the floor %d), and a module\'s first task took %s s more than its later'
          % (int(median(e['modules'])), int(median(e['floor_modules'])), fmt(median(first_use)) if first_use else 'n/a (each ran once)')
          + ' ones (the floor\'s first stat %s s more). With more hosts in the batch that cost is shared; the'
          % (fmt(median(floor_first_use)) if floor_first_use else 'n/a'))
        w('comparison with the peer above is the one to read. The rerun\'s controller-only tasks (set_fact, assert,')
        w('include_tasks, ...) are not in the floor, so they count against the rollout.')
        w('')
    # how the cost grows
    grown = [(h, s4[h]['rollout']) for h in sizes if (s4[h].get('rollout') or {}).get('rerun_cpu')]
    if not grown:
        return
    w('### How the rollout\'s cost grows')
    w('')
    w('| hosts | rerun (s) | per host (s) | first run per host (s) | CPU, every process, rerun (s) | per host (s) '
      '| controller main process CPU, rerun (s) | per host (s) | controller peak memory, PSS (MiB) | main process peak RSS (MiB) |')
    w('|---|---|---|---|---|---|---|---|---|---|')
    for h, e in grown:
        n = int(h)
        w('| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |' % (
            h, fmt(median(e['rerun'])), fmt(median(e['rerun']) / n, 3), fmt(median(e['first']) / n, 3),
            fmt(median(e['rerun_cpu'])), fmt(median(e['rerun_cpu']) / n, 3),
            fmt(median(e['rerun_main_cpu'])), fmt(median(e['rerun_main_cpu']) / n, 3),
            fmt(max(e['rerun_peak_mib'] + e['first_peak_mib']), 0),
            fmt(max(e['rerun_main_rss_mib'] + e['first_main_rss_mib']), 0)))
    w('')
    w('CPU, every process: ansible-playbook and everything it started (the rusage of its process tree), so on this')
    w('local fleet it includes the modules the hosts run; on a real fleet those run on the hosts, and this column')
    w('is an upper bound for the controller. The main process\'s own CPU (the strategy loop: templating,')
    w('queueing, results, callbacks) is the part no fork count spreads over cores. Controller memory: the')
    w('proportional set size summed over ansible-playbook and its worker forks, sampled every 0.2 s, the peak')
    w('of the first run and the rerun; local modules are not counted.')
    w('')
    h, e = grown[-1]
    w('Where the time goes at %s hosts (bench_timer: wall seconds per task name, summed over tasks of that name):' % h)
    w('')
    w('| rollout rerun: task | s | share | ms per host | rollout first run: task | s | share |')
    w('|---|---|---|---|---|---|---|')
    rerun_top = top_tasks(e.get('profile_rerun', {}), 12)
    first_top = top_tasks(e.get('profile_first', {}), 12)
    rtotal, ftotal = median(e['rerun']), median(e['first'])
    for i in range(max(len(rerun_top), len(first_top))):
        r = rerun_top[i] if i < len(rerun_top) else ('', None)
        f = first_top[i] if i < len(first_top) else ('', None)
        w('| %s | %s | %s | %s | %s | %s | %s |' % (
            r[0], fmt(r[1]), fmt(100.0 * r[1] / rtotal, 0, '%') if r[1] else '', fmt(1000.0 * r[1] / int(h), 0) if r[1] else '',
            f[0], fmt(f[1]), fmt(100.0 * f[1] / ftotal, 0, '%') if f[1] else ''))
    w('')
    pe = s4[h].get('peer')
    if pe and pe.get('profile_rerun'):
        w('The peer\'s rerun at %s hosts, for comparison: %s.' % (h, '; '.join(
            '%s %s s' % (name, fmt(sec)) for name, sec in top_tasks(pe['profile_rerun'], 8))))
        w('')
    # projection
    n = int(h)
    total_ph = median(e['rerun_cpu']) / n
    main_ph = median(e['rerun_main_cpu']) / n
    wall_ph = median(e['rerun']) / n
    # memory: a base, a worker fork per host running at once (up to forks), and inventory state per host
    forks = config.get('forks', 10)
    peaks = dict((int(hh), max(ee['rerun_peak_mib'] + ee['first_peak_mib'])) for hh, ee in grown)
    ordered = sorted(peaks)
    small, big = ordered[0], ordered[-1]
    per_worker = per_host = None
    if len(ordered) >= 2 and min(ordered[1], forks) > min(small, forks):  # the two smallest sizes
        per_worker = max(0.0, (peaks[ordered[1]] - peaks[small]) / (min(ordered[1], forks) - min(small, forks)))
    if len(ordered) >= 3 and per_worker is not None:  # the two largest, less the difference in workers
        mid = ordered[-2]
        per_host = max(0.0, (peaks[big] - peaks[mid] - per_worker * (min(big, forks) - min(mid, forks))) / (big - mid))
    w('### Projection to 1,000 and 10,000 hosts (rerun, from the largest size measured)')
    w('')
    w('From the %s-host rerun: %s s of CPU per host for every process (upper bound for the controller), %s s per'
      % (h, fmt(total_ph, 3), fmt(main_ph, 3)) + ' host in the main process (serial; it includes the loop\'s polling'
      + ' while it waits, so it too is an upper bound), %s s of wall time per host on these 2 cores.' % fmt(wall_ph, 3))
    w('Controller memory: %s MiB per worker fork running at once (from the two smallest sizes, forks %d), %s MiB'
      % (fmt(per_worker, 1), forks, fmt(per_host, 2)) + ' per host of inventory and results (from the two largest,'
      + ' less their difference in workers%s).' % ('' if per_host is not None else '; needs three sizes'))
    w('A rerun cannot be faster than hosts x main-process CPU per host (one strategy loop), nor than')
    w('hosts x CPU per host / cores (the forks share the cores); forks beyond about 4 per core only add memory.')
    w('')
    w('| hosts | serial floor, main process (min) | upper bound on 8 cores (min) | on 16 cores (min) | on 32 cores (min) '
      '| cores for the upper bound in 1 h | memory at forks 32 / 128 (GiB) |')
    w('|---|---|---|---|---|---|---|')
    for hosts in (1000, 10000):
        mem = 'n/a'
        if per_worker is not None:
            mem = ' / '.join('%.1f' % ((peaks[small] + per_worker * (f - min(small, forks)) + (per_host or 0) * hosts)
                                       / 1024.0) for f in (32, 128))
        w('| %d | %.1f | %.1f | %.1f | %.1f | %d | %s |' % (
            hosts, hosts * main_ph / 60, max(hosts * main_ph, hosts * total_ph / 8) / 60,
            max(hosts * main_ph, hosts * total_ph / 16) / 60, max(hosts * main_ph, hosts * total_ph / 32) / 60,
            -(-hosts * total_ph // 3600), mem))
    w('')
    cores = int(-(-10000 * total_ph // 3600))
    serial = 10000 * main_ph / 60
    mem = ((peaks[small] + per_worker * (4 * cores - min(small, forks)) + (per_host or 0) * 10000) / 1024.0
           if per_worker is not None else None)
    w('What this asks of a controller: a no-change rerun of 10,000 hosts within an hour needs about %d cores by the'
      % cores + ' upper bound (every process\'s CPU on the controller; on a real fleet the modules run on the hosts,'
      ' so fewer), run with forks about 4 per core (%d)%s. The single strategy loop is the limit no controller size'
      % (4 * cores, ', which takes some %.0f GiB of memory' % mem if mem is not None else '')
      + ' lifts: %.0f minutes of main-process CPU at 10,000 hosts (%.0f at 1,000) by this measurement; beyond the'
      % (serial, serial / 10) + ' window, split the fleet into several ansible-playbook runs (one per inventory group'
      ' or datacentre, each with its own controller or its own cores), and keep `rollout_serial` batches (25% by'
      ' default) for the restarts, not for speed: batches run one after another.')
    w('')


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
         '; %s' % info['peers'] if info.get('peers') else '',
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
    report_fleet(w, results.get('s4', {}), config)
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
    # a run that stopped early saved its results only: the machine is described as it is now
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    started = datetime.datetime.fromisoformat(saved.get('started', now))
    finished = datetime.datetime.fromisoformat(saved.get('finished', now))
    info = saved.get('machine') or dict(machine(), peers=peer_version())
    loads = saved.get('loads') or ['?', '%.2f' % os.getloadavg()[0]]
    text, dummy = report(saved['results'], saved['config'], args, info, started, finished, loads)
    with open(output, 'w') as f:
        f.write(text)
    print(text)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--smoke', action='store_true', help='tiny sizes, 1 run, the peer role syntax-checked only (CI)')
    parser.add_argument('--runs', type=int)
    parser.add_argument('--hosts', help='fleet sizes of scenario 4, comma-separated (default 1,5,20,100)')
    parser.add_argument('--forks', type=int, help='ansible-playbook forks (default 25)')
    parser.add_argument('--output', help='the Markdown report (default BENCHMARKS.md; bench/output/ for --smoke)')
    parser.add_argument('--no-peers', action='store_true',
                        help='skip community.general, community.crypto and the peer role (no download)')
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
    if args.hosts:
        config['hosts'] = [int(h) for h in args.hosts.split(',') if h.strip()]
    if args.forks:
        config['forks'] = args.forks
    args.forks = config['forks']
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
        peer_collections.ensure()
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
            if 4 in scenarios and env.peers and not env.run_peers and run == 1:
                log('run 1: scenario 4, the peer playbook (syntax-check only)')
                check_peer(env, results)
            if 4 in scenarios:
                for hosts in config['hosts']:
                    if hosts >= config['big_hosts'] and run > 1:
                        continue
                    log('run %d/%d: scenario 4 (rollout%s on %d hosts)'
                        % (run, config['runs'], ' and its peer' if env.run_peers else '', hosts))
                    run_rollout(env, results, hosts, run, config)
            with open(raw, 'w') as f:  # what is measured so far survives a later failure
                json.dump({'config': config, 'runs_done': run, 'results': results}, f, indent=1)
    finally:
        for hosts in config['hosts']:
            stop_fleet(os.path.join(WORK, 'fleet-%d' % hosts))
            stop_fleet(os.path.join(WORK, 'peer-%d' % hosts))
    finished = datetime.datetime.now(datetime.timezone.utc)
    loads.append('%.2f' % os.getloadavg()[0])
    info = machine()
    if not args.no_peers:
        info['peers'] = peer_version()
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
