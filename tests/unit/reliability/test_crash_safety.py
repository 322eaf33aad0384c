# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Crash safety: the real module processes are SIGKILLed at every step of a
write (temporary file created, half written, written, before fsync, after its
mode is set, before and after the rename). The file on disk is always the old or
the new complete file; a leftover temporary file is ignored by the next run and
removed once stale; a full disk (RLIMIT_FSIZE, and a small tmpfs when this
machine lets us mount one) leaves the old file intact with a clear error."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import subprocess

import pytest

from ansible_collections.wso2si.keystores.tests.unit.reliability import helpers as h
from ansible_collections.wso2si.keystores.plugins.module_utils import secure_vault as sv

pytestmark = h.needs_layout

PW = 'Trust.pass-1'
VAULT_PW = 'Vault.pass-2'
KS_PW = 'Store.pass-3'

# (op, when): every step of fileio.atomic_write
KILL_POINTS = [
    ('mkstemp', 'after'),   # temporary file created, nothing written
    ('write', 'partial'),   # half the new content written
    ('write', 'after'),     # all of it written, not yet synced
    ('fsync', 'before'),
    ('fchmod', 'after'),    # complete, final mode set
    ('rename', 'before'),
    ('rename', 'after'),    # the new file in place, directory not yet synced
]
BEFORE_RENAME = [p for p in KILL_POINTS if p[0] != 'rename' or p[1] == 'before']


@pytest.fixture(scope='module')
def cas():
    """Six CA certificates (EC keys: quick to make)."""
    return [h.self_signed(h.ec_key(), 'crash-ca-%d' % n) for n in range(6)]


def age(directory, names, seconds=3600):
    for name in names:
        full = os.path.join(str(directory), name)
        st = os.stat(full)
        os.utime(full, (st.st_atime - seconds, st.st_mtime - seconds))


def truststore_args(path, cas, aliases):
    return dict(path=path, password=PW, certificates=[{'alias': 'ca%d' % n, 'content': h.pem(cas[n])} for n in aliases])


@pytest.mark.parametrize('op,when', KILL_POINTS, ids=['%s-%s' % p for p in KILL_POINTS])
def test_truststore_killed_mid_write(tmp_path, cas, op, when):
    path = str(tmp_path / 'trust.jks')
    h.make_store(path, PW, trusted=[('ca0', cas[0]), ('ca1', cas[1])], mode=0o644)
    old = h.sha256_file(path)

    r = h.run_module('si_truststore', truststore_args(path, cas, [0, 1, 2, 3]), tmp_path,
                     harness={'kill': {'op': op, 'when': when, 'dir': str(tmp_path)}})
    assert r.killed, r

    aliases = sorted(e for e in h.load_store(path, PW).entries)  # loads: a complete store either way
    if (op, when) in BEFORE_RENAME:
        assert h.sha256_file(path) == old
        assert aliases == ['ca0', 'ca1']
        assert len(h.temporaries(tmp_path)) == (0 if op == 'rename' and when == 'after' else 1)
    else:
        assert aliases == ['ca0', 'ca1', 'ca2', 'ca3']
        assert h.temporaries(tmp_path) == []
    left = h.temporaries(tmp_path)

    # the next run (the lock died with the process) finishes the job and ignores a fresh leftover
    r = h.run_module('si_truststore', truststore_args(path, cas, [0, 1, 2, 3]), tmp_path, timeout=30)
    h.assert_ok(r)
    assert r.json['changed'] == ((op, when) in BEFORE_RENAME)
    assert sorted(h.load_store(path, PW).entries) == ['ca0', 'ca1', 'ca2', 'ca3']
    assert h.temporaries(tmp_path) == left

    if (op, when) not in (('write', 'partial'), ('rename', 'before')):
        return
    # once stale (older than a minute), any run removes it
    age(tmp_path, left)
    r = h.run_module('si_truststore', truststore_args(path, cas, [0, 1, 2, 3]), tmp_path)
    h.assert_ok(r)
    assert not r.json['changed']
    assert h.temporaries(tmp_path) == []


@pytest.mark.parametrize('op,when', [('write', 'partial'), ('rename', 'before'), ('rename', 'after')])
def test_new_keystore_killed_mid_write(tmp_path, op, when):
    """A keystore being created: afterwards it does not exist or is complete, never partial."""
    path = str(tmp_path / 'keystore.jks')
    args = dict(path=path, password=KS_PW, alias='si', key_type='ec', subject='CN=si.example.com')
    r = h.run_module('si_keystore', args, tmp_path, harness={'kill': {'op': op, 'when': when, 'dir': str(tmp_path)}})
    assert r.killed, r
    if op == 'rename' and when == 'after':
        assert list(h.load_store(path, KS_PW).entries) == ['si']
        assert os.stat(path).st_mode & 0o777 == 0o600
    else:
        assert not os.path.exists(path)
    r = h.run_module('si_keystore', args, tmp_path)
    h.assert_ok(r)
    assert list(h.load_store(path, KS_PW).entries) == ['si']


def vault_store(tmp_path):
    key = h.rsa_key(1)
    return h.make_store(str(tmp_path / 'vault.jks'), VAULT_PW, keys=[('vault', key, [h.self_signed(key, 'vault')])])


@pytest.mark.parametrize('op,when', [('write', 'partial'), ('fchmod', 'after'), ('rename', 'before'), ('rename', 'after')])
def test_secrets_file_killed_mid_write(tmp_path, op, when):
    vault = vault_store(tmp_path)
    secrets = h.write(tmp_path / 'secrets.properties', '# kept\nold.secret=plainText Old.value1\n', 0o600)
    old = h.sha256_file(secrets)
    args = dict(secrets_file=secrets, vault_keystore_path=vault, vault_keystore_password=VAULT_PW,
                vault_key_alias='vault', secrets=[{'alias': 'new.secret', 'value': 'New.value2'}])
    r = h.run_module('si_secret', args, tmp_path, harness={'kill': {'op': op, 'when': when, 'dir': str(tmp_path)}})
    assert r.killed, r
    key = sv.open_vault(vault, VAULT_PW, 'vault')
    values = sv.read_secret_values(secrets, key)
    if (op, when) == ('rename', 'after'):
        assert values == {'old.secret': 'Old.value1', 'new.secret': 'New.value2'}
    else:
        assert h.sha256_file(secrets) == old
    r = h.run_module('si_secret', args, tmp_path)
    h.assert_ok(r)
    assert sv.read_secret_values(secrets, key) == {'old.secret': 'Old.value1', 'new.secret': 'New.value2'}


@pytest.mark.parametrize('where,nth', [('conf', 1), ('conf', 2), ('bin', 1)],
                         ids=['before-secrets', 'before-deployment', 'before-launcher'])
def test_si_config_killed_between_files(tmp_path, where, nth):
    """si_config writes the secrets file, then deployment.yaml, then carbon.sh; a
    kill between them leaves each file old or new, deployment.yaml never names a
    secret the secrets file lacks, and the next run completes the change."""
    home = h.si_home(tmp_path, KS_PW, PW, VAULT_PW)
    conf = os.path.join(home, 'conf', 'server')
    security = os.path.join(home, 'resources', 'security')
    files = {'secrets': os.path.join(conf, 'secrets.properties'), 'deployment': os.path.join(conf, 'deployment.yaml'),
             'launcher': os.path.join(home, 'wso2', 'server', 'bin', 'carbon.sh')}
    before = dict((k, h.sha256_file(v)) for k, v in files.items())
    args = dict(si_home=home, passwords_as='secure_vault',
                keystore={'path': os.path.join(security, 'si-tls.jks'), 'password': KS_PW},
                truststore={'path': os.path.join(security, 'si-trust.jks'), 'password': PW},
                secure_vault={'keystore_path': os.path.join(security, 'si-vault.jks'), 'key_alias': 'si-vault',
                              'password': VAULT_PW})
    directory = conf if where == 'conf' else os.path.dirname(files['launcher'])
    r = h.run_module('si_config', args, tmp_path,
                     harness={'kill': {'op': 'rename', 'when': 'before', 'nth': nth, 'dir': directory}})
    assert r.killed, r
    changed = [k for k in ('secrets', 'deployment', 'launcher') if h.sha256_file(files[k]) != before[k]]
    assert changed == {('conf', 1): [], ('conf', 2): ['secrets'], ('bin', 1): ['secrets', 'deployment']}[(where, nth)]
    deployment = open(files['deployment']).read()
    secrets = sv.read_secrets_file(files['secrets'])
    for alias in ('wso2si.keystore.password', 'wso2si.truststore.password'):
        if '${sec:%s}' % alias in deployment:
            assert secrets.get(alias) is not None
    for name in ('conf', 'bin'):
        d = conf if name == 'conf' else os.path.dirname(files['launcher'])
        assert len(h.temporaries(d)) == (1 if d == directory else 0)

    r = h.run_module('si_config', args, tmp_path)
    h.assert_ok(r)
    assert r.json['changed']
    assert all(h.sha256_file(files[k]) != before[k] for k in files)
    r = h.run_module('si_config', args, tmp_path)
    h.assert_ok(r)
    assert not r.json['changed']


# ---------------------------------------------------------------- full disk

def big_args(path, cas):
    return dict(path=path, password=PW, certificates=[{'alias': 'ca%d' % n, 'content': h.pem(cas[n])} for n in range(6)])


def test_file_size_limit_leaves_old_store(tmp_path, cas):
    """RLIMIT_FSIZE in the child: the write of the new store fails with EFBIG."""
    path = str(tmp_path / 'trust.jks')
    h.make_store(path, PW, trusted=[('ca0', cas[0])], mode=0o644)
    old = h.sha256_file(path)
    r = h.run_module('si_truststore', big_args(path, cas), tmp_path,
                     harness={'limits': dict(h.DEFAULT_LIMITS, fsize=os.path.getsize(path) + 64)})
    h.assert_clean_failure(r, r'^cannot write .*trust\.jks: File too large; the previous file is unchanged')
    assert h.sha256_file(path) == old
    assert h.temporaries(tmp_path) == []


def test_file_size_limit_leaves_old_secrets(tmp_path):
    vault = vault_store(tmp_path)
    secrets = h.write(tmp_path / 'secrets.properties', 'old.secret=plainText Old.value1\n', 0o600)
    old = h.sha256_file(secrets)
    args = dict(secrets_file=secrets, vault_keystore_path=vault, vault_keystore_password=VAULT_PW,
                vault_key_alias='vault', secrets=[{'alias': 'new.secret', 'value': 'New.value2'}])
    r = h.run_module('si_secret', args, tmp_path, harness={'limits': dict(h.DEFAULT_LIMITS, fsize=40)})
    h.assert_clean_failure(r, r'File too large; the previous file is unchanged')
    assert h.sha256_file(secrets) == old
    assert h.temporaries(tmp_path) == []


def can_mount():
    if os.geteuid() != 0:
        return False
    return subprocess.call(['mount', '--version'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0


@pytest.mark.skipif(not can_mount(), reason='mounting a tmpfs needs root')
def test_full_tmpfs_leaves_old_store(tmp_path, cas):
    mnt = tmp_path / 'small'
    mnt.mkdir()
    if subprocess.call(['mount', '-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', str(mnt)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) != 0:
        pytest.skip('this machine does not let us mount a tmpfs')
    try:
        path = str(mnt / 'trust.jks')
        h.make_store(path, PW, trusted=[('ca0', cas[0])], mode=0o644)
        old = h.sha256_file(path)
        with open(str(mnt / 'filler'), 'wb', buffering=0) as f:  # fill the file system
            try:
                while True:
                    f.write(b'\0' * 4096)
                    f.flush()
            except OSError:
                pass
        r = h.run_module('si_truststore', big_args(path, cas), tmp_path)
        h.assert_clean_failure(r, r'^cannot write .*trust\.jks: No space left on device; the previous file is unchanged')
        assert h.sha256_file(path) == old
        assert h.temporaries(mnt) == []
        os.unlink(str(mnt / 'filler'))
        h.assert_ok(h.run_module('si_truststore', big_args(path, cas), tmp_path))
        assert len(h.load_store(path, PW).entries) == 6
    finally:
        subprocess.call(['umount', '-l', str(mnt)])
