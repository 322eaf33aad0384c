# Copyright: wso2si.keystores contributors
# Apache License 2.0 (see LICENSE)
"""Run the integration targets with ansible-test, several at a time.

    integration_parallel.py --collection COLL [--jobs N] [--python X.Y]
                            [--times FILE] [ARG ...]

Each target runs as `ansible-test integration --local ... TARGET`, exactly
as a user runs it, but in a copy of the built collection of its own
(LANES/<k>/ansible_collections/wso2si/keystores, LANES being .../itest beside
COLL's ansible_collections): ansible-test keeps its state (output_dir, the
inventory, the temp copies of tests/integration) under the collection's
tests/output, and wipes output_dir before every target, so two targets can
never share one collection directory. Each copy gets an
integration_config.yml of its own that names the copy as the collection
under test. Nothing else is shared between targets but what they share when
run one after the other (caches keyed by content: ~/.cache/wso2si-keystores,
.build/wso2-real).

Targets are those `ansible-test integration --list-targets ARG...` names
(so ARG may be target names or alias groups, as for ansible-test); an ARG
starting with `-` is an ansible-test option passed to every run instead
(write an option's value as --option=VALUE). The longest targets start
first: the CPU times of the last run (FILE, default .build/integration-times.json
beside COLL's ansible_collections; CPU rather than wall time, which a loaded
machine stretches), else the size of the target's directory.

Aliases a target may carry (tests/integration/targets/T/aliases):
  wso2si/serial       runs alone, with no other target at the same time
  wso2si/lock/NAME    never runs at the same time as another target with
                      the same NAME (a fixed port, a user, a file they share)

Each target's ansible-test output is printed when it ends, whole, under a
header; the JUnit reports and ansible-test's data files go to COLL's
tests/output, as with one ansible-test run. At the end: a table of every
target with its exit status, wall time and CPU time (its process tree's
user + system), and the exit status: 0 only when every target passed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

SERIAL = 'wso2si/serial'
LOCK = 'wso2si/lock/'


def aliases(coll, target):
    path = os.path.join(coll, 'tests', 'integration', 'targets', target, 'aliases')
    try:
        with open(path) as f:
            return [line.split('#', 1)[0].strip() for line in f if line.split('#', 1)[0].strip()]
    except OSError:
        return []


def size(coll, target):
    total = 0
    for root, _dirs, files in os.walk(os.path.join(coll, 'tests', 'integration', 'targets', target)):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def list_targets(ansible_test, coll, patterns, env):
    out = subprocess.run([ansible_test, 'integration', '--list-targets'] + patterns, cwd=coll, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    if out.returncode != 0:
        sys.stderr.write(out.stdout + out.stderr)
        raise SystemExit('integration: ansible-test could not list the targets (exit %d)' % out.returncode)
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def make_lane(coll, lane_coll, lane_root):
    """A copy of the built collection (without its test output) for one runner."""
    os.makedirs(lane_coll, exist_ok=True)
    subprocess.run(['rsync', '-a', '--delete', '--exclude=/tests/output', coll + '/', lane_coll + '/'], check=True)
    config = os.path.join(coll, 'tests', 'integration', 'integration_config.yml')
    if os.path.exists(config):
        with open(config) as f:
            text = f.read()
        # name the copy as the collection under test, not COLL
        text = re.sub(r"(?m)^(wso2si_test_collection_root:).*$", lambda m: "%s '%s'" % (m.group(1), lane_coll), text)
        with open(os.path.join(lane_coll, 'tests', 'integration', 'integration_config.yml'), 'w') as f:
            f.write(text)
    return lane_root


def harvest(lane_coll, coll):
    """Move the lane's JUnit reports and data files to COLL's tests/output."""
    for sub in ('junit', 'data'):
        src = os.path.join(lane_coll, 'tests', 'output', sub)
        if not os.path.isdir(src):
            continue
        dest = os.path.join(coll, 'tests', 'output', sub)
        os.makedirs(dest, exist_ok=True)
        for name in sorted(os.listdir(src)):
            shutil.move(os.path.join(src, name), os.path.join(dest, name))


class Scheduler(object):
    def __init__(self, targets, locks, serial):
        self.pending = list(targets)
        self.locks = locks          # target -> set of lock names
        self.serial = serial        # set of targets that run alone
        self.running = set()
        self.held = set()
        self.cond = threading.Condition()

    def _can_start(self, target):
        if target in self.serial:
            return not self.running
        if any(t in self.serial for t in self.running):
            return False
        return not (self.locks[target] & self.held)

    def take(self):
        with self.cond:
            while True:
                if not self.pending:
                    return None
                for target in self.pending:
                    if self._can_start(target):
                        self.pending.remove(target)
                        self.running.add(target)
                        self.held |= self.locks[target]
                        return target
                self.cond.wait()

    def done(self, target):
        with self.cond:
            self.running.discard(target)
            self.held -= self.locks[target]
            self.cond.notify_all()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--collection', required=True, help='the built collection (ansible_collections/NS/NAME)')
    parser.add_argument('--jobs', type=int, default=int(os.environ.get('INTEGRATION_JOBS') or 3))
    parser.add_argument('--python', default='%d.%d' % sys.version_info[:2])
    parser.add_argument('--times', help='CPU times of the last run (JSON), read to order and written')
    parser.add_argument('--ansible-test', default=os.path.join(os.path.dirname(sys.executable), 'ansible-test'))
    args, rest = parser.parse_known_args()

    coll = os.path.abspath(args.collection)
    build = os.path.dirname(os.path.dirname(os.path.dirname(coll)))
    lanes_dir = os.path.join(build, 'itest')
    times_path = args.times or os.path.join(build, 'integration-times.json')
    options = [a for a in rest if a.startswith('-')]
    patterns = [a for a in rest if not a.startswith('-')]
    env = dict(os.environ)

    targets = list_targets(args.ansible_test, coll, patterns, env)
    if not targets:
        print('integration: no targets')
        return 0
    try:
        with open(times_path) as f:
            last = json.load(f)
    except (OSError, ValueError):
        last = {}
    # longest first: last run's CPU time, else the directory's size (bytes / 500 as "seconds")
    targets.sort(key=lambda t: (-(last.get(t) or size(coll, t) / 500.0), t))
    locks = {t: {a[len(LOCK):] for a in aliases(coll, t) if a.startswith(LOCK)} for t in targets}
    serial = {t for t in targets if SERIAL in aliases(coll, t)}
    jobs = max(1, min(args.jobs, len(targets)))
    sched = Scheduler(targets, locks, serial)
    print('integration: %d targets, %d at a time: %s' % (len(targets), jobs, ' '.join(targets)), flush=True)

    results = {}
    out_lock = threading.Lock()
    started = time.monotonic()

    def lane(k):
        lane_root = os.path.join(lanes_dir, str(k))
        lane_coll = os.path.join(lane_root, *coll.split(os.sep)[-3:])
        fresh = True
        while True:
            target = sched.take()
            if target is None:
                return
            try:
                if fresh:
                    make_lane(coll, lane_coll, lane_root)
                    fresh = False
                log_path = os.path.join(lanes_dir, 'logs', target + '.log')
                lane_env = dict(env, ANSIBLE_COLLECTIONS_PATH=lane_root)
                cmd = [args.ansible_test, 'integration', '--local', '--python', args.python, '--color', 'no',
                       '--continue-on-error'] + options + [target]
                t0 = time.monotonic()
                with open(log_path, 'w') as log:
                    proc = subprocess.Popen(cmd, cwd=lane_coll, env=lane_env, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT)
                    _pid, status, usage = os.wait4(proc.pid, 0)
                wall = time.monotonic() - t0
                rc = os.waitstatus_to_exitcode(status)
                proc.returncode = rc
                harvest(lane_coll, coll)
                results[target] = (rc, wall, usage.ru_utime + usage.ru_stime, k, t0 - started)
                with out_lock:
                    print('\n==== integration target %s: exit %d after %.0f s (CPU %.0f s, lane %d)'
                          % (target, rc, wall, usage.ru_utime + usage.ru_stime, k), flush=True)
                    with open(log_path, errors='replace') as log:
                        sys.stdout.write(log.read())
                    print('==== end of %s' % target, flush=True)
            except Exception as exc:  # pylint: disable=broad-except
                results[target] = (1, 0.0, 0.0, k, 0.0)
                with out_lock:
                    print('\n==== integration target %s: the runner failed: %s' % (target, exc), flush=True)
            finally:
                sched.done(target)

    os.makedirs(os.path.join(lanes_dir, 'logs'), exist_ok=True)
    threads = [threading.Thread(target=lane, args=(k,)) for k in range(1, jobs + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    total = time.monotonic() - started
    failed = sorted(t for t, r in results.items() if r[0] != 0)
    print('\nintegration: target          exit   start    wall     CPU  lane')
    for target in sorted(results, key=lambda t: results[t][4]):
        rc, wall, cpu, k, start = results[target]
        print('integration: %-16s %4d %7.0f %7.0f %7.0f  %4d' % (target, rc, start, wall, cpu, k))
    print('integration: %d targets in %.0f s with %d at a time (CPU %.0f s); %s'
          % (len(results), total, jobs, sum(r[2] for r in results.values()),
             'failed: ' + ' '.join(failed) if failed else 'all passed'), flush=True)
    last.update({t: round(r[2], 1) for t, r in results.items() if r[2] > 0})
    try:
        with open(times_path, 'w') as f:
            json.dump(last, f, indent=1, sort_keys=True)
    except OSError:
        pass
    return 1 if failed or len(results) != len(targets) else 0


if __name__ == '__main__':
    sys.exit(main())
