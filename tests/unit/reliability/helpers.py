# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Shared helpers of the reliability tests.

The modules are run for real, as separate processes, the way Ansible runs them
on a managed host: ``python plugins/modules/MODULE.py ARGS.json`` with the
directory holding ``ansible_collections`` on PYTHONPATH. Every run goes through
``module_harness.py``, which can SIGKILL the module at a chosen step of a write,
set resource limits, and record the mode of every temporary file it writes.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
COLLECTIONS_ROOT = os.path.abspath(os.path.join(COLLECTION, '..', '..', '..'))
MODULES = os.path.join(COLLECTION, 'plugins', 'modules')
HARNESS = os.path.join(HERE, 'module_harness.py')
SI_HOME_FIXTURE = os.path.join(COLLECTION, 'tests', 'fixtures', 'si_home')

IN_COLLECTION_LAYOUT = os.path.basename(os.path.dirname(os.path.dirname(COLLECTION))) == 'ansible_collections'
needs_layout = pytest.mark.skipif(not IN_COLLECTION_LAYOUT,
                                  reason='run from ansible_collections/wso2si/keystores (make units)')

# Every module run is bounded: wall clock, CPU seconds and address space.
DEFAULT_TIMEOUT = 60
DEFAULT_LIMITS = {'as': 1536 * 1024 * 1024, 'cpu': 60}


def ansible_lib_root():
    import ansible
    return os.path.dirname(os.path.dirname(os.path.abspath(ansible.__file__)))


def child_env(extra=None):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([COLLECTIONS_ROOT, ansible_lib_root()])
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    env.setdefault('LC_ALL', 'C.UTF-8')
    for name in list(env):
        if name.startswith(('PYTEST', 'COV_', 'COVERAGE')):
            del env[name]
    env.update(extra or {})
    return env


class Result(object):
    def __init__(self, proc_rc, stdout, stderr, elapsed):
        self.rc = proc_rc
        self.stdout = stdout
        self.stderr = stderr
        self.elapsed = elapsed
        self.json = None
        text = stdout.strip()
        if text:
            try:
                self.json = json.loads(text[text.index('{'):])
            except ValueError:
                self.json = None

    @property
    def killed(self):
        return self.rc == -signal.SIGKILL

    @property
    def failed(self):
        return bool(self.json and self.json.get('failed'))

    @property
    def msg(self):
        return (self.json or {}).get('msg', '')

    def __repr__(self):
        return 'Result(rc=%r, elapsed=%.2f, stdout=%r, stderr=%r)' % (self.rc, self.elapsed, self.stdout[-2000:],
                                                                      self.stderr[-2000:])


def write_args(workdir, module, args, check=False, diff=False):
    args = dict(args)
    args['_ansible_check_mode'] = check
    args['_ansible_diff'] = diff
    path = os.path.join(str(workdir), '.args-%s-%d-%d.json' % (module, os.getpid(), time.monotonic_ns()))
    with open(path, 'w') as f:
        json.dump({'ANSIBLE_MODULE_ARGS': args}, f)
    return path


def module_command(module, args_file, harness=None):
    config = dict(harness or {})
    config.setdefault('limits', DEFAULT_LIMITS)
    return [sys.executable, HARNESS, json.dumps(config), os.path.join(MODULES, module + '.py'), args_file]


def run_module(module, args, workdir, harness=None, check=False, diff=False, timeout=DEFAULT_TIMEOUT, env=None):
    """Run one module in a child process; returns a Result (never raises on module failure)."""
    args_file = write_args(workdir, module, args, check, diff)
    start = time.monotonic()
    try:
        proc = subprocess.run(module_command(module, args_file, harness), cwd=str(workdir), env=child_env(env),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, stdin=subprocess.DEVNULL,
                              check=False)
    finally:
        os.unlink(args_file)
    return Result(proc.returncode, proc.stdout.decode('utf-8', 'replace'), proc.stderr.decode('utf-8', 'replace'),
                  time.monotonic() - start)


def start_module(module, args, workdir, harness=None):
    """Start a module run without waiting: (Popen, args file). Use finish()."""
    args_file = write_args(workdir, module, args)
    proc = subprocess.Popen(module_command(module, args_file, harness), cwd=str(workdir), env=child_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    return proc, args_file, time.monotonic()


def finish(started, timeout=DEFAULT_TIMEOUT):
    proc, args_file, start = started
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    os.unlink(args_file)
    return Result(proc.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace'),
                  time.monotonic() - start)


def assert_clean_failure(result, pattern=None):
    """A failure reported as one plain sentence: JSON on stdout, failed, no traceback anywhere."""
    import re
    assert result.json is not None, result
    assert result.failed, result
    assert 'Traceback' not in result.stdout and 'Traceback' not in result.stderr, result
    assert 'MODULE FAILURE' not in result.stdout, result
    assert result.msg and '\n' not in result.msg.strip(), result
    if pattern:
        assert re.search(pattern, result.msg), (pattern, result.msg)


def assert_ok(result):
    assert result.json is not None and not result.failed and result.rc == 0, result
    assert 'Traceback' not in result.stderr, result


# ---------------------------------------------------------------- files

def snapshot(root):
    """{relative path: (kind, sha256 or link target, mode)} of everything under root
    (args files of the runs excluded)."""
    out = {}
    root = str(root)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            if name.startswith('.args-'):
                continue
            st = os.lstat(full)
            if os.path.islink(full):
                out[rel] = ('link', os.readlink(full), None)
            elif os.path.isdir(full):
                out[rel] = ('dir', None, st.st_mode & 0o7777)
            else:
                h = hashlib.sha256()
                with open(full, 'rb') as f:
                    for block in iter(lambda: f.read(1 << 20), b''):
                        h.update(block)
                out[rel] = ('file', h.hexdigest(), st.st_mode & 0o7777)
    return out


def temporaries(directory):
    return sorted(n for n in os.listdir(str(directory)) if n.startswith('.wso2si-') and n.endswith('.tmp'))


def sha256_file(path):
    with open(str(path), 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


# ---------------------------------------------------------------- PKI material

_KEYS = []


def rsa_key(n=0):
    """The n-th RSA 2048 key of a pool shared by the tests of one process."""
    while len(_KEYS) <= n:
        _KEYS.append(certs.generate_private_key('rsa', 2048))
    return _KEYS[n]


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def issue(subject_key, subject_cn, issuer_key, issuer_cn, ca=True, days=30, serial=None):
    """A certificate for subject_key signed by issuer_key (self-signed when they are the same)."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    builder = (x509.CertificateBuilder()
               .subject_name(name(subject_cn))
               .issuer_name(name(issuer_cn))
               .public_key(subject_key.public_key())
               .serial_number(serial or x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    return builder.sign(issuer_key, hashes.SHA256())


def self_signed(key, cn):
    return issue(key, cn, key, cn)


def pem(*certificates):
    return b''.join(c.public_bytes(serialization.Encoding.PEM) for c in certificates).decode('ascii')


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode('ascii')


def write(path, data, mode=0o644):
    path = str(path)
    with open(path, 'wb' if isinstance(data, bytes) else 'w') as f:
        f.write(data)
    os.chmod(path, mode)
    return path


def make_store(path, password, trusted=(), keys=(), store_type='jks', mode=0o600):
    """A store made by the collection's core: trusted = [(alias, cert)], keys = [(alias, key, chain)]."""
    store = Keystore(store_type)
    for alias, cert in trusted:
        store.set_trusted(alias, cert)
    for alias, key, chain in keys:
        store.set_key(alias, key, chain)
    return write(path, store.dumps(password, store_type), mode)


def load_store(path, password):
    with open(str(path), 'rb') as f:
        return Keystore.loads(f.read(), password)


def si_home(root, keystore_pw, truststore_pw, vault_pw):
    """An SI home from the project fixture with its new stores made by the core:
    resources/security/si-tls.jks (one key entry), si-trust.jks (its certificate),
    si-vault.jks (the vault's RSA key, alias si-vault)."""
    home = os.path.join(str(root), 'si_home')
    shutil.copytree(SI_HOME_FIXTURE, home)
    security = os.path.join(home, 'resources', 'security')
    tls_key, vault_key = rsa_key(0), rsa_key(1)
    tls_cert = issue(tls_key, 'localhost', tls_key, 'localhost', ca=False)
    make_store(os.path.join(security, 'si-tls.jks'), keystore_pw, keys=[('si-tls', tls_key, [tls_cert])])
    make_store(os.path.join(security, 'si-trust.jks'), truststore_pw, trusted=[('si-tls', tls_cert)], mode=0o644)
    make_store(os.path.join(security, 'si-vault.jks'), vault_pw,
               keys=[('si-vault', vault_key, [self_signed(vault_key, 'si-vault')])])
    return home
