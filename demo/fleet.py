# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The local demo fleet: SI homes on this machine that the rollout can work on.

    fleet.py setup  DIR [--hosts N] [--python PY] [--port-base B] [--addresses A,B,...] [--no-start]
                                                     lay out N SI homes, default stores, an inventory
    fleet.py start  SI_HOME                          start (or restart) the stand-in HTTPS listener
    fleet.py stop   SI_HOME                          stop it
    fleet.py report DIR                              per-host table: subject, issuer, fingerprint, expiry, TLS

Each SI home is the project's fixture (tests/fixtures/si_home) in SI's real
layout, with a port offset of its own. Its "shipped" stores are generated at
setup (a fresh key playing the part of wso2carbon, password wso2carbon), never
copied from anywhere. The stand-in for SI is the Java TLS listener of
tests/java/TlsCheck.java: it reads the HTTPS listener's keystore path,
password and port (plus the offset) from the home's deployment.yaml, as SI does.
It listens on 127.0.0.1, or on the address given to setup with --addresses
(kept in SI_HOME/standin.bind), so that each host of a fleet can have an
address of its own in the loopback range (127.0.0.2, 127.0.0.3, ...).

The collection's own code (keystore model, X.509 helpers) is imported from the
first ANSIBLE_COLLECTIONS_PATH entry holding ansible_collections/, so the demo
runs against an installed copy as well as against the tree `make` builds.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
FIXTURE = os.path.join(REPO, 'tests', 'fixtures', 'si_home')
TLS_CHECK = os.path.join(REPO, 'tests', 'utils', 'tls_check.py')
PORT_BASE_OFFSET = 1000  # host i gets port offset 1000 + 10 * i (listeners 9443 and 7443 plus it); see --port-base
LOOPBACK = '127.0.0.1'


def _core():
    """The collection's own keystore code, from the collection path `make` builds."""
    roots = os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep) + [os.path.join(REPO, '.build')]
    sys.path[:0] = [r for r in roots if os.path.isdir(os.path.join(r, 'ansible_collections'))][:1]
    from ansible_collections.wso2si.keystores.plugins.module_utils import certificates, keystore
    return certificates, keystore


def core_location():
    """The directory of the collection whose code _core() imported."""
    module = sys.modules['ansible_collections.wso2si.keystores.plugins.module_utils.keystore']
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(module.__file__))))


def setup(args):
    certs, ks = _core()
    root = os.path.abspath(args.dir)
    os.makedirs(root, exist_ok=True)
    addresses = [a.strip() for a in (args.addresses or '').split(',') if a.strip()]
    hosts = []
    for i in range(1, args.hosts + 1):
        name = 'si%d' % i
        address = addresses[(i - 1) % len(addresses)] if addresses else LOOPBACK
        home = os.path.join(root, name)
        if os.path.isdir(home):
            stop_home(home)
            shutil.rmtree(home)
        shutil.copytree(FIXTURE, home)
        os.remove(os.path.join(home, 'resources', 'security', 'README.md'))
        offset = args.port_base + 10 * i
        dep = os.path.join(home, 'conf', 'server', 'deployment.yaml')
        with open(dep) as f:
            text = f.read()
        with open(dep, 'w') as f:
            f.write(text.replace('    offset: 0\n', '    offset: %d\n' % offset, 1))
        sec = os.path.join(home, 'resources', 'security')
        # the defaults every SI download ships, played by fresh keys with the shipped names and password
        key = certs.generate_private_key('rsa', 2048)
        cert = certs.self_signed_certificate(key, certs.parse_name('CN=localhost, O=WSO2, L=Mountain View, ST=CA, C=US'),
                                             ['DNS:localhost'], 3650)
        store = ks.Keystore('jks', password='wso2carbon')
        store.set_key('wso2carbon', key, [cert])
        _write(os.path.join(sec, 'wso2carbon.jks'), store.dumps('wso2carbon'))
        trust = ks.Keystore('jks', password='wso2carbon')
        trust.set_trusted('wso2carbon', cert)
        _write(os.path.join(sec, 'client-truststore.jks'), trust.dumps('wso2carbon'))
        vkey = certs.generate_private_key('rsa', 2048)
        vault = ks.Keystore('jks', password='wso2carbon')
        vault.set_key('wso2carbon', vkey, [certs.self_signed_certificate(vkey, certs.parse_name('CN=localhost, O=WSO2'), [], 3650)])
        _write(os.path.join(sec, 'securevault.jks'), vault.dumps('wso2carbon'))
        if addresses:
            with open(os.path.join(home, 'standin.bind'), 'w') as f:
                f.write(address + '\n')
        hosts.append((name, home, address))
    inventory = os.path.join(root, 'inventory.yml')
    with open(inventory, 'w') as f:
        f.write('---\n# The local demo fleet: each host is an SI home on this machine.\nwso2si:\n  hosts:\n')
        for name, home, address in hosts:
            f.write('    %s:\n      rollout_si_home: %s\n' % (name, home))
            f.write('      ansible_host: %s\n' % address)
        f.write('  vars:\n')
        f.write('    ansible_connection: local\n')
        f.write('    ansible_python_interpreter: %s\n' % (args.python or sys.executable))
        f.write('    rollout_subject_alt_names: ["DNS:{{ inventory_hostname }}", "DNS:localhost", "IP:{{ ansible_host }}"]\n')
        restart = '%s %s start {{ rollout_si_home }}' % (args.python or sys.executable, os.path.abspath(__file__))
        f.write('    rollout_restart_command: "%s"\n' % restart)
    with open(os.path.join(root, 'vars.yml'), 'w') as f:
        os.chmod(f.name, 0o600)
        f.write('---\n# Passwords for this demo fleet, made at setup.\n')
        for var in ('rollout_keystore_password', 'rollout_truststore_password'):
            f.write('%s: %s\n' % (var, 'demo' + secrets.token_hex(12)))
        f.write('rollout_ca_dir: %s\n' % os.path.join(root, 'ca'))
    if not args.no_start:
        for name, home, address in hosts:
            start_home(home)
    print('fleet: %d SI homes under %s, inventory %s' % (len(hosts), root, inventory))
    print('fleet: collection code from %s' % core_location())


def _write(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'wb') as f:
        f.write(data)


def _resolve(value, home):
    for placeholder in ('${carbon.home}', '${sys:carbon.home}'):
        value = value.replace(placeholder, home)
    return value


def listeners(home):
    """[(keystore path, password, port)] of the HTTPS listeners, as SI reads them."""
    with open(os.path.join(home, 'conf', 'server', 'deployment.yaml')) as f:
        doc = yaml.safe_load(f)
    offset = int(doc['wso2.carbon']['ports']['offset'])
    found = []
    for section in ('wso2.transport.http', 'siddhi.stores.query.api'):
        for item in (doc.get(section) or {}).get('listenerConfigurations') or []:
            if item.get('scheme') != 'https':
                continue
            password = str(item['keyStorePassword'])
            if password.startswith('${sec:'):
                raise SystemExit('the demo stand-in reads plain passwords only')
            found.append((_resolve(item['keyStoreFile'], home), password, int(item['port']) + offset))
    return found


def truststore(home):
    with open(os.path.join(home, 'conf', 'server', 'deployment.yaml')) as f:
        doc = yaml.safe_load(f)
    for agent in doc['data.agent.config']['agents']:
        conf = agent['agentConfiguration']
        if conf.get('name') == 'Binary':
            return _resolve(conf['trustStorePath'], home), str(conf['trustStorePassword'])
    raise SystemExit('no Binary agent in %s' % home)


def pid_file(home):
    return os.path.join(home, 'standin.pid')


def bind_address(home):
    """The address the stand-in listens on: SI_HOME/standin.bind, else 127.0.0.1."""
    try:
        with open(os.path.join(home, 'standin.bind')) as f:
            return f.read().strip() or LOOPBACK
    except OSError:
        return LOOPBACK


def _exited(pid):
    """True when pid is a zombie: it has exited (its listeners are closed) but
    nobody has reaped it yet. The stand-ins are orphans, and a container's
    init may reap orphans only every second or two."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except (OSError, IndexError):
        return False


def stop_home(home):
    try:
        with open(pid_file(home)) as f:
            pids = [int(p) for p in f.read().split()]
    except (OSError, ValueError):
        pids = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
            for dummy in range(50):
                os.kill(pid, 0)
                if _exited(pid):
                    break
                time.sleep(0.05)
        except OSError:
            pass
    try:
        os.remove(pid_file(home))
    except OSError:
        pass


def start_home(home):
    """(Re)start one stand-in listener per HTTPS listener of the configuration."""
    stop_home(home)
    pids = []
    address = bind_address(home)
    for path, password, port in listeners(home):
        env = dict(os.environ, KS_PASSWORD=password)
        out = subprocess.run([sys.executable, TLS_CHECK, 'serve', '--keystore', path, '--port', str(port),
                              '--bind', address, '--background'],
                             env=env, check=True, capture_output=True, text=True).stdout
        pids.append(out.split()[2])
        print('%s: HTTPS stand-in on %s port %d (pid %s)' % (home, address, port, pids[-1]))
    with open(pid_file(home), 'w') as f:
        f.write(' '.join(pids) + '\n')


def report(args):
    certs, ks = _core()
    root = os.path.abspath(args.dir)
    homes = sorted(d for d in os.listdir(root) if os.path.isfile(os.path.join(root, d, 'conf', 'server', 'deployment.yaml')))
    rows = [('host', 'subject', 'issuer', 'sha256 fingerprint', 'expires', 'TLS (Java client, rewired truststore)')]
    failures = 0
    for name in homes:
        home = os.path.join(root, name)
        path, password, port = listeners(home)[0]
        with open(path, 'rb') as f:
            store = ks.Keystore.loads(f.read(), password)
        cert = store.key_entries()[0].certificate
        tpath, tpassword = truststore(home)
        env = dict(os.environ, TS_PASSWORD=tpassword)
        address = bind_address(home)
        # a host with an address of its own is verified against its IP SAN, the shared loopback one by name
        run = subprocess.run([sys.executable, TLS_CHECK, 'connect', '--host', address, '--port', str(port),
                              '--truststore', tpath, '--hostname', 'localhost' if address == LOOPBACK else address],
                             env=env, capture_output=True, text=True, check=False)
        fp = certs.fingerprint(cert)
        if run.returncode == 0 and fp in run.stdout:
            tls = 'OK, serves this certificate'
        else:
            failures += 1
            tls = 'FAIL ' + (run.stderr.strip().splitlines() or ['?'])[-1][:60]
        rows.append((name, certs.name_to_string(cert.subject), certs.name_to_string(cert.issuer),
                     fp[:23] + '...', certs.iso(certs.not_after(cert))[:10], tls))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print('  '.join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if n == 0:
            print('  '.join('-' * w for w in widths))
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('setup')
    p.add_argument('dir')
    p.add_argument('--hosts', type=int, default=3)
    p.add_argument('--python')
    p.add_argument('--port-base', type=int, default=PORT_BASE_OFFSET,
                   help='host i gets the port offset PORT_BASE + 10 * i (default %(default)s); '
                        'give separate fleets bases whose 9443 and 7443 listeners do not meet')
    p.add_argument('--addresses',
                   help='comma-separated loopback addresses, host i listening on the i-th (cycled) and addressed by it '
                        '(ansible_host); default 127.0.0.1 for every host')
    p.add_argument('--no-start', action='store_true',
                   help='do not start the stand-ins (start each with `fleet.py start SI_HOME`, e.g. as the SI user)')
    for command in ('start', 'stop'):
        sub.add_parser(command).add_argument('home')
    sub.add_parser('report').add_argument('dir')
    args = parser.parse_args()
    if args.command == 'setup':
        return setup(args)
    if args.command == 'start':
        return start_home(os.path.abspath(args.home))
    if args.command == 'stop':
        return stop_home(os.path.abspath(args.home))
    return report(args)


if __name__ == '__main__':
    sys.exit(main())
