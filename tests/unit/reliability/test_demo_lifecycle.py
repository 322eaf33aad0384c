# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The first hour of a new user (issue 17): the demo fleet's lifecycle
(demo/fleet.py: the size asked for, stale stand-ins found and replaced,
stop-all, free ports, one sentence without Java), `make help` and galaxy.yml."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import shutil
import socket
import subprocess
import sys

import pytest
import yaml

from ansible_collections.wso2si.keystores.tests.unit.reliability import helpers as h

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
FLEET = os.path.join(ROOT, 'demo', 'fleet.py')
LISTENERS = (9443, 7443)  # the fixture's HTTPS listeners, before the port offset

needs_java = pytest.mark.skipif(not shutil.which('java') and os.environ.get('CI') != 'true',
                                reason='java is not installed (CI installs it)')


def fleet(*args, **kwargs):
    env = h.child_env({'ANSIBLE_COLLECTIONS_PATH': h.COLLECTIONS_ROOT})
    env.update(kwargs.pop('env', {}))
    return subprocess.run([sys.executable, FLEET] + [str(a) for a in args], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=240, check=False, **kwargs)


def standins(root):
    """Pids of stand-ins serving a keystore under root, as fleet.py's /proc scan and independently."""
    prefix = str(root) + os.sep
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % entry, 'rb') as f:
                argv = [a.decode() for a in f.read().split(b'\0') if a]
        except OSError:
            continue
        if 'serve' in argv and '--keystore' in argv and argv[argv.index('--keystore') + 1].startswith(prefix):
            found.append(int(entry))
    return sorted(found)


def ports_of(root):
    """{host: [ports]} from each home's deployment.yaml offset."""
    result = {}
    for name in sorted(os.listdir(str(root))):
        dep = os.path.join(str(root), name, 'conf', 'server', 'deployment.yaml')
        if os.path.isfile(dep):
            with open(dep) as f:
                offset = int(yaml.safe_load(f)['wso2.carbon']['ports']['offset'])
            result[name] = [p + offset for p in LISTENERS]
    return result


def port_free(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(('127.0.0.1', port))
        return True
    except OSError:
        return False
    finally:
        sock.close()


def one_sentence(proc):
    assert proc.returncode != 0, proc.stdout
    assert 'Traceback' not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@h.needs_layout
@needs_java
def test_demo_fleet_is_the_size_asked_and_stale_standins_are_replaced(tmp_path):
    root = tmp_path / 'demo'
    try:
        first = fleet('setup', root, '--hosts', 1)
        assert first.returncode == 0, first.stderr
        old = standins(root)
        assert len(old) == 1, first.stdout
        # `make clean` used to remove the fleet under its running stand-ins; then a larger fleet
        shutil.rmtree(str(root))
        larger = fleet('setup', root, '--hosts', 4, '--no-start')
        assert larger.returncode == 0, larger.stderr
        assert 'stopped %d stand-in(s) of an earlier demo' % len(old) in larger.stdout, larger.stdout
        assert standins(root) == []
        # then a plain (default: 3) one: exactly si1..si3, the stand-ins of those only
        tmp = tmp_path / 'tmp'
        tmp.mkdir()
        plain = fleet('setup', root, env={'TMPDIR': str(tmp)})
        assert plain.returncode == 0, plain.stderr
        assert os.listdir(str(tmp)) == []  # the stand-ins' start-up logs are not left behind
        now = standins(root)
        # one stand-in per host, serving both of its listeners, as SI serves them from one JVM
        assert len(now) == 3 and not set(now) & set(old), (old, now)
        with open(str(root / 'inventory.yml')) as f:
            inventory = yaml.safe_load(f)
        assert sorted(inventory['wso2si']['hosts']) == ['si1', 'si2', 'si3']
        assert sorted(ports_of(root)) == ['si1', 'si2', 'si3']
        assert len(standins(root)) == 3
        ports = [p for host in ports_of(root).values() for p in host]
        assert not any(port_free(p) for p in ports)
        recorded = []
        for host in sorted(ports_of(root)):  # each home has one stand-in, for both of its listeners
            with open(str(root / host / 'standin.pid')) as f:
                recorded.append([int(p) for p in f.read().split()])
        assert sorted(sum(recorded, [])) == now and all(len(r) == 1 for r in recorded), (recorded, now)
        stop = fleet('stop-all', root)
        assert stop.returncode == 0 and 'stopped 3 ' in stop.stdout, stop.stdout + stop.stderr
        assert standins(root) == []
        assert all(port_free(p) for p in ports), ports
        assert not any(os.path.exists(str(root / h_ / 'standin.pid')) for h_ in ('si1', 'si2', 'si3'))
    finally:
        fleet('stop-all', root)
        for pid in standins(root):  # whatever happened, nothing of this test keeps running
            os.kill(pid, 9)


@h.needs_layout
def test_a_taken_port_is_one_sentence_naming_it(tmp_path):
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(('127.0.0.1', 0))
    holder.listen(1)
    try:
        port = holder.getsockname()[1]
        base = port - LISTENERS[0] - 10  # si1's first listener on the taken port
        proc = fleet('setup', tmp_path / 'demo', '--hosts', 1, '--port-base', base, '--no-start')
        line = one_sentence(proc)
        assert line.startswith('demo: port %d on 127.0.0.1 (si1' % port), line
    finally:
        holder.close()


@h.needs_layout
def test_a_free_port_base_is_found_when_none_is_given(tmp_path):
    root = tmp_path / 'demo'
    proc = fleet('setup', root, '--hosts', 1, '--no-start')
    assert proc.returncode == 0, proc.stderr
    base = int(re.search(r'port base (\d+)', proc.stdout).group(1))
    holders = []
    try:
        for port in ports_of(root)['si1']:  # hold the ports of that base: the next setup moves on
            if port_free(port):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.bind(('127.0.0.1', port))
                s.listen(1)
                holders.append(s)
        proc = fleet('setup', root, '--hosts', 1, '--no-start')
        assert proc.returncode == 0, proc.stderr
        moved = int(re.search(r'port base (\d+)', proc.stdout).group(1))
        assert moved > base, proc.stdout
        assert all(port_free(p) for p in ports_of(root)['si1'])
    finally:
        for s in holders:
            s.close()


@h.needs_layout
def test_without_java_the_demo_says_so_in_one_sentence(tmp_path):
    empty = tmp_path / 'bin'
    empty.mkdir()
    proc = fleet('setup', tmp_path / 'demo', '--hosts', 1, env={'PATH': str(empty)})
    line = one_sentence(proc)
    assert 'needs Java' in line and 'JDK' in line, line
    assert not (tmp_path / 'demo' / 'si1').exists()
    # run.sh, with only what it needs before Java on PATH
    for tool, target in (('python', sys.executable), ('dirname', shutil.which('dirname'))):
        os.symlink(target, str(empty / tool))
    run = subprocess.run([shutil.which('bash'), os.path.join(ROOT, 'demo', 'run.sh')],
                         env=h.child_env({'PATH': str(empty), 'DEMO_DIR': str(tmp_path / 'demo')}),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60,
                         check=False)
    assert one_sentence(run) == line


def makefile_targets():
    with open(os.path.join(ROOT, 'Makefile')) as f:
        text = f.read()
    phony = set()
    for line in re.findall(r'^\.PHONY:(.*)$', text, re.M):
        phony.update(line.split())
    return phony - {'help', 'get-pip', 'clean-junit', 'sanity-copy'}  # internal steps


@pytest.mark.skipif(not shutil.which('make'), reason='make is not installed')
def test_make_help_lists_every_user_facing_target():
    proc = subprocess.run(['make', '-s', '-f', os.path.join(ROOT, 'Makefile'), 'help'], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=True)
    listed = set(re.findall(r'^  make ([a-z-]+)', proc.stdout, re.M))
    assert makefile_targets() - listed == set(), proc.stdout
    assert 'demo/demo.yml' not in open(os.path.join(ROOT, 'Makefile')).read()


def test_galaxy_addresses_are_real():
    with open(os.path.join(ROOT, 'galaxy.yml')) as f:
        galaxy = yaml.safe_load(f)
    for key in ('repository', 'documentation', 'homepage', 'issues'):
        assert re.match(r'^https://[a-z0-9.-]+\.[a-z]{2,}/', galaxy[key]), (key, galaxy[key])
        assert '.invalid' not in galaxy[key] and 'example.' not in galaxy[key], (key, galaxy[key])


def test_a_port_in_time_wait_is_free_for_a_standin():
    """A connection of an earlier run left in TIME_WAIT does not make the port read as taken:
    the stand-in (Java's ServerSocket) binds with SO_REUSEADDR and would get it."""
    import importlib.util
    spec = importlib.util.spec_from_file_location('demo_fleet', os.path.join(ROOT, 'demo', 'fleet.py'))
    fleet = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fleet)
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(('127.0.0.1', 0))
    port = server.getsockname()[1]
    server.listen(1)
    client = socket.create_connection(('127.0.0.1', port))
    conn, dummy = server.accept()
    conn.close()  # the side that closes first keeps the port in TIME_WAIT
    client.recv(1)
    client.close()
    server.close()
    assert fleet.port_free('127.0.0.1', port)
    # a port a listener holds is still taken
    holder = socket.socket()
    holder.bind(('127.0.0.1', 0))
    holder.listen(1)
    try:
        assert not fleet.port_free('127.0.0.1', holder.getsockname()[1])
    finally:
        holder.close()
