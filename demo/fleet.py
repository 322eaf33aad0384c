# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The local demo fleet: SI homes on this machine that the rollout can work on.

    fleet.py setup  DIR [--hosts N] [--python PY] [--port-base B] [--addresses A,B,...] [--no-start]
                                                     lay out N SI homes, default stores, an inventory
    fleet.py start  SI_HOME                          start (or restart) the stand-in HTTPS listener
    fleet.py stop   SI_HOME                          stop it
    fleet.py stop-all DIR                            stop every stand-in serving a keystore under DIR
    fleet.py report DIR                              per-host table: subject, issuer, fingerprint, expiry, TLS

The stand-ins keep running after setup (they are the fleet's "SI servers")
until `fleet.py stop-all DIR` (`make demo-stop`, also run by `make clean`).
setup first stops every stand-in of an earlier fleet in DIR, found by the
keystore it serves even when DIR was deleted under it, and removes SI homes
beyond the N asked for, so the fleet is always exactly N hosts. Without
--port-base it picks the first base from 1000 (in steps of 100) whose
listeners are all free; with one, a taken port is an error naming it.

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
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time

try:
    import yaml
except ImportError:  # stop and stop-all work without it (make clean in a checkout without .venv)
    yaml = None

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
FIXTURE = os.path.join(REPO, 'tests', 'fixtures', 'si_home')
TLS_CHECK = os.path.join(REPO, 'tests', 'utils', 'tls_check.py')
PORT_BASE_OFFSET = 1000  # host i gets port offset 1000 + 10 * i (listeners 9443 and 7443 plus it); see --port-base
PORT_BASE_STEP = 100  # the next base tried when a port of the default one is taken
PORT_LIMIT = 32768  # listeners stay below Linux's ephemeral port range
LOOPBACK = '127.0.0.1'
HOME_NAME = re.compile(r'^si[0-9]+$')


class DemoError(Exception):
    """A problem the user can fix, said in one sentence (main prints it, no traceback)."""


def require_java():
    """The stand-ins for SI are Java TLS listeners: say so in one sentence when there is no java."""
    if not shutil.which('java'):
        raise DemoError('the demo needs Java: its stand-ins for SI are Java TLS listeners, and `java` is not on '
                        'PATH; install a JDK 11 or newer (e.g. `apt-get install openjdk-17-jdk-headless`) and run '
                        'it again')


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
    if args.hosts < 1:
        raise DemoError('--hosts must be 1 or more, got %d' % args.hosts)
    if not args.no_start:
        require_java()
    certs, ks = _core()
    root = os.path.abspath(args.dir)
    os.makedirs(root, exist_ok=True)
    addresses = [a.strip() for a in (args.addresses or '').split(',') if a.strip()]
    addresses_of = [addresses[(i - 1) % len(addresses)] if addresses else LOOPBACK for i in range(1, args.hosts + 1)]
    # an earlier fleet here: its stand-ins stopped (they hold the ports), homes beyond --hosts removed
    stopped = stop_all(root)
    if stopped:
        print('fleet: stopped %d stand-in(s) of an earlier demo under %s' % (stopped, root))
    for name in sorted(os.listdir(root)):
        if HOME_NAME.match(name) and int(name[2:]) > args.hosts and os.path.isdir(os.path.join(root, name)):
            shutil.rmtree(os.path.join(root, name))
            print('fleet: removed %s of an earlier, larger demo fleet' % name)
    port_base = choose_port_base(args.port_base, addresses_of)
    hosts = []
    for i in range(1, args.hosts + 1):
        name = 'si%d' % i
        address = addresses_of[i - 1]
        home = os.path.join(root, name)
        if os.path.isdir(home):
            stop_home(home)
            shutil.rmtree(home)
        shutil.copytree(FIXTURE, home)
        os.remove(os.path.join(home, 'resources', 'security', 'README.md'))
        offset = port_base + 10 * i
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
    print('fleet: %d SI homes under %s, inventory %s, port base %d' % (len(hosts), root, inventory, port_base))
    print('fleet: collection code from %s' % core_location())


def fixture_ports():
    """The HTTPS listener ports of the fixture's deployment.yaml, before any offset."""
    return [port for dummy, dummy2, port in listeners(FIXTURE)]


def port_free(address, port):
    """Whether a stand-in could listen on address:port. Java's ServerSocket binds with
    SO_REUSEADDR, so a connection of an earlier run still in TIME_WAIT does not count as taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
        return True
    except OSError:
        return False
    finally:
        sock.close()


def taken_ports(base, addresses_of):
    """[(host name, address, port)] of the fleet's listeners on base that something else holds."""
    return [('si%d' % i, address, port + base + 10 * i)
            for i, address in enumerate(addresses_of, 1) for port in fixture_ports()
            if not port_free(address, port + base + 10 * i)]


def choose_port_base(requested, addresses_of):
    """The port base: the one asked for, all of its ports free, or the first free one from PORT_BASE_OFFSET."""
    top = max(fixture_ports()) + 10 * len(addresses_of)
    if requested is not None:
        taken = taken_ports(requested, addresses_of)
        if taken:
            raise DemoError('port %d on %s (%s\'s HTTPS listener, port base %d) is taken by another program; '
                            'stop it, or choose another base (DEMO_PORT_BASE, --port-base), or leave the base out '
                            'to have a free one found' % (taken[0][2], taken[0][1], taken[0][0], requested))
        return requested
    base = PORT_BASE_OFFSET
    while base + top < PORT_LIMIT:
        if not taken_ports(base, addresses_of):
            return base
        base += PORT_BASE_STEP
    raise DemoError('no port base from %d up has all %d listener ports of the fleet free below %d'
                    % (PORT_BASE_OFFSET, 2 * len(addresses_of), PORT_LIMIT))


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
    if yaml is None:
        raise DemoError('the demo needs PyYAML (run it through `make demo`, which uses .venv)')
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


def _cmdline(pid):
    """The argument list of process pid, or None when it is gone or unreadable (no /proc)."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return [a.decode('utf-8', 'replace') for a in f.read().split(b'\0') if a]
    except (OSError, ValueError):
        return None


def _is_standin(argv):
    """Whether argv is a stand-in listener: TlsCheck (class or source) in serve mode."""
    return bool(argv) and 'serve' in argv and any(os.path.basename(a) in ('TlsCheck', 'TlsCheck.java') for a in argv)


def _served_keystore(argv):
    try:
        return argv[argv.index('--keystore') + 1]
    except (ValueError, IndexError):
        return None


def standins(root):
    """Pids of this user's stand-ins serving a keystore under root (found through /proc, so also
    those whose fleet directory was deleted under them, e.g. by `make clean`)."""
    prefix = os.path.abspath(root).rstrip(os.sep) + os.sep
    found = []
    try:
        entries = os.listdir('/proc')
    except OSError:
        return found
    uid = os.getuid()
    for entry in entries:
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            if os.stat('/proc/%d' % pid).st_uid != uid:
                continue
        except OSError:
            continue
        argv = _cmdline(pid)
        keystore = _served_keystore(argv) if _is_standin(argv) else None
        if keystore and os.path.abspath(keystore).startswith(prefix):
            found.append(pid)
    return sorted(found)


def _terminate(pid):
    """SIGTERM pid and wait up to 5 s for it to end; False when it was not running."""
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return False
    for dummy in range(50):
        try:
            os.kill(pid, 0)
        except OSError:
            break
        if _exited(pid):
            break
        time.sleep(0.05)
    return True


def stop_home(home):
    try:
        with open(pid_file(home)) as f:
            pids = [int(p) for p in f.read().split()]
    except (OSError, ValueError):
        pids = []
    for pid in pids:
        argv = _cmdline(pid)
        # a pid reused by another program since is left alone (where /proc tells)
        if argv is None and os.path.isdir('/proc') or argv is not None and not _is_standin(argv):
            continue
        _terminate(pid)
    try:
        os.remove(pid_file(home))
    except OSError:
        pass


def stop_all(root):
    """Stop every stand-in of the fleet in root: its homes' pid files, then any left (stale) found in /proc."""
    root = os.path.abspath(root)
    before = set(standins(root))
    if os.path.isdir(root):
        for name in sorted(os.listdir(root)):
            if os.path.isfile(pid_file(os.path.join(root, name))):
                stop_home(os.path.join(root, name))
    for pid in standins(root):
        _terminate(pid)
    left = standins(root)
    if left:
        raise DemoError('stand-ins under %s did not stop (pids %s)' % (root, ' '.join(str(p) for p in left)))
    return len(before)


def start_home(home):
    """(Re)start the stand-in of one SI home: one JVM serving every HTTPS listener of the
    configuration, as SI does (one per keystore, should the listeners name different ones)."""
    require_java()
    stop_home(home)
    pids = []
    address = bind_address(home)
    groups = {}
    for path, password, port in listeners(home):
        groups.setdefault((path, password), []).append(port)
    for (path, password), ports in groups.items():
        env = dict(os.environ, KS_PASSWORD=password)
        run = subprocess.run([sys.executable, TLS_CHECK, 'serve', '--keystore', path,
                              '--port', ','.join(str(p) for p in ports), '--bind', address, '--background'],
                             env=env, check=False, capture_output=True, text=True)
        where = 'port %d' % ports[0] if len(ports) == 1 else 'ports %s' % ', '.join(str(p) for p in ports)
        if run.returncode != 0 or not run.stdout.startswith('LISTENING '):
            for pid in pids:
                _terminate(int(pid))
            reason = (run.stderr.strip().splitlines() or ['no output'])[-1]
            if reason.startswith('FAIL '):
                reason = reason[5:]
            taken = [p for p in ports if not port_free(address, p)]
            if taken:
                reason = 'port %d on %s is taken by another program (%s)' % (taken[0], address, reason)
            raise DemoError('%s: the stand-in for the HTTPS listeners on %s %s did not start: %s'
                            % (home, address, where, reason))
        pids.append(run.stdout.split()[2])
        print('%s: HTTPS stand-in on %s %s (pid %s)' % (home, address, where, pids[-1]))
    with open(pid_file(home), 'w') as f:
        f.write(' '.join(pids) + '\n')


def report(args):
    certs, ks = _core()
    root = os.path.abspath(args.dir)
    homes = sorted(d for d in os.listdir(root) if os.path.isfile(os.path.join(root, d, 'conf', 'server', 'deployment.yaml')))
    require_java()
    rows = [('host', 'subject', 'issuer', 'sha256 fingerprint', 'expires', "TLS (Java client, the host's truststore)")]
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
    p.add_argument('--port-base', type=int,
                   help='host i gets the port offset PORT_BASE + 10 * i; default the first base from %d '
                        '(in steps of %d) whose listeners are all free; give separate fleets bases whose 9443 '
                        'and 7443 listeners do not meet' % (PORT_BASE_OFFSET, PORT_BASE_STEP))
    p.add_argument('--addresses',
                   help='comma-separated loopback addresses, host i listening on the i-th (cycled) and addressed by it '
                        '(ansible_host); default 127.0.0.1 for every host')
    p.add_argument('--no-start', action='store_true',
                   help='do not start the stand-ins (start each with `fleet.py start SI_HOME`, e.g. as the SI user)')
    for command in ('start', 'stop'):
        sub.add_parser(command).add_argument('home')
    sub.add_parser('stop-all').add_argument('dir')
    sub.add_parser('report').add_argument('dir')
    args = parser.parse_args()
    try:
        if args.command == 'setup':
            return setup(args)
        if args.command == 'start':
            return start_home(os.path.abspath(args.home))
        if args.command == 'stop':
            return stop_home(os.path.abspath(args.home))
        if args.command == 'stop-all':
            stopped = stop_all(args.dir)
            print('fleet: stopped %d stand-in(s) under %s' % (stopped, os.path.abspath(args.dir)) if stopped
                  else 'fleet: no stand-in running under %s' % os.path.abspath(args.dir))
            return 0
        return report(args)
    except DemoError as exc:
        sys.stderr.write('demo: %s.\n' % str(exc).rstrip('.'))
        return 2


if __name__ == '__main__':
    sys.exit(main())
