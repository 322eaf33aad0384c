# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Concurrency: parallel module processes on one host never lose each other's
changes (the directory lock of fileio.locked around every read-modify-write)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.wso2si.keystores.tests.unit.reliability import helpers as h
from ansible_collections.wso2si.keystores.plugins.module_utils import secure_vault as sv

pytestmark = h.needs_layout

PARALLEL = 16
PW = 'Trust.pass-1'
KS_PW = 'Store.pass-3'
VAULT_PW = 'Vault.pass-2'


def run_all(jobs, workdir):
    started = [h.start_module(module, args, workdir) for module, args in jobs]
    return [h.finish(s, timeout=120) for s in started]


def test_parallel_truststore_runs_keep_every_alias(tmp_path):
    """16 processes add 16 different aliases to one truststore that does not exist yet."""
    path = str(tmp_path / 'trust.jks')
    cas = [h.self_signed(h.ec_key(), 'parallel-ca-%d' % n) for n in range(PARALLEL)]
    results = run_all([('si_truststore', dict(path=path, password=PW,
                                              certificates=[{'alias': 'ca-%02d' % n, 'content': h.pem(cas[n])}]))
                       for n in range(PARALLEL)], tmp_path)
    for r in results:
        h.assert_ok(r)
        assert r.json['changed']
    store = h.load_store(path, PW)
    assert sorted(store.entries) == ['ca-%02d' % n for n in range(PARALLEL)]
    assert h.temporaries(tmp_path) == []


def test_parallel_si_secret_runs_keep_every_secret(tmp_path):
    key = h.rsa_key(1)
    vault = h.make_store(str(tmp_path / 'vault.jks'), VAULT_PW, keys=[('vault', key, [h.self_signed(key, 'vault')])])
    secrets = h.write(tmp_path / 'secrets.properties', '# a comment that stays\n', 0o600)
    results = run_all([('si_secret', dict(secrets_file=secrets, vault_keystore_path=vault,
                                          vault_keystore_password=VAULT_PW, vault_key_alias='vault',
                                          secrets=[{'alias': 'secret.%02d' % n, 'value': 'Value.%02d' % n}]))
                       for n in range(PARALLEL)], tmp_path)
    for r in results:
        h.assert_ok(r)
        assert r.json['changed']
    values = sv.read_secret_values(secrets, sv.open_vault(vault, VAULT_PW, 'vault'))
    assert values == dict(('secret.%02d' % n, 'Value.%02d' % n) for n in range(PARALLEL))
    assert open(secrets).read().startswith('# a comment that stays\n')
    assert os.stat(secrets).st_mode & 0o777 == 0o600


def test_si_config_racing_si_secret_on_one_si_home(tmp_path):
    """si_config (writing its two vault entries, deployment.yaml and carbon.sh)
    started together with eight si_secret runs on the same SI home."""
    home = h.si_home(tmp_path, KS_PW, PW, VAULT_PW)
    security = os.path.join(home, 'resources', 'security')
    vault = os.path.join(security, 'si-vault.jks')
    config = ('si_config', dict(
        si_home=home, passwords_as='secure_vault',
        keystore={'path': os.path.join(security, 'si-tls.jks'), 'password': KS_PW},
        truststore={'path': os.path.join(security, 'si-trust.jks'), 'password': PW},
        secure_vault={'keystore_path': vault, 'key_alias': 'si-vault', 'password': VAULT_PW}))
    secrets = [('si_secret', dict(si_home=home, vault_keystore_path=vault, vault_keystore_password=VAULT_PW,
                                  vault_key_alias='si-vault',
                                  secrets=[{'alias': 'app.secret.%d' % n, 'value': 'App.value-%d' % n}]))
               for n in range(8)]
    jobs = secrets[:4] + [config, config] + secrets[4:]
    for r in run_all(jobs, tmp_path):
        h.assert_ok(r)

    secrets_file = os.path.join(home, 'conf', 'server', 'secrets.properties')
    values = sv.read_secret_values(secrets_file, sv.open_vault(vault, VAULT_PW, 'si-vault'))
    for n in range(8):
        assert values['app.secret.%d' % n] == 'App.value-%d' % n
    assert values['wso2si.keystore.password'] == KS_PW
    assert values['wso2si.truststore.password'] == PW
    assert values['wso2.sample.password1'] == 'Sample.Pass1'  # the fixture's own entry
    deployment = open(os.path.join(home, 'conf', 'server', 'deployment.yaml')).read()
    assert '${sec:wso2si.keystore.password}' in deployment and 'si-tls.jks' in deployment
    # everything is in place: both modules now report no change
    for module, args in (config, secrets[0]):
        r = h.run_module(module, args, tmp_path)
        h.assert_ok(r)
        assert not r.json['changed'], r
