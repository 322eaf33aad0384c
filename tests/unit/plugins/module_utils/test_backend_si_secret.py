# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""si_secret's decisions, called on its backend directly (no module run)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil

import pytest

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils import secure_vault as sv
from ansible_collections.wso2si.keystores.plugins.module_utils.backends import si_secret as backend
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import ConfigError, InvalidInputError
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT_HOME = os.path.abspath(os.path.join(HERE, '..', '..', '..', 'fixtures', 'si_home'))
VAULT_PW = 'Vault.pass-3'


class FakeModule(object):
    """What the backend uses of an AnsibleModule."""

    def __init__(self, check_mode=False, diff=False, **params):
        self.params = dict(si_home=None, secrets_file=None, vault_keystore_path=None, vault_keystore_password=None,
                           vault_key_alias=None, vault_key_password=None, secrets=[], state='present',
                           master_keys=False, master_keys_file=None, backup=False)
        self.params.update(params)
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)


@pytest.fixture(scope='module')
def identities():
    out = {}
    for name in ('vault', 'other'):
        key = certs.generate_private_key('rsa', 2048)
        out[name] = (key, certs.self_signed_certificate(key, certs.parse_name('CN=%s' % name), ['DNS:%s' % name]))
    return out


@pytest.fixture
def home(tmp_path, identities):
    home = str(tmp_path / 'si')
    shutil.copytree(PROJECT_HOME, home)
    store = Keystore('jks')
    store.set_key('si-vault', identities['vault'][0], [identities['vault'][1]])
    with open(os.path.join(home, 'resources', 'security', 'si-vault.jks'), 'wb') as f:
        f.write(store.dumps(VAULT_PW))
    os.chmod(os.path.join(home, 'conf', 'server', 'secrets.properties'), 0o600)
    return home


def vault_params(home, **extra):
    params = dict(si_home=home, vault_keystore_path=os.path.join(home, 'resources', 'security', 'si-vault.jks'),
                  vault_key_alias='si-vault', vault_keystore_password=VAULT_PW)
    params.update(extra)
    return params


def run_backend(module):
    p = module.params
    need_vault = bool((p['state'] == 'present' and p['secrets']) or p['master_keys'])
    b = backend.SecretBackend(module, backend.locate(p), need_vault)
    b.read()
    b.decide()
    return b


def secrets_text(home):
    with open(os.path.join(home, 'conf', 'server', 'secrets.properties')) as f:
        return f.read()


# ---------------------------------------------------------------- where

def test_locate_reads_deployment_then_si_defaults(home):
    found = backend.locate(FakeModule(si_home=home).params)
    server = os.path.join(home, 'conf', 'server')
    assert found == {'secrets_file': os.path.join(server, 'secrets.properties'),
                     'vault_keystore_path': os.path.join(home, 'resources', 'security', 'securevault.jks'),
                     'vault_key_alias': 'wso2carbon', 'master_keys_file': os.path.join(server, 'master-keys.yaml')}
    os.remove(os.path.join(server, 'deployment.yaml'))
    assert backend.locate(FakeModule(si_home=home).params) == found  # SI's own defaults


def test_locate_without_home_takes_the_options(tmp_path):
    found = backend.locate(FakeModule(secrets_file=str(tmp_path / 's.properties')).params)
    assert found == {'secrets_file': str(tmp_path / 's.properties'),
                     'master_keys_file': str(tmp_path / 'master-keys.yaml')}
    with pytest.raises(InvalidInputError, match='give si_home or secrets_file'):
        backend.locate(FakeModule().params)


def test_aliases_and_values_are_checked_first():
    with pytest.raises(InvalidInputError, match='more than once'):
        backend.check_aliases([{'alias': 'a'}, {'alias': 'a'}])
    with pytest.raises(InvalidInputError, match='not usable'):
        backend.check_aliases([{'alias': '${x}'}])
    with pytest.raises(InvalidInputError, match='needs a value'):
        backend.wanted_secrets([{'alias': 'a', 'value': None}])


def test_vault_passwords_fall_back_to_the_master_keys_file(tmp_path):
    master = tmp_path / 'master-keys.yaml'
    master.write_text(sv.master_keys_text('Store.pw-1', 'Key.pw-2'))
    where = {'master_keys_file': str(master)}
    p = FakeModule().params
    assert backend.vault_passwords(p, where) == ('Store.pw-1', 'Key.pw-2')
    p['vault_keystore_password'] = 'Given.pw-3'
    assert backend.vault_passwords(p, where) == ('Given.pw-3', 'Given.pw-3')
    master.unlink()
    p['vault_keystore_password'] = None
    with pytest.raises(InvalidInputError, match='give vault_keystore_password'):
        backend.vault_passwords(p, where)


# ---------------------------------------------------------------- decisions

def test_present_encrypts_and_keeps_other_lines(home):
    before = secrets_text(home)
    b = run_backend(FakeModule(check_mode=True, diff=True,
                               secrets=[{'alias': 'db.password', 'value': 'Db.pass-1'}], **vault_params(home)))
    b.write()
    result = b.dump()
    assert secrets_text(home) == before  # check mode
    assert result['changed'] and result['changed_aliases'] == ['db.password']
    assert result['vault_key_sha256'] == b.vault.fingerprint()
    assert sv.plaintext_of(sv.SecretsFile(b.after), 'db.password', b.vault) == 'Db.pass-1'
    assert b.after.startswith(before.rstrip('\n'))
    assert 'Db.pass-1' not in result['diff'][0]['after']
    assert [w['path'] for w in b.writes()] == [b.secrets_path]


def test_present_is_idempotent_once_written(home):
    params = vault_params(home, secrets=[{'alias': 'db.password', 'value': 'Db.pass-1'}])
    first = run_backend(FakeModule(**params))
    first.write()
    again = run_backend(FakeModule(**params))
    assert again.changed is False and again.writes() == []


def test_present_refuses_to_add_beside_entries_of_another_key(home, identities):
    other = sv.VaultKey('o', identities['other'][1])
    with open(os.path.join(home, 'conf', 'server', 'secrets.properties'), 'a') as f:
        f.write('foreign=cipherText %s\n' % other.encrypt('Old.pass-1'))
    with pytest.raises(ConfigError, match='foreign'):
        run_backend(FakeModule(secrets=[{'alias': 'new', 'value': 'New.pass-1'}], **vault_params(home)))


def test_absent_removes_without_a_vault(home):
    b = run_backend(FakeModule(si_home=home, state='absent', secrets=[{'alias': 'wso2.sample.password1'},
                                                                      {'alias': 'not.there'}]))
    assert b.vault is None
    assert b.dump()['removed'] == ['wso2.sample.password1']
    assert 'wso2.sample.password1' not in b.after


def test_master_keys_are_written_once(home):
    params = vault_params(home, master_keys=True)
    b = run_backend(FakeModule(diff=True, **params))
    assert sv.parse_master_keys(b.master_after.encode(), 'm') == {
        'permanent': True, 'keyStorePassword': VAULT_PW, 'privateKeyPassword': VAULT_PW}
    assert [w['path'] for w in b.writes()] == [b.master_path]
    assert VAULT_PW not in b.dump()['diff'][0]['after']
    b.write()
    assert run_backend(FakeModule(**params)).changed is False


def test_a_mode_only_change_is_reported_after_the_write(home):
    path = os.path.join(home, 'conf', 'server', 'secrets.properties')
    os.chmod(path, 0o644)
    b = run_backend(FakeModule(si_home=home, state='absent', secrets=[{'alias': 'not.there'}]))
    assert b.changed and not b.secrets_changed
    b.write()
    assert b.dump()['changed'] is True
    assert os.stat(path).st_mode & 0o777 == 0o600
