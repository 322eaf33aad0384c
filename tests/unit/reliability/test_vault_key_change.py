# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The secure vault's key changes, and no secret is lost on the way.

SI (carbon-secvault 5.0.20 on JDK 17) decrypts an entry of another key to an empty
string without an error, and reads non-ASCII vault values back with a NUL appended
per extra UTF-8 byte (docs/secure-vault.md). Each SI home here starts as SI ships:
a stand-in for the shipped securevault.jks (alias and password ``wso2carbon``, a key
made by the test; the real one is never copied in), master-keys.yaml with the
shipped password, and the sample entry ``wso2.sample.password2`` encrypted with the
shipped key, referenced from a datasource as SI's samples do.

- si_config moving SI to its own vault key re-encrypts every entry the previous key
  decrypts, in the same write, checked by Java's Cipher (tests/java/SecretDecrypt.java);
  it refuses, naming the aliases and writing nothing, when some decrypt with neither.
- ``state: audit`` flags a referenced alias the configured vault cannot decrypt.
- si_secret refuses to add an entry beside entries of another key.
- Non-ASCII (and control characters) in secrets and vault passwords are refused.
- si_keystore warns about a key password unlike the store password only for TLS stores.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import shutil
import subprocess

import pytest

from ansible_collections.wso2si.keystores.tests.unit.reliability import helpers as h
from ansible_collections.wso2si.keystores.plugins.module_utils import secure_vault as sv
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore

pytestmark = h.needs_layout

KS_PW = 'Keystore.pass-1'
TS_PW = 'Truststore.pass-2'
VAULT_PW = 'Vault.pass-3'
SHIPPED_PW = 'wso2carbon'
SAMPLE = 'ABC@1234'
SECRET_DECRYPT = os.path.join(h.COLLECTION, 'tests', 'java', 'SecretDecrypt.java')
needs_java = pytest.mark.skipif(shutil.which('java') is None, reason='java absent')

DATASOURCE = '''
    - name: SAMPLE_DB
      definition:
        type: RDBMS
        configuration:
          jdbcUrl: 'jdbc:h2:${sys:carbon.home}/wso2/${sys:wso2.runtime}/database/SAMPLE_DB'
          username: sample
          password: ${sec:wso2.sample.password2}
          driverClassName: org.h2.Driver
'''


class Home(object):
    """An SI home as shipped (stand-in shipped vault, its sample secret) with its new stores."""

    def __init__(self, root):
        self.home = h.si_home(root, KS_PW, TS_PW, VAULT_PW)
        self.conf = os.path.join(self.home, 'conf', 'server')
        self.security = os.path.join(self.home, 'resources', 'security')
        self.deployment = os.path.join(self.conf, 'deployment.yaml')
        self.secrets = os.path.join(self.conf, 'secrets.properties')
        self.master = os.path.join(self.conf, 'master-keys.yaml')
        self.shipped_vault = os.path.join(self.security, 'securevault.jks')
        self.new_vault = os.path.join(self.security, 'si-vault.jks')
        key = h.rsa_key(2)
        h.make_store(self.shipped_vault, SHIPPED_PW, keys=[('wso2carbon', key, [h.self_signed(key, 'wso2carbon')])])
        h.write(self.master, sv.master_keys_text(SHIPPED_PW, SHIPPED_PW), 0o600)
        self.shipped = sv.open_vault(self.shipped_vault, SHIPPED_PW, 'wso2carbon')
        self.add_entry('wso2.sample.password2', self.shipped.encrypt(SAMPLE))
        with open(self.deployment) as f:
            text = f.read()
        anchor = '          driverClassName: org.h2.Driver\n'
        assert anchor in text
        h.write(self.deployment, text.replace(anchor, anchor + DATASOURCE.lstrip('\n'), 1))

    def add_entry(self, alias, b64):
        with open(self.secrets) as f:
            f = sv.SecretsFile(f.read())
        f.set_cipher(alias, b64)
        h.write(self.secrets, f.dumps(), 0o600)

    def new(self):
        return sv.open_vault(self.new_vault, VAULT_PW, 'si-vault')

    def config_args(self, passwords_as='plain', **extra):
        args = dict(si_home=self.home, passwords_as=passwords_as,
                    keystore={'path': os.path.join(self.security, 'si-tls.jks'), 'password': KS_PW},
                    truststore={'path': os.path.join(self.security, 'si-trust.jks'), 'password': TS_PW},
                    secure_vault={'keystore_path': self.new_vault, 'key_alias': 'si-vault', 'password': VAULT_PW})
        args.update(extra)
        return args


def warnings_of(r):
    # ansible-core 2.19 returns warnings as structured dicts, older versions as strings
    return json.dumps(r.json.get('warnings', []))


def java_decrypts(vault_file, alias, store_pw, secrets_file, expected):
    env = dict(os.environ, SD_STORE_PASSWORD=store_pw, EXPECTED_0=expected[0][1])
    pairs = []
    for n, (entry, value) in enumerate(expected):
        env['EXPECTED_%d' % n] = value
        pairs.append('%s=EXPECTED_%d' % (entry, n))
    out = subprocess.run(['java', SECRET_DECRYPT, vault_file, alias, secrets_file] + pairs, env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    return out.returncode == 0 and out.stdout.count('OK ') == len(expected), out.stdout + out.stderr


# ---------------------------------------------------------------- 12.7: the key changes

@pytest.mark.parametrize('passwords_as', ['plain', 'secure_vault'])
def test_si_config_reencrypts_the_entries_of_the_previous_key(tmp_path, passwords_as):
    home = Home(tmp_path)
    r = h.run_module('si_config', home.config_args(passwords_as), tmp_path)
    h.assert_ok(r)
    assert r.json['changed']
    secrets_change = [c for c in r.json['changed_locations'] if c['location'] == 'secrets file']
    assert secrets_change and 'wso2.sample.password2' in secrets_change[0]['keys']
    secrets = sv.read_secrets_file(home.secrets)
    assert sv.plaintext_of(secrets, 'wso2.sample.password2', home.new()) == SAMPLE
    assert sv.plaintext_of(secrets, 'wso2.sample.password1', None) == 'Sample.Pass1'  # plainText kept as it is
    assert sv.plaintext_of(secrets, 'wso2.sample.password2', home.shipped) is None
    assert SAMPLE not in r.stdout
    again = h.run_module('si_config', home.config_args(passwords_as), tmp_path)
    h.assert_ok(again)
    assert not again.json['changed'], again.json


@needs_java
def test_java_decrypts_the_reencrypted_entry_with_the_new_key(tmp_path):
    home = Home(tmp_path)
    ok, out = java_decrypts(home.shipped_vault, 'wso2carbon', SHIPPED_PW, home.secrets,
                            [('wso2.sample.password2', SAMPLE)])
    assert ok, out  # control: the shipped entry is the shipped key's
    r = h.run_module('si_config', home.config_args('secure_vault'), tmp_path)
    h.assert_ok(r)
    ok, out = java_decrypts(home.new_vault, 'si-vault', VAULT_PW, home.secrets,
                            [('wso2.sample.password2', SAMPLE), ('wso2si.keystore.password', KS_PW),
                             ('wso2si.truststore.password', TS_PW)])
    assert ok, out
    ok, out = java_decrypts(home.shipped_vault, 'wso2carbon', SHIPPED_PW, home.secrets,
                            [('wso2.sample.password2', SAMPLE)])
    assert not ok, out  # negative control: the old key no longer reads it


def test_check_mode_predicts_the_reencryption_and_writes_nothing(tmp_path):
    home = Home(tmp_path)
    before = h.snapshot(home.home)
    r = h.run_module('si_config', home.config_args(), tmp_path, check=True, diff=True)
    h.assert_ok(r)
    assert r.json['changed']
    assert any(c['location'] == 'secrets file' and c['keys'] == ['wso2.sample.password2']
               for c in r.json['changed_locations'])
    assert h.snapshot(home.home) == before


@pytest.mark.parametrize('how', ['third_key', 'previous_vault_unreadable'])
def test_si_config_refuses_entries_it_cannot_reencrypt(tmp_path, how):
    home = Home(tmp_path)
    if how == 'third_key':
        other = h.rsa_key(3)
        path = h.make_store(str(tmp_path / 'other.jks'), 'Other.pass-9',
                            keys=[('other', other, [h.self_signed(other, 'other')])])
        home.add_entry('orphan.secret', sv.open_vault(path, 'Other.pass-9', 'other').encrypt('Orphan.value1'))
    else:
        os.unlink(home.shipped_vault)
    before = h.snapshot(home.home)
    r = h.run_module('si_config', home.config_args('secure_vault'), tmp_path)
    missing = 'orphan.secret' if how == 'third_key' else 'wso2.sample.password2'
    h.assert_clean_failure(r, r'cannot be re-encrypted.*: %s; .*nothing was changed' % missing.replace('.', r'\.'))
    if how == 'third_key':
        assert 'wso2.sample.password2' not in r.msg  # the shipped entry could be moved
    assert h.snapshot(home.home) == before


def test_same_vault_key_does_not_refuse(tmp_path):
    """Pointing SI at the vault it already uses re-encrypts nothing and refuses nothing:
    an entry no key decrypts is reported, not blamed on this task."""
    home = Home(tmp_path)
    h.assert_ok(h.run_module('si_config', home.config_args(), tmp_path))
    other = h.rsa_key(3)
    home.add_entry('orphan.secret', sv.VaultKey('other', h.self_signed(other, 'other')).encrypt('Orphan.value1'))
    h.write(home.master, sv.master_keys_text(VAULT_PW, VAULT_PW), 0o600)
    r = h.run_module('si_config', home.config_args(), tmp_path)
    h.assert_ok(r)
    assert not r.json['changed']
    assert 'orphan.secret' in warnings_of(r), r.json


# ---------------------------------------------------------------- 12.7: the audit

def audit_kinds(result):
    return sorted((f['kind'], f['location']) for f in result.json['findings']
                  if f['kind'] in ('undecryptable_secret', 'unverified_secret', 'missing_secret_alias'))


def test_audit_flags_a_referenced_alias_the_vault_cannot_decrypt(tmp_path):
    """The state the issue reproduced: deployment.yaml already names the new vault and
    master-keys.yaml its passwords, but the sample entry is still the shipped key's."""
    home = Home(tmp_path)
    with open(home.deployment) as f:
        text = f.read()
    text = text.replace('privateKeyAlias: wso2carbon', 'privateKeyAlias: si-vault') \
        .replace('resources/security/securevault.jks', 'resources/security/si-vault.jks')
    text = text.replace('          username: sample\n', '          username: ${sec:no.such.alias}\n')
    h.write(home.deployment, text)
    h.write(home.master, sv.master_keys_text(VAULT_PW, VAULT_PW), 0o600)
    r = h.run_module('si_config', dict(si_home=home.home, state='audit'), tmp_path)
    h.assert_ok(r)
    assert not r.json['secure']
    assert audit_kinds(r) == [('missing_secret_alias', '${sec:no.such.alias}'),
                              ('undecryptable_secret', '${sec:wso2.sample.password2}')]
    # once si_config moved the entry (the vault options name the previous key's passwords), the finding is gone
    h.write(home.master, sv.master_keys_text(SHIPPED_PW, SHIPPED_PW), 0o600)
    text = text.replace('privateKeyAlias: si-vault', 'privateKeyAlias: wso2carbon') \
        .replace('resources/security/si-vault.jks', 'resources/security/securevault.jks')
    h.write(home.deployment, text)
    h.assert_ok(h.run_module('si_config', home.config_args(), tmp_path))
    h.write(home.master, sv.master_keys_text(VAULT_PW, VAULT_PW), 0o600)
    r = h.run_module('si_config', dict(si_home=home.home, state='audit'), tmp_path)
    assert audit_kinds(r) == [('missing_secret_alias', '${sec:no.such.alias}')]


def test_audit_says_when_it_cannot_check_a_secret(tmp_path):
    home = Home(tmp_path)
    os.unlink(home.master)  # the shipped stand-in's password still opens the store, not the key password below
    os.unlink(home.shipped_vault)
    key = h.rsa_key(2)
    store = Keystore('jks')
    store.set_key('wso2carbon', key, [h.self_signed(key, 'wso2carbon')], key_password='Unknown.key-7')
    h.write(home.shipped_vault, store.dumps(SHIPPED_PW), 0o600)
    r = h.run_module('si_config', dict(si_home=home.home, state='audit'), tmp_path)
    h.assert_ok(r)
    assert audit_kinds(r) == [('unverified_secret', '${sec:wso2.sample.password2}')]


# ---------------------------------------------------------------- 12.7: si_secret

def secret_args(home, **extra):
    args = dict(si_home=home.home, vault_keystore_path=home.new_vault, vault_key_alias='si-vault',
                vault_keystore_password=VAULT_PW, secrets=[{'alias': 'db.password', 'value': 'Db.pass-5'}])
    args.update(extra)
    return args


def test_si_secret_refuses_to_add_beside_entries_of_another_key(tmp_path):
    home = Home(tmp_path)
    before = h.snapshot(home.home)
    r = h.run_module('si_secret', secret_args(home), tmp_path)
    h.assert_clean_failure(r, r'does not decrypt.*: wso2\.sample\.password2; .*nothing was changed')
    assert 'Db.pass-5' not in r.stdout
    assert h.snapshot(home.home) == before
    # with the shipped vault (the entry's own key) it adds the secret
    r = h.run_module('si_secret', secret_args(home, vault_keystore_path=home.shipped_vault, vault_key_alias='wso2carbon',
                                              vault_keystore_password=SHIPPED_PW), tmp_path)
    h.assert_ok(r)
    assert r.json['changed_aliases'] == ['db.password']


# ---------------------------------------------------------------- 12.8: non-ASCII and control characters

@pytest.mark.parametrize('value', [u'P\u00e4ssword.1', u'Pass\u20ac1', u'Pass\x00word', u'Pass\x1bword'])
def test_si_secret_refuses_non_ascii_and_control_values(tmp_path, value):
    home = Home(tmp_path)
    before = h.snapshot(home.home)
    r = h.run_module('si_secret', secret_args(home, vault_keystore_path=home.shipped_vault,
                                              vault_key_alias='wso2carbon', vault_keystore_password=SHIPPED_PW,
                                              secrets=[{'alias': 'db.password', 'value': value}]), tmp_path)
    h.assert_clean_failure(r, r"the secret 'db\.password' contains (a non-ASCII|a line break, tab or control)")
    assert h.snapshot(home.home) == before


@pytest.mark.parametrize('which', ['vault_keystore_password', 'vault_key_password'])
def test_si_secret_refuses_a_non_ascii_password_for_master_keys(tmp_path, which):
    home = Home(tmp_path)
    key = h.rsa_key(4)
    store = Keystore('jks')
    # a JKS store opens with a non-ASCII password (Python and Java alike): only SI's master keys reader fails
    pw = {'vault_keystore_password': u'V\u00e4ult.pass', 'vault_key_password': u'K\u00e9y.pass'}
    store_pw = pw['vault_keystore_password'] if which == 'vault_keystore_password' else VAULT_PW
    key_pw = pw['vault_key_password'] if which == 'vault_key_password' else store_pw
    store.set_key('uni', key, [h.self_signed(key, 'uni')], key_password=key_pw)
    path = h.write(os.path.join(home.security, 'uni.jks'), store.dumps(store_pw), 0o600)
    assert sv.open_vault(path, store_pw, 'uni', key_pw).private_key is not None
    before = h.snapshot(home.home)
    args = dict(si_home=home.home, vault_keystore_path=path, vault_key_alias='uni', vault_keystore_password=store_pw,
                master_keys=True)
    if which == 'vault_key_password':
        args['vault_key_password'] = key_pw
    r = h.run_module('si_secret', args, tmp_path)
    h.assert_clean_failure(r, r'the vault (keystore|key) password contains a non-ASCII character')
    assert pw[which] not in r.stdout
    assert h.snapshot(home.home) == before


@pytest.mark.parametrize('where', ['vault_password', 'vault_key_password', 'keystore_in_vault', 'truststore_nul'])
def test_si_config_refuses_non_ascii_vault_passwords_and_secrets(tmp_path, where):
    home = Home(tmp_path)
    args = home.config_args('secure_vault')
    if where == 'vault_password':
        args['secure_vault']['password'] = u'V\u00e4ult.pass'
        pattern = r'the secure vault password contains a non-ASCII character'
    elif where == 'vault_key_password':
        args['secure_vault']['key_password'] = u'K\u00e9y.pass'
        pattern = r'the secure vault key password contains a non-ASCII character'
    elif where == 'keystore_in_vault':
        args['keystore']['password'] = u'K\u00e9ystore.pass'
        pattern = r"'keystore password' contains a non-ASCII character"
    else:
        args['truststore']['password'] = u'Trust\x00store'
        pattern = r'truststore password contains a control character'
    before = h.snapshot(home.home)
    r = h.run_module('si_config', args, tmp_path)
    h.assert_clean_failure(r, pattern)
    assert h.snapshot(home.home) == before


# ---------------------------------------------------------------- 12.10: the key password warning

@pytest.mark.parametrize('purpose, warned', [(None, True), ('tls', True), ('secure_vault', False)])
def test_key_password_warning_only_for_tls_stores(tmp_path, purpose, warned):
    args = dict(path=str(tmp_path / 'store.jks'), password=VAULT_PW, key_password='Vault.key-4', alias='si-vault',
                key_type='rsa', subject='CN=si-vault')
    if purpose:
        args['purpose'] = purpose
    r = h.run_module('si_keystore', args, tmp_path)
    h.assert_ok(r)
    assert ('key password differs' in warnings_of(r)) == warned, r.json
    vault = sv.open_vault(args['path'], VAULT_PW, 'si-vault', 'Vault.key-4')
    assert vault.decrypt(vault.encrypt('Value.1')) == 'Value.1'
