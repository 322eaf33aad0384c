#!/usr/bin/env python
# Copyright: wso2si.keystores contributors
# Apache License 2.0 (see LICENSE)
"""Secrets stay secret in the role's and the playbooks' own output.

    secrets_scan.py --work DIR [--config integration_config.yml]

Lays out local demo fleets (demo/fleet.py: three SI homes, one, one) and runs
playbooks/rollout.yml and playbooks/rollback.yml over them at -vvv --diff, each
run with ANSIBLE_LOG_PATH and a JSON callback that keeps every result whole
(files/callback/json_events.py):

  fleet a  own CA with a CA passphrase, secure vault off: a run where si2 fails
           its TLS verification (a closed port) and si3 fails on a keystore that
           has another password; rollback of si1
  fleet b  self-signed, secure vault on with a vault password of its own, SI
           restarted by hand (rollout_restart false: no restart, no verification,
           a warning), SI home owned by nobody (when run as root; the new stores
           must go to nobody too): --check, then a run; rollback
  fleet c  external CA: a run that collects the CSR, then, through ansible-runner
           (the engine of AWX and Automation Platform) at verbosity 3 with --diff,
           the run that imports the signed certificate and verifies it

Then it opens every keystore the fleets hold (backups included) and the CA
keys, and looks for every password and passphrase given, every private key
(chunks of its private numbers d, p, q or the EC private value, in hex, decimal
and base64 at every alignment, so a PEM or DER dump or a slurp of it shows) and
the passwords' base64 and hex in: the stdout and stderr of each run, each log
file, each JSON event file and everything ansible-runner keeps in artifacts/
(job_events/*.json, stdout, fact_cache). Before that, it checks that the scan
finds each kind of secret in text planted to hold it, so it cannot pass blind.
Exits non-zero naming each leak (file and secret name, never the value).
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import datetime
import glob
import json
import os
import re
import secrets as random_secrets
import shutil
import socket
import subprocess
import sys
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
SI_UID = SI_GID = 65534  # fleet b's SI home belongs to this user (nobody) when the test runs as root


def log(msg):
    sys.stdout.write('%s\n' % msg)
    sys.stdout.flush()


def password(prefix):
    """A password the role accepts ([A-Za-z0-9._-], starting with a letter), unique to this run."""
    return prefix + '.' + random_secrets.token_hex(10)


def closed_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class Env(object):
    def __init__(self, args):
        config = {}
        if args.config and os.path.isfile(args.config):
            with open(args.config) as f:
                config = yaml.safe_load(f) or {}
        coll = config.get('wso2si_test_collection_root')
        if not coll:
            for root in os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep):
                candidate = os.path.join(root, 'ansible_collections', 'wso2si', 'keystores')
                if os.path.isdir(candidate):
                    coll = candidate
                    break
        if not coll:
            raise SystemExit('the collection under test is not found (integration_config.yml or ANSIBLE_COLLECTIONS_PATH)')
        self.coll = os.path.abspath(coll)
        self.environ = dict(os.environ)  # threads read this copy: the runner scenario swaps os.environ
        self.coll_root = os.path.dirname(os.path.dirname(os.path.dirname(self.coll)))
        self.work = os.path.abspath(args.work)
        self.fleet_py = os.path.join(self.coll, 'demo', 'fleet.py')
        self.port_py = os.path.join(self.coll, 'tests', 'integration', 'targets', 'rollout', 'files', 'free_port_base.py')
        sys.path.insert(0, self.coll_root)

    def child_env(self, **extra):
        env = dict(self.environ)
        for name in list(env):
            if name.startswith(('ANSIBLE_', 'JUNIT_')):
                del env[name]
        env.update(ANSIBLE_COLLECTIONS_PATH=self.coll_root, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0',
                   ANSIBLE_RETRY_FILES_ENABLED='0', ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_STDOUT_CALLBACK='default',
                   PATH=os.path.dirname(PY) + os.pathsep + self.environ.get('PATH', ''))
        env.update(extra)
        return env


# ---------------------------------------------------------------- fleets

class Fleet(object):
    def __init__(self, env, name, hosts, port_start, start=True):
        self.env = env
        self.name = name
        self.dir = os.path.join(env.work, name)
        self.hosts = ['si%d' % i for i in range(1, hosts + 1)]
        base = subprocess.run([PY, env.port_py, str(port_start), '--hosts', str(hosts)], check=True,
                              capture_output=True, text=True).stdout.strip()
        cmd = [PY, env.fleet_py, 'setup', self.dir, '--hosts', str(hosts), '--python', PY, '--port-base', base]
        if not start:
            cmd.append('--no-start')
        subprocess.run(cmd, check=True, capture_output=True, text=True, env=env.child_env())
        self.started = start
        with open(os.path.join(self.dir, 'vars.yml')) as f:
            self.vars = yaml.safe_load(f)
        self.extra = {}
        self.other = {}  # secrets of the fleet that the playbooks are not given
        self.runs = []

    def inventory(self):
        return os.path.join(self.dir, 'inventory.yml')

    def set_host_vars(self, host, **values):
        with open(self.inventory()) as f:
            inv = yaml.safe_load(f)
        inv['wso2si']['hosts'][host].update(values)
        with open(self.inventory(), 'w') as f:
            yaml.safe_dump(inv, f, default_flow_style=False)

    def write_extra(self):
        """extra.json, the extra vars of the runs (other.json: secrets the runs are not given, for --scan-only)."""
        for name, values in (('other.json', self.other), ('extra.json', self.extra)):
            path = os.path.join(self.dir, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, 'w') as f:
                json.dump(values, f)
        return path

    @classmethod
    def done(cls, env, name):
        """The fleet `name` as an earlier run of this script left it under the work directory."""
        fleet = cls.__new__(cls)
        fleet.env, fleet.name, fleet.dir = env, name, os.path.join(env.work, name)
        with open(os.path.join(fleet.dir, 'vars.yml')) as f:
            fleet.vars = yaml.safe_load(f)
        with open(os.path.join(fleet.dir, 'extra.json')) as f:
            fleet.extra = json.load(f)
        with open(os.path.join(fleet.dir, 'other.json')) as f:
            fleet.other = json.load(f)
        fleet.runs = sorted(glob.glob(os.path.join(fleet.dir, 'runs', '*')) + glob.glob(os.path.join(fleet.dir, 'runner', 'artifacts')))
        return fleet

    def secrets(self):
        found = {}
        for name, value in list(self.vars.items()) + list(self.extra.items()) + list(self.other.items()):
            if isinstance(value, str) and re.search('password|passphrase', name):
                found['%s %s' % (self.name, name)] = value
        return found

    def play(self, label, playbook='rollout', args=(), failed=()):
        """Run a playbook of the collection at -vvv --diff; expect exactly the hosts `failed` to fail."""
        run_dir = os.path.join(self.dir, 'runs', label)
        os.makedirs(run_dir)
        env = self.env.child_env(ANSIBLE_LOG_PATH=os.path.join(run_dir, 'ansible.log'),
                                 ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, 'callback'),
                                 ANSIBLE_CALLBACKS_ENABLED='json_events',
                                 JSON_EVENTS_FILE=os.path.join(run_dir, 'events.jsonl'),
                                 ANSIBLE_HOME=os.path.join(self.dir, '.ansible'))
        cmd = ([PY, '-m', 'ansible.cli.playbook', '-vvv', '--diff', '-i', self.inventory(),
                '-e', '@' + os.path.join(self.dir, 'vars.yml'), '-e', '@' + self.write_extra(),
                '-e', 'rollout_serial=%d' % len(self.hosts)] + list(args)
               + [os.path.join(self.env.coll, 'playbooks', playbook + '.yml')])
        start = time.time()
        proc = subprocess.run(cmd, cwd=self.dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        out = proc.stdout.decode('utf-8', 'replace')
        for stream, data in (('stdout', proc.stdout), ('stderr', proc.stderr)):
            with open(os.path.join(run_dir, stream), 'wb') as f:
                f.write(data)
        recap = dict((h, int(f)) for h, f in re.findall(
            r'(?m)^(si[0-9]+) +: ok=[0-9]+ +changed=[0-9]+ +unreachable=[0-9]+ +failed=([0-9]+)', out))
        got = sorted(h for h, n in recap.items() if n)
        problem = None
        if not recap:
            problem = 'no PLAY RECAP'
        elif got != sorted(failed):
            problem = 'failed hosts %s, expected %s' % (got, sorted(failed))
        elif proc.returncode != (2 if failed else 0):
            problem = 'exit status %d' % proc.returncode
        log('%s %s: %s (%.0f s)' % (self.name, label, problem or 'as expected', time.time() - start))
        self.runs.append(run_dir)
        if problem:
            tail = '\n'.join(out.splitlines()[-80:])
            raise AssertionError('%s %s: %s\n%s\n%s' % (self.name, label, problem, tail,
                                                        proc.stderr.decode('utf-8', 'replace')[-3000:]))
        return out

    def stop(self):
        for host in self.hosts:
            subprocess.run([PY, self.env.fleet_py, 'stop', os.path.join(self.dir, host)], check=False,
                           capture_output=True, env=self.env.child_env())


def keystore_with_other_password(env, path, pw, cn):
    from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
    from ansible_collections.wso2si.keystores.plugins.module_utils import keystore as ks
    key = certs.generate_private_key('rsa', 2048)
    cert = certs.self_signed_certificate(key, certs.parse_name('CN=' + cn), [], 365)
    store = ks.Keystore('jks', password=pw)
    store.set_key('si', key, [cert])
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'wb') as f:
        f.write(store.dumps(pw))


class ExternalCA(object):
    """A root CA outside the collection, playing the external CA."""

    def __init__(self):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID
        self.x509, self.hashes = x509, hashes
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u'Secrets Test External Root')])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=90))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
                     .sign(self.key, hashes.SHA256()))

    def pem(self, cert=None):
        from cryptography.hazmat.primitives import serialization
        return (cert or self.cert).public_bytes(serialization.Encoding.PEM).decode('ascii')

    def sign(self, csr_path, out_path):
        x509 = self.x509
        with open(csr_path, 'rb') as f:
            csr = x509.load_pem_x509_csr(f.read())
        now = datetime.datetime.now(datetime.timezone.utc)
        builder = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(self.cert.subject)
                   .public_key(csr.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=60))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
        try:
            san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            builder = builder.add_extension(san.value, critical=False)
        except x509.ExtensionNotFound:
            pass
        with open(out_path, 'w') as f:
            f.write(self.pem(builder.sign(self.key, self.hashes.SHA256())))


# ---------------------------------------------------------------- the scenarios

def fleet_a(fleet):
    """Own CA with a passphrase, vault off; si2 fails verification, si3 on a wrong password; rollback."""
    fleet.extra.update(rollout_ca_passphrase=password('Cp'), rollout_ca_create=True)
    fleet.set_host_vars('si2', rollout_verify_ports=[closed_port()], rollout_verify_timeout=3)
    keystore_with_other_password(fleet.env, os.path.join(fleet.dir, 'si3', 'resources', 'security', 'si-keystore.jks'),
                                 fleet.other.setdefault('other_keystore_password', password('Ot')), 'si3')
    out = fleet.play('run', failed=['si2', 'si3'])
    assert 'wrong password for the keystore' in out, 'fleet a: si3 did not fail on its keystore password'
    assert '--- before' in out, 'fleet a: the run showed no diff'
    fleet.play('rollback', playbook='rollback', args=['--limit', 'si1'])


def fleet_b(fleet):
    """Self-signed, secure vault on (a vault password of its own), SI restarted by hand; check mode; rollback.

    The demo stand-in reads plain passwords only: no stand-in runs, and the role neither restarts SI nor
    verifies it (rollout_restart false, which it warns about)."""
    fleet.extra.update(rollout_vault_keystore_password=password('Vp'))
    # SI home belongs to the SI user (here nobody), the role runs as root: the stores it makes go to that user
    home = os.path.join(fleet.dir, 'si1')
    as_root = os.geteuid() == 0
    for d, dirs, names in os.walk(home) if as_root else []:
        for name in [d] + [os.path.join(d, n) for n in dirs + names]:
            os.lchown(name, SI_UID, SI_GID)
    # ... and can reach it, as on a real host (si_config checks that SI's user can read its files)
    parent = os.path.dirname(os.path.abspath(home))
    while as_root and parent != os.path.dirname(parent):
        mode = os.stat(parent).st_mode
        if not mode & 0o001:
            os.chmod(parent, (mode & 0o7777) | 0o001)
        parent = os.path.dirname(parent)
    args = ['-e', 'rollout_ca_mode=selfsigned', '-e', 'rollout_secure_vault=true',
            '-e', 'rollout_restart_command=', '-e', 'rollout_restart=false']
    fleet.play('check', args=args + ['--check'])
    out = fleet.play('run', args=args)
    with open(os.path.join(fleet.dir, 'si1', 'conf', 'server', 'deployment.yaml')) as f:
        assert '${sec:' in f.read(), 'fleet b: the passwords did not go into the secure vault'
    assert '--- before' in out, 'fleet b: the run showed no diff'
    assert 'rollout_restart is false: the role does not restart SI' in out, 'fleet b: no warning without restart'
    assert re.search(r'Each listener serves the new certificate[^\n]*\n[^\n]*\nskipping: \[si1\]', out), \
        'fleet b: verified without a restart'
    assert re.search(r'(?m)^si1 +: ok=[0-9]+ +changed=[1-9]', out), 'fleet b: the run changed nothing'
    for store in ('si-keystore.jks', 'si-truststore.jks', 'si-securevault.jks') if as_root else []:
        st = os.stat(os.path.join(home, 'resources', 'security', store))
        assert (st.st_uid, st.st_gid) == (SI_UID, SI_GID), 'fleet b: %s belongs to %d:%d, not to the owner of SI home' % (
            store, st.st_uid, st.st_gid)
    fleet.play('rollback', playbook='rollback', args=['-e', 'rollout_restart_command=true'])


def fleet_c(fleet, ca):
    """External CA: a run that collects the CSR, then the run that imports the signed certificate and verifies
    it, through ansible-runner."""
    fleet.extra.update(rollout_ca_mode='external', rollout_csr_dir=os.path.join(fleet.dir, 'csr'),
                       rollout_signed_dir=os.path.join(fleet.dir, 'signed'),
                       rollout_ca_certificates=[{'alias': 'external-root', 'content': ca.pem()}])
    out = fleet.play('csr')
    assert 'Waiting for a signed certificate' in out, 'fleet c: the hosts did not wait for their certificates'
    os.makedirs(fleet.extra['rollout_signed_dir'])
    for host in fleet.hosts:
        ca.sign(os.path.join(fleet.dir, 'csr', host + '.csr'), os.path.join(fleet.dir, 'signed', host + '.pem'))
    stdout = run_with_ansible_runner(fleet)
    assert 'Waiting for a signed certificate' not in stdout, 'fleet c: hosts still wait for their certificates'
    assert re.search(r'(?m)^si1 +: ok=[0-9]+ +changed=[1-9]', stdout), 'fleet c: the import run changed nothing'


def run_with_ansible_runner(fleet):
    """The rollout through ansible-runner, as AWX runs it (verbosity 3, --diff), with its artifacts kept."""
    import ansible_runner
    pdd = os.path.join(fleet.dir, 'runner')
    os.makedirs(os.path.join(pdd, 'project'))
    os.makedirs(os.path.join(pdd, 'inventory'))
    with open(os.path.join(pdd, 'project', 'rollout.yml'), 'w') as f:
        f.write('---\n- name: The collection\'s rollout playbook\n  ansible.builtin.import_playbook: wso2si.keystores.rollout\n')
    shutil.copy(fleet.inventory(), os.path.join(pdd, 'inventory', 'hosts.yml'))
    extravars = dict(fleet.vars, **fleet.extra)
    extravars['rollout_serial'] = len(fleet.hosts)
    start = time.time()
    # runner hands its own environment to ansible-playbook: not this test's ANSIBLE_* settings
    env = fleet.env.child_env(ANSIBLE_HOME=os.path.join(fleet.dir, '.ansible'))
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        run = ansible_runner.run(private_data_dir=pdd, playbook='rollout.yml', ident='rollout', verbosity=3,
                                 cmdline='--diff', extravars=extravars, quiet=True,
                                 envvars={'ANSIBLE_COLLECTIONS_PATH': fleet.env.coll_root})
    finally:
        os.environ.clear()
        os.environ.update(saved)
    artifacts = os.path.join(pdd, 'artifacts')
    events = glob.glob(os.path.join(artifacts, 'rollout', 'job_events', '*.json'))
    log('%s ansible-runner: %s, rc %s, %d events (%.0f s)' % (fleet.name, run.status, run.rc, len(events), time.time() - start))
    with open(os.path.join(artifacts, 'rollout', 'stdout')) as f:
        stdout = f.read()
    fleet.runs.append(artifacts)
    if run.status != 'successful' or run.rc != 0:
        raise AssertionError('fleet %s: ansible-runner %s\n%s' % (fleet.name, run.status, '\n'.join(stdout.splitlines()[-80:])))
    assert len(events) > 50, 'fleet %s: only %d job events' % (fleet.name, len(events))
    return stdout


# ---------------------------------------------------------------- what must never show

def b64_anywhere(data):
    """Substrings of base64 that any base64 text holding `data` contains, whatever its alignment."""
    found = []
    for k in range(3):
        enc = base64.b64encode(b'\0' * k + data).decode('ascii')
        found.append(enc[4 if k else 0:-4])
    return found


def number_material(value, nbytes):
    raw = value.to_bytes(nbytes, 'big').lstrip(b'\0')
    hexs = raw.hex()
    chunks = [hexs[:40], hexs[:40].upper(), hexs[-40:],
              ':'.join(hexs[i:i + 2] for i in range(0, 40, 2)), ':'.join(hexs[i:i + 2] for i in range(0, 40, 2)).upper(),
              str(value)[:40]]
    middle = len(raw) // 2
    for part in (raw[:30], raw[middle:middle + 30]):
        chunks.extend(b64_anywhere(part))
    return chunks


def key_material(key):
    numbers = key.private_numbers()
    if hasattr(numbers, 'private_value'):
        return number_material(numbers.private_value, (key.curve.key_size + 7) // 8)
    nbytes = (key.key_size + 7) // 8
    chunks = []
    for value in (numbers.d, numbers.p, numbers.q):
        chunks.extend(number_material(value, nbytes))
    return chunks


def password_material(value):
    raw = value.encode('utf-8')
    return [value, raw.hex()] + b64_anywhere(raw)


def collect_keys(base, roots, passwords):
    """{name: private key} of every key entry in every keystore under roots (backups included) and every CA key,
    named by their paths relative to base."""
    import jks
    from cryptography.hazmat.primitives import serialization
    keys = {}
    for root in roots:
        for d, dummy, names in os.walk(root):
            for n in names:
                path = os.path.join(d, n)
                if '.jks' in n:
                    for pw in passwords:
                        try:
                            store = jks.KeyStore.load(path, pw)
                        except Exception:  # pylint: disable=broad-except
                            continue
                        for alias, entry in store.private_keys.items():
                            if not entry.is_decrypted():
                                entry.decrypt(pw)
                            keys['%s#%s' % (os.path.relpath(path, base), alias)] = serialization.load_der_private_key(
                                entry.pkey_pkcs8, None)
                        break
                elif n == 'ca.key':
                    with open(path, 'rb') as f:
                        data = f.read()
                    for pw in [None] + passwords:
                        try:
                            keys[os.path.relpath(path, base)] = serialization.load_pem_private_key(
                                data, pw.encode() if pw else None)
                            break
                        except (TypeError, ValueError):
                            continue
    return keys


def texts(path):
    """(name, text) of every file under path, or of path itself."""
    files = [path] if os.path.isfile(path) else [os.path.join(d, n) for d, dummy, names in os.walk(path) for n in names]
    for name in sorted(files):
        with open(name, 'rb') as f:
            yield name, f.read().decode('utf-8', 'replace')


def scan(text, forbidden):
    # PEM and hex dumps wrap lines; JSON escapes the line breaks
    flat = re.sub(r'\\n|\\r|\s', '', text)
    return sorted(set(name for name, values in forbidden.items()
                      for value in values if value in text or value in flat))


def self_check(forbidden, fleet, keys):
    """The scan must find each kind of secret where it is planted, or it could pass blind."""
    from cryptography.hazmat.primitives import serialization
    name, key = sorted(keys.items())[0]
    numbers = key.private_numbers()
    d = getattr(numbers, 'd', None) or numbers.private_value
    pw_name = '%s rollout_keystore_password' % fleet.name
    pw = fleet.vars['rollout_keystore_password']
    planted = {
        'a password': 'password: %s\n' % pw,
        'a password in base64 at offset 1': base64.b64encode(b'x' + pw.encode() + b'yz').decode(),
        'a password in JSON': json.dumps({'k': 'a ' + pw}),
        'a private key PEM': key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()).decode(),
        'a private key, traditional PEM': key.private_bytes(serialization.Encoding.PEM,
                                                            serialization.PrivateFormat.TraditionalOpenSSL,
                                                            serialization.NoEncryption()).decode(),
        'a private key in a JSON string': json.dumps(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()),
        'a private key DER in base64 at offset 2': base64.b64encode(b'ab' + key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())).decode(),
        # openssl rsa -text: 15 bytes a line, each line but the last ending with a colon
        'a private exponent as openssl prints it': 'privateExponent:\n    ' + ':\n    '.join(
            ':'.join('%02x' % b for b in (b'\0' + d.to_bytes((d.bit_length() + 7) // 8, 'big'))[i:i + 15])
            for i in range(0, 60, 15)),
    }
    for what, text in planted.items():
        found = scan(text, forbidden)
        expect = 'password ' + pw_name if 'password' in what else 'key ' + name
        if expect not in found:
            raise AssertionError('the scan misses %s (found %s)' % (what, found))
    if scan('harmless text, ${sec:keystore.password}, ' + 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER', forbidden):
        raise AssertionError('the scan finds secrets in harmless text')


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--work', required=True)
    parser.add_argument('--config')
    parser.add_argument('--scan-only', action='store_true', help='scan what an earlier run left in --work again')
    parser.add_argument('--fleets', default='a,b,c', help='some of the fleets only (comma-separated names)')
    args = parser.parse_args()
    env = Env(args)
    names = [n for n in ('a', 'b', 'c') if n in args.fleets.split(',')]
    if args.scan_only:
        return scan_all(env, [Fleet.done(env, name) for name in names], None, [], time.time())
    if os.path.isdir(env.work):
        shutil.rmtree(env.work)
    os.makedirs(env.work)
    os.chmod(env.work, 0o700)
    start = time.time()
    fleets = []
    errors = []
    ca = None
    try:
        # one after the other: each fleet takes port offsets that are free when it starts
        ca = ExternalCA()
        plan = {'a': (lambda: Fleet(env, 'a', 3, 5100), fleet_a, ()),
                'b': (lambda: Fleet(env, 'b', 1, 5200, start=False), fleet_b, ()),
                'c': (lambda: Fleet(env, 'c', 1, 5300), fleet_c, (ca,))}
        for name in names:
            fleets.append(plan[name][0]())
        log('fleets ready (%.0f s)' % (time.time() - start))
        jobs = [(plan[f.name][1], (f,) + plan[f.name][2]) for f in fleets]
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            futures = [pool.submit(fn, *fn_args) for fn, fn_args in jobs]
            errors = ['%s: %s' % (type(f.exception()).__name__, f.exception()) for f in futures if f.exception()]
    finally:
        for fleet in fleets:
            fleet.stop()

    # scanned whatever happened: a scenario that went wrong may have printed secrets too
    return scan_all(env, fleets, ca, errors, start)


def scan_all(env, fleets, ca, errors, start):
    secrets = {}
    for fleet in fleets:
        secrets.update(fleet.secrets())
    keys = collect_keys(env.work, [f.dir for f in fleets], sorted(set(secrets.values())) + ['wso2carbon'])
    if ca:
        keys['external CA key'] = ca.key
    # every host's TLS key and vault key (but fleet a's si3, which fails first) and fleet a's CA key
    made = sorted(k for k in keys if k.endswith(('si-keystore.jks#si', 'si-securevault.jks#securevault', '/ca.key')))
    if not errors and len(fleets) == 3 and len(made) != 3 + 2 + 1 + 1 + 1 + 1 + 1:
        errors.append('not every key the rollout made was found: %s' % sorted(keys))
    forbidden = dict(('password ' + k, password_material(v)) for k, v in secrets.items())
    forbidden.update(('key ' + k, key_material(v)) for k, v in keys.items())
    self_check(forbidden, fleets[0], keys)

    leaks = []
    scanned = 0
    for fleet in fleets:
        for run in fleet.runs:
            for name, text in texts(run):
                scanned += 1
                leaks.extend('%s: %s' % (os.path.relpath(name, env.work), what) for what in scan(text, forbidden))
    log('scanned %d files of %d runs for %d passwords and %d private keys (%.0f s in all)'
        % (scanned, sum(len(f.runs) for f in fleets), len(secrets), len(keys), time.time() - start))
    if errors:
        log('SCENARIOS THAT WENT WRONG:\n' + '\n'.join(errors))
    if leaks:
        log('LEAKS (file: secret):\n  ' + '\n  '.join(leaks))
    if errors or leaks:
        return 1
    log('no secret in any output')
    return 0


if __name__ == '__main__':
    sys.exit(main())
