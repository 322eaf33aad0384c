# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The secure vault helpers: encryption as SI does it, secrets.properties as Java
reads it, the refusals, master-keys.yaml; checked against SI's real files (from
../shared/fixtures/si when present) and against Java itself (when present)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import os
import shutil
import subprocess

import pytest

from cryptography.hazmat.primitives.asymmetric import padding

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils import secure_vault as sv
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import ConfigError, InvalidInputError
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))
PROJECT_HOME = os.path.join(REPO, 'tests', 'fixtures', 'si_home')
SECRET_DECRYPT = os.path.join(REPO, 'tests', 'java', 'SecretDecrypt.java')
SHARED_SI = os.environ.get('SI_FIXTURES') or os.path.join(REPO, '..', 'shared', 'fixtures', 'si')
if not os.path.isdir(SHARED_SI):  # tested from a copy at .build/collections/ansible_collections/wso2si/keystores
    SHARED_SI = os.path.join(REPO, '..', '..', '..', '..', '..', 'shared', 'fixtures', 'si')
needs_shared = pytest.mark.skipif(not os.path.isdir(SHARED_SI), reason='shared SI fixtures absent')
needs_java = pytest.mark.skipif(shutil.which('java') is None, reason='java absent')

VAULT_PW = 'Vault.pass-3'
KEY_PW = 'Vault.key-4'


@pytest.fixture(scope='module')
def vault_file(tmp_path_factory):
    key = certs.generate_private_key('rsa', 2048)
    cert = certs.self_signed_certificate(key, certs.parse_name('CN=si-vault'))
    store = Keystore('jks')
    store.set_key('si-vault', key, [cert], key_password=KEY_PW)
    path = str(tmp_path_factory.mktemp('vault') / 'vault.jks')
    with open(path, 'wb') as f:
        f.write(store.dumps(VAULT_PW))
    return path


@pytest.fixture(scope='module')
def vault(vault_file):
    return sv.open_vault(vault_file, VAULT_PW, 'si-vault', KEY_PW)


# ---------------------------------------------------------------- encryption

def test_encrypt_is_pkcs1v15_and_round_trips(vault):
    b64 = vault.encrypt('Secret.Value-1')
    raw = base64.b64decode(b64)
    assert len(raw) == 256
    assert vault.private_key.decrypt(raw, padding.PKCS1v15()) == b'Secret.Value-1'
    assert vault.decrypt(b64) == 'Secret.Value-1'
    assert vault.encrypt('Secret.Value-1') != b64  # randomised
    assert vault.decrypt('not base64!') is None


def test_another_keys_ciphertext_never_decrypts(vault, tmp_path):
    """OpenSSL >= 3.2 answers a PKCS#1 v1.5 ciphertext of another key with a random
    "implicit rejection" plaintext, not an error; some are valid UTF-8, so a check
    that only catches errors takes another key's entry for this key's. Java reports
    a padding error there (and SI reads an empty string): decrypt() must say None.
    The search below finds such a ciphertext deterministically where OpenSSL does
    implicit rejection (about one in a hundred), and checks every one it tries."""
    other = _other_vault(tmp_path, 'stranger')
    fooling = None
    for n in range(20000):
        b64 = other.encrypt('Value-%d' % n)
        assert vault.decrypt(b64) is None
        try:
            vault.private_key.decrypt(base64.b64decode(b64), padding.PKCS1v15()).decode('utf-8')
        except (ValueError, UnicodeDecodeError):
            continue
        fooling = b64
        break
    if fooling is None:
        pytest.skip('this OpenSSL reports padding errors; nothing can fool decrypt() here')
    assert vault.decrypt(fooling) is None and other.decrypt(fooling) is not None


def test_vault_errors(vault_file):
    with pytest.raises(ConfigError, match='no key entry under the alias'):
        sv.open_vault(vault_file, VAULT_PW, 'other', KEY_PW)
    with pytest.raises(ConfigError, match='key password does not decrypt'):
        sv.open_vault(vault_file, VAULT_PW, 'si-vault', 'Wrong.pass')
    with pytest.raises(Exception, match='wrong password'):
        sv.open_vault(vault_file, 'Wrong.pass', 'si-vault', KEY_PW)
    public_only = sv.open_vault(vault_file, VAULT_PW, 'si-vault', 'Wrong.pass', need_private=False)
    assert public_only.private_key is None and public_only.decrypt(public_only.encrypt('abcdef')) is None


@needs_shared
def test_the_shipped_sample_decrypts_with_the_shipped_vault_key():
    home = os.path.join(SHARED_SI, 'server')
    shipped = sv.open_vault(os.path.join(home, 'resources', 'security', 'securevault.jks'), 'wso2carbon', 'wso2carbon')
    secrets = sv.read_secrets_file(os.path.join(home, 'conf', 'server', 'secrets.properties'))
    assert secrets.get('wso2.sample.password1') == ('plainText', 'ABC@123')
    assert sv.plaintext_of(secrets, 'wso2.sample.password2', shipped) == 'ABC@1234'
    assert shipped.fingerprint().startswith('EE:CB:4D:02')


# ---------------------------------------------------------------- refusals

@pytest.mark.parametrize('value, message', [
    ('', 'empty'),
    ('two words', 'contains a space'),
    ('tab\there', 'line break, tab or control'),
    ('line\nbreak', 'line break, tab or control'),
    ('0123', 'would not survive'),
    ('yes', 'would not survive'),
    ('null', 'would not survive'),
    ('#hash', 'would not survive'),
    ('[list', 'would not survive'),
    ('key: value'.replace(' ', ''), None),
    ('a${x}b', 'would not survive'),
    ('x' * 246, '246 bytes long'),
    (u'P\u00e4ssword.1', 'non-ASCII'),  # SI reads it back as "P\u00e4\0ssword.1"
    (u'Pass\u20ac', 'non-ASCII'),
    (u'Pass\x00word', 'line break, tab or control'),
    (u'Pass\x85word', 'line break, tab or control'),
])
def test_values_si_would_lose_are_refused(value, message):
    if message is None:
        sv.check_secret_value('a', value, 2048)  # "key:value" survives: no space after the colon
        return
    with pytest.raises(InvalidInputError, match=message) as exc:
        sv.check_secret_value('db.password', value, 2048)
    assert "'db.password'" in str(exc.value)
    if len(value) > 4:
        assert value not in str(exc.value)  # never echo the secret


def test_values_that_survive_are_accepted():
    for value in ('Abc.def-1_2', 'x' * 245, 'pa#ss', "it's", 'ABC@1234'):
        sv.check_secret_value('a', value, 2048)


def test_aliases():
    assert sv.check_alias('wso2.sample.password1') == 'wso2.sample.password1'
    for bad in ('', 'has space', 'a=b', 'a}b', '#x', 'a:b'):
        with pytest.raises(InvalidInputError):
            sv.check_alias(bad)


# ---------------------------------------------------------------- secrets.properties

@pytest.mark.parametrize('path', [
    os.path.join(PROJECT_HOME, 'conf', 'server', 'secrets.properties'),
    pytest.param(os.path.join(SHARED_SI, 'server', 'conf', 'server', 'secrets.properties'), marks=needs_shared),
])
def test_secrets_file_round_trips_byte_for_byte(path):
    with open(path) as f:
        text = f.read()
    assert sv.SecretsFile(text).dumps() == text


def test_properties_are_read_as_java_reads_them():
    f = sv.SecretsFile('# c\n! c2\n a = b c\nk\\=1:v\nlong=one \\\n    two\nempty=\n')
    assert f.aliases() == ['a', 'k=1', 'long', 'empty']
    assert f.get('a') == ('b', 'c')
    assert f.get('long') == ('one', 'two')
    assert f.get('empty') == ('invalid', '')


def test_ensure_secrets_keeps_other_lines_and_is_idempotent(vault):
    original = '# my comment\nwso2.sample.password1=plainText Sample.Pass1\n\nother=plainText Keep.me\n'
    f = sv.SecretsFile(original)
    changed = sv.ensure_secrets(f, vault, {'wso2.sample.password1': 'New.pass-1', 'added.one': 'Added.pass-2'})
    assert changed == ['wso2.sample.password1', 'added.one']
    text = f.dumps()
    lines = text.splitlines()
    assert lines[0] == '# my comment' and lines[2] == '' and lines[3] == 'other=plainText Keep.me'
    assert lines[1].startswith('wso2.sample.password1=cipherText ') and lines[4].startswith('added.one=cipherText ')
    # base64 padding escaped as SI's cipher tool writes it
    assert '\\=' in lines[1] or not lines[1].endswith('=')
    again = sv.SecretsFile(text)
    assert sv.ensure_secrets(again, vault, {'wso2.sample.password1': 'New.pass-1', 'added.one': 'Added.pass-2'}) == []
    assert again.dumps() == text
    assert sv.plaintext_of(again, 'added.one', vault) == 'Added.pass-2'
    # a changed value is rewritten in place
    assert sv.ensure_secrets(again, vault, {'added.one': 'Other.pass-3'}) == ['added.one']
    assert again.dumps().splitlines()[:4] == lines[:4]


def test_duplicates_collapse_to_one_entry(vault):
    f = sv.SecretsFile('a=plainText One.1\nb=plainText Two.2\na=plainText Three.3\n')
    assert f.duplicates() == ['a'] and f.get('a') == ('plainText', 'Three.3')
    sv.ensure_secrets(f, vault, {'a': 'Four.4'})
    assert f.aliases() == ['b', 'a'] and sv.plaintext_of(f, 'a', vault) == 'Four.4'
    assert f.remove('a') and f.aliases() == ['b'] and not f.remove('a')


def test_a_file_without_final_newline_gets_one(vault):
    f = sv.SecretsFile('a=plainText One.1')
    sv.ensure_secrets(f, vault, {'b': 'Two.2'})
    assert f.dumps().startswith('a=plainText One.1\nb=cipherText ')


# ---------------------------------------------------------------- master-keys.yaml

def test_master_keys_round_trip():
    text = sv.master_keys_text('Vault.pass-3', 'Vault.key-4')
    assert 'permanent: true' in text and 'Vault.pass-3' not in text
    assert sv.parse_master_keys(text, 'x') == {'permanent': True, 'keyStorePassword': 'Vault.pass-3',
                                               'privateKeyPassword': 'Vault.key-4'}


@pytest.mark.parametrize('store_pw, key_pw, message', [
    (u'V\u00e4ult.pass', 'Vault.key-4', 'the vault keystore password contains a non-ASCII character'),
    ('Vault.pass-3', u'K\u00e9y.pass', 'the vault key password contains a non-ASCII character'),
    ('Vault\x00pass', 'Vault.key-4', 'the vault keystore password contains a NUL'),
    ('Vault.pass-3', '', 'the vault key password must not be empty'),
])
def test_master_keys_refuse_passwords_si_cannot_read_back(store_pw, key_pw, message):
    with pytest.raises(InvalidInputError, match=message) as exc:
        sv.master_keys_text(store_pw, key_pw)
    assert (store_pw or 'x') not in str(exc.value) and (key_pw or 'x') not in str(exc.value)


@needs_shared
def test_shipped_master_keys_hold_the_shipped_password():
    found = sv.read_master_keys(os.path.join(SHARED_SI, 'server', 'conf', 'server', 'master-keys.yaml'))
    assert found == {'permanent': True, 'keyStorePassword': 'wso2carbon', 'privateKeyPassword': 'wso2carbon'}


# ---------------------------------------------------------------- Java decrypts what we write

@needs_java
def test_java_decrypts_every_written_value(vault, vault_file, tmp_path):
    values = {'wso2si.keystore.password': 'Keystore.pass-1', 'db.password': 'ABC@1234', 'long.one': 'z' * 245}
    f = sv.SecretsFile('# header\n')
    sv.ensure_secrets(f, vault, values)
    path = tmp_path / 'secrets.properties'
    path.write_text(f.dumps())
    env = dict(os.environ, SD_STORE_PASSWORD=VAULT_PW, SD_KEY_PASSWORD=KEY_PW)
    pairs = []
    for n, (alias, value) in enumerate(sorted(values.items())):
        env['EXPECTED_%d' % n] = value
        pairs.append('%s=EXPECTED_%d' % (alias, n))
    out = subprocess.run(['java', SECRET_DECRYPT, vault_file, 'si-vault', str(path)] + pairs,
                         env=env, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count('OK ') == 3


# ---------------------------------------------------------------- a new vault key

def _other_vault(tmp_path, name='other'):
    key = certs.generate_private_key('rsa', 2048)
    store = Keystore('jks')
    store.set_key(name, key, [certs.self_signed_certificate(key, certs.parse_name('CN=' + name))])
    path = str(tmp_path / (name + '.jks'))
    with open(path, 'wb') as f:
        f.write(store.dumps(VAULT_PW))
    return sv.open_vault(path, VAULT_PW, name)


def test_reencrypt_moves_the_old_keys_entries_and_names_the_lost_ones(vault, tmp_path):
    old, third = _other_vault(tmp_path, 'old'), _other_vault(tmp_path, 'third')
    f = sv.SecretsFile('# c\nplain=plainText Plain.1\na=cipherText %s\nb=cipherText %s\nc=cipherText %s\n'
                       % (old.encrypt('A.value-1'), vault.encrypt('B.value-2'), third.encrypt('C.value-3')))
    assert sv.foreign_entries(f, vault) == ['a', 'c'] and sv.foreign_entries(f, vault, skip={'c': 1}) == ['a']
    moved, lost = sv.reencrypt(f, vault, old)
    assert (moved, lost) == (['a'], ['c'])
    assert sv.plaintext_of(f, 'a', vault) == 'A.value-1' and sv.plaintext_of(f, 'b', vault) == 'B.value-2'
    assert f.dumps().splitlines()[:2] == ['# c', 'plain=plainText Plain.1']
    assert sv.reencrypt(f, vault, None, skip=('c',)) == ([], [])


def test_open_previous_vault_tries_each_candidate(vault_file):
    assert sv.open_previous_vault(vault_file, 'si-vault', ['wso2carbon', VAULT_PW], [None, 'wso2carbon', KEY_PW]) \
        .private_key is not None
    assert sv.open_previous_vault(vault_file, 'si-vault', [VAULT_PW], ['Wrong.key']) is None
    assert sv.open_previous_vault(vault_file, 'si-vault', ['Wrong.pass'], [KEY_PW]) is None
    assert sv.open_previous_vault(vault_file, 'other', [VAULT_PW], [KEY_PW]) is None
    assert sv.open_previous_vault(vault_file + '.missing', 'si-vault', [VAULT_PW], [KEY_PW]) is None


@needs_shared
@needs_java
def test_the_shipped_sample_moves_to_a_new_key_and_java_decrypts_it(vault, vault_file, tmp_path):
    """SI's real secrets.properties and securevault.jks: the shipped cipherText
    re-encrypted with a new key, checked by Java's Cipher, with both controls."""
    home = os.path.join(SHARED_SI, 'server')
    shipped_file = os.path.join(home, 'resources', 'security', 'securevault.jks')
    shipped = sv.open_previous_vault(shipped_file, 'wso2carbon', [None, 'wso2carbon'], ['wso2carbon'])
    secrets = sv.read_secrets_file(os.path.join(home, 'conf', 'server', 'secrets.properties'))
    assert sv.reencrypt(secrets, vault, shipped) == (['wso2.sample.password2'], [])
    path = tmp_path / 'secrets.properties'
    path.write_text(secrets.dumps())

    def java(store, alias, store_pw, key_pw):
        env = dict(os.environ, SD_STORE_PASSWORD=store_pw, SD_KEY_PASSWORD=key_pw, EXPECTED='ABC@1234')
        return subprocess.run(['java', SECRET_DECRYPT, store, alias, str(path), 'wso2.sample.password2=EXPECTED'],
                              env=env, capture_output=True, text=True, timeout=120, check=False)
    out = java(vault_file, 'si-vault', VAULT_PW, KEY_PW)
    assert out.returncode == 0 and out.stdout.strip() == 'OK wso2.sample.password2', out.stdout + out.stderr
    out = java(shipped_file, 'wso2carbon', 'wso2carbon', 'wso2carbon')  # the old key no longer reads it
    assert out.returncode != 0, out.stdout + out.stderr
