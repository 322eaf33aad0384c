# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""si_config's decisions, called on its backend directly (no module run)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil

import pytest

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils import secure_vault as sv
from ansible_collections.wso2si.keystores.plugins.module_utils import si_locations as sl
from ansible_collections.wso2si.keystores.plugins.module_utils.backends import si_config as backend
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import ConfigError, InvalidInputError
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT_HOME = os.path.abspath(os.path.join(HERE, '..', '..', '..', 'fixtures', 'si_home'))

KS_PW = 'Keystore.pass-1'
TS_PW = 'Truststore.pass-2'
VAULT_PW = 'Vault.pass-3'


class FakeModule(object):
    """What the backend uses of an AnsibleModule."""

    def __init__(self, check_mode=False, diff=False, **params):
        self.params = dict(deployment_yaml=None, launcher=None, keystore=None, truststore=None, secure_vault=None,
                           ssl_configs=None, siddhi_http_extensions=False, passwords_as='plain', validate=True,
                           allow_expired=False, allow_weak_keys=False, si_user=None, backup=False, state='present')
        self.params.update(params)
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)


@pytest.fixture(scope='module')
def identities():
    out = {}
    for name in ('tls', 'vault'):
        key = certs.generate_private_key('rsa', 2048)
        out[name] = (key, certs.self_signed_certificate(key, certs.parse_name('CN=%s' % name), ['DNS:%s' % name]))
    return out


def write_store(path, password, keys=(), trusted=()):
    store = Keystore('jks')
    for alias, (key, cert) in keys:
        store.set_key(alias, key, [cert])
    for alias, cert in trusted:
        store.set_trusted(alias, cert)
    with open(path, 'wb') as f:
        f.write(store.dumps(password))


@pytest.fixture
def home(tmp_path, identities):
    home = str(tmp_path / 'si')
    shutil.copytree(PROJECT_HOME, home)
    sec = os.path.join(home, 'resources', 'security')
    write_store(os.path.join(sec, 'si-tls.jks'), KS_PW, keys=[('si-tls', identities['tls'])])
    write_store(os.path.join(sec, 'si-trust.jks'), TS_PW, trusted=[('si-tls', identities['tls'][1])])
    write_store(os.path.join(sec, 'si-vault.jks'), VAULT_PW, keys=[('si-vault', identities['vault'])])
    return home


def stores(home, vault=False):
    sec = os.path.join(home, 'resources', 'security')
    out = dict(si_home=home, keystore=dict(path=os.path.join(sec, 'si-tls.jks'), password=KS_PW),
               truststore=dict(path=os.path.join(sec, 'si-trust.jks'), password=TS_PW))
    if vault:
        out.update(passwords_as='secure_vault', secure_vault=dict(
            keystore_path=os.path.join(sec, 'si-vault.jks'), key_alias='si-vault', password=VAULT_PW, key_password=None))
    return out


def run_backend(module):
    """The verbs in the order ensure() calls them, without the lock."""
    paths = backend.Paths(module.params)
    secrets_path = None
    if module.params['secure_vault']:
        secrets_path = backend.secrets_path_of(backend._read_configuration(paths), paths)
    b = backend.ConfigBackend(module, paths, secrets_path)
    b.read()
    b.decide()
    return b


def snapshot(home):
    out = {}
    for top, dummy, files in os.walk(home):
        for name in files:
            with open(os.path.join(top, name), 'rb') as f:
                out[os.path.join(top, name)] = f.read()
    return out


# ---------------------------------------------------------------- options

@pytest.mark.parametrize('params, message', [
    (dict(), 'needs keystore, truststore or secure_vault'),
    (dict(keystore={'path': '/k', 'password': KS_PW}, passwords_as='secure_vault'), 'needs secure_vault'),
    (dict(secure_vault={'keystore_path': '/v', 'key_alias': 'v', 'password': VAULT_PW, 'key_password': None},
          passwords_as='secure_vault'), 'needs keystore or truststore'),
    (dict(keystore={'path': '/k', 'password': KS_PW}, passwords_as='secure_vault', ssl_configs=False,
          secure_vault={'keystore_path': '/v', 'key_alias': 'v', 'password': VAULT_PW, 'key_password': None}),
     'needs ssl_configs'),
    (dict(keystore={'path': '/k', 'password': KS_PW}, siddhi_http_extensions=True), 'need both keystore and truststore'),
    (dict(keystore={'path': '/k', 'password': 'a\nb'}), 'control character'),
    (dict(keystore={'path': '/k', 'password': "it's"}, truststore={'path': '/t', 'password': TS_PW},
          passwords_as='secure_vault',
          secure_vault={'keystore_path': '/v', 'key_alias': 'v', 'password': VAULT_PW, 'key_password': None}),
     'quote or backslash'),
    (dict(secure_vault={'keystore_path': '/v', 'key_alias': 'v', 'password': 'caf\u00e9', 'key_password': None}),
     'non-ASCII'),
])
def test_check_options_refuses_contradictions(params, message):
    with pytest.raises(InvalidInputError, match=message):
        backend.check_options(FakeModule(si_home='/nonexistent', **params))


def test_check_options_passes_audit_without_stores():
    backend.check_options(FakeModule(si_home='/nonexistent', state='audit'))


def test_ssl_configs_follows_passwords_as_unless_given():
    assert backend.ssl_configs_wanted(dict(ssl_configs=None, passwords_as='secure_vault')) is True
    assert backend.ssl_configs_wanted(dict(ssl_configs=None, passwords_as='plain')) is False
    assert backend.ssl_configs_wanted(dict(ssl_configs=True, passwords_as='plain')) is True


def test_settings_carry_aliases_only_under_secure_vault(home):
    plain = backend.settings_of(FakeModule(**stores(home)).params)
    assert plain['keystore_password'].text == KS_PW
    vault = backend.settings_of(FakeModule(**stores(home, vault=True)).params)
    assert vault['keystore_password'].text == '${sec:%s}' % sl.SECRET_ALIASES['keystore_password']
    assert vault['vault_alias'] == 'si-vault'


# ---------------------------------------------------------------- present

def test_plain_decision_names_every_location_and_the_launcher(home):
    before = snapshot(home)
    b = run_backend(FakeModule(check_mode=True, diff=True, **stores(home)))
    b.validate()
    b.write()
    result = b.dump()
    assert snapshot(home) == before  # check mode: nothing written
    labels = [c['location'] for c in result['changed_locations']]
    for name in ('https_listener', 'query_api_listener', 'databridge', 'agent_thrift', 'agent_binary'):
        assert sl.location(name).label in labels
    assert labels[-1] == sl.LAUNCHER_LABEL
    assert [w['path'] for w in b.writes()] == [b.paths.deployment, b.paths.launcher]
    assert result['changed'] and result['profile'] == 'server' and 'secret_aliases' not in result
    assert result['https_ports'] == [9443, 7443]
    text = ''.join(d['before'] + d['after'] for d in result['diff'])
    assert KS_PW not in text and TS_PW not in text


def test_secure_vault_decision_writes_the_secrets_first(home):
    b = run_backend(FakeModule(diff=True, **stores(home, vault=True)))
    assert b.changes[0]['location'] == 'secrets file'
    assert sorted(b.changes[0]['keys']) == sorted(sl.SECRET_ALIASES.values())
    assert [w['path'] for w in b.writes()][0] == b.secrets_path
    assert b.writes()[0]['mode'] == backend.SECRETS_MODE
    secrets = sv.SecretsFile(b.secrets_after)
    for alias in sl.SECRET_ALIASES.values():
        assert sv.plaintext_of(secrets, alias, b.vault) in (KS_PW, TS_PW)
    b.validate()
    b.write()
    result = b.dump()
    assert result['secret_aliases'] == sl.SECRET_ALIASES
    # the launcher gets no password under secure vault, and the diffs show none
    assert KS_PW not in b.launcher_after
    assert all(KS_PW not in d['after'] for d in result['diff'])
    # written: a second run decides nothing
    again = run_backend(FakeModule(**stores(home, vault=True)))
    assert again.changes == [] and again.writes() == []


def test_literal_passwords_leave_the_secrets_file_alone(home):
    params = stores(home)
    params['secure_vault'] = stores(home, vault=True)['secure_vault']
    b = run_backend(FakeModule(**params))
    assert b.secrets_after is None
    assert all(c['location'] != 'secrets file' for c in b.changes)


def test_missing_launcher_is_refused_unless_skipped(home):
    os.remove(os.path.join(home, 'wso2', 'server', 'bin', 'carbon.sh'))
    with pytest.raises(ConfigError, match='launcher .* does not exist'):
        run_backend(FakeModule(**stores(home)))
    b = run_backend(FakeModule(launcher='', **stores(home)))
    assert all(c['location'] != sl.LAUNCHER_LABEL for c in b.changes)


def test_shadowing_key_is_warned_about(home):
    with open(os.path.join(home, 'conf', 'server', 'deployment.yaml'), 'a') as f:
        f.write('transports:\n  http: {}\n')
    module = FakeModule(**stores(home))
    run_backend(module)
    assert any("'transports'" in w for w in module.warnings)


# ---------------------------------------------------------------- validation

def test_validation_refuses_a_wrong_password_and_a_missing_store(home):
    params = stores(home)
    params['keystore'] = dict(params['keystore'], password='Wrong.pass-9')
    b = run_backend(FakeModule(**params))
    with pytest.raises(ConfigError, match='validation failed'):
        b.validate()
    params = stores(home)
    params['truststore'] = dict(params['truststore'], path=os.path.join(home, 'missing.jks'))
    b = run_backend(FakeModule(**params))
    with pytest.raises(ConfigError, match='does not exist'):
        b.validate()


def test_validation_refuses_a_keystore_with_two_keys(home, identities):
    write_store(os.path.join(home, 'resources', 'security', 'si-tls.jks'), KS_PW,
                keys=[('a', identities['tls']), ('b', identities['vault'])])
    b = run_backend(FakeModule(**stores(home)))
    with pytest.raises(ConfigError, match='exactly one'):
        b.validate()


def test_validation_warns_when_the_truststore_does_not_trust_the_keystore(home, identities):
    write_store(os.path.join(home, 'resources', 'security', 'si-trust.jks'), TS_PW,
                trusted=[('other', identities['vault'][1])])
    module = FakeModule(**stores(home))
    run_backend(module).validate()
    assert any('trusts neither' in w for w in module.warnings)


# ---------------------------------------------------------------- moving secrets, audit

def test_move_secrets_refuses_entries_no_key_decrypts(home, identities):
    b = run_backend(FakeModule(**stores(home, vault=True)))
    other = sv.VaultKey('x', identities['tls'][1])
    secrets = sv.SecretsFile('lost=cipherText %s\n' % other.encrypt('Secret1'))
    with pytest.raises(ConfigError, match='lost'):
        backend.move_secrets(b.module, b.paths, b.text, secrets, b.vault, b.secrets_path, skip={})


def test_audit_of_the_fixture_reports_the_shipped_defaults(home):
    result = backend.ensure(FakeModule(si_home=home, state='audit'))
    assert result['changed'] is False and result['secure'] is False
    assert 'default_store_file' in set(f['kind'] for f in result['findings'])
    assert result['secrets_file'] == os.path.join(home, 'conf', 'server', 'secrets.properties')
